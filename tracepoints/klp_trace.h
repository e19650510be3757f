/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The klp trace events: the one definition.
 *
 * The livepatch core of stock kernels has no tracepoints; klptrace.ko
 * emits these from probes on the core (see kernel/klptrace/).  The
 * numeric codes live in klp_trace_abi.h so user space decodes the same
 * values.  README.md next to this file says exactly when each event
 * fires.
 *
 * Include with CREATE_TRACE_POINTS in exactly one object; add this
 * directory to the include path (TRACE_INCLUDE_PATH is ".").
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM klp

#if !defined(_KLP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KLP_TRACE_H

#include <linux/sched.h>
#include <linux/tracepoint.h>
#include "klp_trace_abi.h"

#define klpt_show_state(s)						\
	__print_symbolic(s,						\
		{ KLP_TRACE_STATE_UNDEFINED,		"undefined" },		\
		{ KLP_TRACE_STATE_UNPATCHED,		"unpatched" },		\
		{ KLP_TRACE_STATE_PATCHED,		"patched" })

#define klpt_show_via(v)						\
	__print_symbolic(v,						\
		{ KLP_TRACE_VIA_USER_RETURN,		"user_return" },	\
		{ KLP_TRACE_VIA_IDLE,		"idle" },		\
		{ KLP_TRACE_VIA_STACK_CHECK,		"stack_check" },	\
		{ KLP_TRACE_VIA_FORK,		"fork" },		\
		{ KLP_TRACE_VIA_FORCE,		"force" })

#define klpt_show_reason(r)						\
	__print_symbolic(r,						\
		{ KLP_TRACE_BLOCKED_RUNNING,		"running" },		\
		{ KLP_TRACE_BLOCKED_UNRELIABLE_STACK, "unreliable_stack" },	\
		{ KLP_TRACE_BLOCKED_IN_FUNC,		"sleeping_in_func" },	\
		{ KLP_TRACE_BLOCKED_OTHER,		"other" },		\
		{ KLP_TRACE_BLOCKED_UNKNOWN,		"unknown" })

#define klpt_show_ref_op(o)						\
	__print_symbolic(o,						\
		{ KLP_TRACE_REF_GET,			"get" },		\
		{ KLP_TRACE_REF_PUT,			"put" })

/* Transition events that carry only the patch and its target state. */
DECLARE_EVENT_CLASS(klp_transition_class,
		    TP_PROTO(const char *patch, int target),
		    TP_ARGS(patch, target),
		    TP_STRUCT__entry(__string(patch,		patch)
				     __field(int,		target)),
		    TP_fast_assign(__assign_str(patch, patch);
				   __entry->target = target;),
		    TP_printk("patch=%s target=%s",
			      __get_str(patch), klpt_show_state(__entry->target)));

/* klp_init_transition(): every task gets the initial state (!target). */
DEFINE_EVENT(klp_transition_class, klp_transition_init,
	     TP_PROTO(const char *patch, int target),
	     TP_ARGS(patch, target));

/* klp_start_transition(): pending flags set, retry counter reset. */
DEFINE_EVENT(klp_transition_class, klp_transition_start,
	     TP_PROTO(const char *patch, int target),
	     TP_ARGS(patch, target));

/* klp_reverse_transition(): target is the new, reversed target. */
DEFINE_EVENT(klp_transition_class, klp_transition_reverse,
	     TP_PROTO(const char *patch, int target),
	     TP_ARGS(patch, target));

/*
 * klp_force_transition() is entered: the admin wrote 1 to .../force.
 * Which patches the core marks forced follows as klp_patch_forced.
 */
DEFINE_EVENT(klp_transition_class, klp_transition_force,
	     TP_PROTO(const char *patch, int target),
	     TP_ARGS(patch, target));

/* klp_cancel_transition(): enable failed before the transition started. */
DEFINE_EVENT(klp_transition_class, klp_transition_cancel,
	     TP_PROTO(const char *patch, int target),
	     TP_ARGS(patch, target));

/*
 * One klp_try_complete_transition() pass finished.  pass is the retry
 * number (0 = first attempt), checked the tasks it looked at, pending
 * the tasks it could not switch.
 */
TRACE_EVENT(klp_transition_pass,
	    TP_PROTO(const char *patch, int target, unsigned int pass,
		     unsigned int checked, unsigned int pending),
	    TP_ARGS(patch, target, pass, checked, pending),
	    TP_STRUCT__entry(__string(patch,		patch)
			     __field(int,		target)
			     __field(unsigned int,	pass)
			     __field(unsigned int,	checked)
			     __field(unsigned int,	pending)),
	    TP_fast_assign(__assign_str(patch, patch);
			   __entry->target = target;
			   __entry->pass = pass;
			   __entry->checked = checked;
			   __entry->pending = pending;),
	    TP_printk("patch=%s target=%s pass=%u checked=%u pending=%u",
		      __get_str(patch), klpt_show_state(__entry->target),
		      __entry->pass, __entry->checked, __entry->pending));

