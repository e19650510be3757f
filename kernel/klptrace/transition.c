// SPDX-License-Identifier: GPL-2.0
/*
 * Transition hooks: init, start, reverse, cancel, force, the retry
 * passes of klp_try_complete_transition() and completion.
 *
 * The core calls every hooked function here with klp_mutex held (the
 * sysfs store, klp_enable_patch() or klp_transition_work_fn() took it),
 * so the state below is only ever touched by one CPU at a time and
 * needs no lock of its own.  The one exception is force_task, read by
 * the task hooks on any CPU.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/kprobes.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/string.h>
#include "klptrace.h"
#include "klp_trace.h"

/* The core's SIGNALS_TIMEOUT: it signals on every 15th retry. */
#define KLPT_SIGNALS_TIMEOUT	15

static struct {
	struct klp_patch *patch;	/* the transition patch we last saw */
	char name[MODULE_NAME_LEN];	/* its name, valid after it is freed */
	int target;
	struct task_struct *force_task;	/* the task inside it, or NULL */
	/*
	 * Bumped as a reverse or a force begins, the two that clear or
	 * switch other tasks' pending flags: read by the task hooks on
	 * any CPU (klpt_flag_epoch()).
	 */
	unsigned int flag_epoch;
	unsigned int retries;		/* our klp_signals_cnt, if unresolved */

	/* the klp_try_complete_transition() pass in progress */
	bool in_pass;
	bool summary;			/* per-task hooks disarmed: summary.c */
	unsigned int pass;
	unsigned int checked;
	unsigned int pending;
} tr = {
	.name = "?",
	.target = KLP_UNDEFINED,
};

static void track(struct klp_patch *patch, int target)
{
	if (patch && patch != tr.patch) {
		tr.patch = patch;
		strscpy(tr.name, patch->mod->name, sizeof(tr.name));
	}
	tr.target = target;
}

/*
 * Catch up with the core's globals: this module may have been loaded in
 * the middle of a transition it did not see start.
 */
static void track_current(void)
{
	struct klp_patch *patch = tr.patch;
	int target = tr.target;

	if (klpt_ksyms.transition_patch)
		patch = READ_ONCE(*klpt_ksyms.transition_patch);
	if (klpt_ksyms.target_state)
		target = READ_ONCE(*klpt_ksyms.target_state);
	track(patch, target);
}

const char *klpt_transition_name(void)
{
	return tr.name;
}

int klpt_transition_target(void)
{
	return tr.target;
}

unsigned int klpt_flag_epoch(void)
{
	return READ_ONCE(tr.flag_epoch);
}

bool klpt_forcing(void)
{
	return READ_ONCE(tr.force_task) == current;
}

/*
 * The pass has checked every task: report it, and the signals the core
 * is about to send (every 15th retry while tasks are pending).  Runs
 * before klp_send_signals() so a signalled task's switch cannot precede
 * the event that explains it.  A summarized pass (first_pass_summary)
 * ends at the return of klp_try_complete_transition(), after the
 * signals: only a retry pass signals, and those are summarized only if
 * the work that arms the per-task hooks has not run for 15 s.
 */
static void end_pass(void)
{
	if (tr.summary)
		klpt_summary_walk(tr.name, tr.target, &tr.checked,
				  &tr.pending);
	trace_klp_transition_pass(tr.name, tr.target, tr.pass, tr.checked,
				  tr.pending);
	if (tr.pending && tr.pass && !(tr.pass % KLPT_SIGNALS_TIMEOUT))
		trace_klp_transition_signal(tr.name, tr.target, tr.pass,
					    tr.pending);
	tr.in_pass = false;
}

/* klp_init_transition(struct klp_patch *patch, int state) */
static int init_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct klp_patch *patch = (void *)regs_get_kernel_argument(regs, 0);
	int target = (int)regs_get_kernel_argument(regs, 1);

	track(patch, target);
	tr.retries = 0;
	tr.in_pass = false;
	trace_klp_transition_init(tr.name, tr.target);
	return 0;
}

