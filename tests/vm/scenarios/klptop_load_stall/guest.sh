#!/bin/sh
# klptop_load_stall: klptop --load of klpt_lp_sleep while klpt_sleeper
# sleeps in klpt_sleep_fn (the function it patches): the patching
# transition cannot complete, klptop calls it stalled after
# --stall-after (no task switched for that long) and applies --on-stall:
#
#   report          --stall-after 20, past the kernel's first signal
#                   round (pass 15), which klptop reports: exit 1,
#                   nothing written: transition still 1 (then disabled
#                   and removed by hand, lib.sh)
#   busy            meanwhile, klptop --load of klpt_lp_vmlinux: 6.1
#                   __klp_enable_patch() refuses it (EBUSY, no kernel
#                   log line): exit 2, klpt_lp_sleep named, nothing
#                   left loaded, klpt_lp_sleep's transition untouched
#   disable         --stall-after 3 as below: exit 1, the reverse completed: no patch directory,
#                   the module loaded with refcnt 0 (then rmmod)
#   disable-unload  exit 1, the reverse completed and the module gone
#   deadline        --on-stall=disable --timeout 2.5 --stall-after 1000:
#                   one deadline from the load covers the reverse and
#                   the wait: exit 1 within it (uptime, 3 s slack: TCG),
#                   a closing line, then removed by hand
#
# Snapshots right after each exit are the judge's ground truth, with
# the kernel log lines of each run (dmesg_NAME.txt).
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep
OTHER=klpt_lp_vmlinux

need_modules klptrace $TGT $LP $OTHER || guest_fail "modules missing from the image"
[ -x "$KLPT_TOP_BIN" ] || guest_fail "no klptop in the image (make -C tui)"
load_klptrace || guest_fail "load_klptrace failed"
start_sleeper || guest_fail "start_sleeper failed"

# load_run NAME ARGS...: klptop_run NAME ARGS, its kernel log lines
# (those dmesg gained meanwhile) in dmesg_NAME.txt, then snap NAME.
load_run() {
	_n=$(dmesg | wc -l)
	klptop_run "$@"
	snap "$1"
	dmesg | tail -n +$((_n + 1)) >"$KLPT_OUT/dmesg_$1.txt"
}

load_run report --load "$KLPT_MODDIR/$LP.ko" --on-stall=report --stall-after 20
expect_eq "sleeper's patch_state after report" 0 \
	"$(patch_state "$(param $TGT pid)")"
load_run busy --load "$KLPT_MODDIR/$OTHER.ko" --wait-complete
[ -e /sys/module/$OTHER ] && fact busy_sysmodule present
lp_disable $LP || guest_fail "disable $LP after report"
wait_lp_gone $LP && rmmod_wait $LP || guest_fail "rmmod $LP after report"
loop_until file_is /sys/module/$TGT/parameters/in_func 1 ||
	guest_fail "the sleeper left klpt_sleep_fn"

load_run disable --load "$KLPT_MODDIR/$LP.ko" --on-stall=disable --stall-after 3
fact disable_refcnt "$(refcnt $LP 2>/dev/null || echo gone)"
rmmod $LP || guest_fail "rmmod $LP after disable"

load_run unload --load "$KLPT_MODDIR/$LP.ko" --on-stall=disable-unload \
	--stall-after 3
[ -e /sys/module/$LP ] && fact unload_sysmodule present
[ -e "$KLPT_LP/$LP" ] && fact unload_lpdir present
if rmmod $LP 2>/dev/null; then fact unload_rmmod ok; else fact unload_rmmod failed; fi

_t0=$(cut -d' ' -f1 /proc/uptime)
klptop_run deadline --load "$KLPT_MODDIR/$LP.ko" --on-stall=disable \
	--stall-after 1000 --timeout 2.5
fact deadline_secs "$(awk -v t0="$_t0" '{ print $1 - t0 }' /proc/uptime)"
wait_lp_gone $LP && rmmod_wait $LP || guest_fail "rmmod $LP after deadline"

set_param $TGT block 0 || guest_fail "block=0"
rmmod $TGT || guest_fail "rmmod $TGT"
unload_klptrace
exit 0
