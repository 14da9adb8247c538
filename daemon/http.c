/*
 * http.c: client connections. One state machine per connection (enum conn_state), one
 * teardown function with a reason (conn_close), one request at a time (pipelined
 * requests wait in the input buffer until the previous response has been written).
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
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "auth.h"
#include "config.h"
#include "db_pool.h"
#include "export.h"
#include "http.h"
#include "http_parse.h"
#include "log.h"
#include "metrics.h"
#include "queries.h"
#include "rpc.h"
#include "rpc_error.h"
#include "rpc_exec.h"
#include "server.h"
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
#define HTTP_SEND_NOW_MAX	16384	/* responses up to one TLS record go out at once */

enum conn_state {
	CS_HANDSHAKE,	/* TLS handshake under way */
	CS_READING,	/* reading a request head and body */
	CS_BUSY,	/* a request is being answered (database work) */
	CS_WRITING,	/* the response is being flushed */
	CS_STREAMING,	/* a chunked response is being produced (export.c) */
	CS_LINGERING,	/* response sent, write side shut: waiting for the peer's close */
};

enum route { R_NONE, R_RPC, R_HEALTHZ, R_METRICS, R_EXPORT_LEDGER, R_EXPORT_AUDIT };

/* What an audit event calls a refused request that is not a call (docs/audit.md). */
static const char *const route_audit_name[] = {
	[R_NONE] = "http.none", [R_RPC] = "http.rpc", [R_HEALTHZ] = "http.healthz",
	[R_METRICS] = "http.metrics", [R_EXPORT_LEDGER] = "http.export_ledger",
	[R_EXPORT_AUDIT] = "http.export_audit",
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct worker		*w;
	struct bufferevent	*bev;
	enum conn_state		 state;
	char			 peer[64];
	char			 addr[48];	/* the peer's address, without the port */
	struct event		*ev_throttle;	/* a slowed-down request waits on it */
	char			 reqid[32];
	struct event		*deadline;
	int			 reject;	/* over max_connections: answer 503 */
	int			 keepalive;
	int			 has_cert;
	unsigned char		 cert[32];
	int			 head_done;
	struct http_head	 head;
	enum route		 route;
	struct auth_creds	 auth;
	int			 has_auth;
	int			 bad_auth;
	char			*body;
	size_t			 body_len;
	struct rpc_batch	*batch;
	struct rpc_exec		*exec;
	struct db_query		*q;
	struct export		*exp;		/* CS_STREAMING */
	void			(*drained)(void *);	/* CS_STREAMING: output drained */
	int			 stream_head_sent;	/* CS_STREAMING: 200 and headers out */
	long long		 t0;
};

static void	conn_read(struct conn *);
static void	conn_linger(struct conn *);

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
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

/* Forget the request, keep the connection. */
static void
conn_reset_request(struct conn *c)
{
	if (c->exec != NULL) {
		rpc_exec_free(c->exec);
		c->exec = NULL;
	}
	if (c->q != NULL) {
		db_cancel(c->q);
		c->q = NULL;
	}
	if (c->exp != NULL) {
		export_free(c->exp);
		c->exp = NULL;
	}
	c->drained = NULL;
	c->stream_head_sent = 0;
	rpc_batch_free(c->batch);
	c->batch = NULL;
	free(c->body);
	c->body = NULL;
	c->body_len = 0;
	OPENSSL_cleanse(&c->head, sizeof(c->head));
	OPENSSL_cleanse(&c->auth, sizeof(c->auth));
	c->head_done = 0;
	c->has_auth = c->bad_auth = 0;
	c->route = R_NONE;
}

/* The one way a connection ends. */
static void
conn_close(struct conn *c, const char *reason)
{
	struct worker	*w = c->w;

	log_msg(LOG_DEBUG, c->peer, NULL, "connection closed: %s", reason);
	conn_reset_request(c);
	TAILQ_REMOVE(&w->conns, c, entry);
	w->nconns--;
	atomic_fetch_sub(&w->load, 1);
	if (!c->reject)
		atomic_fetch_sub(&w->srv->conns, 1);
	metrics_conn_close();
	event_free(c->deadline);
	if (c->ev_throttle != NULL)
		event_free(c->ev_throttle);
	bufferevent_free(c->bev);
	free(c);
	worker_check_drained(w);
}

