#!/usr/bin/env python3
"""stress_reload: 100 load/unload cycles of klptrace.ko while
klpt_lp_sleep's transitions are held up and end (see guest.sh for the
phases).

Ground truth: the snapshots lib_unload1..3 (cycles 25, 50, 75: the
patching transition blocked with klpt_sleeper at 0, the patch on with no
transition, the unpatching transition blocked with klpt_sleeper at 1),
last_load / lib_final (patch and module gone, klptrace loaded), the
sleeper's pid, the kernel's module:module_free of klptrace.  Checked,
cycle by cycle (between "load N" and "unloaded N"): the transition
events there are say what the phase is (the patch, the target, the
blocked sleeper, passes counted on from the core's own retry counter,
no transition at all when none runs), the one completion of each
transition where the guest ended it, and klptrace's module_free at every
unload.  run.sh checks dmesg for splats and libmodel.py the four
sessions' models.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (check_lp, check_lp_gone, check_refcnt,  # noqa: E402
                    check_task, need_int, require_markers, sleeping_in,
                    snap, trace_complete)
from klptjudge import Judge, load_events, show  # noqa: E402

LP = "klpt_lp_sleep"
FUNC = "klpt_sleep_fn"

j = Judge()
ev = load_events(j.resultdir)
at = ev.pos
n = need_int(j, "the number of cycles", "facts", "cycles")
sleeper = need_int(j, "the sleeper's pid", "facts", "sleeper_pid")

trace_complete(j, ev)
require_markers(j, ev, "stress_reload: insmod %s" % LP,
                "stress_reload: release 1", "stress_reload: disable",
                "stress_reload: release 2", "stress_reload: rmmod %s" % LP,
                "stress_reload: load %d" % n)

# --- snapshots -------------------------------------------------------------
s = snap(j, "lib_unload1")
if s:
    check_lp(j, s, LP, enabled=1, transition=1, why=" (cycle 25: patching "
             "transition blocked)")
    check_task(j, s, sleeper, "klpt_sleeper", state=0,
               why=" (asleep in the original function)")
s = snap(j, "lib_unload2")
if s:
    check_lp(j, s, LP, enabled=1, transition=0, why=" (cycle 50: patched)")
    check_refcnt(j, s, LP, 1)
s = snap(j, "lib_unload3")
if s:
    check_lp(j, s, LP, enabled=0, transition=1, why=" (cycle 75: unpatching "
             "transition blocked)")
    check_task(j, s, sleeper, "klpt_sleeper", state=1,
               why=" (asleep in the new function)")
for name in ("last_load", "lib_final"):
    s = snap(j, name)
    if s:
        check_lp_gone(j, s, LP)
        check_refcnt(j, s, LP, None, " (removed after cycle 90)")
        j.check("klptrace" in s.refcnt, "snap %s: expected klptrace loaded "
                "after the last load" % name)

# --- cycle by cycle -----------------------------------------------------------
idx = {m.text: at(m) for m in ev.markers("stress_reload: ")}
i_rel1 = idx["stress_reload: release 1"]
i_rel2 = idx["stress_reload: release 2"]
bad = []
passes = {"patched": [], "unpatched": []}
completes = []
for i in range(1, n + 1):
    a = idx.get("stress_reload: load %d" % i)
    b = idx.get("stress_reload: unloaded %d" % i, len(ev)) if i < n \
        else len(ev)
    if a is None or (i < n and "stress_reload: unloaded %d" % i not in idx):
        bad.append("cycle %d: markers missing" % i)
        continue
    w = ev._sub(ev[a + 1:b])
    tr = w.where(lambda e: e.name.startswith("klp_transition_"))
    completes += tr.named("klp_transition_complete")
    blocked = w.named("klp_task_blocked")
    if i <= 25 or i == 26:
        target, ok_before = "patched", (i_rel1 if i == 26 else b)
    elif 51 <= i <= 76:
        target, ok_before = "unpatched", (i_rel2 if i == 76 else b)
    else:
        target, ok_before = None, a
    # While the transition is blocked: passes of LP toward TARGET, with
    # something pending, the sleeper blocked in FUNC, nothing else.
    held = tr.where(lambda e, x=ok_before: at(e) < x)
    after = tr.where(lambda e, x=ok_before: at(e) > x)
    for e in held:
        if e.name not in ("klp_transition_pass", "klp_transition_signal") \
                or e["patch"] != LP or e["target"] != target or \
                e["pending"] < 1:
            bad.append("cycle %d: expected only passes (and signals) of %s "
                       "target=%s pending>=1 while blocked, got %s"
                       % (i, LP, target, str(e).strip()))
    passes.setdefault(target, []).extend(held.named("klp_transition_pass"))
    for e in blocked.where(lambda e, x=ok_before: at(e) < x):
        if e["pid"] != sleeper or not sleeping_in(e, FUNC) or \
                e["target"] != target:
            bad.append("cycle %d: expected only klpt_sleeper blocked in %s "
                       "toward %s, got %s" % (i, FUNC, target,
                                              str(e).strip()))
    if target is None:
        if tr:
            bad.append("cycle %d: transition events with none running: %s"
                       % (i, "; ".join(show(tr, 3))))
    elif i in (26, 76):
        # The release: the transition may end in this cycle (26: the
        # guest waits for it; 76: klptrace may be gone first).
        ends = after.named("klp_transition_complete")
        if i == 26 and len(ends) != 1:
            bad.append("cycle 26: expected the patching transition to "
                       "complete once after the release, got %d" % len(ends))
        j.check(all(e["patch"] == LP and e["target"] == target and
                    e["forced"] == 0 for e in ends),
                "cycle %d: expected completions of %s target=%s forced=0"
                % (i, LP, target), *show(ends))
    elif after:
        bad.append("cycle %d: unexpected %s" % (i, "; ".join(show(after, 3))))
    if i < n:
        kfree = w.where(lambda e: e.name == "module_free" and
                        e.get("name") == "klptrace")
        if len(kfree) != 1:
            bad.append("cycle %d: expected one module_free of klptrace at its "
                       "unload, got %d" % (i, len(kfree)))
j.check(not bad, "expected every cycle's events to fit its phase, %d "
        "problems" % len(bad), *bad[:15])

# The core's retry count goes on across loads (klptrace reads it from
# klp_signals_cnt at load): pass numbers only grow within a transition.
for target in ("patched", "unpatched"):
    ps = passes[target]
    nums = [p["pass"] for p in ps]
    j.check(nums == sorted(nums) and len(set(nums)) == len(nums),
            "expected the %s transition's pass numbers to grow across the "
            "cycles, got %s" % (target, nums[:40]))
    j.check(len(ps) >= 5, "expected several passes of the blocked %s "
            "transition over 25 cycles, got %d" % (target, len(ps)))
ends = [e for e in completes if e["patch"] == LP]
j.check([e["target"] for e in ends] in (["patched"],
                                        ["patched", "unpatched"]),
        "expected klptrace to see the patching transition complete (cycle "
        "26) and at most the unpatching one (cycle 76)", *show(ends))

j.done()
