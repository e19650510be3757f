#!/usr/bin/env python3
"""libklptrace's model in the VM against the kernel's ground truth.

run.sh runs this after the scenario's own judge, for every scenario whose
results have lib/ (a klpt_watch ran, see guest/lib.sh watch_start):

    libmodel.py RESULTDIR KLPT_WATCH

KLPT_WATCH is the host build of lib/tests/vm/klpt_watch.c.  For each
RESULTDIR/lib/N/ (one klpt_watch, from load_klptrace to unload_klptrace
or the end of the scenario):

1. klpt_watch ran cleanly: events mode, nothing in watch.log, closed
   says "exit 0", no events lost, and the session delivered its events
   in timestamp order across the CPUs (events.log), except those the
   library itself reported late (late=1 in events.log, counted in
   model.txt's "late N"): the kernel shows an event only when its
   writer commits it, which a stalled writer does after events of other
   CPUs dated later were delivered (lib/src/pages.c).  A scenario that
   makes the ring buffer overflow on purpose creates lib/N/expect_lost;
   then, instead, events must have been lost (lost > 0 at the dump) and
   the session must have said so and resynced (a "lost" event in
   events.log, then a "resync"), all before the dump.
2. Its model at the dump (dump.txt, written on SIGUSR1) agrees with the
   snapshot taken right after it (snap/NAME, NAME in lib/N/snap); so
   does every intermediate dump lib.sh watch_dump took (dump.K.txt with
   the snapshot named in dump.K.snap):
   - patches: the same set (a patch whose kobject the model saw released
     may stay in the model until its module goes; its directory is gone),
     the same enabled and transition;
   - livepatch modules: every one the snapshot shows (a patch directory,
     or named by a klp event) is in the model, and every one in the model
     is loaded with the refcnt the snapshot reads;
   - the verdict is "ready" exactly when the module's patch directory is
     gone and its refcnt is 0 (a forced patch's module never gets there:
     the kernel keeps its reference, so "not forced" needs no event);
   - tasks: every thread of the snapshot has the model's state (a thread
     the model does not know is undefined, as klpt_task_state() of an
     unknown tid says), same tgid; every thread of the model exists.
   Before a transition's start (the model's patch in transition with
   the old enabled: the pre_patch/pre_unpatch window) a thread the model
   does not know, at the initial state !target, is excused: it was
   forked outside a transition (no event then) and no per-task event
   can name it before the start.
   What changed between the dump and the snapshot is excused, and only
   that: an object with an event of its own after the dump in
   events.log (a transition or free/release of the patch; a reference,
   load or free of the module; a switch or exit of the task).  Zombies
   (snap/NAME/zombies) have exited: the model has forgotten them.
3. The recording, replayed here through the library (klpt_watch
   --replay), ends in the model klpt_watch had when it exited
   (model.txt): the same patches, modules and tasks.  Tasks known to only
   one of them must be undefined there: the live session starts from a
   snapshot taken at open, the recording from one taken a moment later
   at klpt_session_record(), and a task born between the two outside any
   transition has no event that would tell either.  With expect_lost
   only the lost count must match: a recording holds the start-up
   snapshot, not the ones the live session resynced to, so its replay
   cannot know what the lost events changed.
"""

import os
import subprocess
import sys

from klptjudge import Judge, load_events, load_snap

STATE = {"undefined": -1, "unpatched": 0, "patched": 1}

# events.log names whose object changed: patches, modules, tasks.
PATCH_EVENTS = {"klp_transition_init", "klp_transition_start",
                "klp_transition_reverse", "klp_transition_complete",
                "klp_transition_cancel", "klp_transition_force",
                "klp_patch_free", "klp_patch_release"}
MODULE_EVENTS = {"klp_module_ref", "klp_module_unload_ready",
                 "klp_module_free", "module_load"}
# events.log names after which the model knows where a task walk began
ANCHOR_EVENTS = {"klp_transition_pass", "klp_transition_start",
                 "klp_transition_reverse", "klp_transition_init"}
# ... and after which no transition of that patch runs
ENDING_EVENTS = {"klp_transition_complete", "klp_transition_cancel"}
UNKNOWN = -2    # a state the model does not know (KLPT_STATE_UNKNOWN)
TASK_EVENTS = {"klp_task_switch", "sched_process_exit",
               "klp_task_fork_failed"}


