// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Fuzz target "recording": every file of a klpt_session_record()
 * directory (replay.c's open_dir(), truth.c's loader, libtraceevent's
 * format parser as replay.c drives it, then the pages) from one input,
 * replayed to its end with the model walked (common.c).
 *
 * The replay reads files by path, so the input is written out into a
 * scratch directory (a tmpfs under run.sh): it is split at every
 * SEPARATOR, and part i becomes file i of files[] below; a file with no
 * part does not exist.  The list is fixed (the layout of
 * fixtures/vm-recording plus sched_process_exit), so an input can never
 * name a path of its own, but a part can make its file a FIFO, a link
 * to /dev/zero, a device, a directory, a hard link or a sparse giant
 * (RECORDING_SHAPE in recording.h).  lib/fuzz/mkseeds builds the seeds
 * from the fixture in this order, with those shapes too.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common.h"
#include "recording.h"

static char root[4096];

static void mkdirs(const char *rel)
{
	char path[4200], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	/* every parent of the file */
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			perror(path);
			exit(2);
		}
		*p = '/';
	}
}

static void setup(void)
{
	size_t i;

	if (root[0])
		return;
	fuzz_quiet();
	snprintf(root, sizeof(root), "%s/recording", fuzz_scratch());
	if (mkdir(root, 0755) && errno != EEXIST) {
		perror(root);
		exit(2);
	}
	for (i = 0; i < RECORDING_NFILES; i++)
		mkdirs(recording_files[i]);
}

/* Whatever the last input left at path: a file, link, FIFO or directory. */
static void remove_any(const char *path)
{
	if (!unlink(path) || errno == ENOENT)
		return;
	if (errno != EISDIR || rmdir(path))
		abort();	/* our directories stay empty */
}

/* Make path the shape kind (recording.h); first: the first file made. */
static void make_shape(const char *path, const uint8_t *arg, size_t len,
		       const char *first)
{
	int r = 0, fd;

	switch (len ? arg[0] : 0) {
	case 'f':
		r = mkfifo(path, 0644);
		break;
	case 'c':
		/* no root: the link to it */
		if (mknod(path, S_IFCHR | 0644, makedev(1, 5)))
			r = symlink("/dev/zero", path);
		break;
	case 'z':
		r = symlink("/dev/zero", path);
		break;
	case 'd':
		r = mkdir(path, 0755);
		break;
	case 'l':
		if (first && !link(first, path))
			break;
		fuzz_write(path, "", 0);
		break;
	case 's':
		fuzz_write(path, arg + 1 + (len > 1), len > 2 ? len - 2 : 0);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		r = fd < 0 || ftruncate(fd, (off_t)(len > 1 ? arg[1] % 16 : 1)
					<< 20);
		if (fd >= 0)
			close(fd);
		break;
	default:
		fuzz_write(path, arg, len);
		break;
	}
	if (r) {
		perror(path);
		exit(2);
	}
}

FUZZ_TARGET(recording)
{
	char first[4200] = "";
	const uint8_t *p = data, *end = data + size;
	char path[4200];
	struct stat st;
	size_t i, len;

	setup();
	for (i = 0; i < RECORDING_NFILES; i++) {
		const uint8_t *sep;

		snprintf(path, sizeof(path), "%s/%s", root,
			 recording_files[i]);
		/* never write through what the last input made */
		remove_any(path);
		if (!p)
			continue;
		sep = memmem(p, end - p, RECORDING_SEPARATOR,
			     sizeof(RECORDING_SEPARATOR) - 1);
		len = (sep ? sep : end) - p;
		if (len >= sizeof(RECORDING_SHAPE) - 1 &&
		    !memcmp(p, RECORDING_SHAPE, sizeof(RECORDING_SHAPE) - 1))
			make_shape(path, p + sizeof(RECORDING_SHAPE) - 1,
				   len - (sizeof(RECORDING_SHAPE) - 1),
				   first[0] ? first : NULL);
		else
			fuzz_write(path, p, len);
		if (!first[0] && !lstat(path, &st) && S_ISREG(st.st_mode))
			snprintf(first, sizeof(first), "%s", path);
		p = sep ? sep + sizeof(RECORDING_SEPARATOR) - 1 : NULL;
	}
	fuzz_replay(root);
	return 0;
}
