#!/bin/sh
# klptop_script: klptop's scripted flow against a real blocked unpatch.
#
# klpt_sleeper sleeps in the livepatch's new klpt_sleep_fn(), so the
# unpatch of klpt_lp_sleep cannot complete.  First
#   klptop --disable klpt_lp_sleep --wait-unload --timeout 3
# disables the patch and must give up after 3 s with exit 1, naming the
# sleeper and its function, the module still loaded.  Then
#   klptop --disable klpt_lp_sleep --wait-unload --unload --yes --timeout 90
# (the patch is already disabled: it says so) waits; its progress must
# name the sleeper; released (block=0), it must exit 0 with the module
# gone.  Meanwhile klptop_check compares klptop's frames of the blocked
# unpatch with the ground truth.  Judge: facts, snapshots, outputs.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep
TOP=$KLPT_TOP_BIN

# names FILE PID: klptop's progress in FILE names the blocker PID.
names() {
	grep -q "blocker klpt_sleeper\[$2\] (kthread)\?: *sleeping in klpt_sleep_fn" "$1"
}

need_modules klptrace $TGT $LP || guest_fail "modules missing from the image"
[ -x "$TOP" ] || guest_fail "$TOP not in the image: klptop is not built (make -C tui)"
load_klptrace || guest_fail "load_klptrace failed"

insmod_test $TGT || guest_fail "insmod $TGT failed"
sleeper=$(param $TGT pid)
fact sleeper_pid "$sleeper"
insmod_test $LP || guest_fail "insmod $LP failed"
wait_transition_done $LP || guest_fail "patching transition of $LP did not finish"
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn()"
expect_eq "$TGT impl while blocked (1 = the livepatch's function)" 1 "$(param $TGT impl)"

log "klptop --disable $LP --wait-unload --timeout 3: must time out"
mark "klptop_script: timeout run"
$TOP --disable $LP --wait-unload --timeout 3 >"$KLPT_OUT/timeout.txt" 2>"$KLPT_OUT/timeout.err" </dev/null
fact timeout_rc $?
snap after_timeout
expect_eq "klptop --timeout 3 exit code" 1 "$(cat "$KLPT_OUT/facts/timeout_rc")"
names "$KLPT_OUT/timeout.txt" "$sleeper" ||
	guest_fail "the timed-out run did not name klpt_sleeper[$sleeper]: $(cat "$KLPT_OUT/timeout.txt" "$KLPT_OUT/timeout.err")"
module_loaded $LP || guest_fail "$LP went away although the sleeper blocks"

klptop_check blocked_unpatch || guest_fail "klptop_check blocked_unpatch failed"

log "klptop --disable $LP --wait-unload --unload --yes: waits, then unloads"
mark "klptop_script: unload run"
$TOP --disable $LP --wait-unload --unload --yes --timeout 90 \
	>"$KLPT_OUT/unload.txt" 2>"$KLPT_OUT/unload.err" </dev/null &
top=$!
loop_until names "$KLPT_OUT/unload.txt" "$sleeper" ||
	guest_fail "klptop never named klpt_sleeper[$sleeper]: $(cat "$KLPT_OUT/unload.txt" "$KLPT_OUT/unload.err")"
snap blocked
kill -0 "$top" 2>/dev/null || guest_fail "klptop exited while the sleeper still blocks"
module_loaded $LP || guest_fail "$LP went away while blocked"

mark "klptop_script: release"
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait "$top"
fact unload_rc $?
snap removed
expect_eq "klptop --unload exit code" 0 "$(cat "$KLPT_OUT/facts/unload_rc")"
module_loaded $LP && guest_fail "$LP still loaded after klptop --unload exited 0"
rmmod $TGT || guest_fail "rmmod $TGT failed"
exit 0
