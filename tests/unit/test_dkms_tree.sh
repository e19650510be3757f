#!/bin/sh
# The DKMS source tree that `make -C kernel dkms-install` registers is
# complete: staged into a scratch DESTDIR, klptrace.ko builds from it
# alone, with dkms.conf's own MAKE line.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make -s -C "$top/kernel" dkms-tree DESTDIR="$tmp" PREFIX=/usr >/dev/null
src=$(echo "$tmp"/usr/src/klptrace-*)
[ -f "$src/dkms.conf" ] || { echo "FAIL: no dkms.conf in $src"; exit 1; }
grep -q '^PACKAGE_VERSION="[0-9]' "$src/dkms.conf" ||
	{ echo "FAIL: dkms.conf version not filled in"; exit 1; }

# What dkms would run, with its variables filled in.
kver=${KVER:-$(sh "$top/scripts/kver.sh")}
cmd=$(sed -n 's/^MAKE\[0\]="\(.*\)"$/\1/p' "$src/dkms.conf" |
	sed "s|\${kernelver}|$kver|; s|\${kernel_source_dir}|/lib/modules/$kver/build|")
(cd "$src" && eval "$cmd") >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log"; echo "FAIL: build from the DKMS tree"; exit 1; }
loc=$(sed -n 's/^BUILT_MODULE_LOCATION\[0\]="\(.*\)"$/\1/p' "$src/dkms.conf")
[ -f "$src/$loc/klptrace.ko" ] || { echo "FAIL: no $loc/klptrace.ko"; exit 1; }
echo "built $loc/klptrace.ko from $src"
