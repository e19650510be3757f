// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The interactive screen (ncurses), modelled on top/htop:
 *
 *   header      kernel, mode and hooks, time; events, lost, tasks, state
 *   patches     one row per patch; the selected one's unload verdict
 *   blockers    the tasks the selected patch's transition waits for
 *   event log   the most recent events (l toggles it)
 *   message     what the last key did, prompts
 *   F-key bar
 *
 * Keys go through a table (keymap[]) whose handlers return what must
 * happen next (redraw, rebuild the view, quit), as htop's actions do.
 * Prompts (y/N, typed confirmation, the filter) and the overlays (help,
 * task details) take the keys while they are open; events keep being
 * read meanwhile, so nothing is lost while the operator thinks.
 *
 * The terminal is restored on every way out (quit, SIGINT/SIGTERM/SIGHUP,
 * errors): endwin() runs before the session closes.
 */
#include <curses.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "klptop.h"

#define MIN_COLS 64
#define MIN_ROWS 16
#define REDRAW_MIN_MS 50	/* at most 20 frames a second on events */

enum focus { FOCUS_PATCHES, FOCUS_BLOCKERS, FOCUS_LOG, FOCUS__COUNT };

enum prompt {
	PROMPT_NONE,
	PROMPT_DISABLE,		/* y/N */
	PROMPT_FORCE,		/* type the patch name */
	PROMPT_FILTER,		/* type the filter */
	PROMPT_LOAD,		/* type a module's path */
};

enum overlay { OVERLAY_NONE, OVERLAY_HELP, OVERLAY_DETAIL };

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

struct ui {
	struct top_config *cfg;
	struct top_app *app;
	struct top_view view;
	bool colour;
	int rows, cols;
	enum focus focus;
	enum overlay overlay;
	enum prompt prompt;
	char input[256];		/* a typed name, filter or path */
	char prompt_patch[64];		/* the patch a prompt is about */
	/* selections, kept by identity across rebuilds */
	char sel_patch[64];
	int sel_pid;
	char sel_comm[KLPT_COMM_LEN];
	int patch_i, patch_top;
	int blocker_i, blocker_top;
	int log_back;			/* lines scrolled back from the end */
	int detail_scroll;
	int detail_pid;
	char detail_comm[KLPT_COMM_LEN];
	bool show_log;
	bool paused;
	char filter[256];
	char msg[256];
	bool msg_warn;
	/* rows per page of the panels, from the last layout */
	int patch_rows, blocker_rows, log_rows;
	int exit_code;
	SCREEN *term;			/* newterm()'s */
};

/* ---------------------------------------------------------- drawing */

static attr_t attr_of(const struct ui *ui, enum colour c)
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

/*
 * Write text at (y, x), cut to the screen; pads to width w if w > 0.
 * Every string on the screen comes this way: escaped (esc.c), so a name
 * can neither move the cursor nor break the row, and cut by columns.
 */
static void put(struct ui *ui, int y, int x, int w, attr_t attr,
		const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int cols, max = ui->cols - x;
	size_t len;

	if (y < 0 || y >= ui->rows || max <= 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	top_esc_text(buf, sizeof(buf), buf);
	if (w > max)
		w = max;
	len = top_text_fit(buf, w > 0 ? w : max, &cols);
	attron((int)attr);
	mvaddnstr(y, x, buf, (int)len);
	for (; w > 0 && cols < w; cols++)
		addch(' ');
	attroff((int)attr);
}

static const char *verdict_label(enum klpt_verdict v)
{
	switch (v) {
	case KLPT_READY:
		return "READY";
	case KLPT_HOLD_ENABLED:
		return "ENABLED";
	case KLPT_HOLD_TASKS:
		return "TASKS";
	case KLPT_HOLD_TRANSITION:
		return "TRANSITION";
	case KLPT_HOLD_NOT_FREED:
		return "NOT FREED";
	case KLPT_HOLD_NOT_RELEASED:
		return "NOT RELEASED";
	case KLPT_HOLD_REFS:
		return "REFS";
	case KLPT_HOLD_FORCED:
		return "FORCED";
	default:
		return "UNKNOWN";
	}
}

static const struct top_patch *selected_patch(const struct ui *ui)
{
	if (ui->patch_i < 0 || ui->patch_i >= ui->view.npatches)
		return NULL;
	return &ui->view.patches[ui->patch_i];
}

/* The patch whose blockers are shown: the selected one. */
static const struct top_blocker *selected_blocker(const struct ui *ui)
{
	const struct top_patch *p = selected_patch(ui);

	if (!p || ui->blocker_i < 0 || ui->blocker_i >= p->nblockers)
		return NULL;
	return &p->blockers[ui->blocker_i];
}

static void draw_header(struct ui *ui)
{
	struct top_hooks hooks;
	char mode[96], when[48];
	const struct top_view *v = &ui->view;

	if (top_app_is_replay(ui->app)) {
		uint64_t start = top_app_replay_start(ui->app);

		snprintf(mode, sizeof(mode), "replay of %s", ui->cfg->replay);
		snprintf(when, sizeof(when), "+%.3fs %s x%g",
			 start && v->now > start ?
			 (double)(v->now - start) / 1e9 : 0.0,
			 top_app_ended(ui->app) ? "end" :
			 top_app_playing(ui->app) ? "playing" : "paused",
			 top_app_speed(ui->app));
	} else {
		time_t t = time(NULL);
		struct tm tm;

		top_hooks_read(ui->cfg->root, &hooks);
		if (v->mode == KLPT_MODE_FALLBACK && hooks.inactive)
			/* the library's fallback while the hooks are silent */
			snprintf(mode, sizeof(mode), "FALLBACK: klptrace.ko "
				 "hooks inactive (%s), polling sysfs/procfs",
				 hooks.why);
		else if (v->mode == KLPT_MODE_FALLBACK)
			snprintf(mode, sizeof(mode), "FALLBACK: no klptrace.ko "
				 "events, polling sysfs/procfs");
		else
			snprintf(mode, sizeof(mode), "klptrace.ko %s: %d/%d "
				 "hooks active", hooks.version, hooks.active,
				 hooks.total);
		strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&t, &tm));
	}
	/* the time stays whole at the right; the rest is cut before it */
	put(ui, 0, 0, ui->cols, attr_of(ui, C_HEADER), "");
	put(ui, 0, 0, ui->cols - (int)strlen(when) - 2, attr_of(ui, C_HEADER),
	    " klptop  kernel %s  %s", top_app_is_replay(ui->app) ?
	    "(recorded)" : top_kernel_release(), mode);
	put(ui, 0, ui->cols - (int)strlen(when) - 1, 0,
	    attr_of(ui, C_HEADER), "%s", when);
	put(ui, 1, 0, ui->cols, v->lost ? attr_of(ui, C_WARN) : A_NORMAL,
	    " events %llu  lost %llu  tasks %d  patches %d%s%s%s",
	    (unsigned long long)v->events, (unsigned long long)v->lost,
	    v->ntasks, v->npatches, ui->paused ? "  [PAUSED: p resumes]" : "",
	    ui->cfg->readonly ? "  [read-only]" : "",
	    ui->cfg->patch ? "  [-p]" : "");
}

