/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The interactive screen's parts and what they share (htop's shape):
 *
 *   screen.c   composes the screen from the view, rebuilds the view,
 *              runs the loop (keys, events, frames)
 *   panel.c    one scrolling list, used by every list on the screen
 *   keymap.c   the key map, its actions, the prompts and the help
 *   term.c     the terminal: ncurses set up and given back, colours
 *   ppage.c    the patch page (Enter on a patch): details.c's lines
 *
 * Only these files include it; the rest of klptop sees top_screen_run().
 */
#ifndef KLPTOP_UI_H
#define KLPTOP_UI_H

#include <curses.h>

#include "fields.h"

#define UI_MIN_COLS 64
#define UI_MIN_ROWS 16
#define UI_CTRL(c) ((c) & 0x1f)	/* the key Ctrl-c */

/* The panels, in Tab order; the focused one takes the movement keys. */
enum focus { FOCUS_PATCHES, FOCUS_BLOCKERS, FOCUS_LOG, FOCUS__COUNT };

enum prompt {
	PROMPT_NONE,
	PROMPT_DISABLE,		/* y/N */
	PROMPT_FORCE,		/* type the patch name */
	PROMPT_FILTER,		/* type the filter */
	PROMPT_LOAD,		/* type a module's path */
	PROMPT_GOTO,		/* a replay: type a time to go to */
};

enum overlay {
	OVERLAY_NONE, OVERLAY_HELP, OVERLAY_DETAIL, OVERLAY_PAGE, OVERLAY_SORT,
};

/* What a key handler asks for. */
enum {
	UI_REDRAW = 1 << 0,
	UI_REBUILD = 1 << 1,	/* the view, then redraw */
	UI_QUIT = 1 << 2,
};

enum colour {
	C_HEADER = 1, C_TITLE, C_SELECTED, C_READY, C_HOLD, C_KEY, C_WARN,
	C_DIM,
};

/* How a panel scrolls. */
enum panel_kind {
	PANEL_LIST,		/* a selection, kept on screen */
	PANEL_TAIL,		/* no selection, at its end unless scrolled
				 * back (the event log) */
	PANEL_TEXT,		/* no selection, from its start (the help) */
};

/* A scrolling list (panel.c): n items of which rows fit. */
struct panel {
	enum panel_kind kind;
	int n;			/* items */
	int sel;		/* PANEL_LIST: the selected item, -1: none */
	int top;		/* the first item shown */
	int rows;		/* item rows, from the last layout */
	int back;		/* PANEL_TAIL: items scrolled back */
};

struct ui;

/* Draws item idx on row y; sel: it is the panel's selected item. */
typedef void (*panel_row_fn)(struct ui *ui, int idx, int y, bool sel);

struct ui {
	struct top_config *cfg;
	struct top_app *app;
	struct top_view view;
	bool colour;
	int rows, cols;
	enum focus focus;
	struct panel panel[FOCUS__COUNT];	/* by focus */
	/* the patches' and blockers' columns, sized at the last draw */
	struct top_cols pcols, bcols;
	enum overlay overlay;
	enum prompt prompt;
	char input[256];		/* a typed name, filter or path */
	char prompt_patch[64];		/* the patch a prompt is about */
	/* selections, kept by identity across rebuilds */
	char sel_patch[64];
	int sel_pid;
	char sel_comm[KLPT_COMM_LEN];
	struct panel help;		/* the help's lines */
	struct panel sort_menu;		/* F6's columns to sort by */
	int detail_scroll;
	int detail_pid;
	char detail_comm[KLPT_COMM_LEN];
	bool show_log;
	bool paused;
	char filter[256];
	char msg[256];
	bool msg_warn;
	int exit_code;
	SCREEN *term;			/* newterm()'s */
	/* the patch page (ppage.c): its patch, lines, made again if stale */
	char page_patch[64];
	struct panel page_panel;
	char *page_text;
	const char **page_line;
	bool page_stale;
	/* a seek's "nowhere to go" message, said if it ends at the end */
	const char *seek_none;
	/*
	 * Steps typed during a seek ([ ] { } , .): relative to where it
	 * goes, so they are taken once it is there (ui_seek_frame()).
	 */
	int seek_keys[8];
	int nseek_keys;
};

/* ------------------------------------------------------------ panel.c */

/* Keeps the selection (or a tail's end, a text's page) in the rows. */
void panel_fit(struct panel *p);
/*
 * Moves the selection by delta, or to the first (delta < 0) or last item
 * when absolute; a tail or a text scrolls instead.  False: no items.
 */
bool panel_move(struct panel *p, int delta, bool absolute);
/* Items a page key moves: one row of the old page stays in sight. */
int panel_page(const struct panel *p);
/*
 * Up/k, Down/j, PgUp, PgDn/space, Home, End moved p (an overlay's own
 * panel: the help, the sort menu, the patch page); false: not one.
 */
bool panel_key(struct panel *p, int ch);
/* Fits, then draws the visible items from row y on; returns y + rows. */
int panel_draw(struct ui *ui, struct panel *p, int y, panel_row_fn row);

/* ----------------------------------------------------------- screen.c */

/* Writes text at (y, x), escaped and cut to the screen; pads to w > 0. */
void ui_put(struct ui *ui, int y, int x, int w, attr_t attr,
	    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The message line's text (what the last key did). */
void ui_message(struct ui *ui, bool warn, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const struct top_patch *ui_selected_patch(const struct ui *ui);
const struct top_blocker *ui_selected_blocker(const struct ui *ui);
/* After a move: remember what is selected now, across rebuilds. */
void ui_remember(struct ui *ui);
/* The panels' item counts, from the view and the event log. */
void ui_count(struct ui *ui);

/* ----------------------------------------------------------- keymap.c */

/* One key: UI_* flags saying what must happen next. */
int ui_key(struct ui *ui, int ch);
/*
 * A frame during a replay's seek: its progress in the message line; once
 * it ended, what a forward step that found nothing says, and the steps
 * typed meanwhile: what they ask of the frame (UI_REBUILD...).
 */
int ui_seek_frame(struct ui *ui, bool ended);
/* ch closes an overlay (Esc, q, Left, F3, Enter). */
bool ui_closes(int ch);
/* The key help overlay (next to the map, so they change together). */
void ui_draw_help(struct ui *ui);
/* F6's menu of the blocker columns to sort by, over the blockers. */
void ui_draw_sort_menu(struct ui *ui, int y, int rows);

/* ------------------------------------------------------------ ppage.c */

/* Opens the page of patch over the panels (OVERLAY_PAGE). */
void ui_page_open(struct ui *ui, const char *patch);
void ui_draw_page(struct ui *ui);
/* A key while the page is open: UI_* flags (Esc, Enter close it). */
int ui_page_key(struct ui *ui, int ch);
void ui_page_free(struct ui *ui);

/* ------------------------------------------------------------- term.c */

/* ncurses on stdin/stdout: 0, or -1 after one line on stderr. */
int ui_term_setup(struct ui *ui);
/* The terminal as it was (cleared), ncurses' memory freed. */
void ui_term_end(struct ui *ui);
/*
 * The next frame is drawn whole: after a resize, or Ctrl-L when something
 * else wrote on the terminal.
 */
void ui_term_repaint(void);
/*
 * Between frames: ncurses' size made the terminal's, and the next frame
 * a whole repaint, if they differ (true).
 */
bool ui_term_follow_size(void);
/* A SIGWINCH came since the last ui_term_follow_size(). */
bool ui_term_winched(void);
attr_t ui_attr(const struct ui *ui, enum colour c);

#endif
