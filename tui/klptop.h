/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * klptop internals: the contracts between its parts.
 *
 *   main.c     command line, --help, which mode runs
 *   app.c      the session (live or replay) and everything fed by its
 *              events: the event log, per-task histories, replay pacing
 *   view.c     one frame's content, built from the model: patches,
 *              verdicts, blockers (filtered, sorted); every output uses it
 *   details.c  a patch's page (Enter, --patch-details): its module,
 *              objects, history and blockers; its -b and JSON lines
 *   text.c     batch frames (-b), also the scripted flow's lines
 *   json.c     NDJSON frames (--json)
 *   fields.c   the table of every output field: its names on the screen,
 *              in -b and JSON, its help, width and formats (fields.h)
 *   screen.c   the ncurses interface (ui.h: with panel.c, keymap.c and
 *              term.c): panels, keys, dialogs
 *   script.c   --disable PATCH --wait-unload [--unload], --force PATCH
 *   load.c     --load MODULE.ko [--wait-complete ...], the screen's L
 *   status.c   --status: one answer for a monitoring script, and its exit
 *              code
 *   sysinfo.c  what the model does not hold: kernel release, klptrace.ko
 *              hooks, /proc/PID/{cmdline,stack}, a module's holders and
 *              initstate
 *   framelog.c KLPTOP_FRAME_LOG: per-frame times, memory and latency
 *   esc.c      names and texts klptop did not write, escaped per sink
 *   out.c      standard output's writes and their first error
 *   termcheck.c whether the screen can run on this terminal
 *   metrics.c  the Prometheus text exposition of a frame (--openmetrics,
 *              --listen): the metric table, its samples
 *   textfile.c --openmetrics FILE: the file replaced atomically
 *   listen.c   --listen: a minimal HTTP server of GET /metrics
 */
#ifndef KLPTOP_H
#define KLPTOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>

#include <klptrace.h>

#define PROG "klptop"

/* Exit codes (the scripted flow documents 0, 1 and 2; --status 0-3). */
enum top_exit {
	TOP_EXIT_OK = 0,
	TOP_EXIT_TIMEOUT = 1,	/* scripted: not ready in time, or forced;
				 * --status: a transition, or a module
				 * waiting to be removed */
	TOP_EXIT_ERROR = 2,	/* bad usage, setup or action error */
	TOP_EXIT_FORCED = 3,	/* --status: a forced patch's module loaded */
	TOP_EXIT_SIGNAL = 128,	/* + the signal number */
};

enum top_output {
	TOP_OUT_SCREEN,
	TOP_OUT_BATCH,
	TOP_OUT_JSON,
	TOP_OUT_METRICS,	/* --openmetrics, --listen */
};

/* --on-stall: what a load whose transition stalls does. */
enum top_on_stall {
	TOP_STALL_REPORT,		/* say who blocks it, change nothing */
	TOP_STALL_DISABLE,		/* reverse it (write 0 to enabled) */
	TOP_STALL_DISABLE_UNLOAD,	/* reverse it, then rmmod the module */
};

/* Blocker sort keys, in the order the 's' key cycles through them. */
enum top_sort {
	TOP_SORT_BLOCKED,	/* longest blocked first */
	TOP_SORT_PID,		/* the process (tgid), then the thread */
	TOP_SORT_COMM,
	TOP_SORT_CHECKS,
	TOP_SORT_REASON,
	TOP_SORT_TID,
	TOP_SORT_FUNCTION,
	TOP_SORT__COUNT,
};

