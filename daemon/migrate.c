/* migrate.c: ordered, checksummed, transactional schema migrations. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "migrate.h"
#include "util.h"

#define MIGRATE_LOCK_ID	"7265110001"	/* pg_advisory_lock key for concurrent migrate runs */
#define MIGRATE_MAX	1000

struct mfile {
	int	 version;
	char	*name;		/* 0001_foundation.sql */
	char	*sql;
	char	 sha[65];
};

struct mapplied {
	int	 version;
	char	*name;
	char	 sha[65];
};

int
db_connect_blocking(const char *dsn, PGconn **out, char **cause)
{
	PGconn	*c = PQconnectdb(dsn);

	if (PQstatus(c) != CONNECTION_OK) {
		char *msg = xstrdup(PQerrorMessage(c));

		msg[strcspn(msg, "\n")] = '\0';
		*cause = xasprintf("cannot connect to the database: %s", msg);
		free(msg);
		PQfinish(c);
		return -1;
	}
	*out = c;
	return 0;
}

static int
name_ok(const char *n)
{
	size_t	len = strlen(n), i;

	if (len < 10 || strcmp(n + len - 4, ".sql") != 0 || n[4] != '_')
		return 0;
	for (i = 0; i < 4; i++)
		if (!isdigit((unsigned char)n[i]))
			return 0;
	for (i = 5; i < len - 4; i++)
		if (!islower((unsigned char)n[i]) && !isdigit((unsigned char)n[i]) && n[i] != '_')
			return 0;
	return 1;
}

static int
cmp_mfile(const void *a, const void *b)
{
	return ((const struct mfile *)a)->version - ((const struct mfile *)b)->version;
}

static void
mfiles_free(struct mfile *f, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].sql);
	}
	free(f);
}

