// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Sessions without a kernel: live sessions opened on a fake tracefs and
 * a fake /sys + /proc (fake_tracefs.h), never the host's tracing.
 *
 * The pages a test writes carry CLOCK_MONOTONIC timestamps, the clock a
 * live session sets on its instance: "past" ones (before the open) are
 * older than the start-up snapshot, "future" ones newer.  That is how
 * the start-up ordering is checked without racing anything.
 */
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "check.h"
#include "fake_tracefs.h"
#include "internal.h"

#define LP "klpt_lp_sleep"
#define LP2 "klpt_lp_sleep2"
#define TARGET "klpt_target_sleep"
#define FUNC "klpt_sleep_fn"
#define SLEEPER 105

static struct fake_tracefs ft;

/* ------------------------------------------------------------- helpers */

#define MAX_SEEN 64

/* What the callback saw: types in order, a few fields copied. */
struct seen {
	int n;
	int stop_every;		/* return 1 from every Nth event (0: never) */
	enum klpt_event_type type[MAX_SEEN];
	uint64_t ts[MAX_SEEN];
	int cpu[MAX_SEEN];
	int pid[MAX_SEEN];
	int refcnt[MAX_SEEN];
	uint64_t lost[MAX_SEEN];
	unsigned int checks[MAX_SEEN];	/* BLOCKED: the task's, after it */
	char name[MAX_SEEN][32];	/* patch or module */
	int in_session_model;	/* the session handed in could be queried */
};

static int on_event(struct klpt_session *s, const struct klpt_event *ev,
		    void *ctx)
{
	struct seen *seen = ctx;
	const char *name = NULL;
	int i = seen->n;

	if (klpt_session_model(s))
		seen->in_session_model++;
	if (i >= MAX_SEEN)
		return 0;
	seen->n++;
	seen->type[i] = ev->type;
	seen->ts[i] = ev->ts;
	seen->cpu[i] = ev->cpu;
	switch (ev->type) {
	case KLPT_EV_TASK_BLOCKED:
		if (klpt_task_find(s, ev->task.pid))
			seen->checks[i] =
				klpt_task_checks(klpt_task_find(s, ev->task.pid));
		/* fall through */
	case KLPT_EV_TASK_SWITCH:
	case KLPT_EV_TASK_EXIT:
	case KLPT_EV_TASK_NEW:
	case KLPT_EV_TASK_RENAME:
	case KLPT_EV_TASK_EXEC:
	case KLPT_EV_TASK_FORK_FAILED:
		seen->pid[i] = ev->task.pid;
		name = ev->task.patch;
		break;
	case KLPT_EV_MODULE_REF:
	case KLPT_EV_MODULE_UNLOAD_READY:
	case KLPT_EV_MODULE_FREE:
	case KLPT_EV_MODULE_LOAD:
		seen->refcnt[i] = ev->module.refcnt;
		name = ev->module.module;
		break;
	case KLPT_EV_PATCH_FREE:
	case KLPT_EV_PATCH_RELEASE:
		name = ev->patch.patch;
		break;
	case KLPT_EV_LOST:
		seen->lost[i] = ev->lost.count;
		break;
	case KLPT_EV_RESYNC:
		break;
	default:
		name = ev->transition.patch;
	}
	snprintf(seen->name[i], sizeof(seen->name[i]), "%s",
		 name ? name : "");
	return seen->stop_every && seen->n % seen->stop_every == 0;
}

static int open_fake(unsigned int flags, struct seen *seen,
		     struct klpt_session **s)
{
	KLPT_OPTS_INIT(klpt_session_opts, o, .on_event = on_event,
		       .ctx = seen, .flags = flags,
		       .tracefs_dir = ft.tracefs, .root = ft.root,
		       .poll_ms = 3600 * 1000);

	return klpt_session_open_live(&o, s);
}

/* The contents of an instance file, without the newline. */
static const char *inst_file(const char *rel)
{
	static char buf[256];
	int n = ft_read(buf, sizeof(buf), "%s/%s", ft.inst, rel);

	if (n < 0)
		return "(missing)";
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

static bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* A time well before the open, and one well after it (1 h). */
static uint64_t past(void)
{
	uint64_t now = fake_now();

	return now > 20000000000ull ? now - 10000000000ull : 1000;
}

static uint64_t future(void)
{
	return fake_now() + 3600000000000ull;
}

/*
 * The system of the disable scenario of the foundation issue: the patch
 * LP is being disabled (enabled 0, transition 1), the kthread SLEEPER
 * sleeps in FUNC and is still patched; its module holds one reference.
 */
static void disable_system(void)
{
	CHECK_INT(fake_patch(&ft, LP, 0, 1), 0);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
	CHECK_INT(fake_module(&ft, TARGET, 0, false), 0);
	CHECK_INT(fake_task(&ft, 1, 1, "init", 0, false), 0);
	CHECK_INT(fake_task(&ft, SLEEPER, SLEEPER, "klpt_sleeper", 1, true), 0);
}

static int blocked(struct fake_page *pg, uint64_t ts)
{
	return FAKE_EVENT(&ft, pg, ts, "klp", "klp_task_blocked",
			  FV("pid", SLEEPER), FV("tgid", SLEEPER),
			  FV("comm", "klpt_sleeper"), FV("patch", LP),
			  FV("target", KLPT_UNPATCHED),
			  FV("reason", KLPT_REASON_SLEEPING_IN_FUNC),
			  FV("err", -98), FV("func", FUNC));
}

static int pass(struct fake_page *pg, uint64_t ts, int n, int pending)
{
	return FAKE_EVENT(&ft, pg, ts, "klp", "klp_transition_pass",
			  FV("patch", LP), FV("target", KLPT_UNPATCHED),
			  FV("pass", n), FV("checked", 3),
			  FV("pending", pending));
}

static int exited(struct fake_page *pg, uint64_t ts, const char *comm, int pid)
{
	return FAKE_EVENT(&ft, pg, ts, "sched", "sched_process_exit",
			  FV("comm", comm), FV("pid", pid), FV("prio", 120));
}

/* Write pg to cpu's buffer; the session's next pass reads `want` events. */
static void deliver(struct klpt_session *s, int cpu, struct fake_page *pg,
		    int want)
{
	CHECK_INT(fake_page_write(&ft, cpu, pg), 0);
	CHECK_INT(klpt_session_process(s), want);
}

/*
 * One CPU, the patch LP enabled (in a transition or not) and its
 * livepatch module loaded with one reference: the klptrace.ko tests'
 * system before they set the module's own files.
 */
static void lp_system(int transition)
{
	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, transition), 0);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
}

/* Start recording s into the fake root's rec (its path in dir). */
static void record_to(struct klpt_session *s, char *dir, size_t size)
{
	snprintf(dir, size, "%s/rec", ft.dir);
	CHECK_INT(klpt_session_record(s, dir), 0);
}

/* Open the replay of the recording dir; its events go into again. */
static int open_replay(const char *dir, struct seen *again,
		       struct klpt_session **r)
{
	KLPT_OPTS_INIT(klpt_session_opts, ro, .on_event = on_event,
		       .ctx = again);

	return klpt_session_open_replay(dir, &ro, r);
}

/* A test's end: its session (NULL if the open failed), then the fake root. */
static void finish(struct klpt_session *s)
{
	klpt_session_close(s);
	fake_tracefs_cleanup(&ft);
}

/* ---------------------------------------------------------------- tests */

static void test_version_and_names(void)
{
	char major[16];
	int t, u;

	snprintf(major, sizeof(major), "%d.%d.", KLPT_VERSION_MAJOR,
		 KLPT_VERSION_MINOR);
	CHECK(!strncmp(klpt_version(), major, strlen(major)), "version %s",
	      klpt_version());
	CHECK_STR(klpt_event_type_name(KLPT_EV_TASK_SWITCH),
		  "klp_task_switch");
	CHECK_STR(klpt_event_type_name(KLPT_EV_MODULE_LOAD), "module_load");
	CHECK_STR(klpt_event_type_name(KLPT_EV_RESYNC), "resync");
	for (t = 0; t < KLPT_EV__COUNT; t++) {
		CHECK(klpt_event_type_name(t), "type %d has no name", t);
		for (u = 0; u < t; u++)
			CHECK(strcmp(klpt_event_type_name(t),
				     klpt_event_type_name(u)),
			      "types %d and %d share a name", t, u);
	}
	CHECK(!klpt_event_type_name(KLPT_EV__COUNT), "past the end");
	CHECK(!klpt_event_type_name(-1), "negative");
}

/*
 * The whole disable, split by the open: what happened before it is
 * folded into the start-up model silently; what follows is delivered in
 * timestamp order across the two CPUs.
 */
