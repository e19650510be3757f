#!/bin/sh
# force_patching: a *patching* transition that a sleeper blocks is forced
# through, then the patch is disabled.  In 6.1 klp_force_transition()
# marks patch->forced only for an unpatch (or, for an atomic replace, the
# replaced patches): this patch is not forced, so after the disable its
# module reference drops and rmmod succeeds.  Ground truth: snapshots
# (transition, refcnt, patch directory), rmmod's status; judge/libmodel.py
# checks the library's verdict at the dump `ready` (directory gone,
# refcnt 0: ready).
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_sleep
LP=klpt_lp_sleep

need_modules klptrace $TG $LP || guest_fail "modules missing from the image"
load_klptrace || guest_fail "load_klptrace failed"

start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
sleeper=$(param $TG pid)
expect_eq "$TG impl while blocked (0 = the original function)" 0 "$(param $TG impl)"

log "load $LP: the patching transition stalls on klpt_sleeper"
mark "force_patching: load patch"
expect_success insmod_rc insmod_test $LP
loop_until has_since "force_patching: load patch" klp_transition_pass 2 ||
	guest_fail "fewer than 2 transition passes after the insmod"
snap blocked
expect_eq "$LP transition while blocked" 1 "$(lp_transition $LP)"
expect_eq "klpt_sleeper patch_state while blocked" 0 "$(patch_state "$sleeper")"

log "force the patching transition"
mark "force_patching: force"
lp_force $LP || guest_fail "writing 1 to $LP/force failed"
wait_transition_done $LP || guest_fail "$LP still in transition after force"
snap forced
expect_eq "$LP enabled after the force" 1 "$(lp_enabled $LP)"
expect_eq "$LP refcnt after the force" 1 "$(refcnt $LP)"

log "release klpt_sleeper: it leaves the original function"
mark "force_patching: release"
set_param $TG block 0 || guest_fail "cannot set block=0"
loop_until file_is /sys/module/$TG/parameters/in_func 0 ||
	guest_fail "$TG in_func stays 1 after block=0"

log "disable $LP: not forced, so its module reference drops"
mark "force_patching: disable"
lp_disable $LP || guest_fail "writing 0 to $LP/enabled failed"
wait_lp_gone $LP || guest_fail "/sys/kernel/livepatch/$LP still there after the disable"
wait_refcnt $LP 0 || guest_fail "refcnt of $LP did not drop to 0 (treated as forced?)"
events_sync || guest_fail "events_sync failed"
watch_dump ready || guest_fail "watch_dump ready failed"
klptop_check ready || guest_fail "klptop's view of the disabled patch"

mark "force_patching: rmmod"
rmmod $LP >/out/rmmod.txt 2>&1
echo $? >/out/rmmod_status
log "rmmod $LP: status $(cat /out/rmmod_status): $(cat /out/rmmod.txt)"
module_loaded $LP && guest_fail "$LP still loaded after rmmod"
snap removed
events_sync || guest_fail "events_sync failed"
log "force_patching done"
