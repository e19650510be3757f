#!/bin/bash
# test_examples.sh BUILD_DIR: the examples as a user runs them, against a
# fake tracefs and a fake /sys + /proc (never the host's tracing).
#
# The fake is what fake_tracefs.h builds, in shell: the VM's formats from
# fixtures/formats, and the session's instance made in advance (a plain
# directory has no kernel to fill it on mkdir), named
# klptrace-<pidns>-<pid> as lib/src/instance.c names it.  The pid is
# known in advance because the subshell that builds it then execs the
# example.
set -eu
out=${1:?usage: test_examples.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
fix=$here/fixtures/formats
dw=$out/examples/disable_wait
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

[ -x "$dw" ] || fail "$dw not built"

# fake_tracefs DIR KLP PID: DIR/tracing with (KLP=1) or without the klp
# events, and the instance of PID; DIR/root with /sys/kernel/livepatch.
fake_tracefs() {
	local d=$1 klp=$2 pid=$3 t=$1/tracing systems=module base sys ev ns
	ns=$(stat -L -c %i "/proc/$pid/ns/pid")
	[ "$klp" = 1 ] && systems="klp module"
	mkdir -p "$t/events" "$t/instances" "$d/root/sys/kernel/livepatch" \
		"$d/root/sys/module" "$d/root/proc"
	cp "$fix/events/header_page" "$fix/events/header_event" "$t/events/"
	for base in "$t" "$t/instances/klptrace-$ns-$pid"; do
		mkdir -p "$base/per_cpu/cpu0" "$base/events"
		: >"$base/per_cpu/cpu0/trace_pipe_raw"
		: >"$base/trace"
		echo 0 >"$base/events/enable"
		echo 1 >"$base/tracing_on"
		echo 1410 >"$base/buffer_size_kb"
		echo 50 >"$base/buffer_percent"
		echo "[local] global mono" >"$base/trace_clock"
		for sys in $systems; do
			mkdir -p "$base/events/$sys"
			echo 0 >"$base/events/$sys/enable"
			for ev in "$fix/events/$sys"/*/; do
				ev=$(basename "$ev")
				mkdir -p "$base/events/$sys/$ev"
				echo 0 >"$base/events/$sys/$ev/enable"
				cp "$fix/events/$sys/$ev/format" "$base/events/$sys/$ev/"
			done
		done
	done
}

# patch ROOT NAME ENABLED TRANSITION REFCNT: a livepatch and its module.
patch() {
	local p=$1/sys/kernel/livepatch/$2 m=$1/sys/module/$2
	mkdir -p "$p" "$m"
	echo "$3" >"$p/enabled"
	echo "$4" >"$p/transition"
	: >"$p/force"
	echo "$5" >"$m/refcnt"
	echo OK >"$m/taint"
}

# dw DIR KLP ARGS...: run disable_wait on the fake DIR; status in $rc,
# output in $tmp/out and $tmp/err.
dw() {
	local d=$1 klp=$2
	shift 2
	rc=0
	(
		fake_tracefs "$d" "$klp" "$BASHPID"
		exec "$dw" --tracefs "$d/tracing" --root "$d/root" "$@"
	) >"$tmp/out" 2>"$tmp/err" || rc=$?
}

expect() {	# what, status, file, pattern
	[ "$rc" = "$2" ] || fail "$1: exit $rc, not $2; stderr: $(cat "$tmp/err")"
	grep -q -- "$4" "$3" || fail "$1: no '$4' in: $(cat "$3")"
	if [ "$2" = 2 ]; then
		[ "$(wc -l <"$tmp/err")" = 1 ] || fail "$1: not one line: $(cat "$tmp/err")"
	fi
}

# --help, --version and usage errors need no system at all.
rc=0
"$dw" --help >"$tmp/out" 2>"$tmp/err" || rc=$?
expect "--help" 0 "$tmp/out" "EXIT STATUS"
for s in NAME SYNOPSIS DESCRIPTION OPTIONS EXAMPLE; do
	grep -q "^$s" "$tmp/out" || fail "--help has no $s section"
done
rc=0
"$dw" -V >"$tmp/out" 2>"$tmp/err" || rc=$?
expect "-V" 0 "$tmp/out" "libklptrace 0\.1"
rc=0
"$dw" >"$tmp/out" 2>"$tmp/err" || rc=$?
expect "no PATCH" 2 "$tmp/err" "usage:"
rc=0
"$dw" lp soon >"$tmp/out" 2>"$tmp/err" || rc=$?
expect "bad TIMEOUT_S" 2 "$tmp/err" "usage:"

# A system without tracefs, or without livepatch: one clear line.
mkdir -p "$tmp/nt/root/sys/kernel/livepatch"
rc=0
"$dw" --tracefs "$tmp/nt/none" --root "$tmp/nt/root" lp \
	>"$tmp/out" 2>"$tmp/err" || rc=$?
expect "no tracefs" 2 "$tmp/err" "no tracefs"
mkdir -p "$tmp/nl/root/sys/kernel"
rc=0
"$dw" --tracefs "$tmp/nl/none" --root "$tmp/nl/root" lp \
	>"$tmp/out" 2>"$tmp/err" || rc=$?
expect "no livepatch" 2 "$tmp/err" "no livepatch support"

# An unknown patch.
dw "$tmp/u" 1 nope 1
expect "unknown patch" 2 "$tmp/err" "no livepatch named 'nope'"

# An enabled patch is disabled; nothing moves on, so the wait times out
# after printing what holds the module.
mkdir -p "$tmp/t/root"
patch "$tmp/t/root" klpt_lp 1 0 1
dw "$tmp/t" 1 klpt_lp 2
expect "timeout" 1 "$tmp/out" "timed out after"
grep -q "klpt_lp: disabled" "$tmp/out" || fail "no 'disabled' line: $(cat "$tmp/out")"
grep -q '^\[ *1s\] klpt_lp: ' "$tmp/out" || fail "no status line: $(cat "$tmp/out")"
[ "$(cat "$tmp/t/root/sys/kernel/livepatch/klpt_lp/enabled")" = 0 ] ||
	fail "0 was not written to enabled"

# Already disabled and its references gone: without klptrace.ko (the
# fallback) the verdict comes from sysfs alone, and it is ready at once.
mkdir -p "$tmp/r/root"
patch "$tmp/r/root" klpt_lp 0 0 0
dw "$tmp/r" 0 klpt_lp 5
expect "fallback ready" 0 "$tmp/out" "klpt_lp: ready to unload: rmmod klpt_lp"
grep -q "no per-task reasons" "$tmp/out" || fail "fallback not labelled"
grep -q "already disabled" "$tmp/out" || fail "wrote to a disabled patch"
echo "examples: disable_wait --help, usage, errors, timeout, ready ok"
