/*
 * audit_verify.h: offline verifier of an audit trail export (docs/audit.md).
 *
 * A streaming core without I/O: feed the export one line at a time with
 * av_line(), then call av_finish(). It checks the JSON of every line, the
 * format of every field, the hash chain, the chain of signing keys (key 1
 * the given key, each later key signed by the one before it) and the
 * Ed25519 signature of every checkpoint under the key of its seq, and stops
 * at the first failure, which av_result() describes.
 *
 *	struct av *v = av_new(pub);
 *	while (more lines)
 *		if (av_line(v, line, len) == -1)
 *			break;
 *	if (av_finish(v) == -1)
 *		... av_result(v)->line, ->message ...
 *	av_free(v);
 */
#ifndef AUDIT_VERIFY_H
#define AUDIT_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define AV_LINE_MAX		(1024u * 1024)	/* bytes in one line, without "\n" */
#define AV_MESSAGE_MAX		256		/* a failure message, with its NUL */
#define AV_KEY_ID_LEN		16		/* hex digits of a key's id */

struct av_result {
	/* Counts, as far as verified. */
	uint64_t	 events;	/* event lines */
	uint64_t	 chained;	/* events with prev_hash and hash */
	uint64_t	 unchained;	/* events not yet chained (the tail) */
	uint64_t	 checkpoints;	/* checkpoints whose signature verified */
	uint64_t	 keys;		/* key lines verified (0: an export that
					 * names no key, all signed by the given
					 * one) */
	uint64_t	 uncovered;	/* events after the last checkpoint */

	/* Head of the chain: the last chained event (head_seq 0: none). */
	int64_t		 head_seq;
	char		 head_hash[65];	/* lower-case hex, "" without a head */

	/* The first failure (failed != 0). */
	int		 failed;
	uint64_t	 line;		/* 1-based line number */
	int64_t		 seq;		/* the event's or checkpoint's seq, 0 if unknown */
	const char	*message;	/* one line, e.g. "event seq 42: hash does not
					 * match its content (the event was altered)" */
};

struct av;

/*
 * A verifier that trusts pub, an Ed25519 public (or private) key, as the
 * first signing key: the key of every checkpoint of an export without key
 * lines, else key 1. Takes a reference of its own. NULL when pub is not
 * Ed25519.
 */
struct av		*av_new(EVP_PKEY *pub);
void			 av_free(struct av *);

/*
 * One line of the export, with or without its trailing "\n" (any other byte
 * may be anything: the line is untrusted). Returns 0, or -1 once a failure
 * has been found (and from then on).
 */
int			 av_line(struct av *, const char *line, size_t len);

/* End of the export. Returns 0 when everything verified, else -1. */
int			 av_finish(struct av *);

/* Counts and failure; valid until the next call on v. */
const struct av_result	*av_result(const struct av *);

/*
 * The key that signs after the lines read so far: the last key line's, its
 * key_no and from_seq, or before any key line the given key (key_no 0,
 * from_seq 1). The reference stays v's.
 */
EVP_PKEY		*av_signer(const struct av *, int64_t *key_no,
			    int64_t *from_seq);

/* The Ed25519 public key in the PEM text p[0..len); NULL if it holds none. */
EVP_PKEY		*av_pem_key(const char *p, size_t len);

/*
 * A key's id, as the key lines give it: the first 16 hex digits of the
 * SHA-256 of its raw public key ("?" when OpenSSL cannot say).
 */
void			 av_key_id(EVP_PKEY *, char out[AV_KEY_ID_LEN + 1]);

#endif /* AUDIT_VERIFY_H */
