// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * decode.c through pages.c: the real formats of the Debian 6.1 kernel
 * (fixtures/formats) parsed into a tep, one record of every klp event,
 * of the module events and of sched_process_exit built by hand with known field values
 * (negative from/to/err/refcnt, unsigned values above INT_MAX, a
 * 16-byte comm with no NUL, strings longer than a small event), laid
 * out in pages of two CPUs with time extends and a missed-events page,
 * merged, decoded and checked field by field.  Then malformed records,
 * unknown events, and a quick speed measurement.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "klp_trace_abi.h"
#include "check.h"
#include "pagebuild.h"

static struct tep_handle *tep;
static char long_patch[201], long_func[151];

static struct tep_event *event(const char *sys, const char *name)
{
	struct tep_event *e = tep_find_event_by_name(tep, sys, name);

	if (!e) {
		fprintf(stderr, "fixture has no %s:%s\n", sys, name);
		exit(1);
	}
	return e;
}

/*
 * The expected events.  A record is built from each with the field
 * names of its format (build()), then compared with what the decoder
 * makes of it (same()).  sys/name say which format; raw_* are values
 * written that differ from the decoded ones.
 */
struct want {
	const char *sys, *name;
	struct klpt_event ev;
	long long raw_refcnt;		/* module:* refcnt as written */
};

#define W(sys_, name_, ...)						\
	{ .sys = sys_, .name = name_, .ev = { __VA_ARGS__ } }
#define TR(p, t, ...) .transition = { .patch = p, .target = t, __VA_ARGS__ }

