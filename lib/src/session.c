// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * session.c: the public session object.  It ties a source of pages
 * (live.c or replay.c) to the merge (pages.c), the decoder (decode.c)
 * and the model (model.c), and calls the user back for every event.
 *
 * The stream and the ground truth
 * -------------------------------
 * The model starts from, and after lost events returns to, a snapshot
 * of sysfs/procfs (truth.c).  Events are enabled before the snapshot is
 * read, so an event can be older than the snapshot, and reading sysfs
 * and procfs takes a while during which more events happen.  The
 * session therefore puts the snapshot into the event stream as if it
 * were an event, at its timestamp T, the trace clock (CLOCK_MONOTONIC,
 * see live.c) read just *before* the snapshot is read:
 *
 *   - a record with ts < T happened before anything was read: the
 *     snapshot already reflects it.  It is applied before the reconcile,
 *     so the model learns what the snapshot cannot say (the reason a
 *     task is blocked, the function, blocked-since times); the reconcile
 *     then makes the states agree with the snapshot.
 *   - a record with ts >= T may or may not be reflected.  It is applied
 *     after the reconcile.  That is safe because events carry absolute
 *     values (a task's new state, a module's refcount after the
 *     operation, a pass number), so applying one the snapshot already
 *     saw yields the same state, and every later event follows it in
 *     order.
 *
 * Every record is thus applied exactly once, in order, and the snapshot
 * is never mixed with events twice: no double application.  The records
 * up to T are read by a fill that starts after T was taken (a record
 * written before T is readable then).
 *
 * At start-up (open) the records before T are applied to the model
 * only: they belong to the initial state like the snapshot itself, and
 * the caller's callback sees events from the snapshot on.  The first
 * record at or after T is kept for the first klpt_session_process().
 * The same mechanism resyncs after lost events (LOST, then the
 * snapshot, then RESYNC) and, in the fallback mode, on every tick of
 * the polling timer.  A replay does the same with the recording's
 * start-up snapshot and its saved T.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <tracefs.h>

#include "internal.h"

#ifndef KLPT_VERSION_STRING
#define KLPT_VERSION_STRING "0.1.0"
#endif

/* Fills per process() call when the pages hold none of our events. */
#define SESSION_MAX_ROUNDS 8

struct klpt_session {
	struct klpt_source *src;
	struct klpt_merge *merge;
	struct klpt_decoder *dec;
	struct klpt_model *model;
	klpt_event_fn on_event;
	/* an internal waiter's stop (klpt_session_set_stop()) */
	klpt_stop_fn stop;
	void *stop_ctx;
	void *ctx;
	enum klpt_mode mode;
	char *root;		/* prefix of /sys and /proc, "" for real */
	char *tracefs_dir;	/* live: where the formats are (recordings) */
	char *replay_path;	/* a replay's recording (rewind) */
	struct klpt_recorder *rec;
	int epfd;		/* klpt_session_fd() */
	int timerfd;		/* fallback polling, else -1 */
	int kick;		/* eventfd: readable while records wait */
	bool kicked;		/* kick is set: its counter is not 0 */
	bool kick_want;		/* this process() call leaves it set */
	/* The pending snapshot (see the top of this file), or NULL. */
	struct klpt_truth *sync;
	bool sync_owned;	/* ours to free (not the replay's) */
	bool sync_filled;	/* a fill ran after it was taken */
	bool silent;		/* start-up: apply to the model only */
	/*
	 * A completion was processed: read the patches again at the next
	 * process() (pinfo_refresh()).  The probe fires at the entry of 6.1
	 * klp_complete_transition(), so the read right after the event may
	 * come before klp_unpatch_replaced_patches() cleared the replaced
	 * patches' `enabled` and klp_discard_nops() removed the nops.
	 */
	bool pinfo_again;
	/* A record already taken from the merge, handled first next time. */
	struct tep_record *held;
	uint64_t held_lost;
	uint64_t events, lost;
	uint64_t bad;		/* malformed records skipped */
	unsigned int poll_ms;	/* fallback polling period */
	unsigned int timer_ms;	/* the timer's interval now */
	/*
	 * The fallback's ticks (fbscan.c).  fb_cheap: the session was
	 * opened in the fallback and the kernel has task:task_newtask and
	 * sched:sched_process_exit (enabled then, live.c), so the model
	 * sees every task come and go and a tick may read only the tasks
	 * it has as unsettled.
	 */
	struct klpt_fbscan fb;
	bool fb_cheap;
	uint64_t klp_check_ns;	/* next look for klptrace.ko's removal */
	/*
	 * KLPT_MODE_FALLBACK because klptrace.ko's hooks do not fire now
	 * (ftrace off): events mode again when they do.  missed is the sum
	 * of its missed counts as last read.  See hooks_check().
	 */
	bool degraded;
	uint64_t missed;
	uint64_t switches;	/* kernel.ftrace_enabled switches, last read */
	/* ts of the last event delivered, or of the last snapshot */
	uint64_t last_ts;
};

KLPT_API const char *klpt_version(void)
{
	return KLPT_VERSION_STRING;
}

/* klpt_event_type_name() is in decode.c, next to the decoding table. */

struct klpt_model *klpt_session_model(const struct klpt_session *s)
{
	return s ? s->model : NULL;
}

