#!/bin/sh
# pidns_instances: two klptops that are each pid 1 of their own PID
# namespace (unshare -p -f --mount-proc, each with its own /proc) during a
# transition a sleeper blocks.
#
#  1. each has its own tracefs instance klptrace-<its pidns>-1 and lock
#     file /run/klptrace/<that name>, and neither removed the other's;
#  2. both get the events: each shows the sleeper (a task outside its
#     /proc, known only from klp_task_blocked) as the blocker, and no
#     loss;
#  3. A is SIGKILLed: its instance stays; the next session C (in our
#     namespace) removes it and leaves B's, and B still follows;
#  4. B ends with SIGTERM: its instance and lock file are gone.
# Ground truth: /sys/kernel/tracing/instances, /run/klptrace,
# /sys/kernel/livepatch, the sleeper's /proc/PID/patch_state, exit codes.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep
TOP=$KLPT_TOP_BIN
INST=$KLPT_TRACING/instances

[ -x "$TOP" ] || guest_fail "klptop not in the image (make -C tui)"
need_modules klptrace $TGT $LP || guest_fail "modules missing from the image"
load_klptrace || guest_fail "load_klptrace failed"
start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
sleeper=$(param $TGT pid)

# ns_top NAME ARGS...: klptop ARGS as pid 1 of a new PID namespace, its
# output in $KLPT_OUT/NAME.out; sets ns_unshare (unshare's pid), ns_pid
# (klptop's pid in our namespace) and ns_inst (its instance's name).
ns_top() {
	_n=$1
	shift
	unshare -p -f --mount-proc "$TOP" "$@" >"$KLPT_OUT/$_n.out" 2>"$KLPT_OUT/$_n.err" &
	_u=$!
	loop_until child_of "$_u" >/dev/null || guest_fail "$_n: unshare forked no child"
	_p=$(child_of "$_u")
	_ns=$(stat -L -c %i "/proc/$_p/ns/pid") || guest_fail "$_n: no pidns of $_p"
	[ "$_ns" = "$(stat -L -c %i /proc/self/ns/pid)" ] &&
		guest_fail "$_n: klptop $_p is in our PID namespace"
	ns_unshare=$_u ns_pid=$_p ns_inst=klptrace-$_ns-1
	log "$_n: klptop is pid $_p here, pid 1 of pidns $_ns"
}

# last_has NAME PATTERN: NAME's last JSON frame matches PATTERN.
last_has() {
	tail -n 1 "$KLPT_OUT/$1.out" | grep -q -- "$2"
}
frames() {
	wc -l <"$KLPT_OUT/$1.out"
}
more_frames() {
	[ "$(frames "$1")" -gt "$2" ]
}

# 1. two sessions, pid 1 each, two instances
ns_top A --json -d 0.5
A_unshare=$ns_unshare A_pid=$ns_pid A_inst=$ns_inst
loop_until last_has A '"mode":"events"' || guest_fail "A printed no frame"
ns_top B --json -d 0.5
B_unshare=$ns_unshare B_pid=$ns_pid B_inst=$ns_inst
loop_until last_has B '"mode":"events"' || guest_fail "B printed no frame"
expect_eq "A's pid in its namespace" 1 "$(sed -n 's/^NSpid:.*[[:space:]]//p' "/proc/$A_pid/status")"
expect_eq "B's pid in its namespace" 1 "$(sed -n 's/^NSpid:.*[[:space:]]//p' "/proc/$B_pid/status")"
ls "$INST" >"$KLPT_OUT/instances_AB"
[ "$A_inst" != "$B_inst" ] || guest_fail "A and B have one pidns"
[ -d "$INST/$A_inst" ] || guest_fail "no instance $A_inst of A: $(ls "$INST")"
[ -d "$INST/$B_inst" ] || guest_fail "no instance $B_inst of B: $(ls "$INST")"
[ -f "/run/klptrace/$A_inst" ] || guest_fail "no lock file of A: $(ls /run/klptrace)"
[ -f "/run/klptrace/$B_inst" ] || guest_fail "no lock file of B: $(ls /run/klptrace)"
fact two_instances 1

# 2. a blocked transition: both see the sleeper block it
mark "pidns_instances: insmod $LP"
expect_success insmod_rc insmod_test $LP
loop_until_timeout 120 has_since "pidns_instances: insmod $LP" klp_transition_pass 3 ||
	guest_fail "fewer than 3 klp_transition_pass events of $LP"
expect_eq "$LP transition while the sleeper sleeps" 1 "$(lp_transition $LP)"
expect_eq "patch_state of the sleeper ($sleeper)" 0 "$(patch_state "$sleeper")"
for s in A B; do
	loop_until last_has $s "\"tgid\":$sleeper,\"tid\":$sleeper,\"pid\":$sleeper,\"comm\":\"klpt_sleeper\"" ||
		guest_fail "$s does not show the sleeper $sleeper blocking: $(tail -n 1 "$KLPT_OUT/$s.out")"
	last_has $s '"lost":0,' || guest_fail "$s lost events: $(tail -n 1 "$KLPT_OUT/$s.out")"
	last_has $s '"mode":"events"' || guest_fail "$s not in events mode"
done
snap blocked
fact both_see_blocker 1

# 3. A killed: its instance stays until the next session removes it
kill -KILL "$A_pid"
wait "$A_unshare"
[ -d "$INST/$A_inst" ] || guest_fail "A's instance went with A (nothing to test)"
# C runs here: a new PID namespace could get A's freed inode number,
# hence A's name, and reuse A's instance instead of judging it.  From
# here pid 1 of A's namespace means nothing: only A's free lock proves it
# gone (and B's held lock that B lives).
"$TOP" -b -n 1 >"$KLPT_OUT/C.out" 2>"$KLPT_OUT/C.err"
fact rc_C $?
expect_eq "C's exit code" 0 "$(cat "$KLPT_OUT/facts/rc_C")"
ls "$INST" >"$KLPT_OUT/instances_after_C"
[ -d "$INST/$A_inst" ] && guest_fail "C did not remove the dead A's $A_inst"
[ -e "/run/klptrace/$A_inst" ] && guest_fail "C left the dead A's lock file"
[ -d "$INST/$B_inst" ] || guest_fail "C removed the live B's $B_inst"
n=$(frames B)
loop_until more_frames B "$n" || guest_fail "B stopped printing frames"
last_has B "\"pid\":$sleeper," || guest_fail "B lost the sleeper after C"
fact stale_removed 1

# 4. B ends: instance and lock gone
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP 120 || guest_fail "transition of $LP did not finish"
kill -TERM "$B_pid"
wait "$B_unshare"
fact rc_B $?
[ -d "$INST/$B_inst" ] && guest_fail "B's instance survived SIGTERM"
[ -e "/run/klptrace/$B_inst" ] && guest_fail "B's lock file survived SIGTERM"
fact b_clean 1
log "pidns_instances done"
