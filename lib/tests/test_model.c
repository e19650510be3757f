// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * The model's state machine and the unload verdict, fed hand-written
 * event sequences of every foundation scenario (tests/vm/scenarios: the
 * order and fields are those of the recorded build/vm/results/<s>/
 * events.txt), checked after each step.  No session, no kernel: the
 * model-level accessors of internal.h, plus the public ones on NULL.
 * Then a real recording from the VM, replayed through a session.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "internal.h"

#define LP "klpt_lp_sleep"
#define TARGET "klpt_target_sleep"
#define FUNC "klpt_sleep_fn"
#define SLEEPER 108
#define SH 101
#define INIT 1
#define KTHREADD 2

#define U KLPT_UNDEFINED
#define UNP KLPT_UNPATCHED
#define PAT KLPT_PATCHED

static struct klpt_model *M;
static uint64_t T;		/* the trace clock of the fake stream */

/* ---------------------------------------------------------- the events */

static void apply(struct klpt_event *ev)
{
	T += 1000;
	ev->ts = T;
	ev->cpu = 0;
	klpt_model_apply(M, ev);
}

static void tr(enum klpt_event_type type, const char *patch, int target)
{
	struct klpt_event ev = { .type = type };

	ev.transition.patch = patch;
	ev.transition.target = target;
	apply(&ev);
}

static void pass(const char *patch, int target, unsigned int n,
		 unsigned int checked, unsigned int pending)
{
	struct klpt_event ev = { .type = KLPT_EV_TRANSITION_PASS };

	ev.transition.patch = patch;
	ev.transition.target = target;
	ev.transition.pass = n;
	ev.transition.checked = checked;
	ev.transition.pending = pending;
	apply(&ev);
}

static void signal_(const char *patch, int target, unsigned int n,
		    unsigned int pending)
{
	struct klpt_event ev = { .type = KLPT_EV_TRANSITION_SIGNAL };

	ev.transition.patch = patch;
	ev.transition.target = target;
	ev.transition.pass = n;
	ev.transition.pending = pending;
	apply(&ev);
}

static void complete(const char *patch, int target, bool forced)
{
	struct klpt_event ev = { .type = KLPT_EV_TRANSITION_COMPLETE };

	ev.transition.patch = patch;
	ev.transition.target = target;
	ev.transition.forced = forced;
	apply(&ev);
}

/* A task event of type for pid (tgid, comm); the caller sets the rest. */
static struct klpt_event task_ev(enum klpt_event_type type, int pid, int tgid,
				 const char *comm)
{
	struct klpt_event ev = { .type = type };

	ev.task.pid = pid;
	ev.task.tgid = tgid;
	snprintf(ev.task.comm, sizeof(ev.task.comm), "%s", comm);
	return ev;
}

static void sw(int pid, int tgid, const char *comm, int from, int to, int via)
{
	struct klpt_event ev = task_ev(KLPT_EV_TASK_SWITCH, pid, tgid, comm);

	ev.task.from = from;
	ev.task.to = to;
	ev.task.via = via;
	apply(&ev);
}

static void blocked(int pid, const char *comm, const char *patch, int target,
		    int reason, const char *func)
{
	struct klpt_event ev = task_ev(KLPT_EV_TASK_BLOCKED, pid, pid, comm);
	static const int errs[] = { 0, -16, -22, -98, -5, 0 };

	ev.task.patch = patch;
	ev.task.target = target;
	ev.task.reason = reason;
	ev.task.err = errs[reason];
	ev.task.func = func;
	apply(&ev);
}

static void ref(const char *module, bool get, int refcnt)
{
	struct klpt_event ev = { .type = KLPT_EV_MODULE_REF };

	ev.module.module = module;
	ev.module.get = get;
	ev.module.refcnt = refcnt;
	ev.module.caller = "";
	apply(&ev);
}

static void mod_ev(enum klpt_event_type type, const char *module)
{
	struct klpt_event ev = { .type = type };

	ev.module.module = module;
	apply(&ev);
}

static void patch_ev(enum klpt_event_type type, const char *patch,
		     bool forced)
{
	struct klpt_event ev = { .type = type };

	ev.patch.patch = patch;
	ev.patch.forced = forced;
	apply(&ev);
}

/* TASK_EXIT, TASK_RENAME or TASK_EXEC (old_pid) of pid, named comm. */
static void task_named(enum klpt_event_type type, int pid, int old_pid,
		       const char *comm)
{
	struct klpt_event ev = task_ev(type, pid, 0, comm);

	ev.task.old_pid = old_pid;
	ev.task.from = ev.task.to = ev.task.target = U;
	ev.task.kthread = -1;
	ev.task.patch = ev.task.func = "";
	apply(&ev);
}

static void task_exit(int pid, const char *comm)
{
	task_named(KLPT_EV_TASK_EXIT, pid, 0, comm);
}

/* A task created: klp_task_new (state given) or task_newtask (ppid). */
static void task_new(int pid, int tgid, const char *comm, int to,
		     int kthread, int ppid)
{
	struct klpt_event ev = task_ev(KLPT_EV_TASK_NEW, pid, tgid, comm);

	ev.task.from = U;
	ev.task.to = to;
	ev.task.kthread = kthread;
	ev.task.ppid = ppid;
	ev.task.target = U;
	ev.task.patch = ev.task.func = "";
	apply(&ev);
}

/* sched_process_exec: the pid now, the one before, the new comm. */
static void task_exec(int pid, int old_pid, const char *comm)
{
	task_named(KLPT_EV_TASK_EXEC, pid, old_pid, comm);
}

static void task_rename(int pid, const char *comm)
{
	task_named(KLPT_EV_TASK_RENAME, pid, 0, comm);
}

static void lost(void)
{
	struct klpt_event ev = { .type = KLPT_EV_LOST };

	ev.lost.count = 12;
	apply(&ev);
}

/* ----------------------------------------------------- the ground truth */

struct tb {
	struct klpt_truth t;
	struct klpt_truth_patch p[8];
	struct klpt_truth_module m[8];
	struct klpt_truth_task k[16];
	int cpus[8];
};

static void tb_init(struct tb *b)
{
	memset(b, 0, sizeof(*b));
	b->t.patches = b->p;
	b->t.modules = b->m;
	b->t.tasks = b->k;
	T += 1000;
	b->t.ts = T;
}

static void tb_patch(struct tb *b, const char *name, int en, int tr_)
{
	struct klpt_truth_patch *p = &b->p[b->t.npatches++];

	snprintf(p->name, sizeof(p->name), "%s", name);
	p->enabled = en;
	p->transition = tr_;
}

static void tb_module(struct tb *b, const char *name, int refcnt, bool lp)
{
	struct klpt_truth_module *m = &b->m[b->t.nmodules++];

	snprintf(m->name, sizeof(m->name), "%s", name);
	m->refcnt = refcnt;
	m->livepatch = lp;
}

/* /sys/devices/system/cpu/possible: CPUs 0..n-1 */
static void tb_possible(struct tb *b, int n)
{
	int i;

	for (i = 0; i < n; i++)
		b->cpus[i] = i;
	b->t.possible = b->cpus;
	b->t.npossible = n;
}

static void tb_task(struct tb *b, int tid, int tgid, int state, bool kthread,
		    const char *comm)
{
	struct klpt_truth_task *k = &b->k[b->t.ntasks++];

	k->tid = tid;
	k->tgid = tgid;
	k->state = state;
	k->kthread = kthread;
	snprintf(k->comm, sizeof(k->comm), "%s", comm);
}

/* The start time of the snapshot's task tid (stat's starttime). */
static void tb_start(struct tb *b, int tid, unsigned long long start)
{
	int i;

	for (i = 0; i < b->t.ntasks; i++) {
		if (b->k[i].tid == tid) {
			b->k[i].has_start = true;
			b->k[i].start = start;
		}
	}
}

/* The test VM's cast, all at one state; the target module loaded. */
static void tb_base(struct tb *b, int state)
{
	tb_init(b);
	tb_module(b, TARGET, 1, false);
	tb_task(b, INIT, INIT, state, false, "init");
	tb_task(b, KTHREADD, KTHREADD, state, true, "kthreadd");
	tb_task(b, SH, SH, state, false, "sh");
	tb_task(b, SLEEPER, SLEEPER, state, true, "klpt_sleeper");
}

/* ------------------------------------------------------------- helpers */

/* The model M, new and empty (the previous one freed). */
static void new_model(void)
{
	klpt_model_free(M);
	M = klpt_model_new();
}

static void fresh(void)
{
	struct tb b;

	new_model();
	T = 1000000;
	tb_base(&b, U);
	klpt_model_reconcile(M, &b.t);
}

static const struct klpt_patch *P(const char *name)
{
	return klpt_model_patch_find(M, name);
}

static const struct klpt_task *K(int tid)
{
	return klpt_model_task_find(M, tid);
}

static int state(int tid)
{
	return klpt_task_state(K(tid));
}

static char why[512];

static enum klpt_verdict verdict(const char *module)
{
	return klpt_model_verdict(M, klpt_model_module_find(M, module), why,
				  sizeof(why));
}

#define CHECK_V(module, want)						\
	do {								\
		enum klpt_verdict v_ = verdict(module);			\
		CHECK(v_ == (want), "verdict %s (%s), expected %s",	\
		      klpt_verdict_name(v_), why, klpt_verdict_name(want)); \
	} while (0)

#define CHECK_WHY(text)							\
	CHECK(strstr(why, text), "why \"%s\" lacks \"%s\"", why, text)

/* insmod of a livepatch module up to its transition's start. */
static void load_and_init(const char *lp)
{
	mod_ev(KLPT_EV_MODULE_LOAD, lp);
	ref(lp, true, 2);		/* klp_enable_patch, during init */
	tr(KLPT_EV_TRANSITION_INIT, lp, PAT);
	tr(KLPT_EV_TRANSITION_START, lp, PAT);
}

/* Every task of tb_base switched to state via stack_check. */
static void switch_all(int to, int except)
{
	static const struct { int pid; const char *comm; } cast[] = {
		{ INIT, "init" }, { KTHREADD, "kthreadd" }, { SH, "sh" },
		{ SLEEPER, "klpt_sleeper" },
	};
	size_t i;

	for (i = 0; i < sizeof(cast) / sizeof(cast[0]); i++)
		if (cast[i].pid != except)
			sw(cast[i].pid, cast[i].pid, cast[i].comm, !to, to,
			   KLPT_VIA_STACK_CHECK);
	sw(0, 0, "swapper/0", !to, to, KLPT_VIA_IDLE);
	sw(0, 0, "swapper/1", !to, to, KLPT_VIA_IDLE);
}

/* The patch LP enabled and complete, as after insmod. */
static void enabled_lp(void)
{
	load_and_init(LP);
	switch_all(PAT, 0);
	pass(LP, PAT, 0, 6, 0);
	complete(LP, PAT, false);
	ref(LP, false, 1);		/* do_init_module */
}

/*
 * LP's unpatch once started, nothing holding it: every task switches,
 * the pass, the completion, the free, the release, the last put and
 * unload-ready.
 */
/* A disable of lp that every task completes at the first pass. */
static void disable_ev(const char *lp)
{
	tr(KLPT_EV_TRANSITION_INIT, lp, UNP);
	tr(KLPT_EV_TRANSITION_START, lp, UNP);
	switch_all(UNP, 0);
	pass(lp, UNP, 0, 6, 0);
	complete(lp, UNP, false);
}

static void unpatched_to_ready(void)
{
	switch_all(UNP, 0);
	pass(LP, UNP, 0, 6, 0);
	complete(LP, UNP, false);
	patch_ev(KLPT_EV_PATCH_FREE, LP, false);
	patch_ev(KLPT_EV_PATCH_RELEASE, LP, false);
	ref(LP, false, 0);
	mod_ev(KLPT_EV_MODULE_UNLOAD_READY, LP);
}

/* ---------------------------------------------------------- scenarios */

/* enable_vmlinux: insmod of a patch of a vmlinux function. */
static void test_enable_vmlinux(void)
{
	const char *lp = "klpt_lp_vmlinux";
	const struct klpt_patch *p;

	fresh();
	mod_ev(KLPT_EV_MODULE_LOAD, lp);
	/* not known as a livepatch module yet: not listed */
	CHECK(!klpt_model_module_find(M, lp), "listed before its patch");
	CHECK_INT(klpt_model_module_count(M), 0);
	ref(lp, true, 2);
	tr(KLPT_EV_TRANSITION_INIT, lp, PAT);
	p = P(lp);
	CHECK(p, "no patch after init");
	/* core.c: patch->enabled = true only after klp_start_transition() */
	CHECK(!klpt_patch_enabled(p) && klpt_patch_in_transition(p),
	      "enabled %d in transition %d", klpt_patch_enabled(p),
	      klpt_patch_in_transition(p));
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_INIT);
	CHECK_INT(klpt_patch_target(p), PAT);
	CHECK_INT(klpt_patch_started_ns(p), T);
	CHECK_INT(klpt_model_module_count(M), 1);
	CHECK_STR(klpt_module_name(klpt_model_module_at(M, 0)), lp);
	CHECK_INT(klpt_module_refcnt(klpt_model_module_find(M, lp)), 2);
	/* klp_init_transition(): every task at !target */
	CHECK_INT(state(INIT), UNP);
	CHECK_INT(state(SLEEPER), UNP);
	/* no task is pending before the start: none is named */
	CHECK_V(lp, KLPT_HOLD_TRANSITION);
	CHECK_WHY("patching transition of klpt_lp_vmlinux not started yet");

	tr(KLPT_EV_TRANSITION_START, lp, PAT);
	CHECK(klpt_patch_enabled(p), "not enabled after the start");
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_STARTED);
	CHECK_V(lp, KLPT_HOLD_ENABLED);
	CHECK_WHY("patching transition in progress");
	switch_all(PAT, 0);
	CHECK_INT(state(INIT), PAT);
	CHECK_INT(klpt_task_state(K(0)), PAT);	/* swapper/0 */
	CHECK_STR(klpt_task_comm(K(0)), "swapper/0");
	CHECK(klpt_task_is_kthread(K(0)), "swapper not a kthread");
	CHECK_INT(klpt_model_task_count(M), 6);	/* two idle tasks */
	pass(lp, PAT, 0, 6, 0);
	CHECK_INT(klpt_patch_pass(p), 0);
	CHECK_INT(klpt_patch_pending(p), 0);
	complete(lp, PAT, false);
	CHECK(!klpt_patch_in_transition(p) && klpt_patch_enabled(p),
	      "after complete: in transition %d enabled %d",
	      klpt_patch_in_transition(p), klpt_patch_enabled(p));
	CHECK_INT(klpt_patch_target(p), U);	/* no transition */
	CHECK_INT(state(INIT), U);
	CHECK_INT(klpt_task_state(K(0)), U);
	CHECK(!klpt_patch_forced(p), "forced");
	ref(lp, false, 1);
	CHECK_INT(klpt_module_refcnt(klpt_model_module_find(M, lp)), 1);
	CHECK_V(lp, KLPT_HOLD_ENABLED);
	CHECK_INT(klpt_model_patch_count(M), 1);
	CHECK(!klpt_model_stale(M), "stale");
}

/* blocked_sleeper: the sleeper in klpt_sleep_fn, then released. */
static void test_blocked_sleeper(void)
{
	const struct klpt_patch *p;
	const struct klpt_task *k;
	uint64_t first;
	unsigned int i;

	fresh();
	load_and_init(LP);
	switch_all(PAT, SLEEPER);
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	first = T;
	pass(LP, PAT, 0, 6, 1);
	ref(LP, false, 1);
	p = P(LP);
	k = K(SLEEPER);
	CHECK_INT(klpt_patch_pending(p), 1);
	CHECK_INT(klpt_task_state(k), UNP);
	CHECK_INT(klpt_task_reason(k), KLPT_REASON_SLEEPING_IN_FUNC);
	CHECK_STR(klpt_task_func(k), FUNC);
	CHECK_INT(klpt_task_checks(k), 1);
	CHECK_INT(klpt_task_first_blocked_ns(k), first);
	CHECK(klpt_task_is_kthread(k), "the sleeper is a kthread");
	for (i = 1; i <= 4; i++) {
		blocked(SLEEPER, "klpt_sleeper", LP, PAT,
			KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
		pass(LP, PAT, i, 6, 1);
	}
	CHECK_INT(klpt_patch_pass(p), 4);
	CHECK_INT(klpt_task_checks(k), 5);
	CHECK_INT(klpt_task_first_blocked_ns(k), first);
	CHECK_INT(klpt_task_last_blocked_ns(k), T - 1000);
	/* others switched and are not held responsible */
	CHECK_INT(state(INIT), PAT);
	CHECK_INT(klpt_task_reason(K(INIT)), KLPT_REASON_NONE);
	CHECK_V(LP, KLPT_HOLD_ENABLED);

	/* the release: a stack check switches it */
	sw(SLEEPER, SLEEPER, "klpt_sleeper", UNP, PAT, KLPT_VIA_STACK_CHECK);
	CHECK_INT(klpt_task_state(k), PAT);
	CHECK_INT(klpt_task_reason(k), KLPT_REASON_NONE);
	CHECK_STR(klpt_task_func(k), "");
	CHECK_INT(klpt_task_checks(k), 0);
	pass(LP, PAT, 5, 6, 0);
	complete(LP, PAT, false);
	CHECK(klpt_patch_enabled(p) && !klpt_patch_in_transition(p),
	      "not enabled and complete");
	CHECK_INT(klpt_task_state(k), U);
	CHECK_V(LP, KLPT_HOLD_ENABLED);
}

/*
 * A summarized first pass (the native livepatch.trace_first_pass_summary):
 * no klp_task_switch via=stack_check, but a klp_task_blocked for each
 * failed check, as many as the pass's pending.  Every other task the
 * model has at !target switched.
 */
static void test_first_pass_summary(void)
{
	const struct klpt_patch *p;
	bool exact;

	fresh();
	load_and_init(LP);
	blocked(SH, "sh", LP, PAT, KLPT_REASON_RUNNING, "");
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	/* nothing inferred before the pass event */
	CHECK_INT(state(INIT), UNP);
	pass(LP, PAT, 0, 6, 2);
	p = P(LP);
	CHECK_INT(klpt_patch_pending(p), 2);
	CHECK_INT(state(INIT), PAT);
	CHECK_INT(state(KTHREADD), PAT);
	CHECK_INT(state(SH), UNP);
	CHECK_INT(klpt_task_reason(K(SH)), KLPT_REASON_RUNNING);
	CHECK_INT(state(SLEEPER), UNP);
	CHECK_INT(klpt_task_reason(K(SLEEPER)), KLPT_REASON_SLEEPING_IN_FUNC);
	CHECK_STR(klpt_task_func(K(SLEEPER)), FUNC);
	CHECK_INT(klpt_task_reason(K(INIT)), KLPT_REASON_NONE);
	CHECK_INT(klpt_patch_blocked_tasks(p, &exact), 2);
	CHECK(exact, "seen whole");
	CHECK_V(LP, KLPT_HOLD_ENABLED);

	/* the retries are traced in full */
	sw(SH, SH, "sh", UNP, PAT, KLPT_VIA_STACK_CHECK);
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, PAT, 1, 6, 1);
	CHECK_INT(state(SH), PAT);
	CHECK_INT(state(SLEEPER), UNP);
	CHECK_INT(klpt_task_checks(K(SLEEPER)), 2);
	sw(SLEEPER, SLEEPER, "klpt_sleeper", UNP, PAT, KLPT_VIA_STACK_CHECK);
	pass(LP, PAT, 2, 6, 0);
	complete(LP, PAT, false);
	CHECK(klpt_patch_enabled(p) && !klpt_patch_in_transition(p),
	      "not enabled and complete");
	ref(LP, false, 1);

	/* a disable whose summarized first pass switches every task */
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	pass(LP, UNP, 0, 6, 0);
	CHECK_INT(state(SLEEPER), UNP);
	CHECK_INT(state(INIT), UNP);
	complete(LP, UNP, false);
	CHECK(!klpt_patch_enabled(p) && !klpt_patch_in_transition(p),
	      "still enabled or in transition");
	CHECK_INT(state(SLEEPER), U);
}


