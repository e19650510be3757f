#!/bin/sh
# The kernel panics: no results come back; run.sh must say so and show
# the first splat and the end of the console.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh
echo c >/proc/sysrq-trigger
