// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Replay sources: a recording directory (record.c) or a trace.dat.
 *
 * Recording directory.  klptrace-recording is text, "key value" lines;
 * the first line is "klptrace-recording 1" (the format version: any
 * other is refused).  Keys of version 1:
 *
 *   page_size N         bytes per page in per_cpu/cpuN/trace_pipe_raw
 *   ncpus N             per_cpu/cpu0 .. cpuN-1
 *   trace_clock NAME    informational ("mono" for live sessions)
 *   long_size 4|8       the traced kernel's long (default: header_page)
 *   endian little|big   byte order of the pages (default: little)
 *   klptrace_version V  informational
 *   kernel_release R    the traced kernel's release (uname -r), one
 *                       word; recordings made before it was kept have
 *                       none (klpt_session_kernel() says ""; a
 *                       trace.dat's is in its uname: tracedat_release())
 *
 * Unknown keys are ignored.  page_size is at most REPLAY_PAGE_MAX and
 * page_size * ncpus at most REPLAY_PAGES_MAX: the bytes of pages held at
 * once (a page per CPU), so that a header cannot make a replay take
 * gigabytes (16 CPUs of 128 MiB pages did).
 *
 * A recording is untrusted input: every file of it is opened only if it
 * is a regular file, not a link (klpt_open_regular()), for a FIFO would
 * block the open and /dev/zero would never end; a page without data
 * or loss (commit 0, which no kernel hands out: a sparse file is
 * endless such pages) ends its CPU's file with an error.
 *
 * The formats are parsed from events/ with
 * tep_parse_header_page()/tep_parse_event() (not tracefs_local_events(),
 * which also reads the running system's kallsyms).  Pages are read one
 * page-size chunk at a time per CPU and pushed lazily with the merge's
 * "more" protocol (internal.h), so memory stays at a page or two per
 * CPU whatever the recording's size.  A truncated last page or a page
 * that is not a ring-buffer page is reported (-EBADMSG) once, after all
 * the good pages were delivered.
 *
 * trace.dat (trace-cmd record -e klp).  libtracecmd gives records, not
 * pages, and the session consumes pages: each CPU's records are written
 * back into ring-buffer pages (header, time deltas, time extends, the
 * missed-events flags) and go through the same merge and decoder as
 * everything else.  That costs a copy per record and keeps one code
 * path for every source.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <trace-cmd.h>

#include "internal.h"

#define RECORDING_VERSION	1
/*
 * A kernel's ring-buffer page is its page size (6.1: ring_buffer.c's
 * BUF_PAGE_SIZE, PAGE_SIZE less the header; 4 KiB to 256 KiB across the
 * architectures): 1 MiB leaves room for larger sub-buffers.
 */
#define REPLAY_PAGE_MAX		(1ul << 20)
/* Bytes of pages a replay holds at once: page_size * ncpus. */
#define REPLAY_PAGES_MAX	(256ul << 20)

static _Thread_local char last_error[512];

KLPT_API const char *klpt_replay_error(void)
{
	return last_error;
}

/* Say why in klpt_replay_error(); return -err with errno set. */
__attribute__((format(printf, 2, 3)))
static int fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return klpt_err(err);
}

struct tc_cpu {
	struct tep_record *pending;	/* read, not yet in a page */
};

struct replay {
	struct klpt_source src;		/* first: src is what we hand out */
	char *path;
	size_t page_size;
	unsigned char *page;
	bool *done;			/* per CPU: nothing left to push */
	bool started;			/* merge "more" flags are set */
	int err;			/* reported once at the end */
	char errmsg[sizeof(last_error)];
	bool err_reported;
	/* directory */
	int *fd;
	unsigned long *pageno;
	uint64_t bytes;			/* of the per-CPU files, at open */
	/* trace.dat */
	struct tracecmd_input *tc;
	struct tc_cpu *tcc;
	int long_size;
	bool swap, big;
};

int klpt_replay_fail(int err, const char *msg)
{
	return fail(err, "%s", msg);
}

/* Why a file of a recording cannot be read. */
static const char *file_error(int err)
{
	return err == EINVAL ? "not a regular file" : strerror(err);
}

/* Remember the first problem met while reading pages. */
__attribute__((format(printf, 3, 4)))
static void note(struct replay *r, int err, const char *fmt, ...)
{
	va_list ap;

	if (r->err)
		return;
	r->err = err;
	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
}

static void replay_close(struct klpt_source *src)
{
	struct replay *r = (struct replay *)src;
	int i;

	if (!r)
		return;
	for (i = 0; r->fd && i < src->ncpus; i++)
		if (r->fd[i] >= 0)
			close(r->fd[i]);
	for (i = 0; r->tcc && i < src->ncpus; i++)
		tracecmd_free_record(r->tcc[i].pending);
	if (r->tc)
		tracecmd_close(r->tc);	/* frees its tep */
	else if (src->tep)
		tep_free(src->tep);
	if (src->truth)
		klpt_truth_free(src->truth);
	free(r->tcc);
	free(r->fd);
	free(r->pageno);
	free(r->done);
	free(r->page);
	free(r->path);
	free(r);
}

/*
 * The end of a fill: pages pushed; else 1 while pages are still queued
 * (the caller drains them and calls again); else the deferred error,
 * once; else 0, the end.
 */
static int fill_result(struct replay *r, struct klpt_merge *m, int pushed)
{
	int c;

	if (pushed)
		return pushed;
	for (c = 0; c < r->src.ncpus; c++)
		if (!r->done[c] || klpt_merge_queued(m, c) > 0)
			return 1;
	if (r->err && !r->err_reported) {
		r->err_reported = true;
		snprintf(last_error, sizeof(last_error), "%s", r->errmsg);
		return klpt_err(r->err);
	}
	return 0;
}

static void start(struct replay *r, struct klpt_merge *m)
{
	int c;

	if (r->started)
		return;
	for (c = 0; c < r->src.ncpus; c++)
		klpt_merge_set_more(m, c, !r->done[c]);
	r->started = true;
}

static void cpu_done(struct replay *r, struct klpt_merge *m, int c)
{
	r->done[c] = true;
	klpt_merge_set_more(m, c, false);
}

/* ------------------------------------------------------ directories */

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t n = 0;

	while (n < len) {
		ssize_t r = read(fd, (char *)buf + n, len - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!r)
			break;
		n += r;
	}
	return n;
}

