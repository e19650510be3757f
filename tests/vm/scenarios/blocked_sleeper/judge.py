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

The same judge serves native_first_pass_summary (its judge.py runs this
one with SCENARIO set): blocked_sleeper on the native kernel with
livepatch.trace_first_pass_summary set, where the insmod's first pass
emits no klp_task_switch via=stack_check, only one klp_task_blocked per
task it leaves pending, and the retries and the release are traced in
full.  A task patched in `blocked` with no switch event must then have
switched in that first pass: not named by its blocked events.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (EADDRINUSE, EBUSY, FULL_TRANSITION,  # noqa: E402
                    check_dmesg_transitions, check_event, check_last_pass_done,
                    check_lp, check_no_patch_state, check_pass_numbers,
                    check_task, check_transition_seq, late_return_switch,
                    need_int, require_markers, running, switched_in_check,
                    trace_complete)
from klptjudge import Judge, load_events, load_snap, show  # noqa: E402

LP = "klpt_lp_sleep"
TGT = "klpt_target_sleep"
FUNC = "klpt_sleep_fn"
SCENARIO = globals().get("SCENARIO", "blocked_sleeper")
SUMMARY = SCENARIO == "native_first_pass_summary"
M_INSMOD = "%s: insmod %s" % (SCENARIO, LP)
M_RELEASE = "%s: release" % SCENARIO
MIN_PASSES = 4

j = Judge()
if SUMMARY:
    if j.fact("kernel") == "stock":
        j.done()    # no parameter, no native events: the guest checked that
    j.check(j.fact("kernel") == "native", "expected fact kernel=native, "
            "got %r" % j.fact("kernel"))
    j.check(j.fact("summary") == "Y", "expected trace_first_pass_summary to "
            "read Y after the guest set it, got %r" % j.fact("summary"))
ev = load_events(j.resultdir)
at = ev.pos  # position of an event in the whole trace


def key(e):
    """Who an event is about: the pid, or swapper/N for the idle tasks
    (pid 0 exists once per CPU)."""
    return e["comm"] if e["pid"] == 0 else e["pid"]


trace_complete(j, ev)
check_dmesg_transitions(j, ev, LP)
require_markers(j, ev, M_INSMOD, "klpt_snap_begin blocked",
                "klpt_snap_end blocked", M_RELEASE, "klpt_snap_begin done",
                "klpt_snap_end done")
i_snap_b0 = ev.marker("klpt_snap_begin blocked")
i_snap_b1 = ev.marker("klpt_snap_end blocked")
i_release = ev.marker(M_RELEASE)

# --- ground truth ----------------------------------------------------------
j.check(j.fact("insmod_rc") == "0", "expected insmod %s to exit 0, got %r"
        % (LP, j.fact("insmod_rc")))
sleeper = need_int(j, "the sleeper pid", "facts", "sleeper_pid")
blocked = load_snap(j.resultdir, "blocked")
done = load_snap(j.resultdir, "done")

check_lp(j, blocked, LP, enabled=1, transition=1, objects={TGT: 1})
check_task(j, blocked, sleeper, "the sleeper", comm="klpt_sleeper",
           kthread=True, state=0)
undef = [t for t in blocked.tasks.values() if t.state == -1]
j.check(not undef, "snap blocked: expected every task at 0 or 1 during the "
        "transition, %d at -1" % len(undef), *undef[:8])

check_lp(j, done, LP, enabled=1, transition=0)
check_no_patch_state(j, done)
j.check(j.fact("calls_done") == "1", "expected the original %s to have "
        "returned once after the release (calls=1), got %r"
        % (FUNC, j.fact("calls_done")))

# --- transition sequence ---------------------------------------------------
win = ev.between(M_INSMOD, "klpt_snap_begin done")
tr = win.where(lambda e: e.name.startswith("klp_transition_"))
others = tr.where(lambda e: e.get("patch") != LP)
j.check(not others, "expected transition events of %s only, saw" % LP,
        *show(others))
tr = tr.where(lambda e: e.get("patch") == LP)
if not check_transition_seq(j, tr, FULL_TRANSITION, n=30):
    j.done()
start = tr.first("klp_transition_start")
complete = tr.first("klp_transition_complete")
passes = tr.named("klp_transition_pass")
for e in tr:
    check_event(j, e, e.name, "target=patched")
