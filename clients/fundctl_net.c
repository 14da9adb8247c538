/*
 * fundctl_net.c: URL parsing, TCP connect with timeouts, blocking TLS client.
 *
 * Timeouts are socket options (SO_RCVTIMEO/SO_SNDTIMEO), re-armed before
 * every operation so that, when asked, they also enforce one deadline for
 * the whole exchange. A blocking socket that times out makes OpenSSL report
 * SSL_ERROR_WANT_READ/WANT_WRITE, which is how a timeout is recognised.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "fundctl.h"
#include "fundctl_net.h"

struct fc_conn {
	int		 fd;
	SSL_CTX		*ctx;
	SSL		*ssl;
	char		*peer;		/* authority, for messages */
	int		 timeout_s;	/* per operation, and whole exchange */
	int		 whole;		/* enforce deadline */
	struct timespec	 deadline;	/* CLOCK_MONOTONIC */
	int		 eof;		/* server closed the connection */
	int		 broken;	/* no close_notify may be sent */
	int		 alerted;	/* last failure was a TLS alert */
};

/* URLs */

static int
host_char_ok(int ch)
{
	return isalnum(ch) || ch == '-' || ch == '.' || ch == '_';
}

int
fc_url_parse(const char *s, struct fc_url *u, char **cause)
{
	const char	*p, *end, *hs, *he, *ps, *colon;
	char		*zone;
	struct in6_addr	 a6;
	struct in_addr	 a4;
	unsigned long	 port;
	size_t		 i, plen;
	int		 v6 = 0;

	memset(u, 0, sizeof *u);
	if (strncasecmp(s, "https://", 8) != 0) {
		if (strncasecmp(s, "http://", 7) == 0)
			return fc_cause(cause, "URL '%s': plain http is not "
			    "supported, fundd speaks https only", s);
		return fc_cause(cause, "URL '%s' must start with https://", s);
	}
	p = s + 8;
	end = p + strcspn(p, "/?#");	/* any path prefix is ignored */
	if (memchr(p, '@', (size_t)(end - p)) != NULL)
		return fc_cause(cause, "URL '%s': user names or passwords in "
		    "the URL are not supported", s);
	ps = NULL;
	if (*p == '[') {
		hs = p + 1;
		if ((he = memchr(hs, ']', (size_t)(end - hs))) == NULL)
			return fc_cause(cause, "URL '%s': missing ']'", s);
		if (he + 1 < end) {
			if (he[1] != ':')
				return fc_cause(cause, "URL '%s': junk after "
				    "']'", s);
			ps = he + 2;
		}
		u->host = xstrndup(hs, (size_t)(he - hs));
		if ((zone = strchr(u->host, '%')) != NULL) {
			*zone = '\0';	/* temporarily, for inet_pton */
			for (i = 1; zone[i] != '\0'; i++)
				if (!host_char_ok((unsigned char)zone[i]))
					break;
			if (i == 1 || zone[i] != '\0')
				return fc_cause(cause, "URL '%s': bad IPv6 "
				    "zone", s);
		}
		if (inet_pton(AF_INET6, u->host, &a6) != 1)
			return fc_cause(cause, "URL '%s': '%s' is not an IPv6 "
			    "address", s, u->host);
		if (zone != NULL)
			*zone = '%';
		u->host_is_ip = v6 = 1;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		if (colon != NULL &&
		    memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL)
			return fc_cause(cause, "URL '%s': an IPv6 address must "
			    "be written in brackets, https://[::1]:8443", s);
		he = colon != NULL ? colon : end;
		if (colon != NULL)
			ps = colon + 1;
		u->host = xstrndup(p, (size_t)(he - p));
		for (i = 0; u->host[i] != '\0'; i++)
			if (!host_char_ok((unsigned char)u->host[i]))
				return fc_cause(cause, "URL '%s': bad character "
				    "in host name", s);
		u->host_is_ip = inet_pton(AF_INET, u->host, &a4) == 1;
	}
	if (u->host[0] == '\0')
		return fc_cause(cause, "URL '%s' has no host", s);

	if (ps == NULL)
		u->port = xstrdup("443");
	else {
		plen = (size_t)(end - ps);
		port = 0;
		for (i = 0; i < plen && i < 6; i++) {
			if (!isdigit((unsigned char)ps[i]))
				break;
			port = port * 10 + (unsigned long)(ps[i] - '0');
		}
		if (plen == 0 || i != plen || port == 0 || port > 65535)
			return fc_cause(cause, "URL '%s': bad port", s);
		u->port = xprintf("%lu", port);
	}
	if (v6)
		u->authority = xprintf("[%.*s]:%s",
		    (int)strcspn(u->host, "%"), u->host, u->port);
	else
		u->authority = xprintf("%s:%s", u->host, u->port);
	return 0;
}

