// SPDX-License-Identifier: GPL-2.0
/*
 * first_pass_summary=Y: no per-task probe during the first pass of a
 * transition, a summary of it instead.
 *
 * Why: the first pass (klp_try_complete_transition() from the enable or
 * disable itself) checks every task, and on a healthy system switches
 * nearly all of them.  The per-task hooks (klp_try_switch_task,
 * klp_check_and_switch_task) then cost a kretprobe pair and an event
 * per task, ~1200 instructions against the core's ~2300 (see
 * bench/results), far above a 5% budget; no design with a probe hit per
 * task of that pass meets it.  The tasks worth a reason are the ones
 * still blocked after it, which only the retry passes show.
 *
 * So the per-task hooks are registered disarmed (kprobe disabled).  A
 * pass that runs with them disarmed (pass_entry() records it, under
 * klp_mutex) ends with one walk of the task list and the online CPUs'
 * idle tasks, reading each patch_state once: a klp_task_blocked with
 * reason=unknown for every task not at the target, then the pass event
 * with checked = tasks walked and pending = that count.  The switches of
 * that pass (via=stack_check) are not reported: a consumer infers them
 * (every task still at !target and not named by the pass switched; see
 * lib/src/model.c apply_pass()).  If the transition goes on, a work item
 * takes klp_mutex and arms the hooks, so the retry passes (a second
 * later, from the core's transition work, under klp_mutex) report every
 * switch and real reasons; once the transition completes, the work
 * disarms them again for the next first pass.  A late work only means a
 * pass runs in whatever state the hooks are, and reports accordingly.
 *
 * The walk runs in probe context with the core holding klp_mutex (the
 * return of klp_try_complete_transition(), or the entry of
 * klp_complete_transition() when the pass completes): under
 * rcu_read_lock() only, no sleeping, no lock.  It comes after the core's
 * own walk: a task that switched in between (user return, idle) has its
 * own event, and is at the target when read; a task forked in between
 * from a pending parent is pending and named.  The idle tasks are not
 * reachable from a module (idle_task() is not exported, and calling it
 * through kallsyms would be a #CP under IBT, see ksym.c): a kretprobe on
 * idle_task() records the pointers the core itself asks for, for every
 * possible CPU, in every pass before its end (and in init and start).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/kprobes.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include "klptrace.h"
#include "klp_trace.h"

bool klpt_first_pass_summary;
module_param_named(first_pass_summary, klpt_first_pass_summary, bool, 0444);
MODULE_PARM_DESC(first_pass_summary,
		 "No per-task probe in the first pass of a transition: its switches are not reported, its pending tasks are named with reason=unknown; retry passes are traced in full (default N)");

/* Why the mode is off although asked for, NULL while it is on. */
static const char *off_why = "not_set_up";
/* Set under klp_mutex at unload: the work does nothing any more. */
static bool stopped;

/* idle_task(cpu) as the core last asked for it; idle tasks never exit. */
static DEFINE_PER_CPU(struct task_struct *, idle_tasks);

/* idle_task(int cpu) */
static int idle_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	*(int *)ri->data = (int)regs_get_kernel_argument(regs, 0);
	return 0;
}

static int idle_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct task_struct *task = (void *)regs_return_value(regs);
	int cpu = *(int *)ri->data;

	if (cpu >= 0 && cpu < nr_cpu_ids && cpu_possible(cpu) && task &&
	    is_idle_task(task))
		WRITE_ONCE(per_cpu(idle_tasks, cpu), task);
	return 0;
}

static struct klpt_hook hooks[] = {
	{
		.name = "idle_task",
		.feeds = "klp_task_blocked(reason=unknown) of idle tasks",
		.type = KLPT_HOOK_KRETPROBE,
		/*
		 * Not a klp_mutex-only function (ftrace and kgdb call it too),
		 * but registered with those hooks, under klp_mutex, so that it
		 * is in place before any pass can run.  6.1's rethook does not
		 * run the handler of an instance in flight at unregistration.
		 */
		.klp_locked = true,
		.krp = {
			.entry_handler = idle_entry,
			.handler = idle_ret,
			.data_size = sizeof(int),
		},
	},
};

