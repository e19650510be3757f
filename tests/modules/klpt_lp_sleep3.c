// SPDX-License-Identifier: GPL-2.0
/*
 * A second non-replace livepatch of klpt_sleep_fn() in klpt_target_sleep.ko:
 * klpt_lp_sleep built again, its function marking impl=3.
 *
 * Stacks on klpt_lp_sleep: both patch the same function, and in 6.1 the
 * ftrace handler runs the first klp_func of the function's func_stack,
 * which is the one of the patch enabled last (klp_patch_func() adds at
 * the head).  So the target's impl parameter tells which patch is live:
 * 3 while this one is on top, 1 again once it is disabled with
 * klpt_lp_sleep still enabled.  Its function sleeps in
 * klpt_sleep_wait_released() like the others, so a task sleeping in it
 * holds this patch's unpatch transition up.
 *
 * Uses klpt_target_sleep's exported helpers: load klpt_target_sleep first.
 */
#define KLPT_LP_SLEEP_STACKED
#include "klpt_lp_sleep.c"
