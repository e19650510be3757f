// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * The model: livepatch patches, tasks and patch modules as the klp events
 * and the ground truth (truth.c) describe them, and the unload verdict.
 *
 * Tasks are many (100k on a large machine), patches and modules few; all
 * three live in a table of separately allocated objects (pointers stay
 * put when the table grows) with an open-addressing hash index by key:
 * the thread id, or the name.  Patches and modules are removed rarely
 * (reconcile, module free), by a stable compaction and a rebuild of the
 * index.  A task is removed when it exits (sched_process_exit), which is
 * frequent: in O(1), the last task taking its place (task order is not
 * stable) and the index repaired by a backward shift.
 *
 * How the events move the model is in klpt_model_apply(); the reasoning
 * behind the verdict is at klpt_model_verdict().
 */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NAME_LEN	64	/* as struct klpt_truth_patch.name */
#define FUNC_LEN	128	/* longer function names are cut */
#define FUNCS_MAX	4096	/* distinct function names kept */
#define HOLDERS_MAX	5	/* tasks named in a KLPT_HOLD_TASKS why */
#define UNKNOWN_PATCH	"?"	/* klptrace.ko loaded mid-transition */
#define EXITED_MAX	65536	/* exited tids remembered in a transition */

/* One answer of klpt_model_func_live(). */
struct flive {
	const struct klpt_patch *live;
	int ret;
};

struct klpt_patch {
	char name[NAME_LEN];
	bool enabled;
	bool in_transition;
	/*
	 * klp_start_transition() ran for the transition in progress: tasks
	 * not in target are pending.  Between klp_init_transition() and
	 * the start (pre_patch/pre_unpatch callbacks, klp_patch_object())
	 * every task is at !target but none is pending, and `enabled`
	 * still shows the old value.
	 */
	bool begun;
	bool forced, freed, released;
	/*
	 * A klp_transition_force of the transition in progress (or the
	 * last one) was seen: the marks it made are known from its target
	 * (see apply_force()), so the complete event's forced, which in
	 * recordings from before klp_patch_forced meant "a force ran",
	 * is not needed.  A reverse keeps it: the same transition.
	 */
	bool force_seen;
	/*
	 * Of the current, or else the last, transition; KLPT_UNDEFINED in
	 * a transition whose direction the ground truth does not tell
	 * (see truth_direction()).
	 */
	int target;
	unsigned int pass, checked, pending, signals;
	/*
	 * pass and signals are known only if the model saw the transition
	 * start (or, for pass, a pass event): a session that joined one
	 * under way has not seen the passes and signals before it.
	 */
	bool pass_known, signals_known;
	uint64_t started;	/* 0: unknown */
	/*
	 * Pass bookkeeping.  seq counts pass events since the transition
	 * (re)started; a task blocked during the pass in progress carries
	 * (model gen, seq).  blocked counts those blocked events; anchor is
	 * the time of the event just before this pass's task walk began
	 * (start, reverse or the previous pass), walk_ts that of its first
	 * blocked event, which the walk wrote.  See apply_pass().
	 */
	unsigned int seq, blocked;
	uint64_t anchor, walk_ts;
	bool anchor_known;
	/*
	 * The model saw this transition start (or its last reverse) and
	 * lost no event since: it saw every blocked check, so the tasks'
	 * checks are exact (klpt_task_checks_exact()).
	 */
	bool checks_seen;
	bool seen;		/* reconcile mark */
	/*
	 * Its functions and place on klp_patches as a live session read
	 * them from sysfs (pfuncs.c); unknown (info_known false) in a
	 * replay, and for a patch whose directory went before a read.
	 */
	struct klpt_pinfo info;
	bool info_known;
	/*
	 * Unpatched by an atomic replace's completion (klpt_model_set_pinfo
	 * saw `enabled` 0 without a transition of its own): by the patch
	 * named here, the last one the model saw complete a patching
	 * transition ("" if none).
	 */
	bool replaced;
	char replaced_by[NAME_LEN];
	/*
	 * The last patch this one was seen replacing (mark_replaced()),
	 * "" none: kept here, on the replace, because the replaced patch
	 * goes with its module (forget_module()) and the fact with it.
	 */
	char replaced_one[NAME_LEN];
	/*
	 * Its place among the enables seen (0: known before them, from a
	 * snapshot): klp_patches' order where sysfs does not say
	 * (replaced_by_events()).
	 */
	unsigned int enable_seq;
	/*
	 * klpt_model_func_live()'s answer for each of info's functions, as
	 * of the model version flive_of (see flive_build()).
	 */
	struct flive *flive;
	/*
	 * The transition under way began as a disable (the model saw its
	 * init with target unpatched): 6.1 adds an atomic replace's nops
	 * only in klp_init_patch(), before its patching transition, and
	 * klp_complete_transition() discards them, so the patch has no nop
	 * now.  False otherwise, also when the model joined the transition
	 * without its init (not known).
	 */
	bool no_nops;
	/*
	 * Progress of its transitions (klpt_patch_moved()): tasks seen
	 * reaching the target from !target, or exiting at !target, counting
	 * only tasks that were there when the transition began (see
	 * set_state()).
	 */
	uint64_t moved;
	/* the steps of its life and its last transition's blockers */
	struct klpt_phist hist;
};

struct klpt_task {
	int key;		/* tid; -1 - N for swapper/N (pid 0) */
	int pid, tgid;
	char comm[KLPT_COMM_LEN];
	/*
	 * 1 kernel thread, 0 user task, -1 unknown: a snapshot (PF_KTHREAD)
	 * or the creating event tells, and the idle tasks are kernel
	 * threads; a task first seen in another event stays unknown until
	 * a reconcile.
	 */
	signed char kthread;
	/*
	 * Its start time (/proc stat's starttime, clock ticks since boot),
	 * if has_start: a snapshot tells it; a task first seen in an event
	 * has none until a reconcile.  (tid, start) is the task's identity:
	 * a tid reused by another process of the same tgid (every
	 * single-threaded process has tgid == pid) has another start.
	 */
	bool has_start;
	unsigned long long start;
	/*
	 * enum klpt_state; KLPT_STATE_UNKNOWN for idle tasks, and a task
	 * created by a creator unknown to the model (task_newtask)
	 */
	int state;
	/*
	 * Created during the transition under way, at the state its creator
	 * had: its switch or exit is no progress of the transition (a task
	 * that forks while unswitched would fake it).  And: at !target when
	 * its state became unknown (an idle task after lost events), so
	 * that the target found later is a switch.
	 */
	bool newborn, was_pending;
	int reason, err;
	const char *func;	/* interned in the model, "" if none */
	uint64_t first_blocked, last_blocked;
	unsigned int checks;
	unsigned int blocked_gen, blocked_seq;
	/*
	 * The transition (klpt_model.blk_serial) in which it was last
	 * counted as a blocker, per target: checks restart at a reverse and
	 * after lost events, the count of distinct tasks must not.
	 */
	unsigned int counted_in[2];
	uint64_t touched;	/* known to exist since (ns) */
	/*
	 * checks, first_blocked are all of this transition's: the model
	 * saw it start, or saw the task created since (and lost nothing).
	 */
	bool exact;
	bool seen;
	/*
	 * It exec'd into its leader's pid before the leader's exit was
	 * seen (per-CPU clocks may order them so): that exit, when it
	 * comes, is the leader's, not this task's.
	 */
	bool leader_exit_due;
	/*
	 * Its fork's klp_task_switch was seen, and no task creation event
	 * since: the state the model has is the kernel's, which the
	 * task_newtask that follows (it carries none) must not override.
	 */
	bool fork_seen;
};

struct klpt_module {
	char name[NAME_LEN];
	int refcnt;		/* -1: unknown */
	bool livepatch;
	bool unload_ready;	/* klp_module_unload_ready seen */
	bool seen;
};

/* ---------------------------------------------------------- the tables */

struct table {
	void **obj;
	int n, cap;
	uint32_t *slot;		/* index + 1 into obj; 0: empty */
	uint32_t nslots;	/* power of two, > 2 n */
	uint32_t (*hash_obj)(const void *obj);
	bool (*eq)(const void *obj, const void *key);
	void (*free_obj)(void *obj);	/* NULL: free() */
};

static void table_free_obj(const struct table *t, void *obj)
{
	if (t->free_obj)
		t->free_obj(obj);
	else
		free(obj);
}

static uint32_t hash_int(int k)
{
	return (uint32_t)k * 0x9e3779b1u;
}

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static uint32_t task_hash(const void *o)
{
	return hash_int(((const struct klpt_task *)o)->key);
}

static bool task_eq(const void *o, const void *key)
{
	return ((const struct klpt_task *)o)->key == *(const int *)key;
}

static uint32_t patch_hash(const void *o)
{
	return hash_str(((const struct klpt_patch *)o)->name);
}

static bool patch_eq(const void *o, const void *key)
{
	return !strcmp(((const struct klpt_patch *)o)->name, key);
}

static void patch_free(void *o)
{
	struct klpt_patch *p = o;

	klpt_pinfo_free(&p->info);
	free(p->flive);
	free(p);
}

static uint32_t module_hash(const void *o)
{
	return hash_str(((const struct klpt_module *)o)->name);
}

static bool module_eq(const void *o, const void *key)
{
	return !strcmp(((const struct klpt_module *)o)->name, key);
}

static void table_insert_slot(struct table *t, int i)
{
	uint32_t mask = t->nslots - 1, h = t->hash_obj(t->obj[i]) & mask;

	while (t->slot[h])
		h = (h + 1) & mask;
	t->slot[h] = (uint32_t)i + 1;
}

static int table_rehash(struct table *t, uint32_t nslots)
{
	uint32_t *slot = calloc(nslots, sizeof(*slot));
	int i;

	if (!slot)
		return -ENOMEM;
	free(t->slot);
	t->slot = slot;
	t->nslots = nslots;
	for (i = 0; i < t->n; i++)
		table_insert_slot(t, i);
	return 0;
}

static void *table_find(const struct table *t, uint32_t h, const void *key)
{
	uint32_t mask, s;

	if (!t->nslots)
		return NULL;
	mask = t->nslots - 1;
	for (s = h & mask; t->slot[s]; s = (s + 1) & mask) {
		void *o = t->obj[t->slot[s] - 1];

		if (t->eq(o, key))
			return o;
	}
	return NULL;
}

