// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch for vmlinux
 *
 * Replaces cmdline_proc_show() (fs/proc/cmdline.c), so that
 * `cat /proc/cmdline` prints "klpt_lp_vmlinux: patched" while the patch
 * is active: ground truth for the tests.  Needs no target module.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/seq_file.h>

static int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "klpt_lp_vmlinux: patched\n");
	return 0;
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
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init klpt_lp_vmlinux_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit klpt_lp_vmlinux_exit(void)
{
}

module_init(klpt_lp_vmlinux_init);
module_exit(klpt_lp_vmlinux_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klptrace test: livepatch of cmdline_proc_show() in vmlinux");
MODULE_INFO(livepatch, "Y");
