/*
 * privacy.c: the key-encryption key, data keys, sealed values, the keyed index and the
 * normalised forms it is computed over (privacy.h, docs/privacy.md).
 *
 * Every derivation is domain-separated: HKDF-SHA256 info strings for the keys derived
 * from the KEK, and a label with its NUL, then fixed-length or length-prefixed parts, for
 * every HMAC. No state but ICU's normaliser singletons; OpenSSL fetches are per call.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "privacy.h"
#include "util.h"

#define PRIV_WHAT		"[privacy] key_file"
#define PRIV_HEX_LEN		(2 * PRIV_KEY_LEN)
/* 64 hex digits, "\r\n", and one byte more to see that there is more */
#define PRIV_FILE_MAX		(PRIV_HEX_LEN + 3)
/* GCM is given at most this much per call (its lengths are int) */
#define PRIV_GCM_CHUNK		(1 << 30)

/* additional data: the label with its NUL */
static const char	 wrap_aad[] = "fundd dek v1";
static const char	 seal_aad[] = "fundd field v1";

/* One part of a MAC's or GCM's input. */
struct part {
	const void	*p;
	size_t		 n;
};

static void	priv_crypto_fail(void) __attribute__((noreturn));

/* OpenSSL failed where the API has no error to return (an allocation, in practice). */
static void
priv_crypto_fail(void)
{
	abort();
}

static int
priv_hkdf(const unsigned char key[PRIV_KEY_LEN], const char *info,
    unsigned char out[PRIV_KEY_LEN])
{
	EVP_KDF		*kdf;
	EVP_KDF_CTX	*ctx = NULL;
	OSSL_PARAM	 params[4];
	int		 rc = -1;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL)
		return -1;
	ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (ctx == NULL)
		return -1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key,
	    PRIV_KEY_LEN);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
	    strlen(info));
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, PRIV_KEY_LEN, params) == 1)
		rc = 0;
	EVP_KDF_CTX_free(ctx);
	return rc;
}

/* HMAC-SHA256 under key of the parts one after the other. */
static int
priv_hmac(const unsigned char *key, size_t keylen, const struct part *parts, size_t n,
    unsigned char out[32])
{
	EVP_MAC		*mac;
	EVP_MAC_CTX	*ctx;
	OSSL_PARAM	 params[2];
	size_t		 i, outlen = 0;
	int		 rc = -1;

	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return -1;
	ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (ctx == NULL)
		return -1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, keylen, params) != 1)
		goto out;
	for (i = 0; i < n; i++) {
		if (parts[i].n != 0 && EVP_MAC_update(ctx, parts[i].p, parts[i].n) != 1)
			goto out;
	}
	if (EVP_MAC_final(ctx, out, &outlen, 32) == 1 && outlen == 32)
		rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	return rc;
}

/*
 * AES-256-GCM of len bytes of in into out (as many bytes), with the parts of aad as
 * additional data. Encrypting writes tag; decrypting checks it. 0 or -1; a failed
 * decryption may have written out, which the caller cleanses.
 */
static int
priv_gcm(int enc, const unsigned char key[PRIV_KEY_LEN],
    const unsigned char nonce[PRIV_NONCE_LEN], const struct part *aad, size_t naad,
    const unsigned char *in, size_t len, unsigned char *out, unsigned char tag[PRIV_TAG_LEN])
{
	EVP_CIPHER_CTX	*ctx;
	size_t		 i, chunk;
	int		 n, rc = -1;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, PRIV_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		goto out;
	for (i = 0; i < naad; i++) {
		if (aad[i].n == 0)
			continue;
		if (aad[i].n > INT_MAX ||
		    EVP_CipherUpdate(ctx, NULL, &n, aad[i].p, (int)aad[i].n) != 1)
			goto out;
	}
	while (len > 0) {
		chunk = len > PRIV_GCM_CHUNK ? PRIV_GCM_CHUNK : len;
		if (EVP_CipherUpdate(ctx, out, &n, in, (int)chunk) != 1 || (size_t)n != chunk)
			goto out;
		in += chunk;
		out += chunk;
		len -= chunk;
	}
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, PRIV_TAG_LEN,
	    tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out, &n) != 1 || n != 0)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, PRIV_TAG_LEN, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (rc != 0)
		ERR_clear_error();
	return rc;
}

