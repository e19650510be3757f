#!/usr/bin/env python3
"""klptop_script_gone: the scripted flow on modules whose patch is gone.

Each klptop run's exit code and words against the snapshots taken
around it (/sys/kernel/livepatch, /sys/module/*/refcnt) and rmmod's
status for the forced module."""

import sys

import checks
from klptjudge import Judge

LP, LP2, TGT = "klpt_lp_sleep", "klpt_lp_sleep2", "klpt_target_sleep"


def gone_but_loaded(j, snapname, mod):
    """In snapshot snapname mod's patch directory is gone, mod loaded."""
    s = checks.snap(j, snapname)
    if s is None:
        return None
    j.check(mod not in s.livepatch,
            "snap %s: /sys/kernel/livepatch/%s should be gone" %
            (snapname, mod))
    j.check(mod in s.refcnt, "snap %s: %s should be loaded" % (snapname, mod))
    return s


def rc(j, name, want):
    got = j.fact(name + "_rc")
    j.check(got == str(want), "klptop %s exited %s, not %s:\n%s%s" %
            (name, got, want, j.read(name + ".txt"), j.read(name + ".err")))


def has(j, name, ext, text):
    out = j.read(name + ext)
    j.check(text in out, "klptop %s%s lacks %r:\n%s" % (name, ext, text, out))


def lacks(j, name, ext, text):
    out = j.read(name + ext)
    j.check(text not in out, "klptop %s%s has %r:\n%s" %
            (name, ext, text, out))


def unloaded(j, name, mod, before, after):
    """The run name took mod from loaded (snap before) to gone."""
    gone_but_loaded(j, before, mod)
    rc(j, name, 0)
    has(j, name, ".txt", "%s: already disabled: its patch is gone" % mod)
    has(j, name, ".txt", "%s: ready to unload" % mod)
    j.check(j.read(name + ".txt").rstrip().endswith("%s: unloaded" % mod),
            "klptop %s: the last line should say unloaded:\n%s" %
            (name, j.read(name + ".txt")))
    j.check(j.read(name + ".err") == "", "klptop %s wrote to stderr: %s" %
            (name, j.read(name + ".err")))
    s = checks.snap(j, after)
    j.check(s is not None and mod not in s.refcnt and
            mod not in s.livepatch,
            "snap %s: %s still there after klptop %s" % (after, mod, name))


def waited(j, name, mod, before, after):
    """The run name (-p mod --wait-unload) said READY and unloaded nothing."""
    gone_but_loaded(j, before, mod)
    rc(j, name, 0)
    has(j, name, ".txt", "%s: ready to unload" % mod)
    lacks(j, name, ".txt", "unloaded")
    s = gone_but_loaded(j, after, mod)
    j.check(s is not None and s.refcnt.get(mod) == 0,
            "snap %s: %s refcnt %s, klptop said ready" %
            (after, mod, s and s.refcnt.get(mod)))


def one_line_error(j, name, text):
    rc(j, name, 2)
    err = j.read(name + ".err")
    j.check(len(err.splitlines()) == 1 and text in err,
            "klptop %s: stderr should be one line with %r: %r" %
            (name, text, err))
    j.check(j.read(name + ".txt") == "", "klptop %s wrote to stdout: %r" %
            (name, j.read(name + ".txt")))


def main():
    j = Judge(sys.argv[1])
    # (a) replaced by the atomic replace klpt_lp_sleep2
    waited(j, "a_wait", LP, "a_before", "a_waited")
    s = checks.snap(j, "a_before")
    j.check(s is not None and s.livepatch.get(LP2, {}).get("enabled") == 1,
            "snap a_before: %s should be the enabled replace" % LP2)
    unloaded(j, "a_unload", LP, "a_waited", "a_after")
    # (b) disabled earlier; waited in the fallback mode
    waited(j, "b_wait", LP2, "b_before", "b_waited")
    unloaded(j, "b_unload", LP2, "b_waited", "b_after")
    # (c) forced: never unloadable
    gone_but_loaded(j, "c_before", LP)
    rc(j, "c_unload", 1)
    has(j, "c_unload", ".err", "%s was forced" % LP)
    lacks(j, "c_unload", ".txt", "unloaded")
    lacks(j, "c_unload", ".txt", "ready to unload")
    s = gone_but_loaded(j, "c_after", LP)
    j.check(s is not None and s.refcnt.get(LP) == 1,
            "snap c_after: %s refcnt %s, not 1" % (LP, s and s.refcnt.get(LP)))
    j.check(j.fact("c_rmmod_rc") not in ("", "0"),
            "rmmod of the forced %s succeeded" % LP)
    j.check("forcing remaining tasks" in j.read("dmesg.txt"),
            "dmesg lacks the kernel's force line")
    # (d) names that are no livepatch
    one_line_error(j, "d_unknown", "no livepatch named 'no_such_patch'")
    one_line_error(j, "d_unknown_p", "no livepatch named 'no_such_patch'")
    one_line_error(j, "d_not_lp", "'%s' is a loaded module but not a "
                   "livepatch" % TGT)
    return j.done()


if __name__ == "__main__":
    sys.exit(main())
