#!/bin/bash
# test_vmtools.sh BUILD_DIR: the e2e VM's driver (tests/vm/klpt_watch.c)
# where no kernel is needed: usage errors, and --replay of the VM
# recording in fixtures/ printing the model the e2e compares.
set -eu
out=${1:?usage: test_vmtools.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
w=$out/tests-vm/klpt_watch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

[ -x "$w" ] || fail "$w not built"

rc=0
"$w" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] && grep -q '^usage:' "$tmp/err" || fail "no args: exit $rc"
rc=0
"$w" --replay "$tmp/none" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
	grep -q "cannot replay $tmp/none" "$tmp/err" || fail "bad recording: exit $rc: $(cat "$tmp/err")"

# The recording of a blocked enable, its release, the disable and rmmod:
# at its end no patch, no livepatch module, every task undefined.
"$w" --replay "$here/fixtures/vm-recording" "$tmp/model" || fail "replay failed"
head -n 3 "$tmp/model" | tr '\n' ' ' | grep -qx 'klpt-model 1 mode replay lost 0 ' ||
	fail "header: $(head -n 3 "$tmp/model")"
! grep -q '^patch \|^module ' "$tmp/model" || fail "a patch or module left: $(cat "$tmp/model")"
[ "$(grep -c '^task ' "$tmp/model")" -gt 50 ] || fail "too few tasks"
! grep '^task ' "$tmp/model" | grep -qv '^task [0-9]* [0-9]* -1 ' || fail "a task not undefined"
grep -q '^task 0 0 -1 swapper/1$' "$tmp/model" || fail "no idle task of CPU 1"
# sorted by tid, the same output to stdout
sort -s -k2,2n -c <(grep '^task ' "$tmp/model") || fail "tasks not sorted"
"$w" --replay "$here/fixtures/vm-recording" | cmp -s - "$tmp/model" || fail "stdout differs"
echo "vmtools: klpt_watch usage, errors, --replay ok"
