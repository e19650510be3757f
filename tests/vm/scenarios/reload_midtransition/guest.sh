#!/bin/sh
# reload_midtransition: klptrace loaded and unloaded while a transition
# it never saw start goes on.
#
# klpt_sleeper blocks the patching transition of klpt_lp_sleep before
# klptrace is loaded.  Load 1 (all hooks): the events name the patch and
# the retry numbers from the core's globals.  Unload it: the transition
# goes on.  Load 2 with the stack-check hook and klp_transition_patch
# skipped: passes go on, no blocked events.  Then the sleeper is released
# and the transition completes with no klptrace loaded; load 3 finds no
# transition at all.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_sleep
LP=klpt_lp_sleep

need_modules klptrace $TG $LP || guest_fail "modules missing from the image"
module_loaded klptrace && guest_fail "klptrace is loaded before the scenario loads it"

log "block the patching transition of $LP, without klptrace"
insmod_test $TG || guest_fail "insmod $TG failed"
sleeper=$(param $TG pid)
fact sleeper_pid "$sleeper"
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn()"
insmod_test $LP || guest_fail "insmod $LP failed"
loop_until file_is "$KLPT_LP/$LP/transition" 1 ||
	guest_fail "$LP transition never read 1"
# Let the core count a few retries that klptrace does not see.
holds_for 3 file_is "$KLPT_LP/$LP/transition" 1 || guest_fail "$LP transition left 1 although klpt_sleeper is blocked"
expect_eq "klpt_sleeper patch_state before klptrace" 0 "$(patch_state "$sleeper")"

log "load 1: all hooks, in the middle of the transition"
mark load1
load_klptrace || guest_fail "load_klptrace (1) failed"
cp /sys/kernel/klptrace/hooks /out/hooks1 || guest_fail "no /sys/kernel/klptrace/hooks"
loop_until has_since load1 klp_transition_pass 2 ||
	guest_fail "fewer than 2 transition passes after load 1"
snap loaded1
expect_eq "$LP transition at snap loaded1" 1 "$(lp_transition $LP)"
# klptop across the unload: the sleeper's reason, seen in the events, is
# said stale once klptrace.ko is gone (the fallback sees pending, not
# why) instead of staying as if current
top_last() {	# PATTERN: klptop's last JSON frame has it
	tail -n 1 /out/klptop_reload.json | grep -q -- "$1"
}
sleeper_row="\"tid\":$sleeper,[^}]*\"reason\":\"sleeping_in_func\",\"stale\":"
"$KLPT_TOP_BIN" --json -d 0.5 >/out/klptop_reload.json 2>/out/klptop_reload.err </dev/null &
top_pid=$!
loop_until top_last "${sleeper_row}false" ||
	guest_fail "klptop never showed the sleeper sleeping (events): $(tail -c 600 /out/klptop_reload.json)"
mark unload1
unload_klptrace || guest_fail "unload_klptrace (1) failed"
module_loaded klptrace && guest_fail "klptrace still loaded after unload 1"
mark unloaded1
loop_until top_last "${sleeper_row}true" ||
	guest_fail "klptop's sleeper row is not stale after the unload: $(tail -c 600 /out/klptop_reload.json)"
top_last '"mode":"fallback"' || guest_fail "klptop not in the fallback after the unload"
expect_eq "klpt_sleeper patch_state (still pending) while klptop says stale" 0 "$(patch_state "$sleeper")"
kill "$top_pid"
wait "$top_pid"
lp_transition $LP >/out/transition_unload1
expect_eq "$LP transition after unload 1 (the transition goes on)" 1 "$(cat /out/transition_unload1)"

log "load 2: without the stack-check hook and klp_transition_patch"
mark load2
load_klptrace skip=klp_check_and_switch_task,klp_transition_patch ||
	guest_fail "load_klptrace (2) failed"
cp /sys/kernel/klptrace/hooks /out/hooks2 || guest_fail "no /sys/kernel/klptrace/hooks"
loop_until has_since load2 klp_transition_pass 2 ||
	guest_fail "fewer than 2 transition passes after load 2"
snap loaded2
mark unload2
unload_klptrace || guest_fail "unload_klptrace (2) failed"
module_loaded klptrace && guest_fail "klptrace still loaded after unload 2"
mark unloaded2
lp_transition $LP >/out/transition_unload2
expect_eq "$LP transition after unload 2 (the transition goes on)" 1 "$(cat /out/transition_unload2)"

log "release klpt_sleeper: the transition completes without klptrace"
mark release
set_param $TG block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP || guest_fail "patching transition of $LP did not finish after block=0"
expect_eq "$LP enabled after the transition" 1 "$(lp_enabled $LP)"
snap complete

log "load 3: no transition in progress"
mark load3
load_klptrace || guest_fail "load_klptrace (3) failed"
cp /sys/kernel/klptrace/hooks /out/hooks3 || guest_fail "no /sys/kernel/klptrace/hooks"
mark unload3
unload_klptrace || guest_fail "unload_klptrace (3) failed"
module_loaded klptrace && guest_fail "klptrace still loaded after unload 3"
mark unloaded3
snap end
log "reload_midtransition done"
