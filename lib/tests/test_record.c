// SPDX-License-Identifier: LGPL-2.1 OR MIT
/*
 * record.c against a user who steers where root writes (issue 12 item
 * 1): klptop --record DIR runs as root, DIR is often named by or near a
 * user's files.  The race is real: an unprivileged process (this test
 * again, as nobody through setpriv) plants symlinks to a root-owned file
 * and swaps directories while root records, and the root-owned file
 * must come out unchanged.  Without root the race and
 * the ownership checks are skipped (they need a second user).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "internal.h"
#include "pagebuild.h"

#define NOBODY		65534
#define PRECIOUS	"a file of root: never written by a recording\n"

static char tmp[] = "/tmp/klpt-test-record.XXXXXX";
static char target[256];	/* root-owned, what the attacker aims at */

static const char *at(const char *rel)
{
	static char p[4][512];
	static int n;
	char *s = p[n++ % 4];

	snprintf(s, sizeof(p[0]), "%s/%s", tmp, rel);
	return s;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

/* Empty dir (as root: whatever the attacker put there), links unfollowed. */
static void empty(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int record(const char *dir)
{
	struct klpt_recorder *r = NULL;
	int ret = klpt_recorder_open(dir, fixture("formats"), NULL, 2, &r);

	klpt_recorder_close(r);
	return ret;
}

static bool target_intact(void)
{
	char *s = slurp_file(target, NULL);
	bool ok = s && !strcmp(s, PRECIOUS);

	free(s);
	return ok;
}

/* ---------------------------------------------------- modes, clean-up */

static int bad_modes;

static int check_mode(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)ftw;
	if ((flag == FTW_F && (!S_ISREG(st->st_mode) ||
			       (st->st_mode & 07777) != 0644)) ||
	    (flag == FTW_D && (st->st_mode & 07777) != 0755) ||
	    (flag != FTW_F && flag != FTW_D)) {
		fprintf(stderr, "  %s: mode %o\n", path, st->st_mode);
		bad_modes++;
	}
	return 0;
}

/* Every file 0644, every directory 0755, nothing else. */
static void test_modes(void)
{
	const char *dir = at("modes");

	umask(022);
	CHECK_INT(record(dir), 0);
	bad_modes = 0;
	nftw(dir, check_mode, 16, FTW_PHYS);
	CHECK_INT(bad_modes, 0);
}

/* A failed open leaves nothing: a new directory goes, an empty one stays
 * empty. */
static void test_cleanup(void)
{
	struct klpt_recorder *r = NULL;
	const char *dir = at("empty"), *fake = at("fake-tracefs");
	DIR *d;
	int n = 0;

	/* a tracefs with a directory for a format: fails half-way */
	check_sh("cp -r '%s' '%s' && rm -f '%s/events/module/module_put/format' && "
	   "mkdir '%s/events/module/module_put/format'",
	   fixture("formats"), fake, fake, fake);
	CHECK(klpt_recorder_open(at("new"), fake, NULL, 2, &r) < 0,
	      "recorded from a tracefs with a directory for a format");
	CHECK(access(at("new"), F_OK) != 0, "new directory left behind");
	CHECK_INT(mkdir(dir, 0700), 0);
	CHECK(klpt_recorder_open(dir, fake, NULL, 2, &r) < 0, "recorded");
	CHECK(access(dir, F_OK) == 0, "the caller's empty directory went");
	d = opendir(dir);
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	CHECK_INT(n, 2);	/* . and .. */
	/* not over a non-empty directory, nor into a file */
	CHECK_INT(record(at("modes")), -EEXIST);
	check_sh("echo x > '%s'", at("file"));
	CHECK_INT(record(at("file")), -ENOTDIR);
}

/* --------------------------------------------- other users' directories */

static bool am_root(const char *test)
{
	if (geteuid() == 0)
		return true;
	printf("  %s: skipped (needs root: a second user)\n", test);
	return false;
}

/*
 * Refused without writing a byte: a directory of another user, one the
 * group or the world may write, a link (even to a directory of ours).
 */
static void test_not_ours(void)
{
	if (!am_root(__func__))
		return;
	CHECK_INT(mkdir(at("nobodys"), 0755), 0);
	CHECK_INT(chown(at("nobodys"), NOBODY, NOBODY), 0);
	CHECK_INT(record(at("nobodys")), -EPERM);
	CHECK_INT(mkdir(at("group-w"), 0775), 0);
	CHECK_INT(chmod(at("group-w"), 0775), 0);
	CHECK_INT(record(at("group-w")), -EPERM);
	CHECK_INT(mkdir(at("world-w"), 01777), 0);
	CHECK_INT(chmod(at("world-w"), 01777), 0);
	CHECK_INT(record(at("world-w")), -EPERM);
	CHECK_INT(mkdir(at("ours"), 0700), 0);
	CHECK_INT(symlink(at("ours"), at("link")), 0);
	CHECK_INT(record(at("link")), -EPERM);
	CHECK(rmdir(at("ours")) == 0, "wrote into ours through a link");
}

/* ---------------------------------------------------------- the race */

/*
 * The attacker, as nobody, in its own directory A until killed (or 60 s):
 *  - into A/in, an empty directory of its own, once root has begun
 *    writing there (A/in/events exists): links to the target under every
 *    name root writes;
 *  - A/rec, once root has made it: swapped (RENAME_EXCHANGE) with a
 *    decoy of its own where every name root writes is a link to the
 *    target, so that root's next path lookups land in the decoy.
 */
static const char *const plant[] = {
	"truth.txt", "truth.txt.tmp", "klptrace-recording",
	"klptrace-recording.tmp", "per_cpu/cpu0/trace_pipe_raw",
	"per_cpu/cpu1/trace_pipe_raw", "events/header_page",
	".truth-end.txt.tmp",
};

static void plant_links(const char *dir)
{
	char p[1024];
	unsigned int i;

	for (i = 0; i < sizeof(plant) / sizeof(*plant); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, plant[i]);
		symlink(target, p);
	}
}

