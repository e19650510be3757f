"""Unit tests of libmodel (libklptrace's model against the ground truth),
no VM and no klpt_watch needed.

    python3 -m unittest discover -s tests/vm/judge      (from the repo root)
"""

import contextlib
import io
import os
import shutil
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import libmodel  # noqa: E402
from klptjudge import Judge, load_events, load_snap  # noqa: E402

# A forced patch (module stays, refcnt 1), a disabled one whose module
# can go, an enabled one; init, a sleeper, a shell; one zombie.
SNAP = {
    "tasks": """\
        1 1 -1 0 init
        50 50 -1 1 klpt_sleeper
        60 60 -1 0 sh
        61 61 -1 0 defunct
        """,
    "zombies": "61\n",
    "livepatch": """\
        lp_on 1 0
        lp_on/vmlinux 1
        """,
    "modules": """\
        lp_on 1
        lp_forced 1
        lp_gone 0
        other 3
        """,
}

DUMP = textwrap.dedent("""\
    klpt-model 1
    mode events
    lost 0
    late 0
    patch lp_forced enabled=0 transition=0 target=undefined forced=1 released=1
    patch lp_gone enabled=0 transition=0 target=undefined forced=0 released=1
    patch lp_on enabled=1 transition=0 target=undefined forced=0 released=0
    module lp_forced refcnt=1 verdict=forced
    module lp_gone refcnt=0 verdict=ready
    module lp_on refcnt=1 verdict=enabled
    task 0 0 -1 swapper/0
    task 1 1 -1 init
    task 50 50 -1 klpt_sleeper
    task 60 60 -1 sh
    """)

TRACE = """\
              sh-60      [000] .....     1.000000: klp_transition_force: patch=lp_forced target=unpatched
              sh-60      [000] .....     2.000000: tracing_mark_write: klpt_snap_begin final
              sh-60      [000] .....     2.100000: tracing_mark_write: klpt_snap_end final
    """


class Dump(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        d = os.path.join(self.dir, "snap", "final")
        os.makedirs(d)
        for name, text in SNAP.items():
            self.put(os.path.join(d, name), text)
        self.put(os.path.join(self.dir, "events.txt"), TRACE)

    def tearDown(self):
        self.tmp.cleanup()

    @staticmethod
    def put(path, text):
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text))

    def run_dump(self, dump=DUMP, after=()):
        """compare_dump's failures for DUMP with AFTER (events.log lines
        after the dump)."""
        j = Judge(self.dir)
        ev = load_events(self.dir)
        model = libmodel.Model(dump, "dump")
        log = os.path.join(self.dir, "events.log")
        self.put(log, "dump 1\n" + "".join(x + "\n" for x in after)
                 + "dump 2\n")
        libmodel.compare_dump(j, "t", model, load_snap(self.dir, "final"),
                              libmodel.events_after_dump(log), ev,
                              ev.marker("klpt_snap_end final"))
        return j.failures

    def test_agrees(self):
        self.assertEqual(self.run_dump(), [])

    def test_task_state(self):
        f = self.run_dump(DUMP.replace("task 60 60 -1", "task 60 60 1"))
        self.assertEqual(len(f), 1)
        self.assertIn("tid 60 (sh): snapshot tgid 60 state -1, model tgid "
                      "60 state 1", f[0])

    def test_stale_task(self):
        f = self.run_dump(DUMP + "task 70 70 0 cat\n")
        self.assertEqual(len(f), 1)
        self.assertIn("tid 70 (cat, state 0) is in the model", f[0])
        # unless it exited after the dump
        self.assertEqual(self.run_dump(
            DUMP + "task 70 70 0 cat\n",
            ["123 sched_process_exit pid=70 comm=cat"]), [])

    def test_unknown_task_is_undefined(self):
        # sh unknown to the model: undefined, as the snapshot says
        self.assertEqual(self.run_dump(DUMP.replace("task 60 60 -1 sh\n", "")), [])

    def test_verdicts(self):
        f = self.run_dump(DUMP.replace("lp_forced refcnt=1 verdict=forced",
                                       "lp_forced refcnt=1 verdict=ready"))
        self.assertEqual(len(f), 1)
        self.assertIn("expected module lp_forced not ready", f[0])
        f = self.run_dump(DUMP.replace("lp_gone refcnt=0 verdict=ready",
                                       "lp_gone refcnt=0 verdict=refs"))
        self.assertEqual(len(f), 1)
        self.assertIn("expected module lp_gone ready", f[0])

    def test_forced_from_the_trace_alone(self):
        f = self.run_dump(DUMP.replace("forced=1", "forced=0").replace(
            "lp_forced refcnt=1 verdict=forced",
            "lp_forced refcnt=0 verdict=ready"))
        self.assertTrue(any("lp_forced not ready" in x for x in f), f)

    def test_refcnt_and_missing_module(self):
        f = self.run_dump(DUMP.replace("lp_on refcnt=1", "lp_on refcnt=2"))
        self.assertEqual(len(f), 1)
        self.assertIn("lp_on refcnt 1 as the snapshot, the model has 2", f[0])
        f = self.run_dump(DUMP.replace(
            "module lp_on refcnt=1 verdict=enabled\n", ""))
        self.assertEqual(len(f), 1)
        self.assertIn("livepatch module lp_on (loaded, refcnt 1)", f[0])
        # changed after the dump: excused
        self.assertEqual(self.run_dump(
            DUMP.replace("lp_on refcnt=1", "lp_on refcnt=2"),
            ["9 klp_module_ref module=lp_on get=0 refcnt=1"]), [])

    def test_patches(self):
        f = self.run_dump(DUMP.replace("lp_on enabled=1 transition=0",
                                       "lp_on enabled=1 transition=1"))
        self.assertEqual(len(f), 1)
        self.assertIn("patch lp_on enabled=1 transition=0", f[0])
        f = self.run_dump(DUMP.replace("lp_gone enabled=0 transition=0 "
                                       "target=undefined forced=0 released=1",
                                       "lp_gone enabled=0 transition=0 "
                                       "target=undefined forced=0 released=0"))
        self.assertEqual(len(f), 1)
        self.assertIn("patch lp_gone, which the snapshot does not have", f[0])