/* "[####  ] 85/86" in w columns. */
static void progress(char *buf, size_t size, const struct top_patch *p,
		     int w)
{
	char count[32], bar[40];
	int i, bw, fill;

	if (!p->transition || !p->total || p->phase == KLPT_PHASE_UNKNOWN) {
		top_fmt_switched(buf, size, p);
		return;
	}
	top_fmt_switched(count, sizeof(count), p);
	bw = w - (int)strlen(count) - 3;
	if (bw < 3) {
		snprintf(count, sizeof(count), "%s%u%%",
			 p->unknown ? ">=" : "", p->switched * 100 / p->total);
		bw = w - (int)strlen(count) - 3;
	}
	if (bw < 1) {
		snprintf(buf, size, "%s", count);
		return;
	}
	if (bw > (int)sizeof(bar) - 1)
		bw = sizeof(bar) - 1;
	fill = (int)((uint64_t)p->switched * bw / p->total);
	for (i = 0; i < bw; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[bw] = '\0';
	snprintf(buf, size, "[%s] %s", bar, count);
}

/* Patch panel: title row, rows, then the verdict line; returns next y. */
static int draw_patches(struct ui *ui, int y, int rows)
{
	const struct top_view *v = &ui->view;
	int namew = ui->cols - 66, i;
	char b1[128], b2[64];

	if (namew < 14)
		namew = 14;
	if (namew > 32)
		namew = 32;
	put(ui, y++, 0, ui->cols, attr_of(ui, ui->focus == FOCUS_PATCHES ?
					     C_TITLE : C_HEADER),
	    "%-*s E %-10s %4s %7s %-14s %3s F %3s %s", namew, "PATCH", "STATE",
	    "PASS", "ELAPSED", "SWITCHED", "SIG", "REF", "UNLOAD");
	if (!v->npatches)
		put(ui, y, 1, 0, attr_of(ui, C_DIM), "no livepatch loaded%s",
		    ui->cfg->patch ? " (or none named as -p says)" : "");
	if (ui->patch_i < ui->patch_top)
		ui->patch_top = ui->patch_i;
	if (ui->patch_i >= ui->patch_top + rows)
		ui->patch_top = ui->patch_i - rows + 1;
	if (ui->patch_top < 0)
		ui->patch_top = 0;
	for (i = 0; i < rows && ui->patch_top + i < v->npatches; i++) {
		int idx = ui->patch_top + i;
		const struct top_patch *p = &v->patches[idx];
		char elapsed[16], ref[16], bar[80], pass[16], sig[16];
		bool sel = idx == ui->patch_i;
		attr_t attr = sel ? attr_of(ui, C_SELECTED) : A_NORMAL;

		top_fmt_elapsed(elapsed, sizeof(elapsed), p);
		top_fmt_refcnt(ref, sizeof(ref), p);
		progress(bar, sizeof(bar), p, 14);
		put(ui, y + i, 0, ui->cols - 13, attr,
		    "%s %c %-10s %4s %7s %-14s %3s %s %3s ",
		    top_esc_col(b1, sizeof(b1), p->name, namew, namew),
		    p->enabled ? '1' : '0',
		    top_direction(p), top_fmt_count(pass, sizeof(pass), p->pass),
		    elapsed, bar, top_fmt_count(sig, sizeof(sig), p->signals),
		    top_forced_flag(p), ref);
		put(ui, y + i, ui->cols - 13, 13,
		    sel ? attr : attr_of(ui, p->verdict == KLPT_READY ?
					 C_READY : C_HOLD),
		    "%s", verdict_label(p->verdict));
	}
	y += rows;
	/* the selected patch's verdict, in words */
	if (selected_patch(ui)) {
		const struct top_patch *p = selected_patch(ui);

		put(ui, y, 0, ui->cols, attr_of(ui, p->verdict == KLPT_READY ?
						C_READY : C_HOLD),
		    " %s: %s", top_esc_col(b2, sizeof(b2), p->name, 0, 32),
		    p->verdict == KLPT_READY ?
		    "READY: rmmod is safe now (u unloads)" : p->why);
	}
	return y + 1;
}

static int draw_blockers(struct ui *ui, int y, int rows)
{
	const struct top_patch *p = selected_patch(ui);
	int funcw = ui->cols - 62, i;
	char b1[1024], b2[32];	/* padded to funcw (as put()'s buffer) */

	if (funcw < 8)
		funcw = 8;
	if (!p || !p->transition)
		put(ui, y, 0, ui->cols, attr_of(ui, ui->focus == FOCUS_BLOCKERS ?
						C_TITLE : C_HEADER),
		    " BLOCKERS: no transition%s", p ? " of this patch" : "");
	else
		put(ui, y, 0, ui->cols, attr_of(ui, ui->focus == FOCUS_BLOCKERS ?
						C_TITLE : C_HEADER),
		    " BLOCKERS of %s: %d of %u tasks not switched%s  "
		    "sort: %s%s%s%s%s", p->name, p->nblockers_all, p->total,
		    p->unknown ? " (some unknown)" : "",
		    top_sort_name(ui->cfg->sort),
		    ui->cfg->sort_reverse ? " (reversed)" : "",
		    ui->filter[0] ? "  filter: \"" : "", ui->filter,
		    ui->filter[0] ? "\"" : "");
	y++;
	put(ui, y++, 0, ui->cols, A_BOLD, "%7s %7s %-15s K %-10s %-*s %7s %6s",
	    "PID", "TID", "COMMAND", "REASON", funcw, "FUNCTION", "BLOCKED",
	    "CHECKS");
	rows -= 2;
	if (!p || !p->transition || rows <= 0)
		return y + (rows > 0 ? rows : 0);
	if (!p->nblockers && rows > 0)
		put(ui, y, 1, 0, attr_of(ui, C_DIM), "%s", p->nblockers_all ?
		    "no blocker matches the filter (/ changes it)" :
		    "none: every task switched");
	if (ui->blocker_i < ui->blocker_top)
		ui->blocker_top = ui->blocker_i;
	if (ui->blocker_i >= ui->blocker_top + rows)
		ui->blocker_top = ui->blocker_i - rows + 1;
	if (ui->blocker_top < 0)
		ui->blocker_top = 0;
	for (i = 0; i < rows && ui->blocker_top + i < p->nblockers; i++) {
		int idx = ui->blocker_top + i;
		const struct top_blocker *b = &p->blockers[idx];
		char blocked[16], checks[16];
		bool sel = idx == ui->blocker_i && ui->focus == FOCUS_BLOCKERS;

		top_fmt_blocked(blocked, sizeof(blocked), b);
		top_fmt_checks(checks, sizeof(checks), b);
		put(ui, y + i, 0, ui->cols, sel ? attr_of(ui, C_SELECTED) :
		    b->reason == KLPT_REASON_NONE ? attr_of(ui, C_DIM) :
		    A_NORMAL, "%7d %7d %s %s %-10s %s %7s %6s", b->tgid,
		    b->pid, top_esc_col(b2, sizeof(b2), b->comm, 15, 0),
		    top_kthread_flag(b->kthread),
		    top_reason_column(b->reason),
		    top_esc_col(b1, sizeof(b1), b->func[0] ? b->func : "-",
				funcw, funcw),
		    blocked, checks);
	}
	return y + rows;
}

static void draw_log(struct ui *ui, int y, int rows)
{
	int n = top_app_log_count(ui->app), i, first;
	uint64_t start = top_app_is_replay(ui->app) ?
			 top_app_replay_start(ui->app) : 0;

	put(ui, y++, 0, ui->cols, attr_of(ui, ui->focus == FOCUS_LOG ?
					  C_TITLE : C_HEADER),
	    " EVENT LOG (%d kept%s)", n, ui->log_back ? ", scrolled back" : "");
	rows--;
	if (ui->log_back > n - rows)
		ui->log_back = n - rows > 0 ? n - rows : 0;
	first = n - rows - ui->log_back;
	if (first < 0)
		first = 0;
	for (i = 0; i < rows && first + i < n; i++) {
		const struct top_logline *l = top_app_log_at(ui->app, first + i);
		double t = (double)(l->ts - (start && l->ts >= start ? start :
					     0)) / 1e9;

		put(ui, y + i, 0, ui->cols, A_NORMAL, "%12.6f %s", t, l->text);
	}
}

static void draw_bar(struct ui *ui)
{
	static const struct {
		const char *key, *label;
	} keys[] = {
		{ "F1", "Help" }, { "F2", "Filter" }, { "F3", "Detail" },
		{ "F4", "Log" }, { "F5", "Pause" }, { "F6", "Sort" },
		{ "F7", "Disable" }, { "F8", "Force" }, { "F9", "Unload" },
		{ "F10", "Quit" },
	};
	int x = 0, i, y = ui->rows - 1;

	move(y, 0);
	clrtoeol();
	for (i = 0; i < (int)(sizeof(keys) / sizeof(*keys)); i++) {
		int kl = (int)strlen(keys[i].key), ll = (int)strlen(keys[i].label);

		if (x + kl + ll > ui->cols)
			break;
		put(ui, y, x, 0, A_NORMAL, "%s", keys[i].key);
		put(ui, y, x + kl, ll, attr_of(ui, C_KEY), "%s", keys[i].label);
		x += kl + ll;
		if (x < ui->cols)
			x++;
	}
}

static void draw_message(struct ui *ui)
{
	int y = ui->rows - 2;

	move(y, 0);
	clrtoeol();
	switch (ui->prompt) {
	case PROMPT_FILTER:
		put(ui, y, 0, ui->cols, A_BOLD, "Filter (pid, command or "
		    "function; Enter applies, Esc clears): %s_", ui->input);
		return;
	case PROMPT_DISABLE:
		put(ui, y, 0, ui->cols, attr_of(ui, C_WARN), "Disable %s: start "
		    "its unpatch transition? [y/N] ", ui->prompt_patch);
		return;
	case PROMPT_FORCE:
		put(ui, y, 0, ui->cols, attr_of(ui, C_WARN), "Type %s to force "
		    "(Esc cancels): %s_", ui->prompt_patch, ui->input);
		return;
	case PROMPT_LOAD:
		put(ui, y, 0, ui->cols, A_BOLD, "Load the livepatch module "
		    "(path of its .ko; Enter loads, Esc cancels): %s_",
		    ui->input);
		return;
	case PROMPT_NONE:
		break;
	}
	if (ui->msg[0])
		put(ui, y, 0, ui->cols, ui->msg_warn ? attr_of(ui, C_WARN) :
		    A_NORMAL, "%s", ui->msg);
}

/* The force warning stays on screen while the name is typed. */
static void draw_force_warning(struct ui *ui)
{
	static const char *const lines[] = {
		"FORCE: every task still in the old code is marked as",
		"switched without a check.  If the patch is being disabled,",
		"its module can NEVER be unloaded afterwards (until reboot).",
		"Only force when you know no task runs the patched code.",
	};
	int w = 64, h = 6, y0, x0, i;

	if (w > ui->cols - 2)
		w = ui->cols - 2;
	y0 = (ui->rows - h) / 2;
	x0 = (ui->cols - w) / 2;
	for (i = 0; i < h; i++)
		put(ui, y0 + i, x0, w, attr_of(ui, C_HEADER), "%s",
		    i > 0 && i <= 4 ? lines[i - 1] : "");
	put(ui, y0, x0, w, attr_of(ui, C_HEADER), "  Force %s?",
	    ui->prompt_patch);
}

static void draw_help(struct ui *ui)
{
	static const char *const lines[] = {
		"klptop keys (klptop --help for the whole manual)",
		"",
		"  ?  F1         this help (any key closes it)",
		"  q  F10        quit",
		"  Up Down PgUp PgDn Home End   move in the focused panel",
		"  Tab  S-Tab    next / previous panel",
		"  Enter  F3     details of the selected blocker",
		"  /  F2         filter blockers (pid, command, function)",
		"  s  F6         next sort key      r  reverse the sort",
		"  l  F4         show / hide the event log",
		"  p  F5         pause the screen (events are still read)",
		"  d  F7         disable the selected patch (asks y/N)",
		"  f  F8         force its transition (type its name)",
		"  u  F9         unload its module when READY",
		"  L             load a livepatch module (asks for its path)",
		"  replay:  space play/pause   .  one event   + -  speed",
		"",
		"UNLOAD says what holds a patch module: ENABLED, TASKS,",
		"TRANSITION, NOT FREED, NOT RELEASED, REFS, FORCED (never).",
	};
	int i, n = (int)(sizeof(lines) / sizeof(*lines));

	erase();
	for (i = 0; i < n && i < ui->rows; i++)
		put(ui, i, 1, 0, i == 0 ? A_BOLD : A_NORMAL, "%s", lines[i]);
}

static void draw_detail(struct ui *ui)
{
	const struct top_logline *hist[32];
	const struct klpt_task *t;
	char text[8192], line[1024], *p, *save;
	int y = 2, skip = ui->detail_scroll, n, i;
	int pid = ui->detail_pid;
	/* times as in the event log: from the replay's start, or absolute */
	uint64_t start = top_app_is_replay(ui->app) ?
			 top_app_replay_start(ui->app) : 0;

	erase();
	put(ui, 0, 0, ui->cols, attr_of(ui, C_HEADER), " task %s[%d]  (Esc "
	    "or Enter closes, Up/Down scroll)", ui->detail_comm, pid);
#define LINE(...) do {							\
		snprintf(line, sizeof(line), __VA_ARGS__);		\
		if (skip > 0)						\
			skip--;						\
		else if (y < ui->rows - 1)				\
			put(ui, y++, 1, 0, A_NORMAL, "%s", line);	\
	} while (0)
	t = klpt_task_find(top_app_session(ui->app), pid);
	if (!t) {
		LINE("the task is gone (or was never seen)");
	} else {
		const char *func = klpt_task_func(t);
		char blocked[16], checks[16];
		struct top_blocker b;

		top_blocker_fill(&b, t, top_app_now(ui->app));
		LINE("pid (thread group) %d   tid %d   command %s   %s",
		     klpt_task_tgid(t), klpt_task_pid(t), klpt_task_comm(t),
		     klpt_task_kthread(t) > 0 ? "kernel thread" :
		     klpt_task_kthread(t) == 0 ? "user task" :
		     "kernel thread or user task: not known");
		LINE("patch state %s   last check: %s%s%s",
		     top_state_name(klpt_task_state(t)),
		     top_reason_text(klpt_task_reason(t)),
		     func && *func ? " " : "", func ? func : "");
		LINE("blocked for %s   checks %s",
		     top_fmt_blocked(blocked, sizeof(blocked), &b),
		     top_fmt_checks(checks, sizeof(checks), &b));
	}
	LINE("%s", "");
	if (top_app_is_replay(ui->app)) {
		LINE("command line and stack: not in a recording");
	} else {
		if (top_proc_cmdline(ui->cfg->root, pid, text,
				     sizeof(text)) == 0)
			LINE("command line: %.900s", text[0] ? text :
			     "(none: a kernel thread)");
		else
			LINE("command line: unreadable");
		if (top_proc_stack(ui->cfg->root, pid, text,
				   sizeof(text)) == 0) {
			LINE("kernel stack (/proc/%d/stack):", pid);
			for (p = strtok_r(text, "\n", &save); p;
			     p = strtok_r(NULL, "\n", &save))
				LINE("  %.900s", p);
		} else {
			LINE("kernel stack: unreadable (needs root)");
		}
	}
	LINE("%s", "");
	n = top_app_history(ui->app, pid, hist, 32);
	LINE("history (%d most recent events of this task):", n);
	for (i = 0; i < n; i++)
		LINE("  %12.6f  %s", (double)(hist[i]->ts - (start &&
		     hist[i]->ts >= start ? start : 0)) / 1e9, hist[i]->text);
#undef LINE
}