static void make_decoy(const char *a)
{
	char p[400];

	snprintf(p, sizeof(p), "%s/decoy", a);
	if (mkdir(p, 0755) && errno != EEXIST)
		return;
	snprintf(p, sizeof(p), "%s/decoy/events", a);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/decoy/per_cpu", a);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/decoy/per_cpu/cpu0", a);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/decoy/per_cpu/cpu1", a);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/decoy", a);
	plant_links(p);
}

static int attacker(const char *a, int ready_fd)
{
	char in[300], ev[300], rec[300], decoy[300], old[320];
	time_t end = time(NULL) + 60;
	unsigned long n = 0;
	struct stat st;

	snprintf(in, sizeof(in), "%s/in", a);
	snprintf(ev, sizeof(ev), "%s/in/events", a);
	snprintf(rec, sizeof(rec), "%s/rec", a);
	snprintf(decoy, sizeof(decoy), "%s/decoy", a);
	if (!geteuid())
		return 1;	/* never as root */
	make_decoy(a);
	if (write(ready_fd, "r", 1) != 1)
		return 1;
	close(ready_fd);
	while (time(NULL) < end) {
		if (!lstat(ev, &st))
			plant_links(in);
		if (!lstat(rec, &st) && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
		    !renameat2(AT_FDCWD, rec, AT_FDCWD, decoy,
			       RENAME_EXCHANGE)) {
			/* root's directory is now at decoy: put it aside */
			snprintf(old, sizeof(old), "%s/old%lu", a, n++);
			rename(decoy, old);
			make_decoy(a);
		}
	}
	return 0;
}

/* This binary again as nobody: test_record --attacker DIR TARGET FD. */
static pid_t start_attacker(const char *a)
{
	char self[4096], fd[16], uid[32], gid[32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int pfd[2];
	char c;
	pid_t pid;

	if (n <= 0 || pipe(pfd))
		return -1;
	self[n] = '\0';
	snprintf(fd, sizeof(fd), "%d", pfd[1]);
	snprintf(uid, sizeof(uid), "--reuid=%d", NOBODY);
	snprintf(gid, sizeof(gid), "--regid=%d", NOBODY);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		execlp("setpriv", "setpriv", uid, gid, "--clear-groups", "--",
		       self, "--attacker", a, target, fd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if (pid > 0 && read(pfd[0], &c, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(pfd[0]);
	return pid;
}

/* How many of root's directories the attacker put aside (old<N>). */
static int swapped(const char *a)
{
	struct dirent *de;
	DIR *d = opendir(a);
	int n = 0;

	while (d && (de = readdir(d)))
		n += !strncmp(de->d_name, "old", 3);
	if (d)
		closedir(d);
	return n;
}

static void test_race(void)
{
	char a[256], in[300], rec[300];
	int i, refused = 0, recorded = 0;
	pid_t pid;

	if (!am_root(__func__))
		return;
	snprintf(target, sizeof(target), "%s/target", tmp);
	check_sh("printf '%s' > '%s' && chmod 0644 '%s'", PRECIOUS, target, target);
	snprintf(a, sizeof(a), "%s/attacker", tmp);
	snprintf(in, sizeof(in), "%s/in", a);
	snprintf(rec, sizeof(rec), "%s/rec", a);
	/* nobody reaches its directory through ours */
	CHECK_INT(chmod(tmp, 0711), 0);
	CHECK_INT(mkdir(a, 0755), 0);
	CHECK_INT(mkdir(in, 0755), 0);
	CHECK_INT(chown(a, NOBODY, NOBODY), 0);
	CHECK_INT(chown(in, NOBODY, NOBODY), 0);
	pid = start_attacker(a);
	CHECK(pid > 0, "no attacker process");
	if (pid <= 0)
		return;
	for (i = 0; i < 50 && target_intact(); i++) {
		int ret;

		/* into the attacker's empty directory */
		empty(in);
		ret = record(in);
		refused += ret == -EPERM;
		/* a new directory in the attacker's */
		empty(rec);
		rmdir(rec);
		ret = record(rec);
		recorded += ret == 0;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CHECK(target_intact(), "root wrote the target through a link "
	      "(round %d)", i);
	CHECK_INT(refused, i);
	printf("  %d rounds: %d refused in the attacker's directory, %d "
	       "recordings made under it, %d of root's directories swapped "
	       "away\n", i, refused, recorded, swapped(a));
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "--attacker")) {
		snprintf(target, sizeof(target), "%s", argv[3]);
		return attacker(argv[2], atoi(argv[4]));
	}
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_modes);
	RUN(test_cleanup);
	RUN(test_not_ours);
	RUN(test_race);
	check_sh("rm -rf '%s'", tmp);
	return check_summary();
}
