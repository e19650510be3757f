#!/bin/sh
# Latency from the kernel's event to libklptrace's callback and to
# klptop's screen (bench/README.md, benchmark 4), with $klptb_n idle
# threads and $klptb_cycles enable/disable cycles of klpt_lp_vmlinux
# (klptb_cycle: every thread switches twice, one klp_task_switch each,
# plus the lifecycle events) per phase, one phase per klptop mode:
#
#   screen  klptop's interactive screen on a 120x40 pty (klptb_pty:
#           busybox has no `script`), which redraws when events come
#   batch   klptop -b -d 0.1: a text frame every 0.1 s (the shortest
#           delay), whatever the events
#
# Each klptop writes KLPTOP_FRAME_LOG (done_ns - first_new_ts per frame:
# its live session uses the monotonic trace clock).  The library's
# callback latency comes from the harness's own watcher (load_klptrace
# starts klpt_watch, which writes lib/1/latency.txt when it stops), over
# both phases.
. /klpt/lib.sh
. /klpt/scenarios/bench_lib.sh

n=${klptb_n:?klptb_n= missing on the kernel command line}
cycles=${klptb_cycles:-10}
need_modules klptrace klpt_lp_vmlinux || guest_fail "modules missing"
[ -x /klpt/bin/klptop ] || guest_fail "no klptop in the image (make -C tui)"
klptb_setup || guest_fail "setup"
# ptys for klptb_pty: /init mounts devtmpfs (which has /dev/ptmx) but no
# devpts, without which /dev/ptmx cannot hand out a pty
mkdir -p /dev/pts
grep -q ' /dev/pts ' /proc/mounts || mount -t devpts -o ptmxmode=0666 devpts /dev/pts ||
	guest_fail "mount devpts"
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
klptb_spawn "$n" || guest_fail "spawning $n threads"
load_klptrace || guest_fail "klptrace.ko did not load"

_klptb_has_frame() {
	[ -s "$1" ]
}

# phase NAME CMD...: start klptop (CMD) with its frame log, wait for its
# first frame, run the cycles, let it show the last events, stop it.
phase() {
	_name=$1
	shift
	KLPTOP_FRAME_LOG=$KLPTB_OUT/$_name.frames TERM=xterm "$@" \
		>/dev/null 2>"$KLPTB_OUT/$_name.err" &
	_pid=$!
	loop_until_timeout 120 _klptb_has_frame "$KLPTB_OUT/$_name.frames" ||
		guest_fail "$_name: no frame"
	sleep 2
	for _i in $(seq 1 "$cycles"); do
		# polls every 10 ms, not 0.5: its times are not used here
		_r=$(/tmp/bin/klptb_cycle "$KLPT_MODDIR/klpt_lp_vmlinux.ko" klpt_lp_vmlinux 10) ||
			guest_fail "$_name: cycle $_i"
		klptb_line cycle.txt "phase $_name tasks $n $_r"
		sleep 1
	done
	sleep 2
	kill -TERM "$_pid"
	wait "$_pid"
	klptb_line status.txt "$_name $?"
	log "$_name: $(wc -l <"$KLPTB_OUT/$_name.frames") frames"
}

phase screen /tmp/bin/klptb_pty 120 40 /klpt/bin/klptop --readonly
phase batch /klpt/bin/klptop -b -d 0.1 --readonly
unload_klptrace
kill "$_klptb_tpid"
