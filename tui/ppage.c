// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The patch page on the screen: Enter on a patch opens it over the
 * panels.  Its lines are the -b page's (details.c, one source for both)
 * with each object's functions, after the patch's row; one scrolling
 * panel (panel.c) holds them, as every list on the screen.  The page is
 * made again whenever the view is rebuilt (events keep coming while it
 * is open), not at every redraw: it reads sysfs and modules.dep.
 */
#include <stdlib.h>
#include <string.h>

#include "ui.h"

void ui_page_free(struct ui *ui)
{
	free(ui->page_text);
	free(ui->page_line);
	ui->page_text = NULL;
	ui->page_line = NULL;
	ui->page_panel.n = 0;
}

/* The page of the selected patch's row in the view, as lines. */
static void page_make(struct ui *ui)
{
	const struct top_patch *p = NULL;
	uint64_t base = top_app_is_replay(ui->app) ?
			top_app_replay_start(ui->app) : 0;
	char elapsed[16], switched[32], pass[16], refcnt[16];
	struct top_details d;
	size_t len = 0;
	char *s;
	FILE *f;
	int i, n;

	ui_page_free(ui);
	for (i = 0; i < ui->view.npatches; i++)
		if (!strcmp(ui->view.patches[i].name, ui->page_patch))
			p = &ui->view.patches[i];
	f = open_memstream(&ui->page_text, &len);
	if (!f)
		return;
	if (!p) {
		fprintf(f, "the patch is gone (and its module)\n");
	} else if (top_details_build(&d, ui->app, p)) {
		fprintf(f, "out of memory\n");
		top_details_free(&d);
	} else {
		top_fmt_elapsed(elapsed, sizeof(elapsed), p);
		top_fmt_switched(switched, sizeof(switched), p);
		fprintf(f, "enabled %d  %s  pass %s  elapsed %s  switched %s  "
			"forced %s  refcnt %s\n", p->enabled, top_direction(p),
			top_fmt_count(pass, sizeof(pass), p->pass), elapsed,
			switched, top_forced_word(p),
			top_fmt_refcnt(refcnt, sizeof(refcnt), p));
		fprintf(f, "unload: %s: %s\n", top_verdict_label(p->verdict),
			p->verdict == KLPT_READY ? "rmmod is safe now" :
			p->why);
		top_details_text(f, &d, p, base, true);
		top_details_free(&d);
	}
	if (fclose(f) || !ui->page_text)
		return;
	/* lines in place: the -b page's indent of 4 is the screen's 1 */
	for (n = 0, s = ui->page_text; *s; s++)
		n += *s == '\n';
	ui->page_line = calloc((size_t)n + 1, sizeof(*ui->page_line));
	if (!ui->page_line)
		return;
	for (n = 0, s = strtok(ui->page_text, "\n"); s;
	     s = strtok(NULL, "\n")) {
		if (!strcmp(s, "  details:"))
			continue;
		ui->page_line[n++] = s + (strncmp(s, "    ", 4) ? 0 : 3);
	}
	ui->page_panel.n = n;
}

void ui_page_open(struct ui *ui, const char *patch)
{
	snprintf(ui->page_patch, sizeof(ui->page_patch), "%s", patch);
	ui->page_panel = (struct panel){ .sel = 0 };
	ui->page_stale = true;
	ui->overlay = OVERLAY_PAGE;
}

static void page_row(struct ui *ui, int idx, int y, bool sel)
{
	ui_put(ui, y, 0, ui->cols, sel ? ui_attr(ui, C_SELECTED) : A_NORMAL,
	       " %s", ui->page_line[idx]);
}

void ui_draw_page(struct ui *ui)
{
	if (ui->page_stale) {
		page_make(ui);
		ui->page_stale = false;
	}
	erase();
	ui_put(ui, 0, 0, ui->cols, ui_attr(ui, C_HEADER), " patch %s  (Esc "
	       "or Enter closes, Up/Down PgUp/PgDn scroll)", ui->page_patch);
	ui->page_panel.rows = ui->rows - 2;
	if (ui->page_line)
		panel_draw(ui, &ui->page_panel, 1, page_row);
	ui_put(ui, ui->rows - 1, 0, ui->cols, ui_attr(ui, C_DIM), " %d of %d "
	       "lines", ui->page_panel.n ? ui->page_panel.sel + 1 : 0,
	       ui->page_panel.n);
}

int ui_page_key(struct ui *ui, int ch)
{
	if (panel_key(&ui->page_panel, ch))
		return UI_REDRAW;
	if (ui_closes(ch)) {
		ui->overlay = OVERLAY_NONE;
		ui_page_free(ui);
		return UI_REDRAW;
	}
	return 0;
}
