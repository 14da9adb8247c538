/* test_privacy.c: the key-encryption key file, data keys, wrapping, sealing, the keyed
 * index and the normalised forms it is computed over (daemon/privacy.c). The known
 * answers pin the formats that stored data depends on; they were computed independently
 * (Python: hmac, cryptography's HKDF and AESGCM). */
#include <sys/stat.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "privacy.h"
#include "util.h"

static char	dir[] = "/tmp/fundd-test-privacy-XXXXXX";

/* the KEK of the known answers: bytes 0x00..0x1f */
static const char	kat_hex[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char	kat_kek_id[] = "a42fb35485104141";
static const char	kat_wrap[] =
    "03d607b161c3f6acf4eb68729f70f9391bc187abc8901c6fd685f9930e340ca2";
static const char	kat_index[] =
    "65d496a5368ee8c4a48afcc907d9bb7140e0a4b98ab0ba7638dea072bd9c0f94";
static const char	kat_derive[] =
    "9f73801b900a5ac0218fd5383ab1dfdbc51fcb913ceabb6de76894342fa05e41";
/* seed "idem-key-1" */
static const char	kat_dek[] =
    "9241fe68c3988d3cacb136839f3ac01b13110aa770f2dc216ffc517d099ce778";
static const char	kat_key_id[] = "1ed7e1d805025f79df403ff9c13c16d8";
static const char	kat_wrapped[] =
    "01e73f653329d4c2d60a22835d239ccea70deecb43432158d534572c793e88b404d224c1a6fd15ec05cc"
    "f6a0e204ce0dbc22e00eb8844f5205017fcaa6";
/* "AM1234" sealed for national_id */
static const char	kat_sealed[] =
    "011ed7e1d805025f79df403ff9c13c16d8a1d8fe8e843358af89d43e50fe887cef8e22230ddff8899b"
    "10638f2786e4d6d04141";
/* index of national_id "am1234" */
static const char	kat_idx[] =
    "0c4a7505e36821a98d1a81b9abe78978c87efc5d842466b3990984b4f7e590cc";

static void
kat_key(unsigned char key[PRIV_KEY_LEN])
{
	size_t	i;

	for (i = 0; i < PRIV_KEY_LEN; i++)
		key[i] = (unsigned char)i;
}

static void
assert_hex(const unsigned char *b, size_t len, const char *want)
{
	char	*hex = xcalloc(2 * len + 1, 1);

	hex_encode(b, len, hex);
	assert_string_equal(hex, want);
	free(hex);
}

static int
all_zero(const unsigned char *b, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (b[i] != 0)
			return 0;
	}
	return 1;
}

/* A KEK of its own for each n. */
static void
kek_n(int n, struct priv_kek *kek)
{
	unsigned char	key[PRIV_KEY_LEN];

	memset(key, 0x40 + n, sizeof(key));
	priv_kek_from_key(key, kek);
}

static void
write_file(const char *name, const void *data, size_t len, mode_t mode, char *path,
    size_t pathlen)
{
	FILE	*f;

	snprintf(path, pathlen, "%s/%s", dir, name);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
remove_files(const char **names)
{
	char	path[256];

	for (; *names != NULL; names++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *names);
		unlink(path);
	}
}

