// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One frame's content, taken from the library's model at once so that
 * every output (screen, batch text, JSON) shows the same thing: the
 * patches with their transition progress and unload verdict, and the
 * tasks that hold the patch in transition.
 *
 * A blocker is a task not yet in the transition's target state: the
 * kernel runs one transition at a time, so only that patch has any.
 * Tasks never checked yet (reason NONE) are blockers too, listed after
 * the checked ones by the default sort: they are the ones the next pass
 * will most likely switch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "klptop.h"

/* Each reason as the batch text, JSON and the screen's column name it. */
static const struct {
	const char *text, *key, *column;
} reasons[] = {
	[KLPT_REASON_NONE] = { "not checked yet", "unchecked", "unchecked" },
	[KLPT_REASON_RUNNING] = { "running", "running", "running" },
	[KLPT_REASON_UNRELIABLE_STACK] = { "unreliable stack",
					   "unreliable_stack", "unreliable" },
	[KLPT_REASON_SLEEPING_IN_FUNC] = { "sleeping in", "sleeping_in_func",
					   "sleeping" },
	[KLPT_REASON_OTHER] = { "check failed", "other", "failed" },
	[KLPT_REASON_UNKNOWN] = { "pending, cause not seen", "unknown",
				  "pending" },
};

static bool reason_ok(int reason)
{
	return reason >= 0 &&
	       reason < (int)(sizeof(reasons) / sizeof(*reasons));
}

const char *top_reason_text(int reason)
{
	return reason_ok(reason) ? reasons[reason].text : "?";
}

const char *top_reason_key(int reason)
{
	return reason_ok(reason) ? reasons[reason].key : "?";
}

const char *top_reason_column(int reason)
{
	return reason_ok(reason) ? reasons[reason].column : "?";
}

const char *top_mode_name(enum klpt_mode m)
{
	switch (m) {
	case KLPT_MODE_EVENTS:
		return "events";
	case KLPT_MODE_FALLBACK:
		return "fallback";
	case KLPT_MODE_REPLAY:
		return "replay";
	}
	return "?";
}

const char *top_source_name(const struct top_view *v)
{
	switch (v->mode) {
	case KLPT_MODE_EVENTS:
		return v->native ? "native" : "klptrace.ko";
	case KLPT_MODE_FALLBACK:
		return "fallback";
	case KLPT_MODE_REPLAY:
		break;
	}
	return NULL;
}

const char *top_state_name(int state)
{
	switch (state) {
	case KLPT_STATE_UNKNOWN:
		return "unknown";
	case KLPT_PATCHED:
		return "patched";
	case KLPT_UNPATCHED:
		return "unpatched";
	case KLPT_UNDEFINED:
		return "undefined";
	}
	return "?";
}

/*
 * The STATE column: the direction, "pre-" before klp_start_transition()
 * (the pre_patch/pre_unpatch callbacks run; no task pending yet), "?"
 * when even the direction is unknown (see klpt_patch_phase()).
 */
const char *top_direction(const struct top_patch *p)
{
	if (!p->transition)
		return "-";
	if (p->phase == KLPT_PHASE_UNKNOWN || (p->target != KLPT_PATCHED &&
					       p->target != KLPT_UNPATCHED))
		return "?";
	if (p->phase == KLPT_PHASE_INIT)
		return p->target == KLPT_PATCHED ? "pre-patch" : "pre-unpatch";
	return p->target == KLPT_PATCHED ? "patching" : "unpatching";
}

const char *top_fmt_count(char *buf, size_t size, unsigned int n)
{
	if (n == KLPT_UNKNOWN_COUNT)
		snprintf(buf, size, "?");
	else
		snprintf(buf, size, "%u", n);
	return buf;
}

const char *top_kthread_flag(int kthread)
{
	return kthread > 0 ? "K" : kthread == 0 ? "-" : "?";
}

void top_fmt_elapsed(char *buf, size_t size, const struct top_patch *p)
{
	if (p->elapsed_ns)
		top_fmt_duration(buf, size, p->elapsed_ns);
	else
		snprintf(buf, size, "%s", p->transition ? "?" : "-");
}

