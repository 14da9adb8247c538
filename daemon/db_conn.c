/*
 * db_conn.c: one connection of a pool (db_conn.h). Nothing here blocks: pq_connect to
 * connect, PQsendQueryPrepared and PQflush to send, PQconsumeInput, PQisBusy and
 * PQgetResult to receive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "db_batch.h"
#include "db_conn.h"
#include "log.h"
#include "pq_connect.h"
#include "util.h"

/* Up on a read-only server, a connection tries for a writable one this often. */
#define DBC_RO_RETRY_S	3

static void	dbc_connect(struct db_conn *);
static void	dbc_event(evutil_socket_t, short, void *);
static int	dbc_flush(struct db_conn *);

/* Statements sent for the unit q heads: its queries, or one for all of them. */
static int
unit_statements(const struct db_query *q)
{
	return q->many ? 1 : q->nbatch;
}

static void
dbc_arm(struct db_conn *c, short what)
{
	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->ev_w != NULL) {
		event_free(c->ev_w);
		c->ev_w = NULL;
	}
	if (what == 0)
		return;
	c->ev = event_new(c->base, PQsocket(c->pg), what | EV_PERSIST, dbc_event, c);
	event_add(c->ev, NULL);
}

/* One place where a connection breaks: a reason, its queries handed back, a retry
 * (which seeks a writable server first). */
