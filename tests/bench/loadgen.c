/*
 * loadgen: a closed-loop HTTP/1.1 load generator for the fundd benchmarks.
 *
 * Each connection is kept alive and carries one request at a time: it sends, waits for the
 * whole response (Content-Length, chunked, or until close), then sends the next one. T worker
 * threads each run their own libevent loop over a share of the connections; their counters and
 * latency histograms are merged at the end and printed as one line of JSON on stdout.
 *
 * Counting: a response is counted (requests, non2xx, latency) when it completes inside the
 * measurement window [start + warmup, start + warmup + duration). Errors (connect, TLS, timeout,
 * malformed or truncated response) are counted over the whole run, warmup included, so that a
 * run with a broken setup never looks clean. A server that closes a kept-alive connection is not
 * an error: the connection is reopened and counted in "reconnects".
 *
 * One file on purpose, so that it builds with one command and no Makefile rule:
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror \
 *       $(pkg-config --cflags libevent libevent_openssl openssl) tests/bench/loadgen.c \
 *       -o bin/loadgen $(pkg-config --libs libevent libevent_openssl openssl) -lpthread
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define LG_MAX_CONNECTIONS	10000
#define LG_MAX_THREADS		64
#define LG_MAX_HEADERS		64		/* --header options */
#define LG_MAX_BODY		(64u << 20)	/* --body, --body-string, --body-template */
#define LG_MAX_LINE		8192		/* one status, header or chunk-size line */
#define LG_MAX_HEAD_BYTES	65536		/* the whole head of one response */
#define LG_MAX_DURATION_S	86400.0
#define LG_MAX_TIMEOUT_S	600.0
#define LG_DEFAULT_TIMEOUT_S	10.0
#define LG_RECONNECT_DELAY_MS	10		/* after an error, so a dead server is not spun on */
#define LG_ERR_LOG_MAX		20		/* error lines printed on stderr */
#define LG_SEQ_PLACEHOLDER	"{{seq}}"
#define LG_U64_DIGITS		20

/*
 * Log-linear latency histogram in nanoseconds: values below HIST_SUB are exact, above that each
 * power of two is split into HIST_HALF buckets (relative error under 0.4%). Fixed size, so
 * recording never allocates.
 */
#define HIST_SUB_BITS		8
#define HIST_SUB		(1u << HIST_SUB_BITS)
#define HIST_HALF		(HIST_SUB / 2)
#define HIST_MAX_BITS		40		/* 2^40 ns, about 18 minutes: past any timeout */
#define HIST_LIMIT		((uint64_t)1 << HIST_MAX_BITS)
#define HIST_BUCKETS		(HIST_SUB + (HIST_MAX_BITS - HIST_SUB_BITS) * HIST_HALF)

struct hist {
	uint64_t	 count[HIST_BUCKETS];
	uint64_t	 n;
	uint64_t	 max_ns;
};

struct stats {
	uint64_t	 requests;	/* responses completed in the window, any status */
	uint64_t	 non2xx;	/* of those, status outside 200-299 */
	uint64_t	 errors;	/* whole run */
	uint64_t	 reconnects;	/* server closed a kept-alive connection; not an error */
	struct hist	 h;
};

/* What to send: built once at start-up, read-only afterwards. */
struct request {
	char		*head;		/* request line and headers, no Content-Length, no blank line */
	size_t		 head_len;
	int		 has_body;
	char		*fixed;		/* the whole request, when the body has no placeholder */
	size_t		 fixed_len;
	const char	*tmpl;		/* --body-template */
	size_t		*seg_off;	/* template pieces between placeholders */
	size_t		*seg_len;
	size_t		 nseg;
	size_t		 tmpl_fixed_len;
	size_t		 max_len;	/* capacity of a connection's request buffer */
};

struct config {
	const char	*url;
	const char	*label;
	const char	*method;
	const char	*cacert;
	const char	*cert;
	const char	*key;
	const char	*headers[LG_MAX_HEADERS];
	int		 nheaders;
	char		*body;
	size_t		 body_len;
	const char	*body_template;
	int		 connections;
	int		 threads;
	double		 duration_s;
	double		 warmup_s;
	double		 timeout_s;
	uint64_t	 seq_start;

	/* derived from the URL */
	int		 tls;
	char		*host;		/* without brackets */
	char		*authority;	/* as written in the URL: the Host header */
	char		*path;
	int		 host_is_ip;
	struct sockaddr_storage addr;
	socklen_t	 addrlen;
	char		 peer[INET6_ADDRSTRLEN + 8];
};

/* A connection's state machine: one request outstanding at a time. */
enum conn_state {
	CONN_IDLE,		/* no socket: waiting for the reconnect timer */
	CONN_CONNECTING,	/* TCP connect and TLS handshake */
	CONN_STATUS,		/* request sent, waiting for the status line */
	CONN_HEADERS,
	CONN_BODY,		/* Content-Length bytes left in "remaining" */
	CONN_CHUNK_SIZE,
	CONN_CHUNK_DATA,	/* chunk bytes left in "remaining" */
	CONN_CHUNK_END,		/* the CRLF after a chunk */
	CONN_TRAILERS,
	CONN_BODY_EOF		/* no length given: the body ends when the server closes */
};

enum close_why {
	CLOSE_DONE,		/* the server asked to close after a complete response */
	CLOSE_IDLE,		/* the server closed a kept-alive connection before answering */
	CLOSE_ERROR
};

struct worker;

struct conn {
	struct worker		*w;
	int			 id;
	enum conn_state		 state;
	struct bufferevent	*bev;
	struct event		*retry;
	char			*buf;		/* request buffer for templated bodies */
	uint64_t		 t_sent;	/* ns, monotonic */
	uint64_t		 remaining;
	uint64_t		 content_length;
	size_t			 head_bytes;
	int			 status;
	int			 has_cl;
	int			 chunked;
	int			 keepalive;	/* "Connection: keep-alive" seen */
	int			 close_after;
	int			 http10;
	uint64_t		 served;	/* responses on this socket */
};

