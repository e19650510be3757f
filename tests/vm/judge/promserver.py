"""A real Prometheus server for a test: started, queried, stopped.

Debian's /usr/bin/prometheus (2.42 in bookworm) with a configuration and
a storage directory of its own in a temporary directory, listening on a
free port of 127.0.0.1 (another one if that was taken meanwhile), ready
when /-/ready says so (polled, bounded).  It runs in the caller's process
group (run.sh kills the peer's whole group, should the peer itself not
stop it) and is stopped by stop() or leaving the `with` block.
Queries go through the HTTP API (/api/v1/query, /api/v1/alerts).
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PROMETHEUS = os.environ.get("PROMETHEUS", "/usr/bin/prometheus")


def free_port():
    """A TCP port of 127.0.0.1 free right now (the kernel's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_yaml(jobs, rule_files, interval="1s"):
    """Prometheus's configuration: JOBS {name: ["host:port", ...]}
    scraped every INTERVAL, RULE_FILES evaluated every INTERVAL.  JSON is
    YAML: no YAML library needed."""
    return json.dumps({
        "global": {"scrape_interval": interval,
                   "scrape_timeout": interval,
                   "evaluation_interval": interval},
        "rule_files": list(rule_files),
        "scrape_configs": [
            {"job_name": name, "static_configs": [{"targets": targets}]}
            for name, targets in jobs.items()],
    }, indent=1)


class PrometheusError(Exception):
    pass


class Prometheus:
    def __init__(self, jobs, rule_files=(), workdir=None, interval="1s"):
        self.jobs = jobs
        self.rule_files = [os.path.abspath(r) for r in rule_files]
        self.interval = interval
        self.tmp = tempfile.mkdtemp(prefix="klpt-prom.", dir=workdir)
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.tmp, "prometheus.log")

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, ready_timeout=60, tries=3):
        conf = os.path.join(self.tmp, "prometheus.yml")
        with open(conf, "w") as f:
            f.write(config_yaml(self.jobs, self.rule_files, self.interval))
        for _ in range(tries):
            self.port = free_port()
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [PROMETHEUS, f"--config.file={conf}",
                 f"--storage.tsdb.path={os.path.join(self.tmp, 'data')}",
                 f"--web.listen-address=127.0.0.1:{self.port}",
                 # the scenario's minutes, not the default 5: a series
                 # gone from the targets must not linger in queries
                 # should a staleness marker be missed (a failed scrape)
                 "--query.lookback-delta=30s",
                 "--log.level=warn"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            log.close()
            end = time.monotonic() + ready_timeout
            while time.monotonic() < end and self.proc.poll() is None:
                if self._ready():
                    return
                time.sleep(0.1)
            if self.proc.poll() is None:
                self.stop()
                raise PrometheusError(
                    f"not ready within {ready_timeout} s: {self.log_tail()}")
            # exited: the port taken between free_port() and its bind?
            if "address already in use" not in self.log_tail():
                raise PrometheusError(f"exited with {self.proc.returncode}: "
                                      f"{self.log_tail()}")
        raise PrometheusError(f"no free port in {tries} tries")

    def _ready(self):
        try:
            with urllib.request.urlopen(self.url("/-/ready"), timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self, keep_log_in=None):
        """Remove the temporary directory (the log copied to
        KEEP_LOG_IN first, if given)."""
        if keep_log_in and os.path.exists(self.log_path):
            shutil.copy(self.log_path, keep_log_in)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, n=2000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def url(self, path, **params):
        q = ("?" + urllib.parse.urlencode(params)) if params else ""
        return f"http://127.0.0.1:{self.port}{path}{q}"

    def api(self, path, **params):
        with urllib.request.urlopen(self.url(path, **params), timeout=10) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {body}")
        return body["data"]

    def query(self, expr):
        """An instant query, now: [(labels, value as float)] (a vector)."""
        data = self.api("/api/v1/query", query=expr)
        if data["resultType"] != "vector":
            raise PrometheusError(f"{expr}: a {data['resultType']}, not a vector")
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def samples(self, selector, seconds):
        """The samples stored in the last SECONDS for SELECTOR, at the
        times they were scraped or evaluated (an instant query of a range
        vector; a range query would quantise them to its steps):
        [(labels, [(unix time, value)...])]."""
        data = self.api("/api/v1/query", query=f"{selector}[{int(seconds)}s]")
        if data["resultType"] != "matrix":
            raise PrometheusError(f"{selector}: a {data['resultType']}, not a matrix")
        return [(r["metric"], [(float(t), float(v)) for t, v in r["values"]])
                for r in data["result"]]

    def alerts(self):
        """The active alerts: [{labels, state (pending|firing), ...}]."""
        return self.api("/api/v1/alerts")["alerts"]