static void
conn_arm_deadline(struct conn *c)
{
	struct timeval	tv = { c->w->srv->cfg->io_timeout_s, 0 };

	evtimer_add(c->deadline, &tv);
}

static void
conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)what;
	if (c->state == CS_LINGERING) {
		conn_close(c, "response sent, peer did not close");
		return;
	}
	if (c->state == CS_READING || c->state == CS_HANDSHAKE)
		conn_close(c, c->head_done || evbuffer_get_length(bufferevent_get_input(c->bev))
		    > 0 ? "request not complete within io_timeout_s" : "idle past io_timeout_s");
}

/*
 * Send a small response at once, when nothing else is queued. bufferevent_openssl never
 * writes from the call that queues data: it adds the write event, waits for the loop to
 * report the socket writable, writes, and deletes the event again, which is two epoll_ctl
 * calls and one more loop iteration per request. A write that would block (or fails) is
 * handed to the bufferevent unchanged: libevent sets SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER,
 * and the response is one contiguous chunk of the same length, which is what OpenSSL needs
 * for the retry (or reports the error again). Returns 1 when everything went out.
 */
static int
conn_send_now(struct conn *c, struct evbuffer *resp)
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
	/* the response is done: conn_writecb, from this loop iteration, not from here */
	bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS |
	    BEV_TRIG_DEFER_CALLBACKS);
	return 1;
}

/* Send or queue a whole response; extra: more header lines, each ending in \r\n. */
static void
conn_reply(struct conn *c, int status, const char *ctype, const char *body, size_t len,
    const char *extra)
{
	struct evbuffer	*out = c->w->scratch;

	if (c->w->draining)
		c->keepalive = 0;
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nServer: fundd\r\n", status,
	    status_text(status));
	if (status != 204)
		evbuffer_add_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    ctype, len);
	if (c->reqid[0] != '\0')
		evbuffer_add_printf(out, "X-Request-Id: %s\r\n", c->reqid);
	evbuffer_add_printf(out, "Cache-Control: no-store\r\nConnection: %s\r\n%s\r\n",
	    c->keepalive ? "keep-alive" : "close", extra != NULL ? extra : "");
	if (status != 204 && len > 0)
		evbuffer_add(out, body, len);
	metrics_http(status);
	if (status == 401)
		throttle_failed(c->addr);
	log_msg(status >= 500 ? LOG_WARN : LOG_DEBUG, c->peer, c->reqid[0] ? c->reqid : NULL,
	    "%s %s -> %d (%lld us)", c->head.method[0] ? c->head.method : "-",
	    c->head.path[0] ? c->head.path : "-", status,
	    c->t0 ? now_usec() - c->t0 : 0LL);
	c->state = CS_WRITING;
	if (!conn_send_now(c, out)) {
		bufferevent_write_buffer(c->bev, out);
		bufferevent_enable(c->bev, EV_WRITE);
	}
}

static void
conn_reply_text(struct conn *c, int status, const char *text, const char *extra)
{
	conn_reply(c, status, "text/plain; charset=utf-8", text, strlen(text), extra);
}

/* An HTTP-level refusal: answer and close (the stream may be out of sync). */
static void
conn_refuse(struct conn *c, int status, const char *text)
{
	c->keepalive = 0;
	conn_reply_text(c, status, text, NULL);
}

static void
conn_reply_rpc_error(struct conn *c, int status, int code, const char *reason)
{
	char	*body;

	body = xasprintf("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":%d,\"message\":\"%s\","
	    "\"data\":{\"reason\":\"%s\"}},\"id\":null}", code, rpc_error_message(code),
	    reason);
	conn_reply(c, status, "application/json", body, strlen(body),
	    status == 401 ? "WWW-Authenticate: Bearer realm=\"fundd\"\r\n" : NULL);
	free(body);
}

/* /rpc -------------------------------------------------------------------------------- */

