// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Per-CPU ring-buffer pages -> records in timestamp order.
 *
 * Every CPU has a FIFO of page copies and a cursor in the page at its
 * head.  klpt_merge_next() picks, among the current records of all
 * CPUs, the one with the smallest timestamp.  The event headers (time
 * extends, absolute time stamps, padding: kernel/trace/ring_buffer.c)
 * are decoded here, in two walks: check_page() validates a whole page
 * once, when it is pushed (every event inside the committed data, every
 * step forward; a page that fails is refused whole), and next_event()
 * then walks the page it accepted without a bounds check per event.
 * That is the libtraceevent kbuffer walk without its per-event library
 * calls, which were a third of the replay's CPU time (bench/results).
 * The queued copy is immutable, so what check_page() saw is what
 * next_event() reads.
 *
 * A live source also sets a horizon: the time its last fill began.
 * Records at or after it are held back (klpt_merge_held()) until a later
 * fill moves it, because a CPU read early in a fill may receive events
 * older than those read later from another CPU (the reader's own task
 * switch on its way back from reading, say).  A live source that leaves
 * pages of a CPU in the kernel (a fill reads at most so many) marks it
 * "more": the merge then stops at that CPU's last queued record, as for
 * a replay, and says it held records back.
 *
 * No reader can be exact, though: the kernel dates an event when it
 * reserves the space and shows it only once the outermost write on that
 * CPU commits (ring_buffer.c: __rb_reserve_next() takes the time stamp,
 * rb_set_commit_to_write() moves the commit that
 * ring_buffer_read_page() reads up to).  A writer stalled in between (an
 * interrupt and its softirqs, or a vCPU the host does not run) makes a
 * record appear after later ones of other CPUs were delivered, even
 * after a fill that began after its time stamp.  Such a record is still
 * delivered (dropping it would lose a state change) and counted as late
 * (klpt_merge_late()): an out-of-order delivery is always reported.
 * Holding the horizon back by a margin would only narrow the window (a
 * stalled vCPU under emulation stays out for milliseconds to hundreds of
 * them), would cost every event that margin of latency (the library's
 * p99 is near its 50 ms target in bench/results), and would need a
 * timer to release the last events when no more come: not done.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The commit word of a sub-buffer header (kernel/trace/ring_buffer.c). */
#define RB_COMMIT_MASK		((1u << 27) - 1)
#define RB_MISSED_EVENTS	(1ull << 31)	/* events were dropped before */
#define RB_MISSED_STORED	(1ull << 30)	/* ... and how many follows */

/* Event header type_len values (ring_buffer.h: RINGBUF_TYPE_*). */
#define RB_TYPE_DATA_MAX	28
#define RB_TYPE_PADDING		29
#define RB_TYPE_TIME_EXTEND	30
#define RB_TYPE_TIME_STAMP	31
#define RB_DELTA_BITS		27	/* ring_buffer.c: TS_SHIFT */
#define RB_DELTA_MASK		((1u << RB_DELTA_BITS) - 1)
/* An absolute time stamp lacks the 5 MSB (ring_buffer.c: TS_MSB). */
#define RB_TS_MSB		(0xf8ull << 56)

struct page {
	struct page *next;
	size_t cap;		/* bytes data[] can hold */
	unsigned int size;	/* committed bytes after the header */
	uint64_t lost;		/* dropped before it, from its header */
	unsigned char data[];	/* the header, then the committed data */
};

struct cpu_queue {
	struct page *head, *tail;
	struct page *spare;	/* a popped page kept for the next push */
	int npages;
	bool loaded;		/* the cursor is in head */
	unsigned int next;	/* offset in head's data of the next header */
	const unsigned char *cur;	/* current event's payload, or NULL */
	unsigned int cur_size;	/* its bytes (rounded up to 4) */
	unsigned int cur_off;	/* its header's offset in the page */
	unsigned long long ts;
	uint64_t lost;		/* dropped before cur (UINT64_MAX: unknown) */
	bool more;		/* more pages will be pushed (replay) */
};

