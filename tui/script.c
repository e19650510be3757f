// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The scripted flow: --disable PATCH [--wait-unload [--timeout S]]
 * [--unload], -p PATCH --wait-unload, and --force PATCH.  Everything is
 * checked before anything is written: an action is either done
 * completely or not at all.
 *
 * PATCH names a patch or its module: in 6.1 klp_init_patch() names the
 * patch's directory /sys/kernel/livepatch/<patch> after patch->mod->name,
 * so both have the same name.  Once the directory is gone (the patch was
 * disabled, replaced by an atomic replace, or forced) the module may
 * still be loaded: the flow then acts on the module alone.
 *
 * Progress goes to stdout once a second: the verdict, the transition's
 * progress and the tasks that hold it.  Exit: 0 ready (or unloaded, or
 * already gone, or gone while being unloaded by someone else), 1 timeout
 * or forced (never unloadable; what holds it is listed), 2 error.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "klptop.h"

/* Blockers listed per progress line. */
#define SCRIPT_BLOCKERS 5

/*
 * How long a livepatch module whose patch directory is gone may keep
 * references before the flow concludes that its patch was forced.  In
 * 6.1 klp_free_patch_finish() removes the directory (kobject_put() ->
 * kobject_cleanup() -> __kobject_del(), synchronously: Debian builds
 * without CONFIG_DEBUG_KOBJECT_RELEASE), then klp_kobj_release_patch()
 * completes patch->finish, and the same work item goes on to
 * module_put() unless patch->forced, without sleeping in between.  So
 * the reference outlives the directory only while that kworker is
 * preempted; a forced patch's reference stays for good.  Seconds are
 * generous for a preemption even in a loaded TCG guest.
 */
#define GONE_SETTLE_S 3.0

static double now_s(void)
{
	return (double)top_mono_ns() / 1e9;
}

/*
 * A patch's blockers, one line each (at most SCRIPT_BLOCKERS, then how
 * many more): who, why its last check failed, for how long.
 */
void top_script_blockers(const struct top_patch *p)
{
	int j;

	for (j = 0; j < p->nblockers && j < SCRIPT_BLOCKERS; j++) {
		const struct top_blocker *b = &p->blockers[j];
		char blocked[16], checks[16], comm[sizeof(b->comm)];
		char func[sizeof(b->func)];

		printf("    blocker %s[%d]%s: %s%s%s, blocked %s, %s checks\n",
		       top_esc_text(comm, sizeof(comm), b->comm), b->pid,
		       b->kthread > 0 ? " (kthread)" : "",
		       top_reason_text(b->reason), b->func[0] ? " " : "",
		       top_esc_text(func, sizeof(func), b->func),
		       top_fmt_blocked(blocked, sizeof(blocked), b),
		       top_fmt_checks(checks, sizeof(checks), b));
	}
	if (p->nblockers > SCRIPT_BLOCKERS)
		printf("    ... and %d more\n", p->nblockers - SCRIPT_BLOCKERS);
}

/* The patch's state and what holds its module, prefixed by tag. */
void top_script_report(const struct top_config *cfg, struct top_app *app,
		       const char *patch, const char *tag)
{
	struct top_view v;
	int i;

	if (top_view_build(&v, app, patch, NULL, cfg->sort,
			   cfg->sort_reverse)) {
		char name[256];

		printf("%s %s: (out of memory)\n", tag,
		       top_esc_text(name, sizeof(name), patch));
		return;
	}
	for (i = 0; i < v.npatches; i++) {
		const struct top_patch *p = &v.patches[i];
		char pass[16], name[sizeof(p->name)], why[sizeof(p->why)];
		char switched[32];

		printf("%s %s: %s: %s", tag,
		       top_esc_text(name, sizeof(name), p->name),
		       klpt_verdict_name(p->verdict),
		       p->verdict == KLPT_READY ? "rmmod is safe now" :
		       top_esc_text(why, sizeof(why), p->why));
		if (p->transition)
			printf(" [%s pass %s, %s switched]",
			       top_direction(p), top_fmt_count(pass, sizeof(pass),
							      p->pass),
			       top_fmt_switched(switched, sizeof(switched), p));
		putchar('\n');
		top_script_blockers(p);
	}
	top_view_free(&v);
}

/*
 * The module is still in its init (initstate "coming"): a livepatch
 * module's init registers its patch (klp_enable_patch()), so no
 * directory yet does not mean gone.
 */
static bool coming(const struct top_config *cfg, const char *module)
{
	return top_module_initstate_is(cfg->root, module, "coming");
}

