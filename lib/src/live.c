// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * live.c: a live source of pages.  It owns the session's tracefs
 * instance "klptrace-<pidns>-<pid>" and reads that instance's per-CPU
 * ring buffers (trace_pipe_raw) without blocking.
 *
 * Why an instance of our own: the top-level buffer belongs to the admin
 * (and to trace-cmd, perf, ...); an instance has its own buffers, event
 * enables and clock, and vanishes with rmdir.  Its name, its owner's
 * lock and the removal of instances left behind by a crash: instance.c.
 *
 * Why these settings:
 * - buffer_percent 0: trace_pipe_raw's poll in 6.1 waits until the
 *   buffer is buffer_percent full (default 50); 0 wakes us on the first
 *   event, which keeps event-to-callback latency at the scheduler's.
 * - trace_clock mono: CLOCK_MONOTONIC, readable from user space, so the
 *   session can place a ground-truth snapshot exactly between events
 *   (session.c), and one clock for every CPU, so merging by timestamp is
 *   exact.
 *
 * Wake-ups: every CPU's trace_pipe_raw is in one epoll set, whose fd the
 * session nests in its own.  A fake tracefs (tests) has plain files that
 * epoll refuses (EPERM); such CPUs are read on every fill, and an eventfd
 * in the set is kept readable from open until the first fill has read
 * them.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <tracefs.h>

#include "internal.h"

/* Pages read from one CPU per fill: bounds a fill under an event storm. */
#define LIVE_MAX_PAGES_PER_FILL 64

struct live_cpu {
	int cpu;
	int fd;			/* per_cpu/cpuN/trace_pipe_raw, O_NONBLOCK */
	struct tracefs_cpu *tcpu;
	bool plain;		/* a regular file: epoll cannot watch it */
	bool gone;		/* the kernel has no buffer for it (ENODEV) */
};

struct live {
	struct klpt_source src;		/* first: the session sees only this */
	struct tracefs_instance *inst;
	struct klpt_inst_owner owner;	/* its name and our lock */
	struct live_cpu *cpus;
	int ncpu;			/* entries in cpus */
	int epfd;
	int kick;			/* eventfd for plain files, or -1 */
	void *page;
	int page_size;
	char *root;			/* opts->root: prefix of /sys, /proc */
};

/*
 * One live session per process: the instance is named after the process
 * (a second one would share, and on close destroy, the first one's), and
 * libtracefs' tracing directory is a process-wide setting.
 */
static bool live_in_use;

/* EACCES and EPERM both mean "not root" here: report one of them. */
static int perm_err(int err)
{
	return err == EACCES ? -EPERM : -err;
}

