#!/bin/bash
# The klptrace test suite.
#   tests/run.sh unit            tests that need no kernel
#   tests/run.sh e2e [NAME...]   scenarios in the VM (tests/vm/run.sh)
#   tests/run.sh all             both
# Prints PASS/FAIL per test and ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
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

run_e2e() {
	local out rc
	out=$(mktemp)
	tests/vm/run.sh "$@" | tee "$out"
	rc=${PIPESTATUS[0]}
	# tests/vm/run.sh ends with its own "N passed, N failed".
	read -r p f < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out" | tail -n 1)
	if [ -z "${p:-}" ]; then
		echo "FAIL e2e: tests/vm/run.sh exited $rc without a summary"
		failed=$((failed + 1))
	else
		passed=$((passed + p))
		failed=$((failed + f))
	fi
	rm -f "$out"
}

case $mode in
unit)	run_unit ;;
e2e)	run_e2e "$@" ;;
all)	run_unit; run_e2e ;;
*)	echo "usage: tests/run.sh unit|e2e [scenario...]|all" >&2; exit 2 ;;
esac

echo "suite took $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
