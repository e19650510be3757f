// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * --status [-p PATCH] [--json]: one answer for a monitoring script, read
 * once from the session's start-up model (the snapshot of sysfs and
 * procfs the library reconciles with; klptrace.ko's events or the
 * fallback, "mode" says which), and an exit code.
 *
 * Each row of the view (view.c: a patch of /sys/kernel/livepatch, or a
 * livepatch module whose patch directory is gone) is one of, in 6.1
 * (kernel/livepatch/core.c, transition.c):
 *
 *   ok          enabled, no transition: enabled_store() set it up and
 *               klp_complete_transition() ran;
 *   transition  klp_transition_patch: a patching or unpatching
 *               transition (both directions hold the module: exit 1);
 *   waiting     disabled or replaced, and its module still loaded:
 *               the unpatch transition completed (or an atomic replace
 *               freed it, klp_free_replaced_patches_async()), the free
 *               work has not run or its module is not removed yet;
 *               also a module being loaded or unloaded (initstate);
 *   forced      klp_force_transition() set patch->forced on a patch
 *               being removed (a forced unpatch, or the patches an
 *               atomic replace replaced), and klp_free_patch_finish()
 *               then skipped its module_put(): the directory is gone and
 *               the module keeps references that no module holds
 *               (holders/), for good.  Nothing in sysfs says "forced"
 *               (force is write-only): a session that saw the force
 *               knows (KLPT_HOLD_FORCED), otherwise the pinned reference
 *               says it, as for the scripted flow (script.c); another
 *               user's reference (an open file the module owns) looks
 *               the same, and rmmod fails either way.  Between the
 *               directory's removal and the module_put() of an unforced
 *               free (microseconds) a module looks forced too: the
 *               refcnt is read again for FORCED_RECHECK_MS first;
 *   unknown     the session cannot tell (a refcnt it could not read).
 *
 * The answer is the most severe row's (enum top_status's order; ok when
 * there is no row): exit 3 forced, else 2 unknown, else 1 transition or waiting,
 * else 0.  A forced module wins because it stays until a reboot whatever
 * else happens; a transition or a wait ends by itself or by a step of
 * the operator's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "klptop.h"

static const struct {
	const char *name;
	int code;
} statuses[TOP_STATUS__COUNT] = {
	[TOP_STATUS_OK] = { "ok", TOP_EXIT_OK },
	[TOP_STATUS_WAITING] = { "waiting", TOP_EXIT_TIMEOUT },
	[TOP_STATUS_TRANSITION] = { "transition", TOP_EXIT_TIMEOUT },
	[TOP_STATUS_UNKNOWN] = { "unknown", TOP_EXIT_ERROR },
	[TOP_STATUS_FORCED] = { "forced", TOP_EXIT_FORCED },
};

const char *top_status_name(enum top_status st)
{
	return (unsigned int)st < TOP_STATUS__COUNT ? statuses[st].name : "?";
}

int top_status_exit(enum top_status st)
{
	return (unsigned int)st < TOP_STATUS__COUNT ? statuses[st].code :
	       TOP_EXIT_ERROR;
}

/*
 * An unforced free drops the module's reference right after the patch
 * directory goes (klp_free_patch_finish(): kobject_put(), the release's
 * completion, module_put()): before a row is called forced its refcnt
 * is read again a few times, FORCED_RECHECK_MS in all.  True when it
 * fell to what the holders explain, or the module went.
 */
#define FORCED_RECHECK_MS 200

static bool reference_dropped(const char *root, const char *module)
{
	const struct timespec step = { 0, 20 * 1000 * 1000 };
	char names[256];
	int i, r;

	for (i = 0; i < FORCED_RECHECK_MS / 20; i++) {
		r = top_module_refcnt(root, module);
		if (r == -ENOENT ||
		    (r >= 0 && r <= top_module_holders(root, module, names,
							sizeof(names))))
			return true;
		nanosleep(&step, NULL);
	}
	return false;
}

