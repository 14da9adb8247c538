/*
 * fuzz_privacy.c: libFuzzer target for the decryption path of daemon/privacy.c. Under a
 * fixed KEK, data key and key id, a few known plaintexts are sealed and the data key
 * wrapped once, at start. Each input is then
 *   (a) opened as a sealed value, for each field: it may open only if it is byte for
 *       byte one of the sealed values, for that value's field, to that value's plaintext;
 *       a failure leaves out untouched or cleansed;
 *   (b) unwrapped as a wrapped key: only the exact wrapped bytes unwrap, to the key;
 *   (c) a list of edits (XOR a byte, truncate, extend) of a copy of one sealed value: the
 *       copy opens only if the edits left it as it was;
 *   (d) asked for its key id, which must be its bytes 1..16 when it is long enough and
 *       of version 1;
 *   (e) normalised (priv_national_key, priv_name_key) as a string: no crash;
 *   (f) given to the daemon's opening of answers (daemon/person.c, person_open) with the
 *       data key handed over: as the bytes of a sealed full name, which opens only if it
 *       is the one sealed at start, to its name; and as a whole answer (JSON), which
 *       opens or is refused, never crashes.
 * Any other outcome abort()s.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "person.h"
#include "privacy.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct known {
	const char	*field;
	const char	*plain;
	size_t		 len;
	unsigned char	*sealed;
	size_t		 sealedlen;
};

static struct known	known[] = {
	{ "national_id", "AM1234567", 9, NULL, 0 },
	{ "full_name", "\xd4\xb1\xd5\xb6\xd5\xb6\xd5\xa1 Petrosyan", 19, NULL, 0 },
	{ "notes", "", 0, NULL, 0 },
	{ "notes", "x", 1, NULL, 0 },
};
static const char	*fields[] = { "national_id", "full_name", "notes", "gender" };
#define NKNOWN		(sizeof(known) / sizeof(known[0]))
#define NFIELDS		(sizeof(fields) / sizeof(fields[0]))
#define EXTEND_MAX	64

static struct priv_kek	kek;
static unsigned char	key_id[PRIV_KEY_ID_LEN], dek[PRIV_KEY_LEN];
static unsigned char	wrapped[PRIV_WRAPPED_LEN];
static int		ready;
/* (f): a name sealed as person_params seals it (its JSON text), and the keys api.call()
 * hands over for it */
#define NAME_JSON	"\"Anna Petrosyan\""
static unsigned char	name_sealed[PRIV_SEALED_LEN(sizeof(NAME_JSON) - 1)];
static cJSON		*keys;

static void
setup(void)
{
	unsigned char	key[PRIV_KEY_LEN];
	size_t		i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(0xa0 + i);
	priv_kek_from_key(key, &kek);
	if (priv_dek_new(&kek, "fuzz", 4, key_id, dek) != 0 ||
	    priv_wrap(&kek, key_id, dek, "fuzz", 4, wrapped) != 0)
		abort();
	/* seeded: the same bytes at every run, so that the corpus holds them */
	for (i = 0; i < NKNOWN; i++) {
		known[i].sealedlen = PRIV_SEALED_LEN(known[i].len);
		if ((known[i].sealed = malloc(known[i].sealedlen)) == NULL)
			abort();
		if (priv_seal(key_id, dek, known[i].field, known[i].plain, known[i].len,
		    &kek, "fuzz", 4, known[i].sealed) != 0)
			abort();
	}
	/* (f): the daemon's key ring holds the same key, read from a key file */
	{
		char	path[] = "/tmp/fuzz_privacy_kek_XXXXXX", hex[2 * PRIV_KEY_LEN + 2];
		char	idhex[2 * PRIV_KEY_ID_LEN + 1], w[2 * PRIV_WRAPPED_LEN + 1], *v, *cause;
		int	fd = mkstemp(path);

		hex_encode(key, sizeof(key), hex);
		strcat(hex, "\n");
		if (fd < 0 || write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex))
			abort();
		close(fd);
		if (person_keys_load(path, NULL, &cause) != 0)
			abort();
		unlink(path);
		if (priv_seal(key_id, dek, "full_name", NAME_JSON, sizeof(NAME_JSON) - 1, &kek,
		    "fuzz", 4, name_sealed) != 0)
			abort();
		hex_encode(key_id, sizeof(key_id), idhex);
		hex_encode(wrapped, sizeof(wrapped), w);
		v = xasprintf("%s:%s", kek.id, w);
		if ((keys = cJSON_CreateObject()) == NULL ||
		    cJSON_AddStringToObject(keys, idhex, v) == NULL)
			abort();
		free(v);
	}
	ready = 1;
}

