/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interface between the klptrace test target modules
 * and the livepatches that replace their functions.
 *
 * The klpt_*_fn() and klpt_read_proc_read() functions are the ones the
 * livepatches replace; they are global and noinline so that they keep
 * their own symbol and ftrace entry.  The EXPORT_SYMBOL_GPL helpers are
 * never patched: a livepatch that calls them makes its target module a
 * dependency, so the target must be loaded first.
 */
#ifndef _KLPT_TARGETS_H
#define _KLPT_TARGETS_H

#include <linux/types.h>

struct file;

/* klpt_target_sleep.ko */
void klpt_sleep_fn(void);			/* patched by klpt_lp_sleep */
void klpt_sleep_wait_released(void);		/* exported, not patched */
void klpt_sleep_mark_impl(int new_impl);		/* exported */

/* klpt_target_busy.ko */
void klpt_busy_fn(void);			/* patched by klpt_lp_busy */
void klpt_busy_mark_impl(int new_impl);		/* exported */

/* klpt_target_read.ko */
ssize_t klpt_read_proc_read(struct file *file, char __user *buf,
			    size_t count, loff_t *ppos); /* patched by klpt_lp_read */

/* Values of the "impl" parameters. */
#define KLPT_IMPL_ORIGINAL	0
#define KLPT_IMPL_PATCHED	1
#define KLPT_IMPL_REPLACED	2	/* klpt_lp_sleep2, the replace patch */
#define KLPT_IMPL_STACKED	3	/* klpt_lp_sleep3, stacked on klpt_lp_sleep */

#endif /* _KLPT_TARGETS_H */
