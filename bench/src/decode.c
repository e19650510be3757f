// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * klptb_decode: decode throughput of one recording directory.
 *
 *   klptb_decode klpt RECORDING   libklptrace's replay path: open the
 *                                 recording, klpt_session_process() to
 *                                 the end (decode, merge, model, one
 *                                 on_event callback per event)
 *   klptb_decode tep RECORDING    the minimal libtraceevent loop a tool
 *                                 without libklptrace would write: kbuffer
 *                                 over each CPU's pages, CPUs merged by
 *                                 timestamp, every field of every event
 *                                 read into a struct with fields looked
 *                                 up once; no model
 *
 *   klptb_decode run CMD [ARG...]  runs CMD (trace-cmd report) with its
 *                                 output into a pipe; N is the number of
 *                                 lines it printed, C its CPU time
 *
 * Prints one line: "events N wall_s W cpu_s C" (C: user + system time of
 * the process and of the children it waited for).  Both decoders read the
 * pages with read(2) a page at a time from the page cache, so the
 * comparison is of the decoding, not of the disk.  CPU time is what
 * the comparison uses: other work on the machine stretches wall time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event-parse.h>
#include <kbuffer.h>
#include <klptrace.h>

#include "pagebuild.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double rusage_s(int who)
{
	struct rusage r;

	getrusage(who, &r);
	return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 +
	       r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

/*
 * Ours and our children's: klpt_session_open_replay() may check a
 * recording in a child process first (session.c's probe), part of the
 * replay's cost.
 */
static double cpu_s(void)
{
	return rusage_s(RUSAGE_SELF) + rusage_s(RUSAGE_CHILDREN);
}

/* Something the compiler must compute, so nothing is optimised away. */
static volatile uint64_t sink;

/* ------------------------------------------------------------ libklptrace */

struct count {
	uint64_t n, sum;
};

static int on_event(struct klpt_session *s, const struct klpt_event *ev,
		    void *ctx)
{
	struct count *c = ctx;

	(void)s;
	c->n++;
	c->sum += ev->type + ev->ts;
	return 0;
}

static int run_klpt(const char *dir, uint64_t *n)
{
	struct count c = { 0, 0 };
	KLPT_OPTS_INIT(klpt_session_opts, opts, .on_event = on_event,
		       .ctx = &c);
	struct klpt_session *s;
	int ret;

	if (klpt_session_open_replay(dir, &opts, &s) < 0) {
		perror("klpt_session_open_replay");
		return -1;
	}
	while ((ret = klpt_session_process(s)) > 0)
		;
	if (ret < 0)
		fprintf(stderr, "klpt_session_process: %s\n", strerror(-ret));
	sink = c.sum + (uint64_t)klpt_task_count(s);
	klpt_session_close(s);
	*n = c.n;
	return ret;
}

/* ----------------------------------------------------- minimal tep loop */

/* A decoded event: what a tool keeps of each (as struct klpt_event). */
struct dec {
	int type;
	uint64_t ts;
	int pid, tgid, target, from, to, via, reason, err, refcnt, op;
	unsigned int pass, checked, pending, forced;
	uint64_t ip;
	char comm[16];
	const char *patch, *func, *module, *caller;
};

enum { F_PID, F_TGID, F_COMM, F_PATCH, F_TARGET, F_REASON, F_ERR, F_FUNC,
       F_FROM, F_TO, F_VIA, F_PASS, F_CHECKED, F_PENDING, F_FORCED,
       F_MODULE, F_OP, F_REFCNT, F_IP, F_CALLER, F_NAME, F__N };

static const char *const fname[F__N] = {
	"pid", "tgid", "comm", "patch", "target", "reason", "err", "func",
	"from", "to", "via", "pass", "checked", "pending", "forced",
	"module", "op", "refcnt", "ip", "caller", "name",
};

/* Per event id: its fields, looked up once. */
struct evinfo {
	struct tep_format_field *f[F__N];
	int known;
};

#define MAX_ID 65536

struct cpu {
	int fd;
	struct kbuffer *kb;
	unsigned char page[PB_PAGE];
	void *data;		/* current event, NULL at the end */
	unsigned long long ts;
};

static void next_page(struct cpu *c)
{
	for (;;) {
		ssize_t r = read(c->fd, c->page, sizeof(c->page));

		if (r < (ssize_t)sizeof(c->page)) {
			c->data = NULL;
			return;
		}
		kbuffer_load_subbuffer(c->kb, c->page);
		c->data = kbuffer_read_event(c->kb, &c->ts);
		if (c->data)
			return;
	}
}

static void advance(struct cpu *c)
{
	c->data = kbuffer_next_event(c->kb, &c->ts);
	if (!c->data)
		next_page(c);
}

static long long num(struct tep_format_field *f, const void *data)
{
	unsigned long long v = 0;

	if (f)
		tep_read_number_field(f, data, &v);
	/* sign-extend: tep does not (docs/tracing-and-vm.md) */
	if (f && (f->flags & TEP_FIELD_IS_SIGNED) && f->size < 8) {
		int shift = 64 - 8 * f->size;

		return (long long)(v << shift) >> shift;
	}
	return (long long)v;
}

static const char *str(struct tep_format_field *f, const char *data)
{
	unsigned long long loc;

	if (!f || tep_read_number_field(f, data, &loc))
		return "";
	return data + (loc & 0xffff);
}

static void decode(struct evinfo *ei, const char *data, struct dec *d)
{
	struct tep_format_field **f = ei->f;

	d->pid = num(f[F_PID], data);
	d->tgid = num(f[F_TGID], data);
	if (f[F_COMM])
		memcpy(d->comm, data + f[F_COMM]->offset, 16);
	d->patch = str(f[F_PATCH], data);
	d->target = num(f[F_TARGET], data);
	d->reason = num(f[F_REASON], data);
	d->err = num(f[F_ERR], data);
	d->func = str(f[F_FUNC], data);
	d->from = num(f[F_FROM], data);
	d->to = num(f[F_TO], data);
	d->via = num(f[F_VIA], data);
	d->pass = num(f[F_PASS], data);
	d->checked = num(f[F_CHECKED], data);
	d->pending = num(f[F_PENDING], data);
	d->forced = num(f[F_FORCED], data);
	d->module = f[F_NAME] ? str(f[F_NAME], data) : str(f[F_MODULE], data);
	d->op = num(f[F_OP], data);
	d->refcnt = num(f[F_REFCNT], data);
	d->ip = num(f[F_IP], data);
	d->caller = str(f[F_CALLER], data);
}

static int run_tep(const char *dir, uint64_t *n)
{
	static struct evinfo info[MAX_ID];
	struct tep_format_field *common_type;
	struct tep_event **evs;
	struct tep_handle *tep;
	struct cpu cpus[2];
	char path[4096];
	uint64_t count = 0, sum = 0;
	int i, k;

	tep = load_formats(dir);
	if (!tep) {
		fprintf(stderr, "%s: no formats\n", dir);
		return -1;
	}
	evs = tep_list_events(tep, TEP_EVENT_SORT_ID);
	for (i = 0; evs && evs[i]; i++) {
		if (evs[i]->id < 0 || evs[i]->id >= MAX_ID)
			continue;
		for (k = 0; k < F__N; k++)
			info[evs[i]->id].f[k] =
				tep_find_field(evs[i], fname[k]);
		info[evs[i]->id].known = 1;
	}
	common_type = evs && evs[0] ?
		tep_find_common_field(evs[0], "common_type") : NULL;
	if (!common_type) {
		fprintf(stderr, "%s: no events\n", dir);
		return -1;
	}
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/per_cpu/cpu%d/trace_pipe_raw",
			 dir, i);
		cpus[i].fd = open(path, O_RDONLY | O_CLOEXEC);
		if (cpus[i].fd < 0) {
			perror(path);
			return -1;
		}
		cpus[i].kb = kbuffer_alloc(KBUFFER_LSIZE_8,
					   KBUFFER_ENDIAN_LITTLE);
		next_page(&cpus[i]);
	}
	for (;;) {
		struct cpu *c;
		struct dec d;
		unsigned long long id;

		/* the earlier of the two CPUs' next events */
		if (cpus[0].data && cpus[1].data)
			c = cpus[1].ts < cpus[0].ts ? &cpus[1] : &cpus[0];
		else if (cpus[0].data || cpus[1].data)
			c = cpus[0].data ? &cpus[0] : &cpus[1];
		else
			break;
		tep_read_number_field(common_type, c->data, &id);
		if (id < MAX_ID && info[id].known) {
			d.type = (int)id;
			d.ts = c->ts;
			decode(&info[id], c->data, &d);
			sum += d.ts + (uint64_t)d.pid + d.pending +
			       (uint64_t)d.patch[0] + (uint64_t)d.comm[0];
			count++;
		}
		advance(c);
	}
	for (i = 0; i < 2; i++) {
		close(cpus[i].fd);
		kbuffer_free(cpus[i].kb);
	}
	tep_free(tep);	/* evs is tep's own array */
	sink = sum;
	*n = count;
	return 0;
}