static void
expect_refused(const char *path, const char *want)
{
	struct priv_kek	 kek, before;
	char		*cause = NULL;

	memset(&kek, 0x5a, sizeof(kek));
	before = kek;
	assert_int_equal(priv_kek_load(path, &kek, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("cause \"%s\" does not say \"%s\"", cause, want);
	assert_null(strchr(cause, '\n'));
	/* no key bytes in it: none of the known key's hex digits in a row */
	assert_null(strstr(cause, "0102030405"));
	assert_null(strstr(cause, "0A0B0C0D"));
	/* a failed load leaves the KEK it was given as it was */
	assert_memory_equal(&kek, &before, sizeof(kek));
	free(cause);
}

static void
expect_loads(const char *name, const char *contents, mode_t mode)
{
	struct priv_kek	 kek, want;
	unsigned char	 key[PRIV_KEY_LEN];
	char		 path[256], *cause = NULL;

	write_file(name, contents, strlen(contents), mode, path, sizeof(path));
	assert_int_equal(priv_kek_load(path, &kek, &cause), 0);
	assert_null(cause);
	kat_key(key);
	priv_kek_from_key(key, &want);
	assert_memory_equal(&kek, &want, sizeof(kek));
	unlink(path);
}

static void
test_kek_load(void **state)
{
	char	upper[65];
	size_t	i;

	(void)state;
	for (i = 0; i < 64; i++)
		upper[i] = (char)(kat_hex[i] >= 'a' ? kat_hex[i] - 'a' + 'A' : kat_hex[i]);
	upper[64] = '\0';

	expect_loads("plain.key", kat_hex, 0600);
	expect_loads("upper.key", upper, 0600);
	expect_loads("nl.key", "000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f\n", 0600);
	expect_loads("crlf.key", "000102030405060708090A0B0C0D0E0F"
	    "101112131415161718191a1b1c1d1e1f\r\n", 0600);
	expect_loads("ro.key", kat_hex, 0400);
}

static void
test_kek_refused(void **state)
{
	char		 path[256], link[300], buf[128];
	static const char *bad[] = {
		"",
		"\n",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",	/* 63 */
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0",	/* 65 */
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \n",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\r",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n0",
		" 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",
		"0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"00010203040506070809-a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	};
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		write_file("bad.key", bad[i], strlen(bad[i]), 0600, path, sizeof(path));
		expect_refused(path, "must hold 64 hex digits");
	}
	/* a NUL inside */
	memcpy(buf, kat_hex, 64);
	buf[10] = '\0';
	write_file("nul.key", buf, 64, 0600, path, sizeof(path));
	expect_refused(path, "must hold 64 hex digits");
	/* a long file is refused without being read to its end */
	memset(buf, 'a', sizeof(buf));
	write_file("long.key", buf, sizeof(buf), 0600, path, sizeof(path));
	expect_refused(path, "must hold 64 hex digits");

	write_file("open.key", kat_hex, 64, 0644, path, sizeof(path));
	expect_refused(path, "mode 0644");
	expect_refused(path, "chmod 600");
	write_file("group.key", kat_hex, 64, 0640, path, sizeof(path));
	expect_refused(path, "mode 0640");
	write_file("other.key", kat_hex, 64, 0604, path, sizeof(path));
	expect_refused(path, "mode 0604");
	write_file("gw.key", kat_hex, 64, 0620, path, sizeof(path));
	expect_refused(path, "mode 0620");

	/* a symbolic link, even to a good file */
	write_file("target.key", kat_hex, 64, 0600, path, sizeof(path));
	snprintf(link, sizeof(link), "%s/link.key", dir);
	assert_int_equal(symlink(path, link), 0);
	expect_refused(link, "symbolic link");
	unlink(link);

	snprintf(path, sizeof(path), "%s/missing.key", dir);
	expect_refused(path, "No such file");
	expect_refused(dir, "not a regular file");
	expect_refused("", "not set");

	snprintf(path, sizeof(path), "%s/fifo.key", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_refused(path, "not a regular file");

	remove_files((const char *[]){ "bad.key", "nul.key", "long.key", "open.key",
	    "group.key", "other.key", "gw.key", "target.key", "fifo.key", NULL });
}

static void
test_kek_create(void **state)
{
	struct priv_kek	 a, b, again;
	struct stat	 st;
	char		 path[256], path2[256], buf[128], *cause = NULL;
	FILE		*f;
	size_t		 n, i;

	(void)state;
	snprintf(path, sizeof(path), "%s/new.key", dir);
	snprintf(path2, sizeof(path2), "%s/new2.key", dir);
	assert_int_equal(priv_kek_create(path, &cause), 0);
	assert_null(cause);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);

	/* 64 lower-case hex digits and a newline */
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(n, 65);
	assert_int_equal(buf[64], '\n');
	for (i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", buf[i]));

	assert_int_equal(priv_kek_load(path, &a, &cause), 0);

	/* never overwritten */
	assert_int_equal(priv_kek_create(path, &cause), -1);
	assert_non_null(strstr(cause, "already exists"));
	free(cause);
	cause = NULL;
	assert_int_equal(priv_kek_load(path, &again, &cause), 0);
	assert_memory_equal(&a, &again, sizeof(a));

	/* another key is another key */
	assert_int_equal(priv_kek_create(path2, &cause), 0);
	assert_int_equal(priv_kek_load(path2, &b, &cause), 0);
	assert_string_not_equal(a.id, b.id);
	assert_memory_not_equal(a.wrap, b.wrap, PRIV_KEY_LEN);

	/* nor through a dangling symbolic link */
	unlink(path2);
	snprintf(buf, sizeof(buf), "%s/dangling", dir);
	assert_int_equal(symlink(buf, path2), 0);
	assert_int_equal(priv_kek_create(path2, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(access(buf, F_OK), -1);

	/* a directory that is not there */
	snprintf(buf, sizeof(buf), "%s/nodir/new.key", dir);
	assert_int_equal(priv_kek_create(buf, &cause), -1);
	assert_non_null(strstr(cause, "No such file"));
	free(cause);

	priv_kek_clear(&a);
	assert_true(all_zero((unsigned char *)&a, sizeof(a)));
	unlink(path);
	unlink(path2);
}

static void
test_kek_derived(void **state)
{
	struct priv_kek	 kek, k1, k2;
	unsigned char	 key[PRIV_KEY_LEN];

	(void)state;
	kat_key(key);
	priv_kek_from_key(key, &kek);
	assert_string_equal(kek.id, kat_kek_id);
	assert_int_equal(strlen(kek.id), PRIV_KEK_ID_LEN);
	assert_hex(kek.wrap, PRIV_KEY_LEN, kat_wrap);
	assert_hex(kek.index, PRIV_KEY_LEN, kat_index);
	assert_hex(kek.derive, PRIV_KEY_LEN, kat_derive);

	/* stable; another key, another id */
	kek_n(1, &k1);
	kek_n(1, &k2);
	assert_memory_equal(&k1, &k2, sizeof(k1));
	kek_n(2, &k2);
	assert_string_not_equal(k1.id, k2.id);
	assert_memory_not_equal(k1.derive, k2.derive, PRIV_KEY_LEN);
}

static void
test_wrap(void **state)
{
	struct priv_kek	 kek, other;
	unsigned char	 key_id[PRIV_KEY_ID_LEN], id2[PRIV_KEY_ID_LEN];
	unsigned char	 dek[PRIV_KEY_LEN], got[PRIV_KEY_LEN];
	unsigned char	 w[PRIV_WRAPPED_LEN], w2[PRIV_WRAPPED_LEN], bad[PRIV_WRAPPED_LEN + 1];
	size_t		 i;
	int		 bit;

	(void)state;
	kek_n(1, &kek);
	kek_n(2, &other);
	assert_int_equal(priv_dek_new(&kek, NULL, 0, key_id, dek), 0);
	assert_int_equal(priv_wrap(&kek, key_id, dek, NULL, 0, w), 0);
	assert_int_equal(w[0], PRIV_VERSION);
	assert_int_equal(priv_unwrap(&kek, key_id, w, sizeof(w), got), 0);
	assert_memory_equal(got, dek, PRIV_KEY_LEN);
	/* the key is not in the clear */
	for (i = 0; i + 8 <= PRIV_WRAPPED_LEN; i++)
		assert_memory_not_equal(w + i, dek, 8);

	/* random nonces: the same key wraps to other bytes */
	assert_int_equal(priv_wrap(&kek, key_id, dek, NULL, 0, w2), 0);
	assert_memory_not_equal(w, w2, sizeof(w));
	assert_int_equal(priv_unwrap(&kek, key_id, w2, sizeof(w2), got), 0);

	/* another KEK, another key id */
	assert_int_equal(priv_unwrap(&other, key_id, w, sizeof(w), got), -1);
	assert_true(all_zero(got, sizeof(got)));
	memcpy(id2, key_id, sizeof(id2));
	id2[15] ^= 1;
	assert_int_equal(priv_unwrap(&kek, id2, w, sizeof(w), got), -1);
	assert_true(all_zero(got, sizeof(got)));

	/* any flipped bit */
	for (i = 0; i < sizeof(w); i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, w, sizeof(w));
			bad[i] ^= (unsigned char)(1 << bit);
			memset(got, 0xa5, sizeof(got));
			assert_int_equal(priv_unwrap(&kek, key_id, bad, sizeof(w), got), -1);
			assert_true(all_zero(got, sizeof(got)));
		}
	}
	/* truncated, extended, another version */
	for (i = 0; i < sizeof(w); i++)
		assert_int_equal(priv_unwrap(&kek, key_id, w, i, got), -1);
	memcpy(bad, w, sizeof(w));
	bad[sizeof(w)] = 0;
	assert_int_equal(priv_unwrap(&kek, key_id, bad, sizeof(bad), got), -1);
	assert_int_equal(priv_unwrap(&kek, key_id, NULL, 0, got), -1);
	memcpy(bad, w, sizeof(w));
	bad[0] = 2;
	assert_int_equal(priv_unwrap(&kek, key_id, bad, sizeof(w), got), -1);
	assert_int_equal(priv_wrap(NULL, key_id, dek, NULL, 0, w2), -1);
}

static void
expect_open_fails(const unsigned char *dek, const char *field, const unsigned char *in,
    size_t len)
{
	unsigned char	*out = xmalloc(len + 1);
	size_t		 outlen = 12345, i;

	memset(out, 0xa5, len + 1);
	assert_int_equal(priv_open(dek, field, in, len, out, &outlen), -1);
	assert_int_equal(outlen, 0);
	/* nothing of a plaintext left in out: untouched or cleansed */
	for (i = 0; i <= len; i++)
		assert_true(out[i] == 0 || out[i] == 0xa5);
	free(out);
}

static void
round_trip(const unsigned char *key_id, const unsigned char *dek, const char *field,
    const void *plain, size_t len)
{
	unsigned char	*sealed, *out, id[PRIV_KEY_ID_LEN];
	size_t		 outlen;

	sealed = xmalloc(PRIV_SEALED_LEN(len));
	out = xmalloc(PRIV_SEALED_LEN(len));
	assert_int_equal(priv_seal(key_id, dek, field, plain, len, NULL, NULL, 0, sealed), 0);
	assert_int_equal(sealed[0], PRIV_VERSION);
	assert_int_equal(priv_sealed_key_id(sealed, PRIV_SEALED_LEN(len), id), 0);
	assert_memory_equal(id, key_id, PRIV_KEY_ID_LEN);
	assert_int_equal(priv_open(dek, field, sealed, PRIV_SEALED_LEN(len), out, &outlen), 0);
	assert_int_equal(outlen, len);
	if (len > 0)
		assert_memory_equal(out, plain, len);
	free(sealed);
	free(out);
}

static void
test_seal(void **state)
{
	struct priv_kek	 kek;
	unsigned char	 key_id[PRIV_KEY_ID_LEN], dek[PRIV_KEY_LEN], dek2[PRIV_KEY_LEN];
	unsigned char	 s[PRIV_SEALED_LEN(6)], s2[PRIV_SEALED_LEN(6)];
	unsigned char	 bad[PRIV_SEALED_LEN(6) + 1], empty[PRIV_SEALED_MIN], *big;
	size_t		 i;
	int		 bit;

	(void)state;
	kek_n(1, &kek);
	assert_int_equal(priv_dek_new(&kek, NULL, 0, key_id, dek), 0);
	round_trip(key_id, dek, "national_id", "AM1234", 6);
	round_trip(key_id, dek, "notes", "", 0);
	round_trip(key_id, dek, "notes", NULL, 0);
	round_trip(key_id, dek, "", "x", 1);
	big = xmalloc(10 * 1024);
	for (i = 0; i < 10 * 1024; i++)
		big[i] = (unsigned char)(i * 7 + 3);
	round_trip(key_id, dek, "notes", big, 10 * 1024);
	free(big);

	assert_int_equal(priv_seal(key_id, dek, "national_id", "AM1234", 6, NULL, NULL, 0,
	    s), 0);
	/* random nonces */
	assert_int_equal(priv_seal(key_id, dek, "national_id", "AM1234", 6, NULL, NULL, 0,
	    s2), 0);
	assert_memory_not_equal(s + 17, s2 + 17, PRIV_NONCE_LEN);

	/* another data key, another field */
	memcpy(dek2, dek, sizeof(dek2));
	dek2[0] ^= 1;
	expect_open_fails(dek2, "national_id", s, sizeof(s));
	expect_open_fails(dek, "full_name", s, sizeof(s));
	expect_open_fails(dek, "national_i", s, sizeof(s));
	expect_open_fails(dek, "national_idx", s, sizeof(s));
	expect_open_fails(dek, "", s, sizeof(s));

	/* any flipped bit, at every position */
	for (i = 0; i < sizeof(s); i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, s, sizeof(s));
			bad[i] ^= (unsigned char)(1 << bit);
			expect_open_fails(dek, "national_id", bad, sizeof(s));
		}
	}
	/* truncated at every length, extended, another version */
	for (i = 0; i < sizeof(s); i++)
		expect_open_fails(dek, "national_id", s, i);
	memcpy(bad, s, sizeof(s));
	bad[sizeof(s)] = 0;
	expect_open_fails(dek, "national_id", bad, sizeof(bad));
	memcpy(bad, s, sizeof(s));
	bad[0] = 0;
	expect_open_fails(dek, "national_id", bad, sizeof(s));
	bad[0] = 2;
	expect_open_fails(dek, "national_id", bad, sizeof(s));

	/* an empty value's tag is checked too */
	assert_int_equal(priv_seal(key_id, dek, "gender", "", 0, NULL, NULL, 0, empty), 0);
	for (i = 0; i < sizeof(empty); i++) {
		memcpy(bad, empty, sizeof(empty));
		bad[i] ^= 0x80;
		expect_open_fails(dek, "gender", bad, sizeof(empty));
	}
	expect_open_fails(dek, "notes", empty, sizeof(empty));
}