static int join(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s/%s", a, b);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int is_dir(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* A whole small file, NUL-terminated (malloc'd), or NULL with errno. */
static char *slurp(const char *path, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		if (!buf || n + 1 >= cap) {
			cap = buf ? cap * 2 : cap;
			nb = cap > (1u << 20) ? NULL : realloc(buf, cap);
			if (!nb) {
				free(buf);
				close(fd);
				errno = cap > (1u << 20) ? EFBIG : ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Parse every events/<sys>/<ev>/format; the number parsed. */
static int parse_system(struct tep_handle *tep, const char *tracing_dir,
			const char *sys)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	int parsed = 0;
	size_t len;
	char *buf;
	DIR *d;

	if (snprintf(dir, sizeof(dir), "%s/events/%s", tracing_dir, sys) >=
	    (int)sizeof(dir))
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    snprintf(path, sizeof(path), "%s/%s/format", dir,
			     de->d_name) >= (int)sizeof(path))
			continue;
		buf = slurp(path, &len);
		if (!buf)
			continue;	/* "enable", "filter": not events */
		/* A print fmt it cannot parse still registers the fields. */
		if (!tep_parse_event(tep, buf, len, sys) ||
		    tep_find_event_by_name(tep, sys, de->d_name))
			parsed++;
		free(buf);
	}
	closedir(d);
	return parsed;
}

/*
 * Parse one events/<sys>/<ev>/format; true if tep has the event then.
 * A format the kernel lacks is not an error (the decoder skips it).
 */
static bool parse_event(struct tep_handle *tep, const char *tracing_dir,
			const char *sys, const char *ev)
{
	char path[PATH_MAX];
	size_t len;
	char *buf;

	if (snprintf(path, sizeof(path), "%s/events/%s/%s/format",
		     tracing_dir, sys, ev) >= (int)sizeof(path))
		return false;
	buf = slurp(path, &len);
	if (!buf)
		return false;
	tep_parse_event(tep, buf, len, sys);
	free(buf);
	return tep_find_event_by_name(tep, sys, ev) != NULL;
}

/*
 * The formats of our systems, parsed here rather than with
 * tracefs_local_events_system(), which also reads the running system's
 * /proc/kallsyms (a tenth of a second, and not ours to read when
 * tracefs is a test's fake).  The traced kernel is the one we run on:
 * our long size and byte order.
 */
static int load_formats(const char *tracing_dir, bool klp,
			struct tep_handle **out)
{
	enum tep_endian endian = tep_is_bigendian() ? TEP_BIG_ENDIAN :
				 TEP_LITTLE_ENDIAN;
	char path[PATH_MAX];
	struct tep_handle *tep;
	size_t len;
	char *buf;
	int ret;

	if (join(path, sizeof(path), tracing_dir, "events/header_page"))
		return -ENAMETOOLONG;
	buf = slurp(path, &len);
	if (!buf)
		return errno == ENOENT ? -ENODEV : perm_err(errno);
	tep = tep_alloc();
	if (!tep) {
		free(buf);
		return -ENOMEM;
	}
	tep_set_file_bigendian(tep, endian);
	tep_set_local_bigendian(tep, endian);
	tep_set_long_size(tep, sizeof(long));
	tep_set_page_size(tep, getpagesize());
	ret = tep_parse_header_page(tep, buf, len, sizeof(long));
	free(buf);
	if (ret || !parse_system(tep, tracing_dir, "module") ||
	    (klp && !parse_system(tep, tracing_dir, "klp"))) {
		tep_free(tep);
		return -EBADMSG;
	}
	/* optional: without it exited tasks stay until a resync */
	parse_event(tep, tracing_dir, "sched", "sched_process_exit");
	/* optional: without it new tasks wait for a resync (fallback) */
	parse_event(tep, tracing_dir, "task", "task_newtask");
	/* optional: without it a task keeps the comm it was first seen with */
	parse_event(tep, tracing_dir, "task", "task_rename");
	/* optional: without it a non-leader exec leaves the model wrong */
	parse_event(tep, tracing_dir, "sched", "sched_process_exec");
	*out = tep;
	return 0;
}

/* Write an instance control file; -errno on failure. */
static int inst_write(struct tracefs_instance *inst, const char *file,
		      const char *val)
{
	errno = 0;
	if (tracefs_instance_file_write(inst, file, val) < 0)
		return perm_err(errno ? errno : EIO);
	return 0;
}

static int configure(struct live *l, const struct klpt_session_opts *o)
{
	char kb[32];
	int ret;

	/*
	 * An instance of our name that already existed was left by a dead
	 * process that had our pid in our PID namespace (no two live ones
	 * have both): reuse it, but drop its events and data.
	 */
	if (!tracefs_instance_is_new(l->inst)) {
		tracefs_event_disable(l->inst, NULL, NULL);
		tracefs_instance_file_clear(l->inst, "trace");
	}
	snprintf(kb, sizeof(kb), "%u", o->buffer_kb);
	ret = inst_write(l->inst, "buffer_size_kb", kb);
	if (!ret)
		ret = inst_write(l->inst, "buffer_percent", "0");
	if (!ret)
		ret = inst_write(l->inst, "trace_clock", "mono");
	if (!ret)
		ret = inst_write(l->inst, "tracing_on", "1");
	return ret;
}

/*
 * Is cpu in the kernel's list of online CPUs ("0-3,6")?  true if the
 * list cannot be read (a fake root without it: every per_cpu entry).
 */
static bool cpu_online(const char *list, long cpu)
{
	const char *p = list;

	if (!list)
		return true;
	while (*p) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (end == p)
			return true;	/* unparsable: do not filter */
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		if (cpu >= lo && cpu <= hi)
			return true;
		p = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
	return false;
}

static char *read_online(const char *root)
{
	char path[PATH_MAX], buf[4096];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/online",
		     root) >= (int)sizeof(path))
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/*
 * Open the per-CPU pipes of the instance's online CPUs.  The kernel
 * makes a per_cpu directory for every possible CPU, but a CPU that was
 * never online has no buffer: its pipe fails reads with ENODEV and, in
 * 6.1, reports an error mask to poll that epoll would return forever.
 * (A CPU brought online later is not read: hotplug during a session
 * loses its events.)
 */
