// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * Actions against a fake system: a live session opened on a fake
 * tracefs and a fake /sys + /proc (fake_tracefs.h).  What the actions
 * write is read back from the fake tree; the unload goes through a fake
 * delete_module (klpt_unload_module_fn), never the real one.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "fake_tracefs.h"
#include "internal.h"

#define LP "klpt_lp_sleep"
#define TARGET "klpt_target_sleep"
#define FUNC "klpt_sleep_fn"
#define SLEEPER 105

static struct fake_tracefs ft;

/* -------------------------------------------------------- the fakes */

/* the library's delete_module, put back after each test */
static int (*default_unload)(const char *root, const char *module);
static int unloads;		/* calls of fake_unload */
static int unload_ret;		/* what it returns */
static char unloaded[64];

/* delete_module on the fake tree: the module's directory goes. */
static int fake_unload(const char *root, const char *module)
{
	unloads++;
	snprintf(unloaded, sizeof(unloaded), "%s", module);
	if (strcmp(root, ft.root))
		return -EXDEV;	/* not our tree: a bug */
	if (unload_ret)
		return unload_ret;
	fake_module_remove(&ft, module);
	return 0;
}

static int open_fake(struct klpt_session **s)
{
	KLPT_OPTS_INIT(klpt_session_opts, o, .tracefs_dir = ft.tracefs,
		       .root = ft.root, .poll_ms = 3600 * 1000);

	return klpt_session_open_live(&o, s);
}

/* The attribute of LP, without the newline; "(missing)" if none. */
static const char *attr(const char *file)
{
	static char buf[64];
	int n = ft_read(buf, sizeof(buf), "%s/sys/kernel/livepatch/%s/%s",
			ft.root, LP, file);

	if (n < 0)
		return "(missing)";
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

static uint64_t future(void)
{
	return fake_now() + 3600000000000ull;
}

/* LP enabled, its module holding one reference, a sleeper around. */
static struct klpt_session *setup(void)
{
	struct klpt_session *s = NULL;

	CHECK_INT(fake_tracefs_init(&ft, 2, FAKE_KLP), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 0), 0);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
	CHECK_INT(fake_module(&ft, TARGET, 1, false), 0);
	CHECK_INT(fake_task(&ft, 1, 1, "init", -1, false), 0);
	CHECK_INT(fake_task(&ft, SLEEPER, SLEEPER, "klpt_sleeper", -1, true),
		  0);
	CHECK_INT(open_fake(&s), 0);
	return s;
}

static void teardown(struct klpt_session *s)
{
	klpt_session_close(s);
	fake_tracefs_cleanup(&ft);
	klpt_unload_module_fn = default_unload;
}

/*
 * What the kernel does after 0 is written to enabled, as events: the
 * unpatch transition held for one pass by the sleeper, completion,
 * free, release, the last put.  forced: force instead of the release.
 */
