#!/bin/bash
# Run libklptrace's fuzz targets (README.md) for a bounded time each and
# say whether they found anything.  Builds them first (make -C lib fuzz).
#
#   lib/fuzz/run.sh [BUILD_DIR]      default: build/lib (lib/Makefile's OUT)
#
# Environment: KLPT_FUZZ_SECONDS (per target, default 20), KLPT_FUZZ_TARGETS
# (default "pages recording tracedat"), KLPT_FUZZ_JOBS (libFuzzer -fork=,
# default 1).
#
# Where input reaches libtraceevent's format parser or libtracecmd's
# trace.dat reader (recording, tracedat), libFuzzer runs in fork mode and
# goes on after a crash: those libraries crash on malformed input (their
# bugs, which no code of ours can avoid: README.md), and that must not
# end the run.  Every input saved is then run again alone and its stack
# read: if the fault is inside those libraries and the call that led
# there from our code is one of the entry points replay.c hands the
# untouched file to (tep_parse_event, tep_parse_header_page,
# tracecmd_open, tracecmd_read_data), it is noted and kept in
# BUILD_DIR/fuzz/third-party/<target>/; a timeout that runs within the
# bound alone (the machine was busy) is noted; anything else is ours and
# the target FAILs, its inputs kept in BUILD_DIR/fuzz/artifacts/<target>/.
# (A replay of a recording that makes those libraries loop is bounded
# in the product by session.c's probe child, which the fuzzers skip.)
#
# Prints "PASS fuzz/<target> (N execs)" or "FAIL fuzz/<target> ..." per
# target and ends with "N passed, N failed".  The corpus each target grows
# is kept in BUILD_DIR/fuzz/corpus/<target> for the next run.
set -u
# The fuzzers want to see crashes inside libtraceevent/libtracecmd, which
# klpt_session_open_replay() otherwise catches in a child (session.c).
export KLPT_REPLAY_NO_PROBE=1
here=$(cd "$(dirname "$0")" && pwd)
lib=$(dirname "$here")
out=$(realpath -m "${1:-$lib/../build/lib}")
secs=${KLPT_FUZZ_SECONDS:-20}
jobs=${KLPT_FUZZ_JOBS:-1}
targets=${KLPT_FUZZ_TARGETS:-pages recording tracedat}
passed=0
failed=0

max_len() {	# the seeds' size and some room to grow
	case $1 in
	pages)		echo 16384 ;;
	*)		echo 49152 ;;	# recording 31 KB, tracedat 32 KB
	esac
}

if ! command -v "${FUZZ_CC:-clang}" >/dev/null; then
	echo "SKIP fuzz: no clang (scripts/deps.sh build installs it); the" \
		"regression inputs still run in lib's unit tests"
	echo "0 passed, 0 failed"
	exit 0
fi
# classify() below reads function and file names in the sanitizer's
# stacks: without a symbolizer every frame is a bare address and each
# crash inside libtraceevent/libtracecmd would count as ours.
sym=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)
if [ -z "$sym" ]; then
	echo "FAIL fuzz: no llvm-symbolizer to name crash frames" \
		"(scripts/deps.sh build installs it: package llvm)"
	echo "0 passed, 1 failed"
	exit 1
fi
export ASAN_SYMBOLIZER_PATH=$sym
if ! make -s -C "$lib" fuzz OUT="$out" >/dev/null; then
	echo "FAIL fuzz: build (make -C lib fuzz)"
	echo "0 passed, 1 failed"
	exit 1
fi

# Targets whose input reaches libtraceevent's format parser or
# libtracecmd's trace.dat reader run in fork mode; pages feeds only our
# page checker: a plain run, several times faster.
third_party_parsers() {
	case $1 in
	recording | tracedat)	return 0 ;;
	*)			return 1 ;;
	esac
}

# libtraceevent and libtracecmd leak on some malformed input: lsan.supp.
export ASAN_OPTIONS=detect_leaks=1
export LSAN_OPTIONS=suppressions=$here/lsan.supp
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# the scratch files of recording and tracedat go to a tmpfs if there is one
tmpbase=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && tmpbase=/dev/shm
TMPDIR=$(mktemp -d "$tmpbase/klpt-fuzz.XXXXXX") || exit 2
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
common=(-malloc_limit_mb=512 -rss_limit_mb=1024 -timeout=10)

