#!/bin/bash
# Boot the test VM interactively on this terminal (used by `make demo`).
#
#   tests/vm/demo.sh [SCENARIO]      (default: demo)
#
# The guest runs tests/vm/scenarios/SCENARIO/guest.sh with its output on
# the console (klpt_interactive mode of guest/init), then gives a shell;
# `exit` in that shell powers the VM off.  Ctrl-C stops the scenario;
# Ctrl-A x quits qemu at any time (Ctrl-A h: the other qemu keys).
#
# Environment: KVER/KDIR, KLPT_VM_KERNEL, KLPT_VM_PVH, KLPT_VM_MEM, KLPT_VM_SMP,
# KLPT_VM_APPEND, KLPT_BUILD_DIR as for run.sh.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

scenario=${1:-demo}
if [ ! -f "$here/scenarios/$scenario/guest.sh" ]; then
	echo "demo.sh: no $here/scenarios/$scenario/guest.sh" >&2
	exit 2
fi

# shellcheck source=host-lib.sh
. "$here/host-lib.sh"
klpt_kver
build=${KLPT_BUILD_DIR:-$root/build}/vm
kernel=$(klpt_kernel "$build")

# Its own image name: a concurrent run.sh may be rebuilding its own.
initrd=$build/initramfs-demo.cpio.gz
"$here/mkinitramfs.sh" "$initrd"

# The guest console gets this terminal's size (guest/init: stty rows/cols),
# and each change of it (console-size.sh, on the guest's ttyS2).
rows=24 cols=80
if [ -t 0 ] && size=$(stty size 2>/dev/null) && [ -n "$size" ]; then
	read -r rows cols <<<"$size"
fi

# qemu -nographic puts the terminal in raw mode, and SeaBIOS turns line
# wrap off on it (ESC [?7l): put both back however qemu ends (quit, kill,
# crash).
if [ -t 0 ]; then
	trap 'stty sane 2>/dev/null; printf "\033[?7h"; echo' EXIT
fi

# The demo runs klptop in the guest: without it there is nothing to show.
if [ "$scenario" = demo ] && [ ! -x "${TUI_BUILD:-$root/build/tui}/klptop" ]; then
	echo "demo.sh: klptop is not built (${TUI_BUILD:-$root/build/tui}/klptop): run 'make demo' or 'make -C tui'" >&2
	exit 2
fi
# The guest reports klptop's exit status on its second serial port.
status=$build/demo-status.txt
rm -f "$status"

echo "demo.sh: booting $scenario; Ctrl-A x quits qemu, 'exit' in the guest shell powers off" >&2
# -nographic: serial console and qemu monitor multiplexed on stdio
# (Ctrl-A c switches); -no-reboot: a guest panic or reboot ends qemu.
qrc=0
"$here/console-size.sh" "$build/demo-winsize" qemu-system-x86_64 \
	-accel tcg -cpu max -m "${KLPT_VM_MEM:-512}" -smp "${KLPT_VM_SMP:-2}" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "$KLPT_VM_CMDLINE klpt_scenario=$scenario klpt_interactive=1 klpt_rows=$rows klpt_cols=$cols klpt_winsize=1 ${KLPT_VM_APPEND:-}" \
	-nodefaults -no-user-config -nographic -serial mon:stdio \
	-serial file:"$status" -serial pipe:"$build/demo-winsize" \
	-no-reboot || qrc=$?

[ "$scenario" = demo ] || exit "$qrc"
# make demo fails unless klptop ran and exited 0.
line=$(grep -a -o 'klptop_status=[0-9]* klpt_lp_sleep_loaded=[01]' "$status" 2>/dev/null | tail -n 1)
if [ -z "$line" ]; then
	echo "demo.sh: no report from the guest (qemu status $qrc): klptop did not run, or the VM was stopped before klptop ended" >&2
	exit 1
fi
st=${line#klptop_status=}
st=${st%% *}
echo "demo.sh: klptop exited with status $st; ${line##* }" >&2
exit "$st"
