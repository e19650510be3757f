// SPDX-License-Identifier: GPL-2.0
/*
 * klptrace: trace events for the livepatch core of stock kernels.
 *
 * Registers the hook tables of transition.c, task.c and lifecycle.c.
 * Every hook is optional: one the kernel lacks (or that skip= names) is
 * reported as missing and its events simply never fire.  The report is
 * /sys/kernel/klptrace/hooks and a summary in the kernel log at load.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/tracepoint.h>
#include "klptrace.h"
#include "klp_trace_abi.h"

static char *skip;
module_param(skip, charp, 0444);
MODULE_PARM_DESC(skip,
		 "Comma-separated hooks or kernel symbols to leave unused, as on a kernel that lacks them (testing)");

bool klpt_skipped(const char *name)
{
	size_t len = strlen(name);
	const char *s = skip;

	while (s && *s) {
		const char *end = strchrnul(s, ',');

		if (end - s == len && !strncmp(s, name, len))
			return true;
		s = *end ? end + 1 : end;
	}
	return false;
}

#if IS_ENABLED(CONFIG_LIVEPATCH)

/*
 * Switches of sysctl kernel.ftrace_enabled.  Our kprobes sit on ftrace
 * call sites; a write may switch them off and a later one on again,
 * both between two reads of hooks.  Counting the switches lets a reader
 * see that it happened.  ftrace_enable_sysctl() lives in kernel/trace/,
 * which is built without fentry: this kretprobe's entry is a breakpoint
 * (and its return a trampoline), so it fires whether ftrace is on or
 * off.  A switch is a write after which last_ftrace_enabled (set under
 * ftrace_lock once the calls are stopped or started) differs from before
 * it; without that symbol every write counts.  Writers serialise on
 * ftrace_lock only after our entry sample: two overlapping ones (off,
 * then on) may both see 1 before and after.  So a write that overlapped
 * another one (either began while the other was in flight) counts too:
 * a few idle writes may count, a switch is never hidden.
 */
static atomic_long_t ftrace_switches;
static atomic_t ftrace_writers;		/* writes in flight */
static atomic_long_t ftrace_writes;	/* writes begun, for overlaps */

struct ftrace_write_data {
	int was;			/* last_ftrace_enabled, -1: unknown */
	bool overlapped;		/* began while another was in flight */
	long nr;			/* ftrace_writes after its own begin */
};

static int ftrace_write_entry(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct ftrace_write_data *d = (struct ftrace_write_data *)ri->data;
	int *last = klpt_ksyms.last_ftrace_enabled;

	/* ftrace_enable_sysctl(table, write, buffer, lenp, ppos) */
	if (!(int)regs_get_kernel_argument(regs, 1))
		return 1;		/* a read: no return handler */
	d->overlapped = atomic_inc_return(&ftrace_writers) > 1;
	d->nr = atomic_long_inc_return(&ftrace_writes);
	d->was = last ? READ_ONCE(*last) : -1;
	return 0;
}

static int ftrace_write_ret(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	struct ftrace_write_data *d = (struct ftrace_write_data *)ri->data;
	int *last = klpt_ksyms.last_ftrace_enabled;
	bool others = atomic_long_read(&ftrace_writes) != d->nr;

	atomic_dec(&ftrace_writers);
	if (d->was < 0 || !last || d->was != READ_ONCE(*last) ||
	    d->overlapped || others)
		atomic_long_inc(&ftrace_switches);
	return 0;
}

static struct klpt_hook main_hooks[] = {
	{
		.name = "ftrace_enable_sysctl",
		.feeds = "ftrace_switches",
		.type = KLPT_HOOK_KRETPROBE,
		.krp = {
			.entry_handler = ftrace_write_entry,
			.handler = ftrace_write_ret,
			.data_size = sizeof(struct ftrace_write_data),
			/* writers sleep on ftrace_lock; more go to missed */
			.maxactive = 8,
		},
	},
};

static struct klpt_hook_set main_hook_set = {
	.hooks = main_hooks,
	.nr = ARRAY_SIZE(main_hooks),
};

static struct klpt_hook_set *const hook_sets[] = {
	&klpt_transition_hooks,
	&klpt_task_hooks,
	&klpt_lifecycle_hooks,
	&main_hook_set,
	/* only with first_pass_summary=Y */
	&klpt_summary_hooks,
};

