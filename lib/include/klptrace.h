/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * libklptrace: typed klp trace events and a live model of livepatch
 * patches, tasks and patch modules, with an exact "safe to unload"
 * verdict.
 *
 * Conventions (as libbpf):
 * - every symbol starts with klpt_; objects are opaque handles;
 * - functions returning int return >= 0 on success and a negative errno
 *   on failure, and set errno to the positive value too;
 * - functions returning a pointer return NULL and set errno on failure;
 * - option structs start with a size field (set it with
 *   KLPT_OPTS_INIT) so that they can grow without breaking callers.
 *
 * Threading: a session is not thread-safe; use it from one thread.
 */
#ifndef KLPTRACE_H
#define KLPTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KLPT_VERSION_MAJOR 0
#define KLPT_VERSION_MINOR 1

/* Library version as "MAJOR.MINOR.PATCH". */
const char *klpt_version(void);

/* ---------------------------------------------------------------- events */

/* Patch and task states: task->patch_state and transition targets. */
enum klpt_state {
	/*
	 * klpt_task_state() only: the session cannot know it.  The idle
	 * tasks (swapper/N) are in no /proc listing, so a session that
	 * joins a transition under way (or lost events, or runs in the
	 * fallback, where no event reports their switches) does not know
	 * their state until an event says it (their switch or blocked
	 * check, a pass that found every other task switched, the end of
	 * the transition).
	 */
	KLPT_STATE_UNKNOWN = -2,
	KLPT_UNDEFINED = -1,
	KLPT_UNPATCHED = 0,
	KLPT_PATCHED = 1,
};

/* How a task switched state (klp_task_switch.via). */
enum klpt_via {
	KLPT_VIA_UNKNOWN = 0,
	KLPT_VIA_USER_RETURN = 1,		/* return to user mode */
	KLPT_VIA_IDLE = 2,		/* idle loop of a swapper task */
	KLPT_VIA_STACK_CHECK = 3,		/* stack check passed */
	KLPT_VIA_FORK = 4,		/* inherited from the parent */
	KLPT_VIA_FORCE = 5,		/* klp_force_transition() */
};

/* Why a stack check did not switch a task (klp_task_blocked.reason). */
enum klpt_reason {
	KLPT_REASON_NONE = 0,
	KLPT_REASON_RUNNING = 1,		/* on a CPU (-EBUSY) */
	KLPT_REASON_UNRELIABLE_STACK = 2,	/* -EINVAL */
	KLPT_REASON_SLEEPING_IN_FUNC = 3,	/* -EADDRINUSE, see func */
	KLPT_REASON_OTHER = 4,			/* see err */
	/* pending, cause not traced (fallback mode, or a summarized
	 * first pass) */
	KLPT_REASON_UNKNOWN = 5,
};

enum klpt_event_type {
	KLPT_EV_TRANSITION_INIT,
	KLPT_EV_TRANSITION_START,
	KLPT_EV_TRANSITION_REVERSE,
	KLPT_EV_TRANSITION_PASS,
	KLPT_EV_TRANSITION_SIGNAL,
	KLPT_EV_TRANSITION_FORCE,
	KLPT_EV_TRANSITION_CANCEL,
	KLPT_EV_TRANSITION_COMPLETE,
	KLPT_EV_TASK_SWITCH,
	KLPT_EV_TASK_BLOCKED,
	KLPT_EV_MODULE_REF,		/* klp_module_ref, or module:* in fallback */
	KLPT_EV_PATCH_FREE,
	KLPT_EV_PATCH_RELEASE,
	KLPT_EV_MODULE_UNLOAD_READY,
	KLPT_EV_MODULE_FREE,		/* klp_module_free or module:module_free */
	KLPT_EV_MODULE_LOAD,		/* module:module_load */
	KLPT_EV_LOST,			/* the ring buffer dropped events */
	KLPT_EV_RESYNC,			/* the model was reset to ground truth */
	/*
	 * A thread exited (sched:sched_process_exit, from do_exit(), in
	 * every mode): the model forgets it.  task.pid and task.comm are
	 * set; task.tgid is 0 (the event does not carry it).
	 */
	KLPT_EV_TASK_EXIT,
	/*
	 * klp_force_transition() marked patch.patch forced (patch.forced
	 * is true): its module reference is never dropped.  Only the
	 * patches the kernel marks: a force during an enable marks none,
	 * unless it is an atomic replace (then the replaced ones).
	 */
	KLPT_EV_PATCH_FORCED,
	/*
	 * copy_process() failed after its TASK_SWITCH via fork: the task
	 * task.pid (tgid, comm) never ran.  task.err is the negative errno.
	 */
	KLPT_EV_TASK_FORK_FAILED,
	/*
	 * A task was created (klptrace.ko's klp_task_new for every fork;
	 * without it, the kernel's task:task_newtask): task.pid, tgid
	 * (0: unknown, a thread whose creator the model does not know),
	 * comm (at the fork: the creator's), kthread (1/0, -1 unknown),
	 * ppid (the creating thread, 0 if the event does not say) and to
	 * (the patch state it takes from its creator; KLPT_STATE_UNKNOWN
	 * when the event does not carry it: the model then takes its
	 * creator's).
	 */
	KLPT_EV_TASK_NEW,
	/*
	 * A task's comm changed (task:task_rename, from __set_task_comm():
	 * exec, prctl(PR_SET_NAME), a kernel thread named by its creator):
	 * task.pid and task.comm, the new name.
	 */
	KLPT_EV_TASK_RENAME,
	/*
	 * A thread exec'd (sched:sched_process_exec, after de_thread()):
	 * task.pid is its pid now, task.old_pid the one it had, task.comm
	 * its new name ("" if the event does not tell it).  They differ
	 * when a thread that was not its process's leader exec'd: it took
	 * the leader's pid (exchange_tids()) and the leader is gone.
	 */
	KLPT_EV_TASK_EXEC,
	KLPT_EV__COUNT
};

