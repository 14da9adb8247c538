/*
 * http.c: client connections. One state machine per connection (enum conn_state), one
 * teardown function with a reason (conn_close), one request at a time (pipelined
 * requests wait in the input buffer until the previous response has been written), and
 * one place where a request's state is freed (conn_reset_request).
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "auth.h"
#include "config.h"
#include "http.h"
#include "http_conn.h"
#include "http_parse.h"
#include "http_reply.h"
#include "http_route.h"
#include "log.h"
#include "metrics.h"
#include "throttle.h"
#include "tls.h"
#include "util.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)				\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);		\
	    (var) = (tvar))
#endif

#define HTTP_OVERFLOW_CONNS	64	/* past max_connections + this, close without a word */
#define HTTP_LINGER_S		2	/* at most this long for the peer's close */

static void	conn_read(struct conn *);

/* Forget the request, keep the connection: the one place a request's state is freed. */
static void
conn_reset_request(struct conn *c)
{
	struct http_req	*r = &c->req;

	while (r->nheld > 0) {
		r->nheld--;
		r->held[r->nheld].free_fn(r->held[r->nheld].state);
	}
	free(r->body);
	OPENSSL_cleanse(r, sizeof(*r));
	r->c = c;
}

/* The one way a connection ends. */
static void
conn_close(struct conn *c, const char *reason)
{
	struct http	*h = c->h;

	log_msg(LOG_DEBUG, c->peer, NULL, "connection closed: %s", reason);
	conn_reset_request(c);
	TAILQ_REMOVE(&h->conns, c, entry);
	if (!c->reject)
		atomic_fetch_sub(h->admitted, 1);
	metrics_conn_close();
	event_free(c->deadline);
	if (c->ev_throttle != NULL)
		event_free(c->ev_throttle);
	bufferevent_free(c->bev);
	free(c);
	if (atomic_fetch_sub(&h->nconns, 1) == 1 && h->on_idle != NULL)
		h->on_idle(h->arg);
}

static void
conn_arm_deadline(struct conn *c)
{
	struct timeval	tv = { c->h->cfg->io_timeout_s, 0 };

	evtimer_add(c->deadline, &tv);
}

static void
conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	switch (c->state) {
	case CS_LINGERING:
		conn_close(c, "response sent, peer did not close");
		return;
	case CS_CLOSING:
		conn_close(c, "export aborted");
		return;
	case CS_READING:
	case CS_HANDSHAKE:
		conn_close(c, c->req.head_done ||
		    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 ?
		    "request not complete within io_timeout_s" : "idle past io_timeout_s");
		return;
	case CS_BUSY:
	case CS_WRITING:
	case CS_STREAMING:
		return;
	}
}

/* Credentials of this request: the bearer token wins over the client certificate. */
static void
take_credentials(struct conn *c)
{
	struct http_req	*r = &c->req;
	const char	*tok;
	size_t		 tlen;

	r->creds_state = HTTP_CREDS_NONE;
	if (r->head.authorization[0] != '\0' || r->head.auth_too_long) {
		if (r->head.auth_too_long ||
		    (tok = auth_bearer(r->head.authorization, &tlen)) == NULL) {
			r->creds_state = HTTP_CREDS_BAD;
		} else {
			auth_sha256_bytea(tok, tlen, r->creds.token_sha256);
			r->creds_state = HTTP_CREDS_OK;
		}
		OPENSSL_cleanse(r->head.authorization, sizeof(r->head.authorization));
	} else if (c->has_cert) {
		auth_bytea32(c->cert, r->creds.cert_sha256);
		r->creds_state = HTTP_CREDS_OK;
	}
}

static void
throttle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	c->req.route->handler(&c->req);
}

/* The whole request is in: hand it to its route's handler. */
static void
dispatch(struct conn *c)
{
	long	ms;

	c->state = CS_BUSY;
	evtimer_del(c->deadline);
	if (c->reject) {
		http_refuse(&c->req, 503, "too many connections\n");
		return;
	}
	if (c->h->draining)
		c->keepalive = 0;
	/* an address that keeps failing to authenticate waits, on a timer */
	if (!(c->req.route->flags & HTTP_R_UNTHROTTLED) &&
	    (ms = throttle_wait_ms(c->addr, http_req_cred_key(&c->req))) > 0) {
		struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

		if (c->ev_throttle == NULL)
			c->ev_throttle = evtimer_new(c->h->base, throttle_cb, c);
		evtimer_add(c->ev_throttle, &tv);
		return;
	}
	c->req.route->handler(&c->req);
}

