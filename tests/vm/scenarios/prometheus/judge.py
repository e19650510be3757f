#!/usr/bin/env python3
"""prometheus: every step held on both sides, the expositions are valid.

The live comparison (Prometheus's answers against the guest's truth)
is the peer's (peer, prom/steps.json); here: the guest saw every step
acked "ok" (steps), the peer's record agrees condition by condition and
has the shipped rules' alerts pending before firing (KlpTransitionStuck
in the held transition, KlpModuleUnloadReady once disabled), `promtool
check rules` accepts the rules as the test ran them, and `promtool check
metrics` every exposition the test produced: the textfile as
node_exporter served it (metrics/STEP.prom) and klptop --listen's
scrape (prom/scrape-STEP.txt).
"""

import glob
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "judge"))
from checks import trace_complete  # noqa: E402
from klptjudge import Judge, load_events  # noqa: E402

STEPS = ["up", "blocked", "released", "disabled", "removed"]

j = Judge()
trace_complete(j, load_events(j.resultdir))

acked = [ln.split(None, 1) for ln in j.read("steps").splitlines() if ln.strip()]
j.check([a[0] for a in acked] == STEPS,
        f"guest steps: expected {STEPS}, got {[a[0] for a in acked]}")
for a in acked:
    j.check(len(a) == 2 and a[1] == "ok", f"step {a[0]}: the peer's verdict {a[1:]}")

try:
    with open(j.path("prom", "steps.json")) as f:
        record = json.load(f)
except (OSError, ValueError) as e:
    j.fail(f"prom/steps.json: {e}")
    record = []
for e in record:
    for c in e.get("conds", []):
        j.check(c["held"], f"step {e['step']}: {c['what']}: {c['expr']} "
                f"expected {c['want']}, got {c['got']}")
    want = {"blocked": "KlpTransitionStuck", "disabled": "KlpModuleUnloadReady"}.get(e["step"])
    alert = e.get("alert") or {}
    j.check(alert.get("name") == want,
            f"step {e['step']}: the alert followed was {alert.get('name')}, not {want}")
    for job, a in alert.get("jobs", {}).items():
        j.check(a["held"], f"step {e['step']}: {job}: {want} was not pending "
                "for its `for:` before firing", a)
    j.check(not want or len(alert.get("jobs", {})) == 2,
            f"step {e['step']}: no alert history of both jobs")
j.check([e["step"] for e in record] == STEPS,
        f"peer steps: expected {STEPS}, got {[e['step'] for e in record]}")

promtool = shutil.which("promtool")
files = sorted(glob.glob(j.path("metrics", "*.prom")) +
               glob.glob(j.path("prom", "scrape-*.txt")))
if not j.check(promtool, "promtool missing (apt-get install prometheus)"):
    files = []
else:
    r = subprocess.run([promtool, "check", "rules", j.path("prom", "klptrace.rules.yml")],
                       capture_output=True, text=True)
    j.check(r.returncode == 0, "promtool check rules prom/klptrace.rules.yml: "
            f"status {r.returncode}", r.stdout + r.stderr)
j.check(len(files) == 2 * len(STEPS) or not promtool,
        f"expected {2 * len(STEPS)} expositions, got {len(files)}")
for path in files:
    with open(path, "rb") as f:
        r = subprocess.run([promtool, "check", "metrics"], stdin=f,
                           capture_output=True, text=True)
    j.check(r.returncode == 0,
            f"promtool check metrics {os.path.relpath(path, j.resultdir)}: "
            f"status {r.returncode}", r.stdout + r.stderr)

# klptop(1): 128+N when ended by signal N, after cleaning up
j.check(j.fact("klptop_rc") == "143",
        f"klptop --openmetrics --listen exited {j.fact('klptop_rc')!r} on SIGTERM, not 143")
j.check(j.fact("klptop_instances_left") == "0",
        f"klptop's tracefs instance left after SIGTERM: {j.fact('klptop_instances_left')}")
j.check(j.fact("textdir_left") == "klptrace.prom",
        f"the textfile directory after klptop: {j.fact('textdir_left')!r}, "
        "expected klptrace.prom alone")
j.done()
