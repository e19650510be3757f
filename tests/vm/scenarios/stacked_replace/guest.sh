#!/bin/sh
# stacked_replace: two non-replace patches on one function, then an
# atomic replace over that stack, once reversed and once completed, with
# klptop's scripted flows acting on each (6.1 kernel/livepatch rules).
#
#  (a) klpt_lp_sleep (LP1, impl 1) then klpt_lp_sleep3 (LP3, impl 3), both
#      on klpt_sleep_fn: the func_stack runs the last enabled one (impl 3).
#      LP3's disable is held up by klpt_sleeper, asleep in LP3's function;
#      meanwhile 6.1 refuses any other disable (enabled_store ->
#      __klp_disable_patch: -EBUSY while klp_transition_patch is set), by
#      hand and by klptop --disable LP1 (exit 2, naming LP3's transition).
#      klptop --disable LP3 --wait-unload --unload waits, and once the
#      sleeper is released LP3 goes: LP1 is live again (impl 1).  6.1 has
#      no stack order: with LP3 on top again, klptop --disable LP1 (the
#      lower one) --unload succeeds, LP3 stays live (impl 3).
#  (b) LP1 again, now on top of LP3, the sleeper asleep in it;
#      klpt_lp_sleep2 (LP2, .replace) is held up by it.  (c) klptop
#      --disable LP2 --wait-unload --unload reverses the replace and
#      unloads it: LP1 and LP3 stay enabled, LP1 still live (impl 1).
#      LP2 again: klptop -p LP1/LP3 --wait-unload (no disable) must still
#      wait while the replace runs; once the sleeper is released the
#      replace completes, both replaced patches are freed (directories
#      gone, refcnt 0) and the waits exit 0; klptop --disable LP3
#      --unload says "already disabled" and unloads; rmmod LP1
#      succeeds.  impl 2.  Before it, klpt_lp_read (LPR, another target's
#      klpt_read_proc_read, not patched by LP2): 6.1 gives LP2 a nop for
#      it (klp_add_nops(), a directory like its own functions; the kernel
#      runs the original for it) until its transition completes, so klptop
#      may not say LP2's version runs there; LPR is replaced too.
# Ground truth: /sys/kernel/livepatch, refcnt, impl of klpt_target_sleep,
# the writes' and rmmod's status; judge/libmodel.py compares the model
# at every watch_dump, judge/klptop.py the klptop frames, judge.py which
# version klptop says runs with impl.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_sleep
LP1=klpt_lp_sleep
LP2=klpt_lp_sleep2
LP3=klpt_lp_sleep3
TGR=klpt_target_read
LPR=klpt_lp_read
TOP=$KLPT_TOP_BIN
S=stacked_replace

# top_bg NAME ARGS...: klptop_run in the background; top_wait NAME waits
# for it.
top_bg() {
	_bn=$1
	shift
	klptop_run "$_bn" "$@" &
	eval "bg_$_bn=\$!"
}
top_wait() {
	eval "wait \$bg_$1"
	[ -e "$KLPT_OUT/facts/${1}_rc" ] || guest_fail "klptop $1 left no exit status"
}

# cycle: let klpt_sleeper leave klpt_sleep_fn and call it again (never
# during a transition it holds up: it could re-enter the old function
# before a pass switched it): impl then tells whose version runs.
cycle() {
	leave && sleeper_block
}

# leave: let klpt_sleeper leave klpt_sleep_fn and wait for it.
leave() {
	set_param $TG block 0 &&
		loop_until file_is /sys/module/$TG/parameters/in_func 0
}

need_modules klptrace $TG $LP1 $LP2 $LP3 $TGR $LPR || guest_fail "modules missing from the image"
[ -x "$TOP" ] || guest_fail "$TOP not in the image: klptop is not built (make -C tui)"
load_klptrace || guest_fail "load_klptrace failed"
insmod_test $TG || guest_fail "insmod $TG failed"
fact sleeper_pid "$(param $TG pid)"

# --- (a) two non-replace patches on klpt_sleep_fn -----------------------------
mark "$S: stack"
for lp in $LP1 $LP3; do
	insmod_test "$lp" || guest_fail "insmod $lp failed"
	wait_transition_done "$lp" || guest_fail "patching transition of $lp did not finish"
done
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn()"
fact impl_stacked "$(param $TG impl)"
snap stacked
watch_dump stacked_model || guest_fail "watch_dump stacked_model failed"
klptop_check stacked || guest_fail "klptop_check stacked failed"

mark "$S: disable $LP3"
lp_disable $LP3 || guest_fail "writing 0 to $LP3/enabled failed"
loop_until has_since "$S: disable $LP3" klp_transition_pass 2 ||
	guest_fail "fewer than 2 passes after the disable of $LP3"
expect_eq "$LP3 transition while the sleeper is in its function" 1 "$(lp_transition $LP3)"
mark "$S: disable $LP1 during it"
echo 0 2>"$KLPT_OUT/busy_write.err" >"$KLPT_LP/$LP1/enabled"
# shellcheck disable=SC2320 # echo's status is the write's
fact busy_write_rc $?
klptop_run a_busy --disable $LP1 --yes
snap busy
watch_dump busy_model || guest_fail "watch_dump busy_model failed"
top_bg a_unload3 --disable $LP3 --wait-unload --unload --yes --timeout 60
mark "$S: release (a)"
set_param $TG block 0 || guest_fail "cannot set block=0"
top_wait a_unload3
module_loaded $LP3 && guest_fail "$LP3 still loaded after klptop --unload"
sleeper_block || guest_fail "klpt_sleeper did not come back into klpt_sleep_fn"
fact impl_after_a "$(param $TG impl)"
snap lower_live
watch_dump lower_live_model || guest_fail "watch_dump lower_live_model failed"
klptop_check lower_live || guest_fail "klptop_check lower_live failed"

