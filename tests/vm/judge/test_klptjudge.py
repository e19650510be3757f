"""Unit tests of klptjudge, no VM needed.

    cd tests/vm/judge && python3 -m unittest -v
    python3 -m unittest discover -s tests/vm/judge      (from the repo root)
"""

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import klptjudge  # noqa: E402
from klptjudge import Judge, load_events, load_snap, parse_line  # noqa: E402

# Lines as the guest's trace_pipe prints them (TP_printk formats of
# tracepoints/klp_trace.h and the kernel's module events).
TRACE = textwrap.dedent("""\
              sh-101     [001] .....     3.976403: tracing_mark_write: klpt_snap_begin before
              sh-101     [001] .....     4.065433: tracing_mark_write: klpt_snap_end before
          insmod-120     [000] .....     5.000001: module_load: klpt_lp_sleep OK
          insmod-120     [000] .....     5.000100: module_get: klpt_lp_sleep call_site=klp_enable_patch refcnt=2
          insmod-120     [000] .....     5.000200: klp_module_ref: module=klpt_lp_sleep op=get refcnt=1 caller=klp_enable_patch
          insmod-120     [000] .....     5.001000: klp_transition_init: patch=klpt_lp_sleep target=patched
          insmod-120     [000] .....     5.001100: klp_transition_start: patch=klpt_lp_sleep target=patched
     kworker/0:1-23      [000] d..2.     6.100000: klp_task_blocked: pid=95 tgid=95 comm=klpt_sleeper patch=klpt_lp_sleep target=patched reason=sleeping_in_func err=-98 func=klpt_sleep_fn
     kworker/0:1-23      [000] d..2.     6.100100: klp_task_blocked: pid=96 tgid=90 comm=my task patch=klpt_lp_sleep target=patched reason=running err=-16 func=
     kworker/0:1-23      [000] .....     6.100500: klp_transition_pass: patch=klpt_lp_sleep target=patched pass=0 checked=57 pending=1
CPU:1 [LOST 3 EVENTS]
     klpt_sleeper-95     [001] d..1.     7.000000: klp_task_switch: pid=95 tgid=95 comm=klpt_sleeper from=unpatched to=patched via=stack_check
           <...>-130     [001] .....     7.500000: klp_transition_complete: patch=klpt_lp_sleep target=patched forced=0
              sh-101     [000] .....     8.000000: tracing_mark_write: klpt_snap_begin after
              sh-101     [000] .....     8.100000: tracing_mark_write: klpt_snap_end after
            1234-77      [000] .N...     9.000000: klp_module_free: module=42
""")


class ParseLine(unittest.TestCase):
    def test_marker(self):
        e = parse_line("              sh-101     [001] .....     3.976403: "
                       "tracing_mark_write: klpt_snap_begin before\n")
        self.assertEqual(e.name, "tracing_mark_write")
        self.assertTrue(e.is_marker)
        self.assertEqual(e.text, "klpt_snap_begin before")
        self.assertEqual(e.fields, {})
        self.assertEqual((e.comm, e.pid, e.cpu, e.flags), ("sh", 101, 1, "....."))
        self.assertAlmostEqual(e.ts, 3.976403)

    def test_klp_fields(self):
        e = parse_line("     kworker/0:1-23      [000] d..2.     6.100000: "
                       "klp_task_blocked: pid=95 tgid=95 comm=klpt_sleeper "
                       "patch=klpt_lp_sleep target=patched "
                       "reason=sleeping_in_func err=-98 func=klpt_sleep_fn")
        self.assertEqual(e.comm, "kworker/0:1")
        self.assertEqual(e.pid, 23)
        self.assertEqual(e.fields, {
            "pid": 95, "tgid": 95, "comm": "klpt_sleeper",
            "patch": "klpt_lp_sleep", "target": "patched",
            "reason": "sleeping_in_func", "err": -98,
            "func": "klpt_sleep_fn"})
        self.assertEqual(e["err"], -98)

    def test_comm_with_space_and_empty_value(self):
        e = parse_line("     kworker/0:1-23      [000] d..2.     6.100100: "
                       "klp_task_blocked: pid=96 tgid=90 comm=my task "
                       "patch=p target=patched reason=running err=-16 func=")
        self.assertEqual(e["comm"], "my task")
        self.assertEqual(e["func"], "")
        self.assertEqual(e["err"], -16)

    def test_numeric_names_stay_strings(self):
        e = parse_line("            1234-77      [000] .N...     9.000000: "
                       "klp_module_free: module=42")
        self.assertEqual(e.comm, "1234")
        self.assertEqual(e["module"], "42")

    def test_module_event_positional_name(self):
        e = parse_line("          insmod-120     [000] .....     5.000100: "
                       "module_get: klpt_lp_sleep call_site=klp_enable_patch refcnt=2")
        self.assertEqual(e.args, ["klpt_lp_sleep"])
        self.assertEqual(e["name"], "klpt_lp_sleep")
        self.assertEqual(e["refcnt"], 2)
        self.assertEqual(e["call_site"], "klp_enable_patch")

    def test_tgid_column_and_no_flags(self):
        e = parse_line("  a-b-c-7 (      5) [003]   10.000001: klp_patch_free: "
                       "patch=p forced=1")
        self.assertEqual((e.comm, e.pid, e.tgid, e.cpu, e.flags), ("a-b-c", 7, 5, 3, None))
        self.assertEqual(e.fields, {"patch": "p", "forced": 1})

    def test_not_an_event(self):
        self.assertIsNone(parse_line("CPU:1 [LOST 3 EVENTS]"))
        self.assertIsNone(parse_line("garbage"))