struct klpt_merge {
	struct tep_handle *tep;
	int ncpus;
	bool swap;		/* page byte order differs from the host's */
	bool big;		/* the page is big endian */
	int long_size;		/* size of the commit word: 4 or 8 */
	int data_off;		/* offset of the first event: 12 or 16 */
	int last;		/* CPU of the record returned last, or -1 */
	uint64_t horizon;	/* records at or after it wait (live) */
	bool held;		/* the last next() stopped at the horizon
				 * or, live, at a CPU marked more */
	uint64_t newest;	/* ts of the newest record returned */
	uint64_t late;		/* records returned after a newer one */
	bool last_late;		/* the record returned last was late */
	struct cpu_queue *cpu;
	struct tep_record rec;
};

static uint32_t rd32(const struct klpt_merge *m, const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return m->swap ? __builtin_bswap32(v) : v;
}

static uint64_t rd64(const struct klpt_merge *m, const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return m->swap ? __builtin_bswap64(v) : v;
}

static uint64_t rdlong(const struct klpt_merge *m, const unsigned char *p)
{
	return m->long_size == 8 ? rd64(m, p) : rd32(m, p);
}

struct klpt_merge *klpt_merge_new(struct tep_handle *tep, int ncpus)
{
	struct klpt_merge *m;

	if (!tep || ncpus <= 0 || ncpus > 65536) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cpu = calloc(ncpus, sizeof(*m->cpu));
	if (!m->cpu) {
		free(m);
		return NULL;
	}
	m->tep = tep;
	m->ncpus = ncpus;
	m->last = -1;
	m->horizon = UINT64_MAX;
	m->big = tep_is_file_bigendian(tep);
	m->swap = m->big != !!tep_is_bigendian();

	/*
	 * The commit word is a local_t, a long of the traced kernel:
	 * header_page says its size; a tep without one (no header_page
	 * parsed) falls back to the long size, then to 8.
	 */
	m->long_size = tep_get_header_page_size(tep);
	if (m->long_size != 4 && m->long_size != 8)
		m->long_size = tep_get_long_size(tep);
	if (m->long_size != 4 && m->long_size != 8)
		m->long_size = 8;
	m->data_off = 8 + m->long_size;
	return m;
}

/* Done with the head page: keep it as the spare if there is none. */
static void pop_page(struct cpu_queue *q)
{
	struct page *p = q->head;

	if (!p)
		return;
	q->head = p->next;
	if (!q->head)
		q->tail = NULL;
	q->npages--;
	q->loaded = false;
	q->cur = NULL;
	if (!q->spare)
		q->spare = p;
	else
		free(p);
}

void klpt_merge_free(struct klpt_merge *m)
{
	int i;

	if (!m)
		return;
	for (i = 0; i < m->ncpus; i++) {
		while (m->cpu[i].head)
			pop_page(&m->cpu[i]);
		free(m->cpu[i].spare);
	}
	free(m->cpu);
	free(m);
}

static void add_lost(struct cpu_queue *q, uint64_t n)
{
	if (q->lost == UINT64_MAX || n == UINT64_MAX ||
	    q->lost + n < q->lost)
		q->lost = UINT64_MAX;
	else
		q->lost += n;
}

/*
 * Walk the page the way next_event() will and accept it only if every
 * event lies inside the committed data and every step moves forward.  Sets *size to the committed length, *lost
 * to the dropped events the header announces, *events to the number of
 * data events.
 */
