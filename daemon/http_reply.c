/* http_reply.c: whole and streamed responses (http_reply.h). */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "http_conn.h"
#include "http_reply.h"
#include "log.h"
#include "metrics.h"
#include "throttle.h"
#include "util.h"

#define HTTP_SEND_NOW_MAX	16384		/* responses up to one TLS record go at once */
#define HTTP_STREAM_LOWAT	(64 * 1024)	/* resume producing below this */
#define HTTP_STREAM_HIWAT	(256 * 1024)	/* pause producing above this */

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

/*
 * Send a small response at once, when nothing else is queued: bufferevent_openssl never
 * writes from the call that queues data, but waits for the loop to report the socket
 * writable, which costs two epoll_ctl calls and a loop iteration per request. A write
 * that would block (or fails) is handed to the bufferevent unchanged: libevent sets
 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, and the response is one contiguous chunk of the
 * same length, which is what OpenSSL needs for the retry (or reports the error again).
 * Returns 1 when everything went out.
 */
static int
send_now(struct conn *c, struct evbuffer *resp)
{
	SSL	*ssl = bufferevent_openssl_get_ssl(c->bev);
	size_t	 len = evbuffer_get_length(resp);

	if (ssl == NULL || len == 0 || len > HTTP_SEND_NOW_MAX ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) != 0 ||
	    !(bufferevent_get_enabled(c->bev) & EV_WRITE))
		return 0;
	ERR_clear_error();
	if (SSL_write(ssl, evbuffer_pullup(resp, -1), (int)len) != (int)len)
		return 0;
	evbuffer_drain(resp, len);
	/* the response is done: the write callback runs from this loop iteration, not
	 * from here */
	bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS |
	    BEV_TRIG_DEFER_CALLBACKS);
	return 1;
}

void
http_reply(struct http_req *r, int status, const char *ctype, const char *body, size_t len,
    const char *extra)
{
	http_reply_cache(r, status, ctype, body, len, "no-store", extra);
}

void
http_reply_cache(struct http_req *r, int status, const char *ctype, const char *body,
    size_t len, const char *cache, const char *extra)
{
	struct conn	*c = r->c;
	struct evbuffer	*out = c->h->scratch;
	int		 bodyless = status == 204 || status == 304;

	if (c->h->draining)
		c->keepalive = 0;
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nServer: fundd\r\n", status,
	    status_text(status));
	if (!bodyless)
		evbuffer_add_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    ctype, len);
	if (c->reqid[0] != '\0')
		evbuffer_add_printf(out, "X-Request-Id: %s\r\n", c->reqid);
	evbuffer_add_printf(out, "Cache-Control: %s\r\n" HTTP_SECURITY_HEADERS
	    "Connection: %s\r\n%s\r\n", cache, c->keepalive ? "keep-alive" : "close",
	    extra != NULL ? extra : "");
	if (!bodyless && len > 0)
		evbuffer_add(out, body, len);
	metrics_http(status);
	if (status == 401)
		throttle_failed(c->addr, http_req_cred_key(r));
	else if (r->authenticated)
		throttle_ok(c->addr, http_req_cred_key(r));
	log_msg(status >= 500 ? LOG_WARN : LOG_DEBUG, c->peer, c->reqid[0] ? c->reqid : NULL,
	    "%s %s -> %d (%lld us)", r->head.method[0] ? r->head.method : "-",
	    r->head.path[0] ? r->head.path : "-", status,
	    c->t0 ? now_usec() - c->t0 : 0LL);
	c->state = CS_WRITING;
	if (!send_now(c, out)) {
		bufferevent_write_buffer(c->bev, out);
		bufferevent_enable(c->bev, EV_WRITE);
	}
}

void
http_reply_text(struct http_req *r, int status, const char *text, const char *extra)
{
	http_reply(r, status, "text/plain; charset=utf-8", text, strlen(text), extra);
}

void
http_refuse(struct http_req *r, int status, const char *text)
{
	r->c->keepalive = 0;
	http_reply_text(r, status, text, NULL);
}

/* Streaming ------------------------------------------------------------------------- */

void
http_stream_begin(struct http_req *r, const char *ctype, const char *extra)
{
	struct conn	*c = r->c;
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nServer: fundd\r\nContent-Type: %s\r\n"
	    "Transfer-Encoding: chunked\r\nX-Request-Id: %s\r\nCache-Control: no-store\r\n"
	    HTTP_SECURITY_HEADERS "Connection: %s\r\n%s\r\n", ctype, c->reqid, c->keepalive ? "keep-alive" : "close",
	    extra != NULL ? extra : "");
	metrics_http(200);
	if (r->authenticated)
		throttle_ok(c->addr, http_req_cred_key(r));
	c->state = CS_STREAMING;
	r->stream_head_sent = 1;
	bufferevent_setwatermark(c->bev, EV_WRITE, HTTP_STREAM_LOWAT, 0);
	bufferevent_enable(c->bev, EV_WRITE);
}

void
http_stream_chunk(struct http_req *r, struct evbuffer *data)
{
	struct evbuffer	*out = bufferevent_get_output(r->c->bev);
	size_t		 n = evbuffer_get_length(data);

	if (n == 0)
		return;
	evbuffer_add_printf(out, "%zx\r\n", n);
	evbuffer_add_buffer(out, data);
	evbuffer_add(out, "\r\n", 2);
}

int
http_stream_full(struct http_req *r)
{
	return evbuffer_get_length(bufferevent_get_output(r->c->bev)) >= HTTP_STREAM_HIWAT;
}

void
http_stream_on_drain(struct http_req *r, void (*cb)(void *), void *arg)
{
	r->drained = cb;
	r->drained_arg = arg;
}

/* The last chunk: the response then completes like any other. */
void
http_stream_end(struct http_req *r)
{
	struct conn	*c = r->c;

	evbuffer_add(bufferevent_get_output(c->bev), "0\r\n\r\n", 5);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	r->drained = NULL;
	c->state = CS_WRITING;
	log_msg(LOG_INFO, c->peer, c->reqid, "GET %s -> 200 streamed (%lld us)", r->head.path,
	    now_usec() - c->t0);
}

void
http_stream_abort(struct http_req *r, const char *reason)
{
	struct conn	*c = r->c;

	log_msg(LOG_ERROR, c->peer, c->reqid, "export aborted: %s", reason);
	r->drained = NULL;
	if (!r->stream_head_sent) {
		c->state = CS_BUSY;
		http_refuse(r, 503, "export failed: database unavailable; retry later\n");
		return;
	}
	c->state = CS_CLOSING;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	event_active(c->deadline, EV_TIMEOUT, 0);
}