static void
dbc_broken(struct db_conn *c, const char *reason)
{
	struct db_queryq lost;
	struct timeval	 tv;
	int		 ms, was_up = c->state == DBC_IDLE || c->state == DBC_BUSY;

	/* a planned close (a look for a writable server) is routine: the pool says once
	 * when the database turns read-only and when it takes writes again */
	log_msg(c->retiring ? LOG_DEBUG : LOG_WARN, NULL, NULL, "db %s conn %d: %s", c->name,
	    c->idx, reason);
	c->was_read_only = c->read_only;
	c->read_only = 0;
	c->retiring = 0;
	c->any_server = 0;
	pq_connect_cancel(c->connecting);
	c->connecting = NULL;
	dbc_arm(c, 0);
	if (c->res != NULL) {
		PQclear(c->res);
		c->res = NULL;
	}
	if (c->sync_res != NULL) {
		PQclear(c->sync_res);
		c->sync_res = NULL;
	}
	if (c->pg != NULL) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->state = DBC_DOWN;
	TAILQ_INIT(&lost);
	TAILQ_CONCAT(&lost, &c->inflight, entry);
	c->depth = 0;
	c->writing = 0;
	c->cur = NULL;
	c->left = 0;
	c->await_sync = 0;
	c->sync_err = 0;
	ms = c->ops->down(c, was_up, &lost);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

/* The same, with libpq's message after what. */
static void
dbc_broken_pq(struct db_conn *c, const char *what, const char *detail)
{
	char	*msg = xasprintf("%s: %s", what, detail);

	msg[strcspn(msg, "\n")] = '\0';
	dbc_broken(c, msg);
	free(msg);
}

/* Down: connect again. Up on a read-only server: time to look for a writable one
 * (the connection closes once its queries are answered, and connects again). */
static void
dbc_timer(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn	*c = arg;

	(void)fd;
	(void)what;
	switch (c->state) {
	case DBC_DOWN:
		dbc_connect(c);
		return;
	case DBC_IDLE:
	case DBC_BUSY:
		c->retiring = 1;
		if (c->depth == 0)
			dbc_broken(c, c->standby ? "looking for a standby" :
			    "looking for a writable server");
		return;
	case DBC_CONNECTING:
	case DBC_PREPARING:
		return;
	}
}

/* Prepare statement c->prep, or, when all are, the connection starts serving. */
static void
dbc_prepare_next(struct db_conn *c)
{
	const struct db_stmt	*st;

	if (c->prep < c->nstmts) {
		st = &c->stmts[c->prep];
		if (!PQsendPrepare(c->pg, st->name, st->sql, st->nparams, NULL)) {
			dbc_broken(c, "cannot send a prepare");
			return;
		}
		(void)dbc_flush(c);
		return;
	}
	if (PQenterPipelineMode(c->pg) != 1) {
		dbc_broken(c, "cannot enter pipeline mode");
		return;
	}
	c->state = DBC_IDLE;	/* the read event notices a server-side close */
	if (c->read_only && !c->standby) {
		/* it serves reads meanwhile; staggered, so that the pool's connections do
		 * not all go at once */
		struct timeval tv = { DBC_RO_RETRY_S, c->idx % 4 * 250000 };

		evtimer_add(c->timer, &tv);
	}
	c->ops->up(c);
}

/* The session's settings (its timeouts, the smallest report cell a partner sees), and
 * whether it takes writes: a dsn may ask for any server (target_session_attrs=any), and
 * default_transaction_read_only may be set. */
static void
dbc_setup(struct db_conn *c)
{
	char		 st[24], lk[24], mc[24];
	const char	*vals[3] = { st, lk, mc };

	snprintf(st, sizeof(st), "%dms", c->statement_timeout_ms);
	snprintf(lk, sizeof(lk), "%dms", c->lock_timeout_ms);
	snprintf(mc, sizeof(mc), "%d", c->report_min_cell > 0 ? c->report_min_cell : 5);
	if (!PQsendQueryParams(c->pg, "SELECT set_config('statement_timeout', $1, false), "
	    "set_config('lock_timeout', $2, false), "
	    "set_config('fundd.report_min_cell', $3, false), "
	    "current_setting('transaction_read_only')",
	    3, NULL, vals, NULL, NULL, 0)) {
		dbc_broken_pq(c, "cannot send the session's settings", PQerrorMessage(c->pg));
		return;
	}
	(void)dbc_flush(c);
}

static void
dbc_connected(void *arg, PGconn *pg, const char *cause)
{
	struct db_conn	*c = arg;

	c->connecting = NULL;
	if (pg == NULL) {
		/* libpq's words when no host of the dsn takes writes: then any server will
		 * do, for reads */
		if (!c->any_server && !c->standby && (strstr(cause, "read-only") != NULL ||
		    strstr(cause, "hot standby") != NULL)) {
			log_msg(c->was_read_only ? LOG_DEBUG : LOG_WARN, NULL, NULL,
			    "db %s conn %d: no server takes writes (%s); connecting for "
			    "reads", c->name, c->idx, cause);
			c->any_server = 1;
			dbc_connect(c);
			return;
		}
		dbc_broken_pq(c, "connect", cause);
		return;
	}
	c->pg = pg;
	c->state = DBC_PREPARING;
	c->prep = -1;
	/* the socket is fixed now: one persistent read event, and a write event armed only
	 * when libpq could not send everything at once */
	dbc_arm(c, EV_READ);
	c->ev_w = event_new(c->base, PQsocket(c->pg), EV_WRITE, dbc_event, c);
	dbc_setup(c);
}

/* Server notices (warnings, the FATAL of a shutdown) go to our log, not to stderr raw. */
static void
dbc_notice(void *arg, const char *msg)
{
	struct db_conn	*c = arg;
	char		*m = xstrdup(msg);

	m[strcspn(m, "\n")] = '\0';
	log_msg(LOG_INFO, NULL, NULL, "db %s conn %d: server says: %s", c->name, c->idx, m);
	free(m);
}

static void
dbc_connect(struct db_conn *c)
{
	char	*cause = NULL;

	c->connecting = pq_connect_start(c->base, c->dsn, "fundd", c->standby ? "standby" :
	    c->any_server ? "any" : "read-write", dbc_notice, c, dbc_connected, c, &cause);
	if (c->connecting == NULL) {
		dbc_broken(c, cause);
		free(cause);
		return;
	}
	c->state = DBC_CONNECTING;
}

/* Push what libpq buffered; -1 when the connection broke (c is DOWN then). */
static int
dbc_flush(struct db_conn *c)
{
	int	f = PQflush(c->pg);

	if (f < 0) {
		dbc_broken(c, "flush failed");
		return -1;
	}
	c->flushing = f == 1;
	if (c->flushing)
		event_add(c->ev_w, NULL);
	return 0;
}

int
db_conn_send(struct db_conn *c, struct db_query **qs, int n, int many)
{
	struct db_query	*q;
	int		 i;

	for (i = 0; i < n; i++) {
		q = qs[i];
		q->conn = c;
		q->nbatch = i == 0 ? n : 0;
		q->many = i == 0 && many;
		TAILQ_INSERT_TAIL(&c->inflight, q, entry);
	}
	if (c->cur == NULL) {
		c->cur = qs[0];
		c->left = unit_statements(qs[0]);
	}
	c->depth += n;
	c->state = DBC_BUSY;
	if (qs[0]->flags & DB_Q_BATCH) {
		c->writing = 1;
		c->write_start = now_usec();
	}
	if (qs[0]->many)
		i = db_batch_send_many(c->pg, c->stmts[c->stmts[qs[0]->stmt].many].name, qs,
		    n) ? n : 0;
	else for (i = 0; i < n; i++) {
		q = qs[i];
		if (!PQsendQueryPrepared(c->pg, c->stmts[q->stmt].name, q->nparams,
		    (const char *const *)q->values, NULL, NULL, 0))
			break;
	}
	/* a write batch's results come before its commit: the next batch may start then */
	if (i == n && c->writing && !PQsendFlushRequest(c->pg))
		i = 0;
	if (i < n || !PQpipelineSync(c->pg)) {
		dbc_broken_pq(c, "send", PQerrorMessage(c->pg));
		return -1;
	}
	(void)dbc_flush(c);
	return 0;
}

/* The head unit is complete (results and Sync read): hand its queries to the owner. */
static void
dbc_unit_done(struct db_conn *c)
{
	struct db_query	*q = TAILQ_FIRST(&c->inflight);
	struct db_queryq done;
	PGresult	*sres = c->sync_res;
	int		 i, n = q->nbatch;

	TAILQ_INIT(&done);
	c->writing = 0;		/* (its results normally end that before) */
	for (i = 0; i < n; i++) {
		q = TAILQ_FIRST(&c->inflight);
		TAILQ_REMOVE(&c->inflight, q, entry);
		TAILQ_INSERT_TAIL(&done, q, entry);
	}
	c->depth -= n;
	c->sync_res = NULL;
	c->await_sync = 0;
	c->sync_err = 0;
	c->cur = TAILQ_FIRST(&c->inflight);
	c->left = c->cur != NULL ? unit_statements(c->cur) : 0;
	if (c->depth == 0)
		c->state = DBC_IDLE;
	c->ops->unit_done(c, &done, sres);
}

/* PREPARING: the answer to one prepare. */
static void
dbc_prepared(struct db_conn *c)
{
	PGresult	*r;

	while (!PQisBusy(c->pg)) {
		if ((r = PQgetResult(c->pg)) != NULL) {
			if (c->res == NULL)
				c->res = r;
			else
				PQclear(r);
			continue;
		}
		if (c->res == NULL) {
			dbc_broken(c, "prepare ended without a result");
			return;
		}
		if (c->prep < 0) {
			/* the session's settings */
			if (PQresultStatus(c->res) != PGRES_TUPLES_OK ||
			    PQntuples(c->res) != 1 || PQnfields(c->res) != 4) {
				dbc_broken_pq(c, "session settings",
				    PQresultErrorMessage(c->res));
				return;
			}
			c->read_only = strcmp(PQgetvalue(c->res, 0, 3), "off") != 0;
			PQclear(c->res);
			c->res = NULL;
			c->prep = 0;
			dbc_prepare_next(c);
			return;
		}
		if (PQresultStatus(c->res) != PGRES_COMMAND_OK) {
			char *what = xasprintf("prepare %s", c->stmts[c->prep].name);

			dbc_broken_pq(c, what, PQresultErrorMessage(c->res));
			free(what);
			return;
		}
		PQclear(c->res);
		c->res = NULL;
		c->prep++;
		dbc_prepare_next(c);
		return;
	}
}

static void
dbc_busy_io(struct db_conn *c, short what)
{
	PGresult	*r;
	int		 i;

	if (c->flushing && (what & EV_WRITE) && dbc_flush(c) != 0)
		return;
	if (!(what & EV_READ))
		return;
	if (!PQconsumeInput(c->pg)) {
		dbc_broken_pq(c, "read", PQerrorMessage(c->pg));
		return;
	}
	if (c->state == DBC_PREPARING) {
		dbc_prepared(c);
		return;
	}
	/*
	 * Pipeline: per unit, each query's results then NULL (PIPELINE_ABORTED then NULL for
	 * those after an error), then the PIPELINE_SYNC of its Sync. The implicit transaction
	 * commits at the Sync, so a commit-time failure (a deferred constraint, a
	 * serialization failure) arrives as an error result after the last query's NULL,
	 * before the PIPELINE_SYNC: it is the unit's outcome, whatever came before.
	 */
	while (c->depth > 0 && !PQisBusy(c->pg)) {
		r = PQgetResult(c->pg);
		if (r != NULL && PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
			if (c->await_sync) {
				c->sync_err = 1;
				db_result_keep(&c->sync_res, r);
			} else
				db_result_keep(&c->cur->res, r);
			continue;
		}
		if (r == NULL) {
			if (!c->await_sync) {
				if (c->cur->res == NULL) {
					dbc_broken(c, "query ended without a result");
					return;
				}
				if (c->cur->many) {
					/* its one statement stood for the whole unit */
					for (i = c->cur->nbatch; i > 0 && c->cur != NULL; i--)
						c->cur = TAILQ_NEXT(c->cur, entry);
				} else
					c->cur = TAILQ_NEXT(c->cur, entry);
				if (--c->left == 0) {
					c->await_sync = 1;
					c->writing = 0;	/* now committing */
				}
				continue;
			}
			if (c->sync_err) {
				c->sync_err = 0;	/* the NULL closing that error */
				continue;
			}
			break;	/* the Sync's answer has not arrived yet */
		}
		/* PGRES_PIPELINE_SYNC: the head unit is over, committed or not */
		PQclear(r);
		if (!c->await_sync) {
			dbc_broken(c, "pipeline out of step");
			return;
		}
		dbc_unit_done(c);
		if (c->state == DBC_DOWN)
			return;
		if (c->retiring && c->depth == 0) {
			dbc_broken(c, c->standby ? "looking for a standby" :
			    "looking for a writable server");
			return;
		}
	}
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		dbc_broken(c, "connection lost");
		return;
	}
	c->ops->input(c);
}