const char *klpt_session_root(const struct klpt_session *s)
{
	return s ? s->root : "";
}

/*
 * The session's clock: the monotonic clock live (its events' clock), the
 * recording's time in a replay (the last event's), which runs only as
 * the replay goes on.
 */
uint64_t klpt_session_now_ns(const struct klpt_session *s)
{
	return s->mode == KLPT_MODE_REPLAY ? s->last_ts : klpt_mono_ns();
}

/* ------------------------------------------------------ the event loop */

/*
 * Make kick readable (on) or not.  Only we read or write it, so kicked
 * says its state and only a change costs a syscall: a replay's
 * process() calls (one a page or so) would otherwise clear and set it
 * every time.
 */
static void kick(struct klpt_session *s, bool on)
{
	uint64_t v = 1;

	if (on == s->kicked)
		return;
	s->kicked = on;
	if ((on ? write(s->kick, &v, sizeof(v)) :
		  read(s->kick, &v, sizeof(v))) < 0) {
		/* EAGAIN: at its maximum (set), or not set */
	}
}

/* Records wait: kick stays readable after this process() call. */
static void kick_set(struct klpt_session *s)
{
	s->kick_want = true;
}

static void hold(struct klpt_session *s, struct tep_record *rec,
		 uint64_t lost)
{
	s->held = rec;
	s->held_lost = lost;
}

static void sync_drop(struct klpt_session *s)
{
	if (s->sync_owned)
		klpt_truth_free(s->sync);
	s->sync = NULL;
	s->sync_owned = false;
}

/* Make t, read from ts on, the pending resync point. */
static void sync_set(struct klpt_session *s, struct klpt_truth *t,
		     uint64_t ts)
{
	t->ts = ts;
	sync_drop(s);
	s->sync = t;
	s->sync_owned = true;
	s->sync_filled = false;
}

/* Take a snapshot now and make it the pending resync point. */
static int sync_begin(struct klpt_session *s)
{
	struct klpt_truth *t;
	uint64_t ts = klpt_mono_ns();	/* before reading: see the top */
	int ret;

	ret = klpt_truth_take(s->root, &t);
	if (ret < 0)
		return ret;
	sync_set(s, t, ts);
	return 0;
}

/*
 * The fallback proper: no klptrace.ko, or a session that lost it.  Not
 * a degraded one (klptrace.ko's hooks off for a while): its timer also
 * reads the hooks' state at poll_ms, and its klp events may come back.
 */
static bool fb_pure(const struct klpt_session *s)
{
	return s->mode == KLPT_MODE_FALLBACK && !s->degraded;
}

