#!/bin/bash
# klptop(8)'s FIELDS section, made from `klptop --help` (whose FIELDS
# come from the field table, tui/fields.c): after a change of the table,
#
#   tui/man-fields.sh build/tui/klptop
#
# rewrites that section of man/man8/klptop.8 in place (between the
# .SH FIELDS line and the next .SH).  tests/unit/test_manpages.sh checks
# that the page says what --help says.
set -eu
klptop=${1:?usage: man-fields.sh KLPTOP}
page=$(cd "$(dirname "$0")/.." && pwd)/man/man8/klptop.8
"$klptop" --help | python3 -c '
import re, sys
page = sys.argv[1]
help_ = sys.stdin.read().split("\n")
a = help_.index("FIELDS")
b = next(i for i in range(a + 1, len(help_)) if help_[i] and help_[i][0] != " ")
def esc(t):
    return t.replace("\\", "\\e").replace("-", "\\-")
out = [".SH FIELDS"]
sub = False
for l in help_[a + 1:b]:
    if not l.strip():
        continue
    ind = len(l) - len(l.lstrip(" "))
    if ind == 2:
        sub = True
        out.append(".SS \"%s\"" % esc(l.strip()).replace("\"", "\\(dq"))
    elif ind == 4 and not sub:
        out.append(esc(l.strip()))
    elif ind == 4:
        out.append(".TP")
        out.append(esc(l.strip()))
    else:
        out.append(esc(l.strip()))
text = open(page).read().split("\n")
s = text.index(".SH FIELDS")
e = next(i for i in range(s + 1, len(text)) if text[i].startswith(".SH "))
text[s:e] = out
open(page, "w").write("\n".join(text))
' "$page"
