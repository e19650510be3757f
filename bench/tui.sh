#!/bin/bash
# klptop's scale benchmark (bench/README.md, benchmark 5), host only:
#
#   bench/tui.sh BENCH_BUILD_DIR
#
# klptb_gen -s writes three synthetic recordings: "big", 100k threads in
# the start-up snapshot and a transition that leaves 10k of them blocked
# for 30 retry passes a second apart, the baseline "small", 1k threads
# and 100 blocked, same shape, and "huge", 1M threads and 100k blocked,
# to show how a frame and the memory grow (replayed once, for
# $KLPTB_TUI_HUGE_FRAMES [8] frames: each takes in 100k events).  klptop replays each with one
# frame a second (-d 1: every frame takes in one pass's events) in text
# (-b), JSON (--json) and metrics (--openmetrics FILE, FILE in
# BENCH_BUILD_DIR: written, fsync()ed and renamed as in production)
# mode, KLPTOP_FRAME_LOG giving each frame's
# build and draw times and RSS, $KLPTB_TUI_RUNS times [5], big and small
# interleaved.  klptop's standard output (a frame's -b text or JSON, up
# to ~2.3 MB a frame, ~75 MB a replay) goes to a file on a tmpfs
# (/dev/shm) where there is one: each frame's time includes its write()
# into the page cache, but neither the host disk's writeback, which on
# this host stalls a write() by 5-7 ms at every 16 MiB a file grows (the
# slow --json frames of earlier runs), nor a reader's pace.
# Raw output: BENCH_BUILD_DIR/tui/ (gen-*.txt, frames/); report.py makes
# the table.  Benchmark 4 (latency) is the VM scenario
# `latency` that run.sh runs with the others.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:?usage: tui.sh BENCH_BUILD_DIR}
klptop=$root/build/tui/klptop
runs=${KLPTB_TUI_RUNS:-5}
passes=30
out=$build/tui

say() { echo "bench: $*" >&2; }

rm -rf "$out"
mkdir -p "$out/frames"
# /dev/shm only if it is a tmpfs with room for the huge replay's JSON
# (~300 MB written to one file; the usual container /dev/shm is 64 MB)
sink=$out
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
	[ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')" -gt $((1024 * 1024)) ] 2>/dev/null; then
	sink=$(mktemp -d /dev/shm/klptb-tui.XXXXXX 2>/dev/null) || sink=$out
fi
[ "$sink" = "$out" ] || trap 'rm -rf "$sink"' EXIT
echo "$([ "$sink" = "$out" ] && echo disk || echo tmpfs)" >"$out/stdout-fs"
# name tasks blocked
sizes=("big 100000 10000" "small 1000 100")
huge="huge 1000000 100000"
huge_frames=${KLPTB_TUI_HUGE_FRAMES:-8}
for s in "${sizes[@]}" "$huge"; do
	set -- $s
	rec=$out/rec-$1
	mkdir -p "$rec/per_cpu"
	cp -r "$root/lib/tests/fixtures/formats/events" "$rec/"
	"$build/klptb_gen" -s "$root/lib/tests/fixtures/formats" "$rec" "$2" "$3" "$passes" \
		>"$out/gen-$1.txt" || { say "klptb_gen -s $s failed"; exit 1; }
	echo "tasks $2 blocked $3 passes $passes" >>"$out/gen-$1.txt"
	say "5. klptop scale: recording $1: $2 threads, $3 blocked, $(awk '/^events/ { print $2 }' "$out/gen-$1.txt") events"
done

# -n: the frame before the first event, then one per pass
frames=$((passes + 2))
for i in $(seq 1 "$runs"); do
	runsizes=("${sizes[@]}")
	[ "$i" != 1 ] || runsizes+=("$huge")
	for s in "${runsizes[@]}"; do
		set -- $s
		n=$frames
		[ "$1" != huge ] || n=$huge_frames
		for mode in b json om; do
			f=$out/frames/$1.$mode.$i
			if [ $mode = om ]; then
				set -- "$1" --openmetrics "$out/metrics.$1.prom"
			else
				set -- "$1" "--$mode"
			fi
			KLPTOP_FRAME_LOG=$f "$klptop" --replay "$out/rec-$1" "${@:2}" -d 1 -n "$n" \
				>"$sink/last.$1.$mode" 2>"$out/err.$1.$mode" ||
				{ say "klptop --replay $1 --$mode failed: $(cat "$out/err.$1.$mode")"; exit 1; }
			[ "$(wc -l <"$f")" = "$n" ] ||
				{ say "klptop --replay $1 --$mode: $(wc -l <"$f") frames, not $n"; exit 1; }
		done
	done
	say "  run $i: $(awk -F'build_ns=| draw_ns=| rss_kb=' 'NR > 1 { t += $2 + $3 } END { printf "%.2f ms a frame", t / (NR - 1) / 1e6 }' "$out/frames/big.b.$i") (big, -b)"
done
# the last frame of each kind, for the record (the big JSON one is large)
for s in big small huge; do
	tail -n 70 "$sink/last.$s.b" >"$out/last-frame.$s.txt"
	wc -c <"$sink/last.$s.json" >"$out/json-bytes.$s"
	wc -c <"$out/metrics.$s.prom" >"$out/om-bytes.$s"
	rm -f "$sink/last.$s.json" "$sink/last.$s.b" "$sink/last.$s.om"
done
# the recordings are cheap to make again
rm -rf "$out"/rec-*
