// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Whether the screen can run on this terminal, asked before ncurses
 * takes it: initscr() prints its own error and calls exit(1) on a TERM
 * it does not know (1 is klptop's "timeout or forced", and the session's
 * tracefs instance stays enabled); newterm() returns NULL but leaks its
 * pre-screen (ncurses 6.4); TERM=dumb is accepted and draws nothing
 * usable.  A file of its own: term.h defines a macro for every terminfo
 * capability (lines, columns, ...).
 */
#include <stdlib.h>
#include <unistd.h>

#include "klptop.h"	/* first: term.h's macros would rename its fields */

#include <curses.h>
#include <term.h>

int top_term_check(void)
{
	const char *term = getenv("TERM");
	char shown[64], *cup;
	int err = 0;

	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, PROG ": the screen reads keys from a terminal "
			"and standard input is not one (closed, a file or at "
			"its end): use -b or --json\n");
		return -1;
	}
	if (!term || !*term) {
		fprintf(stderr, PROG ": TERM is not set: the screen needs the "
			"terminal's type (or use -b or --json)\n");
		return -1;
	}
	top_esc_text(shown, sizeof(shown), term);
	/* err (setupterm(3X)): 1 hardcopy, 0 no entry, -1 no database */
	if (setupterm(term, STDOUT_FILENO, &err) != OK) {
		if (err == 1)
			fprintf(stderr, PROG ": terminal type '%s' (TERM) is a "
				"hardcopy terminal: it cannot show a screen; "
				"use -b or --json\n", shown);
		else
			fprintf(stderr, PROG ": unknown terminal type '%s' "
				"(TERM: %s): use another or -b or --json\n",
				shown, err == 0 ? "no terminfo entry" :
				"no terminfo database");
		return -1;
	}
	cup = tigetstr("cup");
	del_curterm(cur_term);
	cur_term = NULL;
	if (!cup || cup == (char *)-1) {
		fprintf(stderr, PROG ": terminal type '%s' (TERM) cannot move "
			"the cursor: use -b or --json\n", shown);
		return -1;
	}
	return 0;
}
