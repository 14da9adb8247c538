/*
 * test_audit_verify.c: unit tests for clients/audit_verify.c, the offline
 * verifier of audit exports (docs/audit.md).
 *
 * The exports are built here: hashes and signatures are computed by the test
 * through OpenSSL, then lines are altered, removed, swapped or forged. One
 * export (test_pinned_vector) is pinned byte for byte, with hashes and a
 * signature computed independently with Python's hashlib and the openssl
 * command, so that the code and the documented format cannot drift apart;
 * so is one with a key rotation (test_pinned_keys).
 *
 * Links audit_verify.c, audit_json.c, fundctl_util.c, OpenSSL and cmocka.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "audit_verify.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define MAXLINES	64
#define NEVENTS		12	/* in the standard export */
#define NCHAINED	10

struct ev {
	long long	 seq;
	char		 at[48];
	const char	*principal_id;	/* NULL: null, in all of these */
	const char	*method;
	const char	*object_id;
	const char	*outcome;
	const char	*error_code;	/* the digits */
	const char	*reason;
	const char	*params_sha256;
	const char	*purpose;	/* an access event's; NULL: no key */
	char		 pbuf[65];	/* params_sha256 points here */
	char		 prev[65];	/* "" with hash "": not yet chained */
	char		 hash[65];
};

struct file {
	char	*line[MAXLINES];
	int	 n;
};

static EVP_PKEY	*key, *key2;	/* Ed25519 signing keys */

/* Helpers */

static void
hexof(const unsigned char *b, size_t n, char *out)
{
	static const char	xd[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < n; i++) {
		out[2 * i] = xd[b[i] >> 4];
		out[2 * i + 1] = xd[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static void
unhexof(const char *s, unsigned char *out, size_t n)
{
	unsigned int	c;
	size_t		i;

	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(s + 2 * i, "%2x", &c), 1);
		out[i] = (unsigned char)c;
	}
}

static char *
xstr(const char *s)
{
	char	*p = strdup(s);

	assert_non_null(p);
	return p;
}

/* "s" with the first "from" replaced by "to"; the test fails without one. */
static char *
replace(const char *s, const char *from, const char *to)
{
	const char	*at = strstr(s, from);
	char		*p;
	size_t		 n;

	if (at == NULL)
		fail_msg("'%s' not in '%s'", from, s);
	n = strlen(s) - strlen(from) + strlen(to);
	p = malloc(n + 1);
	assert_non_null(p);
	snprintf(p, n + 1, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return p;
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* The canonical bytes of the page: nine lines, null as an empty one, and an
 * access event's purpose as a tenth. */
static size_t
canon(const struct ev *e, char *buf, size_t sz)
{
	int	n;

	n = snprintf(buf, sz, "%lld\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s%s",
	    e->seq, e->at, nz(e->principal_id), nz(e->method),
	    nz(e->object_id), nz(e->outcome), nz(e->error_code),
	    nz(e->reason), nz(e->params_sha256), nz(e->purpose),
	    e->purpose != NULL ? "\n" : "");
	assert_true(n > 0 && (size_t)n < sz);
	return (size_t)n;
}

static void
event_hash(const struct ev *e, const char *prev_hex, char *out_hex)
{
	unsigned char	 buf[4096], md[32];
	unsigned int	 mdlen;
	size_t		 n;

	unhexof(prev_hex, buf, 32);
	n = canon(e, (char *)buf + 32, sizeof buf - 32);
	assert_int_equal(EVP_Digest(buf, 32 + n, md, &mdlen, EVP_sha256(),
	    NULL), 1);
	hexof(md, 32, out_hex);
}

/* Chain evs[0..nchained) after first_prev (NULL: 32 zero bytes). */
static void
chain(struct ev *evs, int n, int nchained, const char *first_prev)
{
	char	prev[65];
	int	i;

	snprintf(prev, sizeof prev, "%s", first_prev != NULL ? first_prev :
	    "0000000000000000000000000000000000000000000000000000000000000000");
	for (i = 0; i < n; i++) {
		if (i >= nchained) {
			evs[i].prev[0] = evs[i].hash[0] = '\0';
			continue;
		}
		snprintf(evs[i].prev, sizeof evs[i].prev, "%s", prev);
		event_hash(&evs[i], prev, evs[i].hash);
		snprintf(prev, sizeof prev, "%s", evs[i].hash);
	}
}

static int
jstr(char *buf, size_t sz, const char *s)
{
	return s != NULL ? snprintf(buf, sz, "\"%s\"", s) :
	    snprintf(buf, sz, "null");
}

/* An event line, without key `skip` (NULL: none), and with `extra` (key
 * and value text) before the closing brace. */
static char *
ev_json2(const struct ev *e, const char *skip, const char *extra)
{
	char	 out[4096], v[256], *line;
	size_t	 off = 0, n;

#define ADD(k, ...) do {						\
	if (skip == NULL || strcmp(skip, k) != 0) {			\
		snprintf(v, sizeof v, __VA_ARGS__);			\
		off += (size_t)snprintf(out + off, sizeof out - off,	\
		    "%s\"%s\":%s", off > 1 ? "," : "", k, v);		\
	}								\
} while (0)
#define ADDS(k, s) do {							\
	char t_[256];							\
	jstr(t_, sizeof t_, (s));					\
	ADD(k, "%s", t_);						\
} while (0)

	off = (size_t)snprintf(out, sizeof out, "{");
	ADDS("type", "event");
	ADD("seq", "%lld", e->seq);
	ADDS("at", e->at);
	ADDS("principal_id", e->principal_id);
	ADDS("method", e->method);
	ADDS("object_id", e->object_id);
	ADDS("outcome", e->outcome);
	ADD("error_code", "%s", e->error_code != NULL ? e->error_code : "null");
	ADDS("reason", e->reason);
	ADDS("params_sha256", e->params_sha256);
	if (e->purpose != NULL)
		ADDS("purpose", e->purpose);
	ADDS("prev_hash", e->prev[0] != '\0' ? e->prev : NULL);
	ADDS("hash", e->hash[0] != '\0' ? e->hash : NULL);
#undef ADD
#undef ADDS
	if (extra == NULL)
		extra = "";
	n = off + 1 + strlen(extra) + 2;
	assert_non_null(line = malloc(n));
	snprintf(line, n, "%s%s%s}", out, *extra != '\0' ? "," : "", extra);
	return line;
}

static char *
ev_json(const struct ev *e)
{
	return ev_json2(e, NULL, NULL);
}

/* The PEM public key of k as JSON string content ("\n" escaped). */
static void
pem_json(EVP_PKEY *k, char *out, size_t sz)
{
	BIO	*bio;
	char	*p, *o = out;
	long	 n, i;

	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_PUBKEY(bio, k), 1);
	n = BIO_get_mem_data(bio, &p);
	for (i = 0; i < n; i++) {
		assert_true((size_t)(o - out) + 3 < sz);
		if (p[i] == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else
			*o++ = p[i];
	}
	*o = '\0';
	BIO_free(bio);
}

/* A checkpoint line signed by signer; with the public_key of named
 * (NULL: no public_key key). */
static char *
cp_json(long long seq, const char *head, const char *signed_at,
    EVP_PKEY *signer, EVP_PKEY *named)
{
	EVP_MD_CTX	*md;
	unsigned char	 sig[64];
	char		 msg[256], sighex[129], pem[1024], out[2048];
	size_t		 siglen = sizeof sig;
	int		 n;

	n = snprintf(msg, sizeof msg, "fl-audit-checkpoint\n%lld\n%s\n%s\n",
	    seq, head, signed_at);
	assert_non_null(md = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit(md, NULL, NULL, NULL, signer), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen,
	    (unsigned char *)msg, (size_t)n), 1);
	assert_int_equal(siglen, 64);
	EVP_MD_CTX_free(md);
	hexof(sig, 64, sighex);
	pem[0] = '\0';
	if (named != NULL)
		pem_json(named, pem, sizeof pem);
	snprintf(out, sizeof out, "{\"type\":\"checkpoint\",\"seq\":%lld,"
	    "\"head_hash\":\"%s\",\"signed_at\":\"%s\",\"signature\":\"%s\"%s%s%s}",
	    seq, head, signed_at, sighex, named != NULL ? ",\"public_key\":\"" :
	    "", pem, named != NULL ? "\"" : "");
	return xstr(out);
}

static void
file_add(struct file *f, char *line)
{
	assert_true(f->n < MAXLINES);
	f->line[f->n++] = line;
}

/* Line ln (1-based) becomes line (owned). */
static void
file_set(struct file *f, int ln, char *line)
{
	assert_true(ln >= 1 && ln <= f->n);
	free(f->line[ln - 1]);
	f->line[ln - 1] = line;
}

static void
file_del(struct file *f, int ln)
{
	assert_true(ln >= 1 && ln <= f->n);
	free(f->line[ln - 1]);
	memmove(f->line + ln - 1, f->line + ln,
	    sizeof f->line[0] * (size_t)(f->n - ln));
	f->n--;
}

/* Insert line (owned) so that it becomes line ln. */
static void
file_ins(struct file *f, int ln, char *line)
{
	assert_true(ln >= 1 && ln <= f->n + 1 && f->n < MAXLINES);
	memmove(f->line + ln, f->line + ln - 1,
	    sizeof f->line[0] * (size_t)(f->n - ln + 1));
	f->line[ln - 1] = line;
	f->n++;
}

static void
file_free(struct file *f)
{
	int	i;

	for (i = 0; i < f->n; i++)
		free(f->line[i]);
	f->n = 0;
}

