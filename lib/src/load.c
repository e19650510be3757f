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
 * keeping the kernel's lines of this load (kmsg_explain()).
 *
 * The wait: a transition is stalled when no task that was there when it
 * began switched or exited for a while (the model's progress count,
 * klpt_patch_moved()), not merely when a clock ran out; the kernel's own
 * signals to pending tasks (every 15 passes) are its business and show
 * in the model (klpt_patch_signals()).
 */
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define MODINFO_MAX	(1u << 20)	/* a .modinfo is a few hundred bytes */
#define NOTE_MAX	256	/* a build ID note: 16 bytes and the ID */
#define NAME_LEN	KLPT_MODULE_NAME_LEN
/* 6.1 x86_64 struct module: state (4, padded to 8), list (16), name[] */
#define THIS_MODULE_NAME_OFF	24

static int load_default(const char *root, int fd, const char *params)
{
	if (!klpt_real_root(root))
		return -EOPNOTSUPP;	/* a fake system: never the real one */
	if (syscall(SYS_finit_module, fd, params, 0) == 0)
		return 0;
	return -errno;
}

int (*klpt_load_module_fn)(const char *root, int fd, const char *params) =
	load_default;

/*
 * Append "; text" (or text) to why, cut to size.  The text is the
 * file's or the kernel log's: control characters become '?', so that a
 * caller may print it as it is.
 */
static void why_add(char *why, size_t size, const char *text)
{
	size_t len, i;

	if (!why || !size)
		return;
	len = strnlen(why, size);
	if (len + 1 >= size)
		return;
	snprintf(why + len, size - len, "%s%s", len ? "; " : "", text);
	for (i = len; why[i]; i++)
		if ((unsigned char)why[i] < 0x20 || why[i] == 0x7f)
			why[i] = '?';
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	return n == (ssize_t)len ? 0 : -ENOEXEC;
}

/* The bytes [off, off + len) are in a file of fsize bytes. */
static bool in_file(uint64_t off, uint64_t len, uint64_t fsize)
{
	return off <= fsize && len <= fsize - off;
}

/*
 * A module's sections as the kernel finds them (6.1 find_sec(): the first
 * one of that name with SHF_ALLOC; kernel/module/main.c): the contents of
 * .modinfo ("key=value\0" strings, malloc'd, NUL-terminated) and the
 * name in .gnu.linkonce.this_module's struct module, the name the
 * kernel registers the module and its patch under ("" if there is no
 * such section, which the kernel refuses itself: "No module found").
 */
struct modfile {
	char *info;
	size_t len;
	char name[NAME_LEN];
	/* its .note.gnu.build-id section, note_len 0 if none (or odd) */
	unsigned char note[NOTE_MAX];
	size_t note_len;
};

/* The name of section sh from the section name table strsh, or "". */
static void sec_name(int fd, uint64_t fsize, const Elf64_Shdr *strsh,
		     const Elf64_Shdr *sh, char *name, size_t size)
{
	memset(name, 0, size);
	if (sh->sh_name >= strsh->sh_size ||
	    !in_file(strsh->sh_offset, sh->sh_name, fsize) ||
	    pread(fd, name, size - 1,
		  (off_t)(strsh->sh_offset + sh->sh_name)) <= 0)
		name[0] = '\0';
}

/*
 * Read fd's module sections into mf.  -ENOEXEC if the file is not such
 * an ELF (a compressed module, another architecture's or byte order),
 * -EFBIG for a .modinfo too large to be real, -ENOMEM.
 */
