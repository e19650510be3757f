// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Small helpers shared by the session, the actions and the load: one
 * clock, the one-line explanation a caller may ask for, and the options
 * structs' size rule.
 */
#include <stdarg.h>
#include <time.h>

#include "internal.h"

uint64_t klpt_mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void klpt_why_set(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!why || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

int klpt_opts_copy(void *out, size_t size, const void *in, size_t in_sz)
{
	size_t i;

	memset(out, 0, size);
	if (!in)
		return 0;
	if (in_sz < sizeof(size_t))
		return -EINVAL;
	for (i = size; i < in_sz; i++)
		if (((const unsigned char *)in)[i])
			return -EINVAL;
	memcpy(out, in, in_sz < size ? in_sz : size);
	*(size_t *)out = size;
	return 0;
}