struct top_config {
	double delay_s;			/* -d: seconds between frames */
	long iterations;		/* -n: frames, 0 = until quit */
	enum top_output output;
	bool readonly;			/* --readonly, or not root */
	bool yes;			/* --yes: no confirmation asked */
	const char *patch;		/* -p: show only this patch */
	const char *record_dir;		/* --record */
	const char *replay;		/* --replay */
	double speed;			/* --speed: replay, 0 = paused */
	const char *disable;		/* --disable PATCH */
	const char *force;		/* --force PATCH */
	bool wait_unload;		/* --wait-unload */
	bool unload;			/* --unload */
	double timeout_s;		/* --timeout, 0 = none */
	uint64_t clock_ns;		/* --timeout from (mono ns), 0: now */
	bool fallback;			/* --fallback */
	const char *tracefs_dir;	/* --tracefs (tests) */
	const char *root;		/* --root (tests) */
	enum top_sort sort;
	bool sort_reverse;
	const char *openmetrics;	/* --openmetrics FILE */
	const char *listen;		/* --listen ADDR:PORT */
	const char *load;		/* --load MODULE.ko */
	bool wait_complete;		/* --wait-complete (or implied) */
	enum top_on_stall on_stall;	/* --on-stall */
	double stall_after_s;		/* --stall-after */
	bool status;			/* --status */
	bool patch_details;		/* --patch-details (-b, --json) */
};

/* ---------------------------------------------------------------- app.c */

/* One line of the event log, formatted when the event came. */
struct top_logline {
	uint64_t ts;			/* of its last time */
	int pid;			/* the task's, or -1 */
	unsigned int repeat;		/* times said (the log collapses) */
	uint32_t hash;			/* of what it says (app.c) */
	char text[112];
};

struct top_app;

/*
 * Open the session the configuration asks for (live, or --replay) and
 * start recording if --record.  On failure prints one line on stderr
 * saying why and returns a negative errno.
 */
int top_app_open(const struct top_config *cfg, struct top_app **out);
void top_app_close(struct top_app *app);

struct klpt_session *top_app_session(const struct top_app *app);
bool top_app_is_replay(const struct top_app *app);
/* --root ("" for the real system): where sysfs and procfs are read. */
const char *top_app_root(const struct top_app *app);
/*
 * The file a module was loaded from by this klptop (the screen's L), or
 * NULL; top_app_note_module_file() remembers one (the last few).
 */
const char *top_app_module_file(const struct top_app *app,
				const char *module);
void top_app_note_module_file(struct top_app *app, const char *module,
			      const char *path);

/*
 * ret, an error of the session, ended --record (a full disk): the
 * recording stops there and tracing goes on (klpt_session_record()).
 * Says so once, in the event log and on stderr unless the screen has
 * it, and returns true: the caller goes on.  false for any other error.
 */
bool top_app_recording_ended(struct top_app *app, int ret);

/*
 * Handle what is there without blocking, at most budget_ms of work.
 * Live: everything the kernel wrote; replay: events up to the replay
 * clock (top_app_tick() moves it), or a slice of the seek under way
 * (then 1 when the seek ended).  Returns events
 * handled or a negative
 * errno (one line already printed by the caller's choice: see
 * top_app_error()).
 */
int top_app_process(struct top_app *app, int budget_ms);

/*
 * Wait up to timeout_ms for session data (live) and process it, for at
 * most timeout_ms (50 ms) more; a replay just processes.  Returns as
 * top_app_process().
 */
int top_app_poll(struct top_app *app, int timeout_ms);

/* CLOCK_MONOTONIC in ns: klptop's one clock (a live trace's clock too). */
uint64_t top_mono_ns(void);

/* The time "now" in the trace clock: monotonic live, the replay clock. */
uint64_t top_app_now(const struct top_app *app);

/* Replay: advance the clock by real elapsed time * speed (if playing). */
void top_app_tick(struct top_app *app);
/* Replay controls; no-ops on a live session. */
void top_app_set_playing(struct top_app *app, bool playing);
bool top_app_playing(const struct top_app *app);
void top_app_set_speed(struct top_app *app, double speed);
double top_app_speed(const struct top_app *app);
int top_app_step(struct top_app *app);	/* apply exactly one event */
/* Replay: apply events up to clock (trace ns; UINT64_MAX: all). */
void top_app_set_clock(struct top_app *app, uint64_t clock);
uint64_t top_app_clock(const struct top_app *app);
/* Replay: true once every event was applied. */
bool top_app_ended(const struct top_app *app);
/* Replay: the time of the first event (0 before any). */
uint64_t top_app_replay_start(const struct top_app *app);
/* Replay: the time of the last event applied (0 before any). */
uint64_t top_app_replay_last(const struct top_app *app);

