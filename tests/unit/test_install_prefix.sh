#!/bin/sh
# `make install` puts the DKMS source under PREFIX like everything else,
# and leaves alone the one the package or DKMS holds:
#  1. as an unprivileged user (setpriv), `make install PREFIX=~/.local`
#     installs everything under ~/.local (the source in ~/.local/src) and
#     `make uninstall` removes it all;
#  2. install and uninstall refuse, in one line and before changing
#     anything, when the source directory is registered with DKMS (a fake
#     /var/lib/dkms/klptrace/<version>) or owned by dpkg (a fake dpkg -S);
#  3. make -C kernel dkms-uninstall runs `dkms remove` when the
#     registration exists, even with the source gone.
# The DKMS and dpkg paths are the Makefile's test overrides
# (DKMS_SRCDIR, DKMS_STATE, DPKG, DKMS): the host's are never touched.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ver=$(sed -n 's/^#define KLPTRACE_VERSION "\(.*\)"/\1/p' "$top/kernel/klptrace/klptrace.h")
[ -n "$ver" ] || fail "no KLPTRACE_VERSION"

# 1. A copy of the sources, built and installed by nobody.
chmod 755 "$tmp"
mkdir "$tmp/src" "$tmp/home"
(cd "$top" && tar --exclude=./.git --exclude=./build -cf - .) | tar -C "$tmp/src" -xf -
chown -R nobody:nogroup "$tmp/src" "$tmp/home"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$tmp/home" "$@"; }
pre="$tmp/home/.local"
as_nobody make -s -C "$tmp/src" install PREFIX="$pre" >"$tmp/log" 2>&1 ||
	{ cat "$tmp/log"; fail "make install PREFIX=~/.local as nobody"; }
for f in sbin/klptop lib/libklptrace.so include/klptrace.h \
	share/man/man8/klptop.8 src/klptrace-"$ver"/dkms.conf; do
	[ -e "$pre/$f" ] || fail "make install PREFIX=~/.local: no $f"
done
as_nobody make -s -C "$tmp/src" uninstall PREFIX="$pre" >"$tmp/log" 2>&1 ||
	{ cat "$tmp/log"; fail "make uninstall PREFIX=~/.local as nobody"; }
left=$(find "$pre" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall left: $left"

# 2. Refusals, with the source at the (fake) DKMS source directory.
r="$tmp/root"
src="$r/usr/src/klptrace-$ver"
mkdir -p "$src" "$r/var/lib/dkms/klptrace/$ver"
echo mine >"$src/marker"
fake="DKMS_SRCDIR=$r/usr/src DKMS_STATE=$r/var/lib/dkms PREFIX=$r/usr"
refused() {	# target, what the message names, extra variables
	# shellcheck disable=SC2086 # $fake and $3 are word lists
	if make -s -C "$top" "$1" $fake ${3:-} >"$tmp/log" 2>&1; then
		fail "make $1 with $2 succeeded"
	fi
	# One line of ours; make adds its "*** ... Error" lines (and,
	# run from a make -jN, a warning about the jobserver).
	if [ "$(grep -cv -e '^make.*: \*\*\* ' -e '^make.*: warning: jobserver' \
		"$tmp/log")" -ne 1 ] ||
		! grep -q "$2" "$tmp/log"; then
		cat "$tmp/log"
		fail "make $1 with $2: not one line naming $2"
	fi
	[ "$(cat "$src/marker" 2>/dev/null)" = mine ] || fail "make $1 changed $src"
	for f in "$r"/usr/*; do
		[ "$f" = "$r/usr/src" ] || fail "make $1 installed into $r/usr"
	done
}
refused install "registered with DKMS"
refused uninstall "registered with DKMS"
rmdir "$r/var/lib/dkms/klptrace/$ver"
# shellcheck disable=SC2016 # the fake's own $2
printf '#!/bin/sh\necho "klptrace-dkms: $2"\n' >"$tmp/dpkg"
chmod +x "$tmp/dpkg"
refused install "belongs to a package" "DPKG=$tmp/dpkg"
refused uninstall "belongs to a package" "DPKG=$tmp/dpkg"

# 3. dkms-uninstall by the registration: the source is gone, so `dkms
# status` would print nothing; the registration still says remove.
rm -rf "$src"
mkdir -p "$r/var/lib/dkms/klptrace/$ver"
printf '#!/bin/sh\necho "$*" >>%s/dkms.log\n' "$tmp" >"$tmp/dkms"
chmod +x "$tmp/dkms"
make -s -C "$top/kernel" dkms-uninstall DKMS_SRCDIR="$r/usr/src" \
	DKMS_STATE="$r/var/lib/dkms" DKMS="$tmp/dkms" >"$tmp/log" 2>&1 ||
	{ cat "$tmp/log"; fail "make -C kernel dkms-uninstall"; }
[ "$(cat "$tmp/dkms.log" 2>/dev/null)" = "remove klptrace/$ver --all" ] ||
	fail "dkms-uninstall did not run dkms remove klptrace/$ver --all"
echo "install PREFIX=~/.local as nobody; install/uninstall refused for a DKMS- or dpkg-held source; dkms-uninstall by registration"
