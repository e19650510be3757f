// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Build the fuzz targets' seed corpora from the real recordings in
 * lib/tests/fixtures, so that the repository carries no copies:
 *
 *   mkseeds FIXTURES OUTDIR    writes OUTDIR/{pages,recording,tracedat}/
 *
 * pages      the pages of fixtures/vm-recording in the input format of
 *            pages.c: both CPUs' streams pushed the way a replay pushes
 *            them (one page per CPU, "more" while pages are left, a
 *            drain before each push), with and without the snapshot and
 *            the fallback decoding; and every page alone.  Each page is
 *            cut after its committed data, as a short read gives it.
 * recording  the files of fixtures/vm-recording in recording.h's order
 *            (the formats vm-recording predates, sched_process_exit's,
 *            klp_task_new's, task_newtask's and task_rename's, from
 *            fixtures/formats); and the shapes of untrusted directories
 *            (shape-*: a FIFO, a link to /dev/zero, a device, a
 *            directory, a hard link in place of a file, a sparse giant,
 *            huge page sizes).
 * tracedat   fixtures/vm-recording.dat.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "recording.h"

#define PAGE		4096	/* page_size of vm-recording */
#define HDR		16	/* u64 ts, u64 commit */
#define MAX_PAGES	64

static const char *fixtures, *outdir;

static void die(const char *what)
{
	fprintf(stderr, "mkseeds: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The whole file, or NULL if it does not exist. */
static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				die("realloc");
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r);
	fclose(f);
	*len = n;
	return buf;
}

static FILE *create(const char *target, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) && errno != EEXIST)
		die(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f)
		die(path);
	return f;
}

struct page {
	const unsigned char *data;
	size_t len;		/* header and commit: what a short read gives */
};

static struct page pages[2][MAX_PAGES];
static int npages[2];

static void load_pages(void)
{
	char path[4096];
	int c;

	for (c = 0; c < 2; c++) {
		unsigned char *buf;
		size_t len, off;

		snprintf(path, sizeof(path),
			 "%s/vm-recording/per_cpu/cpu%d/trace_pipe_raw",
			 fixtures, c);
		buf = slurp(path, &len);
		if (!buf)
			die(path);
		for (off = 0; off + PAGE <= len && npages[c] < MAX_PAGES;
		     off += PAGE) {
			uint64_t commit;
			size_t size;

			memcpy(&commit, buf + off + 8, 8);
			size = HDR + (commit & ((1u << 27) - 1));
			/* a stored count of missed events follows the data */
			if ((commit >> 30 & 3) == 3)
				size += 8;
			if (size > PAGE)
				size = PAGE;
			pages[c][npages[c]++] = (struct page){ buf + off, size };
		}
	}
}

static void frame(FILE *f, int cpu, int ctl, const struct page *p)
{
	fputc(cpu | ctl, f);
	fputc(p->len & 0xff, f);
	fputc(p->len >> 8, f);
	fwrite(p->data, 1, p->len, f);
}

/* Both CPUs' pages as a replay pushes them. */
static void stream(const char *name, int flags)
{
	FILE *f = create("pages", name);
	int i, c;

	fputc(flags, f);
	for (i = 0; i < npages[0] || i < npages[1]; i++)
		for (c = 0; c < 2; c++)
			if (i < npages[c])
				frame(f, c, (i ? 2 : 0) |
				      (i + 1 < npages[c] ? 4 : 0),
				      &pages[c][i]);
	fclose(f);
}

static void seed_pages(void)
{
	char name[64];
	int c, i;

	load_pages();
	stream("vm-recording", 1);
	stream("vm-recording-fallback-resync", 2 | 4);
	stream("vm-recording-no-snapshot", 0);
	for (c = 0; c < 2; c++)
		for (i = 0; i < npages[c]; i++) {
			FILE *f;

			snprintf(name, sizeof(name), "cpu%d-page%d", c, i);
			f = create("pages", name);
			fputc(1, f);
			frame(f, c, 0, &pages[c][i]);
			fclose(f);
		}
}

