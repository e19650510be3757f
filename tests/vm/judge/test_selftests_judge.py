"""Unit tests of the selftests scenario's judge
(tests/vm/scenarios/selftests/judge.py), no VM needed.

    python3 -m unittest discover -s tests/vm/judge      (from the repo root)
"""

import contextlib
import importlib.util
import io
import json
import os
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
_spec = importlib.util.spec_from_file_location(
    "selftests_judge", os.path.join(HERE, "..", "scenarios", "selftests", "judge.py"))
sj = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sj)

# test-ftrace.sh's dmesg (6.1 texts) inside the klptrace run: a failed
# enable with ftrace off, then a good one.
DMESG = textwrap.dedent("""\
    [   10.000000] klpt-selftests: klptrace begin
    [   11.000000] livepatch: kernel.ftrace_enabled = 0
    [   11.100000] livepatch: enabling patch 'p'
    [   11.100100] livepatch: 'p': initializing patching transition
    [   11.100200] livepatch: failed to register ftrace handler for function 'cmdline_proc_show' (-16)
    [   11.100300] livepatch: failed to patch object 'vmlinux'
    [   11.100400] livepatch: failed to enable patch 'p'
    [   11.100500] livepatch: 'p': canceling patching transition, going to unpatch
    [   11.100600] livepatch: 'p': completing unpatching transition
    [   11.100700] livepatch: 'p': unpatching complete
    [   12.000000] livepatch: kernel.ftrace_enabled = 1
    [   13.000000] livepatch: enabling patch 'p'
    [   13.000100] livepatch: 'p': initializing patching transition
    [   13.000200] livepatch: 'p': starting patching transition
    [   14.000000] livepatch: 'p': completing patching transition
    [   14.000100] livepatch: 'p': patching complete
    [   20.000000] klpt-selftests: klptrace end
    """)

# events.log of klpt_watch, mono clock 0.05 s after printk's
GOOD = textwrap.dedent("""\
    11050100000 klp_transition_init patch=p target=1 pass=0 pending=0 forced=0
    11050500000 klp_transition_cancel patch=p target=1 pass=0 pending=0 forced=0
    11050600000 klp_transition_complete patch=p target=0 pass=0 pending=0 forced=0
    13050100000 klp_transition_init patch=p target=1 pass=0 pending=0 forced=0
    13050200000 klp_transition_start patch=p target=1 pass=0 pending=0 forced=0
    14050000000 klp_transition_complete patch=p target=1 pass=0 pending=0 forced=0
    """)

# ftrace off: the failed enable's events are missing
SILENT = "\n".join(GOOD.splitlines()[3:]) + "\n"
LOST = "11500000000 lost count=0\n12500000000 resync\n" + SILENT


def run_judge(events, frames=()):
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "lib", "1"))
        os.makedirs(os.path.join(d, "selftests", "klptop"))
        for run in ("plain", "klptrace"):
            os.makedirs(os.path.join(d, "selftests", run))
            for n in range(6):
                with open(os.path.join(d, "selftests", run, "t%d.status" % n), "w") as f:
                    f.write("0\n")
        with open(os.path.join(d, "dmesg.txt"), "w") as f:
            f.write(DMESG)
        with open(os.path.join(d, "lib", "1", "events.log"), "w") as f:
            f.write(events)
        with open(os.path.join(d, "selftests", "klptop", "frames.json"), "w") as f:
            for ts, enabled in frames or [(15 * 10**9, True)]:
                f.write(json.dumps({"ts_ns": ts, "patches": [
                    {"name": "p", "enabled": enabled}]}) + "\n")
        out = io.StringIO()
        argv = sys.argv
        sys.argv = ["judge.py", d]
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                try:
                    sj.main()
                    code = 0
                except SystemExit as e:
                    code = e.code or 0
        finally:
            sys.argv = argv
        return code, out.getvalue()


class SelftestsJudge(unittest.TestCase):
    def test_calls(self):
        calls, orphans = sj.dmesg_calls(DMESG)
        self.assertEqual([c.key() for c in calls], [
            ("init", "p", 1), ("cancel", "p", 1), ("complete", "p", 0),
            ("init", "p", 1), ("start", "p", 1), ("complete", "p", 1)])
        self.assertEqual(len(calls[1].lines), 4)   # 3 failures + canceling
        self.assertEqual(len(calls[2].lines), 2)   # completing + complete
        self.assertEqual(orphans, [])

    def test_all_events(self):
        code, out = run_judge(GOOD)
        self.assertEqual(code, 0, out)

    def test_stalled_event_matches(self):
        # the start's event 0.6 s after its line (a vCPU stall): its twins
        # are far, so it is still its event
        late = GOOD.replace("13050200000 klp_transition_start",
                            "13650200000 klp_transition_start")
        code, out = run_judge(late)
        self.assertEqual(code, 0, out)

    def test_event_of_a_far_time_fails(self):
        # 2.5 s off: beyond any slack, not taken for that call
        far = GOOD.replace("13050200000 klp_transition_start",
                           "15550200000 klp_transition_start")
        code, out = run_judge(far)
        self.assertNotEqual(code, 0, out)

    def test_missing_events_fail(self):
        code, out = run_judge(SILENT)
        self.assertNotEqual(code, 0, out)
        self.assertIn("3 of 6 kernel transition calls", out)

    def test_missing_events_excused_by_lost(self):
        code, out = run_judge(LOST)
        self.assertEqual(code, 0, out)
        self.assertIn("3 excused by LOST", out)

    def test_lost_elsewhere_excuses_nothing(self):
        late = SILENT + "16000000000 lost count=0\n"
        code, out = run_judge(late)
        self.assertNotEqual(code, 0, out)

    def test_failed_patch_shown_enabled(self):
        code, out = run_judge(GOOD, [(11060000000, True)])
        self.assertNotEqual(code, 0, out)
        self.assertIn("failed enable", out)

    def test_removed_patch_shown_enabled(self):
        # the good patch is never removed here; the failed one is
        # "removed" by its complete target=unpatched (plus STALE_S)
        code, out = run_judge(GOOD, [(12600000000, True)])
        self.assertNotEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main()