/* Route the parsed head; 0 to go on reading the body, or an HTTP status to refuse with
 * (405: allow holds the path's methods). */
static int
route(struct conn *c, char allow[HTTP_ALLOW_MAX])
{
	struct http_req	*r = &c->req;
	int		 status;

	r->route = http_route_find(c->h->routes, c->h->nroutes, r->head.method,
	    r->head.path, &status, allow);
	if (r->route == NULL)
		return status;
	if (r->head.chunked || ((r->route->flags & HTTP_R_LENGTH) &&
	    r->head.content_length < 0))
		return 411;
	if (r->route->flags & HTTP_R_DOCUMENT) {
		if (r->head.content_length > c->h->cfg->max_document_bytes)
			return 413;
		/* room in the input buffer for the whole document */
		bufferevent_setwatermark(c->bev, EV_READ, 0,
		    (size_t)(c->h->cfg->max_header_bytes + c->h->cfg->max_document_bytes +
		    4096));
	} else if (r->head.content_length > c->h->cfg->max_body_bytes)
		return 413;
	return 0;
}

static void
conn_read(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	const struct cfg	*cfg = c->h->cfg;
	struct http_req		*r = &c->req;
	struct evbuffer_ptr	 p;
	size_t			 len, hlen;
	char			 allow[HTTP_ALLOW_MAX], extra[HTTP_ALLOW_MAX + 16];
	int			 rc;

	if (c->state != CS_READING)
		return;
	if (!r->head_done) {
		len = evbuffer_get_length(in);
		if (len == 0)
			return;
		if (c->t0 == 0)
			c->t0 = now_usec();
		p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (p.pos < 0) {
			/* a head ended by bare LFs would wait for a CRLF that never comes */
			if (evbuffer_search(in, "\n\n", 2, NULL).pos >= 0 ||
			    evbuffer_search(in, "\n\r\n", 3, NULL).pos >= 0) {
				http_refuse(r, 400, "malformed request\n");
				return;
			}
			if (len > (size_t)cfg->max_header_bytes)
				http_refuse(r, 431, "request head too large\n");
			return;
		}
		hlen = (size_t)p.pos + 4;
		if (hlen > (size_t)cfg->max_header_bytes) {
			http_refuse(r, 431, "request head too large\n");
			return;
		}
		snprintf(c->reqid, sizeof(c->reqid), "%d-%lu", c->h->id, ++c->h->reqseq);
		rc = http_parse_head((const char *)evbuffer_pullup(in, (ssize_t)hlen), hlen,
		    &r->head);
		evbuffer_drain(in, hlen);
		if (rc != 0) {
			OPENSSL_cleanse(&r->head, sizeof(r->head));
			http_refuse(r, rc, "malformed request\n");
			return;
		}
		c->keepalive = r->head.keepalive;
		r->head_done = 1;
		if ((rc = route(c, allow)) != 0) {
			OPENSSL_cleanse(r->head.authorization, sizeof(r->head.authorization));
			if (rc == 405) {
				c->keepalive = 0;
				snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
				http_reply_text(r, 405, "method not allowed\n", extra);
			} else
				http_refuse(r, rc, rc == 404 ? "not found\n" : rc == 413 ?
				    "request body too large\n" : rc == 411 ?
				    "Content-Length required\n" : "bad request\n");
			return;
		}
		take_credentials(c);
	}
	if (r->head.content_length > 0) {
		if (evbuffer_get_length(in) < (size_t)r->head.content_length)
			return;
		r->body_len = (size_t)r->head.content_length;
		r->body = xmalloc(r->body_len + 1);
		evbuffer_remove(in, r->body, r->body_len);
		r->body[r->body_len] = '\0';
	}
	dispatch(c);
}

static void
conn_readcb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (c->state == CS_LINGERING) {
		struct evbuffer *in = bufferevent_get_input(bev);

		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (c->state == CS_HANDSHAKE)
		return;
	conn_read(c);
}

