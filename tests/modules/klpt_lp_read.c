// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch for klpt_target_read.ko
 *
 * Replaces klpt_read_proc_read() with livepatch_klpt_read_proc_read(),
 * which returns "patched\n" at once (once; then EOF) without sleeping,
 * whatever the "hold" parameter of klpt_target_read says.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/livepatch.h>

static unsigned int calls;
module_param(calls, uint, 0444);
MODULE_PARM_DESC(calls, "Number of calls of livepatch_klpt_read_proc_read()");

static noinline ssize_t livepatch_klpt_read_proc_read(struct file *file,
						      char __user *buf,
						      size_t count,
						      loff_t *ppos)
{
	static const char text[] = "patched\n";

	WRITE_ONCE(calls, calls + 1);
	return simple_read_from_buffer(buf, count, ppos, text,
				       sizeof(text) - 1);
}

static struct klp_func funcs[] = {
	{
		.old_name = "klpt_read_proc_read",
		.new_func = livepatch_klpt_read_proc_read,
	}, { }
};

static struct klp_object objs[] = {
	{
		.name = "klpt_target_read",
		.funcs = funcs,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init klpt_lp_read_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit klpt_lp_read_exit(void)
{
}

module_init(klpt_lp_read_init);
module_exit(klpt_lp_read_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klptrace test: livepatch of klpt_read_proc_read() in klpt_target_read");
MODULE_INFO(livepatch, "Y");
