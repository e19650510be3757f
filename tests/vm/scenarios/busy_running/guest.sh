#!/bin/sh
# busy_running: a kthread that keeps running in the patched function.
#
# klpt_spinner (bound to CPU 1) spins in klpt_busy_fn(); the livepatch is
# loaded from CPU 0, so the stack checks find the spinner on a CPU
# ("running", -EBUSY) and the patching transition stalls.  Once spin=0
# the spinner leaves the function, the next pass switches it and the
# transition completes; the next spin=1 runs the livepatch's function.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_busy
LP=klpt_lp_busy

[ "$(nproc)" -ge 2 ] || guest_fail "needs 2 CPUs, the guest has $(nproc)"
need_modules klptrace $TG $LP || guest_fail "modules missing from the image"
load_klptrace || guest_fail "load_klptrace failed"

log "start klpt_spinner on CPU 1 and make it spin in klpt_busy_fn()"
mark "busy: load target"
insmod_test $TG cpu=1 || guest_fail "insmod $TG cpu=1 failed"
spinner=$(param $TG pid)
fact spinner_pid "$spinner"
mark "busy: spin"
set_param $TG spin 1 || guest_fail "cannot set spin=1"
loop_until file_is /sys/module/$TG/parameters/in_func 1 ||
	guest_fail "klpt_spinner never entered klpt_busy_fn()"

log "load $LP from CPU 0: the transition stalls on the running spinner"
mark "busy: load patch"
taskset -c 0 insmod "$KLPT_MODDIR/$LP.ko" || guest_fail "taskset -c 0 insmod $LP failed"
loop_until has_since "busy: load patch" klp_transition_pass 3 ||
	guest_fail "fewer than 3 transition passes after loading $LP"
snap blocked
expect_eq "$LP transition while spinning" 1 "$(lp_transition $LP)"
expect_eq "klpt_spinner patch_state while spinning" 0 "$(patch_state "$spinner")"
expect_eq "$TG in_func while spinning" 1 "$(param $TG in_func)"

log "stop the spinner: the transition completes"
mark release
set_param $TG spin 0 || guest_fail "cannot set spin=0"
wait_transition_done $LP || guest_fail "patching transition of $LP did not finish after spin=0"
loop_until file_is /sys/module/$TG/parameters/in_func 0 ||
	guest_fail "$TG in_func stays 1 after spin=0"
expect_eq "$TG calls (returns from the original)" 1 "$(param $TG calls)"
snap complete

log "the next spin=1 runs the livepatch's klpt_busy_fn()"
mark "busy: call patched"
set_param $TG spin 1 || guest_fail "cannot set spin=1"
loop_until file_is /sys/module/$LP/parameters/calls 1 ||
	guest_fail "the livepatch's klpt_busy_fn() never returned"
expect_eq "$TG impl after spin=1 (1 = the livepatch's function)" 1 "$(param $TG impl)"
expect_eq "$TG calls after the patched call" 1 "$(param $TG calls)"
set_param $TG spin 0 || guest_fail "cannot set spin=0"
events_sync || guest_fail "events_sync failed"
log "busy_running done"
