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
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from klptjudge import Judge, load_events, load_snap  # noqa: E402

LP = "klpt_lp_vmlinux"
PATCHED_CMDLINE = "klpt_lp_vmlinux: patched"
M_INSMOD = "enable_vmlinux: insmod %s" % LP
M_DONE = "enable_vmlinux: transition done"

j = Judge()
ev = load_events(j.resultdir)


def fact(name):
    """A ground-truth file the guest wrote to /out/facts (stripped)."""
    return j.read("facts", name).strip()


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


def show(events, n=8):
    """The first N events as detail lines (plus how many more)."""
    out = [str(e).strip() for e in list(events)[:n]]
    if len(events) > n:
        out.append("... and %d more" % (len(events) - n))
    return out


def index_of(e):
    """Position of event E in the whole trace (events are unique objects)."""
    return POS[id(e)]


POS = {id(e): i for i, e in enumerate(ev)}

# --- the trace is complete -------------------------------------------------
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
for m in ("klpt_snap_begin before", "klpt_snap_end before", M_INSMOD,
          M_DONE, "klpt_snap_begin after", "klpt_snap_end after"):
    if not j.check(m in texts, "expected marker %r in events.txt, missing" % m):
        j.done()

# --- ground truth ----------------------------------------------------------
before = load_snap(j.resultdir, "before")
after = load_snap(j.resultdir, "after")
online = cpu_list(fact("cpus_online"))
j.check(online, "expected /out/facts/cpus_online to list CPUs, got %r"
        % fact("cpus_online"))
j.check(fact("insmod_rc") == "0",
        "expected insmod %s to exit 0, got %r" % (LP, fact("insmod_rc")))
j.check(PATCHED_CMDLINE not in fact("cmdline_before"),
        "expected the original /proc/cmdline before insmod, got %r"
        % fact("cmdline_before"))
j.check(fact("cmdline_after") == PATCHED_CMDLINE,
        "expected /proc/cmdline %r once the transition was done, got %r"
        % (PATCHED_CMDLINE, fact("cmdline_after")))

j.check(before.livepatch == {},
        "snap before: expected no livepatch, got %r" % before.livepatch)
bad = [t for t in before.tasks.values() if t.state != -1]
j.check(not bad, "snap before: expected every patch_state -1 (no transition), "
        "got %d tasks otherwise" % len(bad), *bad[:8])
lp = after.livepatch.get(LP)
if j.check(lp is not None, "snap after: expected /sys/kernel/livepatch/%s, "
           "got patches %r" % (LP, sorted(after.livepatch))):
    j.check(lp["enabled"] == 1 and lp["transition"] == 0,
            "snap after: expected %s enabled=1 transition=0, got enabled=%r "
            "transition=%r" % (LP, lp["enabled"], lp["transition"]))
    j.check(lp["objects"] == {"vmlinux": 1},
            "snap after: expected object vmlinux patched=1, got %r"
            % lp["objects"])
bad = [t for t in after.tasks.values() if t.state != -1]
j.check(not bad, "snap after: expected every patch_state -1 (transition over), "
        "got %d tasks otherwise" % len(bad), *bad[:8])

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
seq = " ".join(n[len("klp_transition_"):] for n in tr.names())
if not j.check(re.fullmatch(r"init start( pass( signal)?)+ complete", seq),
               "expected klp_transition_ init start pass... complete for %s, "
               "got: %s" % (LP, seq or "(none)"), *show(tr, 20)):
    j.done()

init = tr.first("klp_transition_init")
start = tr.first("klp_transition_start")
complete = tr.first("klp_transition_complete")
passes = tr.named("klp_transition_pass")
for e in (init, start, complete):
    j.check(e["target"] == "patched", "expected %s target=patched, got %s"
            % (e.name, e["target"]), e)
j.check(complete["forced"] == 0,
        "expected klp_transition_complete forced=0, got %r" % complete["forced"],
        complete)
nums = [p["pass"] for p in passes]
j.check(nums == list(range(len(nums))),
        "expected pass numbers 0, 1, 2, ... consecutive, got %r" % nums)
j.check(all(p["target"] == "patched" for p in passes),
        "expected every pass target=patched", *show(passes))
j.check(passes[-1]["pending"] == 0,
        "expected the last pass before complete at pending=0, got %r"
        % passes[-1]["pending"], passes[-1])
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
i_start, i_complete = index_of(start), index_of(complete)
i_done = ev.marker(M_DONE)
switches = ev.named("klp_task_switch")
# A task switches only between klp_transition_start and
# klp_transition_complete.  Forks are the exception: the core resets the
# patch states to -1 only at the end of klp_complete_transition() (after
# synchronising), so a child born in between still inherits the target
# state; /sys/.../transition reads 0 only after that reset.
outside = switches.where(
    lambda e: not i_start < index_of(e) < i_complete and not (
        e["via"] == "fork" and i_complete < index_of(e) < i_done))
j.check(not outside, "expected every klp_task_switch between "
        "klp_transition_start and klp_transition_complete (the only "
        "transition; forks until transition=0), saw %d outside"
        % len(outside), *show(outside))
late = switches.where(lambda e: i_complete < index_of(e) < i_done
                      and e["via"] == "fork" and e["to"] != "patched")
j.check(not late, "expected children forked after klp_transition_complete "
        "(every task patched) to inherit to=patched, saw", *show(late))
sw = switches.where(lambda e: i_start < index_of(e) < i_done)

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
    ok_via = ("stack_check",) if t.kthread else ("stack_check", "user_return")
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
    j.check(all(index_of(x) > index_of(e) for x in rest),
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
