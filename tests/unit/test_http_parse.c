/*
 * test_http_parse.c: unit tests for daemon/http_parse.c (docs/protocol.md, RFC 9112).
 *
 * http_parse_head() is pure, so every case is a literal request head.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_parse.h"

#define GOOD_POST	"POST /rpc HTTP/1.1\r\n"			\
			"Host: fund.example\r\n"			\
			"Content-Type: application/json\r\n"		\
			"Content-Length: 42\r\n"			\
			"\r\n"

/* Parse a NUL-terminated head. */
static int
parse(const char *s, struct http_head *h)
{
	return (http_parse_head(s, strlen(s), h));
}

/* The head must be refused with status want. */
#define STATUS(want, s) do {						\
	struct http_head h_;						\
	int rc_ = parse((s), &h_);					\
	if (rc_ != (want))						\
		fail_msg("got %d, want %d for:\n%s", rc_, (want), (s));	\
} while (0)

/* "POST /rpc HTTP/1.1", Host, then extra (header lines with their CRLFs), blank line. */
static int
with_headers(const char *extra, struct http_head *h)
{
	char	buf[8192];

	snprintf(buf, sizeof(buf), "POST /rpc HTTP/1.1\r\nHost: x\r\n%s\r\n", extra);
	return (parse(buf, h));
}

#define HDR_STATUS(want, extra) do {					\
	struct http_head h_;						\
	int rc_ = with_headers((extra), &h_);				\
	if (rc_ != (want))						\
		fail_msg("got %d, want %d for headers:\n%s", rc_, (want), (extra)); \
} while (0)

/* ------------------------------------------------------------------ */

static void
test_good_post(void **state)
{
	struct http_head	h;

	(void)state;
	assert_int_equal(parse(GOOD_POST, &h), 0);
	assert_string_equal(h.method, "POST");
	assert_string_equal(h.path, "/rpc");
	assert_string_equal(h.query, "");
	assert_int_equal(h.minor, 1);
	assert_int_equal(h.content_length, 42);
	assert_int_equal(h.chunked, 0);
	assert_int_equal(h.keepalive, 1);
	assert_int_equal(h.has_host, 1);
	assert_string_equal(h.authorization, "");
	assert_int_equal(h.auth_too_long, 0);
}

static void
test_no_body_headers(void **state)
{
	struct http_head	h;

	(void)state;
	assert_int_equal(parse("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &h), 0);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.path, "/healthz");
	assert_int_equal(h.content_length, -1);
	assert_int_equal(h.chunked, 0);
	/* header names are case-insensitive */
	assert_int_equal(parse("POST / HTTP/1.1\r\nhOsT: x\r\ncontent-LENGTH: 7\r\n\r\n",
	    &h), 0);
	assert_int_equal(h.has_host, 1);
	assert_int_equal(h.content_length, 7);
	/* value whitespace is trimmed */
	assert_int_equal(with_headers("Content-Length: \t 12 \t\r\n", &h), 0);
	assert_int_equal(h.content_length, 12);
	assert_int_equal(with_headers("Content-Length: 0\r\n", &h), 0);
	assert_int_equal(h.content_length, 0);
	/* the longest method that fits */
	assert_int_equal(parse("OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n", &h), 0);
	assert_string_equal(h.method, "OPTIONS");
	STATUS(400, "PROPFIND / HTTP/1.1\r\nHost: x\r\n\r\n");
}

static void
test_keepalive(void **state)
{
	struct http_head	h;

	(void)state;
	/* HTTP/1.1: keep-alive unless "close" */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &h), 0);
	assert_int_equal(h.keepalive, 1);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &h),
	    0);
	assert_int_equal(h.keepalive, 0);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: CLOSE\r\n\r\n", &h),
	    0);
	assert_int_equal(h.keepalive, 0);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n"
	    "Connection: TE, close\r\n\r\n", &h), 0);
	assert_int_equal(h.keepalive, 0);
	/* "close" wins over "keep-alive" */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n"
	    "Connection: keep-alive, close\r\n\r\n", &h), 0);
	assert_int_equal(h.keepalive, 0);
	/* a token is matched whole */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n", &h),
	    0);
	assert_int_equal(h.keepalive, 1);
	/* HTTP/1.0: close unless "keep-alive"; Host optional */
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &h), 0);
	assert_int_equal(h.minor, 0);
	assert_int_equal(h.keepalive, 0);
	assert_int_equal(h.has_host, 0);
	assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h), 0);
	assert_int_equal(h.keepalive, 1);
	assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h), 0);
	assert_int_equal(h.keepalive, 1);
	assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n"
	    "Connection: close\r\n\r\n", &h), 0);
	assert_int_equal(h.keepalive, 0);
}

