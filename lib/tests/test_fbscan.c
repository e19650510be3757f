// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * The fallback's ticks (fbscan.c): which tick reads everything and which
 * only the model's unsettled tasks, what a cheap tick makes of what it
 * read (klpt_model_refresh()), and the interval's backing off.  A fake
 * /sys and /proc tree, never the host's procfs.
 *
 * The probe: a file the kernel would never change in a transition (a
 * task at the target going back to !target) is changed in the fake tree;
 * a tick that read it would make the task pending again, so the model
 * keeping it at the target shows that the cheap tick did not read it.
 */
#include <limits.h>
#include <stdio.h>

#include "check.h"
#include "fake_tracefs.h"
#include "internal.h"

#define LP	"klpt_lp_sleep"
#define SLEEPER	100	/* a kthread, pending */
#define PROC	300	/* a process at the target */
#define THREAD	301	/* its thread, pending */

static struct fake_tracefs ft;

/* The model after a whole snapshot, as a session's open leaves it. */
static struct klpt_model *model_taken(struct klpt_fbscan *f)
{
	struct klpt_model *m = klpt_model_new();
	struct klpt_truth *t = NULL;

	CHECK(m, "no model");
	if (!m)
		return NULL;
	klpt_model_set_fallback(m, true);
	CHECK_INT(klpt_truth_take(ft.root, &t), 0);
	if (t) {
		t->ts = 1000;
		klpt_model_reconcile(m, t);
		CHECK_INT(klpt_fbscan_taken(f, t), 0);
		klpt_truth_free(t);
	}
	return m;
}

/* A test's end: its model (NULL if none), its ticks, the fake root. */
static void finish(struct klpt_model *m, struct klpt_fbscan *f)
{
	klpt_model_free(m);
	klpt_fbscan_free(f);
	fake_tracefs_cleanup(&ft);
}

/* LP being enabled: init at the target, PROC too, SLEEPER and THREAD not. */
static void enabling_system(void)
{
	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_NO_KLP), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 1), 0);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
	CHECK_INT(fake_task(&ft, 1, 1, "init", 1, false), 0);
	CHECK_INT(fake_task(&ft, SLEEPER, SLEEPER, "klpt_sleeper", 0, true), 0);
	CHECK_INT(fake_task(&ft, PROC, PROC, "app", 1, false), 0);
	CHECK_INT(fake_task(&ft, PROC, THREAD, "app", 0, false), 0);
}

static int state_of(const struct klpt_model *m, int tid)
{
	const struct klpt_task *t = klpt_model_task_find(m, tid);

	return t ? klpt_task_state(t) : 99;
}

static unsigned int pending_of(const struct klpt_model *m)
{
	const struct klpt_patch *p = klpt_model_patch_find(m, LP);

	return p ? klpt_patch_pending(p) : 9999;
}

/* One cheap tick: 0 and the changes, or what begin said. */
static int cheap_tick(struct klpt_fbscan *f, struct klpt_model *m,
		      int *changed)
{
	struct klpt_truth *t = NULL;
	int ret = klpt_fbscan_begin(f, m, ft.root, true, &t);

	*changed = -1;
	if (ret)
		return ret;
	CHECK(t && t->partial, "no partial truth");
	if (!t)
		return -1;
	t->ts = 2000;
	*changed = klpt_model_refresh(m, t);
	klpt_truth_free(t);
	return 0;
}

/*
 * Only the tasks not at the target are listed and read; a switch read is
 * applied, a settled task's file is not read, the pending count follows.
 */
static void test_reads_unsettled_only(void)
{
	struct klpt_fbscan f;
	struct klpt_model *m;
	struct klpt_tid *ids = NULL;
	int n, changed;

	enabling_system();
	klpt_fbscan_init(&f, 500);
	m = model_taken(&f);
	if (!m)
		goto out;
	CHECK_INT(pending_of(m), 2);
	n = klpt_model_unsettled(m, &ids);
	CHECK_INT(n, 2);
	if (n == 2 && ids) {
		/* in the model's order: which one is first is not fixed */
		int s = ids[0].tid == SLEEPER ? 0 : 1;

		CHECK_INT(ids[s].tid, SLEEPER);
		CHECK_INT(ids[s].tgid, SLEEPER);
		CHECK_INT(ids[!s].tid, THREAD);
		CHECK_INT(ids[!s].tgid, PROC);
	}
	free(ids);

	/* nothing changed: a cheap tick that changes nothing */
	CHECK_INT(cheap_tick(&f, m, &changed), 0);
	CHECK_INT(changed, 0);

	/* the sleeper switched; the probe on the settled process */
	CHECK_INT(fake_task_state(&ft, SLEEPER, SLEEPER, 1), 0);
	CHECK_INT(fake_task_state(&ft, PROC, PROC, 0), 0);
	CHECK_INT(cheap_tick(&f, m, &changed), 0);
	CHECK_INT(changed, 1);
	CHECK_INT(state_of(m, SLEEPER), KLPT_PATCHED);
	CHECK_INT(state_of(m, PROC), KLPT_PATCHED);	/* not read */
	CHECK_INT(state_of(m, THREAD), KLPT_UNPATCHED);
	CHECK_INT(pending_of(m), 1);
	n = klpt_model_unsettled(m, &ids);
	CHECK_INT(n, 1);
	if (n == 1 && ids)
		CHECK_INT(ids[0].tid, THREAD);
	free(ids);
out:
	finish(m, &f);
}

