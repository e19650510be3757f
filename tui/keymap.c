// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The screen's keys, htop style: a table (keymap[]) maps each key to an
 * action, which returns what must happen next (redraw, rebuild the view,
 * quit); no switch in the loop.  Prompts (y/N, typed confirmation, the
 * filter, a module's path) and the overlays (help, task details) take the
 * keys while they are open.  The help lives here too, next to the map it
 * describes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui.h"

static const char *const help_lines[] = {
	"  ?  h  F1       this help; Up Down PgUp PgDn scroll it, any other",
	"                 key closes it",
	"  q  F10         quit",
	"  Up Down  k j   move in the focused panel; PgUp PgDn Home End",
	"  Tab  S-Tab     next / previous panel",
	"  Enter  F3      the selected patch's page (patch panel) or",
	"                 the selected blocker's details",
	"  /  F2          filter the blockers as you type (pid, command,",
	"                 function); Enter keeps it, Ctrl-U empties it,",
	"                 Esc clears it",
	"  F6  <  >       choose the column the blockers are sorted by",
	"                 (its header marked v: largest first, ^: smallest)",
	"  s              sort by the next column   r  reverse this sort",
	"  l  F4          show / hide the event log",
	"  p  F5          pause the screen (events are still read)",
	"  Ctrl-L         draw the whole screen again",
	"  d  F7          disable the selected patch (asks y/N)",
	"  f  F8          force its transition (type its name; a forced",
	"                 patch's module can never be unloaded)",
	"  u  F9          unload its module when READY",
	"  L              load a livepatch module (asks for its path)",
	"  replay:  space play/pause   + -  speed   .  one event",
	"           , ]  next pass   [  previous   } {  transition",
	"           Home End  start, end   g  go to a time",
	"           (a jump shows how far it is; Esc stops it there)",
	"",
	"UNLOAD says what holds a patch module: ENABLED, TASKS,",
	"TRANSITION, NOT FREED, NOT RELEASED, REFS, FORCED (never).",
	"",
	"The short column headers (klptop --help: every field):",
};

#define N_HELP ((int)(sizeof(help_lines) / sizeof(*help_lines)))

/*
 * The legend of the short headers, after help_lines: the field table's
 * own help (fields.c), wrapped once, so that it says what --help says.
 */
static struct {
	char *text;
	const char *line[64];
	int n;
} legend;

static void legend_build(void)
{
	size_t size;
	FILE *f;
	char *s;

	if (legend.text)
		return;
	f = open_memstream(&legend.text, &size);
	if (!f)
		return;		/* the help without it: nothing to say */
	top_fields_legend(f, 76);
	if (fclose(f) || !legend.text) {
		free(legend.text);
		legend.text = NULL;
		return;
	}
	for (s = legend.text; *s && legend.n < 64; legend.n++) {
		legend.line[legend.n] = s;
		s += strcspn(s, "\n");
		if (*s)
			*s++ = '\0';
	}
}

static void help_row(struct ui *ui, int idx, int y, bool sel)
{
	(void)sel;
	ui_put(ui, y, 1, 0, A_NORMAL, "%s", idx < N_HELP ? help_lines[idx] :
	       legend.line[idx - N_HELP]);
}

void ui_draw_help(struct ui *ui)
{
	struct panel *p = &ui->help;

	erase();
	legend_build();
	p->n = N_HELP + legend.n;
	p->rows = ui->rows - 2;
	ui_put(ui, 0, 1, 0, A_BOLD, "klptop keys (klptop --help for the "
	       "whole manual)");
	panel_draw(ui, p, 1, help_row);
	panel_fit(p);
	ui_put(ui, ui->rows - 1, 0, ui->cols, ui_attr(ui, C_HEADER),
	       " %s", p->top + p->rows < p->n ?
	       "more below: Down or PgDn scrolls; any other key closes" :
	       "any key closes the help");
}

/* The sort menu's items: the blocker columns, as enum top_sort. */
static void sort_row(struct ui *ui, int idx, int y, bool sel)
{
	ui_put(ui, y, 0, 16, sel ? ui_attr(ui, C_SELECTED) : A_NORMAL,
	       " %s", top_sort_name(idx));
}

void ui_draw_sort_menu(struct ui *ui, int y, int rows)
{
	struct panel *p = &ui->sort_menu;
	int i;

	p->n = TOP_SORT__COUNT;
	p->rows = rows - 1;
	ui_put(ui, y, 0, 16, ui_attr(ui, C_TITLE), " Sort by");
	for (i = 1; i < rows; i++)
		ui_put(ui, y + i, 0, 16, A_NORMAL, "%s", "");
	panel_draw(ui, p, y + 1, sort_row);
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
	if (!panel_move(&ui->panel[ui->focus], delta, absolute))
		return 0;
	if (ui->focus == FOCUS_LOG)
		return UI_REDRAW;
	if (ui->focus == FOCUS_PATCHES)
		ui->panel[FOCUS_BLOCKERS].sel = 0;
	ui_remember(ui);
	return ui->focus == FOCUS_PATCHES ? UI_REBUILD : UI_REDRAW;
}

static int page(const struct ui *ui)
{
	return panel_page(&ui->panel[ui->focus]);
}

static int key_up(struct ui *ui) { return move_sel(ui, -1, false); }
static int key_down(struct ui *ui) { return move_sel(ui, 1, false); }
static int key_pgup(struct ui *ui) { return move_sel(ui, -page(ui), false); }
static int key_pgdn(struct ui *ui) { return move_sel(ui, page(ui), false); }

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
	const struct top_blocker *b = ui_selected_blocker(ui);
	const struct top_patch *p = ui_selected_patch(ui);

	if (ui->focus == FOCUS_PATCHES) {
		if (!p) {
			ui_message(ui, false, "no patch to show");
			return UI_REDRAW;
		}
		ui_page_open(ui, p->name);
		return UI_REDRAW;
	}

	if (!b) {
		ui_message(ui, false, "no blocker selected (Tab moves to the "
			   "blocker panel)");
		return UI_REDRAW;
	}
	ui->detail_pid = b->pid;
	memcpy(ui->detail_comm, b->comm, KLPT_COMM_LEN);
	ui->detail_scroll = 0;
	ui->overlay = OVERLAY_DETAIL;
	return UI_REDRAW;
}