/*
 * A task forked, or touched by any event, after the start but before a
 * summarized pass's walk is walked: the core switches it silently, and
 * the pass names only what is still pending (rev5: the inference took
 * only tasks untouched since the start, and kept such a child pending).
 * One forked after the walk's first blocked event may not have been
 * walked: it stays as its fork made it.
 */
static void test_summary_fork_before_walk(void)
{
	fresh();
	load_and_init(LP);
	sw(150, 150, "sh", U, UNP, KLPT_VIA_FORK);	/* child of sh */
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	sw(151, 151, "sh", U, UNP, KLPT_VIA_FORK);	/* during the walk */
	pass(LP, PAT, 0, 7, 1);
	CHECK_INT(state(150), PAT);
	CHECK_INT(state(SH), PAT);
	CHECK_INT(state(151), UNP);
	CHECK_INT(state(SLEEPER), UNP);
}
/*
 * klptrace.ko's first_pass_summary: no per-task event in the first pass,
 * a klp_task_blocked reason=unknown per task still pending at its end
 * (the idle task of CPU 1 too), then the pass with pending = that count.
 * The model infers every other task at !target switched (apply_pass());
 * the retries are traced in full and give the real reason.  The same
 * for the disable.
 */
static const struct klpt_task *idle(int cpu);

static void test_first_pass_summary_unknown(void)
{
	const struct klpt_patch *p;
	const struct klpt_task *k;
	struct tb b;

	new_model();
	T = 1000000;
	tb_base(&b, U);
	tb_possible(&b, 2);
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(klpt_model_task_count(M), 6);	/* two idle tasks */

	load_and_init(LP);
	blocked(SLEEPER, "klpt_sleeper", LP, PAT, KLPT_REASON_UNKNOWN, "");
	blocked(0, "swapper/1", LP, PAT, KLPT_REASON_UNKNOWN, "");
	pass(LP, PAT, 0, 6, 2);
	p = P(LP);
	k = K(SLEEPER);
	CHECK_INT(klpt_patch_pending(p), 2);
	/* not named: switched by the stack check, unseen */
	CHECK_INT(state(INIT), PAT);
	CHECK_INT(state(KTHREADD), PAT);
	CHECK_INT(state(SH), PAT);
	CHECK_INT(klpt_task_state(idle(0)), PAT);
	/* named: pending, cause not traced */
	CHECK_INT(klpt_task_state(k), UNP);
	CHECK_INT(klpt_task_reason(k), KLPT_REASON_UNKNOWN);
	CHECK_STR(klpt_task_func(k), "");
	CHECK_INT(klpt_task_state(idle(1)), UNP);
	CHECK_INT(klpt_task_reason(idle(1)),
		  KLPT_REASON_UNKNOWN);
	CHECK_V(LP, KLPT_HOLD_ENABLED);

	/* retry 1, hooks armed: the idle task switched, the real reason */
	sw(0, 0, "swapper/1", UNP, PAT, KLPT_VIA_IDLE);
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, PAT, 1, 6, 1);
	CHECK_INT(klpt_task_state(k), UNP);
	CHECK_INT(klpt_task_reason(k), KLPT_REASON_SLEEPING_IN_FUNC);
	CHECK_STR(klpt_task_func(k), FUNC);
	CHECK_INT(klpt_task_state(idle(1)), PAT);
	CHECK_INT(state(SH), PAT);

	sw(SLEEPER, SLEEPER, "klpt_sleeper", UNP, PAT, KLPT_VIA_STACK_CHECK);
	pass(LP, PAT, 2, 6, 0);
	complete(LP, PAT, false);
	CHECK_INT(klpt_task_state(k), U);

	/* the disable, blocked the same way */
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	blocked(SLEEPER, "klpt_sleeper", LP, UNP, KLPT_REASON_UNKNOWN, "");
	pass(LP, UNP, 0, 6, 1);
	CHECK_INT(state(INIT), UNP);
	CHECK_INT(state(SH), UNP);
	CHECK_INT(klpt_task_state(idle(0)), UNP);
	CHECK_INT(klpt_task_state(idle(1)), UNP);
	CHECK_INT(klpt_task_state(k), PAT);
	CHECK_INT(klpt_task_reason(k), KLPT_REASON_UNKNOWN);
	CHECK_V(LP, KLPT_HOLD_TASKS);
	CHECK_WHY("klpt_sleeper");

	/* a pass whose blocked events do not add up infers nothing */
	blocked(SLEEPER, "klpt_sleeper", LP, UNP,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, UNP, 1, 6, 1);
	CHECK_INT(klpt_task_reason(k), KLPT_REASON_SLEEPING_IN_FUNC);
	sw(SLEEPER, SLEEPER, "klpt_sleeper", PAT, UNP, KLPT_VIA_STACK_CHECK);
	pass(LP, UNP, 2, 6, 0);
	complete(LP, UNP, false);
	CHECK_INT(klpt_task_state(k), U);
	CHECK_INT(state(INIT), U);
}

/* disable_unload: complete -> free -> release -> put 0 -> ready -> free */
static void test_disable_unload(void)
{
	const struct klpt_patch *p;

	fresh();
	enabled_lp();
	p = P(LP);
	CHECK_V(LP, KLPT_HOLD_ENABLED);
	CHECK_WHY("disable it first");

	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	/* pre_unpatch callbacks run: still enabled until the start */
	CHECK(klpt_patch_enabled(p) && klpt_patch_in_transition(p),
	      "enabled %d in transition %d", klpt_patch_enabled(p),
	      klpt_patch_in_transition(p));
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_INIT);
	CHECK_INT(klpt_patch_target(p), UNP);
	CHECK_INT(state(SH), PAT);	/* init: all at !target */
	CHECK_V(LP, KLPT_HOLD_ENABLED);
	CHECK_WHY("a transition is starting");
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	CHECK(!klpt_patch_enabled(p), "enabled after the start");
	CHECK_V(LP, KLPT_HOLD_TASKS);
	CHECK_WHY("6 tasks still in the patch's code");
	switch_all(UNP, 0);
	CHECK_INT(state(SH), UNP);
	/* all switched, the pass and completion not seen yet */
	CHECK_V(LP, KLPT_HOLD_TRANSITION);
	pass(LP, UNP, 0, 6, 0);
	CHECK_V(LP, KLPT_HOLD_TRANSITION);
	complete(LP, UNP, false);
	CHECK(!klpt_patch_in_transition(p), "in transition");
	CHECK_V(LP, KLPT_HOLD_NOT_FREED);
	CHECK_WHY("free work");
	patch_ev(KLPT_EV_PATCH_FREE, LP, false);
	CHECK(klpt_patch_freed(p) && !klpt_patch_released(p), "free");
	CHECK_V(LP, KLPT_HOLD_NOT_RELEASED);
	patch_ev(KLPT_EV_PATCH_RELEASE, LP, false);
	CHECK(klpt_patch_released(p), "release");
	/* the directory is gone; the module_put comes after: not yet */
	CHECK_V(LP, KLPT_HOLD_REFS);
	CHECK_WHY("1 reference to " LP " left");
	ref(LP, false, 0);
	CHECK_V(LP, KLPT_READY);
	mod_ev(KLPT_EV_MODULE_UNLOAD_READY, LP);
	CHECK_V(LP, KLPT_READY);
	CHECK_WHY("can be unloaded");
	mod_ev(KLPT_EV_MODULE_FREE, LP);
	CHECK(!P(LP), "patch left after module free");
	CHECK(!klpt_model_module_find(M, LP), "module left after free");
	CHECK_INT(errno, ENOENT);
	CHECK_INT(klpt_model_module_count(M), 0);
	CHECK_V(LP, KLPT_HOLD_UNKNOWN);	/* callers say ENOENT */
	CHECK_INT(errno, ENOENT);
}

/* reverse: 0 written to enabled while the sleeper blocks the enable. */
static void test_reverse(void)
{
	const struct klpt_patch *p;
	uint64_t t_rev;

	fresh();
	load_and_init(LP);
	switch_all(PAT, SLEEPER);
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, PAT, 0, 6, 1);
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, PAT, 1, 6, 1);
	p = P(LP);
	CHECK_V(LP, KLPT_HOLD_ENABLED);

	tr(KLPT_EV_TRANSITION_REVERSE, LP, UNP);
	t_rev = T;
	CHECK(!klpt_patch_enabled(p), "still enabled after the reverse");
	CHECK_INT(klpt_patch_target(p), UNP);
	CHECK_INT(klpt_patch_started_ns(p), t_rev);
	/* states stay; the sleeper is in the new target already */
	CHECK_INT(state(SLEEPER), UNP);
	CHECK_INT(klpt_task_reason(K(SLEEPER)), KLPT_REASON_NONE);
	CHECK_INT(state(SH), PAT);
	CHECK_V(LP, KLPT_HOLD_TASKS);
	CHECK_WHY("5 tasks");
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	CHECK_INT(klpt_patch_pass(p), 0);
	CHECK_INT(klpt_patch_started_ns(p), t_rev);
	switch_all(UNP, SLEEPER);
	pass(LP, UNP, 0, 6, 0);
	complete(LP, UNP, false);
	CHECK(!klpt_patch_enabled(p) && !klpt_patch_in_transition(p),
	      "enabled %d in transition %d", klpt_patch_enabled(p),
	      klpt_patch_in_transition(p));
	CHECK_V(LP, KLPT_HOLD_NOT_FREED);
	patch_ev(KLPT_EV_PATCH_FREE, LP, false);
	patch_ev(KLPT_EV_PATCH_RELEASE, LP, false);
	CHECK_V(LP, KLPT_HOLD_REFS);
	ref(LP, false, 0);
	mod_ev(KLPT_EV_MODULE_UNLOAD_READY, LP);
	CHECK_V(LP, KLPT_READY);
}

/* reverse back: a disable reversed into an enable is enabled again. */
static void test_reverse_to_enabled(void)
{
	fresh();
	enabled_lp();
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	switch_all(UNP, SLEEPER);
	blocked(SLEEPER, "klpt_sleeper", LP, UNP,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, UNP, 0, 6, 1);
	CHECK_V(LP, KLPT_HOLD_TASKS);
	CHECK_WHY("1 task still in the patch's code (pass 0): "
		  "klpt_sleeper[108] in " FUNC);
	tr(KLPT_EV_TRANSITION_REVERSE, LP, PAT);
	CHECK(klpt_patch_enabled(P(LP)), "not enabled after reverse");
	CHECK_V(LP, KLPT_HOLD_ENABLED);
	tr(KLPT_EV_TRANSITION_START, LP, PAT);
	switch_all(PAT, SLEEPER);
	pass(LP, PAT, 0, 6, 0);
	complete(LP, PAT, false);
	CHECK_V(LP, KLPT_HOLD_ENABLED);
}

/* force: a forced unpatch can never be unloaded. */
static void test_force(void)
{
	const struct klpt_patch *p;

	fresh();
	enabled_lp();
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	switch_all(UNP, SLEEPER);
	blocked(SLEEPER, "klpt_sleeper", LP, UNP,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, UNP, 0, 6, 1);
	p = P(LP);
	CHECK_V(LP, KLPT_HOLD_TASKS);
	CHECK_WHY("klpt_sleeper[108] in " FUNC);

	tr(KLPT_EV_TRANSITION_FORCE, LP, UNP);
	/* the kernel's mark comes at the force's return */
	patch_ev(KLPT_EV_PATCH_FORCED, LP, true);
	CHECK(klpt_patch_forced(p), "not forced");
	CHECK_V(LP, KLPT_HOLD_FORCED);
	CHECK_WHY("never");
	sw(SLEEPER, SLEEPER, "klpt_sleeper", PAT, UNP, KLPT_VIA_FORCE);
	CHECK_INT(state(SLEEPER), UNP);
	pass(LP, UNP, 2, 6, 0);
	complete(LP, UNP, true);
	patch_ev(KLPT_EV_PATCH_FREE, LP, true);
	patch_ev(KLPT_EV_PATCH_RELEASE, LP, true);
	CHECK(klpt_patch_forced(p) && klpt_patch_released(p),
	      "forced %d released %d", klpt_patch_forced(p),
	      klpt_patch_released(p));
	CHECK_V(LP, KLPT_HOLD_FORCED);
	CHECK_INT(klpt_module_refcnt(klpt_model_module_find(M, LP)), 1);
	/* even a refcount of 0 would not make a forced patch safe */
	ref(LP, false, 0);
	CHECK_V(LP, KLPT_HOLD_FORCED);
}

/* A forced flag that only the complete event carries. */
static void test_forced_by_complete(void)
{
	fresh();
	enabled_lp();
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	switch_all(UNP, 0);
	pass(LP, UNP, 0, 6, 0);
	complete(LP, UNP, true);
	CHECK_V(LP, KLPT_HOLD_FORCED);
}

/*
 * force_patching: a force during an enable marks nothing (6.1
 * klp_force_transition()): after a disable the module unloads.
 */
static void test_force_patching(void)
{
	const struct klpt_patch *p;

	fresh();
	load_and_init(LP);
	switch_all(PAT, SLEEPER);
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, PAT, 0, 6, 1);
	p = P(LP);
	tr(KLPT_EV_TRANSITION_FORCE, LP, PAT);
	CHECK(!klpt_patch_forced(p), "forced by the force event alone");
	sw(SLEEPER, SLEEPER, "klpt_sleeper", UNP, PAT, KLPT_VIA_FORCE);
	complete(LP, PAT, false);
	ref(LP, false, 1);
	CHECK(!klpt_patch_forced(p), "forced after an enable's force");
	CHECK_V(LP, KLPT_HOLD_ENABLED);

	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	unpatched_to_ready();
	CHECK_V(LP, KLPT_READY);
}

/*
 * A recording from before klp_patch_forced: its enable's complete said
 * forced=1 after any force.  Not a mark (the free says forced=0 later).
 */
static void test_force_patching_old_recording(void)
{
	fresh();
	load_and_init(LP);
	switch_all(PAT, SLEEPER);
	tr(KLPT_EV_TRANSITION_FORCE, LP, PAT);
	sw(SLEEPER, SLEEPER, "klpt_sleeper", UNP, PAT, KLPT_VIA_FORCE);
	complete(LP, PAT, true);
	ref(LP, false, 1);
	CHECK(!klpt_patch_forced(P(LP)), "forced by an old enable complete");
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	switch_all(UNP, 0);
	complete(LP, UNP, false);
	patch_ev(KLPT_EV_PATCH_FREE, LP, false);
	patch_ev(KLPT_EV_PATCH_RELEASE, LP, false);
	ref(LP, false, 0);
	CHECK_V(LP, KLPT_READY);
}

/*
 * A recording from before klp_patch_forced: a force during an enable,
 * then a reverse.  6.1 klp_force_transition() marked nothing (its
 * target was patched), but the old complete said forced=1 for "a force
 * ran".  The module unloads: free forced=0, then unload ready.
 */
static void test_force_patching_reversed_old_recording(void)
{
	const struct klpt_patch *p;

	fresh();
	load_and_init(LP);
	switch_all(PAT, SLEEPER);
	pass(LP, PAT, 0, 6, 1);
	p = P(LP);
	tr(KLPT_EV_TRANSITION_FORCE, LP, PAT);
	sw(SLEEPER, SLEEPER, "klpt_sleeper", UNP, PAT, KLPT_VIA_FORCE);
	tr(KLPT_EV_TRANSITION_REVERSE, LP, UNP);
	switch_all(UNP, 0);
	complete(LP, UNP, true);
	CHECK(!klpt_patch_forced(p), "forced by an old reversed complete");
	patch_ev(KLPT_EV_PATCH_FREE, LP, false);
	patch_ev(KLPT_EV_PATCH_RELEASE, LP, false);
	ref(LP, false, 0);
	mod_ev(KLPT_EV_MODULE_UNLOAD_READY, LP);
	CHECK_V(LP, KLPT_READY);
}

/*
 * Joined after the force: only the old complete's forced=1 is known and
 * taken; the free's forced=0 is the kernel's flag and wins.
 */
static void test_forced_cleared_by_free(void)
{
	fresh();
	enabled_lp();
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	switch_all(UNP, 0);
	complete(LP, UNP, true);
	CHECK_V(LP, KLPT_HOLD_FORCED);
	patch_ev(KLPT_EV_PATCH_FREE, LP, false);
	CHECK(!klpt_patch_forced(P(LP)), "free forced=0 did not clear");
	patch_ev(KLPT_EV_PATCH_RELEASE, LP, false);
	ref(LP, false, 0);
	CHECK_V(LP, KLPT_READY);
}

/* klp_module_unload_ready never fires for a forced patch. */
static void test_forced_cleared_by_unload_ready(void)
{
	fresh();
	enabled_lp();
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	switch_all(UNP, 0);
	complete(LP, UNP, true);
	CHECK_V(LP, KLPT_HOLD_FORCED);
	mod_ev(KLPT_EV_MODULE_UNLOAD_READY, LP);
	CHECK(!klpt_patch_forced(P(LP)), "forced after unload ready");
	CHECK_V(LP, KLPT_READY);
}

/*
 * A forced disable reversed back to patched: the force's target was
 * unpatched, so the kernel marked the patch (sticky), although the
 * complete is a patched one.  Old and new recordings alike.
 */
static void test_force_unpatching_reversed(void)
{
	fresh();
	enabled_lp();
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	switch_all(UNP, SLEEPER);
	pass(LP, UNP, 0, 6, 1);
	tr(KLPT_EV_TRANSITION_FORCE, LP, UNP);
	sw(SLEEPER, SLEEPER, "klpt_sleeper", PAT, UNP, KLPT_VIA_FORCE);
	tr(KLPT_EV_TRANSITION_REVERSE, LP, PAT);
	switch_all(PAT, 0);
	complete(LP, PAT, true);
	CHECK(klpt_patch_forced(P(LP)), "forced disable reversed: not forced");
	/* a later disable without a force: still forced (sticky) */
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	switch_all(UNP, 0);
	complete(LP, UNP, false);
	CHECK(klpt_patch_forced(P(LP)), "forced flag not sticky");
	patch_ev(KLPT_EV_PATCH_FREE, LP, true);
	patch_ev(KLPT_EV_PATCH_RELEASE, LP, true);
	CHECK_V(LP, KLPT_HOLD_FORCED);
}

/*
 * force_replace: forcing the enable of an atomic replace patch marks
 * the patches it replaces; they are freed forced, the replace patch is
 * not forced.
 */
