#!/bin/sh
# native_first_pass_summary: blocked_sleeper on the native kernel with
# livepatch.trace_first_pass_summary set: the insmod's first pass emits
# no klp_task_switch via=stack_check, only a klp_task_blocked per task it
# leaves pending (klpt_sleeper in klpt_sleep_fn among them); the retries
# and the release are traced in full.  Ground truth for the judge: the
# parameter as read back, the snapshots `blocked` (transition 1, the
# sleeper still unpatched) and `done`, the sleeper's pid; libklptrace's
# model (klpt_watch, dumped around `blocked`) is compared with the
# snapshots by run.sh, so the switches it infers from the summarized
# pass are checked against each task's patch_state.
# On a stock kernel (klptrace.ko) the parameter does not exist: the
# scenario checks only that.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep
PARAM=/sys/module/livepatch/parameters/trace_first_pass_summary

if ! klpt_native; then
	fact kernel stock
	[ ! -e "$PARAM" ] || guest_fail "$PARAM exists on a kernel without the native events"
	log "native_first_pass_summary: stock kernel, no $PARAM: nothing else to check"
	exit 0
fi
fact kernel native

need_modules klptrace $TGT $LP || guest_fail "modules missing from the image"

mark "native_first_pass_summary: load klptrace"
load_klptrace || guest_fail "load_klptrace failed"
fact cpus_online "$(cat /sys/devices/system/cpu/online)"

[ -w "$PARAM" ] || guest_fail "no writable $PARAM"
expect_eq "default of $PARAM" N "$(cat "$PARAM")"
echo 1 >"$PARAM" || guest_fail "cannot write 1 to $PARAM"
fact summary "$(cat "$PARAM")"

start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
sleeper=$(param $TGT pid)
expect_eq "comm of the sleeper pid $sleeper" klpt_sleeper "$(cat "/proc/$sleeper/comm")"

mark "native_first_pass_summary: insmod $LP"
expect_success insmod_rc insmod_test $LP
mark "native_first_pass_summary: insmod returned"

# pass 0 comes from insmod, then one a second from the transition work.
loop_until_timeout 120 has_since "native_first_pass_summary: insmod $LP" klp_transition_pass 4 ||
	guest_fail "fewer than 4 klp_transition_pass events of $LP in events.txt"

# the snapshot with klpt_watch's model dumped around it: libmodel.py
# compares the two, so the switches the model inferred from the
# summarized pass are checked against every task's patch_state
watch_dump blocked || guest_fail "watch_dump blocked failed"
expect_eq "$LP transition while the sleeper is in klpt_sleep_fn" 1 "$(lp_transition $LP)"
expect_eq "patch_state of the sleeper ($sleeper) while blocked" 0 "$(patch_state "$sleeper")"
grep -q "^$sleeper $sleeper 0 1 " "$KLPT_OUT/snap/blocked/tasks" ||
	guest_fail "snap blocked: sleeper $sleeper not listed as unpatched kthread"
klptop_check blocked || guest_fail "klptop's view of the blocked transition"

mark "native_first_pass_summary: release"
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP 120 || guest_fail "transition of $LP did not finish after release"
mark "native_first_pass_summary: transition done"

snap "done"
expect_eq "$LP transition after release" 0 "$(lp_transition $LP)"
expect_eq "$LP enabled after release" 1 "$(lp_enabled $LP)"
fact calls_done "$(param $TGT calls)"
echo 0 >"$PARAM" || guest_fail "cannot write 0 to $PARAM"
events_sync || guest_fail "events_sync failed"
log "native_first_pass_summary done"
