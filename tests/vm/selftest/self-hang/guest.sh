#!/bin/sh
# A scenario that hangs, with a background child: init's watchdog must
# kill the whole group after TIMEOUT and still send the results.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh
sleep 600 &
log "hanging"
sleep 600