static struct want wants[] = {
	W("klp", "klp_transition_init", .type = KLPT_EV_TRANSITION_INIT,
	  TR(long_patch, KLPT_UNPATCHED)),
	W("klp", "klp_transition_start", .type = KLPT_EV_TRANSITION_START,
	  TR("klpt_lp_sleep", KLPT_PATCHED)),
	W("klp", "klp_transition_reverse", .type = KLPT_EV_TRANSITION_REVERSE,
	  TR("klpt_lp_sleep", KLPT_UNPATCHED)),
	W("klp", "klp_transition_pass", .type = KLPT_EV_TRANSITION_PASS,
	  TR("p", KLPT_PATCHED, .pass = 4000000000u, .checked = 61,
	     .pending = UINT_MAX)),
	W("klp", "klp_transition_signal", .type = KLPT_EV_TRANSITION_SIGNAL,
	  TR("klpt_lp_read", KLPT_PATCHED, .pass = 15, .pending = 2)),
	W("klp", "klp_transition_force", .type = KLPT_EV_TRANSITION_FORCE,
	  TR("klpt_lp_busy", KLPT_UNPATCHED)),
	W("klp", "klp_transition_cancel", .type = KLPT_EV_TRANSITION_CANCEL,
	  TR("klpt_lp_vmlinux", KLPT_PATCHED)),
	W("klp", "klp_transition_complete",
	  .type = KLPT_EV_TRANSITION_COMPLETE,
	  TR("klpt_lp_busy", KLPT_UNPATCHED, .forced = true)),
	W("klp", "klp_task_switch", .type = KLPT_EV_TASK_SWITCH,
	  .task = { .pid = 4194304, .tgid = 4194300, .comm = "klpt_sleeper",
		    .from = KLPT_UNDEFINED, .to = KLPT_PATCHED,
		    .via = KLPT_VIA_FORK }),
	W("klp", "klp_task_switch", .type = KLPT_EV_TASK_SWITCH,
	  .task = { .pid = 0, .tgid = 0, .comm = "swapper/1",
		    .from = KLPT_PATCHED, .to = KLPT_UNDEFINED,
		    .via = KLPT_VIA_IDLE }),
	W("klp", "klp_task_switch", .type = KLPT_EV_TASK_SWITCH,
	  .task = { .pid = 7, .tgid = 7, .comm = "bash",
		    .from = KLPT_UNPATCHED, .to = KLPT_PATCHED,
		    .via = KLPT_VIA_FORCE }),
	/* comm: 16 bytes in the record, no NUL (build() writes them) */
	W("klp", "klp_task_blocked", .type = KLPT_EV_TASK_BLOCKED,
	  .task = { .pid = 156, .tgid = 150, .comm = "abcdefghijklmno",
		    .patch = long_patch, .target = KLPT_UNDEFINED,
		    .reason = KLPT_REASON_SLEEPING_IN_FUNC, .err = -98,
		    .func = long_func }),
	W("klp", "klp_task_blocked", .type = KLPT_EV_TASK_BLOCKED,
	  .task = { .pid = 97, .tgid = 97, .comm = "cat",
		    .patch = "klpt_lp_sleep", .target = KLPT_UNPATCHED,
		    .reason = KLPT_REASON_RUNNING, .err = -16, .func = "" }),
	W("klp", "klp_task_blocked", .type = KLPT_EV_TASK_BLOCKED,
	  .task = { .pid = 98, .tgid = 97, .comm = "x", .patch = "q",
		    .target = KLPT_PATCHED, .reason = KLPT_REASON_OTHER,
		    .err = INT_MIN, .func = "" }),
	W("klp", "klp_module_ref", .type = KLPT_EV_MODULE_REF,
	  .module = { .module = "klpt_lp_sleep", .get = true, .refcnt = 2,
		      .ip = 0xffffffffc0a01234ull,
		      .caller = "klp_enable_patch" }),
	W("klp", "klp_module_ref", .type = KLPT_EV_MODULE_REF,
	  .module = { .module = "klpt_lp_sleep", .get = false, .refcnt = -1,
		      .ip = 1, .caller = "" }),
	W("klp", "klp_patch_free", .type = KLPT_EV_PATCH_FREE,
	  .patch = { .patch = "klpt_lp_sleep", .forced = false }),
	W("klp", "klp_patch_release", .type = KLPT_EV_PATCH_RELEASE,
	  .patch = { .patch = "klpt_lp_busy", .forced = true }),
	/* klp_force_transition() marked it: forced is always 1 */
	W("klp", "klp_patch_forced", .type = KLPT_EV_PATCH_FORCED,
	  .patch = { .patch = "klpt_lp_sleep", .forced = true }),
	/* copy_process() -EINTR after klp_copy_process() */
	W("klp", "klp_task_fork_failed", .type = KLPT_EV_TASK_FORK_FAILED,
	  .task = { .pid = 4194303, .tgid = 150, .comm = "abcdefghijklmno",
		    .err = -4, .from = KLPT_UNDEFINED, .to = KLPT_UNDEFINED,
		    .target = KLPT_UNDEFINED, .patch = "", .func = "" }),
	W("klp", "klp_module_unload_ready",
	  .type = KLPT_EV_MODULE_UNLOAD_READY,
	  .module = { .module = "klpt_lp_sleep", .caller = "" }),
	W("klp", "klp_module_free", .type = KLPT_EV_MODULE_FREE,
	  .module = { .module = "klpt_lp_sleep", .caller = "" }),
	/* every fork: PF_KTHREAD and the state taken from the parent */
	W("klp", "klp_task_new", .type = KLPT_EV_TASK_NEW,
	  .task = { .pid = 4194302, .tgid = 4194302, .comm = "kthreadd",
		    .to = KLPT_PATCHED, .kthread = 1 }),
	W("klp", "klp_task_new", .type = KLPT_EV_TASK_NEW,
	  .task = { .pid = 201, .tgid = 200, .comm = "abcdefghijklmno",
		    .to = KLPT_UNDEFINED, .kthread = 0 }),
	/* every comm change: the new name */
	W("task", "task_rename", .type = KLPT_EV_TASK_RENAME,
	  .task = { .pid = 4194302, .comm = "kworker/1:2" }),
	/* every exiting thread; no tgid in the event */
	W("sched", "sched_process_exit", .type = KLPT_EV_TASK_EXIT,
	  .task = { .pid = 4321, .comm = "sleep", .from = KLPT_UNDEFINED,
		    .to = KLPT_UNDEFINED, .target = KLPT_UNDEFINED,
		    .patch = "", .func = "" }),
	W("sched", "sched_process_exit", .type = KLPT_EV_TASK_EXIT,
	  .task = { .pid = 4194304, .comm = "abcdefghijklmno",
		    .from = KLPT_UNDEFINED, .to = KLPT_UNDEFINED,
		    .target = KLPT_UNDEFINED, .patch = "", .func = "" }),
	/*
	 * every exec: the pid now, the one before (a non-leader took its
	 * leader's), the comm begin_new_exec() gives ("" for a bare fd)
	 */
	W("sched", "sched_process_exec", .type = KLPT_EV_TASK_EXEC,
	  .task = { .pid = 400, .old_pid = 401, .comm = "abcdefghijklmno" }),
	W("sched", "sched_process_exec", .type = KLPT_EV_TASK_EXEC,
	  .task = { .pid = 402, .old_pid = 402, .comm = "" }),
	/* last: test_without_klp() uses it */
	W("module", "module_load", .type = KLPT_EV_MODULE_LOAD,
	  .module = { .module = "klpt_target_sleep", .caller = "" }),
};

