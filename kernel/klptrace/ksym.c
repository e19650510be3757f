// SPDX-License-Identifier: GPL-2.0
/*
 * Find the livepatch core's unexported globals.
 *
 * kallsyms_lookup_name() is not exported since 5.7, and calling it through
 * a pointer is no way round that: the kernel never takes its address, so
 * with CONFIG_X86_KERNEL_IBT its ENDBR is sealed at boot
 * (apply_ibt_endbr()) and the indirect call is a #CP.  No such call here:
 * register_kprobe() resolves .symbol_name itself (kprobe_lookup_name(), a
 * direct call) and, in 6.1, stores the address in kp.addr before it finds
 * that the address is not text (check_kprobe_address_safe(): -EINVAL, no
 * probe, nothing held).  Every symbol we need is data.  The address is
 * accepted only if sprint_symbol() names it as the symbol plus an offset
 * (arch_adjust_kprobe_addr() adds 4 where the first bytes read as an
 * ENDBR): a kernel that behaves otherwise leaves the symbol missing, as
 * the hooks report says, never wrong.  Runs once at load, in process
 * context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/string.h>
#include "klptrace.h"

struct klpt_ksyms klpt_ksyms;

static void *lookup_data(const char *name)
{
	struct kprobe kp = { .symbol_name = name };
	char sym[KSYM_SYMBOL_LEN];
	size_t len = strlen(name);
	unsigned long addr, off, size;

	if (klpt_skipped(name))
		return NULL;
	if (!register_kprobe(&kp)) {
		/* text, not the data we look for */
		unregister_kprobe(&kp);
		return NULL;
	}
	addr = (unsigned long)kp.addr;
	if (!addr)
		return NULL;
	/* "name+0xoff/0xsize", with " [module]" for a module's symbol */
	sprint_symbol(sym, addr);
	if (strncmp(sym, name, len) ||
	    sscanf(sym + len, "+%lx/%lx", &off, &size) != 2 ||
	    strchr(sym + len, '[') || off >= size)
		return NULL;
	return (void *)(addr - off);
}

/* Returns how many of the globals were found (0..KLPT_NR_KSYMS). */
int klpt_ksyms_init(void)
{
	int found = 0;

	/*
	 * Whether our ftrace-based kprobes can fire (see klpt_hooks_off()).
	 * The sysctl handler writes ftrace_enabled before it stops or
	 * starts the calls and last_ftrace_enabled after: both at 1 means
	 * the calls run.
	 */
	klpt_ksyms.ftrace_enabled = lookup_data("ftrace_enabled");
	klpt_ksyms.last_ftrace_enabled = lookup_data("last_ftrace_enabled");
	klpt_ksyms.kprobes_all_disarmed = lookup_data("kprobes_all_disarmed");
	found += !!klpt_ksyms.ftrace_enabled;
	found += !!klpt_ksyms.last_ftrace_enabled;
	found += !!klpt_ksyms.kprobes_all_disarmed;

	klpt_ksyms.transition_patch = lookup_data("klp_transition_patch");
	klpt_ksyms.target_state = lookup_data("klp_target_state");
	klpt_ksyms.signals_cnt = lookup_data("klp_signals_cnt");
	klpt_ksyms.patches = lookup_data("klp_patches");
	klpt_ksyms.klp_mutex = lookup_data("klp_mutex");

	found += !!klpt_ksyms.transition_patch;
	found += !!klpt_ksyms.target_state;
	found += !!klpt_ksyms.signals_cnt;
	found += !!klpt_ksyms.patches;
	found += !!klpt_ksyms.klp_mutex;
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
