#!/usr/bin/env python3
"""The model's task set against the kernel's: the judge of tasks_smp1,
tasks_smp2 and tasks_smp4 (their guest.sh: tasks_smp2's).

At every checkpoint (tasks/checkpoints) the guest took snapshot NAME_pre,
then had every session show its model, then took NAME_post; nothing
forked in between but the one-shot klptop (its pid in tasks/NAME/meta).
The sessions: klpt_watch's model dump (tasks/NAME/watch.txt, opened
first), the one-shot klptop --json -n 1 (oneshot.json, opened at the
checkpoint) and the frames of the long-running klptop --json sessions
(tasks/S.json, opened at the checkpoints in tasks/sessions) built in the
window: ts_ns (CLOCK_MONOTONIC, the uptime's clock in a guest that never
suspends) after the pre read ended and before the post read began.

Ground truth:
- the threads: /proc/*/task/* as both reads saw them.  A tid whose entry
  (tgid, patch_state, PF_KTHREAD, comm) is the same in both, not a
  zombie, is stable: the model must have it, with that state, tgid and
  kthread flag.  Any other tid of either read changed between them: the
  model may have it or not, at either read's state.  No other tid may be
  in the model but the one-shot klptop's (present in its own frame).
- the idle tasks: one per possible CPU (facts/possible; the scenario's
  vCPU count), swapper/N, pid 0, never in /proc.  Their patch_state comes
  from the kernel's debug messages of klp_try_switch_task() (dynamic
  debug, in dmesg.txt), which name every task a pass could not switch:
  the passes are told apart by the sleeper, named once in every pass
  while it blocks the transition, the idle tasks after every thread
  (klp_try_complete_transition() checks them last).  An idle task not
  named in the last pass that ended before the checkpoint (the one
  between the last two sleeper lines before the kmsg "NAME pre_end") was
  switched then, so it is now; one named there may have switched since
  (its idle loop does it): either state.  Out of a transition: undefined.
  A session that joined the transition under way cannot know an idle
  task's state (no /proc file) until an event tells: it may say so
  (klptop "?", klpt_watch -2), never a wrong state; what it does not know
  it cannot count as switched.

Checked for every session's view: the number of tasks ("tasks", the
model's count; klpt_watch's task lines), the idle tasks, and in the
transition (sysfs transition 1 in both reads) "switched X of Y" (X the
tasks at the target, Y every task with a state), the blockers (every
thread not at the target; the idle ones named as above), each blocker's
kthread flag against PF_KTHREAD and its state, and the counters the
kernel's messages bound: the pass number (passes = sleeper lines) and
the sleeper's failed checks, unless the session says it cannot know them
(null).
"""

import json
import os
import re

from klptjudge import Judge, load_snap
from libmodel import Model

LP = "klpt_lp_sleep"
SLEEPER = "klpt_sleeper"
STATE_NAME = {-1: "undefined", 0: "unpatched", 1: "patched"}
# an idle task's state the session says it does not know
UNKNOWN_STATE, UNKNOWN_NAMES = -2, ("?", None, "unknown")

DMESG = re.compile(r"^\[\s*([\d.]+)\]\s(.*)$")
STARTING = re.compile(r"^livepatch: '(\S+)': starting patching transition$")
SWITCH_FAIL = re.compile(
    r"^(?:livepatch: )?klp_try_switch_task: (?:Unknown error code \(-?\d+\) when trying "
    r"to switch (.*):(\d+)|(.*):(\d+) (?:is running|has an unreliable stack"
    r"|is sleeping on function \S+))$")
KMSG = "klpt_tasks: "
# seconds: the printk clock against CLOCK_MONOTONIC, measured at the
# checkpoint (uptime's 10 ms, the kmsg write), and an event's way into
# the model; a late joiner's own count is off by seconds
CLOCK_SLACK = 0.3


