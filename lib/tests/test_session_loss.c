// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * A live session's model learns of the events its session lost: a
 * session that saw a transition start counts every check of it only
 * until a loss, after which the tasks' checks are lower bounds (not
 * exact), and its resync's reconcile may take a task for a new one on a
 * reused tid (model.c same_task()).  On a fake tracefs (fake_tracefs.h).
 */
#include "check.h"
#include "fake_tracefs.h"
#include "internal.h"

#define LP "klpt_lp_sleep"
#define SLEEPER 108

static struct fake_tracefs ft;

static int blocked(struct fake_page *pg, uint64_t ts)
{
	return FAKE_EVENT(&ft, pg, ts, "klp", "klp_task_blocked",
			  FV("pid", SLEEPER), FV("tgid", SLEEPER),
			  FV("comm", "klpt_sleeper"), FV("patch", LP),
			  FV("target", KLPT_UNPATCHED),
			  FV("reason", KLPT_REASON_SLEEPING_IN_FUNC),
			  FV("err", -98), FV("func", "klpt_sleep_fn"));
}

static void test_loss_makes_checks_inexact(void)
{
	KLPT_OPTS_INIT(klpt_session_opts, o, .tracefs_dir = ft.tracefs,
		       .root = ft.root, .poll_ms = 3600 * 1000);
	struct klpt_session *s = NULL;
	const struct klpt_task *k;
	struct fake_page pg;
	uint64_t t;

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 0), 0);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
	CHECK_INT(fake_task(&ft, 1, 1, "init", -1, false), 0);
	CHECK_INT(fake_task(&ft, SLEEPER, SLEEPER, "klpt_sleeper", -1, true),
		  0);
	CHECK_INT(klpt_session_open_live(&o, &s), 0);
	if (!s)
		goto out;

	/* the disable starts after the open: every check is seen */
	CHECK_INT(fake_patch(&ft, LP, 0, 1), 0);
	CHECK_INT(fake_task_state(&ft, SLEEPER, SLEEPER, 1), 0);
	CHECK_INT(fake_task_state(&ft, 1, 1, 0), 0);
	t = fake_now();
	fake_page_init(&pg);
	CHECK_INT(FAKE_EVENT(&ft, &pg, t + 1, "klp", "klp_transition_init",
			     FV("patch", LP), FV("target", KLPT_UNPATCHED)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &pg, t + 2, "klp", "klp_transition_start",
			     FV("patch", LP), FV("target", KLPT_UNPATCHED)), 0);
	CHECK_INT(blocked(&pg, t + 3), 0);
	CHECK_INT(fake_page_write(&ft, 0, &pg), 0);
	CHECK(klpt_session_process(s) > 0, "no events");
	k = klpt_task_find(s, SLEEPER);
	CHECK(k && klpt_task_checks(k) == 1 && klpt_task_checks_exact(k),
	      "checks seen from the start: not exact");

	/* events lost, then another check */
	t = fake_now();
	fake_page_init(&pg);
	fake_page_missed(&pg, 5);
	CHECK_INT(blocked(&pg, t + 1), 0);
	CHECK_INT(fake_page_write(&ft, 0, &pg), 0);
	CHECK(klpt_session_process(s) > 0, "no events");
	CHECK(klpt_session_lost(s) == 5, "lost %llu",
	      (unsigned long long)klpt_session_lost(s));
	k = klpt_task_find(s, SLEEPER);
	CHECK(k && !klpt_task_checks_exact(k),
	      "checks exact across a loss");
out:
	klpt_session_close(s);
	fake_tracefs_cleanup(&ft);
}

int main(void)
{
	RUN(test_loss_makes_checks_inexact);
	return check_summary();
}
