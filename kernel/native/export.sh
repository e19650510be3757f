#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# For whoever changes the series: write the patches of a kernel git tree
# into kernel/native/ (git format-patch, with the cover letter below).
#
#   kernel/native/export.sh TREE BASE
#
# TREE is a git tree of linux-source-6.1 whose commit BASE is the
# unpacked tarball and whose later commits are the series.  The cover
# letter's text is cover.txt: its first line is the subject.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 2 ] || { echo "usage: export.sh TREE BASE" >&2; exit 2; }
tree=$1 base=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$tree" format-patch -q --zero-commit --no-signature --cover-letter \
	-o "$tmp" "$base..HEAD"
subject=$(head -n 1 "$here/cover.txt")
python3 - "$tmp/0000-cover-letter.patch" "$subject" "$here/cover.txt" <<'PY'
import sys
path, subject, body = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
body = body.split('\n', 1)[1].lstrip('\n').rstrip('\n')
s = open(path).read()
s = s.replace('*** SUBJECT HERE ***', subject).replace('*** BLURB HERE ***', body)
open(path, 'w').write(s)
PY
rm -f "$here"/0*.patch
cp "$tmp"/*.patch "$here/"
ls "$here"/0*.patch
