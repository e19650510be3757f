// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Loading a livepatch: klptop --load MODULE.ko [--wait-complete]
 * [--timeout S] [--on-stall=report|disable|disable-unload]
 * [--stall-after S], and the screen's L key.
 *
 * The load is the library's klpt_patch_load(): the file checked on the
 * descriptor the kernel then reads (no symbolic link, root's or the
 * caller's and writable by nobody else, a livepatch module), one
 * finit_module() never retried with init_module() (a failing init runs
 * once), and when the kernel refuses it, its errno and the kernel log's
 * lines of that load.  In 6.1 finit_module() returns after the module's
 * init, that is after klp_enable_patch() started the transition; the
 * session is open before the load, so it sees the whole transition.
 *
 * Following it (klpt_wait_transition()): a line per change of what
 * matters (fewer tasks left, the blockers or their reasons, the kernel's
 * signals), never one per pass.  Stalled is the model's verdict: no task
 * switched for --stall-after seconds, not a clock since the load.  The
 * kernel signals the tasks left every 15 passes itself
 * (klp_send_signals()): that is reported, klptop sends nothing.
 *
 * On a stall (or --timeout), the policy:
 *   report          nothing is written: the transition goes on
 *   disable         0 to enabled: the kernel reverses the transition
 *                   (klp_reverse_transition()); the reverse is followed
 *                   the same way, then the free work and the module
 *                   reference (the script's wait until READY)
 *   disable-unload  the same, then delete_module() (script.c)
 * A reverse that stalls too is said with the state the kernel is in,
 * and nothing more is done: forcing it would leave a module that can
 * never be unloaded, the operator's call (--force).
 *
 * --timeout is one deadline counted from the load: it bounds the
 * patching transition, the reverse and the wait for READY together, so
 * a wrapper can rely on it as the command's bound (--stall-after, below
 * it, leaves the policy time to act).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "klptop.h"

/* Patches enabled before a load kept to say which a replace replaced. */
#define TOP_LOAD_BEFORE 32

/* How often the transition is looked at (lines only on a change). */
#define FOLLOW_INTERVAL_MS 250

/* What the flow follows: the patch and what its last lines said. */
struct follow {
	const struct top_config *cfg;
	struct top_app *app;
	const char *name;		/* the module's, the patch's name */
	uint64_t start;			/* the load's time (mono ns) */
	uint64_t said;			/* hash of the last state said */
	unsigned int signals;		/* the kernel's signals said */
	uint64_t stalled_ms;		/* since a task last switched */
	bool any;			/* a state line was said */
	char before[TOP_LOAD_BEFORE][64];	/* patches enabled before */
	int nbefore;
};

/* "ENODEV" (the kernel's name for it), or "errno N". */
static const char *err_name(int err, char *buf, size_t size)
{
	const char *n = strerrorname_np(err);

	if (n)
		return n;
	snprintf(buf, size, "errno %d", err);
	return buf;
}

static int to_ms(double s)
{
	return s * 1000 >= INT_MAX ? INT_MAX : (int)(s * 1000 + 0.5);
}

static double since(const struct follow *f)
{
	return (double)(top_mono_ns() - f->start) / 1e9;
}

/*
 * What is left of --timeout, counted from the load, in ms for
 * klpt_wait_transition(): 0 without a timeout (none), at least 1 (an
 * expired deadline still gets one look, never "no timeout").
 */
static int left_ms(const struct follow *f)
{
	double left = f->cfg->timeout_s - since(f);

	if (f->cfg->timeout_s <= 0)
		return 0;
	return left * 1000 < 1 ? 1 : to_ms(left);
}

/*
 * /sys/kernel/livepatch/NAME/ATTR (enabled, transition) as the kernel
 * has it now: 0 or 1, -1 if unreadable (the directory is gone).
 */
static int lp_attr(const struct top_config *cfg, const char *name,
		   const char *attr)
{
	char path[PATH_MAX], buf[8] = "";
	FILE *fp;

	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch/%s/%s",
		 cfg->root ? cfg->root : "", name, attr);
	fp = fopen(path, "re");
	if (!fp)
		return -1;
	if (!fgets(buf, sizeof(buf), fp))
		buf[0] = '\0';
	fclose(fp);
	return buf[0] == '1' ? 1 : buf[0] == '0' ? 0 : -1;
}

/* FNV-1a over n bytes, continuing h. */
static uint64_t hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