/* The filter as typed so far applies at once (htop's incremental one). */
static int set_filter(struct ui *ui, const char *filter)
{
	snprintf(ui->filter, sizeof(ui->filter), "%s", filter);
	ui->panel[FOCUS_BLOCKERS].sel = 0;
	ui->sel_pid = -1;
	return UI_REBUILD;
}

static int key_filter(struct ui *ui)
{
	ui->prompt = PROMPT_FILTER;
	ui->input[0] = '\0';
	return set_filter(ui, "");
}

/*
 * A new sort column sorts its own way (longest blocked first, pids up):
 * r reverses only the column it was pressed on, as in htop.
 */
static int sort_by(struct ui *ui, enum top_sort s)
{
	if (s != ui->cfg->sort)
		ui->cfg->sort_reverse = false;
	ui->cfg->sort = s;
	ui_message(ui, false, "blockers sorted by %s%s", top_sort_name(s),
		   ui->cfg->sort_reverse ? ", reversed" : "");
	return UI_REBUILD;
}

static int key_sort(struct ui *ui)
{
	return sort_by(ui, (ui->cfg->sort + 1) % TOP_SORT__COUNT);
}

static int key_sort_menu(struct ui *ui)
{
	ui->sort_menu.sel = ui->cfg->sort;
	ui->overlay = OVERLAY_SORT;
	ui_message(ui, false, "sort the blockers by: Up/Down choose, Enter "
		   "sorts, Esc cancels");
	return UI_REDRAW;
}

static int key_reverse(struct ui *ui)
{
	ui->cfg->sort_reverse = !ui->cfg->sort_reverse;
	return sort_by(ui, ui->cfg->sort);
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
	ui_message(ui, false, ui->paused ? "paused: the screen is frozen, "
		   "events are still read (p resumes)" : "resumed");
	return UI_REBUILD;
}

/* Read-only (a replay, not root, --readonly): says that what is off. */
static bool refused_readonly(struct ui *ui, const char *what)
{
	if (ui->cfg->readonly)
		ui_message(ui, true, "read-only (%s): %s is off",
			   top_app_is_replay(ui->app) ? "a replay" :
			   geteuid() ? "not root" : "--readonly", what);
	return ui->cfg->readonly;
}

