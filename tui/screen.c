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
 * This file composes those from the view and runs the loop; every list
 * is a panel (panel.c), keys go through the key map (keymap.c), the
 * terminal is term.c's (ui.h says who does what).  Events keep being
 * read while a prompt or an overlay is open, so nothing is lost while
 * the operator thinks.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ui.h"

/*
 * Events are drawn as soon as they are taken in, at most every
 * REDRAW_MIN_MS: a burst is coalesced into the frames it spans, and the
 * wait it adds stays well under the 50 ms event-to-screen target
 * (bench/README.md, 4).  Taking events in stops after as long, so that
 * a steady stream cannot hold a frame back either.
 */
#define REDRAW_MIN_MS 15
#define SEEK_SLICE_MS 50	/* of a seek between two looks at the keys */

/* ---------------------------------------------------------- drawing */

/*
 * Write text at (y, x), cut to the screen; pads to width w if w > 0.
 * Every string on the screen comes this way: escaped (esc.c), so a name
 * can neither move the cursor nor break the row, and cut by columns,
 * with an ellipsis where it was cut.
 */
void ui_put(struct ui *ui, int y, int x, int w, attr_t attr,
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
	if (buf[len] && (w > 0 ? w : max) > 1) {
		/* cut: the last column says so */
		len = top_text_fit(buf, (w > 0 ? w : max) - 1, &cols);
		snprintf(buf + len, sizeof(buf) - len, "%s", top_ellipsis());
		len = strlen(buf);
		cols++;
	}
	attron((int)attr);
	mvaddnstr(y, x, buf, (int)len);
	for (; w > 0 && cols < w; cols++)
		addch(' ');
	attroff((int)attr);
}

const struct top_patch *ui_selected_patch(const struct ui *ui)
{
	int i = ui->panel[FOCUS_PATCHES].sel;

	if (i < 0 || i >= ui->view.npatches)
		return NULL;
	return &ui->view.patches[i];
}

/* The patch whose blockers are shown: the selected one. */
const struct top_blocker *ui_selected_blocker(const struct ui *ui)
{
	const struct top_patch *p = ui_selected_patch(ui);
	int i = ui->panel[FOCUS_BLOCKERS].sel;

	if (!p || i < 0 || i >= p->nblockers)
		return NULL;
	return &p->blockers[i];
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
		else if (v->native)
			/* no hooks to report: the kernel's own tracepoints */
			snprintf(mode, sizeof(mode), "native: the kernel's "
				 "klp events");
		else
			snprintf(mode, sizeof(mode), "klptrace.ko %s: %d/%d "
				 "hooks active", hooks.version, hooks.active,
				 hooks.total);
		strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&t, &tm));
	}
	/* the time stays whole at the right; the rest is cut before it */
	ui_put(ui, 0, 0, ui->cols, ui_attr(ui, C_HEADER), "%s", "");
	ui_put(ui, 0, 0, ui->cols - (int)strlen(when) - 2,
	       ui_attr(ui, C_HEADER), " klptop  %s%s  %s",
	       top_app_kernel(ui->app)[0] ? "kernel " : "unknown kernel",
	       top_app_kernel(ui->app), mode);
	ui_put(ui, 0, ui->cols - (int)strlen(when) - 1, 0,
	       ui_attr(ui, C_HEADER), "%s", when);
	ui_put(ui, 1, 0, ui->cols, v->lost ? ui_attr(ui, C_WARN) : A_NORMAL,
	       " events %llu  lost %llu  tasks %d  patches %d%s%s%s",
	       (unsigned long long)v->events, (unsigned long long)v->lost,
	       v->ntasks, v->npatches,
	       ui->paused ? "  [PAUSED: p resumes]" : "",
	       ui->cfg->readonly ? "  [read-only]" : "",
	       ui->cfg->patch ? "  [-p]" : "");
}

/*
 * A row of a panel's columns (fields.c: the table's screen columns,
 * sized to their content), row NULL: their headers.  Each column is
 * drawn at its place, so a name cut with an ellipsis never moves the
 * next column; unload: the attribute of the UNLOAD column.  The header
 * of the column sorted by (sort, enum top_sort; -1 none) is in reverse
 * video with the sort's marker, as htop's: 'v' or '^' says which way
 * on a terminal without colours or reverse video too.
 */
