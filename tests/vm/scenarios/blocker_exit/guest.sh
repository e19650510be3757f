#!/bin/sh
# blocker_exit: the blockers of a patching transition leave, the last one
# by exiting unswitched.
#
# klpt_lp_multi (LP, no module dependency) is enabled while two tasks
# sleep in the functions it replaces: klpt_sleeper in klpt_sleep_fn
# (klpt_target_sleep, TS) and a cat reading /proc/klpt_read
# (klpt_target_read, TR, hold=1) as pid 1 of its own PID namespace (its
# tid here differs from its tid there: /proc/PID/status NSpid).
#
#  1. blocked: both block (snapshot, klptop_check, model dump): the cat
#     under its tid in our namespace, the one the kernel's /proc gives.
#  2. hold=0: the cat returns from the original handler ("unpatched"),
#     switches on its way to user space (exit_to_user_mode_loop() runs
#     klp_update_patch_state() before the signal work) and exits; the
#     sleeper is the last blocker (last_blocker).
#  3. rmmod TS: its exit stops klpt_sleeper, which exits from kthread
#     code without ever switching (kthreads never return to user space,
#     do_exit() has no livepatch hook); klp_module_going() reverts LP's
#     TS object ("reverting patch ... on unloading module"); the next
#     pass finds no task left to switch and the transition completes
#     (done).
# A klptop --json -d 0.3 (life.json) opened before LP watches it all:
# its last frame must show no transition and no blocker.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

LP=klpt_lp_multi
TS=klpt_target_sleep
TR=klpt_target_read
S=blocker_exit
TOP=$KLPT_TOP_BIN

need_modules klptrace $TS $TR $LP || guest_fail "modules missing from the image"
[ -x "$TOP" ] || guest_fail "klptop not in the image (make -C tui)"

# check_step NAME: the step's ground truth and every view of it.
check_step() {
	klptop_check "$1" || guest_fail "klptop_check $1 failed"
	watch_dump "$1" || guest_fail "watch_dump $1 failed"
}

# readers_are N: N tasks sleep in klpt_read_proc_read.
readers_are() {
	[ "$(param $TR readers)" = "$1" ]
}

# no_transition_shown: life.json's last frame shows LP out of transition.
no_transition_shown() {
	tail -n 1 "$KLPT_OUT/life.json" | grep -q '"transition":false'
}

load_klptrace || guest_fail "load_klptrace failed"
insmod_test $TR || guest_fail "insmod $TR failed"
start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
sleeper=$(param $TS pid)

mark "$S: reader"
unshare -p -f cat /proc/klpt_read >"$KLPT_OUT/cat.out" 2>"$KLPT_OUT/cat.err" &
ush=$!
loop_until readers_are 1 || guest_fail "the cat never slept in klpt_read_proc_read"
cat_pid=$(child_of $ush) || guest_fail "unshare forked no child"
fact cat_pid "$cat_pid"
fact cat_nspid "$(grep NSpid "/proc/$cat_pid/status")"

"$TOP" --json -d 0.3 >"$KLPT_OUT/life.json" 2>"$KLPT_OUT/life.err" &
life=$!
loop_until test -s "$KLPT_OUT/life.json" || guest_fail "klptop wrote no frame: $(cat "$KLPT_OUT/life.err")"

mark "$S: enable"
insmod_test $LP || guest_fail "insmod $LP failed"
loop_until has_since "$S: enable" klp_transition_pass 2 ||
	guest_fail "fewer than 2 passes of $LP's transition"
expect_eq "$LP transition" 1 "$(lp_transition $LP)"
expect_eq "the cat's patch_state" 0 "$(patch_state "$cat_pid")"
expect_eq "klpt_sleeper's patch_state" 0 "$(patch_state "$sleeper")"
check_step blocked

mark "$S: release the reader"
set_param $TR hold 0 || guest_fail "cannot set hold=0"
loop_until not_alive "$cat_pid" || guest_fail "the cat did not exit"
wait $ush
fact cat_rc $?
expect_eq "$LP transition with the sleeper left" 1 "$(lp_transition $LP)"
check_step last_blocker

mark "$S: rmmod $TS"
rmmod $TS || guest_fail "rmmod $TS failed"
fact sleeper_gone "$(test -d "/proc/$sleeper" && echo no || echo yes)"
fact revert_ts "$(dmesg | grep -c -F "reverting patch '$LP' on unloading module '$TS'")"
wait_transition_done $LP || guest_fail "$LP's transition did not complete"
mark "$S: completed"
loop_until no_transition_shown || guest_fail "klptop still shows the transition"
kill -INT $life
wait $life
fact life_rc $?
expect_eq "$LP enabled" 1 "$(lp_enabled $LP)"
fact complete_lines "$(dmesg | grep -c -F "'$LP': patching complete")"
check_step completed

mark "$S: teardown"
lp_disable $LP || guest_fail "writing 0 to $LP/enabled failed"
wait_lp_gone $LP || guest_fail "$LP did not go away"
wait_refcnt $LP 0 || guest_fail "refcnt of $LP did not drop to 0"
rmmod $LP || guest_fail "rmmod $LP failed"
rmmod $TR || guest_fail "rmmod $TR failed"
log "$S done"
