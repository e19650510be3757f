// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * The ground truth: a fake /sys and /proc tree in a temporary
 * directory, taken, saved, loaded and compared; corrupt snapshots are
 * rejected with -EBADMSG and never crash.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "internal.h"

#define PF_KTHREAD	0x00200000u
#define PF_WQ_WORKER	0x00000020u

static char root[PATH_MAX];

/* ------------------------------------------------- the fake tree */

static void mkdirs(const char *path)
{
	char buf[PATH_MAX], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	mkdir(buf, 0755);
}

static void __attribute__((format(printf, 2, 3)))
put(const char *text, const char *fmt, ...)
{
	char path[PATH_MAX], dir[PATH_MAX], *slash;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	mkdirs(dir);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static void rmtree(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);

	if (!d) {
		unlink(path);
		return;
	}
	while ((de = readdir(d))) {
		char sub[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		rmtree(sub);
	}
	closedir(d);
	rmdir(path);
}

static void patch(const char *name, int enabled, int transition)
{
	char v[8];

	snprintf(v, sizeof(v), "%d\n", enabled);
	put(v, "%s/sys/kernel/livepatch/%s/enabled", root, name);
	snprintf(v, sizeof(v), "%d\n", transition);
	put(v, "%s/sys/kernel/livepatch/%s/transition", root, name);
	put("", "%s/sys/kernel/livepatch/%s/force", root, name);
}

static void module(const char *name, int refcnt, const char *taint)
{
	char v[16];

	snprintf(v, sizeof(v), "%d\n", refcnt);
	put(v, "%s/sys/module/%s/refcnt", root, name);
	if (taint)
		put(taint, "%s/sys/module/%s/taint", root, name);
}

/*
 * /proc/<tgid>/task/<tid>/{patch_state,stat,comm} as 6.1 writes them;
 * starttime (field 22) is 1000 + tid.
 */
static void task(int tgid, int tid, const char *comm, int state,
		 unsigned int flags)
{
	char stat[512], v[80];

	snprintf(stat, sizeof(stat),
		 "%d (%s) S 1 %d 0 0 -1 %u 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0 "
		 "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 "
		 "0 0 0 0 0 0 0 0 0 0 0 0 0\n", tid, comm, tgid, flags,
		 1000 + tid);
	put(stat, "%s/proc/%d/task/%d/stat", root, tgid, tid);
	snprintf(v, sizeof(v), "%d\n", state);
	put(v, "%s/proc/%d/task/%d/patch_state", root, tgid, tid);
	snprintf(v, sizeof(v), "%s\n", comm);
	put(v, "%s/proc/%d/task/%d/comm", root, tgid, tid);
}

static void make_root(void)
{
	snprintf(root, sizeof(root), "%s/klpt-truth.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		exit(2);
	}
	chmod(root, 0755);	/* for the unprivileged child, see below */
	mkdirs(strcat(strcpy((char[PATH_MAX]){ 0 }, root),
		      "/sys/kernel/livepatch"));
}

/* A system in the middle of a transition, with every oddity we parse. */
static void make_system(void)
{
	make_root();
	patch("klpt_lp_sleep", 1, 1);
	patch("klpt_lp_vmlinux", 0, 0);
	/* not a patch: a stray file and an incomplete directory */
	put("x", "%s/sys/kernel/livepatch/stray", root);
	put("1\n", "%s/sys/kernel/livepatch/half/enabled", root);

	module("klpt_lp_sleep", 1, "OEK\n");
	module("klpt_lp_vmlinux", 1, "OE\n");	/* livepatch by its dir */
	module("klpt_lp_old", 0, "OEK\n");	/* disabled, dir gone */
	module("klpt_target_sleep", 1, "OE\n");
	module("nouveau", 3, NULL);
	mkdirs(strcat(strcpy((char[PATH_MAX]){ 0 }, root),
		      "/sys/module/builtin_nothing/parameters"));

	task(1, 1, "init", 1, 0x00400100u);
	task(2, 2, "kthreadd", 1, PF_KTHREAD | 0x8040u);
	task(108, 108, "klpt_sleeper", 0, PF_KTHREAD | 0x8040u);
	/* comm with spaces and parentheses: parsed up to the last ')' */
	task(200, 200, "a b) (c", 1, 0x00400100u);
	task(200, 201, "worker 2", 0, 0x00400140u);
	/* a workqueue worker shows its work: the events don't */
	task(300, 300, "kworker/1:0-events", 1,
	     PF_KTHREAD | PF_WQ_WORKER | 0x8040u);
	task(301, 301, "kworker/u4:2+flush-8:0", 1,
	     PF_KTHREAD | PF_WQ_WORKER);
	/* a rescuer is named after its workqueue, '-' and all */
	task(302, 302, "ext4-rsv-conver", 1, PF_KTHREAD | PF_WQ_WORKER);
	task(303, 303, "kworker/R-rcu_gp", 1, PF_KTHREAD | PF_WQ_WORKER);
	task(400, 400, "averyveryverylongcommname", -1, 0);
	/* a comm that looks like the fields after it: the last ')' ends it */
	task(210, 210, "x) R 7 7 0 0 -1", 1, 0x00400100u);
	/* starttime missing, malformed, or out of range: not known */
	put("220 (short) S 1 220 0 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0\n",
	    "%s/proc/220/task/220/stat", root);
	put("0\n", "%s/proc/220/task/220/patch_state", root);
	put("221 (bad) S 1 221 0 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12x "
	    "0 0\n", "%s/proc/221/task/221/stat", root);
	put("0\n", "%s/proc/221/task/221/patch_state", root);
	put("222 (huge) S 1 222 0 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 "
	    "184467440737095516150 0 0\n", "%s/proc/222/task/222/stat", root);
	put("0\n", "%s/proc/222/task/222/patch_state", root);
	put("223 (neg) S 1 223 0 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 -5 "
	    "0 0\n", "%s/proc/223/task/223/stat", root);
	put("0\n", "%s/proc/223/task/223/patch_state", root);
	/* exited: a zombie process, and a zombie leader whose thread lives */
	task(600, 600, "defunct", 1, 0x00400144u);
	put("600 (defunct) Z 1 600 0 0 -1 4194628 0 0 0 0 0 0 0 0 20 0 1 0 "
	    "100 0 0\n", "%s/proc/600/task/600/stat", root);
	task(610, 610, "leader", 0, 0x00400144u);
	put("610 (leader) Z 1 610 0 0 -1 4194628 0 0 0 0 0 0 0 0 20 0 2 0 "
	    "100 0 0\n", "%s/proc/610/task/610/stat", root);
	task(610, 611, "thread", 0, 0x00400040u);
	/*
	 * past sched_process_exit but not yet a zombie (do_exit() still in
	 * exit_files(), D state): PF_EXITING, 6.1 include/linux/sched.h
	 */
	task(620, 620, "writer", 0, 0x00400044u);
	put("620 (writer) D 1 620 0 0 -1 4194372 0 0 0 0 0 0 0 0 20 0 1 0 "
	    "100 0 0\n", "%s/proc/620/task/620/stat", root);
	/* exiting tasks: half gone */
	mkdirs(strcat(strcpy((char[PATH_MAX]){ 0 }, root), "/proc/500"));
	put("1\n", "%s/proc/501/task/501/patch_state", root);
	put("garbage\n", "%s/proc/502/task/502/stat", root);
	put("1\n", "%s/proc/502/task/502/patch_state", root);
	/* not a process */
	put("x", "%s/proc/sys/kernel/x", root);
	put("1 2 3", "%s/proc/loadavg", root);
}

/* ---------------------------------------------------------- helpers */

static const struct klpt_truth_task *find_task(const struct klpt_truth *t,
					       int tid)
{
	int i;

	for (i = 0; i < t->ntasks; i++)
		if (t->tasks[i].tid == tid)
			return &t->tasks[i];
	return NULL;
}

static const struct klpt_truth_module *find_module(const struct klpt_truth *t,
						   const char *name)
{
	int i;

	for (i = 0; i < t->nmodules; i++)
		if (!strcmp(t->modules[i].name, name))
			return &t->modules[i];
	return NULL;
}

static bool same(const struct klpt_truth *a, const struct klpt_truth *b)
{
	return a->ts == b->ts && a->npatches == b->npatches &&
	       a->nmodules == b->nmodules && a->ntasks == b->ntasks &&
	       !memcmp(a->patches, b->patches,
		       (size_t)a->npatches * sizeof(*a->patches)) &&
	       !memcmp(a->modules, b->modules,
		       (size_t)a->nmodules * sizeof(*a->modules)) &&
	       !memcmp(a->tasks, b->tasks,
		       (size_t)a->ntasks * sizeof(*a->tasks));
}

/* Save t into a malloc'ed string. */
static char *save(const struct klpt_truth *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK_INT(klpt_truth_save(t, f), 0);
	fclose(f);
	return buf;
}

static int load(const char *text, size_t len, struct klpt_truth **out)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int ret;

	if (!len)	/* fmemopen() refuses size 0 */
		f = fopen("/dev/null", "r");
	ret = klpt_truth_load(f, out);
	fclose(f);
	return ret;
}

