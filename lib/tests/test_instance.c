// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * instance.c's ownership rules without a kernel: a plain directory as
 * tracefs' instances/, and two roots as the /run of two containers that
 * share the one (global) tracefs.  An owner of another PID namespace is
 * made by hand (its name, its lock file) and records its instance with
 * the library's own klpt_inst_created().
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fake_tracefs.h"
#include "internal.h"

static char dir[256], tracing[300], root_c[300], root_d[300];

/*
 * Review item 2's race, made certain: when the library locks the file
 * now at <root_c>/run/klptrace/<swap_name>, that file is first unlinked
 * and a new one (same contents) put at the name, as a remover R1 and a
 * new owner N do between another remover's open and its lock.  Both lock
 * calls are caught: fcntl (this library) and flock (klptrace before it).
 */
static char swap_name[64];
static ino_t swap_ino, swapped_to;

static void swap_hook(int fd)
{
	char path[PATH_MAX], buf[128];
	struct stat st;
	ssize_t n;
	int nfd;

	if (!swap_name[0] || fstat(fd, &st) || st.st_ino != swap_ino)
		return;
	snprintf(path, sizeof(path), "%s/run/klptrace/%s", root_c, swap_name);
	swap_name[0] = '\0';
	n = pread(fd, buf, sizeof(buf), 0);
	if (unlink(path))
		return;
	nfd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (nfd < 0)
		return;
	if (n > 0 && write(nfd, buf, (size_t)n) != n)
		n = -1;
	if (!fstat(nfd, &st))
		swapped_to = st.st_ino;
	close(nfd);
}

int flock(int fd, int op)
{
	swap_hook(fd);
	return (int)syscall(SYS_flock, fd, op);
}