static int check_page(const struct klpt_merge *m, const unsigned char *page,
		      size_t len, unsigned int *size, uint64_t *lost,
		      unsigned int *events)
{
	const unsigned char *data = page + m->data_off;
	uint64_t commit;
	size_t off = 0, avail;

	if (len < (size_t)m->data_off)
		return -EBADMSG;
	avail = len - m->data_off;
	commit = rdlong(m, page + 8);
	*size = commit & RB_COMMIT_MASK;
	if (*size > avail)
		return -EBADMSG;
	*lost = 0;
	if (commit & RB_MISSED_EVENTS) {
		*lost = UINT64_MAX;
		if (commit & RB_MISSED_STORED) {
			if (avail - *size < (size_t)m->long_size)
				return -EBADMSG;
			*lost = rdlong(m, data + *size);
			if (!*lost)
				*lost = UINT64_MAX;
		}
	}

	*events = 0;
	while (off < *size) {
		uint32_t hdr, type_len, word;
		size_t next;

		if (*size - off < 4)
			return -EBADMSG;
		hdr = rd32(m, data + off);
		type_len = m->big ? hdr >> 27 : hdr & 31;
		switch (type_len) {
		case RB_TYPE_PADDING:
			/*
			 * A discarded event: array[0] bytes after the header
			 * (ring_buffer.c: rb_event_discard()); the walk stops
			 * once that reaches the commit.  Refuse a length past
			 * INT32_MAX, which no page can hold (kbuffer, which
			 * walked these pages before, kept it in an int).
			 */
			if (*size - off == 4)
				return 0;
			if (*size - off < 8)
				return -EBADMSG;
			word = rd32(m, data + off + 4);
			if (word > INT32_MAX)
				return -EBADMSG;
			next = off + 4 + (size_t)word;
			if (next >= *size)
				return 0;
			break;
		case RB_TYPE_TIME_EXTEND:
		case RB_TYPE_TIME_STAMP:
			next = off + 8;
			if (next > *size)
				return -EBADMSG;
			break;
		case 0:
			/* array[0] = payload + 4, payload rounded up to 4 */
			if (*size - off < 8)
				return -EBADMSG;
			word = rd32(m, data + off + 4);
			if (word < 8)
				return -EBADMSG;
			next = off + 8 + (((size_t)word - 4 + 3) & ~(size_t)3);
			if (next > *size)
				return -EBADMSG;
			(*events)++;
			break;
		default:
			next = off + 4 + (size_t)type_len * 4;
			if (next > *size)
				return -EBADMSG;
			(*events)++;
			break;
		}
		off = next;
	}
	return 0;
}

int klpt_merge_push(struct klpt_merge *m, int cpu, const void *page,
		    size_t len)
{
	unsigned int size, events;
	struct cpu_queue *q;
	struct page *p;
	uint64_t lost;
	int ret;

	if (!m || !page || cpu < 0 || cpu >= m->ncpus)
		return klpt_err(EINVAL);
	ret = check_page(m, page, len, &size, &lost, &events);
	if (ret < 0)
		return klpt_err(-ret);
	/* Nothing to read and nothing to report: not worth a copy. */
	if (!events && !lost)
		return 0;
	/*
	 * Keep only the header and the committed data: a live page is
	 * mostly empty (the stored lost count after the data was read
	 * above).  The last page popped is reused when it is big enough:
	 * a replay's pages are all of one size.
	 */
	len = m->data_off + size;
	q = &m->cpu[cpu];
	if (q->spare && q->spare->cap >= len) {
		p = q->spare;
		q->spare = NULL;
	} else {
		p = malloc(sizeof(*p) + len);
		if (!p)
			return klpt_err(ENOMEM);
		p->cap = len;
	}
	p->next = NULL;
	p->size = size;
	p->lost = lost;
	memcpy(p->data, page, len);
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	q->npages++;
	return 0;
}

void klpt_merge_set_more(struct klpt_merge *m, int cpu, bool more)
{
	if (m && cpu >= 0 && cpu < m->ncpus)
		m->cpu[cpu].more = more;
}

int klpt_merge_queued(const struct klpt_merge *m, int cpu)
{
	if (!m || cpu < 0 || cpu >= m->ncpus)
		return klpt_err(EINVAL);
	return m->cpu[cpu].npages;
}

/* An absolute time stamp's 5 MSB from the time before (rb_fix_abs_ts()). */
static uint64_t fix_abs_ts(uint64_t abs, uint64_t before)
{
	if (before & RB_TS_MSB) {
		abs |= before & RB_TS_MSB;
		if (abs < before)
			abs += 1ull << 59;
	}
	return abs;
}

/*
 * Move q's cursor to the next data event of its head page (q->cur, or
 * NULL at the end of the page), adding up the time deltas on the way.
 * No bounds check: check_page() walked this page the same way and
 * accepted it, so every header and length read here lies inside the
 * committed data.  A padding event's delta counts, as in kbuffer.
 */
