#!/usr/bin/python3
"""Turn the raw benchmark output of bench/run.sh into markdown tables.

    report.py BENCH_BUILD_DIR

BENCH_BUILD_DIR (build/bench) holds decode/runs.txt ("METHOD events N
wall_s W cpu_s C" per run) and vm/results/<scenario>/bench/*.txt from
the VM scenarios (see bench/vm/scenarios/*/guest.sh).  Prints markdown:
one table per benchmark with the median of the runs, each ratio to its
baseline measured in the same run and whether the target is met.
Missing inputs give a line saying so instead of a table.
"""
import os
import re
import statistics
import sys


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def kv(line):
    """'a 1 b 2.5 c x' -> {'a': 1.0, 'b': 2.5, 'c': 'x'} (pairs)."""
    w = line.split()
    out = {}
    for k, v in zip(w[0::2], w[1::2]):
        try:
            out[k] = float(v)
        except ValueError:
            out[k] = v
    return out


def lines(path):
    try:
        with open(path) as f:
            return [l.strip() for l in f if l.strip()]
    except OSError:
        return []


def yes(ok):
    return "**met**" if ok else "**missed**"


def fmt_rate(x):
    return f"{x / 1e6:.2f} M/s" if x >= 1e6 else f"{x / 1e3:.1f} k/s"


def decode(build, out):
    runs = {}
    for l in lines(os.path.join(build, "decode", "runs.txt")):
        m, rest = l.split(None, 1)
        runs.setdefault(m, []).append(kv(rest))
    out.append("## 1. Decode + model throughput (host)\n")
    if not runs.get("klpt"):
        out.append("No decode runs (build/bench/decode/runs.txt).\n")
        return
    n = runs["klpt"][0]["events"]
    rows = [("libklptrace replay (decode + merge + model)", "klpt"),
            ("minimal libtraceevent loop (kbuffer, fields looked up once)", "tep"),
            ("`trace-cmd report` on the equivalent trace.dat", "trace-cmd")]
    t = {m: med([r["cpu_s"] for r in runs.get(m, [])]) for _, m in rows}
    w = {m: med([r["wall_s"] for r in runs.get(m, [])]) for _, m in rows}
    out.append(f"{int(n):,} synthetic events (mix: `build/bench/decode/gen.txt`), "
               "same page-cached files; median CPU time of the runs (the "
               "process's user + system time and its children's: libklptrace's "
               "replay may check a recording in a child first; other load on "
               "the machine stretches wall time, shown for information).\n")
    out.append("| path | runs | median CPU s | events per CPU-s | ns/event | median wall s |")
    out.append("|---|---|---|---|---|---|")
    for name, m in rows:
        if m in runs:
            out.append(f"| {name} | {len(runs[m])} | {t[m]:.3f} | "
                       f"{fmt_rate(n / t[m])} | {t[m] / n * 1e9:.0f} | {w[m]:.3f} |")
    out.append("")
    out.append("| ratio (libklptrace events/s : baseline events/s) | value | target | |")
    out.append("|---|---|---|---|")
    if "tep" in runs:
        r = t["tep"] / t["klpt"]
        out.append(f"| vs minimal libtraceevent loop | {r:.2f}x | >= 0.85x | {yes(r >= 0.85)} |")
    if "trace-cmd" in runs:
        r = t["trace-cmd"] / t["klpt"]
        out.append(f"| vs `trace-cmd report` | {r:.1f}x | >= 10x | {yes(r >= 10)} |")
    out.append("")


