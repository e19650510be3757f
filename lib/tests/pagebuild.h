/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * Hand-built ring-buffer pages and event records for libklptrace's unit
 * tests, written from the layout the kernel documents in
 * events/header_page and events/header_event (x86_64: little endian,
 * 8-byte commit), independently of the library's own code:
 *
 *   page:   u64 timestamp, u64 commit (low 27 bits: data length; bit 31:
 *           events were missed before this page; bit 30: their count is
 *           stored as a u64 right after the data), data from offset 16
 *   event:  u32 header, type_len = low 5 bits, time_delta = high 27;
 *           type_len 1..28: payload of type_len * 4 bytes follows;
 *           0: array[0] = payload length + 4, then the payload;
 *           29 padding (array[0] = its length - 4), 30 time extend
 *           (delta = array[0] << 27 | time_delta), 31 absolute time stamp
 *
 *	struct pb p;
 *	pb_init(&p, 1000);
 *	pb_add(&p, 1000, rec, len);	// delta 0
 *	pb_add(&p, 1u << 30, rec, len);	// a time extend first
 *	pb_finish(&p, 0);		// or -1 (missed, count unknown), N
 *	klpt_merge_push(m, cpu, p.buf, pb_len(&p));
 */
#ifndef KLPT_PAGEBUILD_H
#define KLPT_PAGEBUILD_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event-parse.h>

#define PB_PAGE		4096
#define PB_HDR		16
#define PB_DELTA_BITS	27

struct pb {
	unsigned char buf[PB_PAGE];
	size_t used;		/* data bytes after the header */
	uint64_t last;		/* timestamp of the last event */
	int stored;		/* a lost count follows the data */
};

static inline void pb_w32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void pb_w64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static inline void pb_init(struct pb *p, uint64_t ts)
{
	memset(p, 0, sizeof(*p));
	pb_w64(p->buf, ts);
	p->last = ts;
}

static inline uint32_t pb_hdr(uint32_t type_len, uint64_t delta)
{
	return type_len | (uint32_t)(delta & ((1u << PB_DELTA_BITS) - 1)) << 5;
}

/* An event of len bytes at ts; a time extend first if needed.  -1: full. */
static inline int pb_add(struct pb *p, uint64_t ts, const void *rec,
			 size_t len)
{
	size_t words = (len + 3) / 4, need;
	uint64_t delta = ts - p->last;
	unsigned char *d = p->buf + PB_HDR;

	if (!words)
		words = 1;
	need = (words <= 28 ? 4 : 8) + words * 4 +
	       (delta >> PB_DELTA_BITS ? 8 : 0);
	if (PB_HDR + p->used + need + 8 > PB_PAGE)
		return -1;
	if (delta >> PB_DELTA_BITS) {
		pb_w32(d + p->used, pb_hdr(30, delta));
		pb_w32(d + p->used + 4, (uint32_t)(delta >> PB_DELTA_BITS));
		p->used += 8;
		delta = 0;
	}
	if (words <= 28) {
		pb_w32(d + p->used, pb_hdr(words, delta));
		p->used += 4;
	} else {
		pb_w32(d + p->used, pb_hdr(0, delta));
		pb_w32(d + p->used + 4, words * 4 + 4);
		p->used += 8;
	}
	memset(d + p->used, 0, words * 4);
	memcpy(d + p->used, rec, len);
	p->used += words * 4;
	p->last = ts;
	return 0;
}

/* An absolute time stamp (type 31): the next delta counts from ts. */
static inline void pb_time_stamp(struct pb *p, uint64_t ts)
{
	unsigned char *d = p->buf + PB_HDR;

	pb_w32(d + p->used, pb_hdr(31, ts));
	pb_w32(d + p->used + 4, (uint32_t)(ts >> PB_DELTA_BITS));
	p->used += 8;
	p->last = ts;
}

/*
 * An event discarded after it was written at ts: rb_event_discard()
 * turns it into padding of its size (array[0] = total - 4) and keeps its
 * time delta (made 1 if 0: a 0 delta would mean "end of page"); the next
 * event's delta counts from ts.  total >= 8.
 */
static inline void pb_discarded(struct pb *p, uint64_t ts, size_t total)
{
	unsigned char *d = p->buf + PB_HDR;
	uint64_t delta = ts - p->last;

	if (!delta) {
		delta = 1;
		ts++;
	}
	memset(d + p->used, 0, total);
	pb_w32(d + p->used, pb_hdr(29, delta));
	pb_w32(d + p->used + 4, (uint32_t)(total - 4));
	p->used += total;
	p->last = ts;
}

