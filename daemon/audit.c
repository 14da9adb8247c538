/* audit.c: the signing key, its messages, and worker 0's chain and checkpoint timers. */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "audit.h"
#include "db_pool.h"
#include "log.h"
#include "metrics.h"
#include "queries.h"
#include "util.h"

struct audit_key {
	EVP_PKEY	*pkey;
	char		*pub_pem;
	char		 raw_hex[AUDIT_KEY_HEX];	/* the raw public key */
	char		 id[AUDIT_KEY_ID];
};

struct audit_runner {
	struct db_pool		*pool;
	const struct audit_key	*key;
	long			 chain_ms;
	long			 checkpoint_s;
	struct event		*ev_chain;
	struct event		*ev_checkpoint;
	struct db_query		*q_chain;
	struct db_query		*q_due;
	struct db_query		*q_store;
	int			 stopped;
	int			 chain_failing;
	int			 store_failing;
	char			*key_note;	/* the key's state, as last logged */
};

int
audit_key_load(const char *path, struct audit_key **out, char **cause)
{
	struct audit_key	*k;
	struct stat		 st;
	FILE			*f;
	BIO			*b;
	BUF_MEM			*bm;
	unsigned char		 raw[32], md[32];
	size_t			 rawlen = sizeof(raw);
	int			 fd;

	*out = NULL;
	if (path == NULL || *path == '\0') {
		*cause = xstrdup("[audit] signing_key is not set: the audit trail needs an "
		    "Ed25519 key (openssl genpkey -algorithm ed25519 -out FILE; chmod 600 FILE)");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*cause = xasprintf("[audit] signing_key %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		close(fd);
		*cause = xasprintf("[audit] signing_key %s: %s", path, strerror(errno));
		return -1;
	}
	if (key_file_private(&st, "[audit] signing_key", path, cause) != 0) {
		close(fd);
		return -1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		*cause = xasprintf("[audit] signing_key %s: %s", path, strerror(errno));
		return -1;
	}
	k = xcalloc(1, sizeof(*k));
	k->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k->pkey == NULL || EVP_PKEY_get_id(k->pkey) != EVP_PKEY_ED25519) {
		audit_key_free(k);
		*cause = xasprintf("[audit] signing_key %s: not a PEM Ed25519 private key", path);
		return -1;
	}
	if ((b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_PUBKEY(b, k->pkey) != 1) {
		BIO_free(b);
		audit_key_free(k);
		*cause = xasprintf("[audit] signing_key %s: cannot derive the public key", path);
		return -1;
	}
	BIO_get_mem_ptr(b, &bm);
	k->pub_pem = xcalloc(1, bm->length + 1);
	memcpy(k->pub_pem, bm->data, bm->length);
	BIO_free(b);
	if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &rawlen) != 1 || rawlen != sizeof(raw) ||
	    EVP_Digest(raw, rawlen, md, NULL, EVP_sha256(), NULL) != 1) {
		audit_key_free(k);
		*cause = xasprintf("[audit] signing_key %s: cannot derive the public key", path);
		return -1;
	}
	hex_encode(raw, sizeof(raw), k->raw_hex);
	hex_encode(md, (AUDIT_KEY_ID - 1) / 2, k->id);
	*out = k;
	return 0;
}

void
audit_key_free(struct audit_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k->pub_pem);
	free(k);
}

const char *
audit_key_public_pem(const struct audit_key *k)
{
	return k->pub_pem;
}

const char *
audit_key_public_hex(const struct audit_key *k)
{
	return k->raw_hex;
}

const char *
audit_key_id(const struct audit_key *k)
{
	return k->id;
}

int
audit_checkpoint_message(char *buf, size_t len, const char *seq, const char *head_hash,
    const char *signed_at)
{
	return snprintf(buf, len, "fl-audit-checkpoint\n%s\n%s\n%s\n", seq, head_hash,
	    signed_at);
}

int
audit_key_message(char *buf, size_t len, const char *key_no, const char *from_seq,
    const char *public_hex, const char *introduced_at)
{
	return snprintf(buf, len, "fl-audit-key\n%s\n%s\n%s\n%s\n", key_no, from_seq,
	    public_hex, introduced_at);
}

