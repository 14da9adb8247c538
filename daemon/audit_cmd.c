/*
 * audit_cmd.c: the operator's commands on the audit signing keys (docs/audit.md, "Signing
 * keys"; docs/operations.md): `audit rotate-key NEWKEY` introduces a new key, signed with
 * the configured one, and `audit keys` lists the chain. Blocking libpq on [database]
 * migrate_dsn, in one transaction; command line only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "audit.h"
#include "audit_cmd.h"
#include "config.h"
#include "migrate.h"
#include "util.h"

/* Run a statement with text params; the result, or NULL with *cause (the statement's
 * error, the transaction then aborted). */
static PGresult *
run(PGconn *db, const char *sql, int n, const char *const *vals, char **cause)
{
	PGresult	*r = PQexecParams(db, sql, n, NULL, vals, NULL, NULL, 0);
	const char	*m;

	if (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK)
		return r;
	m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	*cause = xstrdup(m != NULL ? m : PQerrorMessage(db));
	PQclear(r);
	return NULL;
}

/* Sign the chain head with the old key when it moved past the last checkpoint, so that
 * the old key covers everything up to the rotation; refused unless the old key is the
 * current one (or becomes key 1). */
static int
sign_head(PGconn *db, const struct audit_key *old, char **cause)
{
	const char	*vals[5];
	char		 sig[AUDIT_SIG_HEX];
	PGresult	*r, *s;
	int		 rc = -1;

	vals[0] = audit_key_public_pem(old);
	if ((r = run(db, "SELECT seq, head_hash, signed_at, key_state, key_note "
	    "FROM fl.audit_checkpoint_due($1)", 1, vals, cause)) == NULL)
		return -1;
	if (strcmp(PQgetvalue(r, 0, 3), "current") != 0 &&
	    strcmp(PQgetvalue(r, 0, 3), "first") != 0) {
		*cause = xasprintf("the configured [audit] signing_key cannot introduce a key: "
		    "%s", PQgetvalue(r, 0, 4));
		goto out;
	}
	if (PQgetisnull(r, 0, 0)) {
		rc = 0;
		goto out;
	}
	vals[0] = PQgetvalue(r, 0, 0);
	vals[1] = PQgetvalue(r, 0, 1);
	vals[2] = PQgetvalue(r, 0, 2);
	if (audit_sign(old, vals[0], vals[1], vals[2], sig) != 0) {
		*cause = xstrdup("cannot sign the chain head");
		goto out;
	}
	vals[3] = sig;
	vals[4] = audit_key_public_pem(old);
	if ((s = run(db, "SELECT fl.audit_checkpoint_add($1::bigint, $2, $3, $4, $5)", 5,
	    vals, cause)) == NULL)
		goto out;
	printf("checkpoint at seq %s signed with the configured key\n", vals[0]);
	PQclear(s);
	rc = 0;
out:
	PQclear(r);
	return rc;
}