static int open_cpus(struct live *l, const char *root)
{
	char *idir = tracefs_instance_get_dir(l->inst);
	char *online = read_online(root);
	char dir[PATH_MAX], path[PATH_MAX];
	struct epoll_event ev = { .events = EPOLLIN };
	struct dirent *de;
	bool plain = false;
	int ret = 0;
	DIR *d;

	if (!idir) {
		free(online);
		return -ENOMEM;
	}
	ret = join(dir, sizeof(dir), idir, "per_cpu");
	free(idir);
	d = ret ? NULL : opendir(dir);
	if (!d) {
		free(online);
		return ret ? ret : perm_err(errno);
	}
	while ((de = readdir(d))) {
		struct live_cpu *c;
		char *end;
		long cpu;

		if (strncmp(de->d_name, "cpu", 3))
			continue;
		cpu = strtol(de->d_name + 3, &end, 10);
		if (*end || end == de->d_name + 3 || cpu < 0 || cpu > 65535 ||
		    !cpu_online(online, cpu))
			continue;
		c = realloc(l->cpus, (size_t)(l->ncpu + 1) * sizeof(*c));
		if (!c) {
			ret = -ENOMEM;
			break;
		}
		l->cpus = c;
		c += l->ncpu;
		c->cpu = (int)cpu;
		c->tcpu = NULL;
		c->plain = c->gone = false;
		/* cpuN is at most "cpu65535": the path fits if dir does */
		if (snprintf(path, sizeof(path), "%s/cpu%ld/trace_pipe_raw",
			     dir, cpu) >= (int)sizeof(path)) {
			ret = -ENAMETOOLONG;
			break;
		}
		c->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (c->fd < 0) {
			ret = perm_err(errno);
			break;
		}
		l->ncpu++;
		c->tcpu = tracefs_cpu_alloc_fd(c->fd, l->page_size, true);
		if (!c->tcpu) {
			ret = -ENOMEM;
			break;
		}
		ev.data.u32 = (uint32_t)cpu;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
			if (errno != EPERM) {
				ret = -errno;
				break;
			}
			c->plain = plain = true;
		}
		if (c->cpu >= l->src.ncpus)
			l->src.ncpus = c->cpu + 1;
	}
	closedir(d);
	free(online);
	if (ret)
		return ret;
	if (!l->ncpu)
		return -ENODEV;
	if (plain) {
		l->kick = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
		if (l->kick < 0)
			return -errno;
		ev.data.u32 = UINT32_MAX;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->kick, &ev))
			return -errno;
	}
	return 0;
}

/*
 * klp:* when klptrace.ko's events are used; module:module_load always
 * (the model learns new patch modules from it); module_free, module_get
 * and module_put only in the fallback, where they stand in for
 * klp_module_free and klp_module_ref: they fire for every module, so
 * they are left off when the klp events give the same for livepatch
 * modules alone.  sched:sched_process_exit always: it fires once for
 * every exiting thread (do_exit()), and no klp event says that a task
 * is gone.  A module or sched event the kernel lacks is not fatal.
 */
