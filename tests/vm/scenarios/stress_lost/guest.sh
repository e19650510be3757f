#!/bin/sh
# stress_lost: a fork storm overflows the library session's tiny ring
# buffer; the session must report the loss and resync to the truth.
#
# klpt_watch runs with a 4 KiB per-CPU buffer (KLPT_WATCH_BUFFER_KB) and
# lib/1/expect_lost tells libmodel.py that events are to be lost.  While
# klpt_sleeper holds the patching transition of klpt_lp_sleep up, the
# watcher is stopped (SIGSTOP: without it, whether a reader on the other
# CPU keeps up is a matter of timing) and this shell forks STORM
# short-lived children and, among them, KEEP that stay: every fork is a
# klp_task_switch via=fork, every exit a sched_process_exit: far more than
# 4 KiB.  Then the watcher goes on (SIGCONT) and must say "lost" and
# "resync"; its model is compared with snapshot `resynced` (watch_dump)
# while the transition is still blocked (the children it never heard of
# at their patch state), then the transition ends, the patch is disabled
# and removed and the model is compared again at the end (lib_final).
# klpt_e2e's own 4 MiB buffer loses nothing: it is the record of what
# happened.  Facts: storm, keep, the watcher's pid, the kept pids.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_sleep
LP=klpt_lp_sleep
STORM=400
KEEP=20

need_modules klptrace $TG $LP || guest_fail "modules missing from the image"
[ -x "$KLPT_WATCH_BIN" ] || { log "no klpt_watch in the image: nothing to test"; exit 0; }

# The smallest buffer the kernel gives (it rounds up to two pages).
export KLPT_WATCH_BUFFER_KB=4
load_klptrace || guest_fail "load_klptrace failed"
read -r wpid wdir _ <"$KLPT_WATCH_STATE" || guest_fail "no klpt_watch state"
: >"$wdir/expect_lost"
fact watch_pid "$wpid"
fact storm "$STORM"
fact keep "$KEEP"

start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
mark "stress_lost: insmod $LP"
insmod_test $LP || guest_fail "insmod $LP failed"
expect_eq "$LP transition (sleeper in klpt_sleep_fn)" 1 "$(lp_transition $LP)"

# On one CPU, with its children: the ring buffer is per CPU, and a shell
# that migrates halfway leaves its first forks' events on a CPU whose
# buffer the storm never fills.
taskset -p 1 $$ >/dev/null || guest_fail "cannot bind this shell to CPU 0"
mark "stress_lost: stop the session"
kill -STOP "$wpid" || guest_fail "cannot stop klpt_watch"
mark "stress_lost: fork storm"
# The ring buffer never overwrites the page its reader has taken, and the
# writer keeps filling that page after the reader stops: so 100 children
# first, which fill it, then the children that stay, then 300 more, which
# overwrite the kept ones' events: the session can learn of those only
# from the resync.  (Waited for by pid: a bare wait would wait for the
# stopped klpt_watch, a child of this shell too.)
storm=""
forks() {
	_n=0
	while [ $_n -lt "$1" ]; do
		(:) &
		storm="$storm $!"
		_n=$((_n + 1))
	done
}
forks $((STORM / 4))
sleep_procs $KEEP
kept=$KLPT_SLEEP_PIDS
fact kept "$kept"
forks $((STORM - STORM / 4))
# shellcheck disable=SC2086 # one pid a word
wait $storm
mark "stress_lost: storm done"
taskset -p 3 $$ >/dev/null || guest_fail "cannot unbind this shell"
kill -CONT "$wpid" || guest_fail "cannot continue klpt_watch"

# has_resynced: the session has delivered a resync after a loss.
has_resynced() {
	awk '$2 == "lost" { l = 1 } l && $2 == "resync" { r = 1 } END { exit !r }' \
		"$wdir/events.log"
}
loop_until has_resynced || guest_fail "klpt_watch reported no loss and resync"
mark "stress_lost: resynced"
expect_eq "$LP transition after the storm" 1 "$(lp_transition $LP)"
watch_dump resynced || guest_fail "watch_dump resynced failed"

mark "stress_lost: release"
set_param $TG block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP || guest_fail "patching transition did not finish"
mark "stress_lost: disable"
lp_disable $LP || guest_fail "writing 0 to $LP/enabled failed"
wait_lp_gone $LP || guest_fail "$LP did not go away"
rmmod_wait $LP || guest_fail "rmmod $LP failed"
# shellcheck disable=SC2086 # one pid a word
kill $kept
# shellcheck disable=SC2086 # one pid a word
wait $kept
mark "stress_lost: done"
log "stress_lost done"