static int read_modfile(int fd, uint64_t fsize, struct modfile *mf)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strsh;
	char name[32];
	bool this_seen = false;
	unsigned int i;

	memset(mf, 0, sizeof(*mf));
	if (pread_all(fd, &eh, sizeof(eh), 0) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_type != ET_REL ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shstrndx >= eh.e_shnum ||
	    !in_file(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(sh), fsize))
		return -ENOEXEC;
	if (pread_all(fd, &strsh, sizeof(strsh),
		      eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof(sh)) ||
	    strsh.sh_type != SHT_STRTAB ||
	    !in_file(strsh.sh_offset, strsh.sh_size, fsize))
		return -ENOEXEC;
	for (i = 0; i < eh.e_shnum; i++) {
		if (pread_all(fd, &sh, sizeof(sh),
			      eh.e_shoff + (uint64_t)i * sizeof(sh)))
			goto noexec;
		if (!(sh.sh_flags & SHF_ALLOC))
			continue;	/* the kernel does not look at it */
		sec_name(fd, fsize, &strsh, &sh, name, sizeof(name));
		if (!strcmp(name, ".gnu.linkonce.this_module") && !this_seen) {
			this_seen = true;
			if (eh.e_machine != EM_X86_64)
				continue;	/* its layout is x86_64's */
			if (sh.sh_type == SHT_NOBITS ||
			    sh.sh_size < THIS_MODULE_NAME_OFF + NAME_LEN ||
			    !in_file(sh.sh_offset, sh.sh_size, fsize) ||
			    pread_all(fd, mf->name, NAME_LEN - 1,
				      sh.sh_offset + THIS_MODULE_NAME_OFF))
				goto noexec;
			continue;
		}
		if (!strcmp(name, ".note.gnu.build-id") && !mf->note_len) {
			/* what sysfs shows of it (add_notes_attrs()) */
			if (sh.sh_type == SHT_NOTE && sh.sh_size &&
			    sh.sh_size <= sizeof(mf->note) &&
			    in_file(sh.sh_offset, sh.sh_size, fsize) &&
			    !pread_all(fd, mf->note, sh.sh_size, sh.sh_offset))
				mf->note_len = sh.sh_size;
			continue;
		}
		if (strcmp(name, ".modinfo") || mf->info)
			continue;
		if (sh.sh_type == SHT_NOBITS ||
		    !in_file(sh.sh_offset, sh.sh_size, fsize))
			goto noexec;
		if (sh.sh_size > MODINFO_MAX) {
			memset(mf, 0, sizeof(*mf));
			return -EFBIG;
		}
		mf->info = malloc(sh.sh_size + 1);
		if (!mf->info)
			return -ENOMEM;
		if (pread_all(fd, mf->info, sh.sh_size, sh.sh_offset))
			goto noexec;
		mf->info[sh.sh_size] = '\0';
		mf->len = sh.sh_size;
	}
	if (mf->info)
		return 0;
noexec:
	free(mf->info);
	memset(mf, 0, sizeof(*mf));
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

