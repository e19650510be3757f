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

/* Returns how many of the globals were found (0..KLPT_NR_KSYMS). */
int klpt_ksyms_init(void)
{
	klpt_lookup_fn lookup = find_kallsyms_lookup_name();
	int found = 0;

	if (!lookup)
		return 0;

	/*
	 * Whether our ftrace-based kprobes can fire (see klpt_hooks_off()).
	 * The sysctl handler writes ftrace_enabled before it stops or
	 * starts the calls and last_ftrace_enabled after: both at 1 means
	 * the calls run.
	 */
	klpt_ksyms.ftrace_enabled =
		lookup_unless_skipped(lookup, "ftrace_enabled");
	klpt_ksyms.last_ftrace_enabled =
		lookup_unless_skipped(lookup, "last_ftrace_enabled");
	klpt_ksyms.kprobes_all_disarmed =
		lookup_unless_skipped(lookup, "kprobes_all_disarmed");
	found += !!klpt_ksyms.ftrace_enabled;
	found += !!klpt_ksyms.last_ftrace_enabled;
	found += !!klpt_ksyms.kprobes_all_disarmed;

	klpt_ksyms.transition_patch =
		lookup_unless_skipped(lookup, "klp_transition_patch");
	klpt_ksyms.target_state =
		lookup_unless_skipped(lookup, "klp_target_state");
	klpt_ksyms.signals_cnt =
		lookup_unless_skipped(lookup, "klp_signals_cnt");

	klpt_ksyms.patches = lookup_unless_skipped(lookup, "klp_patches");

	found += !!klpt_ksyms.transition_patch;
	found += !!klpt_ksyms.target_state;
	found += !!klpt_ksyms.signals_cnt;
	found += !!klpt_ksyms.patches;
	return found;
}

/*
 * Why a registered kprobe does not fire right now, or NULL if it does.
 * Read without a lock (a sysfs read, or once at load): a state that
 * changes during the read is reported either way, and the sysctl writes
 * ftrace_enabled = 0 before it stops the calls, so "off" is never late.
 */
const char *klpt_kprobe_off(struct kprobe *kp)
{
	if (klpt_ksyms.kprobes_all_disarmed &&
	    READ_ONCE(*klpt_ksyms.kprobes_all_disarmed))
		return "kprobes_disarmed";
	if (kprobe_ftrace(kp) &&
	    ((klpt_ksyms.ftrace_enabled &&
	      !READ_ONCE(*klpt_ksyms.ftrace_enabled)) ||
	     (klpt_ksyms.last_ftrace_enabled &&
	      !READ_ONCE(*klpt_ksyms.last_ftrace_enabled))))
		return "ftrace_off";
	if (kprobe_disabled(kp))
		return "disabled";
	return NULL;
}