/* Sign the n bytes of msg into hex. 0 or -1. */
static int
sign_message(const struct audit_key *k, const char *msg, int n, char hex[AUDIT_SIG_HEX])
{
	unsigned char	 sig[64];
	size_t		 siglen = sizeof(sig);
	EVP_MD_CTX	*md;
	int		 rc = -1;

	if (n < 0 || (md = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)msg, (size_t)n) == 1 &&
	    siglen == sizeof(sig)) {
		hex_encode(sig, siglen, hex);
		rc = 0;
	}
	EVP_MD_CTX_free(md);
	return rc;
}

int
audit_sign(const struct audit_key *k, const char *seq, const char *head_hash,
    const char *signed_at, char hex[AUDIT_SIG_HEX])
{
	char	msg[256];
	int	n;

	n = audit_checkpoint_message(msg, sizeof(msg), seq, head_hash, signed_at);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -1;
	return sign_message(k, msg, n, hex);
}

int
audit_sign_key(const struct audit_key *k, const char *key_no, const char *from_seq,
    const char *public_hex, const char *introduced_at, char hex[AUDIT_SIG_HEX])
{
	char	msg[256];
	int	n;

	n = audit_key_message(msg, sizeof(msg), key_no, from_seq, public_hex, introduced_at);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return -1;
	return sign_message(k, msg, n, hex);
}

int
audit_verify_key(const struct audit_key *k, const char *key_no, const char *from_seq,
    const char *public_hex, const char *introduced_at, const char *sig_hex)
{
	unsigned char	 sig[64];
	char		 msg[256];
	unsigned int	 c;
	EVP_MD_CTX	*md;
	size_t		 i;
	int		 n, rc = -1;

	n = audit_key_message(msg, sizeof(msg), key_no, from_seq, public_hex, introduced_at);
	if (n < 0 || (size_t)n >= sizeof(msg) || strlen(sig_hex) != 2 * sizeof(sig))
		return -1;
	for (i = 0; i < sizeof(sig); i++) {
		if (sscanf(sig_hex + 2 * i, "%2x", &c) != 1)
			return -1;
		sig[i] = (unsigned char)c;
	}
	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestVerify(md, sig, sizeof(sig), (const unsigned char *)msg, (size_t)n) == 1)
		rc = 0;
	EVP_MD_CTX_free(md);
	return rc;
}

/* The runner ------------------------------------------------------------------------- */

static void
arm(struct event *ev, long ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

static void
chain_done(void *arg, enum db_status st, const PGresult *res)
{
	struct audit_runner	*r = arg;
	long			 n = 0;

	r->q_chain = NULL;
	if (st == DB_OK && PQresultStatus(res) == PGRES_TUPLES_OK) {
		n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		if (r->chain_failing)
			log_info("audit chain: extending again");
		r->chain_failing = 0;
	} else if (st == DB_OK) {
		metrics_audit_failure(0);
		if (!r->chain_failing)
			log_warnx("audit chain: %s", PQresultErrorField(res,
			    PG_DIAG_MESSAGE_PRIMARY));
		r->chain_failing = 1;
	}
	if (n > 0)
		log_debug("audit chain: %ld events chained", n);
	if (!r->stopped)
		arm(r->ev_chain, n >= AUDIT_CHAIN_BATCH ? 0 : r->chain_ms);	/* catch up */
}

static void
chain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct audit_runner	*r = arg;
	const char		*vals[1];
	char			 max[16];

	(void)fd;
	(void)what;
	if (r->stopped || r->q_chain != NULL)
		return;
	if (db_pool_healthy(r->pool) <= 0) {
		arm(r->ev_chain, r->chain_ms);
		return;
	}
	snprintf(max, sizeof(max), "%d", AUDIT_CHAIN_BATCH);
	vals[0] = max;
	r->q_chain = db_query(r->pool, Q_AUDIT_CHAIN, vals, DB_Q_WRITE, chain_done, r);
}

static void
store_done(void *arg, enum db_status st, const PGresult *res)
{
	struct audit_runner	*r = arg;

	r->q_store = NULL;
	if (st != DB_OK)
		return;
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		if (r->store_failing)
			log_info("audit checkpoints: stored again");
		r->store_failing = 0;
		metrics_audit_signing(1);
		return;
	}
	/* the database refused it: once per spell, not at every interval */
	metrics_audit_failure(1);
	if (!r->store_failing)
		log_error("audit checkpoint not stored: %s",
		    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	r->store_failing = 1;
	metrics_audit_signing(0);
}

