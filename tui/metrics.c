// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A frame as Prometheus metrics (--openmetrics FILE, --listen): the
 * classic text exposition format 0.0.4, which node_exporter's textfile
 * collector reads (Debian bookworm's 1.5 parses *.prom files with the
 * 0.0.4 text parser) and every Prometheus scrapes.  Not OpenMetrics 1.0:
 * its "# EOF" terminator, "info" and "unit" types and counter families
 * named without "_total" are not that parser's.
 *
 * The metrics are the table below, in its order, each family with
 * # HELP and # TYPE before its samples; names carry their unit.  The
 * rules of the values:
 *   - what the session does not know has no sample (a missing series,
 *     never a guessed number, never NaN): a transition's pass, signals
 *     and elapsed time when the session joined it under way, a forced
 *     flag of a module whose patch it never knew, a refcount it could
 *     not read, the blocked counts while a transition's direction is
 *     unknown, a verdict while it is unknown (the verdict "unknown" is
 *     the one-hot sample then);
 *   - klp_patch_replace has no sample on 6.1: the kernel exposes no
 *     replace flag before 6.11 (sysfs "replace") and no klp event
 *     carries it;
 *   - no pid or comm label but in klp_blocker_info, capped at
 *     TOP_METRICS_TOP_BLOCKERS series per patch (their cardinality is
 *     unbounded); the counts are per reason;
 *   - klp_blocked_longest_seconds is the kernel's longest blocked time
 *     only when the session saw every blocker's history (it saw the
 *     transition start and lost nothing); otherwise it has no sample and
 *     klp_blocked_longest_seen_seconds, what this session saw, is a
 *     lower bound (as --json's blocked_s and blocked_s_since_open);
 *   - label values are escaped by top_esc_label() (esc.c): names are
 *     anyone's (comm) or a replay's.
 */
#include <string.h>

#include "klptop.h"

enum metric {
	M_INFO,
	M_EVENTS,
	M_LOST,
	M_HOOKS_ACTIVE,
	M_HOOKS_MISSING,
	M_HOOKS_INACTIVE,
	M_PATCH_ENABLED,
	M_PATCH_TRANSITION,
	M_PATCH_SECONDS,
	M_PATCH_PASS,
	M_PATCH_SIGNALS,
	M_PATCH_FORCED,
	M_PATCH_REPLACE,
	M_PATCH_TASKS,
	M_PATCH_SWITCHED,
	M_BLOCKED,
	M_LONGEST,
	M_LONGEST_SEEN,
	M_BLOCKER_INFO,
	M_MOD_REFCOUNT,
	M_MOD_READY,
	M_MOD_VERDICT,
	M__COUNT
};

/*
 * Every metric klptop exports: name (with its unit), type, help.  The
 * README ("A fleet of hosts") and klptop(8) list the same.
 */
static const struct {
	const char *name, *type, *help;
} metrics[M__COUNT] = {
	[M_INFO] = { "klptrace_info", "gauge",
		"klptop's version, the kernel release and the session's mode "
		"(events, fallback, replay); always 1" },
	[M_EVENTS] = { "klptrace_events_total", "counter",
		"klp events this klptop session handled" },
	[M_LOST] = { "klptrace_events_lost_total", "counter",
		"events the kernel dropped (buffer full) in this session" },
	[M_HOOKS_ACTIVE] = { "klptrace_hooks_active", "gauge",
		"klptrace.ko hooks registered and firing (no sample without "
		"klptrace.ko)" },
	[M_HOOKS_MISSING] = { "klptrace_hooks_missing", "gauge",
		"klptrace.ko hooks not active: not registered or not firing" },
	[M_HOOKS_INACTIVE] = { "klptrace_hooks_inactive", "gauge",
		"klptrace.ko hooks registered but not firing (ftrace off)" },
	[M_PATCH_ENABLED] = { "klp_patch_enabled", "gauge",
		"1 if the patch is enabled (sysfs enabled)" },
	[M_PATCH_TRANSITION] = { "klp_patch_transition", "gauge",
		"1 while a transition of the patch runs (direction patching, "
		"unpatching, or unknown), else 0 with direction none" },
	[M_PATCH_SECONDS] = { "klp_patch_transition_seconds", "gauge",
		"elapsed time of the running transition (no sample if its "
		"start was not seen)" },
	[M_PATCH_PASS] = { "klp_patch_transition_pass", "gauge",
		"the kernel's pass number of the running transition" },
	[M_PATCH_SIGNALS] = { "klp_patch_signals", "gauge",
		"fake signals the running transition sent" },
	[M_PATCH_FORCED] = { "klp_patch_forced", "gauge",
		"1 if the patch was forced: its module can never be unloaded" },
	[M_PATCH_REPLACE] = { "klp_patch_replace", "gauge",
		"1 if the patch is an atomic replace (unknown on 6.1: no "
		"sample)" },
	[M_PATCH_TASKS] = { "klp_patch_transition_tasks", "gauge",
		"tasks the running transition walks" },
	[M_PATCH_SWITCHED] = { "klp_patch_transition_switched_tasks",
		"gauge", "tasks already in the target state (no sample while "
		"some task's state is unknown)" },
	[M_BLOCKED] = { "klp_blocked_tasks", "gauge",
		"tasks not switched yet, by the reason of their last failed "
		"check (unknown: none seen)" },
	[M_LONGEST] = { "klp_blocked_longest_seconds", "gauge",
		"the longest time a pending task has been refused a switch "
		"(no sample unless the session saw the whole transition)" },
	[M_LONGEST_SEEN] = { "klp_blocked_longest_seen_seconds", "gauge",
		"the longest blocked time this session saw (a lower bound)" },
	[M_BLOCKER_INFO] = { "klp_blocker_info", "gauge",
		"the longest blocked tasks, at most 5 per patch; always 1" },
	[M_MOD_REFCOUNT] = { "klp_module_refcount", "gauge",
		"the livepatch module's reference count (/sys/module/M/refcnt)" },
	[M_MOD_READY] = { "klp_module_unload_ready", "gauge",
		"1 if the module can be removed now (verdict ready)" },
	[M_MOD_VERDICT] = { "klp_module_unload_verdict", "gauge",
		"what holds the module, one-hot: ready, enabled, tasks, "
		"transition, not_freed, not_released, refs, forced, unknown" },
};

/* Blocked reasons as labels: every reason has a sample (0 included). */
enum { R_RUNNING, R_SLEEPING, R_UNRELIABLE, R_OTHER, R_UNKNOWN, R__COUNT };
static const char *const reason_labels[R__COUNT] = {
	"running", "sleeping", "unreliable_stack", "other", "unknown",
};

static int reason_index(int reason)
{
	switch (reason) {
	case KLPT_REASON_RUNNING:
		return R_RUNNING;
	case KLPT_REASON_SLEEPING_IN_FUNC:
		return R_SLEEPING;
	case KLPT_REASON_UNRELIABLE_STACK:
		return R_UNRELIABLE;
	case KLPT_REASON_OTHER:
		return R_OTHER;
	}
	return R_UNKNOWN;	/* never checked, or the cause not seen */
}

/* The writer: # HELP and # TYPE once, before a family's first sample. */
struct mw {
	FILE *f;
	int family;		/* the last one whose header went out */
	int nlabels;		/* of the sample being written */
};

static void begin(struct mw *w, enum metric m)
{
	if (w->family != (int)m) {
		fprintf(w->f, "# HELP %s %s\n# TYPE %s %s\n", metrics[m].name,
			metrics[m].help, metrics[m].name, metrics[m].type);
		w->family = m;
	}
	fputs(metrics[m].name, w->f);
	w->nlabels = 0;
}

static void label(struct mw *w, const char *key, const char *value)
{
	fputc(w->nlabels++ ? ',' : '{', w->f);
	fputs(key, w->f);
	fputs("=\"", w->f);
	top_esc_label(w->f, value);
	fputc('"', w->f);
}

static void end_u(struct mw *w, unsigned long long v)
{
	fprintf(w->f, "%s %llu\n", w->nlabels ? "}" : "", v);
}

static void end_s(struct mw *w, uint64_t ns)
{
	fprintf(w->f, "%s %.3f\n", w->nlabels ? "}" : "", (double)ns / 1e9);
}

/* One sample with a patch (or module) label and an integer value. */
static void patch_u(struct mw *w, enum metric m, const char *key,
		    const struct top_patch *p, unsigned long long v)
{
	begin(w, m);
	label(w, key, p->name);
	end_u(w, v);
}

static void tool(struct mw *w, const struct top_view *v,
		 const struct top_app *app, const char *root)
{
	struct top_hooks h;

	begin(w, M_INFO);
	label(w, "version", KLPTOP_VERSION);
	label(w, "kernel", top_app_kernel(app));
	label(w, "mode", top_mode_name(v->mode));
	end_u(w, 1);
	begin(w, M_EVENTS);
	end_u(w, v->events);
	begin(w, M_LOST);
	end_u(w, v->lost);
	/* a replay's hooks are not this host's */
	if (top_app_is_replay(app))
		return;
	top_hooks_read(root, &h);
	if (!h.present)
		return;
	begin(w, M_HOOKS_ACTIVE);
	end_u(w, (unsigned int)h.active);
	begin(w, M_HOOKS_MISSING);
	end_u(w, (unsigned int)(h.total - h.active));
	begin(w, M_HOOKS_INACTIVE);
	end_u(w, (unsigned int)h.inactive);
}

/* A transition whose direction, and so whose pending tasks, are known. */
static bool blockers_known(const struct top_patch *p)
{
	return p->transition && p->phase != KLPT_PHASE_UNKNOWN &&
	       (p->target == KLPT_PATCHED || p->target == KLPT_UNPATCHED);
}

static const char *direction_label(const struct top_patch *p)
{
	if (!p->transition)
		return "none";
	if (!blockers_known(p))
		return "unknown";
	/* pre-patch: sysfs says transition 1 already (no task pending) */
	return p->target == KLPT_PATCHED ? "patching" : "unpatching";
}

/* Per patch: a family at a time (the format wants them grouped). */
static void patches(struct mw *w, const struct top_view *v)
{
	int i, m;

	for (m = M_PATCH_ENABLED; m <= M_PATCH_SWITCHED; m++) {
		for (i = 0; i < v->npatches; i++) {
			const struct top_patch *p = &v->patches[i];

			if (p->module_only && m != M_PATCH_FORCED)
				continue;
			switch (m) {
			case M_PATCH_ENABLED:
				patch_u(w, m, "patch", p, p->enabled);
				break;
			case M_PATCH_TRANSITION:
				begin(w, m);
				label(w, "patch", p->name);
				label(w, "direction", direction_label(p));
				end_u(w, p->transition);
				break;
			case M_PATCH_SECONDS:
				if (!p->transition || !p->elapsed_ns)
					break;
				begin(w, m);
				label(w, "patch", p->name);
				end_s(w, p->elapsed_ns);
				break;
			case M_PATCH_PASS:
				if (p->transition &&
				    p->pass != KLPT_UNKNOWN_COUNT)
					patch_u(w, m, "patch", p, p->pass);
				break;
			case M_PATCH_SIGNALS:
				if (p->transition &&
				    p->signals != KLPT_UNKNOWN_COUNT)
					patch_u(w, m, "patch", p, p->signals);
				break;
			case M_PATCH_FORCED:
				if (p->forced_known)
					patch_u(w, m, "patch", p, p->forced);
				break;
			case M_PATCH_TASKS:
				if (p->transition && p->total)
					patch_u(w, m, "patch", p, p->total);
				break;
			case M_PATCH_SWITCHED:
				if (blockers_known(p) && p->total &&
				    !p->unknown)
					patch_u(w, m, "patch", p, p->switched);
				break;
			default:	/* M_PATCH_REPLACE: never known */
				break;
			}
		}
	}
}

static void blockers(struct mw *w, const struct top_view *v)
{
	int i, k, r;

	for (i = 0; i < v->npatches; i++) {
		const struct top_patch *p = &v->patches[i];
		unsigned int count[R__COUNT] = { 0 };

		if (p->module_only || (p->transition && !blockers_known(p)))
			continue;
		for (k = 0; k <= KLPT_REASON_UNKNOWN; k++)
			count[reason_index(k)] += p->nreason[k];
		for (r = 0; r < R__COUNT; r++) {
			begin(w, M_BLOCKED);
			label(w, "patch", p->name);
			label(w, "reason", reason_labels[r]);
			end_u(w, count[r]);
		}
	}
	for (i = 0; i < v->npatches; i++) {
		const struct top_patch *p = &v->patches[i];

		if (p->module_only || !blockers_known(p) ||
		    p->phase != KLPT_PHASE_STARTED || !p->all_exact)
			continue;
		begin(w, M_LONGEST);
		label(w, "patch", p->name);
		end_s(w, p->longest_ns);
	}
	for (i = 0; i < v->npatches; i++) {
		const struct top_patch *p = &v->patches[i];

		if (p->module_only || !blockers_known(p) ||
		    p->phase != KLPT_PHASE_STARTED)
			continue;
		begin(w, M_LONGEST_SEEN);
		label(w, "patch", p->name);
		end_s(w, p->longest_ns);
	}
	/* top_view_build_top(): the longest blocked first */
	for (i = 0; i < v->npatches; i++) {
		const struct top_patch *p = &v->patches[i];

		for (k = 0; k < p->nblockers && k < TOP_METRICS_TOP_BLOCKERS;
		     k++) {
			const struct top_blocker *b = &p->blockers[k];
			char rank[16], pid[16];

			snprintf(rank, sizeof(rank), "%d", k + 1);
			snprintf(pid, sizeof(pid), "%d", b->pid);
			begin(w, M_BLOCKER_INFO);
			label(w, "patch", p->name);
			label(w, "rank", rank);
			label(w, "pid", pid);
			label(w, "comm", b->comm);
			label(w, "reason", reason_labels[reason_index(b->reason)]);
			label(w, "function", b->func);
			end_u(w, 1);
		}
	}
}

/* Loaded livepatch modules only: after rmmod their series are gone. */
static void modules(struct mw *w, const struct top_view *v)
{
	int i, k;

	for (i = 0; i < v->npatches; i++) {
		const struct top_patch *p = &v->patches[i];

		if (p->module_loaded && p->refcnt >= 0)
			patch_u(w, M_MOD_REFCOUNT, "module", p,
				(unsigned int)p->refcnt);
	}
	for (i = 0; i < v->npatches; i++) {
		const struct top_patch *p = &v->patches[i];

		if (p->module_loaded && p->verdict != KLPT_HOLD_UNKNOWN)
			patch_u(w, M_MOD_READY, "module", p,
				p->verdict == KLPT_READY);
	}
	for (i = 0; i < v->npatches; i++) {
		const struct top_patch *p = &v->patches[i];

		if (!p->module_loaded)
			continue;
		/* the library's names, every verdict (one-hot) */
		for (k = KLPT_READY; k <= KLPT_HOLD_UNKNOWN; k++) {
			begin(w, M_MOD_VERDICT);
			label(w, "module", p->name);
			label(w, "verdict", klpt_verdict_name(k));
			end_u(w, (int)p->verdict == k);
		}
	}
}

void top_metrics_frame(FILE *f, const struct top_view *v,
		       const struct top_app *app, const char *root)
{
	struct mw w = { .f = f, .family = -1 };

	tool(&w, v, app, root);
	patches(&w, v);
	blockers(&w, v);
	modules(&w, v);
}
