// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Ground truth: what the kernel itself shows about livepatching.
 *
 *   <root>/sys/kernel/livepatch/<patch>/{enabled,transition}
 *   <root>/sys/module/<module>/{refcnt,taint}
 *   <root>/proc/<tgid>/task/<tid>/{patch_state,stat}   (patch_state
 *                          only during a transition: take_states_if())
 *   <root>/sys/devices/system/cpu/possible   (the idle tasks' CPUs)
 *
 * The snapshot is not atomic: tasks and modules come and go while it is
 * read, which is tolerated (a vanished entry is simply left out).
 * Threads that have exited (zombies, state Z or X in stat) are left out
 * too: the model forgets a task at its exit.  The
 * model reconciles with it; the events tell what happened since.
 *
 * A recording keeps the start-up snapshot as a line-based text file:
 *
 *   klptrace-truth 1
 *   ts <ns>
 *   patch <enabled> <transition> <name>
 *   module <refcnt> <livepatch> <name>
 *   task <tid> <tgid> <state> <kthread> [<start>] <comm>
 *                          start: starttime (stat field 22), clock ticks
 *                          since boot; optional: unknown without it
 *   cpus <list>            the possible CPUs, as the kernel lists them
 *                          ("0-3"); optional: unknown without it
 *   end
 *
 * Names and comms are %XX-escaped (comm may hold spaces, newlines, '%'),
 * so every line is a fixed number of space-separated tokens.  The "end"
 * line catches truncated files.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define PF_WQ_WORKER	0x00000020u	/* include/linux/sched.h */
#define PF_EXITING	0x00000004u
#define PF_KTHREAD	0x00200000u

#define TRUTH_MAGIC	"klptrace-truth"
#define TRUTH_VERSION	1
#define TRUTH_LINE_MAX	1024	/* longer lines are corrupt */

struct vec {
	void *data;
	int n, cap;
	size_t elem;
};

/* Append a zeroed element; NULL on ENOMEM. */
static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		int cap = v->cap ? v->cap * 2 : 64;
		void *d;

		if (cap > INT_MAX / 2)
			return NULL;
		d = realloc(v->data, (size_t)cap * v->elem);
		if (!d)
			return NULL;
		v->data = d;
		v->cap = cap;
	}
	memset((char *)v->data + (size_t)v->n * v->elem, 0, v->elem);
	return (char *)v->data + (size_t)v->n++ * v->elem;
}

void klpt_truth_free(struct klpt_truth *t)
{
	if (!t)
		return;
	free(t->patches);
	free(t->tasks);
	free(t->modules);
	free(t->possible);
	free(t->hints);
	free(t);
}

/*
 * Read a small file relative to dirfd into buf, NUL-terminated.  Returns
 * its length or a negative errno.
 */
static int read_at(int dirfd, const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd, err;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			close(fd);
			return -err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (int)len;
}

