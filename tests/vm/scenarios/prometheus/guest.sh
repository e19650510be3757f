#!/bin/sh
# prometheus: the fleet view end to end.  klptop --openmetrics writes the
# textfile that Debian's node_exporter serves on :9100, klptop --listen
# serves the same metrics on :9101; both are forwarded to the host, where
# the peer runs a real Prometheus scraping them every second.  At each
# step the guest holds still and hands its ground truth (sysfs, procfs,
# refcnt, never klptop's output) to the peer, which waits (bounded) until
# Prometheus's HTTP API shows the same and acks (lib.sh step):
#   up        both targets scraped, no patch, no alert
#   blocked   a patching transition held by klpt_sleeper: transition 1,
#             the tasks whose patch_state is not the target, all asleep;
#             the shipped KlpTransitionStuck went pending, then firing
#             (its `for:` cut to seconds by the peer)
#   released  transition 0, no alert
#   disabled  patch directory gone, refcnt 0: unload-ready 1, and
#             KlpModuleUnloadReady pending, then firing
#   removed   after rmmod, no series of the module or patch left, no alert
# The truth of a step is read again after the ack: it held while the
# host looked.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

TGT=klpt_target_sleep
LP=klpt_lp_sleep
EXPORTER=/klpt/bin/prometheus-node-exporter
TEXTDIR=/run/klpt-metrics

need_modules klptrace $TGT $LP || guest_fail "modules missing from the image"
[ -x "$EXPORTER" ] || guest_fail "no $EXPORTER in the image (prometheus-node-exporter on the host)"
[ -x "$KLPT_TOP_BIN" ] || guest_fail "no klptop in the image"
[ -d /sys/class/net/eth0 ] || guest_fail "no network (init: klpt_net)"

# sleeping_unswitched TARGET: of those, how many sleep (state S or D).
sleeping_unswitched() {
	_n=0
	for _t in /proc/[0-9]*/task/[0-9]*; do
		read -r _ps 2>/dev/null <"$_t/patch_state" || continue
		[ "$_ps" = "$1" ] && continue
		_st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "$_t/status" 2>/dev/null)
		case $_st in S | D) _n=$((_n + 1)) ;; esac
	done
	echo "$_n"
}

# mstep NAME [KEY=VALUE...]: step, then keep the textfile node_exporter
# served (metrics/NAME.prom: judge.py runs promtool check metrics on it).
mstep() {
	step "$@"
	_rc=$?
	cp "$TEXTDIR/klptrace.prom" "$KLPT_OUT/metrics/$1.prom"
	return $_rc
}

# gone: the patch and its module are gone (the removed step's truth).
gone() {
	[ ! -d "$KLPT_LP/$LP" ] && ! module_loaded $LP
}

load_klptrace || guest_fail "load_klptrace failed"

mkdir -p "$TEXTDIR" "$KLPT_OUT/metrics"
# Only the textfile collector: what the test looks at, and a Go
# exporter's other collectors cost seconds under TCG.
"$EXPORTER" --collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$TEXTDIR" --web.listen-address=:9100 \
	>"$KLPT_OUT/node_exporter.log" 2>&1 &
"$KLPT_TOP_BIN" --openmetrics "$TEXTDIR/klptrace.prom" --listen 0.0.0.0:9101 -d 0.5 \
	>"$KLPT_OUT/klptop-metrics.log" 2>&1 &
toppid=$!
loop_until listening 9100 || guest_fail "node_exporter does not listen on 9100"
loop_until listening 9101 || guest_fail "klptop --listen does not listen on 9101"
loop_until test -s "$TEXTDIR/klptrace.prom" || guest_fail "no $TEXTDIR/klptrace.prom"
loop_until net_ready || guest_fail "eth0's link is not up"
fact klptop_pid "$toppid"

mstep up kernel="$(uname -r)" lp_present="$(lp_exists $LP && echo 1 || echo 0)" ||
	guest_fail "step up"

# A patching transition held by klpt_sleeper asleep in klpt_sleep_fn.
start_sleeper || guest_fail "klpt_sleeper is not asleep in klpt_sleep_fn"
mark "prometheus: insmod $LP"
expect_success insmod_rc insmod_test $LP
# pass 0 from insmod, then one a second: by the third klptop knows why
# the rest are blocked.  Wait too until klpt_sleeper is the only task
# left (a task running at a pass is refused then, switched later): the
# count the host compares must hold still.
loop_until_timeout 120 has_since "prometheus: insmod $LP" klp_transition_pass 3 ||
	guest_fail "fewer than 3 transition passes of $LP"
sleeper=$(param $TGT pid)
only_sleeper() {
	[ "$(unswitched 1)" = 1 ] && [ "$(patch_state "$sleeper")" = 0 ]
}
loop_until only_sleeper || guest_fail "tasks other than klpt_sleeper stay unswitched"
n=$(unswitched 1)
s=$(sleeping_unswitched 1)
tr=$(lp_transition $LP)
mstep blocked patch=$LP transition="$tr" unswitched="$n" sleeping="$s" \
	sleeper="$sleeper" || guest_fail "step blocked"
expect_eq "transition of $LP after the blocked step" "$tr" "$(lp_transition $LP)"
expect_eq "unswitched tasks after the blocked step" "$n" "$(unswitched 1)"
expect_eq "sleeping unswitched tasks after the blocked step" "$s" "$(sleeping_unswitched 1)"

mark "prometheus: release"
set_param $TGT block 0 || guest_fail "cannot set block=0"
wait_transition_done $LP 120 || guest_fail "transition of $LP did not finish"
mstep released patch=$LP transition="$(lp_transition $LP)" \
	enabled="$(lp_enabled $LP)" in_transition="$(unswitched -1)" ||
	guest_fail "step released"
expect_eq "transition of $LP after the released step" 0 "$(lp_transition $LP)"

mark "prometheus: disable"
lp_disable $LP || guest_fail "cannot disable $LP"
wait_lp_gone $LP 120 || guest_fail "$LP's directory stays"
wait_refcnt $LP 0 60 || guest_fail "$LP's refcnt stays above 0"
mstep disabled module=$LP dir="$(lp_exists $LP && echo present || echo gone)" \
	refcnt="$(refcnt $LP)" || guest_fail "step disabled"
expect_eq "refcnt of $LP after the disabled step" 0 "$(refcnt $LP)"

mark "prometheus: rmmod"
expect_success rmmod_rc rmmod $LP
gone || guest_fail "$LP still there after rmmod"
mstep removed module=$LP loaded=0 || guest_fail "step removed"
gone || guest_fail "$LP back after the removed step"

# SIGTERM ends klptop cleanly (status 143, klptop(1)): its tracefs
# instance (klptrace-PIDNS-PID) removed, no temporary file left next to
# the textfile.  The watchdog of init bounds the wait.
kill "$toppid" || guest_fail "klptop --openmetrics is gone before its end"
wait "$toppid"
fact klptop_rc "$?"
left=0
for d in "$KLPT_TRACING/instances/"*"-$toppid"; do
	[ -d "$d" ] && left=$((left + 1))
done
fact klptop_instances_left "$left"
# shellcheck disable=SC2012 # any name there is news
fact textdir_left "$(ls -A "$TEXTDIR" | tr '\n' ' ')"
rmmod $TGT || guest_fail "rmmod $TGT"
unload_klptrace || guest_fail "unload_klptrace failed"
log "prometheus done"
