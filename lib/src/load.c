// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Loading a livepatch module and waiting for its transition.
 *
 * The load is one finit_module() call on a descriptor opened here, never
 * followed by init_module(): a module whose init fails (a pre_patch
 * callback, klp_enable_patch() itself) must run that init once, not
 * twice as busybox insmod would.  In 6.1 finit_module() returns only
 * after the module's init, so after klp_enable_patch(): the patch's
 * directory /sys/kernel/livepatch/<module> exists and its transition has
 * started (klp_start_transition()) and may be over already.
 *
 * The file is a root tool's input that a user may control, so before
 * the kernel reads it (from the same descriptor: what is checked is what
 * is loaded) it must be a regular file, not a symbolic link (O_NOFOLLOW:
 * the last component), owned by root or the caller and writable by
 * nobody else (as sudo treats its files), a 64-bit ELF whose .modinfo
 * says livepatch=Y: a plain module would load and stay loaded, an
 * action half done.  The directories that lead to it are the caller's
 * to trust, as with insmod.
 *
 * When the kernel refuses the module, its reason is in the kernel log:
 * /dev/kmsg is read without blocking from where it was before the call,
 * keeping the lines of warning level or worse and the module's own
 * ("<name>: ...", pr_fmt's convention).
 *
 * The wait: a transition is stalled when no task switched for a while
 * (the model's count of tasks not yet in the target state did not go
 * down), not merely when a clock ran out; the kernel's own signals to
 * pending tasks (every 15 passes) are its business and show in the
 * model (klpt_patch_signals()).
 */
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define MODINFO_MAX	(1u << 20)	/* a .modinfo is a few hundred bytes */
#define NAME_LEN	56		/* MODULE_NAME_LEN, 64 - sizeof(long) */

static bool real_root(const char *root)
{
	return !root || !*root || !strcmp(root, "/");
}

static int load_default(const char *root, int fd, const char *params)
{
	if (!real_root(root))
		return -EOPNOTSUPP;	/* a fake system: never the real one */
	if (syscall(SYS_finit_module, fd, params, 0) == 0)
		return 0;
	return -errno;
}

int (*klpt_load_module_fn)(const char *root, int fd, const char *params) =
	load_default;

static void why_set(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void why_set(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!why || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

/* Append "; text" (or text) to why, cut to size. */
static void why_add(char *why, size_t size, const char *text)
{
	size_t len;

	if (!why || !size)
		return;
	len = strnlen(why, size);
	if (len + 1 >= size)
		return;
	snprintf(why + len, size - len, "%s%s", len ? "; " : "", text);
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	return n == (ssize_t)len ? 0 : -ENOEXEC;
}

/*
 * The .modinfo section of the ELF64 file fd ("key=value\0" strings):
 * a malloc'd copy in *out, its size in *len.  -ENOEXEC if the file is
 * not such an ELF (a compressed module, another architecture's).
 */
static int read_modinfo(int fd, uint64_t fsize, char **out, size_t *len)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strsh;
	char name[16];
	unsigned int i;

	*out = NULL;
	if (pread_all(fd, &eh, sizeof(eh), 0) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_REL ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shstrndx >= eh.e_shnum || eh.e_shoff > fsize ||
	    (uint64_t)eh.e_shnum * sizeof(sh) > fsize - eh.e_shoff)
		return -ENOEXEC;
	if (pread_all(fd, &strsh, sizeof(strsh),
		      eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof(sh)))
		return -ENOEXEC;
	for (i = 0; i < eh.e_shnum; i++) {
		if (pread_all(fd, &sh, sizeof(sh),
			      eh.e_shoff + (uint64_t)i * sizeof(sh)))
			return -ENOEXEC;
		if (sh.sh_name >= strsh.sh_size ||
		    strsh.sh_offset + sh.sh_name >= fsize)
			continue;
		memset(name, 0, sizeof(name));
		if (pread(fd, name, sizeof(name) - 1,
			  (off_t)(strsh.sh_offset + sh.sh_name)) <= 0 ||
		    strcmp(name, ".modinfo"))
			continue;
		if (sh.sh_size > MODINFO_MAX || sh.sh_offset > fsize ||
		    sh.sh_size > fsize - sh.sh_offset)
			return -ENOEXEC;
		*out = malloc(sh.sh_size + 1);
		if (!*out)
			return -ENOMEM;
		if (pread_all(fd, *out, sh.sh_size, sh.sh_offset)) {
			free(*out);
			*out = NULL;
			return -ENOEXEC;
		}
		(*out)[sh.sh_size] = '\0';
		*len = sh.sh_size;
		return 0;
	}
	return -ENOEXEC;
}

/* The value of key in a .modinfo, or NULL. */
static const char *modinfo_get(const char *info, size_t len, const char *key)
{
	size_t klen = strlen(key), i = 0;

	while (i < len) {
		const char *s = info + i;
		size_t n = strnlen(s, len - i);

		if (n > klen && !strncmp(s, key, klen) && s[klen] == '=')
			return s + klen + 1;
		i += n + 1;
	}
	return NULL;
}

/* A module name as the kernel takes it: one path component, not empty. */
static bool name_ok(const char *name)
{
	size_t n = strnlen(name, NAME_LEN);

	return n && n < NAME_LEN && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..");
}

/*
 * The checks before the kernel sees the file: fd open on it, its name
 * and whether it is a livepatch module from .modinfo.
 */
static int check_file(const char *path, int *fdp, char *name, size_t nsize,
		      char *why, size_t wsize)
{
	char *info = NULL;
	const char *v;
	size_t len = 0;
	struct stat st;
	int fd, err;

	/* O_NONBLOCK: a FIFO put there must not hang the open */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
		  O_NONBLOCK);
	if (fd < 0) {
		err = errno;
		why_set(why, wsize, "%s: %s", path, err == ELOOP ?
			"a symbolic link (give the file it points to)" :
			strerror(err));
		return -err;
	}
	*fdp = fd;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		why_set(why, wsize, "%s: not a regular file", path);
		return -EINVAL;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		why_set(why, wsize, "%s: owned by uid %u or writable by group "
			"or others (mode %04o): a module root loads must be "
			"root's or yours and writable by nobody else", path,
			(unsigned int)st.st_uid,
			(unsigned int)(st.st_mode & 07777));
		return -EPERM;
	}
	err = read_modinfo(fd, (uint64_t)st.st_size, &info, &len);
	if (err) {
		why_set(why, wsize, "%s: %s", path, err == -ENOMEM ?
			strerror(ENOMEM) : "not a kernel module (an ELF64 "
			"object with a .modinfo section; a compressed module "
			"must be decompressed first)");
		return err;
	}
	v = modinfo_get(info, len, "name");
	if (!v || !name_ok(v)) {
		why_set(why, wsize, "%s: no module name in its .modinfo", path);
		free(info);
		return -ENOEXEC;
	}
	snprintf(name, nsize, "%s", v);
	v = modinfo_get(info, len, "livepatch");
	if (!v || strcmp(v, "Y")) {
		why_set(why, wsize, "%s: module %s is not a livepatch module "
			"(no livepatch=Y in its .modinfo): not loaded", path,
			name);
		free(info);
		return -EINVAL;
	}
	free(info);
	return 0;
}