int fcntl(int fd, int cmd, ...)
{
	unsigned long arg;
	va_list ap;

	va_start(ap, cmd);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	if (cmd == F_SETLK || cmd == F_SETLKW)
		swap_hook(fd);
	return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

static int setup(void)
{
	const char *tmp = getenv("TMPDIR");

	if (!tmp || !*tmp || strlen(tmp) > 200)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/klpt-inst.XXXXXX", tmp);
	if (!mkdtemp(dir))
		return -errno;
	snprintf(tracing, sizeof(tracing), "%s/tracing", dir);
	snprintf(root_c, sizeof(root_c), "%s/c", dir);
	snprintf(root_d, sizeof(root_d), "%s/d", dir);
	if (ft_mkdirs("%s/instances", tracing) ||
	    ft_mkdirs("%s/run", root_c) || ft_mkdirs("%s/run", root_d))
		return -EIO;
	return 0;
}

/* <root>/run/klptrace/<name>: a lock file. */
static int open_lock(const char *root, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/run/klptrace/%s", root, name);
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

static int stat_lock(const char *root, const char *name, struct stat *st)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/run/klptrace/%s", root, name);
	return lstat(path, st);
}

static bool has_inst(const char *name)
{
	return ft_exists("%s/instances/%s", tracing, name);
}

/* klptrace-<ns>-1: pid 1 of PID namespace ns. */
static void name_of(char *buf, size_t size, unsigned long long ns)
{
	snprintf(buf, size, "klptrace-%llu-1", ns);
}

/*
 * The owner of name in root's /run: its lock file, the identity of the
 * instance directory there now recorded by the library, and no lock
 * held (it was SIGKILLed).  0 or -1.
 */
static int dead_owner(const char *root, const char *name)
{
	struct klpt_inst_owner o = { .lockfd = -1 };
	char path[PATH_MAX];

	snprintf(o.name, sizeof(o.name), "%s", name);
	snprintf(path, sizeof(path), "%s/run/klptrace", root);
	if (mkdir(path, 0700) && errno != EEXIST)
		return -1;
	o.dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o.dirfd >= 0)
		o.lockfd = openat(o.dirfd, name,
				  O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (o.lockfd >= 0)
		klpt_inst_created(tracing, &o);
	if (o.lockfd >= 0)
		close(o.lockfd);
	if (o.dirfd >= 0)
		close(o.dirfd);
	return o.lockfd >= 0 ? 0 : -1;
}

/* Replace instance name by a new directory (another inode). */
static int remake(const char *name)
{
	char a[PATH_MAX], b[PATH_MAX];

	snprintf(a, sizeof(a), "%s/instances/new", tracing);
	snprintf(b, sizeof(b), "%s/instances/%s", tracing, name);
	return mkdir(a, 0755) || rmdir(b) || rename(a, b) ? -1 : 0;
}

/* Run the removal as a session of root's /run does at open. */
static void remove_stale(const char *root)
{
	struct klpt_inst_owner me;

	if (!klpt_inst_claim(root, &me))
		klpt_inst_remove_stale(tracing, &me);
	klpt_inst_release(&me, false);
}

/*
 * Review item 1: container C (PID namespace I, /run of its own) dies
 * with SIGKILL, its lock file stays in C's /run; C's instance is gone;
 * D (/run of its own) got the inode number I and made its instance of
 * the same name klptrace-I-1.  C's next session must not take C's free
 * lock file as proof that D's live instance is stale.  Before: removed.
 * Still removed: an instance whose free lock records that very
 * directory.  Kept: a free lock file that records nothing (the owner
 * died before its instance existed) of another namespace.
 */
static void test_foreign_run_reuse(void)
{
	unsigned long long ns = fake_pidns();
	char reused[64], dead[64], blank[64];
	int fd;

	CHECK(ns > 0, "no /proc/self/ns/pid");
	CHECK_INT(setup(), 0);
	name_of(reused, sizeof(reused), ns + 7);
	name_of(dead, sizeof(dead), ns + 8);
	name_of(blank, sizeof(blank), ns + 9);
	CHECK_INT(ft_mkdirs("%s/instances/%s", tracing, reused), 0);
	CHECK_INT(dead_owner(root_c, reused), 0);
	CHECK_INT(remake(reused), 0);		/* D's, now */
	CHECK_INT(dead_owner(root_d, reused), 0);
	CHECK_INT(ft_mkdirs("%s/instances/%s", tracing, dead), 0);
	CHECK_INT(dead_owner(root_c, dead), 0);
	CHECK_INT(ft_mkdirs("%s/instances/%s", tracing, blank), 0);
	fd = open_lock(root_c, blank);
	CHECK(fd >= 0, "lock file: %s", strerror(errno));
	if (fd >= 0)
		close(fd);

	remove_stale(root_c);
	CHECK(has_inst(reused), "C removed D's instance by C's stale lock");
	CHECK(!has_inst(dead), "an instance whose free lock records it "
	      "is still there");
	CHECK(!ft_exists("%s/run/klptrace/%s", root_c, dead),
	      "its lock file is still there");
	CHECK(has_inst(blank), "a free lock recording no instance, of "
	      "another namespace: removed");
	ft_rmtree(dir);
}

/*
 * Review item 2: the lock file a remover opened is unlinked and another
 * put at its name before the remover's lock (R1 removed and unlinked,
 * N made a new one).  The lock then proves nothing about the name: the
 * instance stays and the new file too.  Before: the instance was removed
 * and the new file unlinked.
 */
static void test_lock_file_swapped(void)
{
	unsigned long long ns = fake_pidns();
	char name[64];
	struct stat st;

	CHECK_INT(setup(), 0);
	name_of(name, sizeof(name), ns + 7);
	CHECK_INT(ft_mkdirs("%s/instances/%s", tracing, name), 0);
	CHECK_INT(dead_owner(root_c, name), 0);
	CHECK(!stat_lock(root_c, name, &st), "stat");
	snprintf(swap_name, sizeof(swap_name), "%s", name);
	swap_ino = st.st_ino;
	swapped_to = 0;

	remove_stale(root_c);
	CHECK(swapped_to != 0, "the lock file was not swapped (no lock?)");
	CHECK(has_inst(name), "removed by a lock on an unlinked file");
	CHECK(!stat_lock(root_c, name, &st) &&
	      st.st_ino == swapped_to, "the new lock file was unlinked");
	swap_name[0] = '\0';
	ft_rmtree(dir);
}

/* Wait until fd has a byte, or the child died. */
static bool child_ready(int fd)
{
	char c;

	return read(fd, &c, 1) == 1;
}

/*
 * Review item 3: an owner forks a child that does not exec (the
 * library's replay probe, an application's worker) and is SIGKILLed;
 * the child lives on.  The owner's lock must be free: the next session
 * removes the instance.  Before (flock, inherited by fork): kept as
 * long as the child lived.
 */
static void test_fork_child_no_lock(void)
{
	char name[64];
	pid_t owner, child = 0;
	int p[2], status;

	CHECK_INT(setup(), 0);
	CHECK_INT(pipe(p), 0);
	fflush(NULL);
	owner = fork();
	if (owner == 0) {
		struct klpt_inst_owner o;
		char c = 'k';
		pid_t g;

		close(p[0]);
		if (klpt_inst_claim(root_c, &o) || o.lockfd < 0 ||
		    ft_mkdirs("%s/instances/%s", tracing, o.name))
			_exit(1);
		klpt_inst_created(tracing, &o);
		g = fork();
		if (g == 0) {
			for (;;)
				pause();
		}
		if (g < 0 || write(p[1], &g, sizeof(g)) != sizeof(g) ||
		    write(p[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	CHECK(owner > 0, "fork");
	if (owner > 0 && read(p[0], &child, sizeof(child)) == sizeof(child) &&
	    child_ready(p[0])) {
		snprintf(name, sizeof(name), "klptrace-%llu-%d", fake_pidns(),
			 (int)owner);
		kill(owner, SIGKILL);
		waitpid(owner, &status, 0);
		CHECK(has_inst(name), "the owner's instance went with it");
		CHECK(kill(child, 0) == 0, "the owner's child died");
		remove_stale(root_c);
		CHECK(!has_inst(name), "the owner is dead, its child holds "
		      "its lock: the instance is still there");
	} else {
		CHECK(0, "the owner did not start");
	}
	close(p[0]);
	if (child > 0) {
		kill(child, SIGKILL);
		/* not ours to reap: init's once its parent died */
	}
	if (owner > 0)
		waitpid(owner, &status, WNOHANG);
	ft_rmtree(dir);
}

int main(void)
{
	RUN(test_foreign_run_reuse);
	RUN(test_lock_file_swapped);
	RUN(test_fork_child_no_lock);
	return check_summary();
}
