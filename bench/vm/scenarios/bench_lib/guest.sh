#!/bin/sh
# Not a scenario: the functions the benchmark scenarios share. Running it
# alone defines them and exits 0.
# Shared steps of the benchmark scenarios (sourced after /klpt/lib.sh;
# installed as the scenario bench_lib, which run.sh never runs).

KLPTB_OUT=$KLPT_OUT/bench

# klptb_setup: the result directory, the helpers (they come in the image
# as /klpt/modules/klptb_* through EXTRA_KO, mode 0644) in /tmp/bin, and
# kernel limits raised for tens of thousands of threads.
klptb_setup() {
	mkdir -p "$KLPTB_OUT" /tmp/bin || return 1
	for _b in klptb_tasks klptb_cycle klptb_scan klptb_watch klptb_pty; do
		[ -f "$KLPT_MODDIR/$_b" ] || {
			echo "klptb_setup: $_b not in the image" >&2
			return 1
		}
		cp "$KLPT_MODDIR/$_b" /tmp/bin/ && chmod 0755 "/tmp/bin/$_b" || return 1
	done
	# a kernel that refuses one (a smaller PID_MAX_LIMIT) fails here,
	# not later with fewer threads than the figures claim
	echo 4194304 >/proc/sys/kernel/pid_max &&
		echo 1000000 >/proc/sys/kernel/threads-max &&
		echo 1048576 >/proc/sys/vm/max_map_count || return 1
	{
		echo "kernel $(uname -r)"
		echo "cpus $(grep -c ^processor /proc/cpuinfo)"
		echo "mem_kb $(awk '/MemTotal/ { print $2 }' /proc/meminfo)"
		echo "tasks ${klptb_n:-0}"
	} >"$KLPTB_OUT/guest-info"
}

# klptb_spawn N: N idle threads (klptb_tasks), waiting until all exist.
klptb_spawn() {
	/tmp/bin/klptb_tasks "$1" /tmp/tasks.ready >/tmp/tasks.log 2>&1 &
	_klptb_tpid=$!
	# ready: it wrote the ready file and still runs (it exits when a
	# thread cannot be made)
	loop_until_timeout 900 _klptb_ready &&
		[ -s /tmp/tasks.ready ] && kill -0 "$_klptb_tpid" 2>/dev/null || {
		echo "klptb_spawn: $(cat /tmp/tasks.log)" >&2
		return 1
	}
	log "$1 threads up (pid $_klptb_tpid); $(ls /proc | grep -c '^[0-9]') processes"
}

_klptb_ready() {
	[ -s /tmp/tasks.ready ] || ! kill -0 "$_klptb_tpid" 2>/dev/null
}

# klptb_line FILE WORDS...: append one result line.
klptb_line() {
	_f=$1
	shift
	echo "$*" >>"$KLPTB_OUT/$_f"
}