/* Name of an event type ("klp_task_switch", ...), or NULL. */
const char *klpt_event_type_name(enum klpt_event_type type);

#define KLPT_COMM_LEN 16

/*
 * A decoded event.  Strings point into the library's buffers and are
 * valid only during the callback that receives the event.
 */
struct klpt_event {
	enum klpt_event_type type;
	uint64_t ts;		/* ns, the trace clock of the recording */
	int cpu;		/* -1 for synthetic events (LOST, RESYNC) */
	union {
		/* TRANSITION_*: target is the new target for REVERSE */
		struct {
			const char *patch;
			int target;		/* enum klpt_state */
			unsigned int pass;	/* PASS, SIGNAL */
			unsigned int checked;	/* PASS */
			unsigned int pending;	/* PASS, SIGNAL */
			/*
			 * COMPLETE: the transition patch's patch->forced.
			 * A recording made before klptrace.ko had
			 * klp_patch_forced said "a force ran" here.
			 */
			bool forced;
		} transition;
		/*
		 * TASK_SWITCH, TASK_BLOCKED, TASK_FORK_FAILED, TASK_NEW
		 * and TASK_EXIT, TASK_RENAME (pid, comm), TASK_EXEC
		 */
		struct {
			int pid;
			int tgid;
			char comm[KLPT_COMM_LEN];
			int from, to;		/* SWITCH: enum klpt_state */
			int via;		/* SWITCH: enum klpt_via */
			const char *patch;	/* BLOCKED */
			int target;		/* BLOCKED */
			int reason;		/* BLOCKED: enum klpt_reason */
			int err;		/* BLOCKED, FORK_FAILED: -errno */
			const char *func;	/* BLOCKED: "" unless in func */
			int kthread;		/* NEW: 1, 0, -1 unknown */
			int ppid;		/* NEW: creator tid, 0 unknown */
			int old_pid;		/* EXEC: pid before the exec */
		} task;
		/* MODULE_REF, MODULE_UNLOAD_READY, MODULE_FREE, MODULE_LOAD */
		struct {
			const char *module;
			bool get;		/* REF: get (true) or put */
			int refcnt;		/* REF: as /sys/module/X/refcnt */
			uint64_t ip;		/* REF */
			const char *caller;	/* REF: symbol, "" if unknown */
		} module;
		/* PATCH_FREE, PATCH_RELEASE, PATCH_FORCED */
		struct {
			const char *patch;
			bool forced;
		} patch;
		/* LOST */
		struct {
			uint64_t count;		/* events lost, 0 if unknown */
		} lost;
	};
};

/*
 * The patch an event is about, as the event names it: a transition's,
 * a patch event's, or the module of a MODULE_REF or MODULE_UNLOAD_READY
 * (a patch is named after its module in 6.1; the module may be none's
 * in the fallback, where every module's references come).  NULL for
 * other events, and for an empty name.  "?" when klptrace.ko, loaded
 * during a transition, could not name its patch.
 */
const char *klpt_event_patch(const struct klpt_event *ev);

/* ------------------------------------------------------------- sessions */

struct klpt_session;

/*
 * Called for every event in order, after the model has applied it.
 * Return 0 to go on; non-zero stops klpt_session_process() early (the
 * event is consumed; the next call continues after it).
 */
typedef int (*klpt_event_fn)(struct klpt_session *s,
			     const struct klpt_event *ev, void *ctx);

enum klpt_mode {
	KLPT_MODE_EVENTS = 1,	/* live, klptrace.ko loaded: full detail */
	KLPT_MODE_FALLBACK = 2,	/* live, no klptrace.ko: sysfs/procfs
				 * polling plus module:* events; no
				 * per-task reason or function.  A
				 * session whose klptrace.ko is removed
				 * switches to it (LOST, then RESYNC) */
	KLPT_MODE_REPLAY = 3,	/* offline, from a recording */
};

/* Don't use klptrace.ko events even if loaded (forces the fallback). */
#define KLPT_F_FALLBACK		(1u << 0)

