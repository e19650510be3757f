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
from klptjudge import Judge, load_events, load_snap  # noqa: E402

LP = "klpt_lp_read"
SIGNAL_PASS = 15

j = Judge()
ev = load_events(j.resultdir)

j.check(not ev.lost, "ring buffer overruns: events are missing", *ev.lost)
j.check(not ev.unparsed, "unparsable lines in events.txt",
        *["%d: %s" % u for u in ev.unparsed[:5]])

try:
    reader = int(j.read("reader_pid").strip())
except ValueError:
    j.fail("no reader pid in reader_pid: %r" % j.read("reader_pid"))
    j.done()

# --- ground truth ---------------------------------------------------------
j.check(j.read("read.txt") == "patched\n",
        "the reader read %r, expected 'patched\\n' (the restarted read runs "
        "the new function)" % j.read("read.txt"))
j.check(j.read("reader_status").strip() == "0",
        "the reader exited with status %r, expected 0" % j.read("reader_status").strip())
try:
    done = load_snap(j.resultdir, "complete")
    lp = done.livepatch.get(LP)
    j.check(lp and lp["enabled"] == 1 and lp["transition"] == 0,
            "snap complete: expected %s enabled=1 transition=0, got %r" % (LP, lp))
    j.check(reader not in done.tasks, "snap complete: the reader (pid %d) is still there: %r"
            % (reader, done.tasks.get(reader)))
except FileNotFoundError as e:
    j.fail(str(e))

# --- events ---------------------------------------------------------------
try:
    w = ev.between("signal: load patch", "signal: reader exited")
except KeyError as e:
    j.fail("events.txt: %s" % e)
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
    j.check(len(rb) == 1 and rb[0]["reason"] == "sleeping_in_func"
            and rb[0]["err"] == -98 and rb[0]["func"] == "klpt_read_proc_read"
            and rb[0]["patch"] == LP and rb[0]["target"] == "patched",
            "pass %s: expected the reader (pid %d) blocked once with "
            "reason=sleeping_in_func err=-98 func=klpt_read_proc_read, got %d"
            % (p.get("pass"), reader, len(rb)), *rb)
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
    j.check(s["via"] == "user_return" and s["from"] == "unpatched"
            and s["to"] == "patched",
            "reader: expected from=unpatched to=patched via=user_return, got", s)
    j.check(s.lineno > sig.lineno, "the reader switched before the signal", sig, s)
    if c:
        j.check(c[0].lineno > s.lineno, "complete is not after the reader's switch",
                s, c[0])
if c:
    j.check(c[0]["patch"] == LP and c[0]["target"] == "patched" and c[0]["forced"] == 0,
            "expected complete patch=%s target=patched forced=0, got" % LP, c[0])
    j.check(c[0].lineno > sig.lineno, "complete is not after the signal", sig, c[0])

j.done()