class Model:
    """model.txt of klpt_watch (see lib/tests/vm/klpt_watch.c)."""

    def __init__(self, text, where):
        self.where = where
        self.mode = None
        self.lost = None
        self.late = None      # events the library delivered late
        self.patches = {}     # name: {enabled, transition, target, forced, released}
        self.modules = {}     # name: (refcnt, verdict)
        self.tasks = {}       # tid > 0: (tgid, state, comm)
        self.idle = {}        # comm (swapper/N): state
        lines = text.splitlines()
        if not lines or lines[0] != "klpt-model 1":
            raise ValueError("%s: not a klpt-model 1 file" % where)
        for line in lines[1:]:
            kind, _, rest = line.partition(" ")
            if kind == "mode":
                self.mode = rest
            elif kind == "lost":
                self.lost = int(rest)
            elif kind == "late":
                self.late = int(rest)
            elif kind == "patch":
                name, *kv = rest.split(" ")
                f = dict(x.split("=", 1) for x in kv)
                self.patches[name] = {
                    "enabled": int(f["enabled"]),
                    "transition": int(f["transition"]),
                    "target": f["target"], "forced": int(f["forced"]),
                    "released": int(f["released"])}
            elif kind == "module":
                name, *kv = rest.split(" ")
                f = dict(x.split("=", 1) for x in kv)
                self.modules[name] = (int(f["refcnt"]), f["verdict"])
            elif kind == "task":
                tid, tgid, state, comm = (rest.split(" ", 3) + [""])[:4]
                if int(tid) == 0:
                    self.idle[comm] = int(state)
                else:
                    self.tasks[int(tid)] = (int(tgid), int(state), comm)
            else:
                raise ValueError("%s: unknown line %r" % (where, line))

    def state(self, tid):
        """A task's state as the library answers it: undefined if unknown."""
        t = self.tasks.get(tid)
        return t[1] if t else -1


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def events_after_dump(path, dump=1):
    """The events klpt_watch logged after its dump number DUMP, as
    (name, fields) pairs; fields from key=val words (comm= runs to the
    end of the line)."""
    out = []
    seen = False
    for line in read(path).splitlines():
        if line.startswith("dump "):
            if seen:
                break
            seen = line == "dump %d" % dump
            continue
        if not seen:
            continue
        body, _, comm = line.partition(" comm=")
        words = body.split(" ")
        fields = dict(w.split("=", 1) for w in words[2:] if "=" in w)
        if comm:
            fields["comm"] = comm
        out.append((words[1] if len(words) > 1 else "", fields))
    return out


def lost_then_resync(path, dump):
    """(lost, resync): the first "lost" line of events.log before dump
    number DUMP, and the first "resync" line after it (None if none)."""
    lost = resync = None
    for line in read(path).splitlines():
        if line == "dump %d" % dump:
            break
        name = line.split(" ", 2)[1] if " " in line else ""
        if lost is None and name == "lost":
            lost = line
        elif lost is not None and name == "resync":
            resync = line
            break
    return lost, resync


def order_breaks(path):
    """Lines of events.log whose timestamp is older than one delivered
    before them: the session delivered them out of order.  A line the
    library itself reported late (late=1: the kernel showed its record
    only after newer ones were delivered) is not one; any other is, and
    so is a late=1 line that is not out of order (a false report)."""
    bad, newest, newest_line = [], None, None
    for line in read(path).splitlines():
        word = line.split(" ", 1)[0]
        if not word.isdigit():
            continue            # "dump N"
        ts = int(word)
        late = " late=1" in line.partition(" comm=")[0]
        older = newest is not None and ts < newest
        if older and not late:
            bad.append("%s  after  %s" % (line, newest_line))
        elif late and not older:
            bad.append("%s  is marked late but is not" % line)
        if not older:
            newest, newest_line = ts, line
    return bad


def anchor_before(events_log, truth):
    """Whether a transition was under way at the recording's snapshot
    (truth.txt's "ts N") with a pass, start, reverse or init of it in
    events.log dated before that: an event the live model counts passes
    from that the recording may lack (the session reads whole pages; its
    recording starts with the next ones).  A transition that completed
    or was cancelled before the snapshot does not count: the one after
    it starts inside the recording."""
    ts = None
    if not os.path.exists(truth):
        return False            # no recording: klpt_watch --replay says so
    for line in read(truth).splitlines():
        if line.startswith("ts "):
            ts = int(line[3:])
            break
    if ts is None:
        return False
    anchored = set()            # patches whose transition has an anchor
    for line in read(events_log).splitlines():
        words = line.split(" ")
        if len(words) < 2 or not words[0].isdigit():
            continue            # "dump N"
        if int(words[0]) >= ts:
            continue            # late lines may follow
        patch = next((w[6:] for w in words[2:] if w.startswith("patch=")),
                     "?")
        if words[1] in ANCHOR_EVENTS:
            anchored.add(patch)
        elif words[1] in ENDING_EVENTS:
            anchored.discard(patch)
    return bool(anchored)


