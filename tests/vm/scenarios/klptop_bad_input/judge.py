#!/usr/bin/env python3
"""klptop_bad_input: exit codes, labels and clean-up vs the kernel's truth."""

import json
import sys

from klptjudge import Judge, load_snap


def main():
    j = Judge(sys.argv[1])
    # 1. fallback: labelled in both outputs, and still right
    j.check(j.fact("rc_fallback") == "0" and j.fact("rc_fallback_json") == "0",
            "klptop without klptrace.ko exited %s/%s" %
            (j.fact("rc_fallback"), j.fact("rc_fallback_json")))
    j.check(" mode fallback " in j.read("fallback.txt"),
            "the batch frame does not say fallback:\n" + j.read("fallback.txt"))
    frame = json.loads(j.read("fallback.json").splitlines()[0])
    j.check(frame["mode"] == "fallback", "JSON mode %r" % frame["mode"])
    names = [p["name"] for p in frame["patches"]]
    j.check(names == ["klpt_lp_vmlinux"], "fallback patches %s" % names)
    # 2, 3: refused, and nothing changed
    for name in ("unknown_disable", "unknown_filter", "force_no_yes",
                 "unload_no_yes", "force_idle"):
        j.check(j.fact("rc_" + name) == "2", "%s exited %s" %
                (name, j.fact("rc_" + name)))
    snap = load_snap(j.resultdir, "untouched")
    lp = snap.livepatch.get("klpt_lp_vmlinux", {})
    j.check(lp.get("enabled") == 1 and lp.get("transition") == 0,
            "klpt_lp_vmlinux changed by a refused action: %s" % lp)
    # 4. signals: 128 + N, instance gone
    for sig, num in (("INT", 2), ("TERM", 15), ("HUP", 1)):
        j.check(j.fact("rc_sig_" + sig) == str(128 + num),
                "SIG%s: exit %s, not %d" % (sig, j.fact("rc_sig_" + sig),
                                            128 + num))
        j.check(j.fact("instance_gone_" + sig) == "1",
                "SIG%s: instance not checked" % sig)
    # 5. SIGKILL: stale instance, removed by the next klptop
    j.check(j.fact("rc_sigkill") == "137", "SIGKILL exit %s" %
            j.fact("rc_sigkill"))
    j.check(j.fact("stale_removed") == "1" and
            j.fact("rc_after_kill") == "0", "the stale instance was not "
            "removed by a klptop that exited 0")
    # 6. klptrace.ko removed: fallback, loss reported, truth followed
    j.check(j.fact("rc_klptrace_gone") == "143", "klptop after the "
            "klptrace.ko removal exited %s" % j.fact("rc_klptrace_gone"))
    gone = load_snap(j.resultdir, "after_klptrace_gone")
    j.check(not gone.livepatch and "klpt_lp_vmlinux" not in gone.refcnt,
            "snap after_klptrace_gone still has the patch")
    return j.done()


if __name__ == "__main__":
    sys.exit(main())