/* ------------------------------------------------------------- tests */

static void test_take(void)
{
	const struct klpt_truth_task *k;
	const struct klpt_truth_module *m;
	struct klpt_truth *t = NULL;
	int i;

	make_system();
	CHECK_INT(klpt_truth_take(root, &t), 0);
	if (!t)
		return;
	CHECK_INT(t->ts, 0);	/* the session stamps it */

	CHECK_INT(t->npatches, 2);
	CHECK_STR(t->patches[0].name, "klpt_lp_sleep");
	CHECK(t->patches[0].enabled == 1 && t->patches[0].transition == 1,
	      "klpt_lp_sleep %d %d", t->patches[0].enabled,
	      t->patches[0].transition);
	CHECK_STR(t->patches[1].name, "klpt_lp_vmlinux");
	CHECK(t->patches[1].enabled == 0 && t->patches[1].transition == 0,
	      "klpt_lp_vmlinux");

	CHECK_INT(t->nmodules, 5);	/* not builtin_nothing */
	for (i = 1; i < t->nmodules; i++)
		CHECK(strcmp(t->modules[i - 1].name, t->modules[i].name) < 0,
		      "modules not sorted");
	m = find_module(t, "klpt_lp_sleep");
	CHECK(m && m->refcnt == 1 && m->livepatch, "klpt_lp_sleep module");
	m = find_module(t, "klpt_lp_vmlinux");
	CHECK(m && m->livepatch, "a module with a patch dir is livepatch");
	m = find_module(t, "klpt_lp_old");
	CHECK(m && m->refcnt == 0 && m->livepatch, "taint K is livepatch");
	m = find_module(t, "klpt_target_sleep");
	CHECK(m && !m->livepatch, "the target is no livepatch");
	m = find_module(t, "nouveau");
	CHECK(m && m->refcnt == 3 && !m->livepatch, "no taint file");

	CHECK_INT(t->ntasks, 16);	/* 210, 220-223 too */
	for (i = 1; i < t->ntasks; i++)
		CHECK(t->tasks[i - 1].tid < t->tasks[i].tid,
		      "tasks not sorted");
	k = find_task(t, 1);
	CHECK(k && k->tgid == 1 && k->state == 1 && !k->kthread &&
	      !strcmp(k->comm, "init"), "init");
	k = find_task(t, 108);
	CHECK(k && k->state == 0 && k->kthread, "the sleeper");
	k = find_task(t, 200);
	CHECK(k && !strcmp(k->comm, "a b) (c") && !k->kthread &&
	      k->state == 1, "comm with ') (': \"%s\"", k ? k->comm : "");
	CHECK(k && k->has_start && k->start == 1200, "start of 200: %llu",
	      k ? k->start : 0);
	k = find_task(t, 210);
	CHECK(k && !strcmp(k->comm, "x) R 7 7 0 0 -1") && k->state == 1 &&
	      !k->kthread && k->has_start && k->start == 1210,
	      "comm with ') ' and fields: \"%s\" start %llu",
	      k ? k->comm : "", k ? k->start : 0);
	for (i = 220; i <= 223; i++) {
		k = find_task(t, i);
		CHECK(k && !k->has_start && k->state == 0,
		      "task %d: taken, without a start time", i);
	}
	k = find_task(t, 1);
	CHECK(k && k->has_start && k->start == 1001, "start of init");
	k = find_task(t, 201);
	CHECK(k && k->tgid == 200 && k->state == 0 &&
	      !strcmp(k->comm, "worker 2"), "a thread of 200");
	k = find_task(t, 300);
	CHECK(k && !strcmp(k->comm, "kworker/1:0") && k->kthread,
	      "kworker: \"%s\"", k ? k->comm : "");
	k = find_task(t, 301);
	CHECK(k && !strcmp(k->comm, "kworker/u4:2"), "kworker+: \"%s\"",
	      k ? k->comm : "");
	k = find_task(t, 302);
	CHECK(k && !strcmp(k->comm, "ext4-rsv-conver"), "rescuer: \"%s\"",
	      k ? k->comm : "");
	k = find_task(t, 303);
	CHECK(k && !strcmp(k->comm, "kworker/R-rcu_g"), "rescuer: \"%s\"",
	      k ? k->comm : "");
	k = find_task(t, 400);
	CHECK(k && !strcmp(k->comm, "averyveryverylo") && k->state == -1,
	      "long comm: \"%s\"", k ? k->comm : "");
	CHECK(!find_task(t, 500) && !find_task(t, 501) && !find_task(t, 502),
	      "half-gone tasks taken");
	CHECK(!find_task(t, 600) && !find_task(t, 610), "zombies taken");
	CHECK(!find_task(t, 620), "an exiting task (PF_EXITING) taken");
	k = find_task(t, 611);
	CHECK(k && k->tgid == 610 && k->state == 0,
	      "the live thread of a zombie leader");
	klpt_truth_free(t);
	klpt_truth_free(NULL);
}

