// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The screen's terminal (htop's CRT): ncurses set up on stdin/stdout,
 * the colours, and the terminal given back as it was.  Every way out of
 * the screen (quit, a stop signal, errors, the terminal hanging up) ends
 * here before the session closes.  SIGWINCH is handled here (below); the
 * stop signals are main.c's (every mode shares them).
 *
 * Not every terminal has an alternate screen (TERM=linux, a VM's serial
 * console, has none): the screen is cleared before it is given back, so
 * what the shell prints next is not written over klptop's last frame.
 */
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

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
	erase();
	refresh();
	endwin();
	delscreen(ui->term);
	ui->term = NULL;
	signal(SIGWINCH, SIG_DFL);
}

void ui_term_repaint(void)
{
	/* the next refresh() rewrites every cell, trusting none */
	clearok(curscr, TRUE);
}

/*
 * SIGWINCH is klptop's, not ncurses': ncurses' own handler has it learn
 * of a resize inside the refresh() that shows a frame, which it then
 * sends for the old size as a diff against a screen the terminal no
 * longer shows (tmux, for one, pulls scrolled-off lines back in as it
 * grows): rows stayed torn or blank, measured under repeated resizes.
 * Here the signal only sets a flag (and ends poll()); the size is taken
 * between frames, and a change is a resize and a whole repaint.
 */
static volatile sig_atomic_t winched;

static void on_winch(int sig)
{
	(void)sig;
	winched = 1;
}

bool ui_term_follow_size(void)
{
	struct winsize ws;

	winched = 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || !ws.ws_row ||
	    !ws.ws_col || (ws.ws_row == LINES && ws.ws_col == COLS))
		return false;
	resize_term(ws.ws_row, ws.ws_col);
	ui_term_repaint();
	return true;
}

bool ui_term_winched(void)
{
	return winched;
}

int ui_term_setup(struct ui *ui)
{
	int rows, cols;

	struct sigaction sa;

	if (top_term_check())
		return -1;
	/* before newterm(): ncurses installs its own only over SIG_DFL */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_winch;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
	ui->term = newterm(NULL, stdout, stdin);
	if (!ui->term) {
		signal(SIGWINCH, SIG_DFL);
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
