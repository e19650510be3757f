"""Checks that several klptrace VM scenario judges make.

klptjudge parses the results; this module holds what the judges of the
scenarios assert in the same way: the trace is whole, the kernel's log
agrees with the transition events, the markers are there, a snapshot's
view of a patch, a module or a task, the shape of a transition, the end
of a disable.  Every check records its failure on the Judge J as
"expected ..., got ..." (with the offending events as details) and
returns whether it held, so a judge can skip what depends on it.

    from klptjudge import Judge, load_events
    import checks

    j = Judge()
    ev = load_events(j.resultdir)
    checks.trace_complete(j, ev)
    checks.require_markers(j, ev, "x: insmod klpt_lp_sleep")
"""

import re

from klptjudge import load_snap, parse_body, show

__all__ = [
    "EADDRINUSE", "EBUSY", "STATE", "PASSES", "FULL_TRANSITION",
    "trace_complete", "check_dmesg_transitions", "require_markers",
    "need_int", "snap", "window", "before", "check_event", "sleeping_in",
    "running", "switch_vias", "check_lp", "check_lp_gone", "check_refcnt",
    "check_no_patch_state", "check_task", "transition_seq",
    "check_transition_seq", "check_pass_numbers", "check_last_pass_done",
    "only_one", "check_order", "check_free_chain", "switched_in_check",
    "fork_outside_transition", "late_return_switch", "early_fork",
    "maybe_after", "maybe_before",
]

# klp_task_blocked err values (reason sleeping_in_func, running).
EADDRINUSE, EBUSY = -98, -16

# patch_state values as the events spell them.
STATE = {-1: "undefined", 0: "unpatched", 1: "patched"}

# transition_seq() patterns: the passes of a transition (each pass may be
# followed by a signal), and a whole transition.
PASSES = "( pass( signal)?)+"
FULL_TRANSITION = "init start" + PASSES + " complete"


# --- the trace and the results ---------------------------------------------

def trace_complete(j, ev):
    """events.txt is whole: no ring-buffer overrun, every line parses."""
    ok = j.check(not ev.lost, "expected no ring-buffer overruns, saw %d"
                 % len(ev.lost),
                 *["CPU %d lost %d events (line %d)" % x for x in ev.lost])
    return j.check(not ev.unparsed, "expected every line of events.txt to "
                   "parse, %d did not" % len(ev.unparsed),
                   *["line %d: %s" % u for u in ev.unparsed[:5]]) and ok


def check_dmesg_transitions(j, ev, patch):
    """The kernel's own log agrees with the transition events of PATCH:
    klp_start_transition() and klp_complete_transition() each print a
    line (pr_notice: "livepatch: 'P': starting patching transition",
    "livepatch: 'P': unpatching complete", ...), so there is one
    klp_transition_start / klp_transition_complete per such line and
    target."""
    dmesg = j.read("dmesg.txt")
    ok = True
    for target, word in (("patched", "patching"), ("unpatched", "unpatching")):
        for event, text in (("klp_transition_start", "starting %s transition"),
                            ("klp_transition_complete", "%s complete")):
            line = "livepatch: '%s': " % patch + text % word
            n_log = dmesg.count(line + "\n")
            n_ev = len(ev.named(event, patch=patch, target=target))
            ok = j.check(n_ev == n_log, "expected one %s target=%s per dmesg "
                         "line %r: %d line(s), %d event(s)"
                         % (event, target, line, n_log, n_ev)) and ok
    return ok


def require_markers(j, ev, *texts):
    """Every one of TEXTS is a marker in EV.  The judge ends at the first
    one missing: what follows needs them."""
    have = {m.text for m in ev.markers()}
    for text in texts:
        if not j.check(text in have, "expected marker %r in events.txt, "
                       "missing" % text):
            j.done()


def need_int(j, what, *path):
    """The integer in the result file PATH (parts, like Judge.read).
    Without one the judge ends: "expected WHAT in PATH, got ..."."""
    text = j.read(*path).strip()
    try:
        return int(text)
    except ValueError:
        j.fail("expected %s in %s, got %r" % (what, "/".join(path), text))
        j.done()


def snap(j, name):
    """Snapshot NAME, or None with a failure recorded if it was never
    taken (for judges that go on with what they have)."""
    try:
        return load_snap(j.resultdir, name)
    except FileNotFoundError as e:
        j.fail("expected snapshot %s, missing: %s" % (name, e))
        return None


