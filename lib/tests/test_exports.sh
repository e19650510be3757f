#!/bin/bash
# test_exports.sh BUILD_DIR: libklptrace's ABI surface and installation.
#
#   1. libklptrace.so exports only klpt_* symbols (nm -D; the version
#      node KLPT_x.y of libklptrace.map shows up as an "A" entry and is
#      no symbol), has the SONAME libklptrace.so.0, and exports every
#      function klptrace.h declares (a missing KLPT_API or definition).
#   2. `make install PREFIX=/usr DESTDIR=<tmp>` installs header, static
#      and shared library with their links, and libklptrace.pc; a program
#      built with `pkg-config --cflags --libs libklptrace` against that
#      DESTDIR links and runs, and so does one linked statically with
#      `pkg-config --static`.
set -eu
out=${1:?usage: test_exports.sh BUILD_DIR}
lib=$(cd "$(dirname "$0")/.." && pwd)
so=$out/libklptrace.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# 1. Exports.
[ -e "$so" ] || fail "$so not built"
nm -D --defined-only "$so" >"$tmp/nm"
awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' "$tmp/nm" | sort -u >"$tmp/syms"
bad=$(grep -v '^klpt_' "$tmp/syms" || true)
[ -z "$bad" ] || fail "exported without the klpt_ prefix:" $bad
nodes=$(awk '$2 == "A" { print $3 }' "$tmp/nm")
for n in $nodes; do
	[[ $n =~ ^KLPT_[0-9]+\.[0-9]+$ ]] || fail "unexpected absolute symbol $n"
done
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libklptrace.so.0 ] || fail "SONAME is '$soname', not libklptrace.so.0"
grep -oE '\<klpt_[a-z0-9_]+\(' "$lib/include/klptrace.h" | tr -d '(' |
	sort -u >"$tmp/declared"
missing=$(comm -23 "$tmp/declared" "$tmp/syms")
[ -z "$missing" ] || fail "declared in klptrace.h but not exported:" $missing
echo "exports: $(wc -l <"$tmp/syms") klpt_* symbols, version node(s) $nodes"

# 2. Install into a DESTDIR and build against it through pkg-config.
dest=$tmp/root
make -s -C "$lib" install OUT="$out" PREFIX=/usr DESTDIR="$dest" >/dev/null
for f in usr/include/klptrace.h usr/lib/libklptrace.a \
	usr/lib/libklptrace.so.0.1.0 usr/lib/libklptrace.so.0 \
	usr/lib/libklptrace.so usr/lib/pkgconfig/libklptrace.pc; do
	[ -e "$dest/$f" ] || fail "make install did not install /$f"
done
[ "$(readlink "$dest/usr/lib/libklptrace.so.0")" = libklptrace.so.0.1.0 ] ||
	fail "libklptrace.so.0 does not point at libklptrace.so.0.1.0"
grep -qx 'prefix=/usr' "$dest/usr/lib/pkgconfig/libklptrace.pc" ||
	fail "installed libklptrace.pc does not say prefix=/usr"

# The .pc names /usr paths; the sysroot maps them into the DESTDIR (and
# keeps -I/usr/include and -L/usr/lib, which pkg-config drops by default
# as system paths).  libtracefs & co. still come from the system.
export PKG_CONFIG_PATH=$dest/usr/lib/pkgconfig
export PKG_CONFIG_SYSROOT_DIR=$dest
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
[ "$(pkg-config --modversion libklptrace)" = 0.1.0 ] ||
	fail "pkg-config --modversion libklptrace: $(pkg-config --modversion libklptrace 2>&1)"

cat >"$tmp/prog.c" <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <klptrace.h>

int main(void)
{
	struct klpt_session *s;

	/* The error idiom: a negative errno returned and errno set. */
	if (klpt_session_open_live(NULL, NULL) != -EINVAL || errno != EINVAL)
		return 1;
	if (klpt_session_open_replay(NULL, NULL, &s) != -EINVAL || s)
		return 1;
	printf("%s %s\n", klpt_version(),
	       klpt_event_type_name(KLPT_EV_TASK_SWITCH));
	return 0;
}
EOF
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$tmp/prog" "$tmp/prog.c" \
	$(pkg-config --cflags --libs libklptrace) ||
	fail "cannot build with pkg-config --cflags --libs libklptrace"
readelf -d "$tmp/prog" | grep -q 'NEEDED.*\[libklptrace.so.0\]' ||
	fail "the program does not need libklptrace.so.0"
got=$(LD_LIBRARY_PATH=$dest/usr/lib "$tmp/prog") || fail "the program failed"
[ "$got" = "0.1.0 klp_task_switch" ] || fail "the program printed '$got'"
# It must be the installed library that ran.
LD_LIBRARY_PATH=$dest/usr/lib ldd "$tmp/prog" | grep -q "$dest/usr/lib/libklptrace.so.0" ||
	fail "ldd does not resolve libklptrace.so.0 in the DESTDIR"

# Static: libklptrace.a plus its Requires.private.
libs=$(pkg-config --static --libs libklptrace | sed 's/-lklptrace\>/-l:libklptrace.a/')
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror -o "$tmp/prog-static" "$tmp/prog.c" \
	$(pkg-config --cflags libklptrace) $libs ||
	fail "cannot link statically with pkg-config --static --libs libklptrace"
if readelf -d "$tmp/prog-static" | grep -q 'NEEDED.*libklptrace'; then
	fail "the static program still needs libklptrace.so"
fi
got=$("$tmp/prog-static") || fail "the static program failed"
[ "$got" = "0.1.0 klp_task_switch" ] || fail "the static program printed '$got'"
echo "install: DESTDIR layout ok; pkg-config builds (shared, static) link and run"