void
fc_url_free(struct fc_url *u)
{
	free(u->host);
	free(u->port);
	free(u->authority);
	memset(u, 0, sizeof *u);
}

/* Timeouts */

static long long
ms_left(const struct timespec *dl)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(dl->tv_sec - now.tv_sec) * 1000 +
	    (dl->tv_nsec - now.tv_nsec) / 1000000;
}

static int
conn_timed_out(struct fc_conn *c, char **cause)
{
	c->broken = 1;
	return fc_cause(cause, "%s: timed out after %d s", c->peer,
	    c->timeout_s);
}

/* Arm the socket timeouts for the next operation. */
static int
conn_arm(struct fc_conn *c, char **cause)
{
	struct timeval	tv;
	long long	ms, left;

	ms = (long long)c->timeout_s * 1000;
	if (c->whole) {
		if ((left = ms_left(&c->deadline)) <= 0)
			return conn_timed_out(c, cause);
		if (left < ms)
			ms = left;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1)
		return fc_cause(cause, "setsockopt: %s", strerror(errno));
	return 0;
}

/* Errors */

/* The oldest queued OpenSSL error as a short string; clears the queue.
 * Returns NULL when the queue is empty. */
static const char *
ssl_errstr(char *buf, size_t len)
{
	unsigned long	 e;
	const char	*r;

	if ((e = ERR_peek_error()) == 0)
		return NULL;
	if ((r = ERR_reason_error_string(e)) != NULL)
		snprintf(buf, len, "%s", r);
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static const char *
verify_hint(long vr)
{
	switch (vr) {
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return " (give the CA with --cacert or FUNDCTL_CACERT)";
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return " (the certificate does not name the host in the URL)";
	default:
		return "";
	}
}

static const char *
alert_hint(int reason)
{
	switch (reason) {
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
		return " (give a client certificate with --cert and --key, or "
		    "use a token)";
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
		return " (the server does not accept this client certificate)";
	default:
		return "";
	}
}

/*
 * Describe a failed SSL_connect/SSL_read/SSL_write as "PEER: WHAT failed:
 * DETAIL"; marks c broken (no close_notify may follow a fatal error).
 */
static int
tls_fail(struct fc_conn *c, int ret, const char *what, char **cause)
{
	char		 ebuf[256];
	const char	*es, *hint = "";
	unsigned long	 first;
	long		 vr;
	int		 e, saved = errno;

	e = SSL_get_error(c->ssl, ret);
	c->broken = 1;
	if ((vr = SSL_get_verify_result(c->ssl)) != X509_V_OK) {
		ERR_clear_error();
		return fc_cause(cause, "%s: server certificate not trusted: "
		    "%s%s", c->peer, X509_verify_cert_error_string(vr),
		    verify_hint(vr));
	}
	first = ERR_peek_error();
	if (ERR_GET_LIB(first) == ERR_LIB_SSL &&
	    ERR_GET_REASON(first) == SSL_R_WRONG_VERSION_NUMBER)
		hint = " (is the server speaking TLS?)";
	/* OpenSSL reports a received alert as SSL_AD_REASON_OFFSET + code. */
	c->alerted = ERR_GET_LIB(first) == ERR_LIB_SSL &&
	    ERR_GET_REASON(first) > SSL_AD_REASON_OFFSET;
	es = ssl_errstr(ebuf, sizeof ebuf);
	if (c->alerted)
		return fc_cause(cause, "%s: the server ended the connection "
		    "with a TLS alert: %s%s", c->peer, es,
		    alert_hint(ERR_GET_REASON(first)));
	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return conn_timed_out(c, cause);
	case SSL_ERROR_ZERO_RETURN:
		es = "connection closed by the server";
		break;
	case SSL_ERROR_SYSCALL:
		if (es != NULL)
			break;
		if (saved == EAGAIN || saved == EWOULDBLOCK)
			return conn_timed_out(c, cause);
		es = saved == 0 ? "connection closed by the server" :
		    strerror(saved);
		break;
	default:
		break;
	}
	return fc_cause(cause, "%s: %s failed: %s%s", c->peer, what,
	    es != NULL ? es : "unknown TLS error", hint);
}

