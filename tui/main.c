// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * klptop: a top for livepatch transitions and unload readiness.
 *
 * main() parses the command line, opens the session (app.c) and runs one
 * of the modes: the screen (screen.c), batch or JSON frames (below), or
 * the scripted flow (script.c).  The session is closed on every way out
 * but SIGKILL, which removes its tracefs instance; a SIGKILLed klptop's
 * instance is removed by the next one (the library does it at open).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fields.h"

#ifndef KLPTOP_VERSION
#define KLPTOP_VERSION "0.1.0"
#endif

volatile sig_atomic_t top_stop_signal;

static const char usage[] =
"NAME\n"
"    klptop - a top for livepatch transitions and unload readiness\n"
"\n"
"SYNOPSIS\n"
"    klptop [-b | --json] [-d SECS] [-n N] [-p PATCH] [-s KEY] [--readonly]\n"
"           [--record DIR] [--fallback] [--patch-details]\n"
"    klptop --replay DIR|FILE.dat [--speed X] [-b | --json] [-d SECS] [-n N]\n"
"           [-p PATCH] [--patch-details]\n"
"    klptop --openmetrics FILE [--listen ADDR:PORT] [-d SECS] [-n N]\n"
"           [--replay PATH] [--fallback]\n"
"    klptop --disable PATCH [--wait-unload [--timeout SECS]] [--unload --yes]\n"
"    klptop --force PATCH --yes [--wait-unload [--timeout SECS]]\n"
"    klptop --load MODULE.ko [--wait-complete] [--timeout SECS]\n"
"           [--on-stall=report|disable|disable-unload] [--stall-after SECS]\n"
"    klptop --status [-p PATCH] [--json] [--fallback]\n"
"    klptop -h | -V | --list-fields\n"
"\n"
"DESCRIPTION\n"
"    Shows the kernel's livepatches as they go through their lifecycle:\n"
"    whether a transition runs and in which direction, its pass and how\n"
"    long it has taken, how many tasks switched to the new state, the\n"
"    signals sent, and for every patch module whether it can be removed\n"
"    now (READY) or what holds it: the patch is enabled, tasks still in\n"
"    its code, the transition, the free work, the kobject release, module\n"
"    references, or a forced transition (never unloadable).\n"
"\n"
"    The blocker panel lists the tasks the transition waits for: the\n"
"    process (PID) and thread (TID), command, kernel thread or not, why\n"
"    the last stack check failed (running, sleeping in a patched\n"
"    function, unreliable stack), the function, for how long and how\n"
"    many checks.  Every column, -b column and JSON key: FIELDS below.\n"
"\n"
"    For every patch, -b and --json list the functions it patches (from\n"
"    /sys/kernel/livepatch/PATCH/OBJECT/FUNCTION,SYMPOS) and whose version\n"
"    of each runs: that of the patch enabled last among those patching it\n"
"    (\"switching\" while that one is in transition, \"-\" the original\n"
"    function), or ? (null) where the session cannot know: in a replay,\n"
"    and while that one is in a patching transition and another patch\n"
"    has the function too (it may be an atomic replace's nop: the\n"
"    original runs).\n"
"\n"
"    A patch's page (Enter on a patch; --patch-details with -b or --json)\n"
"    shows its module's srcversion (none: built without MODULE_VERSION;\n"
"    ? with the reason when the file is there but cannot be read)\n"
"    and description (from the .ko's .modinfo when klptop knows the\n"
"    file: loaded with L, or listed in modules.dep, and it is the loaded\n"
"    build: the same GNU build ID as\n"
"    /sys/module/NAME/notes/.note.gnu.build-id; ? otherwise, unverified\n"
"    with the file's text when the IDs cannot be compared), whether\n"
"    it is an atomic replace (6.1's sysfs does not say: yes once seen\n"
"    replacing another, kept when the replaced module is removed, else\n"
"    ?), which atomic replace replaced it (\"replaced by\": its free came\n"
"    right after that replace completed, with no transition of its own,\n"
"    6.1 klp_free_replaced_patches_async(); also in a replay), its\n"
"    objects (vmlinux, always loaded, or a module: loaded when\n"
"    its patched file says 1 or /sys/module/NAME/initstate says live or\n"
"    coming) and functions, the steps of its life this session saw with\n"
"    their times (the enable's get of the module, init, start, passes,\n"
"    signal, reverse, force, complete, free, release, the module's put,\n"
"    unload-ready; a patch there before the session has no init time:\n"
"    its history starts with the session) and the tasks that blocked its\n"
"    last transition, most checks first: \"blocked by: N tasks\" counts each\n"
"    task once; a reverse is the same transition, so when tasks blocked it\n"
"    both ways the count is followed by how many blocked it towards each\n"
"    target, (2 ->patched, 1 ->unpatched), a task that blocked both ways in\n"
"    both (JSON: blocked_tasks and blocked_tasks_to).\n"
"\n"
"    Values the session cannot know show as unknown, never guessed: ?\n"
"    (unknown), or >=N and >=TIME where the session joined a transition\n"
"    under way or lost events and saw only part of it (at least that\n"
"    much; SWITCHED likewise).  In --json such values are null; a blocker's\n"
"    checks_since_open and blocked_s_since_open are what this session saw\n"
"    (lower bounds of checks and blocked_s), a patch's switched_at_least\n"
"    says whether switched is a lower bound, and state_unknown counts the\n"
"    tasks whose state is unknown (the idle tasks, a task whose creator\n"
"    was not seen).\n"
"\n"
"    The data are the klp trace events, read through libklptrace in a\n"
"    tracefs instance of klptop's own (klptrace-PIDNS-PID, locked in\n"
"    /run/klptrace, removed at exit): the kernel's own on a kernel with\n"
"    klptrace's native series (\"native\" in the header, -b's and JSON's\n"
"    source), else klptrace.ko's (\"klptrace.ko\" and its hooks).\n"
"    Without either, klptop polls sysfs and procfs (\"fallback\" in\n"
"    the header; also while klptrace.ko's hooks are inactive, e.g.\n"
"    kernel.ftrace_enabled=0): which tasks are pending, not why.\n"
"    Without klptrace.ko it re-reads only the tasks not yet switched,\n"
"    every 0.5 s, and backs off to 4 s while nothing changes (see\n"
"    klpt_session_open_live(3)), so a switch in a long-stalled\n"
"    transition may show up to 4 s late.\n"
"\n"
"    On a terminal klptop is interactive; with -b, or when standard\n"
"    output is not a terminal, it prints text frames like top -b; with\n"
"    --json one JSON object per frame and line.  A live session needs\n"
"    root; without root klptop can only --replay, and actions are off.\n"
"\n"
"OPTIONS\n"
"    -d, --delay SECS    time between frames (default 1; 0.1 at least)\n"
"    -n, --iterations N  stop after N frames (default: until quit)\n"
"    -b, --batch         text frames on standard output\n"
"    -j, --json          NDJSON frames on standard output\n"
"    -p, --patch PATCH   show only PATCH (as in /sys/kernel/livepatch, or\n"
"                        its module once that directory is gone: below)\n"
"    -s, --sort KEY      blockers by the column KEY (FIELDS): blocked\n"
"                        (default), pid, tid, command, reason, function,\n"
"                        checks\n"
"    -r, --reverse       reverse the sort\n"
"    --readonly          never act (d, f, u are refused); automatic when\n"
"                        not root\n"
"    --record DIR        also record the session into DIR, for --replay\n"
"                        later: DIR is made, or must be empty, yours and\n"
"                        writable by no one else\n"
"    --replay PATH       replay a recording of --record (a directory) or a\n"
"                        trace.dat of `trace-cmd record -e klp -e module`\n"
"    --speed X           replay speed (default 1; 0: start paused)\n"
"    --fallback          do not use klptrace.ko's events even if loaded\n"
"    --patch-details     with -b or --json: each patch's page too\n"
"    --openmetrics FILE  write each frame's metrics to FILE, replaced\n"
"                        atomically (Prometheus text format 0.0.4, for\n"
"                        node_exporter's textfile collector: a FILE.prom\n"
"                        in its directory); a write that fails (a full\n"
"                        disk) exits 2 and leaves the old FILE\n"
"    --listen ADDR:PORT  serve the metrics at http://ADDR:PORT/metrics\n"
"                        (only that; numeric ADDR, 127.0.0.1 if only a\n"
"                        PORT is given, [::1]:PORT for IPv6)\n"
"    -h, --help          this help;  -V, --version: the version\n"
"    --list-fields       the FIELDS table below, a line per field, tab\n"
"                        separated: row, key, screen, -b, JSON, unit,\n"
"                        flags (sort: a -s key, right, flex, optional),\n"
"                        help\n"
"\n"
"  Scripted flow\n"
"    --disable PATCH     disable PATCH: write 0 to its enabled file\n"
"                        while its directory exists, whatever enabled\n"
"                        reads (an enable's pre-patch window reads 0 and\n"
"                        the kernel reverses it); the kernel's EINVAL\n"
"                        means already disabled\n"
"    --force PATCH       force PATCH's transition to complete.  Its module\n"
"                        can never be unloaded afterwards.  Needs --yes\n"
"    --wait-unload       then wait until the module can be unloaded,\n"
"                        printing once a second what holds it\n"
"    --timeout SECS      give up waiting after SECS (default: never)\n"
"    --unload            then remove the module (delete_module; only when\n"
"                        READY).  Implies --wait-unload.  Needs --yes\n"
"    -y, --yes           confirm --force and --unload (no prompt is shown:\n"
"                        the scripted flow runs unattended)\n"
"\n"
"    PATCH names a patch or its module: in 6.1 the directory\n"
"    /sys/kernel/livepatch/PATCH is named after the patch's module.  When\n"
"    that directory is gone (the patch was disabled, replaced by an atomic\n"
"    replace, or forced) and the module is still loaded, the flow acts on\n"
"    the module: --disable says it is already disabled and writes nothing,\n"
"    READY exits 0 (--unload removes it).  The kernel drops the patch's\n"
"    module reference just after it removes the directory, unless the\n"
"    patch was forced: references that stay for 3 s of waiting once the\n"
"    directory is gone (with --timeout: until the timeout), and that no\n"
"    other module (/sys/module/PATCH/holders) accounts for, mean a forced\n"
"    patch or another user of the module (an open file it owns): exit 1,\n"
"    \"PATCH was forced, or is held by another user\".  Not inferred for a\n"
"    patch the session saw end unforced (klptrace.ko): that is a wait.\n"
"    A module being unloaded (initstate going: delete_module() fails\n"
"    with EBUSY meanwhile) is waited for until it is gone: exit 0.\n"
"    A name that is neither a patch nor\n"
"    a loaded livepatch module (K in /sys/module/NAME/taint) exits 2.\n"
"\n"
"  Loading a patch\n"
"    --load MODULE.ko    load the livepatch module in that file with one\n"
"                        finit_module() (never retried: a failing init runs\n"
"                        once).  Refused before the kernel sees it, in one\n"
"                        line: a symbolic link, not a regular file, a file\n"
"                        not root's or yours or writable by group or\n"
"                        others, not a livepatch module (livepatch=Y in its\n"
"                        .modinfo), a module of that name loaded.  The\n"
"                        kernel's refusal (or the module init's, as a\n"
"                        pre-patch callback's) is shown with its errno and\n"
"                        the kernel log's lines of the load.  Without\n"
"                        --wait-complete, exit 0 once loaded\n"
"    --wait-complete     then follow the patching transition: a line for\n"
"                        every change (tasks left, the blockers and their\n"
"                        reasons, the kernel's own signals every 15\n"
"                        passes: klptop sends none) until it completes\n"
"                        (exit 0), stalls or --timeout SECS (default:\n"
"                        none) passes (exit 1, after the --on-stall\n"
"                        policy).  --timeout is one deadline from the\n"
"                        load: the transition, the reverse and the wait\n"
"                        for the module together\n"
"    --stall-after SECS  stalled: no task switched for SECS (default 60:\n"
"                        three of the kernel's signal rounds, about kpatch's\n"
"                        15 s + 60 s).  Implies --wait-complete\n"
"    --on-stall=POLICY   what a stall or a timeout does (implies\n"
"                        --wait-complete): report (default) changes\n"
"                        nothing, the transition goes on; disable reverses\n"
"                        it (0 to enabled), follows the reverse and waits\n"
"                        until the module can be removed; disable-unload\n"
"                        then removes it (the policy's name is the\n"
"                        consent: no --yes).  A reverse that stalls too is\n"
"                        said with the kernel's state, nothing more done\n"
"\n"
"  Status\n"
"    --status            where every patch stands, once, for a monitoring\n"
"                        script (no terminal needed): its exit code says\n"
"                        the most severe (EXIT STATUS)\n"
"\n"
"    The first line is the answer and its source: status STATUS  exit N\n"
"    mode events|fallback  kernel K  patches N.  Then a line per patch,\n"
"    or livepatch module whose patch is gone: NAME STATUS, then enabled,\n"
"    state, switched, forced, refcnt and verdict as -b shows them, and\n"
"    the verdict's why when STATUS is not ok.  STATUS is ok (enabled, no\n"
"    transition), transition (either direction), waiting (disabled or\n"
"    replaced by an atomic replace, its module still loaded, or being\n"
"    loaded or unloaded), forced (its module can never be unloaded) or\n"
"    unknown.\n"
"    With -p only PATCH; with --json one --json frame with \"status\" and\n"
"    \"exit\", and a \"status\" per patch.  Mode fallback: without\n"
"    klptrace.ko (or with --fallback) from sysfs and procfs alone.\n"
"    Nothing in sysfs says forced (force is write-only): a forced patch's\n"
"    directory is gone and its module keeps references that no other\n"
"    module holds (holders), for good; another user's reference (an open\n"
"    file the module owns) looks the same, and rmmod fails either way.\n"
"    A module whose directory went a few microseconds ago, before the\n"
"    kernel dropped its reference, looks forced for that moment: before\n"
"    it says forced, --status reads the refcnt again for up to 0.2 s.\n"
"    A check run from cron or a systemd timer:\n"
"\n"
"        out=$(klptop --status -p lp); rc=$?\n"
"        case $rc in\n"
"        0) ;;\n"
"        1) logger -t lp \"livepatch busy: $out\" ;;\n"
"        3) logger -t lp \"forced, reboot to remove: $out\" ;;\n"
"        *) logger -t lp \"livepatch status failed ($rc)\" ;;\n"
"        esac\n"
"\n"
"ENVIRONMENT\n"
"    KLPTOP_FRAME_LOG=FILE  append a line per frame to FILE: build and draw\n"
"                        times, memory, event-to-screen latency (bench/)\n"
"    TERM                the screen's terminal type: unset, unknown or one\n"
"                        that cannot move the cursor (dumb) is an error\n"
"    LC_ALL, LC_CTYPE, LANG  names (tasks, functions, patches, modules)\n"
"                        in UTF-8 show as they are under a UTF-8 charset;\n"
"                        a control or invisible (format) character, or\n"
"                        a byte that is not printable there, shows as ?\n"
"                        (as in ps); JSON is always UTF-8 (a byte that\n"
"                        is not: U+FFFD)\n"
"\n"
"INTERACTIVE KEYS\n"
"    ?, h, F1     help (Up/Down scroll it, any other key closes it), with\n"
"                 a legend of the short column headers (E, F, SIG, K, ...:\n"
"                 their lines of FIELDS below)\n"
"    q, F10       quit\n"
"    Up/Down (k/j), PgUp/PgDn, Home/End    move in the focused panel\n"
"    Tab          next panel (patches, blockers, event log)\n"
"    Enter, F3    in the patch panel: the selected patch's page (as\n"
"                 --patch-details); in the blocker panel: details of the\n"
"                 selected task: command line, kernel stack (live), its\n"
"                 event history\n"
"    /, F2        filter blockers by pid, command or function as you\n"
"                 type (Enter keeps it, Ctrl-U empties it, Esc clears it)\n"
"    F6, <, >     choose the column the blockers are sorted by; its\n"
"                 header is in reverse video and ends in v (largest or\n"
"                 last first) or ^ (smallest or first first)\n"
"    s            sort by the next column;  r: reverse this sort (another\n"
"                 column sorts its own way again)\n"
"    l, F4        show or hide the event log\n"
"    p, F5        pause the screen (events are still read)\n"
"    Ctrl-L       draw the whole screen again\n"
"    d, F7        disable the selected patch (asks y/N)\n"
"    f, F8        force its transition (asks for the patch name: a forced\n"
"                 patch's module can never be unloaded)\n"
"    u, F9        unload its module when READY (else says what holds it);\n"
"                 read-only, d, f and u are off and F7-F9 not shown\n"
"    L            load a livepatch module (asks for its path; as --load,\n"
"                 the outcome in the message line; not in a replay)\n"
"    replay:      space play/pause, + and - speed, . one event, , or ]\n"
"                 the next pass and [ the previous one, } and { the next\n"
"                 and previous transition (its init, reverse or end),\n"
"                 Home and End the start and the end, g a time (seconds\n"
"                 from the start, as the event log shows them): a jump\n"
"                 back replays from the start (the files the replay\n"
"                 opened, never the path again), a slice at a time between\n"
"                 frames: the message line says how far it is (seeking\n"
"                 42%), keys still work (q quits), and Esc stops it where\n"
"                 it got, paused\n"
"\n";

