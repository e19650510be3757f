#!/usr/bin/env python3
"""module_coming: a livepatch's module objects coming and going.

What 6.1 does (kernel/livepatch/core.c, kernel/module/main.c), read from
the source, not from klptrace:

- klp_init_object() adds every object's directory, its module loaded or
  not; `patched` is obj->patched: 0 until klp_module_coming() patches the
  object (it prints "applying patch 'P' to loading module 'M'"), 0 again
  after klp_module_going() ("reverting patch 'P' on unloading module
  'M'"), which runs after the module's exit; neither starts a transition
  nor changes the patch's enabled or transition files.
- klp_enable_patch() takes a reference on the patch module: rmmod fails
  while the patch is enabled; after the disable completes and the patch
  is freed its refcnt is 0 and rmmod succeeds.
- a function of a module that comes during its patch's transition is in
  transition too (klp_init_transition() marks every object's functions):
  a task already switched runs the new function, an unswitched one the
  original (klp_ftrace_handler()).

Each step's snapshot before (NAME_pre) and after (klptop_NAME) its klptop
frames agree on the patches and modules; the patch page (--json and -b
--patch-details) lists LP's objects, loaded (its module in /sys/module)
and patched as sysfs says, and is what the kernel's rules above want.
"""

import sys

from klptjudge import Judge, load_events, load_snap

LP, TS, TR = "klpt_lp_multi", "klpt_target_sleep", "klpt_target_read"
S = "module_coming"

# step: (enabled, transition, {object: patched}) of LP, None if gone
WANT = {
    "absent": (1, 0, {TS: 0, TR: 0}),
    "came": (1, 0, {TS: 0, TR: 1}),
    "gone": (1, 0, {TS: 0, TR: 0}),
    "ts_came": (1, 0, {TS: 1, TR: 0}),
    "freed": None,
    "window": (1, 1, {TS: 1, TR: 1}),
    "window_gone": (1, 1, {TS: 1, TR: 0}),
    "released": (1, 0, {TS: 1, TR: 0}),
}

# LP's functions as (object, function, sympos), from
# tests/modules/klpt_lp_multi.c: one a module, old_sympos unset, which
# 6.1 klp_init_func() names "FUNC,1" in sysfs.
FUNCS = {(TS, "klpt_sleep_fn", 1), (TR, "klpt_read_proc_read", 1)}


def frame(j, name):
    """The one klptop --json frame of NAME, None (a failure) otherwise."""
    rc = j.fact(name[:-4] + "_rc")
    frames = j.frames(name)
    if j.check(len(frames) == 1 and rc == "0", "%s: %d frames, exit %s" %
               (name, len(frames), rc)):
        return frames[0]
    return None


