#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make native-kernel: Debian's linux-source-6.1 with the native klp trace
# events (the series in this directory), configured small for the test VM
# and built with ccache.
#
#   kernel/native/build.sh
#
# Results (KLPT_NATIVE_DIR, default build/native):
#   linux/          the unpacked tarball with the series applied
#   obj/            the build (O=): obj/vmlinux boots under qemu (PVH),
#                   external modules build with KDIR=obj
#   kernelrelease   the kernel's version, e.g. 6.1.192-klpnative
#
# Incremental: the tarball is unpacked once; when the series changes, the
# patches applied last are reversed and the new ones applied, so only
# the files they touch are rebuilt; the config is redone only when
# vm.config changes.  Anything that does not reverse cleanly starts over
# from the tarball.
#
# Environment: KLPT_LINUX_TARBALL [/usr/src/linux-source-6.1.tar.xz],
# KLPT_NATIVE_DIR [build/native], KLPT_NATIVE_JOBS [2], CCACHE_DIR
# [build/ccache].
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tarball=${KLPT_LINUX_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
out=${KLPT_NATIVE_DIR:-$root/build/native}
src=$out/linux
obj=$out/obj
jobs=${KLPT_NATIVE_JOBS:-2}
CCACHE_DIR=${CCACHE_DIR:-$root/build/ccache}
export CCACHE_DIR

die() { echo "native-kernel: $*" >&2; exit 1; }

[ -r "$tarball" ] || die "no $tarball (apt-get install linux-source-6.1)"
for t in ccache flex bison bc patch xz; do
	command -v "$t" >/dev/null || die "$t missing (make deps)"
done
# The series: every patch but the cover letter, in order (no blanks in
# the names: git format-patch's).
series=
for p in "$here"/0*.patch; do
	case $p in */0000-cover-letter.patch) continue ;; esac
	[ -f "$p" ] && series="$series $p"
done
[ -n "$series" ] || die "no patches in $here"
start=$(date +%s)
mkdir -p "$out"

# unpack DIR: the tarball's tree into DIR (one top directory stripped).
unpack() {
	rm -rf "$1" "$1.tmp"
	mkdir -p "$1.tmp"
	echo "native-kernel: unpacking $tarball"
	tar -xf "$tarball" -C "$1.tmp" --strip-components=1
	ls -l --time-style=+%s "$tarball" >"$1.tmp/.klpt-tarball"
	mkdir "$1.tmp/.klpt-applied"
	mv "$1.tmp" "$1"
}

# sync_series: the patches of $series applied to $src, nothing else.
sync_series() {
	applied=$src/.klpt-applied
	same=1
	n=0
	for p in "$applied"/*.patch; do
		[ -f "$p" ] && n=$((n + 1))
	done
	# shellcheck disable=SC2086 # $series: names without blanks
	[ "$n" -eq "$(echo $series | wc -w)" ] || same=0
	for p in $series; do
		cmp -s "$p" "$applied/${p##*/}" || same=0
	done
	[ "$same" = 1 ] && return 0
	# reversed last to first
	rev=
	for p in "$applied"/*.patch; do
		[ -f "$p" ] && rev="$p $rev"
	done
	for p in $rev; do
		patch -R -p1 -s -d "$src" --no-backup-if-mismatch -i "$p" >/dev/null ||
			return 1
		rm -f "$p"
	done
	for p in $series; do
		echo "native-kernel: applying $(basename "$p")"
		patch -N -p1 -s -d "$src" --no-backup-if-mismatch -i "$p" || return 1
		cp "$p" "$applied/"
	done
}

if [ ! -f "$src/.klpt-tarball" ] ||
   [ "$(cat "$src/.klpt-tarball")" != "$(ls -l --time-style=+%s "$tarball")" ]; then
	unpack "$src"
fi
if ! sync_series; then
	echo "native-kernel: the tree does not take the series incrementally: starting over"
	unpack "$src"
	sync_series || die "the series does not apply to $tarball"
fi
# The series' trace header is the one definition, generated.
"$here/gen-trace-header.sh" --check "$src/include/trace/events/klp.h" ||
	die "the series' include/trace/events/klp.h is stale"
# checkpatch --strict on every patch: nothing but the reminder that a new
# file may need a MAINTAINERS entry (the selftest's directory has one).
for p in $series; do
	cp_out=$(cd "$src" && scripts/checkpatch.pl --strict --no-tree -q "$p" 2>&1 |
		grep -E '^(ERROR|WARNING|CHECK):' |
		grep -v '^WARNING: added, moved or deleted file(s), does MAINTAINERS need updating?$') || true
	[ -z "$cp_out" ] || die "checkpatch --strict ${p##*/}: $cp_out"
done

# The config: tinyconfig plus vm.config, every line of which must hold.
cfg_id=$(md5sum <"$here/vm.config" | cut -d' ' -f1)
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.klpt-config" 2>/dev/null)" != "$cfg_id" ]; then
	mkdir -p "$obj"
	make -s -C "$src" O="$obj" tinyconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" \
		"$here/vm.config" >"$out/config.log" 2>&1 ||
		{ cat "$out/config.log" >&2; die "merge_config failed"; }
	make -s -C "$src" O="$obj" olddefconfig >>"$out/config.log" 2>&1
	grep -E '^(CONFIG_[A-Z0-9_]+=|# CONFIG_[A-Z0-9_]+ is not set)' "$here/vm.config" |
	while read -r line; do
		grep -qxF "$line" "$obj/.config" ||
			die "config: '$line' of vm.config does not hold (see $out/config.log)"
	done
	echo "$cfg_id" >"$obj/.klpt-config"
fi

# Fixed build stamps: the same sources give the same objects (ccache).
echo "native-kernel: building in $obj (make -j$jobs, ccache $CCACHE_DIR)"
make -s -C "$src" O="$obj" -j"$jobs" CC="ccache gcc" LOCALVERSION= \
	KBUILD_BUILD_TIMESTAMP="klptrace native" KBUILD_BUILD_USER=klptrace \
	KBUILD_BUILD_HOST=native vmlinux modules
make -s -C "$src" O="$obj" LOCALVERSION= kernelrelease >"$out/kernelrelease"
echo "native-kernel: $(cat "$out/kernelrelease") in $obj/vmlinux, $(( $(date +%s) - start )) s"
