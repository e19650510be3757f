// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The session klptop watches and what its events feed besides the
 * library's model: the event log panel, the per-task histories of the
 * detail view, and the replay clock.
 *
 * Histories are kept only for tasks that were seen blocked: those are
 * the ones an operator opens, and a transition over 100k tasks must not
 * cost a history each.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "klptop.h"

#define LOG_LINES	1024	/* event log panel: the most recent */
/*
 * A line that repeats one of the last LOG_WINDOW lines (the same
 * task_blocked every pass, RESYNC after RESYNC, a pass like the one
 * before but for its number) replaces it at the end, counted: "(x12)".
 * 64: a pass a second, and the forks of a busy second between them.
 */
#define LOG_WINDOW	64
#define HIST_LINES	16	/* per blocked task */
#define HIST_TASKS	16384	/* tasks with a history (a power of 2) */
#define MOD_FILES	8	/* modules loaded by this klptop remembered */
#define MARKS_MAX	(1 << 20)	/* passes and transitions of a replay */
#define SEEK_FIRST_MS	20	/* a seek's first slice, right at its key */

struct history {
	int pid;		/* 0: free slot (idle tasks get none) */
	int head, n;
	struct top_logline line[HIST_LINES];
};

struct top_app {
	struct klpt_session *s;
	bool replay;
	/*
	 * Replay clock: events up to clock are applied.  It starts at the
	 * first event and moves with real time * speed while playing (or as
	 * the batch mode says).  UINT64_MAX: apply everything.
	 */
	uint64_t clock;
	uint64_t last_ts;	/* of the last event applied */
	uint64_t first_ts;	/* of the first, 0 before it */
	double speed;
	bool playing, ended;
	uint64_t last_tick;	/* top_mono_ns() of the last top_app_tick() */
	uint64_t unshown_ts;	/* oldest event since the last frame */
	bool stepping;		/* stop after one event */
	/* event log ring */
	struct top_logline log[LOG_LINES];
	int log_head, log_n;
	/* histories: open addressing on pid, never removed but on exit */
	struct history *hist;
	int nhist;
	/* --record: while it is written (recording_ended()) */
	const char *record_dir;
	bool screen;		/* stderr is the screen's: say it in the log */
	const char *root;	/* --root, "" the real system */
	/* the files modules were loaded from (the patch page's modinfo) */
	struct {
		char module[64];
		char path[PATH_MAX];
	} mod_file[MOD_FILES];
	int mod_file_next;
	/*
	 * Replay navigation: the times of the passes and transitions seen
	 * (marks, in order, kept across rewinds: a rewind replays the same
	 * events), what stops a step (stop_kind), and -p's check of the
	 * whole recording (want: a name looked for, want_seen).
	 */
	struct mark {
		uint64_t ts;
		unsigned char kind;	/* enum top_seek */
	} *marks;
	int nmarks, capmarks;
	int stop_kind;		/* enum top_seek while stepping */
	bool stopped;		/* a step stopped at its kind */
	/*
	 * A seek under way, run a slice at a time by top_app_process()
	 * between the screen's frames and keys (a whole recording replayed
	 * at once froze it): to the first event at or after ts, or (by_kind)
	 * to the next event of kind.
	 */
	struct {
		bool on, by_kind;
		int kind;
		uint64_t ts;
	} seek;
	const char *want;
	bool want_seen;
};

uint64_t top_mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ------------------------------------------------------- event lines */

static const char *via_name(int via)
{
	static const char *const names[] = {
		"unknown", "user return", "idle", "stack check", "fork",
		"force",
	};

	return via >= 0 && via < 6 ? names[via] : "?";
}

