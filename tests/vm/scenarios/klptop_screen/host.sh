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

# Boot, modules, the blocked transition: a few seconds under TCG.
wait_for 180 'klpt_sleeper +K +sleeping +klpt_sleep_fn' || exit 1
save blocked
# the pid klptop shows (judge.py: the guest's sleeper_pid)
screen | sed -nE 's/^ *([0-9]+) +([0-9]+) klpt_sleeper .*/\1 \2/p' | head -n 1 >"$out/screen-pid"
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
exit 0