/* The polling timer's interval (fbscan.c's backing off); best effort. */
static void fb_schedule(struct klpt_session *s, unsigned int ms)
{
	struct itimerspec its = {
		.it_interval.tv_sec = ms / 1000,
		.it_interval.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	if (s->timerfd < 0 || ms == s->timer_ms)
		return;
	its.it_value = its.it_interval;
	if (!timerfd_settime(s->timerfd, 0, &its, NULL))
		s->timer_ms = ms;
}

/*
 * A tick of the fallback: a whole snapshot, or the cheap round's
 * partial one (fbscan.c), made the pending resync point either way.
 */
static int fb_tick(struct klpt_session *s)
{
	struct klpt_truth *t;
	uint64_t ts = klpt_mono_ns();	/* before reading: see the top */
	int ret;

	ret = klpt_fbscan_begin(&s->fb, s->model, s->root, s->fb_cheap, &t);
	if (ret < 0)
		return ret;
	if (ret > 0)
		return sync_begin(s);
	sync_set(s, t, ts);
	return 0;
}

/* Returns 1 if on_event or the internal waiter asked to stop, else 0. */
static int emit(struct klpt_session *s, const struct klpt_event *ev, int *n)
{
	bool stop = s->stop && s->stop(ev, s->stop_ctx);

	if (ev->ts > s->last_ts)
		s->last_ts = ev->ts;
	s->events++;
	(*n)++;
	if (s->on_event && s->on_event(s, ev, s->ctx))
		stop = true;
	return stop ? 1 : 0;
}

void klpt_session_set_stop(struct klpt_session *s, klpt_stop_fn fn,
			   void *ctx)
{
	s->stop = fn;
	s->stop_ctx = ctx;
}

/*
 * The model learns of a loss that a reconcile will follow (a live
 * session's new snapshot, or start-up's): until then its checks are
 * lower bounds, and at the reconcile a task it first saw in an event
 * may be another one on a reused tid (klpt_model_reconcile()).  A
 * replay has no snapshot to come: its model is not made stale.
 */
static void model_lost(struct klpt_session *s, const struct klpt_event *ev)
{
	klpt_model_apply(s->model, ev);
}

/*
 * A live session reads the patches' functions and places on klp_patches
 * from sysfs (pfuncs.c) whenever they may have changed: at every
 * reconcile, and after the events that make, start, reverse, complete
 * or free a patch, or load or free a module (6.1 klp_module_coming()
 * and klp_module_going() patch and unpatch its objects).  A replay has
 * no sysfs: its patches' functions stay unknown.
 */
static void pinfo_refresh(struct klpt_session *s)
{
	char name[64];
	int i, n;

	if (s->mode == KLPT_MODE_REPLAY)
		return;
	n = klpt_model_patch_count(s->model);
	for (i = 0; i < n; i++) {
		const struct klpt_patch *p = klpt_model_patch_at(s->model, i);
		struct klpt_pinfo pi;

		snprintf(name, sizeof(name), "%s", klpt_patch_name(p));
		if (!klpt_pinfo_take(s->root, name, &pi))
			klpt_model_set_pinfo(s->model, name, &pi);
	}
}

static bool pinfo_event(enum klpt_event_type type)
{
	switch (type) {
	case KLPT_EV_TRANSITION_INIT:
	case KLPT_EV_TRANSITION_START:
	case KLPT_EV_TRANSITION_REVERSE:
	case KLPT_EV_TRANSITION_CANCEL:
	case KLPT_EV_TRANSITION_COMPLETE:
	case KLPT_EV_PATCH_FREE:
	case KLPT_EV_PATCH_RELEASE:
	case KLPT_EV_MODULE_LOAD:
	case KLPT_EV_MODULE_FREE:
		return true;
	default:
		return false;
	}
}

/*
 * Reconcile with the pending snapshot; RESYNC unless starting up.  A
 * cheap round's partial one (fbscan.c) only sets the states it read,
 * and says RESYNC only if one changed.
 */
static int sync_finish(struct klpt_session *s, int *n)
{
	struct klpt_event ev;
	bool changed;

	memset(&ev, 0, sizeof(ev));
	ev.type = KLPT_EV_RESYNC;
	ev.ts = s->sync->ts;
	ev.cpu = -1;
	if (ev.ts > s->last_ts)
		s->last_ts = ev.ts;	/* at start-up too (silent) */
	if (s->sync->partial) {
		changed = klpt_model_refresh(s->model, s->sync) > 0;
		fb_schedule(s, klpt_fbscan_after(&s->fb, changed));
		sync_drop(s);
		return changed && !s->silent ? emit(s, &ev, n) : 0;
	}
	klpt_model_reconcile(s->model, s->sync);
	pinfo_refresh(s);
	if (fb_pure(s)) {
		/* ENOMEM leaves the patches unknown: the next tick is whole */
		klpt_fbscan_taken(&s->fb, s->sync);
		fb_schedule(s, s->fb.cur_ms);
	}
	sync_drop(s);
	return s->silent ? 0 : emit(s, &ev, n);
}

/*
 * One record: the resync point if it comes first, the loss before it,
 * then the record itself.  0 to go on, 1 to stop (on_event said so, or
 * start-up reached the snapshot; the record is held if not yet
 * handled), or a negative errno (the record is held).
 */
static int step(struct klpt_session *s, struct tep_record *rec,
		uint64_t lost, int *n)
{
	struct klpt_event ev;
	int ret;

	if (s->sync && rec->ts >= s->sync->ts) {
		ret = sync_finish(s, n);
		if (ret || s->silent) {
			hold(s, rec, lost);
			return 1;
		}
	}
	if (lost) {
		/*
		 * The kernel overwrote events before rec on its CPU: take a
		 * new snapshot (live).  Counted once it is taken, so that a
		 * failed attempt is retried with the record.
		 */
		if (!s->silent && s->mode != KLPT_MODE_REPLAY) {
			ret = sync_begin(s);
			if (ret < 0) {
				hold(s, rec, lost);
				return ret;
			}
		}
		s->lost += lost == UINT64_MAX ? 1 : lost;
		memset(&ev, 0, sizeof(ev));
		ev.type = KLPT_EV_LOST;
		ev.ts = rec->ts;
		ev.cpu = -1;
		ev.lost.count = lost == UINT64_MAX ? 0 : lost;
		if (s->mode != KLPT_MODE_REPLAY)
			model_lost(s, &ev);
		if (!s->silent) {
			if (emit(s, &ev, n)) {
				hold(s, rec, 0);
				return 1;
			}
		}
	}
	ret = klpt_decode(s->dec, rec, &ev);
	if (ret <= 0) {
		/* Not ours, or malformed: one bad record must not stop a
		 * live session; it is counted, not delivered. */
		if (ret < 0)
			s->bad++;
		return 0;
	}
	klpt_model_apply(s->model, &ev);
	if (pinfo_event(ev.type))
		pinfo_refresh(s);
	if (ev.type == KLPT_EV_TRANSITION_COMPLETE)
		s->pinfo_again = true;
	/* a patch module came or went: the next tick reads everything */
	if (fb_pure(s) && (ev.type == KLPT_EV_MODULE_LOAD ||
			   ev.type == KLPT_EV_MODULE_FREE))
		fb_schedule(s, klpt_fbscan_changed(&s->fb));
	return s->silent ? 0 : emit(s, &ev, n);
}

/*
 * Fill, and handle records until the merge is dry.  If a pass brought
 * pages but none of our events, fill again (a bounded number of times
 * live, until the end for a replay: a replay returns 0 only at its end).
 * Returns 0, 1 (stopped early) or a negative errno.
 */
static int run(struct klpt_session *s, int *n)
{
	struct tep_record *rec;
	uint64_t lost;
	int round, pushed, ret;

	if (s->held) {
		rec = s->held;
		lost = s->held_lost;
		s->held = NULL;
		ret = step(s, rec, lost, n);
		if (ret)
			return ret;
	}
	for (round = 0;; round++) {
		pushed = s->src->fill(s->src, s->merge);
		if (pushed < 0)
			return pushed;
		if (s->sync)
			s->sync_filled = true;
		while ((rec = klpt_merge_next(s->merge, &lost))) {
			ret = step(s, rec, lost, n);
			if (ret)
				return ret;
		}
		if (s->sync) {
			/*
			 * Dry.  Records older than the snapshot may still be
			 * unread: live, if no fill ran since it was taken;
			 * in a replay, until its end.  (Records held at a live
			 * fill's horizon are newer than the snapshot: the
			 * fill began after it.)
			 */
			if (s->mode == KLPT_MODE_REPLAY ? pushed > 0 :
			    !s->sync_filled)
				continue;
			ret = sync_finish(s, n);
			if (ret || s->silent)
				return ret;
		}
		if (klpt_merge_held(s->merge)) {
			/*
			 * Records from after this fill began wait for the next
			 * one (pages.c), which releases them: now, unless
			 * events keep coming; then the caller comes back.
			 */
			if (round < SESSION_MAX_ROUNDS)
				continue;
			kick_set(s);
			return 0;
		}
		if (*n || !pushed)
			return 0;
		if (s->mode != KLPT_MODE_REPLAY && round >= SESSION_MAX_ROUNDS)
			return 0;
	}
}

/*
 * Events were lost outside the ring buffer's own accounting: count of
 * them, and more (unknown) if unknown; the LOST says count, or 0 if it
 * is not all.  A new snapshot is taken; the RESYNC follows at
 * the snapshot, as for a ring-buffer loss (step()).  The LOST is dated
 * by the last event delivered: the loss came after it, and records
 * older than now may still be on their way (they come before the
 * RESYNC), so "now" would put it out of order.
 */
static int lose(struct klpt_session *s, uint64_t count, bool unknown,
		int *n)
{
	uint64_t total;
	struct klpt_event ev;
	int ret;

	/* counts saturate (a hostile missed file must not wrap them) */
	if (count > KLPT_COUNT_MAX)
		count = KLPT_COUNT_MAX;
	total = count + (unknown || !count);
	ret = sync_begin(s);
	if (ret)
		return ret;
	/* an unknown number counts as one */
	s->lost = total > UINT64_MAX - s->lost ? UINT64_MAX : s->lost + total;
	if (s->src->rec) {
		/* the recording says so too (live.c marks its next page) */
		s->src->rec_lost += total;
		s->src->rec_lost_known |= count != 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = KLPT_EV_LOST;
	ev.ts = s->last_ts;
	ev.cpu = -1;
	ev.lost.count = unknown ? 0 : count;
	model_lost(s, &ev);
	return emit(s, &ev, n);
}

static bool timer_fired(struct klpt_session *s)
{
	uint64_t ticks;

	return s->timerfd >= 0 &&
	       read(s->timerfd, &ticks, sizeof(ticks)) == sizeof(ticks);
}

static int start_polling(struct klpt_session *s);

/*
 * klptrace.ko removed under a live session: its events are gone and the
 * kernel reset the ring buffers, so what was in them is lost.  Say so
 * (LOST), go on as the fallback (module events and polling) and resync
 * with a snapshot (RESYNC), rather than keep a model that no event will
 * ever correct.  Looked for at most once a second (one stat()).
 */
static int klp_gone_check(struct klpt_session *s, int *n)
{
	uint64_t now = klpt_mono_ns();
	int ret;

	if (s->mode != KLPT_MODE_EVENTS || !s->src->klp_gone ||
	    now < s->klp_check_ns)
		return 0;
	s->klp_check_ns = now + 1000000000u;
	if (!s->src->klp_gone(s->src))
		return 0;
	s->mode = KLPT_MODE_FALLBACK;
	klpt_decoder_set_fallback(s->dec, true);
	klpt_model_set_fallback(s->model, true);
	ret = start_polling(s);
	if (ret)
		return ret;
	return lose(s, 0, true, n);
}

/* In or out of the fallback while klptrace.ko's hooks do not fire. */
static void set_degraded(struct klpt_session *s, bool on)
{
	s->degraded = on;
	s->mode = on ? KLPT_MODE_FALLBACK : KLPT_MODE_EVENTS;
	klpt_decoder_set_fallback(s->dec, on);
	klpt_model_set_fallback(s->model, on);
	s->src->degrade(s->src, on);
}

/* A count read anew: how much it grew (0 if unknown or smaller, as a
 * reloaded module's), and the new value kept. */
static uint64_t growth(uint64_t *last, uint64_t now)
{
	uint64_t grew = 0;

	if (now == UINT64_MAX)
		return 0;
	if (now > *last)
		grew = now - *last;
	*last = now;
	return grew;
}

/*
 * klptrace.ko's own report, read on the polling timer's ticks (at most
 * once per poll_ms; the timer runs in the events mode too):
 *   - a missed count grew (a probe hit the kernel could not report):
 *     LOST with the growth, then RESYNC;
 *   - kernel.ftrace_enabled was switched (ftrace_switches grew): the
 *     hooks were off for a while, however short: LOST (how many
 *     unknown), then RESYNC;
 *   - its hooks stopped firing (kernel.ftrace_enabled 0: the kprobes are
 *     ftrace-based; or kprobes disarmed): LOST, the fallback (module
 *     events, polling, no per-task reason) and RESYNC; when they fire
 *     again, LOST (what happened in between is known from snapshots
 *     only) and RESYNC in the events mode.
 * One LOST covers whatever a tick found.
 */
static int hooks_check(struct klpt_session *s, int *n)
{
	struct klpt_hooks_state st;
	uint64_t grew, switched;
	bool changed;
	int ret;

	if (!s->src->hooks || (s->mode != KLPT_MODE_EVENTS && !s->degraded))
		return 0;
	ret = s->src->hooks(s->src, &st);
	if (ret < 0) {
		/*
		 * Only -ENOENT says klptrace.ko is gone (its directory
		 * is); a file that cannot be read or parsed this tick
		 * (too large, odd) changes nothing.
		 */
		if (!s->degraded || ret != -ENOENT)
			return 0;	/* klp_gone_check() sees to it */
		/* klptrace.ko removed while degraded: the fallback for good */
		s->degraded = false;
		return lose(s, 0, true, n);
	}
	grew = growth(&s->missed, st.missed);
	switched = growth(&s->switches, st.switches);
	changed = st.off != s->degraded;
	if (changed)
		set_degraded(s, st.off);
	else if (!grew && !switched)
		return 0;
	/* the missed hits, and an unknown number while hooks were off */
	return lose(s, grew, changed || switched, n);
}

static int process(struct klpt_session *s)
{
	int n = 0, ret;

	if (s->pinfo_again) {
		s->pinfo_again = false;
		pinfo_refresh(s);
	}
	ret = klp_gone_check(s, &n);
	if (ret < 0)
		return klpt_err(-ret);
	if (ret > 0)
		return n;	/* on_event asked to stop */
	if (timer_fired(s)) {
		ret = hooks_check(s, &n);
		if (ret < 0)
			return klpt_err(-ret);
		if (ret > 0)
			return n;	/* on_event asked to stop */
		/* Fallback: the ground truth is all there is; re-read it. */
		if (s->mode == KLPT_MODE_FALLBACK && !s->sync) {
			ret = fb_pure(s) ? fb_tick(s) : sync_begin(s);
			if (ret < 0)
				return klpt_err(-ret);
		}
	}
	ret = run(s, &n);
	/* The source dropped a recording that failed: it is over. */
	if (s->rec && !s->src->rec) {
		klpt_recorder_close(s->rec);
		s->rec = NULL;
	}
	if (ret < 0)
		return klpt_err(-ret);
	/*
	 * Keep the session fd readable while there is work no other fd
	 * announces: records wait (stopped early), or a replay has not
	 * reached its end (a file is always "ready").
	 */
	if (ret > 0 || (s->mode == KLPT_MODE_REPLAY && n > 0))
		kick_set(s);
	return n;
}

KLPT_API int klpt_session_process(struct klpt_session *s)
{
	int ret, err;

	if (!s)
		return klpt_err(EINVAL);
	s->kick_want = false;
	ret = process(s);
	err = errno;	/* process()'s, for a negative ret */
	kick(s, s->kick_want);
	errno = err;
	return ret;
}

KLPT_API int klpt_session_poll(struct klpt_session *s, int timeout_ms)
{
	struct epoll_event evs[4];
	int n;

	if (!s)
		return klpt_err(EINVAL);
	/* What is already there costs no wait (and a plain file never
	 * wakes epoll). */
	n = klpt_session_process(s);
	if (n != 0 || s->mode == KLPT_MODE_REPLAY)
		return n;
	n = epoll_wait(s->epfd, evs, 4, timeout_ms);
	if (n < 0)
		return klpt_err(errno);
	if (n == 0)
		return 0;
	return klpt_session_process(s);
}

/* ------------------------------------------------------ open and close */

/*
 * Copy the caller's options into o with the defaults filled in.  As in
 * libbpf, a caller built against a newer header may pass a larger struct
 * as long as the fields we do not know are zero.
 */
static int opts_get(const struct klpt_session_opts *in,
		    struct klpt_session_opts *o)
{
	int err = klpt_opts_copy(o, sizeof(*o), in, in ? in->sz : 0);

	if (err)
		return err;
	if (!o->buffer_kb)
		o->buffer_kb = 1024;
	if (!o->poll_ms)
		o->poll_ms = 500;
	if (!o->root)
		o->root = "";
	return 0;
}

static int epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

KLPT_API void klpt_session_close(struct klpt_session *s)
{
	if (!s)
		return;
	if (s->rec) {
		s->src->rec = NULL;
		klpt_recorder_close(s->rec);
	}
	sync_drop(s);
	klpt_fbscan_free(&s->fb);
	s->held = NULL;
	/* The merge and decoder use the source's tep: free them first. */
	if (s->merge)
		klpt_merge_free(s->merge);
	if (s->dec)
		klpt_decoder_free(s->dec);
	if (s->model)
		klpt_model_free(s->model);
	if (s->src)
		s->src->close(s->src);
	if (s->timerfd >= 0)
		close(s->timerfd);
	if (s->kick >= 0)
		close(s->kick);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s->root);
	free(s->tracefs_dir);
	free(s->replay_path);
	free(s);
}

/* Everything but the source, then the start-up sync.  Takes src. */
/* The fallback's timer: the ground truth is re-read every poll_ms. */
static int start_polling(struct klpt_session *s)
{
	struct itimerspec its = {
		.it_interval.tv_sec = s->poll_ms / 1000,
		.it_interval.tv_nsec = (long)(s->poll_ms % 1000) * 1000000,
	};

	if (s->timerfd >= 0)
		return 0;	/* already running (the events mode's) */
	its.it_value = its.it_interval;
	s->timerfd = timerfd_create(CLOCK_MONOTONIC,
				    TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->timerfd < 0 || timerfd_settime(s->timerfd, 0, &its, NULL))
		return -errno;
	s->timer_ms = s->poll_ms;
	return epoll_add(s->epfd, s->timerfd);
}

/*
 * A live session's kernel: <root>/proc/sys/kernel/osrelease (the same
 * string as uname -r), so that a test's fake root has its own; "" if it
 * cannot be read.
 */
static void kernel_read(struct klpt_session *s)
{
	char path[4096], *buf = NULL;

	s->src->kernel[0] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s/proc/sys/kernel/osrelease",
			     s->root) >= sizeof(path) ||
	    klpt_read_file(path, 4096, &buf, NULL))
		return;
	buf[strcspn(buf, "\n")] = '\0';
	if (klpt_release_ok(buf))	/* else unknown, as a replay's */
		snprintf(s->src->kernel, sizeof(s->src->kernel), "%s", buf);
	free(buf);
}

