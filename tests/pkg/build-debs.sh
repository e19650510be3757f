#!/bin/bash
# Build the Debian packages of debian/ as dpkg-buildpackage -us -uc -b
# does from a clean tree: a copy of the tree's files (git's tracked and
# untracked-but-not-ignored files in a checkout, else everything but
# build/) in build/deb/src, so no build output of the tree leaks in.
# The .debs and the .buildinfo/.changes end up in build/deb (OUT=).
#   tests/pkg/build-debs.sh            prints the .deb paths, one a line
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${OUT:-$top/build/deb}
ver=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
src=$out/src/klptrace-$ver
rm -rf "$out"
mkdir -p "$src"
cd "$top"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf - | tar -C "$src" -xf -
else
	tar --exclude=./build -cf - . | tar -C "$src" -xf -
fi
start=$(date +%s)
# A release build: none of the tests' settings (WERROR, the Makefiles'
# OUT directories) reaches it.
(cd "$src" && env -u OUT -u LIB_OUT -u WERROR dpkg-buildpackage -us -uc -b) \
	>"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	echo "build-debs: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
}
echo "build-debs: dpkg-buildpackage took $(($(date +%s) - start)) s" >&2
# dpkg-buildpackage writes next to the source directory
mv "$out"/src/*.deb "$out"/src/*.buildinfo "$out"/src/*.changes "$out"/
rm -rf "$out/src"
ls "$out"/*.deb
