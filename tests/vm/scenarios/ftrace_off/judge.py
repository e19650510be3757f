#!/usr/bin/env python3
"""ftrace_off: klptrace.ko's hooks with sysctl kernel.ftrace_enabled=0.

Ground truth: the sysctl's value and the exit status of each write and
insmod (facts), the kernel's own list of kprobes with their [FTRACE]
flag (debugfs kprobes/list, kprobes.NAME), the kernel's log, and the
klp events of the klpt_e2e instance (events.txt).  Checked against it:

- the kernel refuses ftrace_enabled=0 while a livepatch is in
  transition, and refuses to enable a livepatch while it is 0 (insmod
  fails, "failed to register ftrace handler");
- hooks says "active" for every hook while ftrace is on, and while it is
  off "inactive(ftrace_off)" for exactly the kprobes the kernel lists as
  [FTRACE] (all of ours on a Debian amd64 kernel), "active" for the
  tracepoints; it is true: no klp_transition_* event came from the
  kernel's failed enable while off, though the kernel printed it;
- klptrace.ko loaded with ftrace off warns once in dmesg, and not when
  loaded with ftrace on;
- the library (klpt_watch's events.log, counted by the guest at each
  step) said "lost" after each switch of the sysctl (off, on, and an
  off-and-on within one poll interval: klptrace.ko counts the switches,
  ftrace_switches; a poll tick between the two writes makes that one
  two: the guest waits until the session resynced in the events mode),
  not after the refused write, and at no other time;
  its model was in the
  fallback while off and in the events mode again after (dumps;
  libmodel.py compares each with its snapshot); klptop -b started while
  off says mode fallback.
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import require_markers  # noqa: E402
from klptjudge import Judge, load_events, show  # noqa: E402

LP = "klpt_lp_sleep"
M_OFF = "ftrace_off: ftrace_enabled=0 off"
M_ON = "ftrace_off: ftrace_enabled=1 on"
M_RELOAD = "ftrace_off: load klptrace with ftrace off"
WARN = re.compile(r"klptrace: (\d+) hooks registered but inactive "
                  r"\(ftrace_off\)")

j = Judge()
ev = load_events(j.resultdir)
require_markers(j, ev, "ftrace_off: ftrace_enabled=0 busy", M_OFF,
                "ftrace_off: insmod %s with ftrace off" % LP, M_ON,
                "ftrace_off: ftrace_enabled=0 reload", M_RELOAD,
                "ftrace_off: ftrace_enabled=1 reloaded")


def hooks(name):
    """{probed symbol: (kind, status)} of hooks.NAME, symbols apart."""
    text = j.read("hooks.%s" % name)
    j.check(text, "expected hooks.%s (a copy of /sys/kernel/klptrace/hooks)"
            % name)
    out = {}
    for line in text.splitlines():
        w = line.split()
        if len(w) >= 3:
            out[w[0]] = (w[1], w[2])
    return out


def ftrace_kprobes(name):
    """Symbols of the kernel's kprobes list at NAME that use ftrace
    ([FTRACE]), or None without the list."""
    text = j.read("kprobes.%s" % name)
    if not text:
        return None
    out = set()
    for line in text.splitlines():
        w = line.split()
        if len(w) >= 3 and "[FTRACE]" in line:
            out.add(w[2].split("+")[0])
    return out


def all_active(name, why):
    h = hooks(name)
    bad = ["%s %s %s" % (k, v[0], v[1]) for k, v in sorted(h.items())
           if v[0] != "symbol" and v[1] != "active"]
    j.check(h and not bad, "hooks.%s (%s): expected every hook active, got"
            % (name, why), *bad)


# --- the kernel's rules -------------------------------------------------------
j.check(j.fact("busy_write_rc") not in ("", "0"), "expected the write of "
        "ftrace_enabled=0 during a transition to fail (FTRACE_OPS_FL_PERMANENT"
        "), exit status %r" % j.fact("busy_write_rc"))
j.check(j.fact("busy_value") == "1", "expected ftrace_enabled to read 1 after "
        "the refused write, got %r" % j.fact("busy_value"))
j.check(j.fact("off_insmod_rc") not in ("", "0"), "expected insmod %s to fail "
        "with ftrace_enabled=0, exit status %r" % (LP, j.fact("off_insmod_rc")))
dmesg = j.read("dmesg.txt")
j.check("livepatch: failed to register ftrace handler for function" in dmesg,
        "expected the kernel's 'failed to register ftrace handler' for the "
        "enable with ftrace off in dmesg")

# --- hooks ---------------------------------------------------------------------
all_active("on0", "ftrace on, at load")
all_active("busy", "after the refused write")
all_active("on1", "ftrace on again")
all_active("load_on", "loaded with ftrace off, then on")
for name in ("off", "load_off"):
    h = hooks(name)
    ft = ftrace_kprobes(name)
    for sym, (kind, status) in sorted(h.items()):
        if kind == "symbol":
            if sym in ("ftrace_enabled", "last_ftrace_enabled"):
                j.check(status == "active", "hooks.%s: expected symbol %s "
                        "found (active), got %s" % (name, sym, status))
            continue
        if status.startswith("missing") or status == "skipped":
            continue
        on_ftrace = kind != "tracepoint" and (ft is None or sym in ft)
        want = "inactive(ftrace_off)" if on_ftrace else "active"
        j.check(status == want, "hooks.%s: %s %s (%s): expected %s, got %s"
                % (name, kind, sym, "[FTRACE]" if on_ftrace else
                   "not on ftrace", want, status))
    n_off = sum(1 for k, s in h.values() if s == "inactive(ftrace_off)")
    j.check(n_off > 0, "hooks.%s: expected hooks inactive(ftrace_off)" % name)

# the report is true: the kernel's failed enable initialized, cancelled
# and completed a transition, and no klp transition event came while
# ftrace was off
win = ev.between(M_OFF, M_ON)
tr = win.where(lambda e: e.name.startswith("klp_transition_"))
j.check(not tr, "expected no klp_transition_* event while ftrace was off",
        *show(tr))
j.check("livepatch: failed to enable patch '%s'" % LP in dmesg,
        "expected the kernel's 'failed to enable patch' (it cancelled the "
        "transition it had initialized: klp_cancel_transition, "
        "klp_complete_transition) in dmesg")

warns = WARN.findall(dmesg)
n_load_off = len(hooks("load_off")) and sum(
    1 for k, s in hooks("load_off").values() if s == "inactive(ftrace_off)")
j.check(len(warns) == 1, "expected one klptrace 'hooks registered but "
        "inactive (ftrace_off)' warning in dmesg (the load with ftrace off), "
        "got %d" % len(warns))
if len(warns) == 1:
    j.check(int(warns[0]) == n_load_off, "expected the warning to count the "
            "%d inactive hooks of hooks.load_off, it says %s"
            % (n_load_off, warns[0]))

# klptop -b opened with ftrace off: the library's fallback
top = j.read("klptop_off.txt")
if top:
    j.check(" mode fallback " in top.splitlines()[0], "klptop -b with ftrace "
            "off: expected mode fallback in its header, got %r"
            % top.splitlines()[0])

# --- the library -------------------------------------------------------------
if os.path.isdir(j.path("lib", "1")):
    def n(name):
        v = j.fact(name)
        return int(v) if v.isdigit() else None

    load, before, off, on, toggle, end = (
        n("lost_at_load"), n("lost_before_off"), n("lost_after_off"),
        n("lost_after_on"), n("lost_after_toggle"), n("lost_at_end"))
    seq = [load, before, off, on, toggle, end]
    if j.check(None not in seq, "expected the lost counts of every step "
               "(facts lost_*), got %r" % (seq,)):
        j.check(load == 0, "expected no lost at load, %s" % load)
        # each switch of the sysctl is a loss (ftrace_switches); the
        # refused write switched nothing; each step waited for its own
        j.check(before == load, "expected no lost before ftrace went off "
                "(the refused write switched nothing), %s" % before)
        j.check(off > before, "expected a lost once ftrace was off")
        j.check(on > off, "expected a lost once ftrace was back")
        j.check(toggle > on, "expected a lost after ftrace off and on again "
                "within one poll interval (ftrace_switches)")
        j.check(end == toggle, "expected no lost after that (until ftrace "
                "went off again), %s then %s" % (toggle, end))
    # the mode of each dump
    d = j.path("lib", "1")
    for f in sorted(os.listdir(d)):
        m = re.match(r"dump\.(\d+)\.snap$", f)
        if not m:
            continue
        snap_name = j.read("lib", "1", f).strip()
        want = {"off": "fallback", "off_failed": "fallback",
                "blocked_again": "events"}.get(snap_name)
        if not want:
            continue
        dump = j.read("lib", "1", "dump.%s.txt" % m.group(1))
        j.check("\nmode %s\n" % want in dump, "lib/1 dump at snap %s: "
                "expected mode %s, got %r" % (snap_name, want,
                                              re.findall(r"\nmode \S+", dump)))

j.done()