/*
 * What a state line says, as a hash: the direction and phase, the tasks
 * not switched, and each blocker with its reason and function.  The
 * pass and the blocked times move every second: not part of it.
 */
static uint64_t state_hash(const struct top_patch *p)
{
	uint64_t h = 0xcbf29ce484222325ull;
	int i;

	h = hash(h, &p->target, sizeof(p->target));
	h = hash(h, &p->phase, sizeof(p->phase));
	h = hash(h, &p->switched, sizeof(p->switched));
	h = hash(h, &p->unknown, sizeof(p->unknown));
	for (i = 0; i < p->nblockers; i++) {
		const struct top_blocker *b = &p->blockers[i];

		h = hash(h, &b->pid, sizeof(b->pid));
		h = hash(h, &b->reason, sizeof(b->reason));
		h = hash(h, b->func, strlen(b->func));
	}
	return h;
}

/* The patch's row in v (not a module-only row), or NULL. */
static const struct top_patch *patch_row(const struct top_view *v,
					 const char *name)
{
	int i;

	for (i = 0; i < v->npatches; i++)
		if (!v->patches[i].module_only &&
		    !strcmp(v->patches[i].name, name))
			return &v->patches[i];
	return NULL;
}

/* One state line and its blockers. */
static void say_state(struct follow *f, const struct top_patch *p,
		      uint64_t stalled_ms, const char *what)
{
	char name[sizeof(p->name)], pass[16], switched[32];

	printf("[%5.1fs] %s: %s%s%s pass %s, %s switched", since(f),
	       top_esc_text(name, sizeof(name), p->name), what,
	       *what ? ": " : "",
	       p->phase == KLPT_PHASE_INIT ? (p->target == KLPT_UNPATCHED ?
					       "pre-unpatch" : "pre-patch") :
	       top_direction(p), top_fmt_count(pass, sizeof(pass), p->pass),
	       top_fmt_switched(switched, sizeof(switched), p));
	if (p->nblockers_all)
		printf(", %d not switched (none for %.1fs)", p->nblockers_all,
		       (double)stalled_ms / 1000);
	putchar('\n');
	top_script_blockers(p);
	f->said = state_hash(p);
	f->any = true;
}

/*
 * The kernel's own retry: every 15 passes (SIGNALS_TIMEOUT) it sends a
 * fake signal to the user tasks left and wakes their kernel threads.
 */
static void say_signals(struct follow *f, const struct top_patch *p)
{
	char name[sizeof(p->name)], pass[16];

	if (p->signals == KLPT_UNKNOWN_COUNT || p->signals == f->signals)
		return;
	if (p->signals > 0 && p->signals != KLPT_UNKNOWN_COUNT)
		printf("[%5.1fs] %s: the kernel signalled the tasks not "
		       "switched (pass %s, signal %u: it does so every 15 "
		       "passes; klptop sends nothing)\n", since(f),
		       top_esc_text(name, sizeof(name), p->name),
		       top_fmt_count(pass, sizeof(pass), p->pass), p->signals);
	f->signals = p->signals;
}

/*
 * The view of the followed patch now: its state said when it changed
 * (always with force).  -ENOMEM, or 0.
 */
static int look(struct follow *f, uint64_t stalled_ms, const char *what,
		bool force)
{
	struct top_view v;
	const struct top_patch *p;

	if (top_view_build(&v, f->app, f->name, NULL, f->cfg->sort,
			   f->cfg->sort_reverse))
		return -ENOMEM;
	p = patch_row(&v, f->name);
	if (p && p->transition) {
		say_signals(f, p);
		if (force || !f->any || state_hash(p) != f->said)
			say_state(f, p, stalled_ms, what);
	}
	top_view_free(&v);
	return 0;
}

/* klpt_wait_transition()'s progress: a non-zero return ends the wait. */
static int progress(struct klpt_session *s, const struct klpt_patch *p,
		    unsigned int pending, uint64_t stalled_ms, void *ctx)
{
	(void)s;
	(void)p;
	(void)pending;
	if (top_stop_signal)
		return -EINTR;
	((struct follow *)ctx)->stalled_ms = stalled_ms;
	return look(ctx, stalled_ms, "", false);
}

/*
 * Follow the transition of f->name until it is over: 0, or -EBUSY
 * (stalled), -ETIMEDOUT (timeout_ms, 0: none), -EINTR (a stop signal),
 * another -errno.
 */