static void columns(struct ui *ui, int y, const struct top_cols *c,
		    const void *row, attr_t attr, attr_t unload, int sort)
{
	char buf[1024], out[1100];
	int i, x = 0;

	for (i = 0; i < c->n && x < ui->cols; i++) {
		const struct top_field *f = c->f[i];
		bool sorted = !row && sort >= 0 && f->sort == sort;
		const char *v = row ? f->text(row, TOP_STYLE_SCREEN, c->w[i], buf,
					      sizeof(buf)) : f->header;
		attr_t a = row && !strcmp(f->key, "unload") ? unload : attr;
		int used;

		if (sorted) {
			snprintf(buf, sizeof(buf), "%s%c", f->header,
				 top_sort_marker(sort, ui->cfg->sort_reverse));
			v = buf;
			a |= A_REVERSE;
		}
		top_esc_col(out, sizeof(out), v, 0, c->w[i]);
		top_text_fit(out, 1 << 20, &used);
		if (x)
			ui_put(ui, y, x - 1, 1, attr, " ");
		ui_put(ui, y, x, c->w[i], a, "%*s%s", f->flags & TOP_FIELD_RIGHT &&
		       used < c->w[i] ? c->w[i] - used : 0, "", out);
		x += c->w[i] + 1;
	}
	/* the rest of a highlighted row */
	if (x - 1 < ui->cols && attr != A_NORMAL)
		ui_put(ui, y, x - 1, ui->cols - x + 1, attr, "%s", "");
}

static void patch_row(struct ui *ui, int idx, int y, bool sel)
{
	const struct top_patch *p = &ui->view.patches[idx];
	attr_t attr = sel ? ui_attr(ui, C_SELECTED) : A_NORMAL;

	columns(ui, y, &ui->pcols, p, attr, sel ? attr :
		ui_attr(ui, p->verdict == KLPT_READY ? C_READY : C_HOLD), -1);
}

/* Patch panel: title row, rows, then the verdict line; returns next y. */
static int draw_patches(struct ui *ui, int y)
{
	const struct top_patch *p = ui_selected_patch(ui);
	char b2[64];

	top_cols_fit(&ui->pcols, TOP_ROW_PATCH, ui->view.patches,
		     ui->view.npatches, sizeof(*ui->view.patches), ui->cols,
		     -1);
	ui_put(ui, y, 0, ui->cols, ui_attr(ui, ui->focus == FOCUS_PATCHES ?
					  C_TITLE : C_HEADER), "%s", "");
	columns(ui, y++, &ui->pcols, NULL, ui_attr(ui, ui->focus ==
		FOCUS_PATCHES ? C_TITLE : C_HEADER), 0, -1);
	if (!ui->view.npatches)
		ui_put(ui, y, 1, 0, ui_attr(ui, C_DIM), "no livepatch loaded%s",
		       ui->cfg->patch ? " (or none named as -p says)" : "");
	y = panel_draw(ui, &ui->panel[FOCUS_PATCHES], y, patch_row);
	/* the selected patch's verdict, in words */
	if (p)
		ui_put(ui, y, 0, ui->cols,
		       ui_attr(ui, p->verdict == KLPT_READY ? C_READY : C_HOLD),
		       " %s: %s", top_esc_col(b2, sizeof(b2), p->name, 0, 32),
		       p->verdict == KLPT_READY ?
		       "READY: rmmod is safe now (u unloads)" : p->why);
	return y + 1;
}

static void blocker_row(struct ui *ui, int idx, int y, bool sel)
{
	const struct top_blocker *b = &ui_selected_patch(ui)->blockers[idx];

	sel = sel && ui->focus == FOCUS_BLOCKERS;
	columns(ui, y, &ui->bcols, b, sel ? ui_attr(ui, C_SELECTED) :
		b->reason == KLPT_REASON_NONE ? ui_attr(ui, C_DIM) : A_NORMAL,
		0, -1);
}