/* A whole decimal integer with optional surrounding whitespace. */
static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	if (*end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool read_long_at(int dirfd, const char *path, long min, long max,
			 long *out, int *err)
{
	char buf[64];
	int n = read_at(dirfd, path, buf, sizeof(buf));

	if (n < 0) {
		*err = -n;
		return false;
	}
	*err = 0;
	return parse_long(buf, min, max, out);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/*
 * Errors that make the whole snapshot wrong: report, don't skip.  Any
 * other error (ENOENT, ESRCH, ...) means the entry went away while we
 * read it.
 */
static bool fatal(int err)
{
	return err == EACCES || err == EPERM || err == ENOMEM;
}

static int cmp_patch(const void *a, const void *b)
{
	return strcmp(((const struct klpt_truth_patch *)a)->name,
		      ((const struct klpt_truth_patch *)b)->name);
}

static int cmp_module(const void *a, const void *b)
{
	return strcmp(((const struct klpt_truth_module *)a)->name,
		      ((const struct klpt_truth_module *)b)->name);
}

static int cmp_task(const void *a, const void *b)
{
	int x = ((const struct klpt_truth_task *)a)->tid;
	int y = ((const struct klpt_truth_task *)b)->tid;

	return (x > y) - (x < y);
}

static int open_dir(const char *root, const char *sub, DIR **out)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s%s", root, sub) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	*out = opendir(path);
	return *out ? 0 : -errno;
}

static int take_patches(const char *root, struct vec *v)
{
	struct dirent *de;
	DIR *d;
	int err = open_dir(root, "/sys/kernel/livepatch", &d);

	if (err == -ENOENT || err == -ENOTDIR)
		return -EOPNOTSUPP;	/* no CONFIG_LIVEPATCH */
	if (err)
		return err;
	while ((de = readdir(d))) {
		struct klpt_truth_patch *p;
		char path[NAME_MAX + 32];
		long en, tr;
		int e1, e2;

		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) >= sizeof(p->name))
			continue;
		snprintf(path, sizeof(path), "%s/enabled", de->d_name);
		if (!read_long_at(dirfd(d), path, 0, 1, &en, &e1)) {
			if (fatal(e1)) {
				closedir(d);
				return -e1;
			}
			continue;	/* freed meanwhile, or not a patch */
		}
		snprintf(path, sizeof(path), "%s/transition", de->d_name);
		if (!read_long_at(dirfd(d), path, 0, 1, &tr, &e2)) {
			if (fatal(e2)) {
				closedir(d);
				return -e2;
			}
			continue;
		}
		p = vec_push(v);
		if (!p) {
			closedir(d);
			return -ENOMEM;
		}
		strcpy(p->name, de->d_name);
		p->enabled = (int)en;
		p->transition = (int)tr;
	}
	closedir(d);
	return 0;
}

static int take_modules(const char *root, struct vec *v)
{
	struct dirent *de;
	DIR *d;
	int err = open_dir(root, "/sys/module", &d);

	if (err == -ENOENT)
		return 0;	/* no modules at all: nothing to hold */
	if (err)
		return err;
	while ((de = readdir(d))) {
		struct klpt_truth_module *m;
		char path[NAME_MAX + 32], taint[64];
		long rc;
		int e;

		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) >= sizeof(m->name))
			continue;
		/* Built-in "modules" have no refcnt: not unloadable. */
		snprintf(path, sizeof(path), "%s/refcnt", de->d_name);
		if (!read_long_at(dirfd(d), path, -1, INT_MAX, &rc, &e)) {
			if (fatal(e)) {
				closedir(d);
				return -e;
			}
			continue;
		}
		m = vec_push(v);
		if (!m) {
			closedir(d);
			return -ENOMEM;
		}
		strcpy(m->name, de->d_name);
		m->refcnt = (int)rc;
		/*
		 * TAINT_LIVEPATCH shows as 'K' in the module's taint: this
		 * names livepatch modules even after their patch directory
		 * is gone (disabled, waiting for rmmod).
		 */
		snprintf(path, sizeof(path), "%s/taint", de->d_name);
		if (read_at(dirfd(d), path, taint, sizeof(taint)) > 0 &&
		    strchr(taint, 'K'))
			m->livepatch = true;
	}
	closedir(d);
	return 0;
}

/*
 * Parse /proc/.../stat: "tid (comm) S ppid pgrp session tty tpgid flags
 * ... starttime(22) ...".  comm may contain spaces and parentheses, so
 * it ends at the last ')'.  Returns false if the line is not of that
 * shape up to flags; *has_start is false if field 22 is missing or
 * malformed.
 */