/* FIELDS (fields.c) comes between the two halves. */
static const char usage_tail[] =
"EXIT STATUS\n"
"    0     quit, or the scripted flow ended ready/unloaded (or the\n"
"          module went: unloaded by someone else meanwhile); --status:\n"
"          every patch enabled with no transition (or none), no forced\n"
"          module\n"
"    1     scripted: the timeout expired or the patch was forced (seen,\n"
"          or inferred as above; what still holds the module is listed);\n"
"          --load: the transition stalled or timed out (the last lines say\n"
"          what --on-stall did: nothing, a disable whose reverse\n"
"          completed, or that and the unload; or that the reverse\n"
"          stalled too), or it ended disabled by someone else;\n"
"          --status: a transition runs, or a livepatch module waits to\n"
"          be removed (disabled or replaced, still loaded)\n"
"    2     an error: bad arguments, not root, no tracefs or livepatch,\n"
"          unknown patch, corrupt recording, a module refused or whose\n"
"          init failed (--load), a terminal the screen cannot\n"
"          use (TERM, standard input not a terminal), standard output\n"
"          closed or failing (one line on stderr says which)\n"
"    3     --status: a forced patch's module is loaded.  The most severe\n"
"          wins: 3 over 2 (a status unknown), 2 over 1, 1 over 0: a\n"
"          forced module stays until a reboot, a transition or a wait\n"
"          ends\n"
"    128+N ended by signal N (SIGINT, SIGTERM, SIGHUP): the terminal and\n"
"          the tracefs instance are cleaned up first\n"
"\n"
"METRICS\n"
"    --openmetrics and --listen export each frame as these metrics; a\n"
"    value klptop shows as ? has no sample (unknown is a missing series,\n"
"    never a guess).  Labels escape \\, \" and newlines; other controls\n"
"    and bytes that are not UTF-8 become U+FFFD.\n"
"    klptrace_info{version,kernel,mode}    always 1; mode events,\n"
"                        fallback or replay\n"
"    klptrace_events_total, klptrace_events_lost_total   counters\n"
"    klptrace_hooks_active, klptrace_hooks_missing,\n"
"    klptrace_hooks_inactive   klptrace.ko's hooks (when loaded)\n"
"    klp_patch_enabled{patch}, klp_patch_forced{patch},\n"
"    klp_patch_replace{patch}  (no sample on 6.1: unknown)\n"
"    klp_patch_transition{patch,direction}   1 and patching, unpatching\n"
"                        or unknown while a transition runs, else 0 and\n"
"                        none\n"
"    klp_patch_transition_seconds, klp_patch_transition_pass,\n"
"    klp_patch_signals, klp_patch_transition_tasks,\n"
"    klp_patch_transition_switched_tasks   {patch}, of the running\n"
"                        transition\n"
"    klp_blocked_tasks{patch,reason}   reason running, sleeping,\n"
"                        unreliable_stack, other or unknown\n"
"    klp_blocked_longest_seconds{patch}   when the session saw the\n"
"                        whole transition; klp_blocked_longest_seen_seconds\n"
"                        what it saw (a lower bound)\n"
"    klp_blocker_info{patch,rank,pid,comm,reason,function}   the 5\n"
"                        longest blocked tasks of a patch, always 1\n"
"    klp_module_refcount{module}, klp_module_unload_ready{module}\n"
"    klp_module_unload_verdict{module,verdict}   one-hot: ready,\n"
"                        enabled, tasks, transition, not_freed,\n"
"                        not_released, refs, forced, unknown\n"
"\n"
"EXAMPLES\n"
"    klptop                                  watch\n"
"    klptop -b -n 1 -p klpt_lp_sleep          one text frame\n"
"    klptop --disable lp --wait-unload --timeout 60 --unload --yes\n"
"    klptop --load lp.ko --on-stall=disable-unload --stall-after 30\n"
"    klptop --replay /root/lp-rec --speed 0   step through a recording\n"
"    klptop --status -p lp --json            one answer for a monitoring\n"
"                                            script\n"
"    klptop --openmetrics /var/lib/prometheus/node-exporter/klptrace.prom -d 5\n";