/* What a replay's step or jump stops at (top_app_seek_mark()). */
enum top_seek {
	TOP_SEEK_EVENT,		/* any event but a task's fork/exec/exit */
	TOP_SEEK_PASS,		/* a transition's pass */
	TOP_SEEK_TRANSITION,	/* a transition's init, reverse, complete */
};
/*
 * Replay: pause and show the recording as it was at ts (trace ns; 0 its
 * start, UINT64_MAX its end): from the start again (the library's
 * rewind, on the files the open checked; the event log and histories
 * are rebuilt) when ts is before what is shown.  The events up to ts
 * are applied a slice at a time by top_app_process() (a seek over a big
 * recording must not hold the screen): top_app_seeking() until done.
 * 0 or a negative errno.
 */
int top_app_seek(struct top_app *app, uint64_t ts);
/* As top_app_seek(), to off ns after the first event (g TIME). */
int top_app_seek_from_start(struct top_app *app, uint64_t off);
/*
 * Replay: pause and go to the next (dir > 0: a seek, as above, 0 at the
 * end already) or previous (dir < 0) event of kind: 1 when there was
 * one, 0 at the start.
 */
int top_app_seek_mark(struct top_app *app, int kind, int dir);
/* A seek is under way. */
bool top_app_seeking(const struct top_app *app);
/* Stop the seek where it got to (paused there). */
void top_app_seek_cancel(struct top_app *app);
/*
 * How far the seek is, 0-99 (of the way to its time, or of the
 * recording read), -1 when unknown (to the end of a trace.dat).
 */
int top_app_seek_progress(const struct top_app *app);
/*
 * Replay: whether any event or the snapshot of the whole recording
 * names a patch or livepatch module name (-p's check, as live checks
 * sysfs).  The replay starts again from its beginning afterwards.
 */
bool top_app_replay_names(struct top_app *app, const char *name);
/*
 * The watched kernel's release: the running one's, or the one the
 * replay's recording says ("" when it does not: an old recording or a
 * trace.dat).
 */
const char *top_app_kernel(const struct top_app *app);

/* A log line as shown: its text, and "(xN)" if it repeated. */
const char *top_logline_text(const struct top_logline *l, char *buf,
			     size_t size);
/* Event log: n most recent lines, i = 0 the oldest of those kept. */
int top_app_log_count(const struct top_app *app);
const struct top_logline *top_app_log_at(const struct top_app *app, int i);

/* A task's history (blocked checks, switches), oldest first. */
int top_app_history(const struct top_app *app, int pid,
		    const struct top_logline **lines, int max);

/* ---------------------------------------------------------------- view.c */

struct top_blocker {
	int pid, tgid;
	char comm[KLPT_COMM_LEN];
	int kthread;			/* 1 yes, 0 no, -1 unknown */
	int state;			/* enum klpt_state */
	int reason;			/* enum klpt_reason */
	char func[64];
	/*
	 * The blocked checks this session saw (klp_task_blocked): the
	 * first one's time and their number.  Exact if checks_known
	 * (klpt_task_checks_exact(): the session saw the transition, or
	 * its last reverse, start, or the task born since): then none seen
	 * means never blocked (BLOCKED -, checks 0).  Otherwise (joined
	 * under way, events lost, the fallback) they are lower bounds
	 * (>=N, JSON null and *_since_open), and none seen is unknown (?).
	 */
	uint64_t first_blocked_ns;	/* 0: none seen */
	uint64_t blocked_ns;		/* now - first blocked, 0 if none */
	unsigned int checks;
	bool checks_known;
	/*
	 * Its reason and function are as klptrace.ko's events last said,
	 * and nothing updates them now: the session went to the fallback
	 * (klptrace.ko removed, or its hooks silent), which sees that a
	 * task is pending, not why.
	 */
	bool stale;
};

/*
 * A function a patch patches (klpt_patch_func_*()) and which patch's
 * version of it runs.
 */
struct top_func {
	char object[64];
	char name[512];			/* KSYM_NAME_LEN of 6.1 */
	unsigned long sympos;
	bool patched;			/* its object's `patched` */
	bool known;			/* which version runs is known */
	bool live;			/* this patch's version runs */
	char runs[64];			/* whose version runs: "" the original */
	bool switching;			/* runs' patch is in transition */
};

