#!/usr/bin/env python3
"""klptop_load: --load's refusals, a failing init, a clean load, judged
by sysfs, procfs and the kernel log (not by klptop's words alone)."""

import sys

from klptjudge import Judge, load_snap


def out(j, name):
    """A run's stdout and stderr, and stderr's lines."""
    o, e = j.read(name + ".txt"), j.read(name + ".err")
    return o + e, [l for l in e.splitlines() if l]


def main():
    j = Judge(sys.argv[1])
    refused = load_snap(j.resultdir, "refused")
    for name, mod in (("plain", "klpt_target_busy"),
                      ("symlink", "klpt_lp_vmlinux"),
                      ("writable", "klpt_lp_vmlinux")):
        text, err = out(j, name)
        j.check(j.fact(name + "_rc") == "2", "%s: exit %s, not 2" %
                (name, j.fact(name + "_rc")))
        j.check(len(err) == 1 and j.read(name + ".txt") == "",
                "%s: expected one line on stderr, nothing else:\n%s" %
                (name, text))
        j.check(mod not in refused.refcnt and mod not in refused.livepatch,
                "%s: %s got loaded (sysfs)" % (name, mod))
        j.check(mod not in j.read("dmesg_%s.txt" % name),
                "%s: the kernel saw %s:\n%s" %
                (name, mod, j.read("dmesg_%s.txt" % name)))
    j.check("symbolic link" in j.read("symlink.err"),
            "symlink: the refusal does not say why: " + j.read("symlink.err"))
    j.check("not a livepatch" in j.read("plain.err"),
            "plain: the refusal does not say why: " + j.read("plain.err"))
    j.check("writable" in j.read("writable.err"),
            "writable: the refusal does not say why: " + j.read("writable.err"))

    # the failing init: once, the kernel's errno and reason shown
    text, err = out(j, "cbfail")
    log = j.read("dmesg_cbfail.txt")
    j.check(j.fact("cbfail_rc") == "2", "cbfail: exit %s, not 2" %
            j.fact("cbfail_rc"))
    j.check(log.count("failing on purpose") == 1,
            "cbfail: the init should run exactly once:\n" + log)
    j.check("ENODEV" in text, "cbfail: no ENODEV in:\n" + text)
    reasons = [l.split("] ", 1)[-1] for l in log.splitlines()
               if "pre-patch callback failed" in l or
               "failing on purpose" in l]
    j.check(reasons and all(r in text for r in reasons),
            "cbfail: the kernel's reasons %r are not in klptop's output:\n%s"
            % (reasons, text))
    cbf = load_snap(j.resultdir, "cbfail")
    j.check("klpt_lp_cb_fail" not in cbf.refcnt and
            "klpt_lp_cb_fail" not in cbf.livepatch,
            "cbfail: klpt_lp_cb_fail left behind (sysfs)")

    # the clean load
    text, _ = out(j, "clean")
    j.check(j.fact("clean_rc") == "0", "clean: exit %s, not 0:\n%s" %
            (j.fact("clean_rc"), text))
    clean = load_snap(j.resultdir, "clean")
    lp = clean.livepatch.get("klpt_lp_vmlinux")
    j.check(lp and lp["enabled"] == 1 and lp["transition"] == 0,
            "clean: sysfs says %r, not enabled 1 transition 0" % (lp,))
    bad = [t for t in clean.tasks.values() if t.state not in (1, -1)]
    j.check(not bad, "clean: tasks not switched after exit 0: %r" % bad[:5])
    j.check(j.fact("cmdline_patched") == "1",
            "clean: /proc/cmdline does not run the patched function")
    j.check("'klpt_lp_vmlinux': patching complete" in
            j.read("dmesg_clean.txt"),
            "clean: the kernel did not log the completion:\n" +
            j.read("dmesg_clean.txt"))
    # without --wait-complete: loaded, its transition started
    j.check(j.fact("nowait_rc") == "0", "nowait: exit %s, not 0:\n%s" %
            (j.fact("nowait_rc"), out(j, "nowait")[0]))
    lp = load_snap(j.resultdir, "nowait").livepatch.get("klpt_lp_vmlinux")
    j.check(lp and lp["enabled"] == 1,
            "nowait: sysfs says %r, not enabled 1" % (lp,))
    j.check("starting patching transition" in j.read("dmesg_nowait.txt"),
            "nowait: the kernel did not start the transition")
    # the atomic replace: klpt_lp_vmlinux named as replaced, and it is
    text, _ = out(j, "replace")
    j.check(j.fact("replace_rc") == "0", "replace: exit %s, not 0:\n%s" %
            (j.fact("replace_rc"), text))
    rep = load_snap(j.resultdir, "replace")
    lp = rep.livepatch.get("klpt_lp_vmlinux")
    j.check(not lp or lp["enabled"] == 0, "replace: klpt_lp_vmlinux still "
            "enabled: %r" % (lp,))
    j.check(j.fact("replace_vmmod") == "present", "replace: the module "
            "klpt_lp_vmlinux went (the core never unloads it)")
    j.check("] replaced: klpt_lp_vmlinux " in text,
            "replace: the replaced patch is not named:\n" + text)
    return j.done()


if __name__ == "__main__":
    sys.exit(main())
