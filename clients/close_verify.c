/*
 * close_verify.c: offline check of a ledger CSV of a closed period against
 * its proof (close_verify.h; docs/ledger.md, "Verifying a closed period
 * offline"; the events' canonical bytes, the checkpoint message and the key
 * lines are those of docs/audit.md, the key lines checked by audit_verify.c).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "audit_verify.h"
#include "close_verify.h"
#include "fundctl.h"

#define CV_HASH_LEN	32
#define CV_SIG_LEN	64
#define CV_CP_MAGIC	"fl-audit-checkpoint\n"
#define CV_REC_MAGIC	"fl-period-close\n"
#define CV_FIELD_MAX	256	/* a field of the record, or of an event */

static int FC_PRINTF(2, 3)
fail(struct cv_result *r, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	return -1;
}

static void
sha256(const void *d, size_t n, unsigned char out[CV_HASH_LEN])
{
	unsigned int	len = CV_HASH_LEN;

	if (EVP_Digest(d, n, out, &len, EVP_sha256(), NULL) != 1) {
		fputs("fundctl: SHA-256 failed in OpenSSL\n", stderr);
		exit(FC_EXIT_FAIL);
	}
}

static void
hexof(const unsigned char *b, size_t n, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Lower-case hex of exactly n bytes. */
static int
unhex(const char *s, unsigned char *out, size_t n)
{
	size_t	i;
	int	hi, lo;

	if (s == NULL || strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		hi = s[2 * i] >= '0' && s[2 * i] <= '9' ? s[2 * i] - '0' :
		    s[2 * i] >= 'a' && s[2 * i] <= 'f' ? s[2 * i] - 'a' + 10 : -1;
		lo = s[2 * i + 1] >= '0' && s[2 * i + 1] <= '9' ? s[2 * i + 1] - '0' :
		    s[2 * i + 1] >= 'a' && s[2 * i + 1] <= 'f' ?
		    s[2 * i + 1] - 'a' + 10 : -1;
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* The value of the record's line "key value" into buf; -1 if absent. */
static int
rec_field(const char *rec, const char *key, char *buf, size_t len)
{
	const char	*p = rec, *nl;
	size_t		 klen = strlen(key), vlen;

	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if ((size_t)(nl - p) > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == ' ') {
			vlen = (size_t)(nl - p) - klen - 1;
			if (vlen == 0 || vlen >= len)
				return -1;
			memcpy(buf, p + klen + 1, vlen);
			buf[vlen] = '\0';
			return 0;
		}
	}
	return -1;
}

static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A non-negative integer member; -1 if absent or not one. */
static int64_t
int_of(const cJSON *o, const char *key)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > 9007199254740992.0 ||
	    v->valuedouble != floor(v->valuedouble))
		return -1;
	return (int64_t)v->valuedouble;
}

/*
 * One field of an event's canonical bytes: a string (no line feed, not
 * empty), or null when nullable; an integer when number.
 */
static int
canon_field(struct fc_buf *b, const cJSON *ev, const char *key, int nullable,
    int number, struct cv_result *r, int64_t seq)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(ev, key);
	int64_t		 n;

	if (v == NULL)
		return fail(r, "proof: event seq %lld has no \"%s\"", (long long)seq,
		    key);
	if (cJSON_IsNull(v) && nullable) {
		fc_buf_add(b, "\n", 1);
		return 0;
	}
	if (number) {
		if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
		    fabs(v->valuedouble) > 2147483647.0)
			return fail(r, "proof: event seq %lld: \"%s\" is not an "
			    "integer", (long long)seq, key);
		n = (int64_t)v->valuedouble;
		fc_buf_addf(b, "%lld\n", (long long)n);
		return 0;
	}
	if (!cJSON_IsString(v) || *v->valuestring == '\0' ||
	    strchr(v->valuestring, '\n') != NULL ||
	    strlen(v->valuestring) > CV_FIELD_MAX)
		return fail(r, "proof: event seq %lld: \"%s\" is not a one-line "
		    "string", (long long)seq, key);
	fc_buf_addf(b, "%s\n", v->valuestring);
	return 0;
}