static int
rotate(PGconn *db, const struct audit_key *old, const struct audit_key *new,
    char **cause)
{
	const char	*vals[5];
	char		 sig[AUDIT_SIG_HEX];
	PGresult	*r = NULL, *a = NULL;
	int		 rc = -1;

	if ((a = run(db, "BEGIN", 0, NULL, cause)) == NULL)
		return -1;
	PQclear(a);
	a = NULL;
	if (sign_head(db, old, cause) != 0)
		goto out;
	vals[0] = audit_key_public_pem(old);
	if ((r = run(db, "SELECT key_no, from_seq, introduced_at FROM fl.audit_key_next($1)",
	    1, vals, cause)) == NULL)
		goto out;
	if (audit_sign_key(old, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
	    audit_key_public_hex(new), PQgetvalue(r, 0, 2), sig) != 0 ||
	    audit_verify_key(old, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1),
	    audit_key_public_hex(new), PQgetvalue(r, 0, 2), sig) != 0) {
		*cause = xstrdup("cannot sign the new key's introduction");
		goto out;
	}
	vals[0] = PQgetvalue(r, 0, 0);
	vals[1] = PQgetvalue(r, 0, 1);
	vals[2] = audit_key_public_pem(new);
	vals[3] = PQgetvalue(r, 0, 2);
	vals[4] = sig;
	if ((a = run(db, "SELECT fl.audit_key_add($1::int, $2::bigint, $3, $4, $5)", 5, vals,
	    cause)) == NULL)
		goto out;
	PQclear(a);
	if ((a = run(db, "COMMIT", 0, NULL, cause)) == NULL)
		goto out;
	printf("audit signing key %s (id %s) introduced, signed with key %s: it signs the "
	    "checkpoints from seq %s on, and key %s signs none from then on.\n"
	    "Point [audit] signing_key at the new key in the configuration of every fundd on "
	    "this database and restart them (docs/operations.md).\n", vals[0],
	    audit_key_id(new), audit_key_id(old), vals[1], audit_key_id(old));
	rc = 0;
out:
	PQclear(a);
	PQclear(r);
	return rc;
}

static int
list_keys(PGconn *db, const struct audit_key *mine, char **cause)
{
	PGresult	*r;
	int		 i;

	if ((r = run(db, "SELECT key_no, key_id, from_seq, fl.ts(introduced_at), "
	    "coalesce(signed_by::text, 'none (trust on first use)') FROM fl.audit_key "
	    "ORDER BY key_no", 0, NULL, cause)) == NULL)
		return -1;
	if (PQntuples(r) == 0)
		printf("no audit signing key yet: the first daemon to sign a checkpoint "
		    "registers its own (trust on first use)\n");
	else
		printf("%-4s %-16s %-12s %-27s %s\n", "key", "id", "from_seq", "introduced_at",
		    "signed by key");
	for (i = 0; i < PQntuples(r); i++)
		printf("%-4s %-16s %-12s %-27s %s%s\n", PQgetvalue(r, i, 0),
		    PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
		    PQgetvalue(r, i, 4), strcmp(PQgetvalue(r, i, 1), audit_key_id(mine)) == 0 ?
		    "  (the configured [audit] signing_key)" : "");
	PQclear(r);
	return 0;
}

int
audit_cmd(const struct cfg *cfg, int argc, char **argv)
{
	struct audit_key	*old = NULL, *new = NULL;
	PGconn			*db = NULL;
	char			*cause = NULL;
	int			 rc = 1, rotating;

	rotating = argc == 2 && strcmp(argv[0], "rotate-key") == 0;
	if (!rotating && !(argc == 1 && strcmp(argv[0], "keys") == 0)) {
		fprintf(stderr, "fundd: usage: fundd -c FILE audit rotate-key NEWKEY | "
		    "audit keys (see fundd --help)\n");
		return 2;
	}
	if (audit_key_load(cfg->signing_key, &old, &cause) != 0 ||
	    (rotating && audit_key_load(argv[1], &new, &cause) != 0)) {
		rc = 2;
		goto out;
	}
	if (rotating && strcmp(audit_key_id(old), audit_key_id(new)) == 0) {
		cause = xasprintf("%s is the configured [audit] signing_key already", argv[1]);
		rc = 2;
		goto out;
	}
	if (db_connect_blocking(cfg->migrate_dsn, &db, &cause) != 0 ||
	    migrate_check(db, cfg->migrations, &cause) != 0)
		goto out;
	if (rotating ? rotate(db, old, new, &cause) : list_keys(db, old, &cause))
		goto out;
	rc = 0;
out:
	if (cause != NULL) {
		fprintf(stderr, "fundd: %s%s\n", rotating ? "audit rotate-key: " : "", cause);
		free(cause);
	}
	if (db != NULL)
		PQfinish(db);
	audit_key_free(old);
	audit_key_free(new);
	return rc;
}
