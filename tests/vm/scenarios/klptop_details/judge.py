#!/usr/bin/env python3
"""klptop_details: a patch's page against the kernel's own account.

At the stacked point (snapshots stacked and stacked_after around the
one-shot frames stacked.txt (--json) and stacked_b.txt (-b)) every page's objects,
their patched flags and loaded state, and its functions are those of
/sys/kernel/livepatch/P/OBJ/FUNC,POS and /sys/module; which patch's
version of klpt_sleep_fn runs is the one impl (the target module's own
record of the version that ran) names: the last enabled patch; the
srcversion is /sys/module/M/srcversion ("" when there is none); LP1's
description is what the host's modinfo reads from the same .ko, LP3's
is unknown (its file is in no modules.dep); patches enabled before the
session have no whole history, and 6.1 has no replace file (unknown).

The watcher (life.json) saw LP3's whole life: its last frame with LP3
lists the steps the klp events of the harness's own instance
(events.txt) show for LP3, in order (passes of one direction in a row
are one step, numbered as the events number them), and the tasks that
blocked the disable: klpt_sleeper, not switched in snapshot blocked,
with as many checks as it has klp_task_blocked events of the disable.
"""

import subprocess
import sys

from klptjudge import Judge, load_events, load_snap

LP1, LP3, LPV = "klpt_lp_sleep", "klpt_lp_sleep3", "klpt_lp_vmlinux"
FUNC = "klpt_sleep_fn"
IMPL = {1: LP1, 3: LP3}

# the page's word for an event: klp_transition_init -> init,
# klp_module_unload_ready -> unload-ready (passes and refs: below)
def step(name):
    return name.split("_", 2)[2].replace("_", "-")