const char *top_fmt_blocked(char *buf, size_t size,
			    const struct top_blocker *b)
{
	char d[16];

	if (b->first_blocked_ns) {
		top_fmt_duration(d, sizeof(d), b->blocked_ns);
		/* refused earlier than the session saw: at least that long */
		snprintf(buf, size, "%s%s", b->checks_known ? "" : ">=", d);
	} else {
		snprintf(buf, size, "%s", b->checks_known ? "-" : "?");
	}
	return buf;
}

const char *top_fmt_checks(char *buf, size_t size,
			   const struct top_blocker *b)
{
	if (b->checks_known)
		snprintf(buf, size, "%u", b->checks);
	else if (b->checks)
		snprintf(buf, size, ">=%u", b->checks);
	else
		snprintf(buf, size, "?");
	return buf;
}

const char *top_fmt_switched(char *buf, size_t size,
			     const struct top_patch *p)
{
	if (!p->transition || !p->total)
		snprintf(buf, size, "-");
	else if (p->phase == KLPT_PHASE_UNKNOWN)
		/* the direction is unknown: so is who switched */
		snprintf(buf, size, "?/%u", p->total);
	else
		snprintf(buf, size, "%s%u/%u", p->unknown ? ">=" : "",
			 p->switched, p->total);
	return buf;
}

const char *top_fmt_refcnt(char *buf, size_t size, const struct top_patch *p)
{
	if (p->refcnt >= 0)
		snprintf(buf, size, "%d", p->refcnt);
	else
		snprintf(buf, size, "%s", p->module_loaded ? "?" : "-");
	return buf;
}

const char *top_forced_flag(const struct top_patch *p)
{
	return !p->forced_known ? "?" : p->forced ? "Y" : "-";
}

const char *top_forced_word(const struct top_patch *p)
{
	return !p->forced_known ? "?" : p->forced ? "yes" : "no";
}

void top_fmt_duration(char *buf, size_t size, uint64_t ns)
{
	uint64_t s = ns / 1000000000u;

	if (s < 100)
		snprintf(buf, size, "%.1fs", (double)ns / 1e9);
	else if (s < 3600)
		snprintf(buf, size, "%um%02us", (unsigned int)(s / 60),
			 (unsigned int)(s % 60));
	else if (s < 100 * 3600)
		snprintf(buf, size, "%uh%02um", (unsigned int)(s / 3600),
			 (unsigned int)(s / 60 % 60));
	else
		snprintf(buf, size, "%ud", (unsigned int)(s / 86400));
}

/*
 * Why a disable failed with EBUSY (raw: the caller escapes it).  6.1 enabled_store() ->
 * __klp_disable_patch() refuses while another patch is in transition
 * (klp_transition_patch): the kernel runs one transition at a time.  It
 * has no rule on stack order: once none runs, any enabled patch can be
 * disabled, the top one of its functions' stacks or not.
 */
bool top_busy_patch(struct klpt_session *s, char *buf, size_t size)
{
	int i, n = klpt_patch_count(s);

	for (i = 0; i < n; i++) {
		const struct klpt_patch *q = klpt_patch_at(s, i);

		if (klpt_patch_in_transition(q)) {
			snprintf(buf, size, "%s", klpt_patch_name(q));
			return true;
		}
	}
	return false;
}

const char *top_busy_text(char *buf, size_t size, struct klpt_session *s)
{
	char other[256];

	if (!top_busy_patch(s, other, sizeof(other)))
		snprintf(other, sizeof(other), "another patch");
	snprintf(buf, size, "%s is in transition (the kernel runs one at a "
		 "time: EBUSY); wait until it completes, or reverse it", other);
	return buf;
}

/* ----------------------------------------------------------- sorting */

struct sort_ctx {
	enum top_sort key;
	bool reverse;
};

/* qsort has no context argument: one sort at a time (single thread). */
static struct sort_ctx sort_by;

static int cmp_int(long long a, long long b)
{
	return a < b ? -1 : a > b;
}