static void
rpc_done(void *arg)
{
	struct conn	*c = arg;
	char		*body;
	int		 status;

	body = rpc_render(c->batch, &status);
	conn_reply(c, status, "application/json", body != NULL ? body : "",
	    body != NULL ? strlen(body) : 0,
	    status == 401 ? "WWW-Authenticate: Bearer realm=\"fundd\"\r\n" :
	    status == 503 ? "Retry-After: 1\r\n" : NULL);
	free(body);
	rpc_exec_free(c->exec);
	c->exec = NULL;
}

static void
serve_rpc(struct conn *c)
{
	c->batch = rpc_parse(c->body, c->body_len);
	c->exec = rpc_exec_start(c->w->pool, c->batch, &c->auth, c->reqid, c->peer,
	    rpc_done, c);
}

/* /healthz and /metrics ---------------------------------------------------------------- */

static void
healthz_result(void *arg, enum db_status st, const PGresult *res)
{
	struct conn	*c = arg;

	c->q = NULL;
	if (st == DB_OK && PQresultStatus(res) == PGRES_TUPLES_OK)
		conn_reply_text(c, 200, "ok\n", NULL);
	else
		conn_reply_text(c, 503, "database unavailable\n", "Retry-After: 1\r\n");
}

/* The answer of api.authorize: {"principal": ...} or {"error": {code, ...}}. Returns the
 * JSON-RPC error code (0 when authorised), and the reason of a refusal. */
static int
authorize_result(enum db_status st, const PGresult *res, char *reason, size_t rlen)
{
	cJSON		*o, *e, *code, *r;
	int		 rc = RPC_DB_UNAVAILABLE;

	snprintf(reason, rlen, "database_unavailable");
	if (st != DB_OK || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    (o = cJSON_Parse(PQgetvalue(res, 0, 0))) == NULL)
		return rc;
	rc = 0;
	if ((e = cJSON_GetObjectItemCaseSensitive(o, "error")) != NULL) {
		code = cJSON_GetObjectItemCaseSensitive(e, "code");
		r = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "data"),
		    "reason");
		rc = cJSON_IsNumber(code) ? code->valueint : RPC_INTERNAL_ERROR;
		snprintf(reason, rlen, "%s", cJSON_IsString(r) ? r->valuestring : "refused");
	}
	cJSON_Delete(o);
	return rc;
}

/* /metrics and the exports: authorised (or refused, and the refusal audited) in SQL. */
static void
endpoint_result(void *arg, enum db_status st, const PGresult *res)
{
	struct conn		*c = arg;
	struct evbuffer		*b;
	struct pool_stats	 ps;
	char			 reason[64];
	int			 code;

	c->q = NULL;
	switch ((code = authorize_result(st, res, reason, sizeof(reason)))) {
	case 0:
		break;
	case RPC_UNAUTHENTICATED:
		conn_reply_rpc_error(c, 401, RPC_UNAUTHENTICATED, reason);
		return;
	case RPC_FORBIDDEN:
		conn_reply_rpc_error(c, 403, RPC_FORBIDDEN, reason);
		return;
	case RPC_DB_UNAVAILABLE:
		conn_reply_rpc_error(c, 503, RPC_DB_UNAVAILABLE, reason);
		return;
	default:
		conn_reply_rpc_error(c, 500, RPC_INTERNAL_ERROR, "internal_error");
		return;
	}
	if (c->route == R_EXPORT_LEDGER || c->route == R_EXPORT_AUDIT) {
		int	 status;
		char	*err = NULL;

		c->state = CS_STREAMING;
		if ((status = export_start(c, c->route == R_EXPORT_AUDIT ? EXPORT_AUDIT :
		    EXPORT_LEDGER, c->w->srv->cfg->dsn, c->head.query, &c->exp, &err)) != 0) {
			c->state = CS_BUSY;
			conn_refuse(c, status, err);
			free(err);
		}
		return;
	}
	b = evbuffer_new();
	server_pool_stats(c->w->srv, &ps);
	metrics_render(b, &ps);
	conn_reply(c, 200, "text/plain; version=0.0.4; charset=utf-8",
	    (const char *)evbuffer_pullup(b, -1), evbuffer_get_length(b), NULL);
	evbuffer_free(b);
}