static void usage_error(const char *msg, const char *arg)
{
	char shown[PATH_MAX];

	if (arg)	/* the operator's, maybe pasted: escaped (esc.c) */
		fprintf(stderr, PROG ": %s: %s (see " PROG " --help)\n", msg,
			top_esc_text(shown, sizeof(shown), arg));
	else
		fprintf(stderr, PROG ": %s (see " PROG " --help)\n", msg);
}

static int parse_double(const char *arg, double min, double max, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(arg, &end);
	return errno || end == arg || *end || !isfinite(*v) || *v < min ||
	       *v > max ? -1 : 0;
}

static void on_stop(int sig)
{
	top_stop_signal = sig;
}

void top_signals_install(void)
{
	/* No SA_RESTART: a signal ends the wait it interrupts. */
	struct sigaction sa = { .sa_handler = on_stop };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A closed pipe is a write error (checked), not a death that would
	 * leave the tracefs instance behind. */
	signal(SIGPIPE, SIG_IGN);
}

/* Where frames go besides standard output: --openmetrics, --listen. */
struct sinks {
	struct top_textfile *textfile;
	struct top_listen *listen;
};

/*
 * Until the next frame is due (until, monotonic ns): the session's
 * events (live) and the --listen clients, in one poll().  0 or -errno.
 */
