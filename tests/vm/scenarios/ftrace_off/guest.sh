#!/bin/sh
# ftrace_off: klptrace.ko's kprobes sit on ftrace call sites
# (KPROBES_ON_FTRACE), so they do not fire while sysctl
# kernel.ftrace_enabled is 0.  /sys/kernel/klptrace/hooks must say so
# (inactive(ftrace_off)), klptrace.ko must warn when it loads in that
# state, and the library must say LOST, go on as the fallback, RESYNC,
# and LOST + RESYNC again in the events mode once ftrace is back.
#
# The kernel decides when ftrace can go off (kernel/trace/ftrace.c
# ftrace_enable_sysctl, kernel/livepatch/patch.c): not while a livepatch's
# ftrace ops are registered (FTRACE_OPS_FL_PERMANENT: during a transition
# or with a patch enabled, the write fails EBUSY), and no livepatch can be
# enabled while it is off (insmod fails EBUSY, "failed to register ftrace
# handler"), as the kernel's selftest test-ftrace.sh shows.
#
# Ground truth for the judge: the sysctl's value and the exit status of
# every write and insmod (facts), hooks copied at each step
# (/out/hooks.NAME), dmesg, the snapshots; libmodel.py compares the
# watcher's model with the snapshots of its dumps (watch_dump), taken in
# the fallback and back in the events mode.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep
SYSCTL=/proc/sys/kernel/ftrace_enabled
HOOKS=/sys/kernel/klptrace/hooks

need_modules klptrace $TGT $LP || guest_fail "modules missing from the image"
[ -w $SYSCTL ] || guest_fail "no $SYSCTL"
expect_eq "kernel.ftrace_enabled at boot" 1 "$(cat $SYSCTL)"

# set_ftrace V LABEL: mark "ftrace_off: ftrace_enabled=V LABEL", write V
# to the sysctl; its exit status (0, or 1 if the kernel refused).
set_ftrace() {
	mark "ftrace_off: ftrace_enabled=$1 $2"
	echo "$1" 2>/dev/null >$SYSCTL
}

# n_hooks WORD: hook lines (kprobe, kretprobe, tracepoint: not symbol)
# whose status begins with WORD.
n_hooks() {
	awk -v w="$1" '$2 != "symbol" && index($3, w) == 1' $HOOKS | wc -l
}

# save_hooks NAME: /out/hooks.NAME for the judge, and the kernel's own
# list of kprobes (which are [FTRACE]) as /out/kprobes.NAME if debugfs
# has it.
save_hooks() {
	cp $HOOKS "$KLPT_OUT/hooks.$1" || guest_fail "cannot read $HOOKS"
	[ -r /sys/kernel/debug/kprobes/list ] &&
		cp /sys/kernel/debug/kprobes/list "$KLPT_OUT/kprobes.$1"
	return 0
}

# n_lib WHAT: lines of klpt_watch's events.log for events WHAT (lost,
# resync); 0 without a watcher.
n_lib() {
	[ -n "$wdir" ] || { echo 0; return; }
	awk -v w="$1" '$2 == w' "$wdir/events.log" | wc -l
}

# lib_at_least WHAT N: a predicate for loop_until.
lib_at_least() {
	[ "$(n_lib "$1")" -ge "$2" ]
}