/* A call without usable credentials: 401 once the refusal is audited (or the database
 * could not take it; the log has it then). */
static void
refusal_result(void *arg, enum db_status st, const PGresult *res)
{
	struct conn	*c = arg;
	char		 reason[64];

	c->q = NULL;
	if (authorize_result(st, res, reason, sizeof(reason)) != RPC_UNAUTHENTICATED) {
		log_msg(LOG_WARN, c->peer, c->reqid, "refused %s not audited: %s",
		    route_audit_name[c->route], reason);
		snprintf(reason, sizeof(reason), "%s", c->bad_auth ?
		    "bad_authorization_header" : "no_credentials");
	}
	conn_reply_rpc_error(c, 401, RPC_UNAUTHENTICATED, reason);
}

static void
authorize(struct conn *c, const char *roles, const char *reason, db_cb cb)
{
	const char	*vals[6];

	vals[5] = NULL;
	vals[0] = c->auth.token_sha256[0] != '\0' ? c->auth.token_sha256 : NULL;
	vals[1] = c->auth.cert_sha256[0] != '\0' ? c->auth.cert_sha256 : NULL;
	vals[2] = route_audit_name[c->route];
	vals[3] = roles;
	vals[4] = reason;
	c->q = db_query(c->w->pool, Q_AUTHORIZE, vals, 0, cb, c);
}

/* Request handling ----------------------------------------------------------------- */

/* Credentials of this request: the bearer token wins over the client certificate. */
static void
take_credentials(struct conn *c)
{
	const char	*tok;
	size_t		 tlen;

	if (c->head.authorization[0] != '\0' || c->head.auth_too_long) {
		if (c->head.auth_too_long ||
		    (tok = auth_bearer(c->head.authorization, &tlen)) == NULL) {
			c->bad_auth = 1;
		} else {
			auth_sha256_bytea(tok, tlen, c->auth.token_sha256);
			c->has_auth = 1;
		}
		OPENSSL_cleanse(c->head.authorization, sizeof(c->head.authorization));
	} else if (c->has_cert) {
		auth_bytea32(c->cert, c->auth.cert_sha256);
		c->has_auth = 1;
	}
}

static void	dispatch_route(struct conn *);

static void
throttle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dispatch_route(arg);
}

static void
dispatch(struct conn *c)
{
	long	ms;

	c->state = CS_BUSY;
	evtimer_del(c->deadline);
	if (c->reject) {
		conn_refuse(c, 503, "too many connections\n");
		return;
	}
	if (c->w->draining)
		c->keepalive = 0;
	/* an address that keeps failing to authenticate waits, on a timer */
	if (c->route != R_HEALTHZ && (ms = throttle_wait_ms(c->addr)) > 0) {
		struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

		if (c->ev_throttle == NULL)
			c->ev_throttle = evtimer_new(c->w->base, throttle_cb, c);
		evtimer_add(c->ev_throttle, &tv);
		return;
	}
	dispatch_route(c);
}

static void
dispatch_route(struct conn *c)
{
	switch (c->route) {
	case R_HEALTHZ:
		c->q = db_query(c->w->pool, Q_PING, NULL, 0, healthz_result, c);
		return;
	case R_METRICS:
	case R_EXPORT_LEDGER:
	case R_EXPORT_AUDIT:
	case R_RPC:
		if (c->bad_auth || !c->has_auth) {
			authorize(c, "{}", c->bad_auth ? "bad_authorization_header" :
			    "no_credentials", refusal_result);
			return;
		}
		if (c->route == R_RPC)
			serve_rpc(c);
		else
			authorize(c, "{admin,auditor}", NULL, endpoint_result);
		return;
	case R_NONE:
		break;
	}
	conn_refuse(c, 500, "no route\n");
}

