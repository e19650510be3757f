# shellcheck shell=bash
# A replay's seek over a big recording (review rev1 #6): it goes a slice
# at a time between the screen's frames and keys, so its progress shows,
# Esc stops it where it got (not at the end: keys were read while it
# went) and q quits at once.  The recording: bench/src/gen.c's synthetic
# rollouts, 3M events (about 6 s to replay whole under ASan).

t_screen_seek() {
	local rec=$work/rec-big
	gen_recording "$rec" 3000000 || return 1
	start_screen 120 40 --replay "$rec" --speed 0
	loop_until 20 header_at 0.000 paused || fail "no screen: $(pane)" || return 1
	tmx send-keys -t top End
	loop_until 10 eval 'pane | grep -q "seeking [0-9]*% (Esc stops it here)"' ||
		fail "End: no progress: $(pane | tail -3)" || return 1
	tmx send-keys -t top Escape
	loop_until 5 eval 'pane | grep -q "seek stopped at +[0-9.]*s"' ||
		fail "Esc: $(pane | tail -3)" || return 1
	! pane | head -1 | grep -q " end " || fail "Esc: the seek went to the end: $(pane | head -1)" || return 1
	pane | head -1 | grep -q " paused " || fail "Esc: not paused: $(pane | head -1)" || return 1
	# from where it stopped, End again, and q while it goes
	tmx send-keys -t top End
	loop_until 10 eval 'pane | grep -q "seeking [0-9]*%"' ||
		fail "End again: $(pane | tail -3)" || return 1
	tmx send-keys -t top q
	loop_until 2 exited || fail "q did not quit during the seek: $(pane | tail -3)" || return 1
	[ "$(cat "$work/rc")" = 0 ] && [ ! -s "$work/err" ] ||
		fail "exit $(cat "$work/rc"): $(cat "$work/err")" || return 1
	rm -rf "$rec"
	terminal_sane
}

more_tests+=(screen_seek)
