/*
 * http_parse.h: HTTP/1.1 request head parser (RFC 9112 subset). Pure: no I/O, no global
 * state, suitable for unit tests and fuzzing.
 */
#ifndef FUND_HTTP_PARSE_H
#define FUND_HTTP_PARSE_H

#include <stddef.h>

#define HTTP_MAX_TARGET		2048

struct http_head {
	char		 method[8];
	char		 path[HTTP_MAX_TARGET];	/* target before '?' */
	char		 query[HTTP_MAX_TARGET];	/* after '?', or "" */
	int		 minor;			/* HTTP/1.x */
	long long	 content_length;	/* -1: none */
	int		 chunked;		/* Transfer-Encoding present */
	int		 keepalive;
	int		 has_host;
	char		 authorization[600];	/* raw value; the caller wipes it */
	char		 content_type[128];	/* raw value, or "" (too long: "") */
	char		 idempotency_key[130];	/* raw value, or "" */
	char		 if_none_match[80];	/* raw value, or "" (too long: "") */
	int		 accept_gzip;		/* Accept-Encoding allows gzip */
	int		 idem_too_long;
	int		 auth_too_long;
	int		 auth_seen;
};

/* Parse the head in buf[0..len), which ends with the blank line ("\r\n\r\n"; a bare "\n"
 * line end is malformed). The target is origin-form ("/rpc?x") or absolute-form
 * ("https://host/rpc?x", RFC 9112 3.2.2: path is what follows the authority, "/" when
 * nothing does). Returns 0, or the HTTP status to answer with: 400 malformed, 414 target
 * too long, 505 not HTTP/1.x. */
int	http_parse_head(const char *buf, size_t len, struct http_head *out);

/* Percent-decode n bytes of a query string's key or value (src) into dst (dstlen bytes,
 * NUL-terminated; '+' is a space); -1 if malformed or too long. */
int	http_url_decode(const char *src, size_t n, char *dst, size_t dstlen);

/* The next key=value pair of the query string at *p, each percent-decoded (into key and
 * val, NUL-terminated), *p moved past it: 1, or 0 at the end, or -1 when the pair has no
 * '=' or a part is malformed or too long. */
int	http_query_next(const char **p, char *key, size_t klen, char *val, size_t vlen);

#endif
