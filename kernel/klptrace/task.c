// SPDX-License-Identifier: GPL-2.0
/*
 * Per-task hooks: every way a task changes its patch state, and every
 * stack check that could not change it.
 *
 * klp_check_and_switch_task() runs under the task's pi_lock and rq lock,
 * klp_update_patch_state() on the exit-to-user and idle paths, and
 * klp_copy_process() under tasklist_lock: the handlers only read the
 * task and emit an event.  No locks, no sleeping, no printk.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/kprobes.h>
#include <linux/livepatch.h>
#include <linux/sched.h>
#include <linux/string.h>
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
	int old_state;
};

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
	d->old_state = READ_ONCE(task->patch_state);
	return 0;
}

static int update_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct update_data *d = (void *)ri->data;
	int new_state = READ_ONCE(d->task->patch_state);
	int via;

	if (new_state == d->old_state)
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
 * Forks in flight.  klp_copy_process() runs before copy_process() can
 * still fail (a fatal signal or a dying pid namespace, checked under
 * siglock after it: bad_fork_cancel_cgroup): the child whose fork event
 * we emitted then never runs, and its pid is freed.  The kernel has no
 * event for that failure, so the copy_process() kretprobe pairs each
 * call with the child klp_copy_process() saw and reports the failure.
 * A kernel hook, not a liveness check in user space: it is exact, it
 * works in a replay, and a freed pid may be reused before a /proc check.
 *
 * A slot belongs to one forking task from copy_process() entry to its
 * return; only that task touches it after the claim, so the claim is
 * the only atomic (no locks: klp_copy_process() runs under
 * tasklist_lock with interrupts off).  copy_process() may sleep, so as
 * many forks may be in flight as the kretprobe has instances.
 */
#define KLPT_MAX_FORKS 64

struct fork_slot {
	struct task_struct *parent;	/* NULL: free */
	pid_t pid, tgid;		/* the child, if reported */
	char comm[TASK_COMM_LEN];
	bool reported;			/* a via=fork event was emitted */
};

static struct fork_slot forks[KLPT_MAX_FORKS];

static struct fork_slot *fork_slot_of_current(void)
{
	int i;

	for (i = 0; i < KLPT_MAX_FORKS; i++)
		if (READ_ONCE(forks[i].parent) == current)
			return &forks[i];
	return NULL;
}

/* copy_process(...): claim a slot for this fork. */
static int copy_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct fork_slot **slot = (void *)ri->data;
	int i;

	for (i = 0; i < KLPT_MAX_FORKS; i++) {
		if (!READ_ONCE(forks[i].parent) &&
		    !cmpxchg(&forks[i].parent, NULL, current)) {
			forks[i].reported = false;
			*slot = &forks[i];
			return 0;
		}
	}
	/*
	 * Full (slots live exactly as long as the kretprobe's instances,
	 * so only if one leaked): a failure of this fork would go
	 * unreported.  Count it where /sys/kernel/klptrace/missed looks.
	 * A racy increment may undercount, never hide, a growth.
	 */
	get_kretprobe(ri)->nmissed++;
	return 1;
}

static int copy_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct fork_slot *slot = *(struct fork_slot **)ri->data;
	void *ret = (void *)regs_return_value(regs);

	if (slot->reported && IS_ERR(ret))
		trace_klp_task_fork_failed(slot->pid, slot->tgid, slot->comm,
					   (int)PTR_ERR(ret));
	/* The slot's fields are read before another task may claim it. */
	smp_store_release(&slot->parent, NULL);
	return 0;
}

/*
 * klp_copy_process(struct task_struct *child): the child takes current's
 * state.  Outside a transition both are KLP_UNDEFINED: nothing to say.
 */
static int fork_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct task_struct *child = (void *)regs_get_kernel_argument(regs, 0);
	int state = READ_ONCE(current->patch_state);
	struct fork_slot *slot;

	if (state == KLP_UNDEFINED)
		return 0;
	trace_klp_task_switch(child, KLP_UNDEFINED, state, KLP_TRACE_VIA_FORK);
	slot = fork_slot_of_current();
	if (slot) {
		slot->pid = child->pid;
		slot->tgid = child->tgid;
		memcpy(slot->comm, child->comm, TASK_COMM_LEN);
		slot->reported = true;
	}
	return 0;
}

static struct klpt_hook hooks[] = {
	{
		.name = "klp_check_and_switch_task",
		.feeds = "klp_task_switch(via=stack_check),klp_task_blocked",
		.type = KLPT_HOOK_KRETPROBE,
		.krp = {
			.entry_handler = check_entry,
			.handler = check_ret,
			.data_size = sizeof(struct check_data),
			.maxactive = 2,
		},
	},
	{
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
	{
		.name = "klp_copy_process",
		.feeds = "klp_task_switch(via=fork)",
		.type = KLPT_HOOK_KPROBE,
		.kp = { .pre_handler = fork_pre },
	},
	{
		.name = "copy_process",
		.feeds = "klp_task_fork_failed",
		.type = KLPT_HOOK_KRETPROBE,
		.krp = {
			.entry_handler = copy_entry,
			.handler = copy_ret,
			.data_size = sizeof(struct fork_slot *),
			.maxactive = KLPT_MAX_FORKS,
		},
	},
};

struct klpt_hook_set klpt_task_hooks = {
	.hooks = hooks,
	.nr = ARRAY_SIZE(hooks),
};