/*
 * The core signalled the pending tasks on this pass: user tasks got a
 * fake signal, interruptible kthreads were woken (every 15th retry).
 */
TRACE_EVENT(klp_transition_signal,
	    TP_PROTO(const char *patch, int target, unsigned int pass,
		     unsigned int pending),
	    TP_ARGS(patch, target, pass, pending),
	    TP_STRUCT__entry(__string(patch,		patch)
			     __field(int,		target)
			     __field(unsigned int,	pass)
			     __field(unsigned int,	pending)),
	    TP_fast_assign(__assign_str(patch, patch);
			   __entry->target = target;
			   __entry->pass = pass;
			   __entry->pending = pending;),
	    TP_printk("patch=%s target=%s pass=%u pending=%u",
		      __get_str(patch), klpt_show_state(__entry->target),
		      __entry->pass, __entry->pending));

/*
 * klp_complete_transition(): every task reached target.  forced is the
 * transition patch's patch->forced as the core set it (a force during an
 * unpatch, or during the reverse of an enable), not "a force ran".
 */
TRACE_EVENT(klp_transition_complete,
	    TP_PROTO(const char *patch, int target, bool forced),
	    TP_ARGS(patch, target, forced),
	    TP_STRUCT__entry(__string(patch,		patch)
			     __field(int,		target)
			     __field(u8,		forced)),
	    TP_fast_assign(__assign_str(patch, patch);
			   __entry->target = target;
			   __entry->forced = forced;),
	    TP_printk("patch=%s target=%s forced=%u",
		      __get_str(patch), klpt_show_state(__entry->target),
		      __entry->forced));

/* A task moved from one patch state to another. */
TRACE_EVENT(klp_task_switch,
	    TP_PROTO(struct task_struct *task, int from, int to, int via),
	    TP_ARGS(task, from, to, via),
	    TP_STRUCT__entry(__field(pid_t,		pid)
			     __field(pid_t,		tgid)
			     __array(char,		comm,	TASK_COMM_LEN)
			     __field(s8,		from)
			     __field(s8,		to)
			     __field(u8,		via)),
	    TP_fast_assign(__entry->pid = task->pid;
			   __entry->tgid = task->tgid;
			   memcpy(__entry->comm, task->comm, TASK_COMM_LEN);
			   __entry->from = from;
			   __entry->to = to;
			   __entry->via = via;),
	    TP_printk("pid=%d tgid=%d comm=%s from=%s to=%s via=%s",
		      __entry->pid, __entry->tgid, __entry->comm,
		      klpt_show_state(__entry->from), klpt_show_state(__entry->to),
		      klpt_show_via(__entry->via)));

/*
 * A task was created: klp_copy_process() is called by copy_process() for
 * every fork, kernel threads included (6.1: after PF_KTHREAD, pid and
 * tgid are set, before the child is on any task list).  state is the
 * patch state the child takes from its parent (undefined outside a
 * transition); kthread is PF_KTHREAD, which in 6.1 only kernel_thread()
 * sets, at this fork, and nothing clears later.
 */
TRACE_EVENT(klp_task_new,
	    TP_PROTO(struct task_struct *child, int state),
	    TP_ARGS(child, state),
	    TP_STRUCT__entry(__field(pid_t,		pid)
			     __field(pid_t,		tgid)
			     __array(char,		comm,	TASK_COMM_LEN)
			     __field(s8,		state)
			     __field(u8,		kthread)),
	    TP_fast_assign(__entry->pid = child->pid;
			   __entry->tgid = child->tgid;
			   memcpy(__entry->comm, child->comm, TASK_COMM_LEN);
			   __entry->state = state;
			   __entry->kthread = !!(child->flags & PF_KTHREAD);),
	    TP_printk("pid=%d tgid=%d comm=%s state=%s kthread=%u",
		      __entry->pid, __entry->tgid, __entry->comm,
		      klpt_show_state(__entry->state), __entry->kthread));

/*
 * copy_process() failed after klp_copy_process() had announced the child
 * (klp_task_new, and klp_task_switch via=fork in a transition): the
 * task never runs and its pid is freed right after.  err is
 * copy_process()'s errno (-ENOMEM: the pid namespace is dying, -EINTR: a
 * fatal signal).
 */
TRACE_EVENT(klp_task_fork_failed,
	    TP_PROTO(pid_t pid, pid_t tgid, const char *comm, int err),
	    TP_ARGS(pid, tgid, comm, err),
	    TP_STRUCT__entry(__field(pid_t,		pid)
			     __field(pid_t,		tgid)
			     __array(char,		comm,	TASK_COMM_LEN)
			     __field(int,		err)),
	    TP_fast_assign(__entry->pid = pid;
			   __entry->tgid = tgid;
			   memcpy(__entry->comm, comm, TASK_COMM_LEN);
			   __entry->err = err;),
	    TP_printk("pid=%d tgid=%d comm=%s err=%d",
		      __entry->pid, __entry->tgid, __entry->comm, __entry->err));

