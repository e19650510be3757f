#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print include/trace/events/klp.h of the native series, generated
# from the one definition of the klp events: tracepoints/klp_trace.h and
# the codes of tracepoints/klp_trace_abi.h.
#
#   kernel/native/gen-trace-header.sh >include/trace/events/klp.h
#   kernel/native/gen-trace-header.sh --check FILE   (exit 1 if FILE differs)
#
# Only the wrapping changes: the file comment, the include guard, the
# codes inlined in place of #include "klp_trace_abi.h" (with that file's
# own guard, so both may meet in one object) and the kernel's include
# path (the file is named after the system: no TRACE_INCLUDE_FILE, which
# would leak into the next trace header of a file that includes several).
# Every TRACE_EVENT is copied as it is, so the
# events' names, fields and formats are those libklptrace decodes.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tp=${KLPT_TRACEPOINTS:-$here/../../tracepoints}
def=$tp/klp_trace.h
abi=$tp/klp_trace_abi.h

gen() {
	for f in "$def" "$abi"; do
		[ -r "$f" ] || { echo "gen-trace-header.sh: cannot read $f" >&2; exit 1; }
	done
	# The ABI's body: from its guard's #define to the line before its
	# closing #endif (its file comment is for user space).
	abi_body=$(awk '/^#define KLP_TRACE_ABI_H/ { on = 1 } on { print }' "$abi" |
		sed '$d')
	for l in '#include "klp_trace_abi.h"' '#define _KLP_TRACE_H' \
		 '#define TRACE_INCLUDE_FILE klp_trace'; do
		grep -qxF "$l" "$def" || {
			echo "gen-trace-header.sh: $def has no '$l': update this script" >&2
			exit 1
		}
	done
	cat <<'EOF'
/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of the livepatch core (system "klp").
 *
 * Generated from klp_trace.h and klp_trace_abi.h of klptrace, the one
 * definition of these events, so that its user space decodes the same
 * names, fields and codes on every kernel.  See
 * Documentation/livepatch/tracepoints.rst for when each event fires.
 */
EOF
	awk -v abi="$abi_body" '
		# skip the source file comment and SPDX line: ours is above
		!started { if ($0 ~ /^#undef TRACE_SYSTEM/) started = 1; else next }
		$0 == "#if !defined(_KLP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)" {
			print "#if !defined(_TRACE_KLP_H) || defined(TRACE_HEADER_MULTI_READ)"; next }
		$0 == "#define _KLP_TRACE_H" { print "#define _TRACE_KLP_H"; next }
		$0 == "#include \"klp_trace_abi.h\"" {
			print "\n/* The codes the events carry (klp_trace_abi.h). */"
			print "#ifndef KLP_TRACE_ABI_H"; print abi; print "#endif"; next }
		$0 == "#endif /* _KLP_TRACE_H */" { print "#endif /* _TRACE_KLP_H */"; tail = 1; next }
		tail { next }
		{ print }
		END {
			print ""
			print "/* This part must be outside protection */"
			print "#include <trace/define_trace.h>"
		}
	' "$def"
}

if [ "${1:-}" = --check ]; then
	[ $# -eq 2 ] || { echo "usage: gen-trace-header.sh [--check FILE]" >&2; exit 2; }
	out=$(gen) || exit 1
	if ! printf '%s\n' "$out" | cmp -s - "$2"; then
		echo "gen-trace-header.sh: $2 is not generated from $def: rerun kernel/native/gen-trace-header.sh" >&2
		exit 1
	fi
	exit 0
fi
[ $# -eq 0 ] || { echo "usage: gen-trace-header.sh [--check FILE]" >&2; exit 2; }
gen