struct klpt_session_opts {
	size_t sz;			/* sizeof(struct klpt_session_opts) */
	klpt_event_fn on_event;		/* may be NULL */
	void *ctx;
	unsigned int flags;		/* KLPT_F_* */
	/*
	 * Where tracefs is (default: what libtracefs finds, which as root
	 * may mount it).  Tests point this at a fake directory.
	 */
	const char *tracefs_dir;
	/*
	 * Prefix for /sys and /proc (default ""): ground truth is read from
	 * <root>/sys/kernel/livepatch, <root>/sys/module, <root>/proc; the
	 * live instance's lock is <root>/run/klptrace/<instance>.
	 */
	const char *root;
	unsigned int buffer_kb;		/* per-CPU ring buffer, default 1024 */
	/*
	 * Fallback polling, default 500: the shortest interval; it doubles
	 * while nothing changes, up to 8 times this (klpt_session_open_live(3))
	 */
	unsigned int poll_ms;
};

#define KLPT_OPTS_INIT(type, name, ...)					\
	struct type name = { .sz = sizeof(struct type), __VA_ARGS__ }

/*
 * Start a live session: creates the session's own tracefs instance
 * "klptrace-<pidns>-<pid>", locked in <root>/run/klptrace (removing
 * first the instances whose owner is provably gone: README, "Its
 * tracefs instance"), enables the klp and
 * module events, snapshots the ground truth and reconciles the model
 * with it.  Needs root.  Errors: -EPERM/-EACCES (not root), -ENODEV (no
 * tracefs), -EOPNOTSUPP (the kernel has no livepatch), -EBUSY (a live
 * session is open in this process, or another process holds the lock
 * of this process's instance name).
 */
int klpt_session_open_live(const struct klpt_session_opts *opts,
			   struct klpt_session **out);

/*
 * Open a recording made by klpt_session_record() (a directory) or a
 * trace.dat of `trace-cmd record -e klp`.  Nothing is read from the
 * running system.  -EINVAL/-EBADMSG for a corrupt or foreign recording.
 * The recording is first opened in a child process (and a trace.dat
 * read once to its end there), because libtraceevent and libtracecmd
 * can crash on corrupt files: such a recording is -EBADMSG too
 * (KLPT_REPLAY_NO_PROBE=1 in the environment skips that probe; a
 * directory's pages and records are read by libklptrace's own checked
 * code only, so its probe stops after the formats are parsed).  That
 * probe is bounded: -ETIMEDOUT after 60 s, and
 * -EINTR if a signal is caught meanwhile (the child is killed and
 * reaped either way).  Only regular files are read (a FIFO, a device
 * or a link in the recording is -EBADMSG), and a recording whose pages
 * would take more than 256 MiB at once (page_size times ncpus) is
 * refused.
 */
int klpt_session_open_replay(const char *path,
			     const struct klpt_session_opts *opts,
			     struct klpt_session **out);

/*
 * Why the last klpt_session_open_replay() of this thread failed, or the
 * replay's last error: one line without a newline, naming the file
 * ("<dir>/per_cpu/cpu1/trace_pipe_raw: not a regular file (the header
 * says 2 CPUs)"); "" after a successful open.
 */
const char *klpt_replay_error(void);

/* Stop recording, remove the instance, free everything.  NULL is ok. */
void klpt_session_close(struct klpt_session *s);

enum klpt_mode klpt_session_mode(const struct klpt_session *s);

/*
 * true for a live session whose klp events are the kernel's own (a
 * kernel with the native series, kernel/native/: the events were in
 * tracefs with no klptrace.ko loaded); false for klptrace.ko's events,
 * the fallback and replays (a recording does not say where its events
 * came from).  Where the events come from: native, klptrace.ko when the
 * mode is KLPT_MODE_EVENTS and this is false, or the fallback.
 */
bool klpt_session_native(const struct klpt_session *s);

/*
 * A file descriptor that becomes readable (POLLIN) when
 * klpt_session_process() has work: put it in your own event loop.
 */
int klpt_session_fd(const struct klpt_session *s);

/*
 * Read what is available without blocking, decode, update the model,
 * call on_event.  Returns the number of events handled (0 if none; for a
 * replay, 0 once at the end), or a negative errno.
 */
int klpt_session_process(struct klpt_session *s);

/*
 * Wait up to timeout_ms (-1: forever) for data, then process it.
 * Returns as klpt_session_process(); 0 on timeout.
 */
int klpt_session_poll(struct klpt_session *s, int timeout_ms);

/*
 * false for a replay of a trace.dat recorded without
 * sched:sched_process_exit (`trace-cmd record -e klp` alone): the model
 * cannot see tasks exit, so it forgets every task when a transition
 * completes, and a task that exited during one stays listed until then.
 * Tell the user.  true for live sessions and klptrace recordings.
 */
bool klpt_session_sees_exits(const struct klpt_session *s);

/*
 * The release of the kernel the session watches (uname -r): live, the
 * running one; a replay, the one its recording says (key
 * kernel_release; a trace.dat: the release in the uname trace-cmd
 * record keeps), or "" when it does not say (recordings made before
 * it was kept, trace.dat files without a uname).
 */
const char *klpt_session_kernel(const struct klpt_session *s);

