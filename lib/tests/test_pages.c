// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * pages.c: per-CPU pages -> records in timestamp order.  Pages are built
 * by hand (pagebuild.h); the tep only supplies the real header_page of
 * the Debian 6.1 kernel (fixtures/formats).  Each record's payload is a
 * u32 sequence number, so order and content can be checked directly.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "check.h"
#include "pagebuild.h"

static struct tep_handle *tep;

/* A record whose payload is just seq (and some filler). */
static int add(struct pb *p, uint64_t ts, uint32_t seq)
{
	uint32_t rec[3] = { seq, ~seq, 0x5a5a5a5a };

	return pb_add(p, ts, rec, sizeof(rec));
}

static uint32_t seq_of(const struct tep_record *r)
{
	uint32_t v;

	memcpy(&v, r->data, 4);
	return v;
}

/* Drain m: up to max records into seqs/tss/cpus/losts; returns how many. */
static int drain(struct klpt_merge *m, uint32_t *seqs, uint64_t *tss,
		 int *cpus, uint64_t *losts, int max)
{
	struct tep_record *r;
	uint64_t lost;
	int n = 0;

	while ((r = klpt_merge_next(m, &lost))) {
		if (n < max) {
			seqs[n] = seq_of(r);
			if (tss)
				tss[n] = r->ts;
			if (cpus)
				cpus[n] = r->cpu;
			if (losts)
				losts[n] = lost;
		}
		n++;
	}
	return n;
}

static void test_order_two_cpus(void)
{
	struct klpt_merge *m = klpt_merge_new(tep, 2);
	struct pb a, b;
	uint32_t seqs[16];
	uint64_t tss[16];
	int cpus[16], n, i;

	/*
	 * cpu0: 100 300 500 600 | cpu1: 200 250 600, pushed cpu1 first;
	 * the tie at 600 goes to the lower CPU.
	 */
	pb_init(&a, 100);
	add(&a, 100, 1);
	add(&a, 300, 4);
	add(&a, 500, 5);
	add(&a, 600, 6);
	pb_finish(&a, 0);
	pb_init(&b, 200);
	add(&b, 200, 2);
	add(&b, 250, 3);
	add(&b, 600, 7);
	pb_finish(&b, 0);
	CHECK_INT(klpt_merge_push(m, 1, b.buf, pb_len(&b)), 0);
	CHECK_INT(klpt_merge_push(m, 0, a.buf, pb_len(&a)), 0);
	CHECK_INT(klpt_merge_queued(m, 0), 1);
	n = drain(m, seqs, tss, cpus, NULL, 16);
	CHECK_INT(n, 7);
	for (i = 0; i < 7 && i < n; i++) {
		CHECK(seqs[i] == (uint32_t)i + 1, "record %d is seq %u", i,
		      seqs[i]);
		CHECK(i == 0 || tss[i] >= tss[i - 1], "ts goes back at %d", i);
	}
	CHECK_INT(cpus[0], 0);
	CHECK_INT(cpus[1], 1);
	CHECK_INT(tss[5], 600);
	CHECK_INT(cpus[5], 0);
	CHECK_INT(cpus[6], 1);
	/* drained: the queues are empty, and it stays NULL */
	CHECK_INT(klpt_merge_queued(m, 0), 0);
	CHECK(klpt_merge_next(m, NULL) == NULL, "more records after the end");
	klpt_merge_free(m);
}

/*
 * The live horizon: records at or after it wait, in order, until it
 * moves; a later page of the CPU read first then sorts in before them.
 */
