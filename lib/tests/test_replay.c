// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * replay.c and record.c.  The recording fixtures/vm-recording was made
 * in the Debian 6.1 VM (raw trace_pipe_raw pages); vm-capture/trace.txt
 * is the same ring buffer rendered by the kernel itself, read before
 * the pages were consumed: every record the replay yields must be the
 * next line of that text, with the same CPU, timestamp, event and
 * fields (the klp events rendered back from struct klpt_event in their
 * TP_printk format).  Then the same through trace.dat (libtracecmd),
 * through a recording written by record.c, through a session, and
 * broken recordings.  Temporary copies go to a mkdtemp() directory.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <tracefs.h>

#include "internal.h"
#include "check.h"
#include "pagebuild.h"

static char tmp[] = "/tmp/klpt-test-replay.XXXXXX";

/* ----------------------------------------------------- ground truth */

struct line {
	int cpu;
	unsigned long long usecs;
	char name[64];
	char text[512];			/* what follows "name: " */
};

static struct line *lines;
static int nlines;

/* "  comm-pid  [001] d..3.  3.696269: klp_task_blocked: pid=156 ..." */
static void load_trace_txt(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[1024];

	CHECK(f != NULL, "no %s", path);
	if (!f)
		exit(1);
	while (fgets(buf, sizeof(buf), f)) {
		unsigned long long s, us;
		struct line l = { 0 };
		char *p = strchr(buf, '['), *q;

		if (buf[0] == '#' || !p)
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		if (sscanf(p, "[%d] %*s %llu.%llu: %63[^:]", &l.cpu, &s, &us,
			   l.name) != 4)
			continue;
		l.usecs = s * 1000000 + us;
		q = strstr(p, l.name);
		q += strlen(l.name) + 2;
		snprintf(l.text, sizeof(l.text), "%s", q);
		lines = realloc(lines, (nlines + 1) * sizeof(*lines));
		lines[nlines++] = l;
	}
	fclose(f);
}

static const char *state(int s)
{
	return s == -1 ? "undefined" : s == 0 ? "unpatched" :
	       s == 1 ? "patched" : "?";
}

static const char *via(int v)
{
	static const char *const n[] = { "?", "user_return", "idle",
					 "stack_check", "fork", "force" };

	return v >= 0 && v <= 5 ? n[v] : "?";
}

static const char *reason(int r)
{
	static const char *const n[] = { "?", "running", "unreliable_stack",
					 "sleeping_in_func", "other",
					 "unknown" };

	return r >= 0 && r <= 5 ? n[r] : "?";
}

/* A klp event as its TP_printk renders it (tracepoints/klp_trace.h). */
static void render(const struct klpt_event *e, char *b, size_t n)
{
	const char *pt = e->transition.patch;
	int tg = e->transition.target;

	switch (e->type) {
	case KLPT_EV_TRANSITION_INIT:
	case KLPT_EV_TRANSITION_START:
	case KLPT_EV_TRANSITION_REVERSE:
	case KLPT_EV_TRANSITION_FORCE:
	case KLPT_EV_TRANSITION_CANCEL:
		snprintf(b, n, "patch=%s target=%s", pt, state(tg));
		break;
	case KLPT_EV_TRANSITION_PASS:
		snprintf(b, n, "patch=%s target=%s pass=%u checked=%u "
			 "pending=%u", pt, state(tg), e->transition.pass,
			 e->transition.checked, e->transition.pending);
		break;
	case KLPT_EV_TRANSITION_SIGNAL:
		snprintf(b, n, "patch=%s target=%s pass=%u pending=%u", pt,
			 state(tg), e->transition.pass, e->transition.pending);
		break;
	case KLPT_EV_TRANSITION_COMPLETE:
		snprintf(b, n, "patch=%s target=%s forced=%u", pt, state(tg),
			 e->transition.forced);
		break;
	case KLPT_EV_TASK_SWITCH:
		snprintf(b, n, "pid=%d tgid=%d comm=%s from=%s to=%s via=%s",
			 e->task.pid, e->task.tgid, e->task.comm,
			 state(e->task.from), state(e->task.to),
			 via(e->task.via));
		break;
	case KLPT_EV_TASK_BLOCKED:
		snprintf(b, n, "pid=%d tgid=%d comm=%s patch=%s target=%s "
			 "reason=%s err=%d func=%s", e->task.pid, e->task.tgid,
			 e->task.comm, e->task.patch, state(e->task.target),
			 reason(e->task.reason), e->task.err, e->task.func);
		break;
	case KLPT_EV_MODULE_REF:
		snprintf(b, n, "module=%s op=%s refcnt=%d caller=%s",
			 e->module.module, e->module.get ? "get" : "put",
			 e->module.refcnt, e->module.caller);
		break;
	case KLPT_EV_PATCH_FREE:
	case KLPT_EV_PATCH_RELEASE:
		snprintf(b, n, "patch=%s forced=%u", e->patch.patch,
			 e->patch.forced);
		break;
	case KLPT_EV_MODULE_UNLOAD_READY:
	case KLPT_EV_MODULE_FREE:
		snprintf(b, n, "module=%s", e->module.module);
		break;
	default:
		snprintf(b, n, "?");
	}
}

/* -------------------------------------------------------- replaying */