/*
 * A replay: start again from its beginning, as klpt_session_open_replay()
 * left it (the model at the start-up snapshot, no event handled; the
 * event and loss counts at 0); on_event then sees every event again as
 * they are processed.  Seeking is this and processing up to the time
 * wanted.  It reads the files its open read (and its probe checked),
 * not the path again: a recording swapped there since is never parsed.
 * 0, -EOPNOTSUPP for a live session, -ENOMEM (the session is then at
 * its start with nothing handled, or unchanged), or a read error.
 */
int klpt_session_rewind(struct klpt_session *s);
/*
 * How far a replay's reading is: *done of *total bytes of its pages (a
 * seek's progress).  0, or -EOPNOTSUPP for a live session and for a
 * trace.dat (libtracecmd hands out records, not where they are).
 */
int klpt_session_replay_progress(const struct klpt_session *s,
				 uint64_t *done, uint64_t *total);

/* Events handled and events lost to ring-buffer overruns so far. */
uint64_t klpt_session_events(const struct klpt_session *s);
uint64_t klpt_session_lost(const struct klpt_session *s);

/*
 * Records delivered after a newer one, so far: the kernel showed them
 * late (their writer stalled between dating and committing the event),
 * after the session had passed their time.  Their events are delivered
 * all the same, out of timestamp order.  klpt_session_last_late() says
 * whether the record the current callback's event came from was one.
 */
uint64_t klpt_session_late(const struct klpt_session *s);
bool klpt_session_last_late(const struct klpt_session *s);

/*
 * Record the session from now on into the directory dir: the tracefs
 * layout (events/header_page, the event formats,
 * per_cpu/cpuN/trace_pipe_raw pages) plus the start-up snapshot, so
 * that klpt_session_open_replay(dir) replays it.  dir is created, or
 * must be an empty directory owned by the caller (the effective uid)
 * and writable by nobody else: -EPERM otherwise, and for a symbolic
 * link; -EEXIST if it is not empty.  Nothing outside dir is ever
 * written: every file is created new, never through a link.
 *
 * If writing fails later (a full disk), klpt_session_process() returns
 * that error once and the recording ends there, whole pages that
 * replay; tracing goes on.  klpt_session_recording() then says false.
 */
int klpt_session_record(struct klpt_session *s, const char *dir);

/* true while a recording started by klpt_session_record() is written. */
bool klpt_session_recording(const struct klpt_session *s);

/* ---------------------------------------------------------------- model */

/*
 * Unknown is not a value.  A session that joins a transition under way
 * (from sysfs/procfs, or klptrace.ko loaded mid-transition) and a replay
 * of a trace.dat cannot know what happened before their first event:
 * such values come back as KLPT_UNKNOWN_COUNT (counts), 0 (times: see
 * klpt_patch_started_ns()), -1 (klpt_task_kthread(), refcnt),
 * KLPT_STATE_UNKNOWN (an idle task's state, or a new task's whose
 * creator is unknown) or KLPT_PHASE_UNKNOWN, never
 * as a guess.  Values that are what this session saw rather than the
 * kernel's whole count say so (klpt_task_checks_exact()).
 */
#define KLPT_UNKNOWN_COUNT (~0u)

struct klpt_patch;
struct klpt_task;
struct klpt_module;

/*
 * Iteration: index 0..count-1.  Pointers stay valid until the next
 * klpt_session_process()/poll() call.
 */
int klpt_patch_count(const struct klpt_session *s);
const struct klpt_patch *klpt_patch_at(const struct klpt_session *s,
				       int i);
/* NULL with errno ENOENT if there is no such patch. */
const struct klpt_patch *klpt_patch_find(const struct klpt_session *s,
					 const char *name);

const char *klpt_patch_name(const struct klpt_patch *p);
bool klpt_patch_enabled(const struct klpt_patch *p);
bool klpt_patch_in_transition(const struct klpt_patch *p);
/*
 * Where a transition is.  The core initialises it (klp_init_transition:
 * every task gets the state !target, sysfs shows transition 1 and the old
 * `enabled`), runs the pre_patch or pre_unpatch callbacks, and only then
 * starts it (klp_start_transition: tasks not in the target become
 * pending, `enabled` takes the new value).  An enable whose callback
 * fails is cancelled from the init phase and never enabled.
 */
enum klpt_phase {
	KLPT_PHASE_NONE = 0,	/* not in transition */
	KLPT_PHASE_INIT = 1,	/* initialised, not started: no task pending */
	KLPT_PHASE_STARTED = 2,	/* tasks not in the target are pending */
	/*
	 * In transition, but neither its direction nor whether it started
	 * is known: a session that joined from sysfs/procfs while every
	 * task was at the state `enabled` shows (an enable's init window
	 * and the end of a disable look alike there).  klpt_patch_target()
	 * is KLPT_UNDEFINED meanwhile.
	 */
	KLPT_PHASE_UNKNOWN = 3,
};
enum klpt_phase klpt_patch_phase(const struct klpt_patch *p);
/*
 * enum klpt_state: the target in transition; KLPT_UNDEFINED out of one,
 * and in one whose direction is unknown (KLPT_PHASE_UNKNOWN).
 */
