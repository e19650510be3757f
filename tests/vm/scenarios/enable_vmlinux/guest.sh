#!/bin/sh
# enable_vmlinux: enable a vmlinux livepatch (klpt_lp_vmlinux, replaces
# cmdline_proc_show) with no task in the way, and record the ground truth
# the judge compares the klp events with: the task snapshots before and
# after, the online CPUs, /proc/cmdline before and after.
. /klpt/lib.sh

LP=klpt_lp_vmlinux
FACTS=$KLPT_OUT/facts
mkdir -p "$FACTS"

have_klptrace || guest_fail "klptrace.ko not in the image"
have_module $LP || guest_fail "$LP.ko not in the image"

mark "enable_vmlinux: load klptrace"
load_klptrace || guest_fail "load_klptrace failed"

cat /sys/devices/system/cpu/online >"$FACTS/cpus_online"
cat /proc/cmdline >"$FACTS/cmdline_before"
case $(cat "$FACTS/cmdline_before") in
*"klpt_lp_vmlinux: patched"*) guest_fail "/proc/cmdline already patched before insmod" ;;
esac

snap before

mark "enable_vmlinux: insmod $LP"
insmod_test $LP
rc=$?
echo "$rc" >"$FACTS/insmod_rc"
expect_eq "insmod $LP exit code" 0 "$rc"
mark "enable_vmlinux: insmod returned"

wait_transition_done $LP || guest_fail "transition of $LP did not finish"
mark "enable_vmlinux: transition done"

cat /proc/cmdline >"$FACTS/cmdline_after"
expect_eq "/proc/cmdline with $LP enabled" "klpt_lp_vmlinux: patched" "$(cat "$FACTS/cmdline_after")"

snap after

expect_eq "$LP enabled" 1 "$(lp_enabled $LP)"
expect_eq "$LP transition" 0 "$(lp_transition $LP)"
events_sync || guest_fail "events_sync failed"
log "enable_vmlinux done"
