#!/usr/bin/env python3
"""signal_user: the fake signal at retry 15 frees a user task.

Ground truth: what the reader read ("patched": its restarted read ran the
new function), its pid and exit status, snap complete (transition 0).  The
events must show passes 0..15 each blocked by the reader sleeping in
klpt_read_proc_read, one signal at pass 15, then the reader's switch on
its way back to user mode, then the completion.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (EADDRINUSE, before, check_event, check_lp,  # noqa: E402
                    late_return_switch, need_int, sleeping_in, snap,
                    trace_complete, window)
from klptjudge import Judge, load_events  # noqa: E402

LP = "klpt_lp_read"
FUNC = "klpt_read_proc_read"
SIGNAL_PASS = 15

j = Judge()
ev = load_events(j.resultdir)

trace_complete(j, ev)
reader = need_int(j, "the reader pid", "facts", "reader_pid")

# --- ground truth ---------------------------------------------------------
j.check(j.read("read.txt") == "patched\n",
        "the reader read %r, expected 'patched\\n' (the restarted read runs "
        "the new function)" % j.read("read.txt"))
j.check(j.read("reader_status").strip() == "0",
        "the reader exited with status %r, expected 0" % j.read("reader_status").strip())
done = snap(j, "complete")
if done is not None:
    check_lp(j, done, LP, enabled=1, transition=0)
    j.check(reader not in done.tasks, "snap complete: expected the reader "
            "(pid %d) gone, got %r" % (reader, done.tasks.get(reader)))

# --- events ---------------------------------------------------------------
w = window(j, ev, "signal: load patch", "signal: reader exited")
if w is None:
    j.done()

start = w.named("klp_transition_start", patch=LP, target="patched")
j.check(len(start) == 1, "expected one klp_transition_start patch=%s target=patched, "
        "got %d" % (LP, len(start)), *start)
sig = w.named("klp_transition_signal")
j.check(len(sig) == 1, "expected exactly one klp_transition_signal, got %d" % len(sig),
        *sig)
if not (start and sig):
    j.done()
start, sig = start[0], sig[0]
j.check(sig["patch"] == LP and sig["target"] == "patched"
        and sig["pass"] == SIGNAL_PASS and sig["pending"] >= 1,
        "expected signal patch=%s target=patched pass=%d pending>=1, got"
        % (LP, SIGNAL_PASS), sig)

# Passes 0..15, in order, each with the reader blocked in klpt_read_proc_read
# since the previous pass.
passes = w.where(lambda e: e.name == "klp_transition_pass" and e.lineno < sig.lineno)
j.check([p["pass"] for p in passes] == list(range(SIGNAL_PASS + 1)),
        "expected passes 0..%d before the signal, got %r"
        % (SIGNAL_PASS, [p["pass"] for p in passes]))
prev = start
for p in passes:
    j.check(p["patch"] == LP and p["target"] == "patched" and p["pending"] >= 1,
            "pass %s: expected patch=%s target=patched pending>=1, got"
            % (p.get("pass"), LP), p)
    seg = w.where(lambda e, a=prev.lineno, b=p.lineno: a < e.lineno < b)
    rb = seg.named("klp_task_blocked", pid=reader)
    j.check(len(rb) == 1 and sleeping_in(rb[0], FUNC)
            and rb[0]["patch"] == LP and rb[0]["target"] == "patched",
            "pass %s: expected the reader (pid %d) blocked once with "
            "reason=sleeping_in_func err=%d func=%s, got %d"
            % (p.get("pass"), reader, EADDRINUSE, FUNC, len(rb)), *rb)
    prev = p
if passes:
    j.check(passes[-1].lineno < sig.lineno, "the signal does not follow pass %d"
            % SIGNAL_PASS)

sw = w.named("klp_task_switch", pid=reader)
j.check(len(sw) == 1, "expected one switch of the reader (pid %d), got %d"
        % (reader, len(sw)), *sw)
c = w.named("klp_transition_complete")
j.check(len(c) == 1, "expected one klp_transition_complete, got %d" % len(c), *c)
if sw:
    s = sw[0]
    check_event(j, s, "the reader's switch",
                "from=unpatched to=patched via=user_return")
    j.check(s.lineno > sig.lineno, "the reader switched before the signal", sig, s)
    if c:
        j.check(before(s, c[0]) or late_return_switch(s, c[0]),
                "complete is not after the reader's switch (nor is the "
                "switch a late user-return report)", s, c[0])
if c:
    check_event(j, c[0], "klp_transition_complete",
                "patch=%s target=patched forced=0" % LP)
    j.check(c[0].lineno > sig.lineno, "complete is not after the signal", sig, c[0])

j.done()