/*
 * The standard export: 12 events (seqs 1 2 4 5 6 7 9 10 11 12 chained,
 * 13 14 not yet), checkpoints after seq 6 and seq 10:
 *
 *	line  1..5	events seq 1 2 4 5 6	(evs[0..4])
 *	line  6		checkpoint at seq 6
 *	line  7..9	events seq 7 9 10	(evs[5..7])
 *	line 10		checkpoint at seq 10
 *	line 11..14	events seq 11 12, 13 14 unchained (evs[8..11])
 */
static const long long	std_seqs[NEVENTS] = {
	1, 2, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14
};
static const int	std_line[NEVENTS] = {
	1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 14
};

static void
std_events(struct ev *evs)
{
	unsigned char	 md[32];
	unsigned int	 mdlen;
	char		 params[64];
	int		 i;

	memset(evs, 0, sizeof *evs * NEVENTS);
	for (i = 0; i < NEVENTS; i++) {
		struct ev	*e = &evs[i];

		e->seq = std_seqs[i];
		snprintf(e->at, sizeof e->at, "2026-11-23T10:%02d:%02d.%06dZ",
		    i / 60, i % 60, i * 1013);
		e->principal_id = "pr_0123456789abcdef0123";
		e->method = "contribution.receive";
		e->object_id = "ct_00000000000000000001";
		e->outcome = "ok";
		snprintf(params, sizeof params, "%s {\"n\": %d}", e->method, i);
		assert_int_equal(EVP_Digest(params, strlen(params), md, &mdlen,
		    EVP_sha256(), NULL), 1);
		hexof(md, 32, e->pbuf);
		e->params_sha256 = e->pbuf;
	}
	/* Refusals: unauthenticated, forbidden. */
	evs[1].principal_id = NULL;
	evs[1].method = "http.rpc";
	evs[1].object_id = NULL;
	evs[1].outcome = "refused";
	evs[1].error_code = "-32001";
	evs[1].reason = "bad_credentials";
	evs[1].params_sha256 = NULL;
	evs[3].method = "grant.approve";
	evs[3].object_id = "gr_00000000000000000007";
	evs[3].outcome = "refused";
	evs[3].error_code = "-32003";
	evs[3].reason = "role_required";
	evs[4].method = "fund.create";
	evs[4].object_id = "DIASPORA";
	chain(evs, NEVENTS, NCHAINED, NULL);
}

/* The lines of the standard export, from evs as they are. */
static void
std_render(struct file *f, const struct ev *evs)
{
	int	i;

	memset(f, 0, sizeof *f);
	for (i = 0; i < NEVENTS; i++) {
		file_add(f, ev_json(&evs[i]));
		if (i == 4 || i == 7)
			file_add(f, cp_json(evs[i].seq, evs[i].hash,
			    "2026-11-23T11:00:00.000000Z", key, key));
	}
	assert_int_equal(f->n, 14);
}

static void
std_file(struct file *f, struct ev *evs)
{
	std_events(evs);
	std_render(f, evs);
}

/* Feed the lines, every other one with its "\n". */
static struct av *
run(const struct file *f, EVP_PKEY *pub)
{
	struct av	*v;
	char		*buf;
	size_t		 n;
	int		 i;

	assert_non_null(v = av_new(pub));
	for (i = 0; i < f->n; i++) {
		n = strlen(f->line[i]);
		assert_non_null(buf = malloc(n + 1));
		memcpy(buf, f->line[i], n);
		buf[n] = '\n';
		if (av_line(v, buf, n + (i % 2)) == -1) {
			free(buf);
			break;
		}
		free(buf);
	}
	(void)av_finish(v);
	return v;
}

static void
expect_ok(const struct file *f, uint64_t events, uint64_t chained,
    uint64_t checkpoints, uint64_t uncovered, int64_t head_seq)
{
	struct av		*v = run(f, key);
	const struct av_result	*r = av_result(v);

	if (r->failed)
		fail_msg("unexpected failure at line %llu: %s",
		    (unsigned long long)r->line, r->message);
	assert_int_equal(r->events, events);
	assert_int_equal(r->chained, chained);
	assert_int_equal(r->unchained, events - chained);
	assert_int_equal(r->checkpoints, checkpoints);
	assert_int_equal(r->uncovered, uncovered);
	assert_int_equal(r->head_seq, head_seq);
	assert_int_equal(strlen(r->head_hash), head_seq > 0 ? 64 : 0);
	av_free(v);
}

/* The export must fail at line ln, for seq (0: none), with want in the
 * message. */
static void
expect_fail_key(const struct file *f, EVP_PKEY *pub, uint64_t ln, int64_t seq,
    const char *want)
{
	struct av		*v = run(f, pub);
	const struct av_result	*r = av_result(v);

	if (!r->failed || r->line != ln || r->seq != seq ||
	    strstr(r->message, want) == NULL)
		fail_msg("want line %llu seq %lld \"%s\"; got %s line %llu "
		    "seq %lld \"%s\"", (unsigned long long)ln, (long long)seq,
		    want, r->failed ? "failure" : "success",
		    (unsigned long long)r->line, (long long)r->seq,
		    r->message != NULL ? r->message : "");
	/* Sticky: nothing more is looked at. */
	assert_int_equal(av_line(v, "{}", 2), -1);
	assert_int_equal(av_result(v)->line, ln);
	av_free(v);
}

static void
expect_fail(const struct file *f, uint64_t ln, int64_t seq, const char *want)
{
	expect_fail_key(f, key, ln, seq, want);
}

/* One line alone must fail with want (and no seq unless given). */
static void
expect_line_fail(const char *line, size_t len, int64_t seq, const char *want)
{
	struct av		*v;
	const struct av_result	*r;

	assert_non_null(v = av_new(key));
	assert_int_equal(av_line(v, line, len), -1);
	assert_int_equal(av_finish(v), -1);
	r = av_result(v);
	if (!r->failed || r->line != 1 || r->seq != seq ||
	    strstr(r->message, want) == NULL)
		fail_msg("line '%.*s': want seq %lld \"%s\"; got seq %lld \"%s\"",
		    (int)len, line, (long long)seq, want, (long long)r->seq,
		    r->message != NULL ? r->message : "");
	av_free(v);
}

/* The raw public key of k in hex, and its id (16 hex digits of the SHA-256
 * of the raw bytes). */
static void
key_hex_id(EVP_PKEY *k, char hex[65], char id[17])
{
	unsigned char	 raw[32], md[32];
	size_t		 len = sizeof raw;
	unsigned int	 mdlen;

	assert_int_equal(EVP_PKEY_get_raw_public_key(k, raw, &len), 1);
	assert_int_equal(len, 32);
	hexof(raw, 32, hex);
	assert_int_equal(EVP_Digest(raw, 32, md, &mdlen, EVP_sha256(), NULL), 1);
	hexof(md, 8, id);
}

/* Sign msg with k, into hex. */
static void
sign_hex(EVP_PKEY *k, const char *msg, char out[129])
{
	EVP_MD_CTX	*md;
	unsigned char	 sig[64];
	size_t		 siglen = sizeof sig;

	assert_non_null(md = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit(md, NULL, NULL, NULL, k), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen,
	    (const unsigned char *)msg, strlen(msg)), 1);
	assert_int_equal(siglen, 64);
	EVP_MD_CTX_free(md);
	hexof(sig, 64, out);
}

/* A key line: key no of k, signing from seq from, introduced at `at`, its
 * introduction signed by signer (NULL: "signature":null). */
static char *
key_json(EVP_PKEY *k, long long no, long long from, const char *at,
    EVP_PKEY *signer)
{
	char	hex[65], id[17], msg[256], sig[131], pem[1024], out[2048];

	key_hex_id(k, hex, id);
	pem_json(k, pem, sizeof pem);
	snprintf(sig, sizeof sig, "null");
	if (signer != NULL) {
		snprintf(msg, sizeof msg, "fl-audit-key\n%lld\n%lld\n%s\n%s\n", no,
		    from, hex, at);
		sign_hex(signer, msg, sig + 1);
		sig[0] = '"';
		sig[129] = '"';
		sig[130] = '\0';
	}
	snprintf(out, sizeof out, "{\"type\":\"key\",\"key_no\":%lld,"
	    "\"key_id\":\"%s\",\"from_seq\":%lld,\"public_key\":\"%s\","
	    "\"introduced_at\":\"%s\",\"signature\":%s}", no, id, from, pem, at,
	    sig);
	return xstr(out);
}

#define AT_KEY1	"2026-11-23T10:00:59.000000Z"
#define AT_KEY2	"2026-11-23T11:00:00.500000Z"

/*
 * The standard export with a rotation, as fundd writes it: key 1 (key) right
 * before the event of the first checkpoint, key 2 (key2) introduced by key 1
 * from seq 7, right after the checkpoint at seq 6, and the checkpoint at seq
 * 10 signed by key 2:
 *
 *	line  1..4	events seq 1 2 4 5
 *	line  5		key 1, from seq 1
 *	line  6		event seq 6
 *	line  7		checkpoint at seq 6 (key 1)
 *	line  8		key 2, from seq 7, signed by key 1
 *	line  9..11	events seq 7 9 10
 *	line 12		checkpoint at seq 10 (key 2)
 *	line 13..16	events seq 11 12, 13 14 unchained
 */
static void
rot_file(struct file *f, struct ev *evs)
{
	std_file(f, evs);
	file_set(f, 10, cp_json(10, evs[7].hash, "2026-11-23T11:00:00.000000Z",
	    key2, key2));
	file_ins(f, 7, key_json(key2, 2, 7, AT_KEY2, key));
	file_ins(f, 5, key_json(key, 1, 1, AT_KEY1, NULL));
	assert_int_equal(f->n, 16);
}

/* Run f under the given key: it must verify, with nkeys key lines. */
static void
expect_keys(const struct file *f, EVP_PKEY *pub, uint64_t checkpoints,
    uint64_t nkeys)
{
	struct av		*v = run(f, pub);
	const struct av_result	*r = av_result(v);

	if (r->failed)
		fail_msg("unexpected failure at line %llu: %s",
		    (unsigned long long)r->line, r->message);
	assert_int_equal(r->checkpoints, checkpoints);
	assert_int_equal(r->keys, nkeys);
	av_free(v);
}