/* What a replay produced, one entry per record. */
struct got {
	unsigned long long ts;
	int cpu;
	uint64_t lost;
	char name[64];
	char sig[512];		/* the decoded event, rendered */
};

struct run {
	struct got *g;
	int n;
	int errors;		/* negative fills */
	int last_error;
	int n_at_error;		/* records delivered before the error */
	char msg[512];
	int fills;
};

/*
 * Decode rec both ways (events mode and fallback) into g->sig:
 * "klp text" for klp events, "module NAME refcnt=RAW" for module:*.
 */
static void describe(struct klpt_decoder *d, struct klpt_decoder *dfb,
		     struct tep_handle *tep, struct tep_record *rec,
		     struct got *g)
{
	struct tep_event *ev = tep_find_event_by_record(tep, rec);
	struct klpt_event e;
	int r, rfb;

	snprintf(g->name, sizeof(g->name), "%s", ev ? ev->name : "?");
	r = klpt_decode(d, rec, &e);
	if (r == 1 && e.type != KLPT_EV_MODULE_LOAD) {
		render(&e, g->sig, sizeof(g->sig));
		return;
	}
	rfb = klpt_decode(dfb, rec, &e);
	if (rfb == 1 && e.type == KLPT_EV_MODULE_REF)
		snprintf(g->sig, sizeof(g->sig), "%s refcnt=%d",
			 e.module.module, e.module.refcnt + 1);
	else if (rfb == 1)
		snprintf(g->sig, sizeof(g->sig), "%s", e.module.module);
	else
		snprintf(g->sig, sizeof(g->sig), "undecoded %d/%d", r, rfb);
}

static void replay(struct klpt_source *src, struct run *run)
{
	struct klpt_merge *m = klpt_merge_new(src->tep, src->ncpus);
	struct klpt_decoder *d = klpt_decoder_new(src->tep);
	struct klpt_decoder *dfb = klpt_decoder_new(src->tep);
	struct tep_record *rec;
	uint64_t lost;
	int ret;

	memset(run, 0, sizeof(*run));
	klpt_decoder_set_fallback(dfb, true);
	/* bounded: a source that never ends fails the test, not hangs it */
	while (run->fills++ < 100000) {
		ret = src->fill(src, m);
		if (ret < 0) {
			run->errors++;
			run->last_error = ret;
			run->n_at_error = run->n;
			snprintf(run->msg, sizeof(run->msg), "%s",
				 klpt_replay_error());
		}
		while ((rec = klpt_merge_next(m, &lost))) {
			struct got *g;

			run->g = realloc(run->g, (run->n + 1) * sizeof(*g));
			g = &run->g[run->n++];
			memset(g, 0, sizeof(*g));
			g->ts = rec->ts;
			g->cpu = rec->cpu;
			g->lost = lost;
			describe(d, dfb, src->tep, rec, g);
		}
		if (!ret)
			break;
	}
	CHECK(run->fills < 100000, "the replay does not end");
	klpt_decoder_free(d);
	klpt_decoder_free(dfb);
	klpt_merge_free(m);
}

static int replay_path(const char *path, struct run *run)
{
	struct klpt_source *src;
	int ret = klpt_replay_open(path, &src);

	memset(run, 0, sizeof(*run));
	if (ret)
		return ret;
	CHECK(src->mode == KLPT_MODE_REPLAY, "mode %d", src->mode);
	replay(src, run);
	src->close(src);
	return 0;
}

/* The replay against the kernel's own text, line by line. */
static void check_against_text(const struct run *run, const char *what)
{
	int i, klp = 0, bad = 0;

	CHECK(run->n == nlines, "%s: %d records, trace.txt has %d lines",
	      what, run->n, nlines);
	for (i = 0; i < run->n && i < nlines && bad < 5; i++) {
		const struct got *g = &run->g[i];
		const struct line *l = &lines[i];
		/* the kernel prints ns2usecs(ts): rounded, (ts + 500) / 1000 */
		int ok = g->cpu == l->cpu && (g->ts + 500) / 1000 == l->usecs &&
			 !strcmp(g->name, l->name) && !g->lost;

		if (!strncmp(l->name, "klp_", 4)) {
			ok = ok && !strcmp(g->sig, l->text);
			klp++;
		} else if (!strcmp(l->name, "module_get") ||
			   !strcmp(l->name, "module_put")) {
			/* "NAME call_site=SYM refcnt=N" */
			char name[64];
			const char *rc = strstr(l->text, " refcnt=");
			char want[128];

			sscanf(l->text, "%63s", name);
			snprintf(want, sizeof(want), "%s%s", name,
				 rc ? rc : "");
			ok = ok && !strcmp(g->sig, want);
		} else {
			/* module_load "NAME TAINTS", module_free "NAME" */
			ok = ok && !strncmp(g->sig, l->text, strlen(g->sig)) &&
			     (l->text[strlen(g->sig)] == ' ' ||
			      !l->text[strlen(g->sig)]);
		}
		if (!ok) {
			bad++;
			CHECK(0, "%s: record %d: [%03d] %llu %s: %s (lost %llu)"
			      "\n    trace.txt: [%03d] %llu %s: %s", what, i,
			      g->cpu, (g->ts + 500) / 1000, g->name, g->sig,
			      (unsigned long long)g->lost, l->cpu, l->usecs,
			      l->name, l->text);
		}
	}
	CHECK(klp > 200, "%s: only %d klp events", what, klp);
}

