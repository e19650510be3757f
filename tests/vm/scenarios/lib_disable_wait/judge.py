#!/usr/bin/env python3
"""lib_disable_wait: libklptrace's example disable_wait against a real
blocked unpatch (issue 3, item 8).

Ground truth: snapshots `blocked` (the patch disabled, its transition
still on, klpt_sleeper patched: inside the new klpt_sleep_fn) and
`removed` (the module gone), the exit codes of disable_wait and rmmod,
the klp events.  Checked: while blocked, disable_wait's lines named
klpt_sleeper (its pid) in klpt_sleep_fn, as the events did; it exited 0
with "ready to unload" only after klp_module_unload_ready, and the rmmod
right after it worked (the module was really unloadable); the disable
ends as tracepoints/README.md orders it.
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import (check_event, check_free_chain, check_lp,  # noqa: E402
                    check_refcnt, check_task, need_int, require_markers,
                    sleeping_in, trace_complete)
from klptjudge import Judge, load_events, load_snap, show  # noqa: E402

LP = "klpt_lp_sleep"
FUNC = "klpt_sleep_fn"
M_DW = "lib_disable_wait: disable_wait"
M_RELEASE = "lib_disable_wait: release"
M_RETURNED = "lib_disable_wait: disable_wait returned"
M_RMMOD = "lib_disable_wait: rmmod"

j = Judge()
ev = load_events(j.resultdir)
at = ev.pos

trace_complete(j, ev)
require_markers(j, ev, M_DW, "klpt_snap_begin blocked", M_RELEASE,
                M_RETURNED, M_RMMOD, "klpt_snap_begin removed")
sleeper = need_int(j, "klpt_sleeper's pid", "facts", "sleeper_pid")
i_dw = ev.marker(M_DW)
i_blocked = ev.marker("klpt_snap_begin blocked")
i_returned = ev.marker(M_RETURNED)
i_rmmod = ev.marker(M_RMMOD)
i_removed = ev.marker("klpt_snap_begin removed")

# --- the example's own account -------------------------------------------------
out = j.read("disable_wait.txt").splitlines()
err = j.read("disable_wait.err").strip()
j.check(j.fact("disable_wait_rc") == "0", "expected disable_wait to exit 0, "
        "got %r" % j.fact("disable_wait_rc"))
j.check(not err, "expected nothing on disable_wait's stderr, got", err)
j.check(out and out[0] == "%s: disabled, waiting for the unpatch transition"
        % LP, "expected disable_wait to say first that it disabled %s, got"
        % LP, *(out[:1] or ["(no output)"]))
held = re.compile(r"^\[ *\d+s\] %s: tasks: .*klpt_sleeper\[%d\] in %s"
                  % (LP, sleeper, FUNC))
j.check(any(held.match(line) for line in out), "expected a status line "
        "naming klpt_sleeper[%d] in %s (verdict tasks), got" % (sleeper, FUNC),
        *out[:10])
j.check(out and out[-1] == "%s: ready to unload: rmmod %s" % (LP, LP),
        "expected disable_wait's last line to say %s is ready to unload, got"
        % LP, *(out[-1:] or ["(no output)"]))
j.check(j.fact("rmmod_rc") == "0", "expected rmmod %s right after "
        "disable_wait said ready to exit 0, got %r" % (LP, j.fact("rmmod_rc")))

# --- the ground truth -------------------------------------------------------------
blocked = load_snap(j.resultdir, "blocked")
removed = load_snap(j.resultdir, "removed")
check_lp(j, blocked, LP, enabled=0, transition=1,
         why=" (disabled by disable_wait, held by the sleeper)")
check_task(j, blocked, sleeper, "klpt_sleeper", comm="klpt_sleeper",
           kthread=True, state=1, why=" (still in the new function)")
check_refcnt(j, removed, LP, None)

# --- the events ---------------------------------------------------------------------
dis = ev.between(M_DW, "klpt_snap_begin removed")
init = dis.first("klp_transition_init", patch=LP)
check_event(j, init, "the disable's klp_transition_init", "target=unpatched")
held_ev = dis.named("klp_task_blocked", pid=sleeper).where(
    lambda e: at(e) < i_blocked)
j.check(held_ev and all(sleeping_in(e, FUNC) for e in held_ev),
        "expected klpt_sleeper's klp_task_blocked (sleeping_in_func %s) "
        "before snap blocked, got" % FUNC, *(show(held_ev) or ["(none)"]))
complete = dis.first("klp_transition_complete", patch=LP)
check_event(j, complete, "klp_transition_complete", "target=unpatched forced=0")
if complete is not None:
    j.check(at(complete) > ev.marker(M_RELEASE), "expected the unpatch to "
            "complete only after the release", complete)
free, release, put0, ready_ev, mfree = check_free_chain(
    j, dis, complete, LP, "after disable_wait started")
if put0 is not None:
    check_event(j, put0, "the put after the free", "refcnt=0")
if ready_ev is not None:
    j.check(at(ready_ev) < i_returned, "expected klp_module_unload_ready "
            "before disable_wait returned", ready_ev)
if mfree is not None:
    j.check(i_rmmod < at(mfree) < i_removed, "expected klp_module_free "
            "between the rmmod mark and snap removed", mfree)

j.done()