static void test_horizon(void)
{
	struct klpt_merge *m = klpt_merge_new(tep, 2);
	struct pb a, b, c;
	uint32_t seqs[16];
	int n;

	/* fill 1 (begun at 400): cpu0 read first, nothing; cpu1: 300 500 */
	pb_init(&b, 300);
	add(&b, 300, 1);
	add(&b, 500, 3);
	pb_finish(&b, 0);
	klpt_merge_set_horizon(m, 400);
	CHECK_INT(klpt_merge_push(m, 1, b.buf, pb_len(&b)), 0);
	CHECK(!klpt_merge_held(m), "held before any next()");
	n = drain(m, seqs, NULL, NULL, NULL, 16);
	CHECK_INT(n, 1);
	CHECK_INT(seqs[0], 1);
	CHECK(klpt_merge_held(m), "500 not held at horizon 400");
	CHECK(klpt_merge_next(m, NULL) == NULL, "held record returned");
	/* fill 2 (begun at 700): cpu0 now has 450, written during fill 1 */
	pb_init(&a, 450);
	add(&a, 450, 2);
	pb_finish(&a, 0);
	pb_init(&c, 600);
	add(&c, 600, 4);
	pb_finish(&c, 0);
	klpt_merge_set_horizon(m, 700);
	CHECK_INT(klpt_merge_push(m, 0, a.buf, pb_len(&a)), 0);
	CHECK_INT(klpt_merge_push(m, 1, c.buf, pb_len(&c)), 0);
	n = drain(m, seqs, NULL, NULL, NULL, 16);
	CHECK_INT(n, 3);
	CHECK(n == 3 && seqs[0] == 2 && seqs[1] == 3 && seqs[2] == 4,
	      "order %u %u %u", seqs[0], seqs[1], seqs[2]);
	CHECK(!klpt_merge_held(m), "held when dry");
	/* exactly at the horizon: held too */
	pb_init(&a, 800);
	add(&a, 800, 5);
	pb_finish(&a, 0);
	CHECK_INT(klpt_merge_push(m, 0, a.buf, pb_len(&a)), 0);
	klpt_merge_set_horizon(m, 800);
	CHECK_INT(drain(m, seqs, NULL, NULL, NULL, 16), 0);
	CHECK(klpt_merge_held(m), "a record at the horizon returned");
	klpt_merge_set_horizon(m, UINT64_MAX);
	CHECK_INT(drain(m, seqs, NULL, NULL, NULL, 16), 1);
	CHECK(!klpt_merge_held(NULL), "NULL merge held");
	klpt_merge_set_horizon(NULL, 1);
	klpt_merge_free(m);
}

/* Several pages per CPU, popped as they are read. */
static void test_many_pages_and_ties(void)
{
	struct klpt_merge *m = klpt_merge_new(tep, 2);
	struct tep_record *r;
	struct pb p;
	uint64_t last = 0;
	uint32_t seq = 0, want_next[2] = { 0, 1 };
	int c, pg, i, n = 0;

	/*
	 * Each CPU: 3 pages of 100 records; cpu c has seqs c, c+2, ... at
	 * ts 1000 + 5 * seq, so the merged order is seq order.
	 */
	for (c = 0; c < 2; c++) {
		seq = c;
		for (pg = 0; pg < 3; pg++) {
			pb_init(&p, 1000 + seq * 5);
			for (i = 0; i < 100; i++, seq += 2)
				CHECK_INT(add(&p, 1000 + seq * 5, seq), 0);
			pb_finish(&p, 0);
			CHECK_INT(klpt_merge_push(m, c, p.buf, pb_len(&p)), 0);
		}
	}
	CHECK_INT(klpt_merge_queued(m, 1), 3);
	while ((r = klpt_merge_next(m, NULL))) {
		uint32_t s = seq_of(r);

		CHECK(r->ts >= last, "ts %llu after %llu", r->ts,
		      (unsigned long long)last);
		CHECK(s == want_next[r->cpu], "cpu %d: seq %u, want %u",
		      r->cpu, s, want_next[r->cpu]);
		want_next[r->cpu] = s + 2;
		last = r->ts;
		n++;
	}
	CHECK_INT(n, 600);
	klpt_merge_free(m);
}