static int follow(struct follow *f, int timeout_ms)
{
	struct klpt_wait_opts o = {
		.sz = sizeof(o),
		.timeout_ms = timeout_ms,
		.stall_ms = to_ms(f->cfg->stall_after_s),
		.interval_ms = FOLLOW_INTERVAL_MS,
		.progress = progress,
		.ctx = f,
	};

	return klpt_wait_transition(top_app_session(f->app), f->name, &o);
}

/*
 * Stalled: at least --stall-after since a task last switched, though
 * the last progress call, which saw less, may be an interval older.
 */
static void stalled_floor(struct follow *f)
{
	uint64_t ms = (uint64_t)to_ms(f->cfg->stall_after_s);

	if (f->stalled_ms < ms)
		f->stalled_ms = ms;
}

/* The patch's enabled as the model has it: 1, 0, or -1 if gone. */
static int enabled(const struct follow *f)
{
	const struct klpt_patch *p =
		klpt_patch_find(top_app_session(f->app), f->name);

	return p && !klpt_patch_released(p) ? klpt_patch_enabled(p) : -1;
}

/* A stop signal: said, and its exit code. */
static int interrupted(const char *name_s, const char *state)
{
	fprintf(stderr, PROG ": interrupted by signal %d: %s %s\n",
		(int)top_stop_signal, name_s, state);
	return TOP_EXIT_SIGNAL + top_stop_signal;
}

/*
 * A stop signal during a follow: the state the kernel's files give now
 * (the transition may have ended between the last look and the signal).
 */
static int interrupted_now(const struct follow *f, const char *name_s)
{
	int on = lp_attr(f->cfg, f->name, "enabled");
	int tr = lp_attr(f->cfg, f->name, "transition");

	if (tr == 1)
		return interrupted(name_s, on == 1 ? "stays loaded; its "
				   "patching transition goes on" : "was "
				   "disabled; its unpatch transition goes on");
	if (tr == 0)
		return interrupted(name_s, on == 1 ? "stays loaded; its "
				   "patching transition completed" : "stays "
				   "loaded; its patch is disabled (no "
				   "transition)");
	return interrupted(name_s, "stays loaded; its patch directory is "
			   "gone (disabled and freed)");
}

/*
 * The transition ended (transition 0) while the verdict was being said:
 * the kernel has no "reverse only while in transition", so writing 0 to
 * enabled now would start a new unpatch of a completed patch.  Checked
 * right before the write; the window left is that of two syscalls.
 */
static bool completed_meanwhile(const struct follow *f, const char *name_s)
{
	if (lp_attr(f->cfg, f->name, "transition") != 0 ||
	    lp_attr(f->cfg, f->name, "enabled") != 1)
		return false;
	printf("[%5.1fs] %s: the patching transition completed meanwhile "
	       "(after the verdict, before the reverse): the patch is "
	       "enabled; nothing was reversed\n", since(f), name_s);
	return true;
}

/* The load did not complete: the closing line, what was done. */
static void not_completed(const char *name_s, const char *done)
{
	printf("%s: the load did not complete; %s\n", name_s, done);
}

/*
 * After a stall or a timeout: reverse the transition and follow the
 * reverse, then wait until the module can go and (disable-unload) remove
 * it.  TOP_EXIT_TIMEOUT when all of it was done (the load did not
 * complete), TOP_EXIT_ERROR when an action failed.
 */