static void
dbc_event(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn	*c = arg;
	PGnotify	*n;

	(void)fd;
	switch (c->state) {
	case DBC_CONNECTING:	/* pq_connect's events until connected */
	case DBC_DOWN:
		return;
	case DBC_BUSY:
	case DBC_PREPARING:
		dbc_busy_io(c, what);
		return;
	case DBC_IDLE:
		/* Unsolicited input: a notice, or the server closing on us. */
		if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) {
			dbc_broken(c, "server closed the connection");
			return;
		}
		while ((n = PQnotifies(c->pg)) != NULL)
			PQfreemem(n);
		return;
	}
}

void
db_conn_start(struct db_conn *c)
{
	c->timer = evtimer_new(c->base, dbc_timer, c);
	TAILQ_INIT(&c->inflight);
	dbc_connect(c);
}

void
db_conn_retire(struct db_conn *c)
{
	struct timeval	tv = { 0, 0 };

	if (c->state != DBC_IDLE && c->state != DBC_BUSY)
		return;
	c->retiring = 1;
	evtimer_add(c->timer, &tv);	/* from the loop: the caller may be inside c */
}

void
db_conn_close(struct db_conn *c)
{
	struct db_query	*q;

	pq_connect_cancel(c->connecting);
	c->connecting = NULL;
	dbc_arm(c, 0);
	event_free(c->timer);
	if (c->res != NULL)
		PQclear(c->res);
	if (c->sync_res != NULL)
		PQclear(c->sync_res);
	while ((q = TAILQ_FIRST(&c->inflight)) != NULL) {
		TAILQ_REMOVE(&c->inflight, q, entry);
		db_query_free(q);
	}
	if (c->pg != NULL)
		PQfinish(c->pg);
}
