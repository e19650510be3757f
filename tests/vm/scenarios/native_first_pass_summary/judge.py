#!/usr/bin/env python3
"""native_first_pass_summary: blocked_sleeper on the native kernel with
livepatch.trace_first_pass_summary set, judged by blocked_sleeper's
judge (see its docstring: what the summarized first pass must and must
not say).  On a stock kernel the guest only checked that the parameter
does not exist."""

import os
import runpy

runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                            "blocked_sleeper", "judge.py"),
               init_globals={"SCENARIO": "native_first_pass_summary"},
               run_name="__main__")
