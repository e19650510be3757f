#!/usr/bin/env python3
"""blocker_exit: the blockers of a patching transition leave, the last
by exiting unswitched (see guest.sh).

Ground truth: /proc (the cat's tid here and NSpid, patch_state), sysfs
transition, dmesg ("reverting patch ... on unloading module", "patching
complete"), the cat's output and exit status.  From 6.1's source:
klp_transition_work_fn() retries every second; a pass with no task left
to switch completes (klp_try_complete_transition()); a task gone from
the task list is no blocker.  The cat slept in the original handler, so
it reads "unpatched" unless the core's fake signal (klp_send_signals(),
every 15th pass) interrupted its read first: then it switched on its way
out, restarted the read in LP's handler and reads "multi".

Checked here: the events of the transition (passes with the sleeper
blocked after the cat left; after the rmmod a pass, then the completion,
which may come before klpt_target_sleep's module_free; after that free
no check of the sleeper but one finding it running through its exit),
and the watching
klptop's frames: the cat shown by its tid here (never its pid 1 there),
the sleeper the only blocker once the cat exited, and at the end no
transition and no blocker.  klptop.py and libmodel.py check the steps'
frames and dumps against the snapshots.
"""

import sys

from klptjudge import Judge, load_events

LP = "klpt_lp_multi"
S = "blocker_exit"


def lp_of(f):
    return next((p for p in f["patches"] if p["name"] == LP), None)


def main():
    j = Judge()
    ev = load_events(j.resultdir)
    cat, sleeper = int(j.fact("cat_pid") or 0), int(j.fact("sleeper_pid") or 0)
    ns = j.fact("cat_nspid").split()
    j.check(len(ns) == 3 and ns[1] == str(cat) and ns[2] == "1",
            "the cat is not pid 1 of a child PID namespace: %r" % ns)

    # its output: the original handler unless a fake signal came first
    release = ev.marker("%s: release the reader" % S)
    signaled = any(e.name == "klp_transition_signal" for e in ev[:release])
    want = "multi" if signaled else "unpatched"
    j.check(j.read("cat.out").strip() == want and j.fact("cat_rc") == "0",
            "the cat read %r (exit %s), want %r" %
            (j.read("cat.out").strip(), j.fact("cat_rc"), want))

    j.check(j.fact("sleeper_gone") == "yes", "klpt_sleeper outlived rmmod")
    j.check(j.fact("revert_ts") == "1", "%s 'reverting patch' lines for "
            "klpt_target_sleep, want 1" % j.fact("revert_ts"))
    j.check(j.fact("complete_lines") == "1", "%s 'patching complete' lines"
            % j.fact("complete_lines"))

    # the events after the rmmod: the pass that completes, its last
    # patch events.  6.1 delete_module() runs the module's exit (which
    # stops the sleeper, kthread_stop() waits for its exit) before it
    # frees the module, and the retry pass may run in between: the
    # completion may come before module_free, never a check of the
    # sleeper in its function after it ...
    gone = ev.between("%s: rmmod klpt_target_sleep" % S, "%s: completed" % S)
    done = [e for e in gone if e.get("patch") == LP and e.name in
            ("klp_transition_pass", "klp_transition_complete")]
    j.check([e.name for e in done][-2:] == ["klp_transition_pass",
                                            "klp_transition_complete"],
            "not a pass then the completion after the rmmod: %s"
            % [e.name for e in done])
    free = [e for e in gone if e.name == "module_free" and
            "klpt_target_sleep" in e.text]
    # (only while it runs its last steps: kthread_stop() returns once
    # the sleeper's do_exit() passed exit_mm() (mm_release() completes
    # the kthread's exited, its vfork_done), before exit_notify() takes
    # it off the task list, so a pass may still find it on its CPU then)
    if j.check(free, "no module_free of klpt_target_sleep after its rmmod"):
        after = gone[gone.index(free[0]):]
        j.check(not [e for e in after if e.name == "klp_task_blocked" and
                     e.get("pid") == sleeper and e.get("reason") != "running"],
                "klpt_sleeper checked after its module went (other than "
                "running in its exit)")
    tr = [e for e in ev.between("%s: enable" % S, "%s: teardown" % S)
          if e.get("patch") == LP and e.name == "klp_transition_complete"]
    j.check(len(tr) == 1, "%d completions of %s's enable" % (len(tr), LP))

    # the watching klptop
    fr = j.frames("life.json")
    j.check(j.fact("life_rc") == "130", "the watcher's exit %s, not 130 "
            "(SIGINT)" % j.fact("life_rc"))
    shown = [lp_of(f) for f in fr if lp_of(f)]
    tids = [sorted(b["tid"] for b in p["blockers"]) for p in shown if p["blockers"]]
    j.check(sorted([cat, sleeper]) in tids, "no frame with the cat (%d) and "
            "the sleeper (%d) blocking: %s" % (cat, sleeper, tids[:5]))
    j.check([sleeper] in tids, "no frame with the sleeper alone blocking")
    j.check(not [t for t in tids if 1 in t and cat != 1],
            "the cat shown by its pid in its own namespace")
    if j.check(shown, "life.json: no frame with %s" % LP):
        last = shown[-1]
        j.check(not last["transition"] and not last["blockers"] and
                not last["blockers_total"],
                "the last frame: transition %s, blockers %s" %
                (last["transition"], last["blockers"]))
        j.check(all(not p["blockers"] for p in shown
                    if not p["transition"]),
                "a frame out of transition with blockers")
    j.done()


if __name__ == "__main__":
    sys.exit(main())
