/*
 * audit_verify.c: offline verifier of an audit trail export (docs/audit.md).
 *
 * Every line is one flat JSON object, read by audit_json.c; the values of
 * unknown keys are checked and skipped (forward compatibility: they are not
 * hashed). Then the fields are validated one by one, the canonical bytes are
 * rebuilt and hashed after the previous hash, and checkpoints are matched
 * against the chain and their Ed25519 signatures verified under the signing
 * key of their seq: the given key, or the last key line's. Key 1 must be the
 * given key, and every later key must be introduced with a signature of the
 * key before it.
 *
 * The first failure stops the verifier; its message names the line's event
 * or checkpoint and what is wrong with it.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fundctl.h"
#include "audit_json.h"
#include "audit_verify.h"

#define AV_TIME_LEN	27	/* YYYY-MM-DDTHH:MM:SS.ffffffZ */
#define AV_HASH_LEN	32
#define AV_SIG_LEN	64
#define AV_CP_MAGIC	"fl-audit-checkpoint\n"
#define AV_KEY_MAGIC	"fl-audit-key\n"
#define AV_KEY_LEN	32	/* a raw Ed25519 public key */

/* The keys of the three kinds of line; any other key is skipped. */
enum key {
	K_TYPE,
	K_SEQ,
	K_AT,
	K_PRINCIPAL_ID,
	K_METHOD,
	K_OBJECT_ID,
	K_OUTCOME,
	K_ERROR_CODE,
	K_REASON,
	K_PARAMS_SHA256,
	K_PREV_HASH,
	K_HASH,
	K_HEAD_HASH,
	K_SIGNED_AT,
	K_SIGNATURE,
	K_PUBLIC_KEY,
	K_PURPOSE,
	K_KEY_NO,
	K_KEY_ID,
	K_FROM_SEQ,
	K_INTRODUCED_AT,
	K__COUNT
};

#define KEY(s)	{ s, sizeof(s) - 1 }
static const struct aj_key keys[K__COUNT] = {
	KEY("type"), KEY("seq"), KEY("at"), KEY("principal_id"),
	KEY("method"), KEY("object_id"), KEY("outcome"), KEY("error_code"),
	KEY("reason"), KEY("params_sha256"), KEY("prev_hash"), KEY("hash"),
	KEY("head_hash"), KEY("signed_at"), KEY("signature"),
	KEY("public_key"), KEY("purpose"), KEY("key_no"), KEY("key_id"),
	KEY("from_seq"), KEY("introduced_at")
};
#undef KEY

struct av {
	EVP_PKEY	*pub;		/* the given key: key 1 */
	EVP_PKEY	*key;		/* the last key line's, once there is one */
	int64_t		 key_no;	/* its number, 0 before the first key line */
	int64_t		 key_from;	/* the seq from which it signs */
	char		 whobuf[48];	/* "key 2, from seq" */
	EVP_MD		*sha256;
	EVP_MD_CTX	*md;		/* event hashes, reused */
	EVP_MD_CTX	*vmd;		/* checkpoint signatures */

	struct av_result r;
	char		 msg[AV_MESSAGE_MAX];
	int		 finished;

	/* The chain so far. */
	int64_t		 last_seq;	/* the last event, 0 before the first */
	int		 last_chained;	/* was it chained? */
	int		 unchained_seen;
	int		 have_head;
	unsigned char	 head[AV_HASH_LEN];	/* hash of the last chained event */
	uint64_t	 covered;	/* events up to the last checkpoint */
	int64_t		 last_cp;	/* the last checkpoint's seq, 0 before one */

	/* The current line. */
	const char	*who;		/* "event seq", for messages, or NULL */
	int64_t		 seq;		/* known when who is set */
	struct aj_val	 v[K__COUNT];
	char		*dec;		/* decoded strings and keys */
	size_t		 decsz;
	unsigned char	*canon;		/* previous hash || canonical bytes */
	size_t		 canonsz;
};

static void	 set_head_hex(struct av *);

