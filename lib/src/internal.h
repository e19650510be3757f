/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libklptrace internals: the contracts between the library's parts.
 *
 *   pages.c    per-CPU ring-buffer pages -> records in timestamp order
 *   decode.c   records -> struct klpt_event (fields looked up once)
 *   truth.c    ground-truth snapshot of sysfs/procfs; save/load
 *   model.c    patches, tasks, modules; applies events; verdicts
 *   live.c     the session's tracefs instance, per-CPU readers, fallback
 *   instance.c the instance's name and owner lock; removal of stale ones
 *   replay.c   recordings (directory) and trace.dat
 *   record.c   writes a recording
 *   session.c  the public session object; ties the parts together
 *   actions.c  disable, force, unload, wait
 *   load.c     load a livepatch module, wait for its transition
 *   util.c     small helpers the actions and the load share
 *
 * Everything here has hidden visibility (the default of the build); only
 * KLPT_API functions are exported.
 */
#ifndef KLPT_INTERNAL_H
#define KLPT_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <event-parse.h>
#include <kbuffer.h>

#include "klptrace.h"

#define KLPT_API __attribute__((visibility("default")))

/* Return -err and set errno = err (err > 0): the public error idiom. */
static inline int klpt_err(int err)
{
	errno = err;
	return -err;
}

/* -------------------------------------------------------------- util.c */

/* MODULE_NAME_LEN on 64-bit (64 - sizeof(unsigned long)), with its NUL */
#define KLPT_MODULE_NAME_LEN	56

/* A kernel release as uname(2) has it (struct utsname's 65), its NUL */
#define KLPT_KERNEL_LEN	65

/*
 * A kernel release as a recording keeps it: one word of printable ASCII
 * (UTS_RELEASE), never a byte that would reach a terminal raw.
 */
static inline bool klpt_release_ok(const char *s)
{
	size_t n = strlen(s);

	return n && n < KLPT_KERNEL_LEN &&
	       strspn(s, "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNO"
		      "PQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~") == n;
}

/* The real system's root: only there may a module be loaded or removed. */
static inline bool klpt_real_root(const char *root)
{
	return !root || !*root || !strcmp(root, "/");
}

/* A module or patch name as the kernel takes it: one path component. */
static inline bool klpt_name_ok(const char *name)
{
	size_t n = strnlen(name, KLPT_MODULE_NAME_LEN);

	return n && n < KLPT_MODULE_NAME_LEN && !strchr(name, '/') &&
	       strcmp(name, ".") && strcmp(name, "..");
}

/* A kernel errno as the actions report it: EACCES folded into EPERM. */
static inline int klpt_perm(int err)
{
	return err == EACCES ? EPERM : err;
}

/* CLOCK_MONOTONIC in ns (live.c's instances use trace_clock mono). */
uint64_t klpt_mono_ns(void);

/* snprintf into why (one line for the caller) unless why is NULL/size 0. */
void klpt_why_set(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Copy a caller's options struct (in, its sz field in_sz; its first
 * member is size_t sz) into out (size bytes, zeroed first), as libbpf
 * does: sz smaller than the sz field itself is -EINVAL, a larger struct
 * of a newer header is fine if what this library does not know is
 * zero.  out's sz becomes size.  in NULL: all zero.
 */
int klpt_opts_copy(void *out, size_t size, const void *in, size_t in_sz);

/* ------------------------------------------------------------- pages.c */

/*
 * Merges per-CPU streams of raw ring-buffer pages (sub-buffers, the
 * format of per_cpu/cpuN/trace_pipe_raw) into records in timestamp
 * order.  Pages are pushed by a source (live or replay); records are
 * pulled by the session.
 */
struct klpt_merge;

struct klpt_merge *klpt_merge_new(struct tep_handle *tep, int ncpus);
void klpt_merge_free(struct klpt_merge *m);

/*
 * Queue a copy of one page of cpu (page_size bytes as the kernel wrote
 * it; shorter reads are fine).  -EBADMSG if it is not a valid page.
 */
int klpt_merge_push(struct klpt_merge *m, int cpu, const void *page,
		    size_t len);

/*
 * The next record over all CPUs in timestamp order among what is queued,
 * or NULL when every CPU's queue is empty.  The record stays valid until
 * the next call.  *lost is set to the number of events the kernel
 * dropped just before this record on its CPU (0 normally; UINT64_MAX if
 * it dropped some but did not say how many).
 */