static void test_force_replace(void)
{
	const char *lp2 = "klpt_lp_sleep2";

	fresh();
	enabled_lp();
	load_and_init(lp2);
	switch_all(PAT, SLEEPER);
	pass(lp2, PAT, 0, 6, 1);
	tr(KLPT_EV_TRANSITION_FORCE, lp2, PAT);
	patch_ev(KLPT_EV_PATCH_FORCED, LP, true);
	sw(SLEEPER, SLEEPER, "klpt_sleeper", UNP, PAT, KLPT_VIA_FORCE);
	complete(lp2, PAT, false);
	ref(lp2, false, 1);
	CHECK(klpt_patch_forced(P(LP)), "replaced patch not forced");
	CHECK(!klpt_patch_forced(P(lp2)), "replace patch forced");
	/* klp_free_replaced_patches_async() */
	patch_ev(KLPT_EV_PATCH_FREE, LP, true);
	patch_ev(KLPT_EV_PATCH_RELEASE, LP, true);
	CHECK_V(LP, KLPT_HOLD_FORCED);
	CHECK_V(lp2, KLPT_HOLD_ENABLED);
}

/* fork_fail: copy_process() failed after the fork event. */
static void test_fork_failed(void)
{
	struct klpt_event ev = { .type = KLPT_EV_TASK_FORK_FAILED };

	fresh();
	load_and_init(LP);
	switch_all(PAT, SLEEPER);
	sw(120, 120, "sh", U, PAT, KLPT_VIA_FORK);
	CHECK_INT(klpt_model_task_count(M), 7);
	ev.task.pid = 120;
	ev.task.tgid = 120;
	snprintf(ev.task.comm, sizeof(ev.task.comm), "sh");
	ev.task.err = -4;
	ev.task.patch = ev.task.func = "";
	apply(&ev);
	CHECK(!K(120), "phantom task 120");
	CHECK_INT(klpt_model_task_count(M), 6);
	/* the pid comes back as a real fork */
	sw(120, 120, "sh", U, PAT, KLPT_VIA_FORK);
	CHECK_INT(state(120), PAT);
	/* a failure for a pid the model never saw changes nothing */
	ev.task.pid = 999;
	apply(&ev);
	CHECK_INT(klpt_model_task_count(M), 7);
}

/* busy_running: a CPU-bound kthread is "running" at every check. */
static void test_busy_running(void)
{
	const char *lp = "klpt_lp_busy";
	const struct klpt_task *k;
	unsigned int i;

	fresh();
	load_and_init(lp);
	switch_all(PAT, SLEEPER);
	for (i = 0; i < 3; i++) {
		blocked(SLEEPER, "klpt_spinner", lp, PAT,
			KLPT_REASON_RUNNING, "");
		pass(lp, PAT, i, 6, 1);
	}
	k = K(SLEEPER);
	CHECK_INT(klpt_task_reason(k), KLPT_REASON_RUNNING);
	CHECK_STR(klpt_task_func(k), "");
	CHECK_STR(klpt_task_comm(k), "klpt_spinner");	/* from the event */
	CHECK_INT(klpt_task_checks(k), 3);
	sw(SLEEPER, SLEEPER, "klpt_spinner", UNP, PAT, KLPT_VIA_STACK_CHECK);
	pass(lp, PAT, 3, 6, 0);
	complete(lp, PAT, false);
	CHECK_INT(state(SLEEPER), U);

	/* the same spinner holding a disable */
	tr(KLPT_EV_TRANSITION_INIT, lp, UNP);
	tr(KLPT_EV_TRANSITION_START, lp, UNP);
	switch_all(UNP, SLEEPER);
	blocked(SLEEPER, "klpt_spinner", lp, UNP, KLPT_REASON_RUNNING, "");
	pass(lp, UNP, 0, 6, 1);
	CHECK_V(lp, KLPT_HOLD_TASKS);
	CHECK_WHY("klpt_spinner[108] running");
}

/* signal_user: a user task in read(), signalled at pass 15. */
static void test_signal_user(void)
{
	const char *lp = "klpt_lp_read";
	const struct klpt_patch *p;
	unsigned int i;

	fresh();
	load_and_init(lp);
	switch_all(PAT, SH);
	for (i = 0; i <= 15; i++) {
		blocked(SH, "cat", lp, PAT, KLPT_REASON_SLEEPING_IN_FUNC,
			"klpt_read_proc_read");
		pass(lp, PAT, i, 6, 1);
	}
	p = P(lp);
	CHECK_INT(klpt_patch_signals(p), 0);
	signal_(lp, PAT, 15, 1);
	CHECK_INT(klpt_patch_signals(p), 1);
	CHECK_INT(klpt_patch_pass(p), 15);
	CHECK_INT(klpt_task_checks(K(SH)), 16);
	CHECK(!klpt_task_is_kthread(K(SH)), "cat is a user task");
	sw(SH, SH, "cat", UNP, PAT, KLPT_VIA_USER_RETURN);
	CHECK_INT(state(SH), PAT);
	CHECK_INT(klpt_task_reason(K(SH)), KLPT_REASON_NONE);
	pass(lp, PAT, 16, 5, 0);
	complete(lp, PAT, false);
	CHECK_INT(klpt_patch_signals(p), 1);	/* kept for the record */
	CHECK_INT(state(SH), U);
}

/*
 * klptrace.ko reports a user-return or idle switch as
 * klp_update_patch_state() returns: a task preempted in between has its
 * event after the completion that its switch allowed (cloud-amd64's
 * enable_vmlinux in CI: cat's switch 1 ms after the complete).  The
 * completion reset it to undefined, as every task.
 */
static void test_switch_after_complete(void)
{
	fresh();
	load_and_init(LP);
	switch_all(PAT, SH);
	pass(LP, PAT, 0, 6, 0);
	complete(LP, PAT, false);
	sw(SH, SH, "sh", UNP, PAT, KLPT_VIA_USER_RETURN);
	CHECK_INT(state(SH), U);
	sw(0, 0, "swapper/1", UNP, PAT, KLPT_VIA_IDLE);
	CHECK_INT(state(0), U);
	CHECK(!klpt_patch_in_transition(P(LP)), "in transition again");
	CHECK_INT(klpt_patch_pending(P(LP)), 0);

	/* after the next transition's init too: it set every state */
	fresh();
	load_and_init(LP);
	switch_all(PAT, -1);
	pass(LP, PAT, 0, 6, 0);
	complete(LP, PAT, false);
	mod_ev(KLPT_EV_MODULE_LOAD, "klpt_lp_other");
	tr(KLPT_EV_TRANSITION_INIT, "klpt_lp_other", PAT);
	CHECK_INT(state(SH), UNP);
	sw(SH, SH, "sh", UNP, PAT, KLPT_VIA_USER_RETURN);
	CHECK_INT(state(SH), UNP);
	/* once started, a task's own switch counts */
	tr(KLPT_EV_TRANSITION_START, "klpt_lp_other", PAT);
	sw(SH, SH, "sh", UNP, PAT, KLPT_VIA_USER_RETURN);
	CHECK_INT(state(SH), PAT);
}

/*
 * A task running when the pass checked it switches itself (user return)
 * before the pass writes its blocked event: the switch comes first in
 * the trace.  It stays switched, and still counts for the pass.
 */
static void test_switch_before_blocked(void)
{
	fresh();
	load_and_init(LP);
	switch_all(PAT, SH);
	sw(SH, SH, "sh", UNP, PAT, KLPT_VIA_USER_RETURN);
	blocked(SH, "sh", LP, PAT, KLPT_REASON_RUNNING, "");
	CHECK_INT(state(SH), PAT);
	pass(LP, PAT, 0, 6, 1);
	CHECK_INT(state(SH), PAT);
	CHECK_INT(klpt_patch_pending(P(LP)), 1);
	CHECK_INT(klpt_task_reason(K(SH)), KLPT_REASON_NONE);

	/* a switch in an earlier pass does not hide a real blocked event */
	fresh();
	load_and_init(LP);
	switch_all(PAT, SLEEPER);
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, PAT, 0, 6, 1);
	tr(KLPT_EV_TRANSITION_REVERSE, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	blocked(SH, "sh", LP, UNP, KLPT_REASON_RUNNING, "");
	CHECK_INT(state(SH), PAT);
	CHECK_INT(klpt_task_reason(K(SH)), KLPT_REASON_RUNNING);
}

/*
 * After lost events a switch seen before them says nothing of the pass
 * now running (a reverse and a reverse back, or a whole transition, may
 * be among the lost): a blocked event then is believed.
 */
static void test_lost_then_blocked(void)
{
	fresh();
	load_and_init(LP);
	sw(SH, SH, "sh", UNP, PAT, KLPT_VIA_USER_RETURN);
	lost();		/* reverse, sh switches back, reverse again */
	blocked(SH, "sh", LP, PAT, KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	CHECK_INT(state(SH), UNP);
	CHECK_INT(klpt_task_reason(K(SH)), KLPT_REASON_SLEEPING_IN_FUNC);
	pass(LP, PAT, 1, 6, 1);
	CHECK_INT(state(SH), UNP);

	fresh();
	load_and_init(LP);
	task_new(300, 300, "child", UNP, 0, SH);
	lost();		/* the child switches, completion, a disable */
	blocked(300, "child", LP, UNP, KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	CHECK_INT(state(300), PAT);
	CHECK_INT(klpt_task_reason(K(300)), KLPT_REASON_SLEEPING_IN_FUNC);
}

/*
 * fork_inherit: children get their parent's state; a child that exits
 * unswitched stops counting once a pass proves it is not pending.
 */
static void test_fork_inherit(void)
{
	const struct klpt_patch *p;

	fresh();
	load_and_init(LP);
	switch_all(PAT, SLEEPER);
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, PAT, 0, 6, 1);
	sw(115, 115, "sh", U, PAT, KLPT_VIA_FORK);	/* child of sh */
	sw(116, 116, "sleep", U, UNP, KLPT_VIA_FORK);	/* of an unpatched */
	CHECK_INT(state(115), PAT);
	CHECK_INT(state(116), UNP);
	CHECK_INT(klpt_task_tgid(K(116)), 116);
	CHECK(!klpt_task_is_kthread(K(115)), "fork child is a kthread");
	CHECK_INT(klpt_model_task_count(M), 8);

	/*
	 * 116 may have been forked after pass 1's walk, if it comes after
	 * the pass's first blocked event (the walk holds tasklist_lock from
	 * before it): not judged yet.
	 */
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	sw(117, 117, "sleep", U, UNP, KLPT_VIA_FORK);
	pass(LP, PAT, 1, 7, 1);
	CHECK_INT(state(117), UNP);
	/* 116, forked before that event, was walked: not pending */
	CHECK_INT(state(116), PAT);
	/* pass 2 walked 117: it exited, it does not hold the transition */
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, PAT, 2, 6, 1);
	CHECK_INT(state(117), PAT);
	CHECK_INT(state(SLEEPER), UNP);	/* still blocked */

	sw(SLEEPER, SLEEPER, "klpt_sleeper", UNP, PAT, KLPT_VIA_STACK_CHECK);
	pass(LP, PAT, 3, 7, 0);
	complete(LP, PAT, false);
	/* a fork just after complete: the core resets it to undefined */
	sw(146, 146, "kthreadd", U, PAT, KLPT_VIA_FORK);
	CHECK_INT(state(146), U);

	/* the disable, with a fork from a still patched parent */
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	switch_all(UNP, SLEEPER);
	blocked(SLEEPER, "klpt_sleeper", LP, UNP,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, UNP, 0, 8, 1);
	p = P(LP);
	sw(117, 117, "sleep", U, UNP, KLPT_VIA_FORK);
	CHECK_INT(state(117), UNP);
	/* pid 115 reused by a new task: a fresh one, old info gone */
	sw(115, 115, "cat", U, UNP, KLPT_VIA_FORK);
	CHECK_STR(klpt_task_comm(K(115)), "cat");
	CHECK_INT(klpt_task_kthread(K(115)), -1);	/* unknown, not "user" */
	CHECK_V(LP, KLPT_HOLD_TASKS);
	sw(SLEEPER, SLEEPER, "klpt_sleeper", PAT, UNP, KLPT_VIA_STACK_CHECK);
	pass(LP, UNP, 1, 9, 0);
	complete(LP, UNP, false);
	CHECK(!klpt_patch_in_transition(p), "in transition");
	CHECK_V(LP, KLPT_HOLD_NOT_FREED);
}

/*
 * reload_midtransition: klptrace.ko loaded while a transition runs.
 * The snapshot says which patch; events start with a pass ("?" without
 * the core's globals), no init.
 */
static void test_mid_transition(void)
{
	const struct klpt_patch *p;
	struct tb b;

	new_model();
	T = 5000000;
	tb_base(&b, PAT);
	b.k[3].state = UNP;		/* the sleeper */
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 1, 1);
	klpt_model_reconcile(M, &b.t);
	p = P(LP);
	CHECK(p && klpt_patch_in_transition(p) && klpt_patch_enabled(p),
	      "patch from the snapshot");
	CHECK_INT(klpt_patch_target(p), PAT);
	CHECK_INT(klpt_patch_started_ns(p), 0);	/* unknown */
	CHECK_INT(klpt_patch_pending(p), 1);
	CHECK_INT(klpt_task_reason(K(SLEEPER)), KLPT_REASON_UNKNOWN);
	CHECK_INT(klpt_module_refcnt(klpt_model_module_find(M, LP)), 1);

	blocked(SLEEPER, "klpt_sleeper", "?", PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass("?", PAT, 7, 61, 1);
	CHECK_INT(klpt_model_patch_count(M), 1);	/* no "?" patch */
	CHECK_INT(klpt_patch_pass(p), 7);
	CHECK_INT(klpt_task_reason(K(SLEEPER)), KLPT_REASON_SLEEPING_IN_FUNC);
	CHECK_STR(klpt_task_func(K(SLEEPER)), FUNC);
	/* named events again once the globals were read */
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, PAT, 8, 61, 1);
	CHECK_INT(klpt_task_checks(K(SLEEPER)), 2);
	sw(SLEEPER, SLEEPER, "klpt_sleeper", UNP, PAT, KLPT_VIA_STACK_CHECK);
	pass(LP, PAT, 9, 61, 0);
	complete(LP, PAT, false);
	CHECK(!klpt_patch_in_transition(p) && klpt_patch_enabled(p),
	      "not complete");
}

/* No snapshot at all (a trace.dat): "?" stands in until a name comes. */
static void test_mid_transition_no_truth(void)
{
	const struct klpt_patch *p;

	new_model();
	blocked(SLEEPER, "klpt_sleeper", "?", PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass("?", PAT, 7, 61, 1);
	p = P("?");
	CHECK(p && klpt_patch_in_transition(p), "no \"?\" placeholder");
	CHECK_INT(klpt_patch_pass(p), 7);
	CHECK(!klpt_patch_module(NULL, p), "a module for \"?\"");
	CHECK_INT(klpt_model_module_count(M), 0);
	/* the first named event adopts the transition */
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	CHECK(!P("?"), "\"?\" left");
	p = P(LP);
	CHECK(p && klpt_patch_in_transition(p) && klpt_patch_enabled(p),
	      "not adopted");
	CHECK_INT(klpt_patch_pass(p), 7);
	CHECK_INT(klpt_model_patch_count(M), 1);
	/* refcnt not seen yet: the module is listed, refcount unknown */
	CHECK_INT(klpt_module_refcnt(klpt_model_module_find(M, LP)), -1);

	/* and a "?" the snapshot resolves */
	new_model();
	pass("?", PAT, 3, 61, 1);
	{
		struct tb b;

		tb_base(&b, PAT);
		tb_module(&b, LP, 1, true);
		tb_patch(&b, LP, 1, 1);
		klpt_model_reconcile(M, &b.t);
	}
	CHECK(!P("?"), "\"?\" left after reconcile");
	CHECK_INT(klpt_patch_pass(P(LP)), 3);
}

/* A failed enable: cancel, complete unpatched, release without free. */
static void test_cancel(void)
{
	const struct klpt_patch *p;

	fresh();
	/* a pre_patch callback failed: klp_cancel_transition(), no start */
	mod_ev(KLPT_EV_MODULE_LOAD, LP);
	ref(LP, true, 2);
	tr(KLPT_EV_TRANSITION_INIT, LP, PAT);
	p = P(LP);
	CHECK(!klpt_patch_enabled(p), "enabled before the start");
	tr(KLPT_EV_TRANSITION_CANCEL, LP, PAT);
	CHECK(!klpt_patch_enabled(p), "enabled after cancel");
	CHECK_INT(klpt_patch_target(p), UNP);
	CHECK_INT(klpt_patch_pending(p), 0);
	CHECK_V(LP, KLPT_HOLD_TRANSITION);	/* no task named */
	complete(LP, UNP, false);
	CHECK(!klpt_patch_enabled(p), "enabled after the complete");
	CHECK_V(LP, KLPT_HOLD_NOT_FREED);
	patch_ev(KLPT_EV_PATCH_RELEASE, LP, false);
	CHECK(klpt_patch_freed(p), "release implies free");
	CHECK_V(LP, KLPT_HOLD_REFS);	/* klp's ref and the loader's */
	ref(LP, false, 1);
	CHECK_V(LP, KLPT_HOLD_REFS);
	mod_ev(KLPT_EV_MODULE_FREE, LP);	/* the load failed */
	CHECK_INT(klpt_model_patch_count(M), 0);
	CHECK_INT(klpt_model_module_count(M), 0);
}

/*
 * The init window of an enable (pre_patch callbacks run): sysfs says
 * enabled 0, transition 1, every task at 0 and none pending.
 */
static void test_prepatch_window(void)
{
	const struct klpt_patch *p;

	fresh();
	mod_ev(KLPT_EV_MODULE_LOAD, LP);
	ref(LP, true, 2);
	tr(KLPT_EV_TRANSITION_INIT, LP, PAT);
	p = P(LP);
	CHECK(!klpt_patch_enabled(p) && klpt_patch_in_transition(p),
	      "enabled %d in transition %d", klpt_patch_enabled(p),
	      klpt_patch_in_transition(p));
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_INIT);
	CHECK_INT(klpt_patch_pending(p), 0);
	CHECK_INT(state(SH), UNP);
	CHECK_INT(klpt_task_reason(K(SH)), KLPT_REASON_NONE);
	task_exit(SH, "sh");		/* gone: in no count */
	CHECK(!K(SH), "exited task kept");
	CHECK_V(LP, KLPT_HOLD_TRANSITION);
	CHECK(!strstr(why, "sh["), "an exited task named: %s", why);
	CHECK(!strstr(why, "task"), "tasks named before the start: %s", why);
	tr(KLPT_EV_TRANSITION_START, LP, PAT);
	CHECK(klpt_patch_enabled(p), "not enabled after the start");
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_STARTED);
	CHECK(!K(SH), "exited task back");
}

/*
 * Rebuilt from sysfs in that window: enabled 0 + transition 1 is an
 * enable before its start (every task at 0) or a disable under way; the
 * tasks' states tell, and when they cannot, the direction is unknown.
 */
