#!/usr/bin/env python3
"""stacked_replace: two non-replace patches on klpt_sleep_fn, disabling
the top one, a replace over the stack reversed and then completed, and
klptop's scripted flows on each.

Ground truth: impl of klpt_target_sleep (whose klpt_sleep_fn ran),
/sys/kernel/livepatch and refcnt in the snapshots, the status of the
guest's own write to enabled and of rmmod.  judge/libmodel.py compares
the model at every watch_dump and judge/klptop.py the frames of
klptop_check; here what the kernel did and what each klptop run said."""

import os
import sys

import checks
from klptjudge import Judge

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "..", "tui", "tests"))
import frames as fr  # noqa: E402

TG = "klpt_target_sleep"
LP1, LP2, LP3 = "klpt_lp_sleep", "klpt_lp_sleep2", "klpt_lp_sleep3"
TGR, LPR = "klpt_target_read", "klpt_lp_read"
SLEEP_FN = (TG, "klpt_sleep_fn")
READ_FN = (TGR, "klpt_read_proc_read")
UNKNOWN = (None, None, False)   # '?': klptop cannot know


def rc(j, name, want):
    got = j.fact(name + "_rc")
    return j.check(got == str(want), "klptop %s exited %s, not %s:\n%s%s" %
                   (name, got, want, j.read(name + ".txt"),
                    j.read(name + ".err")))


def has(j, name, ext, text):
    out = j.read(name + ext)
    j.check(text in out, "klptop %s%s lacks %r:\n%s" % (name, ext, text, out))


def impl(j, fact, want, why):
    j.check(j.fact(fact) == str(want), "impl %s: %r, expected %d (%s)" %
            (fact, j.fact(fact), want, why))


def runs(j, name, want, fn=SLEEP_FN):
    """In klptop's last frames of klptop_check NAME (JSON and text), the
    function FN (object, name; sympos 1) of every patch in WANT ({patch:
    (live, runs, switching)}) says that: whose version runs, as impl
    showed it."""
    for ext in (".json", ".txt"):
        text = j.read("klptop", name + ext)
        try:
            frame = fr.parse(text)[-1]
        except (ValueError, IndexError) as e:
            j.check(False, "klptop %s%s: no frame (%s)" % (name, ext, e))
            continue
        for lp, (live, who, switching) in want.items():
            p = frame["patches"].get(lp)
            if not j.check(p is not None and p["funcs"] is not None,
                           "klptop %s%s: %s or its functions not shown"
                           % (name, ext, lp)):
                continue
            got = [(f["live"], f["runs"], f["switching"]) for f in p["funcs"]
                   if (f["object"], f["func"]) == fn and f["sympos"] == 1]
            j.check(got == [(live, who, switching)],
                    "klptop %s%s: %s's %s/%s,1 shown as %r, expected %r"
                    % (name, ext, lp, fn[0], fn[1], got,
                       [(live, who, switching)]))