/* The state of the key (fl.audit_key_state), logged when it changes: may it sign? */
static int
key_state(struct audit_runner *r, const char *state, const char *note)
{
	int	ok = strcmp(state, "current") == 0 || strcmp(state, "first") == 0;

	metrics_audit_signing(ok && !r->store_failing);
	if (r->key_note != NULL && strcmp(r->key_note, note) == 0)
		return ok;
	free(r->key_note);
	r->key_note = xstrdup(note);
	if (ok)
		log_info("audit checkpoints: %s", note);
	else
		log_error("audit checkpoints: signing none: %s; [audit] signing_key must be the "
		    "current key (docs/operations.md, \"Rotate the audit signing key\")", note);
	return ok;
}

static void
due_done(void *arg, enum db_status st, const PGresult *res)
{
	struct audit_runner	*r = arg;
	const char		*vals[5];
	char			 sig[AUDIT_SIG_HEX];

	r->q_due = NULL;
	if (st != DB_OK || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    r->stopped)
		return;
	if (!key_state(r, PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4)) ||
	    PQgetisnull(res, 0, 0))
		return;
	vals[0] = PQgetvalue(res, 0, 0);
	vals[1] = PQgetvalue(res, 0, 1);
	vals[2] = PQgetvalue(res, 0, 2);
	if (audit_sign(r->key, vals[0], vals[1], vals[2], sig) != 0) {
		metrics_audit_failure(1);
		log_warnx("audit checkpoint: signing failed");
		return;
	}
	vals[3] = sig;
	vals[4] = audit_key_public_pem(r->key);
	log_debug("audit checkpoint: signing seq %s", vals[0]);
	r->q_store = db_query(r->pool, Q_AUDIT_CHECKPOINT, vals, DB_Q_WRITE, store_done, r);
}

static void
checkpoint_cb(evutil_socket_t fd, short what, void *arg)
{
	struct audit_runner	*r = arg;

	(void)fd;
	(void)what;
	if (r->stopped)
		return;
	if (r->q_due == NULL && r->q_store == NULL && db_pool_healthy(r->pool) > 0) {
		const char	*vals[1] = { audit_key_public_pem(r->key) };

		r->q_due = db_query(r->pool, Q_AUDIT_DUE, vals, 0, due_done, r);
	}
	arm(r->ev_checkpoint, r->checkpoint_s * 1000);
}

struct audit_runner *
audit_runner_start(struct db_pool *pool, const struct audit_key *key, long chain_ms,
    long checkpoint_s)
{
	struct audit_runner	*r = xcalloc(1, sizeof(*r));

	r->pool = pool;
	r->key = key;
	r->chain_ms = chain_ms;
	r->checkpoint_s = checkpoint_s;
	r->ev_chain = evtimer_new(db_pool_base(pool), chain_cb, r);
	r->ev_checkpoint = evtimer_new(db_pool_base(pool), checkpoint_cb, r);
	if (chain_ms > 0)
		arm(r->ev_chain, chain_ms);
	else
		log_warnx("audit chain paused ([audit] chain_interval_ms = 0): events stay "
		    "unchained");
	/* soon, so that the log says early whether the key may sign */
	arm(r->ev_checkpoint, 1000);
	return r;
}

void
audit_runner_stop(struct audit_runner *r)
{
	if (r == NULL)
		return;
	r->stopped = 1;
	evtimer_del(r->ev_chain);
	evtimer_del(r->ev_checkpoint);
}

void
audit_runner_free(struct audit_runner *r)
{
	if (r == NULL)
		return;
	audit_runner_stop(r);
	if (r->q_chain != NULL)
		db_cancel(r->q_chain);
	if (r->q_due != NULL)
		db_cancel(r->q_due);
	if (r->q_store != NULL)
		db_cancel(r->q_store);
	event_free(r->ev_chain);
	event_free(r->ev_checkpoint);
	free(r->key_note);
	free(r);
}
