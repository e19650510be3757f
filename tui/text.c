// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Batch frames (-b): what the screen shows, as plain text, one frame
 * after the other with a blank line between them, like top -b.  Lines
 * are stable in shape so that scripts (and the tests) can read them:
 *
 *   klptop HH:MM:SS  kernel K  mode M  events N  lost N  tasks N
 *     (a replay: +SECONDS from its start, K the recorded kernel or
 *     unknown, and "  end" once its last event is shown)
 *   PATCH ENABLED STATE PASS ELAPSED SWITCHED SIGNALS FORCED REFCNT UNLOAD
 *   NAME ...
 *     unload: VERDICT: WHY
 *     funcs: ?                      (not known to the session), or per function:
 *     func OBJECT/FUNCTION,SYMPOS live yes|no|? runs PATCH|-|?[ switching]
 *     details: ...                 (--patch-details: details.c)
 *     blockers: N of M tasks not switched (K shown)
 *       PID TID COMMAND K REASON FUNCTION BLOCKED CHECKS
 *       ...
 *
 * The columns, their names, widths and values are the field table's
 * (fields.c): PID the process, TID the thread, as on the screen.  Names
 * are never cut (a script reads them whole): a long one shifts the rest
 * of its row.
 */
#include <string.h>
#include <time.h>

#include "fields.h"

static void header(FILE *f, const struct top_view *v,
		   const struct top_app *app)
{
	struct top_frame_ctx ctx = { v, app };
	const struct top_field *t;
	char when[32], buf[256];
	int i, n;

	if (top_app_is_replay(app)) {
		uint64_t start = top_app_replay_start(app);
		double at = start && v->now > start ?
			    (double)(v->now - start) / 1e9 : 0;

		snprintf(when, sizeof(when), "+%.3fs", at);
	} else {
		time_t tm_now = time(NULL);
		struct tm tm;

		strftime(when, sizeof(when), "%H:%M:%S",
			 localtime_r(&tm_now, &tm));
	}
	fprintf(f, "klptop %s", when);
	t = top_fields(TOP_ROW_FRAME, &n);
	for (i = 0; i < n; i++)
		if (t[i].flags & TOP_FIELD_BATCH)
			fprintf(f, "  %s %s", t[i].batch,
				top_esc_text(buf, sizeof(buf),
					     t[i].text(&ctx, TOP_STYLE_BATCH, 0,
						       buf, sizeof(buf))));
	fputs(top_app_ended(app) ? "  end\n" : "\n", f);
}

/*
 * A row of -b's columns of a row type (row NULL: their headers), after
 * indent: each value escaped, padded to the column's width (right-aligned
 * ones on the left), never cut.
 */
static void columns(FILE *f, const char *indent, enum top_row type,
		    const void *row)
{
	const struct top_field *t;
	char buf[1024], out[1100];
	bool first = true;
	int i, n;

	fputs(indent, f);
	t = top_fields(type, &n);
	for (i = 0; i < n; i++) {
		const char *v;
		int used;

		if (!(t[i].flags & TOP_FIELD_BATCH))
			continue;
		v = row ? t[i].text(row, TOP_STYLE_BATCH, 0, buf, sizeof(buf)) :
		    t[i].batch;
		top_esc_text(out, sizeof(out), v);
		top_text_fit(out, 1 << 20, &used);
		if (!first)
			fputc(' ', f);
		first = false;
		if (t[i].flags & TOP_FIELD_RIGHT)
			fprintf(f, "%*s%s", t[i].bw > used ? t[i].bw - used : 0,
				"", out);
		else if (t[i].bw)
			fprintf(f, "%s%*s", out, t[i].bw > used ?
				t[i].bw - used : 0, "");
		else
			fputs(out, f);
	}
	fputc('\n', f);
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
	columns(f, "", TOP_ROW_PATCH, NULL);
	if (!v->npatches)
		fprintf(f, "(no livepatch loaded)\n");
	for (i = 0; i < v->npatches; i++) {
		const struct top_patch *p = &v->patches[i];
		char why[sizeof(p->why)];

		columns(f, "", TOP_ROW_PATCH, p);
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
		fprintf(f, "  blockers: %d of %u tasks not switched%s%s "
			"(%d shown)\n", p->nblockers_all, p->total,
			p->unknown ? ", some of unknown state" : "",
			p->nstale ? ", reasons stale (the fallback)" : "",
			p->nblockers < TOP_TEXT_MAX_BLOCKERS ? p->nblockers :
			TOP_TEXT_MAX_BLOCKERS);
		if (!p->nblockers)
			continue;
		columns(f, "    ", TOP_ROW_BLOCKER, NULL);
		for (j = 0; j < p->nblockers && j < TOP_TEXT_MAX_BLOCKERS; j++)
			columns(f, "    ", TOP_ROW_BLOCKER, &p->blockers[j]);
	}
	fputc('\n', f);
	fflush(f);
}
