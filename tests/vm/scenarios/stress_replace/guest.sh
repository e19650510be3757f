#!/bin/sh
# stress_replace: a replace (cumulative) patch over two others, once
# reversed and once completed, under one libklptrace session.
#
# klpt_lp_sleep (LP1) and klpt_lp_vmlinux (VM) are enabled, then
# klpt_sleeper sleeps in LP1's klpt_sleep_fn.  klpt_lp_sleep2 (LP2,
# .replace = true) is loaded: its transition stalls on the sleeper.
#   round 1: LP2 is disabled mid-transition (reversed): LP1 and VM stay
#            on, LP2 is freed and removed;
#   round 2: LP2 again; the sleeper is released and the transition
#            completes: the core disables LP1 and VM itself, frees them
#            and drops their module references.  Both modules are then
#            removable though nobody disabled them.
# The model is compared with snapshots `replacing` (round 2 blocked) and
# `replaced` (watch_dump), and at the end (lib_final).  /proc/cmdline
# and klpt_target_sleep's impl are the ground truth of what runs.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_sleep
LP1=klpt_lp_sleep
LP2=klpt_lp_sleep2
VM=klpt_lp_vmlinux

need_modules klptrace $TG $LP1 $LP2 $VM || guest_fail "modules missing from the image"

# cmdline_is_patched: /proc/cmdline shows klpt_lp_vmlinux's text.
cmdline_is_patched() {
	read -r _line </proc/cmdline && [ "$_line" = "klpt_lp_vmlinux: patched" ]
}

load_klptrace || guest_fail "load_klptrace failed"
mark "stress_replace: insmod $TG"
insmod_test $TG || guest_fail "insmod $TG failed"
fact sleeper_pid "$(param $TG pid)"
for lp in $LP1 $VM; do
	mark "stress_replace: insmod $lp"
	insmod_test "$lp" || guest_fail "insmod $lp failed"
	wait_transition_done "$lp" || guest_fail "patching transition of $lp did not finish"
done
cmdline_is_patched || guest_fail "/proc/cmdline not patched by $VM"
mark "stress_replace: block"
sleeper_block || guest_fail "klpt_sleeper did not block"
expect_eq "impl with $LP1 on" 1 "$(param $TG impl)"

# --- round 1: the replace is reversed ----------------------------------------
mark "stress_replace: insmod $LP2 (1)"
insmod_test $LP2 || guest_fail "insmod $LP2 (1) failed"
expect_eq "$LP2 transition (sleeper in $LP1's function)" 1 "$(lp_transition $LP2)"
snap blocked1
mark "stress_replace: reverse"
lp_disable $LP2 || guest_fail "writing 0 to $LP2/enabled failed"
wait_lp_gone $LP2 || guest_fail "$LP2 did not go away after the reverse"
rmmod_wait $LP2 || guest_fail "rmmod $LP2 (1) failed"
cmdline_is_patched || guest_fail "/proc/cmdline not patched after the reverse"
snap reversed
expect_eq "$LP1 enabled after the reverse" 1 "$(lp_enabled $LP1)"
expect_eq "$VM enabled after the reverse" 1 "$(lp_enabled $VM)"

# --- round 2: the replace completes ---------------------------------------------
mark "stress_replace: insmod $LP2 (2)"
insmod_test $LP2 || guest_fail "insmod $LP2 (2) failed"
expect_eq "$LP2 transition (sleeper in $LP1's function)" 1 "$(lp_transition $LP2)"
watch_dump replacing || guest_fail "watch_dump replacing failed"
mark "stress_replace: release"
set_param $TG block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP2 || guest_fail "the replace transition did not finish"
for lp in $LP1 $VM; do
	wait_lp_gone "$lp" || guest_fail "$lp was not freed by the replace"
	wait_refcnt "$lp" 0 || guest_fail "refcnt of $lp did not drop to 0"
done
mark "stress_replace: replaced"
watch_dump replaced || guest_fail "watch_dump replaced failed"
cmdline_is_patched && guest_fail "/proc/cmdline still patched after the replace"
sleeper_block || guest_fail "klpt_sleeper did not block again"
expect_eq "impl with $LP2 on" 2 "$(param $TG impl)"
set_param $TG block 0 || guest_fail "cannot set block=0"

# The replaced modules go without a disable; then LP2 the usual way.
mark "stress_replace: rmmod replaced"
expect_success rmmod_lp1 rmmod $LP1
expect_success rmmod_vm rmmod $VM
mark "stress_replace: disable $LP2"
lp_disable $LP2 || guest_fail "writing 0 to $LP2/enabled failed"
wait_lp_gone $LP2 || guest_fail "$LP2 did not go away"
rmmod_wait $LP2 || guest_fail "rmmod $LP2 (2) failed"
rmmod $TG || guest_fail "rmmod $TG failed"
mark "stress_replace: done"
log "stress_replace done"
