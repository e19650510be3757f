#!/bin/sh
# A scenario that fails: run.sh must report the status and the message.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh
log "about to fail"
guest_fail "intended failure"
