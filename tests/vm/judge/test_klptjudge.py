"""Unit tests of klptjudge, no VM needed.

    cd tests/vm/judge && python3 -m unittest -v
    python3 -m unittest discover -s tests/vm/judge      (from the repo root)
"""

import contextlib
import io
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
import klptjudge  # noqa: E402
from klptjudge import (Events, Judge, Task, load_events,  # noqa: E402
                       load_snap, parse_events, parse_line, show)

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
                f.write("klpt_lp_sleep 1 1\nklpt_lp_sleep/klpt_target_sleep 1\n"
                        "klpt_lp_sleep/klpt_target_sleep/klpt_sleep_fn,1 f\n")
            with open(os.path.join(s, "modules"), "w") as f:
                f.write("klpt_lp_sleep 1\nklptrace 0\n")
            snap = load_snap(d, "before")
            self.assertEqual(snap.tasks[1], (1, -1, False, "init"))
            tgid, state, kthread, comm = snap.tasks[95]
            self.assertEqual((tgid, state, kthread, comm), (95, 0, True, "klpt_sleeper"))
            self.assertEqual(snap.tasks[96].comm, "my task")
            self.assertEqual(snap.livepatch, {"klpt_lp_sleep": {
                "enabled": 1, "transition": 1,
                "objects": {"klpt_target_sleep": 1},
                "funcs": {("klpt_target_sleep", "klpt_sleep_fn", 1)}}})
            self.assertEqual(snap.refcnt, {"klpt_lp_sleep": 1, "klptrace": 0})
            self.assertIsNone(snap.hooks)
            self.assertEqual([t.tid for t in snap.by_comm("kthreadd")], [2])
            with self.assertRaises(FileNotFoundError):
                load_snap(d, "after")
            self.assertEqual(len(load_events(d)), 0)


class KlptopFuncs(unittest.TestCase):
    """klptop.py check_funcs: the frame's functions are the snapshot's
    function directories (review F9: names were never compared)."""

    LP = {"enabled": 1, "transition": 0,
          "objects": {"klpt_target_sleep": 1},
          "funcs": {("klpt_target_sleep", "klpt_sleep_fn", 1)}}

    def fails(self, funcs, lp=None):
        import klptop
        j = Judge("/nonexistent")
        klptop.check_funcs(j, "w", "lp", {"funcs": funcs}, lp or self.LP)
        return j.failures

    @staticmethod
    def fn(name, sympos=1):
        return {"object": "klpt_target_sleep", "func": name,
                "sympos": sympos, "patched": True}

    def test_same(self):
        self.assertEqual(self.fails([self.fn("klpt_sleep_fn")]), [])

    def test_other_name_or_sympos(self):
        self.assertEqual(len(self.fails([self.fn("klpt_sleep_fx")])), 1)
        self.assertEqual(len(self.fails([self.fn("klpt_sleep_fn", 2)])), 1)

    def test_empty_or_extra(self):
        self.assertEqual(len(self.fails([])), 1)
        self.assertEqual(len(self.fails([self.fn("klpt_sleep_fn"),
                                         self.fn("nop_fn")])), 1)

    def test_null(self):
        self.assertEqual(len(self.fails(None)), 1)
        gone = dict(self.LP, objects={}, funcs=set())
        self.assertEqual(self.fails(None, gone), [])


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


class Helpers(unittest.TestCase):
    """Events.pos, show, Judge.fact."""

    def setUp(self):
        self.ev = parse_events(TRACE.splitlines(True))

    def test_pos(self):
        ev = self.ev
        self.assertEqual([ev.pos(e) for e in ev], list(range(len(ev))))
        # An event of a sub-list has its position in the whole trace, and
        # positions compare with marker indices.
        blk = ev.named("klp_task_blocked")
        self.assertEqual([ev.pos(e) for e in blk], [7, 8])
        self.assertLess(ev.marker("klpt_snap_end before"), ev.pos(blk[0]))
        self.assertEqual(blk.pos(blk[1]), 1)
        with self.assertRaises(KeyError):
            ev.pos(parse_line(TRACE.splitlines()[0]))   # equal, not the same

    def test_show(self):
        self.assertEqual(show(self.ev[:2]), [
            "sh-101     [001] .....     3.976403: tracing_mark_write: "
            "klpt_snap_begin before",
            "sh-101     [001] .....     4.065433: tracing_mark_write: "
            "klpt_snap_end before"])
        out = show(self.ev, 3)
        self.assertEqual(len(out), 4)
        self.assertEqual(out[-1], "... and 12 more")
        self.assertEqual(show([]), [])

    def test_fact(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "facts"))
            with open(os.path.join(d, "facts", "pid"), "w") as f:
                f.write(" 95\n")
            j = Judge(d)
            self.assertEqual(j.fact("pid"), "95")
            self.assertEqual(j.fact("nothing"), "")


