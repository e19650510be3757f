// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Records -> struct klpt_event.
 *
 * klpt_decoder_new() looks every event we know up in the tep once, with
 * its fields, and builds a table from event id to decoder entry; a
 * record then costs a bounds check, a table lookup and a few reads of
 * numbers.  The numbers are read here (rd_num(): a load and, for a
 * foreign byte order, a swap), not with tep_read_number() and
 * tep_data_type(), whose calls were a tenth of a replay's CPU time: so
 * no libtraceevent code reads a record.  We sign-extend numbers
 * (from/to are s8 holding -1) by field size and TEP_FIELD_IS_SIGNED,
 * which libtraceevent does not.  Nothing is read outside the record: the
 * fixed fields of an event are checked against rec->size once, and every
 * __data_loc string against its own offset and length.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "klp_trace_abi.h"

/* The ABI codes of the events are the values of the public enums. */
static_assert(KLPT_UNDEFINED == KLP_TRACE_STATE_UNDEFINED, "state");
static_assert(KLPT_UNPATCHED == KLP_TRACE_STATE_UNPATCHED, "state");
static_assert(KLPT_PATCHED == KLP_TRACE_STATE_PATCHED, "state");
static_assert(KLPT_VIA_USER_RETURN == KLP_TRACE_VIA_USER_RETURN, "via");
static_assert(KLPT_VIA_IDLE == KLP_TRACE_VIA_IDLE, "via");
static_assert(KLPT_VIA_STACK_CHECK == KLP_TRACE_VIA_STACK_CHECK, "via");
static_assert(KLPT_VIA_FORK == KLP_TRACE_VIA_FORK, "via");
static_assert(KLPT_VIA_FORCE == KLP_TRACE_VIA_FORCE, "via");
static_assert(KLPT_REASON_RUNNING == KLP_TRACE_BLOCKED_RUNNING, "reason");
static_assert(KLPT_REASON_UNRELIABLE_STACK ==
	      KLP_TRACE_BLOCKED_UNRELIABLE_STACK, "reason");
static_assert(KLPT_REASON_SLEEPING_IN_FUNC == KLP_TRACE_BLOCKED_IN_FUNC,
	      "reason");
static_assert(KLPT_REASON_OTHER == KLP_TRACE_BLOCKED_OTHER, "reason");
static_assert(KLPT_REASON_UNKNOWN == KLP_TRACE_BLOCKED_UNKNOWN, "reason");

/* Fields we read; an event needs the ones in its def's mask. */
enum fld {
	F_PATCH, F_TARGET, F_PASS, F_CHECKED, F_PENDING, F_FORCED,
	F_PID, F_TGID, F_COMM, F_FROM, F_TO, F_VIA, F_REASON, F_ERR, F_FUNC,
	F_MODULE, F_OP, F_REFCNT, F_IP, F_CALLER, F_NAME,
	F_STATE, F_KTHREAD, F_CLONE_FLAGS, F_COMMON_PID, F_NEWCOMM,
	F_OLD_PID, F_FILENAME,
	F__COUNT
};

static const char *const fld_name[F__COUNT] = {
	[F_PATCH] = "patch", [F_TARGET] = "target", [F_PASS] = "pass",
	[F_CHECKED] = "checked", [F_PENDING] = "pending",
	[F_FORCED] = "forced", [F_PID] = "pid", [F_TGID] = "tgid",
	[F_COMM] = "comm", [F_FROM] = "from", [F_TO] = "to", [F_VIA] = "via",
	[F_REASON] = "reason", [F_ERR] = "err", [F_FUNC] = "func",
	[F_MODULE] = "module", [F_OP] = "op", [F_REFCNT] = "refcnt",
	[F_IP] = "ip", [F_CALLER] = "caller", [F_NAME] = "name",
	[F_STATE] = "state", [F_KTHREAD] = "kthread",
	[F_CLONE_FLAGS] = "clone_flags", [F_COMMON_PID] = "common_pid",
	[F_NEWCOMM] = "newcomm", [F_OLD_PID] = "old_pid",
	[F_FILENAME] = "filename",
};

