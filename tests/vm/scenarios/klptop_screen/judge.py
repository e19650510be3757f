#!/usr/bin/env python3
"""klptop_screen: what the operator saw (host.sh's screens) vs the truth."""

import sys

from klptjudge import Judge, load_snap


def main():
    j = Judge(sys.argv[1])
    pid = int(j.fact("sleeper_pid"))
    seen = j.read("screen-pid").split()
    j.check(seen == [str(pid), str(pid)],
            "the blocker row showed %s, the sleeper is %d" % (seen, pid))
    blocked = load_snap(j.resultdir, "blocked")
    j.check(blocked.tasks[pid].state == 0 and
            blocked.livepatch["klpt_lp_sleep"]["transition"] == 1,
            "snap blocked: the sleeper should hold the patching transition")
    row = [line for line in j.read("screen-blocked.txt").splitlines()
           if " klpt_sleeper " in line]
    j.check(row and "klpt_sleep_fn" in row[0],
            "no blocker row with klpt_sleep_fn: %s" % row)
    # the guest's watcher saw each step in sysfs, in this order
    # (READY itself may be too brief to poll; the unload's success is
    # the kernel's word that nothing held the module any more)
    for fact, what in (("disabled_seen", "the patch disabled after d + y"),
                       ("unloaded_seen", "the module gone after u")):
        j.check(j.fact(fact) == "1", "sysfs never showed " + what)
    print("READY seen in sysfs by the guest's poll: %s" %
          (j.fact("ready_seen") == "1"))
    final = load_snap(j.resultdir, "final")
    j.check("klpt_lp_sleep" not in final.refcnt and
            "klpt_lp_sleep" not in final.livepatch,
            "klpt_lp_sleep still there at the end")
    j.check("READY" in j.read("screen-ready.txt"), "no READY screen saved")
    j.check(j.fact("klptop_rc") == "0", "klptop exited %s" %
            j.fact("klptop_rc"))
    j.check(not j.read("klptop.err").strip(),
            "klptop wrote on stderr: " + j.read("klptop.err"))
    return j.done()


if __name__ == "__main__":
    sys.exit(main())
