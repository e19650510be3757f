#!/usr/bin/env python3
"""stress_lost: a fork storm while the library's session (4 KiB ring
buffer, reader stopped) cannot keep up.

Ground truth: klpt_e2e's own trace (4 MiB, nothing lost: every fork's
klp_task_switch via=fork is there), the facts (storm size, the kept
children's pids), snapshot `resynced` (the transition still blocked, the
kept children at their patch state).  Checked: the session lost events
(lost > 0 in its dumps, the fork events it delivered are fewer than the
kernel wrote), said so (a "lost" event) and resynced (a "resync" event
after it, before the dump), and after the resync its model has every
kept child, which it heard nothing of, at the state the snapshot reads.
libmodel.py (lib/1/expect_lost) compares the whole model with
`resynced` and lib_final.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (check_lp, need_int, require_markers, snap,  # noqa: E402
                    trace_complete, window)
from klptjudge import Judge, load_events  # noqa: E402
from libmodel import Model  # noqa: E402

LP = "klpt_lp_sleep"

j = Judge()
ev = load_events(j.resultdir)
storm = need_int(j, "the storm's size", "facts", "storm")
keep = need_int(j, "the number of kept children", "facts", "keep")
kept = [int(x) for x in j.fact("kept").split()]
j.check(len(kept) == keep, "expected %d kept children's pids, got %r"
        % (keep, kept))

trace_complete(j, ev)
require_markers(j, ev, "stress_lost: stop the session",
                "stress_lost: fork storm", "stress_lost: storm done",
                "stress_lost: resynced", "klpt_snap_end resynced")

# --- what the kernel did: klpt_e2e --------------------------------------------
w = window(j, ev, "stress_lost: fork storm", "stress_lost: storm done")
shell_forks = set()
if w is not None:
    forks = w.named("klp_task_switch", via="fork")
    shell = ev.markers("stress_lost: fork storm")[0].pid
    mine = forks.where(lambda e: e.pid == shell)
    shell_forks = {e["pid"] for e in mine}
    j.check(len(mine) >= storm + keep, "expected at least %d fork events of "
            "the shell's children in klpt_e2e, got %d"
            % (storm + keep, len(mine)))
    j.check(all(e["from"] == "undefined" and e["to"] == "patched"
                for e in mine),
            "expected every child born patched (the shell had switched; the "
            "transition toward patched)")
    j.check(set(kept) <= shell_forks, "expected a fork event of every kept "
            "child in klpt_e2e, missing %s" % sorted(set(kept) - shell_forks))

s = snap(j, "resynced")
if s:
    check_lp(j, s, LP, enabled=1, transition=1, why=" (klpt_sleeper holds it)")
    bad = [(p, s.tasks.get(p)) for p in kept
           if p not in s.tasks or s.tasks[p].state != 1]
    j.check(not bad, "snap resynced: expected every kept child at "
            "patch_state 1, got %s" % bad)

# --- what the session saw ---------------------------------------------------------
d = j.path("lib", "1")
log = j.read("lib", "1", "events.log").splitlines()
seen = set()
lost_at = resync_at = None
for n, line in enumerate(log):
    words = line.split(" ")
    if len(words) < 2:
        continue
    if words[1] == "lost" and lost_at is None:
        lost_at = n
    elif words[1] == "resync" and lost_at is not None and resync_at is None:
        resync_at = n
    elif words[1] == "klp_task_switch" and "via=4" in words:
        pid = next((int(x[4:]) for x in words if x.startswith("pid=")), None)
        if pid in shell_forks:
            seen.add(pid)
j.check(os.path.exists(os.path.join(d, "expect_lost")), "expected "
        "lib/1/expect_lost (the guest's knob for libmodel.py)")
if j.check(lost_at is not None, "expected a lost event in the session's "
           "events.log"):
    j.check(resync_at is not None, "expected a resync after the lost event",
            log[lost_at])
j.check(len(seen) < len(shell_forks), "expected the session to miss fork "
        "events (a 4 KiB buffer, reader stopped): it delivered %d of %d"
        % (len(seen), len(shell_forks)))
print("the session delivered %d of the %d fork events the kernel wrote"
      % (len(seen), len(shell_forks)))

# The dump after the resync: its model knows every kept child, patched,
# whether or not it saw the fork.
dumps = [f for f in os.listdir(d) if f.startswith("dump.") and
         f.endswith(".snap") and j.read("lib", "1", f).strip() == "resynced"]
if j.check(len(dumps) == 1, "expected one dump compared with snap resynced, "
           "got %r" % dumps):
    m = Model(j.read("lib", "1", dumps[0][:-len("snap")] + "txt"), dumps[0])
    j.check(m.lost > 0, "expected lost > 0 in the model at snap resynced, "
            "got %s" % m.lost)
    bad = [p for p in kept if m.state(p) != 1]
    j.check(not bad, "expected the resynced model to have every kept child "
            "patched, these are not: %s" % bad)
    unseen = [p for p in kept if p not in seen]
    j.check(unseen, "expected the storm to overwrite the kept children's "
            "fork events (forked before it) in the session's buffer, it "
            "delivered all %d" % len(kept))
    print("%d kept children were unseen by the session and found by the "
          "resync" % len(unseen))

j.done()
