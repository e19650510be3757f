// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * The fuzz targets' shared part (common.h).  The checks here are the
 * documented contracts of klptrace.h that a crash-only fuzzer would not
 * notice when broken: an event type that has no name, a "why" that is
 * not NUL-terminated within its size, a find() that does not find what
 * at() listed, a callback count that differs from klpt_session_events(),
 * a replay that reports its error more than once.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <trace-cmd.h>

#include "common.h"

#ifndef KLPT_FIXTURES
#define KLPT_FIXTURES "lib/tests/fixtures"
#endif

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: contract broken: %s\n", file, line, what);
	abort();
}

const char *fuzz_fixture(const char *name)
{
	static char path[4096];
	const char *dir = getenv("KLPT_TEST_FIXTURES");

	if (!dir || !*dir)
		dir = KLPT_FIXTURES;
	snprintf(path, sizeof(path), "%s%s%s", dir, *name ? "/" : "", name);
	return path;
}

static char scratch[4096];

static void scratch_remove(void)
{
	char cmd[4200];

	/* our own mkdtemp() name: nothing to quote */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd)) {
		/* leave it: a TMPDIR that run.sh removes anyway */
	}
}

const char *fuzz_scratch(void)
{
	const char *tmp = getenv("TMPDIR");

	if (scratch[0])
		return scratch;
	snprintf(scratch, sizeof(scratch), "%s/klpt-fuzz.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(scratch)) {
		perror(scratch);
		exit(2);
	}
	atexit(scratch_remove);
	return scratch;
}

void fuzz_write(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t n = 0;

	if (fd < 0) {
		perror(path);
		exit(2);
	}
	while (n < len) {
		ssize_t w = write(fd, (const char *)buf + n, len - n);

		if (w <= 0) {
			perror(path);
			exit(2);
		}
		n += w;
	}
	close(fd);
}

bool fuzz_verbose(void)
{
	static int v = -1;

	if (v < 0)
		v = getenv("KLPT_FUZZ_VERBOSE") != NULL;
	return v;
}

void fuzz_quiet(void)
{
	tep_set_loglevel(TEP_LOG_NONE);
	tracecmd_set_loglevel(TEP_LOG_NONE);
}

/* Read every byte of s: ASan notices a string that is not one. */
static size_t touch(const char *s)
{
	FUZZ_ASSERT(s != NULL);
	return strlen(s);
}

static void walk_verdict(const struct klpt_model *m,
			 const struct klpt_module *mod)
{
	/* 300: longer than a why gets, to see it end by itself */
	static const size_t sizes[] = { 300, 40, 1 };
	char why[300];
	enum klpt_verdict v, v2;
	size_t i;

	v = klpt_model_verdict(m, mod, NULL, 0);
	FUZZ_ASSERT(klpt_verdict_name(v) != NULL);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(why, 'x', sizeof(why));
		v2 = klpt_model_verdict(m, mod, why, sizes[i]);
		FUZZ_ASSERT(v2 == v);
		FUZZ_ASSERT(strnlen(why, sizes[i]) < sizes[i]);
	}
}

void fuzz_walk_model(const struct klpt_model *m)
{
	int i, n;

	n = klpt_model_patch_count(m);
	FUZZ_ASSERT(n >= 0);
	for (i = 0; i < n; i++) {
		const struct klpt_patch *p = klpt_model_patch_at(m, i);

		FUZZ_ASSERT(p != NULL);
		touch(klpt_patch_name(p));
		FUZZ_ASSERT(klpt_model_patch_find(m, klpt_patch_name(p)) == p);
		(void)klpt_patch_enabled(p);
		(void)klpt_patch_in_transition(p);
		(void)klpt_patch_target(p);
		(void)klpt_patch_pass(p);
		(void)klpt_patch_started_ns(p);
		(void)klpt_patch_signals(p);
		(void)klpt_patch_forced(p);
		(void)klpt_patch_freed(p);
		(void)klpt_patch_released(p);
		(void)klpt_patch_pending(p);
	}
	FUZZ_ASSERT(klpt_model_patch_at(m, n) == NULL);

	n = klpt_model_task_count(m);
	FUZZ_ASSERT(n >= 0);
	for (i = 0; i < n; i++) {
		const struct klpt_task *t = klpt_model_task_at(m, i);

		FUZZ_ASSERT(t != NULL);
		if (klpt_task_pid(t) > 0)
			FUZZ_ASSERT(klpt_model_task_find(m, klpt_task_pid(t))
				    == t);
		(void)klpt_task_tgid(t);
		touch(klpt_task_comm(t));
		FUZZ_ASSERT(touch(klpt_task_comm(t)) < KLPT_COMM_LEN);
		(void)klpt_task_is_kthread(t);
		(void)klpt_task_state(t);
		(void)klpt_task_reason(t);
		touch(klpt_task_func(t));
		(void)klpt_task_first_blocked_ns(t);
		(void)klpt_task_last_blocked_ns(t);
		(void)klpt_task_checks(t);
	}
	FUZZ_ASSERT(klpt_model_task_at(m, n) == NULL);

	n = klpt_model_module_count(m);
	FUZZ_ASSERT(n >= 0);
	for (i = 0; i < n; i++) {
		const struct klpt_module *mod = klpt_model_module_at(m, i);

		FUZZ_ASSERT(mod != NULL);
		touch(klpt_module_name(mod));
		FUZZ_ASSERT(klpt_model_module_find(m, klpt_module_name(mod))
			    == mod);
		(void)klpt_module_refcnt(mod);
		walk_verdict(m, mod);
	}
	FUZZ_ASSERT(klpt_model_module_at(m, n) == NULL);
	(void)klpt_model_stale(m);
}

