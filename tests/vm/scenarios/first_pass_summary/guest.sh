#!/bin/sh
# first_pass_summary: klptrace.ko loaded with first_pass_summary=1.  A
# patching transition of klpt_lp_sleep held up by klpt_sleeper (asleep in
# klpt_sleep_fn) for several passes, then released; then the disable,
# held up the same way (the sleeper asleep in the livepatch's function),
# released, and the rmmods.  Pass 0 of each direction runs with the
# per-task hooks disarmed (its pending tasks named reason=unknown), the
# retries with them armed.
# Ground truth for the judge: the snapshots `loaded`, `blocked` (enable
# held), `enabled` (after it, the hooks disarmed again), `unblocking`
# (disable held), `ready` (patch gone, refcnt 0, hooks disarmed), each
# with the hooks report; libmodel.py compares libklptrace's model with
# `blocked_lib` and `unblocking_lib` (watch_dump) and the unload's.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep
HOOKS=/sys/kernel/klptrace/hooks
PASSES=4

need_modules klptrace $TGT $LP || guest_fail "modules missing from the image"
if klpt_native; then
	# the kernel's own events: no klptrace.ko, no option to test
	fact native 1
	log "first_pass_summary: native kernel, nothing to test"
	exit 0
fi

# hook_status NAME: the status column of NAME's line in hooks.
hook_status() {
	while read -r _n _k _s _; do
		[ "$_n" = "$1" ] && echo "$_s" && return 0
	done <"$HOOKS"
	return 1
}

# per_task_are STATUS: both per-task hooks read STATUS.
per_task_are() {
	[ "$(hook_status klp_try_switch_task)" = "$1" ] &&
		[ "$(hook_status klp_check_and_switch_task)" = "$1" ]
}

mark "first_pass_summary: load klptrace"
load_klptrace first_pass_summary=1 || guest_fail "load_klptrace failed"
expect_eq "klptrace first_pass_summary" Y "$(param klptrace first_pass_summary)"
fact cpus_online "$(cat /sys/devices/system/cpu/online)"
snap loaded
per_task_are standby || guest_fail "per-task hooks not standby at load: $(cat $HOOKS)"

start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
sleeper=$(param $TGT pid)
expect_eq "comm of the sleeper pid $sleeper" klpt_sleeper "$(cat "/proc/$sleeper/comm")"

# --- the enable, held ---------------------------------------------------------
mark "first_pass_summary: insmod $LP"
expect_success insmod_rc insmod_test $LP
mark "first_pass_summary: insmod returned"
loop_until_timeout 120 has_since "first_pass_summary: insmod $LP" klp_transition_pass $PASSES ||
	guest_fail "fewer than $PASSES klp_transition_pass events of $LP in events.txt"
snap blocked
expect_eq "$LP transition while the sleeper is in klpt_sleep_fn" 1 "$(lp_transition $LP)"
expect_eq "patch_state of the sleeper ($sleeper) while blocked" 0 "$(patch_state "$sleeper")"
watch_dump blocked_lib || guest_fail "watch_dump blocked_lib failed"

mark "first_pass_summary: release"
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP 120 || guest_fail "transition of $LP did not finish after release"
mark "first_pass_summary: enable done"
# the work that disarms the hooks runs after the completion
loop_until per_task_are standby || guest_fail "per-task hooks not standby after the enable: $(cat $HOOKS)"
snap enabled
expect_eq "$LP enabled after release" 1 "$(lp_enabled $LP)"

# --- the disable, held ----------------------------------------------------------
mark "first_pass_summary: block again"
sleeper_block || guest_fail "klpt_sleeper did not enter the livepatch's klpt_sleep_fn"
expect_eq "impl of klpt_sleep_fn the sleeper is in" 1 "$(param $TGT impl)"
mark "first_pass_summary: disable"
expect_success disable_rc lp_disable $LP
mark "first_pass_summary: disable returned"
loop_until_timeout 120 has_since "first_pass_summary: disable" klp_transition_pass $PASSES ||
	guest_fail "fewer than $PASSES klp_transition_pass events of the disable in events.txt"
snap unblocking
expect_eq "$LP transition while the sleeper is in the new klpt_sleep_fn" 1 "$(lp_transition $LP)"
expect_eq "patch_state of the sleeper ($sleeper) while the disable is held" 1 "$(patch_state "$sleeper")"
watch_dump unblocking_lib || guest_fail "watch_dump unblocking_lib failed"

mark "first_pass_summary: release 2"
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait_lp_gone $LP 120 || guest_fail "/sys/kernel/livepatch/$LP did not go away"
wait_refcnt $LP 0 || guest_fail "refcnt of $LP did not drop to 0"
mark "first_pass_summary: disable done"
loop_until per_task_are standby || guest_fail "per-task hooks not standby after the disable: $(cat $HOOKS)"
snap ready

mark "first_pass_summary: rmmod"
expect_success rmmod_rc rmmod $LP
rmmod $TGT || guest_fail "rmmod $TGT failed"
mark "first_pass_summary: unload klptrace"
unload_klptrace || guest_fail "unload_klptrace failed"
module_loaded klptrace && guest_fail "klptrace still loaded after rmmod"
log "first_pass_summary done"