static bool parse_stat(const char *stat, char *comm, char *state,
		       unsigned int *flags, bool *has_start,
		       unsigned long long *start)
{
	const char *lp = strchr(stat, '('), *rp = strrchr(stat, ')');
	const char *p;
	unsigned long fl;
	unsigned long long st;
	size_t len;
	char *end;
	int field;

	*has_start = false;
	if (!lp || !rp || rp < lp)
		return false;
	len = (size_t)(rp - lp - 1);
	if (len >= KLPT_COMM_LEN)
		len = KLPT_COMM_LEN - 1;
	memcpy(comm, lp + 1, len);
	comm[len] = '\0';

	/* fields 3 (state) .. 8 (tpgid) come before flags (9) */
	p = rp + 1;
	for (field = 3; field <= 8; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return false;
		if (field == 3)
			*state = *p;
		while (*p && *p != ' ')
			p++;
	}
	errno = 0;
	fl = strtoul(p, &end, 10);
	if (errno || end == p || fl > UINT32_MAX)
		return false;
	*flags = (unsigned int)fl;

	/* fields 10 (minflt) .. 21 (itrealvalue) come before starttime */
	p = end;
	for (field = 10; field <= 21; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return true;
		while (*p && *p != ' ')
			p++;
	}
	if (*p != ' ' || !isdigit((unsigned char)p[1]))
		return true;
	errno = 0;
	st = strtoull(p + 1, &end, 10);
	if (!errno && (*end == ' ' || *end == '\n' || !*end)) {
		*start = st;
		*has_start = true;
	}
	return true;
}

/*
 * Workqueue workers show "kworker/0:1-events" (the work's description
 * appended, '+' while running it) in stat and comm, while events carry
 * the bare task->comm: cut the description so the two agree.  Only
 * after a worker's own name ("kworker/<cpu>:<id>[H]", "kworker/u<n>:<id>",
 * always with a ':'): rescuers are named after their workqueue, which
 * may hold '-' ("kworker/R-rcu_gp" in newer kernels).
 */
static void strip_wq_desc(char *comm, unsigned int flags)
{
	char *name = comm + 8, *p;

	if (!(flags & PF_WQ_WORKER) || strncmp(comm, "kworker/", 8))
		return;
	p = strpbrk(name, "+-");
	if (p && memchr(name, ':', (size_t)(p - name)))
		*p = '\0';
}

/*
 * *states: read each thread's patch_state; without, every thread is
 * KLP_UNDEFINED (no transition: see take_states_if()) and only the
 * first one read, when *probe is set, tells whether this reader may
 * read them (0400: root's, or the owner's) so that an unprivileged
 * snapshot fails with -EACCES with or without a transition.
 */
static int take_threads(int procfd, const char *tgid_s, bool states,
			bool *probe, struct vec *v)
{
	struct dirent *de;
	char path[NAME_MAX + 16];
	long tgid;
	DIR *d;
	int fd;

	if (!parse_long(tgid_s, 1, INT_MAX, &tgid))
		return 0;
	snprintf(path, sizeof(path), "%s/task", tgid_s);
	fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)	/* EACCES: hidepid=1; other errors: exited */
		return fatal(errno) ? -errno : 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	while ((de = readdir(d))) {
		struct klpt_truth_task *t;
		char buf[1024], comm[KLPT_COMM_LEN], st;
		unsigned int flags;
		long tid, state = -1;
		unsigned long long start = 0;
		bool has_start;
		int n, err;

		if (!all_digits(de->d_name) ||
		    !parse_long(de->d_name, 1, INT_MAX, &tid))
			continue;
		snprintf(path, sizeof(path), "%s/patch_state", de->d_name);
		if ((states || *probe) &&
		    !read_long_at(dirfd(d), path, -1, 1, &state, &err)) {
			if (fatal(err)) {
				/* 0400: only root (or the owner) reads it */
				closedir(d);
				return -err;
			}
			continue;	/* exited meanwhile */
		}
		if (!states) {
			*probe = false;
			state = -1;
		}
		snprintf(path, sizeof(path), "%s/stat", de->d_name);
		n = read_at(dirfd(d), path, buf, sizeof(buf));
		if (n < 0 && fatal(-n)) {
			closedir(d);
			return n;
		}
		if (n <= 0 || !parse_stat(buf, comm, &st, &flags, &has_start,
						&start))
			continue;
		/*
		 * A zombie (or dead) thread has exited: sched_process_exit
		 * made the model forget it, and nothing will say when it
		 * is reaped.  It runs no code and holds no transition.
		 */
		if (st == 'Z' || st == 'X' || st == 'x')
			continue;
		/*
		 * Nor one that is exiting: do_exit() sets PF_EXITING
		 * before its sched_process_exit, which the model may have
		 * applied already, and the task may still sleep in
		 * exit_files() (D) before it becomes a zombie.  A check
		 * that meets it meanwhile names it again.
		 */
		if (flags & PF_EXITING)
			continue;
		strip_wq_desc(comm, flags);
		t = vec_push(v);
		if (!t) {
			closedir(d);
			return -ENOMEM;
		}
		t->tid = (int)tid;
		t->tgid = (int)tgid;
		t->state = (int)state;
		t->kthread = flags & PF_KTHREAD;
		t->has_start = has_start;
		t->start = start;
		strcpy(t->comm, comm);
	}
	closedir(d);
	return 0;
}