def window(j, ev, a, b=None):
    """ev.between(A, B), or None with a failure recorded if a marker is
    missing."""
    try:
        return ev.between(a, b)
    except KeyError as e:
        j.fail("expected markers %r .. %r in events.txt: %s"
               % (a, b if b is not None else "(end)", e.args[0]))
        return None


def fork_outside_transition(e):
    """A fork announced with no transition running: klp_task_new with
    the child's state undefined, or klp_task_fork_failed (klptrace.ko
    says both for every fork, in and out of transitions)."""
    if e.name == "klp_task_new":
        return e.get("state") == "undefined"
    return e.name == "klp_task_fork_failed"


def tied(e, x):
    """Events E and X carry the same timestamp from different CPUs, so
    the trace cannot tell their order (a clock that does not advance
    between them: seen on the native kernel's VM, where
    klp_transition_init, klp_transition_start and a user-return switch
    on the other CPU all read 4.073022)."""
    return e.ts == x.ts and e.cpu != x.cpu


def maybe_after(e, x):
    """Event E may have happened after event X: later in events.txt, or
    tied()."""
    return x is not None and (e.lineno > x.lineno or tied(e, x))


def maybe_before(e, x):
    """Event E may have happened before event X (see maybe_after())."""
    return x is not None and (e.lineno < x.lineno or tied(e, x))


def early_fork(e, init, start):
    """klp_task_switch E is a fork between klp_transition_init INIT and
    klp_transition_start START whose child took the initial state.
    klp_init_transition() gives every task the initial state (the one
    opposite the target) before klp_start_transition() sets the pending
    flags, and klp_copy_process() copies the parent's state, so a child
    forked in that window is born at the initial state: klptrace.ko and
    the native events both say so as a switch from=undefined via=fork.
    The init event fires at the entry of klp_init_transition(), before
    any state is set, so such a fork always follows it."""
    return (init is not None and start is not None
            and init.lineno < e.lineno < start.lineno
            and e["via"] == "fork" and e["from"] == "undefined"
            and e["to"] != init["target"] and e["to"] != "undefined")


def late_return_switch(e, complete):
    """klp_task_switch E comes after klp_transition_complete COMPLETE but
    happened before it.  klptrace.ko reports via=user_return and via=idle
    as klp_update_patch_state() returns: a task preempted or interrupted
    between its switch and that return has its event after the pass that
    found it switched, and after the completion that pass allowed
    (tracepoints/README.md).  Its to= is the completed target."""
    return (complete is not None and e.lineno > complete.lineno
            and e["via"] in ("user_return", "idle")
            and e["to"] == complete["target"])


def switched_in_check(ev, x, blocked):
    """klp_task_switch X, which comes before klp_task_blocked BLOCKED of
    the same task, is that task switching itself while the pass checked
    it.  The pass reads the task's state (klp_try_switch_task() in the
    core: patch_state != target; klptrace.ko's first_pass_summary walk:
    summarize()) and writes the blocked event a moment later (after
    klp_check_and_switch_task() found it running on its CPU, or at once
    in the walk); meanwhile the task, on its own CPU, can return to user
    mode or go through the idle loop and switch in
    klp_update_patch_state(), whose event is then dated before the
    blocked one.  So X is via user_return or idle, to the blocked event's
    target, and after the read: after every event the pass's writer
    wrote before BLOCKED (the read follows them) and after the pass's
    beginning (the last klp_transition_pass or klp_transition_start
    before BLOCKED).  EV: the whole trace."""
    if not (x["via"] in ("user_return", "idle")
            and x["to"] == blocked["target"] and x["pid"] == blocked["pid"]
            and (x["pid"] != 0 or x["comm"] == blocked["comm"])):
        return False
    a, b = ev.pos(x), ev.pos(blocked)
    if not a < b:
        return False
    for e in ev[a + 1:b]:
        if e.pid == blocked.pid and e.comm == blocked.comm:
            return False        # written by the pass before its read
        if e.name in ("klp_transition_pass", "klp_transition_start"):
            return False        # another pass (or before this one)
    return True


def before(x, y):
    """Events X and Y are both there and X comes first in events.txt."""
    return x is not None and y is not None and x.lineno < y.lineno


# --- single events ----------------------------------------------------------

def check_event(j, e, what, spec):
    """Event E (None: missing) has the fields SPEC, written as the trace
    prints them ("from=unpatched to=patched via=stack_check"; numbers
    compare as numbers): "expected WHAT SPEC, got ..." with E."""
    want, _ = parse_body("", spec)
    if e is None:
        return j.check(False, "expected %s %s, got none" % (what, spec))
    got = " ".join("%s=%s" % (k, e.get(k, "(none)")) for k in want)
    return j.check(all(e.get(k) == v for k, v in want.items()),
                   "expected %s %s, got %s" % (what, spec, got), e)