#define NWANTS ((int)(sizeof(wants) / sizeof(wants[0])))

/* Fallback-only events: decoded only with klpt_decoder_set_fallback. */
static struct want fb_wants[] = {
	{ .sys = "module", .name = "module_get", .raw_refcnt = 3,
	  .ev = { .type = KLPT_EV_MODULE_REF,
		  .module = { .module = "klpt_lp_sleep", .get = true,
			      .refcnt = 2, .ip = 0xffffffff8113f427ull,
			      .caller = "" } } },
	{ .sys = "module", .name = "module_put", .raw_refcnt = 1,
	  .ev = { .type = KLPT_EV_MODULE_REF,
		  .module = { .module = "klpt_lp_sleep", .get = false,
			      .refcnt = 0, .ip = 0xffffffff81149416ull,
			      .caller = "" } } },
	W("module", "module_free", .type = KLPT_EV_MODULE_FREE,
	  .module = { .module = "klpt_lp_busy", .caller = "" }),
	/*
	 * task_newtask (klp_task_new stands in for it outside the fallback):
	 * written by creator 4242 (not kthreadd: a user task), tgid 0 for
	 * CLONE_THREAD (the model takes the creator's), state unknown
	 */
	W("task", "task_newtask", .type = KLPT_EV_TASK_NEW,
	  .task = { .pid = 4300, .tgid = 0, .comm = "sh", .ppid = 4242,
		    .kthread = 0, .to = KLPT_STATE_UNKNOWN }),
	W("task", "task_newtask", .type = KLPT_EV_TASK_NEW,
	  .task = { .pid = 4301, .tgid = 4301, .comm = "sh", .ppid = 4242,
		    .kthread = 0, .to = KLPT_STATE_UNKNOWN }),
};

#define NFB ((int)(sizeof(fb_wants) / sizeof(fb_wants[0])))

