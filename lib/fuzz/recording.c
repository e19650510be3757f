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
 * name a path of its own.  lib/fuzz/mkseeds builds the seed from the
 * fixture in this order.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

FUZZ_TARGET(recording)
{
	const uint8_t *p = data, *end = data + size;
	char path[4200];
	size_t i;

	setup();
	for (i = 0; i < RECORDING_NFILES; i++) {
		const uint8_t *sep;

		snprintf(path, sizeof(path), "%s/%s", root,
			 recording_files[i]);
		if (!p) {
			if (unlink(path) && errno != ENOENT)
				abort();
			continue;
		}
		sep = memmem(p, end - p, RECORDING_SEPARATOR,
			     sizeof(RECORDING_SEPARATOR) - 1);
		fuzz_write(path, p, (sep ? sep : end) - p);
		p = sep ? sep + sizeof(RECORDING_SEPARATOR) - 1 : NULL;
	}
	fuzz_replay(root);
	return 0;
}
