#!/bin/bash
# Run klptrace end-to-end scenarios, each in its own freshly booted VM.
#
#   tests/vm/run.sh [SCENARIO...]     (default: every scenario but demo)
#
# A scenario is a directory tests/vm/scenarios/NAME/ with guest.sh (runs in
# the guest, see guest/lib.sh), optionally judge.py (runs on the host:
# judge.py RESULTDIR, exit 0 = pass; see judge/klptjudge.py) and
# optionally vm.env, lines KEY=VALUE that this scenario needs and that win
# over the environment: TIMEOUT (guest-side, s), SMP, MEM (MiB), APPEND
# (added to the kernel command line), ACCEL (qemu's -accel, default tcg:
# multi-threaded, one host thread per vCPU; tcg,thread=single runs the
# vCPUs in turn on one thread), ICOUNT (qemu's -icount, e.g.
# shift=0,sleep=off: the guest's clocks count executed instructions, so
# its timings do not depend on the host's load; one vCPU thread), NET=1 (a network: host-net.sh; the
# image gets mkinitramfs.sh's --net overlay, guest/init brings eth0 up)
# with HOSTFWD (guest TCP ports reachable from the host, space-separated).
# optionally peer, an executable run on the host next to the VM (below).
#
# Per scenario: build/vm/results/NAME/ gets the guest's /out
# (events.txt, snap/, lib/, dmesg.txt, scenario.log, status, failures,
# meta, trace_stats.txt, build-info) plus console.log (ttyS0) and
# qemu.cmdline (accelerator, CPUs, memory, kernel command line).  A
# scenario passes when the guest status is 0 with no recorded failures,
# dmesg has no kernel splat, judge.py (if any) exits 0 and, when a
# klpt_watch ran (lib/, see guest/lib.sh), judge/libmodel.py finds
# libklptrace's model equal to the ground truth and to its own replay
# (libmodel.log).  Without a built lib (make -C lib) the image has no
# klpt_watch and that check is skipped.
#
# Environment:
#   KVER / KDIR          kernel to boot (default: scripts/kver.sh)
#   KLPT_VM_KERNEL       kernel image [vmlinux extracted from
#                        /boot/vmlinuz-$KVER (PVH boot), else the vmlinuz]
#   KLPT_VM_PVH=0        boot /boot/vmlinuz-$KVER, do not extract vmlinux
#   KLPT_VM_MEM          guest memory, MiB [512]
#   KLPT_VM_SMP          guest CPUs [2]
#   KLPT_VM_TIMEOUT      guest-side scenario timeout, s [240]
#   KLPT_VM_HOST_TIMEOUT host-side limit per VM, s [guest timeout + 120]
#   KLPT_VM_APPEND       extra kernel command line
#   KLPT_VM_ACCEL        qemu -accel for every VM, winning over a
#                        scenario's ACCEL [tcg, or the scenario's]
#   KLPT_VM_JOBS         VMs run at a time [2]; each verdict is printed whole,
#                        in the order the scenarios were given
#   KLPT_VM_KEEP=1       also keep the raw transfer (ttyS1.txt, out.tar.gz)
#   KLPT_VM_NO_TOOLS=1   boot without klptop / klpt_watch built (their checks
#                        are skipped; by default a missing one is an error)
#   KLPT_VM_SCENARIOS    scenario directory [tests/vm/scenarios]; the
#                        harness's own failure tests live in tests/vm/selftest
#   KLPT_BUILD_DIR       build directory [<repo>/build]
#   KLPT_VM_FLAVOUR      name of the kernel flavour in PASS/FAIL lines and
#                        results (build/vm/results/FLAVOUR/NAME, "PASS
#                        rt-amd64/force") [none: the default kernel,
#                        build/vm/results/NAME]; tests/run.sh KFLAVOURS= sets it
# Modules: klptrace.ko and tests/modules/*.ko of the tree when built for
# KVER (make modules), else those of build/kmod/KVER (make -C
# kernel/klptrace OUT=..., tests/run.sh does for every flavour); the
# selftests scenario's test_klp_*.ko from build/kmod/KVER/selftests
# (built here with make -C tests/selftests when that scenario runs).
#   SELFTESTS_SRC        kernel tree of the selftests scenario's scripts and
#                        test_klp_*.c [the tarball's, extracted by
#                        tests/selftests]; the native flavour: its tree
#   LIB_BUILD            libklptrace's build directory [<repo>/build/lib]:
#                        klpt_watch and disable_wait for the image,
#                        klpt_watch --replay for libmodel.py
#   PYTHON               judge interpreter [/usr/bin/python3]
# Each scenario's result directory is emptied before its run and left
# in place afterwards for inspection.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