/* Write the commit: missed 0 none, -1 missed (count unknown), N stored. */
static inline void pb_finish(struct pb *p, long long missed)
{
	uint64_t commit = p->used;

	if (missed) {
		commit |= 1ull << 31;
		if (missed > 0) {
			commit |= 1ull << 30;
			pb_w64(p->buf + PB_HDR + p->used, (uint64_t)missed);
			p->stored = 1;
		}
	}
	pb_w64(p->buf + 8, commit);
}

/* Bytes of the page as trace_pipe_raw would give them (a whole page). */
static inline size_t pb_len(const struct pb *p)
{
	(void)p;
	return PB_PAGE;
}

/*
 * Event records built from a parsed format: common_type is set, fields
 * are set by name, __data_loc strings are appended after the fixed part
 * (loc = length with NUL << 16 | offset), as the kernel lays them out.
 */
struct eb {
	unsigned char buf[2048];
	size_t len;
	struct tep_event *ev;
};

static inline struct tep_format_field *eb_field(struct eb *e, const char *n)
{
	struct tep_format_field *f = tep_find_any_field(e->ev, n);

	if (!f) {
		fprintf(stderr, "eb: %s has no field %s\n", e->ev->name, n);
		abort();
	}
	return f;
}

static inline void eb_init(struct eb *e, struct tep_event *ev, int pid)
{
	struct tep_format_field **fs;
	int i;

	memset(e, 0, sizeof(*e));
	e->ev = ev;
	fs = tep_event_fields(ev);
	for (i = 0; fs && fs[i]; i++)
		if ((size_t)(fs[i]->offset + fs[i]->size) > e->len)
			e->len = fs[i]->offset + fs[i]->size;
	free(fs);
	e->len = (e->len + 3) & ~(size_t)3;
	memcpy(e->buf, &(uint16_t){ (uint16_t)ev->id }, 2);
	memcpy(e->buf + 4, &pid, 4);
}

static inline void eb_num(struct eb *e, const char *name, long long v)
{
	struct tep_format_field *f = eb_field(e, name);
	uint64_t u = (uint64_t)v;

	memcpy(e->buf + f->offset, &u, f->size);	/* little endian */
}

static inline void eb_str(struct eb *e, const char *name, const char *s)
{
	struct tep_format_field *f = eb_field(e, name);
	size_t n = strlen(s) + 1;
	uint32_t loc = (uint32_t)(n << 16 | e->len);

	memcpy(e->buf + e->len, s, n);
	memcpy(e->buf + f->offset, &loc, 4);
	e->len += n;
}

static inline void eb_chars(struct eb *e, const char *name, const char *s)
{
	struct tep_format_field *f = eb_field(e, name);
	size_t n = strlen(s);

	memset(e->buf + f->offset, 0, f->size);
	if (n > (size_t)f->size)
		n = f->size;
	memcpy(e->buf + f->offset, s, n);
}

/* $KLPT_TEST_FIXTURES/rel (lib/tests/fixtures when run by hand). */
static inline const char *fixture(const char *rel)
{
	static char path[4][4096];
	static int n;
	const char *dir = getenv("KLPT_TEST_FIXTURES");
	char *p = path[n++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", dir ? dir : "lib/tests/fixtures",
		 rel);
	return p;
}

static inline char *slurp_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/*
 * A tep from a directory in the tracefs layout: events/header_page and
 * events/<sys>/<ev>/format.  NULL if header_page is missing.
 */
static inline struct tep_handle *load_formats(const char *dir)
{
	char path[4096];
	struct tep_handle *tep;
	struct dirent *sd, *ed;
	DIR *sdir, *edir;
	size_t len;
	char *buf;

	snprintf(path, sizeof(path), "%s/events/header_page", dir);
	buf = slurp_file(path, &len);
	if (!buf)
		return NULL;
	tep = tep_alloc();
	tep_set_file_bigendian(tep, TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(tep, TEP_LITTLE_ENDIAN);
	tep_set_long_size(tep, 8);
	tep_set_page_size(tep, PB_PAGE);
	tep_parse_header_page(tep, buf, len, 8);
	free(buf);
	snprintf(path, sizeof(path), "%s/events", dir);
	sdir = opendir(path);
	while (sdir && (sd = readdir(sdir))) {
		if (sd->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/events/%s", dir, sd->d_name);
		edir = opendir(path);
		while (edir && (ed = readdir(edir))) {
			if (ed->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/events/%s/%s/format",
				 dir, sd->d_name, ed->d_name);
			buf = slurp_file(path, &len);
			if (buf)
				tep_parse_event(tep, buf, len, sd->d_name);
			free(buf);
		}
		if (edir)
			closedir(edir);
	}
	if (sdir)
		closedir(sdir);
	return tep;
}

#endif /* KLPT_PAGEBUILD_H */
