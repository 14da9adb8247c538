/*
 * close_verify.h: offline check of a ledger CSV export of a closed period
 * against its proof (docs/ledger.md, "Verifying a closed period offline").
 * No I/O: the caller reads the proof, the CSV and the key.
 *
 * The proof's close record must be the params_sha256 of its audit event,
 * the events must chain from prev_hash to a signed checkpoint, and the CSV
 * must have the SHA-256 and the row count of the record. When the CSV
 * differs, the proof's per-line digests (themselves checked against the
 * record) name the first line that does.
 *
 * The checkpoint is signed by the last of the proof's key lines, which
 * follow each other from key 1 as in an audit export (audit_verify.c), and
 * the given key is key 1 or that last key; in a proof without key lines, by
 * the given key.
 */
#ifndef CLOSE_VERIFY_H
#define CLOSE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define CV_FORMAT		"fl-period-close-proof-1"
#define CV_MESSAGE_MAX		512	/* a message, with its NUL */

struct cv_result {
	char		 period_id[64];
	char		 until[16];
	uint64_t	 rows;		/* the record's export_rows */
	int64_t		 checkpoint_seq;
	/* the number of the key that signed the checkpoint, 0 in a proof
	 * without key lines (then the given key signed it) */
	int64_t		 key_no;
	/* 1: the given key is key 1, and the key lines introduce key_no from
	 * it; 0: the given key is the one that signed */
	int		 by_key1;
	/* on failure: one line, e.g. "line 7 (je_12): not as in the closed
	 * books: altered" */
	char		 message[CV_MESSAGE_MAX];
};

/*
 * Verify csv (csv_len bytes) against proof (the JSON of FILE.close.json,
 * proof_len bytes) and the Ed25519 public key pub. Returns 0 when the CSV
 * is the closed books, else -1 with r->message. Both inputs are untrusted.
 */
int	cv_verify(EVP_PKEY *pub, const char *proof, size_t proof_len,
	    const unsigned char *csv, size_t csv_len, struct cv_result *r);

/*
 * The SHA-256 of each line of csv with its CRLF (a last line without one
 * as it is), in lower-case hex, into *out (an allocated array of *n
 * allocated strings; free with cv_rows_free): the proof's rows_sha256.
 */
void	cv_rows_sha256(const unsigned char *csv, size_t csv_len, char ***out,
	    size_t *n);
void	cv_rows_free(char **rows, size_t n);

#endif /* CLOSE_VERIFY_H */
