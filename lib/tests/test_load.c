// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * klpt_patch_load() and klpt_wait_transition() against a fake system
 * (fake_tracefs.h): the file checks before the kernel sees a module,
 * the kernel log's explanation of a refused one (a fake /dev/kmsg), and
 * the stall decision on a scripted sequence.  finit_module() is a fake
 * (klpt_load_module_fn) that edits the fake tree, never the real one.
 */
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"
#include "fake_tracefs.h"
#include "internal.h"

#define LP "klpt_lp_sleep"

static struct fake_tracefs ft;
static int (*default_load)(const char *root, int fd, const char *params);
static int loads;		/* calls of fake_load */
static int load_ret;		/* what it returns */
static char load_params[64];

/* finit_module() on the fake tree: LP's patch and module appear. */
static int fake_load(const char *root, int fd, const char *params)
{
	static const char kmsg[] =
		"6,100,1000,-;livepatch: enabling patch '" LP "'\n"
		"6,101,1001,-;" LP ": pre_patch: failing on purpose\n"
		" SUBSYSTEM=x\n"
		"4,102,1002,-;livepatch: pre-patch callback failed for object "
		"'vmlinux'\n"
		"6,103,1003,-;other: unrelated info\n";

	loads++;
	snprintf(load_params, sizeof(load_params), "%s", params);
	if (strcmp(root, ft.root) || fd < 0)
		return -EXDEV;
	if (load_ret) {
		char path[PATH_MAX];
		int k;

		snprintf(path, sizeof(path), "%s/dev/kmsg", ft.root);
		k = open(path, O_WRONLY | O_APPEND);
		if (k >= 0) {
			CHECK_INT(write(k, kmsg, sizeof(kmsg) - 1),
				  sizeof(kmsg) - 1);
			close(k);
		}
		return load_ret;
	}
	if (fake_module(&ft, LP, 1, true) || fake_patch(&ft, LP, 1, 1))
		return -EIO;
	return 0;
}

/*
 * A relocatable ELF64 with a .modinfo of info (len bytes, NULs inside)
 * at path, mode mode.
 */
static void write_module(const char *path, const char *info, size_t len,
			 mode_t mode)
{
	static const char shstr[] = "\0.shstrtab\0.modinfo";
	Elf64_Ehdr eh = { 0 };
	Elf64_Shdr sh[3] = { { 0 } };
	size_t off_str = sizeof(eh), off_info = off_str + sizeof(shstr);
	size_t off_sh = (off_info + len + 7) & ~(size_t)7;
	char *buf = calloc(1, off_sh + sizeof(sh));
	int fd;

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(eh);
	eh.e_shoff = off_sh;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	eh.e_shstrndx = 1;
	sh[1].sh_name = 1;
	sh[1].sh_type = SHT_STRTAB;
	sh[1].sh_offset = off_str;
	sh[1].sh_size = sizeof(shstr);
	sh[2].sh_name = 11;
	sh[2].sh_type = SHT_PROGBITS;
	sh[2].sh_offset = off_info;
	sh[2].sh_size = len;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + off_str, shstr, sizeof(shstr));
	memcpy(buf + off_info, info, len);
	memcpy(buf + off_sh, sh, sizeof(sh));
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0, "create %s", path);
	if (fd >= 0) {
		CHECK_INT(write(fd, buf, off_sh + sizeof(sh)),
			  off_sh + sizeof(sh));
		CHECK_INT(fchmod(fd, mode), 0);
		close(fd);
	}
	free(buf);
}

#define LP_INFO "livepatch=Y\0license=GPL\0name=" LP "\0vermagic=6.1\0"
#define PLAIN_INFO "license=GPL\0name=klpt_target_sleep\0"

static struct klpt_session *setup(void)
{
	KLPT_OPTS_INIT(klpt_session_opts, o, .poll_ms = 3600 * 1000);
	struct klpt_session *s = NULL;

	loads = 0;
	load_ret = 0;
	klpt_load_module_fn = fake_load;
	CHECK_INT(fake_tracefs_init(&ft, 2, FAKE_KLP), 0);
	CHECK_INT(fake_task(&ft, 1, 1, "init", 1, false), 0);
	CHECK_INT(ft_write("", 0, "%s/dev/kmsg", ft.root), 0);
	o.tracefs_dir = ft.tracefs;
	o.root = ft.root;
	CHECK_INT(klpt_session_open_live(&o, &s), 0);
	return s;
}

static void teardown(struct klpt_session *s)
{
	klpt_session_close(s);
	fake_tracefs_cleanup(&ft);
	klpt_load_module_fn = default_load;
}

static const char *file(const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", ft.dir, name);
	return path;
}

