/*
 * fundctl_http.c: HTTP/1.1 request and response framing for fundctl.
 *
 * The response is read through one fixed buffer. The body is a small state
 * machine (Content-Length, chunked with extensions and trailers, or until
 * close), so a streamed export of any size runs in constant memory.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fundctl.h"
#include "fundctl_http.h"
#include "fundctl_net.h"

enum body_state {
	BODY_UNREAD,		/* head not read yet */
	BODY_LENGTH,		/* Content-Length: remaining bytes */
	BODY_CLOSE,		/* until the server closes */
	BODY_CHUNK_SIZE,	/* expecting a chunk-size line */
	BODY_CHUNK_DATA,	/* inside a chunk: remaining bytes */
	BODY_CHUNK_END,		/* expecting the CRLF after chunk data */
	BODY_TRAILER,		/* trailer lines up to an empty one */
	BODY_DONE
};

struct head {
	int		have_cl;
	uint64_t	cl;
	int		have_te;
	int		te_chunked;	/* final transfer coding is chunked */
};

struct fc_http {
	struct fc_conn	*conn;
	size_t		 off, len;	/* unread bytes: buf[off..len) */
	int		 eof;
	size_t		 head_bytes;	/* header or trailer bytes so far */
	int		 status;
	char		*reason;
	enum body_state	 bstate;
	uint64_t	 remaining;	/* in BODY_LENGTH, BODY_CHUNK_DATA */
	uint64_t	 received;	/* body bytes, for messages */
	char		 line[FC_HTTP_LINE_MAX + 3];
	char		 buf[FC_HTTP_BUFSZ];
};

struct fc_http *
fc_http_new(struct fc_conn *conn)
{
	struct fc_http	*h;

	h = xmalloc(sizeof *h);
	memset(h, 0, sizeof *h);
	h->conn = conn;
	h->bstate = BODY_UNREAD;
	return h;
}

void
fc_http_free(struct fc_http *h)
{
	if (h == NULL)
		return;
	free(h->reason);
	free(h);
}

int
fc_http_status(const struct fc_http *h)
{
	return h->status;
}

const char *
fc_http_reason(const struct fc_http *h)
{
	return h->reason != NULL ? h->reason : "";
}

/* Request */

int
fc_http_send(struct fc_http *h, const struct fc_http_req *r, char **cause)
{
	struct fc_buf	 b = { NULL, 0, 0 };
	const char	*p;
	int		 rv;

	if (r->token != NULL) {
		for (p = r->token; *p != '\0'; p++)
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
				return fc_cause(cause, "the bearer token "
				    "contains spaces, control or non-ASCII "
				    "characters");
		/* One allocation for everything: no realloc leaves a copy
		 * of the token behind in freed memory. */
		fc_buf_reserve(&b, 512 + strlen(r->method) +
		    strlen(r->target) + strlen(r->authority) +
		    strlen(r->accept) + strlen(r->token) +
		    (r->content_type != NULL ? strlen(r->content_type) : 0) +
		    (r->idempotency_key != NULL ? strlen(r->idempotency_key) : 0) +
		    r->body_len);
	}
	fc_buf_addf(&b, "%s %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "User-Agent: fundctl/%s\r\n"
	    "Accept: %s\r\n"
	    "Connection: close\r\n",
	    r->method, r->target, r->authority, FUNDCTL_VERSION, r->accept);
	if (r->body != NULL)
		fc_buf_addf(&b, "Content-Type: %s\r\n"
		    "Content-Length: %zu\r\n", r->content_type, r->body_len);
	if (r->idempotency_key != NULL)
		fc_buf_addf(&b, "Idempotency-Key: %s\r\n", r->idempotency_key);
	if (r->token != NULL) {
		fc_buf_add(&b, "Authorization: Bearer ", 22);
		fc_buf_add(&b, r->token, strlen(r->token));
		fc_buf_add(&b, "\r\n", 2);
	}
	fc_buf_add(&b, "\r\n", 2);
	if (r->body != NULL)
		fc_buf_add(&b, r->body, r->body_len);
	rv = fc_conn_write(h->conn, b.data, b.len, cause);
	fc_buf_wipe(&b);
	return rv;
}