struct top_patch {
	char name[64];
	bool enabled, transition, forced, freed, released;
	/*
	 * false: whether the patch was forced is unknown (a module row
	 * whose patch this session never knew, its refcnt not 0: a forced
	 * patch's module never drops its last reference); forced is then
	 * false and shown as ? (null).
	 */
	bool forced_known;
	/*
	 * A row for a livepatch module whose patch is gone (freed and
	 * released, replaced, forced): only its module's values are known.
	 */
	bool module_only;
	int target;			/* enum klpt_state, UNDEFINED: unknown */
	/*
	 * enum klpt_phase: before the start (INIT) no task is pending and
	 * none is a blocker; UNKNOWN: direction unknown, so are switched
	 * and the blockers.
	 */
	int phase;
	/* pass, signals: KLPT_UNKNOWN_COUNT if unknown (joined mid-way) */
	unsigned int pass, signals, pending;
	uint64_t elapsed_ns;		/* in transition, 0 if unknown */
	unsigned int switched, total;	/* tasks in the target state / all */
	/*
	 * Of total, tasks whose state the session cannot know (idle tasks
	 * of a transition it joined: KLPT_STATE_UNKNOWN): switched is then
	 * a lower bound (>=N, JSON null and switched_at_least).
	 */
	unsigned int unknown;
	bool module_loaded;
	int refcnt;			/* -1 unknown or not loaded: ? / null */
	enum klpt_verdict verdict;
	char why[256];
	/* Its functions: nfuncs -1 when the session does not know them. */
	int nfuncs;
	struct top_func *funcs;
	/* Blockers: only the patch in transition has any. */
	int nblockers;			/* after the filter */
	int nblockers_all;		/* before it */
	struct top_blocker *blockers;
	/*
	 * Of all blockers (before the filter): how many per reason (enum
	 * klpt_reason), the longest blocked time seen, and whether every
	 * one's checks are exact (then so is that time).
	 */
	unsigned int nreason[KLPT_REASON_UNKNOWN + 1];
	uint64_t longest_ns;
	bool all_exact;
	int nstale;		/* blockers whose reason is stale */
};

struct top_view {
	/* -b and --json add each patch's page (--patch-details) */
	bool details;
	uint64_t now;
	enum klpt_mode mode;
	bool native;		/* klpt_session_native() */
	uint64_t events, lost;
	int npatches;
	struct top_patch *patches;
	int ntasks;
};

/*
 * Build the view of the model as it is now.  patch: only that patch
 * (NULL: all); filter: blockers whose pid, comm or function contains it
 * (NULL or "": all).  Returns 0 or -ENOMEM.
 */
int top_view_build(struct top_view *v, const struct top_app *app,
		   const char *patch, const char *filter,
		   enum top_sort sort, bool reverse);
/*
 * The same with only the first keep blocked tasks of each patch by the
 * sort as its blockers, without a filter: the counts above are still of
 * all of them.  A frame that shows a few (-b) or none (the metrics)
 * need not copy and sort 10k of them.
 */
/* Blocker rows per patch in a batch (-b) frame: the rest is counted. */
#define TOP_TEXT_MAX_BLOCKERS 50
int top_view_build_top(struct top_view *v, const struct top_app *app,
		       const char *patch, enum top_sort sort, bool reverse,
		       int keep);
void top_view_free(struct top_view *v);

/* A task as a blocker row (also the task details' BLOCKED, CHECKS). */
void top_blocker_fill(struct top_blocker *b, const struct klpt_task *t,
		      uint64_t now);
/* The key of the column a sort is by (-s KEY): fields.c. */
const char *top_sort_name(enum top_sort s);
/*
 * The sort's marker on its column's header: 'v' when the rows go down
 * from the largest (or last) value, '^' when they go up from the
 * smallest (or first), r flipping it (view.c, beside the comparison).
 */
char top_sort_marker(enum top_sort s, bool reverse);
/*
 * Unknown shows as "?" everywhere (null in JSON): a count
 * (KLPT_UNKNOWN_COUNT), the kthread flag (-1), a transition's elapsed
 * time (0 in transition).  Out of a transition there is none: "-".
 */
