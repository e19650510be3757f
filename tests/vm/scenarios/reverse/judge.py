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
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from klptjudge import Judge, load_events, load_snap  # noqa: E402

LP = "klpt_lp_sleep"
TGT = "klpt_target_sleep"
FUNC = "klpt_sleep_fn"
M_INSMOD = "reverse: insmod %s" % LP
M_REVERSE = "reverse: reverse"
M_RMMOD = "reverse: rmmod"
MIN_PASSES = 2

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
for m in (M_INSMOD, "klpt_snap_begin blocked", "klpt_snap_end blocked",
          M_REVERSE, "klpt_snap_begin after", M_RMMOD):
    if not j.check(m in texts, "expected marker %r in events.txt, missing" % m):
        j.done()
i_insmod = ev.marker(M_INSMOD)
i_snap_b0 = ev.marker("klpt_snap_begin blocked")
i_reverse = ev.marker(M_REVERSE)
i_after = ev.marker("klpt_snap_begin after")
i_rmmod = ev.marker(M_RMMOD)

# --- ground truth ------------------------------------------------------------
for f, what in (("insmod_rc", "insmod %s" % LP),
                ("disable_rc", "writing 0 to %s/enabled" % LP),
                ("rmmod_rc", "rmmod %s" % LP)):
    j.check(fact(f) == "0", "expected %s to exit 0, got %r" % (what, fact(f)))
try:
    sleeper = int(fact("sleeper_pid"))
except ValueError:
    j.fail("expected the sleeper pid in facts/sleeper_pid, got %r"
           % fact("sleeper_pid"))
    j.done()
j.check(fact("in_func_after") == "1" and fact("impl_after") == "0",
        "expected the sleeper still in the original %s at snap after "
        "(in_func=1 impl=0), got in_func=%r impl=%r"
        % (FUNC, fact("in_func_after"), fact("impl_after")))
blocked = load_snap(j.resultdir, "blocked")
after = load_snap(j.resultdir, "after")
st = blocked.livepatch.get(LP)
j.check(st and st["enabled"] == 1 and st["transition"] == 1,
        "snap blocked: expected %s enabled=1 transition=1, got %r" % (LP, st))
t = blocked.tasks.get(sleeper)
j.check(t is not None and t.state == 0 and t.kthread,
        "snap blocked: expected the sleeper %d as a kthread at patch_state 0, "
        "got %r" % (sleeper, t))
j.check(LP not in after.livepatch, "snap after: expected %s gone from "
        "/sys/kernel/livepatch, got %r" % (LP, after.livepatch.get(LP)))
j.check(after.refcnt.get(LP) == 0, "snap after: expected %s loaded with "
        "refcnt 0, got %r" % (LP, after.refcnt.get(LP)))
bad = [t for t in after.tasks.values() if t.state != -1]
j.check(not bad, "snap after: expected every patch_state -1, got %d others"
        % len(bad), *bad[:8])
patched = {tid: t for tid, t in blocked.tasks.items() if t.state == 1}
j.check(len(patched) >= 10, "snap blocked: expected most tasks patched "
        "already, only %d are" % len(patched))

# --- before the reversal ------------------------------------------------------
tr_all = ev.where(lambda e: e.name.startswith("klp_transition_"))
others = tr_all.where(lambda e: e.get("patch") != LP)
j.check(not others, "expected transition events of %s only, saw" % LP,
        *show(others))
fwd = tr_all.where(lambda e: i_insmod < at(e) < i_reverse)
seq = " ".join(n[len("klp_transition_"):] for n in fwd.names())
j.check(re.fullmatch(r"init start( pass( signal)?)+", seq),
        "expected init start pass... (no completion) before the reverse mark, "
        "got: %s" % (seq or "(none)"), *show(fwd, 20))
j.check(all(e["target"] == "patched" for e in fwd),
        "expected target=patched before the reverse mark",
        *show(fwd.where(lambda e: e["target"] != "patched")))
fpasses = fwd.named("klp_transition_pass")
nums = [p["pass"] for p in fpasses]
j.check(len(nums) >= MIN_PASSES and nums == list(range(len(nums))),
        "expected at least %d passes 0, 1, ... before the reversal, got %r"
        % (MIN_PASSES, nums))
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
j.check(reverse["target"] == "unpatched", "expected klp_transition_reverse "
        "target=unpatched (the new target), got %s" % reverse["target"], reverse)
j.check(all(e["target"] == "unpatched" for e in rev),
        "expected target=unpatched on every transition event after the "
        "reversal", *show(rev.where(lambda e: e["target"] != "unpatched")))
seq = " ".join(n[len("klp_transition_"):] for n in rev.names())
j.check(re.fullmatch(r"reverse start( pass( signal)?)+ complete", seq),
        "expected klp_transition_ reverse start pass... complete after the "
        "reverse mark, got: %s" % (seq or "(none)"), *show(rev, 20))
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
j.check(complete["forced"] == 0, "expected complete forced=0, got %r"
        % complete["forced"], complete)
nums = [p["pass"] for p in rpasses]
j.check(nums == list(range(len(nums))), "expected the passes after the "
        "reversal to count from 0 again (the core resets its retry counter "
        "in klp_start_transition), got %r" % nums)
j.check(rpasses and rpasses[-1]["pending"] == 0,
        "expected the last pass at pending=0", *rpasses[-1:])

# --- lifecycle after the reversal ---------------------------------------------
post = ev.where(lambda e: at(e) > at(complete))


def one(name, **fields):
    got = post.named(name, **fields)
    desc = " ".join("%s=%s" % kv for kv in fields.items())
    if j.check(len(got) == 1, "expected exactly one %s %s after the "
               "completion, got %d" % (name, desc, len(got)), *show(got)):
        return got[0]
    return None


free = one("klp_patch_free", patch=LP)
release = one("klp_patch_release", patch=LP)
put0 = one("klp_module_ref", module=LP, op="put")
ready = one("klp_module_unload_ready", module=LP)
mfree = one("klp_module_free", module=LP)
chain = [("klp_transition_complete", complete), ("klp_patch_free", free),
         ("klp_patch_release", release), ("klp_module_ref op=put", put0),
         ("klp_module_unload_ready", ready), ("klp_module_free", mfree)]
if all(e is not None for _, e in chain):
    order = [at(e) for _, e in chain]
    j.check(order == sorted(order), "expected " + " -> ".join(
        n for n, _ in chain) + " in this order, got lines %r"
        % [e.lineno for _, e in chain])
for e in (free, release):
    if e is not None:
        j.check(e["forced"] == 0, "expected %s forced=0" % e.name, e)
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
    and at(e) < at(free)))
j.check(not late, "expected no switch after the completion (but forks "
        "to=unpatched until klp_patch_free)", *show(late))
blk = ev.named("klp_task_blocked").where(
    lambda e: at(reverse) < at(e) < at(complete))
j.check(all(e["reason"] == "running" for e in blk),
        "expected nothing blocked after the reversal but tasks running on a "
        "CPU", *show(blk.where(lambda e: e["reason"] != "running")))

for tid, t in sorted(blocked.tasks.items()):
    if tid not in after.tasks or after.tasks[tid].tgid != t.tgid:
        continue
    ok = ("stack_check",) if t.kthread else ("stack_check", "user_return")
    mine = back.where(lambda e, k=tid: e["pid"] == k and e["via"] != "fork")
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
