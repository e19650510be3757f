// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * klpt_threads: a process whose threads come and go on demand, for the
 * e2e scenarios that check the task set (tests/vm/scenarios/tasks_smp*).
 *
 *   klpt_threads N
 *	Starts N threads besides the main one, each blocked in read() on a
 *	pipe.  SIGUSR1 toggles them: the N threads exit (the write end of
 *	their pipe is closed, every read() returns 0, main joins them), or
 *	N new ones start.  SIGTERM or SIGINT: exit 0.  The scenario waits
 *	for /proc/PID/task to show the change (no output, no timing).
 *	Exit status: 0 on SIGTERM/SIGINT, 1 if a thread or the pipe cannot
 *	be made (one line on stderr), 2 bad usage.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 64

static pthread_t threads[MAX_THREADS];
static int pipefd[2] = { -1, -1 };
static int running;

static void *blocked(void *arg)
{
	char c;

	(void)arg;
	while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static int start(int n)
{
	int i, err;

	if (pipe(pipefd)) {
		fprintf(stderr, "klpt_threads: pipe: %s\n", strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		err = pthread_create(&threads[i], NULL, blocked, NULL);
		if (err) {
			fprintf(stderr, "klpt_threads: pthread_create: %s\n",
				strerror(err));
			return -1;
		}
		running++;
	}
	return 0;
}

static void stop(void)
{
	close(pipefd[1]);
	while (running > 0)
		pthread_join(threads[--running], NULL);
	close(pipefd[0]);
}

int main(int argc, char **argv)
{
	sigset_t set;
	char *end;
	long n;
	int sig;

	n = argc == 2 ? strtol(argv[1], &end, 10) : 0;
	if (argc != 2 || *end || n < 1 || n > MAX_THREADS) {
		fprintf(stderr, "usage: klpt_threads N (1..%d)\n", MAX_THREADS);
		return 2;
	}
	/* blocked before any thread exists: only sigwait() takes them */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) || start((int)n))
		return 1;
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig != SIGUSR1)
			return 0;
		if (running) {
			stop();
		} else if (start((int)n)) {
			return 1;
		}
	}
}
