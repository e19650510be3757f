#!/bin/sh
# klptop_screen: klptop on the VM console, driven from the host through
# tmux (host.sh types the keys and reads the screen), against a
# patching transition blocked by klpt_sleeper sleeping in klpt_sleep_fn.
#
# The operator's story: the blocker row names the sleeper and its
# function; d + y disables the patch (the transition reverses and
# completes); UNLOAD turns READY once the patch is freed, released and
# its reference dropped; u unloads it; q quits.  The guest records the
# ground truth as it happens (a watcher polls sysfs) and klptop's exit
# code; judge.py compares it with what host.sh saw on the screen.
#
# Runs in guest/init's console mode: stdin/stdout are the console,
# stderr is scenario.log.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep

# The console is klptop's alone: logs to scenario.log, kernel messages
# off the console.
exec 3>&1 1>&2
dmesg -n 1

need_modules klptrace $TGT $LP || guest_fail "modules missing from the image"
[ -x "$KLPT_TOP_BIN" ] || guest_fail "klptop not in the image (make -C tui)"
load_klptrace || guest_fail "load_klptrace failed"
start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
sleeper=$(param $TGT pid)
insmod_test $LP || guest_fail "insmod $LP failed"
loop_until has_since "$KLPT_SCENARIO: block" klp_transition_pass 2 ||
	guest_fail "no transition pass of $LP"
snap blocked

# Predicates for the watcher below, builtins only: the operator may go
# from READY to u in a fraction of a second.
disabled() {
	read -r _en 2>/dev/null <"$KLPT_LP/$LP/enabled" && [ "$_en" = 0 ]
}
gone_and_free() {
	[ ! -d "$KLPT_LP/$LP" ] && read -r _rc 2>/dev/null <"/sys/module/$LP/refcnt" &&
		[ "$_rc" = 0 ]
}
not_loaded() {
	[ ! -d "/sys/module/$LP" ]
}

ready_or_gone() {
	gone_and_free || not_loaded
}

# The ground truth while the operator works: each step, once, in order,
# as sysfs shows it (facts disabled_seen, ready_seen, unloaded_seen).
# READY may last less than a poll (the operator presses u at once): the
# kernel's own check is then the unload itself, which delete_module()
# refuses while a reference is left.
(
	loop_until_timeout 200 disabled && fact disabled_seen 1
	loop_until_timeout 200 ready_or_gone && gone_and_free && fact ready_seen 1
	loop_until_timeout 200 not_loaded && fact unloaded_seen 1
) >/dev/null 2>&1 &
watcher=$!

log "klptop on the console"
"$KLPT_TOP_BIN" -d 0.5 <&0 >&3 2>>"$KLPT_OUT/klptop.err"
fact klptop_rc $?
log "klptop exited $(cat "$KLPT_OUT/facts/klptop_rc")"
# host.sh reads the console as klptop left it, then presses Enter: the
# VM does not power off (and take the console away) before (bounded)
read -r -t 60 _ || log "no Enter from host.sh after klptop quit"
loop_until_timeout 30 not_alive "$watcher" ||
	guest_fail "the watcher did not see every step: $(ls "$KLPT_OUT/snap")"
snap final
# The scenario leads the console's session: its end hangs up the
# console, which would kill klpt_watch before /init stops it.
watch_stop lib_final || guest_fail "watch_stop failed"
rmmod $TGT 2>/dev/null
exit 0
