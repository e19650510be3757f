#!/usr/bin/env python3
"""prepatch_window: the window before klp_start_transition(), and an
enable whose pre_patch callback fails.

Ground truth (6.1 __klp_enable_patch()): klp_init_transition() gives
every task the state !target (0) and sets klp_transition_patch (sysfs
transition 1); patch->enabled becomes true only after
klp_start_transition().  A failing pre_patch callback goes to
klp_cancel_transition(): the patch is never enabled.

- snap window: enabled 0, transition 1, every live task at 0;
- events: init before the gate opened, start only after it; the failing
  enable is init -> cancel -> complete target=unpatched, once (one
  finit_module), and never a start;
- klptop, in the window (klptop/window.*): the patch shown not enabled,
  in a transition that has not started ("pre-patch", or "?" for a
  session that joined in the window and cannot tell the direction), and
  no blockers; judge/klptop.py compares the rest with the snapshot;
- klptop's frames around the failing load (prepatch/fail.json): never
  the failed patch enabled;
- the library's dump in the window (libmodel.py compares it with
  snap window_lib): enabled 0, transition 1 as sysfs says.
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "..", "tui", "tests"))
from checks import (before, check_event, check_lp, check_lp_gone,  # noqa: E402
                    snap, trace_complete, window)
from klptjudge import Judge, load_events  # noqa: E402
import frames as fr  # noqa: E402

LPW = "klpt_lp_cb_wait"
LPF = "klpt_lp_cb_fail"

j = Judge()
ev = load_events(j.resultdir)
trace_complete(j, ev)

# --- ground truth ---------------------------------------------------------
win = snap(j, "window")
if win is not None:
    check_lp(j, win, LPW, enabled=0, transition=1)
    zpath = os.path.join(j.resultdir, "snap", "window", "zombies")
    zombies = {int(x) for x in open(zpath).read().split()} \
        if os.path.exists(zpath) else set()
    bad = [t for t in win.tasks.values()
           if t.state != 0 and t.tid not in zombies]
    j.check(not bad, "snap window: tasks not at the initial state 0: %s"
            % bad[:5])
en = snap(j, "enabled")
if en is not None:
    check_lp(j, en, LPW, enabled=1, transition=0)
failed = snap(j, "failed")
if failed is not None:
    check_lp_gone(j, failed, LPF)
    j.check(LPF not in failed.refcnt, "snap failed: %s still loaded" % LPF)
j.check(j.fact("lpf_rc") == "19", "klpt_finit %s: expected 19 (ENODEV), "
        "got %s" % (LPF, j.fact("lpf_rc")))

# --- events ---------------------------------------------------------------
w = window(j, ev, "prepatch_window: insmod " + LPW,
           "prepatch_window: open the gate")
if w is not None:
    init = w.named("klp_transition_init", patch=LPW)
    j.check(len(init) == 1, "window: expected one klp_transition_init of "
            "%s, got %d" % (LPW, len(init)), *init)
    if init:
        check_event(j, init[0], "init", "target=patched")
    st = w.named("klp_transition_start", patch=LPW)
    j.check(not st, "klp_transition_start of %s before the gate opened"
            % LPW, *st)
    # a fork copies the parent's state (klp_copy_process); nothing else
    # moves a task before the start sets TIF_PATCH_PENDING
    tasks = [e for e in w.named("klp_task_switch") if e["via"] != "fork"] \
        + w.named("klp_task_blocked")
    j.check(not tasks, "per-task events before the start", *tasks[:5])
    forks = [e for e in w.named("klp_task_switch") if e["via"] == "fork"
             and init and before(init[0], e)]
    j.check(all(e["to"] == "unpatched" for e in forks),
            "a fork in the window not at the initial state", *forks[:5])
w = window(j, ev, "prepatch_window: open the gate",
           "prepatch_window: %s enabled" % LPW)
if w is not None:
    st = w.first("klp_transition_start", patch=LPW)
    check_event(j, st, "start after the gate", "target=patched")
w = window(j, ev, "prepatch_window: load " + LPF,
           "prepatch_window: %s failed" % LPF)
if w is not None:
    seq = [e.name for e in w.where(
        lambda e: e.name.startswith("klp_transition_")
        and e.get("patch") == LPF)]
    j.check(seq == ["klp_transition_init", "klp_transition_cancel",
                    "klp_transition_complete"],
            "failing enable: expected init, cancel, complete once, got %s"
            % seq)
    c = w.first("klp_transition_complete", patch=LPF)
    check_event(j, c, "complete of the cancel", "target=unpatched")
    j.check(before(w.first("klp_transition_init", patch=LPF),
                   w.first("klp_transition_cancel", patch=LPF)),
            "cancel before init")

# --- klptop ---------------------------------------------------------------
for ext in ("json", "txt"):
    path = os.path.join(j.resultdir, "klptop", "window." + ext)
    if not j.check(os.path.exists(path), "no klptop/window.%s" % ext):
        continue
    for k, f in enumerate(fr.parse(open(path, encoding="utf-8").read())):
        p = f["patches"].get(LPW)
        if not j.check(p is not None, "window.%s frame %d: %s not shown"
                       % (ext, k, LPW)):
            continue
        j.check(not p["enabled"], "window.%s frame %d: %s shown enabled, "
                "sysfs says 0" % (ext, k, LPW))
        j.check(p["direction"] in ("pre-patch", "?"),
                "window.%s frame %d: %s shown %r, not before its start"
                % (ext, k, LPW, p["direction"]))
        j.check(not p["blockers"] and p["blockers_total"] in (0, None),
                "window.%s frame %d: blockers before the start: %s"
                % (ext, k, p["blockers"][:5]))

path = os.path.join(j.resultdir, "prepatch", "fail.json")
if os.path.exists(path):
    n = 0
    for line in open(path, encoding="utf-8"):
        if not line.strip():
            continue
        n += 1
        for p in json.loads(line)["patches"]:
            if p["name"] == LPF:
                j.check(not p["enabled"], "klptop frame %d shows the failed "
                        "patch %s enabled" % (n, LPF))
    j.check(n > 0, "prepatch/fail.json: no frame")
    j.check(j.fact("klptop_fail_rc") == "0", "klptop --json around the "
            "failing load exited %s" % j.fact("klptop_fail_rc"))
else:
    j.fail("no prepatch/fail.json (klptop not in the image?)")

j.done()