# A disable of patch lp as the guest records it (checks tests).
DISABLE = textwrap.dedent("""\
              sh-101     [000] .....     2.900351: tracing_mark_write: x: disable
              sh-101     [000] ...1.     2.901105: klp_transition_init: patch=lp target=unpatched
              sh-101     [000] ...2.     2.901321: klp_transition_start: patch=lp target=unpatched
              sh-101     [000] ...1.     2.901842: klp_transition_pass: patch=lp target=unpatched pass=0 checked=60 pending=1
     kworker/0:1-23      [000] ...1.     3.901842: klp_transition_pass: patch=lp target=unpatched pass=1 checked=60 pending=0
     kworker/0:1-23      [000] ...1.     3.901847: klp_transition_complete: patch=lp target=unpatched forced=0
     kworker/1:1-35      [001] ...1.     3.980270: klp_patch_free: patch=lp forced=0
     kworker/1:1-35      [001] ...1.     3.980434: klp_patch_release: patch=lp forced=0
     kworker/1:1-35      [001] ...2.     3.980482: klp_module_ref: module=lp op=put refcnt=0 caller=process_one_work
     kworker/1:1-35      [001] ...2.     3.980552: klp_module_unload_ready: module=lp
              sh-101     [000] .....     4.080865: tracing_mark_write: x: rmmod
              sh-126     [000] ...1.     4.103957: klp_module_free: module=lp
""")