def cpu_list(text):
    """"0-3,5" -> [0, 1, 2, 3, 5]."""
    out = []
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def parse_dmesg(text):
    """dmesg.txt -> [(KIND, TEXT, PID, TS)] in order: our kmsg lines
    ("mark", TEXT, None, TS), the tasks klp_try_switch_task() could not
    switch ("fail", COMM, PID, TS), the transition's start ("start",
    PATCH, None, TS); TS the printk time, seconds."""
    out = []
    for line in text.splitlines():
        m = DMESG.match(line)
        body, ts = (m.group(2), float(m.group(1))) if m else (line, None)
        if body.startswith(KMSG):
            out.append(("mark", body[len(KMSG):].strip(), None, ts))
            continue
        m = STARTING.match(body)
        if m:
            out.append(("start", m.group(1), None, ts))
            continue
        m = SWITCH_FAIL.match(body)
        if m:
            comm = m.group(1) if m.group(1) is not None else m.group(3)
            pid = m.group(2) if m.group(2) is not None else m.group(4)
            out.append(("fail", comm, int(pid), ts))
    return out


def mark_index(log, text):
    for i, e in enumerate(log):
        if e[0] == "mark" and e[1] == text:
            return i
    return None


def sleeper_lines(log, sleeper, start, end):
    """Indices of the sleeper's lines in log[start:end]."""
    return [i for i in range(start, end)
            if log[i][0] == "fail" and log[i][1] == SLEEPER
            and log[i][2] == sleeper]


def idle_truth(log, sleeper, start, at, idle):
    """{swapper/N: 1 (switched), None (either)} at log index AT, for a
    patching transition whose first pass follows log index START (module
    doc); None if fewer than two passes ended before AT."""
    s = sleeper_lines(log, sleeper, start, at)
    if len(s) < 2:
        return None
    named = {log[i][1] for i in range(s[-2] + 1, s[-1])
             if log[i][0] == "fail" and log[i][2] == 0}
    return {name: None if name in named else 1 for name in idle}


class Truth:
    """One checkpoint's ground truth (module doc)."""

    def __init__(self, pre, post, zombies, oneshot):
        self.pre, self.post = pre, post
        self.stable = {}
        for tid, t in pre.tasks.items():
            u = post.tasks.get(tid)
            if u is not None and tuple(t) == tuple(u) and tid not in zombies:
                self.stable[tid] = t
        self.changed = (set(pre.tasks) | set(post.tasks)) - set(self.stable)
        self.oneshot = oneshot

    def states(self, tid):
        """The states a changed tid may have."""
        return {r.tasks[tid].state for r in (self.pre, self.post)
                if tid in r.tasks}

    def compare_tids(self, j, where, tids):
        """TIDS (a view's threads, pid > 0) against the truth."""
        missing = sorted(set(self.stable) - set(tids))
        extra = sorted(set(tids) - set(self.stable) - self.changed -
                       {self.oneshot})
        j.check(not missing, "%s: expected every thread of both reads, %d "
                "missing" % (where, len(missing)),
                *["tid %d (%s, %s)" % (t, self.stable[t].comm,
                                       "kthread" if self.stable[t].kthread
                                       else "user") for t in missing[:12]])
        j.check(not extra, "%s: expected no thread that neither read saw, "
                "got %d" % (where, len(extra)), *extra[:12])

    def count_range(self, nidle, own):
        """(lo, hi) of the number of tasks: OWN: the one-shot session's
        own frame (its klptop is alive then)."""
        lo = len(self.stable) + nidle + (1 if own else 0)
        hi = len(self.stable) + len(self.changed) + nidle + 1
        return lo, hi


def load_meta(j, cp):
    meta = {}
    for line in j.read("tasks", cp, "meta").splitlines():
        key, _, val = line.partition(" ")
        meta[key] = val
    return meta


def zombies_of(j, *names):
    out = set()
    for name in names:
        out |= {int(x) for x in j.read("snap", name, "zombies").split()}
    return out