/* Reading */

static int
http_fill(struct fc_http *h, char **cause)
{
	size_t	got;

	if (h->off < h->len || h->eof)
		return 0;
	h->off = h->len = 0;
	if (fc_conn_read(h->conn, h->buf, sizeof h->buf, &got, cause) == -1)
		return -1;
	if (got == 0)
		h->eof = 1;
	h->len = got;
	return 0;
}

static int
http_truncated(struct fc_http *h, char **cause)
{
	return fc_cause(cause, "%s: connection closed before the end of the "
	    "response", fc_conn_peer(h->conn));
}

/*
 * One line ending in LF or CRLF, of at most max bytes before the line end,
 * into h->line without the line end. With count, it is charged to the
 * FC_HTTP_HEAD_MAX budget of the header (or trailer) section.
 */
static int
http_getline(struct fc_http *h, size_t max, int count, size_t *outlen,
    char **cause)
{
	const char	*start, *nl;
	size_t		 n = 0, take;

	for (;;) {
		if (http_fill(h, cause) == -1)
			return -1;
		if (h->off == h->len)
			return http_truncated(h, cause);
		start = h->buf + h->off;
		nl = memchr(start, '\n', h->len - h->off);
		take = nl != NULL ? (size_t)(nl - start) + 1 : h->len - h->off;
		if (n + take > max + 2)
			return fc_cause(cause, "%s: response line longer than "
			    "%zu bytes", fc_conn_peer(h->conn), max);
		if (count && (h->head_bytes += take) > FC_HTTP_HEAD_MAX)
			return fc_cause(cause, "%s: response headers larger "
			    "than %d bytes", fc_conn_peer(h->conn),
			    FC_HTTP_HEAD_MAX);
		memcpy(h->line + n, start, take);
		n += take;
		h->off += take;
		if (nl != NULL)
			break;
	}
	n--;
	if (n > 0 && h->line[n - 1] == '\r')
		n--;
	h->line[n] = '\0';
	if (memchr(h->line, '\0', n) != NULL)
		return fc_cause(cause, "%s: NUL byte in the response head",
		    fc_conn_peer(h->conn));
	*outlen = n;
	return 0;
}

static int
parse_status(struct fc_http *h, size_t n, char **cause)
{
	const char	*l = h->line;
	char		 shown[41];
	size_t		 i;

	if (n < 12 || strncmp(l, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)l[7]) || l[8] != ' ' ||
	    !isdigit((unsigned char)l[9]) || !isdigit((unsigned char)l[10]) ||
	    !isdigit((unsigned char)l[11]) || (l[12] != ' ' && l[12] != '\0') ||
	    l[9] == '0') {
		for (i = 0; i < n && i < sizeof shown - 1; i++)
			shown[i] = isprint((unsigned char)l[i]) ? l[i] : '?';
		shown[i] = '\0';
		return fc_cause(cause, "%s: not an HTTP/1.1 response: '%s'",
		    fc_conn_peer(h->conn), shown);
	}
	h->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	free(h->reason);
	h->reason = xstrdup(l[12] == ' ' ? l + 13 : "");
	return 0;
}

static int
tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* Is the last coding of a Transfer-Encoding value "chunked"? */
static int
te_is_chunked(const char *v)
{
	const char	*p;
	size_t		 n;

	if ((p = strrchr(v, ',')) != NULL)
		v = p + 1;
	v += strspn(v, " \t");
	n = strcspn(v, " \t;");
	return n == 7 && strncasecmp(v, "chunked", 7) == 0;
}