# shellcheck source=host-lib.sh
. "$here/host-lib.sh"
# shellcheck source=host-net.sh
. "$here/host-net.sh"

klpt_kver || exit 1
KLPT_VM_CMDLINE=$(klpt_kernel_cmdline)
mem=${KLPT_VM_MEM:-512}
smp=${KLPT_VM_SMP:-2}
guest_timeout=${KLPT_VM_TIMEOUT:-240}
host_timeout=${KLPT_VM_HOST_TIMEOUT:-$((guest_timeout + 120))}
build=${KLPT_BUILD_DIR:-$root/build}/vm
scenarios_dir=${KLPT_VM_SCENARIOS:-$here/scenarios}
scenarios_dir=$(cd "$scenarios_dir" && pwd) || exit 2
export SCENARIOS_DIR=$scenarios_dir # for mkinitramfs.sh
export LIB_BUILD=${LIB_BUILD:-$root/build/lib}
watch_bin=$LIB_BUILD/tests-vm/klpt_watch
python=${PYTHON:-/usr/bin/python3}
keep=${KLPT_VM_KEEP:-0}

kernel=$(klpt_kernel "$build") || exit 1
command -v qemu-system-x86_64 >/dev/null || {
	echo "run.sh: qemu-system-x86_64 missing (apt-get install qemu-system-x86)" >&2
	exit 1
}

