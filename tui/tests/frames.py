#!/usr/bin/env python3
"""Read klptop's batch (-b) and JSON (--json) frames into one shape.

Used by the host tests (tui/tests/run.sh) and the VM judges
(tests/vm/judge/klptop.py): a frame is a dict

    {"patches": {name: {"enabled": bool, "direction": str,
                        "pass": int or None (unknown),
                        "signals": int or None (unknown),
                        "switched": int or None, "total": int or None,
                        "switched_at_least": int or None,
                        "refcnt": int or None, "verdict": str,
                        "why": str, "blockers_total": int or None,
                        "blockers": [{"pid", "tid", "comm", "kthread",
                                      "reason", "function", "checks",
                                      "checks_since_open"}],
                        "funcs": None (unknown) or [{"object", "func",
                                  "sympos", "live", "runs", "switching",
                                  "patched"}]}},
     "events": int, "lost": int, "mode": str,
     "source": "native", "klptrace.ko", "fallback" or None (a replay)}

PID is the process (the thread group) and TID the thread everywhere
(klptop --list-fields): the batch text's PID and TID columns, the JSON's
"tgid" and "tid" ("pid", the thread in klptop 0.1's JSON, is checked to
equal "tid").  Unknown ("?" in the text, null in
JSON) is None: also "forced" (True, False or None), a blocker's "kthread"
and its "checks".  A count the session saw only in part (">=N" in the
text; null and a *_at_least or *_since_open field in JSON) is None, its
lower bound in "switched_at_least" / "checks_since_open".
"""

import json
import os
import re

HEADER = re.compile(r"^klptop (\S+)\s+kernel (.*?)\s+mode (\S+)\s+source (\S+)"
                    r"\s+events (\d+)\s+lost (\d+)\s+tasks (\d+)(?:  end)?$")
PATCH = re.compile(r"^(\S+)\s+([01])\s+(\S+)\s+(\d+|\?)\s+(\S+)\s+(\S+)"
                   r"\s+(\d+|\?)\s+(yes|no|\?)\s+(\S+)\s+(\S+)$")
BLOCKERS = re.compile(r"^  blockers: (\d+|\?) of (\d+) tasks not switched")
FUNC = re.compile(r"^  func (\S+)/(\S+),(\d+) live (yes|no|\?) runs (\S+)"
                  r"( switching)?( \(not patched\))?$")
LIVE = {"yes": True, "no": False, "?": None}
ROW = re.compile(r"^    \s*(\d+)\s+(\d+) (.{16}) (K|-|\?)\s+(.{24}) (.{24})"
                 r"\s+(\S+)\s+(>=\d+|\d+|\?)$")
KTHREAD = {"K": True, "-": False, "?": None}
FORCED = {"yes": True, "no": False, "?": None}


def _int(s):
    """An integer of the text, or None for "?" (unknown) and ">=N"."""
    return None if s == "?" or s.startswith(">=") else int(s)


def _at_least(s):
    """The lower bound of ">=N" or N, None for "?"."""
    return None if s == "?" else int(s[2:] if s.startswith(">=") else s)
REASONS = {"not checked yet": "unchecked", "running": "running",
           "unreliable stack": "unreliable_stack",
           "sleeping in": "sleeping_in_func", "check failed": "other",
           "pending, cause not seen": "unknown"}


