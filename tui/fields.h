/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * klptop's vocabulary: one description of every field it outputs, and
 * the renderers that use it (the screen's columns, -b's columns, the
 * JSON keys, --help's FIELDS and --list-fields).  A field's names,
 * help and formatting live here once, so that the screen, -b, JSON,
 * --help, the man page and the README cannot drift apart (iproute2's
 * print_*(PRINT_ANY, key, fmt, value) and bpftool's json_writer keep
 * text and JSON together the same way; tui/tests t_fields checks the
 * documents against --list-fields).
 */
#ifndef KLPTOP_FIELDS_H
#define KLPTOP_FIELDS_H

#include "klptop.h"

/* What a field is a value of: the row type its accessors take. */
enum top_row {
	TOP_ROW_FRAME,		/* struct top_frame_ctx: the header */
	TOP_ROW_PATCH,		/* struct top_patch */
	TOP_ROW_BLOCKER,	/* struct top_blocker */
	TOP_ROW_FUNC,		/* struct top_func */
	TOP_ROW__COUNT,
};

/* A frame's own values (the -b header line, JSON's top level). */
struct top_frame_ctx {
	const struct top_view *v;
	const struct top_app *app;
};

enum top_style {
	TOP_STYLE_SCREEN,	/* the screen's narrow forms (Y, sleeping) */
	TOP_STYLE_BATCH,	/* -b's (yes, sleeping in) */
};

enum {
	TOP_FIELD_RIGHT = 1 << 0,	/* right-aligned (numbers, times) */
	/* gives up width (cut, with an ellipsis) when a row is too wide */
	TOP_FIELD_FLEX = 1 << 1,
	TOP_FIELD_SCREEN = 1 << 2,	/* a column of the screen */
	TOP_FIELD_BATCH = 1 << 3,	/* a column of -b */
};

/*
 * Largest JSON value a field writes (its strings escaped: 6 bytes a
 * byte at worst, the why text 255 bytes): the renderer reserves it.
 */
#define TOP_FIELD_JSON_MAX 2048

struct top_field {
	enum top_row row;
	/* lower case: -s KEY for a sortable column, --list-fields */
	const char *key;
	const char *header;	/* the screen's column header, or NULL */
	const char *batch;	/* -b's column header, or NULL */
	/*
	 * The JSON key, or NULL; "a.b" is key b of an object a (the
	 * fields of one object are next to each other in the table).
	 */
	const char *json;
	const char *unit;	/* of the JSON value: "s", "" */
	const char *help;	/* one line: --help, the man page, README */
	unsigned int flags;
	/* screen width policy: sized to the content, min..max columns */
	int min, max;
	/* -b's width (a stable shape for scripts; 0: the last column) */
	int bw;
	int sort;		/* enum top_sort of the column, or -1 */
	/*
	 * The text of the value in a column (screen: width w, for the
	 * progress bar), into buf; returns buf or a constant.
	 */
	const char *(*text)(const void *row, enum top_style st, int w,
			    char *buf, size_t size);
	/* Appends the JSON value (at most TOP_FIELD_JSON_MAX bytes). */
	char *(*json_put)(char *p, const void *row);
	/* NULL, or whether row has the JSON key at all (a replay's own) */
	bool (*has)(const void *row);
};

/* The table's fields of a row type, in order (JSON's, -b's, screen's). */
const struct top_field *top_fields(enum top_row row, int *n);
/* The field of a row with that key, or NULL. */
const struct top_field *top_field_find(enum top_row row, const char *key);

/*
 * The row type's whole JSON object ({...}) written by one function at
 * p, with room as the plan's (TOP_FIELD_JSON_MAX a field): the same
 * bytes as the table's keys and writers, faster.  NULL when there is
 * none, or it does not agree with the table (fields.c).
 */
typedef char *(*top_json_row_fn)(char *p, const void *row);
top_json_row_fn top_json_fast(enum top_row row);

/* The blocker column a -s KEY names (also "comm", its former name). */
int top_sort_parse(const char *key, enum top_sort *s);

/* The UNLOAD column's word for a verdict: READY, NOT FREED, ... */
const char *top_verdict_label(enum klpt_verdict v);

/*
 * A growing output buffer, kept between frames (a --json frame of 10k
 * blockers is 2 MB: allocated and faulted in once, not every frame).
 */
struct top_buf {
	char *p;
	size_t len, cap;
};

/* Room for n more bytes; returns where they go, NULL on -ENOMEM. */
char *top_buf_reserve(struct top_buf *b, size_t n);
void top_buf_free(struct top_buf *b);

/* Appenders of JSON values (fields.c, json.c). */
char *top_put_s(char *p, const char *s);
char *top_put_u(char *p, unsigned long long v);
char *top_put_d(char *p, long long v);
/* printf's "%.3f" (writes 32 bytes at least: room for them is made) */
char *top_put_f3(char *p, double x);
/* s as a JSON string, quotes included (6 * strlen(s) + 3 bytes). */
char *top_put_json_str(char *p, const char *s);

/*
 * --help's FIELDS section and --list-fields (one line per field, tab
 * separated: row, key, screen header, -b header, JSON key, unit, help;
 * "-" for none).
 */
void top_fields_help(FILE *f);
void top_fields_list(FILE *f);

/*
 * The legend of the screen's short column headers (TOP_LEGEND_HEAD
 * columns at most: E, F, SIG, K, ...), their help wrapped at width
 * columns: the screen's help shows it.
 */
#define TOP_LEGEND_HEAD 3
void top_fields_legend(FILE *f, int width);

/* Column widths of the screen: sized to the rows' content. */
struct top_cols {
	int n;
	const struct top_field *f[16];
	int w[16];
};

/*
 * The screen's columns of row type row for rows (n of them, each size
 * bytes apart), in cols terminal columns: every column at least its
 * header's and its values' width (within min..max), the FLEX one the
 * rest up to its max.  The column whose sort is sort (enum top_sort;
 * -1: none) has room for the sort's marker after its header.
 */
void top_cols_fit(struct top_cols *c, enum top_row row, const void *rows,
		  int n, size_t size, int cols, int sort);

#endif /* KLPTOP_FIELDS_H */
