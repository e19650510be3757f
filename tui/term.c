// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The screen's terminal (htop's CRT): ncurses set up on stdin/stdout,
 * the colours, and the terminal given back as it was.  Every way out of
 * the screen (quit, a stop signal, errors, the terminal hanging up) ends
 * here before the session closes.  A resize comes as KEY_RESIZE from
 * ncurses' own SIGWINCH handler; the stop signals are main.c's (every
 * mode shares them).
 */
#include "ui.h"

attr_t ui_attr(const struct ui *ui, enum colour c)
{
	if (ui->colour)
		return COLOR_PAIR(c) | (c == C_HOLD || c == C_WARN ? A_BOLD : 0);
	switch (c) {
	case C_HEADER:
	case C_TITLE:
	case C_SELECTED:
	case C_KEY:
		return A_REVERSE;
	case C_HOLD:
	case C_WARN:
		return A_BOLD;
	case C_DIM:
		return A_DIM;
	default:
		return A_NORMAL;
	}
}

static void colours_init(struct ui *ui)
{
	ui->colour = has_colors() && start_color() == OK;
	if (!ui->colour)
		return;
	use_default_colors();
	init_pair(C_HEADER, COLOR_BLACK, COLOR_CYAN);
	init_pair(C_TITLE, COLOR_BLACK, COLOR_GREEN);
	init_pair(C_SELECTED, COLOR_BLACK, COLOR_CYAN);
	init_pair(C_READY, COLOR_GREEN, -1);
	init_pair(C_HOLD, COLOR_RED, -1);
	init_pair(C_KEY, COLOR_BLACK, COLOR_CYAN);
	init_pair(C_WARN, COLOR_YELLOW, -1);
	init_pair(C_DIM, COLOR_BLUE, -1);
}

void ui_term_end(struct ui *ui)
{
	endwin();
	delscreen(ui->term);
	ui->term = NULL;
}

int ui_term_setup(struct ui *ui)
{
	int rows, cols;

	if (top_term_check())
		return -1;
	ui->term = newterm(NULL, stdout, stdin);
	if (!ui->term) {
		fprintf(stderr, PROG ": ncurses cannot start on this "
			"terminal: use -b or --json\n");
		return -1;
	}
	getmaxyx(stdscr, rows, cols);
	if (rows < UI_MIN_ROWS || cols < UI_MIN_COLS) {
		ui_term_end(ui);
		fprintf(stderr, PROG ": the terminal is %dx%d; klptop needs at "
			"least %dx%d (or use -b)\n", cols, rows, UI_MIN_COLS,
			UI_MIN_ROWS);
		return -1;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	colours_init(ui);
	return 0;
}
