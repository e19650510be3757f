#!/bin/bash
# klptop's tests that need no kernel (the VM ones are scenarios under
# tests/vm/scenarios/klptop_*).
#
#   tui/tests/run.sh [BUILD_DIR]     (default build/tui; make -C tui first)
#   ONLY="NAME..." tui/tests/run.sh  only those tests (t_NAME)
#
# Replays of the fixture recording (lib/tests/fixtures) in batch, JSON and
# on a terminal (tmux, private server), checked against the ground truth
# the VM saved while it recorded; the bad-input matrix of the command
# line.  Prints PASS/FAIL per test and "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-$top/build/tui}
klptop=$out/klptop
san=$out/klptop-san
fix=$top/lib/tests/fixtures
cap=$fix/vm-capture
work=$(mktemp -d)
# tmux: servers of our own, so the user's sessions are never touched; a
# new one per terminal (a server being killed may still take a client)
screen_n=0
tmx() { tmux -L "klptop-test-$$-$screen_n" "$@"; }
# tmx_stop: end the tmux server and everything its panes started.  What
# still runs in a pane is killed first (SIGKILL, by the pane's session):
# closing the pane would hang up a klptop-san that has not quit, and an
# ASan build exiting then never ends: LeakSanitizer ptrace-stops the
# process to scan it, and the SIGCONT the kernel sends to the process
# group the hangup orphaned resumes it, so the scanner waits forever
# while the process spins (orphans at 100% CPU for hours).
tmx_stop() {
	local p
	for p in $(tmx list-panes -a -F '#{pane_pid}' 2>/dev/null); do
		pkill -KILL -s "$p" 2>/dev/null
	done
	tmx kill-server 2>/dev/null
}
trap 'tmx_stop; rm -rf "$work"' EXIT
passed=0
failed=0

run_test() {	# name, function
	local name=$1 log=$work/log
	shift
	if "$@" >"$log" 2>&1; then
		echo "PASS tui/$name"
		passed=$((passed + 1))
	else
		echo "FAIL tui/$name"
		sed 's/^/    /' "$log" | tail -n 30
		failed=$((failed + 1))
	fi
}

fail() {
	echo "$*"
	return 1
}

# expect_error RC PATTERN CMD...: CMD exits RC with exactly one line on
# stderr matching PATTERN and nothing on stdout.
expect_error() {
	local rc=$1 pat=$2 got
	shift 2
	"$@" >"$work/stdout" 2>"$work/stderr"
	got=$?
	[ "$got" = "$rc" ] || fail "$*: exit $got, expected $rc: $(cat "$work/stderr")" || return 1
	[ "$(wc -l <"$work/stderr")" = 1 ] || fail "$*: stderr is not one line: $(cat "$work/stderr")" || return 1
	grep -q -- "$pat" "$work/stderr" || fail "$*: stderr '$(cat "$work/stderr")' lacks '$pat'" || return 1
	[ ! -s "$work/stdout" ] || fail "$*: wrote to stdout: $(head -3 "$work/stdout")"
}

# loop_until SECS CMD...: poll CMD every 0.1 s, at most SECS seconds.
# loop_until SECS CMD...: until CMD succeeds, for at most SECS times
# KLPT_TEST_SLACK (default 3).  Every bound here is an upper limit, never
# a wait: a passing test costs the same, a loaded host (check-fresh beside
# VMs, ASan) does not fail one.
loop_until() {
	local end=$(($(date +%s%N) / 1000000 + $1 * 1000 * ${KLPT_TEST_SLACK:-3}))
	shift
	until "$@"; do
		[ $(($(date +%s%N) / 1000000)) -lt "$end" ] || return 1
		sleep 0.1
	done
}

# ------------------------------------------------------------ command line

t_help() {
	"$klptop" --help >"$work/help" || fail "--help failed" || return 1
	for w in NAME SYNOPSIS OPTIONS "EXIT STATUS" --delay --iterations \
		--batch --json --patch --record --replay --disable --force \
		--wait-unload --timeout --unload --readonly --yes --status; do
		grep -q -- "$w" "$work/help" || fail "--help lacks $w" || return 1
	done
	"$klptop" --version | grep -q '^klptop [0-9]' || fail "--version"
}

t_usage_errors() {
	expect_error 2 "unrecognized option" "$klptop" --bogus || return 1
	expect_error 2 "bad delay" "$klptop" -d abc || return 1
	expect_error 2 "bad delay" "$klptop" -d 0 || return 1
	expect_error 2 "bad iteration count" "$klptop" -n -1 || return 1
	expect_error 2 "unknown sort key" "$klptop" -s size || return 1
	expect_error 2 "unexpected argument" "$klptop" extra || return 1
	expect_error 2 "two different outputs" "$klptop" -b --json || return 1
	expect_error 2 "not on a --replay" "$klptop" --replay "$fix/vm-recording" --disable x || return 1
	expect_error 2 "needs a patch" "$klptop" --wait-unload || return 1
	# irreversible or acting steps unattended need --yes
	expect_error 2 "without --yes" "$klptop" --force some_patch || return 1
	expect_error 2 "without --yes" "$klptop" --disable p --unload || return 1
	expect_error 2 "needs a live session" "$klptop" --replay "$fix/vm-recording" --record "$work/rec" || return 1
	# --load: a flow of its own, its options only with it
	expect_error 2 "are for --load" "$klptop" --on-stall=report || return 1
	expect_error 2 "are for --load" "$klptop" --stall-after 5 || return 1
	expect_error 2 "is for --load" "$klptop" --wait-complete || return 1
	expect_error 2 "bad --on-stall" "$klptop" --load x.ko --on-stall=rmmod || return 1
	expect_error 2 "bad --stall-after" "$klptop" --load x.ko --stall-after 0 || return 1
	expect_error 2 "a flow of its own" "$klptop" --load x.ko --disable lp || return 1
	expect_error 2 "a flow of its own" "$klptop" --load x.ko -p lp || return 1
	expect_error 2 "not with --replay" "$klptop" --load x.ko --json || return 1
	expect_error 2 "bounds --wait-complete" "$klptop" --load x.ko --timeout 5 || return 1
	expect_error 2 "not with --readonly" "$klptop" --load x.ko --readonly
}

# What the operator typed or pasted (an option's argument, a path) is
# quoted on stderr escaped like any name (esc.c): ESC, BEL, CSI never
# reach the terminal (they did raw: --replay "$(printf 'r\033[2Jx\a')").
t_operator_strings() {
	local bad
	bad=$(printf 'x\033[2J\a')
	expect_error 2 "unknown sort key: x?\[2J?" "$klptop" -s "$bad" || return 1
	no_controls "$work/stderr" || return 1
	expect_error 2 "bad delay .*: x?\[2J?" "$klptop" -d "$bad" || return 1
	no_controls "$work/stderr" || return 1
	expect_error 2 "unrecognized option: --x?\[2J?" "$klptop" "--$bad" || return 1
	no_controls "$work/stderr" || return 1
	expect_error 2 "rx?\[2J?: no such file" "$klptop" --replay "r$bad" || return 1
	no_controls "$work/stderr" || return 1
	mkdir -p "$work/d$bad"
	expect_error 2 "dx?\[2J?: not a klptrace recording" "$klptop" --replay "$work/d$bad" || return 1
	no_controls "$work/stderr" || return 1
	# --record into a directory that is not empty: a live (fake) session
	touch "$work/d$bad/f"
	build_fakesys || return 1
	expect_error 2 "cannot record into .*dx?\[2J?: it exists" \
		fake module:lp:0:1 -- "$klptop" -b -n 1 --record "$work/d$bad" || return 1
	no_controls "$work/stderr"
}

t_not_root() {
	# the check comes before anything touches tracefs.  A copy in a
	# directory anyone can reach: the tree may be under a 0700 /root.
	local d ret
	d=$(mktemp -d) && chmod 755 "$d" && cp "$klptop" "$d/klptop" ||
		fail "cannot copy klptop" || return 1
	expect_error 2 "permission denied" setpriv --reuid=65534 \
		--regid=65534 --clear-groups "$d/klptop" -b -n 1
	ret=$?
	rm -rf "$d"
	return $ret
}

t_no_livepatch_no_tracefs() {
	# a fake root: no /sys/kernel/livepatch = a kernel without livepatch
	mkdir -p "$work/nolp/sys/kernel" "$work/nolp/proc" "$work/tfs"
	expect_error 2 "no livepatch support" "$klptop" -b -n 1 \
		--root "$work/nolp" --tracefs "$work/tfs" || return 1
	# livepatch there, tracefs not (an empty directory is no tracefs)
	mkdir -p "$work/lp/sys/kernel/livepatch" "$work/lp/sys/module" "$work/lp/proc"
	expect_error 2 "no tracefs" "$klptop" -b -n 1 \
		--root "$work/lp" --tracefs "$work/tfs"
}

# --------------------------------------------------- replays vs the truth

t_replay_batch() {
	"$san" --replay "$fix/vm-recording" -b -d 0.5 >"$work/frames.txt" ||
		fail "klptop -b exited $?" || return 1
	python3 "$here/check_replay.py" "$work/frames.txt" "$cap"
}

t_replay_json() {
	"$san" --replay "$fix/vm-recording" --json -d 0.5 >"$work/frames.json" ||
		fail "klptop --json exited $?" || return 1
	python3 "$here/check_replay.py" "$work/frames.json" "$cap"
}

t_replay_tracedat() {
	"$san" --replay "$fix/vm-recording.dat" --json -d 0.5 >"$work/dat.json" ||
		fail "klptop --json on trace.dat exited $?" || return 1
	python3 "$here/check_replay.py" "$work/dat.json" "$cap"
}

# Unknown is "?" in -b and null in --json, never a guess (issue 10 item
# 7): a trace.dat has no snapshot, so no task is known to be a kthread or
# a user task but the idle ones; it has no sched_process_exit either: one
# warning line on stderr, and the task count stays that of a transition.
t_unknown_tracedat() {
	"$san" --replay "$fix/vm-recording.dat" -b -d 0.5 >"$work/dat.txt" \
		2>"$work/dat.err" || fail "klptop -b exited $?" || return 1
	[ "$(wc -l <"$work/dat.err")" = 1 ] &&
		grep -q "warning: .*vm-recording.dat has no sched_process_exit" \
			"$work/dat.err" || fail "warning: $(cat "$work/dat.err")" || return 1
	"$san" --replay "$fix/vm-recording.dat" --json -d 0.5 \
		>"$work/dat.json" 2>/dev/null || fail "--json exited $?" || return 1
	python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import frames
for path in sys.argv[2:]:
    fs = frames.parse(open(path).read())
    rows = [b for f in fs for p in f["patches"].values() for b in p["blockers"]]
    assert rows, "%s: no blocker in any frame" % path
    for b in rows:
        want = True if b["tid"] == 0 else None
        assert b["kthread"] is want, "%s: %r kthread %r" % (path, b["comm"], b["kthread"])
    counts = [int(l.split("tasks ")[-1].split()[0]) for l in open(path) if l.startswith("klptop ")] \
        if path.endswith(".txt") else []
    assert not counts or counts[-1] <= 4, "%s: %d tasks at the end" % (path, counts[-1])
' "$here" "$work/dat.txt" "$work/dat.json" || fail "unknown kthread shown as a value"
}

