/*
 * migrate.h: the schema runner. migrations/NNNN_name.sql are versioned files, applied once
 * in order (tables, constraints, indexes, data changes); migrations/functions/NN_area.sql
 * are repeatable files (functions, triggers, views and their grants, in their current form),
 * applied again whenever they change. A run applies what is pending in one transaction and
 * records each file's SHA-256 in schema fund_meta. Blocking libpq: used by the command line
 * and once at start-up, never on the event loop.
 */
#ifndef FUND_MIGRATE_H
#define FUND_MIGRATE_H

#include <libpq-fe.h>

/* fundd's steps that versioned files may ask for ("-- fundd-step: NAME"): step runs the
 * one named in the run's transaction, before that file; 0 or -1 with *cause. */
struct migrate_hooks {
	int	(*step)(PGconn *, const char *name, void *arg, char **cause);
	void	*arg;
};

/* Apply what is pending from dir. Prints one line per file applied to stdout. A file that
 * names a step needs hooks. Returns 0, or -1 with *cause. */
int	migrate_apply(PGconn *, const char *dir, const struct migrate_hooks *,
	    char **cause);
/* 0 when the database is at the tree's state, or at a newer release's that says it serves
 * this tree (docs/migrations.md, "Rolling upgrades"); -1 with *cause naming what is
 * pending, changed or newer. */
int	migrate_check(PGconn *, const char *dir, char **cause);

/* Blocking connect for command-line use; -1 with *cause. */
int	db_connect_blocking(const char *dsn, PGconn **out, char **cause);

#endif
