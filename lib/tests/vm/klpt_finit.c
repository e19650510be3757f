// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * klpt_finit: load a module with exactly one finit_module() call.
 *
 *   klpt_finit MODULE.ko [PARAMS]
 *
 * busybox insmod retries a failed finit_module() with init_module(), so
 * a module_init that fails on purpose runs twice; the e2e scenarios that
 * load such a module (tests/vm/scenarios/prepatch_window) use this
 * instead.  Exit status: 0 loaded; the errno of the failed call (1-125,
 * e.g. 19 for ENODEV), with one line on stderr; 126 for bad usage or a
 * file that cannot be opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd, err;

	if (argc < 2 || argc > 3 || argv[1][0] == '-') {
		fputs("usage: klpt_finit MODULE.ko [PARAMS]\n", stderr);
		return 126;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "klpt_finit: %s: %s\n", argv[1], strerror(errno));
		return 126;
	}
	if (syscall(SYS_finit_module, fd, argc == 3 ? argv[2] : "", 0) == 0) {
		close(fd);
		return 0;
	}
	err = errno;
	close(fd);
	fprintf(stderr, "klpt_finit: finit_module %s: %s\n", argv[1],
		strerror(err));
	return err > 0 && err < 126 ? err : 125;
}
