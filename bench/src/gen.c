// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * klptb_gen: a synthetic klp trace for the decode benchmark.
 *
 *   klptb_gen FORMATS_DIR OUT_DIR NEVENTS [SEED]
 *
 * FORMATS_DIR is a tracefs-layout directory with the kernel's real
 * format files (lib/tests/fixtures/formats).  OUT_DIR must already hold
 * a copy of its events/ (run.sh copies it) and gets klptrace-recording
 * and per_cpu/cpu{0,1}/trace_pipe_raw: a recording directory that
 * klpt_session_open_replay() opens and `trace-cmd restore` turns into a
 * trace.dat.  The pages are written with lib/tests/pagebuild.h, the
 * tests' independent writer of the ring-buffer layout.
 *
 * The mix is what a stalled livepatch rollout produces, the case where
 * event volume matters: patch lifecycles over a fixed population of
 * 1000 threads, each transition starting with a stack-check pass over
 * all of them (most switch, the rest are blocked: sleeping in a patched
 * function, running, or with an unreliable stack), then one retry pass
 * a second in which every pending task is blocked again unless it
 * switches (on its own return to user mode, or at the check), a fake
 * signal every 15 passes, completion, and for the disable the free /
 * release / module put / unload-ready / module free chain.  A few
 * threads exit (sched_process_exit).  Events are 1-3 us apart inside a
 * pass and passes 1 s apart, so pages carry time extends as a real
 * trace does.  The retry passes run on alternating CPUs (the transition
 * work item), the return-to-user switches on a random CPU.
 *
 * Deterministic: the same arguments give the same bytes.  Prints the
 * count of each event type.
 *
 *   klptb_gen -s FORMATS_DIR OUT_DIR NTASKS NBLOCKED NPASSES
 *
 * The klptop scale recording (benchmark 5): a start-up snapshot
 * (truth.txt) of NTASKS threads, then one transition whose first pass
 * switches all but NBLOCKED of them (spread evenly over the tids) and
 * NPASSES retry passes, a second apart, in which the same NBLOCKED are
 * blocked again (with the mix above: most sleeping in one of a few
 * patched functions).  It never completes: every frame of a replay at
 * one frame a second shows NTASKS tasks and NBLOCKED blockers, and takes
 * in one pass's NBLOCKED events.
 *
 *   klptb_gen -r FORMATS_DIR OUT_DIR
 *
 * An atomic replace as 6.1 traces it (klptop's tests): klpb_a and klpb_b
 * enabled, stacked, then the replace klpb_r enabled; its completion
 * unpatches them (klp_unpatch_replaced_patches()) and
 * klp_free_replaced_patches_async() frees them, with no transition of
 * their own: free, release, the module's put, unload-ready each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <klptrace.h>

#include "pagebuild.h"

#define NCPUS		2
#define NTASKS		1000
#define TID_BASE	2000
#define MAX_PASSES	45

enum kind {
	K_INIT, K_START, K_PASS, K_SIGNAL, K_COMPLETE, K_SWITCH, K_BLOCKED,
	K_REF, K_FREE, K_RELEASE, K_READY, K_MFREE, K_LOAD, K_EXIT, K__N
};

static const char *const kind_event[K__N][2] = {
	[K_INIT] = { "klp", "klp_transition_init" },
	[K_START] = { "klp", "klp_transition_start" },
	[K_PASS] = { "klp", "klp_transition_pass" },
	[K_SIGNAL] = { "klp", "klp_transition_signal" },
	[K_COMPLETE] = { "klp", "klp_transition_complete" },
	[K_SWITCH] = { "klp", "klp_task_switch" },
	[K_BLOCKED] = { "klp", "klp_task_blocked" },
	[K_REF] = { "klp", "klp_module_ref" },
	[K_FREE] = { "klp", "klp_patch_free" },
	[K_RELEASE] = { "klp", "klp_patch_release" },
	[K_READY] = { "klp", "klp_module_unload_ready" },
	[K_MFREE] = { "klp", "klp_module_free" },
	[K_LOAD] = { "module", "module_load" },
	[K_EXIT] = { "sched", "sched_process_exit" },
};

struct gen {
	struct tep_event *ev[K__N];
	struct pb page[NCPUS];
	FILE *out[NCPUS];
	uint64_t ts, n, max;
	uint64_t count[K__N];
	uint64_t rng;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("klptb_gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* xorshift64*: cheap, and the same sequence on every machine. */
static uint32_t rnd(struct gen *g)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return (uint32_t)((g->rng * 2685821657736338717ull) >> 32);
}

/* True with probability pct percent. */
static int chance(struct gen *g, unsigned int pct)
{
	return rnd(g) % 100 < pct;
}

static void flush_page(struct gen *g, int cpu)
{
	struct pb *p = &g->page[cpu];

	pb_finish(p, 0);
	if (fwrite(p->buf, pb_len(p), 1, g->out[cpu]) != 1)
		die("write: %s", strerror(errno));
}

/* Time passes by d ns, then one event on cpu. */
static void emit(struct gen *g, int cpu, enum kind k, const struct eb *e,
		 uint64_t d)
{
	struct pb *p = &g->page[cpu];

	g->ts += d;
	if (pb_add(p, g->ts, e->buf, e->len) < 0) {
		flush_page(g, cpu);
		pb_init(p, g->ts);
		if (pb_add(p, g->ts, e->buf, e->len) < 0)
			die("an event does not fit in a page");
	}
	g->count[k]++;
	g->n++;
}

static int done(const struct gen *g)
{
	return g->n >= g->max;
}

/* 1-3 us: the gap between two events of one pass. */
static uint64_t gap(struct gen *g)
{
	return 1000 + rnd(g) % 2000;
}

static void ev_patch(struct gen *g, struct eb *e, enum kind k, int pid,
		     const char *patch, int target)
{
	eb_init(e, g->ev[k], pid);
	eb_str(e, "patch", patch);
	eb_num(e, "target", target);
}

static void transition_simple(struct gen *g, enum kind k, int cpu, int pid,
			      const char *patch, int target)
{
	struct eb e;

	ev_patch(g, &e, k, pid, patch, target);
	emit(g, cpu, k, &e, gap(g));
}

static void comm_of(char *comm, int i)
{
	/* a comm has 15 characters: 7 digits at most */
	snprintf(comm, KLPT_COMM_LEN, "worker-%d", i % 10000000);
}

static void task_switch(struct gen *g, int cpu, int i, int from, int to,
			int via)
{
	char comm[KLPT_COMM_LEN];
	struct eb e;
	int tid = TID_BASE + i;

	comm_of(comm, i);
	eb_init(&e, g->ev[K_SWITCH], via == KLPT_VIA_USER_RETURN ? tid : 90);
	eb_num(&e, "pid", tid);
	eb_num(&e, "tgid", TID_BASE + i / 10 * 10);
	eb_chars(&e, "comm", comm);
	eb_num(&e, "from", from);
	eb_num(&e, "to", to);
	eb_num(&e, "via", via);
	emit(g, cpu, K_SWITCH, &e, gap(g));
}

static void task_blocked(struct gen *g, int cpu, int i, const char *patch,
			 int target)
{
	static const char *const funcs[] = {
		"klpb_read_page", "klpb_wait_event", "klpb_ioctl_slow",
	};
	char comm[KLPT_COMM_LEN];
	struct eb e;
	int tid = TID_BASE + i, r = rnd(g) % 10;

	comm_of(comm, i);
	ev_patch(g, &e, K_BLOCKED, 90, patch, target);
	eb_num(&e, "pid", tid);
	eb_num(&e, "tgid", TID_BASE + i / 10 * 10);
	eb_chars(&e, "comm", comm);
	/* 60% sleeping in a patched function, 30% running, 10% unreliable */
	if (r < 6) {
		eb_num(&e, "reason", KLPT_REASON_SLEEPING_IN_FUNC);
		eb_num(&e, "err", -EADDRINUSE);
		eb_str(&e, "func", funcs[i % 3]);
	} else if (r < 9) {
		eb_num(&e, "reason", KLPT_REASON_RUNNING);
		eb_num(&e, "err", -EBUSY);
		eb_str(&e, "func", "");
	} else {
		eb_num(&e, "reason", KLPT_REASON_UNRELIABLE_STACK);
		eb_num(&e, "err", -EINVAL);
		eb_str(&e, "func", "");
	}
	emit(g, cpu, K_BLOCKED, &e, gap(g));
}

static void module_ref(struct gen *g, int cpu, const char *mod, int get,
		       int refcnt, const char *caller)
{
	struct eb e;

	eb_init(&e, g->ev[K_REF], 300);
	eb_str(&e, "module", mod);
	eb_num(&e, "op", get ? 1 : 2);
	eb_num(&e, "refcnt", refcnt);
	eb_num(&e, "ip", 0xffffffff81234567ll);
	eb_str(&e, "caller", caller);
	emit(g, cpu, K_REF, &e, gap(g));
}

static void patch_ev(struct gen *g, enum kind k, const char *patch)
{
	struct eb e;

	eb_init(&e, g->ev[k], 40);
	eb_str(&e, "patch", patch);
	eb_num(&e, "forced", 0);
	emit(g, 0, k, &e, gap(g));
}

static void module_ev(struct gen *g, enum kind k, const char *mod)
{
	struct eb e;

	eb_init(&e, g->ev[k], 300);
	eb_str(&e, k == K_LOAD ? "name" : "module", mod);
	if (k == K_LOAD)
		eb_num(&e, "taints", 1 << 15);	/* TAINT_LIVEPATCH */
	emit(g, 1, k, &e, gap(g));
}

static void task_exit(struct gen *g, int cpu, int i)
{
	char comm[KLPT_COMM_LEN];
	struct eb e;

	comm_of(comm, i);
	eb_init(&e, g->ev[K_EXIT], TID_BASE + i);
	eb_chars(&e, "comm", comm);
	eb_num(&e, "pid", TID_BASE + i);
	eb_num(&e, "prio", 120);
	emit(g, cpu, K_EXIT, &e, gap(g));
}

/*
 * One transition of patch to target: a first pass where first_pct
 * percent switch at the stack check, then retry passes a second apart
 * where retry_pct percent of the pending switch (half at the check,
 * half on their own return to user mode).
 */
static void transition(struct gen *g, const char *patch, int target,
		       unsigned int first_pct, unsigned int retry_pct)
{
	static unsigned char pending[NTASKS];
	int from = !target, i, pass, left = NTASKS;

	memset(pending, 1, sizeof(pending));
	transition_simple(g, K_INIT, 0, 300, patch, target);
	transition_simple(g, K_START, 0, 300, patch, target);
	for (pass = 0; left && !done(g); pass++) {
		int cpu = pass & 1, checked = left;
		unsigned int pct = pass ? retry_pct : first_pct;

		if (pass) {
			/* the retry runs a second after the previous pass */
			g->ts += 1000000000ull;
			if (pass % 15 == 0)
				pct = 50;	/* after the fake signal */
		}
		for (i = 0; i < NTASKS && !done(g); i++) {
			if (!pending[i])
				continue;
			if (pass == MAX_PASSES - 1 || chance(g, pct)) {
				int user = pass && chance(g, 50);

				task_switch(g, user ? (int)(rnd(g) & 1) : cpu,
					    i, from, target,
					    user ? KLPT_VIA_USER_RETURN :
						   KLPT_VIA_STACK_CHECK);
				pending[i] = 0;
				left--;
			} else {
				task_blocked(g, cpu, i, patch, target);
			}
			if (chance(g, 1) && rnd(g) % 8 == 0)
				task_exit(g, rnd(g) & 1, rnd(g) % NTASKS);
		}
		if (done(g))
			break;
		{
			struct eb e;

			ev_patch(g, &e, K_PASS, 90, patch, target);
			eb_num(&e, "pass", pass);
			eb_num(&e, "checked", checked);
			eb_num(&e, "pending", left);
			emit(g, cpu, K_PASS, &e, gap(g));
		}
		if (left && pass % 15 == 14) {
			struct eb e;

			ev_patch(g, &e, K_SIGNAL, 90, patch, target);
			eb_num(&e, "pass", pass);
			eb_num(&e, "pending", left);
			emit(g, cpu, K_SIGNAL, &e, gap(g));
		}
	}
	if (done(g))
		return;
	{
		struct eb e;

		ev_patch(g, &e, K_COMPLETE, 90, patch, target);
		eb_num(&e, "forced", 0);
		emit(g, pass & 1, K_COMPLETE, &e, gap(g));
	}
}

/* A patch module loaded, enabled, disabled, freed and removed. */
static void lifecycle(struct gen *g, int cycle)
{
	char name[32];

	snprintf(name, sizeof(name), "klpb_patch_%d", cycle % 4);
	module_ev(g, K_LOAD, name);
	module_ref(g, 1, name, 1, 1, "klp_enable_patch");
	transition(g, name, KLPT_PATCHED, 70, 10);
	if (done(g))
		return;
	g->ts += 5000000000ull;
	transition(g, name, KLPT_UNPATCHED, 90, 20);
	if (done(g))
		return;
	patch_ev(g, K_FREE, name);
	patch_ev(g, K_RELEASE, name);
	module_ref(g, 0, name, 0, 0, "klp_free_patch_work_fn");
	module_ev(g, K_READY, name);
	module_ev(g, K_MFREE, name);
	g->ts += 5000000000ull;
}

/*
 * The scale recording's snapshot: NTASKS user threads, none in a
 * transition yet (state -1), in thread groups of ten as task_switch()
 * and task_blocked() give them.  ts: just before the first event.
 */
static void scale_truth(const char *dir, uint64_t ts, int ntasks)
{
	char path[4096];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/truth.txt", dir);
	f = fopen(path, "we");
	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "klptrace-truth 1\nts %llu\n", (unsigned long long)ts);
	for (i = 0; i < ntasks; i++) {
		char comm[KLPT_COMM_LEN];

		comm_of(comm, i);
		fprintf(f, "task %d %d -1 0 %s\n", TID_BASE + i,
			TID_BASE + i / 10 * 10, comm);
	}
	fputs("end\n", f);
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
}

/* The scale recording's events (see the top of the file). */
static void scale(struct gen *g, int ntasks, int nblocked, int npasses)
{
	static const char patch[] = "klpb_scale";
	int i, pass, every = nblocked ? ntasks / nblocked : ntasks + 1;
	struct eb e;

	module_ev(g, K_LOAD, patch);
	module_ref(g, 1, patch, 1, 1, "klp_enable_patch");
	transition_simple(g, K_INIT, 0, 300, patch, KLPT_PATCHED);
	transition_simple(g, K_START, 0, 300, patch, KLPT_PATCHED);
	for (pass = 0; pass <= npasses; pass++) {
		int cpu = pass & 1, blocked = 0;

		if (pass)
			g->ts += 1000000000ull;
		for (i = 0; i < ntasks; i++) {
			/* every `every`-th tid stays blocked, up to nblocked */
			if (i % every == 0 && i / every < nblocked) {
				task_blocked(g, cpu, i, patch, KLPT_PATCHED);
				blocked++;
			} else if (!pass) {
				task_switch(g, cpu, i, KLPT_UNPATCHED,
					    KLPT_PATCHED, KLPT_VIA_STACK_CHECK);
			}
		}
		ev_patch(g, &e, K_PASS, 90, patch, KLPT_PATCHED);
		eb_num(&e, "pass", pass);
		eb_num(&e, "checked", pass ? blocked : ntasks);
		eb_num(&e, "pending", blocked);
		emit(g, cpu, K_PASS, &e, gap(g));
	}
}

/* The replace recording (see the top of the file). */
static void replace_run(struct gen *g)
{
	static const char *const lp[] = { "klpb_a", "klpb_b", "klpb_r" };
	int i;

	for (i = 0; i < 3; i++) {
		module_ev(g, K_LOAD, lp[i]);
		module_ref(g, 1, lp[i], 1, 2, "klp_enable_patch");
		transition(g, lp[i], KLPT_PATCHED, 100, 100);
		module_ref(g, 1, lp[i], 0, 1, "do_init_module");
		g->ts += 1000000000ull;
	}
	for (i = 0; i < 2; i++) {
		patch_ev(g, K_FREE, lp[i]);
		patch_ev(g, K_RELEASE, lp[i]);
		module_ref(g, 0, lp[i], 0, 0, "process_one_work");
		module_ev(g, K_READY, lp[i]);
	}
}

int main(int argc, char **argv)
{
	struct tep_handle *tep;
	struct gen g = { .ts = 1000000000ull, .rng = 0x9e3779b97f4a7c15ull };
	char path[4096];
	int c, k, cycle, sc = argc > 1 && !strcmp(argv[1], "-s");
	int rp = argc > 1 && !strcmp(argv[1], "-r");

	if (rp || sc) {
		if (argc != (rp ? 4 : 7)) {
			fprintf(stderr, "usage: klptb_gen %s FORMATS_DIR "
				"OUT_DIR%s\n", argv[1],
				rp ? "" : " NTASKS NBLOCKED NPASSES");
			return 2;
		}
		argv++;
		argc--;
		g.max = UINT64_MAX;
	} else if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: klptb_gen FORMATS_DIR OUT_DIR NEVENTS "
			"[SEED]\n");
		return 2;
	} else {
		g.max = strtoull(argv[3], NULL, 0);
		if (argc == 5)
			g.rng ^= strtoull(argv[4], NULL, 0);
	}
	tep = load_formats(argv[1]);
	if (!tep)
		die("%s: no events/header_page", argv[1]);
	for (k = 0; k < K__N; k++) {
		g.ev[k] = tep_find_event_by_name(tep, kind_event[k][0],
						 kind_event[k][1]);
		if (!g.ev[k])
			die("%s: no format of %s/%s", argv[1],
			    kind_event[k][0], kind_event[k][1]);
	}
	for (c = 0; c < NCPUS; c++) {
		snprintf(path, sizeof(path), "%s/per_cpu/cpu%d", argv[2], c);
		mkdir(path, 0755);	/* per_cpu/ made by the caller */
		snprintf(path, sizeof(path),
			 "%s/per_cpu/cpu%d/trace_pipe_raw", argv[2], c);
		g.out[c] = fopen(path, "we");
		if (!g.out[c])
			die("%s: %s", path, strerror(errno));
		setvbuf(g.out[c], NULL, _IOFBF, 1 << 20);
		pb_init(&g.page[c], g.ts);
	}
	if (rp) {
		replace_run(&g);
		cycle = 0;
	} else if (sc) {
		int ntasks = atoi(argv[3]), nblocked = atoi(argv[4]);

		if (ntasks < 1 || nblocked < 0 || nblocked > ntasks)
			die("bad NTASKS %s or NBLOCKED %s", argv[3], argv[4]);
		scale_truth(argv[2], g.ts - 1, ntasks);
		scale(&g, ntasks, nblocked, atoi(argv[5]));
		cycle = 0;
	} else {
		for (cycle = 0; !done(&g); cycle++)
			lifecycle(&g, cycle);
	}
	for (c = 0; c < NCPUS; c++) {
		if (g.page[c].used)
			flush_page(&g, c);
		if (fclose(g.out[c]))
			die("close: %s", strerror(errno));
	}

	snprintf(path, sizeof(path), "%s/klptrace-recording", argv[2]);
	{
		FILE *f = fopen(path, "we");

		if (!f)
			die("%s: %s", path, strerror(errno));
		fprintf(f, "klptrace-recording 1\npage_size %d\nncpus %d\n"
			"trace_clock global\nlong_size 8\nendian little\n"
			"klptrace_version bench-synthetic\n", PB_PAGE, NCPUS);
		if (fclose(f))
			die("%s: %s", path, strerror(errno));
	}
	printf("events %llu lifecycles %d\n", (unsigned long long)g.n, cycle);
	for (k = 0; k < K__N; k++)
		printf("  %-26s %10llu %5.1f%%\n", kind_event[k][1],
		       (unsigned long long)g.count[k],
		       100.0 * g.count[k] / (g.n ? g.n : 1));
	tep_free(tep);
	return 0;
}
