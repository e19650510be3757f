// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fakesys: run klptop on a fake system (lib/tests/fake_tracefs.h), for
 * the decisions of the scripted flow that need no kernel.
 *
 *   fakesys DIRFILE SPEC... -- PROG ARGS...
 *
 * SPEC is one of
 *   patch:NAME:ENABLED:TRANSITION   /sys/kernel/livepatch/NAME
 *   module:NAME:REFCNT:LP           /sys/module/NAME (LP 1: tainted K)
 *   holder:NAME:HOLDER              /sys/module/NAME/holders/HOLDER
 *   initstate:NAME:STATE            /sys/module/NAME/initstate
 *   task:TID:STATE:KTHREAD[:COMM]   /proc/TID (a thread group leader,
 *                                   comm COMM or tTID, patch_state STATE)
 *   func:PATCH:OBJECT:DIR:PATCHED   /sys/kernel/livepatch/PATCH/OBJECT/DIR
 *                                   (DIR "function,sympos") and the
 *                                   object's patched file
 *   possible:LIST                   /sys/devices/system/cpu/possible
 *                                   ("0-1": the idle tasks' CPUs)
 *   file:REL:TEXT                   <root>/REL holding TEXT and a newline
 *   copy:REL:HOSTPATH               <root>/REL, a copy of HOSTPATH
 *   blocked:TID:PATCH:TARGET        a klp_task_blocked of TID (comm
 *                                   tTID, running) in cpu0's buffer,
 *                                   dated 1 s after the spec is made:
 *                                   after a session's start-up snapshot
 *
 * PROG runs with --root and --tracefs of the fake tree appended.  The
 * fake tracefs carries the instance the library expects for its own pid
 * (klptrace-<pidns>-<pid>: a plain directory has no kernel to fill it on mkdir),
 * so the child makes the tree and then execs PROG, which keeps the pid.
 * The tree's directory is written to DIRFILE first (a test changes the
 * fake truth there while PROG runs); fakesys removes it when PROG ends
 * and exits with PROG's status (128+N if killed by signal N).
 */
#include <sys/wait.h>

#include "fake_tracefs.h"

static int spec(struct fake_tracefs *ft, char *arg)
{
	char *kind = strtok(arg, ":"), *name = strtok(NULL, ":");
	char *a = strtok(NULL, ":"), *b = strtok(NULL, ":");
	char *c = strtok(NULL, ":");

	if (kind && name && !strcmp(kind, "possible"))
		return fake_possible(ft, name);
	if (!kind || !name || !a)
		return -EINVAL;
	if (!strcmp(kind, "patch") && b)
		return fake_patch(ft, name, atoi(a), atoi(b));
	if (!strcmp(kind, "module") && b)
		return fake_module(ft, name, atoi(a), atoi(b));
	if (!strcmp(kind, "initstate")) {
		char v[32];

		snprintf(v, sizeof(v), "%s\n", a);	/* as the kernel shows */
		return ft_write(v, strlen(v), "%s/sys/module/%s/initstate",
				ft->root, name);
	}
	if (!strcmp(kind, "task") && b) {
		char comm[32];

		/* any bytes but ':' and NUL, as prctl(PR_SET_NAME) takes */
		if (c)
			snprintf(comm, sizeof(comm), "%.15s", c);
		else
			snprintf(comm, sizeof(comm), "t%s", name);
		return fake_task(ft, atoi(name), atoi(name), comm, atoi(a),
				 atoi(b));
	}
	if (!strcmp(kind, "blocked") && b) {
		struct fake_page pg;
		char comm[32];

		snprintf(comm, sizeof(comm), "t%s", name);
		fake_page_init(&pg);
		if (FAKE_EVENT(ft, &pg, fake_now() + 1000000000ull, "klp",
			       "klp_task_blocked", FV("pid", atoi(name)),
			       FV("tgid", atoi(name)), FV("comm", comm),
			       FV("patch", a), FV("target", atoi(b)),
			       FV("reason", 1), FV("err", -16)))
			return -EINVAL;
		return fake_page_write(ft, 0, &pg);
	}
	if (!strcmp(kind, "func") && b && c) {
		char v[4];

		snprintf(v, sizeof(v), "%d\n", atoi(c));
		if (ft_mkdirs("%s/sys/kernel/livepatch/%s/%s/%s", ft->root,
			      name, a, b))
			return -EIO;
		return ft_write(v, strlen(v), "%s/sys/kernel/livepatch/%s/%s/patched",
				ft->root, name, a);
	}
	if (!strcmp(kind, "file")) {
		char v[256];

		snprintf(v, sizeof(v), "%s\n", a);
		return ft_write(v, strlen(v), "%s/%s", ft->root, name);
	}
	if (!strcmp(kind, "copy")) {
		char buf[1 << 16];
		FILE *f = fopen(a, "rb");
		size_t n;

		if (!f)
			return -errno;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		return ft_write(buf, n, "%s/%s", ft->root, name);
	}
	if (!strcmp(kind, "holder"))
		return ft_mkdirs("%s/sys/module/%s/holders/%s", ft->root,
				 name, a);
	return -EINVAL;
}

static void child(const char *dirfile, int nspecs, char **specs,
		  char **argv)
{
	static char *args[256];
	struct fake_tracefs ft;
	int i, n = 0;
	FILE *f;

	if (fake_tracefs_init(&ft, 1, FAKE_KLP)) {
		fprintf(stderr, "fakesys: fake_tracefs_init failed\n");
		_exit(99);
	}
	f = fopen(dirfile, "w");
	if (!f || fprintf(f, "%s\n", ft.dir) < 0 || fclose(f)) {
		fprintf(stderr, "fakesys: cannot write %s\n", dirfile);
		_exit(99);
	}
	for (i = 0; i < nspecs; i++)
		if (spec(&ft, specs[i])) {
			fprintf(stderr, "fakesys: bad spec %s\n", specs[i]);
			_exit(99);
		}
	while (*argv && n < 250)
		args[n++] = *argv++;
	args[n++] = "--root";
	args[n++] = ft.root;
	args[n++] = "--tracefs";
	args[n++] = ft.tracefs;
	args[n] = NULL;
	execvp(args[0], args);
	fprintf(stderr, "fakesys: exec %s: %s\n", args[0], strerror(errno));
	_exit(99);
}

int main(int argc, char **argv)
{
	char dir[PATH_MAX];
	int i, status;
	FILE *f;
	pid_t pid;

	for (i = 2; i < argc && strcmp(argv[i], "--"); i++)
		;
	if (argc < 2 || i + 1 >= argc) {
		fprintf(stderr, "usage: fakesys DIRFILE SPEC... -- PROG "
			"ARGS...\n");
		return 99;
	}
	pid = fork();
	if (pid < 0)
		return 99;
	if (!pid)
		child(argv[1], i - 2, argv + 2, argv + i + 1);
	if (waitpid(pid, &status, 0) != pid)
		return 99;
	f = fopen(argv[1], "r");
	if (f) {
		if (fgets(dir, sizeof(dir), f) && dir[0] == '/') {
			dir[strcspn(dir, "\n")] = '\0';
			ft_rmtree(dir);
		}
		fclose(f);
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