struct worker {
	int			 id;
	pthread_t		 thread;
	struct event_base	*base;
	struct event		*stop;
	struct conn		*conns;
	int			 nconns;
	int			 stopping;
	struct stats		 st;
	char			 last_error[256];	/* last reason printed */
};

static struct config	 cfg;
static struct request	 req;
static SSL_CTX		*ssl_ctx;
static uint64_t		 t_window_start;	/* ns, monotonic */
static uint64_t		 t_window_end;
static _Atomic uint64_t	 next_seq;
/* --bodies FILE: one request body per line, each request takes the next (wrapping) */
static char		**bodies;
static size_t		*body_lens;
static size_t		 nbodies;
static _Atomic unsigned	 errors_logged;

static void	conn_start(struct conn *);
static void	conn_close(struct conn *, enum close_why, const char *);

/* Start-up only: fatal() appends strerror(errno), fatalx() does not. */
static void __attribute__((noreturn, format(printf, 1, 2)))
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(saved));
	exit(1);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fatalx(const char *fmt, ...)
{
	va_list ap;

	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn))
usage(const char *why)
{
	FILE *f = why != NULL ? stderr : stdout;

	if (why != NULL)
		fprintf(stderr, "loadgen: %s\n", why);
	fprintf(f,
	    "usage: loadgen --url https://HOST:PORT/PATH --connections N --duration SECONDS\n"
	    "               [--warmup S] [--method GET|POST] [--header 'Name: value']...\n"
	    "               [--body FILE | --body-string S | --body-template S | --bodies FILE]\n"
	    "               [--seq-start N]\n"
	    "               [--cacert CA] [--cert PEM --key PEM] [--threads T] [--timeout S]\n"
	    "               [--label NAME]\n"
	    "Prints one line of JSON on stdout. --body-template replaces each {{seq}} with a\n"
	    "number unique to the request (from --seq-start, default 1). Without --cacert the\n"
	    "server certificate is not verified.\n");
	exit(why != NULL ? 2 : 0);
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n, size)) == NULL)
		fatal("calloc");
	return p;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL)
		fatal("strndup");
	return p;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct timeval
ns_to_tv(uint64_t ns)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ns / 1000000000u);
	tv.tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
	return tv;
}

static size_t
u64_to_dec(uint64_t v, char *out)
{
	char tmp[LG_U64_DIGITS];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* ---- histogram ---- */

static size_t
hist_index(uint64_t v)
{
	int msb, shift;

	if (v >= HIST_LIMIT)
		v = HIST_LIMIT - 1;
	if (v < HIST_SUB)
		return (size_t)v;
	msb = 63 - __builtin_clzll(v);
	shift = msb - HIST_SUB_BITS + 1;
	return HIST_SUB + (size_t)(shift - 1) * HIST_HALF + (size_t)((v >> shift) - HIST_HALF);
}

/* The middle of bucket i. */
static uint64_t
hist_value(size_t i)
{
	size_t k;
	int shift;

	if (i < HIST_SUB)
		return i;
	k = i - HIST_SUB;
	shift = (int)(k / HIST_HALF) + 1;
	return ((uint64_t)(HIST_HALF + k % HIST_HALF) << shift) + ((uint64_t)1 << (shift - 1));
}

static void
hist_record(struct hist *h, uint64_t ns)
{
	h->count[hist_index(ns)]++;
	h->n++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

static void
hist_merge(struct hist *into, const struct hist *from)
{
	size_t i;

	for (i = 0; i < HIST_BUCKETS; i++)
		into->count[i] += from->count[i];
	into->n += from->n;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
}

/* The smallest recorded value with at least q of all values at or below it. */
static uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0, v;
	size_t i;

	if (h->n == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->n);
	if ((double)rank < q * (double)h->n || rank == 0)
		rank++;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= rank) {
			v = hist_value(i);
			return v < h->max_ns ? v : h->max_ns;
		}
	}
	return h->max_ns;
}

/* ---- errors ---- */

/* Prints an error unless this thread printed the same reason last; at most LG_ERR_LOG_MAX. */
static void
log_conn_error(struct conn *c, const char *reason)
{
	struct worker *w = c->w;
	unsigned n;

	if (strncmp(w->last_error, reason, sizeof(w->last_error) - 1) == 0)
		return;
	snprintf(w->last_error, sizeof(w->last_error), "%s", reason);
	n = atomic_fetch_add_explicit(&errors_logged, 1, memory_order_relaxed);
	if (n < LG_ERR_LOG_MAX)
		fprintf(stderr, "loadgen: thread %d conn %d %s: %s\n", w->id, c->id, cfg.peer,
		    reason);
	else if (n == LG_ERR_LOG_MAX)
		fprintf(stderr, "loadgen: further errors are counted, not printed\n");
}

