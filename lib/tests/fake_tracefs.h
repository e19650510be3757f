/* SPDX-License-Identifier: LGPL-2.1 OR MIT */
/*
 * A fake tracefs directory and a fake /sys + /proc root for tests that
 * must never touch the host's tracing (libtracefs reads them through
 * tracefs_set_tracing_dir(); the library through opts->root).
 *
 *	struct fake_tracefs ft;
 *	fake_tracefs_init(&ft, 2, FAKE_KLP);	 2 CPUs, klp events present
 *	fake_patch(&ft, "lp", 0, 1);		 /sys/kernel/livepatch/lp
 *	fake_module(&ft, "lp", 1, true);	 /sys/module/lp/refcnt
 *	fake_task(&ft, 100, 100, "sleeper", 1, true);
 *	fake_klptrace(&ft, NULL, true, 0, 0, -1); /sys/kernel/klptrace/{hooks,missed}
 *
 *	struct fake_page pg;
 *	fake_page_init(&pg);
 *	FAKE_EVENT(&ft, &pg, ts, "klp", "klp_task_switch",
 *		   FV("pid", 100), FV("comm", "sleeper"), FV("to", 0));
 *	fake_page_write(&ft, 0, &pg);		 appended to cpu0's pipe
 *	...
 *	fake_tracefs_cleanup(&ft);		 rm -r of everything
 *
 * Layout (what libtracefs and the kernel have):
 *   <dir>/tracing/events/header_page, header_event
 *   <dir>/tracing/events/<sys>/{enable,filter}
 *   <dir>/tracing/events/<sys>/<ev>/{format,enable,filter,id}
 *   <dir>/tracing/instances/klptrace-<pidns>-<getpid()>/   the session's
 *	instance (pidns: the inode of /proc/self/ns/pid), made in advance
 *	because a plain directory has no kernel to fill it on mkdir: its
 *	control files, events/ enable files and per_cpu/cpuN/trace_pipe_raw
 *	(plain files of ring-buffer pages)
 *   <dir>/root/sys/kernel/livepatch, <dir>/root/sys/module, <dir>/root/proc
 *   <dir>/root/run (the session makes run/klptrace for its lock)
 *
 * Event formats come from
 * $KLPT_TEST_FIXTURES/formats/events/<sys>/<ev>/format (and
 * .../formats/events/header_page) when that file exists: the real files
 * captured from the test VM (fixtures/capture).  Otherwise from the
 * texts below, written by hand from tracepoints/klp_trace.h and the 6.1
 * kernel's include/trace/events/module.h with the x86_64 layout rules
 * (identical to the captured files but for the event IDs).
 * Payloads are built through libtraceevent from whichever format was
 * used (field offsets by name), so the tests work with both.
 */
#ifndef KLPT_FAKE_TRACEFS_H
#define KLPT_FAKE_TRACEFS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <event-parse.h>

#define FT_FN static __attribute__((unused))

#define FAKE_PAGE_SIZE 4096
#define FAKE_PAGE_DATA (FAKE_PAGE_SIZE - 16)

enum { FAKE_NO_KLP = 0, FAKE_KLP = 1 };

struct fake_tracefs {
	/* sized so that every path built from them fits PATH_MAX */
	char dir[512];		/* the temporary directory */
	char tracefs[560];	/* pass as opts.tracefs_dir */
	char root[560];		/* pass as opts.root */
	char inst[640];		/* tracefs/instances/klptrace-<ns>-<pid> */
	int ncpus;
	bool klp;
	int fixtures;		/* format files copied from the fixtures */
	struct tep_handle *tep;	/* the formats written, to build payloads */
};

/* One ring-buffer sub-buffer being filled (see tracing-and-vm.md). */
struct fake_page {
	unsigned char buf[FAKE_PAGE_SIZE];
	size_t used;		/* bytes of events after the 16-byte header */
	uint64_t last_ts;
	bool started;
	bool missed;		/* the kernel dropped events before this page */
	uint64_t missed_count;	/* how many, 0 if it did not say */
};

/* ------------------------------------------------------ format texts */

static const char fake_header_page[] =
	"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
	"\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
	"\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
	"\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n";

static const char fake_header_event[] =
	"# compressed entry header\n"
	"\ttype_len    :    5 bits\n"
	"\ttime_delta  :   27 bits\n"
	"\tarray       :   32 bits\n"
	"\n"
	"\tpadding     : type == 29\n"
	"\ttime_extend : type == 30\n"
	"\ttime_stamp : type == 31\n"
	"\tdata max type_len  == 28\n";

#define FT_COMMON							\
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" \
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" \
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" \
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"

#define FT_STATE(x)							\
	"__print_symbolic(" x ", { (-1), \"undefined\" }, "		\
	"{ 0, \"unpatched\" }, { 1, \"patched\" })"

#define FT_PATCH_TARGET							\
	"\tfield:__data_loc char[] patch;\toffset:8;\tsize:4;\tsigned:1;\n" \
	"\tfield:int target;\toffset:12;\tsize:4;\tsigned:1;\n"

