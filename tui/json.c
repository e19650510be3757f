// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * --json: one JSON object per frame, one per line (NDJSON), with every
 * field of the view.  Times are seconds (floats), ts_ns the trace clock.
 *
 * {"klptop":1,"ts_ns":N,"mode":"events","kernel":"...","events":N,
 *  "lost":N,"tasks":N,"patches":[{"name":...,"enabled":true,
 *  "transition":true,"direction":"patching","phase":"started",
 *  "target":"patched","pass":N,"elapsed_s":F,"switched":N,"total":N,
 *  "pending":N,"signals":N,"forced":false,"freed":false,"released":false,
 *  "module":{"loaded":true,"refcnt":N},"verdict":"transition",
 *  "why":"...","blockers_total":N,"blockers":[{"pid":N,"tgid":N,
 *  "comm":"...","kthread":true,"state":"unpatched",
 *  "reason":"sleeping_in_func","function":"...","blocked_s":F,
 *  "checks":N}],"funcs":[{"object":"...","func":"...","sympos":N,
 *  "patched":true,"live":true,"runs":"...","switching":false}]}]}
 *
 * Unknown is null, never a guessed value: "pass", "signals", "elapsed_s"
 * of a transition the session joined under way; "target", "switched",
 * "pending" and "blockers_total" when its direction is unknown ("phase"
 * "unknown"); a task's "kthread" when no snapshot said; "refcnt" when
 * not known or the module is not loaded; "forced" of a module whose
 * patch the session never knew; a blocker's "blocked_s" when no check
 * of it was seen, and "checks" then too if the session joined the
 * transition under way (where it counts the checks seen: a lower bound;
 * fields: klptop.h).
 * Strings are escaped by top_esc_json() (esc.c): valid UTF-8 as it is,
 * bytes that are not as U+FFFD.
 * "phase" is "none", "init" (before klp_start_transition(): no task is
 * pending), "started" or "unknown"; "direction" is top_direction().
 *
 * "kernel" is the recorded kernel in a replay (null when the recording
 * does not say); a replay's frames have "replay_end", true once its last
 * event is shown.
 *
 * --patch-details adds each patch's "details" (details.c).
 *
 * --status --json is one such frame with "status" and "exit" after
 * "klptop", and each patch's "status" after its "name" (status.c).
 */
#include <float.h>
#include <string.h>

#include "klptop.h"

