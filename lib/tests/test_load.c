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

/* One section of a test module: name, SHF_* flags, SHT_* type, bytes. */
struct sec {
	const char *name;
	uint64_t flags;
	uint32_t type;
	const void *data;
	size_t len;
};

/*
 * A relocatable ELF64 (x86_64, little-endian unless big) at path, mode
 * mode: a section name table, then the n sections of secs.
 */
static void write_elf(const char *path, mode_t mode, const struct sec *secs,
		      int n, bool big)
{
	char shstr[256] = "";
	size_t shlen = 1, off, total;
	Elf64_Ehdr eh = { 0 };
	Elf64_Shdr sh[8] = { { 0 } };
	char *buf;
	int fd, i;

	sh[1].sh_name = shlen;
	memcpy(shstr + shlen, ".shstrtab", 10);
	shlen += 10;
	for (i = 0; i < n; i++) {
		sh[2 + i].sh_name = shlen;
		memcpy(shstr + shlen, secs[i].name, strlen(secs[i].name) + 1);
		shlen += strlen(secs[i].name) + 1;
	}
	off = sizeof(eh);
	sh[1].sh_type = SHT_STRTAB;
	sh[1].sh_offset = off;
	sh[1].sh_size = shlen;
	off += shlen;
	for (i = 0; i < n; i++) {
		sh[2 + i].sh_type = secs[i].type;
		sh[2 + i].sh_flags = secs[i].flags;
		sh[2 + i].sh_offset = off;
		sh[2 + i].sh_size = secs[i].len;
		off += secs[i].type == SHT_NOBITS ? 0 : secs[i].len;
	}
	off = (off + 7) & ~(size_t)7;
	total = off + (size_t)(n + 2) * sizeof(Elf64_Shdr);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = big ? ELFDATA2MSB : ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(eh);
	eh.e_shoff = off;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = n + 2;
	eh.e_shstrndx = 1;
	buf = calloc(1, total);
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sh[1].sh_offset, shstr, shlen);
	for (i = 0; i < n; i++)
		if (secs[i].type != SHT_NOBITS)
			memcpy(buf + sh[2 + i].sh_offset, secs[i].data,
			       secs[i].len);
	memcpy(buf + off, sh, (size_t)(n + 2) * sizeof(Elf64_Shdr));
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0, "create %s", path);
	if (fd >= 0) {
		CHECK_INT(write(fd, buf, total), total);
		CHECK_INT(fchmod(fd, mode), 0);
		close(fd);
	}
	free(buf);
}

/* A module whose only section is an allocated .modinfo of info. */
static void write_module(const char *path, const char *info, size_t len,
			 mode_t mode)
{
	struct sec s = { ".modinfo", SHF_ALLOC, SHT_PROGBITS, info, len };

	write_elf(path, mode, &s, 1, false);
}

/* 6.1 x86_64 struct module's head: state, list, then name at 24. */
struct this_module {
	char head[24];
	char name[56];
	char rest[64];
};

#define LP_INFO "livepatch=Y\0license=GPL\0name=" LP "\0vermagic=6.1\0"
#define PLAIN_INFO "license=GPL\0name=klpt_target_sleep\0"

/* A live session on the fake system ft (no polling: the events only). */
static struct klpt_session *open_fake(void)
{
	KLPT_OPTS_INIT(klpt_session_opts, o, .poll_ms = 3600 * 1000);
	struct klpt_session *s = NULL;

	o.tracefs_dir = ft.tracefs;
	o.root = ft.root;
	CHECK_INT(klpt_session_open_live(&o, &s), 0);
	return s;
}

static struct klpt_session *setup(void)
{
	loads = 0;
	load_ret = 0;
	klpt_load_module_fn = fake_load;
	CHECK_INT(fake_tracefs_init(&ft, 2, FAKE_KLP), 0);
	CHECK_INT(fake_task(&ft, 1, 1, "init", 1, false), 0);
	CHECK_INT(ft_write("", 0, "%s/dev/kmsg", ft.root), 0);
	return open_fake();
}