# Print "third-party" or "ours" for the input $2 of target binary $1.
# Full stacks at malloc here: libtracecmd has no frame pointers, and the
# fast unwinder stops in it.  A leak that LeakSanitizer suppresses once
# it sees the whole stack (lsan.supp) is third-party too.
classify() {
	local log extra=()

	# An out-of-memory is judged by the allocation that crosses
	# -malloc_limit_mb, whose stack is printed (libtracecmd trusts a
	# header's size: malloc(8 GiB)); the RSS limit, which prints none,
	# is off for this run.
	case $(basename "$2") in
	oom-*) extra=(-rss_limit_mb=0) ;;
	esac
	if log=$(ASAN_OPTIONS=fast_unwind_on_malloc=0:detect_leaks=1 \
		"$1" "${common[@]}" "${extra[@]}" "$2" 2>&1); then
		case $(basename "$2") in
		leak-*) echo third-party; return ;;
		# slow only on a loaded machine: it ran within the bound
		timeout-*) echo slow; return ;;
		# crashed in the run, not alone: the state earlier inputs
		# left in the same process (libtraceevent's globals in fork
		# mode's children); no stack here to tell whose
		crash-*) echo unreproduced; return ;;
		esac
	fi
	printf '%s\n' "$log" | awk '
		/^ +#[0-9]+ / {
			if ($0 ~ /\/lib\/(src|fuzz)\/[a-z_]+\.c:/) {
				if (entry)
					verdict = "third-party"
				exit
			}
			if ($0 ~ /libtrace(event|cmd)\.so/)
				entry = $0 ~ / in (tep_parse_event|tep_parse_header_page|tracecmd_open|tracecmd_open_fd|tracecmd_read_data) /
		}
		END { print verdict ? verdict : "ours" }'
}

for t in $targets; do
	bin=$out/fuzz/$t
	corpus=$out/fuzz/corpus/$t
	arts=$out/fuzz/artifacts/$t
	third=$out/fuzz/third-party/$t
	log=$out/fuzz/$t.log
	mkdir -p "$corpus" "$arts" "$third"
	rm -f "$arts"/*
	dict=()
	[ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
	mode=(-print_final_stats=1)
	if third_party_parsers "$t"; then
		mode=(-fork="$jobs" -ignore_crashes=1 -ignore_ooms=1
		      -ignore_timeouts=1)
	fi
	# regressions/<target> exists once it has a file (git keeps no
	# empty directories): libFuzzer refuses a missing corpus directory
	dirs=("$corpus" "$out/fuzz/seeds/$t")
	[ -d "$here/regressions/$t" ] && dirs+=("$here/regressions/$t")
	start=$(date +%s)
	"$bin" "${common[@]}" "${dict[@]}" "${mode[@]}" \
		-max_total_time="$secs" -max_len="$(max_len "$t")" \
		-artifact_prefix="$arts/" "${dirs[@]}" \
		>"$log" 2>&1
	took=$(($(date +%s) - start))
	# fork mode's status lines "#EXECS: cov: ...", or the final stats
	execs=$(sed -n -e 's/^#\([0-9]*\): cov:.*/\1/p' \
		-e 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' \
		"$log" | tail -n 1)
	ours=()
	nthird=0
	nslow=0
	nunrep=0
	for a in "$arts"/*; do
		[ -f "$a" ] || continue
		case $(classify "$bin" "$a") in
		third-party)
			mv -f "$a" "$third/"
			nthird=$((nthird + 1)) ;;
		slow)
			nslow=$((nslow + 1)) ;;
		unreproduced)
			nunrep=$((nunrep + 1)) ;;
		*)
			ours+=("$a") ;;
		esac
	done
	if [ -z "$execs" ] || [ "$execs" -eq 0 ]; then
		echo "FAIL fuzz/$t: libFuzzer did not run (log: $log)"
		tail -n 20 "$log" | sed 's/^/    /'
		failed=$((failed + 1))
	elif [ "${#ours[@]}" -gt 0 ]; then
		echo "FAIL fuzz/$t ($execs execs in ${took} s): ${#ours[@]}" \
			"inputs crash in libklptrace, kept in $arts/"
		for a in "${ours[@]:0:3}"; do
			echo "    $a:"
			"$bin" "${common[@]}" "$a" 2>&1 |
				grep -E -m 8 'ERROR|SUMMARY|^ +#[0-9]+ .*/lib/(src|fuzz)/[a-z_]+\.c:' |
				sed 's/^/      /'
		done
		failed=$((failed + 1))
	else
		echo "PASS fuzz/$t ($execs execs in ${took} s," \
			"$((execs / (took ? took : 1))) execs/s)"
		passed=$((passed + 1))
	fi
	if [ "$nslow" -gt 0 ]; then
		echo "    note: $nslow inputs timed out while fuzzing but ran" \
			"within the bound alone (a loaded machine): $arts/"
	fi
	if [ "$nunrep" -gt 0 ]; then
		echo "    note: $nunrep inputs crashed while fuzzing but not" \
			"when run alone (kept in $arts/; the run's reports," \
			"last first:)"
		grep -E 'ERROR: |SUMMARY: |^ +#[0-9]+ ' "$log" | tail -n 12 |
			sed 's/^/      /'
	fi
	if [ "$nthird" -gt 0 ]; then
		echo "    note: $nthird inputs crash inside libtraceevent or" \
			"libtracecmd on malformed input, not in libklptrace: $third/"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
