#!/bin/bash
# The man pages (man/): mandoc -T lint and man -l --warnings say nothing,
# lexgrog finds each page's NAME, every function of klptrace.h has a page
# (a grouped page or a link to one), the example of libklptrace(3)
# compiles and links against the built library, and klptop(8) says, section
# by section, the same words as `klptop --help` (FILES and SEE ALSO are the
# page's own).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
klptop=${KLPTOP:-$top/build/tui/klptop}
lib=$top/build/lib
fail() { echo "FAIL: $*"; exit 1; }
for t in mandoc man lexgrog python3 cc; do
	command -v $t >/dev/null || fail "$t missing (scripts/deps.sh)"
done
[ -x "$klptop" ] || fail "$klptop not built (make -C tui)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$top/man" || fail "no man/"

pages=$(ls man*/*.[0-9])
for p in $pages; do
	out=$(mandoc -T lint "$p" 2>&1) || [ -n "$out" ] || out="mandoc failed"
	[ -z "$out" ] || fail "mandoc -T lint $p: $out"
	[ -L "$p" ] && { [ -f "$p" ] || fail "$p: dangling link"; }
	out=$(MANWIDTH=80 man -l --warnings "$p" 2>&1 >/dev/null)
	[ -z "$out" ] || fail "man -l --warnings $p: $out"
	lexgrog "$p" >/dev/null 2>&1 || fail "lexgrog $p: no NAME section it can parse"
	# a link's name is one of the NAMEs of the page it points to
	n=$(basename "$p" .3)
	n=${n%.8}
	lexgrog "$p" | grep -q "\"$n - " || fail "$p: $n is not in its page's NAME"
done

# One page per group: every other name of a group is a link to it, so no
# two regular files have the same NAME list or the same text (a copy
# drifts from its page, and whatis lists its names twice).
seen=$tmp/names
: >"$seen"
for p in man3/*.3; do
	[ -L "$p" ] && continue
	names=$(lexgrog "$p" | sed 's/^[^"]*"//; s/ - .*//' | sort | tr '\n' ' ')
	sum=$(md5sum <"$p" | cut -d' ' -f1)
	prev=$(awk -F'\t' -v n="$names" -v s="$sum" '$2 == n || $3 == s {print $1}' "$seen")
	[ -z "$prev" ] || fail "$p and $prev are two files for the same page: make one a link"
	printf '%s\t%s\t%s\n' "$p" "$names" "$sum" >>"$seen"
done

# Every function the header declares has a page.
for f in $(grep -o '\bklpt_[a-z_]*(' "$top/lib/include/klptrace.h" | tr -d '(' | sort -u); do
	[ -e "man3/$f.3" ] || fail "no man3/$f.3 for $f() of klptrace.h"
done

# libklptrace(3)'s example is a program that builds.
[ -f "$lib/libklptrace.so" ] || fail "$lib/libklptrace.so not built (make -C lib)"
sed -n '/^\.EX$/,/^\.EE$/p' man3/libklptrace.3 | sed '/^\.E[XE]$/d' |
	awk '/^#include <err.h>/{on=1} on{print} /^}$/{if(on) exit}' |
	sed 's/\\e/\\/g; s/\\-/-/g' >"$tmp/example.c"
grep -q 'int main' "$tmp/example.c" || fail "no example program in libklptrace.3"
cc -std=c11 -Wall -Wextra -Werror -I"$top/lib/include" -o "$tmp/example" \
	"$tmp/example.c" -L"$lib" -lklptrace 2>"$tmp/cc.log" ||
	fail "libklptrace.3's example does not build: $(cat "$tmp/cc.log")"

# klptop(8) and --help: the same words per section.
"$klptop" --help >"$tmp/help.txt" || fail "klptop --help failed"
mandoc -T ascii -O width=1000 man8/klptop.8 >"$tmp/page.txt" ||
	fail "mandoc klptop.8"
python3 - "$tmp/help.txt" "$tmp/page.txt" <<'PY' || exit 1
import re, sys

def sections(lines, sub_indent):
    """{heading: [words]}: headings at column 0, sub-headings at exactly
    sub_indent spaces, the words of the lines under each."""
    out, cur = {}, None
    for l in lines:
        if not l.strip():
            continue
        ind = len(l) - len(l.lstrip(' '))
        if ind == 0 or ind == sub_indent:
            cur = l.strip().upper()
            out.setdefault(cur, [])
        elif cur is not None:
            out[cur] += l.split()
    return out

help_ = open(sys.argv[1]).read().split('\n')
page = re.sub('.\b', '', open(sys.argv[2]).read()).split('\n')
page = page[1:-2]          # the title and footer lines
h = sections(help_, 2)
m = sections(page, 3)
own = {'FILES', 'SEE ALSO'}
bad = 0
for sec in sorted(set(h) | set(m)):
    if sec in own and sec not in h:
        continue
    if h.get(sec) != m.get(sec):
        bad = 1
        a, b = h.get(sec, []), m.get(sec, [])
        i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y),
                 min(len(a), len(b)))
        print("FAIL: klptop.8 and --help differ in %s at word %d: --help '%s' / page '%s'"
              % (sec, i, ' '.join(a[i:i + 6]), ' '.join(b[i:i + 6])))
# The same sections in the same order: a sub-section (Scripted flow)
# under the same heading in both (dicts keep insertion order).
ho = [x for x in h if x not in own]
mo = [x for x in m if x not in own]
if ho != mo:
    bad = 1
    print("FAIL: klptop.8 and --help order their sections differently: --help %s / page %s"
          % (ho, mo))
sys.exit(bad)
PY
echo "man pages: $(echo "$pages" | wc -l) pages lint-clean, klptop.8 = --help"
