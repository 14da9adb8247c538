/*
 * http.h: HTTP/1.1 over TLS on bufferevent_openssl, with framing of our own rather than
 * evhttp: we need a whole-request deadline (evhttp's timeouts are per inactivity), a
 * refusal past max_connections that still answers 503, credentials taken per request
 * (so a revoked token fails on a keep-alive connection), and streamed responses with
 * back-pressure; and the head parser stays a pure function we can fuzz.
 */
#ifndef FUND_HTTP_H
#define FUND_HTTP_H

#include <sys/socket.h>
#include <event2/util.h>

struct conn;
struct evbuffer;
struct event_base;
struct worker;

/* A new TCP connection on w. */
void	http_accept(struct worker *, evutil_socket_t, struct sockaddr *, int socklen);
/* SIGTERM: close idle connections; the others close after their current response. */
void	http_drain(struct worker *);
/* Close every connection at once (drain deadline, exit). */
void	http_close_all(struct worker *, const char *reason);

/*
 * Streaming responses (chunked), for export.c. begin sends the head; chunk frames and
 * queues data (emptying it); full says the output is past the high-water mark, and the
 * on_drain callback runs once it falls below the low one; end sends the last chunk;
 * abort closes the connection (a truncated stream must not look complete).
 */
void		 http_stream_begin(struct conn *, const char *ctype, const char *extra);
void		 http_stream_chunk(struct conn *, struct evbuffer *);
int		 http_stream_full(struct conn *);
void		 http_stream_on_drain(struct conn *, void (*)(void *));
void		 http_stream_end(struct conn *);
void		 http_stream_abort(struct conn *, const char *reason);
const char	*http_conn_peer(struct conn *);
const char	*http_conn_reqid(struct conn *);
struct event_base *http_conn_base(struct conn *);

#endif