static bool has(const struct run *run, const char *name, const char *sub)
{
	int i;

	for (i = 0; i < run->n; i++)
		if (!strcmp(run->g[i].name, name) &&
		    (!sub || strstr(run->g[i].sig, sub)))
			return true;
	return false;
}

static void test_vm_recording(void)
{
	struct klpt_source *src;
	struct run run;
	int ret;

	ret = replay_path(fixture("vm-recording"), &run);
	CHECK_INT(ret, 0);
	CHECK_INT(run.errors, 0);
	check_against_text(&run, "vm-recording");
	/* what the scenario is about, in case the fixture is replaced */
	CHECK(has(&run, "klp_task_blocked", "reason=sleeping_in_func err=-98 "
		  "func=klpt_sleep_fn"), "no blocked sleeper");
	CHECK(has(&run, "klp_transition_complete", "target=unpatched"),
	      "no completed disable");
	CHECK(has(&run, "klp_module_unload_ready", "klpt_lp_sleep"),
	      "no unload ready");
	CHECK(has(&run, "klp_module_free", NULL), "no module free");
	CHECK(has(&run, "klp_task_switch", "from=unpatched to=patched "
		  "via=idle"), "no idle switch");

	/*
	 * The start-up snapshot came with it: snap/start, taken after the
	 * events were enabled and before the scenario's first event.
	 */
	ret = klpt_replay_open(fixture("vm-recording"), &src);
	CHECK_INT(ret, 0);
	if (!ret) {
		char *tasks = slurp_file(fixture("vm-capture/snap/start/tasks"),
					 NULL);
		int ntasks = 0;
		char *p;

		for (p = tasks; p && (p = strchr(p, '\n')); p++)
			ntasks++;
		free(tasks);
		CHECK(src->truth != NULL, "no truth.txt");
		CHECK(src->truth && src->truth->ts > 0 && run.n &&
		      src->truth->ts < run.g[0].ts, "truth ts");
		CHECK(src->truth && src->truth->ntasks == ntasks,
		      "truth: %d tasks, snap/start has %d",
		      src->truth ? src->truth->ntasks : -1, ntasks);
		CHECK_INT(src->ncpus, 2);
		CHECK(klpt_replay_error()[0] == '\0', "error string set");
		src->close(src);
	}
	free(run.g);
}

/* A trace.dat of the same buffer (trace-cmd restore): same sequence. */
static void test_tracedat(void)
{
	struct run a, b;
	int i, ret;

	ret = replay_path(fixture("vm-recording"), &a);
	CHECK_INT(ret, 0);
	ret = replay_path(fixture("vm-recording.dat"), &b);
	CHECK_INT(ret, 0);
	CHECK_INT(b.errors, 0);
	check_against_text(&b, "vm-recording.dat");
	CHECK_INT(b.n, a.n);
	for (i = 0; i < a.n && i < b.n; i++)
		if (a.g[i].ts != b.g[i].ts || a.g[i].cpu != b.g[i].cpu ||
		    strcmp(a.g[i].sig, b.g[i].sig)) {
			CHECK(0, "record %d differs: %s / %s", i, a.g[i].sig,
			      b.g[i].sig);
			break;
		}
	free(a.g);
	free(b.g);
}

/* ------------------------------------------------- broken recordings */

/* A fresh copy of the recording at tmp/name; returns its path. */
static const char *copy_rec(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	check_sh("rm -rf '%s' && cp -r '%s' '%s'", path, fixture("vm-recording"),
	   path);
	return path;
}

static void expect_open_error(const char *path, int err, const char *msg)
{
	struct klpt_source *src = NULL;
	int ret = klpt_replay_open(path, &src);

	CHECK(ret == -err, "%s: %d, want %d", path, ret, -err);
	CHECK(errno == err, "errno %d", errno);
	CHECK(src == NULL, "source despite the error");
	CHECK(strstr(klpt_replay_error(), msg), "message \"%s\" lacks \"%s\"",
	      klpt_replay_error(), msg);
	if (!ret)
		src->close(src);
}