/* The order by sort_by.key, unreversed (the pid and comm break ties). */
static int cmp_order(const struct top_blocker *a, const struct top_blocker *b)
{
	int c = 0;

	switch (sort_by.key) {
	case TOP_SORT_BLOCKED:
		/* longest first; never checked last */
		c = cmp_int(b->blocked_ns, a->blocked_ns);
		if (!c)
			c = cmp_int(b->checks, a->checks);
		break;
	case TOP_SORT_PID:
		c = cmp_int(a->tgid, b->tgid);
		break;
	case TOP_SORT_TID:
		break;
	case TOP_SORT_COMM:
		c = strcmp(a->comm, b->comm);
		break;
	case TOP_SORT_FUNCTION:
		c = strcmp(a->func, b->func);
		break;
	case TOP_SORT_CHECKS:
		c = cmp_int(b->checks, a->checks);
		break;
	case TOP_SORT_REASON:
		/* the ones with a reason first, then by function */
		c = cmp_int(a->reason == KLPT_REASON_NONE,
			    b->reason == KLPT_REASON_NONE);
		if (!c)
			c = cmp_int(a->reason, b->reason);
		if (!c)
			c = strcmp(a->func, b->func);
		break;
	default:
		break;
	}
	/* stable while the user navigates: the pid breaks every tie */
	if (!c)
		c = cmp_int(a->pid, b->pid);
	if (!c)
		c = strcmp(a->comm, b->comm);
	return c;
}

static int cmp_blocker(const void *pa, const void *pb)
{
	int c = cmp_order(pa, pb);

	return sort_by.reverse ? -c : c;
}

char top_sort_marker(enum top_sort s, bool reverse)
{
	/* cmp_blocker()'s own order: these two put the largest first */
	bool down = s == TOP_SORT_BLOCKED || s == TOP_SORT_CHECKS;

	return down != reverse ? 'v' : '^';
}

static int cmp_patch(const void *pa, const void *pb)
{
	const struct top_patch *a = pa, *b = pb;

	/* the one in transition first, then by name */
	if (a->transition != b->transition)
		return a->transition ? -1 : 1;
	return strcmp(a->name, b->name);
}

/*
 * A frame sorts every blocker (10k of them at 100k threads): qsort() of
 * the rows, calling cmp_blocker() through a pointer and chasing into
 * 136-byte rows, was the most of a --json view's build.  Instead each
 * row gets a compact key, two integers that order the rows as
 * cmp_order() does as far as they go (cmp_order() itself settles their
 * ties), sorted with the rows' index, then the rows are moved once.
 * The merge sort takes the runs already in order as they are: the
 * model's order of the tasks changes little between frames, nor does
 * the blockers' by the default sort, so that a frame is mostly one
 * pass.  The index makes it stable, as glibc's qsort() (a merge sort)
 * was: rows equal for cmp_order() keep the model's order, reversed or
 * not.
 */
struct sort_key {
	uint64_t k1, k2;
	uint32_t i;		/* the row's index */
};

/* x as cmp_int() orders it: ascending, or descending */
static uint64_t up(long long x)
{
	return (uint64_t)x ^ (1ull << 63);
}

static uint64_t up32(int x)
{
	return (uint32_t)x ^ (1u << 31);
}

/* The first 8 bytes of a NUL-padded name, as strcmp() orders them. */
static uint64_t name8(const char *s)
{
	uint64_t k = 0;
	int i;

	for (i = 0; i < 8 && s[i]; i++)
		k |= (uint64_t)(unsigned char)s[i] << (56 - 8 * i);
	return k;
}

static void key_of(struct sort_key *k, const struct top_blocker *b)
{
	k->k1 = k->k2 = 0;
	switch (sort_by.key) {
	case TOP_SORT_BLOCKED:
		k->k1 = ~up((long long)b->blocked_ns);
		k->k2 = (uint64_t)~b->checks << 32 | up32(b->pid);
		break;
	case TOP_SORT_PID:
		k->k1 = up32(b->tgid) << 32 | up32(b->pid);
		break;
	case TOP_SORT_TID:
		k->k1 = up32(b->pid) << 32;
		break;
	case TOP_SORT_COMM:
		k->k1 = name8(b->comm);
		break;
	case TOP_SORT_FUNCTION:
		k->k1 = name8(b->func);
		break;
	case TOP_SORT_CHECKS:
		k->k1 = (uint64_t)~b->checks << 32 | up32(b->pid);
		break;
	case TOP_SORT_REASON:
		k->k1 = (uint64_t)(b->reason == KLPT_REASON_NONE) << 32 |
			up32(b->reason);
		k->k2 = name8(b->func);
		break;
	default:
		k->k1 = up32(b->pid) << 32;
		break;
	}
}

