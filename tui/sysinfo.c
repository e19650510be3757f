// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * What klptop shows that the library's model does not hold: the kernel
 * release, klptrace.ko's hooks, a task's command line and kernel stack
 * for the detail view, and a module's holders and initstate (the
 * scripted flow's and --status's reading of a module whose patch is
 * gone).  All reads are best effort: a missing file
 * is reported as such, never an error of klptop.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "klptop.h"

const char *top_kernel_release(void)
{
	static char release[65];
	struct utsname u;

	if (!release[0])
		snprintf(release, sizeof(release), "%s",
			 uname(&u) ? "unknown" : u.release);
	return release;
}

/* Read a whole small file into buf (NUL-terminated); bytes or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd;

	if (!size)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

void top_hooks_read(const char *root, struct top_hooks *h)
{
	char path[512], buf[8192], *line, *save;

	memset(h, 0, sizeof(*h));
	snprintf(path, sizeof(path), "%s/sys/kernel/klptrace/version",
		 root ? root : "");
	if (read_small(path, h->version, sizeof(h->version)) > 0)
		h->version[strcspn(h->version, "\n")] = '\0';
	snprintf(path, sizeof(path), "%s/sys/kernel/klptrace/hooks",
		 root ? root : "");
	if (read_small(path, buf, sizeof(buf)) < 0)
		return;
	h->present = true;
	/*
	 * "name kind status feeds": kernel symbols ("symbol") and module
	 * options ("option": first_pass_summary) are not hooks
	 */
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64], kind[16], status[32];

		if (sscanf(line, "%63s %15s %31s", name, kind, status) != 3 ||
		    !strcmp(kind, "symbol") || !strcmp(kind, "option"))
			continue;
		h->total++;
		/*
		 * "standby": a per-task hook first_pass_summary disarms
		 * between transitions and in their first passes, on
		 * purpose: nothing is lost
		 */
		if (!strcmp(status, "active") || !strcmp(status, "standby"))
			h->active++;
		/* "inactive(ftrace_off)": see tracepoints/README.md */
		if (!strncmp(status, "inactive(", 9) && !h->inactive++)
			snprintf(h->why, sizeof(h->why), "%.*s",
				 (int)strcspn(status + 9, ")"), status + 9);
	}
}

int top_proc_cmdline(const char *root, int pid, char *buf, size_t size)
{
	char path[256];
	ssize_t n, i;

	snprintf(path, sizeof(path), "%s/proc/%d/cmdline", root ? root : "",
		 pid);
	n = read_small(path, buf, size);
	if (n < 0)
		return (int)n;
	/* arguments are NUL-separated; the last NUL ends the string */
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return 0;
}

int top_proc_stack(const char *root, int pid, char *buf, size_t size)
{
	char path[256];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/proc/%d/stack", root ? root : "",
		 pid);
	n = read_small(path, buf, size);
	return n < 0 ? (int)n : 0;
}

int top_module_holders(const char *root, const char *module, char *names,
		       size_t size)
{
	char path[512];
	struct dirent *de;
	size_t len = 0;
	DIR *d;
	int n = 0;

	if (size)
		names[0] = '\0';
	snprintf(path, sizeof(path), "%s/sys/module/%s/holders",
		 root ? root : "", module);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (len + 1 < size) {
			int k = snprintf(names + len, size - len, "%s%s",
					 n ? " " : "", de->d_name);

			len = k < 0 ? len : len + (size_t)k;
		}
		n++;
	}
	closedir(d);
	return n;
}

int top_module_refcnt(const char *root, const char *module)
{
	char path[512], buf[24], *end;
	long v;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/sys/module/%s/refcnt",
		 root ? root : "", module);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || v < 0 ||
	    v > INT_MAX)
		return -EINVAL;
	return (int)v;
}

bool top_module_initstate_is(const char *root, const char *module,
			     const char *want)
{
	char path[512], state[16];

	snprintf(path, sizeof(path), "%s/sys/module/%s/initstate",
		 root ? root : "", module);
	if (read_small(path, state, sizeof(state)) < 0)
		return false;
	state[strcspn(state, "\n")] = '\0';
	return !strcmp(state, want);
}
