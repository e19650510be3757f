#!/usr/bin/env python3
"""tasks_smp4: the model's task set against /proc and the idle tasks of
4 possible CPUs, at every checkpoint (judge/taskset.py)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
import taskset  # noqa: E402

taskset.main(smp=4)
