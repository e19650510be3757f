// SPDX-License-Identifier: GPL-2.0
/*
 * Per-task hooks: every way a task changes its patch state, and every
 * stack check that could not change it.
 *
 * klp_check_and_switch_task() runs under the task's pi_lock and rq lock,
 * klp_update_patch_state() on the exit-to-user and idle paths,
 * klp_copy_process() under tasklist_lock (a spinning rwlock with
 * interrupts off, or a sleeping one with interrupts on under
 * PREEMPT_RT) and cgroup_cancel_fork() in a failing fork: the handlers
 * only read the tasks and emit an event.  No locks, no sleeping, no
 * printk.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/livepatch.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include "klptrace.h"
#include "klp_trace.h"

struct check_data {
	struct task_struct *task;
	const char **old_name;
};

static int blocked_reason(int err)
{
	switch (err) {
	case -EBUSY:
		return KLP_TRACE_BLOCKED_RUNNING;
	case -EINVAL:
		return KLP_TRACE_BLOCKED_UNRELIABLE_STACK;
	case -EADDRINUSE:
		return KLP_TRACE_BLOCKED_IN_FUNC;
	default:
		return KLP_TRACE_BLOCKED_OTHER;
	}
}

/* klp_check_and_switch_task(struct task_struct *task, void *arg) */
static int check_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct check_data *d = (void *)ri->data;

	d->task = (void *)regs_get_kernel_argument(regs, 0);
	d->old_name = (void *)regs_get_kernel_argument(regs, 1);
	return 0;
}

static int check_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct check_data *d = (void *)ri->data;
	int err = (int)regs_return_value(regs);
	int target = klpt_transition_target();

	if (!err) {
		trace_klp_task_switch(d->task, !target, target,
				      KLP_TRACE_VIA_STACK_CHECK);
		return 0;
	}
	/* The core sets the name only when it found one on the stack. */
	trace_klp_task_blocked(d->task, klpt_transition_name(), target,
			       blocked_reason(err), err,
			       err == -EADDRINUSE ? *d->old_name : "");
	return 0;
}

struct update_data {
	struct task_struct *task;
	int old_state, target;
	unsigned int epoch;
};

/* The state a switch writes now: the core's klp_target_state. */
static int core_target(void)
{
	return klpt_ksyms.target_state ? READ_ONCE(*klpt_ksyms.target_state) :
	       klpt_transition_target();
}

/*
 * klp_update_patch_state(struct task_struct *task): called with the task
 * being current (user return, idle) or from klp_force_transition().
 */
static int update_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct update_data *d = (void *)ri->data;
	struct task_struct *task = (void *)regs_get_kernel_argument(regs, 0);

	/* Without the pending flag the call changes nothing. */
	if (!klp_patch_pending(task))
		return 1;
	d->task = task;
	d->epoch = klpt_flag_epoch();
	d->old_state = READ_ONCE(task->patch_state);
	d->target = core_target();
	return 0;
}

/*
 * The task switched if its state changed.  It switched to the target
 * read at the entry, not to what its state reads now: between the
 * switch and this return the task can be preempted (PREEMPT_RT, or
 * preemption at preempt_enable_notrace()), and the pass that finds it
 * switched can complete the transition and reset it to undefined; its
 * event then comes after klp_transition_complete, with the right to=.
 * Only a reverse or a force, which clear or take other tasks' flags,
 * make the entry's reading unsure (epoch): then the state read now
 * tells, if it is a state a switch writes.
 */
static int update_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct update_data *d = (void *)ri->data;
	int new_state = READ_ONCE(d->task->patch_state);
	int via;

	if (new_state == d->old_state)
		return 0;
	if (klpt_flag_epoch() == d->epoch && d->target != d->old_state &&
	    (d->target == KLP_PATCHED || d->target == KLP_UNPATCHED))
		new_state = d->target;
	else if (new_state != KLP_PATCHED && new_state != KLP_UNPATCHED)
		return 0;
	if (klpt_forcing())
		via = KLP_TRACE_VIA_FORCE;
	else if (is_idle_task(d->task))
		via = KLP_TRACE_VIA_IDLE;
	else
		via = KLP_TRACE_VIA_USER_RETURN;
	trace_klp_task_switch(d->task, d->old_state, new_state, via);
	return 0;
}