struct tep_record *klpt_merge_next(struct klpt_merge *m, uint64_t *lost);

/*
 * (Added with pages.c.)  A source that reads pages faster than in real
 * time (a replay) pushes each CPU's pages lazily and marks the CPU with
 * more = true while it has pages left: klpt_merge_next() then returns
 * NULL as soon as such a CPU's queue is empty, since its next page may
 * hold earlier records than the other CPUs' queued ones.  The source
 * refills the CPUs whose klpt_merge_queued() is 0 and clears more at
 * each CPU's end.  Live sources leave more false.
 */
void klpt_merge_set_more(struct klpt_merge *m, int cpu, bool more);
int klpt_merge_queued(const struct klpt_merge *m, int cpu);	/* pages */

/*
 * A live source reads its CPUs one after the other, so a CPU read early
 * in a fill may receive events older than some read later from another
 * CPU (the reader's own task switch on its way back from a read, for
 * one).  It sets the horizon to the time (trace clock) the fill began:
 * klpt_merge_next() then returns NULL before a record at or after it and
 * klpt_merge_held() says so; the next fill, begun later, releases it.
 * Default UINT64_MAX (replays, fake tracefs): no horizon.
 */
void klpt_merge_set_horizon(struct klpt_merge *m, uint64_t ts);
bool klpt_merge_held(const struct klpt_merge *m);

/*
 * A live source also marks a CPU "more" (klpt_merge_set_more()) while a
 * fill left some of its pages in the kernel: klpt_merge_next() stops at
 * its last queued record and klpt_merge_held() says so (with a horizon
 * set; a replay's stop is not "held").
 *
 * A record the kernel showed only after newer ones of other CPUs were
 * returned (its writer stalled between reserve and commit: pages.c) is
 * returned all the same, and counted: klpt_merge_late() is the number of
 * records returned older than one returned before them,
 * klpt_merge_last_late() whether the last one returned was such.
 */
uint64_t klpt_merge_late(const struct klpt_merge *m);
bool klpt_merge_last_late(const struct klpt_merge *m);

/* ------------------------------------------------------------ decode.c */

struct klpt_decoder;

/*
 * Looks up the klp and module event formats (and
 * sched:sched_process_exit, task:task_newtask, task:task_rename) in tep
 * once.  Events that tep lacks are simply never decoded (no klptrace.ko:
 * fallback).
 */
struct klpt_decoder *klpt_decoder_new(struct tep_handle *tep);
void klpt_decoder_free(struct klpt_decoder *d);

/* True if tep knows the klp events (klptrace.ko was loaded). */
bool klpt_decoder_has_klp(const struct klpt_decoder *d);

/*
 * Decode rec into ev.  Returns 1 if it is an event of ours, 0 if not (ev
 * untouched), -EBADMSG if it is ours but malformed.  Strings in ev point
 * into rec or into d and stay valid until the next call.
 */
int klpt_decode(struct klpt_decoder *d, struct tep_record *rec,
		struct klpt_event *ev);

/*
 * (Added with decode.c.)  Which source the module events come from, so
 * that no reference or free is counted twice.  false (the default:
 * KLPT_MODE_EVENTS and replays of it): klp_module_ref and
 * klp_module_free are decoded; module:module_get/module_put/module_free
 * are ignored (return 0), klp_* carry the same for livepatch modules.
 * true (KLPT_MODE_FALLBACK): the reverse; module:module_get/put become
 * KLPT_EV_MODULE_REF for every module (refcnt corrected to the sysfs
 * value, the raw one is one higher; caller ""), module:module_free
 * KLPT_EV_MODULE_FREE.  module:module_load is KLPT_EV_MODULE_LOAD and
 * the other klp_* events are decoded in both modes.  task:task_newtask
 * is KLPT_EV_TASK_NEW in the fallback, and without it too when the tep
 * has no klp_task_new (an older klptrace.ko).
 */
void klpt_decoder_set_fallback(struct klpt_decoder *d, bool fallback);

/* ------------------------------------------------------------- truth.c */

/* Ground truth as the kernel shows it in sysfs and procfs. */
struct klpt_truth_patch {
	char name[64];
	int enabled;		/* /sys/kernel/livepatch/<p>/enabled */
	int transition;		/* .../transition */
};