/* The i-th hook of all tables, or NULL past the last one. */
static struct klpt_hook *hook_at(unsigned int i)
{
	int s;

	for (s = 0; s < ARRAY_SIZE(hook_sets); s++) {
		if (hook_sets[s] == &klpt_summary_hooks &&
		    !klpt_first_pass_summary)
			continue;
		if (i < hook_sets[s]->nr)
			return &hook_sets[s]->hooks[i];
		i -= hook_sets[s]->nr;
	}
	return NULL;
}

struct tp_lookup {
	const char *name;
	struct tracepoint *tp;
};

static void tp_match(struct tracepoint *tp, void *priv)
{
	struct tp_lookup *l = priv;

	if (!strcmp(tp->name, l->name))
		l->tp = tp;
}

/*
 * The kernel emits the klp events itself (the native series of
 * kernel/native/ adds them to the livepatch core): its own tracepoints
 * have our events' names.  Ours would duplicate every event, and the
 * kernel's come from where the core decides, without a probe per task.
 */
static bool kernel_has_klp_events(void)
{
	struct tp_lookup l = { .name = "klp_transition_init" };

	for_each_kernel_tracepoint(tp_match, &l);
	return l.tp;
}

static int kprobe_register(struct klpt_hook *h, const char *symbol,
			   bool disarmed)
{
	struct kprobe *kp = h->type == KLPT_HOOK_KPROBE ? &h->kp : &h->krp.kp;
	int ret;

	kp->symbol_name = symbol;
	/* the only flag register_kprobe() takes: registered, not armed */
	if (disarmed)
		kp->flags |= KPROBE_FLAG_DISABLED;
	if (h->type == KLPT_HOOK_KPROBE)
		ret = register_kprobe(kp);
	else
		ret = register_kretprobe(&h->krp);
	if (!ret) {
		h->probed = symbol;
	} else {
		/* register_kprobe() refuses a symbol and an address both set. */
		kp->addr = NULL;
		kp->flags = 0;
	}
	return ret;
}

static int hook_register(struct klpt_hook *h, bool disarmed)
{
	struct tp_lookup l = { .name = h->name };

	switch (h->type) {
	case KLPT_HOOK_KPROBE:
	case KLPT_HOOK_KRETPROBE:
		if (h->clone && !kprobe_register(h, h->clone, disarmed))
			return 0;
		return kprobe_register(h, h->name, disarmed);
	case KLPT_HOOK_TRACEPOINT:
		/* Only module_get is exported: find them all by name. */
		for_each_kernel_tracepoint(tp_match, &l);
		if (!l.tp)
			return -ENOENT;
		h->tp.tp = l.tp;
		return tracepoint_probe_register(l.tp, h->tp.probe, NULL);
	}
	return -EINVAL;
}

static const char *const hook_type_name[] = {
	[KLPT_HOOK_KPROBE] = "kprobe",
	[KLPT_HOOK_KRETPROBE] = "kretprobe",
	[KLPT_HOOK_TRACEPOINT] = "tracepoint",
};

static struct kprobe *hook_kprobe(struct klpt_hook *h)
{
	if (h->type == KLPT_HOOK_KPROBE)
		return &h->kp;
	if (h->type == KLPT_HOOK_KRETPROBE)
		return &h->krp.kp;
	return NULL;
}

/*
 * Why a registered hook does not fire now, or NULL if it does.  A
 * per-task hook that first_pass_summary disarmed (between transitions
 * and in their first passes) is "standby": not inactive(disabled),
 * which tells user space that events are being lost (lib/src/live.c
 * goes to its fallback then).
 */
static const char *hook_off(struct klpt_hook *h)
{
	struct kprobe *kp = hook_kprobe(h);
	const char *off = kp && !h->status ? klpt_kprobe_off(kp) : NULL;

	if (off && !strcmp(off, "disabled") && klpt_summary_standby(h))
		return "standby";
	return off;
}

/*
 * The status column is one word: "active", "inactive(WHY)" (registered
 * but not firing now: ftrace_off, kprobes_disarmed, disabled),
 * "standby" (a per-task hook that first_pass_summary disarmed between
 * transitions and in their first passes), "skipped" or
 * "missing(ERRNO)".
 */
