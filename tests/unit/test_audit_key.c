/* test_audit_key.c: the audit signing key (daemon/audit.c): loading, refusals, and
 * signatures that verify over the documented checkpoint message. */
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
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "audit.h"

static char	dir[] = "/tmp/fundd-test-audit-key-XXXXXX";

/* Writes a fresh key of the given type (EVP_PKEY_ED25519 or EVP_PKEY_EC) to name with
 * mode; returns the key (the caller frees it). */
static EVP_PKEY *
write_key(const char *name, int type, mode_t mode, char *path, size_t len)
{
	EVP_PKEY	*k = NULL;
	FILE		*f;

	snprintf(path, len, "%s/%s", dir, name);
	if (type == EVP_PKEY_ED25519)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(k);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return k;
}

static void
test_load_and_sign(void **state)
{
	struct audit_key	*key;
	EVP_PKEY		*k, *pub;
	EVP_MD_CTX		*md;
	BIO			*b;
	char			 path[256], hex[AUDIT_SIG_HEX], msg[256], *cause = NULL;
	unsigned char		 sig[64];
	const char		*hh = "3f305b5813bf12f77c9183aa4cdf94a9a018e841481fd43162f1b2517c7fa4ff";
	int			 n;
	size_t			 i;

	(void)state;
	k = write_key("good.pem", EVP_PKEY_ED25519, 0600, path, sizeof(path));
	assert_int_equal(audit_key_load(path, &key, &cause), 0);
	assert_null(cause);
	assert_non_null(strstr(audit_key_public_pem(key), "-----BEGIN PUBLIC KEY-----"));

	/* the public key it reports is the key's */
	b = BIO_new_mem_buf(audit_key_public_pem(key), -1);
	pub = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(pub);
	assert_int_equal(EVP_PKEY_eq(pub, k), 1);

	/* the documented message, signed: verifies; another message does not */
	assert_int_equal(audit_sign(key, "3", hh, "2026-11-23T18:06:39.698118Z", hex), 0);
	assert_int_equal(strlen(hex), 128);
	for (i = 0; i < 64; i++)
		assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &sig[i]), 1);
	n = audit_checkpoint_message(msg, sizeof(msg), "3", hh, "2026-11-23T18:06:39.698118Z");
	assert_string_equal(msg, "fl-audit-checkpoint\n3\n"
	    "3f305b5813bf12f77c9183aa4cdf94a9a018e841481fd43162f1b2517c7fa4ff\n"
	    "2026-11-23T18:06:39.698118Z\n");
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub), 1);
	assert_int_equal(EVP_DigestVerify(md, sig, sizeof(sig), (unsigned char *)msg,
	    (size_t)n), 1);
	EVP_MD_CTX_reset(md);
	msg[20] = '4';	/* another seq */
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub), 1);
	assert_int_not_equal(EVP_DigestVerify(md, sig, sizeof(sig), (unsigned char *)msg,
	    (size_t)n), 1);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(k);
	audit_key_free(key);
	unlink(path);
}

static void
expect_refused(const char *path, const char *needle)
{
	struct audit_key	*key = (struct audit_key *)1;
	char			*cause = NULL;

	assert_int_equal(audit_key_load(path, &key, &cause), -1);
	assert_null(key);
	assert_non_null(cause);
	assert_non_null(strstr(cause, needle));
	assert_null(strchr(cause, '\n'));
	free(cause);
}

static void
test_refusals(void **state)
{
	char		 path[256];
	mode_t		 modes[] = { 0644, 0640, 0604, 0660, 0602 };
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		EVP_PKEY_free(write_key("loose.pem", EVP_PKEY_ED25519, modes[i], path,
		    sizeof(path)));
		expect_refused(path, "chmod 600");
		unlink(path);
	}
	EVP_PKEY_free(write_key("ec.pem", EVP_PKEY_EC, 0600, path, sizeof(path)));
	expect_refused(path, "not a PEM Ed25519 private key");
	unlink(path);
	expect_refused("/nonexistent/audit.pem", "No such file");
	expect_refused("", "signing_key is not set");
	expect_refused(dir, "not a regular file");
}

static void
test_symlink_followed(void **state)
{
	struct audit_key	*key;
	char			 path[256], link[300], *cause = NULL;

	(void)state;
	EVP_PKEY_free(write_key("target.pem", EVP_PKEY_ED25519, 0600, path, sizeof(path)));
	snprintf(link, sizeof(link), "%s/link.pem", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(audit_key_load(link, &key, &cause), 0);
	audit_key_free(key);
	/* the mode checked is the target's */
	assert_int_equal(chmod(path, 0644), 0);
	expect_refused(link, "chmod 600");
	unlink(link);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_and_sign),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_symlink_followed),
	};
	int	rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
