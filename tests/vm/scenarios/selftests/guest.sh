#!/bin/sh
# The kernel's own livepatch selftests (tools/testing/selftests/livepatch
# of linux-source-6.1, unchanged; their test_klp_* modules built out of
# tree: tests/selftests/Makefile), run twice: without klptrace.ko, then
# with it loaded, klpt_watch (load_klptrace) and `klptop --json --record`
# running the whole time.  Every test script must pass both times; the
# host judge (judge.py) checks, for the second run, that every transition
# line the kernel printed has its klp event, in order, and that no
# klptop frame shows a failed or removed patch as enabled.
#
# /out/selftests/RUN/NAME.log and NAME.status per script (RUN: plain,
# klptrace); /out/selftests/klptop/frames.json (NDJSON) and recording/.
# dmesg gets "klpt-selftests: RUN begin/end" lines (/dev/kmsg) around
# each run, for the judge.
. /klpt/lib.sh

ST=/klpt/selftests
if [ ! -f "$ST/functions.sh" ] || [ ! -d "/lib/modules/$(uname -r)/extra" ]; then
	guest_fail "no selftests in the image for $(uname -r) (make -C tests/selftests KVER=$(uname -r))"
fi

# The scripts set dynamic debug (debugfs) and read /bin/stat (coreutils'
# --format); real bash, coreutils, kmod... come first in PATH.
grep -q ' /sys/kernel/debug ' /proc/mounts ||
	mount -t debugfs debugfs /sys/kernel/debug || guest_fail "cannot mount debugfs"
ln -sf /klpt/st/bin/stat /bin/stat
# check_result's diff of a failed test reads bash's <(...) through /dev/fd
# (udev's link, which devtmpfs lacks)
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
ST_PATH=/klpt/st/bin:$PATH

# run_selftests RUN: every test-*.sh in order, as the kselftest runner
# would (bash, from their directory); 0 only if all exit 0.
run_selftests() {
	_st_dir=$KLPT_OUT/selftests/$1
	mkdir -p "$_st_dir"
	echo "klpt-selftests: $1 begin" >/dev/kmsg
	_st_rc=0
	for _st_t in "$ST"/test-*.sh; do
		_st_n=$(basename "$_st_t" .sh)
		log "$1: $_st_n"
		(cd "$ST" && PATH=$ST_PATH bash "./$_st_n.sh") >"$_st_dir/$_st_n.log" 2>&1
		_st_s=$?
		echo "$_st_s" >"$_st_dir/$_st_n.status"
		sed 's/^/    /' "$_st_dir/$_st_n.log"
		if [ "$_st_s" != 0 ]; then
			echo "$1: $_st_n exited $_st_s" >>"$KLPT_OUT/failures"
			_st_rc=1
		fi
	done
	echo "klpt-selftests: $1 end" >/dev/kmsg
	return "$_st_rc"
}

run_selftests plain

if ! have_klptrace; then
	guest_fail "no klptrace.ko: the second run needs it"
fi
load_klptrace || guest_fail "klptrace.ko did not load"
# test-ftrace.sh turns kernel.ftrace_enabled off: the ftrace-based
# kprobes go silent, which the library must report as lost events and
# resync (judge/libmodel.py: expect_lost).  A kernel's own events
# (klpt_native) do not depend on ftrace: nothing is lost there.
if [ -d /sys/module/klptrace ] && [ -e "$KLPT_WATCH_STATE" ]; then
	read -r _ _st_wd _ <"$KLPT_WATCH_STATE"
	: >"$_st_wd/expect_lost"
fi
mkdir -p "$KLPT_OUT/selftests/klptop"
if [ -x "$KLPT_TOP_BIN" ]; then
	"$KLPT_TOP_BIN" --json -d 0.5 --record "$KLPT_OUT/selftests/klptop/recording" \
		>"$KLPT_OUT/selftests/klptop/frames.json" \
		2>"$KLPT_OUT/selftests/klptop/klptop.err" </dev/null &
	toppid=$!
	# recording from its first frame on
	loop_until_timeout 30 test -s "$KLPT_OUT/selftests/klptop/frames.json" ||
		guest_fail "klptop wrote no frame: $(cat "$KLPT_OUT/selftests/klptop/klptop.err")"
else
	guest_fail "no klptop in the image (make -C tui)"
fi
mark "selftests: klptrace run"
run_selftests klptrace
mark "selftests: klptrace run done"
# one last frame after the last event, then stop it (SIGTERM: 143)
sleep_frames=$(wc -l <"$KLPT_OUT/selftests/klptop/frames.json")
loop_until_timeout 10 sh -c "[ \$(wc -l <$KLPT_OUT/selftests/klptop/frames.json) -gt $((sleep_frames + 1)) ]"
kill -TERM "$toppid"
wait "$toppid"
toprc=$?
fact klptop_status "$toprc"
[ "$toprc" = 0 ] || [ "$toprc" = 143 ] ||
	guest_fail "klptop exited $toprc: $(cat "$KLPT_OUT/selftests/klptop/klptop.err")"
unload_klptrace || guest_fail "klptrace did not unload"
[ ! -s "$KLPT_OUT/failures" ] || exit 1
