#!/usr/bin/env python3
"""force_reversed_replace: a force after a replace's disable was reversed.

6.1 klp_force_transition() marks every patch other than the transition
patch forced whenever the target is patched and the transition patch is
an atomic replace, wherever that patch sits on klp_patches.  Here the
replace klpt_lp_sleep2 is first on the list, klpt_lp_sleep after it: the
force must mark (and klptrace.ko report) klpt_lp_sleep, which the
replace's completion leaves enabled (the core replaces only the patches
before it) and whose disable then frees it forced.  Ground truth:
snapshots (patch directories, refcnt), rmmod's status for both modules;
judge/libmodel.py (run by run.sh) checks the library's model and its
unload verdicts at the dumps stacked, forced, disabled and ready.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (before, check_event, check_forced_replace_end,  # noqa: E402
                    check_lp, check_lp_gone,
                    check_refcnt, require_markers, snap, trace_complete,
                    window)
from klptjudge import Judge, load_events  # noqa: E402

LP = "klpt_lp_sleep"
LP2 = "klpt_lp_sleep2"
S = "force_reversed_replace"

j = Judge()
ev = load_events(j.resultdir)
trace_complete(j, ev)
N = j.fact("attempts")
j.check(N.isdigit(), "expected the fact attempts, got %r" % N)
if not N.isdigit():
    j.done()
M_REVERSE = "%s: reverse %s %s" % (S, LP2, N)
require_markers(j, ev, "%s: force %s" % (S, LP), M_REVERSE,
                "%s: forced %s" % (S, LP2), "%s: disable %s" % (S, LP),
                "%s: rmmod %s" % (S, LP))

# The hook the fix needs: klp_patches found through kallsyms.
hooks = j.read("hooks.load")
j.check(any(line.split()[:3] == ["klp_patches", "symbol", "active"]
            for line in hooks.splitlines()),
        "expected 'klp_patches symbol active' in hooks",
        *hooks.splitlines())

# --- ground truth ---------------------------------------------------------
stacked = snap(j, "stacked")
forced = snap(j, "forced")
disabled = snap(j, "disabled")
ready = snap(j, "ready")
final = snap(j, "final")

if stacked is not None:
    check_lp(j, stacked, LP2, enabled=1, transition=0)
    check_lp(j, stacked, LP, enabled=1, transition=0)
    check_refcnt(j, stacked, LP, 1)
if forced is not None:
    check_lp(j, forced, LP2, enabled=1, transition=0)
    check_lp(j, forced, LP, enabled=1, transition=0,
             why=" (after the replace on the list: not replaced)")
    check_refcnt(j, forced, LP, 1)
if disabled is not None:
    check_lp_gone(j, disabled, LP)
    check_refcnt(j, disabled, LP, 1, " (forced: never dropped)")
check_forced_replace_end(j, ready, final, LP, LP2)

# --- events: the force of LP's enable marks nothing -----------------------
w = window(j, ev, "%s: force %s" % (S, LP), "%s: disable %s 1" % (S, LP2))
if w is not None:
    marks = w.named("klp_patch_forced")
    j.check(not marks, "force of %s's enable: expected no klp_patch_forced"
            % LP, *marks)
    c = w.named("klp_transition_complete", patch=LP)
    j.check(len(c) == 1, "force of %s: expected one complete" % LP, *c)
    if c:
        check_event(j, c[0], "the enable's complete",
                    "patch=%s target=patched forced=0" % LP)

# --- events: the last reverse and its force -------------------------------
# Earlier attempts (the reversed transition completed first) mark nothing.
w = window(j, ev, "%s: disable %s 1" % (S, LP2), M_REVERSE)
if w is not None:
    marks = w.named("klp_patch_forced")
    j.check(not marks, "no klp_patch_forced before the last reverse", *marks)

w = window(j, ev, M_REVERSE, "%s: disable %s" % (S, LP))
if w is not None:
    r = w.named("klp_transition_reverse", patch=LP2)
    j.check(len(r) == 1, "expected one klp_transition_reverse of %s" % LP2,
            *r)
    if r:
        check_event(j, r[0], "the reverse", "patch=%s target=patched" % LP2)
    f = w.named("klp_transition_force")
    j.check(len(f) == 1, "force: expected one klp_transition_force, got %d"
            % len(f), *f)
    if f:
        check_event(j, f[0], "the force", "patch=%s target=patched" % LP2)
    marks = w.named("klp_patch_forced")
    j.check([m["patch"] for m in marks] == [LP],
            "force: expected exactly one klp_patch_forced patch=%s (the "
            "patch stacked after the replace), got" % LP, *marks)
    c = w.named("klp_transition_complete")
    j.check(len(c) == 1, "force: expected one complete, got %d" % len(c), *c)
    if c:
        check_event(j, c[0], "the replace's complete",
                    "patch=%s target=patched forced=0" % LP2)
        j.check(not marks or before(marks[0], c[0]),
                "force: klp_patch_forced after the complete", *marks)
        if f and marks:
            j.check(before(f[0], marks[0]),
                    "force: klp_patch_forced before klp_transition_force",
                    *marks)
    fr = w.named("klp_patch_free")
    j.check(not fr, "force: no patch is freed (nothing before the replace)",
            *fr)

w = window(j, ev, "%s: disable %s" % (S, LP), "%s: rmmod %s" % (S, LP))
if w is not None:
    c = w.named("klp_transition_complete", patch=LP)
    j.check(len(c) == 1, "disable of %s: expected one complete" % LP, *c)
    if c:
        check_event(j, c[0], "the disable's complete",
                    "patch=%s target=unpatched forced=1" % LP)
    for name in ("klp_patch_free", "klp_patch_release"):
        e = w.named(name, patch=LP)
        j.check(len(e) == 1 and e[0]["forced"] == 1,
                "disable of %s: expected one %s forced=1, got %d"
                % (LP, name, len(e)), *e)

# The forced module never gets its reference back.
w = window(j, ev, M_REVERSE)
if w is not None:
    puts = w.named("klp_module_ref", module=LP, op="put")
    j.check(not puts, "%s's reference was dropped after the force" % LP, *puts)
    for name in ("klp_module_unload_ready", "klp_module_free"):
        e = w.named(name, module=LP)
        j.check(not e, "%s for the forced %s" % (name, LP), *e)

# --- events: the replace patch's own disable ------------------------------
w = window(j, ev, "%s: disable %s again" % (S, LP2), "%s: rmmod %s" % (S, LP2))
if w is not None:
    c = w.named("klp_transition_complete", patch=LP2)
    j.check(len(c) == 1, "disable: expected one complete, got %d" % len(c), *c)
    if c:
        check_event(j, c[0], "the disable's complete",
                    "patch=%s target=unpatched forced=0" % LP2)
    fr = w.named("klp_patch_free", patch=LP2)
    j.check(len(fr) == 1 and fr[0]["forced"] == 0,
            "disable: expected one klp_patch_free patch=%s forced=0" % LP2,
            *fr)
    r = w.named("klp_module_unload_ready", module=LP2)
    j.check(len(r) == 1, "disable: expected one unload_ready of %s" % LP2, *r)

j.done()
