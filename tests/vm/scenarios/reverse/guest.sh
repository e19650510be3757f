#!/bin/sh
# reverse: a patching transition of klpt_lp_sleep blocked by klpt_sleeper
# (sleeping in the original klpt_sleep_fn) is reversed by writing 0 to
# enabled; the reversed transition completes at once (the sleeper never
# left the unpatched state), the patch is freed and the module unloads.
# Ground truth: snapshots `blocked` (transition 1, who is patched) and
# `after` (patch gone, refcnt 0), the sleeper's pid, exit codes.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep

need_modules klptrace $TGT $LP || guest_fail "modules missing from the image"

mark "reverse: load klptrace"
load_klptrace || guest_fail "load_klptrace failed"

start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
sleeper=$(param $TGT pid)

mark "reverse: insmod $LP"
expect_success insmod_rc insmod_test $LP
loop_until_timeout 120 has_since "reverse: insmod $LP" klp_transition_pass 2 ||
	guest_fail "fewer than 2 klp_transition_pass events of $LP in events.txt"

snap blocked
expect_eq "$LP transition while the sleeper is in klpt_sleep_fn" 1 "$(lp_transition $LP)"
expect_eq "patch_state of the sleeper ($sleeper) while blocked" 0 "$(patch_state "$sleeper")"

mark "reverse: reverse"
expect_success disable_rc lp_disable $LP
wait_lp_gone $LP 120 || guest_fail "/sys/kernel/livepatch/$LP did not go away after the reversal"
wait_refcnt $LP 0 || guest_fail "refcnt of $LP did not drop to 0"
snap after
# The sleeper never moved: still in the original klpt_sleep_fn.
fact in_func_after "$(param $TGT in_func)"
fact impl_after "$(param $TGT impl)"

mark "reverse: rmmod"
expect_success rmmod_rc rmmod $LP
mark "reverse: release"
set_param $TGT block 0 || guest_fail "cannot set block=0"
loop_until file_is /sys/module/$TGT/parameters/in_func 0 ||
	guest_fail "klpt_sleeper did not leave klpt_sleep_fn after block=0"
fact calls_end "$(param $TGT calls)"
events_sync || guest_fail "events_sync failed"
rmmod $TGT || guest_fail "rmmod $TGT failed"
log "reverse done"