static void test_reconcile_prepatch_window(void)
{
	const struct klpt_patch *p;
	struct tb b;

	/* a session opens in the window: all tasks at 0 -> unknown */
	new_model();
	tb_base(&b, UNP);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 0, 1);
	klpt_model_reconcile(M, &b.t);
	p = P(LP);
	CHECK(p && klpt_patch_in_transition(p) && !klpt_patch_enabled(p),
	      "patch from the snapshot");
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_UNKNOWN);
	CHECK_INT(klpt_patch_target(p), U);
	CHECK_INT(klpt_patch_pending(p), 0);
	CHECK_INT(klpt_task_reason(K(SLEEPER)), KLPT_REASON_NONE);
	CHECK_V(LP, KLPT_HOLD_TRANSITION);
	CHECK_WHY("direction not known");
	/* the start tells */
	tr(KLPT_EV_TRANSITION_START, LP, PAT);
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_STARTED);
	CHECK(klpt_patch_enabled(p), "not enabled after the start");

	/* events saw the init, then a resync in the window keeps it */
	fresh();
	mod_ev(KLPT_EV_MODULE_LOAD, LP);
	ref(LP, true, 2);
	tr(KLPT_EV_TRANSITION_INIT, LP, PAT);
	lost();
	tb_base(&b, UNP);
	tb_module(&b, LP, 2, true);
	tb_patch(&b, LP, 0, 1);
	klpt_model_reconcile(M, &b.t);
	p = P(LP);
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_INIT);
	CHECK_INT(klpt_patch_target(p), PAT);
	CHECK(!klpt_patch_enabled(p), "enabled in the window");
	CHECK_INT(klpt_patch_pending(p), 0);

	/* enabled 0, a task still at 1: an unpatch that started */
	new_model();
	tb_base(&b, UNP);
	b.k[3].state = PAT;		/* the sleeper */
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 0, 1);
	klpt_model_reconcile(M, &b.t);
	p = P(LP);
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_STARTED);
	CHECK_INT(klpt_patch_target(p), UNP);
	CHECK_INT(klpt_patch_pending(p), 1);

	/*
	 * Polled (the fallback): the window, then enabled 1 with every
	 * task already at 1: enabled flips only at the start, so this is
	 * the enable, started, all switched, not the init of a disable.
	 */
	new_model();
	tb_base(&b, UNP);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 0, 1);
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(klpt_patch_phase(P(LP)), KLPT_PHASE_UNKNOWN);
	tb_base(&b, PAT);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 1, 1);
	klpt_model_reconcile(M, &b.t);
	p = P(LP);
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_STARTED);
	CHECK_INT(klpt_patch_target(p), PAT);
	CHECK_INT(klpt_patch_pending(p), 0);
	/* the same snapshot again: still that (kept from the model) */
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_STARTED);
	CHECK_INT(klpt_patch_target(p), PAT);

	/* a disable's init window (pre_unpatch): enabled 1, all at 1 */
	fresh();
	enabled_lp();
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	lost();
	tb_base(&b, PAT);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 1, 1);
	klpt_model_reconcile(M, &b.t);
	p = P(LP);
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_INIT);
	CHECK_INT(klpt_patch_target(p), UNP);
	CHECK(klpt_patch_enabled(p), "not enabled before the start");
	CHECK_V(LP, KLPT_HOLD_ENABLED);
}

/*
 * Unknown is not a value: joined mid-transition, the pass number and the
 * signals sent before are unknown, not 0; a task no snapshot described
 * is neither a kernel thread nor a user task.
 */
static void test_unknown_values(void)
{
	const struct klpt_patch *p;
	struct tb b;

	new_model();
	tb_base(&b, PAT);
	b.k[3].state = UNP;		/* the sleeper */
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 1, 1);
	klpt_model_reconcile(M, &b.t);
	p = P(LP);
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_STARTED);
	CHECK(klpt_patch_pass(p) == KLPT_UNKNOWN_COUNT, "pass %u",
	      klpt_patch_pass(p));
	CHECK(klpt_patch_signals(p) == KLPT_UNKNOWN_COUNT, "signals %u",
	      klpt_patch_signals(p));
	CHECK_INT(klpt_patch_started_ns(p), 0);
	CHECK_INT(klpt_task_kthread(K(KTHREADD)), 1);
	CHECK_INT(klpt_task_kthread(K(SH)), 0);
	blocked(999, "kworker/0:9", LP, PAT, KLPT_REASON_RUNNING, "");
	CHECK_INT(klpt_task_kthread(K(999)), -1);	/* no snapshot said */
	CHECK(!klpt_task_is_kthread(K(999)), "guessed a kthread");
	pass(LP, PAT, 29, 7, 2);
	CHECK_INT(klpt_patch_pass(p), 29);
	CHECK(klpt_patch_signals(p) == KLPT_UNKNOWN_COUNT,
	      "signals %u at pass 29, joined at an unknown pass",
	      klpt_patch_signals(p));
	sw(SLEEPER, SLEEPER, "klpt_sleeper", UNP, PAT, KLPT_VIA_STACK_CHECK);
	sw(999, 999, "kworker/0:9", UNP, PAT, KLPT_VIA_STACK_CHECK);
	pass(LP, PAT, 30, 7, 0);
	complete(LP, PAT, false);
	/* a transition seen from its start knows both */
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	CHECK_INT(klpt_patch_pass(p), 0);
	CHECK_INT(klpt_patch_signals(p), 0);
	CHECK(klpt_patch_started_ns(p) != 0, "start time unknown");
	/* the "?" of a mid-transition klptrace.ko: pass known, not signals */
	fresh();
	pass("?", PAT, 16, 7, 1);
	p = P("?");
	CHECK(p && klpt_patch_pass(p) == 16, "pass of \"?\"");
	CHECK(p && klpt_patch_signals(p) == KLPT_UNKNOWN_COUNT,
	      "signals of \"?\" known");
}

/* ------------------------------------------------------ verdict edges */

static void test_refs_after_release(void)
{
	fresh();
	enabled_lp();
	ref(LP, true, 2);		/* someone else holds one */
	disable_ev(LP);
	patch_ev(KLPT_EV_PATCH_FREE, LP, false);
	patch_ev(KLPT_EV_PATCH_RELEASE, LP, false);
	ref(LP, false, 1);		/* the free path's put */
	CHECK_V(LP, KLPT_HOLD_REFS);
	CHECK_WHY("1 reference to " LP " left");
	ref(LP, false, 0);
	CHECK_V(LP, KLPT_READY);
}

static void test_unknown_module(void)
{
	fresh();
	enabled_lp();
	CHECK(!klpt_model_module_find(M, "nope"), "found nope");
	CHECK_INT(errno, ENOENT);
	/* a module that is not a livepatch module is not listed */
	CHECK(!klpt_model_module_find(M, TARGET), "found the target");
	CHECK_V("nope", KLPT_HOLD_UNKNOWN);
	CHECK_INT(errno, ENOENT);
	CHECK_WHY("no such module");
	CHECK(!P("nope"), "found patch nope");
	CHECK(!K(4242), "found task 4242");
	CHECK(!klpt_model_patch_at(M, 5), "patch 5");
	CHECK(!klpt_model_task_at(M, -1), "task -1");
	CHECK(!klpt_model_module_at(M, 1), "module 1");
	CHECK(klpt_model_module_at(M, 0), "module 0");
}

static void test_lost_then_reconcile(void)
{
	struct tb b;

	fresh();
	enabled_lp();
	CHECK_V(LP, KLPT_HOLD_ENABLED);
	lost();
	CHECK(klpt_model_stale(M), "not stale after LOST");
	CHECK_V(LP, KLPT_HOLD_UNKNOWN);
	CHECK_WHY("lost");
	/*
	 * Meanwhile (unseen) the patch was disabled, freed, released and
	 * its last reference dropped: the directory is gone, refcnt 0.
	 */
	tb_base(&b, U);
	tb_module(&b, LP, 0, true);
	klpt_model_reconcile(M, &b.t);
	CHECK(!klpt_model_stale(M), "stale after reconcile");
	CHECK(!klpt_patch_enabled(P(LP)) && klpt_patch_freed(P(LP)) &&
	      klpt_patch_released(P(LP)), "not disabled and freed");
	CHECK_V(LP, KLPT_READY);
	/* and then unloaded unseen as well */
	lost();
	tb_base(&b, U);
	klpt_model_reconcile(M, &b.t);
	CHECK(!P(LP), "patch left");
	CHECK(!klpt_model_module_find(M, LP), "module left");
	CHECK_INT(klpt_model_module_count(M), 0);
}

/* Lost events while the directory is gone but the put not yet done. */
static void test_reconcile_dir_gone_refs(void)
{
	struct tb b;

	fresh();
	enabled_lp();
	lost();
	tb_base(&b, U);
	tb_module(&b, LP, 1, true);
	klpt_model_reconcile(M, &b.t);
	CHECK_V(LP, KLPT_HOLD_REFS);
	ref(LP, false, 0);
	CHECK_V(LP, KLPT_READY);
}

/*
 * The fallback: no klp events, only snapshots and module:* references.
 * Free and release are inferred; reasons are unknown.
 */
static void test_fallback(void)
{
	struct tb b;

	new_model();
	T = 1000000;
	tb_base(&b, U);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 1, 0);
	klpt_model_reconcile(M, &b.t);
	CHECK_V(LP, KLPT_HOLD_ENABLED);
	/* a non-livepatch module's references: tracked, not listed */
	ref(TARGET, true, 2);
	CHECK_INT(klpt_model_module_count(M), 1);

	/* disabled: sh still patched */
	tb_base(&b, UNP);
	b.k[2].state = PAT;
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 0, 1);
	klpt_model_reconcile(M, &b.t);
	CHECK_V(LP, KLPT_HOLD_TASKS);
	/* no pass event in the fallback: no pass number either */
	CHECK_WHY("1 task still in the patch's code: sh[101] "
		  "(cause not seen)");
	CHECK_INT(klpt_task_reason(K(SH)), KLPT_REASON_UNKNOWN);
	CHECK_INT(klpt_patch_pending(P(LP)), 1);

	/* complete; the directory still there: not freed */
	tb_base(&b, U);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 0, 0);
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(klpt_task_reason(K(SH)), KLPT_REASON_NONE);
	CHECK_V(LP, KLPT_HOLD_NOT_FREED);

	/* the directory gone, the put not yet */
	tb_base(&b, U);
	tb_module(&b, LP, 1, true);
	klpt_model_reconcile(M, &b.t);
	CHECK_V(LP, KLPT_HOLD_REFS);
	/* module:module_put to 0 between two polls: ready */
	ref(LP, false, 0);
	CHECK_V(LP, KLPT_READY);

	/* a fresh session that finds such a module: ready too */
	new_model();
	tb_base(&b, U);
	tb_module(&b, LP, 0, true);
	klpt_model_reconcile(M, &b.t);
	CHECK(!P(LP), "a patch without a directory");
	CHECK_V(LP, KLPT_READY);
	tb_base(&b, U);
	tb_module(&b, LP, 1, true);
	klpt_model_reconcile(M, &b.t);
	CHECK_V(LP, KLPT_HOLD_REFS);
	CHECK_WHY("forced");
}

/* What the reconcile keeps, changes and drops. */
static void test_reconcile_tasks(void)
{
	const struct klpt_task *k;
	uint64_t first;
	struct tb b;

	fresh();
	enabled_lp();
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	switch_all(UNP, SLEEPER);
	blocked(SLEEPER, "klpt_sleeper", LP, UNP,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	first = T;
	pass(LP, UNP, 0, 6, 1);
	blocked(SH, "sh", LP, UNP, KLPT_REASON_RUNNING, "");
	sw(300, 300, "gone", U, UNP, KLPT_VIA_FORK);

	tb_base(&b, UNP);
	b.k[3].state = PAT;		/* sleeper: unchanged */
	b.k[2].state = UNP;		/* sh: switched unseen */
	tb_task(&b, 400, 400, UNP, false, "new");
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 0, 1);
	klpt_model_reconcile(M, &b.t);
	k = K(SLEEPER);
	CHECK_INT(klpt_task_reason(k), KLPT_REASON_SLEEPING_IN_FUNC);
	CHECK_STR(klpt_task_func(k), FUNC);
	CHECK_INT(klpt_task_first_blocked_ns(k), first);
	CHECK_INT(klpt_task_checks(k), 1);
	CHECK_INT(klpt_task_reason(K(SH)), KLPT_REASON_NONE);
	CHECK_INT(state(SH), UNP);
	CHECK(!K(300), "an exited task kept");
	CHECK(K(400) && state(400) == UNP, "a new task missing");
	CHECK(K(0), "idle tasks are not in procfs: kept");
	CHECK_INT(klpt_patch_pending(P(LP)), 1);
	CHECK_V(LP, KLPT_HOLD_TASKS);
	CHECK_WHY("1 task");

	/* a reused pid: another task, nothing kept */
	tb_base(&b, UNP);
	b.k[3].tgid = 1;
	b.k[3].state = PAT;
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 0, 1);
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(klpt_task_tgid(K(SLEEPER)), 1);
	CHECK_INT(klpt_task_reason(K(SLEEPER)), KLPT_REASON_UNKNOWN);
	CHECK_INT(klpt_task_checks(K(SLEEPER)), 0);

	/* no transition left: everyone undefined, swappers too */
	tb_base(&b, U);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 0, 0);
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(klpt_task_state(K(0)), U);
	CHECK_INT(klpt_task_reason(K(SLEEPER)), KLPT_REASON_NONE);
	CHECK(!klpt_patch_in_transition(P(LP)), "in transition");
	CHECK_V(LP, KLPT_HOLD_NOT_FREED);
}

/* A reversal only the snapshot saw. */
static void test_reconcile_reversed(void)
{
	struct tb b;

	fresh();
	load_and_init(LP);
	switch_all(PAT, SLEEPER);
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, PAT, 0, 6, 1);
	lost();
	tb_base(&b, PAT);
	b.k[3].state = UNP;
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 0, 1);		/* enabled 0, in transition */
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(klpt_patch_target(P(LP)), UNP);
	CHECK(!klpt_patch_enabled(P(LP)), "enabled");
	/* blocked info of the old direction is gone */
	CHECK_INT(klpt_task_reason(K(SLEEPER)), KLPT_REASON_NONE);
	CHECK_V(LP, KLPT_HOLD_TASKS);
}

/* A module loaded again: the old instance's state does not stick. */
static void test_reload(void)
{
	fresh();
	enabled_lp();
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	switch_all(UNP, 0);
	pass(LP, UNP, 0, 6, 0);
	complete(LP, UNP, true);
	/* its free missed: the next load starts clean */
	mod_ev(KLPT_EV_MODULE_LOAD, LP);
	CHECK(!P(LP), "the old patch survived a load");
	CHECK(!klpt_model_module_find(M, LP), "listed before its patch");
	enabled_lp();
	CHECK(!klpt_patch_forced(P(LP)), "forced sticks to a new instance");
	CHECK_V(LP, KLPT_HOLD_ENABLED);
}

/* Malformed events are ignored, not crashed on. */
static void test_bad_events(void)
{
	struct klpt_event ev;
	int i;

	fresh();
	enabled_lp();
	tr(KLPT_EV_TRANSITION_INIT, LP, 7);
	tr(KLPT_EV_TRANSITION_START, NULL, -5);
	pass(LP, 3, 0, 0, 0);
	sw(55, 55, "x", U, 9, KLPT_VIA_STACK_CHECK);
	CHECK(!K(55), "task from a bad switch");
	blocked(SH, "sh", "", PAT, 0, NULL);	/* reason 0: "other" */
	ref(NULL, true, 1);
	ref("", true, 1);
	mod_ev(KLPT_EV_MODULE_FREE, NULL);
	mod_ev(KLPT_EV_MODULE_LOAD, NULL);
	mod_ev(KLPT_EV_MODULE_UNLOAD_READY, "");
	patch_ev(KLPT_EV_PATCH_FREE, NULL, false);
	for (i = -2; i <= KLPT_EV__COUNT + 2; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.type = (enum klpt_event_type)i;
		klpt_model_apply(M, &ev);
	}
	klpt_model_apply(M, NULL);
	klpt_model_apply(NULL, &ev);
	klpt_model_reconcile(M, NULL);
	klpt_model_reconcile(NULL, NULL);
	/* a long function name is cut, not overflowed */
	{
		char longf[600];

		memset(longf, 'f', sizeof(longf) - 1);
		longf[sizeof(longf) - 1] = '\0';
		tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
		blocked(SH, "sh", LP, UNP, KLPT_REASON_SLEEPING_IN_FUNC,
			longf);
		CHECK(strlen(klpt_task_func(K(SH))) < 200, "func not cut");
	}
	CHECK(klpt_model_patch_count(M) >= 1, "patches gone");
}

/* Accessors on NULL: defaults, no crash. */
static void test_null(void)
{
	char w[8] = "x";

	CHECK_STR(klpt_patch_name(NULL), "");
	CHECK(!klpt_patch_enabled(NULL), "enabled");
	CHECK_INT(klpt_patch_target(NULL), U);
	CHECK_INT(klpt_patch_pass(NULL), 0);
	CHECK_INT(klpt_task_pid(NULL), -1);
	CHECK_INT(klpt_task_state(NULL), U);
	CHECK_STR(klpt_task_comm(NULL), "");
	CHECK_STR(klpt_task_func(NULL), "");
	CHECK_INT(klpt_module_refcnt(NULL), -1);
	CHECK_STR(klpt_module_name(NULL), "");
	CHECK_INT(klpt_patch_count(NULL), -EINVAL);
	CHECK_INT(errno, EINVAL);
	CHECK(!klpt_patch_find(NULL, LP), "patch from NULL");
	CHECK(!klpt_task_at(NULL, 0), "task from NULL");
	CHECK_INT(klpt_module_count(NULL), -EINVAL);
	CHECK_INT(klpt_module_verdict(NULL, NULL, w, sizeof(w)),
		  KLPT_HOLD_UNKNOWN);
	CHECK(strlen(w) < sizeof(w), "why overflowed");
	CHECK_INT(klpt_model_verdict(M, NULL, NULL, 0), KLPT_HOLD_UNKNOWN);
	CHECK_STR(klpt_verdict_name(KLPT_READY), "ready");
	CHECK_STR(klpt_verdict_name(KLPT_HOLD_FORCED), "forced");
	CHECK_STR(klpt_verdict_name(KLPT_HOLD_NOT_RELEASED), "not_released");
	CHECK(!klpt_verdict_name((enum klpt_verdict)99), "name for 99");
	CHECK(!klpt_verdict_name((enum klpt_verdict)-1), "name for -1");
	klpt_model_free(NULL);
}

/* A tiny why buffer: truncated, terminated. */
static void test_why_small(void)
{
	char w[10];
	const struct klpt_module *mod;

	fresh();
	enabled_lp();
	mod = klpt_model_module_find(M, LP);
	memset(w, 'x', sizeof(w));
	CHECK_INT(klpt_model_verdict(M, mod, w, sizeof(w)),
		  KLPT_HOLD_ENABLED);
	CHECK_INT(strlen(w), sizeof(w) - 1);
	CHECK_INT(klpt_model_verdict(M, mod, w, 0), KLPT_HOLD_ENABLED);
	CHECK_INT(klpt_model_verdict(M, mod, NULL, 100), KLPT_HOLD_ENABLED);
	CHECK_INT(klpt_model_verdict(M, mod, w, 1), KLPT_HOLD_ENABLED);
	CHECK_INT(w[0], 0);
}

