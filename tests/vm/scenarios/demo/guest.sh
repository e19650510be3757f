#!/bin/sh
# make demo: a livepatch transition blocked by a sleeping kthread, watched
# live through the klp trace events, then released, disabled and unloaded.
# Runs on the VM console; the decoded events stream in between the
# narration.  (A presentation: the pauses here are for reading, the waits
# on the kernel are bounded polls.)
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

say() {
	printf '\n\033[1m### %s\033[0m\n' "$*"
}

# Watch for a while (a pause for the reader, not synchronisation).
watch_for() {
	sleep "$1"
}

show_truth() {
	pid=$(param klpt_target_sleep pid)
	echo "    /sys/kernel/livepatch/klpt_lp_sleep/transition = $(lp_transition klpt_lp_sleep 2>/dev/null || echo gone)"
	echo "    /proc/$pid/patch_state (klpt_sleeper)      = $(cat /proc/"$pid"/patch_state)"
	echo "    /sys/module/klpt_lp_sleep/refcnt            = $(cat /sys/module/klpt_lp_sleep/refcnt 2>/dev/null || echo gone)"
}

say "loading klptrace.ko: the hooks it found in this kernel"
load_klptrace >/dev/null || guest_fail "klptrace.ko did not load"
cat /sys/kernel/klptrace/hooks
# module:* fires for every module of the system: keep the stream to klp.
echo 0 >"$KLPT_INST/events/module/enable"
# Every task switches at each transition: show the test tasks' switches
# only, so the blocked kthread's story stays readable on a console.
echo 'comm ~ "klpt_*"' >"$KLPT_INST/events/klp/klp_task_switch/filter"
# The decoded event stream, on the console from here on.
cat "$KLPT_INST/trace_pipe" &
reader=$!

say "klpt_target_sleep: kthread klpt_sleeper goes to sleep inside klpt_sleep_fn()"
insmod_test klpt_target_sleep || guest_fail "cannot load klpt_target_sleep"
sleeper_block || guest_fail "the kthread never entered klpt_sleep_fn"

say "loading the livepatch klpt_lp_sleep, which replaces klpt_sleep_fn(): the sleeper blocks the transition (task switches are shown for klpt_* tasks only)"
insmod_test klpt_lp_sleep || guest_fail "cannot load klpt_lp_sleep"
watch_for 6
say "still blocked; the kernel's own view:"
show_truth
watch_for 3

say "releasing the sleeper (block=0): it leaves klpt_sleep_fn, the next pass switches it"
set_param klpt_target_sleep block 0
wait_transition_done klpt_lp_sleep || guest_fail "transition did not finish"
show_truth

say "disabling the patch: unpatch transition, then free, release, the last put, unload ready"
lp_disable klpt_lp_sleep
wait_lp_gone klpt_lp_sleep || guest_fail "patch directory did not go"
wait_refcnt klpt_lp_sleep 0 || guest_fail "module reference not dropped"
show_truth

say "rmmod klpt_lp_sleep"
rmmod klpt_lp_sleep || guest_fail "rmmod failed"
watch_for 1

say "done: powering off"
kill "$reader" 2>/dev/null
poweroff -f