/* The patch an action is for, or NULL with a message saying why not. */
static const struct top_patch *action_patch(struct ui *ui, const char *what)
{
	const struct top_patch *p = ui_selected_patch(ui);

	if (refused_readonly(ui, what))
		return NULL;
	if (!p)
		ui_message(ui, true, "no patch selected");
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
		ui_message(ui, false, "%s is already disabled", p->name);
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
		ui_message(ui, false, "%s is not in transition: nothing to "
			   "force", p->name);
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
		ui_message(ui, false, "%s is being unloaded (initstate going)",
			   p->name);
		return UI_REDRAW;
	}
	if (p->verdict != KLPT_READY) {
		ui_message(ui, true, "%s cannot be unloaded: %s: %s", p->name,
			   top_verdict_label(p->verdict), p->why);
		return UI_REDRAW;
	}
	snprintf(name, sizeof(name), "%s", p->name);
	ret = klpt_module_unload(top_app_session(ui->app), name, why,
				 sizeof(why));
	if (ret == -EBUSY && module_going(ui, name))
		ui_message(ui, false, "%s is being unloaded (initstate going)",
			   name);
	else if (ret == -EBUSY)
		ui_message(ui, true, "%s cannot be unloaded: %s", name, why);
	else if (ret)
		ui_message(ui, true, "unloading %s failed: %s", name,
			   strerror(-ret));
	else
		ui_message(ui, false, "%s: unloaded", name);
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
		ui_message(ui, false, "end of the recording");
	return UI_REBUILD;
}

/*
 * A replay's jump, and what it says when there is nowhere to go (none:
 * ret 0) or when a forward step found nothing before the end (at_end):
 * at once, or once the seek it started is over (ui_seek_frame()).
 */
static int seeked(struct ui *ui, int ret, const char *none,
		  const char *at_end)
{
	ui->seek_none = NULL;
	if (ret < 0)
		ui_message(ui, true, "replaying from the start failed: %s",
			   strerror(-ret));
	else if (ret == 0 && none)
		ui_message(ui, false, "%s", none);
	else if (top_app_seeking(ui->app))
		ui->seek_none = at_end;
	else if (at_end && top_app_ended(ui->app))
		ui_message(ui, false, "%s", at_end);
	ui->paused = false;
	return UI_REBUILD;
}

/* A step relative to what is shown: after a seek under way, not in it. */
static bool relative_step(int ch)
{
	return ch && strchr("[]{},.", ch);
}

int ui_seek_frame(struct ui *ui, bool ended)
{
	int pct = top_app_seek_progress(ui->app), act = 0, i;

	if (ended) {
		ui->msg[0] = '\0';
		if (ui->seek_none && top_app_ended(ui->app))
			ui_message(ui, false, "%s", ui->seek_none);
		ui->seek_none = NULL;
		/* the steps typed meanwhile, until one seeks again */
		while (ui->nseek_keys && !top_app_seeking(ui->app)) {
			int ch = ui->seek_keys[0];

			for (i = 1; i < ui->nseek_keys; i++)
				ui->seek_keys[i - 1] = ui->seek_keys[i];
			ui->nseek_keys--;
			act |= ui_key(ui, ch);
		}
		return act;
	}
	if (pct >= 0)
		ui_message(ui, false, "seeking %d%% (Esc stops it here)", pct);
	else
		ui_message(ui, false, "seeking: at +%.3fs (Esc stops it here)",
			   (double)(top_app_replay_last(ui->app) -
				    top_app_replay_start(ui->app)) / 1e9);
	return 0;
}

/* Home and End: a replay's start and end; else the focused panel's. */
static int key_home(struct ui *ui)
{
	if (!top_app_is_replay(ui->app))
		return move_sel(ui, -1, true);
	return seeked(ui, top_app_seek(ui->app, 0), NULL, NULL);
}

static int key_end(struct ui *ui)
{
	if (!top_app_is_replay(ui->app))
		return move_sel(ui, 1, true);
	return seeked(ui, top_app_seek(ui->app, UINT64_MAX), NULL, NULL);
}

