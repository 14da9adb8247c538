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

struct worker;

/* A new TCP connection on w. */
void	http_accept(struct worker *, evutil_socket_t, struct sockaddr *, int socklen);
/* SIGTERM: close idle connections; the others close after their current response. */
void	http_drain(struct worker *);
/* Close every connection at once (drain deadline, exit). */
void	http_close_all(struct worker *, const char *reason);

#endif
