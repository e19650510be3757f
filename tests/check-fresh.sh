#!/bin/bash
# make TARGET (default: check) on a brand-new Debian bookworm, as a
# newcomer runs it: a debootstrap minbase with only make and git added,
# the committed tree as a clone has it (git archive HEAD), as root.
# This is what CI runs (.ci/run): a green here is a newcomer's green.
#
#   tests/check-fresh.sh [TARGET [MAKE-ARGS...]]     e.g. check, demo-test
#
# Environment:
#   KLPT_FRESH_CACHE   cache directory, outside the tree (tests/fresh-lib.sh:
#                      the chroot's making, shared with the package test)
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
log=${KLPT_FRESH_LOG:-$top/build/fresh/$target.log}
fresh_prog=check-fresh
# shellcheck source=tests/fresh-lib.sh
. "$here/fresh-lib.sh"

git -C "$top" rev-parse --verify -q HEAD >/dev/null ||
	fresh_die "$top is not a git checkout with a commit: nothing to archive"
fresh_init
mkdir -p "$(dirname "$log")"
fresh_lock
fresh_base

trap fresh_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fresh_root
root=$fresh_root
# The package test (tests/pkg/test-packages.sh) makes a chroot of its own
# inside this one: it gets the same minbase and .deb cache, read-only
# and shared, under the path it expects.  Its lock is the chroot's own
# file, not ours (which this run holds).
inner=$root/var/cache/klptrace-fresh
mkdir -p "$inner/apt-archives"
touch "$inner/bookworm-minbase.tgz"
fresh_mounted+=("$inner/bookworm-minbase.tgz")
mount --bind -o ro "$fresh_tgz" "$inner/bookworm-minbase.tgz"
mount -o remount,bind,ro "$inner/bookworm-minbase.tgz"
fresh_mounted+=("$inner/apt-archives")
mount --bind "$fresh_debs" "$inner/apt-archives"

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
