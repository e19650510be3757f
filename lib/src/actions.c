// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Actions: disable a patch, force its transition, unload its module,
 * wait until it can be unloaded.
 *
 * Only files under <root>/sys/kernel/livepatch are written, and only
 * files that exist (no O_CREAT: a typo never creates anything).  The
 * kernel decides; its errno is passed on, with EACCES folded into EPERM
 * ("not root").  The unload goes through klpt_unload_module_fn so that a
 * session with a fake root can never remove a real module.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

static int unload_default(const char *root, const char *module)
{
	if (!klpt_real_root(root))
		return -EOPNOTSUPP;	/* a fake system: never the real one */
	if (syscall(SYS_delete_module, module, O_NONBLOCK) == 0)
		return 0;
	return -errno;
}

int (*klpt_unload_module_fn)(const char *root, const char *module) =
	unload_default;

/* Common checks; the session's root in *root. */
static int begin(struct klpt_session *s, const char *name, const char **root)
{
	if (!s || !name)
		return -EINVAL;
	if (klpt_session_mode(s) == KLPT_MODE_REPLAY)
		return -EOPNOTSUPP;	/* nothing to act on */
	*root = klpt_session_root(s);
	if (!*root)
		*root = "";
	return klpt_name_ok(name) ? 0 : -ENOENT;
}

static int attr_path(char *buf, size_t size, const char *root,
		     const char *patch, const char *file)
{
	int n = snprintf(buf, size, "%s/sys/kernel/livepatch/%s/%s", root,
			 patch, file);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* -EOPNOTSUPP without livepatch, -ENOENT for an unknown patch. */
static int patch_exists(const char *root, const char *patch)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch", root);
	if (stat(path, &st))
		return errno == ENOENT ? -EOPNOTSUPP : -klpt_perm(errno);
	if (attr_path(path, sizeof(path), root, patch, ""))
		return -ENOENT;
	if (stat(path, &st))
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT :
		       -klpt_perm(errno);
	return S_ISDIR(st.st_mode) ? 0 : -ENOENT;
}

/* A 0/1 attribute of patch, such as enabled or transition. */
static int read_attr(const char *root, const char *patch, const char *file,
		     int *val)
{
	char path[PATH_MAX], buf[16];
	ssize_t n;
	int fd, err = patch_exists(root, patch);

	if (err)
		return err;
	err = attr_path(path, sizeof(path), root, patch, file);
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -klpt_perm(errno);	/* ENOENT: freed meanwhile */
	n = read(fd, buf, sizeof(buf) - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -klpt_perm(err);
	buf[n] = '\0';
	if (buf[0] != '0' && buf[0] != '1')
		return -EIO;
	*val = buf[0] - '0';
	return 0;
}

static int write_attr(const char *root, const char *patch, const char *file,
		      const char *val)
{
	char path[PATH_MAX];
	size_t len = strlen(val);
	ssize_t n;
	int fd, err;

	err = attr_path(path, sizeof(path), root, patch, file);
	if (err)
		return err;
	/* no O_CREAT: only attributes the kernel made are written */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -klpt_perm(errno);
	n = write(fd, val, len);
	err = errno;
	if (close(fd) && n >= 0)
		return -klpt_perm(errno);
	if (n < 0)
		return -klpt_perm(err);	/* the store's errno: EINVAL, EBUSY */
	return (size_t)n == len ? 0 : -EIO;
}

/*
 * No check of enabled first: the kernel makes it under klp_mutex, and
 * what enabled reads before can be wrong.  In 6.1 klp_enable_patch()
 * holds klp_mutex from klp_init_patch() (the directory appears, enabled
 * and transition read 0) through __klp_enable_patch(), which sets
 * patch->enabled only after the pre-patch callbacks and
 * klp_start_transition() (enabled 0, transition 1 meanwhile).  A write
 * of 0 in that window waits in enabled_store() for klp_mutex, then
 * finds the patch enabled and in transition and reverses it
 * (klp_reverse_transition()).  enabled_store() returns EINVAL when the
 * patch is disabled already (also while its unpatch transition runs,
 * or after a failed enable): passed on.
 */
KLPT_API int klpt_patch_disable(struct klpt_session *s, const char *patch)
{
	const char *root;
	int err = begin(s, patch, &root);

	if (!err)
		err = patch_exists(root, patch);
	if (!err)
		err = write_attr(root, patch, "enabled", "0");
	return err ? klpt_err(-err) : 0;
}

KLPT_API int klpt_patch_force(struct klpt_session *s, const char *patch)
{
	const char *root;
	int tr, err = begin(s, patch, &root);

	if (!err)
		err = read_attr(root, patch, "transition", &tr);
	if (!err && !tr)
		err = -EINVAL;	/* nothing to force */
	if (!err)
		err = write_attr(root, patch, "force", "1");
	return err ? klpt_err(-err) : 0;
}

KLPT_API int klpt_module_unload(struct klpt_session *s, const char *module,
				char *why, size_t size)
{
	const struct klpt_module *m;
	const char *root;
	int err = begin(s, module, &root);

	if (why && size)
		why[0] = '\0';
	if (err) {
		if (err == -ENOENT)
			klpt_why_set(why, size, "no livepatch module %s", module);
		return klpt_err(-err);
	}
	m = klpt_module_find(s, module);
	if (!m) {
		klpt_why_set(why, size, "no livepatch module %s", module);
		return klpt_err(ENOENT);
	}
	if (klpt_module_verdict(s, m, why, size) != KLPT_READY)
		return klpt_err(EBUSY);
	err = (klpt_unload_module_fn ? klpt_unload_module_fn :
	       unload_default)(root, module);
	if (err == -EWOULDBLOCK || err == -EBUSY) {
		/* a reference the model did not see yet, or a user */
		klpt_why_set(why, size, "the kernel still counts references to %s",
			module);
		return klpt_err(EBUSY);
	}
	return err ? klpt_err(klpt_perm(-err)) : 0;
}

static uint64_t now_ms(void)
{
	return klpt_mono_ns() / 1000000;
}

/* 1 ready, 0 not yet, -ENOENT gone (or never a livepatch module). */
static int ready(struct klpt_session *s, const char *module)
{
	const struct klpt_module *m = klpt_module_find(s, module);

	if (!m)
		return -ENOENT;
	return klpt_module_verdict(s, m, NULL, 0) == KLPT_READY;
}

KLPT_API int klpt_wait_unload_ready(struct klpt_session *s,
				    const char *module, int timeout_ms)
{
	uint64_t deadline = 0;
	int r;

	if (!s || !module)
		return klpt_err(EINVAL);
	if (timeout_ms >= 0)
		deadline = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		int slice = -1, n;

		r = ready(s, module);
		if (r)
			return r < 0 ? klpt_err(-r) : 0;
		if (timeout_ms >= 0) {
			uint64_t now = now_ms();

			slice = now >= deadline ? 0 : (int)(deadline - now);
		}
		n = klpt_session_poll(s, slice);
		if (n < 0)
			return klpt_err(-n);
		if ((n == 0 && klpt_session_mode(s) == KLPT_MODE_REPLAY) ||
		    (timeout_ms >= 0 && now_ms() >= deadline)) {
			/* the recording ended, or the time is up */
			r = ready(s, module);
			if (r)
				return r < 0 ? klpt_err(-r) : 0;
			return klpt_err(ETIMEDOUT);
		}
	}
}