static void test_save_load(void)
{
	struct klpt_truth *t = NULL, *u = NULL;
	char *text, *again;

	CHECK_INT(klpt_truth_take(root, &t), 0);
	if (!t)
		return;
	t->ts = 123456789012345ull;
	text = save(t);
	CHECK(!strncmp(text, "klptrace-truth 1\nts 123456789012345\n", 36),
	      "header: %.40s", text);
	/* the odd comm is escaped onto one line of fixed tokens */
	CHECK(strstr(text, "task 200 200 1 0 1200 a%20b)%20(c\n"),
	      "escaped comm missing:\n%s", text);
	CHECK_INT(load(text, strlen(text), &u), 0);
	CHECK(u && same(t, u), "loaded snapshot differs");
	if (u) {
		again = save(u);
		CHECK_STR(again, text);
		free(again);
	}
	klpt_truth_free(u);
	klpt_truth_free(t);
	free(text);
}

/*
 * The possible CPUs (the idle tasks' CPUs): parsed as the kernel lists
 * them, kept by a recording in ranges, unknown without the file.
 */
static void test_possible(void)
{
	static const struct {
		const char *list;
		int n;
	} cases[] = {
		{ "0\n", 1 }, { "0-3\n", 4 }, { "0-3,6,8-9\n", 7 },
		{ "", 0 }, { "3-1\n", -EINVAL }, { "0,0\n", -EINVAL },
		{ "1,0\n", -EINVAL }, { "x\n", -EINVAL }, { "0-\n", -EINVAL },
		{ "0-65536\n", -EINVAL }, { "0-8191\n", 8192 },
		{ "0-8192\n", -EINVAL }, { "0 1\n", -EINVAL },
		{ "0\n1\n", -EINVAL }, { "-1\n", -EINVAL },
	};
	struct klpt_truth *t = NULL, *u = NULL;
	char path[PATH_MAX + 64], *text;
	size_t i;
	int *cpus;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = klpt_cpulist_parse(cases[i].list, &cpus);

		CHECK(n == cases[i].n, "\"%s\": %d, expected %d",
		      cases[i].list, n, cases[i].n);
		if (n == 7)
			CHECK(cpus[4] == 6 && cpus[6] == 9, "0-3,6,8-9: %d %d",
			      cpus[4], cpus[6]);
		free(cpus);
	}
	/* no file: unknown */
	CHECK_INT(klpt_truth_take(root, &t), 0);
	if (t)
		CHECK_INT(t->npossible, -1);
	klpt_truth_free(t);
	t = NULL;
	snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/possible",
		 root);
	put("0-3,6\n", "%s", path);
	CHECK_INT(klpt_truth_take(root, &t), 0);
	if (!t)
		return;
	CHECK_INT(t->npossible, 5);
	text = save(t);
	CHECK(strstr(text, "\ncpus 0-3,6\nend\n"), "no cpus line:\n%s", text);
	CHECK_INT(load(text, strlen(text), &u), 0);
	CHECK(u && u->npossible == 5 && u->possible[4] == 6,
	      "cpus not loaded");
	klpt_truth_free(u);
	u = NULL;
	/* twice, or empty: corrupt */
	{
		char bad[4096];

		snprintf(bad, sizeof(bad), "klptrace-truth 1\nts 1\n"
			 "cpus 0\ncpus 1\nend\n");
		CHECK_INT(load(bad, strlen(bad), &u), -EBADMSG);
		snprintf(bad, sizeof(bad), "klptrace-truth 1\nts 1\n"
			 "cpus \nend\n");
		CHECK_INT(load(bad, strlen(bad), &u), -EBADMSG);
		snprintf(bad, sizeof(bad), "klptrace-truth 1\nts 1\nend\n");
		CHECK_INT(load(bad, strlen(bad), &u), 0);
		CHECK(u && u->npossible == -1, "old snapshot: cpus known");
		klpt_truth_free(u);
	}
	free(text);
	klpt_truth_free(t);
	unlink(path);
}

