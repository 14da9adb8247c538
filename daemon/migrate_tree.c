/*
 * migrate_tree.c: the migrations directory as the runner reads it (migrate_tree.h): the
 * versioned and repeatable files with their SHA-256 and markers, and the rework list.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "migrate_tree.h"
#include "util.h"

#define MIGRATE_MAX	1000		/* files of each kind */
#define REWORK_MAX	1000		/* lines of the rework list */

/* NNNN_name.sql for versioned files (digits = 4), NN_name.sql for repeatable ones (2). */
static int
name_ok(const char *n, size_t digits)
{
	size_t	len = strlen(n), i;

	if (len < digits + 6 || strcmp(n + len - 4, ".sql") != 0 || n[digits] != '_')
		return 0;
	for (i = 0; i < digits; i++)
		if (!isdigit((unsigned char)n[i]))
			return 0;
	for (i = digits + 1; i < len - 4; i++)
		if (!islower((unsigned char)n[i]) && !isdigit((unsigned char)n[i]) && n[i] != '_')
			return 0;
	return 1;
}

static int
cmp_version(const void *a, const void *b)
{
	return ((const struct mfile *)a)->version - ((const struct mfile *)b)->version;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct mfile *)a)->name, ((const struct mfile *)b)->name);
}

static void
mfiles_free(struct mfile *f, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].sql);
		free(f[i].step);
		free(f[i].vacuum);
	}
	free(f);
}

void
tree_free(struct mtree *t)
{
	int	i;

	mfiles_free(t->v, t->nv);
	mfiles_free(t->r, t->nr);
	for (i = 0; i < t->nrw; i++)
		free(t->rw[i].name);
	free(t->rw);
	memset(t, 0, sizeof(*t));
}

