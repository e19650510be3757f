// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * klptb_pty: run a command on a pseudo-terminal, for klptop's screen mode
 * in the VM (benchmark 4).
 *
 *   klptb_pty COLS ROWS CMD [ARG]...
 *
 * The guest's busybox has no `script`, and klptop draws its interactive
 * screen only on a terminal.  CMD gets a new session whose controlling
 * terminal is the slave side of a COLSxROWS pty on stdin, stdout and
 * stderr; this process reads the master side and throws what it reads
 * away (the screen's bytes have been written, and the frame log timed,
 * by then: a reader that keeps up is all the terminal needs).  SIGTERM,
 * SIGINT and SIGHUP are passed on to CMD.  Exits with CMD's status
 * (128+N if a signal ended it).
 */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

#include "guest.h"

#define PROG "klptb_pty"

static volatile pid_t child = -1;

static void pass_on(int sig)
{
	if (child > 0)
		kill(child, sig);
}

int main(int argc, char **argv)
{
	struct winsize ws = { 0 };
	struct sigaction sa;
	char buf[65536], *slave;
	int master, status;

	if (argc < 4) {
		fprintf(stderr, "usage: " PROG " COLS ROWS CMD [ARG]...\n");
		return 2;
	}
	ws.ws_col = (unsigned short)atoi(argv[1]);
	ws.ws_row = (unsigned short)atoi(argv[2]);
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) || unlockpt(master))
		die(PROG, "pty: %s", strerror(errno));
	slave = ptsname(master);
	if (!slave)
		die(PROG, "ptsname: %s", strerror(errno));
	/* the size before CMD starts: curses reads it at initscr() */
	if (ioctl(master, TIOCSWINSZ, &ws))
		die(PROG, "TIOCSWINSZ: %s", strerror(errno));

	child = fork();
	if (child < 0)
		die(PROG, "fork: %s", strerror(errno));
	if (child == 0) {
		int fd;

		/* a session of its own, so that the pty becomes its tty */
		if (setsid() < 0)
			die(PROG, "setsid: %s", strerror(errno));
		fd = open(slave, O_RDWR);
		if (fd < 0 || ioctl(fd, TIOCSCTTY, 0))
			die(PROG, "%s: %s", slave, strerror(errno));
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
		execvp(argv[3], argv + 3);
		die(PROG, "%s: %s", argv[3], strerror(errno));
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pass_on;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	/* EIO once the last holder of the slave side has closed it */
	for (;;) {
		ssize_t n = read(master, buf, sizeof(buf));

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			die(PROG, "waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
