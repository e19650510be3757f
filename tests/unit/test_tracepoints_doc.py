#!/usr/bin/env python3
"""tracepoints/README.md documents every klp event with exactly its fields.

Reads the TRACE_EVENT/DEFINE_EVENT definitions in tracepoints/klp_trace.h
and the tables of the README, and fails on any event or field that one has
and the other lacks.
"""
import os
import re
import sys

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def header_events(text):
    """{event: [fields]} from klp_trace.h."""
    def fields_of(body):
        entry = re.search(r"TP_STRUCT__entry\((.*?)\),\s*TP_fast_assign", body,
                          re.S).group(1)
        out = []
        for kind, args in re.findall(r"__(field|string|array)\(([^)]*)\)", entry):
            parts = [a.strip() for a in args.split(",")]
            out.append(parts[0] if kind == "string" else parts[1])
        return out

    chunks = re.split(r"\n(?=(?:TRACE_EVENT|DECLARE_EVENT_CLASS|DEFINE_EVENT)\()", text)
    classes, events = {}, {}
    for c in chunks:
        m = re.match(r"(TRACE_EVENT|DECLARE_EVENT_CLASS|DEFINE_EVENT)\((\w+),\s*(\w+)?", c)
        if not m:
            continue
        kind, name, second = m.groups()
        if kind == "TRACE_EVENT":
            events[name] = fields_of(c)
        elif kind == "DECLARE_EVENT_CLASS":
            classes[name] = fields_of(c)
        else:
            events[second] = classes[name]
    return events


def readme_events(text):
    """{event: [fields]} from the README's tables."""
    out = {}
    for m in re.finditer(r"^\| `(klp_\w+)` \| ([^|]*) \|", text, re.M):
        out[m.group(1)] = re.findall(r"`(\w+)`", m.group(2))
    return out


def main():
    hdr = header_events(open(os.path.join(TOP, "tracepoints/klp_trace.h")).read())
    doc = readme_events(open(os.path.join(TOP, "tracepoints/README.md")).read())
    errors = []
    if len(hdr) < 15:
        errors.append("parsed only %d events from klp_trace.h" % len(hdr))
    for ev in sorted(set(hdr) | set(doc)):
        if ev not in doc:
            errors.append("%s: defined but not documented" % ev)
        elif ev not in hdr:
            errors.append("%s: documented but not defined" % ev)
        elif hdr[ev] != doc[ev]:
            errors.append("%s: fields %s in klp_trace.h, %s in README" % (ev, hdr[ev], doc[ev]))
    for e in errors:
        print("FAIL:", e)
    print("%d events checked" % len(hdr))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
