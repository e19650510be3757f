#!/bin/bash
# klptrace benchmarks (`make bench`; see bench/README.md).
#
#   bench/run.sh [decode] [overhead] [watch] [tui]    (default: all)
#
# 1. decode    host: 10M synthetic klp events through libklptrace's
#              replay, a minimal libtraceevent loop and `trace-cmd
#              report`; the live part runs in the watch VMs
# 2. overhead  VM: a full patch transition with 1k/10k/50k threads, with no
#              klptrace, with klptrace.ko + events (also with its
#              first_pass_summary=1), with dynamic debug;
#              then the same on the native kernel (make native-kernel):
#              its own klp events off and on
# 3. watch     VM: CPU per second watching a stalled transition with
#              1k/10k/50k threads: libklptrace vs a kpatch-style scan
# 4. tui       VM: latency from the kernel's event to libklptrace's
#              callback and to klptop's screen (-b and interactive)
# 5. tui       host: klptop frame time and memory (-b, --json, --openmetrics) replaying 100k threads
#              with 10k blockers vs 1k with 100 (bench/tui.sh)
#
# Prints the tables and writes them, with the machine's description, to
# bench/results/<machine>.md (commit it).  Raw output stays in
# build/bench/.  Environment:
#   KLPTB_EVENTS   synthetic events for decode [10000000]
#   KLPTB_RUNS     runs of the fast decoders [5]; trace-cmd gets 3
#   KLPTB_RESULTS  results file [bench/results/<machine>.md]
#   KLPTB_NATIVE   0: overhead without the native kernel's part (no
#                  make native-kernel, no native rows) [1]
# Needs root (the VM harness, `unshare -m` for trace-cmd restore).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=$root/build/bench
events=${KLPTB_EVENTS:-10000000}
runs=${KLPTB_RUNS:-5}
t_start=$(date +%s)

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(decode overhead watch tui)
want() {
	local p
	for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done
	return 1
}

say() { echo "bench: $*" >&2; }

