#!/bin/sh
# reverse: a patching transition of klpt_lp_sleep blocked by klpt_sleeper
# (sleeping in the original klpt_sleep_fn) is reversed by writing 0 to
# enabled; the reversed transition completes at once (the sleeper never
# left the unpatched state), the patch is freed and the module unloads.
# Ground truth: snapshots `blocked` (transition 1, who is patched) and
# `after` (patch gone, refcnt 0), the sleeper's pid, exit codes.
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep
FACTS=$KLPT_OUT/facts
mkdir -p "$FACTS"

have_klptrace || guest_fail "klptrace.ko not in the image"
have_module $TGT && have_module $LP || guest_fail "$TGT.ko or $LP.ko not in the image"

# passes_at_least N: events.txt holds N klp_transition_pass events of $LP.
passes_at_least() {
	[ "$(grep -c "klp_transition_pass: patch=$LP " "$KLPT_EVENTS")" -ge "$1" ]
}

mark "reverse: load klptrace"
load_klptrace || guest_fail "load_klptrace failed"

mark "reverse: insmod $TGT"
insmod_test $TGT || guest_fail "insmod $TGT failed"
mark "reverse: block"
set_param $TGT block 1 || guest_fail "cannot set block=1"
loop_until file_is /sys/module/$TGT/parameters/in_func 1 ||
	guest_fail "klpt_sleeper never entered klpt_sleep_fn (in_func != 1)"
sleeper=$(param $TGT pid)
echo "$sleeper" >"$FACTS/sleeper_pid"
log "klpt_sleeper is pid $sleeper, in klpt_sleep_fn"

mark "reverse: insmod $LP"
insmod_test $LP
rc=$?
echo "$rc" >"$FACTS/insmod_rc"
expect_eq "insmod $LP exit code" 0 "$rc"
loop_until_timeout 120 passes_at_least 2 ||
	guest_fail "fewer than 2 klp_transition_pass events of $LP in events.txt"

snap blocked
expect_eq "$LP transition while the sleeper is in klpt_sleep_fn" 1 "$(lp_transition $LP)"
expect_eq "patch_state of the sleeper ($sleeper) while blocked" 0 "$(patch_state "$sleeper")"

mark "reverse: reverse"
lp_disable $LP
rc=$?
echo "$rc" >"$FACTS/disable_rc"
expect_eq "writing 0 to $LP/enabled (reversal) exit code" 0 "$rc"
wait_lp_gone $LP 120 || guest_fail "/sys/kernel/livepatch/$LP did not go away after the reversal"
wait_refcnt $LP 0 || guest_fail "refcnt of $LP did not drop to 0"
snap after
# The sleeper never moved: still in the original klpt_sleep_fn.
param $TGT in_func >"$FACTS/in_func_after"
param $TGT impl >"$FACTS/impl_after"

mark "reverse: rmmod"
rmmod $LP
rc=$?
echo "$rc" >"$FACTS/rmmod_rc"
expect_eq "rmmod $LP exit code" 0 "$rc"
mark "reverse: release"
set_param $TGT block 0 || guest_fail "cannot set block=0"
loop_until file_is /sys/module/$TGT/parameters/in_func 0 ||
	guest_fail "klpt_sleeper did not leave klpt_sleep_fn after block=0"
param $TGT calls >"$FACTS/calls_end"
events_sync || guest_fail "events_sync failed"
rmmod $TGT || guest_fail "rmmod $TGT failed"
log "reverse done"