static int
priv_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The 32 bytes of a key file's contents, or -1. */
static int
priv_kek_parse(const unsigned char *buf, size_t len, unsigned char key[PRIV_KEY_LEN])
{
	size_t	i;
	int	hi, lo;

	if (len == PRIV_HEX_LEN + 1 && buf[PRIV_HEX_LEN] == '\n')
		len = PRIV_HEX_LEN;
	else if (len == PRIV_HEX_LEN + 2 && buf[PRIV_HEX_LEN] == '\r' &&
	    buf[PRIV_HEX_LEN + 1] == '\n')
		len = PRIV_HEX_LEN;
	if (len != PRIV_HEX_LEN)
		return -1;
	for (i = 0; i < PRIV_KEY_LEN; i++) {
		if ((hi = priv_hexval(buf[2 * i])) == -1 ||
		    (lo = priv_hexval(buf[2 * i + 1])) == -1) {
			OPENSSL_cleanse(key, PRIV_KEY_LEN);
			return -1;
		}
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int
priv_kek_load(const char *path, struct priv_kek *out, char **cause)
{
	struct priv_kek	 kek;
	struct stat	 st;
	unsigned char	 buf[PRIV_FILE_MAX], key[PRIV_KEY_LEN];
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, rc = -1;

	if (path == NULL || *path == '\0') {
		*cause = xstrdup(PRIV_WHAT " is not set");
		return -1;
	}
	/* O_NONBLOCK: a FIFO is refused below rather than waited on */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ELOOP)
			*cause = xasprintf(PRIV_WHAT " %s: a symbolic link; name the key file "
			    "itself", path);
		else
			*cause = xasprintf(PRIV_WHAT " %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		*cause = xasprintf(PRIV_WHAT " %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (key_file_private(&st, PRIV_WHAT, path, cause) != 0) {
		close(fd);
		return -1;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*cause = xasprintf(PRIV_WHAT " %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (priv_kek_parse(buf, len, key) != 0) {
		*cause = xasprintf(PRIV_WHAT " %s: must hold 64 hex digits and an optional "
		    "newline, nothing else", path);
		goto out;
	}
	priv_kek_from_key(key, &kek);
	*out = kek;
	rc = 0;
out:
	close(fd);
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(&kek, sizeof(kek));
	return rc;
}

/* fsync the directory holding path, so that a new file's name is durable too. */
static int
priv_sync_dir(const char *path)
{
	char	*dir, *slash;
	int	 fd, saved, rc = 0;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		rc = -1;
	else {
		if (fsync(fd) == -1 && errno != EINVAL)
			rc = -1;
		saved = errno;
		close(fd);
		errno = saved;
	}
	free(dir);
	return rc;
}

int
priv_kek_create(const char *path, char **cause)
{
	unsigned char	 key[PRIV_KEY_LEN];
	char		 hex[PRIV_HEX_LEN + 2];
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, rc = -1;

	if (path == NULL || *path == '\0') {
		*cause = xstrdup(PRIV_WHAT " is not set");
		return -1;
	}
	if (RAND_bytes(key, sizeof(key)) != 1) {
		ERR_clear_error();
		*cause = xasprintf(PRIV_WHAT " %s: the random generator failed", path);
		return -1;
	}
	hex_encode(key, sizeof(key), hex);
	OPENSSL_cleanse(key, sizeof(key));
	hex[PRIV_HEX_LEN] = '\n';
	hex[PRIV_HEX_LEN + 1] = '\0';

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		if (errno == EEXIST)
			*cause = xasprintf(PRIV_WHAT " %s: already exists; a key is never "
			    "overwritten", path);
		else
			*cause = xasprintf(PRIV_WHAT " %s: %s", path, strerror(errno));
		OPENSSL_cleanse(hex, sizeof(hex));
		return -1;
	}
	/* exactly 0600, whatever the umask */
	if (fchmod(fd, 0600) == -1)
		goto fail;
	while (off < PRIV_HEX_LEN + 1) {
		n = write(fd, hex + off, PRIV_HEX_LEN + 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (priv_sync_dir(path) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	*cause = xasprintf(PRIV_WHAT " %s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(path);
out:
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

void
priv_kek_from_key(const unsigned char key[PRIV_KEY_LEN], struct priv_kek *kek)
{
	static const char	 label[] = "fundd kek id v1";
	struct part		 part = { label, sizeof(label) - 1 };
	unsigned char		 mac[32];

	if (priv_hkdf(key, "fundd wrap v1", kek->wrap) != 0 ||
	    priv_hkdf(key, "fundd index v1", kek->index) != 0 ||
	    priv_hkdf(key, "fundd derive v1", kek->derive) != 0 ||
	    priv_hmac(key, PRIV_KEY_LEN, &part, 1, mac) != 0)
		priv_crypto_fail();
	hex_encode(mac, PRIV_KEK_ID_LEN / 2, kek->id);
	OPENSSL_cleanse(mac, sizeof(mac));
}

void
priv_kek_clear(struct priv_kek *kek)
{
	OPENSSL_cleanse(kek, sizeof(*kek));
}

int
priv_dek_new(const struct priv_kek *kek, const void *seed, size_t seedlen,
    unsigned char key_id[PRIV_KEY_ID_LEN], unsigned char dek[PRIV_KEY_LEN])
{
	static const char	 dek_label[] = "dek";		/* with its NUL */
	static const char	 id_label[] = "dek-id";
	struct part		 parts[2];
	unsigned char		 mac[32];

	if (seed == NULL) {
		if (RAND_bytes(key_id, PRIV_KEY_ID_LEN) != 1 ||
		    RAND_bytes(dek, PRIV_KEY_LEN) != 1) {
			ERR_clear_error();
			OPENSSL_cleanse(dek, PRIV_KEY_LEN);
			return -1;
		}
		return 0;
	}
	if (kek == NULL)
		return -1;
	/* the label ends at its NUL; the seed is all the rest */
	parts[0].p = dek_label;
	parts[0].n = sizeof(dek_label);
	parts[1].p = seed;
	parts[1].n = seedlen;
	if (priv_hmac(kek->derive, PRIV_KEY_LEN, parts, 2, dek) != 0)
		return -1;
	parts[0].p = id_label;
	parts[0].n = sizeof(id_label);
	if (priv_hmac(kek->derive, PRIV_KEY_LEN, parts, 2, mac) != 0) {
		OPENSSL_cleanse(dek, PRIV_KEY_LEN);
		return -1;
	}
	memcpy(key_id, mac, PRIV_KEY_ID_LEN);
	return 0;
}

/* A nonce: random without a seed; with one, the first bytes of HMAC(kek->derive, parts),
 * which hold the seed (a retried call gets the same nonce). 0 or -1. */
static int
priv_nonce(const struct priv_kek *kek, const void *seed, const struct part *parts, size_t n,
    unsigned char nonce[PRIV_NONCE_LEN])
{
	unsigned char	mac[32];

	if (seed == NULL) {
		if (RAND_bytes(nonce, PRIV_NONCE_LEN) != 1) {
			ERR_clear_error();
			return -1;
		}
		return 0;
	}
	if (kek == NULL || priv_hmac(kek->derive, PRIV_KEY_LEN, parts, n, mac) != 0)
		return -1;
	memcpy(nonce, mac, PRIV_NONCE_LEN);
	return 0;
}

int
priv_wrap(const struct priv_kek *kek, const unsigned char key_id[PRIV_KEY_ID_LEN],
    const unsigned char dek[PRIV_KEY_LEN], const void *seed, size_t seedlen,
    unsigned char out[PRIV_WRAPPED_LEN])
{
	static const char	 label[] = "wrap-nonce";
	struct part		 parts[4], aad[2];
	unsigned char		*nonce = out + 1;

	if (kek == NULL)
		return -1;
	out[0] = PRIV_VERSION;
	/* label and its NUL, seed, then key_id and dek of fixed lengths */
	parts[0].p = label;
	parts[0].n = sizeof(label);
	parts[1].p = seed;
	parts[1].n = seedlen;
	parts[2].p = key_id;
	parts[2].n = PRIV_KEY_ID_LEN;
	parts[3].p = dek;
	parts[3].n = PRIV_KEY_LEN;
	if (priv_nonce(kek, seed, parts, 4, nonce) != 0)
		return -1;
	aad[0].p = wrap_aad;
	aad[0].n = sizeof(wrap_aad);
	aad[1].p = key_id;
	aad[1].n = PRIV_KEY_ID_LEN;
	if (priv_gcm(1, kek->wrap, nonce, aad, 2, dek, PRIV_KEY_LEN, out + 1 + PRIV_NONCE_LEN,
	    out + 1 + PRIV_NONCE_LEN + PRIV_KEY_LEN) != 0) {
		OPENSSL_cleanse(out, PRIV_WRAPPED_LEN);
		return -1;
	}
	return 0;
}

int
priv_unwrap(const struct priv_kek *kek, const unsigned char key_id[PRIV_KEY_ID_LEN],
    const unsigned char *in, size_t len, unsigned char dek[PRIV_KEY_LEN])
{
	struct part	 aad[2];
	unsigned char	 tag[PRIV_TAG_LEN], key[PRIV_KEY_LEN];

	OPENSSL_cleanse(dek, PRIV_KEY_LEN);
	if (kek == NULL || in == NULL || len != PRIV_WRAPPED_LEN || in[0] != PRIV_VERSION)
		return -1;
	aad[0].p = wrap_aad;
	aad[0].n = sizeof(wrap_aad);
	aad[1].p = key_id;
	aad[1].n = PRIV_KEY_ID_LEN;
	memcpy(tag, in + 1 + PRIV_NONCE_LEN + PRIV_KEY_LEN, PRIV_TAG_LEN);
	if (priv_gcm(0, kek->wrap, in + 1, aad, 2, in + 1 + PRIV_NONCE_LEN, PRIV_KEY_LEN,
	    key, tag) != 0) {
		OPENSSL_cleanse(key, sizeof(key));
		return -1;
	}
	memcpy(dek, key, PRIV_KEY_LEN);
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
}

/* 8 bytes, big-endian: the length prefix of a variable part of a MAC's input */
static void
priv_be64(uint64_t v, unsigned char out[8])
{
	int	i;

	for (i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

int
priv_seal(const unsigned char key_id[PRIV_KEY_ID_LEN], const unsigned char dek[PRIV_KEY_LEN],
    const char *field, const void *plain, size_t len, const struct priv_kek *kek,
    const void *seed, size_t seedlen, unsigned char *out)
{
	static const char	 label[] = "seal-nonce";
	struct part		 parts[7], aad[3];
	unsigned char		 seedn[8], fieldn[8];
	unsigned char		*nonce = out + 1 + PRIV_KEY_ID_LEN;
	size_t			 fieldlen;

	if (field == NULL || (plain == NULL && len != 0) || len > SIZE_MAX - PRIV_SEALED_MIN)
		return -1;
	fieldlen = strlen(field);
	/*
	 * label and its NUL, key_id, then seed and field each after its length, and plain
	 * (the rest): no two (key_id, seed, field, plain) give the same input
	 */
	priv_be64(seedlen, seedn);
	priv_be64(fieldlen, fieldn);
	parts[0].p = label;
	parts[0].n = sizeof(label);
	parts[1].p = key_id;
	parts[1].n = PRIV_KEY_ID_LEN;
	parts[2].p = seedn;
	parts[2].n = sizeof(seedn);
	parts[3].p = seed;
	parts[3].n = seedlen;
	parts[4].p = fieldn;
	parts[4].n = sizeof(fieldn);
	parts[5].p = field;
	parts[5].n = fieldlen;
	parts[6].p = plain;
	parts[6].n = len;
	if (priv_nonce(kek, seed, parts, 7, nonce) != 0)
		return -1;
	out[0] = PRIV_VERSION;
	memcpy(out + 1, key_id, PRIV_KEY_ID_LEN);
	aad[0].p = seal_aad;
	aad[0].n = sizeof(seal_aad);
	aad[1].p = key_id;
	aad[1].n = PRIV_KEY_ID_LEN;
	aad[2].p = field;
	aad[2].n = fieldlen + 1;
	if (priv_gcm(1, dek, nonce, aad, 3, plain, len,
	    out + 1 + PRIV_KEY_ID_LEN + PRIV_NONCE_LEN,
	    out + 1 + PRIV_KEY_ID_LEN + PRIV_NONCE_LEN + len) != 0) {
		OPENSSL_cleanse(out, PRIV_SEALED_LEN(len));
		return -1;
	}
	return 0;
}

int
priv_sealed_key_id(const unsigned char *in, size_t len, unsigned char key_id[PRIV_KEY_ID_LEN])
{
	if (in == NULL || len < PRIV_SEALED_MIN || in[0] != PRIV_VERSION)
		return -1;
	memcpy(key_id, in + 1, PRIV_KEY_ID_LEN);
	return 0;
}

int
priv_open(const unsigned char dek[PRIV_KEY_LEN], const char *field, const unsigned char *in,
    size_t len, unsigned char *out, size_t *outlen)
{
	struct part	 aad[3];
	unsigned char	 tag[PRIV_TAG_LEN];
	size_t		 ctlen;

	*outlen = 0;
	if (field == NULL || in == NULL || len < PRIV_SEALED_MIN || in[0] != PRIV_VERSION)
		return -1;
	ctlen = len - PRIV_SEALED_MIN;
	aad[0].p = seal_aad;
	aad[0].n = sizeof(seal_aad);
	aad[1].p = in + 1;
	aad[1].n = PRIV_KEY_ID_LEN;
	aad[2].p = field;
	aad[2].n = strlen(field) + 1;
	memcpy(tag, in + len - PRIV_TAG_LEN, PRIV_TAG_LEN);
	if (priv_gcm(0, dek, in + 1 + PRIV_KEY_ID_LEN, aad, 3,
	    in + 1 + PRIV_KEY_ID_LEN + PRIV_NONCE_LEN, ctlen, out, tag) != 0) {
		if (ctlen != 0)
			OPENSSL_cleanse(out, ctlen);
		return -1;
	}
	*outlen = ctlen;
	return 0;
}

void
priv_index(const struct priv_kek *kek, const char *kind, const char *key,
    unsigned char out[PRIV_INDEX_LEN])
{
	struct part	parts[2];

	/* kind with its NUL, then key */
	parts[0].p = kind;
	parts[0].n = strlen(kind) + 1;
	parts[1].p = key;
	parts[1].n = strlen(key);
	if (priv_hmac(kek->index, PRIV_KEY_LEN, parts, 2, out) != 0)
		priv_crypto_fail();
}

/*
 * Normalised forms. UTF-16 buffers are sized from a guess and, when ICU says it needs
 * more (U_BUFFER_OVERFLOW_ERROR, with the length it needs), once again.
 */

/* s as UTF-16 (never longer in UTF-16 units than in bytes), or NULL if not UTF-8. */
static UChar *
priv_u_from_utf8(const char *s, int32_t *outlen)
{
	UErrorCode	 err = U_ZERO_ERROR;
	UChar		*u;
	size_t		 len = strlen(s);

	if (len >= INT32_MAX)
		return NULL;
	u = xcalloc(len + 1, sizeof(*u));
	u_strFromUTF8(u, (int32_t)len + 1, outlen, s, (int32_t)len, &err);
	if (U_FAILURE(err)) {
		free(u);
		return NULL;
	}
	return u;
}

/* A guess at room for n units grown by ICU, within int32_t. */
static int32_t
priv_u_guess(int32_t n)
{
	return n > (INT32_MAX - 16) / 2 ? INT32_MAX : 2 * n + 16;
}

static UChar *
priv_u_normalize(const UNormalizer2 *norm, const UChar *src, int32_t len, int32_t *outlen)
{
	UErrorCode	 err = U_ZERO_ERROR;
	UChar		*u;
	int32_t		 cap = priv_u_guess(len), n;

	u = xcalloc((size_t)cap, sizeof(*u));
	n = unorm2_normalize(norm, src, len, u, cap, &err);
	if (err == U_BUFFER_OVERFLOW_ERROR && n < INT32_MAX) {
		free(u);
		cap = n + 1;
		u = xcalloc((size_t)cap, sizeof(*u));
		err = U_ZERO_ERROR;
		n = unorm2_normalize(norm, src, len, u, cap, &err);
	}
	if (U_FAILURE(err)) {
		free(u);
		return NULL;
	}
	*outlen = n;
	return u;
}

static UChar *
priv_u_lower(const UChar *src, int32_t len, int32_t *outlen)
{
	UErrorCode	 err = U_ZERO_ERROR;
	UChar		*u;
	int32_t		 cap = priv_u_guess(len), n;

	u = xcalloc((size_t)cap, sizeof(*u));
	n = u_strToLower(u, cap, src, len, "", &err);
	if (err == U_BUFFER_OVERFLOW_ERROR && n < INT32_MAX) {
		free(u);
		cap = n + 1;
		u = xcalloc((size_t)cap, sizeof(*u));
		err = U_ZERO_ERROR;
		n = u_strToLower(u, cap, src, len, "", &err);
	}
	if (U_FAILURE(err)) {
		free(u);
		return NULL;
	}
	*outlen = n;
	return u;
}

/* UTF-8 of len units of u, allocated, or NULL. */
static char *
priv_u_to_utf8(const UChar *u, int32_t len)
{
	UErrorCode	 err = U_ZERO_ERROR;
	char		*s;
	int32_t		 n;

	u_strToUTF8(NULL, 0, &n, u, len, &err);
	if (err != U_BUFFER_OVERFLOW_ERROR && err != U_STRING_NOT_TERMINATED_WARNING &&
	    U_FAILURE(err))
		return NULL;
	if (n == INT32_MAX)
		return NULL;
	s = xcalloc((size_t)n + 1, 1);
	err = U_ZERO_ERROR;
	u_strToUTF8(s, n + 1, NULL, u, len, &err);
	if (U_FAILURE(err)) {
		free(s);
		return NULL;
	}
	return s;
}

/* The spaces trimmed from a national key's ends. */
static int
priv_national_space(UChar c)
{
	switch (c) {
	case 0x0020:
	case 0x0009:
	case 0x00a0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x3000:
		return 1;
	}
	return 0;
}

char *
priv_national_key(const char *s)
{
	const UNormalizer2	*nfkc;
	UErrorCode		 err = U_ZERO_ERROR;
	UChar			*u, *v;
	UChar32			 c;
	int32_t			 len, i, j, start;
	char			*out;

	if ((nfkc = unorm2_getNFKCInstance(&err)) == NULL || U_FAILURE(err))
		return NULL;
	if ((u = priv_u_from_utf8(s, &len)) == NULL)
		return NULL;
	/* format characters (Cf) out, in place: never longer */
	for (i = 0, j = 0; i < len; ) {
		U16_NEXT(u, i, len, c);
		if (u_charType(c) != U_FORMAT_CHAR)
			U16_APPEND_UNSAFE(u, j, c);
	}
	len = j;
	v = priv_u_normalize(nfkc, u, len, &len);
	free(u);
	if (v == NULL)
		return NULL;
	u = priv_u_lower(v, len, &len);
	free(v);
	if (u == NULL)
		return NULL;
	start = 0;
	while (start < len && priv_national_space(u[start]))
		start++;
	while (len > start && priv_national_space(u[len - 1]))
		len--;
	out = priv_u_to_utf8(u + start, len - start);
	free(u);
	return out;
}

char *
priv_name_key(const char *s)
{
	const UNormalizer2	*nfkd;
	UErrorCode		 err = U_ZERO_ERROR;
	UChar			*u, *v;
	UChar32			 c;
	int32_t			 len, i, j;
	int			 space = 0;
	char			*out;

	if ((nfkd = unorm2_getNFKDInstance(&err)) == NULL || U_FAILURE(err))
		return NULL;
	if ((u = priv_u_from_utf8(s, &len)) == NULL)
		return NULL;
	v = priv_u_normalize(nfkd, u, len, &len);
	free(u);
	if (v == NULL)
		return NULL;
	u = priv_u_lower(v, len, &len);
	free(v);
	if (u == NULL)
		return NULL;
	/*
	 * In place (never longer): combining marks out; a run of white space is one space
	 * before the next character kept, none at either end.
	 */
	for (i = 0, j = 0; i < len; ) {
		U16_NEXT(u, i, len, c);
		if (c >= 0x0300 && c <= 0x036f)
			continue;
		if (u_isUWhiteSpace(c)) {
			space = j > 0;
			continue;
		}
		if (space)
			u[j++] = 0x0020;
		space = 0;
		U16_APPEND_UNSAFE(u, j, c);
	}
	out = priv_u_to_utf8(u, j);
	free(u);
	return out;
}