static int take_tasks(const char *root, bool states, struct vec *v)
{
	struct dirent *de;
	bool probe = true;
	DIR *d;
	int err = open_dir(root, "/proc", &d);

	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	while ((de = readdir(d))) {
		if (!all_digits(de->d_name))
			continue;
		err = take_threads(dirfd(d), de->d_name, states, &probe, v);
		if (err)
			break;
	}
	closedir(d);
	return err;
}

/*
 * A truth made of the three vectors, sorted for bsearch.  NULL on
 * ENOMEM, with the vectors still the caller's to free.
 */
static struct klpt_truth *truth_from(struct vec *pv, struct vec *mv,
				     struct vec *tv)
{
	struct klpt_truth *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->patches = pv->data;
	t->npatches = pv->n;
	t->modules = mv->data;
	t->nmodules = mv->n;
	t->tasks = tv->data;
	t->ntasks = tv->n;
	t->npossible = -1;
	if (t->npatches)
		qsort(t->patches, (size_t)t->npatches, sizeof(*t->patches),
		      cmp_patch);
	if (t->nmodules)
		qsort(t->modules, (size_t)t->nmodules, sizeof(*t->modules),
		      cmp_module);
	if (t->ntasks)
		qsort(t->tasks, (size_t)t->ntasks, sizeof(*t->tasks), cmp_task);
	return t;
}

#define CPU_MAX		65535	/* as live.c: "cpu65535" at most */
#define CPUS_MAX	8192	/* NR_CPUS of Debian's kernels */

int klpt_cpulist_parse(const char *list, int **out)
{
	const char *p = list;
	int *cpus = NULL, n = 0, cap = 0;
	long lo, hi, c;
	char *end;

	*out = NULL;
	while (*p && *p != '\n') {
		if (!isdigit((unsigned char)*p))
			goto bad;
		errno = 0;
		lo = strtol(p, &end, 10);
		hi = lo;
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				goto bad;
			hi = strtol(end + 1, &end, 10);
		}
		if (errno || lo > hi || hi > CPU_MAX ||
		    (n && lo <= cpus[n - 1]) || hi - lo >= CPUS_MAX - n)
			goto bad;
		for (c = lo; c <= hi; c++) {
			if (n == cap) {
				int *nc;

				cap = cap ? cap * 2 : 64;
				nc = realloc(cpus, (size_t)cap * sizeof(*nc));
				if (!nc) {
					free(cpus);
					return -ENOMEM;
				}
				cpus = nc;
			}
			cpus[n++] = (int)c;
		}
		p = end;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			goto bad;
	}
	if (*p == '\n' && p[1])
		goto bad;
	*out = cpus;
	return n;
bad:
	free(cpus);
	return -EINVAL;
}

/*
 * The possible CPUs under root.  A missing or unreadable file leaves
 * them unknown (a fake root, a container without /sys/devices): not an
 * error, the idle tasks are then learned from their events only.
 */
