// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A livepatch's page (Enter on a patch, --patch-details): what its
 * module is, whether it is an atomic replace, its objects and functions
 * (and which patch's version of each runs: view.c's top_func), the
 * steps of its life with their times and the tasks that blocked its
 * last transition (the library's history, phist.c).  Built here once
 * for every renderer: the screen's page, -b and --json.
 *
 * What 6.1 shows and what it does not:
 *   - /sys/module/M/srcversion exists only for a module built with
 *     MODULE_VERSION (or CONFIG_MODULE_SRCVERSION_ALL, off in Debian):
 *     "none" then, not unknown;
 *   - the description is in the .ko's .modinfo only, never in sysfs: it
 *     is read from the file when klptop knows which (the screen's L
 *     loaded it, or <root>/lib/modules/<kernel>/modules.dep lists the
 *     module), and shown as known only if the file is the loaded build:
 *     the same GNU build ID (6.1 links modules with --build-id=sha1) in
 *     the file and in /sys/module/M/notes/.note.gnu.build-id (the
 *     loaded section, kernel/module/sysfs.c add_notes_attrs()); the name
 *     or srcversion alone is no proof (Debian builds without
 *     CONFIG_MODULE_SRCVERSION_ALL, and a file can change after the
 *     load); without both IDs it is unverified (?, the file's text in
 *     the why); a compressed
 *     file is not read (unknown, saying so); modfile.c reads each file
 *     again only when it changed (every frame of -b asks);
 *   - `replace` and `stack_order` are sysfs files of 6.11+ and 6.13+:
 *     read where they exist; on 6.1 a patch is known to be an atomic
 *     replace only once the session saw it replace another
 *     (klpt_patch_replaced_by()), else it is unknown;
 *   - an object is a module's name or vmlinux (always loaded); a module
 *     object is loaded when its own `patched` file says 1 (6.1 sets
 *     obj->patched only on a loaded object) or when
 *     /sys/module/OBJ/initstate says live or coming (only a loadable
 *     module has it; klp_module_coming() runs in prepare_coming_module()
 *     before mod_sysfs_setup(), and on unload the directory outlives
 *     klp_module_going(): the directory alone tells neither, and a
 *     built-in with parameters has one too).
 * A replay has none of the running system's files: those values are
 * unknown there.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "klptop.h"

/* Read <root>/fmt... into buf, first line only: 0 or -errno. */
static int __attribute__((format(printf, 4, 5)))
read_line(const char *root, char *buf, size_t size, const char *fmt, ...)
{
	char rel[PATH_MAX], path[PATH_MAX + 256];
	va_list ap;
	FILE *f;
	int r = 0;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s%s", root ? root : "", rel);
	buf[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return -errno;
	errno = 0;
	if (!fgets(buf, (int)size, f)) {
		/* a read error is not an empty file (EISDIR, EIO, ...) */
		r = ferror(f) ? (errno ? -errno : -EIO) : 0;
		buf[0] = '\0';
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return r;
}

static bool exists(const char *root, const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s%s/%s", root ? root : "", dir, name);
	return !access(path, F_OK);
}

/*
 * Why a module file's .modinfo name could not be read, in words: the
 * description is then not known.  modules.dep lists compressed modules
 * (name.ko.xz, .gz, .zst: CONFIG_MODULE_COMPRESS_*), which
 * klpt_module_file_info() does not decompress.
 */
static void modfile_why(struct top_details *d, const struct top_modfile *m)
{
	static const char *const packed[] = { ".xz", ".gz", ".zst" };
	size_t i, n = strlen(d->file);

	if (!m) {
		snprintf(d->description_why, sizeof(d->description_why),
			 "its file's path is too long");
		return;
	}
	if (m->file_r || (m->name_r != -ENOEXEC && m->name_r != -ENOENT)) {
		snprintf(d->description_why, sizeof(d->description_why),
			 "cannot read its file: %s",
			 strerror(-(m->file_r ? m->file_r : m->name_r)));
		return;
	}
	for (i = 0; m->name_r == -ENOEXEC && i < 3; i++)
		if (n > strlen(packed[i]) &&
		    !strcmp(d->file + n - strlen(packed[i]), packed[i])) {
			snprintf(d->description_why,
				 sizeof(d->description_why),
				 "its file is compressed (%s): klptop reads "
				 "an uncompressed .ko only", packed[i]);
			return;
		}
	snprintf(d->description_why, sizeof(d->description_why), "%s",
		 m->name_r == -ENOEXEC ? "its file is not a kernel module "
		 "klptop can read (an ELF64 object of this machine with a "
		 ".modinfo section)" : "its file's .modinfo has no name");
}

/*
 * Whether the module file m is the loaded build of the module whose
 * sysfs directory is dir: the same GNU build ID (see the top).  1 yes, 0
 * another build, -1 cannot tell; why says so (unless 1).
 */
static int same_build(const char *root, const char *dir,
		      const struct top_modfile *m, char *why, size_t size)
{
	char loaded_id[132], p[PATH_MAX + 256];
	unsigned char note[512];
	ssize_t n = -1;
	int fd, r;

	snprintf(p, sizeof(p), "%s%s/notes/.note.gnu.build-id",
		 root ? root : "", dir);
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	r = fd < 0 ? -errno : 0;
	if (fd >= 0) {
		n = read(fd, note, sizeof(note));
		r = n < 0 ? -errno : 0;
		close(fd);
	}
	if (r) {
		snprintf(why, size, "unverified: cannot read "
			 "%s/notes/.note.gnu.build-id: %s", dir, strerror(-r));
		return -1;
	}
	if (klpt_build_id_note(note, (size_t)n, loaded_id, sizeof(loaded_id))) {
		snprintf(why, size, "unverified: no build ID in "
			 "%s/notes/.note.gnu.build-id", dir);
		return -1;
	}
	if (m->build_id_r) {
		snprintf(why, size, "unverified: no build ID in its file "
			 "(%s)", strerror(-m->build_id_r));
		return -1;
	}
	if (strcmp(m->build_id, loaded_id)) {
		snprintf(why, size, "its file is another build (build ID "
			 "%.16s..., loaded %.16s...)", m->build_id, loaded_id);
		return 0;
	}
	return 1;
}

/* srcversion and description (module p->name, live). */
static void modinfo(struct top_details *d, const struct top_app *app,
		    const char *root)
{
	char dir[80], path[PATH_MAX];
	const char *known = top_app_module_file(app, d->name);
	const struct top_modfile *m;
	size_t len;
	bool have_src;
	int r, same;

	snprintf(dir, sizeof(dir), "/sys/module/%s", d->name);
	if (!exists(root, dir, "")) {
		d->srcversion_state = TOP_UNKNOWN;
		snprintf(d->srcversion_why, sizeof(d->srcversion_why),
			 "the module is not loaded");
		snprintf(d->description_why, sizeof(d->description_why),
			 "the module is not loaded");
		return;
	}
	r = read_line(root, d->srcversion, sizeof(d->srcversion),
		      "%s/srcversion", dir);
	if (!r && d->srcversion[0]) {
		d->srcversion_state = TOP_KNOWN;
	} else if (r == -ENOENT) {
		/* only a missing file says MODULE_VERSION was not there */
		d->srcversion_state = TOP_NONE;
		snprintf(d->srcversion_why, sizeof(d->srcversion_why),
			 "no %s/srcversion: built without MODULE_VERSION",
			 dir);
	} else {
		d->srcversion[0] = '\0';
		d->srcversion_state = TOP_UNKNOWN;
		snprintf(d->srcversion_why, sizeof(d->srcversion_why),
			 "cannot read %s/srcversion: %s", dir,
			 r ? strerror(-r) : "empty");
	}
	if (known)
		snprintf(path, sizeof(path), "%s", known);
	else if (!top_modfile_dep(root,
				  klpt_session_kernel(top_app_session(app)),
				  d->name, path, sizeof(path))) {
		snprintf(d->description_why, sizeof(d->description_why),
			 "the module's file is not known (not loaded by "
			 "klptop, not in modules.dep)");
		return;
	}
	/* shown cut if it must be; the file read is path */
	if ((size_t)snprintf(d->file, sizeof(d->file), "%s", path) >=
	    sizeof(d->file))
		top_utf8_cut(d->file, sizeof(d->file));
	m = top_modfile_info(path);
	if (!m || m->name_r) {
		modfile_why(d, m);
		return;
	}
	if (!top_same_modname(d->name, m->name, strlen(m->name))) {
		snprintf(d->description_why, sizeof(d->description_why),
			 "its file is another module's (.modinfo name %s)",
			 m->name);
		return;
	}
	/* srcversions that differ: another build, whatever else says */
	have_src = !m->srcversion_r;
	if (d->srcversion_state != TOP_UNKNOWN &&
	    (have_src != (d->srcversion_state == TOP_KNOWN) ||
	     (have_src && strcmp(m->srcversion, d->srcversion)))) {
		snprintf(d->description_why, sizeof(d->description_why),
			 "its file is another build (srcversion %s, loaded "
			 "%s)", have_src ? m->srcversion : "none",
			 d->srcversion_state == TOP_KNOWN ? d->srcversion :
			 "none");
		return;
	}
	same = same_build(root, dir, m, d->description_why,
			  sizeof(d->description_why));
	if (!same)
		return;
	if (m->description_r) {
		if (same < 0)
			return;		/* unverified, and it says none */
		d->description_state = TOP_NONE;
		snprintf(d->description_why, sizeof(d->description_why),
			 "its .modinfo has no description");
		return;
	}
	if (same < 0) {
		/* never shown as known: ?, what the file says in the why */
		len = strlen(d->description_why);
		snprintf(d->description_why + len,
			 sizeof(d->description_why) - len,
			 "; its file says: %s", m->description);
		top_utf8_cut(d->description_why, sizeof(d->description_why));
		return;
	}
	snprintf(d->description, sizeof(d->description), "%s",
		 m->description);
	top_utf8_cut(d->description, sizeof(d->description));
	d->description_state = TOP_KNOWN;
}

/* replace and stack_order: sysfs where the kernel has them, else seen. */
static void replace(struct top_details *d, const struct top_app *app,
		    const char *root, bool live)
{
	struct klpt_session *s = top_app_session(app);
	const char *one;
	char dir[128], val[32];

	d->stack_order = -1;
	snprintf(dir, sizeof(dir), "/sys/kernel/livepatch/%s", d->name);
	if (live && !read_line(root, val, sizeof(val), "%s/stack_order", dir))
		d->stack_order = strtol(val, NULL, 10);
	/* the model's, from the events (6.1 klp_free_replaced_patches_async) */
	one = klpt_patch_replaced_by(klpt_patch_find(s, d->name));
	if (one) {
		d->replaced = true;
		snprintf(d->replaced_by, sizeof(d->replaced_by), "%s", one);
	}
	if (live && !read_line(root, val, sizeof(val), "%s/replace", dir)) {
		d->replace = val[0] == '1' ? TOP_KNOWN : TOP_NONE;
		snprintf(d->replace_why, sizeof(d->replace_why),
			 "%s/replace", dir);
		return;
	}
	/* on the patch itself: the replaced one may be gone with its module */
	one = klpt_patch_seen_replacing(klpt_patch_find(s, d->name));
	if (one) {
		d->replace = TOP_KNOWN;
		snprintf(d->replace_why, sizeof(d->replace_why),
			 "seen replacing %s", one);
		top_utf8_cut(d->replace_why, sizeof(d->replace_why));
		return;
	}
	d->replace = TOP_UNKNOWN;
	snprintf(d->replace_why, sizeof(d->replace_why), "%s",
		 live ? "this kernel's sysfs has no replace file (6.11+), "
		 "and no replace by it was seen" :
		 "a replay: no replace by it was seen");
}

/* Whether the module object obj of patch is loaded (see the top). */
static int loaded(const char *root, const char *patch, const char *obj)
{
	char val[16];
	int r;

	if (!read_line(root, val, sizeof(val),
		       "/sys/kernel/livepatch/%s/%s/patched", patch, obj) &&
	    !strcmp(val, "1"))
		return TOP_KNOWN;
	r = read_line(root, val, sizeof(val), "/sys/module/%s/initstate", obj);
	if (r == -ENOENT)	/* no such loadable module */
		return TOP_NONE;
	if (r)
		return TOP_UNKNOWN;
	if (!strcmp(val, "live") || !strcmp(val, "coming"))
		return TOP_KNOWN;
	return !strcmp(val, "going") ? TOP_NONE : TOP_UNKNOWN;
}

/* The objects of p's functions, in their order of first appearance. */
static int objects(struct top_details *d, const struct top_patch *p,
		   const char *root, bool live)
{
	int i, k;

	d->objects_known = p->nfuncs >= 0;
	if (p->nfuncs <= 0)
		return 0;
	d->objects = calloc((size_t)p->nfuncs, sizeof(*d->objects));
	if (!d->objects)
		return -ENOMEM;
	for (i = 0; i < p->nfuncs; i++) {
		const struct top_func *f = &p->funcs[i];
		struct top_object *o = NULL;

		for (k = 0; k < d->nobjects; k++)
			if (!strcmp(d->objects[k].name, f->object))
				o = &d->objects[k];
		if (!o) {
			o = &d->objects[d->nobjects++];
			snprintf(o->name, sizeof(o->name), "%s", f->object);
			o->patched = f->patched;
			o->loaded = !strcmp(f->object, "vmlinux") ? TOP_KNOWN :
				    !live ? TOP_UNKNOWN :
				    loaded(root, p->name, f->object);
		}
		o->nfuncs++;
	}
	return 0;
}

int top_details_build(struct top_details *d, const struct top_app *app,
		      const struct top_patch *p)
{
	struct klpt_session *s = top_app_session(app);
	const struct klpt_patch *kp = klpt_patch_find(s, p->name);
	const char *root = top_app_root(app);
	bool live = !top_app_is_replay(app);
	int i, n;

	memset(d, 0, sizeof(*d));
	d->live = live;
	snprintf(d->name, sizeof(d->name), "%s", p->name);
	d->module_only = p->module_only || !kp;
	d->srcversion_state = d->description_state = TOP_UNKNOWN;
	if (live) {
		modinfo(d, app, root);
	} else {
		snprintf(d->srcversion_why, sizeof(d->srcversion_why),
			 "a replay: the recording has no sysfs");
		snprintf(d->description_why, sizeof(d->description_why),
			 "a replay: the recording has no module file");
	}
	replace(d, app, root, live);
	if (objects(d, p, root, live))
		return -ENOMEM;
	if (!kp)
		return 0;
	d->whole = klpt_patch_history_whole(kp, &d->since);
	d->dropped = klpt_patch_history_dropped(kp);
	d->gap = klpt_patch_history_gap(kp);
	n = klpt_patch_history_count(kp);
	if (n > 0) {
		d->steps = calloc((size_t)n, sizeof(*d->steps));
		if (!d->steps)
			return -ENOMEM;
		for (i = 0; i < n; i++)
			d->steps[d->nsteps++] = *klpt_patch_history_at(kp, i);
	}
	d->blocked_tasks = klpt_patch_blocked_tasks(kp, &d->blk_exact);
	for (i = KLPT_UNPATCHED; i <= KLPT_PATCHED; i++)
		d->blocked_to[i] = klpt_patch_blocked_tasks_to(kp, i);
	n = klpt_patch_blocker_count(kp);
	if (n > 0) {
		d->blk = calloc((size_t)n, sizeof(*d->blk));
		if (!d->blk)
			return -ENOMEM;
		for (i = 0; i < n; i++)
			d->blk[d->nblk++] = *klpt_patch_blocker_at(kp, i);
	}
	return 0;
}

void top_details_free(struct top_details *d)
{
	free(d->objects);
	free(d->steps);
	free(d->blk);
	memset(d, 0, sizeof(*d));
}

/* ---------------------------------------------------------- the steps */

const char *top_step_name(const struct klpt_patch_step *st)
{
	switch (st->type) {
	case KLPT_EV_TRANSITION_INIT:	return "init";
	case KLPT_EV_TRANSITION_START:	return "start";
	case KLPT_EV_TRANSITION_PASS:	return "passes";
	case KLPT_EV_TRANSITION_SIGNAL:	return "signal";
	case KLPT_EV_TRANSITION_REVERSE: return "reverse";
	case KLPT_EV_TRANSITION_FORCE:	return "force";
	case KLPT_EV_TRANSITION_CANCEL:	return "cancel";
	case KLPT_EV_TRANSITION_COMPLETE: return "complete";
	case KLPT_EV_PATCH_FORCED:	return "forced";
	case KLPT_EV_PATCH_FREE:	return "free";
	case KLPT_EV_PATCH_RELEASE:	return "release";
	case KLPT_EV_MODULE_REF:	return st->get ? "get" : "put";
	case KLPT_EV_MODULE_UNLOAD_READY: return "unload-ready";
	case KLPT_EV_LOST:		return "lost";
	default:			return "?";
	}
}

/*
 * What the kernel did at the step (6.1 kernel/livepatch/{core,
 * transition}.c; tracepoints/README.md says where each event fires).
 */
void top_step_text(char *buf, size_t size, const struct klpt_patch_step *st)
{
	const char *to = top_state_name(st->target);
	const char *from = top_state_name(st->target == KLPT_PATCHED ?
					   KLPT_UNPATCHED : KLPT_PATCHED);

	switch (st->type) {
	case KLPT_EV_TRANSITION_INIT:
		snprintf(buf, size, "%s: every task set %s; pre-%s "
			 "callbacks next", st->target == KLPT_PATCHED ?
			 "enable" : "disable", from,
			 st->target == KLPT_PATCHED ? "patch" : "unpatch");
		break;
	case KLPT_EV_TRANSITION_START:
		snprintf(buf, size, "tasks not %s marked pending", to);
		break;
	case KLPT_EV_TRANSITION_PASS:
		if (st->passes > 1)
			snprintf(buf, size, "stack checks #%u-#%u (%u passes): "
				 "%u checked, %u pending at the last",
				 st->first_pass, st->pass, st->passes,
				 st->checked, st->pending);
		else
			snprintf(buf, size, "stack checks #%u: %u checked, "
				 "%u pending", st->pass, st->checked,
				 st->pending);
		break;
	case KLPT_EV_TRANSITION_SIGNAL:
		snprintf(buf, size, "after pass #%u: %u pending tasks "
			 "signalled (kthreads woken)", st->pass, st->pending);
		break;
	case KLPT_EV_TRANSITION_REVERSE:
		snprintf(buf, size, "reversed: the target is %s now", to);
		break;
	case KLPT_EV_TRANSITION_FORCE:
		snprintf(buf, size, "1 written to force: every task set %s",
			 to);
		break;
	case KLPT_EV_TRANSITION_CANCEL:
		snprintf(buf, size, "the enable failed before its start");
		break;
	case KLPT_EV_TRANSITION_COMPLETE:
		snprintf(buf, size, "every task %s%s", to,
			 st->forced ? " (forced)" : "");
		break;
	case KLPT_EV_PATCH_FORCED:
		snprintf(buf, size, "marked forced: its module can never be "
			 "unloaded");
		break;
	case KLPT_EV_PATCH_FREE:
		snprintf(buf, size, "free work: objects gone from sysfs%s",
			 st->forced ? " (forced)" : "");
		break;
	case KLPT_EV_PATCH_RELEASE:
		snprintf(buf, size, "kobject released: its directory is gone");
		break;
	case KLPT_EV_MODULE_REF:
		snprintf(buf, size, "module reference %s: refcnt %d%s%s",
			 st->get ? "taken" : "dropped", st->refcnt,
			 st->caller[0] ? " by " : "", st->caller);
		break;
	case KLPT_EV_MODULE_UNLOAD_READY:
		snprintf(buf, size, "last reference dropped: rmmod is safe");
		break;
	case KLPT_EV_LOST:
		snprintf(buf, size, "events lost: steps may be missing here");
		break;
	default:
		snprintf(buf, size, "?");
	}
}

/* ------------------------------------------------------------------ -b */

/* ns in the trace clock as the event log shows it (seconds.micro). */
static const char *fmt_ts(char *buf, size_t size, uint64_t ns,
			  uint64_t base)
{
	ns = base && ns >= base ? ns - base : ns;
	snprintf(buf, size, "%llu.%06llu",
		 (unsigned long long)(ns / 1000000000u),
		 (unsigned long long)(ns % 1000000000u / 1000u));
	return buf;
}

static const char *tri_word(int state)
{
	return state == TOP_KNOWN ? "yes" : state == TOP_NONE ? "no" : "?";
}

/* Function fn of an object, as -b's func rows say it (text.c). */
static void func_line(FILE *f, const struct top_func *fn)
{
	char name[sizeof(fn->name) * 4], runs[sizeof(fn->runs) * 4];

	fprintf(f, "      func %s,%lu live %s runs %s%s\n",
		top_esc_text(name, sizeof(name), fn->name), fn->sympos,
		!fn->known ? "?" : fn->live ? "yes" : "no",
		!fn->known ? "?" : !fn->runs[0] ? "-" :
		top_esc_text(runs, sizeof(runs), fn->runs),
		fn->switching ? " switching" : "");
}

void top_details_text(FILE *f, const struct top_details *d,
		      const struct top_patch *p, uint64_t base, bool funcs)
{
	char e1[512], e2[512], ts[32], ts2[32], text[160];
	int i, k;

	fprintf(f, "  details:\n");
	fprintf(f, "    srcversion: %s%s%s%s\n",
		d->srcversion_state == TOP_KNOWN ?
		top_esc_text(e1, sizeof(e1), d->srcversion) :
		d->srcversion_state == TOP_NONE ? "none" : "?",
		d->srcversion_why[0] ? " (" : "", d->srcversion_why,
		d->srcversion_why[0] ? ")" : "");
	fprintf(f, "    description: %s%s%s%s\n",
		d->description_state == TOP_KNOWN ?
		top_esc_text(e1, sizeof(e1), d->description) :
		d->description_state == TOP_NONE ? "none" : "?",
		d->description_why[0] ? " (" : "",
		top_esc_text(e2, sizeof(e2), d->description_why),
		d->description_why[0] ? ")" : "");
	if (d->file[0])
		fprintf(f, "    file: %s\n", top_esc_text(e1, sizeof(e1),
							  d->file));
	fprintf(f, "    replace: %s (%s)\n", tri_word(d->replace),
		top_esc_text(e1, sizeof(e1), d->replace_why));
	if (d->replaced)
		fprintf(f, "    replaced by: %s\n", d->replaced_by[0] ?
			top_esc_text(e1, sizeof(e1), d->replaced_by) :
			"? (an atomic replace; which one was not seen)");
	if (d->stack_order >= 0)
		fprintf(f, "    stack_order: %lld\n", d->stack_order);
	if (p->nfuncs < 0)
		fprintf(f, "    objects: ? (%s)\n", d->live ?
			"its directory went before it was read" :
			"a replay: the recording has no sysfs");
	for (k = 0; k < d->nobjects; k++) {
		const struct top_object *o = &d->objects[k];

		fprintf(f, "    object %s loaded %s patched %s funcs %d\n",
			top_esc_text(e1, sizeof(e1), o->name),
			tri_word(o->loaded), o->patched ? "yes" : "no",
			o->nfuncs);
		for (i = 0; funcs && i < p->nfuncs; i++)
			if (!strcmp(p->funcs[i].object, o->name))
				func_line(f, &p->funcs[i]);
	}
	if (!d->whole)
		fprintf(f, "    history: from %s only: what came before is "
			"unknown\n", d->since ?
			fmt_ts(ts, sizeof(ts), d->since, base) : "?");
	for (i = 0; i < d->nsteps; i++) {
		const struct klpt_patch_step *st = &d->steps[i];

		top_step_text(text, sizeof(text), st);
		if (st->first_ts != st->ts)
			fprintf(f, "    step %s-%s %s %s\n",
				fmt_ts(ts, sizeof(ts), st->first_ts, base),
				fmt_ts(ts2, sizeof(ts2), st->ts, base),
				top_step_name(st),
				top_esc_text(e1, sizeof(e1), text));
		else
			fprintf(f, "    step %s %s %s\n",
				fmt_ts(ts, sizeof(ts), st->ts, base),
				top_step_name(st),
				top_esc_text(e1, sizeof(e1), text));
		if (i == d->gap)
			fprintf(f, "    ... %u steps not kept\n", d->dropped);
	}
	if (!d->blk_exact && !d->blocked_tasks)
		fprintf(f, "    blocked by: ? (no transition of it seen "
			"whole)\n");
	else if (d->blocked_to[KLPT_PATCHED] && d->blocked_to[KLPT_UNPATCHED])
		/* a reverse: one transition, blocked both ways */
		fprintf(f, "    blocked by: %s%u tasks (%u ->%s, %u ->%s)%s\n",
			d->blk_exact ? "" : ">=", d->blocked_tasks,
			d->blocked_to[KLPT_PATCHED],
			top_state_name(KLPT_PATCHED),
			d->blocked_to[KLPT_UNPATCHED],
			top_state_name(KLPT_UNPATCHED),
			d->nblk < (int)(d->blocked_to[0] + d->blocked_to[1]) ?
			" (those with most checks shown)" : "");
	else
		fprintf(f, "    blocked by: %s%u tasks%s\n",
			d->blk_exact ? "" : ">=", d->blocked_tasks,
			d->nblk < (int)d->blocked_tasks ?
			" (those with most checks shown)" : "");
	for (i = 0; i < d->nblk; i++) {
		const struct klpt_patch_blocker *b = &d->blk[i];

		fprintf(f, "    blocker %d %s ->%s %s%s%s checks %s%u %s-%s\n",
			b->pid, top_esc_text(e1, sizeof(e1), b->comm),
			top_state_name(b->target), top_reason_key(b->reason),
			b->func[0] ? " " : "",
			top_esc_text(e2, sizeof(e2), b->func),
			d->blk_exact ? "" : ">=", b->checks,
			fmt_ts(ts, sizeof(ts), b->first_ns, base),
			fmt_ts(ts2, sizeof(ts2), b->last_ns, base));
	}
}

/* ---------------------------------------------------------------- JSON */

static const char *tri_json(int state)
{
	return state == TOP_KNOWN ? "true" : state == TOP_NONE ? "false" :
	       "null";
}

/* key: the value if known, "" if none, null if unknown; then key_why. */
static void json_tri_str(FILE *f, const char *key, int state,
			 const char *val, const char *why)
{
	fprintf(f, ",\"%s\":", key);
	if (state == TOP_KNOWN)
		top_esc_json(f, val);
	else
		fputs(state == TOP_NONE ? "\"\"" : "null", f);
	fprintf(f, ",\"%s_why\":", key);
	top_esc_json(f, why);
}

/*
 * ,"details":{"srcversion":S|""|null,"srcversion_why":"...",
 *  "description":...,"description_why":"...","file":"..."|null,
 *  "replace":true|false|null,"replace_why":"...","replaced":false,
 *  "replaced_by":"..."|null (not replaced, or by a replace not seen),
 *  "stack_order":N|null,
 *  "objects":[{"name":"vmlinux","loaded":true|false|null,
 *  "patched":true,"funcs":N}]|null,"history_whole":false,
 *  "history_since_ns":N|null,"history_dropped":N,"history":[{"step":
 *  "init","ts_ns":N,"first_ts_ns":N,"target":"patched"|null,"text":
 *  "...", ...}],"blocked_tasks":N (distinct, either direction),
 *  "blocked_tasks_to":{"patched":N,"unpatched":N},"blocked_tasks_exact":true,
 *  "blockers":[{"pid":N,"tgid":N,"comm":"...","target":"patched",
 *  "reason":"running","function":"...","checks":N,"first_ns":N,
 *  "last_ns":N}]}
 */
void top_details_json(FILE *f, const struct top_details *d)
{
	char text[160];
	int i;

	fputs(",\"details\":{", f);
	fputs("\"name\":", f);
	top_esc_json(f, d->name);
	json_tri_str(f, "srcversion", d->srcversion_state, d->srcversion,
		     d->srcversion_why);
	json_tri_str(f, "description", d->description_state,
		     d->description, d->description_why);
	fputs(",\"file\":", f);
	if (d->file[0])
		top_esc_json(f, d->file);
	else
		fputs("null", f);
	fprintf(f, ",\"replace\":%s,\"replace_why\":",
		tri_json(d->replace));
	top_esc_json(f, d->replace_why);
	fprintf(f, ",\"replaced\":%s,\"replaced_by\":",
		d->replaced ? "true" : "false");
	if (d->replaced_by[0])
		top_esc_json(f, d->replaced_by);
	else
		fputs("null", f);
	if (d->stack_order >= 0)
		fprintf(f, ",\"stack_order\":%lld", d->stack_order);
	else
		fputs(",\"stack_order\":null", f);
	if (!d->nobjects && !d->objects_known)
		fputs(",\"objects\":null", f);
	else
		fputs(",\"objects\":[", f);
	for (i = 0; i < d->nobjects; i++) {
		const struct top_object *o = &d->objects[i];

		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		top_esc_json(f, o->name);
		fprintf(f, ",\"loaded\":%s,\"patched\":%s,\"funcs\":%d}",
			tri_json(o->loaded), o->patched ? "true" : "false",
			o->nfuncs);
	}
	if (d->nobjects || d->objects_known)
		fputc(']', f);
	fprintf(f, ",\"history_whole\":%s,\"history_since_ns\":",
		d->whole ? "true" : "false");
	if (d->since)
		fprintf(f, "%llu", (unsigned long long)d->since);
	else
		fputs("null", f);
	fprintf(f, ",\"history_dropped\":%u,\"history_gap\":%d,"
		"\"history\":[", d->dropped, d->gap);
	for (i = 0; i < d->nsteps; i++) {
		const struct klpt_patch_step *st = &d->steps[i];

		top_step_text(text, sizeof(text), st);
		fprintf(f, "%s{\"step\":\"%s\",\"ts_ns\":%llu,"
			"\"first_ts_ns\":%llu,\"target\":", i ? "," : "",
			top_step_name(st), (unsigned long long)st->ts,
			(unsigned long long)st->first_ts);
		if (st->target == KLPT_PATCHED || st->target == KLPT_UNPATCHED)
			fprintf(f, "\"%s\"", top_state_name(st->target));
		else
			fputs("null", f);
		if (st->type == KLPT_EV_TRANSITION_PASS)
			fprintf(f, ",\"first_pass\":%u,\"pass\":%u,"
				"\"passes\":%u,\"checked\":%u,\"pending\":%u",
				st->first_pass, st->pass, st->passes,
				st->checked, st->pending);
		else if (st->type == KLPT_EV_TRANSITION_SIGNAL)
			fprintf(f, ",\"pass\":%u,\"pending\":%u", st->pass,
				st->pending);
		else if (st->type == KLPT_EV_MODULE_REF) {
			fprintf(f, ",\"refcnt\":%d,\"caller\":", st->refcnt);
			top_esc_json(f, st->caller);
		}
		fprintf(f, ",\"forced\":%s,\"text\":",
			st->forced ? "true" : "false");
		top_esc_json(f, text);
		fputc('}', f);
	}
	/* none seen of a transition not seen whole: unknown, not 0 */
	if (!d->blk_exact && !d->blocked_tasks)
		fputs("],\"blocked_tasks\":null", f);
	else
		fprintf(f, "],\"blocked_tasks\":%u", d->blocked_tasks);
	fprintf(f, ",\"blocked_tasks_to\":{\"patched\":%u,\"unpatched\":%u}",
		d->blocked_to[KLPT_PATCHED], d->blocked_to[KLPT_UNPATCHED]);
	fprintf(f, ",\"blocked_tasks_exact\":%s,\"blockers\":[",
		d->blk_exact ? "true" : "false");
	for (i = 0; i < d->nblk; i++) {
		const struct klpt_patch_blocker *b = &d->blk[i];

		fprintf(f, "%s{\"pid\":%d,\"tgid\":%d,\"comm\":",
			i ? "," : "", b->pid, b->tgid);
		top_esc_json(f, b->comm);
		fprintf(f, ",\"target\":\"%s\",\"reason\":\"%s\","
			"\"function\":", top_state_name(b->target),
			top_reason_key(b->reason));
		top_esc_json(f, b->func);
		fprintf(f, ",\"checks\":%u,\"first_ns\":%llu,"
			"\"last_ns\":%llu}", b->checks,
			(unsigned long long)b->first_ns,
			(unsigned long long)b->last_ns);
	}
	fputs("]}", f);
}
