/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * A minimal test harness for libklptrace's unit tests.
 *
 *	static void test_something(void)
 *	{
 *		CHECK(x == 1, "x is %d", x);
 *		CHECK_INT(got, 3);
 *		CHECK_STR(name, "klpt_lp_sleep");
 *	}
 *	int main(void)
 *	{
 *		RUN(test_something);
 *		return check_summary();
 *	}
 *
 * Each RUN prints "ok NAME" or "FAIL NAME" with the failed checks; the
 * exit status is 1 if any check failed.
 */
#ifndef KLPT_CHECK_H
#define KLPT_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failed_in_test;
static int check_tests_failed;
static int check_tests_run;

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "  %s:%d: %s: ", __FILE__,	\
				__LINE__, #cond);			\
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
			check_failed_in_test = 1;			\
		}							\
	} while (0)

#define CHECK_INT(got, want)						\
	do {								\
		long long g_ = (long long)(got), w_ = (long long)(want); \
		CHECK(g_ == w_, "expected %lld, got %lld", w_, g_);	\
	} while (0)

#define CHECK_STR(got, want)						\
	do {								\
		const char *g_ = (got), *w_ = (want);			\
		CHECK(g_ && !strcmp(g_, w_), "expected \"%s\", got \"%s\"", \
		      w_, g_ ? g_ : "(null)");				\
	} while (0)

#define RUN(fn)								\
	do {								\
		check_failed_in_test = 0;				\
		fn();							\
		check_tests_run++;					\
		if (check_failed_in_test)				\
			check_tests_failed++;				\
		printf("%s %s\n", check_failed_in_test ? "FAIL" : "ok", #fn); \
	} while (0)

/* Run a shell command (printf-style) and CHECK that it succeeded. */
__attribute__((format(printf, 1, 2)))
static inline void check_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	CHECK(system(cmd) == 0, "%s", cmd);
}

static inline int check_summary(void)
{
	printf("%d tests, %d failed\n", check_tests_run, check_tests_failed);
	return check_tests_failed ? 1 : 0;
}

#endif /* KLPT_CHECK_H */