/* The page's commit word is 0: no data and no loss (ring_buffer.c). */
static bool empty_page(const struct replay *r)
{
	static const unsigned char zero[8];

	return !memcmp(r->page + 8, zero, r->long_size);
}

static int dir_fill(struct klpt_source *src, struct klpt_merge *m)
{
	struct replay *r = (struct replay *)src;
	int c, pushed = 0;

	start(r, m);
	for (c = 0; c < src->ncpus; c++) {
		/* one queued page per CPU at a time */
		while (!r->done[c] && klpt_merge_queued(m, c) == 0) {
			ssize_t n = read_full(r->fd[c], r->page, r->page_size);
			unsigned long pg = r->pageno[c]++;

			if (n < 0) {
				note(r, errno, "per_cpu/cpu%d/trace_pipe_raw: "
				     "page %lu: %s", c, pg, strerror(errno));
				cpu_done(r, m, c);
			} else if (n == 0) {
				cpu_done(r, m, c);
			} else if ((size_t)n < r->page_size) {
				note(r, EBADMSG, "per_cpu/cpu%d/trace_pipe_raw"
				     ": truncated last page %lu (%zd of %zu "
				     "bytes)", c, pg, n, r->page_size);
				cpu_done(r, m, c);
			} else if (empty_page(r)) {
				/*
				 * The kernel never hands out a page without
				 * data or a loss; a sparse file is endless
				 * such pages, read in this one call.
				 */
				note(r, EBADMSG, "per_cpu/cpu%d/trace_pipe_raw"
				     ": page %lu is empty (no kernel writes "
				     "one): the rest of the file is not read",
				     c, pg);
				cpu_done(r, m, c);
			} else if (klpt_merge_push(m, c, r->page, n) < 0) {
				/* skip it: the next page starts in place */
				note(r, EBADMSG, "per_cpu/cpu%d/trace_pipe_raw"
				     ": page %lu is not a ring-buffer page", c,
				     pg);
			} else {
				pushed++;
			}
		}
	}
	return fill_result(r, m, pushed);
}

/* A page per CPU held at once must stay within REPLAY_PAGES_MAX. */
static int pages_fit(size_t page_size, int ncpus, const char *what)
{
	if (page_size * ncpus <= REPLAY_PAGES_MAX)
		return 0;
	return fail(EBADMSG, "%s: page_size %zu x ncpus %d: %zu MiB of pages "
		    "held at once, over the limit of %lu MiB", what,
		    page_size, ncpus, page_size * ncpus >> 20,
		    REPLAY_PAGES_MAX >> 20);
}

