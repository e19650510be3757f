#!/bin/bash
# The README's klptop screens, made by the program itself: klptop replays
# the committed recording of the demo (lib/tests/fixtures/vm-recording,
# the same the tui tests replay) in tmux at a fixed size, is sent fixed
# keys, and each pane is written into README.md between its markers
#
#   <!-- capture:NAME -->
#   ...                      (replaced: a fenced block of the pane)
#   <!-- /capture -->
#
# so that the README shows what klptop shows, and says so again after
# every change to it (tui/tests t_readme_captures compares them).
#
#   tui/readme-captures.sh [-o OUT] [KLPTOP]    (make readme-captures)
#
# OUT: where the README goes (default: README.md in place); KLPTOP:
# default build/tui/klptop.  A marker without a capture, a capture without
# its marker or a screen that never came is one line on stderr, exit 1.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/README.md
if [ "${1:-}" = -o ]; then
	out=$2
	shift 2
fi
klptop=$(realpath "${1:-$top/build/tui/klptop}")
die() { echo "readme-captures: $*" >&2; exit 1; }
[ -x "$klptop" ] || die "$klptop not built (make -C tui)"
command -v tmux >/dev/null || die "tmux missing (scripts/deps.sh)"

# NAME COLS ROWS KEYS...: the captures.  A key "g:TIME" is g, TIME and
# Enter: the event at or after TIME (the event log's seconds).
captures=(
	# the sleeper blocks the transition, in its third pass
	"blocked 100 22 g:3.3"
	# disabled: the reverse completed, the module's last put came
	"ready 100 22 g:4.488376"
)

# A server of our own per capture, its socket in work (a server being
# killed still answers on its socket for a moment: a new one there
# failed); -f /dev/null: no tmux.conf of the user changes the panes.
n=0
tmx() { tmux -u -f /dev/null -S "$work/tmux-$n" "$@"; }
work=$(mktemp -d) && mkdir "$work/cap" || die "no temporary directory"
trap 'tmx kill-server 2>/dev/null; rm -rf "$work"' EXIT

pane() { tmx capture-pane -p -t top; }

# wait_for TEXT: the pane shows TEXT within 20 s (a bound, not a wait).
wait_for() {
	local i
	for i in $(seq 200); do
		pane | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	die "the screen never showed '$1': $(pane | head -n 3)"
}

# capture NAME COLS ROWS KEYS...: the pane after the keys, into work/NAME.
capture() {
	local name=$1 cols=$2 rows=$3 k
	shift 3
	tmx kill-server 2>/dev/null
	n=$((n + 1))
	# the relative path is what the header shows; the locale fixes the
	# ellipsis (esc.c: ... without UTF-8)
	tmx new-session -d -s top -x "$cols" -y "$rows" \
		"cd '$top' && LC_ALL=C.UTF-8 TERM=xterm '$klptop' --replay lib/tests/fixtures/vm-recording --speed 0; sleep 60"
	wait_for "F10Quit"
	for k in "$@"; do
		case $k in
		g:*)
			tmx send-keys -t top g
			wait_for "Go to"
			tmx send-keys -t top "${k#g:}" Enter
			# its clock: where it went (its first digits)
			k=${k#g:}
			wait_for "+${k:0:5}" ;;
		*)
			tmx send-keys -t top "$k" ;;
		esac
	done
	# the frame after the last key: the same twice in a row
	local a b
	a=$(pane)
	for k in $(seq 50); do
		sleep 0.2
		b=$(pane)
		[ "$a" = "$b" ] && break
		a=$b
	done
	printf '%s\n' "$a" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$work/cap/$name"
	tmx send-keys -t top q
}

for c in "${captures[@]}"; do
	# shellcheck disable=SC2086
	capture $c
done

# Each marked block replaced by its capture, in a fenced block.
awk -v dir="$work/cap" '
	function fail(msg) { print "readme-captures: " msg > "/dev/stderr"; bad = 1; exit 1 }
	match($0, /^<!-- capture:[a-z_]+ -->$/) {
		name = substr($0, 14, length($0) - 17)
		file = dir "/" name
		if ((getline line < file) <= 0)
			fail("README marks a capture " name " the script does not make")
		print
		print "```text"
		do print line; while ((getline line < file) > 0)
		close(file)
		print "```"
		done[name] = 1
		skip = 1
		next
	}
	/^<!-- \/capture -->$/ { skip = 0 }
	!skip { print }
	END {
		if (bad)
			exit 1
		if (skip)
			fail("a capture block is not closed (<!-- /capture -->)")
		cmd = "ls " dir
		while ((cmd | getline f) > 0)
			if (!(f in done))
				fail("README has no <!-- capture:" f " --> block")
	}' "$top/README.md" >"$work/README.new" || exit 1
cp "$work/README.new" "$out"