/* LP in transition, held by a sleeper that never switches. */
static struct klpt_session *sleeper_system(void)
{
	CHECK_INT(fake_tracefs_init(&ft, 2, FAKE_KLP), 0);
	CHECK_INT(fake_task(&ft, 1, 1, "init", 1, false), 0);
	CHECK_INT(fake_task(&ft, 105, 105, "klpt_sleeper", 0, true), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 1), 0);
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
	CHECK_INT(fake_patch(&ft, "idle_lp", 1, 0), 0);
	CHECK_INT(fake_module(&ft, "idle_lp", 1, true), 0);
	return open_fake();
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

/*
 * The stall decision, step by step (ms as ns / 1e6), on the progress
 * count of the transition (klpt_patch_moved(); test_model's
 * test_progress_count checks what counts).
 */
static void test_stall_steps(void)
{
	const uint64_t ms = 1000000;
	struct klpt_stall st;

	klpt_stall_init(&st, 0);
	/* the first look only learns the count: the clock runs from 0 */
	CHECK_INT(klpt_stall_step(&st, 500 * ms, KLPT_UNDEFINED, 0) / ms, 500);
	CHECK_INT(klpt_stall_step(&st, 800 * ms, KLPT_PATCHED, 0) / ms, 800);
	CHECK_INT(klpt_stall_step(&st, 1000 * ms, KLPT_PATCHED, 3) / ms, 0);
	CHECK_INT(klpt_stall_step(&st, 3000 * ms, KLPT_PATCHED, 3) / ms, 2000);
	/* any switch is progress, whatever the count of pending tasks */
	CHECK_INT(klpt_stall_step(&st, 3500 * ms, KLPT_PATCHED, 4) / ms, 0);
	CHECK_INT(klpt_stall_step(&st, 9000 * ms, KLPT_PATCHED, 4) / ms, 5500);
	/* the direction unknown for a while (lost events): no progress */
	CHECK_INT(klpt_stall_step(&st, 9500 * ms, KLPT_UNDEFINED, 4) / ms,
		  6000);
	CHECK_INT(klpt_stall_step(&st, 9600 * ms, KLPT_PATCHED, 4) / ms, 6100);
	/* reversed: progress */
	CHECK_INT(klpt_stall_step(&st, 25000 * ms, KLPT_UNPATCHED, 4) / ms, 0);
	CHECK_INT(klpt_stall_step(&st, 26000 * ms, KLPT_UNPATCHED, 4) / ms,
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
	struct klpt_session *s = sleeper_system();
	KLPT_OPTS_INIT(klpt_wait_opts, o, .stall_ms = 300, .interval_ms = 100,
		       .progress = count_progress);
	uint64_t t0;

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

/*
 * Without a progress callback the stall and the timeout are still on
 * time (review L2: they waited for the 1 s report interval).
 */
static void test_wait_no_callback(void)
{
	struct klpt_session *s = sleeper_system();
	KLPT_OPTS_INIT(klpt_wait_opts, o, .stall_ms = 100);
	uint64_t t0, dt;

	if (!s)
		goto out;
	t0 = mono_ms();
	CHECK_INT(klpt_wait_transition(s, LP, &o), -EBUSY);
	dt = mono_ms() - t0;
	CHECK(dt >= 100 && dt < 600, "stalled after %llu ms",
	      (unsigned long long)dt);
	o.stall_ms = 0;
	o.timeout_ms = 50;
	t0 = mono_ms();
	CHECK_INT(klpt_wait_transition(s, LP, &o), -ETIMEDOUT);
	dt = mono_ms() - t0;
	CHECK(dt >= 50 && dt < 550, "timed out after %llu ms",
	      (unsigned long long)dt);
out:
	klpt_session_close(s);
	fake_tracefs_cleanup(&ft);
}

/*
 * The options follow klpt_session_opts' rule: sz too small, or a larger
 * struct with a non-zero field this library does not know: -EINVAL.
 */
static void test_wait_opts_size(void)
{
	struct klpt_session *s = setup();
	struct {
		struct klpt_wait_opts o;
		int newer;
	} big;

	if (!s)
		goto out;
	CHECK_INT(fake_patch(&ft, "idle_lp", 1, 0), 0);
	CHECK_INT(klpt_session_poll(s, 0) >= 0, 1);
	memset(&big, 0, sizeof(big));
	CHECK_INT(klpt_wait_transition(s, "idle_lp", &big.o), -EINVAL);
	big.o.sz = sizeof(big);
	big.newer = 1;
	CHECK_INT(klpt_wait_transition(s, "idle_lp", &big.o), -EINVAL);
out:
	teardown(s);
}

/*
 * A patch of that name left from a load before (review L10): the model
 * holds the old one, not in transition, while the directory is the new
 * patch's (another inode) and its transition runs.  The wait must not
 * end on the old one.
 */
static void test_wait_stale_patch(void)
{
	struct klpt_session *s = setup();
	KLPT_OPTS_INIT(klpt_wait_opts, o, .timeout_ms = 300);
	char dir[PATH_MAX], old[PATH_MAX + 8];
	const struct klpt_patch *p;

	if (!s)
		goto out;
	CHECK_INT(fake_module(&ft, LP, 1, true), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 0), 0);
	klpt_session_close(s);		/* reopen: the model reads it */
	s = open_fake();
	if (!s)
		goto out;
	p = klpt_patch_find(s, LP);
	CHECK(p && !klpt_patch_in_transition(p) && klpt_patch_order(p),
	      "the old patch not known with its inode");
	/* unloaded and loaded again, unseen: a new directory, in transition */
	snprintf(dir, sizeof(dir), "%s/sys/kernel/livepatch/%s", ft.root, LP);
	snprintf(old, sizeof(old), "%s.old", dir);
	CHECK_INT(rename(dir, old), 0);
	CHECK_INT(fake_patch(&ft, LP, 1, 1), 0);
	ft_rmtree(old);
	CHECK_INT(klpt_wait_transition(s, LP, &o), -ETIMEDOUT);
out:
	klpt_session_close(s);
	fake_tracefs_cleanup(&ft);
}

/*
 * A replay follows the recording, never the host's /sys (review L1):
 * vm-recording loads klpt_lp_sleep (klpt_sleeper holds its transition
 * for 3 passes), then disables and unloads it.  The wait ends at the
 * enable's completion, not at the end of a batch of events that holds
 * the disable too.
 */
static void test_wait_replay(void)
{
	struct klpt_session *s = NULL;
	const struct klpt_patch *p;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/vm-recording",
		 getenv("KLPT_TEST_FIXTURES") ? getenv("KLPT_TEST_FIXTURES") :
		 "tests/fixtures");
	CHECK_INT(klpt_session_open_replay(path, NULL, &s), 0);
	if (!s)
		return;
	CHECK(!klpt_patch_find(s, LP), "known before the replay");
	CHECK_INT(klpt_wait_transition(s, LP, NULL), 0);
	p = klpt_patch_find(s, LP);
	CHECK(p && klpt_patch_enabled(p) && !klpt_patch_in_transition(p),
	      "not the enable's end");
	CHECK(klpt_session_poll(s, 0) > 0, "replayed to its end");
	klpt_session_close(s);
	/* a patch the recording never shows: known only at its end */
	CHECK_INT(klpt_session_open_replay(path, NULL, &s), 0);
	if (!s)
		return;
	CHECK_INT(klpt_wait_transition(s, "klpt_nowhere", NULL), -ENOENT);
	CHECK_INT(klpt_session_poll(s, 0), 0);	/* replayed to its end */
	klpt_session_close(s);
}

