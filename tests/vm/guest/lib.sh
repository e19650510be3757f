# Helpers for klptrace VM scenarios (POSIX sh / busybox ash).
#
# A scenario (tests/vm/scenarios/NAME/guest.sh, /klpt/scenarios/NAME.sh in
# the guest) starts with
#	. /klpt/lib.sh
# and runs as root in the guest with /out as the result directory.  Its
# exit status is the scenario's status (0 = pass); stdout and stderr go to
# /out/scenario.log.  /init has already created the tracing instance
# klpt_e2e and started copying its trace_pipe into /out/events.txt.
#
# Conventions: functions return non-zero on failure and say why on stderr;
# only guest_fail ends the scenario.  Waiting is done by polling with a
# bound (loop_until), never by fixed sleeps.

KLPT_TRACING=/sys/kernel/tracing
KLPT_INST=$KLPT_TRACING/instances/klpt_e2e
KLPT_OUT=/out
KLPT_EVENTS=$KLPT_OUT/events.txt
KLPT_MODDIR=/klpt/modules
KLPT_LP=/sys/kernel/livepatch
# Default bound of loop_until, seconds.  TCG is slow: be generous.
KLPT_LOOP_TIMEOUT=${KLPT_LOOP_TIMEOUT:-60}
# libklptrace's driver (lib/tests/vm/klpt_watch.c), when lib was built.
# Each one started gets $KLPT_WATCH_DIR/N (N = 1, 2, ...); the running
# one is "PID DIR N" in $KLPT_WATCH_STATE.  KLPT_WATCH=0: start none.
KLPT_WATCH_BIN=/klpt/bin/klpt_watch
KLPT_WATCH_DIR=$KLPT_OUT/lib
KLPT_WATCH_STATE=/tmp/klpt_watch.state

# log TEXT...: print TEXT with the guest uptime, for scenario.log.
log() {
	read -r _klpt_up _ </proc/uptime
	echo "[$_klpt_up] $*"
}

# guest_fail MSG...: record MSG in /out/failures (the host prints it) and
# exit the scenario with status 1.  Inside $(...) or a ( ) subshell this
# only leaves the subshell; the host still fails the run because
# /out/failures is not empty.
guest_fail() {
	echo "$*" >>"$KLPT_OUT/failures"
	echo "FAIL: $*" >&2
	exit 1
}

