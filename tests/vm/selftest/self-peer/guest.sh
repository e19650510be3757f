#!/bin/sh
# A networked scenario whose peer says no: run.sh must report the peer's
# status and the guest's failed step; the network came up (eth0 with its
# address and link) and the peer reached the guest's listener.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh
ip addr show eth0 | grep -q 'inet 10.0.2.15/24' || guest_fail "eth0 has no 10.0.2.15/24"
loop_until net_ready || guest_fail "eth0's link is not up"
# a one-line answer on the forwarded port, for the peer to fetch
echo "hello from the guest" >/tmp/hello
nc -l -p 9100 </tmp/hello &
loop_until listening 9100 || guest_fail "nc does not listen"
step one guest=here || guest_fail "step one refused, as intended"
