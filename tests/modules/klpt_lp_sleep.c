// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch for klpt_target_sleep.ko
 *
 * Replaces klpt_sleep_fn() with livepatch_klpt_sleep_fn(), which marks
 * impl=1 in klpt_target_sleep and then sleeps in the same (unpatched)
 * klpt_sleep_wait_released().  So:
 *  - loading this patch while klpt_sleeper sleeps in the original
 *    function keeps the patching transition blocked ("sleeping in
 *    function klpt_sleep_fn") until block=0;
 *  - disabling it while klpt_sleeper sleeps in the new function keeps
 *    the unpatching transition blocked the same way.
 *
 * Uses klpt_target_sleep's exported helpers: load klpt_target_sleep first.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>

#include "klpt_targets.h"

/* klpt_lp_sleep3.c builds this patch again, as a second one to stack. */
#ifdef KLPT_LP_SLEEP_STACKED
#define KLPT_LP_IMPL	KLPT_IMPL_STACKED
#define KLPT_LP_DESC	"klptrace test: second stacked livepatch of klpt_sleep_fn() in klpt_target_sleep"
#else
#define KLPT_LP_IMPL	KLPT_IMPL_PATCHED
#define KLPT_LP_DESC	"klptrace test: livepatch of klpt_sleep_fn() in klpt_target_sleep"
#endif

static unsigned int calls;
module_param(calls, uint, 0444);
MODULE_PARM_DESC(calls, "Number of returns from livepatch_klpt_sleep_fn()");

static noinline void livepatch_klpt_sleep_fn(void)
{
	klpt_sleep_mark_impl(KLPT_LP_IMPL);
	klpt_sleep_wait_released();
	/* Work after the call: no sibling call, this frame stays on the stack. */
	WRITE_ONCE(calls, calls + 1);
}

static struct klp_func funcs[] = {
	{
		.old_name = "klpt_sleep_fn",
		.new_func = livepatch_klpt_sleep_fn,
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

static int __init klpt_lp_sleep_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit klpt_lp_sleep_exit(void)
{
}

module_init(klpt_lp_sleep_init);
module_exit(klpt_lp_sleep_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION(KLPT_LP_DESC);
MODULE_INFO(livepatch, "Y");