/* Why a bufferevent failed: the TLS verify result, the OpenSSL error queue, or errno. */
static void
bev_error_reason(struct bufferevent *bev, const char *what, char *out, size_t outsz)
{
	SSL *ssl = cfg.tls ? bufferevent_openssl_get_ssl(bev) : NULL;
	unsigned long e, last = 0;
	int err = EVUTIL_SOCKET_ERROR();
	long vr;
	char buf[256];

	/* libevent also queues bare SSL_get_error() values (SSL_ERROR_SYSCALL...): not reasons */
	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (ERR_GET_LIB(e) != 0)
			last = e;
	if (ssl != NULL && cfg.cacert != NULL &&
	    (vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(out, outsz, "%s: certificate verify failed: %s", what,
		    X509_verify_cert_error_string(vr));
	} else if (last != 0) {
		ERR_error_string_n(last, buf, sizeof(buf));
		snprintf(out, outsz, "%s: %s", what, buf);
	} else if (err != 0) {
		snprintf(out, outsz, "%s: %s", what, evutil_socket_error_to_string(err));
	} else
		snprintf(out, outsz, "%s: connection reset or closed uncleanly", what);
}

/* ---- requests ---- */

/* --bodies FILE: every non-empty line is one request body, used in order, each request
 * the next line (starting again at the first when they run out). */
static void
bodies_load(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;

	if (f == NULL)
		fatal("--bodies %s", path);
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		bodies = realloc(bodies, (nbodies + 1) * sizeof(*bodies));
		body_lens = realloc(body_lens, (nbodies + 1) * sizeof(*body_lens));
		if (bodies == NULL || body_lens == NULL)
			fatalx("--bodies: out of memory");
		bodies[nbodies] = xstrndup(line, (size_t)n);
		body_lens[nbodies++] = (size_t)n;
	}
	free(line);
	fclose(f);
	if (nbodies == 0)
		fatalx("--bodies %s: no lines", path);
}

/* Writes one request into out (req.max_len bytes) and returns its length. */
static size_t
request_build(char *out, uint64_t seq)
{
	char num[LG_U64_DIGITS];
	size_t nlen, body_len, i;
	char *p = out;

	nlen = u64_to_dec(seq, num);
	body_len = req.tmpl_fixed_len + (req.nseg - 1) * nlen;
	memcpy(p, req.head, req.head_len);
	p += req.head_len;
	p += sprintf(p, "Content-Length: %zu\r\n\r\n", body_len);
	for (i = 0; i < req.nseg; i++) {
		memcpy(p, req.tmpl + req.seg_off[i], req.seg_len[i]);
		p += req.seg_len[i];
		if (i + 1 < req.nseg) {
			memcpy(p, num, nlen);
			p += nlen;
		}
	}
	return (size_t)(p - out);
}

static void
request_send(struct conn *c)
{
	const char *data = req.fixed;
	size_t len = req.fixed_len;

	if (nbodies > 0) {
		uint64_t k = atomic_fetch_add_explicit(&next_seq, 1, memory_order_relaxed) -
		    cfg.seq_start;
		size_t i = (size_t)(k % nbodies);
		char *p = c->buf;

		memcpy(p, req.head, req.head_len);
		p += req.head_len;
		p += sprintf(p, "Content-Length: %zu\r\n\r\n", body_lens[i]);
		memcpy(p, bodies[i], body_lens[i]);
		len = (size_t)(p - c->buf) + body_lens[i];
		data = c->buf;
	} else if (req.tmpl != NULL) {
		len = request_build(c->buf,
		    atomic_fetch_add_explicit(&next_seq, 1, memory_order_relaxed));
		data = c->buf;
	}
	c->state = CONN_STATUS;
	c->status = 0;
	c->has_cl = c->chunked = c->keepalive = c->close_after = c->http10 = 0;
	c->content_length = c->remaining = 0;
	c->head_bytes = 0;
	c->t_sent = now_ns();
	if (evbuffer_add(bufferevent_get_output(c->bev), data, len) == -1)
		conn_close(c, CLOSE_ERROR, "cannot queue request: out of memory");
}

/* ---- response parsing ---- */

/*
 * Takes one line off in, without its CRLF (or LF), into buf. Returns 1 when a line was read,
 * 0 when it is not complete yet, -1 when it does not fit in cap - 1 bytes.
 */
static int
read_line(struct evbuffer *in, char *buf, size_t cap, size_t *lenp)
{
	struct evbuffer_ptr p;
	size_t eol_len = 0;

	p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
	if (p.pos == -1)
		return evbuffer_get_length(in) >= cap ? -1 : 0;
	if ((size_t)p.pos >= cap)
		return -1;
	evbuffer_copyout(in, buf, (size_t)p.pos);
	buf[p.pos] = '\0';
	evbuffer_drain(in, (size_t)p.pos + eol_len);
	*lenp = (size_t)p.pos;
	return 1;
}

static int
parse_status(struct conn *c, const char *line)
{
	if (strncmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ' || line[9] < '1' || line[9] > '5' || line[10] < '0' ||
	    line[10] > '9' || line[11] < '0' || line[11] > '9' ||
	    (line[12] != ' ' && line[12] != '\0'))
		return -1;
	c->http10 = line[7] == '0';
	c->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	return 0;
}

/* Does the comma-separated list contain token, case-insensitively? */
static int
has_token(const char *list, const char *token)
{
	size_t tlen = strlen(token), n;
	const char *p = list;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, ", \t");
		if (n == tlen && strncasecmp(p, token, tlen) == 0)
			return 1;
		p += n;
		while (*p != '\0' && *p != ',')
			p++;
	}
	return 0;
}

static int
parse_header(struct conn *c, char *line, const char **why)
{
	char *colon, *v, *end;
	uint64_t cl = 0;

	if ((colon = strchr(line, ':')) == NULL || colon == line) {
		*why = "malformed header line";
		return -1;
	}
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	*end = '\0';
	if (strcasecmp(line, "Content-Length") == 0) {
		if (*v == '\0') {
			*why = "empty Content-Length";
			return -1;
		}
		for (; *v != '\0'; v++) {
			if (*v < '0' || *v > '9' || cl > (UINT64_MAX >> 4)) {
				*why = "bad Content-Length";
				return -1;
			}
			cl = cl * 10 + (uint64_t)(*v - '0');
		}
		if (c->has_cl && cl != c->content_length) {
			*why = "conflicting Content-Length headers";
			return -1;
		}
		c->has_cl = 1;
		c->content_length = cl;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		/* chunked must be the last coding; anything else is read until close */
		c->chunked = has_token(v, "chunked");
		if (!c->chunked)
			c->close_after = 1;
	} else if (strcasecmp(line, "Connection") == 0) {
		if (has_token(v, "close"))
			c->close_after = 1;
		if (has_token(v, "keep-alive"))
			c->keepalive = 1;
	}
	return 0;
}