def modinfo(j, ko, key):
    try:
        return subprocess.run(["modinfo", "-F", key, j.path(ko)],
                              capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as e:
        j.fail("host modinfo -F %s %s: %s" % (key, ko, e))
        return None


def check_stacked(j):
    s, s2 = load_snap(j.resultdir, "stacked"), load_snap(j.resultdir, "stacked_after")
    impl = int(j.fact("impl_stacked") or -1)
    j.check(impl in IMPL, "impl %d: neither patch's version ran" % impl)
    fr = j.frames("stacked.txt")
    if not j.check(len(fr) == 1 and j.fact("stacked_rc") == "0",
                   "stacked.txt: %d frames, exit %s" % (len(fr), j.fact("stacked_rc"))):
        return
    pages = {p["name"]: p for p in fr[0]["patches"]}
    text = j.read("stacked_b.txt")
    for name in (LP1, LP3, LPV):
        lp, lp2 = s.livepatch.get(name), s2.livepatch.get(name)
        p = pages.get(name)
        if not j.check(lp and lp == lp2 and p, "%s: not in both snapshots "
                       "(or moved) and klptop's frame" % name):
            continue
        d = p["details"]
        funcs = {(f["object"], f["func"], f["sympos"]) for f in p["funcs"]}
        j.check(funcs == lp["funcs"], "%s: functions %s, sysfs %s" %
                (name, sorted(funcs), sorted(lp["funcs"])))
        objs = {o["name"]: o for o in d["objects"] or []}
        j.check(set(objs) == set(lp["objects"]), "%s: objects %s, sysfs %s"
                % (name, sorted(objs), sorted(lp["objects"])))
        for o, patched in lp["objects"].items():
            got = objs.get(o)
            if not got:
                continue
            loaded = o == "vmlinux" or o in s.refcnt
            j.check(got["patched"] == bool(patched) and got["loaded"] == loaded,
                    "%s: object %s %s, sysfs patched %d loaded %s" %
                    (name, o, got, patched, loaded))
            j.check("    object %s loaded %s patched %s funcs %d\n" %
                    (o, "yes" if loaded else "no", "yes" if patched else "no",
                     got["funcs"]) in text, "%s: -b lacks object %s" % (name, o))
        for f in p["funcs"]:
            want = IMPL.get(impl) if f["func"] == FUNC else name
            j.check(f["runs"] == want, "%s: %s runs %r, impl says %r" %
                    (name, f["func"], f["runs"], want))
        src = j.fact("srcversion_" + name)
        j.check(d["srcversion"] == ("" if src == "none" else src),
                "%s: srcversion %r, sysfs %r" % (name, d["srcversion"], src))
        j.check(d["history_whole"] is False and d["history_since_ns"],
                "%s: enabled before klptop started: history not whole" % name)
        j.check(d["replace"] is None, "%s: replace %r on 6.1 (no replace "
                "file, none seen)" % (name, d["replace"]))
    if LP1 in pages:
        want = modinfo(j, LP1 + ".ko", "description")
        d = pages[LP1]["details"]
        j.check(want and d["description"] == want and
                d["file"].endswith("/extra/%s.ko" % LP1),
                "%s: description %r from %r, modinfo %r" %
                (LP1, d["description"], d["file"], want))
    if LP3 in pages:
        d = pages[LP3]["details"]
        j.check(d["description"] is None and "not known" in d["description_why"],
                "%s: in no modules.dep, yet description %r" % (LP3, d["description"]))


def lp3_steps(ev):
    """LP3's steps as events.txt tells them, from its enable's get of
    its module: klp_enable_patch() takes it (try_module_get) right before
    klp_init_transition(), both under klp_mutex (6.1 core.c)."""
    steps, started, get = [], False, None
    for e in ev:
        who = e.get("patch", e.get("module"))
        if e.name == "klp_module_ref" and e.get("op") == "get":
            get = who
        if who != LP3:
            continue
        if e.name == "klp_transition_init" and e.get("target") == "patched":
            steps, started = [], True
            if get == LP3:
                steps.append(["get", None, None, None])
            get = None
        if not started:
            continue
        if e.name == "klp_transition_pass":
            last = steps[-1] if steps else None
            if last and last[0] == "passes" and last[1] == e["target"]:
                last[3] = e["pass"]
                continue
            steps.append(["passes", e["target"], e["pass"], e["pass"]])
        elif e.name == "klp_module_ref":
            steps.append([e["op"], None, None, None])
        elif e.name.startswith(("klp_transition_", "klp_patch_",
                                "klp_module_unload")):
            steps.append([step(e.name), e.get("target"), None, None])
    return steps


def check_life(j):
    ev = load_events(j.resultdir)
    fr = j.frames("life.json")
    with3 = [f for f in fr if any(p["name"] == LP3 for p in f["patches"])]
    if not j.check(with3, "life.json: no frame with %s" % LP3):
        return
    for f in fr:
        for p in f["patches"]:
            if p["name"] in (LP1, LPV):
                j.check(not p["details"]["history_whole"],
                        "%s: whole history though enabled before" % p["name"])
    d = [p for p in with3[-1]["patches"] if p["name"] == LP3][0]["details"]
    want = lp3_steps(ev)
    got = [[s["step"], s["target"] if s["step"] in ("passes", "init", "start",
            "reverse", "complete") else None, s.get("first_pass"),
            s.get("pass")] for s in d["history"]]
    for w in want:
        if w[0] != "passes" and w[0] not in ("init", "start", "reverse", "complete"):
            w[1] = None
    j.check(d["history_whole"], "%s: its enable was seen: whole" % LP3)
    j.check(got == want, "%s's steps:" % LP3, "klptop %s" % got,
            "events.txt %s" % want)
    j.check(got and got[-1][0] == "unload-ready",
            "%s: the last frame's last step is not unload-ready" % LP3)
    # the disable's blockers: the sleeper, not switched in snap blocked
    pid = int(j.fact("sleeper_pid") or 0)
    s = load_snap(j.resultdir, "blocked")
    t = s.tasks.get(pid)
    j.check(t and t.state == 1, "snapshot blocked: sleeper %d state %s, "
            "not the patched state it leaves" % (pid, t and t.state))
    init = [e for e in ev if e.name == "klp_transition_init" and
            e.get("patch") == LP3 and e.get("target") == "unpatched"]
    if not j.check(init, "no disable of %s in events.txt" % LP3):
        return
    checks = [e for e in ev[ev.pos(init[-1]):] if e.name == "klp_task_blocked"
              and e.get("pid") == pid and e.get("patch") == LP3]
    b = [x for x in d["blockers"] if x["pid"] == pid]
    j.check(b and b[0]["target"] == "unpatched" and
            b[0]["reason"] == "sleeping_in_func" and b[0]["function"] == FUNC
            and b[0]["checks"] == len(checks) and d["blocked_tasks_exact"],
            "%s: blocker %d: %s, events.txt %d checks" % (LP3, pid, b, len(checks)))
    j.check(j.fact("life_rc") == "130", "the watcher's exit %s, not 130 "
            "(SIGINT)" % j.fact("life_rc"))


def main():
    j = Judge()
    check_stacked(j)
    check_life(j)
    j.done()


if __name__ == "__main__":
    sys.exit(main())