/* A short line for ev: what the log panel and histories show. */
static void format_event(const struct klpt_event *ev, char *buf,
			 size_t size)
{
	const char *name = klpt_event_type_name(ev->type);

	switch (ev->type) {
	case KLPT_EV_TRANSITION_INIT:
	case KLPT_EV_TRANSITION_START:
	case KLPT_EV_TRANSITION_REVERSE:
	case KLPT_EV_TRANSITION_CANCEL:
	case KLPT_EV_TRANSITION_FORCE:
		snprintf(buf, size, "%s %s -> %s", name + 4,
			 ev->transition.patch,
			 top_state_name(ev->transition.target));
		break;
	case KLPT_EV_TRANSITION_COMPLETE:
		snprintf(buf, size, "%s %s -> %s%s", name + 4,
			 ev->transition.patch,
			 top_state_name(ev->transition.target),
			 ev->transition.forced ? " (forced)" : "");
		break;
	case KLPT_EV_TRANSITION_PASS:
		snprintf(buf, size, "%s %s #%u: %u checked, %u pending",
			 name + 4, ev->transition.patch, ev->transition.pass,
			 ev->transition.checked, ev->transition.pending);
		break;
	case KLPT_EV_TRANSITION_SIGNAL:
		snprintf(buf, size, "%s %s #%u: %u pending tasks signalled",
			 name + 4, ev->transition.patch, ev->transition.pass,
			 ev->transition.pending);
		break;
	case KLPT_EV_TASK_SWITCH:
		snprintf(buf, size, "%s %s[%d] %s -> %s via %s", name + 4,
			 ev->task.comm, ev->task.pid,
			 top_state_name(ev->task.from),
			 top_state_name(ev->task.to), via_name(ev->task.via));
		break;
	case KLPT_EV_TASK_BLOCKED:
		snprintf(buf, size, "%s %s[%d] %s%s%s", name + 4,
			 ev->task.comm, ev->task.pid,
			 top_reason_text(ev->task.reason),
			 ev->task.func[0] ? " " : "", ev->task.func);
		break;
	case KLPT_EV_MODULE_REF:
		snprintf(buf, size, "%s %s %s refcnt %d%s%s", name + 4,
			 ev->module.module, ev->module.get ? "get" : "put",
			 ev->module.refcnt, ev->module.caller[0] ? " by " : "",
			 ev->module.caller);
		break;
	case KLPT_EV_MODULE_UNLOAD_READY:
	case KLPT_EV_MODULE_FREE:
	case KLPT_EV_MODULE_LOAD:
		snprintf(buf, size, "%s %s",
			 ev->type == KLPT_EV_MODULE_LOAD ? "module_load" :
			 name + 4, ev->module.module);
		break;
	case KLPT_EV_PATCH_FREE:
	case KLPT_EV_PATCH_RELEASE:
		snprintf(buf, size, "%s %s%s", name + 4, ev->patch.patch,
			 ev->patch.forced ? " (forced)" : "");
		break;
	case KLPT_EV_LOST:
		if (ev->lost.count)
			snprintf(buf, size, "LOST %llu events: resyncing",
				 (unsigned long long)ev->lost.count);
		else
			snprintf(buf, size, "LOST events: resyncing");
		break;
	case KLPT_EV_RESYNC:
		snprintf(buf, size, "RESYNC: model reset to sysfs/procfs");
		break;
	default:
		snprintf(buf, size, "%s", name ? name : "?");
	}
}

/* ---------------------------------------------------------- histories */

static struct history *hist_slot(struct top_app *app, int pid, bool create)
{
	unsigned int i, mask = HIST_TASKS - 1;
	unsigned int h = (unsigned int)pid * 2654435761u;

	if (pid <= 0 || (!app->hist && !create))
		return NULL;
	if (!app->hist) {
		app->hist = calloc(HIST_TASKS, sizeof(*app->hist));
		if (!app->hist)
			return NULL;
	}
	for (i = 0; i < HIST_TASKS; i++) {
		struct history *e = &app->hist[(h + i) & mask];

		if (e->pid == pid)
			return e;
		if (e->pid == 0) {
			/* full (but for one free slot): no new histories */
			if (!create || app->nhist >= HIST_TASKS - 1)
				return NULL;
			e->pid = pid;
			app->nhist++;
			return e;
		}
	}
	return NULL;
}

static void hist_add(struct history *e, const struct top_logline *l)
{
	e->line[e->head] = *l;
	e->head = (e->head + 1) % HIST_LINES;
	if (e->n < HIST_LINES)
		e->n++;
}