/* Set up */

static int
file_readable(const char *path, const char *what, char **cause)
{
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL)
		return fc_cause(cause, "%s %s: %s", what, path,
		    strerror(errno));
	fclose(f);
	return 0;
}

static int
tls_ctx(struct fc_conn *c, const struct fc_tls_opts *t, char **cause)
{
	char		 ebuf[256];
	const char	*es, *key;
	struct stat	 st;
	int		 rv;

	ERR_clear_error();
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return fc_cause(cause, "cannot create a TLS context: %s",
		    (es = ssl_errstr(ebuf, sizeof ebuf)) ? es : "?");
	if (SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1)
		return fc_cause(cause, "cannot require TLS 1.2");
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);

	ERR_clear_error();
	if (t->cacert != NULL) {
		if (stat(t->cacert, &st) == -1)
			return fc_cause(cause, "CA certificates %s: %s",
			    t->cacert, strerror(errno));
		if (S_ISDIR(st.st_mode))
			rv = SSL_CTX_load_verify_locations(c->ctx, NULL,
			    t->cacert);
		else
			rv = SSL_CTX_load_verify_locations(c->ctx, t->cacert,
			    NULL);
		if (rv != 1)
			return fc_cause(cause, "cannot load CA certificates "
			    "from %s: %s", t->cacert,
			    (es = ssl_errstr(ebuf, sizeof ebuf)) ? es : "?");
	} else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1)
		return fc_cause(cause, "cannot load the system CA store: %s",
		    (es = ssl_errstr(ebuf, sizeof ebuf)) ? es : "?");

	if (t->cert == NULL)
		return 0;
	key = t->key != NULL ? t->key : t->cert;
	if (file_readable(t->cert, "client certificate", cause) == -1 ||
	    file_readable(key, "private key", cause) == -1)
		return -1;
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(c->ctx, t->cert) != 1)
		return fc_cause(cause, "cannot load client certificate from "
		    "%s: %s", t->cert,
		    (es = ssl_errstr(ebuf, sizeof ebuf)) ? es : "?");
	ERR_clear_error();
	if (SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1)
		return fc_cause(cause, "cannot load private key from %s: %s",
		    key, (es = ssl_errstr(ebuf, sizeof ebuf)) ? es : "?");
	ERR_clear_error();
	if (SSL_CTX_check_private_key(c->ctx) != 1) {
		ERR_clear_error();
		return fc_cause(cause, "private key %s does not match client "
		    "certificate %s", key, t->cert);
	}
	return 0;
}

static int
tcp_connect(struct fc_conn *c, const struct fc_url *u, char **cause)
{
	struct addrinfo	 hints, *res, *ai;
	int		 rv, err = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (u->host_is_ip ? AI_NUMERICHOST : 0);
	if ((rv = getaddrinfo(u->host, u->port, &hints, &res)) != 0)
		return fc_cause(cause, "cannot resolve %s: %s", u->host,
		    rv == EAI_SYSTEM ? strerror(errno) : gai_strerror(rv));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		c->fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (c->fd == -1) {
			err = errno;
			continue;
		}
		if (conn_arm(c, cause) == -1) {
			freeaddrinfo(res);
			return -1;
		}
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	if (c->fd != -1)
		return 0;
	if (err == EINPROGRESS || err == EAGAIN || err == EWOULDBLOCK ||
	    err == ETIMEDOUT)
		return fc_cause(cause, "cannot connect to %s: timed out after "
		    "%d s", c->peer, c->timeout_s);
	return fc_cause(cause, "cannot connect to %s: %s", c->peer,
	    strerror(err));
}