static int serve_until(struct top_app *app, struct top_listen *ls,
		       uint64_t until)
{
	struct pollfd pfd[32];
	int n, ret, timeout, lt;

	for (;;) {
		uint64_t now = top_mono_ns();

		if (now >= until || top_stop_signal)
			return 0;
		timeout = (int)((until - now) / 1000000) + 1;
		pfd[0].fd = top_app_is_replay(app) ? -1 :
			    klpt_session_fd(top_app_session(app));
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		n = 1 + top_listen_pollfds(ls, pfd + 1, 31);
		lt = top_listen_timeout(ls);
		if (lt >= 0 && lt < timeout)
			timeout = lt;
		ret = poll(pfd, (nfds_t)n, timeout);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret < 0)
			continue;
		top_listen_handle(ls, pfd + 1, n - 1);
		if (pfd[0].revents) {
			/* not past the frame's time (50 ms at most) */
			ret = top_app_process(app, timeout < 50 ? timeout : 50);
			if (ret < 0)
				return ret;
		}
	}
}

/* Wait until the next frame is due, processing events meanwhile. */
static int wait_frame(struct top_app *app, double delay_s,
		      struct top_listen *ls)
{
	uint64_t until = top_mono_ns() + (uint64_t)(delay_s * 1e9);
	int ret;

