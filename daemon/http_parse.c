/* http_parse.c: a strict request-head parser; anything ambiguous is a 400. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_parse.h"

/* RFC 9110 tchar */
static int
is_tchar(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Next line [*pos, eol) without its CRLF; -1 if there is none or it ends in a bare LF. */
static int
next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *llen)
{
	const char	*s = buf + *pos;
	const char	*nl = memchr(s, '\n', len - *pos);
	size_t		 n;

	if (nl == NULL)
		return -1;
	n = (size_t)(nl - s);
	if (n == 0 || s[n - 1] != '\r')
		return -1;	/* bare LF */
	n--;
	*line = s;
	*llen = n;
	*pos += (size_t)(nl - s) + 1;
	return 0;
}

static int
token_list_has(const char *v, size_t n, const char *tok)
{
	size_t	tl = strlen(tok), i = 0;

	while (i < n) {
		size_t	s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return 1;
	}
	return 0;
}

/* Whether an Accept-Encoding value allows gzip (RFC 9110 12.5.3): by its "gzip" element,
 * else by "*"; either is refused by q=0 ("gzip;q=0"). */
static int
accepts_gzip(const char *v, size_t n)
{
	size_t	i = 0;
	int	gzip = -1, star = -1;

	while (i < n) {
		size_t	s, e, k;
		int	zero = 0;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',' && v[i] != ';' && v[i] != ' ' && v[i] != '\t')
			i++;
		e = i;
		/* parameters up to the next element: only q matters */
		while (i < n && v[i] != ',') {
			if ((v[i] == 'q' || v[i] == 'Q') && i + 1 < n && v[i + 1] == '=' &&
			    (v[i - 1] == ';' || v[i - 1] == ' ' || v[i - 1] == '\t')) {
				k = i + 2;
				zero = k < n && v[k] == '0';
				for (k++; zero && k < n && v[k] != ',' && v[k] != ';' &&
				    v[k] != ' ' && v[k] != '\t'; k++)
					if (v[k] != '.' && v[k] != '0')
						zero = 0;
			}
			i++;
		}
		if (e - s == 4 && strncasecmp(v + s, "gzip", 4) == 0)
			gzip = !zero;
		else if (e - s == 1 && v[s] == '*')
			star = !zero;
	}
	return gzip != -1 ? gzip : star == 1;
}

static int
parse_request_line(const char *l, size_t n, struct http_head *h)
{
	size_t		 i = 0, ms, ts, tl;
	const char	*q;

	while (i < n && is_tchar((unsigned char)l[i]))
		i++;
	if (i == 0 || i >= sizeof(h->method) || i >= n || l[i] != ' ')
		return 400;
	memcpy(h->method, l, i);
	h->method[i] = '\0';
	ms = ++i;
	(void)ms;
	ts = i;
	while (i < n && l[i] != ' ')
		i++;
	tl = i - ts;
	if (tl == 0 || i >= n)
		return 400;
	if (tl >= HTTP_MAX_TARGET)
		return 414;
	for (size_t k = ts; k < ts + tl; k++)
		if ((unsigned char)l[k] <= 0x20 || (unsigned char)l[k] >= 0x7f)
			return 400;
	if (l[ts] != '/') {
		/* RFC 9112 3.2.2 absolute-form: scheme "://" authority, then the path (or
		 * none: "/"); the authority is not looked at (Host is still required) */
		size_t	sl = tl >= 8 && strncasecmp(l + ts, "https://", 8) == 0 ? 8 :
			    tl >= 7 && strncasecmp(l + ts, "http://", 7) == 0 ? 7 : 0;
		size_t	a = ts + sl;

		if (sl == 0)
			return 400;
		while (a < ts + tl && l[a] != '/' && l[a] != '?')
			a++;
		if (a == ts + sl)
			return 400;	/* no authority */
		tl -= a - ts;
		ts = a;
		if (tl == 0 || l[ts] == '?') {
			/* "http://host" or "http://host?q": the path is "/" */
			h->path[0] = '/';
			h->path[1] = '\0';
			if (tl > 0) {
				memcpy(h->query, l + ts + 1, tl - 1);
				h->query[tl - 1] = '\0';
			}
			goto version;
		}
	}
	q = memchr(l + ts, '?', tl);
	if (q != NULL) {
		size_t pl = (size_t)(q - (l + ts));

		memcpy(h->path, l + ts, pl);
		h->path[pl] = '\0';
		memcpy(h->query, q + 1, tl - pl - 1);
		h->query[tl - pl - 1] = '\0';
	} else {
		memcpy(h->path, l + ts, tl);
		h->path[tl] = '\0';
	}
version:
	i++;
	if (n - i != 8 || strncmp(l + i, "HTTP/", 5) != 0 || l[i + 6] != '.' ||
	    !isdigit((unsigned char)l[i + 5]) || !isdigit((unsigned char)l[i + 7]))
		return 400;
	if (l[i + 5] != '1')
		return 505;
	h->minor = l[i + 7] - '0';
	return 0;
}