/*
 * Closing after the last response: closing the socket at once can turn into a TCP reset
 * that makes the peer discard the tail of a large response it has not read yet. So: TLS
 * close_notify, shut the write side, and discard input until the peer closes, for at most
 * HTTP_LINGER_S (as nginx's lingering close).
 */
static void
conn_linger(struct conn *c)
{
	struct timeval	 tv = { HTTP_LINGER_S, 0 };
	SSL		*ssl = bufferevent_openssl_get_ssl(c->bev);

	c->state = CS_LINGERING;
	conn_reset_request(c);
	if (ssl != NULL) {
		ERR_clear_error();
		(void)SSL_shutdown(ssl);	/* queues and sends close_notify */
	}
	(void)shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_enable(c->bev, EV_READ);
	evtimer_add(c->deadline, &tv);
}

static void
conn_writecb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (c->state == CS_STREAMING) {
		if (c->req.drained != NULL)
			c->req.drained(c->req.drained_arg);
		return;
	}
	/* The callback may have been triggered under the streaming low-water mark and run
	 * after the stream ended: a response is done only when nothing is left to send. */
	if (c->state != CS_WRITING || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	if (!c->keepalive) {
		conn_linger(c);
		return;
	}
	conn_reset_request(c);
	c->reqid[0] = '\0';
	c->t0 = 0;
	c->state = CS_READING;
	conn_arm_deadline(c);
	conn_read(c);	/* a pipelined request may be waiting */
}

static void
conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	SSL		*ssl;

	if (what & BEV_EVENT_CONNECTED) {
		ssl = bufferevent_openssl_get_ssl(bev);
		if (ssl != NULL && tls_peer_sha256(ssl, c->cert) == 0)
			c->has_cert = 1;
		c->state = CS_READING;
		conn_read(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		conn_close(c, "write timeout");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long	e = bufferevent_get_openssl_error(bev);
		char		buf[160] = "";

		if (e != 0)
			ERR_error_string_n(e, buf, sizeof(buf));
		conn_close(c, c->state == CS_HANDSHAKE ? (e ? buf : "TLS handshake failed") :
		    (e ? buf : "socket error"));
		return;
	}
	if (what & BEV_EVENT_EOF)
		conn_close(c, c->state == CS_BUSY ? "client went away mid-request" :
		    c->state == CS_LINGERING ? "response sent, peer closed" : "client closed");
}

void
http_accept(struct http *h, evutil_socket_t fd, struct sockaddr *sa, int socklen)
{
	const struct cfg	*cfg = h->cfg;
	struct conn		*c;
	SSL			*ssl;
	struct timeval		 wt = { cfg->io_timeout_s, 0 };
	char			 host[INET6_ADDRSTRLEN] = "?";
	int			 port = 0, n, reject = 0, one = 1;

	(void)socklen;
	if (h->draining) {
		evutil_closesocket(fd);
		return;
	}
	n = atomic_fetch_add(h->admitted, 1);
	if (n >= cfg->max_connections) {
		atomic_fetch_sub(h->admitted, 1);
		metrics_conn_rejected();
		if (n >= cfg->max_connections + HTTP_OVERFLOW_CONNS) {
			evutil_closesocket(fd);
			return;
		}
		reject = 1;
	}
	if ((ssl = tls_ssl_new()) == NULL) {
		log_error("cannot create a TLS session");
		if (!reject)
			atomic_fetch_sub(h->admitted, 1);
		evutil_closesocket(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->h = h;
	c->req.c = c;
	c->reject = reject;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		port = ntohs(s4->sin_port);
		snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
		snprintf(c->addr, sizeof(c->addr), "%s", host);
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		port = ntohs(s6->sin6_port);
		snprintf(c->peer, sizeof(c->peer), "[%s]:%d", host, port);
		snprintf(c->addr, sizeof(c->addr), "%s", host);
	}
	evutil_make_socket_nonblocking(fd);
	/* a response is written as soon as it is complete: no Nagle delay */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->bev = bufferevent_openssl_socket_new(h->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_msg(LOG_ERROR, c->peer, NULL, "cannot create a TLS bufferevent");
		SSL_free(ssl);
		evutil_closesocket(fd);
		if (!reject)
			atomic_fetch_sub(h->admitted, 1);
		free(c);
		return;
	}
	/* a peer that closes without close_notify is an ordinary EOF, not an error */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, conn_readcb, conn_writecb, conn_eventcb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	    (size_t)(cfg->max_header_bytes + cfg->max_body_bytes + 4096));
	bufferevent_set_timeouts(c->bev, NULL, &wt);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->deadline = evtimer_new(h->base, conn_deadline, c);
	c->state = CS_HANDSHAKE;
	TAILQ_INSERT_TAIL(&h->conns, c, entry);
	atomic_fetch_add(&h->nconns, 1);
	metrics_conn_open();
	conn_arm_deadline(c);
	log_msg(LOG_DEBUG, c->peer, NULL, "connection accepted%s",
	    reject ? " over max_connections" : "");
}