/* Route the parsed head; 0 to go on reading the body, or an HTTP status to refuse. */
static int
route(struct conn *c)
{
	const char	*m = c->head.method;
	int		 get = strcmp(m, "GET") == 0;

	if (strcmp(c->head.path, "/rpc") == 0) {
		if (strcmp(m, "POST") != 0)
			return 405;
		c->route = R_RPC;
		if (c->head.chunked || c->head.content_length < 0)
			return 411;
	} else if (strcmp(c->head.path, "/healthz") == 0) {
		if (!get)
			return 405;
		c->route = R_HEALTHZ;
	} else if (strcmp(c->head.path, "/metrics") == 0) {
		if (!get)
			return 405;
		c->route = R_METRICS;
	} else if (strcmp(c->head.path, "/export/ledger") == 0) {
		if (!get)
			return 405;
		c->route = R_EXPORT_LEDGER;
	} else if (strcmp(c->head.path, "/export/audit") == 0) {
		if (!get)
			return 405;
		c->route = R_EXPORT_AUDIT;
	} else
		return 404;
	if (c->head.chunked)
		return 411;
	if (c->head.content_length > c->w->srv->cfg->max_body_bytes)
		return 413;
	return 0;
}

static void
conn_read(struct conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	const struct cfg	*cfg = c->w->srv->cfg;
	struct evbuffer_ptr	 p;
	size_t			 len, hlen;
	int			 rc;

	if (c->state != CS_READING)
		return;
	if (!c->head_done) {
		len = evbuffer_get_length(in);
		if (len == 0)
			return;
		if (c->t0 == 0)
			c->t0 = now_usec();
		p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (p.pos < 0) {
			if (len > (size_t)cfg->max_header_bytes)
				conn_refuse(c, 431, "request head too large\n");
			return;
		}
		hlen = (size_t)p.pos + 4;
		if (hlen > (size_t)cfg->max_header_bytes) {
			conn_refuse(c, 431, "request head too large\n");
			return;
		}
		snprintf(c->reqid, sizeof(c->reqid), "%d-%lu", c->w->id, ++c->w->reqseq);
		rc = http_parse_head((const char *)evbuffer_pullup(in, (ssize_t)hlen), hlen,
		    &c->head);
		evbuffer_drain(in, hlen);
		if (rc != 0) {
			OPENSSL_cleanse(&c->head, sizeof(c->head));
			conn_refuse(c, rc, "malformed request\n");
			return;
		}
		c->keepalive = c->head.keepalive;
		c->head_done = 1;
		if ((rc = route(c)) != 0) {
			OPENSSL_cleanse(c->head.authorization, sizeof(c->head.authorization));
			if (rc == 405) {
				c->keepalive = 0;
				conn_reply_text(c, 405, "method not allowed\n", c->route ==
				    R_RPC || strcmp(c->head.path, "/rpc") == 0 ?
				    "Allow: POST\r\n" : "Allow: GET\r\n");
			} else
				conn_refuse(c, rc, rc == 404 ? "not found\n" : rc == 413 ?
				    "request body too large\n" : rc == 411 ?
				    "Content-Length required\n" : "bad request\n");
			return;
		}
		take_credentials(c);
	}
	if (c->head.content_length > 0) {
		if (evbuffer_get_length(in) < (size_t)c->head.content_length)
			return;
		c->body_len = (size_t)c->head.content_length;
		c->body = xmalloc(c->body_len + 1);
		evbuffer_remove(in, c->body, c->body_len);
		c->body[c->body_len] = '\0';
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
		if (c->drained != NULL)
			c->drained(c->exp);
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
http_accept(struct worker *w, evutil_socket_t fd, struct sockaddr *sa, int socklen)
{
	const struct cfg	*cfg = w->srv->cfg;
	struct conn		*c;
	SSL			*ssl;
	struct timeval		 wt = { cfg->io_timeout_s, 0 };
	char			 host[INET6_ADDRSTRLEN] = "?";
	int			 port = 0, n, reject = 0;

	(void)socklen;
	if (w->draining) {
		evutil_closesocket(fd);
		return;
	}
	n = atomic_fetch_add(&w->srv->conns, 1);
	if (n >= cfg->max_connections) {
		atomic_fetch_sub(&w->srv->conns, 1);
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
			atomic_fetch_sub(&w->srv->conns, 1);
		evutil_closesocket(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->w = w;
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
	{
		/* a response is written as soon as it is complete: no Nagle delay */
		int one = 1;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	c->bev = bufferevent_openssl_socket_new(w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_msg(LOG_ERROR, c->peer, NULL, "cannot create a TLS bufferevent");
		SSL_free(ssl);
		evutil_closesocket(fd);
		if (!reject)
			atomic_fetch_sub(&w->srv->conns, 1);
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
	c->deadline = evtimer_new(w->base, conn_deadline, c);
	c->state = CS_HANDSHAKE;
	TAILQ_INSERT_TAIL(&w->conns, c, entry);
	w->nconns++;
	atomic_fetch_add(&w->load, 1);
	metrics_conn_open();
	conn_arm_deadline(c);
	log_msg(LOG_DEBUG, c->peer, NULL, "connection accepted%s",
	    reject ? " over max_connections" : "");
}

/* Streaming responses (export.c) -------------------------------------------------------- */

#define HTTP_STREAM_LOWAT	(64 * 1024)	/* resume producing below this */
#define HTTP_STREAM_HIWAT	(256 * 1024)	/* pause producing above this */

void
http_stream_begin(struct conn *c, const char *ctype, const char *extra)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nServer: fundd\r\nContent-Type: %s\r\n"
	    "Transfer-Encoding: chunked\r\nX-Request-Id: %s\r\nCache-Control: no-store\r\n"
	    "Connection: %s\r\n%s\r\n", ctype, c->reqid, c->keepalive ? "keep-alive" : "close",
	    extra != NULL ? extra : "");
	metrics_http(200);
	c->stream_head_sent = 1;
	bufferevent_setwatermark(c->bev, EV_WRITE, HTTP_STREAM_LOWAT, 0);
	bufferevent_enable(c->bev, EV_WRITE);
}

/* Frame and queue data (drained from it) as one chunk. */
void
http_stream_chunk(struct conn *c, struct evbuffer *data)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 n = evbuffer_get_length(data);

	if (n == 0)
		return;
	evbuffer_add_printf(out, "%zx\r\n", n);
	evbuffer_add_buffer(out, data);
	evbuffer_add(out, "\r\n", 2);
}

int
http_stream_full(struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) >= HTTP_STREAM_HIWAT;
}

void
http_stream_on_drain(struct conn *c, void (*cb)(void *))
{
	c->drained = cb;
}

/* The last chunk: the response then completes like any other. */
void
http_stream_end(struct conn *c)
{
	evbuffer_add(bufferevent_get_output(c->bev), "0\r\n\r\n", 5);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	c->drained = NULL;
	c->state = CS_WRITING;
	log_msg(LOG_INFO, c->peer, c->reqid, "GET %s -> 200 streamed (%lld us)", c->head.path,
	    now_usec() - c->t0);
}

/* A stream that cannot finish. Before anything was sent the client gets a 503; after,
 * it must not take a truncated body for a whole one, so the connection is closed without
 * the last chunk. */
void
http_stream_abort(struct conn *c, const char *reason)
{
	log_msg(LOG_ERROR, c->peer, c->reqid, "export aborted: %s", reason);
	if (!c->stream_head_sent) {
		/* every caller returns straight after this: the export can go now, so that
		 * none of its events runs again */
		export_free(c->exp);
		c->exp = NULL;
		c->drained = NULL;
		c->state = CS_BUSY;
		conn_refuse(c, 503, "export failed: database unavailable; retry later\n");
		return;
	}
	conn_close(c, "export aborted");
}

const char *
http_conn_peer(struct conn *c)
{
	return c->peer;
}

const char *
http_conn_reqid(struct conn *c)
{
	return c->reqid;
}

struct event_base *
http_conn_base(struct conn *c)
{
	return c->w->base;
}

void
http_drain(struct worker *w)
{
	struct conn	*c, *t;

	TAILQ_FOREACH_SAFE(c, &w->conns, entry, t) {
		if (c->state == CS_HANDSHAKE || (c->state == CS_READING && !c->head_done &&
		    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0))
			conn_close(c, "shutting down");
		else
			c->keepalive = 0;
	}
}

void
http_close_all(struct worker *w, const char *reason)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		conn_close(c, reason);
}