# --- Bench-only Debian packages (scripts/deps.sh has the rest).
need_pkgs=()
command -v trace-cmd >/dev/null || need_pkgs+=(trace-cmd)
dpkg -s libtracecmd-dev >/dev/null 2>&1 || need_pkgs+=(libtracecmd-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	say "installing ${need_pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >&2 ||
		{ say "apt-get install ${need_pkgs[*]} failed"; exit 1; }
fi

# --- Build: libklptrace (the VM image takes klpt_watch and its shared
# libraries from there, klptb_watch needs the same), then bench/.
make -s -C "$root/lib" >&2 || { say "make -C lib failed"; exit 1; }
make -s -C "$here" OUT="$build" >&2 || { say "make -C bench failed"; exit 1; }
# klptrace.ko: tests/vm/run.sh puts the tree's module into the image
# without rebuilding it, so a stale one (built before a change of
# kernel/klptrace/) would be measured
if want overhead || want watch || want tui; then
	make -s -C "$root/kernel/klptrace" >&2 || { say "make -C kernel/klptrace failed"; exit 1; }
fi
# klptop: the VM image carries build/tui/klptop when it exists (4), and
# bench/tui.sh replays with it (5)
if want tui; then
	make -s -C "$root/tui" >&2 || { say "make -C tui failed"; exit 1; }
fi

# --- 1. decode
decode_dir=$build/decode
if want decode; then
	say "1. decode: generating $events events"
	rec=$decode_dir/recording
	dat=$decode_dir/trace.dat
	rm -rf "$decode_dir"
	mkdir -p "$rec/per_cpu"
	cp -r "$root/lib/tests/fixtures/formats/events" "$rec/"
	# libtracefs and trace-cmd list only systems with an enable file
	for s in "$rec"/events/*/; do echo 0 >"$s/enable"; done
	"$build/klptb_gen" "$root/lib/tests/fixtures/formats" "$rec" "$events" \
		>"$decode_dir/gen.txt" || { say "klptb_gen failed"; exit 1; }
	cat "$decode_dir/gen.txt" >&2

	# The equivalent trace.dat: trace-cmd restore of the same pages, as
	# lib/tests/fixtures/capture/capture.sh makes vm-recording.dat.
	# restore mounts tracefs and rewrites kptr_restrict even with -t:
	# a private mount namespace with a private kptr_restrict keeps the
	# host's tracefs and sysctls untouched.
	tmp=$(mktemp -d)
	: >"$tmp/kallsyms"
	cat /proc/sys/kernel/kptr_restrict >"$tmp/kptr_restrict"
	if ! unshare -m /bin/sh -ec '
		tmp=$1 rec=$2 out=$3
		mount --make-rprivate /
		mount --bind "$tmp/kptr_restrict" /proc/sys/kernel/kptr_restrict
		trace-cmd restore -c -t "$rec" -k "$tmp/kallsyms" -o "$tmp/head.dat"
		trace-cmd restore -i "$tmp/head.dat" -o "$out" "$rec"/per_cpu/cpu*/trace_pipe_raw
	' sh "$tmp" "$rec" "$dat" >"$tmp/log" 2>&1; then
		cat "$tmp/log" >&2
		say "trace-cmd restore failed: no trace-cmd baseline"
		rm -f "$dat"
	fi
	rm -rf "$tmp"
	ngen=$(awk '/^events/ { print $2 }' "$decode_dir/gen.txt")

	# Warm the page cache, then alternate the methods run by run so that
	# drift (frequency, other load) spreads over all of them.
	cat "$rec"/per_cpu/*/trace_pipe_raw >/dev/null
	for i in $(seq 1 "$runs"); do
		for m in klpt tep; do
			r=$("$build/klptb_decode" "$m" "$rec") || { say "klptb_decode $m failed"; exit 1; }
			echo "$m $r" >>"$decode_dir/runs.txt"
			say "  $m $r"
		done
		if [ -f "$dat" ] && [ "$i" -le 3 ]; then
			# klptb_decode run counts the lines (every run checks that
			# the trace.dat holds the same events, one line each after
			# the "cpus=N" header) and takes trace-cmd's own CPU time
			r=$("$build/klptb_decode" run trace-cmd report -i "$dat")
			nrep=$(echo "$r" | awk '{ print $2 }')
			if [ "$nrep" != $((ngen + 1)) ]; then
				say "trace-cmd report printed $nrep lines for $ngen events: not counted"
				continue
			fi
			echo "trace-cmd $r" >>"$decode_dir/runs.txt"
			say "  trace-cmd $r"
		fi
	done
	# The recording is ~0.7 GB, the trace.dat as much: keep neither.
	rm -rf "$rec" "$dat"
fi

# --- 2 and 3: the VM scenarios (bench/vm/scenarios), in our own build
# directory.  The helpers reach the image through EXTRA_KO (copied to
# /klpt/modules as they are; bench_lib.sh makes them executable).
vm() {
	EXTRA_KO="$build/klptb_tasks $build/klptb_cycle $build/klptb_scan $build/klptb_watch $build/klptb_pty" \
	KLPT_VM_SCENARIOS="$here/vm/scenarios" KLPT_BUILD_DIR="$build" \
		"$root/tests/vm/run.sh" "$@"
}
vm_ok=1
scen=()
want overhead && scen+=(overhead_1k overhead_10k overhead_50k)
want watch && scen+=(watch_1k watch_10k watch_50k)
want tui && scen+=(latency)
if [ ${#scen[@]} -gt 0 ]; then
	say "2./3./4. VM scenarios: ${scen[*]}"
	vm "${scen[@]}" >&2 || vm_ok=0
fi

# --- 2 on the native kernel (kernel/native/: the klp events are the
# kernel's own): the same scenarios, results in vm/results/native/.
# build.sh is incremental (a minute when nothing changed, ~7 cold).
native_note=
if want overhead && [ "${KLPTB_NATIVE:-1}" = 0 ]; then
	native_note="KLPTB_NATIVE=0: the native kernel's rows were not run."
elif want overhead; then
	say "2. on the native kernel: make native-kernel"
	nat=$root/build/native
	if ! "$root/kernel/native/build.sh" >"$build/native-kernel.log" 2>&1; then
		native_note="make native-kernel failed (build/bench/native-kernel.log): no native rows."
	else
		nkver=$(cat "$nat/kernelrelease")
		kmod=$build/kmod/$nkver
		mkdir -p "$kmod"
		if ! { make -s -C "$root/tests/modules" KVER="$nkver" KDIR="$nat/obj" OUT="$kmod" &&
		       make -s -C "$root/kernel/klptrace" KVER="$nkver" KDIR="$nat/obj" OUT="$kmod"; } \
		       >"$build/native-modules.log" 2>&1; then
			native_note="the test modules did not build against $nkver (build/bench/native-modules.log): no native rows."
		else
			say "2. VM scenarios on $nkver: overhead_1k overhead_10k overhead_50k"
			KVER=$nkver KDIR=$nat/obj KLPT_VM_FLAVOUR=native \
				KLPT_VM_KERNEL=$nat/obj/vmlinux \
				vm overhead_1k overhead_10k overhead_50k >&2 || vm_ok=0
		fi
	fi
	[ -z "$native_note" ] || say "$native_note"
fi

# --- 5: klptop's scale (4 ran in the VM scenario latency).
tui_note=
if want tui; then
	"$here/tui.sh" "$build" >&2 || tui_note="bench/tui.sh failed: see its messages above."
fi

# --- Tables and the results file.
t_end=$(date +%s)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
machine=${KLPTB_MACHINE:-$(echo "$cpu" | tr 'A-Z' 'a-z' | sed 's/([^)]*)//g; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//')-$(nproc)cpu}
results=${KLPTB_RESULTS:-$here/results/$machine.md}
kver=$(sh "$root/scripts/kver.sh" 2>/dev/null || echo unknown)
{
	echo "# klptrace benchmarks: $machine"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
	echo "| commit | $(git -C "$root" rev-parse --short HEAD 2>/dev/null) |"
	echo "| host CPU | $cpu, $(nproc) CPUs ($(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor:[[:space:]]*//p' | sed 's/^./under &/')) |"
	echo "| host memory | $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |"
	echo "| host kernel | $(uname -r) |"
	echo "| guest kernel | $kver (Debian), qemu $(qemu-system-x86_64 --version | sed -n '1s/.*version \([^ ]*\).*/\1/p') TCG (no KVM): guest times are emulated and noisy; compare only ratios within one run |"
	echo "| libraries | libtraceevent $(pkg-config --modversion libtraceevent), libtracefs $(pkg-config --modversion libtracefs), trace-cmd $(trace-cmd --version 2>/dev/null | sed -n 's/.*version \([^ ]*\).*/\1/p' | head -n 1) |"
	echo "| \`make bench\` time | $((t_end - t_start)) s (bench/run.sh: build, decode, 10 VMs (3 on the native kernel, which it builds when out of date), klptop replays) |"
	echo
	python3 "$here/report.py" "$build"
	[ "$vm_ok" = 1 ] || echo "Some VM scenarios failed: see build/bench/vm/results/."
	[ -z "$native_note" ] || echo "$native_note"
	[ -z "$tui_note" ] || echo "$tui_note"
	[ ! -f "$here/results/notes.md" ] || { echo; cat "$here/results/notes.md"; }
} >"$results.tmp" && mv "$results.tmp" "$results"
cat "$results"
say "results in ${results#"$root"/} ($((t_end - t_start)) s)"
[ "$vm_ok" = 1 ]