class Watcher(unittest.TestCase):
    """check_watcher over a whole lib/1: intermediate dumps (watch_dump)
    and the expect_lost knob."""

    put = staticmethod(Dump.put)
    tearDown = Dump.tearDown

    def setUp(self):
        Dump.setUp(self)
        self.lib = os.path.join(self.dir, "lib", "1")
        os.makedirs(self.lib)
        shutil.copytree(os.path.join(self.dir, "snap", "final"),
                        os.path.join(self.dir, "snap", "mid"))
        # A stand-in for klpt_watch --replay: prints replay.txt.
        self.bin = os.path.join(self.dir, "replay.sh")
        self.put(self.bin, "#!/bin/sh\ncat %s\n"
                 % os.path.join(self.dir, "replay.txt"))
        os.chmod(self.bin, 0o755)

    def run_watcher(self, mid=DUMP, final=DUMP, lost=None, expect_lost=False):
        """check_watcher's failures: dump 1 = MID (snap mid), dump 3 =
        FINAL (snap final, watch_stop's), LOST: events.log lines before
        dump 1."""
        files = {"ready": "pid 1\nmode events\n", "closed": "exit 0\n",
                 "watch.log": "", "dump.1.txt": mid, "dump.1.snap": "mid\n",
                 "dump.txt": final, "model.txt": final, "snap": "final\n",
                 "model.done": "3\n",
                 "events.log": "".join(x + "\n" for x in lost or ())
                 + "dump 1\ndump 2\ndump 3\ndump 4\n"}
        if expect_lost:
            files["expect_lost"] = ""
        for name, text in files.items():
            self.put(os.path.join(self.lib, name), text)
        self.put(os.path.join(self.dir, "replay.txt"), final)
        j = Judge(self.dir)
        with contextlib.redirect_stdout(io.StringIO()):
            libmodel.check_watcher(j, self.lib, self.bin,
                                   load_events(self.dir))
        return j.failures

    def test_agrees(self):
        self.assertEqual(self.run_watcher(), [])

    def test_intermediate_dump_compared(self):
        f = self.run_watcher(mid=DUMP.replace("task 60 60 -1", "task 60 60 1"))
        self.assertEqual(len(f), 1, f)
        self.assertIn("dump.1.txt vs snap mid", f[0])

    def test_lost_unexpected(self):
        f = self.run_watcher(final=DUMP.replace("lost 0", "lost 5"))
        self.assertEqual(len(f), 1, f)
        self.assertIn("expected no lost events", f[0])

    def test_late_needs_the_library_count(self):
        late = ["10 resync", "5 resync late=1"]
        f = self.run_watcher(lost=late)
        self.assertEqual(len(f), 1, f)
        self.assertIn("late count (model.txt: late 0)", f[0])
        one = DUMP.replace("late 0", "late 1")
        self.assertEqual(self.run_watcher(one, one, late), [])
        # out of order, not reported late: the order check fails
        f = self.run_watcher(one, one, ["10 resync", "5 resync"])
        self.assertEqual(len(f), 1, f)
        self.assertIn("came after a later one", f[0])

    def test_lost_expected(self):
        lost = DUMP.replace("lost 0", "lost 5")
        both = ["5 lost count=5", "6 resync"]
        self.assertEqual(self.run_watcher(lost, lost, both, True), [])
        # lost, but never resynced before the dump
        f = self.run_watcher(lost, lost, both[:1], True)
        self.assertEqual(len(f), 1, f)
        self.assertIn("expected a resync after the lost event", f[0])
        # expected, but nothing was lost
        f = self.run_watcher(expect_lost=True)
        self.assertTrue(any("expected lost events at the dump" in x
                            for x in f), f)


