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
from klptjudge import Judge, load_events, load_snap  # noqa: E402

LP = "klpt_lp_sleep"

j = Judge()
ev = load_events(j.resultdir)


def snap(name):
    try:
        return load_snap(j.resultdir, name)
    except FileNotFoundError as e:
        j.fail(str(e))
        return None


def window(a, b=None):
    try:
        return ev.between(a, b)
    except KeyError as e:
        j.fail("events.txt: %s" % e)
        return None


def before(x, y):
    """Event x comes before event y in events.txt."""
    return x is not None and y is not None and x.lineno < y.lineno


j.check(not ev.lost, "ring buffer overruns: events are missing", *ev.lost)
j.check(not ev.unparsed, "unparsable lines in events.txt",
        *["%d: %s" % u for u in ev.unparsed[:5]])

try:
    sleeper = int(j.read("sleeper_pid").strip())
except ValueError:
    j.fail("no sleeper pid in sleeper_pid: %r" % j.read("sleeper_pid"))
    j.done()

# --- ground truth ---------------------------------------------------------
patched = snap("patched")
blocked = snap("blocked")
forced = snap("forced")
released = snap("released")

for s in (patched, blocked, forced, released):
    if s is None:
        continue
    t = s.tasks.get(sleeper)
    j.check(t is not None and t.comm == "klpt_sleeper" and t.kthread,
            "snap %s: pid %d is not the klpt_sleeper kthread: %r"
            % (s.name, sleeper, t))

if patched:
    lp = patched.livepatch.get(LP)
    j.check(lp and lp["enabled"] == 1 and lp["transition"] == 0,
            "snap patched: expected %s enabled=1 transition=0, got %r" % (LP, lp))
if blocked:
    lp = blocked.livepatch.get(LP)
    j.check(lp and lp["enabled"] == 0 and lp["transition"] == 1,
            "snap blocked: expected %s enabled=0 transition=1, got %r" % (LP, lp))
    t = blocked.tasks.get(sleeper)
    j.check(t is not None and t.state == 1,
            "snap blocked: expected klpt_sleeper patch_state 1 (still patched), got %r" % t)
    j.check(blocked.refcnt.get(LP) == 1,
            "snap blocked: expected %s refcnt 1, got %r" % (LP, blocked.refcnt.get(LP)))
if forced:
    j.check(LP not in forced.livepatch,
            "snap forced: /sys/kernel/livepatch/%s still there: %r"
            % (LP, forced.livepatch.get(LP)))
    j.check(forced.refcnt.get(LP) == 1,
            "snap forced: expected %s refcnt 1 (a forced patch keeps its "
            "reference), got %r" % (LP, forced.refcnt.get(LP)))
    t = forced.tasks.get(sleeper)
    j.check(t is not None and t.state == -1,
            "snap forced: expected klpt_sleeper patch_state -1 (no transition), got %r" % t)
if released:
    j.check(released.refcnt.get(LP) == 1,
            "snap released: expected %s still loaded with refcnt 1, got %r"
            % (LP, released.refcnt.get(LP)))

st = j.read("rmmod_status").strip()
j.check(st not in ("", "0"),
        "rmmod %s: expected failure (non-zero status), got status %r: %s"
        % (LP, st, j.read("rmmod.txt").strip()))

# --- events: the patching transition --------------------------------------
w = window("force: load patch", "force: block")
if w is not None:
    c = w.named("klp_transition_complete", patch=LP)
    j.check(len(c) == 1 and c[0]["target"] == "patched" and c[0]["forced"] == 0,
            "patching: expected one complete target=patched forced=0, got %d" % len(c),
            *c)

# The module reference as the events last reported it must be what
# /sys/module/klpt_lp_sleep/refcnt read in snap patched (1: the patch's).
if patched and w is not None:
    refs = w.named("klp_module_ref", module=LP)
    j.check(refs and refs[-1]["refcnt"] == patched.refcnt.get(LP),
            "patching: the last klp_module_ref of %s says refcnt %r, snap patched "
            "reads %r" % (LP, refs[-1]["refcnt"] if refs else None,
                          patched.refcnt.get(LP)), *refs)

# --- events: the stalled disable ------------------------------------------
w = window("force: disable", "force")
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
    bad = [e for e in sb if e["reason"] != "sleeping_in_func"
           or e["func"] != "klpt_sleep_fn" or e["err"] != -98
           or e["patch"] != LP or e["target"] != "unpatched"]
    j.check(not bad, "disable: klpt_sleeper's blocked events must be "
            "patch=%s target=unpatched reason=sleeping_in_func err=-98 "
            "func=klpt_sleep_fn" % LP, *bad)
    j.check(not w.named("klp_task_switch", pid=sleeper),
            "disable: klpt_sleeper switched before the force although snap "
            "blocked has it at 1", *w.named("klp_task_switch", pid=sleeper))
    j.check(not w.named("klp_transition_complete"),
            "disable: the transition completed before the force",
            *w.named("klp_transition_complete"))

# --- events: the force and after ------------------------------------------
w = window("force")
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
        j.check(sw["via"] == "force" and sw["from"] == "patched"
                and sw["to"] == "unpatched",
                "force: expected klpt_sleeper from=patched to=unpatched via=force, got",
                sw)
        j.check(before(f, sw), "force: klpt_sleeper's switch is not after "
                "klp_transition_force", f, sw)

    c = w.named("klp_transition_complete")
    j.check(len(c) == 1, "force: expected one klp_transition_complete, got %d" % len(c), *c)
    c = c[0] if c else None
    if c is not None:
        j.check(c["patch"] == LP and c["target"] == "unpatched" and c["forced"] == 1,
                "force: expected complete patch=%s target=unpatched forced=1, got" % LP, c)
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
