#!/bin/bash
# The Debian packages, as an operator gets them.  Prints PASS/FAIL per
# step and ends with "N passed, N failed" (tests/run.sh pkg; make check):
#   pkg/build        dpkg-buildpackage -us -uc -b from a clean copy
#                    (tests/pkg/build-debs.sh), without -Werror or
#                    sanitizers
#   pkg/lintian      no error or warning (overrides in debian/ say why)
#   pkg/symbols      debian/libklptrace0.symbols has a (symver) line for
#                    every version node of lib/libklptrace.map
#   pkg/make-install `make install PREFIX=/usr DESTDIR=` installs exactly
#                    the files the packages hold; `make uninstall`
#                    removes every one of them
#   pkg/chroot       the .debs installed with apt into a fresh bookworm
#                    (tests/fresh-lib.sh, cache and lock shared with
#                    tests/check-fresh.sh) with the headers of the kernel
#                    the VM boots: `dkms status` says klptrace is
#                    installed for it, its klptrace.ko has that
#                    vermagic, `man klptop` and `man klpt_session_poll`
#                    are found; purging klptrace-dkms removes the module
#   pkg/dkms-make    then, in the same chroot, `make -C kernel
#                    dkms-install` twice (the second says "already
#                    installed", exit 0), dkms-uninstall removes it
#   pkg/vm           tests/vm/run.sh boots the VM with the chroot's
#                    klptrace.ko and klptop (KLPTRACE_KO, TUI_BUILD) and
#                    runs $KLPT_PKG_SCENARIO [klptop_script]
# Needs root.  KVER: the kernel (scripts/kver.sh).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${OUT:-$top/build/deb}
unset OUT	# the Makefiles' OUT is their build directory
kver=${KVER:-$(sh "$top/scripts/kver.sh")}
scenario=${KLPT_PKG_SCENARIO:-klptop_script}
passed=0
failed=0
t_all=$(date +%s)
work=$(mktemp -d)
log=$work/log

pass() { echo "PASS pkg/$1 ($(($(date +%s) - t0)) s)"; passed=$((passed + 1)); }
fail() {
	echo "FAIL pkg/$1: $2"
	[ -s "$log" ] && tail -n 30 "$log" | sed 's/^/    /'
	failed=$((failed + 1))
}
finish() {
	echo "packages took $(($(date +%s) - t_all)) s"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# ------------------------------------------------------------ build, lint
t0=$(date +%s)
if ! debs=$(OUT=$out "$here/build-debs.sh" 2>"$log"); then
	fail build "dpkg-buildpackage failed"
	finish
fi
# a release build: the tests' -Werror and sanitizers stay out of it
if grep -e '-Werror ' -e '-fsanitize' "$out/build.log" >"$log"; then
	fail build "the package build used -Werror or a sanitizer"
else
	pass build
fi
debs=$(echo "$debs" | grep -v -- '-dbgsym_')

t0=$(date +%s)
# lintian refuses nothing as root, but says so on stderr
if lintian --fail-on error,warning --pedantic "$out"/*.changes >"$log" 2>&1; then
	pass lintian
else
	fail lintian "lintian reported errors or warnings"
fi

t0=$(date +%s)
: >"$log"
nodes=$(sed -n 's/^\([A-Za-z0-9_.]*\) *{.*/\1/p' "$top/lib/libklptrace.map")
bad=
for n in $nodes; do
	grep -q "^ (symver)$n " "$top/debian/libklptrace0.symbols" || bad="$bad $n"
done
if [ -z "$nodes" ]; then
	fail symbols "no version node found in lib/libklptrace.map"
elif [ -n "$bad" ]; then
	fail symbols "version nodes without a (symver) line in debian/libklptrace0.symbols:$bad"
else
	pass symbols
fi

# --------------------------------------------------- make install = .debs
t0=$(date +%s)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
dest=$work/dest
# the package's files, man pages without dh_compress's .gz, no docs
for d in $debs; do dpkg-deb -c "$d"; done | awk '{print $6}' |
	grep -v '/$' | grep -v '^\./usr/share/doc/' | sed 's|^\.||; s|\.gz$||' |
	sort >"$work/debs.list"
if make -s -C "$top" install PREFIX=/usr LIBDIR=/usr/lib/"$ma" DESTDIR="$dest" >"$log" 2>&1; then
	(cd "$dest" && find . ! -type d | sed 's|^\.||' | sort) >"$work/inst.list"
	if ! diff "$work/debs.list" "$work/inst.list" >"$log"; then
		fail make-install "make install and the .debs differ (< .debs, > make install)"
	elif ! make -s -C "$top" uninstall PREFIX=/usr LIBDIR=/usr/lib/"$ma" DESTDIR="$dest" >"$log" 2>&1; then
		fail make-install "make uninstall failed"
	elif left=$(cd "$dest" && find . ! -type d) && [ -n "$left" ]; then
		echo "$left" >"$log"
		fail make-install "make uninstall left files"
	else
		pass make-install
	fi
else
	fail make-install "make install failed"
fi

# ------------------------------------------------------------- the chroot
fresh_prog=test-packages
# shellcheck source=tests/fresh-lib.sh
. "$top/tests/fresh-lib.sh"
cleanup() { fresh_cleanup; rm -rf "$work"; }
trap cleanup EXIT
t0=$(date +%s)
fresh_init
fresh_lock
fresh_base >"$log" 2>&1 || { fail chroot "no minbase"; finish; }
fresh_root
r=$fresh_root
in_chroot() {
	chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 sh -c "$1"
}
mkdir -p "$r/tmp/debs"
# shellcheck disable=SC2086
cp $debs "$r/tmp/debs/"
ko=
if ! in_chroot "apt-get update -qq && apt-get install -y -qq --no-install-recommends linux-headers-$kver man-db" >"$log" 2>&1; then
	fail chroot "apt-get install linux-headers-$kver in the chroot failed"
elif ! in_chroot "apt-get install -y -qq --no-install-recommends /tmp/debs/*.deb" >"$log" 2>&1; then
	fail chroot "apt-get install of the .debs failed"
elif ! in_chroot "dkms status klptrace" >"$log" 2>&1 ||
	! grep -q "^klptrace/[^,]*, $kver, [^:]*: installed" "$log"; then
	fail chroot "dkms status does not say klptrace is installed for $kver"
elif ! ko=$(cd "$r" && ls lib/modules/"$kver"/updates/dkms/klptrace.ko* 2>"$log") ||
	[ "$(modinfo -F vermagic "$r/$ko" | cut -d' ' -f1)" != "$kver" ]; then
	fail chroot "no klptrace.ko for $kver in the chroot's /lib/modules"
elif ! in_chroot "man -w klptop && man -w klpt_session_poll && man klpt_session_poll | grep -q klpt_session_open_live" >"$log" 2>&1; then
	fail chroot "man klptop / man klpt_session_poll not found"
else
	# keep what the VM boots with before the purge below removes it
	mkdir -p "$work/vm"
	case $ko in
	*.xz) xz -dc "$r/$ko" >"$work/vm/klptrace.ko" ;;
	*) cp "$r/$ko" "$work/vm/klptrace.ko" ;;
	esac
	cp "$r/usr/sbin/klptop" "$work/vm/klptop"
	if ! in_chroot "apt-get purge -y -qq klptrace-dkms" >"$log" 2>&1 ||
		[ -n "$(in_chroot "dkms status klptrace" 2>&1)" ] || [ -e "$r/$ko" ]; then
		fail chroot "purging klptrace-dkms left it in dkms or /lib/modules"
	else
		pass chroot
	fi
