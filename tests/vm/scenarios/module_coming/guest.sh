#!/bin/sh
# module_coming: a livepatch whose objects are modules that come and go
# while it is enabled, and one that comes and goes in the middle of the
# patch's own blocked transition (6.1 klp_module_coming() and
# klp_module_going(), kernel/livepatch/core.c).
#
# klpt_lp_multi (LP) patches klpt_target_sleep (TS: klpt_sleep_fn) and
# klpt_target_read (TR: klpt_read_proc_read) and depends on neither.
#
#  A. LP enabled with both absent: the transition completes at once; both
#     object directories exist with patched 0 (klp_init_object() adds
#     them loaded or not).  rmmod LP fails (its enable holds a reference).
#  B. insmod TR: "applying patch 'LP' to loading module 'TR'", TR's
#     patched 1, /proc/klpt_read answers the new "multi" (read_calls 1).
#  C. rmmod TR: "reverting patch 'LP' on unloading module 'TR'", patched
#     0, the directory stays.
#  D. insmod TS: applied the same way; block=1 makes klpt_sleeper call
#     the new klpt_sleep_fn (LP's sleep_calls grows, TS's in_func and
#     impl stay 0: the original never runs).
#  E. disable LP, wait until freed and its refcnt 0: only then unload
#     ready, and rmmod LP succeeds.
#  F. (the window) klpt_sleeper asleep in the original klpt_sleep_fn, LP
#     enabled again: its transition is blocked.  insmod TR in it: applied
#     with no transition of its own (transition stays 1, the sleeper
#     unswitched); the shell, switched, reads "multi" (the function is in
#     transition, a switched task runs the new one).  rmmod TR in it:
#     reverted, transition still 1.  Release: the transition completes.
#
# At each step (absent came gone ts_came freed window window_gone released)
# the step's snapshot NAME_pre, klptop --json and -b --patch-details
# frames (NAME_d.txt, NAME_db.txt), klptop_check NAME (the snapshot
# klptop_NAME after) and a model dump (watch_dump NAME).  Facts: rmmod
# results, /sys/module/LP/refcnt, dmesg line counts, parameters.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

LP=klpt_lp_multi
TS=klpt_target_sleep
TR=klpt_target_read
S=module_coming

need_modules klptrace $TS $TR $LP || guest_fail "modules missing from the image"

# check_step NAME: the step's ground truth and every view of it.
check_step() {
	snap "$1_pre" || guest_fail "snap $1_pre failed"
	klptop_run "$1_d" --json --patch-details -n 1
	klptop_run "$1_db" -b --patch-details -n 1
	klptop_check "$1" || guest_fail "klptop_check $1 failed"
	watch_dump "$1" || guest_fail "watch_dump $1 failed"
}

# dmesg_count TEXT: lines of the kernel log holding TEXT.
dmesg_count() {
	dmesg | grep -c -F "$1"
}

# calls_at_least MOD PARAM N: parameter PARAM of MOD reads N or more.
calls_at_least() {
	[ "$(param "$1" "$2")" -ge "$3" ]
}

APPLY_TR="applying patch '$LP' to loading module '$TR'"
REVERT_TR="reverting patch '$LP' on unloading module '$TR'"
APPLY_TS="applying patch '$LP' to loading module '$TS'"
REVERT_TS="reverting patch '$LP' on unloading module '$TS'"

load_klptrace || guest_fail "load_klptrace failed"

# A
mark "$S: enable absent"
insmod_test $LP || guest_fail "insmod $LP failed"
wait_transition_done $LP || guest_fail "patching transition of $LP did not finish"
expect_eq "$LP enabled" 1 "$(lp_enabled $LP)"
for o in $TS $TR; do
	[ -d "$KLPT_LP/$LP/$o" ] || guest_fail "no object directory $LP/$o"
	expect_eq "$LP/$o patched with $o absent" 0 "$(lp_patched $LP "$o")"
done
rmmod $LP 2>/dev/null
fact rmmod_enabled_rc $?
fact refcnt_enabled "$(refcnt $LP)"
module_loaded $LP || guest_fail "rmmod removed the enabled $LP"
check_step absent

