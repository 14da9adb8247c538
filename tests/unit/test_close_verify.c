/*
 * test_close_verify.c: unit tests for clients/close_verify.c, the offline
 * check of the CSV of a closed period against its proof (docs/ledger.md,
 * "Verifying a closed period offline").
 *
 * The proof is built here with OpenSSL from the documented formats: the
 * close record, its event's canonical bytes (docs/audit.md), the chain to a
 * checkpoint and its Ed25519 signature, and the key lines of the signing
 * keys from key 1 to the checkpoint's; then the CSV or the proof is altered,
 * and the verdict must name what is wrong.
 *
 * Links close_verify.c, audit_verify.c, audit_json.c, fundctl_util.c,
 * cJSON, OpenSSL and cmocka.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "close_verify.h"

#define CSV \
	"entry_id,at,kind,fund,account,currency,amount,memo,value_date\r\n" \
	"je_1,2026-10-05T09:00:00.000000Z,receipt,F,F:cash,EUR,10.00,r,2026-10-05T00:00:00.000000Z\r\n" \
	"je_1,2026-10-05T09:00:00.000000Z,receipt,F,F:contributions,EUR,-10.00,r,2026-10-05T00:00:00.000000Z\r\n" \
	"je_2,2026-10-06T09:00:00.000000Z,earnings,F,F:cash,EUR,1.50,\"a, \"\"b\"\"\",2026-10-06T00:00:00.000000Z\r\n" \
	"je_2,2026-10-06T09:00:00.000000Z,earnings,F,F:earnings,EUR,-1.50,\"a, \"\"b\"\"\",2026-10-06T00:00:00.000000Z\r\n"

static EVP_PKEY	*key, *key2, *key3, *key4;	/* key4: of no chain */

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
sha_hex(const void *d, size_t n, char out[65])
{
	unsigned char	md[32];
	unsigned int	len;

	assert_int_equal(EVP_Digest(d, n, md, &len, EVP_sha256(), NULL), 1);
	hexof(md, 32, out);
}

/* SHA-256 of prev (hex) || canonical bytes of an event. */
static void
chain(const char *prev_hex, const char *canon, char out[65])
{
	unsigned char	buf[1024];
	unsigned int	c;
	size_t		i, n = strlen(canon);

	for (i = 0; i < 32; i++) {
		assert_int_equal(sscanf(prev_hex + 2 * i, "%2x", &c), 1);
		buf[i] = (unsigned char)c;
	}
	memcpy(buf + 32, canon, n);
	sha_hex(buf, 32 + n, out);
}

static char *
sign_hex(EVP_PKEY *k, const char *msg)
{
	unsigned char	 sig[64];
	size_t		 len = sizeof sig;
	EVP_MD_CTX	*md = EVP_MD_CTX_new();
	char		*out = malloc(129);

	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit(md, NULL, NULL, NULL, k), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &len, (const unsigned char *)msg,
	    strlen(msg)), 1);
	EVP_MD_CTX_free(md);
	hexof(sig, 64, out);
	return out;
}

/* The record of a close whose export is csv. */
static char *
record_of(const char *csv)
{
	char		 sha[65], rows_sha[65], line[65];
	unsigned char	 all[32 * 16], md[32];
	const char	*p = csv, *e;
	unsigned int	 c, i;
	size_t		 n = 0, rows = 0;
	char		*rec = malloc(4096);

	while ((e = strstr(p, "\r\n")) != NULL) {
		sha_hex(p, (size_t)(e + 2 - p), line);
		for (i = 0; i < 32; i++) {
			assert_int_equal(sscanf(line + 2 * i, "%2x", &c), 1);
			md[i] = (unsigned char)c;
		}
		memcpy(all + 32 * n++, md, 32);
		p = e + 2;
	}
	rows = n - 1;
	sha_hex(csv, strlen(csv), sha);
	sha_hex(all, 32 * n, rows_sha);
	snprintf(rec, 4096, "fl-period-close\nperiod_id pc_0123456789abcdef0123\n"
	    "until 2026-10-31\nrequested_by pr_a\nconfirmed_by pr_b\n"
	    "confirmed_at 2026-11-02T09:00:00.000000Z\nexport_from none\n"
	    "export_to 2026-11-01\nexport_rows %zu\nexport_sha256 %s\n"
	    "export_rows_sha256 %s\naccount F:cash EUR 11.50\n"
	    "fund F EUR received=10.00 earnings=1.50 pledged=0.00 committed=0.00 "
	    "disbursed=0.00\n", rows, sha, rows_sha);
	return rec;
}

