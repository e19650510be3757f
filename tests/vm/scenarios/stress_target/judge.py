#!/usr/bin/env python3
"""stress_target: klpt_target_read loaded and removed 40 times under
klpt_lp_read (30 times with the patch on, 10 after its disable) and one
libklptrace session.

Ground truth: the kernel's module:module_load/module_free of the target
in every cycle, the snapshots `loaded` (cycle 10: the object patched),
`removed` (cycle 20: object not patched, target gone), `nopatch` (cycle
35: patch gone, its module unload-ready, target loaded), lib_final.
Checked: no transition and no klp lifecycle event for the target's
comings and goings (the core patches a coming module directly), the
patch's module keeps its one reference through the 30 cycles, the
session delivered every module_load of the target and its model holds
livepatch modules only, with the verdicts the snapshots imply
(libmodel.py compares the rest).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (check_lp, check_lp_gone, check_refcnt,  # noqa: E402
                    fork_outside_transition, need_int, require_markers, snap,
                    trace_complete)
from klptjudge import Judge, load_events, show  # noqa: E402
from libmodel import Model  # noqa: E402

TG, LP = "klpt_target_read", "klpt_lp_read"
M = "stress_target: "

j = Judge()
ev = load_events(j.resultdir)
at = ev.pos
n = need_int(j, "the number of cycles with the patch", "facts", "cycles")
more = need_int(j, "the number of cycles without", "facts", "more")
trace_complete(j, ev)
require_markers(j, ev, M + "insmod %s" % LP, M + "disable",
                M + "rmmod %s" % LP)

# --- snapshots ----------------------------------------------------------------
s = snap(j, "loaded")
if s:
    check_lp(j, s, LP, enabled=1, transition=0, objects={TG: 1})
    check_refcnt(j, s, LP, 1)
    check_refcnt(j, s, TG, 0, " (a patch holds no reference on its target)")
s = snap(j, "removed")
if s:
    check_lp(j, s, LP, enabled=1, transition=0, objects={TG: 0})
    check_refcnt(j, s, TG, None)
s = snap(j, "nopatch")
if s:
    check_lp_gone(j, s, LP)
    check_refcnt(j, s, LP, 0)
    check_refcnt(j, s, TG, 0)
s = snap(j, "lib_final")
if s:
    check_refcnt(j, s, LP, None)
    check_refcnt(j, s, TG, None)

# --- every cycle ---------------------------------------------------------------
idx = {m.text: at(m) for m in ev.markers(M + "cycle ")}
bad = []
for i in range(1, n + more + 1):
    a, b = idx.get(M + "cycle %d" % i), idx.get(M + "cycle %d done" % i)
    if a is None or b is None:
        bad.append("cycle %d: markers missing" % i)
        continue
    w = ev._sub(ev[a + 1:b])
    for name in ("module_load", "module_free"):
        k = w.where(lambda e, x=name: e.name == x and e.get("name") == TG)
        if len(k) != 1:
            bad.append("cycle %d: %d kernel %s of %s" % (i, len(k), name, TG))
    klp = w.where(lambda e: e.name.startswith("klp_")
                  and not fork_outside_transition(e))
    if klp:
        bad.append("cycle %d: klp events for a target's coming and going: %s"
                   % (i, "; ".join(show(klp, 3))))
j.check(not bad, "expected each cycle to load and free %s once with no klp "
        "event, %d problems" % (TG, len(bad)), *bad[:10])
refs = ev.named("klp_module_ref", module=LP)
w_on = [e for e in refs if idx.get(M + "cycle 1", 0) < at(e)
        < idx.get(M + "cycle %d done" % n, 0)]
j.check(not w_on, "expected no reference change of %s while its target "
        "came and went" % LP, *show(w_on))

# --- the session ------------------------------------------------------------------
log = j.read("lib", "1", "events.log").splitlines()
loads = [x for x in log if x.split(" ")[1:2] == ["module_load"]
         and "module=%s" % TG in x.split(" ")]
j.check(len(loads) == n + more, "expected the session to deliver %d "
        "module_load of %s, got %d" % (n + more, TG, len(loads)))
d = j.path("lib", "1")
want = {"loaded": "enabled", "removed": "enabled", "nopatch": "ready"}
for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    if not (f.startswith("dump.") and f.endswith(".snap")):
        continue
    name = j.read("lib", "1", f).strip()
    if name not in want:
        continue
    m = Model(j.read("lib", "1", f[:-len("snap")] + "txt"), f)
    exp = want.pop(name)
    j.check(set(m.modules) == {LP} and m.modules[LP][1] == exp,
            "snap %s: expected the model's modules to be %s only, verdict "
            "%s, got %r" % (name, LP, exp, m.modules))
j.check(not want, "expected dumps compared with snaps %s" % sorted(want))

j.done()