static void test_time_extend_and_stamp(void)
{
	struct klpt_merge *m = klpt_merge_new(tep, 1);
	uint64_t base = 5000000000ull, tss[8];
	uint32_t seqs[8];
	struct pb p;
	int n;

	pb_init(&p, base);
	add(&p, base, 1);
	/* 3 s later: more than 2^27 ns, a time extend precedes it */
	add(&p, base + 3000000000ull, 2);
	add(&p, base + 3000000010ull, 3);
	/* an absolute time stamp, then a delta from it */
	pb_time_stamp(&p, base + 7777777777ull);
	add(&p, base + 7777777777ull + 42, 4);
	/* a discarded event in between is skipped, its delta counted */
	pb_discarded(&p, base + 7777777777ull + 100, 24);
	add(&p, base + 9000000000ull, 5);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), 0);
	n = drain(m, seqs, tss, NULL, NULL, 8);
	CHECK_INT(n, 5);
	CHECK_INT(seqs[0], 1);
	CHECK_INT(tss[0], base);
	CHECK_INT(tss[1], base + 3000000000ull);
	CHECK_INT(tss[2], base + 3000000010ull);
	CHECK_INT(tss[3], base + 7777777777ull + 42);
	CHECK_INT(seqs[4], 5);
	CHECK_INT(tss[4], base + 9000000000ull);
	klpt_merge_free(m);
}

/* A big record (type_len 0: length in array[0]). */
static void test_long_record(void)
{
	struct klpt_merge *m = klpt_merge_new(tep, 1);
	unsigned char rec[300];
	struct tep_record *r;
	struct pb p;
	int i;

	for (i = 0; i < (int)sizeof(rec); i++)
		rec[i] = i;
	pb_init(&p, 10);
	pb_add(&p, 10, rec, sizeof(rec));
	add(&p, 11, 7);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), 0);
	r = klpt_merge_next(m, NULL);
	CHECK(r && r->size == 300, "size %d", r ? r->size : -1);
	CHECK(r && !memcmp(r->data, rec, sizeof(rec)), "payload differs");
	r = klpt_merge_next(m, NULL);
	CHECK(r && seq_of(r) == 7 && r->ts == 11, "record after a long one");
	klpt_merge_free(m);
}

/*
 * Missed events: the count belongs to the first record of the page that
 * announces it, not to records of earlier pages still queued.
 */
static void test_missed_events(void)
{
	struct klpt_merge *m = klpt_merge_new(tep, 2);
	uint64_t losts[8];
	uint32_t seqs[8];
	int cpus[8], n;
	struct pb p;

	pb_init(&p, 100);
	add(&p, 100, 1);
	add(&p, 110, 2);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), 0);
	pb_init(&p, 200);
	add(&p, 200, 3);
	add(&p, 210, 4);
	pb_finish(&p, 17);		/* 17 lost, count stored */
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), 0);
	pb_init(&p, 300);
	add(&p, 300, 5);
	pb_finish(&p, -1);		/* lost, count unknown */
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), 0);
	/* an empty page that only says events were lost, on cpu1 */
	pb_init(&p, 150);
	pb_finish(&p, 3);
	CHECK_INT(klpt_merge_push(m, 1, p.buf, pb_len(&p)), 0);
	pb_init(&p, 400);
	add(&p, 400, 6);
	pb_finish(&p, 2);
	CHECK_INT(klpt_merge_push(m, 1, p.buf, pb_len(&p)), 0);

	n = drain(m, seqs, NULL, cpus, losts, 8);
	CHECK_INT(n, 6);
	CHECK_INT(losts[0], 0);
	CHECK_INT(losts[1], 0);
	CHECK_INT(seqs[2], 3);
	CHECK_INT(losts[2], 17);
	CHECK_INT(losts[3], 0);
	CHECK_INT(seqs[4], 5);
	CHECK(losts[4] == UINT64_MAX, "unknown count: %llu",
	      (unsigned long long)losts[4]);
	/* cpu1: 3 from the empty page plus 2 */
	CHECK_INT(cpus[5], 1);
	CHECK_INT(losts[5], 5);
	klpt_merge_free(m);
}