static void test_empty(void)
{
	struct klpt_truth t = { 0 }, *u = NULL;
	char *text = save(&t);

	CHECK_STR(text, "klptrace-truth 1\nts 0\nend\n");
	CHECK_INT(load(text, strlen(text), &u), 0);
	CHECK(u && u->npatches == 0 && u->ntasks == 0 && u->nmodules == 0,
	      "not empty");
	klpt_truth_free(u);
	free(text);
}

/* Every byte of comm survives: newline, '%', high bytes. */
static void test_escapes(void)
{
	static const char odd[] = "a\nb%c\xff d\t)";
	struct klpt_truth_task k = { .tid = 7, .tgid = 7, .state = 0 };
	struct klpt_truth t = { .tasks = &k, .ntasks = 1 }, *u = NULL;
	char *text;

	memcpy(k.comm, odd, sizeof(odd));
	text = save(&t);
	CHECK_INT(load(text, strlen(text), &u), 0);
	CHECK(u && u->ntasks == 1 &&
	      !memcmp(u->tasks[0].comm, odd, sizeof(odd)),
	      "comm changed: %s", text);
	klpt_truth_free(u);
	free(text);
}

static const char *const corrupt[] = {
	"",
	"\n",
	"klptrace-truth 1\n",				/* no ts */
	"klptrace-truth 1\nts 5\n",			/* no end */
	"klptrace-truth 1\nts 5\nend",			/* no newline */
	"klptrace-truth 2\nts 5\nend\n",		/* future version */
	"klptrace-truth 0\nts 5\nend\n",
	"klptrace-truth\nts 5\nend\n",
	"klptrace-truth 1 x\nts 5\nend\n",
	"KLPTRACE-TRUTH 1\nts 5\nend\n",
	"klptrace-truth 1\nts -5\nend\n",
	"klptrace-truth 1\nts 5x\nend\n",
	"klptrace-truth 1\nts 99999999999999999999999\nend\n",
	"klptrace-truth 1\nts 5\nend\nend\n",		/* after end */
	"klptrace-truth 1\nts 5\nend\ntask 1 1 1 0 x\n",
	"klptrace-truth 1\nts 5\n\nend\n",		/* empty line */
	"klptrace-truth 1\nts 5\nbogus 1\nend\n",
	"klptrace-truth 1\nts 5\npatch 1 1\nend\n",	/* no name */
	"klptrace-truth 1\nts 5\npatch 2 0 p\nend\n",
	"klptrace-truth 1\nts 5\npatch 1 0 p q\nend\n",
	"klptrace-truth 1\nts 5\npatch 1  0 p\nend\n",	/* empty token */
	"klptrace-truth 1\nts 5\npatch 1 0 p \nend\n",
	"klptrace-truth 1\nts 5\npatch +1 0 p\nend\n",
	"klptrace-truth 1\nts 5\npatch 1 0 p%4\nend\n",
	"klptrace-truth 1\nts 5\npatch 1 0 p%G0\nend\n",
	"klptrace-truth 1\nts 5\npatch 1 0 p%00\nend\n",
	"klptrace-truth 1\nts 5\npatch 1 0 "
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
	"end\n",					/* name too long */
	"klptrace-truth 1\nts 5\npatch 1 0 p\npatch 0 0 p\nend\n", /* dup */
	"klptrace-truth 1\nts 5\nmodule -2 0 m\nend\n",
	"klptrace-truth 1\nts 5\nmodule 1 2 m\nend\n",
	"klptrace-truth 1\nts 5\nmodule 1 1 m\nmodule 0 1 m\nend\n",
	"klptrace-truth 1\nts 5\ntask 1 1 2 0 x\nend\n",	/* state 2 */
	"klptrace-truth 1\nts 5\ntask 1 1 -2 0 x\nend\n",
	"klptrace-truth 1\nts 5\ntask 0 1 1 0 x\nend\n",	/* tid 0 */
	"klptrace-truth 1\nts 5\ntask 1 1 1 3 x\nend\n",
	"klptrace-truth 1\nts 5\ntask 1 1 1 0\nend\n",
	"klptrace-truth 1\nts 5\ntask 1 1 1 0 0123456789abcdef\nend\n",
	"klptrace-truth 1\nts 5\ntask 1 1 1 0 x\ntask 1 2 1 0 y\nend\n",
	"klptrace-truth 1\nts 5\ntask 2147483648 1 1 0 x\nend\n",
	/* the optional start time: decimal, in range, one token */
	"klptrace-truth 1\nts 5\ntask 1 1 1 0 -5 x\nend\n",
	"klptrace-truth 1\nts 5\ntask 1 1 1 0 +5 x\nend\n",
	"klptrace-truth 1\nts 5\ntask 1 1 1 0 5x x\nend\n",
	"klptrace-truth 1\nts 5\ntask 1 1 1 0 x 5\nend\n",
	"klptrace-truth 1\nts 5\ntask 1 1 1 0 18446744073709551616 x\nend\n",
	"klptrace-truth 1\nts 5\ntask 1 1 1 0 5 5 x\nend\n",
	"klptrace-truth 1\nts 5\ntask 1 1 1 0  x\nend\n",
	"klptrace-truth 1\nts 5\ntask 1 1 1 0 5 x \nend\n",
};