/* How a field must look: a number, a __data_loc string, a char array. */
enum fkind { K_NUM, K_STR, K_CHARS };

static const enum fkind fld_kind[F__COUNT] = {
	[F_PATCH] = K_STR, [F_FUNC] = K_STR, [F_MODULE] = K_STR,
	[F_CALLER] = K_STR, [F_NAME] = K_STR, [F_COMM] = K_CHARS,
	[F_NEWCOMM] = K_CHARS, [F_FILENAME] = K_STR,
	/* the rest are K_NUM (0) */
};

/* What a decoded record becomes. */
enum shape {
	S_TRANSITION,	/* patch, target */
	S_PASS,		/* + pass, checked, pending */
	S_SIGNAL,	/* + pass, pending */
	S_COMPLETE,	/* + forced */
	S_SWITCH,
	S_BLOCKED,
	S_MODREF,	/* klp_module_ref */
	S_PATCH,	/* patch, forced */
	S_MODULE,	/* module */
	S_MODGET,	/* module:module_get/put: name, ip, refcnt */
	S_MODPUT,
	S_MODNAME,	/* module:module_load/free: name */
	S_EXIT,		/* sched:sched_process_exit: pid, comm */
	S_FORKFAIL,	/* klp_task_fork_failed: pid, tgid, comm, err */
	S_NEW,		/* klp_task_new: pid, tgid, comm, state, kthread */
	S_NEWTASK,	/* task:task_newtask: pid, comm, clone_flags */
	S_RENAME,	/* task:task_rename: pid, newcomm */
	S_EXEC,		/* sched:sched_process_exec: pid, old_pid, filename */
};

#define B(f) (1u << (f))
#define TRANS_F (B(F_PATCH) | B(F_TARGET))

struct evdef {
	const char *sys, *name;
	enum klpt_event_type type;
	enum shape shape;
	unsigned int fields;
	/*
	 * 1: only in fallback, -1: only without.  The module events have
	 * a klp_* and a module:* source; exactly one of them is decoded so
	 * that no reference or free is counted twice.  2: in the fallback,
	 * and without it too when the tep lacks klp_task_new (a klptrace.ko
	 * from before it): task:task_newtask stands in for it.
	 */
	int only;
};

