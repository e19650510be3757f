/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Numeric codes carried by the klp trace events.
 *
 * Shared by the kernel side (klp_trace.h, klptrace.ko) and user space
 * (libklptrace), so the values a decoder sees are defined in one place.
 * Plain C, no kernel headers: keep it that way.
 */
#ifndef KLP_TRACE_ABI_H
#define KLP_TRACE_ABI_H

/* task->patch_state and the transition target (KLP_UNDEFINED etc.) */
#define KLP_TRACE_STATE_UNDEFINED		(-1)
#define KLP_TRACE_STATE_UNPATCHED		0
#define KLP_TRACE_STATE_PATCHED		1

/* klp_task_switch.via: the path that moved a task to a new patch state */
#define KLP_TRACE_VIA_USER_RETURN		1	/* exit to user mode */
#define KLP_TRACE_VIA_IDLE			2	/* idle loop of a swapper task */
#define KLP_TRACE_VIA_STACK_CHECK		3	/* klp_try_switch_task() passed */
#define KLP_TRACE_VIA_FORK			4	/* child copied its parent's state */
#define KLP_TRACE_VIA_FORCE			5	/* klp_force_transition() */

/* klp_task_blocked.reason: why a stack check did not switch the task */
#define KLP_TRACE_BLOCKED_RUNNING		1	/* -EBUSY: on a CPU right now */
#define KLP_TRACE_BLOCKED_UNRELIABLE_STACK	2	/* -EINVAL: stack not reliable */
#define KLP_TRACE_BLOCKED_IN_FUNC		3	/* -EADDRINUSE: in a patched func */
#define KLP_TRACE_BLOCKED_OTHER		4	/* any other errno, see .err */
/* still pending at the end of a pass whose checks were not traced */
#define KLP_TRACE_BLOCKED_UNKNOWN		5

/* klp_module_ref.op */
#define KLP_TRACE_REF_GET			1
#define KLP_TRACE_REF_PUT			2

#endif /* KLP_TRACE_ABI_H */