static void next_event(const struct klpt_merge *m, struct cpu_queue *q)
{
	const unsigned char *data = q->head->data + m->data_off;
	unsigned int size = q->head->size;

	q->cur = NULL;
	while (q->next < size) {
		unsigned int off = q->next;
		uint32_t hdr = rd32(m, data + off);
		uint32_t type_len = m->big ? hdr >> RB_DELTA_BITS : hdr & 31;
		uint32_t delta = m->big ? hdr & RB_DELTA_MASK : hdr >> 5;

		switch (type_len) {
		case RB_TYPE_PADDING:
			if (size - off < 8) {
				q->next = size;
				return;
			}
			q->ts += delta;
			q->next = off + 4 + rd32(m, data + off + 4);
			break;
		case RB_TYPE_TIME_EXTEND:
			q->ts += ((uint64_t)rd32(m, data + off + 4) <<
				  RB_DELTA_BITS) + delta;
			q->next = off + 8;
			break;
		case RB_TYPE_TIME_STAMP:
			q->ts = fix_abs_ts(((uint64_t)rd32(m, data + off + 4) <<
					    RB_DELTA_BITS) + delta, q->ts);
			q->next = off + 8;
			break;
		case 0:
			q->ts += delta;
			q->cur_off = m->data_off + off;
			q->cur = data + off + 8;
			q->cur_size = (rd32(m, data + off + 4) - 4 + 3) & ~3u;
			q->next = off + 8 + q->cur_size;
			return;
		default:
			q->ts += delta;
			q->cur_off = m->data_off + off;
			q->cur = data + off + 4;
			q->cur_size = type_len * 4;
			q->next = off + 4 + q->cur_size;
			return;
		}
	}
}

/* Make q->cur the CPU's next event, loading queued pages as needed. */
static void prime(const struct klpt_merge *m, struct cpu_queue *q)
{
	while (!q->cur && q->head) {
		if (!q->loaded) {
			q->loaded = true;
			/* the page's lost count belongs to its first record */
			if (q->head->lost)
				add_lost(q, q->head->lost);
			q->ts = rd64(m, q->head->data);
			q->next = 0;
			next_event(m, q);
		}
		if (!q->cur)
			pop_page(q);
	}
}

/* Step past the record returned last; drop its page when done. */
static void advance(const struct klpt_merge *m, struct cpu_queue *q)
{
	if (!q->cur)
		return;
	next_event(m, q);
	if (!q->cur)
		pop_page(q);
}

struct tep_record *klpt_merge_next(struct klpt_merge *m, uint64_t *lost)
{
	struct cpu_queue *best = NULL;
	int i, besti = -1;

	if (lost)
		*lost = 0;
	if (!m)
		return NULL;
	m->held = false;
	m->last_late = false;
	if (m->last >= 0) {
		advance(m, &m->cpu[m->last]);
		m->last = -1;
	}
	for (i = 0; i < m->ncpus; i++) {
		struct cpu_queue *q = &m->cpu[i];

		prime(m, q);
		if (!q->cur) {
			/*
			 * This CPU's next page is still to come: records of
			 * other CPUs may be later than its next one.  Live,
			 * that page is in the kernel already: the next fill
			 * brings it, as it brings records past the horizon.
			 */
			if (q->more) {
				m->held = m->horizon != UINT64_MAX;
				return NULL;
			}
			continue;
		}
		/* ties go to the lower CPU: a stable order */
		if (!best || q->ts < best->ts) {
			best = q;
			besti = i;
		}
	}
	if (!best)
		return NULL;
	if (best->ts >= m->horizon) {
		m->held = true;
		return NULL;
	}

	/* ties are in order: the lower CPU went first */
	if (best->ts < m->newest) {
		m->late++;
		m->last_late = true;
	} else {
		m->newest = best->ts;
	}

	memset(&m->rec, 0, sizeof(m->rec));
	m->rec.ts = best->ts;
	m->rec.data = (void *)best->cur;
	m->rec.size = best->cur_size;
	m->rec.record_size = best->cur_size + (best->cur - best->head->data -
					       best->cur_off);
	m->rec.offset = best->cur_off;
	m->rec.cpu = besti;
	m->rec.missed_events = best->lost == UINT64_MAX ? -1 :
			       (long long)best->lost;
	m->rec.ref_count = 1;
	m->rec.locked = 1;	/* ours: nobody may tep_free_record() it */
	if (lost)
		*lost = best->lost;
	best->lost = 0;
	m->last = besti;
	return &m->rec;
}

void klpt_merge_set_horizon(struct klpt_merge *m, uint64_t ts)
{
	if (m)
		m->horizon = ts;
}

bool klpt_merge_held(const struct klpt_merge *m)
{
	return m && m->held;
}

uint64_t klpt_merge_late(const struct klpt_merge *m)
{
	return m ? m->late : 0;
}

bool klpt_merge_last_late(const struct klpt_merge *m)
{
	return m && m->last_late;
}