/* Add obj (not yet in t).  -ENOMEM leaves t unchanged. */
static int table_add(struct table *t, void *obj)
{
	if (t->n == t->cap) {
		int cap = t->cap ? t->cap * 2 : 16;
		void **o;

		if (cap > INT_MAX / 4)
			return -ENOMEM;
		o = realloc(t->obj, (size_t)cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		t->obj = o;
		t->cap = cap;
	}
	if ((uint64_t)(t->n + 1) * 2 >= t->nslots &&
	    table_rehash(t, t->nslots ? t->nslots * 2 : 32))
		return -ENOMEM;
	t->obj[t->n++] = obj;
	table_insert_slot(t, t->n - 1);
	return 0;
}

/*
 * Remove (and free) the objects drop() says so, keeping the order of
 * the others.  The index is rebuilt in place: it never needs to grow.
 */
static void table_compact(struct table *t, bool (*drop)(void *obj, void *ctx),
			  void *ctx)
{
	int i, n = 0;

	for (i = 0; i < t->n; i++) {
		if (drop(t->obj[i], ctx))
			table_free_obj(t, t->obj[i]);
		else
			t->obj[n++] = t->obj[i];
	}
	if (n == t->n)
		return;
	t->n = n;
	memset(t->slot, 0, t->nslots * sizeof(*t->slot));
	for (i = 0; i < n; i++)
		table_insert_slot(t, i);
}

/* Index of the object with key in t (hash h), or -1. */
static int table_find_index(const struct table *t, uint32_t h,
			    const void *key)
{
	uint32_t mask, s;

	if (!t->nslots)
		return -1;
	mask = t->nslots - 1;
	for (s = h & mask; t->slot[s]; s = (s + 1) & mask)
		if (t->eq(t->obj[t->slot[s] - 1], key))
			return (int)t->slot[s] - 1;
	return -1;
}

/* The index slot that holds object index i (it is there). */
static uint32_t table_slot_of(const struct table *t, int i)
{
	uint32_t mask = t->nslots - 1, s = t->hash_obj(t->obj[i]) & mask;

	while (t->slot[s] != (uint32_t)i + 1)
		s = (s + 1) & mask;
	return s;
}

/*
 * Remove (and free) the object at index i in O(1): the last object
 * moves to i (the order changes), and the hole in the linear-probing
 * index is closed by shifting back the entries after it that may move
 * (those whose home slot is not cyclically in (hole, entry]).
 */
static void table_remove_at(struct table *t, int i)
{
	uint32_t mask = t->nslots - 1, hole = table_slot_of(t, i), j, h;
	int last = t->n - 1;

	t->slot[hole] = 0;
	for (j = (hole + 1) & mask; t->slot[j]; j = (j + 1) & mask) {
		h = t->hash_obj(t->obj[t->slot[j] - 1]) & mask;
		if (hole < j ? (hole < h && h <= j) : (hole < h || h <= j))
			continue;	/* already as close to home as it gets */
		t->slot[hole] = t->slot[j];
		t->slot[j] = 0;
		hole = j;
	}
	table_free_obj(t, t->obj[i]);
	if (i != last) {
		t->slot[table_slot_of(t, last)] = (uint32_t)i + 1;
		t->obj[i] = t->obj[last];
	}
	t->n--;
}

/* Remove (and free) every object; the table stays usable. */
static void table_clear(struct table *t)
{
	int i;

	for (i = 0; i < t->n; i++)
		table_free_obj(t, t->obj[i]);
	t->n = 0;
	if (t->slot)
		memset(t->slot, 0, t->nslots * sizeof(*t->slot));
}

static void table_free(struct table *t)
{
	int i;

	for (i = 0; i < t->n; i++)
		table_free_obj(t, t->obj[i]);
	free(t->obj);
	free(t->slot);
}

/* ----------------------------------------------------------- the model */

/* A thread id that exited during a transition (see apply_exit()). */
struct exited {
	int key;
};

static uint32_t exited_hash(const void *o)
{
	return hash_int(((const struct exited *)o)->key);
}

static bool exited_eq(const void *o, const void *key)
{
	return ((const struct exited *)o)->key == *(const int *)key;
}

/* The index of a task state (enum klpt_state, from unknown) in nstate. */
#define NS(state) ((state) - KLPT_STATE_UNKNOWN)

struct klpt_model {
	struct table patches, tasks, modules;
	struct table exited;	/* tids gone in the current transition */
	/* the livepatch modules among modules, in order of discovery */
	struct klpt_module **lp;
	int nlp, caplp;
	int nstate[4];		/* tasks per state, at NS(state) */
	unsigned int gen;	/* bumped when blocked info goes stale */
	/*
	 * The transition the blockers' counts are of (struct klpt_phist):
	 * bumped when a patch's history begins one (init, or a start whose
	 * init was not seen), not at a reverse, which is the same one.
	 */
	unsigned int blk_serial;
	unsigned int enable_seq;	/* patching inits seen */
	/*
	 * A transition began (or events were lost) since last_patched's
	 * completion: that one may not be the last completion before a
	 * free any more (replaced_by_events()).
	 */
	bool init_since_patched;
	bool stale;		/* events lost, no reconcile since */
	bool no_exits;		/* klpt_model_no_exits() */
	bool fallback;		/* klpt_model_set_fallback() */
	/* a replay's kthread hints (struct klpt_truth.hints), by tid */
	struct klpt_truth_task *hints;
	int nhints;
	char **funcs;		/* interned function names */
	int nfuncs, capfuncs;
	/*
	 * patch_for()'s last answer for a name: every event of a transition
	 * names the same patch, and the hash lookups of the patch, of its
	 * module and of "?" were most of the model's cost per event
	 * (bench/results/notes.md).  Valid only while nothing it skips can
	 * have changed: cleared when a patch is created or removed and when
	 * a module is removed or stops being a livepatch module.
	 */
	struct klpt_patch *last_patch;
	/* the patch that last completed a patching transition ("" none) */
	char last_patched[NAME_LEN];
	/*
	 * The last module reference taken (a get) and its module's name:
	 * klp_enable_patch() takes the patch module's with try_module_get()
	 * before klp_init_transition(), both under klp_mutex, when the
	 * patch is not known yet; its enable's init puts it first in the
	 * patch's history (history()).
	 */
	struct klpt_patch_step last_get;
	char last_get_of[NAME_LEN];
	/*
	 * Bumped by every change (an event, a reconcile, a patch's
	 * functions read): the functions' answers (struct klpt_patch flive)
	 * are of version *flive_of, rebuilt when asked after a change.  A
	 * pointer so that the const getter can update it (a session is used
	 * from one thread).
	 */
	unsigned long version;
	unsigned long *flive_of;
};

struct klpt_model *klpt_model_new(void)
{
	struct klpt_model *m = calloc(1, sizeof(*m));

	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	m->blk_serial = 1;	/* a new task's counted_in[] is 0: none */
	m->patches.hash_obj = patch_hash;
	m->patches.eq = patch_eq;
	m->patches.free_obj = patch_free;
	m->tasks.hash_obj = task_hash;
	m->tasks.eq = task_eq;
	m->modules.hash_obj = module_hash;
	m->modules.eq = module_eq;
	m->exited.hash_obj = exited_hash;
	m->exited.eq = exited_eq;
	m->flive_of = calloc(1, sizeof(*m->flive_of));
	if (!m->flive_of) {
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	m->version = 1;		/* *flive_of 0: nothing built yet */
	return m;
}

void klpt_model_free(struct klpt_model *m)
{
	int i;

	if (!m)
		return;
	table_free(&m->patches);
	table_free(&m->tasks);
	table_free(&m->modules);
	table_free(&m->exited);
	free(m->flive_of);
	free(m->hints);
	free(m->lp);
	for (i = 0; i < m->nfuncs; i++)
		free(m->funcs[i]);
	free(m->funcs);
	free(m);
}

bool klpt_model_stale(const struct klpt_model *m)
{
	return m && m->stale;
}

static bool state_ok(int s)
{
	return s >= KLPT_UNDEFINED && s <= KLPT_PATCHED;
}

static bool target_ok(int s)
{
	return s == KLPT_UNPATCHED || s == KLPT_PATCHED;
}

static void copy_name(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * One copy of each function name: blocked tasks share a few, and a
 * task's func must outlive the event it came from.  Past FUNCS_MAX (a
 * corrupt stream) new names are not kept.
 */
static const char *intern(struct klpt_model *m, const char *s)
{
	char buf[FUNC_LEN];
	int i;

	if (!s || !*s)
		return "";
	copy_name(buf, s, sizeof(buf));
	for (i = 0; i < m->nfuncs; i++)
		if (!strcmp(m->funcs[i], buf))
			return m->funcs[i];
	if (m->nfuncs == FUNCS_MAX)
		return "?";
	if (m->nfuncs == m->capfuncs) {
		int cap = m->capfuncs ? m->capfuncs * 2 : 8;
		char **f = realloc(m->funcs, (size_t)cap * sizeof(*f));

		if (!f)
			return "?";
		m->funcs = f;
		m->capfuncs = cap;
	}
	m->funcs[m->nfuncs] = strdup(buf);
	if (!m->funcs[m->nfuncs])
		return "?";
	return m->funcs[m->nfuncs++];
}

/* ------------------------------------------------------------- modules */

static struct klpt_module *module_find(const struct klpt_model *m,
				       const char *name)
{
	return table_find(&m->modules, hash_str(name), name);
}

static struct klpt_module *module_get(struct klpt_model *m, const char *name)
{
	struct klpt_module *mod = module_find(m, name);

	if (mod)
		return mod;
	mod = calloc(1, sizeof(*mod));
	if (!mod)
		goto oom;
	copy_name(mod->name, name, sizeof(mod->name));
	mod->refcnt = -1;
	if (table_add(&m->modules, mod)) {
		free(mod);
		goto oom;
	}
	return mod;
oom:
	m->stale = true;	/* the model misses something: resync */
	return NULL;
}

static void module_mark_lp(struct klpt_model *m, struct klpt_module *mod)
{
	if (!mod || mod->livepatch)
		return;
	if (m->nlp == m->caplp) {
		int cap = m->caplp ? m->caplp * 2 : 8;
		struct klpt_module **lp = realloc(m->lp,
						  (size_t)cap * sizeof(*lp));

		if (!lp) {
			m->stale = true;
			return;
		}
		m->lp = lp;
		m->caplp = cap;
	}
	mod->livepatch = true;
	m->lp[m->nlp++] = mod;
}

static void module_unmark_lp(struct klpt_model *m, struct klpt_module *mod)
{
	int i;

	m->last_patch = NULL;
	if (!mod->livepatch)
		return;
	mod->livepatch = false;
	for (i = 0; i < m->nlp; i++) {
		if (m->lp[i] == mod) {
			memmove(&m->lp[i], &m->lp[i + 1],
				(size_t)(m->nlp - i - 1) * sizeof(*m->lp));
			m->nlp--;
			return;
		}
	}
}

static bool drop_module(void *obj, void *ctx)
{
	return obj == ctx;
}

static void module_remove(struct klpt_model *m, struct klpt_module *mod)
{
	module_unmark_lp(m, mod);
	m->last_patch = NULL;
	table_compact(&m->modules, drop_module, mod);
}

/* ------------------------------------------------------------- patches */

static struct klpt_patch *patch_find(const struct klpt_model *m,
				     const char *name)
{
	return table_find(&m->patches, hash_str(name), name);
}

/* The patch, created if new; its module is a livepatch module. */
static struct klpt_patch *patch_get(struct klpt_model *m, const char *name)
{
	struct klpt_patch *p = patch_find(m, name);

	if (!p) {
		m->last_patch = NULL;	/* "?" may be this one */
		p = calloc(1, sizeof(*p));
		if (!p) {
			m->stale = true;
			return NULL;
		}
		copy_name(p->name, name, sizeof(p->name));
		p->target = KLPT_UNDEFINED;
		if (table_add(&m->patches, p)) {
			free(p);
			m->stale = true;
			return NULL;
		}
	}
	/* In 6.1 a patch is named after its module, which holds it. */
	if (strcmp(name, UNKNOWN_PATCH))
		module_mark_lp(m, module_get(m, name));
	return p;
}

static bool drop_patch(void *obj, void *ctx)
{
	return obj == ctx;
}

static void patch_remove(struct klpt_model *m, struct klpt_patch *p)
{
	m->last_patch = NULL;
	table_compact(&m->patches, drop_patch, p);
}

/* The one patch in transition, if any ("?" only if no other). */
static struct klpt_patch *patch_in_transition(const struct klpt_model *m)
{
	struct klpt_patch *q = NULL;
	int i;

	for (i = 0; i < m->patches.n; i++) {
		struct klpt_patch *p = m->patches.obj[i];

		if (!p->in_transition)
			continue;
		if (strcmp(p->name, UNKNOWN_PATCH))
			return p;
		q = p;
	}
	return q;
}

/* Every check of the transition under way was seen (or there is none). */
static bool checks_seen(const struct klpt_model *m)
{
	const struct klpt_patch *p = patch_in_transition(m);

	return !p || p->checks_seen;
}

/* What "?" q saw of the transition p now has (steps, blockers). */
static void adopt_history(struct klpt_patch *p, const struct klpt_patch *q)
{
	int i;

	for (i = 0; i < q->hist.n; i++)
		klpt_phist_add(&p->hist, klpt_phist_at(&q->hist, i));
	p->hist.dropped += q->hist.dropped;
	memcpy(p->hist.blk, q->hist.blk, sizeof(p->hist.blk));
	p->hist.nblk = q->hist.nblk;
	p->hist.blocked_tasks = q->hist.blocked_tasks;
	memcpy(p->hist.blocked_to, q->hist.blocked_to,
	       sizeof(p->hist.blocked_to));
	p->hist.blk_exact = q->hist.blk_exact;
}

/* p takes over the transition that "?" q stood for. */
static void adopt(struct klpt_patch *p, const struct klpt_patch *q)
{
	p->in_transition = true;
	p->no_nops = q->no_nops;
	p->begun = q->begun;
	p->target = q->target;
	p->enabled = q->begun ? q->target == KLPT_PATCHED : q->enabled;
	p->pass = q->pass;
	p->pass_known = q->pass_known;
	p->signals_known = q->signals_known;
	p->checked = q->checked;
	p->pending = q->pending;
	p->signals = q->signals;
	p->started = q->started;
	p->forced |= q->forced;
	p->force_seen = q->force_seen;
	p->seq = q->seq;
	p->blocked = q->blocked;
	p->anchor = q->anchor;
	p->anchor_known = q->anchor_known;
	p->checks_seen = q->checks_seen;
	p->freed = p->released = false;
	adopt_history(p, q);
}

/*
 * The patch an event names.  Loaded in the middle of a transition
 * without the core's globals, klptrace.ko names the patch "?": that is
 * the patch in transition (only one can be), if the model knows it;
 * otherwise a placeholder "?" stands for it until a named event or a
 * reconcile tells which it is.
 */
static struct klpt_patch *patch_for(struct klpt_model *m, const char *name)
{
	struct klpt_patch *p, *q;

	if (!name || !*name || !strcmp(name, UNKNOWN_PATCH)) {
		p = patch_in_transition(m);
		return p ? p : patch_get(m, UNKNOWN_PATCH);
	}
	/*
	 * Same name as last time and nothing removed or created since: the
	 * patch exists, its module is marked, there is no "?" to adopt.
	 */
	if (m->last_patch && !strcmp(name, m->last_patch->name))
		return m->last_patch;
	p = patch_get(m, name);
	q = patch_find(m, UNKNOWN_PATCH);
	if (p && q) {
		if (q->in_transition && !p->in_transition)
			adopt(p, q);
		patch_remove(m, q);
	}
	/* not after a failed allocation: the slow path would try again */
	m->last_patch = m->stale ? NULL : p;
	return p;
}

/* --------------------------------------------------------------- tasks */

/* pid 0 is the idle task of every CPU: keyed by its CPU (swapper/N). */
static int task_key(int pid, const char *comm)
{
	int cpu = 0;

	if (pid != 0)
		return pid;
	if (comm && !strncmp(comm, "swapper/", 8)) {
		const char *p = comm + 8;

		while (*p >= '0' && *p <= '9' && cpu < 1000000)
			cpu = cpu * 10 + (*p++ - '0');
	}
	return -1 - cpu;
}

static struct klpt_task *task_find(const struct klpt_model *m, int key)
{
	return table_find(&m->tasks, hash_int(key), &key);
}

/*
 * Exited thread ids.  A thread that exits stays in the kernel's task
 * list as a zombie (a process leader until its parent reaps it): the
 * passes of a transition still walk it, and its stack, which is gone,
 * checks as reliably empty, so a klp_task_switch (or a "running"
 * klp_task_blocked) may follow its sched_process_exit.  Such an event
 * must not bring the task back.  The ids are remembered only while a
 * transition runs (outside one there are no per-task events) and only
 * until it completes, a fork reuses the id, or a snapshot lists it; at
 * most EXITED_MAX of them.
 */
static bool exited_has(const struct klpt_model *m, int key)
{
	return table_find(&m->exited, hash_int(key), &key) != NULL;
}

static void exited_add(struct klpt_model *m, int key)
{
	struct exited *e;

	if (m->exited.n >= EXITED_MAX || exited_has(m, key))
		return;
	e = malloc(sizeof(*e));
	if (!e)
		return;		/* at worst a zombie lingers until a resync */
	e->key = key;
	if (table_add(&m->exited, e))
		free(e);
}

static void exited_del(struct klpt_model *m, int key)
{
	int i = table_find_index(&m->exited, hash_int(key), &key);

	if (i >= 0)
		table_remove_at(&m->exited, i);
}

/* A task of p's transition left !target (switched, or exited). */
static bool moved(const struct klpt_patch *p, const struct klpt_task *t,
		  int state)
{
	if (!p || !target_ok(p->target) || t->newborn)
		return false;
	if (t->state == KLPT_STATE_UNKNOWN && t->was_pending)
		return state == p->target;
	return t->state == !p->target && state != t->state &&
	       state != KLPT_STATE_UNKNOWN;
}

/*
 * Every change of a task's state goes through here, and so does the
 * progress count of the patch in transition: a known !target becoming
 * the target counts; becoming unknown (lost events) does not, but
 * the target found after it does (was_pending).
 */
static void set_state(struct klpt_model *m, struct klpt_task *t, int state)
{
	struct klpt_patch *p = patch_in_transition(m);

	if (moved(p, t, state))
		p->moved++;
	if (state == KLPT_STATE_UNKNOWN)
		t->was_pending = (t->state == KLPT_STATE_UNKNOWN &&
				  t->was_pending) ||
				 (p && target_ok(p->target) &&
				  t->state == !p->target);
	else
		t->was_pending = false;
	m->nstate[NS(t->state)]--;
	t->state = state;
	m->nstate[NS(state)]++;
}

static void clear_blocked(struct klpt_task *t)
{
	t->reason = KLPT_REASON_NONE;
	t->err = 0;
	t->func = "";
	t->first_blocked = t->last_blocked = 0;
	t->checks = 0;
}

static int cmp_hint(const void *key, const void *elem)
{
	int tid = *(const int *)key;
	const struct klpt_truth_task *h = elem;

	return (tid > h->tid) - (tid < h->tid);
}

/*
 * Whether a task first named by an event is a kernel thread: no event
 * says, but a replay's recording may have seen it alive at its end
 * (hints).  The same tid and comm: a reused tid with another name is
 * not taken for it.  -1: unknown.
 */
static int hint_kthread(const struct klpt_model *m, int tid,
			const char *comm)
{
	const struct klpt_truth_task *h;

	if (!m->nhints || !comm)
		return -1;
	h = bsearch(&tid, m->hints, m->nhints, sizeof(*m->hints), cmp_hint);
	if (!h || strncmp(h->comm, comm, KLPT_COMM_LEN))
		return -1;
	return h->kthread ? 1 : 0;
}

static struct klpt_task *task_get(struct klpt_model *m, int pid,
				  const char *comm, uint64_t ts)
{
	int key = task_key(pid, comm);
	struct klpt_task *t = task_find(m, key);

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t) {
		m->stale = true;
		return NULL;
	}
	t->key = key;
	t->pid = pid;
	t->tgid = pid;
	t->kthread = pid == 0 ? 1 : hint_kthread(m, pid, comm);
	t->state = KLPT_UNDEFINED;
	t->func = "";
	t->touched = ts;
	t->exact = checks_seen(m);
	if (comm)
		copy_name(t->comm, comm, sizeof(t->comm));
	if (table_add(&m->tasks, t)) {
		free(t);
		m->stale = true;
		return NULL;
	}
	m->nstate[NS(KLPT_UNDEFINED)]++;
	return t;
}

/*
 * Every task: the core sets all states at once (init, complete), and
 * from there the model sees every check.
 */
static void all_tasks(struct klpt_model *m, int state)
{
	int i;

	for (i = 0; i < m->tasks.n; i++) {
		struct klpt_task *t = m->tasks.obj[i];

		set_state(m, t, state);
		clear_blocked(t);
		t->exact = true;
		t->newborn = false;	/* there when it began */
	}
}

/*
 * Checks of the transition under way may have gone unseen (joined under
 * way, events lost): what the tasks' checks say is a lower bound.
 */
static void checks_unseen(struct klpt_model *m, struct klpt_patch *p)
{
	int i;

	if (p)
		p->checks_seen = false;
	for (i = 0; i < m->tasks.n; i++)
		((struct klpt_task *)m->tasks.obj[i])->exact = false;
}

/*
 * The idle tasks' states are not known any more: no procfs file shows
 * them, and in a transition they may have switched unseen (the session
 * joined it, or lost events).  Called only with a transition under way;
 * the reconcile makes them known again where it can: before the start
 * klp_init_transition() set every task to !target, and
 * klp_complete_transition() sets every task to undefined.
 */
static void idle_unknown(struct klpt_model *m)
{
	int i;

	for (i = 0; i < m->tasks.n; i++) {
		struct klpt_task *t = m->tasks.obj[i];

		if (t->key < 0 && t->state != KLPT_STATE_UNKNOWN) {
			set_state(m, t, KLPT_STATE_UNKNOWN);
			clear_blocked(t);
		}
	}
}

/* A new direction: why tasks were blocked no longer applies. */
static void all_unblocked(struct klpt_model *m)
{
	int i;

	for (i = 0; i < m->tasks.n; i++)
		clear_blocked(m->tasks.obj[i]);
}

static void task_identity(struct klpt_task *t, const struct klpt_event *ev)
{
	if (ev->task.comm[0])
		copy_name(t->comm, ev->task.comm, sizeof(t->comm));
	if (ev->task.tgid > 0 || ev->task.pid == 0)
		t->tgid = ev->task.tgid;
}

/* ---------------------------------------------------------- the events */

/*
 * klp_unpatch_replaced_patches() unpatched p, its free to come; by the
 * replace, NULL when which one is unknown.
 */
static void mark_replaced(struct klpt_patch *p, struct klpt_patch *by)
{
	p->enabled = false;
	p->target = KLPT_UNPATCHED;
	p->replaced = true;
	copy_name(p->replaced_by, by ? by->name : "", sizeof(p->replaced_by));
	if (by)
		copy_name(by->replaced_one, p->name, sizeof(by->replaced_one));
}

static void apply_init(struct klpt_model *m, const struct klpt_event *ev)
{
	int target = ev->transition.target;
	struct klpt_patch *p;

	if (!target_ok(target))
		return;		/* before patch_for(): it may create one */
	p = patch_for(m, ev->transition.patch);
	if (!p)
		return;
	m->gen++;
	p->in_transition = true;
	p->begun = false;
	p->target = target;
	p->force_seen = false;
	p->replaced = false;	/* a transition of its own: not replaced */
	m->init_since_patched = true;
	/* an enable: klp_init_patch() put it at the tail of klp_patches */
	if (target == KLPT_PATCHED)
		p->enable_seq = ++m->enable_seq;
	p->no_nops = target == KLPT_UNPATCHED;
	/*
	 * The core sets patch->enabled only right after
	 * klp_start_transition(): until then sysfs shows the old value
	 * (0 for an enable, 1 for a disable), and if a pre_patch callback
	 * fails the patch is never enabled at all (cancel, complete).
	 */
	p->enabled = target != KLPT_PATCHED;
	p->pass = p->checked = p->pending = p->signals = 0;
	p->pass_known = p->signals_known = true;
	p->seq = p->blocked = 0;
	p->started = ev->ts;
	p->anchor = ev->ts;
	p->anchor_known = true;
	p->checks_seen = true;
	if (target == KLPT_PATCHED) {
		/* an enable: a new patch of a newly loaded module */
		p->forced = p->freed = p->released = false;
	}
	/* klp_init_transition() gives every task the state !target */
	all_tasks(m, !target);
}

static void apply_start(struct klpt_model *m, const struct klpt_event *ev,
			bool reverse)
{
	int target = ev->transition.target;
	struct klpt_patch *p;
	int i;

	if (!target_ok(target))
		return;		/* before patch_for(): it may create one */
	p = patch_for(m, ev->transition.patch);
	if (!p)
		return;
	if (reverse || !p->in_transition) {
		/* a reverse, or klptrace.ko came after the init */
		p->started = ev->ts;
		p->signals = 0;
		p->signals_known = true;	/* klp_signals_cnt = 0 */
	}
	p->pass_known = true;
	m->gen++;
	p->in_transition = true;
	p->begun = true;
	p->replaced = false;
	p->target = target;
	p->enabled = target == KLPT_PATCHED;
	/* klp_start_transition() resets the retry counter */
	p->pass = p->pending = 0;
	p->seq = p->blocked = 0;
	p->anchor = ev->ts;
	p->anchor_known = true;
	/* what held the old direction says nothing about the new one */
	all_unblocked(m);
	/* checks run only after the start: from here every one is seen */
	p->checks_seen = true;
	for (i = 0; i < m->tasks.n; i++)
		((struct klpt_task *)m->tasks.obj[i])->exact = true;
}

/*
 * A task not blocked in this pass, and not switched nor created since
 * the pass's walk began (so the walk saw it).  That walk began before
 * its first blocked event, and after every event before it: the core
 * walks the threads under tasklist_lock, so no fork interleaves, and
 * the blocked events are written as it goes (klptrace.ko's summarized
 * first pass writes its own after the core's walk, naming every task
 * then pending).  A pass that names none (pending 0) ended its walk
 * before its own event.  Before the first blocked event does not mean
 * before the previous pass: a task forked or exec'ed since then, which
 * the core switches silently in a summarized pass, is known switched
 * too.
 */
static bool unchecked(const struct klpt_model *m, const struct klpt_patch *p,
		      const struct klpt_task *t, uint64_t walk)
{
	return !(t->blocked_gen == m->gen && t->blocked_seq == p->seq) &&
	       t->touched < walk;
}

/*
 * A pass walked every task (under the tasklist lock, so no fork
 * interleaves) and reports one klp_task_blocked per task it could not
 * switch.  If their number matches pending, every task the model still
 * has at !target without such an event, and that existed before the
 * walk began, is not pending: it switched unseen, or exited with no
 * sched_process_exit seen.  It stops counting as a holder (state =
 * target); tasks are dropped only by their exit event or a reconcile.
 */
static void apply_pass(struct klpt_model *m, const struct klpt_event *ev)
{
	int target = ev->transition.target;
	struct klpt_patch *p;
	int i;

	if (!target_ok(target))
		return;
	p = patch_for(m, ev->transition.patch);
	if (!p)
		return;
	if (!p->in_transition || p->target != target || !p->begun) {
		/* klptrace.ko loaded mid-transition, or a missed reverse */
		if (!p->in_transition || p->target != target) {
			p->signals_known = false;	/* sent unseen */
			checks_unseen(m, p);
			idle_unknown(m);
		}
		p->in_transition = true;
		p->begun = true;	/* passes run only after the start */
		p->target = target;
		p->enabled = target == KLPT_PATCHED;
	}
	p->pass = ev->transition.pass;
	p->pass_known = true;
	p->checked = ev->transition.checked;
	p->pending = ev->transition.pending;
	if (p->anchor_known && p->blocked == p->pending &&
	    m->nstate[NS(!target)] + m->nstate[NS(KLPT_STATE_UNKNOWN)] >
	    (int)p->pending) {
		for (i = 0; i < m->tasks.n; i++) {
			struct klpt_task *t = m->tasks.obj[i];

			/* an idle task of unknown state was checked too */
			if ((t->state == !target ||
			     t->state == KLPT_STATE_UNKNOWN) &&
			    unchecked(m, p, t,
				      p->blocked ? p->walk_ts : ev->ts)) {
				set_state(m, t, target);
				clear_blocked(t);
			}
		}
	}
	p->seq++;
	p->blocked = 0;
	p->anchor = ev->ts;
	p->anchor_known = true;
}

/*
 * r is before p on klp_patches, as far as the model can tell: by the
 * enables it saw (a patch known from a snapshot came before them), else
 * by sysfs's order; unknown counts as before (a candidate, maybe one of
 * several).
 */
static bool listed_before(const struct klpt_patch *r,
			  const struct klpt_patch *p)
{
	if (r->enable_seq || p->enable_seq)
		return r->enable_seq < p->enable_seq;
	if (r->info_known && p->info_known && r->info.order && p->info.order)
		return r->info.order < p->info.order;
	return true;
}

/*
 * The free work (klp_free_patch_work_fn()) of p, which is enabled with
 * no transition of its own: in 6.1 only klp_free_replaced_patches_async()
 * queues that (a disable's free follows its own unpatching transition; a
 * failed enable is freed without the work), right after an atomic
 * replace completed and klp_unpatch_replaced_patches() unpatched every
 * patch before it.  So p was replaced, by the last patch seen to
 * complete a patching transition if none began since (the work may run
 * late, after another transition: which replace it was is unknown then).
 * Where sysfs told it first (klpt_model_set_pinfo()), p is replaced
 * already; after lost events p's state is not sure enough to conclude.
 */
static void replaced_by_events(struct klpt_model *m, struct klpt_patch *p)
{
	struct klpt_patch *q;

	if (!p->enabled || p->in_transition || p->replaced || m->stale ||
	    !m->last_patched[0] || !strcmp(p->name, m->last_patched))
		return;
	q = patch_find(m, m->last_patched);
	if (m->init_since_patched) {
		mark_replaced(p, NULL);
		return;
	}
	if (q && !listed_before(p, q))
		return;		/* after it on klp_patches: not replaced */
	mark_replaced(p, q);
	/* the replace's module may be gone (its patch with it) */
	copy_name(p->replaced_by, m->last_patched, sizeof(p->replaced_by));
}

static void apply_complete(struct klpt_model *m, const struct klpt_event *ev)
{
	struct klpt_patch *p = patch_for(m, ev->transition.patch);
	int target = ev->transition.target;

	if (!p)
		return;
	if (target_ok(target))
		p->target = target;
	p->replaced = false;
	p->in_transition = false;
	p->no_nops = false;
	p->enabled = p->target == KLPT_PATCHED;
	p->pending = 0;
	/*
	 * forced is the kernel's patch->forced, but a recording from
	 * before klp_patch_forced said "a force ran during this
	 * transition" here, also after a force of an enable that a
	 * reverse then turned into an unpatch (the kernel marks nothing
	 * then: the module unloads).  If the force was seen, its target
	 * told the marks already (apply_force()); otherwise (joined after
	 * it) only an unpatch's flag is trusted, as only an unpatch's
	 * force marks the transition patch.  The free event's flag, which
	 * is the kernel's in every recording, corrects what is left.
	 */
	if (ev->transition.forced && p->target == KLPT_UNPATCHED &&
	    !p->force_seen)
		p->forced = true;
	if (p->target == KLPT_PATCHED) {
		copy_name(m->last_patched, p->name, sizeof(m->last_patched));
		m->init_since_patched = false;
	}
	m->gen++;
	/* klp_complete_transition() resets every task to undefined */
	all_tasks(m, KLPT_UNDEFINED);
	/* no pass will walk the exited ones any more */
	table_clear(&m->exited);
	/* a "?" that completed has nothing left to tell */
	if (!strcmp(p->name, UNKNOWN_PATCH))
		patch_remove(m, p);
}

/*
 * A task seen switching to the target is no longer pending: the count of
 * the last pass would otherwise outlive it until the next pass (and the
 * verdict name tasks that are gone from the patch's code).
 */
static void pending_switched(struct klpt_model *m, int to)
{
	struct klpt_patch *p = patch_in_transition(m);

	if (p && p->target == to && p->pending)
		p->pending--;
}

/*
 * The patch state a task created now keeps, given the one it copied
 * from its creator (klp_copy_process(), under tasklist_lock).  Outside
 * a transition (or just after one completed, which the core resets
 * right away) none.  Between klp_init_transition()'s entry, where its
 * event fires, and its for_each_process_thread() loop, a child copies
 * an undefined state, but it is in the task list by then (copy_process()
 * adds it under the same write lock): the loop gives it !target, as it
 * does every task; a fork after the loop copies !target anyway.
 */
static int born_state(const struct klpt_model *m, int state)
{
	const struct klpt_patch *p = patch_in_transition(m);

	if (!p)
		return KLPT_UNDEFINED;
	if (!p->begun && state == KLPT_UNDEFINED && target_ok(p->target))
		return !p->target;
	return state;
}

/* A transition whose tasks may switch: started (the flags are set). */
static bool begun_transition(const struct klpt_model *m)
{
	const struct klpt_patch *p = patch_in_transition(m);

	return p && p->begun;
}

static void apply_switch(struct klpt_model *m, const struct klpt_event *ev)
{
	int to = ev->task.to, key = task_key(ev->task.pid, ev->task.comm);
	struct klpt_task *t = task_find(m, key);

	if (!state_ok(to))
		return;
	if (ev->task.via == KLPT_VIA_FORK) {
		exited_del(m, key);	/* the id is reused */
		/*
		 * A new task.  A leftover of the same id exited unseen.
		 * Forks just after klp_transition_complete get a state the
		 * core resets right away (see tracepoints/README.md).
		 */
		if (t) {
			clear_blocked(t);
			/* a new task: what the old one was says nothing */
			t->kthread = hint_kthread(m, ev->task.pid,
						  ev->task.comm);
			t->touched = ev->ts;
		}
		to = born_state(m, to);
	} else if (!t && exited_has(m, key)) {
		return;		/* a zombie switched by a pass or force */
	} else if (!begun_transition(m) &&
		   (ev->task.via == KLPT_VIA_USER_RETURN ||
		    ev->task.via == KLPT_VIA_IDLE)) {
		/*
		 * A switch that comes after klp_transition_complete happened
		 * before it: the pass that completed saw the task switched
		 * already.  klptrace.ko reports klp_update_patch_state()'s
		 * switches as the function returns, and the task may be
		 * preempted or interrupted in between.  The completion
		 * reset the task to undefined; the event changes nothing.
		 * So it does if the next transition was initialised since:
		 * no task switches itself before klp_start_transition() sets
		 * the pending flags, and the init gave every task its state.
		 */
		if (t)
			task_identity(t, ev);
		return;
	}
	if (!t)
		t = task_get(m, ev->task.pid, ev->task.comm, ev->ts);
	if (!t)
		return;
	task_identity(t, ev);
	if (ev->task.via == KLPT_VIA_FORK) {
		t->exact = true;	/* no check before its birth */
		t->fork_seen = true;
		t->newborn = patch_in_transition(m) != NULL;
	}
	if (ev->task.via != KLPT_VIA_FORK && t->state != to)
		pending_switched(m, to);
	set_state(m, t, to);
	clear_blocked(t);
	t->touched = ev->ts;
}

/*
 * A task was created (klp_task_new; task:task_newtask in the fallback).
 * A task of the same id still in the model exited unseen, or is this
 * fork's own klp_task_switch via=fork, which comes just before: the new
 * task replaces what the model knew.  Its state is the one it took from
 * its creator (klp_copy_process() copies current's); when the event does
 * not carry it (task_newtask), its creator's as the model knows it.
 * Nothing of it is pending from before its birth: its checks are exact
 * where the model sees every check.
 */
static void apply_new(struct klpt_model *m, const struct klpt_event *ev)
{
	int key = ev->task.pid, state = ev->task.to;
	const struct klpt_task *parent = NULL;
	struct klpt_task *t;

	if (key <= 0)
		return;		/* idle tasks are created at boot */
	exited_del(m, key);
	if (ev->task.ppid > 0)
		parent = task_find(m, ev->task.ppid);
	t = task_find(m, key);
	if (patch_in_transition(m) && !state_ok(state))
		/* the kernel may have switched it since its fork event */
		state = t && t->fork_seen ? t->state :
			parent ? parent->state : KLPT_STATE_UNKNOWN;
	state = born_state(m, state);
	if (!t)
		t = task_get(m, key, ev->task.comm, ev->ts);
	if (!t)
		return;
	clear_blocked(t);
	if (ev->task.comm[0])
		copy_name(t->comm, ev->task.comm, sizeof(t->comm));
	/* 0: a thread whose creator the model does not know */
	t->tgid = ev->task.tgid > 0 ? ev->task.tgid : parent ? parent->tgid : 0;
	t->kthread = ev->task.kthread >= 0 ? (ev->task.kthread > 0) :
		     hint_kthread(m, key, ev->task.comm);
	t->newborn = patch_in_transition(m) != NULL;
	set_state(m, t, state);
	t->touched = ev->ts;
	/* every check since its birth is seen, but not in the fallback */
	t->exact = !m->fallback;
	t->fork_seen = false;
}

/* Drop the task of key from the model, if it is there. */
static void task_drop(struct klpt_model *m, int key)
{
	int i = table_find_index(&m->tasks, hash_int(key), &key);
	struct klpt_patch *p;
	struct klpt_task *t;

	if (i < 0)
		return;
	t = m->tasks.obj[i];
	p = patch_in_transition(m);
	if (p && moved(p, t, p->target))
		p->moved++;	/* it holds the transition no more */
	m->nstate[NS(t->state)]--;
	table_remove_at(&m->tasks, i);
}

/*
 * A thread exited (do_exit()): it runs no code any more, so it holds no
 * transition, and the model forgets it with what it knew of it.  The
 * pass under way counted it if it checked it before; its blocked event,
 * if any, is counted already.
 */
static void apply_exit(struct klpt_model *m, const struct klpt_event *ev)
{
	int key = ev->task.pid;
	struct klpt_task *t;

	if (key <= 0)
		return;		/* idle tasks never exit */
	t = task_find(m, key);
	if (t && t->leader_exit_due) {
		/* the replaced leader's (see apply_exec()) */
		t->leader_exit_due = false;
		return;
	}
	task_drop(m, key);
	if (patch_in_transition(m))
		exited_add(m, key);
}

/*
 * A thread exec'd.  One that was not its process's leader waited in
 * de_thread() for the leader to exit (its sched_process_exit comes
 * before), took its pid (exchange_tids()) and had the leader released:
 * from then on the pid names this thread, the same task_struct with the
 * same patch state, and no event names its old pid again.  So the task
 * moves to the pid with all the model knows of it, and the pid, which a
 * live task holds now, is no exited one.  Its events between
 * exchange_tids() and this one already name the new pid; a blocked one
 * was counted, a switch may have been taken for the zombie's.
 */
static void apply_exec(struct klpt_model *m, const struct klpt_event *ev)
{
	int key = ev->task.pid, old = ev->task.old_pid, i;
	struct klpt_task *t, *n, *leader;

	if (key <= 0)
		return;
	exited_del(m, key);
	if (old > 0 && old != key) {
		i = table_find_index(&m->tasks, hash_int(old), &old);
		if (i >= 0) {
			n = malloc(sizeof(*n));
			if (!n) {
				m->stale = true;
				return;
			}
			*n = *(struct klpt_task *)m->tasks.obj[i];
			/* the leader, its exit not seen yet, is gone */
			leader = task_find(m, key);
			n->leader_exit_due = leader != NULL;
			/* de_thread() gives it the leader's start time */
			n->has_start = leader && leader->has_start;
			n->start = n->has_start ? leader->start : 0;
			task_drop(m, key);
			i = table_find_index(&m->tasks, hash_int(old), &old);
			m->nstate[NS(n->state)]--;
			table_remove_at(&m->tasks, i);
			n->key = n->pid = n->tgid = key;
			if (table_add(&m->tasks, n)) {
				free(n);
				m->stale = true;
				return;
			}
			m->nstate[NS(n->state)]++;
		}
	}
	t = task_find(m, key);
	if (!t)
		return;		/* unknown before: its next event adds it */
	t->tgid = key;		/* an exec'd thread leads its process */
	if (ev->task.comm[0])
		copy_name(t->comm, ev->task.comm, sizeof(t->comm));
	t->touched = ev->ts;
}

/*
 * copy_process() failed after the fork event: the task never ran and its
 * pid is free.  Forget it like an exit, but it is no exited thread a
 * pass could still meet (the pid may come back as a new fork).
 */
static void apply_fork_failed(struct klpt_model *m,
			      const struct klpt_event *ev)
{
	if (ev->task.pid > 0)
		task_drop(m, ev->task.pid);
}

static void apply_blocked(struct klpt_model *m, const struct klpt_event *ev)
{
	int target = ev->task.target;
	struct klpt_patch *p;
	struct klpt_task *t;
	bool first_any, first_to, switched;

	if (!target_ok(target))
		return;
	p = patch_for(m, ev->task.patch);
	if (!p)
		return;
	if (!p->in_transition || p->target != target || !p->begun) {
		if (!p->in_transition || p->target != target) {
			p->pass_known = p->signals_known = false;
			checks_unseen(m, p);
			idle_unknown(m);
			p->anchor_known = false;	/* a pass unseen */
		}
		p->in_transition = true;
		p->begun = true;	/* checks run only after the start */
		p->target = target;
		p->enabled = target == KLPT_PATCHED;
	}
	if (!task_find(m, task_key(ev->task.pid, ev->task.comm)) &&
	    exited_has(m, task_key(ev->task.pid, ev->task.comm))) {
		/* a zombie on its way out (still on a CPU): pending in
		 * this pass, gone from the model */
		if (!p->blocked++)
			p->walk_ts = ev->ts;
		return;
	}
	t = task_get(m, ev->task.pid, ev->task.comm, ev->ts);
	if (!t)
		return;
	task_identity(t, ev);
	/*
	 * Seen switching (or read at the target) since this pass began,
	 * and named by it now: it switched itself (user return, idle)
	 * after the check read its state and before the event was written
	 * (klp_try_switch_task() reads patch_state, then task_call_func()
	 * finds the task on its CPU; klptrace.ko's summary walk reads,
	 * then writes).  It blocked the pass, which counted it pending, so
	 * it counts as such; but a task never goes back from the target
	 * within one direction: it stays switched, with nothing blocking.
	 */
	switched = p->anchor_known && t->state == target &&
		   t->touched >= p->anchor;
	if (!switched && t->state != !target)
		set_state(m, t, !target);	/* blocked: not yet switched */
	t->reason = ev->task.reason >= KLPT_REASON_RUNNING &&
		    ev->task.reason <= KLPT_REASON_UNKNOWN ?
		    ev->task.reason : KLPT_REASON_OTHER;
	t->err = ev->task.err;
	t->func = t->reason == KLPT_REASON_SLEEPING_IN_FUNC ?
		  intern(m, ev->task.func) : "";
	if (!t->first_blocked)
		t->first_blocked = ev->ts;
	t->last_blocked = ev->ts;
	t->checks++;
	t->blocked_gen = m->gen;
	t->blocked_seq = p->seq;
	if (!p->blocked++)
		p->walk_ts = ev->ts;
	/*
	 * Counted once per transition and target: 6.1's
	 * klp_reverse_transition() keeps klp_transition_patch, so a task
	 * that blocks both ways is one task that blocked it, in each
	 * direction.
	 */
	first_any = t->counted_in[0] != m->blk_serial &&
		    t->counted_in[1] != m->blk_serial;
	first_to = t->counted_in[target] != m->blk_serial;
	t->counted_in[target] = m->blk_serial;
	klpt_phist_blocked(&p->hist, ev, t->checks, t->first_blocked,
			   first_any, first_to, p->checks_seen && t->exact);
	if (switched)
		clear_blocked(t);
}

/*
 * Only the free path drops a livepatch module's last reference while
 * its patch lives: klp_enable_patch() holds one until the patch is
 * freed and released.  So a disabled, complete patch whose module
 * reaches refcnt 0 was freed and released, also where no klp event
 * says so (the fallback).
 */
static void infer_freed(struct klpt_model *m, const struct klpt_module *mod)
{
	struct klpt_patch *p = patch_find(m, mod->name);

	if (p && mod->refcnt == 0 && !p->enabled && !p->in_transition &&
	    !p->forced)
		p->freed = p->released = true;
}

static void apply_ref(struct klpt_model *m, const struct klpt_event *ev)
{
	struct klpt_module *mod;

	if (!ev->module.module || !*ev->module.module)
		return;
	mod = module_get(m, ev->module.module);
	if (!mod)
		return;
	mod->refcnt = ev->module.refcnt < -1 ? -1 : ev->module.refcnt;
	if (!ev->module.get)
		infer_freed(m, mod);
}

static void apply_free_release(struct klpt_model *m,
			       const struct klpt_event *ev, bool release)
{
	struct klpt_patch *p = patch_for(m, ev->patch.patch);

	if (!p)
		return;
	if (!release)
		replaced_by_events(m, p);
	p->enabled = false;
	p->in_transition = false;
	p->freed = true;
	/*
	 * A failed enable frees the patch without the free work: its
	 * release is the first sign, and implies the free.
	 */
	if (release)
		p->released = true;
	/*
	 * The kernel's patch->forced as klp_free_patch_finish() reads it
	 * to skip the module_put(): authoritative, also where the model
	 * guessed otherwise from an old recording's complete event.
	 */
	p->forced = ev->patch.forced;
}

static void apply_unload_ready(struct klpt_model *m,
			       const struct klpt_event *ev)
{
	struct klpt_module *mod;
	struct klpt_patch *p;

	if (!ev->module.module || !*ev->module.module)
		return;
	mod = module_get(m, ev->module.module);
	if (!mod)
		return;
	module_mark_lp(m, mod);
	mod->refcnt = 0;
	mod->unload_ready = true;
	p = patch_find(m, mod->name);
	if (p) {
		p->enabled = p->in_transition = false;
		p->freed = p->released = true;
		/* the put it follows is skipped for a forced patch */
		p->forced = false;
	}
}

/*
 * klp_force_transition() (6.1) marks the transition patch forced when
 * klp_target_state is KLPT_UNPATCHED, and when it is KLPT_PATCHED and
 * the transition patch is an atomic replace, every other patch (those
 * come as PATCH_FORCED: the model does not know which patch replaces).
 * The event fires as the function is entered, with that target.
 */
static void apply_force(struct klpt_model *m, const struct klpt_event *ev)
{
	struct klpt_patch *p;

	if (!target_ok(ev->transition.target))
		return;
	p = patch_for(m, ev->transition.patch);
	if (!p)
		return;
	p->force_seen = true;
	if (ev->transition.target == KLPT_UNPATCHED)
		p->forced = true;
}

/* The module, and the patch it held, are gone. */
static void forget_module(struct klpt_model *m, const char *name)
{
	struct klpt_module *mod = module_find(m, name);
	struct klpt_patch *p = patch_find(m, name);

	if (p)
		patch_remove(m, p);
	if (mod)
		module_remove(m, mod);
}

static void apply_load(struct klpt_model *m, const struct klpt_event *ev)
{
	struct klpt_module *mod;

	if (!ev->module.module || !*ev->module.module)
		return;
	/* leftovers of an instance whose free we missed */
	forget_module(m, ev->module.module);
	mod = module_get(m, ev->module.module);
	/* the loader holds a reference during init (module_unload_init) */
	if (mod)
		mod->refcnt = 1;
}

static void forget_tasks(struct klpt_model *m);

/* The patch an event names, as patch_for() but never created. */
static struct klpt_patch *patch_named(const struct klpt_model *m,
				      const char *name)
{
	struct klpt_patch *p;

	if (!name || !*name || !strcmp(name, UNKNOWN_PATCH)) {
		p = patch_in_transition(m);
		return p ? p : patch_find(m, UNKNOWN_PATCH);
	}
	if (m->last_patch && !strcmp(name, m->last_patch->name))
		return m->last_patch;
	return patch_find(m, name);
}

/*
 * The event as a step of its patch's history (phist.c), once applied.
 * Task events other than the blocked checks (apply_blocked()) are no
 * step: they are the many, and tell nothing of the patch's life.
 */
static void history(struct klpt_model *m, const struct klpt_event *ev)
{
	const char *name = klpt_event_patch(ev);
	struct klpt_patch *p;
	int i;

	if (ev->type == KLPT_EV_LOST) {
		for (i = 0; i < m->patches.n; i++) {
			p = m->patches.obj[i];
			klpt_phist_lost(&p->hist, ev->ts, p->in_transition);
		}
		return;
	}
	if (!name)
		return;
	if (ev->type == KLPT_EV_MODULE_REF && ev->module.get) {
		klpt_phist_step(&m->last_get, ev);
		copy_name(m->last_get_of, name, sizeof(m->last_get_of));
	}
	/* a module's events: its patch's, never a "?" */
	if (ev->type == KLPT_EV_MODULE_REF ||
	    ev->type == KLPT_EV_MODULE_UNLOAD_READY)
		p = patch_find(m, name);
	else
		p = patch_named(m, name);
	if (!p)
		return;
	if (ev->type == KLPT_EV_TRANSITION_INIT) {
		/*
		 * An enable's init is where a patch begins (apply_init()),
		 * after the get of its module by klp_enable_patch(): the
		 * last get, if of this patch's module (no other get of it
		 * can come between, klp_mutex held).
		 */
		if (ev->transition.target == KLPT_PATCHED) {
			bool got = !strcmp(m->last_get_of, p->name);

			klpt_phist_begin(&p->hist, got ? m->last_get.ts :
					 ev->ts, true);
			m->blk_serial++;
			if (got)
				klpt_phist_add(&p->hist, &m->last_get);
			m->last_get_of[0] = '\0';
		} else {
			klpt_phist_transition(&p->hist);
			m->blk_serial++;
		}
	} else if (ev->type == KLPT_EV_TRANSITION_START && p->hist.n) {
		enum klpt_event_type prev =
			klpt_phist_at(&p->hist, p->hist.n - 1)->type;

		/* a start after neither init nor reverse: its init unseen */
		if (prev != KLPT_EV_TRANSITION_INIT &&
		    prev != KLPT_EV_TRANSITION_REVERSE) {
			klpt_phist_transition(&p->hist);
			m->blk_serial++;
			p->hist.blk_exact = p->checks_seen;
		}
	}
	klpt_phist_event(&p->hist, ev);
}

void klpt_model_apply(struct klpt_model *m, const struct klpt_event *ev)
{
	struct klpt_patch *p;

	if (!m || !ev)
		return;
	m->version++;
	switch (ev->type) {
	case KLPT_EV_TRANSITION_INIT:
		apply_init(m, ev);
		break;
	case KLPT_EV_TRANSITION_START:
		apply_start(m, ev, false);
		break;
	case KLPT_EV_TRANSITION_REVERSE:
		apply_start(m, ev, true);
		break;
	case KLPT_EV_TRANSITION_PASS:
		apply_pass(m, ev);
		break;
	case KLPT_EV_TRANSITION_SIGNAL:
		p = patch_for(m, ev->transition.patch);
		if (p) {
			p->signals++;
			p->pending = ev->transition.pending;
		}
		break;
	case KLPT_EV_TRANSITION_FORCE:
		apply_force(m, ev);
		break;
	case KLPT_EV_PATCH_FORCED:
		p = patch_for(m, ev->patch.patch);
		if (p && ev->patch.forced)
			p->forced = true;
		break;
	case KLPT_EV_TASK_FORK_FAILED:
		apply_fork_failed(m, ev);
		break;
	case KLPT_EV_TRANSITION_CANCEL:
		/* klp_cancel_transition() turns it into an unpatch */
		p = patch_for(m, ev->transition.patch);
		if (p) {
			p->target = KLPT_UNPATCHED;
			p->enabled = false;
		}
		break;
	case KLPT_EV_TRANSITION_COMPLETE:
		apply_complete(m, ev);
		if (m->no_exits)
			forget_tasks(m);
		break;
	case KLPT_EV_TASK_SWITCH:
		apply_switch(m, ev);
		break;
	case KLPT_EV_TASK_BLOCKED:
		apply_blocked(m, ev);
		break;
	case KLPT_EV_MODULE_REF:
		apply_ref(m, ev);
		break;
	case KLPT_EV_PATCH_FREE:
		apply_free_release(m, ev, false);
		break;
	case KLPT_EV_PATCH_RELEASE:
		apply_free_release(m, ev, true);
		break;
	case KLPT_EV_MODULE_UNLOAD_READY:
		apply_unload_ready(m, ev);
		break;
	case KLPT_EV_MODULE_FREE:
		if (ev->module.module)
			forget_module(m, ev->module.module);
		break;
	case KLPT_EV_MODULE_LOAD:
		apply_load(m, ev);
		break;
	case KLPT_EV_TASK_EXIT:
		apply_exit(m, ev);
		break;
	case KLPT_EV_TASK_NEW:
		/* no exit would remove it (see klpt_model_no_exits()) */
		if (!m->no_exits || patch_in_transition(m))
			apply_new(m, ev);
		break;
	case KLPT_EV_TASK_EXEC:
		apply_exec(m, ev);
		break;
	case KLPT_EV_TASK_RENAME:
		/* exec, prctl, kthreadd naming its new thread: the comm only */
		if (ev->task.pid > 0 && ev->task.comm[0]) {
			struct klpt_task *t = task_find(m, ev->task.pid);

			if (t)
				copy_name(t->comm, ev->task.comm,
					  sizeof(t->comm));
		}
		break;
	case KLPT_EV_LOST:
		/* anything may have happened: unsure until reconciled */
		m->stale = true;
		p = patch_in_transition(m);
		if (p) {
			/* checks and idle switches may be among the lost */
			checks_unseen(m, p);
			idle_unknown(m);
			/*
			 * and passes, reverses, whole transitions: what a
			 * task did since the last pass seen says nothing of
			 * the pass now running (apply_blocked())
			 */
			p->anchor_known = false;
		}
		break;
	case KLPT_EV_RESYNC:	/* the session reconciled just before */
	default:
		break;
	}
	history(m, ev);
}

/* ------------------------------------------------------------ reconcile */

/*
 * The direction of the transition a snapshot shows (transition 1), and
 * whether it started.  `enabled` alone does not tell: the core changes
 * patch->enabled only after klp_start_transition(), so enabled E with
 * transition 1 is either a transition to E that started, or one to !E
 * still in its init window (klp_init_transition() done, pre_patch or
 * pre_unpatch callbacks running: an enable shows 0, a disable 1).  The
 * tasks' patch_state tells them apart: klp_init_transition() gives every
 * task the state !target and nothing switches before the start sets
 * TIF_PATCH_PENDING, so in the init window every task is at E.  Any task
 * at !E means a started transition to E.  Every task at E fits both (a
 * started transition whose tasks all switched, not completed yet): then
 * the model keeps what its events said if that fits; `enabled` changed
 * since the model saw this transition means it started (the core flips
 * it only there, and in a reverse, which starts again); or else the
 * direction is unknown (target KLPT_UNDEFINED, not begun).
 */
static void truth_direction(const struct klpt_patch *p, bool was_in,
			    bool was_enabled, int enabled, const int *nstate,
			    int *target, bool *started)
{
	int e = enabled ? KLPT_PATCHED : KLPT_UNPATCHED;

	if (nstate[!e + 1] > 0 || (was_in && was_enabled != (e == 1))) {
		*target = e;
		*started = true;
	} else if (was_in && p->begun && p->target == e) {
		*target = e;
		*started = true;
	} else if (was_in && !p->begun && p->target == !e) {
		*target = !e;
		*started = false;
	} else {
		*target = KLPT_UNDEFINED;
		*started = false;
	}
}

static void truth_patch(struct klpt_model *m, struct klpt_patch *p,
			const struct klpt_truth_patch *tp, const int *nstate)
{
	int target = tp->enabled ? KLPT_PATCHED : KLPT_UNPATCHED;
	bool was_in = p->in_transition, started = false;
	bool was_enabled = p->enabled;

	p->enabled = tp->enabled;
	/* a transition of its own, or enabled: not replaced (review F3) */
	if (tp->transition || tp->enabled)
		p->replaced = false;
	if (tp->transition) {
		truth_direction(p, was_in, was_enabled, tp->enabled, nstate,
				&target, &started);
		if (!was_in || p->target != target || p->begun != started) {
			/* began, reversed or started unseen */
			p->target = target;
			p->pass = p->checked = p->pending = p->signals = 0;
			/* what happened before the snapshot is not known */
			p->pass_known = p->signals_known = false;
			p->seq = p->blocked = 0;
			p->started = 0;
			m->gen++;
			all_unblocked(m);
			/* so were the checks and the idle tasks' switches */
			checks_unseen(m, p);
			idle_unknown(m);
		}
		p->begun = started;
		p->in_transition = true;
		p->freed = p->released = false;
		/* the next pass event tells where a walk begins */
		p->anchor_known = false;
		return;
	}
	if (was_in) {
		/* completed unseen */
		p->pending = 0;
		m->gen++;
	}
	p->in_transition = false;
	p->no_nops = false;
	p->begun = false;
	p->target = target;
	/* the directory exists until the kobject is released */
	p->released = false;
	if (tp->enabled)
		p->freed = false;
}

static bool drop_unseen_patch(void *obj, void *ctx)
{
	(void)ctx;
	return !((struct klpt_patch *)obj)->seen;
}

static bool drop_unseen_module(void *obj, void *ctx)
{
	(void)ctx;
	return !((struct klpt_module *)obj)->seen;
}

/* Tasks that left procfs; idle tasks (pid 0) are never in it. */
/* ctx: the patch in transition, whose progress a gone task may be. */
static bool drop_unseen_task(void *obj, void *ctx)
{
	struct klpt_task *t = obj;
	struct klpt_patch *p = ctx;

	if (t->seen || t->key <= 0)
		return false;
	if (p && moved(p, t, p->target))
		p->moved++;	/* exited since the last look */
	return true;
}

static void recount(struct klpt_model *m)
{
	int i;

	memset(m->nstate, 0, sizeof(m->nstate));
	for (i = 0; i < m->tasks.n; i++)
		m->nstate[NS(((struct klpt_task *)m->tasks.obj[i])->state)]++;
}

/* Every task but the idle ones (no_exits: see klpt_model_no_exits()). */
static bool drop_task(void *obj, void *ctx)
{
	(void)ctx;
	return ((struct klpt_task *)obj)->key > 0;
}

static void forget_tasks(struct klpt_model *m)
{
	table_compact(&m->tasks, drop_task, NULL);
	recount(m);
}

void klpt_model_no_exits(struct klpt_model *m)
{
	if (m)
		m->no_exits = true;
}

void klpt_model_set_fallback(struct klpt_model *m, bool on)
{
	if (m)
		m->fallback = on;
}

static const struct klpt_truth_module *
truth_module(const struct klpt_truth *t, const char *name)
{
	int i;

	/* few modules; the truth is sorted but may come from anywhere */
	for (i = 0; i < t->nmodules; i++)
		if (!strcmp(t->modules[i].name, name))
			return &t->modules[i];
	return NULL;
}

/*
 * The idle task of every possible CPU, which procfs does not list: 6.1
 * creates one per possible CPU at boot (idle_threads_init()), and each
 * transition walks them all (for_each_possible_cpu(), idle_task()).
 * Their state is settled by idle_state().
 */
static void idle_tasks(struct klpt_model *m, const struct klpt_truth *t)
{
	char comm[KLPT_COMM_LEN];
	int i;

	for (i = 0; i < t->npossible; i++) {
		int cpu = t->possible[i];

		if (task_find(m, -1 - cpu))
			continue;
		snprintf(comm, sizeof(comm), "swapper/%d", cpu);
		task_get(m, 0, comm, t->ts);	/* undefined until settled */
	}
}

/*
 * An idle task's state at a reconcile in transition tp (written
 * directly: the caller recounts).  Before the start every task is at
 * !target (klp_init_transition()).  Once started it is what the events
 * said, unless nothing can have said it: a task the model has as
 * undefined (created now, or the model missed the init), or any, in the
 * fallback, which sees no switch.  Unknown then, never a guess; a pass
 * that finds every other task switched, the task's own switch or check,
 * or the end of the transition make it known.
 */
static void idle_state(struct klpt_model *m, struct klpt_task *k,
		       const struct klpt_patch *tp)
{
	int state = k->state;

	if (!target_ok(tp->target))
		state = KLPT_STATE_UNKNOWN;
	else if (!tp->begun)
		state = !tp->target;
	else if (m->fallback || state == KLPT_UNDEFINED)
		state = KLPT_STATE_UNKNOWN;
	if (state != k->state) {
		k->state = state;
		clear_blocked(k);
	}
}

/*
 * Whether the model's task k is the snapshot's task tt of the same tid.
 * A task is identified by (tid, start time); the tgid does not tell
 * (two single-threaded processes on one pid both have tgid == pid), but
 * another tgid is another task.  A model task without a start time was
 * first seen in an event: if the model missed events (a loss, or memory
 * ran out) since the last reconcile, its tid may have been reused unseen
 * and nothing tells, so it is taken for another task (its history,
 * possibly another task's, is dropped).  If it missed nothing
 * (start-up's events before the snapshot), an exit and a new task
 * would have been seen: it is the same, and adopts the start time.  A
 * snapshot without start times (a recording made before they were
 * kept) leaves the tgid alone to tell.
 */
static bool same_task(const struct klpt_task *k,
		      const struct klpt_truth_task *tt, bool missed)
{
	if (k->tgid != tt->tgid)
		return false;
	if (!tt->has_start)
		return true;
	if (!k->has_start)
		return !missed;
	return k->start == tt->start;
}

static void reconcile_tasks(struct klpt_model *m, const struct klpt_truth *t,
			    struct klpt_patch *tp, bool missed)
{
	int i, target = tp ? tp->target : KLPT_UNDEFINED;
	unsigned int pending = 0;
	/* tasks are pending only once the transition started, to a target */
	bool pend = tp && tp->begun && target_ok(target);
	/*
	 * A task first seen now was born since the last look, if the model
	 * knew the tasks and this transition then; else it was there.
	 */
	bool born = pend && m->tasks.n > 0;

	for (i = 0; i < m->tasks.n; i++)
		((struct klpt_task *)m->tasks.obj[i])->seen = false;
	for (i = 0; i < t->ntasks; i++) {
		const struct klpt_truth_task *tt = &t->tasks[i];
		struct klpt_task *k = task_find(m, tt->tid);

		if (!state_ok(tt->state) || tt->tid <= 0)
			continue;
		exited_del(m, tt->tid);		/* alive: a reused id */
		if (k && !same_task(k, tt, missed)) {
			/* the id was reused, or may have been: another task */
			if (tp && moved(tp, k, tp->target))
				tp->moved++;	/* the old one exited */
			clear_blocked(k);
			k->touched = t->ts;
			k->exact = checks_seen(m);
			k->newborn = born;
		}
		if (!k) {
			k = task_get(m, tt->tid, tt->comm, t->ts);
			if (k)
				k->newborn = born;
		}
		if (!k)
			continue;
		k->tgid = tt->tgid;
		k->has_start = tt->has_start;
		k->start = tt->start;
		k->kthread = tt->kthread ? 1 : 0;
		copy_name(k->comm, tt->comm, sizeof(k->comm));
		if (k->state != tt->state) {
			set_state(m, k, tt->state);
			clear_blocked(k);
			k->touched = t->ts;
		}
		k->seen = true;
	}
	table_compact(&m->tasks, drop_unseen_task, tp);
	idle_tasks(m, t);
	for (i = 0; i < m->tasks.n; i++) {
		struct klpt_task *k = m->tasks.obj[i];

		if (!tp) {
			/* no transition: idle tasks too are undefined */
			k->state = KLPT_UNDEFINED;
			clear_blocked(k);
			k->exact = true;
			continue;
		}
		if (k->key < 0)
			idle_state(m, k, tp);
		if (pend && k->state == !target) {
			/* pending; why shows in the next pass's events */
			if (k->reason == KLPT_REASON_NONE)
				k->reason = KLPT_REASON_UNKNOWN;
			pending++;
		}
	}
	if (tp)
		tp->pending = pending;
	recount(m);
}

void klpt_model_reconcile(struct klpt_model *m, const struct klpt_truth *t)
{
	struct klpt_patch *tp = NULL, *q;
	const struct klpt_truth_patch *ttp = NULL;
	int i, ntr = 0, nstate[3] = { 0 };
	bool missed;

	if (!m || !t)
		return;
	m->version++;
	missed = m->stale;	/* events lost (or memory ran out) since */
	m->stale = false;	/* set again below if memory runs out */
	if (t->nhints && !m->hints) {
		m->hints = malloc(t->nhints * sizeof(*m->hints));
		if (m->hints) {
			memcpy(m->hints, t->hints,
			       t->nhints * sizeof(*m->hints));
			m->nhints = t->nhints;
		}
	}
	/* the tasks' states tell a transition's direction (truth_patch) */
	for (i = 0; i < t->ntasks; i++)
		if (state_ok(t->tasks[i].state) && t->tasks[i].tid > 0)
			nstate[t->tasks[i].state + 1]++;
	for (i = 0; i < t->npatches; i++) {
		if (t->patches[i].transition) {
			ttp = &t->patches[i];
			ntr++;
		}
	}

	/* modules: exactly those of the snapshot, with their refcnt */
	for (i = 0; i < m->modules.n; i++)
		((struct klpt_module *)m->modules.obj[i])->seen = false;
	for (i = 0; i < t->nmodules; i++) {
		struct klpt_module *mod = module_get(m, t->modules[i].name);

		if (!mod)
			continue;
		mod->refcnt = t->modules[i].refcnt;
		mod->seen = true;
		if (t->modules[i].livepatch)
			module_mark_lp(m, mod);
	}

	/* the "?" of a mid-transition start is the patch in transition */
	q = patch_find(m, UNKNOWN_PATCH);
	if (q) {
		if (ntr == 1 && q->in_transition) {
			struct klpt_patch *p = patch_get(m, ttp->name);

			if (p && !p->in_transition)
				adopt(p, q);
		}
		patch_remove(m, q);
	}

	/* patches */
	for (i = 0; i < m->patches.n; i++)
		((struct klpt_patch *)m->patches.obj[i])->seen = false;
	for (i = 0; i < t->npatches; i++) {
		const struct klpt_truth_patch *ptp = &t->patches[i];
		struct klpt_patch *p;

		/* a patch lives in its module: both or neither */
		if (!truth_module(t, ptp->name))
			continue;
		p = patch_get(m, ptp->name);
		if (!p)
			continue;
		truth_patch(m, p, ptp, nstate);
		p->seen = true;
		if (!p->hist.since)	/* first known here: from a snapshot */
			p->hist.since = t->ts ? t->ts : 1;
		if (ptp->transition)
			tp = p;
	}
	for (i = 0; i < m->patches.n; i++) {
		struct klpt_patch *p = m->patches.obj[i];
		struct klpt_module *mod = module_find(m, p->name);

		if (p->seen || !mod || !mod->seen)
			continue;
		/*
		 * The directory is gone, the module is not: the patch was
		 * disabled (maybe unseen), freed and its kobject released.
		 */
		p->enabled = p->in_transition = false;
		p->target = KLPT_UNPATCHED;
		p->pending = 0;
		p->freed = p->released = true;
		p->seen = true;
	}
	m->last_patch = NULL;
	table_compact(&m->patches, drop_unseen_patch, NULL);
	for (i = 0; i < m->modules.n; i++) {
		struct klpt_module *mod = m->modules.obj[i];

		if (!mod->seen)
			module_unmark_lp(m, mod);	/* before the free */
	}
	m->last_patch = NULL;
	table_compact(&m->modules, drop_unseen_module, NULL);
	for (i = 0; i < m->modules.n; i++)
		infer_freed(m, m->modules.obj[i]);

	reconcile_tasks(m, t, tp, missed);
}

/* ---------------------------------------- the fallback's cheap round */

/*
 * The fallback sees no switch: it re-reads patch_state (fbscan.c).  In a
 * transition that began, to a known target, a task's patch_state
 * changes only to the target (klp_update_patch_state() from
 * klp_try_switch_task(), klp_check_stack() passing, or the task itself
 * on its way to user space), until klp_complete_transition() makes every
 * task KLP_UNDEFINED or klp_reverse_transition() flips the target (6.1
 * kernel/livepatch/transition.c).  Both show in sysfs (the patch's
 * transition and enabled), which the round reads first.  So a task the
 * model has at the target stays there, and only the others need
 * reading: pending, or unknown (created by a task the model did not
 * know, or unreadable last time).  Outside a transition no state
 * changes until one begins, which sysfs shows: nothing to read.  Idle
 * tasks are not in procfs: they stay unknown.
 *
 * The tasks to read into *out (malloc'd; NULL if none) and their number,
 * or -EAGAIN when only a whole snapshot can tell: events were lost
 * since the last reconcile, or the transition has not begun (the init
 * window: the start flips enabled just after, but the tasks read in
 * between would be taken for a transition's), or its direction or patch
 * is unknown.  -ENOMEM.
 */
int klpt_model_unsettled(const struct klpt_model *m, struct klpt_tid **out)
{
	const struct klpt_patch *p;
	struct klpt_tid *ids = NULL;
	int i, n = 0, cap = 0;

	*out = NULL;
	if (m->stale)
		return -EAGAIN;
	p = patch_in_transition(m);
	if (!p)
		return 0;
	if (!p->begun || !target_ok(p->target) ||
	    !strcmp(p->name, UNKNOWN_PATCH))
		return -EAGAIN;
	for (i = 0; i < m->tasks.n; i++) {
		const struct klpt_task *k = m->tasks.obj[i];

		if (k->key <= 0 || k->state == p->target)
			continue;
		if (n == cap) {
			struct klpt_tid *d;

			cap = cap ? cap * 2 : 16;
			d = realloc(ids, (size_t)cap * sizeof(*ids));
			if (!d) {
				free(ids);
				return -ENOMEM;
			}
			ids = d;
		}
		ids[n].tid = k->key;
		ids[n].tgid = k->tgid;
		n++;
	}
	*out = ids;
	return n;
}

/*
 * Apply a partial truth (klpt_truth_take_tasks() of the tasks
 * klpt_model_unsettled() listed; its patches were found unchanged):
 * each task's state as read, KLPT_STATE_UNKNOWN where it could not be
 * read, never a guess.  A task of another tgid under the same tid by
 * now (an exit and a creation applied since the list was made) is left
 * to the next round.  The pending count is made again as a reconcile
 * makes it (new tasks are counted only there).  Returns how many tasks
 * changed state.
 */
int klpt_model_refresh(struct klpt_model *m, const struct klpt_truth *t)
{
	struct klpt_patch *tp;
	unsigned int pending = 0;
	int i, changed = 0;

	if (!m || !t)
		return 0;
	for (i = 0; i < t->ntasks; i++) {
		const struct klpt_truth_task *tt = &t->tasks[i];
		struct klpt_task *k = task_find(m, tt->tid);
		int state = tt->state;

		if (!k || tt->tid <= 0 || (tt->tgid > 0 && k->tgid != tt->tgid))
			continue;
		if (!state_ok(state))
			state = KLPT_STATE_UNKNOWN;
		if (state == k->state)
			continue;
		set_state(m, k, state);
		clear_blocked(k);
		k->touched = t->ts;
		changed++;
	}
	tp = patch_in_transition(m);
	if (!tp || !tp->begun || !target_ok(tp->target))
		return changed;
	for (i = 0; i < m->tasks.n; i++) {
		struct klpt_task *k = m->tasks.obj[i];

		if (k->state != !tp->target)
			continue;
		if (k->reason == KLPT_REASON_NONE)
			k->reason = KLPT_REASON_UNKNOWN;
		pending++;
	}
	tp->pending = pending;
	return changed;
}

/* ------------------------------------------ functions and the live patch */

/*
 * The atomic replace that may have unpatched p: the patch the model last
 * saw complete a patching transition, if it is later than p on
 * klp_patches (6.1 klp_unpatch_replaced_patches() unpatches only the
 * patches before it).  NULL if none: a session without events (the
 * fallback) never sees a completion, and `enabled` 0 there may as well
 * be a disable the snapshot has not shown yet.
 */
static struct klpt_patch *replacer(const struct klpt_model *m,
				   const struct klpt_patch *p)
{
	struct klpt_patch *q = patch_find(m, m->last_patched);

	if (!m->last_patched[0] || !q || q == p)
		return NULL;
	if (q->info_known && p->info_known && q->info.order &&
	    p->info.order && q->info.order < p->info.order)
		return NULL;
	return q;
}


void klpt_model_set_pinfo(struct klpt_model *m, const char *patch,
			  struct klpt_pinfo *pi)
{
	struct klpt_patch *p = m && patch ? patch_find(m, patch) : NULL;
	int i;

	if (!p || !pi)
		return;
	m->version++;
	if (!pi->enabled && p->enabled && !p->in_transition && !p->freed &&
	    replacer(m, p))
		mark_replaced(p, replacer(m, p));
	if (!pi->nfuncs && p->info_known) {
		/*
		 * klp_free_patch_start() freed the objects (their
		 * directories go first): same functions, off their stacks.
		 */
		for (i = 0; i < p->info.nfuncs; i++)
			p->info.funcs[i].patched = false;
		if (pi->order)
			p->info.order = pi->order;
		klpt_pinfo_free(pi);
		return;
	}
	klpt_pinfo_free(&p->info);
	p->info = *pi;
	p->info_known = true;
	memset(pi, 0, sizeof(*pi));
}

/* A function's place in flive_build(): its key, then later patches first. */
struct fentry {
	const struct klpt_pfunc *f;
	const struct klpt_patch *q;
};

static int func_cmp(const struct klpt_pfunc *a, const struct klpt_pfunc *b)
{
	int c = strcmp(a->object, b->object);

	if (!c)
		c = strcmp(a->name, b->name);
	if (!c && a->sympos != b->sympos)
		c = a->sympos < b->sympos ? -1 : 1;
	return c;
}

static int fentry_cmp(const void *a, const void *b)
{
	const struct fentry *x = a, *y = b;
	int c = func_cmp(x->f, y->f);

	if (!c && x->q->info.order != y->q->info.order)
		c = x->q->info.order > y->q->info.order ? -1 : 1;
	return c;
}

static int fentry_key_cmp(const void *key, const void *e)
{
	return func_cmp(key, ((const struct fentry *)e)->f);
}

/*
 * q's versions are on their func_stacks: q is live or in transition (a
 * patch disabled or replaced since the last read of its directory is
 * off, whatever the read said).
 */
static bool on_stacks(const struct klpt_patch *q)
{
	return !q->freed && (q->enabled || q->in_transition);
}

/*
 * The ftrace handler runs the first klp_func of the function's stack
 * (6.1 klp_ftrace_handler(); in a transition, a task not yet at the
 * target runs the next one): the patch last on klp_patches among those
 * whose version is on the stack, i.e. the largest order.
 *
 * Unknown (0): a patch on the stacks whose functions are not known (it
 * may have any), or of unknown order among those with the function; and
 * when the top one is in transition and another one has the function
 * too.  6.1 klp_init_patch() gives an atomic replace a nop klp_func for
 * every function of the patches before it that it does not patch itself
 * (klp_add_nops()), with a sysfs directory like any other and pushed on
 * the stack; klp_ftrace_handler() runs the original function for a nop
 * (`if (func->nop) goto unlock`), and 6.1's sysfs tells neither a nop
 * nor a replace.  klp_complete_transition() discards the nops
 * (klp_discard_nops()), so a top patch out of transition has none.
 */
static int flive_answer(const struct fentry *e, size_t n,
			const struct klpt_patch **live)
{
	size_t i;

	*live = NULL;
	if (!n)
		return 1;	/* on no stack: the original runs */
	for (i = 0; i < n; i++)
		if (!e[i].q->info.order)
			return 0;
	if (n > 1 && e[0].q->in_transition && !e[0].q->no_nops)
		return 0;	/* e[0]'s may be a nop */
	*live = e[0].q;
	return 1;
}

/*
 * Every patch's answers at once (klptop asks for all of them each
 * frame): the patched functions of the patches on the stacks sorted by
 * function, each function of each patch looked up there; O(n log n)
 * per model version instead of a walk of all functions per question.
 */
static int flive_build(const struct klpt_model *m)
{
	struct fentry *all = NULL;
	size_t n = 0, cap = 0;
	bool unknown = false;
	int k, i;

	for (k = 0; k < m->patches.n; k++) {
		const struct klpt_patch *q = m->patches.obj[k];

		if (!on_stacks(q))
			continue;
		if (!q->info_known) {
			unknown = true;	/* may have any function */
			break;
		}
		for (i = 0; i < q->info.nfuncs; i++) {
			if (!q->info.funcs[i].patched)
				continue;
			if (n == cap) {
				size_t nc = cap ? 2 * cap : 64;
				struct fentry *na = realloc(all, nc * sizeof(*na));

				if (!na) {
					free(all);
					return -ENOMEM;
				}
				all = na;
				cap = nc;
			}
			all[n].f = &q->info.funcs[i];
			all[n++].q = q;
		}
	}
	if (n)
		qsort(all, n, sizeof(*all), fentry_cmp);
	for (k = 0; k < m->patches.n; k++) {
		struct klpt_patch *p = m->patches.obj[k];
		struct flive *fl;

		free(p->flive);
		p->flive = NULL;
		if (!p->info_known || !p->info.nfuncs)
			continue;
		fl = calloc((size_t)p->info.nfuncs, sizeof(*fl));
		if (!fl) {
			free(all);
			return -ENOMEM;
		}
		p->flive = fl;
		for (i = 0; i < p->info.nfuncs; i++) {
			const struct fentry *e = NULL, *lo, *hi;

			if (unknown)
				continue;	/* ret 0 */
			if (n)
				e = bsearch(&p->info.funcs[i], all, n,
					    sizeof(*all), fentry_key_cmp);
			if (!e) {
				fl[i].ret = flive_answer(NULL, 0, &fl[i].live);
				continue;
			}
			for (lo = e; lo > all && !func_cmp(lo[-1].f, e->f); lo--)
				;
			for (hi = e + 1; hi < all + n && !func_cmp(hi->f, e->f);
			     hi++)
				;
			fl[i].ret = flive_answer(lo, (size_t)(hi - lo),
						 &fl[i].live);
		}
	}
	free(all);
	*m->flive_of = m->version;
	return 0;
}

int klpt_model_func_live(const struct klpt_model *m,
			 const struct klpt_patch *p, int i,
			 const struct klpt_patch **live)
{
	*live = NULL;
	if (!m || !p || !p->info_known || i < 0 || i >= p->info.nfuncs)
		return -ENOENT;
	if (*m->flive_of != m->version && flive_build(m))
		return 0;	/* no memory: not known */
	*live = p->flive[i].live;
	return p->flive[i].ret;
}

/* ------------------------------------------------------------- verdict */

struct why {
	char *buf;
	size_t size, len;
};

static void __attribute__((format(printf, 2, 3)))
why_add(struct why *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!w->buf || w->len + 1 >= w->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->len, w->size - w->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	w->len += (size_t)n;
	if (w->len >= w->size)
		w->len = w->size - 1;
}

static int holder_rank(const struct klpt_task *t)
{
	switch (t->reason) {
	case KLPT_REASON_SLEEPING_IN_FUNC:
		return 0;
	case KLPT_REASON_RUNNING:
	case KLPT_REASON_UNRELIABLE_STACK:
	case KLPT_REASON_OTHER:
		return 1;
	default:
		return 2;
	}
}

static void why_task(struct why *w, const struct klpt_task *t)
{
	why_add(w, "%s[%d]", t->comm[0] ? t->comm : "?", t->pid);
	switch (t->reason) {
	case KLPT_REASON_SLEEPING_IN_FUNC:
		why_add(w, " in %s", t->func[0] ? t->func : "?");
		break;
	case KLPT_REASON_RUNNING:
		why_add(w, " running");
		break;
	case KLPT_REASON_UNRELIABLE_STACK:
		why_add(w, " unreliable stack");
		break;
	case KLPT_REASON_OTHER:
		why_add(w, " error %d", t->err);
		break;
	case KLPT_REASON_UNKNOWN:
		why_add(w, " (cause not seen)");
		break;
	default:
		break;
	}
}

/*
 * The tasks still at !target: those known to sleep in a function first,
 * then other known causes, then the rest; at most HOLDERS_MAX named.
 */
static void why_holders(struct why *w, const struct klpt_model *m,
			const struct klpt_patch *p, unsigned int n)
{
	int rank, i, named = 0;

	why_add(w, "%u task%s still in the patch's code", n,
		n == 1 ? "" : "s");
	/* joined mid-transition: the pass number is not known yet */
	if (p->pass_known)
		why_add(w, " (pass %u)", p->pass);
	for (rank = 0; rank < 3 && named < HOLDERS_MAX; rank++) {
		for (i = 0; i < m->tasks.n && named < HOLDERS_MAX; i++) {
			const struct klpt_task *t = m->tasks.obj[i];

			if (t->state != !p->target || holder_rank(t) != rank)
				continue;
			why_add(w, named ? ", " : ": ");
			why_task(w, t);
			named++;
		}
	}
	if (n > (unsigned int)named && named)
		why_add(w, ", and %u more", n - (unsigned int)named);
}

/*
 * An enabled patch: disable it first.  While another patch is in
 * transition, 6.1 refuses that disable (__klp_disable_patch(): EBUSY
 * while klp_transition_patch is set), and if that patch is an atomic
 * replace being enabled (sysfs does not say so in 6.1), its completion
 * frees this one without a disable (a disable frees only that patch).
 */
static void why_enabled(struct why *w, const struct klpt_model *m,
			const struct klpt_patch *p)
{
	const struct klpt_patch *q = patch_in_transition(m);

	/* the action first: a narrow terminal keeps it (issue 13) */
	why_add(w, "disable it first");
	if (q && q != p) {
		why_add(w, ", once the transition of %s completes (the "
			"kernel runs one at a time", q->name);
		/*
		 * klp_try_complete_transition(): only a replace's enable
		 * frees others
		 */
		if (q->target == KLPT_PATCHED)
			why_add(w, "; if %s is an atomic replace, it frees %s "
				"without a disable", q->name, p->name);
		why_add(w, ")");
	}
	why_add(w, ": patch %s is enabled%s", p->name,
		!p->in_transition ? "" :
		!p->begun ? " (a transition is starting)" :
		" (patching transition in progress)");
}

/*
 * The verdict, most basic hold first.  Every hold is a step of the
 * disable that has not happened yet (docs: livepatch-6.1.md):
 *
 *   enabled      the patch is live: it must be disabled first;
 *   forced       klp_force_transition() marked the patch forced (a
 *                force while the target was unpatched, also if reversed
 *                later, or replaced by an atomic replace whose enable
 *                was forced; a forced enable marks nothing): the free
 *                path never drops the module reference, so never
 *                (checked before the rest: the kernel never clears the
 *                flag; the free/release event's flag corrects the
 *                model's, and klp_module_unload_ready clears it);
 *   tasks        unpatch transition with tasks still at "patched";
 *   transition   transition not complete (no task left to name);
 *   not freed    complete, the free work has not run;
 *   not released the kobject (and sysfs directory) not released yet;
 *   refs         references left: the free path's module_put comes
 *                after the release, and others may hold some;
 *   ready        disabled, complete, freed, released, refcnt 0, not
 *                forced: delete_module() succeeds.
 *
 * Free and release show only as klp events.  Without them (fallback)
 * they are inferred from the ground truth: the patch directory gone
 * means released; refcnt 0 of a disabled livepatch module means the
 * free path's module_put ran (see infer_freed()).  The directory
 * vanishes *before* that put, so refcnt 0 is what decides; a forced
 * patch is not visible there and shows as a reference that stays.
 */
enum klpt_verdict klpt_model_verdict(const struct klpt_model *m,
				     const struct klpt_module *mod,
				     char *why, size_t size)
{
	struct why w = { .buf = size ? why : NULL, .size = size };
	const struct klpt_patch *p;
	unsigned int n;

	if (w.buf)
		why[0] = '\0';
	if (!m || !mod) {
		errno = m ? ENOENT : EINVAL;
		why_add(&w, "no such module");
		return KLPT_HOLD_UNKNOWN;
	}
	if (m->stale) {
		why_add(&w, "events were lost: waiting for the resync with "
			"sysfs and procfs");
		return KLPT_HOLD_UNKNOWN;
	}
	if (!mod->livepatch) {
		why_add(&w, "%s is not a livepatch module", mod->name);
		return KLPT_HOLD_UNKNOWN;
	}
	p = patch_find(m, mod->name);
	if (p) {
		if (p->enabled) {
			why_enabled(&w, m, p);
			return KLPT_HOLD_ENABLED;
		}
		if (p->forced) {
			why_add(&w, "patch %s was forced: its module keeps a "
				"reference and can never be unloaded",
				p->name);
			return KLPT_HOLD_FORCED;
		}
		if (p->in_transition && !p->begun) {
			/*
			 * Before klp_start_transition() no task is pending:
			 * the core runs the pre_patch callbacks (an enable
			 * that may still be cancelled) or the direction is
			 * not known yet.
			 */
			if (!target_ok(p->target))
				why_add(&w, "transition of %s in progress, "
					"its direction not known yet", p->name);
			else
				why_add(&w, "%s transition of %s not started "
					"yet", p->target == KLPT_PATCHED ?
					"patching" : "unpatching", p->name);
			return KLPT_HOLD_TRANSITION;
		}
		if (p->in_transition) {
			n = (unsigned int)m->nstate[NS(!p->target)];
			if (!n)
				n = p->pending;
			if (n) {
				why_holders(&w, m, p, n);
				return KLPT_HOLD_TASKS;
			}
			why_add(&w, "unpatch transition of %s not complete "
				"yet", p->name);
			if (p->pass_known)
				why_add(&w, " (pass %u)", p->pass);
			return KLPT_HOLD_TRANSITION;
		}
		if (!p->freed) {
			why_add(&w, "the free work of patch %s has not run yet",
				p->name);
			if (p->replaced)
				why_add(&w, " (replaced by %s: no disable "
					"needed)", p->replaced_by[0] ?
					p->replaced_by : "an atomic replace");
			return KLPT_HOLD_NOT_FREED;
		}
		if (!p->released) {
			why_add(&w, "the kobject of patch %s is not released "
				"yet", p->name);
			return KLPT_HOLD_NOT_RELEASED;
		}
	}
	/* no patch: its directory is gone, so it was freed and released */
	if (mod->refcnt < 0) {
		why_add(&w, "the reference count of %s is not known yet",
			mod->name);
		return KLPT_HOLD_UNKNOWN;
	}
	if (mod->refcnt > 0) {
		why_add(&w, "%d reference%s to %s left", mod->refcnt,
			mod->refcnt == 1 ? "" : "s", mod->name);
		if (!p)
			why_add(&w, " (if its patch was forced, they stay)");
		return KLPT_HOLD_REFS;
	}
	why_add(&w, "%s can be unloaded", mod->name);
	return KLPT_READY;
}

/* ----------------------------------------------- model-level accessors */

int klpt_model_patch_count(const struct klpt_model *m)
{
	return m ? m->patches.n : klpt_err(EINVAL);
}

const struct klpt_patch *klpt_model_patch_at(const struct klpt_model *m,
					     int i)
{
	if (!m || i < 0 || i >= m->patches.n) {
		errno = m ? ENOENT : EINVAL;
		return NULL;
	}
	return m->patches.obj[i];
}

const struct klpt_patch *klpt_model_patch_find(const struct klpt_model *m,
					       const char *name)
{
	const struct klpt_patch *p = m && name ? patch_find(m, name) : NULL;

	if (!p)
		errno = m && name ? ENOENT : EINVAL;
	return p;
}

int klpt_model_task_count(const struct klpt_model *m)
{
	return m ? m->tasks.n : klpt_err(EINVAL);
}

const struct klpt_task *klpt_model_task_at(const struct klpt_model *m, int i)
{
	if (!m || i < 0 || i >= m->tasks.n) {
		errno = m ? ENOENT : EINVAL;
		return NULL;
	}
	return m->tasks.obj[i];
}

/* tid 0 is swapper/0; the other idle tasks are reached by index. */
const struct klpt_task *klpt_model_task_find(const struct klpt_model *m,
					     int tid)
{
	const struct klpt_task *t = NULL;

	if (m && tid >= 0)
		t = task_find(m, tid ? tid : -1);
	if (!t)
		errno = m ? ENOENT : EINVAL;
	return t;
}

int klpt_model_module_count(const struct klpt_model *m)
{
	return m ? m->nlp : klpt_err(EINVAL);
}

const struct klpt_module *klpt_model_module_at(const struct klpt_model *m,
					       int i)
{
	if (!m || i < 0 || i >= m->nlp) {
		errno = m ? ENOENT : EINVAL;
		return NULL;
	}
	return m->lp[i];
}

const struct klpt_module *klpt_model_module_find(const struct klpt_model *m,
						 const char *name)
{
	const struct klpt_module *mod = NULL;

	if (m && name)
		mod = module_find(m, name);
	if (mod && !mod->livepatch)
		mod = NULL;	/* only livepatch modules are shown */
	if (!mod)
		errno = m && name ? ENOENT : EINVAL;
	return mod;
}

/* ------------------------------------------------- the public accessors */

KLPT_API int klpt_patch_count(const struct klpt_session *s)
{
	return klpt_model_patch_count(klpt_session_model(s));
}

KLPT_API const struct klpt_patch *klpt_patch_at(const struct klpt_session *s,
						int i)
{
	return klpt_model_patch_at(klpt_session_model(s), i);
}

KLPT_API const struct klpt_patch *
klpt_patch_find(const struct klpt_session *s, const char *name)
{
	return klpt_model_patch_find(klpt_session_model(s), name);
}

KLPT_API const char *klpt_patch_name(const struct klpt_patch *p)
{
	return p ? p->name : "";
}

KLPT_API bool klpt_patch_enabled(const struct klpt_patch *p)
{
	return p && p->enabled;
}

KLPT_API bool klpt_patch_in_transition(const struct klpt_patch *p)
{
	return p && p->in_transition;
}

/* The target while in transition; undefined (as in the core) after. */
KLPT_API int klpt_patch_target(const struct klpt_patch *p)
{
	return p && p->in_transition ? p->target : KLPT_UNDEFINED;
}

KLPT_API enum klpt_phase klpt_patch_phase(const struct klpt_patch *p)
{
	if (!p || !p->in_transition)
		return KLPT_PHASE_NONE;
	if (!target_ok(p->target))
		return KLPT_PHASE_UNKNOWN;
	return p->begun ? KLPT_PHASE_STARTED : KLPT_PHASE_INIT;
}

KLPT_API unsigned int klpt_patch_pass(const struct klpt_patch *p)
{
	if (p && p->in_transition && !p->pass_known)
		return KLPT_UNKNOWN_COUNT;
	return p ? p->pass : 0;
}

KLPT_API uint64_t klpt_patch_started_ns(const struct klpt_patch *p)
{
	return p ? p->started : 0;
}

KLPT_API unsigned int klpt_patch_signals(const struct klpt_patch *p)
{
	if (p && p->in_transition && !p->signals_known)
		return KLPT_UNKNOWN_COUNT;
	return p ? p->signals : 0;
}

KLPT_API bool klpt_patch_forced(const struct klpt_patch *p)
{
	return p && p->forced;
}

KLPT_API bool klpt_patch_freed(const struct klpt_patch *p)
{
	return p && p->freed;
}

uint64_t klpt_patch_moved(const struct klpt_patch *p)
{
	return p ? p->moved : 0;
}

uint64_t klpt_patch_order(const struct klpt_patch *p)
{
	return p && p->info_known ? p->info.order : 0;
}

KLPT_API bool klpt_patch_released(const struct klpt_patch *p)
{
	return p && p->released;
}

KLPT_API unsigned int klpt_patch_pending(const struct klpt_patch *p)
{
	return p ? p->pending : 0;
}

KLPT_API const struct klpt_module *
klpt_patch_module(const struct klpt_session *s, const struct klpt_patch *p)
{
	if (!p) {
		errno = EINVAL;
		return NULL;
	}
	return klpt_model_module_find(klpt_session_model(s), p->name);
}

static const struct klpt_pfunc *pfunc_at(const struct klpt_patch *p, int i)
{
	if (!p || !p->info_known || i < 0 || i >= p->info.nfuncs) {
		errno = p ? ENOENT : EINVAL;
		return NULL;
	}
	return &p->info.funcs[i];
}

KLPT_API int klpt_patch_func_count(const struct klpt_patch *p)
{
	if (!p)
		return klpt_err(EINVAL);
	return p->info_known ? p->info.nfuncs : klpt_err(ENODATA);
}

KLPT_API const char *klpt_patch_func_object(const struct klpt_patch *p, int i)
{
	const struct klpt_pfunc *f = pfunc_at(p, i);

	return f ? f->object : NULL;
}

KLPT_API const char *klpt_patch_func_name(const struct klpt_patch *p, int i)
{
	const struct klpt_pfunc *f = pfunc_at(p, i);

	return f ? f->name : NULL;
}

KLPT_API unsigned long klpt_patch_func_sympos(const struct klpt_patch *p,
					      int i)
{
	const struct klpt_pfunc *f = pfunc_at(p, i);

	return f ? f->sympos : 0;
}

KLPT_API bool klpt_patch_func_patched(const struct klpt_patch *p, int i)
{
	const struct klpt_pfunc *f = pfunc_at(p, i);

	return f && f->patched;
}

KLPT_API int klpt_patch_func_live(const struct klpt_session *s,
				  const struct klpt_patch *p, int i,
				  const struct klpt_patch **live)
{
	const struct klpt_patch *dummy;
	int ret = klpt_model_func_live(klpt_session_model(s), p, i,
				       live ? live : &dummy);

	return ret < 0 ? klpt_err(-ret) : ret;
}

KLPT_API int klpt_patch_history_count(const struct klpt_patch *p)
{
	return p ? p->hist.n : 0;
}

KLPT_API const struct klpt_patch_step *
klpt_patch_history_at(const struct klpt_patch *p, int i)
{
	const struct klpt_patch_step *st = p ? klpt_phist_at(&p->hist, i) :
					   NULL;

	if (!st)
		errno = p ? ENOENT : EINVAL;
	return st;
}

KLPT_API unsigned int klpt_patch_history_dropped(const struct klpt_patch *p)
{
	return p ? p->hist.dropped : 0;
}

KLPT_API int klpt_patch_history_gap(const struct klpt_patch *p)
{
	return p && p->hist.dropped ? KLPT_PHIST_HEAD - 1 : -1;
}

KLPT_API bool klpt_patch_history_whole(const struct klpt_patch *p,
				       uint64_t *since)
{
	if (since)
		*since = p && p->hist.since > 1 ? p->hist.since : 0;
	return p && p->hist.whole;
}

KLPT_API const char *klpt_patch_replaced_by(const struct klpt_patch *p)
{
	if (!p || !p->replaced) {
		errno = p ? ENOENT : EINVAL;
		return NULL;
	}
	return p->replaced_by;
}

KLPT_API const char *klpt_patch_seen_replacing(const struct klpt_patch *p)
{
	if (!p || !p->replaced_one[0]) {
		errno = p ? ENOENT : EINVAL;
		return NULL;
	}
	return p->replaced_one;
}

KLPT_API int klpt_patch_blocker_count(const struct klpt_patch *p)
{
	return p ? p->hist.nblk : 0;
}

KLPT_API const struct klpt_patch_blocker *
klpt_patch_blocker_at(const struct klpt_patch *p, int i)
{
	if (!p || i < 0 || i >= p->hist.nblk) {
		errno = p ? ENOENT : EINVAL;
		return NULL;
	}
	return &p->hist.blk[i];
}

KLPT_API unsigned int klpt_patch_blocked_tasks(const struct klpt_patch *p,
					       bool *exact)
{
	if (exact)
		*exact = p && p->hist.blk_exact;
	return p ? p->hist.blocked_tasks : 0;
}

KLPT_API unsigned int klpt_patch_blocked_tasks_to(const struct klpt_patch *p,
						  int target)
{
	if (!p || (target != KLPT_UNPATCHED && target != KLPT_PATCHED))
		return 0;
	return p->hist.blocked_to[target];
}

KLPT_API int klpt_task_count(const struct klpt_session *s)
{
	return klpt_model_task_count(klpt_session_model(s));
}

KLPT_API const struct klpt_task *klpt_task_at(const struct klpt_session *s,
					      int i)
{
	return klpt_model_task_at(klpt_session_model(s), i);
}

KLPT_API const struct klpt_task *klpt_task_find(const struct klpt_session *s,
						int tid)
{
	return klpt_model_task_find(klpt_session_model(s), tid);
}

KLPT_API int klpt_task_pid(const struct klpt_task *t)
{
	return t ? t->pid : -1;
}

KLPT_API int klpt_task_tgid(const struct klpt_task *t)
{
	return t ? t->tgid : -1;
}

KLPT_API const char *klpt_task_comm(const struct klpt_task *t)
{
	return t ? t->comm : "";
}

KLPT_API int klpt_task_kthread(const struct klpt_task *t)
{
	return t ? t->kthread : -1;
}

KLPT_API bool klpt_task_is_kthread(const struct klpt_task *t)
{
	return t && t->kthread == 1;
}

KLPT_API int klpt_task_state(const struct klpt_task *t)
{
	return t ? t->state : KLPT_UNDEFINED;
}

KLPT_API int klpt_task_reason(const struct klpt_task *t)
{
	return t ? t->reason : KLPT_REASON_NONE;
}

KLPT_API const char *klpt_task_func(const struct klpt_task *t)
{
	return t ? t->func : "";
}

KLPT_API uint64_t klpt_task_first_blocked_ns(const struct klpt_task *t)
{
	return t ? t->first_blocked : 0;
}

KLPT_API uint64_t klpt_task_last_blocked_ns(const struct klpt_task *t)
{
	return t ? t->last_blocked : 0;
}

KLPT_API unsigned int klpt_task_checks(const struct klpt_task *t)
{
	return t ? t->checks : 0;
}

KLPT_API bool klpt_task_checks_exact(const struct klpt_task *t)
{
	return t && t->exact;
}

KLPT_API int klpt_module_count(const struct klpt_session *s)
{
	return klpt_model_module_count(klpt_session_model(s));
}

KLPT_API const struct klpt_module *
klpt_module_at(const struct klpt_session *s, int i)
{
	return klpt_model_module_at(klpt_session_model(s), i);
}

KLPT_API const struct klpt_module *
klpt_module_find(const struct klpt_session *s, const char *name)
{
	return klpt_model_module_find(klpt_session_model(s), name);
}

KLPT_API const char *klpt_module_name(const struct klpt_module *m)
{
	return m ? m->name : "";
}

KLPT_API int klpt_module_refcnt(const struct klpt_module *m)
{
	return m ? m->refcnt : -1;
}

KLPT_API enum klpt_verdict klpt_module_verdict(const struct klpt_session *s,
					       const struct klpt_module *m,
					       char *why, size_t size)
{
	return klpt_model_verdict(klpt_session_model(s), m, why, size);
}

static const char *const verdict_names[] = {
	[KLPT_READY] = "ready",
	[KLPT_HOLD_ENABLED] = "enabled",
	[KLPT_HOLD_TASKS] = "tasks",
	[KLPT_HOLD_TRANSITION] = "transition",
	[KLPT_HOLD_NOT_FREED] = "not_freed",
	[KLPT_HOLD_NOT_RELEASED] = "not_released",
	[KLPT_HOLD_REFS] = "refs",
	[KLPT_HOLD_FORCED] = "forced",
	[KLPT_HOLD_UNKNOWN] = "unknown",
};

KLPT_API const char *klpt_verdict_name(enum klpt_verdict v)
{
	if ((unsigned int)v >= sizeof(verdict_names) / sizeof(*verdict_names)) {
		errno = EINVAL;
		return NULL;
	}
	return verdict_names[v];
}
