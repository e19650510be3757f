#!/usr/bin/env python3
"""force_patching: a forced *patching* transition leaves the patch unforced.

6.1 klp_force_transition() sets patch->forced only when the target is
unpatched (or, for an atomic replace, on the replaced patches).  Ground
truth: snapshots (transition, refcnt, patch directory), rmmod's status.
The events must say what the kernel decided: no klp_patch_forced, both
completes forced=0, an unforced free chain ending in unload_ready.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (before, check_event, check_lp, check_lp_gone,  # noqa: E402
                    check_refcnt, check_task, need_int, snap,
                    trace_complete, window)
from klptjudge import Judge, load_events  # noqa: E402

LP = "klpt_lp_sleep"

j = Judge()
ev = load_events(j.resultdir)

trace_complete(j, ev)
sleeper = need_int(j, "the sleeper pid", "facts", "sleeper_pid")

# --- ground truth ---------------------------------------------------------
blocked = snap(j, "blocked")
forced = snap(j, "forced")
ready = snap(j, "ready")
removed = snap(j, "removed")

if blocked is not None:
    check_lp(j, blocked, LP, enabled=1, transition=1)
    check_task(j, blocked, sleeper, "the sleeper", state=0,
               why=" (blocks the patching transition)")
    check_refcnt(j, blocked, LP, 1)
if forced is not None:
    check_lp(j, forced, LP, enabled=1, transition=0)
    check_refcnt(j, forced, LP, 1)
if ready is not None:
    check_lp_gone(j, ready, LP)
    check_refcnt(j, ready, LP, 0, " (not forced: the free path put it)")
if removed is not None:
    j.check(LP not in removed.refcnt, "snap removed: %s still loaded" % LP)

st = j.read("rmmod_status").strip()
j.check(st == "0", "rmmod %s: expected success (status 0), got status %r: %s"
        % (LP, st, j.read("rmmod.txt").strip()))

# --- events: the force ----------------------------------------------------
w = window(j, ev, "force_patching: force", "force_patching: release")
if w is not None:
    f = w.named("klp_transition_force")
    j.check(len(f) == 1 and f[0]["patch"] == LP and f[0]["target"] == "patched",
            "force: expected one klp_transition_force patch=%s target=patched, "
            "got %d" % (LP, len(f)), *f)
    sw = w.named("klp_task_switch", pid=sleeper)
    j.check(len(sw) == 1, "force: expected one switch of klpt_sleeper, got %d"
            % len(sw), *sw)
    if sw:
        check_event(j, sw[0], "klpt_sleeper's switch at the force",
                    "from=unpatched to=patched via=force")
    marks = w.named("klp_patch_forced")
    j.check(not marks, "force: the kernel marks nothing forced when forcing "
            "an enable, yet klp_patch_forced fired", *marks)
    c = w.named("klp_transition_complete")
    j.check(len(c) == 1, "force: expected one complete, got %d" % len(c), *c)
    if c:
        check_event(j, c[0], "the forced enable's complete",
                    "patch=%s target=patched forced=0" % LP)
        j.check(not f or before(f[0], c[0]), "force: complete before the force")

# --- events: the disable and the free chain -------------------------------
w = window(j, ev, "force_patching: disable", "force_patching: rmmod")
if w is not None:
    c = w.named("klp_transition_complete", patch=LP)
    j.check(len(c) == 1, "disable: expected one complete, got %d" % len(c), *c)
    if c:
        check_event(j, c[0], "the disable's complete",
                    "patch=%s target=unpatched forced=0" % LP)
    for name in ("klp_patch_free", "klp_patch_release"):
        e = w.named(name, patch=LP)
        j.check(len(e) == 1 and e[0]["forced"] == 0,
                "disable: expected one %s patch=%s forced=0, got %d"
                % (name, LP, len(e)), *e)
    puts = w.named("klp_module_ref", module=LP, op="put")
    j.check(puts and puts[-1]["refcnt"] == 0,
            "disable: expected the free path's put to refcnt 0", *puts)
    r = w.named("klp_module_unload_ready", module=LP)
    j.check(len(r) == 1, "disable: expected one klp_module_unload_ready, got %d"
            % len(r), *r)

w = window(j, ev, "force_patching: rmmod")
if w is not None:
    gone = w.named("klp_module_free", module=LP)
    j.check(len(gone) == 1, "rmmod: expected one klp_module_free of %s, got %d"
            % (LP, len(gone)), *gone)

j.done()
