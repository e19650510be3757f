// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * A live session delivers in timestamp order across CPUs even when a CPU
 * has more pages than one fill reads (live.c reads at most
 * LIVE_MAX_PAGES_PER_FILL, 64, of a CPU per fill): the pages it leaves in
 * the kernel may be older than what the other CPUs gave in that fill.
 * On a fake tracefs (fake_tracefs.h), whose per-CPU files are plain and
 * read to their end over successive fills.
 */
#include "check.h"
#include "fake_tracefs.h"
#include "internal.h"

#define CPU0_PAGES 70		/* more than one fill reads */
#define MAX_SEEN 128

static struct fake_tracefs ft;

struct seen {
	int n;
	uint64_t ts[MAX_SEEN];
	int cpu[MAX_SEEN];
};

static int on_event(struct klpt_session *s, const struct klpt_event *ev,
		    void *ctx)
{
	struct seen *seen = ctx;

	(void)s;
	if (ev->type != KLPT_EV_TASK_EXIT || seen->n >= MAX_SEEN)
		return 0;
	seen->ts[seen->n] = ev->ts;
	seen->cpu[seen->n] = ev->cpu;
	seen->n++;
	return 0;
}

static int exit_event(struct fake_page *pg, uint64_t ts, int pid)
{
	return FAKE_EVENT(&ft, pg, ts, "sched", "sched_process_exit",
			  FV("comm", "gone"), FV("pid", pid), FV("prio", 120));
}

/*
 * cpu0: 70 pages, one exit each, 10 ns apart; cpu1: one exit dated
 * between cpu0's 66th and 67th, i.e. after everything the first fill
 * reads of cpu0.  Without the merge waiting for cpu0's remaining pages,
 * cpu1's exit came right after cpu0's 64th.
 */
static void test_cpu_with_more_pages_than_a_fill(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	struct fake_page pg;
	uint64_t t0 = fake_now() + 3600000000000ull;	/* after the open */
	int i, ret, rounds, cpu1_at = -1;

	CHECK_INT(fake_tracefs_init(&ft, 2, FAKE_KLP), 0);
	{
		KLPT_OPTS_INIT(klpt_session_opts, o, .on_event = on_event,
			       .ctx = &seen, .tracefs_dir = ft.tracefs,
			       .root = ft.root, .poll_ms = 3600 * 1000);

		CHECK_INT(klpt_session_open_live(&o, &s), 0);
	}
	if (!s)
		goto out;
	/* after the open: its start-up fill would hold them back whole */
	for (i = 0; i < CPU0_PAGES; i++) {
		fake_page_init(&pg);
		CHECK_INT(exit_event(&pg, t0 + 10 * (uint64_t)i, 1000 + i), 0);
		CHECK_INT(fake_page_write(&ft, 0, &pg), 0);
	}
	fake_page_init(&pg);
	CHECK_INT(exit_event(&pg, t0 + 655, 2000), 0);
	CHECK_INT(fake_page_write(&ft, 1, &pg), 0);
	for (rounds = 0; rounds < 20 && seen.n < CPU0_PAGES + 1; rounds++) {
		ret = klpt_session_process(s);
		CHECK(ret >= 0, "process: %d", ret);
		if (ret < 0)
			break;
	}
	CHECK_INT(seen.n, CPU0_PAGES + 1);
	for (i = 1; i < seen.n; i++)
		CHECK(seen.ts[i] >= seen.ts[i - 1],
		      "event %d (cpu%d, t0+%llu) after t0+%llu", i,
		      seen.cpu[i], (unsigned long long)(seen.ts[i] - t0),
		      (unsigned long long)(seen.ts[i - 1] - t0));
	for (i = 0; i < seen.n; i++)
		if (seen.cpu[i] == 1)
			cpu1_at = i;
	CHECK_INT(cpu1_at, 66);
	CHECK_INT(klpt_session_late(s), 0);
out:
	klpt_session_close(s);
	fake_tracefs_cleanup(&ft);
}

int main(void)
{
	RUN(test_cpu_with_more_pages_than_a_fill);
	return check_summary();
}