/* The whole file; ENOENT leaves *out NULL and returns 0 when missing_ok. */
static int
read_file(const char *path, int missing_ok, char **out, size_t *lenp, char **cause)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		if (missing_ok && errno == ENOENT)
			return 0;
		*cause = xasprintf("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	do {
		if (cap - len < 8192) {
			cap = cap == 0 ? 65536 : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		*cause = xasprintf("cannot read %s", path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[len] = '\0';
	*out = buf;
	*lenp = len;
	return 0;
}

static void
sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char	md[32];
	unsigned int	mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

static char *
marker(const char *sql, const char *key)
{
	const char	*p = sql, *e;
	size_t		 klen = strlen(key);

	for (; *p != '\0'; p = *e == '\0' ? e : e + 1) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if (strncmp(p, "-- ", 3) == 0 && strncmp(p + 3, key, klen) == 0 &&
		    p[3 + klen] == ':' && p[4 + klen] == ' ')
			return xstrndup(p + 5 + klen, (size_t)(e - (p + 5 + klen)));
	}
	return NULL;
}

/*
 * A versioned file's markers (docs/migrations.md): "-- fundd-step: NAME", a step of fundd's
 * to run before the file in the same transaction; "-- fundd-vacuum-full: fl.a fl.b",
 * tables to rewrite once the run has committed; and "-- fundd-compatible-from: NNNN", the
 * oldest fundd (by its last migration) that the schema with this file still serves, at
 * most the file's own number, which it is without the marker.
 */
static int
markers_load(struct mfile *f, char **cause)
{
	const char	*c;
	char		*compat;
	int		 ok;

	f->step = marker(f->sql, "fundd-step");
	f->vacuum = marker(f->sql, "fundd-vacuum-full");
	f->compat = f->version;
	if ((compat = marker(f->sql, "fundd-compatible-from")) != NULL) {
		ok = strlen(compat) == 4;
		for (c = compat; ok && *c != '\0'; c++)
			ok = isdigit((unsigned char)*c);
		f->compat = ok ? atoi(compat) : 0;
		free(compat);
		if (f->compat < 1 || f->compat > f->version) {
			*cause = xasprintf("migration %s: fundd-compatible-from is not the number "
			    "(NNNN) of a migration at or before this one", f->name);
			return -1;
		}
	}
	for (c = f->step; c != NULL && *c != '\0'; c++) {
		if (!islower((unsigned char)*c) && *c != '_') {
			*cause = xasprintf("migration %s: fundd-step is not a step name", f->name);
			return -1;
		}
	}
	for (c = f->vacuum; c != NULL && *c != '\0'; c++) {
		if (!islower((unsigned char)*c) && *c != '_' && *c != '.' && *c != ' ') {
			*cause = xasprintf("migration %s: fundd-vacuum-full is not a list of "
			    "tables", f->name);
			return -1;
		}
	}
	return 0;
}

/*
 * The .sql files of dir, with digits-digit names; a missing directory is an error unless
 * missing_ok (a tree without repeatable files).
 */
static int
mfiles_load(const char *dir, size_t digits, int missing_ok, struct mfile **out, int *nout,
    char **cause)
{
	DIR		*d;
	struct dirent	*de;
	struct mfile	*f = NULL;
	int		 n = 0, i;

	*out = NULL;
	*nout = 0;
	if ((d = opendir(dir)) == NULL) {
		if (missing_ok && errno == ENOENT)
			return 0;
		*cause = xasprintf("cannot open migrations directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char	*path;
		size_t	 len;

		if (de->d_name[0] == '.' || strstr(de->d_name, ".sql") == NULL)
			continue;
		if (!name_ok(de->d_name, digits)) {
			*cause = xasprintf("migration file name %s/%s is not %s_name.sql", dir,
			    de->d_name, digits == 4 ? "NNNN" : "NN");
			goto fail;
		}
		if (n == MIGRATE_MAX) {
			*cause = xasprintf("more than %d files in %s", MIGRATE_MAX, dir);
			goto fail;
		}
		f = xrealloc(f, sizeof(*f) * (size_t)(n + 1));
		memset(&f[n], 0, sizeof(f[n]));
		f[n].version = digits == 4 ? atoi(de->d_name) : 0;
		f[n].name = xstrdup(de->d_name);
		path = xasprintf("%s/%s", dir, de->d_name);
		n++;
		if (read_file(path, 0, &f[n - 1].sql, &len, cause) != 0) {
			free(path);
			goto fail;
		}
		free(path);
		sha256_hex(f[n - 1].sql, len, f[n - 1].sha);
		if (digits == 4 && markers_load(&f[n - 1], cause) != 0)
			goto fail;
	}
	closedir(d);
	d = NULL;
	if (n > 0)
		qsort(f, (size_t)n, sizeof(*f), digits == 4 ? cmp_version : cmp_name);
	for (i = 1; i < n && digits == 4; i++) {
		if (f[i].version == f[i - 1].version) {
			*cause = xasprintf("migrations %s and %s have the same number",
			    f[i - 1].name, f[i].name);
			goto fail;
		}
	}
	*out = f;
	*nout = n;
	return 0;
fail:
	if (d != NULL)
		closedir(d);
	mfiles_free(f, n);
	return -1;
}

/*
 * The rework list: lines "SHA256  NNNN_name.sql", each the checksum of an earlier form of
 * a versioned file; '#' starts a comment. A missing list is an empty one.
 */
static int
rework_load(const char *path, struct rework **out, int *nout, char **cause)
{
	char	*buf, *line, *next;
	size_t	 len;
	int	 n = 0, lineno = 0;

	*out = NULL;
	*nout = 0;
	if (read_file(path, 1, &buf, &len, cause) != 0)
		return -1;
	if (buf == NULL)
		return 0;
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		char	 sha[65], name[256];
		size_t	 i;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '#' || *line == '\0')
			continue;
		if (sscanf(line, "%64s %255s", sha, name) != 2 || strlen(sha) != 64 ||
		    !name_ok(name, 4)) {
			*cause = xasprintf("%s:%d: not \"SHA256  NNNN_name.sql\"", path, lineno);
			goto fail;
		}
		for (i = 0; i < 64; i++) {
			if (!isxdigit((unsigned char)sha[i]) || isupper((unsigned char)sha[i])) {
				*cause = xasprintf("%s:%d: the checksum is not 64 lowercase hex "
				    "digits", path, lineno);
				goto fail;
			}
		}
		if (n == REWORK_MAX) {
			*cause = xasprintf("%s: more than %d lines", path, REWORK_MAX);
			goto fail;
		}
		*out = xrealloc(*out, sizeof(**out) * (size_t)(n + 1));
		(*out)[n].name = xstrdup(name);
		memcpy((*out)[n].sha, sha, sizeof((*out)[n].sha));
		*nout = ++n;
	}
	free(buf);
	return 0;
fail:
	free(buf);
	while (n > 0)
		free((*out)[--n].name);
	free(*out);
	*out = NULL;
	*nout = 0;
	return -1;
}

int
tree_load(const char *dir, struct mtree *t, char **cause)
{
	char	*sub, *list;
	int	 rc;

	memset(t, 0, sizeof(*t));
	if (mfiles_load(dir, 4, 0, &t->v, &t->nv, cause) != 0)
		return -1;
	sub = xasprintf("%s/%s", dir, MIGRATE_REPEATABLE_DIR);
	rc = mfiles_load(sub, 2, 1, &t->r, &t->nr, cause);
	free(sub);
	if (rc == 0) {
		list = xasprintf("%s/%s", dir, MIGRATE_REWORK_LIST);
		rc = rework_load(list, &t->rw, &t->nrw, cause);
		free(list);
	}
	if (rc != 0)
		tree_free(t);
	return rc;
}

int
reworked_form(const struct mtree *t, const char *name, const char *sha)
{
	int	i;

	for (i = 0; i < t->nrw; i++)
		if (strcmp(t->rw[i].name, name) == 0 && strcmp(t->rw[i].sha, sha) == 0)
			return 1;
	return 0;
}
