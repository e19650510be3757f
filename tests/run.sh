#!/bin/bash
# The klptrace test suite.
#   tests/run.sh unit            tests that need no kernel
#   tests/run.sh e2e [NAME...]   scenarios in the VM (tests/vm/run.sh)
#   tests/run.sh pkg             the Debian packages: build, lintian, make
#                                install, a fresh chroot, the VM with what
#                                they installed (tests/pkg/test-packages.sh)
#   tests/run.sh all             unit, pkg and e2e
# Prints PASS/FAIL per test and ends with "N passed, N failed".
#
# KFLAVOURS: the Debian 6.1 kernel flavours to boot besides the default
# image (KVER, scripts/kver.sh), e.g. "amd64 cloud-amd64 rt-amd64" (the
# default of `all`, plus native, below; `e2e` runs none unless KFLAVOURS
# is set; empty: the default image only).  The full suite runs on the default image; on
# each other flavour of the same ABI (6.1.0-57-<flavour>) the core
# scenarios ($CORE_SCENARIOS, or those named after e2e), with klptrace.ko
# and the test modules built against that flavour's headers into
# build/kmod/<kver>/, results in build/vm/results/<flavour>/<scenario>,
# lines "PASS rt-amd64/force".
#
# The flavour "native" is the kernel of `make native-kernel` (Debian's
# linux-source-6.1 with the series kernel/native/: the klp events are
# the kernel's own), built here (kernel/native/build.sh, incremental),
# booted without klptrace.ko: $NATIVE_SCENARIOS (or those named), with
# the test modules and the selftests' built against its tree and the
# selftest scripts of its tree (the series adds test-tracepoints.sh).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
# The tests' builds treat warnings as errors (a release build does not:
# lib/Makefile); every make below, and the scripts' own, inherit it.
export WERROR=${WERROR--Werror}
mode=${1:-all}
shift || true
passed=0
failed=0
start=$(date +%s)

run_one() {	# name, command...
	local name=$1 log
	shift
	log=$(mktemp)
	if "$@" >"$log" 2>&1; then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		sed 's/^/    /' "$log" | tail -n 40
		failed=$((failed + 1))
	fi
	rm -f "$log"
}

run_unit() {
	local t
	for t in tests/unit/test_*; do
		run_one "unit/$(basename "$t")" "$t"
	done
	run_one "unit/klptjudge" python3 -m unittest discover -s tests/vm/judge -p 'test_*.py'
}

# A sub-suite that prints its own PASS/FAIL lines and ends with
# "N passed, N failed": add its counts to ours.
run_suite() {	# label, command...
	local label=$1 out rc p f
	shift
	out=$(mktemp)
	"$@" | tee "$out"
	rc=${PIPESTATUS[0]}
	read -r p f < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out" | tail -n 1)
	if [ -z "${p:-}" ]; then
		echo "FAIL $label: exited $rc without a summary"
		failed=$((failed + 1))
	else
		passed=$((passed + p))
		failed=$((failed + f))
	fi
	rm -f "$out"
}

run_lib() {
	# Building the library and its tests is itself a test.
	if make -s -C lib all tests >/dev/null; then
		run_suite lib lib/tests/run-unit.sh "$top/build/lib"
	else
		make -C lib all tests 2>&1 | tail -n 30 | sed 's/^/    /'
		echo "FAIL lib: build"
		failed=$((failed + 1))
	fi
}

run_tui() {
	# klptop's tests that need no kernel (tui/tests/run.sh); its VM
	# scenarios run with the others in run_e2e.
	if make -s -C tui all san >/dev/null; then
		run_suite tui tui/tests/run.sh "$top/build/tui"
	else
		make -C tui all san 2>&1 | tail -n 30 | sed 's/^/    /'
		echo "FAIL tui: build"
		failed=$((failed + 1))
	fi
}

# libklptrace's fuzz targets for a bounded time each (KLPT_FUZZ_SECONDS,
# default 20): lib/fuzz/README.md.  Their regression inputs run in
# run_lib's unit tests too, also where clang is missing.
run_fuzz() {
	run_suite fuzz lib/fuzz/run.sh "$top/build/lib"
}