static void test_open_errors(void)
{
	const char *p;

	expect_open_error("/nonexistent/klpt", ENOENT, "No such file");
	/* a tracefs-like directory that is not a recording */
	expect_open_error(fixture("formats"), EBADMSG,
			  "not a klptrace recording");
	/* a file that is neither */
	expect_open_error(fixture("vm-capture/trace.txt"), EBADMSG,
			  "neither a klptrace recording directory nor a "
			  "trace.dat");
	expect_open_error("/dev/null", EBADMSG, "neither");
	p = copy_rec("version");
	check_sh("sed -i 's/^klptrace-recording 1$/klptrace-recording 99/' "
	   "'%s/klptrace-recording'", p);
	expect_open_error(p, EBADMSG, "format version 99");
	p = copy_rec("foreign-header");
	check_sh("echo 'something else' > '%s/klptrace-recording'", p);
	expect_open_error(p, EBADMSG, "not a klptrace recording header");
	p = copy_rec("ncpus");
	check_sh("sed -i 's/^ncpus .*/ncpus 0/' '%s/klptrace-recording'", p);
	expect_open_error(p, EBADMSG, "bad ncpus");
	p = copy_rec("no-cpu1");
	check_sh("rm -r '%s/per_cpu/cpu1'", p);
	expect_open_error(p, EBADMSG, "cpu1/trace_pipe_raw");
	p = copy_rec("no-header-page");
	check_sh("rm '%s/events/header_page'", p);
	expect_open_error(p, EBADMSG, "header_page");
	p = copy_rec("bad-header-page");
	check_sh("echo garbage > '%s/events/header_page'", p);
	expect_open_error(p, EBADMSG, "not a ring-buffer header_page");
	p = copy_rec("bad-truth");
	check_sh("head -c 100 '%s/truth.txt' > '%s/t' && mv '%s/t' '%s/truth.txt'",
	   p, p, p, p);
	expect_open_error(p, EBADMSG, "truth.txt");
	p = copy_rec("no-formats");
	check_sh("rm -r '%s/events/klp' '%s/events/module' '%s/events/ftrace'", p,
	   p, p);
	expect_open_error(p, EBADMSG, "no event formats");
	/* bad arguments */
	CHECK_INT(klpt_replay_open(NULL, NULL), -EINVAL);
}

/* A recording without truth.txt is fine (no snapshot). */
static void test_no_truth(void)
{
	struct klpt_source *src;
	const char *p = copy_rec("no-truth");

	check_sh("rm '%s/truth.txt'", p);
	CHECK_INT(klpt_replay_open(p, &src), 0);
	CHECK(src && !src->truth, "truth without truth.txt");
	if (src)
		src->close(src);
}

/* A CPU of the fixture with at least two pages (any capture has one). */
static int cpu_with_two_pages(void)
{
	char path[4096];
	struct stat st;
	int c;

	for (c = 0; c < 64; c++) {
		snprintf(path, sizeof(path), "%s/per_cpu/cpu%d/trace_pipe_raw",
			 fixture("vm-recording"), c);
		if (stat(path, &st))
			break;
		if (st.st_size >= 2 * PB_PAGE)
			return c;
	}
	CHECK(0, "no CPU with two pages in the recording");
	return -1;
}

/* Records of cpu c in a run. */
static int on_cpu(const struct run *run, int c)
{
	int i, n = 0;

	for (i = 0; i < run->n; i++)
		n += run->g[i].cpu == c;
	return n;
}

/*
 * A truncated last page: the good pages are all delivered, then one
 * -EBADMSG naming the file, then the end.
 */
static void test_truncated(void)
{
	const char *p = copy_rec("truncated");
	int c = cpu_with_two_pages();
	struct run full, run;
	char want[128];

	if (c < 0)
		return;
	replay_path(fixture("vm-recording"), &full);
	check_sh("truncate -s %d '%s/per_cpu/cpu%d/trace_pipe_raw'",
	   PB_PAGE + 1000, p, c);
	CHECK_INT(replay_path(p, &run), 0);
	CHECK_INT(run.errors, 1);
	CHECK_INT(run.last_error, -EBADMSG);
	snprintf(want, sizeof(want),
		 "cpu%d/trace_pipe_raw: truncated last page 1", c);
	CHECK(strstr(run.msg, want), "message: %s", run.msg);
	/* the other CPUs complete, cpu c its first page only */
	CHECK_INT(run.n - on_cpu(&run, c), full.n - on_cpu(&full, c));
	CHECK(on_cpu(&run, c) > 0 && on_cpu(&run, c) < on_cpu(&full, c),
	      "cpu%d: %d of %d", c, on_cpu(&run, c), on_cpu(&full, c));
	/* the error came after every good page */
	CHECK_INT(run.n_at_error, run.n);
	free(run.g);
	free(full.g);
}

/* A garbage page in the middle: skipped, reported at the end. */
static void test_garbage_page(void)
{
	const char *p = copy_rec("garbage");
	int c = cpu_with_two_pages();
	struct run full, run;
	char want[128];

	if (c < 0)
		return;
	replay_path(fixture("vm-recording"), &full);
	/* cpu c's first page: a commit beyond the page */
	check_sh("printf '\\377\\377\\377\\377\\377\\377\\377\\377' | "
	   "dd of='%s/per_cpu/cpu%d/trace_pipe_raw' bs=1 seek=8 "
	   "conv=notrunc status=none", p, c);
	CHECK_INT(replay_path(p, &run), 0);
	CHECK_INT(run.errors, 1);
	snprintf(want, sizeof(want),
		 "cpu%d/trace_pipe_raw: page 0 is not a ring-buffer page", c);
	CHECK(strstr(run.msg, want), "message: %s", run.msg);
	CHECK(on_cpu(&run, c) > 0 && on_cpu(&run, c) < on_cpu(&full, c),
	      "cpu%d: %d of %d", c, on_cpu(&run, c), on_cpu(&full, c));
	CHECK_INT(run.n - on_cpu(&run, c), full.n - on_cpu(&full, c));
	CHECK_INT(run.n_at_error, run.n);
	free(run.g);
	free(full.g);
}

/* ---------------------------------------------------------- record.c */