static void test_live_disable(void)
{
	struct seen seen = { 0 };
	struct fake_page p0, p1;
	struct klpt_session *s = NULL;
	const struct klpt_patch *p;
	const struct klpt_task *t;
	const struct klpt_module *m;
	uint64_t t0 = past(), tf = future();
	static const enum klpt_event_type want[] = {
		KLPT_EV_TASK_BLOCKED, KLPT_EV_TRANSITION_PASS,
		KLPT_EV_TASK_SWITCH, KLPT_EV_TRANSITION_PASS,
		KLPT_EV_TRANSITION_COMPLETE, KLPT_EV_PATCH_FREE,
		KLPT_EV_PATCH_RELEASE, KLPT_EV_MODULE_REF,
		KLPT_EV_MODULE_UNLOAD_READY,
	};
	char why[256];
	size_t i;
	int ret;

	CHECK_INT(fake_tracefs_init(&ft, 2, FAKE_KLP), 0);
	/* The runners point at the VM's formats: they must be what we use. */
	if (getenv("KLPT_TEST_FIXTURES"))
		CHECK(ft.fixtures == (int)FAKE_NFORMATS,
		      "%d of %zu formats from $KLPT_TEST_FIXTURES", ft.fixtures,
		      FAKE_NFORMATS);
	disable_system();
	fake_page_init(&p0);
	fake_page_init(&p1);
	/* Before the open (the snapshot reflects these). */
	CHECK_INT(FAKE_EVENT(&ft, &p0, t0 + 1, "klp", "klp_transition_init",
			     FV("patch", LP), FV("target", KLPT_UNPATCHED)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p0, t0 + 2, "klp", "klp_transition_start",
			     FV("patch", LP), FV("target", KLPT_UNPATCHED)), 0);
	CHECK_INT(blocked(&p1, t0 + 3), 0);
	CHECK_INT(pass(&p0, t0 + 4, 0, 1), 0);
	/* After it, alternating CPUs, CPU 1's pages written first. */
	CHECK_INT(blocked(&p1, tf + 1), 0);
	CHECK_INT(pass(&p0, tf + 2, 1, 1), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p1, tf + 3, "klp", "klp_task_switch",
			     FV("pid", SLEEPER), FV("tgid", SLEEPER),
			     FV("comm", "klpt_sleeper"),
			     FV("from", KLPT_PATCHED), FV("to", KLPT_UNPATCHED),
			     FV("via", KLPT_VIA_STACK_CHECK)), 0);
	CHECK_INT(pass(&p0, tf + 4, 2, 0), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p1, tf + 5, "klp", "klp_transition_complete",
			     FV("patch", LP), FV("target", KLPT_UNPATCHED),
			     FV("forced", 0)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p0, tf + 6, "klp", "klp_patch_free",
			     FV("patch", LP), FV("forced", 0)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p1, tf + 7, "klp", "klp_patch_release",
			     FV("patch", LP), FV("forced", 0)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p0, tf + 8, "klp", "klp_module_ref",
			     FV("module", LP), FV("op", 2), FV("refcnt", 0),
			     FV("ip", 0xffffffff81234567ll),
			     FV("caller", "klp_free_patch_finish")), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p1, tf + 9, "klp",
			     "klp_module_unload_ready", FV("module", LP)), 0);
	CHECK_INT(fake_page_write(&ft, 1, &p1), 0);
	CHECK_INT(fake_page_write(&ft, 0, &p0), 0);

	ret = open_fake(0, &seen, &s);
	CHECK_INT(ret, 0);
	if (!s)
		goto out;
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_EVENTS);
	/* klp events with neither klptrace.ko directory: the kernel's own */
	CHECK(klpt_session_native(s), "klp events without klptrace.ko");
	CHECK(klpt_session_fd(s) >= 0, "fd %d", klpt_session_fd(s));

	/* The instance is set up for low latency and one clock. */
	CHECK_STR(inst_file("buffer_percent"), "0");
	CHECK_STR(inst_file("trace_clock"), "mono");
	CHECK_STR(inst_file("buffer_size_kb"), "1024");
	CHECK_STR(inst_file("tracing_on"), "1");
	CHECK_STR(inst_file("events/klp/enable"), "1");
	CHECK_STR(inst_file("events/module/module_load/enable"), "1");
	/* klp_module_ref covers livepatch modules: no module_get flood */
	CHECK_STR(inst_file("events/module/module_get/enable"), "0");

	/* Start-up: the early events are in the model, not delivered. */
	CHECK_INT(seen.n, 0);
	CHECK_INT(klpt_session_events(s), 0);
	p = klpt_patch_find(s, LP);
	CHECK(p, "patch %s not in the model", LP);
	if (p) {
		CHECK(klpt_patch_in_transition(p), "not in transition");
		CHECK_INT(klpt_patch_target(p), KLPT_UNPATCHED);
		CHECK(!klpt_patch_enabled(p), "enabled");
	}
	t = klpt_task_find(s, SLEEPER);
	CHECK(t, "task %d not in the model", SLEEPER);
	if (t) {
		CHECK_INT(klpt_task_state(t), KLPT_PATCHED);
		CHECK(klpt_task_is_kthread(t), "not a kthread");
		/* only the pre-snapshot event can have told this */
		CHECK_INT(klpt_task_reason(t), KLPT_REASON_SLEEPING_IN_FUNC);
		CHECK_STR(klpt_task_func(t), FUNC);
	}
	m = klpt_module_find(s, LP);
	CHECK(m, "module %s not in the model", LP);
	if (m) {
		CHECK_INT(klpt_module_refcnt(m), 1);
		CHECK(klpt_module_verdict(s, m, why, sizeof(why)) != KLPT_READY,
		      "ready before the transition completed");
	}
	/* The first later record waits: the session fd says so. */
	CHECK(fd_readable(klpt_session_fd(s)), "session fd not readable");

	ret = klpt_session_process(s);
	CHECK_INT(ret, (int)(sizeof(want) / sizeof(want[0])));
	CHECK_INT(seen.n, (int)(sizeof(want) / sizeof(want[0])));
	CHECK_INT(klpt_session_events(s), seen.n);
	for (i = 0; i < sizeof(want) / sizeof(want[0]) && i < (size_t)seen.n;
	     i++) {
		CHECK(seen.type[i] == want[i], "event %zu is %s, not %s", i,
		      klpt_event_type_name(seen.type[i]),
		      klpt_event_type_name(want[i]));
		CHECK(seen.ts[i] == tf + 1 + i, "event %zu at %llu", i,
		      (unsigned long long)(seen.ts[i] - tf));
		CHECK_INT(seen.cpu[i], i % 2 ? 0 : 1);
	}
	/* each blocked event applied once: the early one and this one */
	CHECK_INT(seen.checks[0], 2);
	CHECK_STR(seen.name[7], LP);
	CHECK_INT(seen.refcnt[7], 0);
	CHECK_INT(seen.in_session_model, seen.n);
	CHECK_INT(klpt_session_process(s), 0);
	CHECK_INT(klpt_session_lost(s), 0);

	/* complete: the kernel resets every task to undefined */
	t = klpt_task_find(s, SLEEPER);
	if (t) {
		CHECK_INT(klpt_task_state(t), KLPT_UNDEFINED);
		CHECK_INT(klpt_task_reason(t), KLPT_REASON_NONE);
	}
	m = klpt_module_find(s, LP);
	CHECK(m, "module %s gone", LP);
	if (m) {
		CHECK_INT(klpt_module_refcnt(m), 0);
		CHECK_INT(klpt_module_verdict(s, m, why, sizeof(why)),
			  KLPT_READY);
	}
	CHECK(!fd_readable(klpt_session_fd(s)), "fd readable with nothing");
out:
	CHECK_INT(ft_puts("1\n", "%s/events/enable", ft.inst), 0);
	klpt_session_close(s);
	/* close disabled every event (events/enable) and stopped tracing */
	CHECK_STR(inst_file("events/enable"), "0");
	CHECK_STR(inst_file("tracing_on"), "0");
	fake_tracefs_cleanup(&ft);
}

/*
 * sched_process_exit is enabled in the instance and an exited task
 * leaves the model: one that exited before the snapshot (still in
 * procfs as a zombie: left out) and one after it.
 */
static void test_live_exit(void)
{
	struct seen seen = { 0 };
	struct fake_page p0;
	struct klpt_session *s = NULL;
	uint64_t tf = future();

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	disable_system();
	CHECK_INT(fake_task(&ft, 300, 300, "sleep", 1, false), 0);
	CHECK_INT(fake_task(&ft, 301, 301, "defunct", 1, false), 0);
	/* 301 is a zombie: stat says Z */
	CHECK_INT(ft_puts("301 (defunct) Z 1 301 0 0 -1 4194628 0 0 0 0 0 0 "
			  "0 0 20 0 1 0 100 0 0\n", "%s/proc/301/task/301/stat",
			  ft.root), 0);
	fake_page_init(&p0);
	CHECK_INT(exited(&p0, tf + 1, "sleep", 300), 0);
	CHECK_INT(fake_page_write(&ft, 0, &p0), 0);
	CHECK_INT(open_fake(0, &seen, &s), 0);
	if (!s)
		goto out;
	CHECK_STR(inst_file("events/sched/sched_process_exit/enable"), "1");
	CHECK(klpt_task_find(s, 300), "task 300 not in the model");
	CHECK(!klpt_task_find(s, 301), "a zombie in the model");
	CHECK_INT(klpt_session_process(s), 1);
	CHECK_INT(seen.type[0], KLPT_EV_TASK_EXIT);
	CHECK_INT(seen.pid[0], 300);
	CHECK(!klpt_task_find(s, 300), "task 300 still there after its exit");
	CHECK(klpt_task_find(s, SLEEPER), "the sleeper is gone");
out:
	finish(s);
}

/*
 * The snapshot wins over older events: a reference count an early
 * event reported is replaced by the one the snapshot read.
 */
static void test_snapshot_over_early_events(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	const struct klpt_module *m;
	struct fake_page pg;

	lp_system(0);
	fake_page_init(&pg);
	CHECK_INT(FAKE_EVENT(&ft, &pg, past(), "klp", "klp_module_ref",
			     FV("module", LP), FV("op", 1), FV("refcnt", 5),
			     FV("caller", "try_module_get")), 0);
	CHECK_INT(fake_page_write(&ft, 0, &pg), 0);
	CHECK_INT(open_fake(0, &seen, &s), 0);
	m = s ? klpt_module_find(s, LP) : NULL;
	CHECK(m, "module not found");
	if (m)
		CHECK_INT(klpt_module_refcnt(m), 1);
	CHECK_INT(seen.n, 0);
	CHECK(s && !fd_readable(klpt_session_fd(s)), "nothing should wait");
	CHECK_INT(klpt_session_process(s), 0);
	finish(s);
}

/*
 * A page that follows dropped events: LOST, the record, then a fresh
 * snapshot (RESYNC) that the model agrees with.
 */
