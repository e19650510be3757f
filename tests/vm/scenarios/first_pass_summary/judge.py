#!/usr/bin/env python3
"""first_pass_summary: klptrace.ko with first_pass_summary=1; an enable of
klpt_lp_sleep held up by the klpt_sleeper kthread (asleep in
klpt_sleep_fn) for several passes, released; its disable held up the
same way, released; the rmmods.

The option's contract (tracepoints/README.md): pass 0 of a transition
runs with the per-task hooks disarmed, so it reports no switch via
stack_check; its end names every task not at the target with one
klp_task_blocked reason=unknown err=0 func= and its pending is their
number; the retry passes run with the hooks armed and report real
reasons.  Checked, per direction, against the ground truth:

- snapshot `loaded`, `blocked` / `unblocking` (taken after >= 4 passes,
  while held) and `enabled` / `ready` (after each transition): the task
  states, the patch's sysfs, and the hooks report: the two per-task
  hooks `standby` outside a transition (the guest polled for it after
  each completion: the work that disarms them runs after it), `active`
  while the transition is held (retries), idle_task active, the option
  line `on`;
- the snapshot taken while held was taken later than pass 0, and a
  task's state only moves towards the target during a transition.  So:
  every task at !target in that snapshot that existed before pass 0 (no
  klp_task_new since the start) was named by pass 0; every task pass 0
  named that the snapshot has at the target has a traced switch to it
  after the walk read its state (by a retry's stack check, its user
  return or the idle loop: from right before its blocked event on, so
  possibly before pass 0's event) before the snapshot ended; every idle
  task pass 0 named switches later;
- the sleeper: reason=unknown in pass 0, sleeping_in_func err=-98
  func=klpt_sleep_fn in every later pass until the release, then one
  switch via stack_check, a pass at pending=0 and the completion;
- every pass: one klp_task_blocked per pending task, at most one per
  task; pass 0 counted at least the tasks alive across it plus the
  online CPUs' idle tasks;
- run.sh: no kernel splat (the work arms and disarms the kprobes under
  klp_mutex; the rmmod of klptrace.ko at the end); libmodel.py: the
  library's model (which infers pass 0's unseen switches, model.c
  apply_pass()) agrees with the snapshots at blocked_lib,
  unblocking_lib and the unload.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (EADDRINUSE, FULL_TRANSITION, STATE,  # noqa: E402
                    check_dmesg_transitions, check_event, check_last_pass_done,
                    check_lp, check_lp_gone, check_no_patch_state,
                    check_pass_numbers, check_refcnt, check_task,
                    check_transition_seq, late_return_switch, need_int,
                    require_markers, snap, switched_in_check,
                    trace_complete)
from klptjudge import Judge, load_events, show  # noqa: E402

LP = "klpt_lp_sleep"
TGT = "klpt_target_sleep"
FUNC = "klpt_sleep_fn"
S = "first_pass_summary: "
MIN_PASSES = 4
PER_TASK = ("klp_try_switch_task", "klp_check_and_switch_task")

j = Judge()
if j.fact("native") == "1":
    # the kernel's own events: no klptrace.ko, nothing to judge
    j.done()
ev = load_events(j.resultdir)
at = ev.pos


def key(e):
    """Who an event is about: the pid, or swapper/N for the idle tasks."""
    return e["comm"] if e["pid"] == 0 else e["pid"]


trace_complete(j, ev)
check_dmesg_transitions(j, ev, LP)
require_markers(j, ev, S + "load klptrace", "klpt_snap_end loaded",
                S + "insmod " + LP, S + "release", S + "enable done",
                "klpt_snap_begin blocked", "klpt_snap_end blocked",
                S + "disable", S + "release 2", S + "disable done",
                "klpt_snap_begin unblocking", "klpt_snap_end unblocking",
                S + "unload klptrace")
j.check(j.fact("insmod_rc") == "0", "expected insmod %s to exit 0, got %r"
        % (LP, j.fact("insmod_rc")))
j.check(j.fact("disable_rc") == "0", "expected the disable of %s to exit 0, "
        "got %r" % (LP, j.fact("disable_rc")))
j.check(j.fact("rmmod_rc") == "0", "expected rmmod %s to exit 0, got %r"
        % (LP, j.fact("rmmod_rc")))
sleeper = need_int(j, "the sleeper pid", "facts", "sleeper_pid")
online = j.fact("cpus_online")
ncpus = 0
for part in online.split(","):
    a, _, b = part.partition("-")
    ncpus += int(b or a) - int(a) + 1 if a.isdigit() else 0
j.check(ncpus > 0, "expected the online CPUs in facts/cpus_online, got %r"
        % online)

loaded = snap(j, "loaded")
if loaded is None:
    j.done()
sw_all = ev.named("klp_task_switch")
new_all = ev.named("klp_task_new")


# --- the hooks report ---------------------------------------------------------

def hooks(s):
    """{name: (kind, status)} of snapshot S's hooks report."""
    out = {}
    for line in (s.hooks or "").splitlines():
        w = line.split()
        if len(w) >= 3:
            out[w[0]] = (w[1], w[2])
    return out