static int key_goto(struct ui *ui)
{
	if (!top_app_is_replay(ui->app))
		return 0;
	ui->input[0] = '\0';
	ui->prompt = PROMPT_GOTO;
	return UI_REDRAW;
}

static int jump(struct ui *ui, int kind, int dir)
{
	const char *none = dir > 0 ? "end of the recording" :
			   "start of the recording";

	if (!top_app_is_replay(ui->app))
		return 0;
	return seeked(ui, top_app_seek_mark(ui->app, kind, dir), none,
		      dir > 0 ? none : NULL);
}

static int key_pass_next(struct ui *ui)
{
	return jump(ui, TOP_SEEK_PASS, 1);
}

static int key_pass_prev(struct ui *ui)
{
	return jump(ui, TOP_SEEK_PASS, -1);
}

static int key_tr_next(struct ui *ui)
{
	return jump(ui, TOP_SEEK_TRANSITION, 1);
}

static int key_tr_prev(struct ui *ui)
{
	return jump(ui, TOP_SEEK_TRANSITION, -1);
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
	{ 's', key_sort }, { 'r', key_reverse },
	{ KEY_F(6), key_sort_menu }, { '<', key_sort_menu },
	{ '>', key_sort_menu },
	{ 'l', key_log }, { KEY_F(4), key_log },
	{ 'p', key_pause }, { KEY_F(5), key_pause },
	{ 'd', key_disable }, { KEY_F(7), key_disable },
	{ 'f', key_force }, { KEY_F(8), key_force },
	{ 'u', key_unload }, { KEY_F(9), key_unload },
	{ 'L', key_load },
	{ ' ', key_play }, { '.', key_step }, { ',', key_pass_next },
	{ ']', key_pass_next }, { '[', key_pass_prev },
	{ '}', key_tr_next }, { '{', key_tr_prev }, { 'g', key_goto },
	{ '+', key_faster }, { '=', key_faster }, { '-', key_slower },
};

static bool is_enter(int ch)
{
	return ch == '\n' || ch == '\r' || ch == KEY_ENTER;
}

/* Text input of the filter, force and load prompts; true when done. */
static bool edit_input(struct ui *ui, int ch)
{
	size_t len = strlen(ui->input);

	if (ch == UI_CTRL('u')) {
		ui->input[0] = '\0';
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (len)
			ui->input[len - 1] = '\0';
	} else if (ch >= 0x20 && ch < 0x7f && len < sizeof(ui->input) - 1) {
		ui->input[len] = (char)ch;
		ui->input[len + 1] = '\0';
	}
	return is_enter(ch);
}

/*
 * g's answer: seconds from the replay's start ("1.5", "+1.5": the event
 * log's times), or start / end.
 */
