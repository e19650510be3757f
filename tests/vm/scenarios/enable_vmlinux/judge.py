#!/usr/bin/env python3
"""enable_vmlinux: the klp events of enabling klpt_lp_vmlinux against the
ground truth of the guest: the task snapshots `before` and `after`, the
online CPUs, /proc/cmdline before and after, insmod's exit code.

Expected (tracepoints/README.md): init -> start -> pass... -> complete
(target=patched, forced=0), pass numbers 0, 1, 2, ... with only the last
one at pending=0; every task alive across the transition switches exactly
once unpatched -> patched in between, by a way that suits it (kthreads:
stack_check; user tasks: stack_check or user_return; swapper/N: idle or
stack_check, once per online CPU); children forked meanwhile get a
via=fork event and switch later only if they were born unpatched.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (FULL_TRANSITION, check_dmesg_transitions,  # noqa: E402
                    check_event, check_last_pass_done, check_lp,
                    check_no_patch_state, check_pass_numbers,
                    check_transition_seq, early_fork, late_return_switch,
                    maybe_after, maybe_before,
                    require_markers, switch_vias, trace_complete)
from klptjudge import Judge, load_events, load_snap, show  # noqa: E402

LP = "klpt_lp_vmlinux"
PATCHED_CMDLINE = "klpt_lp_vmlinux: patched"
M_INSMOD = "enable_vmlinux: insmod %s" % LP
M_DONE = "enable_vmlinux: transition done"

j = Judge()
ev = load_events(j.resultdir)
at = ev.pos  # position of an event in the whole trace


def cpu_list(text):
    """'0-1,3' -> {0, 1, 3} (the format of /sys/devices/system/cpu/online)."""
    cpus = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-")
            cpus.update(range(int(a), int(b) + 1))
        else:
            cpus.add(int(part))
    return cpus


# --- the trace is complete -------------------------------------------------
trace_complete(j, ev)
check_dmesg_transitions(j, ev, LP)
require_markers(j, ev, "klpt_snap_begin before", "klpt_snap_end before",
                M_INSMOD, M_DONE, "klpt_snap_begin after", "klpt_snap_end after")

# --- ground truth ----------------------------------------------------------
before = load_snap(j.resultdir, "before")
after = load_snap(j.resultdir, "after")
online = cpu_list(j.fact("cpus_online"))
j.check(online, "expected /out/facts/cpus_online to list CPUs, got %r"
        % j.fact("cpus_online"))
j.check(j.fact("insmod_rc") == "0",
        "expected insmod %s to exit 0, got %r" % (LP, j.fact("insmod_rc")))
j.check(PATCHED_CMDLINE not in j.fact("cmdline_before"),
        "expected the original /proc/cmdline before insmod, got %r"
        % j.fact("cmdline_before"))
j.check(j.fact("cmdline_after") == PATCHED_CMDLINE,
        "expected /proc/cmdline %r once the transition was done, got %r"
        % (PATCHED_CMDLINE, j.fact("cmdline_after")))

j.check(before.livepatch == {},
        "snap before: expected no livepatch, got %r" % before.livepatch)
check_no_patch_state(j, before, " (no transition)")
check_lp(j, after, LP, enabled=1, transition=0, objects={"vmlinux": 1})
check_no_patch_state(j, after, " (transition over)")

# Alive across the transition: the same thread (tid and tgid) in both.
alive = {tid: t for tid, t in before.tasks.items()
         if tid in after.tasks and after.tasks[tid].tgid == t.tgid}
j.check(len(alive) >= 10, "expected most tasks of snap before (%d) in snap "
        "after, only %d are" % (len(before.tasks), len(alive)))

# --- the transition events, in order --------------------------------------
win = ev.between(M_INSMOD, "klpt_snap_begin after")
early = ev.between("klpt_snap_end before", M_INSMOD).where(
    lambda e: e.name.startswith("klp_transition") or e.name == "klp_task_switch")
j.check(not early, "expected no transition event before the insmod mark, saw",
        *show(early))

tr = win.where(lambda e: e.name.startswith("klp_transition_"))
others = tr.where(lambda e: e.get("patch") != LP)
j.check(not others, "expected transition events of %s only, saw others" % LP,
        *show(others))
tr = tr.where(lambda e: e.get("patch") == LP)
if not check_transition_seq(j, tr, FULL_TRANSITION, " for %s" % LP):
    j.done()

init = tr.first("klp_transition_init")
start = tr.first("klp_transition_start")
complete = tr.first("klp_transition_complete")
passes = tr.named("klp_transition_pass")
for e in (init, start, complete):
    check_event(j, e, e.name, "target=patched")
check_event(j, complete, "klp_transition_complete", "forced=0")
check_pass_numbers(j, passes)
j.check(all(p["target"] == "patched" for p in passes),
        "expected every pass target=patched", *show(passes))
check_last_pass_done(j, passes)
bad = [p for p in passes[:-1] if p["pending"] < 1]
j.check(not bad, "expected pending>=1 on every pass but the last (a pass "
        "at 0 completes the transition), got", *bad)
# Every thread alive across the transition (and each online idle task) was
# there at the first pass, which looks at all of them.
need = len(alive) + len(online)
j.check(passes[0]["checked"] >= need,
        "expected pass 0 to check at least the %d threads alive across the "
        "transition + %d idle tasks = %d, got checked=%d"
        % (len(alive), len(online), need, passes[0]["checked"]), passes[0])

# --- per-task switches -----------------------------------------------------
i_start, i_complete = at(start), at(complete)
i_done = ev.marker(M_DONE)
switches = ev.named("klp_task_switch")
# A task switches only between klp_transition_start and
# klp_transition_complete.  Forks are the exception: a child forked
# between the init and the start is born unpatched (early_fork()); and the
# core resets the patch states to -1 only at the end of
# klp_complete_transition() (after synchronising), so a child born in
# between still inherits the target state; /sys/.../transition reads 0
# only after that reset.
# klptrace.ko's user-return and idle switches may come late (see
# late_return_switch()), up to the mark taken once transition=0.
outside = switches.where(
    lambda e: not (at(init) < at(e) and maybe_after(e, start)
                   and maybe_before(e, complete))
    and not (
        e["via"] == "fork" and i_complete < at(e) < i_done) and not (
        late_return_switch(e, complete) and at(e) < i_done) and not
    early_fork(e, init, start))
j.check(not outside, "expected every klp_task_switch between "
        "klp_transition_start and klp_transition_complete (the only "
        "transition; forks to=unpatched after the init, forks and late "
        "user-return or idle reports until transition=0), saw %d outside"
        % len(outside), *show(outside))
late = switches.where(lambda e: i_complete < at(e) < i_done
                      and e["via"] == "fork" and e["to"] != "patched")
j.check(not late, "expected children forked after klp_transition_complete "
        "(every task patched) to inherit to=patched, saw", *show(late))
sw = switches.where(lambda e: at(init) < at(e) and maybe_after(e, start)
                    and at(e) < i_done
                    or early_fork(e, init, start))

idle = sw.where(lambda e: e["pid"] == 0)
tasks = sw.where(lambda e: e["pid"] != 0)

# Idle tasks: swapper/N once per online CPU, via idle or stack_check.
for cpu in sorted(online):
    comm = "swapper/%d" % cpu
    mine = idle.where(lambda e, c=comm: e["comm"] == c)
    if j.check(len(mine) == 1, "expected exactly one klp_task_switch of %s "
               "(CPU %d online), got %d" % (comm, cpu, len(mine)), *show(mine)):
        e = mine[0]
        j.check(e["from"] == "unpatched" and e["to"] == "patched"
                and e["via"] in ("idle", "stack_check"),
                "expected %s from=unpatched to=patched via=idle|stack_check, "
                "got from=%s to=%s via=%s" % (comm, e["from"], e["to"], e["via"]), e)
strays = idle.where(lambda e: not (e["comm"].startswith("swapper/") and
                                   e["comm"][8:].isdigit() and
                                   int(e["comm"][8:]) in online))
j.check(not strays, "expected pid 0 events only from swapper/N of online CPUs "
        "%s, saw" % sorted(online), *show(strays))

# Nobody but an idle task switches via idle; nobody is forced.
bad = tasks.where(lambda e: e["via"] in ("idle", "force"))
j.check(not bad, "expected no via=idle (pid 0 only) or via=force (nothing "
        "forced) for tasks, saw", *show(bad))

by_pid = {}
for e in tasks:
    by_pid.setdefault(e["pid"], []).append(e)

for tid, t in sorted(alive.items()):
    mine = by_pid.get(tid, [])
    what = "%s task %d (%s)" % ("kthread" if t.kthread else "user", tid, t.comm)
    if not j.check(len(mine) == 1, "expected exactly one klp_task_switch for "
                   "%s, alive in both snapshots, got %d" % (what, len(mine)),
                   *mine):
        continue
    e = mine[0]
    ok_via = switch_vias(t)
    j.check(e["from"] == "unpatched" and e["to"] == "patched",
            "expected %s from=unpatched to=patched, got from=%s to=%s"
            % (what, e["from"], e["to"]), e)
    j.check(e["via"] in ok_via, "expected %s via=%s, got via=%s"
            % (what, "|".join(ok_via), e["via"]), e)
    j.check(e["tgid"] == t.tgid, "expected %s tgid=%d, got tgid=%d"
            % (what, t.tgid, e["tgid"]), e)

# Forks during the transition: only new tasks, from=undefined, to a real
# state; a child still alive in `after` switches later iff it was born
# unpatched (its parent had not switched yet).
forks = tasks.named("klp_task_switch", via="fork")
for e in forks:
    pid = e["pid"]
    j.check(pid not in before.tasks, "expected via=fork only for tasks born "
            "after snap before, pid %d is in it (%r)"
            % (pid, before.tasks.get(pid)), e)
    j.check(e["from"] == "undefined" and e["to"] in ("unpatched", "patched"),
            "expected fork from=undefined to=unpatched|patched, got from=%s "
            "to=%s" % (e["from"], e["to"]), e)
    rest = [x for x in by_pid[pid] if x is not e]
    j.check(all(at(x) > at(e) for x in rest),
            "expected no switch of pid %d before its fork event" % pid, *rest)
    if pid in after.tasks and pid not in before.tasks:
        want = 1 if e["to"] == "unpatched" else 0
        j.check(len(rest) == want and all(
                    x["from"] == "unpatched" and x["to"] == "patched" for x in rest),
                "expected child %d (alive in snap after), born %s, to switch "
                "unpatched->patched %d time(s), got" % (pid, e["to"], want),
                *(rest or ["(no switch)"]))
forked = {e["pid"] for e in forks}

# Tasks born after `before` without a fork event (between the snapshot and
# klp_init_transition, or after completion): at most one plain switch.
for pid, mine in sorted(by_pid.items()):
    if pid in alive or pid in forked:
        continue
    j.check(len(mine) <= 1 and all(
                x["from"] == "unpatched" and x["to"] == "patched" and
                x["via"] in ("stack_check", "user_return") for x in mine),
            "expected task %d (not alive across the transition) to switch at "
            "most once unpatched->patched via stack_check|user_return, got"
            % pid, *mine)

j.done()