static const char *const fallback_events[] = {
	"module_free", "module_get", "module_put",
};

/*
 * task:task_newtask stands in for klp_task_new (every task created) in
 * the fallback, and with a klptrace.ko that lacks it; otherwise it is
 * left off, the klp event carrying the same and the kthread flag.
 */
static void newtask_enable(struct live *l, bool on)
{
	if (!on && !tep_find_event_by_name(l->src.tep, "klp", "klp_task_new"))
		on = true;
	if (on)
		tracefs_event_enable(l->inst, "task", "task_newtask");
	else
		tracefs_event_disable(l->inst, "task", "task_newtask");
}

static int enable_events(struct live *l)
{
	size_t i;

	if (l->src.mode == KLPT_MODE_EVENTS) {
		errno = 0;
		if (tracefs_event_enable(l->inst, "klp", NULL))
			return perm_err(errno ? errno : ENOENT);
	}
	tracefs_event_enable(l->inst, "module", "module_load");
	tracefs_event_enable(l->inst, "sched", "sched_process_exit");
	/* a thread that execs takes its leader's pid (de_thread()) */
	tracefs_event_enable(l->inst, "sched", "sched_process_exec");
	/* a new task has its creator's comm until exec or kthreadd names it */
	tracefs_event_enable(l->inst, "task", "task_rename");
	newtask_enable(l, l->src.mode == KLPT_MODE_FALLBACK);
	if (l->src.mode == KLPT_MODE_FALLBACK)
		for (i = 0; i < sizeof(fallback_events) /
			    sizeof(fallback_events[0]); i++)
			tracefs_event_enable(l->inst, "module",
					     fallback_events[i]);
	return 0;
}

/*
 * klptrace.ko's hooks do not fire (or fire again): the module events
 * stand in for the klp ones meanwhile, as in the fallback.  The klp
 * events stay enabled: those of tracepoint hooks still come, and the
 * decoder ignores the ones the fallback replaces.
 */
static void live_degrade(struct klpt_source *src, bool on)
{
	struct live *l = (struct live *)src;
	size_t i;

	src->mode = on ? KLPT_MODE_FALLBACK : KLPT_MODE_EVENTS;
	newtask_enable(l, on);
	for (i = 0; i < sizeof(fallback_events) / sizeof(fallback_events[0]);
	     i++) {
		if (on)
			tracefs_event_enable(l->inst, "module",
					     fallback_events[i]);
		else
			tracefs_event_disable(l->inst, "module",
					      fallback_events[i]);
	}
}

/*
 * "<root>/proc/sys/kernel/ftrace_enabled" reads 0: ftrace calls are off,
 * and with them klptrace.ko's kprobes (KPROBES_ON_FTRACE).
 */
static bool ftrace_sysctl_off(const char *root)
{
	char path[PATH_MAX];
	size_t len;
	char *buf;
	bool off;

	if (snprintf(path, sizeof(path), "%s/proc/sys/kernel/ftrace_enabled",
		     root) >= (int)sizeof(path))
		return false;
	buf = slurp(path, &len);
	if (!buf)
		return false;
	off = buf[0] == '0';
	free(buf);
	return off;
}

/*
 * klptrace.ko's lines are short ("name kind status feeds", "name
 * count"): a longer one is not its own, and is skipped.
 */
#define KLPT_LINE_MAX 128

/*
 * The count of a "name count" line, or of a line of one number: a
 * decimal of digits only (strtoull() would take "-7" as 2^64 - 7 and
 * saturate an overflow), at most KLPT_COUNT_MAX.  false for anything
 * else.
 */
