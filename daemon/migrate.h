/*
 * migrate.h: schema migrations (migrations/NNNN_name.sql), applied in order, each in one
 * transaction, recorded in fund_meta.migration with its SHA-256. Blocking libpq: used by
 * the command line and once at start-up, never on the event loop.
 */
#ifndef FUND_MIGRATE_H
#define FUND_MIGRATE_H

#include <libpq-fe.h>

/* Apply pending migrations from dir. Prints one line per applied file to stdout.
 * Returns 0, or -1 with *cause. */
int	migrate_apply(PGconn *, const char *dir, char **cause);
/* 0 when the database is at the migrations' head; -1 with *cause naming what is
 * pending or changed. */
int	migrate_check(PGconn *, const char *dir, char **cause);

/* Blocking connect for command-line use; -1 with *cause. */
int	db_connect_blocking(const char *dsn, PGconn **out, char **cause);

#endif