# --- (a) 6.1 has no stack order: the lower patch disabled first ---------------
# LP3 on top again (not with the sleeper in LP1's function: that would
# hold LP3's enable up), the sleeper in LP3's version.  LP1's unpatch
# checks only LP1's version of the function: it completes at once.
mark "$S: lower"
leave || guest_fail "klpt_sleeper did not leave klpt_sleep_fn"
insmod_test $LP3 || guest_fail "insmod $LP3 (2) failed"
wait_transition_done $LP3 || guest_fail "patching transition of $LP3 (2) did not finish"
sleeper_block || guest_fail "klpt_sleeper did not come back into klpt_sleep_fn"
fact impl_top_again "$(param $TG impl)"
klptop_run a_lower --disable $LP1 --wait-unload --unload --yes --timeout 60
module_loaded $LP1 && guest_fail "$LP1 still loaded after klptop --unload"
cycle || guest_fail "klpt_sleeper did not come back into klpt_sleep_fn"
fact impl_lower_gone "$(param $TG impl)"

# --- (b)/(c) the replace over a stack of two, reversed -------------------------
mark "$S: restack"
leave || guest_fail "klpt_sleeper did not leave klpt_sleep_fn"
insmod_test $LP1 || guest_fail "insmod $LP1 (2) failed"
wait_transition_done $LP1 || guest_fail "patching transition of $LP1 (2) did not finish"
sleeper_block || guest_fail "klpt_sleeper did not come back into klpt_sleep_fn"
fact impl_restacked "$(param $TG impl)"
mark "$S: replace (1)"
insmod_test $LP2 || guest_fail "insmod $LP2 (1) failed"
loop_until has_since "$S: replace (1)" klp_transition_pass 2 ||
	guest_fail "fewer than 2 passes of $LP2's transition"
expect_eq "$LP2 transition (the sleeper in $LP1's function)" 1 "$(lp_transition $LP2)"
snap replacing1
watch_dump replacing1_model || guest_fail "watch_dump replacing1_model failed"
klptop_run c_reverse --disable $LP2 --wait-unload --unload --yes --timeout 60
snap reversed
watch_dump reversed_model || guest_fail "watch_dump reversed_model failed"
module_loaded $LP2 && guest_fail "$LP2 still loaded after klptop --unload"
cycle || guest_fail "klpt_sleeper did not come back into klpt_sleep_fn"
fact impl_reversed "$(param $TG impl)"
klptop_check reversed || guest_fail "klptop_check reversed failed"

# --- (b) the replace completes -------------------------------------------------
# LPR's transition checks only klpt_read_proc_read: the sleeper does not
# hold it up.
insmod_test $TGR || guest_fail "insmod $TGR failed"
insmod_test $LPR || guest_fail "insmod $LPR failed"
wait_transition_done $LPR || guest_fail "patching transition of $LPR did not finish"
mark "$S: replace (2)"
insmod_test $LP2 || guest_fail "insmod $LP2 (2) failed"
loop_until has_since "$S: replace (2)" klp_transition_pass 2 ||
	guest_fail "fewer than 2 passes of $LP2's transition (2)"
top_bg b_wait1 -p $LP1 --wait-unload --timeout 60
top_bg b_wait3 -p $LP3 --wait-unload --timeout 60
# both flows hold on while the replace runs (no READY before its end)
loop_until has_since "$S: replace (2)" klp_transition_pass 5 ||
	guest_fail "fewer than 5 passes of $LP2's transition (2)"
expect_eq "$LP2 transition before the release" 1 "$(lp_transition $LP2)"
[ -e "$KLPT_OUT/facts/b_wait1_rc" ] && guest_fail "klptop -p $LP1 --wait-unload ended during the replace"
[ -e "$KLPT_OUT/facts/b_wait3_rc" ] && guest_fail "klptop -p $LP3 --wait-unload ended during the replace"
snap replacing2
watch_dump replacing2_model || guest_fail "watch_dump replacing2_model failed"
klptop_check replacing2 || guest_fail "klptop_check replacing2 failed"
mark "$S: release (b)"
set_param $TG block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP2 || guest_fail "the replace transition did not finish"
top_wait b_wait1
top_wait b_wait3
for lp in $LP1 $LP3 $LPR; do
	wait_lp_gone "$lp" || guest_fail "$lp was not freed by the replace"
	wait_refcnt "$lp" 0 || guest_fail "refcnt of $lp did not drop to 0"
done
snap replaced
watch_dump replaced_model || guest_fail "watch_dump replaced_model failed"
klptop_check replaced || guest_fail "klptop_check replaced failed"
sleeper_block || guest_fail "klpt_sleeper did not come back into klpt_sleep_fn"
fact impl_replaced "$(param $TG impl)"
set_param $TG block 0 || guest_fail "cannot set block=0"
klptop_run b_unload3 --disable $LP3 --wait-unload --unload --yes --timeout 60
mark "$S: rmmod $LP1"
rmmod $LP1 >"$KLPT_OUT/rmmod_lp1.txt" 2>&1
fact rmmod_lp1_rc $?
snap end
log "$S done"
