/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klptrace internals shared between the hook files.
 *
 * Each concern (transition, task, lifecycle) owns a table of hooks and
 * the state its handlers keep; main.c registers the tables and reports
 * which hooks are active.  Every hook is optional.
 */
#ifndef KLPTRACE_H
#define KLPTRACE_H

#include <linux/kprobes.h>
#include <linux/livepatch.h>
#include <linux/mutex.h>
#include <linux/tracepoint.h>

#define KLPTRACE_VERSION "0.1.0"

enum klpt_hook_type {
	KLPT_HOOK_KPROBE,
	KLPT_HOOK_KRETPROBE,
	KLPT_HOOK_TRACEPOINT,
};

struct klpt_hook {
	const char *name;		/* kernel function or tracepoint */
	/*
	 * A GCC clone (foo.part.0) that holds the whole body of a kprobe'd
	 * function: callers in the same file may jump straight to it, so it
	 * is probed instead of name when the kernel has it.
	 */
	const char *clone;
	const char *probed;		/* the symbol actually probed */
	const char *feeds;		/* events it produces, for the report */
	enum klpt_hook_type type;
	/*
	 * The function runs only with klp_mutex held: main.c registers and
	 * unregisters the hook with klp_mutex held too (see core_lock()).
	 */
	bool klp_locked;
	/*
	 * A probe hit for every task of every pass (the stack check): with
	 * first_pass_summary it is registered disarmed and armed only for
	 * the retry passes (summary.c).
	 */
	bool per_task;
	union {
		struct kprobe kp;
		struct kretprobe krp;
		struct {
			void *probe;
			struct tracepoint *tp;
		} tp;
	};
	int status;			/* 0 while registered, else -errno */
};

struct klpt_hook_set {
	struct klpt_hook *hooks;
	unsigned int nr;
};

extern struct klpt_hook_set klpt_transition_hooks;
extern struct klpt_hook_set klpt_task_hooks;
extern struct klpt_hook_set klpt_lifecycle_hooks;
extern struct klpt_hook_set klpt_summary_hooks;

/*
 * Kernel globals that are not exported, found through kallsyms at load.
 * Each may be NULL: the handlers then fall back to what they tracked.
 * Read them only where the core holds klp_mutex (it writes them there).
 */
struct klpt_ksyms {
	struct klp_patch **transition_patch;	/* klp_transition_patch */
	int *target_state;			/* klp_target_state */
	unsigned int *signals_cnt;		/* klp_signals_cnt */
	struct list_head *patches;		/* klp_patches: NULL, no walk */
	/*
	 * Our kprobes sit on ftrace call sites (KPROBES_ON_FTRACE): they do
	 * not fire while sysctl kernel.ftrace_enabled is 0, nor while all
	 * kprobes are disarmed (debugfs kprobes/enabled).  Read only to
	 * report that (hooks_show()), never in probe context.
	 */
	int *ftrace_enabled;			/* ftrace_enabled */
	int *last_ftrace_enabled;		/* last_ftrace_enabled */
	bool *kprobes_all_disarmed;		/* kprobes_all_disarmed */
	/*
	 * Taken only by main.c, around the (un)registration of the hooks
	 * marked klp_locked: never in probe context, where the core may
	 * hold it already.
	 */
	struct mutex *klp_mutex;		/* klp_mutex */
};

#define KLPT_NR_KSYMS 8

extern struct klpt_ksyms klpt_ksyms;

int klpt_ksyms_init(void);
/* Why a registered kprobe does not fire now ("ftrace_off", ...) or NULL. */
const char *klpt_kprobe_off(struct kprobe *kp);

/* summary.c: the first_pass_summary=Y mode. */
extern bool klpt_first_pass_summary;
bool klpt_summary_disarm_at_load(void);
void klpt_summary_setup(void);
const char *klpt_summary_off(void);
bool klpt_summary_every_pass(void);
bool klpt_summary_pass(void);
bool klpt_summary_standby(struct klpt_hook *h);
void klpt_summary_walk(const char *patch, int target, unsigned int *checked,
		       unsigned int *pending);
void klpt_summary_sync(bool done);
void klpt_summary_stop(void);
void klpt_summary_flush(void);

/* True if the skip= parameter names this hook or symbol (for tests). */
bool klpt_skipped(const char *name);

/* The transition as transition.c knows it; used by the task hooks. */
const char *klpt_transition_name(void);
int klpt_transition_target(void);
bool klpt_forcing(void);
unsigned int klpt_flag_epoch(void);

#endif /* KLPTRACE_H */