static EVP_PKEY *
keygen(int type)
{
	EVP_PKEY_CTX	*c;
	EVP_PKEY	*k = NULL;

	assert_non_null(c = EVP_PKEY_CTX_new_id(type, NULL));
	assert_int_equal(EVP_PKEY_keygen_init(c), 1);
	assert_int_equal(EVP_PKEY_keygen(c, &k), 1);
	EVP_PKEY_CTX_free(c);
	return k;
}

static int
setup(void **state)
{
	(void)state;
	key = keygen(EVP_PKEY_ED25519);
	key2 = keygen(EVP_PKEY_ED25519);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	EVP_PKEY_free(key2);
	return 0;
}

/* Tests */

/*
 * Computed with /usr/bin/python3 (hashlib) and `openssl pkeyutl -sign
 * -rawin`, from the page alone: the Ed25519 key is the PKCS#8 key whose seed
 * is SHA-256("fund ledger audit test key"). Event 1 is the page's example.
 */
static const char *const pinned[] = {
	"{\"type\":\"event\",\"seq\":1,\"at\":\"2026-11-23T10:00:00.000000Z\","
	"\"principal_id\":\"pr_0123456789abcdef0123\",\"method\":\"fund.create\","
	"\"object_id\":\"DIASPORA\",\"outcome\":\"ok\",\"error_code\":null,"
	"\"reason\":null,\"params_sha256\":"
	"\"d6f102429ac61cebddf7d60c96d714d35b0d33936558a2ab768d49d4608dd300\","
	"\"prev_hash\":"
	"\"0000000000000000000000000000000000000000000000000000000000000000\","
	"\"hash\":"
	"\"8dceabd01c137f9fa008f892163838e349d6f3ff6825f932ef0c9521de30b29b\"}",

	"{\"type\":\"event\",\"seq\":3,\"at\":\"2026-11-23T10:00:01.500000Z\","
	"\"principal_id\":null,\"method\":\"http.export_audit\","
	"\"object_id\":null,\"outcome\":\"refused\",\"error_code\":-32001,"
	"\"reason\":\"bad_credentials\",\"params_sha256\":null,"
	"\"prev_hash\":"
	"\"8dceabd01c137f9fa008f892163838e349d6f3ff6825f932ef0c9521de30b29b\","
	"\"hash\":"
	"\"43a9d63c21bd8639f45659e26e789ad5ca2f5486ce2513315ff813a22b024a1c\"}",

	"{\"type\":\"event\",\"seq\":4,\"at\":\"2026-11-23T10:00:02.250001Z\","
	"\"principal_id\":\"pr_0123456789abcdef0123\","
	"\"method\":\"contribution.receive\","
	"\"object_id\":\"ct_00000000000000000001\",\"outcome\":\"ok\","
	"\"error_code\":null,\"reason\":null,\"params_sha256\":"
	"\"1ce71fd8336be8fd2b4eae341f9670e020f677ca7175485c50ddcc9b798efbfd\","
	"\"prev_hash\":"
	"\"43a9d63c21bd8639f45659e26e789ad5ca2f5486ce2513315ff813a22b024a1c\","
	"\"hash\":"
	"\"35bc5b0640af4427286c456ed45d4272685e3f933e1007ca11ff4813791330f4\"}",

	"{\"type\":\"checkpoint\",\"seq\":4,\"head_hash\":"
	"\"35bc5b0640af4427286c456ed45d4272685e3f933e1007ca11ff4813791330f4\","
	"\"signed_at\":\"2026-11-23T10:00:05.000000Z\",\"signature\":"
	"\"df5f0cf28d1674b302f746a27d4b3366b5a4f00c39634c4149d28e4e66362281"
	"7626689121283c28f97c920ed4211b73f6a9b0ad3c08c43ad5d51ec997fa700b\"}",

	"{\"type\":\"event\",\"seq\":5,\"at\":\"2026-11-23T10:00:06.000000Z\","
	"\"principal_id\":\"pr_0123456789abcdef0123\",\"method\":\"grant.create\","
	"\"object_id\":\"gr_00000000000000000001\",\"outcome\":\"ok\","
	"\"error_code\":null,\"reason\":null,\"params_sha256\":null,"
	"\"prev_hash\":null,\"hash\":null}",
};
static const unsigned char pinned_pub[32] = {
	0xbc, 0x7d, 0xc8, 0x0e, 0x9b, 0x45, 0xd1, 0x90, 0x15, 0x76, 0x59, 0xc9,
	0xbe, 0xfe, 0xae, 0x3b, 0xdd, 0x97, 0xbc, 0x68, 0x72, 0xe0, 0x7e, 0x8a,
	0xa3, 0x7a, 0x90, 0xfa, 0x30, 0x88, 0x07, 0xb5
};

static void
test_pinned_vector(void **state)
{
	const struct av_result	*r;
	struct av		*v;
	EVP_PKEY		*pub;
	struct ev		 e;
	char			 buf[512], hash[65];
	size_t			 i;

	(void)state;
	assert_non_null(pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
	    NULL, pinned_pub, sizeof pinned_pub));
	assert_non_null(v = av_new(pub));
	for (i = 0; i < NITEMS(pinned); i++)
		assert_int_equal(av_line(v, pinned[i], strlen(pinned[i])), 0);
	assert_int_equal(av_finish(v), 0);
	r = av_result(v);
	assert_int_equal(r->failed, 0);
	assert_int_equal(r->events, 4);
	assert_int_equal(r->chained, 3);
	assert_int_equal(r->unchained, 1);
	assert_int_equal(r->checkpoints, 1);
	assert_int_equal(r->uncovered, 1);
	assert_int_equal(r->head_seq, 4);
	assert_string_equal(r->head_hash,
	    "35bc5b0640af4427286c456ed45d4272685e3f933e1007ca11ff4813791330f4");
	av_free(v);

	/* Another key: the checkpoint (line 4) fails. */
	assert_non_null(v = av_new(key));
	for (i = 0; i < NITEMS(pinned); i++)
		if (av_line(v, pinned[i], strlen(pinned[i])) == -1)
			break;
	assert_int_equal(av_finish(v), -1);
	assert_int_equal(av_result(v)->line, 4);
	av_free(v);
	EVP_PKEY_free(pub);

	/* This test's own canonical form agrees with the page's example. */
	memset(&e, 0, sizeof e);
	e.seq = 1;
	snprintf(e.at, sizeof e.at, "2026-11-23T10:00:00.000000Z");
	e.principal_id = "pr_0123456789abcdef0123";
	e.method = "fund.create";
	e.object_id = "DIASPORA";
	e.outcome = "ok";
	e.params_sha256 =
	    "d6f102429ac61cebddf7d60c96d714d35b0d33936558a2ab768d49d4608dd300";
	canon(&e, buf, sizeof buf);
	assert_string_equal(buf, "1\n2026-11-23T10:00:00.000000Z\n"
	    "pr_0123456789abcdef0123\nfund.create\nDIASPORA\nok\n\n\n"
	    "d6f102429ac61cebddf7d60c96d714d35b0d33936558a2ab768d49d4608dd300\n");
	event_hash(&e,
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    hash);
	assert_string_equal(hash,
	    "8dceabd01c137f9fa008f892163838e349d6f3ff6825f932ef0c9521de30b29b");
}

static void
test_valid(void **state)
{
	struct file	f;
	struct ev	evs[NEVENTS];

	(void)state;
	std_file(&f, evs);
	expect_ok(&f, 12, 10, 2, 4, 12);

	/* Everything chained and signed. */
	file_del(&f, 14);
	file_del(&f, 13);
	file_add(&f, cp_json(evs[9].seq, evs[9].hash,
	    "2026-11-23T12:00:00.000000Z", key, NULL));
	expect_ok(&f, 10, 10, 3, 0, 12);

	/* A second checkpoint at the same seq, without public_key. */
	file_add(&f, cp_json(evs[9].seq, evs[9].hash,
	    "2026-11-23T12:00:01.000000Z", key, NULL));
	expect_ok(&f, 10, 10, 4, 0, 12);
	file_free(&f);

	/* Leap days, the last microsecond of a year. */
	std_events(evs);
	snprintf(evs[0].at, sizeof evs[0].at, "2028-02-29T23:59:59.999999Z");
	snprintf(evs[1].at, sizeof evs[1].at, "2000-02-29T00:00:00.000000Z");
	snprintf(evs[2].at, sizeof evs[2].at, "9999-12-31T23:59:59.999999Z");
	snprintf(evs[3].at, sizeof evs[3].at, "0001-01-01T00:00:00.000000Z");
	chain(evs, NEVENTS, NCHAINED, NULL);
	std_render(&f, evs);
	expect_ok(&f, 12, 10, 2, 4, 12);
	file_free(&f);

	/* No checkpoint at all; nothing chained at all. */
	std_file(&f, evs);
	file_del(&f, 10);
	file_del(&f, 6);
	expect_ok(&f, 12, 10, 0, 12, 12);
	file_free(&f);
	memset(&f, 0, sizeof f);
	chain(evs, NEVENTS, 0, NULL);
	file_add(&f, ev_json(&evs[0]));
	file_add(&f, ev_json(&evs[1]));
	expect_ok(&f, 2, 0, 0, 2, 0);
	file_free(&f);
}

static void
test_empty(void **state)
{
	struct file	f;

	(void)state;
	memset(&f, 0, sizeof f);
	expect_ok(&f, 0, 0, 0, 0, 0);
}

/* Unknown keys are skipped, and not hashed; escapes are decoded before
 * hashing; blanks and a "\r" before the line feed are allowed. */
