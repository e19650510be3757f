#!/bin/sh
# fork_inherit: a child forked during a transition inherits its parent's
# patch state (klp_copy_process).  Once in a patching transition (the
# shell already patched: child born patched) and once in an unpatching
# one (the shell already unpatched: child born unpatched), both held up by
# klpt_sleeper.  Ground truth: snapshots `forked1` and `forked2` with the
# patch states of the shell and its children, their pids, parameters.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep

need_modules klptrace $TGT $LP || guest_fail "modules missing from the image"

# self_state_is N: this shell's own patch_state reads N (builtins only: the
# shell itself must be the task that is checked, not a child).
self_state_is() {
	read -r _st <"/proc/$$/task/$$/patch_state" && [ "$_st" = "$1" ]
}

children=""

mark "fork_inherit: load klptrace"
load_klptrace || guest_fail "load_klptrace failed"
fact shell_pid "$$"

start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"

# --- 1. a patching transition, held up by the sleeper ---------------------
mark "fork_inherit: insmod $LP"
expect_success insmod_rc insmod_test $LP
expect_eq "$LP transition after insmod (sleeper in klpt_sleep_fn)" 1 "$(lp_transition $LP)"
# The shell switches on its next return to user space.
loop_until self_state_is 1 || guest_fail "this shell ($$) never reached patch_state 1"

mark "fork_inherit: fork 1"
sleep 600 &
child1=$!
children="$children $child1"
fact child1_pid "$child1"
snap forked1
expect_eq "$LP transition at snap forked1" 1 "$(lp_transition $LP)"
expect_eq "patch_state of child 1 ($child1)" 1 "$(patch_state "$child1")"
grep -q "^$child1 $child1 1 0 " "$KLPT_OUT/snap/forked1/tasks" ||
	guest_fail "snap forked1: child $child1 not at patch_state 1"
grep -q "^$$ $$ 1 0 " "$KLPT_OUT/snap/forked1/tasks" ||
	guest_fail "snap forked1: this shell $$ not at patch_state 1"

mark "fork_inherit: release 1"
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP 120 || guest_fail "patching transition did not finish after release"
mark "fork_inherit: patched"

# --- 2. an unpatching transition, held up by the sleeper in the new function
mark "fork_inherit: block again"
sleeper_block || guest_fail "klpt_sleeper did not sleep again (in_func != 1)"
expect_eq "impl with the sleeper in the new function" 1 "$(param $TGT impl)"
fact impl_block2 "$(param $TGT impl)"

mark "fork_inherit: disable"
lp_disable $LP || guest_fail "writing 0 to $LP/enabled failed"
expect_eq "$LP transition after disable (sleeper in the new function)" 1 "$(lp_transition $LP)"
loop_until self_state_is 0 || guest_fail "this shell ($$) never reached patch_state 0"

mark "fork_inherit: fork 2"
sleep 600 &
child2=$!
children="$children $child2"
fact child2_pid "$child2"
snap forked2
expect_eq "$LP transition at snap forked2" 1 "$(lp_transition $LP)"
expect_eq "$LP enabled at snap forked2" 0 "$(lp_enabled $LP)"
expect_eq "patch_state of child 2 ($child2)" 0 "$(patch_state "$child2")"

# --- tidy up ----------------------------------------------------------------
mark "fork_inherit: release 2"
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait_lp_gone $LP 120 || guest_fail "$LP did not go away after the release"
wait_refcnt $LP 0 || guest_fail "refcnt of $LP did not drop to 0"
rmmod $LP || guest_fail "rmmod $LP failed"
# shellcheck disable=SC2086 # one pid a word
kill $children
children=""
events_sync || guest_fail "events_sync failed"
rmmod $TGT || guest_fail "rmmod $TGT failed"
log "fork_inherit done"
