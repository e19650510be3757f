// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * The fuzz targets of lib/fuzz without libFuzzer: every input under
 * lib/fuzz/regressions/<target>/ (inputs that once crashed, kept so
 * that they never do again) and the seeds built from the fixtures
 * (lib/fuzz/mkseeds, into $(OUT)/fuzz/seeds/<target>/) go through the
 * target's entry point once, in the ordinary build, under ASan+UBSan
 * and under valgrind (run-unit.sh), so they run where clang is missing
 * too.  A target checks the library's contracts itself and aborts when
 * one breaks; this test fails if an input crashes or aborts, or if a
 * directory that must not be empty is.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "check.h"
#include "pagebuild.h"

#ifndef KLPT_FUZZ_DIR
#define KLPT_FUZZ_DIR "lib/fuzz"
#endif
#ifndef KLPT_FUZZ_SEEDS
#define KLPT_FUZZ_SEEDS "build/lib/fuzz/seeds"
#endif

static const struct {
	const char *name;
	int (*fn)(const uint8_t *data, size_t size);
} targets[] = {
	{ "pages", klpt_fuzz_pages },
	{ "recording", klpt_fuzz_recording },
	{ "tracedat", klpt_fuzz_tracedat },
};

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run fn on every file in dir (sorted: a stable log); returns how many. */
static int replay_dir(const char *dir, const char *target,
		      int (*fn)(const uint8_t *, size_t))
{
	char path[4096], *names[1024];
	struct dirent *de;
	int n = 0, i;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < 1024)
		if (de->d_name[0] != '.' && strcmp(de->d_name, "README.md"))
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp);
	for (i = 0; i < n; i++) {
		unsigned char *buf;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		buf = (unsigned char *)slurp_file(path, &len);
		CHECK(buf != NULL, "cannot read %s", path);
		if (buf) {
			printf("%s: %s (%zu bytes)\n", target, path, len);
			fflush(stdout);
			fn(buf, len);
			free(buf);
		}
		free(names[i]);
	}
	return n;
}

static void test_regressions(void)
{
	char dir[4096];
	size_t i;

	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/regressions/%s", KLPT_FUZZ_DIR,
			 targets[i].name);
		replay_dir(dir, targets[i].name, targets[i].fn);
	}
}

/* The seeds are the fixtures' real recordings: all must be there. */
static void test_seeds(void)
{
	char dir[4096];
	size_t i;

	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", KLPT_FUZZ_SEEDS,
			 targets[i].name);
		CHECK(replay_dir(dir, targets[i].name, targets[i].fn) > 0,
		      "no seeds in %s", dir);
	}
}

int main(void)
{
	RUN(test_regressions);
	RUN(test_seeds);
	return check_summary();
}