def main():
    j = Judge(sys.argv[1])
    # (a) the last enabled patch of a function is the live one
    impl(j, "impl_stacked", 3, "%s enabled after %s runs" % (LP3, LP1))
    runs(j, "stacked", {LP1: (False, LP3, False), LP3: (True, LP3, False)})
    s = checks.snap(j, "stacked")
    if s:
        for lp in (LP1, LP3):
            checks.check_lp(j, s, lp, 1, 0, {TG: 1})
    # one transition at a time: the kernel refuses the other disable
    j.check(j.fact("busy_write_rc") not in ("", "0"),
            "writing 0 to %s/enabled during %s's transition succeeded" %
            (LP1, LP3))
    j.check("busy" in j.read("busy_write.err").lower(),
            "the refused write should say EBUSY: %r" %
            j.read("busy_write.err"))
    s = checks.snap(j, "busy")
    if s:
        checks.check_lp(j, s, LP1, 1, 0, why=" (its disable was refused)")
        checks.check_lp(j, s, LP3, 0, 1, why=" (held by the sleeper)")
    rc(j, "a_busy", 2)
    has(j, "a_busy", ".err", "cannot disable %s" % LP1)
    has(j, "a_busy", ".err", "%s is in transition" % LP3)
    # the top one disabled: the lower one is live again
    if rc(j, "a_unload3", 0):
        has(j, "a_unload3", ".txt", "%s: unloaded" % LP3)
    impl(j, "impl_after_a", 1, "%s gone, %s left" % (LP3, LP1))
    runs(j, "lower_live", {LP1: (True, LP1, False)})
    s = checks.snap(j, "lower_live")
    if s:
        checks.check_lp(j, s, LP1, 1, 0)
        checks.check_lp_gone(j, s, LP3)
        checks.check_refcnt(j, s, LP3, None, " (klptop unloaded it)")

    # no stack order in 6.1: the lower one disabled first, the top stays
    impl(j, "impl_top_again", 3, "%s on top again" % LP3)
    if rc(j, "a_lower", 0):
        has(j, "a_lower", ".txt", "%s: disabled" % LP1)
        has(j, "a_lower", ".txt", "%s: unloaded" % LP1)
    impl(j, "impl_lower_gone", 3, "%s (lower) gone, %s live" % (LP1, LP3))

    # (c) the replace reversed before it completed: the stack stays
    impl(j, "impl_restacked", 1, "%s stacked again, on top" % LP1)
    s = checks.snap(j, "replacing1")
    if s:
        checks.check_lp(j, s, LP2, 1, 1, why=" (the sleeper in %s's "
                        "function)" % LP1)
    if rc(j, "c_reverse", 0):
        has(j, "c_reverse", ".txt", "%s: disabled" % LP2)
        has(j, "c_reverse", ".txt", "%s: unloaded" % LP2)
    s = checks.snap(j, "reversed")
    if s:
        checks.check_lp_gone(j, s, LP2)
        checks.check_refcnt(j, s, LP2, None, " (klptop unloaded it)")
        for lp in (LP1, LP3):
            checks.check_lp(j, s, lp, 1, 0, why=" (the replace reversed)")
            checks.check_refcnt(j, s, lp, 1)
    impl(j, "impl_reversed", 1, "the replace reversed: %s still on top" % LP1)
    runs(j, "reversed", {LP1: (True, LP1, False), LP3: (False, LP1, False)})

    # (b) the replace completes: both replaced modules unload-ready
    s = checks.snap(j, "replacing2")
    if s:
        checks.check_lp(j, s, LP2, 1, 1)
        for lp in (LP1, LP3):
            checks.check_lp(j, s, lp, 1, 0)
            checks.check_refcnt(j, s, lp, 1)
    # in its transition the replace is on top, the tasks not yet switched
    # run the one below (the sleeper: LP1's, impl 1, until it switches);
    # but 6.1's sysfs tells neither a replace nor its nops: LP2's entry
    # of a function another patch has may be a nop (the original runs for
    # a switched task), so klptop says '?' - for LPR's function, which LP2
    # does not patch, its directory lists the nop
    runs(j, "replacing2", {LP1: UNKNOWN, LP3: UNKNOWN, LP2: UNKNOWN})
    runs(j, "replacing2", {LPR: UNKNOWN, LP2: UNKNOWN}, READ_FN)
    s = checks.snap(j, "replacing2")
    if s and LP2 in s.livepatch:
        j.check((TGR, READ_FN[1], 1) in s.livepatch[LP2]["funcs"],
                "snap replacing2: %s lists no nop %s/%s,1: %s" %
                (LP2, TGR, READ_FN[1], sorted(s.livepatch[LP2]["funcs"])))
    for name, lp in (("b_wait1", LP1), ("b_wait3", LP3)):
        if rc(j, name, 0):
            has(j, name, ".txt", "%s: ready to unload" % lp)
    s = checks.snap(j, "replaced")
    if s:
        checks.check_lp(j, s, LP2, 1, 0)
        for lp in (LP1, LP3):
            checks.check_lp_gone(j, s, lp)
            checks.check_refcnt(j, s, lp, 0, " (replaced, never disabled)")
    impl(j, "impl_replaced", 2, "the replace completed")
    runs(j, "replaced", {LP2: (True, LP2, False)})
    s = checks.snap(j, "replaced")
    if s:
        checks.check_lp_gone(j, s, LPR)
        if LP2 in s.livepatch:
            # klp_discard_nops(): judge/klptop.py checks klptop's list
            j.check((TGR, READ_FN[1], 1) not in s.livepatch[LP2]["funcs"],
                    "snap replaced: %s still lists its nop" % LP2)
    if rc(j, "b_unload3", 0):
        has(j, "b_unload3", ".txt", "%s: already disabled: its patch is "
            "gone" % LP3)
        has(j, "b_unload3", ".txt", "%s: unloaded" % LP3)
    j.check(j.fact("rmmod_lp1_rc") == "0", "rmmod of the replaced %s: %r (%s)"
            % (LP1, j.fact("rmmod_lp1_rc"), j.read("rmmod_lp1.txt")))
    s = checks.snap(j, "end")
    if s:
        for lp in (LP1, LP3):
            checks.check_refcnt(j, s, lp, None)
    return j.done()


if __name__ == "__main__":
    sys.exit(main())