/*
 * A task the model lists but procfs no longer shows (gone without an
 * exit event yet, or not where the model thinks): unknown, not kept as
 * pending nor taken for switched; it stays listed for the next tick.
 */
static void test_unreadable_is_unknown(void)
{
	struct klpt_fbscan f;
	struct klpt_model *m;
	struct klpt_tid *ids = NULL;
	char path[PATH_MAX];
	int changed;

	enabling_system();
	klpt_fbscan_init(&f, 500);
	m = model_taken(&f);
	if (!m)
		goto out;
	snprintf(path, sizeof(path), "%s/proc/%d/task/%d", ft.root, PROC,
		 THREAD);
	ft_rmtree(path);
	CHECK_INT(cheap_tick(&f, m, &changed), 0);
	CHECK_INT(changed, 1);
	CHECK_INT(state_of(m, THREAD), KLPT_STATE_UNKNOWN);
	CHECK_INT(state_of(m, SLEEPER), KLPT_UNPATCHED);
	CHECK_INT(pending_of(m), 1);
	CHECK_INT(klpt_model_unsettled(m, &ids), 2);
	free(ids);
	/* read again and still unreadable: no change, no flapping */
	CHECK_INT(cheap_tick(&f, m, &changed), 0);
	CHECK_INT(changed, 0);
out:
	finish(m, &f);
}

/* A tgid the model does not know: procfs is asked under the tid. */
static void test_unknown_tgid(void)
{
	struct klpt_truth *t = NULL;
	struct klpt_tid ids[] = { { SLEEPER, 0 }, { 4242, 0 } };

	enabling_system();
	CHECK_INT(klpt_truth_take_tasks(ft.root, ids, 2, &t), 0);
	if (t) {
		CHECK(t->partial, "not partial");
		CHECK_INT(t->npatches, 1);
		CHECK_INT(t->nmodules, 0);
		CHECK_INT(t->ntasks, 2);
		CHECK_INT(t->tasks[0].tid, SLEEPER);
		CHECK_INT(t->tasks[0].state, KLPT_UNPATCHED);
		CHECK_INT(t->tasks[1].state, KLPT_STATE_UNKNOWN);
	}
	klpt_truth_free(t);
	fake_tracefs_cleanup(&ft);
}

/*
 * What a cheap tick cannot rely on makes it whole: the patches changed
 * (a completion, a reverse) or a patch module's references, a change an
 * event announced, events lost,
 * a session that does not see task creations and exits.
 */
