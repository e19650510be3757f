#!/bin/sh
# Backtraces in dmesg (sysrq l: all CPUs, with "Call Trace:") must fail
# the scenario even though it exits 0.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

has_backtrace() {
	dmesg | grep -q 'Call Trace:'
}

echo l >/proc/sysrq-trigger
loop_until_timeout 10 has_backtrace