static void
test_seeded(void **state)
{
	struct priv_kek	 kek, kat;
	unsigned char	 id1[PRIV_KEY_ID_LEN], id2[PRIV_KEY_ID_LEN], id3[PRIV_KEY_ID_LEN];
	unsigned char	 d1[PRIV_KEY_LEN], d2[PRIV_KEY_LEN], d3[PRIV_KEY_LEN], key[PRIV_KEY_LEN];
	unsigned char	 w1[PRIV_WRAPPED_LEN], w2[PRIV_WRAPPED_LEN], w3[PRIV_WRAPPED_LEN];
	unsigned char	 s1[PRIV_SEALED_LEN(6)], s2[PRIV_SEALED_LEN(6)], s3[PRIV_SEALED_LEN(6)];
	unsigned char	 out[PRIV_SEALED_LEN(6)];
	size_t		 outlen;

	(void)state;
	/* the known answers */
	kat_key(key);
	priv_kek_from_key(key, &kat);
	assert_int_equal(priv_dek_new(&kat, "idem-key-1", 10, id1, d1), 0);
	assert_hex(d1, PRIV_KEY_LEN, kat_dek);
	assert_hex(id1, PRIV_KEY_ID_LEN, kat_key_id);
	assert_int_equal(priv_wrap(&kat, id1, d1, "idem-key-1", 10, w1), 0);
	assert_hex(w1, PRIV_WRAPPED_LEN, kat_wrapped);
	assert_int_equal(priv_seal(id1, d1, "national_id", "AM1234", 6, &kat, "idem-key-1",
	    10, s1), 0);
	assert_hex(s1, sizeof(s1), kat_sealed);

	/* the same seed, the same bytes */
	kek_n(1, &kek);
	assert_int_equal(priv_dek_new(&kek, "seed-a", 6, id1, d1), 0);
	assert_int_equal(priv_dek_new(&kek, "seed-a", 6, id2, d2), 0);
	assert_memory_equal(id1, id2, sizeof(id1));
	assert_memory_equal(d1, d2, sizeof(d1));
	assert_int_equal(priv_wrap(&kek, id1, d1, "seed-a", 6, w1), 0);
	assert_int_equal(priv_wrap(&kek, id2, d2, "seed-a", 6, w2), 0);
	assert_memory_equal(w1, w2, sizeof(w1));
	assert_int_equal(priv_unwrap(&kek, id1, w1, sizeof(w1), d3), 0);
	assert_memory_equal(d3, d1, sizeof(d1));
	assert_int_equal(priv_seal(id1, d1, "national_id", "AM1234", 6, &kek, "seed-a", 6, s1),
	    0);
	assert_int_equal(priv_seal(id1, d1, "national_id", "AM1234", 6, &kek, "seed-a", 6, s2),
	    0);
	assert_memory_equal(s1, s2, sizeof(s1));
	assert_int_equal(priv_open(d1, "national_id", s1, sizeof(s1), out, &outlen), 0);
	assert_int_equal(outlen, 6);
	assert_memory_equal(out, "AM1234", 6);

	/* another seed: another key and id, another nonce */
	assert_int_equal(priv_dek_new(&kek, "seed-b", 6, id3, d3), 0);
	assert_memory_not_equal(id1, id3, sizeof(id1));
	assert_memory_not_equal(d1, d3, sizeof(d1));
	assert_int_equal(priv_wrap(&kek, id1, d1, "seed-b", 6, w3), 0);
	assert_memory_not_equal(w1 + 1, w3 + 1, PRIV_NONCE_LEN);
	assert_int_equal(priv_seal(id1, d1, "national_id", "AM1234", 6, &kek, "seed-b", 6, s3),
	    0);
	assert_memory_not_equal(s1 + 17, s3 + 17, PRIV_NONCE_LEN);
	/* an empty seed is a seed, not none */
	assert_int_equal(priv_dek_new(&kek, "", 0, id3, d3), 0);
	assert_int_equal(priv_dek_new(&kek, "", 0, id2, d2), 0);
	assert_memory_equal(d2, d3, sizeof(d2));
	/* the same seed and another KEK */
	kek_n(2, &kat);
	assert_int_equal(priv_dek_new(&kat, "seed-a", 6, id3, d3), 0);
	assert_memory_not_equal(d1, d3, sizeof(d1));

	/* another plaintext or field under the same seed: another nonce */
	assert_int_equal(priv_seal(id1, d1, "national_id", "AM1235", 6, &kek, "seed-a", 6, s3),
	    0);
	assert_memory_not_equal(s1 + 17, s3 + 17, PRIV_NONCE_LEN);
	assert_int_equal(priv_seal(id1, d1, "full_name", "AM1234", 6, &kek, "seed-a", 6, s3),
	    0);
	assert_memory_not_equal(s1 + 17, s3 + 17, PRIV_NONCE_LEN);
	/* framing: seed "ab" field "c" is not seed "a" field "bc" */
	assert_int_equal(priv_seal(id1, d1, "c", "xxxxxx", 6, &kek, "ab", 2, s2), 0);
	assert_int_equal(priv_seal(id1, d1, "bc", "xxxxxx", 6, &kek, "a", 1, s3), 0);
	assert_memory_not_equal(s2 + 17, s3 + 17, PRIV_NONCE_LEN);
	/* a seed and no KEK */
	assert_int_equal(priv_seal(id1, d1, "national_id", "AM1234", 6, NULL, "seed-a", 6, s3),
	    -1);
	assert_int_equal(priv_dek_new(NULL, "seed-a", 6, id3, d3), -1);
}

