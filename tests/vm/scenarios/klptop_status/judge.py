#!/usr/bin/env python3
"""klptop_status: klptop --status against the ground truth around each run.

Each checkpoint NAME (guest.sh) ran klptop --status as text (NAME), as
--json (NAME_json) and as --fallback --json (NAME_fb) between the
snapshots NAME_before and NAME.  What each row's status must be comes
from those snapshots alone, by 6.1's rules:

- a directory /sys/kernel/livepatch/P: transition 1 is "transition"
  (klp_transition_patch, either direction), else enabled 1 "ok", else
  "waiting" (disabled, its free work to come);
- a livepatch module of the scenario loaded without its directory:
  refcnt 0 "waiting" (freed, to be removed), refcnt > 0 "forced"
  (klp_free_patch_finish() skipped the module_put(); the scenario's
  rmmod of it fails and dmesg has the kernel's force line);
- the exit code is the most severe row's: forced 3, transition or
  waiting 1, none 0.

Both snapshots must agree (the state held still while klptop ran); the
scenario also says what it meant each checkpoint to be (PLAN), so a
checkpoint that did not reach its state fails too.  In a transition the
blockers klptop lists are the threads whose patch_state is not the
target.
"""

import json
import sys

import checks
from klptjudge import Judge

LP, LP2 = "klpt_lp_sleep", "klpt_lp_sleep2"
LIVEPATCHES = (LP, LP2)
SEVERITY = ["ok", "waiting", "transition", "unknown", "forced"]
EXIT = {"ok": 0, "waiting": 1, "transition": 1, "unknown": 2, "forced": 3}

PLAN = {
    "none_nokm": {},
    "none": {},
    "patching": {LP: "transition"},
    "enabled": {LP: "ok"},
    "unpatching": {LP: "transition"},
    "disabled": {LP: "waiting"},
    "removed": {},
    "replaced": {LP: "waiting", LP2: "ok"},
    "replace_only": {LP2: "ok"},
    "forced": {LP2: "forced"},
    "forced_tr": {LP: "transition", LP2: "forced"},
}

# -p runs: (run, snapshot of the checkpoint it follows, patch)
SINGLE = [("replaced_p2", "replaced", LP2), ("replaced_p1", "replaced", LP),
          ("forced_tr_p1", "forced_tr_after", LP),
          ("forced_tr_p2", "forced_tr_after", LP2)]


def truth(s):
    """{row: status} of snapshot s."""
    rows = {}
    for name, lp in s.livepatch.items():
        rows[name] = ("transition" if lp["transition"] else
                      "ok" if lp["enabled"] else "waiting")
    for mod in LIVEPATCHES:
        if mod in s.refcnt and mod not in s.livepatch:
            rows[mod] = "waiting" if s.refcnt[mod] == 0 else "forced"
    return rows


def worst(rows):
    return max(rows.values(), key=SEVERITY.index, default="ok")


def pending(j, s, name):
    """The threads of snapshot s not at the target of name's transition
    (enabled says the target once the transition started), zombies
    excused."""
    target = s.livepatch[name]["enabled"]
    zombies = {int(x) for x in j.read("snap", s.name, "zombies").split()}
    return {t.tid for t in s.tasks.values()
            if t.state not in (target, -1)} - zombies


def parse_text(out):
    """(head {key: value}, {name: {"status": s, key: value, "why": w}})."""
    lines = out.splitlines()
    if not lines or not lines[0].startswith("status "):
        raise ValueError("no status line: %r" % out)
    w = lines[0].split()
    head = dict(zip(w[0::2], w[1::2]))
    rows = {}
    for line in lines[1:]:
        main, _, why = line.partition("  why ")
        w = main.split()
        if len(w) < 2 or len(w) % 2:
            raise ValueError("bad row %r" % line)
        row = dict(zip(w[2::2], w[3::2]))
        row["status"] = w[1]
        row["why"] = why
        rows[w[0]] = row
    return head, rows


def check_rows(j, where, s, want, got):
    """got {name: {status, enabled, refcnt, direction}} against s."""
    j.check(set(got) == set(want), "%s: rows %s, the ground truth %s" %
            (where, sorted(got), sorted(want)))
    for name, status in want.items():
        g = got.get(name)
        if g is None:
            continue
        j.check(g["status"] == status, "%s: %s is %s, the ground truth %s" %
                (where, name, g["status"], status))
        lp = s.livepatch.get(name)
        j.check(int(g["enabled"]) == (lp["enabled"] if lp else 0),
                "%s: %s enabled %s, sysfs %s" % (where, name, g["enabled"],
                                                 lp and lp["enabled"]))
        j.check(str(g["refcnt"]) == str(s.refcnt.get(name)),
                "%s: %s refcnt %s, sysfs %s" % (where, name, g["refcnt"],
                                                s.refcnt.get(name)))
        direction = "-"
        if lp and lp["transition"]:
            direction = "patching" if lp["enabled"] else "unpatching"
        j.check(g["direction"] == direction, "%s: %s state %s, sysfs says %s"
                % (where, name, g["direction"], direction))