static void build(struct eb *e, const struct want *w)
{
	const struct klpt_event *ev = &w->ev;

	eb_init(e, event(w->sys, w->name), 4242);
	switch (ev->type) {
	case KLPT_EV_TRANSITION_PASS:
		eb_num(e, "checked", ev->transition.checked);
		/* fall through */
	case KLPT_EV_TRANSITION_SIGNAL:
		eb_num(e, "pass", ev->transition.pass);
		eb_num(e, "pending", ev->transition.pending);
		/* fall through */
	case KLPT_EV_TRANSITION_INIT:
	case KLPT_EV_TRANSITION_START:
	case KLPT_EV_TRANSITION_REVERSE:
	case KLPT_EV_TRANSITION_FORCE:
	case KLPT_EV_TRANSITION_CANCEL:
	case KLPT_EV_TRANSITION_COMPLETE:
		eb_str(e, "patch", ev->transition.patch);
		eb_num(e, "target", ev->transition.target);
		if (ev->type == KLPT_EV_TRANSITION_COMPLETE)
			eb_num(e, "forced", ev->transition.forced);
		break;
	case KLPT_EV_TASK_SWITCH:
	case KLPT_EV_TASK_BLOCKED:
		eb_num(e, "pid", ev->task.pid);
		eb_num(e, "tgid", ev->task.tgid);
		/* a full comm has no NUL in the record: check the first */
		eb_chars(e, "comm", !strcmp(ev->task.comm, "abcdefghijklmno") ?
			 "abcdefghijklmnop" : ev->task.comm);
		if (ev->type == KLPT_EV_TASK_SWITCH) {
			eb_num(e, "from", ev->task.from);
			eb_num(e, "to", ev->task.to);
			eb_num(e, "via", ev->task.via);
			break;
		}
		eb_str(e, "patch", ev->task.patch);
		eb_num(e, "target", ev->task.target);
		eb_num(e, "reason", ev->task.reason);
		eb_num(e, "err", ev->task.err);
		eb_str(e, "func", ev->task.func);
		break;
	case KLPT_EV_MODULE_REF:
		if (!strcmp(w->sys, "module")) {
			eb_str(e, "name", ev->module.module);
			eb_num(e, "refcnt", w->raw_refcnt);
			eb_num(e, "ip", ev->module.ip);
			break;
		}
		eb_str(e, "module", ev->module.module);
		eb_num(e, "op", ev->module.get ? KLP_TRACE_REF_GET :
			   KLP_TRACE_REF_PUT);
		eb_num(e, "refcnt", ev->module.refcnt);
		eb_num(e, "ip", ev->module.ip);
		eb_str(e, "caller", ev->module.caller);
		break;
	case KLPT_EV_PATCH_FREE:
	case KLPT_EV_PATCH_RELEASE:
	case KLPT_EV_PATCH_FORCED:
		eb_str(e, "patch", ev->patch.patch);
		eb_num(e, "forced", ev->patch.forced);
		break;
	case KLPT_EV_TASK_FORK_FAILED:
		eb_num(e, "pid", ev->task.pid);
		eb_num(e, "tgid", ev->task.tgid);
		eb_chars(e, "comm", !strcmp(ev->task.comm, "abcdefghijklmno") ?
			 "abcdefghijklmnop" : ev->task.comm);
		eb_num(e, "err", ev->task.err);
		break;
	case KLPT_EV_TASK_NEW:
		eb_num(e, "pid", ev->task.pid);
		eb_chars(e, "comm", !strcmp(ev->task.comm, "abcdefghijklmno") ?
			 "abcdefghijklmnop" : ev->task.comm);
		if (!strcmp(w->sys, "task")) {
			/* CLONE_THREAD when the creator's tgid is wanted */
			eb_num(e, "clone_flags", ev->task.tgid ? 0x11 :
			       0x3d0f00);
			break;
		}
		eb_num(e, "tgid", ev->task.tgid);
		eb_num(e, "state", ev->task.to);
		eb_num(e, "kthread", ev->task.kthread);
		break;
	case KLPT_EV_TASK_RENAME:
		eb_num(e, "pid", ev->task.pid);
		eb_chars(e, "oldcomm", "kthreadd");
		eb_chars(e, "newcomm", ev->task.comm);
		break;
	case KLPT_EV_TASK_EXEC:
		eb_str(e, "filename", ev->task.comm[0] ?
		       "/usr/lib/abcdefghijklmnopq" : "/dev/fd/3");
		eb_num(e, "pid", ev->task.pid);
		eb_num(e, "old_pid", ev->task.old_pid);
		break;
	case KLPT_EV_TASK_EXIT:
		eb_chars(e, "comm", !strcmp(ev->task.comm, "abcdefghijklmno") ?
			 "abcdefghijklmnop" : ev->task.comm);
		eb_num(e, "pid", ev->task.pid);
		eb_num(e, "prio", 120);
		break;
	case KLPT_EV_MODULE_UNLOAD_READY:
	case KLPT_EV_MODULE_FREE:
	case KLPT_EV_MODULE_LOAD:
		if (!strcmp(w->sys, "module")) {
			eb_str(e, "name", ev->module.module);
			if (ev->type == KLPT_EV_MODULE_LOAD)
				eb_num(e, "taints", 0x3001);
		} else {
			eb_str(e, "module", ev->module.module);
		}
		break;
	default:
		abort();
	}
}

/* Which task a task event is about: pid, tgid and comm. */
static void same_task(const struct klpt_event *got, const struct klpt_event *w)
{
	CHECK_INT(got->task.pid, w->task.pid);
	CHECK_INT(got->task.tgid, w->task.tgid);
	CHECK_STR(got->task.comm, w->task.comm);
}

/* A task event no transition is behind: none of a switch's fields set. */
static void no_transition(const struct klpt_event *got)
{
	CHECK_INT(got->task.from, KLPT_UNDEFINED);
	CHECK_INT(got->task.to, KLPT_UNDEFINED);
	CHECK_INT(got->task.target, KLPT_UNDEFINED);
	CHECK_STR(got->task.patch, "");
	CHECK_STR(got->task.func, "");
}