static void test_lost_resync(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	const struct klpt_module *m;
	struct fake_page pg;
	uint64_t t0;

	CHECK_INT(fake_tracefs_init(&ft, 2, FAKE_KLP), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 0), 0);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
	CHECK_INT(open_fake(0, &seen, &s), 0);
	if (!s)
		goto out;

	/*
	 * What the kernel wrote after the open, read later: its timestamps
	 * are before the resync snapshot, which is taken when the loss is
	 * seen.  Meanwhile the truth moved on to 2 references.
	 */
	t0 = fake_now();
	fake_page_init(&pg);
	fake_page_missed(&pg, 5);
	CHECK_INT(FAKE_EVENT(&ft, &pg, t0, "klp", "klp_module_ref",
			     FV("module", LP), FV("op", 1), FV("refcnt", 3),
			     FV("caller", "x")), 0);
	CHECK_INT(fake_page_write(&ft, 1, &pg), 0);
	CHECK_INT(fake_module(&ft, LP, 2, true), 0);

	CHECK_INT(klpt_session_process(s), 3);
	CHECK_INT(seen.n, 3);
	CHECK_INT(seen.type[0], KLPT_EV_LOST);
	CHECK_INT(seen.lost[0], 5);
	CHECK_INT(seen.cpu[0], -1);
	CHECK_INT(seen.type[1], KLPT_EV_MODULE_REF);
	CHECK_INT(seen.refcnt[1], 3);
	CHECK_INT(seen.type[2], KLPT_EV_RESYNC);
	CHECK_INT(seen.cpu[2], -1);
	CHECK(seen.ts[2] > t0, "resync at %llu, the record at %llu",
	      (unsigned long long)seen.ts[2], (unsigned long long)t0);
	CHECK_INT(klpt_session_lost(s), 5);
	m = klpt_module_find(s, LP);
	if (m)
		CHECK_INT(klpt_module_refcnt(m), 2);

	/* A loss of unknown size counts as one. */
	fake_page_init(&pg);
	fake_page_missed(&pg, 0);
	CHECK_INT(FAKE_EVENT(&ft, &pg, fake_now(), "klp", "klp_module_ref",
			     FV("module", LP), FV("op", 2), FV("refcnt", 1),
			     FV("caller", "x")), 0);
	deliver(s, 0, &pg, 3);
	CHECK_INT(seen.type[3], KLPT_EV_LOST);
	CHECK_INT(seen.lost[3], 0);
	CHECK_INT(klpt_session_lost(s), 6);
	CHECK_INT(seen.type[5], KLPT_EV_RESYNC);
out:
	finish(s);
}

/* on_event returning non-zero stops process(); the rest waits. */
static void test_callback_stop(void)
{
	struct seen seen = { .stop_every = 1 };
	struct klpt_session *s = NULL;
	struct fake_page pg;
	uint64_t tf = future();
	int i;

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 1), 0);
	fake_page_init(&pg);
	for (i = 0; i < 3; i++)
		CHECK_INT(pass(&pg, tf + i, i, 1), 0);
	CHECK_INT(fake_page_write(&ft, 0, &pg), 0);
	CHECK_INT(open_fake(0, &seen, &s), 0);
	if (!s)
		goto out;
	for (i = 0; i < 3; i++) {
		CHECK(fd_readable(klpt_session_fd(s)), "call %d: not readable",
		      i);
		CHECK_INT(klpt_session_process(s), 1);
		CHECK_INT(seen.n, i + 1);
	}
	CHECK_INT(klpt_session_process(s), 0);
	CHECK_INT(klpt_session_events(s), 3);
	CHECK(!fd_readable(klpt_session_fd(s)), "readable at the end");
	/* poll: the same, and a plain timeout with nothing there */
	CHECK_INT(klpt_session_poll(s, 0), 0);
	CHECK_INT(klpt_session_poll(s, 1), 0);
out:
	finish(s);
}

/* klpt_session_poll() handles what is there without waiting. */
static void test_poll(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	struct fake_page pg;

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 0), 0);
	CHECK_INT(open_fake(0, &seen, &s), 0);
	if (!s)
		goto out;
	fake_page_init(&pg);
	CHECK_INT(FAKE_EVENT(&ft, &pg, future(), "klp", "klp_transition_init",
			     FV("patch", LP), FV("target", KLPT_UNPATCHED)), 0);
	CHECK_INT(fake_page_write(&ft, 0, &pg), 0);
	/* -1 would hang if poll waited before looking */
	CHECK_INT(klpt_session_poll(s, -1), 1);
	CHECK_INT(seen.type[0], KLPT_EV_TRANSITION_INIT);
out:
	finish(s);
}

/*
 * No klp events (klptrace.ko not loaded): the fallback.  module:* events
 * stand in for klp_module_ref, and the polling timer re-reads the truth.
 */
static void test_fallback(void)
{
	KLPT_OPTS_INIT(klpt_session_opts, o, .on_event = on_event,
		       .poll_ms = 5);
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	const struct klpt_task *t;
	const struct klpt_module *m;
	struct fake_page pg;
	int ret, i;

	CHECK_INT(fake_tracefs_init(&ft, 2, FAKE_NO_KLP), 0);
	/* LP is being enabled; the sleeper has not switched yet */
	CHECK_INT(fake_patch(&ft, LP, 1, 1), 0);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
	CHECK_INT(fake_task(&ft, SLEEPER, SLEEPER, "klpt_sleeper", 0, true), 0);

	/* Events (the timer is an hour away in open_fake). */
	CHECK_INT(open_fake(0, &seen, &s), 0);
	if (!s)
		goto out;
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_FALLBACK);
	CHECK(!klpt_session_native(s), "the fallback said native");
	CHECK_STR(inst_file("events/module/module_get/enable"), "1");
	CHECK_STR(inst_file("events/module/module_put/enable"), "1");
	CHECK_STR(inst_file("events/module/module_free/enable"), "1");
	CHECK_STR(inst_file("events/module/module_load/enable"), "1");
	CHECK_STR(inst_file("buffer_percent"), "0");
	t = klpt_task_find(s, SLEEPER);
	CHECK(t, "sleeper not in the model");
	if (t) {
		CHECK_INT(klpt_task_state(t), KLPT_UNPATCHED);
		/* pending, and the fallback cannot say why */
		CHECK_INT(klpt_task_reason(t), KLPT_REASON_UNKNOWN);
	}
	/* module_put's raw refcnt is one above what sysfs shows */
	fake_page_init(&pg);
	CHECK_INT(FAKE_EVENT(&ft, &pg, future(), "module", "module_put",
			     FV("name", LP), FV("refcnt", 1),
			     FV("ip", 0xffffffff81000000ll)), 0);
	deliver(s, 1, &pg, 1);
	CHECK_INT(seen.type[0], KLPT_EV_MODULE_REF);
	CHECK_INT(seen.refcnt[0], 0);
	CHECK_STR(seen.name[0], LP);
	klpt_session_close(s);
	s = NULL;
	CHECK_INT(fake_pipes_clear(&ft), 0);

	/*
	 * The timer.  The sleeper switches after the open, without an
	 * event; no process() ran before, so any RESYNC is a snapshot taken
	 * after the switch, whenever the timer fired.
	 */
	memset(&seen, 0, sizeof(seen));
	o.ctx = &seen;
	o.tracefs_dir = ft.tracefs;
	o.root = ft.root;
	ret = klpt_session_open_live(&o, &s);
	CHECK_INT(ret, 0);
	if (!s)
		goto out;
	CHECK_INT(fake_task_state(&ft, SLEEPER, SLEEPER, 1), 0);
	for (i = 0; i < 100 && !seen.n; i++) {
		ret = klpt_session_poll(s, 1000);	/* the timer wakes it */
		CHECK(ret >= 0, "poll: %d", ret);
	}
	CHECK(seen.n >= 1, "no resync from the timer");
	CHECK_INT(seen.type[0], KLPT_EV_RESYNC);
	t = klpt_task_find(s, SLEEPER);
	if (t) {
		CHECK_INT(klpt_task_state(t), KLPT_PATCHED);
		CHECK_INT(klpt_task_reason(t), KLPT_REASON_NONE);
	}
	m = klpt_module_find(s, LP);
	if (m)
		CHECK_INT(klpt_module_refcnt(m), 1);
out:
	finish(s);
}

/*
 * Poll (the timer wakes it every poll_ms) until the callback has seen
 * `want` events; bounded.
 */
static void poll_until(struct klpt_session *s, struct seen *seen, int want)
{
	int i, ret;

	for (i = 0; i < 200 && seen->n < want; i++) {
		ret = klpt_session_poll(s, 1000);
		CHECK(ret >= 0, "poll: %d", ret);
		if (ret < 0)
			break;
	}
	CHECK(seen->n >= want, "saw %d events, expected %d", seen->n, want);
}

static int open_polling(struct seen *seen, struct klpt_session **s)
{
	KLPT_OPTS_INIT(klpt_session_opts, o, .on_event = on_event,
		       .ctx = seen, .tracefs_dir = ft.tracefs,
		       .root = ft.root, .poll_ms = 5);

	return klpt_session_open_live(&o, s);
}

/*
 * The fallback's cheap ticks in a session (fbscan.c; test_fbscan.c has
 * the cases): only the unsettled tasks are read, a tick that finds
 * nothing new says nothing, one that finds a switch says RESYNC, and a
 * module loaded makes the next tick read everything.  The probe: the
 * settled task's file goes back to !target, which the kernel never does
 * in a transition; only a whole snapshot reads it.
 */