fi

t0=$(date +%s)
: >"$log"
if [ -f "$work/vm/klptrace.ko" ]; then
	mkdir -p "$r/root/src"
	(cd "$top" && tar -cf - kernel tracepoints scripts) | tar -C "$r/root/src" -xf -
	mk="make -s -C /root/src/kernel KVER=$kver"
	if ! in_chroot "$mk clean >/dev/null 2>&1; $mk dkms-install" >"$log" 2>&1; then
		fail dkms-make "make -C kernel dkms-install failed"
	elif ! in_chroot "$mk dkms-install" >"$log" 2>&1 ||
		! grep -q 'already installed' "$log"; then
		fail dkms-make "a second make -C kernel dkms-install was not a no-op success"
	elif ! in_chroot "dkms status klptrace" 2>&1 | grep -q ": installed"; then
		fail dkms-make "dkms status does not say installed after dkms-install"
	elif ! in_chroot "$mk dkms-uninstall" >"$log" 2>&1 ||
		[ -n "$(in_chroot "dkms status klptrace" 2>&1)" ] ||
		[ -e "$r/usr/src/klptrace-0.1.0" ] || [ -e "$r/$ko" ]; then
		fail dkms-make "make -C kernel dkms-uninstall left it"
	else
		pass dkms-make
	fi
else
	fail dkms-make "not run: the chroot step failed"
fi
fresh_cleanup

# ------------------------------------------------------- the VM, packaged
t0=$(date +%s)
if [ -f "$work/vm/klptrace.ko" ]; then
	if KLPTRACE_KO=$work/vm/klptrace.ko TUI_BUILD=$work/vm KLPT_VM_JOBS=1 \
		KLPT_VM_FLAVOUR=pkg KVER=$kver "$top/tests/vm/run.sh" "$scenario" >"$log" 2>&1; then
		pass "vm ($scenario with the packaged klptrace.ko and klptop)"
	else
		fail vm "$scenario with the packaged klptrace.ko and klptop"
	fi
else
	fail vm "not run: no packaged klptrace.ko"
fi
finish