/* The kernel's log lines of someone else are no explanation (L5). */
static int noise_load(const char *root, int fd, const char *params)
{
	static const char kmsg[] =
		"12,200,1000,-;systemd[1]: some user-space error\n"
		"4,201,1001,-;e1000e: eth0 NIC Link is Down\n"
		"6,202,1002,-;" LP ": x[1234]: segfault at 0 ip 0 sp 0\n"
		"3,203,1003,-;Invalid ELF header magic: != \\x7fELF\n"
		"4,204,1004,-;" LP ": disagrees about version of symbol x\n"
		"6,205,1005,-;livepatch: enabling patch '" LP "'\n"
		"3,206,1006,-;livepatch: failed to enable patch '" LP "'\n";

	(void)fd;
	(void)params;
	CHECK_INT(ft_write(kmsg, sizeof(kmsg) - 1, "%s/dev/kmsg", root), 0);
	return -EACCES;
}

static void test_load_kmsg_filter(void)
{
	struct klpt_session *s = setup();
	char name[64], why[1024];

	if (!s)
		goto out;
	klpt_load_module_fn = noise_load;
	write_module(file("lp.ko"), LP_INFO, sizeof(LP_INFO), 0644);
	/* the kernel's EACCES is EPERM; why keeps the kernel's words */
	CHECK_INT(klpt_patch_load(s, file("lp.ko"), NULL, name, sizeof(name),
				  why, sizeof(why)), -EPERM);
	CHECK_STR(why, "the kernel refused " LP ": Permission denied; Invalid "
		  "ELF header magic: != \\x7fELF; " LP ": disagrees about "
		  "version of symbol x; livepatch: failed to enable patch '"
		  LP "'");
out:
	teardown(s);
}

