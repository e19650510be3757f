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
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (FULL_TRANSITION, check_dmesg_transitions,  # noqa: E402
                    check_event, check_free_chain, check_last_pass_done,
                    check_lp, check_lp_gone, check_no_patch_state,
                    check_pass_numbers, check_refcnt, check_transition_seq,
                    before, early_fork, late_return_switch, maybe_after,
                    maybe_before, require_markers, switch_vias,
                    trace_complete)
from klptjudge import Judge, load_events, load_snap, show  # noqa: E402

LP = "klpt_lp_sleep"
TGT = "klpt_target_sleep"
M_INSMOD = "disable_unload: insmod %s" % LP
M_DISABLE = "disable_unload: disable"
M_RMMOD = "disable_unload: rmmod"

j = Judge()
ev = load_events(j.resultdir)
at = ev.pos  # position of an event in the whole trace

trace_complete(j, ev)
check_dmesg_transitions(j, ev, LP)
require_markers(j, ev, M_INSMOD, "klpt_snap_begin enabled",
                "klpt_snap_end enabled", M_DISABLE, "klpt_snap_begin ready",
                "klpt_snap_end ready", M_RMMOD, "klpt_snap_begin removed")
i_insmod = ev.marker(M_INSMOD)
i_enabled = ev.marker("klpt_snap_begin enabled")
i_disable = ev.marker(M_DISABLE)
i_ready = ev.marker("klpt_snap_begin ready")
i_rmmod = ev.marker(M_RMMOD)
i_removed = ev.marker("klpt_snap_begin removed")

# --- ground truth ------------------------------------------------------------
j.check(j.fact("insmod_rc") == "0", "expected insmod %s to exit 0, got %r"
        % (LP, j.fact("insmod_rc")))
j.check(j.fact("rmmod_rc") == "0", "expected rmmod %s to exit 0 (the module "
        "was ready to unload), got %r" % (LP, j.fact("rmmod_rc")))
enabled = load_snap(j.resultdir, "enabled")
ready = load_snap(j.resultdir, "ready")
removed = load_snap(j.resultdir, "removed")
check_lp(j, enabled, LP, enabled=1, transition=0)
check_refcnt(j, enabled, LP, 1)
check_lp_gone(j, ready, LP)
check_refcnt(j, ready, LP, 0)
check_refcnt(j, removed, LP, None)
check_no_patch_state(j, ready, " (no transition)")

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
if not check_transition_seq(j, tr, FULL_TRANSITION, " after the disable mark"):
    j.done()
for e in tr:
    check_event(j, e, e.name, "patch=%s target=unpatched" % LP)
complete = tr.first("klp_transition_complete")
check_event(j, complete, "klp_transition_complete", "forced=0")
passes = tr.named("klp_transition_pass")
check_pass_numbers(j, passes)
check_last_pass_done(j, passes)

# --- the end: free, release, the last put, unload ready, rmmod ----------------
free, release, put0, ready_ev, mfree = check_free_chain(
    j, dis, complete, LP, "after the disable mark")
if put0 is not None:
    check_event(j, put0, "the put after the free at", "refcnt=0")
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
init = tr.first("klp_transition_init")
start = tr.first("klp_transition_start")


def in_transition(e):
    """Between the start and the completion, as far as the trace can
    tell: same-timestamp events of two CPUs are in no known order
    (maybe_after/maybe_before), but nothing before the init counts."""
    return (before(init, e) and maybe_after(e, start)
            and maybe_before(e, complete))


sw = ev.named("klp_task_switch").where(in_transition)
# Forks may precede klp_transition_start: a child forked after the init
# is born patched, the initial state (early_fork()).  Forks may follow
# klp_transition_complete: the core resets the patch states to -1 only at
# the end of klp_complete_transition(), after synchronising; a child born
# meanwhile inherits the target state.  The free work is queued only after
# that reset.
i_free = at(free) if free is not None else i_removed
outside = ev.named("klp_task_switch").where(
    lambda e: at(e) > i_disable and not in_transition(e)
    and not (e["via"] == "fork" and at(complete) < at(e) < i_free
             and e["to"] == "unpatched")
    and not (late_return_switch(e, complete) and at(e) < i_free)
    and not early_fork(e, init, start))
j.check(not outside, "expected the disable's switches between its start and "
        "complete (forks to=patched after the init, forks to=unpatched and "
        "late user-return or idle reports until klp_patch_free), saw",
        *show(outside))
# A fork copies its parent's state, which is still patched (1) until the
# parent switches: only the other switches must say to=unpatched.
wrong = sw.where(lambda e: e["to"] != "unpatched" and not (
    e["via"] == "fork" and e["to"] == "patched"))
j.check(not wrong, "expected every switch of the disable to=unpatched (a "
        "fork: to=patched or unpatched)", *show(wrong))
# A task's one switch may be reported after the completion: klptrace.ko
# writes via=user_return at the return of klp_update_patch_state(), and
# the pass that finds the task switched may complete the transition
# before that (late_return_switch(), the same bound as above).
# (One tied with the completion is in sw already.)
late = ev.named("klp_task_switch").where(
    lambda e: late_return_switch(e, complete) and at(e) < i_free
    and not in_transition(e))
for tid, t in sorted(enabled.tasks.items()):
    if tid not in ready.tasks or ready.tasks[tid].tgid != t.tgid:
        continue
    mine = sw.where(lambda e, k=tid: e["pid"] == k) + \
        late.where(lambda e, k=tid: e["pid"] == k)
    ok = switch_vias(t)
    j.check(len(mine) == 1 and mine[0]["from"] == "patched"
            and mine[0]["via"] in ok,
            "expected task %d (%s, alive in snaps enabled and ready) to switch "
            "once from=patched to=unpatched via=%s, got"
            % (tid, t.comm, "|".join(ok)), *(show(mine) or ["(none)"]))

j.done()
