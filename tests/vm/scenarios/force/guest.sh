#!/bin/sh
# force: an unpatching transition that a sleeper blocks is forced through.
#
# klpt_sleeper sleeps inside the livepatch's *new* klpt_sleep_fn(); the
# patch is disabled, the transition stalls, the admin writes 1 to force.
# The patch goes away, but its module can never be removed: rmmod fails
# and refcnt stays 1.  Then the sleeper is released and leaves the new
# function, whose module stays loaded for good.  judge.py checks the
# events against the snapshots, the rmmod status and the parameters.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_sleep
LP=klpt_lp_sleep

need_modules klptrace $TG $LP || guest_fail "modules missing from the image"
load_klptrace || guest_fail "load_klptrace failed"

log "load $TG (block=0) and patch it"
mark "force: load target"
insmod_test $TG || guest_fail "insmod $TG failed"
sleeper=$(param $TG pid)
fact sleeper_pid "$sleeper"
mark "force: load patch"
insmod_test $LP || guest_fail "insmod $LP failed"
wait_transition_done $LP || guest_fail "patching transition of $LP did not finish"
expect_eq "$LP enabled after patching" 1 "$(lp_enabled $LP)"
snap patched

log "put klpt_sleeper to sleep in the new klpt_sleep_fn()"
mark "force: block"
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn()"
expect_eq "$TG impl while blocked (1 = the livepatch's function)" 1 "$(param $TG impl)"

log "disable $LP: the unpatching transition stalls on klpt_sleeper"
mark "force: disable"
lp_disable $LP || guest_fail "writing 0 to $LP/enabled failed"
loop_until has_since "force: disable" klp_transition_pass 2 ||
	guest_fail "fewer than 2 transition passes after the disable"
snap blocked
expect_eq "$LP transition while blocked" 1 "$(lp_transition $LP)"
expect_eq "klpt_sleeper patch_state while blocked" 1 "$(patch_state "$sleeper")"
expect_eq "$TG in_func while blocked" 1 "$(param $TG in_func)"
klptop_check blocked || guest_fail "klptop's view of the blocked unpatch"

log "force the transition"
mark force
lp_force $LP || guest_fail "writing 1 to $LP/force failed"
wait_lp_gone $LP || guest_fail "/sys/kernel/livepatch/$LP still there after force"
snap forced
klptop_check forced || guest_fail "klptop's view of the forced patch"

log "a forced patch's module can never be removed"
mark "force: rmmod"
rmmod $LP >/out/rmmod.txt 2>&1
echo $? >/out/rmmod_status
log "rmmod $LP: status $(cat /out/rmmod_status): $(cat /out/rmmod.txt)"
module_loaded $LP || guest_fail "$LP was removed although its patch was forced"
expect_eq "$LP refcnt after the failed rmmod" 1 "$(refcnt $LP)"

log "release klpt_sleeper: it leaves the new function (module still loaded)"
mark "force: release"
set_param $TG block 0 || guest_fail "cannot set block=0"
loop_until file_is /sys/module/$LP/parameters/calls 1 ||
	guest_fail "klpt_sleeper never returned from the livepatch's klpt_sleep_fn()"
loop_until file_is /sys/module/$TG/parameters/in_func 0 ||
	guest_fail "$TG in_func stays 1 after block=0"
snap released
expect_eq "$LP refcnt after the release" 1 "$(refcnt $LP)"
events_sync || guest_fail "events_sync failed"
log "force done"
