#!/bin/sh
# enable_vmlinux: enable a vmlinux livepatch (klpt_lp_vmlinux, replaces
# cmdline_proc_show) with no task in the way, and record the ground truth
# the judge compares the klp events with: the task snapshots before and
# after, the online CPUs, /proc/cmdline before and after.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

LP=klpt_lp_vmlinux

need_modules klptrace $LP || guest_fail "modules missing from the image"

mark "enable_vmlinux: load klptrace"
load_klptrace || guest_fail "load_klptrace failed"

fact cpus_online "$(cat /sys/devices/system/cpu/online)"
cmdline=$(cat /proc/cmdline)
fact cmdline_before "$cmdline"
case $cmdline in
*"klpt_lp_vmlinux: patched"*) guest_fail "/proc/cmdline already patched before insmod" ;;
esac

snap before

mark "enable_vmlinux: insmod $LP"
expect_success insmod_rc insmod_test $LP
mark "enable_vmlinux: insmod returned"

wait_transition_done $LP || guest_fail "transition of $LP did not finish"
mark "enable_vmlinux: transition done"

cmdline=$(cat /proc/cmdline)
fact cmdline_after "$cmdline"
expect_eq "/proc/cmdline with $LP enabled" "klpt_lp_vmlinux: patched" "$cmdline"

snap after

expect_eq "$LP enabled" 1 "$(lp_enabled $LP)"
expect_eq "$LP transition" 0 "$(lp_transition $LP)"
events_sync || guest_fail "events_sync failed"
log "enable_vmlinux done"