int klpt_patch_target(const struct klpt_patch *p);
/*
 * The number of the last pass (0 before the first), and how many times
 * the core signalled the pending tasks in this transition:
 * KLPT_UNKNOWN_COUNT in a transition the session joined under way (the
 * pass until a pass event says it; the signals until it ends).
 */
unsigned int klpt_patch_pass(const struct klpt_patch *p);
uint64_t klpt_patch_started_ns(const struct klpt_patch *p); /* 0: unknown */
unsigned int klpt_patch_signals(const struct klpt_patch *p);
bool klpt_patch_forced(const struct klpt_patch *p);
bool klpt_patch_freed(const struct klpt_patch *p);
bool klpt_patch_released(const struct klpt_patch *p);
/*
 * Tasks not yet in the target state, as the last pass counted them, less
 * those seen switching since (0 if none).
 */
unsigned int klpt_patch_pending(const struct klpt_patch *p);
/* The patch module (same name in 6.1), or NULL if not loaded. */
const struct klpt_module *klpt_patch_module(const struct klpt_session *s,
					    const struct klpt_patch *p);

/*
 * The functions patch p patches, as a live session reads them from
 * /sys/kernel/livepatch/<p>/<object>/<function,sympos>: their number, or
 * -ENODATA when the session does not know them (a replay; a patch whose
 * directory went before the session read it).  During an atomic
 * replace's patching transition its directory also lists the functions
 * it nops (6.1 klp_add_nops(): those of the replaced patches it does not
 * patch itself), until the transition completes.  i: 0..count-1.
 */
int klpt_patch_func_count(const struct klpt_patch *p);
/* "vmlinux" or the patched module's name; NULL (ENOENT) if no such i. */
const char *klpt_patch_func_object(const struct klpt_patch *p, int i);
const char *klpt_patch_func_name(const struct klpt_patch *p, int i);
/* The directory's sympos (a patch's 0 shows as 1); 0 if no such i. */
unsigned long klpt_patch_func_sympos(const struct klpt_patch *p, int i);
/*
 * The object's `patched`: its functions are on their func_stacks (false
 * while the object's module is not loaded, and once the patch is
 * unpatched or replaced).
 */
bool klpt_patch_func_patched(const struct klpt_patch *p, int i);
/*
 * Which patch's version of function i of p runs: the one last on the
 * kernel's klp_patches among the patches whose version is on the
 * function's stack (6.1 runs the first entry of the stack).  In a
 * transition of that patch the tasks at the target run it in a patching
 * transition and the next entry in a disable; the others the other one
 * (6.1 klp_ftrace_handler(): a task still unpatched runs the next entry).
 * Returns 1 and sets *live to it (p itself when p is live; NULL when the
 * original function runs), 0 when the session cannot know: a patch that
 * may have the function has functions or order unknown, or that patch
 * is in a transition that began as an enable (also reversed) and
 * another patch has the function too - its entry may be an atomic
 * replace's nop (6.1 klp_add_nops(); the original runs for it), and 6.1's
 * sysfs tells neither a nop nor a replace.  -ENOENT: no such i, or p's
 * functions unknown.  Functions are told apart by object, name and
 * sympos: two patches naming one address by two alias symbols share one
 * stack in the kernel (klp_find_ops() by address) but show as two here.
 */
int klpt_patch_func_live(const struct klpt_session *s,
			 const struct klpt_patch *p, int i,
			 const struct klpt_patch **live);

/*
 * Patch p's life as this session saw it, oldest first: one step per
 * event about it (type: TRANSITION_INIT, _START, _REVERSE, _PASS,
 * _SIGNAL, _FORCE, _CANCEL, _COMPLETE, PATCH_FORCED, PATCH_FREE,
 * PATCH_RELEASE, and of its module MODULE_REF and MODULE_UNLOAD_READY),
 * and KLPT_EV_LOST where events were lost (steps may be missing there).
 * Consecutive passes are one step (first_pass..pass, passes of them).
 * Bounded: the first steps and the most recent ones are kept, the
 * number left out between them is klpt_patch_history_dropped() (they
 * come after the step klpt_patch_history_gap() returns, -1 none).
 * Pointers stay valid until the next klpt_session_process()/poll().
 */
struct klpt_patch_step {
	enum klpt_event_type type;
	uint64_t ts;		/* the step's; a run of passes: its last */
	uint64_t first_ts;	/* a run of passes: its first; else ts */
	int target;		/* transitions: enum klpt_state */
	unsigned int first_pass, pass, passes;	/* PASS; SIGNAL: pass */
	unsigned int checked, pending;	/* PASS (the last), SIGNAL */
	bool forced;		/* COMPLETE, PATCH_FORCED/FREE/RELEASE */
	bool get;		/* MODULE_REF: get (true) or put */
	int refcnt;		/* MODULE_REF */
	char caller[48];	/* MODULE_REF: symbol, "" if unknown */
};
int klpt_patch_history_count(const struct klpt_patch *p);
const struct klpt_patch_step *
klpt_patch_history_at(const struct klpt_patch *p, int i);
unsigned int klpt_patch_history_dropped(const struct klpt_patch *p);
int klpt_patch_history_gap(const struct klpt_patch *p);
/*
 * true: the history starts where the patch did (the session saw the
 * init of its enable; klp_enable_patch()'s get of the module, just
 * before, is its first step when seen).  false: it was there before the session knew it
 * (a snapshot at open or a resync, a replay's start, or an event of a
 * transition under way): what came before *since (the session's time
 * when it first knew p; may be NULL) is unknown, e.g. an enabled patch
 * has no init time.
 */