/* s needs no escaping: it can go out as it is, in one piece. */
static bool json_plain(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

static const char *bool_s(bool b)
{
	return b ? "true" : "false";
}

static const char *tri_s(int v)
{
	return v > 0 ? "true" : v == 0 ? "false" : "null";
}

/* A count, or null if unknown, into buf. */
static const char *count_s(char *buf, size_t size, unsigned int n)
{
	if (n == KLPT_UNKNOWN_COUNT)
		snprintf(buf, size, "null");
	else
		snprintf(buf, size, "%u", n);
	return buf;
}

static const char *phase_s(int phase)
{
	switch (phase) {
	case KLPT_PHASE_INIT:
		return "init";
	case KLPT_PHASE_STARTED:
		return "started";
	case KLPT_PHASE_UNKNOWN:
		return "unknown";
	}
	return "none";
}

/*
 * The blocker fast path below formats into a buffer by hand: a frame can
 * list 10k blockers, and fprintf's format parsing was most of --json's
 * time at that scale (bench/, benchmark 5).  The bytes are the same as
 * fprintf's.
 */
static char *put_s(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *put_u(char *p, unsigned long long v)
{
	char t[24];
	int n = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = t[--n];
	return p;
}

static char *put_d(char *p, long long v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u(p, 0ull - (unsigned long long)v);
	}
	return put_u(p, (unsigned long long)v);
}

/*
 * "%.3f" of x.  printf rounds x's exact binary value, ties to even: with
 * 60+ bits of long double mantissa, x * 1000 is exact (53 + 7 bits), so
 * its integer part and the comparison of the rest with 0.5 are exact
 * too.  Elsewhere (or for odd values) snprintf does it.
 */
static char *put_f3(char *p, double x)
{
#if LDBL_MANT_DIG >= 60
	if (x >= 0 && x < 1e15) {
		long double y = (long double)x * 1000;
		unsigned long long k = (unsigned long long)y;
		long double rest = y - (long double)k;

		if (rest > 0.5L || (rest == 0.5L && (k & 1)))
			k++;
		p = put_u(p, k / 1000);
		*p++ = '.';
		*p++ = (char)('0' + k / 100 % 10);
		*p++ = (char)('0' + k / 10 % 10);
		*p++ = (char)('0' + k % 10);
		return p;
	}
#endif
	return p + sprintf(p, "%.3f", x);
}

/*
 * "checks" and "blocked_s" are the kernel's (the task's whole history in
 * this transition) or null; "checks_since_open" and
 * "blocked_s_since_open" are what this session saw: the same when it saw
 * the whole history, lower bounds when it joined under way (see
 * klpt_task_checks_exact()); blocked_s_since_open is null if it saw no
 * blocked check.
 */
static bool blocked_exact(const struct top_blocker *b)
{
	return b->checks_known && b->first_blocked_ns;
}

static void blocker(FILE *f, const struct top_blocker *b)
{
	/* the fields' lengths are bounded: 16 + 64 + names + numbers */
	char buf[512], *p = buf;

	if (json_plain(b->comm) && json_plain(b->func) &&
	    strlen(top_state_name(b->state)) < 64 &&
	    strlen(top_reason_key(b->reason)) < 64) {
		p = put_s(p, "{\"pid\":");
		p = put_d(p, b->pid);
		p = put_s(p, ",\"tgid\":");
		p = put_d(p, b->tgid);
		p = put_s(p, ",\"comm\":\"");
		p = put_s(p, b->comm);
		p = put_s(p, "\",\"kthread\":");
		p = put_s(p, tri_s(b->kthread));
		p = put_s(p, ",\"state\":\"");
		p = put_s(p, top_state_name(b->state));
		p = put_s(p, "\",\"reason\":\"");
		p = put_s(p, top_reason_key(b->reason));
		p = put_s(p, "\",\"function\":\"");
		p = put_s(p, b->func);
		p = put_s(p, "\",\"blocked_s\":");
		if (blocked_exact(b))
			p = put_f3(p, (double)b->blocked_ns / 1e9);
		else
			p = put_s(p, "null");
		p = put_s(p, ",\"blocked_s_since_open\":");
		if (b->first_blocked_ns)
			p = put_f3(p, (double)b->blocked_ns / 1e9);
		else
			p = put_s(p, "null");
		p = put_s(p, ",\"checks\":");
		if (b->checks_known)
			p = put_u(p, b->checks);
		else
			p = put_s(p, "null");
		p = put_s(p, ",\"checks_since_open\":");
		p = put_u(p, b->checks);
		*p++ = '}';
		fwrite(buf, 1, (size_t)(p - buf), f);
		return;
	}
	fprintf(f, "{\"pid\":%d,\"tgid\":%d,\"comm\":", b->pid, b->tgid);
	top_esc_json(f, b->comm);
	fprintf(f, ",\"kthread\":%s,\"state\":\"%s\",\"reason\":\"%s\","
		"\"function\":", tri_s(b->kthread), top_state_name(b->state),
		top_reason_key(b->reason));
	top_esc_json(f, b->func);
	if (blocked_exact(b))
		fprintf(f, ",\"blocked_s\":%.3f",
			(double)b->blocked_ns / 1e9);
	else
		fputs(",\"blocked_s\":null", f);
	if (b->first_blocked_ns)
		fprintf(f, ",\"blocked_s_since_open\":%.3f",
			(double)b->blocked_ns / 1e9);
	else
		fputs(",\"blocked_s_since_open\":null", f);
	if (b->checks_known)
		fprintf(f, ",\"checks\":%u", b->checks);
	else
		fputs(",\"checks\":null", f);
	fprintf(f, ",\"checks_since_open\":%u}", b->checks);
}

/*
 * ,"funcs": null (not known), or per function "object", "func",
 * "sympos", "patched" (its object's), "live" (this patch's version
 * runs), "runs" (whose version runs: "" the original), "switching"
 * (that patch is in transition); "live" and "runs" null when unknown.
 */
static void funcs(FILE *f, const struct top_patch *p)
{
	int i;

	if (p->nfuncs < 0) {
		fputs(",\"funcs\":null", f);
		return;
	}
	fputs(",\"funcs\":[", f);
	for (i = 0; i < p->nfuncs; i++) {
		const struct top_func *fn = &p->funcs[i];

		fputs(i ? ",{\"object\":" : "{\"object\":", f);
		top_esc_json(f, fn->object);
		fputs(",\"func\":", f);
		top_esc_json(f, fn->name);
		fprintf(f, ",\"sympos\":%lu,\"patched\":%s,\"live\":%s,"
			"\"runs\":", fn->sympos, bool_s(fn->patched),
			fn->known ? bool_s(fn->live) : "null");
		if (fn->known)
			top_esc_json(f, fn->runs);
		else
			fputs("null", f);
		fprintf(f, ",\"switching\":%s}", bool_s(fn->switching));
	}
	fputc(']', f);
}

/*
 * status: --status's word for the patch, or NULL (a plain frame);
 * app: its page too (--patch-details, details.c), or NULL.
 */
static void patch(FILE *f, const struct top_patch *p, const char *status,
		  const struct top_app *app)
{
	bool dir_known = !p->transition || p->phase != KLPT_PHASE_UNKNOWN;
	char target[32], pass[16], signals[16], elapsed[32], switched[16];
	char pending[16], btotal[16], refcnt[16], at_least[16];
	int i;

	if (p->transition && !dir_known)
		snprintf(target, sizeof(target), "null");
	else
		snprintf(target, sizeof(target), "\"%s\"",
			 top_state_name(p->target));
	if (p->transition && !p->elapsed_ns)
		snprintf(elapsed, sizeof(elapsed), "null");
	else
		snprintf(elapsed, sizeof(elapsed), "%.3f",
			 (double)p->elapsed_ns / 1e9);
	/* with tasks of unknown state, switched is only a lower bound */
	count_s(switched, sizeof(switched),
		dir_known && !p->unknown ? p->switched : KLPT_UNKNOWN_COUNT);
	count_s(at_least, sizeof(at_least),
		dir_known ? p->switched : KLPT_UNKNOWN_COUNT);
	count_s(pending, sizeof(pending),
		dir_known ? p->pending : KLPT_UNKNOWN_COUNT);
	if (dir_known)
		snprintf(btotal, sizeof(btotal), "%d", p->nblockers_all);
	else
		snprintf(btotal, sizeof(btotal), "null");
	if (p->refcnt >= 0)
		snprintf(refcnt, sizeof(refcnt), "%d", p->refcnt);
	else
		snprintf(refcnt, sizeof(refcnt), "null");
	fputs("{\"name\":", f);
	top_esc_json(f, p->name);
	if (status)
		fprintf(f, ",\"status\":\"%s\"", status);
	fprintf(f, ",\"enabled\":%s,\"transition\":%s,\"direction\":\"%s\","
		"\"phase\":\"%s\",\"target\":%s,\"pass\":%s,\"elapsed_s\":%s,"
		"\"switched\":%s,\"switched_at_least\":%s,\"state_unknown\":%u,"
		"\"total\":%u,\"pending\":%s,\"signals\":%s,"
		"\"forced\":%s,\"freed\":%s,\"released\":%s,"
		"\"module\":{\"loaded\":%s,\"refcnt\":%s},\"verdict\":\"%s\","
		"\"why\":", bool_s(p->enabled), bool_s(p->transition),
		top_direction(p), phase_s(p->phase), target,
		count_s(pass, sizeof(pass), p->pass), elapsed, switched,
		at_least, p->unknown, p->total, pending, count_s(signals, sizeof(signals),
					   p->signals),
		p->forced_known ? bool_s(p->forced) : "null", bool_s(p->freed),
		bool_s(p->released), bool_s(p->module_loaded), refcnt,
		klpt_verdict_name(p->verdict));
	top_esc_json(f, p->verdict == KLPT_READY ? "" : p->why);
	fprintf(f, ",\"blockers_total\":%s,\"blockers\":[", btotal);
	for (i = 0; i < p->nblockers; i++) {
		if (i)
			fputc(',', f);
		blocker(f, &p->blockers[i]);
	}
	fputs("]", f);
	funcs(f, p);
	if (app) {
		struct top_details d;

		if (top_details_build(&d, app, p))
			fputs(",\"details\":null", f);
		else
			top_details_json(f, &d);
		top_details_free(&d);
	}
	fputs("}", f);
}

/* all, row: --status's (see top_json_status()), or row NULL. */
static void frame(FILE *f, const struct top_view *v,
		  const struct top_app *app, enum top_status all,
		  const enum top_status *row)
{
	int i;

	fputs("{\"klptop\":1", f);
	if (row)
		fprintf(f, ",\"status\":\"%s\",\"exit\":%d",
			top_status_name(all), top_status_exit(all));
	fprintf(f, ",\"ts_ns\":%llu,\"mode\":\"%s\",\"kernel\":",
		(unsigned long long)v->now, top_mode_name(v->mode));
	if (top_app_kernel(app)[0])	/* a replay's may be unknown */
		top_esc_json(f, top_app_kernel(app));
	else
		fputs("null", f);
	if (top_app_is_replay(app))
		fprintf(f, ",\"replay_end\":%s",
			top_app_ended(app) ? "true" : "false");
	fprintf(f, ",\"events\":%llu,\"lost\":%llu,\"tasks\":%d,"
		"\"patches\":[", (unsigned long long)v->events,
		(unsigned long long)v->lost, v->ntasks);
	for (i = 0; i < v->npatches; i++) {
		if (i)
			fputc(',', f);
		patch(f, &v->patches[i],
		      row ? top_status_name(row[i]) : NULL,
		      v->details ? app : NULL);
	}
	fputs("]}\n", f);
	fflush(f);
}

void top_json_frame(FILE *f, const struct top_view *v,
		    const struct top_app *app)
{
	frame(f, v, app, TOP_STATUS_OK, NULL);
}

void top_json_status(FILE *f, const struct top_view *v,
		     const struct top_app *app, enum top_status all,
		     const enum top_status *row)
{
	frame(f, v, app, all, row);
}