static int
parse_chunk_size(const char *line, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0, d;

	for (; *line != '\0' && *line != ';' && *line != ' ' && *line != '\t'; line++) {
		if (*line >= '0' && *line <= '9')
			d = *line - '0';
		else if (*line >= 'a' && *line <= 'f')
			d = *line - 'a' + 10;
		else if (*line >= 'A' && *line <= 'F')
			d = *line - 'A' + 10;
		else
			return -1;
		if (++digits > 15)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	if (digits == 0)
		return -1;
	*out = v;
	return 0;
}

/* A whole response has been read: count it, then close or send the next request. */
static void
response_done(struct conn *c)
{
	struct worker *w = c->w;
	uint64_t t = now_ns();

	c->served++;
	if (t >= t_window_start && t < t_window_end) {
		w->st.requests++;
		if (c->status < 200 || c->status > 299)
			w->st.non2xx++;
		hist_record(&w->st.h, t - c->t_sent);
	}
	if (c->close_after || (c->http10 && !c->keepalive)) {
		conn_close(c, CLOSE_DONE, "server closed after response");
		return;
	}
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) != 0) {
		conn_close(c, CLOSE_ERROR, "unsolicited bytes after a complete response");
		return;
	}
	request_send(c);
}

/*
 * After the blank line that ends a response head: where does the body end? Returns 1 when
 * the response had no body and is done (the connection may be closed then), else 0.
 */
static int
head_done(struct conn *c)
{
	if (c->status >= 100 && c->status <= 199) {
		c->state = CONN_STATUS;		/* interim response: the real one follows */
		return 0;
	}
	if (c->status == 204 || c->status == 304 || (c->has_cl && c->content_length == 0 &&
	    !c->chunked)) {
		response_done(c);
		return 1;
	}
	if (c->chunked)
		c->state = CONN_CHUNK_SIZE;
	else if (c->has_cl) {
		c->remaining = c->content_length;
		c->state = CONN_BODY;
	} else {
		c->close_after = 1;
		c->state = CONN_BODY_EOF;
	}
	return 0;
}

/* Takes at most c->remaining bytes off in; returns 1 when c->remaining reached 0. */
static int
drain_body(struct conn *c, struct evbuffer *in)
{
	size_t avail = evbuffer_get_length(in);
	size_t take = avail < c->remaining ? avail : (size_t)c->remaining;

	evbuffer_drain(in, take);
	c->remaining -= take;
	return c->remaining == 0;
}

static void
conn_readcb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char line[LG_MAX_LINE];
	const char *why = NULL;
	size_t len;
	int r;

	for (;;) {
		switch (c->state) {
		case CONN_IDLE:
		case CONN_CONNECTING:
			if (evbuffer_get_length(in) != 0)
				conn_close(c, CLOSE_ERROR, "data before any request");
			return;
		case CONN_STATUS:
			if ((r = read_line(in, line, sizeof(line), &len)) == 0)
				return;
			if (r == -1 || parse_status(c, line) == -1) {
				conn_close(c, CLOSE_ERROR, "malformed status line");
				return;
			}
			c->head_bytes = len;
			c->state = CONN_HEADERS;
			break;
		case CONN_HEADERS:
			if ((r = read_line(in, line, sizeof(line), &len)) == 0)
				return;
			if (r == -1 || (c->head_bytes += len + 2) > LG_MAX_HEAD_BYTES) {
				conn_close(c, CLOSE_ERROR, "response head too large");
				return;
			}
			if (len != 0) {
				if (parse_header(c, line, &why) == -1) {
					conn_close(c, CLOSE_ERROR, why);
					return;
				}
				break;
			}
			if (head_done(c))
				return;
			break;
		case CONN_BODY:
			if (!drain_body(c, in))
				return;
			response_done(c);
			return;
		case CONN_CHUNK_SIZE:
			if ((r = read_line(in, line, sizeof(line), &len)) == 0)
				return;
			if (r == -1 || parse_chunk_size(line, &c->remaining) == -1) {
				conn_close(c, CLOSE_ERROR, "malformed chunk size");
				return;
			}
			c->state = c->remaining == 0 ? CONN_TRAILERS : CONN_CHUNK_DATA;
			break;
		case CONN_CHUNK_DATA:
			if (!drain_body(c, in))
				return;
			c->state = CONN_CHUNK_END;
			break;
		case CONN_CHUNK_END:
			if ((r = read_line(in, line, sizeof(line), &len)) == 0)
				return;
			if (r == -1 || len != 0) {
				conn_close(c, CLOSE_ERROR, "chunk not followed by CRLF");
				return;
			}
			c->state = CONN_CHUNK_SIZE;
			break;
		case CONN_TRAILERS:
			if ((r = read_line(in, line, sizeof(line), &len)) == 0)
				return;
			if (r == -1 || (c->head_bytes += len + 2) > LG_MAX_HEAD_BYTES) {
				conn_close(c, CLOSE_ERROR, "trailers too large");
				return;
			}
			if (len == 0) {
				response_done(c);
				return;
			}
			break;
		case CONN_BODY_EOF:
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
	}
}