# B
mark "$S: insmod $TR"
insmod_test $TR || guest_fail "insmod $TR failed"
fact apply_tr_came "$(dmesg_count "$APPLY_TR")"
expect_eq "$LP/$TR patched" 1 "$(lp_patched $LP $TR)"
expect_eq "$LP/$TS patched" 0 "$(lp_patched $LP $TS)"
reads multi || guest_fail "/proc/klpt_read does not run $LP's handler"
# busybox read takes a byte a call: one call of the handler per byte
calls_at_least $LP read_calls 1 || guest_fail "$LP read_calls 0 after a read"
check_step came

# C
mark "$S: rmmod $TR"
rmmod $TR || guest_fail "rmmod $TR failed"
fact revert_tr_gone "$(dmesg_count "$REVERT_TR")"
[ -d "$KLPT_LP/$LP/$TR" ] || guest_fail "$LP/$TR went with its module"
expect_eq "$LP/$TR patched after rmmod" 0 "$(lp_patched $LP $TR)"
check_step gone

# D
mark "$S: insmod $TS"
insmod_test $TS || guest_fail "insmod $TS failed"
fact apply_ts_came "$(dmesg_count "$APPLY_TS")"
expect_eq "$LP/$TS patched" 1 "$(lp_patched $LP $TS)"
mark "$S: block"
set_param $TS block 1 || guest_fail "cannot set block=1"
loop_until calls_at_least $LP sleep_calls 3 ||
	guest_fail "klpt_sleeper does not run $LP's klpt_sleep_fn: $(param $LP sleep_calls) calls, stack: $(cat "/proc/$(param $TS pid)/stack"; grep State "/proc/$(param $TS pid)/status")"
set_param $TS block 0 || guest_fail "cannot set block=0"
fact ts_in_func "$(param $TS in_func)"
fact ts_impl "$(param $TS impl)"
fact ts_calls "$(param $TS calls)"
check_step ts_came

# E
mark "$S: disable"
lp_disable $LP || guest_fail "writing 0 to $LP/enabled failed"
wait_lp_gone $LP || guest_fail "$LP did not go away"
wait_refcnt $LP 0 || guest_fail "refcnt of $LP did not drop to 0"
expect_eq "$TS patched-by-nothing impl" 0 "$(param $TS impl)"
check_step freed
mark "$S: rmmod $LP"
rmmod $LP
fact rmmod_freed_rc $?

# F
mark "$S: window"
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn()"
sleeper=$(param $TS pid)
fact sleeper_pid "$sleeper"
mark "$S: enable blocked"
insmod_test $LP || guest_fail "insmod $LP (again) failed"
loop_until has_since "$S: enable blocked" klp_transition_pass 2 ||
	guest_fail "fewer than 2 passes of $LP's blocked transition"
expect_eq "$LP transition (blocked)" 1 "$(lp_transition $LP)"
mark "$S: insmod $TR in the transition"
insmod_test $TR || guest_fail "insmod $TR in the transition failed"
fact apply_tr_window "$(dmesg_count "$APPLY_TR")"
expect_eq "$LP transition after $TR came" 1 "$(lp_transition $LP)"
expect_eq "$LP/$TR patched in the transition" 1 "$(lp_patched $LP $TR)"
expect_eq "klpt_sleeper's patch_state" 0 "$(patch_state "$sleeper")"
fact shell_state "$(patch_state $$)"
set_param $TR hold 0 || guest_fail "cannot set hold=0"
read -r line </proc/klpt_read
fact window_read "$line"
check_step window
mark "$S: rmmod $TR in the transition"
rmmod $TR || guest_fail "rmmod $TR in the transition failed"
fact revert_tr_window "$(dmesg_count "$REVERT_TR")"
expect_eq "$LP transition after $TR went" 1 "$(lp_transition $LP)"
expect_eq "$LP/$TR patched after it went" 0 "$(lp_patched $LP $TR)"
check_step window_gone
mark "$S: release"
set_param $TS block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP || guest_fail "transition of $LP did not finish"
check_step released

mark "$S: teardown"
lp_disable $LP || guest_fail "writing 0 to $LP/enabled failed"
wait_lp_gone $LP || guest_fail "$LP did not go away"
wait_refcnt $LP 0 || guest_fail "refcnt of $LP did not drop to 0"
rmmod $LP || guest_fail "rmmod $LP failed"
rmmod $TS || guest_fail "rmmod $TS failed"
fact revert_ts "$(dmesg_count "$REVERT_TS")"
log "$S done"
