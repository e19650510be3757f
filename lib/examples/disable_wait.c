// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * disable_wait: disable a livepatch and wait until its module can be
 * unloaded, printing once a second what still holds it.
 *
 * An example of libklptrace's public API (it links the shared library
 * and includes nothing else of it): a live session, a lookup in the
 * model, an action, and a wait with the unload verdict.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <klptrace.h>

#define PROG "disable_wait"

enum exit_code {
	EXIT_READY = 0,
	EXIT_TIMEOUT = 1,	/* also: forced, never unloadable */
	EXIT_ERROR = 2,
	EXIT_INTERRUPTED = 130,
};

static const char usage[] =
"NAME\n"
"    " PROG " - disable a livepatch and wait until its module can be unloaded\n"
"\n"
"SYNOPSIS\n"
"    " PROG " [-f] [-q] PATCH [TIMEOUT_S]\n"
"    " PROG " -h | -V\n"
"\n"
"DESCRIPTION\n"
"    Disables the livepatch PATCH (writes 0 to\n"
"    /sys/kernel/livepatch/PATCH/enabled; nothing is written if it is\n"
"    already being disabled) and waits until its module can be removed\n"
"    with rmmod: the unpatch transition completed, the patch was freed\n"
"    and released, and no reference to the module is left.  It does not\n"
"    remove the module.\n"
"\n"
"    Meanwhile it prints, once a second, the unload verdict and what\n"
"    holds the module: the tasks still in the patch's code and the\n"
"    function they sleep in, an unfinished transition, free work not run,\n"
"    module references.  With klptrace.ko loaded this comes from its klp\n"
"    trace events; without it, from polling sysfs and procfs, which shows\n"
"    which tasks are pending but not why.\n"
"\n"
"    PATCH is the name in /sys/kernel/livepatch (the patch module's name).\n"
"    TIMEOUT_S is the longest wait in seconds; 0 or none waits until\n"
"    ready.  Needs root.\n"
"\n"
"OPTIONS\n"
"    -f, --fallback   do not use klptrace.ko's events even if it is loaded\n"
"    -q, --quiet      print only the final line\n"
"    -h, --help       print this help and exit\n"
"    -V, --version    print libklptrace's version and exit\n"
"    --tracefs DIR, --root DIR\n"
"                     use DIR as tracefs, or as the prefix of /sys and\n"
"                     /proc (for tests with a fake system)\n"
"\n"
"EXIT STATUS\n"
"    0    the module can be unloaded now (rmmod PATCH will succeed)\n"
"    1    the timeout expired, or the transition was forced: a forced\n"
"         patch's module can never be unloaded\n"
"    2    an error: unknown patch, not root, no livepatch or tracefs in\n"
"         this kernel, bad arguments (one line on stderr says which)\n"
"    130  interrupted by SIGINT or SIGTERM\n"
"\n"
"EXAMPLE\n"
"    " PROG " klpt_lp_sleep 60 && rmmod klpt_lp_sleep\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One clear line for an error of klpt_session_open_live(). */
static void open_error(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		fprintf(stderr, PROG ": permission denied: run as root "
			"(tracefs and /sys/kernel/livepatch need it)\n");
		break;
	case ENODEV:
		fprintf(stderr, PROG ": no tracefs: this kernel has no "
			"tracing, or tracefs cannot be mounted\n");
		break;
	case EOPNOTSUPP:
		fprintf(stderr, PROG ": this kernel has no livepatch support "
			"(no /sys/kernel/livepatch)\n");
		break;
	default:
		fprintf(stderr, PROG ": cannot start tracing: %s\n",
			strerror(err));
	}
}

static int parse_timeout(const char *arg, int *ms)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < 0 || v > 86400 * 365)
		return -1;
	*ms = v ? (int)(v > 2000000 ? 2000000000 : v * 1000) : -1;
	return 0;
}

/*
 * Wait in slices of a second: each slice processes events until ready;
 * between slices, print the verdict.  Returns an exit code.
 */