# Which scenarios.
scenarios=()
if [ $# -gt 0 ]; then
	for s in "$@"; do
		if [ ! -f "$scenarios_dir/$s/guest.sh" ]; then
			echo "run.sh: no scenario $s (no $scenarios_dir/$s/guest.sh)" >&2
			exit 2
		fi
		scenarios+=("$s")
	done
else
	for d in "$scenarios_dir"/*/; do
		s=$(basename "$d")
		[ "$s" = demo ] && continue
		[ -f "$d/guest.sh" ] && scenarios+=("$s")
	done
fi
if [ ${#scenarios[@]} -eq 0 ]; then
	echo "run.sh: no scenarios" >&2
	exit 2
fi

flavour=${KLPT_VM_FLAVOUR:-}
kbuild=${KLPT_BUILD_DIR:-$root/build}/kmod/$KVER
# vermagic KO: the kernel version KO was built for.
vermagic() { modinfo -F vermagic "$1" 2>/dev/null | cut -d' ' -f1; }
# The tree's own build when it is for KVER, else the per-kernel one.
if [ -z "${KLPTRACE_KO:-}" ]; then
	KLPTRACE_KO=$root/kernel/klptrace/klptrace.ko
	if [ "$(vermagic "$KLPTRACE_KO")" != "$KVER" ] &&
	   [ -f "$kbuild/kernel/klptrace/klptrace.ko" ]; then
		KLPTRACE_KO=$kbuild/kernel/klptrace/klptrace.ko
	fi
fi
if [ -z "${TEST_MODULES:-}" ]; then
	TEST_MODULES=$root/tests/modules
	first=$(compgen -G "$TEST_MODULES/*.ko" | head -n 1)
	if { [ -z "$first" ] || [ "$(vermagic "$first")" != "$KVER" ]; } &&
	   [ -d "$kbuild/tests/modules" ]; then
		TEST_MODULES=$kbuild/tests/modules
	fi
fi
export KLPTRACE_KO TEST_MODULES
export SELFTESTS_KO=${SELFTESTS_KO:-$kbuild/selftests}
for s in "${scenarios[@]}"; do
	if [ "$s" = selftests ]; then
		mkdir -p "$build"
		make -s -C "$root/tests/selftests" KVER="$KVER" KDIR="${KDIR:-/lib/modules/$KVER/build}" \
			OUT="$SELFTESTS_KO" ${SELFTESTS_SRC:+TREE="$SELFTESTS_SRC"} \
			>"$build/selftests-build.log" 2>&1 ||
			{ echo "run.sh: building the selftest modules failed:" >&2; tail -n 20 "$build/selftests-build.log" >&2; }
	fi
done

# Modules built for another kernel fail to load in the guest with a
# vermagic error that is easy to misread: say it up front.
for ko in "$KLPTRACE_KO" "$TEST_MODULES"/*.ko; do
	[ -f "$ko" ] || continue
	vm=$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
	if [ -n "$vm" ] && [ "$vm" != "$KVER" ]; then
		echo "run.sh: warning: $ko is built for $vm, the VM boots $KVER" >&2
	fi
done
[ -f "$KLPTRACE_KO" ] ||
	echo "run.sh: note: $KLPTRACE_KO not built; scenarios run without it" >&2
# Scenarios check klptop's frames and the library's model wherever they
# run: without the tools that would be a silent skip, so refuse instead
# (make e2e and make check build them; KLPT_VM_NO_TOOLS=1 allows it).
if [ "${KLPT_VM_NO_TOOLS:-0}" != 1 ]; then
	for t in "${TUI_BUILD:-$root/build/tui}/klptop" "$watch_bin"; do
		if [ ! -x "$t" ]; then
			echo "run.sh: $t is not built: run 'make build' (or make e2e), or set KLPT_VM_NO_TOOLS=1" >&2
			exit 2
		fi
	done
fi

mkdir -p "$build/results"
# one image per kernel: the flavours' modules differ
initrd=$build/initramfs-$KVER.cpio.gz
"$here/mkinitramfs.sh" "$initrd" || exit 1
# The networked scenarios' image: the same plus the --net overlay (the
# kernel unpacks concatenated archives in order); built only when one
# of them runs.
net_initrd=$build/initramfs-$KVER+net.cpio.gz
for s in "${scenarios[@]}"; do
	if grep -qx 'NET=1' "$scenarios_dir/$s/vm.env" 2>/dev/null; then
		"$here/mkinitramfs.sh" --net "$build/initramfs-net-$KVER.cpio.gz" || exit 1
		cat "$initrd" "$build/initramfs-net-$KVER.cpio.gz" >"$net_initrd.tmp.$$" &&
			mv -f "$net_initrd.tmp.$$" "$net_initrd" || exit 1
		break
	fi
done

# Kernel splats in dmesg.  The forced-transition pr_warn and the taint
# notices are expected in livepatch tests and match none of these.
splat_re='WARNING:|BUG:|kernel BUG at|Oops|general protection fault|Call Trace:|INFO: possible|possible circular locking|possible recursive locking|INFO: task .* blocked for more than|rcu: INFO: rcu_sched detected stalls|watchdog: BUG: soft lockup|UBSAN:|Kernel panic'
harmless_re='livepatch: forcing remaining tasks to the patched state'

indent() { sed 's/^/      /'; }
# console_tail RESULTDIR: what a hung guest's console says: the first
# kernel splat (its first 25 lines: the BUG line, RIP and the top of the
# call trace, which the last lines of a repeating soft-lockup report have
# long scrolled past), then the last 20 lines.
console_tail() {
	local log=$1/console.log first
	first=$(tr -d '\r' <"$log" | grep -nE "$splat_re" | grep -vE "$harmless_re" | head -n 1 | cut -d: -f1)
	if [ -n "$first" ]; then
		echo "[first kernel splat, line $first]"
		tr -d '\r' <"$log" | sed -n "${first},$((first + 24))p"
		echo "[last lines]"
	fi
	tail -n 20 "$log" | tr -d '\r'
}

# extract RESULTDIR: decode the guest's ttyS1 stream into RESULTDIR.
# Fails (with a reason on stdout) unless the transfer is complete.
extract() {
	local res=$1 raw=$1/ttyS1.txt hdr size sum
	hdr=$(tr -d '\r' <"$raw" | grep -m1 '^KLPT-OUT-BEGIN ')
	if [ -z "$hdr" ]; then
		echo "no results from the guest (no KLPT-OUT-BEGIN on ttyS1)"
		return 1
	fi
	read -r _ size sum <<<"$hdr"
	tr -d '\r' <"$raw" | sed -n '/^KLPT-OUT-BEGIN /,/^KLPT-OUT-END$/p' |
		sed '1d;$d' | base64 -d >"$res/out.tar.gz" 2>/dev/null
	if ! tr -d '\r' <"$raw" | grep -qx 'KLPT-OUT-END'; then
		echo "truncated transfer from the guest (no KLPT-OUT-END)"
		return 1
	fi
	if [ "$(stat -c %s "$res/out.tar.gz")" != "$size" ] ||
	   [ "$(sha256sum <"$res/out.tar.gz" | cut -d' ' -f1)" != "$sum" ]; then
		echo "corrupt transfer from the guest (size or sha256 mismatch)"
		return 1
	fi
	if ! tar -xzf "$res/out.tar.gz" -C "$res" --strip-components=1; then
		echo "cannot unpack the guest's out.tar.gz"
		return 1
	fi
	if [ "$keep" != 1 ]; then
		rm -f "$res/out.tar.gz" "$raw"
	fi
}

# run_console SCENARIO RESULTDIR: boot with the guest console on a
# terminal of its own (a tmux session on a private server, COLSxROWS of
# the scenario's vm.env, default 80x24; guest/init's klpt_console mode
# runs the scenario on it) and run the scenario's host.sh next to it:
# host.sh types keys and reads the screen (tmux send-keys, capture-pane)
# with KLPT_TMUX ("tmux -L SOCKET"), KLPT_TMUX_TARGET and KLPT_RESULTS in
# its environment, its output in host.log.  The console's bytes go to
# console.log as usual.  Returns qemu's status; a failing host.sh is one
# more reason (host.status).
run_console() {
	local s=$1 res=$2 sock="klpt-vm-$$-$1" end hrc
	local tmx="tmux -L $sock"
	command -v tmux >/dev/null || { echo "tmux missing (apt-get install tmux)" >"$res/qemu.log"; return 1; }
	$tmx kill-server 2>/dev/null
	# qemu's stdio is the pane: -serial stdio, keys in, screen out; the
	# pane's size changes reach the guest on ttyS2 (console-size.sh).
	{
		# --foreground: qemu reads the pane, from the pane's process group
		printf '%q ' "$here/console-size.sh" "$res/winsize" \
			timeout --foreground -k 10 "$s_host_timeout" qemu-system-x86_64 \
			"${qemu_args[@]}" \
			-append "$append klpt_console=1 klpt_rows=$s_rows klpt_cols=$s_cols klpt_winsize=1" \
			-serial stdio -serial "file:$res/ttyS1.txt" \
			-serial "pipe:$res/winsize"
		printf '2>%q\necho $? >%q\n' "$res/qemu.log" "$res/qemu.rc"
	} >"$res/qemu.sh"
	$tmx new-session -d -s vm -x "$s_cols" -y "$s_rows" \
		"bash $res/qemu.sh" || return 1
	$tmx pipe-pane -t vm -o "cat >>$res/console.log"
	KLPT_TMUX="$tmx" KLPT_TMUX_TARGET=vm KLPT_RESULTS=$res \
		timeout -k 5 "$s_host_timeout" "$scenarios_dir/$s/host.sh" >"$res/host.log" 2>&1
	hrc=$?
	echo "$hrc" >"$res/host.status"
	# qemu powers off when the guest is done; bounded
	end=$(($(date +%s) + s_host_timeout))
	while [ ! -s "$res/qemu.rc" ] && [ "$(date +%s)" -lt "$end" ]; do
		sleep 0.2
	done
	$tmx kill-server 2>/dev/null
	[ -s "$res/qemu.rc" ] || return 124
	return "$(cat "$res/qemu.rc")"
}

# run_vm SCENARIO RESULTDIR: boot with ttyS0 in console.log and ttyS1 in
# ttyS1.txt; returns qemu's status.
#
# NET=1: the network of host-net.sh, HOSTFWD's guest ports forwarded
# from free ports of 127.0.0.1; should qemu find one taken after all
# ("Could not set up host forwarding rule"), it boots again with new
# ones (3 tries).
#
# With an executable scenarios/NAME/peer, ttyS1 goes both ways (a qemu
# pipe: ttyS1.out copied into ttyS1.txt, ttyS1.in read by the guest) and
# the peer runs on the host next to the VM, in a session of its own,
# with in its environment
#   KLPT_RESULTS       the result directory (its output: peer.log there)
#   KLPT_SERIAL_LOG    ttyS1.txt, what the guest writes on ttyS1 so far
#   KLPT_SERIAL_IN     the fifo of what the guest reads from ttyS1
#   KLPT_FWD_<PORT>    the host port forwarded to guest port PORT
#   KLPT_ROOT          the repository
# (guest/lib.sh step and judge/steps.py speak the protocol on ttyS1).
# Its exit status goes to peer.status (non-zero fails the scenario).  It
# is given 30 s to end after qemu did; then its whole process group,
# whatever it started (a server), is killed, as on INT/TERM.
run_vm() {
	local s=$1 res=$2 peer=$scenarios_dir/$1/peer try ports="" rc
	local -a s1 net=() fwd_env=()
	local qpid catpid="" peerpid="" end i
	local -a fwd
	if [ -x "$peer" ]; then
		mkfifo "$res/ttyS1.in" "$res/ttyS1.out" || return 1
		s1=(-serial "pipe:$res/ttyS1")
	else
		s1=(-serial "file:$res/ttyS1.txt")
	fi
	# stop_cat: the copy of ttyS1.out ends by itself once qemu, gone,
	# closed the pipe (bounded), or never opened it (killed).
	stop_cat() {
		[ -n "$catpid" ] || return 0
		end=$(($(date +%s) + 10))
		while kill -0 "$catpid" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
			sleep 0.1
		done
		kill "$catpid" 2>/dev/null
		wait "$catpid"
		catpid=""
	}
	# shellcheck disable=SC2317 # stop_all runs from the trap below
	# stop_all: qemu (timeout(1) runs it in its own process group, out
	# of reach of a Ctrl-C on our terminal) and the peer's group.
	stop_all() {
		kill -TERM "$qpid" 2>/dev/null
		[ -n "$peerpid" ] && kill -KILL -- "-$peerpid" 2>/dev/null
		wait
	}
	trap 'stop_all; exit 130' INT TERM
	for try in 1 2 3; do
		if [ "$s_net" = 1 ]; then
			ports=$(klpt_free_ports "$(wc -w <<<"$s_fwd")" | tr '\n' ' ')
			mapfile -t net < <(klpt_net_args "$s_fwd" "$ports")
		fi
		if [ -x "$peer" ]; then
			# ends when qemu closes the pipe
			cat "$res/ttyS1.out" >>"$res/ttyS1.txt" &
			catpid=$!
		fi
		timeout -k 10 "$s_host_timeout" qemu-system-x86_64 \
			"${qemu_args[@]}" "${net[@]}" -append "$append" \
			-serial "file:$res/console.log" "${s1[@]}" \
			</dev/null >"$res/qemu.log" 2>&1 &
		qpid=$!
		[ "$s_net" = 1 ] || break
		# slirp listens on the forwarded ports before the guest boots;
		# qemu is timeout(1)'s child
		end=$(($(date +%s) + 30))
		# shellcheck disable=SC2086 # ports: a list
		while kill -0 "$qpid" 2>/dev/null &&
			! klpt_listening "$(pgrep -P "$qpid" | head -n 1)" $ports &&
			[ "$(date +%s)" -lt "$end" ]; do
			sleep 0.1
		done
		if ! kill -0 "$qpid" 2>/dev/null &&
			grep -q 'Could not set up host forwarding rule' "$res/qemu.log"; then
			wait "$qpid"
			stop_cat
			echo "run.sh: $s: a forwarded port was taken (try $try): $(cat "$res/qemu.log")" >>"$res/net.log"
			continue
		fi
		break
	done
	if [ -x "$peer" ]; then
		read -ra ports <<<"$ports"
		read -ra fwd <<<"$s_fwd"
		for i in "${!fwd[@]}"; do
			fwd_env+=("KLPT_FWD_${fwd[i]}=${ports[i]}")
		done
		echo "$s_fwd -> ${ports[*]}" >>"$res/net.log"
		# setsid: the peer leads a process group (its pid) that takes
		# along whatever it starts.
		env KLPT_RESULTS="$res" KLPT_SERIAL_LOG="$res/ttyS1.txt" \
			KLPT_SERIAL_IN="$res/ttyS1.in" KLPT_ROOT="$root" "${fwd_env[@]}" \
			PYTHONPATH="$here/judge${PYTHONPATH:+:$PYTHONPATH}" \
			setsid "$peer" </dev/null >"$res/peer.log" 2>&1 &
		peerpid=$!
	fi
	wait "$qpid"
	rc=$?
	stop_cat
	if [ -n "$peerpid" ]; then
		end=$(($(date +%s) + 30))
		while kill -0 "$peerpid" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
			sleep 0.2
		done
		if kill -0 "$peerpid" 2>/dev/null; then
			echo "run.sh: the peer did not end within 30 s of the VM: killed" >>"$res/peer.log"
		fi
		kill -KILL -- "-$peerpid" 2>/dev/null
		wait "$peerpid"
		echo $? >"$res/peer.status"
		rm -f "$res/ttyS1.in" "$res/ttyS1.out"
	fi
	trap - INT TERM
	return "$rc"
}

# run_scenario NAME: boot, run and judge one scenario; prints its
# PASS/FAIL line (and the details of a failure); status 0 if it passed.
# Runs in a subshell of its own (the job pool below): its variables are
# its own.
run_scenario() {
	local s=$1
	res=$build/results/${flavour:+$flavour/}$s
	label=${flavour:+$flavour/}$s
	rm -rf "$res"
	mkdir -p "$res"

	# Per-scenario VM settings.
	s_timeout=$guest_timeout s_host_timeout=$host_timeout
	s_smp=$smp s_mem=$mem s_append=${KLPT_VM_APPEND:-}
	s_cols=80 s_rows=24 s_net=0 s_fwd="" s_accel=tcg s_icount=
	if [ -f "$scenarios_dir/$s/vm.env" ]; then
		while IFS='=' read -r key val; do
			case $key in
			TIMEOUT)
				s_timeout=$val
				[ -n "${KLPT_VM_HOST_TIMEOUT:-}" ] || s_host_timeout=$((val + 120))
				;;
			SMP) s_smp=$val ;;
			MEM) s_mem=$val ;;
			APPEND) s_append="$s_append $val" ;;
			ACCEL) s_accel=$val ;;
			ICOUNT) s_icount=$val ;;
			COLS) s_cols=$val ;;
			ROWS) s_rows=$val ;;
			NET) s_net=$val ;;
			HOSTFWD) s_fwd=$val ;;
			'' | '#'*) ;;
			*) echo "run.sh: $s/vm.env: unknown key $key" >&2 ;;
			esac
		done <"$scenarios_dir/$s/vm.env"
	fi

	append="$KLPT_VM_CMDLINE klpt_scenario=$s klpt_timeout=$s_timeout $s_append"
	s_initrd=$initrd
	if [ "$s_net" = 1 ]; then
		s_initrd=$net_initrd
		append+=" klpt_net=1"
	fi
	s_accel=${KLPT_VM_ACCEL:-$s_accel}
	qemu_args=(-accel "$s_accel" -cpu max -m "$s_mem" -smp "$s_smp"
		-kernel "$kernel" -initrd "$s_initrd"
		-nodefaults -no-user-config -display none -monitor none -no-reboot)
	[ -z "$s_icount" ] || qemu_args+=(-icount "$s_icount")
	t0=$(date +%s.%N)
	for boot in 1 2; do
		# What the VM was, for whoever reads the results (the accelerator:
		# a failure under multi-threaded TCG may be the emulator's).
		printf '%q ' qemu-system-x86_64 "${qemu_args[@]}" -append "$append" >"$res/qemu.cmdline"
		echo >>"$res/qemu.cmdline"
		if [ -x "$scenarios_dir/$s/host.sh" ]; then
			# The console is a terminal that host.sh drives (run_console).
			run_console "$s" "$res"
			qrc=$?
		else
			run_vm "$s" "$res"
			qrc=$?
		fi
		# A guest killed at the timeout that never printed /init's
		# "klpt-init: scenario" line hung while the kernel booted (a
		# soft lockup in cryptomgr_test under TCG, once in a fresh
		# machine's run): nothing of ours had run; /init prints that
		# line before it loads any module of ours.  Boot it once more;
		# its first console stays in boot1-console.log.
		if [ "$boot" = 1 ] && { [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; } &&
			! grep -qs 'klpt-init: scenario ' "$res/console.log"; then
			# (grep on the file: behind a pipe, grep -q's early exit
			# kills the writer and pipefail reads that as no match)
			keep=
			if [ -f "$res/console.log" ]; then
				keep=$(mktemp) && cp "$res/console.log" "$keep"
			fi
			echo "note: $label: the guest kernel hung before /init ran (killed at $s_host_timeout s): booted again" >&2
			rm -rf "$res"
			mkdir -p "$res"
			[ -z "$keep" ] || mv "$keep" "$res/boot1-console.log"
			continue
		fi
		break
	done
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

	reasons=()
	details=""
	# add REASON [WHERE DETAILS]: one more reason this scenario failed,
	# with DETAILS (indented text) taken from WHERE.
	add() {
		reasons+=("$1")
		if [ -n "${3:-}" ]; then
			details+="    $1 ($2):"$'\n'"$3"$'\n'
		fi
	}

	if [ -e "$res/host.status" ] && [ "$(cat "$res/host.status")" != 0 ]; then
		add "host.sh exited with status $(cat "$res/host.status")" \
			"host.log, last lines" "$(tail -n 30 "$res/host.log" | indent)"
	fi
	if [ -e "$res/peer.status" ] && [ "$(cat "$res/peer.status")" != 0 ]; then
		add "peer exited with status $(cat "$res/peer.status")" \
			"peer.log, last lines" "$(tail -n 30 "$res/peer.log" | indent)"
	fi
	if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
		add "VM killed after the host timeout of $s_host_timeout s" \
			"console.log" "$(console_tail "$res" | indent)"
	elif [ "$qrc" -ne 0 ]; then
		add "qemu exited with status $qrc" "qemu.log" "$(tail -n 20 "$res/qemu.log" | indent)"
	fi

	if why=$(extract "$res"); then
		st=$(cat "$res/status" 2>/dev/null || echo missing)
		if [ "$st" != 0 ]; then
			add "guest status $st" \
				"scenario.log, last lines" "$(tail -n 20 "$res/scenario.log" 2>/dev/null | indent)"
		fi
		if [ -s "$res/failures" ]; then
			add "guest failures" "failures" "$(indent <"$res/failures")"
		fi
		splats=$(grep -E "$splat_re" "$res/dmesg.txt" | grep -vE "$harmless_re" | head -n 20)
		if [ -n "$splats" ]; then
			add "kernel splat in dmesg" "dmesg.txt" "$(indent <<<"$splats")"
		fi
		if [ -f "$scenarios_dir/$s/judge.py" ]; then
			if ! jout=$(PYTHONPATH="$here/judge${PYTHONPATH:+:$PYTHONPATH}" \
				"$python" "$scenarios_dir/$s/judge.py" "$res" 2>&1); then
				add "judge.py failed" "judge.log" "$(indent <<<"$jout")"
			fi
			printf '%s\n' "$jout" >"$res/judge.log"
		fi
		if [ -d "$res/klptop" ]; then
			if ! kout=$(PYTHONPATH="$here/judge${PYTHONPATH:+:$PYTHONPATH}" \
				"$python" "$here/judge/klptop.py" "$res" 2>&1); then
				add "klptop's frames differ from the ground truth" "klptop.log" "$(indent <<<"$kout")"
			fi
			printf '%s\n' "$kout" >"$res/klptop.log"
		fi
		if [ -d "$res/lib" ]; then
			if ! lout=$(PYTHONPATH="$here/judge${PYTHONPATH:+:$PYTHONPATH}" \
				"$python" "$here/judge/libmodel.py" "$res" "$watch_bin" 2>&1); then
				add "libklptrace's model differs" "libmodel.log" "$(indent <<<"$lout")"
			fi
			printf '%s\n' "$lout" >"$res/libmodel.log"
		fi
	else
		add "$why" "console.log" "$(console_tail "$res" | indent)"
	fi

	if [ ${#reasons[@]} -eq 0 ]; then
		echo "PASS $label (boot+run $secs s)"
	else
		reason=$(printf '%s; ' "${reasons[@]}")
		echo "FAIL $label: ${reason%; } (boot+run $secs s)"
		printf '%s' "$details"
		echo "    results: $res"
		return 1
	fi
}

# KLPT_VM_JOBS VMs at a time (default 2).  A scenario mostly waits on the
# guest's clock (the core retries a transition once a second), so two
# VMs share two CPUs well; each one's verdict is printed, whole, in the
# order the scenarios were given, as soon as it and those before it end.
jobs=${KLPT_VM_JOBS:-2}
case $jobs in '' | *[!0-9]* | 0) jobs=1 ;; esac
out_dir=$(mktemp -d "${TMPDIR:-/tmp}/klpt-run.XXXXXX") || exit 2
pids=()
cleanup_jobs() {
	local p
	for p in "${pids[@]}"; do
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$out_dir"
}
trap 'cleanup_jobs; echo "run.sh: interrupted" >&2; exit 130' INT TERM
trap 'rm -rf "$out_dir"' EXIT

passed=0
failed=0
next_print=0
# print_done: print the verdicts of the leading scenarios that ended.
print_done() {
	while [ "$next_print" -lt ${#scenarios[@]} ] &&
	      [ -f "$out_dir/$next_print.rc" ]; do
		cat "$out_dir/$next_print.out"
		if [ "$(cat "$out_dir/$next_print.rc")" = 0 ]; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
		fi
		next_print=$((next_print + 1))
	done
}
for i in "${!scenarios[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n 2>/dev/null
		print_done
	done
	(
		trap - EXIT
		run_scenario "${scenarios[i]}" >"$out_dir/$i.out" 2>&1
		echo $? >"$out_dir/$i.rc.tmp"
		mv "$out_dir/$i.rc.tmp" "$out_dir/$i.rc"
	) &
	pids+=("$!")
	print_done
done
wait
print_done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