/* An exited pid may come back as another task: its history goes. */
static void hist_forget(struct top_app *app, int pid)
{
	struct history *e = hist_slot(app, pid, false);

	/*
	 * Open addressing without deletion: keep the slot (pid stays as a
	 * tombstone of itself) but drop the lines.
	 */
	if (e) {
		e->n = 0;
		e->head = 0;
	}
}

int top_app_history(const struct top_app *app, int pid,
		    const struct top_logline **lines, int max)
{
	struct history *e = hist_slot((struct top_app *)app, pid, false);
	int i, n;

	if (!e)
		return 0;
	n = e->n < max ? e->n : max;
	for (i = 0; i < n; i++)
		lines[i] = &e->line[(e->head - n + i + 2 * HIST_LINES) %
				    HIST_LINES];
	return n;
}

/* ------------------------------------------------------------ events */

/*
 * What an event is to the replay's navigation: a pass, a transition's
 * beginning or end (init, reverse, cancel, complete), or any other.
 */
static int seek_kind(const struct klpt_event *ev)
{
	switch (ev->type) {
	case KLPT_EV_TRANSITION_PASS:
		return TOP_SEEK_PASS;
	case KLPT_EV_TRANSITION_INIT:
	case KLPT_EV_TRANSITION_REVERSE:
	case KLPT_EV_TRANSITION_CANCEL:
	case KLPT_EV_TRANSITION_COMPLETE:
		return TOP_SEEK_TRANSITION;
	default:
		return TOP_SEEK_EVENT;
	}
}

/* A mark, unless a rewind replays what is marked already. */
static void mark_add(struct top_app *app, uint64_t ts, int kind)
{
	if (app->nmarks && ts <= app->marks[app->nmarks - 1].ts)
		return;
	if (app->nmarks == app->capmarks) {
		int cap = app->capmarks ? 2 * app->capmarks : 256;
		struct mark *m;

		if (cap > MARKS_MAX)
			return;		/* a huge recording: no more marks */
		m = realloc(app->marks, (size_t)cap * sizeof(*m));
		if (!m)
			return;
		app->marks = m;
		app->capmarks = cap;
	}
	app->marks[app->nmarks].ts = ts;
	app->marks[app->nmarks++].kind = (unsigned char)kind;
}

/*
 * A hash of what a line says (FNV-1a), the number after a '#' left out
 * as same_line() does: most lines are compared by it alone.
 */
static uint32_t line_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s) {
		if (*s == '#')
			while (s[1] >= '0' && s[1] <= '9')
				s++;
		h = (h ^ (unsigned char)*s++) * 16777619u;
	}
	return h;
}

/*
 * a and b say the same: equal but for the number after a '#' (a pass's,
 * which every pass line has).
 */
static bool same_line(const char *a, const char *b)
{
	while (*a && *a == *b) {
		if (*a++ == '#') {
			b++;
			while (*a >= '0' && *a <= '9')
				a++;
			while (*b >= '0' && *b <= '9')
				b++;
			continue;
		}
		b++;
	}
	return *a == *b;
}

static struct top_logline *log_at(struct top_app *app, int i)
{
	return &app->log[(app->log_head - app->log_n + i + LOG_LINES) %
			 LOG_LINES];
}

/*
 * The line written at log_head joins the log: at its end, or, when it
 * says what one of the last LOG_WINDOW lines said, in that one's place
 * moved to the end, its count one more.
 */
static void log_commit(struct top_app *app)
{
	struct top_logline *l = &app->log[app->log_head];
	int i, n = app->log_n;

	l->repeat = 1;
	l->hash = line_hash(l->text);
	for (i = n - 1; i >= 0 && i >= n - LOG_WINDOW; i--) {
		struct top_logline *old = log_at(app, i);

		if (old->hash != l->hash || old->pid != l->pid ||
		    !same_line(old->text, l->text))
			continue;
		l->repeat = old->repeat + 1;
		for (; i < n - 1; i++)
			*log_at(app, i) = *log_at(app, i + 1);
		*log_at(app, n - 1) = *l;
		return;
	}
	app->log_head = (app->log_head + 1) % LOG_LINES;
	if (app->log_n < LOG_LINES)
		app->log_n++;
}