bool klpt_patch_history_whole(const struct klpt_patch *p, uint64_t *since);
/*
 * The atomic replace whose completion unpatched p (6.1
 * klp_unpatch_replaced_patches(): no transition of p's own), as the
 * session saw it: its name, "" when the session did not see which
 * patch it was; NULL (errno ENOENT) when p was not seen replaced.
 */
const char *klpt_patch_replaced_by(const struct klpt_patch *p);
/*
 * The other way round, kept on p so that it outlives the replaced
 * patch (gone with its module): the last patch the session saw p
 * replace (so p is an atomic replace); NULL (errno ENOENT) if none.
 */
const char *klpt_patch_seen_replacing(const struct klpt_patch *p);

/*
 * The tasks that blocked p's last transition (its klp_task_blocked
 * events since its init; a reverse keeps them, each with the target it
 * blocked), the most checks first.  Bounded: the tasks with most checks
 * are kept; klpt_patch_blocked_tasks() counts every task seen blocked
 * (once, whichever direction: a reverse is the same transition, 6.1
 * klp_reverse_transition()) and says in *exact whether the session saw
 * the whole transition (else checks and counts are lower bounds);
 * klpt_patch_blocked_tasks_to() counts those that blocked it towards
 * target (KLPT_PATCHED, or KLPT_UNPATCHED: a disable's, or the enable's
 * after its reverse), so a task that blocked both ways is in both.
 */
struct klpt_patch_blocker {
	int pid, tgid;
	char comm[KLPT_COMM_LEN];
	int target;		/* enum klpt_state: the direction blocked */
	int reason;		/* enum klpt_reason, of the last check */
	char func[64];		/* "" unless sleeping in a function */
	uint64_t first_ns, last_ns;
	unsigned int checks;
};
int klpt_patch_blocker_count(const struct klpt_patch *p);
const struct klpt_patch_blocker *
klpt_patch_blocker_at(const struct klpt_patch *p, int i);
unsigned int klpt_patch_blocked_tasks(const struct klpt_patch *p,
				      bool *exact);
unsigned int klpt_patch_blocked_tasks_to(const struct klpt_patch *p,
					 int target);

int klpt_task_count(const struct klpt_session *s);
const struct klpt_task *klpt_task_at(const struct klpt_session *s, int i);
const struct klpt_task *klpt_task_find(const struct klpt_session *s,
				       int tid);

int klpt_task_pid(const struct klpt_task *t);		/* thread id */
int klpt_task_tgid(const struct klpt_task *t);
const char *klpt_task_comm(const struct klpt_task *t);
/*
 * The task set.  A live session knows every thread: those of procfs at
 * open, the idle task of every possible CPU (swapper/N, pid 0, not in
 * procfs: from <root>/sys/devices/system/cpu/possible), and every thread
 * created (KLPT_EV_TASK_NEW) or exiting (KLPT_EV_TASK_EXIT) since, in a
 * transition or not.  A replay knows as much as its recording carries
 * (recordings made before the idle tasks and task creations were
 * recorded learn them from their events only).
 */
/*
 * 1 kernel thread (PF_KTHREAD), 0 user task, -1 unknown.  From the
 * kernel only: procfs's stat flags for the tasks a snapshot lists, the
 * creating event for a task created since (klp_task_new carries
 * PF_KTHREAD; task:task_newtask's creator: in 6.1 only kthreadd, pid 2,
 * creates kernel threads), 1 for idle tasks.  Unknown for a task first
 * seen in another event (a trace.dat, or a recording made before task
 * creations were recorded, unless its end snapshot lists it with the
 * same comm).  klpt_task_is_kthread(): 1 only.
 */
int klpt_task_kthread(const struct klpt_task *t);
bool klpt_task_is_kthread(const struct klpt_task *t);
/*
 * enum klpt_state; KLPT_STATE_UNKNOWN for an idle task, or a task created
 * by a creator the model does not know without the state (see there).
 */
int klpt_task_state(const struct klpt_task *t);
/* Why the last check failed: KLPT_REASON_NONE if not blocked. */
int klpt_task_reason(const struct klpt_task *t);
const char *klpt_task_func(const struct klpt_task *t);	/* "" if none */
/*
 * The blocked checks (klp_task_blocked) of the task in the transition
 * under way that this session saw: the first one's and the last one's
 * time (0: none seen) and their number.  Session-local: they are the
 * task's whole history only if klpt_task_checks_exact() says so.
 */