/* fail(), freeing b first. */
static int FC_PRINTF(3, 4)
bfail(struct fc_buf *b, struct cv_result *r, const char *fmt, ...)
{
	va_list	ap;

	fc_buf_free(b);
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The chain from prev_hash through every event, up to the checkpoint signed
 * by key (keywhat names it in the message when it is not).
 */
static int
check_chain(EVP_PKEY *key, const char *keywhat, const cJSON *root,
    const char *record_hex, const char *period_id, struct cv_result *r)
{
	const cJSON	*events, *ev, *cp;
	unsigned char	 h[CV_HASH_LEN], sig[CV_SIG_LEN], want[CV_HASH_LEN];
	char		 hhex[2 * CV_HASH_LEN + 1], msg[512];
	struct fc_buf	 b = { NULL, 0, 0 };
	const char	*s, *signed_at;
	int64_t		 seq, last = 0;
	EVP_MD_CTX	*md;
	int		 i = 0, n, ok;

	if (unhex(str_of(root, "prev_hash"), h, CV_HASH_LEN) != 0)
		return fail(r, "proof: \"prev_hash\" is not 64 hex digits");
	events = cJSON_GetObjectItemCaseSensitive(root, "events");
	if (!cJSON_IsArray(events) || cJSON_GetArraySize(events) == 0)
		return fail(r, "proof: \"events\" is not a non-empty array");
	cJSON_ArrayForEach(ev, events) {
		if (!cJSON_IsObject(ev) || (seq = int_of(ev, "seq")) <= 0)
			return bfail(&b, r, "proof: event %d has no seq", i + 1);
		if (seq <= last)
			return bfail(&b, r, "proof: event seq %lld after seq %lld: seq "
			    "must increase", (long long)seq, (long long)last);
		if (i == 0) {
			if ((s = str_of(ev, "method")) == NULL ||
			    strcmp(s, "period.close_record") != 0)
				return bfail(&b, r, "proof: the first event is not the "
				    "close's record (period.close_record)");
			if ((s = str_of(ev, "object_id")) == NULL ||
			    strcmp(s, period_id) != 0)
				return bfail(&b, r, "proof: the record's event is of "
				    "another close than %s", period_id);
			if ((s = str_of(ev, "outcome")) == NULL ||
			    strcmp(s, "ok") != 0)
				return bfail(&b, r, "proof: the record's event is not ok");
			if ((s = str_of(ev, "params_sha256")) == NULL ||
			    strcmp(s, record_hex) != 0)
				return bfail(&b, r, "proof: the close record does not "
				    "match its audit event (seq %lld): the record "
				    "was altered", (long long)seq);
		}
		hexof(h, CV_HASH_LEN, hhex);
		if ((s = str_of(ev, "prev_hash")) != NULL && strcmp(s, hhex) != 0) {
			fc_buf_free(&b);
			return fail(r, "proof: event seq %lld: prev_hash is not the "
			    "hash before it", (long long)seq);
		}
		b.len = 0;
		fc_buf_add(&b, h, CV_HASH_LEN);
		fc_buf_addf(&b, "%lld\n", (long long)seq);
		if (canon_field(&b, ev, "at", 0, 0, r, seq) != 0 ||
		    canon_field(&b, ev, "principal_id", 1, 0, r, seq) != 0 ||
		    canon_field(&b, ev, "method", 0, 0, r, seq) != 0 ||
		    canon_field(&b, ev, "object_id", 1, 0, r, seq) != 0 ||
		    canon_field(&b, ev, "outcome", 0, 0, r, seq) != 0 ||
		    canon_field(&b, ev, "error_code", 1, 1, r, seq) != 0 ||
		    canon_field(&b, ev, "reason", 1, 0, r, seq) != 0 ||
		    canon_field(&b, ev, "params_sha256", 0, 0, r, seq) != 0) {
			fc_buf_free(&b);
			return -1;
		}
		sha256(b.data, b.len, h);
		hexof(h, CV_HASH_LEN, hhex);
		if ((s = str_of(ev, "hash")) != NULL && strcmp(s, hhex) != 0) {
			fc_buf_free(&b);
			return fail(r, "proof: event seq %lld: hash does not match "
			    "its content (the event was altered)", (long long)seq);
		}
		last = seq;
		i++;
	}
	fc_buf_free(&b);

	cp = cJSON_GetObjectItemCaseSensitive(root, "checkpoint");
	if (!cJSON_IsObject(cp) || (seq = int_of(cp, "seq")) <= 0)
		return fail(r, "proof: no checkpoint");
	if (seq != last)
		return fail(r, "proof: the checkpoint is at seq %lld, the last "
		    "event at seq %lld", (long long)seq, (long long)last);
	if (unhex(str_of(cp, "head_hash"), want, CV_HASH_LEN) != 0 ||
	    memcmp(want, h, CV_HASH_LEN) != 0)
		return fail(r, "proof: the checkpoint's head_hash is not the "
		    "chain's hash at seq %lld", (long long)seq);
	if ((signed_at = str_of(cp, "signed_at")) == NULL ||
	    strchr(signed_at, '\n') != NULL || strlen(signed_at) > 64)
		return fail(r, "proof: the checkpoint has no signed_at");
	if (unhex(str_of(cp, "signature"), sig, CV_SIG_LEN) != 0)
		return fail(r, "proof: the checkpoint's signature is not 128 hex "
		    "digits");
	n = snprintf(msg, sizeof msg, "%s%lld\n%s\n%s\n", CV_CP_MAGIC,
	    (long long)seq, hhex, signed_at);
	if (n < 0 || (size_t)n >= sizeof msg)
		return fail(r, "proof: checkpoint message too long");
	if ((md = EVP_MD_CTX_new()) == NULL)
		return fail(r, "cannot verify signatures (OpenSSL)");
	ERR_clear_error();
	ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestVerify(md, sig, sizeof sig, (const unsigned char *)msg,
	    (size_t)n) == 1;
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	if (!ok)
		return fail(r, "proof: the checkpoint's signature does not verify "
		    "under %s", keywhat);
	r->checkpoint_seq = seq;
	return 0;
}

/* The proof's key lines, once checked. */
struct keys {
	EVP_PKEY	*first;		/* key 1 */
	EVP_PKEY	*last;		/* the last: the checkpoint's */
	int64_t		 from;		/* the seq the last signs from */
};

/*
 * The proof's key lines ("keys"), checked as an audit export's by
 * audit_verify.c: key 1 first, each later key introduced by the one before
 * it. They start from the given key when it is key 1, else from key 1's own
 * line (then check_given() wants the given key to be the last). A proof
 * without key lines leaves k empty.
 */
static int
check_keys(EVP_PKEY *pub, const cJSON *root, struct keys *k,
    struct cv_result *r)
{
	const cJSON	*keys = cJSON_GetObjectItemCaseSensitive(root, "keys"), *o;
	const char	*pem, *type;
	struct av	*v;
	char		*line;
	uint64_t	 n = 0;
	int		 rc = -1;

	if (keys == NULL)
		return 0;
	if (!cJSON_IsArray(keys) || cJSON_GetArraySize(keys) == 0)
		return fail(r, "proof: \"keys\" is not a non-empty array of key "
		    "lines");
	if ((pem = str_of(cJSON_GetArrayItem(keys, 0), "public_key")) != NULL)
		k->first = av_pem_key(pem, strlen(pem));
	/* without a key 1 to start from, the verifier says what is wrong */
	r->by_key1 = k->first == NULL || EVP_PKEY_eq(k->first, pub) == 1;
	ERR_clear_error();
	if ((v = av_new(r->by_key1 ? pub : k->first)) == NULL)
		return fail(r, "cannot verify signatures (OpenSSL)");
	cJSON_ArrayForEach(o, keys) {
		n++;
		if ((type = str_of(o, "type")) == NULL || strcmp(type, "key") != 0) {
			fail(r, "proof: key lines: line %llu is not a key line (its "
			    "type is not \"key\")", (unsigned long long)n);
			goto out;
		}
		if ((line = cJSON_PrintUnformatted(o)) == NULL) {
			fail(r, "out of memory");
			goto out;
		}
		if (av_line(v, line, strlen(line)) == -1) {
			cJSON_free(line);
			fail(r, "proof: key lines: %s", av_result(v)->message);
			goto out;
		}
		cJSON_free(line);
	}
	k->last = av_signer(v, &r->key_no, &k->from);
	if (EVP_PKEY_up_ref(k->last) != 1) {
		k->last = NULL;
		fail(r, "cannot verify signatures (OpenSSL)");
		goto out;
	}
	rc = 0;
out:
	av_free(v);
	return rc;
}

/*
 * The last key line is the key of the checkpoint's seq, and the given key
 * is key 1 or that key.
 */
static int
check_given(EVP_PKEY *pub, const struct keys *k, struct cv_result *r)
{
	char	id[AV_KEY_ID_LEN + 1], id1[AV_KEY_ID_LEN + 1];
	char	idn[AV_KEY_ID_LEN + 1];

	if (k->from > r->checkpoint_seq)
		return fail(r, "proof: key %lld, the last of its key lines, signs "
		    "from seq %lld, after the checkpoint at seq %lld",
		    (long long)r->key_no, (long long)k->from,
		    (long long)r->checkpoint_seq);
	if (r->by_key1 || EVP_PKEY_eq(pub, k->last) == 1) {
		ERR_clear_error();
		return 0;
	}
	ERR_clear_error();
	av_key_id(pub, id);
	av_key_id(k->first, id1);
	av_key_id(k->last, idn);
	if (r->key_no == 1)
		return fail(r, "the given public key (%s) is not key 1 of the "
		    "proof's key lines (%s), which signed its checkpoint", id, id1);
	return fail(r, "the given public key (%s) is neither key 1 of the proof's "
	    "key lines (%s) nor key %lld (%s), which signed its checkpoint", id,
	    id1, (long long)r->key_no, idn);
}

struct lines {
	const unsigned char	*csv;
	size_t			*start, *len;	/* each line with its CRLF */
	size_t			 n;
};

static void
split_lines(const unsigned char *csv, size_t n, struct lines *l)
{
	size_t	i, s = 0, cap = 64;

	l->csv = csv;
	l->n = 0;
	l->start = xmalloc(cap * sizeof *l->start);
	l->len = xmalloc(cap * sizeof *l->len);
	for (i = 0; i <= n; i++) {
		if (i < n && !(csv[i] == '\n' && i > s && csv[i - 1] == '\r'))
			continue;
		if (i == n && s == n)
			break;
		if (l->n == cap) {
			cap *= 2;
			l->start = xrealloc(l->start, cap * sizeof *l->start);
			l->len = xrealloc(l->len, cap * sizeof *l->len);
		}
		l->start[l->n] = s;
		l->len[l->n] = (i < n ? i + 1 : n) - s;
		l->n++;
		s = i + 1;
	}
}

void
cv_rows_sha256(const unsigned char *csv, size_t csv_len, char ***out, size_t *n)
{
	struct lines	 l;
	unsigned char	 h[CV_HASH_LEN];
	size_t		 i;

	split_lines(csv, csv_len, &l);
	*out = xmalloc((l.n ? l.n : 1) * sizeof **out);
	for (i = 0; i < l.n; i++) {
		sha256(csv + l.start[i], l.len[i], h);
		(*out)[i] = xmalloc(2 * CV_HASH_LEN + 1);
		hexof(h, CV_HASH_LEN, (*out)[i]);
	}
	*n = l.n;
	free(l.start);
	free(l.len);
}

void
cv_rows_free(char **rows, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(rows[i]);
	free(rows);
}

/* The entry id at the start of line i, for messages. */
static void
entry_of(const struct lines *l, size_t i, char *buf, size_t len)
{
	const unsigned char	*p = l->csv + l->start[i];
	size_t			 k;

	for (k = 0; k + 1 < len && k < l->len[i] && p[k] != ',' && p[k] != '\r'; k++)
		buf[k] = (p[k] >= 0x20 && p[k] < 0x7f) ? (char)p[k] : '?';
	buf[k] = '\0';
}

/* The file is not the books: name the first line that differs. */
static int
name_difference(const cJSON *root, const char *rows_hex, const unsigned char *csv,
    size_t csv_len, struct cv_result *r)
{
	const cJSON	*rows = cJSON_GetObjectItemCaseSensitive(root, "rows_sha256"), *v;
	unsigned char	*cd, *fd, h[CV_HASH_LEN], want[CV_HASH_LEN];
	struct lines	 l;
	char		 id[48];
	size_t		 nc, i, j, k;
	int		 in_close = 0, in_file = 0, rc;

	if (!cJSON_IsArray(rows) || unhex(rows_hex, want, CV_HASH_LEN) != 0)
		return fail(r, "the file is not the closed books (its SHA-256 differs), "
		    "and the proof has no row digests to tell where");
	nc = (size_t)cJSON_GetArraySize(rows);
	cd = xmalloc((nc ? nc : 1) * CV_HASH_LEN);
	i = 0;
	cJSON_ArrayForEach(v, rows) {
		if (!cJSON_IsString(v) || unhex(v->valuestring, cd + i * CV_HASH_LEN,
		    CV_HASH_LEN) != 0) {
			free(cd);
			return fail(r, "the file is not the closed books (its SHA-256 "
			    "differs); the proof's row digest %zu is not hex", i + 1);
		}
		i++;
	}
	sha256(cd, nc * CV_HASH_LEN, h);
	if (memcmp(h, want, CV_HASH_LEN) != 0) {
		free(cd);
		return fail(r, "the file is not the closed books (its SHA-256 differs), "
		    "and the proof's row digests are not the close's either");
	}
	split_lines(csv, csv_len, &l);
	fd = xmalloc((l.n ? l.n : 1) * CV_HASH_LEN);
	for (i = 0; i < l.n; i++)
		sha256(csv + l.start[i], l.len[i], fd + i * CV_HASH_LEN);
	for (i = 0; i < l.n && i < nc; i++)
		if (memcmp(fd + i * CV_HASH_LEN, cd + i * CV_HASH_LEN, CV_HASH_LEN) != 0)
			break;
	if (i < l.n)
		entry_of(&l, i, id, sizeof id);
	if (i == l.n && i == nc)
		rc = fail(r, "the file is not the closed books (its SHA-256 differs) "
		    "though each of its %zu lines is", l.n);
	else if (i == nc)
		rc = fail(r, "line %zu (%s): not in the closed books: added after "
		    "their last row (%zu lines)", i + 1, id, nc);
	else if (i == l.n)
		rc = fail(r, "the file ends at line %zu: %zu rows of the closed books "
		    "are missing from it (removed)", l.n, nc - l.n);
	else {
		for (j = 0; j < nc && !in_close; j++)
			in_close = memcmp(fd + i * CV_HASH_LEN, cd + j * CV_HASH_LEN,
			    CV_HASH_LEN) == 0;
		for (k = 0; k < l.n && !in_file; k++)
			in_file = memcmp(cd + i * CV_HASH_LEN, fd + k * CV_HASH_LEN,
			    CV_HASH_LEN) == 0;
		if (!in_close)
			rc = fail(r, "line %zu (%s): not as in the closed books: %s",
			    i + 1, id, l.n > nc ? "added or altered" : "altered");
		else if (!in_file)
			rc = fail(r, "line %zu (%s): a row of the closed books is missing "
			    "before it (removed)", i + 1, id);
		else if (l.n > nc)	/* j: one past the match, its 1-based line */
			rc = fail(r, "line %zu (%s): not in the closed books here: added "
			    "(a copy of their line %zu)", i + 1, id, j);
		else
			rc = fail(r, "line %zu (%s): out of order: the closed books have "
			    "it at line %zu (rows reordered)", i + 1, id, j);
	}
	free(l.start);
	free(l.len);
	free(fd);
	free(cd);
	return rc;
}

int
cv_verify(EVP_PKEY *pub, const char *proof, size_t proof_len,
    const unsigned char *csv, size_t csv_len, struct cv_result *r)
{
	cJSON		*root;
	const char	*rec, *s;
	unsigned char	 h[CV_HASH_LEN];
	char		 rec_hex[2 * CV_HASH_LEN + 1], file_hex[2 * CV_HASH_LEN + 1];
	char		 sha[CV_FIELD_MAX], rows_hex[CV_FIELD_MAX], nrows[32];
	char		 id[AV_KEY_ID_LEN + 1], keywhat[192];
	struct keys	 k = { NULL, NULL, 0 };
	struct lines	 l;
	char		*end;
	size_t		 nlines;
	int		 rc = -1;

	memset(r, 0, sizeof *r);
	if ((root = cJSON_ParseWithLength(proof, proof_len)) == NULL ||
	    !cJSON_IsObject(root)) {
		fail(r, "proof: not a JSON object");
		goto out;
	}
	if ((s = str_of(root, "format")) == NULL || strcmp(s, CV_FORMAT) != 0) {
		fail(r, "proof: format is not \"%s\"", CV_FORMAT);
		goto out;
	}
	rec = str_of(root, "record");
	if (rec == NULL || strncmp(rec, CV_REC_MAGIC, strlen(CV_REC_MAGIC)) != 0 ||
	    rec[strlen(rec) - 1] != '\n') {
		fail(r, "proof: \"record\" is not a close record");
		goto out;
	}
	if (rec_field(rec, "period_id", r->period_id, sizeof r->period_id) != 0 ||
	    rec_field(rec, "until", r->until, sizeof r->until) != 0 ||
	    rec_field(rec, "export_rows", nrows, sizeof nrows) != 0 ||
	    rec_field(rec, "export_sha256", sha, sizeof sha) != 0 ||
	    rec_field(rec, "export_rows_sha256", rows_hex, sizeof rows_hex) != 0) {
		fail(r, "proof: the close record lacks a field");
		goto out;
	}
	r->rows = strtoull(nrows, &end, 10);
	if (*end != '\0') {
		fail(r, "proof: the record's export_rows is not a number");
		goto out;
	}
	sha256(rec, strlen(rec), h);
	hexof(h, CV_HASH_LEN, rec_hex);
	if (check_keys(pub, root, &k, r) != 0)
		goto out;
	if (k.last == NULL) {
		if (check_chain(pub, "the given public key (the proof has no key "
		    "lines to follow from key 1: give the key that signed the "
		    "checkpoint)", root, rec_hex, r->period_id, r) != 0)
			goto out;
	} else {
		av_key_id(k.last, id);
		snprintf(keywhat, sizeof keywhat, "key %lld (%s), the last of its "
		    "key lines (is the line of the key that signed it missing?)",
		    (long long)r->key_no, id);
		if (check_chain(k.last, keywhat, root, rec_hex, r->period_id,
		    r) != 0 || check_given(pub, &k, r) != 0)
			goto out;
	}

	sha256(csv, csv_len, h);
	hexof(h, CV_HASH_LEN, file_hex);
	if (strcmp(file_hex, sha) != 0) {
		name_difference(root, rows_hex, csv, csv_len, r);
		goto out;
	}
	split_lines(csv, csv_len, &l);
	nlines = l.n;
	free(l.start);
	free(l.len);
	if (nlines != r->rows + 1) {	/* cannot be, with the same SHA-256 */
		fail(r, "the file has %zu rows, the close record %llu", nlines - 1,
		    (unsigned long long)r->rows);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(k.first);
	EVP_PKEY_free(k.last);
	cJSON_Delete(root);
	return rc;
}