/* Write the fixture's pages again through the recorder, replay that. */
static void test_record_roundtrip(void)
{
	char dir[1024], path[4096], *hdr;
	struct klpt_recorder *r = NULL;
	struct klpt_truth *truth = NULL;
	struct klpt_source *src;
	unsigned char page[PB_PAGE];
	struct run a, b;
	FILE *f;
	int c, i, ret;

	snprintf(path, sizeof(path), "%s/truth.txt", fixture("vm-recording"));
	f = fopen(path, "r");
	CHECK(f && klpt_truth_load(f, &truth) == 0, "load truth");
	if (f)
		fclose(f);

	snprintf(dir, sizeof(dir), "%s/recorded", tmp);
	/* formats/ is a tracefs-shaped directory: the recorder's source */
	ret = klpt_recorder_open(dir, fixture("formats"), truth, 2, &r);
	CHECK_INT(ret, 0);
	if (ret)
		return;
	CHECK_INT(klpt_recorder_set_clock(r, "global"), 0);
	CHECK_INT(klpt_recorder_set_clock(r, "two words"), -EINVAL);
	CHECK_INT(klpt_recorder_set_kernel(r, "6.1.0-56-amd64"), 0);
	CHECK_INT(klpt_recorder_set_kernel(r, "two words"), -EINVAL);
	CHECK_INT(klpt_recorder_set_kernel(r, "6.1\x1b[2J"), -EINVAL);
	for (c = 0; c < 2; c++) {
		int fd;
		ssize_t n;

		snprintf(path, sizeof(path), "%s/per_cpu/cpu%d/trace_pipe_raw",
			 fixture("vm-recording"), c);
		fd = open(path, O_RDONLY);
		for (i = 0; (n = read(fd, page, sizeof(page))) > 0; i++) {
			uint64_t commit;
			size_t len = n;

			/* a short read of the first page: header + data */
			memcpy(&commit, page + 8, 8);
			if (i == 0)
				len = PB_HDR + (commit & ((1u << 27) - 1));
			CHECK_INT(klpt_recorder_page(r, c, page, len), 0);
		}
		close(fd);
	}
	CHECK_INT(klpt_recorder_page(r, 2, page, 10), -EINVAL);
	CHECK_INT(klpt_recorder_page(r, 0, page, PB_PAGE + 1), -EINVAL);
	klpt_recorder_close(r);

	snprintf(path, sizeof(path), "%s/klptrace-recording", dir);
	hdr = slurp_file(path, NULL);
	CHECK(hdr && strstr(hdr, "klptrace-recording 1\n") == hdr &&
	      strstr(hdr, "\npage_size 4096\n") && strstr(hdr, "\nncpus 2\n") &&
	      strstr(hdr, "\ntrace_clock global\n") &&
	      strstr(hdr, "\nkernel_release 6.1.0-56-amd64\n"),
	      "header:\n%s", hdr);
	free(hdr);
	snprintf(path, sizeof(path), "%s/events/klp/klp_task_switch/format",
		 dir);
	CHECK(access(path, R_OK) == 0, "no %s", path);
	snprintf(path, sizeof(path), "%s/events/ftrace/print/format", dir);
	CHECK(access(path, R_OK) == 0, "no %s", path);

	/* the same records as the original, and the snapshot */
	replay_path(fixture("vm-recording"), &a);
	CHECK_INT(replay_path(dir, &b), 0);
	CHECK_INT(b.errors, 0);
	CHECK_INT(b.n, a.n);
	for (i = 0; i < a.n && i < b.n; i++)
		if (a.g[i].ts != b.g[i].ts || strcmp(a.g[i].sig, b.g[i].sig)) {
			CHECK(0, "record %d differs", i);
			break;
		}
	free(a.g);
	free(b.g);
	CHECK_INT(klpt_replay_open(dir, &src), 0);
	if (src) {
		CHECK(src->truth && truth &&
		      src->truth->ntasks == truth->ntasks &&
		      src->truth->nmodules == truth->nmodules &&
		      src->truth->ts == truth->ts, "truth differs");
		src->close(src);
	}

	/* not over a non-empty directory; nothing left by a failure */
	CHECK_INT(klpt_recorder_open(dir, fixture("formats"), truth, 2, &r),
		  -EEXIST);
	snprintf(dir, sizeof(dir), "%s/recorded-2", tmp);
	CHECK_INT(klpt_recorder_open(dir, "/nonexistent", truth, 2, &r),
		  -ENOENT);
	CHECK(access(dir, F_OK) != 0, "%s left behind", dir);
	CHECK_INT(klpt_recorder_open(dir, fixture("formats"), truth, 0, &r),
		  -EINVAL);
	klpt_truth_free(truth);
	klpt_recorder_close(NULL);
}

/*
 * The layout is tracefs's: libtracefs parses a recording as it would a
 * tracing directory (given one, it touches no tracefs).
 */
static void libtracefs_reads(const char *dir)
{
	struct tep_handle *t = tracefs_local_events(dir);

	CHECK(t != NULL, "tracefs_local_events(%s) failed", dir);
	CHECK(t && tep_find_event_by_name(t, "klp", "klp_task_blocked") &&
	      tep_find_event_by_name(t, "module", "module_put") &&
	      tep_get_header_page_size(t) == 8, "%s: events missing", dir);
	tep_free(t);
}