const char *top_fmt_count(char *buf, size_t size, unsigned int n);
const char *top_kthread_flag(int kthread);	/* "K", "-" or "?" */
void top_fmt_elapsed(char *buf, size_t size, const struct top_patch *p);
/* "sleeping in function", "running", ... */
const char *top_reason_text(int reason);
/* "sleeping_in_func", ... (JSON) */
const char *top_reason_key(int reason);
/* "sleeping", ... (the screen's narrow REASON column) */
const char *top_reason_column(int reason);
const char *top_state_name(int state);	/* "patched", "unpatched", ... */
/* "events", "fallback", "replay" (the session's mode), or "?" */
const char *top_mode_name(enum klpt_mode m);
/*
 * Where the view's klp events come from: "native" (the kernel's own),
 * "klptrace.ko", "fallback" (none: sysfs and procfs polled), or NULL
 * for a replay (its recording does not say).
 */
const char *top_source_name(const struct top_view *v);
/* "patching", "unpatching" or "-" */
const char *top_direction(const struct top_patch *p);
/* Format a duration in ns as "12.3s", "4m05s", "2h13m" (never > 7 chars). */
void top_fmt_duration(char *buf, size_t size, uint64_t ns);
/*
 * A blocker's BLOCKED and CHECKS, and a patch's REF and F columns, as
 * every text renderer (screen, -b, the scripted flow) shows them:
 * BLOCKED "-" never blocked, "?" unknown (a joined transition), else a
 * duration, ">=" before it when the session may have missed earlier
 * checks; CHECKS "?" unknown, ">=N" at least, else the count; REF "-"
 * module not
 * loaded, "?" loaded but unknown; F "Y", "-" or "?" (text: yes/no/?).
 */
const char *top_fmt_blocked(char *buf, size_t size,
			    const struct top_blocker *b);
const char *top_fmt_checks(char *buf, size_t size,
			   const struct top_blocker *b);
/*
 * SWITCHED: "-" out of a transition, "?/N" direction unknown, ">=X/N"
 * with tasks of unknown state, else "X/N".
 */
const char *top_fmt_switched(char *buf, size_t size,
			     const struct top_patch *p);
const char *top_fmt_refcnt(char *buf, size_t size, const struct top_patch *p);
/* The patch in transition (raw name) in buf: false if none is. */
bool top_busy_patch(struct klpt_session *s, char *buf, size_t size);
/* Why a disable failed with EBUSY: the patch in transition (raw text). */
const char *top_busy_text(char *buf, size_t size, struct klpt_session *s);
const char *top_forced_flag(const struct top_patch *p);	/* Y - ? */
const char *top_forced_word(const struct top_patch *p);	/* yes no ? */

/* ------------------------------------------------------------- details.c */

/* A value of the patch page: known, known to be none/no, unknown (?). */
enum top_tri {
	TOP_UNKNOWN = -1,
	TOP_NONE = 0,
	TOP_KNOWN = 1,
};

/* An object of a patch: vmlinux or a module, and its functions. */
struct top_object {
	char name[64];
	int loaded;			/* enum top_tri: vmlinux always */
	bool patched;			/* its `patched` */
	int nfuncs;
};

/*
 * A livepatch's page (details.c says where each value comes from and
 * when it is unknown); its functions are the view's top_patch funcs.
 */
struct top_details {
	char name[64];
	bool live;			/* not a replay */
	bool module_only;		/* no patch left, only its module */
	int srcversion_state;		/* enum top_tri (NONE: it has none) */
	char srcversion[48];
	char srcversion_why[200];
	int description_state;
	char description[256];
	char description_why[480];	/* unverified: the file's text too */
	char file[256];			/* the .ko read, "" none */
	int replace;			/* enum top_tri */
	char replace_why[160];
	bool replaced;			/* seen replaced by an atomic replace */
	char replaced_by[64];		/* by which, "" unknown */
	long long stack_order;		/* -1: no such file (before 6.13) */
	bool objects_known;		/* its functions are known */
	int nobjects;
	struct top_object *objects;
	/* the library's history (klpt_patch_history_*()), copied */
	int nsteps;
	struct klpt_patch_step *steps;
	unsigned int dropped;
	int gap;			/* steps dropped after this one */
	bool whole;			/* from its enable's init */
	uint64_t since;			/* known to the session since, 0 ? */
	int nblk;
	struct klpt_patch_blocker *blk;
	unsigned int blocked_tasks;	/* distinct tasks, either way */
	unsigned int blocked_to[2];	/* per target (a reverse: both) */
	bool blk_exact;
};

