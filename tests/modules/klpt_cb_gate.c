// SPDX-License-Identifier: GPL-2.0
/*
 * A gate for livepatch callbacks
 *
 * klpt_cb_gate_wait() blocks its caller until 1 is written to the
 * parameter "open".  klpt_lp_cb_wait's pre_patch callback calls it, so
 * that a test holds an enable between klp_init_transition() and
 * klp_start_transition() as long as it needs.  The gate lives in its own
 * module because the livepatch module's init does not return (and its
 * parameters do not appear in sysfs) before klp_enable_patch() finishes.
 * "waiting" counts the callers inside klpt_cb_gate_wait().
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/completion.h>
#include <linux/atomic.h>
#include <linux/moduleparam.h>

static DECLARE_COMPLETION(gate);
static atomic_t waiting = ATOMIC_INIT(0);

static int open_set(const char *val, const struct kernel_param *kp)
{
	bool open;
	int ret = kstrtobool(val, &open);

	if (ret)
		return ret;
	if (open)
		complete_all(&gate);
	return 0;
}

static int open_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", completion_done(&gate) ? 1 : 0);
}

static const struct kernel_param_ops open_ops = {
	.set = open_set,
	.get = open_get,
};
module_param_cb(open, &open_ops, NULL, 0644);
MODULE_PARM_DESC(open, "Write 1 to let every klpt_cb_gate_wait() caller go (reads 1 once open)");

static int waiting_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&waiting));
}

static const struct kernel_param_ops waiting_ops = {
	.get = waiting_get,
};
module_param_cb(waiting, &waiting_ops, NULL, 0444);
MODULE_PARM_DESC(waiting, "Callers blocked in klpt_cb_gate_wait() now (read-only)");

/*
 * Block until the gate opens.  Killable, so that a stuck test can still
 * end the insmod that waits here: -EINTR then.
 */
int klpt_cb_gate_wait(void)
{
	int ret;

	atomic_inc(&waiting);
	pr_info("waiting for the gate\n");
	ret = wait_for_completion_killable(&gate);
	atomic_dec(&waiting);
	pr_info("gate passed (%d)\n", ret);
	return ret ? -EINTR : 0;
}
EXPORT_SYMBOL_GPL(klpt_cb_gate_wait);

static int __init klpt_cb_gate_init(void)
{
	return 0;
}

static void __exit klpt_cb_gate_exit(void)
{
}

module_init(klpt_cb_gate_init);
module_exit(klpt_cb_gate_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klptrace test: a gate that holds a livepatch callback until a test opens it");