/* klp_start_transition(void): also the second half of a reverse. */
static int start_pre(struct kprobe *p, struct pt_regs *regs)
{
	track_current();
	tr.retries = 0;
	trace_klp_transition_start(tr.name, tr.target);
	return 0;
}

/* klp_reverse_transition(void): runs before the core flips the target. */
static int reverse_pre(struct kprobe *p, struct pt_regs *regs)
{
	track_current();
	WRITE_ONCE(tr.flag_epoch, tr.flag_epoch + 1);
	tr.target = !tr.target;
	trace_klp_transition_reverse(tr.name, tr.target);
	return 0;
}

/* klp_cancel_transition(void): reports the target being abandoned. */
static int cancel_pre(struct kprobe *p, struct pt_regs *regs)
{
	track_current();
	trace_klp_transition_cancel(tr.name, tr.target);
	return 0;
}

/*
 * klp_complete_transition(void): the core still has its patch and target.
 * forced is what the core decided (patch->forced), which a force during
 * an enable does not set: see force_ret().
 */
static int complete_pre(struct kprobe *p, struct pt_regs *regs)
{
	track_current();
	if (tr.in_pass)
		end_pass();
	/* first_pass_summary: disarm the per-task hooks for the next one */
	klpt_summary_sync(true);
	trace_klp_transition_complete(tr.name, tr.target,
				      tr.patch && READ_ONCE(tr.patch->forced));
	/* The patch may be freed from here on: keep only its name. */
	tr.patch = NULL;
	return 0;
}

/* klp_force_transition(void) */
static int force_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	track_current();
	WRITE_ONCE(tr.flag_epoch, tr.flag_epoch + 1);
	WRITE_ONCE(tr.force_task, current);
	trace_klp_transition_force(tr.name, tr.target);
	return 0;
}

static void report_forced(struct klp_patch *patch)
{
	if (READ_ONCE(patch->forced))
		trace_klp_patch_forced(patch->mod->name, true);
}

/*
 * Report the patches klp_force_transition() marked forced, read from
 * patch->forced itself.  The core's 6.1 rule (transition.c): target
 * unpatched marks the transition patch; target patched and the
 * transition patch is a replace marks every other patch on klp_patches,
 * including ones stacked after it (an enable of a replace, but also the
 * disable of a replace reversed back to patched, wherever it sits in the
 * list); any other force marks nothing (an enable, or the disable of a
 * non-replace patch reversed to patched).  A flag never goes back to
 * false: a patch forced earlier is reported again, which changes
 * nothing for a consumer.
 *
 * klp_patches is not exported: ksym.c finds it by the name lookup of
 * register_kprobe() (never a call through kallsyms).  Without
 * it nothing is reported (hooks says the symbol is missing): the
 * transition patch's position in the list is not known, so no guess.
 * The caller (force_store()) holds klp_mutex: the list and the flags
 * are stable here.
 */
static void report_forced_all(struct klp_patch *tp)
{
	struct klp_patch *patch;

	if (!klpt_ksyms.patches)
		return;
	list_for_each_entry(patch, klpt_ksyms.patches, list)
		if (patch != tp)
			report_forced(patch);
}

static int force_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct klp_patch *tp = klpt_ksyms.transition_patch ?
			       READ_ONCE(*klpt_ksyms.transition_patch) :
			       tr.patch;

	WRITE_ONCE(tr.force_task, NULL);
	/* Loaded mid-transition without the core's globals: nothing known. */
	if (!tp)
		return 0;
	/* set by this call (unpatch) or by an earlier one, then reversed */
	report_forced(tp);
	if (tr.target == KLP_PATCHED && tp->replace)
		report_forced_all(tp);
	return 0;
}

/* klp_try_complete_transition(void): one pass over all tasks. */
static int pass_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	track_current();
	tr.in_pass = true;
	/* decided here: the hooks change only under klp_mutex, held now */
	tr.summary = klpt_summary_pass();
	tr.pass = klpt_ksyms.signals_cnt ?
		  READ_ONCE(*klpt_ksyms.signals_cnt) : tr.retries;
	tr.checked = 0;
	tr.pending = 0;
	return 0;
}