/* A CPU marked "more" with an empty queue holds the others back. */
static void test_more_protocol(void)
{
	struct klpt_merge *m = klpt_merge_new(tep, 2);
	uint32_t seqs[8];
	struct pb p;
	int n;

	klpt_merge_set_more(m, 0, true);
	klpt_merge_set_more(m, 1, true);
	pb_init(&p, 100);
	add(&p, 100, 1);
	add(&p, 300, 3);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), 0);
	CHECK(klpt_merge_next(m, NULL) == NULL,
	      "records while cpu1's next page is unknown");
	pb_init(&p, 200);
	add(&p, 200, 2);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 1, p.buf, pb_len(&p)), 0);
	n = drain(m, seqs, NULL, NULL, NULL, 8);
	/* 1, 2, then cpu1 is empty and still "more": stop */
	CHECK_INT(n, 2);
	CHECK_INT(seqs[1], 2);
	klpt_merge_set_more(m, 1, false);
	n = drain(m, seqs, NULL, NULL, NULL, 8);
	CHECK_INT(n, 1);
	CHECK_INT(seqs[0], 3);
	klpt_merge_free(m);
}

/*
 * A live fill reads at most so many pages of a CPU: the rest stays in the
 * kernel and may be older than what the other CPUs gave in that fill.
 * The source marks the CPU "more"; with a horizon set, the merge stops at
 * its last queued record and says it held records back.
 */
static void test_live_cpu_not_drained(void)
{
	struct klpt_merge *m = klpt_merge_new(tep, 2);
	uint32_t seqs[8];
	struct pb p;
	int n;

	/* fill 1 (begun at 1000): cpu0 gave one page of two, cpu1 all */
	klpt_merge_set_horizon(m, 1000);
	pb_init(&p, 100);
	add(&p, 100, 1);
	add(&p, 200, 2);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), 0);
	klpt_merge_set_more(m, 0, true);
	pb_init(&p, 250);
	add(&p, 250, 4);
	add(&p, 400, 6);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 1, p.buf, pb_len(&p)), 0);
	klpt_merge_set_more(m, 1, false);
	n = drain(m, seqs, NULL, NULL, NULL, 8);
	CHECK_INT(n, 2);
	CHECK(n == 2 && seqs[0] == 1 && seqs[1] == 2, "order %u %u",
	      seqs[0], seqs[1]);
	CHECK(klpt_merge_held(m), "not held while cpu0 has pages left");
	/* fill 2 (begun at 1100): cpu0's second page, older than 250 */
	klpt_merge_set_horizon(m, 1100);
	pb_init(&p, 220);
	add(&p, 220, 3);
	add(&p, 300, 5);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), 0);
	klpt_merge_set_more(m, 0, false);
	n = drain(m, seqs, NULL, NULL, NULL, 8);
	CHECK_INT(n, 4);
	CHECK(n == 4 && seqs[0] == 3 && seqs[1] == 4 && seqs[2] == 5 &&
	      seqs[3] == 6, "order %u %u %u %u", seqs[0], seqs[1], seqs[2],
	      seqs[3]);
	CHECK(!klpt_merge_held(m), "held when dry");
	CHECK_INT(klpt_merge_late(m), 0);
	klpt_merge_free(m);
}

/*
 * A record the kernel shows only after newer ones of other CPUs were
 * returned (its writer stalled between reserve and commit) is returned
 * all the same and counted late; later records are not.
 */