struct klpt_truth_task {
	int tid, tgid;
	int state;		/* /proc/<tgid>/task/<tid>/patch_state */
	bool kthread;		/* PF_KTHREAD in .../stat */
	/*
	 * starttime (field 22 of .../stat), clock ticks since boot, if
	 * has_start (not: unparsable, or a recording made before it was
	 * kept).  With tid it names one task: a reused tid has another.
	 */
	bool has_start;
	unsigned long long start;
	char comm[KLPT_COMM_LEN];
};

struct klpt_truth_module {
	char name[64];
	int refcnt;		/* /sys/module/<m>/refcnt */
	bool livepatch;		/* has a patch dir, or was one (see model) */
};

struct klpt_truth {
	uint64_t ts;		/* trace clock when taken, 0 if unknown */
	int npatches, ntasks, nmodules;
	struct klpt_truth_patch *patches;
	struct klpt_truth_task *tasks;
	struct klpt_truth_module *modules;
	/*
	 * The possible CPUs (<root>/sys/devices/system/cpu/possible), in
	 * increasing order: 6.1 creates an idle task for each at boot
	 * (idle_threads_init()), and every transition walks them
	 * (for_each_possible_cpu(cpu) idle_task(cpu)), but procfs lists
	 * none of them.  npossible < 0: not known (the file is missing, or
	 * a recording made before it was kept).
	 */
	int npossible;
	int *possible;
	/*
	 * A replay's start-up snapshot only: the threads of the snapshot
	 * the recording took when it ended (truth-end.txt), sorted by tid.
	 * Not tasks of this snapshot: what the model may learn of a task
	 * an event names later (whether it is a kernel thread), if tid and
	 * comm match.  NULL if none.
	 */
	int nhints;
	struct klpt_truth_task *hints;
	/*
	 * klpt_truth_take_tasks(): the patches and some tasks' states
	 * only (no modules, CPUs, comm or start); see
	 * klpt_model_refresh().
	 */
	bool partial;
};

/* A task to read: its tid and tgid (0: unknown). */
struct klpt_tid {
	int tid, tgid;
};

/*
 * Read the ground truth under root ("" for the real system).  Tolerates
 * tasks and modules vanishing while it reads.  -EOPNOTSUPP if
 * <root>/sys/kernel/livepatch does not exist.
 */
int klpt_truth_take(const char *root, struct klpt_truth **out);
void klpt_truth_free(struct klpt_truth *t);

/*
 * The patches, and the patch_state of the n tasks of ids alone (the
 * fallback's cheap round, fbscan.c): a partial truth, in the list's
 * order; KLPT_STATE_UNKNOWN for a task whose file cannot be read.
 * -EPERM/-EACCES and -ENOMEM as klpt_truth_take().
 */
int klpt_truth_take_tasks(const char *root, const struct klpt_tid *ids,
			  int n, struct klpt_truth **out);
/* <root>/sys/module/<name>/refcnt: 0, -ENOENT (gone), -errno, -EBADMSG */
int klpt_truth_refcnt(const char *root, const char *name, int *refcnt);

/*
 * Parse a kernel CPU list ("0-3,6\n") into a malloc'd array in
 * increasing order: the number of CPUs, or -EINVAL (malformed,
 * decreasing, a CPU above 65535 or more than 8192 of them) / -ENOMEM.
 */
int klpt_cpulist_parse(const char *list, int **out);

/* A recording keeps the start-up snapshot as text in a file. */
int klpt_truth_save(const struct klpt_truth *t, FILE *f);
int klpt_truth_load(FILE *f, struct klpt_truth **out);	/* -EBADMSG */

/* ------------------------------------------------------------ fbscan.c */

struct klpt_model;

/* The fallback's ticks: what each reads, and the interval (fbscan.c). */
struct klpt_fbscan {
	unsigned int base_ms;	/* poll_ms */
	unsigned int max_ms;	/* the longest interval */
	unsigned int cur_ms;	/* the interval now */
	/* the patches as last read (sorted by name), if known */
	struct klpt_truth_patch *patches;
	int npatches;
	bool known;
	bool full;		/* the next tick takes a whole snapshot */
};

void klpt_fbscan_init(struct klpt_fbscan *f, unsigned int base_ms);
void klpt_fbscan_free(struct klpt_fbscan *f);