/* (f) */
static void
check_person_open(const uint8_t *data, size_t size)
{
	cJSON	*r, *o, *name;
	char	*h, *cause = NULL;
	int	 rc;

	h = xmalloc(2 * size + 1);
	hex_encode(data, size, h);
	if ((r = cJSON_CreateObject()) == NULL || (o = cJSON_AddObjectToObject(r,
	    "full_name")) == NULL || cJSON_AddStringToObject(o, "$sealed", "full_name") ==
	    NULL || cJSON_AddStringToObject(o, "v", h) == NULL)
		abort();
	free(h);
	rc = person_open(r, keys, &cause);
	name = cJSON_GetObjectItemCaseSensitive(r, "full_name");
	if (rc == 0) {
		if (size != sizeof(name_sealed) || memcmp(data, name_sealed, size) != 0 ||
		    !cJSON_IsString(name) || strcmp(name->valuestring, "Anna Petrosyan") != 0)
			abort();
	} else if (cause == NULL || (size == sizeof(name_sealed) &&
	    memcmp(data, name_sealed, size) == 0))
		abort();
	free(cause);
	cJSON_Delete(r);
	/* the input as a whole answer */
	if ((r = cJSON_ParseWithLength((const char *)data, size)) != NULL) {
		cause = NULL;
		if (person_open(r, keys, &cause) != 0 && cause == NULL)
			abort();
		free(cause);
		cJSON_Delete(r);
	}
}

/* Every byte of b is 0 or fill (untouched, or cleansed). */
static void
check_clean(const unsigned char *b, size_t len, unsigned char fill)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (b[i] != 0 && b[i] != fill)
			abort();
	}
}

/* in opens under field only if it is a known sealed value of that field. */
static void
check_open(const char *field, const unsigned char *in, size_t len, unsigned char *out)
{
	size_t	outlen = 1, i;

	memset(out, 0xa5, len + 1);
	if (priv_open(dek, field, in, len, out, &outlen) != 0) {
		if (outlen != 0)
			abort();
		check_clean(out, len + 1, 0xa5);
		return;
	}
	for (i = 0; i < NKNOWN; i++) {
		if (strcmp(known[i].field, field) == 0 && len == known[i].sealedlen &&
		    memcmp(in, known[i].sealed, len) == 0 && outlen == known[i].len &&
		    memcmp(out, known[i].plain, outlen) == 0)
			return;
	}
	/* (f)'s name, sealed under the same key */
	if (strcmp(field, "full_name") == 0 && len == sizeof(name_sealed) &&
	    memcmp(in, name_sealed, len) == 0 && outlen == sizeof(NAME_JSON) - 1 &&
	    memcmp(out, NAME_JSON, outlen) == 0)
		return;
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct known	*k;
	unsigned char		*out, *copy, got[PRIV_KEY_LEN], id[PRIV_KEY_ID_LEN];
	size_t			 i, pos, copylen, maxlen, outlen;
	char			*s, *n;

	if (!ready)
		setup();

	/* (a) */
	if ((out = malloc(size + 1)) == NULL)
		abort();
	for (i = 0; i < NFIELDS; i++)
		check_open(fields[i], data, size, out);
	free(out);

	/* (b) */
	memset(got, 0xa5, sizeof(got));
	if (priv_unwrap(&kek, key_id, data, size, got) == 0) {
		if (size != sizeof(wrapped) || memcmp(data, wrapped, size) != 0 ||
		    memcmp(got, dek, sizeof(dek)) != 0)
			abort();
	} else
		check_clean(got, sizeof(got), 0xa5);

	/*
	 * (c) byte 0 picks a sealed value; then each 3 bytes are an edit: op, position,
	 * value. op 0..253: XOR the byte at position (mod the length) with value; 254:
	 * truncate to position (mod length + 1); 255: append value.
	 */
	if (size >= 1) {
		k = &known[data[0] % NKNOWN];
		maxlen = k->sealedlen + EXTEND_MAX;
		if ((copy = malloc(maxlen)) == NULL || (out = malloc(maxlen + 1)) == NULL)
			abort();
		memcpy(copy, k->sealed, k->sealedlen);
		copylen = k->sealedlen;
		for (i = 1; i + 3 <= size; i += 3) {
			pos = data[i + 1];
			if (data[i] == 254)
				copylen = pos % (copylen + 1);
			else if (data[i] == 255) {
				if (copylen < maxlen)
					copy[copylen++] = data[i + 2];
			} else if (copylen > 0)
				copy[pos % copylen] ^= data[i + 2];
		}
		memset(out, 0xa5, copylen + 1);
		outlen = 1;
		if (priv_open(dek, k->field, copy, copylen, out, &outlen) == 0) {
			if (copylen != k->sealedlen || memcmp(copy, k->sealed, copylen) != 0 ||
			    outlen != k->len || memcmp(out, k->plain, outlen) != 0)
				abort();
		} else {
			/* an unchanged copy opens */
			if (copylen == k->sealedlen && memcmp(copy, k->sealed, copylen) == 0)
				abort();
			if (outlen != 0)
				abort();
			check_clean(out, copylen + 1, 0xa5);
		}
		free(copy);
		free(out);
	}

	/* (d) */
	if (priv_sealed_key_id(data, size, id) == 0) {
		if (size < PRIV_SEALED_MIN || data[0] != PRIV_VERSION ||
		    memcmp(id, data + 1, sizeof(id)) != 0)
			abort();
	} else if (size >= PRIV_SEALED_MIN && data[0] == PRIV_VERSION)
		abort();

	/* (e) */
	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	free(priv_national_key(s));
	n = priv_name_key(s);
	/* a name key has no space at either end nor two in a row */
	if (n != NULL && (n[0] == ' ' || (n[0] != '\0' && n[strlen(n) - 1] == ' ') ||
	    strstr(n, "  ") != NULL))
		abort();
	free(n);
	free(s);

	/* (f) */
	check_person_open(data, size);
	return 0;
}
