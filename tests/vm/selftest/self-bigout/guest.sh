#!/bin/sh
# Volume: many events through the reader and 1 MiB of incompressible
# data through the ttyS1 transport; judge.py checks they arrived intact.
# shellcheck source-path=SCRIPTDIR source=../../guest/lib.sh
. /klpt/lib.sh
i=0
while [ $i -lt 20000 ]; do
	echo "bigout $i" >"$KLPT_INST/trace_marker"
	i=$((i + 1))
done
head -c 1048576 /dev/urandom >"$KLPT_OUT/random.bin"
sha256sum <"$KLPT_OUT/random.bin" | cut -d' ' -f1 >"$KLPT_OUT/random.sha256"
log "wrote 20000 markers and random.bin"