static bool line_count(const char *line, uint64_t *count)
{
	const char *p = line, *num;
	unsigned long long n;
	char *end;

	if (strlen(line) > KLPT_LINE_MAX)
		return false;
	while (isspace((unsigned char)*p))
		p++;
	num = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	while (isspace((unsigned char)*p))
		p++;
	if (*p)
		num = p;	/* "name count": the second field */
	if (!isdigit((unsigned char)*num))
		return false;
	errno = 0;
	n = strtoull(num, &end, 10);
	if (errno == ERANGE || n > KLPT_COUNT_MAX)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return false;
	*count = n;
	return true;
}

/*
 * The sum of the counts of "name count" lines, saturated at
 * KLPT_COUNT_MAX; UINT64_MAX if the file cannot be read.
 */
static uint64_t sum_counts(const char *root, const char *file)
{
	char path[PATH_MAX], *buf, *line, *save = NULL;
	uint64_t sum = 0, n;
	size_t len;

	if (snprintf(path, sizeof(path), "%s/sys/kernel/klptrace/%s", root,
		     file) >= (int)sizeof(path))
		return UINT64_MAX;
	buf = slurp(path, &len);
	if (!buf)
		return UINT64_MAX;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line_count(line, &n))
			sum = n > KLPT_COUNT_MAX - sum ? KLPT_COUNT_MAX : sum + n;
	}
	free(buf);
	return sum;
}

/*
 * klptrace.ko's report (tracepoints/README.md, "Hooks and degraded
 * modes"): hooks lines are "name kind status feeds", where status
 * "inactive(...)" is a hook that is registered but does not fire now.
 * A module that cannot tell whether ftrace is on (no "ftrace_enabled
 * symbol active" line: the symbol was not found, or an older module)
 * is helped by the sysctl itself.  missed lines are "probe count";
 * ftrace_switches counts the sysctl's switches, used only while the
 * hook that counts them is active.
 */
static int live_hooks(struct klpt_source *src, struct klpt_hooks_state *st)
{
	struct live *l = (struct live *)src;
	char path[PATH_MAX], *buf, *line, *save = NULL;
	bool knows_ftrace = false, counts_switches = false;
	int nlines = 0, err;
	size_t len;

	st->off = false;
	st->missed = st->switches = UINT64_MAX;
	if (snprintf(path, sizeof(path), "%s/sys/kernel/klptrace/hooks",
		     l->root) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	buf = slurp(path, &len);
	if (!buf) {
		/*
		 * -ENOENT only if klptrace.ko is gone (its directory is):
		 * a file too large, unreadable or odd says nothing about
		 * the module, and the caller keeps what it knew.
		 */
		err = errno;
		*strrchr(path, '/') = '\0';
		if (is_dir(path) == -ENOENT)
			return -ENOENT;
		return err == ENOENT ? -EAGAIN : -err;
	}
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64], kind[16], status[64];

		if (strlen(line) > KLPT_LINE_MAX ||
		    sscanf(line, "%63s %15s %63s", name, kind, status) != 3)
			continue;
		nlines++;
		if (!strcmp(kind, "symbol")) {
			if (!strcmp(name, "ftrace_enabled") &&
			    !strcmp(status, "active"))
				knows_ftrace = true;
		} else if (!strncmp(status, "inactive", 8)) {
			st->off = true;
		} else if (!strcmp(name, "ftrace_enable_sysctl") &&
			   !strcmp(status, "active")) {
			counts_switches = true;
		}
	}
	free(buf);
	/* not one hook line: not klptrace.ko's report, so nothing known */
	if (!nlines)
		return -EBADMSG;
	if (!knows_ftrace && ftrace_sysctl_off(l->root))
		st->off = true;
	st->missed = sum_counts(l->root, "missed");
	if (counts_switches)
		st->switches = sum_counts(l->root, "ftrace_switches");
	return 0;
}