check_event(j, complete, "klp_transition_complete", "forced=0")


def in_time(e):
    """Switch E before the completion, or reported late for it."""
    return at(e) < at(complete) or late_return_switch(e, complete)


check_pass_numbers(j, passes)

# --- the summarized first pass (native_first_pass_summary) ------------------
blocked0 = set()
if SUMMARY:
    pass0 = passes[0]
    check_event(j, pass0, "the first pass", "pass=0")
    sw = ev.named("klp_task_switch")
    quiet = sw.where(lambda e: at(start) < at(e) < at(pass0)
                     and e["via"] == "stack_check")
    j.check(not quiet, "expected no klp_task_switch via=stack_check in the "
            "summarized first pass, got", *show(quiet))
    j.check(pass0["pending"] >= 1, "expected the first pass to leave the "
            "sleeper pending, got", pass0)
    blocked0 = {key(e) for e in win.named("klp_task_blocked")
                if at(start) < at(e) < at(pass0)}
    retried = sw.where(lambda e: at(e) > at(pass0)
                       and e["via"] == "stack_check")
    j.check(retried, "expected the retries to report their stack_check "
            "switches (the sleeper's at least), got none")

pre = [p for p in passes if at(p) < i_release]
j.check(len(pre) >= MIN_PASSES, "expected at least %d passes before the "
        "release (the guest waited for them), got %d" % (MIN_PASSES, len(pre)))
bad = [p for p in pre if p["pending"] < 1]
j.check(not bad, "expected pending>=1 on every pass before the release "
        "(the sleeper is in %s), got" % FUNC, *bad)
check_last_pass_done(j, passes)

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
        check_event(j, e, "the sleeper blocked with",
                    "tgid=%d comm=klpt_sleeper reason=sleeping_in_func err=%d "
                    "func=%s" % (sleeper, EADDRINUSE, FUNC))
        j.check(at(e) < at(complete), "expected no sleeper blocked event "
                "after completion", e)
        continue
    # Anyone else: only while running on a CPU, and it switches later.
    if not j.check(running(e),
                   "expected tasks other than the sleeper %d blocked only with "
                   "reason=running err=%d func=, got" % (sleeper, EBUSY), e):
        continue
    # ... or just before its blocked event: it can switch itself on its
    # CPU while the pass checks it (switched_in_check()).
    later = sw.where(lambda x, k=key(e), a=at(e), b=e: key(x) == k and (
        at(x) > a or switched_in_check(ev, x, b))
        and in_time(x) and x["to"] == "patched")
    # A task that exits never switches: do_exit() does not return to user
    # mode, and once reaped the passes no longer see it.
    gone = e["pid"] != 0 and (e["pid"] not in done.tasks or
                              done.tasks[e["pid"]].tgid != e["tgid"])
    j.check(later or gone, "expected %s (blocked while running, alive in "
            "snap done) to switch to patched later, before completion; it "
            "never did" % (key(e),), e)

# --- switches against snapshot `blocked` ------------------------------------
to_patched = sw.where(lambda e: e["to"] == "patched" and at(e) > at(start))
first_switch = {}
for e in to_patched:
    first_switch.setdefault(key(e), e)
for tid, t in sorted(blocked.tasks.items()):
    e = first_switch.get(tid)
    if t.state == 1 and e is None and SUMMARY:
        # switched by the summarized first pass, which names only the
        # tasks it left pending
        j.check(tid not in blocked0,
                "snap blocked: task %d (%s) is patched (1) with no "
                "klp_task_switch, but the first pass named it blocked"
                % (tid, t.comm))
    elif t.state == 1:
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
            j.check(n == 1 and e is not None and in_time(e),
                    "task %d (%s), unpatched in snap blocked and alive in snap "
                    "done: expected exactly one switch to=patched before "
                    "completion, got %d" % (tid, t.comm, n))

# --- the release --------------------------------------------------------------
mine = sw.where(lambda e: e["pid"] == sleeper)
if j.check(len(mine) == 1, "expected exactly one klp_task_switch of the "
           "sleeper %d, got %d" % (sleeper, len(mine)), *show(mine)):
    s = mine[0]
    check_event(j, s, "the sleeper's switch",
                "from=unpatched to=patched via=stack_check")
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