/* The holder list is capped and ranked (known functions first). */
static void test_many_holders(void)
{
	int pid;

	fresh();
	enabled_lp();
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	for (pid = 1000; pid < 1020; pid++)
		sw(pid, pid, "w", U, PAT, KLPT_VIA_FORK);
	blocked(1019, "late", LP, UNP, KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	CHECK_V(LP, KLPT_HOLD_TASKS);
	CHECK_WHY("26 tasks still in the patch's code (pass 0): late[1019] "
		  "in " FUNC ", ");
	CHECK_WHY(", and 21 more");
}

/* 100k tasks: lookups by id and a full reconcile stay fast. */
static void test_scale(void)
{
	enum { N = 100000 };
	struct klpt_truth t = { 0 };
	int i, bad = 0;

	new_model();
	t.tasks = calloc(N, sizeof(*t.tasks));
	t.ntasks = N;
	t.ts = 1;
	for (i = 0; i < N; i++) {
		t.tasks[i].tid = i + 1;
		t.tasks[i].tgid = i + 1;
		t.tasks[i].state = U;
		snprintf(t.tasks[i].comm, sizeof(t.tasks[i].comm), "t%d", i);
	}
	klpt_model_reconcile(M, &t);
	CHECK_INT(klpt_model_task_count(M), N);
	for (i = 1; i <= N; i++)
		if (klpt_task_pid(K(i)) != i)
			bad++;
	CHECK_INT(bad, 0);
	tr(KLPT_EV_TRANSITION_INIT, LP, PAT);
	CHECK_INT(state(N), UNP);
	/* half of them exit */
	t.ntasks = N / 2;
	klpt_model_reconcile(M, &t);
	CHECK_INT(klpt_model_task_count(M), N / 2);
	CHECK(!K(N), "an exited task kept");
	CHECK_INT(klpt_task_pid(K(N / 2)), N / 2);
	complete(LP, PAT, false);
	CHECK_INT(state(1), U);
	free(t.tasks);
}

/*
 * sched_process_exit: an exited task leaves the model, with its blocked
 * info; a zombie's later switch or blocked event (passes walk it until
 * it is reaped) does not bring it back; a fork reusing the id does.
 */
static void test_task_exit(void)
{
	const struct klpt_patch *p;
	int n;

	fresh();
	n = klpt_model_task_count(M);
	/* outside a transition */
	task_exit(SH, "sh");
	CHECK(!K(SH), "sh still there after its exit");
	CHECK_INT(klpt_model_task_count(M), n - 1);
	task_exit(999, "nobody");		/* never known: nothing */
	task_exit(0, "swapper/0");		/* idle tasks do not exit */
	CHECK_INT(klpt_model_task_count(M), n - 1);
	CHECK_INT(klpt_task_pid(K(INIT)), INIT);
	CHECK_INT(klpt_task_pid(K(SLEEPER)), SLEEPER);
	/* a task that exited outside a transition may come back at once */
	sw(SH, SH, "sh", PAT, UNP, KLPT_VIA_STACK_CHECK);
	CHECK_INT(state(SH), UNP);

	/* the sleeper blocks the patching transition, then exits */
	fresh();
	load_and_init(LP);
	switch_all(PAT, SLEEPER);
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, PAT, 0, 6, 1);
	CHECK_INT(klpt_task_reason(K(SLEEPER)), KLPT_REASON_SLEEPING_IN_FUNC);
	sw(120, 120, "sleep", U, PAT, KLPT_VIA_FORK);
	n = klpt_model_task_count(M);
	task_exit(SLEEPER, "klpt_sleeper");
	CHECK(!K(SLEEPER), "the sleeper is still there after its exit");
	CHECK_INT(klpt_model_task_count(M), n - 1);
	/* the next pass walks the zombie: "running", then switched */
	blocked(SLEEPER, "klpt_sleeper", LP, PAT, KLPT_REASON_RUNNING, "");
	CHECK(!K(SLEEPER), "a zombie's blocked event brought it back");
	pass(LP, PAT, 1, 7, 1);
	sw(SLEEPER, SLEEPER, "klpt_sleeper", UNP, PAT, KLPT_VIA_STACK_CHECK);
	CHECK(!K(SLEEPER), "a zombie's switch brought it back");
	CHECK_INT(klpt_model_task_count(M), n - 1);
	/* the forked child exits too, before any pass switched it */
	task_exit(120, "sleep");
	CHECK(!K(120), "the child is still there");
	/* the id reused by a fork: a new task, nothing of the old one */
	sw(SLEEPER, SLEEPER, "kworker/0:2", U, PAT, KLPT_VIA_FORK);
	CHECK_INT(state(SLEEPER), PAT);
	CHECK_STR(klpt_task_comm(K(SLEEPER)), "kworker/0:2");
	CHECK_INT(klpt_task_reason(K(SLEEPER)), KLPT_REASON_NONE);
	CHECK_INT(klpt_task_checks(K(SLEEPER)), 0);
	CHECK_INT(klpt_task_first_blocked_ns(K(SLEEPER)), 0);
	pass(LP, PAT, 2, 6, 0);
	complete(LP, PAT, false);
	p = P(LP);
	CHECK(!klpt_patch_in_transition(p), "in transition");
	CHECK_V(LP, KLPT_HOLD_ENABLED);

	/* a disable: exits are forgotten after the complete above */
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	sw(120, 120, "cat", PAT, UNP, KLPT_VIA_STACK_CHECK);
	CHECK_INT(state(120), UNP);	/* not a zombie of the last one */
	blocked(INIT, "init", LP, UNP, KLPT_REASON_RUNNING, "");
	pass(LP, UNP, 0, 6, 1);
	CHECK_V(LP, KLPT_HOLD_TASKS);
	CHECK_WHY("init[1] running");
	task_exit(INIT, "init");
	/* pending 1 as last counted, but no holder left to name */
	CHECK_V(LP, KLPT_HOLD_TASKS);
	CHECK_WHY("1 task still in the patch's code");
	CHECK(!strstr(why, "init[1]"), "exited init named: %s", why);
	pass(LP, UNP, 1, 5, 0);
	complete(LP, UNP, false);
	CHECK_V(LP, KLPT_HOLD_NOT_FREED);
	CHECK(!K(INIT), "init back after the complete");
}

/* Many tasks exit in any order: the rest stay found and counted. */
static void test_exit_many(void)
{
	enum { N = 5000 };
	static bool gone[N + 1];
	char want[64];
	unsigned int r = 12345;
	int i, k, n = N, bad = 0, seen = 0;

	new_model();
	memset(gone, 0, sizeof(gone));
	enabled_lp();
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	/* the idle tasks (pid 0) never exit; they switch at once */
	sw(0, 0, "swapper/0", PAT, UNP, KLPT_VIA_IDLE);
	sw(0, 0, "swapper/1", PAT, UNP, KLPT_VIA_IDLE);
	for (i = 1; i <= N; i++)
		sw(i, i, "t", U, PAT, KLPT_VIA_FORK);
	CHECK_INT(klpt_model_task_count(M), N + 2);
	for (k = 0; k < 4 * N / 5; k++) {
		r = r * 1103515245u + 12345u;
		i = 1 + (int)((r >> 8) % N);
		if (gone[i])
			continue;
		task_exit(i, "t");
		gone[i] = true;
		n--;
	}
	CHECK_INT(klpt_model_task_count(M), n + 2);
	for (i = 1; i <= N; i++)
		if (gone[i] ? K(i) != NULL : klpt_task_pid(K(i)) != i)
			bad++;
	CHECK_INT(bad, 0);
	for (i = 0; i < klpt_model_task_count(M); i++) {
		int pid = klpt_task_pid(klpt_model_task_at(M, i));

		if (pid == 0)
			continue;
		if (pid < 1 || pid > N || gone[pid])
			bad++;
		else
			seen++;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(seen, n);
	/* the survivors still count as holders, the exited ones not */
	pass(LP, UNP, 0, (unsigned int)n, (unsigned int)n);
	CHECK_V(LP, KLPT_HOLD_TASKS);
	snprintf(want, sizeof(want), "%d tasks still", n);
	CHECK_WHY(want);
	/* all of them exit: nothing left at unpatched */
	for (i = 1; i <= N; i++)
		if (!gone[i])
			task_exit(i, "t");
	CHECK_INT(klpt_model_task_count(M), 2);
	pass(LP, UNP, 1, 2, 0);
	complete(LP, UNP, false);
	CHECK_INT(klpt_model_task_count(M), 2);
	CHECK_V(LP, KLPT_HOLD_NOT_FREED);
}

/* ------------------------------------------- a recording of the VM */

/*
 * fixtures/vm-recording (see fixtures/README.md), replayed through a
 * session: the real event stream of a blocked enable, its release, the
 * disable, free, release, last put and rmmod.  The model and the
 * verdict are checked as each event arrives, and against the VM's own
 * snapshots (vm-capture/snap/: "tid tgid state kthread comm" lines).
 */
#define VM_SLEEPER 156

struct snap_task {
	int tid, state;
};

static int load_snap(const char *name, struct snap_task *out, int max)
{
	char path[PATH_MAX];
	FILE *f;
	int n = 0, tid, tgid, st, kt;

	snprintf(path, sizeof(path), "%s/vm-capture/snap/%s/tasks",
		 getenv("KLPT_TEST_FIXTURES"), name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (n < max && fscanf(f, "%d %d %d %d %*[^\n]", &tid, &tgid, &st,
				 &kt) == 4) {
		out[n].tid = tid;
		out[n].state = st;
		n++;
	}
	fclose(f);
	return n;
}

struct vm_run {
	struct snap_task blocked[256], start[256], end[256];
	int nblocked, nstart, nend;
	int passes_patched, checks_bad, snap_bad;
	bool saw_tasks, saw_running_cat, saw_not_freed, saw_not_released;
	bool saw_refs, saw_ready, saw_gone;
	enum klpt_verdict enabling;	/* the worst seen while enabling */
	char why[512];
};

static enum klpt_verdict vm_verdict(struct klpt_session *s,
				    struct vm_run *r)
{
	const struct klpt_module *m = klpt_module_find(s, LP);

	return klpt_module_verdict(s, m, r->why, sizeof(r->why));
}

static int on_vm_event(struct klpt_session *s, const struct klpt_event *ev,
		       void *ctx)
{
	struct vm_run *r = ctx;
	const struct klpt_task *k = klpt_task_find(s, VM_SLEEPER);
	enum klpt_verdict v = vm_verdict(s, r);
	int i;

	switch (ev->type) {
	case KLPT_EV_TRANSITION_PASS:
		if (ev->transition.target == KLPT_PATCHED) {
			if (v != KLPT_HOLD_ENABLED)
				r->enabling = v;
			if (!ev->transition.pending)
				break;
			r->passes_patched++;
			if (klpt_task_reason(k) != KLPT_REASON_SLEEPING_IN_FUNC ||
			    strcmp(klpt_task_func(k), "klpt_sleep_fn") ||
			    klpt_task_checks(k) != ev->transition.pass + 1 ||
			    klpt_task_state(k) != KLPT_UNPATCHED)
				r->checks_bad++;
			/* pass 2 is the last before the snapshot "blocked" */
			if (ev->transition.pass != 2)
				break;
			for (i = 0; i < r->nblocked; i++) {
				const struct klpt_task *t =
					klpt_task_find(s, r->blocked[i].tid);

				if (!t || klpt_task_state(t) != r->blocked[i].state)
					r->snap_bad++;
			}
		} else if (ev->transition.pending) {
			r->saw_tasks = v == KLPT_HOLD_TASKS;
			r->saw_running_cat = strstr(r->why, "cat[97] running");
		}
		break;
	case KLPT_EV_TRANSITION_COMPLETE:
		if (ev->transition.target == KLPT_UNPATCHED)
			r->saw_not_freed = v == KLPT_HOLD_NOT_FREED;
		break;
	case KLPT_EV_PATCH_FREE:
		r->saw_not_released = v == KLPT_HOLD_NOT_RELEASED;
		break;
	case KLPT_EV_PATCH_RELEASE:
		r->saw_refs = v == KLPT_HOLD_REFS;
		break;
	case KLPT_EV_MODULE_UNLOAD_READY:
		r->saw_ready = v == KLPT_READY;
		break;
	case KLPT_EV_MODULE_FREE:
		r->saw_gone = !klpt_module_find(s, LP) && !klpt_patch_find(s, LP);
		break;
	default:
		break;
	}
	return 0;
}

static void test_vm_recording(void)
{
	static struct vm_run r;
	KLPT_OPTS_INIT(klpt_session_opts, o, .on_event = on_vm_event,
		       .ctx = &r);
	const char *fx = getenv("KLPT_TEST_FIXTURES");
	struct klpt_session *s = NULL;
	char path[PATH_MAX];
	int i, n, total = 0, start_bad = 0, end_bad = 0;

	CHECK(fx, "KLPT_TEST_FIXTURES not set (make sets it)");
	if (!fx)
		return;
	memset(&r, 0, sizeof(r));
	r.enabling = KLPT_HOLD_ENABLED;
	r.nblocked = load_snap("blocked", r.blocked, 256);
	r.nstart = load_snap("start", r.start, 256);
	r.nend = load_snap("end", r.end, 256);
	CHECK(r.nblocked > 50 && r.nstart > 50 && r.nend > 50,
	      "snapshots: %d %d %d", r.nblocked, r.nstart, r.nend);
	snprintf(path, sizeof(path), "%s/vm-recording", fx);
	CHECK_INT(klpt_session_open_replay(path, &o, &s), 0);
	if (!s)
		return;
	/* the start-up snapshot: nothing patched, every task known */
	for (i = 0; i < r.nstart; i++)
		if (klpt_task_state(klpt_task_find(s, r.start[i].tid)) !=
		    r.start[i].state)
			start_bad++;
	CHECK_INT(start_bad, 0);
	while ((n = klpt_session_process(s)) > 0)
		total += n;
	CHECK_INT(n, 0);
	CHECK(total > 100, "%d events", total);
	CHECK_INT(r.passes_patched, 3);
	CHECK_INT(r.checks_bad, 0);
	CHECK_INT(r.snap_bad, 0);
	CHECK(r.enabling == KLPT_HOLD_ENABLED, "while enabling: %s",
	      klpt_verdict_name(r.enabling));
	CHECK(r.saw_tasks && r.saw_running_cat,
	      "unpatch pass: tasks %d, cat running %d", r.saw_tasks,
	      r.saw_running_cat);
	CHECK(r.saw_not_freed && r.saw_not_released && r.saw_refs &&
	      r.saw_ready && r.saw_gone,
	      "not freed %d, not released %d, refs %d, ready %d, gone %d",
	      r.saw_not_freed, r.saw_not_released, r.saw_refs, r.saw_ready,
	      r.saw_gone);
	/* the end: every task of both snapshots undefined, no patch */
	for (i = 0; i < r.nend; i++) {
		const struct klpt_task *t = klpt_task_find(s, r.end[i].tid);
		int j;

		for (j = 0; j < r.nstart; j++)
			if (r.start[j].tid == r.end[i].tid)
				break;
		if (j < r.nstart &&
		    (!t || klpt_task_state(t) != r.end[i].state))
			end_bad++;
	}
	CHECK_INT(end_bad, 0);
	CHECK_INT(klpt_patch_count(s), 0);
	CHECK_INT(klpt_module_count(s), 0);
	CHECK_INT(klpt_session_lost(s), 0);
	klpt_session_close(s);
}


/* ------------------------------------------------ the exact task set */

/* The idle tasks, pid 0, as the model lists them: count and by state. */
static int idle_count(int state, bool any)
{
	int i, n = 0;

	for (i = 0; i < klpt_model_task_count(M); i++) {
		const struct klpt_task *t = klpt_model_task_at(M, i);

		if (klpt_task_pid(t) == 0 && (any || klpt_task_state(t) == state))
			n++;
	}
	return n;
}

static const struct klpt_task *idle(int cpu)
{
	char comm[KLPT_COMM_LEN];
	int i;

	snprintf(comm, sizeof(comm), "swapper/%d", cpu);
	for (i = 0; i < klpt_model_task_count(M); i++) {
		const struct klpt_task *t = klpt_model_task_at(M, i);

		if (klpt_task_pid(t) == 0 && !strcmp(klpt_task_comm(t), comm))
			return t;
	}
	return NULL;
}

/*
 * Opened in the middle of a transition: the idle task of every possible
 * CPU is a task from the start (the kernel walks them all), its state
 * unknown (not in procfs) until an event says it; the switched count
 * never takes them for switched or pending.
 */
static void test_idle_mid_transition(void)
{
	struct tb b;
	int cpu;

	new_model();
	T = 5000000;
	tb_base(&b, PAT);
	b.k[3].state = UNP;		/* the sleeper */
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 1, 1);
	tb_possible(&b, 4);
	klpt_model_reconcile(M, &b.t);
	/* 4 threads of procfs and 4 idle tasks, as the kernel walks them */
	CHECK_INT(klpt_model_task_count(M), 8);
	CHECK_INT(idle_count(KLPT_STATE_UNKNOWN, false), 4);
	for (cpu = 0; cpu < 4; cpu++) {
		const struct klpt_task *t = idle(cpu);

		CHECK(t, "no swapper/%d", cpu);
		if (!t)
			continue;
		CHECK_INT(klpt_task_kthread(t), 1);
		CHECK_INT(klpt_task_tgid(t), 0);
	}
	/* the pending count is of the tasks known to be pending */
	CHECK_INT(klpt_patch_pending(P(LP)), 1);
	/* their own events */
	blocked(0, "swapper/2", LP, PAT, KLPT_REASON_RUNNING, "");
	CHECK_INT(klpt_task_state(idle(2)), UNP);
	sw(0, 0, "swapper/1", UNP, PAT, KLPT_VIA_IDLE);
	CHECK_INT(klpt_task_state(idle(1)), PAT);
	CHECK_INT(idle_count(KLPT_STATE_UNKNOWN, false), 2);
	/*
	 * The first pass after the join only tells where a walk begins; in
	 * the next one every task but the two reported blocked switched,
	 * the two unknown idle tasks too (offline ones switch without an
	 * event).
	 */
	pass(LP, PAT, 5, 8, 2);
	CHECK_INT(idle_count(KLPT_STATE_UNKNOWN, false), 2);
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	blocked(0, "swapper/2", LP, PAT, KLPT_REASON_RUNNING, "");
	pass(LP, PAT, 6, 8, 2);
	CHECK_INT(idle_count(KLPT_STATE_UNKNOWN, false), 0);
	CHECK_INT(klpt_task_state(idle(0)), PAT);
	CHECK_INT(klpt_task_state(idle(3)), PAT);
	CHECK_INT(klpt_task_state(idle(2)), UNP);
	CHECK_INT(klpt_model_task_count(M), 8);

	/* a loss: their switches may be among the lost */
	lost();
	CHECK_INT(idle_count(KLPT_STATE_UNKNOWN, false), 4);
	tb_base(&b, PAT);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 1, 1);
	tb_possible(&b, 4);
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(idle_count(KLPT_STATE_UNKNOWN, false), 4);
	CHECK_INT(klpt_model_task_count(M), 8);
	/* the end of the transition: every task undefined, known */
	complete(LP, PAT, false);
	CHECK_INT(idle_count(U, false), 4);

	/*
	 * Before the start every task is at !target, idle ones too: known
	 * when the model saw the init (just before the snapshot); the
	 * snapshot alone cannot tell that window from the end of a disable.
	 */
	new_model();
	tr(KLPT_EV_TRANSITION_INIT, LP, PAT);
	tb_base(&b, UNP);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 0, 1);		/* an enable's pre-patch window */
	tb_possible(&b, 2);
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(klpt_patch_phase(P(LP)), KLPT_PHASE_INIT);
	CHECK_INT(idle_count(UNP, false), 2);
	new_model();
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(klpt_patch_phase(P(LP)), KLPT_PHASE_UNKNOWN);
	CHECK_INT(idle_count(KLPT_STATE_UNKNOWN, false), 2);
	/* outside a transition: undefined */
	new_model();
	tb_base(&b, U);
	tb_possible(&b, 3);
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(idle_count(U, false), 3);
	CHECK_INT(klpt_model_task_count(M), 7);
	/* and a transition seen from its init knows them */
	load_and_init(LP);
	CHECK_INT(idle_count(UNP, false), 3);
	/* the possible CPUs unknown (old recording): none made up */
	fresh();
	CHECK_INT(idle_count(0, true), 0);
}

