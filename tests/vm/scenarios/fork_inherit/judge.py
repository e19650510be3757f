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
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (STATE, check_dmesg_transitions, check_event,  # noqa: E402
                    check_lp, check_task, need_int, require_markers,
                    trace_complete)
from klptjudge import Judge, load_events, load_snap, show  # noqa: E402

LP = "klpt_lp_sleep"

j = Judge()
ev = load_events(j.resultdir)
at = ev.pos  # position of an event in the whole trace

trace_complete(j, ev)
check_dmesg_transitions(j, ev, LP)
require_markers(j, ev, "fork_inherit: insmod %s" % LP, "fork_inherit: fork 1",
                "klpt_snap_begin forked1", "klpt_snap_end forked1",
                "fork_inherit: release 1", "fork_inherit: disable",
                "fork_inherit: fork 2", "klpt_snap_begin forked2",
                "klpt_snap_end forked2", "fork_inherit: release 2")

shell = need_int(j, "the shell's pid", "facts", "shell_pid")
sleeper = need_int(j, "the sleeper pid", "facts", "sleeper_pid")
kids = {n: need_int(j, "child %d's pid" % n, "facts", "child%d_pid" % n)
        for n in (1, 2)}
j.check(j.fact("insmod_rc") == "0", "expected insmod %s to exit 0, got %r"
        % (LP, j.fact("insmod_rc")))
j.check(j.fact("impl_block2") == "1", "expected impl=1 (the sleeper in the "
        "new function) before the disable, got %r" % j.fact("impl_block2"))

transitions = ev.where(lambda e: e.name.startswith("klp_transition_")
                       and e.get("patch") == LP)
forks = ev.named("klp_task_switch", via="fork")
sw = ev.named("klp_task_switch")


def check_fork(n, sname, want, enabled, target):
    """Child N, forked by the shell after the shell switched to patch_state
    WANT, during a transition toward TARGET (patch enabled=ENABLED) that
    the sleeper holds up at 1 - WANT; snapshot SNAME taken right after."""
    child = kids[n]
    snap = load_snap(j.resultdir, sname)
    i_fork_mark = ev.marker("fork_inherit: fork %d" % n)
    i_begin = ev.marker("klpt_snap_begin %s" % sname)
    i_end = ev.marker("klpt_snap_end %s" % sname)

    # Ground truth of the snapshot.
    check_lp(j, snap, LP, enabled=enabled, transition=1)
    check_task(j, snap, sleeper, "the sleeper holding the transition up",
               state=1 - want)
    ct, pt = snap.tasks.get(child), snap.tasks.get(shell)
    if not j.check(ct is not None and pt is not None,
                   "snap %s: expected child %d and its parent %d, got %r, %r"
                   % (sname, child, shell, ct, pt)):
        return
    j.check(pt.state == want, "snap %s: expected the parent shell %d at "
            "patch_state %d (it switched before forking), got %d"
            % (sname, shell, want, pt.state))
    j.check(ct.state == pt.state, "snap %s: expected child %d at its parent's "
            "patch_state %d, got %d" % (sname, child, pt.state, ct.state))

    # Exactly one fork event of the child, agreeing with the snapshot.
    mine = forks.where(lambda e: e["pid"] == child)
    if not j.check(len(mine) == 1, "child %d: expected exactly one "
                   "klp_task_switch via=fork, got %d" % (child, len(mine)),
                   *show(mine)):
        return
    e = mine[0]
    check_event(j, e, "child %d's fork event" % child, "from=undefined")
    j.check(e["to"] == STATE[ct.state] == STATE[pt.state],
            "child %d: expected fork to= its state in snap %s (%s) = its "
            "parent's (%s), got to=%s" % (child, sname, STATE[ct.state],
                                           STATE[pt.state], e["to"]), e)
    check_event(j, e, "child %d's fork event (a process)" % child,
                "tgid=%d" % child)
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
    other = sw.where(lambda x: x["pid"] == child and x is not e
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


# 1: patching transition, the shell already patched: child born patched.
check_fork(1, "forked1", want=1, enabled=1, target="patched")
# 2: unpatching transition, the shell already unpatched: child born unpatched.
check_fork(2, "forked2", want=0, enabled=0, target="unpatched")

j.done()
