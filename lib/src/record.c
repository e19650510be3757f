// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Writes a recording: a directory in the tracefs layout, so that
 * libtracefs, trace-cmd restore and replay.c can all read it:
 *
 *   klptrace-recording              header (written last by open, so a
 *                                   half-created directory is refused)
 *   events/header_page, header_event
 *   events/klp/<ev>/format          those of the tracefs we record from
 *   events/module/<ev>/format
 *   events/sched/sched_process_exit/format   (task exits)
 *   events/task/task_newtask/format          (tasks created, fallback)
 *   events/task/task_rename/format           (comm changes)
 *   events/sched/sched_process_exec/format   (a thread takes its leader's pid)
 *   events/ftrace/print/format      (trace-cmd restore wants it)
 *   events/<sys>/enable             "0": tracefs_local_events() takes
 *                                   only directories with one as systems
 *   per_cpu/cpuN/trace_pipe_raw     raw pages as read, each padded to
 *                                   the page size
 *   truth.txt                       the start-up snapshot (truth.c)
 *   truth-end.txt                   a snapshot taken when the recording
 *                                   ends (same format): which tasks
 *                                   born meanwhile are kernel threads
 *
 * The header is text, one "key value" a line, the first line
 * "klptrace-recording VERSION"; replay.c documents the keys (the
 * traced kernel's release, kernel_release, since klptop shows it).
 *
 * klptop records as root, often into a path a user named: nothing in
 * that path may steer where root writes.  So the recording directory is
 * made here (mkdir), or an existing one is taken only when it is empty,
 * owned by the caller and writable by nobody else; it is then held open
 * and every file and directory is created relative to that descriptor,
 * new (O_EXCL: never an existing name, a planted link included) and
 * never through a link (O_NOFOLLOW), all with the same modes.  Nobody
 * else can add a name inside, so the subdirectories made here are ours
 * too.  A failed open empties what it made through the same descriptor
 * (unlinkat), never following a link.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* The Makefile passes the full version; a bare compile still works. */
#ifdef KLPT_VERSION_STRING
#define VERSION KLPT_VERSION_STRING
#else
#define VERSION "unknown"
#endif

/* One mode for every directory and one for every file of a recording. */
#define REC_DIR_MODE	0755
#define REC_FILE_MODE	0644

struct klpt_recorder {
	int dfd;		/* the recording directory, held open */
	int ncpus;
	int *fd;		/* per_cpu/cpuN/trace_pipe_raw */
	size_t page_size;
	int long_size;
	unsigned char *zero;	/* page_size zero bytes for the padding */
	char clock[32];
	char kernel[KLPT_KERNEL_LEN];	/* "" none */
	char *root;		/* klpt_recorder_set_root(), NULL: none */
};

/* dir/rel, or NULL (ENAMETOOLONG/ENOMEM). */
static char *path_join(const char *dir, const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		return NULL;
	return p;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int klpt_open_regular(const char *path)
{
	struct stat st, fst;
	int fd;

	/* lstat first: a FIFO would block open(), a device has effects */
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
		  O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	/* and the file opened is the one looked at (no swap in between) */
	if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) ||
	    fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int klpt_read_file(const char *path, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1), *nb;
	int fd, ret = 0;

	if (!buf)
		return -ENOMEM;
	fd = klpt_open_regular(path);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= max) {
				ret = -EFBIG;
				break;
			}
			nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (!r)
			break;
		n += r;
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

/* A new file of the recording: never an existing name, never a link. */
static int create_at(int dfd, const char *rel)
{
	int fd = openat(dfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			O_CLOEXEC, REC_FILE_MODE);

	return fd < 0 ? -errno : fd;
}

static int put_file_at(int dfd, const char *rel, const char *buf,
		       size_t len)
{
	int fd = create_at(dfd, rel), ret;

	if (fd < 0)
		return fd;
	ret = write_all(fd, buf, len);
	if (close(fd) < 0 && !ret)
		ret = -errno;
	return ret;
}

/* A new directory: an existing name is not one we made. */
static int mkdir_at(int dfd, const char *rel)
{
	return mkdirat(dfd, rel, REC_DIR_MODE) < 0 ? -errno : 0;
}

/* Copy tracefs/rel to rel in the recording.  -ENOENT: no source. */
static int copy_rel(const char *tracefs, int dfd, const char *rel)
{
	char *src = path_join(tracefs, rel), *buf = NULL;
	size_t len;
	int ret = -ENOMEM;

	if (src) {
		ret = klpt_read_file(src, 1u << 20, &buf, &len);
		if (!ret)
			ret = put_file_at(dfd, rel, buf, len);
	}
	free(buf);
	free(src);
	return ret;
}

/* events/SYS/ and its enable: "0" (libtracefs lists such as systems). */
static int make_system(int dfd, const char *sys)
{
	char rel[512];
	int ret;

	snprintf(rel, sizeof(rel), "events/%s", sys);
	ret = mkdir_at(dfd, rel);
	if (!ret) {
		snprintf(rel, sizeof(rel), "events/%s/enable", sys);
		ret = put_file_at(dfd, rel, "0\n", 2);
	}
	return ret;
}

/*
 * Copy events/SYS/<ev>/format of every event of SYS.  A system the
 * tracefs lacks (klp without klptrace.ko) is not an error.
 */
static int copy_system(const char *tracefs, int dfd, const char *sys)
{
	char rel[512], *sdir;
	struct dirent *de;
	DIR *d;
	int ret;

	snprintf(rel, sizeof(rel), "events/%s", sys);
	sdir = path_join(tracefs, rel);
	if (!sdir)
		return -ENOMEM;
	d = opendir(sdir);
	free(sdir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	ret = make_system(dfd, sys);
	while (!ret && (de = readdir(d))) {
		char evrel[512], frel[600];

		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(evrel, sizeof(evrel), "events/%s/%s", sys,
				     de->d_name) >= sizeof(evrel))
			continue;
		snprintf(frel, sizeof(frel), "%s/format", evrel);
		/* enable, filter: plain files, not events */
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		ret = mkdir_at(dfd, evrel);
		if (!ret) {
			ret = copy_rel(tracefs, dfd, frel);
			if (ret == -ENOENT || ret == -ENOTDIR) {
				/* not an event directory after all */
				unlinkat(dfd, evrel, AT_REMOVEDIR);
				ret = 0;
			}
		}
	}
	closedir(d);
	return ret;
}

/*
 * Copy events/SYS/EV/format alone (and write events/SYS/enable).  An
 * event the tracefs lacks is not an error.
 */
static int copy_event(const char *tracefs, int dfd, const char *sys,
		      const char *ev)
{
	char rel[512], *p;
	struct stat st;
	int ret;

	snprintf(rel, sizeof(rel), "events/%s/%s/format", sys, ev);
	p = path_join(tracefs, rel);
	if (!p)
		return -ENOMEM;
	ret = access(p, R_OK) ? -errno : 0;
	free(p);
	if (ret)
		return ret == -ENOENT || ret == -ENOTDIR ? 0 : ret;
	/* made here for an earlier event of sys (nobody else writes here) */
	snprintf(rel, sizeof(rel), "events/%s", sys);
	if (fstatat(dfd, rel, &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode))
		ret = make_system(dfd, sys);
	if (!ret) {
		snprintf(rel, sizeof(rel), "events/%s/%s", sys, ev);
		ret = mkdir_at(dfd, rel);
	}
	if (!ret) {
		snprintf(rel, sizeof(rel), "events/%s/%s/format", sys, ev);
		ret = copy_rel(tracefs, dfd, rel);
	}
	return ret;
}

/*
 * The page size and long size from header_page ("field: char data;
 * offset:16; size:4080;" and "field: local_t commit; ... size:8;").
 */
static void header_sizes(const char *hp, size_t *page_size, int *long_size)
{
	const char *p;
	unsigned int off, size;

	p = strstr(hp, "char data;");
	if (p && sscanf(p, "char data;%*[ \t]offset:%u;%*[ \t]size:%u;", &off,
			&size) == 2 && off + size >= 64)
		*page_size = off + size;
	p = strstr(hp, "commit;");
	if (p && sscanf(p, "commit;%*[ \t]offset:%*u;%*[ \t]size:%u;",
			&size) == 1 && (size == 4 || size == 8))
		*long_size = size;
}

/*
 * Write rel whole or not at all: into tmp (a new file; one left by a
 * write that failed goes first), then renamed over rel, so that a
 * reader never sees half of it.  write_fn fills the FILE.
 */
static int replace_at(int dfd, const char *tmp, const char *rel,
		      int (*write_fn)(FILE *f, const void *arg),
		      const void *arg)
{
	FILE *f;
	int fd, ret;

	unlinkat(dfd, tmp, 0);
	fd = create_at(dfd, tmp);
	if (fd < 0)
		return fd;
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
	} else {
		ret = write_fn(f, arg);
		if (fclose(f) && ret >= 0)
			ret = -errno;
		if (ret >= 0 && renameat(dfd, tmp, dfd, rel) < 0)
			ret = -errno;
	}
	if (ret < 0)
		unlinkat(dfd, tmp, 0);
	return ret < 0 ? ret : 0;
}

static int put_header(FILE *f, const void *arg)
{
	const struct klpt_recorder *r = arg;

	if (fprintf(f,
		    "klptrace-recording 1\n"
		    "page_size %zu\n"
		    "ncpus %d\n"
		    "trace_clock %s\n"
		    "long_size %d\n"
		    "endian %s\n"
		    "klptrace_version %s\n",
		    r->page_size, r->ncpus, r->clock, r->long_size,
		    tep_is_bigendian() ? "big" : "little", VERSION) < 0)
		return -EIO;
	if (r->kernel[0] && fprintf(f, "kernel_release %s\n", r->kernel) < 0)
		return -EIO;
	return 0;
}

static int write_header(struct klpt_recorder *r)
{
	return replace_at(r->dfd, "klptrace-recording.tmp",
			  "klptrace-recording", put_header, r);
}

static int put_truth(FILE *f, const void *arg)
{
	return klpt_truth_save(arg, f);
}

/*
 * The snapshot at the end: the replay takes from it only whether a task
 * an event names is a kernel thread (PF_KTHREAD), which no event
 * carries.  Best effort: a recording without it is still whole.
 */
static void write_end_truth(struct klpt_recorder *r)
{
	struct klpt_truth *t;

	if (!r->root || r->dfd < 0 || klpt_truth_take(r->root, &t) < 0)
		return;
	/* whole or not at all: a replay refuses a bad one */
	replace_at(r->dfd, ".truth-end.txt.tmp", "truth-end.txt", put_truth,
		   t);
	klpt_truth_free(t);
}

int klpt_recorder_set_root(struct klpt_recorder *r, const char *root)
{
	if (!r)
		return klpt_err(EINVAL);
	free(r->root);
	r->root = strdup(root ? root : "");
	return r->root ? 0 : klpt_err(ENOMEM);
}

void klpt_recorder_close(struct klpt_recorder *r)
{
	int i;

	if (!r)
		return;
	write_end_truth(r);
	free(r->root);
	for (i = 0; r->fd && i < r->ncpus; i++)
		if (r->fd[i] >= 0)
			close(r->fd[i]);
	if (r->dfd >= 0)
		close(r->dfd);
	free(r->fd);
	free(r->zero);
	free(r);
}

/* A second open file of directory dfd, to read it from its start. */
static DIR *dir_stream(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d && fd >= 0)
		close(fd);
	return d;
}