def frames_of(j, path):
    out = []
    for n, line in enumerate(j.read(*path).splitlines(), 1):
        try:
            out.append(json.loads(line))
        except ValueError as e:
            j.fail("%s line %d: not JSON: %s" % ("/".join(path), n, e))
    return out


def check_watch(j, where, model, truth, idle, idle_state):
    """klpt_watch's dump (a session opened first) against the truth."""
    truth.compare_tids(j, where, set(model.tasks))
    bad = []
    for tid, (tgid, state, comm) in sorted(model.tasks.items()):
        t = truth.stable.get(tid)
        if t is not None:
            if (tgid, state) != (t.tgid, t.state) or \
                    not comm_matches(comm, escape(t.comm), t.kthread):
                bad.append("tid %d: /proc tgid %d state %d comm %s, model "
                           "tgid %d state %d comm %s" % (
                               tid, t.tgid, t.state, t.comm, tgid, state,
                               comm))
        elif tid in truth.changed and state not in truth.states(tid):
            bad.append("tid %d (%s, changed between the reads): model state "
                       "%d, /proc %s" % (tid, comm, state,
                                         sorted(truth.states(tid))))
    j.check(not bad, "%s: expected the threads' states (and tgid, comm) of "
            "/proc, %d differ"
            % (where, len(bad)), *bad[:12])
    j.check(set(model.idle) == set(idle), "%s: expected the idle tasks %s "
            "(one per possible CPU), got %s" % (where, sorted(idle),
                                                sorted(model.idle)))
    check_idle_states(j, where, model.idle, idle_state)


def escape(comm):
    """COMM as klpt_watch writes it: backslash and non-printable bytes
    as \\xNN."""
    return "".join(c if 0x20 <= ord(c) < 0x7f and c != "\\"
                   else "\\x%02x" % ord(c) for c in comm)


def comm_matches(model, proc, kthread):
    """The model's comm (the kernel's task->comm, 15 bytes) is what /proc
    shows of it: 6.1's proc_task_name() shows a kthread's full name, and
    a workqueue worker's comm followed by "+" or "-" and its work's
    description."""
    if not kthread:
        return model == proc
    return model == proc[:15] or (proc.startswith(model) and
                                  proc[len(model):len(model) + 1] in "+-")


def check_idle_states(j, where, got, idle_state):
    """GOT {swapper/N: state} against IDLE_STATE (None: out of a
    transition, every idle task undefined; else {name: 1 or None}).
    Only klpt_watch's session, opened before everything, shows them all:
    an unknown state is wrong there too."""
    for name, state in sorted(got.items()):
        if idle_state is None:
            j.check(state == -1, "%s: expected %s undefined out of a "
                    "transition, got %d" % (where, name, state))
        elif idle_state.get(name) == 1:
            j.check(state == 1, "%s: expected %s patched (the kernel did not "
                    "name it in the last pass), got %d" % (where, name, state))
        else:
            j.check(state in (0, 1), "%s: expected %s in a state during the "
                    "transition, got %d" % (where, name, state))


