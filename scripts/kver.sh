#!/bin/sh
# Print the version of the installed Debian kernel image that klptrace
# builds against and boots in the test VM.  Never `uname -r`: the build
# machine may run another kernel.  KVER in the environment wins; else a
# KDIR of the form .../lib/modules/<kver>/build or .../linux-headers-<kver>
# names it.
set -eu

if [ -n "${KVER:-}" ]; then
	echo "$KVER"
	exit 0
fi

if [ -n "${KDIR:-}" ]; then
	case ${KDIR%/} in
	*/lib/modules/*/build)
		v=${KDIR%/}
		v=${v%/build}
		echo "${v##*/}"
		exit 0
		;;
	*/linux-headers-*)
		v=${KDIR%/}
		echo "${v##*/linux-headers-}"
		exit 0
		;;
	esac
fi

# The metapackages name the versions they pull in, e.g.
# linux-image-6.1.0-56-amd64 and linux-headers-6.1.0-56-amd64.
kver=""
for meta in linux-image-amd64 linux-headers-amd64; do
	dep=$(dpkg-query -W -f '${Depends}' "$meta" 2>/dev/null || true)
	kver=$(printf '%s\n' "$dep" | tr ',' '\n' |
		sed -n 's/^ *linux-\(image\|headers\)-\([0-9][^ ]*\).*/\2/p' |
		head -n 1)
	[ -n "$kver" ] && break
done

# Without the metapackage: the newest /boot/vmlinuz-* that has headers.
if [ -z "$kver" ]; then
	for img in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V -r); do
		v=${img#/boot/vmlinuz-}
		if [ -d "/lib/modules/$v/build" ]; then
			kver=$v
			break
		fi
	done
fi

if [ -z "$kver" ]; then
	echo "kver.sh: no installed Debian kernel image found (install linux-image-amd64, or set KVER=)" >&2
	exit 1
fi
echo "$kver"
