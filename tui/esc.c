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
 * and U+2029, and the format characters (Unicode category Cf), which a
 * terminal draws as nothing or which reorder what follows them on the
 * line, so that `sshd<U+200B>` would look like `sshd`: U+00AD (soft
 * hyphen), U+0600-U+0605, U+061C, U+06DD, U+070F, U+08E2, U+180E,
 * U+200B-U+200F (zero width space, joiners, bidi marks), U+202A-U+202E
 * and U+2066-U+206F (bidi embeddings, overrides, isolates, deprecated
 * format characters), U+2060-U+2064 (word joiner, invisible operators), U+FEFF (zero width no-break
 * space), U+FFF9-U+FFFB (interlinear annotation), U+110BD, U+110CD,
 * U+13430-U+1343F, U+1BCA0-U+1BCA3, U+1D173-U+1D17A, U+E0001 and the
 * tags U+E0020-U+E007F.  In text also every code point the locale's
 * wcwidth() does not know (-1: unassigned, or not printable there): a
 * terminal's idea of it, and of its width, is anyone's guess.  The
 * result is never longer than the input (so buf may be s).
 *
 * JSON (RFC 8259, UTF-8): '"' and '\' are escaped, C0 controls and DEL
 * become \u00XX, valid UTF-8 passes as it is except the refused code
 * points, which become \uXXXX (a surrogate pair above U+FFFF: still the
 * same string for a JSON reader, but a line shown on a terminal carries
 * none of them), and each byte that is
 * not part of a valid sequence becomes \ufffd (U+FFFD, the replacement
 * character): the output is always valid UTF-8 and valid JSON.
 *
 * Prometheus label values (text exposition 0.0.4, UTF-8): '\', '"' and
 * a line feed are the format's three escapes (\\, \", \n); every other
 * C0 control, DEL and each byte that is not part of a valid UTF-8
 * sequence becomes U+FFFD, so that a name cannot end the sample line, a
 * scraper's parser never sees invalid UTF-8 and a line shown on a
 * terminal carries no control.  Valid UTF-8 passes as it is (refused
 * code points too: a label is data for the query language, not a line
 * for a terminal, and must stay the name it is).
 */
#include <langinfo.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fields.h"

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

/* Unicode's format characters (Cf), as listed at the top. */
static bool cp_format(uint32_t cp)
{
	static const struct {
		uint32_t lo, hi;
	} cf[] = {
		{ 0x00ad, 0x00ad }, { 0x0600, 0x0605 }, { 0x061c, 0x061c },
		{ 0x06dd, 0x06dd }, { 0x070f, 0x070f }, { 0x08e2, 0x08e2 },
		{ 0x180e, 0x180e }, { 0x200b, 0x200f }, { 0x202a, 0x202e },
		{ 0x2060, 0x2064 }, { 0x2066, 0x206f }, { 0xfeff, 0xfeff },
		{ 0xfff9, 0xfffb }, { 0x110bd, 0x110bd }, { 0x110cd, 0x110cd },
		{ 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 },
		{ 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 },
		{ 0xe0020, 0xe007f },
	};
	size_t i;

	for (i = 0; i < sizeof(cf) / sizeof(*cf); i++)
		if (cp >= cf[i].lo && cp <= cf[i].hi)
			return true;
	return false;
}

/*
 * A code point above ASCII that may be shown as it is (see the top):
 * in JSON, any but the refused ones; in text, also one the locale's
 * wcwidth() knows.
 */
