#!/bin/sh
# ksym_lookup: klptrace.ko finds the kernel globals it reads without ever
# calling kallsyms_lookup_name() itself.  An indirect call to it (through
# a pointer found with a kprobe) is a #CP on a kernel with
# CONFIG_X86_KERNEL_IBT, which seals that function's ENDBR; none of
# Debian's 6.1 kernels has IBT, and qemu TCG has no CET, so the call is
# caught here instead: a kprobe event on kallsyms_lookup_name with kernel
# stack traces records every call during the insmod, and judge.py requires
# that each one's caller is a function of the kernel image (the kprobe
# core's _kprobe_addr()), none of klptrace.ko's (module and init
# functions are not vmlinux text symbols in /proc/kallsyms).  The globals must all be found (the
# hooks report, /sys/kernel/klptrace/hooks).
# Ground truth: the kernel's stack traces; the hooks report.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

T=$KLPT_TRACING
I=$T/instances/ksym

need_modules klptrace || guest_fail "klptrace.ko missing from the image"
echo 'p:klpt_kln kallsyms_lookup_name' >>"$T/kprobe_events" ||
	guest_fail "cannot add a kprobe event on kallsyms_lookup_name"
mkdir "$I" || guest_fail "mkdir $I"
echo 1 >"$I/options/stacktrace" || guest_fail "no stacktrace option"
echo 1 >"$I/events/kprobes/klpt_kln/enable" || guest_fail "cannot enable klpt_kln"
load_klptrace || guest_fail "load_klptrace failed"
echo 0 >"$I/events/kprobes/klpt_kln/enable"
cat "$I/trace" >"$KLPT_OUT/kln_trace"
cat /sys/kernel/klptrace/hooks >"$KLPT_OUT/hooks"
rmdir "$I"
echo '-:klpt_kln' >>"$T/kprobe_events"
# frames: every function in the stacks, "NAME kernel" if /proc/kallsyms
# has it as vmlinux text (no [module]), else "NAME other"; one pass over
# /proc/kallsyms for all of them
sed -n 's/^ => \([^+ ]*\).*/\1/p' "$KLPT_OUT/kln_trace" | sort -u >"$KLPT_OUT/fns"
pat=$(tr '\n' '|' <"$KLPT_OUT/fns")
grep -E " [tT] (${pat%|})\$" /proc/kallsyms | sed 's/.* //' | sort -u >"$KLPT_OUT/fns_kernel"
while read -r fn; do
	if grep -qxF "$fn" "$KLPT_OUT/fns_kernel"; then
		echo "$fn kernel"
	else
		echo "$fn other"
	fi
done <"$KLPT_OUT/fns" >"$KLPT_OUT/frames"
fact kln_calls "$(grep -c ' klpt_kln: ' "$KLPT_OUT/kln_trace")"
log "ksym_lookup: $(cat "$KLPT_OUT/facts/kln_calls") calls of kallsyms_lookup_name during insmod"
