# shellcheck shell=bash
# A fresh Debian bookworm chroot, for tests that need a machine nothing
# was installed on: tests/check-fresh.sh (make check in it) and
# tests/pkg/test-packages.sh (the .debs installed into it).  Sourced;
# bash, as root, with `set -e` off or on.
#
#   fresh_init          the variables below, the cache directory
#   fresh_lock          one user of the cache at a time (flock on
#                       $fresh_cache/lock; waits, saying so)
#   fresh_base          the minbase tarball, made once (~3 min)
#   fresh_root          a chroot unpacked from it in $fresh_root, with
#                       /proc, /sys, /dev (slaves) and apt's archive
#                       cache bound; fresh_cleanup (an EXIT trap) undoes it
#
# Environment: KLPT_FRESH_CACHE [/var/cache/klptrace-fresh] (the minbase
# tarball and the .deb files apt downloaded inside earlier chroots),
# KLPT_FRESH_MIRROR [http://deb.debian.org/debian], KLPT_FRESH_KEEP=1
# keeps the chroot.

fresh_die() {
	echo "${fresh_prog:-fresh}: $*" >&2
	exit 2
}

fresh_init() {
	fresh_cache=${KLPT_FRESH_CACHE:-/var/cache/klptrace-fresh}
	fresh_mirror=${KLPT_FRESH_MIRROR:-http://deb.debian.org/debian}
	fresh_tgz=$fresh_cache/bookworm-minbase.tgz
	fresh_debs=$fresh_cache/apt-archives
	fresh_mounted=()
	fresh_root=
	[ "$(id -u)" -eq 0 ] || fresh_die "needs root (debootstrap, chroot, mounts)"
	mkdir -p "$fresh_cache" "$fresh_debs/partial"
}

# One run at a time per cache: two would build the same base tarball and
# fight over apt's archives lock in the shared package cache.  Held until
# the calling shell exits (fd 9).
fresh_lock() {
	exec 9>"$fresh_cache/lock"
	if ! flock -n 9; then
		echo "${fresh_prog:-fresh}: another run holds $fresh_cache/lock; waiting for it"
		flock 9
	fi
}

# The minbase, once: debootstrap, then make and git, as a newcomer who
# cloned the repository has.  Built aside and renamed: an interrupted
# run never leaves half a tarball behind.
fresh_base() {
	local tmp
	[ -s "$fresh_tgz" ] && return 0
	if ! command -v debootstrap >/dev/null; then
		sh "$(dirname "${BASH_SOURCE[0]}")/../scripts/deps.sh" fresh ||
			fresh_die "cannot install debootstrap"
	fi
	echo "${fresh_prog:-fresh}: debootstrap bookworm minbase into $fresh_tgz (once)"
	tmp=$(mktemp -d "$fresh_cache/minbase.XXXXXX")
	# shellcheck disable=SC2064 # tmp is fixed now
	trap "rm -rf --one-file-system '$tmp'" EXIT
	debootstrap --variant=minbase bookworm "$tmp" "$fresh_mirror" >/dev/null ||
		fresh_die "debootstrap failed"
	# The archive this machine uses (a mirror or snapshot of its network),
	# else the mirror debootstrap used.
	rm -f "$tmp/etc/apt/sources.list"
	if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
		cp /etc/apt/sources.list.d/*.sources "$tmp/etc/apt/sources.list.d/"
	elif [ -f /etc/apt/sources.list ]; then
		cp /etc/apt/sources.list "$tmp/etc/apt/sources.list"
	else
		printf 'deb %s bookworm main\n' "$fresh_mirror" >"$tmp/etc/apt/sources.list"
	fi
	cp /etc/resolv.conf "$tmp/etc/resolv.conf"
	chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive sh -c \
		'apt-get update -qq && apt-get install -y -qq --no-install-recommends make git ca-certificates >/dev/null' ||
		fresh_die "installing make and git in the minbase failed"
	rm -rf "$tmp/var/lib/apt/lists/"* "$tmp/var/cache/apt/archives/"*.deb
	tar -C "$tmp" -czf "$fresh_tgz.tmp" . || fresh_die "cannot write $fresh_tgz.tmp"
	mv "$fresh_tgz.tmp" "$fresh_tgz"
	rm -rf --one-file-system "$tmp"
	trap - EXIT
}

fresh_cleanup() {
	local i
	for ((i = ${#fresh_mounted[@]} - 1; i >= 0; i--)); do
		# never let an unmount propagate to the host's mounts
		mount --make-rslave "${fresh_mounted[i]}" 2>/dev/null
		umount -R -l "${fresh_mounted[i]}" 2>/dev/null || true
	done
	fresh_mounted=()
	[ -n "$fresh_root" ] || return 0
	# Never let rm follow a mount still there into the host's /dev or /sys.
	if grep -q " $fresh_root/" /proc/self/mounts; then
		echo "${fresh_prog:-fresh}: mounts left under $fresh_root; not removing it" >&2
	elif [ "${KLPT_FRESH_KEEP:-0}" = 1 ]; then
		echo "${fresh_prog:-fresh}: chroot kept in $fresh_root" >&2
	else
		rm -rf --one-file-system "$fresh_root"
	fi
}

# fresh_root: unpack the minbase into a new $fresh_root and mount what
# a chroot needs.  The caller sets `trap fresh_cleanup EXIT` first.
fresh_root() {
	fresh_root=$(mktemp -d /var/tmp/klpt-fresh.XXXXXX)
	tar -C "$fresh_root" -xzf "$fresh_tgz"
	# It becomes / in the chroot: every user must reach /usr (mktemp, and
	# the tarball's "./" made in a mktemp directory, say 0700).
	chmod 755 "$fresh_root"
	cp /etc/resolv.conf "$fresh_root/etc/resolv.conf"
	# Slaves from the first moment (one mount call): an unmount in the
	# chroot, or ours at the end, must never propagate to the host's /sys
	# or /dev (shared mounts under systemd).
	fresh_mounted+=("$fresh_root/proc")
	mount -t proc proc "$fresh_root/proc"
	fresh_mounted+=("$fresh_root/sys")
	mount --rbind --make-rslave /sys "$fresh_root/sys"
	fresh_mounted+=("$fresh_root/dev")
	mount --rbind --make-rslave /dev "$fresh_root/dev"
	fresh_mounted+=("$fresh_root/var/cache/apt/archives")
	mount --bind "$fresh_debs" "$fresh_root/var/cache/apt/archives"
	# apt downloads as its own user, _apt of the chroot
	chroot "$fresh_root" chown _apt:root /var/cache/apt/archives/partial 2>/dev/null || true
}
