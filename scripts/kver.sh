#!/bin/sh
# Print the version of the installed Debian kernel image that klptrace
# builds against and boots in the test VM.  Never `uname -r`: the build
# machine may run another kernel.  KVER in the environment wins.
set -eu

if [ -n "${KVER:-}" ]; then
	echo "$KVER"
	exit 0
fi

# The metapackage names the image it pulls in: linux-image-6.1.0-56-amd64.
dep=$(dpkg-query -W -f '${Depends}' linux-image-amd64 2>/dev/null || true)
kver=$(printf '%s\n' "$dep" | tr ',' '\n' |
	sed -n 's/^ *linux-image-\([0-9][^ ]*\).*/\1/p' | head -n 1)

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
