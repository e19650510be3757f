#!/bin/bash
# test_replay_shapes.sh BUILD_DIR: untrusted recordings that once hung or
# blew up a replay (issue 12 items 5 and 6), through the public API as a
# program uses it (tests-vm/klpt_watch --replay, which runs the library's
# probe child too).  Each must end within a bound (timeout, not the
# library's word for it) with exit 2 (1 once replaying) and one line on
# stderr naming the file and why:
#   - a FIFO, a link to /dev/zero, a character device (root only: mknod)
#     or a directory in place of per_cpu/cpu1/trace_pipe_raw; a FIFO for
#     klptrace-recording, events/header_page, truth.txt; a FIFO or a
#     link to /dev/zero given as the recording;
#   - a sparse per-CPU file of 1 TiB: the replay reads its pages and
#     stops at the first empty one (exit 1: the replay's error);
#   - a header with 128 MiB pages for 16 CPUs whose per-CPU files are
#     hard links to one sparse file (2 GiB resident before the fix), and
#     one of 4096 CPUs of 256 KiB pages: refused from the header, under
#     an address-space limit (prlimit --as) the old reads could not fit.
# The fixture recording replays under the same limit (exit 0), and a
# FIFO for truth-end.txt (optional hints) only loses the hints.
set -u
out=${1:?usage: test_replay_shapes.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
fix=$here/fixtures/vm-recording
watch=$out/tests-vm/klpt_watch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
# a limit the plain klpt_watch fits in (about 60 MiB mapped) but not
# 16 pages of 128 MiB
limit=$((768 << 20))

[ -x "$watch" ] || { echo "FAIL: $watch not built"; exit 1; }

# run NAME WANT_RC PATTERN PATH: klpt_watch --replay PATH, 10 s at most
run() {
	local name=$1 want=$2 pat=$3 path=$4 rc lines
	timeout -k 2 10 prlimit --as=$limit -- "$watch" --replay "$path" \
		>"$tmp/stdout" 2>"$tmp/stderr"
	rc=$?
	lines=$(wc -l <"$tmp/stderr")
	if [ "$rc" != "$want" ]; then
		echo "FAIL $name: exit $rc, expected $want$([ $rc -ge 124 ] &&
			echo ' (timed out)'): $(head -c 300 "$tmp/stderr")"
	elif [ "$want" != 0 ] && [ "$lines" != 1 ]; then
		echo "FAIL $name: $lines lines on stderr: $(head -c 300 "$tmp/stderr")"
	elif [ "$want" != 0 ] && ! grep -q -- "$pat" "$tmp/stderr"; then
		echo "FAIL $name: stderr '$(cat "$tmp/stderr")' lacks '$pat'"
	else
		echo "ok $name"
		return 0
	fi
	failed=$((failed + 1))
}

# shape NAME: a fresh copy of the fixture at $tmp/NAME
shape() {
	rm -rf "${tmp:?}/$1"
	cp -r "$fix" "$tmp/$1"
	echo "$tmp/$1"
}

notreg="not a regular file"
run fixture 0 "" "$fix"

d=$(shape fifo-cpu)
rm "$d/per_cpu/cpu1/trace_pipe_raw" && mkfifo "$d/per_cpu/cpu1/trace_pipe_raw"
run fifo-cpu 2 "cpu1/trace_pipe_raw: $notreg" "$d"

d=$(shape zero-link)
ln -sf /dev/zero "$d/per_cpu/cpu1/trace_pipe_raw"
run zero-link 2 "cpu1/trace_pipe_raw: $notreg" "$d"

if [ "$(id -u)" = 0 ]; then
	d=$(shape device)
	rm "$d/per_cpu/cpu1/trace_pipe_raw" &&
		mknod "$d/per_cpu/cpu1/trace_pipe_raw" c 1 5	# /dev/zero
	run device 2 "cpu1/trace_pipe_raw: $notreg" "$d"
else
	echo "ok device # skipped: mknod needs root"
fi

d=$(shape dir-for-file)
rm "$d/per_cpu/cpu1/trace_pipe_raw" && mkdir "$d/per_cpu/cpu1/trace_pipe_raw"
run dir-for-file 2 "cpu1/trace_pipe_raw: $notreg" "$d"

# fifo NAME FILE RC PATTERN: the fixture with a FIFO for FILE
fifo() {
	d=$(shape "$1")
	rm -f "$d/$2" && mkfifo "$d/$2"
	run "$1" "$3" "$4" "$d"
}
fifo fifo-header klptrace-recording 2 "klptrace-recording: $notreg"
fifo fifo-header-page events/header_page 2 "header_page: $notreg"
fifo fifo-truth truth.txt 2 "truth.txt: $notreg"
fifo fifo-truth-end truth-end.txt 0 ""

# a regular file can be endless too: 1 TiB of holes after cpu1's pages
# (read whole inside one process() call before the fix)
d=$(shape sparse-giant)
truncate -s 1T "$d/per_cpu/cpu1/trace_pipe_raw"
run sparse-giant 1 "cpu1/trace_pipe_raw: page 2 is empty" "$d"

mkfifo "$tmp/fifo-top"
run fifo-top 2 "neither a klptrace recording directory nor a trace.dat" \
	"$tmp/fifo-top"
ln -s /dev/zero "$tmp/zero.dat"
run zero-top 2 "neither a klptrace recording directory nor a trace.dat" \
	"$tmp/zero.dat"

# 128 MiB pages, 16 CPUs, one sparse file behind every CPU: a page whose
# one event spans it all (commit 0x7fffff0, length word 0x7ffffec), so
# that every page read would be queued whole
d=$(shape huge-pages)
rm -r "$d/per_cpu"
printf '\0\0\0\0\0\0\0\0\xf0\xff\xff\x07\0\0\0\0\0\0\0\0\xec\xff\xff\x07' \
	>"$tmp/bigpage"
truncate -s 128M "$tmp/bigpage"
for c in $(seq 0 15); do
	mkdir -p "$d/per_cpu/cpu$c"
	ln "$tmp/bigpage" "$d/per_cpu/cpu$c/trace_pipe_raw"
done
sed -i -e 's/^page_size .*/page_size 134217728/' -e 's/^ncpus .*/ncpus 16/' \
	"$d/klptrace-recording"
run huge-pages 2 "page_size 134217728 is over the 1024 KiB" "$d"

d=$(shape wide)
sed -i -e 's/^page_size .*/page_size 262144/' -e 's/^ncpus .*/ncpus 4096/' \
	"$d/klptrace-recording"
run wide 2 "1024 MiB of pages held at once, over the limit of 256 MiB" "$d"

[ "$failed" = 0 ]