/*
 * The start time is optional: a recording made before it was kept
 * loads, its tasks without one; the largest value loads and saves back.
 */
static void test_start_optional(void)
{
	static const char text[] =
		"klptrace-truth 1\nts 5\ntask 7 7 1 0 x\n"
		"task 8 7 0 1 0 y\ntask 9 9 0 0 18446744073709551615 z\nend\n";
	struct klpt_truth *u = NULL;
	char *again;

	CHECK_INT(load(text, strlen(text), &u), 0);
	if (!u)
		return;
	CHECK_INT(u->ntasks, 3);
	if (u->ntasks == 3) {
		CHECK(!u->tasks[0].has_start && !strcmp(u->tasks[0].comm, "x"),
		      "old task line");
		CHECK(u->tasks[1].has_start && u->tasks[1].start == 0 &&
		      u->tasks[1].kthread && !strcmp(u->tasks[1].comm, "y"),
		      "start 0");
		CHECK(u->tasks[2].has_start &&
		      u->tasks[2].start == 18446744073709551615ull &&
		      !strcmp(u->tasks[2].comm, "z"), "largest start");
	}
	again = save(u);
	CHECK_STR(again, text);
	free(again);
	klpt_truth_free(u);
}

static void test_corrupt(void)
{
	size_t i;

	for (i = 0; i < sizeof(corrupt) / sizeof(corrupt[0]); i++) {
		struct klpt_truth *u = (struct klpt_truth *)1;
		int ret = load(corrupt[i], strlen(corrupt[i]), &u);

		CHECK(ret == -EBADMSG && errno == EBADMSG && !u,
		      "case %zu: ret %d errno %d for \"%s\"", i, ret, errno,
		      corrupt[i]);
		if (ret == 0)
			klpt_truth_free(u);
	}
	/* a NUL byte inside a line */
	{
		static const char nul[] = "klptrace-truth 1\nts 5\npa\0tch\nend\n";
		struct klpt_truth *u = NULL;

		CHECK_INT(load(nul, sizeof(nul) - 1, &u), -EBADMSG);
	}
	/* an endless line */
	{
		size_t n = 100000;
		char *big = malloc(n);
		struct klpt_truth *u = NULL;

		memset(big, 'a', n);
		CHECK_INT(load(big, n, &u), -EBADMSG);
		free(big);
	}
	CHECK_INT(klpt_truth_load(NULL, NULL), -EINVAL);
	CHECK_INT(klpt_truth_save(NULL, stdout), -EINVAL);
}