static void draw(struct ui *ui)
{
	int y, avail, prows, lrows;

	getmaxyx(stdscr, ui->rows, ui->cols);
	erase();
	if (ui->rows < MIN_ROWS || ui->cols < MIN_COLS) {
		put(ui, ui->rows / 2, 0, 0, A_BOLD, "terminal too small: "
		    "%dx%d, klptop needs %dx%d", ui->cols, ui->rows, MIN_COLS,
		    MIN_ROWS);
		refresh();
		return;
	}
	if (ui->overlay == OVERLAY_HELP) {
		draw_help(ui);
		refresh();
		return;
	}
	if (ui->overlay == OVERLAY_DETAIL) {
		draw_detail(ui);
		refresh();
		return;
	}
	draw_header(ui);
	/* 2 header, patch title + rows + verdict, the rest shared */
	avail = ui->rows - 2 - 2;	/* message and F-key bar */
	prows = ui->view.npatches < 1 ? 1 : ui->view.npatches;
	if (prows > 4)
		prows = 4;
	ui->patch_rows = prows;
	y = draw_patches(ui, 2, prows);
	avail -= prows + 2;
	lrows = ui->show_log ? avail / 3 : 0;
	if (ui->show_log && lrows < 4)
		lrows = avail >= 8 ? 4 : 0;
	ui->blocker_rows = avail - lrows - 2;
	ui->log_rows = lrows - 1;
	y = draw_blockers(ui, y, avail - lrows);
	if (lrows > 0)
		draw_log(ui, y, lrows);
	if (ui->prompt == PROMPT_FORCE)
		draw_force_warning(ui);
	draw_message(ui);
	draw_bar(ui);
	refresh();
}

