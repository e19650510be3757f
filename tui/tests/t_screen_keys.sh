# shellcheck shell=bash
# The screen's keys and its terminal handling (sourced by run.sh), on a
# replay of the fixture recording in tmux at 80x24, 120x40 and 200x50:
# the F-key bar of a read-only replay, the help (scrolling, its legend),
# the sort menu (F6, < and >) and r, the incremental filter and Ctrl-U,
# Ctrl-L, resizes while the replay plays, the terminal clean after q;
# the sort's marker on its column; the force prompt on a fake live
# system.

screen_sizes=("80 24" "120 40" "200 50")

pane() {
	tmx capture-pane -p -t top
}

# pane_whole COLS ROWS: the pane holds one whole frame of that size.
pane_whole() {
	pane | awk -v cols="$1" -v rows="$2" -f "$here/whole_frame.awk"
}

# pane_moved TEXT: the pane no longer shows TEXT.
pane_moved() {
	[ "$(pane)" != "$1" ]
}

# The replay's clock: "+1.234s" at the header's right end.
replay_clock() {
	pane | sed -nE '1s/.* (\+[0-9]+\.[0-9]+s) .*/\1/p'
}

# step_to_sleeper: . until the sleeper's blocker row shows (bounded).
step_to_sleeper() {
	local end=$(($(date +%s) + 60))
	until screen_has "klpt_sleeper"; do
		[ "$(date +%s)" -lt "$end" ] || fail "the sleeper never showed" || return 1
		tmx send-keys -t top .
		sleep 0.02
	done
}

# help_legend TEXT: the help's TEXT has a legend line for each short
# column header (3 columns at most) of the field table (--list-fields),
# the start of that field's help after it; E K F SIG among them.
help_legend() {
	local row key head batch json unit flags help seen=" "
	while IFS=$'\t' read -r row key head batch json unit flags help; do
		[ "$head" != - ] && [ "${#head}" -le 3 ] || continue
		grep -qF -- "  $(printf '%-5s' "$head")${help:0:30}" <<<"$1" ||
			fail "$size: the help's legend lacks $head: ${help:0:30}" || return 1
		seen+="$head "
	done < <("$klptop" --list-fields)
	for head in E K F SIG; do
		[[ $seen == *" $head "* ]] || fail "$size: no legend of $head (seen:$seen)" || return 1
	done
}

# start_replay_sized "COLS ROWS": the paused fixture replay on a
# terminal of that size (cols and rows set), its screen up.
start_replay_sized() {
	read -r cols rows <<<"$1"
	start_screen "$cols" "$rows" --replay "$fix/vm-recording" --speed 0
	loop_until 10 screen_has "F10Quit" || fail "$1: no screen: $(cat "$work/err")"
}

# The bar of a read-only replay offers no action; the help scrolls where
# it does not fit and has the keys it did not list (k j, Ctrl-L, Ctrl-U,
# < >) and the legend of the short columns; F6, < and > open the sort
# menu, Enter sorts by the chosen column, r reverses only that column.
t_screen_keys_sizes() {
	local size cols rows
	for size in "${screen_sizes[@]}"; do
		start_replay_sized "$size" || return 1
		pane_whole "$cols" "$rows" || fail "$size: not one whole frame: $(pane)" || return 1
		pane | tail -n 1 | grep -q 'F6Sort F10Quit' && ! pane | grep -q 'F[789][A-Z]' ||
			fail "$size: a read-only replay offers F7-F9: $(pane | tail -n 1)" || return 1
		# the help: every key it lists, scrolled to its end
		key_shows "klptop keys" '?' || return 1
		if [ "$rows" -lt 40 ]; then
			screen_has "more below" || fail "$size: the help does not say it scrolls: $(pane)" || return 1
			key_shows "any key closes the help" End || return 1
		fi
		# back to its top (its first line showing), then page by page
		# until nothing is below, each page read once it has moved
		key_shows "this help; Up Down" Home || return 1
		local text page
		page=$(pane)
		text=$page
		while grep -q "more below" <<<"$page"; do
			tmx send-keys -t top PgDn
			loop_until 5 pane_moved "$page" ||
				fail "$size: PgDn did not scroll the help: $page" || return 1
			page=$(pane)
			text+=$'\n'$page
		done
		for w in "Up Down  k j" "Ctrl-L" "Ctrl-U" "F6  <  >" "FORCED (never)"; do
			grep -qF -- "$w" <<<"$text" || fail "$size: the help lacks '$w'" || return 1
		done
		help_legend "$text" || return 1
		tmx send-keys -t top x
		loop_until 5 screen_has "F10Quit" || fail "$size: x did not close the help" || return 1
		# the sort menu, from each of its keys
		step_to_sleeper || return 1	# a transition: its sort in the title
		key_shows "Sort by" F6 || return 1
		key_shows "blockers sorted by pid" Down Enter || return 1
		screen_has "sort: pid" || fail "$size: the title does not say pid: $(pane)" || return 1
		key_shows "Sort by" '<' || return 1
		key_shows "sort not changed" Escape || return 1
		key_shows "Sort by" '>' || return 1
		key_shows "sort not changed" q || return 1
		# r reverses the column it was pressed on, a new column sorts
		# its own way
		key_shows "blockers sorted by pid, reversed" r || return 1
		key_shows "blockers sorted by command$" s || return 1
		quit_clean || return 1
	done
}

