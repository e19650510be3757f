#!/bin/sh
# blocked_sleeper: a patching transition held up by a kthread sleeping in
# the function being patched (klpt_sleeper in klpt_sleep_fn), then released.
# Ground truth for the judge: the snapshots `blocked` (transition 1, the
# sleeper still unpatched) and `done`, the sleeper's pid.
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

mark "blocked_sleeper: load klptrace"
load_klptrace || guest_fail "load_klptrace failed"
cat /sys/devices/system/cpu/online >"$FACTS/cpus_online"

mark "blocked_sleeper: insmod $TGT"
insmod_test $TGT || guest_fail "insmod $TGT failed"
mark "blocked_sleeper: block"
set_param $TGT block 1 || guest_fail "cannot set block=1"
loop_until file_is /sys/module/$TGT/parameters/in_func 1 ||
	guest_fail "klpt_sleeper never entered klpt_sleep_fn (in_func != 1)"
sleeper=$(param $TGT pid)
echo "$sleeper" >"$FACTS/sleeper_pid"
log "klpt_sleeper is pid $sleeper, in klpt_sleep_fn"
expect_eq "comm of the sleeper pid $sleeper" klpt_sleeper "$(cat /proc/$sleeper/comm)"

mark "blocked_sleeper: insmod $LP"
insmod_test $LP
rc=$?
echo "$rc" >"$FACTS/insmod_rc"
expect_eq "insmod $LP exit code" 0 "$rc"
mark "blocked_sleeper: insmod returned"

# pass 0 comes from insmod, then one a second from the transition work.
loop_until_timeout 120 passes_at_least 4 ||
	guest_fail "fewer than 4 klp_transition_pass events of $LP in events.txt"

snap blocked
expect_eq "$LP transition while the sleeper is in klpt_sleep_fn" 1 "$(lp_transition $LP)"
expect_eq "patch_state of the sleeper ($sleeper) while blocked" 0 "$(patch_state "$sleeper")"
expect_eq "in_func while blocked" 1 "$(param $TGT in_func)"
grep -q "^$sleeper $sleeper 0 1 " "$KLPT_OUT/snap/blocked/tasks" ||
	guest_fail "snap blocked: sleeper $sleeper not listed as unpatched kthread"

mark "blocked_sleeper: release"
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP 120 || guest_fail "transition of $LP did not finish after release"
mark "blocked_sleeper: transition done"

snap done
expect_eq "$LP transition after release" 0 "$(lp_transition $LP)"
expect_eq "$LP enabled after release" 1 "$(lp_enabled $LP)"
param $TGT calls >"$FACTS/calls_done"
events_sync || guest_fail "events_sync failed"
log "blocked_sleeper done"
