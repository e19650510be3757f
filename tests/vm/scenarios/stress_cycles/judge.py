#!/usr/bin/env python3
"""stress_cycles: 200 enable/disable cycles of klpt_lp_vmlinux under one
live libklptrace session.

Ground truth: the number of cycles (fact), the kernel's own log (one
"starting ... transition" / "... complete" line per transition), the
snapshots `enabled` (cycle 100, patch on, refcnt 1), `ready` (cycle 150,
patch directory gone, refcnt 0) and `lib_final` (module gone), the
kernel's module:module_free events.  Checked, per cycle (between its
markers): a whole patching transition then a whole unpatching one, the
enable's one module reference, the free chain of the disable and the
module's free after rmmod; over the run: nothing lost, one klpt_watch
only, which delivered every transition and module free of every cycle
(its events.log).  libmodel.py compares the model with the snapshots.
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (FULL_TRANSITION, check_dmesg_transitions,  # noqa: E402
                    check_free_chain, check_lp, check_lp_gone, check_refcnt,
                    need_int, snap, trace_complete)
from klptjudge import Judge, load_events, show  # noqa: E402

LP = "klpt_lp_vmlinux"
TRANSITIONS = re.compile(FULL_TRANSITION + " " + FULL_TRANSITION)

j = Judge()
ev = load_events(j.resultdir)
at = ev.pos
n = need_int(j, "the number of cycles", "facts", "cycles")

trace_complete(j, ev)
check_dmesg_transitions(j, ev, LP)

# --- the snapshots ------------------------------------------------------------
s = snap(j, "enabled")
if s:
    check_lp(j, s, LP, enabled=1, transition=0, objects={"vmlinux": 1})
    check_refcnt(j, s, LP, 1, " (enabled: the enable's reference)")
s = snap(j, "ready")
if s:
    check_lp_gone(j, s, LP)
    check_refcnt(j, s, LP, 0, " (disabled and freed)")
s = snap(j, "lib_final")
if s:
    check_lp_gone(j, s, LP)
    check_refcnt(j, s, LP, None, " after the last rmmod")

# --- every cycle ----------------------------------------------------------------
bad = []        # (cycle, what) of the cycles that went wrong, for one message
starts = {m.text: at(m) for m in ev.markers("stress_cycles: cycle ")}
for i in range(1, n + 1):
    a, b = starts.get("stress_cycles: cycle %d" % i), \
        starts.get("stress_cycles: cycle %d done" % i)
    if a is None or b is None:
        bad.append((i, "markers missing"))
        continue
    w = ev._sub(ev[a + 1:b])
    tr = w.where(lambda e: e.name.startswith("klp_transition_"))
    seq = " ".join(e.name[len("klp_transition_"):] for e in tr)
    if not TRANSITIONS.fullmatch(seq):
        bad.append((i, "transitions: " + seq))
        continue
    targets = [e["target"] for e in tr.named("klp_transition_complete")]
    if targets != ["patched", "unpatched"] or \
            any(e["patch"] != LP for e in tr):
        bad.append((i, "completes %r" % targets))
        continue
    # insmod itself holds a reference while the module's init runs: the
    # patch's own is the one klp_enable_patch takes.
    gets = w.named("klp_module_ref", module=LP, op="get",
                   caller="klp_enable_patch")
    if len(gets) != 1:
        bad.append((i, "gets: %s" % "; ".join(show(gets))))
    # The disable, from its transition's init (insmod's own put, after
    # the module's init, comes after the patching transition's end).
    # check_free_chain records its own failures; count them per cycle.
    init = tr.named("klp_transition_init")[1]
    before = len(j.failures)
    check_free_chain(j, w.where(lambda e, x=at(init): at(e) > x),
                     tr.named("klp_transition_complete")[1], LP,
                     "in cycle %d's disable" % i)
    if len(j.failures) > before:
        bad.append((i, "free chain"))
    kfree = w.where(lambda e: e.name == "module_free" and e.get("name") == LP)
    if len(kfree) != 1:
        bad.append((i, "%d kernel module_free of %s" % (len(kfree), LP)))
j.check(not bad, "expected every one of the %d cycles to enable and disable "
        "%s whole (transitions, reference, free chain, module_free), %d did "
        "not" % (n, LP, len(bad)), *["cycle %d: %s" % x for x in bad[:10]])
del j.failures[20:]     # one broken cycle should not bury the rest

# --- one session all along, which saw every cycle --------------------------------
lib = j.path("lib")
watchers = sorted(os.listdir(lib)) if os.path.isdir(lib) else []
if j.check(watchers == ["1"], "expected one klpt_watch for the whole run "
           "(lib/1), got %r" % watchers):
    log = j.read("lib", "1", "events.log").splitlines()

    def count(name, **fields):
        want = [name] + ["%s=%s" % kv for kv in fields.items()]
        return sum(1 for line in log
                   if all(w in line.split(" ")[1:] for w in want))
    for tgt in (1, 0):
        got = count("klp_transition_complete", patch=LP, target=tgt)
        j.check(got == n, "expected the session to deliver %d "
                "klp_transition_complete target=%d of %s, got %d"
                % (n, tgt, LP, got))
    for name in ("klp_patch_free", "klp_patch_release"):
        got = count(name, patch=LP)
        j.check(got == n, "expected the session to deliver %d %s of %s, "
                "got %d" % (n, name, LP, got))
    for name in ("klp_module_unload_ready", "klp_module_free"):
        got = count(name, module=LP)
        j.check(got == n, "expected the session to deliver %d %s of %s, "
                "got %d" % (n, name, LP, got))

j.done()