static void test_libtracefs(void)
{
	char dir[1024];

	libtracefs_reads(fixture("vm-recording"));
	snprintf(dir, sizeof(dir), "%s/recorded", tmp);
	libtracefs_reads(dir);
}

/* ---------------------------------------------------------- sessions */

/* The public entry: a replay session runs to its end without error. */
static void test_session(void)
{
	const char *paths[] = { fixture("vm-recording"),
				fixture("vm-recording.dat") };
	int i, ret, rounds;

	for (i = 0; i < 2; i++) {
		struct klpt_session *s = NULL;

		ret = klpt_session_open_replay(paths[i], NULL, &s);
		CHECK(ret == 0, "%s: %d", paths[i], ret);
		if (ret)
			continue;
		CHECK(klpt_session_mode(s) == KLPT_MODE_REPLAY, "mode");
		for (rounds = 0; rounds < 10000; rounds++) {
			ret = klpt_session_process(s);
			if (ret <= 0)
				break;
		}
		CHECK(ret == 0, "%s: process %d", paths[i], ret);
		CHECK(klpt_session_events(s) > 0, "%s: no events", paths[i]);
		CHECK_INT(klpt_session_lost(s), 0);
		klpt_session_close(s);
	}
}

/*
 * Unknown is unknown (issue 10 item 7): a klptrace recording keeps the
 * snapshot that says which tasks are kernel threads (PF_KTHREAD); a
 * trace.dat has none, so its tasks are neither kthreads nor user tasks
 * but unknown, and without sched_process_exit its tasks are forgotten
 * at each complete instead of piling up.
 */
static int blocked_kthread_unknown(struct klpt_session *s,
				   const struct klpt_event *ev, void *ctx)
{
	int *bad = ctx;

	if (ev->type == KLPT_EV_TASK_BLOCKED && ev->task.pid > 0 &&
	    klpt_task_kthread(klpt_task_find(s, ev->task.pid)) != -1)
		(*bad)++;
	return 0;
}

static void run_to_end(struct klpt_session *s)
{
	int rounds;

	for (rounds = 0; rounds < 10000; rounds++)
		if (klpt_session_process(s) <= 0)
			break;
}

static void test_unknown(void)
{
	struct klpt_session *s = NULL;
	int ret, bad = 0, i;
	KLPT_OPTS_INIT(klpt_session_opts, o, .on_event = blocked_kthread_unknown,
		       .ctx = &bad);

	ret = klpt_session_open_replay(fixture("vm-recording"), NULL, &s);
	CHECK_INT(ret, 0);
	if (!ret) {
		CHECK(klpt_session_sees_exits(s), "a recording without exits");
		/* kthreadd (2) and init (1), from the recording's snapshot */
		CHECK_INT(klpt_task_kthread(klpt_task_find(s, 2)), 1);
		CHECK_INT(klpt_task_kthread(klpt_task_find(s, 1)), 0);
		CHECK(klpt_task_is_kthread(klpt_task_find(s, 2)), "kthreadd");
		run_to_end(s);
		klpt_session_close(s);
	}

	ret = klpt_session_open_replay(fixture("vm-recording.dat"), &o, &s);
	CHECK_INT(ret, 0);
	if (ret)
		return;
	CHECK(!klpt_session_sees_exits(s), "a trace.dat -e klp sees exits");
	CHECK_INT(klpt_task_count(s), 0);	/* no snapshot */
	run_to_end(s);
	CHECK(klpt_session_events(s) > 0, "no events");
	CHECK_INT(bad, 0);		/* blocked tasks: kthread unknown */
	/*
	 * Both transitions completed: the idle tasks are left, and what
	 * forked right after the complete (its fork event can follow it),
	 * not the ~60 tasks the transitions named.
	 */
	for (i = 0; i < klpt_task_count(s); i++) {
		const struct klpt_task *t = klpt_task_at(s, i);

		CHECK_INT(klpt_task_state(t), KLPT_UNDEFINED);
		CHECK_INT(klpt_task_kthread(t), klpt_task_pid(t) == 0 ? 1 : -1);
	}
	CHECK(klpt_task_count(s) <= 4, "%d tasks", klpt_task_count(s));
	klpt_session_close(s);
}

/*
 * A recording ends with a snapshot (truth-end.txt): a task born during
 * it, which no start-up snapshot lists, is known to be a kernel thread
 * if it was alive at the end with the same comm.
 */
struct sleeper_seen {
	int kthread;		/* at its first blocked event, 2: none */
};

static int first_sleeper(struct klpt_session *s, const struct klpt_event *ev,
			 void *ctx)
{
	struct sleeper_seen *seen = ctx;

	if (ev->type == KLPT_EV_TASK_BLOCKED && seen->kthread == 2 &&
	    !strcmp(ev->task.comm, "klpt_sleeper"))
		seen->kthread = klpt_task_kthread(klpt_task_find(s,
								 ev->task.pid));
	return 0;
}

static int put_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) || ret ? -1 : 0;
}

