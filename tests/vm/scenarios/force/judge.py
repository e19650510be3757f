#!/usr/bin/env python3
"""force: a stalled unpatching transition forced through.

Ground truth: the snapshots (patch_state of klpt_sleeper, transition,
refcnt), rmmod's exit status, the sleeper's pid parameter.  The events
must agree with them: the force, the sleeper's via=force switch, a forced
completion, a forced free/release, and no module put afterwards.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (before, check_event, check_lp, check_lp_gone,  # noqa: E402
                    check_refcnt, check_task, need_int, sleeping_in, snap,
                    trace_complete, window)
from klptjudge import Judge, load_events  # noqa: E402

LP = "klpt_lp_sleep"
FUNC = "klpt_sleep_fn"

j = Judge()
ev = load_events(j.resultdir)

trace_complete(j, ev)
sleeper = need_int(j, "the sleeper pid", "facts", "sleeper_pid")

# --- ground truth ---------------------------------------------------------
patched = snap(j, "patched")
blocked = snap(j, "blocked")
forced = snap(j, "forced")
released = snap(j, "released")

for s in (patched, blocked, forced, released):
    if s is not None:
        check_task(j, s, sleeper, "the sleeper", comm="klpt_sleeper",
                   kthread=True)

if patched is not None:
    check_lp(j, patched, LP, enabled=1, transition=0)
if blocked is not None:
    check_lp(j, blocked, LP, enabled=0, transition=1)
    check_task(j, blocked, sleeper, "the sleeper", state=1,
               why=" (still patched)")
    check_refcnt(j, blocked, LP, 1)
if forced is not None:
    check_lp_gone(j, forced, LP)
    check_refcnt(j, forced, LP, 1, " (a forced patch keeps its reference)")
    check_task(j, forced, sleeper, "the sleeper", state=-1,
               why=" (no transition)")
if released is not None:
    check_refcnt(j, released, LP, 1, " (still loaded)")

st = j.read("rmmod_status").strip()
j.check(st not in ("", "0"),
        "rmmod %s: expected failure (non-zero status), got status %r: %s"
        % (LP, st, j.read("rmmod.txt").strip()))

# --- events: the patching transition --------------------------------------
w = window(j, ev, "force: load patch", "force: block")
if w is not None:
    c = w.named("klp_transition_complete", patch=LP)
    j.check(len(c) == 1 and c[0]["target"] == "patched" and c[0]["forced"] == 0,
            "patching: expected one complete target=patched forced=0, got %d" % len(c),
            *c)

# The module reference as the events last reported it must be what
# /sys/module/klpt_lp_sleep/refcnt read in snap patched (1: the patch's).
if patched is not None and w is not None:
    refs = w.named("klp_module_ref", module=LP)
    j.check(refs and refs[-1]["refcnt"] == patched.refcnt.get(LP),
            "patching: the last klp_module_ref of %s says refcnt %r, snap patched "
            "reads %r" % (LP, refs[-1]["refcnt"] if refs else None,
                          patched.refcnt.get(LP)), *refs)

# --- events: the stalled disable ------------------------------------------
w = window(j, ev, "force: disable", "force")
if w is not None:
    init = w.first("klp_transition_init", patch=LP)
    j.check(init is not None and init["target"] == "unpatched",
            "disable: expected klp_transition_init patch=%s target=unpatched, got %s"
            % (LP, init))
    passes = w.named("klp_transition_pass", patch=LP)
    j.check(len(passes) >= 2, "disable: expected >= 2 passes before the force, got %d"
            % len(passes))
    bad = [p for p in passes if p["target"] != "unpatched" or p["pending"] < 1]
    j.check(not bad, "disable: passes before the force must have "
            "target=unpatched pending>=1", *bad)
    sb = w.named("klp_task_blocked", pid=sleeper)
    j.check(sb, "disable: no klp_task_blocked for klpt_sleeper (pid %d)" % sleeper)
    bad = [e for e in sb if not sleeping_in(e, FUNC)
           or e["patch"] != LP or e["target"] != "unpatched"]
    j.check(not bad, "disable: expected klpt_sleeper's blocked events at "
            "patch=%s target=unpatched reason=sleeping_in_func err=-98 "
            "func=%s, got" % (LP, FUNC), *bad)
    j.check(not w.named("klp_task_switch", pid=sleeper),
            "disable: klpt_sleeper switched before the force although snap "
            "blocked has it at 1", *w.named("klp_task_switch", pid=sleeper))
    j.check(not w.named("klp_transition_complete"),
            "disable: the transition completed before the force",
            *w.named("klp_transition_complete"))

# --- events: the force and after ------------------------------------------
w = window(j, ev, "force")
if w is not None:
    f = w.named("klp_transition_force")
    j.check(len(f) == 1 and f[0]["patch"] == LP and f[0]["target"] == "unpatched",
            "force: expected one klp_transition_force patch=%s target=unpatched, got %d"
            % (LP, len(f)), *f)
    f = f[0] if f else None

    sw = w.named("klp_task_switch", pid=sleeper)
    j.check(len(sw) == 1, "force: expected one switch of klpt_sleeper (pid %d), got %d"
            % (sleeper, len(sw)), *sw)
    sw = sw[0] if sw else None
    if sw is not None:
        check_event(j, sw, "klpt_sleeper's switch at the force",
                    "from=patched to=unpatched via=force")
        j.check(before(f, sw), "force: klpt_sleeper's switch is not after "
                "klp_transition_force", f, sw)

    c = w.named("klp_transition_complete")
    j.check(len(c) == 1, "force: expected one klp_transition_complete, got %d" % len(c), *c)
    c = c[0] if c else None
    if c is not None:
        check_event(j, c, "the forced klp_transition_complete",
                    "patch=%s target=unpatched forced=1" % LP)
        j.check(before(sw, c), "force: complete is not after the sleeper's switch", sw, c)

    fr = w.named("klp_patch_free", patch=LP)
    j.check(len(fr) == 1 and fr[0]["forced"] == 1,
            "force: expected one klp_patch_free patch=%s forced=1, got %d" % (LP, len(fr)),
            *fr)
    fr = fr[0] if fr else None
    j.check(before(c, fr), "force: klp_patch_free is not after complete", c, fr)
    rel = w.named("klp_patch_release", patch=LP)
    j.check(len(rel) == 1 and rel[0]["forced"] == 1,
            "force: expected one klp_patch_release patch=%s forced=1, got %d"
            % (LP, len(rel)), *rel)
    rel = rel[0] if rel else None
    j.check(before(fr, rel), "force: klp_patch_release is not after klp_patch_free",
            fr, rel)

    puts = w.named("klp_module_ref", module=LP, op="put")
    j.check(not puts, "force: a forced patch's module must keep its reference "
            "(refcnt 1 in snap forced), but klp_module_ref op=put fired", *puts)
    ready = w.named("klp_module_unload_ready", module=LP)
    j.check(not ready, "force: klp_module_unload_ready for a forced patch "
            "(rmmod failed, refcnt 1)", *ready)
    gone = w.named("klp_module_free", module=LP)
    j.check(not gone, "force: klp_module_free for %s, still loaded" % LP, *gone)

j.done()