/*
 * What a module file's .modinfo says (modfile.c), read again only when
 * the file changed: each value with klpt_module_file_info()'s return
 * (-ENOEXEC: not a module, a compressed one included); file_r: lstat's.
 */
struct top_modfile {
	int file_r, name_r, srcversion_r, description_r, build_id_r;
	char name[64];
	char srcversion[48];
	char description[256];
	char build_id[132];		/* its GNU build ID, hex */
};

/* Module names: '-' and '_' are the same to the kernel. */
bool top_same_modname(const char *a, const char *b, size_t blen);
/*
 * The file of module name as <root>/lib/modules/<kernel>/modules.dep
 * lists it, into path: true if found (modules.dep read again only when
 * it changed).
 */
bool top_modfile_dep(const char *root, const char *kernel, const char *name,
		     char *path, size_t size);
/* path's .modinfo (valid until the next call), NULL: path too long. */
const struct top_modfile *top_modfile_info(const char *path);

/* The page of p (a row of a view of app): 0 or -ENOMEM. */
int top_details_build(struct top_details *d, const struct top_app *app,
		      const struct top_patch *p);
void top_details_free(struct top_details *d);
/* A step's word ("init", "passes", "put", ...) and what it means. */
const char *top_step_name(const struct klpt_patch_step *st);
void top_step_text(char *buf, size_t size, const struct klpt_patch_step *st);
/*
 * -b's lines after the patch's own (and the screen's page: funcs, each
 * object's functions too; times less base, a replay's start, or 0: the
 * trace clock), and --json's ,"details":{...}.
 */
void top_details_text(FILE *f, const struct top_details *d,
		      const struct top_patch *p, uint64_t base, bool funcs);
void top_details_json(FILE *f, const struct top_details *d);

/* ----------------------------------------------------------------- out.c */

/*
 * len bytes to standard output, whole: waits while a non-blocking one is
 * full.  0, -EINTR if a stop signal ended the wait or came before, or
 * the write's -errno (the first one is kept for top_out_error()).
 */
int top_out_write(const char *buf, size_t len);
/*
 * stdout becomes a line-buffered stream that writes through
 * top_out_write() (the scripted flow's printf()s).  0 or -ENOMEM.
 */
int top_out_stdio(void);
/*
 * One line on stderr, once, for an error of standard output: err
 * (-errno), or if 0 the first failed write's after flushing stdout.
 * Returns it.  EPIPE, a reader that went away as head -n does, and
 * EINTR, a stop signal, say nothing: not klptop's errors.
 */
int top_out_error(int err);

/* ----------------------------------------------------------------- esc.c */

/*
 * Every string klptop did not write itself (task, function, patch and
 * module names, the library's why texts, /proc files) goes out through
 * one of these (rules: esc.c).  top_esc_init() after setlocale(): whether
 * LC_CTYPE's charset is UTF-8, where valid UTF-8 is shown as it is.
 */
void top_esc_init(void);
/*
 * s for a text sink, into buf (at most size - 1 bytes, never half a
 * character; never longer than s, so buf may be s): controls and what is
 * not printable become '?', as ps(1) shows them.  Returns buf.
 */
const char *top_esc_text(char *buf, size_t size, const char *s);
/*
 * The bytes of s (escaped: top_esc_text()) that fit in cols terminal
 * columns (wcwidth()), their columns in *used.
 */
size_t top_text_fit(const char *s, int cols, int *used);
/*
 * s escaped for a column of the screen or -b: cut to max columns with an
 * ellipsis to show it was cut (max > 1; 0: never cut), then padded with
 * spaces to w columns (printf's %-*s counts bytes, not columns).
 */
const char *top_esc_col(char *buf, size_t size, const char *s, int w,
			int max);
