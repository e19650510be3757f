// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * instance.c: who owns a tracefs instance "klptrace-...", and which ones
 * may be removed.
 *
 * Tracefs instances are global: every PID and mount namespace of the
 * kernel sees the same instances/ directory.  A name made of the pid
 * alone ("klptrace-<pid>", klptrace 0.1) collides for two sessions that
 * are pid 1 in two containers, and kill(pid, 0) says nothing about a
 * process of another PID namespace.  So:
 *
 * - The name is "klptrace-<pidns>-<pid>": the inode number of our PID
 *   namespace (/proc/self/ns/pid, unique among live namespaces) and our
 *   pid in it.  No two live processes have the same pair; a process that
 *   finds its own name taken knows the previous owner is dead.  Without
 *   /proc the namespace part is a random number >= 2^63, which no inode
 *   number of a namespace (32 bits) can be.
 *
 * - The owner holds an exclusive flock(2) on <root>/run/klptrace/<name>
 *   from before it creates the instance until after it removed it.  The
 *   kernel drops the lock when the owner dies, however it dies; a lock
 *   that can be taken proves the owner gone, in any namespace that sees
 *   the same file.  /run is root's (a tmpfs on Debian, cleared at boot
 *   like tracefs), and the directory is used only if it is ours and
 *   writable by nobody else; never /tmp, where anyone could plant or
 *   hold files.
 *
 * Removal (at every live open), for names of this pattern only:
 * - with a lock file: removed if its lock can be taken, else kept;
 * - without one (no /run/klptrace, another mount namespace's /run): our
 *   PID namespace and kill() says ESRCH: removed; anything else: kept;
 * - "klptrace-<pid>" of klptrace 0.1 (which had no lock): the old rule,
 *   no such process here, only for an instance older than
 *   KLPT_LEGACY_AGE_S: a live 0.1 session of another namespace holds its
 *   pipes open from its first second on.
 * In every case the kernel refuses to remove an instance whose files are
 * open (EBUSY), and a live session keeps its per-CPU pipes open: the
 * backstop if all the above were wrong.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define PREFIX "klptrace-"
#define PREFIX_LEN (sizeof(PREFIX) - 1)

/* How old a klptrace 0.1 instance must be to be judged by its pid. */
#define KLPT_LEGACY_AGE_S 60

/* Our PID namespace's inode number, or a random one >= 2^63. */
static unsigned long long pidns_id(bool *known)
{
	unsigned long long r = 0;
	struct stat st;

	*known = !stat("/proc/self/ns/pid", &st);
	if (*known)
		return (unsigned long long)st.st_ino;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (unsigned long long)time(NULL) ^
		    ((unsigned long long)getpid() << 32);
	return r | (1ull << 63);
}

/*
 * <root>/run/klptrace, made if need be (not /run itself): a directory
 * owned by our euid that nobody else may write, opened without following
 * a link.  -1 if there is none such.
 */
static int lock_dir(const char *root)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	if (snprintf(path, sizeof(path), "%s/run/klptrace", root) >=
	    (int)sizeof(path))
		return -1;
	if (mkdir(path, 0700) && errno != EEXIST)
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Take the lock on <dir>/<name>.  A remover may unlink the file between
 * our open and our flock (it took the lock of a dead owner of the same
 * name first): then the lock we got is on a file nobody sees, and we
 * try again.  -1 if no lock.
 */
static int take_lock(int dirfd, const char *name)
{
	struct stat a, b;
	int i, fd;

	for (i = 0; i < 3; i++) {
		fd = openat(dirfd, name,
			    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			/* a child of a dead owner of our name holds it */
			close(fd);
			return -1;
		}
		if (!fstat(fd, &a) && S_ISREG(a.st_mode) &&
		    !fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
	return -1;
}

void klpt_inst_claim(const char *root, struct klpt_inst_owner *o)
{
	bool known;

	o->ns = pidns_id(&known);
	o->ns_known = known;
	snprintf(o->name, sizeof(o->name), PREFIX "%llu-%d", o->ns,
		 (int)getpid());
	o->lockfd = -1;
	o->dirfd = lock_dir(root ? root : "");
	if (o->dirfd >= 0)
		o->lockfd = take_lock(o->dirfd, o->name);
}

void klpt_inst_release(struct klpt_inst_owner *o, bool removed)
{
	/*
	 * An instance left behind keeps its lock file: once we are gone its
	 * lock can be taken, and that proves it stale to the next session.
	 */
	if (removed && o->lockfd >= 0)
		unlinkat(o->dirfd, o->name, 0);
	if (o->lockfd >= 0)
		close(o->lockfd);
	if (o->dirfd >= 0)
		close(o->dirfd);
	o->lockfd = o->dirfd = -1;
}

/* A decimal of digits only, ending at end ('\0' or '-'); false if not. */
static bool parse_num(const char *s, char end, unsigned long long max,
		      unsigned long long *v, const char **after)
{
	unsigned long long n = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (max - (unsigned long long)(*p - '0')) / 10)
			return false;
		n = n * 10 + (unsigned long long)(*p - '0');
	}
	if (p == s || *p != end)
		return false;
	*v = n;
	*after = p;
	return true;
}

/* kill(pid, 0) says that no process has this pid in our namespace. */
static bool no_such_pid(unsigned long long pid)
{
	return pid > 0 && kill((pid_t)pid, 0) && errno == ESRCH;
}

enum stale { KEEP, REMOVE, REMOVE_LOCKED };

/*
 * The verdict on instance name, of the pattern "klptrace-<ns>-<pid>" or
 * "klptrace-<pid>".  REMOVE_LOCKED: the lock of its dead owner is held
 * in *lockfd, to be unlinked after the instance.
 */
static enum stale judge(const struct klpt_inst_owner *o, int insts,
			const char *name, int *lockfd)
{
	unsigned long long ns, pid;
	const char *p;
	struct stat st;
	int fd;

	*lockfd = -1;
	if (!strcmp(name, o->name))
		return KEEP;
	if (parse_num(name + PREFIX_LEN, '\0', INT_MAX, &pid, &p)) {
		/* klptrace 0.1's name */
		if (fstatat(insts, name, &st, AT_SYMLINK_NOFOLLOW) ||
		    time(NULL) - st.st_mtime < KLPT_LEGACY_AGE_S)
			return KEEP;
		return no_such_pid(pid) ? REMOVE : KEEP;
	}
	if (!parse_num(name + PREFIX_LEN, '-', ULLONG_MAX, &ns, &p) ||
	    !parse_num(p + 1, '\0', INT_MAX, &pid, &p))
		return KEEP;
	if (o->dirfd >= 0) {
		fd = openat(o->dirfd, name,
			    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			if (!fstat(fd, &st) && S_ISREG(st.st_mode) &&
			    !flock(fd, LOCK_EX | LOCK_NB)) {
				*lockfd = fd;
				return REMOVE_LOCKED;
			}
			close(fd);
			return KEEP;
		}
		if (errno != ENOENT)
			return KEEP;
	}
	return o->ns_known && ns == o->ns && no_such_pid(pid) ? REMOVE : KEEP;
}

void klpt_inst_remove_stale(const char *tracing_dir,
			    const struct klpt_inst_owner *o)
{
	char path[PATH_MAX];
	struct dirent *de;
	int insts, lockfd;
	DIR *d;

	if (snprintf(path, sizeof(path), "%s/instances", tracing_dir) >=
	    (int)sizeof(path))
		return;
	d = opendir(path);
	if (!d)
		return;
	insts = dirfd(d);
	/* Best effort: a leftover costs memory, a wrong removal a session. */
	while ((de = readdir(d))) {
		enum stale v;

		if (strncmp(de->d_name, PREFIX, PREFIX_LEN))
			continue;
		v = judge(o, insts, de->d_name, &lockfd);
		if (v == KEEP)
			continue;
		/* tracefs: rmdir of an instance removes it (EBUSY if in use) */
		if ((!unlinkat(insts, de->d_name, AT_REMOVEDIR) ||
		     errno == ENOENT) && v == REMOVE_LOCKED)
			unlinkat(o->dirfd, de->d_name, 0);
		if (lockfd >= 0)
			close(lockfd);
	}
	closedir(d);
}