static int goto_time(struct ui *ui)
{
	const char *in = ui->input[0] == '+' ? ui->input + 1 : ui->input;
	char *end;
	double sec;

	if (!strcmp(in, "end"))
		return seeked(ui, top_app_seek(ui->app, UINT64_MAX), NULL, NULL);
	if (!strcmp(in, "start"))
		return seeked(ui, top_app_seek(ui->app, 0), NULL, NULL);
	sec = strtod(in, &end);
	if (!*in || *end || sec < 0 || sec > 1e9) {
		ui_message(ui, true, "not a time: %s (seconds from the start, "
			   "start or end)", ui->input);
		return UI_REDRAW;
	}
	return seeked(ui, top_app_seek_from_start(ui->app,
						  (uint64_t)(sec * 1e9)),
		      NULL, NULL);
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
			ui_message(ui, false, "filter cleared");
			return UI_REBUILD;
		}
		ui_message(ui, false, "cancelled");
		return UI_REDRAW;
	}
	switch (pr) {
	case PROMPT_FILTER:
		if (edit_input(ui, ch))
			ui->prompt = PROMPT_NONE;
		return strcmp(ui->filter, ui->input) ?
		       set_filter(ui, ui->input) : UI_REDRAW;
	case PROMPT_DISABLE:
		ui->prompt = PROMPT_NONE;
		if (ch != 'y' && ch != 'Y') {
			ui_message(ui, false, "not disabled");
			return UI_REDRAW;
		}
		ret = klpt_patch_disable(s, ui->prompt_patch);
		if (ret == -EINVAL)
			ui_message(ui, false, "%s is already disabled",
				   ui->prompt_patch);
		else if (ret)
			ui_message(ui, true, "disabling %s failed: %s",
				   ui->prompt_patch, ret != -EBUSY ?
				   strerror(-ret) :
				   top_busy_text(busy, sizeof(busy), s));
		else
			ui_message(ui, false, "%s: disabled; watch the unpatch "
				   "transition and UNLOAD", ui->prompt_patch);
		return UI_REBUILD;
	case PROMPT_FORCE:
		if (!edit_input(ui, ch))
			return UI_REDRAW;
		ui->prompt = PROMPT_NONE;
		if (strcmp(ui->input, ui->prompt_patch)) {
			ui_message(ui, false, "not forced (the name did not "
				   "match)");
			return UI_REDRAW;
		}
		ret = klpt_patch_force(s, ui->prompt_patch);
		if (ret)
			ui_message(ui, true, "forcing %s failed: %s",
				   ui->prompt_patch, ret == -EINVAL ?
				   "not in transition any more" :
				   strerror(-ret));
		else
			ui_message(ui, true, "%s: forced", ui->prompt_patch);
		return UI_REBUILD;
	case PROMPT_LOAD:
		if (!edit_input(ui, ch))
			return UI_REDRAW;
		ui->prompt = PROMPT_NONE;
		if (!ui->input[0]) {
			ui_message(ui, false, "nothing loaded (no path)");
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
	case PROMPT_GOTO:
		if (!edit_input(ui, ch))
			return UI_REDRAW;
		ui->prompt = PROMPT_NONE;
		return goto_time(ui);
	case PROMPT_NONE:
		break;
	}
	return 0;
}

bool ui_closes(int ch)
{
	return ch == 27 || ch == 'q' || ch == KEY_LEFT || ch == KEY_F(3) ||
	       is_enter(ch);
}

static int sort_menu_key(struct ui *ui, int ch)
{
	if (panel_key(&ui->sort_menu, ch))
		return UI_REDRAW;
	ui->overlay = OVERLAY_NONE;
	if (is_enter(ch) || ch == KEY_F(6))
		return sort_by(ui, ui->sort_menu.sel);
	ui_message(ui, false, "sort not changed");
	return UI_REDRAW;
}

static int overlay_key(struct ui *ui, int ch)
{
	if (ui->overlay == OVERLAY_PAGE)
		return ui_page_key(ui, ch);
	if (ui->overlay == OVERLAY_SORT)
		return sort_menu_key(ui, ch);
	if (ui->overlay == OVERLAY_HELP) {
		if (!panel_key(&ui->help, ch))
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
	}
	if (ui_closes(ch)) {
		ui->overlay = OVERLAY_NONE;
		return UI_REDRAW;
	}
	return 0;
}

int ui_key(struct ui *ui, int ch)
{
	size_t i;

	/* whatever is open: the terminal changed, or was written over */
	if (ch == KEY_RESIZE || ch == UI_CTRL('l')) {
		ui_term_repaint();
		return UI_REDRAW;
	}
	if (ui->prompt != PROMPT_NONE)
		return prompt_key(ui, ch);
	if (ui->overlay != OVERLAY_NONE)
		return overlay_key(ui, ch);
	if (top_app_seeking(ui->app) && relative_step(ch)) {
		if (ui->nseek_keys < (int)(sizeof(ui->seek_keys) /
					   sizeof(*ui->seek_keys)))
			ui->seek_keys[ui->nseek_keys++] = ch;
		return 0;
	}
	if (ch == 27 && top_app_seeking(ui->app)) {
		top_app_seek_cancel(ui->app);
		ui->seek_none = NULL;
		ui->nseek_keys = 0;
		ui_message(ui, false, "seek stopped at +%.3fs",
			   (double)(top_app_replay_last(ui->app) -
				    top_app_replay_start(ui->app)) / 1e9);
		return UI_REBUILD;
	}
	ui->msg[0] = '\0';
	ui_count(ui);	/* the log grew since the last frame */
	for (i = 0; i < sizeof(keymap) / sizeof(*keymap); i++)
		if (keymap[i].key == ch)
			return keymap[i].fn(ui);
	return 0;
}
