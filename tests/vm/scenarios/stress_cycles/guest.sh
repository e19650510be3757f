#!/bin/sh
# stress_cycles: 200 enable/disable cycles of klpt_lp_vmlinux while one
# libklptrace session (klpt_watch) runs the whole time.
#
# A cycle: insmod (patching transition), the patch is live (/proc/cmdline
# says so), disable, the patch directory goes, refcnt 0, rmmod.  The
# session's model is compared with the ground truth (lib.sh watch_dump)
# in the middle of the run with the patch enabled, with it disabled and
# its module ready to go, and at the end with the module gone (lib_final).
# Facts for the judge: the number of cycles; every cycle is bracketed by
# markers "stress_cycles: cycle N" and "stress_cycles: cycle N done".
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

LP=klpt_lp_vmlinux
N=200
# cycles at which the model is compared while the patch is on / while its
# module is ready to be removed
DUMP_ENABLED=100
DUMP_READY=150

need_modules klptrace $LP || guest_fail "modules missing from the image"

# cmdline_is_patched: /proc/cmdline shows klpt_lp_vmlinux's text (a
# builtin read: no fork per check).
cmdline_is_patched() {
	read -r _line </proc/cmdline && [ "$_line" = "klpt_lp_vmlinux: patched" ]
}

fact cycles "$N"
load_klptrace || guest_fail "load_klptrace failed"
log "$N cycles of $LP"
i=1
while [ $i -le $N ]; do
	mark "stress_cycles: cycle $i"
	insmod_test $LP || guest_fail "cycle $i: insmod $LP failed"
	wait_transition_done $LP || guest_fail "cycle $i: patching transition did not finish"
	expect_eq "cycle $i: $LP enabled" 1 "$(lp_enabled $LP)"
	cmdline_is_patched || guest_fail "cycle $i: /proc/cmdline is not patched"
	if [ $i -eq $DUMP_ENABLED ]; then
		watch_dump enabled || guest_fail "cycle $i: watch_dump enabled failed"
	fi
	lp_disable $LP || guest_fail "cycle $i: writing 0 to $LP/enabled failed"
	wait_lp_gone $LP || guest_fail "cycle $i: /sys/kernel/livepatch/$LP did not go away"
	wait_refcnt $LP 0 || guest_fail "cycle $i: refcnt of $LP did not drop to 0"
	cmdline_is_patched && guest_fail "cycle $i: /proc/cmdline still patched after the disable"
	if [ $i -eq $DUMP_READY ]; then
		watch_dump ready || guest_fail "cycle $i: watch_dump ready failed"
	fi
	rmmod $LP || guest_fail "cycle $i: rmmod $LP failed"
	mark "stress_cycles: cycle $i done"
	i=$((i + 1))
done
module_loaded $LP && guest_fail "$LP still loaded after the last cycle"
events_sync || guest_fail "events_sync failed"
log "stress_cycles done"
