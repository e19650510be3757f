#!/usr/bin/env python3
"""klptop's batch and JSON frames in the VM against the kernel's ground truth.

run.sh runs this for every scenario whose results have klptop/ (lib.sh
klptop_check, and /init's "final" check):

    klptop.py RESULTDIR

For each klptop/NAME.json and klptop/NAME.txt, the last frame (taken after
at least one transition pass) is compared with the snapshot klptop_NAME
taken right after it, at a point where the scenario holds the state still:

- klptop ran in the events mode (klptrace.ko loaded, or the kernel's own
  klp events) and lost nothing, and its source is what NAME.source says
  the kernel showed before it ran (klptrace.ko: /sys/module/klptrace;
  native: events/klp in tracefs without it);
- patches: every patch directory of the snapshot is shown with the same
  enabled and transition; a patch shown without a directory has been
  released, its module is still loaded and its verdict is no hold of the
  patch itself (ready, refs, forced);
- a shown patch module's refcnt is /sys/module/M/refcnt;
- the verdict is "ready" exactly when the patch directory is gone, the
  refcnt is 0 (which a forced patch's module never reaches);
- in a transition, the blockers are exactly the threads whose patch_state
  is not the target (zombies excused), none before the transition started
  ("pre-patch", "pre-unpatch": klp_init_transition() done, the start not
  yet), not checked when the direction is unknown ("?"), switched +
  blockers = total, and
  a blocker sleeping in a function has that function on its kernel stack
  (NAME.stacks, read right after the snapshot).
"""

import os
import sys

from klptjudge import Judge, load_snap

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "tui", "tests"))
import frames as fr  # noqa: E402

TARGET = {"patching": 1, "unpatching": 0, "pre-patch": 1, "pre-unpatch": 0,
          "?": None}


def stacks(path):
    """NAME.stacks: {tid: stack text}."""
    out = {}
    tid = None
    if not os.path.exists(path):
        return out
    for line in open(path, encoding="utf-8", errors="replace"):
        if line.startswith("tid "):
            tid = int(line.split()[1])
            out[tid] = ""
        elif tid is not None:
            out[tid] += line
    return out


def check_funcs(j, where, name, p, lp):
    """A live session reads a patch's functions from its directory: none
    known (null) only where the session could not read them (the snapshot
    lists no object: the directory went first); the functions are the
    snapshot's <object>/<function,sympos> directories (an atomic replace's
    nops too, until its transition completes), each with its object's
    `patched`."""
    funcs = p.get("funcs")
    if funcs is None:
        j.check(not lp["objects"], "%s: %s functions unknown (null), its "
                "directory lists %s" % (where, name, sorted(lp["objects"])))
        return
    for fn in funcs:
        patched = lp["objects"].get(fn["object"])
        j.check(patched is not None and bool(patched) == fn["patched"],
                "%s: %s function %s/%s patched %s, sysfs %s/patched %s" %
                (where, name, fn["object"], fn["func"], fn["patched"],
                 fn["object"], patched))
    want = lp.get("funcs")
    if lp["objects"] and want:
        got = set((fn["object"], fn["func"], fn["sympos"]) for fn in funcs)
        j.check(got == want, "%s: %s functions %s, sysfs %s" %
                (where, name, sorted(got), sorted(want)))


