#!/bin/sh
# Install the Debian packages klptrace needs to build and test.
# Idempotent: does nothing (and needs no network) when all are present.
# Usage: scripts/deps.sh [build|vm|all]   (default: all)
set -eu

build_pkgs="build-essential pkg-config kmod libelf-dev
	linux-headers-amd64 libtracefs-dev libtraceevent-dev
	libtracecmd-dev libncurses-dev valgrind clang libclang-rt-14-dev"
vm_pkgs="linux-image-amd64 qemu-system-x86 busybox-static cpio
	python3 tmux"

case "${1:-all}" in
build)	pkgs=$build_pkgs ;;
vm)	pkgs=$vm_pkgs ;;
all)	pkgs="$build_pkgs $vm_pkgs" ;;
*)	echo "deps.sh: unknown set '$1' (build, vm or all)" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	st=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing Debian packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