static void test_whole_when_needed(void)
{
	struct klpt_fbscan f;
	struct klpt_model *m;
	struct klpt_truth *t = NULL;
	struct klpt_event lost = { .type = KLPT_EV_LOST, .ts = 1500,
				   .cpu = -1 };
	int changed;

	enabling_system();
	klpt_fbscan_init(&f, 500);
	CHECK_INT(klpt_fbscan_begin(&f, NULL, ft.root, true, &t), 1);
	m = model_taken(&f);
	if (!m)
		goto out;
	CHECK_INT(klpt_fbscan_begin(&f, m, ft.root, false, &t), 1);
	CHECK(!t, "a truth without a cheap tick");

	/* reversed: enabled flips, transition stays */
	CHECK_INT(fake_patch(&ft, LP, 0, 1), 0);
	CHECK_INT(klpt_fbscan_begin(&f, m, ft.root, true, &t), 1);
	CHECK_INT(fake_patch(&ft, LP, 1, 1), 0);
	CHECK_INT(cheap_tick(&f, m, &changed), 0);
	/* completed */
	CHECK_INT(fake_patch(&ft, LP, 1, 0), 0);
	CHECK_INT(klpt_fbscan_begin(&f, m, ft.root, true, &t), 1);
	/* another patch appeared */
	CHECK_INT(fake_patch(&ft, LP, 1, 1), 0);
	CHECK_INT(fake_patch(&ft, "klpt_lp_other", 1, 0), 0);
	CHECK_INT(klpt_fbscan_begin(&f, m, ft.root, true, &t), 1);
	fake_patch_remove(&ft, "klpt_lp_other");
	CHECK_INT(cheap_tick(&f, m, &changed), 0);
	/* the patch module's reference count moved, or it is gone */
	CHECK_INT(fake_module(&ft, LP, 0, true), 0);
	CHECK_INT(klpt_fbscan_begin(&f, m, ft.root, true, &t), 1);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
	CHECK_INT(cheap_tick(&f, m, &changed), 0);
	fake_module_remove(&ft, LP);
	CHECK_INT(klpt_fbscan_begin(&f, m, ft.root, true, &t), 1);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);

	/* a module came or went (the session tells on its event) */
	CHECK_INT(klpt_fbscan_changed(&f), 500);
	CHECK_INT(klpt_fbscan_begin(&f, m, ft.root, true, &t), 1);
	klpt_model_free(m);
	m = model_taken(&f);
	if (!m)
		goto out;
	CHECK_INT(cheap_tick(&f, m, &changed), 0);

	/* events lost: the model cannot list what changed */
	klpt_model_apply(m, &lost);
	CHECK_INT(klpt_fbscan_begin(&f, m, ft.root, true, &t), 1);
	CHECK(!t, "a truth with a whole tick");
out:
	finish(m, &f);
}

/* No transition: no task can change; a tick reads the patches alone. */
static void test_no_transition(void)
{
	struct klpt_fbscan f;
	struct klpt_model *m;
	struct klpt_tid *ids = (struct klpt_tid *)&f;
	int changed;

	enabling_system();
	CHECK_INT(fake_patch(&ft, LP, 1, 0), 0);
	CHECK_INT(fake_task_state(&ft, SLEEPER, SLEEPER, -1), 0);
	klpt_fbscan_init(&f, 500);
	m = model_taken(&f);
	if (!m)
		goto out;
	CHECK_INT(klpt_model_unsettled(m, &ids), 0);
	CHECK(!ids, "a list of none");
	CHECK_INT(cheap_tick(&f, m, &changed), 0);
	CHECK_INT(changed, 0);
out:
	finish(m, &f);
}

/*
 * The interval: doubled after each tick that changed nothing, up to 8x
 * the base; the base again after a change, a whole tick or an event's.
 */
static void test_backoff(void)
{
	struct klpt_fbscan f;
	struct klpt_truth t = { .npatches = 0 };

	klpt_fbscan_init(&f, 500);
	CHECK_INT(f.cur_ms, 500);
	CHECK_INT(f.max_ms, 4000);
	CHECK_INT(klpt_fbscan_after(&f, false), 1000);
	CHECK_INT(klpt_fbscan_after(&f, false), 2000);
	CHECK_INT(klpt_fbscan_after(&f, false), 4000);
	CHECK_INT(klpt_fbscan_after(&f, false), 4000);
	CHECK_INT(klpt_fbscan_after(&f, true), 500);
	CHECK_INT(klpt_fbscan_after(&f, false), 1000);
	CHECK_INT(klpt_fbscan_changed(&f), 500);
	CHECK_INT(klpt_fbscan_after(&f, false), 1000);
	CHECK_INT(klpt_fbscan_taken(&f, &t), 0);
	CHECK_INT(f.cur_ms, 500);
	klpt_fbscan_free(&f);

	/* a base that cannot be multiplied: no back-off, no overflow */
	klpt_fbscan_init(&f, UINT_MAX - 1);
	CHECK_INT(f.max_ms, UINT_MAX - 1);
	CHECK_INT(klpt_fbscan_after(&f, false), UINT_MAX - 1);
	klpt_fbscan_free(&f);
	/* odd bases reach the bound exactly */
	klpt_fbscan_init(&f, 3);
	CHECK_INT(klpt_fbscan_after(&f, false), 6);
	CHECK_INT(klpt_fbscan_after(&f, false), 12);
	CHECK_INT(klpt_fbscan_after(&f, false), 24);
	CHECK_INT(klpt_fbscan_after(&f, false), 24);
	klpt_fbscan_free(&f);
}

int main(void)
{
	RUN(test_reads_unsettled_only);
	RUN(test_unreadable_is_unknown);
	RUN(test_unknown_tgid);
	RUN(test_whole_when_needed);
	RUN(test_no_transition);
	RUN(test_backoff);
	return check_summary();
}
