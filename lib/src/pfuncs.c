// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * What sysfs shows of one patch beyond enabled/transition: the functions
 * it patches and its place on the kernel's klp_patches list (6.1
 * kernel/livepatch/core.c).
 *
 *   <root>/sys/kernel/livepatch/<patch>/<object>/patched
 *   <root>/sys/kernel/livepatch/<patch>/<object>/<function,sympos>/
 *
 * klp_init_object() names an object directory "vmlinux" or after its
 * module, klp_init_func() a function directory "<old_name>,<sympos>"
 * (sympos 0 shows as 1); `patched` is obj->patched: its functions are on
 * their func_stacks (set by klp_patch_object(), cleared by
 * klp_unpatch_objects(), also when an atomic replace unpatches the
 * patches it replaced).
 *
 * The order: a patch's functions go to the head of each func_stack in
 * the order of klp_patches (enable, or klp_module_coming() for a module
 * loaded later), so on every function the patch last on klp_patches
 * runs.  klp_init_patch() creates the patch directory under klp_mutex
 * right before list_add_tail() onto klp_patches, and kernfs numbers its
 * nodes in creation order (6.1 __kernfs_new_node(): idr_alloc_cyclic(),
 * the wraps counted in the upper 32 bits of the 64-bit inode number that
 * stat() shows).  So the directory's inode number orders the patches as
 * klp_patches does.  6.1 has no stack_order file (6.13+).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define PFUNCS_MAX	4096	/* functions kept per patch */

void klpt_pinfo_free(struct klpt_pinfo *pi)
{
	if (!pi)
		return;
	free(pi->funcs);
	memset(pi, 0, sizeof(*pi));
}

/* "name,sympos" with a sympos of 1 or more; false for anything else. */
static bool parse_func_dir(const char *d, struct klpt_pfunc *f)
{
	const char *comma = strrchr(d, ',');
	char *end;
	unsigned long pos;
	size_t len;

	if (!comma || comma == d || !comma[1])
		return false;
	len = (size_t)(comma - d);
	if (len >= sizeof(f->name))
		return false;
	errno = 0;
	pos = strtoul(comma + 1, &end, 10);
	if (errno || *end || !pos || comma[1] < '0' || comma[1] > '9')
		return false;
	memcpy(f->name, d, len);
	f->name[len] = '\0';
	f->sympos = pos;
	return true;
}

static int push_func(struct klpt_pinfo *pi, int *cap,
		     const struct klpt_pfunc *f)
{
	if (pi->nfuncs == *cap) {
		int n = *cap ? *cap * 2 : 8;
		struct klpt_pfunc *nf;

		if (n > PFUNCS_MAX)
			return -E2BIG;
		nf = realloc(pi->funcs, (size_t)n * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		pi->funcs = nf;
		*cap = n;
	}
	pi->funcs[pi->nfuncs++] = *f;
	return 0;
}

/* The function directories of object directory obj (fd odir). */
static int take_object(int odir, const char *obj, struct klpt_pinfo *pi,
		       int *cap)
{
	struct klpt_pfunc f;
	struct dirent *de;
	char buf[16];
	ssize_t n;
	int fd, err = 0;
	DIR *d;

	memset(&f, 0, sizeof(f));
	if (strlen(obj) >= sizeof(f.object))
		return 0;
	strcpy(f.object, obj);
	fd = openat(odir, "patched", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* not an object (or freed meanwhile) */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	f.patched = buf[0] == '1';
	fd = dup(odir);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while (!err && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.' || !parse_func_dir(de->d_name, &f))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISDIR(st.st_mode))
			continue;
		err = push_func(pi, cap, &f);
	}
	closedir(d);
	return err;
}

/* The patch's `enabled` (patch->enabled): 0, 1, or -1 unreadable. */
static int read_enabled(int pdir)
{
	char buf[8];
	ssize_t n;
	int fd = openat(pdir, "enabled", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 2 || buf[1] != '\n' || (buf[0] != '0' && buf[0] != '1'))
		return -1;
	return buf[0] - '0';
}

int klpt_pinfo_take(const char *root, const char *patch,
		    struct klpt_pinfo *out)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int fd, cap = 0, err = 0;
	DIR *d;

	memset(out, 0, sizeof(*out));
	if (!patch || !*patch || strchr(patch, '/') || !strcmp(patch, ".") ||
	    !strcmp(patch, ".."))
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/sys/kernel/livepatch/%s",
		     root ? root : "", patch) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	out->order = (uint64_t)st.st_ino;
	out->enabled = read_enabled(fd);
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	while (!err && (de = readdir(d))) {
		int odir;

		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) >= sizeof(out->funcs->object))
			continue;
		odir = openat(dirfd(d), de->d_name,
			      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (odir < 0)
			continue;	/* a file (enabled, ...) */
		err = take_object(odir, de->d_name, out, &cap);
		close(odir);
	}
	closedir(d);
	if (err)
		klpt_pinfo_free(out);
	return err;
}