/* < 0 if a goes before b: cmp_blocker()'s order, then the index. */
static int cmp_key(const struct sort_key *a, const struct sort_key *b,
		   const struct top_blocker *rows)
{
	int c;

	if (a->k1 != b->k1)
		c = a->k1 < b->k1 ? -1 : 1;
	else if (a->k2 != b->k2)
		c = a->k2 < b->k2 ? -1 : 1;
	else
		c = cmp_order(&rows[a->i], &rows[b->i]);
	if (sort_by.reverse)
		c = -c;
	return c ? c : a->i < b->i ? -1 : 1;
}

/* a[lo..mid) and a[mid..hi), each in order, into t[lo..hi). */
static void merge(const struct sort_key *a, struct sort_key *t, size_t lo,
		  size_t mid, size_t hi, const struct top_blocker *rows)
{
	size_t i = lo, j = mid, o = lo;

	while (i < mid && j < hi)
		t[o++] = cmp_key(&a[j], &a[i], rows) < 0 ? a[j++] : a[i++];
	while (i < mid)
		t[o++] = a[i++];
	while (j < hi)
		t[o++] = a[j++];
}

/*
 * The rows in cmp_blocker()'s order; -ENOMEM (the rows as they were) if
 * the keys find no room.
 */
static int sort_rows(struct top_blocker *rows, int n)
{
	struct sort_key *keys, *a, *t, *sw;
	size_t *run, nrun = 0, i, r, m;
	int ret = -ENOMEM;

	/* already in order (the model's often is the default sort's): as it is */
	for (i = 1; i < (size_t)n && cmp_blocker(&rows[i - 1], &rows[i]) <= 0;
	     i++)
		;
	if (i >= (size_t)n)
		return 0;
	keys = malloc(2 * (size_t)n * sizeof(*keys));
	run = malloc(((size_t)n + 1) * sizeof(*run));
	if (!keys || !run)
		goto out;
	a = keys;
	t = keys + n;
	for (i = 0; i < (size_t)n; i++) {
		key_of(&a[i], &rows[i]);
		a[i].i = (uint32_t)i;
	}
	/* the runs in order: run[r] their starts, run[nrun] the end */
	for (i = 0; i < (size_t)n; i++)
		if (!i || cmp_key(&a[i - 1], &a[i], rows) > 0)
			run[nrun++] = i;
	run[nrun] = (size_t)n;
	/* merged two by two until one is left */
	while (nrun > 1) {
		for (r = 0, m = 0; r < nrun; r += 2, m++) {
			if (r + 1 < nrun)
				merge(a, t, run[r], run[r + 1], run[r + 2], rows);
			else
				memcpy(t + run[r], a + run[r],
				       (run[r + 1] - run[r]) * sizeof(*a));
			run[m] = run[r];
		}
		run[m] = (size_t)n;
		nrun = m;
		sw = a, a = t, t = sw;
	}
	/*
	 * The rows moved into place, one cycle of the permutation at a
	 * time (no second copy of the rows): a[k].i is the row that goes
	 * to k; a placed row's entry is set to itself.
	 */
	for (i = 0; i < (size_t)n; i++) {
		struct top_blocker tmp;
		size_t k = i;

		if (a[i].i == i)
			continue;
		tmp = rows[i];
		while (a[k].i != i) {
			size_t from = a[k].i;

			rows[k] = rows[from];
			a[k].i = (uint32_t)k;
			k = from;
		}
		rows[k] = tmp;
		a[k].i = (uint32_t)k;
	}
	ret = 0;
out:
	free(keys);
	free(run);
	return ret;
}

/* ------------------------------------------------------------ building */

static bool matches(const struct top_blocker *b, const char *filter)
{
	char pid[16];

	if (!filter || !*filter)
		return true;
	snprintf(pid, sizeof(pid), "%d", b->pid);
	return strstr(b->comm, filter) || strstr(b->func, filter) ||
	       !strcmp(pid, filter);
}

/*
 * src into dst (size bytes), cut to fit without half a character: a
 * frame copies 10k names, which snprintf() made half of a view's time.
 */
static void copy_name(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
	if (src[n])
		top_utf8_cut(dst, size);
}

