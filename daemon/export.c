/* export.c: an export streamed from a COPY to a chunked response (export.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "export.h"
#include "http.h"
#include "http_reply.h"
#include "log.h"
#include "pq_connect.h"
#include "replica.h"
#include "util.h"

#define EXPORT_CHUNK	(32 * 1024)	/* rows are framed into chunks of about this */
#define EXPORT_ROWS_PER_EVENT	4096	/* yield to the loop now and then */

enum export_state { EX_CONNECTING, EX_RANGE, EX_SENDING, EX_COPYING };

/* The time range goes to the session as parameters; the COPY text is a constant (COPY takes
 * no parameters, and no statement of fundd is built from input). */
#define EXPORT_RANGE_SQL \
	"SELECT set_config('fundd.export_from', $1, false), " \
	"set_config('fundd.export_to', $2, false)"
/* The range on the value date (basis=value) or the recording time (basis=recorded). */
#define EXPORT_RANGE_WHERE(col) \
	"WHERE x." col " >= coalesce((SELECT fl.time_in(nullif(current_setting(" \
	"'fundd.export_from'), ''))), '-infinity') AND x." col " < coalesce((SELECT " \
	"fl.time_in(nullif(current_setting('fundd.export_to'), ''))), 'infinity')"

/* The CSV: the header line, then fl.ledger_export's lines (the view formats them; the
 * digest of a closed period, fl.ledger_export_digest, reads the same lines in the same
 * order), in COPY's text format, which escapes the few control characters (ex_unescape). */
#define EXPORT_CSV(col) \
	"COPY (SELECT u.line FROM (SELECT 0 AS k, 0::bigint AS entry_id, 0::smallint AS seq, " \
	"h.line FROM fl.ledger_export_header h UNION ALL SELECT 1, x.entry_id, x.seq, x.line " \
	"FROM fl.ledger_export x " EXPORT_RANGE_WHERE(col) ") u ORDER BY u.k, u.entry_id, " \
	"u.seq) TO STDOUT"

#define EXPORT_JSONL(col) \
	"COPY (SELECT json_build_object('entry_id', entry, 'at', at, " \
	"'kind', kind, 'fund', fund, 'account', account, 'currency', currency, " \
	"'amount', amount, 'memo', memo, 'value_date', value_date)::text " \
	"FROM fl.ledger_export x " EXPORT_RANGE_WHERE(col) " ORDER BY x.entry_id, x.seq) " \
	"TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"

struct export {
	struct http_req		*r;
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
	int			 standby;	/* connecting to the standby (replica.h) */
	char			*primary;	/* the primary's dsn */
	const char		*replica;	/* the standby's */
};

static atomic_int	exports_running;

static void	ex_event(evutil_socket_t, short, void *);

static void
ex_arm(struct export *x, short what)
{
	if (x->ev != NULL)
		event_free(x->ev);
	x->ev = event_new(http_req_base(x->r), PQsocket(x->pg), what, ex_event, x);
	event_add(x->ev, NULL);
}

/* The request's reset frees it, whatever state it is in. */
static void
export_free(void *arg)
{
	struct export	*x = arg;

	pq_connect_cancel(x->connecting);
	if (x->ev != NULL)
		event_free(x->ev);
	if (x->pg != NULL)
		PQfinish(x->pg);	/* mid-COPY: the server notices the closed socket */
	if (x->batch != NULL)
		evbuffer_free(x->batch);
	free(x->primary);
	free(x);
	atomic_fetch_sub(&exports_running, 1);
}

/* The export cannot go on: it stops producing, and the request ends it (http_reply.h);
 * x stays the request's until then. */
static void
ex_abort(struct export *x, char *msg)
{
	msg[strcspn(msg, "\n")] = '\0';
	if (x->ev != NULL) {
		event_free(x->ev);
		x->ev = NULL;
	}
	http_stream_abort(x->r, msg);
}

/* The same, with libpq's last error after what. */
static void
ex_fail(struct export *x, const char *what, const char *detail)
{
	char	msg[256];

	snprintf(msg, sizeof(msg), "%s: %s", what, detail);
	ex_abort(x, msg);
}

static void ex_copy(struct export *);