def late_lines(path):
    """The lines of events.log the library reported late."""
    return [line for line in read(path).splitlines()
            if " late=1" in line.partition(" comm=")[0]]


def livepatch_names(ev, until):
    """Modules the klp events before index UNTIL name: livepatch modules."""
    names = set()
    for e in ev[:until]:
        if not e.name.startswith("klp_"):
            continue
        for key in ("patch", "module"):
            v = e.get(key)
            if v and v != "?":
                names.add(v)
    return names


def compare_dump(j, tag, model, snap, after, ev, until):
    """Section 2 of the module doc.  Returns a one-line summary."""
    moved_p = {f.get("patch") for n, f in after if n in PATCH_EVENTS}
    moved_m = {f.get("module") for n, f in after if n in MODULE_EVENTS}
    moved_t = {int(f["pid"]) for n, f in after
               if n in TASK_EVENTS and "pid" in f}
    excused = []

    # patches
    for name in sorted(set(model.patches) | set(snap.livepatch)):
        if name in moved_p:
            excused.append("patch " + name)
            continue
        m, s = model.patches.get(name), snap.livepatch.get(name)
        if s is None:
            j.check(m["released"] and not m["enabled"] and
                    not m["transition"],
                    "%s: expected patch %s, which the snapshot does not "
                    "have, to be released in the model, got %s"
                    % (tag, name, m))
            continue
        if not j.check(m is not None, "%s: expected patch %s of the "
                       "snapshot in the model, it is not there"
                       % (tag, name)):
            continue
        j.check((m["enabled"], m["transition"]) ==
                (s["enabled"], s["transition"]),
                "%s: expected patch %s enabled=%d transition=%d as the "
                "snapshot, the model has enabled=%d transition=%d"
                % (tag, name, s["enabled"], s["transition"], m["enabled"],
                   m["transition"]))
        j.check(not m["released"], "%s: expected patch %s not released "
                "(its directory is there), the model says released"
                % (tag, name))

    # livepatch modules and verdicts
    lp = (set(snap.livepatch) | livepatch_names(ev, until)) & set(snap.refcnt)
    for name in sorted(lp - set(model.modules)):
        if name in moved_m:
            excused.append("module " + name)
            continue
        j.fail("%s: expected livepatch module %s (loaded, refcnt %d) in "
               "the model, it is not there" % (tag, name, snap.refcnt[name]))
    for name, (refcnt, verdict) in sorted(model.modules.items()):
        if name in moved_m:
            excused.append("module " + name)
            continue
        if not j.check(name in snap.refcnt, "%s: expected module %s of "
                       "the model to be loaded, the snapshot has no such "
                       "module" % (tag, name)):
            continue
        j.check(refcnt == snap.refcnt[name], "%s: expected module %s "
                "refcnt %d as the snapshot, the model has %d"
                % (tag, name, snap.refcnt[name], refcnt))
        # Forced or not is the kernel's patch->forced, which neither the
        # model nor our events may vouch for here: a forced patch's
        # module keeps its reference for good (klp_free_patch_finish()),
        # so refcnt 0 with the directory gone already means not forced.
        ready = name not in snap.livepatch and snap.refcnt[name] == 0
        j.check((verdict == "ready") == ready,
                "%s: expected module %s %s (patch directory %s, refcnt %d"
                "), the model's verdict is %s"
                % (tag, name, "ready" if ready else "not ready",
                   "there" if name in snap.livepatch else "gone",
                   snap.refcnt[name], verdict))

    # tasks
    zombies = {int(x) for x in read(os.path.join(
        j.resultdir, "snap", snap.name, "zombies")).split()} \
        if os.path.exists(os.path.join(j.resultdir, "snap", snap.name,
                                       "zombies")) else set()
    # the initial state of a transition not started yet (module doc)
    initial = {0 if p["target"] == "patched" else 1
               for p in model.patches.values()
               if p["transition"] and p["target"] in ("patched", "unpatched")
               and p["enabled"] != (p["target"] == "patched")}
    bad = []
    unnamed = []
    for tid, t in sorted(snap.tasks.items()):
        if tid in zombies or tid in moved_t:
            continue
        m = model.tasks.get(tid)
        if m is None and t.state in initial:
            unnamed.append("task %d" % tid)
            continue
        if model.state(tid) != t.state or (m and m[0] != t.tgid):
            bad.append("tid %d (%s): snapshot tgid %d state %d, model %s"
                       % (tid, t.comm, t.tgid, t.state,
                          "tgid %d state %d" % m[:2] if m else
                          "unknown (undefined)"))
    for tid, (tgid, state, comm) in sorted(model.tasks.items()):
        if tid not in snap.tasks and tid not in zombies and \
                tid not in moved_t:
            bad.append("tid %d (%s, state %d) is in the model, not in the "
                       "snapshot (it exited unseen)" % (tid, comm, state))
    j.check(not bad, "%s: expected every task's state as in the snapshot, "
            "%d differ" % (tag, len(bad)), *bad[:20])
    excused += ["task %d" % t for t in sorted(moved_t & (
        set(snap.tasks) | set(model.tasks)))]
    return ("%d patches, %d livepatch modules, %d tasks (%d known to the "
            "model) agree%s" % (
                len(snap.livepatch), len(model.modules), len(snap.tasks),
                len(model.tasks),
                "; changed after the dump: " + ", ".join(excused)
                if excused else "") + (
                "; not named before the transition's start: " +
                ", ".join(unnamed) if unnamed else ""))