/*
 * The sections the kernel reads (L6, L7): the first allocated .modinfo
 * (6.1 find_sec()), the name of struct module in
 * .gnu.linkonce.this_module; malformed or foreign files refused.
 */
static void test_load_sections(void)
{
	static const char plain[] = "license=GPL\0name=plain_mod\0";
	static const char lp_named_plain[] = "livepatch=Y\0name=plain_mod\0";
	struct klpt_session *s = setup();
	struct this_module tm;
	struct sec sc[3];
	char big_info[(1 << 20) + 16];

	if (!s)
		goto out;
	/* a non-allocated .modinfo saying livepatch=Y, the kernel's not */
	sc[0] = (struct sec){ ".modinfo", 0, SHT_PROGBITS, LP_INFO,
			      sizeof(LP_INFO) };
	sc[1] = (struct sec){ ".modinfo", SHF_ALLOC, SHT_PROGBITS, plain,
			      sizeof(plain) };
	write_elf(file("two.ko"), 0644, sc, 2, false);
	refused(s, file("two.ko"), -EINVAL, "not a livepatch module");
	/* NOBITS: no bytes in the file */
	sc[0] = (struct sec){ ".modinfo", SHF_ALLOC, SHT_NOBITS, NULL, 64 };
	write_elf(file("nobits.ko"), 0644, sc, 1, false);
	refused(s, file("nobits.ko"), -ENOEXEC, "not a kernel module");
	/* the name the kernel registers is struct module's */
	memset(&tm, 0, sizeof(tm));
	snprintf(tm.name, sizeof(tm.name), "plain_mod");
	sc[0] = (struct sec){ ".modinfo", SHF_ALLOC, SHT_PROGBITS, LP_INFO,
			      sizeof(LP_INFO) };
	sc[1] = (struct sec){ ".gnu.linkonce.this_module",
			      SHF_ALLOC | SHF_WRITE, SHT_PROGBITS, &tm,
			      sizeof(tm) };
	write_elf(file("mixed.ko"), 0644, sc, 2, false);
	refused(s, file("mixed.ko"), -ENOEXEC, "its struct module plain_mod");
	/* big-endian: not this machine's */
	sc[0] = (struct sec){ ".modinfo", SHF_ALLOC, SHT_PROGBITS, LP_INFO,
			      sizeof(LP_INFO) };
	write_elf(file("be.ko"), 0644, sc, 1, true);
	refused(s, file("be.ko"), -ENOEXEC, "not a kernel module");
	/* a .modinfo of over 1 MiB is no module's: said so */
	memset(big_info, 'x', sizeof(big_info));
	memcpy(big_info, LP_INFO, sizeof(LP_INFO));
	write_module(file("big.ko"), big_info, sizeof(big_info), 0644);
	refused(s, file("big.ko"), -ENOEXEC, "too large");
	/* a name with a control character is refused, not passed on */
	write_module(file("esc.ko"), "livepatch=Y\0name=a\033[2Jb\0", 24,
		     0644);
	refused(s, file("esc.ko"), -ENOEXEC, "no module name");
	/* struct module's name and .modinfo's agree: loaded */
	sc[1] = (struct sec){ ".gnu.linkonce.this_module",
			      SHF_ALLOC | SHF_WRITE, SHT_PROGBITS, &tm,
			      sizeof(tm) };
	sc[0] = (struct sec){ ".modinfo", SHF_ALLOC, SHT_PROGBITS,
			      lp_named_plain, sizeof(lp_named_plain) };
	write_elf(file("agree.ko"), 0644, sc, 2, false);
	{
		char name[64];

		CHECK_INT(klpt_patch_load(s, file("agree.ko"), NULL, name,
					  sizeof(name), NULL, 0), 0);
		CHECK_STR(name, "plain_mod");
		CHECK_INT(loads, 1);
		loads = 0;
	}
out:
	teardown(s);
}

