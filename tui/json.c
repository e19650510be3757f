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
 *  "why":"...","blockers_total":N,"blockers":[{"tgid":N,"tid":N,
 *  "pid":N,"comm":"...","kthread":true,"state":"unpatched",
 *  "reason":"sleeping_in_func","function":"...","blocked_s":F,
 *  "checks":N}],"funcs":[{"object":"...","func":"...","sympos":N,
 *  "patched":true,"live":true,"runs":"...","switching":false}]}]}
 *
 * "kernel" is the recorded kernel in a replay (null when the recording
 * does not say); a replay's frames have "replay_end", true once its last
 * event is shown.
 *
 * --patch-details adds each patch's "details" (details.c).
 *
 * The keys, their order and their values are the field table's
 * (fields.c: a field's JSON key, its json_put()); this file only walks
 * it, or has a blocker's object written by top_json_fast()'s function,
 * which fields.c checks against the table.  "pid" is the thread, as
 * "tid" (klptop 0.1's key, kept).
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
 * --status --json is one such frame with "status" and "exit" after
 * "klptop", and each patch's "status" after its "name" (status.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

/*
 * A row type's JSON, compiled once from the table: per field the bytes
 * before its value (a comma, an object's end or start, its "key":) and
 * its writer.  A frame writes 10k blockers: walking the table's keys
 * every time (nesting, lengths) cost more than the values.
 */
struct step {
	char pre[48];
	size_t len;
	char *(*put)(char *p, const void *row);
	bool (*has)(const void *row);
};

static struct plan {
	int n;
	struct step s[32];
	bool close;		/* the last field is in an object: "}" */
	size_t need;		/* a row's bytes at most */
} plans[TOP_ROW__COUNT];

static const struct plan *plan_of(enum top_row type)
{
	struct plan *pl = &plans[type];
	const struct top_field *t;
	const char *obj = NULL;
	size_t objlen = 0;
	int i, n;

	if (pl->n)
		return pl;
	t = top_fields(type, &n);
	for (i = 0; i < n && pl->n < 32; i++) {
		struct step *st = &pl->s[pl->n];
		const char *key = t[i].json, *dot;
		int len = 0;

		if (!key)
			continue;
		dot = strchr(key, '.');
		if (obj && !(dot && (size_t)(dot - key) == objlen &&
			     !strncmp(key, obj, objlen))) {
			st->pre[len++] = '}';	/* the object ends */
			obj = NULL;
		}
		if (pl->n)
			st->pre[len++] = ',';
		if (dot && !obj) {		/* an object starts */
			obj = key;
			objlen = (size_t)(dot - key);
			len += snprintf(st->pre + len, sizeof(st->pre) - len,
					"\"%.*s\":{", (int)objlen, key);
		}
		len += snprintf(st->pre + len, sizeof(st->pre) - len,
				"\"%s\":", dot ? dot + 1 : key);
		st->len = (size_t)len;
		st->put = t[i].json_put;
		st->has = t[i].has;
		pl->need += st->len + TOP_FIELD_JSON_MAX;
		pl->n++;
	}
	pl->close = obj != NULL;
	pl->need += 8;
	return pl;
}

/*
 * lead (at most 2 bytes), the fields of row (of the table's row type)
 * as "key":value pairs with after (raw JSON, or NULL) once the first one
 * is out, then tail (at most 2 bytes).  Returns the end, NULL on -ENOMEM.
 */
static char *fields(struct top_buf *b, char *p, const char *lead,
		    enum top_row type, const void *row, const char *after,
		    const char *tail)
{
	const struct plan *pl = plan_of(type);
	const struct step *st = pl->s, *end = st + pl->n;

	b->len = (size_t)(p - b->p);
	p = top_buf_reserve(b, pl->need + (after ? strlen(after) : 0));
	if (!p)
		return NULL;
	while (*lead)
		*p++ = *lead++;
	for (; st < end; st++) {
		/* (never the first key, nor one of an object: fields.c) */
		if (st->has && !st->has(row))
			continue;
		/*
		 * the whole array (a constant size: a few moves, not a
		 * call); the room reserved for the value holds the rest
		 */
		memcpy(p, st->pre, sizeof(st->pre));
		p = st->put(p + st->len, row);
		if (st == pl->s && after)
			p = top_put_s(p, after);
	}
	if (pl->close)
		*p++ = '}';
	while (*tail)
		*p++ = *tail++;
	return p;
}

/* s (at most n bytes) at p, room made: the new end, NULL on -ENOMEM. */
static char *put(struct top_buf *b, char *p, const char *s, size_t n)
{
	b->len = (size_t)(p - b->p);
	p = top_buf_reserve(b, n);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	return p + n;
}

#define PUT(s) do {					\
		p = put(b, p, s, sizeof(s) - 1);	\
		if (!p)					\
			return NULL;			\
	} while (0)

/* --patch-details: the patch's page (details.c) at p. */
static char *details(struct top_buf *b, char *p, const struct top_app *app,
		     const struct top_patch *pa)
{
	struct top_details d;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	if (top_details_build(&d, app, pa))
		fputs(",\"details\":null", m);
	else
		top_details_json(m, &d);
	top_details_free(&d);
	if (fclose(m)) {
		free(buf);
		return NULL;
	}
	p = put(b, p, buf, len);
	free(buf);
	return p;
}

/*
 * One patch's object; status: --status's word for it, or NULL; app: its
 * page too (--patch-details), or NULL.
 */
static char *patch(struct top_buf *b, char *p, const struct top_patch *pa,
		   const char *status, const struct top_app *app)
{
	top_json_row_fn fast = top_json_fast(TOP_ROW_BLOCKER);
	char after[64];
	int i;

	if (status)
		snprintf(after, sizeof(after), ",\"status\":\"%s\"", status);
	p = fields(b, p, "{", TOP_ROW_PATCH, pa, status ? after : NULL, "");
	if (!p)
		return NULL;
	PUT(",\"blockers\":[");
	for (i = 0; i < pa->nblockers; i++) {
		if (fast) {
			b->len = (size_t)(p - b->p);
			p = top_buf_reserve(b, plan_of(TOP_ROW_BLOCKER)->need);
			if (!p)
				return NULL;
			if (i)
				*p++ = ',';
			p = fast(p, &pa->blockers[i]);
			continue;
		}
		p = fields(b, p, i ? ",{" : "{", TOP_ROW_BLOCKER,
			   &pa->blockers[i], NULL, "}");
		if (!p)
			return NULL;
	}
	PUT("]");
	if (pa->nfuncs < 0) {
		PUT(",\"funcs\":null");
	} else {
		PUT(",\"funcs\":[");
		for (i = 0; i < pa->nfuncs; i++) {
			p = fields(b, p, i ? ",{" : "{", TOP_ROW_FUNC,
				   &pa->funcs[i], NULL, "}");
			if (!p)
				return NULL;
		}
		PUT("]");
	}
	if (app) {
		p = details(b, p, app, pa);
		if (!p)
			return NULL;
	}
	PUT("}");
	return p;
}

/* all, row: --status's (see top_json_status()), or row NULL. */
static int frame(struct top_buf *b, const struct top_view *v,
		 const struct top_app *app, enum top_status all,
		 const enum top_status *row)
{
	struct top_frame_ctx ctx = { v, app };
	size_t guess = 64 * 1024;
	char after[96], *p;
	int i;

	/*
	 * Room for the whole frame at once, by a guess of a row's bytes
	 * (~230 for a blocker): the first frame of 10k blockers grew the
	 * buffer ten times over, its JSON taking 2.2-2.7 ms where the next
	 * frames' took 0.7 (1.8 so: the rest is pages touched the first
	 * time).
	 */
	for (i = 0; i < v->npatches; i++)
		guess += (size_t)v->patches[i].nblockers * 256 +
			 (size_t)(v->patches[i].nfuncs > 0 ?
				  v->patches[i].nfuncs : 0) * 512 + 4096;
	b->len = 0;
	p = top_buf_reserve(b, guess);
	if (!p)
		return -ENOMEM;
	if (row)
		snprintf(after, sizeof(after), ",\"status\":\"%s\",\"exit\":%d",
			 top_status_name(all), top_status_exit(all));
	p = fields(b, p, "{", TOP_ROW_FRAME, &ctx, row ? after : NULL, "");
	if (!p)
		return -ENOMEM;
	p = put(b, p, ",\"patches\":[", 12);
	for (i = 0; p && i < v->npatches; i++) {
		if (i)
			p = put(b, p, ",", 1);
		if (p)
			p = patch(b, p, &v->patches[i],
				  row ? top_status_name(row[i]) : NULL,
				  v->details ? app : NULL);
	}
	if (p)
		p = put(b, p, "]}\n", 3);
	if (!p)
		return -ENOMEM;
	b->len = (size_t)(p - b->p);
	return 0;
}

int top_json_frame(struct top_buf *b, const struct top_view *v,
		   const struct top_app *app)
{
	return frame(b, v, app, TOP_STATUS_OK, NULL);
}

int top_json_status(FILE *f, const struct top_view *v,
		    const struct top_app *app, enum top_status all,
		    const enum top_status *row)
{
	struct top_buf b = { NULL, 0, 0 };
	int ret = frame(&b, v, app, all, row);

	if (!ret)
		fwrite(b.p, 1, b.len, f);
	top_buf_free(&b);
	return ret;
}
