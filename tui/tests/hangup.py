#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""hangup.py KLPTOP RECORDING ERRFILE: klptop's screen on a pty that then
goes away.  SIGHUP is blocked in klptop (inherited mask), so only the
hangup itself (poll: POLLHUP on stdin) can end it: it must exit 2 within
10 s with one line in ERRFILE.  Before, poll() said readable at once and
getch() no key, forever: the CPU spun (printed: its CPU seconds)."""

import os
import pty
import select
import signal
import sys
import time


def cpu_s(pid):
    """utime + stime of pid in seconds (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    klptop, rec, err = sys.argv[1:4]
    pid, fd = pty.fork()
    if pid == 0:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
        e = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(e, 2)
        os.environ["TERM"] = "xterm"
        os.execv(klptop, [klptop, "--replay", rec, "--speed", "0"])
    out = b""
    end = time.time() + 10
    while b"F10" not in out and time.time() < end:
        if select.select([fd], [], [], 0.5)[0]:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    if b"F10" not in out:
        os.kill(pid, signal.SIGKILL)
        sys.exit("no screen on the pty")
    os.close(fd)
    end = time.time() + 10
    while time.time() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            with open(err) as f:
                lines = f.read().splitlines()
            if code != 2 or len(lines) != 1 or "went away" not in lines[0]:
                sys.exit("exit %d, stderr %r" % (code, lines))
            return 0
        time.sleep(0.1)
    spent = cpu_s(pid)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    sys.exit("klptop still runs 10 s after the hangup (%.1f s of CPU)"
             % spent)


if __name__ == "__main__":
    sys.exit(main())
