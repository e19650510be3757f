#!/bin/sh
# ftrace_overlap: concurrent writers of sysctl kernel.ftrace_enabled.
# Writers of 0 and 1 started together from 1 switch ftrace at least once
# whatever order they take ftrace_lock in (the first writer of 0 in that
# order finds it on: kernel/trace/ftrace.c ftrace_enable_sysctl), even
# when it ends on 1 again: the ftrace-based hooks were off meanwhile, so
# /sys/kernel/klptrace/ftrace_switches must grow.  No livepatch is loaded
# (its permanent ftrace ops would make the writes of 0 fail).
# Ground truth: the rule above, the sysctl's value after each round and
# every write's exit status (/out/rounds: "round before after final
# status..." per round).
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

SYSCTL=/proc/sys/kernel/ftrace_enabled
SW=/sys/kernel/klptrace/ftrace_switches
ROUNDS=40

need_modules klptrace || guest_fail "modules missing from the image"
[ -w $SYSCTL ] || guest_fail "no $SYSCTL"
# No watcher: the switches make a session resync, which is not the point.
insmod "$KLPT_MODDIR/klptrace.ko" || guest_fail "insmod klptrace.ko failed"
grep -E '^(ftrace_enable_sysctl|last_ftrace_enabled) ' /sys/kernel/klptrace/hooks >/out/hooks.load

# writer V N: write V to the sysctl, its exit status into /tmp/st.N.
writer() {
	if echo "$1" 2>/dev/null >$SYSCTL; then echo 0; else echo 1; fi >"/tmp/st.$2"
}

mark "ftrace_overlap: rounds"
: >/out/rounds
r=1
while [ $r -le $ROUNDS ]; do
	[ "$(cat $SYSCTL)" = 1 ] || echo 1 >$SYSCTL || guest_fail "cannot set ftrace_enabled=1"
	before=$(cat $SW)
	writer 0 a & a=$!
	writer 1 b & b=$!
	writer 0 c & c=$!
	writer 1 d & d=$!
	wait $a $b $c $d
	after=$(cat $SW)
	echo "$r $before $after $(cat $SYSCTL) $(cat /tmp/st.a /tmp/st.b /tmp/st.c /tmp/st.d | tr '\n' ' ')" >>/out/rounds
	r=$((r + 1))
done
echo 1 >$SYSCTL
mark "ftrace_overlap: done"
log "ftrace_overlap done"