def live(build, out):
    out.append("### 1b. Live path in the VM (TCG)\n")
    rows = []
    for s in ("watch_1k", "watch_10k", "watch_50k"):
        d = os.path.join(build, "vm", "results", s, "bench")
        ls = [kv(l.split(None, 1)[1]) for l in lines(os.path.join(d, "live.txt"))]
        cyc = [kv(l) for l in lines(os.path.join(d, "cycle.txt"))]
        if len(ls) < 3:
            continue
        a, b = ls[1], ls[2]   # marks around the burst
        ev = b["events"] - a["events"]
        cpu = b["cpu_s"] - a["cpu_s"]
        tr = cyc[0]["total_ms"] / 1e3 if cyc else float("nan")
        cl = [kv(l).get("close_s", -1) for l in lines(os.path.join(d, "live.txt.close"))]
        # the session opens (start-up CPU to the "open" line) and the
        # one-shot scans interleaved with them
        opens = [kv(l.split(None, 1)[1])["cpu_s"]
                 for f in ("open1.txt", "open2.txt")
                 for l in lines(os.path.join(d, f))[:1]] + [ls[0]["cpu_s"]]
        scans = [kv(l)["cpu_s"] for l in lines(os.path.join(d, "scan1.txt"))]
        rows.append((s, int(cyc[0]["tasks"]) if cyc else 0, int(ev),
                     int(b["lost"]), cpu, tr, opens, scans,
                     "> 30 (killed)" if cl and cl[0] < 0 else (f"{cl[0]:.0f}" if cl else "?")))
    if not rows:
        out.append("No live runs (watch_* scenarios).\n")
        return
    out.append("A full lifecycle of `klpt_lp_vmlinux` (every thread switches twice) "
               "while `klptb_watch` runs; events the session delivered between its "
               "marks, its CPU time for them, and the transition time for scale. "
               "One run per VM (a second would need a second boot); the VM's "
               "emulated CPU is many times slower than the host's.\n")
    out.append("Session open: the watcher's CPU time up to its \"open\" line "
               "(process start, tracefs instance, the ground-truth snapshot, "
               "the model), median of the opens; its baseline is one "
               "kpatch-style scan (`klptb_scan`: one pass over "
               "/proc/*/task/*/patch_state), median of three run "
               "between the opens in the same VM.\n")
    out.append("| scenario | threads | events | lost | watcher CPU s | events per CPU-s | both transitions s | session open CPU s (runs) | one scan CPU s (runs) | open / scan | target | | session close wall s |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for s, n, ev, lost, cpu, tr, opens, scans, cl in rows:
        rate = ev / cpu if cpu > 0 else float("inf")
        op = med(opens)
        sc = med(scans) if scans else float("nan")
        ratio = op / sc if scans and sc > 0 else float("nan")
        tgt, verdict = ("<= 1.5x", yes(ratio <= 1.5)) if n >= 50000 else ("", "")
        out.append(f"| {s} | {n} | {ev} | {lost} | {cpu:.3f} | {fmt_rate(rate)} | {tr:.2f} | "
                   f"{op:.2f} ({len(opens)}) | {sc:.2f} ({len(scans)}) | {ratio:.2f}x | {tgt} | {verdict} | {cl} |")
    out.append("")


def overhead_runs(build, flavour):
    """{threads: {config: [records]}} of one kernel's overhead VMs
    (flavour "" the Debian kernel, "native" the native one); rep 0, the
    warm-up, left out."""
    runs = {}
    for s in ("overhead_1k", "overhead_10k", "overhead_50k"):
        d = os.path.join(build, "vm", "results", flavour, s, "bench")
        recs = [kv(l) for l in lines(os.path.join(d, "overhead.txt"))]
        recs = [r for r in recs if r.get("rep", 0) >= 1]
        if not recs:
            continue
        by = runs.setdefault(int(recs[0]["tasks"]), {})
        for r in recs:
            by.setdefault(r["config"], []).append(r)
    return runs


def overhead_table(runs, names, events, target, out, extra=()):
    """One kernel's rows: each config's medians and its ratio to none;
    events (klptrace or native), and each of EXTRA (other configs of the
    same events: klptrace_fps, native_fps), is judged by target(n, ratio), which
    returns (target text, verdict) or None; it is also compared with
    dyndbg.  Returns {config: {threads: ratio to none}} of events and
    EXTRA."""
    judged = (events,) + tuple(extra)
    ratios = {c: {} for c in judged}
    notes = []
    out.append("| threads | config | runs | median total ms | enable (load + 1st pass) ms | disable until freed ms | ratio to " + names["none"] + " | target | |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for n, by in sorted(runs.items()):
        base = med([r["total_ms"] for r in by.get("none", [])])
        dd = med([r["total_ms"] for r in by.get("dyndbg", [])])
        for c in ("none", "dyndbg") + judged:
            rs = by.get(c, [])
            if not rs:
                continue
            tot = med([r["total_ms"] for r in rs])
            ratio = tot / base
            tgt, verdict = "", ""
            if c in judged:
                ratios[c][n] = ratio
                t = target(n, ratio)
                if t:
                    tgt, verdict = t
            out.append(f"| {n} | {names.get(c, c)} | {len(rs)} | {tot:.1f} | "
                       f"{med([r['enable_ms'] for r in rs]):.1f} | "
                       f"{med([r['disable_ms'] for r in rs]):.1f} | {ratio:.3f}x | {tgt} | {verdict} |")
            if c in judged and by.get("dyndbg"):
                out.append(f"| {n} | {names[c]} vs dyndbg | | | | | {tot / dd:.3f}x | "
                           f"cheaper than dyndbg ({tot:.1f} vs {dd:.1f} ms) | {yes(tot < dd)} |")
            if c in judged:
                notes.append(f"{n} threads: {int(med([r['klp_events'] for r in rs]))} klp events per lifecycle with {names[c]}; "
                             f"{int(med([r['dyndbg_lines'] for r in by.get('dyndbg', [])] or [0]))} dynamic-debug lines")
    out.append("")
    for t in notes:
        out.append(f"- {t}")
    out.append("")
    return ratios


def overhead(build, out):
    out.append("## 2. Kernel overhead of a full patch transition (VM, TCG, 1 CPU)\n")
    out.append("Guest time under `-icount shift=0,sleep=off`: 1 ms = a million "
               "guest instructions, independent of the host's load "
               "(bench/README.md).\n")
    deb = overhead_runs(build, "")
    nat = overhead_runs(build, "native")
    if not deb and not nat:
        out.append("No overhead runs (overhead_* scenarios).\n")
        return
    kr, nr, nf = {}, {}, {}
    if deb:
        out.append("Debian's kernel, klptrace.ko's events (kprobes):\n")
        kr = overhead_table(
            deb, {"none": "none", "dyndbg": "dyndbg", "klptrace": "klptrace",
                  "klptrace_fps": "klptrace first_pass_summary"},
            "klptrace", lambda n, r: ("<= 1.05x none", yes(r <= 1.05)), out,
            extra=("klptrace_fps",))
    if nat:
        out.append("The native kernel (`make native-kernel`: the series "
                   "kernel/native/, the klp events are the kernel's own; a "
                   "smaller config than Debian's, so its times are not "
                   "comparable with the table above, only its ratios):\n")
        nat_r = overhead_table(
            nat, {"none": "native events off", "dyndbg": "dyndbg",
                  "native": "native events on",
                  "native_fps": "native events on, first_pass_summary"},
            "native",
            lambda n, r: ("<= 1.02x off", yes(r <= 1.02)) if n == 10000
            else None, out, extra=("native_fps",))
        nr, nf = nat_r["native"], nat_r["native_fps"]
    out.append("Each event source against tracing off on its own kernel:\n")
    kf = kr.get("klptrace_fps", {})
    kr = kr.get("klptrace", {})
    out.append("| threads | klptrace.ko / none (Debian kernel) | klptrace.ko first_pass_summary=1 / none (Debian kernel) | native events on / off (native kernel) | native events on, first_pass_summary / off (native kernel) |")
    out.append("|---|---|---|---|---|")
    for n in sorted(set(kr) | set(kf) | set(nr) | set(nf)):
        k = f"{kr[n]:.3f}x" if n in kr else "not run"
        f = f"{kf[n]:.3f}x" if n in kf else "not run"
        v = f"{nr[n]:.3f}x" if n in nr else "not run"
        w = f"{nf[n]:.3f}x" if n in nf else "not run"
        out.append(f"| {n} | {k} | {f} | {v} | {w} |")
    out.append("")


def watching(build, out):
    out.append("## 3. Watching cost of a stalled transition (VM, TCG, 2 CPUs)\n")
    tab = ["| threads | method | windows | CPU s per s (median) | ratio to kpatch scan | target | |",
           "|---|---|---|---|---|---|---|"]
    any_rows = False
    for s in ("watch_1k", "watch_10k", "watch_50k"):
        d = os.path.join(build, "vm", "results", s, "bench")
        info = {}
        for l in lines(os.path.join(d, "guest-info")):
            k, v = l.split(None, 1)
            info[k] = v
        n = info.get("tasks", "?")

        def windows(name, first):
            ls = [kv(l.split(None, 1)[1]) for l in lines(os.path.join(d, name))]
            ws = []
            # marks pair up from line index `first`: (start, end), ...
            for i in range(first, len(ls) - 1, 2):
                a, b = ls[i], ls[i + 1]
                if b["mono_s"] > a["mono_s"]:
                    ws.append((b["cpu_s"] - a["cpu_s"]) / (b["mono_s"] - a["mono_s"]))
            return ws
        # live.txt: open, burst start, burst end, then window pairs
        lk = windows("live.txt", 3)
        fb = windows("fallback.txt", 1)
        sc = [kv(l)["cpu_per_s"] for l in lines(os.path.join(d, "scan.txt"))]
        if not (lk or sc):
            continue
        any_rows = True
        base = med(sc)
        # (row, windows, target text, whether a ratio to the scan meets it)
        for name, ws, tgt, ok in (
                ("libklptrace (klptrace.ko events)", lk,
                 "cheaper than the scan", lambda r: r < 1),
                ("kpatch-style scan of /proc/*/task/*/patch_state", sc, "", None),
                ("libklptrace fallback (no klptrace.ko)", fb,
                 "<= 0.5x the scan", lambda r: r <= 0.5)):
            if not ws:
                continue
            v = med(ws)
            ratio = v / base if base > 0 else float("nan")
            verdict = yes(ok(ratio)) if ok else ""
            tab.append(f"| {n} | {name} | {len(ws)} | {v:.4f} | {ratio:.3f}x | {tgt} | {verdict} |")
    if not any_rows:
        out.append("No watching runs (watch_* scenarios).\n")
        return
    out.extend(tab)
    out.append("")


def pct(xs, p):
    """Nearest-rank percentile p (0-100) of xs; nan when empty."""
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(-(-p * len(xs) // 100)) - 1))
    return xs[k]


def frames(path):
    """KLPTOP_FRAME_LOG lines -> list of {key: int}."""
    out = []
    for l in lines(path):
        if not l.startswith("frame "):
            continue
        d = {}
        for w in l.split()[1:]:
            k, _, v = w.partition("=")
            try:
                d[k] = int(v)
            except ValueError:
                pass
        out.append(d)
    return out


def latency(build, out):
    out.append("## 4. Latency: kernel event to library callback and to klptop (VM, TCG, 2 CPUs)\n")
    res = os.path.join(build, "vm", "results", "latency")
    d = os.path.join(res, "bench")
    lib = {}
    for l in lines(os.path.join(res, "lib", "1", "latency.txt")):
        lib = kv(l)
    modes, idle = {}, {}
    for m in ("screen", "batch"):
        fs = frames(os.path.join(d, m + ".frames"))
        modes[m], idle[m] = [], []
        for prev, f in zip(fs, fs[1:]):   # the 1st frame: start-up
            if f.get("first_new_ts", 0) <= 0 or f["done_ns"] < f["first_new_ts"]:
                continue
            lat = (f["done_ns"] - f["first_new_ts"]) / 1e6
            modes[m].append(lat)
            # the oldest event came 15 ms (the screen's least time
            # between redraws, REDRAW_MIN_MS) or more after the previous
            # frame was out: it did not wait for the rate limit, only for
            # the pipeline
            if f["first_new_ts"] >= prev["done_ns"] + 15000000:
                idle[m].append(lat)
    if not lib and not any(modes.values()):
        out.append("No latency run (vm/results/latency).\n")
        return
    info = {}
    for l in lines(os.path.join(d, "guest-info")):
        k, v = l.split(None, 1)
        info[k] = v
    ncyc = len(lines(os.path.join(d, "cycle.txt")))
    out.append(f"{info.get('tasks', '?')} idle threads; {ncyc} enable/disable cycles of "
               "`klpt_lp_vmlinux` in all (`klptb_cycle`: every thread switches twice), half "
               "while klptop ran on its interactive screen, half while it ran with `-b`. "
               "Library: every event's CLOCK_MONOTONIC at its callback minus its timestamp "
               "(the harness's `klpt_watch`, the whole run, 0.1 ms buckets). klptop: for each "
               "frame that shows new events, the time the frame was written minus the "
               "timestamp of the *oldest* new event in it (`KLPTOP_FRAME_LOG`), so one "
               "figure per frame, the worst event of that frame.\n")
    out.append("| path | samples | p50 ms | p99 ms | max ms | p99 ratio to callback | target (p99) | |")
    out.append("|---|---|---|---|---|---|---|---|")
    base = lib.get("p99_ms", float("nan"))
    if lib:
        p99 = lib["p99_ms"]
        out.append(f"| libklptrace callback (klpt_watch, per event) | {int(lib['events'])} | "
                   f"{lib['p50_ms']:.1f} | {p99:.1f} | {lib['max_ms']:.1f} | 1.00x | "
                   f"< 50 ms | {yes(p99 < 50)} |")
    names = {"screen": "klptop screen (curses on a 120x40 pty, redraws on events, >= 15 ms apart)",
             "batch": "klptop -b -d 0.1 (a text frame every 0.1 s)"}
    # -b -d X: the wait for the next frame is X by design; 20 ms on top
    targets = {"screen": 50, "batch": 100 + 20}
    for m in ("screen", "batch"):
        xs = modes[m]
        if not xs:
            out.append(f"| {names[m]} | 0 | | | | | | no frames |")
            continue
        p99 = pct(xs, 99)
        tgt = targets[m]
        out.append(f"| {names[m]} | {len(xs)} frames | {pct(xs, 50):.1f} | {p99:.1f} | "
                   f"{max(xs):.1f} | {p99 / base:.1f}x | "
                   f"{'< ' if m == 'screen' else '<= '}{tgt} ms | "
                   f"{yes(p99 < tgt if m == 'screen' else p99 <= tgt)} |")
        ys = idle[m]
        if ys and m == "screen":
            out.append(f"| of which: oldest event >= 15 ms after the previous frame (no rate-limit wait; for information) | "
                       f"{len(ys)} frames | {pct(ys, 50):.1f} | {pct(ys, 99):.1f} | {max(ys):.1f} | "
                       f"{pct(ys, 99) / base:.1f}x | | |")
    out.append("")


def stdout_fs(d):
    """Where tui.sh sent klptop's standard output: "a tmpfs" or "disk"."""
    try:
        with open(os.path.join(d, "stdout-fs")) as f:
            fs = f.read().strip()
    except OSError:
        return "disk (this run did not say)"
    return "a tmpfs (/dev/shm)" if fs == "tmpfs" else fs


def tui_scale(build, out):
    out.append("## 5. klptop scale: frame time and memory (host, replay)\n")
    d = os.path.join(build, "tui")
    rows = []
    for rec in ("big", "small", "huge"):
        g = {}
        for l in lines(os.path.join(d, f"gen-{rec}.txt")):
            if l.startswith("tasks "):
                g = kv(l)
        for mode in ("b", "json", "om"):
            runs = []
            i = 1
            while os.path.exists(os.path.join(d, "frames", f"{rec}.{mode}.{i}")):
                runs.append(frames(os.path.join(d, "frames", f"{rec}.{mode}.{i}"))[1:])
                i += 1
            if not runs:
                continue
            allf = [f for r in runs for f in r]
            tot = [(f["build_ns"] + f["draw_ns"]) / 1e6 for f in allf]
            # without the file's write, fsync and rename (io_ns, --openmetrics)
            cpu = [(f["build_ns"] + f["draw_ns"] - f.get("io_ns", 0)) / 1e6 for f in allf]
            rows.append((rec, mode, g, len(runs), len(allf),
                         med([med([(f["build_ns"] + f["draw_ns"]) / 1e6 for f in r]) for r in runs]),
                         pct(tot, 99),
                         med([f["build_ns"] / 1e6 for f in allf]),
                         med([(f["draw_ns"] - f.get("io_ns", 0)) / 1e6 for f in allf]),
                         max(f["rss_kb"] for f in allf),
                         med([f.get("io_ns", 0) / 1e6 for f in allf]),
                         pct([f.get("io_ns", 0) / 1e6 for f in allf], 99),
                         pct(cpu, 99),
                         med([med([(f["build_ns"] + f["draw_ns"] - f.get("io_ns", 0)) / 1e6
                                   for f in r]) for r in runs])))
    if not rows:
        out.append("No klptop scale runs (build/bench/tui).\n")
        return
    out.append("`klptb_gen -s`: a start-up snapshot of N threads, then a transition whose first "
               "pass leaves B of them blocked (60% sleeping in one of 3 patched functions, 30% "
               "running, 10% unreliable stack) and 30 retry passes a second apart that block "
               "them again. `klptop --replay DIR -d 1 -n 32` (one frame a second: each frame "
               "takes in one pass's B events; the frame before the first event is left out), "
               "`KLPTOP_FRAME_LOG`. Frame = view build + text, JSON or metrics output (standard "
               f"output to a file on {stdout_fs(d)}: its write() into the page cache, neither "
               "the disk's writeback nor a reader's pace; `--openmetrics`: the exposition written to a temporary file, fsync()ed, "
               "renamed over FILE, the directory fsync()ed, as in production), not the event "
               "intake between frames. Median of the runs' medians; p99 over "
               "all frames of all runs; RSS: the largest seen; ratio to -b: the median frame "
               "over -b's of the same recording in the same run (`--openmetrics`: without "
               "its file write). `--openmetrics`' file "
               "write (median / p99 ms) is apart: two fsync()s, the disk's time more than "
               "klptop's; its target (exposition < 5 ms) is judged on the p99 of the frame "
               "without it, and the p99 with it is in the frame column.\n")
    out.append("| recording | mode | runs x frames | median frame ms | p99 frame ms | median build ms | median draw/print ms | file write ms | max RSS MiB | median ratio to 1k/100 | ratio to -b | target (p99) | |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    base = {m: r[5] for r in rows for m in (r[1],) if r[0] == "small"}
    text = {r[0]: r[5] for r in rows if r[1] == "b"}
    names = {"b": "-b", "json": "--json", "om": "--openmetrics"}
    for rec, mode, g, nr, nf, m, p99, b, dr, rss, io, io99, cpu99, cpum in rows:
        label = f"{int(g.get('tasks', 0)):,} threads, {int(g.get('blocked', 0)):,} blocked"
        ratio = f"{m / base[mode]:.0f}x" if rec != "small" and base.get(mode) else ""
        # --openmetrics: its exposition (build + format), the write apart
        to_b = f"{(cpum if mode == 'om' else m) / text[rec]:.2f}x" \
            if mode != "b" and text.get(rec) else ""
        # issue 18: --json < 5 ms, -b < 3 ms, the exposition < 5 ms
        limit = {"om": 5, "json": 5, "b": 3}[mode]
        judged = cpu99 if mode == "om" else p99
        tgt = (f"< {limit} ms, RSS <= 64 MiB" + (f" ({cpu99:.2f} without the write)" if mode == "om" else "")) \
            if rec == "big" else ""
        # and the memory: RSS <= 64 MiB at 100k threads
        verdict = yes(judged < limit and rss / 1024 <= 64) if rec == "big" else ""
        write = f"{io:.2f} / {io99:.2f}" if mode == "om" else ""
        # a p99 that rounds to its limit shows the digit that decided
        p99s = f"{p99:.3f}" if rec == "big" and round(p99, 2) == limit else f"{p99:.2f}"
        out.append(f"| {label} | {names[mode]} | {nr} x {nf // nr} | {m:.2f} | "
                   f"{p99s} | {b:.2f} | {dr:.2f} | {write} | {rss / 1024:.0f} | {ratio} | {to_b} | {tgt} | {verdict} |")
    jb = {r: lines(os.path.join(d, f"json-bytes.{r}")) for r in ("big", "small", "huge")}
    if jb["big"]:
        out.append("")
        out.append(f"JSON output of the last replay: {int(jb['big'][0]) / 1e6:.1f} MB for 32 frames "
                   f"(big; every blocker is in each frame), {int(jb['small'][0]) / 1e6:.2f} MB (small)"
                   + (f", {int(jb['huge'][0]) / 1e6:.0f} MB for its frames (huge)." if jb["huge"] else "."))
    ob = {r: lines(os.path.join(d, f"om-bytes.{r}")) for r in ("big", "small", "huge")}
    if ob["big"]:
        out.append(f"The last `--openmetrics` exposition: {int(ob['big'][0]):,} bytes (big: counts "
                   f"per reason and the 5 longest blocked, not every blocker), "
                   f"{int(ob['small'][0]):,} bytes (small).")
    out.append("")


def main():
    build = sys.argv[1]
    out = []
    decode(build, out)
    live(build, out)
    overhead(build, out)
    watching(build, out)
    latency(build, out)
    tui_scale(build, out)
    print("\n".join(out))


if __name__ == "__main__":
    main()