/* A name the module's build gave it: printable, one path component. */
static bool modname_ok(const char *name)
{
	const char *c;

	for (c = name; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return false;
	return klpt_name_ok(name);
}

/*
 * Open path for reading only once it is known to be a regular file:
 * O_PATH opens nothing (no device's open() runs, a FIFO does not block)
 * and with O_NOFOLLOW names a symbolic link itself; the reopen through
 * /proc/self/fd is of that same inode.  The stat in *st.
 */
static int open_regular(const char *path, struct stat *st, char *why,
			size_t wsize)
{
	char self[64];
	struct stat st2;
	int pfd, fd, err;

	pfd = open(path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (pfd < 0) {
		err = errno;
		klpt_why_set(why, wsize, "%s: %s", path, strerror(err));
		return -err;
	}
	if (fstat(pfd, st)) {
		err = errno;
		klpt_why_set(why, wsize, "%s: %s", path, strerror(err));
		close(pfd);
		return -err;
	}
	if (S_ISLNK(st->st_mode)) {
		klpt_why_set(why, wsize, "%s: a symbolic link (give the file "
			     "it points to)", path);
		close(pfd);
		return -ELOOP;
	}
	if (!S_ISREG(st->st_mode)) {
		klpt_why_set(why, wsize, "%s: not a regular file", path);
		close(pfd);
		return -EINVAL;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	err = errno;
	close(pfd);
	if (fd < 0) {
		klpt_why_set(why, wsize, "%s: %s", path, strerror(err));
		return -err;
	}
	if (fstat(fd, &st2) || st2.st_dev != st->st_dev ||
	    st2.st_ino != st->st_ino) {
		klpt_why_set(why, wsize, "%s: changed while opened", path);
		close(fd);
		return -EAGAIN;
	}
	*st = st2;
	return fd;
}

/*
 * The checks before the kernel sees the file: fd open on it, the name
 * the kernel will register it under and whether it is a livepatch
 * module, from the sections the kernel reads.
 */
static int check_file(const char *path, int *fdp, char *name, size_t nsize,
		      char *why, size_t wsize)
{
	struct modfile mf;
	const char *v;
	struct stat st;
	int fd, err;

	fd = open_regular(path, &st, why, wsize);
	if (fd < 0)
		return fd;
	*fdp = fd;
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		klpt_why_set(why, wsize, "%s: owned by uid %u or writable by "
			     "group or others (mode %04o): a module root loads "
			     "must be root's or yours and writable by nobody "
			     "else", path, (unsigned int)st.st_uid,
			     (unsigned int)(st.st_mode & 07777));
		return -EPERM;
	}
	err = read_modfile(fd, (uint64_t)st.st_size, &mf);
	if (err) {
		klpt_why_set(why, wsize, "%s: %s", path,
			     err == -ENOMEM ? strerror(ENOMEM) :
			     err == -EFBIG ? "its .modinfo is too large (over "
			     "1 MiB) for a kernel module's" :
			     "not a kernel module (an ELF64 object with a "
			     ".modinfo section; a compressed module must be "
			     "decompressed first)");
		return err == -EFBIG ? -ENOEXEC : err;
	}
	v = modinfo_get(mf.info, mf.len, "name");
	if (!v || !modname_ok(v)) {
		klpt_why_set(why, wsize, "%s: no module name in its .modinfo",
			     path);
		free(mf.info);
		return -ENOEXEC;
	}
	if (mf.name[0] && strcmp(mf.name, v)) {
		/* the kernel registers this_module's; name= is for modinfo */
		klpt_why_set(why, wsize, "%s: .modinfo names the module %.55s "
			     "but its struct module %s: not loaded", path, v,
			     modname_ok(mf.name) ? mf.name : "(unprintable)");
		free(mf.info);
		return -ENOEXEC;
	}
	snprintf(name, nsize, "%s", v);
	v = modinfo_get(mf.info, mf.len, "livepatch");
	if (!v || strcmp(v, "Y")) {
		klpt_why_set(why, wsize, "%s: module %s is not a livepatch "
			     "module (no livepatch=Y in its .modinfo): not "
			     "loaded", path, name);
		free(mf.info);
		return -EINVAL;
	}
	free(mf.info);
	return 0;
}

/* path's module sections, opened as a load opens it: 0 or -errno. */
static int path_modfile(const char *path, struct modfile *mf)
{
	struct stat st;
	int fd, err;

	fd = open_regular(path, &st, NULL, 0);
	if (fd < 0)
		return fd;
	err = read_modfile(fd, (uint64_t)st.st_size, mf);
	close(fd);
	return err == -EFBIG ? -ENOEXEC : err;
}

KLPT_API int klpt_module_file_info(const char *path, const char *key,
				   char *val, size_t size)
{
	struct modfile mf;
	const char *v;
	int err;

	if (!path || !*path || !key || !*key || strchr(key, '=') || !val ||
	    !size)
		return klpt_err(EINVAL);
	val[0] = '\0';
	err = path_modfile(path, &mf);
	if (err)
		return klpt_err(-err);
	v = modinfo_get(mf.info, mf.len, key);
	if (v)
		snprintf(val, size, "%s", v);
	free(mf.info);
	return v ? 0 : klpt_err(ENOENT);
}

/*
 * The GNU build ID in note, the bytes of an ELF note section (a .ko's
 * .note.gnu.build-id, or /sys/module/M/notes/.note.gnu.build-id, which
 * 6.1 add_notes_attrs() fills with the section as loaded): the desc of
 * its NT_GNU_BUILD_ID note of owner "GNU", in hex.
 */
KLPT_API int klpt_build_id_note(const void *note, size_t len, char *hex,
				size_t size)
{
	const unsigned char *p = note;
	size_t off = 0;

	if (!note || !hex || !size)
		return klpt_err(EINVAL);
	hex[0] = '\0';
	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		size_t name, desc, i;

		memcpy(&nh, p + off, sizeof(nh));
		off += sizeof(nh);
		name = ((size_t)nh.n_namesz + 3) & ~(size_t)3;
		desc = ((size_t)nh.n_descsz + 3) & ~(size_t)3;
		if (name > len - off || desc > len - off - name)
			break;		/* cut short: no note there */
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp(p + off, "GNU", 4) && nh.n_descsz) {
			if ((size_t)nh.n_descsz * 2 >= size)
				return klpt_err(EINVAL);
			for (i = 0; i < nh.n_descsz; i++)
				snprintf(hex + 2 * i, 3, "%02x",
					 p[off + name + i]);
			return 0;
		}
		off += name + desc;
	}
	return klpt_err(ENOENT);
}