static int take_possible(const char *root, struct klpt_truth *t)
{
	char path[PATH_MAX], buf[4096];
	int n;

	t->npossible = -1;
	if (snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/possible",
		     root) >= (int)sizeof(path))
		return 0;
	n = read_at(AT_FDCWD, path, buf, sizeof(buf));
	if (n <= 0)
		return n == -ENOMEM ? n : 0;
	n = klpt_cpulist_parse(buf, &t->possible);
	if (n == -ENOMEM)
		return n;
	t->npossible = n < 0 ? -1 : n;
	return 0;
}

/* Some patch of v is in transition. */
static bool in_transition(const struct vec *v)
{
	const struct klpt_truth_patch *p = v->data;
	int i;

	for (i = 0; i < v->n; i++)
		if (p[i].transition)
			return true;
	return false;
}

/*
 * No patch in transition, before the task walk and after it (read
 * again): then every task's patch_state was KLP_UNDEFINED throughout,
 * and the walk need not read it.  In 6.1 a task's state is other than
 * KLP_UNDEFINED only from klp_init_transition(), which sets
 * klp_transition_patch (what `transition` shows) before it sets any
 * task's, to the end of klp_complete_transition(), which resets every
 * task's before it clears klp_transition_patch; a fork copies its
 * parent's.  A transition that began and ended during the walk left
 * every state undefined again, and its events, which come after the
 * snapshot's time, tell the rest.  Half the files of a walk, which
 * reads stat for every thread anyway.
 */
static int take_states_if(const char *root, const struct vec *pv,
			  struct vec *tv)
{
	struct vec again = { .elem = sizeof(struct klpt_truth_patch) };
	bool states = in_transition(pv);
	int err = take_tasks(root, states, tv);

	if (err || states)
		return err;
	err = take_patches(root, &again);
	states = err || in_transition(&again);
	free(again.data);
	if (!states)
		return 0;
	/* one began meanwhile: the walk again, with the states */
	tv->n = 0;
	return take_tasks(root, true, tv);
}

int klpt_truth_take(const char *root, struct klpt_truth **out)
{
	struct vec pv = { .elem = sizeof(struct klpt_truth_patch) };
	struct vec mv = { .elem = sizeof(struct klpt_truth_module) };
	struct vec tv = { .elem = sizeof(struct klpt_truth_task) };
	struct klpt_truth *t;
	int err, i;

	if (!out)
		return klpt_err(EINVAL);
	*out = NULL;
	if (!root)
		root = "";
	err = take_patches(root, &pv);
	if (!err)
		err = take_modules(root, &mv);
	if (!err)
		err = take_states_if(root, &pv, &tv);
	t = err ? NULL : truth_from(&pv, &mv, &tv);
	if (!t) {
		free(pv.data);
		free(mv.data);
		free(tv.data);
		return klpt_err(err ? -err : ENOMEM);
	}
	err = take_possible(root, t);
	if (err) {
		klpt_truth_free(t);
		return klpt_err(-err);
	}
	/* In 6.1 a patch directory is named after its module. */
	for (i = 0; i < t->nmodules; i++) {
		struct klpt_truth_patch key;

		strcpy(key.name, t->modules[i].name);
		if (t->npatches &&
		    bsearch(&key, t->patches, (size_t)t->npatches,
			    sizeof(key), cmp_patch))
			t->modules[i].livepatch = true;
	}
	*out = t;
	return 0;
}

/*
 * The fallback's cheap round (fbscan.c): the patches, as
 * klpt_truth_take() reads them, and the patch_state of the listed tasks
 * only, at <root>/proc/<tgid>/task/<tid>/patch_state (the tid stands for
 * an unknown tgid: procfs finds any thread's directory by its tid, and
 * its task/ entry lists the thread itself).  Nothing else: no stat, no
 * modules, no CPUs.  A task whose file cannot be read (gone, or not
 * where the model thinks) is in the result with the state
 * KLPT_STATE_UNKNOWN: the model cannot say what it is now.  The tasks
 * keep the list's order; comm and start are not read.
 */