static void test_fallback_cheap_ticks(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	const struct klpt_task *t;
	struct fake_page pg;
	int i;

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_NO_KLP), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 1), 0);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
	CHECK_INT(fake_task(&ft, 300, 300, "app", 1, false), 0);
	CHECK_INT(fake_task(&ft, SLEEPER, SLEEPER, "klpt_sleeper", 0, true), 0);
	CHECK_INT(open_polling(&seen, &s), 0);
	if (!s)
		goto out;
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_FALLBACK);
	/* ticks (every 5 ms, then backing off to 40) that find nothing */
	for (i = 0; i < 10; i++)
		CHECK(klpt_session_poll(s, 20) >= 0, "poll");
	CHECK_INT(seen.n, 0);

	CHECK_INT(fake_task_state(&ft, 300, 300, 0), 0);
	CHECK_INT(fake_task_state(&ft, SLEEPER, SLEEPER, 1), 0);
	poll_until(s, &seen, 1);
	CHECK_INT(seen.type[0], KLPT_EV_RESYNC);
	t = klpt_task_find(s, SLEEPER);
	CHECK(t && klpt_task_state(t) == KLPT_PATCHED, "sleeper not patched");
	t = klpt_task_find(s, 300);
	CHECK(t && klpt_task_state(t) == KLPT_PATCHED, "300 was read");

	fake_page_init(&pg);
	CHECK_INT(FAKE_EVENT(&ft, &pg, future(), "module", "module_load",
			     FV("name", "klpt_lp_other"), FV("taints", 0)), 0);
	CHECK_INT(fake_page_write(&ft, 0, &pg), 0);
	poll_until(s, &seen, 3);
	CHECK_INT(seen.type[1], KLPT_EV_MODULE_LOAD);
	CHECK_INT(seen.type[2], KLPT_EV_RESYNC);
	t = klpt_task_find(s, 300);
	CHECK(t && klpt_task_state(t) == KLPT_UNPATCHED,
	      "the whole snapshot did not read 300");
out:
	finish(s);
}

/* klptrace.ko loaded, its hooks live, and ftrace on. */
static void hooks_live(void)
{
	CHECK_INT(fake_klptrace(&ft, NULL, true, 0, 0, -1), 0);
	CHECK_INT(fake_ftrace_sysctl(&ft, 1), 0);
}

/* ftrace switched off: klptrace.ko says its kprobes are inactive. */
static void hooks_ftrace_off(void)
{
	CHECK_INT(fake_ftrace_sysctl(&ft, 0), 0);
	CHECK_INT(fake_klptrace(&ft, "ftrace_off", true, 0, 0, -1), 0);
}

/*
 * The session saw its hooks stop or lose events: one LOST of an unknown
 * count (0), then RESYNC, and one loss counted.
 */
static void one_loss_then_resync(struct klpt_session *s, struct seen *seen)
{
	poll_until(s, seen, 2);
	CHECK_INT(seen->type[0], KLPT_EV_LOST);
	CHECK_INT(seen->lost[0], 0);
	CHECK_INT(seen->type[1], KLPT_EV_RESYNC);
	CHECK_INT(klpt_session_lost(s), 1);
}

/*
 * klptrace.ko while it loads: 6.1 load_module() lists it in /proc/modules
 * and adds its trace events (prepare_coming_module()) before
 * /sys/module/klptrace exists (mod_sysfs_setup()).  A session opened in
 * that window is not on the kernel's own events.
 */
static void test_native_loading_module(void)
{
	static const char mods[] =
		"ext4 1024 1 - Live 0x0000000000000000\n"
		"klptrace 65536 0 - Loading 0x0000000000000000\n";
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;

	lp_system(0);
	CHECK_INT(ft_write(mods, sizeof(mods) - 1, "%s/proc/modules",
			   ft.root), 0);
	CHECK_INT(open_fake(0, &seen, &s), 0);
	if (!s)
		goto out;
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_EVENTS);
	CHECK(!klpt_session_native(s), "klptrace.ko loading said native");
out:
	finish(s);
}

/*
 * /sys/kernel/klptrace/missed grows (a probe hit the kernel could not
 * report): LOST with the growth, then RESYNC.  Counts from before the
 * open are not losses of this session.
 */
static void test_missed_resync(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	const struct klpt_module *m;
	struct fake_page pg;
	int i;

	lp_system(0);
	CHECK_INT(fake_klptrace(&ft, NULL, true, 2, 1, -1), 0);
	CHECK_INT(open_polling(&seen, &s), 0);
	if (!s)
		goto out;
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_EVENTS);
	CHECK(!klpt_session_native(s), "klptrace.ko's events said native");
	/* the old counts: no loss (each poll returns after a timer tick) */
	for (i = 0; i < 3; i++)
		CHECK_INT(klpt_session_poll(s, 1000), 0);
	CHECK_INT(seen.n, 0);

	/*
	 * A lost klp_module_ref: the truth moved on to 2 references.  A
	 * record from before the loss is seen, still unread, is older than
	 * the moment the loss is seen: the LOST must not be dated after it.
	 */
	fake_page_init(&pg);
	CHECK_INT(FAKE_EVENT(&ft, &pg, fake_now(), "klp", "klp_module_ref",
			     FV("module", LP), FV("op", 1), FV("refcnt", 2),
			     FV("caller", "x")), 0);
	CHECK_INT(fake_page_write(&ft, 0, &pg), 0);
	CHECK_INT(fake_module(&ft, LP, 2, true), 0);
	CHECK_INT(fake_klptrace(&ft, NULL, true, 4, 2, -1), 0);
	while (klpt_session_lost(s) == 0 && seen.n < MAX_SEEN - 2)
		poll_until(s, &seen, seen.n + 1);
	for (i = 0; i < seen.n && seen.type[i] != KLPT_EV_LOST; i++)
		;
	CHECK(i + 1 < seen.n, "no LOST then RESYNC among %d events", seen.n);
	if (i + 1 < seen.n) {
		CHECK_INT(seen.lost[i], 3);
		CHECK_INT(seen.type[seen.n - 1], KLPT_EV_RESYNC);
	}
	for (i = 1; i < seen.n; i++)
		CHECK(seen.ts[i] >= seen.ts[i - 1], "event %d (type %d) at %llu "
		      "before event %d at %llu", i, seen.type[i],
		      (unsigned long long)seen.ts[i], i - 1,
		      (unsigned long long)seen.ts[i - 1]);
	CHECK_INT(klpt_session_lost(s), 3);
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_EVENTS);
	m = klpt_module_find(s, LP);
	CHECK(m, "module not in the model");
	if (m)
		CHECK_INT(klpt_module_refcnt(m), 2);
out:
	finish(s);
}

/*
 * klptrace.ko's hooks stop firing (kernel.ftrace_enabled=0: its kprobes
 * are ftrace-based) and come back: LOST + RESYNC each time, the
 * fallback in between (module events, the truth polled, no per-task
 * reason it cannot know).
 */
static void test_hooks_off(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	const struct klpt_module *m;
	struct fake_page pg;
	int i;

	lp_system(0);
	hooks_live();
	CHECK_INT(open_polling(&seen, &s), 0);
	if (!s)
		goto out;
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_EVENTS);
	CHECK_STR(inst_file("events/module/module_put/enable"), "0");

	hooks_ftrace_off();
	one_loss_then_resync(s, &seen);
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_FALLBACK);
	CHECK_STR(inst_file("events/module/module_put/enable"), "1");
	CHECK_STR(inst_file("events/module/module_get/enable"), "1");
	CHECK_STR(inst_file("events/klp/enable"), "1");

	/* module:* now stand in for klp_module_ref */
	CHECK_INT(fake_pipes_clear(&ft), 0);
	fake_page_init(&pg);
	CHECK_INT(FAKE_EVENT(&ft, &pg, future(), "module", "module_put",
			     FV("name", LP), FV("refcnt", 1),
			     FV("ip", 0xffffffff81000000ll)), 0);
	CHECK_INT(fake_page_write(&ft, 0, &pg), 0);
	/* (the fallback's timer resyncs meanwhile, as often as it ticks) */
	i = 2;
	while (seen.n < MAX_SEEN - 4) {
		poll_until(s, &seen, i + 1);
		if (seen.n <= i || seen.type[i] == KLPT_EV_MODULE_REF)
			break;
		CHECK_INT(seen.type[i], KLPT_EV_RESYNC);
		i++;
	}
	CHECK_INT(seen.type[i], KLPT_EV_MODULE_REF);
	CHECK_INT(seen.refcnt[i], 0);

	/* the hooks fire again: LOST (the gap) and RESYNC, events mode */
	CHECK_INT(fake_module(&ft, LP, 0, true), 0);
	CHECK_INT(fake_ftrace_sysctl(&ft, 1), 0);
	CHECK_INT(fake_klptrace(&ft, NULL, true, 0, 0, -1), 0);
	while (klpt_session_mode(s) != KLPT_MODE_EVENTS && seen.n < MAX_SEEN)
		poll_until(s, &seen, seen.n + 1);
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_EVENTS);
	/* the same process() call resynced (its snapshot was filled past) */
	CHECK_INT(seen.type[seen.n - 2], KLPT_EV_LOST);
	CHECK_INT(seen.type[seen.n - 1], KLPT_EV_RESYNC);
	CHECK_INT(klpt_session_lost(s), 2);
	CHECK_STR(inst_file("events/module/module_put/enable"), "0");
	m = klpt_module_find(s, LP);
	if (m)
		CHECK_INT(klpt_module_refcnt(m), 0);
out:
	finish(s);
}

/*
 * Hooks off from the open: the fallback from the start, without a LOST.
 * A module that cannot read ftrace_enabled itself (no symbol line) is
 * helped by /proc/sys/kernel/ftrace_enabled.  A pending task has no
 * reason the session could know.
 */
static void test_hooks_off_at_open(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	const struct klpt_task *t;

	lp_system(1);
	CHECK_INT(fake_task(&ft, SLEEPER, SLEEPER, "klpt_sleeper", 0, true), 0);
	CHECK_INT(fake_klptrace(&ft, NULL, false, 0, 0, -1), 0);
	CHECK_INT(fake_ftrace_sysctl(&ft, 0), 0);
	CHECK_INT(open_polling(&seen, &s), 0);
	if (!s)
		goto out;
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_FALLBACK);
	CHECK_INT(klpt_session_lost(s), 0);
	CHECK_STR(inst_file("events/module/module_get/enable"), "1");
	t = klpt_task_find(s, SLEEPER);
	CHECK(t, "sleeper not in the model");
	if (t)
		CHECK_INT(klpt_task_reason(t), KLPT_REASON_UNKNOWN);
	/* the module knows ftrace_enabled: its "active" is the truth */
	CHECK_INT(fake_klptrace(&ft, NULL, true, 0, 0, -1), 0);
	while (klpt_session_mode(s) != KLPT_MODE_EVENTS && seen.n < MAX_SEEN)
		poll_until(s, &seen, seen.n + 1);
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_EVENTS);
out:
	finish(s);
}

