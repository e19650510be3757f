#!/usr/bin/env python3
"""busy_running: a transition stalled by a kthread running in the function.

Ground truth: snap blocked (klpt_spinner at patch_state 0, transition 1),
snap complete (transition 0), the spinner's pid parameter.  The events must
show the spinner blocked as running (-EBUSY) while it spins, and one
stack-check switch once spin=0 was written, then the completion.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from klptjudge import Judge, load_events, load_snap  # noqa: E402

LP = "klpt_lp_busy"

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


j.check(not ev.lost, "ring buffer overruns: events are missing", *ev.lost)
j.check(not ev.unparsed, "unparsable lines in events.txt",
        *["%d: %s" % u for u in ev.unparsed[:5]])

try:
    spinner = int(j.read("spinner_pid").strip())
except ValueError:
    j.fail("no spinner pid in spinner_pid: %r" % j.read("spinner_pid"))
    j.done()

# --- ground truth ---------------------------------------------------------
blocked = snap("blocked")
done = snap("complete")
for s in (blocked, done):
    if s is None:
        continue
    t = s.tasks.get(spinner)
    j.check(t is not None and t.comm == "klpt_spinner" and t.kthread,
            "snap %s: pid %d is not the klpt_spinner kthread: %r" % (s.name, spinner, t))
if blocked:
    lp = blocked.livepatch.get(LP)
    j.check(lp and lp["enabled"] == 1 and lp["transition"] == 1,
            "snap blocked: expected %s enabled=1 transition=1, got %r" % (LP, lp))
    t = blocked.tasks.get(spinner)
    j.check(t is not None and t.state == 0,
            "snap blocked: expected klpt_spinner patch_state 0, got %r" % t)
if done:
    lp = done.livepatch.get(LP)
    j.check(lp and lp["enabled"] == 1 and lp["transition"] == 0,
            "snap complete: expected %s enabled=1 transition=0, got %r" % (LP, lp))

# --- events ---------------------------------------------------------------
# Every stack check of the spinner: running on its CPU (-EBUSY), or, when
# a check catches it napping or preempted, sleeping in klpt_busy_fn.
sb = ev.named("klp_task_blocked", pid=spinner)
running = sb.named("klp_task_blocked", reason="running")
j.check(running, "no klp_task_blocked reason=running for klpt_spinner (pid %d)"
        % spinner)
bad = [e for e in sb
       if not (e["reason"] == "running" and e["err"] == -16 and e["func"] == "")
       and not (e["reason"] == "sleeping_in_func" and e["err"] == -98
                and e["func"] == "klpt_busy_fn")]
j.check(not bad, "klpt_spinner blocked other than running/-16 or "
        "sleeping_in_func/-98 func=klpt_busy_fn", *bad)
bad = [e for e in sb if e["patch"] != LP or e["target"] != "patched"]
j.check(not bad, "klpt_spinner blocked events must name patch=%s target=patched"
        % LP, *bad)

w = window("busy: load patch", "release")
if w is not None:
    passes = w.named("klp_transition_pass", patch=LP)
    j.check(len(passes) >= 3, "expected >= 3 passes before the release, got %d"
            % len(passes))
    bad = [p for p in passes if p["target"] != "patched" or p["pending"] < 1]
    j.check(not bad, "passes before the release must have target=patched "
            "pending>=1 (snap blocked: transition 1)", *bad)
    j.check(w.named("klp_task_blocked", pid=spinner, reason="running"),
            "no reason=running block of klpt_spinner while it spun")
    j.check(not w.named("klp_transition_complete"),
            "the transition completed while the spinner spun",
            *w.named("klp_transition_complete"))

sw = ev.named("klp_task_switch", pid=spinner)
j.check(len(sw) == 1, "expected exactly one switch of klpt_spinner (pid %d), got %d"
        % (spinner, len(sw)), *sw)
try:
    rel = ev.marker("release")
except KeyError:
    rel = None
    j.fail("no release marker")
if sw and rel is not None:
    s = sw[0]
    j.check(s["via"] == "stack_check" and s["from"] == "unpatched"
            and s["to"] == "patched",
            "klpt_spinner: expected from=unpatched to=patched via=stack_check, got", s)
    j.check(s.lineno > ev[rel].lineno,
            "klpt_spinner switched before the release marker", ev[rel], s)
    after = ev[rel + 1:]
    c = [e for e in after if e.name == "klp_transition_complete"]
    j.check(len(c) == 1, "expected one klp_transition_complete after the release, got %d"
            % len(c), *c)
    if c:
        c = c[0]
        j.check(c["patch"] == LP and c["target"] == "patched" and c["forced"] == 0,
                "expected complete patch=%s target=patched forced=0, got" % LP, c)
        j.check(c.lineno > s.lineno, "complete is not after the spinner's switch", s, c)

j.done()
