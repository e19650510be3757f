// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Fuzz target "tracedat": the input is a trace.dat (`trace-cmd record
 * -e klp`), opened with klpt_session_open_replay() (replay.c's
 * libtracecmd path: records written back into ring-buffer pages, then
 * the merge, decoder and model), replayed to its end with the model
 * walked (common.c).  libtracecmd opens files by path: the input is
 * written to a scratch file first.  Seed: fixtures/vm-recording.dat.
 */
#include <stdlib.h>

#include "common.h"

FUZZ_TARGET(tracedat)
{
	static char path[4096];

	if (!path[0]) {
		fuzz_quiet();
		snprintf(path, sizeof(path), "%s/trace.dat", fuzz_scratch());
	}
	fuzz_write(path, data, size);
	fuzz_replay(path);
	return 0;
}
