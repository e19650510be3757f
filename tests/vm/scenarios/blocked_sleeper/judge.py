#!/usr/bin/env python3
"""blocked_sleeper: a patching transition of klpt_lp_sleep held up by the
klpt_sleeper kthread sleeping in klpt_sleep_fn(), then released.

Ground truth: the sleeper's pid (module parameter), snapshot `blocked`
(transition=1, the sleeper at patch_state 0, who else is 0 or 1) taken
after at least 4 passes, snapshot `done` after the release, the calls
counter.  Checked against it: the blocked events name the sleeper with
sleeping_in_func / -EADDRINUSE / klpt_sleep_fn in every pass until the
release (anything else blocked only while running, and switched later);
switches agree with the patch states of `blocked`; after the release the
sleeper switches once via stack_check, then a pass at pending=0 and the
completion.
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from klptjudge import Judge, load_events, load_snap  # noqa: E402

LP = "klpt_lp_sleep"
TGT = "klpt_target_sleep"
FUNC = "klpt_sleep_fn"
EADDRINUSE, EBUSY = -98, -16
M_INSMOD = "blocked_sleeper: insmod %s" % LP
M_RELEASE = "blocked_sleeper: release"
MIN_PASSES = 4

j = Judge()
ev = load_events(j.resultdir)
POS = {id(e): i for i, e in enumerate(ev)}


def at(e):
    """Position of event E in the whole trace."""
    return POS[id(e)]


def fact(name):
    return j.read("facts", name).strip()


def show(events, n=8):
    events = list(events)
    out = [str(e).strip() for e in events[:n]]
    if len(events) > n:
        out.append("... and %d more" % (len(events) - n))
    return out


def key(e):
    """Who an event is about: the pid, or swapper/N for the idle tasks
    (pid 0 exists once per CPU)."""
    return e["comm"] if e["pid"] == 0 else e["pid"]


j.check(not ev.lost, "expected no ring-buffer overruns, saw %r" % ev.lost)
j.check(not ev.unparsed, "expected every line of events.txt to parse",
        *["line %d: %s" % u for u in ev.unparsed[:5]])
# --- the kernel's own log: klp_start_transition() and
# klp_complete_transition() each print a line (pr_notice) -------------------
_dmesg = j.read("dmesg.txt")
for _tgt, _word in (("patched", "patching"), ("unpatched", "unpatching")):
    for _ev, _text in (("klp_transition_start", "starting %s transition"),
                       ("klp_transition_complete", "%s complete")):
        _line = "livepatch: '%s': " % LP + _text % _word
        _n_log = _dmesg.count(_line + "\n")
        _n_ev = len(ev.named(_ev, patch=LP, target=_tgt))
        j.check(_n_ev == _n_log, "expected one %s target=%s per dmesg line "
                "%r: %d line(s), %d event(s)" % (_ev, _tgt, _line, _n_log, _n_ev))

texts = [m.text for m in ev.markers()]
for m in (M_INSMOD, "klpt_snap_begin blocked", "klpt_snap_end blocked",
          M_RELEASE, "klpt_snap_begin done", "klpt_snap_end done"):
    if not j.check(m in texts, "expected marker %r in events.txt, missing" % m):
        j.done()
i_snap_b0 = ev.marker("klpt_snap_begin blocked")
i_snap_b1 = ev.marker("klpt_snap_end blocked")
i_release = ev.marker(M_RELEASE)

# --- ground truth ----------------------------------------------------------
j.check(fact("insmod_rc") == "0", "expected insmod %s to exit 0, got %r"
        % (LP, fact("insmod_rc")))
try:
    sleeper = int(fact("sleeper_pid"))
except ValueError:
    j.fail("expected the sleeper pid in facts/sleeper_pid, got %r"
           % fact("sleeper_pid"))
    j.done()
blocked = load_snap(j.resultdir, "blocked")
done = load_snap(j.resultdir, "done")

st = blocked.livepatch.get(LP)
if j.check(st, "snap blocked: expected /sys/kernel/livepatch/%s" % LP):
    j.check(st["enabled"] == 1 and st["transition"] == 1,
            "snap blocked: expected %s enabled=1 transition=1, got enabled=%r "
            "transition=%r" % (LP, st["enabled"], st["transition"]))
    j.check(st["objects"] == {TGT: 1}, "snap blocked: expected object %s "
            "patched=1, got %r" % (TGT, st["objects"]))
t = blocked.tasks.get(sleeper)
if j.check(t is not None, "snap blocked: expected the sleeper pid %d, missing"
           % sleeper):
    j.check(t.state == 0 and t.kthread and t.comm == "klpt_sleeper",
            "snap blocked: expected the sleeper as kthread klpt_sleeper at "
            "patch_state 0, got %r" % t)
undef = [t for t in blocked.tasks.values() if t.state == -1]
j.check(not undef, "snap blocked: expected every task at 0 or 1 during the "
        "transition, %d at -1" % len(undef), *undef[:8])

st = done.livepatch.get(LP)
if j.check(st, "snap done: expected /sys/kernel/livepatch/%s" % LP):
    j.check(st["enabled"] == 1 and st["transition"] == 0,
            "snap done: expected %s enabled=1 transition=0, got enabled=%r "
            "transition=%r" % (LP, st["enabled"], st["transition"]))
bad = [t for t in done.tasks.values() if t.state != -1]
j.check(not bad, "snap done: expected every patch_state -1, got %d others"
        % len(bad), *bad[:8])
j.check(fact("calls_done") == "1", "expected the original %s to have returned "
        "once after the release (calls=1), got %r" % (FUNC, fact("calls_done")))

# --- transition sequence ---------------------------------------------------
win = ev.between(M_INSMOD, "klpt_snap_begin done")
tr = win.where(lambda e: e.name.startswith("klp_transition_"))
others = tr.where(lambda e: e.get("patch") != LP)
j.check(not others, "expected transition events of %s only, saw" % LP,
        *show(others))
tr = tr.where(lambda e: e.get("patch") == LP)
seq = " ".join(n[len("klp_transition_"):] for n in tr.names())
if not j.check(re.fullmatch(r"init start( pass( signal)?)+ complete", seq),
               "expected klp_transition_ init start pass... complete, got: %s"
               % (seq or "(none)"), *show(tr, 30)):
    j.done()
start = tr.first("klp_transition_start")
complete = tr.first("klp_transition_complete")
passes = tr.named("klp_transition_pass")
for e in tr:
    j.check(e["target"] == "patched", "expected target=patched, got %s"
            % e["target"], e)
j.check(complete["forced"] == 0, "expected complete forced=0, got %r"
        % complete["forced"], complete)
nums = [p["pass"] for p in passes]
j.check(nums == list(range(len(nums))),
        "expected pass numbers 0, 1, 2, ... consecutive, got %r" % nums)

pre = [p for p in passes if at(p) < i_release]
j.check(len(pre) >= MIN_PASSES, "expected at least %d passes before the "
        "release (the guest waited for them), got %d" % (MIN_PASSES, len(pre)))
bad = [p for p in pre if p["pending"] < 1]
j.check(not bad, "expected pending>=1 on every pass before the release "
        "(the sleeper is in %s), got" % FUNC, *bad)
j.check(passes[-1]["pending"] == 0, "expected the last pass at pending=0, "
        "got %r" % passes[-1]["pending"], passes[-1])

# --- blocked events, pass by pass -------------------------------------------
blk = win.named("klp_task_blocked")
sw = ev.named("klp_task_switch")
prev = at(start)
for p in passes:
    mine = blk.where(lambda e, a=prev, b=at(p): a < at(e) < b)
    prev = at(p)
    j.check(len(mine) == p["pending"], "pass %d: expected one klp_task_blocked "
            "per pending task (pending=%d), got %d"
            % (p["pass"], p["pending"], len(mine)), p, *show(mine))
    keys = [key(e) for e in mine]
    j.check(len(keys) == len(set(keys)), "pass %d: expected at most one "
            "klp_task_blocked per task, got %r" % (p["pass"], keys))
    if at(p) < i_release:
        s = mine.where(lambda e: e["pid"] == sleeper)
        j.check(len(s) == 1, "pass %d (before the release): expected the "
                "sleeper %d blocked, got %d events"
                % (p["pass"], sleeper, len(s)), *show(mine))

for e in blk:
    if e["pid"] == sleeper:
        j.check(e["reason"] == "sleeping_in_func" and e["err"] == EADDRINUSE
                and e["func"] == FUNC and e["tgid"] == sleeper
                and e["comm"] == "klpt_sleeper",
                "expected the sleeper blocked with reason=sleeping_in_func "
                "err=%d func=%s, got reason=%s err=%s func=%s"
                % (EADDRINUSE, FUNC, e["reason"], e["err"], e["func"]), e)
        j.check(at(e) < at(complete), "expected no sleeper blocked event "
                "after completion", e)
        continue
    # Anyone else: only while running on a CPU, and it switches later.
    if not j.check(e["reason"] == "running" and e["err"] == EBUSY
                   and e["func"] == "",
                   "expected tasks other than the sleeper %d blocked only with "
                   "reason=running err=%d func=, got" % (sleeper, EBUSY), e):
        continue
    later = sw.where(lambda x, k=key(e), a=at(e): key(x) == k and at(x) > a
                     and at(x) < at(complete) and x["to"] == "patched")
    j.check(later, "expected %s (blocked while running) to switch to patched "
            "later, before completion; it never did" % (key(e),), e)

# --- switches against snapshot `blocked` ------------------------------------
to_patched = sw.where(lambda e: e["to"] == "patched" and at(e) > at(start))
first_switch = {}
for e in to_patched:
    first_switch.setdefault(key(e), e)
for tid, t in sorted(blocked.tasks.items()):
    e = first_switch.get(tid)
    if t.state == 1:
        j.check(e is not None and at(e) < i_snap_b1,
                "snap blocked: task %d (%s) is patched (1), expected a "
                "klp_task_switch to=patched before the snapshot ended, got %s"
                % (tid, t.comm, e or "none"))
    elif t.state == 0:
        j.check(e is None or at(e) > i_snap_b0,
                "snap blocked: task %d (%s) is unpatched (0), expected no "
                "klp_task_switch to=patched before the snapshot began, got"
                % (tid, t.comm), e)
        if tid in done.tasks and done.tasks[tid].tgid == t.tgid:
            n = len(to_patched.where(lambda x, k=tid: x["pid"] == k))
            j.check(n == 1 and e is not None and at(e) < at(complete),
                    "task %d (%s), unpatched in snap blocked and alive in snap "
                    "done: expected exactly one switch to=patched before "
                    "completion, got %d" % (tid, t.comm, n))

# --- the release --------------------------------------------------------------
mine = sw.where(lambda e: e["pid"] == sleeper)
if j.check(len(mine) == 1, "expected exactly one klp_task_switch of the "
           "sleeper %d, got %d" % (sleeper, len(mine)), *show(mine)):
    s = mine[0]
    j.check(s["from"] == "unpatched" and s["to"] == "patched"
            and s["via"] == "stack_check",
            "expected the sleeper from=unpatched to=patched via=stack_check, "
            "got from=%s to=%s via=%s" % (s["from"], s["to"], s["via"]), s)
    j.check(at(s) > i_release, "expected the sleeper to switch after the "
            "release mark, it switched before", s)
    last = passes[-1]
    j.check(at(s) < at(last) < at(complete),
            "expected sleeper switch -> pass pending=0 -> complete in that "
            "order, got lines %d, %d, %d" % (s.lineno, last.lineno,
                                             complete.lineno))
    nxt = [p for p in passes if at(p) > at(s)]
    j.check(nxt and nxt[0]["pending"] == 0, "expected the pass right after the "
            "sleeper's switch at pending=0, got", *nxt[:1])

j.done()
