#!/usr/bin/env python3
"""klptop_script: the scripted flow's exit codes and words vs the truth."""

import sys

from klptjudge import Judge, load_snap


def main():
    j = Judge(sys.argv[1])
    pid = int(j.fact("sleeper_pid"))
    timeout_out = j.read("timeout.txt")
    unload_out = j.read("unload.txt")
    j.check(j.fact("timeout_rc") == "1", "--timeout 3 exited %s, not 1" %
            j.fact("timeout_rc"))
    after = load_snap(j.resultdir, "after_timeout")
    j.check(after.livepatch.get("klpt_lp_sleep", {}).get("transition") == 1,
            "after the timeout the unpatch should still run (sysfs)")
    j.check(after.tasks[pid].state == 1,
            "the sleeper %d should still be patched after the timeout" % pid)
    j.check("klpt_lp_sleep: disabled" in timeout_out,
            "the first run did not say it disabled the patch:\n" + timeout_out)
    j.check("timeout after" in timeout_out and
            "klpt_sleeper[%d]" % pid in timeout_out,
            "the timeout line and the holder are missing:\n" + timeout_out)
    blocked = load_snap(j.resultdir, "blocked")
    j.check(blocked.tasks[pid].state == 1 and
            blocked.livepatch["klpt_lp_sleep"]["enabled"] == 0,
            "snap blocked: the sleeper should hold a disabled patch")
    j.check("already disabled" in unload_out,
            "the second run should say the patch is already disabled:\n" +
            unload_out)
    j.check("klpt_sleeper[%d] (kthread): sleeping in klpt_sleep_fn" % pid
            in unload_out or "klpt_sleeper[%d]: sleeping in klpt_sleep_fn"
            % pid in unload_out,
            "the progress did not name the blocker:\n" + unload_out)
    j.check(j.fact("unload_rc") == "0", "--unload exited %s" %
            j.fact("unload_rc"))
    j.check(unload_out.rstrip().endswith("klpt_lp_sleep: unloaded"),
            "the last line should say unloaded:\n" + unload_out)
    removed = load_snap(j.resultdir, "removed")
    j.check("klpt_lp_sleep" not in removed.refcnt and
            "klpt_lp_sleep" not in removed.livepatch,
            "klpt_lp_sleep still there after the unload")
    return j.done()


if __name__ == "__main__":
    sys.exit(main())