# sort_marked HEAD: the blockers' column headers mark one column, HEAD
# (its header and v or ^), in reverse video (an SGR with 7 right before
# it, the colour resets tmux adds left out).
sort_marked() {
	local heads marks
	heads=$(tmx capture-pane -e -p -t top | grep -m 1 -E 'PID.* TID ' |
		sed 's/\x1b\[[34]9m//g')
	marks=$(sed 's/\x1b\[[0-9;]*m//g' <<<"$heads" | grep -oE '[A-Z]+[v^]( |$)' | tr -d ' ')
	[ "$marks" = "$1" ] &&
		grep -qE $'\e''\[([0-9]+;)*7m'"${1/^/\\^}" <<<"$heads"
}

# expect_marked HEAD: sort_marked, within the bound.
expect_marked() {
	loop_until 5 sort_marked "$1" ||
		fail "$size: not one marker on $1: $(pane | grep -m 1 -E 'PID.* TID ')"
}

# The sorted column's header is marked, v from the largest down, ^ from
# the smallest up; it moves with F6, <, > and s, r flips it.
t_screen_sort_marker() {
	local size cols rows
	for size in "${screen_sizes[@]}"; do
		start_replay_sized "$size" || return 1
		step_to_sleeper || return 1
		expect_marked BLOCKEDv || return 1
		key_shows "blockers sorted by blocked, reversed" r || return 1
		expect_marked 'BLOCKED^' || return 1
		key_shows "Sort by" F6 || return 1
		key_shows "blockers sorted by pid$" Down Enter || return 1
		expect_marked 'PID^' || return 1
		key_shows "blockers sorted by pid, reversed" r || return 1
		expect_marked PIDv || return 1
		key_shows "Sort by" '<' || return 1
		key_shows "blockers sorted by command$" Down Enter || return 1
		expect_marked 'COMMAND^' || return 1
		key_shows "Sort by" '>' || return 1
		key_shows "blockers sorted by checks$" Down Enter || return 1
		expect_marked CHECKSv || return 1
		key_shows "blockers sorted by reason$" s || return 1
		expect_marked 'REASON^' || return 1
		key_shows "blockers sorted by reason, reversed" r || return 1
		expect_marked REASONv || return 1
		pane_whole "$cols" "$rows" || fail "$size: not one whole frame: $(pane)" || return 1
		quit_clean || return 1
	done
}

# The filter applies as it is typed, starts empty, Ctrl-U empties it,
# Enter keeps it, Esc clears it.
t_screen_filter() {
	local pid
	pid=$(cat "$cap/sleeper_pid")
	start_screen 120 40 --replay "$fix/vm-recording" --speed 0
	loop_until 10 screen_has "paused" || fail "no screen: $(cat "$work/err")" || return 1
	step_to_sleeper || return 1
	key_shows "Filter: _" / || return 1
	# before Enter: a pid that is not there empties the panel
	key_shows "no blocker matches the filter" 9 9 9 9 9 || return 1
	key_shows "^ *$pid  *$pid klpt_sleeper" C-u || return 1
	screen_has "Filter: _" || fail "Ctrl-U closed the prompt: $(pane)" || return 1
	key_shows "no blocker matches the filter" z z || return 1
	key_shows "^ *$pid  *$pid klpt_sleeper" BSpace BSpace k l p t || return 1
	tmx send-keys -t top Enter
	loop_until 5 screen_has 'filter: "klpt"' || fail "Enter did not keep the filter: $(pane)" || return 1
	# a new / starts empty
	key_shows "Filter: _" / || return 1
	screen_has 'filter: "' && fail "the filter is still set: $(pane)" && return 1
	tmx send-keys -t top x Escape
	loop_until 5 screen_has "filter cleared" || fail "Esc: $(pane)" || return 1
	quit_clean
}

