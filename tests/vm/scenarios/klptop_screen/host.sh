#!/bin/bash
# klptop_screen, the host side: an operator at the VM console (a tmux
# pane, run.sh run_console).  Every screen it acts on is saved as
# screen-<step>.txt in the results for judge.py (and the README's
# capture).  Waits are bounded polls of the pane.
set -u
tmx() { $KLPT_TMUX "$@"; }
out=$KLPT_RESULTS

screen() {
	tmx capture-pane -p -t "$KLPT_TMUX_TARGET"
}

# wait_for SECS REGEX: until the screen matches (grep -E); fails saying
# what the screen showed.
wait_for() {
	local end=$(($(date +%s) + $1))
	while [ "$(date +%s)" -lt "$end" ]; do
		screen | grep -Eq -- "$2" && return 0
		sleep 0.2
	done
	echo "host.sh: after $1 s the screen does not show /$2/:"
	screen
	return 1
}

keys() {
	tmx send-keys -t "$KLPT_TMUX_TARGET" "$@"
}

save() {
	screen >"$out/screen-$1.txt"
}

# frame_whole COLS ROWS: the screen is one whole klptop frame of that
# size (whole_frame.awk says what that is); a guest that did not follow
# the pane's size, or a frame drawn over another, fails it.
frame_whole() {
	screen | awk -v cols="$1" -v rows="$2" \
		-f "$(dirname "$0")/../../../../tui/tests/whole_frame.awk"
}

# resize COLS ROWS: the pane (the host terminal) changes size; within
# the bound, klptop in the guest draws a whole frame of the new size.
resize() {
	local end=$(($(date +%s) + 30))
	tmx resize-window -t "$KLPT_TMUX_TARGET" -x "$1" -y "$2"
	until frame_whole "$1" "$2"; do
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "host.sh: after a resize to $1x$2 the screen is not one whole frame:"
			screen | cat -A | head -n 60
			return 1
		fi
		sleep 0.2
	done
}

clock() {
	screen | sed -nE '1s/.* ([0-9][0-9]:[0-9][0-9]:[0-9][0-9])$/\1/p'
}

# Boot, modules, the blocked transition: a few seconds under TCG.
wait_for 180 'klpt_sleeper +K +sleeping +klpt_sleep_fn' || exit 1
save blocked
# the pid klptop shows (judge.py: the guest's sleeper_pid)
screen | sed -nE 's/^ *([0-9]+) +([0-9]+) klpt_sleeper .*/\1 \2/p' | head -n 1 >"$out/screen-pid"
# live and root: the actions are offered
screen | grep -q 'F7Disable F8Force F9Unload' || { echo "host.sh: no F7-F9:"; screen; exit 1; }
# the force prompt says what forcing costs while the name is typed
keys f
wait_for 10 'A forced module can never be unloaded\. Type klpt_lp_sleep to force' || exit 1
save force
keys Escape
wait_for 10 'cancelled' || exit 1
# the host terminal's size changes reach the guest and klptop redraws a
# whole frame each time; the clock goes on
for size in "120 40" "200 50" "100 30" "80 24"; do
	# shellcheck disable=SC2086
	resize $size || exit 1
done
save resized
t0=$(clock)
end=$(($(date +%s) + 10))
while [ "$(clock)" = "$t0" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
[ "$(clock)" != "$t0" ] || { echo "host.sh: the clock stays at $t0 after the resizes"; screen; exit 1; }
keys d
wait_for 10 'Disable klpt_lp_sleep: start its unpatch transition\? \[y/N\]' || exit 1
keys y
wait_for 10 'klpt_lp_sleep: disabled' || exit 1
save disabled
wait_for 120 'klpt_lp_sleep +0 .*READY' || exit 1
save ready
keys u
wait_for 20 'klpt_lp_sleep: unloaded' || exit 1
save unloaded
wait_for 20 'no livepatch loaded' || exit 1
keys q
# the console is left clean: no last frame under what comes next (a
# serial console, TERM=linux, has no alternate screen); the guest waits
# for Enter before it goes on to power off
end=$(($(date +%s) + 20))
while :; do
	s=$(screen) || { echo "host.sh: the console went before klptop's exit was seen"; exit 1; }
	grep -q 'F10Quit' <<<"$s" || break
	[ "$(date +%s)" -lt "$end" ] || { echo "host.sh: klptop did not quit"; exit 1; }
	sleep 0.2
done
if grep -Eq 'klptop  kernel|BLOCKERS|EVENT LOG' <<<"$s"; then
	echo "host.sh: klptop's last frame stays on the console after q:"
	echo "$s"
	exit 1
fi
echo "$s" >"$out/screen-after-q.txt"
keys Enter
exit 0