static void
test_sealed_key_id(void **state)
{
	unsigned char	key_id[PRIV_KEY_ID_LEN], dek[PRIV_KEY_LEN], got[PRIV_KEY_ID_LEN];
	unsigned char	s[PRIV_SEALED_LEN(3)];

	(void)state;
	assert_int_equal(priv_dek_new(NULL, NULL, 0, key_id, dek), 0);
	assert_int_equal(priv_seal(key_id, dek, "gender", "xyz", 3, NULL, NULL, 0, s), 0);
	assert_int_equal(priv_sealed_key_id(s, sizeof(s), got), 0);
	assert_memory_equal(got, key_id, sizeof(got));
	assert_int_equal(priv_sealed_key_id(s, PRIV_SEALED_MIN, got), 0);
	assert_int_equal(priv_sealed_key_id(s, PRIV_SEALED_MIN - 1, got), -1);
	assert_int_equal(priv_sealed_key_id(s, 0, got), -1);
	assert_int_equal(priv_sealed_key_id(NULL, 0, got), -1);
	s[0] = 2;
	assert_int_equal(priv_sealed_key_id(s, sizeof(s), got), -1);
}

static void
test_index(void **state)
{
	struct priv_kek	 k1, k2, kat;
	unsigned char	 a[PRIV_INDEX_LEN], b[PRIV_INDEX_LEN], key[PRIV_KEY_LEN];

	(void)state;
	kat_key(key);
	priv_kek_from_key(key, &kat);
	priv_index(&kat, "national_id", "am1234", a);
	assert_hex(a, sizeof(a), kat_idx);

	kek_n(1, &k1);
	kek_n(2, &k2);
	priv_index(&k1, "national_id", "am1234", a);
	priv_index(&k1, "national_id", "am1234", b);
	assert_memory_equal(a, b, sizeof(a));
	priv_index(&k2, "national_id", "am1234", b);
	assert_memory_not_equal(a, b, sizeof(a));
	priv_index(&k1, "name", "am1234", b);
	assert_memory_not_equal(a, b, sizeof(a));
	priv_index(&k1, "national_id", "am1235", b);
	assert_memory_not_equal(a, b, sizeof(a));
	/* kind and key do not run into each other */
	priv_index(&k1, "ab", "c", a);
	priv_index(&k1, "a", "bc", b);
	assert_memory_not_equal(a, b, sizeof(a));
	/* nor is it the wrap or derive key's */
	assert_memory_not_equal(k1.index, k1.derive, PRIV_KEY_LEN);
	assert_memory_not_equal(k1.index, k1.wrap, PRIV_KEY_LEN);
}