static int
tls_handshake(struct fc_conn *c, const struct fc_url *u, char **cause)
{
	char		 ebuf[256];
	const char	*es;
	char		*ip;
	int		 rv;

	ERR_clear_error();
	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1)
		return fc_cause(cause, "cannot set up TLS: %s",
		    (es = ssl_errstr(ebuf, sizeof ebuf)) ? es : "?");
	if (u->host_is_ip) {
		/* No SNI for IP literals (RFC 6066); check the IP SAN. */
		ip = xstrndup(u->host, strcspn(u->host, "%"));
		rv = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), ip);
		free(ip);
	} else {
		SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		rv = SSL_set_tlsext_host_name(c->ssl, u->host) == 1 &&
		    SSL_set1_host(c->ssl, u->host) == 1;
	}
	if (rv != 1)
		return fc_cause(cause, "cannot set the expected server name "
		    "%s: %s", u->host,
		    (es = ssl_errstr(ebuf, sizeof ebuf)) ? es : "?");
	if (conn_arm(c, cause) == -1)
		return -1;
	ERR_clear_error();
	errno = 0;
	if ((rv = SSL_connect(c->ssl)) != 1)
		return tls_fail(c, rv, "TLS handshake", cause);
	return 0;
}

int
fc_conn_open(const struct fc_url *u, const struct fc_tls_opts *t,
    int timeout_s, int whole, struct fc_conn **out, char **cause)
{
	struct fc_conn	*c;

	*out = NULL;
	c = xmalloc(sizeof *c);
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->peer = xstrdup(u->authority);
	c->timeout_s = timeout_s;
	c->whole = whole;
	if (whole) {
		clock_gettime(CLOCK_MONOTONIC, &c->deadline);
		c->deadline.tv_sec += timeout_s;
	}
	/* Load certificates first: a bad file fails before any network. */
	if (tls_ctx(c, t, cause) == -1 || tcp_connect(c, u, cause) == -1 ||
	    tls_handshake(c, u, cause) == -1) {
		c->broken = 1;
		fc_conn_close(c);
		return -1;
	}
	*out = c;
	return 0;
}

/* I/O */

int
fc_conn_write(struct fc_conn *c, const void *buf, size_t n, char **cause)
{
	const char	*p = buf;
	int		 r;

	while (n > 0) {
		if (conn_arm(c, cause) == -1)
			return -1;
		ERR_clear_error();
		errno = 0;
		r = SSL_write(c->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
		if (r <= 0)
			return tls_fail(c, r, "sending the request", cause);
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
fc_conn_read(struct fc_conn *c, void *buf, size_t n, size_t *got,
    char **cause)
{
	int	r, e, saved;

	*got = 0;
	if (c->eof || n == 0)
		return 0;
	if (conn_arm(c, cause) == -1)
		return -1;
	ERR_clear_error();
	errno = 0;
	r = SSL_read(c->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
	saved = errno;
	if (r > 0) {
		*got = (size_t)r;
		return 0;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_ZERO_RETURN) {
		c->eof = 1;
		return 0;
	}
	/*
	 * A close without close_notify. Whether that truncated something is
	 * for the HTTP framing to decide: a Content-Length or chunked body
	 * knows where it ends, and fundd always frames its bodies.
	 */
	if (e == SSL_ERROR_SYSCALL && saved == 0 && ERR_peek_error() == 0) {
		c->eof = c->broken = 1;
		return 0;
	}
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
	if (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) ==
	    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		ERR_clear_error();
		c->eof = c->broken = 1;
		return 0;
	}
#endif
	errno = saved;
	return tls_fail(c, r, "reading the response", cause);
}

int
fc_conn_alerted(const struct fc_conn *c)
{
	return c->alerted;
}

const char *
fc_conn_peer(const struct fc_conn *c)
{
	return c->peer;
}

void
fc_conn_close(struct fc_conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		if (!c->broken && SSL_is_init_finished(c->ssl)) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl);
		}
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		close(c->fd);
	ERR_clear_error();
	free(c->peer);
	free(c);
}