/* One row of COPY's text format (one column, with its "\n") into out as the text it
 * stands for: COPY TO escapes a backslash and the controls BS, FF, LF, CR, TAB and VT. */
static void
ex_unescape(const char *row, size_t n, struct evbuffer *out)
{
	const char	*p = row, *end, *bs;
	char		 c;

	if (n > 0 && row[n - 1] == '\n')
		n--;
	end = row + n;
	while ((bs = memchr(p, '\\', (size_t)(end - p))) != NULL && bs + 1 < end) {
		evbuffer_add(out, p, (size_t)(bs - p));
		switch (bs[1]) {
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'v':
			c = '\v';
			break;
		default:
			c = bs[1];	/* "\\" */
			break;
		}
		evbuffer_add(out, &c, 1);
		p = bs + 2;
	}
	evbuffer_add(out, p, (size_t)(end - p));
}

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
		if (http_stream_full(x->r)) {
			/* back-pressure: stop reading PostgreSQL until the client drains */
			http_stream_chunk(x->r, x->batch);
			event_del(x->ev);
			return;
		}
		n = PQgetCopyData(x->pg, &row, 1);
		if (n > 0) {
			if (x->csv) {
				ex_unescape(row, (size_t)n, x->batch);
				evbuffer_add(x->batch, "\r\n", 2);	/* RFC 4180 line ends */
			} else
				evbuffer_add(x->batch, row, (size_t)n);
			PQfreemem(row);
			x->rows++;
			if (evbuffer_get_length(x->batch) >= EXPORT_CHUNK)
				http_stream_chunk(x->r, x->batch);
			continue;
		}
		if (n == 0) {
			/* nothing buffered: wait for the socket */
			http_stream_chunk(x->r, x->batch);
			event_add(x->ev, NULL);
			return;
		}
		if (n == -2) {
			ex_fail(x, "COPY failed", PQerrorMessage(x->pg));
			return;
		}
		/* n == -1: done; the final result says whether the COPY succeeded */
		r = PQgetResult(x->pg);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			char msg[256];

			snprintf(msg, sizeof(msg), "COPY ended with %s",
			    PQresultErrorMessage(r));
			PQclear(r);
			ex_abort(x, msg);
			return;
		}
		PQclear(r);
		while ((r = PQgetResult(x->pg)) != NULL)
			PQclear(r);
		http_stream_chunk(x->r, x->batch);
		log_msg(LOG_INFO, http_req_peer(x->r), http_req_id(x->r),
		    "%s export: %lld rows", x->kind == EXPORT_AUDIT ? "audit" : "ledger",
		    x->rows);
		event_del(x->ev);
		http_stream_end(x->r);	/* the request frees x when it ends */
		return;
	}
	/* fairness: let other connections of this loop run, then go on */
	http_stream_chunk(x->r, x->batch);
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
			ex_fail(x, "database", PQerrorMessage(x->pg));
			return;
		}
		while (!PQisBusy(x->pg) && (r = PQgetResult(x->pg)) != NULL) {
			int ok = PQresultStatus(r) == PGRES_TUPLES_OK;

			PQclear(r);
			if (!ok) {
				ex_fail(x, "cannot set the export's range",
				    PQerrorMessage(x->pg));
				return;
			}
		}
		if (PQisBusy(x->pg))
			return;
		if (!PQsendQuery(x->pg, x->sql)) {
			ex_fail(x, "cannot start the COPY", PQerrorMessage(x->pg));
			return;
		}
		x->state = EX_SENDING;
		/* FALLTHROUGH */
	case EX_SENDING:
		if (ex_flush(x) < 0) {
			ex_fail(x, "cannot send the COPY", PQerrorMessage(x->pg));
			return;
		}
		if (!PQconsumeInput(x->pg)) {
			ex_fail(x, "database read", PQerrorMessage(x->pg));
			return;
		}
		if (PQisBusy(x->pg))
			return;
		r = PQgetResult(x->pg);
		if (PQresultStatus(r) != PGRES_COPY_OUT) {
			char msg[256];

			snprintf(msg, sizeof(msg), "COPY refused: %s", PQresultErrorMessage(r));
			PQclear(r);
			ex_abort(x, msg);
			return;
		}
		PQclear(r);
		x->state = EX_COPYING;
		ex_arm(x, EV_READ);	/* one-shot: re-added only while we want rows */
		http_stream_begin(x->r, x->csv ? "text/csv; charset=utf-8; header=present" :
		    "application/x-ndjson", NULL);
		http_stream_on_drain(x->r, ex_drained, x);
		ex_copy(x);
		return;
	case EX_COPYING:
		if (!PQconsumeInput(x->pg)) {
			ex_fail(x, "database read", PQerrorMessage(x->pg));
			return;
		}
		ex_copy(x);
		return;
	}
}