static void
expect_national(const char *in, const char *want)
{
	char	*got = priv_national_key(in);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
expect_name(const char *in, const char *want)
{
	char	*got = priv_name_key(in);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* n copies of s, allocated */
static char *
repeat(const char *s, size_t n)
{
	size_t	 len = strlen(s), i;
	char	*r = xmalloc(len * n + 1);

	for (i = 0; i < n; i++)
		memcpy(r + i * len, s, len);
	r[len * n] = '\0';
	return r;
}

static void
test_national_key(void **state)
{
	char	*in, *want, *got, *one;

	(void)state;
	expect_national("\u200bAM 12\u00ad34 ", "am 1234");
	expect_national("\uff21\uff22\uff11\uff12", "ab12");		/* ＡＢ１２ */
	expect_national("\u0531\u0532", "\u0561\u0562");		/* Armenian ԱԲ → աբ */
	expect_national("\u041f\u0410\u0421\u041f\u041e\u0420\u0422",
	    "\u043f\u0430\u0441\u043f\u043e\u0440\u0442");		/* ПАСПОРТ */
	expect_national("   ", "");
	expect_national("", "");
	expect_national("\u200b\u200e\ufeff", "");
	expect_national(" \t\u00a0\u1680\u2028\u2029\u3000AB1\u3000\t ", "ab1");
	/* spaces inside are kept; only the listed ones are trimmed */
	expect_national("A  B", "a  b");
	expect_national("\nAB\n", "\nab\n");
	/* RIGHT-TO-LEFT OVERRIDE (Cf) */
	expect_national("\u202eAM1234", "am1234");
	/* invalid UTF-8 */
	expect_national("\xff", NULL);
	expect_national("AM\xc3", NULL);
	expect_national("\xc0\xaf", NULL);			/* overlong "/" */
	expect_national("\xed\xa0\x80", NULL);			/* a surrogate */
	expect_national("\xf4\x90\x80\x80", NULL);		/* above U+10FFFF */

	/* 64 KiB and more; and an expansion past the first guess (U+FDFA is 18 in NFKC) */
	in = repeat("Ab", 40 * 1024);
	want = repeat("ab", 40 * 1024);
	expect_national(in, want);
	free(in);
	free(want);
	one = priv_national_key("\ufdfa");
	assert_non_null(one);
	assert_true(strlen(one) > 18);
	in = repeat("\ufdfa", 30 * 1024);
	want = repeat(one, 30 * 1024);
	got = priv_national_key(in);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	free(in);
	free(want);
	free(one);
}

static void
test_name_key(void **state)
{
	char	*in, *want, *got, *one;

	(void)state;
	expect_name("  \u00c1nna   PETROSYAN ", "anna petrosyan");
	expect_name("A\u0301nna Petrosyan", "anna petrosyan");
	expect_name("\u0141ukasz", "\u0142ukasz");			/* Łukasz */
	expect_name("\u0401\u043b\u043a\u0438\u043d", "\u0435\u043b\u043a\u0438\u043d");
	expect_name("\u0421\u0435\u043c\u0451\u043d", "\u0441\u0435\u043c\u0435\u043d");
	expect_name("\u0540\u0561\u056f\u0578\u0562\u0575\u0561\u0576",
	    "\u0570\u0561\u056f\u0578\u0562\u0575\u0561\u0576");	/* Հակոբյան */
	expect_name("Anna\tMaria\n\nPetrosyan\r\n", "anna maria petrosyan");
	expect_name("Anna\u00a0\u3000 Maria", "anna maria");
	expect_name("\uff21nna", "anna");				/* fullwidth */
	expect_name("\u0301", "");
	expect_name(" \t\n ", "");
	expect_name("", "");
	expect_name("a \u0301 b", "a b");
	expect_name("\xff", NULL);
	expect_name("Anna\xe2\x82", NULL);

	in = repeat("Ab ", 30 * 1024);
	want = repeat("ab ", 30 * 1024);
	want[strlen(want) - 1] = '\0';
	expect_name(in, want);
	free(in);
	free(want);
	one = priv_name_key("\ufdfa");
	assert_non_null(one);
	in = repeat("\ufdfa", 30 * 1024);
	want = repeat(one, 30 * 1024);
	got = priv_name_key(in);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	free(in);
	free(want);
	free(one);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kek_load),
		cmocka_unit_test(test_kek_refused),
		cmocka_unit_test(test_kek_create),
		cmocka_unit_test(test_kek_derived),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_seal),
		cmocka_unit_test(test_seeded),
		cmocka_unit_test(test_sealed_key_id),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_national_key),
		cmocka_unit_test(test_name_key),
	};
	int	rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