static void
conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	char reason[512];
	int one = 1;

	if (what & BEV_EVENT_CONNECTED) {
		/*
		 * From now on a peer closing without close_notify is EOF, and the framing
		 * decides whether that lost anything. Not before: during the handshake it would
		 * turn a refused or reset connect into a bare EOF.
		 */
		if (cfg.tls)
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
		(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		c->served = 0;
		request_send(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		conn_close(c, CLOSE_ERROR, c->state == CONN_CONNECTING ?
		    "timeout connecting" : "timeout waiting for the response");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		bev_error_reason(bev, c->state == CONN_CONNECTING ? "connect" : "read", reason,
		    sizeof(reason));
		conn_close(c, CLOSE_ERROR, reason);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		switch (c->state) {
		case CONN_BODY_EOF:
			response_done(c);
			return;
		case CONN_STATUS:
			if (c->served != 0 && evbuffer_get_length(bufferevent_get_input(bev)) == 0) {
				conn_close(c, CLOSE_IDLE, "server closed a kept-alive connection");
				return;
			}
			conn_close(c, CLOSE_ERROR, "connection closed before a response");
			return;
		case CONN_CONNECTING:
			conn_close(c, CLOSE_ERROR, "connection closed during the TLS handshake");
			return;
		case CONN_IDLE:
		case CONN_HEADERS:
		case CONN_BODY:
		case CONN_CHUNK_SIZE:
		case CONN_CHUNK_DATA:
		case CONN_CHUNK_END:
		case CONN_TRAILERS:
			conn_close(c, CLOSE_ERROR, "connection closed in the middle of a response");
			return;
		}
	}
}

/* Sends close_notify when the TLS session is up; best effort, never blocks. */
static void
conn_tls_goodbye(struct conn *c)
{
	SSL *ssl;

	if (!cfg.tls || c->bev == NULL || (ssl = bufferevent_openssl_get_ssl(c->bev)) == NULL)
		return;
	if (SSL_is_init_finished(ssl) && !(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN))
		(void)SSL_shutdown(ssl);
	ERR_clear_error();
}

/* Every end of a socket goes through here; the connection is reopened unless stopping. */
static void
conn_close(struct conn *c, enum close_why why, const char *reason)
{
	struct worker *w = c->w;
	struct timeval tv = { 0, 0 };

	if (c->bev != NULL) {
		if (why == CLOSE_DONE)
			conn_tls_goodbye(c);
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	c->state = CONN_IDLE;
	if (w->stopping)
		return;
	switch (why) {
	case CLOSE_DONE:
	case CLOSE_IDLE:
		w->st.reconnects++;
		break;
	case CLOSE_ERROR:
		w->st.errors++;
		log_conn_error(c, reason);
		tv.tv_usec = LG_RECONNECT_DELAY_MS * 1000;
		break;
	}
	evtimer_add(c->retry, &tv);
}

static void
conn_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_start(arg);
}

static void
conn_start(struct conn *c)
{
	struct timeval tv = ns_to_tv((uint64_t)(cfg.timeout_s * 1e9));
	struct bufferevent *bev;
	SSL *ssl;

	c->state = CONN_CONNECTING;
	if (cfg.tls) {
		ERR_clear_error();
		if ((ssl = SSL_new(ssl_ctx)) == NULL) {
			conn_close(c, CLOSE_ERROR, "SSL_new failed");
			return;
		}
		if (!cfg.host_is_ip)
			SSL_set_tlsext_host_name(ssl, cfg.host);
		if (cfg.cacert != NULL) {
			if (cfg.host_is_ip)
				X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), cfg.host);
			else
				SSL_set1_host(ssl, cfg.host);
		}
		bev = bufferevent_openssl_socket_new(c->w->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL) {
			SSL_free(ssl);
			conn_close(c, CLOSE_ERROR, "cannot create a TLS bufferevent");
			return;
		}
	} else if ((bev = bufferevent_socket_new(c->w->base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		conn_close(c, CLOSE_ERROR, "cannot create a bufferevent");
		return;
	}
	c->bev = bev;
	bufferevent_setcb(bev, conn_readcb, NULL, conn_eventcb, c);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&cfg.addr, (int)cfg.addrlen) == -1)
		conn_close(c, CLOSE_ERROR, "connect failed");
}

/* ---- workers ---- */

static void
worker_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	w->stopping = 1;
	event_base_loopbreak(w->base);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct timeval tv;
	uint64_t t;
	int i;

	if ((w->base = event_base_new()) == NULL)
		fatalx("thread %d: event_base_new failed", w->id);
	if ((w->stop = evtimer_new(w->base, worker_stop_cb, w)) == NULL)
		fatalx("thread %d: evtimer_new failed", w->id);
	t = now_ns();
	tv = ns_to_tv(t < t_window_end ? t_window_end - t : 0);
	evtimer_add(w->stop, &tv);
	for (i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];

		if ((c->retry = evtimer_new(w->base, conn_retry_cb, c)) == NULL)
			fatalx("thread %d: evtimer_new failed", w->id);
		if (req.tmpl != NULL || nbodies > 0)
			c->buf = xcalloc(1, req.max_len);
		conn_start(c);
	}
	event_base_dispatch(w->base);

	w->stopping = 1;
	for (i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];

		if (c->bev != NULL) {
			if (c->state != CONN_CONNECTING)
				conn_tls_goodbye(c);
			bufferevent_free(c->bev);
			c->bev = NULL;
		}
		event_free(c->retry);
		free(c->buf);
	}
	event_free(w->stop);
	event_base_free(w->base);
	return NULL;
}

/* ---- start-up ---- */

static double
parse_seconds(const char *opt, const char *s, double min, double max)
{
	char *end, msg[128];
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min || v > max) {
		snprintf(msg, sizeof(msg), "%s: expected seconds in [%g, %g], got '%s'", opt, min,
		    max, s);
		usage(msg);
	}
	return v;
}

static long long
parse_int(const char *opt, const char *s, long long min, long long max)
{
	char *end, msg[128];
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		snprintf(msg, sizeof(msg), "%s: expected an integer in [%lld, %lld], got '%s'",
		    opt, min, max, s);
		usage(msg);
	}
	return v;
}