static int on_event(struct klpt_session *s, const struct klpt_event *ev,
		    void *ctx)
{
	struct top_app *app = ctx;
	struct top_logline *l = &app->log[app->log_head];
	struct history *e = NULL;
	bool quiet = false;
	int kind;

	(void)s;
	switch (ev->type) {
	case KLPT_EV_TASK_EXIT:
	case KLPT_EV_TASK_NEW:	/* a new task: the id's history is not its */
	case KLPT_EV_TASK_EXEC:	/* the id may name another thread now */
		hist_forget(app, ev->task.pid);
		/* fall through */
	case KLPT_EV_TASK_RENAME:
		/*
		 * Every fork, exec, rename and exit of the host: they update
		 * the model, but in the log (and as replay steps) they would
		 * push out and hide the lifecycle's own lines.
		 */
		quiet = true;
		break;
	default:
		break;
	}
	if (!quiet) {
		l->ts = ev->ts;
		l->pid = -1;
		format_event(ev, l->text, sizeof(l->text));
		top_utf8_cut(l->text, sizeof(l->text));
		if (ev->type == KLPT_EV_TASK_BLOCKED ||
		    ev->type == KLPT_EV_TASK_SWITCH) {
			l->pid = ev->task.pid;
			e = hist_slot(app, ev->task.pid,
				      ev->type == KLPT_EV_TASK_BLOCKED);
		}
		l->repeat = 1;
		if (e)
			hist_add(e, l);
		log_commit(app);
	}
	/* the model changed either way: the next frame shows it */
	if (!app->unshown_ts && ev->ts)
		app->unshown_ts = ev->ts;

	if (!app->replay)
		return 0;
	if (!app->first_ts && ev->ts)
		app->first_ts = ev->ts;
	/* Synthetic events (LOST, RESYNC) have no time of their own. */
	if (ev->ts > app->last_ts)
		app->last_ts = ev->ts;
	if (app->want && klpt_event_patch(ev) &&
	    !strcmp(klpt_event_patch(ev), app->want))
		app->want_seen = true;
	kind = seek_kind(ev);
	if (kind != TOP_SEEK_EVENT)
		mark_add(app, ev->ts, kind);
	if (app->seek.on && !app->seek.by_kind && ev->ts >= app->seek.ts) {
		app->stopped = true;
		return 1;
	}
	if (app->stepping && !quiet &&
	    (app->stop_kind == TOP_SEEK_EVENT || app->stop_kind == kind)) {
		app->stopped = true;
		return 1;
	}
	return 0;
}

const char *top_logline_text(const struct top_logline *l, char *buf,
			     size_t size)
{
	if (l->repeat <= 1)
		return l->text;
	snprintf(buf, size, "%s (x%u)", l->text, l->repeat);
	return buf;
}

int top_app_log_count(const struct top_app *app)
{
	return app->log_n;
}

const struct top_logline *top_app_log_at(const struct top_app *app, int i)
{
	if (i < 0 || i >= app->log_n)
		return NULL;
	return &app->log[(app->log_head - app->log_n + i + LOG_LINES) %
			 LOG_LINES];
}

/* ------------------------------------------------------ open and close */

static void open_error(const struct top_config *cfg, int err)
{
	char shown[PATH_MAX], why_s[PATH_MAX + 256];

	if (cfg->replay) {
		/*
		 * The library names the file and says why; a path is
		 * anyone's bytes: both escaped (esc.c).
		 */
		const char *why = top_esc_text(why_s, sizeof(why_s),
					       klpt_replay_error());
		const char *path = top_esc_text(shown, sizeof(shown),
						cfg->replay);

		switch (err) {
		case ENOENT:
			fprintf(stderr, PROG ": %s: no such file or directory\n",
				path);
			break;
		case EINVAL:
		case EBADMSG:
			fprintf(stderr, PROG ": %s: not a klptrace recording "
				"or trace.dat, or corrupt%s%s\n", path,
				*why ? ": " : "", why);
			break;
		default:
			fprintf(stderr, PROG ": %s: cannot replay: %s\n",
				path, *why ? why : strerror(err));
		}
		return;
	}
	switch (err) {
	case EPERM:
	case EACCES:
		fprintf(stderr, PROG ": permission denied: run as root "
			"(tracefs and /sys/kernel/livepatch need it), or "
			"--replay a recording\n");
		break;
	case ENODEV:
		fprintf(stderr, PROG ": no tracefs: this kernel has no "
			"tracing, or tracefs cannot be mounted\n");
		break;
	case EOPNOTSUPP:
		fprintf(stderr, PROG ": this kernel has no livepatch support "
			"(no /sys/kernel/livepatch)\n");
		break;
	default:
		fprintf(stderr, PROG ": cannot start tracing: %s\n",
			strerror(err));
	}
}

