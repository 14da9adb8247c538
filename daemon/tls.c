/* tls.c: OpenSSL server context, hot reload, certificate fingerprints. */
#include <sys/stat.h>
#include <pthread.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
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

static pthread_mutex_t	 tls_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX		*tls_current;

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

void
tls_ctx_install(SSL_CTX *ctx)
{
	SSL_CTX	*old;

	pthread_mutex_lock(&tls_lock);
	old = tls_current;
	tls_current = ctx;
	pthread_mutex_unlock(&tls_lock);
	SSL_CTX_free(old);
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
