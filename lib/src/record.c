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
 * "klptrace-recording VERSION"; replay.c documents the keys.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
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

struct klpt_recorder {
	char *dir;
	int ncpus;
	int *fd;		/* per_cpu/cpuN/trace_pipe_raw */
	size_t page_size;
	int long_size;
	unsigned char *zero;	/* page_size zero bytes for the padding */
	char clock[32];
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

int klpt_read_file(const char *path, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1), *nb;
	int fd, ret = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		free(buf);
		return ret;
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

static int put_file(const char *path, const char *buf, size_t len)
{
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, buf, len);
	if (close(fd) < 0 && !ret)
		ret = -errno;
	return ret;
}

/* Copy src_root/rel to dst_root/rel.  -ENOENT if the source is missing. */
static int copy_rel(const char *src_root, const char *dst_root,
		    const char *rel)
{
	char *src = path_join(src_root, rel), *dst = path_join(dst_root, rel);
	char *buf = NULL;
	size_t len;
	int ret = -ENOMEM;

	if (src && dst) {
		ret = klpt_read_file(src, 1u << 20, &buf, &len);
		if (!ret)
			ret = put_file(dst, buf, len);
	}
	free(buf);
	free(src);
	free(dst);
	return ret;
}

static int mkdir_rel(const char *root, const char *rel)
{
	char *p = path_join(root, rel);
	int ret = 0;

	if (!p)
		return -ENOMEM;
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		ret = -errno;
	free(p);
	return ret;
}

/*
 * Copy events/SYS/<ev>/format of every event of SYS.  A system the
 * tracefs lacks (klp without klptrace.ko) is not an error.
 */