static int wait_ready(struct klpt_session *s, const char *module,
		      int timeout_ms, int quiet)
{
	double start = now_s();
	char why[512];

	for (;;) {
		const struct klpt_module *m;
		enum klpt_verdict v;
		double elapsed;
		int slice = 1000, ret;

		elapsed = now_s() - start;
		if (timeout_ms >= 0 && elapsed * 1000 + slice > timeout_ms)
			slice = timeout_ms - (int)(elapsed * 1000);
		if (slice < 0)
			slice = 0;
		ret = klpt_wait_unload_ready(s, module, slice);
		if (ret == 0) {
			printf("%s: ready to unload: rmmod %s\n", module,
			       module);
			return EXIT_READY;
		}
		if (interrupted || ret == -EINTR) {
			fprintf(stderr, PROG ": interrupted\n");
			return EXIT_INTERRUPTED;
		}
		m = klpt_module_find(s, module);
		if (!m) {
			/* rmmod'ed by someone else meanwhile */
			printf("%s: no longer loaded\n", module);
			return EXIT_READY;
		}
		if (ret != -ETIMEDOUT) {
			fprintf(stderr, PROG ": waiting for %s: %s\n", module,
				strerror(-ret));
			return EXIT_ERROR;
		}
		v = klpt_module_verdict(s, m, why, sizeof(why));
		elapsed = now_s() - start;
		if (v == KLPT_HOLD_FORCED) {
			printf("%s: %s: %s\n", module, klpt_verdict_name(v),
			       why);
			fprintf(stderr, PROG ": %s was forced: its module can "
				"never be unloaded\n", module);
			return EXIT_TIMEOUT;
		}
		if (timeout_ms >= 0 && elapsed * 1000 >= timeout_ms) {
			printf("%s: timed out after %.0f s: %s: %s\n", module,
			       elapsed, klpt_verdict_name(v), why);
			return EXIT_TIMEOUT;
		}
		if (!quiet)
			printf("[%4.0fs] %s: %s: %s\n", elapsed, module,
			       klpt_verdict_name(v), why);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "fallback", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "tracefs", required_argument, NULL, 't' },
		{ "root", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	KLPT_OPTS_INIT(klpt_session_opts, opts);
	struct sigaction sa = { .sa_handler = on_signal };
	const struct klpt_module *m;
	const struct klpt_patch *p;
	struct klpt_session *s;
	char module[256];
	const char *patch;
	int timeout_ms = -1, quiet = 0, c, ret, code;

	while ((c = getopt_long(argc, argv, "fqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			opts.flags |= KLPT_F_FALLBACK;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf(PROG " (libklptrace %s)\n", klpt_version());
			return 0;
		case 't':
			opts.tracefs_dir = optarg;
			break;
		case 'r':
			opts.root = optarg;
			break;
		default:
			fprintf(stderr, "usage: " PROG " [-f] [-q] PATCH "
				"[TIMEOUT_S]; " PROG " --help for more\n");
			return EXIT_ERROR;
		}
	}
	if (optind >= argc || argc - optind > 2 ||
	    (argc - optind == 2 && parse_timeout(argv[optind + 1],
						  &timeout_ms))) {
		fprintf(stderr, "usage: " PROG " [-f] [-q] PATCH [TIMEOUT_S]; "
			PROG " --help for more\n");
		return EXIT_ERROR;
	}
	patch = argv[optind];
	/* Progress lines should reach a log file as they happen. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* No SA_RESTART: a signal ends the wait, the session is closed
	 * (and its tracefs instance removed) on the way out. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	ret = klpt_session_open_live(&opts, &s);
	if (ret) {
		open_error(-ret);
		return EXIT_ERROR;
	}
	if (klpt_session_mode(s) == KLPT_MODE_FALLBACK && !quiet)
		printf("(klptrace.ko events not used: polling sysfs and "
		       "procfs, no per-task reasons)\n");

	p = klpt_patch_find(s, patch);
	if (!p) {
		fprintf(stderr, PROG ": no livepatch named '%s' "
			"(see /sys/kernel/livepatch)\n", patch);
		code = EXIT_ERROR;
		goto out;
	}
	/* A copy: model strings live only until the next event. */
	m = klpt_patch_module(s, p);
	snprintf(module, sizeof(module), "%s",
		 m ? klpt_module_name(m) : patch);
	if (klpt_patch_enabled(p)) {
		ret = klpt_patch_disable(s, patch);
		if (ret) {
			fprintf(stderr, PROG ": cannot disable %s: %s\n", patch,
				ret == -EPERM ? "permission denied (run as root)"
					      : strerror(-ret));
			code = EXIT_ERROR;
			goto out;
		}
		if (!quiet)
			printf("%s: disabled, waiting for the unpatch "
			       "transition\n", patch);
	} else if (!quiet) {
		printf("%s: already disabled\n", patch);
	}
	code = wait_ready(s, module, timeout_ms, quiet);
out:
	klpt_session_close(s);
	return code;
}
