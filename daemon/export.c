/* export.c: the streamed ledger export. */
#include <ctype.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "export.h"
#include "http.h"
#include "log.h"
#include "pq_connect.h"
#include "util.h"
#include "validate.h"

#define EXPORT_CHUNK	(32 * 1024)	/* rows are framed into chunks of about this */
#define EXPORT_ROWS_PER_EVENT	4096	/* yield to the loop now and then */

enum export_state { EX_CONNECTING, EX_RANGE, EX_SENDING, EX_COPYING };

/* The time range goes to the session as parameters; the COPY text is a constant (COPY takes
 * no parameters, and no statement of fundd is built from input). */
#define EXPORT_RANGE_SQL \
	"SELECT set_config('fundd.export_from', $1, false), " \
	"set_config('fundd.export_to', $2, false)"
#define EXPORT_RANGE_WHERE \
	"WHERE x.at_ts >= coalesce((SELECT fl.time_in(nullif(current_setting(" \
	"'fundd.export_from'), ''))), '-infinity') AND x.at_ts < coalesce((SELECT " \
	"fl.time_in(nullif(current_setting('fundd.export_to'), ''))), 'infinity')"

struct export {
	struct conn		*c;
	enum export_state	 state;
	PGconn			*pg;
	struct pq_connect	*connecting;	/* EX_CONNECTING */
	struct event		*ev;
	const char		*sql;
	char			 from[64], to[64];
	int			 csv;
	struct evbuffer		*batch;
	long long		 rows;
	enum export_kind	 kind;
	int			 writing;	/* armed for EV_WRITE: a query not yet all sent */
};

static atomic_int	exports_running;

static void	ex_event(evutil_socket_t, short, void *);

static void
ex_arm(struct export *x, short what)
{
	if (x->ev != NULL)
		event_free(x->ev);
	x->ev = event_new(http_conn_base(x->c), PQsocket(x->pg), what, ex_event, x);
	event_add(x->ev, NULL);
}

void
export_free(struct export *x)
{
	if (x == NULL)
		return;
	pq_connect_cancel(x->connecting);
	if (x->ev != NULL)
		event_free(x->ev);
	if (x->pg != NULL)
		PQfinish(x->pg);	/* mid-COPY: the server notices the closed socket */
	if (x->batch != NULL)
		evbuffer_free(x->batch);
	free(x);
	atomic_fetch_sub(&exports_running, 1);
}

/* Fails the export: nothing else may touch x afterwards (the connection frees it, at once
 * or, when a 503 is still answered, when that response is done). */
static void
ex_abort(struct export *x, const char *what, const char *detail)
{
	char	buf[256];

	snprintf(buf, sizeof(buf), "%s: %s", what, detail);
	buf[strcspn(buf, "\n")] = '\0';
	http_stream_abort(x->c, buf);
}

static void
ex_fail(struct export *x, const char *what)
{
	ex_abort(x, what, x->pg != NULL ? PQerrorMessage(x->pg) : "");
}

static void ex_copy(struct export *);

/* Send what libpq holds; wait for writability only while something is left (a socket is
 * nearly always writable: waiting for it otherwise spins). -1 on error. */
static int
ex_flush(struct export *x)
{
	int	left;

	if ((left = PQflush(x->pg)) < 0)
		return -1;
	if (left != x->writing) {
		x->writing = left;
		ex_arm(x, left ? EV_READ | EV_WRITE | EV_PERSIST : EV_READ | EV_PERSIST);
	}
	return 0;
}

static void
ex_drained(void *arg)
{
	struct export	*x = arg;

	if (x->state == EX_COPYING && x->ev != NULL && !event_pending(x->ev, EV_READ, NULL))
		ex_copy(x);
}

/* Move rows from PostgreSQL to the client until the output is full or PostgreSQL has
 * nothing more for now. */