static void test_load_ok(void)
{
	struct klpt_session *s = setup();
	char name[64], why[256];

	if (!s)
		goto out;
	write_module(file("lp.ko"), LP_INFO, sizeof(LP_INFO), 0644);
	CHECK_INT(klpt_patch_load(s, file("lp.ko"), "calls=1", name,
				  sizeof(name), why, sizeof(why)), 0);
	CHECK_STR(name, LP);
	CHECK_STR(why, "");
	CHECK_INT(loads, 1);
	CHECK_STR(load_params, "calls=1");
	CHECK(ft_exists("%s/sys/kernel/livepatch/%s", ft.root, LP), "no patch");
	/* loaded now: the kernel is not asked again */
	CHECK_INT(klpt_patch_load(s, file("lp.ko"), NULL, name, sizeof(name),
				  why, sizeof(why)), -EEXIST);
	CHECK_INT(loads, 1);
	CHECK(strstr(why, "loaded already"), "why: %s", why);
out:
	teardown(s);
}

/* Refused before the kernel is asked: loads stays 0, nothing appears. */
static void refused(struct klpt_session *s, const char *path, int err,
		    const char *text)
{
	char name[64], why[512];

	CHECK_INT(klpt_patch_load(s, path, NULL, name, sizeof(name), why,
				  sizeof(why)), err);
	CHECK(strstr(why, text), "%s: why '%s' lacks '%s'", path, why, text);
	CHECK_INT(loads, 0);
	CHECK(!ft_exists("%s/sys/module/%s", ft.root, LP), "loaded");
}

static void test_load_refused(void)
{
	struct klpt_session *s = setup();

	if (!s)
		goto out;
	write_module(file("lp.ko"), LP_INFO, sizeof(LP_INFO), 0644);
	refused(s, file("missing.ko"), -ENOENT, "No such file");
	CHECK_INT(symlink("lp.ko", file("link.ko")), 0);
	refused(s, file("link.ko"), -ELOOP, "symbolic link");
	CHECK_INT(mkfifo(file("fifo.ko"), 0600), 0);
	refused(s, file("fifo.ko"), -EINVAL, "not a regular file");
	refused(s, ft.dir, -EINVAL, "not a regular file");
	write_module(file("open.ko"), LP_INFO, sizeof(LP_INFO), 0666);
	refused(s, file("open.ko"), -EPERM, "writable by group or others");
	write_module(file("grp.ko"), LP_INFO, sizeof(LP_INFO), 0664);
	refused(s, file("grp.ko"), -EPERM, "mode 0664");
	write_module(file("plain.ko"), PLAIN_INFO, sizeof(PLAIN_INFO), 0644);
	refused(s, file("plain.ko"), -EINVAL, "not a livepatch module");
	CHECK_INT(ft_write("not an ELF", 10, "%s", file("text.ko")), 0);
	refused(s, file("text.ko"), -ENOEXEC, "not a kernel module");
	write_module(file("noname.ko"), "livepatch=Y\0", 12, 0644);
	refused(s, file("noname.ko"), -ENOEXEC, "no module name");
	write_module(file("slash.ko"), "livepatch=Y\0name=a/b\0", 22, 0644);
	refused(s, file("slash.ko"), -ENOEXEC, "no module name");
	CHECK_INT(klpt_patch_load(s, "", NULL, NULL, 0, NULL, 0), -EINVAL);
	CHECK_INT(klpt_patch_load(NULL, file("lp.ko"), NULL, NULL, 0, NULL, 0),
		  -EINVAL);
out:
	teardown(s);
}

/* The module's init fails: the kernel's errno and the log's reason. */
static void test_load_init_fails(void)
{
	struct klpt_session *s = setup();
	char name[64], why[512];

	if (!s)
		goto out;
	/* written before the session's kmsg position: not this load's */
	CHECK_INT(ft_write("3,1,1,-;" LP ": an old error\n", 29, "%s/dev/kmsg",
			   ft.root), 0);
	write_module(file("lp.ko"), LP_INFO, sizeof(LP_INFO), 0644);
	load_ret = -ENODEV;
	CHECK_INT(klpt_patch_load(s, file("lp.ko"), NULL, name, sizeof(name),
				  why, sizeof(why)), -ENODEV);
	CHECK_INT(errno, ENODEV);
	CHECK_INT(loads, 1);
	CHECK_STR(name, LP);
	CHECK_STR(why, "the kernel refused " LP ": No such device; " LP
		  ": pre_patch: failing on purpose; livepatch: pre-patch "
		  "callback failed for object 'vmlinux'");
out:
	teardown(s);
}

/* The default finit_module() refuses a fake root: never the real one. */
static void test_default_load_fake_root(void)
{
	struct klpt_session *s = setup();

	if (!s)
		goto out;
	klpt_load_module_fn = default_load;
	write_module(file("lp.ko"), LP_INFO, sizeof(LP_INFO), 0644);
	CHECK_INT(klpt_patch_load(s, file("lp.ko"), NULL, NULL, 0, NULL, 0),
		  -EOPNOTSUPP);
out:
	teardown(s);
}