static void
test_query(void **state)
{
	struct http_head	h;

	(void)state;
	assert_int_equal(parse("GET /export/ledger?format=csv&from=2026-01-01 HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", &h), 0);
	assert_string_equal(h.path, "/export/ledger");
	assert_string_equal(h.query, "format=csv&from=2026-01-01");
	assert_int_equal(parse("GET /rpc? HTTP/1.1\r\nHost: x\r\n\r\n", &h), 0);
	assert_string_equal(h.path, "/rpc");
	assert_string_equal(h.query, "");
	/* only the first '?' splits */
	assert_int_equal(parse("GET /a?b?c HTTP/1.1\r\nHost: x\r\n\r\n", &h), 0);
	assert_string_equal(h.path, "/a");
	assert_string_equal(h.query, "b?c");
	assert_int_equal(parse("GET /?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", &h), 0);
	assert_string_equal(h.path, "/");
	assert_string_equal(h.query, "x=1");
}

static void
test_host(void **state)
{
	(void)state;
	STATUS(400, "POST /rpc HTTP/1.1\r\nContent-Length: 2\r\n\r\n");
	STATUS(400, "GET / HTTP/1.1\r\n\r\n");
	STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
	STATUS(400, "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n");
	STATUS(0, "GET / HTTP/1.0\r\nHost: a\r\n\r\n");
}

static void
test_header_syntax(void **state)
{
	(void)state;
	/* obsolete line folding */
	HDR_STATUS(400, "X-A: one\r\n two\r\n");
	HDR_STATUS(400, "X-A: one\r\n\ttwo\r\n");
	/* bad header-name characters */
	HDR_STATUS(400, "X A: 1\r\n");
	HDR_STATUS(400, "Host : x\r\n");
	HDR_STATUS(400, "X(A): 1\r\n");
	HDR_STATUS(400, "X\"A: 1\r\n");
	HDR_STATUS(400, "X/A: 1\r\n");
	HDR_STATUS(400, "X\x80" "A: 1\r\n");
	HDR_STATUS(400, ": empty name\r\n");
	HDR_STATUS(400, "no colon at all\r\n");
	/* every tchar is allowed */
	HDR_STATUS(0, "!#$%&'*+-.^_`|~09azAZ: 1\r\n");
	/* control characters in a value; tab and obs-text are fine */
	HDR_STATUS(400, "X-A: a\x01" "b\r\n");
	HDR_STATUS(400, "X-A: a\x1f" "b\r\n");
	HDR_STATUS(400, "X-A: a\x7f" "b\r\n");
	HDR_STATUS(400, "X-A: a\rb\r\n");
	HDR_STATUS(400, "X-A: ab\r\r\n");
	HDR_STATUS(0, "X-A: a\tb\r\n");
	HDR_STATUS(0, "X-A: caf\xc3\xa9\r\n");
	HDR_STATUS(0, "X-Empty:\r\n");
	/* no blank line: the head is incomplete */
	STATUS(400, "GET / HTTP/1.1\r\nHost: x\r\n");
	STATUS(400, "GET / HTTP/1.1\r\nHost: x");
	STATUS(400, "GET / HTTP/1.1");
	STATUS(400, "");
	STATUS(400, "\r\n\r\n");
}