static int emit_status(char *buf, int at, const char *name,
		       const char *type, int status, const char *off,
		       const char *feeds)
{
	if (!status && off && !strcmp(off, "standby"))
		return sysfs_emit_at(buf, at, "%-28s %-10s standby     %s\n",
				     name, type, feeds);
	if (!status && off)
		return sysfs_emit_at(buf, at, "%-28s %-10s inactive(%s) %s\n",
				     name, type, off, feeds);
	if (!status)
		return sysfs_emit_at(buf, at, "%-28s %-10s active      %s\n",
				     name, type, feeds);
	if (status == -ECANCELED)
		return sysfs_emit_at(buf, at, "%-28s %-10s skipped     %s\n",
				     name, type, feeds);
	return sysfs_emit_at(buf, at, "%-28s %-10s missing(%d) %s\n",
			     name, type, status, feeds);
}

/* One line per hook and kernel symbol: name, kind, status, what it feeds. */
/* what the first_pass_summary row of hooks feeds */
static const char every[] =
	"every pass summarized (blocked reason=unknown): no per-task hook";
static const char first[] =
	"first passes summarized (blocked reason=unknown), retries in full";

static ssize_t hooks_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	const struct {
		const char *name;
		const void *addr;
		const char *feeds;
	} syms[] = {
		{ "klp_transition_patch", klpt_ksyms.transition_patch,
		  "patch name when loaded mid-transition" },
		{ "klp_target_state", klpt_ksyms.target_state,
		  "target when loaded mid-transition" },
		{ "klp_signals_cnt", klpt_ksyms.signals_cnt,
		  "pass numbers when loaded mid-transition" },
		{ "klp_patches", klpt_ksyms.patches,
		  "klp_patch_forced of a replace's force" },
		{ "ftrace_enabled", klpt_ksyms.ftrace_enabled,
		  "inactive(ftrace_off) state of the hooks" },
		{ "last_ftrace_enabled", klpt_ksyms.last_ftrace_enabled,
		  "inactive(ftrace_off) state of the hooks" },
		{ "kprobes_all_disarmed", klpt_ksyms.kprobes_all_disarmed,
		  "inactive(kprobes_disarmed) state of the hooks" },
		{ "klp_mutex", klpt_ksyms.klp_mutex,
		  "transition hooks (un)registered between passes" },
	};
	struct klpt_hook *h;
	int len = 0, i;

	BUILD_BUG_ON(ARRAY_SIZE(syms) != KLPT_NR_KSYMS);
	for (i = 0; (h = hook_at(i)); i++)
		len += emit_status(buf, len, h->probed, hook_type_name[h->type],
				   h->status, hook_off(h), h->feeds);
	for (i = 0; i < ARRAY_SIZE(syms); i++)
		len += emit_status(buf, len, syms[i].name, "symbol",
				   klpt_skipped(syms[i].name) ? -ECANCELED :
				   syms[i].addr ? 0 : -ENOENT, NULL,
				   syms[i].feeds);
	/* Only when asked for: without it the report is as it always was. */
	if (klpt_first_pass_summary && !klpt_summary_off())
		len += sysfs_emit_at(buf, len, "%-28s %-10s on          %s\n",
				     "first_pass_summary", "option",
				     klpt_summary_every_pass() ? every : first);
	else if (klpt_first_pass_summary)
		len += sysfs_emit_at(buf, len, "%-28s %-10s off(%s) %s\n",
				     "first_pass_summary", "option",
				     klpt_summary_off(),
				     "every pass traced in full");
	return len;
}

/*
 * Probe hits the kernel could not report: a kretprobe out of instances
 * (maxactive) or a kprobe that fired while another probe ran.  Each one
 * is an event lost; user space resyncs from sysfs/procfs when non-zero.
 */
static ssize_t missed_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct klpt_hook *h;
	unsigned long missed;
	int len = 0, i;

	for (i = 0; (h = hook_at(i)); i++) {
		if (h->status || h->type == KLPT_HOOK_TRACEPOINT)
			continue;
		missed = h->type == KLPT_HOOK_KPROBE ? h->kp.nmissed :
			 h->krp.nmissed + h->krp.kp.nmissed;
		len += sysfs_emit_at(buf, len, "%-28s %lu\n", h->probed,
				     missed);
	}
	return len;
}

/*
 * Switches of kernel.ftrace_enabled since load (while the
 * ftrace_enable_sysctl hook is active): the ftrace-based hooks were off
 * between a switch off and the next switch on, so user space resyncs
 * when the count grows.
 */
static ssize_t ftrace_switches_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&ftrace_switches));
}

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", KLPTRACE_VERSION);
}