/* "…" (U+2026) in a UTF-8 locale, else "~": one column either way. */
const char *top_ellipsis(void);
/*
 * s as a Prometheus label value, quotes excluded: \\ \" \n escaped,
 * other controls and bytes that are not UTF-8 as U+FFFD.
 */
void top_esc_label(FILE *f, const char *s);
/* s as a JSON string, quotes included: always valid UTF-8 and JSON. */
void top_esc_json(FILE *f, const char *s);
/*
 * buf (size bytes) holds a string copied or formatted into it that may
 * have been cut to fit (it fills buf): then a character the cut split is
 * dropped, so that no name ends in half a character (shown '?').
 */
void top_utf8_cut(char *buf, size_t size);

/* ---------------------------------------------------------------- text.c */

/* A batch frame of v to f (a header, the patches, their blockers). */
void top_text_frame(FILE *f, const struct top_view *v,
		    const struct top_app *app);

/* ---------------------------------------------------------------- json.c */

struct top_buf;

/* One NDJSON line for v, into b (emptied first).  0 or -ENOMEM. */
int top_json_frame(struct top_buf *b, const struct top_view *v,
		   const struct top_app *app);

/* ------------------------------------------------------------- status.c */

/*
 * --status: where each row of the view (a patch, or a livepatch module
 * whose patch is gone) stands, from the most benign to the most severe.
 * The whole answer is its most severe row's.
 */
enum top_status {
	TOP_STATUS_OK,		/* enabled, no transition */
	TOP_STATUS_WAITING,	/* disabled or replaced, its module loaded */
	TOP_STATUS_TRANSITION,	/* a transition runs */
	TOP_STATUS_UNKNOWN,	/* the session cannot tell */
	TOP_STATUS_FORCED,	/* its module can never be unloaded */
	TOP_STATUS__COUNT,
};

/* "ok", "waiting", "transition", "unknown", "forced" */
const char *top_status_name(enum top_status st);
/* Its exit code: 0, 1, 1, 2, 3. */
int top_status_exit(enum top_status st);

/*
 * The --json document of --status: v's frame (top_json_frame(), one
 * line) with "status" and "exit" (all) and each patch's "status" (row,
 * one per v->patches).
 */
int top_json_status(FILE *f, const struct top_view *v,
		    const struct top_app *app, enum top_status all,
		    const enum top_status *row);

int top_status_run(const struct top_config *cfg, struct top_app *app);

/* ------------------------------------------------------------ metrics.c */

/* Top blockers per patch in the capped info metric. */
#define TOP_METRICS_TOP_BLOCKERS 5

/*
 * The Prometheus text exposition (format 0.0.4) of v to f: every metric
 * of the table in metrics.c with # HELP and # TYPE; a value the session
 * does not know has no sample.  v is top_view_build_top()'s (its
 * blockers the longest blocked first).  root: --root (tests), for
 * klptrace.ko's hooks.
 */
void top_metrics_frame(FILE *f, const struct top_view *v,
		       const struct top_app *app, const char *root);

/* ----------------------------------------------------------- textfile.c */

struct top_textfile;

/*
 * Hold FILE's directory open (no link as its last component); FILE's
 * name must be a plain file name there.  0, or -errno after one line on
 * stderr.
 */
int top_textfile_open(const char *path, struct top_textfile **out);
/*
 * Replace the file with buf, atomically: a new temporary file in the
 * held directory (O_EXCL|O_NOFOLLOW, 0644), written, fsync()ed,
 * renamed over FILE, the directory fsync()ed.  On failure the old file
 * is intact, the temporary removed: -errno after one line on stderr.
 */
int top_textfile_write(struct top_textfile *t, const char *buf, size_t len);
void top_textfile_close(struct top_textfile *t);

/* ------------------------------------------------------------- listen.c */

struct top_listen;

/*
 * Listen on ADDR:PORT (numeric: 127.0.0.1:9101, [::1]:9101; a bare PORT
 * or :PORT is 127.0.0.1).  0, or -errno after one line on stderr.
 */