static int roll_back(struct follow *f, const char *name_s)
{
	char why[64];
	struct top_config cfg = *f->cfg;
	bool unload = f->cfg->on_stall == TOP_STALL_DISABLE_UNLOAD;
	int ret, code;

	if (completed_meanwhile(f, name_s))
		return TOP_EXIT_OK;
	if (top_script_disable(f->app, f->name, false, f->name) != TOP_EXIT_OK)
		return TOP_EXIT_ERROR;
	ret = follow(f, left_ms(f));
	if (ret == -EINTR || (ret && top_stop_signal))
		return interrupted_now(f, name_s);
	if (ret == -ETIMEDOUT) {
		snprintf(why, sizeof(why), "timeout after %gs (from the load)",
			 f->cfg->timeout_s);
		look(f, f->stalled_ms, why, true);
		printf("%s: %s: the reverse runs: the kernel is in an unpatch "
		       "transition (enabled 0, transition 1); nothing more was "
		       "done (follow it: klptop -p %s --wait-unload)\n",
		       name_s, why, name_s);
		not_completed(name_s, "disabled; the reverse did not complete "
			      "by the --timeout");
		return TOP_EXIT_TIMEOUT;
	}
	if (ret == -EBUSY) {
		stalled_floor(f);
		look(f, f->stalled_ms, "the reverse stalled too", true);
		printf("%s: the reverse stalled: the kernel is in an unpatch "
		       "transition (enabled 0, transition 1) that the tasks "
		       "above hold; nothing more was done (they may still "
		       "switch; forcing it would leave a module that can never "
		       "be unloaded)\n", name_s);
		not_completed(name_s, "disabled; the reverse stalled");
		return TOP_EXIT_TIMEOUT;
	}
	/* freed before the wait saw it: its directory is gone, it is over */
	if (ret && ret != -ENOENT) {
		fprintf(stderr, PROG ": following the reverse of %s: %s\n",
			name_s, strerror(-ret));
		return TOP_EXIT_ERROR;
	}
	printf("[%5.1fs] %s: the reverse completed: the patch is disabled\n",
	       since(f), name_s);
	cfg.unload = unload;
	cfg.clock_ns = f->start;	/* the same deadline */
	code = top_script_unload(&cfg, f->app, f->name, f->name);
	if (code == TOP_EXIT_TIMEOUT)
		not_completed(name_s, "disabled (the reverse completed); the "
			      "module is still loaded: not ready to unload by "
			      "the --timeout");
	if (code != TOP_EXIT_OK)
		return code;
	not_completed(name_s, unload ?
		      "disabled (the reverse completed) and unloaded: the "
		      "module is gone" : "disabled (the reverse completed); "
		      "the module is loaded and can be removed (rmmod)");
	return TOP_EXIT_TIMEOUT;
}

/* Without --wait-complete: the transition's state as the load left it. */
static int loaded_only(const struct top_config *cfg, const char *name,
		       const char *name_s)
{
	int tr = lp_attr(cfg, name, "transition");

	if (tr == 1)
		printf("%s: its patching transition runs (follow it: klptop "
		       "-p %s)\n", name_s, name_s);
	else
		printf("%s: its patching transition %s\n", name_s,
		       tr == 0 ? "is complete" :
		       "is in an unknown state (no transition file)");
	return TOP_EXIT_OK;
}

/*
 * Why the kernel refused a load, in why (raw).  6.1 __klp_enable_patch()
 * returns -EBUSY while klp_transition_patch is set, before any printk:
 * the kernel log has no line, but the session knows the patch in
 * transition (it is open before the load).
 */
static void refused(struct klpt_session *s, int ret, char *why, size_t size)
{
	char other[64], tail[512];

	if (ret != -EBUSY)
		return;
	snprintf(tail, sizeof(tail), "%s", why);
	if (top_busy_patch(s, other, sizeof(other)))
		snprintf(why, size, "patch %s is in transition (follow it: "
			 "klptop -p %s); the kernel runs one transition at a "
			 "time: nothing was loaded", other, other);
	else
		snprintf(why, size, "no transition runs: the module's own "
			 "init refused (%s)", tail);
}

/* The patches enabled before the load (a replace's candidates). */
static void note_enabled(struct follow *f)
{
	struct klpt_session *s = top_app_session(f->app);
	int i, n = klpt_patch_count(s);

	for (i = 0; i < n && f->nbefore < TOP_LOAD_BEFORE; i++) {
		const struct klpt_patch *p = klpt_patch_at(s, i);

		if (klpt_patch_enabled(p) == 1 && !klpt_patch_released(p))
			snprintf(f->before[f->nbefore++],
				 sizeof(f->before[0]), "%s",
				 klpt_patch_name(p));
	}
}

/*
 * After a completed load: the patches enabled before that are not now.
 * In 6.1 an atomic replace's klp_complete_transition() sets the
 * replaced patches' enabled to 0 (klp_unpatch_replaced_patches())
 * before it clears klp_transition_patch (transition reads 0), then
 * frees them: their modules stay loaded for rmmod.
 */