/* The session's public view must be the model's. */
static void walk_session(const struct klpt_session *s)
{
	const struct klpt_model *m = klpt_session_model(s);
	char why[128];
	int i, n;

	fuzz_walk_model(m);
	FUZZ_ASSERT(klpt_patch_count(s) == klpt_model_patch_count(m));
	FUZZ_ASSERT(klpt_task_count(s) == klpt_model_task_count(m));
	n = klpt_module_count(s);
	FUZZ_ASSERT(n == klpt_model_module_count(m));
	for (i = 0; i < klpt_patch_count(s); i++) {
		const struct klpt_patch *p = klpt_patch_at(s, i);
		const struct klpt_module *mod = klpt_patch_module(s, p);

		FUZZ_ASSERT(klpt_patch_find(s, klpt_patch_name(p)) == p);
		if (mod)
			touch(klpt_module_name(mod));
	}
	for (i = 0; i < n; i++) {
		const struct klpt_module *mod = klpt_module_at(s, i);

		FUZZ_ASSERT(klpt_module_find(s, klpt_module_name(mod)) == mod);
		(void)klpt_module_verdict(s, mod, why, sizeof(why));
		FUZZ_ASSERT(strnlen(why, sizeof(why)) < sizeof(why));
	}
	(void)klpt_task_find(s, 1);
}

void fuzz_check_event(const struct klpt_event *ev)
{
	FUZZ_ASSERT(klpt_event_type_name(ev->type) != NULL);
	switch (ev->type) {
	case KLPT_EV_TRANSITION_INIT ... KLPT_EV_TRANSITION_COMPLETE:
		touch(ev->transition.patch);
		break;
	case KLPT_EV_TASK_SWITCH:
	case KLPT_EV_TASK_EXIT:
		FUZZ_ASSERT(strnlen(ev->task.comm, KLPT_COMM_LEN) <
			    KLPT_COMM_LEN);
		break;
	case KLPT_EV_TASK_BLOCKED:
		FUZZ_ASSERT(strnlen(ev->task.comm, KLPT_COMM_LEN) <
			    KLPT_COMM_LEN);
		touch(ev->task.patch);
		touch(ev->task.func);
		break;
	case KLPT_EV_MODULE_REF:
		touch(ev->module.module);
		touch(ev->module.caller);
		break;
	case KLPT_EV_MODULE_UNLOAD_READY:
	case KLPT_EV_MODULE_FREE:
	case KLPT_EV_MODULE_LOAD:
		touch(ev->module.module);
		break;
	case KLPT_EV_PATCH_FREE:
	case KLPT_EV_PATCH_RELEASE:
		touch(ev->patch.patch);
		break;
	default:
		break;
	}
}

struct replay_ctx {
	uint64_t calls;
};

static int on_event(struct klpt_session *s, const struct klpt_event *ev,
		    void *vctx)
{
	struct replay_ctx *ctx = vctx;

	(void)s;
	ctx->calls++;
	fuzz_check_event(ev);
	/* Stop early now and then: the held-record path resumes it. */
	return ctx->calls % 7 == 0;
}

void fuzz_replay(const char *path)
{
	struct replay_ctx ctx = { 0 };
	KLPT_OPTS_INIT(klpt_session_opts, opts, .on_event = on_event,
		       .ctx = &ctx);
	struct klpt_session *s;
	int n, errors = 0;

	if (klpt_session_open_replay(path, &opts, &s) < 0) {
		if (fuzz_verbose())
			fprintf(stderr, "open: %s\n", strerror(errno));
		return;
	}
	FUZZ_ASSERT(klpt_session_mode(s) == KLPT_MODE_REPLAY);
	FUZZ_ASSERT(klpt_session_fd(s) >= 0);
	walk_session(s);
	for (;;) {
		n = klpt_session_process(s);
		if (n == 0)
			break;
		if (n < 0) {
			/* a replay reports its first problem, once */
			FUZZ_ASSERT(++errors == 1);
			continue;
		}
		walk_session(s);
	}
	/* and stays at its end */
	FUZZ_ASSERT(klpt_session_poll(s, 0) == 0);
	FUZZ_ASSERT(klpt_session_events(s) == ctx.calls);
	(void)klpt_session_lost(s);
	walk_session(s);
	if (fuzz_verbose())
		fprintf(stderr, "replay: %llu events, %d errors; %d patches, "
			"%d tasks, %d modules\n",
			(unsigned long long)ctx.calls, errors,
			klpt_patch_count(s), klpt_task_count(s),
			klpt_module_count(s));
	klpt_session_close(s);
}