/* CMD's own CPU time (wait4), its output lines counted here. */
static int run_cmd(char **argv)
{
	static char buf[1 << 16];
	struct rusage ru;
	uint64_t lines = 0;
	double w0 = now();
	int pfd[2], status;
	ssize_t r;
	pid_t pid;

	if (pipe(pfd) < 0)
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((r = read(pfd[0], buf, sizeof(buf))) > 0) {
		const char *p = buf, *end = buf + r;

		while ((p = memchr(p, '\n', end - p))) {
			lines++;
			p++;
		}
	}
	close(pfd[0]);
	if (wait4(pid, &status, 0, &ru) < 0)
		return 1;
	printf("events %llu wall_s %.4f cpu_s %.4f\n",
	       (unsigned long long)lines, now() - w0,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	return !WIFEXITED(status) || WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	double w0, c0;
	uint64_t n = 0;
	int ret;

	if (argc >= 3 && !strcmp(argv[1], "run"))
		return run_cmd(argv + 2);
	if (argc != 3 || (strcmp(argv[1], "klpt") && strcmp(argv[1], "tep"))) {
		fprintf(stderr, "usage: klptb_decode klpt|tep RECORDING\n"
			"       klptb_decode run CMD [ARG...]\n");
		return 2;
	}
	w0 = now();
	c0 = cpu_s();
	ret = !strcmp(argv[1], "klpt") ? run_klpt(argv[2], &n) :
					 run_tep(argv[2], &n);
	printf("events %llu wall_s %.4f cpu_s %.4f\n", (unsigned long long)n,
	       now() - w0, cpu_s() - c0);
	return ret < 0;
}