static void
test_content_length(void **state)
{
	struct http_head	h;

	(void)state;
	HDR_STATUS(400, "Content-Length: 5\r\nContent-Length: 6\r\n");
	assert_int_equal(with_headers("Content-Length: 5\r\nContent-Length: 5\r\n", &h), 0);
	assert_int_equal(h.content_length, 5);
	HDR_STATUS(400, "Content-Length: abc\r\n");
	HDR_STATUS(400, "Content-Length: 12a\r\n");
	HDR_STATUS(400, "Content-Length: -1\r\n");
	HDR_STATUS(400, "Content-Length: +1\r\n");
	HDR_STATUS(400, "Content-Length: 1 2\r\n");
	HDR_STATUS(400, "Content-Length: 1,1\r\n");
	HDR_STATUS(400, "Content-Length: 0x10\r\n");
	HDR_STATUS(400, "Content-Length:\r\n");
	HDR_STATUS(400, "Content-Length:   \r\n");
	/* 18 digits is the limit */
	assert_int_equal(with_headers("Content-Length: 999999999999999999\r\n", &h), 0);
	assert_true(h.content_length == 999999999999999999LL);
	HDR_STATUS(400, "Content-Length: 1000000000000000000\r\n");
	HDR_STATUS(400, "Content-Length: 99999999999999999999999999\r\n");
	/* leading zeros are still digits */
	assert_int_equal(with_headers("Content-Length: 0007\r\n", &h), 0);
	assert_int_equal(h.content_length, 7);
}

static void
test_transfer_encoding(void **state)
{
	struct http_head	h;

	(void)state;
	HDR_STATUS(400, "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n");
	HDR_STATUS(400, "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n");
	HDR_STATUS(400, "Content-Length: 0\r\ntransfer-encoding: gzip\r\n");
	assert_int_equal(with_headers("Transfer-Encoding: chunked\r\n", &h), 0);
	assert_int_equal(h.chunked, 1);
	assert_int_equal(h.content_length, -1);
}