static void test_late_record(void)
{
	struct klpt_merge *m = klpt_merge_new(tep, 2);
	struct tep_record *r;
	uint32_t seqs[8];
	struct pb p;
	int n;

	CHECK_INT(klpt_merge_late(m), 0);
	CHECK(!klpt_merge_last_late(m), "late before any record");
	/* fill 1 (begun at 1000): cpu0 gives 300, cpu1 500 */
	klpt_merge_set_horizon(m, 1000);
	pb_init(&p, 300);
	add(&p, 300, 1);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), 0);
	pb_init(&p, 500);
	add(&p, 500, 3);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 1, p.buf, pb_len(&p)), 0);
	CHECK_INT(drain(m, seqs, NULL, NULL, NULL, 8), 2);
	CHECK(!klpt_merge_last_late(m), "dry merge says late");
	/*
	 * fill 2 (begun at 2000): cpu0's 400, dated before fill 1 began
	 * but committed after fill 1 read cpu0, then 1500 and cpu1's 600.
	 */
	klpt_merge_set_horizon(m, 2000);
	pb_init(&p, 400);
	add(&p, 400, 2);
	add(&p, 1500, 5);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), 0);
	pb_init(&p, 600);
	add(&p, 600, 4);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 1, p.buf, pb_len(&p)), 0);
	r = klpt_merge_next(m, NULL);
	CHECK(r && seq_of(r) == 2 && r->ts == 400, "the late record first");
	CHECK(klpt_merge_last_late(m), "400 after 500 not late");
	CHECK_INT(klpt_merge_late(m), 1);
	r = klpt_merge_next(m, NULL);
	CHECK(r && seq_of(r) == 4, "600 next");
	CHECK(!klpt_merge_last_late(m), "600 after 500 late");
	n = drain(m, seqs, NULL, NULL, NULL, 8);
	CHECK(n == 1 && seqs[0] == 5, "1500 last");
	CHECK_INT(klpt_merge_late(m), 1);
	/* a tie with the newest is in order */
	pb_init(&p, 1500);
	add(&p, 1500, 6);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 1, p.buf, pb_len(&p)), 0);
	CHECK_INT(drain(m, seqs, NULL, NULL, NULL, 8), 1);
	CHECK_INT(klpt_merge_late(m), 1);
	CHECK_INT(klpt_merge_late(NULL), 0);
	CHECK(!klpt_merge_last_late(NULL), "NULL merge late");
	klpt_merge_free(m);
}

/* Pages that are not ring-buffer pages: -EBADMSG, nothing queued. */
static void test_bad_pages(void)
{
	struct klpt_merge *m = klpt_merge_new(tep, 1);
	unsigned char *d;
	struct pb p;
	int ret;

	pb_init(&p, 1);
	add(&p, 1, 1);
	pb_finish(&p, 0);
	/* shorter than the header */
	CHECK_INT(klpt_merge_push(m, 0, p.buf, 10), -EBADMSG);
	CHECK_INT(errno, EBADMSG);
	/* a read cut inside the committed data */
	CHECK_INT(klpt_merge_push(m, 0, p.buf, PB_HDR + 8), -EBADMSG);
	/* exactly header + commit is fine (a short read of a partial page) */
	CHECK_INT(klpt_merge_push(m, 0, p.buf, PB_HDR + p.used), 0);
	CHECK(klpt_merge_next(m, NULL) != NULL, "short page not read");
	CHECK(klpt_merge_next(m, NULL) == NULL, "extra record");

	/* a commit beyond the page */
	pb_init(&p, 1);
	add(&p, 1, 1);
	pb_finish(&p, 0);
	pb_w64(p.buf + 8, PB_PAGE);
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), -EBADMSG);

	/* an event running past the commit */
	pb_init(&p, 1);
	add(&p, 1, 1);
	pb_finish(&p, 0);
	pb_w64(p.buf + 8, p.used - 4);
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), -EBADMSG);

	/* type_len 0 with a length smaller than its own array word */
	pb_init(&p, 1);
	d = p.buf + PB_HDR;
	pb_w32(d, pb_hdr(0, 0));
	pb_w32(d + 4, 2);
	p.used = 16;
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), -EBADMSG);

	/* padding whose length would move kbuffer backwards (int) */
	pb_init(&p, 1);
	add(&p, 1, 1);
	d = p.buf + PB_HDR + p.used;
	pb_w32(d, pb_hdr(29, 1));
	pb_w32(d + 4, 0xfffffffc);
	p.used += 8;
	add(&p, 2, 2);
	pb_finish(&p, 0);
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), -EBADMSG);

	/* a missed count announced but no room for it */
	pb_init(&p, 1);
	pb_finish(&p, 0);
	pb_w64(p.buf + 8, (PB_PAGE - PB_HDR) | 3ull << 30);
	CHECK_INT(klpt_merge_push(m, 0, p.buf, pb_len(&p)), -EBADMSG);

	/* bad arguments */
	CHECK_INT(klpt_merge_push(m, 1, p.buf, pb_len(&p)), -EINVAL);
	CHECK_INT(klpt_merge_push(m, -1, p.buf, pb_len(&p)), -EINVAL);
	CHECK_INT(klpt_merge_push(m, 0, NULL, 10), -EINVAL);
	CHECK(klpt_merge_new(tep, 0) == NULL && errno == EINVAL, "ncpus 0");
	CHECK(klpt_merge_new(NULL, 1) == NULL, "no tep");

	ret = klpt_merge_queued(m, 0);
	CHECK_INT(ret, 0);
	klpt_merge_free(m);
	klpt_merge_free(NULL);
}

