// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch target: user tasks that sleep inside the function a livepatch
 * replaces, in a restartable system call.
 *
 * Reading /proc/klpt_read ends up in klpt_read_proc_read(), which sleeps
 * interruptibly while the "hold" parameter is set, then returns
 * "unpatched\n" (once; the next read at that offset returns EOF at once).
 * A reader sleeping there blocks a transition that patches the function
 * (klpt_lp_read.ko) until the livepatch core's fake signal interrupts it:
 * the handler then returns -ERESTARTSYS, the task switches on its way back
 * to user space and the read restarts transparently in the new function,
 * so `cat /proc/klpt_read` prints "patched\n".
 *
 * Example:
 *   insmod klpt_target_read.ko
 *   cat /proc/klpt_read &       # sleeps, readers=1
 *   insmod klpt_lp_read.ko      # transition stays 1 until the fake signal
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/proc_fs.h>
#include <linux/wait.h>

#include "klpt_targets.h"

#define KLPT_READ_NAME	"klpt_read"

static DECLARE_WAIT_QUEUE_HEAD(klpt_read_wq);
static struct proc_dir_entry *klpt_read_pde;
static bool klpt_exiting;

static bool hold = true;

static int klpt_hold_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_bool(val, kp);

	if (!ret)
		wake_up_all(&klpt_read_wq);
	return ret;
}

static const struct kernel_param_ops klpt_hold_ops = {
	.set = klpt_hold_set,
	.get = param_get_bool,
};

module_param_cb(hold, &klpt_hold_ops, &hold, 0644);
__MODULE_PARM_TYPE(hold, "bool");
MODULE_PARM_DESC(hold, "Make readers of /proc/klpt_read sleep in klpt_read_proc_read() while set (default=1)");

static atomic_t readers = ATOMIC_INIT(0);

static int klpt_readers_set(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static int klpt_readers_get(char *buffer, const struct kernel_param *kp)
{
	return scnprintf(buffer, PAGE_SIZE, "%d\n", atomic_read(kp->arg));
}

static const struct kernel_param_ops klpt_readers_ops = {
	.set = klpt_readers_set,
	.get = klpt_readers_get,
};

module_param_cb(readers, &klpt_readers_ops, &readers, 0444);
__MODULE_PARM_TYPE(readers, "int");
MODULE_PARM_DESC(readers, "Number of tasks sleeping in klpt_read_proc_read()");

static bool klpt_read_released(void)
{
	return !READ_ONCE(hold) || READ_ONCE(klpt_exiting);
}

/* The function klpt_lp_read.ko replaces: the proc_read of /proc/klpt_read. */
noinline ssize_t klpt_read_proc_read(struct file *file, char __user *buf,
				     size_t count, loff_t *ppos)
{
	static const char text[] = "unpatched\n";
	ssize_t ret;

	/* Already read: EOF, without sleeping again. */
	if (*ppos >= (loff_t)sizeof(text) - 1)
		return 0;

	atomic_inc(&readers);
	/* Interrupted (a signal, or the livepatch core's fake one): restart. */
	if (wait_event_interruptible(klpt_read_wq, klpt_read_released()))
		ret = -ERESTARTSYS;
	else
		ret = simple_read_from_buffer(buf, count, ppos, text,
					      sizeof(text) - 1);
	atomic_dec(&readers);
	return ret;
}

static const struct proc_ops klpt_read_proc_ops = {
	.proc_read = klpt_read_proc_read,
	.proc_lseek = default_llseek,
};

static int __init klpt_target_read_init(void)
{
	klpt_read_pde = proc_create(KLPT_READ_NAME, 0444, NULL,
				    &klpt_read_proc_ops);
	if (!klpt_read_pde) {
		pr_err("cannot create /proc/%s\n", KLPT_READ_NAME);
		return -ENOMEM;
	}
	return 0;
}

static void __exit klpt_target_read_exit(void)
{
	/* Release every sleeper: proc_remove() waits for running handlers. */
	WRITE_ONCE(hold, false);
	WRITE_ONCE(klpt_exiting, true);
	wake_up_all(&klpt_read_wq);
	proc_remove(klpt_read_pde);
}

module_init(klpt_target_read_init);
module_exit(klpt_target_read_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klptrace test: /proc read handler that sleeps in a to-be-patched function");
