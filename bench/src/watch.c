// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * klptb_watch: libklptrace watching livepatch, as the benchmarks run it
 * in the VM.
 *
 *   klptb_watch [-f] [-m MODULE] [-b KB] OUTFILE
 *
 * Opens a live session (-f: KLPT_F_FALLBACK, the mode without
 * klptrace.ko events; -b: per-CPU buffer, KiB [8192]) and does what a
 * watching tool does: processes events as they come and once a second
 * asks for MODULE's unload verdict with its explanation (the README's
 * minimal watcher).  It appends a line to OUTFILE once the session is
 * open and at every SIGUSR1, and a last one at SIGTERM/SIGINT, then
 * exits:
 *
 *	open|mark|end mono_s T events N lost L cpu_s C verdicts V
 *
 * T: CLOCK_MONOTONIC; N, L: klpt_session_events()/lost(); C: this
 * process's CPU time; V: verdicts computed.  The host takes differences
 * between lines (bench/report.py), so the session's start-up (its
 * ground-truth snapshot) is not charged to what follows.
 */
#include <poll.h>
#include <signal.h>

#include <klptrace.h>

#include "guest.h"

#define PROG "klptb_watch"

static volatile sig_atomic_t got_mark, got_end;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_mark = 1;
	else
		got_end = 1;
}

static void line(FILE *out, const char *what, struct klpt_session *s,
		 unsigned long verdicts)
{
	fprintf(out, "%s mono_s %.6f events %llu lost %llu cpu_s %.4f "
		"verdicts %lu\n", what, mono_s(),
		(unsigned long long)klpt_session_events(s),
		(unsigned long long)klpt_session_lost(s), cpu_s(), verdicts);
	fflush(out);
}

int main(int argc, char **argv)
{
	KLPT_OPTS_INIT(klpt_session_opts, opts, .buffer_kb = 8192);
	const char *module = "klpt_lp_sleep";
	unsigned long verdicts = 0;
	struct klpt_session *s;
	struct sigaction sa;
	double next;
	FILE *out;
	int opt;

	while ((opt = getopt(argc, argv, "fm:b:")) != -1) {
		switch (opt) {
		case 'f':
			opts.flags |= KLPT_F_FALLBACK;
			break;
		case 'm':
			module = optarg;
			break;
		case 'b':
			opts.buffer_kb = (unsigned int)atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: " PROG " [-f] [-m MODULE] [-b KB] "
			"OUTFILE\n");
		return 2;
	}
	out = fopen(argv[optind], "ae");
	if (!out)
		die(PROG, "%s: %s", argv[optind], strerror(errno));

	/* no SA_RESTART: a signal ends the poll at once */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (klpt_session_open_live(&opts, &s) < 0)
		die(PROG, "klpt_session_open_live: %s", strerror(errno));
	line(out, "open", s, verdicts);
	next = mono_s() + 1.0;
	while (!got_end) {
		double now = mono_s();
		int ret;

		if (now >= next) {
			const struct klpt_module *m =
				klpt_module_find(s, module);
			char why[256];

			if (m)
				klpt_module_verdict(s, m, why, sizeof(why));
			verdicts++;
			next += 1.0;
			if (next < now)
				next = now + 1.0;
			continue;
		}
		ret = klpt_session_poll(s, (int)((next - now) * 1000) + 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN)
			die(PROG, "klpt_session_poll: %s", strerror(-ret));
		if (got_mark) {
			got_mark = 0;
			line(out, "mark", s, verdicts);
		}
	}
	/*
	 * What arrived before the end counts: drain the events mode's
	 * buffers.  Not in fallback mode: there every process() call polls
	 * sysfs and procfs again and finds something new while tasks come
	 * and go, so "until 0" never ended with 10k+ threads.  Bounded
	 * anyway, so that a kernel still emitting cannot hold the end line.
	 */
	if (!(opts.flags & KLPT_F_FALLBACK)) {
		int i;

		for (i = 0; i < 1000 && klpt_session_process(s) > 0; i++)
			;
	}
	line(out, "end", s, verdicts);
	klpt_session_close(s);
	fclose(out);
	return 0;
}