static const struct evdef defs[] = {
	{ "klp", "klp_transition_init", KLPT_EV_TRANSITION_INIT,
	  S_TRANSITION, TRANS_F, 0 },
	{ "klp", "klp_transition_start", KLPT_EV_TRANSITION_START,
	  S_TRANSITION, TRANS_F, 0 },
	{ "klp", "klp_transition_reverse", KLPT_EV_TRANSITION_REVERSE,
	  S_TRANSITION, TRANS_F, 0 },
	{ "klp", "klp_transition_pass", KLPT_EV_TRANSITION_PASS, S_PASS,
	  TRANS_F | B(F_PASS) | B(F_CHECKED) | B(F_PENDING), 0 },
	{ "klp", "klp_transition_signal", KLPT_EV_TRANSITION_SIGNAL, S_SIGNAL,
	  TRANS_F | B(F_PASS) | B(F_PENDING), 0 },
	{ "klp", "klp_transition_force", KLPT_EV_TRANSITION_FORCE,
	  S_TRANSITION, TRANS_F, 0 },
	{ "klp", "klp_transition_cancel", KLPT_EV_TRANSITION_CANCEL,
	  S_TRANSITION, TRANS_F, 0 },
	{ "klp", "klp_transition_complete", KLPT_EV_TRANSITION_COMPLETE,
	  S_COMPLETE, TRANS_F | B(F_FORCED), 0 },
	{ "klp", "klp_task_switch", KLPT_EV_TASK_SWITCH, S_SWITCH,
	  B(F_PID) | B(F_TGID) | B(F_COMM) | B(F_FROM) | B(F_TO) | B(F_VIA),
	  0 },
	{ "klp", "klp_task_blocked", KLPT_EV_TASK_BLOCKED, S_BLOCKED,
	  B(F_PID) | B(F_TGID) | B(F_COMM) | B(F_PATCH) | B(F_TARGET) |
	  B(F_REASON) | B(F_ERR) | B(F_FUNC), 0 },
	{ "klp", "klp_module_ref", KLPT_EV_MODULE_REF, S_MODREF,
	  B(F_MODULE) | B(F_OP) | B(F_REFCNT) | B(F_IP) | B(F_CALLER), -1 },
	{ "klp", "klp_patch_free", KLPT_EV_PATCH_FREE, S_PATCH,
	  B(F_PATCH) | B(F_FORCED), 0 },
	{ "klp", "klp_patch_release", KLPT_EV_PATCH_RELEASE, S_PATCH,
	  B(F_PATCH) | B(F_FORCED), 0 },
	{ "klp", "klp_patch_forced", KLPT_EV_PATCH_FORCED, S_PATCH,
	  B(F_PATCH) | B(F_FORCED), 0 },
	{ "klp", "klp_task_fork_failed", KLPT_EV_TASK_FORK_FAILED, S_FORKFAIL,
	  B(F_PID) | B(F_TGID) | B(F_COMM) | B(F_ERR), 0 },
	{ "klp", "klp_module_unload_ready", KLPT_EV_MODULE_UNLOAD_READY,
	  S_MODULE, B(F_MODULE), 0 },
	{ "klp", "klp_module_free", KLPT_EV_MODULE_FREE, S_MODULE,
	  B(F_MODULE), -1 },
	{ "module", "module_load", KLPT_EV_MODULE_LOAD, S_MODNAME,
	  B(F_NAME), 0 },
	{ "module", "module_free", KLPT_EV_MODULE_FREE, S_MODNAME,
	  B(F_NAME), 1 },
	{ "module", "module_get", KLPT_EV_MODULE_REF, S_MODGET,
	  B(F_NAME) | B(F_IP) | B(F_REFCNT), 1 },
	{ "module", "module_put", KLPT_EV_MODULE_REF, S_MODPUT,
	  B(F_NAME) | B(F_IP) | B(F_REFCNT), 1 },
	/* fires for every thread in do_exit(); in both modes */
	{ "sched", "sched_process_exit", KLPT_EV_TASK_EXIT, S_EXIT,
	  B(F_PID) | B(F_COMM), 0 },
	{ "klp", "klp_task_new", KLPT_EV_TASK_NEW, S_NEW,
	  B(F_PID) | B(F_TGID) | B(F_COMM) | B(F_STATE) | B(F_KTHREAD), 0 },
	/*
	 * copy_process()'s own tracepoint, for every task it creates (not
	 * sched_process_fork: kernel_clone() alone fires that, and
	 * create_io_thread() does not call it).
	 */
	{ "task", "task_newtask", KLPT_EV_TASK_NEW, S_NEWTASK,
	  B(F_PID) | B(F_COMM) | B(F_CLONE_FLAGS) | B(F_COMMON_PID), 2 },
	/* every comm change (__set_task_comm()); in both modes */
	{ "task", "task_rename", KLPT_EV_TASK_RENAME, S_RENAME,
	  B(F_PID) | B(F_NEWCOMM), 0 },
	/* every exec, after de_thread() gave the thread the leader's pid */
	{ "sched", "sched_process_exec", KLPT_EV_TASK_EXEC, S_EXEC,
	  B(F_PID) | B(F_OLD_PID) | B(F_FILENAME), 0 },
};

#define NDEFS (sizeof(defs) / sizeof(defs[0]))

struct known {
	const struct evdef *def;
	struct tep_event *event;
	struct tep_format_field *f[F__COUNT];
	int min_size;		/* end of the last fixed field we read */
};

struct klpt_decoder {
	struct tep_handle *tep;
	struct known known[NDEFS];
	int nknown;
	int16_t *table;		/* event id -> index in known, -1 */
	int table_len;
	int hdr_size;		/* end of common_type */
	int type_off, type_size;	/* common_type */
	bool swap;		/* the records' byte order is not ours */
	bool has_klp;
	bool has_task_new;	/* klp_task_new is known */
	bool fallback;
};