int top_app_open(const struct top_config *cfg, struct top_app **out)
{
	KLPT_OPTS_INIT(klpt_session_opts, opts);
	struct top_app *app;
	char shown[PATH_MAX];
	int ret;

	app = calloc(1, sizeof(*app));
	if (!app) {
		fprintf(stderr, PROG ": out of memory\n");
		return -ENOMEM;
	}
	opts.on_event = on_event;
	opts.ctx = app;
	opts.tracefs_dir = cfg->tracefs_dir;
	opts.root = cfg->root;
	if (cfg->fallback)
		opts.flags |= KLPT_F_FALLBACK;
	app->root = cfg->root ? cfg->root : "";
	app->speed = cfg->speed;
	app->playing = cfg->speed > 0;
	if (app->speed <= 0)
		app->speed = 1;
	if (cfg->replay) {
		app->replay = true;
		ret = klpt_session_open_replay(cfg->replay, &opts, &app->s);
	} else {
		ret = klpt_session_open_live(&opts, &app->s);
	}
	if (ret) {
		open_error(cfg, -ret);
		free(app);
		return ret;
	}
	if (app->replay && !klpt_session_sees_exits(app->s))
		fprintf(stderr, PROG ": warning: %s has no sched_process_exit "
			"events: tasks are counted per transition, and one "
			"that exits stays listed until its transition "
			"completes\n",
			top_esc_text(shown, sizeof(shown), cfg->replay));
	if (cfg->record_dir) {
		ret = klpt_session_record(app->s, cfg->record_dir);
		if (ret) {
			fprintf(stderr, PROG ": cannot record into %s: %s\n",
				top_esc_text(shown, sizeof(shown),
					     cfg->record_dir),
				ret == -EEXIST || ret == -ENOTEMPTY ?
				"it exists and is not empty" :
				ret == -EPERM ? "not a new directory nor an "
				"empty one of yours that only you can write" :
				strerror(-ret));
			top_app_close(app);
			return ret;
		}
		app->record_dir = cfg->record_dir;
		app->screen = cfg->output == TOP_OUT_SCREEN;
	}
	app->last_tick = top_mono_ns();
	*out = app;
	return 0;
}

void top_app_close(struct top_app *app)
{
	if (!app)
		return;
	klpt_session_close(app->s);
	free(app->hist);
	free(app->marks);
	free(app);
}

struct klpt_session *top_app_session(const struct top_app *app)
{
	return app->s;
}

bool top_app_is_replay(const struct top_app *app)
{
	return app->replay;
}

const char *top_app_root(const struct top_app *app)
{
	return app->root;
}

const char *top_app_module_file(const struct top_app *app,
				const char *module)
{
	int i;

	for (i = 0; i < MOD_FILES; i++)
		if (app->mod_file[i].path[0] &&
		    !strcmp(app->mod_file[i].module, module))
			return app->mod_file[i].path;
	return NULL;
}

void top_app_note_module_file(struct top_app *app, const char *module,
			      const char *path)
{
	int i;

	/* a module loaded again: its newest file */
	for (i = 0; i < MOD_FILES; i++)
		if (!strcmp(app->mod_file[i].module, module))
			app->mod_file[i].path[0] = '\0';
	i = app->mod_file_next;
	app->mod_file_next = (i + 1) % MOD_FILES;
	snprintf(app->mod_file[i].module, sizeof(app->mod_file[i].module),
		 "%s", module);
	snprintf(app->mod_file[i].path, sizeof(app->mod_file[i].path), "%s",
		 path);
}

/* ------------------------------------------------------------ running */

