// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * A patch's history: the steps of its life the session saw (its
 * transitions' events, its free and release, its module's references
 * and unload-ready) and the tasks that blocked its last transition.
 *
 * Bounded and allocation-free: everything lives in fixed arrays of the
 * patch (struct klpt_phist, internal.h).  A transition stuck for hours
 * makes a pass a second and a signal every 15: consecutive passes are
 * one step, and past KLPT_PHIST_MAX steps the oldest after the first
 * KLPT_PHIST_HEAD (how it began) make room, counted in dropped.  The
 * blockers kept are those with the most checks (the tasks that held it
 * longest): a blocked event looks at KLPT_PHIST_BLOCKERS entries at
 * most, and the model calls it only for the patch in transition.
 */
#include <string.h>

#include "internal.h"

#define RING (KLPT_PHIST_MAX - KLPT_PHIST_HEAD)

static void copy_str(char *dst, const char *src, size_t size)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

void klpt_phist_transition(struct klpt_phist *h)
{
	h->nblk = 0;
	h->blocked_tasks = 0;
	h->blocked_to[0] = h->blocked_to[1] = 0;
	h->blk_exact = true;
}

void klpt_phist_begin(struct klpt_phist *h, uint64_t ts, bool whole)
{
	h->n = h->ring = 0;
	h->dropped = 0;
	h->whole = whole;
	h->since = ts ? ts : 1;
	klpt_phist_transition(h);
}

static struct klpt_patch_step *slot(struct klpt_phist *h, int i)
{
	if (i < KLPT_PHIST_HEAD)
		return &h->step[i];
	return &h->step[KLPT_PHIST_HEAD + (h->ring + i - KLPT_PHIST_HEAD) %
			RING];
}

const struct klpt_patch_step *klpt_phist_at(const struct klpt_phist *h,
					    int i)
{
	if (i < 0 || i >= h->n)
		return NULL;
	return slot((struct klpt_phist *)h, i);
}

static struct klpt_patch_step *last(struct klpt_phist *h)
{
	return h->n ? slot(h, h->n - 1) : NULL;
}

void klpt_phist_add(struct klpt_phist *h, const struct klpt_patch_step *st)
{
	if (!h->since)
		h->since = st->ts ? st->ts : 1;
	if (h->n < KLPT_PHIST_MAX) {
		*slot(h, h->n++) = *st;
		return;
	}
	/* full: the oldest of the ring goes, the head stays */
	h->step[KLPT_PHIST_HEAD + h->ring] = *st;
	h->ring = (h->ring + 1) % RING;
	h->dropped++;
}

void klpt_phist_step(struct klpt_patch_step *st, const struct klpt_event *ev)
{
	memset(st, 0, sizeof(*st));
	st->type = ev->type;
	st->ts = st->first_ts = ev->ts;
	st->target = KLPT_UNDEFINED;
	switch (ev->type) {
	case KLPT_EV_TRANSITION_PASS:
		st->first_pass = ev->transition.pass;
		st->passes = 1;
		st->checked = ev->transition.checked;
		/* fall through */
	case KLPT_EV_TRANSITION_SIGNAL:
		st->pass = ev->transition.pass;
		st->pending = ev->transition.pending;
		/* fall through */
	case KLPT_EV_TRANSITION_INIT:
	case KLPT_EV_TRANSITION_START:
	case KLPT_EV_TRANSITION_REVERSE:
	case KLPT_EV_TRANSITION_FORCE:
	case KLPT_EV_TRANSITION_CANCEL:
	case KLPT_EV_TRANSITION_COMPLETE:
		st->target = ev->transition.target;
		st->forced = ev->transition.forced;
		break;
	case KLPT_EV_PATCH_FORCED:
	case KLPT_EV_PATCH_FREE:
	case KLPT_EV_PATCH_RELEASE:
		st->forced = ev->patch.forced;
		break;
	case KLPT_EV_MODULE_REF:
		st->get = ev->module.get;
		st->refcnt = ev->module.refcnt;
		copy_str(st->caller, ev->module.caller, sizeof(st->caller));
		break;
	default:
		break;
	}
}

void klpt_phist_event(struct klpt_phist *h, const struct klpt_event *ev)
{
	struct klpt_patch_step st, *l = last(h);

	if (ev->type == KLPT_EV_TRANSITION_PASS && l &&
	    l->type == KLPT_EV_TRANSITION_PASS &&
	    l->target == ev->transition.target &&
	    ev->transition.pass > l->pass) {
		/* the next pass of the same run: one step for all */
		l->ts = ev->ts;
		l->pass = ev->transition.pass;
		l->passes++;
		l->checked = ev->transition.checked;
		l->pending = ev->transition.pending;
		return;
	}
	klpt_phist_step(&st, ev);
	klpt_phist_add(h, &st);
}

void klpt_phist_lost(struct klpt_phist *h, uint64_t ts, bool in_transition)
{
	struct klpt_patch_step st, *l = last(h);

	if (in_transition)
		h->blk_exact = false;
	if (l && l->type == KLPT_EV_LOST) {
		if (ts > l->ts)
			l->ts = ts;
		return;
	}
	memset(&st, 0, sizeof(st));
	st.type = KLPT_EV_LOST;
	st.ts = st.first_ts = ts;
	st.target = KLPT_UNDEFINED;
	klpt_phist_add(h, &st);
}

/* Keep blk sorted by checks (most first): move entry i up. */
static void blk_up(struct klpt_phist *h, int i)
{
	while (i > 0 && h->blk[i].checks > h->blk[i - 1].checks) {
		struct klpt_patch_blocker t = h->blk[i];

		h->blk[i] = h->blk[i - 1];
		h->blk[--i] = t;
	}
}

void klpt_phist_blocked(struct klpt_phist *h, const struct klpt_event *ev,
			unsigned int checks, uint64_t first_ns,
			bool first_any, bool first_to, bool exact)
{
	struct klpt_patch_blocker *b = NULL;
	int i;

	if (!exact)
		h->blk_exact = false;
	if (first_any)
		h->blocked_tasks++;
	if (first_to && (ev->task.target == KLPT_UNPATCHED ||
			 ev->task.target == KLPT_PATCHED))
		h->blocked_to[ev->task.target]++;
	for (i = 0; i < h->nblk; i++) {
		if (h->blk[i].pid == ev->task.pid &&
		    h->blk[i].target == ev->task.target) {
			b = &h->blk[i];
			break;
		}
	}
	if (!b) {
		if (h->nblk < KLPT_PHIST_BLOCKERS) {
			i = h->nblk++;
		} else {
			/* the last has the fewest checks: this one if more */
			i = KLPT_PHIST_BLOCKERS - 1;
			if (checks <= h->blk[i].checks)
				return;
		}
		b = &h->blk[i];
		memset(b, 0, sizeof(*b));
		b->pid = ev->task.pid;
		b->target = ev->task.target;
	}
	b->first_ns = first_ns ? first_ns : b->first_ns ? b->first_ns : ev->ts;
	b->tgid = ev->task.tgid;
	copy_str(b->comm, ev->task.comm, sizeof(b->comm));
	b->reason = ev->task.reason;
	copy_str(b->func, ev->task.func, sizeof(b->func));
	b->last_ns = ev->ts;
	b->checks = checks > b->checks ? checks : b->checks + 1;
	blk_up(h, i);
}