static bool live_klp_gone(struct klpt_source *src)
{
	struct live *l = (struct live *)src;
	char *path;
	bool gone;

	if (src->mode != KLPT_MODE_EVENTS)
		return false;
	path = tracefs_instance_get_file(l->inst, "events/klp");
	if (!path)
		return false;
	gone = is_dir(path) == -ENOENT;
	tracefs_put_tracing_file(path);
	if (gone) {
		src->mode = KLPT_MODE_FALLBACK;
		enable_events(l);
	}
	return gone;
}

/* The ring buffer's page header (pages.c has the reader's side). */
#define RB_MISSED_EVENTS	(1ul << 31)
#define RB_MISSED_STORED	(1ul << 30)
#define RB_COMMIT_MASK		((1ul << 27) - 1)

/*
 * Mark the page about to be recorded (n bytes read into l->page) as
 * preceded by src->rec_lost lost events, the way the kernel marks an
 * overrun: RB_MISSED_EVENTS in the commit word and, when the number is
 * worth telling and fits after the data, RB_MISSED_STORED and the count
 * there (added to the kernel's own, if it stored one).  A page whose
 * loss the kernel left unknown stays unknown.  Returns the length to
 * record (the count may lie past n).
 */
static size_t mark_lost(struct live *l, size_t n)
{
	struct klpt_source *src = &l->src;
	unsigned char *page = l->page;
	const size_t data = 8 + sizeof(unsigned long);
	unsigned long commit, size, total = src->rec_lost;

	if (n < data)
		return n;
	memcpy(&commit, page + 8, sizeof(commit));
	size = commit & RB_COMMIT_MASK;
	if (data + size + sizeof(total) <= (size_t)l->page_size &&
	    (!(commit & RB_MISSED_EVENTS) || (commit & RB_MISSED_STORED)) &&
	    (src->rec_lost_known || total > 1 ||
	     (commit & RB_MISSED_STORED))) {
		unsigned long old = 0;

		if (commit & RB_MISSED_STORED)
			memcpy(&old, page + data + size, sizeof(old));
		total += old;
		if (n < data + size + sizeof(total)) {
			memset(page + n, 0, data + size + sizeof(total) - n);
			n = data + size + sizeof(total);
		}
		memcpy(page + data + size, &total, sizeof(total));
		commit |= RB_MISSED_STORED;
	}
	commit |= RB_MISSED_EVENTS;
	memcpy(page + 8, &commit, sizeof(commit));
	src->rec_lost = 0;
	src->rec_lost_known = false;
	return n;
}

static int live_fill(struct klpt_source *src, struct klpt_merge *m)
{
	struct live *l = (struct live *)src;
	bool plain_more = false;
	int pushed = 0, i, k, n, ret;
	uint64_t drain;
	struct timespec now;

	/*
	 * CPUs are read one after the other: what a CPU read early gets
	 * later may be older than what the others give now.  Records from
	 * the time this fill begins wait for the next fill (pages.c).  The
	 * instance's clock is mono, CLOCK_MONOTONIC.  Plain files (a fake
	 * tracefs) carry made-up times: no horizon there.
	 */
	if (l->kick < 0 && !clock_gettime(CLOCK_MONOTONIC, &now))
		klpt_merge_set_horizon(m, (uint64_t)now.tv_sec * 1000000000u +
				       (uint64_t)now.tv_nsec);

	for (i = 0; i < l->ncpu; i++) {
		struct live_cpu *c = &l->cpus[i];

		for (k = 0; !c->gone && k < LIVE_MAX_PAGES_PER_FILL; k++) {
			n = tracefs_cpu_read(c->tcpu, l->page, true);
			if (n < 0 && errno == ENODEV) {
				/* no buffer for it after all: stop watching */
				epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
				c->gone = true;
				break;
			}
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				return -errno;
			}
			if (n == 0)
				break;
			/* Into the merge first: a page read is gone from
			 * the kernel, a failed recording must not lose it. */
			ret = klpt_merge_push(m, c->cpu, l->page, (size_t)n);
			if (ret < 0)
				return ret;
			pushed++;
			/*
			 * A recording that fails (disk full) stops here, in
			 * whole pages; the session closes it and reports the
			 * error once.  Tracing goes on.
			 */
			if (src->rec) {
				if (src->rec_lost)
					n = (int)mark_lost(l, (size_t)n);
				ret = klpt_recorder_page(src->rec, c->cpu,
							 l->page, (size_t)n);
				if (ret < 0) {
					src->rec = NULL;
					return ret;
				}
			}
		}
		/*
		 * Pages of this CPU left in the kernel may be older than
		 * what the other CPUs gave: the merge stops at its last
		 * page until a fill drains it (pages.c).
		 */
		klpt_merge_set_more(m, c->cpu, k == LIVE_MAX_PAGES_PER_FILL);
		if (c->plain && k == LIVE_MAX_PAGES_PER_FILL)
			plain_more = true;
	}
	/* Plain files were read to their end: nothing to wake up for. */
	if (l->kick >= 0 && !plain_more &&
	    read(l->kick, &drain, sizeof(drain)) < 0 && errno != EAGAIN)
		return -errno;
	return pushed;
}