static int	ex_connect(struct export *, int standby, char **cause);

static void
ex_connected(void *arg, PGconn *pg, const char *cause)
{
	struct export	*x = arg;
	char		*c2 = NULL;

	x->connecting = NULL;
	if (pg == NULL && x->standby) {
		log_msg(LOG_WARN, http_req_peer(x->r), http_req_id(x->r), "export: the standby "
		    "cannot be reached (%s); exporting from the primary", cause);
		replica_answered(0, 1);
		if (ex_connect(x, 0, &c2) != 0) {
			ex_fail(x, "database connection", c2);
			free(c2);
		}
		return;
	}
	if (pg == NULL) {
		ex_fail(x, "database connection", cause);
		return;
	}
	if (x->standby)
		replica_answered(1, 0);
	x->pg = pg;
	if (!PQsendQueryParams(x->pg, EXPORT_RANGE_SQL, 2, NULL,
	    (const char *const[]){ x->from, x->to }, NULL, NULL, 0)) {
		ex_fail(x, "cannot start the export", PQerrorMessage(x->pg));
		return;
	}
	x->state = EX_RANGE;
	x->writing = 1;
	ex_arm(x, EV_READ | EV_WRITE | EV_PERSIST);
	ex_event(PQsocket(x->pg), EV_WRITE, x);
}

/* Connect to the standby (a server in recovery) or the primary. */
static int
ex_connect(struct export *x, int standby, char **cause)
{
	x->standby = standby;
	x->state = EX_CONNECTING;
	x->connecting = pq_connect_start(http_req_base(x->r), standby ? x->replica :
	    x->primary, "fundd-export", standby ? "standby" : NULL, NULL, NULL, ex_connected,
	    x, cause);
	return x->connecting != NULL ? 0 : -1;
}

int
export_start(struct http_req *r, const struct export_spec *spec, const char *dsn,
    char **err)
{
	struct export		*x;
	struct replica		*rep = http_req_replica(r);
	const struct auth_creds	*cr;
	char			*cause = NULL;
	const char		*select;

	if (atomic_fetch_add(&exports_running, 1) >= EXPORT_MAX_RUNNING) {
		atomic_fetch_sub(&exports_running, 1);
		*err = xstrdup("too many exports running; retry later\n");
		return 503;
	}
	if (spec->kind == EXPORT_AUDIT)
		/* one snapshot: events in seq order, each checkpoint after its event */
		select = "COPY (SELECT line FROM fl.audit_export ORDER BY seq, kind) "
		    "TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')";
	else if (spec->csv)
		select = spec->recorded ? EXPORT_CSV("at_ts") : EXPORT_CSV("value_ts");
	else
		select = spec->recorded ? EXPORT_JSONL("at_ts") : EXPORT_JSONL("value_ts");

	x = xcalloc(1, sizeof(*x));
	x->r = r;
	x->csv = spec->kind == EXPORT_LEDGER && spec->csv;
	x->kind = spec->kind;
	x->sql = select;
	snprintf(x->from, sizeof(x->from), "%s", spec->from);
	snprintf(x->to, sizeof(x->to), "%s", spec->to);
	x->batch = evbuffer_new();
	x->primary = xstrdup(dsn);
	x->replica = replica_dsn(rep);
	(void)http_req_creds(r, &cr);
	if (replica_pick(rep, cr, spec->consistent) && ex_connect(x, 1, &cause) != 0) {
		free(cause);
		cause = NULL;
		replica_answered(0, 1);
	}
	if (x->connecting == NULL && ex_connect(x, 0, &cause) != 0) {
		free(cause);
		export_free(x);
		*err = xstrdup("database unavailable\n");
		return 503;
	}
	http_req_hold(r, x, export_free);
	return 0;
}
