# shellcheck shell=bash
# The screen's layout (issue 13, points 2 and 3) at 80x24, 120x40 and
# 200x50, on the fixture replay paused where the sleeper was refused for
# the last time (the kernel's trace: its klp_task_blocked events):
# every column's values under their header (left-aligned ones start
# where it starts, right-aligned ones end where it ends, as
# --list-fields says), the headers the table's, UNLOAD next to REF, no
# blank row between the blockers and the event log, a cut line ending
# in an ellipsis with its action kept, and the sleeper's refusals as one
# log line counted (xN).  Sourced by run.sh (and t_fields.sh's
# list_fields).

t_layout() {
	local pid n size cols rows
	list_fields || return 1
	pid=$(cat "$cap/sleeper_pid")
	# refusals in the patching transition: those before its last pass
	n=$(awk -v p="$pid" '/klp_task_blocked: pid=/ && $0 ~ "pid=" p " " { b++ }
		/klp_transition_pass: .*target=patched .*pending=0/ { print b; exit }' "$cap/trace.txt")
	[ -n "$n" ] && [ "$n" -ge 2 ] || fail "fixture: $n refusals of $pid" || return 1
	for size in "80 24" "120 40" "200 50"; do
		set -- $size
		cols=$1 rows=$2
		LC_ALL=C.UTF-8 start_screen "$cols" "$rows" --replay "$fix/vm-recording" --speed 0
		loop_until 10 screen_has "paused" || fail "$size: no screen: $(cat "$work/err")" || return 1
		step_until "task_blocked klpt_sleeper\[$pid\] .* (x$n)$"
		loop_until 5 screen_has "task_blocked klpt_sleeper\[$pid\] .* (x$n)$" ||
			fail "$size: no collapsed line (x$n): $(tmx capture-pane -p -t top)" || return 1
		tmx capture-pane -p -t top >"$work/pane"
		python3 - "$work/fields" "$work/pane" "$cols" "$pid" "$n" <<'PY' ||
import re, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
pane = open(sys.argv[2], encoding="utf-8").read().split("\n")
cols, pid, n = int(sys.argv[3]), sys.argv[4], sys.argv[5]
def cells(kind):
    return [(r[2], "right" in r[6].split(",")) for r in rows
            if r[0] == kind and r[2] != "-"]
def check(kind, row_re):
    want = cells(kind)
    heads = [h for h, _ in want]
    # the sorted column's header ends in its marker (v or ^)
    head = [l for l in pane
            if [re.sub(r"(?<=[A-Z])[v^]$", "", w) for w in l.split()] == heads]
    assert head, ("%s: no header %s" % (kind, heads), pane)
    head = head[0]
    row = [l for l in pane if re.search(row_re, l)]
    assert row, ("%s: no row %r" % (kind, row_re), pane)
    row = row[0]
    at = 0
    for h, right in want:
        s = head.index(h, at)
        e = s + len(h)
        if e < len(head) and head[e] in "v^":
            e += 1  # the marker is part of the column
        at = e
        if right:
            ok = e <= len(row) and row[e - 1] != " " and (e == len(row) or row[e] == " ")
        else:
            ok = s < len(row) and row[s] != " " and (s == 0 or row[s - 1] == " ")
        assert ok, ("%s: %s's value not under it" % (kind, h), head, row)
    return head, row
head, row = check("patch", r"^klpt_lp_sleep ")
# UNLOAD right after REF
assert head.index("UNLOAD") == head.index("REF") + len("REF") + 1, head
head, row = check("blocker", r"^ *%s +%s klpt_sleeper " % (pid, pid))
# the default sort's marker, on its column only
assert re.findall(r"[A-Z]+[v^](?= |$)", head) == ["BLOCKEDv"], head
# the event log: right after the blocker rows, no blank row between
log = next(i for i, l in enumerate(pane) if l.startswith(" EVENT LOG"))
assert pane[log - 1].strip(), ("blank row above the event log", pane)
# one line for the sleeper's refusals, counted
mine = [l for l in pane if "task_blocked klpt_sleeper[%s]" % pid in l]
assert len(mine) == 1 and mine[0].endswith("(x%s)" % n), mine
# the verdict line: its action first, an ellipsis where it is cut
why = [l for l in pane if l.startswith(" klpt_lp_sleep: ")][0]
assert why.startswith(" klpt_lp_sleep: disable it first: "), why
full = " klpt_lp_sleep: disable it first: patch klpt_lp_sleep is enabled"
assert (len(why) == cols and why.endswith("\u2026")) or \
    (len(why) < cols and not why.endswith("\u2026")), (cols, why)
if cols == 80:
    assert why.endswith("\u2026"), why
PY
			{ fail "$size: layout: $(cat "$work/pane")"; return 1; }
	done
}

more_tests+=(layout)
