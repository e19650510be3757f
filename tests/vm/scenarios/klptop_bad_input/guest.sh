#!/bin/sh
# klptop_bad_input: the bad-input cases that need a live kernel.
#
#  1. no klptrace.ko: klptop runs in the fallback mode and says so;
#  2. an unknown patch (--disable, -p): one line, exit 2, nothing written;
#  3. --force / --unload without --yes, --force of a patch not in
#     transition: one line, exit 2, the patch untouched;
#  4. SIGINT, SIGTERM, SIGHUP during a live session: exit 128+N and its
#     tracefs instance klptrace-NS-PID is gone; SIGWINCH changes nothing;
#  5. a klptop killed with SIGKILL leaves its instance behind; the next
#     klptop removes it;
#  6. klptrace.ko removed under a running klptop: LOST, fallback, and the
#     patch's disable and unload still seen.
# Ground truth: /sys/kernel/livepatch, /sys/kernel/tracing/instances,
# exit codes (facts), klptop's stderr.  Judge: judge.py.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TOP=$KLPT_TOP_BIN
LP=klpt_lp_vmlinux
INST=$KLPT_TRACING/instances
ERR=$KLPT_OUT/err

[ -x "$TOP" ] || guest_fail "klptop not in the image (make -C tui)"
need_modules klptrace $LP || guest_fail "modules missing from the image"

# one_error NAME RC PATTERN CMD...: CMD exits RC, prints nothing on
# stdout and exactly one line on stderr that contains PATTERN.
one_error() {
	_name=$1 _rc=$2 _pat=$3
	shift 3
	"$@" >"$ERR.$_name.out" 2>"$ERR.$_name"
	_got=$?
	fact "rc_$_name" "$_got"
	expect_eq "$_name: exit code of $*" "$_rc" "$_got"
	expect_eq "$_name: stderr lines" 1 "$(wc -l <"$ERR.$_name")"
	grep -q -- "$_pat" "$ERR.$_name" ||
		guest_fail "$_name: stderr '$(cat "$ERR.$_name")' lacks '$_pat'"
	[ -s "$ERR.$_name.out" ] && guest_fail "$_name: wrote on stdout: $(cat "$ERR.$_name.out")"
	return 0
}

# 1. fallback, labelled
insmod_test $LP || guest_fail "insmod $LP failed"
wait_transition_done $LP || guest_fail "$LP transition did not finish"
[ -d /sys/kernel/klptrace ] && guest_fail "klptrace.ko is loaded already"
$TOP -b -n 1 >"$KLPT_OUT/fallback.txt" 2>"$ERR.fallback"
fact rc_fallback $?
$TOP --json -n 1 >"$KLPT_OUT/fallback.json" 2>>"$ERR.fallback"
fact rc_fallback_json $?

load_klptrace || guest_fail "load_klptrace failed"

# 2. unknown patch
one_error unknown_disable 2 "no livepatch named 'nosuch'" $TOP --disable nosuch --wait-unload
one_error unknown_filter 2 "no livepatch named 'nosuch'" $TOP -p nosuch -b -n 1

# 3. acting without --yes, or on nothing
one_error force_no_yes 2 "without --yes" $TOP --force $LP
one_error unload_no_yes 2 "without --yes" $TOP --disable $LP --unload
one_error force_idle 2 "not in transition" $TOP --force $LP --yes
snap untouched
expect_eq "$LP enabled after the refused actions" 1 "$(lp_enabled $LP)"

# instance_of PID: the tracefs instance of klptop PID (of our PID
# namespace, as lib/src/instance.c names it) exists.
NS=$(stat -L -c %i /proc/self/ns/pid)
instance_of() {
	[ -d "$INST/klptrace-$NS-$1" ]
}
framed() {
	grep -q '^PATCH ' "$1"
}

# 4. signals during a live session
for sig in INT TERM HUP; do
	out=$KLPT_OUT/sig_$sig.txt
	$TOP -b -d 0.5 >"$out" 2>"$ERR.sig_$sig" &
	pid=$!
	loop_until framed "$out" || guest_fail "SIG$sig: klptop printed no frame"
	instance_of "$pid" || guest_fail "SIG$sig: no instance klptrace-$pid while running"
	if [ "$sig" = TERM ]; then
		# a window change is no reason to stop
		kill -WINCH "$pid"
		holds_for 1 kill -0 "$pid" || guest_fail "klptop died of SIGWINCH"
	fi
	kill -s "$sig" "$pid"
	wait "$pid"
	fact "rc_sig_$sig" $?
	instance_of "$pid" && guest_fail "SIG$sig: instance klptrace-$pid left behind"
	fact "instance_gone_$sig" 1
done

# 5. SIGKILL: the next klptop cleans up
out=$KLPT_OUT/sigkill.txt
$TOP -b -d 0.5 >"$out" 2>"$ERR.sigkill" &
pid=$!
loop_until framed "$out" || guest_fail "SIGKILL: klptop printed no frame"
kill -KILL "$pid"
wait "$pid"
fact rc_sigkill $?
instance_of "$pid" || guest_fail "SIGKILL: no stale instance klptrace-$pid (nothing to test)"
fact stale_after_kill 1
$TOP -b -n 1 >"$KLPT_OUT/after_kill.txt" 2>"$ERR.after_kill"
fact rc_after_kill $?
instance_of "$pid" && guest_fail "the stale instance klptrace-$pid survived the next klptop"
fact stale_removed 1

# 6. klptrace.ko removed under a running klptop: it says it lost events,
# goes on in the fallback mode, and follows the truth from there on
out=$KLPT_OUT/klptrace_gone.json
$TOP --json -d 0.5 >"$out" 2>"$ERR.klptrace_gone" &
pid=$!
last_has() {
	tail -n 1 "$out" | grep -q -- "$1"
}
loop_until last_has '"mode":"events"' || guest_fail "klptop (events) printed no frame"
unload_klptrace || guest_fail "unload_klptrace failed"
loop_until last_has '"mode":"fallback"' ||
	guest_fail "klptop did not switch to fallback: $(tail -n 1 "$out")"
last_has '"lost":0,' && guest_fail "klptop reported no loss: $(tail -n 1 "$out")"
lp_disable $LP
wait_lp_gone $LP || guest_fail "$LP did not go"
wait_refcnt $LP 0 || guest_fail "$LP kept a reference"
rmmod $LP || guest_fail "rmmod $LP failed"
# ground truth: no livepatch, no patch module any more
loop_until last_has '"patches":\[\]' ||
	guest_fail "klptop still shows a patch: $(tail -n 1 "$out")"
snap after_klptrace_gone
kill -TERM "$pid"
wait "$pid"
fact rc_klptrace_gone $?
exit 0