def check_frame(j, where, f, truth, idle, idle_state, own, passes, late,
                times=None):
    """One klptop --json frame against the truth (module doc).  PASSES:
    (lo, hi) of the passes the kernel had made, or None out of a
    transition.  LATE: the session joined the transition under way (it
    may not know the idle tasks' states).  TIMES: (OFF, START, FIRST): the
    printk clock minus CLOCK_MONOTONIC at the checkpoint, the printk
    times of the transition's start and of the sleeper's first failed
    check; elapsed_s and the sleeper's blocked_s, unless null, must be
    the time since them (within CLOCK_SLACK)."""
    j.check(f.get("mode") == "events", "%s: mode %s, not events"
            % (where, f.get("mode")))
    j.check(f.get("lost") == 0, "%s: %s events lost" % (where, f.get("lost")))
    lo, hi = truth.count_range(len(idle), own)
    n = f.get("tasks")
    j.check(isinstance(n, int) and lo <= n <= hi, "%s: expected %d tasks "
            "(%d threads in both /proc reads + %d idle%s)%s, the model has %s"
            % (where, lo, len(truth.stable), len(idle),
               " + its own klptop" if own else "",
               "" if hi == lo else " to %d (%d changed between the reads)"
               % (hi, hi - lo), n))
    p = next((x for x in f.get("patches", []) if x.get("name") == LP), None)
    if passes is None:
        if p is not None:
            j.check(not p.get("transition"), "%s: %s shown in transition, "
                    "sysfs says none" % (where, LP))
        return
    if not j.check(p is not None and p.get("transition") and
                   p.get("direction") == "patching",
                   "%s: expected %s in its patching transition, got %s"
                   % (where, LP, p and {k: p.get(k) for k in
                                        ("transition", "direction",
                                         "phase")})):
        return
    blockers = p.get("blockers", [])
    got = {b["pid"]: b for b in blockers if b["pid"] > 0}
    got_idle = {b["comm"]: b.get("state") for b in blockers if b["pid"] == 0}
    # idle tasks of unknown state: counted apart, or listed as blockers
    unknown_listed = sorted(n for n, st in got_idle.items()
                            if st in UNKNOWN_NAMES)
    unknown = (p.get("state_unknown") or 0) + len(unknown_listed)
    j.check(late or not unknown, "%s: a session that saw the transition "
            "start shows %d idle task(s) of unknown state" % (where, unknown))
    j.check(unknown <= len(idle), "%s: %d tasks of unknown state, only the "
            "%d idle tasks are not in /proc" % (where, unknown, len(idle)))
    # switched X of Y; X a lower bound ("switched_at_least") while some
    # are unknown
    sw_lo = sum(1 for t in truth.stable.values() if t.state == 1) + \
        sum(1 for s in idle_state.values() if s == 1) - unknown
    sw_hi = sw_lo + unknown + len(truth.changed) + 1 + \
        sum(1 for s in idle_state.values() if s is None)
    x = p.get("switched")
    if x is None and unknown:
        x = p.get("switched_at_least")
    j.check(p.get("total") is not None and lo <= p["total"] <= hi,
            "%s: expected switched X of Y with Y %d to %d (every thread and "
            "idle task has a state in a transition), got Y=%s"
            % (where, lo, hi, p.get("total")))
    j.check(x is not None and sw_lo <= x <= sw_hi,
            "%s: expected switched X of Y with X %d to %d (patched in /proc, "
            "idle tasks the kernel did not name%s), got X=%s"
            % (where, sw_lo, sw_hi, ", less %d unknown" % unknown
               if unknown else "", x))
    if x is not None and p.get("blockers_total") is not None:
        j.check(x + p["blockers_total"] + (p.get("state_unknown") or 0) ==
                p.get("total"), "%s: switched %s + blockers %s + unknown %s "
                "!= total %s" % (where, x, p["blockers_total"],
                                 p.get("state_unknown"), p.get("total")))
    # the blockers: every thread and idle task not at the target
    j.check(p.get("blockers_total") == len(blockers), "%s: blockers_total %s,"
            " %d listed (no filter)" % (where, p.get("blockers_total"),
                                         len(blockers)))
    want = {tid for tid, t in truth.stable.items() if t.state != 1}
    missing = sorted(want - set(got))
    extra = sorted(tid for tid in set(got) - want
                   if tid not in truth.changed and tid != truth.oneshot
                   or tid in truth.stable)
    j.check(not missing and not extra, "%s: expected the blockers %s "
            "(unpatched in both /proc reads), missing %s, extra %s"
            % (where, sorted(want), missing, extra))
    for tid, b in sorted(got.items()):
        t = truth.stable.get(tid)
        if t is None:
            continue
        j.check(b.get("kthread") is t.kthread, "%s: blocker %d (%s): "
                "kthread %s, PF_KTHREAD says %s" % (where, tid, t.comm,
                                                   b.get("kthread"),
                                                   t.kthread))
        j.check((b.get("state"), b.get("tgid")) ==
                (STATE_NAME[t.state], t.tgid) and
                comm_matches(b.get("comm"), t.comm, t.kthread),
                "%s: blocker %d: state %s tgid %s comm %s, /proc %s %d %s"
                % (where, tid, b.get("state"), b.get("tgid"), b.get("comm"),
                   STATE_NAME[t.state], t.tgid, t.comm))
        if t.comm == SLEEPER and b.get("checks") is not None:
            j.check(passes[0] <= b["checks"] <= passes[1],
                    "%s: the sleeper %d: checks %d, the kernel had failed "
                    "%d to %d checks of it" % (where, tid, b["checks"],
                                              passes[0], passes[1]))
        since = b.get("checks_since_open")
        if t.comm == SLEEPER and since is not None:
            j.check(since <= passes[1], "%s: the sleeper %d: checks_since_"
                    "open %d, more than the %d checks the kernel failed"
                    % (where, tid, since, passes[1]))
        since = b.get("blocked_s_since_open")
        if t.comm == SLEEPER and times and since is not None:
            want = f["ts_ns"] / 1e9 + times[0] - times[2]
            j.check(since <= want + CLOCK_SLACK, "%s: the sleeper %d: "
                    "blocked_s_since_open %.3f, longer than the %.3f s since "
                    "the kernel first failed to switch it"
                    % (where, tid, since, want))
        if t.comm == SLEEPER and times and b.get("blocked_s") is not None:
            want = f["ts_ns"] / 1e9 + times[0] - times[2]
            j.check(abs(b["blocked_s"] - want) <= CLOCK_SLACK,
                    "%s: the sleeper %d: blocked_s %.3f, the kernel first "
                    "failed to switch it %.3f s before the frame"
                    % (where, tid, b["blocked_s"], want))
    if times and p.get("elapsed_s") is not None:
        want = f["ts_ns"] / 1e9 + times[0] - times[1]
        j.check(abs(p["elapsed_s"] - want) <= CLOCK_SLACK,
                "%s: elapsed_s %.3f, the kernel started the transition "
                "%.3f s before the frame" % (where, p["elapsed_s"], want))
    for name, st in sorted(got_idle.items()):
        if not j.check(name in idle_state, "%s: %s shown as a blocker, the "
                       "kernel has no such idle task" % (where, name)):
            continue
        j.check(idle_state[name] is None or name in unknown_listed,
                "%s: %s shown as a blocker (%s), the kernel switched it in "
                "the last pass before the checkpoint" % (where, name, st))
    if p.get("pass") is not None:
        j.check(passes[0] - 1 <= p["pass"] <= passes[1] - 1,
                "%s: pass %d, the kernel had made passes 0 to %d..%d"
                % (where, p["pass"], passes[0] - 1, passes[1] - 1))


