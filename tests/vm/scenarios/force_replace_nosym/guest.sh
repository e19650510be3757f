#!/bin/sh
# force_replace_nosym: force_replace with klptrace.ko loaded without the
# kernel symbol klp_patches (skip=, as on a kernel where kallsyms does not
# have it).  The force of the replace's enable still marks klpt_lp_sleep
# forced (ground truth: rmmod fails, refcnt 1), but klptrace.ko cannot
# walk the list: hooks says so and no klp_patch_forced is made up for it;
# klp_patch_free forced=1 still tells.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_sleep
LP=klpt_lp_sleep
LP2=klpt_lp_sleep2

need_modules klptrace $TG $LP $LP2 || guest_fail "modules missing from the image"
load_klptrace skip=klp_patches || guest_fail "load_klptrace failed"
cp /sys/kernel/klptrace/hooks /out/hooks.load

mark "force_replace_nosym: load target"
insmod_test $TG || guest_fail "insmod $TG failed"
fact sleeper_pid "$(param $TG pid)"
mark "force_replace_nosym: load $LP"
insmod_test $LP || guest_fail "insmod $LP failed"
wait_transition_done $LP || guest_fail "patching transition of $LP did not finish"

log "put klpt_sleeper to sleep in $LP's klpt_sleep_fn()"
mark "force_replace_nosym: block"
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn()"
expect_eq "$TG impl while blocked (1 = $LP's function)" 1 "$(param $TG impl)"

log "load the replace patch $LP2: its transition stalls on klpt_sleeper"
mark "force_replace_nosym: load $LP2"
expect_success insmod_rc insmod_test $LP2
loop_until has_since "force_replace_nosym: load $LP2" klp_transition_pass 2 ||
	guest_fail "fewer than 2 transition passes after the insmod of $LP2"
snap blocked
expect_eq "$LP2 transition while blocked" 1 "$(lp_transition $LP2)"

log "force $LP2's patching transition"
mark "force_replace_nosym: force"
lp_force $LP2 || guest_fail "writing 1 to $LP2/force failed"
wait_transition_done $LP2 || guest_fail "$LP2 still in transition after force"
wait_lp_gone $LP || guest_fail "/sys/kernel/livepatch/$LP (replaced) still there"
snap forced
expect_eq "$LP2 enabled after the force" 1 "$(lp_enabled $LP2)"

log "the replaced patch was forced: its module can never be removed"
mark "force_replace_nosym: rmmod $LP"
rmmod $LP >/out/rmmod_lp.txt 2>&1
echo $? >/out/rmmod_lp_status
module_loaded $LP || guest_fail "$LP removed although the kernel forced it"
expect_eq "$LP refcnt after the failed rmmod" 1 "$(refcnt $LP)"

log "disable $LP2: the replace patch itself is not forced"
mark "force_replace_nosym: disable $LP2"
lp_disable $LP2 || guest_fail "writing 0 to $LP2/enabled failed"
wait_lp_gone $LP2 || guest_fail "/sys/kernel/livepatch/$LP2 still there after the disable"
wait_refcnt $LP2 0 || guest_fail "refcnt of $LP2 did not drop to 0"
events_sync || guest_fail "events_sync failed"
watch_dump ready || guest_fail "watch_dump ready failed"
klptop_check ready || guest_fail "klptop's view after the disable"

mark "force_replace_nosym: rmmod $LP2"
rmmod $LP2 >/out/rmmod_lp2.txt 2>&1
echo $? >/out/rmmod_lp2_status
module_loaded $LP2 && guest_fail "$LP2 still loaded after rmmod"

log "release klpt_sleeper: it leaves $LP's function; $LP stays loaded"
mark "force_replace_nosym: release"
set_param $TG block 0 || guest_fail "cannot set block=0"
loop_until file_is /sys/module/$LP/parameters/calls 1 ||
	guest_fail "klpt_sleeper never returned from $LP's klpt_sleep_fn()"
mark "force_replace_nosym: rmmod $LP again"
rmmod $LP >/out/rmmod_lp2nd.txt 2>&1
echo $? >/out/rmmod_lp2nd_status
snap final
expect_eq "$LP refcnt at the end" 1 "$(refcnt $LP)"
events_sync || guest_fail "events_sync failed"
log "force_replace done"