uint64_t klpt_task_first_blocked_ns(const struct klpt_task *t);
uint64_t klpt_task_last_blocked_ns(const struct klpt_task *t);
unsigned int klpt_task_checks(const struct klpt_task *t);
/*
 * true: the checks above are all the task had in this transition (the
 * session saw the transition start or its last reverse, or saw the task
 * created since, and lost no events since), so none seen means never
 * blocked.  false (a transition the session joined under way, from
 * procfs/sysfs or after lost events, and the fallback, which sees no
 * checks): they are lower bounds, checks since the session knew the
 * task ("at least N"), and none seen means unknown.  true outside a
 * transition (no checks).
 */
bool klpt_task_checks_exact(const struct klpt_task *t);

int klpt_module_count(const struct klpt_session *s);
const struct klpt_module *klpt_module_at(const struct klpt_session *s,
					 int i);
const struct klpt_module *klpt_module_find(const struct klpt_session *s,
					   const char *name);
const char *klpt_module_name(const struct klpt_module *m);
int klpt_module_refcnt(const struct klpt_module *m);	/* -1: unknown */

/* What holds a livepatch module from being unloaded, most basic first. */
enum klpt_verdict {
	KLPT_READY = 0,			/* rmmod is safe now */
	KLPT_HOLD_ENABLED,		/* the patch is enabled: disable it */
	KLPT_HOLD_TASKS,		/* tasks still in the patch's code */
	KLPT_HOLD_TRANSITION,		/* transition not complete */
	KLPT_HOLD_NOT_FREED,		/* free work has not run */
	KLPT_HOLD_NOT_RELEASED,		/* kobject not released */
	KLPT_HOLD_REFS,			/* module references left */
	KLPT_HOLD_FORCED,		/* forced: can never be unloaded */
	KLPT_HOLD_UNKNOWN,		/* not enough information */
};

/*
 * The unload verdict of module m.  If why is not NULL, writes a one-line
 * explanation naming what holds it ("2 tasks still in klpt_sleep_fn:
 * klpt_sleeper[105], ...") into why (size bytes, NUL-terminated).  The
 * names in it are the kernel's bytes (a task's comm is its owner's
 * choice: control characters included): escape why before printing it
 * to a terminal, as klptop does (tui/esc.c).
 */
enum klpt_verdict klpt_module_verdict(const struct klpt_session *s,
				      const struct klpt_module *m,
				      char *why, size_t size);
const char *klpt_verdict_name(enum klpt_verdict v);

/* -------------------------------------------------------------- actions */

/*
 * Actions write only under /sys/kernel/livepatch (and delete_module for
 * the unload).  -ENOENT: unknown patch or module; -EPERM: not root;
 * -EOPNOTSUPP: replay session or a kernel without livepatch.
 */

/* Write 0 to <patch>/enabled: starts (or reverses into) the unpatch. */
int klpt_patch_disable(struct klpt_session *s, const char *patch);

/*
 * Write 1 to <patch>/force.  The patch's module can never be unloaded
 * afterwards if it was being disabled.  -EINVAL if not in transition.
 */
int klpt_patch_force(struct klpt_session *s, const char *patch);

/*
 * Unload the patch module with a non-blocking delete_module(), only if
 * the verdict is KLPT_READY; otherwise -EBUSY and, if why is not NULL,
 * the reason as for klpt_module_verdict().
 */
int klpt_module_unload(struct klpt_session *s, const char *module,
		       char *why, size_t size);

/*
 * Process events until module's verdict is KLPT_READY (returns 0) or
 * timeout_ms passed (-ETIMEDOUT; -1 waits forever).  on_event keeps
 * being called meanwhile.
 */
int klpt_wait_unload_ready(struct klpt_session *s, const char *module,
			   int timeout_ms);

/* ------------------------------------------------- load and transition */

/*
 * Load the livepatch module in the file path with one finit_module()
 * call (params: its parameters, "a=1 b=2", or NULL), never retried with
 * init_module(): a failing module_init runs once.  In 6.1 the call
 * returns after the module's init, i.e. after klp_enable_patch(): the
 * patch /sys/kernel/livepatch/<name> exists, named after the module,
 * and its transition has started and may be complete already.  Open
 * the session first to see the whole transition.
 *
 * Before the kernel sees the file, from the descriptor it reads (opened
 * O_PATH first, so that no device or FIFO is ever opened): path must
 * not be a symbolic link (-ELOOP), must be a regular file (-EINVAL),
 * owned by root or the caller and writable by nobody else (-EPERM: a
 * root tool must not load what another user can change; this does not
 * stop a writer that opened the file before, nor a filesystem that
 * ignores modes), an ELF64 module of this machine's byte order
 * (-ENOEXEC; compressed modules are not read) whose .modinfo (the
 * first allocated one, as the kernel takes it) says livepatch=Y
 * (-EINVAL: a plain module would load and stay).  The module's name is
 * its struct module's on x86_64 (.gnu.linkonce.this_module, the name
 * the kernel registers), which .modinfo's name= must match (-ENOEXEC).
 * The directories leading to it are the caller's to trust.  -EEXIST: a
 * module of that name is loaded.  Otherwise the kernel's errno, EACCES
 * folded into EPERM as for the actions (why keeps the kernel's words):
 * its verdict on the module, or the module's init's (a pre_patch
 * callback's -ENODEV, klp_enable_patch()'s -EINVAL).  -EINVAL: s or
 * path NULL or empty; -ENOMEM.
 *
 * name (if not NULL) gets the module's name, also on a failed load once
 * known; why (if not NULL) one line saying why it failed, followed by
 * the kernel log's lines of the load that explain it ("; " between
 * them; control characters shown as '?'): from /dev/kmsg when it is
 * readable, the kernel's records (not user space's) logged during the
 * call that are the module's own ("<name>: ...") or, at warning level or
 * worse, the livepatch core's, lockdown's or the module loader's.
 * -EOPNOTSUPP for a replay, or a session on a root other than the real
 * system's.
 */