static void disable_events(uint64_t ts, bool forced)
{
	struct fake_page p0;

	fake_page_init(&p0);
	CHECK_INT(FAKE_EVENT(&ft, &p0, ts + 1, "klp", "klp_transition_init",
			     FV("patch", LP), FV("target", KLPT_UNPATCHED)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p0, ts + 2, "klp", "klp_transition_start",
			     FV("patch", LP), FV("target", KLPT_UNPATCHED)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p0, ts + 3, "klp", "klp_task_switch",
			     FV("pid", 1), FV("tgid", 1), FV("comm", "init"),
			     FV("from", KLPT_PATCHED), FV("to", KLPT_UNPATCHED),
			     FV("via", KLPT_VIA_USER_RETURN)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p0, ts + 4, "klp", "klp_task_blocked",
			     FV("pid", SLEEPER), FV("tgid", SLEEPER),
			     FV("comm", "klpt_sleeper"), FV("patch", LP),
			     FV("target", KLPT_UNPATCHED),
			     FV("reason", KLPT_REASON_SLEEPING_IN_FUNC),
			     FV("err", -98), FV("func", FUNC)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p0, ts + 5, "klp", "klp_transition_pass",
			     FV("patch", LP), FV("target", KLPT_UNPATCHED),
			     FV("pass", 0), FV("checked", 2),
			     FV("pending", 1)), 0);
	if (forced)
		CHECK_INT(FAKE_EVENT(&ft, &p0, ts + 6, "klp",
				     "klp_transition_force", FV("patch", LP),
				     FV("target", KLPT_UNPATCHED)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p0, ts + 7, "klp", "klp_task_switch",
			     FV("pid", SLEEPER), FV("tgid", SLEEPER),
			     FV("comm", "klpt_sleeper"),
			     FV("from", KLPT_PATCHED), FV("to", KLPT_UNPATCHED),
			     FV("via", forced ? KLPT_VIA_FORCE :
				KLPT_VIA_STACK_CHECK)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p0, ts + 8, "klp", "klp_transition_pass",
			     FV("patch", LP), FV("target", KLPT_UNPATCHED),
			     FV("pass", 1), FV("checked", 2),
			     FV("pending", 0)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p0, ts + 9, "klp",
			     "klp_transition_complete", FV("patch", LP),
			     FV("target", KLPT_UNPATCHED),
			     FV("forced", forced)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p0, ts + 10, "klp", "klp_patch_free",
			     FV("patch", LP), FV("forced", forced)), 0);
	CHECK_INT(FAKE_EVENT(&ft, &p0, ts + 11, "klp", "klp_patch_release",
			     FV("patch", LP), FV("forced", forced)), 0);
	if (!forced) {
		CHECK_INT(FAKE_EVENT(&ft, &p0, ts + 12, "klp",
				     "klp_module_ref", FV("module", LP),
				     FV("op", 2), FV("refcnt", 0),
				     FV("caller", "process_one_work")), 0);
		CHECK_INT(FAKE_EVENT(&ft, &p0, ts + 13, "klp",
				     "klp_module_unload_ready",
				     FV("module", LP)), 0);
	}
	CHECK_INT(fake_page_write(&ft, 0, &p0), 0);
}

/* Set the mtime of LP's attribute file to the epoch. */
static void age(const char *file)
{
	char path[PATH_MAX];
	struct timespec t[2] = { { 0, 0 }, { 0, 0 } };

	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch/%s/%s", ft.root,
		 LP, file);
	CHECK_INT(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* LP's attribute file was written since age(): its mtime moved. */
static bool written(const char *file)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch/%s/%s", ft.root,
		 LP, file);
	return !stat(path, &st) && st.st_mtim.tv_sec > 0;
}

/* ------------------------------------------------------------- tests */

static void test_disable(void)
{
	struct klpt_session *s = setup();

	if (!s)
		goto out;
	CHECK_INT(klpt_patch_disable(s, "nope"), -ENOENT);
	CHECK_INT(errno, ENOENT);
	CHECK_INT(klpt_patch_disable(s, "../../../etc"), -ENOENT);
	CHECK_INT(klpt_patch_disable(s, ""), -ENOENT);
	CHECK_INT(klpt_patch_disable(s, NULL), -EINVAL);
	CHECK_INT(klpt_patch_disable(NULL, LP), -EINVAL);
	/* nothing created by a wrong name */
	CHECK(!ft_exists("%s/sys/kernel/livepatch/nope", ft.root),
	      "nope created");

	CHECK_INT(klpt_patch_disable(s, LP), 0);
	CHECK_STR(attr("enabled"), "0");
	/*
	 * enabled reads 0 now: written all the same, the kernel decides
	 * (its EINVAL, which a plain file cannot give, is passed on).
	 */
	age("enabled");
	CHECK_INT(klpt_patch_disable(s, LP), 0);
	CHECK(written("enabled"), "enabled reads 0: not written");
out:
	teardown(s);
}

/*
 * An enable's pre-patch window (6.1 __klp_enable_patch() before
 * patch->enabled = true): enabled 0, transition 1.  A 0 written then
 * waits for klp_mutex and reverses the enable; not writing it leaves
 * the patch enabled.
 */