KLPT_API int klpt_module_file_build_id(const char *path, char *hex,
				       size_t size)
{
	struct modfile mf;
	int err;

	if (!path || !*path || !hex || !size)
		return klpt_err(EINVAL);
	hex[0] = '\0';
	err = path_modfile(path, &mf);
	if (err)
		return klpt_err(-err);
	free(mf.info);
	return klpt_build_id_note(mf.note, mf.note_len, hex, size);
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
 * A task's report, "comm[pid]: ..." (a segfault's, a trap's): the comm
 * is the task's to choose (at most 15 bytes), so a module's name in it
 * says nothing of the module.
 */
static bool task_report(const char *text)
{
	const char *b = memchr(text, '[', strnlen(text, 17));

	if (!b || b[1] < '0' || b[1] > '9')
		return false;
	for (b++; *b >= '0' && *b <= '9'; b++)
		;
	return b[0] == ']' && b[1] == ':';
}

/*
 * A subsystem's or driver's prefix, "word: " (pr_fmt's convention): the
 * module loader's own lines have none (6.1 kernel/module/main.c has no
 * pr_fmt and prints "Invalid ELF header ..." and the like).
 */
static bool has_prefix(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(text, prefix, n) && text[n] == ':';
}

static bool subsystem_line(const char *text)
{
	size_t n = strcspn(text, " :");

	return n && text[n] == ':';
}

/*
 * The records of /dev/kmsg that explain a failed load of module name:
 * "PRIO,SEQ,TS,FLAGS;TEXT" with continuation lines starting with a
 * space (the record's dictionary).  Only the kernel's records (facility
 * 0: user space writes /dev/kmsg with LOG_USER by default, 6.1
 * devkmsg_write()), and of those: the module's own ("name: ...", pr_fmt's
 * convention, at any level; not a task's report whose comm starts so),
 * and at warning level or worse the livepatch core's, lockdown's and the
 * module loader's (no subsystem prefix).  Another driver's warning that
 * came in the same window is not this load's.  One record per read()
 * from the device; a regular file (tests) may hold several.
 */
static void kmsg_explain(int fd, const char *name, char *why, size_t size)
{
	char buf[8192];
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
			if (prio < 0 || prio >> 3 != 0 || task_report(text))
				continue;
			if (has_prefix(text, name) ||
			    ((prio & 7) <= 4 &&
			     (has_prefix(text, "livepatch") ||
			      has_prefix(text, "Lockdown") ||
			      !subsystem_line(text))))
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
		klpt_why_set(why, why_size, "module %s is loaded already",
			     mod);
		err = -EEXIST;
		goto out;
	}
	kfd = kmsg_open(root);
	err = (klpt_load_module_fn ? klpt_load_module_fn :
	       load_default)(root, fd, params ? params : "");
	if (err) {
		klpt_why_set(why, why_size, "the kernel refused %s: %s", mod,
			     strerror(-err));
		if (kfd >= 0)
			kmsg_explain(kfd, mod, why, why_size);
	}
	if (kfd >= 0)
		close(kfd);
	/* why says the kernel's words: "Permission denied" */
	err = -klpt_perm(-err);
out:
	if (fd >= 0)
		close(fd);
	return err ? klpt_err(-err) : 0;
}