def sleeping_in(e, func):
    """klp_task_blocked E says the task sleeps in FUNC: reason
    sleeping_in_func, err -EADDRINUSE, func FUNC."""
    return (e["reason"] == "sleeping_in_func" and e["err"] == EADDRINUSE
            and e["func"] == func)


def running(e):
    """klp_task_blocked E says the task was on a CPU: reason running,
    err -EBUSY, no func."""
    return e["reason"] == "running" and e["err"] == EBUSY and e["func"] == ""


def switch_vias(task):
    """The ways snapshot task TASK may switch in a transition nobody
    forces (not an idle task, not a fork): a kthread only by a stack
    check, a user task also on its way back to user mode."""
    return ("stack_check",) if task.kthread else ("stack_check", "user_return")


# --- snapshots --------------------------------------------------------------

def check_lp(j, s, patch, enabled, transition, objects=None, why=""):
    """Snapshot S has /sys/kernel/livepatch/PATCH reading ENABLED and
    TRANSITION (and exactly OBJECTS, {object: patched}, if given).  WHY
    explains the expectation in the message."""
    lp = s.livepatch.get(patch)
    if not j.check(lp is not None, "snap %s: expected "
                   "/sys/kernel/livepatch/%s (enabled=%d transition=%d%s), "
                   "got patches %r"
                   % (s.name, patch, enabled, transition, why,
                      sorted(s.livepatch))):
        return False
    ok = j.check(lp["enabled"] == enabled and lp["transition"] == transition,
                 "snap %s: expected %s enabled=%d transition=%d%s, got "
                 "enabled=%r transition=%r" % (s.name, patch, enabled,
                                               transition, why, lp["enabled"],
                                               lp["transition"]))
    if objects is not None:
        ok = j.check(lp["objects"] == objects, "snap %s: expected the objects "
                     "of %s patched as %r, got %r"
                     % (s.name, patch, objects, lp["objects"])) and ok
    return ok


def check_lp_gone(j, s, patch):
    """Snapshot S has no /sys/kernel/livepatch/PATCH."""
    return j.check(patch not in s.livepatch, "snap %s: expected "
                   "/sys/kernel/livepatch/%s gone, got %r"
                   % (s.name, patch, s.livepatch.get(patch)))


def check_refcnt(j, s, module, want, why=""):
    """Snapshot S has MODULE loaded with refcnt WANT, or not loaded at all
    if WANT is None."""
    if want is None:
        return j.check(module not in s.refcnt, "snap %s: expected %s not "
                       "loaded%s, got refcnt %r"
                       % (s.name, module, why, s.refcnt.get(module)))
    return j.check(s.refcnt.get(module) == want, "snap %s: expected %s loaded "
                   "with refcnt %d%s, got %r"
                   % (s.name, module, want, why, s.refcnt.get(module)))


def check_no_patch_state(j, s, why=""):
    """Every task of snapshot S is at patch_state -1 (no transition)."""
    bad = [t for t in s.tasks.values() if t.state != -1]
    return j.check(not bad, "snap %s: expected every patch_state -1%s, got %d "
                   "tasks otherwise" % (s.name, why, len(bad)), *bad[:8])


def check_task(j, s, tid, who, comm=None, kthread=None, state=None, why=""):
    """Snapshot S has thread TID (WHO, for the message) with the given
    COMM, KTHREAD (bool) and patch_state STATE (None: not checked).
    Returns the Task, or None."""
    t = s.tasks.get(tid)
    want = []
    if comm is not None:
        want.append(comm)
    if kthread is not None:
        want.append("kthread" if kthread else "user task")
    if state is not None:
        want.append("at patch_state %d" % state)
    j.check(t is not None and (comm is None or t.comm == comm)
            and (kthread is None or t.kthread == kthread)
            and (state is None or t.state == state),
            "snap %s: expected %s (pid %d) as %s%s, got %r"
            % (s.name, who, tid, " ".join(want), why, t))
    return t


# --- transitions ------------------------------------------------------------

def transition_seq(events):
    """The klp_transition_* events of EVENTS as a string of their names
    without the prefix: "init start pass pass signal complete"."""
    p = "klp_transition_"
    return " ".join(e.name[len(p):] for e in events if e.name.startswith(p))


