// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The frame log, for benchmarks (bench/): with KLPTOP_FRAME_LOG=FILE in
 * the environment, klptop appends one line per frame it builds:
 *
 *   frame done_ns=N build_ns=N draw_ns=N rss_kb=N first_new_ts=N tasks=N
 *         io_ns=N
 *
 * done_ns is CLOCK_MONOTONIC when the frame was on the screen (or
 * written); build_ns the time to build the view, draw_ns to draw or
 * print it, io_ns the part of draw_ns that replaced --openmetrics' file
 * (write, fsync, rename, fsync of the directory) and set --listen's
 * body (0 for the other outputs); first_new_ts the trace time of the oldest event this frame
 * shows for the first time (0 if none).  A live session's trace clock is
 * the monotonic clock, so done_ns - first_new_ts is the latency from the
 * kernel's event to the screen.  Without the variable nothing is
 * measured or written.
 */
#include <stdlib.h>

#include "klptop.h"

static FILE *flog;

void top_framelog_open(void)
{
	const char *path = getenv("KLPTOP_FRAME_LOG");

	if (!path || !*path)
		return;
	flog = fopen(path, "ae");
	if (flog)
		setvbuf(flog, NULL, _IOLBF, 0);
	else
		perror(PROG ": KLPTOP_FRAME_LOG");
}

void top_framelog_close(void)
{
	if (flog)
		fclose(flog);
	flog = NULL;
}

static long rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * 4;
}

void top_framelog_frame(struct top_app *app, uint64_t build_ns,
			uint64_t draw_ns, uint64_t io_ns, int tasks)
{
	uint64_t first = top_app_take_unshown(app);

	if (!flog)
		return;
	fprintf(flog, "frame done_ns=%llu build_ns=%llu draw_ns=%llu "
		"rss_kb=%ld first_new_ts=%llu tasks=%d io_ns=%llu\n",
		(unsigned long long)top_mono_ns(),
		(unsigned long long)build_ns, (unsigned long long)draw_ns,
		rss_kb(), (unsigned long long)first, tasks,
		(unsigned long long)io_ns);
}
