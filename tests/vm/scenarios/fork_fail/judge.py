#!/usr/bin/env python3
"""fork_fail: a fork that fails after klp_copy_process() leaves no task.

Ground truth: the kernel's kretprobe event copy_process_ret (IS_ERR: a
failed copy_process(), written by the forking task), sched_process_exit
of every task that ran, and the snapshots' threads.  A via=fork switch
whose child never exited and is in no snapshot, followed by a failed
copy_process() of the same parent, is a child that never existed: the
scenario must produce some, each must get its klp_task_fork_failed before
that failure, and no klp_task_fork_failed may name a child that ran.
judge/libmodel.py checks the library's model against /proc at the dump.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import snap, trace_complete, window  # noqa: E402
from klptjudge import Judge, load_events  # noqa: E402

j = Judge()
ev = load_events(j.resultdir)
trace_complete(j, ev)

snaps = [s for s in (snap(j, "forks"), snap(j, "done")) if s is not None]
seen_tids = set()
for s in snaps:
    seen_tids |= set(s.tasks)
exited = {e["pid"] for e in ev.named("sched_process_exit")}

w = window(j, ev, "fork_fail: forks", "fork_fail: forks done")
if w is not None:
    # Per parent tid.  klp_task_fork_failed comes from inside the failing
    # copy_process() (cgroup_cancel_fork, before free_pid()), so before
    # the kernel's copy_process_ret of the same call.
    last_fork = {}      # its via=fork switch not yet matched to a return
    early = {}          # a klp_task_fork_failed before its return
    phantoms, reported = [], 0

    def ran(pid):
        return pid in exited or pid in seen_tids

    for e in w:
        x = e.pid
        # a fork's klp_task_switch via=fork (in a transition) and its
        # klp_task_new (every fork) name the same child
        if (e.name == "klp_task_switch" and e.get("via") == "fork") or \
                e.name == "klp_task_new":
            if last_fork.get(x, {}).get("pid") != e["pid"]:
                early.pop(x, None)
            last_fork[x] = e
        elif e.name == "klp_task_fork_failed":
            reported += 1
            j.check(not ran(e["pid"]),
                    "klp_task_fork_failed for pid %d, which ran" % e["pid"], e)
            if x in last_fork and last_fork[x]["pid"] == e["pid"]:
                early[x] = e
            else:
                j.fail("klp_task_fork_failed names no fork of its parent", e)
        elif e.name == "copy_process_ret":
            f = last_fork.pop(x, None)
            r = early.pop(x, None)
            if f is None or ran(f["pid"]):
                continue        # failed before klp_copy_process()
            phantoms.append(f["pid"])
            if r is not None:
                j.check(r["err"] == e["ret"], "klp_task_fork_failed err %d, "
                        "copy_process() returned %d" % (r["err"], e["ret"]),
                        r, e)
            else:
                j.fail("copy_process() of parent %d failed (ret %d) after "
                       "its fork event for pid %d: no klp_task_fork_failed "
                       "pid=%d before it returned"
                       % (x, e["ret"], f["pid"], f["pid"]), f, e)
    j.check(phantoms, "no fork failed after klp_copy_process(): the scenario "
            "did not exercise the window (%d failed copy_process seen)"
            % len(w.named("copy_process_ret")))
    j.check(reported == len(phantoms),
            "%d klp_task_fork_failed events for %d forks that failed after "
            "klp_copy_process()" % (reported, len(phantoms)))
    print("%d failed copy_process(), %d of them after klp_copy_process()"
          % (len(w.named("copy_process_ret")), len(phantoms)))

j.done()