class EventsQueries(unittest.TestCase):
    def setUp(self):
        self.ev = klptjudge.parse_events(TRACE.splitlines(True))

    def test_order_lost_unparsed(self):
        self.assertEqual(len(self.ev), 15)
        self.assertEqual(self.ev.lost, [(1, 3, 11)])
        self.assertEqual(self.ev.unparsed, [])
        ts = [e.ts for e in self.ev]
        self.assertEqual(ts, sorted(ts))
        self.assertEqual(self.ev[0].lineno, 1)

    def test_markers(self):
        self.assertEqual([m.text for m in self.ev.markers()],
                         ["klpt_snap_begin before", "klpt_snap_end before",
                          "klpt_snap_begin after", "klpt_snap_end after"])
        self.assertEqual(len(klptjudge.markers(self.ev, "klpt_snap_end")), 2)

    def test_between(self):
        win = self.ev.between("klpt_snap_end before", "klpt_snap_begin after")
        self.assertEqual(win.names(), [
            "module_load", "module_get", "klp_module_ref",
            "klp_transition_init", "klp_transition_start",
            "klp_task_blocked", "klp_task_blocked", "klp_transition_pass",
            "klp_task_switch", "klp_transition_complete"])
        same = klptjudge.events_between(self.ev, "klpt_snap_end before",
                                        "klpt_snap_begin after")
        self.assertEqual(same.names(), win.names())
        self.assertEqual(len(self.ev.between("klpt_snap_end after")), 1)
        with self.assertRaises(KeyError):
            self.ev.between("no such marker", "klpt_snap_end after")

    def test_named_first(self):
        self.assertEqual(len(self.ev.named("klp_task_blocked")), 2)
        self.assertEqual(len(self.ev.named("klp_task_blocked", reason="running")), 1)
        sw = self.ev.first("klp_task_switch", **{"from": "unpatched"})
        self.assertEqual(sw["via"], "stack_check")
        self.assertIsNone(self.ev.first("klp_transition_force"))
        # "name" is a field of module events, not the event name.
        self.assertEqual(len(self.ev.named("module_get", name="klpt_lp_sleep")), 1)


class Snap(unittest.TestCase):
    def test_load_snap(self):
        with tempfile.TemporaryDirectory() as d:
            s = os.path.join(d, "snap", "before")
            os.makedirs(s)
            with open(os.path.join(s, "tasks"), "w") as f:
                f.write("1 1 -1 0 init\n2 2 -1 1 kthreadd\n"
                        "95 95 0 1 klpt_sleeper\n96 90 1 0 my task\n")
            with open(os.path.join(s, "livepatch"), "w") as f:
                f.write("klpt_lp_sleep 1 1\nklpt_lp_sleep/klpt_target_sleep 1\n")
            with open(os.path.join(s, "modules"), "w") as f:
                f.write("klpt_lp_sleep 1\nklptrace 0\n")
            snap = load_snap(d, "before")
            self.assertEqual(snap.tasks[1], (1, -1, False, "init"))
            tgid, state, kthread, comm = snap.tasks[95]
            self.assertEqual((tgid, state, kthread, comm), (95, 0, True, "klpt_sleeper"))
            self.assertEqual(snap.tasks[96].comm, "my task")
            self.assertEqual(snap.livepatch, {"klpt_lp_sleep": {
                "enabled": 1, "transition": 1,
                "objects": {"klpt_target_sleep": 1}}})
            self.assertEqual(snap.refcnt, {"klpt_lp_sleep": 1, "klptrace": 0})
            self.assertIsNone(snap.hooks)
            self.assertEqual([t.tid for t in snap.by_comm("kthreadd")], [2])
            with self.assertRaises(FileNotFoundError):
                load_snap(d, "after")
            self.assertEqual(len(load_events(d)), 0)


class JudgeExit(unittest.TestCase):
    def run_judge(self, body):
        code = ("import sys; sys.path.insert(0, %r)\n"
                "from klptjudge import Judge\n"
                "j = Judge('/nonexistent')\n%s\nj.done()\n"
                % (os.path.dirname(os.path.abspath(__file__)), body))
        return subprocess.run([sys.executable, "-c", code],
                              capture_output=True, text=True)

    def test_pass(self):
        r = self.run_judge("j.check(True, 'fine')")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "")

    def test_fail_lists_all(self):
        r = self.run_judge("j.check(False, 'one', 'detail')\n"
                           "j.check(1 == 2, 'two')\nj.check(True, 'three')")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "- one\n  detail\n- two\n")

    def test_check_returns_cond(self):
        j = Judge("/nonexistent")
        self.assertTrue(j.check(1, "x"))
        self.assertFalse(j.check(0, "y"))
        self.assertEqual(j.failures, ["y"])


if __name__ == "__main__":
    unittest.main()