# A klptrace recording sees exits: no warning.  Its snapshot knows the
# tasks of its start; the sleeper came later (insmod after the start):
# "?", not "-" (user task) as before.
t_known_recording() {
	"$san" --replay "$fix/vm-recording" -b -d 0.5 >"$work/rec.txt" \
		2>"$work/rec.err" || fail "klptop -b exited $?" || return 1
	[ ! -s "$work/rec.err" ] || fail "stderr: $(cat "$work/rec.err")" || return 1
	grep -q "klpt_sleeper *? " "$work/rec.txt" ||
		fail "the sleeper's kthread flag not shown unknown"
}

t_replay_iterations() {
	local n
	n=$("$klptop" --replay "$fix/vm-recording" --json -n 3 -d 0.2 | wc -l)
	[ "$n" = 3 ] || fail "-n 3 printed $n frames"
}

t_valgrind() {
	command -v valgrind >/dev/null || { echo "no valgrind"; return 1; }
	valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		"$klptop" --replay "$fix/vm-recording" -b -d 0.5 >/dev/null || return 1
	# the metrics' writer and server too (a client set's buffers, the body)
	valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		"$klptop" --replay "$fix/vm-recording" -d 0.5 --listen 0 \
		--openmetrics "$work/vg.prom" 2>/dev/null
}

t_corrupt_recordings() {
	local r=$work/rec-trunc
	cp -r "$fix/vm-recording" "$r"
	# a page cut in the middle, a header that is not one, foreign files
	truncate -s 1000 "$r/per_cpu/cpu0/trace_pipe_raw"
	"$klptop" --replay "$r" -b >/dev/null 2>"$work/err"
	rc=$?
	# a short last page is a recording cut off: replayed up to the cut,
	# or refused with one line; never a crash
	[ "$rc" = 0 ] || { [ "$rc" = 2 ] && [ "$(wc -l <"$work/err")" = 1 ]; } ||
		fail "truncated page: exit $rc: $(cat "$work/err")" || return 1
	r=$work/rec-badhdr
	cp -r "$fix/vm-recording" "$r"
	echo "not a recording" >"$r/klptrace-recording"
	expect_error 2 "not a klptrace recording" "$klptop" --replay "$r" -b || return 1
	r=$work/rec-garbage
	cp -r "$fix/vm-recording" "$r"
	head -c 8192 /dev/urandom >"$r/per_cpu/cpu1/trace_pipe_raw"
	"$klptop" --replay "$r" -b >/dev/null 2>"$work/err"
	rc=$?
	[ "$rc" = 0 ] || { [ "$rc" = 2 ] && [ "$(wc -l <"$work/err")" = 1 ]; } ||
		fail "garbage page: exit $rc: $(cat "$work/err")" || return 1
	mkdir -p "$work/foreign"
	echo hello >"$work/foreign/file"
	expect_error 2 "not a klptrace recording" "$klptop" --replay "$work/foreign" -b || return 1
	expect_error 2 "not a klptrace recording" "$klptop" --replay /etc/passwd -b || return 1
	head -c 4000 "$fix/vm-recording.dat" >"$work/short.dat"
	expect_error 2 "corrupt" "$klptop" --replay "$work/short.dat" -b || return 1
	expect_error 2 "no such file" "$klptop" --replay "$work/missing" -b || return 1
	# trace.dat files that crash libtracecmd itself (found by lib/fuzz):
	# the library's probe in a child turns the crash into one line
	for f in "$here"/fixtures/tracedat-crash-*.dat; do
		if KLPT_REPLAY_NO_PROBE=1 "$klptop" --replay "$f" -b >/dev/null 2>&1; then
			fail "$f: no longer crashes libtracecmd unprobed (pick another input)" || return 1
		fi
		expect_error 2 "corrupt" "$klptop" --replay "$f" -b || return 1
		expect_error 2 "corrupt" "$san" --replay "$f" -b || return 1
	done
}

# ------------------------------------------------------- --openmetrics

# Frames 1.. of a replay as --openmetrics writes them (klptop -n N for
# each N: the file holds the last frame), into $work/om/frame-N.prom,
# until the replay ends; promtool check metrics on each.
om_frames() {	# KLPTOP ARGS...
	local k=$1 n=1 prev=
	shift
	rm -rf "$work/om" && mkdir -p "$work/om" || return 1
	while [ $n -le 60 ]; do
		"$k" "$@" --openmetrics "$work/om/klptrace.prom" -n $n ||
			fail "--openmetrics -n $n exited $?" || return 1
		cp "$work/om/klptrace.prom" "$work/om/frame-$n.prom"
		promtool check metrics <"$work/om/frame-$n.prom" >"$work/om/lint" 2>&1 ||
			fail "promtool check metrics, frame $n: $(cat "$work/om/lint")" || return 1
		# the replay ended: the same last frame again
		cmp -s "$work/om/frame-$n.prom" "$prev" && { rm "$work/om/frame-$n.prom"; return 0; }
		prev=$work/om/frame-$n.prom
		n=$((n + 1))
	done
}

# Each exposition of the fixture replay passes promtool's check and
# says what the VM's ground truth says (check_metrics.py): the blocked
# sleeper and its reason as snap/blocked and trace.txt, the unload
# verdict one-hot, no series of the module once rmmod'ed.
t_openmetrics_replay() {
	command -v promtool >/dev/null || fail "no promtool (scripts/deps.sh: prometheus)" || return 1
	om_frames "$san" --replay "$fix/vm-recording" -d 0.5 || return 1
	# shellcheck disable=SC2046
	python3 "$here/check_metrics.py" "$cap" $(ls -v "$work/om"/frame-*.prom) || return 1
	# a trace.dat replay too (its tasks' kthread flags are unknown)
	om_frames "$klptop" --replay "$fix/vm-recording.dat" -d 0.5 2>/dev/null || return 1
	# shellcheck disable=SC2046
	python3 "$here/check_metrics.py" "$cap" $(ls -v "$work/om"/frame-*.prom)
}

# Hostile names in labels: a comm with a backslash, a quote, a newline,
# a control and a byte that is not UTF-8, a module name with an OSC
# sequence.  promtool reads the exposition; each label value, unescaped,
# is the name with controls and bad bytes as U+FFFD, one sample a line.
t_openmetrics_names() {
	local comm mod
	comm=$(printf 'a\\b"c\nd\001e\377f')
	mod=$(printf 'm\033]0;t\ax')
	build_fakesys || return 1
	fake patch:lp:0:1 module:lp:1:1 "module:$mod:0:1" "task:100:1:0:$comm" \
		task:2:0:1 -- "$san" --openmetrics "$work/names.prom" -n 1 \
		>"$work/out" 2>"$work/err"
	got=$?
	[ "$got" = 0 ] && [ ! -s "$work/out" ] && [ ! -s "$work/err" ] ||
		fail "exit $got: $(cat "$work/out" "$work/err")" || return 1
	promtool check metrics <"$work/names.prom" >"$work/lint" 2>&1 ||
		fail "promtool: $(cat "$work/lint")" || return 1
	python3 - "$here" "$work/names.prom" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import check_metrics as cm
raw = open(sys.argv[2], "rb").read()
assert all(c >= 0x20 and c != 0x7f for c in raw.replace(b"\n", b"")), "raw control"
s = cm.parse(raw.decode("utf-8", errors="strict"))
info = [lab for n, lab, v in s if n == "klp_blocker_info"]
assert len(info) == 1, info
want = 'a\\b"c\nd\ufffde\ufffdf'
assert info[0]["comm"] == want, (info[0]["comm"], want)
mod = "m\ufffd]0;t\ufffdx"
assert cm.get(s, "klp_module_unload_ready", module=mod) == [1.0], s
assert cm.get(s, "klp_module_unload_ready", module="lp") == [0.0], s
assert cm.get(s, "klp_module_unload_verdict", module="lp", verdict="tasks") == [1.0], s
assert cm.get(s, "klp_blocked_tasks", patch="lp", reason="unknown") == [1.0], s
# joined under way: the longest blocked time is not known exactly
assert not cm.get(s, "klp_blocked_longest_seconds"), s
assert not cm.get(s, "klp_patch_transition_seconds"), s
PY
}

# The metrics' view keeps only the 5 longest blocked (view.c,
# top_view_build_top()): 8 pending tasks, 3 of them with checks seen
# (blocked: events), must give klp_blocker_info = --json's first five
# blockers of the default sort, in order, and counts of all eight.
t_openmetrics_top() {
	local spec=(patch:lp:1:1 module:lp:1:1)
	local t
	for t in 101 102 103 104 105 106 107 108; do spec+=("task:$t:0:0"); done
	spec+=(blocked:106:lp:1 blocked:103:lp:1 blocked:108:lp:1)
	build_fakesys || return 1
	fake "${spec[@]}" -- "$san" -d 1.5 -n 2 --openmetrics "$work/top.prom" \
		>"$work/out" 2>"$work/err" || fail "--openmetrics: $(cat "$work/err")" || return 1
	fake "${spec[@]}" -- "$san" -d 1.5 -n 2 --json >"$work/top.json" 2>"$work/err" ||
		fail "--json: $(cat "$work/err")" || return 1
	python3 - "$here" "$work/top.prom" "$work/top.json" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import check_metrics as cm
s = cm.parse(open(sys.argv[2]).read())
frame = json.loads(open(sys.argv[3]).read().splitlines()[-1])
lp = [p for p in frame["patches"] if p["name"] == "lp"][0]
want = [str(b["pid"]) for b in lp["blockers"][:5]]
info = sorted((int(l["rank"]), l["pid"]) for n, l, v in s if n == "klp_blocker_info")
got = [pid for _, pid in info]
assert got == want, (got, want)
assert set(want[:3]) == {"103", "106", "108"}, want
assert sum(cm.get(s, "klp_blocked_tasks", patch="lp")) == lp["blockers_total"] == 8, lp["blockers_total"]
assert cm.get(s, "klp_blocked_tasks", patch="lp", reason="running") == [3.0], s
PY
}

