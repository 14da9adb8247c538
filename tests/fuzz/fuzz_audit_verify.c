/*
 * fuzz_audit_verify.c: libFuzzer target for fundctl's offline audit verifier
 * (clients/audit_verify.c, audit_json.c). The input is an export: it is cut
 * at each "\n", as `fundctl audit verify` cuts a file, and every line is fed
 * from a buffer of its exact size, so that a read past it is caught.
 *
 * Checkpoints are verified under a fixed Ed25519 key, the one whose PKCS#8
 * seed is SHA-256("fund ledger audit test key"), which also signed the valid
 * seeds in tests/fuzz/corpus_audit (tests/bench/make_audit_file.py --key-seed),
 * and is key 1 of valid_keys.jsonl (tests/unit/test_audit_verify.c,
 * test_pinned_keys).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "audit_verify.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const unsigned char fuzz_pub[32] = {
	0xbc, 0x7d, 0xc8, 0x0e, 0x9b, 0x45, 0xd1, 0x90, 0x15, 0x76, 0x59, 0xc9,
	0xbe, 0xfe, 0xae, 0x3b, 0xdd, 0x97, 0xbc, 0x68, 0x72, 0xe0, 0x7e, 0x8a,
	0xa3, 0x7a, 0x90, 0xfa, 0x30, 0x88, 0x07, 0xb5
};

static int
feed(struct av *v, const uint8_t *p, size_t n)
{
	char	*line;
	int	 rc;

	if ((line = malloc(n == 0 ? 1 : n)) == NULL)
		abort();
	memcpy(line, p, n);
	rc = av_line(v, line, n);
	free(line);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY		*pub;
	const struct av_result	*r;
	const uint8_t		*nl;
	struct av		*v;
	size_t			 off = 0, lines = 0;
	int			 rc = 0;

	if (pub == NULL && (pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
	    NULL, fuzz_pub, sizeof fuzz_pub)) == NULL)
		abort();
	if ((v = av_new(pub)) == NULL)
		abort();
	while (rc == 0 && off < size) {
		nl = memchr(data + off, '\n', size - off);
		lines++;
		if (nl == NULL) {
			rc = feed(v, data + off, size - off);
			break;
		}
		rc = feed(v, data + off, (size_t)(nl - data) + 1 - off);
		off = (size_t)(nl - data) + 1;
	}
	if (av_finish(v) != rc)
		abort();

	/* What the result says must hang together. */
	r = av_result(v);
	if (r->chained + r->unchained != r->events ||
	    r->uncovered > r->events || r->events > lines ||
	    r->checkpoints > lines || r->keys > lines ||
	    r->events + r->checkpoints + r->keys > lines)
		abort();
	if ((r->head_seq > 0) != (strlen(r->head_hash) == 64) ||
	    (r->head_seq == 0 && r->head_hash[0] != '\0'))
		abort();
	if (r->failed) {
		if (rc != -1 || r->line == 0 || r->line > lines ||
		    r->message == NULL || r->message[0] == '\0' ||
		    strlen(r->message) >= AV_MESSAGE_MAX ||
		    strchr(r->message, '\n') != NULL)
			abort();
	} else if (rc != 0 || r->message != NULL)
		abort();
	av_free(v);
	return 0;
}
