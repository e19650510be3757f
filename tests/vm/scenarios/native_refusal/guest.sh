#!/bin/sh
# native_refusal: klptrace.ko and a kernel's own klp events never meet.
# On a kernel with the native series (kernel/native/) the klp events are
# in tracefs from boot and klptrace.ko refuses to load, with one clear
# line in the kernel log; on a stock kernel there are none until
# klptrace.ko loads, which it does.  Ground truth: tracefs, insmod's
# result, /sys/module, dmesg.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

have_module klptrace || guest_fail "klptrace.ko is not in the image"
refusal="klptrace: this kernel has the klp trace events itself"
if [ -d "$KLPT_TRACING/events/klp" ]; then
	fact kernel native
	mark "native_refusal: insmod klptrace.ko on a native kernel"
	if out=$(insmod "$KLPT_MODDIR/klptrace.ko" 2>&1); then
		guest_fail "klptrace.ko loaded on a kernel with the klp events"
	fi
	log "insmod: $out"
	[ ! -d /sys/module/klptrace ] || guest_fail "klptrace is in /sys/module after the refusal"
	dmesg | grep -q "$refusal" || guest_fail "no '$refusal' line in dmesg"
	[ -d "$KLPT_TRACING/events/klp/klp_transition_init" ] ||
		guest_fail "the kernel's klp_transition_init event is gone"
else
	fact kernel stock
	mark "native_refusal: insmod klptrace.ko on a stock kernel"
	insmod "$KLPT_MODDIR/klptrace.ko" || guest_fail "klptrace.ko did not load"
	[ -d "$KLPT_TRACING/events/klp" ] || guest_fail "no events/klp with klptrace.ko loaded"
	if dmesg | grep -q "$refusal"; then
		guest_fail "klptrace.ko said '$refusal' on a stock kernel"
	fi
	rmmod klptrace || guest_fail "rmmod klptrace failed"
fi
log "native_refusal done"