# The file klptop writes as root, in a directory someone else may own:
# a link planted at the temporary's name or at FILE itself is replaced,
# never written through (the victim stays as it was); the file is 0644
# whatever the umask; no temporary is left; a FILE whose directory is a
# link or missing, or a name that is no file name, is one line, exit 2.
t_openmetrics_links() {
	local d=$work/tf
	rm -rf "$d" && mkdir -p "$d/dir" || return 1
	echo victim >"$d/victim"
	ln -s ../victim "$d/dir/.klptrace.prom.tmp"
	ln -s ../victim "$d/dir/klptrace.prom"
	(umask 077 && exec "$san" --replay "$fix/vm-recording" -d 0.5 -n 3 \
		--openmetrics "$d/dir/klptrace.prom") >"$work/out" 2>"$work/err" ||
		fail "exit $?: $(cat "$work/err")" || return 1
	[ "$(cat "$d/victim")" = victim ] || fail "the link's target was written" || return 1
	[ -f "$d/dir/klptrace.prom" ] && [ ! -L "$d/dir/klptrace.prom" ] ||
		fail "FILE is not a regular file" || return 1
	[ "$(stat -c %a "$d/dir/klptrace.prom")" = 644 ] ||
		fail "mode $(stat -c %a "$d/dir/klptrace.prom")" || return 1
	[ "$(ls -A "$d/dir")" = klptrace.prom ] || fail "left: $(ls -A "$d/dir")" || return 1
	ln -s dir "$d/link"
	expect_error 2 "link/klptrace.prom: its directory: Not a directory" \
		"$klptop" --replay "$fix/vm-recording" -n 1 --openmetrics "$d/link/klptrace.prom" || return 1
	expect_error 2 "nodir/x.prom: its directory: No such file" \
		"$klptop" --replay "$fix/vm-recording" -n 1 --openmetrics "$d/nodir/x.prom" || return 1
	expect_error 2 "openmetrics $d/dir/: not a file name" \
		"$klptop" --replay "$fix/vm-recording" -n 1 --openmetrics "$d/dir/" || return 1
	expect_error 2 "not with -b or --json" \
		"$klptop" --replay "$fix/vm-recording" -b --openmetrics "$d/x" || return 1
	expect_error 2 "not for the scripted flow" \
		"$klptop" --disable lp --openmetrics "$d/x"
}

# A user racing root: links to a root-owned file planted again and again
# at the temporary's name and at FILE while klptop rewrites FILE 30
# times (a live fake session, a frame every 0.1 s).  The victim is never
# written; klptop either wins every round or gives up with its one line
# (a planter who owns the directory can deny service, not redirect).
t_openmetrics_race() {
	local d=$work/race pid planter
	rm -rf "$d" && mkdir -p "$d/dir" || return 1
	echo victim >"$d/victim"
	chmod a+x "$work" "$d" && chown nobody "$d/dir" && chmod 755 "$d/dir"
	build_fakesys || return 1
	setpriv --reuid=nobody --regid=nogroup --clear-groups bash -c '
		while :; do
			ln -sfn ../victim "$1/.klptrace.prom.tmp" 2>/dev/null
			ln -sfn ../victim "$1/klptrace.prom.x" 2>/dev/null &&
				mv -fT "$1/klptrace.prom.x" "$1/klptrace.prom" 2>/dev/null
		done' _ "$d/dir" &
	planter=$!
	fake patch:lp:1:0 module:lp:1:1 task:100:1:0 -- "$san" -d 0.1 -n 30 \
		--openmetrics "$d/dir/klptrace.prom" >"$work/out" 2>"$work/err"
	got=$?
	kill "$planter"; wait "$planter" 2>/dev/null
	[ "$(cat "$d/victim")" = victim ] || fail "the victim was written" || return 1
	[ "$got" = 0 ] || grep -q "creating its temporary file: File exists" "$work/err" ||
		fail "exit $got: $(cat "$work/err")"
}

# A full disk (RLIMIT_FSIZE, SIGXFSZ ignored, stands for it): one line,
# exit 2, the previous frame's FILE intact and no temporary left.
t_openmetrics_full() {
	local d=$work/full
	rm -rf "$d" && mkdir -p "$d" || return 1
	"$klptop" --replay "$fix/vm-recording" -n 1 --openmetrics "$d/k.prom" ||
		fail "first frame: exit $?" || return 1
	cp "$d/k.prom" "$work/k.before"
	expect_error 2 "^klptop: --openmetrics $d/k.prom: writing: File too large$" \
		bash -c 'trap "" XFSZ; exec prlimit --fsize=1024 -- "$@"' _ \
		"$san" --replay "$fix/vm-recording" -d 0.5 -n 5 --openmetrics "$d/k.prom" || return 1
	cmp -s "$d/k.prom" "$work/k.before" || fail "the old file changed" || return 1
	[ "$(ls -A "$d")" = k.prom ] || fail "left: $(ls -A "$d")"
}

