// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * --openmetrics FILE: each frame replaces FILE whole, so that a reader
 * (node_exporter's textfile collector, every scrape) sees the last frame
 * or the one before, never half of one, also across a crash or a power
 * cut: a temporary file in the same directory is written and fsync()ed,
 * renamed over FILE, and the directory fsync()ed.
 *
 * klptop runs as root and the directory may be someone else's (the
 * textfile directory belongs to the prometheus user on Debian): nothing
 * in it may steer where root writes.  As in lib/src/record.c, the
 * directory is opened once (its last component never a link) and held;
 * every name is then used relative to that descriptor: the temporary is
 * created new (O_EXCL: a planted file or link is never opened; it is
 * unlinked, which removes the link, not its target, and creation tried
 * again) and never through a link (O_NOFOLLOW), mode 0644 whatever the
 * umask; renameat() replaces FILE's directory entry, never what a link
 * there points to.  Swapping the directory for another later changes
 * nothing: the held descriptor is the one written into.
 *
 * The temporary is ".FILE.tmp": hidden, and not *.prom, so the textfile
 * collector never reads it.  A write that fails (a full disk, a file
 * size limit) removes it, leaves FILE as it was and is an error of
 * klptop's: one line, exit 2 (the caller).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "klptop.h"

#define TEXTFILE_MODE 0644
/* A name planted again and again between unlink and create: give up. */
#define CREATE_TRIES 3

struct top_textfile {
	int dfd;
	char *path;		/* as given, for the messages */
	char name[NAME_MAX + 1];
	char tmp[NAME_MAX + 1];
};

static void say(const struct top_textfile *t, const char *what, int err)
{
	char shown[PATH_MAX];

	fprintf(stderr, PROG ": --openmetrics %s: %s: %s\n",
		top_esc_text(shown, sizeof(shown), t->path), what,
		strerror(err));
}

int top_textfile_open(const char *path, struct top_textfile **out)
{
	struct top_textfile *t = calloc(1, sizeof(*t));
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *dir;
	int err;

	if (!t || !(t->path = strdup(path))) {
		free(t);
		fprintf(stderr, PROG ": out of memory\n");
		return -ENOMEM;
	}
	t->dfd = -1;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..") ||
	    strlen(base) + sizeof(".tmp") + 1 > sizeof(t->tmp)) {
		say(t, "not a file name", EINVAL);
		top_textfile_close(t);
		return -EINVAL;
	}
	snprintf(t->name, sizeof(t->name), "%s", base);
	snprintf(t->tmp, sizeof(t->tmp), ".%s.tmp", base);
	dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	if (!dir) {
		top_textfile_close(t);
		fprintf(stderr, PROG ": out of memory\n");
		return -ENOMEM;
	}
	/* "/x": the root directory */
	t->dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		      O_CLOEXEC);
	err = errno;
	free(dir);
	if (t->dfd < 0) {
		say(t, "its directory", err == ELOOP ? ENOTDIR : err);
		top_textfile_close(t);
		return -err;
	}
	*out = t;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The temporary, new: never an existing name, never through a link. */
static int create_tmp(struct top_textfile *t)
{
	int i, fd = -1;

	for (i = 0; i < CREATE_TRIES; i++) {
		fd = openat(t->dfd, t->tmp, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, TEXTFILE_MODE);
		if (fd >= 0 || errno != EEXIST)
			break;
		/* a leftover of a killed klptop, or planted: the name goes */
		if (unlinkat(t->dfd, t->tmp, 0) < 0 && errno != ENOENT)
			return -errno;
	}
	if (fd < 0)
		return -errno;
	/* the umask may have taken bits the readers need */
	if (fchmod(fd, TEXTFILE_MODE) < 0) {
		int err = -errno;

		close(fd);
		unlinkat(t->dfd, t->tmp, 0);
		return err;
	}
	return fd;
}

int top_textfile_write(struct top_textfile *t, const char *buf, size_t len)
{
	const char *step = "creating its temporary file";
	int fd = create_tmp(t), ret;

	if (fd < 0) {
		say(t, step, -fd);
		return fd;
	}
	step = "writing";
	ret = write_all(fd, buf, len);
	if (!ret && fsync(fd) < 0) {
		ret = -errno;
		step = "fsync";
	}
	if (close(fd) < 0 && !ret) {
		ret = -errno;
		step = "writing";
	}
	if (!ret && renameat(t->dfd, t->tmp, t->dfd, t->name) < 0) {
		ret = -errno;
		step = "renaming its temporary file over it";
	}
	if (ret) {
		unlinkat(t->dfd, t->tmp, 0);
		say(t, step, -ret);
		return ret;
	}
	/* the rename itself on disk (the old file stays until then) */
	if (fsync(t->dfd) < 0) {
		ret = -errno;
		say(t, "fsync of its directory", -ret);
	}
	return ret;
}

void top_textfile_close(struct top_textfile *t)
{
	if (!t)
		return;
	if (t->dfd >= 0)
		close(t->dfd);
	free(t->path);
	free(t);
}