/*
 * Apply replay events up to the next one of kind (enum top_seek: any
 * event that is not a task's fork, exec, rename or exit, a pass, a
 * transition's beginning or end); 0 at the end.
 */
static int replay_step_to(struct top_app *app, int kind)
{
	int ret, n = 0;

	app->stop_kind = kind;
	app->stepping = true;
	do {
		ret = app->ended ? 0 : klpt_session_process(app->s);
		if (ret == 0)
			app->ended = true;
		if (ret > 0)
			n += ret;
	} while (ret > 0 && kind != TOP_SEEK_EVENT && !app->stopped);
	app->stepping = app->stopped = false;
	app->stop_kind = TOP_SEEK_EVENT;
	return ret < 0 ? ret : n;
}

/* Apply one replay event; 0 at the end. */
static int replay_step(struct top_app *app)
{
	return replay_step_to(app, TOP_SEEK_EVENT);
}

/*
 * A replay is paced by its clock: events are applied one at a time while
 * the last one applied is not past the clock.  The library has no
 * "peek": the event that crosses the clock is applied too, so the model
 * is at most one event ahead of the clock (top_app_now() shows that
 * event's time then).
 */
static int replay_to_clock(struct top_app *app, uint64_t deadline)
{
	int n = 0, ret;

	if (app->clock == UINT64_MAX) {
		/* everything, in big batches */
		while (!app->ended) {
			ret = klpt_session_process(app->s);
			if (ret < 0)
				return ret;
			if (ret == 0)
				app->ended = true;
			n += ret;
			if (top_mono_ns() >= deadline)
				break;
		}
		return n;
	}
	while (!app->ended && (!app->first_ts || app->last_ts <= app->clock)) {
		ret = replay_step(app);
		if (ret < 0)
			return ret;
		n += ret;
		if (app->first_ts && app->clock < app->first_ts)
			app->clock = app->first_ts;	/* the clock starts */
		if (top_mono_ns() >= deadline)
			break;
	}
	return n;
}

/* A seek is over (done, or stopped where it is): paused there. */
static void seek_end(struct top_app *app)
{
	app->seek.on = false;
	app->stepping = app->stopped = false;
	app->stop_kind = TOP_SEEK_EVENT;
	if (app->seek.by_kind)
		app->clock = app->last_ts;
	else
		app->clock = app->last_ts > app->first_ts ? app->last_ts :
			     app->first_ts;
}

/*
 * A slice of the seek, budget_ms at most: 1 while it goes on, 0 once it
 * is over, or a negative errno (it is over then too).  By time it is
 * klpt_session_process()'s batches, on_event() stopping at the first
 * event at or after the time; by kind, a step.
 */
static int seek_run(struct top_app *app, int budget_ms)
{
	uint64_t deadline = top_mono_ns() + (uint64_t)budget_ms * 1000000u;
	int ret = 0;

	if (!app->seek.by_kind && (!app->seek.ts || app->last_ts >= app->seek.ts)) {
		seek_end(app);
		return 0;
	}
	app->stepping = app->seek.by_kind;
	app->stop_kind = app->seek.kind;
	do {
		ret = app->ended ? 0 : klpt_session_process(app->s);
		if (ret == 0)
			app->ended = true;
	} while (ret > 0 && !app->stopped && top_mono_ns() < deadline);
	app->stepping = false;
	if (ret < 0 || app->ended || app->stopped) {
		seek_end(app);
		return ret < 0 ? ret : 0;
	}
	return 1;
}

bool top_app_recording_ended(struct top_app *app, int ret)
{
	struct top_logline *l = &app->log[app->log_head];

	if (!app->record_dir || klpt_session_recording(app->s))
		return false;
	l->ts = top_mono_ns();	/* live sessions trace on the mono clock */
	l->pid = -1;
	snprintf(l->text, sizeof(l->text), "recording stopped: %s",
		 strerror(-ret));
	log_commit(app);
	if (!app->screen)
		fprintf(stderr, PROG ": recording into %s stopped: %s; tracing "
			"goes on\n", app->record_dir, strerror(-ret));
	app->record_dir = NULL;
	return true;
}