/*
 * Every truncation and every single-byte change of a real snapshot:
 * either still a valid snapshot, or -EBADMSG; never a crash (ASan).
 */
static void test_mangled(void)
{
	struct klpt_truth *t = NULL, *u;
	char *text, *copy;
	size_t len, i;
	int bad = 0, ok = 0;
	unsigned int seed = 1;

	CHECK_INT(klpt_truth_take(root, &t), 0);
	if (!t)
		return;
	text = save(t);
	len = strlen(text);
	copy = malloc(len + 1);
	for (i = 0; i < len; i++) {
		u = NULL;
		if (load(text, i, &u) != -EBADMSG)
			bad++;	/* every prefix lacks "end\n" */
		klpt_truth_free(u);
	}
	CHECK_INT(bad, 0);
	for (i = 0; i < len; i++) {
		int ret;

		memcpy(copy, text, len + 1);
		seed = seed * 1103515245u + 12345u;
		copy[i] = (char)(seed >> 16);
		u = NULL;
		ret = load(copy, len, &u);
		if (ret == 0)
			ok++;
		else if (ret != -EBADMSG)
			bad++;
		klpt_truth_free(u);
	}
	CHECK_INT(bad, 0);
	CHECK(ok < (int)len, "no change was noticed");
	free(copy);
	free(text);
	klpt_truth_free(t);
}