	if (top_app_is_replay(app)) {
		top_app_set_clock(app, top_app_clock(app) +
				  (uint64_t)(delay_s * 1e9));
		while (!top_app_ended(app) &&
		       top_app_now(app) <= top_app_clock(app)) {
			ret = top_app_process(app, 1000);
			if (ret < 0 || top_stop_signal)
				return ret;
		}
		/* serving a replay: its frames in real time */
		return ls ? serve_until(app, ls, until) : 0;
	}
	if (ls)
		return serve_until(app, ls, until);
	for (;;) {
		uint64_t now = top_mono_ns();

		if (now >= until || top_stop_signal)
			return 0;
		ret = top_app_poll(app, (int)((until - now) / 1000000) + 1);
		if (ret < 0 && ret != -EINTR)
			return ret;
	}
}

/*
 * A frame (-b or --json) to standard output: built in memory, then
 * written whole (out.c); metrics to their file and server instead.
 * 0 or -errno (-EIO: a failed --openmetrics write, said already).
 */
static int write_frame(const struct top_config *cfg, const struct top_view *v,
		       const struct top_app *app, const struct sinks *sk,
		       struct top_buf *jb, uint64_t *io_ns)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int ret;

	/* JSON: a buffer kept from frame to frame (2 MB at 10k blockers) */
	if (cfg->output == TOP_OUT_JSON) {
		ret = top_json_frame(jb, v, app);
		return ret ? ret : top_out_write(jb->p, jb->len);
	}
	m = open_memstream(&buf, &len);
	if (!m)
		return -ENOMEM;
	if (cfg->output == TOP_OUT_METRICS)
		top_metrics_frame(m, v, app, cfg->root);
	else
		top_text_frame(m, v, app);
	if (fclose(m)) {
		free(buf);
		return -ENOMEM;
	}
	if (cfg->output != TOP_OUT_METRICS) {
		ret = top_out_write(buf, len);
	} else {
		uint64_t t0 = top_mono_ns();

		ret = sk->listen ? top_listen_set(sk->listen, buf, len) : 0;
		if (!ret && sk->textfile &&
		    top_textfile_write(sk->textfile, buf, len))
			ret = -EIO;
		*io_ns = top_mono_ns() - t0;
	}
	free(buf);
	return ret;
}

/*
 * Before anything opens a file: descriptors 0-2 that are closed get
 * /dev/null, so that no file klptop opens becomes its stdin or stdout
 * (a screen polling a trace file as its keyboard, frames written into
 * a recording).  A closed stdout is an error: where would the output
 * go?  Returns 0 or -1 after one line on stderr.
 */
static int std_fds(void)
{
	bool out_closed = false;
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (fd == STDOUT_FILENO)
			out_closed = true;
		if (open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
			return -1;	/* stderr may be gone: exit 2 */
	}
	if (out_closed) {
		fprintf(stderr, PROG ": standard output is closed: nowhere to "
			"write (redirect it to a file or /dev/null)\n");
		return -1;
	}
	return 0;
}

/* -b, --json, metrics: frames until -n, a signal, or a replay's end. */
static int frames(const struct top_config *cfg, struct top_app *app,
		  const struct sinks *sk, struct top_buf *jb)
{
	long frame;
	int ret;

	if (top_app_is_replay(app)) {
		/* The replay clock starts at the first event. */
		top_app_set_playing(app, true);
		top_app_set_clock(app, 0);
	}
	for (frame = 0;; frame++) {
		uint64_t t0 = top_mono_ns(), t1, io_ns = 0;
		struct top_view v;

		/*
		 * The metrics list only the longest blocked tasks, a text
		 * frame the first TOP_TEXT_MAX_BLOCKERS.
		 */
		if (cfg->output == TOP_OUT_METRICS ?
		    top_view_build_top(&v, app, cfg->patch, TOP_SORT_BLOCKED,
				       false, TOP_METRICS_TOP_BLOCKERS) :
		    cfg->output == TOP_OUT_BATCH ?
		    top_view_build_top(&v, app, cfg->patch, cfg->sort,
				       cfg->sort_reverse,
				       TOP_TEXT_MAX_BLOCKERS) :
		    top_view_build(&v, app, cfg->patch, NULL, cfg->sort,
				   cfg->sort_reverse)) {
			fprintf(stderr, PROG ": out of memory\n");
			return TOP_EXIT_ERROR;
		}
		v.details = cfg->patch_details;
		t1 = top_mono_ns();
		ret = write_frame(cfg, &v, app, sk, jb, &io_ns);
		top_framelog_frame(app, t1 - t0, top_mono_ns() - t1, io_ns,
				   v.ntasks);
		top_view_free(&v);
		if (ret == -ENOMEM) {
			fprintf(stderr, PROG ": out of memory\n");
			return TOP_EXIT_ERROR;
		}
		if (cfg->output == TOP_OUT_METRICS && ret)
			return TOP_EXIT_ERROR;	/* said: textfile.c */
		if (ret)
			ret = top_out_error(ret);
		/* a closed pipe (head -n): not an error; -EINTR: signal */
		if (ret && ret != -EINTR)
			return ret == -EPIPE ? TOP_EXIT_OK : TOP_EXIT_ERROR;
		if (top_stop_signal)
			return TOP_EXIT_SIGNAL + top_stop_signal;
		if ((cfg->iterations && frame + 1 >= cfg->iterations) ||
		    top_app_ended(app))
			return TOP_EXIT_OK;
		if (top_app_is_replay(app) && !top_app_replay_start(app)) {
			/* first event: the clock starts there */
			ret = top_app_step(app);
			if (ret < 0)
				goto fail;
			top_app_set_clock(app, top_app_now(app));
		}
		ret = wait_frame(app, cfg->delay_s, sk->listen);
		if (ret < 0)
			goto fail;
		if (top_stop_signal)
			return TOP_EXIT_SIGNAL + top_stop_signal;
	}
fail:
	fprintf(stderr, PROG ": reading events: %s\n", strerror(-ret));
	return TOP_EXIT_ERROR;
}

