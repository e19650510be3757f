#!/bin/sh
# hostile_comm: a name chosen by an unprivileged user reaches klptop's
# outputs escaped, and klptop on a terminal it cannot use cleans up.
#
#  1. TERM unset, unknown (bogus) and without cursor addressing (dumb),
#     on a terminal (/dev/console): klptop exits 2 with one line, and no
#     tracefs instance of its own is left (ncurses' initscr() used to
#     exit(1) itself, leaving klptrace-PID enabled with tracing_on 1;
#     the instances, listed after each, are compared by the judge).
#  2. nobody (uid 65534) names its shell 'x ESC [2J BEL LF E é'
#     (/proc/self/comm) and reads /proc/klpt_read: it sleeps in
#     klpt_read_proc_read(), which klpt_lp_read patches, so the patching
#     transition waits for it until the core's fake signal (its 15th
#     retry, ~15 s).  Meanwhile, at the same time: klptop -b, klptop
#     --json and the scripted flow (-p --wait-unload --timeout 2), in the
#     C locale.  Then the truth must still say the task is pending.
# Ground truth: /proc/PID/{comm,status,patch_state}, /sys/kernel/livepatch,
# /sys/kernel/tracing/instances, exit codes.  Judge: judge.py (the bytes
# of the outputs against the comm the kernel holds).
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_read
LP=klpt_lp_read
TOP=$KLPT_TOP_BIN
O=$KLPT_OUT

[ -x "$TOP" ] || guest_fail "klptop not in the image (make -C tui)"
need_modules klptrace $TG $LP || guest_fail "modules missing from the image"
# the snapshots would hold the hostile comm: no watcher comparing them
KLPT_WATCH=0 load_klptrace || guest_fail "load_klptrace failed"

instances() {
	for _i in "$KLPT_TRACING"/instances/klptrace*; do
		[ -e "$_i" ] && echo "${_i##*/}"
	done
	return 0
}

# 1. TERM: the screen refused before ncurses, the session closed.
sh -c '[ -t 0 ] && [ -t 1 ]' </dev/console >/dev/console ||
	guest_fail "/dev/console is not a terminal"
instances >"$O/instances.before"
for t in unset bogus dumb; do
	if [ $t = unset ]; then
		env -u TERM "$TOP" </dev/console >/dev/console 2>"$O/term_$t.err"
	else
		TERM=$t "$TOP" </dev/console >/dev/console 2>"$O/term_$t.err"
	fi
	fact "term_${t}_rc" $?
	instances >"$O/instances.after_$t"	# the judge compares
done

# 2. The hostile name.
mkdir -p /etc || guest_fail "cannot make /etc"
grep -q '^nobody:' /etc/passwd 2>/dev/null ||
	echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>/etc/passwd
grep -q '^nogroup:' /etc/group 2>/dev/null ||
	echo 'nogroup:x:65534:' >>/etc/group
insmod_test $TG || guest_fail "insmod $TG failed"
mark "hostile_comm: start reader"
# su execs the shell (same pid); printf and read are builtins: the shell
# names itself and sleeps in the read
# shellcheck disable=SC2016
su -s /bin/sh nobody -c 'printf "x\033[2J\a\nE\303\251" >/proc/self/comm; read -r l </proc/klpt_read' &
hostile=$!
fact hostile_pid "$hostile"
loop_until file_is /sys/module/$TG/parameters/readers 1 ||
	guest_fail "the reader (pid $hostile) never slept in klpt_read_proc_read()"
cat "/proc/$hostile/comm" >"$O/hostile_comm" || guest_fail "no /proc/$hostile/comm"
fact hostile_uid "$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$hostile/status")"
expect_eq "the reader's uid" 65534 "$(cat "$O/facts/hostile_uid")"

mark "hostile_comm: load patch"
insmod_test $LP || guest_fail "insmod $LP failed"
loop_until file_is "/proc/$hostile/patch_state" 0 ||
	guest_fail "the reader is not pending in the patching transition"
expect_eq "$LP transition" 1 "$(lp_transition $LP)"

mark "hostile_comm: klptop runs"
LC_ALL=C "$TOP" -b -n 2 -d 1 >"$O/frames.txt" 2>"$O/frames.err" &
b=$!
LC_ALL=C "$TOP" --json -n 2 -d 1 >"$O/frames.json" 2>"$O/frames.json.err" &
j=$!
LC_ALL=C "$TOP" -p $LP --wait-unload --timeout 2 >"$O/script.txt" 2>"$O/script.err"
fact script_rc $?
wait $b
fact batch_rc $?
wait $j
fact json_rc $?
# the truth after the runs: the window held (else the judge cannot tell)
fact after_state "$(patch_state "$hostile")"
fact after_transition "$(lp_transition $LP)"
expect_eq "the reader's patch_state after klptop's runs (fake signal too early?)" \
	0 "$(cat "$O/facts/after_state")"
mark "hostile_comm: release"

set_param $TG hold 0 || guest_fail "cannot set hold=0"
wait "$hostile"
fact reader_rc $?
wait_transition_done $LP 90 || guest_fail "patching transition of $LP did not finish"
lp_disable $LP
wait_lp_gone $LP 90 && rmmod_wait $LP || guest_fail "cannot unload $LP"
rmmod $TG || guest_fail "rmmod $TG failed"
unload_klptrace
exit 0