#define FT_TRANSITION_FMT						\
	FT_COMMON FT_PATCH_TARGET "\n"					\
	"print fmt: \"patch=%s target=%s\", __get_str(patch), "	\
	FT_STATE("REC->target") "\n"

struct fake_format {
	const char *sys, *name;
	int id;
	const char *body;	/* "format:\n" and on */
};

static const struct fake_format fake_formats[] = {
	{ "klp", "klp_transition_init", 1501, FT_TRANSITION_FMT },
	{ "klp", "klp_transition_start", 1502, FT_TRANSITION_FMT },
	{ "klp", "klp_transition_reverse", 1503, FT_TRANSITION_FMT },
	{ "klp", "klp_transition_force", 1504, FT_TRANSITION_FMT },
	{ "klp", "klp_transition_cancel", 1505, FT_TRANSITION_FMT },
	{ "klp", "klp_transition_pass", 1506,
	  FT_COMMON FT_PATCH_TARGET
	  "\tfield:unsigned int pass;\toffset:16;\tsize:4;\tsigned:0;\n"
	  "\tfield:unsigned int checked;\toffset:20;\tsize:4;\tsigned:0;\n"
	  "\tfield:unsigned int pending;\toffset:24;\tsize:4;\tsigned:0;\n\n"
	  "print fmt: \"patch=%s target=%s pass=%u checked=%u pending=%u\", "
	  "__get_str(patch), " FT_STATE("REC->target")
	  ", REC->pass, REC->checked, REC->pending\n" },
	{ "klp", "klp_transition_signal", 1507,
	  FT_COMMON FT_PATCH_TARGET
	  "\tfield:unsigned int pass;\toffset:16;\tsize:4;\tsigned:0;\n"
	  "\tfield:unsigned int pending;\toffset:20;\tsize:4;\tsigned:0;\n\n"
	  "print fmt: \"patch=%s target=%s pass=%u pending=%u\", "
	  "__get_str(patch), " FT_STATE("REC->target")
	  ", REC->pass, REC->pending\n" },
	{ "klp", "klp_transition_complete", 1508,
	  FT_COMMON FT_PATCH_TARGET
	  "\tfield:u8 forced;\toffset:16;\tsize:1;\tsigned:0;\n\n"
	  "print fmt: \"patch=%s target=%s forced=%u\", __get_str(patch), "
	  FT_STATE("REC->target") ", REC->forced\n" },
	{ "klp", "klp_task_switch", 1509,
	  FT_COMMON
	  "\tfield:pid_t pid;\toffset:8;\tsize:4;\tsigned:1;\n"
	  "\tfield:pid_t tgid;\toffset:12;\tsize:4;\tsigned:1;\n"
	  "\tfield:char comm[16];\toffset:16;\tsize:16;\tsigned:1;\n"
	  "\tfield:s8 from;\toffset:32;\tsize:1;\tsigned:1;\n"
	  "\tfield:s8 to;\toffset:33;\tsize:1;\tsigned:1;\n"
	  "\tfield:u8 via;\toffset:34;\tsize:1;\tsigned:0;\n\n"
	  "print fmt: \"pid=%d tgid=%d comm=%s from=%s to=%s via=%s\", "
	  "REC->pid, REC->tgid, REC->comm, " FT_STATE("REC->from") ", "
	  FT_STATE("REC->to") ", __print_symbolic(REC->via, "
	  "{ 1, \"user_return\" }, { 2, \"idle\" }, { 3, \"stack_check\" }, "
	  "{ 4, \"fork\" }, { 5, \"force\" })\n" },
	{ "klp", "klp_task_blocked", 1510,
	  FT_COMMON
	  "\tfield:pid_t pid;\toffset:8;\tsize:4;\tsigned:1;\n"
	  "\tfield:pid_t tgid;\toffset:12;\tsize:4;\tsigned:1;\n"
	  "\tfield:char comm[16];\toffset:16;\tsize:16;\tsigned:1;\n"
	  "\tfield:__data_loc char[] patch;\toffset:32;\tsize:4;\tsigned:1;\n"
	  "\tfield:int target;\toffset:36;\tsize:4;\tsigned:1;\n"
	  "\tfield:u8 reason;\toffset:40;\tsize:1;\tsigned:0;\n"
	  "\tfield:int err;\toffset:44;\tsize:4;\tsigned:1;\n"
	  "\tfield:__data_loc char[] func;\toffset:48;\tsize:4;\tsigned:1;\n\n"
	  "print fmt: \"pid=%d tgid=%d comm=%s patch=%s target=%s reason=%s "
	  "err=%d func=%s\", REC->pid, REC->tgid, REC->comm, "
	  "__get_str(patch), " FT_STATE("REC->target")
	  ", __print_symbolic(REC->reason, { 1, \"running\" }, "
	  "{ 2, \"unreliable_stack\" }, { 3, \"sleeping_in_func\" }, "
	  "{ 4, \"other\" }), REC->err, __get_str(func)\n" },
	{ "klp", "klp_module_ref", 1511,
	  FT_COMMON
	  "\tfield:__data_loc char[] module;\toffset:8;\tsize:4;\tsigned:1;\n"
	  "\tfield:u8 op;\toffset:12;\tsize:1;\tsigned:0;\n"
	  "\tfield:int refcnt;\toffset:16;\tsize:4;\tsigned:1;\n"
	  "\tfield:unsigned long ip;\toffset:24;\tsize:8;\tsigned:0;\n"
	  "\tfield:__data_loc char[] caller;\toffset:32;\tsize:4;\tsigned:1;\n\n"
	  "print fmt: \"module=%s op=%s refcnt=%d caller=%s\", "
	  "__get_str(module), __print_symbolic(REC->op, { 1, \"get\" }, "
	  "{ 2, \"put\" }), REC->refcnt, __get_str(caller)\n" },
	{ "klp", "klp_patch_free", 1512,
	  FT_COMMON
	  "\tfield:__data_loc char[] patch;\toffset:8;\tsize:4;\tsigned:1;\n"
	  "\tfield:u8 forced;\toffset:12;\tsize:1;\tsigned:0;\n\n"
	  "print fmt: \"patch=%s forced=%u\", __get_str(patch), "
	  "REC->forced\n" },
	{ "klp", "klp_patch_release", 1513,
	  FT_COMMON
	  "\tfield:__data_loc char[] patch;\toffset:8;\tsize:4;\tsigned:1;\n"
	  "\tfield:u8 forced;\toffset:12;\tsize:1;\tsigned:0;\n\n"
	  "print fmt: \"patch=%s forced=%u\", __get_str(patch), "
	  "REC->forced\n" },
	{ "klp", "klp_module_unload_ready", 1514,
	  FT_COMMON
	  "\tfield:__data_loc char[] module;\toffset:8;\tsize:4;\tsigned:1;\n\n"
	  "print fmt: \"module=%s\", __get_str(module)\n" },
	{ "klp", "klp_module_free", 1515,
	  FT_COMMON
	  "\tfield:__data_loc char[] module;\toffset:8;\tsize:4;\tsigned:1;\n\n"
	  "print fmt: \"module=%s\", __get_str(module)\n" },
	{ "module", "module_load", 401,
	  FT_COMMON
	  "\tfield:unsigned int taints;\toffset:8;\tsize:4;\tsigned:0;\n"
	  "\tfield:__data_loc char[] name;\toffset:12;\tsize:4;\tsigned:1;\n\n"
	  "print fmt: \"%s %s\", __get_str(name), __print_flags(REC->taints, "
	  "\"\", { (1UL << 0), \"P\" }, { (1UL << 12), \"O\" }, "
	  "{ (1UL << 1), \"F\" }, { (1UL << 10), \"C\" }, "
	  "{ (1UL << 13), \"E\" })\n" },
	{ "module", "module_free", 402,
	  FT_COMMON
	  "\tfield:__data_loc char[] name;\toffset:8;\tsize:4;\tsigned:1;\n\n"
	  "print fmt: \"%s\", __get_str(name)\n" },
	{ "module", "module_get", 403,
	  FT_COMMON
	  "\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n"
	  "\tfield:int refcnt;\toffset:16;\tsize:4;\tsigned:1;\n"
	  "\tfield:__data_loc char[] name;\toffset:20;\tsize:4;\tsigned:1;\n\n"
	  "print fmt: \"%s call_site=%ps refcnt=%d\", __get_str(name), "
	  "(void *)REC->ip, REC->refcnt\n" },
	{ "module", "module_put", 404,
	  FT_COMMON
	  "\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n"
	  "\tfield:int refcnt;\toffset:16;\tsize:4;\tsigned:1;\n"
	  "\tfield:__data_loc char[] name;\toffset:20;\tsize:4;\tsigned:1;\n\n"
	  "print fmt: \"%s call_site=%ps refcnt=%d\", __get_str(name), "
	  "(void *)REC->ip, REC->refcnt\n" },
	{ "module", "module_request", 405,
	  FT_COMMON
	  "\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;\n"
	  "\tfield:bool wait;\toffset:16;\tsize:1;\tsigned:0;\n"
	  "\tfield:__data_loc char[] name;\toffset:20;\tsize:4;\tsigned:1;\n\n"
	  "print fmt: \"%s wait=%d call_site=%ps\", __get_str(name), "
	  "(int)REC->wait, (void *)REC->ip\n" },
	{ "klp", "klp_task_new", 1516,
	  FT_COMMON
	  "\tfield:pid_t pid;\toffset:8;\tsize:4;\tsigned:1;\n"
	  "\tfield:pid_t tgid;\toffset:12;\tsize:4;\tsigned:1;\n"
	  "\tfield:char comm[16];\toffset:16;\tsize:16;\tsigned:1;\n"
	  "\tfield:s8 state;\toffset:32;\tsize:1;\tsigned:1;\n"
	  "\tfield:u8 kthread;\toffset:33;\tsize:1;\tsigned:0;\n\n"
	  "print fmt: \"pid=%d tgid=%d comm=%s state=%s kthread=%u\", "
	  "REC->pid, REC->tgid, REC->comm, " FT_STATE("REC->state")
	  ", REC->kthread\n" },
	/* 6.1 include/trace/events/task.h */
	{ "task", "task_newtask", 130,
	  FT_COMMON
	  "\tfield:pid_t pid;\toffset:8;\tsize:4;\tsigned:1;\n"
	  "\tfield:char comm[16];\toffset:12;\tsize:16;\tsigned:1;\n"
	  "\tfield:unsigned long clone_flags;\toffset:32;\tsize:8;"
	  "\tsigned:0;\n"
	  "\tfield:short oom_score_adj;\toffset:40;\tsize:2;\tsigned:1;\n\n"
	  "print fmt: \"pid=%d comm=%s clone_flags=%lx oom_score_adj=%hd\", "
	  "REC->pid, REC->comm, REC->clone_flags, REC->oom_score_adj\n" },
	{ "task", "task_rename", 131,
	  FT_COMMON
	  "\tfield:pid_t pid;\toffset:8;\tsize:4;\tsigned:1;\n"
	  "\tfield:char oldcomm[16];\toffset:12;\tsize:16;\tsigned:1;\n"
	  "\tfield:char newcomm[16];\toffset:28;\tsize:16;\tsigned:1;\n"
	  "\tfield:short oom_score_adj;\toffset:44;\tsize:2;\tsigned:1;\n\n"
	  "print fmt: \"pid=%d oldcomm=%s newcomm=%s oom_score_adj=%hd\", "
	  "REC->pid, REC->oldcomm, REC->newcomm, REC->oom_score_adj\n" },
	{ "sched", "sched_process_exit", 316,
	  FT_COMMON
	  "\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:1;\n"
	  "\tfield:pid_t pid;\toffset:24;\tsize:4;\tsigned:1;\n"
	  "\tfield:int prio;\toffset:28;\tsize:4;\tsigned:1;\n\n"
	  "print fmt: \"comm=%s pid=%d prio=%d\", REC->comm, REC->pid, "
	  "REC->prio\n" },
};

