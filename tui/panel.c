// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One scrolling list, as htop's Panel: every list on the screen (patches,
 * blockers, the event log, the help, the sort menu) is one, so moving,
 * paging and keeping the selection in sight behave the same in each.  The panel knows positions
 * only; what an item looks like is its owner's row function.
 */
#include "ui.h"

void panel_fit(struct panel *p)
{
	if (p->kind == PANEL_TEXT) {
		/* no page past the last one */
		if (p->top > p->n - p->rows)
			p->top = p->n - p->rows;
		if (p->top < 0)
			p->top = 0;
		return;
	}
	if (p->kind == PANEL_TAIL) {
		/* scrolled back at most to the first item */
		if (p->back > p->n - p->rows)
			p->back = p->n - p->rows > 0 ? p->n - p->rows : 0;
		p->top = p->n - p->rows - p->back;
		if (p->top < 0)
			p->top = 0;
		return;
	}
	if (p->sel < p->top)
		p->top = p->sel;
	if (p->sel >= p->top + p->rows)
		p->top = p->sel - p->rows + 1;
	if (p->top < 0)
		p->top = 0;
}

bool panel_move(struct panel *p, int delta, bool absolute)
{
	if (p->kind == PANEL_TEXT) {
		p->top = absolute ? (delta < 0 ? 0 : p->n) : p->top + delta;
		panel_fit(p);
		return true;
	}
	if (p->kind == PANEL_TAIL) {
		/* back from the end: up is older */
		if (absolute)
			p->back = delta < 0 ? p->n : 0;
		else
			p->back -= delta;
		if (p->back < 0)
			p->back = 0;
		return true;
	}
	if (!p->n)
		return false;
	p->sel = absolute ? (delta < 0 ? 0 : p->n - 1) : p->sel + delta;
	if (p->sel < 0)
		p->sel = 0;
	if (p->sel >= p->n)
		p->sel = p->n - 1;
	return true;
}

bool panel_key(struct panel *p, int ch)
{
	if (ch == KEY_UP || ch == 'k')
		panel_move(p, -1, false);
	else if (ch == KEY_DOWN || ch == 'j')
		panel_move(p, 1, false);
	else if (ch == KEY_PPAGE)
		panel_move(p, -panel_page(p), false);
	else if (ch == KEY_NPAGE || ch == ' ')
		panel_move(p, panel_page(p), false);
	else if (ch == KEY_HOME || ch == KEY_END)
		panel_move(p, ch == KEY_HOME ? -1 : 1, true);
	else
		return false;
	return true;
}

int panel_page(const struct panel *p)
{
	return p->rows > 1 ? p->rows - 1 : 1;
}

int panel_draw(struct ui *ui, struct panel *p, int y, panel_row_fn row)
{
	int i;

	panel_fit(p);
	for (i = 0; i < p->rows && p->top + i < p->n; i++)
		row(ui, p->top + i, y + i,
		    p->kind == PANEL_LIST && p->top + i == p->sel);
	return y + (p->rows > 0 ? p->rows : 0);
}
