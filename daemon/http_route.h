/*
 * http_route.h: a table of routes, {method, path, handler}, and how a request's method
 * and path find theirs. Pure: unit-tested.
 */
#ifndef FUND_HTTP_ROUTE_H
#define FUND_HTTP_ROUTE_H

#include <stddef.h>

struct http_req;

#define HTTP_R_LENGTH		0x01	/* needs Content-Length: 411 without it */
#define HTTP_R_UNTHROTTLED	0x02	/* served at once even to an address that keeps
					 * failing to authenticate (throttle.h) */
#define HTTP_R_PREFIX		0x04	/* path is a prefix ("/documents/"): the rest is
					 * the handler's */
#define HTTP_R_DOCUMENT		0x08	/* the body may be up to max_document_bytes
					 * (else max_body_bytes) */
#define HTTP_R_FALLBACK		0x10	/* with HTTP_R_PREFIX: taken only for a path no
					 * other route has (the web console's files) */

struct http_route {
	const char	*method;	/* "GET", "POST" */
	const char	*path;		/* exact, or a prefix with HTTP_R_PREFIX */
	int		 flags;		/* HTTP_R_* */
	/* Called with the whole request read; it answers, at once or later, through
	 * http_reply.h. */
	void		(*handler)(struct http_req *);
};

#define HTTP_ALLOW_MAX		32	/* "GET, POST" and the NUL */

/*
 * The route of method and path in routes[0..n), or NULL and *status: 404 when no route
 * has the path, 405 when none of its routes has the method; allow then holds its
 * methods, comma-separated ("GET", "GET, POST"). A fallback route answers only a path
 * that no other route has.
 */
const struct http_route	*http_route_find(const struct http_route *routes, size_t n,
			    const char *method, const char *path, int *status,
			    char allow[HTTP_ALLOW_MAX]);

#endif