/* The proof of record, for the export csv, as fundctl writes it: the record's
 * event at seq 41 after prev, one more event, a checkpoint at 42 signed by k. */
static char *
proof_of(const char *record, const char *csv, EVP_PKEY *k)
{
	static const char	 prev[] =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char			 rsha[65], h1[65], h2[65], canon[512], msg[256];
	char			**rows;
	size_t			 n, i;
	cJSON			*o, *evs, *e, *cp, *ra;
	char			*sig, *out;

	sha_hex(record, strlen(record), rsha);
	snprintf(canon, sizeof canon, "41\n2026-11-02T09:00:00.000000Z\npr_b\n"
	    "period.close_record\npc_0123456789abcdef0123\nok\n\n\n%s\n", rsha);
	chain(prev, canon, h1);
	snprintf(canon, sizeof canon, "42\n2026-11-02T09:00:00.000000Z\npr_b\n"
	    "period.close_confirm\npc_0123456789abcdef0123\nok\n\n\n%s\n", rsha);
	chain(h1, canon, h2);
	snprintf(msg, sizeof msg, "fl-audit-checkpoint\n42\n%s\n"
	    "2026-11-02T09:00:01.000000Z\n", h2);
	sig = sign_hex(k, msg);

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "format", CV_FORMAT);
	cJSON_AddStringToObject(o, "period_id", "pc_0123456789abcdef0123");
	cJSON_AddStringToObject(o, "record", record);
	cJSON_AddStringToObject(o, "prev_hash", prev);
	evs = cJSON_AddArrayToObject(o, "events");
	e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "seq", 41);
	cJSON_AddStringToObject(e, "at", "2026-11-02T09:00:00.000000Z");
	cJSON_AddStringToObject(e, "principal_id", "pr_b");
	cJSON_AddStringToObject(e, "method", "period.close_record");
	cJSON_AddStringToObject(e, "object_id", "pc_0123456789abcdef0123");
	cJSON_AddStringToObject(e, "outcome", "ok");
	cJSON_AddNullToObject(e, "error_code");
	cJSON_AddNullToObject(e, "reason");
	cJSON_AddStringToObject(e, "params_sha256", rsha);
	cJSON_AddStringToObject(e, "prev_hash", prev);
	cJSON_AddStringToObject(e, "hash", h1);
	cJSON_AddItemToArray(evs, e);
	e = cJSON_Duplicate(e, 1);
	cJSON_ReplaceItemInObject(e, "seq", cJSON_CreateNumber(42));
	cJSON_ReplaceItemInObject(e, "method", cJSON_CreateString("period.close_confirm"));
	cJSON_ReplaceItemInObject(e, "prev_hash", cJSON_CreateString(h1));
	cJSON_ReplaceItemInObject(e, "hash", cJSON_CreateString(h2));
	cJSON_AddItemToArray(evs, e);
	cp = cJSON_AddObjectToObject(o, "checkpoint");
	cJSON_AddNumberToObject(cp, "seq", 42);
	cJSON_AddStringToObject(cp, "head_hash", h2);
	cJSON_AddStringToObject(cp, "signed_at", "2026-11-02T09:00:01.000000Z");
	cJSON_AddStringToObject(cp, "signature", sig);
	cv_rows_sha256((const unsigned char *)csv, strlen(csv), &rows, &n);
	ra = cJSON_AddArrayToObject(o, "rows_sha256");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(ra, cJSON_CreateString(rows[i]));
	cv_rows_free(rows, n);
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	free(sig);
	return out;
}

/* "s" with the first "from" replaced by "to". */
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

/* The verdict on csv against the proof of the original export; "" if ok. */
static void
expect(const char *csv, const char *proof, EVP_PKEY *k, const char *want)
{
	struct cv_result	r;
	int			rc;

	rc = cv_verify(k, proof, strlen(proof), (const unsigned char *)csv,
	    strlen(csv), &r);
	if (*want == '\0') {
		if (rc != 0)
			fail_msg("expected ok, got: %s", r.message);
		assert_string_equal(r.period_id, "pc_0123456789abcdef0123");
		assert_string_equal(r.until, "2026-10-31");
		assert_int_equal(r.rows, 4);
		assert_int_equal(r.checkpoint_seq, 42);
		return;
	}
	assert_int_equal(rc, -1);
	if (strstr(r.message, want) == NULL)
		fail_msg("expected '%s' in '%s'", want, r.message);
}

