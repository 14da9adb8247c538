/*
 * audit.h: the daemon's side of the audit trail (docs/audit.md): the Ed25519 signing key,
 * and worker 0's two timers, which extend the hash chain (fl.audit_chain) and sign its
 * head into a checkpoint. Events themselves are written by the SQL of each call.
 */
#ifndef FUND_AUDIT_H
#define FUND_AUDIT_H

#include <stddef.h>

struct audit_key;
struct audit_runner;
struct db_pool;

#define AUDIT_CHAIN_BATCH	5000	/* events chained per round at most */
#define AUDIT_SIG_HEX		129	/* 64 bytes in hex, and the NUL */

/* Read the PEM Ed25519 private key at path. Refused, with a one-line *cause, when the
 * file is not a regular file, is readable or writable by group or others, or holds
 * another kind of key. The key's bytes are never logged. */
int			 audit_key_load(const char *path, struct audit_key **out,
			    char **cause);
void			 audit_key_free(struct audit_key *);
/* The public key, as PEM (SubjectPublicKeyInfo). */
const char		*audit_key_public_pem(const struct audit_key *);
/* Sign "fl-audit-checkpoint\n<seq>\n<head_hash>\n<signed_at>\n" into hex. 0 or -1. */
int			 audit_sign(const struct audit_key *, const char *seq,
			    const char *head_hash, const char *signed_at,
			    char hex[AUDIT_SIG_HEX]);
/* The same message, for tests and the verifier: writes at most len bytes, returns the
 * full length (like snprintf). */
int			 audit_checkpoint_message(char *buf, size_t len, const char *seq,
			    const char *head_hash, const char *signed_at);

/* Chain every chain_interval_ms (0: never) and sign every checkpoint_interval_s, through
 * pool, on its loop (worker 0's). The key must outlive the runner. */
struct audit_runner	*audit_runner_start(struct db_pool *pool, const struct audit_key *,
			    long chain_interval_ms, long checkpoint_interval_s);
/* Stop the timers (drain); outstanding queries finish. */
void			 audit_runner_stop(struct audit_runner *);
void			 audit_runner_free(struct audit_runner *);

#endif
