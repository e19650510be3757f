// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests of esc.c: the text and JSON escapers every sink uses for
 * names klptop did not write (task comm, function, patch and module
 * names, the library's why texts).  The expected bytes are written out
 * by hand from the rules in esc.c's comment (ps(1)'s '?', RFC 3629's
 * valid UTF-8, RFC 8259's JSON), not produced by the code under test.
 * Built and run by tui/tests/run.sh with ASan and UBSan.
 */
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../klptop.h"

static int failures;

static void check_text(int line, const char *in, const char *want)
{
	char buf[256];

	top_esc_text(buf, sizeof(buf), in);
	if (strcmp(buf, want)) {
		printf("line %d: text of '%s': got '%s', want '%s'\n", line,
		       in, buf, want);
		failures++;
	}
}

static void check_json(int line, const char *in, const char *want)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f) {
		perror("open_memstream");
		exit(2);
	}
	top_esc_json(f, in);
	fclose(f);
	if (strcmp(out, want)) {
		printf("line %d: json: got %s, want %s\n", line, out, want);
		failures++;
	}
	free(out);
}

#define TEXT(in, want) check_text(__LINE__, in, want)
#define JSON(in, want) check_json(__LINE__, in, want)

/*
 * Bytes that are not UTF-8: '?' per byte in text, U+FFFD per byte in
 * JSON; what follows is kept.
 */
static const struct {
	const char *in, *text, *json;
} invalid[] = {
	/* C1 as bytes, alone */
	{ "x\x9b" "y", "x?y", "\"x\\ufffdy\"" },
	/* truncated sequences */
	{ "ab\xc3", "ab?", "\"ab\\ufffd\"" },
	{ "\xe2\x82" "x", "??x", "\"\\ufffd\\ufffdx\"" },
	{ "\xf0\x9f\x94", "???", "\"\\ufffd\\ufffd\\ufffd\"" },
	/* overlongs ('/' as c0 af and e0 80 af, NUL as c0 80) */
	{ "\xc0\xaf", "??", "\"\\ufffd\\ufffd\"" },
	{ "\xe0\x80\xaf", "???", "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "\xc0\x80", "??", "\"\\ufffd\\ufffd\"" },
	/* a surrogate, above U+10FFFF, invalid lead bytes */
	{ "\xed\xa0\x80", "???", "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "\xf4\x90\x80\x80", "????",
	  "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	{ "\xf8\x88\x80\x80\x80", "?????",
	  "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	{ "\xfe\xff", "??", "\"\\ufffd\\ufffd\"" },
};

static void not_utf8(bool text)
{
	size_t i;

	for (i = 0; i < sizeof(invalid) / sizeof(*invalid); i++)
		if (text)
			check_text(__LINE__, invalid[i].in, invalid[i].text);
		else
			check_json(__LINE__, invalid[i].in, invalid[i].json);
}

