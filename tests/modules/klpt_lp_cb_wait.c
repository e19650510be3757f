// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch whose pre_patch callback waits at a gate
 *
 * Replaces cmdline_proc_show() like klpt_lp_vmlinux.  Its vmlinux
 * object's pre_patch callback blocks in klpt_cb_gate_wait() (module
 * klpt_cb_gate, load it first) until the test writes 1 to
 * /sys/module/klpt_cb_gate/parameters/open: meanwhile the enable sits
 * between klp_init_transition() and klp_start_transition() (sysfs:
 * enabled 0, transition 1; every task's patch_state 0), and insmod does
 * not return.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/seq_file.h>

int klpt_cb_gate_wait(void);

static int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "klpt_lp_cb_wait: patched\n");
	return 0;
}

static int pre_patch(struct klp_object *obj)
{
	return klpt_cb_gate_wait();
}

static struct klp_func funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = livepatch_cmdline_proc_show,
	}, { }
};

static struct klp_object objs[] = {
	{
		/* NULL name: vmlinux */
		.name = NULL,
		.funcs = funcs,
		.callbacks = {
			.pre_patch = pre_patch,
		},
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init klpt_lp_cb_wait_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit klpt_lp_cb_wait_exit(void)
{
}

module_init(klpt_lp_cb_wait_init);
module_exit(klpt_lp_cb_wait_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klptrace test: livepatch whose pre_patch callback waits at klpt_cb_gate");
MODULE_INFO(livepatch, "Y");