def check_per_task(s, want, why):
    h = hooks(s)
    got = {n: h.get(n, ("", "(none)"))[1] for n in PER_TASK}
    j.check(all(v == want for v in got.values()), "snap %s: expected the "
            "per-task hooks %s (%s), got %r" % (s.name, want, why, got))


h = hooks(loaded)
j.check(h.get("first_pass_summary") == ("option", "on"), "snap loaded: "
        "expected 'first_pass_summary option on' in hooks, got %r"
        % (h.get("first_pass_summary"),))
j.check(h.get("idle_task") == ("kretprobe", "active"), "snap loaded: "
        "expected 'idle_task kretprobe active' in hooks, got %r"
        % (h.get("idle_task"),))
bad = ["%s %s %s" % (n, k, st) for n, (k, st) in sorted(h.items())
       if n not in PER_TASK and k != "option" and st != "active"]
j.check(not bad, "snap loaded: expected every other hook and symbol active",
        *bad)
check_per_task(loaded, "standby", "no transition yet")


# --- one direction ----------------------------------------------------------------

def direction(name, target, m_begin, m_release, m_done, held_name,
              after_name):
    """The transition of LP to TARGET from marker M_BEGIN (the insmod or
    the write of 0 to enabled) to M_DONE, released at M_RELEASE; snapshot
    HELD_NAME while held, AFTER_NAME once done."""
    tstate = 1 if target == "patched" else 0
    held = snap(j, held_name)
    after = snap(j, after_name)
    if held is None or after is None:
        return
    i_release = ev.marker(m_release)
    i_held0 = ev.marker("klpt_snap_begin " + held_name)
    i_held1 = ev.marker("klpt_snap_end " + held_name)

    win = ev.between(m_begin, m_done)
    tr = win.where(lambda e: e.name.startswith("klp_transition_"))
    others = tr.where(lambda e: e.get("patch") != LP)
    j.check(not others, "%s: expected transition events of %s only, saw"
            % (name, LP), *show(others))
    tr = tr.where(lambda e: e.get("patch") == LP)
    if not check_transition_seq(j, tr, FULL_TRANSITION, " (%s)" % name,
                                n=30):
        return
    for e in tr:
        check_event(j, e, "%s: %s" % (name, e.name), "target=" + target)
    start = tr.first("klp_transition_start")
    complete = tr.first("klp_transition_complete")
    passes = tr.named("klp_transition_pass")
    check_pass_numbers(j, passes, " (%s)" % name)
    check_last_pass_done(j, passes)
    pre = [p for p in passes if at(p) < i_release]
    j.check(len(pre) >= MIN_PASSES, "%s: expected at least %d passes before "
            "the release (the guest waited for them), got %d"
            % (name, MIN_PASSES, len(pre)))
    j.check(all(p["pending"] >= 1 for p in pre), "%s: expected pending>=1 "
            "on every pass before the release (the sleeper), got"
            % name, *pre)
    p0 = passes[0]

    def in_time(e):
        return at(e) < at(complete) or late_return_switch(e, complete)

    # one blocked event per pending task, pass by pass
    blk = win.named("klp_task_blocked")
    per_pass = []
    prev = at(start)
    for p in passes:
        mine = blk.where(lambda e, a=prev, b=at(p): a < at(e) < b)
        prev = at(p)
        per_pass.append(mine)
        j.check(len(mine) == p["pending"], "%s pass %d: expected one "
                "klp_task_blocked per pending task (pending=%d), got %d"
                % (name, p["pass"], p["pending"], len(mine)), p, *show(mine))
        keys = [key(e) for e in mine]
        j.check(len(keys) == len(set(keys)), "%s pass %d: expected at most "
                "one klp_task_blocked per task, got %r"
                % (name, p["pass"], keys))
        for e in mine:
            check_event(j, e, "%s pass %d: blocked" % (name, p["pass"]),
                        "patch=%s target=%s" % (LP, target))

    # pass 0: summarized
    named0 = per_pass[0]
    for e in named0:
        check_event(j, e, "%s pass 0 (summarized): blocked" % name,
                    "reason=unknown err=0 func=")
    sc0 = sw_all.where(lambda e: at(start) < at(e) < at(p0)
                       and e["via"] == "stack_check")
    j.check(not sc0, "%s: expected no klp_task_switch via=stack_check in "
            "pass 0 (per-task hooks disarmed), got" % name, *show(sc0))
    j.check(any(e["pid"] == sleeper for e in named0), "%s pass 0: expected "
            "the sleeper %d named (reason=unknown)" % (name, sleeper),
            *show(named0))
    alive = [t for t in loaded.tasks if t in held.tasks
             and held.tasks[t].tgid == loaded.tasks[t].tgid]
    j.check(p0["checked"] >= len(alive) + ncpus, "%s pass 0: expected "
            "checked >= %d (%d threads alive from snap loaded to snap %s, "
            "%d idle tasks), got %d" % (name, len(alive) + ncpus, len(alive),
                                        held_name, ncpus, p0["checked"]), p0)

    # The retries: armed, real reasons.  The work that arms the hooks
    # (summary.c) is queued at the end of pass 0 and waits for klp_mutex;
    # on a starved guest it may get it only after the first retry, which
    # then runs disarmed and is summarized as a whole (the hooks change
    # only under klp_mutex, which every pass holds).  Such leading retries
    # are judged as pass 0 is; the work waits for one pass, a second at
    # most (retries are a second apart); at least one retry before the
    # release must be armed.
    late = 0
    for mine in per_pass[1:]:
        if not mine or any(e["reason"] != "unknown" for e in mine):
            break
        late += 1
    j.check(late <= 2, "%s: expected the per-task hooks armed by pass 3 (the "
            "arming work queued at the end of pass 0), got %d summarized "
            "retries" % (name, late))
    armed = [p for p in passes[1 + late:] if at(p) < i_release]
    j.check(armed, "%s: expected a retry pass with the per-task hooks armed "
            "before the release, got %d summarized retries and none armed"
            % (name, late))
    for p, mine in zip(passes[1:1 + late], per_pass[1:1 + late]):
        sc = sw_all.where(lambda e, a=at(passes[p["pass"] - 1]), b=at(p):
                          a < at(e) < b and e["via"] == "stack_check")
        j.check(not sc, "%s pass %d (summarized: the arming work came "
                "late): expected no klp_task_switch via=stack_check, got"
                % (name, p["pass"]), *show(sc))
    for p, mine in zip(passes[1 + late:], per_pass[1 + late:]):
        unk = mine.where(lambda e: e["reason"] == "unknown")
        j.check(not unk, "%s pass %d: expected no reason=unknown in a retry "
                "(per-task hooks armed)" % (name, p["pass"]), *show(unk))
        if at(p) < i_release:
            s = mine.where(lambda e: e["pid"] == sleeper)
            if j.check(len(s) == 1, "%s pass %d (before the release): "
                       "expected the sleeper %d blocked once, got %d"
                       % (name, p["pass"], sleeper, len(s)), *show(mine)):
                check_event(j, s[0], "%s pass %d: the sleeper blocked with"
                            % (name, p["pass"]),
                            "tgid=%d comm=klpt_sleeper reason=sleeping_in_func"
                            " err=%d func=%s" % (sleeper, EADDRINUSE, FUNC))

    # pass 0's names against the snapshot taken while held
    forked = {e["pid"] for e in new_all if at(e) > at(start)}
    names0 = {key(e) for e in named0}
    for tid, t in sorted(held.tasks.items()):
        if t.state == 1 - tstate and tid not in forked:
            j.check(tid in names0, "%s: task %d (%s) is %s in snap %s and "
                    "existed before pass 0, so was pending at its end: "
                    "expected it named by pass 0, it was not"
                    % (name, tid, t.comm, STATE[t.state], held_name))
    # A named task's switch comes after the walk read its state: after
    # its blocked event, even before the pass event (the walk goes on
    # while the task switches on its CPU), or just before it
    # (switched_in_check()).
    for e in named0:
        k = key(e)
        later = sw_all.where(lambda x, k=k, e=e: key(x) == k
                             and x["to"] == target and (
                                 at(x) > at(e) or switched_in_check(ev, x, e)))
        if e["pid"] == 0:
            j.check(any(in_time(x) for x in later), "%s: idle task %s, "
                    "pending at pass 0, expected to switch to %s later, "
                    "before the completion" % (name, k, target), e)
            continue
        t = held.tasks.get(k)
        if t is None or t.tgid != e["tgid"] or t.state != tstate:
            continue
        j.check(any(at(x) < i_held1 for x in later), "%s: task %d (%s) "
                "named by pass 0 and %s in snap %s: expected a "
                "klp_task_switch to=%s between its blocked event and the "
                "snapshot, "
                "none" % (name, k, t.comm, target, held_name, target), e)

    # the snapshots
    check_task(j, held, sleeper, "the sleeper", comm="klpt_sleeper",
               kthread=True, state=1 - tstate)
    check_per_task(held, "active", "armed for the retry passes")
    sws = sw_all.where(lambda e: e["pid"] == sleeper and at(start) < at(e))
    sws = sws.where(lambda e: at(e) < at(complete))
    if j.check(len(sws) == 1, "%s: expected exactly one klp_task_switch of "
               "the sleeper %d, got %d" % (name, sleeper, len(sws)),
               *show(sws)):
        s = sws[0]
        check_event(j, s, "%s: the sleeper's switch" % name,
                    "from=%s to=%s via=stack_check"
                    % (STATE[1 - tstate], target))
        j.check(at(s) > i_release, "%s: expected the sleeper to switch after "
                "the release" % name, s)
        nxt = [p for p in passes if at(p) > at(s)]
        j.check(nxt and nxt[0]["pending"] == 0, "%s: expected the pass "
                "right after the sleeper's switch at pending=0, got"
                % name, *nxt[:1])
    check_no_patch_state(j, after, " after the transition")
    check_per_task(after, "standby", "disarmed again after the completion")
    j.check(i_held0 > at(p0), "%s: expected snap %s after pass 0"
            % (name, held_name))
    return held


held = direction("enable", "patched", S + "insmod " + LP, S + "release",
                 S + "enable done", "blocked", "enabled")
if held is not None:
    check_lp(j, held, LP, enabled=1, transition=1, objects={TGT: 1})
enabled = snap(j, "enabled")
if enabled is not None:
    check_lp(j, enabled, LP, enabled=1, transition=0)
held = direction("disable", "unpatched", S + "disable", S + "release 2",
                 S + "disable done", "unblocking", "ready")
if held is not None:
    check_lp(j, held, LP, enabled=0, transition=1)
ready = snap(j, "ready")
if ready is not None:
    check_lp_gone(j, ready, LP)
    check_refcnt(j, ready, LP, 0, " after the disable")

j.done()
