#!/bin/sh
# Kernel overhead of klptrace (bench/README.md, benchmark 2): a full patch
# transition (klptb_cycle: load klpt_lp_vmlinux until its transition
# completes, then disable until the module reference is dropped) with
# $klptb_n idle threads, in three configurations, interleaved rep by rep
# so that drift of the emulated machine hits all three alike:
#   none     no klptrace.ko
#   dyndbg   dynamic debug on kernel/livepatch/* (+p), the upstream way
#   klptrace klptrace.ko loaded, klp events enabled in an instance of
#            their own (nobody reads it during the cycle)
#   klptrace_fps  the same with first_pass_summary=1: no per-task probe
#            in the first pass (here the only one), a walk at its end
# On a kernel with the native events (kernel/native/, the flavour
# native of bench/run.sh), where klptrace.ko refuses to load, the third
# is instead
#   native   the kernel's own klp events enabled in such an instance
# and none is the native events off (compiled in, their static keys off),
# and klptrace_fps is replaced by
#   native_fps  native with livepatch.trace_first_pass_summary=1: the
#            first pass of each transition emits no stack_check switch
#            (kernel/native/README.md)
# One CPU (vm.env): then no task runs besides the loader, so every
# transition completes in its first pass, inside the syscall, and the
# times measure the work and not the 1 s retry timer.
. /klpt/lib.sh
. /klpt/scenarios/bench_lib.sh

n=${klptb_n:?klptb_n= missing on the kernel command line}
reps=${klptb_reps:-5}
fps=/sys/module/livepatch/parameters/trace_first_pass_summary
if klpt_native; then
	events="native native_fps"
	need_modules klpt_lp_vmlinux || guest_fail "modules missing"
	[ -w $fps ] || guest_fail "no $fps"
else
	events="klptrace klptrace_fps"
	need_modules klptrace klpt_lp_vmlinux || guest_fail "modules missing"
fi
klptb_setup || guest_fail "setup"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ddc=/sys/kernel/debug/dynamic_debug/control
[ -w $ddc ] || guest_fail "no $ddc"
klptb_spawn "$n" || guest_fail "spawning $n threads"
bi=$KLPT_TRACING/instances/klptb

one() { # one CONFIG REP
	case $1 in
	dyndbg)
		echo 'file kernel/livepatch/* +p' >$ddc || return 1
		_before=$(dmesg | grep -c livepatch)
		;;
	klptrace|klptrace_fps|native|native_fps)
		if [ "$1" = klptrace ]; then
			insmod "$KLPT_MODDIR/klptrace.ko" || return 1
		elif [ "$1" = klptrace_fps ]; then
			insmod "$KLPT_MODDIR/klptrace.ko" first_pass_summary=1 || return 1
			# a module without the option ignores it (a warning only)
			[ "$(cat /sys/module/klptrace/parameters/first_pass_summary)" = Y ] ||
				return 1
		fi
		if [ "$1" = native_fps ]; then
			echo 1 >$fps || return 1
		fi
		mkdir "$bi" && echo 1 >"$bi/events/klp/enable" || return 1
		;;
	esac
	_r=$(/tmp/bin/klptb_cycle "$KLPT_MODDIR/klpt_lp_vmlinux.ko" klpt_lp_vmlinux) || return 1
	_extra=
	case $1 in
	dyndbg)
		echo 'file kernel/livepatch/* -p' >$ddc
		_extra="dyndbg_lines $(($(dmesg | grep -c livepatch) - _before))"
		;;
	klptrace|klptrace_fps|native|native_fps)
		echo 0 >"$bi/events/klp/enable"
		if [ "$1" = native_fps ]; then
			echo 0 >$fps
		fi
		_extra="klp_events $(awk '/^entries:/ { n += $2 } END { print n + 0 }' "$bi"/per_cpu/cpu*/stats)"
		rmdir "$bi"
		if [ "$1" = klptrace ] || [ "$1" = klptrace_fps ]; then
			rmmod klptrace || return 1
		fi
		;;
	esac
	klptb_line overhead.txt "tasks $n config $1 rep $2 $_r $_extra"
	log "$1 rep $2: $_r $_extra"
}

# Rep 0 warms up (module loading paths, caches) and is not counted.
# The order rotates every rep: a configuration's clean-up (rmmod
# klptrace frees its kprobes and RCU work) must not always fall into
# the same neighbour's measurement.
# shellcheck disable=SC2086 # $events: two names
set -- none dyndbg $events
for rep in $(seq 0 "$reps"); do
	for c in "$@"; do
		one $c "$rep" || guest_fail "$c rep $rep"
	done
	# rotate: the first goes last
	c=$1
	shift
	set -- "$@" "$c"
done
kill "$_klptb_tpid"
