/*
 * audit.h: the daemon's side of the audit trail (docs/audit.md): the Ed25519 signing key
 * and the messages it signs, and worker 0's two timers, which extend the hash chain
 * (fl.audit_chain) and sign its head into a checkpoint when the database says the key is
 * its current signing key. Events themselves are written by the SQL of each call.
 */
#ifndef FUND_AUDIT_H
#define FUND_AUDIT_H

#include <stddef.h>

struct audit_key;
struct audit_runner;
struct db_pool;

#define AUDIT_CHAIN_BATCH	5000	/* events chained per round at most */
#define AUDIT_SIG_HEX		129	/* 64 bytes in hex, and the NUL */
#define AUDIT_KEY_HEX		65	/* a raw public key (32 bytes) in hex, and the NUL */
#define AUDIT_KEY_ID		17	/* a key's id: 16 hex digits of its SHA-256 */

/* Read the PEM Ed25519 private key at path. Refused, with a one-line *cause, when the
 * file is not a regular file, is readable or writable by group or others, or holds
 * another kind of key. The key's bytes are never logged. */
int			 audit_key_load(const char *path, struct audit_key **out,
			    char **cause);
void			 audit_key_free(struct audit_key *);
/* The public key, as PEM (SubjectPublicKeyInfo); its 32 raw bytes in hex; its id, the
 * first 16 hex digits of the SHA-256 of the raw bytes. */
const char		*audit_key_public_pem(const struct audit_key *);
const char		*audit_key_public_hex(const struct audit_key *);
const char		*audit_key_id(const struct audit_key *);
/* Sign "fl-audit-checkpoint\n<seq>\n<head_hash>\n<signed_at>\n" into hex. 0 or -1. */
int			 audit_sign(const struct audit_key *, const char *seq,
			    const char *head_hash, const char *signed_at,
			    char hex[AUDIT_SIG_HEX]);
/* The same message, for tests and the verifier: writes at most len bytes, returns the
 * full length (like snprintf). */
int			 audit_checkpoint_message(char *buf, size_t len, const char *seq,
			    const char *head_hash, const char *signed_at);
/* Sign the introduction of a key, "fl-audit-key\n<key_no>\n<from_seq>\n<public key in
 * hex>\n<introduced_at>\n", into hex; check such a signature (0 when it verifies). */
int			 audit_sign_key(const struct audit_key *, const char *key_no,
			    const char *from_seq, const char *public_hex,
			    const char *introduced_at, char hex[AUDIT_SIG_HEX]);
int			 audit_verify_key(const struct audit_key *, const char *key_no,
			    const char *from_seq, const char *public_hex,
			    const char *introduced_at, const char *sig_hex);
int			 audit_key_message(char *buf, size_t len, const char *key_no,
			    const char *from_seq, const char *public_hex,
			    const char *introduced_at);

/* Chain every chain_interval_ms (0: never) and sign every checkpoint_interval_s, through
 * pool, on its loop (worker 0's). The key must outlive the runner. */
struct audit_runner	*audit_runner_start(struct db_pool *pool, const struct audit_key *,
			    long chain_interval_ms, long checkpoint_interval_s);
/* Stop the timers (drain); outstanding queries finish. */
void			 audit_runner_stop(struct audit_runner *);
void			 audit_runner_free(struct audit_runner *);

#endif
