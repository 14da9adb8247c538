/*
 * http_reply.h: answering a request (http.h): a whole response with Content-Length, or a
 * chunked one produced piece by piece with back-pressure (the exports).
 */
#ifndef FUND_HTTP_REPLY_H
#define FUND_HTTP_REPLY_H

#include <stddef.h>

struct evbuffer;
struct http_req;

/* On every response: only this origin's scripts, styles, images and connections, never
 * in a frame, no type sniffing, no Referer, HTTPS only. */
#define HTTP_SECURITY_HEADERS \
	"Content-Security-Policy: default-src 'self'; script-src 'self'; " \
	"style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; " \
	"object-src 'none'; base-uri 'none'; form-action 'self'; " \
	"frame-ancestors 'none'\r\n" \
	"X-Content-Type-Options: nosniff\r\n" \
	"Referrer-Policy: no-referrer\r\n" \
	"Strict-Transport-Security: max-age=31536000\r\n"

/* Send (or queue) the response; body is copied; extra: more header lines, each ending in
 * "\r\n", or NULL. The request ends once it is written. Every response carries the
 * security headers of HTTP_SECURITY_HEADERS (docs/web.md). */
void	http_reply(struct http_req *, int status, const char *ctype, const char *body,
	    size_t len, const char *extra);
/* The same with its Cache-Control value (http_reply's is "no-store"); a 304 carries no
 * body. */
void	http_reply_cache(struct http_req *, int status, const char *ctype, const char *body,
	    size_t len, const char *cache, const char *extra);
void	http_reply_text(struct http_req *, int status, const char *text, const char *extra);
/* An HTTP-level refusal: answer, then close the connection (the stream may be out of
 * step). */
void	http_refuse(struct http_req *, int status, const char *text);

/*
 * Streaming. begin sends the head (200, chunked); chunk frames and queues data (emptying
 * it); full says the output is past the high-water mark, and on_drain's callback runs
 * once it falls below the low one; end sends the last chunk, and the request ends once
 * everything is written. abort: the stream cannot finish; before begin the client gets a
 * 503, after it the connection closes without the last chunk (a truncated body must not
 * look whole), from the loop, so the producer that called it is still there when it
 * returns (the request frees it when it ends, like any held state).
 */
void	http_stream_begin(struct http_req *, const char *ctype, const char *extra);
void	http_stream_chunk(struct http_req *, struct evbuffer *data);
int	http_stream_full(struct http_req *);
void	http_stream_on_drain(struct http_req *, void (*cb)(void *), void *arg);
void	http_stream_end(struct http_req *);
void	http_stream_abort(struct http_req *, const char *reason);

#endif
