/* tls.c: OpenSSL server context, certificate validity, hot reload, certificate
 * fingerprints. */
#include <sys/stat.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config.h"
#include "log.h"
#include "tls.h"
#include "util.h"

#define TLS12_CIPHERS	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
			"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
			"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* A certificate of tls_cert expiring within this is warned about (tls_expiry_warning). */
#define TLS_EXPIRY_WARN_DAYS	14

static pthread_mutex_t	 tls_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX		*tls_current;
static atomic_llong	 tls_not_after;	/* of tls_current's leaf; 0 = none */

static char *
ssl_error(const char *what)
{
	char		buf[256] = "unknown error";
	unsigned long	e = ERR_peek_last_error();

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return xasprintf("%s: %s", what, buf);
}

/* A clear message for the common case of a missing or unreadable file. */
static int
readable(const char *key, const char *path, char **cause)
{
	if (access(path, R_OK) != 0) {
		*cause = xasprintf("[server] %s: cannot read %s: %s", key, path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* An ASN1_TIME as RFC 3339 UTC and as Unix time; -1 if it cannot be read. */
static int
asn1_time(const ASN1_TIME *t, char *buf, size_t len, long long *unix_time)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	*unix_time = (long long)timegm(&tm);
	return 0;
}

/* The subject of x in RFC 2253 form ("CN=localhost"), allocated. */
static char *
subject(X509 *x)
{
	BIO	*b = BIO_new(BIO_s_mem());
	char	*p, *s;
	long	 n;

	if (b == NULL)
		return xstrdup("?");
	X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
	n = BIO_get_mem_data(b, &p);
	s = n > 0 ? xasprintf("%.*s", (int)n, p) : xstrdup("no subject");
	BIO_free(b);
	return s;
}

/* The certificates of ctx's chain file: the leaf (i = 0), then the chain; NULL past them. */
static X509 *
ctx_cert(SSL_CTX *ctx, int i)
{
	STACK_OF(X509)	*chain = NULL;

	if (i == 0)
		return SSL_CTX_get0_certificate(ctx);
	if (SSL_CTX_get0_chain_certs(ctx, &chain) != 1 || chain == NULL ||
	    i > sk_X509_num(chain))
		return NULL;
	return sk_X509_value(chain, i - 1);
}

/* Refuse a certificate of the file that is expired or not yet valid: clients would fail
 * their handshakes. */
static int
check_validity(SSL_CTX *ctx, const char *path, char **cause)
{
	X509		*x;
	char		 from[32], to[32], *who;
	long long	 t;
	int		 i, before, after;

	for (i = 0; (x = ctx_cert(ctx, i)) != NULL; i++) {
		if (asn1_time(X509_get0_notBefore(x), from, sizeof(from), &t) != 0 ||
		    asn1_time(X509_get0_notAfter(x), to, sizeof(to), &t) != 0) {
			*cause = xasprintf("[server] tls_cert: %s: certificate %d has an "
			    "unreadable validity period", path, i + 1);
			return -1;
		}
		before = X509_cmp_current_time(X509_get0_notBefore(x));
		after = X509_cmp_current_time(X509_get0_notAfter(x));
		if (before < 0 && after > 0)
			continue;
		who = subject(x);
		*cause = xasprintf("[server] tls_cert: %s: %s certificate (%s) %s: valid "
		    "from %s to %s", path, i == 0 ? "the server" : "a chain", who,
		    before >= 0 ? "is not valid yet" : "has expired", from, to);
		free(who);
		return -1;
	}
	return 0;
}

int
tls_ctx_new(const struct cfg *cfg, SSL_CTX **out, char **cause)
{
	SSL_CTX		*ctx;
	struct stat	 st;

	if (readable("tls_cert", cfg->tls_cert, cause) != 0 ||
	    readable("tls_key", cfg->tls_key, cause) != 0 ||
	    (cfg->client_ca[0] != '\0' && readable("client_ca", cfg->client_ca, cause) != 0))
		return -1;
	/* the key's mode, checked before OpenSSL reads it (and again at every SIGHUP) */
	if (stat(cfg->tls_key, &st) != 0) {
		*cause = xasprintf("[server] tls_key: cannot read %s: %s", cfg->tls_key,
		    strerror(errno));
		return -1;
	}
	if (key_file_private(&st, "[server] tls_key", cfg->tls_key, cause) != 0)
		return -1;
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		*cause = ssl_error("SSL_CTX_new");
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		*cause = ssl_error("cipher list");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
		*cause = ssl_error(cfg->tls_cert);
		goto fail;
	}
	if (check_validity(ctx, cfg->tls_cert, cause) != 0)
		goto fail;
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1) {
		*cause = ssl_error(cfg->tls_key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		*cause = ssl_error("tls_key does not match tls_cert");
		goto fail;
	}
	if (cfg->client_ca[0] != '\0') {
		STACK_OF(X509_NAME) *names;

		if (SSL_CTX_load_verify_locations(ctx, cfg->client_ca, NULL) != 1) {
			*cause = ssl_error(cfg->client_ca);
			goto fail;
		}
		if ((names = SSL_load_client_CA_file(cfg->client_ca)) == NULL) {
			*cause = ssl_error(cfg->client_ca);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		/* optional: a client without a certificate may still use a bearer token;
		 * a certificate that does not verify fails the handshake */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_verify_depth(ctx, 4);
		SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"fundd", 5);
	}
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return -1;
}

char *
tls_expiry_warning(SSL_CTX *ctx, const char *path)
{
	X509		*x, *first = NULL;
	char		 to[32], *who, *w;
	long long	 t, soonest = 0, left;
	int		 i;

	for (i = 0; (x = ctx_cert(ctx, i)) != NULL; i++) {
		if (asn1_time(X509_get0_notAfter(x), to, sizeof(to), &t) == 0 &&
		    (first == NULL || t < soonest)) {
			first = x;
			soonest = t;
		}
	}
	left = soonest - (long long)time(NULL);
	if (first == NULL || left > TLS_EXPIRY_WARN_DAYS * 86400LL)
		return NULL;
	asn1_time(X509_get0_notAfter(first), to, sizeof(to), &t);
	who = subject(first);
	w = xasprintf("[server] tls_cert: %s: %s certificate (%s) expires at %s, in %lld "
	    "days %lld hours: replace it and send SIGHUP", path,
	    first == ctx_cert(ctx, 0) ? "the server" : "a chain", who, to, left / 86400,
	    left % 86400 / 3600);
	free(who);
	return w;
}

void
tls_ctx_install(SSL_CTX *ctx)
{
	SSL_CTX		*old;
	X509		*x;
	char		 to[32];
	long long	 t = 0;

	if (ctx != NULL && (x = SSL_CTX_get0_certificate(ctx)) != NULL &&
	    asn1_time(X509_get0_notAfter(x), to, sizeof(to), &t) != 0)
		t = 0;
	pthread_mutex_lock(&tls_lock);
	old = tls_current;
	tls_current = ctx;
	atomic_store(&tls_not_after, t);
	pthread_mutex_unlock(&tls_lock);
	SSL_CTX_free(old);
}

long long
tls_cert_not_after(void)
{
	return atomic_load(&tls_not_after);
}

SSL *
tls_ssl_new(void)
{
	SSL	*ssl;

	pthread_mutex_lock(&tls_lock);
	ssl = tls_current != NULL ? SSL_new(tls_current) : NULL;
	pthread_mutex_unlock(&tls_lock);
	return ssl;
}

void
tls_shutdown(void)
{
	tls_ctx_install(NULL);
}

int
tls_peer_sha256(SSL *ssl, unsigned char out[32])
{
	X509		*x;
	unsigned int	 n = 0;

	if ((x = SSL_get0_peer_certificate(ssl)) == NULL)
		return -1;
	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return -1;
	if (X509_digest(x, EVP_sha256(), out, &n) != 1 || n != 32)
		return -1;
	return 0;
}

int
tls_pem_sha256(const char *path, unsigned char out[32], char **cause)
{
	FILE		*f;
	X509		*x;
	unsigned int	 n = 0;

	if ((f = fopen(path, "r")) == NULL) {
		*cause = xasprintf("cannot open certificate %s", path);
		return -1;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		*cause = ssl_error(path);
		return -1;
	}
	if (X509_digest(x, EVP_sha256(), out, &n) != 1 || n != 32) {
		X509_free(x);
		*cause = xasprintf("cannot hash certificate %s", path);
		return -1;
	}
	X509_free(x);
	return 0;
}