int klpt_truth_take_tasks(const char *root, const struct klpt_tid *ids,
			  int n, struct klpt_truth **out)
{
	struct vec pv = { .elem = sizeof(struct klpt_truth_patch) };
	struct vec tv = { .elem = sizeof(struct klpt_truth_task) };
	struct klpt_truth *t = NULL;
	char path[PATH_MAX];
	int procfd = -1, err, i;

	if (!out || n < 0 || (n && !ids))
		return klpt_err(EINVAL);
	*out = NULL;
	if (!root)
		root = "";
	err = take_patches(root, &pv);
	if (!err && n) {
		if (snprintf(path, sizeof(path), "%s/proc", root) >=
		    (int)sizeof(path))
			err = -ENAMETOOLONG;
		else if ((procfd = open(path, O_RDONLY | O_DIRECTORY |
					O_CLOEXEC)) < 0)
			err = -errno;
	}
	for (i = 0; !err && i < n; i++) {
		struct klpt_truth_task *k = vec_push(&tv);
		long state;
		int e;

		if (!k) {
			err = -ENOMEM;
			break;
		}
		k->tid = ids[i].tid;
		k->tgid = ids[i].tgid;
		snprintf(path, sizeof(path), "%d/task/%d/patch_state",
			 ids[i].tgid > 0 ? ids[i].tgid : ids[i].tid,
			 ids[i].tid);
		if (read_long_at(procfd, path, -1, 1, &state, &e))
			k->state = (int)state;
		else if (fatal(e))
			err = -e;
		else
			k->state = KLPT_STATE_UNKNOWN;
	}
	if (procfd >= 0)
		close(procfd);
	if (!err) {
		t = calloc(1, sizeof(*t));
		if (!t)
			err = -ENOMEM;
	}
	if (err) {
		free(pv.data);
		free(tv.data);
		return klpt_err(-err);
	}
	t->patches = pv.data;
	t->npatches = pv.n;
	if (t->npatches)
		qsort(t->patches, (size_t)t->npatches, sizeof(*t->patches),
		      cmp_patch);
	t->tasks = tv.data;
	t->ntasks = tv.n;
	t->npossible = -1;
	t->partial = true;
	*out = t;
	return 0;
}

/*
 * <root>/sys/module/<name>/refcnt into *refcnt: 0, or -ENOENT (the
 * module is gone), another negative errno, -EBADMSG if not a count.
 */
int klpt_truth_refcnt(const char *root, const char *name, int *refcnt)
{
	char path[PATH_MAX];
	long rc;
	int err;

	if (snprintf(path, sizeof(path), "%s/sys/module/%s/refcnt",
		     root ? root : "", name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (!read_long_at(AT_FDCWD, path, -1, INT_MAX, &rc, &err))
		return err ? -err : -EBADMSG;
	*refcnt = (int)rc;
	return 0;
}

/* ---------------------------------------------------------- save/load */

/* Write s with bytes outside printable ASCII, ' ' and '%' as %XX. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c >= 0x7f || c == '%')
			fprintf(f, "%%%02X", c);
		else
			fputc(c, f);
	}
}

int klpt_truth_save(const struct klpt_truth *t, FILE *f)
{
	int i;

	if (!t || !f)
		return klpt_err(EINVAL);
	fprintf(f, "%s %d\nts %llu\n", TRUTH_MAGIC, TRUTH_VERSION,
		(unsigned long long)t->ts);
	for (i = 0; i < t->npatches; i++) {
		const struct klpt_truth_patch *p = &t->patches[i];

		fprintf(f, "patch %d %d ", p->enabled, p->transition);
		put_escaped(f, p->name);
		fputc('\n', f);
	}
	for (i = 0; i < t->nmodules; i++) {
		const struct klpt_truth_module *m = &t->modules[i];

		fprintf(f, "module %d %d ", m->refcnt, m->livepatch);
		put_escaped(f, m->name);
		fputc('\n', f);
	}
	for (i = 0; i < t->ntasks; i++) {
		const struct klpt_truth_task *k = &t->tasks[i];

		fprintf(f, "task %d %d %d %d ", k->tid, k->tgid, k->state,
			k->kthread);
		if (k->has_start)
			fprintf(f, "%llu ", k->start);
		put_escaped(f, k->comm);
		fputc('\n', f);
	}
	/* ranges, as the kernel writes them: "0-3,6" */
	for (i = 0; i < t->npossible; i++) {
		int j = i;

		while (j + 1 < t->npossible &&
		       t->possible[j + 1] == t->possible[j] + 1)
			j++;
		fprintf(f, "%s%d", i ? "," : "cpus ", t->possible[i]);
		if (j > i)
			fprintf(f, "-%d", t->possible[j]);
		i = j;
	}
	if (t->npossible > 0)
		fputc('\n', f);
	fputs("end\n", f);
	if (fflush(f) || ferror(f))
		return klpt_err(EIO);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Undo put_escaped() into out (size bytes); false if malformed/long. */
static bool get_escaped(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s; s++) {
		int c = (unsigned char)*s;

		if (c == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);

			if (lo < 0)
				return false;
			c = hi << 4 | lo;
			s += 2;
		}
		if (c == 0 || n + 1 >= size)
			return false;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return true;
}

/*
 * Split line (modified in place) at single spaces into exactly n tokens.
 * Empty tokens (double spaces) are malformed.
 */
static bool split(char *line, char **tok, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		tok[i] = line;
		line = strchr(line, ' ');
		if (i < n - 1) {
			if (!line)
				return false;
			*line++ = '\0';
		} else if (line) {
			return false;	/* more tokens than expected */
		}
		if (!*tok[i])
			return false;
	}
	return true;
}