/*
 * A tick: 1 if it must take a whole snapshot (klpt_truth_take()); 0 and
 * in *out the cheap round's partial truth (the patches unchanged, the
 * model's unsettled tasks read) for klpt_model_refresh(); or a negative
 * errno.  cheap_ok: the session sees task creations and exits.
 */
int klpt_fbscan_begin(struct klpt_fbscan *f, const struct klpt_model *m,
		      const char *root, bool cheap_ok,
		      struct klpt_truth **out);
/* A whole snapshot was applied: its patches are the ones to compare. */
int klpt_fbscan_taken(struct klpt_fbscan *f, const struct klpt_truth *t);
/* After a cheap round: the next interval (short if it changed things). */
unsigned int klpt_fbscan_after(struct klpt_fbscan *f, bool changed);
/* An event changed what a cheap round would rely on: whole, and soon. */
unsigned int klpt_fbscan_changed(struct klpt_fbscan *f);

/* ------------------------------------------------------------ pfuncs.c */

/* One <object>/<function,sympos> directory of a patch. */
struct klpt_pfunc {
	char object[64];	/* "vmlinux" or a module's name */
	char name[512];		/* KSYM_NAME_LEN of 6.1 */
	unsigned long sympos;	/* as the directory says: 1 for 0 */
	bool patched;		/* the object's `patched`: on the stacks */
};

/* What sysfs shows of a patch's functions and its place (pfuncs.c). */
struct klpt_pinfo {
	/*
	 * The patch directory's inode number: larger is later on
	 * klp_patches (kernfs numbers nodes in creation order); 0 unknown.
	 */
	uint64_t order;
	int enabled;		/* its `enabled` as read with it; -1 unknown */
	int nfuncs;
	struct klpt_pfunc *funcs;
};

/*
 * Read <root>/sys/kernel/livepatch/<patch>: 0, or -ENOENT (no such
 * directory, gone), -E2BIG (more than 4096 functions), another -errno.
 * An object freed meanwhile is left out.  Free with klpt_pinfo_free().
 */
int klpt_pinfo_take(const char *root, const char *patch,
		    struct klpt_pinfo *out);
void klpt_pinfo_free(struct klpt_pinfo *pi);

/* ------------------------------------------------------------- phist.c */

/*
 * A patch's history (klpt_patch_history_*(), klpt_patch_blocker_*()):
 * fixed arrays inside the patch, so that no event allocates.  The first
 * PHIST_HEAD steps stay; after them a ring of the most recent ones.
 */
#define KLPT_PHIST_HEAD		8
#define KLPT_PHIST_MAX		64
#define KLPT_PHIST_BLOCKERS	8

struct klpt_phist {
	struct klpt_patch_step step[KLPT_PHIST_MAX];
	int n;			/* steps kept */
	int ring;		/* the oldest of the ring, once full */
	unsigned int dropped;	/* steps left out after the head */
	bool whole;		/* it starts at the patch's enable */
	uint64_t since;		/* the session first knew the patch; 0 not yet */
	struct klpt_patch_blocker blk[KLPT_PHIST_BLOCKERS]; /* most checks first */
	int nblk;
	unsigned int blocked_tasks;	/* distinct, either direction */
	unsigned int blocked_to[2];	/* distinct, per target */
	bool blk_exact;
};

/* A new life (whole: from its enable's init) or a new transition. */
void klpt_phist_begin(struct klpt_phist *h, uint64_t ts, bool whole);
void klpt_phist_transition(struct klpt_phist *h);
/* ev as a step: kept aside for a patch not known yet (model.c) */
void klpt_phist_step(struct klpt_patch_step *st, const struct klpt_event *ev);
/* ev, an event about the patch (klptrace.h's list), as a step. */
void klpt_phist_event(struct klpt_phist *h, const struct klpt_event *ev);
void klpt_phist_add(struct klpt_phist *h, const struct klpt_patch_step *st);
/*
 * A klp_task_blocked of the patch's transition: first, the task's first
 * check in this direction; exact, every check of it was seen so far.
 * checks, first_ns: the task's count after this one, its first check.
 */
void klpt_phist_blocked(struct klpt_phist *h, const struct klpt_event *ev,
			unsigned int checks, uint64_t first_ns,
			bool first_any, bool first_to, bool exact);
