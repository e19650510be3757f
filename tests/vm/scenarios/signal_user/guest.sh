#!/bin/sh
# signal_user: a user task sleeping in the patched function is freed by
# the livepatch core's fake signal.
#
# `cat /proc/klpt_read` sleeps in klpt_read_proc_read() (hold=1); the
# livepatch's transition stalls on it until retry 15, when the core sends
# it a fake signal: the read returns -ERESTARTSYS, the task switches on
# its way back to user mode and the restarted read runs the new function,
# so cat prints "patched".
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TG=klpt_target_read
LP=klpt_lp_read

# exited PID: PID has exited, reaped or not (our own child stays a
# zombie until the shell reaps it, and kill -0 still finds a zombie).
exited() {
	_st=
	read -r _st 2>/dev/null <"/proc/$1/stat" || return 0
	_st=${_st##*) }
	[ "${_st%% *}" = Z ]
}

need_modules klptrace $TG $LP || guest_fail "modules missing from the image"
load_klptrace || guest_fail "load_klptrace failed"

log "start a reader that sleeps in klpt_read_proc_read()"
mark "signal: load target"
insmod_test $TG || guest_fail "insmod $TG failed"
mark "signal: start reader"
cat /proc/klpt_read >/out/read.txt &
reader=$!
fact reader_pid "$reader"
loop_until file_is /sys/module/$TG/parameters/readers 1 ||
	guest_fail "the reader (pid $reader) never slept in klpt_read_proc_read()"

log "load $LP: the transition waits for the fake signal at retry 15"
mark "signal: load patch"
insmod_test $LP || guest_fail "insmod $LP failed"
# ~16 s of retries at one a second, far slower under TCG and load.
wait_transition_done $LP 90 || guest_fail "patching transition of $LP did not finish in 90 s"
loop_until exited "$reader" || guest_fail "the reader (pid $reader) did not exit"
wait "$reader"
echo $? >/out/reader_status
mark "signal: reader exited"
log "reader exited with status $(cat /out/reader_status): $(cat /out/read.txt)"
expect_eq "reader exit status" 0 "$(cat /out/reader_status)"
expect_eq "what the reader read (the restarted read ran the new function)" \
	patched "$(cat /out/read.txt)"
expect_eq "$TG readers after the read" 0 "$(param $TG readers)"
# cat read twice, both in the new function: the text, then EOF.
expect_eq "$LP calls (the read that got the text, then EOF)" 2 "$(param $LP calls)"
snap complete
events_sync || guest_fail "events_sync failed"
log "signal_user done"