struct klpt_hook_set klpt_summary_hooks = {
	.hooks = hooks,
	.nr = ARRAY_SIZE(hooks),
};

static struct klpt_hook_set *const per_task_sets[] = {
	&klpt_transition_hooks,
	&klpt_task_hooks,
};

/* The i-th registered per-task hook, or NULL past the last one. */
static struct klpt_hook *per_task_at(unsigned int i)
{
	unsigned int s, k;

	for (s = 0; s < ARRAY_SIZE(per_task_sets); s++) {
		for (k = 0; k < per_task_sets[s]->nr; k++) {
			struct klpt_hook *h = &per_task_sets[s]->hooks[k];

			if (h->per_task && !h->status && !i--)
				return h;
		}
	}
	return NULL;
}

static struct kprobe *kp_of(struct klpt_hook *h)
{
	return h->type == KLPT_HOOK_KPROBE ? &h->kp : &h->krp.kp;
}

/*
 * Every registered per-task hook is armed.  Their flags change only
 * under klp_mutex (set_armed()): read with it held, by the core in
 * probe context or by us.
 */
static bool armed(void)
{
	struct klpt_hook *h;
	unsigned int i;

	for (i = 0; (h = per_task_at(i)); i++)
		if (kprobe_disabled(kp_of(h)))
			return false;
	return i > 0;
}

/*
 * Arm or disarm them all, with klp_mutex held: no pass runs, so none
 * is half traced.  Both or neither: a stack-check hook armed in a
 * summarized pass would name its pending tasks twice.  If one cannot
 * follow, the others go back to the state that needs nothing of it:
 * armed hooks must all be armed, a summary needs none armed.
 */
static void set_armed(bool on)
{
	struct klpt_hook *h = NULL;
	unsigned int i;
	int ret = 0;

	for (i = 0; !ret && (h = per_task_at(i)); i++)
		ret = on ? enable_kprobe(kp_of(h)) : disable_kprobe(kp_of(h));
	if (!ret)
		return;
	/* tried again after every pass while it fails: not every time */
	pr_warn_ratelimited("first_pass_summary: cannot %s %s (%d)\n",
			    on ? "arm" : "disarm", h->probed, ret);
	for (i = 0; (h = per_task_at(i)); i++)
		if (on)
			disable_kprobe(kp_of(h));
		else
			enable_kprobe(kp_of(h));
}

static bool transition_running(void)
{
	return klpt_ksyms.transition_patch &&
	       READ_ONCE(*klpt_ksyms.transition_patch);
}

/*
 * Whether main.c registers the per-task hooks disarmed: the mode is
 * asked for and can be had, and no transition runs (loaded in the
 * middle of one, its next pass is a retry: armed).  Called with
 * klp_mutex held.
 */
bool klpt_summary_disarm_at_load(void)
{
	return klpt_first_pass_summary && klpt_ksyms.klp_mutex &&
	       klpt_ksyms.transition_patch && !transition_running() &&
	       !klpt_skipped(hooks[0].name);
}

static struct klpt_hook *transition_hook(const char *name)
{
	unsigned int i;

	for (i = 0; i < klpt_transition_hooks.nr; i++)
		if (!strcmp(klpt_transition_hooks.hooks[i].name, name))
			return &klpt_transition_hooks.hooks[i];
	return NULL;
}

/*
 * After the registration, klp_mutex still held: is the mode on?  It
 * needs klp_mutex (the work's lock), klp_transition_patch (is a
 * transition running), the idle_task hook (the idle tasks) and the pass
 * hook (where the summary is written).  If not, the per-task hooks are
 * armed for good and hooks says why.
 */
