#!/bin/sh
# lib_disable_wait: libklptrace's example disable_wait (lib/examples) run
# in the VM against a real blocked unpatch.
#
# klpt_sleeper sleeps in the livepatch's *new* klpt_sleep_fn() (block=1
# after the patch completed, as in the force scenario).  `disable_wait
# klpt_lp_sleep 60` disables the patch; while the sleeper holds the
# unpatch transition its once-a-second lines must name klpt_sleeper and
# klpt_sleep_fn.  Released (block=0), the transition completes, the
# patch is freed and released, the last reference goes: disable_wait
# exits 0 and `rmmod klpt_lp_sleep` succeeds right away, with no wait
# for the refcount of our own.  Ground truth for the judge: snapshots
# `blocked` and `removed`, the exit codes, disable_wait's output.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep
DW=/klpt/bin/disable_wait

# names PID: disable_wait's output names the sleeper PID in klpt_sleep_fn.
names() {
	grep -q "klpt_sleeper\[$1\] in klpt_sleep_fn" "$KLPT_OUT/disable_wait.txt"
}

need_modules klptrace $TGT $LP || guest_fail "modules missing from the image"
[ -x $DW ] || guest_fail "$DW not in the image: libklptrace is not built (make -C lib)"
load_klptrace || guest_fail "load_klptrace failed"

mark "lib_disable_wait: load target"
insmod_test $TGT || guest_fail "insmod $TGT failed"
sleeper=$(param $TGT pid)
fact sleeper_pid "$sleeper"
mark "lib_disable_wait: load patch"
insmod_test $LP || guest_fail "insmod $LP failed"
wait_transition_done $LP || guest_fail "patching transition of $LP did not finish"
expect_eq "$LP enabled after patching" 1 "$(lp_enabled $LP)"

log "put klpt_sleeper to sleep in the new klpt_sleep_fn()"
mark "lib_disable_wait: block"
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn()"
expect_eq "$TGT impl while blocked (1 = the livepatch's function)" 1 "$(param $TGT impl)"

log "disable_wait $LP 60: disables the patch, the sleeper holds the unpatch"
mark "lib_disable_wait: disable_wait"
$DW $LP 60 >"$KLPT_OUT/disable_wait.txt" 2>"$KLPT_OUT/disable_wait.err" </dev/null &
dw=$!
fact disable_wait_pid "$dw"
loop_until names "$sleeper" ||
	guest_fail "disable_wait never named klpt_sleeper[$sleeper] in klpt_sleep_fn: $(cat "$KLPT_OUT/disable_wait.txt" "$KLPT_OUT/disable_wait.err")"
snap blocked
expect_eq "$LP enabled while blocked" 0 "$(lp_enabled $LP)"
expect_eq "$LP transition while blocked" 1 "$(lp_transition $LP)"
expect_eq "klpt_sleeper patch_state while blocked" 1 "$(patch_state "$sleeper")"
kill -0 "$dw" 2>/dev/null || guest_fail "disable_wait exited while the sleeper still blocks"

log "release klpt_sleeper: disable_wait must see the module become unloadable"
mark "lib_disable_wait: release"
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait "$dw"
rc=$?
fact disable_wait_rc "$rc"
mark "lib_disable_wait: disable_wait returned"
log "disable_wait exited with $rc: $(tail -n 1 "$KLPT_OUT/disable_wait.txt")"
expect_eq "disable_wait exit status" 0 "$rc"

# No rmmod_wait: disable_wait said ready, so rmmod must work now.
mark "lib_disable_wait: rmmod"
expect_success rmmod_rc rmmod $LP
snap removed
module_loaded $LP && guest_fail "$LP still loaded after rmmod"
events_sync || guest_fail "events_sync failed"
rmmod $TGT || guest_fail "rmmod $TGT failed"
log "lib_disable_wait done"
