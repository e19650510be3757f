#!/bin/sh
# stress_reload: 100 load/unload cycles of klptrace.ko while klpt_lp_sleep
# goes through its lifecycle, transitions held up by klpt_sleeper.
#
#   cycles  1-25  the patching transition is blocked (began before cycle 1,
#                 with no klptrace loaded)
#   cycle  26     klpt_sleeper is released while klptrace is loaded: the
#                 transition completes under it
#   cycles 26-50  the patch is on, no transition
#   (between 50 and 51, no klptrace: klpt_sleeper blocks in the new
#    function and the patch is disabled: the unpatching transition stalls)
#   cycles 51-75  the unpatching transition is blocked
#   cycle  76     released just before klptrace's rmmod: the transition
#                 completes and the patch is freed while klptrace goes
#   cycles 76-100 the patch is gone; klpt_lp_sleep is removed between
#                 cycles 90 and 91
#
# Every 5th cycle of a blocked phase waits for a retry pass of the core
# while klptrace is loaded.  A klpt_watch runs through cycles 25, 50, 75 (lib/1..3, compared with
# the snapshots lib_unload1..3 before klptrace goes) and 100, which
# leaves klptrace loaded: the model after the last load is compared with
# lib_final.  Markers "stress_reload: load N" / "unload N" / "unloaded N"
# bracket every cycle; facts: cycles, sleeper_pid, the phase boundaries.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_sleep
LP=klpt_lp_sleep
N=100

need_modules klptrace $TG $LP || guest_fail "modules missing from the image"

# load N: klptrace.ko in, its events on in klpt_e2e; a klpt_watch (and
# the hooks list in scenario.log) only in the watched cycles.
load() {
	mark "stress_reload: load $1"
	case $1 in
	25 | 50 | 75 | "$N") load_klptrace || guest_fail "cycle $1: load_klptrace failed" ;;
	*)
		insmod_test klptrace || guest_fail "cycle $1: insmod klptrace failed"
		enable_events klp module || guest_fail "cycle $1: cannot enable the klp events"
		;;
	esac
	grep -q ' active ' /sys/kernel/klptrace/hooks || guest_fail "cycle $1: no active hook"
	grep -qv ' active ' /sys/kernel/klptrace/hooks &&
		guest_fail "cycle $1: hooks not active: $(grep -v ' active ' /sys/kernel/klptrace/hooks)"
}

# unload N: unload_klptrace (watch_stop, events_sync, rmmod).
unload() {
	mark "stress_reload: unload $1"
	unload_klptrace || guest_fail "cycle $1: unload_klptrace failed"
	module_loaded klptrace && guest_fail "cycle $1: klptrace still loaded"
	mark "stress_reload: unloaded $1"
}

fact cycles "$N"
log "block the patching transition of $LP, without klptrace"
insmod_test $TG || guest_fail "insmod $TG failed"
fact sleeper_pid "$(param $TG pid)"
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn()"
mark "stress_reload: insmod $LP"
insmod_test $LP || guest_fail "insmod $LP failed"
expect_eq "$LP transition after insmod" 1 "$(lp_transition $LP)"

i=1
while [ $i -le $N ]; do
	load $i
	# A retry pass comes once a second, a cycle is shorter: every 5th
	# cycle of a blocked phase waits for one, so that klptrace is seen
	# to follow the core's retry count across loads.
	if [ $((i % 5)) -eq 0 ] && { [ $i -le 25 ] || { [ $i -gt 50 ] && [ $i -le 75 ]; }; }; then
		loop_until has_since "stress_reload: load $i" klp_transition_pass 1 ||
			guest_fail "cycle $i: no transition pass while blocked"
	fi
	case $i in
	26)
		mark "stress_reload: release 1"
		set_param $TG block 0 || guest_fail "cannot set block=0"
		wait_transition_done $LP || guest_fail "patching transition did not finish after the release"
		expect_eq "$LP enabled after the patching transition" 1 "$(lp_enabled $LP)"
		;;
	76)
		# The unpatching transition ends, and the patch is freed, while
		# klptrace is being removed.
		mark "stress_reload: release 2"
		set_param $TG block 0 || guest_fail "cannot set block=0"
		;;
	esac
	[ $i -eq $N ] && break
	unload $i
	case $i in
	25 | 75)
		expect_eq "$LP transition after unload $i (the transition goes on)" 1 "$(lp_transition $LP)"
		;;
	50)
		mark "stress_reload: disable"
		sleeper_block || guest_fail "klpt_sleeper did not block again"
		expect_eq "klpt_sleep_fn running" 1 "$(param $TG impl)"
		lp_disable $LP || guest_fail "writing 0 to $LP/enabled failed"
		expect_eq "$LP transition after disable" 1 "$(lp_transition $LP)"
		;;
	76)
		wait_lp_gone $LP || guest_fail "$LP did not go away after release 2"
		wait_refcnt $LP 0 || guest_fail "refcnt of $LP did not drop to 0"
		;;
	90)
		mark "stress_reload: rmmod $LP"
		rmmod $LP || guest_fail "rmmod $LP failed"
		;;
	esac
	i=$((i + 1))
done
snap last_load
module_loaded $LP && guest_fail "$LP still loaded"
log "stress_reload done; klptrace stays loaded (lib_final)"
