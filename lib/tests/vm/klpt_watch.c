// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * klpt_watch: libklptrace's driver in the e2e VM (tests/vm), and the
 * same model printer on the host for the recordings it makes.
 *
 *   klpt_watch OUTDIR
 *	Opens a live session (klptrace.ko loaded: events mode), records it
 *	into OUTDIR/recording and applies events until SIGTERM or SIGINT.
 *	On SIGUSR1, and once more before it exits, it writes the model to
 *	OUTDIR/model.txt (see below).  Files, for the guest to poll:
 *
 *	  ready        the session is open and recording ("pid N", "mode M")
 *	  model.txt    the model as of the last dump (written atomically)
 *	  model.done   created after each SIGUSR1 dump (remove it before the
 *	               next SIGUSR1 to wait for that one)
 *	  events.log   every event the session delivered, one a line
 *	               ("TS NAME key=val ... [late=1] [comm=COMM]"), and
 *	               "dump N" after the Nth dump: what came after a dump
 *	               changed the model after it.  late=1: the library
 *	               delivered this event after a newer one
 *	               (klpt_session_last_late())
 *	  closed       the session is closed (its tracefs instance gone):
 *	               written last, on SIGTERM/SIGINT
 *
 *	Environment: KLPT_WATCH_BUFFER_KB=N sets the session's per-CPU ring
 *	buffer (klpt_session_opts.buffer_kb; default the library's), so a
 *	scenario can make the kernel overwrite events the session has not
 *	read yet and check how it recovers.
 *
 *   klpt_watch --replay RECORDING [OUTFILE]
 *	Replays RECORDING (a directory of klpt_session_record(), or a
 *	trace.dat) through the library and prints the final model, in the
 *	format of model.txt, to OUTFILE or stdout.
 *
 * model.txt:
 *
 *	klpt-model 1
 *	mode events|fallback|replay
 *	lost N
 *	late N		(klpt_session_late(): events delivered late so far)
 *	patch NAME enabled=0|1 transition=0|1 target=T forced=0|1 released=0|1
 *	module NAME refcnt=N verdict=V
 *	task TID TGID STATE COMM
 *
 * one line per patch, livepatch module and task (sorted), T the target
 * (undefined, unpatched, patched), V klpt_verdict_name(), STATE -1, 0 or
 * 1 (the patch_state procfs shows), COMM the rest of the line
 * (backslash and non-printable bytes as \xNN).  Idle tasks are "task 0
 * 0 STATE swapper/N".
 *
 * Exit status: 0 done, 1 an error while running (the session failed), 2
 * bad usage or a setup error (one line on stderr says which).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <klptrace.h>

#define PROG "klpt_watch"

static const char usage[] =
	"usage: " PROG " OUTDIR\n"
	"       " PROG " --replay RECORDING [OUTFILE]\n";

static const char *outdir;
static FILE *evlog;

static void __attribute__((format(printf, 1, 2))) err1(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *state_name(int s)
{
	switch (s) {
	case KLPT_UNPATCHED:
		return "unpatched";
	case KLPT_PATCHED:
		return "patched";
	default:
		return "undefined";
	}
}

/* comm (or any name) with '\\' and non-printable bytes as \xNN. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\' || c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* ------------------------------------------------------------ the model */

struct row {
	int tid;
	const struct klpt_task *t;
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return strcmp(klpt_task_comm(x->t), klpt_task_comm(y->t));
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int write_model(struct klpt_session *s, FILE *f)
{
	int np = klpt_patch_count(s), nm = klpt_module_count(s);
	int nt = klpt_task_count(s), i;
	const char **names = NULL;
	struct row *rows = NULL;
	char why[512];

	if (np < 0 || nm < 0 || nt < 0)
		return -EINVAL;
	names = calloc((size_t)(np > nm ? np : nm) + 1, sizeof(*names));
	rows = calloc((size_t)nt + 1, sizeof(*rows));
	if (!names || !rows) {
		free(names);
		free(rows);
		return -ENOMEM;
	}
	fprintf(f, "klpt-model 1\n");
	switch (klpt_session_mode(s)) {
	case KLPT_MODE_EVENTS:
		fprintf(f, "mode events\n");
		break;
	case KLPT_MODE_FALLBACK:
		fprintf(f, "mode fallback\n");
		break;
	default:
		fprintf(f, "mode replay\n");
	}
	fprintf(f, "lost %llu\n", (unsigned long long)klpt_session_lost(s));
	fprintf(f, "late %llu\n", (unsigned long long)klpt_session_late(s));

	for (i = 0; i < np; i++)
		names[i] = klpt_patch_name(klpt_patch_at(s, i));
	qsort(names, (size_t)np, sizeof(*names), name_cmp);
	for (i = 0; i < np; i++) {
		const struct klpt_patch *p = klpt_patch_find(s, names[i]);

		fprintf(f, "patch ");
		put_escaped(f, names[i]);
		fprintf(f, " enabled=%d transition=%d target=%s forced=%d "
			"released=%d\n", klpt_patch_enabled(p),
			klpt_patch_in_transition(p),
			state_name(klpt_patch_target(p)), klpt_patch_forced(p),
			klpt_patch_released(p));
	}

	for (i = 0; i < nm; i++)
		names[i] = klpt_module_name(klpt_module_at(s, i));
	qsort(names, (size_t)nm, sizeof(*names), name_cmp);
	for (i = 0; i < nm; i++) {
		const struct klpt_module *m = klpt_module_find(s, names[i]);
		enum klpt_verdict v = klpt_module_verdict(s, m, why,
							  sizeof(why));

		fprintf(f, "module ");
		put_escaped(f, names[i]);
		fprintf(f, " refcnt=%d verdict=%s\n", klpt_module_refcnt(m),
			klpt_verdict_name(v));
	}

	for (i = 0; i < nt; i++) {
		rows[i].t = klpt_task_at(s, i);
		rows[i].tid = klpt_task_pid(rows[i].t);
	}
	qsort(rows, (size_t)nt, sizeof(*rows), row_cmp);
	for (i = 0; i < nt; i++) {
		fprintf(f, "task %d %d %d ", rows[i].tid,
			klpt_task_tgid(rows[i].t), klpt_task_state(rows[i].t));
		put_escaped(f, klpt_task_comm(rows[i].t));
		fputc('\n', f);
	}
	free(names);
	free(rows);
	return ferror(f) ? -EIO : 0;
}

/* OUTDIR/name, or NULL (too long). */
static const char *out_path(const char *name)
{
	static char path[2][4096];
	static int k;

	k ^= 1;
	if (snprintf(path[k], sizeof(path[k]), "%s/%s", outdir, name) >=
	    (int)sizeof(path[k]))
		return NULL;
	return path[k];
}

/* Write text to OUTDIR/name atomically (a temporary file, renamed). */
static int put_file(const char *name, const char *text)
{
	char tmp[4200];
	const char *path = out_path(name);
	FILE *f;
	int ret = 0;

	if (!path)
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	if (fputs(text, f) < 0)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	return ret;
}

static int dump_model(struct klpt_session *s)
{
	char tmp[4200];
	const char *path = out_path("model.txt");
	FILE *f;
	int ret;

	if (!path)
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	ret = write_model(s, f);
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	return ret;
}

/* ------------------------------------------------------------- latency */

/*
 * Event-to-callback latency of the live session: the session's instance
 * uses the mono trace clock, so CLOCK_MONOTONIC now minus the event's
 * timestamp is how long it took to reach us.  0.1 ms buckets up to 1 s;
 * reported in latency.txt for information (never asserted: figures belong
 * in benchmarks).
 */
#define LAT_BUCKETS 10000
static unsigned int lat_hist[LAT_BUCKETS + 1];
static unsigned long long lat_count, lat_max_ns;

static void latency_add(const struct klpt_event *ev)
{
	struct timespec now;
	unsigned long long now_ns, d;

	if (ev->cpu < 0 || clock_gettime(CLOCK_MONOTONIC, &now))
		return;
	now_ns = (unsigned long long)now.tv_sec * 1000000000ull +
		 (unsigned long long)now.tv_nsec;
	if (now_ns < ev->ts)
		return;
	d = now_ns - ev->ts;
	lat_count++;
	if (d > lat_max_ns)
		lat_max_ns = d;
	lat_hist[d / 100000 < LAT_BUCKETS ? d / 100000 : LAT_BUCKETS]++;
}

static double latency_pct(double pct)
{
	unsigned long long want = (unsigned long long)(lat_count * pct), seen = 0;
	int i;

	for (i = 0; i <= LAT_BUCKETS; i++) {
		seen += lat_hist[i];
		if (seen > want)
			return (i + 1) / 10.0;
	}
	return LAT_BUCKETS / 10.0;
}

static int put_file(const char *name, const char *text);

/* OUTDIR/latency.txt: one line, for information. */
static void latency_report(void)
{
	char text[160];

	if (!lat_count)
		return;
	snprintf(text, sizeof(text),
		 "events %llu p50_ms %.1f p99_ms %.1f max_ms %.1f\n",
		 lat_count, latency_pct(0.50), latency_pct(0.99),
		 lat_max_ns / 1e6);
	put_file("latency.txt", text);
}

/* ----------------------------------------------------------- events.log */

static int on_event(struct klpt_session *s, const struct klpt_event *ev,
		    void *ctx)
{
	FILE *f = evlog;
	const char *comm = NULL;

	(void)ctx;
	if (klpt_session_mode(s) != KLPT_MODE_REPLAY)
		latency_add(ev);
	if (!f)
		return 0;
	fprintf(f, "%llu %s", (unsigned long long)ev->ts,
		klpt_event_type_name(ev->type));
	switch (ev->type) {
	case KLPT_EV_TRANSITION_INIT:
	case KLPT_EV_TRANSITION_START:
	case KLPT_EV_TRANSITION_REVERSE:
	case KLPT_EV_TRANSITION_PASS:
	case KLPT_EV_TRANSITION_SIGNAL:
	case KLPT_EV_TRANSITION_FORCE:
	case KLPT_EV_TRANSITION_CANCEL:
	case KLPT_EV_TRANSITION_COMPLETE:
		fprintf(f, " patch=%s target=%d pass=%u pending=%u forced=%d",
			ev->transition.patch, ev->transition.target,
			ev->transition.pass, ev->transition.pending,
			ev->transition.forced);
		break;
	case KLPT_EV_TASK_SWITCH:
		fprintf(f, " pid=%d tgid=%d from=%d to=%d via=%d",
			ev->task.pid, ev->task.tgid, ev->task.from,
			ev->task.to, ev->task.via);
		comm = ev->task.comm;
		break;
	case KLPT_EV_TASK_BLOCKED:
		fprintf(f, " pid=%d tgid=%d patch=%s target=%d reason=%d "
			"err=%d func=%s", ev->task.pid, ev->task.tgid,
			ev->task.patch, ev->task.target, ev->task.reason,
			ev->task.err, ev->task.func[0] ? ev->task.func : "-");
		comm = ev->task.comm;
		break;
	case KLPT_EV_TASK_EXIT:
	case KLPT_EV_TASK_FORK_FAILED:
		fprintf(f, " pid=%d", ev->task.pid);
		comm = ev->task.comm;
		break;
	case KLPT_EV_MODULE_REF:
	case KLPT_EV_MODULE_UNLOAD_READY:
	case KLPT_EV_MODULE_FREE:
	case KLPT_EV_MODULE_LOAD:
		fprintf(f, " module=%s get=%d refcnt=%d", ev->module.module,
			ev->module.get, ev->module.refcnt);
		break;
	case KLPT_EV_PATCH_FREE:
	case KLPT_EV_PATCH_RELEASE:
	case KLPT_EV_PATCH_FORCED:
		fprintf(f, " patch=%s forced=%d", ev->patch.patch,
			ev->patch.forced);
		break;
	case KLPT_EV_LOST:
		fprintf(f, " count=%llu",
			(unsigned long long)ev->lost.count);
		break;
	case KLPT_EV_RESYNC:
		/* which mode the session resynced in: a guest waits for
		 * the one its last action leads to (ftrace_off) */
		fprintf(f, " mode=%s",
			klpt_session_mode(s) == KLPT_MODE_FALLBACK ?
			"fallback" : "events");
		break;
	default:
		break;
	}
	/* the library's word that this one came after a newer one */
	if (ev->cpu >= 0 && klpt_session_last_late(s))
		fputs(" late=1", f);
	if (comm) {
		fputs(" comm=", f);
		put_escaped(f, comm);
	}
	fputc('\n', f);
	return 0;
}

/* --------------------------------------------------------------- replay */

static int replay(const char *path, const char *out)
{
	KLPT_OPTS_INIT(klpt_session_opts, opts);
	struct klpt_session *s;
	FILE *f = stdout;
	int ret;

	ret = klpt_session_open_replay(path, &opts, &s);
	if (ret) {
		/* the library says which file and why */
		err1("cannot replay %s: %s", path, *klpt_replay_error() ?
		     klpt_replay_error() : strerror(-ret));
		return 2;
	}
	while ((ret = klpt_session_process(s)) > 0)
		;
	if (ret < 0) {
		err1("replaying %s: %s", path, *klpt_replay_error() ?
		     klpt_replay_error() : strerror(-ret));
		klpt_session_close(s);
		return 1;
	}
	if (out && !(f = fopen(out, "we"))) {
		err1("cannot create %s: %s", out, strerror(errno));
		klpt_session_close(s);
		return 2;
	}
	ret = write_model(s, f);
	if (out && fclose(f) && !ret)
		ret = -errno;
	klpt_session_close(s);
	if (ret) {
		err1("writing the model: %s", strerror(-ret));
		return 1;
	}
	return 0;
}

/* ----------------------------------------------------------------- live */

/* Apply everything readable now.  0 or a negative errno. */
static int drain(struct klpt_session *s)
{
	int ret;

	while ((ret = klpt_session_process(s)) > 0)
		;
	if (evlog)
		fflush(evlog);
	return ret;
}

static const char *open_error(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return "permission denied (run as root)";
	case ENODEV:
		return "no tracefs";
	case EOPNOTSUPP:
		return "this kernel has no livepatch support";
	default:
		return strerror(err);
	}
}

/* KLPT_WATCH_BUFFER_KB into *kb (unset: 0, the library's default). */
static int buffer_kb_env(unsigned int *kb)
{
	const char *v = getenv("KLPT_WATCH_BUFFER_KB");
	unsigned long n;
	char *end;

	*kb = 0;
	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || !n || n > 1024 * 1024) {
		err1("KLPT_WATCH_BUFFER_KB=%s: expected 1..1048576", v);
		return -EINVAL;
	}
	*kb = (unsigned int)n;
	return 0;
}

static int watch(void)
{
	KLPT_OPTS_INIT(klpt_session_opts, opts, .on_event = on_event);
	struct epoll_event ev = { .events = EPOLLIN };
	struct signalfd_siginfo si;
	struct klpt_session *s = NULL;
	const char *path;
	unsigned int dumps = 0;
	char text[128];
	int sfd = -1, ep = -1, ret, code = 2;
	sigset_t set;

	if (buffer_kb_env(&opts.buffer_kb))
		return 2;
	if (mkdir(outdir, 0755) && errno != EEXIST) {
		err1("cannot create %s: %s", outdir, strerror(errno));
		return 2;
	}
	/* Signals arrive through a signalfd: none is lost between checks. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    (sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		err1("signalfd: %s", strerror(errno));
		return 2;
	}
	path = out_path("events.log");
	evlog = path ? fopen(path, "we") : NULL;
	if (!evlog) {
		err1("cannot create %s/events.log: %s", outdir,
		     path ? strerror(errno) : "path too long");
		goto out;
	}
	ret = klpt_session_open_live(&opts, &s);
	if (ret) {
		err1("cannot open a live session: %s", open_error(-ret));
		goto out;
	}
	path = out_path("recording");
	ret = path ? klpt_session_record(s, path) : -ENAMETOOLONG;
	if (ret) {
		err1("cannot record into %s/recording: %s", outdir,
		     strerror(-ret));
		goto out;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = klpt_session_fd(s);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev)) {
		err1("epoll: %s", strerror(errno));
		goto out;
	}
	ev.data.fd = sfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev)) {
		err1("epoll: %s", strerror(errno));
		goto out;
	}
	snprintf(text, sizeof(text), "pid %d\nmode %s\n", (int)getpid(),
		 klpt_session_mode(s) == KLPT_MODE_EVENTS ? "events" :
		 "fallback");
	ret = put_file("ready", text);
	if (ret) {
		err1("cannot write %s/ready: %s", outdir, strerror(-ret));
		goto out;
	}

	code = 1;
	for (;;) {
		struct epoll_event got;
		int n = epoll_wait(ep, &got, 1, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err1("epoll_wait: %s", strerror(errno));
			goto out;
		}
		if (got.data.fd != sfd) {
			ret = klpt_session_process(s);
			if (evlog)
				fflush(evlog);
			if (ret < 0) {
				err1("processing events: %s", strerror(-ret));
				goto out;
			}
			continue;
		}
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		ret = drain(s);
		if (ret < 0) {
			err1("processing events: %s", strerror(-ret));
			goto out;
		}
		ret = dump_model(s);
		if (ret) {
			err1("cannot write %s/model.txt: %s", outdir,
			     strerror(-ret));
			goto out;
		}
		dumps++;
		fprintf(evlog, "dump %u\n", dumps);
		fflush(evlog);
		if (si.ssi_signo != SIGUSR1)
			break;
		snprintf(text, sizeof(text), "%u\n", dumps);
		ret = put_file("model.done", text);
		if (ret) {
			err1("cannot write %s/model.done: %s", outdir,
			     strerror(-ret));
			goto out;
		}
	}
	code = 0;
out:
	/* Closing removes the instance: only then may klptrace.ko go. */
	klpt_session_close(s);
	latency_report();
	if (evlog && fclose(evlog) && !code) {
		err1("writing %s/events.log: %s", outdir, strerror(errno));
		code = 1;
	}
	evlog = NULL;
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	if (code != 2) {
		snprintf(text, sizeof(text), "exit %d\n", code);
		if (put_file("closed", text))
			err1("cannot write %s/closed", outdir);
	}
	return code;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "--replay"))
		return replay(argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-' || !argv[1][0]) {
		fputs(usage, stderr);
		return 2;
	}
	outdir = argv[1];
	return watch();
}
