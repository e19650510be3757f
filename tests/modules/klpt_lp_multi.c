// SPDX-License-Identifier: GPL-2.0
/*
 * Livepatch with two module objects and no module dependency:
 * klpt_target_sleep (klpt_sleep_fn) and klpt_target_read
 * (klpt_read_proc_read).
 *
 * It calls no helper of either target, so it loads with both, one or
 * none of them loaded: klp_module_coming() patches an object whose
 * module comes later, klp_module_going() unpatches it as it goes.  With
 * klpt_target_sleep loaded and klpt_sleeper asleep in the original
 * klpt_sleep_fn(), the patching transition stays blocked; a
 * klpt_target_read loaded meanwhile comes in the middle of this patch's
 * own transition (klp_transition_patch: no post-patch callback, its
 * function already in transition, so each task runs the version of its
 * patch_state).
 *
 * The new klpt_sleep_fn() cannot reach klpt_sleep_wait_released() (that
 * would make klpt_target_sleep a dependency): it counts the call and naps
 * 20 ms, so block=1 with the patch live makes klpt_sleeper call it about
 * 50 times a second (sleep_calls grows) instead of spinning.  The new
 * read handler answers "multi\n" at once.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/delay.h>
#include <linux/livepatch.h>

static unsigned int sleep_calls;
module_param(sleep_calls, uint, 0444);
MODULE_PARM_DESC(sleep_calls, "Number of calls of the new klpt_sleep_fn()");

static unsigned int read_calls;
module_param(read_calls, uint, 0444);
MODULE_PARM_DESC(read_calls, "Number of calls of the new klpt_read_proc_read()");

static noinline void livepatch_multi_klpt_sleep_fn(void)
{
	WRITE_ONCE(sleep_calls, sleep_calls + 1);
	msleep_interruptible(20);
}

static noinline ssize_t livepatch_multi_klpt_read_proc_read(struct file *file,
							    char __user *buf,
							    size_t count,
							    loff_t *ppos)
{
	static const char text[] = "multi\n";

	WRITE_ONCE(read_calls, read_calls + 1);
	return simple_read_from_buffer(buf, count, ppos, text,
				       sizeof(text) - 1);
}

static struct klp_func sleep_funcs[] = {
	{
		.old_name = "klpt_sleep_fn",
		.new_func = livepatch_multi_klpt_sleep_fn,
	}, { }
};

static struct klp_func read_funcs[] = {
	{
		.old_name = "klpt_read_proc_read",
		.new_func = livepatch_multi_klpt_read_proc_read,
	}, { }
};

static struct klp_object objs[] = {
	{
		.name = "klpt_target_sleep",
		.funcs = sleep_funcs,
	}, {
		.name = "klpt_target_read",
		.funcs = read_funcs,
	}, { }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init klpt_lp_multi_init(void)
{
	return klp_enable_patch(&patch);
}

static void __exit klpt_lp_multi_exit(void)
{
}

module_init(klpt_lp_multi_init);
module_exit(klpt_lp_multi_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klptrace test: livepatch of klpt_target_sleep and klpt_target_read, depending on neither");
MODULE_INFO(livepatch, "Y");
