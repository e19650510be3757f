#!/bin/sh
# tasks_smp2 (also run as tasks_smp1 and tasks_smp4: the same steps on 1
# and 4 vCPUs): the model's task set against the kernel's, at checkpoints
# before, during and after a patching transition, for sessions opened at
# each of those moments, with threads, processes and kthreads created and
# exiting while no transition runs (and during one).
#
# Sessions (the model's view): klpt_watch (load_klptrace, opened first;
# its model dumped at every checkpoint), klptop --json sessions opened
# before the patch (A), mid-transition (C) and after it (E), each printing
# a frame every 0.5 s, and a klptop --json -n 1 opened at each checkpoint.
# Ground truth, per checkpoint NAME (judge/taskset.py): snapshot
# NAME_pre, then the sessions' view, then snapshot NAME_post; the window
# between the two reads holds no fork but the one-shot klptop's (its pid
# is recorded), so only the tids whose /proc entry differs between the
# reads may differ in the model.  The idle tasks (not in /proc, one per
# possible CPU) and their patch states come from the kernel's own debug
# messages of klp_try_switch_task() (dynamic debug), which name every
# task a pass could not switch.  Results in /out/tasks/.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep
BUSY=klpt_target_busy
TOP=$KLPT_TOP_BIN
THR=/klpt/bin/klpt_threads
D=$KLPT_OUT/tasks
FIFO=/tmp/klpt_tasks.fifo
S=$KLPT_SCENARIO

need_modules klptrace $TGT $LP $BUSY || guest_fail "modules missing from the image"
{ [ -x "$TOP" ] && [ -x "$THR" ]; } || guest_fail "klptop or klpt_threads not in the image"
{ mkdir -p "$D" && mkfifo "$FIFO"; } || guest_fail "cannot set up $D"
fact possible "$(cat /sys/devices/system/cpu/possible)"
fact online "$(cat /sys/devices/system/cpu/online)"

# The kernel names every task a pass could not switch, and why.
ddc=/proc/dynamic_debug/control
if [ ! -w $ddc ]; then
	mount -t debugfs debugfs /sys/kernel/debug
	ddc=/sys/kernel/debug/dynamic_debug/control
fi
echo 'file kernel/livepatch/transition.c +p' >$ddc ||
	guest_fail "cannot enable the dynamic debug messages of transition.c"

# kmsg TEXT: a line in dmesg, where the judge finds the passes.
kmsg() {
	echo "klpt_tasks: $*" >/dev/kmsg
}

# nap: 0.1 s without a fork (sleep is one): read times out on a FIFO
# that nobody writes (busybox ash's read takes a fractional -t).
# shellcheck disable=SC3045
nap() {
	read -r -t 0.1 _ <>"$FIFO"
}