# Ctrl-L draws everything again: text another program wrote over the
# screen goes.
t_screen_ctrl_l() {
	local tty
	start_screen 80 24 --replay "$fix/vm-recording" --speed 0
	loop_until 10 screen_has "F10Quit" || fail "no screen: $(cat "$work/err")" || return 1
	tty=$(tmx display-message -p -t top '#{pane_tty}')
	printf '\033[5;10HSCRIBBLED-OVER' >"$tty"
	loop_until 5 screen_has "SCRIBBLED-OVER" || fail "the scribble did not show" || return 1
	tmx send-keys -t top C-l
	loop_until 5 eval '! screen_has SCRIBBLED-OVER' ||
		fail "Ctrl-L left the scribble: $(pane)" || return 1
	pane_whole 80 24 || fail "not one whole frame after Ctrl-L: $(pane)" || return 1
	quit_clean
}

# Resizes while the replay plays: after each, one whole frame of the new
# size within the bound; the replay's clock goes on across them.
t_screen_resize_storm() {
	local t0 i size cols rows
	start_screen 80 24 --replay "$fix/vm-recording" --speed 0.25
	loop_until 10 screen_has "playing" || fail "no screen: $(cat "$work/err")" || return 1
	t0=$(replay_clock)
	for i in 1 2 3; do
		for size in "120 40" "200 50" "80 24" "100 30" "64 16" "80 24"; do
			read -r cols rows <<<"$size"
			tmx resize-window -t top -x "$cols" -y "$rows"
			loop_until 5 pane_whole "$cols" "$rows" ||
				fail "round $i, $size: not one whole frame: $(pane | cat -A)" || return 1
		done
	done
	[ -n "$t0" ] && [ "$(replay_clock)" != "$t0" ] ||
		fail "the clock stayed at '$t0': $(pane | head -n 1)" || return 1
	quit_clean
}

# After q the terminal is clean, also without an alternate screen
# (TERM=vt100, as a serial console's linux): the last frame is not left
# under what the shell prints next.
t_screen_quit_clean() {
	rm -f "$work/rc" "$work/stty"
	tmx_stop
	screen_n=$((screen_n + 1))
	tmx new-session -d -s top -x 80 -y 24 \
		"TERM=vt100 $san --replay $fix/vm-recording --speed 0 2>$work/err; echo \$? >$work/rc; stty -a >$work/stty; sleep 60"
	loop_until 10 screen_has "F10Quit" || fail "no screen: $(cat "$work/err")" || return 1
	tmx send-keys -t top q
	loop_until 10 exited || fail "q did not quit" || return 1
	[ "$(cat "$work/rc")" = 0 ] || fail "exit $(cat "$work/rc")" || return 1
	! pane | grep -Eq 'klptop|PATCH|BLOCKERS|F10Quit' ||
		fail "the last frame stays after q: $(pane)" || return 1
	terminal_sane
}

# The force prompt, live (a fake system: a replay is read-only), repeats
# what forcing costs in the line where the name is typed; the bar offers
# F7-F9.
t_screen_force_prompt() {
	build_fakesys || return 1
	start_fake_screen patch:lp:1:1 module:lp:1:1 task:100:0:0 -- -p lp
	loop_until 10 screen_has "F10Quit" || fail "no screen: $(cat "$work/err")" || return 1
	screen_has "F7Disable F8Force F9Unload" || fail "no F7-F9 live: $(pane | tail -n 1)" || return 1
	key_shows "A forced module can never be unloaded. Type lp to force: _" f || return 1
	screen_has "Type its name to force it; Esc cancels" || fail "no warning box: $(pane)" || return 1
	key_shows "cancelled" Escape || return 1
	quit_clean
}

more_tests+=(screen_keys_sizes screen_sort_marker screen_filter screen_ctrl_l screen_resize_storm
	screen_quit_clean screen_force_prompt)