static void
ex_copy(struct export *x)
{
	char		*row;
	int		 n, i;
	PGresult	*r;

	for (i = 0; i < EXPORT_ROWS_PER_EVENT; i++) {
		if (http_stream_full(x->c)) {
			/* back-pressure: stop reading PostgreSQL until the client drains */
			http_stream_chunk(x->c, x->batch);
			event_del(x->ev);
			return;
		}
		n = PQgetCopyData(x->pg, &row, 1);
		if (n > 0) {
			if (x->csv && row[n - 1] == '\n') {
				evbuffer_add(x->batch, row, (size_t)n - 1);
				evbuffer_add(x->batch, "\r\n", 2);	/* RFC 4180 line ends */
			} else
				evbuffer_add(x->batch, row, (size_t)n);
			PQfreemem(row);
			x->rows++;
			if (evbuffer_get_length(x->batch) >= EXPORT_CHUNK)
				http_stream_chunk(x->c, x->batch);
			continue;
		}
		if (n == 0) {
			/* nothing buffered: wait for the socket */
			http_stream_chunk(x->c, x->batch);
			event_add(x->ev, NULL);
			return;
		}
		if (n == -2) {
			ex_fail(x, "COPY failed");
			return;
		}
		/* n == -1: done; the final result says whether the COPY succeeded */
		r = PQgetResult(x->pg);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			char msg[256];

			snprintf(msg, sizeof(msg), "COPY ended with %s",
			    PQresultErrorMessage(r));
			PQclear(r);
			msg[strcspn(msg, "\n")] = '\0';
			http_stream_abort(x->c, msg);
			return;
		}
		PQclear(r);
		while ((r = PQgetResult(x->pg)) != NULL)
			PQclear(r);
		http_stream_chunk(x->c, x->batch);
		log_msg(LOG_INFO, http_conn_peer(x->c), http_conn_reqid(x->c),
		    "%s export: %lld rows", x->kind == EXPORT_AUDIT ? "audit" : "ledger",
		    x->rows);
		event_del(x->ev);
		http_stream_end(x->c);	/* the connection frees x when it resets */
		return;
	}
	/* fairness: let other connections of this loop run, then go on */
	http_stream_chunk(x->c, x->batch);
	event_active(x->ev, EV_READ, 0);
}

static void
ex_event(evutil_socket_t fd, short what, void *arg)
{
	struct export	*x = arg;
	PGresult	*r;

	(void)fd;
	(void)what;
	switch (x->state) {
	case EX_CONNECTING:	/* pq_connect's events until connected */
		return;
	case EX_RANGE:
		if (ex_flush(x) < 0 || !PQconsumeInput(x->pg)) {
			ex_fail(x, "database");
			return;
		}
		while (!PQisBusy(x->pg) && (r = PQgetResult(x->pg)) != NULL) {
			int ok = PQresultStatus(r) == PGRES_TUPLES_OK;

			PQclear(r);
			if (!ok) {
				ex_fail(x, "cannot set the export's range");
				return;
			}
		}
		if (PQisBusy(x->pg))
			return;
		if (!PQsendQuery(x->pg, x->sql)) {
			ex_fail(x, "cannot start the COPY");
			return;
		}
		x->state = EX_SENDING;
		/* FALLTHROUGH */
	case EX_SENDING:
		if (ex_flush(x) < 0) {
			ex_fail(x, "cannot send the COPY");
			return;
		}
		if (!PQconsumeInput(x->pg)) {
			ex_fail(x, "database read");
			return;
		}
		if (PQisBusy(x->pg))
			return;
		r = PQgetResult(x->pg);
		if (PQresultStatus(r) != PGRES_COPY_OUT) {
			char msg[256];

			snprintf(msg, sizeof(msg), "COPY refused: %s", PQresultErrorMessage(r));
			PQclear(r);
			msg[strcspn(msg, "\n")] = '\0';
			http_stream_abort(x->c, msg);
			return;
		}
		PQclear(r);
		x->state = EX_COPYING;
		ex_arm(x, EV_READ);	/* one-shot: re-added only while we want rows */
		http_stream_begin(x->c, x->csv ? "text/csv; charset=utf-8; header=present" :
		    "application/x-ndjson", NULL);
		http_stream_on_drain(x->c, ex_drained);
		ex_copy(x);
		return;
	case EX_COPYING:
		if (!PQconsumeInput(x->pg)) {
			ex_fail(x, "database read");
			return;
		}
		ex_copy(x);
		return;
	}
}

static void
ex_connected(void *arg, PGconn *pg, const char *cause)
{
	struct export	*x = arg;

	x->connecting = NULL;
	if (pg == NULL) {
		ex_abort(x, "database connection", cause);
		return;
	}
	x->pg = pg;
	if (!PQsendQueryParams(x->pg, EXPORT_RANGE_SQL, 2, NULL,
	    (const char *const[]){ x->from, x->to }, NULL, NULL, 0)) {
		ex_fail(x, "cannot start the export");
		return;
	}
	x->state = EX_RANGE;
	x->writing = 1;
	ex_arm(x, EV_READ | EV_WRITE | EV_PERSIST);
	ex_event(PQsocket(x->pg), EV_WRITE, x);
}

