#!/bin/bash
# Build the initramfs of the klptrace end-to-end test VM.
#
#   tests/vm/mkinitramfs.sh OUT.cpio.gz
#   tests/vm/mkinitramfs.sh --net OUT.cpio.gz
#
# --net builds only the overlay of the scenarios with NET=1 in vm.env
# (run.sh appends it to the image: the kernel unpacks concatenated
# archives in order), so that the other scenarios boot the image
# unchanged:
#   /klpt/net/e1000.ko        the NIC's driver for KVER (modular in Debian's
#                             kernels; no dependencies; /init loads it)
#   /klpt/bin/prometheus-node-exporter   Debian's node_exporter (a Go
#                             binary linked against libc only), with its
#                             shared libraries, when installed on the host
#   /klpt/build-info.net      what went in
#
# Layout of the image (gzip'd newc cpio):
#   /bin/busybox              busybox-static; /init installs the applet links
#   /init                     tests/vm/guest/init
#   /klpt/lib.sh              tests/vm/guest/lib.sh
#   /klpt/scenarios/NAME.sh   tests/vm/scenarios/NAME/guest.sh, for every NAME
#   /klpt/modules/*.ko        klptrace.ko and tests/modules/*.ko, those that exist
#   /klpt/bin/klpt_watch      libklptrace's e2e driver (lib/tests/vm),
#   /klpt/bin/klpt_finit      one finit_module() call (lib/tests/vm),
#   /klpt/bin/klpt_threads    threads that come and go (lib/tests/vm) and
#   /klpt/bin/disable_wait    its example, when lib is built (make -C lib)
#   /klpt/bin/klptop          the TUI (make -C tui), and terminfo entries in
#                             /usr/share/terminfo for its console
#   /lib/x86_64-linux-gnu/*, /lib64/ld-linux-x86-64.so.2
#                             their shared libraries (what ldd lists, at the
#                             same paths; libklptrace.so.0 with them)
#   /klpt/selftests/          the kernel's livepatch selftest scripts
#                             (tools/testing/selftests/livepatch), unchanged
#   /lib/modules/KVER/extra/test_klp_*.ko, modules.dep...
#                             their modules, for modprobe (depmod -b)
#   /klpt/st/bin/             bash, coreutils, grep, sed, awk, diff, sysctl,
#                             dmesg, kmod: what the selftests run (busybox's
#                             applets differ in options and messages); the
#                             scenario puts it first in PATH
#   /klpt/build-info          what went in (kver, modules, tools), for the logs
#   /dev/console, /proc, /sys, /tmp, /out
#
# Inputs (environment; defaults resolved from this script's location):
#   BUSYBOX        busybox binary, must be static  [/bin/busybox]
#   KLPTRACE_KO    klptrace.ko                     [kernel/klptrace/klptrace.ko]
#   TEST_MODULES   directory of test modules       [tests/modules]
#   SCENARIOS_DIR  directory of scenarios          [tests/vm/scenarios]
#   EXTRA_KO       more .ko files, space separated [none]
#   LIB_BUILD      libklptrace's build directory   [build/lib]
#   SELFTESTS_KO   directory of the test_klp_*.ko  [build/kmod/$KVER/selftests]
#   SELFTESTS_SRC  extracted selftest sources      [build/selftests/src]
#                  (tests/selftests/Makefile builds both; without them the
#                  image has no selftests and that scenario fails saying so)
#   KVER           /lib/modules/KVER of the selftest modules; recorded in
#                  /klpt/build-info
# A missing klptrace.ko or test module is not an error: scenarios check
# what is in /klpt/modules and skip what they cannot run.  Nor is an
# unbuilt lib: the image then has no /klpt/bin (lib.sh starts no
# klpt_watch, the library's checks do not run).
#
# Reproducible: sorted entries, owner 0:0, mtime 0, normalised modes,
# gzip -n; the same inputs give the same bytes.  Takes well under 1 s.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

net=0
if [ "${1:-}" = --net ]; then
	net=1
	shift