/*
 * A device is never opened (L8): /dev/tty without a controlling
 * terminal fails its open() with ENXIO; the check says what it is.
 */
static void test_load_device(void)
{
	struct klpt_session *s = setup();

	if (!s)
		goto out;
	refused(s, "/dev/null", -EINVAL, "not a regular file");
	refused(s, "/dev/tty", -EINVAL, "not a regular file");
out:
	teardown(s);
}

/*
 * klpt_module_file_info(): a key of a module file's .modinfo, as
 * modinfo -F prints it; what is no module or no such key says so.
 */
static void test_module_file_info(void)
{
	static const char info[] = "description=a test patch\0livepatch=Y\0"
				   "name=" LP "\0srcversion=0123456789ABCDEF\0";
	struct klpt_session *s = setup();
	char val[64], small[5];

	if (!s)
		goto out;
	write_module(file("info.ko"), info, sizeof(info), 0644);
	CHECK_INT(klpt_module_file_info(file("info.ko"), "description", val,
					sizeof(val)), 0);
	CHECK_STR(val, "a test patch");
	CHECK_INT(klpt_module_file_info(file("info.ko"), "srcversion", val,
					sizeof(val)), 0);
	CHECK_STR(val, "0123456789ABCDEF");
	CHECK_INT(klpt_module_file_info(file("info.ko"), "name", small,
					sizeof(small)), 0);
	CHECK_STR(small, "klpt");	/* cut to fit */
	CHECK_INT(klpt_module_file_info(file("info.ko"), "version", val,
					sizeof(val)), -ENOENT);
	CHECK_STR(val, "");
	CHECK_INT(klpt_module_file_info(file("nonexistent.ko"), "name", val,
					sizeof(val)), -ENOENT);
	CHECK_INT(klpt_module_file_info("/dev/null", "name", val,
					sizeof(val)), -EINVAL);
	CHECK_INT(klpt_module_file_info(file("info.ko"), "a=b", val,
					sizeof(val)), -EINVAL);
	ft_puts("not an ELF", "%s/plain.txt", ft.dir);
	CHECK_INT(klpt_module_file_info(file("plain.txt"), "name", val,
					sizeof(val)), -ENOEXEC);
out:
	teardown(s);
}