static void test_disable_window(void)
{
	struct klpt_session *s = setup();

	if (!s)
		goto out;
	CHECK_INT(fake_patch(&ft, LP, 0, 1), 0);
	age("enabled");
	CHECK_INT(klpt_patch_disable(s, LP), 0);
	CHECK(written("enabled"), "pre-patch window: enabled not written");
	CHECK_STR(attr("enabled"), "0");
	/* klp_init_patch() to __klp_enable_patch(): both read 0 */
	CHECK_INT(fake_patch(&ft, LP, 0, 0), 0);
	age("enabled");
	CHECK_INT(klpt_patch_disable(s, LP), 0);
	CHECK(written("enabled"), "init window: enabled not written");
out:
	teardown(s);
}

static void test_force(void)
{
	struct klpt_session *s = setup();

	if (!s)
		goto out;
	CHECK_INT(klpt_patch_force(s, LP), -EINVAL);	/* no transition */
	CHECK_STR(attr("force"), "");
	CHECK_INT(klpt_patch_force(s, "nope"), -ENOENT);
	CHECK_INT(fake_patch(&ft, LP, 0, 1), 0);	/* unpatching */
	CHECK_INT(klpt_patch_force(s, LP), 0);
	CHECK_STR(attr("force"), "1");
out:
	teardown(s);
}

/* No livepatch in this kernel (the directory vanished under us). */
static void test_no_livepatch(void)
{
	struct klpt_session *s = setup();
	char path[PATH_MAX];

	if (!s)
		goto out;
	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch", ft.root);
	ft_rmtree(path);
	CHECK_INT(klpt_patch_disable(s, LP), -EOPNOTSUPP);
	CHECK_INT(klpt_patch_force(s, LP), -EOPNOTSUPP);
out:
	teardown(s);
}

/*
 * Not root: the attributes are root's (0644).  As root, the check runs
 * in a child that dropped to nobody.
 */
static void test_not_root(void)
{
	struct klpt_session *s = setup();
	int status, ret;
	pid_t pid;

	if (!s)
		goto out;
	if (geteuid()) {
		/* the tree is ours: make the attribute unwritable */
		char path[PATH_MAX];

		snprintf(path, sizeof(path),
			 "%s/sys/kernel/livepatch/%s/enabled", ft.root, LP);
		chmod(path, 0444);
		ret = klpt_patch_disable(s, LP);
	} else {
		chmod(ft.dir, 0755);	/* mkdtemp: 0700 */
		pid = fork();
		if (pid == 0) {
			if (setgid(65534) || setuid(65534))
				_exit(100);
			ret = klpt_patch_disable(s, LP);
			_exit(ret == -EPERM && errno == EPERM ? 0 : 1);
		}
		CHECK(pid > 0, "fork");
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 100,
		      "could not drop privileges");
		ret = WIFEXITED(status) && !WEXITSTATUS(status) ? -EPERM : -1;
	}
	CHECK_INT(ret, -EPERM);
	CHECK_STR(attr("enabled"), "1");
out:
	teardown(s);
}