/* Title, column heads, then the panel's rows; returns the next y. */
static int draw_blockers(struct ui *ui, int y)
{
	const struct top_patch *p = ui_selected_patch(ui);
	struct panel *panel = &ui->panel[FOCUS_BLOCKERS];
	attr_t title = ui_attr(ui, ui->focus == FOCUS_BLOCKERS ?
			       C_TITLE : C_HEADER);

	if (!p || !p->transition)
		ui_put(ui, y, 0, ui->cols, title, " BLOCKERS: no transition%s",
		       p ? " of this patch" : "");
	else
		ui_put(ui, y, 0, ui->cols, title,
		       " BLOCKERS of %s: %d of %u tasks not switched%s%s  "
		       "sort: %s%s%s%s%s", p->name, p->nblockers_all, p->total,
		       p->unknown ? " (some unknown)" : "",
		       p->nstale ? " (reasons stale: no klptrace.ko events)" :
		       "",
		       top_sort_name(ui->cfg->sort),
		       ui->cfg->sort_reverse ? " (reversed)" : "",
		       ui->filter[0] ? "  filter: \"" : "", ui->filter,
		       ui->filter[0] ? "\"" : "");
	y++;
	/* the columns fit what the panel shows */
	panel_fit(panel);
	if (p && p->transition && panel->top < p->nblockers)
		top_cols_fit(&ui->bcols, TOP_ROW_BLOCKER,
			     p->blockers + panel->top,
			     p->nblockers - panel->top < panel->rows ?
			     p->nblockers - panel->top : panel->rows,
			     sizeof(*p->blockers), ui->cols, ui->cfg->sort);
	else
		top_cols_fit(&ui->bcols, TOP_ROW_BLOCKER, NULL, 0, 0, ui->cols,
			     ui->cfg->sort);
	columns(ui, y++, &ui->bcols, NULL, A_BOLD, 0, ui->cfg->sort);
	if (!p || !p->transition || panel->rows <= 0)
		return y + (panel->rows > 0 ? panel->rows : 0);
	if (!p->nblockers)
		ui_put(ui, y, 1, 0, ui_attr(ui, C_DIM), "%s", p->nblockers_all ?
		       "no blocker matches the filter (/ changes it)" :
		       "none: every task switched");
	return panel_draw(ui, panel, y, blocker_row);
}

static void log_row(struct ui *ui, int idx, int y, bool sel)
{
	const struct top_logline *l = top_app_log_at(ui->app, idx);
	uint64_t start = top_app_is_replay(ui->app) ?
			 top_app_replay_start(ui->app) : 0;
	double t = (double)(l->ts - (start && l->ts >= start ? start : 0)) /
		   1e9;

	char text[160];

	(void)sel;	/* the log has no selection */
	ui_put(ui, y, 0, ui->cols, A_NORMAL, "%12.6f %s", t,
	       top_logline_text(l, text, sizeof(text)));
}

static void draw_log(struct ui *ui, int y)
{
	struct panel *panel = &ui->panel[FOCUS_LOG];

	ui_put(ui, y++, 0, ui->cols,
	       ui_attr(ui, ui->focus == FOCUS_LOG ? C_TITLE : C_HEADER),
	       " EVENT LOG (%d kept%s)", panel->n,
	       panel->back ? ", scrolled back" : "");
	panel_draw(ui, panel, y, log_row);
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

		/* read-only: F7-F9 (d, f, u) do nothing, so are not offered */
		if (ui->cfg->readonly && keys[i].key[1] >= '7' &&
		    keys[i].key[1] <= '9' && !keys[i].key[2])
			continue;

		if (x + kl + ll > ui->cols)
			break;
		ui_put(ui, y, x, 0, A_NORMAL, "%s", keys[i].key);
		ui_put(ui, y, x + kl, ll, ui_attr(ui, C_KEY), "%s",
		       keys[i].label);
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
		/* what is typed first: 80 columns keep it */
		ui_put(ui, y, 0, ui->cols, A_BOLD, "Filter: %s_   (pid, "
		       "command or function; Enter keeps it, Ctrl-U empties, "
		       "Esc clears)", ui->input);
		return;
	case PROMPT_DISABLE:
		ui_put(ui, y, 0, ui->cols, ui_attr(ui, C_WARN), "Disable %s: "
		       "start its unpatch transition? [y/N] ", ui->prompt_patch);
		return;
	case PROMPT_FORCE:
		/* the warning first: 80 columns keep it */
		ui_put(ui, y, 0, ui->cols, ui_attr(ui, C_WARN), "A forced "
		       "module can never be unloaded. Type %s to force: %s_",
		       ui->prompt_patch, ui->input);
		return;
	case PROMPT_LOAD:
		ui_put(ui, y, 0, ui->cols, A_BOLD, "Load the livepatch module "
		       "(path of its .ko; Enter loads, Esc cancels): %s_",
		       ui->input);
		return;
	case PROMPT_GOTO:
		ui_put(ui, y, 0, ui->cols, A_BOLD, "Go to (seconds from the "
		       "start, as the log shows them; end; Esc cancels): %s_",
		       ui->input);
		return;
	case PROMPT_NONE:
		break;
	}
	if (ui->msg[0])
		ui_put(ui, y, 0, ui->cols, ui->msg_warn ? ui_attr(ui, C_WARN) :
		       A_NORMAL, "%s", ui->msg);
}

/*
 * The force warning stays on screen while the name is typed.  6.1's
 * klp_force_transition() marks forced the patch being disabled, or the
 * patches an atomic replace replaces: klp_free_patch_finish() never puts
 * a forced patch's module.
 */