static const char *const type_names[KLPT_EV__COUNT] = {
	[KLPT_EV_TRANSITION_INIT] = "klp_transition_init",
	[KLPT_EV_TRANSITION_START] = "klp_transition_start",
	[KLPT_EV_TRANSITION_REVERSE] = "klp_transition_reverse",
	[KLPT_EV_TRANSITION_PASS] = "klp_transition_pass",
	[KLPT_EV_TRANSITION_SIGNAL] = "klp_transition_signal",
	[KLPT_EV_TRANSITION_FORCE] = "klp_transition_force",
	[KLPT_EV_TRANSITION_CANCEL] = "klp_transition_cancel",
	[KLPT_EV_TRANSITION_COMPLETE] = "klp_transition_complete",
	[KLPT_EV_TASK_SWITCH] = "klp_task_switch",
	[KLPT_EV_TASK_BLOCKED] = "klp_task_blocked",
	[KLPT_EV_MODULE_REF] = "klp_module_ref",
	[KLPT_EV_PATCH_FREE] = "klp_patch_free",
	[KLPT_EV_PATCH_RELEASE] = "klp_patch_release",
	[KLPT_EV_MODULE_UNLOAD_READY] = "klp_module_unload_ready",
	[KLPT_EV_MODULE_FREE] = "klp_module_free",
	[KLPT_EV_MODULE_LOAD] = "module_load",
	[KLPT_EV_LOST] = "lost",
	[KLPT_EV_RESYNC] = "resync",
	[KLPT_EV_TASK_EXIT] = "sched_process_exit",
	[KLPT_EV_PATCH_FORCED] = "klp_patch_forced",
	[KLPT_EV_TASK_FORK_FAILED] = "klp_task_fork_failed",
	[KLPT_EV_TASK_NEW] = "klp_task_new",
	[KLPT_EV_TASK_RENAME] = "task_rename",
	[KLPT_EV_TASK_EXEC] = "sched_process_exec",
};

KLPT_API const char *klpt_event_type_name(enum klpt_event_type type)
{
	if ((int)type < 0 || type >= KLPT_EV__COUNT)
		return NULL;
	return type_names[type];
}

KLPT_API const char *klpt_event_patch(const struct klpt_event *ev)
{
	const char *n = NULL;

	if (!ev)
		return NULL;
	switch (ev->type) {
	case KLPT_EV_TRANSITION_INIT:
	case KLPT_EV_TRANSITION_START:
	case KLPT_EV_TRANSITION_REVERSE:
	case KLPT_EV_TRANSITION_PASS:
	case KLPT_EV_TRANSITION_SIGNAL:
	case KLPT_EV_TRANSITION_FORCE:
	case KLPT_EV_TRANSITION_CANCEL:
	case KLPT_EV_TRANSITION_COMPLETE:
		n = ev->transition.patch;
		break;
	case KLPT_EV_PATCH_FREE:
	case KLPT_EV_PATCH_RELEASE:
	case KLPT_EV_PATCH_FORCED:
		n = ev->patch.patch;
		break;
	case KLPT_EV_MODULE_REF:
	case KLPT_EV_MODULE_UNLOAD_READY:
		/* in 6.1 a patch is named after its module */
		n = ev->module.module;
		break;
	default:
		break;
	}
	return n && *n ? n : NULL;
}

/* Is f usable as a field of kind k? */
static bool field_ok(const struct tep_format_field *f, enum fkind k)
{
	switch (k) {
	case K_NUM:
		return !(f->flags & (TEP_FIELD_IS_ARRAY |
				     TEP_FIELD_IS_DYNAMIC)) &&
		       (f->size == 1 || f->size == 2 || f->size == 4 ||
			f->size == 8);
	case K_STR:
		/* __data_loc (or __rel_loc): a u32 of offset and length */
		return (f->flags & TEP_FIELD_IS_DYNAMIC) && f->size == 4;
	case K_CHARS:
		return (f->flags & TEP_FIELD_IS_ARRAY) &&
		       !(f->flags & TEP_FIELD_IS_DYNAMIC) && f->size > 0;
	}
	return false;
}

