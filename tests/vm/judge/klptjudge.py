"""Helpers for the host-side judges of klptrace VM scenarios.

A judge is tests/vm/scenarios/NAME/judge.py, run by tests/vm/run.sh as
``judge.py RESULTDIR`` (with this directory on PYTHONPATH).  RESULTDIR
holds what the guest collected (see tests/vm/run.sh): events.txt (the
text of the klpt_e2e instance's trace_pipe), snap/NAME/, dmesg.txt, ...

    from klptjudge import Judge, load_events, load_snap

    j = Judge()                       # RESULTDIR from sys.argv[1]
    ev = load_events(j.resultdir)
    win = ev.between("klpt_snap_end before", "klpt_snap_begin after")
    j.check(win.named("klp_transition_complete"), "no transition completed")
    snap = load_snap(j.resultdir, "before")
    j.check(snap.tasks[1].comm == "init", "pid 1 is not init")
    j.done()                          # exit 1 listing failures, else 0

Trace lines look like (trace_pipe, no tgid column unless enabled):

    klpt_sleeper-93      [001] d..2.    12.345678: klp_task_blocked: pid=93 ...
              sh-101     [000] .....     3.976403: tracing_mark_write: TEXT

``key=val`` pairs become Event.fields, integer values as int; leading
words without ``=`` (module events: ``module_get: NAME call_site=...``)
are Event.args, and the first one is also fields["name"] for the module
system.  Markers (tracing_mark_write) keep their text in Event.text.
"""

import json
import os
import re
import sys

__all__ = [
    "Event", "Events", "Snapshot", "Task", "Judge",
    "parse_line", "parse_body", "parse_events", "load_events", "load_snap",
    "markers", "events_between", "show", "MARKER",
]

# The event name of trace_marker writes.
MARKER = "tracing_mark_write"

# Fields that are text even when they look like numbers (a task may be
# called "1234", a module "42").
STRING_FIELDS = {"comm", "patch", "module", "func", "caller", "name",
                 "call_site", "target", "from", "to", "via", "reason", "op"}

# "comm-pid [ (tgid)] [cpu] [flags] ts: name: body".  comm may contain
# '-' and spaces (the pid is the last -digits); flags (irq-info option)
# never start with a digit, the timestamp always does.
_LINE_RE = re.compile(
    r"^\s*(?P<comm>.*?)-(?P<pid>\d+)\s+"
    r"(?:\(\s*(?P<tgid>[-\d]+)\)\s+)?"
    r"\[(?P<cpu>\d+)\]\s+"
    r"(?:(?P<flags>[^\s\d]\S*)\s+)?"
    r"(?P<ts>\d+\.\d+):\s+"
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*):\s?"
    r"(?P<body>.*)$")

# "CPU:1 [LOST 123 EVENTS]": trace_pipe's note of a ring-buffer overrun.
_LOST_RE = re.compile(r"^CPU:(?P<cpu>\d+) \[LOST (?P<n>\d+) EVENTS\]")

# Start of a "key=" in an event body.
_KEY_RE = re.compile(r"(?:^|(?<=\s))([A-Za-z_][A-Za-z0-9_]*)=")

_INT_RE = re.compile(r"^-?\d+$")


class Event:
    """One trace line.

    ts (float, s), cpu (int), name (event name), fields (dict), args
    (list of positional words), text (the body as printed), comm/pid
    (the task that wrote the event), flags (str or None), lineno (1-based
    line in events.txt), line (the raw line).
    """

    __slots__ = ("ts", "cpu", "name", "fields", "args", "text", "comm",
                 "pid", "tgid", "flags", "lineno", "line")

    def __init__(self, ts, cpu, name, fields, args, text, comm, pid,
                 tgid=None, flags=None, lineno=0, line=""):
        self.ts = ts
        self.cpu = cpu
        self.name = name
        self.fields = fields
        self.args = args
        self.text = text
        self.comm = comm
        self.pid = pid
        self.tgid = tgid
        self.flags = flags
        self.lineno = lineno
        self.line = line

    def __getitem__(self, key):
        return self.fields[key]

    def get(self, key, default=None):
        return self.fields.get(key, default)

    @property
    def is_marker(self):
        return self.name == MARKER

    def __repr__(self):
        return "Event(%s @%.6f cpu%d %s)" % (self.name, self.ts, self.cpu,
                                             self.text)

    def __str__(self):
        return self.line or repr(self)


def _convert(key, val):
    if key not in STRING_FIELDS and _INT_RE.match(val):
        return int(val)
    return val


def parse_body(name, body):
    """Split an event body into (fields, args).

    A value runs up to the next `` key=``, so values with spaces (a comm)
    survive; an empty value (``func=``) is "".
    """
    fields = {}
    args = []
    if name == MARKER:
        return fields, args
    keys = list(_KEY_RE.finditer(body))
    head = body[:keys[0].start()] if keys else body
    args = head.split()
    for i, m in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(body)
        key = m.group(1)
        fields[key] = _convert(key, body[m.end():end].strip())
    # module:module_load/free/get/put print the module name first.
    if args and "name" not in fields and name.startswith("module_"):
        fields["name"] = args[0]
    return fields, args