static void
test_tolerated(void **state)
{
	struct file	 f;
	struct ev	 evs[NEVENTS];

	(void)state;
	std_events(evs);
	evs[2].object_id = "ct_0/1";
	chain(evs, NEVENTS, NCHAINED, NULL);
	std_render(&f, evs);
	file_set(&f, 3, replace(f.line[2], "\"ct_0/1\"", "\"ct_0\\/1\""));
	file_set(&f, 2, ev_json2(&evs[1], NULL,
	    "\"extra\":{\"a\":[1,-2.5e+3,true,false,null,\"x\\u00e9\\\"\"],"
	    "\"b\":{}},\"z\":[],\"\xc3\xa9\":0"));
	file_set(&f, 4, replace(f.line[3], "\"gr_00000000000000000007\"",
	    "\"\\u0067r_0000000000000000000\\u0037\""));
	file_set(&f, 5, replace(f.line[4], "{\"type\":\"event\",",
	    " {\t\"type\" : \"event\" ,\r"));
	file_set(&f, 7, replace(f.line[6], "}", "} \r"));
	file_set(&f, 6, replace(f.line[5], "\"type\":\"checkpoint\"",
	    "\"note\":\"\\ud83d\\ude00\",\"type\":\"checkpoint\""));
	expect_ok(&f, 12, 10, 2, 4, 12);

	/* Escapes count by what they decode to: "\/" is "/", not "7". */
	file_set(&f, 4, replace(f.line[3], "\\u0037", "\\/"));
	expect_fail(&f, 4, 5, "hash does not match");
	file_free(&f);
}

/* An access event (docs/privacy.md): its purpose is the tenth canonical line. */
static void
test_access_event(void **state)
{
	struct file	 f;
	struct ev	 evs[NEVENTS];
	char		*line;

	(void)state;
	std_events(evs);
	evs[5].method = "returnee.get";
	evs[5].object_id = "re_00000000000000000003";
	evs[5].purpose = "audit";
	chain(evs, NEVENTS, NCHAINED, NULL);
	std_render(&f, evs);
	expect_ok(&f, 12, 10, 2, 4, 12);

	/* Another purpose, or none, is another event. */
	evs[5].purpose = "payment";
	file_set(&f, std_line[5], ev_json(&evs[5]));
	expect_fail(&f, (uint64_t)std_line[5], evs[5].seq, "hash does not match");
	line = ev_json(&evs[5]);
	file_set(&f, std_line[5], replace(line, ",\"purpose\":\"payment\"",
	    ",\"purpose\":null"));
	free(line);
	expect_fail(&f, (uint64_t)std_line[5], evs[5].seq, "hash does not match");
	file_free(&f);

	/* A purpose not in the list, or on a refusal. */
	std_events(evs);
	evs[5].purpose = "curiosity";
	chain(evs, NEVENTS, NCHAINED, NULL);
	std_render(&f, evs);
	expect_fail(&f, (uint64_t)std_line[5], evs[5].seq, "field \"purpose\" must be");
	file_free(&f);
	std_events(evs);
	evs[3].purpose = "audit";
	chain(evs, NEVENTS, NCHAINED, NULL);
	std_render(&f, evs);
	expect_fail(&f, (uint64_t)std_line[3], evs[3].seq, "field \"purpose\" must be");
	file_free(&f);
}

static void
test_altered(void **state)
{
	static const char *const fields[] = {
		"at", "principal_id", "method", "object_id", "outcome",
		"reason", "params_sha256", "seq", "error_code"
	};
	struct file	 f;
	struct ev	 evs[NEVENTS], *e;
	size_t		 i;
	const int	 k = 3;	/* seq 5, a refusal */

	(void)state;
	for (i = 0; i < NITEMS(fields); i++) {
		std_file(&f, evs);
		e = &evs[k];
		if (strcmp(fields[i], "at") == 0)
			e->at[18] = '9';
		else if (strcmp(fields[i], "principal_id") == 0)
			e->principal_id = "pr_0123456789abcdef0124";
		else if (strcmp(fields[i], "method") == 0)
			e->method = "grant.reject";
		else if (strcmp(fields[i], "object_id") == 0)
			e->object_id = NULL;
		else if (strcmp(fields[i], "outcome") == 0) {
			e->outcome = "ok";
			e->error_code = e->reason = NULL;
		} else if (strcmp(fields[i], "reason") == 0)
			e->reason = "self_approval";
		else if (strcmp(fields[i], "params_sha256") == 0)
			e->pbuf[0] = e->pbuf[0] == 'a' ? 'b' : 'a';
		else if (strcmp(fields[i], "seq") == 0)
			e->seq = 6;	/* still increasing */
		else
			e->error_code = "-32011";
		file_set(&f, std_line[k], ev_json(e));
		expect_fail(&f, (uint64_t)std_line[k], e->seq,
		    "hash does not match its content (the event was altered)");
		file_free(&f);
	}

	/* The last chained event, after the last checkpoint. */
	std_file(&f, evs);
	evs[9].object_id = "ct_00000000000000000002";
	file_set(&f, 12, ev_json(&evs[9]));
	expect_fail(&f, 12, 12, "hash does not match");
	file_free(&f);

	/* An altered hash: the next event's prev_hash no longer matches, or
	 * the event itself does not. */
	std_file(&f, evs);
	evs[6].hash[5] = evs[6].hash[5] == '0' ? '1' : '0';
	file_set(&f, 8, ev_json(&evs[6]));
	expect_fail(&f, 8, 9, "hash does not match");
	file_free(&f);

	/* Altered and re-hashed: the next event's prev_hash catches it. */
	std_file(&f, evs);
	evs[6].object_id = "ct_99999999999999999999";
	event_hash(&evs[6], evs[6].prev, evs[6].hash);
	file_set(&f, 8, ev_json(&evs[6]));
	expect_fail(&f, 9, 10, "prev_hash is not the hash of event 9 before "
	    "it (an event was removed, inserted or reordered)");
	file_free(&f);

	/* Altered, re-hashed and everything after re-chained: the checkpoint
	 * catches it. */
	std_file(&f, evs);
	evs[6].object_id = "ct_99999999999999999999";
	chain(evs, NEVENTS, NCHAINED, NULL);
	file_set(&f, 8, ev_json(&evs[6]));
	file_set(&f, 9, ev_json(&evs[7]));
	file_set(&f, 11, ev_json(&evs[8]));
	file_set(&f, 12, ev_json(&evs[9]));
	expect_fail(&f, 10, 10, "checkpoint at seq 10: head_hash is not the "
	    "chain's hash at seq 10");
	file_free(&f);
}

static void
test_removed(void **state)
{
	struct file	f;
	struct ev	evs[NEVENTS];
	int		k;

	(void)state;
	/* Each chained event but the first and those before a checkpoint:
	 * the next event fails. */
	for (k = 1; k < NCHAINED - 1; k++) {
		if (k == 4 || k == 7)
			continue;
		std_file(&f, evs);
		file_del(&f, std_line[k]);
		expect_fail(&f, (uint64_t)std_line[k], evs[k + 1].seq,
		    "prev_hash is not the hash of event");
		file_free(&f);
	}

	/* The event before a checkpoint: the checkpoint fails. */
	std_file(&f, evs);
	file_del(&f, 5);
	expect_fail(&f, 5, 6, "checkpoint at seq 6: it does not come right "
	    "after the event at its seq (the event before it is seq 5)");
	file_free(&f);

	/* The first event: the new first one does not start the chain. */
	std_file(&f, evs);
	file_del(&f, 1);
	expect_fail(&f, 1, 2, "prev_hash of the first event is not 32 zero "
	    "bytes");
	file_free(&f);

	/* An event and its checkpoint, and the checkpoint alone. */
	std_file(&f, evs);
	file_del(&f, 6);
	file_del(&f, 5);
	expect_fail(&f, 5, 7, "prev_hash is not the hash of event 5");
	file_free(&f);
	std_file(&f, evs);
	file_del(&f, 6);
	expect_ok(&f, 12, 10, 1, 4, 12);
	file_free(&f);
}

static void
test_reordered(void **state)
{
	struct file	 f;
	struct ev	 evs[NEVENTS];
	char		*t;

	(void)state;
	/* Two events swapped. */
	std_file(&f, evs);
	t = f.line[2];
	f.line[2] = f.line[3];
	f.line[3] = t;
	expect_fail(&f, 3, 5, "prev_hash is not the hash of event 2");
	file_free(&f);

	/* Swapped and re-chained in the new order: seq gives it away. */
	std_file(&f, evs);
	{
		struct ev	tmp = evs[2];

		evs[2] = evs[3];
		evs[3] = tmp;
		evs[2].params_sha256 = evs[2].pbuf;
		evs[3].params_sha256 = evs[3].pbuf;
	}
	chain(evs, NEVENTS, NCHAINED, NULL);
	file_set(&f, 3, ev_json(&evs[2]));
	file_set(&f, 4, ev_json(&evs[3]));
	expect_fail(&f, 4, 4, "event seq 4: seq does not increase after seq 5 "
	    "(events reordered or repeated)");
	file_free(&f);

	/* An event repeated. */
	std_file(&f, evs);
	file_ins(&f, 3, xstr(f.line[1]));
	expect_fail(&f, 3, 2, "seq does not increase after seq 2");
	file_free(&f);
}

