#!/bin/sh
# disable_unload: enable klpt_lp_sleep (nothing blocks), disable it, wait
# for the module reference to go and rmmod it.  Ground truth for the
# judge: the snapshots `enabled`, `ready` (patch gone, refcnt 0) and
# `removed` (module gone), rmmod's exit code.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep

need_modules klptrace $TGT $LP || guest_fail "modules missing from the image"

mark "disable_unload: load klptrace"
load_klptrace || guest_fail "load_klptrace failed"

mark "disable_unload: insmod $TGT"
insmod_test $TGT || guest_fail "insmod $TGT failed"
expect_eq "$TGT block" N "$(param $TGT block)"

mark "disable_unload: insmod $LP"
expect_success insmod_rc insmod_test $LP
wait_transition_done $LP || guest_fail "enable transition of $LP did not finish"
snap enabled
expect_eq "$LP enabled" 1 "$(lp_enabled $LP)"
expect_eq "$LP refcnt while enabled" 1 "$(refcnt $LP)"

mark "disable_unload: disable"
lp_disable $LP || guest_fail "writing 0 to $LP/enabled failed"
wait_lp_gone $LP || guest_fail "/sys/kernel/livepatch/$LP did not go away"
mark "disable_unload: patch dir gone"
wait_refcnt $LP 0 || guest_fail "refcnt of $LP did not drop to 0"
snap ready

mark "disable_unload: rmmod"
expect_success rmmod_rc rmmod $LP
mark "disable_unload: rmmod returned"
snap removed
module_loaded $LP && guest_fail "$LP still loaded after rmmod"
events_sync || guest_fail "events_sync failed"

# Tidy up: the target goes too (not judged).
rmmod $TGT || guest_fail "rmmod $TGT failed"
log "disable_unload done"