/* Every field the event type has, compared. */
static void same(const struct klpt_event *got, const struct klpt_event *w,
		 int i)
{
	CHECK(got->type == w->type, "#%d: type %d, want %d", i, got->type,
	      w->type);
	CHECK(got->ts == w->ts, "#%d: ts %llu, want %llu", i,
	      (unsigned long long)got->ts, (unsigned long long)w->ts);
	CHECK(got->cpu == w->cpu, "#%d: cpu %d, want %d", i, got->cpu,
	      w->cpu);
	switch (w->type) {
	case KLPT_EV_TRANSITION_INIT:
	case KLPT_EV_TRANSITION_START:
	case KLPT_EV_TRANSITION_REVERSE:
	case KLPT_EV_TRANSITION_PASS:
	case KLPT_EV_TRANSITION_SIGNAL:
	case KLPT_EV_TRANSITION_FORCE:
	case KLPT_EV_TRANSITION_CANCEL:
	case KLPT_EV_TRANSITION_COMPLETE:
		CHECK_STR(got->transition.patch, w->transition.patch);
		CHECK_INT(got->transition.target, w->transition.target);
		CHECK_INT(got->transition.pass, w->transition.pass);
		CHECK_INT(got->transition.checked, w->transition.checked);
		CHECK_INT(got->transition.pending, w->transition.pending);
		CHECK_INT(got->transition.forced, w->transition.forced);
		break;
	case KLPT_EV_TASK_SWITCH:
	case KLPT_EV_TASK_BLOCKED:
		same_task(got, w);
		if (w->type == KLPT_EV_TASK_SWITCH) {
			CHECK_INT(got->task.from, w->task.from);
			CHECK_INT(got->task.to, w->task.to);
			CHECK_INT(got->task.via, w->task.via);
			CHECK_STR(got->task.patch, "");
			CHECK_STR(got->task.func, "");
			break;
		}
		CHECK_STR(got->task.patch, w->task.patch);
		CHECK_INT(got->task.target, w->task.target);
		CHECK_INT(got->task.reason, w->task.reason);
		CHECK_INT(got->task.err, w->task.err);
		CHECK_STR(got->task.func, w->task.func);
		break;
	case KLPT_EV_MODULE_REF:
	case KLPT_EV_MODULE_UNLOAD_READY:
	case KLPT_EV_MODULE_FREE:
	case KLPT_EV_MODULE_LOAD:
		CHECK_STR(got->module.module, w->module.module);
		CHECK_INT(got->module.get, w->module.get);
		CHECK_INT(got->module.refcnt, w->module.refcnt);
		CHECK(got->module.ip == w->module.ip, "#%d: ip %llx", i,
		      (unsigned long long)got->module.ip);
		CHECK_STR(got->module.caller, w->module.caller);
		break;
	case KLPT_EV_PATCH_FREE:
	case KLPT_EV_PATCH_RELEASE:
	case KLPT_EV_PATCH_FORCED:
		CHECK_STR(got->patch.patch, w->patch.patch);
		CHECK_INT(got->patch.forced, w->patch.forced);
		break;
	case KLPT_EV_TASK_FORK_FAILED:
		same_task(got, w);
		CHECK_INT(got->task.err, w->task.err);
		no_transition(got);
		break;
	case KLPT_EV_TASK_NEW:
		same_task(got, w);
		CHECK_INT(got->task.to, w->task.to);
		CHECK_INT(got->task.kthread, w->task.kthread);
		CHECK_INT(got->task.ppid, w->task.ppid);
		CHECK_STR(got->task.patch, "");
		break;
	case KLPT_EV_TASK_RENAME:
		CHECK_INT(got->task.pid, w->task.pid);
		CHECK_STR(got->task.comm, w->task.comm);
		break;
	case KLPT_EV_TASK_EXEC:
		CHECK_INT(got->task.pid, w->task.pid);
		CHECK_INT(got->task.old_pid, w->task.old_pid);
		CHECK_STR(got->task.comm, w->task.comm);
		break;
	case KLPT_EV_TASK_EXIT:
		CHECK_INT(got->task.pid, w->task.pid);
		CHECK_INT(got->task.tgid, 0);
		CHECK_STR(got->task.comm, w->task.comm);
		no_transition(got);
		break;
	default:
		CHECK(0, "#%d: unexpected type %d", i, w->type);
	}
}

/*
 * Lay wants out on two CPUs (even index on cpu0, odd on cpu1) with
 * timestamps 1 s apart (so every event needs a time extend), 5 events a
 * page, and cpu1's second page saying 7 events were lost before it.
 * Returns the merge, loaded.
 */
struct layout {
	struct klpt_merge *m;
	struct pb p[2];
	int per[2], pages[2];
};

static void flush(struct layout *l, int c)
{
	if (!l->per[c])
		return;
	pb_finish(&l->p[c], c == 1 && l->pages[c] == 2 ? 7 : 0);
	CHECK_INT(klpt_merge_push(l->m, c, l->p[c].buf, pb_len(&l->p[c])), 0);
	l->per[c] = 0;
}

static struct klpt_merge *pages_of(struct want *w, int n, uint64_t t0)
{
	static struct layout l;
	int i, c;

