/*
 * privacy.h: the cryptography of returnees' personal data (docs/privacy.md). Each value is
 * sealed (AES-256-GCM) under a data key of one person's own; data keys are wrapped
 * (AES-256-GCM) under the key-encryption key (KEK) read from [privacy] key_file, which never
 * leaves the daemon. A keyed index (HMAC-SHA256 under a key derived from the KEK) finds a
 * person by national id or full name without either being stored.
 *
 * Every function here is thread-safe; none logs. Buffers of key material are cleansed by
 * their owners (priv_kek_clear, OPENSSL_cleanse).
 */
#ifndef FUND_PRIVACY_H
#define FUND_PRIVACY_H

#include <stddef.h>

#define PRIV_KEY_LEN		32	/* a KEK or a data key: AES-256 */
#define PRIV_KEY_ID_LEN		16	/* names a data key; part of every sealed value */
#define PRIV_NONCE_LEN		12
#define PRIV_TAG_LEN		16
#define PRIV_KEK_ID_LEN		16	/* hex digits naming a KEK */
#define PRIV_INDEX_LEN		32	/* HMAC-SHA256 */
#define PRIV_VERSION		1	/* first byte of wrapped keys and sealed values */
/* version, nonce, encrypted data key, tag */
#define PRIV_WRAPPED_LEN	(1 + PRIV_NONCE_LEN + PRIV_KEY_LEN + PRIV_TAG_LEN)
/* version, key id, nonce, ciphertext of n bytes, tag */
#define PRIV_SEALED_LEN(n)	(1 + PRIV_KEY_ID_LEN + PRIV_NONCE_LEN + (n) + PRIV_TAG_LEN)
#define PRIV_SEALED_MIN		PRIV_SEALED_LEN(0)

/* A KEK as the daemon uses it: only keys derived from it (HKDF-SHA256), and its id. */
struct priv_kek {
	char		id[PRIV_KEK_ID_LEN + 1];	/* hex, HMAC(KEK, "fundd kek id v1") */
	unsigned char	wrap[PRIV_KEY_LEN];		/* HKDF info "fundd wrap v1" */
	unsigned char	index[PRIV_KEY_LEN];		/* HKDF info "fundd index v1" */
	unsigned char	derive[PRIV_KEY_LEN];		/* HKDF info "fundd derive v1" */
};

/* Reads a key file: 64 hex digits (the 32 bytes of the KEK), an optional newline, nothing
 * else. Refused unless it is a regular file that neither group nor others may read or
 * write (mode 0600 or 0400). Returns -1 with *cause allocated (never naming key bytes). */
int	priv_kek_load(const char *path, struct priv_kek *, char **cause);
/* Writes a new random KEK to path, created with mode 0600 (refused if path exists). */
int	priv_kek_create(const char *path, char **cause);
/* The derived keys and id of a KEK given as bytes. */
void	priv_kek_from_key(const unsigned char key[PRIV_KEY_LEN], struct priv_kek *);
void	priv_kek_clear(struct priv_kek *);

/*
 * A new data key and its id. With seed NULL both are random; otherwise both are derived
 * from seed under kek->derive, so that the same seed (a retried call with its idempotency
 * key) gives the same key. 0, or -1 when the random generator fails.
 */
int	priv_dek_new(const struct priv_kek *, const void *seed, size_t seedlen,
	    unsigned char key_id[PRIV_KEY_ID_LEN], unsigned char dek[PRIV_KEY_LEN]);

/* Wraps dek under kek (additional data: key_id). The nonce is random with seed NULL,
 * derived from seed, key_id and dek otherwise. 0 or -1. */
int	priv_wrap(const struct priv_kek *, const unsigned char key_id[PRIV_KEY_ID_LEN],
	    const unsigned char dek[PRIV_KEY_LEN], const void *seed, size_t seedlen,
	    unsigned char out[PRIV_WRAPPED_LEN]);
/* 0 with *dek, or -1 for anything but a key that kek wrapped for key_id. */
int	priv_unwrap(const struct priv_kek *, const unsigned char key_id[PRIV_KEY_ID_LEN],
	    const unsigned char *in, size_t len, unsigned char dek[PRIV_KEY_LEN]);

/*
 * Seals len bytes of plain for the field named field (additional data: key_id and field,
 * so a value moved to another field or person does not open) into out, which has
 * PRIV_SEALED_LEN(len) bytes. The nonce is random with seed NULL; otherwise it is derived
 * under kek->derive from seed, field and plain (a retried call seals to the same bytes,
 * and different plaintexts never share a nonce). 0 or -1.
 */
int	priv_seal(const unsigned char key_id[PRIV_KEY_ID_LEN],
	    const unsigned char dek[PRIV_KEY_LEN], const char *field, const void *plain,
	    size_t len, const struct priv_kek *, const void *seed, size_t seedlen,
	    unsigned char *out);
/* The key id a sealed value names. 0, or -1 when in is too short or of another version. */
int	priv_sealed_key_id(const unsigned char *in, size_t len,
	    unsigned char key_id[PRIV_KEY_ID_LEN]);
/* Opens a sealed value of field under dek into out (room for len bytes); *outlen is its
 * length. -1, with nothing in out, for any value that dek did not seal for field. */
int	priv_open(const unsigned char dek[PRIV_KEY_LEN], const char *field,
	    const unsigned char *in, size_t len, unsigned char *out, size_t *outlen);

/* The keyed index of a normalised value: HMAC-SHA256 under kek->index of kind, a NUL,
 * and key ("national_id" or "name"). */
void	priv_index(const struct priv_kek *, const char *kind, const char *key,
	    unsigned char out[PRIV_INDEX_LEN]);

/*
 * Normalised forms, allocated; NULL when s is not valid UTF-8.
 * priv_national_key: format characters (Unicode Cf) removed, NFKC, lower case (ICU root),
 * spaces (U+0020, TAB, U+00A0, U+1680, U+2028, U+2029, U+3000) trimmed at both ends; ""
 * when nothing else is left.
 * priv_name_key: NFKD, lower case (ICU root), combining marks U+0300..U+036F removed, every
 * run of white space made one U+0020, trimmed.
 */
char	*priv_national_key(const char *s);
char	*priv_name_key(const char *s);

#endif
