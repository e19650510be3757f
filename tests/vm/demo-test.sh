#!/bin/bash
# `make demo`, played by a script instead of a person: tests/vm/demo.sh
# runs in a detached tmux terminal (120x40) and gets the keys the README
# tells a user to press: Enter at the guide, d and y to disable the patch
# once the blocker shows, u once the module is READY, q to quit.  Before
# d, the terminal is resized to 100x30: klptop in the guest must follow
# (demo.sh passes the size on) with one whole frame of the new size.
#
#   tests/vm/demo-test.sh            prints PASS/FAIL e2e/demo, exits 0/1
#
# It passes when every screen it waits for appears within its bound,
# demo.sh exits 0 (so klptop ran and exited 0) and the guest's own sysfs,
# read after klptop quit, says the livepatch module is gone
# (klpt_lp_sleep_loaded=0 in build/vm/demo-status.txt).  On a failure the
# last screen is printed and left in build/vm/demo-test/screen.txt.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${KLPT_BUILD_DIR:-$root/build}/vm/demo-test
status=${KLPT_BUILD_DIR:-$root/build}/vm/demo-status.txt
sock=klpt-demo-test-$$
mkdir -p "$out"
rm -f "$out/rc" "$out/screen.txt"

tm() {
	tmux -L "$sock" "$@"
}
cleanup() {
	tm kill-server 2>/dev/null
}
trap cleanup EXIT

fail() {
	tm capture-pane -p -t demo >"$out/screen.txt" 2>/dev/null
	echo "FAIL e2e/demo: $*"
	sed 's/^/    /' "$out/screen.txt" | tail -n 40
	exit 1
}

# wait_screen SECONDS PATTERN...: poll the terminal (twice a second)
# until every extended regex matches the visible screen.
wait_screen() {
	local secs=$1 deadline p ok
	shift
	deadline=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		[ -f "$out/rc" ] && fail "demo.sh ended (status $(cat "$out/rc")) while waiting for: $*"
		tm capture-pane -p -t demo >"$out/screen.txt" 2>/dev/null || true
		ok=1
		for p in "$@"; do
			grep -Eq -- "$p" "$out/screen.txt" || { ok=0; break; }
		done
		[ "$ok" = 1 ] && return 0
		sleep 0.5
	done
	fail "no screen with $* within $secs s"
}

start=$(date +%s)
tm new-session -d -s demo -x 120 -y 40 \
	"cd '$root' && tests/vm/demo.sh; echo \$? >'$out/rc'; sleep 600" ||
	fail "cannot start tmux"
wait_screen 400 'Press Enter to start klptop'
tm send-keys -t demo Enter
wait_screen 120 'klpt_lp_sleep' 'klpt_sleeper' 'sleeping'
tm resize-window -t demo -x 100 -y 30
# one header, on the first row; the F-key bar on the 30th, the last
deadline=$(($(date +%s) + 60))
until tm capture-pane -p -t demo >"$out/screen.txt" &&
	[ "$(wc -l <"$out/screen.txt")" = 30 ] &&
	[ "$(grep -c 'klptop  kernel' "$out/screen.txt")" = 1 ] &&
	head -n 1 "$out/screen.txt" | grep -q '^ klptop  kernel' &&
	sed -n 30p "$out/screen.txt" | grep -q '^F1Help'; do
	[ "$(date +%s)" -lt "$deadline" ] ||
		fail "after the resize to 100x30, not one whole frame of 30 rows"
	sleep 0.5
done
tm send-keys -t demo d
wait_screen 30 'Disable klpt_lp_sleep.*\[y/N\]'
tm send-keys -t demo y
wait_screen 180 'READY'
tm send-keys -t demo u
wait_screen 60 'klpt_lp_sleep: unloaded'
tm send-keys -t demo q

deadline=$(($(date +%s) + 120))
while [ ! -f "$out/rc" ] && [ "$(date +%s)" -lt "$deadline" ]; do
	sleep 0.5
done
[ -f "$out/rc" ] || fail "the VM did not power off within 120 s of q"
rc=$(cat "$out/rc")
[ "$rc" = 0 ] || fail "demo.sh exited $rc"
grep -aq 'klptop_status=0 klpt_lp_sleep_loaded=0' "$status" ||
	fail "guest report: $(cat "$status" 2>/dev/null || echo none)"
echo "PASS e2e/demo ($(($(date +%s) - start)) s)"