/* Look def up in tep; false if tep lacks it or a field we need. */
static bool find_event(struct klpt_decoder *d, const struct evdef *def,
		       struct known *k)
{
	struct tep_event *e;
	int i;

	e = tep_find_event_by_name(d->tep, def->sys, def->name);
	if (!e || e->id < 0 || e->id > 0xffff)
		return false;
	memset(k, 0, sizeof(*k));
	k->def = def;
	k->event = e;
	for (i = 0; i < F__COUNT; i++) {
		struct tep_format_field *f;

		if (!(def->fields & B(i)))
			continue;
		/* common_pid: the task that wrote the event (current) */
		f = i == F_COMMON_PID ? tep_find_common_field(e, fld_name[i]) :
		    tep_find_field(e, fld_name[i]);
		if (!f || f->offset < 0 || !field_ok(f, fld_kind[i]))
			return false;
		k->f[i] = f;
		if (f->offset + f->size > k->min_size)
			k->min_size = f->offset + f->size;
	}
	return true;
}

struct klpt_decoder *klpt_decoder_new(struct tep_handle *tep)
{
	struct klpt_decoder *d;
	size_t i;
	int maxid = -1, j;

	if (!tep) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->tep = tep;
	/* as tep_read_number() decides */
	d->swap = tep_is_file_bigendian(tep) != tep_is_local_bigendian(tep);
	for (i = 0; i < NDEFS; i++) {
		struct known *k = &d->known[d->nknown];
		struct tep_format_field *ct;

		if (!find_event(d, &defs[i], k))
			continue;
		/*
		 * Every record starts with the same common header: an event
		 * whose common_type is elsewhere is not one of the kernel's
		 * (the first event we know sets where it is).
		 */
		ct = tep_find_common_field(k->event, "common_type");
		if (!ct || ct->offset < 0 || !field_ok(ct, K_NUM))
			continue;
		if (!d->nknown) {
			d->type_off = ct->offset;
			d->type_size = ct->size;
			d->hdr_size = ct->offset + ct->size;
		} else if (ct->offset != d->type_off ||
			   ct->size != d->type_size) {
			continue;
		}
		if (k->event->id > maxid)
			maxid = k->event->id;
		if (!strcmp(defs[i].sys, "klp"))
			d->has_klp = true;
		if (defs[i].type == KLPT_EV_TASK_NEW && defs[i].only != 2)
			d->has_task_new = true;
		d->nknown++;
	}
	if (maxid >= 0) {
		d->table_len = maxid + 1;
		d->table = malloc(d->table_len * sizeof(*d->table));
		if (!d->table) {
			free(d);
			return NULL;
		}
		for (j = 0; j < d->table_len; j++)
			d->table[j] = -1;
		for (j = 0; j < d->nknown; j++)
			d->table[d->known[j].event->id] = j;
	}
	return d;
}

void klpt_decoder_free(struct klpt_decoder *d)
{
	if (!d)
		return;
	free(d->table);
	free(d);
}

bool klpt_decoder_has_klp(const struct klpt_decoder *d)
{
	return d && d->has_klp;
}

void klpt_decoder_set_fallback(struct klpt_decoder *d, bool fallback)
{
	if (d)
		d->fallback = fallback;
}

/* An unsigned number of size 1, 2, 4 or 8 (field_ok()) at p. */
static inline uint64_t rd_num(const struct klpt_decoder *d,
			      const unsigned char *p, int size)
{
	uint16_t v2;
	uint32_t v4;
	uint64_t v8;

	switch (size) {
	case 1:
		return *p;
	case 2:
		memcpy(&v2, p, 2);
		return d->swap ? __builtin_bswap16(v2) : v2;
	case 4:
		memcpy(&v4, p, 4);
		return d->swap ? __builtin_bswap32(v4) : v4;
	default:
		memcpy(&v8, p, 8);
		return d->swap ? __builtin_bswap64(v8) : v8;
	}
}