/*
 * A hostile or corrupt missed file: a count that is no decimal ("-7",
 * which strtoull() takes as 2^64 - 7), one above KLPT_COUNT_MAX, a line
 * too long for klptrace.ko's: skipped, never summed into a wrapped loss.
 */
static void test_missed_hostile(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	char buf[512];
	int i;

	lp_system(0);
	CHECK_INT(fake_klptrace(&ft, NULL, true, 0, 0, -1), 0);
	CHECK_INT(open_polling(&seen, &s), 0);
	if (!s)
		goto out;
	CHECK_INT(klpt_session_poll(s, 1000), 0);
	CHECK_INT(seen.n, 0);
	i = snprintf(buf, sizeof(buf),
		     "a 18446744073709551615\nb 5\n-7\nc -7\nd 99999999999999999999999\nz 1 ");
	memset(buf + i, '9', 200);
	strcpy(buf + i + 200, "\n");
	CHECK_INT(ft_puts(buf, "%s/sys/kernel/klptrace/missed", ft.root), 0);
	while (klpt_session_lost(s) == 0 && seen.n < MAX_SEEN - 2)
		poll_until(s, &seen, seen.n + 1);
	CHECK(seen.n >= 1 && seen.type[0] == KLPT_EV_LOST,
	      "no LOST among %d events", seen.n);
	CHECK_INT(seen.lost[0], 5);
	CHECK_INT(klpt_session_lost(s), 5);
	/* the largest count taken, twice: saturated, not wrapped */
	CHECK_INT(ft_puts("a 9007199254740991\nb 9007199254740991\n",
			  "%s/sys/kernel/klptrace/missed", ft.root), 0);
	while (klpt_session_lost(s) == 5 && seen.n < MAX_SEEN - 2)
		poll_until(s, &seen, seen.n + 1);
	CHECK(klpt_session_lost(s) == 5 + 9007199254740991ull - 5,
	      "lost %llu", (unsigned long long)klpt_session_lost(s));
out:
	finish(s);
}

/*
 * While the hooks are off, a hooks file that cannot be read (3 MB) or
 * holds no hook line is not "klptrace.ko removed": its directory is
 * there.  The session stays degraded and leaves the fallback when the
 * hooks fire again; only the directory gone ends the events mode.
 */
static void test_hooks_unreadable_degraded(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	char *big = NULL;
	uint64_t lost;
	int i;

	lp_system(0);
	hooks_live();
	CHECK_INT(open_polling(&seen, &s), 0);
	if (!s)
		goto out;
	hooks_ftrace_off();
	poll_until(s, &seen, 2);
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_FALLBACK);
	lost = klpt_session_lost(s);

	big = malloc(3000000);
	CHECK(big, "malloc");
	if (!big)
		goto out;
	memset(big, 'x', 3000000);
	for (i = 299; i < 3000000; i += 300)
		big[i] = '\n';
	CHECK_INT(ft_write(big, 3000000, "%s/sys/kernel/klptrace/hooks",
			   ft.root), 0);
	for (i = 0; i < 5; i++)
		CHECK(klpt_session_poll(s, 1000) >= 0, "poll");
	CHECK_INT(ft_write("\0\0\0garbage\n\n\n", 13,
			   "%s/sys/kernel/klptrace/hooks", ft.root), 0);
	for (i = 0; i < 5; i++)
		CHECK(klpt_session_poll(s, 1000) >= 0, "poll");
	CHECK(klpt_session_lost(s) == lost, "lost %llu, was %llu",
	      (unsigned long long)klpt_session_lost(s),
	      (unsigned long long)lost);
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_FALLBACK);

	/* the hooks fire again: the events mode */
	CHECK_INT(fake_ftrace_sysctl(&ft, 1), 0);
	CHECK_INT(fake_klptrace(&ft, NULL, true, 0, 0, -1), 0);
	for (i = 0; i < 200 && klpt_session_mode(s) != KLPT_MODE_EVENTS; i++)
		CHECK(klpt_session_poll(s, 1000) >= 0, "poll");
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_EVENTS);
out:
	free(big);
	finish(s);
}

/*
 * kernel.ftrace_enabled switched (klptrace.ko counts the switches): the
 * hooks were off and on again between two ticks, unseen by hooks
 * itself.  LOST (an unknown number) and RESYNC; still the events
 * mode.  A session never sees a count it had at its open as a loss.
 */
static void test_ftrace_switches(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;

	lp_system(0);
	CHECK_INT(fake_klptrace(&ft, NULL, true, 0, 0, 3), 0);
	CHECK_INT(open_polling(&seen, &s), 0);
	if (!s)
		goto out;
	CHECK_INT(klpt_session_poll(s, 1000), 0);
	CHECK_INT(seen.n, 0);
	CHECK_INT(fake_klptrace(&ft, NULL, true, 0, 0, 5), 0);
	one_loss_then_resync(s, &seen);
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_EVENTS);
out:
	finish(s);
}

/*
 * Losses found outside the ring buffer are in the recording too: its
 * next page is marked as the kernel marks an overrun, and the replay
 * counts as many lost events as the live session did.
 */
static void test_record_lost(void)
{
	struct seen seen = { 0 }, again = { 0 };
	struct klpt_session *s = NULL, *r = NULL;
	struct fake_page pg;
	char dir[1024];
	int i, ret;

	lp_system(0);
	CHECK_INT(fake_task(&ft, 1, 1, "init", 0, false), 0);
	CHECK_INT(fake_klptrace(&ft, NULL, true, 0, 0, -1), 0);
	CHECK_INT(open_polling(&seen, &s), 0);
	if (!s)
		goto out;
	record_to(s, dir, sizeof(dir));
	CHECK_INT(fake_klptrace(&ft, NULL, true, 2, 1, -1), 0);
	poll_until(s, &seen, 1);
	CHECK_INT(seen.type[0], KLPT_EV_LOST);
	CHECK_INT(seen.lost[0], 3);
	CHECK_INT(fake_klptrace(&ft, "ftrace_off", true, 2, 1, -1), 0);
	while (klpt_session_mode(s) != KLPT_MODE_FALLBACK &&
	       seen.n < MAX_SEEN)
		poll_until(s, &seen, seen.n + 1);
	CHECK_INT(klpt_session_lost(s), 4);
	/* a page after the losses */
	fake_page_init(&pg);
	CHECK_INT(exited(&pg, future(), "init", 1), 0);
	CHECK_INT(fake_page_write(&ft, 0, &pg), 0);
	for (i = 0; i < 200 && klpt_task_find(s, 1); i++)
		CHECK(klpt_session_poll(s, 1000) >= 0, "poll");
	CHECK(!klpt_task_find(s, 1), "exit not seen");
	klpt_session_close(s);
	s = NULL;

	ret = open_replay(dir, &again, &r);
	CHECK_INT(ret, 0);
	if (!r)
		goto out;
	for (i = 0; i < 100 && fd_readable(klpt_session_fd(r)); i++)
		CHECK(klpt_session_process(r) >= 0, "replay process");
	CHECK_INT(klpt_session_lost(r), 4);
	CHECK(again.n >= 2 && again.type[0] == KLPT_EV_LOST &&
	      again.lost[0] == 4, "replay: %d events, first %d lost %llu",
	      again.n, again.n ? (int)again.type[0] : -1,
	      again.n ? (unsigned long long)again.lost[0] : 0ull);
out:
	klpt_session_close(r);
	finish(s);
}

/* KLPT_F_FALLBACK leaves klptrace.ko's events alone. */
static void test_forced_fallback(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	CHECK_INT(open_fake(KLPT_F_FALLBACK, &seen, &s), 0);
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_FALLBACK);
	CHECK(!klpt_session_native(s), "the forced fallback said native");
	CHECK_STR(inst_file("events/klp/enable"), "0");
	CHECK_STR(inst_file("events/module/module_get/enable"), "1");
	finish(s);
}

/*
 * Only online CPUs are read: a CPU that was never online has a per_cpu
 * directory but no buffer (and a pipe that epoll would report forever).
 */
static void test_online_cpus(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	struct fake_page pg;
	uint64_t tf = future();

	CHECK_INT(fake_tracefs_init(&ft, 4, FAKE_KLP), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 1), 0);
	CHECK_INT(ft_puts("0,2-3\n", "%s/sys/devices/system/cpu/online",
			  ft.root), 0);
	fake_page_init(&pg);
	CHECK_INT(pass(&pg, tf + 1, 1, 1), 0);
	CHECK_INT(fake_page_write(&ft, 1, &pg), 0);	/* offline: unread */
	CHECK_INT(pass(&pg, tf + 2, 2, 1), 0);
	CHECK_INT(fake_page_write(&ft, 3, &pg), 0);
	CHECK_INT(open_fake(0, &seen, &s), 0);
	CHECK_INT(klpt_session_process(s), 1);
	CHECK_INT(seen.cpu[0], 3);
	CHECK(seen.ts[0] == tf + 2, "not CPU 3's event");
	finish(s);
}

/* A pid that certainly belongs to no process any more. */
static int dead_pid(void)
{
	pid_t pid;

	fflush(NULL);	/* the child must not print our buffers again */
	pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return (int)pid;
}

/* An instance directory "klptrace-<fmt>" in the fake tracefs. */
#define INST(...) ft_mkdirs("%s/instances/klptrace-" __VA_ARGS__)
#define HAS_INST(fmt, ...)						\
	ft_exists("%s/instances/klptrace-" fmt, ft.tracefs, __VA_ARGS__)