/* Parse the header; fills page_size, ncpus, long_size, big, kernel. */
static int parse_header(const char *buf, size_t *page_size, int *ncpus,
			int *long_size, bool *big, char *kernel)
{
	const char *line = buf;
	int version = -1;
	char key[32], val[KLPT_KERNEL_LEN];

	if (sscanf(buf, "klptrace-recording %d", &version) != 1)
		return fail(EBADMSG, "klptrace-recording: not a klptrace "
			    "recording header");
	if (version != RECORDING_VERSION)
		return fail(EBADMSG, "klptrace-recording: format version %d, "
			    "this libklptrace reads version %d", version,
			    RECORDING_VERSION);
	*page_size = 0;
	*ncpus = 0;
	*long_size = 0;
	*big = false;
	while ((line = strchr(line, '\n')) && *++line) {
		unsigned long v;
		char *end;

		if (sscanf(line, "%31s %64s", key, val) != 2)
			continue;
		v = strtoul(val, &end, 10);
		if (!strcmp(key, "page_size")) {
			if (*end || v < 64)
				return fail(EBADMSG, "klptrace-recording: bad "
					    "page_size %s", val);
			if (v > REPLAY_PAGE_MAX)
				return fail(EBADMSG, "klptrace-recording: "
					    "page_size %lu is over the %lu KiB "
					    "a ring-buffer page can be (a "
					    "kernel's page size)", v,
					    REPLAY_PAGE_MAX >> 10);
			*page_size = v;
		} else if (!strcmp(key, "ncpus")) {
			if (*end || v < 1 || v > 4096)
				return fail(EBADMSG, "klptrace-recording: bad "
					    "ncpus %s", val);
			*ncpus = v;
		} else if (!strcmp(key, "long_size")) {
			if (*end || (v != 4 && v != 8))
				return fail(EBADMSG, "klptrace-recording: bad "
					    "long_size %s", val);
			*long_size = v;
		} else if (!strcmp(key, "kernel_release")) {
			/*
			 * %64s above: one word, at most 64 bytes.  A release
			 * (UTS_RELEASE) is printable ASCII: anything else is
			 * not a recording of ours, and would reach terminals.
			 */
			if (!klpt_release_ok(val))
				return fail(EBADMSG, "klptrace-recording: "
					    "bad kernel_release");
			snprintf(kernel, KLPT_KERNEL_LEN, "%s", val);
		} else if (!strcmp(key, "endian")) {
			if (strcmp(val, "little") && strcmp(val, "big"))
				return fail(EBADMSG, "klptrace-recording: bad "
					    "endian %s", val);
			*big = !strcmp(val, "big");
		}
	}
	if (!*page_size || !*ncpus)
		return fail(EBADMSG, "klptrace-recording: no %s",
			    *page_size ? "ncpus" : "page_size");
	return pages_fit(*page_size, *ncpus, "klptrace-recording");
}

/* Parse every events/<sys>/<ev>/format.  Returns the number parsed. */
static int parse_formats(struct tep_handle *tep, const char *dir)
{
	char path[4096];
	struct dirent *sd, *ed;
	DIR *sdir, *edir;
	int parsed = 0;

	snprintf(path, sizeof(path), "%s/events", dir);
	sdir = opendir(path);
	if (!sdir)
		return 0;
	while ((sd = readdir(sdir))) {
		if (sd->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/events/%s", dir,
				     sd->d_name) >= sizeof(path))
			continue;
		edir = opendir(path);
		if (!edir)
			continue;	/* header_page, header_event */
		while ((ed = readdir(edir))) {
			char *buf;
			size_t len;

			if (ed->d_name[0] == '.')
				continue;
			if ((size_t)snprintf(path, sizeof(path),
					     "%s/events/%s/%s/format", dir,
					     sd->d_name, ed->d_name) >=
			    sizeof(path))
				continue;
			if (klpt_read_file(path, 1u << 20, &buf, &len))
				continue;
			/*
			 * A format libtraceevent cannot fully parse (a print
			 * fmt it does not know) is still registered with its
			 * fields; the decoder checks the fields it needs.
			 */
			if (!tep_parse_event(tep, buf, len, sd->d_name) ||
			    tep_find_event_by_name(tep, sd->d_name, ed->d_name))
				parsed++;
			free(buf);
		}
		closedir(edir);
	}
	closedir(sdir);
	return parsed;
}