	memset(&l, 0, sizeof(l));
	l.m = klpt_merge_new(tep, 2);
	for (i = 0; i < n; i++) {
		struct eb e;

		c = i % 2;
		w[i].ev.ts = t0 + (uint64_t)i * 1000000007ull;
		w[i].ev.cpu = c;
		build(&e, &w[i]);
		if (l.per[c] == 5)
			flush(&l, c);
		if (!l.per[c]) {
			pb_init(&l.p[c], w[i].ev.ts);
			l.pages[c]++;
		}
		CHECK_INT(pb_add(&l.p[c], w[i].ev.ts, e.buf, e.len), 0);
		l.per[c]++;
	}
	flush(&l, 0);
	flush(&l, 1);
	return l.m;
}

static void test_every_event(void)
{
	struct klpt_decoder *d = klpt_decoder_new(tep);
	struct klpt_merge *m = pages_of(wants, NWANTS, 3000000000ull);
	struct tep_record *r;
	struct klpt_event ev;
	uint64_t lost, lost_total = 0;
	int i = 0, ret, lost_at = -1;

	CHECK(d && klpt_decoder_has_klp(d), "no klp events in the fixture");
	while ((r = klpt_merge_next(m, &lost))) {
		if (lost) {
			lost_total += lost;
			lost_at = i;
		}
		ret = klpt_decode(d, r, &ev);
		CHECK(ret == 1, "#%d (%s): decode returned %d", i,
		      i < NWANTS ? wants[i].name : "?", ret);
		if (ret == 1 && i < NWANTS)
			same(&ev, &wants[i].ev, i);
		i++;
	}
	CHECK_INT(i, NWANTS);
	/* the missed-events page is cpu1's second: wants[11] starts it */
	CHECK_INT(lost_total, 7);
	CHECK_INT(lost_at, 11);
	klpt_merge_free(m);
	klpt_decoder_free(d);
}

/* module:* refs and frees only in the fallback; klp_module_* only not. */
static void test_fallback(void)
{
	struct klpt_decoder *d = klpt_decoder_new(tep);
	struct klpt_merge *m = pages_of(fb_wants, NFB, 100);
	struct klpt_event ev;
	struct tep_record *r;
	struct eb e;
	int i = 0;

	klpt_decoder_set_fallback(d, true);
	while ((r = klpt_merge_next(m, NULL))) {
		CHECK_INT(klpt_decode(d, r, &ev), 1);
		same(&ev, &fb_wants[i].ev, i);
		/* and ignored outside the fallback */
		klpt_decoder_set_fallback(d, false);
		memset(&ev, 0x5a, sizeof(ev));
		CHECK_INT(klpt_decode(d, r, &ev), 0);
		CHECK(((unsigned char *)&ev)[0] == 0x5a, "ev touched");
		klpt_decoder_set_fallback(d, true);
		i++;
	}
	CHECK_INT(i, NFB);
	klpt_merge_free(m);

	/* klp_module_ref / klp_module_free: not in the fallback */
	for (i = 0; i < NWANTS; i++) {
		struct tep_record rec = { 0 };

		if (strcmp(wants[i].name, "klp_module_ref") &&
		    strcmp(wants[i].name, "klp_module_free") &&
		    strcmp(wants[i].name, "klp_task_switch") &&
		    strcmp(wants[i].name, "sched_process_exit") &&
		    strcmp(wants[i].name, "module_load"))
			continue;
		build(&e, &wants[i]);
		rec.data = e.buf;
		rec.size = e.len;
		klpt_decoder_set_fallback(d, true);
		CHECK_INT(klpt_decode(d, &rec, &ev),
			  strstr(wants[i].name, "klp_module_") ? 0 : 1);
		klpt_decoder_set_fallback(d, false);
		CHECK_INT(klpt_decode(d, &rec, &ev), 1);
	}
	klpt_decoder_free(d);
}

static int decode_raw(struct klpt_decoder *d, struct eb *e, size_t size,
		      struct klpt_event *ev)
{
	struct tep_record rec = { .data = e->buf, .size = (int)size };

	return klpt_decode(d, &rec, ev);
}

