#!/bin/bash
# Self-test of the VM harness: boots the scenarios of tests/vm/selftest
# (which fail, hang, panic, splat, ... on purpose) through run.sh and
# checks that run.sh reports each one as its `expect` file says (an
# extended regex the scenario's result line must match; expect-details,
# if there, one its report's details must match).
#
#   tests/vm/selftest.sh [NAME...]
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$here/selftest

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for d in "$dir"/*/; do
		names+=("$(basename "$d")")
	done
fi

out=$(KLPT_VM_SCENARIOS=$dir "$here/run.sh" "${names[@]}" 2>&1)
printf '%s\n' "$out"

bad=0
for n in "${names[@]}"; do
	want=$(cat "$dir/$n/expect")
	line=$(grep -E "^(PASS|FAIL) ${n}[: ]" <<<"$out")
	# expect-details (optional): an extended regex some line of the
	# report's details must match.
	details=$(sed -n "/^FAIL ${n}[: ]/,/^    results: /p" <<<"$out")
	if [ -f "$dir/$n/expect-details" ] &&
		! grep -qE "$(cat "$dir/$n/expect-details")" <<<"$details"; then
		echo "selftest BAD: $n: no detail matches /$(cat "$dir/$n/expect-details")/"
		bad=1
	elif grep -qE "$want" <<<"$line"; then
		echo "selftest ok:  $n"
	else
		echo "selftest BAD: $n: expected /$want/, got: ${line:-nothing}"
		bad=1
	fi
done
exit $bad