static struct kobj_attribute hooks_attr = __ATTR_RO(hooks);
static struct kobj_attribute missed_attr = __ATTR_RO(missed);
static struct kobj_attribute version_attr = __ATTR_RO(version);
static struct kobj_attribute ftrace_switches_attr =
	__ATTR_RO(ftrace_switches);

static struct attribute *klptrace_attrs[] = {
	&hooks_attr.attr,
	&missed_attr.attr,
	&version_attr.attr,
	&ftrace_switches_attr.attr,
	NULL,
};

static const struct attribute_group klptrace_group = {
	.attrs = klptrace_attrs,
};

static struct kobject *klptrace_kobj;

/*
 * klp_mutex around the (un)registration of the hooks marked klp_locked.
 * Their functions run only with it held (the sysfs stores,
 * klp_enable_patch() and klp_transition_work_fn() take it): holding it
 * too, no CPU runs one of them, say klp_try_switch_task() in a retry
 * pass, while ftrace rewrites its call site for our kprobe, and no
 * kretprobe instance on them is in flight when they are unregistered.
 * The wait adds none to insmod or rmmod: the kernel takes klp_mutex for
 * every module coming and going (klp_module_coming(), before our init,
 * and klp_module_going(), after our exit).  Without the symbol the hooks
 * come and go as the other ones do, which kprobes permit.
 */
static bool core_lock(void)
{
	if (!klpt_ksyms.klp_mutex)
		return false;
	mutex_lock(klpt_ksyms.klp_mutex);
	return true;
}

static void core_unlock(bool locked)
{
	if (locked)
		mutex_unlock(klpt_ksyms.klp_mutex);
}

/*
 * With first_pass_summary the per-task hooks are registered disarmed,
 * unless a transition runs (its next pass is a retry): see summary.c.
 */
static void register_hooks(bool klp_locked)
{
	bool disarm = klp_locked && klpt_summary_disarm_at_load();
	struct klpt_hook *h;
	unsigned int i;

	for (i = 0; (h = hook_at(i)); i++) {
		if (h->klp_locked != klp_locked)
			continue;
		h->probed = h->name;
		h->status = klpt_skipped(h->name) ? -ECANCELED :
			    hook_register(h, disarm && h->per_task);
	}
}

/* Pointers per unregister_kprobes()/unregister_kretprobes() call. */
#define KLPT_BATCH 16

/*
 * Unregister the registered hooks marked klp_locked, or the others.  The
 * kprobes and the kretprobes go in batches: each batch is disarmed, then
 * waits for one synchronize_rcu() (no handler of it running any more;
 * 6.1's rethook no longer calls the return handler of an instance still
 * in flight), instead of one per hook.  Tracepoint probes are waited for
 * by the caller (tracepoint_synchronize_unregister()).
 */
static void unregister_hooks(bool klp_locked)
{
	struct kprobe *kps[KLPT_BATCH];
	struct kretprobe *rps[KLPT_BATCH];
	unsigned int nk = 0, nr = 0, i;
	struct klpt_hook *h;

	for (i = 0; (h = hook_at(i)); i++) {
		if (h->status || h->klp_locked != klp_locked)
			continue;
		switch (h->type) {
		case KLPT_HOOK_KPROBE:
			kps[nk++] = &h->kp;
			break;
		case KLPT_HOOK_KRETPROBE:
			rps[nr++] = &h->krp;
			break;
		case KLPT_HOOK_TRACEPOINT:
			tracepoint_probe_unregister(h->tp.tp, h->tp.probe, NULL);
			break;
		}
		if (nk == KLPT_BATCH) {
			unregister_kprobes(kps, nk);
			nk = 0;
		}
		if (nr == KLPT_BATCH) {
			unregister_kretprobes(rps, nr);
			nr = 0;
		}
	}
	unregister_kprobes(kps, nk);
	unregister_kretprobes(rps, nr);
}

/*
 * The summary's work (summary.c) is queued only by hooks marked
 * klp_locked and runs only under klp_mutex: stopped under it, with no
 * such hook left after it, it is cancelled once, for good, before the
 * module can go.
 */
static void unregister_all(void)
{
	bool locked = core_lock();

	klpt_summary_stop();
	unregister_hooks(true);
	core_unlock(locked);
	klpt_summary_flush();
	unregister_hooks(false);
	/* No tracepoint probe of ours may still be running after this. */
	tracepoint_synchronize_unregister();
}

