/*
 * http.h: HTTP/1.1 over TLS on bufferevent_openssl, with framing of our own rather than
 * evhttp: we need a whole-request deadline (evhttp's timeouts are per inactivity), a
 * refusal past max_connections that still answers 503, credentials taken per request
 * (so a revoked token fails on a keep-alive connection), and streamed responses with
 * back-pressure; and the head parser stays a pure function we can fuzz.
 *
 * One context (struct http) per event loop: its connections, each reading one request at
 * a time, routed by a table (http_route.h) to a handler, which answers through
 * http_reply.h. A handler hands what it allocates for a request to the request
 * (http_req_hold); the connection frees it when the request ends, and nothing else does.
 */
#ifndef FUND_HTTP_H
#define FUND_HTTP_H

#include <sys/socket.h>
#include <stdatomic.h>
#include <stddef.h>

#include <event2/util.h>

#include "auth.h"

struct cfg;
struct db_pool;
struct event_base;
struct http;
struct http_req;
struct http_route;
struct replica;

struct http_opts {
	struct event_base	*base;
	struct db_pool		*pool;		/* the handlers' (http_req_pool) */
	struct replica		*replica;	/* where their reads go (http_req_replica) */
	const struct cfg	*cfg;		/* limits and io_timeout_s; the handlers' too */
	int			 id;		/* request ids are "<id>-<sequence>" */
	/* open connections of every context together, checked against max_connections
	 * (the caller's; any thread) */
	atomic_int		*admitted;
	const struct http_route	*routes;	/* must outlive the context */
	size_t			 nroutes;
	/* called when the last open connection has closed */
	void			(*on_idle)(void *arg);
	void			*arg;
};

struct http	*http_new(const struct http_opts *);
/* Close every connection ("exit") and free the context. */
void		 http_free(struct http *);
/* A new TCP connection (the context takes fd). */
void		 http_accept(struct http *, evutil_socket_t fd, struct sockaddr *, int socklen);
/* SIGTERM: accept no more, close idle connections; the others close after their current
 * response. */
void		 http_drain(struct http *);
/* Close every connection at once (drain deadline, exit). */
void		 http_close_all(struct http *, const char *reason);
/* Open connections; any thread may ask. */
int		 http_conns(struct http *);

/* A request, as its handler sees it. Valid until the request ends. */
enum http_creds {
	HTTP_CREDS_NONE,	/* neither a token nor a client certificate */
	HTTP_CREDS_BAD,		/* an Authorization header that is not a bearer token */
	HTTP_CREDS_OK,
};

const char		*http_req_peer(const struct http_req *);
const char		*http_req_id(const struct http_req *);
const char		*http_req_path(const struct http_req *);
const char		*http_req_query(const struct http_req *);	/* after '?', or "" */
/* The parsed head (its Content-Type and Idempotency-Key among the rest). */
const struct http_head	*http_req_head(const struct http_req *);
/* The body (NUL-terminated; NULL when there is none) and its length. */
const char		*http_req_body(const struct http_req *, size_t *len);
/* The request's credentials (bearer token first, else client certificate). */
enum http_creds		 http_req_creds(const struct http_req *, const struct auth_creds **);
/* The request's credentials were found good (by the database or the credentials cache):
 * its answer ends their slow-down (throttle.h). */
void			 http_req_authenticated(struct http_req *);
struct event_base	*http_req_base(const struct http_req *);
struct db_pool		*http_req_pool(const struct http_req *);
struct replica		*http_req_replica(const struct http_req *);
const struct cfg	*http_req_cfg(const struct http_req *);

/* The request owns state from now on: free_fn(state) runs exactly once, when the request
 * ends (its response is written, or the connection closes), never earlier; states go in
 * the reverse order of their holding. A request holds a few at most (a handler's, and
 * h_auth's before it). */
void			 http_req_hold(struct http_req *, void *state,
			    void (*free_fn)(void *));

#endif