int
http_parse_head(const char *buf, size_t len, struct http_head *h)
{
	const char	*l;
	size_t		 pos = 0, n;
	int		 rc, conn_close = 0, conn_keep = 0;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	if (memchr(buf, '\0', len) != NULL)
		return 400;
	/* RFC 9112 2.2: ignore at least one empty line before the request line */
	while (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n')
		pos += 2;
	if (next_line(buf, len, &pos, &l, &n) != 0)
		return 400;
	if ((rc = parse_request_line(l, n, h)) != 0)
		return rc;
	for (;;) {
		const char	*colon, *v;
		size_t		 nl, vl;

		if (next_line(buf, len, &pos, &l, &n) != 0)
			return 400;
		if (n == 0)
			break;
		if (l[0] == ' ' || l[0] == '\t')
			return 400;	/* obsolete line folding */
		if ((colon = memchr(l, ':', n)) == NULL)
			return 400;
		nl = (size_t)(colon - l);
		if (nl == 0)
			return 400;
		for (size_t k = 0; k < nl; k++)
			if (!is_tchar((unsigned char)l[k]))
				return 400;
		v = colon + 1;
		vl = n - nl - 1;
		while (vl > 0 && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		for (size_t k = 0; k < vl; k++)
			if (((unsigned char)v[k] < 0x20 && v[k] != '\t') || v[k] == 0x7f)
				return 400;
		if (nl == 14 && strncasecmp(l, "content-length", 14) == 0) {
			long long cl = 0;

			if (vl == 0 || vl > 18)
				return 400;
			for (size_t k = 0; k < vl; k++) {
				if (!isdigit((unsigned char)v[k]))
					return 400;
				cl = cl * 10 + (v[k] - '0');
			}
			if (h->content_length >= 0 && h->content_length != cl)
				return 400;
			h->content_length = cl;
		} else if (nl == 17 && strncasecmp(l, "transfer-encoding", 17) == 0) {
			h->chunked = 1;
		} else if (nl == 4 && strncasecmp(l, "host", 4) == 0) {
			if (h->has_host)
				return 400;
			h->has_host = 1;
		} else if (nl == 10 && strncasecmp(l, "connection", 10) == 0) {
			if (token_list_has(v, vl, "close"))
				conn_close = 1;
			if (token_list_has(v, vl, "keep-alive"))
				conn_keep = 1;
		} else if (nl == 12 && strncasecmp(l, "content-type", 12) == 0) {
			if (vl < sizeof(h->content_type)) {
				memcpy(h->content_type, v, vl);
				h->content_type[vl] = '\0';
			}
		} else if (nl == 15 && strncasecmp(l, "accept-encoding", 15) == 0) {
			if (accepts_gzip(v, vl))
				h->accept_gzip = 1;
		} else if (nl == 13 && strncasecmp(l, "if-none-match", 13) == 0) {
			if (vl < sizeof(h->if_none_match)) {
				memcpy(h->if_none_match, v, vl);
				h->if_none_match[vl] = '\0';
			}
		} else if (nl == 15 && strncasecmp(l, "idempotency-key", 15) == 0) {
			if (vl >= sizeof(h->idempotency_key)) {
				h->idem_too_long = 1;
				continue;
			}
			memcpy(h->idempotency_key, v, vl);
			h->idempotency_key[vl] = '\0';
		} else if (nl == 13 && strncasecmp(l, "authorization", 13) == 0) {
			if (h->auth_seen++)
				return 400;	/* two Authorization headers, even empty */
			if (vl >= sizeof(h->authorization)) {
				h->auth_too_long = 1;
				continue;
			}
			memcpy(h->authorization, v, vl);
			h->authorization[vl] = '\0';
		}
	}
	if (h->chunked && h->content_length >= 0)
		return 400;	/* both: a smuggling attempt */
	if (h->minor >= 1 && !h->has_host)
		return 400;
	if (conn_close)
		h->keepalive = 0;
	else
		h->keepalive = h->minor >= 1 || conn_keep;
	return 0;
}

/* Percent-decode src into dst (dstlen bytes); -1 if malformed or too long. */
int
http_url_decode(const char *src, size_t n, char *dst, size_t dstlen)
{
	size_t	i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)src[i];

		if (c == '%') {
			if (i + 2 >= n || !isxdigit((unsigned char)src[i + 1]) ||
			    !isxdigit((unsigned char)src[i + 2]))
				return -1;
			c = (int)strtol((char[]){ src[i + 1], src[i + 2], 0 }, NULL, 16);
			i += 2;
		} else if (c == '+')
			c = ' ';
		if (o + 1 >= dstlen)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

int
http_query_next(const char **p, char *key, size_t klen, char *val, size_t vlen)
{
	const char	*s = *p, *amp, *eq;
	size_t		 len;

	if (*s == '\0')
		return 0;
	amp = strchr(s, '&');
	len = amp != NULL ? (size_t)(amp - s) : strlen(s);
	*p = amp != NULL ? amp + 1 : s + len;
	eq = memchr(s, '=', len);
	if (eq == NULL || http_url_decode(s, (size_t)(eq - s), key, klen) != 0 ||
	    http_url_decode(eq + 1, len - (size_t)(eq - s) - 1, val, vlen) != 0)
		return -1;
	return 1;
}