int top_app_process(struct top_app *app, int budget_ms)
{
	uint64_t deadline = top_mono_ns() + (uint64_t)budget_ms * 1000000u;
	int n = 0, ret;

	if (app->replay) {
		if (app->seek.on) {
			/*
			 * Its end is a frame to build; on the way the
			 * screen's own frames show the model (a build per
			 * slice would cost the seek most of its time).
			 */
			ret = seek_run(app, budget_ms);
			return ret < 0 ? ret : !ret;
		}
		if (!app->playing && app->clock != UINT64_MAX)
			return 0;
		return replay_to_clock(app, deadline);
	}
	do {
		ret = klpt_session_process(app->s);
		if (ret < 0 && top_app_recording_ended(app, ret))
			ret = 1;	/* the pages read meanwhile still wait */
		else if (ret < 0)
			return ret;
		else
			n += ret;
	} while (ret > 0 && top_mono_ns() < deadline);
	return n;
}

int top_app_poll(struct top_app *app, int timeout_ms)
{
	int ret;

	if (app->replay)
		return top_app_process(app, 50);
	ret = klpt_session_poll(app->s, timeout_ms);
	if (ret < 0 && top_app_recording_ended(app, ret))
		ret = 1;
	if (ret <= 0)
		return ret;
	/*
	 * and whatever came meanwhile, within the caller's time: a steady
	 * stream would otherwise hold a -b frame back by the whole budget
	 */
	ret += top_app_process(app, timeout_ms >= 0 && timeout_ms < 50 ?
				    timeout_ms : 50) > 0;
	return ret;
}

uint64_t top_app_now(const struct top_app *app)
{
	if (!app->replay)
		return top_mono_ns();
	/* the clock stops at the recording's end: its last event */
	if (app->clock == UINT64_MAX || app->last_ts > app->clock ||
	    app->ended)
		return app->last_ts;
	return app->clock;
}

void top_app_tick(struct top_app *app)
{
	uint64_t now = top_mono_ns(), dt = now - app->last_tick;

	app->last_tick = now;
	if (!app->replay || !app->playing || app->clock == UINT64_MAX ||
	    !app->first_ts || app->ended)
		return;
	app->clock += (uint64_t)((double)dt * app->speed);
}

const char *top_app_kernel(const struct top_app *app)
{
	const char *k = klpt_session_kernel(app->s);

	/* live: the root's osrelease (a test's fake has its own), or uname */
	return k[0] || app->replay ? k : top_kernel_release();
}

/*
 * Back to the recording's start (klpt_session_rewind()): what was fed by
 * its events goes too, and comes again as they are replayed.
 */
static int rewind_replay(struct top_app *app)
{
	int ret = klpt_session_rewind(app->s);

	if (ret)
		return ret;
	app->log_head = app->log_n = 0;
	if (app->hist)
		memset(app->hist, 0, HIST_TASKS * sizeof(*app->hist));
	app->nhist = 0;
	app->last_ts = 0;
	app->unshown_ts = 0;
	app->ended = false;
	return 0;
}

int top_app_seek(struct top_app *app, uint64_t ts)
{
	int ret;

	if (!app->replay)
		return 0;
	app->playing = false;
	app->seek.on = false;
	if (ts < app->last_ts || (app->ended && ts < UINT64_MAX)) {
		ret = rewind_replay(app);
		if (ret)
			return ret;
	}
	app->seek.on = true;
	app->seek.by_kind = false;
	app->seek.ts = ts;
	/* a short seek is over before the next frame */
	ret = seek_run(app, SEEK_FIRST_MS);
	return ret < 0 ? ret : 0;
}

/*
 * To off nanoseconds after the replay's first event.  Before any event
 * was applied its time is not known (0): the first one is applied now,
 * else the seek would go to off after the clock's zero, before
 * everything (g 2 at the start stayed at +0.000s).
 */
int top_app_seek_from_start(struct top_app *app, uint64_t off)
{
	int ret;

	if (!app->replay)
		return 0;
	if (!app->first_ts && !app->ended) {
		ret = replay_step(app);
		if (ret < 0)
			return ret;
	}
	if (off > UINT64_MAX - app->first_ts)
		off = UINT64_MAX - app->first_ts;
	return top_app_seek(app, app->first_ts + off);
}

