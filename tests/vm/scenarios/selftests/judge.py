#!/usr/bin/env python3
"""Judge of the selftests scenario: the kernel's livepatch selftests, the
second time with klptrace.ko, klpt_watch and klptop recording.

guest.sh already failed the run if a selftest script did not exit 0.
Here, for the second run (between the dmesg lines "klpt-selftests:
klptrace begin" and "... end"):

1. Every transition line the kernel printed (kernel/livepatch of 6.1:
   transition.c "'P': initializing|starting|completing T transition",
   "'P': T complete", "'P': reversing transition from ...", "'P':
   canceling patching transition, going to unpatch"; core.c "failed to
   enable patch 'P'" and the "failed to ..." / "pre-patch callback
   failed" lines of the same enable) has its klp event in klpt_watch's
   events.log (lib/1/events.log: the library's stream), in the same
   order.  One kernel call may print two lines (klp_complete_transition:
   "completing" then "complete"; the error path of __klp_enable_patch:
   "failed to ..." then klp_cancel_transition's "canceling"): they are
   one event.  The lines are aligned with the events by a longest common
   subsequence: events without a line are fine (e.g. the
   klp_transition_start that follows a reverse), a line without its
   event is not, unless the library reported events lost (a LOST event
   in events.log) between the events matched before and after it: that
   is the only excuse (test-ftrace.sh turns ftrace_enabled off, which
   silences ftrace-based kprobes).  Failures of module-coming patching
   (klp_module_coming: "failed to apply patch ... to module ...") start
   no transition and have no event; they are listed only.
2. No klptop frame (selftests/klptop/frames.json, mono clock, as the
   library's event times) shows as enabled
   - a patch during an enable that failed: from its klp_transition_init
     to the next init of that patch (the kernel never set enabled), or
   - a removed patch: from its klp_transition_complete target=unpatched
     or klp_patch_free (replaced) plus STALE_S (a frame is built from the
     events read before it; klptop draws every 0.5 s) to its next init.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "judge"))
from klptjudge import Judge  # noqa: E402

STALE_S = 1.0
# printk's time of a line and its event's may differ, after the offset
# (the event fires as the function is entered, the line comes within
# it), by a vCPU stall under TCG: 0.51 s was seen.  The time only has to
# tell a call from the other calls with the same (kind, patch, target):
# each call may be off by half the gap to its nearest such twin, at
# most MAX_SLACK_NS and at least MIN_SLACK_NS.
MAX_SLACK_NS = 2 * 10**9
MIN_SLACK_NS = 100 * 10**6
KINDS = {"klp_transition_init": "init", "klp_transition_start": "start",
         "klp_transition_complete": "complete",
         "klp_transition_reverse": "reverse",
         "klp_transition_cancel": "cancel"}
TGT = {"patching": 1, "unpatching": 0}

RE_INIT = re.compile(r"livepatch: '([^']+)': initializing (patching|unpatching) transition$")
RE_START = re.compile(r"livepatch: '([^']+)': starting (patching|unpatching) transition$")
RE_COMPLETING = re.compile(r"livepatch: '([^']+)': completing (patching|unpatching) transition$")
RE_COMPLETE = re.compile(r"livepatch: '([^']+)': (patching|unpatching) complete$")
RE_REVERSE = re.compile(r"livepatch: '([^']+)': reversing transition from (patching|unpatching) to (patching|unpatching)$")
RE_CANCEL = re.compile(r"livepatch: '([^']+)': canceling patching transition, going to unpatch$")
RE_FAILED_ENABLE = re.compile(r"livepatch: failed to enable patch '([^']+)'$")
RE_FAILED_OTHER = re.compile(r"livepatch: (failed to (patch object|register ftrace handler|apply patch|initialize patch)|pre-patch callback failed for object|patch '[^']+' failed for module)")


class Call:
    """One call of the livepatch core that printed one or more lines."""

    def __init__(self, kind, patch, target, line, ts):
        self.kind, self.patch, self.target = kind, patch, target
        self.lines = [line]
        self.ts = ts           # printk time of the first line, ns
        self.event = None      # index into events

    def key(self):
        return (self.kind, self.patch, self.target)

    def __str__(self):
        return " | ".join(self.lines)


def dmesg_calls(text):
    """The kernel's transition calls of the klptrace run, in order, and
    the failure lines that belong to no transition."""
    lines = []
    inside = False
    for raw in text.splitlines():
        m = re.match(r"^\[ *([0-9]+)\.([0-9]+)\] (.*)$", raw)
        if not m:
            continue
        ts = int(m.group(1)) * 10**9 + int(m.group(2).ljust(9, "0")[:9])
        msg = m.group(3)
        if msg.endswith("klpt-selftests: klptrace begin"):
            inside = True
        elif msg.endswith("klpt-selftests: klptrace end"):
            inside = False
        elif inside:
            lines.append((ts, msg))
    calls, orphans = [], []
    open_enable = None   # patch whose enable is between init and start/cancel
    pending_fail = []    # failure lines of that enable, before its cancel
    pending_ts = 0
    for ts, msg in lines:
        m = RE_INIT.search(msg)
        if m:
            c = Call("init", m.group(1), TGT[m.group(2)], msg, ts)
            calls.append(c)
            open_enable = m.group(1) if c.target == 1 else None
            pending_fail = []
            continue
        m = RE_START.search(msg)
        if m:
            calls.append(Call("start", m.group(1), TGT[m.group(2)], msg, ts))
            open_enable = None
            continue
        m = RE_COMPLETING.search(msg)
        if m:
            calls.append(Call("complete", m.group(1), TGT[m.group(2)], msg, ts))
            continue
        m = RE_COMPLETE.search(msg)
        if m:
            last = calls[-1] if calls else None
            if (last and last.key() == ("complete", m.group(1), TGT[m.group(2)])
                    and len(last.lines) == 1 and "completing" in last.lines[0]):
                last.lines.append(msg)
            else:
                calls.append(Call("complete", m.group(1), TGT[m.group(2)], msg, ts))
            continue
        m = RE_REVERSE.search(msg)
        if m:
            calls.append(Call("reverse", m.group(1), TGT[m.group(3)], msg, ts))
            continue
        m = RE_CANCEL.search(msg)
        if m:
            c = Call("cancel", m.group(1), 1, msg, ts)
            c.lines[:0] = pending_fail
            if pending_fail:
                c.ts = pending_ts
            calls.append(c)
            open_enable, pending_fail = None, []
            continue
        m = RE_FAILED_ENABLE.search(msg)
        if (m or RE_FAILED_OTHER.search(msg)) and open_enable and not pending_fail:
            pending_ts = ts
        if m and open_enable == m.group(1):
            pending_fail.append(msg)
            # without dynamic debug no "canceling" line follows: the
            # call is known from this one
            calls.append(Call("cancel", m.group(1), 1, msg, ts))
            calls[-1].lines = list(pending_fail)
            calls[-1].ts = pending_ts
            calls[-1].provisional = True
            continue
        if m or RE_FAILED_OTHER.search(msg):
            if open_enable is not None:
                pending_fail.append(msg)
            else:
                orphans.append(msg)
    # a "canceling" line after "failed to enable patch" is the same call
    out = []
    for c in calls:
        if (c.kind == "cancel" and out and out[-1].kind == "cancel"
                and getattr(out[-1], "provisional", False)
                and out[-1].patch == c.patch):
            out[-1].lines = c.lines
            out[-1].provisional = False
            out[-1].ts = min(out[-1].ts, c.ts)
            continue
        out.append(c)
    return out, orphans


def load_events(path):
    """events.log: [(ts_ns, name, fields)] in order."""
    evs = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2 or not parts[0].isdigit():
                continue
            fields = {}
            for p in parts[2:]:
                if "=" in p:
                    k, v = p.split("=", 1)
                    fields.setdefault(k, v)
            evs.append((int(parts[0]), parts[1], fields))
    return evs


def align(calls, evs):
    """Align the calls with the transition events: a longest common
    subsequence by (kind, patch, target), then again with the times
    agreeing too (without the times, a call whose event was lost could
    take the event of the next attempt with the same keys).  printk's
    clock and the events' (mono) differ by
    an offset: the median over the first pass's pairs."""
    lcs(calls, evs, None)
    pairs = sorted((c.ts, evs[c.event][0] - c.ts) for c in calls
                   if c.event is not None)
    if not pairs:
        return None
    offs = sorted(o for _, o in pairs)
    # The two clocks also drift apart under TCG (printk's sched_clock
    # against CLOCK_MONOTONIC: 0.5 s over a 5-minute run was seen), so
    # each call gets the median offset of the LOCAL_PAIRS first-pass
    # pairs nearest to it in time, not one offset for the whole run.
    local = [local_offset(pairs, c.ts) for c in calls]
    for c in calls:
        c.event = None
    lcs(calls, evs, local, slacks(calls))
    return offs[len(offs) // 2], offs[0], offs[-1]


LOCAL_PAIRS = 9


def slacks(calls):
    """Per call: half the time to its nearest twin (same key), bounded."""
    out = []
    for c in calls:
        gap = min((abs(d.ts - c.ts) for d in calls
                   if d is not c and d.key() == c.key()), default=None)
        s = MAX_SLACK_NS if gap is None else min(MAX_SLACK_NS, gap // 2)
        out.append(max(MIN_SLACK_NS, s))
    return out


def local_offset(pairs, ts):
    near = sorted(pairs, key=lambda p: abs(p[0] - ts))[:LOCAL_PAIRS]
    o = sorted(x for _, x in near)
    return o[len(o) // 2]


def lcs(calls, evs, off, slack=None):
    idx = [i for i, e in enumerate(evs) if e[1] in KINDS]
    keys = [(KINDS[evs[i][1]], evs[i][2].get("patch"), int(evs[i][2].get("target", -9)))
            for i in idx]
    n, m = len(calls), len(idx)

    def same(i, j):
        if calls[i].key() != keys[j]:
            return False
        return off is None or abs(evs[idx[j]][0] - calls[i].ts - off[i]) <= slack[i]
    # dp[i][j]: LCS of calls[i:] and keys[j:]
    dp = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, nxt = dp[i], dp[i + 1]
        for j in range(m - 1, -1, -1):
            if same(i, j):
                row[j] = nxt[j + 1] + 1
            else:
                row[j] = max(nxt[j], row[j + 1])
    i = j = 0
    while i < n and j < m:
        if same(i, j) and dp[i][j] == dp[i + 1][j + 1] + 1:
            calls[i].event = idx[j]
            i += 1
            j += 1
        elif dp[i + 1][j] >= dp[i][j + 1]:
            i += 1
        else:
            j += 1


def check_calls(j, calls, evs):
    lost_at = [i for i, e in enumerate(evs) if e[1] == "LOST" or e[1].endswith("lost")]
    missing, excused = [], []
    for k, c in enumerate(calls):
        if c.event is not None:
            continue
        before = max([x.event for x in calls[:k] if x.event is not None], default=-1)
        after = min([x.event for x in calls[k + 1:] if x.event is not None],
                    default=len(evs))
        if any(before < i <= after for i in lost_at):
            excused.append(c)
        else:
            missing.append(c)
    for c in excused:
        print("excused (events reported lost around it): %s" % c)
    j.check(not missing,
            "%d of %d kernel transition calls have no klp event in order in "
            "lib/1/events.log (and no LOST reported around them)"
            % (len(missing), len(calls)), *[str(c) for c in missing[:20]])
    print("%d kernel transition calls, %d matched, %d excused by LOST"
          % (len(calls), sum(c.event is not None for c in calls), len(excused)))


def forbidden_windows(calls, evs):
    """[(patch, t0, t1, why)]: times at which a frame must not show patch
    enabled."""
    inits = {}
    for i, e in enumerate(evs):
        if e[1] == "klp_transition_init":
            inits.setdefault(e[2].get("patch"), []).append(e[0])

    def next_init(patch, t):
        return min([x for x in inits.get(patch, []) if x > t], default=float("inf"))

    wins = []
    last_init = {}
    for c in calls:
        if c.event is None:
            continue
        ts = evs[c.event][0]
        if c.kind == "init":
            last_init[c.patch] = ts
        elif c.kind == "cancel" and c.patch in last_init:
            t0 = last_init[c.patch]
            wins.append((c.patch, t0, next_init(c.patch, t0), "failed enable (%s)" % c))
        elif c.kind == "complete" and c.target == 0:
            t0 = ts + int(STALE_S * 1e9)
            wins.append((c.patch, t0, next_init(c.patch, ts), "removed (%s)" % c))
    for e in evs:
        if e[1] == "klp_patch_free":
            p = e[2].get("patch")
            wins.append((p, e[0] + int(STALE_S * 1e9), next_init(p, e[0]),
                         "removed (klp_patch_free at %d)" % e[0]))
    return wins


def check_frames(j, wins):
    path = j.path("selftests", "klptop", "frames.json")
    if not j.check(os.path.exists(path), "no klptop frames (selftests/klptop/frames.json)"):
        return
    bad = []
    nframes = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                fr = json.loads(line)
            except ValueError:
                j.fail("frames.json line %d is not JSON" % n, line[:200])
                continue
            nframes += 1
            t = fr.get("ts_ns", 0)
            for p in fr.get("patches", []):
                if not p.get("enabled"):
                    continue
                for (wp, t0, t1, why) in wins:
                    if wp == p.get("name") and t0 <= t < t1:
                        bad.append("frame %d (ts %d): %s enabled, but %s"
                                   % (n, t, wp, why))
                        break
    j.check(nframes > 0, "klptop wrote no frame")
    j.check(not bad, "%d klptop frames show a failed or removed patch enabled"
            % len(bad), *bad[:20])
    print("%d klptop frames checked against %d windows" % (nframes, len(wins)))


def main():
    j = Judge()
    for run in ("plain", "klptrace"):
        d = j.path("selftests", run)
        st = sorted(x for x in os.listdir(d) if x.endswith(".status")) if os.path.isdir(d) else []
        j.check(len(st) >= 6, "run %s: %d selftest scripts ran, expected 6" % (run, len(st)))
        for s in st:
            j.check(j.read("selftests", run, s).strip() == "0",
                    "run %s: %s exited %s" % (run, s[:-7], j.read("selftests", run, s).strip()))
    dmesg = j.read("dmesg.txt")
    j.check("klpt-selftests: klptrace end" in dmesg,
            "dmesg has no end of the klptrace run (klpt-selftests: klptrace end)")
    calls, orphans = dmesg_calls(dmesg)
    for o in orphans:
        print("no transition (module coming): %s" % o)
    j.check(calls, "no kernel transition lines in the klptrace run")
    evpath = j.path("lib", "1", "events.log")
    if not j.check(os.path.exists(evpath), "no lib/1/events.log (klpt_watch)"):
        j.done()
    evs = load_events(evpath)
    o = align(calls, evs)
    if o:
        print("event time - printk time: median %.6f s (%.6f .. %.6f)"
              % (o[0] / 1e9, o[1] / 1e9, o[2] / 1e9))
    check_calls(j, calls, evs)
    check_frames(j, forbidden_windows(calls, evs))
    j.done()


if __name__ == "__main__":
    main()