/*
 * Garbage: random pages and random mutations of a good one must either
 * be refused or read to the end without reading out of bounds (the
 * ASan and valgrind runs check the latter) and without looping.
 */
static void test_garbage(void)
{
	struct klpt_merge *m = klpt_merge_new(tep, 1);
	unsigned int seed = 12345, refused = 0, taken = 0;
	unsigned char *page = malloc(PB_PAGE);
	struct pb good;
	int i, j;

	pb_init(&good, 1000);
	for (i = 0; i < 40; i++)
		add(&good, 1000 + (uint64_t)i * 200000000ull, i);
	pb_discarded(&good, good.last + 7, 16);
	add(&good, 1ull << 40, 99);
	pb_finish(&good, 5);

	for (i = 0; i < 20000; i++) {
		size_t len = PB_PAGE;

		if (i % 2) {
			for (j = 0; j < PB_PAGE; j++)
				page[j] = rand_r(&seed);
			/* a small commit now and then, so events get walked */
			if (i % 4 == 1)
				pb_w64(page + 8, rand_r(&seed) % 600);
		} else {
			memcpy(page, good.buf, PB_PAGE);
			for (j = 0; j < 1 + i % 7; j++)
				page[8 + rand_r(&seed) % 600] = rand_r(&seed);
		}
		if (i % 9 == 0)
			len = rand_r(&seed) % PB_PAGE;
		if (klpt_merge_push(m, 0, page, len) < 0) {
			refused++;
			continue;
		}
		taken++;
		/* read it all: bounded, a page has at most ~1000 records */
		for (j = 0; j < 2000 && klpt_merge_next(m, NULL); j++)
			;
		CHECK(j < 2000, "no end to the records of garbage page %d", i);
	}
	CHECK(refused > 0 && taken > 0, "refused %u taken %u", refused, taken);
	printf("  garbage: %u pages refused, %u read through\n", refused,
	       taken);
	free(page);
	klpt_merge_free(m);
}

int main(void)
{
	tep = load_formats(fixture("formats"));
	if (!tep) {
		fprintf(stderr, "no fixtures at %s\n", fixture("formats"));
		return 1;
	}
	RUN(test_order_two_cpus);
	RUN(test_horizon);
	RUN(test_many_pages_and_ties);
	RUN(test_time_extend_and_stamp);
	RUN(test_long_record);
	RUN(test_missed_events);
	RUN(test_more_protocol);
	RUN(test_live_cpu_not_drained);
	RUN(test_late_record);
	RUN(test_bad_pages);
	RUN(test_garbage);
	tep_free(tep);
	return check_summary();
}
