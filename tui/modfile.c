// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A module's file and what its .modinfo says, for the patch page
 * (details.c): which file modules.dep lists for a module, and the name,
 * srcversion, description and GNU build ID in that file.  -b and --json with
 * --patch-details build the page every frame; modules.dep is half a MB
 * on Debian and each value was a parse of the .ko, so both are read
 * again only when their file changed: the key is the file's identity and
 * version as stat() sees them (device, inode, size, mtime, ctime), which
 * a rewrite in place, a replacement by rename (depmod, make
 * modules_install) and a truncation all change; ctime too when the mtime
 * was set back (touch -r, a copy that keeps times).  stat() follows
 * symbolic links, as the reads do: a link's target rewritten is a change.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "klptop.h"

/* Patches on one system are few: a small table, the oldest reused. */
#define MODFILE_CACHE 16

struct stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct timespec ctime;
};

/* The stamp of the file at path (links followed): 0 or -errno. */
static int stamp_of(const char *path, struct stamp *s)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	if (stat(path, &st))
		return -errno;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;
	s->ctime = st.st_ctim;
	return 0;
}

static bool stamp_eq(const struct stamp *a, const struct stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Module names: '-' and '_' are the same to the kernel. */
bool top_same_modname(const char *a, const char *b, size_t blen)
{
	size_t i;

	for (i = 0; i < blen; i++, a++) {
		char x = *a == '-' ? '_' : *a, y = b[i] == '-' ? '_' : b[i];

		if (!*a || x != y)
			return false;
	}
	return !*a;
}

/* The line of modules.dep dep for module name, into path. */
static bool dep_scan(const char *dep, const char *root, const char *kernel,
		     const char *name, char *path, size_t size)
{
	char line[4096];
	bool found = false;
	FILE *f;

	f = fopen(dep, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *base, *dot;

		if (!colon)
			continue;
		*colon = '\0';
		base = strrchr(line, '/');
		base = base ? base + 1 : line;
		dot = strstr(base, ".ko");
		if (!dot || !top_same_modname(name, base, (size_t)(dot - base)))
			continue;
		/* a path cut to fit is no file of the module: not found */
		if (line[0] == '/')
			found = (size_t)snprintf(path, size, "%s%s",
						 root ? root : "", line) < size;
		else
			found = (size_t)snprintf(path, size,
						 "%s/lib/modules/%s/%s",
						 root ? root : "", kernel,
						 line) < size;
	}
	fclose(f);
	return found;
}

/*
 * A cache entry's common part: what it was read from, that file's stamp
 * when read, its last use (0: free).
 */
struct entry {
	char file[PATH_MAX];
	char key[64];			/* modules.dep: the module's name */
	struct stamp st;
	unsigned long used;
};

static unsigned long use_clock;

/* The entry of (file, key) in e[0..n), else the one used least lately. */
static struct entry *slot(struct entry *const *e, size_t n, const char *file,
			  const char *key)
{
	size_t i, old = 0;

	for (i = 0; i < n; i++) {
		if (e[i]->used && !strcmp(e[i]->file, file) &&
		    !strcmp(e[i]->key, key))
			return e[i];
		if (e[i]->used < e[old]->used)
			old = i;
	}
	return e[old];
}

/*
 * Whether e holds (file, key) as of stamp st; if not, it is made theirs
 * (the caller reads the file into it).  r: stamp_of()'s return; without
 * a stamp the entry is read now and freed for the next time.
 */
static bool fresh(struct entry *e, const char *file, const char *key,
		  const struct stamp *st, int r)
{
	bool ok = !r && e->used && !strcmp(e->file, file) &&
		  !strcmp(e->key, key) && stamp_eq(&e->st, st);

	if (!ok) {
		snprintf(e->file, sizeof(e->file), "%s", file);
		snprintf(e->key, sizeof(e->key), "%s", key);
		e->st = *st;
	}
	e->used = r ? 0 : ++use_clock;
	return ok;
}

static struct dep_entry {
	struct entry e;
	bool found;
	char path[PATH_MAX];
} deps[MODFILE_CACHE];

static struct info_entry {
	struct entry e;
	struct top_modfile info;
} infos[MODFILE_CACHE];

bool top_modfile_dep(const char *root, const char *kernel, const char *name,
		     char *path, size_t size)
{
	struct entry *all[MODFILE_CACHE];
	char dep[PATH_MAX];
	struct dep_entry *d;
	struct stamp st;
	size_t i;

	if (!kernel[0] || strlen(name) >= sizeof(d->e.key) ||
	    (size_t)snprintf(dep, sizeof(dep), "%s/lib/modules/%s/modules.dep",
			     root ? root : "", kernel) >= sizeof(dep) ||
	    stamp_of(dep, &st))
		return false;
	for (i = 0; i < MODFILE_CACHE; i++)
		all[i] = &deps[i].e;
	d = (struct dep_entry *)slot(all, MODFILE_CACHE, dep, name);
	if (!fresh(&d->e, dep, name, &st, 0))
		d->found = dep_scan(dep, root, kernel, name, d->path,
				    sizeof(d->path));
	return d->found &&
	       (size_t)snprintf(path, size, "%s", d->path) < size;
}

const struct top_modfile *top_modfile_info(const char *path)
{
	struct entry *all[MODFILE_CACHE];
	struct info_entry *f;
	struct top_modfile *m;
	struct stamp st;
	size_t i;
	int r;

	if (strlen(path) >= sizeof(f->e.file))
		return NULL;
	r = stamp_of(path, &st);
	for (i = 0; i < MODFILE_CACHE; i++)
		all[i] = &infos[i].e;
	f = (struct info_entry *)slot(all, MODFILE_CACHE, path, "");
	m = &f->info;
	if (fresh(&f->e, path, "", &st, r))
		return m;
	m->file_r = r;
	m->name_r = klpt_module_file_info(path, "name", m->name,
					  sizeof(m->name));
	m->srcversion_r = klpt_module_file_info(path, "srcversion",
						m->srcversion,
						sizeof(m->srcversion));
	m->description_r = klpt_module_file_info(path, "description",
						 m->description,
						 sizeof(m->description));
	m->build_id_r = klpt_module_file_build_id(path, m->build_id,
						  sizeof(m->build_id));
	return m;
}