def parse_line(line, lineno=0):
    """Parse one trace line into an Event, or None if it is not one."""
    line = line.rstrip("\r\n")
    m = _LINE_RE.match(line)
    if not m:
        return None
    name = m.group("name")
    body = m.group("body")
    fields, args = parse_body(name, body)
    tgid = m.group("tgid")
    return Event(ts=float(m.group("ts")), cpu=int(m.group("cpu")), name=name,
                 fields=fields, args=args,
                 text=body.strip() if name == MARKER else body,
                 comm=m.group("comm").strip(), pid=int(m.group("pid")),
                 tgid=int(tgid) if tgid and tgid.lstrip("-").isdigit() else None,
                 flags=m.group("flags"), lineno=lineno, line=line)


class Events(list):
    """The events of a run, in file order, with query helpers.

    ``lost`` lists (cpu, count, lineno) of "[LOST n EVENTS]" notes and
    ``unparsed`` (lineno, line) of lines that are not events.
    """

    def __init__(self, items=(), lost=None, unparsed=None):
        super().__init__(items)
        self.lost = lost if lost is not None else []
        self.unparsed = unparsed if unparsed is not None else []
        self._pos = None

    def _sub(self, items):
        return Events(items, self.lost, self.unparsed)

    def markers(self, prefix=None):
        """The marker events (optionally only texts starting with prefix)."""
        return self._sub(e for e in self if e.name == MARKER and
                         (prefix is None or e.text.startswith(prefix)))

    def marker(self, text, start=0):
        """Index of the first marker with exactly TEXT at or after index
        START; raises KeyError if there is none."""
        for i in range(start, len(self)):
            e = self[i]
            if e.name == MARKER and e.text == text:
                return i
        raise KeyError("no marker %r" % text)

    def between(self, marker_a, marker_b=None):
        """Events after the first marker MARKER_A and before the first
        marker MARKER_B that follows it (to the end if MARKER_B is None).
        Markers inside the window are included.  KeyError if a marker is
        missing."""
        a = self.marker(marker_a)
        b = self.marker(marker_b, a + 1) if marker_b is not None else len(self)
        return self._sub(self[a + 1:b])

    def named(self, event, /, **fields):
        """Events called EVENT whose fields equal all of FIELDS (a field
        called like a Python keyword: named("x", **{"from": "patched"}))."""
        return self._sub(e for e in self if e.name == event and
                         all(e.fields.get(k) == v for k, v in fields.items()))

    def where(self, pred):
        """Events for which pred(event) is true."""
        return self._sub(e for e in self if pred(e))

    def first(self, event=None, /, **fields):
        """The first event (called EVENT, matching FIELDS), or None."""
        for e in (self.named(event, **fields) if event else self):
            return e
        return None

    def names(self):
        """Event names in order (handy for sequence checks)."""
        return [e.name for e in self]

    def pos(self, e):
        """Index of event E, which must be one of these very events (by
        identity), in this list: pos(e) < pos(f) means E came first, and
        positions compare with marker() indices.  KeyError for an event
        that is not here.  (Builds its map at the first call: do not
        change the list afterwards.)"""
        if self._pos is None:
            self._pos = {id(x): i for i, x in enumerate(self)}
        return self._pos[id(e)]


def parse_events(lines):
    """Parse an iterable of trace lines into Events."""
    events, lost, unparsed = [], [], []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        e = parse_line(line, n)
        if e is not None:
            events.append(e)
            continue
        m = _LOST_RE.match(line.strip())
        if m:
            lost.append((int(m.group("cpu")), int(m.group("n")), n))
        else:
            unparsed.append((n, line.rstrip("\r\n")))
    return Events(events, lost, unparsed)


def load_events(resultdir):
    """Parse RESULTDIR/events.txt (missing file: no events)."""
    path = os.path.join(resultdir, "events.txt")
    if not os.path.exists(path):
        return Events()
    with open(path, encoding="utf-8", errors="replace") as f:
        return parse_events(f)


def show(events, n=8):
    """The first N of EVENTS as detail lines for Judge.check (the trace
    lines, stripped), then "... and K more" if there are more."""
    events = list(events)
    out = [str(e).strip() for e in events[:n]]
    if len(events) > n:
        out.append("... and %d more" % (len(events) - n))
    return out


def markers(events, prefix=None):
    """The marker events of EVENTS; see Events.markers."""
    return Events(events).markers(prefix)


def events_between(events, marker_a, marker_b=None):
    """Events between two markers; see Events.between."""
    return Events(events).between(marker_a, marker_b)


