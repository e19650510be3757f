// SPDX-License-Identifier: GPL-2.0
/*
 * Lifecycle hooks: a disabled patch is freed, its kobject released, its
 * module reference dropped, and then its module may go.
 *
 * klp_free_patch_work_fn() -> kobject_put() -> klp_kobj_release_patch()
 * -> complete(&patch->finish) -> module_put(patch->mod), unless the patch
 * was forced.  Module references are seen through the kernel's own
 * module:module_get/module_put/module_free tracepoints, filtered to
 * livepatch modules (mod->klp).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include "klptrace.h"
#include "klp_trace.h"

/*
 * Modules whose patch was freed unforced and that wait for their last
 * put: then they are ready to unload.  Lock-free (the put may come from
 * any context); a full table only costs the unload-ready event.
 */
#define KLPT_MAX_FREED 32
static struct module *freed[KLPT_MAX_FREED];

static void freed_add(struct module *mod)
{
	int i;

	for (i = 0; i < KLPT_MAX_FREED; i++)
		if (!cmpxchg(&freed[i], NULL, mod))
			return;
}

static bool freed_take(struct module *mod)
{
	int i;

	for (i = 0; i < KLPT_MAX_FREED; i++)
		if (READ_ONCE(freed[i]) == mod &&
		    cmpxchg(&freed[i], mod, NULL) == mod)
			return true;
	return false;
}

/* klp_free_patch_work_fn(struct work_struct *work) */
static int free_work_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct work_struct *work = (void *)regs_get_kernel_argument(regs, 0);
	struct klp_patch *patch = container_of(work, struct klp_patch,
					       free_work);

	if (!patch->forced)
		freed_add(patch->mod);
	trace_klp_patch_free(patch->mod->name, patch->forced);
	return 0;
}

/* klp_kobj_release_patch(struct kobject *kobj) */
static int release_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct kobject *kobj = (void *)regs_get_kernel_argument(regs, 0);
	struct klp_patch *patch = container_of(kobj, struct klp_patch, kobj);

	trace_klp_patch_release(patch->mod->name, patch->forced);
	return 0;
}

/* Out of line: the symbol buffer stays off the probes' common path. */
static noinline void emit_ref(struct module *mod, int op, unsigned long ip)
{
	char caller[KSYM_SYMBOL_LEN];
	int refcnt = module_refcount(mod);

	sprint_symbol_no_offset(caller, ip);
	trace_klp_module_ref(mod->name, op, refcnt, ip, caller);
	if (op == KLP_TRACE_REF_PUT && refcnt == 0 && freed_take(mod))
		trace_klp_module_unload_ready(mod->name);
}

static void module_get_probe(void *data, struct module *mod,
			     unsigned long ip)
{
	if (mod->klp)
		emit_ref(mod, KLP_TRACE_REF_GET, ip);
}

static void module_put_probe(void *data, struct module *mod,
			     unsigned long ip)
{
	if (mod->klp)
		emit_ref(mod, KLP_TRACE_REF_PUT, ip);
}

static void module_free_probe(void *data, struct module *mod)
{
	if (!mod->klp)
		return;
	freed_take(mod);
	trace_klp_module_free(mod->name);
}

static struct klpt_hook hooks[] = {
	{
		.name = "klp_free_patch_work_fn",
		.feeds = "klp_patch_free",
		.type = KLPT_HOOK_KPROBE,
		.kp = { .pre_handler = free_work_pre },
	},
	{
		.name = "klp_kobj_release_patch",
		.feeds = "klp_patch_release",
		.type = KLPT_HOOK_KPROBE,
		.kp = { .pre_handler = release_pre },
	},
	{
		.name = "module_get",
		.feeds = "klp_module_ref(get)",
		.type = KLPT_HOOK_TRACEPOINT,
		.tp = { .probe = module_get_probe },
	},
	{
		.name = "module_put",
		.feeds = "klp_module_ref(put),klp_module_unload_ready",
		.type = KLPT_HOOK_TRACEPOINT,
		.tp = { .probe = module_put_probe },
	},
	{
		.name = "module_free",
		.feeds = "klp_module_free",
		.type = KLPT_HOOK_TRACEPOINT,
		.tp = { .probe = module_free_probe },
	},
};

struct klpt_hook_set klpt_lifecycle_hooks = {
	.hooks = hooks,
	.nr = ARRAY_SIZE(hooks),
};