/* The context ------------------------------------------------------------------------ */

struct http *
http_new(const struct http_opts *o)
{
	struct http	*h = xcalloc(1, sizeof(*h));

	h->base = o->base;
	h->pool = o->pool;
	h->replica = o->replica;
	h->cfg = o->cfg;
	h->id = o->id;
	h->admitted = o->admitted;
	h->routes = o->routes;
	h->nroutes = o->nroutes;
	h->on_idle = o->on_idle;
	h->arg = o->arg;
	TAILQ_INIT(&h->conns);
	atomic_init(&h->nconns, 0);
	h->scratch = evbuffer_new();
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	http_close_all(h, "exit");
	evbuffer_free(h->scratch);
	free(h);
}

void
http_drain(struct http *h)
{
	struct conn	*c, *t;

	h->draining = 1;
	TAILQ_FOREACH_SAFE(c, &h->conns, entry, t) {
		if (c->state == CS_HANDSHAKE || (c->state == CS_READING && !c->req.head_done &&
		    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0))
			conn_close(c, "shutting down");
		else
			c->keepalive = 0;
	}
}

void
http_close_all(struct http *h, const char *reason)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&h->conns)) != NULL)
		conn_close(c, reason);
}

int
http_conns(struct http *h)
{
	return atomic_load(&h->nconns);
}

/* The request, for its handler -------------------------------------------------------- */

const char *
http_req_peer(const struct http_req *r)
{
	return r->c->peer;
}

const char *
http_req_id(const struct http_req *r)
{
	return r->c->reqid;
}

const char *
http_req_path(const struct http_req *r)
{
	return r->head.path;
}

const struct http_head *
http_req_head(const struct http_req *r)
{
	return &r->head;
}

const char *
http_req_query(const struct http_req *r)
{
	return r->head.query;
}

const char *
http_req_body(const struct http_req *r, size_t *len)
{
	*len = r->body_len;
	return r->body;
}

enum http_creds
http_req_creds(const struct http_req *r, const struct auth_creds **creds)
{
	*creds = &r->creds;
	return r->creds_state;
}

const char *
http_req_cred_key(const struct http_req *r)
{
	if (r->creds_state == HTTP_CREDS_BAD)
		return "bad";
	if (r->creds_state != HTTP_CREDS_OK)
		return "";
	return r->creds.token_sha256[0] != '\0' ? r->creds.token_sha256 :
	    r->creds.cert_sha256;
}

void
http_req_authenticated(struct http_req *r)
{
	r->authenticated = 1;
}

struct event_base *
http_req_base(const struct http_req *r)
{
	return r->c->h->base;
}

struct db_pool *
http_req_pool(const struct http_req *r)
{
	return r->c->h->pool;
}

struct replica *
http_req_replica(const struct http_req *r)
{
	return r->c->h->replica;
}

const struct cfg *
http_req_cfg(const struct http_req *r)
{
	return r->c->h->cfg;
}

void
http_req_hold(struct http_req *r, void *state, void (*free_fn)(void *))
{
	if (r->nheld >= HTTP_REQ_HOLD_MAX)
		fatalx("a request holds more than %d states", HTTP_REQ_HOLD_MAX);
	r->held[r->nheld].state = state;
	r->held[r->nheld].free_fn = free_fn;
	r->nheld++;
}