# lib_settled MODE: the last lost or resync line of events.log is a
# resync in MODE (events, fallback): the session has caught up with the
# hooks' state.
lib_settled() {
	[ "$(awk '$2 == "lost" || $2 == "resync" { last = $2 " " $3 }
		END { print last }' "$wdir/events.log")" = "resync mode=$1" ]
}

# lib_lost_after N WHY [MODE]: with a watcher, wait until it has said
# lost more than N times and resynced in MODE (default events), then
# record the count as fact lost_WHY.  The mode matters for a switch
# and back within one poll interval: a tick that read the hooks in
# between says lost twice (off: the fallback; on: events again).
lib_lost_after() {
	[ -n "$wdir" ] || return 0
	loop_until_timeout 30 lib_at_least lost $(($1 + 1)) ||
		guest_fail "klpt_watch said no lost after: $2"
	loop_until_timeout 30 lib_settled "${3:-events}" ||
		guest_fail "klpt_watch did not resync in mode ${3:-events} after: $2"
	fact "lost_$2" "$(n_lib lost)"
}

# ---------------------------------------------------------------------------
[ -d /sys/kernel/debug/kprobes ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mark "ftrace_off: load klptrace"
load_klptrace || guest_fail "load_klptrace failed"
wdir=
if [ -e "$KLPT_WATCH_STATE" ]; then
	read -r _ wdir _ <"$KLPT_WATCH_STATE"
	# this watcher is to lose events (hooks off) and say so
	: >"$wdir/expect_lost"
fi
save_hooks on0
expect_eq "inactive hooks with ftrace on" 0 "$(n_hooks inactive)"
fact lost_at_load "$(n_lib lost)"

# --- a blocked transition: the kernel refuses ftrace_enabled=0 ---------------
start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
mark "ftrace_off: insmod $LP"
expect_success insmod_rc insmod_test $LP
expect_eq "$LP transition (sleeper in klpt_sleep_fn)" 1 "$(lp_transition $LP)"
n=$(n_lib lost)
set_ftrace 0 busy
fact busy_write_rc $?
fact busy_value "$(cat $SYSCTL)"
save_hooks busy
expect_eq "inactive hooks after the refused write" 0 "$(n_hooks inactive)"
# nothing switched (ftrace_switches): no lost (lost_before_off, later)

mark "ftrace_off: release"
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP 120 || guest_fail "transition of $LP did not finish"
mark "ftrace_off: disable $LP"
lp_disable $LP || guest_fail "cannot disable $LP"
wait_lp_gone $LP 120 || guest_fail "$LP did not go"
rmmod_wait $LP || guest_fail "rmmod $LP failed"
fact lost_before_off "$(n_lib lost)"

# --- no livepatch: ftrace goes off, the hooks with it -----------------------
n=$(n_lib lost)
set_ftrace 0 off || guest_fail "the kernel refused ftrace_enabled=0 with no livepatch"
expect_eq "kernel.ftrace_enabled after writing 0" 0 "$(cat $SYSCTL)"
save_hooks off
[ "$(n_hooks inactive)" -gt 0 ] ||
	guest_fail "no hook says inactive with ftrace_enabled=0: $(cat $HOOKS)"
lib_lost_after "$n" after_off fallback
watch_dump off || guest_fail "watch_dump off"
# klptop opened now starts in the fallback (one -b frame, for the judge)
if [ -x "$KLPT_TOP_BIN" ]; then
	"$KLPT_TOP_BIN" -b -n 1 >"$KLPT_OUT/klptop_off.txt" 2>&1 ||
		guest_fail "klptop -b with ftrace off: $(cat "$KLPT_OUT/klptop_off.txt")"
fi

# While off: enabling a livepatch fails (its ftrace ops cannot register).
mark "ftrace_off: insmod $LP with ftrace off"
insmod_test $LP 2>/dev/null
fact off_insmod_rc $?
module_loaded $LP && guest_fail "$LP loaded with ftrace_enabled=0"
lp_exists $LP && guest_fail "/sys/kernel/livepatch/$LP with ftrace_enabled=0"
watch_dump off_failed || guest_fail "watch_dump off_failed"

# --- ftrace back: the hooks fire again -------------------------------------
n=$(n_lib lost)
set_ftrace 1 on || guest_fail "cannot set ftrace_enabled=1"
save_hooks on1
expect_eq "inactive hooks after ftrace_enabled=1" 0 "$(n_hooks inactive)"
lib_lost_after "$n" after_on

# Off and on again at once, far inside one poll interval of the library:
# hooks never shows it, the count of switches does.
n=$(n_lib lost)
set_ftrace 0 toggle || guest_fail "cannot set ftrace_enabled=0 (toggle)"
echo 1 >$SYSCTL || guest_fail "cannot set ftrace_enabled=1 (toggle)"
lib_lost_after "$n" after_toggle

# A blocked transition again, seen through events: the model has the
# sleeper's reason again (klptop shows it), and agrees with the snapshot.
sleeper_block || guest_fail "klpt_sleeper did not block again"
mark "ftrace_off: insmod $LP again"
expect_success insmod2_rc insmod_test $LP
loop_until_timeout 120 has_since "ftrace_off: insmod $LP again" klp_transition_pass 2 ||
	guest_fail "fewer than 2 passes of $LP in events.txt"
watch_dump blocked_again || guest_fail "watch_dump blocked_again"
klptop_check blocked_again || guest_fail "klptop's view of the blocked transition"
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP 120 || guest_fail "transition of $LP did not finish"
lp_disable $LP || guest_fail "cannot disable $LP"
wait_lp_gone $LP 120 || guest_fail "$LP did not go"
rmmod_wait $LP || guest_fail "rmmod $LP failed"
fact lost_at_end "$(n_lib lost)"

# --- klptrace.ko loaded while ftrace is off: it says so at load -------------
set_ftrace 0 reload || guest_fail "cannot set ftrace_enabled=0 again"
unload_klptrace || guest_fail "unload_klptrace failed"
mark "ftrace_off: load klptrace with ftrace off"
KLPT_WATCH=0 load_klptrace || guest_fail "load_klptrace (ftrace off) failed"
save_hooks load_off
set_ftrace 1 reloaded || guest_fail "cannot set ftrace_enabled=1 again"
save_hooks load_on
events_sync || guest_fail "events_sync failed"
log "ftrace_off done"