static void draw_force_warning(struct ui *ui)
{
	static const char *const lines[] = {
		"FORCE: every task still in the old code is marked as",
		"switched without a check.  A forced module can NEVER be",
		"unloaded afterwards (until reboot): the module of a patch",
		"being disabled, or of the patches a replace patch replaces.",
		"Only force when you know no task runs the patched code.",
		"Type its name to force it; Esc cancels.",
	};
	int n = (int)(sizeof(lines) / sizeof(*lines));
	int w = 64, h = n + 2, y0, x0, i;

	if (w > ui->cols - 2)
		w = ui->cols - 2;
	y0 = (ui->rows - h) / 2;
	x0 = (ui->cols - w) / 2;
	for (i = 0; i < h; i++)
		ui_put(ui, y0 + i, x0, w, ui_attr(ui, C_HEADER), "%s",
		       i > 0 && i <= n ? lines[i - 1] : "");
	ui_put(ui, y0, x0, w, ui_attr(ui, C_HEADER), "  Force %s?",
	       ui->prompt_patch);
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
	ui_put(ui, 0, 0, ui->cols, ui_attr(ui, C_HEADER), " task %s[%d]  (Esc "
	       "or Enter closes, Up/Down scroll)", ui->detail_comm, pid);
#define LINE(...) do {							\
		snprintf(line, sizeof(line), __VA_ARGS__);		\
		if (skip > 0)						\
			skip--;						\
		else if (y < ui->rows - 1)				\
			ui_put(ui, y++, 1, 0, A_NORMAL, "%s", line);	\
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
	int y, avail, prows, lrows, blockers_y;

	ui_term_follow_size();
	getmaxyx(stdscr, ui->rows, ui->cols);
	erase();
	if (ui->rows < UI_MIN_ROWS || ui->cols < UI_MIN_COLS) {
		ui_put(ui, ui->rows / 2, 0, 0, A_BOLD, "terminal too small: "
		       "%dx%d, klptop needs %dx%d", ui->cols, ui->rows,
		       UI_MIN_COLS, UI_MIN_ROWS);
		refresh();
		return;
	}
	if (ui->overlay == OVERLAY_HELP) {
		ui_draw_help(ui);
		refresh();
		return;
	}
	if (ui->overlay == OVERLAY_DETAIL) {
		draw_detail(ui);
		refresh();
		return;
	}
	if (ui->overlay == OVERLAY_PAGE) {
		ui_draw_page(ui);
		refresh();
		return;
	}
	ui_count(ui);
	draw_header(ui);
	/* 2 header, patch title + rows + verdict, the rest shared */
	avail = ui->rows - 2 - 2;	/* message and F-key bar */
	prows = ui->view.npatches < 1 ? 1 : ui->view.npatches;
	if (prows > 4)
		prows = 4;
	ui->panel[FOCUS_PATCHES].rows = prows;
	y = draw_patches(ui, 2);
	avail -= prows + 2;
	/*
	 * The blockers get the rows they fill (title and heads, a row
	 * each, or one saying why none), the event log the rest, 4 rows
	 * with its title at least: no blank rows while events scroll off.
	 */
	lrows = 0;
	if (ui->show_log && avail >= 8) {
		const struct top_patch *p = ui_selected_patch(ui);
		int want = 2 + (p && p->transition ?
				(p->nblockers ? p->nblockers : 1) : 0);

		lrows = avail - want > 4 ? avail - want : 4;
	}
	ui->panel[FOCUS_BLOCKERS].rows = avail - lrows - 2;
	ui->panel[FOCUS_LOG].rows = lrows - 1;
	blockers_y = y;
	y = draw_blockers(ui, y);
	if (lrows > 0)
		draw_log(ui, y);
	/* htop's place: at the left of the list it sorts */
	if (ui->overlay == OVERLAY_SORT)
		ui_draw_sort_menu(ui, blockers_y, y - blockers_y);
	if (ui->prompt == PROMPT_FORCE)
		draw_force_warning(ui);
	draw_message(ui);
	draw_bar(ui);
	refresh();
}

/* ---------------------------------------------------------- the view */

