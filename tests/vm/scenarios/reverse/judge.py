#!/usr/bin/env python3
"""reverse: a patching transition of klpt_lp_sleep, blocked by klpt_sleeper
sleeping in the original klpt_sleep_fn(), reversed by writing 0 to
enabled; the patch is then freed and the module unloaded.

Ground truth: snapshot `blocked` (transition=1; who is patched, who is
not: the sleeper at 0), snapshot `after` (patch gone, refcnt 0, no task
in a patch state), the sleeper's pid and its in_func/impl parameters
(it never left the original function), exit codes.

Expected (tracepoints/README.md): klp_transition_reverse target=unpatched
after the reverse mark, then klp_transition_start target=unpatched
("also fires right after klp_transition_reverse"), passes from 0,
complete target=unpatched forced=0, patch_free, patch_release,
module_ref put refcnt=0, module_unload_ready (before snap after), and
module_free after the rmmod mark.  Every task patched in `blocked` and
alive in `after` switches back once after the reverse event; the sleeper
never switches.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (PASSES, check_dmesg_transitions, check_event,  # noqa: E402
                    check_free_chain, check_last_pass_done, check_lp,
                    check_lp_gone, check_no_patch_state, check_pass_numbers,
                    check_refcnt, check_task, check_transition_seq,
                    late_return_switch, need_int, require_markers,
                    switch_vias, trace_complete)
from klptjudge import Judge, load_events, load_snap, show  # noqa: E402

LP = "klpt_lp_sleep"
TGT = "klpt_target_sleep"
FUNC = "klpt_sleep_fn"
M_INSMOD = "reverse: insmod %s" % LP
M_REVERSE = "reverse: reverse"
M_RMMOD = "reverse: rmmod"
MIN_PASSES = 2

j = Judge()
ev = load_events(j.resultdir)
at = ev.pos  # position of an event in the whole trace

trace_complete(j, ev)
check_dmesg_transitions(j, ev, LP)
require_markers(j, ev, M_INSMOD, "klpt_snap_begin blocked",
                "klpt_snap_end blocked", M_REVERSE, "klpt_snap_begin after",
                M_RMMOD)
i_insmod = ev.marker(M_INSMOD)
i_snap_b0 = ev.marker("klpt_snap_begin blocked")
i_reverse = ev.marker(M_REVERSE)
i_after = ev.marker("klpt_snap_begin after")
i_rmmod = ev.marker(M_RMMOD)

# --- ground truth ------------------------------------------------------------
for f, what in (("insmod_rc", "insmod %s" % LP),
                ("disable_rc", "writing 0 to %s/enabled" % LP),
                ("rmmod_rc", "rmmod %s" % LP)):
    j.check(j.fact(f) == "0", "expected %s to exit 0, got %r" % (what, j.fact(f)))
sleeper = need_int(j, "the sleeper pid", "facts", "sleeper_pid")
j.check(j.fact("in_func_after") == "1" and j.fact("impl_after") == "0",
        "expected the sleeper still in the original %s at snap after "
        "(in_func=1 impl=0), got in_func=%r impl=%r"
        % (FUNC, j.fact("in_func_after"), j.fact("impl_after")))
blocked = load_snap(j.resultdir, "blocked")
after = load_snap(j.resultdir, "after")
check_lp(j, blocked, LP, enabled=1, transition=1)
check_task(j, blocked, sleeper, "the sleeper", kthread=True, state=0)
check_lp_gone(j, after, LP)
check_refcnt(j, after, LP, 0)
check_no_patch_state(j, after)
patched = {tid: t for tid, t in blocked.tasks.items() if t.state == 1}
j.check(len(patched) >= 10, "snap blocked: expected most tasks patched "
        "already, only %d are" % len(patched))

# --- before the reversal ------------------------------------------------------
tr_all = ev.where(lambda e: e.name.startswith("klp_transition_"))
others = tr_all.where(lambda e: e.get("patch") != LP)
j.check(not others, "expected transition events of %s only, saw" % LP,
        *show(others))
fwd = tr_all.where(lambda e: i_insmod < at(e) < i_reverse)
check_transition_seq(j, fwd, "init start" + PASSES,
                     " (no completion) before the reverse mark")
j.check(all(e["target"] == "patched" for e in fwd),
        "expected target=patched before the reverse mark",
        *show(fwd.where(lambda e: e["target"] != "patched")))
fpasses = fwd.named("klp_transition_pass")
nums = check_pass_numbers(j, fpasses, " before the reversal")
j.check(len(nums) >= MIN_PASSES, "expected at least %d passes before the "
        "reversal, got %d" % (MIN_PASSES, len(nums)))
j.check(all(p["pending"] >= 1 for p in fpasses),
        "expected pending>=1 on every pass before the reversal",
        *show(fpasses.where(lambda p: p["pending"] < 1)))
sl_blk = ev.named("klp_task_blocked").where(
    lambda e: e["pid"] == sleeper and at(e) < i_reverse)
j.check(len(sl_blk) == len(fpasses) and all(
            e["reason"] == "sleeping_in_func" and e["func"] == FUNC
            for e in sl_blk),
        "expected the sleeper blocked sleeping_in_func %s once per pass "
        "before the reversal (%d passes), got" % (FUNC, len(fpasses)),
        *show(sl_blk))

# --- the reversal -------------------------------------------------------------
rev = tr_all.where(lambda e: at(e) > i_reverse)
reverse = rev.named("klp_transition_reverse")
if not j.check(len(reverse) == 1, "expected exactly one klp_transition_reverse "
               "after the reverse mark, got %d" % len(reverse), *show(rev, 20)):
    j.done()
reverse = reverse[0]
check_event(j, reverse, "klp_transition_reverse (the new target)",
            "target=unpatched")
j.check(all(e["target"] == "unpatched" for e in rev),
        "expected target=unpatched on every transition event after the "
        "reversal", *show(rev.where(lambda e: e["target"] != "unpatched")))
check_transition_seq(j, rev, "reverse start" + PASSES + " complete",
                     " after the reverse mark")
start = rev.first("klp_transition_start")
rpasses = rev.named("klp_transition_pass")
complete = rev.first("klp_transition_complete")
if j.check(start is not None, "expected klp_transition_start "
           "target=unpatched after klp_transition_reverse (README: it 'also "
           "fires right after klp_transition_reverse'; the core restarts the "
           "transition there), got none", reverse):
    j.check(rpasses and at(reverse) < at(start) < at(rpasses[0]),
            "expected klp_transition_start right after klp_transition_reverse, "
            "before the next pass", reverse, start, *rpasses[:1])
if not j.check(complete is not None, "expected klp_transition_complete "
               "target=unpatched after the reversal, missing"):
    j.done()
check_event(j, complete, "klp_transition_complete", "forced=0")
check_pass_numbers(j, rpasses, " after the reversal (the core resets its "
                   "retry counter in klp_start_transition)")
check_last_pass_done(j, rpasses)

# --- lifecycle after the reversal ---------------------------------------------
post = ev.where(lambda e: at(e) > at(complete))
free, release, put0, ready, mfree = check_free_chain(
    j, post, complete, LP, "after the completion")
if put0 is not None:
    j.check(put0["refcnt"] == after.refcnt.get(LP) == 0,
            "expected the last put at refcnt=0 as snap after shows (%r), got "
            "%d" % (after.refcnt.get(LP), put0["refcnt"]), put0)
    j.check(at(put0) < i_after, "expected the last put before snap after", put0)
if ready is not None:
    j.check(at(ready) < i_after, "expected klp_module_unload_ready before "
            "snap after (refcnt 0 already), it came after", ready)
if mfree is not None:
    j.check(at(mfree) > i_rmmod, "expected klp_module_free after the rmmod "
            "mark", mfree)

# --- who switches --------------------------------------------------------------
sw = ev.named("klp_task_switch")
mine = sw.where(lambda e: e["pid"] == sleeper)
j.check(not mine, "expected no klp_task_switch of the sleeper %d at all (it "
        "stays unpatched in the original %s), got" % (sleeper, FUNC), *mine)

back = sw.where(lambda e: at(reverse) < at(e) < at(complete))
bad = back.where(lambda e: e["via"] != "fork" and not (
    e["from"] == "patched" and e["to"] == "unpatched"))
j.check(not bad, "expected every switch after the reversal from=patched "
        "to=unpatched", *show(bad))
# (A fork right after the reversal may still copy a parent's 1: such a
# child is switched back like any patched task, so forks may say either.)
late = sw.where(lambda e: at(e) > at(complete) and not (
    e["via"] == "fork" and e["to"] == "unpatched" and free is not None
    and at(e) < at(free)) and not (
    late_return_switch(e, complete) and free is not None
    and at(e) < at(free)))
j.check(not late, "expected no switch after the completion (but forks "
        "to=unpatched and late user-return or idle reports until "
        "klp_patch_free)", *show(late))
blk = ev.named("klp_task_blocked").where(
    lambda e: at(reverse) < at(e) < at(complete))
j.check(all(e["reason"] == "running" for e in blk),
        "expected nothing blocked after the reversal but tasks running on a "
        "CPU", *show(blk.where(lambda e: e["reason"] != "running")))

# A task's switch back may be reported after the completion: klptrace.ko
# writes via=user_return at the return of klp_update_patch_state(), and
# the pass that finds the task switched may complete the transition
# before that (late_return_switch(), the same bound as above).
back_all = sw.where(lambda e: at(reverse) < at(e) < at(complete) or (
    late_return_switch(e, complete) and free is not None
    and at(e) < at(free)))
for tid, t in sorted(blocked.tasks.items()):
    if tid not in after.tasks or after.tasks[tid].tgid != t.tgid:
        continue
    ok = switch_vias(t)
    mine = back_all.where(lambda e, k=tid: e["pid"] == k
                          and e["via"] != "fork")
    if t.state == 1:
        j.check(len(mine) == 1 and mine[0]["via"] in ok,
                "task %d (%s) was patched in snap blocked and is alive in snap "
                "after: expected exactly one switch to=unpatched via=%s after "
                "the reversal, got" % (tid, t.comm, "|".join(ok)),
                *(show(mine) or ["(none)"]))
    elif t.state == 0:
        # Unpatched when the snapshot began: it switches back only if it
        # switched forward after that.
        fwd_sw = sw.where(lambda e, k=tid: e["pid"] == k and e["to"] == "patched"
                          and i_snap_b0 < at(e) < at(reverse))
        j.check(len(mine) == len(fwd_sw),
                "task %d (%s) was unpatched in snap blocked: expected %d "
                "switch(es) back after the reversal, got %d"
                % (tid, t.comm, len(fwd_sw), len(mine)), *show(mine))

j.done()
