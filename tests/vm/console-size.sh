#!/bin/bash
# Run a VM (qemu, its console on this terminal) and pass this terminal's
# size changes to the guest: a serial console has no SIGWINCH of its own,
# so without this a guest program keeps drawing for the size it booted
# with and a resized host terminal shows torn rows.
#
#   tests/vm/console-size.sh FIFO COMMAND...
#
# FIFO.in is the qemu pipe chardev the guest reads as /dev/ttyS2 (the
# caller gives qemu -serial pipe:FIFO, with klpt_winsize=1 on the kernel
# command line; guest/init applies each "ROWS COLS" line to its console,
# which signals SIGWINCH to the console's foreground programs).  FIFO.in
# and FIFO.out are made here.  Exits with COMMAND's status.
set -u
fifo=$1
shift
rm -f "$fifo.in" "$fifo.out"
mkfifo "$fifo.in" "$fifo.out" || exit 1
# Read and write: never blocks, whether qemu opened its end yet or not;
# .out is drained so the guest's writes (if any) never fill it.
exec 4<>"$fifo.in" 5<>"$fifo.out"
cat <&5 >/dev/null &
drain=$!
# shellcheck disable=SC2317  # (a trap runs it)
send_size() {
	local size
	size=$(stty size 2>/dev/null) && [ -n "$size" ] && echo "$size" >&4
}
trap send_size WINCH
# <&0: a command started with & keeps the terminal as its input (a
# script's background commands otherwise read /dev/null)
"$@" <&0 4>&- 5>&- &
pid=$!
# wait returns early for each WINCH; until the command is gone
while :; do
	wait "$pid"
	rc=$?
	kill -0 "$pid" 2>/dev/null || break
done
kill "$drain" 2>/dev/null
rm -f "$fifo.in" "$fifo.out"
exit "$rc"