/*
 * The files of vm-recording in recording.h's order, as seed name; a
 * part repl[i] given replaces file i (a RECORDING_SHAPE or a content).
 */
static void seed_recording(const char *name, const char *const *repl)
{
	FILE *f = create("recording", name);
	size_t i;

	for (i = 0; i < RECORDING_NFILES; i++) {
		char path[4096];
		unsigned char *buf;
		size_t len;

		if (repl && repl[i]) {
			fputs(repl[i], f);
			goto next;
		}
		snprintf(path, sizeof(path), "%s/vm-recording/%s", fixtures,
			 recording_files[i]);
		buf = slurp(path, &len);
		if (!buf) {
			snprintf(path, sizeof(path), "%s/formats/%s", fixtures,
				 recording_files[i]);
			buf = slurp(path, &len);
		}
		if (!buf)
			die(path);
		fwrite(buf, 1, len, f);
		free(buf);
next:
		if (i + 1 < RECORDING_NFILES)
			fputs(RECORDING_SEPARATOR, f);
	}
	fclose(f);
}

/* Indexes in recording_files[] (recording.h). */
enum { R_HEADER, R_HEADER_PAGE, R_TRUTH, R_CPU0, R_CPU1 };

/*
 * The shapes of an untrusted recording directory that hung or blew up a
 * replay (issue 12 items 5, 6): one seed each, so the fuzzer starts
 * from them.
 */
static void seed_shapes(void)
{
	static const struct {
		const char *name;
		int file;
		const char *part;
	} one[] = {
		{ "shape-cpu1-fifo", R_CPU1, RECORDING_SHAPE "f" },
		{ "shape-cpu1-dev-zero-link", R_CPU1, RECORDING_SHAPE "z" },
		{ "shape-cpu1-chardev", R_CPU1, RECORDING_SHAPE "c" },
		{ "shape-cpu1-directory", R_CPU1, RECORDING_SHAPE "d" },
		{ "shape-cpu1-link-to-cpu0", R_CPU1, RECORDING_SHAPE "l" },
		{ "shape-cpu0-sparse-8m", R_CPU0, RECORDING_SHAPE "s\x08" },
		{ "shape-header-fifo", R_HEADER, RECORDING_SHAPE "f" },
		{ "shape-header-page-fifo", R_HEADER_PAGE, RECORDING_SHAPE "f" },
		{ "shape-truth-fifo", R_TRUTH, RECORDING_SHAPE "f" },
	};
	const char *repl[RECORDING_NFILES] = { 0 };
	size_t i;

	for (i = 0; i < sizeof(one) / sizeof(*one); i++) {
		repl[one[i].file] = one[i].part;
		seed_recording(one[i].name, repl);
		repl[one[i].file] = NULL;
	}
	/* 128 MiB pages: both CPUs one sparse file (2 GiB with 16 CPUs) */
	repl[R_HEADER] = "klptrace-recording 1\npage_size 134217728\n"
			 "ncpus 2\nlong_size 8\nendian little\n";
	repl[R_CPU0] = RECORDING_SHAPE "s\x0f";
	repl[R_CPU1] = RECORDING_SHAPE "l";
	seed_recording("shape-huge-pages", repl);
	repl[R_HEADER] = "klptrace-recording 1\npage_size 1048576\n"
			 "ncpus 4096\nlong_size 8\nendian little\n";
	seed_recording("shape-huge-ncpus", repl);
}

static void seed_tracedat(void)
{
	char path[4096];
	unsigned char *buf;
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/vm-recording.dat", fixtures);
	buf = slurp(path, &len);
	if (!buf)
		die(path);
	f = create("tracedat", "vm-recording.dat");
	fwrite(buf, 1, len, f);
	fclose(f);
	free(buf);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mkseeds FIXTURES OUTDIR\n");
		return 2;
	}
	fixtures = argv[1];
	outdir = argv[2];
	if (mkdir(outdir, 0755) && errno != EEXIST)
		die(outdir);
	seed_pages();
	seed_recording("vm-recording", NULL);
	seed_shapes();
	seed_tracedat();
	return 0;
}