/* https://host[:port][/path], http:// too; [v6]:port accepted. */
static int
parse_url(const char *url, char **cause)
{
	const char *p, *auth, *auth_end, *host, *host_end, *port = NULL;
	struct addrinfo hints, *res;
	char portbuf[8];
	int rc;

	if (strncasecmp(url, "https://", 8) == 0) {
		cfg.tls = 1;
		auth = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0)
		auth = url + 7;
	else {
		*cause = strdup("URL must start with https:// or http://");
		return -1;
	}
	auth_end = auth + strcspn(auth, "/?#");
	if (auth_end == auth) {
		*cause = strdup("URL has no host");
		return -1;
	}
	if (*auth == '[') {
		host = auth + 1;
		if ((host_end = memchr(host, ']', (size_t)(auth_end - host))) == NULL) {
			*cause = strdup("URL has an unclosed '['");
			return -1;
		}
		p = host_end + 1;
	} else {
		host = auth;
		host_end = memchr(auth, ':', (size_t)(auth_end - auth));
		if (host_end == NULL)
			host_end = auth_end;
		p = host_end;
	}
	if (p < auth_end) {
		if (*p != ':' || p + 1 == auth_end || auth_end - (p + 1) > 5) {
			*cause = strdup("URL has a bad port");
			return -1;
		}
		port = p + 1;
	}
	cfg.host = xstrndup(host, (size_t)(host_end - host));
	cfg.authority = xstrndup(auth, (size_t)(auth_end - auth));
	if (*auth_end == '/')
		cfg.path = xstrndup(auth_end, strcspn(auth_end, "#"));
	else if (asprintf(&cfg.path, "/%.*s", (int)strcspn(auth_end, "#"), auth_end) == -1)
		fatal("asprintf");
	if (strpbrk(cfg.path, " \r\n") != NULL) {
		*cause = strdup("URL path contains a space or line break");
		return -1;
	}
	snprintf(portbuf, sizeof(portbuf), "%.*s", port ? (int)(auth_end - port) : 3,
	    port ? port : (cfg.tls ? "443" : "80"));

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(cfg.host, portbuf, &hints, &res)) != 0) {
		if (asprintf(cause, "cannot resolve %s: %s", cfg.host, gai_strerror(rc)) == -1)
			fatal("asprintf");
		return -1;
	}
	memcpy(&cfg.addr, res->ai_addr, res->ai_addrlen);
	cfg.addrlen = res->ai_addrlen;
	freeaddrinfo(res);

	{
		struct in6_addr a6;
		char ip[INET6_ADDRSTRLEN];
		const void *src = cfg.addr.ss_family == AF_INET6 ?
		    (const void *)&((struct sockaddr_in6 *)&cfg.addr)->sin6_addr :
		    (const void *)&((struct sockaddr_in *)&cfg.addr)->sin_addr;

		cfg.host_is_ip = inet_pton(AF_INET, cfg.host, &a6) == 1 ||
		    inet_pton(AF_INET6, cfg.host, &a6) == 1;
		inet_ntop(cfg.addr.ss_family, src, ip, sizeof(ip));
		snprintf(cfg.peer, sizeof(cfg.peer), cfg.addr.ss_family == AF_INET6 ?
		    "[%s]:%s" : "%s:%s", ip, portbuf);
	}
	return 0;
}

static int
load_file(const char *path, char **out, size_t *lenp, char **cause)
{
	FILE *f;
	char *buf;
	long size;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) == -1 ||
	    (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) == -1) {
		if (asprintf(cause, "%s: %s", path, strerror(errno)) == -1)
			fatal("asprintf");
		if (f != NULL)
			fclose(f);
		return -1;
	}
	if ((unsigned long)size > LG_MAX_BODY) {
		fclose(f);
		if (asprintf(cause, "%s: larger than %u bytes", path, LG_MAX_BODY) == -1)
			fatal("asprintf");
		return -1;
	}
	buf = xcalloc(1, (size_t)size + 1);
	n = fread(buf, 1, (size_t)size, f);
	if (n != (size_t)size || ferror(f)) {
		if (asprintf(cause, "%s: short read", path) == -1)
			fatal("asprintf");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	*out = buf;
	*lenp = n;
	return 0;
}

static int
header_given(const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; i < cfg.nheaders; i++)
		if (strncasecmp(cfg.headers[i], name, n) == 0 && cfg.headers[i][n] == ':')
			return 1;
	return 0;
}

static int
check_header(const char *h, char **cause)
{
	const char *colon = strchr(h, ':'), *p;

	if (strpbrk(h, "\r\n") != NULL || colon == NULL || colon == h)
		goto bad;
	for (p = h; p < colon; p++)
		if (*p <= ' ' || *p >= 127 || strchr("\"(),/:;<=>?@[\\]{}", *p) != NULL)
			goto bad;
	if ((colon - h == 14 && strncasecmp(h, "Content-Length", 14) == 0) ||
	    (colon - h == 17 && strncasecmp(h, "Transfer-Encoding", 17) == 0)) {
		if (asprintf(cause, "--header '%s': loadgen sets the body framing itself", h) == -1)
			fatal("asprintf");
		return -1;
	}
	return 0;
bad:
	if (asprintf(cause, "--header '%s': expected 'Name: value'", h) == -1)
		fatal("asprintf");
	return -1;
}