void ui_message(struct ui *ui, bool warn, const char *fmt, ...)
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
	ui->page_stale = true;	/* an open page follows the view */
	ui->panel[FOCUS_PATCHES].sel = ui->view.npatches ? 0 : -1;
	for (i = 0; i < ui->view.npatches; i++)
		if (!strcmp(ui->view.patches[i].name, ui->sel_patch))
			ui->panel[FOCUS_PATCHES].sel = i;
	p = ui_selected_patch(ui);
	if (p)
		snprintf(ui->sel_patch, sizeof(ui->sel_patch), "%s", p->name);
	if (!p || !p->nblockers) {
		ui->panel[FOCUS_BLOCKERS].sel = 0;
		return 0;
	}
	if (ui->panel[FOCUS_BLOCKERS].sel >= p->nblockers)
		ui->panel[FOCUS_BLOCKERS].sel = p->nblockers - 1;
	for (i = 0; i < p->nblockers; i++)
		if (p->blockers[i].pid == ui->sel_pid &&
		    !strcmp(p->blockers[i].comm, ui->sel_comm)) {
			ui->panel[FOCUS_BLOCKERS].sel = i;
			break;
		}
	ui->sel_pid = p->blockers[ui->panel[FOCUS_BLOCKERS].sel].pid;
	memcpy(ui->sel_comm, p->blockers[ui->panel[FOCUS_BLOCKERS].sel].comm,
	       KLPT_COMM_LEN);
	return 0;
}

void ui_count(struct ui *ui)
{
	const struct top_patch *p = ui_selected_patch(ui);

	ui->panel[FOCUS_PATCHES].n = ui->view.npatches;
	ui->panel[FOCUS_BLOCKERS].n = p ? p->nblockers : 0;
	ui->panel[FOCUS_LOG].n = top_app_log_count(ui->app);
}

/* After a move: remember what is selected now. */
void ui_remember(struct ui *ui)
{
	const struct top_patch *p = ui_selected_patch(ui);
	const struct top_blocker *b = ui_selected_blocker(ui);

	if (p)
		snprintf(ui->sel_patch, sizeof(ui->sel_patch), "%s", p->name);
	if (b) {
		ui->sel_pid = b->pid;
		memcpy(ui->sel_comm, b->comm, KLPT_COMM_LEN);
	}
}

/* ------------------------------------------------------------- loop */

int top_screen_run(struct top_config *cfg, struct top_app *app)
{
	struct ui ui = {
		.cfg = cfg,
		.app = app,
		.panel[FOCUS_LOG].kind = PANEL_TAIL,	/* follows the newest */
		.help.kind = PANEL_TEXT,
		.sel_pid = -1,
		.show_log = true,
		.exit_code = TOP_EXIT_OK,
	};
	uint64_t last_draw = 0, next_frame = 0;
	long frames = 0;
	bool dirty = true, rebuild_due = true;
	int ret;

	if (ui_term_setup(&ui))
		return TOP_EXIT_ERROR;
	if (cfg->patch)
		snprintf(ui.sel_patch, sizeof(ui.sel_patch), "%s", cfg->patch);
	if (cfg->readonly && !top_app_is_replay(app))
		ui_message(&ui, false, "read-only: d, f and u are off");
	else if (top_app_is_replay(app))
		ui_message(&ui, false, "replay: space plays/pauses, . steps "
			   "one event, + and - change the speed");
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = top_app_is_replay(app) ? -1 :
			  klpt_session_fd(top_app_session(app)),
			  .events = POLLIN },
		};
		uint64_t now = top_mono_ns() / 1000000;
		int timeout, ch, act = 0;
		bool seeking;

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
		if (top_app_seeking(app))
			timeout = 0;	/* the next slice, once keys are read */
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
			ui_term_end(&ui);
			fprintf(stderr, PROG ": the terminal went away (standard "
				"input hung up)\n");
			top_view_free(&ui.view);
			ui_page_free(&ui);
			return TOP_EXIT_ERROR;
		}
		/* a resize (term.c) is drawn whole at the next frame */
		if (ui_term_winched())
			act |= UI_REDRAW;
		while ((ch = getch()) != ERR) {
			act |= ui_key(&ui, ch);
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
		seeking = top_app_seeking(app);
		/*
		 * A seek goes a slice at a time, keys read and the frame drawn
		 * between slices (q quits, Esc stops it where it got).
		 */
		ret = top_app_process(app, seeking ? SEEK_SLICE_MS :
				      REDRAW_MIN_MS);
		if (ret < 0 && ret != -EINTR) {
			ui_term_end(&ui);
			fprintf(stderr, PROG ": reading events: %s\n",
				strerror(-ret));
			top_view_free(&ui.view);
			ui_page_free(&ui);
			return TOP_EXIT_ERROR;
		}
		if (ret > 0)
			rebuild_due = true;
		if (seeking) {
			act = ui_seek_frame(&ui, !top_app_seeking(app));
			if (act & UI_QUIT)
				break;
			if (act & UI_REBUILD)
				rebuild_due = true;
			dirty = true;
		}
	}
	ui_term_end(&ui);
	top_view_free(&ui.view);
	ui_page_free(&ui);
	return ui.exit_code;
}
