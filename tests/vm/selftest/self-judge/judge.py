#!/usr/bin/env python3
"""Fails on purpose, with two messages, after finding the marker."""
from klptjudge import Judge, load_events

j = Judge()
ev = load_events(j.resultdir)
j.check(ev.markers("self-judge marker"), "marker missing")
j.check(False, "intended judge failure 1")
j.check(False, "intended judge failure 2", "with a detail")
j.done()