static int run_frames(const struct top_config *cfg, struct top_app *app,
		      const struct sinks *sk)
{
	struct top_buf jb = { NULL, 0, 0 };
	int ret = frames(cfg, app, sk, &jb);

	top_buf_free(&jb);
	return ret;
}

/*
 * Checks that need the open session: the patch named by -p, --disable or
 * --force is a patch in /sys/kernel/livepatch or, once that directory is
 * gone, a loaded livepatch module of the same name (6.1 names the
 * directory after the module); in a replay, one the recording names
 * anywhere.  One line on stderr if not.
 */
static int check_patch(const struct top_config *cfg, struct top_app *app)
{
	const char *name = cfg->disable ? cfg->disable :
			   cfg->force ? cfg->force : cfg->patch;
	struct klpt_session *s = top_app_session(app);
	char path[512], shown_buf[256];
	const char *shown;

	if (!name)
		return 0;
	if (top_app_is_replay(app)) {
		/* the recording as a whole is the replay's system */
		if (top_app_replay_names(app, name))
			return 0;
		fprintf(stderr, PROG ": no livepatch named '%s': no snapshot "
			"or event of the recording names it\n",
			top_esc_text(shown_buf, sizeof(shown_buf), name));
		return -1;
	}
	if (klpt_patch_find(s, name) || klpt_module_find(s, name))
		return 0;
	snprintf(path, sizeof(path), "%s/sys/module/%s/refcnt",
		 cfg->root ? cfg->root : "", name);
	shown = top_esc_text(shown_buf, sizeof(shown_buf), name);
	if (!strchr(name, '/') && !access(path, F_OK))
		fprintf(stderr, PROG ": '%s' is a loaded module but not a "
			"livepatch (no K in /sys/module/%s/taint)\n", shown,
			shown);
	else
		fprintf(stderr, PROG ": no livepatch named '%s': not in "
			"/sys/kernel/livepatch and no livepatch module of "
			"that name loaded\n", shown);
	return -1;
}

enum {
	OPT_READONLY = 256, OPT_RECORD, OPT_REPLAY, OPT_SPEED, OPT_DISABLE,
	OPT_FORCE, OPT_WAIT_UNLOAD, OPT_UNLOAD, OPT_TIMEOUT, OPT_FALLBACK,
	OPT_TRACEFS, OPT_ROOT, OPT_OPENMETRICS, OPT_LISTEN, OPT_LOAD,
	OPT_WAIT_COMPLETE, OPT_ON_STALL, OPT_STALL_AFTER, OPT_STATUS,
	OPT_PATCH_DETAILS,
	OPT_LIST_FIELDS,
};

