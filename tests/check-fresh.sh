#!/bin/bash
# make TARGET (default: check) on a brand-new Debian bookworm, as a
# newcomer runs it: a debootstrap minbase with only make and git added,
# the committed tree as a clone has it (git archive HEAD), as root.
# This is what CI runs (.ci/run): a green here is a newcomer's green.
#
#   tests/check-fresh.sh [TARGET [MAKE-ARGS...]]     e.g. check, demo-test
#
# Environment:
#   KLPT_FRESH_CACHE   cache directory, outside the tree
#                      [/var/cache/klptrace-fresh]: the minbase tarball
#                      (made once, ~3 min) and the .deb files apt
#                      downloaded inside earlier chroots (a local copy
#                      of the archive: every package is still installed
#                      by the tree's own scripts/deps.sh)
#   KLPT_FRESH_LOG     the chroot's output [build/fresh/TARGET.log]
#   KLPT_FRESH_MIRROR  Debian mirror [http://deb.debian.org/debian]
#   KLPT_FRESH_KEEP=1  keep the chroot (path printed) instead of removing it
#
# Needs root and debootstrap (scripts/deps.sh fresh installs it).  The
# chroot gets /proc, /sys and /dev of the host (qemu, tmux and the
# module tools need them); it never writes the host's tracefs: the
# tests point libtracefs at fake directories and boot their kernels in
# qemu.  Prints the chroot's output as it runs and ends with a line
# "check-fresh: make TARGET: rc N, T s (packages P s)".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
target=${1:-check}
shift || true
cache=${KLPT_FRESH_CACHE:-/var/cache/klptrace-fresh}
log=${KLPT_FRESH_LOG:-$top/build/fresh/$target.log}
mirror=${KLPT_FRESH_MIRROR:-http://deb.debian.org/debian}
base=$cache/bookworm-minbase.tgz
debs=$cache/apt-archives

die() {
	echo "check-fresh: $*" >&2
	exit 2
}

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mounts)"
git -C "$top" rev-parse --verify -q HEAD >/dev/null ||
	die "$top is not a git checkout with a commit: nothing to archive"
if ! command -v debootstrap >/dev/null; then
	sh "$top/scripts/deps.sh" fresh || die "cannot install debootstrap"
fi
mkdir -p "$cache" "$debs/partial" "$(dirname "$log")"
# One run at a time per cache: two would build the same base tarball and
# fight over apt's archives lock in the shared package cache.
exec 9>"$cache/lock"
if ! flock -n 9; then
	echo "check-fresh: another run holds $cache/lock; waiting for it"
	flock 9
fi

# The minbase, once: debootstrap, then make and git, as a newcomer who
# cloned the repository has.  Built aside and renamed: an interrupted
# run never leaves half a tarball behind.
if [ ! -s "$base" ]; then
	echo "check-fresh: debootstrap bookworm minbase into $base (once)"
	tmp=$(mktemp -d "$cache/minbase.XXXXXX")
	trap 'rm -rf --one-file-system "$tmp"' EXIT
	debootstrap --variant=minbase bookworm "$tmp" "$mirror" >/dev/null ||
		die "debootstrap failed"
	# The archive this machine uses (a mirror or snapshot of its network),
	# else the mirror debootstrap used.
	rm -f "$tmp/etc/apt/sources.list"
	if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
		cp /etc/apt/sources.list.d/*.sources "$tmp/etc/apt/sources.list.d/"
	elif [ -f /etc/apt/sources.list ]; then
		cp /etc/apt/sources.list "$tmp/etc/apt/sources.list"
	else
		printf 'deb %s bookworm main\n' "$mirror" >"$tmp/etc/apt/sources.list"
	fi
	cp /etc/resolv.conf "$tmp/etc/resolv.conf"
	chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive sh -c \
		'apt-get update -qq && apt-get install -y -qq --no-install-recommends make git ca-certificates >/dev/null' ||
		die "installing make and git in the minbase failed"
	rm -rf "$tmp/var/lib/apt/lists/"* "$tmp/var/cache/apt/archives/"*.deb
	tar -C "$tmp" -czf "$base.tmp" . || die "cannot write $base.tmp"
	mv "$base.tmp" "$base"
	rm -rf --one-file-system "$tmp"
	trap - EXIT
fi

root=$(mktemp -d /var/tmp/klpt-fresh.XXXXXX)
mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		# never let an unmount propagate to the host's mounts
		mount --make-rslave "${mounted[i]}" 2>/dev/null
		umount -R -l "${mounted[i]}" 2>/dev/null || true
	done
	# Never let rm follow a mount still there into the host's /dev or /sys.
	if grep -q " $root/" /proc/self/mounts; then
		echo "check-fresh: mounts left under $root; not removing it" >&2
	elif [ "${KLPT_FRESH_KEEP:-0}" = 1 ]; then
		echo "check-fresh: chroot kept in $root" >&2
	else
		rm -rf --one-file-system "$root"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tar -C "$root" -xzf "$base"
# It becomes / in the chroot: every user must reach /usr (mktemp, and the
# tarball's "./" made in a mktemp directory, say 0700).
chmod 755 "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# Slaves from the first moment (one mount call): an unmount in the
# chroot, or ours at the end, must never propagate to the host's /sys or
# /dev (shared mounts under systemd).
mounted+=("$root/proc")
mount -t proc proc "$root/proc"
mounted+=("$root/sys")
mount --rbind --make-rslave /sys "$root/sys"
mounted+=("$root/dev")
mount --rbind --make-rslave /dev "$root/dev"
mounted+=("$root/var/cache/apt/archives")
mount --bind "$debs" "$root/var/cache/apt/archives"
# apt downloads as its own user, _apt of the chroot
chroot "$root" chown _apt:root /var/cache/apt/archives/partial 2>/dev/null || true

# The tree as a clone has it: committed files only.
mkdir -p "$root/root/klptrace"
git -C "$top" archive --format=tar HEAD | tar -C "$root/root/klptrace" -xf -

echo "check-fresh: make $target in a fresh bookworm ($root), log $log"
start=$(date +%s)
set +e
chroot "$root" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	LANG=C.UTF-8 \
	sh -c 'cd /root/klptrace && exec make "$@"' make "$target" "$@" 2>&1 |
	tee "$log"
rc=${PIPESTATUS[0]}
set -e
took=$(($(date +%s) - start))
pkgs=$(sed -n 's/^deps\.sh: installed .* in \([0-9]*\) s$/\1/p' "$log" | head -n 1)
echo "check-fresh: make $target: rc $rc, $took s (packages ${pkgs:-0} s)"
exit "$rc"