static int session_new(const struct klpt_session_opts *o,
		       struct klpt_source *src, struct klpt_session **out)
{
	struct klpt_session *s;
	int n = 0, ret = -ENOMEM;

	s = calloc(1, sizeof(*s));
	if (!s) {
		src->close(src);
		return -ENOMEM;
	}
	s->src = src;
	s->mode = src->mode;
	s->on_event = o->on_event;
	s->ctx = o->ctx;
	s->timerfd = s->kick = s->epfd = -1;
	s->root = strdup(o->root);
	s->merge = klpt_merge_new(src->tep, src->ncpus);
	s->dec = klpt_decoder_new(src->tep);
	s->model = klpt_model_new();
	if (!s->root || !s->merge || !s->dec || !s->model)
		goto fail;
	if (s->mode != KLPT_MODE_REPLAY)
		kernel_read(s);
	/* Module references come from module:* only in the fallback. */
	klpt_decoder_set_fallback(s->dec, s->mode == KLPT_MODE_FALLBACK);
	klpt_model_set_fallback(s->model, s->mode == KLPT_MODE_FALLBACK);

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->epfd < 0 || s->kick < 0)
		goto fail_errno;
	ret = epoll_add(s->epfd, s->kick);
	if (!ret && src->fd && src->fd(src) >= 0)
		ret = epoll_add(s->epfd, src->fd(src));
	if (ret)
		goto fail;
	s->poll_ms = o->poll_ms;
	klpt_fbscan_init(&s->fb, o->poll_ms);
	s->fb_cheap = s->mode == KLPT_MODE_FALLBACK &&
		      tep_find_event_by_name(src->tep, "task", "task_newtask") &&
		      tep_find_event_by_name(src->tep, "sched",
					     "sched_process_exit");
	/*
	 * klptrace.ko's hooks may be off from the start: then the fallback
	 * until they fire (no LOST: nothing was ever seen).  The timer runs
	 * in the events mode too, for hooks_check().
	 */
	if (s->mode == KLPT_MODE_EVENTS && src->hooks) {
		struct klpt_hooks_state st;

		if (!src->hooks(src, &st)) {
			s->missed = st.missed == UINT64_MAX ? 0 : st.missed;
			s->switches = st.switches == UINT64_MAX ? 0 :
				      st.switches;
			if (st.off)
				set_degraded(s, true);
		}
	}
	if (s->mode == KLPT_MODE_FALLBACK || src->hooks) {
		ret = start_polling(s);
		if (ret)
			goto fail;
	}

	/*
	 * Start-up: the snapshot, and the records older than it.  A replay
	 * without a snapshot (a trace.dat) has none: all its events are
	 * delivered.
	 */
	if (s->mode != KLPT_MODE_REPLAY) {
		ret = sync_begin(s);
		if (ret)
			goto fail;
	} else if (src->truth) {
		s->sync = src->truth;
		s->sync_owned = false;
	}
	if (s->sync) {
		s->silent = true;
		ret = run(s, &n);
		s->silent = false;
		if (ret < 0)
			goto fail;
	}
	kick(s, s->held || klpt_merge_held(s->merge) ||
	     s->mode == KLPT_MODE_REPLAY);
	*out = s;
	return 0;