/* A UTF-8 locale: valid UTF-8 is shown, controls never are. */
static void text_utf8(void)
{
	TEXT("klpt_sleeper", "klpt_sleeper");
	TEXT("", "");
	/* C0 controls, DEL: one '?' each, as ps shows them */
	TEXT("a\x1b[31mred", "a?[31mred");
	TEXT("bel\a", "bel?");
	TEXT("cr\rlf\nx", "cr?lf?x");
	TEXT("tab\tdel\x7f", "tab?del?");
	/* UTF-8 shown as it is: 2, 3 and 4 bytes */
	TEXT("caf\xc3\xa9", "caf\xc3\xa9");
	TEXT("\xe2\x82\xac" "5", "\xe2\x82\xac" "5");
	TEXT("\xf0\x9f\x94\xa5", "\xf0\x9f\x94\xa5");
	/* C1 as bytes (0x80-0x9f alone: not UTF-8): '?' per byte */
	TEXT("x\x9b" "31m", "x?31m");
	TEXT("\x80\x9f", "??");
	/* C1 as code points (U+009B = c2 9b): one '?' */
	TEXT("x\xc2\x9b" "31m", "x?31m");
	/* line/paragraph separators, bidi overrides: one '?' each */
	TEXT("a\xe2\x80\xa8" "b", "a?b");
	TEXT("a\xe2\x80\xae" "cba", "a?cba");
	TEXT("\xe2\x81\xa6x\xe2\x81\xa9", "?x?");
	TEXT("\xd8\x9c" "a", "?a");
	/* a stray continuation byte before a valid character */
	TEXT("\xa9\xc3\xa9", "?\xc3\xa9");
	/*
	 * Format characters (Cf) a terminal draws as nothing: "sshd" and
	 * a zero width space must not look like "sshd".
	 */
	TEXT("sshd\xe2\x80\x8b", "sshd?");		/* U+200B */
	TEXT("a\xe2\x80\x8c\xe2\x80\x8d" "b", "a??b");	/* ZWNJ, ZWJ */
	TEXT("a\xe2\x80\x8e\xe2\x80\x8f", "a??");	/* LRM, RLM */
	TEXT("\xe2\x81\xa0\xe2\x81\xa4", "??");	/* U+2060, U+2064 */
	TEXT("\xef\xbb\xbf" "x", "?x");			/* U+FEFF */
	TEXT("so\xc2\xad" "ft", "so?ft");			/* U+00AD */
	TEXT("\xe1\xa0\x8e", "?");			/* U+180E */
	TEXT("\xef\xbf\xb9\xef\xbf\xbb", "??");	/* U+FFF9, U+FFFB */
	TEXT("\xe2\x81\xaa", "?");			/* U+206A */
	/* tags U+E0001, U+E0041 ('A'), U+E007F */
	TEXT("x\xf3\xa0\x80\x81\xf3\xa0\x81\x81\xf3\xa0\x81\xbf",
	     "x???");
	/* unassigned (wcwidth() -1): U+0378, U+2065, U+10FFFF */
	TEXT("\xcd\xb8\xe2\x81\xa5\xf4\x8f\xbf\xbf", "???");
	/* still shown: a combining accent, a private use character */
	TEXT("e\xcc\x81", "e\xcc\x81");
	TEXT("\xee\x80\x80", "\xee\x80\x80");
}

/* Not UTF-8 (C, POSIX): every byte >= 0x80 is '?', as ps does. */
static void text_c(void)
{
	TEXT("klpt_sleeper", "klpt_sleeper");
	TEXT("caf\xc3\xa9", "caf??");
	TEXT("a\x1b]0;x\a", "a?]0;x?");
	TEXT("\x9b", "?");
	TEXT("sshd\xe2\x80\x8b", "sshd???");
}

/* The output fits the buffer and never ends in half a character. */
static void text_sizes(void)
{
	char buf[8], in[] = "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac";

	top_esc_text(buf, 8, in);	/* 7 bytes: two euros, not 2.33 */
	if (strcmp(buf, "\xe2\x82\xac\xe2\x82\xac")) {
		printf("cut: got '%s'\n", buf);
		failures++;
	}
	top_esc_text(buf, 4, "a\x1b" "bcdef");
	if (strcmp(buf, "a?b")) {
		printf("cut: got '%s'\n", buf);
		failures++;
	}
	/* in place: the result is never longer */
	strcpy(buf, "x\ny\xc3\xa9");
	top_esc_text(buf, sizeof(buf), buf);
	if (strcmp(buf, "x?y\xc3\xa9")) {
		printf("in place: got '%s'\n", buf);
		failures++;
	}
}

/* Columns, for the screen: UTF-8 characters are one column (or two). */
static void fit(void)
{
	int used;
	size_t n = top_text_fit("caf\xc3\xa9s", 4, &used);

	if (n != 5 || used != 4) {
		printf("fit: %zu bytes, %d columns; want 5, 4\n", n, used);
		failures++;
	}
	n = top_text_fit("\xe6\x97\xa5\xe6\x9c\xac", 3, &used);
	if (n != 3 || used != 2) {
		printf("fit wide: %zu bytes, %d columns; want 3, 2\n", n, used);
		failures++;
	}
}

static void check_col(int line, const char *in, int w, int max,
		      const char *want)
{
	char buf[64];

	top_esc_col(buf, sizeof(buf), in, w, max);
	if (strcmp(buf, want)) {
		printf("line %d: column of '%s': got '%s', want '%s'\n", line,
		       in, buf, want);
		failures++;
	}
}

