#!/bin/sh
# stress_target: klpt_lp_read is loaded before its target; then
# klpt_target_read is loaded and removed 30 times while one libklptrace
# session runs: the core patches the object as the module comes and
# unpatches it as it goes, with no transition.  Then the patch is
# disabled and the target goes through 10 more cycles with no patch.
#
# Every cycle checks the ground truth: the object's `patched` file, and
# /proc/klpt_read answering "patched" (the livepatch's read handler, which
# does not sleep although hold=1).  The model is compared with snapshots
# (watch_dump) with the target loaded (cycle 10: `loaded`), removed
# (cycle 20: `removed`), after the disable with the target loaded (cycle
# 35: `nopatch`), and at the end (lib_final).  Markers "stress_target:
# cycle N" and "... cycle N done" bracket every cycle.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_read
LP=klpt_lp_read
N=30
M=10

need_modules klptrace $TG $LP || guest_fail "modules missing from the image"

fact cycles "$N"
fact more "$M"
load_klptrace || guest_fail "load_klptrace failed"
mark "stress_target: insmod $LP"
insmod_test $LP || guest_fail "insmod $LP failed"
wait_transition_done $LP || guest_fail "patching transition of $LP did not finish"
expect_eq "$LP/$TG patched before the target" 0 "$(lp_patched $LP $TG)"

i=1
while [ $i -le $((N + M)) ]; do
	mark "stress_target: cycle $i"
	insmod_test $TG || guest_fail "cycle $i: insmod $TG failed"
	if [ $i -le $N ]; then
		expect_eq "cycle $i: $LP/$TG patched" 1 "$(lp_patched $LP $TG)"
		reads patched || guest_fail "cycle $i: /proc/klpt_read is not patched"
	else
		# hold=1 makes the original read sleep: release it first.
		set_param $TG hold 0 || guest_fail "cycle $i: cannot set hold=0"
		reads unpatched || guest_fail "cycle $i: /proc/klpt_read is patched with no patch"
	fi
	case $i in
	10) watch_dump loaded || guest_fail "watch_dump loaded failed" ;;
	35) watch_dump nopatch || guest_fail "watch_dump nopatch failed" ;;
	esac
	rmmod $TG || guest_fail "cycle $i: rmmod $TG failed"
	if [ $i -le $N ]; then
		expect_eq "cycle $i: $LP/$TG patched after rmmod" 0 "$(lp_patched $LP $TG)"
	fi
	[ $i -eq 20 ] && { watch_dump removed || guest_fail "watch_dump removed failed"; }
	mark "stress_target: cycle $i done"
	if [ $i -eq $N ]; then
		mark "stress_target: disable"
		lp_disable $LP || guest_fail "writing 0 to $LP/enabled failed"
		wait_lp_gone $LP || guest_fail "$LP did not go away"
		wait_refcnt $LP 0 || guest_fail "refcnt of $LP did not drop to 0"
	fi
	i=$((i + 1))
done
mark "stress_target: rmmod $LP"
rmmod $LP || guest_fail "rmmod $LP failed"
log "stress_target done"