static int parse_on_stall(const char *arg, enum top_on_stall *p)
{
	static const char *const names[] = {
		[TOP_STALL_REPORT] = "report",
		[TOP_STALL_DISABLE] = "disable",
		[TOP_STALL_DISABLE_UNLOAD] = "disable-unload",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (!strcmp(arg, names[i])) {
			*p = (enum top_on_stall)i;
			return 0;
		}
	return -1;
}

/*
 * --load's combinations, checked before the session opens: one line
 * and -1 for a bad one.  stall_opts: --on-stall or --stall-after given.
 */
static int check_load(const struct top_config *cfg, bool batch,
		      bool stall_opts, bool scripted)
{
	if (!cfg->load && stall_opts) {
		usage_error("--on-stall and --stall-after are for --load", NULL);
		return -1;
	}
	if (!cfg->load && cfg->wait_complete) {
		usage_error("--wait-complete is for --load", NULL);
		return -1;
	}
	if (!cfg->load)
		return 0;
	if (scripted || cfg->patch) {
		usage_error("--load is a flow of its own: not with --disable, "
			    "--force, --wait-unload, --unload or -p", NULL);
		return -1;
	}
	if (cfg->replay || cfg->openmetrics || cfg->listen || batch ||
	    cfg->output == TOP_OUT_JSON || cfg->iterations) {
		usage_error("--load acts on the running kernel and prints its "
			    "own lines: not with --replay, -b, --json, -n, "
			    "--openmetrics or --listen", NULL);
		return -1;
	}
	if (cfg->timeout_s > 0 && !cfg->wait_complete) {
		usage_error("--timeout with --load bounds --wait-complete: add "
			    "it", NULL);
		return -1;
	}
	if (cfg->readonly) {
		usage_error("--load writes: not with --readonly", NULL);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "batch", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "patch", required_argument, NULL, 'p' },
		{ "sort", required_argument, NULL, 's' },
		{ "reverse", no_argument, NULL, 'r' },
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "readonly", no_argument, NULL, OPT_READONLY },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "speed", required_argument, NULL, OPT_SPEED },
		{ "disable", required_argument, NULL, OPT_DISABLE },
		{ "force", required_argument, NULL, OPT_FORCE },
		{ "wait-unload", no_argument, NULL, OPT_WAIT_UNLOAD },
		{ "unload", no_argument, NULL, OPT_UNLOAD },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "fallback", no_argument, NULL, OPT_FALLBACK },
		{ "tracefs", required_argument, NULL, OPT_TRACEFS },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "openmetrics", required_argument, NULL, OPT_OPENMETRICS },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "load", required_argument, NULL, OPT_LOAD },
		{ "wait-complete", no_argument, NULL, OPT_WAIT_COMPLETE },
		{ "on-stall", required_argument, NULL, OPT_ON_STALL },
		{ "stall-after", required_argument, NULL, OPT_STALL_AFTER },
		{ "status", no_argument, NULL, OPT_STATUS },
		{ "patch-details", no_argument, NULL, OPT_PATCH_DETAILS },
		{ "list-fields", no_argument, NULL, OPT_LIST_FIELDS },
		{ NULL, 0, NULL, 0 },
	};
	struct top_config cfg = {
		.delay_s = 1.0,
		.speed = 1.0,
		.sort = TOP_SORT_BLOCKED,
		.stall_after_s = TOP_STALL_AFTER_S,
	};
	bool batch = false, scripted, stall_opts = false;
	struct sinks sinks = { NULL, NULL };
	struct top_app *app;
	double n;
	int c, code, ret;

	if (std_fds())
		return TOP_EXIT_ERROR;
	/*
	 * The character set only (names in UTF-8 shown as themselves on a
	 * UTF-8 terminal: esc.c, ncursesw): LC_NUMERIC would turn JSON's
	 * 1.5 into 1,5.
	 */
	setlocale(LC_CTYPE, "");
	top_esc_init();
	opterr = 0;	/* our own one-line errors, below */
	while ((c = getopt_long(argc, argv, ":d:n:bjp:s:ryhV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'd':
			if (parse_double(optarg, 0.1, 86400, &cfg.delay_s)) {
				usage_error("bad delay (seconds, 0.1 to 86400)",
					    optarg);
				return TOP_EXIT_ERROR;
			}
			break;
		case 'n':
			if (parse_double(optarg, 1, 1e9, &n) || n != (long)n) {
				usage_error("bad iteration count", optarg);
				return TOP_EXIT_ERROR;
			}
			cfg.iterations = (long)n;
			break;
		case 'b':
			batch = true;
			break;
		case 'j':
			cfg.output = TOP_OUT_JSON;
			break;
		case 'p':
			cfg.patch = optarg;
			break;
		case 's':
			if (top_sort_parse(optarg, &cfg.sort)) {
				usage_error("unknown sort key", optarg);
				return TOP_EXIT_ERROR;
			}
			break;
		case 'r':
			cfg.sort_reverse = true;
			break;
		case 'y':
			cfg.yes = true;
			break;
		case 'h':
			fputs(usage, stdout);
			top_fields_help(stdout);
			fputs(usage_tail, stdout);
			return TOP_EXIT_OK;
		case OPT_LIST_FIELDS:
			top_fields_list(stdout);
			return TOP_EXIT_OK;
		case 'V':
			printf(PROG " %s (libklptrace %s)\n", KLPTOP_VERSION,
			       klpt_version());
			return TOP_EXIT_OK;
		case OPT_READONLY:
			cfg.readonly = true;
			break;
		case OPT_RECORD:
			cfg.record_dir = optarg;
			break;
		case OPT_REPLAY:
			cfg.replay = optarg;
			break;
		case OPT_SPEED:
			if (parse_double(optarg, 0, 1000, &cfg.speed)) {
				usage_error("bad speed (0 to 1000)", optarg);
				return TOP_EXIT_ERROR;
			}
			break;
		case OPT_DISABLE:
			cfg.disable = optarg;
			break;
		case OPT_FORCE:
			cfg.force = optarg;
			break;
		case OPT_WAIT_UNLOAD:
			cfg.wait_unload = true;
			break;
		case OPT_UNLOAD:
			cfg.unload = true;
			cfg.wait_unload = true;
			break;
		case OPT_TIMEOUT:
			if (parse_double(optarg, 0, 1e7, &cfg.timeout_s)) {
				usage_error("bad timeout (seconds)", optarg);
				return TOP_EXIT_ERROR;
			}
			break;
		case OPT_FALLBACK:
			cfg.fallback = true;
			break;
		case OPT_TRACEFS:
			cfg.tracefs_dir = optarg;
			break;
		case OPT_ROOT:
			cfg.root = optarg;
			break;
		case OPT_OPENMETRICS:
			cfg.openmetrics = optarg;
			break;
		case OPT_LISTEN:
			cfg.listen = optarg;
			break;
		case OPT_LOAD:
			cfg.load = optarg;
			break;
		case OPT_WAIT_COMPLETE:
			cfg.wait_complete = true;
			break;
		case OPT_ON_STALL:
			if (parse_on_stall(optarg, &cfg.on_stall)) {
				usage_error("bad --on-stall (report, disable or "
					    "disable-unload)", optarg);
				return TOP_EXIT_ERROR;
			}
			stall_opts = cfg.wait_complete = true;
			break;
		case OPT_STALL_AFTER:
			if (parse_double(optarg, 0.1, 1e7, &cfg.stall_after_s)) {
				usage_error("bad --stall-after (seconds, 0.1 at "
					    "least)", optarg);
				return TOP_EXIT_ERROR;
			}
			stall_opts = cfg.wait_complete = true;
			break;
		case OPT_STATUS:
			cfg.status = true;
			break;
		case OPT_PATCH_DETAILS:
			cfg.patch_details = true;
			break;
		case ':':
			usage_error("option needs an argument",
				    argv[optind - 1]);
			return TOP_EXIT_ERROR;
		default:
			if (optopt) {
				char opt[3] = { '-', (char)optopt, '\0' };

				usage_error("unrecognized option", opt);
			} else {
				usage_error("unrecognized option",
					    argv[optind - 1]);
			}
			return TOP_EXIT_ERROR;
		}
	}
	if (optind < argc) {
		usage_error("unexpected argument", argv[optind]);
		return TOP_EXIT_ERROR;
	}

	/* Every combination is checked before the session opens. */
	scripted = cfg.disable || cfg.force || cfg.wait_unload;
	if (check_load(&cfg, batch, stall_opts, scripted))
		return TOP_EXIT_ERROR;
	if (cfg.disable && cfg.force) {
		usage_error("--disable and --force are separate steps", NULL);
		return TOP_EXIT_ERROR;
	}
	if (scripted && cfg.replay) {
		usage_error("--disable, --force, --wait-unload and --unload act "
			    "on the running kernel, not on a --replay", NULL);
		return TOP_EXIT_ERROR;
	}
	if (cfg.wait_unload && !cfg.disable && !cfg.force && !cfg.patch) {
		usage_error("--wait-unload needs a patch: --disable PATCH or "
			    "-p PATCH", NULL);
		return TOP_EXIT_ERROR;
	}
	if ((cfg.force || cfg.unload) && !cfg.yes) {
		fprintf(stderr, PROG ": %s asked without --yes: %s\n",
			cfg.force ? "--force" : "--unload", cfg.force ?
			"a forced patch's module can never be unloaded; add "
			"--yes if that is what you want" :
			"add --yes to remove the module when it is ready");
		return TOP_EXIT_ERROR;
	}
	if (cfg.record_dir && cfg.replay) {
		usage_error("--record needs a live session, not --replay", NULL);
		return TOP_EXIT_ERROR;
	}
	if (batch && cfg.output == TOP_OUT_JSON) {
		usage_error("-b and --json are two different outputs", NULL);
		return TOP_EXIT_ERROR;
	}
	if ((cfg.openmetrics || cfg.listen) &&
	    (batch || cfg.output == TOP_OUT_JSON)) {
		usage_error("--openmetrics and --listen are an output of their "
			    "own, not with -b or --json", NULL);
		return TOP_EXIT_ERROR;
	}
	if ((cfg.openmetrics || cfg.listen) && scripted) {
		usage_error("--openmetrics and --listen are not for the "
			    "scripted flow", NULL);
		return TOP_EXIT_ERROR;
	}
	/* one answer, now: no frames, no recording, no action */
	if (cfg.status && (scripted || cfg.load || batch || cfg.replay ||
			   cfg.record_dir || cfg.openmetrics || cfg.listen ||
			   cfg.iterations)) {
		usage_error("--status is one answer about the running kernel, "
			    "not with -b, -n, --replay, --record, --openmetrics, "
			    "--listen, --load or the scripted flow", NULL);
		return TOP_EXIT_ERROR;
	}
	/*
	 * The screen opens a patch's page with Enter; a flag it would
	 * ignore is refused, like the other outputs' conflicts above.
	 */
	if (cfg.patch_details && (scripted || cfg.load || cfg.status ||
				  cfg.openmetrics || cfg.listen ||
				  (!batch && cfg.output != TOP_OUT_JSON))) {
		usage_error("--patch-details is for -b and --json frames", NULL);
		return TOP_EXIT_ERROR;
	}
	if (cfg.openmetrics || cfg.listen)
		cfg.output = TOP_OUT_METRICS;
	if (batch || cfg.status ||
	    (cfg.output == TOP_OUT_SCREEN && !isatty(STDOUT_FILENO)))
		cfg.output = cfg.output == TOP_OUT_JSON ? TOP_OUT_JSON :
			     TOP_OUT_BATCH;
	/* Not root: the kernel refuses every action anyway; say it early. */
	if (cfg.replay || geteuid() != 0)
		cfg.readonly = true;

	if (!cfg.replay && geteuid() != 0) {
		fprintf(stderr, PROG ": permission denied: a live session needs "
			"root (tracefs, /sys/kernel/livepatch); without root "
			"only --replay works\n");
		return TOP_EXIT_ERROR;
	}
	top_signals_install();
	if ((cfg.openmetrics &&
	     top_textfile_open(cfg.openmetrics, &sinks.textfile)) ||
	    (cfg.listen && top_listen_open(cfg.listen, &sinks.listen))) {
		top_textfile_close(sinks.textfile);
		return TOP_EXIT_ERROR;
	}
	if (top_app_open(&cfg, &app)) {
		top_textfile_close(sinks.textfile);
		top_listen_close(sinks.listen);
		return TOP_EXIT_ERROR;
	}
	top_framelog_open();
	if (check_patch(&cfg, app)) {
		top_app_close(app);
		top_textfile_close(sinks.textfile);
		top_listen_close(sinks.listen);
		return TOP_EXIT_ERROR;
	}
	if (scripted || cfg.load) {
		if (top_out_stdio()) {
			fprintf(stderr, PROG ": out of memory\n");
			code = TOP_EXIT_ERROR;
		} else {
			code = cfg.load ? top_load_run(&cfg, app) :
			       top_script_run(&cfg, app);
		}
	} else if (cfg.status) {
		code = top_status_run(&cfg, app);
	} else if (cfg.output == TOP_OUT_SCREEN) {
		code = top_screen_run(&cfg, app);
	} else {
		code = run_frames(&cfg, app, &sinks);
	}
	top_textfile_close(sinks.textfile);
	top_listen_close(sinks.listen);
	top_framelog_close();
	top_app_close(app);
	/* The scripted flow's lines: the first failed write's error. */
	ret = scripted || cfg.load ? top_out_error(0) : 0;
	if (ret == -EINTR && code == TOP_EXIT_OK)	/* its lines cut */
		code = TOP_EXIT_SIGNAL + top_stop_signal;
	else if (ret && ret != -EPIPE && code == TOP_EXIT_OK)
		code = TOP_EXIT_ERROR;
	return code;
}
