/*
 * tls.h: the server's TLS context. TLS 1.2 minimum (1.3 preferred), AEAD suites with
 * forward secrecy only, optional client certificates against client_ca. A certificate
 * that is expired or not valid yet is refused. The current context is swapped atomically
 * on SIGHUP; connections keep the one they started with.
 */
#ifndef FUND_TLS_H
#define FUND_TLS_H

#include <openssl/ssl.h>

struct cfg;

/* Build a context from cfg's tls_cert, tls_key and client_ca; -1 with *cause, also when a
 * certificate of tls_cert is expired or not valid yet. */
int	 tls_ctx_new(const struct cfg *, SSL_CTX **out, char **cause);
/* An allocated warning naming path when a certificate of ctx expires within 14 days;
 * NULL otherwise. */
char	*tls_expiry_warning(SSL_CTX *, const char *path);
/* Install ctx as the current context (takes ownership; frees the previous one's ref). */
void	 tls_ctx_install(SSL_CTX *);
/* notAfter of the current context's server certificate, Unix time; 0 without one. */
long long tls_cert_not_after(void);
/* A new server-side SSL from the current context, or NULL. */
SSL	*tls_ssl_new(void);
void	 tls_shutdown(void);
/* SHA-256 of the verified peer certificate; 0 if there is one, -1 otherwise. */
int	 tls_peer_sha256(SSL *, unsigned char out[32]);
/* SHA-256 of the first certificate in a PEM file; -1 with *cause. */
int	 tls_pem_sha256(const char *path, unsigned char out[32], char **cause);

#endif
