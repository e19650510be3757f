#!/usr/bin/env python3
"""stress_replace: klpt_lp_sleep2 (.replace = true) over klpt_lp_sleep and
klpt_lp_vmlinux, reversed once, completed once.

Ground truth: snapshots `blocked1` / `replacing` (LP2's transition held
up, LP1 and VM on), `reversed` (LP2 gone, LP1 and VM on), `replaced`
(LP2 on, LP1 and VM gone with refcnt 0), the kernel's log of every
transition, rmmod's exit codes of the replaced modules (never disabled
by hand).  Checked: round 1 reverses LP2 and frees only LP2; round 2
frees LP1 and VM after LP2's transition completes (klp_patch_free,
klp_patch_release, the last klp_module_ref put, klp_module_unload_ready,
once each, in this order) with no transition of their own; the
session's model at `replacing` and `replaced` (libmodel.py compares it
all; here the verdicts that matter).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (FULL_TRANSITION, before, check_dmesg_transitions,  # noqa
                    check_event, check_free_chain, check_lp, check_lp_gone,
                    check_order, check_refcnt, check_transition_seq,
                    only_one, require_markers, snap, trace_complete, window)
from klptjudge import Judge, load_events, show  # noqa: E402
from libmodel import Model  # noqa: E402

LP1, LP2, VM = "klpt_lp_sleep", "klpt_lp_sleep2", "klpt_lp_vmlinux"
M = "stress_replace: "

j = Judge()
ev = load_events(j.resultdir)
at = ev.pos
trace_complete(j, ev)
for p in (LP1, LP2, VM):
    check_dmesg_transitions(j, ev, p)
require_markers(j, ev, M + "block", M + "insmod %s (1)" % LP2, M + "reverse",
                M + "insmod %s (2)" % LP2, M + "release", M + "replaced",
                M + "rmmod replaced", M + "disable %s" % LP2)
for f in ("rmmod_lp1", "rmmod_vm"):
    j.check(j.fact(f) == "0", "expected rmmod of a replaced module to exit 0 "
            "(%s), got %r" % (f, j.fact(f)))

# --- snapshots -----------------------------------------------------------------
for name in ("blocked1", "replacing"):
    s = snap(j, name)
    if s:
        check_lp(j, s, LP2, enabled=1, transition=1,
                 why=" (the sleeper in LP1's function)")
        check_lp(j, s, LP1, enabled=1, transition=0)
        check_lp(j, s, VM, enabled=1, transition=0)
        for p in (LP1, LP2, VM):
            check_refcnt(j, s, p, 1)
s = snap(j, "reversed")
if s:
    check_lp_gone(j, s, LP2)
    check_refcnt(j, s, LP2, None, " (removed after the reverse)")
    check_lp(j, s, LP1, enabled=1, transition=0, why=" (the replace reversed)")
    check_lp(j, s, VM, enabled=1, transition=0, why=" (the replace reversed)")
s = snap(j, "replaced")
if s:
    check_lp(j, s, LP2, enabled=1, transition=0)
    check_refcnt(j, s, LP2, 1)
    for p in (LP1, VM):
        check_lp_gone(j, s, p)
        check_refcnt(j, s, p, 0, " (replaced: freed, reference dropped)")

# --- round 1: reversed; only LP2 goes --------------------------------------------
w = window(j, ev, M + "insmod %s (1)" % LP2, M + "insmod %s (2)" % LP2)
if w is not None:
    tr = w.where(lambda e: e.name.startswith("klp_transition_"))
    j.check(all(e["patch"] == LP2 for e in tr), "round 1: expected "
            "transition events of %s only" % LP2,
            *show(tr.where(lambda e: e["patch"] != LP2)))
    check_transition_seq(j, tr, "init start( pass( signal)?)+ reverse start"
                         "( pass( signal)?)+ complete", " in round 1")
    rev = tr.first("klp_transition_reverse")
    check_event(j, rev, "round 1's klp_transition_reverse", "target=unpatched")
    done = tr.first("klp_transition_complete")
    check_event(j, done, "round 1's klp_transition_complete",
                "target=unpatched forced=0")
    # From the reverse: insmod's own reference is dropped before it.
    wr = window(j, ev, M + "reverse", M + "insmod %s (2)" % LP2)
    if wr is not None:
        check_free_chain(j, wr, done, LP2, "after round 1's reverse")
    for p in (LP1, VM):
        gone = w.where(lambda e, x=p: e.name in (
            "klp_patch_free", "klp_patch_release", "klp_module_unload_ready")
            and x in (e.get("patch"), e.get("module")))
        j.check(not gone, "round 1: expected nothing freed of %s (the "
                "replace was reversed)" % p, *show(gone))

# --- round 2: LP2 completes, the core frees LP1 and VM ---------------------------
w = window(j, ev, M + "insmod %s (2)" % LP2, M + "rmmod replaced")
if w is not None:
    tr = w.where(lambda e: e.name.startswith("klp_transition_"))
    j.check(all(e["patch"] == LP2 for e in tr), "round 2: expected "
            "transition events of %s only (the replaced patches have none)"
            % LP2, *show(tr.where(lambda e: e["patch"] != LP2)))
    check_transition_seq(j, tr, FULL_TRANSITION, " in round 2")
    done = tr.first("klp_transition_complete")
    check_event(j, done, "round 2's klp_transition_complete",
                "target=patched forced=0")
    i_rel = ev.marker(M + "release")
    j.check(done is not None and at(done) > i_rel, "round 2: expected the "
            "replace to complete after the release", done)
    for p in (LP1, VM):
        where = "in round 2 for the replaced %s" % p
        free = only_one(j, w, "klp_patch_free", where, patch=p)
        rel = only_one(j, w, "klp_patch_release", where, patch=p)
        put = only_one(j, w, "klp_module_ref", where, module=p, op="put")
        ready = only_one(j, w, "klp_module_unload_ready", where, module=p)
        check_order(j, [("%s complete" % LP2, done),
                        ("klp_patch_free %s" % p, free),
                        ("klp_patch_release %s" % p, rel),
                        ("klp_module_ref put %s" % p, put),
                        ("klp_module_unload_ready %s" % p, ready)])
        for e in (free, rel):
            if e is not None:
                check_event(j, e, e.name, "forced=0")
        if put is not None:
            check_event(j, put, "the last put of %s" % p, "refcnt=0")
        if ready is not None:
            j.check(at(ready) < ev.marker("klpt_snap_begin replaced"),
                    "expected %s unload-ready before snap replaced" % p, ready)
        j.check(not w.named("klp_patch_free", patch=LP2), "round 2: expected "
                "%s not freed" % LP2)

# --- the model at the dumps ----------------------------------------------------------
d = j.path("lib", "1")
want = {"replacing": {LP1: "enabled", VM: "enabled", LP2: "enabled"},
        "replaced": {LP1: "ready", VM: "ready", LP2: "enabled"}}
for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    if not (f.startswith("dump.") and f.endswith(".snap")):
        continue
    name = j.read("lib", "1", f).strip()
    if name not in want:
        continue
    m = Model(j.read("lib", "1", f[:-len("snap")] + "txt"), f)
    exp = want.pop(name)
    got = {p: m.modules.get(p, (None, None))[1] for p in exp}
    j.check(got == exp, "expected the verdicts at snap %s to be %r, got %r"
            % (name, exp, got))
    if name == "replaced":
        for p in (LP1, VM):
            mp = m.patches.get(p)
            j.check(mp is None or (mp["released"] and not mp["enabled"]),
                    "snap replaced: expected patch %s released or gone in "
                    "the model, got %s" % (p, mp))
j.check(not want, "expected dumps compared with snaps %s" % sorted(want))

j.done()
