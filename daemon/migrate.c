/*
 * migrate.c: the schema runner. Versioned files (NNNN_name.sql, applied once, in order)
 * and repeatable files (functions/NN_area.sql, applied again whenever they change), in
 * one transaction per run, under an advisory lock; both kinds recorded with their SHA-256
 * in schema fund_meta.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "methods.h"
#include "migrate.h"
#include "migrate_tree.h"
#include "util.h"

#define MIGRATE_LOCK_ID	"7265110001"	/* pg_advisory_lock key for concurrent migrate runs */

/* What the database recorded: a versioned file (version > 0) or a repeatable one. */
struct mapplied {
	int	 version;
	char	*name;
	char	 sha[65];
	int	 compat;	/* versioned: its fundd-compatible-from (struct mfile) */
};

/* How the database stands against the tree. */
struct mstate {
	struct mapplied	*va;		/* recorded versioned files */
	int		 nva;		/* -1: no bookkeeping yet */
	struct mapplied	*ra;		/* recorded repeatable files */
	int		 nra;		/* -1: no table for them yet */
	int		 pending;	/* index in tree.v of the first versioned file to apply */
	int		*reworked;	/* per recorded versioned file: 1 when it ran an earlier form */
	int		 nnewer;	/* the last nnewer of va: after the tree's last file, applied
					 * by a newer fundd */
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


static void
applied_free(struct mapplied *a, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		free(a[i].name);
	free(a);
}

static void
state_free(struct mstate *s)
{
	applied_free(s->va, s->nva < 0 ? 0 : s->nva);
	applied_free(s->ra, s->nra < 0 ? 0 : s->nra);
	free(s->reworked);
	memset(s, 0, sizeof(*s));
}

/* The error message of r, on one line. */
static char *
result_error(PGresult *r)
{
	char	*msg = xstrdup(PQresultErrorMessage(r));

	msg[strcspn(msg, "\n")] = '\0';
	return msg;
}

/* Runs sql (one or more statements; a file of comments only is fine). */
static int
exec_ok(PGconn *c, const char *sql, char **cause)
{
	PGresult	*r = PQexec(c, sql);
	ExecStatusType	 st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
		*cause = result_error(r);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

static int
exec_params_ok(PGconn *c, const char *sql, int n, const char *const *vals, char **cause)
{
	PGresult	*r = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
	ExecStatusType	 st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		*cause = result_error(r);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

/* The rows (version, name, sha256[, compat]) sql reads, or *n = -1 when table does not
 * exist. */
static int
applied_load(PGconn *c, const char *table, const char *sql, struct mapplied **out, int *n,
    char **cause)
{
	const char	*vals[1] = { table };
	PGresult	*r;
	int		 i;

	*out = NULL;
	*n = -1;
	r = PQexecParams(c, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		*cause = xasprintf("cannot read migration state: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		PQclear(r);
		return 0;
	}
	PQclear(r);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		*cause = xasprintf("cannot read %s: %s", table, PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	*n = PQntuples(r);
	*out = xcalloc((size_t)*n + 1, sizeof(**out));
	for (i = 0; i < *n; i++) {
		(*out)[i].version = atoi(PQgetvalue(r, i, 0));
		(*out)[i].name = xstrdup(PQgetvalue(r, i, 1));
		snprintf((*out)[i].sha, sizeof((*out)[i].sha), "%s", PQgetvalue(r, i, 2));
		if (PQnfields(r) > 3)
			(*out)[i].compat = atoi(PQgetvalue(r, i, 3));
	}
	PQclear(r);
	return 0;
}

/*
 * Reads what the database recorded and compares the versioned files with it: every
 * recorded file must be in the tree, unchanged or in a form the rework list names, but
 * for those after the tree's last file, which a newer fundd applied (s->nnewer). (A
 * database that an earlier fundd set up has no compatible_from column: read through
 * to_jsonb, each of its files serves only the fundd that has it.)
 */
static int
state_load(PGconn *c, const struct mtree *t, struct mstate *s, char **cause)
{
	int	i, na;

	memset(s, 0, sizeof(*s));
	s->nva = s->nra = -1;
	if (applied_load(c, "fund_meta.migration", "SELECT version, name, sha256, "
	    "coalesce((to_jsonb(m)->>'compatible_from')::int, version) "
	    "FROM fund_meta.migration m ORDER BY version", &s->va, &s->nva, cause) != 0 ||
	    applied_load(c, "fund_meta.repeatable", "SELECT 0, name, sha256 "
	    "FROM fund_meta.repeatable ORDER BY name", &s->ra, &s->nra, cause) != 0)
		return -1;
	na = s->nva < 0 ? 0 : s->nva;
	s->reworked = xcalloc((size_t)na + 1, sizeof(*s->reworked));
	for (i = 0; i < na; i++) {
		if (i == t->nv) {
			s->nnewer = na - i;
			break;
		}
		if (t->v[i].version != s->va[i].version) {
			*cause = xasprintf("applied migration %s has no file in the migrations "
			    "directory", s->va[i].name);
			return -1;
		}
		if (strcmp(t->v[i].sha, s->va[i].sha) == 0)
			continue;
		if (strcmp(t->v[i].name, s->va[i].name) == 0 &&
		    reworked_form(t, t->v[i].name, s->va[i].sha)) {
			s->reworked[i] = 1;
			continue;
		}
		*cause = xasprintf("migration %s changed after it was applied (recorded "
		    "sha256 %.12s..., file %.12s...); add a new migration instead",
		    t->v[i].name, s->va[i].sha, t->v[i].sha);
		return -1;
	}
	s->pending = na - s->nnewer;
	return 0;
}

/* The recorded sha256 of repeatable file name, or NULL. */
static const char *
repeatable_sha(const struct mstate *s, const char *name)
{
	int	i;

	for (i = 0; i < s->nra; i++)
		if (strcmp(s->ra[i].name, name) == 0)
			return s->ra[i].sha;
	return NULL;
}

static int
repeatable_in_tree(const struct mtree *t, const char *name)
{
	int	i;

	for (i = 0; i < t->nr; i++)
		if (strcmp(t->r[i].name, name) == 0)
			return 1;
	return 0;
}

/* sql run with this fundd's method table (methods.h) as $1: its result, or NULL with
 * *cause saying it could not `what` the table. */
static PGresult *
methods_exec(PGconn *c, const char *sql, const char *what, char **cause)
{
	PGresult	*r;
	const char	*vals[1];
	char		*json, *err;

	json = method_roles_json();
	vals[0] = json;
	r = PQexecParams(c, sql, 1, NULL, vals, NULL, NULL, 0);
	free(json);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		err = result_error(r);
		*cause = xasprintf("cannot %s the method table: %s", what, err);
		free(err);
		PQclear(r);
		return NULL;
	}
	return r;
}

/* fl.method as this fundd's method table says, when the schema has it. */
static int
methods_record(PGconn *c, int *changed, char **cause)
{
	PGresult	*r;
	char		*err;
	int		 have, n;

	r = PQexec(c, "SELECT to_regprocedure('fl.method_set(jsonb)') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		err = result_error(r);
		*cause = xasprintf("cannot record the method table: %s", err);
		free(err);
		PQclear(r);
		return -1;
	}
	have = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!have)
		return 0;
	if ((r = methods_exec(c, "SELECT fl.method_set($1::jsonb)", "record", cause)) == NULL)
		return -1;
	n = PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : 0;
	PQclear(r);
	if (n > 0) {
		printf("recorded this fundd's method table in fl.method (%d changes)\n", n);
		(*changed)++;
	}
	return 0;
}

/*
 * 0 when fl.method serves this fundd's method table, else -1 with *cause naming the first
 * method that differs. It must hold the table exactly, or, on a newer schema that serves
 * this fundd (newer), at least this fundd's methods with the same roles.
 */
static int
methods_check(PGconn *c, int newer, char **cause)
{
	PGresult	*r;
	const char	*diff, *what;
	int		 i, first = -1, n = 0;

	if ((r = methods_exec(c, "SELECT name, diff FROM fl.method_diff($1::jsonb)", "read",
	    cause)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(r); i++) {
		if (newer && strcmp(PQgetvalue(r, i, 1), "extra") == 0)
			continue;
		if (n++ == 0)
			first = i;
	}
	if (n == 0) {
		PQclear(r);
		return 0;
	}
	diff = PQgetvalue(r, first, 1);
	what = strcmp(diff, "missing") == 0 ? "is not there" : strcmp(diff, "extra") == 0 ?
	    "is not this fundd's" : "needs other roles there";
	if (!newer)
		*cause = xasprintf("the database's method table (fl.method) is not this "
		    "fundd's (%s %s%s): run 'fundd -c FILE migrate' with this fundd",
		    PQgetvalue(r, first, 0), what, n > 1 ? ", and more" : "");
	else
		*cause = xasprintf("the database's schema is newer than this fundd and its "
		    "method table (fl.method) does not serve this fundd (%s %s%s), although "
		    "its migrations say they do: start a fundd of the release that migrated the "
		    "database",
		    PQgetvalue(r, first, 0), what, n > 1 ? ", and more" : "");
	PQclear(r);
	return -1;
}

/* 0 when the repeatable files are as the database applied them, else -1 with *cause. */
static int
repeatable_check(const struct mtree *t, const struct mstate *s, char **cause)
{
	int	i;

	for (i = 0; i < t->nr; i++) {
		const char *sha = repeatable_sha(s, t->r[i].name);

		if (sha == NULL) {
			*cause = xasprintf("%s/%s is not applied yet; run 'fundd -c FILE "
			    "migrate'", MIGRATE_REPEATABLE_DIR, t->r[i].name);
			return -1;
		}
		if (strcmp(sha, t->r[i].sha) != 0) {
			*cause = xasprintf("%s/%s changed since it was applied (recorded sha256 "
			    "%.12s..., file %.12s...); run 'fundd -c FILE migrate'",
			    MIGRATE_REPEATABLE_DIR, t->r[i].name, sha, t->r[i].sha);
			return -1;
		}
	}
	for (i = 0; i < s->nra; i++) {
		if (!repeatable_in_tree(t, s->ra[i].name)) {
			*cause = xasprintf("applied %s/%s has no file in the migrations directory; "
			    "run 'fundd -c FILE migrate'", MIGRATE_REPEATABLE_DIR, s->ra[i].name);
			return -1;
		}
	}
	return 0;
}

/*
 * A schema that a newer fundd migrated serves this one when every file applied after the
 * tree's last one says so: its fundd-compatible-from is at most the tree's last number
 * (docs/migrations.md, "Rolling upgrades"). Its repeatable files are the newer release's,
 * which keep what this fundd calls; they are not compared with the tree's. *from is the
 * oldest fundd the schema serves: the highest fundd-compatible-from of all its files.
 */
static int
newer_check(const struct mtree *t, const struct mstate *s, int *from, char **cause)
{
	const struct mapplied	*m;
	const char		*last = t->nv > 0 ? t->v[t->nv - 1].name : "(none)";
	int			 i, have = t->nv > 0 ? t->v[t->nv - 1].version : 0;

	for (i = 0; i < s->nva; i++) {
		m = &s->va[i];
		if (m->compat > have) {
			*cause = xasprintf("applied migration %s, which a newer fundd applied, "
			    "serves fundd from %04d on, and this fundd's migrations end at %s: "
			    "start a fundd of the release that migrated the database",
			    m->name, m->compat, last);
			return -1;
		}
		if (m->compat > *from)
			*from = m->compat;
	}
	return 0;
}

static const char bookkeeping_sql[] =
	"CREATE SCHEMA IF NOT EXISTS fund_meta;"
	"CREATE TABLE IF NOT EXISTS fund_meta.migration ("
	" version int PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now());"
	"ALTER TABLE fund_meta.migration ADD COLUMN IF NOT EXISTS compatible_from int;"
	"CREATE TABLE IF NOT EXISTS fund_meta.repeatable ("
	" name text PRIMARY KEY, sha256 text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now());"
	"GRANT USAGE ON SCHEMA fund_meta TO PUBLIC;"
	"GRANT SELECT ON fund_meta.migration, fund_meta.repeatable TO PUBLIC";

/* The run's work, inside its transaction. *changed counts what it applied or recorded. */
static int
apply_all(PGconn *c, const struct mtree *t, const struct migrate_hooks *hooks,
    int *changed, const char **vacuum, char **cause)
{
	struct mstate	 s;
	char		*err = NULL;
	char		 ver[16];
	const char	*vals[4];
	char		 compat[16];
	int		 i, nv = 0, rc = -1;

	*changed = 0;
	if (exec_ok(c, bookkeeping_sql, &err) != 0) {
		*cause = xasprintf("cannot prepare migrations: %s", err);
		free(err);
		return -1;
	}
	if (state_load(c, t, &s, cause) != 0)
		goto out;
	if (s.nnewer > 0) {
		*cause = xasprintf("applied migration %s is newer than this fundd's migrations: "
		    "a newer fundd migrated the database, and only a fundd that has its "
		    "migrations may migrate it", s.va[s.nva - s.nnewer].name);
		goto out;
	}
	for (i = 0; i < s.pending; i++) {
		if (!s.reworked[i])
			continue;
		vals[0] = t->v[i].sha;
		snprintf(ver, sizeof(ver), "%d", t->v[i].version);
		vals[1] = ver;
		if (exec_params_ok(c, "UPDATE fund_meta.migration SET sha256 = $1 "
		    "WHERE version = $2", 2, vals, &err) != 0) {
			*cause = xasprintf("cannot record migration %s: %s", t->v[i].name, err);
			goto out;
		}
		printf("recorded %s in its current form (the database ran an earlier form "
		    "of it)\n", t->v[i].name);
		(*changed)++;
	}
	for (i = s.pending; i < t->nv; i++) {
		if (t->v[i].step != NULL) {
			if (hooks == NULL || hooks->step == NULL) {
				*cause = xasprintf("migration %s needs fundd's step %s, which this "
				    "run cannot take", t->v[i].name, t->v[i].step);
				goto out;
			}
			if (hooks->step(c, t->v[i].step, hooks->arg, &err) != 0) {
				*cause = xasprintf("step %s before migration %s failed: %s",
				    t->v[i].step, t->v[i].name, err);
				goto out;
			}
		}
		if (exec_ok(c, t->v[i].sql, &err) != 0) {
			*cause = xasprintf("migration %s failed: %s", t->v[i].name, err);
			goto out;
		}
		snprintf(ver, sizeof(ver), "%d", t->v[i].version);
		snprintf(compat, sizeof(compat), "%d", t->v[i].compat);
		vals[0] = ver;
		vals[1] = t->v[i].name;
		vals[2] = t->v[i].sha;
		vals[3] = compat;
		if (exec_params_ok(c, "INSERT INTO fund_meta.migration (version, name, sha256, "
		    "compatible_from) VALUES ($1, $2, $3, $4)", 4, vals, &err) != 0) {
			*cause = xasprintf("cannot record migration %s: %s", t->v[i].name, err);
			goto out;
		}
		printf("applied %s\n", t->v[i].name);
		if (t->v[i].vacuum != NULL)
			*vacuum = t->v[i].vacuum;
		nv++;
	}
	*changed += nv;
	/*
	 * Repeatable files: those that changed, and all of them after a versioned file, which
	 * may have dropped a view or function to change what it depends on. Bodies are
	 * checked when called, so a file may use what a later one defines.
	 */
	if (t->nr > 0 && exec_ok(c, "SET LOCAL check_function_bodies = off", &err) != 0) {
		*cause = xasprintf("cannot prepare repeatable files: %s", err);
		goto out;
	}
	for (i = 0; i < t->nr; i++) {
		const char *sha = repeatable_sha(&s, t->r[i].name);

		if (nv == 0 && sha != NULL && strcmp(sha, t->r[i].sha) == 0)
			continue;
		if (exec_ok(c, t->r[i].sql, &err) != 0) {
			*cause = xasprintf("%s/%s failed: %s", MIGRATE_REPEATABLE_DIR,
			    t->r[i].name, err);
			goto out;
		}
		vals[0] = t->r[i].name;
		vals[1] = t->r[i].sha;
		if (exec_params_ok(c, "INSERT INTO fund_meta.repeatable (name, sha256) "
		    "VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET sha256 = EXCLUDED.sha256,"
		    " applied_at = now()", 2, vals, &err) != 0) {
			*cause = xasprintf("cannot record %s/%s: %s", MIGRATE_REPEATABLE_DIR,
			    t->r[i].name, err);
			goto out;
		}
		printf("applied %s/%s\n", MIGRATE_REPEATABLE_DIR, t->r[i].name);
		(*changed)++;
	}
	for (i = 0; i < s.nra; i++) {
		if (repeatable_in_tree(t, s.ra[i].name))
			continue;
		vals[0] = s.ra[i].name;
		if (exec_params_ok(c, "DELETE FROM fund_meta.repeatable WHERE name = $1", 1,
		    vals, &err) != 0) {
			*cause = xasprintf("cannot forget %s/%s: %s", MIGRATE_REPEATABLE_DIR,
			    s.ra[i].name, err);
			goto out;
		}
		printf("forgot %s/%s: no such file (what it defined stays until a versioned "
		    "migration drops it)\n", MIGRATE_REPEATABLE_DIR, s.ra[i].name);
		(*changed)++;
	}
	/* api.call() dispatches to every method function: generated once, at the end */
	if (*changed > 0 && exec_ok(c, "DO $$ BEGIN IF to_regprocedure('fl.rebuild_dispatch()') "
	    "IS NOT NULL THEN PERFORM fl.rebuild_dispatch(); END IF; END $$", &err) != 0) {
		*cause = xasprintf("rebuilding the dispatcher failed: %s", err);
		goto out;
	}
	/* in every run: the roles of this fundd's methods, and every privilege */
	if (methods_record(c, changed, cause) != 0)
		goto out;
	if (exec_ok(c, "DO $$ BEGIN IF to_regprocedure('fl.apply_privileges()') IS NOT NULL "
	    "THEN PERFORM fl.apply_privileges(); END IF; END $$", &err) != 0) {
		*cause = xasprintf("setting the privileges failed: %s", err);
		goto out;
	}
	rc = 0;
out:
	free(err);
	state_free(&s);
	return rc;
}

/* VACUUM FULL of each table of list ("fl.a fl.b"), each its own statement. */
static int
vacuum_full(PGconn *c, const char *list, char **cause)
{
	char	*copy = xstrdup(list), *tok, *save = NULL, *sql, *err = NULL;
	int	 rc = 0;

	for (tok = strtok_r(copy, " ", &save); tok != NULL && rc == 0;
	    tok = strtok_r(NULL, " ", &save)) {
		sql = xasprintf("VACUUM (FULL, ANALYZE) %s", tok);
		if (exec_ok(c, sql, &err) != 0) {
			*cause = xasprintf("VACUUM FULL %s failed: %s; run it again by hand",
			    tok, err);
			rc = -1;
		} else
			printf("rewrote %s (VACUUM FULL)\n", tok);
		free(sql);
	}
	free(err);
	free(copy);
	return rc;
}

int
migrate_apply(PGconn *c, const char *dir, const struct migrate_hooks *hooks, char **cause)
{
	struct mtree	 t;
	char		*err = NULL;
	const char	*vacuum = NULL;
	int		 changed = 0, rc = -1;

	if (tree_load(dir, &t, cause) != 0)
		return -1;
	if (exec_ok(c, "SET client_min_messages = warning; "
	    "SELECT pg_advisory_lock(" MIGRATE_LOCK_ID ")", &err) != 0) {
		*cause = xasprintf("cannot prepare migrations: %s", err);
		free(err);
		tree_free(&t);
		return -1;
	}
	if (exec_ok(c, "BEGIN", &err) != 0) {
		*cause = xasprintf("cannot begin: %s", err);
		goto out;
	}
	if (apply_all(c, &t, hooks, &changed, &vacuum, cause) != 0) {
		(void)exec_ok(c, "ROLLBACK", &err);
		goto out;
	}
	if (exec_ok(c, "COMMIT", &err) != 0) {
		*cause = xasprintf("migrations failed at commit: %s", err);
		goto out;
	}
	if (changed == 0)
		printf("schema is up to date (%d migrations, %d repeatable files)\n", t.nv,
		    t.nr);
	if (vacuum != NULL && vacuum_full(c, vacuum, cause) != 0)
		goto out;
	rc = 0;
out:
	free(err);
	err = NULL;
	(void)exec_ok(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_ID ")", &err);
	free(err);
	tree_free(&t);
	return rc;
}

int
migrate_check(PGconn *c, const char *dir, char **cause)
{
	struct mtree	 t;
	struct mstate	 s;
	int		 i, from = 0, rc = -1;

	if (tree_load(dir, &t, cause) != 0)
		return -1;
	if (state_load(c, &t, &s, cause) != 0)
		goto out;
	if (s.nva < 0) {
		*cause = xasprintf("the database has no schema yet: %d migrations pending; "
		    "run 'fundd -c FILE migrate'", t.nv);
		goto out;
	}
	/* an earlier form first: it names what the operator would otherwise wonder about */
	for (i = 0; i < s.pending; i++) {
		if (s.reworked[i]) {
			*cause = xasprintf("the database ran an earlier form of migration %s; "
			    "run 'fundd -c FILE migrate'", t.v[i].name);
			goto out;
		}
	}
	if (s.pending < t.nv) {
		*cause = xasprintf("the database schema is behind: %d migrations pending "
		    "(first %s); run 'fundd -c FILE migrate'", t.nv - s.pending,
		    t.v[s.pending].name);
		goto out;
	}
	if (s.nnewer > 0 ? newer_check(&t, &s, &from, cause) != 0 :
	    repeatable_check(&t, &s, cause) != 0)
		goto out;
	if (methods_check(c, s.nnewer > 0, cause) != 0)
		goto out;
	if (s.nnewer > 0)
		log_info("the database's schema is newer than this fundd's migrations (%d more, "
		    "up to %s) and serves fundd from %04d on: serving it", s.nnewer,
		    s.va[s.nva - 1].name, from);
	rc = 0;
out:
	state_free(&s);
	tree_free(&t);
	return rc;
}