# cs_now: the uptime in centiseconds into $cs (builtins only).
cs_now() {
	read -r _up _ </proc/uptime
	cs=$((${_up%.*} * 100 + 1${_up#*.} - 100))
}

# has_threads PID N: /proc/PID/task lists N threads (a loop_until predicate).
has_threads() {
	set -- "$2" /proc/"$1"/task/*
	[ -e "$2" ] && [ $(($# - 1)) = "$1" ]
}

# has_frame NAME: klptop session NAME has printed a frame.
has_frame() {
	[ -s "$D/$1.json" ]
}

tops=""
# start_top NAME WHEN: a klptop --json session printing a frame every
# 0.5 s, opened WHEN (one word, for the judge's messages).
start_top() {
	"$TOP" --json -d 0.5 >"$D/$1.json" 2>"$D/$1.err" </dev/null &
	tops="$tops $1"
	eval "top_$1=$!"
	echo "$1 $! $2" >>"$D/sessions"
	loop_until has_frame "$1" || guest_fail "klptop session $1 printed no frame"
}

# checkpoint NAME: snapshot NAME_pre, then the view of every session
# (klpt_watch dumps its model, a one-shot klptop opens and prints one
# frame, the long-running ones print theirs), snapshot NAME_post.  Between
# the two snapshots nothing forks but the one-shot klptop.
checkpoint() {
	_cp=$1
	mkdir -p "$D/$_cp" || guest_fail "mkdir $D/$_cp"
	read -r _wpid _wdir _ <"$KLPT_WATCH_STATE" || guest_fail "no klpt_watch"
	rm -f "$_wdir/model.done"
	snap "${_cp}_pre"
	cs_now
	_t_pre=$cs
	kmsg "$_cp pre_end"
	kill -USR1 "$_wpid"
	"$TOP" --json -n 1 >"$D/$_cp/oneshot.json" 2>"$D/$_cp/oneshot.err" </dev/null &
	_once=$!
	wait "$_once"
	_once_rc=$?
	# two frames of every long-running session (-d 0.5), and the dump
	while :; do
		cs_now
		[ "$cs" -ge $((_t_pre + 130)) ] && [ -e "$_wdir/model.done" ] && break
		[ "$cs" -gt $((_t_pre + 3000)) ] && break
		nap
	done
	cs_now
	_t_post=$cs
	kmsg "$_cp post_begin"
	snap "${_cp}_post"
	[ -e "$_wdir/model.done" ] || guest_fail "$_cp: klpt_watch wrote no model"
	cp "$_wdir/model.txt" "$D/$_cp/watch.txt" || guest_fail "$_cp: cp model.txt"
	{
		echo "t_pre $_t_pre"
		echo "t_post $_t_post"
		echo "oneshot_pid $_once"
		echo "oneshot_rc $_once_rc"
		echo "sessions$tops"
		echo "transition $(cat "$KLPT_LP/$LP/transition" 2>/dev/null || echo none)"
	} >"$D/$_cp/meta"
	echo "$_cp" >>"$D/checkpoints"
	[ "$_once_rc" = 0 ] || guest_fail "$_cp: klptop -n 1 exited $_once_rc: $(cat "$D/$_cp/oneshot.err")"
	log "checkpoint $_cp: sessions$tops, one-shot $_once"
}

mark "$S: load klptrace"
load_klptrace || guest_fail "load_klptrace failed"
[ -e "$KLPT_WATCH_STATE" ] || guest_fail "no klpt_watch running (lib not built?)"
start_top A before_the_patch
checkpoint open

# --- created while no transition runs ---------------------------------------
"$THR" 6 &
thr1=$!
sleep 600 &
proc1=$!
insmod_test $BUSY || guest_fail "insmod $BUSY"
busy=$(param $BUSY pid)
loop_until has_threads "$thr1" 7 || guest_fail "klpt_threads 6 did not start its threads"
checkpoint created

# --- exiting (and created) while no transition runs ----------------------
kill -USR1 "$thr1"
kill "$proc1"
wait "$proc1"
rmmod $BUSY || guest_fail "rmmod $BUSY"
"$THR" 3 &
thr2=$!
loop_until has_threads "$thr1" 1 || guest_fail "klpt_threads did not end its threads"
loop_until has_threads "$thr2" 4 || guest_fail "klpt_threads 3 did not start its threads"
loop_until not_alive "$busy" || guest_fail "klpt_spinner $busy did not exit"
# the sleeper, a kthread born outside any transition, blocks the next one
start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
checkpoint exited

# --- a patching transition held up by the sleeper -----------------------
kmsg "insmod $LP"
mark "$S: insmod $LP"
expect_success insmod_rc insmod_test $LP
loop_until has_since "$S: insmod $LP" klp_transition_pass 3 ||
	guest_fail "fewer than 3 passes of $LP"
expect_eq "$LP transition while the sleeper blocks it" 1 "$(lp_transition $LP)"
start_top C mid-transition
checkpoint blocked

# created and exiting during the transition
kill -USR1 "$thr1"
kill "$thr2"
wait "$thr2"
loop_until has_threads "$thr1" 7 || guest_fail "klpt_threads did not restart its threads"
loop_until has_since "klpt_snap_end blocked_post" klp_transition_pass 2 ||
	guest_fail "no 2 more passes of $LP"
checkpoint blocked2

# --- after the transition ------------------------------------------------
mark "$S: release"
kmsg "release"
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP || guest_fail "transition of $LP did not finish after release"
kmsg "done"
start_top E after_the_transition
kill -USR1 "$thr1"
"$THR" 2 &
thr3=$!
sleep 600 &
proc2=$!
loop_until has_threads "$thr1" 1 || guest_fail "klpt_threads did not end its threads"
loop_until has_threads "$thr3" 3 || guest_fail "klpt_threads 2 did not start its threads"
checkpoint after

_pids="$thr1 $thr3 $proc2"
for _t in $tops; do
	eval "_pids=\"\$_pids \$top_$_t\""
done
# shellcheck disable=SC2086 # one pid a word
kill $_pids
# shellcheck disable=SC2086
wait $_pids
log "$S done"