def check_frame(j, where, frame, snap, zombies, stack, source):
    j.check(frame["mode"] == "events", "%s: mode %s, not events" %
            (where, frame["mode"]))
    j.check(source is None or frame["source"] == source,
            "%s: source %s, the kernel showed %s" % (where, frame["source"],
                                                     source))
    j.check(frame["lost"] == 0, "%s: %d events lost" % (where, frame["lost"]))
    for name, lp in snap.livepatch.items():
        p = frame["patches"].get(name)
        if not j.check(p is not None, "%s: patch %s (in sysfs) not shown" %
                       (where, name)):
            continue
        j.check(int(p["enabled"]) == lp["enabled"],
                "%s: %s enabled %d, sysfs %d" % (where, name, p["enabled"],
                                                 lp["enabled"]))
        shown_tr = p["direction"] in TARGET
        j.check(int(shown_tr) == lp["transition"],
                "%s: %s shown %s, sysfs transition %d" %
                (where, name, p["direction"], lp["transition"]))
        check_funcs(j, where, name, p, lp)
    for name, p in frame["patches"].items():
        refcnt = snap.refcnt.get(name)
        if name not in snap.livepatch:
            j.check(refcnt is not None,
                    "%s: %s shown, but neither its directory nor its module "
                    "is there" % (where, name))
            j.check(p["verdict"] in ("ready", "refs", "forced"),
                    "%s: %s released but verdict %s" % (where, name,
                                                        p["verdict"]))
        if refcnt is not None and p["refcnt"] is not None:
            j.check(p["refcnt"] == refcnt, "%s: %s refcnt %d, sysfs %d" %
                    (where, name, p["refcnt"], refcnt))
        # A forced patch's module keeps its reference for good (6.1
        # klp_free_patch_finish()): refcnt 0 with the directory gone
        # already says "not forced", without trusting klptop's claim.
        ready = name not in snap.livepatch and refcnt == 0
        j.check((p["verdict"] == "ready") == ready,
                "%s: %s verdict %s (%s), sysfs: directory %s, refcnt %s" %
                (where, name, p["verdict"], p["why"],
                 "there" if name in snap.livepatch else "gone", refcnt))
        if p["direction"] not in TARGET or TARGET[p["direction"]] is None:
            continue
        target = TARGET[p["direction"]]
        want = {t.tid for t in snap.tasks.values()
                if t.state != target and t.state != -1} - zombies
        if p["direction"].startswith("pre-"):
            want = set()  # no task is pending before the start
        got = {b["tid"] for b in p["blockers"] if b["tid"] > 0} - zombies
        j.check(got == want, "%s: %s blockers %s, sysfs/procfs says %s" %
                (where, name, sorted(got), sorted(want)))
        if p["switched"] is None:
            # tasks of unknown state (idle tasks of a joined transition):
            # the switched count is a lower bound, they make up the rest
            j.check(p["switched_at_least"] is not None and
                    p["switched_at_least"] + p["blockers_total"] <
                    p["total"],
                    "%s: %s >=%s switched + %d blockers, %d tasks: none "
                    "of unknown state" % (where, name, p["switched_at_least"],
                                          p["blockers_total"], p["total"]))
        else:
            j.check(p["switched"] + p["blockers_total"] == p["total"] or
                    (p["direction"].startswith("pre-") and
                     p["blockers_total"] == 0),
                    "%s: %s %d switched + %d blockers != %d" %
                    (where, name, p["switched"], p["blockers_total"],
                     p["total"]))
        for b in p["blockers"]:
            if b["reason"] != "sleeping_in_func" or b["tid"] not in stack:
                continue
            j.check(b["function"] and b["function"] in stack[b["tid"]],
                    "%s: blocker %d sleeps in %r, its stack:\n%s" %
                    (where, b["tid"], b["function"], stack[b["tid"]]))


def main():
    res = sys.argv[1]
    j = Judge(res)
    d = os.path.join(res, "klptop")
    names = sorted({f.rsplit(".", 1)[0] for f in os.listdir(d)
                    if f.endswith((".json", ".txt"))})
    j.check(names, "klptop/ holds no frames")
    for name in names:
        snap = load_snap(res, "klptop_" + name)
        zpath = os.path.join(res, "snap", "klptop_" + name, "zombies")
        zombies = set()
        if os.path.exists(zpath):
            zombies = {int(x) for x in open(zpath).read().split()}
        stack = stacks(os.path.join(d, name + ".stacks"))
        spath = os.path.join(d, name + ".source")
        source = None
        if j.check(os.path.exists(spath), "no %s" % spath):
            source = open(spath).read().strip()
        for ext in ("json", "txt"):
            path = os.path.join(d, "%s.%s" % (name, ext))
            if not j.check(os.path.exists(path), "no %s" % path):
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            try:
                frames = fr.parse(text)
            except ValueError as e:
                j.fail("%s: %s" % (path, e))
                continue
            if not j.check(len(frames) == 2, "%s: %d frames, not 2" %
                           (path, len(frames))):
                continue
            check_frame(j, "%s.%s" % (name, ext), frames[-1], snap, zombies,
                        stack, source)
            print("klptop %s.%s: %d patches checked against snap klptop_%s"
                  % (name, ext, len(frames[-1]["patches"]), name))
    return j.done()


if __name__ == "__main__":
    sys.exit(main())