static void test_malformed(void)
{
	struct klpt_decoder *d = klpt_decoder_new(tep);
	struct tep_format_field *f;
	struct klpt_event ev;
	struct eb e;
	uint32_t loc;

	/* too short for its fixed fields, or even for common_type */
	build(&e, &wants[11]);		/* klp_task_blocked */
	CHECK_INT(decode_raw(d, &e, e.len, &ev), 1);
	CHECK_INT(decode_raw(d, &e, 40, &ev), -EBADMSG);
	CHECK_INT(errno, EBADMSG);
	CHECK_INT(decode_raw(d, &e, 1, &ev), -EBADMSG);
	CHECK_INT(decode_raw(d, &e, 0, &ev), -EBADMSG);
	/* strings cut off by the record's end */
	CHECK_INT(decode_raw(d, &e, e.len - 10, &ev), -EBADMSG);

	/* a __data_loc pointing past the record */
	f = tep_find_field(e.ev, "patch");
	memcpy(&loc, e.buf + f->offset, 4);
	loc = (loc & 0xffff0000u) | 0xfff0;
	memcpy(e.buf + f->offset, &loc, 4);
	CHECK_INT(decode_raw(d, &e, e.len, &ev), -EBADMSG);
	/* ... with length 0: an empty string */
	loc = 0xfff0;
	memcpy(e.buf + f->offset, &loc, 4);
	CHECK_INT(decode_raw(d, &e, e.len, &ev), 1);
	CHECK_STR(ev.task.patch, "");
	/* a string without its NUL */
	build(&e, &wants[1]);		/* klp_transition_start */
	f = tep_find_field(e.ev, "patch");
	memcpy(&loc, e.buf + f->offset, 4);
	loc -= 1u << 16;		/* "klpt_lp_sleep" without the NUL */
	memcpy(e.buf + f->offset, &loc, 4);
	CHECK_INT(decode_raw(d, &e, e.len, &ev), -EBADMSG);

	/* codes outside the ABI */
	build(&e, &wants[1]);
	eb_num(&e, "target", 2);
	CHECK_INT(decode_raw(d, &e, e.len, &ev), -EBADMSG);
	build(&e, &wants[8]);		/* klp_task_switch */
	eb_num(&e, "from", -2);
	CHECK_INT(decode_raw(d, &e, e.len, &ev), -EBADMSG);
	build(&e, &wants[8]);
	eb_num(&e, "via", 9);		/* a newer via: kept, as unknown */
	CHECK_INT(decode_raw(d, &e, e.len, &ev), 1);
	CHECK_INT(ev.task.via, KLPT_VIA_UNKNOWN);
	build(&e, &wants[12]);		/* klp_task_blocked */
	eb_num(&e, "reason", 200);
	CHECK_INT(decode_raw(d, &e, e.len, &ev), 1);
	CHECK_INT(ev.task.reason, KLPT_REASON_OTHER);
	build(&e, &wants[12]);
	eb_num(&e, "reason", 5);	/* a summarized pass's pending task */
	CHECK_INT(decode_raw(d, &e, e.len, &ev), 1);
	CHECK_INT(ev.task.reason, KLPT_REASON_UNKNOWN);
	build(&e, &wants[14]);		/* klp_module_ref */
	eb_num(&e, "op", 3);
	CHECK_INT(decode_raw(d, &e, e.len, &ev), -EBADMSG);
	/* sched_process_exit cut before its pid */
	build(&e, &wants[NWANTS - 5]);
	CHECK_STR(e.ev->name, "sched_process_exit");
	CHECK_INT(decode_raw(d, &e, e.len, &ev), 1);
	CHECK_INT(decode_raw(d, &e, 26, &ev), -EBADMSG);

	/* not ours: untouched, 0 */
	eb_init(&e, event("ftrace", "print"), 1);
	memset(&ev, 0x5a, sizeof(ev));
	CHECK_INT(decode_raw(d, &e, e.len, &ev), 0);
	CHECK(((unsigned char *)&ev)[0] == 0x5a, "ev touched");
	memcpy(e.buf, &(uint16_t){ 65535 }, 2);	/* an id nobody has */
	CHECK_INT(decode_raw(d, &e, e.len, &ev), 0);

	CHECK_INT(klpt_decode(d, NULL, &ev), -EINVAL);
	CHECK_INT(klpt_decode(NULL, NULL, &ev), -EINVAL);
	klpt_decoder_free(d);
	klpt_decoder_free(NULL);
}