# _klpt_cs: print the uptime in centiseconds (a monotonic clock for
# deadlines; "1x" - 100 keeps "08" from being read as octal).
_klpt_cs() {
	read -r _klpt_up _ </proc/uptime
	echo $((${_klpt_up%.*} * 100 + 1${_klpt_up#*.} - 100))
}

# loop_until_timeout SECS CMD...: run CMD every 0.1 s until it succeeds
# (return 0) or SECS seconds have passed (print the command that never
# succeeded on stderr, return 1).  CMD is run at least once.
loop_until_timeout() {
	_klpt_secs=$1
	shift
	_klpt_deadline=$(($(_klpt_cs) + _klpt_secs * 100))
	while :; do
		"$@" && return 0
		[ "$(_klpt_cs)" -ge "$_klpt_deadline" ] && break
		sleep 0.1
	done
	echo "loop_until: timed out after ${_klpt_secs} s waiting for: $*" >&2
	return 1
}

# loop_until CMD...: loop_until_timeout with $KLPT_LOOP_TIMEOUT (60 s).
loop_until() {
	loop_until_timeout "$KLPT_LOOP_TIMEOUT" "$@"
}

# holds_for SECS CMD...: run CMD every 0.1 s for SECS seconds; return 1 at
# once (printing the command on stderr) if it fails, 0 if it never did.
holds_for() {
	_klpt_secs=$1
	shift
	_klpt_deadline=$(($(_klpt_cs) + _klpt_secs * 100))
	while [ "$(_klpt_cs)" -lt "$_klpt_deadline" ]; do
		"$@" || {
			echo "holds_for: stopped holding within ${_klpt_secs} s: $*" >&2
			return 1
		}
		sleep 0.1
	done
}

# file_is PATH VALUE: true if file PATH exists and reads exactly VALUE (a
# predicate for loop_until: loop_until file_is /sys/.../transition 0).
file_is() {
	[ -r "$1" ] || return 1
	[ "$(cat "$1" 2>/dev/null)" = "$2" ]
}

# expect_eq WHAT EXPECTED ACTUAL: guest_fail unless EXPECTED = ACTUAL.
expect_eq() {
	[ "$2" = "$3" ] || guest_fail "$1: expected '$2', got '$3'"
}

# fact NAME VALUE...: record VALUE as ground truth for the judge in
# /out/facts/NAME (klptjudge: j.fact(NAME)).  Builtins only once the
# directory exists: a scenario may be watching its own forks.
fact() {
	_klpt_name=$1
	shift
	[ -d "$KLPT_OUT/facts" ] || mkdir -p "$KLPT_OUT/facts" || return 1
	echo "$*" >"$KLPT_OUT/facts/$_klpt_name"
}

# expect_success FACT CMD...: run CMD, record its exit status as fact
# FACT (the judge checks it too) and guest_fail unless it is 0.
expect_success() {
	_klpt_fact=$1
	shift
	"$@"
	_klpt_rc=$?
	fact "$_klpt_fact" "$_klpt_rc"
	expect_eq "$* exit code" 0 "$_klpt_rc"
}

# mark TEXT...: write TEXT into the klpt_e2e trace (a tracing_mark_write
# event that judges find with klptjudge markers()/events_between()).
mark() {
	echo "$*" >"$KLPT_INST/trace_marker"
}

# enable_events SYSTEM[/EVENT]...: enable trace events in klpt_e2e.
enable_events() {
	for _klpt_ev in "$@"; do
		if [ ! -e "$KLPT_INST/events/$_klpt_ev/enable" ]; then
			echo "enable_events: no event $_klpt_ev" >&2
			return 1
		fi
		echo 1 >"$KLPT_INST/events/$_klpt_ev/enable" || return 1
	done
}

# have_module NAME: true if /klpt/modules/NAME.ko is in the image.
have_module() {
	[ -f "$KLPT_MODDIR/$1.ko" ]
}

# klpt_native: true if the kernel emits the klp events itself (the native
# series, kernel/native/): they are in tracefs while klptrace.ko is not
# loaded: not on /proc/modules, where a loading module is listed before its
# events are added and /sys/module/NAME comes after them (6.1
# load_module()).  Such a kernel needs no klptrace.ko (which refuses to
# load there).
klpt_native() {
	[ -d "$KLPT_TRACING/events/klp" ] && [ ! -d /sys/module/klptrace ] &&
		! grep -q '^klptrace ' /proc/modules
}

# have_klptrace: true if the klp events can be had: klptrace.ko is in the
# image, or the kernel has them (klpt_native).
have_klptrace() {
	have_module klptrace || klpt_native
}

# need_modules NAME...: true if every /klpt/modules/NAME.ko is in the
# image; names the missing ones on stderr.
need_modules() {
	_klpt_missing=
	for _klpt_m in "$@"; do
		[ "$_klpt_m" = klptrace ] && klpt_native && continue
		have_module "$_klpt_m" || _klpt_missing="$_klpt_missing $_klpt_m.ko"
	done
	[ -z "$_klpt_missing" ] && return 0
	echo "need_modules: not in the image:$_klpt_missing" >&2
	return 1
}

# load_klptrace [ARGS]: insmod klptrace.ko ARGS, then enable the klp and
# module event systems in klpt_e2e (klp exists only once the module is
# loaded), then start klpt_watch (watch_start).  Prints
# /sys/kernel/klptrace/hooks when it exists.  On a kernel with the native
# events (klpt_native) there is nothing to load: ARGS are ignored.
# shellcheck disable=SC2120 # ARGS are optional
load_klptrace() {
	if klpt_native; then
		log "load_klptrace: the kernel has the klp events (native): no klptrace.ko"
	elif ! insmod "$KLPT_MODDIR/klptrace.ko" "$@"; then
		echo "load_klptrace: insmod klptrace.ko $* failed" >&2
		return 1
	fi
	enable_events klp module || return 1
	if [ -r /sys/kernel/klptrace/hooks ]; then
		log "klptrace hooks:"
		sed 's/^/    /' /sys/kernel/klptrace/hooks
	fi
	watch_start
}

# unload_klptrace: stop klpt_watch (watch_stop lib_unloadN: its session
# ends with klptrace's events), events_sync, then rmmod klptrace.
# Removing the module resets the ring buffers of its events, so whatever
# is not in events.txt by then is lost.
unload_klptrace() {
	if [ -e "$KLPT_WATCH_STATE" ]; then
		read -r _ _ _klpt_wn <"$KLPT_WATCH_STATE"
		watch_stop "lib_unload$_klpt_wn" || return 1
	fi
	events_sync "$KLPT_LOOP_TIMEOUT" || return 1
	echo 0 >"$KLPT_INST/events/klp/enable" 2>/dev/null
	# native events: nothing to remove
	[ -d /sys/module/klptrace ] || return 0
	rmmod klptrace
}

# --- klpt_watch: libklptrace's model, compared with the ground truth ------
# load_klptrace starts one, unload_klptrace and /init (at the end of the
# scenario) stop it.  The host (tests/vm/judge/libmodel.py) compares the
# model it dumped with the snapshot taken right after, and replays its
# recording.  $KLPT_WATCH_DIR/N/: watch.log (its stdout+stderr), ready,
# events.log, recording/, dump.txt (the dump compared), snap (that
# snapshot's name), model.txt (the model when it exited), closed.

# _klpt_gone PID: process PID has exited (gone, or a zombie not reaped).
_klpt_gone() {
	_klpt_st=
	read -r _klpt_st 2>/dev/null <"/proc/$1/stat" || return 0
	_klpt_st=${_klpt_st##*) }
	[ "${_klpt_st%% *}" = Z ]
}

# _klpt_up_or_gone PID DIR: DIR/ready exists or PID has exited.
_klpt_up_or_gone() {
	[ -e "$2/ready" ] || _klpt_gone "$1"
}

# _klpt_exists PATH: PATH exists (a loop_until predicate).
_klpt_exists() {
	[ -e "$1" ]
}

# watch_start: start klpt_watch $KLPT_WATCH_DIR/N in the background and
# wait until its session is open and recording (DIR/ready).  Does
# nothing (0) if the image has no klpt_watch or KLPT_WATCH=0; fails if
# one is running already or it does not come up (saying why).
watch_start() {
	[ -x "$KLPT_WATCH_BIN" ] && [ "${KLPT_WATCH:-1}" = 1 ] || return 0
	if [ -e "$KLPT_WATCH_STATE" ]; then
		echo "watch_start: klpt_watch already runs: $(cat "$KLPT_WATCH_STATE")" >&2
		return 1
	fi
	_klpt_wn=1
	while [ -e "$KLPT_WATCH_DIR/$_klpt_wn" ]; do
		_klpt_wn=$((_klpt_wn + 1))
	done
	_klpt_wd=$KLPT_WATCH_DIR/$_klpt_wn
	mkdir -p "$_klpt_wd" || return 1
	"$KLPT_WATCH_BIN" "$_klpt_wd" >"$_klpt_wd/watch.log" 2>&1 </dev/null &
	_klpt_wpid=$!
	echo "$_klpt_wpid $_klpt_wd $_klpt_wn" >"$KLPT_WATCH_STATE"
	if ! loop_until_timeout 30 _klpt_up_or_gone "$_klpt_wpid" "$_klpt_wd" ||
		[ ! -e "$_klpt_wd/ready" ]; then
		kill "$_klpt_wpid" 2>/dev/null
		rm -f "$KLPT_WATCH_STATE"
		echo "watch_start: klpt_watch did not come up: $(cat "$_klpt_wd/watch.log")" >&2
		return 1
	fi
	mark "klpt_watch $_klpt_wn started"
	log "klpt_watch $_klpt_wn (pid $_klpt_wpid) records into $_klpt_wd"
}

# watch_stop SNAP: have klpt_watch dump its model (SIGUSR1, wait for
# model.done), take snapshot SNAP right after, then stop it (SIGTERM) and
# wait until its session is closed.  0 if none runs.  Fails, saying why,
# if it does not answer or did not exit cleanly.
watch_stop() {
	[ -e "$KLPT_WATCH_STATE" ] || return 0
	read -r _klpt_wpid _klpt_wd _klpt_wn <"$KLPT_WATCH_STATE"
	rm -f "$KLPT_WATCH_STATE" "$_klpt_wd/model.done"
	if _klpt_gone "$_klpt_wpid"; then
		echo "watch_stop: klpt_watch $_klpt_wn (pid $_klpt_wpid) is gone: $(cat "$_klpt_wd/watch.log")" >&2
		return 1
	fi
	mark "klpt_watch $_klpt_wn dump"
	if ! kill -USR1 "$_klpt_wpid" ||
		! loop_until_timeout 30 _klpt_exists "$_klpt_wd/model.done"; then
		kill "$_klpt_wpid" 2>/dev/null
		echo "watch_stop: klpt_watch $_klpt_wn wrote no model: $(cat "$_klpt_wd/watch.log")" >&2
		return 1
	fi
	cp "$_klpt_wd/model.txt" "$_klpt_wd/dump.txt" || return 1
	snap "$1" || return 1
	echo "$1" >"$_klpt_wd/snap"
	if ! kill -TERM "$_klpt_wpid" ||
		! loop_until_timeout 30 _klpt_exists "$_klpt_wd/closed"; then
		kill -KILL "$_klpt_wpid" 2>/dev/null
		echo "watch_stop: klpt_watch $_klpt_wn did not stop: $(cat "$_klpt_wd/watch.log")" >&2
		return 1
	fi
	# closed comes last, just before exit: let it be reaped (bounded)
	loop_until_timeout 10 _klpt_gone "$_klpt_wpid" >/dev/null 2>&1
	if [ "$(cat "$_klpt_wd/closed")" != "exit 0" ]; then
		echo "watch_stop: klpt_watch $_klpt_wn: $(cat "$_klpt_wd/closed"): $(cat "$_klpt_wd/watch.log")" >&2
		return 1
	fi
	log "klpt_watch $_klpt_wn stopped, model compared with snap $1"
}

# watch_dump SNAP: like watch_stop, but klpt_watch goes on: it dumps its
# model (SIGUSR1) into $DIR/dump.K.txt (K: the dump's number, see
# "dump K" in its events.log), snapshot SNAP is taken and named in
# $DIR/dump.K.snap, then a second dump ends what events.log shows as
# changed after dump K.  libmodel.py compares every such pair.  0 if
# none runs.
watch_dump() {
	[ -e "$KLPT_WATCH_STATE" ] || return 0
	read -r _klpt_wpid _klpt_wd _klpt_wn <"$KLPT_WATCH_STATE"
	mark "klpt_watch $_klpt_wn dump $1"
	_klpt_watch_usr1 || return 1
	read -r _klpt_k <"$_klpt_wd/model.done" || return 1
	cp "$_klpt_wd/model.txt" "$_klpt_wd/dump.$_klpt_k.txt" || return 1
	snap "$1" || return 1
	echo "$1" >"$_klpt_wd/dump.$_klpt_k.snap"
	_klpt_watch_usr1
}

# _klpt_watch_usr1: have the running klpt_watch dump its model and wait
# until it has ($_klpt_wpid, $_klpt_wd, $_klpt_wn as watch_dump reads them).
_klpt_watch_usr1() {
	rm -f "$_klpt_wd/model.done"
	if ! kill -USR1 "$_klpt_wpid" ||
		! loop_until_timeout 30 _klpt_exists "$_klpt_wd/model.done"; then
		echo "watch_dump: klpt_watch $_klpt_wn wrote no model: $(cat "$_klpt_wd/watch.log")" >&2
		return 1
	fi
}

# events_sync [SECS]: make sure every event traced so far is in
# /out/events.txt: write a unique marker and wait (SECS, default
# $KLPT_LOOP_TIMEOUT) until the reader has copied it.
events_sync() {
	_klpt_sync_n=$((${_klpt_sync_n:-0} + 1))
	_klpt_token="klpt_sync $$.$_klpt_sync_n.$(_klpt_cs)"
	mark "$_klpt_token" || return 1
	loop_until_timeout "${1:-$KLPT_LOOP_TIMEOUT}" _klpt_has_line "$_klpt_token"
}

# _klpt_has_line TOKEN: the marker line for TOKEN is in events.txt.
_klpt_has_line() {
	grep -q "tracing_mark_write: $1\$" "$KLPT_EVENTS"
}

# n_since MARK EVENT: print how many EVENT events (e.g.
# klp_transition_pass) events.txt has after the first marker MARK (0
# before MARK is there).
n_since() {
	awk -v m="tracing_mark_write: $1" -v e=" $2: " '
		seen && index($0, e) { n++ }
		!seen && substr($0, length($0) - length(m) + 1) == m { seen = 1 }
		END { print n + 0 }' "$KLPT_EVENTS"
}

# has_since MARK EVENT N: at least N EVENT events after MARK (a predicate
# for loop_until: loop_until has_since "x: disable" klp_transition_pass 2).
has_since() {
	[ "$(n_since "$1" "$2")" -ge "$3" ]
}

# snap NAME: ground-truth snapshot into /out/snap/NAME/, bracketed by the
# markers "klpt_snap_begin NAME" and "klpt_snap_end NAME":
#   tasks      "tid tgid patch_state kthread comm" per thread (kthread 1
#              when PF_KTHREAD is set; tasks exiting meanwhile are left out)
#   zombies    tids of those that have exited but are not reaped yet
#              (stat state Z or X)
#   livepatch  "patch enabled transition" per patch, then
#              "patch/object patched" per object, each followed by
#              "patch/object/function,sympos f" per function directory
#   modules    "name refcnt" per loaded module
#   hooks      copy of /sys/kernel/klptrace/hooks, if present
snap() {
	_klpt_dir=$KLPT_OUT/snap/$1
	mkdir -p "$_klpt_dir" || return 1
	: >"$_klpt_dir/zombies" || return 1
	mark "klpt_snap_begin $1"
	_klpt_snap_tasks >"$_klpt_dir/tasks"
	_klpt_snap_livepatch >"$_klpt_dir/livepatch"
	_klpt_snap_modules >"$_klpt_dir/modules"
	if [ -r /sys/kernel/klptrace/hooks ]; then
		cat /sys/kernel/klptrace/hooks >"$_klpt_dir/hooks"
	fi
	mark "klpt_snap_end $1"
}

# _klpt_snap_tasks: the tasks part of snap (shell builtins only: a fork
# per thread would make the snapshot slow and smeared in time); appends
# the zombies to $_klpt_dir/zombies.
_klpt_snap_tasks() {
	for _klpt_t in /proc/[0-9]*/task/[0-9]*; do
		_klpt_tid=${_klpt_t##*/}
		_klpt_tgid=${_klpt_t#/proc/}
		_klpt_tgid=${_klpt_tgid%%/*}
		{ read -r _klpt_ps <"$_klpt_t/patch_state" &&
			read -r _klpt_stat <"$_klpt_t/stat" &&
			read -r _klpt_comm <"$_klpt_t/comm"; } 2>/dev/null || continue
		# stat: "tid (comm) state ppid pgrp session tty tpgid flags ...";
		# comm may hold spaces and parens, so cut after the last ") ".
		# shellcheck disable=SC2086 # split into fields on purpose
		set -- ${_klpt_stat##*) }
		_klpt_kthread=$((($7 >> 21) & 1)) # PF_KTHREAD 0x00200000
		case $1 in
		Z | X) echo "$_klpt_tid" >>"$_klpt_dir/zombies" ;;
		esac
		echo "$_klpt_tid $_klpt_tgid $_klpt_ps $_klpt_kthread $_klpt_comm"
	done
}

# _klpt_snap_livepatch: the livepatch part of snap.  (2>/dev/null comes
# before the < in these reads: a vanished file fails the redirection,
# and redirections apply left to right.)
_klpt_snap_livepatch() {
	for _klpt_p in "$KLPT_LP"/*; do
		[ -d "$_klpt_p" ] || continue
		{ read -r _klpt_en <"$_klpt_p/enabled" &&
			read -r _klpt_tr <"$_klpt_p/transition"; } 2>/dev/null || continue
		echo "${_klpt_p##*/} $_klpt_en $_klpt_tr"
		for _klpt_o in "$_klpt_p"/*/patched; do
			[ -r "$_klpt_o" ] || continue
			read -r _klpt_pd 2>/dev/null <"$_klpt_o" || continue
			_klpt_o=${_klpt_o%/patched}
			echo "${_klpt_p##*/}/${_klpt_o##*/} $_klpt_pd"
			for _klpt_f in "$_klpt_o"/*,*; do
				[ -d "$_klpt_f" ] || continue
				echo "${_klpt_p##*/}/${_klpt_o##*/}/${_klpt_f##*/} f"
			done
		done
	done
}

# _klpt_snap_modules: the modules part of snap.
_klpt_snap_modules() {
	for _klpt_m in /sys/module/*/refcnt; do
		read -r _klpt_rc 2>/dev/null <"$_klpt_m" || continue
		_klpt_m=${_klpt_m%/refcnt}
		echo "${_klpt_m##*/} $_klpt_rc"
	done
}

# param MOD NAME: print module parameter NAME of MOD.
param() {
	cat "/sys/module/$1/parameters/$2"
}

# set_param MOD NAME VAL: write VAL to module parameter NAME of MOD.
set_param() {
	echo "$3" >"/sys/module/$1/parameters/$2" || {
		echo "set_param: cannot set $1.$2=$3" >&2
		return 1
	}
}

# insmod_test NAME [ARGS]: insmod /klpt/modules/NAME.ko ARGS.
insmod_test() {
	_klpt_mod=$1
	shift
	insmod "$KLPT_MODDIR/$_klpt_mod.ko" "$@" || {
		echo "insmod_test: insmod $_klpt_mod.ko $* failed" >&2
		return 1
	}
}

# module_loaded MOD: true if MOD is loaded (/sys/module/MOD/refcnt, which
# built-in modules do not have).
module_loaded() {
	[ -e "/sys/module/$1/refcnt" ]
}

# refcnt MOD: print /sys/module/MOD/refcnt.
refcnt() {
	cat "/sys/module/$1/refcnt"
}

# wait_refcnt MOD N [SECS]: wait until /sys/module/MOD/refcnt reads N.
wait_refcnt() {
	loop_until_timeout "${3:-$KLPT_LOOP_TIMEOUT}" file_is "/sys/module/$1/refcnt" "$2"
}

# rmmod_wait MOD [SECS]: wait for MOD's refcnt to drop to 0, then rmmod
# it (what a careful admin does after disabling a livepatch).
rmmod_wait() {
	wait_refcnt "$1" 0 "${2:-$KLPT_LOOP_TIMEOUT}" && rmmod "$1"
}

# lp_exists PATCH: true if /sys/kernel/livepatch/PATCH exists.
lp_exists() {
	[ -d "$KLPT_LP/$1" ]
}

# lp_enabled PATCH: print PATCH's enabled (0/1); fails if there is none.
lp_enabled() {
	cat "$KLPT_LP/$1/enabled"
}

# lp_transition PATCH: print PATCH's transition (0/1); fails if none.
lp_transition() {
	cat "$KLPT_LP/$1/transition"
}

# lp_patched PATCH OBJECT: print OBJECT's patched (0/1) of PATCH.
lp_patched() {
	cat "$KLPT_LP/$1/$2/patched"
}

# lp_disable PATCH: write 0 to PATCH's enabled (starts the unpatch
# transition, or reverses a patch transition in progress).
lp_disable() {
	echo 0 >"$KLPT_LP/$1/enabled"
}

# lp_force PATCH: write 1 to PATCH's force (switch every remaining task;
# the module can never be removed afterwards).
lp_force() {
	echo 1 >"$KLPT_LP/$1/force"
}

# _klpt_tr_done PATCH: PATCH's transition reads 0 or PATCH is gone.
_klpt_tr_done() {
	[ ! -d "$KLPT_LP/$1" ] || file_is "$KLPT_LP/$1/transition" 0
}

# wait_transition_done PATCH [SECS]: wait until PATCH's transition reads
# 0 or its directory is gone (a finished disable removes it).
wait_transition_done() {
	loop_until_timeout "${2:-$KLPT_LOOP_TIMEOUT}" _klpt_tr_done "$1"
}

# wait_lp_gone PATCH [SECS]: wait until /sys/kernel/livepatch/PATCH is
# gone.  The module reference is dropped only later: use wait_refcnt
# (or rmmod_wait) before rmmod.
wait_lp_gone() {
	loop_until_timeout "${2:-$KLPT_LOOP_TIMEOUT}" _klpt_not_dir "$KLPT_LP/$1"
}

# _klpt_not_dir DIR: DIR does not exist.
_klpt_not_dir() {
	[ ! -d "$1" ]
}

# pid_of COMM: print the tids of the threads named COMM, one a line
# (kthreads included); fails if there is none.
pid_of() {
	_klpt_found=1
	for _klpt_t in /proc/[0-9]*/task/[0-9]*; do
		read -r _klpt_comm 2>/dev/null <"$_klpt_t/comm" || continue
		if [ "$_klpt_comm" = "$1" ]; then
			echo "${_klpt_t##*/}"
			_klpt_found=0
		fi
	done
	return $_klpt_found
}

# reads TEXT: /proc/klpt_read (klpt_target_read) answers TEXT, read with
# the builtin read: no fork, so no new task in the middle of a transition.
reads() {
	read -r _klpt_line </proc/klpt_read && [ "$_klpt_line" = "$1" ]
}

# child_of PID: print the pid of a child of PID (unshare -f forks one),
# from the parent pid field of /proc/N/stat (after the comm and the
# state); 1 if it has none.
child_of() {
	for _klpt_d in /proc/[0-9]*; do
		read -r _klpt_st 2>/dev/null <"$_klpt_d/stat" || continue
		_klpt_pp=${_klpt_st##*) }
		_klpt_pp=${_klpt_pp#* }
		[ "${_klpt_pp%% *}" = "$1" ] && echo "${_klpt_d#/proc/}" && return 0
	done
	return 1
}

# not_alive PID: true once process PID is gone (a loop_until predicate).
not_alive() {
	! kill -0 "$1" 2>/dev/null
}

# patch_state TID: print TID's patch_state (-1 none, 0 unpatched, 1 patched).
patch_state() {
	cat "/proc/$1/patch_state"
}

# unswitched TARGET: print how many threads (/proc/*/task/*) have a
# patch_state other than TARGET.
unswitched() {
	_klpt_n=0
	for _klpt_f in /proc/[0-9]*/task/[0-9]*/patch_state; do
		read -r _klpt_ps 2>/dev/null <"$_klpt_f" || continue
		[ "$_klpt_ps" = "$1" ] || _klpt_n=$((_klpt_n + 1))
	done
	echo "$_klpt_n"
}

# sleep_procs N: start N background processes of this shell that sleep
# (600 s; kill or wait for them), their pids in $KLPT_SLEEP_PIDS, one a
# word: more tasks for every transition pass to walk.
sleep_procs() {
	KLPT_SLEEP_PIDS=
	_klpt_n=0
	while [ $_klpt_n -lt "$1" ]; do
		sleep 600 &
		KLPT_SLEEP_PIDS="$KLPT_SLEEP_PIDS $!"
		_klpt_n=$((_klpt_n + 1))
	done
}

# --- klpt_target_sleep: a kthread that sleeps in a patched function --------
# Its kthread klpt_sleeper sleeps inside klpt_sleep_fn() while the
# parameter block is 1; in_func reads 1 while it is in there, impl says
# which klpt_sleep_fn (0 the original, 1 the livepatch's).

# sleeper_block: write block=1 and wait until klpt_sleeper is inside
# klpt_sleep_fn (in_func reads 1).
sleeper_block() {
	set_param klpt_target_sleep block 1 || return 1
	loop_until file_is /sys/module/klpt_target_sleep/parameters/in_func 1 || {
		echo "sleeper_block: klpt_sleeper never entered klpt_sleep_fn (in_func != 1)" >&2
		return 1
	}
}

# start_sleeper: insmod klpt_target_sleep and sleeper_block, after the
# markers "$KLPT_SCENARIO: insmod klpt_target_sleep" and
# "$KLPT_SCENARIO: block"; record klpt_sleeper's pid as fact sleeper_pid.
start_sleeper() {
	mark "$KLPT_SCENARIO: insmod klpt_target_sleep"
	insmod_test klpt_target_sleep || return 1
	mark "$KLPT_SCENARIO: block"
	sleeper_block || return 1
	_klpt_pid=$(param klpt_target_sleep pid) || return 1
	fact sleeper_pid "$_klpt_pid"
	log "klpt_sleeper is pid $_klpt_pid, in klpt_sleep_fn"
}

# --- klptop: its batch and JSON frames, compared with the ground truth ----
# tests/vm/judge/klptop.py checks every klptop/NAME.{json,txt} against
# the snapshot klptop_NAME (run.sh runs it wherever klptop/ came back).
KLPT_TOP_BIN=/klpt/bin/klptop
KLPT_TOP_DIR=$KLPT_OUT/klptop

# klptop_run NAME ARGS...: after the marker "$KLPT_SCENARIO: NAME", run
# klptop ARGS (standard input /dev/null), its standard output and error
# to $KLPT_OUT/NAME.txt and NAME.err, its exit status as fact NAME_rc.
klptop_run() {
	_klpt_rn=$1
	shift
	mark "$KLPT_SCENARIO: $_klpt_rn"
	log "klptop $*"
	"$KLPT_TOP_BIN" "$@" >"$KLPT_OUT/$_klpt_rn.txt" 2>"$KLPT_OUT/$_klpt_rn.err" </dev/null
	fact "${_klpt_rn}_rc" $?
	log "$_klpt_rn: exit $(cat "$KLPT_OUT/facts/${_klpt_rn}_rc"): $(cat "$KLPT_OUT/$_klpt_rn.txt" "$KLPT_OUT/$_klpt_rn.err")"
}

# klptop_check NAME: at a point where the state holds still, run klptop
# twice at once, --json and -b, each for two frames 1.2 s apart (the
# second one after at least one transition pass, so blocked tasks have
# their reason), then take the snapshot klptop_NAME and save the kernel
# stack of every task in a transition (NAME.stacks: "tid <tid>" lines,
# each followed by its /proc stack).  Does nothing (0) without klptop in
# the image; fails, saying why, if klptop does not exit 0.
klptop_check() {
	[ -x "$KLPT_TOP_BIN" ] || return 0
	mkdir -p "$KLPT_TOP_DIR" || return 1
	_klpt_tp=$KLPT_TOP_DIR/$1
	# where the klp events come from, as the kernel shows it (the judge
	# compares klptop's source with it): klptrace.ko's module, else the
	# kernel's own events (klpt_native), else none
	if [ -d /sys/module/klptrace ]; then
		echo klptrace.ko
	elif klpt_native; then
		echo native
	else
		echo fallback
	fi >"$_klpt_tp.source"
	"$KLPT_TOP_BIN" --json -n 2 -d 1.2 >"$_klpt_tp.json" 2>"$_klpt_tp.json.err" &
	_klpt_tj=$!
	"$KLPT_TOP_BIN" -b -n 2 -d 1.2 >"$_klpt_tp.txt" 2>"$_klpt_tp.txt.err"
	_klpt_trc=$?
	wait "$_klpt_tj"
	_klpt_tjrc=$?
	snap "klptop_$1" || return 1
	for _klpt_t in /proc/[0-9]*/task/[0-9]*; do
		read -r _klpt_ps 2>/dev/null <"$_klpt_t/patch_state" || continue
		[ "$_klpt_ps" = -1 ] && continue
		echo "tid ${_klpt_t##*/}"
		while read -r _klpt_l; do echo "$_klpt_l"; done 2>/dev/null <"$_klpt_t/stack"
	done >"$_klpt_tp.stacks"
	if [ "$_klpt_trc" != 0 ] || [ "$_klpt_tjrc" != 0 ]; then
		echo "klptop_check $1: klptop -b exited $_klpt_trc, --json $_klpt_tjrc: $(cat "$_klpt_tp.txt.err" "$_klpt_tp.json.err")" >&2
		return 1
	fi
	log "klptop_check $1: frames saved, snapshot klptop_$1 taken"
}

# --- steps: the scenario in step with its peer on the host ---------------
# A scenario with a peer (run.sh: an executable scenarios/NAME/peer) stops
# at each step while the host looks at the guest from outside
# (judge/steps.py): it writes "KLPT-STEP NAME KEY=VALUE..." (its ground
# truth at that point) on ttyS1 and waits, bounded, for the peer's
# "KLPT-ACK NAME VERDICT" on ttyS1's input (run.sh makes ttyS1 a pipe both
# ways for such a scenario).  /out/steps gets "NAME VERDICT" per step.
KLPT_STEP_TTY=/dev/ttyS1
KLPT_STEP_IN=/tmp/klpt_steps.in
KLPT_STEP_TIMEOUT=${KLPT_STEP_TIMEOUT:-60}

# _klpt_holds_tty PID: process PID has $KLPT_STEP_TTY open.
_klpt_holds_tty() {
	for _klpt_fd in "/proc/$1/fd/"*; do
		[ "$(readlink "$_klpt_fd" 2>/dev/null)" = "$KLPT_STEP_TTY" ] && return 0
	done
	return 1
}

# _klpt_step_reader: start copying ttyS1's input into $KLPT_STEP_IN, once.
# Its own process opens the tty: the scenario leads its session (init's
# setsid), and a session leader that opens a tty takes it as its
# controlling terminal.  The port stays open from then on (a UART that
# opens clears its FIFO: input sent before would be lost), echo off (the
# peer's lines must not come back on ttyS1), lines as they end.
_klpt_step_reader() {
	[ -e "$KLPT_STEP_IN" ] && return 0
	: >"$KLPT_STEP_IN"
	cat "$KLPT_STEP_TTY" >>"$KLPT_STEP_IN" &
	loop_until_timeout 10 _klpt_holds_tty $! &&
		stty -F "$KLPT_STEP_TTY" -echo
}

# _klpt_acked NAME: the peer's ack of step NAME has come.
_klpt_acked() {
	grep -q "^KLPT-ACK $1 " "$KLPT_STEP_IN"
}

# step NAME [KEY=VALUE...]: announce step NAME with its ground truth to
# the peer and wait (KLPT_STEP_TIMEOUT, 60 s) for its ack; log and record
# its verdict.  0 if the verdict is "ok", else 1 (the verdict on stderr).
step() {
	_klpt_step=$1
	_klpt_step_reader || return 1
	# in a subshell: see _klpt_step_reader
	(echo "KLPT-STEP $*" >"$KLPT_STEP_TTY") || return 1
	if ! loop_until_timeout "$KLPT_STEP_TIMEOUT" _klpt_acked "$_klpt_step"; then
		echo "step $_klpt_step: no ack from the host's peer" >&2
		echo "$_klpt_step no-ack" >>"$KLPT_OUT/steps"
		return 1
	fi
	_klpt_v=$(sed -n "s/^KLPT-ACK $_klpt_step //p" "$KLPT_STEP_IN" | tr -d '\r' | tail -n 1)
	echo "$_klpt_step $_klpt_v" >>"$KLPT_OUT/steps"
	log "step $_klpt_step: $_klpt_v"
	[ "$_klpt_v" = ok ] || {
		echo "step $_klpt_step: the peer says: $_klpt_v" >&2
		return 1
	}
}

# net_ready: eth0 (init: klpt_net=1) has its link up (a loop_until
# predicate: the link comes ~2 s after init brought eth0 up).
net_ready() {
	file_is /sys/class/net/eth0/carrier 1
}

# listening PORT: a TCP socket listens on PORT (any address), a
# loop_until predicate (/proc/net/tcp and tcp6, state 0A).
listening() {
	_klpt_hex=$(printf %04X "$1")
	grep -qE "^ *[0-9]+: [0-9A-F]+:$_klpt_hex [0-9A-F]+:0000 0A " \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}