class Task:
    """A thread in a snapshot: tid, tgid, state (patch_state: -1, 0, 1),
    kthread (bool), comm.  Unpacks as (tgid, state, kthread, comm)."""

    __slots__ = ("tid", "tgid", "state", "kthread", "comm")

    def __init__(self, tid, tgid, state, kthread, comm):
        self.tid, self.tgid, self.state = tid, tgid, state
        self.kthread, self.comm = kthread, comm

    def __iter__(self):
        return iter((self.tgid, self.state, self.kthread, self.comm))

    def __getitem__(self, i):
        return (self.tgid, self.state, self.kthread, self.comm)[i]

    def __eq__(self, other):
        return tuple(self) == tuple(other)

    def __repr__(self):
        return "Task(%d %d %d %s %s)" % (self.tid, self.tgid, self.state,
                                         int(self.kthread), self.comm)


class Snapshot:
    """snap NAME as written by the guest (lib.sh snap).

    tasks     {tid: Task}  (Task unpacks as (tgid, state, kthread, comm))
    livepatch {patch: {"enabled": int, "transition": int,
                       "objects": {object: patched},
                       "funcs": {(object, function, sympos)}}}
    refcnt    {module: int}
    hooks     the klptrace hooks text, or None
    """

    def __init__(self, name, tasks, livepatch, refcnt, hooks=None):
        self.name = name
        self.tasks = tasks
        self.livepatch = livepatch
        self.refcnt = refcnt
        self.hooks = hooks

    def by_comm(self, comm):
        """Tasks called COMM."""
        return [t for t in self.tasks.values() if t.comm == comm]


def _read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def load_snap(resultdir, name):
    """Load RESULTDIR/snap/NAME; FileNotFoundError if it was never taken."""
    d = os.path.join(resultdir, "snap", name)
    if not os.path.isdir(d):
        raise FileNotFoundError("no snapshot %r in %s" % (name, resultdir))
    tasks = {}
    for line in _read_lines(os.path.join(d, "tasks")):
        tid, tgid, state, kthread, comm = line.split(" ", 4)
        tasks[int(tid)] = Task(int(tid), int(tgid), int(state),
                               kthread == "1", comm)
    livepatch = {}
    for line in _read_lines(os.path.join(d, "livepatch")):
        parts = line.split()
        path = parts[0].split("/")
        if len(path) > 1:
            lp = livepatch.setdefault(path[0], {
                "enabled": None, "transition": None, "objects": {},
                "funcs": set()})
            if len(path) == 3:
                func, pos = path[2].rsplit(",", 1)
                lp["funcs"].add((path[1], func, int(pos)))
            else:
                lp["objects"][path[1]] = int(parts[1])
        else:
            livepatch[parts[0]] = {"enabled": int(parts[1]),
                                   "transition": int(parts[2]),
                                   "objects": {}, "funcs": set()}
    refcnt = {}
    for line in _read_lines(os.path.join(d, "modules")):
        mod, n = line.split()
        refcnt[mod] = int(n)
    hooks = None
    if os.path.exists(os.path.join(d, "hooks")):
        with open(os.path.join(d, "hooks"), encoding="utf-8") as f:
            hooks = f.read()
    return Snapshot(name, tasks, livepatch, refcnt, hooks)


class Judge:
    """Collects check failures; done() exits 1 listing them, 0 if none.

    resultdir defaults to sys.argv[1].  check() returns the condition so
    a judge can skip dependent checks:  if j.check(e, "..."): use(e)
    """

    def __init__(self, resultdir=None):
        if resultdir is None:
            if len(sys.argv) < 2:
                sys.exit("usage: %s RESULTDIR" % sys.argv[0])
            resultdir = sys.argv[1]
        self.resultdir = resultdir
        self.failures = []

    def check(self, cond, msg, *details):
        """Record MSG (and DETAILS, e.g. offending events, indented) as a
        failure unless COND is true.  Returns bool(COND)."""
        if not cond:
            self.failures.append("\n".join([msg] + ["  %s" % (d,) for d in details]))
        return bool(cond)

    def fail(self, msg, *details):
        """Record an unconditional failure."""
        self.check(False, msg, *details)

    def path(self, *parts):
        """A path inside the result directory."""
        return os.path.join(self.resultdir, *parts)

    def read(self, *parts):
        """The text of a result file ("" if missing)."""
        p = self.path(*parts)
        if not os.path.exists(p):
            return ""
        with open(p, encoding="utf-8", errors="replace") as f:
            return f.read()

    def frames(self, *parts):
        """The JSON lines of a result file (klptop --json frames), each
        parsed; a line that is not JSON is recorded as a failure."""
        out = []
        for line in self.read(*parts).splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                self.fail("%s: not JSON: %r" % (os.path.join(*parts), line[:200]))
        return out

    def fact(self, name):
        """A ground-truth value the guest wrote to facts/NAME (lib.sh
        fact), stripped ("" if missing)."""
        return self.read("facts", name).strip()

    def done(self):
        """Print the failures and exit 1, or exit 0 when there are none."""
        if self.failures:
            for f in self.failures:
                print("- " + f)
            sys.exit(1)
        sys.exit(0)