static int sleeper_kthread(const char *rec, const char *end_truth)
{
	struct sleeper_seen seen = { .kthread = 2 };
	KLPT_OPTS_INIT(klpt_session_opts, o, .on_event = first_sleeper,
		       .ctx = &seen);
	struct klpt_session *s = NULL;
	char path[4096];

	check_sh("rm -rf '%s' && cp -r '%s' '%s'", rec, fixture("vm-recording"),
	   rec);
	if (end_truth) {
		snprintf(path, sizeof(path), "%s/truth-end.txt", rec);
		CHECK(put_text(path, end_truth) == 0, "write %s", path);
	}
	if (klpt_session_open_replay(rec, &o, &s) < 0) {
		CHECK(0, "open %s", rec);
		return 3;
	}
	run_to_end(s);
	klpt_session_close(s);
	return seen.kthread;
}

static void test_end_hints(void)
{
	char rec[1024], root[1024], path[4096];
	struct klpt_recorder *r = NULL;

	snprintf(rec, sizeof(rec), "%s/hints", tmp);
	/* no end snapshot (older recordings): unknown */
	CHECK_INT(sleeper_kthread(rec, NULL), -1);
	CHECK_INT(sleeper_kthread(rec, "klptrace-truth 1\nts 1\n"
				  "task 156 156 0 1 klpt_sleeper\nend\n"), 1);
	/* the tid reused by another task: not taken for it */
	CHECK_INT(sleeper_kthread(rec, "klptrace-truth 1\nts 1\n"
				  "task 156 156 0 1 other\nend\n"), -1);
	/* a truncated one costs only the hints */
	CHECK_INT(sleeper_kthread(rec, "klptrace-truth 1\nts 1\n"
				  "task 156 156 0 1 klpt_sleeper\n"), -1);

	/* the recorder writes it at close, from the root it was given */
	snprintf(root, sizeof(root), "%s/root", tmp);
	check_sh("mkdir -p '%s/sys/kernel/livepatch' '%s/sys/module' '%s/proc'",
	   root, root, root);
	snprintf(rec, sizeof(rec), "%s/recorded-end", tmp);
	CHECK_INT(klpt_recorder_open(rec, fixture("formats"), NULL, 2, &r), 0);
	if (!r)
		return;
	CHECK_INT(klpt_recorder_set_root(r, root), 0);
	klpt_recorder_close(r);
	snprintf(path, sizeof(path), "%s/truth-end.txt", rec);
	CHECK(access(path, R_OK) == 0, "no %s", path);
}

/* ------------------------------------------------------------ seeking */

struct seen {
	int n, cap;
	struct { int type; uint64_t ts; } *ev;
	int stop_at;		/* on_event stops after this many (0: never) */
	unsigned int pass_at_first_pass;	/* the model then */
};

static int collect(struct klpt_session *s, const struct klpt_event *ev,
		   void *ctx)
{
	struct seen *w = ctx;

	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 256;
		w->ev = realloc(w->ev, (size_t)w->cap * sizeof(*w->ev));
		if (!w->ev)
			abort();
	}
	w->ev[w->n].type = ev->type;
	w->ev[w->n++].ts = ev->ts;
	if (ev->type == KLPT_EV_TRANSITION_PASS && !w->pass_at_first_pass)
		w->pass_at_first_pass = 1 + klpt_patch_pass(
			klpt_patch_find(s, ev->transition.patch));
	return w->stop_at && w->n >= w->stop_at;
}

/*
 * klpt_session_rewind(): the replay starts again as opened; the same
 * events come in the same order, the counts start from 0, the
 * descriptor stays; a step-wise run (on_event stopping after each) is
 * the same sequence, and the model at an event is the same as the
 * first time.  The kernel: an old recording has none; one with
 * kernel_release says it (vm-capture/info is the VM's own word).
 */
