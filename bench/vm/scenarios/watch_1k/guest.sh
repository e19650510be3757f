#!/bin/sh
# Watching cost (bench/README.md, benchmark 3) and libklptrace's live
# event rate (benchmark 1, live part), with $klptb_n idle threads.
#
# live:  klptb_watch (libklptrace, klptrace.ko events) runs while
#        klptb_cycle takes klpt_lp_vmlinux through a full lifecycle: two
#        transitions that switch every thread, one klp_task_switch each.
#        Between its marks: events delivered and the watcher's CPU time.
# open:  before it, three one-shot scans (klptb_scan, one pass over
#        /proc/*/task/*/patch_state) interleaved with two more session
#        opens (klptb_watch until its "open" line): the snapshot's CPU
#        against the scan it is compared with.
# watch: a transition stalled by klpt_sleeper (sleeping in the patched
#        klpt_sleep_fn), then $reps windows of $win s each of
#          libklptrace  klptb_watch in events mode (still running)
#          kpatch-scan  klptb_scan: every /proc/*/task/*/patch_state a second
#          fallback     klptb_watch -f: libklptrace without klptrace's events
#        recording each one's own CPU time over the window.
. /klpt/lib.sh
. /klpt/scenarios/bench_lib.sh

n=${klptb_n:?klptb_n= missing on the kernel command line}
reps=${klptb_reps:-3}
win=${klptb_win:-5}
need_modules klptrace klpt_lp_vmlinux klpt_target_sleep klpt_lp_sleep || guest_fail "modules missing"
klptb_setup || guest_fail "setup"
klptb_spawn "$n" || guest_fail "spawning $n threads"
insmod "$KLPT_MODDIR/klptrace.ko" || guest_fail "insmod klptrace"

# _klptb_lines FILE N: FILE has at least N lines.
_klptb_lines() {
	[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]
}

# watcher_start NAME ARGS: klptb_watch ARGS into $KLPTB_OUT/NAME.txt,
# waiting for its "open" line.
watcher_start() {
	_wf=$KLPTB_OUT/$1.txt
	shift
	/tmp/bin/klptb_watch "$@" "$_wf" >>"$KLPTB_OUT/watch.log" 2>&1 &
	_wpid=$!
	loop_until_timeout 600 _klptb_lines "$_wf" 1 || return 1
	_wlines=1
}

# watcher_mark: SIGUSR1 and wait for the line it writes.
watcher_mark() {
	_wlines=$((_wlines + 1))
	kill -USR1 "$_wpid" && loop_until_timeout 120 _klptb_lines "$_wf" "$_wlines"
}

# watcher_stop: SIGTERM; its "end" line comes before
# klpt_session_close(), which with 10k+ tasks in the model took minutes
# under TCG: the measurements are complete at "end", so wait for that,
# record how long the close took ("close_s", -1 if it was still going
# after 30 s and was killed) and go on.
watcher_stop() {
	_wlines=$((_wlines + 1))
	kill -TERM "$_wpid" && loop_until_timeout 120 _klptb_lines "$_wf" "$_wlines" || return 1
	_t0=$(_klpt_cs)
	if loop_until_timeout 30 not_alive "$_wpid" 2>/dev/null; then
		echo "close_s $((($(_klpt_cs) - _t0) / 100))" >>"$_wf.close"
	else
		kill -KILL "$_wpid"
		echo "close_s -1" >>"$_wf.close"
	fi
}

# --- session open (the ground-truth snapshot) vs one kpatch-style scan,
# its baseline: interleaved, three of each (the live watcher's open is
# the third open)
for i in 1 2 3; do
	klptb_line scan1.txt "tasks $n $(/tmp/bin/klptb_scan 0.001 1)" || guest_fail "scan"
	[ "$i" = 3 ] && break
	watcher_start open$i -m klpt_lp_vmlinux || guest_fail "watcher (open $i)"
	watcher_stop || guest_fail "watcher stop (open $i)"
done

# --- live event rate
watcher_start live -m klpt_lp_vmlinux || guest_fail "watcher (live)"
watcher_mark || guest_fail "mark"
r=$(/tmp/bin/klptb_cycle "$KLPT_MODDIR/klpt_lp_vmlinux.ko" klpt_lp_vmlinux) || guest_fail "cycle"
klptb_line cycle.txt "tasks $n $r"
# let the watcher drain what is left, then mark the end of the burst
sleep 2
watcher_mark || guest_fail "mark"
log "live: $r"

# --- a stalled transition
start_sleeper || guest_fail "sleeper"
insmod_test klpt_lp_sleep || guest_fail "insmod klpt_lp_sleep"
loop_until_timeout 60 file_is "$KLPT_LP/klpt_lp_sleep/transition" 1 || guest_fail "no stall"
log "stalled: $(cat /sys/module/klpt_target_sleep/parameters/in_func) in klpt_sleep_fn"

# libklptrace, events mode: the live watcher goes on (its session has
# seen the stall begin), marks around each window
for i in $(seq 1 "$reps"); do
	watcher_mark || guest_fail "mark"
	sleep "$win"
	watcher_mark || guest_fail "mark"
done
watcher_stop || guest_fail "watcher stop"
klptb_line stall.txt "transition $(cat "$KLPT_LP/klpt_lp_sleep/transition")"

for i in $(seq 1 "$reps"); do
	klptb_line scan.txt "tasks $n $(/tmp/bin/klptb_scan "$win" 1)" || guest_fail "scan"
done

watcher_start fallback -f -m klpt_lp_sleep || guest_fail "watcher (fallback)"
for i in $(seq 1 "$reps"); do
	watcher_mark || guest_fail "mark"
	sleep "$win"
	watcher_mark || guest_fail "mark"
done
watcher_stop || guest_fail "watcher stop"
klptb_line stall.txt "transition $(cat "$KLPT_LP/klpt_lp_sleep/transition")"

# release the sleeper: the transition completes; leave it at that
set_param klpt_target_sleep block 0
wait_transition_done klpt_lp_sleep 60 || log "transition did not complete after release"
kill "$_klptb_tpid"
