// SPDX-License-Identifier: GPL-2.0
/*
 * Replace livepatch for klpt_target_sleep.ko
 *
 * Like klpt_lp_sleep, it replaces klpt_sleep_fn(), here with a function
 * that marks impl=2 and then sleeps in klpt_sleep_wait_released().  It
 * is a cumulative patch (.replace = true): once its patching transition
 * completes, the core disables every other patch (klpt_lp_sleep,
 * klpt_lp_vmlinux, ...), frees them and drops their module references,
 * so their modules become removable without ever being disabled by the
 * admin.  A task sleeping in the function that is live when it is
 * loaded (the original or klpt_lp_sleep's) holds its transition up.
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
MODULE_PARM_DESC(calls, "Number of returns from livepatch2_klpt_sleep_fn()");

static noinline void livepatch2_klpt_sleep_fn(void)
{
	klpt_sleep_mark_impl(KLPT_IMPL_REPLACED);
	klpt_sleep_wait_released();
	/* Work after the call: no sibling call, this frame stays on the stack. */
	WRITE_ONCE(calls, calls + 1);
}

static struct klp_func funcs[] = {
	{
		.old_name = "klpt_sleep_fn",
		.new_func = livepatch2_klpt_sleep_fn,
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
	/* Cumulative: disable and free every patch loaded before this one. */
	.replace = true,
};

static int __init klpt_lp_sleep2_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit klpt_lp_sleep2_exit(void)
{
}

module_init(klpt_lp_sleep2_init);
module_exit(klpt_lp_sleep2_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klptrace test: replace livepatch of klpt_sleep_fn() in klpt_target_sleep");
MODULE_INFO(livepatch, "Y");