/* A tep without klptrace.ko's events (the fallback's case), or empty. */
static void test_without_klp(void)
{
	struct tep_handle *t2 = tep_alloc();
	struct klpt_decoder *d;
	struct klpt_event ev;
	struct eb e;
	char *buf;
	size_t len;

	buf = slurp_file(fixture("formats/events/module/module_load/format"),
			 &len);
	CHECK(buf != NULL, "no module_load format");
	if (buf)
		tep_parse_event(t2, buf, len, "module");
	free(buf);
	d = klpt_decoder_new(t2);
	CHECK(d && !klpt_decoder_has_klp(d), "has klp");
	build(&e, &wants[NWANTS - 1]);	/* module_load, same id */
	CHECK_INT(decode_raw(d, &e, e.len, &ev), 1);
	CHECK_STR(ev.module.module, "klpt_target_sleep");
	build(&e, &wants[0]);
	CHECK_INT(decode_raw(d, &e, e.len, &ev), 0);
	klpt_decoder_free(d);
	tep_free(t2);

	t2 = tep_alloc();
	d = klpt_decoder_new(t2);
	CHECK(d && !klpt_decoder_has_klp(d), "empty tep");
	CHECK_INT(decode_raw(d, &e, e.len, &ev), 0);
	klpt_decoder_free(d);
	tep_free(t2);
	CHECK(klpt_decoder_new(NULL) == NULL, "decoder without tep");
}

static void test_type_names(void)
{
	int t;

	for (t = 0; t < KLPT_EV__COUNT; t++)
		CHECK(klpt_event_type_name(t) != NULL, "no name for %d", t);
	CHECK_STR(klpt_event_type_name(KLPT_EV_TASK_BLOCKED),
		  "klp_task_blocked");
	CHECK(klpt_event_type_name(KLPT_EV__COUNT) == NULL, "past the end");
	CHECK(klpt_event_type_name(-1) == NULL, "negative");
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * For information: decode alone over the real mix of record types, and
 * merge + decode from pages.  Not a pass/fail criterion (sanitizers and
 * valgrind are slow), except that it must not be absurdly slow plain.
 */
static void test_speed(void)
{
	enum { NREC = NWANTS, LOOPS = 20000 };
	struct klpt_decoder *d = klpt_decoder_new(tep);
	static struct eb recs[NWANTS];
	struct tep_record rec[NREC];
	struct klpt_event ev;
	double t0, dt;
	long n = 0;
	int i, j;

	for (i = 0; i < NREC; i++) {
		build(&recs[i], &wants[i]);
		rec[i] = (struct tep_record){ .data = recs[i].buf,
					      .size = (int)recs[i].len };
	}
	t0 = now();
	for (j = 0; j < LOOPS; j++)
		for (i = 0; i < NREC; i++)
			n += klpt_decode(d, &rec[i], &ev);
	dt = now() - t0;
	CHECK_INT(n, (long)LOOPS * NREC);
	printf("  decode: %.1f M events/s (%.0f ns/event)\n",
	       n / dt / 1e6, dt / n * 1e9);

	/* the same records in full pages of two CPUs, 1 us apart */
	{
		static struct pb pages[64];
		uint64_t ts = 1000;
		int np = 0, k;

		for (k = 0; k < 2; k++) {
			pb_init(&pages[np], ts);
			for (i = 0;; i = (i + 1) % NREC, ts += 1000)
				if (pb_add(&pages[np], ts, recs[i].buf,
					   recs[i].len))
					break;
			pb_finish(&pages[np], 0);
			np++;
		}
		n = 0;
		t0 = now();
		for (j = 0; j < LOOPS / 4; j++) {
			struct klpt_merge *m = klpt_merge_new(tep, 2);
			struct tep_record *r;

			for (k = 0; k < np; k++)
				klpt_merge_push(m, k, pages[k].buf, PB_PAGE);
			while ((r = klpt_merge_next(m, NULL)))
				n += klpt_decode(d, r, &ev);
			klpt_merge_free(m);
		}
		dt = now() - t0;
		printf("  push pages + merge + decode: %.1f M events/s\n",
		       n / dt / 1e6);
	}
	klpt_decoder_free(d);
}

int main(void)
{
	memset(long_patch, 'p', sizeof(long_patch) - 1);
	memcpy(long_patch, "klpt_lp_", 8);
	memset(long_func, 'f', sizeof(long_func) - 1);
	tep = load_formats(fixture("formats"));
	if (!tep) {
		fprintf(stderr, "no fixtures at %s\n", fixture("formats"));
		return 1;
	}
	RUN(test_every_event);
	RUN(test_fallback);
	RUN(test_malformed);
	RUN(test_without_klp);
	RUN(test_type_names);
	RUN(test_speed);
	tep_free(tep);
	return check_summary();
}