/* Failures */

static int FC_PRINTF(2, 3)
fail(struct av *v, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 off = 0;
	int	 n;

	if (v->who != NULL) {
		n = snprintf(v->msg, sizeof v->msg, "%s %lld: ", v->who,
		    (long long)v->seq);
		off = n > 0 && (size_t)n < sizeof v->msg ? (size_t)n : 0;
	}
	va_start(ap, fmt);
	vsnprintf(v->msg + off, sizeof v->msg - off, fmt, ap);
	va_end(ap);
	v->r.failed = 1;
	v->r.seq = v->seq;
	v->r.message = v->msg;
	set_head_hex(v);
	return -1;
}

/* Hex */

/* Value + 1 of a lower-case hex digit, 0 for any other byte. */
static const unsigned char hex_tab[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16
};

/* Lower-case hex of exactly 2 * n digits into out[n]. Without branches on
 * the digits, which are random. */
static int
unhex(const char *s, size_t len, unsigned char *out, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;
	unsigned int		 hi, lo, bad = 0;

	if (len != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		hi = hex_tab[u[2 * i]];
		lo = hex_tab[u[2 * i + 1]];
		bad |= (hi == 0) | (lo == 0);
		out[i] = (unsigned char)((hi - 1) << 4 | (lo - 1));
	}
	return bad ? -1 : 0;
}

static void
set_head_hex(struct av *v)
{
	static const char	 xd[] = "0123456789abcdef";
	size_t			 i;

	v->r.head_hash[0] = '\0';
	if (!v->have_head)
		return;
	for (i = 0; i < AV_HASH_LEN; i++) {
		v->r.head_hash[2 * i] = xd[v->head[i] >> 4];
		v->r.head_hash[2 * i + 1] = xd[v->head[i] & 0xf];
	}
	v->r.head_hash[2 * AV_HASH_LEN] = '\0';
}

/* Fields */

static int
missing(struct av *v, enum key k)
{
	return fail(v, "missing field \"%s\"", keys[k].name);
}

/* A positive integer. */
static int
field_pos(struct av *v, enum key k, int64_t *out)
{
	const struct aj_val	*f = &v->v[k];
	int64_t			 n = 0;
	size_t			 i;

	if (f->kind == AJ_ABSENT)
		return missing(v, k);
	if (f->kind != AJ_INTEGER || f->p[0] == '-' || f->p[0] == '0' ||
	    f->len > 19)
		return fail(v, "field \"%s\" must be a positive integer",
		    keys[k].name);
	for (i = 0; i < f->len; i++) {
		if (n > (INT64_MAX - (f->p[i] - '0')) / 10)
			return fail(v, "field \"%s\" is too large", keys[k].name);
		n = n * 10 + (f->p[i] - '0');
	}
	*out = n;
	return 0;
}

/* The seq of an event or checkpoint, which then names it in messages. */
static int
field_seq(struct av *v, const char *what)
{
	int64_t	n;

	if (field_pos(v, K_SEQ, &n) == -1)
		return -1;
	v->seq = n;
	v->who = what;
	return 0;
}

/* A checkpoint after a key line is in that key's range. */
static int
in_key_range(struct av *v)
{
	if (v->key_no > 0 && v->seq < v->key_from)
		return fail(v, "it comes after the line of key %lld, which signs "
		    "from seq %lld (lines out of order)", (long long)v->key_no,
		    (long long)v->key_from);
	return 0;
}

/* A field that is hashed as text: a non-empty ASCII string without a line
 * feed, or (nullable) null. */
static int
field_text(struct av *v, enum key k, int nullable)
{
	const struct aj_val	*f = &v->v[k];

	if (f->kind == AJ_ABSENT)
		return missing(v, k);
	if (f->kind == AJ_NULL && nullable)
		return 0;
	if (f->kind != AJ_STRING)
		return fail(v, "field \"%s\" must be a string%s", keys[k].name,
		    nullable ? " or null" : "");
	if (f->len == 0)
		return fail(v, "field \"%s\" is empty%s", keys[k].name,
		    nullable ? " (an absent value is null)" : "");
	if (f->lf)
		return fail(v, "field \"%s\" contains a line feed",
		    keys[k].name);
	if (f->nonascii || f->nul)
		return fail(v, "field \"%s\" contains a NUL or a character "
		    "outside ASCII", keys[k].name);
	return 0;
}

