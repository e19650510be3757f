#!/bin/sh
# Passes in the guest; its judge fails on purpose.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh
mark "self-judge marker"