/* <root>/run/klptrace/<name>: the lock file of an instance's owner. */
static int lock_open(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/run/klptrace/%s", ft.root, name);
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

/* The owner's lock: a POSIX record lock on the whole file. */
static int lock_posix(int fd)
{
	struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	return fcntl(fd, F_SETLK, &l);
}

/*
 * Can the lock on name be taken now (its owner is gone)?  Asked by a
 * child: a POSIX lock never conflicts with its own process's.
 */
static bool lock_free(const char *name)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = lock_open(name);

		_exit(fd >= 0 && !lock_posix(fd) ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Record instance name's directory in fd, its lock file, as its owner. */
static void lock_record(int fd, const char *name)
{
	struct klpt_inst_owner o = { .dirfd = -1, .lockfd = fd };

	snprintf(o.name, sizeof(o.name), "%s", name);
	klpt_inst_created(ft.tracefs, &o);
}

/* A child that holds the lock on name until killed; its pid. */
static pid_t lock_holder(const char *name)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = lock_open(name);

		if (fd < 0 || lock_posix(fd))
			_exit(1);
		lock_record(fd, name);
		if (write(p[1], "k", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

/* Make an instance directory look created secs ago (mtime). */
static int age(const char *name, int secs)
{
	char path[PATH_MAX];
	struct timespec ts[2];

	snprintf(path, sizeof(path), "%s/instances/%s", ft.tracefs, name);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= secs;
	ts[1] = ts[0];
	return utimensat(AT_FDCWD, path, ts, 0);
}

/*
 * At open, instances of our pattern whose owner is provably gone go:
 * one whose lock (<root>/run/klptrace/<name>) can be taken and records
 * that instance's directory, whatever its namespace; one of our PID namespace without a lock file whose pid is
 * free here; a klptrace 0.1 "klptrace-<pid>" older than a minute whose
 * pid is free here.  All else stays: a held lock, another namespace
 * without a lock file (kill() there says nothing), a live pid, a young
 * 0.1 instance, names not of our pattern.  Our own name's leftover is
 * reused with its old data and events dropped; our lock is held while
 * the session is open.  Before instance.c (names "klptrace-<pid>", kill()
 * as the only judge) the foreign namespace's instance and the young 0.1
 * one were removed, and the dead one of our namespace was not.
 */
static void test_stale_instances(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	unsigned long long ns = fake_pidns();
	int dead = dead_pid(), dead2 = dead_pid(), ppid = (int)getppid();
	char held[64], freed[64], ours[64];
	pid_t holder;
	int fd;

	CHECK(dead > 0, "fork: %s", strerror(errno));
	CHECK(ns > 0, "no /proc/self/ns/pid");
	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	CHECK_INT(ft_mkdirs("%s/run/klptrace", ft.root), 0);
	snprintf(held, sizeof(held), "klptrace-%llu-1", ns + 2);
	snprintf(freed, sizeof(freed), "klptrace-%llu-1", ns + 3);
	snprintf(ours, sizeof(ours), "klptrace-%llu-%d", ns, (int)getpid());
	CHECK_INT(INST("%llu-%d", ft.tracefs, ns, dead), 0);
	CHECK_INT(INST("%llu-%d", ft.tracefs, ns, ppid), 0);
	CHECK_INT(INST("%llu-%d", ft.tracefs, ns + 1, dead), 0);
	CHECK_INT(INST("%llu-1", ft.tracefs, ns + 2), 0);
	CHECK_INT(INST("%llu-1", ft.tracefs, ns + 3), 0);
	CHECK_INT(INST("%d", ft.tracefs, dead), 0);
	CHECK_INT(INST("%d", ft.tracefs, dead2), 0);
	CHECK_INT(INST("%d", ft.tracefs, ppid), 0);
	CHECK_INT(INST("x1", ft.tracefs), 0);
	CHECK_INT(INST("%llu-%dx", ft.tracefs, ns, dead), 0);
	CHECK_INT(ft_mkdirs("%s/instances/mine", ft.tracefs), 0);
	{
		char old[32];

		snprintf(old, sizeof(old), "klptrace-%d", dead2);
		CHECK_INT(age(old, 3600), 0);
		snprintf(old, sizeof(old), "klptrace-%d", ppid);
		CHECK_INT(age(old, 3600), 0);
	}
	holder = lock_holder(held);
	CHECK(holder > 0, "lock holder");
	fd = lock_open(freed);		/* a dead owner's: nobody holds it */
	CHECK(fd >= 0, "lock file: %s", strerror(errno));
	lock_record(fd, freed);
	close(fd);
	/* our own leftover: old data and old events enabled */
	CHECK_INT(ft_puts("old data\n", "%s/trace", ft.inst), 0);
	CHECK_INT(ft_puts("1\n", "%s/events/enable", ft.inst), 0);

	CHECK_INT(open_fake(0, &seen, &s), 0);
	CHECK(!HAS_INST("%llu-%d", ns, dead),
	      "our namespace's dead pid: its instance is still there");
	CHECK(HAS_INST("%llu-%d", ns, ppid),
	      "a live process's instance was removed");
	CHECK(HAS_INST("%llu-%d", ns + 1, dead),
	      "another namespace's instance without a lock was removed");
	CHECK(HAS_INST("%llu-1", ns + 2), "an instance whose lock is held "
	      "was removed");
	CHECK(!HAS_INST("%llu-1", ns + 3), "an instance whose lock is free "
	      "is still there");
	CHECK(!ft_exists("%s/run/klptrace/%s", ft.root, freed),
	      "the dead owner's lock file is still there");
	CHECK(HAS_INST("%d", dead), "a young 0.1 instance was removed");
	CHECK(!HAS_INST("%d", dead2),
	      "an old 0.1 instance of a free pid is still there");
	CHECK(HAS_INST("%d", ppid), "an old 0.1 instance of a live pid "
	      "was removed");
	CHECK(ft_exists("%s/instances/klptrace-x1", ft.tracefs),
	      "not a pid, removed");
	CHECK(HAS_INST("%llu-%dx", ns, dead), "not our pattern, removed");
	CHECK(ft_exists("%s/instances/mine", ft.tracefs), "foreign, removed");
	CHECK(ft_exists("%s", ft.inst), "our instance is missing");
	CHECK(!lock_free(ours), "our lock is not held while open");
	CHECK_STR(inst_file("trace"), "");
	/* all its events were disabled (events/enable), ours enabled */
	CHECK_STR(inst_file("events/enable"), "0");
	CHECK_STR(inst_file("events/klp/enable"), "1");
	klpt_session_close(s);
	/* a plain directory is not removed: its lock file stays, free */
	CHECK(ft_exists("%s", ft.inst), "the fake instance went");
	CHECK(lock_free(ours), "our lock is still held after close");

	/* the holder dies (SIGKILL): the next session removes its instance */
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	CHECK(HAS_INST("%llu-1", ns + 2), "removed before the next open");
	CHECK_INT(open_fake(0, &seen, &s), 0);
	CHECK(!HAS_INST("%llu-1", ns + 2),
	      "a killed owner's instance is still there");
	CHECK(HAS_INST("%llu-%d", ns + 1, dead), "removed at the 2nd open");
	finish(s);
}

/*
 * Review item 3: a live process holds the lock on our own name (a
 * remover judging it, a child a dead owner of our name forked): the open
 * waits a moment, then fails with -EBUSY and leaves that instance as it
 * is.  Once the holder is gone the open works.  Before: the open went on
 * without a lock, disabled the instance's events and cleared its data.
 */
static void test_own_name_held(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	char ours[64];
	pid_t holder;

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	CHECK_INT(ft_mkdirs("%s/run/klptrace", ft.root), 0);
	snprintf(ours, sizeof(ours), "klptrace-%llu-%d", fake_pidns(),
		 (int)getpid());
	CHECK_INT(ft_puts("old data\n", "%s/trace", ft.inst), 0);
	CHECK_INT(ft_puts("1\n", "%s/events/enable", ft.inst), 0);
	holder = lock_holder(ours);
	CHECK(holder > 0, "lock holder");

	CHECK_INT(open_fake(0, &seen, &s), -EBUSY);
	CHECK(!s, "a session was returned");
	CHECK_STR(inst_file("trace"), "old data");
	CHECK_STR(inst_file("events/enable"), "1");
	CHECK(ft_exists("%s", ft.inst), "the held instance was removed");

	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	CHECK_INT(open_fake(0, &seen, &s), 0);
	CHECK(!lock_free(ours), "our lock is not held while open");
	CHECK_STR(inst_file("trace"), "");
	finish(s);
}

static void test_errors(void)
{
	KLPT_OPTS_INIT(klpt_session_opts, o);
	struct klpt_session *s = (void *)1, *s2 = NULL;
	struct {
		struct klpt_session_opts opts;
		char newer[8];
	} big;
	char path[1024];

	/* NULL arguments, and nothing is touched for them */
	CHECK_INT(klpt_session_open_live(&o, NULL), -EINVAL);
	CHECK_INT(errno, EINVAL);
	CHECK_INT(klpt_session_open_replay(NULL, NULL, &s), -EINVAL);
	CHECK(!s, "*out not cleared");
	CHECK_INT(klpt_session_process(NULL), -EINVAL);
	CHECK_INT(klpt_session_poll(NULL, 0), -EINVAL);
	CHECK_INT(klpt_session_fd(NULL), -EINVAL);
	CHECK_INT(klpt_session_record(NULL, "/nonexistent"), -EINVAL);
	errno = 0;
	CHECK_INT(klpt_session_mode(NULL), 0);
	CHECK_INT(errno, EINVAL);
	CHECK_INT(klpt_session_events(NULL), 0);
	CHECK_INT(klpt_session_lost(NULL), 0);
	klpt_session_close(NULL);

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	o.tracefs_dir = ft.tracefs;
	o.root = ft.root;

	/* options: no size (forgot KLPT_OPTS_INIT), unknown tail set */
	o.sz = 0;
	CHECK_INT(klpt_session_open_live(&o, &s), -EINVAL);
	o.sz = sizeof(o);
	memset(&big, 0, sizeof(big));
	big.opts = o;
	big.opts.sz = sizeof(big);
	big.newer[3] = 1;
	CHECK_INT(klpt_session_open_live(&big.opts, &s), -EINVAL);
	big.newer[3] = 0;
	CHECK_INT(klpt_session_open_live(&big.opts, &s), 0);
	klpt_session_close(s);

	/* no tracefs there */
	snprintf(path, sizeof(path), "%s/nonexistent", ft.dir);
	o.tracefs_dir = path;
	errno = 0;
	CHECK_INT(klpt_session_open_live(&o, &s), -ENODEV);
	CHECK_INT(errno, ENODEV);
	CHECK(!s, "*out set on failure");
	o.tracefs_dir = ft.tracefs;

	/* a kernel without livepatch */
	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch", ft.root);
	CHECK_INT(rmdir(path), 0);
	CHECK_INT(klpt_session_open_live(&o, &s), -EOPNOTSUPP);
	CHECK_INT(errno, EOPNOTSUPP);
	CHECK_INT(mkdir(path, 0755), 0);

	/* one live session per process: the instance has our pid */
	CHECK_INT(klpt_session_open_live(&o, &s), 0);
	CHECK_INT(klpt_session_open_live(&o, &s2), -EBUSY);
	CHECK(!s2, "second session");
	klpt_session_close(s);
	CHECK_INT(klpt_session_open_live(&o, &s), 0);
	klpt_session_close(s);

	/* a recording needs a usable directory */
	CHECK_INT(klpt_session_open_live(&o, &s), 0);
	CHECK_INT(klpt_session_record(s, NULL), -EINVAL);
	finish(s);
}

/*
 * A live session recorded and replayed: the replay delivers the same
 * events after the recording's snapshot.
 */
static void test_record_replay(void)
{
	struct seen live = { 0 }, again = { 0 };
	struct klpt_session *s = NULL, *r = NULL;
	struct fake_page pg;
	char dir[1024];
	uint64_t tf = future();
	int i, ret;

	CHECK_INT(fake_tracefs_init(&ft, 2, FAKE_KLP), 0);
	disable_system();
	CHECK_INT(open_fake(0, &live, &s), 0);
	if (!s)
		goto out;
	record_to(s, dir, sizeof(dir));
	CHECK_INT(klpt_session_record(s, dir), -EBUSY);
	fake_page_init(&pg);
	CHECK_INT(blocked(&pg, tf + 1), 0);
	CHECK_INT(pass(&pg, tf + 2, 1, 1), 0);
	CHECK_INT(fake_page_write(&ft, 1, &pg), 0);
	CHECK_INT(FAKE_EVENT(&ft, &pg, tf + 3, "klp", "klp_task_switch",
			     FV("pid", SLEEPER), FV("from", KLPT_PATCHED),
			     FV("to", KLPT_UNPATCHED),
			     FV("via", KLPT_VIA_STACK_CHECK)), 0);
	CHECK_INT(exited(&pg, tf + 4, "init", 1), 0);
	deliver(s, 0, &pg, 4);
	CHECK(!klpt_task_find(s, 1), "exited task 1 in the live model");
	klpt_session_close(s);
	s = NULL;
	/* the exit's format is recorded: the replay decodes it too */
	CHECK(ft_exists("%s/events/sched/sched_process_exit/format", dir),
	      "no sched_process_exit format in the recording");

	ret = open_replay(dir, &again, &r);
	CHECK_INT(ret, 0);
	if (!r)
		goto out;
	CHECK_INT(klpt_session_mode(r), KLPT_MODE_REPLAY);
	CHECK(!klpt_session_native(r), "a replay said native");
	/* a replay's fd is readable until its end */
	for (i = 0; i < 100 && fd_readable(klpt_session_fd(r)); i++) {
		ret = klpt_session_process(r);
		CHECK(ret >= 0, "replay process: %d", ret);
	}
	CHECK(!fd_readable(klpt_session_fd(r)), "readable after the end");
	CHECK_INT(klpt_session_process(r), 0);
	CHECK_INT(again.n, live.n);
	for (i = 0; i < live.n && i < again.n; i++) {
		CHECK_INT(again.type[i], live.type[i]);
		CHECK(again.ts[i] == live.ts[i], "event %d's ts", i);
	}
	CHECK_INT(klpt_session_record(r, dir), -EOPNOTSUPP);
	if (klpt_task_find(r, SLEEPER))
		CHECK_INT(klpt_task_state(klpt_task_find(r, SLEEPER)),
			  KLPT_UNPATCHED);
	CHECK(!klpt_task_find(r, 1), "exited task 1 in the replayed model");
out:
	klpt_session_close(r);
	finish(s);
}


/* The idle tasks (pid 0) a session's model lists, and those unknown. */
static int idle_tasks(struct klpt_session *s, int *unknown)
{
	int i, n = 0;

	*unknown = 0;
	for (i = 0; i < klpt_task_count(s); i++) {
		const struct klpt_task *t = klpt_task_at(s, i);

		if (klpt_task_pid(t) != 0)
			continue;
		n++;
		if (klpt_task_state(t) == KLPT_STATE_UNKNOWN)
			*unknown += 1;
	}
	return n;
}

/*
 * Opened in the middle of a disable: the idle task of every possible
 * CPU (4 possible, 2 online: the instance has 2 buffers) is in the task
 * set from the open, of unknown state until an event says it.
 */
static void test_idle_open_mid(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	struct fake_page pg;
	int unknown;

	CHECK_INT(fake_tracefs_init(&ft, 2, FAKE_KLP), 0);
	disable_system();
	CHECK_INT(fake_possible(&ft, "0-3"), 0);
	CHECK_INT(open_fake(0, &seen, &s), 0);
	if (!s)
		goto out;
	CHECK_INT(klpt_task_count(s), 2 + 4);
	CHECK_INT(idle_tasks(s, &unknown), 4);
	CHECK_INT(unknown, 4);
	CHECK(klpt_task_find(s, 0), "no swapper/0");
	if (klpt_task_find(s, 0))
		CHECK_INT(klpt_task_kthread(klpt_task_find(s, 0)), 1);
	fake_page_init(&pg);
	CHECK_INT(FAKE_EVENT(&ft, &pg, future(), "klp", "klp_task_switch",
			     FV("pid", 0), FV("tgid", 0),
			     FV("comm", "swapper/3"), FV("from", KLPT_PATCHED),
			     FV("to", KLPT_UNPATCHED), FV("via", KLPT_VIA_IDLE)),
		  0);
	deliver(s, 1, &pg, 1);
	CHECK_INT(idle_tasks(s, &unknown), 4);
	CHECK_INT(unknown, 3);
	CHECK_INT(klpt_task_count(s), 6);
out:
	finish(s);
}

/*
 * Threads created while no transition runs are tasks (klp_task_new, with
 * the kernel's PF_KTHREAD), and leave with their exit; task:task_newtask
 * stays off while klptrace.ko gives the same.
 */
static void test_task_new_live(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	struct fake_page pg;
	uint64_t tf = future();
	int n;

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	CHECK_INT(fake_task(&ft, 1, 1, "init", -1, false), 0);
	CHECK_INT(fake_task(&ft, 2, 2, "kthreadd", -1, true), 0);
	CHECK_INT(fake_possible(&ft, "0"), 0);
	CHECK_INT(open_fake(0, &seen, &s), 0);
	if (!s)
		goto out;
	CHECK_STR(inst_file("events/task/task_newtask/enable"), "0");
	n = klpt_task_count(s);
	CHECK_INT(n, 3);
	fake_page_init(&pg);
	CHECK_INT(FAKE_EVENT(&ft, &pg, tf + 1, "klp", "klp_task_new",
			     FV("pid", 400), FV("tgid", 400),
			     FV("comm", "kthreadd"), FV("state", -1),
			     FV("kthread", 1), FV("common_pid", 2)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &pg, tf + 2, "klp", "klp_task_new",
			     FV("pid", 401), FV("tgid", 1),
			     FV("comm", "init"), FV("state", -1),
			     FV("kthread", 0), FV("common_pid", 1)), 0);
	deliver(s, 0, &pg, 2);
	CHECK_INT(seen.type[0], KLPT_EV_TASK_NEW);
	CHECK_INT(klpt_task_count(s), n + 2);
	if (klpt_task_find(s, 400)) {
		CHECK_INT(klpt_task_kthread(klpt_task_find(s, 400)), 1);
		CHECK_INT(klpt_task_state(klpt_task_find(s, 400)),
			  KLPT_UNDEFINED);
	} else {
		CHECK(0, "task 400 not in the model");
	}
	if (klpt_task_find(s, 401)) {
		CHECK_INT(klpt_task_kthread(klpt_task_find(s, 401)), 0);
		CHECK_INT(klpt_task_tgid(klpt_task_find(s, 401)), 1);
	} else {
		CHECK(0, "task 401 not in the model");
	}
	/* kthreadd names its new thread (task_rename), then it exits */
	CHECK_STR(inst_file("events/task/task_rename/enable"), "1");
	CHECK_INT(FAKE_EVENT(&ft, &pg, tf + 3, "task", "task_rename",
			     FV("pid", 400), FV("oldcomm", "kthreadd"),
			     FV("newcomm", "kworker/0:3")), 0);
	deliver(s, 0, &pg, 1);
	if (klpt_task_find(s, 400))
		CHECK_STR(klpt_task_comm(klpt_task_find(s, 400)),
			  "kworker/0:3");
	CHECK_INT(exited(&pg, tf + 4, "kworker/0:3", 400), 0);
	deliver(s, 0, &pg, 1);
	CHECK(!klpt_task_find(s, 400), "task 400 kept after its exit");
	CHECK_INT(klpt_task_count(s), n + 1);
out:
	finish(s);
}

/*
 * Without klptrace.ko: task:task_newtask.  A kernel thread is one that
 * kthreadd (pid 2) created (6.1: the only creator of PF_KTHREAD tasks
 * after boot); a CLONE_THREAD child is in its creator's thread group.
 */
static void test_task_new_fallback(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	struct fake_page pg;
	uint64_t tf = future();
	const struct klpt_task *t;

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_NO_KLP), 0);
	CHECK_INT(fake_task(&ft, 1, 1, "init", -1, false), 0);
	CHECK_INT(fake_task(&ft, 2, 2, "kthreadd", -1, true), 0);
	CHECK_INT(fake_task(&ft, 50, 50, "sh", -1, false), 0);
	CHECK_INT(open_fake(0, &seen, &s), 0);
	if (!s)
		goto out;
	CHECK_INT(klpt_session_mode(s), KLPT_MODE_FALLBACK);
	CHECK_STR(inst_file("events/task/task_newtask/enable"), "1");
	fake_page_init(&pg);
	CHECK_INT(FAKE_EVENT(&ft, &pg, tf + 1, "task", "task_newtask",
			     FV("pid", 500), FV("comm", "kthreadd"),
			     FV("clone_flags", 0x00000f00),
			     FV("common_pid", 2)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &pg, tf + 2, "task", "task_newtask",
			     FV("pid", 501), FV("comm", "sh"),
			     FV("clone_flags", 0x01200011),
			     FV("common_pid", 50)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &pg, tf + 3, "task", "task_newtask",
			     FV("pid", 502), FV("comm", "sh"),
			     FV("clone_flags", 0x003d0f00),
			     FV("common_pid", 50)), 0);
	deliver(s, 0, &pg, 3);
	t = klpt_task_find(s, 500);
	CHECK(t && klpt_task_kthread(t) == 1, "500: a kthread of kthreadd");
	t = klpt_task_find(s, 501);
	CHECK(t && klpt_task_kthread(t) == 0 && klpt_task_tgid(t) == 501,
	      "501: a process of sh");
	t = klpt_task_find(s, 502);
	CHECK(t && klpt_task_kthread(t) == 0 && klpt_task_tgid(t) == 50,
	      "502: a thread of sh (CLONE_THREAD)");
out:
	finish(s);
}

/*
 * A recording keeps the possible CPUs and the task creations: its
 * replay lists the same idle tasks and new tasks as the live session.
 */
static void test_record_replay_tasks(void)
{
	struct seen live = { 0 }, again = { 0 };
	struct klpt_session *s = NULL, *r = NULL;
	struct fake_page pg;
	char dir[1024];
	int unknown;

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	disable_system();
	CHECK_INT(fake_possible(&ft, "0-2"), 0);
	CHECK_INT(open_fake(0, &live, &s), 0);
	if (!s)
		goto out;
	record_to(s, dir, sizeof(dir));
	fake_page_init(&pg);
	CHECK_INT(FAKE_EVENT(&ft, &pg, future(), "klp", "klp_task_new",
			     FV("pid", 600), FV("tgid", 600),
			     FV("comm", "kthreadd"), FV("state", 1),
			     FV("kthread", 1)), 0);
	deliver(s, 0, &pg, 1);
	klpt_session_close(s);
	s = NULL;
	CHECK(ft_exists("%s/events/klp/klp_task_new/format", dir),
	      "no klp_task_new format in the recording");
	CHECK_INT(open_replay(dir, &again, &r), 0);
	if (!r)
		goto out;
	while (klpt_session_process(r) > 0)
		;
	CHECK_INT(idle_tasks(r, &unknown), 3);
	CHECK_INT(unknown, 3);
	CHECK_INT(klpt_task_count(r), 2 + 3 + 1);
	if (klpt_task_find(r, 600)) {
		CHECK_INT(klpt_task_kthread(klpt_task_find(r, 600)), 1);
		CHECK_INT(klpt_task_state(klpt_task_find(r, 600)),
			  KLPT_PATCHED);
	} else {
		CHECK(0, "task 600 not in the replay");
	}
out:
	klpt_session_close(r);
	finish(s);
}

/*
 * A recording that cannot be written (here: RLIMIT_FSIZE, as a full
 * disk would) ends with one error from process(); tracing goes on, the
 * pages written replay, and a new recording can start.
 */
static void test_record_failure(void)
{
	struct seen seen = { 0 }, again = { 0 };
	struct klpt_session *s = NULL, *r = NULL;
	struct rlimit old, small;
	struct fake_page pg;
	char dir[1024], dir2[1024];
	uint64_t tf = future();
	int i, ret;

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 1), 0);
	CHECK_INT(open_fake(0, &seen, &s), 0);
	if (!s)
		goto out;
	record_to(s, dir, sizeof(dir));
	snprintf(dir2, sizeof(dir2), "%s/rec2", ft.dir);
	for (i = 0; i < 3; i++) {
		fake_page_init(&pg);
		CHECK_INT(pass(&pg, tf + i, i, 1), 0);
		CHECK_INT(fake_page_write(&ft, 0, &pg), 0);
	}
	/* room for exactly one page in the recording's pipe file */
	CHECK_INT(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = FAKE_PAGE_SIZE;
	signal(SIGXFSZ, SIG_IGN);
	CHECK_INT(setrlimit(RLIMIT_FSIZE, &small), 0);
	ret = klpt_session_process(s);
	CHECK_INT(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	CHECK_INT(ret, -EFBIG);
	CHECK_INT(klpt_session_process(s), 3);
	CHECK_INT(seen.n, 3);
	CHECK_INT(klpt_session_record(s, dir2), 0);
	klpt_session_close(s);
	s = NULL;

	CHECK_INT(open_replay(dir, &again, &r), 0);
	while (r && klpt_session_process(r) > 0)
		;
	CHECK_INT(again.n, 1);
	CHECK(again.ts[0] == tf, "not the first page's event");
out:
	klpt_session_close(r);
	finish(s);
}

/*
 * A live session's model learns of the events its session lost: a
 * session that saw a transition start counts every check of it only
 * until a loss, after which the tasks' checks are lower bounds (not
 * exact), and its resync's reconcile may take a task for a new one on
 * a reused tid (model.c same_task()).
 */
static void test_loss_makes_checks_inexact(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	const struct klpt_task *k;
	struct fake_page pg;
	uint64_t t;

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 0), 0);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
	CHECK_INT(fake_task(&ft, SLEEPER, SLEEPER, "klpt_sleeper", -1, true),
		  0);
	CHECK_INT(open_fake(0, &seen, &s), 0);
	if (!s)
		goto out;

	/* the disable starts after the open: every check is seen */
	CHECK_INT(fake_patch(&ft, LP, 0, 1), 0);
	CHECK_INT(fake_task_state(&ft, SLEEPER, SLEEPER, 1), 0);
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
	CHECK_INT(klpt_session_lost(s), 5);
	k = klpt_task_find(s, SLEEPER);
	CHECK(k && !klpt_task_checks_exact(k), "checks exact across a loss");
out:
	finish(s);
}