fi
if [ $# -ne 1 ]; then
	echo "usage: $0 [--net] OUT.cpio.gz" >&2
	exit 2
fi
out=$1

busybox=${BUSYBOX:-/bin/busybox}
klptrace_ko=${KLPTRACE_KO:-$root/kernel/klptrace/klptrace.ko}
test_modules=${TEST_MODULES:-$root/tests/modules}
lib_build=${LIB_BUILD:-$root/build/lib}
scenarios_dir=${SCENARIOS_DIR:-$here/scenarios}

if [ ! -x "$busybox" ]; then
	echo "mkinitramfs: no busybox at $busybox (apt-get install busybox-static)" >&2
	exit 1
fi
# A dynamically linked busybox would die in the guest with no libc there.
# (ldd exits non-zero on a static binary.)
if ldd "$busybox" >/dev/null 2>&1; then
	echo "mkinitramfs: $busybox is not static (install busybox-static)" >&2
	exit 1
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/klpt-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# pack: $stage into $out, reproducibly: normalise everything that would
# make two builds differ (sorted entries, owner, mtime), gzip -n.
pack() {
	find "$stage" -exec touch -h -d @0 {} +
	mkdir -p "$(dirname "$out")"
	local tmp_out="$out.tmp.$$"
	(
		cd "$stage"
		find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
			cpio --quiet -o -H newc -R 0:0 --reproducible
	) | gzip -n -6 >"$tmp_out"
	mv -f "$tmp_out" "$out"
}

declare -A libs=()
# add_libs BIN: the shared libraries BIN needs, into libs[].
add_libs() {
	local t=$1 deps name arrow path
	# "name => /path (addr)", "/lib64/ld-linux-x86-64.so.2 (addr)"
	deps=$(ldd "$t") || { echo "mkinitramfs: ldd $t failed" >&2; exit 1; }
	while read -r name arrow path _; do
		if [ "$arrow" != "=>" ]; then
			path=$name
		fi
		case $path in
		/*) ;;
		not) echo "mkinitramfs: $t: $name not found" >&2; exit 1 ;;
		*) continue ;;	# linux-vdso.so.1: in the kernel
		esac
		case $name in
		libklptrace.so.*) libs["/lib/x86_64-linux-gnu/$name"]=$path ;;
		*) libs["$path"]=$path ;;
		esac
	done <<<"$deps"
}

# install_libs: what add_libs collected, at the same paths, as the file
# itself under the name the loader looks for.
install_libs() {
	local dst
	for dst in "${!libs[@]}"; do
		mkdir -p "$stage$(dirname "$dst")"
		install -m 0755 "$(readlink -f "${libs[$dst]}")" "$stage$dst"
	done
}

# The overlay of the networked scenarios (--net, above).
if [ "$net" = 1 ]; then
	kver=${KVER:?mkinitramfs --net: KVER is not set}
	nic=$(modinfo -k "$kver" -n e1000 2>/dev/null) || {
		echo "mkinitramfs: no e1000 module for $kver (linux-image-$kver)" >&2
		exit 1
	}
	mkdir -p "$stage/klpt/net" "$stage/klpt/bin"
	case $nic in
	*.ko) install -m 0644 "$nic" "$stage/klpt/net/e1000.ko" ;;
	*.ko.xz) xz -dc "$nic" >"$stage/klpt/net/e1000.ko" ;;
	*) echo "mkinitramfs: $nic: unknown module format" >&2; exit 1 ;;
	esac
	exporter=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
	if [ -x "$exporter" ]; then
		install -m 0755 "$exporter" "$stage/klpt/bin/prometheus-node-exporter"
		add_libs "$exporter"
		install_libs
	else
		echo "mkinitramfs: note: no $exporter (apt-get install prometheus-node-exporter)" >&2
	fi
	{
		echo "e1000=$(sha256sum <"$stage/klpt/net/e1000.ko" | cut -c1-16)"
		[ -x "$exporter" ] && echo "node_exporter=$(sha256sum <"$exporter" | cut -c1-16)"
	} >"$stage/klpt/build-info.net"
	pack
	echo "mkinitramfs: $out ($(du -k "$out" | cut -f1) KiB; network overlay)" >&2
	exit 0
fi

mkdir -p "$stage"/{bin,dev,proc,sys,tmp,out,klpt/scenarios,klpt/modules}
install -m 0755 "$busybox" "$stage/bin/busybox"
install -m 0755 "$here/guest/init" "$stage/init"
install -m 0644 "$here/guest/lib.sh" "$stage/klpt/lib.sh"

# The kernel opens /dev/console for init's stdio before init can mount
# devtmpfs.  Debian kernels carry a built-in initramfs with that node, but
# do not rely on it when we can make it (needs root).
mknod -m 0600 "$stage/dev/console" c 5 1 2>/dev/null || true

for d in "$scenarios_dir"/*/; do
	[ -f "$d/guest.sh" ] || continue
	name=$(basename "$d")
	install -m 0755 "$d/guest.sh" "$stage/klpt/scenarios/$name.sh"
done

mods=()
[ -f "$klptrace_ko" ] && mods+=("$klptrace_ko")
for ko in "$test_modules"/*.ko ${EXTRA_KO:-}; do
	[ -f "$ko" ] && mods+=("$ko")
done
for ko in "${mods[@]}"; do
	install -m 0644 "$ko" "$stage/klpt/modules/$(basename "$ko")"
done

# libklptrace's tools and what they need to run in a busybox guest: the
# shared libraries ldd resolves (libklptrace.so.0 through the tools'
# rpath, into the loader's default directory), copied at their paths.
tools=()
for t in "$lib_build/tests-vm/klpt_watch" "$lib_build/tests-vm/klpt_finit" \
	"$lib_build/tests-vm/klpt_threads" "$lib_build/examples/disable_wait"; do
	[ -x "$t" ] && tools+=("$t")
done
if [ ${#tools[@]} -eq 0 ]; then
	echo "mkinitramfs: note: libklptrace not built ($lib_build): no klpt_watch, no disable_wait" >&2
fi
# klptop (make -C tui), with the terminfo entries of the terminals the
# guest console may be (TERM=linux by default; the tmux tests' and an
# xterm's).
tui_build=${TUI_BUILD:-$root/build/tui}
if [ -x "$tui_build/klptop" ]; then
	tools+=("$tui_build/klptop")
	for ti in l/linux v/vt100 v/vt102 v/vt220 x/xterm x/xterm-256color \
		s/screen s/screen-256color t/tmux t/tmux-256color; do
		for d in /lib/terminfo /usr/share/terminfo; do
			if [ -f "$d/$ti" ]; then
				mkdir -p "$stage/usr/share/terminfo/${ti%/*}"
				install -m 0644 "$d/$ti" "$stage/usr/share/terminfo/$ti"
				break
			fi
		done
	done
else
	echo "mkinitramfs: note: klptop not built ($tui_build): no klptop in the guest" >&2
fi
for t in "${tools[@]}"; do
	mkdir -p "$stage/klpt/bin"
	install -m 0755 "$t" "$stage/klpt/bin/$(basename "$t")"
	add_libs "$t"
done

# The kernel's livepatch selftests (scenario selftests).
st_ko=${SELFTESTS_KO:-$root/build/kmod/${KVER:-none}/selftests}
st_src=${SELFTESTS_SRC:-$root/build/selftests/src}
st_mods=()
if [ -n "${KVER:-}" ] && [ -d "$st_src/tools/testing/selftests/livepatch" ] &&
	compgen -G "$st_ko/test_klp_*.ko" >/dev/null; then
	mkdir -p "$stage/klpt/selftests" "$stage/lib/modules/$KVER/extra" "$stage/klpt/st/bin"
	for f in "$st_src"/tools/testing/selftests/livepatch/*; do
		case $f in *.sh) m=0755 ;; *) m=0644 ;; esac
		install -m "$m" "$f" "$stage/klpt/selftests/$(basename "$f")"
	done
	for ko in "$st_ko"/test_klp_*.ko; do
		install -m 0644 "$ko" "$stage/lib/modules/$KVER/extra/"
		st_mods+=("$ko")
	done
	# kmod wants the built-in list to tell built-in from missing.
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ -f "/lib/modules/$KVER/$f" ] &&
			install -m 0644 "/lib/modules/$KVER/$f" "$stage/lib/modules/$KVER/$f"
	done
	depmod -b "$stage" "$KVER" || { echo "mkinitramfs: depmod -b failed" >&2; exit 1; }
	# functions.sh calls /bin/stat (the scenario links it there); the
	# others are found through PATH.
	for b in bash stat mktemp comm id cat rm sleep dirname basename \
		head tail wc tr cut sort uniq date tee timeout uname env \
		grep sed mawk diff sysctl dmesg kmod; do
		p=$(command -v "$b") || { echo "mkinitramfs: $b missing on the host" >&2; exit 1; }
		install -m 0755 "$(readlink -f "$p")" "$stage/klpt/st/bin/$b"
		add_libs "$p"
	done
	ln -s mawk "$stage/klpt/st/bin/awk"
	for b in modprobe modinfo insmod rmmod lsmod depmod; do
		ln -s kmod "$stage/klpt/st/bin/$b"
	done
elif [ -n "${KVER:-}" ]; then
	echo "mkinitramfs: note: no livepatch selftests ($st_ko, $st_src: make -C tests/selftests)" >&2
fi
install_libs

{
	echo "kver=${KVER:-unknown}"
	for ko in "${mods[@]}"; do
		echo "module=$(basename "$ko") sha256=$(sha256sum <"$ko" | cut -c1-16)"
	done
	for t in "${tools[@]}"; do
		echo "tool=$(basename "$t") sha256=$(sha256sum <"$t" | cut -c1-16)"
	done
	for ko in "${st_mods[@]}"; do
		echo "selftest_module=$(basename "$ko") sha256=$(sha256sum <"$ko" | cut -c1-16)"
	done
	for dst in $(printf '%s\n' "${!libs[@]}" | LC_ALL=C sort); do
		echo "lib=$dst"
	done
} >"$stage/klpt/build-info"

pack
echo "mkinitramfs: $out ($(du -k "$out" | cut -f1) KiB; modules: ${#mods[@]}; tools: ${#tools[@]})" >&2