class Checks(unittest.TestCase):
    """checks.py: each helper passes on good input and fails saying what
    it expected and what it got."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name
        self.j = Judge(self.d)
        self.ev = parse_events(DISABLE.splitlines(True))

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, rel, text):
        p = os.path.join(self.d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)

    def failures(self):
        out, self.j.failures = self.j.failures, []
        return out

    def _snap_files(self, tasks, livepatch, modules):
        """Snapshot "s" from the text of its three files."""
        self.write("snap/s/tasks", tasks)
        self.write("snap/s/livepatch", livepatch)
        self.write("snap/s/modules", modules)
        return load_snap(self.d, "s")

    # --- the trace and the results

    def test_trace_complete(self):
        self.assertTrue(checks.trace_complete(self.j, self.ev))
        self.assertEqual(self.failures(), [])
        bad = parse_events(["CPU:1 [LOST 3 EVENTS]\n", "junk\n"])
        self.assertFalse(checks.trace_complete(self.j, bad))
        self.assertEqual(self.failures(), [
            "expected no ring-buffer overruns, saw 1\n"
            "  CPU 1 lost 3 events (line 1)",
            "expected every line of events.txt to parse, 1 did not\n"
            "  line 2: junk"])

    def test_dmesg_transitions(self):
        start = Events(self.ev[:3])   # a start, no complete
        self.write("dmesg.txt",
                   "[    2.901226] livepatch: 'lp': starting unpatching transition\n"
                   "[    2.979839] livepatch: 'lp': unpatching complete\n")
        self.assertFalse(checks.check_dmesg_transitions(self.j, start, "lp"))
        self.assertEqual(self.failures(), [
            "expected one klp_transition_complete target=unpatched per dmesg "
            "line \"livepatch: 'lp': unpatching complete\": 1 line(s), "
            "0 event(s)"])
        self.assertTrue(checks.check_dmesg_transitions(self.j, self.ev, "lp"))
        # Neither lp's lines nor its events count for another patch.
        self.assertTrue(checks.check_dmesg_transitions(self.j, self.ev, "lp2"))
        self.assertEqual(self.failures(), [])
        # Two lines, one event: a start the trace lost.
        self.write("dmesg.txt", 2 * "[    2.9] livepatch: 'lp': starting "
                   "unpatching transition\n")
        self.assertFalse(checks.check_dmesg_transitions(self.j, self.ev, "lp"))
        self.assertEqual(len(self.failures()), 2)   # start 2:1, complete 0:1

    def test_require_markers(self):
        checks.require_markers(self.j, self.ev, "x: disable", "x: rmmod")
        self.assertEqual(self.failures(), [])
        with self.assertRaises(SystemExit):
            with contextlib.redirect_stdout(io.StringIO()):
                checks.require_markers(self.j, self.ev, "x: rmmod", "x: gone",
                                       "x: also gone")
        # The judge ended at the first missing marker.
        self.assertEqual(self.failures(),
                         ["expected marker 'x: gone' in events.txt, missing"])

    def test_need_int(self):
        self.write("facts/pid", "95\n")
        self.write("facts/junk", "abc\n")
        self.assertEqual(checks.need_int(self.j, "a pid", "facts", "pid"), 95)
        with self.assertRaises(SystemExit):
            with contextlib.redirect_stdout(io.StringIO()):
                checks.need_int(self.j, "a pid", "facts", "junk")
        self.assertEqual(self.failures(),
                         ["expected a pid in facts/junk, got 'abc'"])

    def test_snap_window_tolerant(self):
        self.assertIsNone(checks.snap(self.j, "nothing"))
        self.assertTrue(self.failures()[0].startswith(
            "expected snapshot nothing, missing: no snapshot 'nothing'"))
        self.assertEqual(len(checks.window(self.j, self.ev, "x: disable",
                                           "x: rmmod")), 9)
        self.assertEqual(len(checks.window(self.j, self.ev, "x: rmmod")), 1)
        self.assertIsNone(checks.window(self.j, self.ev, "x: disable", "nope"))
        self.assertIsNone(checks.window(self.j, self.ev, "nope"))
        self.assertEqual(self.failures(), [
            "expected markers 'x: disable' .. 'nope' in events.txt: "
            "no marker 'nope'",
            "expected markers 'nope' .. '(end)' in events.txt: "
            "no marker 'nope'"])

    def test_before(self):
        a, b = self.ev[1], self.ev[2]
        self.assertTrue(checks.before(a, b))
        self.assertFalse(checks.before(b, a))
        self.assertFalse(checks.before(a, a))
        self.assertFalse(checks.before(None, b))
        self.assertFalse(checks.before(a, None))

    # --- single events

    def test_check_event(self):
        c = self.ev.first("klp_transition_complete")
        self.assertTrue(checks.check_event(self.j, c, "complete",
                                           "patch=lp target=unpatched forced=0"))
        self.assertFalse(checks.check_event(self.j, c, "complete",
                                            "target=patched forced=1"))
        self.assertFalse(checks.check_event(self.j, None, "complete",
                                            "forced=0"))
        self.assertFalse(checks.check_event(self.j, c, "complete", "via=idle"))
        self.assertEqual(self.failures(), [
            "expected complete target=patched forced=1, got target=unpatched "
            "forced=0\n  " + str(c),
            "expected complete forced=0, got none",
            "expected complete via=idle, got via=(none)\n  " + str(c)])
        # Numbers compare as numbers, text as text (an empty func too).
        e = parse_line("  k-23 [000] d..2. 6.1: klp_task_blocked: pid=96 "
                       "tgid=90 comm=my task patch=p target=patched "
                       "reason=running err=-16 func=")
        self.assertTrue(checks.check_event(self.j, e, "t",
                                           "comm=my task err=-16 func="))
        self.assertFalse(checks.check_event(self.j, e, "t", "func=f"))

    def test_blocked_predicates(self):
        sl = parse_line("  k-23 [000] d..2. 6.1: klp_task_blocked: pid=95 "
                        "tgid=95 comm=s patch=p target=patched "
                        "reason=sleeping_in_func err=-98 func=f")
        run = parse_line("  k-23 [000] d..2. 6.1: klp_task_blocked: pid=96 "
                         "tgid=96 comm=r patch=p target=patched "
                         "reason=running err=-16 func=")
        self.assertTrue(checks.sleeping_in(sl, "f"))
        self.assertFalse(checks.sleeping_in(sl, "g"))
        self.assertFalse(checks.sleeping_in(run, ""))
        self.assertTrue(checks.running(run))
        self.assertFalse(checks.running(sl))
        sl.fields["err"] = -16
        self.assertFalse(checks.sleeping_in(sl, "f"))
        run.fields["func"] = "f"
        self.assertFalse(checks.running(run))

    def test_switch_vias(self):
        self.assertEqual(checks.switch_vias(Task(2, 2, 1, True, "k")),
                         ("stack_check",))
        self.assertEqual(checks.switch_vias(Task(9, 9, 1, False, "sh")),
                         ("stack_check", "user_return"))

    def test_switched_in_check(self):
        # pass 1 checks cat (running) while cat switches on CPU 1
        lines = textwrap.dedent("""\
              sh-101     [000] ...2.     2.901321: klp_transition_start: patch=lp target=unpatched
     kworker/0:1-23      [000] ...1.     3.901800: klp_task_switch: pid=7 tgid=7 comm=k from=patched to=unpatched via=stack_check
             cat-98      [001] ...1.     3.901810: klp_task_switch: pid=98 tgid=98 comm=cat from=patched to=unpatched via=user_return
     kworker/0:1-23      [000] ...1.     3.901820: klp_task_blocked: pid=98 tgid=98 comm=cat patch=lp target=unpatched reason=running err=-16 func=
     kworker/0:1-23      [000] ...1.     3.901842: klp_transition_pass: patch=lp target=unpatched pass=1 checked=60 pending=1