/* ---------------------------------------------------------- the view */

static void message(struct ui *ui, bool warn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ui->msg, sizeof(ui->msg), fmt, ap);
	va_end(ap);
	ui->msg_warn = warn;
}

/* Rebuild the view; keep the selections on the same patch and task. */
static int rebuild(struct ui *ui)
{
	const struct top_patch *p;
	int i, ret;

	top_view_free(&ui->view);
	ret = top_view_build(&ui->view, ui->app, ui->cfg->patch, ui->filter,
			     ui->cfg->sort, ui->cfg->sort_reverse);
	if (ret)
		return ret;
	ui->patch_i = ui->view.npatches ? 0 : -1;
	for (i = 0; i < ui->view.npatches; i++)
		if (!strcmp(ui->view.patches[i].name, ui->sel_patch))
			ui->patch_i = i;
	p = selected_patch(ui);
	if (p)
		snprintf(ui->sel_patch, sizeof(ui->sel_patch), "%s", p->name);
	if (!p || !p->nblockers) {
		ui->blocker_i = 0;
		return 0;
	}
	if (ui->blocker_i >= p->nblockers)
		ui->blocker_i = p->nblockers - 1;
	for (i = 0; i < p->nblockers; i++)
		if (p->blockers[i].pid == ui->sel_pid &&
		    !strcmp(p->blockers[i].comm, ui->sel_comm)) {
			ui->blocker_i = i;
			break;
		}
	ui->sel_pid = p->blockers[ui->blocker_i].pid;
	memcpy(ui->sel_comm, p->blockers[ui->blocker_i].comm, KLPT_COMM_LEN);
	return 0;
}

