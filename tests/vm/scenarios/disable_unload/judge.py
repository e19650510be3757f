#!/usr/bin/env python3
"""disable_unload: disable klpt_lp_sleep, wait for its last module
reference, rmmod it.

Ground truth: snapshots `enabled` (patch on, refcnt 1), `ready` (patch
directory gone, refcnt 0) and `removed` (module gone), rmmod's exit code,
and the kernel's own module:module_get/put/free events (raw refcnt, one
more than sysfs shows).  Checked: the order of a disable as
tracepoints/README.md states it (complete target=unpatched -> patch_free
-> patch_release -> module_ref put refcnt=0 -> module_unload_ready ->
(rmmod) -> module_free), unload_ready before the `ready` snapshot, every
klp_module_ref's refcnt against sysfs and the kernel's tracepoints.
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from klptjudge import Judge, load_events, load_snap  # noqa: E402

LP = "klpt_lp_sleep"
TGT = "klpt_target_sleep"
M_INSMOD = "disable_unload: insmod %s" % LP
M_DISABLE = "disable_unload: disable"
M_RMMOD = "disable_unload: rmmod"

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
for m in (M_INSMOD, "klpt_snap_begin enabled", "klpt_snap_end enabled",
          M_DISABLE, "klpt_snap_begin ready", "klpt_snap_end ready", M_RMMOD,
          "klpt_snap_begin removed"):
    if not j.check(m in texts, "expected marker %r in events.txt, missing" % m):
        j.done()
i_insmod = ev.marker(M_INSMOD)
i_enabled = ev.marker("klpt_snap_begin enabled")
i_disable = ev.marker(M_DISABLE)
i_ready = ev.marker("klpt_snap_begin ready")
i_rmmod = ev.marker(M_RMMOD)
i_removed = ev.marker("klpt_snap_begin removed")

# --- ground truth ------------------------------------------------------------
j.check(fact("insmod_rc") == "0", "expected insmod %s to exit 0, got %r"
        % (LP, fact("insmod_rc")))
j.check(fact("rmmod_rc") == "0", "expected rmmod %s to exit 0 (the module "
        "was ready to unload), got %r" % (LP, fact("rmmod_rc")))
enabled = load_snap(j.resultdir, "enabled")
ready = load_snap(j.resultdir, "ready")
removed = load_snap(j.resultdir, "removed")
st = enabled.livepatch.get(LP)
j.check(st and st["enabled"] == 1 and st["transition"] == 0,
        "snap enabled: expected %s enabled=1 transition=0, got %r" % (LP, st))
j.check(enabled.refcnt.get(LP) == 1, "snap enabled: expected %s refcnt 1, "
        "got %r" % (LP, enabled.refcnt.get(LP)))
j.check(LP not in ready.livepatch, "snap ready: expected "
        "/sys/kernel/livepatch/%s gone, got %r" % (LP, ready.livepatch.get(LP)))
j.check(ready.refcnt.get(LP) == 0, "snap ready: expected %s loaded with "
        "refcnt 0, got %r" % (LP, ready.refcnt.get(LP)))
j.check(LP not in removed.refcnt, "snap removed: expected %s not loaded, got "
        "refcnt %r" % (LP, removed.refcnt.get(LP)))
bad = [t for t in ready.tasks.values() if t.state != -1]
j.check(not bad, "snap ready: expected every patch_state -1 (no transition), "
        "got %d others" % len(bad), *bad[:8])

# --- klp_module_ref against sysfs and module:module_get/put -----------------
refs = ev.named("klp_module_ref")
j.check(all(e["module"] == LP for e in refs), "expected klp_module_ref only "
        "for the livepatch module %s (%s is no livepatch), saw" % (LP, TGT),
        *show(refs.where(lambda e: e["module"] != LP)))
refs = refs.named("klp_module_ref", module=LP)
kmod = ev.where(lambda e: e.name in ("module_get", "module_put")
                and e.get("name") == LP)
for e in refs:
    # The kernel's event of the same tracepoint call: next on that CPU.
    twin = next((k for k in kmod if at(k) > at(e) and k.cpu == e.cpu), None)
    want = "module_get" if e["op"] == "get" else "module_put"
    if j.check(twin is not None and twin.name == want,
               "expected a kernel %s of %s after" % (want, LP), e,
               "got: %s" % (twin or "none")):
        j.check(twin["refcnt"] - 1 == e["refcnt"],
                "expected klp_module_ref refcnt = raw module refcnt - 1 = %d "
                "(sysfs view), got %d" % (twin["refcnt"] - 1, e["refcnt"]),
                e, twin)
j.check(len(refs) == len(kmod), "expected one klp_module_ref per kernel "
        "module_get/module_put of %s: %d vs %d" % (LP, len(refs), len(kmod)),
        *show(refs, 10), *show(kmod, 10))

# The snapshots: the last reference event before each equals its sysfs value.
for name, snap, idx in (("enabled", enabled, i_enabled), ("ready", ready, i_ready)):
    last = [e for e in refs if at(e) < idx]
    if j.check(last, "expected klp_module_ref events before snap %s" % name):
        j.check(last[-1]["refcnt"] == snap.refcnt.get(LP),
                "snap %s: expected the last klp_module_ref before it to show "
                "the sysfs refcnt %r, got refcnt=%d"
                % (name, snap.refcnt.get(LP), last[-1]["refcnt"]), last[-1])

gets = [e for e in refs if e["op"] == "get" and i_insmod < at(e) < i_enabled]
if j.check(len(gets) == 1, "expected exactly one klp_module_ref op=get of %s "
           "while enabling, got %d" % (LP, len(gets)), *gets):
    j.check(gets[0]["caller"] == "klp_enable_patch",
            "expected the enable's get from caller=klp_enable_patch, got %s"
            % gets[0]["caller"], gets[0])
late = [e for e in refs if i_enabled < at(e) < i_disable]
j.check(not late, "expected no reference change of %s while enabled" % LP, *late)

# --- the disable, in order ----------------------------------------------------
dis = ev.between(M_DISABLE, "klpt_snap_begin removed")
tr = dis.where(lambda e: e.name.startswith("klp_transition_"))
seq = " ".join(n[len("klp_transition_"):] for n in tr.names())
if not j.check(re.fullmatch(r"init start( pass( signal)?)+ complete", seq),
               "expected klp_transition_ init start pass... complete after the "
               "disable mark, got: %s" % (seq or "(none)"), *show(tr, 20)):
    j.done()
for e in tr:
    j.check(e["patch"] == LP and e["target"] == "unpatched",
            "expected patch=%s target=unpatched, got patch=%s target=%s"
            % (LP, e["patch"], e["target"]), e)
complete = tr.first("klp_transition_complete")
j.check(complete["forced"] == 0, "expected complete forced=0, got %r"
        % complete["forced"], complete)
passes = tr.named("klp_transition_pass")
nums = [p["pass"] for p in passes]
j.check(nums == list(range(len(nums))), "expected pass numbers 0, 1, ... "
        "consecutive, got %r" % nums)
j.check(passes[-1]["pending"] == 0, "expected the last pass at pending=0",
        passes[-1])


def one(name, what, **fields):
    """The only event NAME (with FIELDS) after the disable mark."""
    got = dis.named(name, **fields)
    if j.check(len(got) == 1, "expected exactly one %s (%s) after the disable "
               "mark, got %d" % (name, what, len(got)), *show(got)):
        return got[0]
    return None


free = one("klp_patch_free", "patch=%s" % LP, patch=LP)
release = one("klp_patch_release", "patch=%s" % LP, patch=LP)
put0 = one("klp_module_ref", "module=%s op=put" % LP, module=LP, op="put")
ready_ev = one("klp_module_unload_ready", "module=%s" % LP, module=LP)
mfree = one("klp_module_free", "module=%s" % LP, module=LP)
chain = [("klp_transition_complete target=unpatched", complete),
         ("klp_patch_free", free), ("klp_patch_release", release),
         ("klp_module_ref op=put refcnt=0", put0),
         ("klp_module_unload_ready", ready_ev), ("klp_module_free", mfree)]
if all(e is not None for _, e in chain):
    order = [at(e) for _, e in chain]
    j.check(order == sorted(order), "expected " + " -> ".join(n for n, _ in chain)
            + " in this order, got them at lines %s"
            % [e.lineno for _, e in chain])
for e in (free, release):
    if e is not None:
        j.check(e["forced"] == 0, "expected %s forced=0, got %r"
                % (e.name, e["forced"]), e)
if put0 is not None:
    j.check(put0["refcnt"] == 0, "expected the put after the free at "
            "refcnt=0, got %d" % put0["refcnt"], put0)
if ready_ev is not None:
    j.check(at(ready_ev) < i_ready, "expected klp_module_unload_ready before "
            "snap ready (which saw refcnt 0 and no patch), it came after",
            ready_ev)
if mfree is not None:
    j.check(i_rmmod < at(mfree) < i_removed, "expected klp_module_free "
            "between the rmmod mark and snap removed", mfree)
kfree = dis.where(lambda e: e.name == "module_free" and e.get("name") == LP)
j.check(len(kfree) == 1 and i_rmmod < at(kfree[0]) < i_removed,
        "expected the kernel's module_free of %s once, after the rmmod mark"
        % LP, *show(kfree))

# --- the unpatching switches ----------------------------------------------------
start = tr.first("klp_transition_start")
sw = ev.named("klp_task_switch").where(
    lambda e: at(start) < at(e) < at(complete))
# Forks may follow klp_transition_complete: the core resets the patch
# states to -1 only at the end of klp_complete_transition(), after
# synchronising; a child born meanwhile inherits the target state.  The
# free work is queued only after that reset.
i_free = at(free) if free is not None else i_removed
outside = ev.named("klp_task_switch").where(
    lambda e: at(e) > i_disable and not at(start) < at(e) < at(complete)
    and not (e["via"] == "fork" and at(complete) < at(e) < i_free
             and e["to"] == "unpatched"))
j.check(not outside, "expected the disable's switches between its start and "
        "complete (forks to=unpatched until klp_patch_free), saw",
        *show(outside))
j.check(all(e["to"] == "unpatched" for e in sw), "expected every switch of "
        "the disable to=unpatched",
        *show(sw.where(lambda e: e["to"] != "unpatched")))
for tid, t in sorted(enabled.tasks.items()):
    if tid not in ready.tasks or ready.tasks[tid].tgid != t.tgid:
        continue
    mine = sw.where(lambda e, k=tid: e["pid"] == k)
    ok = ("stack_check",) if t.kthread else ("stack_check", "user_return")
    j.check(len(mine) == 1 and mine[0]["from"] == "patched"
            and mine[0]["via"] in ok,
            "expected task %d (%s, alive in snaps enabled and ready) to switch "
            "once from=patched to=unpatched via=%s, got"
            % (tid, t.comm, "|".join(ok)), *(show(mine) or ["(none)"]))

j.done()
