#!/bin/bash
# Run libklptrace's unit tests from a build directory (lib/Makefile's
# OUT): each test plain, then its ASan+UBSan build, then the tests that
# read recordings and pages under valgrind (leaks and invalid reads are
# errors).  Prints PASS/FAIL per run and ends with "N passed, N failed".
set -u
out=${1:?usage: run-unit.sh BUILD_DIR}
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
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

for t in "$out"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	run "lib/$name" "$t"
	run "lib/$name (asan+ubsan)" "$out/tests-san/$name"
	case $name in
	test_pages | test_decode | test_replay | test_record)
		if command -v valgrind >/dev/null; then
			run "lib/$name (valgrind)" valgrind -q --error-exitcode=9 \
				--leak-check=full --errors-for-leak-kinds=definite,indirect \
				"$t"
		fi
		;;
	esac
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
