#!/usr/bin/env python3
"""reload_midtransition: klptrace loaded and unloaded mid-transition.

Ground truth: the snapshots (transition 1 and klpt_sleeper at 0 while
loaded, transition 0 at the end), the transition files read after each
unload, the hooks files, the sleeper's pid parameter.  The events must
name the patch and continue the core's retry count after load 1, lose
only what the skipped hooks feed after load 2, and say nothing of a
transition after load 3.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (check_lp, check_task, fork_outside_transition,  # noqa: E402
                    need_int, sleeping_in, snap, trace_complete, window)
from klptjudge import Judge, load_events  # noqa: E402

LP = "klpt_lp_sleep"
FUNC = "klpt_sleep_fn"
SKIPPED = {"klp_check_and_switch_task", "klp_transition_patch"}

j = Judge()
ev = load_events(j.resultdir)


def hooks(name):
    """{hook or symbol: status} from the saved hooks file NAME."""
    text = j.read(name)
    j.check(text.strip(), "expected the hooks in %s, it is empty or missing"
            % name)
    table = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            table[parts[0]] = parts[2]
    return table


def consecutive(passes, what):
    nums = [p["pass"] for p in passes]
    j.check(all(b == a + 1 for a, b in zip(nums, nums[1:])),
            "%s: expected consecutive pass numbers, got %r" % (what, nums))
    return nums


trace_complete(j, ev)
sleeper = need_int(j, "the sleeper pid", "facts", "sleeper_pid")

# --- ground truth ---------------------------------------------------------
for name in ("loaded1", "loaded2"):
    s = snap(j, name)
    if s is None:
        continue
    check_lp(j, s, LP, enabled=1, transition=1)
    check_task(j, s, sleeper, "the sleeper", comm="klpt_sleeper", state=0)
    j.check("klptrace" in s.refcnt, "snap %s: expected klptrace loaded, it "
            "is not" % name)
for n in (1, 2):
    tr = j.read("transition_unload%d" % n).strip()
    j.check(tr == "1", "after unload %d: expected %s transition 1 (the transition "
            "goes on), got %r" % (n, LP, tr))
done = snap(j, "complete")
if done is not None:
    check_lp(j, done, LP, enabled=1, transition=0)
    j.check("klptrace" not in done.refcnt, "snap complete: expected klptrace "
            "not loaded, it is")

h1 = hooks("hooks1")
bad = {k: v for k, v in h1.items() if v != "active"}
j.check(h1 and not bad, "hooks1: expected every hook and symbol active, got %r" % bad)
h2 = hooks("hooks2")
j.check(set(h2) == set(h1), "hooks2 lists other hooks than hooks1: %r vs %r"
        % (sorted(h2), sorted(h1)))
bad = {k: v for k, v in h2.items() if v != ("skipped" if k in SKIPPED else "active")}
j.check(not bad, "hooks2: expected %s skipped and the rest active, got %r"
        % (sorted(SKIPPED), bad))
h3 = hooks("hooks3")
bad = {k: v for k, v in h3.items() if v != "active"}
j.check(h3 and not bad, "hooks3: expected every hook and symbol active, got %r" % bad)

# --- events before load 1: none (klptrace was not loaded) -----------------
try:
    pre = ev[:ev.marker("load1")]
    klp = [e for e in pre if e.name.startswith("klp_")]
    j.check(not klp, "klp events before klptrace was loaded", *klp[:5])
except KeyError as e:
    j.fail("events.txt: %s" % e)

# --- load 1: all hooks ----------------------------------------------------
last1 = None
w = window(j, ev, "load1", "unload1")
if w is not None:
    passes = w.named("klp_transition_pass")
    j.check(len(passes) >= 2, "load 1: expected >= 2 passes, got %d" % len(passes))
    bad = [p for p in passes if p["patch"] != LP or p["target"] != "patched"
           or p["pending"] < 1]
    j.check(not bad, "load 1: passes must name patch=%s (from klp_transition_patch) "
            "target=patched with pending>=1 (snap loaded1: transition 1)" % LP, *bad)
    nums = consecutive(passes, "load 1")
    if nums:
        j.check(nums[0] >= 1, "load 1: the first pass seen is %d; the core had "
                "counted retries before the load (klp_signals_cnt)" % nums[0])
        last1 = nums[-1]
    sb = w.named("klp_task_blocked", pid=sleeper)
    j.check(sb, "load 1: no klp_task_blocked for klpt_sleeper (pid %d)" % sleeper)
    bad = [e for e in sb if not sleeping_in(e, FUNC) or e["patch"] != LP
           or e["target"] != "patched"]
    j.check(not bad, "load 1: expected klpt_sleeper's blocked events at "
            "patch=%s target=patched reason=sleeping_in_func err=-98 func=%s, "
            "got" % (LP, FUNC), *bad)
    # Every pass after the first one seen checked the sleeper (the first
    # may have started before the task hooks were registered).
    for a, b in zip(passes, passes[1:]):
        seg = w.where(lambda e, x=a.lineno, y=b.lineno: x < e.lineno < y)
        j.check(seg.named("klp_task_blocked", pid=sleeper),
                "load 1: pass %s without a klp_task_blocked of klpt_sleeper" % b["pass"],
                b)
    j.check(not w.named("klp_task_switch", pid=sleeper),
            "load 1: klpt_sleeper switched (snap loaded1 has it at 0)",
            *w.named("klp_task_switch", pid=sleeper))
    j.check(not w.named("klp_transition_complete"), "load 1: a transition completed",
            *w.named("klp_transition_complete"))

w = window(j, ev, "unloaded1", "load2")
if w is not None:
    klp = w.where(lambda e: e.name.startswith("klp_"))
    j.check(not klp, "klp events between unload 1 and load 2", *klp[:5])

# --- load 2: no stack-check hook, no klp_transition_patch -----------------
w = window(j, ev, "load2", "unload2")
if w is not None:
    j.check(not w.named("klp_task_blocked"), "load 2: klp_task_blocked although "
            "klp_check_and_switch_task is skipped", *w.named("klp_task_blocked")[:5])
    st = w.where(lambda e: e.name == "klp_task_switch" and e.get("via") == "stack_check")
    j.check(not st, "load 2: via=stack_check switches although "
            "klp_check_and_switch_task is skipped", *st[:5])
    passes = w.named("klp_transition_pass")
    j.check(len(passes) >= 2, "load 2: expected >= 2 passes, got %d" % len(passes))
    # Without klp_transition_patch the name is unknown: "?" (README).
    bad = [p for p in passes if p["patch"] != "?" or p["target"] != "patched"
           or p["pending"] < 1]
    j.check(not bad, "load 2: passes must be patch=? (klp_transition_patch skipped) "
            "target=patched pending>=1", *bad)
    nums = consecutive(passes, "load 2")
    if nums and last1 is not None:
        j.check(nums[0] > last1, "load 2: the passes do not go on from load 1 "
                "(last pass of load 1: %d, first of load 2: %d)" % (last1, nums[0]))
    j.check(not w.named("klp_transition_complete"), "load 2: a transition completed",
            *w.named("klp_transition_complete"))

# --- after: the transition completed unseen; load 3 sees no transition -----
w = window(j, ev, "unloaded2", "load3")
if w is not None:
    klp = w.where(lambda e: e.name.startswith("klp_"))
    j.check(not klp, "klp events while klptrace was not loaded", *klp[:5])
w = window(j, ev, "load3")
if w is not None:
    klp = w.where(lambda e: e.name.startswith(("klp_transition_", "klp_task_"))
                  and not fork_outside_transition(e))
    j.check(not klp, "load 3: transition or task events with no transition running",
            *klp[:5])
    j.check(w.named("module_free", name="klptrace"),
            "load 3: no module_free of klptrace after unload 3")
w = window(j, ev, "unloaded3")
if w is not None:
    klp = w.where(lambda e: e.name.startswith("klp_"))
    j.check(not klp, "klp events after unload 3", *klp[:5])

j.done()
