/*
 * fuzz_close_verify.c: libFuzzer target for fundctl's offline check of the
 * CSV of a closed period (clients/close_verify.c). The input is a proof and
 * a CSV, split at the first NUL byte (no NUL: all proof, empty CSV), each
 * copied into a buffer of its exact size so that a read past it is caught;
 * the CSV's per-line digests are computed too, as `ledger export-close`
 * does. Signatures are checked under a fixed Ed25519 key (the audit fuzz
 * target's), so the fuzzer explores the parsing, the chain and the key lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "close_verify.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const unsigned char fuzz_pub[32] = {
	0xbc, 0x7d, 0xc8, 0x0e, 0x9b, 0x45, 0xd1, 0x90, 0x15, 0x76, 0x59, 0xc9,
	0xbe, 0xfe, 0xae, 0x3b, 0xdd, 0x97, 0xbc, 0x68, 0x72, 0xe0, 0x7e, 0x8a,
	0xa3, 0x7a, 0x90, 0xfa, 0x30, 0x88, 0x07, 0xb5
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY		*pub;
	struct cv_result	 r;
	const uint8_t		*nul = memchr(data, '\0', size);
	size_t			 plen = nul != NULL ? (size_t)(nul - data) : size;
	size_t			 clen = nul != NULL ? size - plen - 1 : 0, n;
	char			*proof, **rows;
	unsigned char		*csv;

	if (pub == NULL && (pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
	    NULL, fuzz_pub, sizeof fuzz_pub)) == NULL)
		abort();
	if ((proof = malloc(plen ? plen : 1)) == NULL ||
	    (csv = malloc(clen ? clen : 1)) == NULL)
		abort();
	memcpy(proof, data, plen);
	if (clen > 0)
		memcpy(csv, nul + 1, clen);
	(void)cv_verify(pub, proof, plen, csv, clen, &r);
	if (memchr(r.message, '\0', sizeof r.message) == NULL)
		abort();	/* the message is always a string */
	cv_rows_sha256(csv, clen, &rows, &n);
	cv_rows_free(rows, n);
	free(proof);
	free(csv);
	return 0;
}
