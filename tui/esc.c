// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Strings klptop did not write, made safe for each kind of sink: task
 * names (comm: any user sets their own with prctl(PR_SET_NAME) or
 * /proc/self/comm), function, patch and module names (the kernel's, or
 * anyone's in a replayed recording), /proc/PID/cmdline and stack, and the
 * library's "why" texts that quote them.  Every text sink (-b, the
 * scripted flow, stderr, the screen) goes through top_esc_text(), JSON
 * through top_esc_json(): a name can neither send terminal controls
 * (ESC sequences, BEL, 8-bit CSI) nor break a line to forge another.
 *
 * Text, like ps(1): procps-ng's escape_str() replaces each control
 * character with '?' and, unless the locale's charset is UTF-8 (or when
 * the string is not valid UTF-8 there), every byte that is not printable
 * ASCII.  So does klptop, a little stricter:
 *   - printable ASCII (0x20-0x7e) is shown as it is;
 *   - in a UTF-8 locale (LC_CTYPE, set from the environment by main()),
 *     a valid UTF-8 sequence is shown as it is unless its code point is
 *     refused (below): then it is one '?';
 *   - every other byte is one '?': C0 controls (ESC, BEL, CR, LF, ...),
 *     DEL, every byte >= 0x80 outside a UTF-8 locale, and in one each
 *     byte that is not part of a valid sequence (stray continuation
 *     bytes, truncated sequences, overlong forms, surrogates, code
 *     points above U+10FFFF).
 * Refused code points: the C1 controls U+0080-U+009F (terminals act on
 * them, e.g. U+009B is CSI), the line and paragraph separators U+2028
 * and U+2029, and the bidirectional controls (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069), which reorder what follows them on the
 * line.  The result is never longer than the input (so buf may be s).
 *
 * JSON (RFC 8259, UTF-8): '"' and '\' are escaped, C0 controls and DEL
 * become \u00XX, valid UTF-8 passes as it is except the refused code
 * points, which become \uXXXX (still the same string for a JSON reader,
 * but a line shown on a terminal carries none), and each byte that is
 * not part of a valid sequence becomes \ufffd (U+FFFD, the replacement
 * character): the output is always valid UTF-8 and valid JSON.
 */
#include <langinfo.h>
#include <limits.h>
#include <string.h>
#include <wchar.h>

#include "klptop.h"

static bool utf8_locale;

void top_esc_init(void)
{
	const char *cs = nl_langinfo(CODESET);

	utf8_locale = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
}

/*
 * The valid UTF-8 sequence at s: its length (2 to 4) and code point, or
 * 0 if s[0] does not start one (ASCII included: the callers handle it).
 * Shortest form only, no surrogates, at most U+10FFFF (RFC 3629); a NUL
 * ends a truncated sequence like any other non-continuation byte.
 */
static int utf8_seq(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	uint32_t v, min;
	int n, i;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* A code point above ASCII that may be shown as it is (see the top). */
static bool cp_shown(uint32_t cp)
{
	if (cp < 0xa0)
		return false;	/* C1 controls */
	switch (cp) {
	case 0x061c: case 0x200e: case 0x200f: case 0x2028: case 0x2029:
		return false;
	}
	return !(cp >= 0x202a && cp <= 0x202e) &&
	       !(cp >= 0x2066 && cp <= 0x2069);
}

const char *top_esc_text(char *buf, size_t size, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (!size)
		return "";
	while (*p) {
		uint32_t cp;
		int n = utf8_locale ? utf8_seq(p, &cp) : 0;

		if (n && cp_shown(cp)) {
			if (o + (size_t)n >= size)
				break;	/* never half a character */
			memmove(buf + o, p, (size_t)n);
			o += (size_t)n;
			p += n;
			continue;
		}
		if (o + 1 >= size)
			break;
		buf[o++] = *p >= 0x20 && *p < 0x7f ? (char)*p : '?';
		p += n ? n : 1;
	}
	buf[o] = '\0';
	return buf;
}

size_t top_text_fit(const char *s, int cols, int *used)
{
	const unsigned char *p = (const unsigned char *)s;
	int w = 0;

	while (*p) {
		uint32_t cp;
		int n = utf8_seq(p, &cp), cw = 1;

		if (n) {
			cw = wcwidth((wchar_t)cp);
			cw = cw < 0 ? 1 : cw;
		} else {
			n = 1;
		}
		if (w + cw > cols)
			break;
		w += cw;
		p += n;
	}
	if (used)
		*used = w;
	return (size_t)(p - (const unsigned char *)s);
}

const char *top_esc_col(char *buf, size_t size, const char *s, int w,
			int max)
{
	size_t n;
	int cols;

	top_esc_text(buf, size, s);
	n = top_text_fit(buf, INT_MAX, &cols);
	if (max > 1 && cols > max) {
		n = top_text_fit(buf, max - 1, &cols);
		if (n + 1 < size) {
			buf[n++] = '~';
			cols++;
		}
	}
	for (; cols < w && n + 1 < size; cols++)
		buf[n++] = ' ';
	buf[n] = '\0';
	return buf;
}

void top_esc_json(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		uint32_t cp;
		int n;

		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p++, f);
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
			continue;
		}
		if (*p < 0x80) {
			fputc(*p++, f);
			continue;
		}
		n = utf8_seq(p, &cp);
		if (!n) {
			fputs("\\ufffd", f);	/* not UTF-8: one byte */
			p++;
		} else if (!cp_shown(cp)) {
			fprintf(f, "\\u%04x", (unsigned int)cp);	/* < 0x10000 */
			p += n;
		} else {
			fwrite(p, 1, (size_t)n, f);
			p += n;
		}
	}
	fputc('"', f);
}