static int
digits(const char *s, int n, int *out)
{
	int	i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

/* YYYY-MM-DDTHH:MM:SS.ffffffZ, a real date and time. */
static int
time_valid(const char *s, size_t len)
{
	static const int	 mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
				    31, 30, 31 };
	int			 y, mo, d, h, mi, sec, us, dim;

	if (len != AV_TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z')
		return 0;
	if (digits(s, 4, &y) == -1 || digits(s + 5, 2, &mo) == -1 ||
	    digits(s + 8, 2, &d) == -1 || digits(s + 11, 2, &h) == -1 ||
	    digits(s + 14, 2, &mi) == -1 || digits(s + 17, 2, &sec) == -1 ||
	    digits(s + 20, 6, &us) == -1)
		return 0;
	if (y < 1 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
		return 0;
	dim = mdays[mo - 1];
	if (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		dim = 29;
	return d >= 1 && d <= dim;
}

static int
field_time(struct av *v, enum key k)
{
	const struct aj_val	*f = &v->v[k];

	if (f->kind == AJ_ABSENT)
		return missing(v, k);
	if (f->kind != AJ_STRING)
		return fail(v, "field \"%s\" must be a string", keys[k].name);
	if (!time_valid(f->p, f->len))
		return fail(v, "field \"%s\" is not a UTC time of the form "
		    "YYYY-MM-DDTHH:MM:SS.ffffffZ", keys[k].name);
	return 0;
}

/* Lower-case hex of nbytes bytes into out, or (nullable) null: *isnull. */
static int
field_hex(struct av *v, enum key k, size_t nbytes, int nullable,
    unsigned char *out, int *isnull)
{
	const struct aj_val	*f = &v->v[k];

	if (isnull != NULL)
		*isnull = 0;
	if (f->kind == AJ_ABSENT)
		return missing(v, k);
	if (f->kind == AJ_NULL && nullable) {
		*isnull = 1;
		return 0;
	}
	if (f->kind != AJ_STRING || unhex(f->p, f->len, out, nbytes) == -1)
		return fail(v, "field \"%s\" must be %zu lower-case hex "
		    "digits%s", keys[k].name, 2 * nbytes,
		    nullable ? " or null" : "");
	return 0;
}

/* Events */

static void
canon_add(unsigned char **pp, const struct aj_val *f)
{
	if (f->kind == AJ_STRING || f->kind == AJ_INTEGER) {
		memcpy(*pp, f->p, f->len);
		*pp += f->len;
	}
	*(*pp)++ = '\n';
}

static int
event_hash(struct av *v, const unsigned char *prev, unsigned char *out)
{
	static const enum key	 order[] = { K_SEQ, K_AT, K_PRINCIPAL_ID,
				    K_METHOD, K_OBJECT_ID, K_OUTCOME,
				    K_ERROR_CODE, K_REASON, K_PARAMS_SHA256 };
	unsigned char		*p = v->canon;
	size_t			 i;
	unsigned int		 len;

	memcpy(p, prev, AV_HASH_LEN);
	p += AV_HASH_LEN;
	for (i = 0; i < sizeof order / sizeof order[0]; i++)
		canon_add(&p, &v->v[order[i]]);
	/* an access event's purpose: a tenth line */
	if (v->v[K_PURPOSE].kind == AJ_STRING)
		canon_add(&p, &v->v[K_PURPOSE]);
	if (EVP_DigestInit_ex(v->md, v->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(v->md, v->canon, (size_t)(p - v->canon)) != 1 ||
	    EVP_DigestFinal_ex(v->md, out, &len) != 1 || len != AV_HASH_LEN) {
		ERR_clear_error();
		return fail(v, "SHA-256 failed in OpenSSL");
	}
	return 0;
}

/* The purposes an access event may have (docs/privacy.md). */
static int
purpose_known(const struct aj_val *f)
{
	static const char *const known[] = { "case_management", "payment", "audit",
	    "data_subject_request" };
	size_t	i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (f->len == strlen(known[i]) && memcmp(f->p, known[i], f->len) == 0)
			return 1;
	return 0;
}

static int
do_event(struct av *v)
{
	static const unsigned char	 zero[AV_HASH_LEN];
	unsigned char			 prev[AV_HASH_LEN], hash[AV_HASH_LEN];
	unsigned char			 calc[AV_HASH_LEN], scratch[AV_HASH_LEN];
	const struct aj_val		*f;
	int				 ok, prev_null, hash_null, pnull;

	if (field_seq(v, "event seq") == -1 ||
	    field_time(v, K_AT) == -1 ||
	    field_text(v, K_PRINCIPAL_ID, 1) == -1 ||
	    field_text(v, K_METHOD, 0) == -1 ||
	    field_text(v, K_OBJECT_ID, 1) == -1)
		return -1;

	f = &v->v[K_OUTCOME];
	if (f->kind == AJ_ABSENT)
		return missing(v, K_OUTCOME);
	if (f->kind == AJ_STRING && f->len == 2 && memcmp(f->p, "ok", 2) == 0)
		ok = 1;
	else if (f->kind == AJ_STRING && f->len == 7 &&
	    memcmp(f->p, "refused", 7) == 0)
		ok = 0;
	else
		return fail(v, "field \"outcome\" must be \"ok\" or "
		    "\"refused\"");

	f = &v->v[K_ERROR_CODE];
	if (f->kind == AJ_ABSENT)
		return missing(v, K_ERROR_CODE);
	if (ok && f->kind != AJ_NULL)
		return fail(v, "field \"error_code\" must be null when the "
		    "outcome is ok");
	if (!ok && (f->kind != AJ_INTEGER || f->len > 11 ||
	    (f->len == 2 && memcmp(f->p, "-0", 2) == 0)))
		return fail(v, "field \"error_code\" must be an integer when "
		    "the outcome is refused");

	f = &v->v[K_REASON];
	if (ok && f->kind != AJ_NULL && f->kind != AJ_ABSENT)
		return fail(v, "field \"reason\" must be null when the "
		    "outcome is ok");
	f = &v->v[K_PURPOSE];
	if (f->kind != AJ_ABSENT && f->kind != AJ_NULL && !(ok && f->kind == AJ_STRING &&
	    purpose_known(f)))
		return fail(v, "field \"purpose\" must be null, or for an ok event one "
		    "of case_management, payment, audit, data_subject_request");
	if (field_text(v, K_REASON, 1) == -1 ||
	    field_hex(v, K_PARAMS_SHA256, AV_HASH_LEN, 1, scratch,
	    &pnull) == -1 ||
	    field_hex(v, K_PREV_HASH, AV_HASH_LEN, 1, prev, &prev_null) == -1 ||
	    field_hex(v, K_HASH, AV_HASH_LEN, 1, hash, &hash_null) == -1)
		return -1;
	if (prev_null != hash_null)
		return fail(v, "prev_hash and hash must both be null (not yet "
		    "chained) or both be set");

	if (v->last_seq != 0 && v->seq <= v->last_seq)
		return fail(v, "seq does not increase after seq %lld (events "
		    "reordered or repeated)", (long long)v->last_seq);

	if (prev_null) {
		v->unchained_seen = 1;
		v->last_chained = 0;
		v->r.unchained++;
	} else {
		if (v->unchained_seen)
			return fail(v, "chained event after an unchained one "
			    "(events not yet chained come last)");
		if (!v->have_head && memcmp(prev, zero, AV_HASH_LEN) != 0)
			return fail(v, "prev_hash of the first event is not 32 "
			    "zero bytes (the start of the chain is missing)");
		if (v->have_head && memcmp(prev, v->head, AV_HASH_LEN) != 0)
			return fail(v, "prev_hash is not the hash of event "
			    "%lld before it (an event was removed, inserted "
			    "or reordered)", (long long)v->last_seq);
		if (event_hash(v, prev, calc) == -1)
			return -1;
		if (memcmp(calc, hash, AV_HASH_LEN) != 0)
			return fail(v, "hash does not match its content (the "
			    "event was altered)");
		memcpy(v->head, hash, AV_HASH_LEN);
		v->have_head = 1;
		v->last_chained = 1;
		v->r.head_seq = v->seq;
		v->r.chained++;
	}
	v->last_seq = v->seq;
	v->r.events++;
	v->r.uncovered = v->r.events - v->covered;
	return 0;
}

/* Checkpoints and key introductions: an Ed25519 signature over msg. */
static int
sig_ok(struct av *v, EVP_PKEY *pk, const unsigned char *sig, const char *msg,
    int n)
{
	int	rc;

	ERR_clear_error();
	EVP_MD_CTX_reset(v->vmd);
	if (EVP_DigestVerifyInit(v->vmd, NULL, NULL, NULL, pk) != 1) {
		ERR_clear_error();
		return -1;
	}
	rc = EVP_DigestVerify(v->vmd, sig, AV_SIG_LEN,
	    (const unsigned char *)msg, (size_t)n);
	ERR_clear_error();
	return rc == 1 ? 1 : 0;
}

/* Checkpoints */

/* The key that signs now: the last key line's, or the given one. */
static EVP_PKEY *
signer(const struct av *v)
{
	return v->key != NULL ? v->key : v->pub;
}

/* Does the checkpoint's own public_key name a key other than the signer? */
static int
other_key(struct av *v)
{
	const struct aj_val	*f = &v->v[K_PUBLIC_KEY];
	BIO			*bio;
	EVP_PKEY		*pk;
	int			 other = 0;

	if (f->kind != AJ_STRING || f->len > AV_LINE_MAX)
		return 0;
	if ((bio = BIO_new_mem_buf(f->p, (int)f->len)) == NULL)
		return 0;
	if ((pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) != NULL) {
		other = EVP_PKEY_eq(pk, signer(v)) != 1;
		EVP_PKEY_free(pk);
	}
	BIO_free(bio);
	ERR_clear_error();
	return other;
}

static int
do_checkpoint(struct av *v)
{
	unsigned char		 head[AV_HASH_LEN], sig[AV_SIG_LEN];
	char			 msg[sizeof AV_CP_MAGIC + 20 + 64 + AV_TIME_LEN + 8];
	const struct aj_val	*hh, *at;
	int			 n, rc;
	char			 key_id[AV_KEY_ID_LEN + 1];

	if (field_seq(v, "checkpoint at seq") == -1 ||
	    field_hex(v, K_HEAD_HASH, AV_HASH_LEN, 0, head, NULL) == -1 ||
	    field_time(v, K_SIGNED_AT) == -1 ||
	    field_hex(v, K_SIGNATURE, AV_SIG_LEN, 0, sig, NULL) == -1)
		return -1;
	if (v->v[K_PUBLIC_KEY].kind != AJ_ABSENT &&
	    v->v[K_PUBLIC_KEY].kind != AJ_STRING)
		return fail(v, "field \"public_key\" must be a string");

	if (v->last_seq == 0)
		return fail(v, "there is no event before it (a checkpoint "
		    "comes right after the event at its seq)");
	if (v->seq != v->last_seq)
		return fail(v, "it does not come right after the event at its "
		    "seq (the event before it is seq %lld)",
		    (long long)v->last_seq);
	if (!v->last_chained)
		return fail(v, "the event at its seq is not chained");
	if (memcmp(head, v->head, AV_HASH_LEN) != 0)
		return fail(v, "head_hash is not the chain's hash at seq %lld",
		    (long long)v->seq);
	if (in_key_range(v) == -1)
		return -1;

	hh = &v->v[K_HEAD_HASH];
	at = &v->v[K_SIGNED_AT];
	n = snprintf(msg, sizeof msg, "%s%lld\n%.*s\n%.*s\n", AV_CP_MAGIC,
	    (long long)v->seq, (int)hh->len, hh->p, (int)at->len, at->p);
	if (n < 0 || (size_t)n >= sizeof msg)
		return fail(v, "checkpoint message too long");
	if ((rc = sig_ok(v, signer(v), sig, msg, n)) == -1)
		return fail(v, "cannot verify signatures: OpenSSL refused the "
		    "public key");
	if (rc == 0 && v->key_no == 0)
		return fail(v, "signature does not verify under the given "
		    "public key%s", other_key(v) ? " (the checkpoint names "
		    "another public key)" : "");
	if (rc == 0) {
		av_key_id(v->key, key_id);
		return fail(v, "signature does not verify under key %lld (%s), "
		    "the signing key from seq %lld%s", (long long)v->key_no,
		    key_id, (long long)v->key_from, other_key(v) ? " (the "
		    "checkpoint names another public key: was a key's line "
		    "removed?)" : "");
	}
	v->r.checkpoints++;
	v->last_cp = v->seq;
	v->covered = v->r.events;
	v->r.uncovered = 0;
	return 0;
}

/* Keys */

void
av_key_id(EVP_PKEY *pk, char out[AV_KEY_ID_LEN + 1])
{
	static const char	 xd[] = "0123456789abcdef";
	unsigned char		 raw[AV_KEY_LEN], md[AV_HASH_LEN];
	size_t			 len = sizeof raw, i;

	if (EVP_PKEY_get_raw_public_key(pk, raw, &len) != 1 ||
	    len != sizeof raw ||
	    EVP_Digest(raw, len, md, NULL, EVP_sha256(), NULL) != 1) {
		ERR_clear_error();
		snprintf(out, AV_KEY_ID_LEN + 1, "?");
		return;
	}
	for (i = 0; i < AV_KEY_ID_LEN / 2; i++) {
		out[2 * i] = xd[md[i] >> 4];
		out[2 * i + 1] = xd[md[i] & 0xf];
	}
	out[AV_KEY_ID_LEN] = '\0';
}

EVP_PKEY *
av_pem_key(const char *p, size_t len)
{
	EVP_PKEY	*pk;
	BIO		*bio;

	if (len > AV_LINE_MAX || memchr(p, '\0', len) != NULL ||
	    (bio = BIO_new_mem_buf(p, (int)len)) == NULL)
		return NULL;
	pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (pk != NULL && EVP_PKEY_id(pk) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	return pk;
}

/* The Ed25519 public key of field public_key, a PEM string; NULL if it
 * is not one. */
static EVP_PKEY *
pem_key(const struct aj_val *f)
{
	return f->kind == AJ_STRING ? av_pem_key(f->p, f->len) : NULL;
}

/*
 * A key line: key_no is the next number, from_seq is after every checkpoint
 * already read and not before the last key's, key 1 is the given key and
 * signs from seq 1 with no signature, key n > 1 is signed by key n - 1 over
 * "fl-audit-key\n<key_no>\n<from_seq>\n<public key, hex>\n<introduced_at>\n".
 */
static int
do_key(struct av *v)
{
	static const char	 xd[] = "0123456789abcdef";
	const struct aj_val	*f;
	unsigned char		 raw[AV_KEY_LEN], sig[AV_SIG_LEN];
	char			 id[AV_KEY_ID_LEN + 1], rawhex[2 * AV_KEY_LEN + 1];
	char			 msg[sizeof AV_KEY_MAGIC + 2 * 20 + 2 * AV_KEY_LEN +
				    AV_TIME_LEN + 8];
	EVP_PKEY		*pk;
	int64_t			 no, from;
	size_t			 len = sizeof raw, i;
	int			 n, rc, isnull;

	if (field_pos(v, K_KEY_NO, &no) == -1 ||
	    field_pos(v, K_FROM_SEQ, &from) == -1)
		return -1;
	snprintf(v->whobuf, sizeof v->whobuf, "key %lld, from seq",
	    (long long)no);
	v->who = v->whobuf;
	v->seq = from;
	if (no != v->key_no + 1)
		return v->key_no == 0 ? fail(v, "there is no key 1 before it "
		    "(the first key line is key 1)") : fail(v, "it comes after "
		    "key %lld (keys come in order, each once)",
		    (long long)v->key_no);
	if (no == 1 && from != 1)
		return fail(v, "key 1 must sign from seq 1");
	if (from <= v->last_cp)
		return fail(v, "it comes after the checkpoint at seq %lld, which "
		    "it would sign (a key's line comes before the checkpoints it "
		    "signs)", (long long)v->last_cp);
	if (from < v->key_from)
		return fail(v, "it signs from before key %lld, which signs from "
		    "seq %lld", (long long)v->key_no, (long long)v->key_from);
	if (field_time(v, K_INTRODUCED_AT) == -1)
		return -1;
	f = &v->v[K_PUBLIC_KEY];
	if (f->kind == AJ_ABSENT)
		return missing(v, K_PUBLIC_KEY);
	if ((pk = pem_key(f)) == NULL)
		return fail(v, "field \"public_key\" is not a PEM Ed25519 public "
		    "key");
	if (EVP_PKEY_get_raw_public_key(pk, raw, &len) != 1 ||
	    len != sizeof raw) {
		ERR_clear_error();
		EVP_PKEY_free(pk);
		return fail(v, "cannot read the raw public key");
	}
	av_key_id(pk, id);
	f = &v->v[K_KEY_ID];
	if (f->kind == AJ_ABSENT) {
		EVP_PKEY_free(pk);
		return missing(v, K_KEY_ID);
	}
	if (f->kind != AJ_STRING || f->len != AV_KEY_ID_LEN ||
	    memcmp(f->p, id, AV_KEY_ID_LEN) != 0) {
		EVP_PKEY_free(pk);
		return fail(v, "field \"key_id\" is not %s, the first 16 hex "
		    "digits of the SHA-256 of its public key", id);
	}
	if (field_hex(v, K_SIGNATURE, AV_SIG_LEN, 1, sig, &isnull) == -1) {
		EVP_PKEY_free(pk);
		return -1;
	}
	if (no == 1) {
		if (!isnull) {
			EVP_PKEY_free(pk);
			return fail(v, "key 1 must have no signature (it is the "
			    "key the verifier is given)");
		}
		if (EVP_PKEY_eq(pk, v->pub) != 1) {
			ERR_clear_error();
			EVP_PKEY_free(pk);
			return fail(v, "it is %s, not the given public key (give "
			    "the first signing key: the verifier follows the chain "
			    "of keys from it)", id);
		}
	} else {
		if (isnull) {
			EVP_PKEY_free(pk);
			return fail(v, "field \"signature\" is null: key %lld "
			    "must be signed by key %lld", (long long)no,
			    (long long)v->key_no);
		}
		for (i = 0; i < sizeof raw; i++) {
			rawhex[2 * i] = xd[raw[i] >> 4];
			rawhex[2 * i + 1] = xd[raw[i] & 0xf];
		}
		rawhex[2 * sizeof raw] = '\0';
		f = &v->v[K_INTRODUCED_AT];
		n = snprintf(msg, sizeof msg, "%s%lld\n%lld\n%s\n%.*s\n",
		    AV_KEY_MAGIC, (long long)no, (long long)from, rawhex,
		    (int)f->len, f->p);
		if (n < 0 || (size_t)n >= sizeof msg) {
			EVP_PKEY_free(pk);
			return fail(v, "key message too long");
		}
		if ((rc = sig_ok(v, signer(v), sig, msg, n)) != 1) {
			EVP_PKEY_free(pk);
			return rc == -1 ? fail(v, "cannot verify signatures: "
			    "OpenSSL refused the public key") : fail(v,
			    "signature does not verify under key %lld, the key "
			    "before it (the key was not introduced by it)",
			    (long long)v->key_no);
		}
	}
	EVP_PKEY_free(v->key);
	v->key = pk;
	v->key_no = no;
	v->key_from = from;
	v->r.keys++;
	return 0;
}

/* API */

struct av *
av_new(EVP_PKEY *pub)
{
	struct av	*v;

	if (pub == NULL || EVP_PKEY_id(pub) != EVP_PKEY_ED25519)
		return NULL;
	v = xmalloc(sizeof *v);
	memset(v, 0, sizeof *v);
	if ((v->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (v->md = EVP_MD_CTX_new()) == NULL ||
	    (v->vmd = EVP_MD_CTX_new()) == NULL ||
	    EVP_PKEY_up_ref(pub) != 1) {
		ERR_clear_error();
		av_free(v);
		return NULL;
	}
	v->pub = pub;
	return v;
}

void
av_free(struct av *v)
{
	if (v == NULL)
		return;
	EVP_PKEY_free(v->pub);
	EVP_PKEY_free(v->key);
	EVP_MD_free(v->sha256);
	EVP_MD_CTX_free(v->md);
	EVP_MD_CTX_free(v->vmd);
	free(v->dec);
	free(v->canon);
	free(v);
}

int
av_line(struct av *v, const char *line, size_t len)
{
	struct aj_error		 err;
	const struct aj_val	*t;
	char			*what;

	if (v->r.failed)
		return -1;
	v->r.line++;
	v->who = NULL;
	v->seq = 0;
	if (v->finished)
		return fail(v, "line after the end of the export");
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > AV_LINE_MAX)
		return fail(v, "line longer than %u bytes", AV_LINE_MAX);
	if (len == 0)
		return fail(v, "empty line");

	/* Decoded strings, and the canonical bytes, are never longer than
	 * the line. */
	if (v->decsz < len) {
		v->dec = xrealloc(v->dec, len);
		v->decsz = len;
	}
	if (v->canonsz < len + AV_HASH_LEN + 16) {
		v->canon = xrealloc(v->canon, len + AV_HASH_LEN + 16);
		v->canonsz = len + AV_HASH_LEN + 16;
	}
	if (aj_parse_object(line, len, keys, K__COUNT, v->v, v->dec,
	    &err) == -1) {
		if (err.not_object)
			return fail(v, "not a JSON object");
		if (err.dup != -1)
			return fail(v, "key \"%s\" appears twice",
			    keys[err.dup].name);
		return fail(v, "not valid JSON: %s at byte %zu", err.what,
		    err.pos + 1);
	}

	t = &v->v[K_TYPE];
	if (t->kind == AJ_ABSENT)
		return missing(v, K_TYPE);
	if (t->kind != AJ_STRING)
		return fail(v, "field \"type\" must be a string");
	if (t->len == 5 && memcmp(t->p, "event", 5) == 0)
		return do_event(v);
	if (t->len == 10 && memcmp(t->p, "checkpoint", 10) == 0)
		return do_checkpoint(v);
	if (t->len == 3 && memcmp(t->p, "key", 3) == 0)
		return do_key(v);
	what = fc_clean(t->p, t->len, 40);
	fail(v, "unknown type \"%s\" (event, checkpoint or key)", what);
	free(what);
	return -1;
}

int
av_finish(struct av *v)
{
	v->finished = 1;
	set_head_hex(v);
	return v->r.failed ? -1 : 0;
}

const struct av_result *
av_result(const struct av *v)
{
	return &v->r;
}

EVP_PKEY *
av_signer(const struct av *v, int64_t *key_no, int64_t *from_seq)
{
	*key_no = v->key_no;
	*from_seq = v->key_no > 0 ? v->key_from : 1;
	return signer(v);
}