#define FAKE_NFORMATS (sizeof(fake_formats) / sizeof(fake_formats[0]))

/* --------------------------------------------------------- file helpers */

FT_FN int ft_vpath(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* mkdir -p of a printf-formatted path. */
FT_FN int ft_mkdirs(const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	char *p;
	int ret;

	va_start(ap, fmt);
	ret = ft_vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	/* Mostly the parent exists: one call instead of one per level. */
	if (!mkdir(path, 0755) || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Write (replace) a file; its directory is created. */
FT_FN int ft_write(const void *data, size_t len, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	char *slash;
	int fd, ret;

	va_start(ap, fmt);
	ret = ft_vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENOENT) {
		/* the directory first */
		slash = strrchr(path, '/');
		*slash = '\0';
		ret = ft_mkdirs("%s", path);
		*slash = '/';
		if (ret)
			return ret;
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0644);
	}
	if (fd < 0)
		return -errno;
	if (len && write(fd, data, len) != (ssize_t)len)
		ret = -EIO;
	close(fd);
	return ret;
}

#define ft_puts(str, ...) ft_write((str), strlen(str), __VA_ARGS__)

/*
 * Read a whole small file into buf (NUL-terminated, trailing newline
 * kept).  Returns its length or a negative errno.
 */
FT_FN int ft_read(char *buf, size_t size, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	ssize_t n;
	int fd, ret;

	va_start(ap, fmt);
	ret = ft_vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

FT_FN bool ft_exists(const char *fmt, ...)
{
	char path[PATH_MAX];
	struct stat st;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = ft_vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	return !ret && stat(path, &st) == 0;
}

/* rm -r without following symlinks. */
FT_FN void ft_rmtree(const char *path)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (lstat(path, &st))
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	d = opendir(path);
	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (snprintf(sub, sizeof(sub), "%s/%s", path,
				     de->d_name) < (int)sizeof(sub))
				ft_rmtree(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

/* The inode of our PID namespace: the library names its instance by it. */
FT_FN unsigned long long fake_pidns(void)
{
	struct stat st;

	return stat("/proc/self/ns/pid", &st) ? 0 : (unsigned long long)st.st_ino;
}

/* Copy the captured fixture if there is one; 1 if copied. */
FT_FN int ft_copy_fixture(const char *rel, const char *fmt, ...)
{
	const char *fix = getenv("KLPT_TEST_FIXTURES");
	char src[PATH_MAX], dst[PATH_MAX];
	static char buf[65536];
	va_list ap;
	ssize_t n;
	int fd, ret;

	if (!fix || snprintf(src, sizeof(src), "%s/formats/%s", fix, rel) >=
	    (int)sizeof(src))
		return 0;
	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return 0;
	va_start(ap, fmt);
	ret = ft_vpath(dst, sizeof(dst), fmt, ap);
	va_end(ap);
	if (ret || ft_write(buf, (size_t)n, "%s", dst))
		return -EIO;
	return 1;
}

/* ------------------------------------------------------ tracefs layout */

/* An instance's (or the top level's) event control files. */
FT_FN int ft_event_files(const char *base, const struct fake_format *f)
{
	if (ft_puts("0\n", "%s/events/%s/enable", base, f->sys) ||
	    ft_puts("none\n", "%s/events/%s/filter", base, f->sys) ||
	    ft_puts("0\n", "%s/events/%s/%s/enable", base, f->sys, f->name) ||
	    ft_puts("none\n", "%s/events/%s/%s/filter", base, f->sys,
		    f->name))
		return -EIO;
	return 0;
}

/* Control files and per-CPU pipes of an instance (or the top level). */
FT_FN int ft_instance_files(const char *base, int ncpus)
{
	int cpu;

	/* events/enable: every event of the instance at once */
	if (ft_puts("1\n", "%s/tracing_on", base) ||
	    ft_puts("0\n", "%s/events/enable", base) ||
	    ft_puts("1410\n", "%s/buffer_size_kb", base) ||
	    ft_puts("50\n", "%s/buffer_percent", base) ||
	    ft_puts("[local] global counter uptime perf mono mono_raw boot\n",
		    "%s/trace_clock", base) ||
	    ft_puts("", "%s/trace", base) ||
	    ft_puts("", "%s/trace_marker", base))
		return -EIO;
	for (cpu = 0; cpu < ncpus; cpu++)
		if (ft_puts("", "%s/per_cpu/cpu%d/trace_pipe_raw", base, cpu))
			return -EIO;
	return 0;
}

FT_FN int ft_format(struct fake_tracefs *ft, const struct fake_format *f)
{
	char rel[256], text[8192], path[1024];
	int ret, n;

	snprintf(rel, sizeof(rel), "events/%s/%s/format", f->sys, f->name);
	snprintf(path, sizeof(path), "%s/%s", ft->tracefs, rel);
	ret = ft_copy_fixture(rel, "%s", path);
	if (ret < 0)
		return ret;
	ft->fixtures += ret;
	if (!ret) {
		n = snprintf(text, sizeof(text), "name: %s\nID: %d\nformat:\n%s",
			     f->name, f->id, f->body);
		if (ft_write(text, (size_t)n, "%s", path))
			return -EIO;
	}
	/* Parse what is on disk, fixture or not: payloads follow it. */
	n = ft_read(text, sizeof(text), "%s", path);
	if (n < 0)
		return n;
	if (tep_parse_event(ft->tep, text, (unsigned long)n, f->sys))
		return -EBADMSG;
	return ft_puts("", "%s/events/%s/%s/id", ft->tracefs, f->sys, f->name);
}

/*
 * Build a fake tracefs with ncpus CPUs, with the klp events (klptrace.ko
 * loaded) or without, the session's instance made in advance, and an
 * empty fake root with /sys/kernel/livepatch.  0 or a negative errno.
 */
FT_FN int fake_tracefs_init(struct fake_tracefs *ft, int ncpus, int klp)
{
	char hp[4096];
	const char *tmp = getenv("TMPDIR");
	size_t i;
	int n;

	memset(ft, 0, sizeof(*ft));
	ft->ncpus = ncpus;
	ft->klp = klp;
	if (!tmp || !*tmp || strlen(tmp) > 256)
		tmp = "/tmp";
	snprintf(ft->dir, sizeof(ft->dir), "%s/klpt-fake.XXXXXX", tmp);
	if (!mkdtemp(ft->dir))
		return -errno;
	snprintf(ft->tracefs, sizeof(ft->tracefs), "%s/tracing", ft->dir);
	snprintf(ft->root, sizeof(ft->root), "%s/root", ft->dir);
	snprintf(ft->inst, sizeof(ft->inst), "%s/instances/klptrace-%llu-%d",
		 ft->tracefs, fake_pidns(), (int)getpid());

	ft->tep = tep_alloc();
	if (!ft->tep)
		return -ENOMEM;
	if (ft_copy_fixture("events/header_page", "%s/events/header_page",
			    ft->tracefs) != 1 &&
	    ft_puts(fake_header_page, "%s/events/header_page", ft->tracefs))
		return -EIO;
	if (ft_puts(fake_header_event, "%s/events/header_event", ft->tracefs))
		return -EIO;
	n = ft_read(hp, sizeof(hp), "%s/events/header_page", ft->tracefs);
	if (n < 0 || tep_parse_header_page(ft->tep, hp, (unsigned long)n,
					   sizeof(long)))
		return -EBADMSG;
	tep_set_long_size(ft->tep, sizeof(long));
	tep_set_page_size(ft->tep, FAKE_PAGE_SIZE);

	if (ft_instance_files(ft->tracefs, ncpus) ||
	    ft_instance_files(ft->inst, ncpus) ||
	    ft_mkdirs("%s/instances", ft->tracefs))
		return -EIO;
	for (i = 0; i < FAKE_NFORMATS; i++) {
		const struct fake_format *f = &fake_formats[i];

		if (!klp && !strcmp(f->sys, "klp"))
			continue;
		if (ft_format(ft, f) || ft_event_files(ft->tracefs, f) ||
		    ft_event_files(ft->inst, f))
			return -EIO;
	}
	if (ft_mkdirs("%s/sys/kernel/livepatch", ft->root) ||
	    ft_mkdirs("%s/sys/module", ft->root) ||
	    ft_mkdirs("%s/proc", ft->root) || ft_mkdirs("%s/run", ft->root))
		return -EIO;
	return 0;
}

FT_FN void fake_tracefs_cleanup(struct fake_tracefs *ft)
{
	if (ft->dir[0])
		ft_rmtree(ft->dir);
	tep_free(ft->tep);
	ft->tep = NULL;
	ft->dir[0] = '\0';
}

/* --------------------------------------------------------- ground truth */

/* /sys/devices/system/cpu/possible, as the kernel writes it ("0-3\n") */
FT_FN int fake_possible(struct fake_tracefs *ft, const char *list)
{
	char v[256];

	snprintf(v, sizeof(v), "%s\n", list);
	return ft_puts(v, "%s/sys/devices/system/cpu/possible", ft->root);
}

/* /sys/kernel/livepatch/<name>/{enabled,transition,force} */
FT_FN int fake_patch(struct fake_tracefs *ft, const char *name, int enabled,
		     int transition)
{
	char v[16];

	snprintf(v, sizeof(v), "%d\n", enabled);
	if (ft_puts(v, "%s/sys/kernel/livepatch/%s/enabled", ft->root, name))
		return -EIO;
	snprintf(v, sizeof(v), "%d\n", transition);
	if (ft_puts(v, "%s/sys/kernel/livepatch/%s/transition", ft->root,
		    name) ||
	    ft_puts("", "%s/sys/kernel/livepatch/%s/force", ft->root, name))
		return -EIO;
	return 0;
}

FT_FN void fake_patch_remove(struct fake_tracefs *ft, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/sys/kernel/livepatch/%s", ft->root,
		 name);
	ft_rmtree(path);
}

/*
 * /sys/module/<name>/{refcnt,initstate,taint}: a livepatch module is
 * tainted K (TAINT_LIVEPATCH), out-of-tree ones O.
 */
FT_FN int fake_module(struct fake_tracefs *ft, const char *name, int refcnt,
		      bool livepatch)
{
	char v[16];

	snprintf(v, sizeof(v), "%d\n", refcnt);
	if (ft_puts(v, "%s/sys/module/%s/refcnt", ft->root, name) ||
	    ft_puts("live\n", "%s/sys/module/%s/initstate", ft->root, name) ||
	    ft_puts(livepatch ? "OK\n" : "O\n", "%s/sys/module/%s/taint",
		    ft->root, name))
		return -EIO;
	return 0;
}

FT_FN void fake_module_remove(struct fake_tracefs *ft, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/sys/module/%s", ft->root, name);
	ft_rmtree(path);
}

/*
 * klptrace.ko's report as the module writes it: <root>/sys/kernel/
 * klptrace/hooks with two kprobes, "active" or "inactive(<off>)", and
 * the ftrace_enabled symbol line (left out if !ftrace_sym: an older
 * module, or the symbol not found); <root>/sys/kernel/klptrace/missed
 * with the two kprobes' counts.  switches >= 0: also the
 * ftrace_enable_sysctl kretprobe (active whatever ftrace does: it is no
 * ftrace callback) and ftrace_switches.
 */
FT_FN int fake_klptrace(struct fake_tracefs *ft, const char *off,
			bool ftrace_sym, unsigned long missed0,
			unsigned long missed1, long switches)
{
	char st[48], buf[1024], w[128] = "";

	if (off)
		snprintf(st, sizeof(st), "inactive(%s)", off);
	else
		snprintf(st, sizeof(st), "active     ");
	if (switches >= 0)
		snprintf(w, sizeof(w), "%-28s %-10s %s %s\n",
			 "ftrace_enable_sysctl", "kretprobe", "active     ",
			 "ftrace_switches");
	snprintf(buf, sizeof(buf),
		 "%-28s %-10s %s %s\n%-28s %-10s %s %s\n%s%s",
		 "klp_try_switch_task", "kretprobe", st, "klp_task_blocked",
		 "klp_update_patch_state", "kprobe", st, "klp_task_switch", w,
		 ftrace_sym ? "ftrace_enabled               symbol     active"
			      "      inactive(ftrace_off) state of the hooks\n"
			    : "");
	if (ft_puts(buf, "%s/sys/kernel/klptrace/hooks", ft->root))
		return -EIO;
	snprintf(buf, sizeof(buf), "%-28s %lu\n%-28s %lu\n",
		 "klp_try_switch_task", missed0, "klp_update_patch_state",
		 missed1);
	if (ft_puts(buf, "%s/sys/kernel/klptrace/missed", ft->root))
		return -EIO;
	if (switches >= 0) {
		snprintf(buf, sizeof(buf), "%ld\n", switches);
		if (ft_puts(buf, "%s/sys/kernel/klptrace/ftrace_switches",
			    ft->root))
			return -EIO;
	}
	return 0;
}

/* <root>/proc/sys/kernel/ftrace_enabled (sysctl kernel.ftrace_enabled) */
FT_FN int fake_ftrace_sysctl(struct fake_tracefs *ft, int on)
{
	return ft_puts(on ? "1\n" : "0\n", "%s/proc/sys/kernel/ftrace_enabled",
		       ft->root) ? -EIO : 0;
}

/*
 * /proc/<tgid>/task/<tid>/{patch_state,comm,stat,status} as the kernel
 * writes them (stat's 9th field is the task's flags: PF_KTHREAD is
 * 0x00200000); the thread group leader also gets /proc/<tgid>/{comm,stat}.
 */
FT_FN int fake_task(struct fake_tracefs *ft, int tgid, int tid,
		    const char *comm, int state, bool kthread)
{
	char stat[512], v[64], status[256];
	unsigned int flags = kthread ? 0x00208040u : 0x00400100u;

	snprintf(stat, sizeof(stat),
		 "%d (%s) S %d %d 0 0 -1 %u 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0 "
		 "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 0 "
		 "0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		 tid, comm, kthread ? 2 : 1, kthread ? 0 : tgid, flags);
	snprintf(status, sizeof(status),
		 "Name:\t%s\nState:\tS (sleeping)\nTgid:\t%d\nPid:\t%d\n",
		 comm, tgid, tid);
	snprintf(v, sizeof(v), "%d\n", state);
	if (ft_puts(v, "%s/proc/%d/task/%d/patch_state", ft->root, tgid, tid) ||
	    ft_puts(stat, "%s/proc/%d/task/%d/stat", ft->root, tgid, tid) ||
	    ft_puts(status, "%s/proc/%d/task/%d/status", ft->root, tgid, tid))
		return -EIO;
	snprintf(v, sizeof(v), "%s\n", comm);
	if (ft_puts(v, "%s/proc/%d/task/%d/comm", ft->root, tgid, tid))
		return -EIO;
	if (tgid == tid &&
	    (ft_puts(v, "%s/proc/%d/comm", ft->root, tgid) ||
	     ft_puts(stat, "%s/proc/%d/stat", ft->root, tgid) ||
	     ft_puts(status, "%s/proc/%d/status", ft->root, tgid)))
		return -EIO;
	snprintf(v, sizeof(v), "%d\n", state);
	if (tgid == tid &&
	    ft_puts(v, "%s/proc/%d/patch_state", ft->root, tgid))
		return -EIO;
	return 0;
}

FT_FN int fake_task_state(struct fake_tracefs *ft, int tgid, int tid,
			  int state)
{
	char v[16];

	snprintf(v, sizeof(v), "%d\n", state);
	if (ft_puts(v, "%s/proc/%d/task/%d/patch_state", ft->root, tgid, tid))
		return -EIO;
	if (tgid == tid &&
	    ft_puts(v, "%s/proc/%d/patch_state", ft->root, tgid))
		return -EIO;
	return 0;
}

/* ---------------------------------------------------- pages and events */

/* A field value for FAKE_EVENT: a number or a string, by name. */
struct fake_value {
	const char *name;
	long long num;
	const char *str;
};

static inline struct fake_value fake_num(const char *name, long long v)
{
	return (struct fake_value){ .name = name, .num = v };
}

static inline struct fake_value fake_str(const char *name, const char *s)
{
	return (struct fake_value){ .name = name, .str = s };
}

#define FV(name, v)							\
	_Generic((v), char *: fake_str, const char *: fake_str,		\
		 default: fake_num)(name, v)

FT_FN void fake_page_init(struct fake_page *pg)
{
	memset(pg, 0, sizeof(*pg));
}

static inline void ft_put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/*
 * Append a raw event of len payload bytes with timestamp ts, the way the
 * kernel's ring buffer lays it out (x86_64: 4-byte alignment, a time
 * extend when the delta does not fit 27 bits).  -ENOSPC if the page is
 * full, -EINVAL if ts goes backwards.
 */
FT_FN int fake_page_add_raw(struct fake_page *pg, uint64_t ts,
			    const void *payload, size_t len)
{
	size_t alen = (len + 3) & ~(size_t)3, need;
	unsigned char *p;
	uint64_t delta;

	if (!pg->started) {
		memcpy(pg->buf, &ts, 8);
		pg->last_ts = ts;
		pg->started = true;
	}
	if (ts < pg->last_ts)
		return -EINVAL;
	delta = ts - pg->last_ts;
	need = (delta >> 27 ? 8 : 0) + 4 + (alen > 112 ? 4 : 0) + alen;
	if (pg->used + need > FAKE_PAGE_DATA)
		return -ENOSPC;
	p = pg->buf + 16 + pg->used;
	if (delta >> 27) {	/* type_len 30: time extend */
		ft_put32(p, 30u | (uint32_t)((delta & ((1u << 27) - 1)) << 5));
		ft_put32(p + 4, (uint32_t)(delta >> 27));
		p += 8;
		delta = 0;
	}
	if (alen > 112) {	/* type_len 0: the length follows */
		ft_put32(p, (uint32_t)(delta << 5));
		ft_put32(p + 4, (uint32_t)alen + 4);
		p += 8;
	} else {
		ft_put32(p, (uint32_t)(alen / 4) | (uint32_t)(delta << 5));
		p += 4;
	}
	memset(p, 0, alen);
	memcpy(p, payload, len);
	pg->used += need;
	pg->last_ts = ts;
	return 0;
}

/*
 * Mark the page as following dropped events: count > 0 is stored after
 * the data (RB_MISSED_STORED), 0 means "some, count unknown".
 */
FT_FN void fake_page_missed(struct fake_page *pg, uint64_t count)
{
	pg->missed = true;
	pg->missed_count = count;
}

/* Build sys:name's payload from values by field name and add it. */
FT_FN int fake_event_v(struct fake_tracefs *ft, struct fake_page *pg,
		       uint64_t ts, const char *sys, const char *name,
		       const struct fake_value *vals, size_t nvals)
{
	struct tep_event *ev = tep_find_event_by_name(ft->tep, sys, name);
	unsigned char data[1024];
	struct tep_format_field *f;
	size_t fixed = 8, dyn, i;

	if (!ev)
		return -ENOENT;
	for (f = ev->format.fields; f; f = f->next)
		if ((size_t)(f->offset + f->size) > fixed)
			fixed = (size_t)(f->offset + f->size);
	memset(data, 0, sizeof(data));
	data[0] = (unsigned char)(ev->id & 0xff);
	data[1] = (unsigned char)(ev->id >> 8);
	dyn = fixed;
	/* Every dynamic string gets at least "" (the kernel always has one). */
	for (f = ev->format.fields; f; f = f->next) {
		const char *s = "";
		long long v = 0;

		for (i = 0; i < nvals; i++) {
			if (strcmp(vals[i].name, f->name))
				continue;
			s = vals[i].str ? vals[i].str : "";
			v = vals[i].num;
		}
		if (f->flags & TEP_FIELD_IS_DYNAMIC) {
			size_t l = strlen(s) + 1;
			uint32_t loc = (uint32_t)(l << 16 | dyn);

			if (dyn + l > sizeof(data))
				return -E2BIG;
			memcpy(data + dyn, s, l);
			memcpy(data + f->offset, &loc, 4);
			dyn += l;
		} else if (f->flags & TEP_FIELD_IS_ARRAY) {
			strncpy((char *)data + f->offset, s, (size_t)f->size);
		} else {
			memcpy(data + f->offset, &v, (size_t)f->size);
		}
	}
	for (i = 0; i < nvals; i++)
		if (!tep_find_field(ev, vals[i].name) &&
		    strcmp(vals[i].name, "common_pid"))
			return -EINVAL;	/* a typo in a test */
	for (i = 0; i < nvals; i++)
		if (!strcmp(vals[i].name, "common_pid"))
			memcpy(data + 4, &(int){ (int)vals[i].num }, 4);
	return fake_page_add_raw(pg, ts, data, dyn);
}

#define FAKE_EVENT(ft, pg, ts, sys, name, ...)				\
	fake_event_v(ft, pg, ts, sys, name,				\
		     (const struct fake_value[]){ __VA_ARGS__ },	\
		     sizeof((const struct fake_value[]){ __VA_ARGS__ }) / \
		     sizeof(struct fake_value))

/* An event without field values (all zero, strings ""). */
#define FAKE_EVENT0(ft, pg, ts, sys, name)				\
	fake_event_v(ft, pg, ts, sys, name, NULL, 0)

/*
 * Append the page to cpu's trace_pipe_raw of the session's instance, as
 * a full sub-buffer the way a read of trace_pipe_raw returns it, and
 * start a new page in pg.
 */
FT_FN int fake_page_write(struct fake_tracefs *ft, int cpu,
			  struct fake_page *pg)
{
	char path[PATH_MAX];
	uint64_t commit = pg->used;
	int fd, ret = 0;

	/* RB_MISSED_EVENTS, and RB_MISSED_STORED with the count after data */
	if (pg->missed)
		commit |= 1u << 31;
	if (pg->missed && pg->missed_count &&
	    pg->used + 8 <= FAKE_PAGE_DATA) {
		memcpy(pg->buf + 16 + pg->used, &pg->missed_count, 8);
		commit |= 1u << 30;
	}
	memcpy(pg->buf + 8, &commit, 8);
	snprintf(path, sizeof(path), "%s/per_cpu/cpu%d/trace_pipe_raw",
		 ft->inst, cpu);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, pg->buf, sizeof(pg->buf)) != (ssize_t)sizeof(pg->buf))
		ret = -EIO;
	close(fd);
	fake_page_init(pg);
	return ret;
}

/*
 * Empty the instance's per-CPU pipes: what the kernel's do once read.
 * Plain files keep their pages, and a new session reads from the start.
 */
FT_FN int fake_pipes_clear(struct fake_tracefs *ft)
{
	int cpu;

	for (cpu = 0; cpu < ft->ncpus; cpu++)
		if (ft_puts("", "%s/per_cpu/cpu%d/trace_pipe_raw", ft->inst,
			    cpu))
			return -EIO;
	return 0;
}

/* CLOCK_MONOTONIC now: the "mono" trace clock a live session uses. */
FT_FN uint64_t fake_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

#endif /* KLPT_FAKE_TRACEFS_H */
