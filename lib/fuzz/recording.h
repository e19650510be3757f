/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * The input layout of the "recording" fuzz target, shared with
 * mkseeds.c, which writes its seed: the files of a recording directory
 * in this order, each part ended by RECORDING_SEPARATOR (a line no
 * format file, snapshot or header contains; pages could, which only
 * splits them elsewhere).
 */
#ifndef KLPT_FUZZ_RECORDING_H
#define KLPT_FUZZ_RECORDING_H

#define RECORDING_SEPARATOR "\n--klpt-fuzz-next-file--\n"

/*
 * A part that starts with RECORDING_SHAPE and a kind makes its file
 * something other than a regular file with that content: the shapes of
 * an untrusted recording directory that once hung or blew up a replay
 * (issue 12).  Kinds:
 *   f  a FIFO                 z  a symbolic link to /dev/zero
 *   c  a character device (/dev/zero's 1:5; a link to it without root)
 *   d  a directory            l  a hard link to the first file of the
 *                                input that is a regular file
 *   s  a sparse regular file: the next byte % 16 in MiB, the rest of
 *      the part written at its start (a huge page count from nothing)
 */
#define RECORDING_SHAPE "klpt-fuzz-shape:"

static const char *const recording_files[] = {
	"klptrace-recording",
	"events/header_page",
	"truth.txt",
	"per_cpu/cpu0/trace_pipe_raw",
	"per_cpu/cpu1/trace_pipe_raw",
	"events/klp/klp_transition_init/format",
	"events/klp/klp_transition_start/format",
	"events/klp/klp_transition_reverse/format",
	"events/klp/klp_transition_pass/format",
	"events/klp/klp_transition_signal/format",
	"events/klp/klp_transition_force/format",
	"events/klp/klp_transition_cancel/format",
	"events/klp/klp_transition_complete/format",
	"events/klp/klp_task_switch/format",
	"events/klp/klp_task_blocked/format",
	"events/klp/klp_module_ref/format",
	"events/klp/klp_patch_free/format",
	"events/klp/klp_patch_release/format",
	"events/klp/klp_module_unload_ready/format",
	"events/klp/klp_module_free/format",
	"events/module/module_load/format",
	"events/module/module_free/format",
	"events/module/module_get/format",
	"events/module/module_put/format",
	"events/sched/sched_process_exit/format",
	"events/klp/klp_task_new/format",
	"events/task/task_newtask/format",
	"events/task/task_rename/format",
	"events/ftrace/print/format",
};

#define RECORDING_NFILES \
	(sizeof(recording_files) / sizeof(recording_files[0]))

#endif /* KLPT_FUZZ_RECORDING_H */
