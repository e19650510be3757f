#!/bin/sh
# klptop_load: klptop --load against the kernel: refusals before the
# kernel sees the file, a module whose pre-patch callback fails, and a
# clean load followed to its end.
#
#   1. refused before the kernel: a module that is not a livepatch
#      (klpt_target_busy.ko), a symbolic link to a livepatch, a copy of
#      it writable by everyone: each exit 2 with one line, nothing
#      loaded (sysfs), nothing in the kernel log.
#   2. klpt_lp_cb_fail.ko (pre_patch returns -ENODEV): exit 2, the
#      kernel's errno and its log's reason in klptop's output; the init
#      ran once (one "failing on purpose" in dmesg); no module left.
#   3. klpt_lp_vmlinux.ko --wait-complete: exit 0; then sysfs says
#      enabled 1, transition 0 and every task's patch_state is 1 or -1.
#   4. the same without --wait-complete: exit 0, the patch there.
#   5. once its transition is over, klpt_lp_sleep2.ko (an atomic
#      replace, no task in klpt_sleep_fn) --wait-complete: exit 0, and
#      klpt_lp_vmlinux named as replaced: its patch disabled or gone
#      (sysfs), its module still loaded, then removable (rmmod).
# Each run's kernel log lines are kept in dmesg_NAME.txt for the judge.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

VM=klpt_lp_vmlinux
CBF=klpt_lp_cb_fail
PLAIN=klpt_target_busy

REP=klpt_lp_sleep2

need_modules klptrace $VM $CBF $PLAIN klpt_target_sleep $REP || guest_fail "modules missing from the image"
[ -x "$KLPT_TOP_BIN" ] || guest_fail "no klptop in the image (make -C tui)"
load_klptrace || guest_fail "load_klptrace failed"

# load_run NAME ARGS...: klptop_run NAME ARGS, its kernel log lines
# (those dmesg gained meanwhile) in dmesg_NAME.txt.
load_run() {
	_n=$(dmesg | wc -l)
	klptop_run "$@"
	dmesg | tail -n +$((_n + 1)) >"$KLPT_OUT/dmesg_$1.txt"
}

# refused: a plain module, a symbolic link, a file anyone may write
load_run plain --load "$KLPT_MODDIR/$PLAIN.ko" --wait-complete
ln -s "$KLPT_MODDIR/$VM.ko" /tmp/link.ko || guest_fail "ln -s"
load_run symlink --load /tmp/link.ko --wait-complete
cp "$KLPT_MODDIR/$VM.ko" /tmp/open.ko && chmod 0666 /tmp/open.ko ||
	guest_fail "cp, chmod"
load_run writable --load /tmp/open.ko --wait-complete
snap refused

# the pre-patch callback fails
load_run cbfail --load "$KLPT_MODDIR/$CBF.ko" --wait-complete
snap cbfail

# a clean load, followed until the transition completes
load_run clean --load "$KLPT_MODDIR/$VM.ko" --wait-complete --timeout 120
snap clean
grep -q "$VM: patched" /proc/cmdline && fact cmdline_patched 1

lp_disable $VM || guest_fail "disable $VM"
wait_lp_gone $VM && rmmod_wait $VM || guest_fail "rmmod $VM"

# without --wait-complete: loaded, exit 0 at once
load_run nowait --load "$KLPT_MODDIR/$VM.ko"
snap nowait

# an atomic replace over it, completed: the replaced patch named
loop_until file_is "$KLPT_LP/$VM/transition" 0 ||
	guest_fail "$VM's transition did not complete"
insmod_test klpt_target_sleep || guest_fail "insmod klpt_target_sleep"
load_run replace --load "$KLPT_MODDIR/$REP.ko" --wait-complete --timeout 120
snap replace
[ -e /sys/module/$VM ] && fact replace_vmmod present
lp_disable $REP || guest_fail "disable $REP"
wait_lp_gone $REP && rmmod_wait $REP || guest_fail "rmmod $REP"
rmmod_wait $VM || guest_fail "rmmod $VM (replaced)"
rmmod klpt_target_sleep || guest_fail "rmmod klpt_target_sleep"
unload_klptrace
exit 0