int top_listen_open(const char *spec, struct top_listen **out);
/* The body GET /metrics serves from now on (copied). 0 or -ENOMEM. */
int top_listen_set(struct top_listen *l, const char *buf, size_t len);
/*
 * Its descriptors for poll(): fills up to max entries, returns how many.
 * After poll(), top_listen_handle() with the same array does the work
 * (never blocks).
 */
int top_listen_pollfds(struct top_listen *l, struct pollfd *pfd, int max);
void top_listen_handle(struct top_listen *l, const struct pollfd *pfd,
		       int n);
/* The most a server waits for, in ms, before it must be handled again. */
int top_listen_timeout(const struct top_listen *l);
void top_listen_close(struct top_listen *l);

/* ------------------------------------------------------------- screen.c */

int top_screen_run(struct top_config *cfg, struct top_app *app);

/* ---------------------------------------------------------- termcheck.c */

/*
 * Keys come from a terminal (stdin), TERM names a terminfo entry that
 * can move the cursor: 0, or -1 after one line on stderr.
 */
int top_term_check(void);

/* ------------------------------------------------------------- script.c */

int top_script_run(const struct top_config *cfg, struct top_app *app);
/* Used by the load flow too (load.c): see script.c. */
void top_script_blockers(const struct top_patch *p);
void top_script_report(const struct top_config *cfg, struct top_app *app,
		       const char *patch, const char *tag);
int top_script_disable(struct top_app *app, const char *patch, bool gone,
		       const char *module);
int top_script_unload(const struct top_config *cfg, struct top_app *app,
		      const char *patch, const char *module);

/* --------------------------------------------------------------- load.c */

/* Defaults of --stall-after and --on-stall (documented in --help). */
#define TOP_STALL_AFTER_S 60.0

/* klptop --load: the whole flow, an exit code (every line said). */
int top_load_run(const struct top_config *cfg, struct top_app *app);
/*
 * The screen's L: load the module at path; the outcome as one line in
 * msg (escaped).  Returns true when it loaded (name: its module).
 */
bool top_load_key(struct top_app *app, const char *path, char *name,
		  size_t name_size, char *msg, size_t msg_size);

/* ------------------------------------------------------------ sysinfo.c */

/* "6.1.0-56-amd64" (uname), or the replay's kernel if it says. */
const char *top_kernel_release(void);

struct top_hooks {
	bool present;			/* /sys/kernel/klptrace/hooks exists */
	int active, total;
	/* registered but not firing now, and why ("ftrace_off") */
	int inactive;
	char why[32];
	char version[32];
};

void top_hooks_read(const char *root, struct top_hooks *h);

/* /proc/PID/cmdline with NULs as spaces; -errno if unreadable. */
int top_proc_cmdline(const char *root, int pid, char *buf, size_t size);
/* /proc/PID/stack; -errno if unreadable (it needs root). */
int top_proc_stack(const char *root, int pid, char *buf, size_t size);
/*
 * The modules that use module (/sys/module/MODULE/holders): each holds
 * one reference (ref_module()) until it is unloaded.  Their names,
 * space-separated, into names (size bytes); returns how many.
 */
/* /sys/module/MODULE/refcnt now: the count, or -errno (-ENOENT: gone). */
int top_module_refcnt(const char *root, const char *module);
int top_module_holders(const char *root, const char *module, char *names,
		       size_t size);
/* /sys/module/MODULE/initstate reads want ("coming", "going"). */
bool top_module_initstate_is(const char *root, const char *module,
			     const char *want);

/* ----------------------------------------------------------- framelog.c */

void top_framelog_open(void);
void top_framelog_close(void);
/*
 * After a frame: its build and draw times (ns), of the draw time the part
 * that wrote --openmetrics' file and --listen's body (io_ns), and the
 * task count.
 */
void top_framelog_frame(struct top_app *app, uint64_t build_ns,
			uint64_t draw_ns, uint64_t io_ns, int tasks);
/* The oldest event not yet shown (trace ns, 0 if none); resets it. */
uint64_t top_app_take_unshown(struct top_app *app);

/* ------------------------------------------------------------- signals */

/* Set by SIGINT/SIGTERM/SIGHUP handlers (main.c): the signal number. */
extern volatile sig_atomic_t top_stop_signal;
void top_signals_install(void);

#endif /* KLPTOP_H */
