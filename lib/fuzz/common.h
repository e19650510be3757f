/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * What libklptrace's fuzz targets share (common.c): where the fixtures
 * are, a private scratch directory, draining a replay session and
 * walking the model through every accessor.
 *
 * A target is written once with FUZZ_TARGET(name) { ... }: built with
 * -DKLPT_LIBFUZZER it is libFuzzer's LLVMFuzzerTestOneInput(), else it
 * is klpt_fuzz_<name>(), which lib/tests/test_fuzz_regressions calls on
 * every file of regressions/<name>/ in the ordinary and ASan builds.
 */
#ifndef KLPT_FUZZ_COMMON_H
#define KLPT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int klpt_fuzz_pages(const uint8_t *data, size_t size);
int klpt_fuzz_recording(const uint8_t *data, size_t size);
int klpt_fuzz_tracedat(const uint8_t *data, size_t size);

#ifdef KLPT_LIBFUZZER
#define FUZZ_TARGET(name) \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#else
#define FUZZ_TARGET(name) \
	int klpt_fuzz_##name(const uint8_t *data, size_t size)
#endif

/*
 * A broken contract of the library (not a crash the sanitizers would
 * see): print it and abort, so that libFuzzer keeps the input.
 */
#define FUZZ_ASSERT(cond)						\
	do {								\
		if (!(cond))						\
			fuzz_fail(__FILE__, __LINE__, #cond);		\
	} while (0)

__attribute__((noreturn))
void fuzz_fail(const char *file, int line, const char *what);

/*
 * lib/tests/fixtures: $KLPT_TEST_FIXTURES, else the source tree's
 * (KLPT_FIXTURES, set by lib/Makefile).  name "" is the directory.
 */
const char *fuzz_fixture(const char *name);

/*
 * A directory of this process's own under $TMPDIR (run.sh points that
 * at a tmpfs), created on first use and removed at exit.
 */
const char *fuzz_scratch(void);

/* Write len bytes to path (created or truncated); exits on failure. */
void fuzz_write(const char *path, const void *buf, size_t len);

/* $KLPT_FUZZ_VERBOSE is set: say what an input did, on stderr. */
bool fuzz_verbose(void);

/* Silence libtraceevent/libtracecmd: fuzzed formats make them chatty. */
void fuzz_quiet(void);

/*
 * The strings of a decoded event are readable strings (ASan checks the
 * reads) and its type has a name.
 */
void fuzz_check_event(const struct klpt_event *ev);

/* Every accessor of the bare model, and the verdict of every module. */
void fuzz_walk_model(const struct klpt_model *m);

/*
 * Open a replay of path, process it to its end (checking the contracts
 * of klpt_session_process() on the way) and walk the model through the
 * session's API.  An open that fails is fine: that is what malformed
 * input should get.
 */
void fuzz_replay(const char *path);

#endif /* KLPT_FUZZ_COMMON_H */
