#!/usr/bin/env python3
"""fork_inherit: children forked during a transition inherit their
parent's patch state (klp_copy_process), reported as klp_task_switch
via=fork from=undefined.

Ground truth: the shell's pid and its two children's pids; snapshot
`forked1` (patching transition of klpt_lp_sleep held up by the sleeper,
the shell and child 1 at patch_state 1) and `forked2` (unpatching
transition held up by the sleeper in the new function, the shell and
child 2 at 0); the impl parameter.  Checked: each child has exactly one
via=fork event, from=undefined, to = its own state in its snapshot = its
parent's state there, written in the parent's context during the
transition.
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from klptjudge import Judge, load_events, load_snap  # noqa: E402

LP = "klpt_lp_sleep"
TGT = "klpt_target_sleep"
STATE = {-1: "undefined", 0: "unpatched", 1: "patched"}

j = Judge()
ev = load_events(j.resultdir)
POS = {id(e): i for i, e in enumerate(ev)}


def at(e):
    return POS[id(e)]


def fact(name):
    return j.read("facts", name).strip()


def show(events, n=8):
    events = list(events)
    out = [str(e).strip() for e in events[:n]]
    if len(events) > n:
        out.append("... and %d more" % (len(events) - n))
    return out


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
for m in ("fork_inherit: insmod %s" % LP, "fork_inherit: fork 1",
          "klpt_snap_begin forked1", "klpt_snap_end forked1",
          "fork_inherit: release 1", "fork_inherit: disable",
          "fork_inherit: fork 2", "klpt_snap_begin forked2",
          "klpt_snap_end forked2", "fork_inherit: release 2"):
    if not j.check(m in texts, "expected marker %r in events.txt, missing" % m):
        j.done()

try:
    shell = int(fact("shell_pid"))
    sleeper = int(fact("sleeper_pid"))
    kids = {1: int(fact("child1_pid")), 2: int(fact("child2_pid"))}
except ValueError:
    j.fail("expected pids in facts/{shell,sleeper,child1,child2}_pid, got %r"
           % [fact(f) for f in ("shell_pid", "sleeper_pid", "child1_pid",
                                "child2_pid")])
    j.done()
j.check(fact("insmod_rc") == "0", "expected insmod %s to exit 0, got %r"
        % (LP, fact("insmod_rc")))
j.check(fact("impl_block2") == "1", "expected impl=1 (the sleeper in the new "
        "function) before the disable, got %r" % fact("impl_block2"))

transitions = ev.where(lambda e: e.name.startswith("klp_transition_")
                       and e.get("patch") == LP)
forks = ev.named("klp_task_switch", via="fork")
sw = ev.named("klp_task_switch")

# name: (snapshot, expected state, patch enabled, transition target)
CASES = {1: ("forked1", 1, 1, "patched"), 2: ("forked2", 0, 0, "unpatched")}
for n, (sname, want, enabled, target) in CASES.items():
    child = kids[n]
    snap = load_snap(j.resultdir, sname)
    i_fork_mark = ev.marker("fork_inherit: fork %d" % n)
    i_begin = ev.marker("klpt_snap_begin %s" % sname)
    i_end = ev.marker("klpt_snap_end %s" % sname)

    # Ground truth of the snapshot.
    st = snap.livepatch.get(LP)
    j.check(st and st["enabled"] == enabled and st["transition"] == 1,
            "snap %s: expected %s enabled=%d transition=1, got %r"
            % (sname, LP, enabled, st))
    sl = snap.tasks.get(sleeper)
    j.check(sl is not None and sl.state == 1 - want,
            "snap %s: expected the sleeper %d holding the transition up at "
            "patch_state %d, got %r" % (sname, sleeper, 1 - want, sl))
    ct, pt = snap.tasks.get(child), snap.tasks.get(shell)
    if not j.check(ct is not None and pt is not None,
                   "snap %s: expected child %d and its parent %d, got %r, %r"
                   % (sname, child, shell, ct, pt)):
        continue
    j.check(pt.state == want, "snap %s: expected the parent shell %d at "
            "patch_state %d (it switched before forking), got %d"
            % (sname, shell, want, pt.state))
    j.check(ct.state == pt.state, "snap %s: expected child %d at its parent's "
            "patch_state %d, got %d" % (sname, child, pt.state, ct.state))

    # Exactly one fork event of the child, agreeing with the snapshot.
    mine = forks.where(lambda e, c=child: e["pid"] == c)
    if not j.check(len(mine) == 1, "child %d: expected exactly one "
                   "klp_task_switch via=fork, got %d" % (child, len(mine)),
                   *show(mine)):
        continue
    e = mine[0]
    j.check(e["from"] == "undefined", "child %d: expected fork from=undefined, "
            "got from=%s" % (child, e["from"]), e)
    j.check(e["to"] == STATE[ct.state] == STATE[pt.state],
            "child %d: expected fork to= its state in snap %s (%s) = its "
            "parent's (%s), got to=%s" % (child, sname, STATE[ct.state],
                                           STATE[pt.state], e["to"]), e)
    j.check(e["tgid"] == child, "child %d: expected tgid=%d (a process), got "
            "%d" % (child, child, e["tgid"]), e)
    j.check(e.pid == shell, "child %d: expected the fork event written in "
            "its parent's context (pid %d), got pid %d" % (child, shell, e.pid),
            e)
    j.check(i_fork_mark < at(e) < i_begin, "child %d: expected its fork "
            "event between the 'fork %d' mark and snap %s" % (child, n, sname),
            e)
    # ... inside the transition toward TARGET.
    prev = [t for t in transitions if at(t) < at(e)]
    nxt = [t for t in transitions if at(t) > at(e)]
    j.check(prev and prev[-1].name in ("klp_transition_start",
                                       "klp_transition_pass",
                                       "klp_transition_signal")
            and prev[-1]["target"] == target,
            "child %d: expected its fork during the %s transition, the "
            "transition event before it is" % (child, target), *prev[-1:])
    j.check(nxt and nxt[0]["target"] == target,
            "child %d: expected the %s transition still going after its fork"
            % (child, target), *nxt[:1])
    # Nothing else of the child until the snapshot is over (it stayed at
    # its parent's state, as the snapshot shows).
    other = sw.where(lambda x, c=child, a=at(e): x["pid"] == c and x is not e
                     and at(x) < i_end)
    j.check(not other, "child %d: expected no switch besides its fork before "
            "snap %s ended" % (child, sname), *show(other))

    # The parent's own switch to WANT came in this transition, before the
    # fork mark (the guest saw its patch_state there before forking).
    starts = [t for t in prev if t.name == "klp_transition_start"]
    i_start = at(starts[-1]) if starts else -1
    ps = sw.where(lambda x: x["pid"] == shell and x["to"] == STATE[want]
                  and x["via"] != "fork" and i_start < at(x) < i_fork_mark)
    j.check(len(ps) == 1, "shell %d: expected one switch to=%s between the "
            "transition's start and the 'fork %d' mark, got %d"
            % (shell, STATE[want], n, len(ps)), *show(ps))

j.done()

try:
    shell = int(fact("shell_pid"))
    sleeper = int(fact("sleeper_pid"))
    kids = {1: int(fact("child1_pid")), 2: int(fact("child2_pid"))}
except ValueError:
    j.fail("expected pids in facts/{shell,sleeper,child1,child2}_pid, got %r"
           % [fact(f) for f in ("shell_pid", "sleeper_pid", "child1_pid",
                                "child2_pid")])
    j.done()
j.check(fact("insmod_rc") == "0", "expected insmod %s to exit 0, got %r"
        % (LP, fact("insmod_rc")))
j.check(fact("impl_block2") == "1", "expected impl=1 (the sleeper in the new "
        "function) before the disable, got %r" % fact("impl_block2"))

transitions = ev.where(lambda e: e.name.startswith("klp_transition_")
                       and e.get("patch") == LP)
forks = ev.named("klp_task_switch", via="fork")
sw = ev.named("klp_task_switch")

# name: (snapshot, expected state, patch enabled, transition target)
CASES = {1: ("forked1", 1, 1, "patched"), 2: ("forked2", 0, 0, "unpatched")}
for n, (sname, want, enabled, target) in CASES.items():
    child = kids[n]
    snap = load_snap(j.resultdir, sname)
    i_fork_mark = ev.marker("fork_inherit: fork %d" % n)
    i_begin = ev.marker("klpt_snap_begin %s" % sname)
    i_end = ev.marker("klpt_snap_end %s" % sname)

    # Ground truth of the snapshot.
    st = snap.livepatch.get(LP)
    j.check(st and st["enabled"] == enabled and st["transition"] == 1,
            "snap %s: expected %s enabled=%d transition=1, got %r"
            % (sname, LP, enabled, st))
    sl = snap.tasks.get(sleeper)
    j.check(sl is not None and sl.state == 1 - want,
            "snap %s: expected the sleeper %d holding the transition up at "
            "patch_state %d, got %r" % (sname, sleeper, 1 - want, sl))
    ct, pt = snap.tasks.get(child), snap.tasks.get(shell)
    if not j.check(ct is not None and pt is not None,
                   "snap %s: expected child %d and its parent %d, got %r, %r"
                   % (sname, child, shell, ct, pt)):
        continue
    j.check(pt.state == want, "snap %s: expected the parent shell %d at "
            "patch_state %d (it switched before forking), got %d"
            % (sname, shell, want, pt.state))
    j.check(ct.state == pt.state, "snap %s: expected child %d at its parent's "
            "patch_state %d, got %d" % (sname, child, pt.state, ct.state))

    # Exactly one fork event of the child, agreeing with the snapshot.
    mine = forks.where(lambda e, c=child: e["pid"] == c)
    if not j.check(len(mine) == 1, "child %d: expected exactly one "
                   "klp_task_switch via=fork, got %d" % (child, len(mine)),
                   *show(mine)):
        continue
    e = mine[0]
    j.check(e["from"] == "undefined", "child %d: expected fork from=undefined, "
            "got from=%s" % (child, e["from"]), e)
    j.check(e["to"] == STATE[ct.state] == STATE[pt.state],
            "child %d: expected fork to= its state in snap %s (%s) = its "
            "parent's (%s), got to=%s" % (child, sname, STATE[ct.state],
                                           STATE[pt.state], e["to"]), e)
    j.check(e["tgid"] == child, "child %d: expected tgid=%d (a process), got "
            "%d" % (child, child, e["tgid"]), e)
    j.check(e.pid == shell, "child %d: expected the fork event written in "
            "its parent's context (pid %d), got pid %d" % (child, shell, e.pid),
            e)
    j.check(i_fork_mark < at(e) < i_begin, "child %d: expected its fork "
            "event between the 'fork %d' mark and snap %s" % (child, n, sname),
            e)
    # ... inside the transition toward TARGET.
    prev = [t for t in transitions if at(t) < at(e)]
    nxt = [t for t in transitions if at(t) > at(e)]
    j.check(prev and prev[-1].name in ("klp_transition_start",
                                       "klp_transition_pass",
                                       "klp_transition_signal")
            and prev[-1]["target"] == target,
            "child %d: expected its fork during the %s transition, the "
            "transition event before it is" % (child, target), *prev[-1:])
    j.check(nxt and nxt[0]["target"] == target,
            "child %d: expected the %s transition still going after its fork"
            % (child, target), *nxt[:1])
    # Nothing else of the child until the snapshot is over (it stayed at
    # its parent's state, as the snapshot shows).
    other = sw.where(lambda x, c=child, a=at(e): x["pid"] == c and x is not e
                     and at(x) < i_end)
    j.check(not other, "child %d: expected no switch besides its fork before "
            "snap %s ended" % (child, sname), *show(other))

    # The parent's own switch to WANT came before the fork mark (the guest
    # saw its patch_state there).
    ps = sw.where(lambda x: x["pid"] == shell and x["to"] == STATE[want]
                  and x["via"] != "fork")
    before = [x for x in ps if at(x) < i_fork_mark]
    j.check(before and at(before[-1]) > at(prev[0] if prev else e) - 10**9,
            "shell %d: expected its switch to=%s before the 'fork %d' mark"
            % (shell, STATE[want], n), *show(ps))

j.done()