static bool cp_shown(uint32_t cp, bool text)
{
	if (cp < 0xa0 || cp == 0x2028 || cp == 0x2029 || cp_format(cp))
		return false;	/* C1 controls, separators, Cf */
	return !text || wcwidth((wchar_t)cp) >= 0;
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

		if (n && cp_shown(cp, true)) {
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

const char *top_ellipsis(void)
{
	return utf8_locale ? "\xe2\x80\xa6" : "~";	/* U+2026 */
}

const char *top_esc_col(char *buf, size_t size, const char *s, int w,
			int max)
{
	size_t n;
	int cols;

	top_esc_text(buf, size, s);
	n = top_text_fit(buf, INT_MAX, &cols);
	if (max > 1 && cols > max) {
		/* an ellipsis where the charset has one (one column) */
		const char *more = top_ellipsis();
		size_t ml = strlen(more);

		n = top_text_fit(buf, max - 1, &cols);
		if (n + ml < size) {
			memcpy(buf + n, more, ml);
			n += ml;
			cols++;
		}
	}
	for (; cols < w && n + 1 < size; cols++)
		buf[n++] = ' ';
	buf[n] = '\0';
	return buf;
}

/* \uXXXX, or a UTF-16 surrogate pair above U+FFFF (RFC 8259, 7). */
static char *json_u(char *o, uint32_t cp)
{
	if (cp > 0xffff) {
		cp -= 0x10000;
		return o + sprintf(o, "\\u%04x\\u%04x", 0xd800 + (cp >> 10),
				   0xdc00 + (cp & 0x3ff));
	}
	return o + sprintf(o, "\\u%04x", cp);
}

/* The bytes a JSON string carries as they are: printable ASCII but " \ */
static const bool json_plain[256] = {
	[0x20 ... 0x21] = true, [0x23 ... 0x5b] = true, [0x5d ... 0x7e] = true,
};

/*
 * The JSON string into o (6 bytes an input byte at most, and the quotes:
 * a refused code point of n >= 2 bytes takes 6 * n at most, a 4-byte one
 * 12).  Plain ASCII, what nearly every name is, goes through at once.
 */
char *top_put_json_str(char *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	*o++ = '"';
	while (*p) {
		uint32_t cp;
		int n;

		/* a 10k-blocker frame's names: one lookup a byte */
		while (json_plain[*p])
			*o++ = (char)*p++;
		if (!*p)
			break;
		if (*p == '"' || *p == '\\') {
			*o++ = '\\';
			*o++ = (char)*p++;
			continue;
		}
		if (*p < 0x80) {	/* C0 controls and DEL */
			o += sprintf(o, "\\u%04x", *p++);
			continue;
		}
		n = utf8_seq(p, &cp);
		if (!n) {
			memcpy(o, "\\ufffd", 6);	/* not UTF-8: one byte */
			o += 6;
			p++;
		} else if (!cp_shown(cp, false)) {
			o = json_u(o, cp);
			p += n;
		} else {
			memcpy(o, p, (size_t)n);
			o += n;
			p += n;
		}
	}
	*o++ = '"';
	return o;
}

void top_esc_json(FILE *f, const char *s)
{
	size_t need = strlen(s) * 6 + 3;
	char small[1024], *buf = need <= sizeof(small) ? small : malloc(need);

	if (!buf) {	/* out of memory: still valid JSON */
		fputs("\"\"", f);
		return;
	}
	fwrite(buf, 1, (size_t)(top_put_json_str(buf, s) - buf), f);
	if (buf != small)
		free(buf);
}

void top_esc_label(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		uint32_t cp;
		int n;

		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p++, f);
		} else if (*p == '\n') {
			fputs("\\n", f);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			fputs("\xef\xbf\xbd", f);	/* U+FFFD */
			p++;
		} else if (*p < 0x80) {
			fputc(*p++, f);
		} else if ((n = utf8_seq(p, &cp)) > 0) {
			fwrite(p, 1, (size_t)n, f);
			p += n;
		} else {
			fputs("\xef\xbf\xbd", f);	/* not UTF-8: one byte */
			p++;
		}
	}
}

void top_utf8_cut(char *buf, size_t size)
{
	size_t len = strlen(buf), i = len, need;
	unsigned char c;

	if (len + 1 < size)
		return;		/* not filled: not cut */
	while (i > 0 && len - i < 3 && ((unsigned char)buf[i - 1] & 0xc0) == 0x80)
		i--;
	if (!i)
		return;
	c = (unsigned char)buf[i - 1];
	need = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
	       c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (need && len - (i - 1) < need)
		buf[i - 1] = '\0';	/* a character's first bytes only */
}
