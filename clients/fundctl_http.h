/*
 * fundctl_http.h: one HTTP/1.1 request and its response over a fc_conn.
 *
 * Every request carries `Connection: close`; the response head is parsed
 * into fc_http_status() etc., and the body is pulled piece by piece with
 * fc_http_body_next(), whatever its framing (Content-Length, chunked, or
 * until close), in constant memory.
 */
#ifndef FUNDCTL_HTTP_H
#define FUNDCTL_HTTP_H

#include <stddef.h>

#include "fundctl.h"
#include "fundctl_net.h"

#define FC_HTTP_BUFSZ		16384	/* read buffer */
#define FC_HTTP_LINE_MAX	8192	/* status line, one header, one trailer */
#define FC_HTTP_HEAD_MAX	65536	/* all header (or trailer) lines */
#define FC_HTTP_CHUNKLINE_MAX	1024	/* chunk-size line with extensions */
#define FC_HTTP_MAX_INTERIM	8	/* 1xx responses skipped */

struct fc_http_req {
	const char	*method;	/* "POST", "GET" */
	const char	*target;	/* "/rpc", "/export/ledger?..." */
	const char	*authority;	/* Host: */
	const char	*token;		/* bearer token or NULL; never logged */
	const char	*accept;	/* Accept: */
	const char	*content_type;	/* with a body */
	const char	*body;		/* NULL: no body */
	size_t		 body_len;
	const char	*idempotency_key; /* Idempotency-Key:, or NULL */
};

struct fc_http;

/* Borrows conn, which must outlive the fc_http. */
struct fc_http	*fc_http_new(struct fc_conn *conn);
void		 fc_http_free(struct fc_http *);

/* Sends the request; the bearer token is wiped from memory afterwards. */
int		 fc_http_send(struct fc_http *, const struct fc_http_req *,
		    char **cause);

/* Reads the status line and headers (skipping 1xx interim responses). */
int		 fc_http_read_head(struct fc_http *, char **cause);

/*
 * fc_http_send, then fc_http_read_head. When sending fails, what the
 * server sent before it gave up is still read: an early answer (e.g. 413)
 * is used as the response, a TLS alert (e.g. "certificate required") is
 * reported instead of the less telling write error.
 */
int		 fc_http_roundtrip(struct fc_http *, const struct fc_http_req *,
		    char **cause);
int		 fc_http_status(const struct fc_http *);
const char	*fc_http_reason(const struct fc_http *);	/* maybe "" */

/*
 * Next piece of the body: on 0, *data and *len point into the internal buffer
 * (valid until the next call) and *len == 0 means the body is complete.
 */
int		 fc_http_body_next(struct fc_http *, const char **data,
		    size_t *len, char **cause);

/*
 * Whole body into b. Over max bytes: with truncate, keep the first max
 * bytes and stop reading; without, fail.
 */
int		 fc_http_body_all(struct fc_http *, struct fc_buf *b,
		    size_t max, int truncate, char **cause);

#endif /* FUNDCTL_HTTP_H */
