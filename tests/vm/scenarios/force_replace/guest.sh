#!/bin/sh
# force_replace: the patching transition of an atomic replace patch
# (klpt_lp_sleep2) is forced.  6.1 klp_force_transition() then marks the
# *replaced* patch (klpt_lp_sleep) forced, not the replace patch: the
# replaced module keeps its reference for good (rmmod fails, refcnt 1),
# the replace patch unloads normally after a disable.  Ground truth:
# snapshots, rmmod's status; judge/libmodel.py checks the library's
# verdicts at the dump `ready`.
#
# force_replace_nosym runs this script with S=force_replace_nosym and
# KLPT_LOAD_ARGS=skip=klp_patches (klptrace.ko's load parameters).
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

S=${S:-force_replace}

TG=klpt_target_sleep
LP=klpt_lp_sleep
LP2=klpt_lp_sleep2

need_modules klptrace $TG $LP $LP2 || guest_fail "modules missing from the image"
# shellcheck disable=SC2086 # KLPT_LOAD_ARGS: module parameters, split
load_klptrace ${KLPT_LOAD_ARGS:-} || guest_fail "load_klptrace failed"
# klptrace.ko's hooks at load (none on a kernel with the native events)
[ -r /sys/kernel/klptrace/hooks ] && cp /sys/kernel/klptrace/hooks /out/hooks.load

mark "$S: load target"
insmod_test $TG || guest_fail "insmod $TG failed"
fact sleeper_pid "$(param $TG pid)"
mark "$S: load $LP"
insmod_test $LP || guest_fail "insmod $LP failed"
wait_transition_done $LP || guest_fail "patching transition of $LP did not finish"

log "put klpt_sleeper to sleep in $LP's klpt_sleep_fn()"
mark "$S: block"
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn()"
expect_eq "$TG impl while blocked (1 = $LP's function)" 1 "$(param $TG impl)"

log "load the replace patch $LP2: its transition stalls on klpt_sleeper"
mark "$S: load $LP2"
expect_success insmod_rc insmod_test $LP2
loop_until has_since "$S: load $LP2" klp_transition_pass 2 ||
	guest_fail "fewer than 2 transition passes after the insmod of $LP2"
snap blocked
expect_eq "$LP2 transition while blocked" 1 "$(lp_transition $LP2)"

log "force $LP2's patching transition"
mark "$S: force"
lp_force $LP2 || guest_fail "writing 1 to $LP2/force failed"
wait_transition_done $LP2 || guest_fail "$LP2 still in transition after force"
wait_lp_gone $LP || guest_fail "/sys/kernel/livepatch/$LP (replaced) still there"
snap forced
expect_eq "$LP2 enabled after the force" 1 "$(lp_enabled $LP2)"

log "the replaced patch was forced: its module can never be removed"
mark "$S: rmmod $LP"
rmmod $LP >/out/rmmod_lp.txt 2>&1
echo $? >/out/rmmod_lp_status
module_loaded $LP || guest_fail "$LP removed although the kernel forced it"
expect_eq "$LP refcnt after the failed rmmod" 1 "$(refcnt $LP)"

log "disable $LP2: the replace patch itself is not forced"
mark "$S: disable $LP2"
lp_disable $LP2 || guest_fail "writing 0 to $LP2/enabled failed"
wait_lp_gone $LP2 || guest_fail "/sys/kernel/livepatch/$LP2 still there after the disable"
wait_refcnt $LP2 0 || guest_fail "refcnt of $LP2 did not drop to 0"
events_sync || guest_fail "events_sync failed"
watch_dump ready || guest_fail "watch_dump ready failed"
klptop_check ready || guest_fail "klptop's view after the disable"

mark "$S: rmmod $LP2"
rmmod $LP2 >/out/rmmod_lp2.txt 2>&1
echo $? >/out/rmmod_lp2_status
module_loaded $LP2 && guest_fail "$LP2 still loaded after rmmod"

log "release klpt_sleeper: it leaves $LP's function; $LP stays loaded"
mark "$S: release"
set_param $TG block 0 || guest_fail "cannot set block=0"
loop_until file_is /sys/module/$LP/parameters/calls 1 ||
	guest_fail "klpt_sleeper never returned from $LP's klpt_sleep_fn()"
mark "$S: rmmod $LP again"
rmmod $LP >/out/rmmod_lp2nd.txt 2>&1
echo $? >/out/rmmod_lp2nd_status
snap final
expect_eq "$LP refcnt at the end" 1 "$(refcnt $LP)"
events_sync || guest_fail "events_sync failed"
log "force_replace done"