/* Events were lost at ts: a step, and a transition's counts are bounds. */
void klpt_phist_lost(struct klpt_phist *h, uint64_t ts, bool in_transition);
const struct klpt_patch_step *klpt_phist_at(const struct klpt_phist *h,
					    int i);

/* ------------------------------------------------------------- model.c */

struct klpt_model;

struct klpt_model *klpt_model_new(void);
void klpt_model_free(struct klpt_model *m);

/* Apply one event (in order).  Unknown patches/tasks are created. */
void klpt_model_apply(struct klpt_model *m, const struct klpt_event *ev);

/*
 * Make the model agree with a snapshot: at start-up (events enabled
 * first, then the snapshot, then this) and after lost events.  Keeps
 * what the snapshot cannot know (reasons, functions, timestamps, free
 * and release progress) where it is consistent with the snapshot.
 */
void klpt_model_reconcile(struct klpt_model *m, const struct klpt_truth *t);

/*
 * The events will carry no task exits (a trace.dat without
 * sched_process_exit): tasks are forgotten when a transition completes
 * (every task is undefined then, nothing is lost) so that their number
 * stays that of one transition instead of growing without end.  For
 * the same reason a task created outside a transition is not added (no
 * exit would ever remove it; outside one it has no state to show): the
 * tasks listed then are those the events of a transition name.
 */
void klpt_model_no_exits(struct klpt_model *m);

/*
 * The session sees no per-task event now (KLPT_MODE_FALLBACK): at each
 * reconcile the idle tasks' states in a started transition are unknown
 * (nothing reports their switches, and procfs does not list them).
 */
void klpt_model_set_fallback(struct klpt_model *m, bool on);

/*
 * The fallback's cheap round (model.c explains why it is enough): the
 * tasks whose patch_state may have changed since the model learned it
 * (*out, malloc'd) and their number, or -EAGAIN if only a whole
 * snapshot can tell, or -ENOMEM; and the application of what was read
 * of them (klpt_truth_take_tasks()): the number of tasks that changed.
 */
int klpt_model_unsettled(const struct klpt_model *m, struct klpt_tid **out);
int klpt_model_refresh(struct klpt_model *m, const struct klpt_truth *t);

/*
 * (Added with model.c.)  The public accessors on a bare model, for parts
 * and unit tests that hold a model but no session; the klptrace.h ones
 * are these on klpt_session_model().  Modules are the livepatch modules
 * only.  klpt_model_stale(): events were lost (KLPT_EV_LOST) and no
 * reconcile followed yet; verdicts are KLPT_HOLD_UNKNOWN meanwhile.
 */
int klpt_model_patch_count(const struct klpt_model *m);
const struct klpt_patch *klpt_model_patch_at(const struct klpt_model *m,
					     int i);
/*
 * Progress of p's transitions: a count that grows by one whenever a task
 * that was there when the transition began leaves !target (switches to
 * the target, or exits).  A task created during the transition (it
 * copies its creator's state) counts nothing, nor does a state becoming
 * unknown; a state found at the target after being unknown counts if
 * it was !target before.  In the fallback, a task first seen by a poll
 * during a transition the model knew counts as created then.
 */
uint64_t klpt_patch_moved(const struct klpt_patch *p);
/* Its place on klp_patches (the st_ino of its directory); 0 unknown. */
uint64_t klpt_patch_order(const struct klpt_patch *p);
const struct klpt_patch *klpt_model_patch_find(const struct klpt_model *m,
					       const char *name);
int klpt_model_task_count(const struct klpt_model *m);
const struct klpt_task *klpt_model_task_at(const struct klpt_model *m,
					   int i);
const struct klpt_task *klpt_model_task_find(const struct klpt_model *m,
					     int tid);
int klpt_model_module_count(const struct klpt_model *m);
const struct klpt_module *klpt_model_module_at(const struct klpt_model *m,
					       int i);
const struct klpt_module *klpt_model_module_find(const struct klpt_model *m,
						 const char *name);
enum klpt_verdict klpt_model_verdict(const struct klpt_model *m,
				     const struct klpt_module *mod,
				     char *why, size_t size);
bool klpt_model_stale(const struct klpt_model *m);