/* ------------------------------------------------------------ the wait */

void klpt_stall_init(struct klpt_stall *st, uint64_t now_ns)
{
	memset(st, 0, sizeof(*st));
	st->since_ns = now_ns;
	st->target = KLPT_UNDEFINED;
}

/*
 * One observation of a transition: its target and its progress count
 * (klpt_patch_moved()).  Progress: the count grew since the last
 * observation, or the target changed from a known one (a reverse).
 * The first observation only learns where things are.  Returns the ns
 * since the last progress.
 */
uint64_t klpt_stall_step(struct klpt_stall *st, uint64_t now_ns, int target,
			 uint64_t moved)
{
	if (st->known &&
	    (moved != st->moved ||
	     (target != st->target && st->target != KLPT_UNDEFINED &&
	      target != KLPT_UNDEFINED)))
		st->since_ns = now_ns;
	st->known = true;
	st->moved = moved;
	if (target != KLPT_UNDEFINED)
		st->target = target;
	return now_ns > st->since_ns ? now_ns - st->since_ns : 0;
}

/* Tasks of p's started transition not yet in its target, now. */
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

/* The st_ino of the live system's patch directory; 0 if there is none. */
static uint64_t patch_dir(const struct klpt_session *s, const char *patch)
{
	char path[PATH_MAX];
	const char *root = klpt_session_root(s);
	struct stat st;

	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch/%s",
		 root ? root : "", patch);
	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

/*
 * The patch to wait on, or NULL while the session does not know it.  A
 * live session sees the system: a patch the model holds is another one
 * of the same name (left from a load before, its module freed and the
 * name loaded again) when it was freed but a directory of that name
 * exists, or when that directory is not its own (the inode numbers
 * differ, where the model read its own).  The model learns the new one
 * from the events still to come.  A replay follows the recording only:
 * a patch freed before this wait saw it may be loaded again later in it.
 */
static const struct klpt_patch *current(const struct klpt_session *s,
					const char *patch, bool replay,
					bool seen, uint64_t ino)
{
	const struct klpt_patch *p = klpt_patch_find(s, patch);

	if (!p)
		return NULL;
	if (replay)
		return klpt_patch_freed(p) && !seen ? NULL : p;
	if (klpt_patch_freed(p))
		return ino ? NULL : p;
	if (ino && klpt_patch_order(p) && klpt_patch_order(p) != ino)
		return NULL;
	return p;
}

/* An event that may change whether patch (ctx) is in transition. */
static bool about(const struct klpt_event *ev, void *ctx)
{
	const char *name = ctx, *who;

	switch (ev->type) {
	case KLPT_EV_TRANSITION_INIT:
	case KLPT_EV_TRANSITION_START:
	case KLPT_EV_TRANSITION_REVERSE:
	case KLPT_EV_TRANSITION_CANCEL:
	case KLPT_EV_TRANSITION_COMPLETE:
		who = ev->transition.patch;
		break;
	case KLPT_EV_PATCH_FREE:
	case KLPT_EV_PATCH_RELEASE:
		who = ev->patch.patch;
		break;
	case KLPT_EV_MODULE_LOAD:
	case KLPT_EV_MODULE_FREE:
		who = ev->module.module;
		break;
	case KLPT_EV_RESYNC:
		return true;
	default:
		return false;
	}
	return who && !strcmp(who, name);
}

/*
 * The caller's options with the defaults filled in (the rule of
 * klpt_session_opts: a larger struct of a newer header is fine as long
 * as what this library does not know is zero).
 */
static int wait_opts_get(const struct klpt_wait_opts *in,
			 struct klpt_wait_opts *o)
{
	int err = klpt_opts_copy(o, sizeof(*o), in, in ? in->sz : 0);

	if (err)
		return err;
	if (o->timeout_ms < 0 || o->stall_ms < 0 || o->interval_ms < 0)
		return -EINVAL;
	if (!o->interval_ms)
		o->interval_ms = 1000;
	return 0;
}

static uint64_t ms_ns(int ms)
{
	return (uint64_t)ms * 1000000;
}