# --listen on a live (fake) session: GET /metrics answers the exposition
# (promtool reads it), another path 404, another method 405, a head over
# 4 KiB 431; 8 idle connections (the limit) and one that sends half a
# request do not stop the frames, and a GET is answered once the idle
# ones timed out (5 s); klptop ends after its -n frames with exit 0.
t_listen() {
	local url pid
	build_fakesys || return 1
	fake patch:lp:1:1 module:lp:1:1 task:100:0:0 -- "$san" -d 0.2 -n 60 \
		--listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
	pid=$!
	loop_until 10 grep -q "serving http://" "$work/err" || fail "no server: $(cat "$work/err")" || return 1
	url=$(grep -o 'http://[^ ]*' "$work/err")
	python3 - "$url" <<'PY' || { kill "$pid"; return 1; }
import socket, subprocess, sys, time, urllib.request, urllib.error
url = sys.argv[1]
host, port = url.split("/")[2].rsplit(":", 1)
def get(path, method="GET", timeout=3):
    req = urllib.request.Request("http://%s:%s%s" % (host, port, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()
st, h, body = get("/metrics")
assert st == 200, st
assert h["Content-Type"].startswith("text/plain; version=0.0.4"), h["Content-Type"]
p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
assert p.returncode == 0, p.stdout + p.stderr
assert b'klp_patch_transition{patch="lp",direction="patching"} 1' in body, body
assert get("/")[0] == 404 and get("/metricsx")[0] == 404
assert get("/metrics", "POST")[0] == 405
s = socket.create_connection((host, int(port)))
s.sendall(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 5000)
assert s.recv(100).startswith(b"HTTP/1.1 431"), "no 431"
s.close()
idle = [socket.create_connection((host, int(port))) for _ in range(8)]
idle[0].sendall(b"GET /met")
t0 = time.monotonic()
st, h, body = get("/metrics", timeout=20)
dt = time.monotonic() - t0
assert st == 200 and 3 < dt < 15, (st, dt)
PY
	wait "$pid"
	got=$?
	[ "$got" = 0 ] || fail "klptop exit $got: $(cat "$work/err")" || return 1
	[ "$(wc -l <"$work/err")" = 1 ] || fail "stderr: $(cat "$work/err")"
}

# Addresses: numeric only, IPv6 in brackets, a bare port is loopback.
t_listen_addresses() {
	local pid
	expect_error 2 "listen localhost:9: not a numeric ADDR:PORT" \
		"$klptop" --replay "$fix/vm-recording" --listen localhost:9 || return 1
	expect_error 2 "listen ::1:9: not a numeric" \
		"$klptop" --replay "$fix/vm-recording" --listen ::1:9 || return 1
	expect_error 2 "listen 70000: not a numeric" \
		"$klptop" --replay "$fix/vm-recording" --listen 70000 || return 1
	"$klptop" --replay "$fix/vm-recording" -n 1 --listen 0 2>"$work/err" >/dev/null ||
		fail "--listen 0: exit $?" || return 1
	grep -q "^klptop: serving http://127.0.0.1:[0-9]*/metrics$" "$work/err" ||
		fail "a bare port: $(cat "$work/err")" || return 1
	if [ -e /proc/net/if_inet6 ]; then
		"$klptop" --replay "$fix/vm-recording" -n 1 --listen '[::1]:0' 2>"$work/err" >/dev/null ||
			fail "--listen [::1]:0: exit $?: $(cat "$work/err")" || return 1
		grep -q "^klptop: serving http://\[::1\]:[0-9]*/metrics$" "$work/err" ||
			fail "[::1]: $(cat "$work/err")" || return 1
	fi
	# the port is taken: one line, exit 2
	python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(10)' >"$work/port" &
	pid=$!
	loop_until 5 test -s "$work/port" || return 1
	expect_error 2 "cannot listen: Address already in use" \
		"$klptop" --replay "$fix/vm-recording" -n 1 --listen "$(cat "$work/port")"
	kill "$pid"
}

# ------------------------- the scripted flow when the patch is gone

# A fake system (fakesys.c on lib/tests/fake_tracefs.h): the patch's
# directory is gone, its module (tainted K) still loaded, as after a
# disable, an atomic replace or a force.  fake ARGS...: klptop on it;
# specs before --, see fakesys.c.
fakesys=$work/fakesys
fakedir=$work/fakedir
export fakesys fakedir
fake() {
	"$fakesys" "$fakedir" "$@"
}

build_fakesys() {
	# shellcheck disable=SC2046
	cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$top/lib/tests" \
		$(pkg-config --cflags libtraceevent) -o "$fakesys" \
		"$here/fakesys.c" $(pkg-config --libs libtraceevent)
}

# expect_out RC FILE PATTERN...: the last fake run exited RC and FILE
# has every PATTERN.
expect_out() {
	local rc=$1 file=$2 p
	shift 2
	[ "$got" = "$rc" ] || fail "exit $got, expected $rc: $(cat "$work/out" "$work/err")" || return 1
	for p in "$@"; do
		grep -q -- "$p" "$file" || fail "$file lacks '$p': $(cat "$work/out" "$work/err")" || return 1
	done
}

t_gone_ready() {
	build_fakesys || return 1
	# disabled (or replaced) earlier: freed, released, refcnt 0
	fake module:lp:0:1 module:tgt:1:0 -- "$san" --disable lp \
		--wait-unload >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^lp: already disabled: its patch is gone" \
		"^lp: ready to unload" || return 1
	[ ! -s "$work/err" ] || fail "stderr: $(cat "$work/err")" || return 1
	fake module:lp:0:1 -- "$san" -p lp --wait-unload >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^lp: ready to unload" || return 1
	# -p names the module's row in frames too
	fake module:lp:0:1 -- "$san" -p lp -b -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^lp  *0 .* ready$"
}

t_gone_unknown() {
	build_fakesys || return 1
	expect_error 2 "no livepatch named 'nope'" fake module:lp:0:1 -- \
		"$san" --disable nope --wait-unload --unload --yes || return 1
	expect_error 2 "no livepatch named 'nope'" fake module:lp:0:1 -- \
		"$san" -p nope --wait-unload || return 1
	expect_error 2 "'tgt' is a loaded module but not a livepatch" fake \
		module:tgt:1:0 -- "$san" --disable tgt --wait-unload || return 1
	# a livepatch module in its init: its patch is not registered yet
	expect_error 2 "lp is still loading" fake module:lp:1:1 \
		initstate:lp:coming -- "$san" --disable lp --wait-unload || return 1
	# nothing to force once the patch is gone
	expect_error 2 "lp is not in transition" fake module:lp:1:1 -- \
		"$san" --force lp --yes
}

# The event source in each frame's header (-b source, JSON source, the
# screen's header): native when the fake tracefs has the klp events and
# neither /sys/module/klptrace nor /sys/kernel/klptrace exists (the
# kernel's own, kernel/native/), klptrace.ko when either does, fallback
# with --fallback, unknown (null) in a replay, which does not say.
t_event_source() {
	local spec=(patch:lp:1:0 module:lp:1:1)
	build_fakesys || return 1
	fake "${spec[@]}" -- "$san" -b -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^klptop .*  mode events  source native  events " || return 1
	fake "${spec[@]}" -- "$san" --json -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" '"mode":"events","source":"native",' || return 1
	fake "${spec[@]}" module:klptrace:1:0 -- "$san" -b -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^klptop .*  mode events  source klptrace.ko  events " || return 1
	fake "${spec[@]}" file:sys/kernel/klptrace/missed:0 -- "$san" --json -n 1 \
		>"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" '"mode":"events","source":"klptrace.ko",' || return 1
	fake "${spec[@]}" -- "$san" -b -n 1 --fallback >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^klptop .*  mode fallback  source fallback  events " || return 1
	"$san" -b -n 1 --replay "$fix/vm-recording" >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^klptop .*  mode replay  source unknown  events " || return 1
	"$san" --json -n 1 --replay "$fix/vm-recording" >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" '"mode":"replay","source":null,' || return 1
	# the screen's header names it too
	start_fake_screen "${spec[@]}" --
	loop_until 10 screen_has "F10Quit" || fail "no screen: $(cat "$work/err")" || return 1
	screen_has "native: the kernel's klp events" ||
		fail "header: $(tmx capture-pane -p -t top | head -2)" || return 1
	quit_clean
}

# --status (status.c): the state of each patch and the exit code, on a
# fake sysfs/procfs per state (6.1 rules, README "Roll out a patch").
# status_is RC STATUS ROW...: the last fake run exited RC, its first line
# says STATUS and exit RC, each ROW ("NAME STATUS ...", whole fields) a
# line's start, and there is no other line.
status_is() {
	local rc=$1 st=$2 r
	shift 2
	expect_out "$rc" "$work/out" "^status $st  exit $rc  mode " || return 1
	for r in "$@"; do
		grep -q "^$r\(  \|\$\)" "$work/out" || fail "no row '$r': $(cat "$work/out")" || return 1
	done
	[ "$(wc -l <"$work/out")" = $(($# + 1)) ] || fail "not one line per row: $(cat "$work/out")" || return 1
	[ ! -s "$work/err" ] || fail "stderr: $(cat "$work/err")"
}

t_status_states() {
	build_fakesys || return 1
	local t=(task:100:1:0 task:101:0:0 task:2:1:1)
	fake task:100:-1:0 -- "$san" --status >"$work/out" 2>"$work/err"
	got=$?
	status_is 0 ok || return 1
	grep -q "  patches 0$" "$work/out" || fail "$(cat "$work/out")" || return 1
	# enabled, no transition
	fake patch:lp:1:0 module:lp:1:1 task:100:1:0 -- "$san" --status \
		>"$work/out" 2>"$work/err"
	got=$?
	status_is 0 ok "lp ok  enabled 1  state -" || return 1
	# a transition, either way (the tasks at 0 and 1: it started)
	fake patch:lp:1:1 module:lp:1:1 "${t[@]}" -- "$san" --status >"$work/out" 2>"$work/err"
	got=$?
	status_is 1 transition "lp transition  enabled 1  state patching  switched 2/3" || return 1
	fake patch:lp:0:1 module:lp:1:1 "${t[@]}" -- "$san" --status >"$work/out" 2>"$work/err"
	got=$?
	status_is 1 transition "lp transition  enabled 0  state unpatching  switched 1/3" || return 1
	# disabled, its free work to come; directory gone, module loaded
	fake patch:lp:0:0 module:lp:1:1 task:100:-1:0 -- "$san" --status \
		>"$work/out" 2>"$work/err"
	got=$?
	status_is 1 waiting "lp waiting  enabled 0" || return 1
	fake module:lp:0:1 -- "$san" --status >"$work/out" 2>"$work/err"
	got=$?
	status_is 1 waiting "lp waiting  enabled 0  state -  switched -  forced no  refcnt 0  verdict ready  why rmmod is safe now" || return 1
	# a reference no module holds, directory gone: forced
	fake module:lp:1:1 -- "$san" --status >"$work/out" 2>"$work/err"
	got=$?
	status_is 3 forced "lp forced  enabled 0  state -  switched -  forced ?  refcnt 1  verdict refs" || return 1
	# ... but not one a holder accounts for, nor a module's init's
	fake module:lp:1:1 holder:lp:other -- "$san" --status >"$work/out" 2>"$work/err"
	got=$?
	status_is 1 waiting "lp waiting" || return 1
	fake module:lp:1:1 initstate:lp:coming -- "$san" --status >"$work/out" 2>"$work/err"
	got=$?
	status_is 1 waiting "lp waiting" || return 1
	# a module being unloaded reads refcnt 0 or not: waiting
	fake module:lp:1:1 initstate:lp:going -- "$san" --status >"$work/out" 2>"$work/err"
	got=$?
	status_is 1 waiting "lp waiting" || return 1
	# not a livepatch module (no K): no row
	fake module:tgt:1:0 -- "$san" --status >"$work/out" 2>"$work/err"
	got=$?
	status_is 0 ok
}

# The most severe row wins: forced (3) over a transition (1) over ok
# (0); -p asks about one patch; --fallback says its source; --json is
# one document with the same answer.
t_status_precedence() {
	build_fakesys || return 1
	local spec=(patch:lp:1:1 module:lp:1:1 module:old:1:1 module:gone:0:1
		patch:ok:1:0 module:ok:1:1 task:100:1:0 task:101:0:0)
	fake "${spec[@]}" -- "$san" --status >"$work/out" 2>"$work/err"
	got=$?
	status_is 3 forced "lp transition" "old forced" "gone waiting" "ok ok" || return 1
	fake "${spec[@]}" -- "$san" --status -p lp >"$work/out" 2>"$work/err"
	got=$?
	status_is 1 transition "lp transition" || return 1
	fake "${spec[@]}" -- "$san" --status -p gone >"$work/out" 2>"$work/err"
	got=$?
	status_is 1 waiting "gone waiting" || return 1
	fake "${spec[@]}" -- "$san" --status -p ok --fallback >"$work/out" 2>"$work/err"
	got=$?
	status_is 0 ok "ok ok" || return 1
	grep -q "^status ok  exit 0  mode fallback  kernel .*  patches 1$" "$work/out" ||
		fail "not the fallback: $(cat "$work/out")" || return 1
	fake "${spec[@]}" -- "$san" --status --json >"$work/out" 2>"$work/err"
	got=$?
	[ "$got" = 3 ] || fail "--json exit $got: $(cat "$work/out" "$work/err")" || return 1
	python3 - "$work/out" <<'PY' || return 1
import json, sys
text = open(sys.argv[1]).read()
assert text.count("\n") == 1, "not one line: %r" % text
d = json.loads(text)
assert (d["status"], d["exit"], d["mode"]) == ("forced", 3, "events"), d
rows = {p["name"]: p for p in d["patches"]}
want = {"lp": "transition", "old": "forced", "gone": "waiting", "ok": "ok"}
assert {n: p["status"] for n, p in rows.items()} == want, rows
# the frame's fields (json.c), the same as --json's
assert rows["lp"]["direction"] == "patching" and rows["lp"]["switched"] == 1
assert rows["old"]["module"] == {"loaded": True, "refcnt": 1}
assert rows["old"]["forced"] is None and rows["gone"]["forced"] is False
PY
	# a name that is neither a patch nor a livepatch module: 2, one line
	expect_error 2 "no livepatch named 'nope'" fake "${spec[@]}" -- \
		"$san" --status -p nope
}

t_status_usage() {
	for a in -b "-n 1" "--replay $fix/vm-recording" "--record $work/r" \
		"--openmetrics $work/m.prom" "--listen 9" "--disable x" \
		"--force x --yes" "-p x --wait-unload"; do
		# shellcheck disable=SC2086 # split on purpose
		expect_error 2 "--status is one answer about the running kernel" \
			"$klptop" --status $a || return 1
	done
}

# A function name of 200 bytes (6.1 KSYM_NAME_LEN is 512: long Rust and
# .constprop/.isra names; a directory entry holds 255) is shown whole
# in -b and --json (review F6: klptop cut it at 127).
t_long_func_name() {
	local long
	build_fakesys || return 1
	long=$(printf 'f%.0s' $(seq 200))
	fake patch:lp:1:0 module:lp:1:1 "func:lp:vmlinux:$long,2:1" -- \
		"$san" -b -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^  func vmlinux/$long,2 live yes runs lp$" || return 1
	fake patch:lp:1:0 module:lp:1:1 "func:lp:vmlinux:$long,2:1" -- \
		"$san" --json -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "\"func\":\"$long\",\"sympos\":2"
}

# Joined while a transition runs (issue 10 items 3, 7).  sysfs says
# enabled 0, transition 1 and every task is at 0: an enable before its
# start or the end of a disable, the direction is unknown, so are pass,
# elapsed, signals, switched and the blockers: "?" in -b, null in JSON.
# A task still at 1 says a started unpatch: its direction and blockers
# are known, its pass and signals (before the session) are not.
t_joined_window() {
	build_fakesys || return 1
	fake patch:lp:0:1 module:lp:2:1 task:100:0:0 task:2:0:1 -- \
		"$san" -b -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" \
		"^lp  *0  *?  *?  *?  *?/2  *? no  *2 transition$" \
		"direction not known" "blockers: ? of 2 tasks" || return 1
	fake patch:lp:0:1 module:lp:2:1 task:100:0:0 task:2:0:1 -- \
		"$san" --json -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" '"enabled":false' '"phase":"unknown"' \
		'"target":null' '"pass":null' '"elapsed_s":null' \
		'"switched":null' '"pending":null' '"signals":null' \
		'"blockers_total":null,"blockers":\[\]' || return 1
	fake patch:lp:0:1 module:lp:2:1 task:100:1:0 task:2:0:1 -- \
		"$san" --json -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" '"direction":"unpatching"' \
		'"phase":"started"' '"target":"unpatched"' '"pass":null' \
		'"signals":null' '"switched":1' '"blockers_total":1' \
		'"tgid":100,"tid":100,"pid":100,"comm":"t100","kthread":false'
}

# Unknown is ? in -b and null in --json, never false or 0: a module row
# whose patch the session never knew (forced unknown unless refcnt 0,
# which a forced patch's module never reaches); a blocker of a joined
# transition with no check seen (blocked time and checks unknown).
t_unknown_values() {
	build_fakesys || return 1
	fake module:lp:1:1 -- "$san" --json -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" '"forced":null' '"refcnt":1' || return 1
	python3 -c 'import json,sys; json.loads(sys.stdin.readline())' \
		<"$work/out" || fail "not JSON: $(cat "$work/out")" || return 1
	fake module:lp:1:1 -- "$san" -b -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^lp  *0  *-  *0  *-  *-  *0 ?  *1 refs$" ||
		return 1
	fake module:lp:0:1 -- "$san" --json -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" '"forced":false' '"refcnt":0' || return 1
	fake patch:lp:0:1 module:lp:2:1 task:100:1:0 task:2:0:1 -- \
		"$san" --json -n 2 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" '"blocked_s":null,"blocked_s_since_open":null' \
		'"checks":null,"checks_since_open":0}' || return 1
	python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' \
		<"$work/out" || fail "not JSON: $(cat "$work/out")" || return 1
	fake patch:lp:0:1 module:lp:2:1 task:100:1:0 task:2:0:1 -- \
		"$san" -b -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" " 100  *100 t100 .*  ?  *?$"
}

# Joined a started transition (issue 19): the idle task of every
# possible CPU counts (the kernel walks them), its state unknown (not in
# procfs): SWITCHED is a lower bound, >=1/4 in -b, null with
# switched_at_least and state_unknown in JSON; no idle task is a blocker.
t_joined_idle() {
	build_fakesys || return 1
	fake patch:lp:0:1 module:lp:2:1 task:100:1:0 task:2:0:1 \
		possible:0-1 -- "$san" -b -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^lp  *0  *unpatching  *?  *?  *>=1/4 " \
		"blockers: 1 of 4 tasks not switched, some of unknown state" ||
		return 1
	fake patch:lp:0:1 module:lp:2:1 task:100:1:0 task:2:0:1 \
		possible:0-1 -- "$san" --json -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" \
		'"switched":null,"switched_at_least":1,"state_unknown":2' \
		'"total":4' '"blockers_total":1' '"tasks":4'
}

# A late joiner's counters are its own (issue 19): one blocked check
# seen in a transition joined under way is "at least 1" (>=1, >=T in -b;
# null with checks_since_open 1 and blocked_s_since_open in JSON), never
# the kernel's count.
t_joined_checks() {
	build_fakesys || return 1
	fake patch:lp:0:1 module:lp:2:1 task:100:1:0 task:2:0:1 \
		blocked:100:lp:0 -- "$san" -b -n 2 -d 0.1 >"$work/out" \
		2>"$work/err"
	got=$?
	expect_out 0 "$work/out" " 100  *100 t100 .* running .*>=[0-9.]*s  *>=1$" ||
		return 1
	fake patch:lp:0:1 module:lp:2:1 task:100:1:0 task:2:0:1 \
		blocked:100:lp:0 -- "$san" --json -n 2 -d 0.1 >"$work/out" \
		2>"$work/err"
	got=$?
	expect_out 0 "$work/out" '"reason":"running"' \
		'"blocked_s":null,"blocked_s_since_open":[0-9.]*' \
		'"checks":null,"checks_since_open":1}'
}

# The directory is gone before the free work's module_put (6.1:
# klp_free_patch_finish): a wait, then READY once the reference drops.
t_gone_window() {
	local pid d
	build_fakesys || return 1
	rm -f "$work/fakedir"
	fake module:lp:1:1 -- "$san" --fallback -p lp --wait-unload \
		>"$work/out" 2>"$work/err" &
	pid=$!
	loop_until 10 grep -q "lp: refs: 1 reference" "$work/out" ||
		fail "no progress line: $(cat "$work/out" "$work/err")" || return 1
	d=$(cat "$work/fakedir")
	echo 0 >"$d/root/sys/module/lp/refcnt"
	wait "$pid"
	got=$?
	expect_out 0 "$work/out" "^lp: ready to unload" || return 1
	! grep -q "lp was forced:" "$work/out" "$work/err" || fail "said forced: $(cat "$work/out" "$work/err")"
}

t_gone_forced() {
	build_fakesys || return 1
	# a forced patch keeps its module's reference for good
	fake module:lp:1:1 -- "$san" --disable lp --wait-unload --unload \
		--yes >"$work/out" 2>"$work/err"
	got=$?
	expect_out 1 "$work/err" "lp was forced, or is held by another user: its patch is gone but its module keeps 1 reference" || return 1
	[ "$(wc -l <"$work/err")" = 1 ] || fail "stderr: $(cat "$work/err")" || return 1
	! grep -q "unloaded" "$work/out" || fail "unloaded: $(cat "$work/out")" || return 1
	# a reference another module holds (holders/) is no force: a wait
	fake module:lp:1:1 holder:lp:other -- "$san" -p lp --wait-unload \
		--timeout 5 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 1 "$work/out" "^timeout after" || return 1
	! grep -q "lp was forced:" "$work/out" "$work/err" || fail "said forced: $(cat "$work/out" "$work/err")" || return 1
	# nor is the reference a module holds during its init
	fake module:lp:1:1 initstate:lp:coming -- "$san" -p lp --wait-unload \
		--timeout 5 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 1 "$work/out" "^timeout after" || return 1
	! grep -q "lp was forced:" "$work/out" "$work/err" || fail "said forced: $(cat "$work/out" "$work/err")"
}

# With a --timeout the flow waits until it before it says "forced": a
# reference of another user (an open file whose owner is the module, a
# try_module_get()) may still go, and then the module is ready.
t_gone_held_timeout() {
	local pid d
	build_fakesys || return 1
	rm -f "$work/fakedir"
	# the timeout is only a bound here (the refcnt drops after 4 s):
	# generous, for an ASan build on a loaded host
	fake module:lp:1:1 -- "$san" --fallback -p lp --wait-unload \
		--timeout 90 >"$work/out" 2>"$work/err" &
	pid=$!
	# a progress line from 4 s on (a loaded host may skip a second)
	loop_until 10 grep -Eq "^\[ *([4-9]|[1-9][0-9]+)s\] lp: refs: 1 reference" "$work/out" ||
		fail "no progress at 4s: $(cat "$work/out" "$work/err")" || return 1
	d=$(cat "$work/fakedir")
	echo 0 >"$d/root/sys/module/lp/refcnt"
	wait "$pid"
	got=$?
	expect_out 0 "$work/out" "^lp: ready to unload" || return 1
	[ ! -s "$work/err" ] || fail "stderr: $(cat "$work/err")" || return 1
	# kept to the end: one line says what it may be
	fake module:lp:1:1 -- "$san" --fallback -p lp --wait-unload \
		--timeout 6 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 1 "$work/err" "lp was forced, or is held by another user" || return 1
	[ "$(wc -l <"$work/err")" = 1 ] || fail "stderr: $(cat "$work/err")" || return 1
	expect_out 1 "$work/out" "^timeout after 6s"
}

# The last slice before the timeout is rounded up: a slice truncated to
# 0 ms returned at once and printed a progress line per turn.
t_timeout_last_ms() {
	local t n
	build_fakesys || return 1
	for t in 1.0005 1.0006 1.0007 1.0008 1.0009; do
		fake module:lp:1:1 holder:lp:other -- "$san" -p lp \
			--wait-unload --timeout "$t" >"$work/out" 2>"$work/err"
		got=$?
		expect_out 1 "$work/out" "^timeout after 1s" || return 1
		n=$(grep -c '^\[' "$work/out")
		[ "$n" -le 1 ] || fail "--timeout $t: $n progress lines" || return 1
	done
}

# An enable's pre-patch window (6.1 __klp_enable_patch() before
# patch->enabled = true, under klp_mutex): enabled 0, transition 1, every
# task at 0.  A 0 written then waits for klp_mutex and reverses the
# enable; the flow must write it (enabled newer than the files the fake
# made after it), not say "already disabled".
t_disable_window() {
	local pid d lp
	build_fakesys || return 1
	rm -f "$work/fakedir"
	fake patch:lp:0:1 module:lp:2:1 task:100:0:0 -- "$san" --disable lp \
		--wait-unload --timeout 3 >"$work/out" 2>"$work/err" &
	pid=$!
	loop_until 10 grep -q "^\[   1s\]" "$work/out" ||
		fail "no progress line: $(cat "$work/out" "$work/err")" || return 1
	d=$(cat "$work/fakedir")
	lp=$d/root/sys/kernel/livepatch/lp
	[ "$lp/enabled" -nt "$lp/force" ] || fail "enabled not written" || return 1
	wait "$pid"
	got=$?
	expect_out 1 "$work/out" "^lp: disabled: the unpatch transition started" || return 1
	! grep -q "already disabled" "$work/out" || fail "said already disabled: $(cat "$work/out")"
}

# modobj NAME INFO...: an ELF64 relocatable object whose .modinfo holds
# name=NAME and the INFO strings, as a module's (klpt_patch_load reads
# only that), in $work/NAME.ko, root's and writable by its owner only.
modobj() {
	local name=$1 i src=$work/$1.c
	shift
	{
		echo "__attribute__((section(\".modinfo\"), used))"
		printf 'static const char info[] = "name=%s' "$name"
		for i in "$@"; do printf '\\0%s' "$i"; done
		echo '";'
	} >"$src"
	cc -c -o "$work/$name.ko" "$src" && chmod 0644 "$work/$name.ko"
}

# --load: what the library refuses before the kernel sees the file is
# one line with the errno's name, exit 2, nothing on stdout.
t_load_refused() {
	build_fakesys || return 1
	modobj plain || return 1
	modobj lp livepatch=Y || return 1
	expect_error 2 "(EINVAL): .*not a livepatch module" \
		fake task:100:1:0 -- "$san" --load "$work/plain.ko" || return 1
	ln -sf "$work/lp.ko" "$work/link.ko"
	expect_error 2 "(ELOOP): .*a symbolic link" \
		fake task:100:1:0 -- "$san" --load "$work/link.ko" || return 1
	cp "$work/lp.ko" "$work/open.ko" && chmod 0666 "$work/open.ko"
	expect_error 2 "(EPERM): .*writable by group or others" \
		fake task:100:1:0 -- "$san" --load "$work/open.ko" --wait-complete || return 1
	echo "not an ELF" >"$work/text.ko"
	expect_error 2 "(ENOEXEC): .*not a kernel module" \
		fake task:100:1:0 -- "$san" --load "$work/text.ko" || return 1
	expect_error 2 "(EEXIST): module lp is loaded already" \
		fake module:lp:1:1 task:100:1:0 -- "$san" --load "$work/lp.ko" || return 1
	expect_error 2 "(ENOENT)" \
		fake task:100:1:0 -- "$san" --load "$work/none.ko"
}

# A module being unloaded (initstate going; delete_module() says EBUSY
# meanwhile) with refcnt 0: wait until it is gone, exit 0, no rmmod.
t_going() {
	local pid d
	build_fakesys || return 1
	rm -f "$work/fakedir"
	fake module:lp:0:1 initstate:lp:going -- "$san" --fallback -p lp \
		--wait-unload --unload --yes >"$work/out" 2>"$work/err" &
	pid=$!
	loop_until 10 grep -q "being unloaded" "$work/out" ||
		fail "no being unloaded line: $(cat "$work/out" "$work/err")" || return 1
	d=$(cat "$work/fakedir")
	rm -rf "$d/root/sys/module/lp"
	wait "$pid"
	got=$?
	expect_out 0 "$work/out" "^lp: no longer loaded" || return 1
	[ ! -s "$work/err" ] || fail "stderr: $(cat "$work/err")" || return 1
	! grep -q "ready to unload\|unloaded$" "$work/out" || fail "unload tried: $(cat "$work/out")"
}

# --record on a full disk (issue 12 item 7): the recording ends there,
# tracing goes on.  RLIMIT_FSIZE (SIGXFSZ ignored) stands for the full
# disk: room for the recording's small files and two pages of cpu0,
# then the fixture's pages (real ones) are put in the fake instance's
# pipe file.  record_full ARGS...: klptop ARGS --record on it in the
# background, the pages written once its recording exists; $pid is set.
record_full() {
	local pipe= t
	rm -rf "$work/fakedir" "$work/rec"
	(trap '' XFSZ; exec prlimit --fsize=8192 -- "$fakesys" "$work/fakedir" \
		patch:lp:0:1 module:lp:2:1 task:100:0:0 -- "$san" "$@" \
		--record "$work/rec" >"$work/out" 2>"$work/err") &
	pid=$!
	t=$(($(date +%s) + 10))
	until [ -f "$pipe" ] && [ -e "$work/rec/klptrace-recording" ]; do
		[ "$(date +%s)" -lt "$t" ] || fail "no recording: $(cat "$work/err")" || return 1
		[ -s "$work/fakedir" ] &&
			pipe=$(echo "$(cat "$work/fakedir")"/tracing/instances/*/per_cpu/cpu0/trace_pipe_raw)
		sleep 0.1
	done
	for t in 1 2 3; do
		cat "$fix/vm-recording/per_cpu/cpu0/trace_pipe_raw" >>"$pipe"
	done
}

t_record_full() {
	local pid
	build_fakesys || return 1
	record_full -b -d 0.2 -n 10 || return 1
	wait "$pid"
	got=$?
	expect_out 0 "$work/err" "^klptop: recording into $work/rec stopped: File too large; tracing goes on$" || return 1
	[ "$(wc -l <"$work/err")" = 1 ] || fail "stderr: $(cat "$work/err")" || return 1
	[ "$(grep -c "^klptop " "$work/out")" = 10 ] || fail "not 10 frames: $(cat "$work/out")" || return 1
	# what was written replays
	"$klptop" --replay "$work/rec" -b -n 1 >/dev/null || fail "the recording does not replay"
}

# An untrusted recording (issue 12 item 5): a FIFO or a link to
# /dev/zero for a CPU's pages hung klptop in open() or forever; now one
# line naming the file, exit 2, well within the timeout.
t_replay_shapes() {
	local d=$work/shapes
	rm -rf "$d" && cp -r "$fix/vm-recording" "$d"
	rm "$d/per_cpu/cpu1/trace_pipe_raw" && mkfifo "$d/per_cpu/cpu1/trace_pipe_raw"
	expect_error 2 "cpu1/trace_pipe_raw: not a regular file" \
		timeout -k 2 10 "$san" --replay "$d" -b -n 1 || return 1
	ln -sf /dev/zero "$d/per_cpu/cpu1/trace_pipe_raw"
	expect_error 2 "cpu1/trace_pipe_raw: not a regular file" \
		timeout -k 2 10 "$san" --replay "$d" -b -n 1
}

# In the scripted flow it stopped between --disable and --unload.
t_record_full_script() {
	local pid
	build_fakesys || return 1
	record_full --disable lp --wait-unload --timeout 2 || return 1
	wait "$pid"
	got=$?
	expect_out 1 "$work/out" "^lp: disabled: the unpatch transition started" \
		"^timeout after 2s" || return 1
	expect_out 1 "$work/err" "^klptop: recording into $work/rec stopped: File too large; tracing goes on$"
}

# ------------------------------------------------------- on a terminal

# start_screen COLS ROWS ARGS...: klptop-san on a tmux terminal; its exit
# code goes to $work/rc, its stderr to $work/err, then `stty -a`.
start_screen() {
	local cols=$1 rows=$2
	shift 2
	rm -f "$work/rc" "$work/stty"
	tmx_stop
	screen_n=$((screen_n + 1))
	tmx new-session -d -s top -x "$cols" -y "$rows" \
		"$san $* 2>$work/err; echo \$? >$work/rc; stty -a >$work/stty; sleep 60"
}

screen_has() {	# TEXT: the pane shows TEXT
	tmx capture-pane -p -t top | grep -q -- "$1"
}

# step_until TEXT: a paused replay stepped event by event (.) until the
# pane shows TEXT, for 60 s at most (the caller checks it then).
step_until() {
	local end=$(($(date +%s) + 60))
	until screen_has "$1"; do
		[ "$(date +%s)" -lt "$end" ] || break
		tmx send-keys -t top .
		sleep 0.02
	done
}

exited() {
	[ -s "$work/rc" ] && [ -s "$work/stty" ]
}

# The terminal is as before: canonical input and echo are back.
terminal_sane() {
	grep -qw icanon "$work/stty" && grep -qw echo "$work/stty" ||
		fail "terminal left broken: $(cat "$work/stty")"
}

t_screen_replay() {
	local pid func
	pid=$(cat "$cap/sleeper_pid")
	func=$(sed -n "s/.*klp_task_blocked: pid=$pid .* func=\([^ ]*\).*/\1/p" "$cap/trace.txt" | head -n 1)
	[ -n "$func" ] || fail "fixture: no blocked event of $pid" || return 1
	start_screen 80 24 --replay "$fix/vm-recording" --speed 0
	loop_until 10 screen_has "paused" || fail "no screen: $(cat "$work/err")" || return 1
	step_until "klpt_sleeper"
	loop_until 5 screen_has "^ *$pid  *$pid klpt_sleeper" ||
		fail "no blocker row for pid $pid: $(tmx capture-pane -p -t top)" || return 1
	tmx capture-pane -p -t top | grep "^ *$pid  *$pid klpt_sleeper" | grep -q "sleeping *$func" ||
		fail "blocker row lacks 'sleeping $func': $(tmx capture-pane -p -t top)" || return 1
	# the detail view of the selected blocker, with its history
	tmx send-keys -t top Tab Enter
	loop_until 5 screen_has "task klpt_sleeper\[$pid\]" || fail "no detail view" || return 1
	loop_until 5 screen_has "task_blocked klpt_sleeper\[$pid\] sleeping in $func" ||
		fail "detail lacks the history: $(tmx capture-pane -p -t top)" || return 1
	tmx send-keys -t top Escape
	loop_until 5 screen_has "F10Quit" || fail "detail did not close" || return 1
	# actions are refused in a replay, with the reason
	tmx send-keys -t top d
	loop_until 5 screen_has "read-only (a replay): disable is off" ||
		fail "d in a replay: $(tmx capture-pane -p -t top)" || return 1
	# help, then the filter: a pid that is not there empties the panel
	tmx send-keys -t top '?'
	loop_until 5 screen_has "klptop keys" || fail "no help" || return 1
	tmx send-keys -t top x / 9 9 9 9 Enter
	loop_until 5 screen_has "no blocker matches the filter" || fail "filter" || return 1
	tmx send-keys -t top / Escape
	loop_until 5 screen_has "^ *$pid  *$pid klpt_sleeper" || fail "filter not cleared" || return 1
	# play to the end: the patch goes away as in snap/end
	tmx send-keys -t top + + + + + + ' '
	loop_until 30 screen_has "no livepatch loaded" || fail "replay did not reach the end: $(tmx capture-pane -p -t top)" || return 1
	tmx send-keys -t top q
	loop_until 10 exited || fail "q did not quit" || return 1
	[ "$(cat "$work/rc")" = 0 ] || fail "exit $(cat "$work/rc"): $(cat "$work/err")" || return 1
	[ ! -s "$work/err" ] || fail "stderr: $(cat "$work/err")" || return 1
	terminal_sane
}

# start_fake_screen SPECS... -- ARGS...: as start_screen (100x30), on
# the fake system of SPECS (fakesys).
start_fake_screen() {
	local specs=()
	while [ "$1" != -- ]; do specs+=("$1"); shift; done
	shift
	rm -f "$work/rc" "$work/stty" "$work/fakedir"
	tmx_stop
	screen_n=$((screen_n + 1))
	tmx new-session -d -s top -x 100 -y 30 \
		"$fakesys $work/fakedir $(printf '%q ' "${specs[@]}")-- $san $* 2>$work/err; echo \$? >$work/rc; stty -a >$work/stty; sleep 60"
}

# key_shows TEXT KEY...: the keys sent, the pane shows TEXT within 5 s.
key_shows() {
	local text=$1
	shift
	tmx send-keys -t top "$@"
	loop_until 5 screen_has "$text" ||
		fail "keys $*: $(tmx capture-pane -p -t top)"
}

# quit_clean: q quits with exit 0 and the terminal restored.
quit_clean() {
	tmx send-keys -t top q
	loop_until 10 exited || fail "q did not quit" || return 1
	[ "$(cat "$work/rc")" = 0 ] || fail "exit $(cat "$work/rc"): $(cat "$work/err")" || return 1
	terminal_sane
}

# d in an enable's pre-patch window (enabled 0, transition 1, every task
# at 0: see t_disable_window) asks and writes 0; u on a module being
# unloaded (initstate going, refcnt 0: delete_module() says EBUSY) says
# so instead of trying.
t_screen_keys_window() {
	local lp
	build_fakesys || return 1
	start_fake_screen patch:lp:0:1 module:lp:2:1 task:100:0:0 -- -p lp
	loop_until 10 screen_has "F10Quit" || fail "no screen: $(cat "$work/err")" || return 1
	key_shows "Disable lp: start its unpatch" d || return 1
	key_shows "lp: disabled; watch" y || return 1
	lp=$(cat "$work/fakedir")/root/sys/kernel/livepatch/lp
	[ "$lp/enabled" -nt "$lp/force" ] || fail "enabled not written" || return 1
	tmx send-keys -t top q
	loop_until 10 exited || fail "q did not quit" || return 1
	start_fake_screen module:lp:0:1 initstate:lp:going -- -p lp
	loop_until 10 screen_has "F10Quit" || fail "no screen: $(cat "$work/err")" || return 1
	key_shows "lp is being unloaded (initstate going)" u || return 1
	quit_clean
}

# L asks for a path and loads it, the outcome in the message line (here
# a refusal: a fake system has no kernel); a replay does not offer it.
t_screen_load() {
	build_fakesys || return 1
	modobj lp livepatch=Y || return 1
	ln -sf "$work/lp.ko" "$work/link.ko"
	start_fake_screen task:100:1:0 --
	loop_until 10 screen_has "F10Quit" || fail "no screen: $(cat "$work/err")" || return 1
	key_shows "Load the livepatch module" L || return 1
	key_shows "failed (ELOOP)" "$work/link.ko" Enter || return 1
	key_shows "cancelled" L Escape || return 1
	tmx send-keys -t top q
	loop_until 10 exited || fail "q did not quit" || return 1
	start_screen 80 24 --replay "$fix/vm-recording" --speed 0
	loop_until 10 screen_has "paused" || fail "no screen: $(cat "$work/err")" || return 1
	key_shows "read-only (a replay): load is off" L || return 1
	quit_clean
}

t_screen_resize() {
	start_screen 80 24 --replay "$fix/vm-recording" --speed 0
	loop_until 10 screen_has "F10Quit" || fail "no screen" || return 1
	tmx resize-window -t top -x 50 -y 12
	loop_until 5 screen_has "terminal too small: 50x12" || fail "no too-small note: $(tmx capture-pane -p -t top)" || return 1
	tmx resize-window -t top -x 120 -y 40
	loop_until 5 screen_has "F10Quit" || fail "no redraw after growing" || return 1
	tmx send-keys -t top q
	loop_until 10 exited || fail "q did not quit" || return 1
	terminal_sane
}

t_screen_too_small() {
	start_screen 40 10 --replay "$fix/vm-recording"
	loop_until 10 exited || fail "klptop did not exit" || return 1
	[ "$(cat "$work/rc")" = 2 ] || fail "exit $(cat "$work/rc")" || return 1
	[ "$(wc -l <"$work/err")" = 1 ] && grep -q "terminal is 40x10" "$work/err" ||
		fail "stderr: $(cat "$work/err")" || return 1
	terminal_sane
}

# The klptop of this test's pane: the child of the pane's shell (a
# machine-wide pgrep would find, and signal, another test run's klptop).
screen_pid() {
	pgrep -P "$(tmx display-message -p -t top '#{pane_pid}')" -x klptop-san
}

t_screen_signals() {
	local sig num p
	for sig in INT TERM HUP; do
		num=$(kill -l "$sig")
		start_screen 80 24 --replay "$fix/vm-recording" --speed 0
		loop_until 10 screen_has "F10Quit" || fail "no screen" || return 1
		p=$(screen_pid)
		[ -n "$p" ] || fail "no klptop process" || return 1
		kill -s "$sig" "$p"
		loop_until 10 exited || fail "SIG$sig did not end klptop" || return 1
		[ "$(cat "$work/rc")" = $((128 + num)) ] ||
			fail "SIG$sig: exit $(cat "$work/rc"), expected $((128 + num))" || return 1
		terminal_sane || return 1
	done
	# SIGWINCH is a resize, not an end
	start_screen 80 24 --replay "$fix/vm-recording" --speed 0
	loop_until 10 screen_has "F10Quit" || fail "no screen" || return 1
	p=$(screen_pid)
	kill -s WINCH "$p"
	tmx send-keys -t top '?'
	loop_until 5 screen_has "klptop keys" || fail "klptop died on SIGWINCH" || return 1
	tmx send-keys -t top x q
	loop_until 10 exited && [ "$(cat "$work/rc")" = 0 ] || fail "quit after SIGWINCH"
}

# ------------------------------------------------------ hostile names

# esc.c's escapers, byte for byte (test_esc.c), with ASan and UBSan.
t_escaper() {
	# shellcheck disable=SC2046
	cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
		-Wstrict-prototypes -Wmissing-prototypes -g \
		-fsanitize=address,undefined -fno-sanitize-recover=all \
		-I"$top/lib/include" -o "$work/test_esc" "$here/test_esc.c" \
		"$top/tui/esc.c" || return 1
	"$work/test_esc"
}

# no_controls FILE: no byte of FILE is a C0 control but the newline
# ending its lines, DEL, or a C1 control (0x80-0x9f raw, or U+0080-
# U+009F); FILE is valid UTF-8.
no_controls() {
	python3 - "$1" <<'PY' || return 1
import re, sys
data = open(sys.argv[1], "rb").read()
text = data.decode("utf-8", errors="strict")
bad = re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", text)
if bad:
    sys.exit("raw control %r at %d: %r" % (bad.group(), bad.start(),
             text[max(0, bad.start() - 30):bad.start() + 30]))
PY
}

# A task whose comm holds ESC, BEL, a newline and UTF-8 (any user can
# name theirs so), blocking lp's unpatch, and a module whose name holds
# an OSC title sequence (a replay's names are anyone's): -b, --json, the
# scripted flow's lines and its stderr, and the unload why text quoting
# the comm carry no control byte and show the names as ps would (? for
# each control), UTF-8 as itself in a UTF-8 locale, ? per byte in C.
t_hostile_names() {
	local comm mod row
	comm=$(printf 'x\033[2J\a\nE\303\251')
	mod=$(printf 'm\033]0;t\a')
	row='x?\[2J??E'$(printf '\303\251')
	build_fakesys || return 1
	set -- patch:lp:0:1 module:lp:1:1 "module:$mod:0:1" \
		"task:100:1:0:$comm" task:2:0:1
	LC_ALL=C.UTF-8 fake "$@" -- "$san" -b -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^ *100  *100 $row  " \
		"still in the patch's code: $row\[100\]" "^m?\]0;t?  " || return 1
	no_controls "$work/out" || return 1
	# padded by columns: the K column under its heading (é: 2 bytes)
	python3 - "$work/out" <<'PY' || return 1
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
head = [l for l in lines if l.lstrip().startswith("PID ")][0]
row = [l for l in lines if l.lstrip().startswith("100 ")][0]
k = head.index(" K ") + 1
assert row[k] == "-" and row[k - 1] == " ", (head, row)
PY
	LC_ALL=C fake "$@" -- "$san" -b -n 1 >"$work/out" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out" "^ *100  *100 x?\[2J??E??  " || return 1
	LC_ALL=C LC_CTYPE=C fake "$@" -- "$san" --json -n 1 >"$work/out" 2>"$work/err"
	got=$?
	[ "$got" = 0 ] || fail "--json: exit $got: $(cat "$work/err")" || return 1
	python3 - "$work/out" "$comm" "$mod" <<'PY' || return 1
import json, sys
raw = open(sys.argv[1], "rb").read()
frame = json.loads(raw.decode("utf-8", errors="strict"))
comm = sys.argv[2]
mod = sys.argv[3]
lp = [p for p in frame["patches"] if p["name"] == "lp"][0]
assert lp["blockers"][0]["comm"] == comm, lp["blockers"][0]["comm"]
assert comm + "[100]" in lp["why"], lp["why"]
assert [p for p in frame["patches"] if p["name"] == mod], frame["patches"]
assert all(c >= 0x20 and c != 0x7f for c in raw[:-1]), "raw control in JSON"
PY
	LC_ALL=C.UTF-8 fake "$@" -- "$san" -p lp --wait-unload --timeout 1 \
		>"$work/out" 2>"$work/err"
	got=$?
	expect_out 1 "$work/out" "^timeout after 1s: lp: tasks: .* $row\[100\]" \
		"^    blocker $row\[100\]: " || return 1
	no_controls "$work/out" && no_controls "$work/err" || return 1
	# the screen: the row stays one row, the screen is not cleared (in
	# a UTF-8 locale, as the -b case above: a fresh system has none set)
	LC_ALL=C.UTF-8 start_fake_screen "$@" -- -p lp
	loop_until 10 screen_has "F10Quit" || fail "no screen: $(cat "$work/err")" || return 1
	loop_until 5 screen_has "^ *100  *100 $row  *- *sleeping\|^ *100  *100 $row " ||
		fail "screen row: $(tmx capture-pane -p -t top)" || return 1
	screen_has "still in the patch's code: $row\[100\]" ||
		fail "screen why: $(tmx capture-pane -p -t top)" || return 1
	tmx send-keys -t top q
	loop_until 10 exited || fail "q did not quit" || return 1
	terminal_sane
}

# ------------------------------------------------- terminal and stdio

# TERM unset, unknown or without cursor addressing: one line, exit 2,
# the terminal as it was (initscr() used to exit(1) itself, with the
# session open: in the VM, hostile_comm checks the instance is gone).
t_screen_term() {
	local t
	for t in unset nonexistent dumb; do
		rm -f "$work/rc" "$work/stty"
		tmx_stop
		screen_n=$((screen_n + 1))
		if [ "$t" = unset ]; then
			tmx new-session -d -s top -x 80 -y 24 \
				"env -u TERM $san --replay $fix/vm-recording 2>$work/err; echo \$? >$work/rc; stty -a >$work/stty; sleep 60"
		else
			tmx new-session -d -s top -x 80 -y 24 \
				"TERM=$t $san --replay $fix/vm-recording 2>$work/err; echo \$? >$work/rc; stty -a >$work/stty; sleep 60"
		fi
		loop_until 10 exited || fail "TERM $t: klptop did not exit" || return 1
		[ "$(cat "$work/rc")" = 2 ] || fail "TERM $t: exit $(cat "$work/rc"): $(cat "$work/err")" || return 1
		[ "$(wc -l <"$work/err")" = 1 ] || fail "TERM $t: stderr: $(cat "$work/err")" || return 1
		terminal_sane || return 1
	done
	grep -q "cannot move the cursor: use -b" "$work/err" || fail "dumb: $(cat "$work/err")" || return 1
	# A hardcopy terminal (hc: setupterm()'s err 1) has an entry: it
	# is no "no terminfo database" (it said so).
	mkdir -p "$work/terminfo"
	printf 'klpthc|a hardcopy terminal,\n\thc, cols#80,\n' >"$work/hc.ti"
	tic -o "$work/terminfo" "$work/hc.ti" || fail "tic failed" || return 1
	tmx_stop
	screen_n=$((screen_n + 1))
	rm -f "$work/rc" "$work/stty"
	tmx new-session -d -s top -x 80 -y 24 \
		"TERMINFO=$work/terminfo TERM=klpthc $san --replay $fix/vm-recording 2>$work/err; echo \$? >$work/rc; stty -a >$work/stty; sleep 60"
	loop_until 10 exited || fail "hardcopy: klptop did not exit" || return 1
	[ "$(cat "$work/rc")" = 2 ] || fail "hardcopy: exit $(cat "$work/rc"): $(cat "$work/err")" || return 1
	[ "$(wc -l <"$work/err")" = 1 ] && grep -q "'klpthc' (TERM) is a hardcopy terminal" "$work/err" ||
		fail "hardcopy: stderr: $(cat "$work/err")" || return 1
	terminal_sane
}

# The screen with stdin at EOF (/dev/null) or closed used to spin: poll()
# said readable, getch() said no key, forever (1.4 and 2.5 s of CPU in 3 s
# measured).  Now: one line and exit 2 at once, the terminal as it was.
t_screen_stdin() {
	local redir
	for redir in '</dev/null' '<&-'; do
		start_screen 80 24 --replay "$fix/vm-recording" "$redir"
		loop_until 5 exited || fail "stdin $redir: klptop did not exit" || return 1
		[ "$(cat "$work/rc")" = 2 ] || fail "stdin $redir: exit $(cat "$work/rc")" || return 1
		[ "$(wc -l <"$work/err")" = 1 ] && grep -q "standard input is not one" "$work/err" ||
			fail "stdin $redir: stderr: $(cat "$work/err")" || return 1
		terminal_sane || return 1
	done
}

# The terminal hangs up under the screen, SIGHUP blocked (hangup.py):
# exit 2 and one line (it spun: 2.7 s of CPU in the 10 s, measured before).
t_screen_hangup() {
	python3 "$here/hangup.py" "$san" "$fix/vm-recording" "$work/err"
}

# Closed stdout, or one that takes nothing (/dev/full): exit 2 and one
# line on stderr, for -b, --json, the screen's choice and the scripted
# flow (a reader gone, EPIPE, is no error: head -c 1).
t_stdout_errors() {
	local mode
	for mode in -b --json ""; do
		# shellcheck disable=SC2016
		expect_error 2 "standard output is closed" \
			sh -c 'exec "$0" --replay "$1" $2 -n 2 >&-' \
			"$san" "$fix/vm-recording" "$mode" || return 1
	done
	for mode in -b --json; do
		# shellcheck disable=SC2016
		expect_error 2 "cannot write to standard output: No space left" \
			sh -c 'exec "$0" --replay "$1" "$2" -n 2 >/dev/full' \
			"$san" "$fix/vm-recording" "$mode" || return 1
	done
	"$san" --replay "$fix/vm-recording" --json -d 0.1 2>"$work/err" | head -c 1 >/dev/null
	got=${PIPESTATUS[0]}
	[ "$got" = 0 ] && [ ! -s "$work/err" ] ||
		fail "a closed pipe: exit $got: $(cat "$work/err")" || return 1
	build_fakesys || return 1
	fake module:lp:0:1 -- "$san" -p lp --wait-unload >/dev/full 2>"$work/err"
	got=$?
	[ "$got" = 2 ] || fail "scripted to /dev/full: exit $got" || return 1
	# the write's own error, not stdio's made-up EIO
	[ "$(wc -l <"$work/err")" = 1 ] && grep -q "cannot write to standard output: No space left" "$work/err" ||
		fail "scripted to /dev/full: stderr: $(cat "$work/err")" || return 1
	# The scripted flow's reader gone (a pipe whose read end is closed:
	# EPIPE at the first line, deterministically): no error, the flow's
	# own exit (0 ready, 1 timeout).  It said EIO and exited 2.
	closed_pipe 0 module:lp:0:1 -- "$san" -p lp --wait-unload || return 1
	closed_pipe 1 patch:lp:0:1 module:lp:1:1 task:100:1:0:x task:2:0:1 -- \
		"$san" -p lp --wait-unload --timeout 1
}

# closed_pipe RC FAKESPEC... -- CMD...: the fake run of CMD with stdout a
# pipe nobody reads (its read end closed) exits RC, stderr empty.
closed_pipe() {
	python3 - "$@" <<'PY'
import os, subprocess, sys
rc = int(sys.argv[1])
r, w = os.pipe()
os.close(r)
p = subprocess.run([os.environ["fakesys"], os.environ["fakedir"]] + sys.argv[2:],
                   stdout=w, stderr=subprocess.PIPE, timeout=60)
if p.returncode != rc or p.stderr:
    sys.exit("stdout a closed pipe: exit %d (want %d), stderr %r" %
             (p.returncode, rc, p.stderr))
PY
}

# A non-blocking stdout (O_NONBLOCK belongs to the open pipe: another
# process on it may set it) that is full: klptop waits for the reader
# instead of failing with EAGAIN (-b) or dropping the line and saying EIO
# (the scripted flow).  The reader starts only once klptop waits on it.
# And a stop signal ends a wait on a stalled reader (a blocking pipe,
# full): exit 128+15 (the scripted flow hung in stdio's flush at exit).
t_stdout_nonblock() {
	build_fakesys || return 1
	python3 - "$san" "$fix/vm-recording" <<'PY'
import fcntl, os, signal, subprocess, sys, time
san, rec = sys.argv[1:3]
fake = [os.environ["fakesys"], os.environ["fakedir"]]

def run(cmd, stop=False):
    """cmd's exit, output and stderr, its stdout a full pipe (the reader
    behind), non-blocking; read once cmd waits on it, or if stop, the
    pipe blocking and cmd sent SIGTERM then."""
    r, w = os.pipe()
    fl = fcntl.fcntl(w, fcntl.F_GETFL)
    fcntl.fcntl(w, fcntl.F_SETFL, fl | os.O_NONBLOCK)
    try:
        while True:
            os.write(w, b"." * 4096)
    except BlockingIOError:
        pass
    if stop:
        fcntl.fcntl(w, fcntl.F_SETFL, fl)
    p = subprocess.Popen(cmd, stdout=w, stderr=subprocess.PIPE)
    os.close(w)
    end = time.monotonic() + 30
    pid = 0
    while p.poll() is None and time.monotonic() < end and not pid:
        pid = waits_on_stdout(p.pid)
        time.sleep(0.05)
    if stop and pid:
        os.kill(pid, signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            sys.exit("%s: hung after SIGTERM" % cmd)
    out = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        out += chunk
    return p.wait(), out, p.stderr.read()

def waits_on_stdout(pid):
    """pid, or its child (fakesys's), in poll() or write() on fd 1: its
    pid, or 0."""
    pids = [pid]
    try:
        pids += [int(c) for c in open("/proc/%d/task/%d/children" % (pid, pid)).read().split()]
    except OSError:
        pass
    for q in pids:
        try:
            sc = open("/proc/%d/syscall" % q).read().split()
        except OSError:
            continue
        # x86_64: 1 write (fd 1), 7 poll (one pollfd, on fd 1: a replay's
        # open also polls one descriptor, its checking child's pipe)
        if sc and ((sc[0] == "1" and int(sc[1], 16) == 1) or
                   (sc[0] == "7" and int(sc[2], 16) == 1 and
                    pollfd_fd(q, int(sc[1], 16)) == 1)):
            return q
    return 0

def pollfd_fd(pid, addr):
    """The fd of the struct pollfd at addr in pid's memory, or -1."""
    try:
        with open("/proc/%d/mem" % pid, "rb") as m:
            m.seek(addr)
            return int.from_bytes(m.read(4), "little", signed=True)
    except (OSError, ValueError, OverflowError):
        return -1

cmd = [san, "--replay", rec, "-b", "-d", "0.1", "-n", "3"]
want = subprocess.run(cmd, stdout=subprocess.PIPE, check=True).stdout
rc, out, err = run(cmd)
if rc != 0 or err or out.lstrip(b".") != want:
    sys.exit("-b: exit %d, stderr %r, %d of %d bytes" %
             (rc, err, len(out.lstrip(b".")), len(want)))
rc, out, err = run(fake + ["module:lp:0:1", "--", san, "-p", "lp", "--wait-unload"])
if rc != 0 or err or not out.endswith(b"lp: ready to unload\n"):
    sys.exit("scripted: exit %d, stderr %r, ends %r" % (rc, err, out[-40:]))
rc, out, err = run(fake + ["patch:lp:0:1", "module:lp:1:1", "task:100:1:0:x",
                           "task:2:0:1", "--", san, "-p", "lp", "--wait-unload",
                           "--timeout", "10"], stop=True)
if rc != 128 + 15:
    sys.exit("scripted, SIGTERM on a stalled reader: exit %d, stderr %r" % (rc, err))
rc, out, err = run(cmd, stop=True)
if rc != 128 + 15:
    sys.exit("-b, SIGTERM on a stalled reader: exit %d, stderr %r" % (rc, err))
PY
}

# More tests, one file per concern: tui/tests/t_CONCERN.sh defines t_NAME
# functions (with the helpers above) and lists them: more_tests+=(NAME).
more_tests=()
for f in "$here"/t_*.sh; do
	[ -e "$f" ] || continue
	# shellcheck source=/dev/null
	. "$f"
done

[ -x "$klptop" ] && [ -x "$san" ] || { echo "tui/tests/run.sh: build klptop first (make -C tui)" >&2; exit 2; }
[ -n "${ONLY:-}" ] && { for t in $ONLY; do run_test "$t" "t_$t"; done; echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }
run_test help t_help
run_test usage_errors t_usage_errors
run_test operator_strings t_operator_strings
run_test not_root t_not_root
run_test no_livepatch_no_tracefs t_no_livepatch_no_tracefs
run_test replay_batch t_replay_batch
run_test replay_json t_replay_json
run_test replay_tracedat t_replay_tracedat
run_test replay_iterations t_replay_iterations
run_test unknown_tracedat t_unknown_tracedat
run_test known_recording t_known_recording
run_test valgrind_replay t_valgrind
run_test corrupt_recordings t_corrupt_recordings
run_test openmetrics_replay t_openmetrics_replay
run_test openmetrics_names t_openmetrics_names
run_test openmetrics_top t_openmetrics_top
run_test openmetrics_links t_openmetrics_links
run_test openmetrics_race t_openmetrics_race
run_test openmetrics_full t_openmetrics_full
run_test listen t_listen
run_test listen_addresses t_listen_addresses
run_test joined_window t_joined_window
run_test unknown_values t_unknown_values
run_test gone_ready t_gone_ready
run_test long_func_name t_long_func_name
run_test gone_unknown t_gone_unknown
run_test event_source t_event_source
run_test gone_window t_gone_window
run_test gone_forced t_gone_forced
run_test gone_held_timeout t_gone_held_timeout
run_test status_states t_status_states
run_test status_precedence t_status_precedence
run_test status_usage t_status_usage
run_test timeout_last_ms t_timeout_last_ms
run_test disable_window t_disable_window
run_test going t_going
run_test load_refused t_load_refused
run_test joined_idle t_joined_idle
run_test joined_checks t_joined_checks
run_test record_full t_record_full
run_test record_full_script t_record_full_script
run_test replay_shapes t_replay_shapes
run_test screen_replay t_screen_replay
run_test screen_resize t_screen_resize
run_test screen_keys_window t_screen_keys_window
run_test screen_load t_screen_load
run_test screen_too_small t_screen_too_small
run_test screen_signals t_screen_signals
run_test escaper t_escaper
run_test hostile_names t_hostile_names
run_test screen_term t_screen_term
run_test screen_stdin t_screen_stdin
run_test screen_hangup t_screen_hangup
run_test stdout_errors t_stdout_errors
run_test stdout_nonblock t_stdout_nonblock
for t in "${more_tests[@]}"; do run_test "$t" "t_$t"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