/* The id of k: the first 16 hex digits of the SHA-256 of its raw key. */
static void
id_of(EVP_PKEY *k, char out[17])
{
	unsigned char	raw[32];
	char		sha[65];
	size_t		len = sizeof raw;

	assert_int_equal(EVP_PKEY_get_raw_public_key(k, raw, &len), 1);
	sha_hex(raw, len, sha);
	memcpy(out, sha, 16);
	out[16] = '\0';
}

#define AT_KEY	"2026-10-20T08:00:00.000000Z"

/*
 * The key line of k as the audit export has it (docs/audit.md, "Signing
 * keys"): key no, signing from seq from, introduced by a signature of signer
 * (NULL: key 1, no signature).
 */
static cJSON *
key_line(EVP_PKEY *k, int no, int from, EVP_PKEY *signer)
{
	unsigned char	 raw[32];
	char		 hex[65], id[17], msg[256], *pem, *sig;
	size_t		 len = sizeof raw;
	long		 n;
	BIO		*bio;
	cJSON		*o = cJSON_CreateObject();

	assert_int_equal(EVP_PKEY_get_raw_public_key(k, raw, &len), 1);
	hexof(raw, 32, hex);
	id_of(k, id);
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_PUBKEY(bio, k), 1);
	n = BIO_get_mem_data(bio, &pem);
	cJSON_AddStringToObject(o, "type", "key");
	cJSON_AddNumberToObject(o, "key_no", no);
	cJSON_AddStringToObject(o, "key_id", id);
	cJSON_AddNumberToObject(o, "from_seq", from);
	pem = strndup(pem, (size_t)n);
	cJSON_AddStringToObject(o, "public_key", pem);
	free(pem);
	BIO_free(bio);
	cJSON_AddStringToObject(o, "introduced_at", AT_KEY);
	if (signer == NULL)
		cJSON_AddNullToObject(o, "signature");
	else {
		snprintf(msg, sizeof msg, "fl-audit-key\n%d\n%d\n%s\n%s\n", no, from,
		    hex, AT_KEY);
		sig = sign_hex(signer, msg);
		cJSON_AddStringToObject(o, "signature", sig);
		free(sig);
	}
	return o;
}

/* The chain of keys after two rotations: key 1, key 2 from seq 30, key 3
 * from seq 40 (the checkpoint at seq 42 is key 3's). */
static EVP_PKEY	**chain_keys[] = { &key, &key2, &key3 };
static const int chain_from[] = { 1, 30, 40 };

/* The key lines of keys 1 to n of the chain. */
static cJSON *
chain_lines(int n)
{
	cJSON	*a = cJSON_CreateArray();
	int	 i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, key_line(*chain_keys[i], i + 1,
		    chain_from[i], i > 0 ? *chain_keys[i - 1] : NULL));
	return a;
}

