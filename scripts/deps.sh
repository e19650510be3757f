#!/bin/sh
# Install the Debian packages klptrace needs to build and test.
# Idempotent: does nothing (and needs no network) when all are present.
# Usage: scripts/deps.sh [build|vm|pkg|all|fresh]   (default: all)
set -eu

# Every package a target or test calls a tool of (audit: grep the
# scripts for commands when adding one).  Essential packages of a
# debootstrap minbase (coreutils, util-linux's setpriv/unshare, bsdutils'
# script, grep, sed, gawk/mawk, tar, gzip) are not listed.
#   build: klptrace.ko, test modules, libklptrace, klptop, their unit
#          tests, fuzzers (clang, libclang-rt) and sanitizer reports
#          (llvm: llvm-symbolizer names the frames the fuzz classifier
#          reads), valgrind, pgrep (procps) in klptop's signal tests,
#          promtool (prometheus) for klptop --openmetrics' and the alert
#          rules' tests (contrib/prometheus).
#   vm:    the VM scenarios: the kernels of every flavour with their
#          headers (KFLAVOURS), qemu, the initramfs tools, the kernel's
#          own livepatch selftests (linux-source-6.1, xz-utils), python3
#          judges, tmux for console scenarios and the demo test;
#          prometheus (the server and promtool on the host) and
#          prometheus-node-exporter (copied into the guest) for the
#          scenario prometheus, which runs both as plain programs on
#          ports of its own: their services are not used (a chroot
#          without init starts none; under systemd they may run aside).
#          The man pages' and the completion's tests: mandoc, man-db
#          (man, lexgrog), bash-completion.  strace: a tui test counts
#          the files klptop opens.  The native kernel (make
#          native-kernel, kernel/native/build.sh, booted by the flavour
#          native): ccache, flex, bison, bc, patch, libssl-dev (and
#          libelf-dev, above).
#   pkg:   the Debian packages (tests/pkg/): debhelper, dh-dkms, dkms,
#          fakeroot and lintian to build and lint them, debootstrap for
#          the chroot they are installed into.
#   fresh: tests/check-fresh.sh (a debootstrap'd bookworm).
build_pkgs="build-essential pkg-config kmod libelf-dev
	linux-headers-amd64 libtracefs-dev libtraceevent-dev
	libtracecmd-dev libncurses-dev valgrind clang libclang-rt-14-dev
	llvm procps mandoc man-db bash-completion prometheus strace"
vm_pkgs="linux-image-amd64 linux-image-cloud-amd64 linux-headers-cloud-amd64
	linux-image-rt-amd64 linux-headers-rt-amd64 linux-source-6.1
	xz-utils qemu-system-x86 busybox-static cpio python3 tmux
	prometheus prometheus-node-exporter
	ccache flex bison bc patch libssl-dev"
pkg_pkgs="debhelper dh-dkms dkms fakeroot lintian debootstrap"
fresh_pkgs="debootstrap"

case "${1:-all}" in
build)	pkgs=$build_pkgs ;;
vm)	pkgs=$vm_pkgs ;;
pkg)	pkgs=$pkg_pkgs ;;
all)	pkgs="$build_pkgs $vm_pkgs $pkg_pkgs" ;;
fresh)	pkgs=$fresh_pkgs ;;
*)	echo "deps.sh: unknown set '$1' (build, vm, pkg, all or fresh)" >&2; exit 2 ;;
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
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps.sh: installed $(echo $missing | wc -w) packages in $(($(date +%s) - start)) s"