/* A regular file of the recording as a stream, or NULL (errno). */
static FILE *open_stream(const char *path)
{
	int fd = klpt_open_regular(path);
	FILE *f;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

static int cmp_tid(const void *a, const void *b)
{
	const struct klpt_truth_task *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

/*
 * truth-end.txt (record.c): the threads alive when the recording ended,
 * as hints to the start-up snapshot t (internal.h).  Optional: older
 * recordings have none, and a bad one only costs the hints.
 */
static void load_end_hints(const char *dir, struct klpt_truth *t)
{
	struct klpt_truth *end = NULL;
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/truth-end.txt", dir);
	f = open_stream(path);
	if (!f)
		return;
	if (klpt_truth_load(f, &end) == 0 && end->ntasks > 0) {
		qsort(end->tasks, end->ntasks, sizeof(*end->tasks), cmp_tid);
		t->hints = end->tasks;
		t->nhints = end->ntasks;
		end->tasks = NULL;
	}
	fclose(f);
	klpt_truth_free(end);
}

/* What every replay's rewind resets: nothing pushed, nothing reported. */
static void rewound(struct replay *r)
{
	memset(r->done, 0, r->src.ncpus * sizeof(*r->done));
	r->started = false;
	r->err = 0;
	r->err_reported = false;
	r->errmsg[0] = '\0';
}

/* The per-CPU files opened at the open, from their start again. */
static int dir_rewind(struct klpt_source *src)
{
	struct replay *r = (struct replay *)src;
	int c;

	for (c = 0; c < src->ncpus; c++)
		if (lseek(r->fd[c], 0, SEEK_SET) < 0)
			return -errno;
	memset(r->pageno, 0, src->ncpus * sizeof(*r->pageno));
	rewound(r);
	return 0;
}

static int dir_progress(const struct klpt_source *src, uint64_t *done,
			uint64_t *total)
{
	const struct replay *r = (const struct replay *)src;
	uint64_t n = 0;
	int c;

	for (c = 0; c < src->ncpus; c++)
		n += (uint64_t)r->pageno[c] * r->page_size;
	*total = r->bytes;
	*done = n < r->bytes ? n : r->bytes;
	return 0;
}

static int open_dir(const char *dir, struct replay *r)
{
	struct klpt_source *src = &r->src;
	struct stat st;
	char path[4096], *buf;
	size_t len;
	bool big = false;
	int ret, ncpus = 0, long_size = 0, c;

	if ((size_t)snprintf(path, sizeof(path), "%s/klptrace-recording",
			     dir) >= sizeof(path))
		return fail(ENAMETOOLONG, "%s: path too long", dir);
	ret = klpt_read_file(path, 1u << 16, &buf, &len);
	if (ret == -ENOENT)
		return fail(EBADMSG, "%s: not a klptrace recording (no "
			    "klptrace-recording file)", dir);
	if (ret)
		return fail(ret == -EINVAL ? EBADMSG : -ret, "%s: %s", path,
			    file_error(-ret));
	ret = parse_header(buf, &r->page_size, &ncpus, &long_size, &big,
			   src->kernel);
	free(buf);
	if (ret)
		return ret;
	src->ncpus = ncpus;

	src->tep = tep_alloc();
	if (!src->tep)
		return fail(ENOMEM, "out of memory");
	tep_set_file_bigendian(src->tep, big ? TEP_BIG_ENDIAN :
			       TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(src->tep, tep_is_bigendian() ?
				TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
	tep_set_page_size(src->tep, r->page_size);
	tep_set_cpus(src->tep, ncpus);

	snprintf(path, sizeof(path), "%s/events/header_page", dir);
	ret = klpt_read_file(path, 1u << 16, &buf, &len);
	if (ret)
		return fail(EBADMSG, "%s: %s", path, file_error(-ret));
	ret = tep_parse_header_page(src->tep, buf, len,
				    long_size ? long_size : 8);
	free(buf);
	if (ret || tep_get_header_timestamp_size(src->tep) != 8 ||
	    (tep_get_header_page_size(src->tep) != 4 &&
	     tep_get_header_page_size(src->tep) != 8))
		return fail(EBADMSG, "%s: not a ring-buffer header_page", path);
	if (!long_size)
		long_size = tep_get_header_page_size(src->tep);
	tep_set_long_size(src->tep, long_size);
	r->long_size = long_size;
	if (!parse_formats(src->tep, dir))
		return fail(EBADMSG, "%s: no event formats in events/", dir);

	snprintf(path, sizeof(path), "%s/truth.txt", dir);
	{
		FILE *f = open_stream(path);

		if (f) {
			ret = klpt_truth_load(f, &src->truth);
			fclose(f);
			if (ret < 0) {
				src->truth = NULL;
				return fail(EBADMSG, "%s: not a valid snapshot",
					    path);
			}
		} else if (errno != ENOENT) {
			return fail(EBADMSG, "%s: %s", path, file_error(errno));
		}
	}
	if (src->truth)
		load_end_hints(dir, src->truth);

	r->fd = malloc(ncpus * sizeof(*r->fd));
	r->pageno = calloc(ncpus, sizeof(*r->pageno));
	r->done = calloc(ncpus, sizeof(*r->done));
	r->page = malloc(r->page_size);
	if (!r->fd || !r->pageno || !r->done || !r->page)
		return fail(ENOMEM, "out of memory");
	for (c = 0; c < ncpus; c++)
		r->fd[c] = -1;
	for (c = 0; c < ncpus; c++) {
		snprintf(path, sizeof(path),
			 "%s/per_cpu/cpu%d/trace_pipe_raw", dir, c);
		r->fd[c] = klpt_open_regular(path);
		if (r->fd[c] < 0)
			return fail(EBADMSG, "%s: %s (the header says %d "
				    "CPUs)", path, file_error(-r->fd[c]),
				    ncpus);
		if (!fstat(r->fd[c], &st))
			r->bytes += (uint64_t)st.st_size;
	}
	src->fill = dir_fill;
	src->rewind = dir_rewind;
	src->progress = dir_progress;
	return 0;
}

/* -------------------------------------------------------- trace.dat */

#define RB_MISSED_EVENTS	(1ull << 31)
#define RB_MISSED_STORED	(1ull << 30)
#define RB_DELTA_BITS		27
#define RB_TYPE_TIME_EXTEND	30
#define RB_SMALL_MAX		28	/* largest type_len of a small event */

static void w32(const struct replay *r, unsigned char *p, uint32_t v)
{
	if (r->swap)
		v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

static void w64(const struct replay *r, unsigned char *p, uint64_t v)
{
	if (r->swap)
		v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
}

static void wlong(const struct replay *r, unsigned char *p, uint64_t v)
{
	if (r->long_size == 8)
		w64(r, p, v);
	else
		w32(r, p, v);
}

static uint32_t ev_header(const struct replay *r, uint32_t type_len,
			  uint32_t delta)
{
	delta &= (1u << RB_DELTA_BITS) - 1;
	return r->big ? type_len << RB_DELTA_BITS | delta :
			type_len | delta << 5;
}

/* Bytes a record takes in a page (its header included). */
static size_t ev_size(const struct tep_record *rec)
{
	size_t words = ((size_t)rec->size + 3) / 4;

	if (!words)
		words = 1;
	return words <= RB_SMALL_MAX ? 4 + words * 4 : 8 + words * 4;
}

/*
 * Write one page of CPU c's records (those that fit, in order) and push
 * it.  A record that starts a page carries its lost count in the page
 * header; one that went back in time starts a page (absolute time).
 */
static int tc_page(struct replay *r, struct klpt_merge *m, int c)
{
	struct tc_cpu *t = &r->tcc[c];
	size_t data_off = 8 + r->long_size;
	/* room for the stored lost count after the data */
	size_t cap = r->page_size - data_off - r->long_size, used = 0;
	unsigned char *data = r->page + data_off;
	uint64_t page_ts = 0, last = 0, commit;
	long long missed = 0;
	int events = 0;

	for (;;) {
		struct tep_record *rec = t->pending;
		uint64_t delta;
		size_t need, words;

		if (!rec)
			rec = tracecmd_read_data(r->tc, c);
		t->pending = NULL;
		if (!rec) {
			cpu_done(r, m, c);
			break;
		}
		/*
		 * libtracecmd passes on what a corrupt page says: an event
		 * whose length word is under 4 comes out with a negative
		 * size, which ev_size() and the copy below would take as
		 * almost SIZE_MAX.
		 */
		if (rec->size < 0) {
			note(r, EBADMSG, "%s: cpu%d: a record of size %d",
			     r->path, c, rec->size);
			tracecmd_free_record(rec);
			continue;
		}
		/* beyond what a time extend can say: a new page */
		if (events && (rec->missed_events || rec->ts < last ||
			       (rec->ts - last) >> (RB_DELTA_BITS + 32))) {
			t->pending = rec;
			break;
		}
		if (!events) {
			page_ts = last = rec->ts;
			missed = rec->missed_events;
		}
		delta = rec->ts - last;
		need = ev_size(rec) + (delta >> RB_DELTA_BITS ? 8 : 0);
		if (used + need > cap) {
			if (events) {
				t->pending = rec;
				break;
			}
			note(r, EBADMSG, "%s: cpu%d: a %d-byte record does not "
			     "fit a page", r->path, c, rec->size);
			tracecmd_free_record(rec);
			continue;
		}
		if (delta >> RB_DELTA_BITS) {
			w32(r, data + used,
			    ev_header(r, RB_TYPE_TIME_EXTEND, delta));
			w32(r, data + used + 4, delta >> RB_DELTA_BITS);
			used += 8;
			delta = 0;
		}
		words = ((size_t)rec->size + 3) / 4;
		if (!words)
			words = 1;
		if (words <= RB_SMALL_MAX) {
			w32(r, data + used, ev_header(r, words, delta));
			used += 4;
		} else {
			w32(r, data + used, ev_header(r, 0, delta));
			w32(r, data + used + 4, words * 4 + 4);
			used += 8;
		}
		memset(data + used, 0, words * 4);
		memcpy(data + used, rec->data, rec->size);
		used += words * 4;
		last = rec->ts;
		events++;
		tracecmd_free_record(rec);
	}
	if (!events)
		return 0;

	commit = used;
	if (missed) {
		commit |= RB_MISSED_EVENTS;
		if (missed > 0) {
			commit |= RB_MISSED_STORED;
			wlong(r, data + used, missed);
		}
	}
	w64(r, r->page, page_ts);
	wlong(r, r->page + 8, commit);
	if (klpt_merge_push(m, c, r->page,
			    data_off + used + (missed > 0 ? r->long_size : 0))
	    < 0) {
		note(r, EBADMSG, "%s: cpu%d: could not rebuild a page",
		     r->path, c);
		return 0;
	}
	return 1;
}

static int tc_fill(struct klpt_source *src, struct klpt_merge *m)
{
	struct replay *r = (struct replay *)src;
	int c, pushed = 0;

	start(r, m);
	for (c = 0; c < src->ncpus; c++)
		while (!r->done[c] && klpt_merge_queued(m, c) == 0)
			pushed += tc_page(r, m, c);
	return fill_result(r, m, pushed);
}

/*
 * trace-cmd record keeps the uname of the machine it ran on as an option
 * of the file, "sysname nodename release machine" (trace-record.c's
 * add_uname()): the release is the traced kernel's.  libtracecmd
 * exports its reader but declares it only in its private header
 * (trace-cmd-private.h).  trace-cmd restore writes none.
 */
const char *tracecmd_get_uname(struct tracecmd_input *handle);

/* The release in a trace.dat's uname, into kernel; "" if none or odd. */
static void tracedat_release(struct tracecmd_input *tc, char *kernel)
{
	const char *u = tracecmd_get_uname(tc), *end, *rel;
	char word[KLPT_KERNEL_LEN];
	size_t n;

	kernel[0] = '\0';
	/*
	 * The word before the last: the machine ("x86_64") has no space,
	 * but the nodename may have any (sethostname() takes bytes), or be
	 * "", so counting words from the start can land in it.
	 */
	if (!u || strncmp(u, "Linux ", 6))
		return;
	end = strrchr(u, ' ');
	if (!end || end < u + 6)
		return;
	for (rel = end; rel > u && rel[-1] != ' '; rel--)
		;
	if (rel < u + 6)
		return;
	n = (size_t)(end - rel);
	if (!n || n >= sizeof(word))
		return;
	memcpy(word, rel, n);
	word[n] = '\0';
	/* printable ASCII, as a release is: else it would reach terminals */
	if (klpt_release_ok(word))
		snprintf(kernel, KLPT_KERNEL_LEN, "%s", word);
}

/*
 * libtracecmd's handle of the open (its fd: the file the probe read),
 * each CPU from its first record again.
 */
static int tc_rewind(struct klpt_source *src)
{
	struct replay *r = (struct replay *)src;
	int c;

	for (c = 0; c < src->ncpus; c++) {
		tracecmd_free_record(r->tcc[c].pending);
		r->tcc[c].pending = tracecmd_read_cpu_first(r->tc, c);
	}
	rewound(r);
	return 0;
}

static int open_tracedat(const char *path, struct replay *r)
{
	static const char magic[] = "\027\010\104tracing";
	struct klpt_source *src = &r->src;
	char head[sizeof(magic) - 1];
	int fd, n, hps;

	/* libtracecmd prints its own complaints: check the magic first */
	fd = klpt_open_regular(path);
	if (fd < 0)
		return fail(-fd == EINVAL ? EBADMSG : -fd, "%s: %s", path,
			    file_error(-fd));
	n = read_full(fd, head, sizeof(head));
	close(fd);
	if (n != (int)sizeof(head) || memcmp(head, magic, sizeof(head)))
		return fail(EBADMSG, "%s: neither a klptrace recording "
			    "directory nor a trace.dat", path);

	r->tc = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!r->tc)
		return fail(EBADMSG, "%s: libtracecmd cannot read this "
			    "trace.dat", path);
	src->tep = tracecmd_get_tep(r->tc);
	tracedat_release(r->tc, src->kernel);
	src->ncpus = src->tep ? tep_get_cpus(src->tep) : 0;
	if (src->ncpus <= 0 || src->ncpus > 4096)
		return fail(EBADMSG, "%s: no CPUs in this trace.dat", path);
	/* `trace-cmd record -e klp` alone: no task is ever seen leaving */
	src->no_exits = !tep_find_event_by_name(src->tep, "sched",
						"sched_process_exit");

	hps = tep_get_header_page_size(src->tep);
	r->long_size = hps == 4 || hps == 8 ? hps : 8;
	r->big = tep_is_file_bigendian(src->tep);
	r->swap = r->big != !!tep_is_bigendian();
	/*
	 * Our pages need not match the file's: one big enough for any
	 * event (a kernel event is less than a page).
	 */
	r->page_size = tep_get_page_size(src->tep);
	if (r->page_size < 4096)
		r->page_size = 4096;
	if (r->page_size > REPLAY_PAGE_MAX)
		return fail(EBADMSG, "%s: page size %zu is over the %lu KiB "
			    "a ring-buffer page can be (a kernel's page size)",
			    path, r->page_size, REPLAY_PAGE_MAX >> 10);
	if (pages_fit(r->page_size, src->ncpus, path))
		return -EBADMSG;
	r->page = malloc(r->page_size);
	r->done = calloc(src->ncpus, sizeof(*r->done));
	r->tcc = calloc(src->ncpus, sizeof(*r->tcc));
	if (!r->page || !r->done || !r->tcc)
		return fail(ENOMEM, "out of memory");
	src->fill = tc_fill;
	src->rewind = tc_rewind;
	src->probe_records = true;
	return 0;
}

int klpt_replay_open(const char *path, struct klpt_source **out)
{
	struct replay *r;
	struct stat st;
	int ret;

	if (!out)
		return klpt_err(EINVAL);
	*out = NULL;
	if (!path || !*path)
		return fail(EINVAL, "no path");
	if (stat(path, &st) < 0)
		return fail(errno, "%s: %s", path, strerror(errno));
	r = calloc(1, sizeof(*r));
	if (!r)
		return fail(ENOMEM, "out of memory");
	r->path = strdup(path);
	r->src.mode = KLPT_MODE_REPLAY;
	r->src.close = replay_close;
	if (!r->path)
		ret = fail(ENOMEM, "out of memory");
	else if (S_ISDIR(st.st_mode))
		ret = open_dir(path, r);
	else if (S_ISREG(st.st_mode))
		ret = open_tracedat(path, r);
	else	/* a fifo or a device could block or never end */
		ret = fail(EBADMSG, "%s: neither a klptrace recording "
			   "directory nor a trace.dat", path);
	if (ret) {
		replay_close(&r->src);
		return klpt_err(-ret);
	}
	last_error[0] = '\0';
	*out = &r->src;
	return 0;
}
