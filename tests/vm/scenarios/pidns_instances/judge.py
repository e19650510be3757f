#!/usr/bin/env python3
"""pidns_instances: two pid-1 klptops of two PID namespaces, one killed."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from klptjudge import Judge, load_snap  # noqa: E402

j = Judge()
for name, what in (("two_instances", "A and B had one instance each"),
                   ("both_see_blocker", "A and B both saw the sleeper"),
                   ("stale_removed", "C removed the dead A's instance only"),
                   ("b_clean", "B's instance and lock went with B")):
    j.check(j.fact(name) == "1", "not reached: " + what)
j.check(j.fact("rc_C") == "0", "C exited %s" % j.fact("rc_C"))
j.check(j.fact("rc_B") == "143", "B exited %s on SIGTERM" % j.fact("rc_B"))
try:
    snap = load_snap(j.resultdir, "blocked")
except FileNotFoundError as e:
    snap = None
    j.fail(str(e))
if snap:
    sleeper = int(j.fact("sleeper_pid"))
    lp = snap.livepatch.get("klpt_lp_sleep", {})
    j.check(lp.get("transition") == 1,
            "not in transition when judged: %s" % lp)
    task = snap.tasks.get(sleeper)
    j.check(task is not None and task.state == 0,
            "the sleeper %d was not unpatched in snapshot blocked: %r"
            % (sleeper, task))
j.done()