/*
 * The kernel log from here on (without blocking): -1 if unreadable
 * (not root, dmesg_restrict, no /dev/kmsg).
 */
static int kmsg_open(const char *root)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/dev/kmsg", root);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * The records of /dev/kmsg that explain a failed load of module name:
 * "PRIO,SEQ,TS,FLAGS;TEXT" with continuation lines starting with a
 * space (the record's dictionary).  Kept: priority warning or worse
 * (level = PRIO & 7 <= 4), or TEXT starting "name: ".  One record per
 * read() from the device; a regular file (tests) may hold several.
 */
static void kmsg_explain(int fd, const char *name, char *why, size_t size)
{
	char buf[8192];
	size_t nlen = strlen(name);
	int reads = 0;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		char *line, *save = NULL;

		if (n < 0 && errno == EPIPE && ++reads < 1000)
			continue;	/* overwritten meanwhile: go on */
		if (n <= 0 || ++reads > 1000)
			return;
		buf[n] = '\0';
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *text = strchr(line, ';');
			long prio;

			if (line[0] == ' ' || !text)
				continue;
			prio = strtol(line, NULL, 10);
			text++;
			if ((prio & 7) <= 4 || (!strncmp(text, name, nlen) &&
						text[nlen] == ':'))
				why_add(why, size, text);
		}
	}
}

KLPT_API int klpt_patch_load(struct klpt_session *s, const char *path,
			     const char *params, char *name, size_t name_size,
			     char *why, size_t why_size)
{
	char mod[NAME_LEN] = "", sysdir[PATH_MAX];
	const char *root;
	struct stat st;
	int fd = -1, kfd, err;

	if (why && why_size)
		why[0] = '\0';
	if (name && name_size)
		name[0] = '\0';
	if (!s || !path || !*path)
		return klpt_err(EINVAL);
	if (klpt_session_mode(s) == KLPT_MODE_REPLAY)
		return klpt_err(EOPNOTSUPP);
	root = klpt_session_root(s);
	if (!root)
		root = "";
	err = check_file(path, &fd, mod, sizeof(mod), why, why_size);
	if (err)
		goto out;
	if (name && name_size)
		snprintf(name, name_size, "%s", mod);
	snprintf(sysdir, sizeof(sysdir), "%s/sys/module/%s", root, mod);
	if (!stat(sysdir, &st)) {
		why_set(why, why_size, "module %s is loaded already", mod);
		err = -EEXIST;
		goto out;
	}
	kfd = kmsg_open(root);
	err = (klpt_load_module_fn ? klpt_load_module_fn :
	       load_default)(root, fd, params ? params : "");
	if (err) {
		why_set(why, why_size, "the kernel refused %s: %s", mod,
			strerror(-err));
		if (kfd >= 0)
			kmsg_explain(kfd, mod, why, why_size);
	}
	if (kfd >= 0)
		close(kfd);
	if (err == -EACCES)
		err = -EPERM;
out:
	if (fd >= 0)
		close(fd);
	return err ? klpt_err(-err) : 0;
}

