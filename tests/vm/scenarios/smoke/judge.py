#!/usr/bin/env python3
"""smoke: the harness's results are complete and parse."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import trace_complete  # noqa: E402
from klptjudge import Judge, load_events, load_snap  # noqa: E402

j = Judge()
ev = load_events(j.resultdir)

trace_complete(j, ev)
texts = [m.text for m in ev.markers()]
for name in ("before", "after"):
    for edge in ("begin", "end"):
        j.check("klpt_snap_%s %s" % (edge, name) in texts,
                "marker klpt_snap_%s %s missing from events.txt" % (edge, name))
j.check("smoke: between snaps" in texts, "scenario marker missing")
j.check(any(t.startswith("klpt_sync ") for t in texts), "no events_sync marker")

for name in ("before", "after"):
    try:
        snap = load_snap(j.resultdir, name)
    except (FileNotFoundError, ValueError) as e:
        j.fail("snapshot %s: %s" % (name, e))
        continue
    init = snap.tasks.get(1)
    if j.check(init is not None, "snap %s: no pid 1" % name):
        tgid, state, kthread, comm = init
        j.check(tgid == 1 and not kthread and comm == "init",
                "snap %s: pid 1 is %r" % (name, init))
        # No livepatch is loaded: nobody has a patch state.
        j.check(state == -1, "snap %s: pid 1 patch_state %d" % (name, state))
    j.check(any(t.kthread for t in snap.tasks.values()),
            "snap %s: no kthread found (PF_KTHREAD decoding?)" % name)
    j.check(snap.tasks.get(2) and snap.tasks[2].comm == "kthreadd"
            and snap.tasks[2].kthread, "snap %s: pid 2 is not kthreadd" % name)
    j.check(snap.livepatch == {}, "snap %s: unexpected livepatches %r"
            % (name, snap.livepatch))

# With klptrace in the image, it was loaded before "before" and unloaded
# before "after"; its rmmod shows as a module_free event.
if "klptrace.ko" in j.read("build-info"):
    before = load_snap(j.resultdir, "before")
    j.check(before.refcnt.get("klptrace") == 0,
            "klptrace not loaded with refcnt 0 in snap before: %r"
            % before.refcnt.get("klptrace"))
    j.check(before.hooks, "no /sys/kernel/klptrace/hooks in snap before")
    j.check("klptrace" not in load_snap(j.resultdir, "after").refcnt,
            "klptrace still loaded in snap after")
    j.check(ev.named("module_free", name="klptrace"),
            "no module_free event for klptrace")

j.done()