static void
request_setup(void)
{
	FILE *f;
	size_t i, off, n;
	const char *p, *q;
	int has_body = cfg.body != NULL || cfg.body_template != NULL || nbodies > 0;
	char *clen;

	if ((f = open_memstream(&req.head, &req.head_len)) == NULL)
		fatal("open_memstream");
	fprintf(f, "%s %s HTTP/1.1\r\n", cfg.method, cfg.path);
	if (!header_given("Host"))
		fprintf(f, "Host: %s\r\n", cfg.authority);
	if (!header_given("User-Agent"))
		fprintf(f, "User-Agent: fund-loadgen/1\r\n");
	if (has_body && !header_given("Content-Type"))
		fprintf(f, "Content-Type: application/json\r\n");
	for (i = 0; i < (size_t)cfg.nheaders; i++)
		fprintf(f, "%s\r\n", cfg.headers[i]);
	if (fclose(f) != 0)
		fatal("open_memstream");
	req.has_body = has_body;

	if (nbodies > 0) {
		size_t longest = 0;

		for (i = 0; i < nbodies; i++)
			if (body_lens[i] > longest)
				longest = body_lens[i];
		req.max_len = req.head_len + sizeof("Content-Length: \r\n\r\n") +
		    LG_U64_DIGITS + longest;
		return;
	}
	if (cfg.body_template != NULL) {
		req.tmpl = cfg.body_template;
		for (req.nseg = 1, p = req.tmpl; (p = strstr(p, LG_SEQ_PLACEHOLDER)) != NULL;
		    p += strlen(LG_SEQ_PLACEHOLDER))
			req.nseg++;
		req.seg_off = xcalloc(req.nseg, sizeof(*req.seg_off));
		req.seg_len = xcalloc(req.nseg, sizeof(*req.seg_len));
		for (i = 0, off = 0; i < req.nseg; i++) {
			p = req.tmpl + off;
			q = strstr(p, LG_SEQ_PLACEHOLDER);
			n = q != NULL ? (size_t)(q - p) : strlen(p);
			req.seg_off[i] = off;
			req.seg_len[i] = n;
			req.tmpl_fixed_len += n;
			off += n + strlen(LG_SEQ_PLACEHOLDER);
		}
		if (req.nseg > 1) {
			req.max_len = req.head_len + sizeof("Content-Length: \r\n\r\n") +
			    LG_U64_DIGITS + req.tmpl_fixed_len + (req.nseg - 1) * LG_U64_DIGITS;
			return;
		}
		/* no placeholder: an ordinary fixed body */
		cfg.body = xstrndup(req.tmpl, strlen(req.tmpl));
		cfg.body_len = strlen(cfg.body);
		req.tmpl = NULL;
	}

	if (has_body || strcmp(cfg.method, "POST") == 0) {
		if (asprintf(&clen, "Content-Length: %zu\r\n\r\n", cfg.body_len) == -1)
			fatal("asprintf");
	} else if ((clen = strdup("\r\n")) == NULL)
		fatal("strdup");
	req.fixed_len = req.head_len + strlen(clen) + cfg.body_len;
	req.fixed = xcalloc(1, req.fixed_len + 1);
	memcpy(req.fixed, req.head, req.head_len);
	memcpy(req.fixed + req.head_len, clen, strlen(clen));
	if (cfg.body_len != 0)
		memcpy(req.fixed + req.head_len + strlen(clen), cfg.body, cfg.body_len);
	free(clen);
}