""").splitlines(True)
        ev = parse_events(lines)
        sw, blk = ev[2], ev[3]
        self.assertTrue(checks.switched_in_check(ev, sw, blk))
        # the pass wrote something after the switch, before its check:
        # the check read the state after that write
        moved = parse_events([lines[0], lines[2], lines[1], lines[3]])
        self.assertFalse(checks.switched_in_check(moved, moved[1], moved[3]))
        # before the pass began, to another target, another task, after it
        for bad in (
                [lines[2], lines[0], lines[3]],
                [lines[0], lines[2].replace("to=unpatched", "to=patched"),
                 lines[3]],
                [lines[0], lines[2].replace("pid=98", "pid=99"), lines[3]],
                [lines[0], lines[2].replace("user_return", "stack_check"),
                 lines[3]]):
            e = parse_events(bad)
            x = e.first("klp_task_switch")
            self.assertFalse(checks.switched_in_check(
                e, x, e.first("klp_task_blocked")), bad)
        e = parse_events([lines[0], lines[3], lines[2]])
        self.assertFalse(checks.switched_in_check(e, e[2], e[1]))

    # --- snapshots

    def test_check_lp(self):
        s = self._snap_files("", "lp 1 1\nlp/tgt 1\n", "")
        self.assertTrue(checks.check_lp(self.j, s, "lp", 1, 1))
        self.assertTrue(checks.check_lp(self.j, s, "lp", 1, 1, {"tgt": 1}))
        self.assertFalse(checks.check_lp(self.j, s, "lp", 1, 0, why=" (done)"))
        self.assertFalse(checks.check_lp(self.j, s, "lp", 1, 1, {"vmlinux": 1}))
        self.assertFalse(checks.check_lp(self.j, s, "other", 0, 1))
        self.assertEqual(self.failures(), [
            "snap s: expected lp enabled=1 transition=0 (done), got enabled=1 "
            "transition=1",
            "snap s: expected the objects of lp patched as {'vmlinux': 1}, "
            "got {'tgt': 1}",
            "snap s: expected /sys/kernel/livepatch/other (enabled=0 "
            "transition=1), got patches ['lp']"])

    def test_check_lp_gone_refcnt(self):
        s = self._snap_files("", "lp 0 1\n", "lp 1\nklptrace 0\n")
        self.assertTrue(checks.check_lp_gone(self.j, s, "other"))
        self.assertFalse(checks.check_lp_gone(self.j, s, "lp"))
        self.assertTrue(checks.check_refcnt(self.j, s, "lp", 1))
        self.assertTrue(checks.check_refcnt(self.j, s, "klptrace", 0))
        self.assertTrue(checks.check_refcnt(self.j, s, "gone", None))
        self.assertFalse(checks.check_refcnt(self.j, s, "lp", 0, " (why)"))
        self.assertFalse(checks.check_refcnt(self.j, s, "gone", 0))
        self.assertFalse(checks.check_refcnt(self.j, s, "lp", None))
        self.assertEqual(self.failures(), [
            "snap s: expected /sys/kernel/livepatch/lp gone, got "
            "{'enabled': 0, 'transition': 1, 'objects': {}, 'funcs': set()}",
            "snap s: expected lp loaded with refcnt 0 (why), got 1",
            "snap s: expected gone loaded with refcnt 0, got None",
            "snap s: expected lp not loaded, got refcnt 1"])

    def test_check_no_patch_state(self):
        s = self._snap_files("1 1 -1 0 init\n2 2 -1 1 kthreadd\n", "", "")
        self.assertTrue(checks.check_no_patch_state(self.j, s))
        s = self._snap_files("1 1 -1 0 init\n95 95 0 1 klpt_sleeper\n", "", "")
        self.assertFalse(checks.check_no_patch_state(self.j, s, " (over)"))
        self.assertEqual(self.failures(), [
            "snap s: expected every patch_state -1 (over), got 1 tasks "
            "otherwise\n  Task(95 95 0 1 klpt_sleeper)"])

    def test_check_task(self):
        s = self._snap_files("95 95 0 1 klpt_sleeper\n101 101 1 0 sh\n", "", "")
        t = checks.check_task(self.j, s, 95, "the sleeper",
                              comm="klpt_sleeper", kthread=True, state=0)
        self.assertEqual(t.tid, 95)
        checks.check_task(self.j, s, 101, "the shell", kthread=False)
        checks.check_task(self.j, s, 101, "the shell")
        self.assertEqual(self.failures(), [])
        checks.check_task(self.j, s, 95, "the sleeper", state=1,
                          why=" (patched)")
        checks.check_task(self.j, s, 101, "the shell", comm="bash")
        checks.check_task(self.j, s, 101, "the shell", kthread=True)
        self.assertIsNone(checks.check_task(self.j, s, 7, "x", state=0))
        self.assertEqual(self.failures(), [
            "snap s: expected the sleeper (pid 95) as at patch_state 1 "
            "(patched), got Task(95 95 0 1 klpt_sleeper)",
            "snap s: expected the shell (pid 101) as bash, got "
            "Task(101 101 1 0 sh)",
            "snap s: expected the shell (pid 101) as kthread, got "
            "Task(101 101 1 0 sh)",
            "snap s: expected x (pid 7) as at patch_state 0, got None"])

    # --- transitions

    def test_transition_seq(self):
        self.assertEqual(checks.transition_seq(self.ev),
                         "init start pass pass complete")
        tr = self.ev.where(lambda e: e.name.startswith("klp_transition_"))
        self.assertTrue(checks.check_transition_seq(self.j, tr,
                                                    checks.FULL_TRANSITION))
        self.assertFalse(checks.check_transition_seq(
            self.j, Events(tr[1:]), checks.FULL_TRANSITION, " after x", n=1))
        self.assertFalse(checks.check_transition_seq(
            self.j, Events(), "reverse start" + checks.PASSES))
        self.assertEqual(self.failures(), [
            "expected klp_transition_ init start pass... complete after x, "
            "got: start pass pass complete\n  " + str(tr[1]).strip() +
            "\n  ... and 3 more",
            "expected klp_transition_ reverse start pass..., got: (none)"])
        ok = parse_events([
            "  k-1 [0] ..... 1.0: klp_transition_reverse: patch=p target=patched\n",
            "  k-1 [0] ..... 1.1: klp_transition_start: patch=p target=patched\n",
            "  k-1 [0] ..... 1.2: klp_transition_pass: patch=p target=patched "
            "pass=0 checked=1 pending=1\n",
            "  k-1 [0] ..... 1.3: klp_transition_signal: patch=p target=patched "
            "pass=0 pending=1\n"])
        self.assertTrue(checks.check_transition_seq(
            self.j, ok, "reverse start" + checks.PASSES))

    def test_pass_numbers(self):
        passes = self.ev.named("klp_transition_pass")
        self.assertEqual(checks.check_pass_numbers(self.j, passes), [0, 1])
        self.assertTrue(checks.check_last_pass_done(self.j, passes))
        self.assertEqual(self.failures(), [])
        self.assertEqual(checks.check_pass_numbers(self.j, passes[1:], " (x)"),
                         [1])
        self.assertFalse(checks.check_last_pass_done(self.j, passes[:1]))
        self.assertFalse(checks.check_last_pass_done(self.j, passes[:0]))
        self.assertEqual(self.failures(), [
            "expected pass numbers 0, 1, 2, ... consecutive (x), got [1]",
            "expected the last pass at pending=0, got 1\n  " + str(passes[0]),
            "expected the last pass at pending=0, got no pass"])

    # --- the end of a disable

    def test_only_one_order(self):
        e = checks.only_one(self.j, self.ev, "klp_patch_free", "here",
                            patch="lp")
        self.assertEqual(e.name, "klp_patch_free")
        self.assertIsNone(checks.only_one(self.j, self.ev, "klp_patch_free",
                                          "here", patch="x"))
        self.assertIsNone(checks.only_one(self.j, self.ev,
                                          "klp_transition_pass", "here"))
        self.assertEqual(self.failures()[:1], [
            "expected exactly one klp_patch_free patch=x here, got 0"])
        a, b = self.ev[1], self.ev[5]
        self.assertTrue(checks.check_order(self.j, [("a", a), ("b", b)]))
        self.assertFalse(checks.check_order(self.j, [("a", a), ("b", None)]))
        self.assertEqual(self.failures(), [])
        self.assertFalse(checks.check_order(self.j, [("b", b), ("a", a)]))
        self.assertEqual(self.failures(), [
            "expected b -> a in this order, got them at lines [6, 2]"])

    def test_free_chain(self):
        complete = self.ev.first("klp_transition_complete")
        got = checks.check_free_chain(self.j, self.ev, complete, "lp", "here")
        self.assertEqual([e.name for e in got], [
            "klp_patch_free", "klp_patch_release", "klp_module_ref",
            "klp_module_unload_ready", "klp_module_free"])
        self.assertEqual(self.failures(), [])
        # forced=1, out of order, one missing: each one said.
        lines = DISABLE.splitlines(True)
        lines[6] = lines[6].replace("forced=0", "forced=1")
        lines[7], lines[8] = lines[8], lines[7]
        del lines[9]
        ev = parse_events(lines)
        got = checks.check_free_chain(self.j, ev, ev.first(
            "klp_transition_complete"), "lp", "here")
        self.assertIsNone(got[3])
        self.assertEqual(self.failures(), [
            "expected exactly one klp_module_unload_ready module=lp here, "
            "got 0",
            "expected klp_patch_free forced=0, got forced=1\n  "
            + lines[6].rstrip("\n")])
        del lines[7]   # the put: the order is checked once all are there
        lines.insert(9, DISABLE.splitlines(True)[9])
        lines.insert(6, DISABLE.splitlines(True)[8])
        ev = parse_events(lines)
        checks.check_free_chain(self.j, ev, ev.first("klp_transition_complete"),
                                "lp", "here")
        self.assertEqual([f.split(",")[0] for f in self.failures()], [
            "expected klp_transition_complete target=unpatched -> "
            "klp_patch_free -> klp_patch_release -> klp_module_ref op=put -> "
            "klp_module_unload_ready -> klp_module_free in this order",
            "expected klp_patch_free forced=0"])


if __name__ == "__main__":
    unittest.main()