static int copy_system(const char *tracefs, const char *dir, const char *sys)
{
	char rel[512], *sdir;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(rel, sizeof(rel), "events/%s", sys);
	sdir = path_join(tracefs, rel);
	if (!sdir)
		return -ENOMEM;
	d = opendir(sdir);
	free(sdir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	ret = mkdir_rel(dir, rel);
	if (!ret) {
		/* libtracefs lists as systems the directories with one */
		char *en;

		snprintf(rel, sizeof(rel), "events/%s/enable", sys);
		en = path_join(dir, rel);
		ret = en ? put_file(en, "0\n", 2) : -ENOMEM;
		free(en);
	}
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
		ret = mkdir_rel(dir, evrel);
		if (!ret) {
			ret = copy_rel(tracefs, dir, frel);
			if (ret == -ENOENT || ret == -ENOTDIR) {
				/* not an event directory after all */
				char *p = path_join(dir, evrel);

				if (p)
					rmdir(p);
				free(p);
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
static int copy_event(const char *tracefs, const char *dir, const char *sys,
		      const char *ev)
{
	char rel[512], *p;
	int ret;

	snprintf(rel, sizeof(rel), "events/%s/%s/format", sys, ev);
	p = path_join(tracefs, rel);
	if (!p)
		return -ENOMEM;
	ret = access(p, R_OK) ? -errno : 0;
	free(p);
	if (ret)
		return ret == -ENOENT || ret == -ENOTDIR ? 0 : ret;
	snprintf(rel, sizeof(rel), "events/%s", sys);
	ret = mkdir_rel(dir, rel);
	if (!ret) {
		snprintf(rel, sizeof(rel), "events/%s/enable", sys);
		p = path_join(dir, rel);
		ret = p ? put_file(p, "0\n", 2) : -ENOMEM;
		free(p);
	}
	if (!ret) {
		snprintf(rel, sizeof(rel), "events/%s/%s", sys, ev);
		ret = mkdir_rel(dir, rel);
	}
	if (!ret) {
		snprintf(rel, sizeof(rel), "events/%s/%s/format", sys, ev);
		ret = copy_rel(tracefs, dir, rel);
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

static int write_header(struct klpt_recorder *r)
{
	char buf[512], *tmp, *final;
	int len, ret;

	len = snprintf(buf, sizeof(buf),
		       "klptrace-recording 1\n"
		       "page_size %zu\n"
		       "ncpus %d\n"
		       "trace_clock %s\n"
		       "long_size %d\n"
		       "endian %s\n"
		       "klptrace_version %s\n",
		       r->page_size, r->ncpus, r->clock, r->long_size,
		       tep_is_bigendian() ? "big" : "little", VERSION);
	tmp = path_join(r->dir, "klptrace-recording.tmp");
	final = path_join(r->dir, "klptrace-recording");
	ret = -ENOMEM;
	if (tmp && final) {
		/* rename: a reader never sees half a header */
		ret = put_file(tmp, buf, len);
		if (!ret && rename(tmp, final) < 0)
			ret = -errno;
	}
	free(tmp);
	free(final);
	return ret;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/*
 * The snapshot at the end: the replay takes from it only whether a task
 * an event names is a kernel thread (PF_KTHREAD), which no event
 * carries.  Best effort: a recording without it is still whole.
 */
static void write_end_truth(struct klpt_recorder *r)
{
	struct klpt_truth *t;
	char *path, *tmp;
	FILE *f;

	if (!r->root || !r->dir || klpt_truth_take(r->root, &t) < 0)
		return;
	path = path_join(r->dir, "truth-end.txt");
	tmp = path_join(r->dir, ".truth-end.txt.tmp");
	f = tmp ? fopen(tmp, "we") : NULL;
	if (f) {
		/* written whole or not at all: a replay refuses a bad one */
		bool ok = klpt_truth_save(t, f) >= 0;

		ok = fclose(f) == 0 && ok;
		if (!ok || !path || rename(tmp, path) < 0)
			remove(tmp);
	}
	free(path);
	free(tmp);
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
	free(r->fd);
	free(r->zero);
	free(r->dir);
	free(r);
}

static int dir_is_empty(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int empty = 1;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

int klpt_recorder_open(const char *dir, const char *tracefs_dir,
		       const struct klpt_truth *truth, int ncpus,
		       struct klpt_recorder **out)
{
	struct klpt_recorder *r;
	char *hp = NULL, *p;
	bool created = true;
	int i, ret;

	if (!out)
		return klpt_err(EINVAL);
	*out = NULL;
	if (!dir || !*dir || !tracefs_dir || ncpus <= 0 || ncpus > 4096)
		return klpt_err(EINVAL);
	if (mkdir(dir, 0755) < 0) {
		if (errno != EEXIST)
			return klpt_err(errno);
		ret = dir_is_empty(dir);
		if (ret < 0)
			return klpt_err(-ret);
		if (!ret)
			return klpt_err(EEXIST);
		created = false;
	}

	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	r->ncpus = ncpus;
	r->dir = strdup(dir);
	r->fd = malloc(ncpus * sizeof(*r->fd));
	if (!r->dir || !r->fd)
		goto nomem;
	for (i = 0; i < ncpus; i++)
		r->fd[i] = -1;
	snprintf(r->clock, sizeof(r->clock), "unknown");
	r->page_size = sysconf(_SC_PAGESIZE);
	r->long_size = sizeof(long);

	ret = mkdir_rel(dir, "events");
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
	ret = copy_rel(tracefs_dir, dir, "events/header_page");
	if (ret)
		goto fail;
	/* optional: trace-cmd restore needs them, replay does not */
	ret = copy_rel(tracefs_dir, dir, "events/header_event");
	if (ret && ret != -ENOENT)
		goto fail;
	ret = copy_system(tracefs_dir, dir, "klp");
	if (!ret)
		ret = copy_system(tracefs_dir, dir, "module");
	if (!ret)
		ret = copy_event(tracefs_dir, dir, "sched",
				 "sched_process_exit");
	if (!ret)
		ret = copy_event(tracefs_dir, dir, "task", "task_newtask");
	if (!ret)
		ret = copy_event(tracefs_dir, dir, "task", "task_rename");
	if (!ret) {
		ret = mkdir_rel(dir, "events/ftrace");
		if (!ret)
			ret = mkdir_rel(dir, "events/ftrace/print");
		if (!ret)
			ret = copy_rel(tracefs_dir, dir,
				       "events/ftrace/print/format");
		if (!ret) {
			p = path_join(dir, "events/ftrace/enable");
			ret = p ? put_file(p, "0\n", 2) : -ENOMEM;
			free(p);
		}
		if (ret == -ENOENT)
			ret = 0;
	}
	if (ret)
		goto fail;

	r->zero = calloc(1, r->page_size);
	if (!r->zero)
		goto nomem;
	ret = mkdir_rel(dir, "per_cpu");
	for (i = 0; !ret && i < ncpus; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "per_cpu/cpu%d", i);
		ret = mkdir_rel(dir, rel);
		if (ret)
			break;
		snprintf(rel, sizeof(rel), "per_cpu/cpu%d/trace_pipe_raw", i);
		p = path_join(dir, rel);
		if (!p)
			goto nomem;
		r->fd[i] = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
				0644);
		free(p);
		if (r->fd[i] < 0)
			ret = -errno;
	}
	if (ret)
		goto fail;

	if (truth) {
		FILE *f;

		p = path_join(dir, "truth.txt");
		if (!p)
			goto nomem;
		f = fopen(p, "we");
		free(p);
		if (!f) {
			ret = -errno;
			goto fail;
		}
		ret = klpt_truth_save(truth, f);
		if (fclose(f) && ret >= 0)
			ret = -errno;
		if (ret > 0)
			ret = 0;
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
	/* the directory was ours (new or empty): leave nothing half-made */
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (!created)
		mkdir(dir, 0755);
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