int klpt_patch_load(struct klpt_session *s, const char *path,
		    const char *params, char *name, size_t name_size,
		    char *why, size_t why_size);

/*
 * The value of key in the .modinfo of the module file path ("description",
 * "srcversion", "name": what modinfo -F KEY prints first), read as the
 * kernel reads it (the first allocated .modinfo section of an ELF64
 * module of this machine's byte order), opened as klpt_patch_load()
 * opens it (never a link, a device or a FIFO).  0 and the value in val
 * (size bytes, cut to fit); -ENOENT no such key (or file); -ELOOP a
 * symbolic link; -EINVAL not a regular file, or bad arguments;
 * -ENOEXEC not a module (a compressed one included); another -errno.
 */
/*
 * The GNU build ID of a module (6.1 links modules with --build-id=sha1),
 * in hex ("" on error): klpt_build_id_note() from the bytes of an ELF
 * note section as /sys/module/NAME/notes/.note.gnu.build-id shows the
 * loaded one (kernel/module/sysfs.c add_notes_attrs(): the section as
 * loaded); klpt_module_file_build_id() from the .note.gnu.build-id of
 * the module file path, opened as klpt_module_file_info() opens it.  0,
 * -ENOENT no build ID there (or no file), -EINVAL bad arguments (hex
 * too small for the ID: size at least twice its bytes and one), or
 * klpt_module_file_info()'s errors.  The same ID is the same build.
 */
int klpt_build_id_note(const void *note, size_t len, char *hex,
		       size_t size);
int klpt_module_file_build_id(const char *path, char *hex, size_t size);

int klpt_module_file_info(const char *path, const char *key, char *val,
			  size_t size);

struct klpt_wait_opts {
	size_t sz;		/* sizeof(struct klpt_wait_opts) */
	int timeout_ms;		/* give up after this long (0: never) */
	/*
	 * Stalled: for stall_ms no task that was there when the transition
	 * began switched to the target or exited (0: never stalls).  A
	 * reverse is progress.  Tasks created during the
	 * transition count nothing (a task that forks while unswitched
	 * makes children at its state: their switches and exits are no
	 * progress), nor does a state becoming unknown (lost events); a
	 * switch that a reconcile finds afterwards counts.  Before the
	 * transition starts (pre-patch callbacks), or while the session
	 * does not know the patch yet, nothing moves: that counts too.
	 */
	int stall_ms;
	int interval_ms;	/* progress calls, default 1000 */
	/*
	 * Called every interval_ms while the transition runs, with the
	 * count of tasks not yet in the target state now
	 * (KLPT_UNKNOWN_COUNT when the model cannot count them: its
	 * direction is unknown, it has not started) and how long since a
	 * task last switched (as for stall_ms).  Return 0 to go on;
	 * anything else ends the wait and is returned (a negative value as
	 * an error).  May be NULL.
	 */
	int (*progress)(struct klpt_session *s, const struct klpt_patch *p,
			unsigned int pending, uint64_t stalled_ms, void *ctx);
	void *ctx;
};

/*
 * Process events until patch's transition is over: 0 when it is not in
 * transition (any direction: read klpt_patch_enabled()), or when its
 * directory went after it was seen (a disable's end).  Events already
 * pending are processed first, and the model is looked at after each
 * event about the patch.  A live session waits on the patch whose
 * directory exists: one of the same name the model still holds from
 * before (freed, or another directory) is not it, and the wait goes on
 * until the session knows the new one.  -EBUSY: stalled
 * (opts->stall_ms); -ETIMEDOUT: opts->timeout_ms passed, or a replay
 * ended with the patch in transition; -ENOENT: no such patch (a
 * replay: none in the rest of the recording); -EINVAL: bad arguments,
 * or opts->sz smaller than the sz field or a larger struct with fields
 * this library does not know set (as klpt_session_opts).  opts may be
 * NULL (wait forever).  Live, the clocks are the monotonic clock from
 * the call; in a replay they are the recording's, from the first event
 * that shows the patch (the wait follows the recording, never the
 * host's /sys).  The kernel signals the pending tasks itself every 15
 * passes (klpt_patch_signals() counts them): this function sends
 * nothing.
 */
int klpt_wait_transition(struct klpt_session *s, const char *patch,
			 const struct klpt_wait_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* KLPTRACE_H */
