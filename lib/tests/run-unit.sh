#!/bin/bash
# Run libklptrace's unit tests from a build directory (lib/Makefile's
# OUT): each test plain, then its ASan+UBSan build, then the tests that
# read recordings and pages under valgrind (leaks and invalid reads are
# errors), then the shell tests next to this script (test_*.sh BUILD_DIR:
# exports, installation).  Prints PASS/FAIL per run and ends with
# "N passed, N failed".
#
#   lib/tests/run-unit.sh build/lib      (after make -C lib all tests)
set -u
out=${1:?usage: run-unit.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
# Tests find their fixtures here also when run without make (tests/run.sh).
export KLPT_TEST_FIXTURES=${KLPT_TEST_FIXTURES:-$here/fixtures}
passed=0
failed=0

run() {	# label, command...
	local label=$1 log
	shift
	log=$(mktemp)
	if "$@" >"$log" 2>&1; then
		echo "PASS $label"
		passed=$((passed + 1))
	else
		echo "FAIL $label"
		sed 's/^/    /' "$log" | tail -n 40
		failed=$((failed + 1))
	fi
	rm -f "$log"
}

# ASan's leak checker needs ptrace-free /proc access; UBSan must abort.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
# test_fuzz_regressions feeds malformed recordings to libtraceevent and
# libtracecmd, which leak on some: lib/fuzz/lsan.supp says which leaks.
export LSAN_OPTIONS=suppressions=$here/../fuzz/lsan.supp
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

for t in "$out"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	run "lib/$name" "$t"
	run "lib/$name (asan+ubsan)" "$out/tests-san/$name"
	case $name in
	test_pages | test_decode | test_replay | test_record | test_session | \
	test_fuzz_regressions)
		if command -v valgrind >/dev/null; then
			run "lib/$name (valgrind)" valgrind -q --error-exitcode=9 \
				--leak-check=full --errors-for-leak-kinds=definite,indirect \
				"$t"
		fi
		;;
	esac
done
for t in "$here"/test_*.sh; do
	[ -f "$t" ] || continue
	run "lib/$(basename "$t" .sh)" bash "$t" "$out"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
