"""The host's side of the step protocol of a scenario with a peer.

run.sh runs a scenario's `peer` next to its VM with ttyS1 going both
ways: what the guest writes lands in KLPT_SERIAL_LOG (ttyS1.txt), what
the peer writes into the fifo KLPT_SERIAL_IN the guest reads.  The guest
(guest/lib.sh `step`) writes

    KLPT-STEP NAME KEY=VALUE...

(its ground truth at that point) and holds still until the peer answers

    KLPT-ACK NAME VERDICT

("ok", or what did not hold, one line).  The results transfer at the end
(KLPT-OUT-BEGIN, guest/init) follows on the same port; the peer stops
waiting for steps there.
"""

import os
import time


class GuestEnded(Exception):
    """The guest sent its results (or the VM is gone): no more steps."""


class Serial:
    """Steps from ttyS1.txt, acks into ttyS1's input fifo."""

    def __init__(self, log_path=None, in_path=None):
        self.log_path = log_path or os.environ["KLPT_SERIAL_LOG"]
        self.in_path = in_path or os.environ["KLPT_SERIAL_IN"]
        self.offset = 0
        self.partial = b""
        self.pending = []       # lines read, not looked at yet

    def _read(self):
        """Append the complete lines written since to self.pending."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        self.pending += [ln.decode("utf-8", "replace").strip("\r") for ln in lines]

    def next_step(self, timeout):
        """(NAME, {KEY: VALUE}) of the next KLPT-STEP line, waiting at
        most TIMEOUT seconds (TimeoutError); GuestEnded at the results."""
        end = time.monotonic() + timeout
        while True:
            self._read()
            while self.pending:
                ln = self.pending.pop(0)
                if ln.startswith("KLPT-OUT-BEGIN"):
                    raise GuestEnded("the guest sent its results")
                if ln.startswith("KLPT-STEP "):
                    words = ln.split()[1:]
                    name = words[0] if words else ""
                    truth = dict(w.split("=", 1) for w in words[1:] if "=" in w)
                    return name, truth
            if time.monotonic() >= end:
                raise TimeoutError(f"no step from the guest within {timeout} s")
            time.sleep(0.1)

    def ack(self, name, verdict):
        """Send KLPT-ACK NAME VERDICT (one line).  O_NONBLOCK: with qemu
        gone there is no reader and the open fails (ENXIO) instead of
        waiting for one."""
        verdict = " ".join(str(verdict).split()) or "ok"
        line = f"KLPT-ACK {name} {verdict}\n".encode()
        try:
            fd = os.open(self.in_path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            raise GuestEnded(f"cannot ack {name}: {e}") from e
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def poll(fn, timeout, interval=0.2):
    """Call FN until it returns a true value (returned) or TIMEOUT seconds
    pass; then return its last value, falsy.  No fixed sleeps: the bound
    is an upper limit, FN decides when it holds."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= end:
            return v
        time.sleep(interval)