static bool num(const char *s, long min, long max, long *out)
{
	/* tokens are bare: no spaces, no '+' or leading zeros games */
	if (!*s || isspace((unsigned char)*s) || *s == '+')
		return false;
	return parse_long(s, min, max, out);
}

static int count_char(const char *s, char c)
{
	int n = 0;

	while ((s = strchr(s, c))) {
		s++;
		n++;
	}
	return n;
}

/* A start time: decimal clock ticks (long may be 32-bit: not num()). */
static bool ticks(const char *s, unsigned long long *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end;
}

static int parse_record(char *line, struct vec *pv, struct vec *mv,
			struct vec *tv)
{
	char *tok[7];
	long a, b, c, d;

	if (!strncmp(line, "patch ", 6)) {
		struct klpt_truth_patch *p;

		if (!split(line, tok, 4) || !num(tok[1], 0, 1, &a) ||
		    !num(tok[2], 0, 1, &b))
			return -EBADMSG;
		p = vec_push(pv);
		if (!p)
			return -ENOMEM;
		p->enabled = (int)a;
		p->transition = (int)b;
		return get_escaped(tok[3], p->name, sizeof(p->name)) ?
			0 : -EBADMSG;
	}
	if (!strncmp(line, "module ", 7)) {
		struct klpt_truth_module *m;

		if (!split(line, tok, 4) || !num(tok[1], -1, INT_MAX, &a) ||
		    !num(tok[2], 0, 1, &b))
			return -EBADMSG;
		m = vec_push(mv);
		if (!m)
			return -ENOMEM;
		m->refcnt = (int)a;
		m->livepatch = b;
		return get_escaped(tok[3], m->name, sizeof(m->name)) ?
			0 : -EBADMSG;
	}
	if (!strncmp(line, "task ", 5)) {
		struct klpt_truth_task *t;
		/* 6 tokens, or 7 with the start time before the comm */
		int ntok = count_char(line, ' ') == 6 ? 7 : 6;
		unsigned long long start = 0;

		if (!split(line, tok, ntok) || !num(tok[1], 1, INT_MAX, &a) ||
		    !num(tok[2], 1, INT_MAX, &b) || !num(tok[3], -1, 1, &c) ||
		    !num(tok[4], 0, 1, &d) ||
		    (ntok == 7 && !ticks(tok[5], &start)))
			return -EBADMSG;
		t = vec_push(tv);
		if (!t)
			return -ENOMEM;
		t->tid = (int)a;
		t->tgid = (int)b;
		t->state = (int)c;
		t->kthread = d;
		t->has_start = ntok == 7;
		t->start = start;
		return get_escaped(tok[ntok - 1], t->comm, sizeof(t->comm)) ?
			0 : -EBADMSG;
	}
	return -EBADMSG;
}