/*
 * The module is being unloaded (initstate "going"): in 6.1
 * delete_module() sets MODULE_STATE_GOING once try_stop_module()
 * succeeded, then runs its exit and frees it; another delete_module()
 * meanwhile fails with EBUSY ("already dying").  Its refcnt reads 0,
 * so the verdict says ready; what the user waits for happens anyway.
 */
static bool going(const struct top_config *cfg, const char *module)
{
	return top_module_initstate_is(cfg->root, module, "going");
}

/*
 * The session saw how the patch ended: klptrace.ko reports
 * klp_patch_free and klp_patch_release with the kernel's
 * patch->forced, which the model keeps (a forced one is
 * KLPT_HOLD_FORCED).  Without them (the fallback sees a directory
 * vanish) or without the patch (gone before the session) the end is
 * not known.
 */
static bool end_seen(struct klpt_session *s, const char *module)
{
	const struct klpt_patch *p = klpt_patch_find(s, module);

	return p && klpt_patch_released(p) &&
	       klpt_session_mode(s) == KLPT_MODE_EVENTS;
}

/*
 * A livepatch module whose patch is gone and that keeps references:
 * when they are neither its holders' nor dropped GONE_SETTLE_S after
 * they were first seen, the patch was forced (see GONE_SETTLE_S) or
 * something else holds the module (an open file whose f_op->owner it
 * is, a try_module_get() anywhere): no sysfs file tells which.  Only
 * inferred where the session did not see the patch end: one seen
 * unforced drops its reference, so a reference left is another user's
 * and the flow waits for it.  since and refs track the refcnt seen;
 * true when it looks forced.
 */
static bool gone_forced(const struct top_config *cfg, struct klpt_session *s,
			const struct klpt_module *m, double *since, int *refs)
{
	char names[256];
	int r = klpt_module_refcnt(m);

	if (coming(cfg, klpt_module_name(m))) {
		*refs = -1;	/* init holds a reference; the patch comes */
		return false;
	}
	if (r != *refs) {
		*refs = r;
		*since = now_s();
		return false;
	}
	return !end_seen(s, klpt_module_name(m)) &&
	       r > top_module_holders(cfg->root, klpt_module_name(m), names,
				      sizeof(names)) &&
	       now_s() - *since >= GONE_SETTLE_S;
}

/*
 * Inferred, not seen: say so.  Nothing in sysfs says "forced"; only a
 * session that saw the force knows (KLPT_HOLD_FORCED).
 */
static void held_line(const char *module, int refs, double secs)
{
	fprintf(stderr, PROG ": %s was forced, or is held by another user: "
		"its patch is gone but its module keeps %d reference%s that "
		"no module holds, %.0fs on (the kernel never drops a forced "
		"patch's reference): rmmod fails\n", module, refs,
		refs == 1 ? "" : "s", secs);
}

