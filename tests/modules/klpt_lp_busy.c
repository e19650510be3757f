// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch for klpt_target_busy.ko
 *
 * Replaces klpt_busy_fn() with livepatch_klpt_busy_fn(), which marks
 * impl=1 in klpt_target_busy and returns at once, without spinning (and
 * without setting in_func, which stays 0).  Loading it while klpt_spinner
 * spins in the original function keeps the patching transition blocked
 * until spin=0.
 *
 * Uses klpt_target_busy's exported helper: load klpt_target_busy first.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>

#include "klpt_targets.h"

static unsigned int calls;
module_param(calls, uint, 0444);
MODULE_PARM_DESC(calls, "Number of returns from livepatch_klpt_busy_fn()");

static noinline void livepatch_klpt_busy_fn(void)
{
	klpt_busy_mark_impl(KLPT_IMPL_PATCHED);
	WRITE_ONCE(calls, calls + 1);
}

static struct klp_func funcs[] = {
	{
		.old_name = "klpt_busy_fn",
		.new_func = livepatch_klpt_busy_fn,
	}, { }
};

static struct klp_object objs[] = {
	{
		.name = "klpt_target_busy",
		.funcs = funcs,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init klpt_lp_busy_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit klpt_lp_busy_exit(void)
{
}

module_init(klpt_lp_busy_init);
module_exit(klpt_lp_busy_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klptrace test: livepatch of klpt_busy_fn() in klpt_target_busy");
MODULE_INFO(livepatch, "Y");
