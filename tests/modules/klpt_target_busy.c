// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch target: a kthread that keeps running (on a CPU) inside the
 * function a livepatch replaces, on demand.
 *
 * The kthread "klpt_spinner" waits (outside any patched function) until
 * 1 is written to the "spin" parameter, then calls klpt_busy_fn() once
 * per such write (the patched version returns at once).  The original
 * klpt_busy_fn() busy-loops until "spin" is cleared, calling
 * cond_resched() often.  On 6.1, cond_resched() does not switch the
 * livepatch state, so the task stays unswitched and a stack check from
 * another CPU finds it running (-EBUSY, "running").
 *
 * About every "nap_ms" milliseconds the loop sleeps ~100 us (still inside
 * klpt_busy_fn()): a voluntary context switch, without which RCU-tasks
 * grace periods (ftrace trampoline freeing on livepatch disable, kprobe
 * optimizer) would wait until "spin" is cleared.  A stack check that
 * happens to run during such a nap, or while the spinner is preempted,
 * reports "sleeping in function klpt_busy_fn" instead of "running".
 *
 * Example:
 *   insmod klpt_target_busy.ko cpu=1
 *   echo 1 > /sys/module/klpt_target_busy/parameters/spin
 *   insmod klpt_lp_busy.ko      # transition stays 1
 *   echo 0 > /sys/module/klpt_target_busy/parameters/spin
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/wait.h>
#include <linux/err.h>

#include "klpt_targets.h"

/* cpu_relax() rounds between two cond_resched() calls. */
#define KLPT_BUSY_ROUNDS	1000

static DECLARE_WAIT_QUEUE_HEAD(klpt_busy_wq);
static struct task_struct *klpt_spinner;

static bool spin;
/* Writes of spin=1 so far; writers are serialized by the param lock. */
static unsigned int klpt_spin_requests;

static int klpt_spin_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_bool(val, kp);

	if (ret)
		return ret;
	if (*(bool *)kp->arg)
		WRITE_ONCE(klpt_spin_requests, klpt_spin_requests + 1);
	wake_up_all(&klpt_busy_wq);
	return 0;
}

static const struct kernel_param_ops klpt_spin_ops = {
	.set = klpt_spin_set,
	.get = param_get_bool,
};

module_param_cb(spin, &klpt_spin_ops, &spin, 0644);
__MODULE_PARM_TYPE(spin, "bool");
MODULE_PARM_DESC(spin, "Make klpt_spinner run klpt_busy_fn() while set (default=0)");

static int cpu = -1;
module_param(cpu, int, 0444);
MODULE_PARM_DESC(cpu, "Bind klpt_spinner to this CPU at load time (default=-1: unbound)");

static unsigned int nap_ms = 1000;
module_param(nap_ms, uint, 0644);
MODULE_PARM_DESC(nap_ms, "Sleep ~100us in klpt_busy_fn() every nap_ms ms so RCU-tasks can progress; 0=never (default=1000)");

static int in_func;
module_param(in_func, int, 0444);
MODULE_PARM_DESC(in_func, "1 while klpt_spinner is in the original klpt_busy_fn()");

static int pid;
module_param(pid, int, 0444);
MODULE_PARM_DESC(pid, "PID of the klpt_spinner kthread");

static unsigned int calls;
module_param(calls, uint, 0444);
MODULE_PARM_DESC(calls, "Number of returns from the original klpt_busy_fn()");

static int impl = KLPT_IMPL_ORIGINAL;
module_param(impl, int, 0444);
MODULE_PARM_DESC(impl, "Implementation of klpt_busy_fn() that ran last: 0=original, 1=patched");

/* Keeps the busy work from being optimized away. */
static unsigned long klpt_busy_sink;

/**
 * klpt_busy_mark_impl() - record which klpt_busy_fn() is running
 * @new_impl: KLPT_IMPL_ORIGINAL or KLPT_IMPL_PATCHED
 */
void klpt_busy_mark_impl(int new_impl)
{
	WRITE_ONCE(impl, new_impl);
}
EXPORT_SYMBOL_GPL(klpt_busy_mark_impl);

/* The function klpt_lp_busy.ko replaces.  Only klpt_spinner calls it. */
noinline void klpt_busy_fn(void)
{
	unsigned long next_nap = jiffies + msecs_to_jiffies(READ_ONCE(nap_ms));
	unsigned long sum = 0;
	unsigned int i;

	klpt_busy_mark_impl(KLPT_IMPL_ORIGINAL);
	WRITE_ONCE(in_func, 1);
	while (READ_ONCE(spin) && !kthread_should_stop()) {
		for (i = 0; i < KLPT_BUSY_ROUNDS; i++) {
			sum += i;
			cpu_relax();
		}
		cond_resched();
		if (READ_ONCE(nap_ms) && time_after_eq(jiffies, next_nap)) {
			usleep_range(100, 200);
			next_nap = jiffies + msecs_to_jiffies(READ_ONCE(nap_ms));
		}
	}
	WRITE_ONCE(klpt_busy_sink, sum);
	WRITE_ONCE(in_func, 0);
	WRITE_ONCE(calls, calls + 1);
}

/* spin=1 was written since klpt_spinner last called klpt_busy_fn(). */
static bool klpt_spin_requested(unsigned int seen)
{
	return READ_ONCE(spin) && READ_ONCE(klpt_spin_requests) != seen;
}

static int klpt_spinner_thread(void *data)
{
	unsigned int seen = 0;

	while (!kthread_should_stop()) {
		/*
		 * Not in klpt_busy_fn(): a transition can switch us here.
		 * One call per write of spin=1: the patched klpt_busy_fn()
		 * returns at once and must not be called again in a loop.
		 */
		wait_event_interruptible(klpt_busy_wq,
					 klpt_spin_requested(seen) ||
					 kthread_should_stop());
		if (kthread_should_stop())
			break;
		if (!klpt_spin_requested(seen))
			continue;
		seen = READ_ONCE(klpt_spin_requests);
		klpt_busy_fn();
	}
	return 0;
}

static int __init klpt_target_busy_init(void)
{
	if (cpu >= 0 && (cpu >= nr_cpu_ids || !cpu_online(cpu))) {
		pr_err("cpu=%d is not an online CPU\n", cpu);
		return -EINVAL;
	}

	klpt_spinner = kthread_create(klpt_spinner_thread, NULL, "klpt_spinner");
	if (IS_ERR(klpt_spinner)) {
		pr_err("cannot create the klpt_spinner kthread: %ld\n",
		       PTR_ERR(klpt_spinner));
		return PTR_ERR(klpt_spinner);
	}
	if (cpu >= 0)
		kthread_bind(klpt_spinner, cpu);
	pid = task_pid_nr(klpt_spinner);
	wake_up_process(klpt_spinner);
	pr_info("klpt_spinner started, pid %d, cpu %d\n", pid, cpu);
	return 0;
}

static void __exit klpt_target_busy_exit(void)
{
	WRITE_ONCE(spin, false);
	wake_up_all(&klpt_busy_wq);
	kthread_stop(klpt_spinner);
	pr_info("klpt_spinner stopped\n");
}

module_init(klpt_target_busy_init);
module_exit(klpt_target_busy_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klptrace test: kthread that runs in a to-be-patched function");
