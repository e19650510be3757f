#!/usr/bin/env python3
"""ksym_lookup: no call of kallsyms_lookup_name from klptrace.ko's code;
every kernel global klptrace.ko reads was found."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from klptjudge import Judge  # noqa: E402

SYMBOLS = ("klp_transition_patch", "klp_target_state", "klp_signals_cnt",
           "klp_patches", "ftrace_enabled", "last_ftrace_enabled",
           "kprobes_all_disarmed", "klp_mutex")


def calls(text):
    """[stack frames] of each klpt_kln event in a trace with stacktrace."""
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if " klpt_kln: " in line:
            out.append([])
        elif line.strip().startswith("=> ") and out:
            out[-1].append(line.strip()[3:])
    return out


def caller(frames):
    """The first frame that is not kallsyms_lookup_name itself."""
    for f in frames:
        if not f.startswith("kallsyms_lookup_name"):
            return f
    return None


j = Judge()
kind = dict(line.split() for line in j.read("frames").splitlines())
stacks = calls(j.read("kln_trace"))
j.check(any(any(kind.get(f.split("+")[0]) == "other" for f in s)
            for s in stacks),
        "no call of kallsyms_lookup_name from a module's load was "
        "recorded (nothing tested)", j.read("kln_trace")[-2000:])
for s in stacks:
    c = caller(s)
    c = c.split("+")[0] if c else None
    j.check(kind.get(c) == "kernel",
            "kallsyms_lookup_name called from %s, not from the kernel "
            "image: an indirect call from a module, a #CP with IBT" % c, *s)
hooks = {}
for line in j.read("hooks").splitlines():
    f = line.split()
    if len(f) >= 3 and f[1] == "symbol":
        hooks[f[0]] = f[2]
for sym in SYMBOLS:
    j.check(hooks.get(sym) == "active", "symbol %s: %s" %
            (sym, hooks.get(sym, "not in the hooks report")))
j.done()
