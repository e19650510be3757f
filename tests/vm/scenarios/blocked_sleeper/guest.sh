#!/bin/sh
# blocked_sleeper: a patching transition held up by a kthread sleeping in
# the function being patched (klpt_sleeper in klpt_sleep_fn), then released.
# Ground truth for the judge: the snapshots `blocked` (transition 1, the
# sleeper still unpatched) and `done`, the sleeper's pid.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep

need_modules klptrace $TGT $LP || guest_fail "modules missing from the image"

mark "blocked_sleeper: load klptrace"
load_klptrace || guest_fail "load_klptrace failed"
fact cpus_online "$(cat /sys/devices/system/cpu/online)"

start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
sleeper=$(param $TGT pid)
expect_eq "comm of the sleeper pid $sleeper" klpt_sleeper "$(cat "/proc/$sleeper/comm")"

mark "blocked_sleeper: insmod $LP"
expect_success insmod_rc insmod_test $LP
mark "blocked_sleeper: insmod returned"

# pass 0 comes from insmod, then one a second from the transition work.
loop_until_timeout 120 has_since "blocked_sleeper: insmod $LP" klp_transition_pass 4 ||
	guest_fail "fewer than 4 klp_transition_pass events of $LP in events.txt"

snap blocked
expect_eq "$LP transition while the sleeper is in klpt_sleep_fn" 1 "$(lp_transition $LP)"
expect_eq "patch_state of the sleeper ($sleeper) while blocked" 0 "$(patch_state "$sleeper")"
expect_eq "in_func while blocked" 1 "$(param $TGT in_func)"
grep -q "^$sleeper $sleeper 0 1 " "$KLPT_OUT/snap/blocked/tasks" ||
	guest_fail "snap blocked: sleeper $sleeper not listed as unpatched kthread"
klptop_check blocked || guest_fail "klptop's view of the blocked transition"

mark "blocked_sleeper: release"
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP 120 || guest_fail "transition of $LP did not finish after release"
mark "blocked_sleeper: transition done"

snap "done"
expect_eq "$LP transition after release" 0 "$(lp_transition $LP)"
expect_eq "$LP enabled after release" 1 "$(lp_enabled $LP)"
fact calls_done "$(param $TGT calls)"
events_sync || guest_fail "events_sync failed"
log "blocked_sleeper done"