static void say_replaced(const struct follow *f)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	char s[64];
	int i, n;

	/* the model may see the end before the file reads it: up to 1 s */
	for (n = 0; n < 100 && lp_attr(f->cfg, f->name, "transition") == 1;
	     n++)
		nanosleep(&tick, NULL);
	for (i = 0; i < f->nbefore; i++) {
		if (!strcmp(f->before[i], f->name) ||
		    lp_attr(f->cfg, f->before[i], "enabled") == 1)
			continue;
		top_esc_text(s, sizeof(s), f->before[i]);
		printf("[%5.1fs] replaced: %s (disabled by this atomic "
		       "replace; its module stays loaded until removed: "
		       "klptop -p %s --wait-unload --unload --yes)\n",
		       since(f), s, s);
	}
}

int top_load_run(const struct top_config *cfg, struct top_app *app)
{
	struct follow f = { .cfg = cfg, .app = app };
	char name[64] = "", name_s[64], path_s[PATH_MAX], why[1024], e[24];
	int ret, on;

	top_esc_text(path_s, sizeof(path_s), cfg->load);
	if (cfg->readonly) {
		fprintf(stderr, PROG ": read-only (--readonly): cannot load "
			"%s\n", path_s);
		return TOP_EXIT_ERROR;
	}
	note_enabled(&f);
	f.start = top_mono_ns();
	ret = klpt_patch_load(top_app_session(app), cfg->load, NULL, name,
			      sizeof(name), why, sizeof(why));
	/*
	 * A signal while finit_module() waits for a same-named module
	 * still being formed (add_unformed_module()): the init never ran.
	 */
	if (ret == -EINTR && top_stop_signal)
		return interrupted(path_s, "before the load: nothing was "
				   "loaded");
	refused(top_app_session(app), ret, why, sizeof(why));
	if (ret) {
		fprintf(stderr, PROG ": cannot load %s (%s): %s\n", path_s,
			err_name(-ret, e, sizeof(e)),
			top_esc_text(why, sizeof(why), why));
		return TOP_EXIT_ERROR;
	}
	f.name = name;
	top_esc_text(name_s, sizeof(name_s), name);
	printf("%s: loaded from %s (one finit_module)\n", name_s, path_s);
	if (!cfg->wait_complete)
		return loaded_only(cfg, name, name_s);

	ret = follow(&f, left_ms(&f));
	if (ret == -EINTR || (ret && top_stop_signal))
		return interrupted_now(&f, name_s);
	if (!ret) {
		on = enabled(&f);
		printf("[%5.1fs] %s: the patching transition %s\n", since(&f),
		       name_s, on == 1 ? "completed: the patch is enabled" :
		       "ended without it: the patch was disabled meanwhile");
		if (on == 1)
			say_replaced(&f);
		return on == 1 ? TOP_EXIT_OK : TOP_EXIT_TIMEOUT;
	}
	if (ret != -EBUSY && ret != -ETIMEDOUT) {
		fprintf(stderr, PROG ": following %s: %s\n", name_s,
			strerror(-ret));
		return TOP_EXIT_ERROR;
	}
	if (ret == -EBUSY) {
		snprintf(why, sizeof(why), "stalled: no task switched for "
			 "%gs", cfg->stall_after_s);
		stalled_floor(&f);
	} else {
		snprintf(why, sizeof(why), "timeout after %gs",
			 cfg->timeout_s);
	}
	if (look(&f, f.stalled_ms, why, true))
		return TOP_EXIT_ERROR;
	if (cfg->on_stall == TOP_STALL_REPORT) {
		printf("%s: %s; --on-stall=report: nothing done, the patching "
		       "transition goes on\n", name_s, why);
		return TOP_EXIT_TIMEOUT;
	}
	printf("%s: %s; --on-stall=%s: reversing it\n", name_s, why,
	       cfg->on_stall == TOP_STALL_DISABLE ? "disable" :
	       "disable-unload");
	return roll_back(&f, name_s);
}

bool top_load_key(struct top_app *app, const char *path, char *name,
		  size_t name_size, char *msg, size_t msg_size)
{
	char why[512], e[24];
	int ret;

	ret = klpt_patch_load(top_app_session(app), path, NULL, name,
			      name_size, why, sizeof(why));
	refused(top_app_session(app), ret, why, sizeof(why));
	if (ret) {
		snprintf(msg, msg_size, "loading %s failed (%s): %s", path,
			 err_name(-ret, e, sizeof(e)), why);
		return false;
	}
	top_app_note_module_file(app, name, path);
	snprintf(msg, msg_size, "%s: loaded; its patching transition started "
		 "(watch SWITCHED)", name);
	return true;
}