static int __init klptrace_init(void)
{
	static const char *const reasons[] = {
		"ftrace_off", "kprobes_disarmed", "disabled",
	};
	static const char *const until[] = {
		"sysctl kernel.ftrace_enabled is 1 again",
		"kprobes are enabled again (debugfs kprobes/enabled)",
		"they are enabled again",
	};
	struct klpt_hook *h;
	int nr = 0, active = 0, off = 0, syms, ret, r, len = 0, ulen = 0;
	unsigned int i, why = 0;
	char names[48] = "", untils[160] = "";
	bool locked;

	BUILD_BUG_ON(KLP_UNDEFINED != KLP_TRACE_STATE_UNDEFINED);
	BUILD_BUG_ON(KLP_UNPATCHED != KLP_TRACE_STATE_UNPATCHED);
	BUILD_BUG_ON(KLP_PATCHED != KLP_TRACE_STATE_PATCHED);

	if (kernel_has_klp_events()) {
		pr_err("this kernel has the klp trace events itself (events/klp in tracefs): use them; klptrace.ko is not needed and does not load\n");
		return -EEXIST;
	}

	syms = klpt_ksyms_init();

	locked = core_lock();
	register_hooks(true);
	klpt_summary_setup();
	core_unlock(locked);
	register_hooks(false);

	for (i = 0; (h = hook_at(i)); i++) {
		const char *o;

		nr++;
		o = h->status ? NULL : hook_off(h);
		/* disarmed until a retry pass, on purpose: counted active */
		if (o && !strcmp(o, "standby"))
			o = NULL;
		if (o) {
			for (r = 0; r < ARRAY_SIZE(reasons); r++)
				if (!strcmp(o, reasons[r]))
					why |= BIT(r);
			off++;
		} else if (!h->status) {
			active++;
		} else {
			pr_notice("hook %s (%s) not active (%d): no %s events\n",
				  h->name, hook_type_name[h->type], h->status,
				  h->feeds);
		}
	}
	/*
	 * Registered but not firing: kprobes on ftrace call sites stay
	 * silent while kernel.ftrace_enabled is 0 (or all kprobes are
	 * disarmed).  They fire again when that changes, and hooks says
	 * which state they are in at every read.  Every reason is named.
	 */
	for (r = 0; r < ARRAY_SIZE(reasons); r++) {
		if (!(why & BIT(r)))
			continue;
		len += scnprintf(names + len, sizeof(names) - len, "%s%s",
				 len ? "," : "", reasons[r]);
		ulen += scnprintf(untils + ulen, sizeof(untils) - ulen, "%s%s",
				  ulen ? " and " : "", until[r]);
	}
	if (off)
		pr_warn("%d hooks registered but inactive (%s): no events from them until %s; see /sys/kernel/klptrace/hooks\n",
			off, names, untils);

	klptrace_kobj = kobject_create_and_add("klptrace", kernel_kobj);
	if (!klptrace_kobj) {
		ret = -ENOMEM;
		goto err;
	}
	ret = sysfs_create_group(klptrace_kobj, &klptrace_group);
	if (ret)
		goto err_kobj;

	pr_info("%s: %d of %d hooks active, %d of %d kernel symbols found; see /sys/kernel/klptrace/hooks\n",
		KLPTRACE_VERSION, active, nr, syms, KLPT_NR_KSYMS);
	return 0;

err_kobj:
	kobject_put(klptrace_kobj);
err:
	unregister_all();
	return ret;
}

static void __exit klptrace_exit(void)
{
	/* sysfs first: hooks_show reads the tables unregister_all clears. */
	kobject_put(klptrace_kobj);
	unregister_all();
}

#else /* !CONFIG_LIVEPATCH */

static int __init klptrace_init(void)
{
	pr_err("this kernel was built without CONFIG_LIVEPATCH: there is no livepatch core to trace\n");
	return -EOPNOTSUPP;
}

static void __exit klptrace_exit(void)
{
}

#endif /* CONFIG_LIVEPATCH */

module_init(klptrace_init);
module_exit(klptrace_exit);

MODULE_AUTHOR("klptrace developers");
MODULE_DESCRIPTION("Trace events for the livepatch consistency model and patch module lifecycle");
MODULE_LICENSE("GPL");
MODULE_VERSION(KLPTRACE_VERSION);