static void test_rewind(void)
{
	struct seen a = { 0 }, b = { 0 };
	KLPT_OPTS_INIT(klpt_session_opts, o, .on_event = collect, .ctx = &a);
	struct klpt_session *s = NULL;
	char rec[1024], path[4096], want[128] = "", *info, *k;
	FILE *f;
	int fd, i, rounds;

	CHECK_INT(klpt_session_rewind(NULL), -EINVAL);
	if (klpt_session_open_replay(fixture("vm-recording"), &o, &s) < 0) {
		CHECK(0, "open");
		return;
	}
	CHECK_STR(klpt_session_kernel(s), "");
	fd = klpt_session_fd(s);
	run_to_end(s);
	CHECK(a.n > 10, "%d events", a.n);
	CHECK_INT(klpt_session_events(s), a.n);

	/* the same session, again, one event per process() */
	CHECK_INT(klpt_session_rewind(s), 0);
	CHECK_INT(klpt_session_events(s), 0);
	CHECK_INT(klpt_session_fd(s), fd);
	klpt_session_close(s);
	s = NULL;
	o.ctx = &b;
	b.stop_at = 1;
	if (klpt_session_open_replay(fixture("vm-recording"), &o, &s) < 0) {
		CHECK(0, "open again");
		return;
	}
	run_to_end(s);		/* to the end with stops: whole */
	CHECK_INT(klpt_session_rewind(s), 0);
	b.n = 0;
	b.pass_at_first_pass = 0;
	for (rounds = 0; rounds < 100000; rounds++) {
		b.stop_at = b.n + 1;
		if (klpt_session_process(s) <= 0)
			break;
	}
	CHECK_INT(b.n, a.n);
	for (i = 0; i < a.n && i < b.n; i++)
		if (a.ev[i].type != b.ev[i].type || a.ev[i].ts != b.ev[i].ts) {
			CHECK(0, "event %d differs after the rewind", i);
			break;
		}
	CHECK(a.pass_at_first_pass && a.pass_at_first_pass ==
	      b.pass_at_first_pass, "the model at the first pass: %u, %u",
	      a.pass_at_first_pass, b.pass_at_first_pass);
	klpt_session_close(s);
	free(a.ev);
	free(b.ev);

	/* a recording that says its kernel (the VM's uname, info) */
	info = slurp_file(fixture("vm-capture/info"), NULL);
	k = info ? strstr(info, "kernel ") : NULL;
	if (k)
		sscanf(k, "kernel %127s", want);
	CHECK(want[0], "no kernel in vm-capture/info");
	free(info);
	snprintf(rec, sizeof(rec), "%s/with-kernel", tmp);
	check_sh("rm -rf '%s' && cp -r '%s' '%s'", rec, fixture("vm-recording"),
		 rec);
	snprintf(path, sizeof(path), "%s/klptrace-recording", rec);
	f = fopen(path, "a");
	CHECK(f && fprintf(f, "kernel_release %s\n", want) > 0, "append");
	if (f)
		fclose(f);
	s = NULL;
	if (klpt_session_open_replay(rec, NULL, &s) < 0) {
		CHECK(0, "open %s", rec);
		return;
	}
	CHECK_STR(klpt_session_kernel(s), want);
	CHECK_INT(klpt_session_rewind(s), 0);
	CHECK_STR(klpt_session_kernel(s), want);
	klpt_session_close(s);

	/* a release with a terminal's escapes in it: not ours, refused */
	check_sh("cp -r '%s' '%s.esc' && printf 'kernel_release 6.1\\033]0;x\\007\\n' "
		 ">>'%s.esc/klptrace-recording'", fixture("vm-recording"), rec,
		 rec);
	snprintf(path, sizeof(path), "%s.esc", rec);
	s = NULL;
	CHECK_INT(klpt_session_open_replay(path, NULL, &s), -EBADMSG);
	CHECK(!s, "a session for a bad kernel_release");
}

/*
 * A rewind reads what the open read and its probe checked, never the
 * path again (review rev1 #6): the recording swapped after the open (a
 * directory's files removed and replaced by garbage, a trace.dat
 * renamed over) gives the same events as before; a directory's reading
 * says how far it is (a seek's progress), a trace.dat cannot.
 */
static void test_rewind_swapped(void)
{
	static const char *const kinds[] = { "vm-recording", "vm-recording.dat" };
	char rec[1024];
	int k;

	for (k = 0; k < 2; k++) {
		struct seen a = { 0 };
		KLPT_OPTS_INIT(klpt_session_opts, o, .on_event = collect,
			       .ctx = &a);
		struct klpt_session *s = NULL;
		uint64_t done = 1, total = 0;
		int first;

		snprintf(rec, sizeof(rec), "%s/swap-%d", tmp, k);
		check_sh("rm -rf '%s' && cp -r '%s' '%s'", rec,
			 fixture(kinds[k]), rec);
		if (klpt_session_open_replay(rec, &o, &s) < 0) {
			CHECK(0, "open %s", rec);
			continue;
		}
		if (k == 0) {
			CHECK_INT(klpt_session_replay_progress(s, &done,
							       &total), 0);
			/* the open read a page per CPU (the sync's run) */
			CHECK(done < total, "at the start: %llu of "
			      "%llu", (unsigned long long)done,
			      (unsigned long long)total);
		} else {
			CHECK_INT(klpt_session_replay_progress(s, &done,
							       &total),
				  -EOPNOTSUPP);
		}
		run_to_end(s);
		if (k == 0) {
			klpt_session_replay_progress(s, &done, &total);
			CHECK(done == total, "at the end: %llu of %llu",
			      (unsigned long long)done,
			      (unsigned long long)total);
		}
		/* swapped: what is at the path now would crash a parser */
		if (k == 0)
			check_sh("rm -rf '%s' && mkdir -p '%s/events' && "
				 "printf 'klptrace-recording 1\\ngarbage\\n' "
				 ">'%s/klptrace-recording'", rec, rec, rec);
		else
			check_sh("head -c 4096 /dev/urandom >'%s.new' && "
				 "mv '%s.new' '%s'", rec, rec, rec);
		first = a.n;
		CHECK_INT(klpt_session_rewind(s), 0);
		a.n = 0;
		run_to_end(s);
		CHECK(a.n > 10 && a.n == first, "%s: %d events after the swap, "
		      "%d before", kinds[k], a.n, first);
		klpt_session_close(s);
		free(a.ev);
	}
}

int main(void)
{
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	load_trace_txt(fixture("vm-capture/trace.txt"));
	RUN(test_vm_recording);
	RUN(test_tracedat);
	RUN(test_open_errors);
	RUN(test_no_truth);
	RUN(test_truncated);
	RUN(test_garbage_page);
	RUN(test_record_roundtrip);
	RUN(test_libtracefs);
	RUN(test_session);
	RUN(test_unknown);
	RUN(test_end_hints);
	RUN(test_rewind);
	RUN(test_rewind_swapped);
	free(lines);
	check_sh("rm -rf '%s'", tmp);
	return check_summary();
}
