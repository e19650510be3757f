#!/usr/bin/env python3
"""hostile_comm: klptop's outputs against the comm the kernel holds.

The truth is /proc/PID/comm of the reader (hostile_comm, with the
kernel's newline at the end) and the facts.  In the C locale every text
output must show each byte that is not printable ASCII as '?' (esc.c,
as ps(1) does), carry no control byte at all and keep its line format;
--json must give the exact name back (strict UTF-8, no Latin-1 per byte).
"""

import json
import os
import re
import sys

from klptjudge import Judge

CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]")


def raw(j, name):
    p = j.path(name)
    if not os.path.exists(p):
        j.fail("%s is missing" % name)
        return b""
    with open(p, "rb") as f:
        return f.read()


def no_controls(j, name, data):
    """No control byte but the line ends; valid UTF-8 without C1."""
    m = CONTROL.search(data)
    j.check(not m, "%s has a raw control byte" % name,
            m and repr(data[max(0, m.start() - 40):m.start() + 40]))
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        j.fail("%s is not UTF-8: %s" % (name, e))
        return
    c1 = re.search("[\x80-\x9f]", text)
    j.check(not c1, "%s has a C1 control" % name)


def main():
    j = Judge(sys.argv[1])
    # 1. TERM: one line, exit 2, no instance left behind
    before = j.read("instances.before")
    for t in ("unset", "bogus", "dumb"):
        err = j.read("term_%s.err" % t)
        j.check(j.fact("term_%s_rc" % t) == "2",
                "TERM %s: exit %s, not 2: %s" % (t, j.fact("term_%s_rc" % t),
                                                 err))
        j.check(err.count("\n") == 1 and err.startswith("klptop: "),
                "TERM %s: stderr is not one klptop line: %r" % (t, err))
        after = j.read("instances.after_%s" % t)
        j.check(after == before, "TERM %s: tracefs instances %r before, "
                "%r after" % (t, before, after))
    if not j.fact("hostile_pid").isdigit():
        j.fail("no hostile_pid: the scenario stopped early")
        return j.done()
    pid = int(j.fact("hostile_pid"))
    comm = raw(j, "hostile_comm")
    j.check(comm.endswith(b"\n"), "hostile_comm: no newline at the end")
    comm = comm[:-1]
    want = b"x\x1b[2J\x07\nE\xc3\xa9"
    j.check(comm == want, "the kernel holds comm %r, the scenario set %r"
            % (comm, want))
    j.check(j.fact("hostile_uid") == "65534", "the reader is not nobody")
    shown = bytes(c if 0x20 <= c < 0x7f else ord("?") for c in comm)
    shown = shown.decode("ascii")

    # 2. the window held: the reader was pending all along
    j.check(j.fact("after_state") == "0" and
            j.fact("after_transition") == "1",
            "the reader switched before klptop's runs ended")
    for name, err in (("frames.txt", "frames.err"),
                      ("frames.json", "frames.json.err"),
                      ("script.txt", "script.err")):
        no_controls(j, name, raw(j, name))
        no_controls(j, err, raw(j, err))
    j.check(j.fact("batch_rc") == "0", "-b exited %s" % j.fact("batch_rc"))
    j.check(j.fact("json_rc") == "0", "--json exited %s" % j.fact("json_rc"))
    j.check(j.fact("script_rc") == "1",
            "the scripted flow's --timeout 2 exited %s, not 1"
            % j.fact("script_rc"))

    # -b: the blocker row, whole on one line, the name as ps shows it
    frames = j.read("frames.txt")
    row = re.compile(r"^ +%d +%d %s +- +sleeping in +klpt_read_proc_read "
                     % (pid, pid, re.escape(shown)), re.M)
    j.check(row.search(frames), "-b: no blocker row '%d %d %s ...'"
            % (pid, pid, shown), frames)

    # --json: the exact name back
    found = False
    for n, line in enumerate(raw(j, "frames.json").splitlines()):
        try:
            frame = json.loads(line.decode("utf-8", errors="strict"))
        except (UnicodeDecodeError, ValueError) as e:
            j.fail("--json line %d: %s" % (n + 1, e))
            continue
        for p in frame["patches"]:
            for b in p["blockers"]:
                if b["pid"] == pid:
                    found = True
                    j.check(b["comm"] == comm.decode("utf-8"),
                            "--json comm %r, the kernel's %r"
                            % (b["comm"], comm.decode("utf-8")))
    j.check(found, "--json: the reader %d is never a blocker" % pid)

    # the scripted flow: its progress names the blocker, escaped
    script = j.read("script.txt")
    j.check("    blocker %s[%d]: sleeping in klpt_read_proc_read"
            % (shown, pid) in script,
            "the scripted flow does not name blocker %s[%d]" % (shown, pid),
            script)
    j.check(re.search(r"^timeout after \d+s: klpt_lp_read: enabled: ",
                      script, re.M), "no timeout line", script)
    return j.done()


if __name__ == "__main__":
    sys.exit(main())