def check_transition_seq(j, tr, pattern, where="", n=20):
    """transition_seq(TR) matches PATTERN (built from PASSES), e.g.
    FULL_TRANSITION: "expected klp_transition_ init start pass...
    complete WHERE, got: ..." with the first N events."""
    seq = transition_seq(tr)
    want = pattern.replace(PASSES, " pass...")
    return j.check(re.fullmatch(pattern, seq), "expected klp_transition_ "
                   "%s%s, got: %s" % (want, where, seq or "(none)"),
                   *show(tr, n))


def check_pass_numbers(j, passes, why=""):
    """The klp_transition_pass events PASSES count 0, 1, 2, ... with no
    gap.  Returns the numbers."""
    nums = [p["pass"] for p in passes]
    j.check(nums == list(range(len(nums))), "expected pass numbers 0, 1, 2, "
            "... consecutive%s, got %r" % (why, nums))
    return nums


def check_last_pass_done(j, passes):
    """The last of PASSES found nothing pending (the pass that completes)."""
    last = passes[-1] if passes else None
    return j.check(last is not None and last["pending"] == 0, "expected the "
                   "last pass at pending=0, got %s"
                   % (last["pending"] if last is not None else "no pass"),
                   *([last] if last is not None else []))


# --- the end of a disable ---------------------------------------------------

def only_one(j, events, name, where, **fields):
    """The one event NAME with FIELDS in EVENTS (WHERE says which events
    those are, for the message), or None with a failure recorded."""
    got = events.named(name, **fields)
    desc = " ".join("%s=%s" % kv for kv in fields.items())
    if j.check(len(got) == 1, "expected exactly one %s %s %s, got %d"
               % (name, desc, where, len(got)), *show(got)):
        return got[0]
    return None


def check_order(j, chain):
    """CHAIN: (label, event or None) pairs.  When every event is there,
    they come in this order in events.txt."""
    if not all(e is not None for _, e in chain):
        return False
    lines = [e.lineno for _, e in chain]
    return j.check(lines == sorted(lines), "expected "
                   + " -> ".join(label for label, _ in chain)
                   + " in this order, got them at lines %s" % lines)


def check_free_chain(j, events, complete, patch, where):
    """The end of an unforced disable of PATCH, as tracepoints/README.md
    orders it: COMPLETE (its klp_transition_complete target=unpatched),
    then exactly one of each in EVENTS (WHERE: which events those are)
    klp_patch_free forced=0, klp_patch_release forced=0, klp_module_ref
    op=put, klp_module_unload_ready, klp_module_free.  Returns them as
    (free, release, put, ready, mfree), None for any that is not there
    once."""
    free = only_one(j, events, "klp_patch_free", where, patch=patch)
    release = only_one(j, events, "klp_patch_release", where, patch=patch)
    put = only_one(j, events, "klp_module_ref", where, module=patch, op="put")
    ready = only_one(j, events, "klp_module_unload_ready", where, module=patch)
    mfree = only_one(j, events, "klp_module_free", where, module=patch)
    check_order(j, [("klp_transition_complete target=unpatched", complete),
                    ("klp_patch_free", free), ("klp_patch_release", release),
                    ("klp_module_ref op=put", put),
                    ("klp_module_unload_ready", ready),
                    ("klp_module_free", mfree)])
    for e in (free, release):
        if e is not None:
            check_event(j, e, e.name, "forced=0")
    return free, release, put, ready, mfree


def check_forced_replace_end(j, ready, final, lp, lp2):
    """The end of a scenario where forcing the replace patch LP2 marked the
    replaced LP forced: at snapshot READY both patch directories are gone,
    LP keeps its reference (also at FINAL) and LP2 has none; both rmmods
    of LP failed (rmmod_lp_status, rmmod_lp2nd_status), LP2's succeeded
    (rmmod_lp2_status).  READY or FINAL may be None (snapshot missing,
    already reported)."""
    if ready is not None:
        check_lp_gone(j, ready, lp)
        check_lp_gone(j, ready, lp2)
        check_refcnt(j, ready, lp, 1, " (forced: never dropped)")
        check_refcnt(j, ready, lp2, 0, " (the replace patch is not forced)")
    if final is not None:
        check_refcnt(j, final, lp, 1, " (forced: never dropped)")
        check_refcnt(j, final, lp2, None)
    for f in ("rmmod_lp_status", "rmmod_lp2nd_status"):
        st = j.read(f).strip()
        j.check(st not in ("", "0"), "%s: expected rmmod %s to fail, got "
                "status %r" % (f, lp, st))
    st = j.read("rmmod_lp2_status").strip()
    j.check(st == "0", "rmmod %s: expected success, got status %r: %s"
            % (lp2, st, j.read("rmmod_lp2.txt").strip()))