/*
 * The fallback sees no switch: in a started transition the idle tasks'
 * states are unknown at every poll, whatever an earlier one said.
 */
static void test_idle_fallback(void)
{
	struct tb b;

	new_model();
	klpt_model_set_fallback(M, true);
	tb_base(&b, UNP);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 0, 1);
	tb_possible(&b, 2);
	klpt_model_reconcile(M, &b.t);
	/* the init window or the end of a disable: the direction unknown */
	CHECK_INT(idle_count(KLPT_STATE_UNKNOWN, false), 2);
	tb_base(&b, PAT);
	b.k[3].state = UNP;
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 1, 1);		/* started */
	tb_possible(&b, 2);
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(idle_count(KLPT_STATE_UNKNOWN, false), 2);
	CHECK_INT(klpt_patch_pending(P(LP)), 1);
	tb_base(&b, U);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 1, 0);
	tb_possible(&b, 2);
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(idle_count(U, false), 2);
}

/*
 * Tasks created outside a transition are tasks too (klp_task_new), with
 * the kernel's kthread flag; their exit removes them.
 */
static void test_task_new(void)
{
	const struct klpt_task *t;
	int n;

	fresh();
	n = klpt_model_task_count(M);
	task_new(300, 300, "kthreadd", U, 1, 0);	/* a new kthread */
	task_new(301, 301, "sh", U, 0, 0);
	task_new(302, 301, "sh", U, 0, 0);		/* its thread */
	CHECK_INT(klpt_model_task_count(M), n + 3);
	t = K(300);
	CHECK(t, "no task 300");
	CHECK_INT(klpt_task_kthread(t), 1);
	CHECK_INT(klpt_task_state(t), U);
	CHECK_INT(klpt_task_kthread(K(301)), 0);
	CHECK_INT(klpt_task_tgid(K(302)), 301);
	task_exit(302, "sh");
	task_exit(300, "kthreadd");
	CHECK_INT(klpt_model_task_count(M), n + 1);
	CHECK(!K(300) && !K(302), "exited tasks kept");

	/* task:task_newtask: tgid and state from the creator */
	task_new(303, 0, "sh", KLPT_STATE_UNKNOWN, 0, 301);
	CHECK_INT(klpt_task_tgid(K(303)), 301);
	CHECK_INT(klpt_task_state(K(303)), U);
	/* a creator the model does not know: tgid unknown (0) */
	task_new(304, 0, "x", KLPT_STATE_UNKNOWN, 0, 999);
	CHECK_INT(klpt_task_tgid(K(304)), 0);

	/* in a transition: the creator's state, a blocker not checked */
	load_and_init(LP);
	task_new(310, 310, "sh", UNP, 0, SH);
	CHECK_INT(klpt_task_state(K(310)), UNP);
	CHECK_INT(klpt_task_reason(K(310)), KLPT_REASON_NONE);
	CHECK(klpt_task_checks_exact(K(310)), "a new task's checks unknown");
	sw(SH, SH, "sh", UNP, PAT, KLPT_VIA_USER_RETURN);
	task_new(311, 0, "sh", KLPT_STATE_UNKNOWN, 0, SH);
	CHECK_INT(klpt_task_state(K(311)), PAT);
	/* the fork's switch, then its klp_task_new: the kthread flag stays */
	sw(312, 312, "kthreadd", U, UNP, KLPT_VIA_FORK);
	task_new(312, 312, "kthreadd", UNP, 1, 0);
	CHECK_INT(klpt_task_kthread(K(312)), 1);
	CHECK_INT(klpt_task_state(K(312)), UNP);
	/* a leftover of the id (exited unseen) is replaced */
	blocked(313, "old", LP, PAT, KLPT_REASON_RUNNING, "");
	task_new(313, 313, "new", UNP, 0, 0);
	CHECK_INT(klpt_task_checks(K(313)), 0);
	CHECK_INT(klpt_task_kthread(K(313)), 0);
	CHECK_STR(klpt_task_comm(K(313)), "new");
	/* a fork just after the complete: the core resets it right away */
	complete(LP, PAT, false);
	task_new(314, 314, "sh", PAT, 0, 0);
	CHECK_INT(klpt_task_state(K(314)), U);
	/* pid 0 is never created by an event of this kind */
	n = klpt_model_task_count(M);
	task_new(0, 0, "swapper/9", U, 1, 0);
	CHECK_INT(klpt_model_task_count(M), n);
}

/*
 * A late joiner's counters are what it saw, and say so: checks and the
 * blocked-since time are exact only where the session saw every check.
 */
static void test_late_joiner_checks(void)
{
	struct tb b;

	new_model();
	tb_base(&b, PAT);
	b.k[3].state = UNP;
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 1, 1);
	klpt_model_reconcile(M, &b.t);
	CHECK(!klpt_task_checks_exact(K(SLEEPER)), "joined: checks exact");
	CHECK(klpt_patch_pass(P(LP)) == KLPT_UNKNOWN_COUNT, "pass %u",
	      klpt_patch_pass(P(LP)));
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, PAT, 7, 6, 1);
	CHECK_INT(klpt_task_checks(K(SLEEPER)), 1);	/* seen: at least */
	CHECK(!klpt_task_checks_exact(K(SLEEPER)), "1 check seen is exact");
	CHECK_INT(klpt_patch_pass(P(LP)), 7);	/* the kernel's number */
	/* a task created since: all its checks are seen */
	task_new(320, 320, "sh", UNP, 0, 0);
	CHECK(klpt_task_checks_exact(K(320)), "new task: checks unknown");
	/* a task first named by a check: existed before, unknown */
	blocked(321, "kworker/1:1", LP, PAT, KLPT_REASON_RUNNING, "");
	CHECK(!klpt_task_checks_exact(K(321)), "unseen history exact");
	/* a reverse starts anew: every check seen from there */
	tr(KLPT_EV_TRANSITION_REVERSE, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	CHECK(klpt_task_checks_exact(K(SLEEPER)), "after the start");
	CHECK_INT(klpt_task_checks(K(SLEEPER)), 0);
	/* events lost: not any more */
	lost();
	CHECK(!klpt_task_checks_exact(K(SLEEPER)), "exact after a loss");
	complete(LP, UNP, false);
	CHECK(klpt_task_checks_exact(K(SLEEPER)), "no transition, inexact");
	/* a session that saw the start from the beginning */
	fresh();
	load_and_init(LP);
	CHECK(klpt_task_checks_exact(K(SLEEPER)), "seen from the start");
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	CHECK_INT(klpt_task_checks(K(SLEEPER)), 1);
	CHECK(klpt_task_checks_exact(K(SLEEPER)), "seen from the start");
	blocked(330, "kworker/0:2", LP, PAT, KLPT_REASON_RUNNING, "");
	CHECK(klpt_task_checks_exact(K(330)), "seen from the start");
}

/*
 * A task is (tid, start time).  Events were lost, and meanwhile process
 * 500 "oldproc", blocked in 3 checks, exited and a new single-threaded
 * process took pid 500: the same tgid (== pid), the same state.  Its
 * start time tells: it gets a fresh history, not "at least 3 checks"
 * of another task.  A task first seen in an event has no start time:
 * after a loss its tid may have been reused unseen, so its history
 * goes; without a loss it adopts the snapshot's start time.
 */
static void snap_500_600(struct tb *b, const char *comm500,
			 unsigned long long start500, const char *comm600)
{
	tb_base(b, UNP);
	b->k[3].state = PAT;			/* the sleeper */
	tb_task(b, 500, 500, PAT, false, comm500);
	tb_start(b, 500, start500);
	tb_task(b, 600, 600, PAT, false, comm600);
	tb_start(b, 600, 7600);
	tb_module(b, LP, 1, true);
	tb_patch(b, LP, 0, 1);
}