/*
 * (Added with pfuncs.c.)  What a live session read of patch's directory
 * (klpt_pinfo_take()); the model takes pi's functions over (pi is
 * emptied).  A directory that shows no object any more (6.1
 * klp_free_patch_start() freed them) keeps the functions known, none of
 * them patched.  Ignored for a patch the model does not have.  `enabled`
 * 0 of a patch the model has enabled and out of transition: in 6.1 only
 * an atomic replace's completion does that (klp_unpatch_replaced_patches()
 * clears patch->enabled, no transition of its own): the model marks it
 * replaced, its free work to come.
 */
void klpt_model_set_pinfo(struct klpt_model *m, const char *patch,
			  struct klpt_pinfo *pi);
/*
 * Whose version of function i of patch p runs: 1 and *live the patch
 * (NULL: the original function), or 0 when the session cannot know (a
 * patch that may have it is of unknown functions or order); -ENOENT
 * for no such function (p's functions unknown, or i out of range).
 */
int klpt_model_func_live(const struct klpt_model *m,
			 const struct klpt_patch *p, int i,
			 const struct klpt_patch **live);

/*
 * The public model accessors of klptrace.h (klpt_patch_*, klpt_task_*,
 * klpt_module_*, klpt_module_verdict) are implemented in model.c on
 * these structures; session.c forwards the session's model.
 */
struct klpt_model *klpt_session_model(const struct klpt_session *s);

/*
 * (Added with session.c.)  The session's prefix of /sys and /proc
 * (opts->root; "" for the real system): actions.c writes under
 * <root>/sys/kernel/livepatch and reads the truth there too.
 */
const char *klpt_session_root(const struct klpt_session *s);
/*
 * The session's time in ns: CLOCK_MONOTONIC live (the events' clock),
 * the last event's time in a replay (the recording's clock, which
 * advances only as the replay does).
 */
uint64_t klpt_session_now_ns(const struct klpt_session *s);
/*
 * A waiter inside the library (klpt_wait_transition()) that must look at
 * the model right after some events, not only after a whole batch (a
 * replay's batch, or a live one's, may hold a transition's end and the
 * next one's start): processing stops after an event for which fn
 * returns true (applied to the model and given to on_event), as when
 * on_event asks to stop.  fn NULL: none.
 */
typedef bool (*klpt_stop_fn)(const struct klpt_event *ev, void *ctx);
void klpt_session_set_stop(struct klpt_session *s, klpt_stop_fn fn,
			   void *ctx);

/* ---------------------------------------------------------- instance.c */

/*
 * The owner of the session's tracefs instance "klptrace-<pidns>-<pid>"
 * and of the lock <root>/run/klptrace/<name> that says it is alive
 * (instance.c has the rules).
 */
struct klpt_inst_owner {
	char name[64];
	unsigned long long ns;	/* our PID namespace's inode (or random) */
	bool ns_known;
	int dirfd;		/* <root>/run/klptrace, or -1: no locks */
	int lockfd;		/* our flock'ed lock file, or -1 */
};

/*
 * Our name and, if <root>/run/klptrace can be ours, our lock: 0, or
 * -EBUSY if a live process holds our name's lock (do not touch it).
 */
int klpt_inst_claim(const char *root, struct klpt_inst_owner *o);
/* Our instance exists: record its directory's identity in our lock. */
void klpt_inst_created(const char *tracing_dir, struct klpt_inst_owner *o);
/* Remove the instances of our pattern whose owner is provably gone. */
void klpt_inst_remove_stale(const char *tracing_dir,
			    const struct klpt_inst_owner *o);
/* Drop the lock; its file too if our instance was removed. */
void klpt_inst_release(struct klpt_inst_owner *o, bool removed);

/* ------------------------------------------------- live.c / replay.c */

/*
 * klptrace.ko's report (tracepoints/README.md, "Hooks and degraded
 * modes"), as live.c reads it.
 */
/*
 * Counts read from klptrace.ko's files (missed hits, switches) and the
 * losses made of them stop here: 2^53 - 1, the largest integer a JSON
 * reader's double holds exactly, and far more than a probe can miss.
 * A larger value is not a count (a corrupt or hostile file).
 */
#define KLPT_COUNT_MAX ((1ull << 53) - 1)