/* A number field, sign-extended from its size when it is signed. */
static int64_t num(const struct klpt_decoder *d, const struct known *k,
		   enum fld i, const unsigned char *data)
{
	const struct tep_format_field *f = k->f[i];
	uint64_t v = rd_num(d, data + f->offset, f->size);
	unsigned int bits = f->size * 8;

	if ((f->flags & TEP_FIELD_IS_SIGNED) && bits < 64 &&
	    (v & (1ull << (bits - 1))))
		v |= ~0ull << bits;
	return (int64_t)v;
}

/*
 * A __data_loc string: the u32 field holds the string's offset (low 16
 * bits) and length with its NUL (high 16); for __rel_loc the offset is
 * from the end of the field.  NULL if it does not lie inside the record
 * or has no NUL.
 */
static const char *str(const struct klpt_decoder *d, const struct known *k,
		       enum fld i, const struct tep_record *rec)
{
	const struct tep_format_field *f = k->f[i];
	const unsigned char *data = rec->data;
	uint32_t loc = (uint32_t)rd_num(d, data + f->offset, 4);
	size_t off = loc & 0xffff, len = loc >> 16;

	if (f->flags & TEP_FIELD_IS_RELATIVE)
		off += f->offset + f->size;
	if (!len)
		return "";
	if (off + len > (size_t)rec->size)
		return NULL;
	/* the kernel's length counts the NUL (__string()): look there first */
	if (data[off + len - 1] && !memchr(data + off, '\0', len))
		return NULL;
	return (const char *)data + off;
}

/* char comm[16], not always NUL-terminated in the record. */
static void chars(const struct known *k, enum fld i,
		  const unsigned char *data, char *out, size_t size)
{
	const struct tep_format_field *f = k->f[i];
	size_t n = (size_t)f->size < size - 1 ? (size_t)f->size : size - 1;
	const unsigned char *nul = memchr(data + f->offset, '\0', n);

	if (nul)
		n = nul - (data + f->offset);
	memcpy(out, data + f->offset, n);
	out[n] = '\0';
}

static bool state_ok(int64_t v)
{
	return v == KLPT_UNDEFINED || v == KLPT_UNPATCHED ||
	       v == KLPT_PATCHED;
}

/* Codes outside the ABI from a newer klptrace.ko: not a reason to fail. */
static int via_of(int64_t v)
{
	return v >= KLPT_VIA_USER_RETURN && v <= KLPT_VIA_FORCE ?
	       (int)v : KLPT_VIA_UNKNOWN;
}

static int reason_of(int64_t v)
{
	return v >= KLPT_REASON_RUNNING && v <= KLPT_REASON_UNKNOWN ?
	       (int)v : KLPT_REASON_OTHER;
}

/*
 * The task fields an event of another kind than switch and blocked does
 * not carry: states undefined, kthread unknown, the strings "" (valid).
 */
static void task_blank(struct klpt_event *ev)
{
	ev->task.from = ev->task.to = KLPT_UNDEFINED;
	ev->task.target = KLPT_UNDEFINED;
	ev->task.kthread = -1;
	ev->task.patch = "";
	ev->task.func = "";
}

/*
 * The comm begin_new_exec() gives: kbasename(bprm->filename), but the
 * file's dentry name for an execveat() of a bare fd ("/dev/fd/N"),
 * which the event does not carry: "" then (the task:task_rename
 * before it says).  Truncated as __set_task_comm() does.
 */
static void exec_comm(const char *name, char *out, size_t size)
{
	const char *base = strrchr(name, '/');
	size_t n;

	out[0] = '\0';
	if (!strncmp(name, "/dev/fd/", 8) &&
	    strspn(name + 8, "0123456789") == strlen(name + 8))
		return;
	base = base ? base + 1 : name;
	n = strnlen(base, size - 1);
	memcpy(out, base, n);
	out[n] = '\0';
}