/* ------------------------------------------------------------ the wait */

void klpt_stall_init(struct klpt_stall *st, uint64_t now_ns)
{
	memset(st, 0, sizeof(*st));
	st->best = KLPT_UNKNOWN_COUNT;
	st->since_ns = now_ns;
	st->target = KLPT_UNDEFINED;
}

/*
 * One observation of a transition: its target and the tasks not in it
 * (KLPT_UNKNOWN_COUNT when the model cannot count them).  A new low of
 * that count, or a new target (a reverse) after a known one, is
 * progress.  Returns the ns
 * since the last progress.
 */
uint64_t klpt_stall_step(struct klpt_stall *st, uint64_t now_ns, int target,
			 unsigned int pending)
{
	if (target != st->target) {
		/* a reverse is progress; learning the direction is not */
		if (st->target != KLPT_UNDEFINED) {
			st->best = KLPT_UNKNOWN_COUNT;
			st->since_ns = now_ns;
		}
		st->target = target;
	}
	if (pending != KLPT_UNKNOWN_COUNT &&
	    (st->best == KLPT_UNKNOWN_COUNT || pending < st->best)) {
		st->best = pending;
		st->since_ns = now_ns;
	}
	return now_ns > st->since_ns ? now_ns - st->since_ns : 0;
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Tasks of p's started transition not yet in its target. */
static unsigned int not_switched(const struct klpt_session *s,
				 const struct klpt_patch *p)
{
	int i, n = klpt_task_count(s), target = klpt_patch_target(p);
	unsigned int count = 0;

	if (klpt_patch_phase(p) != KLPT_PHASE_STARTED ||
	    (target != KLPT_PATCHED && target != KLPT_UNPATCHED))
		return KLPT_UNKNOWN_COUNT;
	for (i = 0; i < n; i++) {
		int state = klpt_task_state(klpt_task_at(s, i));

		if (state == !target)
			count++;
	}
	return count;
}

static bool patch_dir(const struct klpt_session *s, const char *patch)
{
	char path[PATH_MAX];
	const char *root = klpt_session_root(s);
	struct stat st;

	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch/%s",
		 root ? root : "", patch);
	return !stat(path, &st);
}

KLPT_API int klpt_wait_transition(struct klpt_session *s, const char *patch,
				  const struct klpt_wait_opts *opts)
{
	struct klpt_wait_opts o = { .sz = sizeof(o) };
	uint64_t start = mono_ns(), next_report = start;
	struct klpt_stall st;
	bool seen = false;

	if (!s || !patch || !name_ok(patch))
		return klpt_err(EINVAL);
	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (o.timeout_ms < 0 || o.stall_ms < 0 || o.interval_ms < 0)
		return klpt_err(EINVAL);
	if (!o.interval_ms)
		o.interval_ms = 1000;
	klpt_stall_init(&st, start);
	for (;;) {
		const struct klpt_patch *p = klpt_patch_find(s, patch);
		uint64_t now = mono_ns(), stalled = 0, due;
		int n;

		if (p && !klpt_patch_in_transition(p))
			return 0;
		if (!p && !patch_dir(s, patch))
			/* freed: its transition (a disable's) is over */
			return seen ? 0 : klpt_err(ENOENT);
		if (p) {
			seen = true;
			stalled = klpt_stall_step(&st, now,
						  klpt_patch_target(p),
						  not_switched(s, p));
		}
		if (p && o.progress && now >= next_report) {
			int r = o.progress(s, p, st.best,
					   stalled / 1000000, o.ctx);

			if (r)
				return r < 0 ? klpt_err(-r) : r;
			next_report = now + (uint64_t)o.interval_ms * 1000000;
		}
		if (o.stall_ms && stalled >= (uint64_t)o.stall_ms * 1000000)
			return klpt_err(EBUSY);
		if (o.timeout_ms &&
		    now - start >= (uint64_t)o.timeout_ms * 1000000)
			return klpt_err(ETIMEDOUT);
		/* sleep until the next report, stall or timeout is due */
		due = next_report;
		if (o.stall_ms && st.since_ns +
		    (uint64_t)o.stall_ms * 1000000 < due)
			due = st.since_ns + (uint64_t)o.stall_ms * 1000000;
		if (o.timeout_ms &&
		    start + (uint64_t)o.timeout_ms * 1000000 < due)
			due = start + (uint64_t)o.timeout_ms * 1000000;
		if (due > now + (uint64_t)o.interval_ms * 1000000 || !o.progress)
			due = now + (uint64_t)o.interval_ms * 1000000;
		n = klpt_session_poll(s, due > now ?
				      (int)((due - now) / 1000000) + 1 : 0);
		if (n < 0)
			return klpt_err(-n);
		if (n == 0 && klpt_session_mode(s) == KLPT_MODE_REPLAY)
			return klpt_err(ETIMEDOUT);	/* the recording ended */
	}
}