void top_blocker_fill(struct top_blocker *b, const struct klpt_task *t,
		      uint64_t now)
{
	const char *func = klpt_task_func(t);

	memset(b, 0, sizeof(*b));
	b->pid = klpt_task_pid(t);
	b->tgid = klpt_task_tgid(t);
	copy_name(b->comm, sizeof(b->comm), klpt_task_comm(t));
	b->kthread = klpt_task_kthread(t);
	b->state = klpt_task_state(t);
	b->reason = klpt_task_reason(t);
	copy_name(b->func, sizeof(b->func), func ? func : "");
	b->first_blocked_ns = klpt_task_first_blocked_ns(t);
	if (b->first_blocked_ns && now > b->first_blocked_ns)
		b->blocked_ns = now - b->first_blocked_ns;
	b->checks = klpt_task_checks(t);
	b->checks_known = klpt_task_checks_exact(t);
}

/*
 * keep > 0: p->blockers holds the first keep so far by the sort
 * (sort_by).  Whether t enters, its row filled into b if it does.  By
 * the default sort (blocked, checks, pid) the key is read without the
 * row, so that a task that does not enter is not copied (its comm and
 * function): most of 10k do not.
 */
static bool enters_top(const struct top_patch *p, int keep,
		       const struct klpt_task *t, uint64_t now,
		       struct top_blocker *b)
{
	bool full = p->nblockers == keep;

	if (full && sort_by.key == TOP_SORT_BLOCKED && !sort_by.reverse) {
		uint64_t first = klpt_task_first_blocked_ns(t);
		struct top_blocker key = {
			.pid = klpt_task_pid(t),
			.blocked_ns = first && now > first ? now - first : 0,
			.checks = klpt_task_checks(t),
		};

		/* (a tie on the pid, of idle tasks, is settled below) */
		if (cmp_blocker(&key, &p->blockers[keep - 1]) > 0)
			return false;
	}
	top_blocker_fill(b, t, now);
	return !full || cmp_blocker(b, &p->blockers[keep - 1]) < 0;
}

/* b into the sorted top keep of p->blockers (room for keep). */
static void insert_top(struct top_patch *p, int keep,
		       const struct top_blocker *b)
{
	int k = p->nblockers < keep ? p->nblockers++ : keep - 1;

	while (k > 0 && cmp_blocker(b, &p->blockers[k - 1]) < 0) {
		p->blockers[k] = p->blockers[k - 1];
		k--;
	}
	p->blockers[k] = *b;
}

/*
 * In the fallback a reason seen in klptrace.ko's events is no longer
 * updated (the fallback sees pending, not why): stale.
 */
static bool stale_reason(bool fallback, int reason)
{
	return fallback && reason != KLPT_REASON_NONE &&
	       reason != KLPT_REASON_UNKNOWN;
}

/* Tasks of the transition of p, counted; blockers collected. */
static int collect_tasks(struct top_patch *p, const struct top_app *app,
			 uint64_t now, const char *filter, int keep)
{
	struct klpt_session *s = top_app_session(app);
	int i, n = klpt_task_count(s), cap = 0, hint = 0;
	bool fallback = klpt_session_mode(s) == KLPT_MODE_FALLBACK;
	struct top_blocker *bp;

	p->blockers = NULL;
	p->all_exact = true;
	if (p->pending != KLPT_UNKNOWN_COUNT && p->pending <= (unsigned int)n)
		hint = (int)p->pending;
	if (keep > 0) {
		p->blockers = calloc((size_t)keep, sizeof(*p->blockers));
		if (!p->blockers)
			return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const struct klpt_task *t = klpt_task_at(s, i);
		int state = klpt_task_state(t);
		struct top_blocker b;

		if (state == KLPT_UNDEFINED)
			continue;
		p->total++;
		/*
		 * A state the session cannot know: neither.  An idle task
		 * is not listed; another (created by an unknown creator)
		 * may be pending: listed, its state "?".
		 */
		if (state == KLPT_STATE_UNKNOWN) {
			p->unknown++;
			if (klpt_task_pid(t) == 0)
				continue;
		} else if (state == p->target) {
			p->switched++;
			continue;
		}
		/* pending only once the transition started, to a target */
		if (p->phase != KLPT_PHASE_STARTED)
			continue;
		p->nblockers_all++;
		if (keep > 0) {
			uint64_t first = klpt_task_first_blocked_ns(t);
			int reason = klpt_task_reason(t);

			if (reason >= 0 && reason <= KLPT_REASON_UNKNOWN)
				p->nreason[reason]++;
			p->nstale += stale_reason(fallback, reason);
			if (first && now > first && now - first > p->longest_ns)
				p->longest_ns = now - first;
			p->all_exact &= klpt_task_checks_exact(t);
			if (enters_top(p, keep, t, now, &b)) {
				b.stale = stale_reason(fallback, b.reason);
				insert_top(p, keep, &b);
			}
			continue;
		}
		/*
		 * Filled in place (a row not taken is written over): room
		 * for as many as the last pass left pending, to begin
		 * with, so that 10k rows are not copied again and again.
		 */
		if (p->nblockers == cap) {
			struct top_blocker *nb;

			cap = cap ? cap * 2 : 64;
			if (cap < hint)
				cap = hint;
			nb = realloc(p->blockers, cap * sizeof(*nb));
			if (!nb)
				return -ENOMEM;
			p->blockers = nb;
		}
		bp = &p->blockers[p->nblockers];
		top_blocker_fill(bp, t, now);
		bp->stale = stale_reason(fallback, bp->reason);
		p->nstale += bp->stale;
		if (bp->reason >= 0 && bp->reason <= KLPT_REASON_UNKNOWN)
			p->nreason[bp->reason]++;
		if (bp->blocked_ns > p->longest_ns)
			p->longest_ns = bp->blocked_ns;
		p->all_exact &= bp->checks_known;
		if (matches(bp, filter))
			p->nblockers++;
	}
	return 0;
}