/* CLONE_THREAD (include/uapi/linux/sched.h): same thread group */
#define KLPT_CLONE_THREAD	0x00010000ull
/* kthreadd's pid: rest_init() creates kernel_init (1), then kthreadd */
#define KLPT_KTHREADD_PID	2

/*
 * task:task_newtask (copy_process(), once the task is complete) carries
 * the child's pid, comm and clone flags; common_pid is the creator.  Of
 * what a task needs: tgid is the child's own pid unless CLONE_THREAD,
 * else the creator's (0 here: the model takes it from the creator);
 * PF_KTHREAD is not in it, but in 6.1 only kernel_thread() sets it
 * (kernel_clone_args.kthread), and after boot only kthreadd calls that
 * (create_kthread(); rest_init() and fork_idle() run at boot), while
 * every task kthreadd creates is a kernel thread: so it is one iff its
 * creator is kthreadd, which is pid 2 (rest_init() creates kernel_init,
 * pid 1, then kthreadd).  PF_KTHREAD is never cleared (6.1 exec of a
 * kernel thread is refused).  The state is not in it: the model takes
 * the creator's.
 */
static void newtask(const struct klpt_decoder *d, const struct known *k,
		    const struct tep_record *rec, struct klpt_event *ev)
{
	const unsigned char *data = rec->data;
	uint64_t flags = (uint64_t)num(d, k, F_CLONE_FLAGS, data);
	int creator = (int)num(d, k, F_COMMON_PID, data);

	task_blank(ev);
	ev->task.pid = num(d, k, F_PID, data);
	chars(k, F_COMM, data, ev->task.comm, sizeof(ev->task.comm));
	ev->task.tgid = flags & KLPT_CLONE_THREAD ? 0 : ev->task.pid;
	ev->task.ppid = creator;
	ev->task.kthread = creator == KLPT_KTHREADD_PID;
	ev->task.to = KLPT_STATE_UNKNOWN;
}

#define STR(var, fld)							\
	do {								\
		(var) = str(d, k, (fld), rec);				\
		if (!(var))						\
			return klpt_err(EBADMSG);			\
	} while (0)

int klpt_decode(struct klpt_decoder *d, struct tep_record *rec,
		struct klpt_event *ev)
{
	const unsigned char *data;
	const struct known *k;
	const char *file;
	uint64_t id;
	int idx;
	int64_t v;

	if (!d || !rec || !ev)
		return klpt_err(EINVAL);
	if (!d->nknown)
		return 0;
	if (rec->size < d->hdr_size || !rec->data)
		return klpt_err(EBADMSG);
	id = rd_num(d, (const unsigned char *)rec->data + d->type_off,
		    d->type_size);
	if (id >= (uint64_t)d->table_len || (idx = d->table[id]) < 0)
		return 0;
	k = &d->known[idx];
	if (k->def->only == 2 && !d->fallback && d->has_task_new)
		return 0;
	if (k->def->only == 1 && !d->fallback)
		return 0;
	if (k->def->only < 0 && d->fallback)
		return 0;
	if (rec->size < k->min_size)
		return klpt_err(EBADMSG);
	data = rec->data;

	memset(ev, 0, sizeof(*ev));
	ev->type = k->def->type;
	ev->ts = rec->ts;
	ev->cpu = rec->cpu;