static int
parse_header(struct fc_http *h, struct head *hd, size_t n, char **cause)
{
	const char	*peer = fc_conn_peer(h->conn);
	char		*colon, *v, *e, *p;
	uint64_t	 cl;

	if (h->line[0] == ' ' || h->line[0] == '\t')
		return fc_cause(cause, "%s: folded header line in the "
		    "response", peer);
	colon = strchr(h->line, ':');
	if (colon == NULL || colon == h->line)
		return fc_cause(cause, "%s: malformed header line in the "
		    "response", peer);
	for (p = h->line; p < colon; p++)
		if (!tchar((unsigned char)*p))
			return fc_cause(cause, "%s: malformed header name in "
			    "the response", peer);
	*colon = '\0';
	v = colon + 1 + strspn(colon + 1, " \t");
	for (e = h->line + n; e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	*e = '\0';

	if (strcasecmp(h->line, "Content-Length") == 0) {
		cl = 0;
		for (p = v; isdigit((unsigned char)*p); p++) {
			if (cl > (UINT64_MAX - 9) / 10)
				return fc_cause(cause, "%s: Content-Length "
				    "too large", peer);
			cl = cl * 10 + (uint64_t)(*p - '0');
		}
		if (p == v || *p != '\0')
			return fc_cause(cause, "%s: malformed Content-Length",
			    peer);
		if (hd->have_cl && hd->cl != cl)
			return fc_cause(cause, "%s: conflicting Content-Length "
			    "headers", peer);
		hd->have_cl = 1;
		hd->cl = cl;
	} else if (strcasecmp(h->line, "Transfer-Encoding") == 0) {
		hd->have_te = 1;
		hd->te_chunked = te_is_chunked(v);
	}
	return 0;
}

int
fc_http_read_head(struct fc_http *h, char **cause)
{
	struct head	hd;
	size_t		n;
	int		interim;

	for (interim = 0;; interim++) {
		if (interim > FC_HTTP_MAX_INTERIM)
			return fc_cause(cause, "%s: too many interim (1xx) "
			    "responses", fc_conn_peer(h->conn));
		memset(&hd, 0, sizeof hd);
		h->head_bytes = 0;
		if (http_fill(h, cause) == -1)
			return -1;
		if (h->off == h->len)
			return fc_cause(cause, "%s: the server closed the "
			    "connection without answering",
			    fc_conn_peer(h->conn));
		if (http_getline(h, FC_HTTP_LINE_MAX, 1, &n, cause) == -1 ||
		    parse_status(h, n, cause) == -1)
			return -1;
		for (;;) {
			if (http_getline(h, FC_HTTP_LINE_MAX, 1, &n,
			    cause) == -1)
				return -1;
			if (n == 0)
				break;
			if (parse_header(h, &hd, n, cause) == -1)
				return -1;
		}
		if (h->status == 101)
			return fc_cause(cause, "%s: unexpected 101 Switching "
			    "Protocols", fc_conn_peer(h->conn));
		if (h->status >= 200)
			break;
	}

	/* RFC 9112 section 6.3, for a response to anything but HEAD. */
	if (h->status == 204 || h->status == 304)
		h->bstate = BODY_DONE;
	else if (hd.have_te)
		h->bstate = hd.te_chunked ? BODY_CHUNK_SIZE : BODY_CLOSE;
	else if (hd.have_cl) {
		h->bstate = BODY_LENGTH;
		h->remaining = hd.cl;
	} else
		h->bstate = BODY_CLOSE;
	return 0;
}

int
fc_http_roundtrip(struct fc_http *h, const struct fc_http_req *r,
    char **cause)
{
	char	*rcause = NULL, *scause = NULL;

	if (fc_http_send(h, r, &scause) == 0)
		return fc_http_read_head(h, cause);
	if (fc_http_read_head(h, &rcause) == 0) {
		free(scause);		/* the server answered all the same */
		return 0;
	}
	if (fc_conn_alerted(h->conn)) {
		free(scause);
		scause = rcause;
	} else
		free(rcause);
	if (cause != NULL)
		*cause = scause;
	else
		free(scause);
	return -1;
}

/* Hand out up to `limit` buffered bytes; *len == 0 at end of stream. */
static int
body_take(struct fc_http *h, uint64_t limit, const char **data, size_t *len,
    char **cause)
{
	size_t	n;

	if (http_fill(h, cause) == -1)
		return -1;
	n = h->len - h->off;
	if ((uint64_t)n > limit)
		n = (size_t)limit;
	*data = h->buf + h->off;
	*len = n;
	h->off += n;
	h->received += n;
	return 0;
}

static int
parse_chunk_size(struct fc_http *h, uint64_t *size, char **cause)
{
	const char	*p = h->line;
	uint64_t	 v = 0;
	int		 c;

	if (!isxdigit((unsigned char)*p))
		goto bad;
	for (; isxdigit((unsigned char)*p); p++) {
		if (v >> 59 != 0)
			return fc_cause(cause, "%s: chunk size too large",
			    fc_conn_peer(h->conn));
		c = tolower((unsigned char)*p);
		v = v << 4 | (uint64_t)(isdigit(c) ? c - '0' : c - 'a' + 10);
	}
	p += strspn(p, " \t");
	if (*p != '\0' && *p != ';')	/* chunk extensions are ignored */
		goto bad;
	*size = v;
	return 0;
bad:
	return fc_cause(cause, "%s: malformed chunk size in the response",
	    fc_conn_peer(h->conn));
}

int
fc_http_body_next(struct fc_http *h, const char **data, size_t *len,
    char **cause)
{
	size_t		n;
	uint64_t	size = 0;

	*data = NULL;
	*len = 0;
	for (;;) {
		switch (h->bstate) {
		case BODY_UNREAD:
			return fc_cause(cause, "internal error: body read "
			    "before head");
		case BODY_DONE:
			return 0;
		case BODY_LENGTH:
			if (h->remaining == 0) {
				h->bstate = BODY_DONE;
				continue;
			}
			if (body_take(h, h->remaining, data, len, cause) == -1)
				return -1;
			if (*len == 0)
				return http_truncated(h, cause);
			h->remaining -= *len;
			return 0;
		case BODY_CLOSE:
			if (body_take(h, UINT64_MAX, data, len, cause) == -1)
				return -1;
			if (*len == 0)
				h->bstate = BODY_DONE;
			return 0;
		case BODY_CHUNK_SIZE:
			if (http_getline(h, FC_HTTP_CHUNKLINE_MAX, 0, &n,
			    cause) == -1 || parse_chunk_size(h, &size,
			    cause) == -1)
				return -1;
			if (size == 0) {
				h->head_bytes = 0;
				h->bstate = BODY_TRAILER;
			} else {
				h->remaining = size;
				h->bstate = BODY_CHUNK_DATA;
			}
			continue;
		case BODY_CHUNK_DATA:
			if (h->remaining == 0) {
				h->bstate = BODY_CHUNK_END;
				continue;
			}
			if (body_take(h, h->remaining, data, len, cause) == -1)
				return -1;
			if (*len == 0)
				return http_truncated(h, cause);
			h->remaining -= *len;
			return 0;
		case BODY_CHUNK_END:
			if (http_getline(h, FC_HTTP_CHUNKLINE_MAX, 0, &n,
			    cause) == -1)
				return -1;
			if (n != 0)
				return fc_cause(cause, "%s: chunk longer than "
				    "its size in the response",
				    fc_conn_peer(h->conn));
			h->bstate = BODY_CHUNK_SIZE;
			continue;
		case BODY_TRAILER:
			if (http_getline(h, FC_HTTP_LINE_MAX, 1, &n,
			    cause) == -1)
				return -1;
			if (n == 0)
				h->bstate = BODY_DONE;
			continue;	/* trailer fields are ignored */
		}
	}
}

int
fc_http_body_all(struct fc_http *h, struct fc_buf *b, size_t max,
    int truncate, char **cause)
{
	const char	*d;
	size_t		 n;

	fc_buf_add(b, "", 0);	/* b->data is never NULL afterwards */
	for (;;) {
		if (fc_http_body_next(h, &d, &n, cause) == -1)
			return -1;
		if (n == 0)
			return 0;
		if (b->len > max || n > max - b->len) {
			if (!truncate)
				return fc_cause(cause, "%s: response larger "
				    "than %zu bytes", fc_conn_peer(h->conn),
				    max);
			if (b->len < max)
				fc_buf_add(b, d, max - b->len);
			return 0;
		}
		fc_buf_add(b, d, n);
	}
}
