/*
 * fundctl_close.c: `fundctl ledger verify`, the offline check of the CSV of
 * a closed period against its proof FILE.close.json, and the saving of both
 * for `fundctl ledger export-close` (close_verify.c does the checking;
 * docs/ledger.md, "Verifying a closed period offline").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "audit_verify.h"
#include "close_verify.h"
#include "fundctl.h"
#include "fundctl_audit.h"
#include "fundctl_close.h"

#define LEDGER_PROOF_MAX	(1024u * 1024 * 1024)	/* a proof, or a CSV */

/* The whole file path into b. */
static int
read_all(const char *path, struct fc_buf *b, char **cause)
{
	char	chunk[65536];
	FILE	*f;
	size_t	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return fc_cause(cause, "cannot open %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (b->len + n > LEDGER_PROOF_MAX) {
			fclose(f);
			return fc_cause(cause, "%s: larger than %u bytes", path,
			    LEDGER_PROOF_MAX);
		}
		fc_buf_add(b, chunk, n);
	}
	if (ferror(f)) {
		fclose(f);
		return fc_cause(cause, "cannot read %s: %s", path, strerror(errno));
	}
	fclose(f);
	if (b->data == NULL)
		fc_buf_add(b, "", 0);
	return 0;
}

static int
write_all(const char *path, const void *d, size_t n, char **cause)
{
	FILE	*f;

	if ((f = fopen(path, "wb")) == NULL)
		return fc_cause(cause, "cannot create %s: %s", path, strerror(errno));
	if ((n > 0 && fwrite(d, 1, n, f) != n) | (fclose(f) == EOF))
		return fc_cause(cause, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

/*
 * Check csv against proof; print the verdict, with the key that signed:
 * "under key 3, introduced by key 2, introduced by key 1 = <keywhat>" (the
 * given key is key 1), "under key 3 = <keywhat>" (it is the signer), or
 * "under <keywhat>" (a proof without key lines).
 */
static int
verdict(EVP_PKEY *pub, const char *path, const struct fc_buf *proof,
    const struct fc_buf *csv, const char *keywhat)
{
	struct cv_result	r;
	int64_t			n;

	if (cv_verify(pub, proof->data, proof->len,
	    (const unsigned char *)csv->data, csv->len, &r) != 0) {
		fflush(stdout);
		fprintf(stderr, "FAIL: %s: %s\n", path, r.message);
		return FC_EXIT_BAD;
	}
	printf("ok: %s is the closed books of %s (value dates up to %s): %llu "
	    "rows, signed by the checkpoint at seq %lld under ", path,
	    r.period_id, r.until, (unsigned long long)r.rows,
	    (long long)r.checkpoint_seq);
	if (r.key_no > 0) {
		printf("key %lld", (long long)r.key_no);
		for (n = r.key_no - 1; r.by_key1 && n >= 1; n--)
			printf(", introduced by key %lld", (long long)n);
		printf(" = ");
	}
	printf("%s\n", keywhat);
	return FC_EXIT_OK;
}

int
fc_ledger_verify(const char *path, const char *keypath, char **cause)
{
	struct fc_buf	 csv = { NULL, 0, 0 }, proof = { NULL, 0, 0 };
	EVP_PKEY	*pub = NULL;
	char		*ppath = xprintf("%s.close.json", path);
	int		 rc = FC_EXIT_FAIL;

	if (fc_load_pubkey(keypath, &pub, cause) == -1 ||
	    read_all(path, &csv, cause) == -1 ||
	    read_all(ppath, &proof, cause) == -1)
		goto out;
	rc = verdict(pub, path, &proof, &csv, "the given key");
out:
	EVP_PKEY_free(pub);
	fc_buf_free(&csv);
	fc_buf_free(&proof);
	free(ppath);
	return rc;
}

/* The Ed25519 public key the checkpoint of a proof names, PEM. */
static EVP_PKEY *
proof_key(const cJSON *cp)
{
	const cJSON	*k = cJSON_GetObjectItemCaseSensitive(cp, "public_key");

	if (!cJSON_IsString(k))
		return NULL;
	return av_pem_key(k->valuestring, strlen(k->valuestring));
}

int
fc_ledger_save(const char *path, cJSON *close, const struct fc_buf *csv,
    const char *keypath, char **cause)
{
	const cJSON	*proof = cJSON_GetObjectItemCaseSensitive(close, "proof");
	const cJSON	*keys = cJSON_GetObjectItemCaseSensitive(proof, "keys");
	cJSON		*o, *rows;
	EVP_PKEY	*pub = NULL;
	struct fc_buf	 pj = { NULL, 0, 0 };
	char		**digests = NULL, *text = NULL;
	char		*ppath = xprintf("%s.close.json", path);
	size_t		 n = 0, i;
	int		 rc = FC_EXIT_FAIL;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "format", CV_FORMAT);
	cJSON_AddItemToObject(o, "period_id", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(close, "period_id"), 1));
	cJSON_AddItemToObject(o, "record", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(close, "record"), 1));
	cJSON_AddItemToObject(o, "prev_hash", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(proof, "prev_hash"), 1));
	cJSON_AddItemToObject(o, "events", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(proof, "events"), 1));
	cJSON_AddItemToObject(o, "checkpoint", cJSON_Duplicate(
	    cJSON_GetObjectItemCaseSensitive(proof, "checkpoint"), 1));
	if (keys != NULL)	/* absent: an older daemon, or no key registered yet */
		cJSON_AddItemToObject(o, "keys", cJSON_Duplicate(keys, 1));
	cv_rows_sha256((const unsigned char *)csv->data, csv->len, &digests, &n);
	rows = cJSON_AddArrayToObject(o, "rows_sha256");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(rows, cJSON_CreateString(digests[i]));
	text = cJSON_Print(o);
	fc_buf_add(&pj, text, strlen(text));
	fc_buf_add(&pj, "\n", 1);
	if (write_all(path, csv->data, csv->len, cause) == -1 ||
	    write_all(ppath, pj.data, pj.len, cause) == -1)
		goto out;
	if (keypath != NULL) {
		if (fc_load_pubkey(keypath, &pub, cause) == -1)
			goto out;
		rc = verdict(pub, path, &pj, csv, "the given key");
	} else if ((pub = proof_key(cJSON_GetObjectItemCaseSensitive(proof,
	    "checkpoint"))) == NULL)
		fc_cause(cause, "the checkpoint of the proof has no Ed25519 key");
	else
		rc = verdict(pub, path, &pj, csv, "the key the checkpoint names "
		    "(check against your own copy: fundctl ledger verify "
		    "--pubkey)");
out:
	EVP_PKEY_free(pub);
	cv_rows_free(digests, n);
	cJSON_free(text);
	cJSON_Delete(o);
	fc_buf_free(&pj);
	free(ppath);
	return rc;
}
