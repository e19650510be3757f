"""Unit tests of taskset (the tasks_smp* judge), no VM needed.

    python3 -m unittest discover -s tests/vm/judge      (from the repo root)
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import taskset  # noqa: E402
from klptjudge import Judge, Snapshot, Task  # noqa: E402

LP = {taskset.LP: {"enabled": 1, "transition": 1, "objects": {}}}
SLEEPER = 50

# Passes of a patching transition: the first names swapper/1 (running on
# the other CPU) and the sleeper; the next two only the sleeper; the
# second's idle section is what counts at "cp pre_end" (the third ended
# after it began).
DMESG = """\
[    1.000000] klpt_tasks: insmod klpt_lp_sleep
[    1.050000] livepatch: 'klpt_lp_sleep': starting patching transition
[    1.100000] livepatch: klp_try_switch_task: sh:60 is running
[    1.100100] livepatch: klp_try_switch_task: klpt_sleeper:50 is sleeping on function klpt_sleep_fn
[    1.100200] livepatch: klp_try_switch_task: swapper/1:0 is running
[    2.100000] livepatch: klp_try_switch_task: klpt_sleeper:50 is sleeping on function klpt_sleep_fn
[    3.100000] livepatch: klp_try_switch_task: klpt_sleeper:50 is sleeping on function klpt_sleep_fn
[    3.200000] klpt_tasks: cp pre_end
[    3.300000] livepatch: klp_try_switch_task: Unknown error code (-5) when trying to switch odd: name:70
[    3.900000] klpt_tasks: cp post_begin
"""


def snap(name, *tasks):
    return Snapshot(name, {t[0]: Task(*t) for t in tasks}, LP, {})


def judge():
    return Judge("/nonexistent")


class Parsing(unittest.TestCase):
    def test_cpu_list(self):
        self.assertEqual(taskset.cpu_list("0-3\n"), [0, 1, 2, 3])
        self.assertEqual(taskset.cpu_list("0"), [0])
        self.assertEqual(taskset.cpu_list("0,2-3"), [0, 2, 3])

    def test_dmesg(self):
        log = taskset.parse_dmesg(DMESG)
        self.assertEqual(log[0], ("mark", "insmod klpt_lp_sleep", None, 1.0))
        self.assertEqual(log[1], ("start", "klpt_lp_sleep", None, 1.05))
        self.assertEqual(log[2], ("fail", "sh", 60, 1.1))
        self.assertEqual(log[4][:3], ("fail", "swapper/1", 0))
        self.assertEqual(log[8][:3], ("fail", "odd: name", 70))
        self.assertEqual(taskset.mark_index(log, "cp pre_end"), 7)

    def test_idle_truth(self):
        log = taskset.parse_dmesg(DMESG)
        idle = ["swapper/0", "swapper/1"]
        at = taskset.mark_index(log, "cp pre_end")
        # the last pass that ended before pre_end named no idle task
        self.assertEqual(taskset.idle_truth(log, SLEEPER, 0, at, idle),
                         {"swapper/0": 1, "swapper/1": 1})
        # two lines of the sleeper before index 6: the first pass ended
        # there, and it named swapper/1: either state
        self.assertEqual(taskset.idle_truth(log, SLEEPER, 0, 6, idle),
                         {"swapper/0": 1, "swapper/1": None})
        # one pass is not enough to know it ended
        self.assertIsNone(taskset.idle_truth(log, SLEEPER, 0, 4, idle))


class Comm(unittest.TestCase):
    def test_comm(self):
        m = taskset.comm_matches
        self.assertTrue(m("sleep", "sleep", False))
        self.assertFalse(m("sh", "sleep", False))      # exec unseen
        self.assertTrue(m("rcu_tasks_kthre", "rcu_tasks_kthread", True))
        self.assertTrue(m("kworker/0:0", "kworker/0:0-events", True))
        self.assertTrue(m("kworker/u4:1", "kworker/u4:1+events_unbound",
                          True))
        self.assertFalse(m("kworker/0:0", "kworker/0:0H-events_highpri",
                           True))
        self.assertFalse(m("swapper", "klpt_sleeper", True))


class Frames(unittest.TestCase):
    """check_frame on a patching transition: thread 60 patched, the
    sleeper unpatched in both reads; thread 61 exits between them; 2 idle
    tasks, both switched."""

    def setUp(self):
        pre = snap("pre", (1, 1, 1, False, "init"),
                   (SLEEPER, SLEEPER, 0, True, "klpt_sleeper"),
                   (60, 60, 1, False, "sh"), (61, 61, 1, False, "x"))
        post = snap("post", (1, 1, 1, False, "init"),
                    (SLEEPER, SLEEPER, 0, True, "klpt_sleeper"),
                    (60, 60, 1, False, "sh"))
        self.truth = taskset.Truth(pre, post, set(), 99)
        self.idle = ["swapper/0", "swapper/1"]
        self.idle_state = {"swapper/0": 1, "swapper/1": 1}

    def frame(self, tasks=5, switched=4, total=5, blockers=None, **kw):
        sleeper = {"pid": SLEEPER, "tgid": SLEEPER, "comm": "klpt_sleeper",
                   "kthread": True, "state": "unpatched", "checks": 3}
        sleeper.update(kw)
        b = [sleeper] if blockers is None else blockers
        return {"mode": "events", "lost": 0, "tasks": tasks,
                "patches": [{"name": taskset.LP, "transition": True,
                             "direction": "patching", "pass": 2,
                             "switched": switched, "total": total,
                             "blockers_total": len(b), "blockers": b}]}

    def check(self, f, late=False):
        j = judge()
        taskset.check_frame(j, "t", f, self.truth, self.idle,
                            self.idle_state, False, (3, 3), late)
        return j.failures

    def test_exact(self):
        self.assertEqual(self.check(self.frame()), [])
        # the exiting thread may still be counted
        self.assertEqual(self.check(self.frame(tasks=6, switched=5,
                                               total=6)), [])

    def test_idle_missing(self):
        fails = self.check(self.frame(tasks=3, switched=2, total=3))
        self.assertEqual(len(fails), 3, fails)

    def test_kthread_unknown(self):
        fails = self.check(self.frame(kthread=None))
        self.assertTrue(any("kthread None" in f for f in fails), fails)

    def test_checks_session_local(self):
        fails = self.check(self.frame(checks=1))
        self.assertTrue(any("checks 1" in f for f in fails), fails)
        self.assertEqual(self.check(self.frame(checks=None)), [])

    def test_times(self):
        # printk = mono + 10; transition started at printk 100, the
        # sleeper first refused at 100.5; the frame at mono 98 (printk 108)
        times = (10.0, 100.0, 100.5)
        f = self.frame(blocked_s=7.4)
        f["ts_ns"] = 98 * 10**9
        f["patches"][0]["elapsed_s"] = 8.1
        j = judge()
        taskset.check_frame(j, "t", f, self.truth, self.idle,
                            self.idle_state, False, (3, 3), False, times)
        self.assertEqual(j.failures, [])
        # a late joiner's own view: blocked since it first saw it
        f = self.frame(blocked_s=2.9)
        f["ts_ns"] = 98 * 10**9
        f["patches"][0]["elapsed_s"] = None
        j = judge()
        taskset.check_frame(j, "t", f, self.truth, self.idle,
                            self.idle_state, False, (3, 3), True, times)
        self.assertTrue(any("blocked_s 2.900" in x for x in j.failures),
                        j.failures)

    def test_idle_unknown_counted_apart(self):
        # klptop: neither switched nor blocker, switched a lower bound
        f = self.frame()
        f["patches"][0].update(switched=None, switched_at_least=3,
                               state_unknown=1)
        self.assertEqual(self.check(f, late=True), [])
        self.assertTrue(self.check(f, late=False))
        # a lower bound above the truth is wrong
        f["patches"][0].update(switched_at_least=5)
        self.assertTrue(self.check(f, late=True))

    def test_idle_unknown(self):
        unknown = {"pid": 0, "tgid": 0, "comm": "swapper/1",
                   "kthread": True, "state": "?", "checks": None}
        f = self.frame(switched=3, blockers=None)
        p = f["patches"][0]
        p["blockers"].append(unknown)
        p["blockers_total"] = 2
        self.assertEqual(self.check(f, late=True), [])
        self.assertTrue(self.check(f, late=False))
        unknown["state"] = "unpatched"
        self.assertTrue(any("switched it" in x for x in
                            self.check(f, late=True)))


if __name__ == "__main__":
    unittest.main()