fail_errno:
	ret = -errno;
fail:
	klpt_session_close(s);
	return ret;
}

KLPT_API int klpt_session_open_live(const struct klpt_session_opts *opts,
				    struct klpt_session **out)
{
	struct klpt_session_opts o;
	struct klpt_session *s;
	struct klpt_source *src;
	const char *dir;
	char *tdir;
	int ret;

	if (!out)
		return klpt_err(EINVAL);
	*out = NULL;
	ret = opts_get(opts, &o);
	if (!ret)
		ret = klpt_live_open(&o, &src);
	if (ret)
		return klpt_err(-ret);
	/* Set by klpt_live_open: no mount, no search. */
	dir = tracefs_tracing_dir();
	tdir = strdup(dir ? dir : "");
	if (!tdir) {
		src->close(src);
		return klpt_err(ENOMEM);
	}
	ret = session_new(&o, src, &s);
	if (ret) {
		free(tdir);
		return klpt_err(-ret);
	}
	s->tracefs_dir = tdir;
	*out = s;
	return 0;
}

/*
 * libtraceevent and libtracecmd trust the files they parse: a corrupt
 * format file or trace.dat can make them dereference NULL or read far
 * out of bounds (lib/fuzz found both, inside those libraries).  So a
 * replay is first opened in a child process, and a trace.dat read to
 * its end there (libtracecmd reads its records: src->probe_records); if
 * the child dies (a signal, or a sanitizer's exit), the recording is
 * reported corrupt (-EBADMSG) and the caller is never taken down.  A
 * recording directory's pages and records are read by our code alone,
 * which checks them (pages.c, decode.c; fuzzed without the probe): its
 * child stops after the open, where libtraceevent parses the formats,
 * rather than cost a second read of the whole recording (it doubled a
 * replay's CPU time).  KLPT_REPLAY_NO_PROBE=1 skips the probe (the
 * fuzzers, which want to see such crashes).  If no child can be made,
 * the replay goes on unprotected.
 *
 * The child is bounded: PROBE_SECONDS of wall time, then it is killed
 * (-ETIMEDOUT); a signal the caller catches meanwhile (klptop's SIGTERM)
 * kills it too (-EINTR), and it dies with the caller (PDEATHSIG), so no
 * child outlives the open or keeps reading.  replay.c reads regular
 * files only, so no recording should come near the bound.
 */