struct klpt_hooks_state {
	/* a hook is registered but does not fire now (ftrace off, ...) */
	bool off;
	/*
	 * the sum of /sys/kernel/klptrace/missed, at most KLPT_COUNT_MAX;
	 * UINT64_MAX: unknown
	 */
	uint64_t missed;
	/* /sys/kernel/klptrace/ftrace_switches; UINT64_MAX: unknown */
	uint64_t switches;
};

/*
 * A source of pages for a session.  live.c and replay.c implement it;
 * session.c drives it.
 */
struct klpt_source {
	struct tep_handle *tep;		/* formats of this source's events */
	int ncpus;
	struct klpt_truth *truth;	/* start-up snapshot (may be NULL) */
	enum klpt_mode mode;
	/*
	 * The traced kernel's release (klpt_session_kernel()): live, filled
	 * by session.c; a replay's, from its header ("" unknown).
	 */
	char kernel[KLPT_KERNEL_LEN];
	/*
	 * No sched_process_exit in this source (a trace.dat recorded
	 * with -e klp only): the model cannot see tasks leave
	 * (klpt_model_no_exits()).
	 */
	bool no_exits;
	/*
	 * A replay whose records third-party code reads (libtracecmd for a
	 * trace.dat): session.c's probe child reads them all before the
	 * real open.  A recording directory's pages and records are read
	 * by our code only (pages.c, decode.c); libtraceevent parses its
	 * formats, at the open, which the probe covers either way.
	 */
	bool probe_records;
	/*
	 * Push whatever pages are available now into m without blocking.
	 * Returns pages pushed, 0 if none now (for a replay: the end), or
	 * a negative errno.
	 */
	int (*fill)(struct klpt_source *src, struct klpt_merge *m);
	/* fd that is readable when fill has work (see klpt_session_fd) */
	int (*fd)(struct klpt_source *src);
	/*
	 * A live source's raw pages are also written here while recording
	 * (record.c); NULL otherwise.
	 */
	struct klpt_recorder *rec;
	/*
	 * (Added for klptrace.ko's removal.)  A live source in the events
	 * mode: true once klptrace.ko's events have left the instance (the
	 * module was removed, which also resets the ring buffers).  The
	 * source has then enabled the fallback's module events and says
	 * KLPT_MODE_FALLBACK; the session starts polling.  NULL elsewhere.
	 */
	bool (*klp_gone)(struct klpt_source *src);
	/*
	 * (Added for hooks that stop firing.)  A live source: klptrace.ko's
	 * report (struct klpt_hooks_state).  -ENOENT if klptrace.ko is
	 * gone (/sys/kernel/klptrace is); another -errno if its hooks file
	 * cannot be read now or holds no hook line (nothing known).  NULL
	 * elsewhere.
	 */
	int (*hooks)(struct klpt_source *src, struct klpt_hooks_state *st);
	/*
	 * A live source in the events mode whose klp events are the
	 * kernel's own (the native series, kernel/native/): they were in
	 * tracefs at open with no klptrace.ko loaded.  Nothing to poll:
	 * hooks is NULL.
	 */
	bool native;
	/*
	 * A live source: enable the fallback's module events and say
	 * KLPT_MODE_FALLBACK (on), or disable them and say
	 * KLPT_MODE_EVENTS again (off).  The klp events stay enabled.
	 */
	void (*degrade)(struct klpt_source *src, bool on);
	/*
	 * Losses the session found outside the ring buffer (klptrace.ko's
	 * missed counts, hooks off) while recording: the live source marks
	 * the next page it records as preceded by lost events, as the
	 * kernel marks an overrun, so that a replay counts them as the
	 * session did.  rec_lost: how many (an unknown number counts 1);
	 * rec_lost_known: some of them had a count.
	 */
	uint64_t rec_lost;
	bool rec_lost_known;
	/*
	 * A replay: back to its first page, on the files (and the formats,
	 * the snapshot) its open read and checked (the probe's): a file
	 * swapped at the recording's path since is never read.  NULL live.
	 */
	int (*rewind)(struct klpt_source *src);
	/*
	 * A replay's bytes of pages read so far and in all; -EOPNOTSUPP
	 * where the source cannot tell (a trace.dat: libtracecmd's records).
	 */
	int (*progress)(const struct klpt_source *src, uint64_t *done,
			uint64_t *total);
	void (*close)(struct klpt_source *src);
};

int klpt_live_open(const struct klpt_session_opts *opts,
		   struct klpt_source **out);