/* Wait until module is ready; an exit code. */
static int wait_ready(const struct top_config *cfg, struct top_app *app,
		      const char *patch, const char *module)
{
	struct klpt_session *s = top_app_session(app);
	double start = cfg->clock_ns ? (double)cfg->clock_ns / 1e9 : now_s();
	double elapsed, timeout = cfg->timeout_s;
	double gone_since = 0, dying_line = 0;
	int gone_refs = -1;
	bool said_going = false, held;
	char tag[32], mod_s[64], patch_s[256];

	top_esc_text(mod_s, sizeof(mod_s), module);	/* to print */

	for (;;) {
		const struct klpt_module *m;
		enum klpt_verdict v;
		int slice = 1000, ret = -ETIMEDOUT;
		bool dying = going(cfg, module);

		elapsed = now_s() - start;
		/*
		 * Rounded up: a slice truncated to 0 in the last
		 * millisecond would return at once, again and again.
		 */
		if (timeout > 0 && elapsed + 1 > timeout)
			slice = (int)((timeout - elapsed) * 1000 + 0.999);
		if (dying && !said_going) {
			printf("%s: being unloaded (initstate going): waiting "
			       "until it is gone\n", mod_s);
			said_going = true;
		}
		/*
		 * Dying: its verdict may say ready (refcnt 0), but
		 * delete_module() fails now; wait for it to go.
		 */
		if (slice > 0 && dying)
			ret = klpt_session_poll(s, slice);
		else if (slice > 0)
			ret = klpt_wait_unload_ready(s, module, slice);
		if (ret < 0 && top_app_recording_ended(app, ret))
			ret = -ETIMEDOUT;	/* not the wait's end */
		if (dying && ret >= 0)
			ret = -ETIMEDOUT;	/* events, not readiness */
		if (top_stop_signal) {
			fprintf(stderr, PROG ": interrupted by signal %d; "
				"nothing else was done\n", (int)top_stop_signal);
			return TOP_EXIT_SIGNAL + top_stop_signal;
		}
		m = klpt_module_find(s, module);
		if (ret == 0 && !going(cfg, module)) {
			printf("%s: ready to unload\n", mod_s);
			return TOP_EXIT_OK;
		}
		if (!m || ret == -ENOENT) {
			printf("%s: no longer loaded\n", mod_s);
			return TOP_EXIT_OK;
		}
		if (ret && ret != -ETIMEDOUT && ret != -EINTR) {
			fprintf(stderr, PROG ": waiting for %s: %s\n", mod_s,
				strerror(-ret));
			return TOP_EXIT_ERROR;
		}
		elapsed = now_s() - start;
		if (dying || going(cfg, module)) {
			if (timeout > 0 && elapsed >= timeout) {
				printf("timeout after %.0fs: %s: being "
				       "unloaded (initstate going)\n", elapsed,
				       mod_s);
				return TOP_EXIT_TIMEOUT;
			}
			/* once a second, not per event */
			if (elapsed - dying_line >= 1) {
				printf("[%4.0fs] %s: being unloaded "
				       "(initstate going)\n", elapsed, mod_s);
				dying_line = elapsed;
			}
			continue;
		}
		v = klpt_module_verdict(s, m, NULL, 0);
		if (v == KLPT_HOLD_FORCED) {
			top_script_report(cfg, app, patch, "forced:");
			fprintf(stderr, PROG ": %s was forced: its module can "
				"never be unloaded\n",
				top_esc_text(patch_s, sizeof(patch_s), patch));
			return TOP_EXIT_TIMEOUT;
		}
		/*
		 * KLPT_HOLD_REFS: the patch is freed and released (its
		 * directory gone) and the module still counted.
		 */
		held = v == KLPT_HOLD_REFS &&
		       gone_forced(cfg, s, m, &gone_since, &gone_refs);
		if (v != KLPT_HOLD_REFS)
			gone_refs = -1;
		/* with a --timeout, its end: the reference may still go */
		if (held && timeout <= 0) {
			top_script_report(cfg, app, patch, "forced:");
			held_line(mod_s, gone_refs, now_s() - gone_since);
			return TOP_EXIT_TIMEOUT;
		}
		if (timeout > 0 && elapsed >= timeout) {
			snprintf(tag, sizeof(tag), "timeout after %.0fs:",
				 elapsed);
			top_script_report(cfg, app, patch, tag);
			if (held)
				held_line(mod_s, gone_refs,
					  now_s() - gone_since);
			return TOP_EXIT_TIMEOUT;
		}
		/* the timeout's report follows at once: no line twice */
		if (timeout > 0 && timeout - elapsed < 0.05)
			continue;
		snprintf(tag, sizeof(tag), "[%4.0fs]", elapsed);
		top_script_report(cfg, app, patch, tag);
	}
}

/*
 * Write 0 to patch's enabled (see top_script_run()); gone: its directory
 * is known to be gone; module: its module's name, NULL if not loaded.  Says what it
 * did; TOP_EXIT_OK when the patch is disabled now (or was), else
 * TOP_EXIT_ERROR after one line on stderr.
 */
int top_script_disable(struct top_app *app, const char *patch, bool gone,
		       const char *module)
{
	struct klpt_session *s = top_app_session(app);
	char why[512], patch_s[256], mod_s[64];
	int ret = -EALREADY;

	top_esc_text(patch_s, sizeof(patch_s), patch);
	/*
	 * Written whatever enabled reads: an enable's pre-patch window
	 * reads 0 and the kernel reverses it (see klpt_patch_disable());
	 * its EINVAL says disabled.
	 */
	if (!gone)
		ret = klpt_patch_disable(s, patch);
	if (ret == -ENOENT && module) {
		gone = true;	/* the directory went meanwhile */
		ret = -EALREADY;
	} else if (ret == -EINVAL) {
		ret = -EALREADY;	/* the kernel: disabled already */
	}
	if (!ret) {
		printf("%s: disabled: the unpatch transition started\n",
		       patch_s);
	} else if (ret == -EBUSY) {
		top_busy_text(why, sizeof(why), s);
		fprintf(stderr, PROG ": cannot disable %s: %s\n", patch_s,
			top_esc_text(why, sizeof(why), why));
		return TOP_EXIT_ERROR;
	} else if (ret != -EALREADY) {
		fprintf(stderr, PROG ": cannot disable %s: %s\n", patch_s,
			strerror(-ret));
		return TOP_EXIT_ERROR;
	} else if (gone) {
		printf("%s: already disabled: its patch is gone from "
		       "/sys/kernel/livepatch (disabled, replaced or forced); "
		       "acting on module %s\n", patch_s,
		       top_esc_text(mod_s, sizeof(mod_s), module ? module : patch));
	} else {
		printf("%s: already disabled\n", patch_s);
	}
	return TOP_EXIT_OK;
}