run_e2e() {
	# The image carries libklptrace's klpt_watch and disable_wait
	# (tests/vm/README.md): build them first (run_lib did already in all).
	if [ "$mode" = e2e ] && ! make -s -C lib all >/dev/null 2>&1; then
		echo "note: lib does not build: the e2e runs without libklptrace's checks" >&2
	fi
	# `make demo` played by a script (tests/vm/demo-test.sh): with the
	# whole suite, or when "demo" is among the scenarios named.
	local args=() a demo=0
	[ $# -eq 0 ] && demo=1
	for a in "$@"; do
		if [ "$a" = demo ]; then demo=1; else args+=("$a"); fi
	done
	local t0
	t0=$(date +%s)
	if [ $# -eq 0 ] || [ ${#args[@]} -gt 0 ]; then
		run_suite e2e tests/vm/run.sh "${args[@]}"
	fi
	if [ "$demo" = 1 ]; then run_one e2e/demo tests/vm/demo-test.sh; fi
	echo "e2e on $(sh scripts/kver.sh) took $(( $(date +%s) - t0 )) s"
	# "demo" alone: the demo test only, no flavour runs
	if [ $# -eq 0 ] || [ ${#args[@]} -gt 0 ]; then
		run_flavours "${args[@]}"
	fi
}

CORE_SCENARIOS="enable_vmlinux blocked_sleeper disable_unload reverse force signal_user fork_inherit first_pass_summary selftests"
NATIVE_SCENARIOS="blocked_sleeper native_first_pass_summary disable_unload reverse force signal_user fork_inherit force_replace native_refusal selftests"

# run_flavours [SCENARIO...]: the core scenarios (or SCENARIO...) on every
# flavour of $KFLAVOURS but the default image's.
run_flavours() {
	local def abi f kver t0 list
	if [ "$mode" = all ]; then
		list=${KFLAVOURS-amd64 cloud-amd64 rt-amd64 native}
	else
		list=${KFLAVOURS:-}
	fi
	[ -n "$list" ] || return 0
	def=$(sh scripts/kver.sh) || return 0
	# 6.1.0-57-rt-amd64 -> 6.1.0-57
	abi=$(sed -n 's/^\([0-9.]*-[0-9]*\)-.*/\1/p' <<<"$def")
	for f in $list; do
		if [ "$f" = native ]; then
			run_native "$@"
			continue
		fi
		kver=$abi-$f
		[ "$kver" = "$def" ] && continue
		t0=$(date +%s)
		if [ ! -r "/boot/vmlinuz-$kver" ] || [ ! -f "/lib/modules/$kver/build/Makefile" ]; then
			echo "FAIL $f: kernel $kver or its headers not installed (make deps)"
			failed=$((failed + 1))
			continue
		fi
		mkdir -p build
		if ! build_flavour "$kver" >"build/kmod-$kver.log" 2>&1; then
			echo "FAIL $f: build against $kver"
			tail -n 30 "build/kmod-$kver.log" | sed 's/^/    /'
			failed=$((failed + 1))
			continue
		fi
		# the named scenarios or the core list; never set -- here:
		# the list would carry over to the next flavour (native)
		local -a scen=("$@")
		# shellcheck disable=SC2206 # CORE_SCENARIOS is a list
		[ ${#scen[@]} -gt 0 ] || scen=($CORE_SCENARIOS)
		KVER=$kver KDIR=/lib/modules/$kver/build KLPT_VM_FLAVOUR=$f \
			run_suite "e2e $f" tests/vm/run.sh "${scen[@]}"
		echo "flavour $f ($kver) took $(( $(date +%s) - t0 )) s"
	done
}

# run_native [SCENARIO...]: the flavour native (see the top).
run_native() {
	local t0 kver nat=$top/build/native
	t0=$(date +%s)
	mkdir -p build
	if ! kernel/native/build.sh >build/native-kernel.log 2>&1; then
		echo "FAIL native: make native-kernel (build/native-kernel.log)"
		tail -n 30 build/native-kernel.log | sed 's/^/    /'
		failed=$((failed + 1))
		return
	fi
	kver=$(cat "$nat/kernelrelease")
	echo "native kernel $kver built in $(( $(date +%s) - t0 )) s"
	if ! build_flavour "$kver" "$nat/obj" >"build/kmod-$kver.log" 2>&1; then
		echo "FAIL native: test modules against $kver"
		tail -n 30 "build/kmod-$kver.log" | sed 's/^/    /'
		failed=$((failed + 1))
		return
	fi
	# shellcheck disable=SC2086 # NATIVE_SCENARIOS is a list
	if [ $# -eq 0 ]; then set -- $NATIVE_SCENARIOS; fi
	# klptrace.ko is in the image for native_refusal; the others run
	# on the kernel's events (guest/lib.sh: klpt_native)
	KVER=$kver KDIR=$nat/obj KLPT_VM_FLAVOUR=native \
		KLPT_VM_KERNEL=$nat/obj/vmlinux SELFTESTS_SRC=$nat/linux \
		run_suite "e2e native" tests/vm/run.sh "$@"
	echo "flavour native ($kver) took $(( $(date +%s) - t0 )) s"
}

# build_flavour KVER [KDIR]: klptrace.ko and the test modules against
# KVER's headers (or the tree KDIR), into build/kmod/KVER/ (the
# selftests' modules: tests/vm/run.sh).
build_flavour() {
	local kver=$1 kdir=${2:-/lib/modules/$1/build} out=$top/build/kmod/$1
	mkdir -p "$out"
	make -C kernel/klptrace KVER="$kver" KDIR="$kdir" OUT="$out" &&
		make -C tests/modules KVER="$kver" KDIR="$kdir" OUT="$out"
}

# The .debs built, linted, installed into a fresh bookworm chroot and
# booted in the VM (about 4-5 min; tests/pkg/test-packages.sh).
run_pkg() {
	run_suite pkg tests/pkg/test-packages.sh
}

case $mode in
unit)	run_unit; run_lib; run_fuzz; run_tui ;;
pkg)	run_pkg ;;
e2e)	run_e2e "$@" ;;
all)	run_unit; run_lib; run_fuzz; run_tui; run_pkg; run_e2e ;;
*)	echo "usage: tests/run.sh unit|pkg|e2e [scenario...]|all" >&2; exit 2 ;;
esac

echo "suite took $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