/* After a move: remember what is selected now. */
static void remember(struct ui *ui)
{
	const struct top_patch *p = selected_patch(ui);
	const struct top_blocker *b = selected_blocker(ui);

	if (p)
		snprintf(ui->sel_patch, sizeof(ui->sel_patch), "%s", p->name);
	if (b) {
		ui->sel_pid = b->pid;
		memcpy(ui->sel_comm, b->comm, KLPT_COMM_LEN);
	}
}

/* ------------------------------------------------------------- keys */

static int key_quit(struct ui *ui)
{
	(void)ui;
	return UI_QUIT;
}

static int key_help(struct ui *ui)
{
	ui->overlay = OVERLAY_HELP;
	return UI_REDRAW;
}

static int move_sel(struct ui *ui, int delta, bool absolute)
{
	const struct top_patch *p = selected_patch(ui);
	int *i, n, log_n;

	switch (ui->focus) {
	case FOCUS_PATCHES:
		i = &ui->patch_i;
		n = ui->view.npatches;
		break;
	case FOCUS_BLOCKERS:
		i = &ui->blocker_i;
		n = p ? p->nblockers : 0;
		break;
	default:
		/* the log scrolls back from its end: up is older */
		log_n = top_app_log_count(ui->app);
		if (absolute)
			ui->log_back = delta < 0 ? log_n : 0;
		else
			ui->log_back -= delta;
		if (ui->log_back < 0)
			ui->log_back = 0;
		return UI_REDRAW;
	}
	if (!n)
		return 0;
	*i = absolute ? (delta < 0 ? 0 : n - 1) : *i + delta;
	if (*i < 0)
		*i = 0;
	if (*i >= n)
		*i = n - 1;
	if (ui->focus == FOCUS_PATCHES)
		ui->blocker_i = 0;
	remember(ui);
	return ui->focus == FOCUS_PATCHES ? UI_REBUILD : UI_REDRAW;
}

static int page(const struct ui *ui)
{
	int rows = ui->focus == FOCUS_PATCHES ? ui->patch_rows :
		   ui->focus == FOCUS_BLOCKERS ? ui->blocker_rows :
		   ui->log_rows;

	return rows > 1 ? rows - 1 : 1;
}

static int key_up(struct ui *ui) { return move_sel(ui, -1, false); }
static int key_down(struct ui *ui) { return move_sel(ui, 1, false); }
static int key_pgup(struct ui *ui) { return move_sel(ui, -page(ui), false); }
static int key_pgdn(struct ui *ui) { return move_sel(ui, page(ui), false); }
static int key_home(struct ui *ui) { return move_sel(ui, -1, true); }
static int key_end(struct ui *ui) { return move_sel(ui, 1, true); }

static int key_tab(struct ui *ui)
{
	do
		ui->focus = (ui->focus + 1) % FOCUS__COUNT;
	while (ui->focus == FOCUS_LOG && !ui->show_log);
	return UI_REDRAW;
}

static int key_backtab(struct ui *ui)
{
	do
		ui->focus = (ui->focus + FOCUS__COUNT - 1) % FOCUS__COUNT;
	while (ui->focus == FOCUS_LOG && !ui->show_log);
	return UI_REDRAW;
}