/*
 * Wait until module can be unloaded (cfg->timeout_s), then with
 * cfg->unload remove it.  An exit code, said.
 */
int top_script_unload(const struct top_config *cfg, struct top_app *app,
		      const char *patch, const char *module)
{
	struct klpt_session *s = top_app_session(app);
	char why[512], mod_s[64];
	int ret, code;

	top_esc_text(mod_s, sizeof(mod_s), module);
	code = wait_ready(cfg, app, patch, module);
	if (code != TOP_EXIT_OK || !cfg->unload ||
	    !klpt_module_find(s, module))
		return code;
	ret = klpt_module_unload(s, module, why, sizeof(why));
	if (ret == -EBUSY && going(cfg, module))
		return wait_ready(cfg, app, patch, module);	/* rmmod'ed */
	if (ret) {
		fprintf(stderr, PROG ": cannot unload %s: %s\n", mod_s,
			ret == -EBUSY ? top_esc_text(why, sizeof(why), why) :
			strerror(-ret));
		return TOP_EXIT_ERROR;
	}
	printf("%s: unloaded\n", mod_s);
	return TOP_EXIT_OK;
}

int top_script_run(const struct top_config *cfg, struct top_app *app)
{
	struct klpt_session *s = top_app_session(app);
	const char *patch = cfg->disable ? cfg->disable :
			    cfg->force ? cfg->force : cfg->patch;
	const struct klpt_patch *p;
	const struct klpt_module *m;
	char module[64], patch_s[256], mod_s[64];
	int ret;

	/* what is printed: escaped (esc.c); patch and module are looked up */
	top_esc_text(patch_s, sizeof(patch_s), patch);

	/* Everything is checked first: nothing is half done. */
	p = klpt_patch_find(s, patch);
	m = p ? klpt_patch_module(s, p) : klpt_module_find(s, patch);
	if (!p && !m) {
		/* main() checked the name; it went away since */
		fprintf(stderr, PROG ": no livepatch named '%s'\n", patch_s);
		return TOP_EXIT_ERROR;
	}
	/* A copy: model strings live only until the next event. */
	snprintf(module, sizeof(module), "%s", m ? klpt_module_name(m) : patch);
	top_esc_text(mod_s, sizeof(mod_s), module);
	if (cfg->force && (!p || !klpt_patch_in_transition(p))) {
		fprintf(stderr, PROG ": %s is not in transition: nothing to "
			"force\n", patch_s);
		return TOP_EXIT_ERROR;
	}
	if (!p && cfg->disable && coming(cfg, module)) {
		fprintf(stderr, PROG ": %s is still loading (initstate coming): "
			"its patch is not registered yet; nothing to disable\n",
			mod_s);
		return TOP_EXIT_ERROR;
	}
	if (cfg->readonly) {
		fprintf(stderr, PROG ": read-only (--readonly or not root): "
			"cannot %s %s\n", cfg->force ? "force" :
			cfg->disable ? "disable" : "unload", patch_s);
		return TOP_EXIT_ERROR;
	}

	/* the directory is gone: the patch was freed and released */
	if (cfg->disable &&
	    top_script_disable(app, patch, !p || klpt_patch_released(p),
			       m ? module : NULL) != TOP_EXIT_OK)
		return TOP_EXIT_ERROR;
	if (cfg->force) {
		ret = klpt_patch_force(s, patch);
		if (ret) {
			fprintf(stderr, PROG ": cannot force %s: %s\n", patch_s,
				strerror(-ret));
			return TOP_EXIT_ERROR;
		}
		printf("%s: forced: the transition completes now; this "
		       "module can never be unloaded if it was unpatching\n",
		       patch_s);
	}
	if (!cfg->wait_unload)
		return TOP_EXIT_OK;
	return top_script_unload(cfg, app, patch, module);
}