def compare_replay(j, tag, live, rep, live_anchor=False):
    """Section 3 of the module doc.  LIVE_ANCHOR: the live session saw
    a transition's pass or start before the recording began
    (anchor_before())."""
    j.check(rep.lost == live.lost, "%s: expected the replay to count %s "
            "lost events as the live session, got %s"
            % (tag, live.lost, rep.lost))
    j.check(rep.patches == live.patches, "%s: expected the replay's "
            "patches to be the live ones" % tag,
            "live:   %s" % live.patches, "replay: %s" % rep.patches)
    j.check(rep.modules == live.modules, "%s: expected the replay's "
            "modules to be the live ones" % tag,
            "live:   %s" % live.modules, "replay: %s" % rep.modules)
    # Known live, unknown (-2) in the replay: excused only when the live
    # session saw a pass (or the start) before the recording began.  An
    # idle task's switch is inferred at a pass from the one before it
    # (model.c apply_pass()); the recording may hold only the later one.
    idle = dict(rep.idle)
    if live_anchor:
        idle.update((c, s) for c, s in live.idle.items()
                    if idle.get(c) == UNKNOWN and s in (0, 1))
    j.check(idle == live.idle, "%s: expected the replay's idle tasks "
            "to be the live ones" % tag,
            "live:   %s" % live.idle, "replay: %s" % rep.idle)
    bad, gap = [], 0
    for tid in sorted(set(live.tasks) | set(rep.tasks)):
        a, b = live.tasks.get(tid), rep.tasks.get(tid)
        if a and b:
            if a[:2] != b[:2]:
                bad.append("tid %d: live tgid %d state %d, replay tgid %d "
                           "state %d" % (tid, a[0], a[1], b[0], b[1]))
        elif (a or b)[1] != -1:
            bad.append("tid %d (%s) only in the %s model, state %d"
                       % (tid, (a or b)[2], "live" if a else "replayed",
                          (a or b)[1]))
        else:
            gap += 1
    j.check(not bad, "%s: expected the replay to end in the live model's "
            "tasks, %d differ" % (tag, len(bad)), *bad[:20])
    return "replay equal%s" % (
        " (%d undefined task(s) known to one side only)" % gap if gap else "")