static SSL_CTX *
tls_setup(char **cause)
{
	SSL_CTX *ctx;
	char err[256];
	const char *what;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		what = "SSL_CTX_new";
		goto fail;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (cfg.cacert != NULL) {
		what = cfg.cacert;
		if (SSL_CTX_load_verify_locations(ctx, cfg.cacert, NULL) != 1)
			goto fail;
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (cfg.cert != NULL) {
		what = cfg.cert;
		if (SSL_CTX_use_certificate_chain_file(ctx, cfg.cert) != 1)
			goto fail;
		what = cfg.key;
		if (SSL_CTX_use_PrivateKey_file(ctx, cfg.key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1)
			goto fail;
	}
	return ctx;
fail:
	ERR_error_string_n(ERR_peek_last_error(), err, sizeof(err));
	if (asprintf(cause, "%s: %s", what, err) == -1)
		fatal("asprintf");
	SSL_CTX_free(ctx);
	return NULL;
}

static void
raise_fd_limit(int need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_cur >= (rlim_t)need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= (rlim_t)need ?
	    (rlim_t)need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("setrlimit");
	if (rl.rlim_cur < (rlim_t)need)
		fatalx("%d connections need %d file descriptors; the limit is %llu", cfg.connections,
		    need, (unsigned long long)rl.rlim_cur);
}

static void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void
print_result(const struct stats *st)
{
	double ms = 1e6;

	printf("{\"label\":");
	json_string(stdout, cfg.label);
	printf(",\"connections\":%d,\"requests\":%" PRIu64 ",\"errors\":%" PRIu64
	    ",\"non2xx\":%" PRIu64 ",\"duration_s\":%.3f,\"rps\":%.1f,\"p50_ms\":%.3f"
	    ",\"p99_ms\":%.3f,\"max_ms\":%.3f,\"threads\":%d,\"reconnects\":%" PRIu64 "}\n",
	    cfg.connections, st->requests, st->errors, st->non2xx, cfg.duration_s,
	    (double)st->requests / cfg.duration_s, (double)hist_quantile(&st->h, 0.50) / ms,
	    (double)hist_quantile(&st->h, 0.99) / ms, (double)st->h.max_ns / ms, cfg.threads,
	    st->reconnects);
	fflush(stdout);
}

static void
parse_args(int argc, char **argv)
{
	enum { O_URL = 256, O_CONN, O_DUR, O_WARM, O_METHOD, O_BODY, O_BODYSTR, O_TMPL,
	    O_HEADER, O_CACERT, O_CERT, O_KEY, O_THREADS, O_LABEL, O_TIMEOUT, O_SEQ, O_BODIES,
	    O_HELP };
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, O_URL },
		{ "connections", required_argument, NULL, O_CONN },
		{ "duration", required_argument, NULL, O_DUR },
		{ "warmup", required_argument, NULL, O_WARM },
		{ "method", required_argument, NULL, O_METHOD },
		{ "body", required_argument, NULL, O_BODY },
		{ "body-string", required_argument, NULL, O_BODYSTR },
		{ "body-template", required_argument, NULL, O_TMPL },
		{ "header", required_argument, NULL, O_HEADER },
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "label", required_argument, NULL, O_LABEL },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "seq-start", required_argument, NULL, O_SEQ },
		{ "bodies", required_argument, NULL, O_BODIES },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	const char *body_file = NULL, *body_string = NULL;
	char *cause = NULL;
	int ch, nbody = 0;

	cfg.label = "run";
	cfg.threads = 1;
	cfg.timeout_s = LG_DEFAULT_TIMEOUT_S;
	cfg.seq_start = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case O_URL:	cfg.url = optarg; break;
		case O_CONN:	cfg.connections = (int)parse_int("--connections", optarg, 1,
				    LG_MAX_CONNECTIONS); break;
		case O_DUR:	cfg.duration_s = parse_seconds("--duration", optarg, 0.001,
				    LG_MAX_DURATION_S); break;
		case O_WARM:	cfg.warmup_s = parse_seconds("--warmup", optarg, 0,
				    LG_MAX_DURATION_S); break;
		case O_METHOD:	cfg.method = optarg; break;
		case O_BODY:	body_file = optarg; nbody++; break;
		case O_BODYSTR:	body_string = optarg; nbody++; break;
		case O_TMPL:	cfg.body_template = optarg; nbody++; break;
		case O_BODIES:	bodies_load(optarg); nbody++; break;
		case O_HEADER:
			if (cfg.nheaders == LG_MAX_HEADERS)
				usage("too many --header options");
			if (check_header(optarg, &cause) == -1)
				usage(cause);
			cfg.headers[cfg.nheaders++] = optarg;
			break;
		case O_CACERT:	cfg.cacert = optarg; break;
		case O_CERT:	cfg.cert = optarg; break;
		case O_KEY:	cfg.key = optarg; break;
		case O_THREADS:	cfg.threads = (int)parse_int("--threads", optarg, 1,
				    LG_MAX_THREADS); break;
		case O_LABEL:	cfg.label = optarg; break;
		case O_TIMEOUT:	cfg.timeout_s = parse_seconds("--timeout", optarg, 0.001,
				    LG_MAX_TIMEOUT_S); break;
		case O_SEQ:	cfg.seq_start = (uint64_t)parse_int("--seq-start", optarg, 0,
				    LLONG_MAX / 2); break;
		case O_HELP:	usage(NULL);
		default:	usage("unknown option");
		}
	}
	if (optind != argc)
		usage("unexpected argument");
	if (cfg.url == NULL || cfg.connections == 0 || cfg.duration_s == 0)
		usage("--url, --connections and --duration are required");
	if (nbody > 1)
		usage("give at most one of --body, --body-string, --body-template");
	if ((cfg.cert == NULL) != (cfg.key == NULL))
		usage("--cert and --key go together");
	if (cfg.method == NULL)
		cfg.method = nbody ? "POST" : "GET";
	if (strcmp(cfg.method, "GET") != 0 && strcmp(cfg.method, "POST") != 0)
		usage("--method must be GET or POST");
	if (cfg.threads > cfg.connections)
		cfg.threads = cfg.connections;
	if (parse_url(cfg.url, &cause) == -1)
		usage(cause);
	if (!cfg.tls && (cfg.cacert != NULL || cfg.cert != NULL))
		usage("--cacert, --cert and --key need an https:// URL");
	if (body_file != NULL && load_file(body_file, &cfg.body, &cfg.body_len, &cause) == -1)
		usage(cause);
	if (body_string != NULL) {
		cfg.body = xstrndup(body_string, strlen(body_string));
		cfg.body_len = strlen(body_string);
	}
	if (cfg.body_len > LG_MAX_BODY ||
	    (cfg.body_template != NULL && strlen(cfg.body_template) > LG_MAX_BODY))
		usage("body too large");
}

int
main(int argc, char **argv)
{
	struct worker *workers;
	struct stats *total;
	char *cause = NULL;
	int i, next = 0, share;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(cfg.connections + 64);
	request_setup();
	atomic_store(&next_seq, cfg.seq_start);
	if (cfg.tls && (ssl_ctx = tls_setup(&cause)) == NULL)
		fatalx("TLS: %s", cause);

	workers = xcalloc((size_t)cfg.threads, sizeof(*workers));
	t_window_start = now_ns() + (uint64_t)(cfg.warmup_s * 1e9);
	t_window_end = t_window_start + (uint64_t)(cfg.duration_s * 1e9);
	for (i = 0; i < cfg.threads; i++) {
		struct worker *w = &workers[i];
		int j;

		share = cfg.connections / cfg.threads + (i < cfg.connections % cfg.threads);
		w->id = i;
		w->nconns = share;
		w->conns = xcalloc((size_t)share, sizeof(*w->conns));
		for (j = 0; j < share; j++) {
			w->conns[j].w = w;
			w->conns[j].id = next++;
		}
		if ((errno = pthread_create(&w->thread, NULL, worker_main, w)) != 0)
			fatal("pthread_create");
	}

	total = xcalloc(1, sizeof(*total));
	for (i = 0; i < cfg.threads; i++) {
		struct worker *w = &workers[i];

		if ((errno = pthread_join(w->thread, NULL)) != 0)
			fatal("pthread_join");
		total->requests += w->st.requests;
		total->non2xx += w->st.non2xx;
		total->errors += w->st.errors;
		total->reconnects += w->st.reconnects;
		hist_merge(&total->h, &w->st.h);
		free(w->conns);
	}
	print_result(total);

	free(total);
	free(workers);
	SSL_CTX_free(ssl_ctx);
	free(req.head);
	free(req.fixed);
	free(req.seg_off);
	free(req.seg_len);
	free(cfg.body);
	free(cfg.host);
	free(cfg.authority);
	free(cfg.path);
	libevent_global_shutdown();
	return 0;
}