static void
test_request_line(void **state)
{
	struct http_head	h;

	(void)state;
	STATUS(505, "GET / HTTP/2.0\r\nHost: x\r\n\r\n");
	STATUS(505, "GET / HTTP/0.9\r\nHost: x\r\n\r\n");
	STATUS(505, "GET / HTTP/3.0\r\n\r\n");
	STATUS(400, "GET / HTTP/1.10\r\nHost: x\r\n\r\n");
	STATUS(400, "GET / HTTP/11\r\nHost: x\r\n\r\n");
	STATUS(400, "GET / HTTP/x.1\r\nHost: x\r\n\r\n");
	STATUS(400, "GET / HTTP/1.x\r\nHost: x\r\n\r\n");
	STATUS(400, "GET / http/1.1\r\nHost: x\r\n\r\n");
	STATUS(400, "GET / FOO/1.1\r\nHost: x\r\n\r\n");
	STATUS(400, "GET / HTTP/1.1 \r\nHost: x\r\n\r\n");
	STATUS(400, "GET /\r\nHost: x\r\n\r\n");
	STATUS(400, "GET\r\nHost: x\r\n\r\n");
	STATUS(400, "GET  / HTTP/1.1\r\nHost: x\r\n\r\n");
	STATUS(400, " GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	STATUS(400, "G(T / HTTP/1.1\r\nHost: x\r\n\r\n");
	STATUS(400, "GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n");
	/* the target must be origin-form or absolute-form (RFC 9112 3.2.1, 3.2.2) */
	STATUS(400, "GET rpc HTTP/1.1\r\nHost: x\r\n\r\n");
	STATUS(400, "GET * HTTP/1.1\r\nHost: x\r\n\r\n");
	STATUS(400, "GET ftp://x/rpc HTTP/1.1\r\nHost: x\r\n\r\n");
	STATUS(400, "GET https:///rpc HTTP/1.1\r\nHost: x\r\n\r\n");
	STATUS(400, "GET https:/x/rpc HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(parse("POST https://fund.example:8443/rpc HTTP/1.1\r\nHost: x\r\n\r\n",
	    &h), 0);
	assert_string_equal(h.path, "/rpc");
	assert_string_equal(h.query, "");
	assert_int_equal(parse("GET HTTP://x/export/a?b=c HTTP/1.1\r\nHost: x\r\n\r\n", &h), 0);
	assert_string_equal(h.path, "/export/a");
	assert_string_equal(h.query, "b=c");
	assert_int_equal(parse("GET http://x HTTP/1.1\r\nHost: x\r\n\r\n", &h), 0);
	assert_string_equal(h.path, "/");
	assert_int_equal(parse("GET http://x?q HTTP/1.1\r\nHost: x\r\n\r\n", &h), 0);
	assert_string_equal(h.path, "/");
	assert_string_equal(h.query, "q");
	STATUS(400, "GET /a\x7f" "b HTTP/1.1\r\nHost: x\r\n\r\n");
	STATUS(400, "GET /a\x80" "b HTTP/1.1\r\nHost: x\r\n\r\n");
	STATUS(400, "GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n");
	/* HTTP/1.9 is still HTTP/1.x */
	assert_int_equal(parse("GET / HTTP/1.9\r\nHost: x\r\n\r\n", &h), 0);
	assert_int_equal(h.minor, 9);
}

static void
test_target_length(void **state)
{
	struct http_head	 h;
	char			*buf;
	size_t			 tl, off;

	(void)state;
	buf = malloc(HTTP_MAX_TARGET + 128);
	assert_non_null(buf);
	for (tl = HTTP_MAX_TARGET - 2; tl <= HTTP_MAX_TARGET + 2; tl++) {
		int rc;

		off = (size_t)sprintf(buf, "GET /");
		memset(buf + off, 'a', tl - 1);
		off += tl - 1;
		strcpy(buf + off, " HTTP/1.1\r\nHost: x\r\n\r\n");
		rc = parse(buf, &h);
		if (tl >= HTTP_MAX_TARGET) {
			assert_int_equal(rc, 414);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(strlen(h.path), tl);
		}
	}
	/* the query counts too */
	off = (size_t)sprintf(buf, "GET /rpc?");
	memset(buf + off, 'q', HTTP_MAX_TARGET - 5);
	off += HTTP_MAX_TARGET - 5;
	strcpy(buf + off, " HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(parse(buf, &h), 414);
	off = (size_t)sprintf(buf, "GET /rpc?");
	memset(buf + off, 'q', HTTP_MAX_TARGET - 6);
	off += HTTP_MAX_TARGET - 6;
	strcpy(buf + off, " HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(parse(buf, &h), 0);
	assert_string_equal(h.path, "/rpc");
	assert_int_equal(strlen(h.query), HTTP_MAX_TARGET - 6);
	free(buf);
}

static void
test_nul_byte(void **state)
{
	static const char	req_line[] = "GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char	header[] = "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n";
	static const char	after[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n\0";
	struct http_head	h;

	(void)state;
	assert_int_equal(http_parse_head(req_line, sizeof(req_line) - 1, &h), 400);
	assert_int_equal(http_parse_head(header, sizeof(header) - 1, &h), 400);
	assert_int_equal(http_parse_head(after, sizeof(after) - 1, &h), 400);
}

static void
test_line_endings(void **state)
{
	struct http_head	h;

	(void)state;
	/* RFC 9112 2.2: empty lines before the request line are ignored */
	assert_int_equal(parse("\r\n\r\nPOST /rpc HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 3\r\n\r\n", &h), 0);
	assert_string_equal(h.path, "/rpc");
	assert_int_equal(h.content_length, 3);
	/* a bare LF line end anywhere is malformed (http.c answers such a head at once) */
	assert_int_equal(parse("\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", &h), 400);
	assert_int_equal(parse("POST /rpc HTTP/1.1\nHost: x\nContent-Length: 9\n\n", &h), 400);
	assert_int_equal(parse("GET / HTTP/1.1\nHost: x\r\nConnection: close\n\r\n", &h), 400);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\nA: b\r\n\r\n", &h), 400);
	/* whatever follows the blank line (the body) is not looked at */
	assert_int_equal(parse("POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
	    &h), 0);
	assert_int_equal(h.content_length, 2);
}

static void
test_authorization(void **state)
{
	struct http_head	 h;
	char			 hdr[1024];
	size_t			 cap = sizeof(h.authorization);
	char			*v;

	(void)state;
	assert_int_equal(with_headers("Authorization: Bearer abc.DEF-123\r\n", &h), 0);
	assert_string_equal(h.authorization, "Bearer abc.DEF-123");
	assert_int_equal(h.auth_too_long, 0);
	assert_int_equal(with_headers("authorization:   Bearer  tok  \r\n", &h), 0);
	assert_string_equal(h.authorization, "Bearer  tok");
	HDR_STATUS(400, "Authorization: Bearer a\r\nAuthorization: Bearer a\r\n");
	HDR_STATUS(400, "Authorization: Bearer a\r\nAuthorization: Bearer b\r\n");
	/* an empty or overlong first one does not hide a second */
	HDR_STATUS(400, "Authorization:\r\nAuthorization: Bearer b\r\n");
	HDR_STATUS(400, "Authorization: Bearer a\x01\r\n");

	/* cap - 1 bytes fit; cap bytes do not */
	v = malloc(cap + 1);
	assert_non_null(v);
	memset(v, 'a', cap - 1);
	v[cap - 1] = '\0';
	snprintf(hdr, sizeof(hdr), "Authorization: %s\r\n", v);
	assert_int_equal(with_headers(hdr, &h), 0);
	assert_int_equal(h.auth_too_long, 0);
	assert_string_equal(h.authorization, v);
	memset(v, 'a', cap);
	v[cap] = '\0';
	snprintf(hdr, sizeof(hdr), "Authorization: %s\r\n", v);
	assert_int_equal(with_headers(hdr, &h), 0);
	assert_int_equal(h.auth_too_long, 1);
	assert_string_equal(h.authorization, "");
	free(v);

	/* no header: nothing */
	assert_int_equal(with_headers("", &h), 0);
	assert_string_equal(h.authorization, "");
	assert_int_equal(h.auth_too_long, 0);
}

/* A parse starts from a clean slate, whatever *h held before. */
static void
test_reset(void **state)
{
	struct http_head	h;

	(void)state;
	assert_int_equal(with_headers("Authorization: Bearer x\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: x\r\n", &h), 400);
	assert_int_equal(parse("GET /q?x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", &h), 0);
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &h), 0);
	assert_string_equal(h.authorization, "");
	assert_string_equal(h.query, "");
	assert_int_equal(h.chunked, 0);
	assert_int_equal(h.content_length, -1);
	assert_int_equal(h.has_host, 0);
}

/* Accept-Encoding: gzip by name, else by "*", and never with q=0 (RFC 9110 12.5.3). */
static void
test_accept_gzip(void **state)
{
	static const struct {
		const char	*value;
		int		 gzip;
	} cases[] = {
		{ "gzip", 1 },
		{ "GZIP", 1 },
		{ "gzip, deflate, br, zstd", 1 },
		{ "br;q=1.0, gzip;q=0.8, *;q=0.1", 1 },
		{ "deflate, *", 1 },
		{ "gzip;q=0", 0 },
		{ "gzip; q=0.000", 0 },
		{ "gzip;q=0, *", 0 },
		{ "*;q=0", 0 },
		{ "gzip;q=0.001", 1 },
		{ "identity", 0 },
		{ "x-gzip", 0 },
		{ "gzipx", 0 },
		{ "deflate, br", 0 },
		{ "", 0 },
		{ ";q=0, gzip", 1 },
	};
	struct http_head	h;
	char			line[128];
	size_t			i;

	(void)state;
	assert_int_equal(with_headers("", &h), 0);
	assert_int_equal(h.accept_gzip, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(line, sizeof(line), "Accept-Encoding: %s\r\n", cases[i].value);
		assert_int_equal(with_headers(line, &h), 0);
		if (h.accept_gzip != cases[i].gzip)
			fail_msg("Accept-Encoding: %s: got %d", cases[i].value, h.accept_gzip);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_gzip),
		cmocka_unit_test(test_good_post),
		cmocka_unit_test(test_no_body_headers),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_header_syntax),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_transfer_encoding),
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_target_length),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_authorization),
		cmocka_unit_test(test_reset),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
