#!/bin/sh
# reload_hammer: klptrace.ko loaded and unloaded in a tight loop while
# livepatch transitions run all the time, to catch races between the
# module's load/unload and its handlers.
#
# Under multi-threaded TCG (KLPT_VM_ACCEL=tcg) it reproduces, in about
# one run in four, an oops seen before: RIP 0 with IF clear, the stack
# at the entry of a hooked function (klp_try_switch_task,
# klp_copy_process, klp_update_patch_state), i.e. 6.1's
# kprobe_int3_handler() single-stepping an ftrace-based kprobe, whose
# ainsn.insn is NULL: an int3 executed at an ftrace site that
# text_poke_bp() no longer owns.  Or a soft lockup: the same stale int3
# where no kprobe is (kprobe_int3_handler() backs up and runs it again).
# Nothing in 6.1's source leaves such an int3; vm.env runs this
# scenario with the vCPUs on one host thread (tcg,thread=single), where
# it has not happened.
#
# Beside the loop, a churn (a background subshell) cycles klpt_lp_sleep:
# insmod (the patching transition is blocked by klpt_sleeper: the core's
# retry pass runs once a second and calls klp_try_switch_task for every
# task), a few passes, disable (the transition reverses and completes:
# klpt_sleeper never left the original function), the patch freed and
# released, its module reference dropped, rmmod.  So every hook's
# function runs during the reloads: pass, stack check, init, start,
# reverse, complete, free, release, module get/put/free.  HOGS sleeping
# processes make each pass check more tasks.
#
# The loop: at most N cycles of insmod klptrace (klp events on, every
# hook active), rmmod klptrace, for at most SECS seconds.  The harness
# fails the run on any kernel splat in dmesg; a hang is the guest
# timeout.  Facts: reloads, churn_cycles.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_sleep
LP=klpt_lp_sleep
N=200
SECS=50
HOGS=600
STOP=/tmp/reload_hammer.stop
CHURN_N=/tmp/reload_hammer.churn

need_modules klptrace $TG $LP || guest_fail "modules missing from the image"
module_loaded klptrace && guest_fail "klptrace is loaded before the scenario loads it"

# churn: cycle LP until $STOP exists; the count of full cycles in
# $CHURN_N.  guest_fail here ends only the subshell: /out/failures
# still fails the run.
churn() {
	_n=0
	while [ ! -e "$STOP" ]; do
		insmod_test $LP || guest_fail "churn $_n: insmod $LP failed"
		# Blocked by klpt_sleeper: the retry passes run meanwhile.
		holds_for 2 file_is "$KLPT_LP/$LP/transition" 1 ||
			guest_fail "churn $_n: the patching transition of $LP did not stay blocked"
		lp_disable $LP || guest_fail "churn $_n: writing 0 to $LP/enabled failed"
		wait_lp_gone $LP || guest_fail "churn $_n: $LP did not go away after the disable"
		rmmod_wait $LP || guest_fail "churn $_n: rmmod $LP failed"
		_n=$((_n + 1))
		echo "$_n" >"$CHURN_N"
	done
}

insmod_test $TG || guest_fail "insmod $TG failed"
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn()"
sleep_procs $HOGS
hogs=$KLPT_SLEEP_PIDS

log "churn of $LP starts"
rm -f "$STOP"
echo 0 >"$CHURN_N"
churn &
churn_pid=$!
loop_until file_is "$KLPT_LP/$LP/transition" 1 || guest_fail "the churn never started a transition"

log "reloading klptrace.ko: at most $N cycles, $SECS s"
deadline=$(($(_klpt_cs) + SECS * 100))
i=0
while [ $i -lt $N ] && [ "$(_klpt_cs)" -lt $deadline ]; do
	i=$((i + 1))
	insmod_test klptrace || guest_fail "reload $i: insmod klptrace failed"
	enable_events klp || guest_fail "reload $i: cannot enable the klp events"
	inactive=$(grep -v ' active ' /sys/kernel/klptrace/hooks)
	[ -z "$inactive" ] || guest_fail "reload $i: hooks not active: $inactive"
	rmmod klptrace || guest_fail "reload $i: rmmod klptrace failed"
done
touch "$STOP"
wait "$churn_pid"
churn_rc=$?
# shellcheck disable=SC2086 # one pid a word
kill $hogs
log "$i reloads, $(cat "$CHURN_N") churn cycles"
fact reloads "$i"
fact churn_cycles "$(cat "$CHURN_N")"
expect_eq "churn exit status" 0 "$churn_rc"
module_loaded klptrace && guest_fail "klptrace still loaded"
module_loaded $LP && guest_fail "$LP still loaded after the churn"
log "reload_hammer done"