/* Columns padded and cut by terminal columns, not bytes. */
static void col(void)
{
	check_col(__LINE__, "caf\xc3\xa9", 6, 0, "caf\xc3\xa9  ");
	check_col(__LINE__, "a\nb", 4, 0, "a?b ");
	check_col(__LINE__, "abcdef", 4, 0, "abcdef");
	/* cut: an ellipsis (U+2026, one column) in a UTF-8 locale */
	check_col(__LINE__, "abcdef", 4, 4, "abc\xe2\x80\xa6");
	/* 3 wide characters (6 columns) in 5: two and the ellipsis */
	check_col(__LINE__, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 5, 5,
		  "\xe6\x97\xa5\xe6\x9c\xac\xe2\x80\xa6");
	/* in 4: one (the second would need columns 3-4), '...', a space */
	check_col(__LINE__, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4, 4,
		  "\xe6\x97\xa5\xe2\x80\xa6 ");
}

/* JSON does not depend on the locale: always UTF-8. */
static void json(void)
{
	JSON("klpt_sleeper", "\"klpt_sleeper\"");
	JSON("q\"b\\", "\"q\\\"b\\\\\"");
	JSON("a\x1b[31m\a\r\n\x7f", "\"a\\u001b[31m\\u0007\\u000d\\u000a"
	     "\\u007f\"");
	/* valid UTF-8 as it is, not Latin-1 \u00XX per byte */
	JSON("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	JSON("\xf0\x9f\x94\xa5", "\"\xf0\x9f\x94\xa5\"");
	/* C1, separators, bidi: the code point, escaped */
	JSON("\xc2\x9b", "\"\\u009b\"");
	JSON("\xe2\x80\xa8\xe2\x80\xae", "\"\\u2028\\u202e\"");
	/* Cf: escaped; above U+FFFF as a surrogate pair (U+E0041) */
	JSON("sshd\xe2\x80\x8b", "\"sshd\\u200b\"");
	JSON("\xef\xbb\xbf\xc2\xad", "\"\\ufeff\\u00ad\"");
	JSON("\xf3\xa0\x81\x81", "\"\\udb40\\udc41\"");
	/* unassigned: as it is (JSON does not depend on the locale) */
	JSON("\xcd\xb8", "\"\xcd\xb8\"");
}

static void check_cut(int line, const char *in, size_t size,
		      const char *want)
{
	char buf[16];

	snprintf(buf, size, "%s", in);
	top_utf8_cut(buf, size);
	if (strcmp(buf, want)) {
		printf("line %d: cut of '%s' to %zu: got '%s', want '%s'\n",
		       line, in, size, buf, want);
		failures++;
	}
}

/* Names cut to a buffer end on a character boundary. */
static void cut(void)
{
	/* e-acute (2 bytes) split after its first byte */
	check_cut(__LINE__, "ab\xc3\xa9", 4, "ab");
	check_cut(__LINE__, "ab\xc3\xa9", 5, "ab\xc3\xa9");
	/* a euro (3) split after 1 and 2 bytes, a 4-byte one after 3 */
	check_cut(__LINE__, "a\xe2\x82\xac", 3, "a");
	check_cut(__LINE__, "a\xe2\x82\xac", 4, "a");
	check_cut(__LINE__, "a\xf0\x9f\x94\xa5", 5, "a");
	check_cut(__LINE__, "a\xf0\x9f\x94\xa5", 6, "a\xf0\x9f\x94\xa5");
	/* not cut, or ASCII, or bytes that are not UTF-8: as they are */
	check_cut(__LINE__, "x\xc3", 16, "x\xc3");
	check_cut(__LINE__, "abcdef", 4, "abc");
	check_cut(__LINE__, "ab\xa9\xa9\xa9\xa9", 7, "ab\xa9\xa9\xa9\xa9");
}

int main(void)
{
	if (!setlocale(LC_CTYPE, "C.UTF-8")) {
		printf("no C.UTF-8 locale\n");
		return 2;
	}
	top_esc_init();
	text_utf8();
	not_utf8(true);
	text_sizes();
	fit();
	col();
	json();
	not_utf8(false);
	cut();
	setlocale(LC_CTYPE, "C");
	top_esc_init();
	text_c();
	/* no ellipsis in the C locale's ASCII: '~' (one column too) */
	check_col(__LINE__, "abcdef", 4, 4, "abc~");
	json();
	not_utf8(false);
	if (failures)
		printf("%d failures\n", failures);
	return failures ? 1 : 0;
}