static int key_detail(struct ui *ui)
{
	const struct top_blocker *b = selected_blocker(ui);

	if (!b) {
		message(ui, false, "no blocker selected (Tab moves to the "
			"blocker panel)");
		return UI_REDRAW;
	}
	ui->detail_pid = b->pid;
	memcpy(ui->detail_comm, b->comm, KLPT_COMM_LEN);
	ui->detail_scroll = 0;
	ui->overlay = OVERLAY_DETAIL;
	return UI_REDRAW;
}

static int key_filter(struct ui *ui)
{
	ui->prompt = PROMPT_FILTER;
	snprintf(ui->input, sizeof(ui->input), "%s", ui->filter);
	return UI_REDRAW;
}

static int key_sort(struct ui *ui)
{
	ui->cfg->sort = (ui->cfg->sort + 1) % TOP_SORT__COUNT;
	message(ui, false, "blockers sorted by %s", top_sort_name(ui->cfg->sort));
	return UI_REBUILD;
}

static int key_reverse(struct ui *ui)
{
	ui->cfg->sort_reverse = !ui->cfg->sort_reverse;
	return UI_REBUILD;
}

static int key_log(struct ui *ui)
{
	ui->show_log = !ui->show_log;
	if (!ui->show_log && ui->focus == FOCUS_LOG)
		ui->focus = FOCUS_PATCHES;
	return UI_REDRAW;
}

static int key_pause(struct ui *ui)
{
	ui->paused = !ui->paused;
	if (top_app_is_replay(ui->app))
		top_app_set_playing(ui->app, !ui->paused);
	message(ui, false, ui->paused ? "paused: the screen is frozen, "
		"events are still read (p resumes)" : "resumed");
	return UI_REBUILD;
}

/* Read-only (a replay, not root, --readonly): says that what is off. */
static bool refused_readonly(struct ui *ui, const char *what)
{
	if (ui->cfg->readonly)
		message(ui, true, "read-only (%s): %s is off",
			top_app_is_replay(ui->app) ? "a replay" :
			geteuid() ? "not root" : "--readonly", what);
	return ui->cfg->readonly;
}

/* The patch an action is for, or NULL with a message saying why not. */
static const struct top_patch *action_patch(struct ui *ui, const char *what)
{
	const struct top_patch *p = selected_patch(ui);

	if (refused_readonly(ui, what))
		return NULL;
	if (!p)
		message(ui, true, "no patch selected");
	return p;
}

static int key_disable(struct ui *ui)
{
	const struct top_patch *p = action_patch(ui, "disable");

	if (!p)
		return UI_REDRAW;
	/*
	 * enabled reads 0 also in an enable's pre-patch window (6.1
	 * __klp_enable_patch() sets it after klp_start_transition()), where
	 * a 0 written reverses the enable: only a transition known to
	 * unpatch, or none, is disabled already.  The kernel decides on
	 * the write (EINVAL: disabled).
	 */
	if (!p->enabled && (!p->transition || p->target == KLPT_UNPATCHED)) {
		message(ui, false, "%s is already disabled", p->name);
		return UI_REDRAW;
	}
	snprintf(ui->prompt_patch, sizeof(ui->prompt_patch), "%s", p->name);
	ui->prompt = PROMPT_DISABLE;
	return UI_REDRAW;
}

static int key_force(struct ui *ui)
{
	const struct top_patch *p = action_patch(ui, "force");

	if (!p)
		return UI_REDRAW;
	if (!p->transition) {
		message(ui, false, "%s is not in transition: nothing to force",
			p->name);
		return UI_REDRAW;
	}
	snprintf(ui->prompt_patch, sizeof(ui->prompt_patch), "%s", p->name);
	ui->input[0] = '\0';
	ui->prompt = PROMPT_FORCE;
	return UI_REDRAW;
}

static int key_load(struct ui *ui)
{
	/* a replay is read-only: nothing to load into */
	if (refused_readonly(ui, "load"))
		return UI_REDRAW;
	ui->input[0] = '\0';
	ui->prompt = PROMPT_LOAD;
	return UI_REDRAW;
}

/*
 * The module is being unloaded: /sys/module/<module>/initstate reads
 * "going" (6.1 delete_module() after try_stop_module(); another
 * delete_module() fails with EBUSY meanwhile, while refcnt may read 0).
 */
static bool module_going(const struct ui *ui, const char *module)
{
	char path[512], state[16] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys/module/%s/initstate",
		 ui->cfg->root ? ui->cfg->root : "", module);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(state, sizeof(state), f))
		state[0] = '\0';
	fclose(f);
	return !strcmp(state, "going\n");
}

static int key_unload(struct ui *ui)
{
	const struct top_patch *p = action_patch(ui, "unload");
	char why[256], name[64];
	int ret;

	if (!p)
		return UI_REDRAW;
	if (p->module_loaded && module_going(ui, p->name)) {
		message(ui, false, "%s is being unloaded (initstate going)",
			p->name);
		return UI_REDRAW;
	}
	if (p->verdict != KLPT_READY) {
		message(ui, true, "%s cannot be unloaded: %s: %s", p->name,
			verdict_label(p->verdict), p->why);
		return UI_REDRAW;
	}
	snprintf(name, sizeof(name), "%s", p->name);
	ret = klpt_module_unload(top_app_session(ui->app), name, why,
				 sizeof(why));
	if (ret == -EBUSY && module_going(ui, name))
		message(ui, false, "%s is being unloaded (initstate going)",
			name);
	else if (ret == -EBUSY)
		message(ui, true, "%s cannot be unloaded: %s", name, why);
	else if (ret)
		message(ui, true, "unloading %s failed: %s", name,
			strerror(-ret));
	else
		message(ui, false, "%s: unloaded", name);
	return UI_REBUILD;
}

static int key_play(struct ui *ui)
{
	if (!top_app_is_replay(ui->app))
		return 0;
	top_app_set_playing(ui->app, !top_app_playing(ui->app));
	ui->paused = false;
	return UI_REBUILD;
}

static int key_step(struct ui *ui)
{
	if (!top_app_is_replay(ui->app))
		return 0;
	top_app_set_playing(ui->app, false);
	if (top_app_step(ui->app) == 0)
		message(ui, false, "end of the recording");
	return UI_REBUILD;
}