class Order(unittest.TestCase):
    def test_order_breaks(self):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "events.log")
            with open(log, "w", encoding="utf-8") as f:
                f.write("10 klp_transition_init patch=p target=0\n"
                        "20 klp_transition_complete patch=p target=0\n"
                        "dump 1\n"
                        "15 klp_task_switch pid=7 tgid=7 comm=w\n"
                        "30 sched_process_exit pid=7 comm=w\n")
            bad = libmodel.order_breaks(log)
            self.assertEqual(len(bad), 1)
            self.assertTrue(bad[0].startswith("15 klp_task_switch"), bad)

    def test_late_reported(self):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "events.log")
            with open(log, "w", encoding="utf-8") as f:
                # 15 was reported late; 18 after 30 was not; 40 says
                # late but is not out of order
                f.write("10 klp_transition_init patch=p target=0\n"
                        "30 klp_transition_complete patch=p target=0\n"
                        "15 klp_task_switch pid=7 late=1 comm=w late=1\n"
                        "35 sched_process_exit pid=7 comm=w\n"
                        "18 klp_task_switch pid=8 comm=x late=1\n"
                        "40 klp_task_switch pid=9 late=1 comm=y\n")
            bad = libmodel.order_breaks(log)
            self.assertEqual(len(bad), 2, bad)
            self.assertTrue(bad[0].startswith("18 klp_task_switch"), bad)
            self.assertIn("after  35 sched_process_exit", bad[0])
            self.assertTrue(bad[1].startswith("40 klp_task_switch"), bad)
            self.assertEqual(len(libmodel.late_lines(log)), 2)


class Replay(unittest.TestCase):
    def compare(self, live, rep):
        j = Judge("/nonexistent")
        libmodel.compare_replay(j, "t", libmodel.Model(live, "live"),
                                libmodel.Model(rep, "rep"))
        return j.failures

    def test_equal_and_gap(self):
        rep = DUMP.replace("mode events", "mode replay")
        self.assertEqual(self.compare(DUMP, rep), [])
        # an undefined task known to one side only: the snapshots' gap
        self.assertEqual(self.compare(DUMP, rep + "task 80 80 -1 kw\n"),
                         [])

    def test_idle_unknown_in_the_replay(self):
        live = DUMP + "task 0 0 1 swapper/0\n"
        rep = DUMP + "task 0 0 -2 swapper/0\n"
        j = Judge("/nonexistent")
        libmodel.compare_replay(j, "t", libmodel.Model(live, "live"),
                                libmodel.Model(rep, "rep"), True)
        self.assertEqual(j.failures, [])
        # without a pass before the recording: the replay must know it
        self.assertEqual(len(self.compare(live, rep)), 1)
        # known on both sides, and different: never excused
        j = Judge("/nonexistent")
        libmodel.compare_replay(j, "t", libmodel.Model(live, "live"),
                                libmodel.Model(rep.replace(" -2 ", " 0 "),
                                               "rep"), True)
        self.assertEqual(len(j.failures), 1)

    def test_anchor_before(self):
        with tempfile.TemporaryDirectory() as d:
            log, truth = os.path.join(d, "events.log"), \
                os.path.join(d, "truth.txt")
            with open(truth, "w") as f:
                f.write("klptrace-truth 1\nts 100\n")
            with open(log, "w") as f:
                f.write("90 klp_task_switch pid=5 comm=x\n"
                        "110 klp_transition_pass patch=lp\n")
            self.assertFalse(libmodel.anchor_before(log, truth))
            with open(log, "a") as f:
                f.write("dump 1\n95 klp_transition_pass patch=lp\n")
            self.assertTrue(libmodel.anchor_before(log, truth))
            # a transition that completed before the snapshot: none
            with open(log, "a") as f:
                f.write("97 klp_transition_complete patch=lp target=1\n")
            self.assertFalse(libmodel.anchor_before(log, truth))

    def test_differs(self):
        rep = DUMP.replace("task 50 50 -1", "task 50 50 0")
        self.assertEqual(len(self.compare(DUMP, rep)), 1)
        rep = DUMP + "task 80 80 1 kw\n"
        self.assertEqual(len(self.compare(DUMP, rep)), 1)
        rep = DUMP.replace("verdict=ready", "verdict=refs")
        self.assertEqual(len(self.compare(DUMP, rep)), 1)


if __name__ == "__main__":
    unittest.main()