/* Where row p of the view stands (see the top of this file). */
static enum top_status classify(const struct top_config *cfg,
				const struct top_patch *p)
{
	char names[256];

	if (p->verdict == KLPT_HOLD_FORCED)	/* the session saw it */
		return TOP_STATUS_FORCED;
	if (!p->module_only) {
		if (p->transition)
			return TOP_STATUS_TRANSITION;
		return p->enabled ? TOP_STATUS_OK : TOP_STATUS_WAITING;
	}
	/* its init holds a reference until klp_enable_patch() is done */
	if (top_module_initstate_is(cfg->root, p->name, "coming") ||
	    top_module_initstate_is(cfg->root, p->name, "going"))
		return TOP_STATUS_WAITING;
	if (p->refcnt < 0)
		return TOP_STATUS_UNKNOWN;
	if (p->refcnt > top_module_holders(cfg->root, p->name, names,
					   sizeof(names)) &&
	    !reference_dropped(cfg->root, p->name))
		return TOP_STATUS_FORCED;
	return TOP_STATUS_WAITING;
}

/*
 * The text: a line with the answer and the source, then one per row,
 * "NAME STATUS" and the values of the -b columns (text.c) by the same
 * names, their why last when the row is not ok.
 */
static void text(FILE *f, const struct top_view *v, enum top_status all,
		 const enum top_status *row)
{
	int i;

	fprintf(f, "status %s  exit %d  mode %s  kernel %s  patches %d\n",
		top_status_name(all), top_status_exit(all),
		top_mode_name(v->mode), top_kernel_release(), v->npatches);
	for (i = 0; i < v->npatches; i++) {
		const struct top_patch *p = &v->patches[i];
		char name[sizeof(p->name)], why[sizeof(p->why)];
		char switched[32], refcnt[16];

		fprintf(f, "%s %s  enabled %d  state %s  switched %s  "
			"forced %s  refcnt %s  verdict %s",
			top_esc_text(name, sizeof(name), p->name),
			top_status_name(row[i]), p->enabled, top_direction(p),
			top_fmt_switched(switched, sizeof(switched), p),
			top_forced_word(p),
			top_fmt_refcnt(refcnt, sizeof(refcnt), p),
			klpt_verdict_name(p->verdict));
		if (row[i] != TOP_STATUS_OK)
			fprintf(f, "  why %s", p->verdict == KLPT_READY ?
				"rmmod is safe now" :
				top_esc_text(why, sizeof(why), p->why));
		fputc('\n', f);
	}
}

int top_status_run(const struct top_config *cfg, struct top_app *app)
{
	enum top_status all = TOP_STATUS_OK, *row;
	struct top_view v;
	char *buf = NULL, name[64], why[256];
	size_t len = 0;
	FILE *m;
	int i, ret, code;

	if (top_view_build(&v, app, cfg->patch, NULL, cfg->sort,
			   cfg->sort_reverse)) {
		fprintf(stderr, PROG ": out of memory\n");
		return TOP_EXIT_ERROR;
	}
	row = calloc(v.npatches ? (size_t)v.npatches : 1, sizeof(*row));
	m = row ? open_memstream(&buf, &len) : NULL;
	if (!m) {
		free(row);
		top_view_free(&v);
		fprintf(stderr, PROG ": out of memory\n");
		return TOP_EXIT_ERROR;
	}
	for (i = 0; i < v.npatches; i++) {
		row[i] = classify(cfg, &v.patches[i]);
		if (row[i] > all)
			all = row[i];
	}
	if (cfg->output == TOP_OUT_JSON)
		top_json_status(m, &v, app, all, row);
	else
		text(m, &v, all, row);
	code = top_status_exit(all);
	/* the one line an error gets: which row, and why */
	for (i = 0; all == TOP_STATUS_UNKNOWN && i < v.npatches; i++)
		if (row[i] == TOP_STATUS_UNKNOWN) {
			fprintf(stderr, PROG ": the status of %s is unknown: "
				"%s\n", top_esc_text(name, sizeof(name),
						     v.patches[i].name),
				top_esc_text(why, sizeof(why),
					     v.patches[i].why));
			break;
		}
	free(row);
	top_view_free(&v);
	if (fclose(m)) {
		free(buf);
		fprintf(stderr, PROG ": out of memory\n");
		return TOP_EXIT_ERROR;
	}
	ret = top_out_write(buf, len);
	free(buf);
	if (ret)
		ret = top_out_error(ret);
	/* a reader gone (head -1) is not klptop's error: the answer stands */
	if (ret == -EINTR)
		return TOP_EXIT_SIGNAL + top_stop_signal;
	return ret && ret != -EPIPE ? TOP_EXIT_ERROR : code;
}
