// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * klptb_cycle: one timed livepatch lifecycle, for the kernel overhead
 * benchmark.
 *
 *   klptb_cycle PATCH.ko PATCH [POLL_MS]
 *
 * Loads PATCH.ko with finit_module() (klp_enable_patch() runs the first
 * pass of the transition in that call), waits until
 * /sys/kernel/livepatch/PATCH/transition reads 0, writes 0 to enabled
 * (the unpatch transition's first pass runs in that write), waits until
 * the patch directory is gone and /sys/module/PATCH/refcnt reads 0 (the
 * free work has run and dropped the module reference: rmmod is safe),
 * then removes the module.  Waiting polls every POLL_MS (0.5 ms: the
 * overhead benchmark's resolution; the latency benchmark, which does not
 * use these times, polls every 10 ms so that 2000 wake-ups a second of
 * its own are not part of the load it measures under).  Prints
 *
 *	enable_ms E complete_ms C disable_ms D total_ms T
 *
 * E: the load (module load plus first pass), C: load to transition 0,
 * D: the write of 0 until refcnt 0, T = C + D: the "full patch
 * transition" of bench/README.md.  Exit 1 (saying why) on any failure.
 */
#include <sys/syscall.h>

#include "guest.h"

#define PROG "klptb_cycle"
#define LIMIT_S 120.0

static int transition_done(const char *patch)
{
	char path[256], buf[16];

	snprintf(path, sizeof(path), "/sys/kernel/livepatch/%s/transition",
		 patch);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return 1;	/* gone: done */
	return buf[0] == '0';
}

static int freed(const char *patch)
{
	char path[256], buf[16];

	snprintf(path, sizeof(path), "/sys/kernel/livepatch/%s", patch);
	if (access(path, F_OK) == 0)
		return 0;
	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", patch);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return 1;
	return buf[0] == '0' && buf[1] == '\n';
}

static double poll_s = 0.0005;

static void wait_for(int (*pred)(const char *), const char *patch,
		     const char *what)
{
	double t0 = mono_s();

	while (!pred(patch)) {
		if (mono_s() - t0 > LIMIT_S)
			die(PROG, "%s: no %s after %.0f s", patch, what,
			    LIMIT_S);
		sleep_s(poll_s);
	}
}

int main(int argc, char **argv)
{
	double t0, t1, t2, t3, t4;
	const char *patch;
	char path[256];
	int fd;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: " PROG " PATCH.ko PATCH [POLL_MS]\n");
		return 2;
	}
	if (argc == 4) {
		char *end;

		poll_s = strtod(argv[3], &end) / 1e3;
		if (*end || end == argv[3] || !(poll_s > 0 && poll_s <= 1))
			die(PROG, "POLL_MS %s: not a number of ms in (0, 1000]",
			    argv[3]);
	}
	patch = argv[2];
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(PROG, "%s: %s", argv[1], strerror(errno));
	t0 = mono_s();
	if (syscall(SYS_finit_module, fd, "", 0))
		die(PROG, "finit_module %s: %s", argv[1], strerror(errno));
	t1 = mono_s();
	close(fd);
	wait_for(transition_done, patch, "transition 0");
	t2 = mono_s();

	snprintf(path, sizeof(path), "/sys/kernel/livepatch/%s/enabled",
		 patch);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die(PROG, "%s: %s", path, strerror(errno));
	t3 = mono_s();
	if (write(fd, "0", 1) != 1)
		die(PROG, "write %s: %s", path, strerror(errno));
	close(fd);
	wait_for(freed, patch, "free (refcnt 0)");
	t4 = mono_s();
	if (syscall(SYS_delete_module, patch, O_NONBLOCK))
		die(PROG, "delete_module %s: %s", patch, strerror(errno));
	printf("enable_ms %.3f complete_ms %.3f disable_ms %.3f total_ms %.3f\n",
	       (t1 - t0) * 1e3, (t2 - t0) * 1e3, (t4 - t3) * 1e3,
	       (t2 - t0 + t4 - t3) * 1e3);
	return 0;
}