int klpt_replay_open(const char *path, struct klpt_source **out);
/*
 * klpt_replay_error() (klptrace.h) says why the last klpt_replay_open()
 * or replay fill of this thread failed.  klpt_replay_fail() sets it to
 * msg for a failure found outside replay.c (session.c's probe) and
 * returns -err with errno set.
 */
int klpt_replay_fail(int err, const char *msg);

/* ------------------------------------------------------------ record.c */

struct klpt_recorder;

/*
 * Create dir and write the tracefs layout of src's events (taken from
 * tracefs_dir: events/header_page, events/<sys>/<ev>/format for the klp
 * and module systems) and the start-up truth.  Then every page a live
 * source reads is appended with klpt_recorder_page().
 */
int klpt_recorder_open(const char *dir, const char *tracefs_dir,
		       const struct klpt_truth *truth, int ncpus,
		       struct klpt_recorder **out);
int klpt_recorder_page(struct klpt_recorder *r, int cpu, const void *page,
		       size_t len);
void klpt_recorder_close(struct klpt_recorder *r);

/*
 * (Added with record.c.)  The trace clock of the recorded instance, for
 * the recording's header ("mono" for live.c's instances); "unknown"
 * until set: the top-level tracefs_dir may use another clock.
 */
int klpt_recorder_set_clock(struct klpt_recorder *r, const char *clock);
/*
 * (Added for the replay's header.)  The traced kernel's release for the
 * header's kernel_release ("" or never set: no such key); one word of
 * at most 64 bytes, else -EINVAL.
 */
int klpt_recorder_set_kernel(struct klpt_recorder *r, const char *release);
/*
 * Where the ground truth is (klpt_session_root()): at close the recorder
 * writes a snapshot of it as truth-end.txt, so that a replay knows which
 * tasks born during the recording are kernel threads.
 */
int klpt_recorder_set_root(struct klpt_recorder *r, const char *root);

/*
 * (Added with record.c.)  Read a whole file of at most max bytes into a
 * NUL-terminated malloc'd buffer (*len without the NUL; len may be
 * NULL).  0 or a negative errno (-EFBIG if longer than max).
 */
int klpt_read_file(const char *path, size_t max, char **out, size_t *len);
/*
 * Open path for reading only if it is a regular file, not a link to one
 * (a FIFO would block the open, a device never end): the fd, or -EINVAL
 * for any other kind of file, or a negative errno.  klpt_read_file()
 * opens with it: recordings are untrusted input.
 */
int klpt_open_regular(const char *path);

/* ----------------------------------------------------------- actions.c */

/*
 * (Added with actions.c.)  How klpt_module_unload() removes a module
 * once its verdict is KLPT_READY.  The default calls
 * delete_module(module, O_NONBLOCK) only when root is the real system
 * ("" or "/") and fails with -EOPNOTSUPP under any other root, so a
 * test with a fake root can never unload a real module; such tests
 * point this at a function that edits their fake tree.  Returns 0 or a
 * negative errno.
 */
extern int (*klpt_unload_module_fn)(const char *root, const char *module);

/* -------------------------------------------------------------- load.c */

/*
 * How klpt_patch_load() hands the checked file to the kernel: the
 * default calls finit_module(fd, params, 0) only when root is the real
 * system and fails with -EOPNOTSUPP under any other root (as
 * klpt_unload_module_fn).  Tests point it at a function that edits
 * their fake tree.  Returns 0 or a negative errno.
 */
extern int (*klpt_load_module_fn)(const char *root, int fd,
				  const char *params);

/*
 * The stall decision of klpt_wait_transition(), apart from any clock or
 * session so that it can be tested on a scripted sequence: progress is
 * the transition's progress count growing (klpt_patch_moved()), or a
 * new target after a known one (a reverse).
 */
struct klpt_stall {
	uint64_t moved;		/* the count at the last step */
	bool known;		/* a step was taken */
	int target;		/* enum klpt_state, the last known */
	uint64_t since_ns;	/* the last progress */
};

void klpt_stall_init(struct klpt_stall *st, uint64_t now_ns);
/* ns since the last progress, after this observation. */
uint64_t klpt_stall_step(struct klpt_stall *st, uint64_t now_ns, int target,
			 uint64_t moved);

#endif /* KLPT_INTERNAL_H */