def parse_text(text):
    """Batch frames (blank-line separated) -> list of frames."""
    frames = []
    cur = None
    patch = None
    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            cur = {"patches": {}, "mode": m.group(3),
                   "source": None if m.group(4) == "unknown"
                   else m.group(4),
                   "events": int(m.group(5)), "lost": int(m.group(6))}
            frames.append(cur)
            patch = None
            continue
        if cur is None or not line.strip() or line.startswith("PATCH ") \
                or line.startswith("(no livepatch") \
                or line.lstrip().startswith("PID "):
            continue
        m = PATCH.match(line)
        if m:
            sw = m.group(6)
            switched = total = at_least = None
            if sw != "-":
                done, total = sw.split("/")
                switched, at_least, total = _int(done), _at_least(done), \
                    _int(total)
            patch = {"enabled": m.group(2) == "1", "direction": m.group(3),
                     "pass": _int(m.group(4)), "signals": _int(m.group(7)),
                     "elapsed": m.group(5), "switched": switched,
                     "switched_at_least": at_least,
                     "total": total, "forced": FORCED[m.group(8)],
                     "refcnt": None if m.group(9) in ("-", "?")
                     else int(m.group(9)),
                     "verdict": m.group(10), "why": "",
                     "blockers_total": None, "blockers": [], "funcs": []}
            cur["patches"][m.group(1)] = patch
            continue
        if line.startswith("  unload: ") and patch is not None:
            patch["why"] = line.split(": ", 2)[-1]
            continue
        if line == "  funcs: ?" and patch is not None:
            patch["funcs"] = None
            continue
        m = FUNC.match(line)
        if m and patch is not None:
            runs = m.group(5)
            patch["funcs"].append({
                "object": m.group(1), "func": m.group(2),
                "sympos": int(m.group(3)), "live": LIVE[m.group(4)],
                "runs": None if runs == "?" else "" if runs == "-" else runs,
                "switching": bool(m.group(6)),
                "patched": not m.group(7)})
            continue
        m = BLOCKERS.match(line)
        if m and patch is not None:
            patch["blockers_total"] = _int(m.group(1))
            continue
        m = ROW.match(line)
        if m and patch is not None:
            func = m.group(6).strip()
            patch["blockers"].append({
                "pid": int(m.group(1)), "tid": int(m.group(2)),
                "comm": m.group(3).rstrip(),
                "kthread": KTHREAD[m.group(4)],
                "reason": REASONS.get(_fresh(m.group(5).strip()), "?"),
                "function": "" if func == "-" else func,
                "checks": _int(m.group(8)),
                "checks_since_open": _at_least(m.group(8))})
            continue
        raise ValueError("unexpected klptop batch line: %r" % line)
    return frames


def _fresh(reason):
    """A reason without its "stale: " (the fallback's: as last seen)."""
    return reason[len("stale: "):] if reason.startswith("stale: ") \
        else reason


def _tid(b):
    """A JSON blocker's thread: "tid", which the old key "pid" repeats
    (klptop 0.1 had only "pid")."""
    if "tid" not in b:
        return b["pid"]
    if b["pid"] != b["tid"]:
        raise ValueError("JSON blocker pid %r is not its tid %r"
                         % (b["pid"], b["tid"]))
    return b["tid"]


def parse_json(text):
    """NDJSON frames -> list of frames (each line must be valid JSON)."""
    frames = []
    for line in text.splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        frame = {"patches": {}, "mode": obj["mode"],
                 "source": obj["source"], "events": obj["events"],
                 "lost": obj["lost"]}
        for p in obj["patches"]:
            frame["patches"][p["name"]] = {
                "enabled": p["enabled"], "direction": p["direction"],
                "pass": p["pass"], "signals": p["signals"],
                "elapsed": p["elapsed_s"],
                "switched": p["switched"] if p["transition"] else None,
                "switched_at_least": p.get("switched_at_least")
                if p["transition"] else None,
                "total": p["total"] if p["transition"] else None,
                "forced": p["forced"],
                "refcnt": p["module"]["refcnt"] if p["module"]["loaded"]
                else None,
                "verdict": p["verdict"], "why": p["why"],
                "blockers_total": p["blockers_total"]
                if p["transition"] else None,
                "blockers": [{"tid": _tid(b), "pid": b["tgid"],
                              "comm": b["comm"], "kthread": b["kthread"],
                              "reason": b["reason"], "function": b["function"],
                              "checks": b["checks"],
                              "checks_since_open": b.get("checks_since_open")}
                             for b in p["blockers"]],
                "funcs": None if p.get("funcs") is None else
                [{k: fn[k] for k in ("object", "func", "sympos", "live",
                                     "runs", "switching", "patched")}
                 for fn in p["funcs"]]}
        frames.append(frame)
    return frames


def parse(text):
    """Either format, told apart by the first character."""
    return parse_json(text) if text.lstrip().startswith("{") \
        else parse_text(text)


def capture_truth(cap):
    """The fixture's ground truth (lib/tests/fixtures/vm-capture): the
    sleeper's pid, the threads snap/blocked shows still unpatched
    (patch_state 0), and the function trace.txt names for each blocked
    thread: (sleeper, {tid}, {tid: function})."""
    sleeper = int(open(os.path.join(cap, "sleeper_pid")).read())
    unpatched = set()
    for line in open(os.path.join(cap, "snap/blocked/tasks")):
        tid, _tgid, state = line.split()[:3]
        if state == "0":
            unpatched.add(int(tid))
    funcs = {}
    for line in open(os.path.join(cap, "trace.txt")):
        m = re.search(r"klp_task_blocked: pid=(\d+) .* func=(\S*)", line)
        if m:
            funcs[int(m.group(1))] = m.group(2)
    return sleeper, unpatched, funcs
