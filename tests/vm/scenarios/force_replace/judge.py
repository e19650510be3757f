#!/usr/bin/env python3
"""force_replace: forcing an atomic replace's enable forces the replaced.

6.1 klp_force_transition() during the patching transition of a replace
patch marks every other patch on klp_patches forced (the ones it
replaces), not the replace patch.  Ground truth: snapshots (patch
directories, refcnt), rmmod's status for both modules.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (before, check_event, check_forced_replace_end,  # noqa: E402
                    check_lp, check_lp_gone,
                    check_refcnt, snap, trace_complete, window)
from klptjudge import Judge, load_events  # noqa: E402

LP = "klpt_lp_sleep"
LP2 = "klpt_lp_sleep2"

j = Judge()
ev = load_events(j.resultdir)
trace_complete(j, ev)

# --- ground truth ---------------------------------------------------------
blocked = snap(j, "blocked")
forced = snap(j, "forced")
ready = snap(j, "ready")
final = snap(j, "final")

if blocked is not None:
    check_lp(j, blocked, LP, enabled=1, transition=0)
    check_lp(j, blocked, LP2, enabled=1, transition=1)
if forced is not None:
    check_lp_gone(j, forced, LP)
    check_lp(j, forced, LP2, enabled=1, transition=0)
    check_refcnt(j, forced, LP, 1, " (replaced and forced: kept)")
check_forced_replace_end(j, ready, final, LP, LP2)

# --- events: the force ----------------------------------------------------
w = window(j, ev, "force_replace: force", "force_replace: rmmod " + LP)
if w is not None:
    f = w.named("klp_transition_force")
    j.check(len(f) == 1, "force: expected one klp_transition_force, got %d"
            % len(f), *f)
    if f:
        check_event(j, f[0], "the force", "patch=%s target=patched" % LP2)
    marks = w.named("klp_patch_forced")
    j.check([m["patch"] for m in marks] == [LP],
            "force: expected exactly one klp_patch_forced patch=%s (the "
            "replaced patch), got" % LP, *marks)
    c = w.named("klp_transition_complete")
    j.check(len(c) == 1, "force: expected one complete, got %d" % len(c), *c)
    if c:
        check_event(j, c[0], "the replace's complete",
                    "patch=%s target=patched forced=0" % LP2)
        j.check(not marks or before(marks[0], c[0]),
                "force: klp_patch_forced after the complete", *marks)
    for name in ("klp_patch_free", "klp_patch_release"):
        e = w.named(name, patch=LP)
        j.check(len(e) == 1 and e[0]["forced"] == 1,
                "force: expected one %s patch=%s forced=1, got %d"
                % (name, LP, len(e)), *e)

# The replaced module never gets its reference back.
w = window(j, ev, "force_replace: force")
if w is not None:
    puts = w.named("klp_module_ref", module=LP, op="put")
    j.check(not puts, "%s's reference was dropped after the force" % LP, *puts)
    for name in ("klp_module_unload_ready", "klp_module_free"):
        e = w.named(name, module=LP)
        j.check(not e, "%s for the forced %s" % (name, LP), *e)

# --- events: the replace patch's disable -----------------------------------
w = window(j, ev, "force_replace: disable " + LP2, "force_replace: rmmod " + LP2)
if w is not None:
    c = w.named("klp_transition_complete", patch=LP2)
    j.check(len(c) == 1, "disable: expected one complete, got %d" % len(c), *c)
    if c:
        check_event(j, c[0], "the disable's complete",
                    "patch=%s target=unpatched forced=0" % LP2)
    fr = w.named("klp_patch_free", patch=LP2)
    j.check(len(fr) == 1 and fr[0]["forced"] == 0,
            "disable: expected one klp_patch_free patch=%s forced=0" % LP2, *fr)
    r = w.named("klp_module_unload_ready", module=LP2)
    j.check(len(r) == 1, "disable: expected one unload_ready of %s" % LP2, *r)

j.done()
