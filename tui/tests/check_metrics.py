#!/usr/bin/env python3
"""klptop's --openmetrics expositions of the fixture recording against
what the VM saw (the ground truth of check_replay.py).

    check_metrics.py CAPTURE_DIR FRAME.prom...

The files are the expositions of frames 1, 2, ... of one replay, in
order.  Checks:

- every sample belongs to a family announced by # HELP and # TYPE just
  before its samples, and each family is announced once;
- some frame shows klpt_lp_sleep patching with a pass seen: its
  klp_blocked_tasks count exactly the threads snap/blocked shows still
  unpatched (patch_state 0), all with reason sleeping; klp_blocker_info
  names those threads with the function trace.txt names for them;
- in every frame of a transition, switched + blocked = tasks;
- every module's verdict is one-hot, and unload_ready is 1 exactly when
  the verdict is ready; a ready module has refcount 0 (the last put of
  trace.txt came before) and no patch series left;
- the last frame matches snap/end: no livepatch and no livepatch module
  left (the rmmod'ed module's series are gone).
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frames as fr  # noqa: E402

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n"
                  else m.group(1), v)


def parse(text):
    """Exposition -> list of (name, {label: value}, float); raises on
    a sample outside its family's header."""
    out, announced, cur = [], set(), None
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("# HELP "):
            name = line.split()[2]
            if name in announced:
                raise ValueError("family %s announced twice" % name)
            announced.add(name)
            cur = name
            continue
        if line.startswith("# TYPE "):
            if line.split()[2] != cur:
                raise ValueError("TYPE without its HELP: %r" % line)
            continue
        if line.startswith("#"):
            raise ValueError("stray comment %r" % line)
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("not a sample: %r" % line)
        if m.group(1) != cur:
            raise ValueError("sample of %s under %s" % (m.group(1), cur))
        labels = {}
        rest = m.group(3) or ""
        while rest:
            lm = LABEL.match(rest)
            if not lm:
                raise ValueError("bad labels %r" % m.group(3))
            labels[lm.group(1)] = unescape(lm.group(2))
            rest = rest[lm.end():]
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def get(samples, name, **labels):
    return [v for n, lab, v in samples if n == name and
            all(lab.get(k) == x for k, x in labels.items())]


def main():
    cap, files = sys.argv[1], sys.argv[2:]
    errors = []
    frames = []
    for path in files:
        try:
            frames.append(parse(open(path, encoding="utf-8").read()))
        except ValueError as e:
            errors.append("%s: %s" % (path, e))
    if len(frames) < 3:
        errors.append("only %d frames" % len(frames))
    _sleeper, unpatched, funcs = fr.capture_truth(cap)

    lp = "klpt_lp_sleep"
    blocked = [f for f in frames
               if get(f, "klp_patch_transition", patch=lp,
                      direction="patching") == [1.0]
               and get(f, "klp_patch_transition_pass", patch=lp)
               and get(f, "klp_patch_transition_pass", patch=lp)[0] >= 1]
    if not blocked:
        errors.append("no frame shows the blocked patching transition")
    for f in blocked:
        total = sum(get(f, "klp_blocked_tasks", patch=lp))
        sleeping = get(f, "klp_blocked_tasks", patch=lp, reason="sleeping")
        if total != len(unpatched) or sleeping != [len(unpatched)]:
            errors.append("blocked %r (sleeping %r), snap/blocked unpatched "
                          "%s" % (total, sleeping, sorted(unpatched)))
        info = [lab for n, lab, v in f if n == "klp_blocker_info"]
        got = {int(lab["pid"]) for lab in info}
        if got != set(sorted(unpatched)[:5]) and len(unpatched) <= 5:
            errors.append("blocker_info pids %s, unpatched %s" %
                          (sorted(got), sorted(unpatched)))
        for lab in info:
            if lab["function"] != funcs.get(int(lab["pid"]), ""):
                errors.append("blocker %s function %r, trace.txt %r" % (
                    lab["pid"], lab["function"],
                    funcs.get(int(lab["pid"]))))
        if get(f, "klp_patch_enabled", patch=lp) != [1.0] or \
                get(f, "klp_module_unload_verdict", module=lp,
                    verdict="enabled") != [1.0]:
            errors.append("blocked frame: not enabled / verdict enabled")
    for i, f in enumerate(frames):
        for n, lab, v in f:
            if n != "klp_patch_transition_tasks":
                continue
            p = lab["patch"]
            sw = get(f, "klp_patch_transition_switched_tasks", patch=p)
            bl = get(f, "klp_blocked_tasks", patch=p)
            if sw and bl and sw[0] + sum(bl) != v:
                errors.append("frame %d %s: %d switched + %d blocked != %d"
                              % (i + 1, p, sw[0], sum(bl), v))
        mods = {lab["module"] for n, lab, v in f
                if n == "klp_module_unload_verdict"}
        for mod in mods:
            hot = [lab["verdict"] for n, lab, v in f
                   if n == "klp_module_unload_verdict" and
                   lab["module"] == mod and v == 1]
            ready = get(f, "klp_module_unload_ready", module=mod)
            if len(hot) != 1:
                errors.append("frame %d %s: verdict not one-hot: %s" %
                              (i + 1, mod, hot))
            elif ready and ready != [1.0 if hot == ["ready"] else 0.0]:
                errors.append("frame %d %s: unload_ready %r, verdict %s" %
                              (i + 1, mod, ready, hot))
            if hot == ["ready"]:
                if get(f, "klp_module_refcount", module=mod) != [0.0]:
                    errors.append("frame %d %s: ready with refcount %r" % (
                        i + 1, mod, get(f, "klp_module_refcount",
                                        module=mod)))
                if get(f, "klp_patch_enabled", patch=mod):
                    errors.append("frame %d %s: ready, patch series left"
                                  % (i + 1, mod))
    live = [line.split()[0] for line in
            open(os.path.join(cap, "snap/end/livepatch"))
            if "/" not in line.split()[0]]
    if frames:
        last = frames[-1]
        patches = sorted({lab["patch"] for n, lab, v in last
                          if n.startswith("klp_patch_")})
        mods = sorted({lab["module"] for n, lab, v in last
                       if n.startswith("klp_module_")})
        if patches != sorted(live) or mods:
            errors.append("last frame: patches %s, modules %s; snap/end "
                          "livepatches %s, no livepatch module" %
                          (patches, mods, live))
    for e in errors:
        print("check_metrics: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