static int
read_file(const char *path, char **out, size_t *lenp, char **cause)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL) {
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

/* Read and sort migrations/NNNN_name.sql. */
static int
mfiles_load(const char *dir, struct mfile **out, int *nout, char **cause)
{
	DIR		*d;
	struct dirent	*de;
	struct mfile	*f = NULL;
	int		 n = 0, i;

	if ((d = opendir(dir)) == NULL) {
		*cause = xasprintf("cannot open migrations directory %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char	*path;
		size_t	 len;

		if (de->d_name[0] == '.' || strstr(de->d_name, ".sql") == NULL)
			continue;
		if (!name_ok(de->d_name)) {
			*cause = xasprintf("migration file name %s is not NNNN_name.sql",
			    de->d_name);
			goto fail;
		}
		if (n == MIGRATE_MAX) {
			*cause = xasprintf("more than %d migrations", MIGRATE_MAX);
			goto fail;
		}
		f = xrealloc(f, sizeof(*f) * (size_t)(n + 1));
		memset(&f[n], 0, sizeof(f[n]));
		f[n].version = atoi(de->d_name);
		f[n].name = xstrdup(de->d_name);
		path = xasprintf("%s/%s", dir, de->d_name);
		n++;
		if (read_file(path, &f[n - 1].sql, &len, cause) != 0) {
			free(path);
			goto fail;
		}
		free(path);
		sha256_hex(f[n - 1].sql, len, f[n - 1].sha);
	}
	closedir(d);
	d = NULL;
	if (n > 0)
		qsort(f, (size_t)n, sizeof(*f), cmp_mfile);
	for (i = 1; i < n; i++) {
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

static int
exec_ok(PGconn *c, const char *sql, char **cause)
{
	PGresult	*r = PQexec(c, sql);
	ExecStatusType	 st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char *msg = xstrdup(PQresultErrorMessage(r));

		msg[strcspn(msg, "\n")] = '\0';
		*cause = xstrdup(msg);
		free(msg);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

/* Applied migrations; *n = -1 when the bookkeeping table does not exist yet. */
static int
applied_load(PGconn *c, struct mapplied **out, int *n, char **cause)
{
	PGresult	*r;
	int		 i;

	*out = NULL;
	r = PQexec(c, "SELECT to_regclass('fund_meta.migration') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		*cause = xasprintf("cannot read migration state: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		PQclear(r);
		*n = -1;
		return 0;
	}
	PQclear(r);
	r = PQexec(c, "SELECT version, name, sha256 FROM fund_meta.migration ORDER BY version");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		*cause = xasprintf("cannot read fund_meta.migration: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	*n = PQntuples(r);
	*out = xcalloc((size_t)*n + 1, sizeof(**out));
	for (i = 0; i < *n; i++) {
		(*out)[i].version = atoi(PQgetvalue(r, i, 0));
		(*out)[i].name = xstrdup(PQgetvalue(r, i, 1));
		snprintf((*out)[i].sha, sizeof((*out)[i].sha), "%s", PQgetvalue(r, i, 2));
	}
	PQclear(r);
	return 0;
}

static void
applied_free(struct mapplied *a, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		free(a[i].name);
	free(a);
}

/* Compare files with what was applied: an applied file must be unchanged and present.
 * *pending = index of the first file not yet applied. */
static int
compare(struct mfile *f, int nf, struct mapplied *a, int na, int *pending, char **cause)
{
	int	i;

	for (i = 0; i < na; i++) {
		if (i >= nf || f[i].version != a[i].version) {
			*cause = xasprintf("applied migration %s has no file in the migrations "
			    "directory", a[i].name);
			return -1;
		}
		if (strcmp(f[i].sha, a[i].sha) != 0) {
			*cause = xasprintf("migration %s changed after it was applied (recorded "
			    "sha256 %.12s..., file %.12s...); add a new migration instead",
			    f[i].name, a[i].sha, f[i].sha);
			return -1;
		}
	}
	*pending = na;
	return 0;
}

int
migrate_apply(PGconn *c, const char *dir, char **cause)
{
	struct mfile	*f = NULL;
	struct mapplied	*a = NULL;
	int		 nf = 0, na = 0, pending = 0, i, rc = -1;
	char		*err = NULL;

	if (mfiles_load(dir, &f, &nf, cause) != 0)
		return -1;
	if (exec_ok(c, "SET client_min_messages = warning; "
	    "SELECT pg_advisory_lock(" MIGRATE_LOCK_ID ")", &err) != 0 ||
	    exec_ok(c, "CREATE SCHEMA IF NOT EXISTS fund_meta; "
	    "CREATE TABLE IF NOT EXISTS fund_meta.migration ("
	    " version int PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now());"
	    "GRANT USAGE ON SCHEMA fund_meta TO PUBLIC;"
	    "GRANT SELECT ON fund_meta.migration TO PUBLIC", &err) != 0) {
		*cause = xasprintf("cannot prepare migrations: %s", err);
		goto out;
	}
	if (applied_load(c, &a, &na, cause) != 0)
		goto out;
	if (compare(f, nf, a, na, &pending, cause) != 0)
		goto out;
	for (i = pending; i < nf; i++) {
		const char	*vals[3];
		char		 ver[16];
		PGresult	*r;

		if (exec_ok(c, "BEGIN", &err) != 0 || exec_ok(c, f[i].sql, &err) != 0) {
			*cause = xasprintf("migration %s failed: %s", f[i].name, err);
			free(err);
			err = NULL;
			(void)exec_ok(c, "ROLLBACK", &err);
			goto out;
		}
		snprintf(ver, sizeof(ver), "%d", f[i].version);
		vals[0] = ver;
		vals[1] = f[i].name;
		vals[2] = f[i].sha;
		r = PQexecParams(c, "INSERT INTO fund_meta.migration (version, name, sha256) "
		    "VALUES ($1, $2, $3)", 3, NULL, vals, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			*cause = xasprintf("cannot record migration %s: %s", f[i].name,
			    PQresultErrorMessage(r));
			PQclear(r);
			free(err);
			err = NULL;
			(void)exec_ok(c, "ROLLBACK", &err);
			goto out;
		}
		PQclear(r);
		/* methods added by this migration join the generated api.call() (0001) */
		if (exec_ok(c, "DO $$ BEGIN IF to_regprocedure('fl.rebuild_dispatch()') IS NOT "
		    "NULL THEN PERFORM fl.rebuild_dispatch(); END IF; END $$", &err) != 0) {
			*cause = xasprintf("migration %s: rebuilding the dispatcher failed: %s",
			    f[i].name, err);
			free(err);
			err = NULL;
			(void)exec_ok(c, "ROLLBACK", &err);
			goto out;
		}
		if (exec_ok(c, "COMMIT", &err) != 0) {
			*cause = xasprintf("migration %s failed at commit: %s", f[i].name, err);
			goto out;
		}
		printf("applied %s\n", f[i].name);
	}
	if (pending == nf)
		printf("schema is up to date (%d migrations)\n", nf);
	rc = 0;
out:
	free(err);
	err = NULL;
	(void)exec_ok(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_ID ")", &err);
	free(err);
	applied_free(a, na);
	mfiles_free(f, nf);
	return rc;
}

int
migrate_check(PGconn *c, const char *dir, char **cause)
{
	struct mfile	*f = NULL;
	struct mapplied	*a = NULL;
	int		 nf = 0, na = 0, pending = 0, rc = -1;

	if (mfiles_load(dir, &f, &nf, cause) != 0)
		return -1;
	if (applied_load(c, &a, &na, cause) != 0)
		goto out;
	if (na < 0) {
		na = 0;
		*cause = xasprintf("the database has no schema yet: %d migrations pending; "
		    "run 'fundd -c FILE migrate'", nf);
		goto out;
	}
	if (compare(f, nf, a, na, &pending, cause) != 0)
		goto out;
	if (pending < nf) {
		*cause = xasprintf("the database schema is behind: %d migrations pending "
		    "(first %s); run 'fundd -c FILE migrate'", nf - pending, f[pending].name);
		goto out;
	}
	rc = 0;
out:
	applied_free(a, na < 0 ? 0 : na);
	mfiles_free(f, nf);
	return rc;
}