/* proof with "keys": lines (which it takes). */
static char *
with_keys(const char *proof, cJSON *lines)
{
	cJSON	*o = cJSON_Parse(proof);
	char	*out;

	assert_non_null(o);
	cJSON_AddItemToObject(o, "keys", lines);
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

static char	*rec, *proof, *proof1, *proof3;

static int
setup(void **state)
{
	char	*p;

	(void)state;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	key2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	key3 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	key4 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(key);
	assert_non_null(key2);
	assert_non_null(key3);
	assert_non_null(key4);
	rec = record_of(CSV);
	proof = proof_of(rec, CSV, key);
	proof1 = with_keys(proof, chain_lines(1));
	p = proof_of(rec, CSV, key3);
	proof3 = with_keys(p, chain_lines(3));
	cJSON_free(p);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	EVP_PKEY_free(key2);
	EVP_PKEY_free(key3);
	EVP_PKEY_free(key4);
	free(rec);
	cJSON_free(proof);
	cJSON_free(proof1);
	cJSON_free(proof3);
	return 0;
}

/* p verifies under k, signed by key key_no of its lines (0: none), k being
 * key 1 (by_key1) or that key. */
static void
expect_key(const char *p, EVP_PKEY *k, int64_t key_no, int by_key1)
{
	struct cv_result	r;

	expect(CSV, p, k, "");
	assert_int_equal(cv_verify(k, p, strlen(p),
	    (const unsigned char *)CSV, strlen(CSV), &r), 0);
	assert_int_equal(r.key_no, key_no);
	assert_int_equal(r.by_key1, by_key1);
}

static void
test_the_export_as_closed_verifies(void **state)
{
	(void)state;
	expect(CSV, proof, key, "");
}

static void
test_an_altered_row_is_named(void **state)
{
	char	*csv = replace(CSV, "1.50,\"a", "1.51,\"a");

	(void)state;
	expect(csv, proof, key, "line 4 (je_2): not as in the closed books: altered");
	free(csv);
}

static void
test_an_added_row_is_named(void **state)
{
	char	*csv = replace(CSV, "je_2,", "je_9,2026-10-06T09:00:00.000000Z,x,F,"
	    "F:cash,EUR,1.00,,2026-10-06T00:00:00.000000Z\r\nje_2,");

	(void)state;
	expect(csv, proof, key, "line 4 (je_9): not as in the closed books: added or "
	    "altered");
	free(csv);
	csv = malloc(strlen(CSV) + 8);
	snprintf(csv, strlen(CSV) + 8, "%sje_3\r\n", CSV);
	expect(csv, proof, key, "line 6 (je_3): not in the closed books: added after "
	    "their last row");
	free(csv);
}

static void
test_a_removed_row_is_named(void **state)
{
	const char	*l3 = strstr(CSV, "je_1,2026-10-05T09:00:00.000000Z,receipt,F,"
			    "F:contributions");
	char		*csv = replace(CSV, "je_1,2026-10-05T09:00:00.000000Z,receipt,F,"
			    "F:contributions,EUR,-10.00,r,2026-10-05T00:00:00.000000Z\r\n", "");

	(void)state;
	assert_non_null(l3);
	expect(csv, proof, key, "line 3 (je_2): a row of the closed books is missing "
	    "before it (removed)");
	free(csv);
	csv = strdup(CSV);
	*strstr(csv, "je_2,2026-10-06T09:00:00.000000Z,earnings,F,F:earnings") = '\0';
	expect(csv, proof, key, "the file ends at line 4: 1 rows of the closed books "
	    "are missing");
	free(csv);
}

static void
test_reordered_rows_are_named(void **state)
{
	char	*a = replace(CSV, ",F:cash,EUR,10.00,", ",F:XX,EUR,10.00,");
	char	*b = replace(a, ",F:contributions,EUR,-10.00,", ",F:cash,EUR,10.00,");
	char	*c = replace(b, ",F:XX,EUR,10.00,", ",F:contributions,EUR,-10.00,");

	(void)state;
	expect(c, proof, key, "line 2 (je_1): out of order: the closed books have it "
	    "at line 3 (rows reordered)");
	free(a);
	free(b);
	free(c);
}

static void
test_a_line_end_changed_is_refused(void **state)
{
	char	*csv = replace(CSV, "\r\nje_2", "\nje_2");

	(void)state;
	expect(csv, proof, key, "not as in the closed books");
	free(csv);
}

static void
test_an_altered_record_is_refused(void **state)
{
	char	*p = replace(proof, "F:cash EUR 11.50", "F:cash EUR 11.51");

	(void)state;
	expect(CSV, p, key, "the close record does not match its audit event (seq 41)");
	free(p);
}

static void
test_a_record_of_another_export_is_refused_even_re_signed(void **state)
{
	/* a record of an altered export, chained and signed with another key */
	char	*csv = replace(CSV, "10.00,r", "99.00,r");
	char	*r2 = record_of(csv);
	char	*p2 = proof_of(r2, csv, key2);

	(void)state;
	expect(csv, p2, key2, "");	/* consistent in itself */
	expect(csv, p2, key, "signature does not verify under the given public key");
	expect(CSV, p2, key2, "not as in the closed books");
	free(csv);
	free(r2);
	cJSON_free(p2);
}

static void
test_a_broken_chain_is_refused(void **state)
{
	char	*p = replace(proof, "\"principal_id\":\"pr_b\",\"method\":"
		    "\"period.close_confirm\"", "\"principal_id\":\"pr_c\",\"method\":"
		    "\"period.close_confirm\"");
	char	*q = replace(proof, "\"seq\":42,\"head_hash\"", "\"seq\":43,\"head_hash\"");

	(void)state;
	expect(CSV, p, key, "event seq 42: hash does not match its content");
	expect(CSV, q, key, "the checkpoint is at seq 43, the last event at seq 42");
	free(p);
	free(q);
}

static void
test_forged_row_digests_are_refused(void **state)
{
	cJSON	*o = cJSON_Parse(proof), *rows;
	char	*p, *csv = replace(CSV, "1.50,\"a", "1.51,\"a");

	(void)state;
	rows = cJSON_GetObjectItem(o, "rows_sha256");
	cJSON_ReplaceItemInArray(rows, 3, cJSON_CreateString(
	    "0000000000000000000000000000000000000000000000000000000000000000"));
	p = cJSON_PrintUnformatted(o);
	expect(CSV, p, key, "");	/* the file itself is still the books */
	expect(csv, p, key, "row digests are not the close's either");
	cJSON_Delete(o);
	cJSON_free(p);
	free(csv);
}

static void
test_malformed_proofs_are_refused(void **state)
{
	char	*p = replace(proof, CV_FORMAT, "fl-period-close-proof-9");

	(void)state;
	expect(CSV, "not json", key, "proof: not a JSON object");
	expect(CSV, "[]", key, "proof: not a JSON object");
	expect(CSV, p, key, "format is not");
	free(p);
	p = replace(proof, "\"prev_hash\":\"0011", "\"prev_hash\":\"zz11");
	expect(CSV, p, key, "\"prev_hash\" is not 64 hex digits");
	free(p);
	p = replace(proof, "period.close_record", "period.close_other");
	expect(CSV, p, key, "the first event is not the close's record");
	free(p);
}

static void
test_the_key_lines_lead_from_key_1_to_the_signer(void **state)
{
	char	*p, *p2;

	(void)state;
	expect_key(proof3, key, 3, 1);		/* key 1, the auditor's */
	expect_key(proof3, key3, 3, 0);		/* the signer itself */
	expect_key(proof1, key, 1, 1);		/* no rotation yet */
	p = proof_of(rec, CSV, key2);
	p2 = with_keys(p, chain_lines(2));
	expect_key(p2, key, 2, 1);
	expect_key(p2, key2, 2, 0);
	cJSON_free(p);
	cJSON_free(p2);
}

static void
test_a_key_neither_key_1_nor_the_signer_is_refused(void **state)
{
	char	id1[17], id2[17], id3[17], id4[17], want[256];

	(void)state;
	id_of(key, id1);
	id_of(key2, id2);
	id_of(key3, id3);
	id_of(key4, id4);
	/* key 2 of the chain introduced key 3, but the auditor holds key 1 or 3 */
	snprintf(want, sizeof want, "the given public key (%s) is neither key 1 of "
	    "the proof's key lines (%s) nor key 3 (%s), which signed its "
	    "checkpoint", id2, id1, id3);
	expect(CSV, proof3, key2, want);
	snprintf(want, sizeof want, "the given public key (%s) is neither key 1 of "
	    "the proof's key lines (%s) nor key 3 (%s)", id4, id1, id3);
	expect(CSV, proof3, key4, want);
	snprintf(want, sizeof want, "the given public key (%s) is not key 1 of the "
	    "proof's key lines (%s), which signed its checkpoint", id4, id1);
	expect(CSV, proof1, key4, want);
}

/* proof3 with its key lines passed through edit. */
static char *
keys_edited(void (*edit)(cJSON *))
{
	cJSON	*o = cJSON_Parse(proof3);
	char	*out;

	assert_non_null(o);
	edit(cJSON_GetObjectItem(o, "keys"));
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

static void
flip_signature_2(cJSON *keys)
{
	cJSON	*line = cJSON_GetArrayItem(keys, 1);
	char	*sig = strdup(cJSON_GetObjectItem(line, "signature")->valuestring);

	sig[14] = sig[14] == '0' ? '1' : '0';
	cJSON_ReplaceItemInObject(line, "signature", cJSON_CreateString(sig));
	free(sig);
}

static void
drop_line_1(cJSON *keys)
{
	cJSON_DeleteItemFromArray(keys, 0);
}

static void
drop_line_2(cJSON *keys)
{
	cJSON_DeleteItemFromArray(keys, 1);
}

static void
drop_line_3(cJSON *keys)
{
	cJSON_DeleteItemFromArray(keys, 2);
}

static void
key_3_by_key_1(cJSON *keys)
{
	cJSON_ReplaceItemInArray(keys, 2, key_line(key3, 3, 40, key));
}

static void
key_3_from_after_the_checkpoint(cJSON *keys)
{
	cJSON_ReplaceItemInArray(keys, 2, key_line(key3, 3, 43, key2));
}

static void
another_key_id_2(cJSON *keys)
{
	cJSON_ReplaceItemInObject(cJSON_GetArrayItem(keys, 1), "key_id",
	    cJSON_CreateString("0123456789abcdef"));
}

static void
an_event_as_line_2(cJSON *keys)
{
	cJSON	*line = cJSON_GetArrayItem(keys, 1);

	cJSON_ReplaceItemInObject(line, "type", cJSON_CreateString("event"));
}

/* A broken chain fails, whichever key is given. */
static void
expect_broken(void (*edit)(cJSON *), const char *want)
{
	char	*p = keys_edited(edit);

	expect(CSV, p, key, want);
	expect(CSV, p, key3, want);
	cJSON_free(p);
}

static void
test_a_broken_key_chain_is_named(void **state)
{
	char	id2[17], want[256];

	(void)state;
	expect_broken(flip_signature_2, "proof: key lines: key 2, from seq 30: "
	    "signature does not verify under key 1, the key before it (the key "
	    "was not introduced by it)");
	expect_broken(key_3_by_key_1, "proof: key lines: key 3, from seq 40: "
	    "signature does not verify under key 2, the key before it");
	expect_broken(drop_line_2, "proof: key lines: key 3, from seq 40: it "
	    "comes after key 1 (keys come in order, each once)");
	expect_broken(drop_line_1, "proof: key lines: key 2, from seq 30: there "
	    "is no key 1 before it");
	id_of(key2, id2);
	snprintf(want, sizeof want, "proof: the checkpoint's signature does not "
	    "verify under key 2 (%s), the last of its key lines (is the line of "
	    "the key that signed it missing?)", id2);
	expect_broken(drop_line_3, want);
	expect_broken(another_key_id_2, "proof: key lines: key 2, from seq 30: "
	    "field \"key_id\" is not");
	expect_broken(an_event_as_line_2, "proof: key lines: line 2 is not a key "
	    "line");
	expect_broken(key_3_from_after_the_checkpoint, "proof: key 3, the last of "
	    "its key lines, signs from seq 43, after the checkpoint at seq 42");
}

static void
test_malformed_key_lines_are_refused(void **state)
{
	char	*p = with_keys(proof, cJSON_CreateArray());
	char	*q = with_keys(proof, cJSON_CreateString("key 1"));
	char	*u = replace(proof1, "\"key_no\":1", "\"key_no\":1.5");

	(void)state;
	expect(CSV, p, key, "proof: \"keys\" is not a non-empty array of key lines");
	expect(CSV, q, key, "proof: \"keys\" is not a non-empty array of key lines");
	expect(CSV, u, key, "field \"key_no\" must be a positive integer");
	cJSON_free(p);
	cJSON_free(q);
	free(u);
}

static void
test_a_proof_without_key_lines_needs_the_signer(void **state)
{
	char	*p = proof_of(rec, CSV, key3);

	(void)state;
	expect_key(p, key3, 0, 0);
	expect(CSV, p, key, "proof: the checkpoint's signature does not verify under "
	    "the given public key (the proof has no key lines to follow from key "
	    "1: give the key that signed the checkpoint)");
	cJSON_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_export_as_closed_verifies),
		cmocka_unit_test(test_an_altered_row_is_named),
		cmocka_unit_test(test_an_added_row_is_named),
		cmocka_unit_test(test_a_removed_row_is_named),
		cmocka_unit_test(test_reordered_rows_are_named),
		cmocka_unit_test(test_a_line_end_changed_is_refused),
		cmocka_unit_test(test_an_altered_record_is_refused),
		cmocka_unit_test(test_a_record_of_another_export_is_refused_even_re_signed),
		cmocka_unit_test(test_a_broken_chain_is_refused),
		cmocka_unit_test(test_forged_row_digests_are_refused),
		cmocka_unit_test(test_malformed_proofs_are_refused),
		cmocka_unit_test(test_the_key_lines_lead_from_key_1_to_the_signer),
		cmocka_unit_test(test_a_key_neither_key_1_nor_the_signer_is_refused),
		cmocka_unit_test(test_a_broken_key_chain_is_named),
		cmocka_unit_test(test_malformed_key_lines_are_refused),
		cmocka_unit_test(test_a_proof_without_key_lines_needs_the_signer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
