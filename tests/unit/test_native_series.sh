#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The native series (kernel/native/): the trace header its first patch
# adds is what gen-trace-header.sh makes of tracepoints/ (the one
# definition), every patch is signed off, and the cover letter lists
# every patch.  Applying, checkpatch and the build: make native-kernel.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top/kernel/native" || exit 2
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

first=$(ls 0001-*.patch 2>/dev/null) || fail "no 0001-*.patch"
# The added file, from its diff: every "+" line of its one hunk.
awk '/^diff --git a\/include\/trace\/events\/klp.h / { on = 1; next }
     on && /^diff --git / { on = 0 }
     on && /^@@/ { body = 1; next }
     on && body && /^\+/ { print substr($0, 2) }' "$first" >"$tmp/klp.h"
[ -s "$tmp/klp.h" ] || fail "$first adds no include/trace/events/klp.h"
./gen-trace-header.sh --check "$tmp/klp.h" ||
	fail "$first's include/trace/events/klp.h is not generated from tracepoints/"

n=0
for p in 0*.patch; do
	[ "$p" = 0000-cover-letter.patch ] && continue
	n=$((n + 1))
	grep -q '^Signed-off-by: ' "$p" || fail "$p: no Signed-off-by"
	subj=$(sed -n 's/^Subject: \[PATCH [0-9]*\/[0-9]*\] //p' "$p")
	[ -n "$subj" ] || fail "$p: no numbered Subject"
	grep -qF "  $subj" 0000-cover-letter.patch ||
		fail "the cover letter does not list $p ($subj)"
done
[ "$n" -gt 0 ] || fail "no patches"
grep -q "^Subject: \[PATCH 00/$(printf '%02d' "$n")\] " 0000-cover-letter.patch ||
	fail "the cover letter is not 00/$n"
echo "ok: $n patches"
