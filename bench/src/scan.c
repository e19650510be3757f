// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * klptb_scan: the kpatch way of watching a transition, as a baseline.
 *
 *   klptb_scan SECONDS TARGET
 *
 * Once a second (absolute deadlines), what the kpatch script does to
 * list stalled tasks: read every /proc/PID/task/TID/patch_state and
 * count the threads not yet in TARGET (0 or 1; -1 means no transition
 * for that task).  Written in C with open/read/close, the cheapest way
 * to do it; the kpatch script forks a cat per thread and costs far more.
 * Prints
 *
 *	scans N pending P wall_s W cpu_s C cpu_per_s X
 *
 * with C the process's own CPU time over the whole run (the first scan
 * included: it is as costly as every other).  SECONDS under 1 makes
 * one scan: C is then the cost of one pass (benchmark 1b's baseline).
 */
#include <dirent.h>

#include "guest.h"

#define PROG "klptb_scan"

static int is_num(const char *s)
{
	return *s >= '0' && *s <= '9';
}

static long scan(int target)
{
	char path[600], buf[16];
	struct dirent *p, *t;
	long pending = 0;
	DIR *proc, *task;

	proc = opendir("/proc");
	if (!proc)
		die(PROG, "/proc: %s", strerror(errno));
	while ((p = readdir(proc))) {
		if (!is_num(p->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", p->d_name);
		task = opendir(path);
		if (!task)
			continue;	/* exited meanwhile */
		while ((t = readdir(task))) {
			if (!is_num(t->d_name))
				continue;
			snprintf(path, sizeof(path),
				 "/proc/%s/task/%s/patch_state", p->d_name,
				 t->d_name);
			if (read_small(path, buf, sizeof(buf)) < 0)
				continue;
			if (atoi(buf) != -1 && atoi(buf) != target)
				pending++;
		}
		closedir(task);
	}
	closedir(proc);
	return pending;
}

int main(int argc, char **argv)
{
	double secs, start, c0, next;
	long pending = 0, scans = 0;
	int target;

	if (argc != 3) {
		fprintf(stderr, "usage: " PROG " SECONDS TARGET\n");
		return 2;
	}
	secs = atof(argv[1]);
	target = atoi(argv[2]);
	start = mono_s();
	c0 = cpu_s();
	for (next = start; next < start + secs; next += 1.0) {
		double now = mono_s();

		if (now < next)
			sleep_s(next - now);
		pending = scan(target);
		scans++;
	}
	{
		double wall = mono_s() - start, cpu = cpu_s() - c0;

		printf("scans %ld pending %ld wall_s %.3f cpu_s %.3f "
		       "cpu_per_s %.4f\n", scans, pending, wall, cpu,
		       cpu / wall);
	}
	return 0;
}
