// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * fbscan.c: what the fallback (no klptrace.ko) reads on each tick of its
 * timer, and when the next tick comes.
 *
 * Without klp events the model learns a task's switch only from
 * /proc/<tgid>/task/<tid>/patch_state.  Reading every task's files on
 * every tick (a whole snapshot, truth.c: patch_state and stat of each
 * thread, refcnt and taint of each module) cost more CPU than a
 * kpatch-style scan of patch_state alone (bench/results/notes.md, 3.):
 * the kernel's open/read/close of procfs files is nearly all of it.
 * So a tick is one of:
 *
 *   - cheap: the patches' enabled and transition, the patch modules'
 *     refcnt, then the patch_state of the tasks the model does not have
 *     at the target
 *     (klpt_model_unsettled(): only they can change before the
 *     transition ends; model.c says why).  New tasks come from
 *     task:task_newtask with their creator's state, exits from
 *     sched:sched_process_exit, module loads, frees and references
 *     from module:*: the events the fallback subscribes to (live.c).
 *   - whole (klpt_truth_take()): at the start, after lost events, when
 *     the patches read differ from the last read (a transition began,
 *     reversed or completed, a patch came or went) or a patch module's
 *     refcnt from the model's, after a module was
 *     loaded or freed, when the model cannot list what to read (see
 *     klpt_model_unsettled()), and always when the session cannot rely
 *     on the task events (klptrace.ko's hooks off, or removed under the
 *     session, or a kernel without those events).
 *
 * The interval: poll_ms after a tick that changed something (a task
 * switched or became unknown, a whole snapshot for any reason, a module
 * loaded or freed), doubled after each cheap tick that found nothing
 * new, up to FBSCAN_BACKOFF times poll_ms (4 s at the default 500 ms).
 * The cost: a switch, or a reverse or completion, is noticed up to that
 * much later while nothing else changes.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The longest interval, in units of poll_ms. */
#define FBSCAN_BACKOFF	8u

void klpt_fbscan_init(struct klpt_fbscan *f, unsigned int base_ms)
{
	memset(f, 0, sizeof(*f));
	f->base_ms = base_ms ? base_ms : 1;
	f->max_ms = f->base_ms > UINT32_MAX / FBSCAN_BACKOFF ?
		    f->base_ms : f->base_ms * FBSCAN_BACKOFF;
	f->cur_ms = f->base_ms;
	f->full = true;
}

void klpt_fbscan_free(struct klpt_fbscan *f)
{
	free(f->patches);
	f->patches = NULL;
	f->npatches = 0;
	f->known = false;
}

/* Both lists are sorted by name (truth.c). */
static bool same_patches(const struct klpt_fbscan *f,
			 const struct klpt_truth *t)
{
	int i;

	if (!f->known || f->npatches != t->npatches)
		return false;
	for (i = 0; i < t->npatches; i++) {
		const struct klpt_truth_patch *a = &f->patches[i];
		const struct klpt_truth_patch *b = &t->patches[i];

		if (strcmp(a->name, b->name) || a->enabled != b->enabled ||
		    a->transition != b->transition)
			return false;
	}
	return true;
}

/*
 * The patch modules' references as the model has them.  module_get and
 * module_put say every change (6.1 kernel/module/main.c), but a
 * reference is what an unload waits for, and one file per patch module
 * is cheap: a count that differs, or a module gone (its free is an
 * event too), makes the tick whole.
 */
static bool same_refcnts(const struct klpt_model *m, const char *root)
{
	int i, n = klpt_model_module_count(m), rc;

	for (i = 0; i < n; i++) {
		const struct klpt_module *mod = klpt_model_module_at(m, i);

		if (klpt_truth_refcnt(root, klpt_module_name(mod), &rc) ||
		    rc != klpt_module_refcnt(mod))
			return false;
	}
	return true;
}

int klpt_fbscan_begin(struct klpt_fbscan *f, const struct klpt_model *m,
		      const char *root, bool cheap_ok,
		      struct klpt_truth **out)
{
	struct klpt_tid *ids;
	struct klpt_truth *t;
	int n, ret;

	*out = NULL;
	if (f->full || !cheap_ok || !f->known || !same_refcnts(m, root))
		return 1;
	n = klpt_model_unsettled(m, &ids);
	if (n == -EAGAIN)
		return 1;
	if (n < 0)
		return n;
	ret = klpt_truth_take_tasks(root, ids, n, &t);
	free(ids);
	if (ret < 0)
		return ret;
	if (!same_patches(f, t)) {
		klpt_truth_free(t);
		return 1;
	}
	*out = t;
	return 0;
}

int klpt_fbscan_taken(struct klpt_fbscan *f, const struct klpt_truth *t)
{
	struct klpt_truth_patch *p = NULL;
	size_t size = (size_t)t->npatches * sizeof(*p);

	f->cur_ms = f->base_ms;
	f->full = false;
	if (size) {
		p = malloc(size);
		if (!p) {
			/* unknown: the next tick takes a whole snapshot */
			klpt_fbscan_free(f);
			return -ENOMEM;
		}
		memcpy(p, t->patches, size);
	}
	free(f->patches);
	f->patches = p;
	f->npatches = t->npatches;
	f->known = true;
	return 0;
}

unsigned int klpt_fbscan_after(struct klpt_fbscan *f, bool changed)
{
	if (changed)
		f->cur_ms = f->base_ms;
	else if (f->cur_ms < f->max_ms)
		f->cur_ms = f->cur_ms > f->max_ms / 2 ? f->max_ms :
			    f->cur_ms * 2;
	return f->cur_ms;
}

unsigned int klpt_fbscan_changed(struct klpt_fbscan *f)
{
	f->full = true;
	f->cur_ms = f->base_ms;
	return f->cur_ms;
}