int top_app_seek_mark(struct top_app *app, int kind, int dir)
{
	int i, ret;

	if (!app->replay)
		return 0;
	app->playing = false;
	if (dir > 0) {
		if (app->ended)
			return 0;
		app->seek.on = true;
		app->seek.by_kind = true;
		app->seek.kind = kind;
		ret = seek_run(app, SEEK_FIRST_MS);
		return ret < 0 ? ret : 1;
	}
	/* the last mark of kind before what is shown (all seen by now) */
	for (i = app->nmarks - 1; i >= 0; i--)
		if (app->marks[i].kind == kind &&
		    app->marks[i].ts < app->last_ts)
			break;
	if (i < 0) {
		ret = top_app_seek(app, 0);
		return ret < 0 ? ret : 0;
	}
	ret = top_app_seek(app, app->marks[i].ts);
	return ret < 0 ? ret : 1;
}

bool top_app_seeking(const struct top_app *app)
{
	return app->replay && app->seek.on;
}

void top_app_seek_cancel(struct top_app *app)
{
	if (app->seek.on)
		seek_end(app);
}

int top_app_seek_progress(const struct top_app *app)
{
	uint64_t done, total, span;

	if (!app->seek.on)
		return -1;
	/* a time: how much of the way there, by the events' times */
	if (!app->seek.by_kind && app->seek.ts != UINT64_MAX &&
	    app->first_ts && app->seek.ts > app->first_ts) {
		span = app->seek.ts - app->first_ts;
		done = app->last_ts > app->first_ts ?
		       app->last_ts - app->first_ts : 0;
		return (int)(done >= span ? 99 : done * 100 / span);
	}
	/* the end or the next mark: how much of the recording is read */
	if (klpt_session_replay_progress(app->s, &done, &total) || !total)
		return -1;
	return (int)(done >= total ? 99 : done * 100 / total);
}

bool top_app_replay_names(struct top_app *app, const char *name)
{
	struct klpt_session *s = app->s;
	int ret;

	if (klpt_patch_find(s, name) || klpt_module_find(s, name))
		return true;
	app->want = name;
	app->want_seen = false;
	do {
		ret = klpt_session_process(s);
	} while (ret > 0 && !app->want_seen);
	app->want = NULL;
	/* from the start again: the frames begin where they would have */
	if (rewind_replay(app))
		return true;	/* cannot tell: the replay says it */
	return app->want_seen;
}

void top_app_set_clock(struct top_app *app, uint64_t clock)
{
	app->clock = clock;
}

void top_app_set_playing(struct top_app *app, bool playing)
{
	if (!app->replay)
		return;
	top_app_seek_cancel(app);	/* play from where it got */
	app->playing = playing;
	app->last_tick = top_mono_ns();
	/* resume from what is shown, not from where the clock ran ahead */
	if (playing && app->last_ts > app->clock && app->clock != UINT64_MAX)
		app->clock = app->last_ts;
}

bool top_app_playing(const struct top_app *app)
{
	return app->replay && app->playing && !app->ended;
}

void top_app_set_speed(struct top_app *app, double speed)
{
	if (speed > 0)
		app->speed = speed;
}

double top_app_speed(const struct top_app *app)
{
	return app->speed;
}

int top_app_step(struct top_app *app)
{
	int ret;

	if (!app->replay)
		return 0;
	top_app_seek_cancel(app);	/* a step from where it got */
	ret = replay_step(app);
	if (ret > 0 && app->clock != UINT64_MAX)
		app->clock = app->last_ts;
	return ret;
}

uint64_t top_app_replay_last(const struct top_app *app)
{
	return app->last_ts;
}

bool top_app_ended(const struct top_app *app)
{
	return app->replay && app->ended;
}

uint64_t top_app_replay_start(const struct top_app *app)
{
	return app->first_ts;
}

uint64_t top_app_clock(const struct top_app *app)
{
	return app->clock;
}

uint64_t top_app_take_unshown(struct top_app *app)
{
	uint64_t ts = app->unshown_ts;

	app->unshown_ts = 0;
	return ts;
}