def main(smp):
    j = Judge()
    possible = cpu_list(j.fact("possible"))
    j.check(len(possible) == smp, "expected %d possible CPUs (vm.env SMP), "
            "got %r" % (smp, j.fact("possible")))
    idle = ["swapper/%d" % c for c in possible]
    sleeper = j.fact("sleeper_pid")
    sleeper = int(sleeper) if sleeper.isdigit() else -1
    log = parse_dmesg(j.read("dmesg.txt"))
    start = mark_index(log, "insmod %s" % LP)
    cps = j.read("tasks", "checkpoints").split()
    j.check(len(cps) == 6, "expected 6 checkpoints, got %s" % cps)
    sessions = {}
    for line in j.read("tasks", "sessions").splitlines():
        name, pid, opened = line.split()
        sessions[name] = {"pid": int(pid), "opened": opened,
                          "frames": frames_of(j, ("tasks", name + ".json"))}

    for cp in cps:
        meta = load_meta(j, cp)
        try:
            pre = load_snap(j.resultdir, cp + "_pre")
            post = load_snap(j.resultdir, cp + "_post")
        except FileNotFoundError as e:
            j.fail("%s: %s" % (cp, e))
            continue
        oneshot = int(meta.get("oneshot_pid", "-1"))
        truth = Truth(pre, post, zombies_of(j, cp + "_pre", cp + "_post"),
                      oneshot)
        tr = {s.livepatch.get(LP, {}).get("transition") for s in (pre, post)}
        j.check(len(tr) == 1, "%s: %s's transition changed between the reads"
                % (cp, LP))
        in_tr = tr == {1}
        idle_state = passes = times = None
        if in_tr:
            at = mark_index(log, "%s pre_end" % cp)
            end = mark_index(log, "%s post_begin" % cp)
            idle_state = idle_truth(log, sleeper, start or 0, at or 0, idle) \
                if start is not None and at is not None else None
            if not j.check(idle_state is not None and end is not None,
                           "%s: expected the kernel's debug messages of at "
                           "least two passes naming the sleeper %d before "
                           "the checkpoint (dynamic debug) and its kmsg "
                           "marks" % (cp, sleeper)):
                continue
            passes = (len(sleeper_lines(log, sleeper, start, at)),
                      len(sleeper_lines(log, sleeper, start, end)))
            t_start = [e[3] for e in log[start:at]
                       if e[0] == "start" and e[1] == LP]
            s_lines = sleeper_lines(log, sleeper, start, at)
            if j.check(t_start and log[at][3] is not None,
                       "%s: expected the kernel's 'starting patching "
                       "transition' of %s before the checkpoint" % (cp, LP)):
                times = (log[at][3] - int(meta.get("t_pre", 0)) / 100,
                         t_start[0], log[s_lines[0]][3])
        n_views = 0
        # klpt_watch: the session opened first
        text = j.read("tasks", cp, "watch.txt")
        try:
            model = Model(text, "%s/watch.txt" % cp)
        except (ValueError, KeyError) as e:
            j.fail("%s: klpt_watch's dump: %s" % (cp, e))
        else:
            check_watch(j, "%s klpt_watch" % cp, model, truth, idle,
                        idle_state)
            n_views += 1
        # the one-shot klptop, opened at the checkpoint
        fr = frames_of(j, ("tasks", cp, "oneshot.json"))
        if j.check(len(fr) == 1, "%s: expected one frame of klptop -n 1, "
                   "got %d" % (cp, len(fr))):
            check_frame(j, "%s klptop -n 1 (opened here)" % cp, fr[0], truth,
                        idle, idle_state, True, passes, True, times)
            n_views += 1
        # the long-running sessions: their frames built in the window
        t_pre, t_post = int(meta.get("t_pre", 0)), int(meta.get("t_post", 0))
        for name in meta.get("sessions", "").split():
            s = sessions.get(name)
            if not j.check(s is not None, "%s: no session %s" % (cp, name)):
                continue
            win = [f for f in s["frames"]
                   if t_pre + 1 < f.get("ts_ns", 0) / 1e7 < t_post]
            if not j.check(win, "%s: session %s (opened %s) printed no "
                           "frame between the reads (%.2f-%.2f s)"
                           % (cp, name, s["opened"], t_pre / 100,
                              t_post / 100)):
                continue
            for k, f in enumerate(win):
                check_frame(j, "%s klptop %s (opened %s) frame %d" %
                            (cp, name, s["opened"], k), f, truth, idle,
                            idle_state, False, passes,
                            s["opened"] == "mid-transition", times)
                n_views += 1
        print("%s: %s, %d threads stable, %d changed between the reads, "
              "%d idle%s; %d views checked" % (
                  cp, "in transition" if in_tr else "no transition",
                  len(truth.stable), len(truth.changed), len(idle),
                  "" if idle_state is None else " (%d known switched)" %
                  sum(1 for v in idle_state.values() if v == 1), n_views))
    j.done()
