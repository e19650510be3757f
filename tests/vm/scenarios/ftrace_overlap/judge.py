#!/usr/bin/env python3
"""ftrace_overlap: every round of concurrent writers (0, 1, 0, 1 from 1)
switched ftrace at least once, so ftrace_switches must grow in each.

Ground truth: ftrace_enable_sysctl's rule (the first writer of 0 to take
ftrace_lock finds ftrace on and stops it) and every write's exit status.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from klptjudge import Judge  # noqa: E402

j = Judge()
hooks = j.read("hooks.load")
for name in ("ftrace_enable_sysctl", "last_ftrace_enabled"):
    j.check(any(line.split()[:1] == [name] and line.split()[2] == "active"
                for line in hooks.splitlines()),
            "expected %s active in hooks" % name, *hooks.splitlines())
rounds = [line.split() for line in j.read("rounds").splitlines()]
j.check(len(rounds) == 40, "expected 40 rounds, got %d" % len(rounds))
ended_on = 0
for r in rounds:
    if not j.check(len(r) == 8, "bad round line %r" % " ".join(r)):
        continue
    n, before, after, final = r[0], int(r[1]), int(r[2]), r[3]
    st = r[4:]
    j.check(st == ["0"] * 4, "round %s: a write failed: %s" % (n, st))
    ended_on += final == "1"
    j.check(after > before, "round %s: ftrace was switched off (and %s) but "
            "ftrace_switches stayed %d" % (n, "on again" if final == "1"
                                           else "stayed off", before))
print("%d rounds, %d ended with ftrace on" % (len(rounds), ended_on))
j.done()