static void test_no_livepatch(void)
{
	char path[PATH_MAX + 32];
	struct klpt_truth *t = (struct klpt_truth *)1;

	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch", root);
	rmtree(path);
	CHECK_INT(klpt_truth_take(root, &t), -EOPNOTSUPP);
	CHECK_INT(errno, EOPNOTSUPP);
	CHECK(!t, "out set");
	CHECK_INT(klpt_truth_take("/nonexistent/klpt", &t), -EOPNOTSUPP);
	CHECK_INT(klpt_truth_take(root, NULL), -EINVAL);
	mkdirs(path);
	/* an empty system: no patches, fine */
	t = NULL;
	CHECK_INT(klpt_truth_take(root, &t), 0);
	CHECK(t && t->npatches == 0, "patches in an empty dir");
	klpt_truth_free(t);
}

/*
 * patch_state is 0400: an unprivileged reader must get a clear
 * -EACCES, not a snapshot with tasks silently missing.  As root, the
 * check runs in a child that dropped to nobody.
 */
static int take_unprivileged(void)
{
	struct klpt_truth *t = NULL;
	int ret = klpt_truth_take(root, &t);

	klpt_truth_free(t);
	return ret;
}

/* The snapshot of a reader who may not read path (a patch_state). */
static void check_unreadable(const char *path)
{
	int ret, status;
	pid_t pid;

	chmod(path, geteuid() ? 0 : 0400);
	if (geteuid()) {
		ret = take_unprivileged();
	} else {
		pid = fork();
		if (pid == 0) {
			if (setgid(65534) || setuid(65534))
				_exit(100);
			ret = take_unprivileged();
			_exit(ret == -EACCES ? 0 : 1);
		}
		CHECK(pid > 0, "fork");
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 100,
		      "could not drop privileges");
		ret = WIFEXITED(status) && !WEXITSTATUS(status) ?
			-EACCES : -1;
	}
	CHECK_INT(ret, -EACCES);
	chmod(path, 0644);
}

static void test_unreadable(void)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/proc/108/task/108/patch_state",
		 root);
	check_unreadable(path);
}

/*
 * No patch in transition: every task is KLP_UNDEFINED without reading
 * its patch_state (the files of make_system() say 0 and 1, which 6.1
 * never shows then), and an unprivileged reader still gets -EACCES
 * (the walk reads the first thread's file).
 */
