# shellcheck shell=bash
# One vocabulary (tui/fields.c): every name of every field, as
# `klptop --list-fields` prints the table, is what -b's headers, the
# JSON keys, --help, klptop(8), the README and the demo guide say; the
# screen's headers are checked on a terminal by t_layout.sh.  Sourced by
# run.sh (its helpers: fake, expect_out, fail, $work, $san, $top).

# $work/fields: row key screen batch json unit sort help (tab separated)
list_fields() {
	"$klptop" --list-fields >"$work/fields" || fail "--list-fields failed" || return 1
	[ "$(awk -F'\t' 'NF != 8' "$work/fields" | wc -l)" = 0 ] ||
		fail "--list-fields: not 8 columns: $(awk -F'\t' 'NF != 8' "$work/fields")"
}

# -b's column headers and JSON's keys are the table's, in its order; a
# frame with a patch in transition, a blocker and a function.
t_fields_outputs() {
	list_fields || return 1
	build_fakesys || return 1
	set -- patch:lp:0:1 module:lp:2:1 "func:lp:vmlinux:f1,1:1" \
		task:100:1:0:t100 task:2:0:1
	fake "$@" -- "$san" -b -n 1 >"$work/out.b" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out.b" "^PATCH " "^ *PID " || return 1
	fake "$@" -- "$san" --json -n 1 >"$work/out.json" 2>"$work/err"
	got=$?
	expect_out 0 "$work/out.json" '"blockers":\[{' '"funcs":\[{' || return 1
	python3 - "$work/fields" "$work/out.b" "$work/out.json" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
text = open(sys.argv[2]).read().splitlines()
frame = json.loads(open(sys.argv[3]).read())
def names(row, col):
    return [r[col] for r in rows if r[0] == row and r[col] != "-"]
# -b: the header line of the patch rows and of the blockers, and the
# frame's "name value" pairs, in the table's order
want = {"patch": "PATCH ", "blocker": "PID "}
for row, start in want.items():
    head = [l.split() for l in text if l.lstrip().startswith(start)][0]
    assert head == names(row, 3), ("-b %s header" % row, head, names(row, 3))
first = text[0].split()
pairs = dict(zip(first[2::2], first[3::2]))
assert list(pairs) == names("frame", 3), (first, names("frame", 3))
# JSON: every key of the table where it belongs, in its order, and none
# that is not in the table
def keys(obj, skip=()):
    out = []
    for k, v in obj.items():
        if k in skip:
            continue
        if isinstance(v, dict):
            out += ["%s.%s" % (k, kk) for kk in v]
        else:
            out.append(k)
    return out
p = frame["patches"][0]
got = {"frame": keys(frame, ("patches",)),
       "patch": keys(p, ("blockers", "funcs")),
       "blocker": keys(p["blockers"][0]),
       "func": keys(p["funcs"][0])}
# (a key flagged optional is only in some frames: a replay's)
for row, k in got.items():
    want = [r[4] for r in rows if r[0] == row and r[4] != "-" and
            (r[4] in k or "optional" not in r[6].split(","))]
    assert k == want, ("JSON %s keys" % row, k, want)
b = p["blockers"][0]
assert b["pid"] == b["tid"] == 100 and b["tgid"] == 100, b
PY
}

# --help's FIELDS, klptop(8) and the README name every field as the
# table does; the README's column table is the table's rows.
t_fields_documents() {
	list_fields || return 1
	"$klptop" --help >"$work/help" || fail "--help failed" || return 1
	mandoc -T ascii -O width=1000 "$top/man/man8/klptop.8" | sed 's/.\x08//g' >"$work/page" ||
		fail "mandoc klptop.8" || return 1
	python3 - "$work/fields" "$work/help" "$work/page" "$top/README.md" <<'PY'
import re, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
help_ = open(sys.argv[2]).read()
page = open(sys.argv[3]).read()
readme = open(sys.argv[4]).read()
sec = help_[help_.index("\nFIELDS\n"):help_.index("\nEXIT STATUS\n")]
for row, key, scr, bat, js, unit, sort, hlp in rows:
    line = ", ".join(x for x in (scr if scr != "-" else None,
                                 "-b " + bat if bat != "-" and bat != scr else None,
                                 "JSON " + js + (" in " + unit if unit != "-" else "")
                                 if js != "-" else None) if x)
    for doc, text in (("--help", sec), ("klptop.8", page)):
        assert "\n    " + line + "\n" in text or "       " + line + "\n" in text, \
            (doc, "lacks the field line", line)
        assert " ".join(hlp.split()) in " ".join(text.split()), (doc, "lacks the help of", key)
# the README: a row per screen column, | SCREEN | -b | JSON | ... |
for row, key, scr, bat, js, unit, sort, hlp in rows:
    if scr == "-":
        continue
    want = "| `%s` | `%s` | `%s` |" % (scr, bat, js)
    assert want in readme, ("README lacks the row", want)
PY
}

# -s KEY takes the key of every sortable column (and comm, the key of
# klptop 0.1), and nothing else, as bash completion offers them; the demo
# guide's UNLOAD stages are the screen's words, in the order the
# verdicts go.
t_fields_words() {
	local key
	list_fields || return 1
	for key in $(awk -F'\t' '$7 ~ /(^|,)sort(,|$)/ { print $2 }' "$work/fields") comm; do
		"$klptop" --replay "$fix/vm-recording" -b -n 1 -s "$key" >/dev/null 2>"$work/err" ||
			fail "-s $key refused: $(cat "$work/err")" || return 1
	done
	expect_error 2 "unknown sort key" "$klptop" -s kthread || return 1
	# bash completion offers the same keys
	[ "$(sed -n '/-s | --sort)/{n;p}' "$top/completion/klptop" | grep -o "'[^']*'" |
		tr -d "'" | tr ' ' '\n' | sort | tr '\n' ' ')" = \
		"$(awk -F'\t' '$7 ~ /(^|,)sort(,|$)/ { print $2 }' "$work/fields" | sort | tr '\n' ' ')" ] ||
		fail "completion's -s keys are not the table's" || return 1
	python3 - "$work/fields" "$top/tests/vm/scenarios/demo/guest.sh" <<'PY'
import re, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
unload = [r for r in rows if r[0] == "patch" and r[1] == "unload"][0][7]
# the stages, in their order, as the help of UNLOAD lists them
order = ["READY"] + re.findall(r"[A-Z][A-Z ]*[A-Z]",
                               unload.split("goes through:")[1].split("(")[0])
guide = " ".join(open(sys.argv[2]).read().split())
m = re.search(r"UNLOAD goes (.*?) -> READY", guide)
assert m, "the demo guide does not say how UNLOAD goes to READY"
stages = [s.strip() for s in m.group(1).split("->")]
assert all(s in order for s in stages), (stages, order)
idx = [order.index(s) for s in stages]
assert idx == sorted(idx), ("stages out of order", stages)
PY
}

more_tests+=(fields_outputs fields_documents fields_words)
