/*
 * fundctl_audit.c: `fundctl audit verify`, the offline check of an audit
 * export: reads the PEM key (the first signing key) and the file, feeds
 * audit_verify.c line by line, and prints the verdict.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit_verify.h"
#include "fundctl.h"
#include "fundctl_audit.h"

#define AUDIT_READ_BUFSZ	(4u * 1024 * 1024)	/* > AV_LINE_MAX + 1 */
#define AUDIT_KEY_MAX		65536			/* a PEM key file */

/* A password callback that refuses: never prompt for an encrypted key. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * The Ed25519 public key in the PEM file path: a public key, or a private
 * key of which only the public half is kept.
 */
int
fc_load_pubkey(const char *path, EVP_PKEY **out, char **cause)
{
	struct fc_buf		 b = { NULL, 0, 0 };
	BIO			*bio = NULL;
	EVP_PKEY		*pk = NULL;
	unsigned char		*der = NULL;
	const unsigned char	*p;
	char			 chunk[4096];
	FILE			*f;
	size_t			 n;
	int			 len, rc = -1;

	*out = NULL;
	if ((f = fopen(path, "r")) == NULL)
		return fc_cause(cause, "cannot open %s: %s", path,
		    strerror(errno));
	fc_buf_reserve(&b, AUDIT_KEY_MAX);	/* no realloc: may be secret */
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (n > AUDIT_KEY_MAX - b.len) {
			fc_cause(cause, "%s: larger than %u bytes, not a PEM "
			    "key", path, AUDIT_KEY_MAX);
			goto out;
		}
		fc_buf_add(&b, chunk, n);
	}
	OPENSSL_cleanse(chunk, sizeof chunk);
	if (ferror(f)) {
		fc_cause(cause, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (b.len == 0) {
		fc_cause(cause, "%s: empty, not a PEM key", path);
		goto out;
	}

	ERR_clear_error();
	if ((bio = BIO_new_mem_buf(b.data, (int)b.len)) == NULL)
		goto ssl;
	if ((*out = PEM_read_bio_PUBKEY(bio, NULL, no_password, NULL)) == NULL) {
		if (BIO_reset(bio) != 1)
			goto ssl;
		if ((pk = PEM_read_bio_PrivateKey(bio, NULL, no_password,
		    NULL)) == NULL) {
			if (strstr(b.data, "ENCRYPTED") != NULL)
				fc_cause(cause, "%s: an encrypted private key: "
				    "give its public key (openssl pkey -in %s "
				    "-pubout)", path, path);
			else
				fc_cause(cause, "%s: not a PEM public key, nor "
				    "an unencrypted PEM private key", path);
			goto out;
		}
		/* Keep only the public half. */
		if ((len = i2d_PUBKEY(pk, &der)) <= 0)
			goto ssl;
		p = der;
		if ((*out = d2i_PUBKEY(NULL, &p, len)) == NULL)
			goto ssl;
	}
	if (EVP_PKEY_id(*out) != EVP_PKEY_ED25519) {
		fc_cause(cause, "%s: not an Ed25519 key (checkpoints are "
		    "signed with Ed25519)", path);
		goto out;
	}
	rc = 0;
	goto out;
ssl:
	fc_cause(cause, "%s: cannot load the key (OpenSSL: %s)", path,
	    ERR_reason_error_string(ERR_peek_last_error()) != NULL ?
	    ERR_reason_error_string(ERR_peek_last_error()) : "unknown error");
out:
	if (rc == -1) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	BIO_free(bio);
	fc_buf_wipe(&b);
	fclose(f);
	return rc;
}

/*
 * Feed the lines of fd to v. Returns -1 (with *cause) only when fd cannot
 * be read; a verification failure is in av_result(v).
 */
static int
audit_read(struct av *v, int fd, const char *name, char **cause)
{
	char		*buf, *nl;
	size_t		 off = 0, len = 0;
	ssize_t		 got;
	int		 rc = 0;

	buf = xmalloc(AUDIT_READ_BUFSZ);
	for (;;) {
		/* Every complete line in buf[off..len). */
		while ((nl = memchr(buf + off, '\n', len - off)) != NULL) {
			if (av_line(v, buf + off, (size_t)(nl - buf) + 1 -
			    off) == -1)
				goto out;
			off = (size_t)(nl - buf) + 1;
		}
		if (len - off > AV_LINE_MAX) {
			(void)av_line(v, buf + off, len - off);	/* too long */
			goto out;
		}
		memmove(buf, buf + off, len - off);
		len -= off;
		off = 0;
		got = read(fd, buf + len, AUDIT_READ_BUFSZ - len);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			rc = fc_cause(cause, "cannot read %s: %s", name,
			    strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	if (len > 0)
		(void)av_line(v, buf, len);	/* no final line feed */
out:
	free(buf);
	return rc;
}

static const char *
plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void
audit_print_ok(const struct av_result *r)
{
	printf("ok: %llu %s (%llu chained, %llu not yet chained), %llu %s "
	    "verified, ", (unsigned long long)r->events,
	    plural(r->events, "event", "events"),
	    (unsigned long long)r->chained, (unsigned long long)r->unchained,
	    (unsigned long long)r->checkpoints,
	    plural(r->checkpoints, "checkpoint", "checkpoints"));
	if (r->keys > 0)
		printf("%llu signing %s followed from the given key, ",
		    (unsigned long long)r->keys, plural(r->keys, "key", "keys"));
	if (r->head_seq > 0)
		printf("head seq %lld hash %s", (long long)r->head_seq,
		    r->head_hash);
	else
		printf("no chain head");
	if (r->events == 0)
		;
	else if (r->checkpoints == 0)
		printf("; there is no checkpoint: the %s not yet covered by a "
		    "signature", r->events == 1 ? "event is" : "events are");
	else if (r->uncovered == 0)
		printf("; every event is covered by a signature");
	else
		printf("; %llu %s after the last checkpoint %s not yet covered "
		    "by a signature", (unsigned long long)r->uncovered,
		    plural(r->uncovered, "event", "events"),
		    plural(r->uncovered, "is", "are"));
	putchar('\n');
}

int
fc_audit_verify(const char *path, const char *keypath, char **cause)
{
	const struct av_result	*r;
	struct av		*v = NULL;
	EVP_PKEY		*pub = NULL;
	const char		*name;
	int			 fd = -1, rc = FC_EXIT_FAIL;

	name = strcmp(path, "-") == 0 ? "stdin" : path;

	if (fc_load_pubkey(keypath, &pub, cause) == -1)
		goto out;
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fc_cause(cause, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if ((v = av_new(pub)) == NULL) {
		fc_cause(cause, "cannot set up the verifier (OpenSSL has no "
		    "SHA-256 or Ed25519)");
		goto out;
	}
	if (audit_read(v, fd, name, cause) == -1)
		goto out;
	r = av_result(v);
	if (av_finish(v) == -1) {
		fflush(stdout);
		fprintf(stderr, "FAIL: line %llu: %s\n",
		    (unsigned long long)r->line, r->message);
		rc = FC_EXIT_BAD;
		goto out;
	}
	audit_print_ok(r);
	rc = FC_EXIT_OK;
out:
	av_free(v);
	EVP_PKEY_free(pub);
	if (fd > STDIN_FILENO)
		close(fd);
	return rc;
}
