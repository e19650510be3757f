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
 * - The owner holds an exclusive POSIX record lock (F_SETLK) on
 *   <root>/run/klptrace/<name> from before it creates the instance
 *   until after it removed it, and writes into that file the identity
 *   of the instance's directory (st_dev, st_ino, st_ctime) once it
 *   exists.  The kernel drops the lock when the owner dies, however it
 *   dies, and a child it forked does not inherit it.  /run is root's (a
 *   tmpfs on Debian, cleared at boot like tracefs), and the directory is
 *   used only if it is ours and writable by nobody else; never /tmp,
 *   where anyone could plant or hold files.  If a live process holds
 *   our own name's lock (a remover for an instant: we wait
 *   KLPT_LOCK_WAIT_MS), the open fails with -EBUSY and the instance is
 *   not touched.
 *
 * Removal (at every live open), for names of this pattern only:
 * - its lock file can be locked, is still the file at that name, and
 *   records the identity of the instance directory there now: its owner
 *   is gone, removed.  A free lock alone proves nothing: namespace
 *   inode numbers are reused lowest first, so a session of another
 *   /run (a container) may have made an instance of the same name since
 *   our /run's owner of that name died;
 * - lock held: kept;
 * - otherwise (no lock file, none of that identity, no
 *   /run/klptrace): our PID namespace and kill() says ESRCH: removed;
 *   anything else: kept;
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
 * A POSIX record lock (F_SETLK), not flock(2): it belongs to the process
 * and is not inherited by fork(), so a child the owner forked (the
 * library's replay probe, an application's worker) never keeps it held
 * after the owner died.  The kernel drops it when the owner dies, and
 * when the owner closes any descriptor of the file: only instance.c
 * opens these files, and never its own name's twice.
 */
static int lock_file(int fd)
{
	struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	return fcntl(fd, F_SETLK, &l);
}

/* Is fd (locked) still the regular file <dirfd>/<name>, not unlinked? */
static bool still_named(int dirfd, const char *name, int fd)
{
	struct stat a, b;

	return !fstat(fd, &a) && S_ISREG(a.st_mode) &&
	       !fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* How long a held lock on our own name is waited for. */
#define KLPT_LOCK_WAIT_MS 500

/*
 * Take the lock on <dir>/<name>: its fd, -EBUSY if another process
 * still holds it after KLPT_LOCK_WAIT_MS, another negative errno if
 * there is no lock to be had.  A remover holds the lock of a dead
 * owner of our name for the time of an rmdir, then unlinks the file:
 * we wait, and a lock on a file nobody sees any more is taken again.
 */
static int take_lock(int dirfd, const char *name)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	int fd, err, waited;

	for (waited = 0;; waited += 10) {
		fd = openat(dirfd, name,
			    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		err = lock_file(fd) ? errno : 0;
		if (!err && still_named(dirfd, name, fd))
			return fd;
		close(fd);
		if (err && err != EAGAIN && err != EACCES)
			return -err;
		if (waited >= KLPT_LOCK_WAIT_MS)
			return err ? -EBUSY : -ENOLCK;
		nanosleep(&tick, NULL);
	}
}

int klpt_inst_claim(const char *root, struct klpt_inst_owner *o)
{
	bool known;
	int fd;

	o->ns = pidns_id(&known);
	o->ns_known = known;
	snprintf(o->name, sizeof(o->name), PREFIX "%llu-%d", o->ns,
		 (int)getpid());
	o->lockfd = -1;
	o->dirfd = lock_dir(root ? root : "");
	if (o->dirfd < 0)
		return 0;
	fd = take_lock(o->dirfd, o->name);
	if (fd == -EBUSY) {
		/* a live process holds our name: its instance is not ours */
		close(o->dirfd);
		o->dirfd = -1;
		return -EBUSY;
	}
	o->lockfd = fd < 0 ? -1 : fd;
	return 0;
}

/* The identity of instance dir as the lock file records it. */
static int identity(const struct stat *st, char *buf, size_t size)
{
	return snprintf(buf, size, "%llu %llu %lld.%09ld\n",
			(unsigned long long)st->st_dev,
			(unsigned long long)st->st_ino,
			(long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

void klpt_inst_created(const char *tracing_dir, struct klpt_inst_owner *o)
{
	char path[PATH_MAX], id[96];
	struct stat st;
	int n;

	if (o->lockfd < 0 ||
	    snprintf(path, sizeof(path), "%s/instances/%s", tracing_dir,
		     o->name) >= (int)sizeof(path) ||
	    stat(path, &st))
		return;
	n = identity(&st, id, sizeof(id));
	/*
	 * Best effort, like the lock: a record not written whole proves
	 * nothing and needs no undoing.  Every identity ends in its only
	 * '\n', so neither a prefix of it (pwrite failed part way) nor an
	 * earlier owner's record (ftruncate failed) equals the identity of
	 * this directory in judge(): the rule without a lock file decides.
	 */
	if (ftruncate(o->lockfd, 0) ||
	    pwrite(o->lockfd, id, (size_t)n, 0) != n)
		return;
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
	char rec[96], id[96];
	bool own_dead;
	const char *p;
	struct stat st;
	ssize_t n;
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
	own_dead = o->ns_known && ns == o->ns && no_such_pid(pid);
	if (o->dirfd < 0)
		return own_dead ? REMOVE : KEEP;
	fd = openat(o->dirfd, name,
		    O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT && own_dead ? REMOVE : KEEP;
	/*
	 * A free lock proves dead the owner that wrote the file, which is
	 * the instance's owner only if the identity of the directory it
	 * recorded is the one here now: another /run's session (a PID
	 * namespace that got a dead one's inode number) may have made an
	 * instance of the same name since.  Otherwise the rule without a
	 * lock file decides.
	 */
	if (!lock_file(fd) && still_named(o->dirfd, name, fd)) {
		n = pread(fd, rec, sizeof(rec) - 1, 0);
		if (!fstatat(insts, name, &st, AT_SYMLINK_NOFOLLOW) &&
		    n > 0 && n == identity(&st, id, sizeof(id)) &&
		    !memcmp(rec, id, (size_t)n))
			own_dead = true;
		if (own_dead) {
			*lockfd = fd;
			return REMOVE_LOCKED;
		}
	}
	close(fd);
	return KEEP;
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
