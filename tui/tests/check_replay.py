#!/usr/bin/env python3
"""klptop's frames of the fixture recording against what the VM saw.

    check_replay.py FRAMES_FILE CAPTURE_DIR

CAPTURE_DIR is lib/tests/fixtures/vm-capture: sleeper_pid, the ground
truth snapshots snap/{blocked,end} taken in the guest while it recorded,
and trace.txt, the kernel's own text of the recorded buffer.  Checks:

- some frame shows klpt_lp_sleep enabled and patching, and the tasks it
  lists as blockers are exactly the threads snap/blocked shows still
  unpatched (patch_state 0), with the function trace.txt names for them
  and the reason sleeping_in_func;
- every frame with that transition counts switched + blockers = total;
- the last frame matches snap/end: no livepatch left.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frames as fr  # noqa: E402


def main():
    frames_file, cap = sys.argv[1], sys.argv[2]
    with open(frames_file) as f:
        frames = fr.parse(f.read())
    errors = []
    if len(frames) < 3:
        errors.append("only %d frames" % len(frames))
    sleeper, unpatched, funcs = fr.capture_truth(cap)
    if sleeper not in unpatched:
        errors.append("fixture: sleeper %d not unpatched in snap/blocked" %
                      sleeper)

    blocked = [f for f in frames
               if f["patches"].get("klpt_lp_sleep", {}).get("direction") ==
               "patching" and f["patches"]["klpt_lp_sleep"]["pass"] >= 1]
    if not blocked:
        errors.append("no frame shows the blocked patching transition")
    for f in blocked:
        p = f["patches"]["klpt_lp_sleep"]
        got = {b["tid"] for b in p["blockers"]}
        if got != unpatched:
            errors.append("blockers %s, snap/blocked unpatched %s" %
                          (sorted(got), sorted(unpatched)))
        for b in p["blockers"]:
            if b["function"] != funcs.get(b["tid"], ""):
                errors.append("blocker %d function %r, trace.txt %r" %
                              (b["tid"], b["function"], funcs.get(b["tid"])))
            if b["reason"] != "sleeping_in_func":
                errors.append("blocker %d reason %r" % (b["tid"], b["reason"]))
        if not p["enabled"] or p["verdict"] != "enabled":
            errors.append("blocked frame: enabled %r verdict %r" %
                          (p["enabled"], p["verdict"]))
    for f in frames:
        for name, p in f["patches"].items():
            if p["switched"] is not None and \
                    p["switched"] + p["blockers_total"] != p["total"]:
                errors.append("%s: %d switched + %d blockers != %d tasks" %
                              (name, p["switched"], p["blockers_total"],
                               p["total"]))
    live = [line.split()[0] for line in
            open(os.path.join(cap, "snap/end/livepatch"))
            if "/" not in line.split()[0]]
    if frames and sorted(frames[-1]["patches"]) != sorted(live):
        errors.append("last frame patches %s, snap/end %s" %
                      (sorted(frames[-1]["patches"]), live))
    for e in errors:
        print("check_replay: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