/*
 * Remove what is in directory dfd: unlinkat() only, into subdirectories
 * opened without following a link, depth levels down at most.
 */
static void empty_dir_at(int dfd, int depth)
{
	struct dirent *de;
	DIR *d = dir_stream(dfd);

	if (!d)
		return;
	while ((de = readdir(d))) {
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!unlinkat(dfd, de->d_name, 0) || errno != EISDIR)
			continue;
		sub = depth > 0 ? openat(dfd, de->d_name, O_RDONLY |
					 O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
				: -1;
		if (sub >= 0) {
			empty_dir_at(sub, depth - 1);
			close(sub);
		}
		unlinkat(dfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/*
 * The recording directory, open: made now (*created), or an existing
 * empty one.  Either way it must be the caller's and writable by nobody
 * else (-EPERM; a link is not followed: -EPERM too), for anyone who can
 * add a name inside could make it a link to a file we would then write.
 * -EEXIST: not empty.
 */
static int open_rec_dir(const char *dir, bool *created)
{
	struct dirent *de;
	struct stat st;
	bool empty = true;
	DIR *d;
	int dfd;

	*created = mkdir(dir, REC_DIR_MODE) == 0;
	if (!*created && errno != EEXIST)
		return -errno;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		int err = errno;

		/* O_DIRECTORY says ENOTDIR for a link too */
		return !lstat(dir, &st) && S_ISLNK(st.st_mode) ? -EPERM : -err;
	}
	if (fstat(dfd, &st) < 0 || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(dfd);
		return -EPERM;
	}
	if (*created)
		return dfd;
	d = dir_stream(dfd);
	if (!d) {
		int err = errno;

		close(dfd);
		return -err;
	}
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	if (!empty) {
		close(dfd);
		return -EEXIST;
	}
	return dfd;
}

/* rmdir(dir) if it still names the directory dfd. */
static void remove_made_dir(const char *dir, int dfd)
{
	struct stat a, b;

	if (!fstat(dfd, &a) &&
	    !fstatat(AT_FDCWD, dir, &b, AT_SYMLINK_NOFOLLOW) &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		rmdir(dir);
}

int klpt_recorder_open(const char *dir, const char *tracefs_dir,
		       const struct klpt_truth *truth, int ncpus,
		       struct klpt_recorder **out)
{
	struct klpt_recorder *r;
	char *hp = NULL, *p;
	bool created = false;
	int i, ret;

	if (!out)
		return klpt_err(EINVAL);
	*out = NULL;
	if (!dir || !*dir || !tracefs_dir || ncpus <= 0 || ncpus > 4096)
		return klpt_err(EINVAL);
	r = calloc(1, sizeof(*r));
	if (!r)
		return klpt_err(ENOMEM);
	r->ncpus = ncpus;
	r->fd = malloc(ncpus * sizeof(*r->fd));
	if (!r->fd) {
		free(r);
		return klpt_err(ENOMEM);
	}
	for (i = 0; i < ncpus; i++)
		r->fd[i] = -1;
	r->dfd = open_rec_dir(dir, &created);
	if (r->dfd < 0) {
		/* not ours: nothing to clean up in it */
		ret = r->dfd;
		klpt_recorder_close(r);
		return klpt_err(-ret);
	}
	snprintf(r->clock, sizeof(r->clock), "unknown");
	r->page_size = sysconf(_SC_PAGESIZE);
	r->long_size = sizeof(long);

	ret = mkdir_at(r->dfd, "events");
	if (ret)
		goto fail;
	p = path_join(tracefs_dir, "events/header_page");
	if (!p)
		goto nomem;
	ret = klpt_read_file(p, 1u << 16, &hp, NULL);
	free(p);
	if (ret)
		goto fail;
	header_sizes(hp, &r->page_size, &r->long_size);
	free(hp);
	ret = copy_rel(tracefs_dir, r->dfd, "events/header_page");
	if (ret)
		goto fail;
	/* optional: trace-cmd restore needs them, replay does not */
	ret = copy_rel(tracefs_dir, r->dfd, "events/header_event");
	if (ret && ret != -ENOENT)
		goto fail;
	ret = copy_system(tracefs_dir, r->dfd, "klp");
	if (!ret)
		ret = copy_system(tracefs_dir, r->dfd, "module");
	if (!ret)
		ret = copy_event(tracefs_dir, r->dfd, "sched",
				 "sched_process_exit");
	if (!ret)
		ret = copy_event(tracefs_dir, r->dfd, "sched",
				 "sched_process_exec");
	if (!ret)
		ret = copy_event(tracefs_dir, r->dfd, "task", "task_newtask");
	if (!ret)
		ret = copy_event(tracefs_dir, r->dfd, "task", "task_rename");
	if (!ret)
		ret = copy_event(tracefs_dir, r->dfd, "ftrace", "print");
	if (ret)
		goto fail;

	r->zero = calloc(1, r->page_size);
	if (!r->zero)
		goto nomem;
	ret = mkdir_at(r->dfd, "per_cpu");
	for (i = 0; !ret && i < ncpus; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "per_cpu/cpu%d", i);
		ret = mkdir_at(r->dfd, rel);
		if (ret)
			break;
		snprintf(rel, sizeof(rel), "per_cpu/cpu%d/trace_pipe_raw", i);
		r->fd[i] = create_at(r->dfd, rel);
		if (r->fd[i] < 0)
			ret = r->fd[i];
	}
	if (ret)
		goto fail;

	if (truth) {
		ret = replace_at(r->dfd, "truth.txt.tmp", "truth.txt",
				 put_truth, truth);
		if (ret)
			goto fail;
	}

	ret = write_header(r);
	if (ret)
		goto fail;
	*out = r;
	return 0;

nomem:
	ret = -ENOMEM;
fail:
	/* the directory is ours (new, or empty and the caller's): leave
	 * nothing half-made in it */
	empty_dir_at(r->dfd, 4);
	if (created)
		remove_made_dir(dir, r->dfd);
	klpt_recorder_close(r);
	return klpt_err(-ret);
}

int klpt_recorder_set_clock(struct klpt_recorder *r, const char *clock)
{
	int ret;

	if (!r || !clock || !*clock || strlen(clock) >= sizeof(r->clock) ||
	    strpbrk(clock, " \t\n"))
		return klpt_err(EINVAL);
	snprintf(r->clock, sizeof(r->clock), "%s", clock);
	ret = write_header(r);
	return ret ? klpt_err(-ret) : 0;
}

int klpt_recorder_set_kernel(struct klpt_recorder *r, const char *release)
{
	int ret;

	if (!r || !release || !klpt_release_ok(release))
		return klpt_err(EINVAL);
	snprintf(r->kernel, sizeof(r->kernel), "%s", release);
	ret = write_header(r);
	return ret ? klpt_err(-ret) : 0;
}

int klpt_recorder_page(struct klpt_recorder *r, int cpu, const void *page,
		       size_t len)
{
	off_t start;
	int ret;

	if (!r || !page || cpu < 0 || cpu >= r->ncpus || !len ||
	    len > r->page_size)
		return klpt_err(EINVAL);
	start = lseek(r->fd[cpu], 0, SEEK_CUR);
	/*
	 * Whole pages only, so that the file reads back in page-size
	 * chunks: a short read is padded (the commit says what is data).
	 */
	ret = write_all(r->fd[cpu], page, len);
	if (!ret && len < r->page_size)
		ret = write_all(r->fd[cpu], r->zero, r->page_size - len);
	if (ret) {
		/* no half page: later pages would read back shifted */
		if (start >= 0 && !ftruncate(r->fd[cpu], start))
			lseek(r->fd[cpu], start, SEEK_SET);
		return klpt_err(-ret);
	}
	return 0;
}
