#!/bin/sh
# prepatch_window: an enable held between klp_init_transition() and
# klp_start_transition() (klpt_lp_cb_wait's pre_patch callback waits at
# klpt_cb_gate), and an enable whose pre_patch callback fails
# (klpt_lp_cb_fail: klp_cancel_transition()).  In the window sysfs says
# enabled 0, transition 1 and every task's patch_state is 0 (the initial
# state !target); the library's model (watch_dump) and klptop's frames
# (klptop_check) are compared with that snapshot.  The failing enable is
# loaded with one finit_module() call (busybox insmod would retry it
# with init_module() and run the callback twice).
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

GATE=klpt_cb_gate
LPW=klpt_lp_cb_wait
LPF=klpt_lp_cb_fail
FINIT=/klpt/bin/klpt_finit

need_modules klptrace $GATE $LPW $LPF || guest_fail "modules missing from the image"
[ -x $FINIT ] || guest_fail "no $FINIT in the image (make -C lib)"

mark "prepatch_window: load klptrace"
load_klptrace || guest_fail "load_klptrace failed"
insmod_test $GATE || guest_fail "insmod $GATE"

# insmod does not return while the callback waits: in the background.
mark "prepatch_window: insmod $LPW"
(
	rc=0
	insmod_test $LPW || rc=$?
	echo "$rc" >/tmp/lpw_rc
) &
lpw_job=$!
loop_until file_is /sys/module/$GATE/parameters/waiting 1 ||
	guest_fail "the pre_patch callback of $LPW never waited"
mark "prepatch_window: in the window"
expect_eq "$LPW enabled in the window" 0 "$(lp_enabled $LPW)"
expect_eq "$LPW transition in the window" 1 "$(lp_transition $LPW)"
snap window
watch_dump window_lib || guest_fail "watch_dump in the window"
klptop_check window || guest_fail "klptop_check in the window"
# the judge relies on the whole of it being in the window
expect_eq "callbacks still waiting after the checks" 1 \
	"$(param $GATE waiting)"
expect_eq "$LPW enabled after the checks" 0 "$(lp_enabled $LPW)"

mark "prepatch_window: open the gate"
set_param $GATE open 1 || guest_fail "cannot open the gate"
wait "$lpw_job"
fact lpw_insmod_rc "$(cat /tmp/lpw_rc)"
expect_eq "insmod $LPW status" 0 "$(cat /tmp/lpw_rc)"
wait_transition_done $LPW || guest_fail "transition of $LPW did not finish"
mark "prepatch_window: $LPW enabled"
snap enabled
expect_eq "$LPW enabled" 1 "$(lp_enabled $LPW)"

# klptop watches the failing enable frame by frame (not a klptop_check:
# no snapshot can be taken inside that window).
mkdir -p "$KLPT_OUT/prepatch"
if [ -x "$KLPT_TOP_BIN" ]; then
	"$KLPT_TOP_BIN" --json -d 0.1 -n 30 >"$KLPT_OUT/prepatch/fail.json" \
		2>"$KLPT_OUT/prepatch/fail.err" &
	top_job=$!
	# its first frame: it watches before the load
	loop_until test -s "$KLPT_OUT/prepatch/fail.json" ||
		guest_fail "klptop wrote no frame"
fi

mark "prepatch_window: load $LPF"
rc=0
$FINIT "$KLPT_MODDIR/$LPF.ko" 2>"$KLPT_OUT/prepatch/finit.err" || rc=$?
mark "prepatch_window: $LPF failed"
fact lpf_rc "$rc"
expect_eq "klpt_finit $LPF status (ENODEV)" 19 "$rc"
events_sync || guest_fail "events_sync failed"
snap failed
! lp_exists $LPF || guest_fail "$LPF still has a patch directory"
! module_loaded $LPF || guest_fail "$LPF still loaded"
klptop_check failed || guest_fail "klptop_check after the failure"
if [ -n "${top_job:-}" ]; then
	wait "$top_job"
	fact klptop_fail_rc $?
fi

mark "prepatch_window: disable $LPW"
lp_disable $LPW || guest_fail "disable $LPW"
wait_lp_gone $LPW || guest_fail "$LPW: patch directory still there"
rmmod_wait $LPW || guest_fail "unload $LPW"
rmmod $GATE || guest_fail "rmmod $GATE"
snap removed
unload_klptrace
log "prepatch_window done"
