#!/usr/bin/env python3
"""All 20000 markers in order, random.bin intact."""
import hashlib

from klptjudge import Judge, load_events

j = Judge()
ev = load_events(j.resultdir)
got = [m.text for m in ev.markers("bigout ")]
j.check(got == ["bigout %d" % i for i in range(20000)],
        "markers: %d of 20000, or out of order" % len(got))
j.check(not ev.lost, "lost events", *ev.lost)
with open(j.path("random.bin"), "rb") as f:
    data = f.read()
j.check(len(data) == 1048576 and hashlib.sha256(data).hexdigest()
        == j.read("random.sha256").strip(), "random.bin corrupt")
j.done()