/* The functions kp patches, and whose version of each runs. */
static int collect_funcs(struct top_patch *p, const struct klpt_patch *kp,
			 struct klpt_session *s)
{
	int i, n = klpt_patch_func_count(kp);

	p->nfuncs = n < 0 ? -1 : n;
	p->funcs = NULL;
	if (n <= 0)
		return 0;
	p->funcs = calloc((size_t)n, sizeof(*p->funcs));
	if (!p->funcs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct top_func *f = &p->funcs[i];
		const struct klpt_patch *live = NULL;

		snprintf(f->object, sizeof(f->object), "%s",
			 klpt_patch_func_object(kp, i));
		snprintf(f->name, sizeof(f->name), "%s",
			 klpt_patch_func_name(kp, i));
		top_utf8_cut(f->object, sizeof(f->object));
		top_utf8_cut(f->name, sizeof(f->name));
		f->sympos = klpt_patch_func_sympos(kp, i);
		f->patched = klpt_patch_func_patched(kp, i);
		f->known = klpt_patch_func_live(s, kp, i, &live) == 1;
		if (!f->known || !live)
			continue;
		f->live = live == kp;
		f->switching = klpt_patch_in_transition(live);
		snprintf(f->runs, sizeof(f->runs), "%s", klpt_patch_name(live));
		top_utf8_cut(f->runs, sizeof(f->runs));
	}
	return 0;
}

static int fill_patch(struct top_patch *p, const struct klpt_patch *kp,
		      const struct top_app *app, uint64_t now,
		      const char *filter, int keep)
{
	struct klpt_session *s = top_app_session(app);
	const struct klpt_module *m = klpt_patch_module(s, kp);
	uint64_t started = klpt_patch_started_ns(kp);

	snprintf(p->name, sizeof(p->name), "%s", klpt_patch_name(kp));
	top_utf8_cut(p->name, sizeof(p->name));
	p->enabled = klpt_patch_enabled(kp);
	p->transition = klpt_patch_in_transition(kp);
	p->forced = klpt_patch_forced(kp);
	p->forced_known = true;
	p->freed = klpt_patch_freed(kp);
	p->released = klpt_patch_released(kp);
	p->target = klpt_patch_target(kp);
	p->phase = klpt_patch_phase(kp);
	p->pass = klpt_patch_pass(kp);
	p->signals = klpt_patch_signals(kp);
	p->pending = klpt_patch_pending(kp);
	if (p->transition && started && now > started)
		p->elapsed_ns = now - started;
	p->module_loaded = m != NULL;
	p->refcnt = m ? klpt_module_refcnt(m) : -1;
	if (m) {
		p->verdict = klpt_module_verdict(s, m, p->why, sizeof(p->why));
		top_utf8_cut(p->why, sizeof(p->why));
	} else {
		p->verdict = KLPT_HOLD_UNKNOWN;
		snprintf(p->why, sizeof(p->why), "module not loaded");
	}
	if (collect_funcs(p, kp, s))
		return -ENOMEM;
	if (!p->transition)
		return 0;
	return collect_tasks(p, app, now, filter, keep);
}

