// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The table of klptop's output fields (fields.h): for each one its names
 * on the screen, in -b and in JSON, its unit, one line of help, the
 * screen's width policy and how its value is written as text and as
 * JSON.  Every renderer walks this table: text.c (-b), json.c (--json),
 * the screen's columns, --help's FIELDS and --list-fields.
 *
 * One vocabulary: PID is the process (the thread group id, as ps and
 * top show it) and TID the thread (the kernel's task pid, which the
 * livepatch core walks) everywhere; JSON says "tgid" and "tid".  JSON's
 * "pid" (the thread, in klptop 0.1) stays for the consumers written
 * then, documented as an alias of "tid".
 */
#include <errno.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

/* ------------------------------------------------------------ buffers */

char *top_buf_reserve(struct top_buf *b, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;

		while (cap - b->len < n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np)
			return NULL;
		b->p = np;
		b->cap = cap;
	}
	return b->p + b->len;
}

void top_buf_free(struct top_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/*
 * JSON's numbers are formatted by hand: a frame can hold 10k blockers,
 * and printf's format parsing was most of --json's time at that scale
 * (bench/, benchmark 5).  The bytes are printf's.
 */
char *top_put_s(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* 10^n, n < 20 */
static unsigned long long ten_to(int n)
{
	unsigned long long x = 1;

	while (n--)
		x *= 10;
	return x;
}

char *top_put_u(char *p, unsigned long long v)
{
	/* two digits a division */
	static const char pairs[] =
		"0001020304050607080910111213141516171819"
		"2021222324252627282930313233343536373839"
		"4041424344454647484950515253545556575859"
		"6061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char *end;
	int n;

	/* its digits counted, then written from the last, in place */
	if (v < 100000000) {	/* most: 32-bit arithmetic */
		unsigned int u = (unsigned int)v;

		n = u < 10 ? 1 : u < 100 ? 2 : u < 1000 ? 3 : u < 10000 ? 4 :
		    u < 100000 ? 5 : u < 1000000 ? 6 : u < 10000000 ? 7 : 8;
		end = p + n;
		p = end;
		while (u >= 100) {
			unsigned int r = u % 100;

			u /= 100;
			p -= 2;
			memcpy(p, pairs + 2 * r, 2);
		}
		if (u >= 10)
			memcpy(p - 2, pairs + 2 * u, 2);
		else
			p[-1] = (char)('0' + u);
		return end;
	}
	for (n = 9; n < 20 && v >= ten_to(n); n++)
		;
	end = p + n;
	p = end;
	while (v >= 100) {
		unsigned int r = (unsigned int)(v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, pairs + 2 * r, 2);
	}
	if (v >= 10)
		memcpy(p - 2, pairs + 2 * v, 2);
	else
		p[-1] = (char)('0' + v);
	return end;
}

char *top_put_d(char *p, long long v)
{
	if (v < 0) {
		*p++ = '-';
		return top_put_u(p, 0ull - (unsigned long long)v);
	}
	return top_put_u(p, (unsigned long long)v);
}

/*
 * "%.3f" of x.  printf rounds x's exact binary value, ties to even: with
 * 60+ bits of long double mantissa, x * 1000 is exact (53 + 7 bits), so
 * its integer part and the comparison of the rest with 0.5 are exact
 * too.  Elsewhere (or for odd values) snprintf does it.
 */
static char *f3(char *p, double x)
{
#if LDBL_MANT_DIG >= 60
	if (x >= 0 && x < 1e15) {
		long double y = (long double)x * 1000;
		unsigned long long k = (unsigned long long)y;
		long double rest = y - (long double)k;

		if (rest > 0.5L || (rest == 0.5L && (k & 1)))
			k++;
		p = top_put_u(p, k / 1000);
		*p++ = '.';
		*p++ = (char)('0' + k / 100 % 10);
		*p++ = (char)('0' + k / 10 % 10);
		*p++ = (char)('0' + k % 10);
		return p;
	}
#endif
	return p + sprintf(p, "%.3f", x);
}

char *top_put_f3(char *p, double x)
{
	/*
	 * A blocker's two times are most often the same value, and
	 * blockers blocked at the same time have the same: the last
	 * value's text again (the same bits: -0.0 is not 0.0 for printf).
	 */
	static uint64_t last_bits;
	static char last[32];
	static size_t last_len;
	uint64_t bits;
	char *start = p;

	memcpy(&bits, &x, sizeof(bits));
	if (last_len && bits == last_bits) {
		memcpy(p, last, sizeof(last));
		return p + last_len;
	}
	p = f3(p, x);
	if ((size_t)(p - start) < sizeof(last)) {
		memcpy(last, start, (size_t)(p - start));
		last_len = (size_t)(p - start);
		last_bits = bits;
	}
	return p;
}

/* (constant lengths: no strlen() or memcpy() call, 10k rows a frame) */
static char *put_bool(char *p, bool b)
{
	if (b) {
		memcpy(p, "true", 4);
		return p + 4;
	}
	memcpy(p, "false", 5);
	return p + 5;
}

static char *put_null(char *p)
{
	memcpy(p, "null", 4);
	return p + 4;
}

/* A count, or null if unknown. */
static char *put_count(char *p, unsigned int n)
{
	return n == KLPT_UNKNOWN_COUNT ? put_null(p) : top_put_u(p, n);
}

/* s: one of klptop's words (a few bytes: no strlen() call) */
static char *put_quoted(char *p, const char *s)
{
	*p++ = '"';
	while (*s)
		*p++ = *s++;
	*p++ = '"';
	return p;
}

/*
 * One of a few words, quoted, from a table made at its first use (the
 * word itself still comes from view.c's function): a frame writes a
 * reason and a state for each of 10k blockers.
 */
struct word {
	char q[32];
	size_t len;	/* 0: not made yet */
};

/* w made from s; false if s does not fit (put_quoted() then) */
static bool word_make(struct word *w, const char *s)
{
	size_t n = strlen(s);

	if (n + 2 > sizeof(w->q))
		return false;
	w->q[0] = '"';
	memcpy(w->q + 1, s, n);
	w->q[n + 1] = '"';
	w->len = n + 2;
	return true;
}

static char *put_word(char *p, const struct word *w)
{
	memcpy(p, w->q, sizeof(w->q));	/* a constant size: a few moves */
	return p + w->len;
}

/* ------------------------------------------------------------- words */

const char *top_verdict_label(enum klpt_verdict v)
{
	static const char *const labels[] = {
		[KLPT_READY] = "READY",
		[KLPT_HOLD_ENABLED] = "ENABLED",
		[KLPT_HOLD_TASKS] = "TASKS",
		[KLPT_HOLD_TRANSITION] = "TRANSITION",
		[KLPT_HOLD_NOT_FREED] = "NOT FREED",
		[KLPT_HOLD_NOT_RELEASED] = "NOT RELEASED",
		[KLPT_HOLD_REFS] = "REFS",
		[KLPT_HOLD_FORCED] = "FORCED",
		[KLPT_HOLD_UNKNOWN] = "UNKNOWN",
	};

	return (unsigned int)v < sizeof(labels) / sizeof(*labels) ?
	       labels[v] : "UNKNOWN";
}

/* ------------------------------------------------------ frame fields */

#define FRAME(row) ((const struct top_frame_ctx *)(row))

/* a replay's is the recorded kernel, unknown when it does not say */
static const char *t_kernel(const void *row, enum top_style st, int w,
			    char *buf, size_t size)
{
	const char *k = top_app_kernel(FRAME(row)->app);

	(void)st, (void)w, (void)buf, (void)size;
	return k[0] ? k : "unknown";
}

static char *j_kernel(char *p, const void *row)
{
	const char *k = top_app_kernel(FRAME(row)->app);

	return k[0] ? top_put_json_str(p, k) : put_null(p);
}

static bool is_replay(const void *row)
{
	return top_app_is_replay(FRAME(row)->app);
}

static char *j_replay_end(char *p, const void *row)
{
	return put_bool(p, top_app_ended(FRAME(row)->app));
}

static const char *t_mode(const void *row, enum top_style st, int w,
			  char *buf, size_t size)
{
	(void)st, (void)w, (void)buf, (void)size;
	return top_mode_name(FRAME(row)->v->mode);
}

static char *j_mode(char *p, const void *row)
{
	return put_quoted(p, top_mode_name(FRAME(row)->v->mode));
}

static const char *t_source(const void *row, enum top_style st, int w,
			    char *buf, size_t size)
{
	const char *src = top_source_name(FRAME(row)->v);

	(void)st, (void)w, (void)buf, (void)size;
	return src ? src : "unknown";
}

static char *j_source(char *p, const void *row)
{
	const char *src = top_source_name(FRAME(row)->v);

	return src ? put_quoted(p, src) : put_null(p);
}

static char *j_version(char *p, const void *row)
{
	(void)row;
	return top_put_u(p, 1);
}

static char *j_ts(char *p, const void *row)
{
	return top_put_u(p, FRAME(row)->v->now);
}

#define FRAME_U(name, expr)						\
static const char *t_##name(const void *row, enum top_style st, int w,	\
			    char *buf, size_t size)			\
{									\
	(void)st, (void)w;						\
	snprintf(buf, size, "%llu", (unsigned long long)(expr));	\
	return buf;							\
}									\
static char *j_##name(char *p, const void *row)				\
{									\
	return top_put_u(p, (unsigned long long)(expr));		\
}
FRAME_U(events, FRAME(row)->v->events)
FRAME_U(lost, FRAME(row)->v->lost)
FRAME_U(tasks, FRAME(row)->v->ntasks)

/* ------------------------------------------------------ patch fields */

#define PATCH(row) ((const struct top_patch *)(row))

static const char *t_name(const void *row, enum top_style st, int w,
			  char *buf, size_t size)
{
	(void)st, (void)w, (void)buf, (void)size;
	return PATCH(row)->name;
}

static char *j_name(char *p, const void *row)
{
	return top_put_json_str(p, PATCH(row)->name);
}

static const char *t_enabled(const void *row, enum top_style st, int w,
			     char *buf, size_t size)
{
	(void)st, (void)w, (void)buf, (void)size;
	return PATCH(row)->enabled ? "1" : "0";
}

static char *j_enabled(char *p, const void *row)
{
	return put_bool(p, PATCH(row)->enabled);
}

static char *j_transition(char *p, const void *row)
{
	return put_bool(p, PATCH(row)->transition);
}

/* the direction is known (out of a transition: there is none) */
static bool dir_known(const struct top_patch *p)
{
	return !p->transition || p->phase != KLPT_PHASE_UNKNOWN;
}

static const char *t_state(const void *row, enum top_style st, int w,
			   char *buf, size_t size)
{
	(void)st, (void)w, (void)buf, (void)size;
	return top_direction(PATCH(row));
}

static char *j_state(char *p, const void *row)
{
	return put_quoted(p, top_direction(PATCH(row)));
}

static char *j_phase(char *p, const void *row)
{
	switch (PATCH(row)->phase) {
	case KLPT_PHASE_INIT:
		return put_quoted(p, "init");
	case KLPT_PHASE_STARTED:
		return put_quoted(p, "started");
	case KLPT_PHASE_UNKNOWN:
		return put_quoted(p, "unknown");
	}
	return put_quoted(p, "none");
}

static char *j_target(char *p, const void *row)
{
	if (!dir_known(PATCH(row)))
		return put_null(p);
	return put_quoted(p, top_state_name(PATCH(row)->target));
}

static const char *t_pass(const void *row, enum top_style st, int w,
			  char *buf, size_t size)
{
	(void)st, (void)w;
	return top_fmt_count(buf, size, PATCH(row)->pass);
}

static char *j_pass(char *p, const void *row)
{
	return put_count(p, PATCH(row)->pass);
}

static const char *t_elapsed(const void *row, enum top_style st, int w,
			     char *buf, size_t size)
{
	(void)st, (void)w;
	top_fmt_elapsed(buf, size, PATCH(row));
	return buf;
}

static char *j_elapsed(char *p, const void *row)
{
	const struct top_patch *pa = PATCH(row);

	if (pa->transition && !pa->elapsed_ns)
		return put_null(p);
	return top_put_f3(p, (double)pa->elapsed_ns / 1e9);
}

/* "[####  ] 85/86" in w columns (the screen's SWITCHED). */
static void progress(char *buf, size_t size, const struct top_patch *p,
		     int w)
{
	char count[32], bar[40];
	int i, bw, fill;

	if (!p->transition || !p->total || p->phase == KLPT_PHASE_UNKNOWN) {
		top_fmt_switched(buf, size, p);
		return;
	}
	top_fmt_switched(count, sizeof(count), p);
	bw = w - (int)strlen(count) - 3;
	if (bw < 3) {
		snprintf(count, sizeof(count), "%s%u%%",
			 p->unknown ? ">=" : "", p->switched * 100 / p->total);
		bw = w - (int)strlen(count) - 3;
	}
	if (bw < 1) {
		snprintf(buf, size, "%s", count);
		return;
	}
	if (bw > (int)sizeof(bar) - 1)
		bw = sizeof(bar) - 1;
	fill = (int)((uint64_t)p->switched * bw / p->total);
	for (i = 0; i < bw; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[bw] = '\0';
	snprintf(buf, size, "[%s] %s", bar, count);
}

static const char *t_switched(const void *row, enum top_style st, int w,
			      char *buf, size_t size)
{
	if (st == TOP_STYLE_SCREEN && w > 0)
		progress(buf, size, PATCH(row), w);
	else
		top_fmt_switched(buf, size, PATCH(row));
	return buf;
}

/* with tasks of unknown state, switched is only a lower bound */
static char *j_switched(char *p, const void *row)
{
	const struct top_patch *pa = PATCH(row);

	return put_count(p, dir_known(pa) && !pa->unknown ? pa->switched :
			 KLPT_UNKNOWN_COUNT);
}

static char *j_switched_at_least(char *p, const void *row)
{
	const struct top_patch *pa = PATCH(row);

	return put_count(p, dir_known(pa) ? pa->switched : KLPT_UNKNOWN_COUNT);
}

static char *j_state_unknown(char *p, const void *row)
{
	return top_put_u(p, PATCH(row)->unknown);
}

static char *j_total(char *p, const void *row)
{
	return top_put_u(p, PATCH(row)->total);
}

static char *j_pending(char *p, const void *row)
{
	const struct top_patch *pa = PATCH(row);

	return put_count(p, dir_known(pa) ? pa->pending : KLPT_UNKNOWN_COUNT);
}

static const char *t_signals(const void *row, enum top_style st, int w,
			     char *buf, size_t size)
{
	(void)st, (void)w;
	return top_fmt_count(buf, size, PATCH(row)->signals);
}

static char *j_signals(char *p, const void *row)
{
	return put_count(p, PATCH(row)->signals);
}

static const char *t_forced(const void *row, enum top_style st, int w,
			    char *buf, size_t size)
{
	(void)w, (void)buf, (void)size;
	return st == TOP_STYLE_SCREEN ? top_forced_flag(PATCH(row)) :
	       top_forced_word(PATCH(row));
}

static char *j_forced(char *p, const void *row)
{
	const struct top_patch *pa = PATCH(row);

	return pa->forced_known ? put_bool(p, pa->forced) : put_null(p);
}

static char *j_freed(char *p, const void *row)
{
	return put_bool(p, PATCH(row)->freed);
}

static char *j_released(char *p, const void *row)
{
	return put_bool(p, PATCH(row)->released);
}

static char *j_loaded(char *p, const void *row)
{
	return put_bool(p, PATCH(row)->module_loaded);
}

static const char *t_refcnt(const void *row, enum top_style st, int w,
			    char *buf, size_t size)
{
	(void)st, (void)w;
	return top_fmt_refcnt(buf, size, PATCH(row));
}

static char *j_refcnt(char *p, const void *row)
{
	const struct top_patch *pa = PATCH(row);

	return pa->refcnt >= 0 ? top_put_d(p, pa->refcnt) : put_null(p);
}

static const char *t_unload(const void *row, enum top_style st, int w,
			    char *buf, size_t size)
{
	(void)w, (void)buf, (void)size;
	return st == TOP_STYLE_SCREEN ? top_verdict_label(PATCH(row)->verdict) :
	       klpt_verdict_name(PATCH(row)->verdict);
}

static char *j_unload(char *p, const void *row)
{
	return put_quoted(p, klpt_verdict_name(PATCH(row)->verdict));
}

static char *j_why(char *p, const void *row)
{
	const struct top_patch *pa = PATCH(row);

	return top_put_json_str(p, pa->verdict == KLPT_READY ? "" : pa->why);
}

static char *j_blockers_total(char *p, const void *row)
{
	const struct top_patch *pa = PATCH(row);

	return dir_known(pa) ? top_put_d(p, pa->nblockers_all) : put_null(p);
}

/* ---------------------------------------------------- blocker fields */

#define BLOCKER(row) ((const struct top_blocker *)(row))

static const char *t_pid(const void *row, enum top_style st, int w,
			 char *buf, size_t size)
{
	(void)st, (void)w;
	snprintf(buf, size, "%d", BLOCKER(row)->tgid);
	return buf;
}

static char *j_tgid(char *p, const void *row)
{
	return top_put_d(p, BLOCKER(row)->tgid);
}

static const char *t_tid(const void *row, enum top_style st, int w,
			 char *buf, size_t size)
{
	(void)st, (void)w;
	snprintf(buf, size, "%d", BLOCKER(row)->pid);
	return buf;
}

static char *j_tid(char *p, const void *row)
{
	return top_put_d(p, BLOCKER(row)->pid);
}

static const char *t_comm(const void *row, enum top_style st, int w,
			  char *buf, size_t size)
{
	(void)st, (void)w, (void)buf, (void)size;
	return BLOCKER(row)->comm;
}

static char *j_comm(char *p, const void *row)
{
	return top_put_json_str(p, BLOCKER(row)->comm);
}

static const char *t_kthread(const void *row, enum top_style st, int w,
			     char *buf, size_t size)
{
	(void)st, (void)w, (void)buf, (void)size;
	return top_kthread_flag(BLOCKER(row)->kthread);
}

static char *j_kthread(char *p, const void *row)
{
	int k = BLOCKER(row)->kthread;

	return k < 0 ? put_null(p) : put_bool(p, k > 0);
}

static char *j_task_state(char *p, const void *row)
{
	/* KLPT_STATE_UNKNOWN (-2) to KLPT_PATCHED (1) */
	static struct word words[4];
	int st = BLOCKER(row)->state;

	if (st < KLPT_STATE_UNKNOWN || st > KLPT_PATCHED ||
	    (!words[st - KLPT_STATE_UNKNOWN].len &&
	     !word_make(&words[st - KLPT_STATE_UNKNOWN], top_state_name(st))))
		return put_quoted(p, top_state_name(st));
	return put_word(p, &words[st - KLPT_STATE_UNKNOWN]);
}

static const char *t_reason(const void *row, enum top_style st, int w,
			    char *buf, size_t size)
{
	const struct top_blocker *b = BLOCKER(row);
	const char *r = st == TOP_STYLE_SCREEN ? top_reason_column(b->reason) :
			top_reason_text(b->reason);

	(void)w;
	if (!b->stale)
		return r;
	/* as the events last said, not updated since */
	snprintf(buf, size, "stale: %s", r);
	return buf;
}

static char *j_stale(char *p, const void *row)
{
	return put_bool(p, BLOCKER(row)->stale);
}

static char *j_reason(char *p, const void *row)
{
	static struct word words[KLPT_REASON_UNKNOWN + 1];
	int r = BLOCKER(row)->reason;

	if (r < 0 || r > KLPT_REASON_UNKNOWN ||
	    (!words[r].len && !word_make(&words[r], top_reason_key(r))))
		return put_quoted(p, top_reason_key(r));
	return put_word(p, &words[r]);
}

static const char *t_function(const void *row, enum top_style st, int w,
			      char *buf, size_t size)
{
	(void)st, (void)w, (void)buf, (void)size;
	return BLOCKER(row)->func[0] ? BLOCKER(row)->func : "-";
}

static char *j_function(char *p, const void *row)
{
	return top_put_json_str(p, BLOCKER(row)->func);
}

static const char *t_blocked(const void *row, enum top_style st, int w,
			     char *buf, size_t size)
{
	(void)st, (void)w;
	return top_fmt_blocked(buf, size, BLOCKER(row));
}

/*
 * "checks" and "blocked_s" are the kernel's (the task's whole history in
 * this transition) or null; the *_since_open ones are what this session
 * saw: the same when it saw the whole history, lower bounds when it
 * joined under way (klpt_task_checks_exact()).
 */
static char *j_blocked(char *p, const void *row)
{
	const struct top_blocker *b = BLOCKER(row);

	if (!b->checks_known || !b->first_blocked_ns)
		return put_null(p);
	return top_put_f3(p, (double)b->blocked_ns / 1e9);
}

static char *j_blocked_seen(char *p, const void *row)
{
	const struct top_blocker *b = BLOCKER(row);

	if (!b->first_blocked_ns)
		return put_null(p);
	return top_put_f3(p, (double)b->blocked_ns / 1e9);
}

static const char *t_checks(const void *row, enum top_style st, int w,
			    char *buf, size_t size)
{
	(void)st, (void)w;
	return top_fmt_checks(buf, size, BLOCKER(row));
}

static char *j_checks(char *p, const void *row)
{
	const struct top_blocker *b = BLOCKER(row);

	return b->checks_known ? top_put_u(p, b->checks) : put_null(p);
}

static char *j_checks_seen(char *p, const void *row)
{
	return top_put_u(p, BLOCKER(row)->checks);
}

/* ------------------------------------------------------- func fields */

#define FUNC(row) ((const struct top_func *)(row))

static char *j_object(char *p, const void *row)
{
	return top_put_json_str(p, FUNC(row)->object);
}

static char *j_func(char *p, const void *row)
{
	return top_put_json_str(p, FUNC(row)->name);
}

static char *j_sympos(char *p, const void *row)
{
	return top_put_u(p, FUNC(row)->sympos);
}

static char *j_patched(char *p, const void *row)
{
	return put_bool(p, FUNC(row)->patched);
}

static char *j_live(char *p, const void *row)
{
	return FUNC(row)->known ? put_bool(p, FUNC(row)->live) : put_null(p);
}

static char *j_runs(char *p, const void *row)
{
	return FUNC(row)->known ? top_put_json_str(p, FUNC(row)->runs) :
	       put_null(p);
}

static char *j_switching(char *p, const void *row)
{
	return put_bool(p, FUNC(row)->switching);
}

/* ------------------------------------------------------------- table */

#define SCR TOP_FIELD_SCREEN
#define BAT TOP_FIELD_BATCH
#define RIGHT TOP_FIELD_RIGHT
#define FLEX TOP_FIELD_FLEX

static const struct top_field frame_fields[] = {
	{ TOP_ROW_FRAME, "version", NULL, NULL, "klptop", "",
	  "the JSON format's version: 1", 0, 0, 0, 0, -1, NULL, j_version, NULL },
	{ TOP_ROW_FRAME, "ts", NULL, NULL, "ts_ns", "ns",
	  "the frame's time in the trace clock (CLOCK_MONOTONIC live)",
	  0, 0, 0, 0, -1, NULL, j_ts, NULL },
	{ TOP_ROW_FRAME, "kernel", NULL, "kernel", "kernel", "",
	  "the kernel's release (uname -r; a replay: the recorded one, "
	  "unknown (null) when the recording does not say)",
	  BAT, 0, 0, 0, -1, t_kernel, j_kernel, NULL },
	{ TOP_ROW_FRAME, "mode", NULL, "mode", "mode", "",
	  "events (klp events are read: see source), fallback (sysfs and "
	  "procfs polled) or replay", BAT, 0, 0, 0, -1, t_mode, j_mode, NULL },
	{ TOP_ROW_FRAME, "source", NULL, "source", "source", "",
	  "where the klp events come from: native (the kernel's own, "
	  "kernel/native/), klptrace.ko, or fallback (none: sysfs and "
	  "procfs polled); unknown (null) in a replay",
	  BAT, 0, 0, 0, -1, t_source, j_source, NULL },
	{ TOP_ROW_FRAME, "replay_end", NULL, NULL, "replay_end", "",
	  "a replay's: its last event is shown (-b: \"end\" after tasks)",
	  0, 0, 0, 0, -1, NULL, j_replay_end, is_replay },
	{ TOP_ROW_FRAME, "events", NULL, "events", "events", "",
	  "klp events this session read", BAT, 0, 0, 0, -1, t_events,
	  j_events, NULL },
	{ TOP_ROW_FRAME, "lost", NULL, "lost", "lost", "",
	  "events the kernel dropped (the model was read again from sysfs "
	  "and procfs)", BAT, 0, 0, 0, -1, t_lost, j_lost, NULL },
	{ TOP_ROW_FRAME, "tasks", NULL, "tasks", "tasks", "",
	  "tasks the kernel's transitions walk (threads and idle tasks)",
	  BAT, 0, 0, 0, -1, t_tasks, j_tasks, NULL },
};

static const struct top_field patch_fields[] = {
	{ TOP_ROW_PATCH, "patch", "PATCH", "PATCH", "name", "",
	  "the patch: /sys/kernel/livepatch/PATCH, named after its module "
	  "(or the module, once that directory is gone)",
	  SCR | BAT | FLEX, 8, 32, 24, -1, t_name, j_name, NULL },
	{ TOP_ROW_PATCH, "enabled", "E", "ENABLED", "enabled", "",
	  "1 if the patch is enabled (its enabled file)",
	  SCR | BAT, 1, 1, 7, -1, t_enabled, j_enabled, NULL },
	{ TOP_ROW_PATCH, "transition", NULL, NULL, "transition", "",
	  "a transition of this patch runs", 0, 0, 0, 0, -1, NULL,
	  j_transition, NULL },
	{ TOP_ROW_PATCH, "state", "STATE", "STATE", "direction", "",
	  "the transition: patching, unpatching, pre-patch or pre-unpatch "
	  "(its callbacks run, no task pending yet), ? direction unknown, "
	  "- none", SCR | BAT, 5, 11, 10, -1, t_state, j_state, NULL },
	{ TOP_ROW_PATCH, "phase", NULL, NULL, "phase", "",
	  "none, init (before klp_start_transition()), started or unknown",
	  0, 0, 0, 0, -1, NULL, j_phase, NULL },
	{ TOP_ROW_PATCH, "target", NULL, NULL, "target", "",
	  "the tasks' target state: patched or unpatched",
	  0, 0, 0, 0, -1, NULL, j_target, NULL },
	{ TOP_ROW_PATCH, "pass", "PASS", "PASS", "pass", "",
	  "the kernel's transition pass (a try every second)",
	  SCR | BAT | RIGHT, 4, 6, 4, -1, t_pass, j_pass, NULL },
	{ TOP_ROW_PATCH, "elapsed", "ELAPSED", "ELAPSED", "elapsed_s", "s",
	  "time since the transition started",
	  SCR | BAT | RIGHT, 7, 7, 7, -1, t_elapsed, j_elapsed, NULL },
	{ TOP_ROW_PATCH, "switched", "SWITCHED", "SWITCHED", "switched", "",
	  "tasks in the target state / all tasks (>=N: at least)",
	  SCR | BAT | RIGHT, 14, 14, 13, -1, t_switched, j_switched, NULL },
	{ TOP_ROW_PATCH, "switched_at_least", NULL, NULL,
	  "switched_at_least", "",
	  "a lower bound of switched when tasks of unknown state remain",
	  0, 0, 0, 0, -1, NULL, j_switched_at_least, NULL },
	{ TOP_ROW_PATCH, "state_unknown", NULL, NULL, "state_unknown", "",
	  "tasks whose patch state the session cannot know (idle tasks of "
	  "a transition it joined)", 0, 0, 0, 0, -1, NULL, j_state_unknown, NULL },
	{ TOP_ROW_PATCH, "total", NULL, NULL, "total", "",
	  "tasks the transition walks", 0, 0, 0, 0, -1, NULL, j_total, NULL },
	{ TOP_ROW_PATCH, "pending", NULL, NULL, "pending", "",
	  "tasks not yet switched, as the last pass counted",
	  0, 0, 0, 0, -1, NULL, j_pending, NULL },
	{ TOP_ROW_PATCH, "signals", "SIG", "SIGNALS", "signals", "",
	  "signal rounds the kernel sent to the pending tasks (every 15 "
	  "passes)", SCR | BAT | RIGHT, 3, 5, 7, -1, t_signals, j_signals, NULL },
	{ TOP_ROW_PATCH, "forced", "F", "FORCED", "forced", "",
	  "the transition was forced (F: Y or -; -b: yes or no): its module "
	  "can never be unloaded", SCR | BAT, 1, 1, 6, -1, t_forced, j_forced, NULL },
	{ TOP_ROW_PATCH, "freed", NULL, NULL, "freed", "",
	  "the kernel's free work ran (klp_free_patch_finish())",
	  0, 0, 0, 0, -1, NULL, j_freed, NULL },
	{ TOP_ROW_PATCH, "released", NULL, NULL, "released", "",
	  "the patch's kobject was released", 0, 0, 0, 0, -1, NULL,
	  j_released, NULL },
	{ TOP_ROW_PATCH, "loaded", NULL, NULL, "module.loaded", "",
	  "the patch's module is loaded", 0, 0, 0, 0, -1, NULL, j_loaded, NULL },
	{ TOP_ROW_PATCH, "refcnt", "REF", "REFCNT", "module.refcnt", "",
	  "references to the module (/sys/module/PATCH/refcnt; - not "
	  "loaded)", SCR | BAT | RIGHT, 3, 5, 6, -1, t_refcnt, j_refcnt, NULL },
	{ TOP_ROW_PATCH, "unload", "UNLOAD", "UNLOAD", "verdict", "",
	  "READY (rmmod is safe now) or what holds the module, in the order "
	  "a disable goes through: ENABLED, TASKS, TRANSITION, NOT FREED, "
	  "NOT RELEASED, REFS; FORCED (never); UNKNOWN (-b and JSON: ready, "
	  "enabled, tasks, transition, not_freed, not_released, refs, forced, "
	  "unknown)", SCR | BAT, 6, 12, 0, -1, t_unload, j_unload, NULL },
	{ TOP_ROW_PATCH, "why", NULL, NULL, "why", "",
	  "what holds the module, in words (\"\" when ready)",
	  0, 0, 0, 0, -1, NULL, j_why, NULL },
	{ TOP_ROW_PATCH, "blockers_total", NULL, NULL, "blockers_total", "",
	  "tasks the transition waits for (blockers lists them)",
	  0, 0, 0, 0, -1, NULL, j_blockers_total, NULL },
};

static const struct top_field blocker_fields[] = {
	{ TOP_ROW_BLOCKER, "pid", "PID", "PID", "tgid", "",
	  "the process: its thread group id", SCR | BAT | RIGHT, 3, 7, 7,
	  TOP_SORT_PID, t_pid, j_tgid, NULL },
	{ TOP_ROW_BLOCKER, "tid", "TID", "TID", "tid", "",
	  "the thread (the task the kernel checks and switches)",
	  SCR | BAT | RIGHT, 3, 7, 7, TOP_SORT_TID, t_tid, j_tid, NULL },
	{ TOP_ROW_BLOCKER, "json_pid", NULL, NULL, "pid", "",
	  "the same as tid (the JSON of klptop 0.1; PID elsewhere is the "
	  "process)", 0, 0, 0, 0, -1, NULL, j_tid, NULL },
	{ TOP_ROW_BLOCKER, "command", "COMMAND", "COMMAND", "comm", "",
	  "the thread's name (comm)", SCR | BAT | FLEX, 7, 16, 16,
	  TOP_SORT_COMM, t_comm, j_comm, NULL },
	{ TOP_ROW_BLOCKER, "kthread", "K", "K", "kthread", "",
	  "K a kernel thread, - a user task, ? not known",
	  SCR | BAT, 1, 1, 2, -1, t_kthread, j_kthread, NULL },
	{ TOP_ROW_BLOCKER, "task_state", NULL, NULL, "state", "",
	  "the task's patch state (patched, unpatched, unknown)",
	  0, 0, 0, 0, -1, NULL, j_task_state, NULL },
	{ TOP_ROW_BLOCKER, "reason", "REASON", "REASON", "reason", "",
	  "why its last stack check failed: running, sleeping (in "
	  "FUNCTION), unreliable (stack), failed, unchecked (not yet), "
	  "pending (cause not seen); stale: as klptrace.ko's events last "
	  "said, before the session went to the fallback (klptrace.ko "
	  "removed, its hooks silent), which sees pending, not why",
	  SCR | BAT, 6, 24, 24, TOP_SORT_REASON, t_reason, j_reason, NULL },
	{ TOP_ROW_BLOCKER, "stale", NULL, NULL, "stale", "",
	  "reason and function are as klptrace.ko's events last said, not "
	  "updated since (the fallback)", 0, 0, 0, 0, -1, NULL, j_stale, NULL },
	{ TOP_ROW_BLOCKER, "function", "FUNCTION", "FUNCTION", "function", "",
	  "the patched function on its stack", SCR | BAT | FLEX, 8, 40, 24,
	  TOP_SORT_FUNCTION, t_function, j_function, NULL },
	{ TOP_ROW_BLOCKER, "blocked", "BLOCKED", "BLOCKED", "blocked_s", "s",
	  "how long its checks have failed (>=: at least, the session "
	  "joined later)", SCR | BAT | RIGHT, 7, 8, 7, TOP_SORT_BLOCKED,
	  t_blocked, j_blocked, NULL },
	{ TOP_ROW_BLOCKER, "blocked_since_open", NULL, NULL,
	  "blocked_s_since_open", "s",
	  "blocked time this session saw (a lower bound of blocked_s)",
	  0, 0, 0, 0, -1, NULL, j_blocked_seen, NULL },
	{ TOP_ROW_BLOCKER, "checks", "CHECKS", "CHECKS", "checks", "",
	  "its failed stack checks (>=N: at least)", SCR | BAT | RIGHT,
	  6, 7, 6, TOP_SORT_CHECKS, t_checks, j_checks, NULL },
	{ TOP_ROW_BLOCKER, "checks_since_open", NULL, NULL,
	  "checks_since_open", "",
	  "failed checks this session saw (a lower bound of checks)",
	  0, 0, 0, 0, -1, NULL, j_checks_seen, NULL },
};

static const struct top_field func_fields[] = {
	{ TOP_ROW_FUNC, "object", NULL, NULL, "object", "",
	  "vmlinux or the module the function is in", 0, 0, 0, 0, -1, NULL,
	  j_object, NULL },
	{ TOP_ROW_FUNC, "func", NULL, NULL, "func", "",
	  "the patched function", 0, 0, 0, 0, -1, NULL, j_func, NULL },
	{ TOP_ROW_FUNC, "sympos", NULL, NULL, "sympos", "",
	  "which of several symbols of that name (0: the only one)",
	  0, 0, 0, 0, -1, NULL, j_sympos, NULL },
	{ TOP_ROW_FUNC, "patched", NULL, NULL, "patched", "",
	  "its object is patched (loaded)", 0, 0, 0, 0, -1, NULL, j_patched, NULL },
	{ TOP_ROW_FUNC, "live", NULL, NULL, "live", "",
	  "this patch's version runs", 0, 0, 0, 0, -1, NULL, j_live, NULL },
	{ TOP_ROW_FUNC, "runs", NULL, NULL, "runs", "",
	  "whose version runs (\"\": the original)", 0, 0, 0, 0, -1, NULL,
	  j_runs, NULL },
	{ TOP_ROW_FUNC, "switching", NULL, NULL, "switching", "",
	  "that patch is in transition", 0, 0, 0, 0, -1, NULL, j_switching, NULL },
};

#define N(a) ((int)(sizeof(a) / sizeof(*(a))))

static const struct {
	const struct top_field *f;
	int n;
	const char *title;
} tables[TOP_ROW__COUNT] = {
	[TOP_ROW_FRAME] = { frame_fields, N(frame_fields), "frame" },
	[TOP_ROW_PATCH] = { patch_fields, N(patch_fields), "patch" },
	[TOP_ROW_BLOCKER] = { blocker_fields, N(blocker_fields), "blocker" },
	[TOP_ROW_FUNC] = { func_fields, N(func_fields), "func" },
};

const struct top_field *top_fields(enum top_row row, int *n)
{
	*n = tables[row].n;
	return tables[row].f;
}

/*
 * A blocker's JSON object in one function: a frame writes 10k of them,
 * and walking the table's plan (json.c) for each, a call through a
 * pointer a field, cost more than the values.  BLOCKER_JSON lists the
 * keys and writers it uses, in the table's order; it is checked against
 * blocker_fields (top_json_fast()) and used only when they agree, so
 * that the table stays the one description of the fields: change the
 * table, and the plan writes the rows until this list follows (the
 * sanitizer build that the tests run aborts instead, so they catch it).
 */
#define BLOCKER_JSON(X)							\
	X(tgid, j_tgid) X(tid, j_tid) X(pid, j_tid) X(comm, j_comm)	\
	X(kthread, j_kthread) X(state, j_task_state)			\
	X(reason, j_reason) X(stale, j_stale) X(function, j_function)	\
	X(blocked_s, j_blocked) X(blocked_s_since_open, j_blocked_seen) \
	X(checks, j_checks) X(checks_since_open, j_checks_seen)

static char *json_blocker(char *p, const void *row)
{
	char *start = p;

	/* each key with a comma before it; the first one's is the { */
#define X(key, put)							\
	memcpy(p, ",\"" #key "\":", sizeof(",\"" #key "\":") - 1);	\
	p = put(p + sizeof(",\"" #key "\":") - 1, row);
	BLOCKER_JSON(X)
#undef X
	*start = '{';
	*p++ = '}';
	return p;
}

top_json_row_fn top_json_fast(enum top_row row)
{
	static const struct {
		const char *json;
		char *(*put)(char *p, const void *row);
	} list[] = {
#define X(key, put) { #key, put },
		BLOCKER_JSON(X)
#undef X
	};
	static int agree = -1;	/* not checked yet */
	int i;

	if (row != TOP_ROW_BLOCKER)
		return NULL;
	if (agree < 0) {
		agree = N(list) == N(blocker_fields);
		for (i = 0; agree && i < N(list); i++)
			agree = blocker_fields[i].json &&
				!strcmp(blocker_fields[i].json, list[i].json) &&
				blocker_fields[i].json_put == list[i].put &&
				!blocker_fields[i].has;
#if defined(__SANITIZE_ADDRESS__)
		if (!agree) {
			fprintf(stderr, "fields.c: BLOCKER_JSON is not the "
				"table's list of blocker fields\n");
			abort();
		}
#endif
	}
	return agree ? json_blocker : NULL;
}

const struct top_field *top_field_find(enum top_row row, const char *key)
{
	int i;

	for (i = 0; i < tables[row].n; i++)
		if (!strcmp(tables[row].f[i].key, key))
			return &tables[row].f[i];
	return NULL;
}

int top_sort_parse(const char *key, enum top_sort *s)
{
	const struct top_field *f;

	if (!strcmp(key, "comm"))	/* its name before 0.2 */
		key = "command";
	f = top_field_find(TOP_ROW_BLOCKER, key);
	if (!f || f->sort < 0)
		return -EINVAL;
	*s = (enum top_sort)f->sort;
	return 0;
}

const char *top_sort_name(enum top_sort s)
{
	int i;

	for (i = 0; i < N(blocker_fields); i++)
		if (blocker_fields[i].sort == (int)s)
			return blocker_fields[i].key;
	return "?";
}

/* --------------------------------------------------------- --help */

/* s wrapped at width columns, continuation lines indented by indent. */
static void wrap(FILE *f, const char *s, int col, int indent, int width)
{
	while (*s) {
		int room = width - col, n = (int)strlen(s);

		if (n > room) {
			n = room;
			while (n > 0 && s[n] != ' ')
				n--;
			if (n <= 0)
				n = (int)strcspn(s, " ");
		}
		fprintf(f, "%.*s\n", n, s);
		s += n;
		while (*s == ' ')
			s++;
		if (*s)
			fprintf(f, "%*s", indent, "");
		col = indent;
	}
}

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

void top_fields_help(FILE *f)
{
	static const char *const heads[TOP_ROW__COUNT] = {
		[TOP_ROW_FRAME] = "  The frame (-b's first line, JSON's top level)",
		[TOP_ROW_PATCH] = "  A patch (a row; JSON: \"patches\")",
		[TOP_ROW_BLOCKER] = "  A blocker, a task the transition waits "
				    "for (JSON: \"blockers\")",
		[TOP_ROW_FUNC] = "  A patched function (-b: func lines; JSON: "
				 "\"funcs\")",
	};
	int r, i;

	fputs("FIELDS\n"
	      "    Every value klptop shows: its column on the screen, its -b\n"
	      "    column, its JSON key (and unit), what it says.  ? on the screen\n"
	      "    and in -b, null in JSON: unknown.  -s sorts the blockers by a\n"
	      "    column (its key: the name in lower case, sort in\n"
	      "    --list-fields, which prints this table tab separated).\n", f);
	for (r = 0; r < TOP_ROW__COUNT; r++) {
		fprintf(f, "%s\n", heads[r]);
		for (i = 0; i < tables[r].n; i++) {
			const struct top_field *fl = &tables[r].f[i];
			char line[160];
			int n = 0;

			if (fl->header)
				n += snprintf(line + n, sizeof(line) - n,
					      "%s, ", fl->header);
			if (fl->batch && !(fl->header &&
					   !strcmp(fl->header, fl->batch)))
				n += snprintf(line + n, sizeof(line) - n,
					      "-b %s, ", fl->batch);
			if (fl->json)
				n += snprintf(line + n, sizeof(line) - n,
					      "JSON %s%s%s", fl->json,
					      fl->unit[0] ? " in " : "",
					      fl->unit);
			else if (n >= 2)
				line[n -= 2] = '\0';
			fprintf(f, "    %s\n          ", line);
			wrap(f, fl->help, 10, 10, 79);
		}
	}
}

void top_fields_legend(FILE *f, int width)
{
	static const enum top_row rows[] = { TOP_ROW_PATCH, TOP_ROW_BLOCKER };
	size_t r;
	int i;

	for (r = 0; r < sizeof(rows) / sizeof(*rows); r++)
		for (i = 0; i < tables[rows[r]].n; i++) {
			const struct top_field *fl = &tables[rows[r]].f[i];

			if (!(fl->flags & TOP_FIELD_SCREEN) ||
			    strlen(fl->header) > TOP_LEGEND_HEAD)
				continue;
			fprintf(f, "  %-*s", TOP_LEGEND_HEAD + 2, fl->header);
			wrap(f, fl->help, TOP_LEGEND_HEAD + 4,
			     TOP_LEGEND_HEAD + 4, width);
		}
}

void top_fields_list(FILE *f)
{
	int r, i;

	for (r = 0; r < TOP_ROW__COUNT; r++)
		for (i = 0; i < tables[r].n; i++) {
			const struct top_field *fl = &tables[r].f[i];

			char flags[32];

			/*
			 * sort: a -s key; right: right-aligned; flex: cut
			 * first; optional: not in every frame (a replay's)
			 */
			snprintf(flags, sizeof(flags), "%s%s%s%s",
				 fl->sort >= 0 ? ",sort" : "",
				 fl->flags & TOP_FIELD_RIGHT ? ",right" : "",
				 fl->flags & TOP_FIELD_FLEX ? ",flex" : "",
				 fl->has ? ",optional" : "");
			fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
				tables[r].title, fl->key, or_dash(fl->header),
				or_dash(fl->batch), or_dash(fl->json),
				fl->unit[0] ? fl->unit : "-",
				flags[0] ? flags + 1 : "-", fl->help);
		}
}

/* ----------------------------------------------------- screen widths */

/* The width of f's header on the screen, with a sort marker if sort's. */
static int col_head_width(const struct top_field *f, int sort)
{
	return (int)strlen(f->header ? f->header : "") +
	       (sort >= 0 && f->sort == sort);
}

void top_cols_fit(struct top_cols *c, enum top_row row, const void *rows,
		  int n, size_t size, int cols, int sort)
{
	const struct top_field *t = tables[row].f;
	char buf[1024];
	int i, j, total = 0;

	c->n = 0;
	for (i = 0; i < tables[row].n && c->n < 16; i++) {
		const struct top_field *f = &t[i];
		int w = col_head_width(f, sort);

		if (!(f->flags & TOP_FIELD_SCREEN))
			continue;
		if (w < f->min)
			w = f->min;
		for (j = 0; j < n; j++) {
			const void *r = (const char *)rows + (size_t)j * size;
			int used;

			top_esc_text(buf, sizeof(buf),
				     f->text(r, TOP_STYLE_SCREEN, 0, buf,
					     sizeof(buf)));
			top_text_fit(buf, 1 << 20, &used);
			if (used > w)
				w = used;
		}
		if (f->max && w > f->max && col_head_width(f, sort) <= f->max)
			w = f->max;
		c->f[c->n] = f;
		c->w[c->n++] = w;
		total += w + (c->n > 1);
	}
	/* too wide: the FLEX columns give up what they can, down to min */
	for (i = c->n - 1; i >= 0 && total > cols; i--) {
		int head = col_head_width(c->f[i], sort);
		int lo = c->f[i]->min > head ? c->f[i]->min : head;
		int give = c->w[i] - lo;

		if (!(c->f[i]->flags & TOP_FIELD_FLEX) || give <= 0)
			continue;
		if (give > total - cols)
			give = total - cols;
		c->w[i] -= give;
		total -= give;
	}
}
