// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * klptb_tasks: N idle threads for the VM benchmarks.
 *
 *   klptb_tasks N READYFILE
 *
 * Starts N threads that sleep in pause() (in user space as far as a
 * livepatch is concerned: a stack check finds none of its functions, so
 * every transition switches them at the first pass), writes the number
 * started into READYFILE and sleeps until killed.  Threads of one
 * process, with small stacks, so 50k of them fit in a small guest; the
 * guest raises pid_max, threads-max and max_map_count first.
 */
#include <pthread.h>
#include <signal.h>

#include "guest.h"

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	long i, n;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: klptb_tasks N READYFILE\n");
		return 2;
	}
	n = strtol(argv[1], NULL, 0);
	pthread_attr_init(&attr);
	/* pause() needs little: 64 KiB reserved, a page or two touched */
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (i = 0; i < n; i++) {
		pthread_t t;
		int err = pthread_create(&t, &attr, idle_thread, NULL);

		if (err)
			die("klptb_tasks", "thread %ld of %ld: %s", i + 1, n,
			    strerror(err));
	}
	f = fopen(argv[2], "we");
	if (!f || fprintf(f, "%ld\n", n) < 0 || fclose(f))
		die("klptb_tasks", "%s: %s", argv[2], strerror(errno));
	for (;;)
		pause();
}