def check_step(j, name, want):
    try:
        pre = load_snap(j.resultdir, name + "_pre")
        post = load_snap(j.resultdir, "klptop_" + name)
    except FileNotFoundError as e:
        j.fail("step %s: %s" % (name, e))
        return
    lp = pre.livepatch.get(LP)
    j.check(lp == post.livepatch.get(LP) and
            all(pre.refcnt.get(m) == post.refcnt.get(m) for m in (LP, TS, TR)),
            "%s: the state moved while klptop looked: %s / %s" %
            (name, lp, post.livepatch.get(LP)))
    if want is None:
        j.check(lp is None and pre.refcnt.get(LP) == 0,
                "%s: %s not freed with refcnt 0: %s, refcnt %s" %
                (name, LP, lp, pre.refcnt.get(LP)))
    elif j.check(lp, "%s: no %s directory" % (name, LP)):
        got = (lp["enabled"], lp["transition"], lp["objects"])
        j.check(got == want, "%s: sysfs %s, the kernel's rules want %s" %
                (name, got, want))
        j.check(lp["funcs"] == FUNCS, "%s: sysfs functions %s, %s.c has %s"
                % (name, sorted(lp["funcs"]), LP, sorted(FUNCS)))
    fr = frame(j, name + "_d.txt")
    text = j.read(name + "_db.txt")
    if fr is None:
        return
    pages = {p["name"]: p for p in fr["patches"]}
    p = pages.get(LP)
    if lp is None:
        # freed: only its module may still show, unload ready
        if p is not None:
            j.check(p["verdict"] == "ready", "%s: freed %s shows verdict %s"
                    % (name, LP, p["verdict"]))
        return
    if not j.check(p, "%s: %s not in the --patch-details frame" % (name, LP)):
        return
    # both files exist while the patch does: known, so bools (not null)
    got = (p.get("enabled"), p.get("transition"))
    j.check(got == (bool(lp["enabled"]), bool(lp["transition"])) and
            all(isinstance(v, bool) for v in got),
            "%s: page enabled %r transition %r, sysfs %s" %
            (name, got[0], got[1], lp))
    j.check(p["verdict"] != "ready", "%s: enabled %s shows ready" % (name, LP))
    funcs = {(f["object"], f["func"], f["sympos"]) for f in p["funcs"]}
    j.check(funcs == lp["funcs"], "%s: page functions %s, sysfs %s" %
            (name, sorted(funcs), sorted(lp["funcs"])))
    objs = {o["name"]: o for o in p["details"]["objects"] or []}
    j.check(set(objs) == set(lp["objects"]), "%s: objects %s, sysfs %s" %
            (name, sorted(objs), sorted(lp["objects"])))
    for o, patched in lp["objects"].items():
        got = objs.get(o)
        if not got:
            continue
        loaded = o in pre.refcnt
        j.check(got["patched"] == bool(patched) and got["loaded"] == loaded,
                "%s: object %s %s, sysfs patched %d, loaded %s" %
                (name, o, got, patched, loaded))
        nfuncs = len([f for f in lp["funcs"] if f[0] == o])
        j.check(got["funcs"] == nfuncs, "%s: object %s funcs %s, sysfs %d"
                % (name, o, got["funcs"], nfuncs))
        line = "    object %s loaded %s patched %s funcs %d\n" % (
            o, "yes" if loaded else "no", "yes" if patched else "no", nfuncs)
        j.check(line in text, "%s: -b lacks %r" % (name, line.strip()))
    # LP is the only patch: a function of a patched object has LP's
    # klp_func alone on its func_stack (klp_patch_func()), so LP's
    # version runs, switching while LP is in transition; an unpatched
    # object's function runs the original.
    for f in p["funcs"]:
        patched = bool(lp["objects"].get(f["object"]))
        want = ((LP if patched else ""), patched,
                patched and bool(lp["transition"]))
        got = (f["runs"], f["live"], f["switching"])
        j.check(got == want, "%s: %s runs/live/switching %s, want %s" %
                (name, f["func"], got, want))


def check_facts(j):
    def num(name):
        try:
            return int(j.fact(name))
        except ValueError:
            j.fail("fact %s missing: %r" % (name, j.fact(name)))
            return None

    j.check(num("rmmod_enabled_rc") not in (None, 0),
            "rmmod of the enabled %s succeeded" % LP)
    j.check((num("refcnt_enabled") or 0) >= 1,
            "enabled %s has refcnt %s" % (LP, j.fact("refcnt_enabled")))
    j.check(num("rmmod_freed_rc") == 0, "rmmod of the freed %s: %s" %
            (LP, j.fact("rmmod_freed_rc")))
    for fact, want in (("apply_tr_came", 1), ("revert_tr_gone", 1),
                       ("apply_ts_came", 1), ("apply_tr_window", 2),
                       ("revert_tr_window", 2), ("revert_ts", 0)):
        j.check(num(fact) == want, "dmesg: %s %s lines, want %d" %
                (fact, j.fact(fact), want))
    # the original klpt_sleep_fn never ran while LP's was live
    for fact in ("ts_in_func", "ts_impl", "ts_calls"):
        j.check(num(fact) == 0, "%s %s: the original ran" % (fact, j.fact(fact)))
    state, got = j.fact("shell_state"), j.fact("window_read")
    want = {"1": "multi", "0": "unpatched"}.get(state)
    j.check(got == want, "the shell (patch_state %s) read %r in the window, "
            "want %r" % (state, got, want))


def check_window_events(j):
    ev = load_events(j.resultdir)
    win = ev.between("%s: enable blocked" % S, "%s: release" % S)
    mine = [e for e in win if e.get("patch") == LP]
    j.check(not [e for e in mine if e.name == "klp_transition_complete"],
            "%s completed before the release" % LP)
    j.check(not [e for e in mine if e.name == "klp_transition_start"][1:],
            "a module coming or going started another transition")
    pid = int(j.fact("sleeper_pid") or 0)
    j.check([e for e in mine if e.name == "klp_task_blocked" and
             e.get("pid") == pid], "klpt_sleeper never blocked %s" % LP)
    after = ev.between("%s: release" % S, "%s: teardown" % S)
    j.check(len([e for e in after if e.name == "klp_transition_complete" and
                 e.get("patch") == LP]) == 1,
            "not one completion of %s after the release" % LP)


def main():
    j = Judge()
    check_facts(j)
    for name, want in WANT.items():
        check_step(j, name, want)
    check_window_events(j)
    j.done()


if __name__ == "__main__":
    sys.exit(main())