static int live_fd(struct klpt_source *src)
{
	return ((struct live *)src)->epfd;
}

static void live_close(struct klpt_source *src)
{
	struct live *l = (struct live *)src;
	bool removed = true;	/* none made is none left */
	int i;

	if (!l)
		return;
	if (l->inst) {
		tracefs_event_disable(l->inst, NULL, NULL);
		tracefs_instance_file_write(l->inst, "tracing_on", "0");
	}
	for (i = 0; i < l->ncpu; i++) {
		if (l->cpus[i].tcpu)
			tracefs_cpu_free_fd(l->cpus[i].tcpu);
		close(l->cpus[i].fd);
	}
	free(l->cpus);
	/* After the fds are closed: the kernel refuses while they are open. */
	if (l->inst) {
		removed = !tracefs_instance_destroy(l->inst);
		tracefs_instance_free(l->inst);
	}
	/* After the instance: while it exists, our lock says we are alive. */
	klpt_inst_release(&l->owner, removed);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->kick >= 0)
		close(l->kick);
	tep_free(l->src.tep);
	free(l->page);
	free(l->root);
	free(l);
	live_in_use = false;
}

/*
 * Checks, in the order that gives the most useful error: livepatch
 * first (a kernel without it needs nothing mounted), then tracefs.
 */
static int check_system(const struct klpt_session_opts *o,
			const char **tracing_dir)
{
	char path[PATH_MAX];
	int ret;

	if (snprintf(path, sizeof(path), "%s/sys/kernel/livepatch",
		     o->root) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	ret = is_dir(path);
	if (ret == -ENOENT || ret == -ENOTDIR)
		return -EOPNOTSUPP;
	if (ret)
		return perm_err(-ret);

	if (o->tracefs_dir) {
		/* Before any other tracefs call: it may mount otherwise. */
		if (strlen(o->tracefs_dir) >= sizeof(path))
			return -ENAMETOOLONG;
		strcpy(path, o->tracefs_dir);
		if (tracefs_set_tracing_dir(path))
			return -ENOMEM;
	}
	*tracing_dir = tracefs_tracing_dir();
	if (!*tracing_dir)
		return geteuid() ? -EPERM : -ENODEV;
	ret = join(path, sizeof(path), *tracing_dir, "events");
	if (!ret)
		ret = is_dir(path);
	if (ret == -ENOENT || ret == -ENOTDIR)
		return -ENODEV;
	return ret ? perm_err(-ret) : 0;
}

/*
 * true if <root>/proc/modules lists klptrace: a module is on that list
 * (6.1 add_unformed_module()) before its trace events are added
 * (prepare_coming_module(), MODULE_STATE_COMING) and until after they
 * are gone, where /sys/module/klptrace comes later (mod_sysfs_setup()).
 * An unreadable list (a test's root without procfs) says nothing.
 */
static bool klptrace_listed(struct live *l)
{
	char path[PATH_MAX], *buf;
	bool found;
	size_t len;

	if (join(path, sizeof(path), l->root, "proc/modules"))
		return false;
	buf = slurp(path, &len);
	if (!buf)
		return false;
	/* a line that begins with the name */
	found = !strncmp(buf, "klptrace ", 9) || strstr(buf, "\nklptrace ");
	free(buf);
	return found;
}

/*
 * 1 if the klp events are the kernel's own (kernel/native/): in the
 * events mode with no trace of klptrace.ko: not on the module list
 * (klptrace_listed()), no module directory, no /sys/kernel/klptrace.
 * 0 if not, or a negative errno.
 */
static int native_events(struct live *l)
{
	static const char *const dirs[] = {
		"sys/module/klptrace", "sys/kernel/klptrace",
	};
	char path[PATH_MAX];
	size_t i;
	int ret;

	if (l->src.mode != KLPT_MODE_EVENTS || klptrace_listed(l))
		return 0;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		ret = join(path, sizeof(path), l->root, dirs[i]);
		if (ret)
			return ret;
		ret = is_dir(path);
		if (ret != -ENOENT)
			return ret == 0 || ret == -ENOTDIR ? 0 : perm_err(-ret);
	}
	return 1;
}

