#!/usr/bin/env python3
"""force_replace_nosym: without klp_patches klptrace.ko reports no guess.

The force of an atomic replace's enable marks the replaced patch forced
(ground truth: rmmod fails, refcnt stays 1).  Loaded with skip=klp_patches,
klptrace.ko must say in hooks that it lacks the symbol and emit no
klp_patch_forced (it cannot know the list), while klp_patch_free still
carries forced=1 from the patch itself.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import check_lp_gone, check_refcnt, snap, window  # noqa: E402
from klptjudge import Judge, load_events  # noqa: E402

LP = "klpt_lp_sleep"
LP2 = "klpt_lp_sleep2"
S = "force_replace_nosym"

j = Judge()
ev = load_events(j.resultdir)

hooks = j.read("hooks.load")
j.check(any(line.split()[:3] == ["klp_patches", "symbol", "skipped"]
            for line in hooks.splitlines()),
        "expected 'klp_patches symbol skipped' in hooks", *hooks.splitlines())

forced = snap(j, "forced")
final = snap(j, "final")
if forced is not None:
    check_lp_gone(j, forced, LP)
    check_refcnt(j, forced, LP, 1, " (replaced and forced: kept)")
if final is not None:
    check_refcnt(j, final, LP, 1, " (forced: never dropped)")
for f in ("rmmod_lp_status", "rmmod_lp2nd_status"):
    st = j.read(f).strip()
    j.check(st not in ("", "0"), "%s: expected rmmod %s to fail, got status %r"
            % (f, LP, st))

w = window(j, ev, "%s: force" % S, "%s: rmmod %s" % (S, LP))
if w is not None:
    f = w.named("klp_transition_force", patch=LP2)
    j.check(len(f) == 1, "expected one klp_transition_force of %s" % LP2, *f)
    marks = w.named("klp_patch_forced")
    j.check(not marks, "expected no klp_patch_forced without klp_patches",
            *marks)
    fr = w.named("klp_patch_free", patch=LP)
    j.check(len(fr) == 1 and fr[0]["forced"] == 1,
            "expected one klp_patch_free patch=%s forced=1" % LP, *fr)

j.done()