/*
 * klp_copy_process(struct task_struct *child): called by copy_process()
 * for every fork, under tasklist_lock, once the child's pid, tgid and
 * PF_KTHREAD are set and before it is on any task list.  The child takes
 * current's state: in a transition that is a switch via fork.
 *
 * Every fork is also announced with klp_task_new, so that a session
 * knows every task and whether it is a kernel thread from the event,
 * also outside a transition.  Why here and not with the kernel's
 * task:task_newtask: this kprobe fires on every fork anyway (the state
 * must be read here), so the event costs one ring-buffer write and no
 * second hook, and it reads tgid and PF_KTHREAD from the child itself,
 * where task_newtask carries neither.  It comes after the fork's switch
 * event, so that a consumer that applies them in order ends with the
 * identity of the new task.
 */
static int fork_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct task_struct *child = (void *)regs_get_kernel_argument(regs, 0);
	int state = READ_ONCE(current->patch_state);

	if (state != KLP_UNDEFINED)
		trace_klp_task_switch(child, KLP_UNDEFINED, state,
				      KLP_TRACE_VIA_FORK);
	trace_klp_task_new(child, state);
	return 0;
}

enum { HOOK_CHECK, HOOK_UPDATE, HOOK_FORK, HOOK_FORK_FAIL, NR_HOOKS };
static struct klpt_hook hooks[NR_HOOKS];

/*
 * cgroup_cancel_fork(struct task_struct *child, struct kernel_clone_args
 * *kargs): copy_process() failed after klp_copy_process() (6.1 fork.c:
 * only its bad_fork_cancel_cgroup label calls it, and both gotos to it
 * follow klp_copy_process(): a dying pid namespace, then a fatal
 * signal, checked under siglock).  The child whose fork event was
 * emitted never runs; its pid is freed after this call, so the event
 * cannot follow a reuse of the pid.  A successful fork never gets here.
 *
 * The fork hook announced every child (klp_task_new), so every such
 * failure is reported.
 *
 * The errno is not an argument: it is rebuilt from the two conditions
 * in the kernel's order.  Both stay true once true, so this is the
 * kernel's value unless the namespace died between its check and this
 * one while a fatal signal was pending (then -ENOMEM for -EINTR).
 */
static int fork_fail_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct task_struct *child = (void *)regs_get_kernel_argument(regs, 0);
	struct pid_namespace *ns = child->nsproxy->pid_ns_for_children;
	int err;

	/* Without the fork hook there was no fork event to take back. */
	if (hooks[HOOK_FORK].status)
		return 0;
	err = READ_ONCE(ns->pid_allocated) & PIDNS_ADDING ? -EINTR : -ENOMEM;
	trace_klp_task_fork_failed(child->pid, child->tgid, child->comm, err);
	return 0;
}

static struct klpt_hook hooks[NR_HOOKS] = {
	[HOOK_CHECK] = {
		.name = "klp_check_and_switch_task",
		.feeds = "klp_task_switch(via=stack_check),klp_task_blocked",
		.type = KLPT_HOOK_KRETPROBE,
		/* only from klp_try_switch_task(), under klp_mutex */
		.klp_locked = true,
		.per_task = true,
		.krp = {
			.entry_handler = check_entry,
			.handler = check_ret,
			.data_size = sizeof(struct check_data),
			.maxactive = 2,
		},
	},
	[HOOK_UPDATE] = {
		.name = "klp_update_patch_state",
		.feeds = "klp_task_switch(via=user_return,idle,force)",
		.type = KLPT_HOOK_KRETPROBE,
		.krp = {
			.entry_handler = update_entry,
			.handler = update_ret,
			.data_size = sizeof(struct update_data),
			/* 0: the kretprobe default, scaled by CPUs */
		},
	},
	[HOOK_FORK] = {
		.name = "klp_copy_process",
		.feeds = "klp_task_switch(via=fork),klp_task_new",
		.type = KLPT_HOOK_KPROBE,
		.kp = { .pre_handler = fork_pre },
	},
	[HOOK_FORK_FAIL] = {
		.name = "cgroup_cancel_fork",
		.feeds = "klp_task_fork_failed",
		.type = KLPT_HOOK_KPROBE,
		.kp = { .pre_handler = fork_fail_pre },
	},
};

struct klpt_hook_set klpt_task_hooks = {
	.hooks = hooks,
	.nr = ARRAY_SIZE(hooks),
};
