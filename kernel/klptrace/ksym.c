// SPDX-License-Identifier: GPL-2.0
/*
 * Find the livepatch core's unexported globals.
 *
 * kallsyms_lookup_name() is not exported since 5.7, but kprobes still
 * resolve symbol names: a kprobe registered on it tells its address.
 * This runs once at module load, in process context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/module.h>
#include "klptrace.h"

struct klpt_ksyms klpt_ksyms;

typedef unsigned long (*klpt_lookup_fn)(const char *name);

static klpt_lookup_fn find_kallsyms_lookup_name(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;

	if (register_kprobe(&kp) < 0)
		return NULL;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);

#ifdef CONFIG_X86_KERNEL_IBT
	/* With IBT the probe sits after the ENDBR; calls must hit the ENDBR. */
	if (is_endbr(*(u32 *)(addr - ENDBR_INSN_SIZE)))
		addr -= ENDBR_INSN_SIZE;
#endif
	return (klpt_lookup_fn)addr;
}

static void *lookup_unless_skipped(klpt_lookup_fn lookup, const char *name)
{
	if (klpt_skipped(name))
		return NULL;
	return (void *)lookup(name);
}

/* Returns how many of the globals were found (0..3). */
int klpt_ksyms_init(void)
{
	klpt_lookup_fn lookup = find_kallsyms_lookup_name();
	int found = 0;

	if (!lookup)
		return 0;

	klpt_ksyms.transition_patch = lookup_unless_skipped(lookup,
						"klp_transition_patch");
	klpt_ksyms.target_state = lookup_unless_skipped(lookup,
						"klp_target_state");
	klpt_ksyms.signals_cnt = lookup_unless_skipped(lookup,
						"klp_signals_cnt");

	found += !!klpt_ksyms.transition_patch;
	found += !!klpt_ksyms.target_state;
	found += !!klpt_ksyms.signals_cnt;
	return found;
}
