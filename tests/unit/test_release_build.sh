#!/bin/sh
# `make` of lib and tui is a release build: no sanitizer, no -Werror
# (a newer compiler's new warning must not break a user's or a package's
# build); WERROR=-Werror, as tests/run.sh sets it, puts -Werror back.
# Dry runs (make -n -B) into a scratch OUT; then one real build of lib
# and tui with -Werror and the flags debian/rules builds with
# (dpkg-buildflags, hardening=+all: -D_FORTIFY_SOURCE=2 -O2 warns about
# unused results the default flags do not), so the package builds clean.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
for d in lib tui; do
	cmds=$(env -u WERROR make -n -B -C "$top/$d" OUT="$tmp/$d" LIB_OUT="$tmp/lib" 2>&1) ||
		fail "make -n -C $d: $cmds"
	echo "$cmds" | grep -q -- '-fsanitize' && fail "make -C $d builds a sanitizer variant"
	echo "$cmds" | grep -q -- '-Werror\( \|$\)' && fail "make -C $d uses -Werror"
	echo "$cmds" | grep -q -- '-Wall' || fail "make -C $d: no compiler call seen"
	WERROR=-Werror make -n -B -C "$top/$d" OUT="$tmp/$d" LIB_OUT="$tmp/lib" 2>&1 |
		grep -q -- '-Werror ' || fail "make -C $d WERROR=-Werror has no -Werror"
done
if command -v dpkg-buildflags >/dev/null; then
	export DEB_BUILD_MAINT_OPTIONS=hardening=+all
	cflags=$(dpkg-buildflags --get CFLAGS)
	cppflags=$(dpkg-buildflags --get CPPFLAGS)
	ldflags=$(dpkg-buildflags --get LDFLAGS)
else
	cflags="-O2 -g" cppflags=-D_FORTIFY_SOURCE=2 ldflags=
fi
for d in lib tui; do
	make -s -C "$top/$d" OUT="$tmp/f-$d" LIB_OUT="$tmp/f-lib" WERROR=-Werror \
		CFLAGS="$cflags" CPPFLAGS="$cppflags" LDFLAGS="$ldflags" \
		>"$tmp/f.log" 2>&1 ||
		{ cat "$tmp/f.log"; fail "make -C $d -Werror with dpkg-buildflags' flags"; }
done
echo "release build: lib and tui without sanitizers or -Werror; -Werror clean with dpkg-buildflags' flags"
