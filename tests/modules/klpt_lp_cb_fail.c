// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch whose pre_patch callback fails
 *
 * Replaces cmdline_proc_show() like klpt_lp_vmlinux, but its vmlinux
 * object's pre_patch callback returns -ENODEV: __klp_enable_patch()
 * cancels the transition it initialised (klp_cancel_transition()), the
 * patch is never enabled and the module's load fails with -ENODEV.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/seq_file.h>

static int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "klpt_lp_cb_fail: patched\n");
	return 0;
}

static int pre_patch(struct klp_object *obj)
{
	pr_info("%s: failing on purpose\n", __func__);
	return -ENODEV;
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

static int __init klpt_lp_cb_fail_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit klpt_lp_cb_fail_exit(void)
{
}

module_init(klpt_lp_cb_fail_init);
module_exit(klpt_lp_cb_fail_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klptrace test: livepatch whose pre_patch callback fails (-ENODEV)");
MODULE_INFO(livepatch, "Y");