/*
 * Read one line into buf without its newline.  Returns 1 for a line, 0
 * at EOF, -EBADMSG for an over-long line or a missing final newline, or
 * a NUL inside it.
 */
static int get_line(FILE *f, char *buf, size_t size)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF) {
		if (c == '\n') {
			buf[n] = '\0';
			return 1;
		}
		if (c == '\0' || n + 1 >= size)
			return -EBADMSG;
		buf[n++] = (char)c;
	}
	if (ferror(f))
		return -EIO;
	return n ? -EBADMSG : 0;
}

static bool dup_names(const void *base, int n, size_t elem,
		      int (*cmp)(const void *, const void *))
{
	int i;

	for (i = 1; i < n; i++)
		if (!cmp((const char *)base + (size_t)(i - 1) * elem,
			 (const char *)base + (size_t)i * elem))
			return true;
	return false;
}

int klpt_truth_load(FILE *f, struct klpt_truth **out)
{
	struct vec pv = { .elem = sizeof(struct klpt_truth_patch) };
	struct vec mv = { .elem = sizeof(struct klpt_truth_module) };
	struct vec tv = { .elem = sizeof(struct klpt_truth_task) };
	char line[TRUTH_LINE_MAX], *tok[2];
	struct klpt_truth *t = NULL;
	unsigned long long ts;
	int *possible = NULL, npossible = -1;
	bool ended = false;
	long version;
	char *end;
	int r;

	if (!f || !out)
		return klpt_err(EINVAL);
	*out = NULL;

	r = get_line(f, line, sizeof(line));
	if (r <= 0 || !split(line, tok, 2) || strcmp(tok[0], TRUTH_MAGIC) ||
	    !num(tok[1], 1, INT_MAX, &version) || version != TRUTH_VERSION)
		goto bad;
	r = get_line(f, line, sizeof(line));
	if (r <= 0 || strncmp(line, "ts ", 3) || !isdigit((unsigned char)line[3]))
		goto bad;
	errno = 0;
	ts = strtoull(line + 3, &end, 10);
	if (errno || *end)
		goto bad;

	while ((r = get_line(f, line, sizeof(line))) > 0) {
		if (ended)
			goto bad;	/* anything after "end" */
		if (!strcmp(line, "end")) {
			ended = true;
			continue;
		}
		if (!strncmp(line, "cpus ", 5)) {
			/* once, and a list of at least one CPU */
			if (possible) {
				r = -EBADMSG;
				goto bad;
			}
			r = klpt_cpulist_parse(line + 5, &possible);
			if (r == -ENOMEM)
				goto fail;
			if (r <= 0) {
				r = -EBADMSG;
				goto bad;
			}
			npossible = r;
			continue;
		}
		r = parse_record(line, &pv, &mv, &tv);
		if (r == -ENOMEM)
			goto fail;
		if (r)
			goto bad;
	}
	if (r < 0 || !ended)
		goto bad;

	t = truth_from(&pv, &mv, &tv);
	if (!t) {
		r = -ENOMEM;
		goto fail;
	}
	t->ts = ts;
	t->possible = possible;
	t->npossible = possible ? npossible : -1;
	/* duplicates would make the reconcile ambiguous */
	if (dup_names(t->patches, t->npatches, sizeof(*t->patches),
		      cmp_patch) ||
	    dup_names(t->modules, t->nmodules, sizeof(*t->modules),
		      cmp_module) ||
	    dup_names(t->tasks, t->ntasks, sizeof(*t->tasks), cmp_task)) {
		klpt_truth_free(t);
		return klpt_err(EBADMSG);
	}
	*out = t;
	return 0;
bad:
	r = r == -EIO ? -EIO : -EBADMSG;
fail:
	free(possible);
	free(pv.data);
	free(mv.data);
	free(tv.data);
	return klpt_err(-r);
}
