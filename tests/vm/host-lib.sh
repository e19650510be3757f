# shellcheck shell=bash disable=SC2154 # $here and $root come from the caller
# Shared by run.sh and demo.sh (bash, sourced): which kernel the VM boots.
# Expects $here (tests/vm) and $root (the repository) to be set.

# klpt_kver: set and export KVER.  Precedence: KVER; the kver in the
# path of KDIR (/lib/modules/<kver>/build or .../linux-headers-<kver>);
# scripts/kver.sh (the installed Debian image; never uname -r).
klpt_kver() {
	if [ -z "${KVER:-}" ] && [ -n "${KDIR:-}" ]; then
		case $KDIR in
		*/lib/modules/*/build | */lib/modules/*/build/)
			KVER=${KDIR%/build*}
			KVER=${KVER##*/}
			;;
		*/linux-headers-*)
			KVER=${KDIR%/}
			KVER=${KVER##*/linux-headers-}
			;;
		esac
	fi
	KVER=${KVER:-$("$root/scripts/kver.sh")} || return 1
	export KVER
}

# klpt_kernel BUILDDIR: print the image to boot.  KLPT_VM_KERNEL if set;
# else the vmlinux extracted from /boot/vmlinuz-$KVER into BUILDDIR (PVH
# boot, ~3 s faster per VM under TCG; cached, redone when the vmlinuz
# changes); else the vmlinuz itself.  KLPT_VM_PVH=0 skips the extraction.
klpt_kernel() {
	local build=$1 vmlinuz=/boot/vmlinuz-$KVER elf
	if [ -n "${KLPT_VM_KERNEL:-}" ]; then
		echo "$KLPT_VM_KERNEL"
		return
	fi
	if [ ! -r "$vmlinuz" ]; then
		echo "no kernel image $vmlinuz (install linux-image-amd64)" >&2
		return 1
	fi
	elf=$build/vmlinux-$KVER
	if [ "${KLPT_VM_PVH:-1}" != 0 ]; then
		mkdir -p "$build"
		if [ "$elf" -nt "$vmlinuz" ] ||
		   "${PYTHON:-/usr/bin/python3}" "$here/extract-vmlinux.py" "$vmlinuz" "$elf"; then
			echo "$elf"
			return
		fi
	fi
	echo "$vmlinuz"
}

# The kernel command line every boot starts with.  no_timer_check: under
# TCG on a loaded host the guest's IO-APIC timer check can time out and
# panic the boot ("IO-APIC + timer doesn't work!"); the timer works.
KLPT_VM_CMDLINE="console=ttyS0 quiet panic=-1 no_timer_check"

# klpt_kernel_cmdline: KLPT_VM_CMDLINE plus what KVER's kernel needs.
# PREEMPT_RT (rt-amd64) runs the 8250 UART's interrupt in a thread: under
# TCG on a loaded host the spurious-interrupt detector counts the line's
# interrupts that the primary handler leaves to the thread as unhandled,
# says "irq 3: nobody cared" and disables ttyS1's IRQ in the middle of
# the transfer of /out, which then never ends.  noirqdebug turns that
# detector off (nothing the tests look at).
klpt_kernel_cmdline() {
	if grep -qx 'CONFIG_PREEMPT_RT=y' "/boot/config-$KVER" 2>/dev/null; then
		echo "$KLPT_VM_CMDLINE noirqdebug"
	else
		echo "$KLPT_VM_CMDLINE"
	fi
}