/* The whole disable: -EBUSY with the reason until ready, then unload. */
static void test_unload(void)
{
	struct klpt_session *s = setup();
	char why[256];

	klpt_unload_module_fn = fake_unload;
	unloads = 0;
	unload_ret = 0;
	if (!s)
		goto out;
	CHECK_INT(klpt_module_unload(s, LP, why, sizeof(why)), -EBUSY);
	CHECK_INT(errno, EBUSY);
	CHECK(strstr(why, "enabled"), "why: %s", why);
	CHECK_INT(klpt_module_unload(s, "nope", why, sizeof(why)), -ENOENT);
	CHECK(strstr(why, "nope"), "why: %s", why);
	/* not a livepatch module: never ours to unload */
	CHECK_INT(klpt_module_unload(s, TARGET, NULL, 0), -ENOENT);
	CHECK_INT(klpt_module_unload(s, NULL, why, sizeof(why)), -EINVAL);
	CHECK_INT(unloads, 0);

	CHECK_INT(klpt_patch_disable(s, LP), 0);
	disable_events(future(), false);
	/* the events are there to read: no time passes */
	CHECK_INT(klpt_wait_unload_ready(s, LP, 10000), 0);
	CHECK_INT(unloads, 0);
	CHECK_INT(klpt_module_unload(s, LP, why, sizeof(why)), 0);
	CHECK_INT(unloads, 1);
	CHECK_STR(unloaded, LP);
	CHECK(!ft_exists("%s/sys/module/%s", ft.root, LP), "not unloaded");
	CHECK(ft_exists("%s/sys/module/%s", ft.root, TARGET),
	      "the wrong module unloaded");
out:
	teardown(s);
}

/* Ready per the model, but the kernel still counts a reference. */
static void test_unload_kernel_busy(void)
{
	struct klpt_session *s = setup();
	char why[256];

	klpt_unload_module_fn = fake_unload;
	unload_ret = -EWOULDBLOCK;
	if (!s)
		goto out;
	disable_events(future(), false);
	CHECK_INT(klpt_wait_unload_ready(s, LP, 10000), 0);
	CHECK_INT(klpt_module_unload(s, LP, why, sizeof(why)), -EBUSY);
	CHECK(strstr(why, "kernel still counts"), "why: %s", why);
	unload_ret = -EPERM;
	CHECK_INT(klpt_module_unload(s, LP, why, sizeof(why)), -EPERM);
	unload_ret = 0;
out:
	teardown(s);
}

/* A forced patch: never ready; unload refuses without trying. */
static void test_forced(void)
{
	struct klpt_session *s = setup();
	char why[256];

	klpt_unload_module_fn = fake_unload;
	unloads = 0;
	if (!s)
		goto out;
	disable_events(future(), true);
	CHECK_INT(klpt_wait_unload_ready(s, LP, 0), -ETIMEDOUT);
	CHECK_INT(errno, ETIMEDOUT);
	CHECK_INT(klpt_module_unload(s, LP, why, sizeof(why)), -EBUSY);
	CHECK(strstr(why, "forced"), "why: %s", why);
	CHECK_INT(unloads, 0);
out:
	teardown(s);
}

static void test_wait(void)
{
	struct klpt_session *s = setup();

	if (!s)
		goto out;
	/* nothing happens: the timeout, without waiting for 0 ms */
	CHECK_INT(klpt_wait_unload_ready(s, LP, 0), -ETIMEDOUT);
	CHECK_INT(klpt_wait_unload_ready(s, "nope", 0), -ENOENT);
	CHECK_INT(klpt_wait_unload_ready(s, TARGET, 0), -ENOENT);
	CHECK_INT(klpt_wait_unload_ready(s, NULL, 0), -EINVAL);
	CHECK_INT(klpt_wait_unload_ready(NULL, LP, 0), -EINVAL);
out:
	teardown(s);
}

/* A fake root with the default unload: refused, never the syscall. */
static void test_default_unload_fake_root(void)
{
	struct klpt_session *s = setup();

	if (!s)
		goto out;
	disable_events(future(), false);
	CHECK_INT(klpt_wait_unload_ready(s, LP, 10000), 0);
	CHECK_INT(klpt_module_unload(s, LP, NULL, 0), -EOPNOTSUPP);
	CHECK(ft_exists("%s/sys/module/%s", ft.root, LP), "module gone");
out:
	teardown(s);
}

int main(void)
{
	default_unload = klpt_unload_module_fn;
	RUN(test_disable);
	RUN(test_disable_window);
	RUN(test_force);
	RUN(test_no_livepatch);
	RUN(test_not_root);
	RUN(test_unload);
	RUN(test_unload_kernel_busy);
	RUN(test_forced);
	RUN(test_wait);
	RUN(test_default_unload_fake_root);
	return check_summary();
}