static void
test_forged(void **state)
{
	struct file	f;
	struct ev	evs[NEVENTS], forged;

	(void)state;
	/* A well-formed event with seq 3 between seq 2 and 4, chained to
	 * seq 2: seq 4 no longer follows. */
	std_file(&f, evs);
	forged = evs[1];
	forged.seq = 3;
	forged.params_sha256 = NULL;
	snprintf(forged.prev, sizeof forged.prev, "%s", evs[1].hash);
	event_hash(&forged, forged.prev, forged.hash);
	file_ins(&f, 3, ev_json(&forged));
	expect_fail(&f, 4, 4, "event seq 4: prev_hash is not the hash of "
	    "event 3 before it");
	file_free(&f);

	/* An event appended "not yet chained" in the middle of the chain. */
	std_file(&f, evs);
	forged.prev[0] = forged.hash[0] = '\0';
	file_ins(&f, 3, ev_json(&forged));
	expect_fail(&f, 4, 4, "event seq 4: chained event after an unchained "
	    "one");
	file_free(&f);

	/* A whole chain rebuilt on another start. */
	std_file(&f, evs);
	chain(evs, NEVENTS, NCHAINED,
	    "1111111111111111111111111111111111111111111111111111111111111111");
	file_set(&f, 1, ev_json(&evs[0]));
	expect_fail(&f, 1, 1, "event seq 1: prev_hash of the first event is "
	    "not 32 zero bytes (the start of the chain is missing)");
	file_free(&f);
}

static void
test_checkpoint(void **state)
{
	struct file	 f;
	struct ev	 evs[NEVENTS];
	char		*s;

	(void)state;
	/* Wrong head_hash, correctly signed. */
	std_file(&f, evs);
	file_set(&f, 6, cp_json(6, evs[3].hash, "2026-11-23T11:00:00.000000Z",
	    key, key));
	expect_fail(&f, 6, 6, "checkpoint at seq 6: head_hash is not the "
	    "chain's hash at seq 6");
	file_free(&f);

	/* A signature with one bit flipped. */
	std_file(&f, evs);
	s = strstr(f.line[9], "\"signature\":\"") + 13;
	*s = *s == '0' ? '1' : '0';
	expect_fail(&f, 10, 10, "checkpoint at seq 10: signature does not "
	    "verify under the given public key");
	file_free(&f);

	/* signed_at changed after signing. */
	std_file(&f, evs);
	file_set(&f, 6, replace(f.line[5], "2026-11-23T11:00:00.000000Z",
	    "2026-11-23T11:00:00.000001Z"));
	expect_fail(&f, 6, 6, "signature does not verify");
	file_free(&f);

	/* Signed by another key, which the line names. */
	std_file(&f, evs);
	file_set(&f, 10, cp_json(10, evs[7].hash, "2026-11-23T11:00:00.000000Z",
	    key2, key2));
	expect_fail(&f, 10, 10, "signature does not verify under the given "
	    "public key (the checkpoint names another public key)");
	file_free(&f);

	/* Signed by another key, the line naming ours (or none). */
	std_file(&f, evs);
	file_set(&f, 10, cp_json(10, evs[7].hash, "2026-11-23T11:00:00.000000Z",
	    key2, key));
	expect_fail(&f, 10, 10, "signature does not verify under the given "
	    "public key");
	file_set(&f, 10, cp_json(10, evs[7].hash, "2026-11-23T11:00:00.000000Z",
	    key2, NULL));
	expect_fail(&f, 10, 10, "signature does not verify under the given "
	    "public key");
	/* ... and verifying under that other key: the first one fails. */
	expect_fail_key(&f, key2, 6, 6, "signature does not verify");
	file_free(&f);

	/* Misplaced: before its event, after a later one, first line, after
	 * an unchained event. */
	std_file(&f, evs);
	s = f.line[5];
	f.line[5] = f.line[4];
	f.line[4] = s;
	expect_fail(&f, 5, 6, "checkpoint at seq 6: it does not come right "
	    "after the event at its seq (the event before it is seq 5)");
	file_free(&f);
	std_file(&f, evs);
	file_ins(&f, 11, xstr(f.line[5]));
	expect_fail(&f, 11, 6, "(the event before it is seq 10)");
	file_free(&f);
	std_file(&f, evs);
	file_ins(&f, 1, xstr(f.line[5]));
	expect_fail(&f, 1, 6, "checkpoint at seq 6: there is no event before "
	    "it");
	file_free(&f);
	std_file(&f, evs);
	file_add(&f, cp_json(14, evs[9].hash, "2026-11-23T11:00:00.000000Z",
	    key, key));
	expect_fail(&f, 15, 14, "checkpoint at seq 14: the event at its seq is "
	    "not chained");
	file_free(&f);
}

static void
test_unchained_then_chained(void **state)
{
	struct file	f;
	struct ev	evs[NEVENTS];

	(void)state;
	std_file(&f, evs);
	chain(evs, NEVENTS, 7, NULL);	/* evs[7] (seq 10) not chained */
	file_set(&f, 9, ev_json(&evs[7]));
	file_del(&f, 10);		/* its checkpoint */
	expect_fail(&f, 10, 11, "event seq 11: chained event after an "
	    "unchained one");
	file_free(&f);

	/* Half chained. */
	std_file(&f, evs);
	file_set(&f, 13, replace(f.line[12], "\"prev_hash\":null",
	    "\"prev_hash\":\"" "35bc5b0640af4427286c456ed45d4272685e3f933e1007ca"
	    "11ff4813791330f4\""));
	expect_fail(&f, 13, 13, "prev_hash and hash must both be null");
	file_free(&f);
}