static int key_faster(struct ui *ui)
{
	double s = top_app_speed(ui->app) * 2;

	top_app_set_speed(ui->app, s > 1000 ? 1000 : s);
	return UI_REDRAW;
}

static int key_slower(struct ui *ui)
{
	double s = top_app_speed(ui->app) / 2;

	top_app_set_speed(ui->app, s < 1.0 / 64 ? 1.0 / 64 : s);
	return UI_REDRAW;
}

static int key_resize(struct ui *ui)
{
	(void)ui;
	return UI_REDRAW;
}

/* The key map, htop style: one handler per key, no switch in the loop. */
static const struct {
	int key;
	int (*fn)(struct ui *ui);
} keymap[] = {
	{ 'q', key_quit }, { KEY_F(10), key_quit },
	{ '?', key_help }, { 'h', key_help }, { KEY_F(1), key_help },
	{ KEY_UP, key_up }, { 'k', key_up },
	{ KEY_DOWN, key_down }, { 'j', key_down },
	{ KEY_PPAGE, key_pgup }, { KEY_NPAGE, key_pgdn },
	{ KEY_HOME, key_home }, { KEY_END, key_end },
	{ '\t', key_tab }, { KEY_BTAB, key_backtab },
	{ '\n', key_detail }, { '\r', key_detail }, { KEY_ENTER, key_detail },
	{ KEY_F(3), key_detail },
	{ '/', key_filter }, { KEY_F(2), key_filter },
	{ 's', key_sort }, { KEY_F(6), key_sort }, { 'r', key_reverse },
	{ 'l', key_log }, { KEY_F(4), key_log },
	{ 'p', key_pause }, { KEY_F(5), key_pause },
	{ 'd', key_disable }, { KEY_F(7), key_disable },
	{ 'f', key_force }, { KEY_F(8), key_force },
	{ 'u', key_unload }, { KEY_F(9), key_unload },
	{ 'L', key_load },
	{ ' ', key_play }, { '.', key_step },
	{ '+', key_faster }, { '=', key_faster }, { '-', key_slower },
	{ KEY_RESIZE, key_resize },
};

static bool is_enter(int ch)
{
	return ch == '\n' || ch == '\r' || ch == KEY_ENTER;
}

/* Text input of the filter, force and load prompts; true when done. */
static bool edit_input(struct ui *ui, int ch)
{
	size_t len = strlen(ui->input);

	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (len)
			ui->input[len - 1] = '\0';
	} else if (ch >= 0x20 && ch < 0x7f && len < sizeof(ui->input) - 1) {
		ui->input[len] = (char)ch;
		ui->input[len + 1] = '\0';
	}
	return is_enter(ch);
}

static int prompt_key(struct ui *ui, int ch)
{
	struct klpt_session *s = top_app_session(ui->app);
	enum prompt pr = ui->prompt;
	char busy[320], name[64] = "";
	bool ok;
	int ret;

	if (ch == 27) {		/* Esc */
		ui->prompt = PROMPT_NONE;
		if (pr == PROMPT_FILTER) {
			ui->filter[0] = '\0';
			message(ui, false, "filter cleared");
			return UI_REBUILD;
		}
		message(ui, false, "cancelled");
		return UI_REDRAW;
	}
	switch (pr) {
	case PROMPT_FILTER:
		if (!edit_input(ui, ch))
			return UI_REDRAW;
		snprintf(ui->filter, sizeof(ui->filter), "%s", ui->input);
		ui->prompt = PROMPT_NONE;
		ui->blocker_i = 0;
		ui->sel_pid = -1;
		return UI_REBUILD;
	case PROMPT_DISABLE:
		ui->prompt = PROMPT_NONE;
		if (ch != 'y' && ch != 'Y') {
			message(ui, false, "not disabled");
			return UI_REDRAW;
		}
		ret = klpt_patch_disable(s, ui->prompt_patch);
		if (ret == -EINVAL)
			message(ui, false, "%s is already disabled",
				ui->prompt_patch);
		else if (ret)
			message(ui, true, "disabling %s failed: %s",
				ui->prompt_patch, ret != -EBUSY ? strerror(-ret) :
				top_busy_text(busy, sizeof(busy), s));
		else
			message(ui, false, "%s: disabled; watch the unpatch "
				"transition and UNLOAD", ui->prompt_patch);
		return UI_REBUILD;
	case PROMPT_FORCE:
		if (!edit_input(ui, ch))
			return UI_REDRAW;
		ui->prompt = PROMPT_NONE;
		if (strcmp(ui->input, ui->prompt_patch)) {
			message(ui, false, "not forced (the name did not match)");
			return UI_REDRAW;
		}
		ret = klpt_patch_force(s, ui->prompt_patch);
		if (ret)
			message(ui, true, "forcing %s failed: %s",
				ui->prompt_patch, ret == -EINVAL ?
				"not in transition any more" : strerror(-ret));
		else
			message(ui, true, "%s: forced", ui->prompt_patch);
		return UI_REBUILD;
	case PROMPT_LOAD:
		if (!edit_input(ui, ch))
			return UI_REDRAW;
		ui->prompt = PROMPT_NONE;
		if (!ui->input[0]) {
			message(ui, false, "nothing loaded (no path)");
			return UI_REDRAW;
		}
		/*
		 * finit_module() returns after the module's init: the screen
		 * waits for it (events are read after); success selects the
		 * new patch, whose transition the screen then shows.
		 */
		ok = top_load_key(ui->app, ui->input, name, sizeof(name),
				  ui->msg, sizeof(ui->msg));
		if (ok)
			snprintf(ui->sel_patch, sizeof(ui->sel_patch), "%s",
				 name);
		ui->msg_warn = !ok;
		return UI_REBUILD;
	case PROMPT_NONE:
		break;
	}
	return 0;
}