def check_text(j, run, s, want, mode):
    out = j.read(run + ".txt")
    try:
        head, rows = parse_text(out)
    except ValueError as e:
        j.fail("%s: %s" % (run, e))
        return
    status = worst(want)
    j.check(head.get("status") == status and
            head.get("exit") == str(EXIT[status]) and
            head.get("mode") == mode and
            head.get("patches") == str(len(want)),
            "%s: %r, the ground truth: status %s exit %d mode %s patches %d"
            % (run, out.splitlines()[0], status, EXIT[status], mode,
               len(want)))
    got = {n: {"status": r["status"], "enabled": r.get("enabled"),
               "refcnt": r.get("refcnt"), "direction": r.get("state")}
           for n, r in rows.items()}
    check_rows(j, run, s, want, got)
    for name, r in rows.items():
        j.check((r["why"] != "") == (r["status"] != "ok"),
                "%s: %s why %r" % (run, name, r["why"]))


def check_json(j, run, s, want, mode):
    out = j.read(run + ".txt")
    try:
        doc = json.loads(out)
    except ValueError as e:
        j.fail("%s: not one JSON document (%s): %r" % (run, e, out))
        return
    j.check(out.count("\n") == 1, "%s: not one line" % run)
    status = worst(want)
    j.check(doc["status"] == status and doc["exit"] == EXIT[status] and
            doc["mode"] == mode,
            "%s: status %s exit %s mode %s, the ground truth %s %d %s" %
            (run, doc["status"], doc["exit"], doc["mode"], status,
             EXIT[status], mode))
    pats = {p["name"]: p for p in doc["patches"]}
    got = {n: {"status": p["status"], "enabled": p["enabled"],
               "refcnt": p["module"]["refcnt"], "direction": p["direction"]}
           for n, p in pats.items()}
    check_rows(j, run, s, want, got)
    for name, p in pats.items():
        if name not in s.livepatch or not s.livepatch[name]["transition"]:
            continue
        tids = {b["pid"] for b in p["blockers"]}
        j.check(tids == pending(j, s, name) and
                p["blockers_total"] == len(tids),
                "%s: %s blockers %s (%s), procfs says %s" %
                (run, name, sorted(tids), p["blockers_total"],
                 sorted(pending(j, s, name))))


def rc(j, run, want):
    got = j.fact(run + "_rc")
    j.check(got == str(want), "klptop %s exited %s, not %s:\n%s%s" %
            (run, got, want, j.read(run + ".txt"), j.read(run + ".err")))


def main():
    j = Judge(sys.argv[1])
    times = []
    for name, plan in PLAN.items():
        before, after = checks.snap(j, name + "_before"), checks.snap(j, name)
        if before is None or after is None:
            continue
        want = truth(after)
        j.check(truth(before) == want, "%s: the state moved while klptop "
                "ran: %s, then %s" % (name, truth(before), want))
        j.check(want == plan, "%s: the scenario meant %s, the ground truth "
                "is %s" % (name, plan, want))
        for run, kind, mode in ((name, "text", "events"),
                                (name + "_json", "json", "events"),
                                (name + "_fb", "json", "fallback")):
            if name == "none_nokm":
                mode = "fallback"   # no klptrace.ko: the fallback alone
            rc(j, run, EXIT[worst(want)])
            j.check(j.read(run + ".err") == "", "%s wrote to stderr: %s" %
                    (run, j.read(run + ".err")))
            (check_text if kind == "text" else check_json)(j, run, after,
                                                           want, mode)
            times.append((int(j.fact(run + "_cs") or 0), run))
    for run, snapname, patch in SINGLE:
        s = checks.snap(j, snapname)
        if s is None:
            continue
        want = {patch: truth(s)[patch]}
        rc(j, run, EXIT[worst(want)])
        check_text(j, run, s, want, "events")
    rc(j, "unknown_p", 2)
    err = j.read("unknown_p.err")
    j.check(len(err.splitlines()) == 1 and
            "no livepatch named 'no_such_patch'" in err and
            j.read("unknown_p.txt") == "",
            "-p no_such_patch: stdout %r, stderr %r" %
            (j.read("unknown_p.txt"), err))
    # the ground truth of the removals and the force
    j.check(j.fact("rmmod_disabled_rc") == "0", "rmmod of the disabled %s "
            "failed" % LP)
    j.check(j.fact("rmmod_replaced_rc") == "0", "rmmod of the replaced %s "
            "failed" % LP)
    j.check(j.fact("rmmod_forced_rc") not in ("", "0"),
            "rmmod of the forced %s succeeded" % LP2)
    j.check("forcing remaining tasks" in j.read("dmesg.txt"),
            "dmesg lacks the kernel's force line")
    times.sort()
    if times:
        print("klptop --status wall time in the guest (TCG): median %.2f s, "
              "max %.2f s (%s), %d runs" %
              (times[len(times) // 2][0] / 100, times[-1][0] / 100,
               times[-1][1], len(times)))
    return j.done()


if __name__ == "__main__":
    sys.exit(main())