#define PROBE_SECONDS	60

/* Wait for the probe child, PROBE_SECONDS at most: 0 and its status. */
static int probe_wait(pid_t pid, int *status)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), ret;

	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		ret = poll(&p, 1, PROBE_SECONDS * 1000);
		ret = ret > 0 ? 0 : ret == 0 ? -ETIMEDOUT : -errno;
		close(pfd);
		/* the signal may be the child's own SIGCHLD: it is done */
		if (waitpid(pid, status, ret ? WNOHANG : 0) == pid)
			return 0;
	} else {
		/* no pidfd (before Linux 5.3): unbounded, but not signals */
		ret = waitpid(pid, status, 0) == pid ? 0 : -errno;
		if (!ret)
			return 0;
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return ret ? ret : -ECHILD;
}

static int probe_replay(const char *path)
{
	const char *skip = getenv("KLPT_REPLAY_NO_PROBE");
	pid_t pid, parent = getpid();
	char msg[600];
	int status, ret;

	if (skip && !strcmp(skip, "1"))
		return 0;
	fflush(NULL);	/* nothing buffered is written twice */
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		struct klpt_session_opts o;
		struct klpt_session *s = NULL;
		struct klpt_source *src;
		int null;

		/* the caller died before prctl: nobody waits for us */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(0);
		ret = opts_get(NULL, &o);
		/* what the libraries print is the real open's to print */
		null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		if (!ret)
			ret = klpt_replay_open(path, &src);
		if (!ret)
			ret = session_new(&o, src, &s);
		while (!ret && src->probe_records &&
		       klpt_session_process(s) > 0)
			;
		/* errors are the real open's to report: only a crash counts */
		_exit(0);
	}
	ret = probe_wait(pid, &status);
	if (ret && ret != -ETIMEDOUT && ret != -EINTR)
		return 0;	/* no status: as if no child could be made */
	if (!ret && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(msg, sizeof(msg), "%s: %s", path,
		 ret == -ETIMEDOUT ? "reading it took over 60 s (a child "
				     "checks a recording first)" :
		 ret == -EINTR ? "interrupted by a signal while a child "
				 "checked it" :
		 "corrupt: reading it crashed (a child checks a recording "
		 "first)");
	return klpt_replay_fail(ret ? -ret : EBADMSG, msg);
}