/* keep > 0: top_view_build_top() (filter NULL, the default sort). */
static int build(struct top_view *v, const struct top_app *app,
		 const char *patch, const char *filter, enum top_sort sort,
		 bool reverse, int keep)
{
	struct klpt_session *s = top_app_session(app);
	int i, n = klpt_patch_count(s), ret;

	memset(v, 0, sizeof(*v));
	/* the order of the blockers (also while the top keep are chosen) */
	sort_by.key = sort;
	sort_by.reverse = reverse;
	v->now = top_app_now(app);
	v->mode = klpt_session_mode(s);
	v->native = klpt_session_native(s);
	v->events = klpt_session_events(s);
	v->lost = klpt_session_lost(s);
	v->ntasks = klpt_task_count(s);
	v->patches = calloc(n ? n : 1, sizeof(*v->patches));
	if (!v->patches)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct klpt_patch *kp = klpt_patch_at(s, i);

		if (patch && strcmp(patch, klpt_patch_name(kp)))
			continue;
		ret = fill_patch(&v->patches[v->npatches++], kp, app, v->now,
				 filter, keep);
		if (ret) {
			top_view_free(v);
			return ret;
		}
	}
	/*
	 * Livepatch modules whose patch is gone (freed and released, or
	 * forced) still wait for their unload: a row each, named by the
	 * module, with its verdict.
	 */
	n = klpt_module_count(s);
	for (i = 0; i < n; i++) {
		const struct klpt_module *m = klpt_module_at(s, i);
		const char *name = klpt_module_name(m);
		struct top_patch *p, *np;
		int k;

		if ((patch && strcmp(patch, name)) || klpt_patch_find(s, name))
			continue;
		for (k = 0; k < v->npatches; k++)
			if (!strcmp(v->patches[k].name, name))
				break;
		if (k < v->npatches)
			continue;
		np = realloc(v->patches, (v->npatches + 1) * sizeof(*np));
		if (!np) {
			top_view_free(v);
			return -ENOMEM;
		}
		v->patches = np;
		p = &v->patches[v->npatches++];
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%s", name);
		top_utf8_cut(p->name, sizeof(p->name));
		p->freed = p->released = true;
		p->module_only = true;
		p->target = KLPT_UNDEFINED;
		p->nfuncs = -1;		/* its directory went before a read */
		p->module_loaded = true;
		p->refcnt = klpt_module_refcnt(m);
		p->verdict = klpt_module_verdict(s, m, p->why, sizeof(p->why));
		top_utf8_cut(p->why, sizeof(p->why));
		/*
		 * The session never knew the patch: its forced flag is
		 * unknown, unless the module dropped every reference,
		 * which a forced patch's module never does (6.1
		 * klp_free_patch_finish() skips the module_put()).
		 */
		p->forced = false;
		p->forced_known = p->refcnt == 0;
	}
	qsort(v->patches, v->npatches, sizeof(*v->patches), cmp_patch);
	for (i = 0; i < v->npatches && keep <= 0; i++)
		if (v->patches[i].nblockers > 1 &&
		    sort_rows(v->patches[i].blockers, v->patches[i].nblockers)) {
			top_view_free(v);
			return -ENOMEM;
		}
	return 0;
}

int top_view_build(struct top_view *v, const struct top_app *app,
		   const char *patch, const char *filter,
		   enum top_sort sort, bool reverse)
{
	return build(v, app, patch, filter, sort, reverse, 0);
}

int top_view_build_top(struct top_view *v, const struct top_app *app,
		       const char *patch, enum top_sort sort, bool reverse,
		       int keep)
{
	return build(v, app, patch, NULL, sort, reverse, keep > 0 ? keep : 1);
}

void top_view_free(struct top_view *v)
{
	int i;

	for (i = 0; i < v->npatches; i++) {
		free(v->patches[i].blockers);
		free(v->patches[i].funcs);
	}
	free(v->patches);
	memset(v, 0, sizeof(*v));
}