/*
 * A stack check could not switch the task.  err is the negative errno
 * of klp_check_and_switch_task(); func the to-be-(un)patched function
 * found on the stack (reason sleeping_in_func), else empty.
 */
TRACE_EVENT(klp_task_blocked,
	    TP_PROTO(struct task_struct *task, const char *patch, int target,
		     int reason, int err, const char *func),
	    TP_ARGS(task, patch, target, reason, err, func),
	    TP_STRUCT__entry(__field(pid_t,		pid)
			     __field(pid_t,		tgid)
			     __array(char,		comm,	TASK_COMM_LEN)
			     __string(patch,		patch)
			     __field(int,		target)
			     __field(u8,		reason)
			     __field(int,		err)
			     __string(func,		func)),
	    TP_fast_assign(__entry->pid = task->pid;
			   __entry->tgid = task->tgid;
			   memcpy(__entry->comm, task->comm, TASK_COMM_LEN);
			   __assign_str(patch, patch);
			   __entry->target = target;
			   __entry->reason = reason;
			   __entry->err = err;
			   __assign_str(func, func);),
	    TP_printk("pid=%d tgid=%d comm=%s patch=%s target=%s reason=%s err=%d func=%s",
		      __entry->pid, __entry->tgid, __entry->comm,
		      __get_str(patch), klpt_show_state(__entry->target),
		      klpt_show_reason(__entry->reason), __entry->err,
		      __get_str(func)));

/*
 * A reference to a livepatch module was taken or dropped.  refcnt is
 * the count after the operation as /sys/module/<module>/refcnt shows
 * it; caller the code that took or dropped it.
 */
TRACE_EVENT(klp_module_ref,
	    TP_PROTO(const char *module, int op, int refcnt, unsigned long ip,
		     const char *caller),
	    TP_ARGS(module, op, refcnt, ip, caller),
	    TP_STRUCT__entry(__string(module,	module)
			     __field(u8,		op)
			     __field(int,		refcnt)
			     __field(unsigned long,	ip)
			     __string(caller,	caller)),
	    TP_fast_assign(__assign_str(module, module);
			   __entry->op = op;
			   __entry->refcnt = refcnt;
			   __entry->ip = ip;
			   __assign_str(caller, caller);),
	    TP_printk("module=%s op=%s refcnt=%d caller=%s",
		      __get_str(module), klpt_show_ref_op(__entry->op),
		      __entry->refcnt, __get_str(caller)));

/* Patch lifecycle events that carry the patch and its forced flag. */
DECLARE_EVENT_CLASS(klp_patch_class,
		    TP_PROTO(const char *patch, bool forced),
		    TP_ARGS(patch, forced),
		    TP_STRUCT__entry(__string(patch,		patch)
				     __field(u8,		forced)),
		    TP_fast_assign(__assign_str(patch, patch);
				   __entry->forced = forced;),
		    TP_printk("patch=%s forced=%u", __get_str(patch), __entry->forced));

/* The free work of a disabled (or replaced) patch starts. */
DEFINE_EVENT(klp_patch_class, klp_patch_free,
	     TP_PROTO(const char *patch, bool forced),
	     TP_ARGS(patch, forced));

/* The patch kobject was released: patch->finish is completed. */
DEFINE_EVENT(klp_patch_class, klp_patch_release,
	     TP_PROTO(const char *patch, bool forced),
	     TP_ARGS(patch, forced));

/*
 * klp_force_transition() returned and marked this patch forced
 * (patch->forced, forced=1): the free path will never drop its module
 * reference.  One event per patch the core's 6.1 rule marks: target
 * unpatched: the transition patch; target patched and the transition
 * patch is a replace: every other patch on the list, including ones
 * stacked after it (a replace's enable, or its disable reversed to
 * patched); otherwise none (an enable, or a non-replace disable reversed
 * to patched).  A patch marked by an earlier force is reported again.
 */
DEFINE_EVENT(klp_patch_class, klp_patch_forced,
	     TP_PROTO(const char *patch, bool forced),
	     TP_ARGS(patch, forced));

/* Module events of livepatch modules. */
DECLARE_EVENT_CLASS(klp_module_class,
		    TP_PROTO(const char *module),
		    TP_ARGS(module),
		    TP_STRUCT__entry(__string(module,	module)),
		    TP_fast_assign(__assign_str(module, module);),
		    TP_printk("module=%s", __get_str(module)));

/*
 * The last reference of a livepatch module is gone after its patch was
 * freed and released: rmmod is safe from now on.
 */
DEFINE_EVENT(klp_module_class, klp_module_unload_ready,
	     TP_PROTO(const char *module),
	     TP_ARGS(module));

/* A livepatch module is being freed (rmmod, or a failed load). */
DEFINE_EVENT(klp_module_class, klp_module_free,
	     TP_PROTO(const char *module),
	     TP_ARGS(module));

#endif /* _KLP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE klp_trace
#include <trace/define_trace.h>