static void test_no_transition(void)
{
	const struct klpt_truth_task *k;
	struct klpt_truth *t = NULL;
	char path[PATH_MAX + 64];
	int i;

	patch("klpt_lp_sleep", 1, 0);
	CHECK_INT(klpt_truth_take(root, &t), 0);
	if (t) {
		CHECK(t->ntasks > 5, "%d tasks", t->ntasks);
		for (i = 0; i < t->ntasks; i++)
			CHECK(t->tasks[i].state == -1, "task %d state %d",
			      t->tasks[i].tid, t->tasks[i].state);
		k = find_task(t, 611);
		CHECK(k && k->tgid == 610, "the live thread of a zombie leader");
		CHECK(!find_task(t, 600) && !find_task(t, 620),
		      "a zombie or an exiting task taken");
	}
	klpt_truth_free(t);

	/* the first thread /proc lists; root-owned on a real system */
	snprintf(path, sizeof(path), "%s/proc", root);
	{
		struct dirent *de;
		DIR *d = opendir(path);
		int first = 0;

		while (d && (de = readdir(d)))
			if (de->d_name[0] >= '1' && de->d_name[0] <= '9') {
				first = atoi(de->d_name);
				break;
			}
		if (d)
			closedir(d);
		snprintf(path, sizeof(path),
			 "%s/proc/%d/task/%d/patch_state", root, first, first);
	}
	check_unreadable(path);
	patch("klpt_lp_sleep", 1, 1);
}

/*
 * A patch's functions as 6.1 lays them out: <object>/patched and a
 * directory "<old_name>,<sympos>" per function; files, odd names and an
 * object without `patched` are no functions.  The directory's inode is
 * its order.
 */
/* mkdir -p <root>/sys/kernel/livepatch/lp/<rel> */
static void lp_dir(const char *rel)
{
	char path[2 * PATH_MAX];

	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch/lp/%s", root, rel);
	mkdirs(path);
}

static void test_pinfo(void)
{
	struct klpt_pinfo pi;
	struct stat st;
	char path[2 * PATH_MAX];
	int i, sleep_fn = -1, cmdline = -1;

	make_root();
	patch("lp", 1, 0);
	put("1\n", "%s/sys/kernel/livepatch/lp/klpt_target_sleep/patched", root);
	lp_dir("klpt_target_sleep/klpt_sleep_fn,1");
	put("0\n", "%s/sys/kernel/livepatch/lp/vmlinux/patched", root);
	lp_dir("vmlinux/cmdline_proc_show,2");
	/* not functions: no sympos, sympos 0, a file, an object w/o patched */
	lp_dir("vmlinux/nocomma");
	lp_dir("vmlinux/f,0");
	put("", "%s/sys/kernel/livepatch/lp/vmlinux/g,1", root);
	lp_dir("junk/h,1");

	CHECK_INT(klpt_pinfo_take(root, "lp", &pi), 0);
	CHECK_INT(pi.nfuncs, 2);
	for (i = 0; i < pi.nfuncs; i++) {
		if (!strcmp(pi.funcs[i].name, "klpt_sleep_fn"))
			sleep_fn = i;
		if (!strcmp(pi.funcs[i].name, "cmdline_proc_show"))
			cmdline = i;
	}
	CHECK(sleep_fn >= 0 && cmdline >= 0, "functions not found");
	if (sleep_fn >= 0 && cmdline >= 0) {
		CHECK_STR(pi.funcs[sleep_fn].object, "klpt_target_sleep");
		CHECK(pi.funcs[sleep_fn].sympos == 1 &&
		      pi.funcs[sleep_fn].patched, "klpt_sleep_fn,1 patched");
		CHECK_STR(pi.funcs[cmdline].object, "vmlinux");
		CHECK(pi.funcs[cmdline].sympos == 2 &&
		      !pi.funcs[cmdline].patched, "cmdline_proc_show,2 not patched");
	}
	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch/lp", root);
	CHECK(!stat(path, &st) && pi.order == (uint64_t)st.st_ino,
	      "order is not the directory's inode");
	klpt_pinfo_free(&pi);
	CHECK_INT(klpt_pinfo_take(root, "gone", &pi), -ENOENT);
	CHECK_INT(klpt_pinfo_take(root, "../lp", &pi), -EINVAL);
	CHECK_INT(klpt_pinfo_take(root, "..", &pi), -EINVAL);
	rmtree(root);
}

int main(void)
{
	RUN(test_take);
	RUN(test_save_load);
	RUN(test_possible);
	RUN(test_empty);
	RUN(test_escapes);
	RUN(test_start_optional);
	RUN(test_corrupt);
	RUN(test_mangled);
	RUN(test_unreadable);
	RUN(test_no_transition);
	RUN(test_no_livepatch);
	RUN(test_pinfo);
	rmtree(root);
	return check_summary();
}
