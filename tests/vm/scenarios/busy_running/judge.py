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
from checks import (check_event, check_lp, check_task, need_int,  # noqa: E402
                    running, sleeping_in, snap, trace_complete, window)
from klptjudge import Judge, load_events  # noqa: E402

LP = "klpt_lp_busy"
FUNC = "klpt_busy_fn"

j = Judge()
ev = load_events(j.resultdir)

trace_complete(j, ev)
spinner = need_int(j, "the spinner pid", "facts", "spinner_pid")

# --- ground truth ---------------------------------------------------------
blocked = snap(j, "blocked")
done = snap(j, "complete")
for s in (blocked, done):
    if s is not None:
        check_task(j, s, spinner, "the spinner", comm="klpt_spinner",
                   kthread=True)
if blocked is not None:
    check_lp(j, blocked, LP, enabled=1, transition=1)
    check_task(j, blocked, spinner, "the spinner", state=0)
if done is not None:
    check_lp(j, done, LP, enabled=1, transition=0)

# --- events ---------------------------------------------------------------
# Every stack check of the spinner: running on its CPU (-EBUSY), or, when
# a check catches it napping or preempted, sleeping in klpt_busy_fn.
sb = ev.named("klp_task_blocked", pid=spinner)
j.check(sb.named("klp_task_blocked", reason="running"), "expected "
        "klp_task_blocked reason=running for klpt_spinner (pid %d), got none"
        % spinner)
bad = [e for e in sb if not running(e) and not sleeping_in(e, FUNC)]
j.check(not bad, "expected klpt_spinner blocked only as running (err=-16) or "
        "sleeping_in_func (err=-98 func=%s), got" % FUNC, *bad)
bad = [e for e in sb if e["patch"] != LP or e["target"] != "patched"]
j.check(not bad, "expected klpt_spinner's blocked events to name patch=%s "
        "target=patched, got" % LP, *bad)

w = window(j, ev, "busy: load patch", "release")
if w is not None:
    passes = w.named("klp_transition_pass", patch=LP)
    j.check(len(passes) >= 3, "expected >= 3 passes before the release, got %d"
            % len(passes))
    bad = [p for p in passes if p["target"] != "patched" or p["pending"] < 1]
    j.check(not bad, "expected the passes before the release at "
            "target=patched pending>=1 (snap blocked: transition 1), got", *bad)
    j.check(w.named("klp_task_blocked", pid=spinner, reason="running"),
            "expected a reason=running block of klpt_spinner while it spun, "
            "got none")
    j.check(not w.named("klp_transition_complete"), "expected no completion "
            "while the spinner spun, got",
            *w.named("klp_transition_complete"))

sw = ev.named("klp_task_switch", pid=spinner)
j.check(len(sw) == 1, "expected exactly one switch of klpt_spinner (pid %d), "
        "got %d" % (spinner, len(sw)), *sw)
try:
    rel = ev.marker("release")
except KeyError:
    rel = None
    j.fail("expected the release marker, missing")
if sw and rel is not None:
    s = sw[0]
    check_event(j, s, "klpt_spinner's switch",
                "from=unpatched to=patched via=stack_check")
    j.check(s.lineno > ev[rel].lineno, "expected klpt_spinner to switch after "
            "the release marker, it switched before", ev[rel], s)
    after = ev[rel + 1:]
    c = [e for e in after if e.name == "klp_transition_complete"]
    j.check(len(c) == 1, "expected one klp_transition_complete after the "
            "release, got %d" % len(c), *c)
    if c:
        c = c[0]
        check_event(j, c, "klp_transition_complete",
                    "patch=%s target=patched forced=0" % LP)
        j.check(c.lineno > s.lineno, "expected the completion after the "
                "spinner's switch, it came before", s, c)

j.done()