static void test_reused_same_tgid(void)
{
	const struct klpt_task *k;
	uint64_t first;
	struct tb b;
	int i;

	new_model();
	T = 1000000;
	tb_base(&b, U);
	tb_task(&b, 500, 500, U, false, "oldproc");
	tb_start(&b, 500, 6500);
	klpt_model_reconcile(M, &b.t);
	enabled_lp();
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	switch_all(UNP, SLEEPER);
	for (i = 0; i < 3; i++)
		blocked(500, "oldproc", LP, UNP,
			KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	first = klpt_task_first_blocked_ns(K(500));
	/* 600: created during the transition, seen by its fork only */
	sw(600, 600, "forked", U, PAT, KLPT_VIA_FORK);
	blocked(600, "forked", LP, UNP, KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	CHECK_INT(klpt_task_checks(K(500)), 3);
	CHECK(first == T - 4000, "first blocked %llu",
	      (unsigned long long)first);
	CHECK(klpt_task_checks_exact(K(500)), "seen from the start");

	/* the same task after a loss: its history kept, a lower bound */
	lost();
	snap_500_600(&b, "oldproc", 6500, "forked");
	klpt_model_reconcile(M, &b.t);
	k = K(500);
	CHECK_INT(klpt_task_checks(k), 3);
	CHECK_INT(klpt_task_first_blocked_ns(k), first);
	CHECK_INT(klpt_task_reason(k), KLPT_REASON_SLEEPING_IN_FUNC);
	CHECK(!klpt_task_checks_exact(k), "exact across a loss");
	/* 600 may be another task on a reused tid: nothing kept */
	k = K(600);
	CHECK_INT(klpt_task_checks(k), 0);
	CHECK_INT(klpt_task_first_blocked_ns(k), 0);
	CHECK_INT(klpt_task_reason(k), KLPT_REASON_UNKNOWN);
	CHECK(!klpt_task_checks_exact(k), "600 exact across a loss");

	/* 500 reused by another process of tgid 500, unseen */
	blocked(600, "forked", LP, UNP, KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	lost();
	snap_500_600(&b, "newproc", 9500, "forked");
	klpt_model_reconcile(M, &b.t);
	k = K(500);
	CHECK_STR(klpt_task_comm(k), "newproc");
	CHECK_INT(klpt_task_state(k), PAT);
	CHECK_INT(klpt_task_checks(k), 0);
	CHECK_INT(klpt_task_first_blocked_ns(k), 0);
	CHECK_INT(klpt_task_reason(k), KLPT_REASON_UNKNOWN);	/* pending */
	CHECK(!klpt_task_checks_exact(k), "exact across a loss");
	/* 600 has its start time now: the same start, the same task */
	CHECK_INT(klpt_task_checks(K(600)), 1);
	CHECK_INT(klpt_task_reason(K(600)), KLPT_REASON_SLEEPING_IN_FUNC);

	/* without a loss, a task seen in an event adopts the start time */
	sw(700, 700, "other", U, PAT, KLPT_VIA_FORK);
	blocked(700, "other", LP, UNP, KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	snap_500_600(&b, "newproc", 9500, "forked");
	tb_task(&b, 700, 700, PAT, false, "other");
	tb_start(&b, 700, 9700);
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(klpt_task_checks(K(700)), 1);
	lost();
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(klpt_task_checks(K(700)), 1);
	CHECK_INT(klpt_task_reason(K(700)), KLPT_REASON_SLEEPING_IN_FUNC);

	/* a snapshot without start times (an old recording): tgid only */
	lost();
	snap_500_600(&b, "newproc", 9500, "forked");
	for (i = 0; i < b.t.ntasks; i++)
		b.k[i].has_start = false;
	blocked(500, "newproc", LP, UNP, KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(klpt_task_checks(K(500)), 1);
}

/*
 * A thread that is not its process's leader execs (6.1 de_thread()):
 * the leader 400 exits first (do_exit: sched_process_exit), then the
 * thread 401 takes pid 400 (exchange_tids()), begin_new_exec() renames
 * it, exec_binprm() fires sched_process_exec(pid 400, old_pid 401).
 * The thread, with its patch state and history, is task 400 from then
 * on; 401 is gone; and 400's later checks are no zombie's.
 */
static void test_exec_nonleader(void)
{
	fresh();
	task_new(400, 400, "app", U, 0, SH);
	task_new(401, 400, "app", U, 0, 400);
	load_and_init(LP);
	blocked(401, "app", LP, PAT, KLPT_REASON_RUNNING, "");
	task_exit(400, "app");
	task_rename(400, "newprog");
	task_exec(400, 401, "newprog");
	CHECK(K(400) != NULL, "the exec'd thread lost");
	CHECK(K(401) == NULL, "its old pid still in the model");
	CHECK_INT(klpt_task_tgid(K(400)), 400);
	CHECK_STR(klpt_task_comm(K(400)), "newprog");
	CHECK_INT(klpt_task_kthread(K(400)), 0);
	CHECK_INT(klpt_task_checks(K(400)), 1);	/* 401's history kept */
	CHECK_INT(state(400), UNP);
	blocked(400, "newprog", LP, PAT, KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	CHECK_INT(klpt_task_checks(K(400)), 2);	/* no zombie's */
	switch_all(PAT, 0);
	pass(LP, PAT, 1, 8, 1);
	CHECK_INT(state(400), UNP);
	CHECK_INT(klpt_task_reason(K(400)), KLPT_REASON_SLEEPING_IN_FUNC);
	CHECK_INT(klpt_patch_pending(P(LP)), 1);

	/* outside a transition: the same move, no state */
	fresh();
	task_new(400, 400, "app", U, 0, SH);
	task_new(401, 400, "app", U, 0, 400);
	task_exit(400, "app");
	task_rename(400, "newprog");
	task_exec(400, 401, "newprog");
	CHECK(K(400) && !K(401), "idle: 401 not moved to 400");
	CHECK_INT(klpt_task_kthread(K(400)), 0);

	/*
	 * The leader's exit after the exec in the stream (CPU clocks) or
	 * not seen at all before it: the exit is the old leader's.
	 */
	fresh();
	task_new(400, 400, "app", U, 0, SH);
	task_new(401, 400, "app", U, 0, 400);
	load_and_init(LP);
	task_exec(400, 401, "newprog");
	CHECK(K(400) && !K(401), "exit late: 401 not moved to 400");
	CHECK_STR(klpt_task_comm(K(400)), "newprog");
	task_exit(400, "app");
	CHECK(K(400) != NULL, "the leader's late exit removed the thread");
	task_exit(400, "newprog");
	CHECK(K(400) == NULL, "the thread's own exit ignored");

	/* a leader's exec (pid == old_pid): the comm only */
	fresh();
	task_new(400, 400, "app", U, 0, SH);
	task_exec(400, 400, "");
	CHECK_STR(klpt_task_comm(K(400)), "app");
	task_exec(400, 400, "other");
	CHECK_STR(klpt_task_comm(K(400)), "other");
}

/*
 * A trace.dat of `trace-cmd record -e klp` (no sched_process_exit):
 * the forks outside a transition (a shell loop's children) must not
 * pile up, no exit would ever remove them; those during one are kept
 * until it completes.
 */
static void test_no_exits_forks(void)
{
	int i;

	new_model();
	klpt_model_no_exits(M);
	for (i = 0; i < 5000; i++)
		task_new(1000 + i, 1000 + i, "sh", U, 0, 0);
	CHECK_INT(klpt_model_task_count(M), 0);
	mod_ev(KLPT_EV_MODULE_LOAD, LP);
	tr(KLPT_EV_TRANSITION_INIT, LP, PAT);
	tr(KLPT_EV_TRANSITION_START, LP, PAT);
	task_new(900, 900, "sh", UNP, 0, 0);
	CHECK_INT(klpt_model_task_count(M), 1);
	CHECK_INT(state(900), UNP);
	tr(KLPT_EV_TRANSITION_COMPLETE, LP, PAT);
	CHECK_INT(klpt_model_task_count(M), 0);
}

/*
 * Fallback (no klptrace.ko): a task created in a transition (by
 * task_newtask) has checks the model cannot see: not exact, not even
 * after a poll.
 */
static void test_fallback_new_not_exact(void)
{
	struct tb b;

	new_model();
	klpt_model_set_fallback(M, true);
	tb_base(&b, U);
	klpt_model_reconcile(M, &b.t);
	tb_base(&b, PAT);
	b.k[3].state = UNP;
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 1, 1);
	klpt_model_reconcile(M, &b.t);
	task_new(700, 0, "sh", KLPT_STATE_UNKNOWN, 0, SLEEPER);
	CHECK_INT(state(700), UNP);
	CHECK(!klpt_task_checks_exact(K(700)), "new task's checks exact");
	tb_task(&b, 700, 108, UNP, false, "sh");
	klpt_model_reconcile(M, &b.t);
	CHECK(!klpt_task_checks_exact(K(700)), "exact after a poll");
}

/*
 * A fork between klp_init_transition()'s entry (its event) and its task
 * loop copies an undefined state; the loop then gives it !target, in
 * both directions.  After the start a fork's undefined state is the
 * parent's as the kernel says (a klp_task_new carries it).
 */
static void test_fork_in_init_window(void)
{
	fresh();
	mod_ev(KLPT_EV_MODULE_LOAD, LP);
	tr(KLPT_EV_TRANSITION_INIT, LP, PAT);
	task_new(900, 900, "sh", U, 0, SH);
	sw(901, 901, "sh", U, U, KLPT_VIA_FORK);	/* older klptrace.ko */
	tr(KLPT_EV_TRANSITION_START, LP, PAT);
	CHECK_INT(state(900), UNP);
	CHECK_INT(state(901), UNP);
	switch_all(PAT, 0);
	sw(900, 900, "sh", UNP, PAT, KLPT_VIA_STACK_CHECK);
	sw(901, 901, "sh", UNP, PAT, KLPT_VIA_STACK_CHECK);
	complete(LP, PAT, false);
	/* the disable: the loop gives !UNPATCHED */
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	task_new(902, 902, "sh", U, 0, SH);
	CHECK_INT(state(902), PAT);
}

/*
 * An older klptrace.ko (no klp_task_new): the fork's switch, then a
 * check switches the child before copy_process() reaches task_newtask,
 * which carries no state: the child keeps the state the kernel gave
 * it, not its creator's.  A creator the model does not know: unknown,
 * and such a task is still a task that may be pending.
 */
static void test_newtask_after_switch(void)
{
	fresh();
	load_and_init(LP);
	sw(801, 801, "sh", U, UNP, KLPT_VIA_FORK);
	sw(801, 801, "sh", UNP, PAT, KLPT_VIA_STACK_CHECK);
	task_new(801, 801, "sh", KLPT_STATE_UNKNOWN, 0, SH);	/* SH UNP */
	CHECK_INT(state(801), PAT);
	task_new(802, 802, "sh", KLPT_STATE_UNKNOWN, 0, SH);
	CHECK_INT(state(802), UNP);			/* its creator's */
	task_new(800, 0, "x", KLPT_STATE_UNKNOWN, 0, 999);
	CHECK_INT(state(800), KLPT_STATE_UNKNOWN);
}

/* ------------------------------------------ stacked and replaced patches */

#define LP3 "klpt_lp_sleep3"
#define LP2 "klpt_lp_sleep2"

/*
 * What a live session reads of patch's directory (pfuncs.c): its order
 * (the directory's inode) and klpt_sleep_fn,1 of TARGET with the object's
 * `patched`, and its `enabled`; with_func false: the objects are gone
 * (freed).
 */
static void pinfo(const char *patch, uint64_t order, bool with_func,
		  bool patched, int enabled)
{
	struct klpt_pinfo pi = { .order = order, .enabled = enabled };

	if (with_func) {
		pi.funcs = calloc(1, sizeof(*pi.funcs));
		if (!pi.funcs)
			abort();
		pi.nfuncs = 1;
		snprintf(pi.funcs->object, sizeof(pi.funcs->object), TARGET);
		snprintf(pi.funcs->name, sizeof(pi.funcs->name), FUNC);
		pi.funcs->sympos = 1;
		pi.funcs->patched = patched;
	}
	klpt_model_set_pinfo(M, patch, &pi);
	klpt_pinfo_free(&pi);
}

/* Whose klpt_sleep_fn runs, seen from patch: a name, "-", "?". */
static const char *runs(const char *patch)
{
	const struct klpt_patch *live;
	int r = klpt_model_func_live(M, P(patch), 0, &live);

	if (r < 0)
		return "ENOENT";
	return !r ? "?" : live ? klpt_patch_name(live) : "-";
}

/* An enable of lp up to its completion, with what sysfs shows. */
static void enable_stacked(const char *lp, uint64_t order)
{
	load_and_init(lp);
	pinfo(lp, order, true, true, 1);
	switch_all(PAT, 0);
	pass(lp, PAT, 0, 6, 0);
	complete(lp, PAT, false);
	ref(lp, false, 1);
}

/* The free of a disabled or replaced patch, up to its module's put. */
static void free_chain(const char *lp)
{
	patch_ev(KLPT_EV_PATCH_FREE, lp, false);
	pinfo(lp, 0, false, false, 0);	/* its objects are gone */
	patch_ev(KLPT_EV_PATCH_RELEASE, lp, false);
}

/*
 * LP then LP3 on klpt_sleep_fn, the sleeper asleep in LP3's version, and
 * the atomic replace LP2 loaded: its transition held up by the sleeper.
 */
static void replace_blocked(void)
{
	fresh();
	enable_stacked(LP, 10);
	enable_stacked(LP3, 20);
	load_and_init(LP2);
	pinfo(LP2, 30, true, true, 1);
	switch_all(PAT, SLEEPER);
	blocked(SLEEPER, "klpt_sleeper", LP2, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP2, PAT, 1, 6, 1);
}

/*
 * Two non-replace patches of one function: the one enabled last runs
 * (6.1 klp_patch_func() adds at the head of the func_stack); disabling
 * it makes the lower one live again; an unknown order or function list
 * is "?", never a guess.
 */
static void test_stacked_live(void)
{
	fresh();
	enable_stacked(LP, 10);
	CHECK_STR(runs(LP), LP);
	load_and_init(LP3);
	/* LP3's functions not read yet: it may patch klpt_sleep_fn */
	CHECK_STR(runs(LP), "?");
	pinfo(LP3, 20, true, true, 1);
	CHECK_STR(runs(LP), "?");	/* LP3 in transition: a nop? */
	switch_all(PAT, 0);
	pass(LP3, PAT, 0, 6, 0);
	complete(LP3, PAT, false);
	ref(LP3, false, 1);
	CHECK_STR(runs(LP), LP3);
	CHECK_STR(runs(LP3), LP3);
	CHECK_V(LP, KLPT_HOLD_ENABLED);
	/*
	 * The top one disabled: from the complete on, the lower one runs.
	 * sysfs read before the disable's events came: `enabled` 0 looks
	 * like a replace, until the patch's own transition event says not.
	 */
	pinfo(LP3, 20, true, true, 0);
	tr(KLPT_EV_TRANSITION_INIT, LP3, UNP);
	tr(KLPT_EV_TRANSITION_START, LP3, UNP);
	CHECK_STR(runs(LP), LP3);
	switch_all(UNP, 0);
	pass(LP3, UNP, 0, 6, 0);
	complete(LP3, UNP, false);
	CHECK_STR(runs(LP), LP);
	CHECK_STR(runs(LP3), LP);
	CHECK_V(LP3, KLPT_HOLD_NOT_FREED);
	CHECK(!strstr(why, "replaced"), "a disabled patch taken for replaced: %s",
	      why);
	free_chain(LP3);
	CHECK_INT(klpt_patch_func_count(P(LP3)), 1);
	CHECK(!klpt_patch_func_patched(P(LP3), 0), "freed patch still patched");
	CHECK_V(LP3, KLPT_HOLD_REFS);
	ref(LP3, false, 0);
	CHECK_V(LP3, KLPT_READY);
	CHECK_V(LP, KLPT_HOLD_ENABLED);
	/* an order the session could not read */
	pinfo(LP, 0, true, true, 1);
	CHECK_STR(runs(LP), "?");
	/* its object's module not loaded: not on the stack, the original */
	pinfo(LP, 10, true, false, 1);
	CHECK_STR(runs(LP), "-");
	CHECK_INT(klpt_model_func_live(M, P(LP), 1, &(const struct klpt_patch *){ 0 }),
		  -ENOENT);
}

/*
 * An atomic replace over a stack of two: in its transition it is on
 * top (tasks not switched run the old top); once complete the core
 * unpatches and frees the replaced ones; each is READY only after its
 * free, release and module put, with no disable.
 */
static void test_replace_over_stack(void)
{
	replace_blocked();
	CHECK_STR(runs(LP), "?");	/* LP2's may be a nop */
	CHECK_STR(runs(LP3), "?");
	CHECK_V(LP, KLPT_HOLD_ENABLED);
	CHECK_V(LP3, KLPT_HOLD_ENABLED);
	CHECK_WHY("once the transition of " LP2 " completes");
	sw(SLEEPER, SLEEPER, "klpt_sleeper", UNP, PAT, KLPT_VIA_STACK_CHECK);
	pass(LP2, PAT, 2, 6, 0);
	complete(LP2, PAT, false);
	ref(LP2, false, 1);
	/* klp_unpatch_replaced_patches(): their objects are unpatched */
	pinfo(LP, 10, true, false, 0);
	pinfo(LP3, 20, true, false, 0);
	CHECK_STR(runs(LP), LP2);
	free_chain(LP);
	CHECK_V(LP, KLPT_HOLD_REFS);	/* not before the put */
	ref(LP, false, 0);
	mod_ev(KLPT_EV_MODULE_UNLOAD_READY, LP);
	CHECK_V(LP, KLPT_READY);
	/* sysfs: enabled 0, no transition: no disable asked of the user */
	CHECK_V(LP3, KLPT_HOLD_NOT_FREED);
	CHECK_WHY("replaced by " LP2 ": no disable needed");
	CHECK_STR(klpt_patch_replaced_by(P(LP3)), LP2);
	CHECK(!klpt_patch_replaced_by(P(LP2)) && errno == ENOENT,
	      "the replace itself was not replaced");
	free_chain(LP3);
	ref(LP3, false, 0);
	mod_ev(KLPT_EV_MODULE_UNLOAD_READY, LP3);
	CHECK_V(LP3, KLPT_READY);
	CHECK_STR(runs(LP3), LP2);
	CHECK_V(LP2, KLPT_HOLD_ENABLED);
	/*
	 * rmmod of the replaced ones (free_module(): the patches go with
	 * their modules): LP2 is still known as a replace (review #3).
	 */
	CHECK(!klpt_patch_seen_replacing(P(LP3)) && errno == ENOENT,
	      "LP3 replaced nothing");
	mod_ev(KLPT_EV_MODULE_FREE, LP);
	mod_ev(KLPT_EV_MODULE_FREE, LP3);
	CHECK(!P(LP) && !P(LP3), "the replaced patches gone");
	CHECK_STR(klpt_patch_seen_replacing(P(LP2)), LP3);
}

/*
 * The replace reversed before it completes: it unpatches itself only,
 * the stack below it is untouched and its top runs again.
 */
static void test_replace_reversed(void)
{
	replace_blocked();
	tr(KLPT_EV_TRANSITION_REVERSE, LP2, UNP);
	tr(KLPT_EV_TRANSITION_START, LP2, UNP);
	CHECK_STR(runs(LP), "?");	/* reversed: its nops stay */
	CHECK_V(LP2, KLPT_HOLD_TASKS);
	switch_all(UNP, SLEEPER);
	pass(LP2, UNP, 0, 6, 0);
	complete(LP2, UNP, false);
	CHECK_STR(runs(LP), LP3);
	CHECK_STR(runs(LP2), LP3);
	free_chain(LP2);
	ref(LP2, false, 0);
	CHECK_V(LP2, KLPT_READY);
	CHECK_V(LP, KLPT_HOLD_ENABLED);
	CHECK_V(LP3, KLPT_HOLD_ENABLED);
	CHECK(klpt_patch_enabled(P(LP)) && klpt_patch_enabled(P(LP3)),
	      "the stack below the reversed replace is not enabled");
}

/* An enable seen only through events (a replay: no sysfs). */
static void enable_ev(const char *lp)
{
	load_and_init(lp);
	switch_all(PAT, 0);
	pass(lp, PAT, 0, 6, 0);
	complete(lp, PAT, false);
	ref(lp, false, 1);
}

/*
 * A replay knows a replace by its events alone (review #4): in 6.1 an
 * enabled patch is freed with no transition of its own only by
 * klp_free_replaced_patches_async(), after the replace's completion
 * (transition.c klp_try_complete_transition()).  A disabled patch's free
 * is no replace; a free that comes after another transition began names
 * no replace (which one is unknown); a patch enabled after the replace
 * is not before it on klp_patches.
 */
static void test_replace_from_events(void)
{
	fresh();
	enable_ev(LP);
	enable_ev(LP3);
	enable_ev(LP2);		/* the replace */
	CHECK(!klpt_patch_replaced_by(P(LP)), "not before its free");
	patch_ev(KLPT_EV_PATCH_FREE, LP, false);
	patch_ev(KLPT_EV_PATCH_FREE, LP3, false);
	CHECK_STR(klpt_patch_replaced_by(P(LP)), LP2);
	CHECK_STR(klpt_patch_replaced_by(P(LP3)), LP2);
	CHECK(!klpt_patch_enabled(P(LP)), "replaced: not enabled");
	CHECK(!klpt_patch_replaced_by(P(LP2)), "the replace itself");
	CHECK_STR(klpt_patch_seen_replacing(P(LP2)), LP3);
	patch_ev(KLPT_EV_PATCH_RELEASE, LP, false);
	ref(LP, false, 0);
	mod_ev(KLPT_EV_MODULE_UNLOAD_READY, LP);
	CHECK_V(LP, KLPT_READY);
	mod_ev(KLPT_EV_MODULE_FREE, LP);
	mod_ev(KLPT_EV_MODULE_FREE, LP3);
	CHECK_STR(klpt_patch_seen_replacing(P(LP2)), LP3);

	/* a disable's free: its own transition, no replace */
	fresh();
	enable_ev(LP);
	enable_ev(LP3);
	disable_ev(LP3);
	patch_ev(KLPT_EV_PATCH_FREE, LP3, false);
	CHECK(!klpt_patch_replaced_by(P(LP3)) && errno == ENOENT,
	      "a disable taken for a replace");

	/* the free work late, after another enable began: replaced, by ? */
	fresh();
	enable_ev(LP);
	enable_ev(LP2);
	load_and_init(LP3);
	patch_ev(KLPT_EV_PATCH_FREE, LP, false);
	CHECK_STR(klpt_patch_replaced_by(P(LP)), "");

	/* lost events: LP's state is not sure, nothing concluded */
	fresh();
	enable_ev(LP);
	enable_ev(LP2);
	lost();
	patch_ev(KLPT_EV_PATCH_FREE, LP, false);
	CHECK(!klpt_patch_replaced_by(P(LP)), "concluded after a loss");
}

/* Whose version of patch's function i runs: a name, "-", "?". */
static const char *runs_i(const char *patch, int i)
{
	const struct klpt_patch *live;
	int r = klpt_model_func_live(M, P(patch), i, &live);

	if (r < 0)
		return "ENOENT";
	return !r ? "?" : live ? klpt_patch_name(live) : "-";
}

static void pinfo_many(const char *patch, uint64_t order, int first, int n);

/*
 * An atomic replace's nops (review F1): 6.1 klp_init_patch() gives the
 * replace a klp_func with a sysfs directory for every function of the
 * patches before it that it does not patch itself, and the ftrace
 * handler runs the ORIGINAL for a nop.  sysfs cannot tell a nop from the
 * replace's own version: during its patching transition (also reversed)
 * a function another patch has too is unknown, never "runs the replace";
 * one only the replace lists is its own; once complete, the nops are
 * discarded (what is still listed is its own).
 */
static void test_replace_nops(void)
{
	fresh();
	enable_stacked(LP, 10);
	pinfo_many(LP, 10, 0, 2);		/* f0 f1 */
	load_and_init(LP2);
	pinfo_many(LP2, 30, 1, 2);		/* f1 (a nop?) f2 */
	CHECK_STR(runs_i(LP, 0), LP);
	CHECK_STR(runs_i(LP, 1), "?");
	CHECK_STR(runs_i(LP2, 0), "?");
	CHECK_STR(runs_i(LP2, 1), LP2);		/* only LP2 has f2 */
	tr(KLPT_EV_TRANSITION_START, LP2, PAT);
	CHECK_STR(runs_i(LP, 1), "?");
	tr(KLPT_EV_TRANSITION_REVERSE, LP2, UNP);
	CHECK_STR(runs_i(LP, 1), "?");		/* the nops stay */
	tr(KLPT_EV_TRANSITION_REVERSE, LP2, PAT);
	switch_all(PAT, 0);
	pass(LP2, PAT, 0, 6, 0);
	complete(LP2, PAT, false);
	/* the nops discarded, LP unpatched: re-read */
	pinfo_many(LP2, 30, 2, 1);		/* f2 */
	{
		struct klpt_pinfo pi = { .order = 10, .enabled = 0 };

		pinfo_many(LP, 10, 0, 2);
		klpt_model_set_pinfo(M, LP, &pi);	/* objects kept */
	}
	CHECK(!klpt_patch_enabled(P(LP)), "replaced patch still enabled");
	CHECK_STR(runs_i(LP, 1), "-");
	CHECK_STR(runs_i(LP2, 0), LP2);
	/* a disable of the replace: no nops any more, LP2 still runs */
	tr(KLPT_EV_TRANSITION_INIT, LP2, UNP);
	CHECK_STR(runs_i(LP2, 0), LP2);
}

/*
 * `enabled` 0 read while the model has the patch enabled and no
 * completion of a later patch was seen (review F3: a session without
 * events, the snapshot before the disable): not taken for a replace,
 * and a snapshot showing a transition of its own clears any such guess.
 */
static void test_replaced_not_guessed(void)
{
	struct tb b;

	new_model();
	tb_base(&b, PAT);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 1, 0);
	klpt_model_reconcile(M, &b.t);
	pinfo(LP, 10, true, true, 0);
	CHECK_V(LP, KLPT_HOLD_ENABLED);
	tb_base(&b, PAT);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 0, 1);
	klpt_model_reconcile(M, &b.t);
	CHECK(klpt_patch_in_transition(P(LP)), "no transition after the truth");
	tb_base(&b, UNP);
	tb_module(&b, LP, 1, true);
	tb_patch(&b, LP, 0, 0);
	klpt_model_reconcile(M, &b.t);
	verdict(LP);
	CHECK(!strstr(why, "replaced"), "a disable taken for a replace: %s",
	      why);
}

/*
 * The why of an enabled patch while another one is in transition (review
 * F4): only a patching transition of an atomic replace frees it; the
 * other's disable frees only that one.
 */
static void test_why_other_disable(void)
{
	fresh();
	enable_stacked(LP, 10);
	enable_stacked(LP3, 20);
	tr(KLPT_EV_TRANSITION_INIT, LP3, UNP);
	tr(KLPT_EV_TRANSITION_START, LP3, UNP);
	CHECK_V(LP, KLPT_HOLD_ENABLED);
	CHECK_WHY("once the transition of " LP3 " completes");
	CHECK(!strstr(why, "atomic replace"), "a disable said to free it: %s",
	      why);
	replace_blocked();
	CHECK_V(LP, KLPT_HOLD_ENABLED);
	CHECK_WHY("if " LP2 " is an atomic replace, it frees " LP);
}

/* ------------------------------------- many functions (review F8) */

/* patch's functions: n of them, f<first>..f<first+n-1> of vmlinux. */
static void pinfo_many(const char *patch, uint64_t order, int first, int n)
{
	struct klpt_pinfo pi = { .order = order, .enabled = 1, .nfuncs = n };
	int i;

	pi.funcs = calloc((size_t)n, sizeof(*pi.funcs));
	if (!pi.funcs)
		abort();
	for (i = 0; i < n; i++) {
		snprintf(pi.funcs[i].object, sizeof(pi.funcs[i].object),
			 "vmlinux");
		snprintf(pi.funcs[i].name, sizeof(pi.funcs[i].name), "f%d",
			 first + i);
		pi.funcs[i].sympos = 1;
		pi.funcs[i].patched = true;
	}
	klpt_model_set_pinfo(M, patch, &pi);
	klpt_pinfo_free(&pi);
}

/* Three enabled patches of n functions each, half of each on the next. */
static void stack_many(int n)
{
	static const char *const lps[] = { LP, LP3, LP2 };
	int k;

	fresh();
	for (k = 0; k < 3; k++) {
		enable_stacked(lps[k], 10 * (uint64_t)(k + 1));
		pinfo_many(lps[k], 10 * (uint64_t)(k + 1), k * n / 2, n);
	}
}

/* ns for what klptop's frame asks: every function of every patch. */
static uint64_t frame_ns(int n)
{
	static const char *const lps[] = { LP, LP3, LP2 };
	const struct klpt_patch *live;
	struct timespec a, b;
	uint64_t best = UINT64_MAX;
	int k, i, round;

	for (round = 0; round < 7; round++) {	/* the best: load only adds */
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (k = 0; k < 3; k++)
			for (i = 0; i < n; i++)
				klpt_model_func_live(M, P(lps[k]), i, &live);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if ((uint64_t)((b.tv_sec - a.tv_sec) * 1000000000LL +
			       (b.tv_nsec - a.tv_nsec)) < best)
			best = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000000LL +
					  (b.tv_nsec - a.tv_nsec));
		/* as after an event: the model changed since the last frame */
		ref(TARGET, true, 2);
	}
	return best;
}

/*
 * The answers on a stack of many functions, and their cost: klptop asks
 * for every function of every patch each frame, so 8 times the functions
 * must cost about 8 times, not 64 (a per-call walk of all functions was
 * 73 ms a frame for 3 x 2000).
 */
static void test_func_live_many(void)
{
	const struct klpt_patch *live;
	uint64_t small, large;

	stack_many(2000);
	/* f0: LP only; f1000: LP and LP3; f2000: LP3 and LP2; f3999: LP2 */
	CHECK_INT(klpt_model_func_live(M, P(LP), 0, &live), 1);
	CHECK_STR(live ? klpt_patch_name(live) : "-", LP);
	CHECK_INT(klpt_model_func_live(M, P(LP), 1000, &live), 1);
	CHECK_STR(live ? klpt_patch_name(live) : "-", LP3);
	CHECK_INT(klpt_model_func_live(M, P(LP3), 1000, &live), 1);
	CHECK_STR(live ? klpt_patch_name(live) : "-", LP2);
	CHECK_INT(klpt_model_func_live(M, P(LP2), 1999, &live), 1);
	CHECK_STR(live ? klpt_patch_name(live) : "-", LP2);
	CHECK_INT(klpt_model_func_live(M, P(LP2), 2000, &live), -ENOENT);
	large = frame_ns(2000);
	stack_many(250);
	small = frame_ns(250);
	fprintf(stderr, "  func_live frame: 3 x 250: %.2f ms, 3 x 2000: "
		"%.2f ms\n", small / 1e6, large / 1e6);
	/*
	 * Linear is 8 x, the per-call walk was 64 x and 73 ms: 32 x plus
	 * 10 ms tells them apart on a loaded machine under ASan (24 x +
	 * 2 ms failed there once in three).
	 */
	CHECK(large < 32 * small + 10000000,
	      "8 x the functions cost %.1f x (quadratic?)",
	      (double)large / (double)(small ? small : 1));
}

/*
 * The progress count of a transition (klpt_patch_moved(), the stall rule
 * of klpt_wait_transition()): switches and exits of the tasks that were
 * there when it began; a child of an unswitched task (it copies !target,
 * 6.1 klp_copy_process()) counts nothing when it switches or exits, nor
 * do states becoming unknown after lost events, while a switch found by
 * the reconcile that follows counts.
 */
static void test_progress_count(void)
{
	const struct klpt_patch *p;
	struct tb b;
	int i;

	fresh();
	load_and_init(LP);
	p = P(LP);
	CHECK_INT(klpt_patch_moved(p), 0);
	sw(INIT, INIT, "init", UNP, PAT, KLPT_VIA_STACK_CHECK);
	CHECK_INT(klpt_patch_moved(p), 1);
	/* the unswitched sleeper forks, again and again */
	for (i = 0; i < 3; i++) {
		sw(200 + i, 200 + i, "sleep", U, UNP, KLPT_VIA_FORK);
		task_new(200 + i, 200 + i, "sleep", UNP, 0, SLEEPER);
		if (i == 1)	/* switched by a pass: it is not the sleeper */
			sw(200 + i, 200 + i, "sleep", UNP, PAT,
			   KLPT_VIA_STACK_CHECK);
		task_exit(200 + i, "sleep");
	}
	CHECK_INT(klpt_patch_moved(p), 1);
	/* a task there at the start exits unswitched: one less to wait on */
	task_exit(SH, "sh");
	CHECK_INT(klpt_patch_moved(p), 2);
	/* events lost: idle tasks become unknown, which is no progress */
	lost();
	CHECK_INT(klpt_patch_moved(p), 2);
	/* the reconcile: kthreadd switched unseen, the sleeper did not */
	tb_init(&b);
	tb_module(&b, TARGET, 1, false);
	tb_module(&b, LP, 2, true);
	tb_patch(&b, LP, 1, 1);
	tb_task(&b, INIT, INIT, PAT, false, "init");
	tb_task(&b, KTHREADD, KTHREADD, PAT, true, "kthreadd");
	tb_task(&b, SLEEPER, SLEEPER, UNP, true, "klpt_sleeper");
	klpt_model_reconcile(M, &b.t);
	p = P(LP);
	CHECK_INT(klpt_patch_phase(p), KLPT_PHASE_STARTED);
	CHECK_INT(klpt_patch_moved(p), 3);
	/* a task first seen by this later look was born meanwhile */
	tb_task(&b, 300, 300, UNP, false, "sleep");
	klpt_model_reconcile(M, &b.t);
	b.t.ntasks--;
	klpt_model_reconcile(M, &b.t);
	CHECK_INT(klpt_patch_moved(p), 3);
	/* a reverse: the count goes on; the sleeper switches back */
	tr(KLPT_EV_TRANSITION_REVERSE, LP, UNP);
	sw(INIT, INIT, "init", PAT, UNP, KLPT_VIA_STACK_CHECK);
	CHECK_INT(klpt_patch_moved(p), 4);
}

/* The step i of p's history, or a zeroed one (a failed check says i). */
static struct klpt_patch_step step_at(const struct klpt_patch *p, int i)
{
	const struct klpt_patch_step *st = klpt_patch_history_at(p, i);
	struct klpt_patch_step none = { .type = KLPT_EV__COUNT };

	return st ? *st : none;
}

/*
 * A patch's history (phist.c): a blocked enable, its passes one step,
 * the signal, a reverse, the completion, free, release, the module's
 * last put and unload-ready, each with its time; the blockers.
 */
static void test_history(void)
{
	const struct klpt_patch *p;
	const struct klpt_patch_blocker *b;
	struct klpt_patch_step st;
	uint64_t t_get, t_init, t_pass0, since;
	bool exact;
	unsigned int i;

	fresh();
	mod_ev(KLPT_EV_MODULE_LOAD, LP);
	ref(LP, true, 2);	/* klp_enable_patch()'s try_module_get() */
	t_get = T;
	tr(KLPT_EV_TRANSITION_INIT, LP, PAT);
	t_init = T;
	tr(KLPT_EV_TRANSITION_START, LP, PAT);
	switch_all(PAT, SLEEPER);
	p = P(LP);
	CHECK(klpt_patch_history_whole(p, &since), "seen from its init");
	CHECK_INT(since, t_get);
	blocked(SLEEPER, "klpt_sleeper", LP, PAT,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	pass(LP, PAT, 0, 6, 1);
	t_pass0 = T;
	for (i = 1; i <= 15; i++) {
		blocked(SLEEPER, "klpt_sleeper", LP, PAT,
			KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
		blocked(SH, "sh", LP, PAT, KLPT_REASON_RUNNING, "");
		pass(LP, PAT, i, 6, 2);
	}
	signal_(LP, PAT, 15, 2);
	tr(KLPT_EV_TRANSITION_REVERSE, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	unpatched_to_ready();

	p = P(LP);
	/*
	 * The enable's get came before the patch existed (6.1 core.c:
	 * try_module_get() then klp_init_transition(), under klp_mutex):
	 * its first step all the same.
	 */
	CHECK_INT(klpt_patch_history_count(p), 13);
	CHECK_INT(klpt_patch_history_dropped(p), 0);
	CHECK_INT(klpt_patch_history_gap(p), -1);
	st = step_at(p, 0);
	CHECK_INT(st.type, KLPT_EV_MODULE_REF);
	CHECK(st.get, "the get");
	CHECK_INT(st.ts, t_get);
	CHECK_INT(st.refcnt, 2);
	st = step_at(p, 1);
	CHECK_INT(st.type, KLPT_EV_TRANSITION_INIT);
	CHECK_INT(st.ts, t_init);
	CHECK_INT(st.target, PAT);
	CHECK_INT(step_at(p, 2).type, KLPT_EV_TRANSITION_START);
	st = step_at(p, 3);	/* passes 0..15: one step */
	CHECK_INT(st.type, KLPT_EV_TRANSITION_PASS);
	CHECK_INT(st.first_pass, 0);
	CHECK_INT(st.pass, 15);
	CHECK_INT(st.passes, 16);
	CHECK_INT(st.first_ts, t_pass0);
	CHECK_INT(st.pending, 2);
	CHECK(st.ts > st.first_ts, "the run's last time");
	st = step_at(p, 4);
	CHECK_INT(st.type, KLPT_EV_TRANSITION_SIGNAL);
	CHECK_INT(st.pass, 15);
	CHECK_INT(st.pending, 2);
	st = step_at(p, 5);
	CHECK_INT(st.type, KLPT_EV_TRANSITION_REVERSE);
	CHECK_INT(st.target, UNP);
	CHECK_INT(step_at(p, 6).type, KLPT_EV_TRANSITION_START);
	st = step_at(p, 7);	/* the other direction: a run of its own */
	CHECK_INT(st.type, KLPT_EV_TRANSITION_PASS);
	CHECK_INT(st.target, UNP);
	CHECK_INT(st.passes, 1);
	CHECK_INT(step_at(p, 8).type, KLPT_EV_TRANSITION_COMPLETE);
	CHECK_INT(step_at(p, 9).type, KLPT_EV_PATCH_FREE);
	CHECK_INT(step_at(p, 10).type, KLPT_EV_PATCH_RELEASE);
	st = step_at(p, 11);
	CHECK_INT(st.type, KLPT_EV_MODULE_REF);
	CHECK(!st.get, "the put");
	CHECK_INT(st.refcnt, 0);
	CHECK_INT(step_at(p, 12).type, KLPT_EV_MODULE_UNLOAD_READY);
	CHECK_INT(step_at(p, 12).ts, T);
	CHECK(!klpt_patch_history_at(p, 13), "no step 13");

	/* the blockers: most checks first, each with its direction */
	CHECK_INT(klpt_patch_blocked_tasks(p, &exact), 2);
	CHECK(exact, "the whole transition was seen");
	CHECK_INT(klpt_patch_blocker_count(p), 2);
	b = klpt_patch_blocker_at(p, 0);
	CHECK(b && b->pid == SLEEPER, "the sleeper first");
	if (b) {
		CHECK_INT(b->checks, 16);
		CHECK_INT(b->target, PAT);
		CHECK_INT(b->reason, KLPT_REASON_SLEEPING_IN_FUNC);
		CHECK_STR(b->func, FUNC);
		CHECK_STR(b->comm, "klpt_sleeper");
		CHECK(b->first_ns < b->last_ns, "first before last");
	}
	b = klpt_patch_blocker_at(p, 1);
	CHECK(b && b->pid == SH && b->checks == 15 &&
	      b->reason == KLPT_REASON_RUNNING, "sh second");
	CHECK(!klpt_patch_blocker_at(p, 2), "two kept");

	/* the module's free: the patch and its history go */
	mod_ev(KLPT_EV_MODULE_FREE, LP);
	CHECK(!P(LP), "gone");
}

/*
 * A reverse is the same transition (6.1 klp_reverse_transition() keeps
 * klp_transition_patch): a task that blocked the enable, switched, then
 * blocked its reverse is one task that blocked it, once towards each
 * target; checks restarting (the reverse, lost events) count nobody
 * twice.
 */
static void test_blocked_reverse(void)
{
	const struct klpt_patch *p;
	bool exact;
	unsigned int i;

	fresh();
	mod_ev(KLPT_EV_MODULE_LOAD, LP);
	ref(LP, true, 2);
	tr(KLPT_EV_TRANSITION_INIT, LP, PAT);
	tr(KLPT_EV_TRANSITION_START, LP, PAT);
	switch_all(PAT, SLEEPER);	/* sh too, after blocking once: */
	blocked(SH, "sh", LP, PAT, KLPT_REASON_RUNNING, "");
	for (i = 0; i < 3; i++) {
		blocked(SLEEPER, "klpt_sleeper", LP, PAT,
			KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
		pass(LP, PAT, i, 6, 1);
	}
	tr(KLPT_EV_TRANSITION_REVERSE, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	for (i = 0; i < 2; i++) {
		blocked(SH, "sh", LP, UNP, KLPT_REASON_RUNNING, "");
		pass(LP, UNP, i, 6, 1);
	}
	p = P(LP);
	CHECK_INT(klpt_patch_blocked_tasks(p, &exact), 2);
	CHECK(exact, "seen whole");
	CHECK_INT(klpt_patch_blocked_tasks_to(p, PAT), 2);
	CHECK_INT(klpt_patch_blocked_tasks_to(p, UNP), 1);
	CHECK_INT(klpt_patch_blocker_count(p), 3);	/* sh once each way */

	lost();		/* checks restart: still the same tasks */
	blocked(SH, "sh", LP, UNP, KLPT_REASON_RUNNING, "");
	blocked(SLEEPER, "klpt_sleeper", LP, UNP,
		KLPT_REASON_SLEEPING_IN_FUNC, FUNC);
	CHECK_INT(klpt_patch_blocked_tasks(p, &exact), 2);
	CHECK(!exact, "lost: a lower bound");
	CHECK_INT(klpt_patch_blocked_tasks_to(p, PAT), 2);
	CHECK_INT(klpt_patch_blocked_tasks_to(p, UNP), 2);
	CHECK_INT(klpt_patch_blocked_tasks_to(p, 7), 0);

	/* the next transition counts afresh */
	unpatched_to_ready();
	ref(LP, true, 2);
	tr(KLPT_EV_TRANSITION_INIT, LP, PAT);
	tr(KLPT_EV_TRANSITION_START, LP, PAT);
	blocked(SH, "sh", LP, PAT, KLPT_REASON_RUNNING, "");
	p = P(LP);
	CHECK_INT(klpt_patch_blocked_tasks(p, &exact), 1);
	CHECK_INT(klpt_patch_blocked_tasks_to(p, PAT), 1);
	CHECK_INT(klpt_patch_blocked_tasks_to(p, UNP), 0);
}

/*
 * Bounded: a transition stuck for long (passes and a signal every 15)
 * keeps its first steps and the latest; many blockers keep those with
 * most checks.  A patch known from a snapshot has no whole history.
 */
static void test_history_bounded(void)
{
	const struct klpt_patch *p;
	uint64_t since;
	bool exact;
	unsigned int i, last = 0;
	int n, pid;

	fresh();
	enabled_lp();
	p = P(LP);
	tr(KLPT_EV_TRANSITION_INIT, LP, UNP);
	tr(KLPT_EV_TRANSITION_START, LP, UNP);
	for (i = 0; i < 1500; i++) {
		pass(LP, UNP, i, 6, 1);
		if (i && i % 15 == 0)
			signal_(LP, UNP, i, 1);
	}
	n = klpt_patch_history_count(p);
	CHECK_INT(n, KLPT_PHIST_MAX);
	CHECK(klpt_patch_history_dropped(p) > 0, "some dropped");
	CHECK_INT(klpt_patch_history_gap(p), KLPT_PHIST_HEAD - 1);
	/* the enable first: klp_enable_patch()'s get, then its init */
	CHECK_INT(step_at(p, 0).type, KLPT_EV_MODULE_REF);
	CHECK(step_at(p, 0).get, "the enable's get");
	CHECK_INT(step_at(p, 1).type, KLPT_EV_TRANSITION_INIT);
	CHECK_INT(step_at(p, 1).target, PAT);
	/* the newest last, in order */
	CHECK_INT(step_at(p, n - 1).type, KLPT_EV_TRANSITION_PASS);
	CHECK_INT(step_at(p, n - 1).pass, 1499);
	for (i = KLPT_PHIST_HEAD; i < (unsigned int)n; i++) {
		CHECK(step_at(p, i).ts > last, "step %u in order", i);
		last = step_at(p, i).ts;
	}

	/* 20 blockers, pid k blocked k times: the 8 with most checks */
	for (pid = 1000; pid < 1020; pid++)
		for (i = 0; i < (unsigned int)(pid - 999); i++)
			blocked(pid, "w", LP, UNP, KLPT_REASON_RUNNING, "");
	CHECK_INT(klpt_patch_blocked_tasks(p, &exact), 20);
	CHECK_INT(klpt_patch_blocker_count(p), KLPT_PHIST_BLOCKERS);
	for (i = 0; i < KLPT_PHIST_BLOCKERS; i++) {
		const struct klpt_patch_blocker *b =
			klpt_patch_blocker_at(p, (int)i);

		CHECK(b && b->pid == 1019 - (int)i && b->checks == 20 - i,
		      "blocker %u: pid %d checks %u", i, b ? b->pid : -1,
		      b ? b->checks : 0);
	}

	/* a lost stretch is a step; the counts become lower bounds */
	lost();
	CHECK_INT(step_at(p, klpt_patch_history_count(p) - 1).type,
		  KLPT_EV_LOST);
	klpt_patch_blocked_tasks(p, &exact);
	CHECK(!exact, "lost in the transition: not exact");

	/* known from a snapshot: no init, history not whole */
	{
		struct tb b;

		new_model();
		tb_base(&b, U);
		tb_patch(&b, LP, 1, 0);
		tb_module(&b, LP, 1, true);
		b.t.ts = 4242;
		klpt_model_reconcile(M, &b.t);
		p = P(LP);
		CHECK(p, "from the snapshot");
		CHECK(!klpt_patch_history_whole(p, &since), "not whole");
		CHECK_INT(since, 4242);
		CHECK_INT(klpt_patch_history_count(p), 0);
	}
}

int main(void)
{
	RUN(test_enable_vmlinux);
	RUN(test_progress_count);
	RUN(test_reused_same_tgid);
	RUN(test_blocked_sleeper);
	RUN(test_first_pass_summary);
	RUN(test_summary_fork_before_walk);
	RUN(test_first_pass_summary_unknown);
	RUN(test_disable_unload);
	RUN(test_reverse);
	RUN(test_reverse_to_enabled);
	RUN(test_force);
	RUN(test_forced_by_complete);
	RUN(test_force_patching_reversed_old_recording);
	RUN(test_forced_cleared_by_free);
	RUN(test_forced_cleared_by_unload_ready);
	RUN(test_force_unpatching_reversed);
	RUN(test_force_patching);
	RUN(test_force_patching_old_recording);
	RUN(test_force_replace);
	RUN(test_fork_failed);
	RUN(test_busy_running);
	RUN(test_signal_user);
	RUN(test_switch_after_complete);
	RUN(test_switch_before_blocked);
	RUN(test_lost_then_blocked);
	RUN(test_fork_inherit);
	RUN(test_mid_transition);
	RUN(test_mid_transition_no_truth);
	RUN(test_cancel);
	RUN(test_prepatch_window);
	RUN(test_reconcile_prepatch_window);
	RUN(test_unknown_values);
	RUN(test_refs_after_release);
	RUN(test_unknown_module);
	RUN(test_lost_then_reconcile);
	RUN(test_reconcile_dir_gone_refs);
	RUN(test_fallback);
	RUN(test_reconcile_tasks);
	RUN(test_reconcile_reversed);
	RUN(test_reload);
	RUN(test_bad_events);
	RUN(test_null);
	RUN(test_why_small);
	RUN(test_many_holders);
	RUN(test_scale);
	RUN(test_task_exit);
	RUN(test_exit_many);
	RUN(test_vm_recording);
	RUN(test_idle_mid_transition);
	RUN(test_idle_fallback);
	RUN(test_task_new);
	RUN(test_late_joiner_checks);
	RUN(test_exec_nonleader);
	RUN(test_no_exits_forks);
	RUN(test_fallback_new_not_exact);
	RUN(test_fork_in_init_window);
	RUN(test_newtask_after_switch);
	RUN(test_stacked_live);
	RUN(test_replace_over_stack);
	RUN(test_replace_reversed);
	RUN(test_replace_from_events);
	RUN(test_func_live_many);
	RUN(test_replace_nops);
	RUN(test_replaced_not_guessed);
	RUN(test_why_other_disable);
	RUN(test_history);
	RUN(test_history_bounded);
	RUN(test_blocked_reverse);
	klpt_model_free(M);
	return check_summary();
}
