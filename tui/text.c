// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Batch frames (-b): what the screen shows, as plain text, one frame
 * after the other with a blank line between them, like top -b.  Lines
 * are stable in shape so that scripts (and the tests) can read them:
 *
 *   klptop HH:MM:SS  kernel K  MODE  events N  lost N  tasks N
 *     (a replay: +SECONDS from its start, K the recorded kernel or
 *     unknown, and "  end" once its last event is shown)
 *   PATCH ... header
 *   NAME ENABLED STATE PASS ELAPSED SWITCHED SIGNALS FORCED REFCNT VERDICT
 *     unload: VERDICT: WHY
 *     funcs: ?                      (not known to the session), or per function:
 *     func OBJECT/FUNCTION,SYMPOS live yes|no|? runs PATCH|-|?[ switching]
 *     details: ...                 (--patch-details: details.c)
 *     blockers: N of M tasks not switched (K shown)
 *       PID TGID COMM KT REASON FUNCTION BLOCKED CHECKS
 *       ...
 */
#include <string.h>
#include <time.h>

#include "klptop.h"

/* Blocker rows per patch in a batch frame: the rest is counted. */
#define TEXT_MAX_BLOCKERS 50

static void header(FILE *f, const struct top_view *v,
		   const struct top_app *app)
{
	char when[32], kernel[256];

	if (top_app_is_replay(app)) {
		uint64_t start = top_app_replay_start(app);
		double at = start && v->now > start ?
			    (double)(v->now - start) / 1e9 : 0;

		snprintf(when, sizeof(when), "+%.3fs", at);
	} else {
		time_t t = time(NULL);
		struct tm tm;

		strftime(when, sizeof(when), "%H:%M:%S",
			 localtime_r(&t, &tm));
	}
	fprintf(f, "klptop %s  kernel %s  mode %s  events %llu  lost %llu  "
		"tasks %d%s\n", when,
		top_app_kernel(app)[0] ? top_esc_text(kernel, sizeof(kernel),
						       top_app_kernel(app)) :
		"unknown",
		top_mode_name(v->mode), (unsigned long long)v->events,
		(unsigned long long)v->lost, v->ntasks,
		top_app_ended(app) ? "  end" : "");
}

static void blocker_row(FILE *f, const struct top_blocker *b)
{
	char blocked[16], checks[16], comm[32], func[sizeof(b->func) + 24];

	top_fmt_blocked(blocked, sizeof(blocked), b);
	top_fmt_checks(checks, sizeof(checks), b);
	/* escaped, padded by columns: a UTF-8 name keeps the columns */
	fprintf(f, "    %7d %7d %s %-2s %-24s %s %7s %6s\n", b->pid,
		b->tgid, top_esc_col(comm, sizeof(comm), b->comm, 16, 0),
		top_kthread_flag(b->kthread), top_reason_text(b->reason),
		top_esc_col(func, sizeof(func), b->func[0] ? b->func : "-",
			    24, 0),
		blocked, checks);
}

/*
 * A patch's functions: whose version runs ("-" the original, "?" not
 * known), whether that is this patch's, "switching" while that patch is
 * in transition (in an enable the tasks not yet switched run the one
 * below, in a disable those switched do) and " (not patched)" when the
 * function's object is not patched.
 */
static void func_rows(FILE *f, const struct top_patch *p)
{
	char obj[sizeof(p->funcs->object) * 4], name[sizeof(p->funcs->name) * 4];
	char runs[sizeof(p->funcs->runs) * 4];
	int i;

	if (p->nfuncs < 0) {
		fprintf(f, "  funcs: ?\n");
		return;
	}
	for (i = 0; i < p->nfuncs; i++) {
		const struct top_func *fn = &p->funcs[i];

		fprintf(f, "  func %s/%s,%lu live %s runs %s%s%s\n",
			top_esc_text(obj, sizeof(obj), fn->object),
			top_esc_text(name, sizeof(name), fn->name), fn->sympos,
			!fn->known ? "?" : fn->live ? "yes" : "no",
			!fn->known ? "?" : !fn->runs[0] ? "-" :
			top_esc_text(runs, sizeof(runs), fn->runs),
			fn->switching ? " switching" : "",
			fn->patched ? "" : " (not patched)");
	}
}

/* --patch-details: the patch's page (details.c). */
static void details_rows(FILE *f, const struct top_app *app,
			 const struct top_patch *p)
{
	struct top_details d;

	if (top_details_build(&d, app, p))
		fprintf(f, "  details: ? (out of memory)\n");
	else
		top_details_text(f, &d, p, 0, false);
	top_details_free(&d);
}

void top_text_frame(FILE *f, const struct top_view *v,
		    const struct top_app *app)
{
	int i, j;

	header(f, v, app);
	fprintf(f, "%-24s %-7s %-10s %4s %7s %13s %7s %6s %6s %s\n", "PATCH",
		"ENABLED", "STATE", "PASS", "ELAPSED", "SWITCHED", "SIGNALS",
		"FORCED", "REFCNT", "VERDICT");
	if (!v->npatches)
		fprintf(f, "(no livepatch loaded)\n");
	for (i = 0; i < v->npatches; i++) {
		const struct top_patch *p = &v->patches[i];
		char elapsed[16], switched[32] = "-", refcnt[16];
		char pass[16], signals[16], name[sizeof(p->name) + 24];
		char why[sizeof(p->why)];

		top_fmt_elapsed(elapsed, sizeof(elapsed), p);
		top_fmt_switched(switched, sizeof(switched), p);
		top_fmt_refcnt(refcnt, sizeof(refcnt), p);
		fprintf(f, "%s %-7d %-10s %4s %7s %13s %7s %-6s %6s %s\n",
			top_esc_col(name, sizeof(name), p->name, 24, 0),
			p->enabled,
			top_direction(p),
			top_fmt_count(pass, sizeof(pass), p->pass),
			elapsed, switched,
			top_fmt_count(signals, sizeof(signals), p->signals),
			top_forced_word(p),
			refcnt,
			klpt_verdict_name(p->verdict));
		fprintf(f, "  unload: %s: %s\n", klpt_verdict_name(p->verdict),
			p->verdict == KLPT_READY ? "rmmod is safe now" :
			top_esc_text(why, sizeof(why), p->why));
		func_rows(f, p);
		if (v->details)
			details_rows(f, app, p);
		if (!p->transition)
			continue;
		if (p->phase == KLPT_PHASE_UNKNOWN) {
			/* the target is unknown: so is who has not reached it */
			fprintf(f, "  blockers: ? of %u tasks not switched "
				"(0 shown)\n", p->total);
			continue;
		}
		fprintf(f, "  blockers: %d of %u tasks not switched%s "
			"(%d shown)\n", p->nblockers_all, p->total,
			p->unknown ? ", some of unknown state" : "",
			p->nblockers < TEXT_MAX_BLOCKERS ? p->nblockers :
			TEXT_MAX_BLOCKERS);
		if (!p->nblockers)
			continue;
		fprintf(f, "    %7s %7s %-16s %-2s %-24s %-24s %7s %6s\n", "PID",
			"TGID", "COMM", "KT", "REASON", "FUNCTION", "BLOCKED",
			"CHECKS");
		for (j = 0; j < p->nblockers && j < TEXT_MAX_BLOCKERS; j++)
			blocker_row(f, &p->blockers[j]);
	}
	fputc('\n', f);
	fflush(f);
}
