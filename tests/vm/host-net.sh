# shellcheck shell=bash
# The VM's network, for the scenarios with NET=1 in vm.env (run.sh,
# sourced).  qemu's user-mode network (slirp: no root, no bridge, nothing
# on the host but the forwarded ports): an e1000 NIC (its module is in
# the --net overlay of mkinitramfs.sh; guest/init gives it 10.0.2.15/24,
# slirp's fixed guest address), restrict=on (the guest reaches nothing
# outside), and each guest TCP port of HOSTFWD forwarded from a port of
# 127.0.0.1 picked free at boot time, so that parallel VMs and other
# programs on the host do not collide.

# klpt_free_ports N: print N TCP ports of 127.0.0.1 that are free now,
# one a line (the kernel's choice for port 0, all bound at once so that
# they differ).  Another program may take one before qemu binds it:
# run.sh boots again with new ports when qemu says so.
klpt_free_ports() {
	"${PYTHON:-/usr/bin/python3}" - "$1" <<'EOF'
import socket
import sys

socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
}

# klpt_listening PID PORT...: process PID itself listens on 127.0.0.1:PORT
# for every PORT (/proc/net/tcp: local address 0100007F:PORT in hex,
# state 0A, and that socket's inode among PID's open files; someone else
# listening there means qemu's forwarding failed).
klpt_listening() {
	local pid=$1 p inode socks found
	shift
	socks=$(find "/proc/$pid/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null)
	for p in "$@"; do
		found=0
		for inode in $(awk -v a="0100007F:$(printf %04X "$p")" \
			'$2 == a && $4 == "0A" { print $10 }' /proc/net/tcp); do
			grep -qxF "socket:[$inode]" <<<"$socks" && found=1
		done
		[ "$found" = 1 ] || return 1
	done
}

# klpt_net_args GUESTPORTS HOSTPORTS: print qemu's network arguments, one
# a line: guest port GUESTPORTS[i] forwarded from 127.0.0.1:HOSTPORTS[i]
# (space-separated lists of the same length).
klpt_net_args() {
	local -a g h
	local i fwd=""
	read -ra g <<<"$1"
	read -ra h <<<"$2"
	for i in "${!g[@]}"; do
		fwd+=",hostfwd=tcp:127.0.0.1:${h[i]}-:${g[i]}"
	done
	# romfile=: no PXE option ROM (the kernel boots directly).
	printf '%s\n' -netdev "user,id=n0,restrict=on$fwd" -device e1000,netdev=n0,romfile=
}