static void
test_malformed(void **state)
{
	static const struct {
		const char	*line;
		const char	*want;
	} cases[] = {
		{ "", "empty line" },
		{ "\n", "empty line" },
		{ "hello", "not a JSON object" },
		{ " ", "not a JSON object" },
		{ "[1,2]", "not a JSON object" },
		{ "\"event\"", "not a JSON object" },
		{ "{", "not valid JSON: expected a key at byte 2" },
		{ "{\"type\":\"event\"", "expected ',' or '}' at byte 16" },
		{ "{\"type\":\"event\",}", "expected a key" },
		{ "{\"type\" \"event\"}", "expected ':'" },
		{ "{\"type\":}", "unexpected character" },
		{ "{\"type\":", "missing value" },
		{ "{\"type\":\"event\"} x", "data after the object" },
		{ "{\"type\":\"event\"}{}", "data after the object" },
		{ "{\"type\":\"event", "unterminated string" },
		{ "{\"type\":\"event\\", "unterminated string" },
		{ "{\"type\":\"ev\\qent\"}", "bad escape" },
		{ "{\"type\":\"\\ud800\"}", "lone high surrogate" },
		{ "{\"type\":\"\\ud800\\u0041\"}", "lone high surrogate" },
		{ "{\"type\":\"\\udc00\"}", "lone low surrogate" },
		{ "{\"type\":\"\\u12\"}", "bad \\u escape" },
		{ "{\"type\":\"\\u12g4\"}", "bad \\u escape" },
		{ "{\"type\":\"a\x01\"}", "control character in a string" },
		{ "{\"type\":\"a\tb\"}", "control character in a string" },
		{ "{\"type\":\"\xff\"}", "invalid UTF-8" },
		{ "{\"type\":\"\xc0\x80\"}", "invalid UTF-8" },
		{ "{\"type\":\"\xed\xa0\x80\"}", "invalid UTF-8" },
		{ "{\"type\":\"\xe2\x82\"}", "invalid UTF-8" },
		{ "{\"type\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8" },
		{ "{\"x\":01}", "expected ',' or '}'" },
		{ "{\"x\":1.}", "bad number" },
		{ "{\"x\":.5}", "unexpected character" },
		{ "{\"x\":-}", "bad number" },
		{ "{\"x\":1e}", "bad number" },
		{ "{\"x\":+1}", "unexpected character" },
		{ "{\"x\":tru}", "unexpected character" },
		{ "{\"x\":nul}", "unexpected character" },
		{ "{\"x\":[1,2}", "expected ',' or ']'" },
		{ "{\"x\":[1,]}", "unexpected character" },
		{ "{\"x\":{\"a\"}}", "expected ':'" },
		{ "{\"x\":{1:2}}", "expected a key" },
		{ "{'type':'event'}", "expected a key" },
		{ "{\"type\":\"event\"\n,\"seq\":1}", "expected ',' or '}'" },
		{ "{\"type\":\"event\",\"type\":\"event\"}",
		    "key \"type\" appears twice" },
		{ "{\"type\":\"event\",\"typ\\u0065\":\"event\"}",
		    "key \"type\" appears twice" },
		{ "{}", "missing field \"type\"" },
		{ "{\"x\":1}", "missing field \"type\"" },
		{ "{\"type\":5}", "field \"type\" must be a string" },
		{ "{\"type\":null}", "field \"type\" must be a string" },
		{ "{\"type\":\"note\"}", "unknown type \"note\"" },
		{ "{\"type\":\"Event\"}", "unknown type \"Event\"" },
		{ "{\"type\":\"a\\u001bb\"}", "unknown type \"a?b\"" },
		{ "{\"type\":\"event\"}", "missing field \"seq\"" },
		{ "{\"type\":\"checkpoint\"}", "missing field \"seq\"" },
	};
	char	deep[256];
	size_t	i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++)
		expect_line_fail(cases[i].line, strlen(cases[i].line), 0,
		    cases[i].want);
	/* A NUL byte. */
	expect_line_fail("{\"type\":\"event\"}\0", 17, 0,
	    "data after the object");
	expect_line_fail("{\"type\":\"ev\0ent\"}", 17, 0,
	    "control character in a string");

	/* Nesting in an unknown key: 32 levels are fine, 33 are not. */
	snprintf(deep, sizeof deep, "{\"x\":%.*s%.*s}", 32,
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 32,
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	expect_line_fail(deep, strlen(deep), 0, "missing field \"type\"");
	snprintf(deep, sizeof deep, "{\"x\":%.*s%.*s}", 33,
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 33,
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	expect_line_fail(deep, strlen(deep), 0, "nested too deeply");
}

static void
test_line_too_long(void **state)
{
	struct file	 f;
	struct ev	 evs[NEVENTS];
	char		*pad, *line;
	size_t		 n;

	(void)state;
	std_file(&f, evs);
	/* Just at the limit (a long unknown key), it is only a line. */
	n = AV_LINE_MAX - strlen(f.line[0]) - strlen(",\"pad\":\"\"");
	assert_non_null(pad = malloc(n + 32));
	snprintf(pad, n + 32, "\"pad\":\"%*s\"", (int)n, "");
	line = ev_json2(&evs[0], NULL, pad);
	assert_int_equal(strlen(line), AV_LINE_MAX);
	file_set(&f, 1, line);
	expect_ok(&f, 12, 10, 2, 4, 12);
	/* One byte more. */
	snprintf(pad, n + 32, "\"pad\":\"%*s\"", (int)n + 1, "");
	file_set(&f, 1, ev_json2(&evs[0], NULL, pad));
	expect_fail(&f, 1, 0, "line longer than 1048576 bytes");
	free(pad);
	file_free(&f);
}

static void
test_missing_fields(void **state)
{
	static const char *const ev_keys[] = {
		"seq", "at", "principal_id", "method", "object_id", "outcome",
		"error_code", "reason", "params_sha256", "prev_hash", "hash"
	};
	static const char *const cp_keys[] = {
		"seq", "head_hash", "signed_at", "signature"
	};
	struct file	 f;
	struct ev	 evs[NEVENTS];
	char		 want[64], *s, *e;
	size_t		 i;

	(void)state;
	for (i = 0; i < NITEMS(ev_keys); i++) {
		std_file(&f, evs);
		file_set(&f, 2, ev_json2(&evs[1], ev_keys[i], NULL));
		snprintf(want, sizeof want, "missing field \"%s\"", ev_keys[i]);
		expect_fail(&f, 2, i == 0 ? 0 : 2, want);
		file_free(&f);
	}
	std_file(&f, evs);
	file_set(&f, 2, ev_json2(&evs[1], "type", NULL));
	expect_fail(&f, 2, 0, "missing field \"type\"");
	file_free(&f);

	for (i = 0; i < NITEMS(cp_keys); i++) {
		std_file(&f, evs);
		/* Cut `"key":value,` out of the checkpoint line. */
		snprintf(want, sizeof want, "\"%s\":", cp_keys[i]);
		assert_non_null(s = strstr(f.line[5], want));
		assert_non_null(e = strchr(s, ','));
		memmove(s, e + 1, strlen(e + 1) + 1);
		snprintf(want, sizeof want, "missing field \"%s\"", cp_keys[i]);
		expect_fail(&f, 6, i == 0 ? 0 : 6, want);
		file_free(&f);
	}
}

/* Replace `from` by `to` in line ln of the standard export: it must fail
 * there with want. */
static void
bad_value(int ln, int64_t seq, const char *from, const char *to,
    const char *want)
{
	struct file	f;
	struct ev	evs[NEVENTS];

	std_file(&f, evs);
	file_set(&f, ln, replace(f.line[ln - 1], from, to));
	expect_fail(&f, (uint64_t)ln, seq, want);
	file_free(&f);
}

static void
test_wrong_types(void **state)
{
	static const struct {
		const char	*from, *to, *want;
	} ev1[] = {	/* line 1, seq 1, ok */
		{ "\"seq\":1,", "\"seq\":\"1\",", "must be a positive integer" },
		{ "\"seq\":1,", "\"seq\":0,", "must be a positive integer" },
		{ "\"seq\":1,", "\"seq\":-1,", "must be a positive integer" },
		{ "\"seq\":1,", "\"seq\":1.0,", "must be a positive integer" },
		{ "\"seq\":1,", "\"seq\":1e0,", "must be a positive integer" },
		{ "\"seq\":1,", "\"seq\":null,", "must be a positive integer" },
		{ "\"seq\":1,", "\"seq\":[1],", "must be a positive integer" },
		{ "\"seq\":1,", "\"seq\":9223372036854775808,",
		    "\"seq\" is too large" },
		{ "\"seq\":1,", "\"seq\":12345678901234567890123,",
		    "must be a positive integer" },
		{ "00.000000Z", "00Z", "not a UTC time of the form" },
		{ "00.000000Z", "00.000000", "not a UTC time" },
		{ "00.000000Z", "00.000000z", "not a UTC time" },
		{ "00.000000Z", "00.000000+00:00", "not a UTC time" },
		{ "00.000000Z", "00.0000000Z", "not a UTC time" },
		{ "2026-11-23T", "2026-11-23 ", "not a UTC time" },
		{ "2026-11-23T", "2026-02-29T", "not a UTC time" },
		{ "2026-11-23T", "2100-02-29T", "not a UTC time" },
		{ "2026-11-23T", "2026-11-31T", "not a UTC time" },
		{ "2026-11-23T", "2026-13-01T", "not a UTC time" },
		{ "2026-11-23T", "0000-11-23T", "not a UTC time" },
		{ "2026-11-23T", "2026-11-00T", "not a UTC time" },
		{ "T10:00:00.", "T24:00:00.", "not a UTC time" },
		{ "T10:00:00.", "T10:60:00.", "not a UTC time" },
		{ "T10:00:00.", "T10:00:60.", "not a UTC time" },
		{ "T10:00:00.", "T1a:00:00.", "not a UTC time" },
		{ "\"at\":\"2026-11-23T10:00:00.000000Z\"", "\"at\":20261123",
		    "field \"at\" must be a string" },
		{ "\"at\":\"2026-11-23T10:00:00.000000Z\"", "\"at\":null",
		    "field \"at\" must be a string" },
		{ "\"principal_id\":\"pr_0123456789abcdef0123\"",
		    "\"principal_id\":\"\"", "field \"principal_id\" is empty" },
		{ "\"principal_id\":\"pr_0123456789abcdef0123\"",
		    "\"principal_id\":5", "must be a string or null" },
		{ "\"principal_id\":\"pr_0123456789abcdef0123\"",
		    "\"principal_id\":false", "must be a string or null" },
		{ "\"method\":\"contribution.receive\"", "\"method\":null",
		    "field \"method\" must be a string" },
		{ "\"method\":\"contribution.receive\"", "\"method\":\"\"",
		    "field \"method\" is empty" },
		{ "\"object_id\":\"ct_00000000000000000001\"",
		    "\"object_id\":\"caf\\u00e9\"", "outside ASCII" },
		{ "\"object_id\":\"ct_00000000000000000001\"",
		    "\"object_id\":\"caf\xc3\xa9\"", "outside ASCII" },
		{ "\"object_id\":\"ct_00000000000000000001\"",
		    "\"object_id\":\"a\\u0000b\"", "a NUL" },
		{ "\"object_id\":\"ct_00000000000000000001\"",
		    "\"object_id\":{}", "must be a string or null" },
		{ "\"outcome\":\"ok\"", "\"outcome\":\"OK\"",
		    "must be \"ok\" or \"refused\"" },
		{ "\"outcome\":\"ok\"", "\"outcome\":null",
		    "must be \"ok\" or \"refused\"" },
		{ "\"outcome\":\"ok\"", "\"outcome\":\"refused\"",
		    "\"error_code\" must be an integer when the outcome is "
		    "refused" },
		{ "\"error_code\":null", "\"error_code\":0",
		    "\"error_code\" must be null when the outcome is ok" },
		{ "\"reason\":null", "\"reason\":\"x\"",
		    "\"reason\" must be null when the outcome is ok" },
		{ "\"params_sha256\":\"", "\"params_sha256\":\"A",
		    "\"params_sha256\" must be 64 lower-case hex digits or "
		    "null" },
		{ "\"params_sha256\":\"", "\"params_sha256\":\"0",
		    "\"params_sha256\" must be 64 lower-case hex digits" },
		{ "\"prev_hash\":\"0000", "\"prev_hash\":\"000",
		    "\"prev_hash\" must be 64 lower-case hex digits" },
		{ "\"prev_hash\":\"0000", "\"prev_hash\":\"000g",
		    "\"prev_hash\" must be 64 lower-case hex digits" },
		{ "\"prev_hash\":\"0000", "\"prev_hash\":\" 000",
		    "\"prev_hash\" must be 64 lower-case hex digits" },
		{ "\"hash\":\"", "\"hash\":\"\\u0030",
		    "\"hash\" must be 64 lower-case hex digits" },
		{ "\"hash\":\"", "\"hash\":0,\"x\":\"",
		    "\"hash\" must be 64 lower-case hex digits" },
	};
	static const struct {
		const char	*from, *to, *want;
	} ev2[] = {	/* line 2, seq 2, refused -32001 */
		{ "\"error_code\":-32001", "\"error_code\":null",
		    "must be an integer when the outcome is refused" },
		{ "\"error_code\":-32001", "\"error_code\":\"-32001\"",
		    "must be an integer when the outcome is refused" },
		{ "\"error_code\":-32001", "\"error_code\":-32001.0",
		    "must be an integer when the outcome is refused" },
		{ "\"error_code\":-32001", "\"error_code\":-0",
		    "must be an integer when the outcome is refused" },
		{ "\"error_code\":-32001", "\"error_code\":-123456789012",
		    "must be an integer when the outcome is refused" },
		{ "\"reason\":\"bad_credentials\"", "\"reason\":1",
		    "\"reason\" must be a string or null" },
		{ "\"principal_id\":null", "\"principal_id\":\"a\\nb\"",
		    "\"principal_id\" contains a line feed" },
	};
	static const struct {
		const char	*from, *to, *want;
	} cp6[] = {	/* line 6, checkpoint at seq 6 */
		{ "\"seq\":6", "\"seq\":\"6\"", "must be a positive integer" },
		{ "\"head_hash\":\"", "\"head_hash\":null,\"x\":\"",
		    "\"head_hash\" must be 64 lower-case hex digits" },
		{ "\"signed_at\":\"2026-11-23T11:00:00.000000Z\"",
		    "\"signed_at\":\"2026-11-23T11:00:00Z\"",
		    "\"signed_at\" is not a UTC time" },
		{ "\"signature\":\"", "\"signature\":\"00",
		    "\"signature\" must be 128 lower-case hex digits" },
		{ "\"public_key\":\"", "\"public_key\":5,\"x\":\"",
		    "\"public_key\" must be a string" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < NITEMS(ev1); i++)
		bad_value(1, strncmp(ev1[i].from, "\"seq\"", 5) == 0 ? 0 : 1,
		    ev1[i].from, ev1[i].to, ev1[i].want);
	for (i = 0; i < NITEMS(ev2); i++)
		bad_value(2, 2, ev2[i].from, ev2[i].to, ev2[i].want);
	for (i = 0; i < NITEMS(cp6); i++)
		bad_value(6, i == 0 ? 0 : 6, cp6[i].from, cp6[i].to,
		    cp6[i].want);
	/* Hex in upper case is not accepted either. */
	{
		struct file	 f;
		struct ev	 evs[NEVENTS];
		char		*s;

		std_file(&f, evs);
		for (s = strstr(f.line[5], "\"signature\":\"") + 13; *s != '"';
		    s++)
			if (*s >= 'a' && *s <= 'f')
				*s = (char)(*s - 'a' + 'A');
		expect_fail(&f, 6, 6, "\"signature\" must be 128 lower-case");
		file_free(&f);
		std_file(&f, evs);
		for (s = strstr(f.line[0], "\"hash\":\"") + 8; *s != '"'; s++)
			if (*s == 'a')
				*s = 'A';
		expect_fail(&f, 1, 1, "\"hash\" must be 64 lower-case");
		file_free(&f);
	}
}

static void
test_line_feed(void **state)
{
	(void)state;
	bad_value(1, 1, "\"object_id\":\"ct_0000", "\"object_id\":\"ct\\n_0000",
	    "event seq 1: field \"object_id\" contains a line feed");
	bad_value(1, 1, "\"method\":\"contribution.receive\"",
	    "\"method\":\"contribution.receive\\n\"",
	    "field \"method\" contains a line feed");
	bad_value(2, 2, "\"reason\":\"bad_credentials\"",
	    "\"reason\":\"bad\\u000acredentials\"",
	    "field \"reason\" contains a line feed");
	/* A line feed in the raw line is the end of the line. */
	expect_line_fail("{\"type\":\"event\",\"method\":\"a\nb\"}", 31, 0,
	    "control character in a string");
}

/*
 * A rotation, computed with /usr/bin/python3 and the openssl command from
 * the page alone: key 1 is the pinned key (seed SHA-256("fund ledger audit
 * test key")), key 2 the one whose seed is SHA-256("fund ledger audit test
 * key 2"), introduced by key 1 from seq 5 and signing the checkpoint there.
 */
#define PIN_KEY_A	"-----BEGIN PUBLIC KEY-----\\n" \
	"MCowBQYDK2VwAyEAvH3IDptF0ZAVdlnJvv6uO92XvGhy4H6Ko3qQ+jCIB7U=\\n" \
	"-----END PUBLIC KEY-----\\n"
#define PIN_KEY_B	"-----BEGIN PUBLIC KEY-----\\n" \
	"MCowBQYDK2VwAyEANN0LBYXDe6E/A+ChoOABTrSk5vQmdAvsyOYKiY7F71E=\\n" \
	"-----END PUBLIC KEY-----\\n"
static const char *const pinned_keys[] = {
	"{\"type\":\"key\",\"key_no\":1,\"key_id\":\"1c75ce71c4ea4125\","
	"\"from_seq\":1,\"public_key\":\"" PIN_KEY_A "\","
	"\"introduced_at\":\"2026-11-23T10:00:04.000000Z\",\"signature\":null}",

	"{\"type\":\"key\",\"key_no\":2,\"key_id\":\"8a4fede4f0bc7ca7\","
	"\"from_seq\":5,\"public_key\":\"" PIN_KEY_B "\","
	"\"introduced_at\":\"2026-11-23T10:00:05.500000Z\",\"signature\":"
	"\"e6c4de0cbf96e2d2f0eabdd04ad5360d203185454e69c10db55f46c6638050c7"
	"dbee2aa3982367cca8c4313e1cce39375db29ba88569e8bee9bda7e82bb94a0f\"}",

	"{\"type\":\"event\",\"seq\":5,\"at\":\"2026-11-23T10:00:06.000000Z\","
	"\"principal_id\":\"pr_0123456789abcdef0123\",\"method\":\"grant.create\","
	"\"object_id\":\"gr_00000000000000000001\",\"outcome\":\"ok\","
	"\"error_code\":null,\"reason\":null,\"params_sha256\":"
	"\"aec967a1a7dcb4efaaca00ffaef3773fc64d522dd8860841ae6d205b1cd1cb33\","
	"\"prev_hash\":"
	"\"35bc5b0640af4427286c456ed45d4272685e3f933e1007ca11ff4813791330f4\","
	"\"hash\":"
	"\"2f3929237624366bcd92e9b9345887dfab6414e1b5798105555f6964577a8b39\"}",

	"{\"type\":\"checkpoint\",\"seq\":5,\"head_hash\":"
	"\"2f3929237624366bcd92e9b9345887dfab6414e1b5798105555f6964577a8b39\","
	"\"signed_at\":\"2026-11-23T10:00:07.000000Z\",\"signature\":"
	"\"ed426251d7f87c41adf5789a17f49394746c9313bc258a3f782dfd57e0a3b814"
	"54a0712e9d1907ba73b2703896c2e34c8dece6eb001985bacd35244bae060c0d\"}",
};

/* The pinned export's three chained events with key 1 before the event of
 * its checkpoint at seq 4, key 2, event 5 and key 2's checkpoint at seq 5. */
static void
test_pinned_keys(void **state)
{
	const char		*lines[8];
	const struct av_result	*r;
	struct av		*v;
	EVP_PKEY		*pub;
	size_t			 i, n = 0;

	(void)state;
	lines[n++] = pinned[0];
	lines[n++] = pinned[1];
	lines[n++] = pinned_keys[0];
	lines[n++] = pinned[2];
	lines[n++] = pinned[3];
	lines[n++] = pinned_keys[1];
	lines[n++] = pinned_keys[2];
	lines[n++] = pinned_keys[3];
	assert_non_null(pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
	    NULL, pinned_pub, sizeof pinned_pub));
	assert_non_null(v = av_new(pub));
	for (i = 0; i < n; i++)
		if (av_line(v, lines[i], strlen(lines[i])) == -1)
			fail_msg("line %zu: %s", i + 1, av_result(v)->message);
	assert_int_equal(av_finish(v), 0);
	r = av_result(v);
	assert_int_equal(r->events, 4);
	assert_int_equal(r->chained, 4);
	assert_int_equal(r->checkpoints, 2);
	assert_int_equal(r->keys, 2);
	assert_int_equal(r->uncovered, 0);
	assert_int_equal(r->head_seq, 5);
	av_free(v);
	EVP_PKEY_free(pub);

	/* Given key 2 alone: key 1's line fails. */
	assert_non_null(v = av_new(key2));
	for (i = 0; i < n; i++)
		if (av_line(v, lines[i], strlen(lines[i])) == -1)
			break;
	assert_int_equal(av_finish(v), -1);
	assert_int_equal(av_result(v)->line, 3);
	assert_non_null(strstr(av_result(v)->message, "key 1, from seq 1: it is "
	    "1c75ce71c4ea4125, not the given public key"));
	av_free(v);
}

static void
test_keys_valid(void **state)
{
	struct file	 f;
	struct ev	 evs[NEVENTS];
	EVP_PKEY	*key3;
	char		*s;

	(void)state;
	rot_file(&f, evs);
	expect_ok(&f, 12, 10, 2, 4, 12);
	expect_keys(&f, key, 2, 2);

	/* Key 1 at the top of the file, or right before the first checkpoint,
	 * works as well. */
	s = f.line[4];
	f.line[4] = f.line[5];
	f.line[5] = s;
	expect_keys(&f, key, 2, 2);
	file_del(&f, 6);
	file_ins(&f, 1, key_json(key, 1, 1, AT_KEY1, NULL));
	expect_keys(&f, key, 2, 2);
	file_free(&f);

	/* Key 2 has signed nothing yet. */
	rot_file(&f, evs);
	file_del(&f, 12);
	expect_keys(&f, key, 1, 2);
	file_free(&f);

	/* Keys 2 and 3 from the same seq (key 2 signed nothing): key 3 signs. */
	key3 = keygen(EVP_PKEY_ED25519);
	rot_file(&f, evs);
	file_ins(&f, 9, key_json(key3, 3, 7, AT_KEY2, key2));
	file_set(&f, 13, cp_json(10, evs[7].hash, "2026-11-23T11:00:00.000000Z",
	    key3, key3));
	expect_keys(&f, key, 2, 3);
	/* ... and key 2 may not sign there any more. */
	file_set(&f, 13, cp_json(10, evs[7].hash, "2026-11-23T11:00:00.000000Z",
	    key2, key2));
	expect_fail(&f, 13, 10, "checkpoint at seq 10: signature does not verify "
	    "under key 3 (");
	file_free(&f);
	EVP_PKEY_free(key3);

	/* A file without key lines: every checkpoint under the given key. */
	std_file(&f, evs);
	expect_keys(&f, key, 2, 0);
	file_free(&f);
}

static void
test_keys_tampered(void **state)
{
	struct file	 f;
	struct ev	 evs[NEVENTS];
	EVP_PKEY	*other;
	char		*s;

	(void)state;
	/* Given the new key only. */
	rot_file(&f, evs);
	expect_fail_key(&f, key2, 5, 1, "key 1, from seq 1: it is ");

	/* Key 2's signature flipped, or made by key 2 itself, or by another
	 * key. */
	s = strstr(f.line[7], "\"signature\":\"") + 13;
	*s = *s == '0' ? '1' : '0';
	expect_fail(&f, 8, 7, "key 2, from seq 7: signature does not verify "
	    "under key 1, the key before it");
	file_set(&f, 8, key_json(key2, 2, 7, AT_KEY2, key2));
	expect_fail(&f, 8, 7, "signature does not verify under key 1");
	other = keygen(EVP_PKEY_ED25519);
	file_set(&f, 8, key_json(key2, 2, 7, AT_KEY2, other));
	expect_fail(&f, 8, 7, "signature does not verify under key 1");
	/* A key of the attacker's, introduced by nobody. */
	file_set(&f, 8, key_json(other, 2, 7, AT_KEY2, NULL));
	expect_fail(&f, 8, 7, "field \"signature\" is null: key 2 must be "
	    "signed by key 1");
	file_free(&f);

	/* Signed fields changed after signing: from_seq, introduced_at, the
	 * public key (with its id). */
	rot_file(&f, evs);
	file_set(&f, 8, replace(f.line[7], "\"from_seq\":7", "\"from_seq\":8"));
	expect_fail(&f, 8, 8, "signature does not verify under key 1");
	file_free(&f);
	rot_file(&f, evs);
	file_set(&f, 8, replace(f.line[7], AT_KEY2, "2026-11-23T11:00:00.500001Z"));
	expect_fail(&f, 8, 7, "signature does not verify under key 1");
	file_free(&f);
	rot_file(&f, evs);
	{
		char	*good = key_json(key2, 2, 7, AT_KEY2, key);
		char	*forged = key_json(other, 2, 7, AT_KEY2, key);
		char	*sig_good = strstr(good, "\"signature\":");
		char	*sig_forged = strstr(forged, "\"signature\":");

		/* the attacker's key with the signature that introduced key 2 */
		memcpy(sig_forged, sig_good, strlen(sig_good) + 1);
		file_set(&f, 8, forged);
		free(good);
	}
	expect_fail(&f, 8, 7, "signature does not verify under key 1");
	file_free(&f);
	EVP_PKEY_free(other);

	/* The key's id does not match its key. */
	rot_file(&f, evs);
	s = strstr(f.line[7], "\"key_id\":\"") + 10;
	*s = *s == '0' ? '1' : '0';
	expect_fail(&f, 8, 7, "field \"key_id\" is not ");
	file_free(&f);

	/* Removed, moved, repeated, renumbered. */
	rot_file(&f, evs);
	file_del(&f, 8);
	expect_fail(&f, 11, 10, "checkpoint at seq 10: signature does not verify "
	    "under key 1 (");
	expect_fail(&f, 11, 10, ", the signing key from seq 1 (the checkpoint "
	    "names another public key: was a key's line removed?)");
	file_free(&f);
	rot_file(&f, evs);
	file_del(&f, 5);
	expect_fail(&f, 7, 7, "key 2, from seq 7: there is no key 1 before it");
	file_free(&f);
	rot_file(&f, evs);
	s = f.line[7];		/* key 2 before the checkpoint at seq 6 */
	f.line[7] = f.line[6];
	f.line[6] = s;
	expect_fail(&f, 8, 6, "checkpoint at seq 6: it comes after the line of "
	    "key 2, which signs from seq 7");
	file_free(&f);
	rot_file(&f, evs);
	file_ins(&f, 13, f.line[7]);	/* key 2 after its checkpoint */
	f.line[7] = NULL;
	file_del(&f, 8);
	expect_fail(&f, 11, 10, "checkpoint at seq 10: signature does not verify "
	    "under key 1 (");
	file_free(&f);
	rot_file(&f, evs);
	file_ins(&f, 9, xstr(f.line[7]));
	expect_fail(&f, 9, 7, "key 2, from seq 7: it comes after key 2 (keys "
	    "come in order, each once)");
	file_free(&f);
	rot_file(&f, evs);
	file_set(&f, 8, key_json(key2, 3, 7, AT_KEY2, key));
	expect_fail(&f, 8, 7, "key 3, from seq 7: it comes after key 1");
	file_free(&f);
	rot_file(&f, evs);
	file_ins(&f, 9, key_json(key, 3, 7, AT_KEY2, key2));
	file_set(&f, 13, cp_json(10, evs[7].hash, "2026-11-23T11:00:00.000000Z",
	    key, key));	/* key 1 back again: the verifier allows it, the
			 * database refuses it (a key is introduced once) */
	expect_keys(&f, key, 2, 3);
	file_free(&f);

	/* from_seq: key 2 from a seq its predecessor already signed; key 3
	 * from before key 2's; key 1 from another seq. */
	rot_file(&f, evs);
	file_set(&f, 8, key_json(key2, 2, 6, AT_KEY2, key));
	expect_fail(&f, 8, 6, "key 2, from seq 6: it comes after the checkpoint "
	    "at seq 6, which it would sign");
	file_free(&f);
	rot_file(&f, evs);
	file_set(&f, 8, key_json(key2, 2, 11, AT_KEY2, key));
	expect_fail(&f, 12, 10, "checkpoint at seq 10: it comes after the line "
	    "of key 2, which signs from seq 11");
	file_ins(&f, 9, key_json(key, 3, 8, AT_KEY2, key2));
	expect_fail(&f, 9, 8, "key 3, from seq 8: it signs from before key 2, "
	    "which signs from seq 11");
	file_free(&f);
	rot_file(&f, evs);
	file_set(&f, 5, key_json(key, 1, 2, AT_KEY1, NULL));
	expect_fail(&f, 5, 2, "key 1 must sign from seq 1");
	file_set(&f, 5, key_json(key, 1, 1, AT_KEY1, key));
	expect_fail(&f, 5, 1, "key 1 must have no signature");
	file_free(&f);
	/* Key 1 after a checkpoint it would sign. */
	rot_file(&f, evs);
	s = f.line[4];
	f.line[4] = f.line[5];
	f.line[5] = f.line[6];
	f.line[6] = s;
	expect_fail(&f, 7, 1, "key 1, from seq 1: it comes after the checkpoint "
	    "at seq 6");
	file_free(&f);
}

static void
test_keys_malformed(void **state)
{
	static const struct {
		const char	*from, *to, *want;
	} cases[] = {
		{ "\"key_no\":2,", "", "missing field \"key_no\"" },
		{ "\"key_no\":2,", "\"key_no\":\"2\",", "\"key_no\" must be a positive" },
		{ "\"key_no\":2,", "\"key_no\":0,", "\"key_no\" must be a positive" },
		{ "\"from_seq\":7,", "", "missing field \"from_seq\"" },
		{ "\"from_seq\":7,", "\"from_seq\":-7,", "\"from_seq\" must be a positive" },
		{ "\"key_id\":\"", "\"key_idx\":\"", "missing field \"key_id\"" },
		{ "\"introduced_at\":\"", "\"introduced\":\"",
		    "missing field \"introduced_at\"" },
		{ AT_KEY2, "2026-11-23 11:00:00", "\"introduced_at\" is not a UTC time" },
		{ "\"public_key\":\"", "\"public_kex\":\"", "missing field \"public_key\"" },
		{ "-----BEGIN PUBLIC KEY-----", "-----BEGIN PUBLIC KEX-----",
		    "\"public_key\" is not a PEM Ed25519 public key" },
		{ "\"signature\":\"", "\"signatures\":\"", "missing field \"signature\"" },
		{ "\"signature\":\"", "\"signature\":\"0", "\"signature\" must be 128" },
	};
	struct file	 f;
	struct ev	 evs[NEVENTS];
	EVP_PKEY	*x;
	size_t		 i;
	char		*line;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		rot_file(&f, evs);
		file_set(&f, 8, replace(f.line[7], cases[i].from, cases[i].to));
		expect_fail(&f, 8, i < 3 ? 0 : i < 5 ? 0 : 7, cases[i].want);
		file_free(&f);
	}
	/* Another kind of key: an X25519 public key in PEM. */
	x = keygen(EVP_PKEY_X25519);
	rot_file(&f, evs);
	{
		char	pem[1024];

		pem_json(x, pem, sizeof pem);
		line = malloc(4096);
		assert_non_null(line);
		snprintf(line, 4096, "{\"type\":\"key\",\"key_no\":2,\"key_id\":"
		    "\"0000000000000000\",\"from_seq\":7,\"public_key\":\"%s\","
		    "\"introduced_at\":\"%s\",\"signature\":null}", pem, AT_KEY2);
		file_set(&f, 8, line);
	}
	expect_fail(&f, 8, 7, "\"public_key\" is not a PEM Ed25519 public key");
	file_free(&f);
	EVP_PKEY_free(x);
	/* An unknown type names the three. */
	expect_line_fail("{\"type\":\"keys\"}", 15, 0,
	    "unknown type \"keys\" (event, checkpoint or key)");
}

static void
test_bad_key(void **state)
{
	EVP_PKEY	*x;

	(void)state;
	assert_null(av_new(NULL));
	x = keygen(EVP_PKEY_X25519);
	assert_null(av_new(x));
	EVP_PKEY_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pinned_vector),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_tolerated),
		cmocka_unit_test(test_altered),
		cmocka_unit_test(test_access_event),
		cmocka_unit_test(test_removed),
		cmocka_unit_test(test_reordered),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_checkpoint),
		cmocka_unit_test(test_unchained_then_chained),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_line_feed),
		cmocka_unit_test(test_pinned_keys),
		cmocka_unit_test(test_keys_valid),
		cmocka_unit_test(test_keys_tampered),
		cmocka_unit_test(test_keys_malformed),
		cmocka_unit_test(test_bad_key),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