void klpt_summary_setup(void)
{
	struct klpt_hook *pass = transition_hook("klp_try_complete_transition");

	if (!klpt_first_pass_summary)
		return;
	if (!klpt_ksyms.klp_mutex)
		off_why = "no_klp_mutex";
	else if (!klpt_ksyms.transition_patch)
		off_why = "no_klp_transition_patch";
	else if (hooks[0].status)
		off_why = "no_idle_task";
	else if (!pass || pass->status)
		off_why = "no_pass_hook";
	else
		off_why = NULL;
	if (off_why) {
		set_armed(true);
		pr_warn("first_pass_summary: off (%s): every pass is traced in full\n",
			off_why);
	}
}

/*
 * No per-task hook could be registered: every pass is summarized, the
 * best there is without them.
 */
bool klpt_summary_every_pass(void)
{
	return !per_task_at(0);
}

/* NULL while the mode is on, else why not (only if it is asked for). */
const char *klpt_summary_off(void)
{
	return off_why;
}

/* pass_entry(), under klp_mutex: is this pass a summarized one? */
bool klpt_summary_pass(void)
{
	return klpt_first_pass_summary && !off_why && !armed();
}

/* For the hooks report: h is a per-task hook disarmed by the mode. */
bool klpt_summary_standby(struct klpt_hook *h)
{
	return klpt_first_pass_summary && !off_why && h->per_task &&
	       !h->status && kprobe_disabled(kp_of(h));
}

/* One task of the walk: named if not at target; 1 if so (pending). */
static unsigned int summarize(struct task_struct *task, const char *patch,
			      int target)
{
	if (READ_ONCE(task->patch_state) == target)
		return 0;
	trace_klp_task_blocked(task, patch, target, KLP_TRACE_BLOCKED_UNKNOWN,
			       0, "");
	return 1;
}

/*
 * End of a summarized pass: see the top of this file.  checked and
 * pending become the walk's counts.
 */
void klpt_summary_walk(const char *patch, int target, unsigned int *checked,
		       unsigned int *pending)
{
	struct task_struct *g, *task;
	unsigned int n = 0, p = 0;
	int cpu;

	rcu_read_lock();
	for_each_process_thread(g, task) {
		n++;
		p += summarize(task, patch, target);
	}
	rcu_read_unlock();
	/* as the core's pass: the idle task of each online CPU */
	for_each_online_cpu(cpu) {
		task = READ_ONCE(per_cpu(idle_tasks, cpu));
		if (!task)
			continue;	/* never asked for: not in the pass */
		n++;
		p += summarize(task, patch, target);
	}
	*checked = n;
	*pending = p;
}

static void summary_work_fn(struct work_struct *work)
{
	mutex_lock(klpt_ksyms.klp_mutex);
	if (!stopped)
		set_armed(transition_running());
	mutex_unlock(klpt_ksyms.klp_mutex);
}

static DECLARE_WORK(summary_work, summary_work_fn);

/*
 * Probe context, the core holding klp_mutex: a pass ended (done: the
 * transition is completing).  The hooks should be armed while the
 * transition goes on, disarmed after it: if they are not, have the work
 * see to it (schedule_work() takes no sleeping lock).
 */
void klpt_summary_sync(bool done)
{
	if (!klpt_first_pass_summary || off_why || READ_ONCE(stopped) ||
	    !per_task_at(0))
		return;
	if (armed() != (!done && transition_running()))
		schedule_work(&summary_work);
}

/* Unload, klp_mutex held: no work changes the hooks from here. */
void klpt_summary_stop(void)
{
	WRITE_ONCE(stopped, true);
}

/*
 * Unload, klp_mutex not held (the work takes it), after the hooks that
 * queue the work are gone: nothing of ours runs after this.
 */
void klpt_summary_flush(void)
{
	cancel_work_sync(&summary_work);
}