KLPT_API int klpt_session_open_replay(const char *path,
				      const struct klpt_session_opts *opts,
				      struct klpt_session **out)
{
	struct klpt_session_opts o;
	struct klpt_source *src;
	int ret;

	if (!out)
		return klpt_err(EINVAL);
	*out = NULL;
	if (!path)
		return klpt_err(EINVAL);
	ret = opts_get(opts, &o);
	if (!ret)
		ret = probe_replay(path);
	if (!ret)
		ret = klpt_replay_open(path, &src);
	if (!ret)
		ret = session_new(&o, src, out);
	if (!ret && src->no_exits)
		klpt_model_no_exits((*out)->model);
	if (!ret) {
		(*out)->replay_path = strdup(path);
		if (!(*out)->replay_path) {
			klpt_session_close(*out);
			*out = NULL;
			ret = -ENOMEM;
		}
	}
	return ret ? klpt_err(-ret) : 0;
}

/* A rewound source stays its session's until the new one has it. */
static void source_kept(struct klpt_source *src)
{
	(void)src;
}

/*
 * A new session on the same source, rewound (src->rewind: the files the
 * open read, which its probe checked, never the path again: a recording
 * swapped there since is not parsed unchecked), takes this one's place:
 * everything but what the caller holds, the descriptor of
 * klpt_session_fd() (and the eventfd in it) and an internal waiter's
 * stop.
 */