static int overlay_key(struct ui *ui, int ch)
{
	if (ch == KEY_RESIZE)
		return UI_REDRAW;
	if (ui->overlay == OVERLAY_HELP) {
		ui->overlay = OVERLAY_NONE;
		return UI_REDRAW;
	}
	switch (ch) {
	case KEY_UP:
	case 'k':
		if (ui->detail_scroll > 0)
			ui->detail_scroll--;
		return UI_REDRAW;
	case KEY_DOWN:
	case 'j':
		ui->detail_scroll++;
		return UI_REDRAW;
	case KEY_PPAGE:
		ui->detail_scroll -= ui->rows / 2;
		if (ui->detail_scroll < 0)
			ui->detail_scroll = 0;
		return UI_REDRAW;
	case KEY_NPAGE:
		ui->detail_scroll += ui->rows / 2;
		return UI_REDRAW;
	case 27:
	case 'q':
	case KEY_LEFT:
	case KEY_F(3):
	case '\n':
	case '\r':
	case KEY_ENTER:
		ui->overlay = OVERLAY_NONE;
		return UI_REDRAW;
	}
	return 0;
}

static int handle_key(struct ui *ui, int ch)
{
	size_t i;

	if (ui->prompt != PROMPT_NONE)
		return prompt_key(ui, ch);
	if (ui->overlay != OVERLAY_NONE)
		return overlay_key(ui, ch);
	if (ch != KEY_RESIZE)
		ui->msg[0] = '\0';
	for (i = 0; i < sizeof(keymap) / sizeof(*keymap); i++)
		if (keymap[i].key == ch)
			return keymap[i].fn(ui);
	return 0;
}

/* ------------------------------------------------------------- loop */

/* The terminal as it was, ncurses' memory freed. */
static void terminal_end(struct ui *ui)
{
	endwin();
	delscreen(ui->term);
	ui->term = NULL;
}

static int terminal_setup(struct ui *ui)
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
	if (rows < MIN_ROWS || cols < MIN_COLS) {
		terminal_end(ui);
		fprintf(stderr, PROG ": the terminal is %dx%d; klptop needs at "
			"least %dx%d (or use -b)\n", cols, rows, MIN_COLS,
			MIN_ROWS);
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

int top_screen_run(struct top_config *cfg, struct top_app *app)
{
	struct ui ui = {
		.cfg = cfg,
		.app = app,
		.sel_pid = -1,
		.show_log = true,
		.exit_code = TOP_EXIT_OK,
	};
	uint64_t last_draw = 0, next_frame = 0;
	long frames = 0;
	bool dirty = true, rebuild_due = true;
	int ret;

	if (terminal_setup(&ui))
		return TOP_EXIT_ERROR;
	if (cfg->patch)
		snprintf(ui.sel_patch, sizeof(ui.sel_patch), "%s", cfg->patch);
	if (cfg->readonly && !top_app_is_replay(app))
		message(&ui, false, "read-only: d, f and u are off");
	else if (top_app_is_replay(app))
		message(&ui, false, "replay: space plays/pauses, . steps one "
			"event, + and - change the speed");
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = top_app_is_replay(app) ? -1 :
			  klpt_session_fd(top_app_session(app)),
			  .events = POLLIN },
		};
		uint64_t now = top_mono_ns() / 1000000;
		int timeout, ch, act = 0;

		if (top_stop_signal) {
			ui.exit_code = TOP_EXIT_SIGNAL + top_stop_signal;
			break;
		}
		if (now >= next_frame) {
			rebuild_due = true;
			next_frame = now + (uint64_t)(cfg->delay_s * 1000);
		}
		if ((rebuild_due || dirty) && now - last_draw >= REDRAW_MIN_MS) {
			uint64_t t0 = top_mono_ns(), t1 = 0;
			bool built = rebuild_due && !ui.paused;

			if (built) {
				if (rebuild(&ui)) {
					ui.exit_code = TOP_EXIT_ERROR;
					break;
				}
				frames++;
				t1 = top_mono_ns();
			}
			draw(&ui);
			if (built)
				top_framelog_frame(app, t1 - t0, top_mono_ns() - t1,
						   0, ui.view.ntasks);
			last_draw = now;
			rebuild_due = dirty = false;
			if (cfg->iterations && frames >= cfg->iterations)
				break;
		}
		timeout = (int)(next_frame - now);
		/* a pending redraw waits only for the rest of the rate limit */
		if ((dirty || rebuild_due) &&
		    timeout > (int)(last_draw + REDRAW_MIN_MS - now))
			timeout = (int)(last_draw + REDRAW_MIN_MS - now);
		if (top_app_playing(app))
			timeout = timeout > 20 ? 20 : timeout;
		if (timeout < 0)
			timeout = 0;
		ret = poll(pfd, 2, timeout);
		if (ret < 0 && errno != EINTR) {
			ui.exit_code = TOP_EXIT_ERROR;
			break;
		}
		/*
		 * The terminal hung up or went: keys can never come, and
		 * poll() would return at once forever (a spinning CPU).
		 */
		if (ret > 0 && (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))) {
			terminal_end(&ui);
			fprintf(stderr, PROG ": the terminal went away (standard "
				"input hung up)\n");
			top_view_free(&ui.view);
			return TOP_EXIT_ERROR;
		}
		/* keys (KEY_RESIZE comes this way after SIGWINCH too) */
		while ((ch = getch()) != ERR) {
			act |= handle_key(&ui, ch);
			if (act & UI_QUIT)
				break;
		}
		if (act & UI_QUIT)
			break;
		if (act & UI_REBUILD)
			rebuild_due = true;
		if (act & UI_REDRAW)
			dirty = true;
		top_app_tick(app);
		ret = top_app_process(app, 30);
		if (ret < 0 && ret != -EINTR) {
			terminal_end(&ui);
			fprintf(stderr, PROG ": reading events: %s\n",
				strerror(-ret));
			top_view_free(&ui.view);
			return TOP_EXIT_ERROR;
		}
		if (ret > 0)
			rebuild_due = true;
	}
	terminal_end(&ui);
	top_view_free(&ui.view);
	return ui.exit_code;
}