	switch (k->def->shape) {
	case S_PASS:
		ev->transition.checked = num(d, k, F_CHECKED, data);
		/* fall through */
	case S_SIGNAL:
		ev->transition.pass = num(d, k, F_PASS, data);
		ev->transition.pending = num(d, k, F_PENDING, data);
		/* fall through */
	case S_TRANSITION:
	case S_COMPLETE:
		if (k->def->shape == S_COMPLETE)
			ev->transition.forced = num(d, k, F_FORCED, data) != 0;
		STR(ev->transition.patch, F_PATCH);
		v = num(d, k, F_TARGET, data);
		if (!state_ok(v))
			return klpt_err(EBADMSG);
		ev->transition.target = v;
		break;
	case S_SWITCH:
	case S_BLOCKED:
		ev->task.pid = num(d, k, F_PID, data);
		ev->task.tgid = num(d, k, F_TGID, data);
		chars(k, F_COMM, data, ev->task.comm, sizeof(ev->task.comm));
		if (k->def->shape == S_SWITCH) {
			v = num(d, k, F_FROM, data);
			if (!state_ok(v))
				return klpt_err(EBADMSG);
			ev->task.from = v;
			v = num(d, k, F_TO, data);
			if (!state_ok(v))
				return klpt_err(EBADMSG);
			ev->task.to = v;
			ev->task.via = via_of(num(d, k, F_VIA, data));
			/* not a blocked event: keep the strings valid */
			ev->task.patch = "";
			ev->task.func = "";
			ev->task.target = KLPT_UNDEFINED;
			break;
		}
		STR(ev->task.patch, F_PATCH);
		STR(ev->task.func, F_FUNC);
		v = num(d, k, F_TARGET, data);
		if (!state_ok(v))
			return klpt_err(EBADMSG);
		ev->task.target = v;
		ev->task.reason = reason_of(num(d, k, F_REASON, data));
		ev->task.err = num(d, k, F_ERR, data);
		break;
	case S_MODREF:
		STR(ev->module.module, F_MODULE);
		STR(ev->module.caller, F_CALLER);
		v = num(d, k, F_OP, data);
		if (v != KLP_TRACE_REF_GET && v != KLP_TRACE_REF_PUT)
			return klpt_err(EBADMSG);
		ev->module.get = v == KLP_TRACE_REF_GET;
		ev->module.refcnt = num(d, k, F_REFCNT, data);
		ev->module.ip = num(d, k, F_IP, data);
		break;
	case S_PATCH:
		STR(ev->patch.patch, F_PATCH);
		ev->patch.forced = num(d, k, F_FORCED, data) != 0;
		break;
	case S_MODULE:
		STR(ev->module.module, F_MODULE);
		ev->module.caller = "";
		break;
	case S_MODGET:
	case S_MODPUT:
		STR(ev->module.module, F_NAME);
		ev->module.get = k->def->shape == S_MODGET;
		/* module:* show the raw count, one above sysfs's refcnt */
		ev->module.refcnt = num(d, k, F_REFCNT, data) - 1;
		ev->module.ip = num(d, k, F_IP, data);
		ev->module.caller = "";
		break;
	case S_MODNAME:
		STR(ev->module.module, F_NAME);
		ev->module.caller = "";
		break;
	case S_EXIT:
		/* no tgid in this event */
		task_blank(ev);
		ev->task.pid = num(d, k, F_PID, data);
		chars(k, F_COMM, data, ev->task.comm, sizeof(ev->task.comm));
		break;
	case S_FORKFAIL:
	case S_NEW:
		task_blank(ev);
		ev->task.pid = num(d, k, F_PID, data);
		ev->task.tgid = num(d, k, F_TGID, data);
		chars(k, F_COMM, data, ev->task.comm, sizeof(ev->task.comm));
		if (k->def->shape == S_FORKFAIL) {
			ev->task.err = num(d, k, F_ERR, data);
			break;
		}
		v = num(d, k, F_STATE, data);
		if (!state_ok(v))
			return klpt_err(EBADMSG);
		ev->task.to = v;
		ev->task.kthread = num(d, k, F_KTHREAD, data) != 0;
		break;
	case S_NEWTASK:
		newtask(d, k, rec, ev);
		break;
	case S_RENAME:
		task_blank(ev);
		ev->task.pid = num(d, k, F_PID, data);
		chars(k, F_NEWCOMM, data, ev->task.comm, sizeof(ev->task.comm));
		break;
	case S_EXEC:
		task_blank(ev);
		ev->task.pid = num(d, k, F_PID, data);
		ev->task.old_pid = num(d, k, F_OLD_PID, data);
		STR(file, F_FILENAME);
		exec_comm(file, ev->task.comm, sizeof(ev->task.comm));
		break;
	}
	return 1;
}
