// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch target: a kthread that sleeps inside the function a livepatch
 * replaces, on demand.
 *
 * The kthread "klpt_sleeper" waits (outside any patched function) until
 * the "block" parameter is set, then calls klpt_sleep_fn(), which sleeps
 * in klpt_sleep_wait_released() until "block" is cleared again.  While it
 * sleeps there, klpt_sleep_fn() is on its stack, so a transition that
 * patches klpt_sleep_fn() (klpt_lp_sleep.ko) cannot switch it.
 *
 * The sleep is interruptible and tolerates spurious wake-ups: the
 * livepatch core wakes pending interruptible kthreads every 15 retries;
 * the thread just re-checks and goes back to sleep.
 *
 * Example:
 *   insmod klpt_target_sleep.ko
 *   echo 1 > /sys/module/klpt_target_sleep/parameters/block
 *   insmod klpt_lp_sleep.ko     # transition stays 1
 *   echo 0 > /sys/module/klpt_target_sleep/parameters/block
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <linux/err.h>

#include "klpt_targets.h"

static DECLARE_WAIT_QUEUE_HEAD(klpt_sleep_wq);
static struct task_struct *klpt_sleeper;
static bool klpt_exiting;

static bool block;
/* Writes of block=0 so far; writers are serialized by the param lock. */
static unsigned int klpt_releases;

static int klpt_block_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_bool(val, kp);

	if (ret)
		return ret;
	if (!*(bool *)kp->arg)
		WRITE_ONCE(klpt_releases, klpt_releases + 1);
	wake_up_all(&klpt_sleep_wq);
	return 0;
}

static const struct kernel_param_ops klpt_block_ops = {
	.set = klpt_block_set,
	.get = param_get_bool,
};

module_param_cb(block, &klpt_block_ops, &block, 0644);
__MODULE_PARM_TYPE(block, "bool");
MODULE_PARM_DESC(block, "Make klpt_sleeper enter and stay in klpt_sleep_fn() while set (default=0)");

static int in_func;
module_param(in_func, int, 0444);
MODULE_PARM_DESC(in_func, "1 while klpt_sleeper sleeps in klpt_sleep_wait_released()");

static int pid;
module_param(pid, int, 0444);
MODULE_PARM_DESC(pid, "PID of the klpt_sleeper kthread");

static unsigned int calls;
module_param(calls, uint, 0444);
MODULE_PARM_DESC(calls, "Number of returns from the original klpt_sleep_fn()");

static int impl = KLPT_IMPL_ORIGINAL;
module_param(impl, int, 0444);
MODULE_PARM_DESC(impl, "Implementation of klpt_sleep_fn() that ran last: 0=original, 1=klpt_lp_sleep, 2=klpt_lp_sleep2");

/*
 * True when klpt_sleep_wait_released() must return: block=0 now, or
 * written since the sleep began (so "echo 0; echo 1" is never missed).
 */
static bool klpt_sleep_released(unsigned int releases)
{
	if (!READ_ONCE(block) || READ_ONCE(klpt_releases) != releases ||
	    READ_ONCE(klpt_exiting))
		return true;
	return (current->flags & PF_KTHREAD) && kthread_should_stop();
}

/**
 * klpt_sleep_wait_released() - sleep until "block" is cleared
 *
 * Sleeps interruptibly until the "block" parameter is false (or 0 was
 * written to it meanwhile), the module is being removed or the calling
 * kthread is asked to stop.  Spurious wake-ups (the livepatch core's
 * kthread kick) only cause a re-check.  Meant for the klpt_sleeper
 * kthread; never patched.
 */
noinline void klpt_sleep_wait_released(void)
{
	unsigned int releases = READ_ONCE(klpt_releases);

	WRITE_ONCE(in_func, 1);
	pr_debug("sleeping, called from %pS\n", __builtin_return_address(0));
	/*
	 * wait_event_interruptible() re-checks the condition after every
	 * wake-up, spurious ones included, and kthreads ignore signals, so
	 * this returns only once released.
	 */
	wait_event_interruptible(klpt_sleep_wq, klpt_sleep_released(releases));
	WRITE_ONCE(in_func, 0);
}
EXPORT_SYMBOL_GPL(klpt_sleep_wait_released);

/**
 * klpt_sleep_mark_impl() - record which klpt_sleep_fn() is running
 * @new_impl: KLPT_IMPL_ORIGINAL or KLPT_IMPL_PATCHED
 */
void klpt_sleep_mark_impl(int new_impl)
{
	WRITE_ONCE(impl, new_impl);
}
EXPORT_SYMBOL_GPL(klpt_sleep_mark_impl);

/* The function klpt_lp_sleep.ko replaces. */
noinline void klpt_sleep_fn(void)
{
	klpt_sleep_mark_impl(KLPT_IMPL_ORIGINAL);
	klpt_sleep_wait_released();
	/* Work after the call: no sibling call, this frame stays on the stack. */
	WRITE_ONCE(calls, calls + 1);
}

static int klpt_sleeper_thread(void *data)
{
	while (!kthread_should_stop()) {
		/* Not in klpt_sleep_fn(): a transition can switch us here. */
		wait_event_interruptible(klpt_sleep_wq,
					 READ_ONCE(block) || kthread_should_stop());
		if (kthread_should_stop())
			break;
		if (READ_ONCE(block))
			klpt_sleep_fn();
	}
	return 0;
}

static int __init klpt_target_sleep_init(void)
{
	klpt_sleeper = kthread_run(klpt_sleeper_thread, NULL, "klpt_sleeper");
	if (IS_ERR(klpt_sleeper)) {
		pr_err("cannot start the klpt_sleeper kthread: %ld\n",
		       PTR_ERR(klpt_sleeper));
		return PTR_ERR(klpt_sleeper);
	}
	pid = task_pid_nr(klpt_sleeper);
	pr_info("klpt_sleeper started, pid %d\n", pid);
	return 0;
}

static void __exit klpt_target_sleep_exit(void)
{
	WRITE_ONCE(block, false);
	WRITE_ONCE(klpt_exiting, true);
	wake_up_all(&klpt_sleep_wq);
	kthread_stop(klpt_sleeper);
	pr_info("klpt_sleeper stopped\n");
}

module_init(klpt_target_sleep_init);
module_exit(klpt_target_sleep_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klptrace test: kthread that sleeps in a to-be-patched function");