/*
 * The pass is over.  Normally switch_try_ret() or complete_pre() already
 * reported it; this is the fallback if the last check was not seen, and
 * where a summarized pass that did not complete ends.
 */
static int pass_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (tr.in_pass)
		end_pass();
	if (tr.pending)
		tr.retries++;
	/* first_pass_summary: arm the per-task hooks for the retries */
	klpt_summary_sync(false);
	return 0;
}

/*
 * klp_try_switch_task(struct task_struct *task): counts the pass.  The
 * core checks every thread, then the idle task of each online CPU in
 * order (under cpus_read_lock()), so the last online CPU's idle task is
 * the pass's last check.
 */
static bool last_check_of_pass(struct task_struct *task)
{
	return is_idle_task(task) &&
	       task_cpu(task) == cpumask_last(cpu_online_mask);
}

static int switch_try_entry(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	struct task_struct *task = (void *)regs_get_kernel_argument(regs, 0);
	bool *last = (void *)ri->data;

	tr.checked++;
	*last = last_check_of_pass(task);
	/* Already switched: the core returns true at once, skip the return. */
	if (READ_ONCE(task->patch_state) != tr.target)
		return 0;
	if (*last && tr.in_pass)
		end_pass();
	return 1;
}

static int switch_try_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	bool *last = (void *)ri->data;

	/* bool in %al: the upper bits of the register are undefined. */
	if (!(regs_return_value(regs) & 0xff))
		tr.pending++;
	if (*last && tr.in_pass)
		end_pass();
	return 0;
}

static struct klpt_hook hooks[] = {
	{
		.name = "klp_init_transition",
		.feeds = "klp_transition_init",
		.type = KLPT_HOOK_KPROBE,
		.klp_locked = true,
		.kp = { .pre_handler = init_pre },
	},
	{
		.name = "klp_start_transition",
		/* 6.1: klp_reverse_transition() jumps to this clone. */
		.clone = "klp_start_transition.part.0",
		.feeds = "klp_transition_start",
		.type = KLPT_HOOK_KPROBE,
		.klp_locked = true,
		.kp = { .pre_handler = start_pre },
	},
	{
		.name = "klp_reverse_transition",
		.feeds = "klp_transition_reverse",
		.type = KLPT_HOOK_KPROBE,
		.klp_locked = true,
		.kp = { .pre_handler = reverse_pre },
	},
	{
		.name = "klp_cancel_transition",
		.feeds = "klp_transition_cancel",
		.type = KLPT_HOOK_KPROBE,
		.klp_locked = true,
		.kp = { .pre_handler = cancel_pre },
	},
	{
		.name = "klp_complete_transition",
		.feeds = "klp_transition_complete",
		.type = KLPT_HOOK_KPROBE,
		.klp_locked = true,
		.kp = { .pre_handler = complete_pre },
	},
	{
		.name = "klp_force_transition",
		.feeds = "klp_transition_force,klp_task_switch(via=force),klp_patch_forced",
		.type = KLPT_HOOK_KRETPROBE,
		.klp_locked = true,
		.krp = {
			.entry_handler = force_entry,
			.handler = force_ret,
			.maxactive = 2,
		},
	},
	{
		.name = "klp_try_complete_transition",
		.feeds = "klp_transition_pass,klp_transition_signal",
		.type = KLPT_HOOK_KRETPROBE,
		.klp_locked = true,
		.krp = {
			.entry_handler = pass_entry,
			.handler = pass_ret,
			.maxactive = 2,
		},
	},
	{
		.name = "klp_try_switch_task",
		.feeds = "klp_transition_pass(checked,pending)",
		.type = KLPT_HOOK_KRETPROBE,
		.klp_locked = true,
		.per_task = true,
		.krp = {
			.entry_handler = switch_try_entry,
			.handler = switch_try_ret,
			.data_size = sizeof(bool),
			.maxactive = 2,
		},
	},
};

struct klpt_hook_set klpt_transition_hooks = {
	.hooks = hooks,
	.nr = ARRAY_SIZE(hooks),
};
