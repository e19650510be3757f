#!/bin/sh
# klptop_script_gone: klptop's scripted flow on livepatch modules whose
# patch directory is already gone (6.1 names /sys/kernel/livepatch/<patch>
# after its module; klp_free_patch_finish() removes that directory, then
# drops the module reference unless the patch was forced).
#
#  (a) klpt_lp_sleep replaced by klpt_lp_sleep2 (atomic replace): the core
#      freed it, its module stays loaded.
#        klptop -p klpt_lp_sleep --wait-unload                    -> 0
#        klptop --disable klpt_lp_sleep --wait-unload --unload --yes -> 0,
#      the module gone.
#  (b) klpt_lp_sleep2 disabled earlier (0 to enabled), its directory gone:
#        klptop --fallback -p klpt_lp_sleep2 --wait-unload         -> 0
#        klptop --disable klpt_lp_sleep2 --wait-unload --unload --yes -> 0,
#      the module gone.
#  (c) klpt_lp_sleep again, disabled while klpt_sleeper sleeps in its
#      function, then forced: the directory goes, refcnt stays 1.
#        klptop --disable klpt_lp_sleep --wait-unload --unload --yes -> 1,
#      naming the force; still loaded, refcnt 1, and rmmod fails.
#  (d) klptop --disable no_such_patch ... and --disable klpt_target_sleep
#      (a module, not a livepatch): 2, one line on stderr.
# Ground truth: snapshots before and after each run, rmmod's status.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep
LP2=klpt_lp_sleep2
TOP=$KLPT_TOP_BIN

need_modules klptrace $TGT $LP $LP2 || guest_fail "modules missing from the image"
[ -x "$TOP" ] || guest_fail "$TOP not in the image: klptop is not built (make -C tui)"
load_klptrace || guest_fail "load_klptrace failed"

insmod_test $TGT || guest_fail "insmod $TGT failed"
sleeper=$(param $TGT pid)
fact sleeper_pid "$sleeper"

# --- (a) replaced ----------------------------------------------------------
insmod_test $LP || guest_fail "insmod $LP failed"
wait_transition_done $LP || guest_fail "patching transition of $LP did not finish"
mark "klptop_script_gone: replace"
insmod_test $LP2 || guest_fail "insmod $LP2 failed"
wait_transition_done $LP2 || guest_fail "patching transition of $LP2 did not finish"
# the replaced patch's directory goes in klp_free_patch_work_fn; its
# module reference may still be held (the window): klptop waits then
wait_lp_gone $LP || guest_fail "$LP's directory still there after the replace"
snap a_before
klptop_run a_wait -p $LP --wait-unload --timeout 60
snap a_waited
module_loaded $LP || guest_fail "$LP went away without an unload"
klptop_run a_unload --disable $LP --wait-unload --unload --yes --timeout 60
snap a_after
module_loaded $LP && guest_fail "$LP still loaded after klptop --unload"

# --- (b) disabled earlier ------------------------------------------------------
mark "klptop_script_gone: disable $LP2"
lp_disable $LP2 || guest_fail "writing 0 to $LP2/enabled failed"
wait_lp_gone $LP2 || guest_fail "$LP2's directory still there after the disable"
snap b_before
klptop_run b_wait --fallback -p $LP2 --wait-unload --timeout 60
snap b_waited
module_loaded $LP2 || guest_fail "$LP2 went away without an unload"
klptop_run b_unload --disable $LP2 --wait-unload --unload --yes --timeout 60
snap b_after
module_loaded $LP2 && guest_fail "$LP2 still loaded after klptop --unload"

# --- (c) forced --------------------------------------------------------------
mark "klptop_script_gone: insmod $LP again"
insmod_test $LP || guest_fail "insmod $LP (2) failed"
wait_transition_done $LP || guest_fail "patching transition of $LP (2) did not finish"
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn()"
expect_eq "$TGT impl while blocked (1 = the livepatch's function)" 1 "$(param $TGT impl)"
mark "klptop_script_gone: disable $LP, blocked"
lp_disable $LP || guest_fail "writing 0 to $LP/enabled failed"
expect_eq "$LP transition while the sleeper blocks" 1 "$(lp_transition $LP)"
mark "klptop_script_gone: force"
lp_force $LP || guest_fail "writing 1 to $LP/force failed"
wait_lp_gone $LP || guest_fail "$LP's directory still there after the force"
snap c_before
klptop_run c_unload --disable $LP --wait-unload --unload --yes --timeout 60
snap c_after
module_loaded $LP || guest_fail "$LP was unloaded although forced"
mark "klptop_script_gone: rmmod forced"
rmmod $LP >"$KLPT_OUT/c_rmmod.txt" 2>&1
fact c_rmmod_rc $?
module_loaded $LP || guest_fail "rmmod removed the forced $LP"
set_param $TGT block 0 || guest_fail "cannot set block=0"

# --- (d) unknown names -------------------------------------------------------
klptop_run d_unknown --disable no_such_patch --wait-unload --unload --yes --timeout 60
klptop_run d_unknown_p -p no_such_patch --wait-unload --timeout 60
klptop_run d_not_lp --disable $TGT --wait-unload --unload --yes --timeout 60
snap end
exit 0
