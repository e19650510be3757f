#!/bin/sh
# force_reversed_replace: the force of an atomic replace patch's disable
# that was reversed back to patched, while the replace patch is not the
# last one on klp_patches.  6.1 klp_force_transition() marks every other
# patch forced whenever the target is patched and the transition patch
# is a replace: here klpt_lp_sleep, stacked after klpt_lp_sleep2.  The
# replace patch then completes without replacing it (the core replaces
# only the patches before it); klpt_lp_sleep, disabled, is freed forced:
# its module keeps its reference, rmmod fails.  The replace patch itself
# is not forced.
# Ground truth: snapshots (patch directories, refcnt), rmmod's status;
# judge/libmodel.py checks the library's model and verdicts at the dumps.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_sleep
LP=klpt_lp_sleep
LP2=klpt_lp_sleep2
S=force_reversed_replace

need_modules klptrace $TG $LP $LP2 || guest_fail "modules missing from the image"
grep ' cgroup_cancel_fork$' /proc/kallsyms >/out/kallsyms_cgroup_cancel_fork
grep ' klp_patches$' /proc/kallsyms >/out/kallsyms_klp_patches
load_klptrace || guest_fail "load_klptrace failed"
cp /sys/kernel/klptrace/hooks /out/hooks.load

mark "$S: load $LP2"
insmod_test $TG || guest_fail "insmod $TG failed"
fact sleeper_pid "$(param $TG pid)"
insmod_test $LP2 || guest_fail "insmod $LP2 failed"
wait_transition_done $LP2 || guest_fail "patching transition of $LP2 did not finish"

log "put klpt_sleeper to sleep in $LP2's klpt_sleep_fn()"
mark "$S: block"
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn()"

log "load $LP on top (after $LP2 on klp_patches) and force its enable"
mark "$S: load $LP"
expect_success insmod_rc insmod_test $LP
loop_until has_since "$S: load $LP" klp_transition_pass 2 ||
	guest_fail "fewer than 2 transition passes after the insmod of $LP"
expect_eq "$LP transition while blocked" 1 "$(lp_transition $LP)"
mark "$S: force $LP"
lp_force $LP || guest_fail "writing 1 to $LP/force failed"
wait_transition_done $LP || guest_fail "$LP still in transition after force"
snap stacked
watch_dump stacked || guest_fail "watch_dump stacked failed"

# The disable stalls on klpt_sleeper (in $LP2's function); the reverse
# does not (no task sits in a function the patched target checks), so
# the force must come before the reversed transition's next pass (up to
# 1 s later, klp_transition_work).  If that pass wins, the force fails
# with EINVAL, $LP2 is simply enabled again, and the cycle is retried.
# try_reversed_force N: one disable, reverse, force cycle.
try_reversed_force() {
	mark "$S: disable $LP2 $1"
	lp_disable $LP2 || guest_fail "writing 0 to $LP2/enabled failed"
	loop_until has_since "$S: disable $LP2 $1" klp_transition_pass 2 ||
		guest_fail "fewer than 2 transition passes after the disable of $LP2"
	expect_eq "$LP2 transition while blocked" 1 "$(lp_transition $LP2)"
	mark "$S: reverse $LP2 $1"
	echo 1 >/sys/kernel/livepatch/$LP2/enabled || guest_fail "reverse of $LP2 failed"
	echo 1 >/sys/kernel/livepatch/$LP2/force
}

log "disable $LP2 (blocked by klpt_sleeper), reverse it, force it"
n=1
until try_reversed_force $n; do
	log "attempt $n: the reversed transition completed before the force"
	wait_transition_done $LP2 || guest_fail "$LP2 still in transition"
	n=$((n + 1))
	[ $n -le 5 ] || guest_fail "5 reversed transitions completed before the force"
done
fact attempts $n
mark "$S: forced $LP2"
wait_transition_done $LP2 || guest_fail "$LP2 still in transition after force"
# The core replaces only the patches before the replace on klp_patches
# (klp_unpatch_replaced_patches() stops at it): $LP stays enabled.
snap forced
watch_dump forced || guest_fail "watch_dump forced failed"
expect_eq "$LP enabled after the force" 1 "$(lp_enabled $LP)"

log "$LP was forced: after its disable its module can never be removed"
mark "$S: disable $LP"
lp_disable $LP || guest_fail "writing 0 to $LP/enabled failed"
wait_lp_gone $LP || guest_fail "/sys/kernel/livepatch/$LP still there after the disable"
events_sync || guest_fail "events_sync failed"
watch_dump disabled || guest_fail "watch_dump disabled failed"
mark "$S: rmmod $LP"
rmmod $LP >/out/rmmod_lp.txt 2>&1
echo $? >/out/rmmod_lp_status
module_loaded $LP || guest_fail "$LP removed although the kernel forced it"
expect_eq "$LP refcnt after the failed rmmod" 1 "$(refcnt $LP)"

log "release klpt_sleeper, then disable $LP2: the replace patch is not forced"
mark "$S: release"
set_param $TG block 0 || guest_fail "cannot set block=0"
loop_until file_is /sys/module/$LP2/parameters/calls 1 ||
	guest_fail "klpt_sleeper never returned from $LP2's klpt_sleep_fn()"
mark "$S: disable $LP2 again"
lp_disable $LP2 || guest_fail "writing 0 to $LP2/enabled failed"
wait_lp_gone $LP2 || guest_fail "/sys/kernel/livepatch/$LP2 still there after the disable"
wait_refcnt $LP2 0 || guest_fail "refcnt of $LP2 did not drop to 0"
events_sync || guest_fail "events_sync failed"
watch_dump ready || guest_fail "watch_dump ready failed"

mark "$S: rmmod $LP2"
rmmod $LP2 >/out/rmmod_lp2.txt 2>&1
echo $? >/out/rmmod_lp2_status
mark "$S: rmmod $LP again"
rmmod $LP >/out/rmmod_lp2nd.txt 2>&1
echo $? >/out/rmmod_lp2nd_status
snap final
events_sync || guest_fail "events_sync failed"
log "$S done"