/* Percent-decode src into dst (dstlen bytes); -1 if malformed or too long. */
static int
url_decode(const char *src, size_t n, char *dst, size_t dstlen)
{
	size_t	i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)src[i];

		if (c == '%') {
			if (i + 2 >= n + 0 || !isxdigit((unsigned char)src[i + 1]) ||
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

/* "from"/"to": a date (midnight UTC) or an RFC 3339 UTC time. */
static int
when_ok(const char *v)
{
	const char	*reason;

	if (strlen(v) == 10)
		return v_date(v, &reason) == 0;
	return v_time(v, &reason) == 0;
}

int
export_start(struct conn *c, enum export_kind kind, const char *dsn, const char *query,
    struct export **out, char **err)
{
	char		 fmt[16] = "csv", from[64] = "", to[64] = "", key[32], val[64];
	char		*cause = NULL;
	const char	*p = query, *amp, *eq;
	struct export	*x;
	const char	*select;

	while (*p != '\0') {
		size_t len;

		amp = strchr(p, '&');
		len = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', len);
		if (eq == NULL || url_decode(p, (size_t)(eq - p), key, sizeof(key)) != 0 ||
		    url_decode(eq + 1, len - (size_t)(eq - p) - 1, val, sizeof(val)) != 0) {
			*err = xstrdup("bad query string\n");
			return 400;
		}
		if (kind == EXPORT_AUDIT) {
			if (strcmp(key, "format") != 0 || strcmp(val, "jsonl") != 0) {
				*err = xasprintf("bad query parameter '%s': the audit export "
				    "takes format=jsonl only\n", key);
				return 400;
			}
		} else if (strcmp(key, "format") == 0 && (strcmp(val, "csv") == 0 ||
		    strcmp(val, "jsonl") == 0))
			snprintf(fmt, sizeof(fmt), "%s", val[0] == 'c' ? "csv" : "jsonl");
		else if (strcmp(key, "from") == 0 && when_ok(val))
			snprintf(from, sizeof(from), "%s", val);
		else if (strcmp(key, "to") == 0 && when_ok(val))
			snprintf(to, sizeof(to), "%s", val);
		else {
			*err = xasprintf("bad query parameter '%s': format=csv|jsonl, from and "
			    "to a date (YYYY-MM-DD) or an RFC 3339 UTC time\n", key);
			return 400;
		}
		p = amp != NULL ? amp + 1 : p + len;
	}
	if (atomic_fetch_add(&exports_running, 1) >= EXPORT_MAX_RUNNING) {
		atomic_fetch_sub(&exports_running, 1);
		*err = xstrdup("too many exports running; retry later\n");
		return 503;
	}
	if (kind == EXPORT_AUDIT)
		/* one snapshot: events in seq order, each checkpoint after its event */
		select = "COPY (SELECT line FROM fl.audit_export ORDER BY seq, kind) "
		    "TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')";
	else if (strcmp(fmt, "csv") == 0)
		select = "COPY (SELECT entry AS entry_id, at, kind, fund, account, currency, "
		    "amount, memo FROM fl.ledger_export x " EXPORT_RANGE_WHERE " ORDER BY "
		    "x.entry_id, x.seq) TO STDOUT WITH (FORMAT csv, HEADER)";
	else
		select = "COPY (SELECT json_build_object('entry_id', entry, 'at', at, "
		    "'kind', kind, 'fund', fund, 'account', account, 'currency', currency, "
		    "'amount', amount, 'memo', memo)::text FROM fl.ledger_export x "
		    EXPORT_RANGE_WHERE " ORDER BY x.entry_id, x.seq) TO STDOUT WITH (FORMAT csv, "
		    "QUOTE E'\\x01', DELIMITER E'\\x02')";

	x = xcalloc(1, sizeof(*x));
	x->c = c;
	x->csv = kind == EXPORT_LEDGER && strcmp(fmt, "csv") == 0;
	x->kind = kind;
	x->sql = select;
	snprintf(x->from, sizeof(x->from), "%s", from);
	snprintf(x->to, sizeof(x->to), "%s", to);
	x->batch = evbuffer_new();
	x->state = EX_CONNECTING;
	x->connecting = pq_connect_start(http_conn_base(c), dsn, "fundd-export", NULL, NULL,
	    ex_connected, x, &cause);
	if (x->connecting == NULL) {
		free(cause);
		export_free(x);
		*err = xstrdup("database unavailable\n");
		return 503;
	}
	*out = x;
	return 0;
}