int klpt_live_open(const struct klpt_session_opts *opts,
		   struct klpt_source **out)
{
	const char *tracing_dir = NULL;
	char path[PATH_MAX];
	struct live *l;
	int ret;

	if (live_in_use)
		return -EBUSY;
	ret = check_system(opts, &tracing_dir);
	if (ret)
		return ret;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->epfd = -1;
	l->kick = -1;
	l->owner.dirfd = l->owner.lockfd = -1;
	l->src.fill = live_fill;
	l->src.fd = live_fd;
	l->src.klp_gone = live_klp_gone;
	l->src.hooks = live_hooks;
	l->src.degrade = live_degrade;
	l->src.close = live_close;
	live_in_use = true;
	l->root = strdup(opts->root);
	if (!l->root) {
		ret = -ENOMEM;
		goto fail;
	}

	/* The lock before the instance: never one of ours without it. */
	ret = klpt_inst_claim(l->root, &l->owner);
	if (ret)
		goto fail;
	klpt_inst_remove_stale(tracing_dir, &l->owner);
	errno = 0;
	l->inst = tracefs_instance_create(l->owner.name);
	if (!l->inst) {
		ret = perm_err(errno ? errno : ENOMEM);
		goto fail;
	}
	klpt_inst_created(tracing_dir, &l->owner);
	ret = configure(l, opts);
	if (ret)
		goto fail;

	ret = join(path, sizeof(path), tracing_dir, "events/klp");
	if (ret)
		goto fail;
	l->src.mode = !(opts->flags & KLPT_F_FALLBACK) && !is_dir(path) ?
		      KLPT_MODE_EVENTS : KLPT_MODE_FALLBACK;
	ret = native_events(l);
	if (ret < 0)
		goto fail;
	if (ret) {
		l->src.native = true;
		l->src.hooks = NULL;
	}

	ret = load_formats(tracing_dir, l->src.mode == KLPT_MODE_EVENTS,
			   &l->src.tep);
	if (ret)
		goto fail;
	l->page_size = tep_get_sub_buffer_size(l->src.tep);
	if (l->page_size <= 0)
		l->page_size = getpagesize();
	l->page = malloc((size_t)l->page_size);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!l->page || l->epfd < 0) {
		ret = l->page ? -errno : -ENOMEM;
		goto fail;
	}
	ret = open_cpus(l, opts->root);
	if (ret)
		goto fail;
	/* Last: a set-up step that fails leaves nothing traced. */
	ret = enable_events(l);
	if (ret)
		goto fail;
	*out = &l->src;
	return 0;
fail:
	live_close(&l->src);
	return ret;
}
