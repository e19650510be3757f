#!/bin/sh
# smoke: the harness itself works.  Snapshots, markers and the event
# reader; loads and unloads klptrace.ko when the image has it (skipped
# otherwise).  judge.py checks the results on the host.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh

log "modules in the image: $(cd /klpt/modules && echo *)"

# The lib's bounded wait must give up, and say so.
if loop_until_timeout 1 false 2>/dev/null; then
	guest_fail "loop_until_timeout 1 false succeeded"
fi

if have_klptrace; then
	load_klptrace || guest_fail "load_klptrace failed"
	module_loaded klptrace || guest_fail "klptrace not in /sys/module"
else
	log "klptrace.ko not in the image: skipping the module part"
fi

snap before
grep -q '^1 1 ' "$KLPT_OUT/snap/before/tasks" || guest_fail "pid 1 missing from snap before"

mark "smoke: between snaps"
events_sync || guest_fail "events_sync failed"

if have_klptrace; then
	unload_klptrace || guest_fail "unload_klptrace failed"
	module_loaded klptrace && guest_fail "klptrace still loaded after rmmod"
fi

snap after
log "smoke done"
