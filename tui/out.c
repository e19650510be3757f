// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Standard output, for -b and --json frames and the scripted flow's
 * lines (the screen's is ncurses'): every byte goes through
 * top_out_write(), so that an error is the write's own and the first one
 * is kept.  stdio would not keep it: on a failed write it discards its
 * buffer and keeps only a flag (a later fflush() returns 0), and errno
 * moves on, so EPIPE (a reader gone, as head -n does: not klptop's
 * error) and ENOSPC used to come out as a made-up EIO.
 *
 * A non-blocking stdout (O_NONBLOCK is the open file's, so another
 * process sharing the pipe or terminal may set it) says EAGAIN when the
 * reader is behind: klptop waits in poll() until it can write, as a
 * blocking write would, for as long as a blocking write would (a
 * signal, SIGINT, SIGTERM or SIGHUP, ends the wait).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "klptop.h"

static int first_err;	/* -errno of the first failed write, or 0 */

/* Remembers the first error; returns err. */
static int failed(int err)
{
	if (!first_err)
		first_err = err;
	return err;
}

int top_out_write(const char *buf, size_t len)
{
	/*
	 * Stopping: nothing more, not even the scripted flow's last line
	 * or stdio's flush at exit, may block on a reader that does not
	 * read (a blocking write would never return: the signal came).
	 */
	if (top_stop_signal && len)
		return failed(-EINTR);
	while (len) {
		struct pollfd pfd = { .fd = STDOUT_FILENO, .events = POLLOUT };
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return failed(-EIO);	/* not for a regular len */
		if (errno != EINTR && errno != EAGAIN &&
		    errno != EWOULDBLOCK)
			return failed(-errno);
		/* a reader that never reads: a signal ends the wait */
		if (top_stop_signal)
			return failed(-EINTR);
		if (errno != EINTR &&
		    poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return failed(-errno);
	}
	return 0;
}

static ssize_t cookie_write(void *cookie, const char *buf, size_t len)
{
	int ret = top_out_write(buf, len);

	(void)cookie;
	if (ret) {
		errno = -ret;
		return -1;
	}
	return (ssize_t)len;
}

int top_out_stdio(void)
{
	static const cookie_io_functions_t io = { .write = cookie_write };
	FILE *f = fopencookie(NULL, "w", io);

	if (!f)
		return -ENOMEM;
	/* progress should reach a log file line by line */
	setvbuf(f, NULL, _IOLBF, 0);
	fflush(stdout);		/* nothing in it yet; for the order's sake */
	stdout = f;		/* glibc: a variable one may set */
	return 0;
}

int top_out_error(int err)
{
	static bool said;

	if (!err) {
		fflush(stdout);	/* top_out_stdio()'s last line, if any */
		err = first_err;
	}
	if (err && err != -EPIPE && err != -EINTR && !said) {
		fprintf(stderr, PROG ": cannot write to standard output: %s\n",
			strerror(-err));
		said = true;
	}
	return err;
}
