#!/bin/sh
# fork_fail: forks that fail after klp_copy_process() during a transition.
#
# copy_process() gives the child its parent's patch state (klp_copy_process,
# a klp_task_switch via=fork) under tasklist_lock, then still fails with
# -EINTR if a fatal signal is pending (kernel/fork.c, after
# "Let kill terminate clone/fork in the middle"): the child never runs and
# its pid is freed.  Here a shell forks in a loop while it is SIGKILLed,
# many times over, during a patching transition klpt_sleeper holds up.
# Ground truth: the kernel's own kretprobe event on copy_process (tracefs
# kprobe_events, not klptrace.ko) for every failed copy_process, the
# sched_process_exit of every child that did run, and the threads in
# /proc: judge/libmodel.py requires every thread of the library's model
# at the dump `forks` to exist.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_sleep
LP=klpt_lp_sleep
TRACING=/sys/kernel/tracing
TRUTH=klpt_truth/copy_process_ret

need_modules klptrace $TG $LP || guest_fail "modules missing from the image"
grep -q ' copy_process$' /proc/kallsyms || guest_fail "no copy_process symbol"

# The kernel's record of each failed copy_process() and of every exit.
echo "r:$TRUTH copy_process ret=\$retval:s64" >>$TRACING/kprobe_events ||
	guest_fail "cannot add the copy_process kretprobe event"
load_klptrace || guest_fail "load_klptrace failed"
# IS_ERR(): the task_struct pointers of successful forks are negative too.
echo 'ret < 0 && ret >= -4095' >"$KLPT_INST/events/$TRUTH/filter" ||
	guest_fail "cannot filter $TRUTH"
enable_events "$TRUTH" sched/sched_process_exit ||
	guest_fail "cannot enable the ground-truth events"

start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
mark "fork_fail: load patch"
expect_success insmod_rc insmod_test $LP
expect_eq "$LP transition after insmod (sleeper in klpt_sleep_fn)" 1 "$(lp_transition $LP)"

# One attempt: a shell forking subshells in a loop, SIGKILLed after a
# varying number of reads of its stat file.  The delay only varies when
# the kill lands (inside copy_process() or not); nothing waits on it.
attempt() {
	sh -c 'while :; do (:); done' &
	_f=$!
	_n=$((RANDOM % 40))
	while [ "$_n" -gt 0 ]; do
		read -r _s </proc/$_f/stat 2>/dev/null
		_n=$((_n - 1))
	done
	kill -9 "$_f"
	wait "$_f" 2>/dev/null
	[ "$(n_since "fork_fail: forks" copy_process_ret)" -ge 12 ]
}

mark "fork_fail: forks"
loop_until_timeout 150 attempt ||
	log "fewer than 12 failed copy_process() seen (the judge decides)"
fact failed_forks "$(n_since "fork_fail: forks" copy_process_ret)"
mark "fork_fail: forks done"
expect_eq "$LP transition after the forks" 1 "$(lp_transition $LP)"
events_sync || guest_fail "events_sync failed"
watch_dump forks || guest_fail "watch_dump forks failed"

mark "fork_fail: release"
set_param $TG block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP || guest_fail "patching transition did not finish"
snap done
events_sync || guest_fail "events_sync failed"
log "fork_fail done"