KLPT_API int klpt_session_rewind(struct klpt_session *s)
{
	struct klpt_session_opts o;
	struct klpt_session *n, tmp;
	struct klpt_source *src;
	void (*close_src)(struct klpt_source *src);
	int ret, fd;

	if (!s)
		return klpt_err(EINVAL);
	if (s->mode != KLPT_MODE_REPLAY || !s->src->rewind)
		return klpt_err(EOPNOTSUPP);
	ret = opts_get(NULL, &o);
	if (ret)
		return klpt_err(-ret);
	o.on_event = s->on_event;
	o.ctx = s->ctx;
	o.root = s->root;
	o.poll_ms = s->poll_ms;
	src = s->src;
	ret = src->rewind(src);
	if (ret)
		return klpt_err(-ret);
	/* session_new() closes the source it fails with: not this one */
	close_src = src->close;
	src->close = source_kept;
	ret = session_new(&o, src, &n);
	src->close = close_src;
	if (ret)
		return klpt_err(-ret);
	if (src->no_exits)
		klpt_model_no_exits(n->model);
	/* the old session's merge and decoder go, the source stays */
	s->src = NULL;
	tmp = *s;
	*s = *n;
	*n = tmp;
	fd = s->epfd;
	s->epfd = n->epfd;
	n->epfd = fd;
	fd = s->kick;
	s->kick = n->kick;
	n->kick = fd;
	s->stop = n->stop;
	s->stop_ctx = n->stop_ctx;
	s->replay_path = n->replay_path;
	n->replay_path = NULL;
	klpt_session_close(n);
	kick_set(s);		/* a replay always has work until its end */
	return 0;
}

KLPT_API int klpt_session_replay_progress(const struct klpt_session *s,
					  uint64_t *done, uint64_t *total)
{
	if (!s || !done || !total)
		return klpt_err(EINVAL);
	if (!s->src || !s->src->progress)
		return klpt_err(EOPNOTSUPP);
	return s->src->progress(s->src, done, total);
}

KLPT_API const char *klpt_session_kernel(const struct klpt_session *s)
{
	return s ? s->src->kernel : "";
}

KLPT_API bool klpt_session_recording(const struct klpt_session *s)
{
	return s && s->rec;
}

KLPT_API bool klpt_session_sees_exits(const struct klpt_session *s)
{
	return s && !s->src->no_exits;
}

KLPT_API enum klpt_mode klpt_session_mode(const struct klpt_session *s)
{
	if (!s) {
		errno = EINVAL;
		return 0;
	}
	return s->mode;
}

KLPT_API bool klpt_session_native(const struct klpt_session *s)
{
	return s && s->src->native;
}

KLPT_API int klpt_session_fd(const struct klpt_session *s)
{
	return s ? s->epfd : klpt_err(EINVAL);
}

KLPT_API uint64_t klpt_session_events(const struct klpt_session *s)
{
	return s ? s->events : 0;
}

KLPT_API uint64_t klpt_session_lost(const struct klpt_session *s)
{
	return s ? s->lost : 0;
}

KLPT_API uint64_t klpt_session_late(const struct klpt_session *s)
{
	return s ? klpt_merge_late(s->merge) : 0;
}

KLPT_API bool klpt_session_last_late(const struct klpt_session *s)
{
	return s && klpt_merge_last_late(s->merge);
}

/*
 * The recording gets a snapshot of its own, taken now: it starts here,
 * not at the session's start.  Pages read from the next fill on are
 * written; records already in the merge are older than the snapshot,
 * which reflects them.  If writing fails later, process() returns that
 * error once and the recording ends there (whole pages, replayable);
 * tracing goes on, and a new recording may be started.
 */
KLPT_API int klpt_session_record(struct klpt_session *s, const char *dir)
{
	struct klpt_truth *t;
	uint64_t ts;
	int ret;

	if (!s || !dir)
		return klpt_err(EINVAL);
	if (s->mode == KLPT_MODE_REPLAY)
		return klpt_err(EOPNOTSUPP);
	if (s->rec)
		return klpt_err(EBUSY);
	ts = klpt_mono_ns();
	ret = klpt_truth_take(s->root, &t);
	if (ret < 0)
		return klpt_err(-ret);
	t->ts = ts;
	ret = klpt_recorder_open(dir, s->tracefs_dir, t, s->src->ncpus,
				 &s->rec);
	klpt_truth_free(t);
	/* live.c's instances run on the mono clock; the replay checks it */
	if (!ret)
		ret = klpt_recorder_set_clock(s->rec, "mono");
	if (!ret)
		ret = klpt_recorder_set_root(s->rec, s->root);
	if (!ret && s->src->kernel[0])
		ret = klpt_recorder_set_kernel(s->rec, s->src->kernel);
	if (ret < 0) {
		klpt_recorder_close(s->rec);
		s->rec = NULL;
		return klpt_err(-ret);
	}
	s->src->rec = s->rec;
	s->src->rec_lost = 0;	/* losses before it are not its own */
	s->src->rec_lost_known = false;
	return 0;
}