/*
 * Live, the clocks are the monotonic clock from the call, and a patch
 * the session does not know yet while its directory exists counts as
 * not progressing.  In a replay they are the recording's, from the
 * first event that shows the patch (the replay runs at its own pace).
 */
static int wait_loop(struct klpt_session *s, const char *patch,
		     const struct klpt_wait_opts *opts);

KLPT_API int klpt_wait_transition(struct klpt_session *s, const char *patch,
				  const struct klpt_wait_opts *opts)
{
	char name[NAME_LEN];
	int ret;

	if (!s || !patch || !klpt_name_ok(patch))
		return klpt_err(EINVAL);
	snprintf(name, sizeof(name), "%s", patch);
	/* look after each event about it: a batch may end one and start
	 * another */
	klpt_session_set_stop(s, about, name);
	ret = wait_loop(s, name, opts);
	klpt_session_set_stop(s, NULL, NULL);
	return ret;
}

static int wait_loop(struct klpt_session *s, const char *patch,
		     const struct klpt_wait_opts *opts)
{
	struct klpt_wait_opts o;
	uint64_t start, next_report;
	struct klpt_stall st;
	bool seen = false, replay;
	int n;

	n = wait_opts_get(opts, &o);
	if (n)
		return klpt_err(-n);
	replay = klpt_session_mode(s) == KLPT_MODE_REPLAY;
	/*
	 * What happened before the call first (a module freed, the new
	 * one's load and init): the model may be as old as the caller's
	 * last poll.  A replay's first batch is the recording's start.
	 */
	n = klpt_session_process(s);
	if (n < 0)
		return klpt_err(-n);
	start = klpt_session_now_ns(s);
	next_report = start;
	klpt_stall_init(&st, start);
	for (;;) {
		uint64_t ino = replay ? 0 : patch_dir(s, patch);
		const struct klpt_patch *p = current(s, patch, replay, seen,
						     ino);
		uint64_t now = klpt_session_now_ns(s), stalled, due;

		if (p && !klpt_patch_in_transition(p))
			return 0;
		if (!p && !ino) {
			/* a disable's end; in a replay: not yet */
			if (seen)
				return 0;
			if (!replay)
				return klpt_err(ENOENT);
		}
		if (replay && !seen && !p) {
			start = now;
			next_report = now;
			klpt_stall_init(&st, now);
		}
		if (p) {
			seen = true;
			stalled = klpt_stall_step(&st, now,
						  klpt_patch_target(p),
						  klpt_patch_moved(p));
		} else {
			stalled = now - st.since_ns;	/* nothing seen move */
		}
		if (p && o.progress && now >= next_report) {
			int r = o.progress(s, p, not_switched(s, p),
					   stalled / 1000000, o.ctx);

			if (r)
				return r < 0 ? klpt_err(-r) : r;
			next_report = now + ms_ns(o.interval_ms);
		}
		if (o.stall_ms && stalled >= ms_ns(o.stall_ms))
			return klpt_err(EBUSY);
		if (o.timeout_ms && now - start >= ms_ns(o.timeout_ms))
			return klpt_err(ETIMEDOUT);
		/* sleep until the next report, stall or timeout is due */
		due = now + ms_ns(o.interval_ms);
		if (p && o.progress && next_report < due)
			due = next_report;
		if (o.stall_ms && st.since_ns + ms_ns(o.stall_ms) < due)
			due = st.since_ns + ms_ns(o.stall_ms);
		if (o.timeout_ms && start + ms_ns(o.timeout_ms) < due)
			due = start + ms_ns(o.timeout_ms);
		n = klpt_session_poll(s, due > now ?
				      (int)((due - now + 999999) / 1000000) : 0);
		if (n < 0)
			return klpt_err(-n);
		if (n == 0 && replay) {
			/* the recording ended */
			p = current(s, patch, replay, seen, 0);
			if (p && !klpt_patch_in_transition(p))
				return 0;
			if (!p)
				return seen ? 0 : klpt_err(ENOENT);
			return klpt_err(ETIMEDOUT);
		}
	}
}