/* The stall decision, step by step (ms as ns / 1e6). */
static void test_stall_steps(void)
{
	const uint64_t ms = 1000000;
	struct klpt_stall st;

	klpt_stall_init(&st, 0);
	/* not started: nothing counted, the clock runs from the start */
	CHECK_INT(klpt_stall_step(&st, 500 * ms, KLPT_PATCHED,
				  KLPT_UNKNOWN_COUNT) / ms, 500);
	CHECK_INT(klpt_stall_step(&st, 1000 * ms, KLPT_PATCHED, 5) / ms, 0);
	CHECK_INT(klpt_stall_step(&st, 3000 * ms, KLPT_PATCHED, 5) / ms, 2000);
	/* a fork of a pending task adds one: no progress */
	CHECK_INT(klpt_stall_step(&st, 3500 * ms, KLPT_PATCHED, 6) / ms, 2500);
	CHECK_INT(klpt_stall_step(&st, 4000 * ms, KLPT_PATCHED, 4) / ms, 0);
	/* back to 5 and down to 5 again: not a new low */
	CHECK_INT(klpt_stall_step(&st, 4200 * ms, KLPT_PATCHED, 5) / ms, 200);
	CHECK_INT(klpt_stall_step(&st, 4400 * ms, KLPT_PATCHED, 4) / ms, 400);
	CHECK_INT(klpt_stall_step(&st, 9000 * ms, KLPT_PATCHED, 1) / ms, 0);
	CHECK_INT(klpt_stall_step(&st, 24000 * ms, KLPT_PATCHED, 1) / ms,
		  15000);
	/* reversed: a new count from now */
	CHECK_INT(klpt_stall_step(&st, 25000 * ms, KLPT_UNPATCHED, 56) / ms, 0);
	CHECK_INT(st.best, 56);
	CHECK_INT(klpt_stall_step(&st, 26000 * ms, KLPT_UNPATCHED, 56) / ms,
		  1000);
}

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static int calls;

static int count_progress(struct klpt_session *s, const struct klpt_patch *p,
			  unsigned int pending, uint64_t stalled_ms, void *ctx)
{
	(void)s;
	(void)pending;
	(void)stalled_ms;
	CHECK_STR(klpt_patch_name(p), LP);
	calls++;
	return ctx ? -EINTR : 0;
}

static void test_wait(void)
{
	struct klpt_session *s = NULL;
	KLPT_OPTS_INIT(klpt_wait_opts, o, .stall_ms = 300, .interval_ms = 100,
		       .progress = count_progress);
	KLPT_OPTS_INIT(klpt_session_opts, so, .poll_ms = 3600 * 1000);
	uint64_t t0;

	CHECK_INT(fake_tracefs_init(&ft, 2, FAKE_KLP), 0);
	CHECK_INT(fake_task(&ft, 1, 1, "init", 1, false), 0);
	CHECK_INT(fake_task(&ft, 105, 105, "klpt_sleeper", 0, true), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 1), 0);
	CHECK_INT(fake_patch(&ft, "idle_lp", 1, 0), 0);
	CHECK_INT(fake_module(&ft, "idle_lp", 1, true), 0);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
	so.tracefs_dir = ft.tracefs;
	so.root = ft.root;
	CHECK_INT(klpt_session_open_live(&so, &s), 0);
	if (!s)
		goto out;
	CHECK_INT(klpt_wait_transition(s, "idle_lp", NULL), 0);
	CHECK_INT(klpt_wait_transition(s, "nope", NULL), -ENOENT);
	CHECK_INT(klpt_wait_transition(s, "../x", NULL), -EINVAL);
	/* the sleeper never switches: stalled after stall_ms, not before */
	calls = 0;
	t0 = mono_ms();
	CHECK_INT(klpt_wait_transition(s, LP, &o), -EBUSY);
	CHECK(mono_ms() - t0 >= 300, "stalled after %llu ms",
	      (unsigned long long)(mono_ms() - t0));
	CHECK(calls >= 2, "progress called %d times", calls);
	/* the timeout comes first */
	o.stall_ms = 0;
	o.timeout_ms = 200;
	t0 = mono_ms();
	CHECK_INT(klpt_wait_transition(s, LP, &o), -ETIMEDOUT);
	CHECK(mono_ms() - t0 >= 200, "timed out after %llu ms",
	      (unsigned long long)(mono_ms() - t0));
	/* progress ends the wait with its error */
	o.ctx = &o;
	CHECK_INT(klpt_wait_transition(s, LP, &o), -EINTR);
	o.timeout_ms = -1;
	CHECK_INT(klpt_wait_transition(s, LP, &o), -EINVAL);
out:
	klpt_session_close(s);
	fake_tracefs_cleanup(&ft);
}

int main(void)
{
	default_load = klpt_load_module_fn;
	RUN(test_load_ok);
	RUN(test_load_refused);
	RUN(test_load_init_fails);
	RUN(test_default_load_fake_root);
	RUN(test_stall_steps);
	RUN(test_wait);
	return check_summary();
}
