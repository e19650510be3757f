#!/bin/sh
# klptop_status: klptop --status (text, --json, --fallback --json) in
# each state a monitoring script must tell apart, against the ground
# truth taken around each run (snapshots NAME_before and NAME:
# /sys/kernel/livepatch/*/{enabled,transition}, /sys/module/*/refcnt,
# /proc/*/task/*/patch_state), the rmmod results and the kernel's force
# line in dmesg.  6.1 (kernel/livepatch): enabled_store() starts a
# transition, klp_transition_patch is set until it completes,
# klp_free_patch_finish() removes the directory and then drops the
# module reference unless klp_force_transition() set patch->forced.
#
#  none_nokm    no patch, klptrace.ko not loaded (fallback)      -> 0
#  none         no patch, klptrace.ko loaded (events)            -> 0
#  patching     klpt_lp_sleep's enable held by klpt_sleeper       -> 1
#  enabled      enabled, idle                                     -> 0
#  unpatching   its disable held by klpt_sleeper                  -> 1
#  disabled     directory gone, module loaded (refcnt 0)          -> 1
#  removed      after rmmod                                       -> 0
#  replaced     klpt_lp_sleep replaced by klpt_lp_sleep2
#               (.replace), its module loaded                     -> 1
#               (-p klpt_lp_sleep2: 0, -p klpt_lp_sleep: 1)
#  replace_only after rmmod klpt_lp_sleep                         -> 0
#  forced       klpt_lp_sleep2's disable forced: directory gone,
#               refcnt stays 1, rmmod fails                       -> 3
#  forced_tr    and klpt_lp_sleep's enable held by klpt_sleeper   -> 3
#               (-p klpt_lp_sleep: 1, -p klpt_lp_sleep2: 3)
#  unknown_p    -p no_such_patch                                  -> 2
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep
LP2=klpt_lp_sleep2
S=klptop_status

need_modules klptrace $TGT $LP $LP2 || guest_fail "modules missing from the image"
[ -x "$KLPT_TOP_BIN" ] || guest_fail "klptop not in the image: make -C tui"

# timed NAME ARGS...: klptop_run, its wall time (centiseconds of the
# guest's uptime) as fact NAME_cs.
timed() {
	_t0=$(_klpt_cs)
	klptop_run "$@"
	fact "${1}_cs" $(($(_klpt_cs) - _t0))
}

# st NAME [ARGS]: klptop --status ARGS as text, --json and --fallback
# --json (NAME.txt, NAME_json.txt, NAME_fb.txt; exit codes as facts),
# between the snapshots NAME_before and NAME.
st() {
	_n=$1
	shift
	snap "${_n}_before"
	timed "$_n" --status "$@"
	timed "${_n}_json" --status --json "$@"
	timed "${_n}_fb" --status --fallback --json "$@"
	snap "$_n"
}

# only_sleeper TARGET: klpt_sleeper is the one thread not at TARGET (the
# others switch on their way to user space or at a pass): the count the
# judge compares holds still.
# shellcheck disable=SC2317 # called through loop_until
only_sleeper() {
	[ "$(unswitched "$1")" = 1 ] && [ "$(patch_state "$sleeper")" != "$1" ]
}

# leave: let klpt_sleeper leave klpt_sleep_fn and wait until it has.
leave() {
	set_param $TGT block 0 &&
		loop_until file_is /sys/module/$TGT/parameters/in_func 0
}

st none_nokm
load_klptrace || guest_fail "load_klptrace failed"
start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
sleeper=$(param $TGT pid)
st none

# --- a patching transition held, then complete --------------------------
mark "$S: insmod $LP"
insmod_test $LP || guest_fail "insmod $LP failed"
expect_eq "$LP transition while the sleeper blocks" 1 "$(lp_transition $LP)"
loop_until only_sleeper 1 || guest_fail "threads other than klpt_sleeper stay unswitched"
st patching
leave || guest_fail "klpt_sleeper did not leave klpt_sleep_fn"
wait_transition_done $LP || guest_fail "patching transition of $LP did not finish"
st enabled

# --- an unpatching transition held, then the module left loaded ---------
sleeper_block || guest_fail "klpt_sleeper never entered $LP's klpt_sleep_fn"
mark "$S: disable $LP"
lp_disable $LP || guest_fail "writing 0 to $LP/enabled failed"
expect_eq "$LP transition while the sleeper blocks" 1 "$(lp_transition $LP)"
loop_until only_sleeper 0 || guest_fail "threads other than klpt_sleeper stay patched"
st unpatching
leave || guest_fail "klpt_sleeper did not leave klpt_sleep_fn"
wait_lp_gone $LP || guest_fail "$LP's directory still there after the disable"
wait_refcnt $LP 0 || guest_fail "$LP's refcnt not 0 after the disable"
st disabled
rmmod $LP
fact rmmod_disabled_rc $?
st removed

# --- an atomic replace: the replaced module stays loaded ----------------
insmod_test $LP || guest_fail "insmod $LP (2) failed"
wait_transition_done $LP || guest_fail "patching transition of $LP (2) did not finish"
mark "$S: replace"
insmod_test $LP2 || guest_fail "insmod $LP2 failed"
wait_transition_done $LP2 || guest_fail "patching transition of $LP2 did not finish"
wait_lp_gone $LP || guest_fail "$LP's directory still there after the replace"
wait_refcnt $LP 0 || guest_fail "$LP's refcnt not 0 after the replace"
st replaced
klptop_run replaced_p2 --status -p $LP2
klptop_run replaced_p1 --status -p $LP
rmmod $LP
fact rmmod_replaced_rc $?
st replace_only

# --- a forced unpatch: the module pinned for good -----------------------
sleeper_block || guest_fail "klpt_sleeper never entered $LP2's klpt_sleep_fn"
mark "$S: disable $LP2"
lp_disable $LP2 || guest_fail "writing 0 to $LP2/enabled failed"
expect_eq "$LP2 transition while the sleeper blocks" 1 "$(lp_transition $LP2)"
mark "$S: force $LP2"
lp_force $LP2 || guest_fail "writing 1 to $LP2/force failed"
wait_lp_gone $LP2 || guest_fail "$LP2's directory still there after the force"
st forced
rmmod $LP2 >"$KLPT_OUT/rmmod_forced.txt" 2>&1
fact rmmod_forced_rc $?
module_loaded $LP2 || guest_fail "rmmod removed the forced $LP2"

# --- and a transition beside it: forced wins ----------------------------
leave || guest_fail "klpt_sleeper did not leave $LP2's klpt_sleep_fn"
sleeper_block || guest_fail "klpt_sleeper never entered klpt_sleep_fn"
mark "$S: insmod $LP (3)"
insmod_test $LP || guest_fail "insmod $LP (3) failed"
expect_eq "$LP transition while the sleeper blocks" 1 "$(lp_transition $LP)"
loop_until only_sleeper 1 || guest_fail "threads other than klpt_sleeper stay unswitched"
st forced_tr
klptop_run forced_tr_p1 --status -p $LP
klptop_run forced_tr_p2 --status -p $LP2
snap forced_tr_after

klptop_run unknown_p --status -p no_such_patch
leave || guest_fail "klpt_sleeper did not leave klpt_sleep_fn"
wait_transition_done $LP || guest_fail "patching transition of $LP (3) did not finish"
exit 0