def check_watcher(j, d, watch_bin, ev):
    tag = "lib/%s" % os.path.basename(d)
    path = lambda *p: os.path.join(d, *p)
    log = read(path("watch.log")) if os.path.exists(path("watch.log")) else ""
    j.check(not log.strip(), "%s: expected nothing in watch.log" % tag,
            *log.strip().splitlines()[:5])
    ready = read(path("ready")) if os.path.exists(path("ready")) else ""
    if not j.check("mode events" in ready, "%s: expected a session in "
                   "events mode (ready), got %r" % (tag, ready)):
        return
    closed = read(path("closed")).strip() if os.path.exists(
        path("closed")) else "missing"
    j.check(closed == "exit 0", "%s: expected klpt_watch to exit 0 "
            "(closed), got %r" % (tag, closed))
    if not j.check(os.path.exists(path("dump.txt")) and
                   os.path.exists(path("snap")),
                   "%s: expected a dump and the name of its snapshot "
                   "(dump.txt, snap)" % tag):
        return
    expect_lost = os.path.exists(path("expect_lost"))
    bad = order_breaks(path("events.log"))
    j.check(not bad, "%s: expected the session's events in timestamp "
            "order, %d came after a later one (events.log)" % (tag, len(bad)),
            *bad[:5])
    # The intermediate dumps (watch_dump), then watch_stop's: its number
    # is in model.done (the last dump, at exit, writes none).
    dumps = []
    for name in os.listdir(d):
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "dump" and parts[1].isdigit() \
                and parts[2] == "snap":
            k = int(parts[1])
            dumps.append((k, "dump.%d.txt" % k, read(path(name)).strip()))
    dumps.sort()
    try:
        k_stop = int(read(path("model.done")).strip())
    except (OSError, ValueError):
        k_stop = len(dumps) + 1
    dumps.append((k_stop, "dump.txt", read(path("snap")).strip()))
    dump = None
    for k, fname, snap_name in dumps:
        try:
            dump = Model(read(path(fname)), "%s/%s" % (tag, fname))
            snap = load_snap(j.resultdir, snap_name)
        except (OSError, ValueError, KeyError) as e:
            j.fail("%s: %s" % (tag, e))
            dump = None
            continue
        if not expect_lost:
            j.check(dump.lost == 0, "%s/%s: expected no lost events at the "
                    "dump, %s" % (tag, fname, dump.lost))
        try:
            until = ev.marker("klpt_snap_end " + snap_name)
        except KeyError:
            until = len(ev)
        after = events_after_dump(path("events.log"), k)
        summary = compare_dump(j, "%s/%s vs snap %s" % (tag, fname, snap_name),
                               dump, snap, after, ev, until)
        print("%s/%s vs snap %s: %s" % (tag, fname, snap_name, summary))
    if expect_lost and dump is not None:
        j.check(dump.lost > 0, "%s: expected lost events at the dump "
                "(expect_lost), got %s" % (tag, dump.lost))
        lost, resync = lost_then_resync(path("events.log"), k_stop)
        if j.check(lost is not None, "%s: expected a lost event before the "
                   "dump in events.log (expect_lost), none" % tag):
            j.check(resync is not None, "%s: expected a resync after the "
                    "lost event before the dump, none" % tag, lost)
            print("%s: lost %d events as expected; %s, then %s"
                  % (tag, dump.lost, lost, resync))

    if not j.check(os.path.exists(path("model.txt")), "%s: no model.txt"
                   % tag):
        return
    live = Model(read(path("model.txt")), tag + "/model.txt")
    late = late_lines(path("events.log"))
    j.check(live.late is not None and len(late) <= live.late,
            "%s: expected the library's late count (model.txt: late %s) "
            "to cover the %d late=1 lines of events.log"
            % (tag, live.late, len(late)), *late[:5])
    if late:
        print("%s: %d events delivered late, as the library reported "
              "(late %s): %s" % (tag, len(late), live.late, late[0]))
    r = subprocess.run([watch_bin, "--replay", path("recording")],
                       capture_output=True, text=True, check=False)
    if not j.check(r.returncode == 0, "%s: expected klpt_watch --replay "
                   "to exit 0, got %d" % (tag, r.returncode),
                   *r.stderr.strip().splitlines()[:5]):
        return
    rep = Model(r.stdout, tag + " replay")
    if expect_lost:
        j.check(rep.lost == live.lost, "%s: expected the replay to count %s "
                "lost events as the live session, got %s"
                % (tag, live.lost, rep.lost))
        print("%s: replay lost %s as the live session (the rest is not "
              "compared: the recording has no resync snapshot)"
              % (tag, rep.lost))
        return
    anchor = anchor_before(path("events.log"),
                           path("recording", "truth.txt"))
    print("%s: %s" % (tag, compare_replay(j, tag, live, rep, anchor)))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: libmodel.py RESULTDIR KLPT_WATCH")
    j = Judge(sys.argv[1])
    watch_bin = sys.argv[2]
    lib = j.path("lib")
    dirs = sorted((os.path.join(lib, n) for n in os.listdir(lib)
                   if n.isdigit()), key=lambda p: int(os.path.basename(p))) \
        if os.path.isdir(lib) else []
    if j.check(dirs, "expected at least one klpt_watch in lib/") and \
            j.check(os.access(watch_bin, os.X_OK), "no klpt_watch at %s "
                    "(make -C lib)" % watch_bin):
        ev = load_events(j.resultdir)
        for d in dirs:
            check_watcher(j, d, watch_bin, ev)
    j.done()


if __name__ == "__main__":
    main()
