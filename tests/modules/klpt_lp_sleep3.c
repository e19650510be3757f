// SPDX-License-Identifier: GPL-2.0
/*
 * A second non-replace livepatch of klpt_sleep_fn() in klpt_target_sleep.ko
 *
 * Stacks on klpt_lp_sleep: both patch the same function, and in 6.1 the
 * ftrace handler runs the first klp_func of the function's func_stack,
 * which is the one of the patch enabled last (klp_patch_func() adds at
 * the head).  Its function marks impl=3, so the target's impl parameter
 * tells which patch is live: 3 while this one is on top, 1 again once it
 * is disabled with klpt_lp_sleep still enabled.  Then it sleeps in
 * klpt_sleep_wait_released() like the others, so a task sleeping in it
 * holds this patch's unpatch transition up.
 *
 * Uses klpt_target_sleep's exported helpers: load klpt_target_sleep first.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>

#include "klpt_targets.h"

static unsigned int calls;
module_param(calls, uint, 0444);
MODULE_PARM_DESC(calls, "Number of returns from livepatch3_klpt_sleep_fn()");

static noinline void livepatch3_klpt_sleep_fn(void)
{
	klpt_sleep_mark_impl(KLPT_IMPL_STACKED);
	klpt_sleep_wait_released();
	/* Work after the call: no sibling call, this frame stays on the stack. */
	WRITE_ONCE(calls, calls + 1);
}

static struct klp_func funcs[] = {
	{
		.old_name = "klpt_sleep_fn",
		.new_func = livepatch3_klpt_sleep_fn,
	}, { }
};

static struct klp_object objs[] = {
	{
		.name = "klpt_target_sleep",
		.funcs = funcs,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init klpt_lp_sleep3_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit klpt_lp_sleep3_exit(void)
{
}

module_init(klpt_lp_sleep3_init);
module_exit(klpt_lp_sleep3_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klptrace test: second stacked livepatch of klpt_sleep_fn() in klpt_target_sleep");
MODULE_INFO(livepatch, "Y");