/*
 * An atomic replace's completion read before the kernel got there (review
 * F2): the klp_transition_complete probe fires at the entry of 6.1
 * klp_complete_transition(), before klp_unpatch_replaced_patches() clears
 * the replaced patch's `enabled`.  The session reads the patches again
 * at the next process(): the replaced one is no longer "disable it
 * first".
 */
static void test_replace_complete_reread(void)
{
	struct seen seen = { 0 };
	struct klpt_session *s = NULL;
	struct fake_page pg;
	char why[256], path[PATH_MAX];
	struct stat a, b;

	CHECK_INT(fake_tracefs_init(&ft, 1, FAKE_KLP), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 0), 0);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
	CHECK_INT(fake_patch(&ft, LP2, 1, 1), 0);
	CHECK_INT(fake_module(&ft, LP2, 1, true), 0);
	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch/%s", ft.root, LP);
	CHECK_INT(stat(path, &a), 0);
	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch/%s", ft.root, LP2);
	CHECK_INT(stat(path, &b), 0);
	if (a.st_ino > b.st_ino) {
		/* this filesystem's inode numbers are not kernfs's order */
		fprintf(stderr, "  skipped: %s's inode after %s's\n", LP, LP2);
		goto out;
	}
	CHECK_INT(open_fake(0, &seen, &s), 0);
	if (!s)
		goto out;
	fake_page_init(&pg);
	CHECK_INT(FAKE_EVENT(&ft, &pg, future(), "klp",
			     "klp_transition_complete", FV("patch", LP2),
			     FV("target", KLPT_PATCHED), FV("forced", 0)), 0);
	deliver(s, 0, &pg, 1);
	CHECK_INT(klpt_module_verdict(s, klpt_module_find(s, LP), why,
				      sizeof(why)), KLPT_HOLD_ENABLED);
	/* klp_unpatch_replaced_patches() ran meanwhile */
	CHECK_INT(fake_patch(&ft, LP, 0, 0), 0);
	CHECK_INT(klpt_session_process(s), 0);
	CHECK_INT(klpt_module_verdict(s, klpt_module_find(s, LP), why,
				      sizeof(why)), KLPT_HOLD_NOT_FREED);
	CHECK(strstr(why, "replaced by " LP2), "why: %s", why);
out:
	finish(s);
}

int main(void)
{
	RUN(test_version_and_names);
	RUN(test_live_disable);
	RUN(test_live_exit);
	RUN(test_snapshot_over_early_events);
	RUN(test_lost_resync);
	RUN(test_callback_stop);
	RUN(test_poll);
	RUN(test_fallback);
	RUN(test_forced_fallback);
	RUN(test_fallback_cheap_ticks);
	RUN(test_native_loading_module);
	RUN(test_missed_resync);
	RUN(test_hooks_off);
	RUN(test_hooks_off_at_open);
	RUN(test_missed_hostile);
	RUN(test_hooks_unreadable_degraded);
	RUN(test_ftrace_switches);
	RUN(test_record_lost);
	RUN(test_online_cpus);
	RUN(test_stale_instances);
	RUN(test_own_name_held);
	RUN(test_errors);
	RUN(test_record_replay);
	RUN(test_record_failure);
	RUN(test_idle_open_mid);
	RUN(test_task_new_live);
	RUN(test_task_new_fallback);
	RUN(test_record_replay_tasks);
	RUN(test_loss_makes_checks_inexact);
	RUN(test_replace_complete_reread);
	return check_summary();
}