/* An ELF note: namesz, descsz, type, the name and desc padded to 4. */
static size_t note(unsigned char *p, const char *owner, uint32_t type,
		   const unsigned char *desc, uint32_t dlen)
{
	uint32_t h[3] = { (uint32_t)strlen(owner) + 1, dlen, type };
	size_t n = sizeof(h);

	memcpy(p, h, sizeof(h));
	memset(p + n, 0, 64);
	memcpy(p + n, owner, h[0]);
	n += (h[0] + 3) & ~3u;
	memcpy(p + n, desc, dlen);
	return n + ((dlen + 3) & ~3u);
}

/*
 * The GNU build ID of a module file and of a note as sysfs shows it
 * (review #2: a name or srcversion is no proof of the build): the
 * NT_GNU_BUILD_ID note of owner GNU, after any other note; none, a note
 * cut short, another owner: -ENOENT; a buffer too small: -EINVAL.
 */
static void test_module_build_id(void)
{
	static const char info[] = "livepatch=Y\0name=" LP "\0";
	static const unsigned char id[20] = {
		0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		13, 14, 15, 16 };
	struct klpt_session *s = setup();
	unsigned char notes[256];
	char hex[64], small[40];
	struct sec sc[2];
	size_t n;

	if (!s)
		goto out;
	n = note(notes, "Linux", 1, id, 3);	/* another note first */
	n += note(notes + n, "GNU", NT_GNU_BUILD_ID, id, sizeof(id));
	CHECK_INT(klpt_build_id_note(notes, n, hex, sizeof(hex)), 0);
	CHECK_STR(hex, "deadbeef0102030405060708090a0b0c0d0e0f10");
	CHECK_INT(klpt_build_id_note(notes, n, small, sizeof(small)),
		  -EINVAL);
	CHECK_INT(klpt_build_id_note(notes, n - 1, hex, sizeof(hex)),
		  -ENOENT);	/* cut short */
	CHECK_STR(hex, "");
	n = note(notes, "GNV", NT_GNU_BUILD_ID, id, sizeof(id));
	CHECK_INT(klpt_build_id_note(notes, n, hex, sizeof(hex)), -ENOENT);

	n = note(notes, "GNU", NT_GNU_BUILD_ID, id, sizeof(id));
	sc[0] = (struct sec){ ".modinfo", SHF_ALLOC, SHT_PROGBITS, info,
			      sizeof(info) };
	sc[1] = (struct sec){ ".note.gnu.build-id", SHF_ALLOC, SHT_NOTE,
			      notes, n };
	write_elf(file("id.ko"), 0644, sc, 2, false);
	CHECK_INT(klpt_module_file_build_id(file("id.ko"), hex, sizeof(hex)),
		  0);
	CHECK_STR(hex, "deadbeef0102030405060708090a0b0c0d0e0f10");
	write_module(file("noid.ko"), info, sizeof(info), 0644);
	CHECK_INT(klpt_module_file_build_id(file("noid.ko"), hex,
					    sizeof(hex)), -ENOENT);
	ft_puts("not an ELF", "%s/plain.txt", ft.dir);
	CHECK_INT(klpt_module_file_build_id(file("plain.txt"), hex,
					    sizeof(hex)), -ENOEXEC);
	CHECK_INT(klpt_module_file_build_id(NULL, hex, sizeof(hex)), -EINVAL);
out:
	teardown(s);
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
	RUN(test_wait_no_callback);
	RUN(test_wait_opts_size);
	RUN(test_wait_stale_patch);
	RUN(test_wait_replay);
	RUN(test_load_kmsg_filter);
	RUN(test_load_sections);
	RUN(test_load_device);
	RUN(test_module_file_info);
	RUN(test_module_build_id);
	return check_summary();
}
