#!/usr/bin/env python3
"""klptop_load_stall: a load held by klpt_sleeper, each --on-stall
policy judged by sysfs, procfs, refcnt, rmmod and the kernel log."""

import sys

from klptjudge import Judge, load_snap

LP = "klpt_lp_sleep"


def main():
    j = Judge(sys.argv[1])
    pid = int(j.fact("sleeper_pid"))
    for name in ("report", "disable", "unload", "deadline"):
        text = j.read(name + ".txt") + j.read(name + ".err")
        j.check(j.fact(name + "_rc") == "1", "%s: exit %s, not 1:\n%s" %
                (name, j.fact(name + "_rc"), text))
        j.check("klpt_sleeper[%d] (kthread): sleeping in klpt_sleep_fn"
                % pid in text, "%s: the blocker and its reason are not "
                "named:\n%s" % (name, text))
        j.check(name == "deadline" or
                "'%s': starting patching transition" % LP in
                j.read("dmesg_%s.txt" % name),
                "%s: the kernel never started the transition" % name)

    # report: nothing done, the transition still runs
    s = load_snap(j.resultdir, "report")
    lp = s.livepatch.get(LP)
    j.check(lp and lp["enabled"] == 1 and lp["transition"] == 1,
            "report: sysfs says %r, not enabled 1 transition 1" % (lp,))
    j.check(s.tasks[pid].state == 0, "report: the sleeper should be "
            "unpatched (0), is %d" % s.tasks[pid].state)
    j.check("unpatching complete" not in j.read("dmesg_report.txt"),
            "report: something reversed the transition")
    # the kernel's own signal round (pass 15), reported, not duplicated
    said = j.read("report.txt").count("the kernel signalled")
    logged = j.read("dmesg_report.txt").count("signaling remaining tasks")
    j.check(1 <= said <= logged, "report: klptop reported %d signal "
            "rounds, the kernel logged %d:\n%s" %
            (said, logged, j.read("report.txt")))

    # busy: a load during klpt_lp_sleep's transition, refused by the
    # kernel (EBUSY, nothing logged for it): the patch in transition named
    other = "klpt_lp_vmlinux"
    err = j.read("busy.err")
    j.check(j.fact("busy_rc") == "2", "busy: exit %s, not 2:\n%s" %
            (j.fact("busy_rc"), j.read("busy.txt") + err))
    j.check("(EBUSY): patch %s is in transition" % LP in err,
            "busy: EBUSY without the patch in transition named:\n" + err)
    j.check(j.fact("busy_sysmodule") == "", "busy: %s left loaded" % other)
    s = load_snap(j.resultdir, "busy")
    lp = s.livepatch.get(LP)
    j.check(other not in s.livepatch and lp and lp["enabled"] == 1 and
            lp["transition"] == 1, "busy: sysfs says %r" % (s.livepatch,))
    j.check("enabling patch '%s'" % other not in
            j.read("dmesg_busy.txt"), "busy: the kernel started enabling "
            "%s" % other)

    # disable: the reverse completed, the module loaded with refcnt 0
    s = load_snap(j.resultdir, "disable")
    j.check(LP not in s.livepatch, "disable: %s still in "
            "/sys/kernel/livepatch: %r" % (LP, s.livepatch.get(LP)))
    j.check(s.refcnt.get(LP) == 0, "disable: refcnt %r, not 0 (loaded)" %
            s.refcnt.get(LP))
    j.check(j.fact("disable_refcnt") == "0", "disable: refcnt after exit "
            "%s" % j.fact("disable_refcnt"))
    j.check("'%s': unpatching complete" % LP in j.read("dmesg_disable.txt"),
            "disable: the kernel did not log the reverse's completion")

    # disable-unload: the module is gone
    s = load_snap(j.resultdir, "unload")
    j.check(LP not in s.livepatch and LP not in s.refcnt,
            "unload: %s left in sysfs" % LP)
    j.check(j.fact("unload_sysmodule") == "" and
            j.fact("unload_lpdir") == "",
            "unload: /sys/module/%s or /sys/kernel/livepatch/%s present" %
            (LP, LP))
    j.check(j.fact("unload_rmmod") == "failed",
            "unload: rmmod %s succeeded: klptop left it loaded" % LP)
    j.check("'%s': unpatching complete" % LP in j.read("dmesg_unload.txt"),
            "unload: the kernel did not log the reverse's completion")
    j.check(j.read("unload.txt").rstrip().endswith("the module is gone"),
            "unload: the last line should say the module is gone:\n" +
            j.read("unload.txt"))
    # deadline: --timeout 2.5 bounds the reverse and the wait too
    text = j.read("deadline.txt")
    secs = float(j.fact("deadline_secs") or "inf")
    j.check(secs < 2.5 + 3, "deadline: ran %.2f s past a --timeout "
            "2.5:\n%s" % (secs, text))
    j.check("timeout after 2.5s" in text, "deadline: the timeout is not "
            "said as given (2.5s):\n" + text)
    j.check(text.rstrip().splitlines()[-1:] and
            text.rstrip().splitlines()[-1].startswith(
                LP + ": the load did not complete;"),
            "deadline: no closing line:\n" + text)
    return j.done()


if __name__ == "__main__":
    sys.exit(main())
