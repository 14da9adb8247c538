/*
 * db_pool.c: non-blocking libpq on libevent.
 *
 * Each connection is a small state machine (enum pgc_state); the pool keeps them in one
 * array and the waiting queries in a FIFO. No call here blocks: PQconnectStartParams and
 * PQconnectPoll to connect (re-reading PQsocket after each poll), PQsendQueryParams and
 * PQflush to send, PQconsumeInput/PQisBusy/PQgetResult to receive, draining every result
 * before a connection goes back to IDLE.
 *
 * What goes out on a connection is a sequence of units, each its queries then one Sync,
 * so each unit is one implicit transaction: a single query, or a batch of DB_Q_BATCH
 * queries that commit together (see db_pool.h and docs/batching.md). A batch goes out
 * as its queries one after the other, or, when its statement has a "many" form and the
 * pool was made with one_statement, as one query of that form whose rows are split
 * into a result per query.
 */
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>

#include "db_pool.h"
#include "log.h"
#include "pq_connect.h"
#include "util.h"

#define DB_BACKOFF_MIN_MS	100
#define DB_BACKOFF_MAX_MS	5000
/* Queries in flight on one connection (pipeline mode, a Sync after each, so each is still
 * its own transaction). Idle connections are used first; past depth 1 a busy connection
 * takes more only when none is idle, which saves a wakeup per query under load, and only
 * reads: a write waits for an idle connection (measured: contribution.receive at 32
 * connections, p99 23 ms that way against 26-28 ms when writes were pipelined too;
 * system.whoami gains 15% from pipelining). */
#define DB_PIPELINE_MAX		4
/* The most queries one batch may hold, whatever batch_max says: each call of a batch is a
 * sub-transaction, and PostgreSQL caches 64 sub-transaction ids per backend before its
 * snapshots get slow. */
#define DB_BATCH_CAP		32

enum pgc_state {
	PGC_DOWN,		/* waiting for the reconnect timer */
	PGC_CONNECTING,
	PGC_PREPARING,		/* connected, preparing the pool's statements */
	PGC_IDLE,
	PGC_BUSY,		/* one or more queries in flight */
};

struct db_query {
	TAILQ_ENTRY(db_query)	 entry;
	struct db_pool		*pool;
	struct pgconn		*conn;		/* running on, or NULL */
	int			 stmt;
	int			 flags;		/* DB_Q_* */
	int			 nparams;
	char			**values;
	db_cb			 cb;		/* NULL once cancelled */
	void			*arg;
	enum db_status		 status;	/* for queries failed before running */
	int			 queued;	/* on pool->waitq or pool->failed */
	int			 nbatch;	/* running: queries in the unit it heads, or 0 */
	int			 many;		/* that unit went out as one statement */
	PGresult		*res;		/* running: its result (the first error wins) */
};
TAILQ_HEAD(db_queryq, db_query);

struct pgconn {
	struct db_pool	*pool;
	int		 idx;
	enum pgc_state	 state;
	PGconn		*pg;
	struct pq_connect *connecting;	/* CONNECTING */
	struct event	*ev;		/* socket readable (persistent) */
	struct event	*ev_w;		/* socket writable, armed only while PQflush owes */
	struct event	*timer;		/* reconnect backoff */
	struct db_queryq inflight;	/* BUSY: sent, oldest first, in units */
	int		 depth;		/* queries in flight */
	struct db_query	*cur;		/* BUSY: the query whose results come next */
	int		 left;		/* queries of the head unit still to read */
	int		 await_sync;	/* head unit's results are in; its Sync is next */
	int		 sync_err;	/* an error came while awaiting the Sync */
	PGresult	*sync_res;	/* that error: the unit's commit failed */
	PGresult	*res;		/* PREPARING: first result */
	int		 flushing;
	int		 prep;		/* PREPARING: statement being prepared */
	int		 writing;	/* its DB_Q_BATCH unit is running: results not in yet */
	long long	 write_start;	/* now_usec() when that unit was sent */
};

struct db_pool {
	struct event_base	*base;
	char			*dsn;
	char			*name;
	const struct db_stmt	*stmts;
	int			 nstmts;
	int			 size;
	int			 wait_max;
	int			 batch_max;
	int			 writers;	/* batches of DB_Q_BATCH writes running at once */
	int			 one_statement;	/* batches go out in their "many" form */
	long long		 stall_us;	/* past this a running one no longer counts */
	struct event		*ev_stall;	/* dispatch again when one turns stalled */
	struct pgconn		*conns;
	struct db_queryq	 waitq;
	struct db_queryq	 failed;	/* answered before running, delivered by ev_failed */
	struct event		*ev_failed;
	int			 nwait;
	int			 orphans;	/* cancelled while running */
	int			 down;		/* last attempt failed and none is up */
	int			 backoff_ms;
	_Atomic int		 in_use;
	_Atomic int		 waiting;
	_Atomic int		 healthy;
	_Atomic unsigned long	 batches;	/* of two or more queries */
	_Atomic unsigned long	 batched;	/* queries in them */
	_Atomic unsigned long	 batch_failed;	/* rolled back, run again one by one */
	void			(*idle_cb)(void *);	/* nothing outstanding any more */
	void			*idle_arg;
};

static void	pgc_connect(struct pgconn *);
static void	pgc_event(evutil_socket_t, short, void *);
static void	pool_dispatch(struct db_pool *);
static void	pgc_prepare_next(struct pgconn *);
static int	pgc_flush(struct pgconn *);
static void	pgc_notice(void *, const char *);

/* After a query is answered or dropped: tell the owner when nothing is left. */
static void
pool_maybe_idle(struct db_pool *p)
{
	if (p->idle_cb != NULL && db_pool_outstanding(p) == 0)
		p->idle_cb(p->idle_arg);
}

static void
query_free(struct db_query *q)
{
	int	i;

	if (q->res != NULL)
		PQclear(q->res);
	for (i = 0; i < q->nparams; i++)
		free(q->values[i]);
	free(q->values);
	free(q);
}

/* Answer q without running it, from the loop (never synchronously). */
static void
query_fail_later(struct db_query *q, enum db_status st)
{
	struct db_pool	*p = q->pool;

	q->status = st;
	q->queued = 1;
	TAILQ_INSERT_TAIL(&p->failed, q, entry);
	event_active(p->ev_failed, EV_TIMEOUT, 0);
}

static void
deliver_failed(evutil_socket_t fd, short what, void *arg)
{
	struct db_pool	*p = arg;
	struct db_query	*q;

	(void)fd;
	(void)what;
	while ((q = TAILQ_FIRST(&p->failed)) != NULL) {
		TAILQ_REMOVE(&p->failed, q, entry);
		q->queued = 0;
		if (q->cb != NULL)
			q->cb(q->arg, q->status, NULL);
		query_free(q);
	}
	pool_maybe_idle(p);
}

static void
update_gauges(struct db_pool *p)
{
	int	i, busy = 0, up = 0;

	for (i = 0; i < p->size; i++) {
		if (p->conns[i].state == PGC_BUSY)
			busy++;
		if (p->conns[i].state == PGC_BUSY || p->conns[i].state == PGC_IDLE)
			up++;
	}
	p->in_use = busy;
	p->healthy = up;
	p->waiting = p->nwait;
}

/* Every waiting query fails at once when no connection is up and connecting failed. */
static void
pool_fail_waiting(struct db_pool *p)
{
	struct db_query	*q;

	while ((q = TAILQ_FIRST(&p->waitq)) != NULL) {
		TAILQ_REMOVE(&p->waitq, q, entry);
		p->nwait--;
		query_fail_later(q, DB_UNAVAILABLE);
	}
}

static void
pgc_arm(struct pgconn *c, short what)
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
	c->ev = event_new(c->pool->base, PQsocket(c->pg), what | EV_PERSIST, pgc_event, c);
	event_add(c->ev, NULL);
}

/* One place where a connection breaks: a reason, the running query answered, a retry. */
static void
pgc_broken(struct pgconn *c, const char *reason)
{
	struct db_pool	*p = c->pool;
	struct timeval	 tv;
	struct db_query	*q;
	int		 was_up = c->state == PGC_IDLE || c->state == PGC_BUSY;

	log_warnx("db %s conn %d: %s", p->name, c->idx, reason);
	pq_connect_cancel(c->connecting);
	c->connecting = NULL;
	pgc_arm(c, 0);
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
	c->state = PGC_DOWN;
	/* whatever was in flight: the outcome is unknown to us */
	while ((q = TAILQ_FIRST(&c->inflight)) != NULL) {
		TAILQ_REMOVE(&c->inflight, q, entry);
		q->conn = NULL;
		q->nbatch = 0;
		q->many = 0;
		if (q->res != NULL) {
			PQclear(q->res);
			q->res = NULL;
		}
		if (q->cb == NULL)
			p->orphans--;
		query_fail_later(q, DB_LOST);
	}
	c->depth = 0;
	c->writing = 0;
	c->cur = NULL;
	c->left = 0;
	c->await_sync = 0;
	c->sync_err = 0;
	update_gauges(p);
	if (!was_up || p->healthy == 0)
		p->down = 1;
	if (p->down && p->healthy == 0)
		pool_fail_waiting(p);
	tv.tv_sec = p->backoff_ms / 1000;
	tv.tv_usec = (p->backoff_ms % 1000) * 1000;
	if (!was_up) {
		p->backoff_ms *= 2;
		if (p->backoff_ms > DB_BACKOFF_MAX_MS)
			p->backoff_ms = DB_BACKOFF_MAX_MS;
	} else
		tv.tv_sec = 0, tv.tv_usec = 0;	/* first retry at once */
	evtimer_add(c->timer, &tv);
}

static void
pgc_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pgc_connect(arg);
}

static void
pgc_connected(void *arg, PGconn *pg, const char *cause)
{
	struct pgconn	*c = arg;
	char		*msg;

	c->connecting = NULL;
	if (pg == NULL) {
		msg = xasprintf("connect: %s", cause);
		pgc_broken(c, msg);
		free(msg);
		return;
	}
	c->pg = pg;
	c->state = PGC_PREPARING;
	c->prep = 0;
	/* the socket is fixed now: one persistent read event, and a write event armed only
	 * when libpq could not send everything at once */
	pgc_arm(c, EV_READ);
	c->ev_w = event_new(c->pool->base, PQsocket(c->pg), EV_WRITE, pgc_event, c);
	pgc_prepare_next(c);
}

static void
pgc_connect(struct pgconn *c)
{
	char	*cause = NULL;

	c->connecting = pq_connect_start(c->pool->base, c->pool->dsn, "fundd", pgc_notice, c,
	    pgc_connected, c, &cause);
	if (c->connecting == NULL) {
		pgc_broken(c, cause);
		free(cause);
		return;
	}
	c->state = PGC_CONNECTING;
}

/* Push what libpq buffered; -1 when the connection broke (c is DOWN then). */
static int
pgc_flush(struct pgconn *c)
{
	int	f = PQflush(c->pg);

	if (f < 0) {
		pgc_broken(c, "flush failed");
		return -1;
	}
	c->flushing = f == 1;
	if (c->flushing)
		event_add(c->ev_w, NULL);
	return 0;
}

/* Prepare statement c->prep, or, when all are, the connection starts serving. */
static void
pgc_prepare_next(struct pgconn *c)
{
	struct db_pool		*p = c->pool;
	const struct db_stmt	*st;

	if (c->prep < p->nstmts) {
		st = &p->stmts[c->prep];
		if (!PQsendPrepare(c->pg, st->name, st->sql, st->nparams, NULL)) {
			pgc_broken(c, "cannot send a prepare");
			return;
		}
		(void)pgc_flush(c);
		return;
	}
	if (PQenterPipelineMode(c->pg) != 1) {
		pgc_broken(c, "cannot enter pipeline mode");
		return;
	}
	if (p->down)
		log_info("db %s: connected again", p->name);
	p->down = 0;
	p->backoff_ms = DB_BACKOFF_MIN_MS;
	c->state = PGC_IDLE;	/* the read event notices a server-side close */
	update_gauges(p);
	pool_dispatch(p);
}

/* Server notices (warnings, the FATAL of a shutdown) go to our log, not to stderr raw. */
static void
pgc_notice(void *arg, const char *msg)
{
	struct pgconn	*c = arg;
	char		*m = xstrdup(msg);

	m[strcspn(m, "\n")] = '\0';
	log_msg(LOG_INFO, NULL, NULL, "db %s conn %d: server says: %s", c->pool->name, c->idx, m);
	free(m);
}

/* Statements sent for the unit q heads: its queries, or one for all of them. */
static int
unit_statements(const struct db_query *q)
{
	return q->many ? 1 : q->nbatch;
}

char *
db_array_literal(const char *const *values, int n)
{
	size_t		 len = 3, j;
	char		*out, *o;
	const char	*v;
	int		 i;

	for (i = 0; i < n; i++)
		len += values[i] == NULL ? 5 : 3 + 2 * strlen(values[i]);
	o = out = xmalloc(len);
	*o++ = '{';
	for (i = 0; i < n; i++) {
		if (i > 0)
			*o++ = ',';
		if ((v = values[i]) == NULL) {
			memcpy(o, "NULL", 4);
			o += 4;
			continue;
		}
		*o++ = '"';
		for (j = 0; v[j] != '\0'; j++) {
			if (v[j] == '"' || v[j] == '\\')
				*o++ = '\\';
			*o++ = v[j];
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

/* Send the queries qs[0..n-1] (n >= 2, one statement) as one query of its "many" form. */
static int
pgc_send_many(struct pgconn *c, struct db_query **qs, int n)
{
	const struct db_stmt *st = &c->pool->stmts[qs[0]->stmt];
	const char	*col[DB_BATCH_CAP];
	char		*arrays[16];
	int		 i, k, np = qs[0]->nparams, ok;

	if (np > (int)(sizeof(arrays) / sizeof(arrays[0])))
		fatalx("db: a statement with a many form has %d parameters", np);
	for (k = 0; k < np; k++) {
		for (i = 0; i < n; i++)
			col[i] = qs[i]->values[k];
		arrays[k] = db_array_literal(col, n);
	}
	ok = PQsendQueryPrepared(c->pg, c->pool->stmts[st->many].name, np,
	    (const char *const *)arrays, NULL, NULL, 0);
	for (k = 0; k < np; k++)
		free(arrays[k]);
	return ok;
}

/* Send a unit: the queries qs[0..n-1], then one Sync. */
static void
pgc_start(struct pgconn *c, struct db_query **qs, int n)
{
	struct db_query	*q;
	int		 i;

	for (i = 0; i < n; i++) {
		q = qs[i];
		q->conn = c;
		q->nbatch = i == 0 ? n : 0;
		q->many = i == 0 && n > 1 && c->pool->one_statement &&
		    c->pool->stmts[q->stmt].many != 0;
		TAILQ_INSERT_TAIL(&c->inflight, q, entry);
	}
	if (c->cur == NULL) {
		c->cur = qs[0];
		c->left = unit_statements(qs[0]);
	}
	c->depth += n;
	c->state = PGC_BUSY;
	if (qs[0]->flags & DB_Q_BATCH) {
		c->writing = 1;
		c->write_start = now_usec();
	}
	if (qs[0]->many)
		i = pgc_send_many(c, qs, n) ? n : 0;
	else for (i = 0; i < n; i++) {
		q = qs[i];
		if (!PQsendQueryPrepared(c->pg, c->pool->stmts[q->stmt].name, q->nparams,
		    (const char *const *)q->values, NULL, NULL, 0))
			break;
	}
	/* a write batch's results come before its commit: the next batch may start then */
	if (i == n && c->writing && !PQsendFlushRequest(c->pg))
		i = 0;
	if (i < n || !PQpipelineSync(c->pg)) {
		char *msg = xasprintf("send: %s", PQerrorMessage(c->pg));

		msg[strcspn(msg, "\n")] = '\0';
		pgc_broken(c, msg);
		free(msg);
		return;
	}
	if (n > 1) {
		c->pool->batches++;
		c->pool->batched += (unsigned long)n;
	}
	(void)pgc_flush(c);
}

/* Keep the first result of a query, or the first error that follows it. */
static void
keep_result(PGresult **slot, PGresult *r)
{
	ExecStatusType	st = PQresultStatus(r);

	if (*slot == NULL || ((st == PGRES_FATAL_ERROR || st == PGRES_PIPELINE_ABORTED) &&
	    PQresultStatus(*slot) != PGRES_FATAL_ERROR)) {
		if (*slot != NULL)
			PQclear(*slot);
		*slot = r;
	} else
		PQclear(r);
}

/* Answer a query that ran. */
static void
query_deliver(struct db_pool *p, struct db_query *q)
{
	q->conn = NULL;
	if (q->cb != NULL)
		q->cb(q->arg, DB_OK, q->res);
	else
		p->orphans--;
	query_free(q);
}

/* A batch was rolled back: its queries wait again, first in line and in their order, each
 * to run on its own (a cancelled one is dropped: nothing of it was committed). */
static void
batch_requeue(struct db_pool *p, struct db_queryq *qq)
{
	struct db_query	*q;

	while ((q = TAILQ_LAST(qq, db_queryq)) != NULL) {
		TAILQ_REMOVE(qq, q, entry);
		q->conn = NULL;
		q->nbatch = 0;
		q->many = 0;
		q->flags &= ~DB_Q_BATCH;
		if (q->res != NULL) {
			PQclear(q->res);
			q->res = NULL;
		}
		if (q->cb == NULL) {
			p->orphans--;
			query_free(q);
			continue;
		}
		TAILQ_INSERT_HEAD(&p->waitq, q, entry);
		q->queued = 1;
		p->nwait++;
	}
}

/*
 * A unit that went out as one statement, head first, committed: its result becomes one
 * result per query, row i for the i-th, as if each had run on its own. Returns the
 * result when it is an error (nothing was committed: the queries run again), else NULL.
 * A result that is not one row per query, a bug of the "many" statement, committed all
 * the same: each query then gets a result without rows, which its caller takes for an
 * internal error; running them again would write them twice.
 */
static PGresult *
many_split(struct db_query *head)
{
	PGresult	*all = head->res, *r;
	struct db_query	*q = head;
	int		 i, n = head->nbatch, rows;

	/* (the reader never lets a statement end without a result) */
	if (PQresultStatus(all) != PGRES_TUPLES_OK)
		return all;
	rows = PQnfields(all) == 1 && PQntuples(all) == n;
	if (!rows)
		log_warnx("db %s: a batch of %d answered %d rows of %d columns; it committed, "
		    "and its calls get an internal error", head->pool->name, n, PQntuples(all),
		    PQnfields(all));
	for (i = 0; i < n; i++, q = TAILQ_NEXT(q, entry)) {
		if ((r = PQcopyResult(all, PG_COPYRES_ATTRS)) == NULL || (rows &&
		    !PQsetvalue(r, 0, 0, PQgetisnull(all, i, 0) ? NULL : PQgetvalue(all, i, 0),
		    PQgetisnull(all, i, 0) ? -1 : PQgetlength(all, i, 0))))
			fatalx("out of memory splitting a batch's result");
		q->res = r;
	}
	PQclear(all);
	return NULL;
}

/* The head unit is complete (results and Sync read): answer its queries. A batch whose
 * queries all returned rows and whose commit went through answers each; any error in it
 * means nothing of it was committed, and its queries run again one by one. */
static void
pgc_unit_done(struct pgconn *c)
{
	struct db_pool	*p = c->pool;
	struct db_query	*q = TAILQ_FIRST(&c->inflight);
	struct db_queryq done;
	PGresult	*sres = c->sync_res, *bad = sres;
	int		 i, n = q->nbatch;

	TAILQ_INIT(&done);
	c->writing = 0;		/* (its results normally end that before) */
	if (bad == NULL && q->many)
		bad = many_split(q);
	for (i = 0; i < n; i++) {
		q = TAILQ_FIRST(&c->inflight);
		TAILQ_REMOVE(&c->inflight, q, entry);
		TAILQ_INSERT_TAIL(&done, q, entry);
		if (bad == NULL && PQresultStatus(q->res) != PGRES_TUPLES_OK)
			bad = q->res;
	}
	c->depth -= n;
	c->sync_res = NULL;
	c->await_sync = 0;
	c->sync_err = 0;
	c->cur = TAILQ_FIRST(&c->inflight);
	c->left = c->cur != NULL ? unit_statements(c->cur) : 0;
	if (c->depth == 0)
		c->state = PGC_IDLE;
	if (n == 1) {
		/* the implicit commit's failure is the query's outcome */
		q = TAILQ_FIRST(&done);
		if (sres != NULL) {
			keep_result(&q->res, sres);
			sres = NULL;
		}
		query_deliver(p, q);
	} else if (bad == NULL) {
		while ((q = TAILQ_FIRST(&done)) != NULL) {
			TAILQ_REMOVE(&done, q, entry);
			query_deliver(p, q);
		}
	} else {
		const char *state = PQresultErrorField(bad, PG_DIAG_SQLSTATE);

		p->batch_failed++;
		log_info("db %s conn %d: a batch of %d rolled back (SQLSTATE %s); running its "
		    "calls one by one", p->name, c->idx, n, state != NULL ? state : "none");
		batch_requeue(p, &done);
	}
	if (sres != NULL)
		PQclear(sres);
	pool_maybe_idle(p);
}

static void
pgc_busy_io(struct pgconn *c, short what)
{
	PGresult	*r;
	int		 i;

	if (c->flushing && (what & EV_WRITE) && pgc_flush(c) != 0)
		return;
	if (!(what & EV_READ))
		return;
	if (!PQconsumeInput(c->pg)) {
		char *msg = xasprintf("read: %s", PQerrorMessage(c->pg));

		msg[strcspn(msg, "\n")] = '\0';
		pgc_broken(c, msg);
		free(msg);
		return;
	}
	if (c->state == PGC_PREPARING) {
		while (!PQisBusy(c->pg)) {
			if ((r = PQgetResult(c->pg)) != NULL) {
				if (c->res == NULL)
					c->res = r;
				else
					PQclear(r);
				continue;
			}
			if (c->res == NULL) {
				pgc_broken(c, "prepare ended without a result");
				return;
			}
			if (PQresultStatus(c->res) != PGRES_COMMAND_OK) {
				char *msg = xasprintf("prepare %s: %s",
				    c->pool->stmts[c->prep].name, PQresultErrorMessage(c->res));

				msg[strcspn(msg, "\n")] = '\0';
				pgc_broken(c, msg);
				free(msg);
				return;
			}
			PQclear(c->res);
			c->res = NULL;
			c->prep++;
			pgc_prepare_next(c);
			return;
		}
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
				keep_result(&c->sync_res, r);
			} else
				keep_result(&c->cur->res, r);
			continue;
		}
		if (r == NULL) {
			if (!c->await_sync) {
				if (c->cur->res == NULL) {
					pgc_broken(c, "query ended without a result");
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
			pgc_broken(c, "pipeline out of step");
			return;
		}
		pgc_unit_done(c);
		if (c->state == PGC_DOWN)
			return;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		pgc_broken(c, "connection lost");
		return;
	}
	update_gauges(c->pool);
	pool_dispatch(c->pool);
}

static void
pgc_event(evutil_socket_t fd, short what, void *arg)
{
	struct pgconn	*c = arg;

	(void)fd;
	switch (c->state) {
	case PGC_CONNECTING:	/* pq_connect's events until connected */
		return;
	case PGC_BUSY:
	case PGC_PREPARING:
		pgc_busy_io(c, what);
		return;
	case PGC_IDLE:
		/* Unsolicited input: a notice, or the server closing on us. */
		if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) {
			pgc_broken(c, "server closed the connection");
			return;
		}
		{
			PGnotify *n;

			while ((n = PQnotifies(c->pg)) != NULL)
				PQfreemem(n);
		}
		return;
	case PGC_DOWN:
		return;
	}
}

/* Waiting queries go to idle connections first, in order; reads may also go onto the
 * shallowest pipeline of a busy connection, overtaking writes that wait for an idle one.
 * So that a steady flow of reads cannot keep every connection busy for ever, the busy
 * connection closest to idle is reserved for the first write that waits: reads behind
 * that write pass it by, it drains, and the write has it next. */
/*
 * Batches of mutations running, not counting stalled ones: a batch running for longer
 * than stall_us (one of its calls waits on a lock, say) no longer holds back the next,
 * so that one stuck call cannot stop every other mutation of the worker. *next: when
 * the first of those counted turns stalled, or 0.
 */
static int
pool_writing(struct db_pool *p, long long now, long long *next)
{
	int		 i, n = 0;
	long long	 end;

	*next = 0;
	for (i = 0; i < p->size; i++) {
		if (!p->conns[i].writing)
			continue;
		end = p->conns[i].write_start + p->stall_us;
		if (now < end) {
			n++;
			if (*next == 0 || end < *next)
				*next = end;
		}
	}
	return n;
}

static void
pool_stall_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pool_dispatch(arg);
}

static void
pool_dispatch(struct db_pool *p)
{
	struct db_query	*q, *next, *r, *rnext, *batch[DB_BATCH_CAP];
	struct pgconn	*best, *reserved = NULL;
	long long	 now = now_usec(), stall_at;
	int		 i, n, writing = pool_writing(p, now, &stall_at), held = 0;

	for (q = TAILQ_FIRST(&p->waitq); q != NULL; q = next) {
		next = TAILQ_NEXT(q, entry);
		if ((q->flags & DB_Q_BATCH) && writing >= p->writers) {
			held = 1;	/* it waits to join the next batch */
			continue;
		}
		best = NULL;
		for (i = 0; i < p->size; i++) {
			struct pgconn *c = &p->conns[i];

			if (c->state != PGC_IDLE && c->state != PGC_BUSY)
				continue;
			if (c->depth == 0) {
				best = c;
				break;
			}
			if ((q->flags & DB_Q_WRITE) || c->depth >= DB_PIPELINE_MAX ||
			    c == reserved)
				continue;
			if (best == NULL || c->depth < best->depth)
				best = c;
		}
		if (best == NULL) {
			if (!(q->flags & DB_Q_WRITE))
				break;
			for (i = 0; i < p->size && reserved == NULL; i++) {
				struct pgconn *c = &p->conns[i];

				if (c->state == PGC_BUSY && (best == NULL ||
				    c->depth < best->depth))
					best = c;
			}
			if (reserved == NULL)
				reserved = best;
			continue;	/* a read behind it may still find a pipeline */
		}
		TAILQ_REMOVE(&p->waitq, q, entry);
		q->queued = 0;
		p->nwait--;
		batch[0] = q;
		n = 1;
		if ((q->flags & DB_Q_BATCH) && best->depth == 0) {
			/* the same statement's batchable writes waiting behind it join it */
			for (r = next; r != NULL && n < p->batch_max; r = rnext) {
				rnext = TAILQ_NEXT(r, entry);
				if (!(r->flags & DB_Q_BATCH) || r->stmt != q->stmt)
					continue;
				TAILQ_REMOVE(&p->waitq, r, entry);
				r->queued = 0;
				p->nwait--;
				batch[n++] = r;
			}
			if (n > 1)
				next = TAILQ_FIRST(&p->waitq);
		}
		if (q->flags & DB_Q_BATCH) {
			writing++;
			if (stall_at == 0 || now + p->stall_us < stall_at)
				stall_at = now + p->stall_us;
		}
		pgc_start(best, batch, n);
	}
	if (held && stall_at > 0) {
		struct timeval tv;

		stall_at -= now;
		tv.tv_sec = (time_t)(stall_at / 1000000);
		tv.tv_usec = (suseconds_t)(stall_at % 1000000);
		evtimer_add(p->ev_stall, &tv);
	}
	update_gauges(p);
}

struct db_pool *
db_pool_new(struct event_base *base, const char *dsn, int size, int wait_max,
    int batch_max, int writers, int stall_ms, int one_statement, const char *name,
    const struct db_stmt *stmts, int nstmts)
{
	struct db_pool	*p = xcalloc(1, sizeof(*p));
	int		 i;

	p->base = base;
	p->dsn = xstrdup(dsn);
	p->name = xstrdup(name);
	p->stmts = stmts;
	p->nstmts = nstmts;
	p->size = size;
	p->wait_max = wait_max;
	p->batch_max = batch_max < 1 ? 1 : batch_max > DB_BATCH_CAP ? DB_BATCH_CAP : batch_max;
	p->backoff_ms = DB_BACKOFF_MIN_MS;
	p->writers = writers < 1 ? 1 : writers;
	p->one_statement = one_statement;
	p->stall_us = (long long)(stall_ms < 1 ? 1 : stall_ms) * 1000;
	TAILQ_INIT(&p->waitq);
	TAILQ_INIT(&p->failed);
	p->ev_failed = event_new(base, -1, 0, deliver_failed, p);
	p->ev_stall = evtimer_new(base, pool_stall_cb, p);
	p->conns = xcalloc((size_t)size, sizeof(*p->conns));
	for (i = 0; i < size; i++) {
		p->conns[i].pool = p;
		p->conns[i].idx = i;
		p->conns[i].timer = evtimer_new(base, pgc_timer, &p->conns[i]);
		TAILQ_INIT(&p->conns[i].inflight);
		pgc_connect(&p->conns[i]);
	}
	return p;
}

void
db_pool_free(struct db_pool *p)
{
	struct db_query	*q;
	int		 i;

	if (p == NULL)
		return;
	for (i = 0; i < p->size; i++) {
		struct pgconn *c = &p->conns[i];

		pq_connect_cancel(c->connecting);
		pgc_arm(c, 0);
		event_free(c->timer);
		if (c->res != NULL)
			PQclear(c->res);
		if (c->sync_res != NULL)
			PQclear(c->sync_res);
		while ((q = TAILQ_FIRST(&c->inflight)) != NULL) {
			TAILQ_REMOVE(&c->inflight, q, entry);
			query_free(q);
		}
		if (c->pg != NULL)
			PQfinish(c->pg);
	}
	while ((q = TAILQ_FIRST(&p->waitq)) != NULL) {
		TAILQ_REMOVE(&p->waitq, q, entry);
		query_free(q);
	}
	while ((q = TAILQ_FIRST(&p->failed)) != NULL) {
		TAILQ_REMOVE(&p->failed, q, entry);
		query_free(q);
	}
	event_free(p->ev_failed);
	event_free(p->ev_stall);
	free(p->conns);
	free(p->dsn);
	free(p->name);
	free(p);
}

struct db_query *
db_query(struct db_pool *p, int stmt, const char *const *values, int flags, db_cb cb,
    void *arg)
{
	struct db_query	*q = xcalloc(1, sizeof(*q));
	int		 i, nparams = p->stmts[stmt].nparams;

	q->pool = p;
	q->stmt = stmt;
	q->flags = flags;
	q->nparams = nparams;
	q->values = xcalloc((size_t)nparams + 1, sizeof(char *));
	for (i = 0; i < nparams; i++)
		q->values[i] = values[i] != NULL ? xstrdup(values[i]) : NULL;
	q->cb = cb;
	q->arg = arg;

	if (p->down && p->healthy == 0) {
		query_fail_later(q, DB_UNAVAILABLE);
		return q;
	}
	if (p->nwait >= p->wait_max) {
		query_fail_later(q, DB_OVERLOADED);
		return q;
	}
	TAILQ_INSERT_TAIL(&p->waitq, q, entry);
	q->queued = 1;
	p->nwait++;
	pool_dispatch(p);
	return q;
}

void
db_cancel(struct db_query *q)
{
	struct db_pool	*p = q->pool;

	if (q->conn != NULL) {
		/* running: let it finish, drop the result */
		if (q->cb != NULL)
			p->orphans++;
		q->cb = NULL;
		return;
	}
	if (q->queued) {
		/* waiting, or already answered but not yet delivered */
		if (q->status == DB_OK) {
			TAILQ_REMOVE(&p->waitq, q, entry);
			p->nwait--;
			update_gauges(p);
		} else
			TAILQ_REMOVE(&p->failed, q, entry);
		query_free(q);
	}
}

struct event_base *
db_pool_base(struct db_pool *p)
{
	return p->base;
}

int
db_pool_in_use(struct db_pool *p)
{
	return p->in_use;
}

int
db_pool_waiting(struct db_pool *p)
{
	return p->waiting;
}

int
db_pool_healthy(struct db_pool *p)
{
	return p->healthy;
}

void
db_pool_on_idle(struct db_pool *p, void (*cb)(void *), void *arg)
{
	p->idle_cb = cb;
	p->idle_arg = arg;
}

int
db_pool_outstanding(struct db_pool *p)
{
	int	i, n = p->nwait;

	for (i = 0; i < p->size; i++)
		n += p->conns[i].depth;	/* orphans included: they finish before we exit */
	return n;
}

void
db_pool_batch_stats(struct db_pool *p, unsigned long *batches, unsigned long *queries,
    unsigned long *failed)
{
	*batches = p->batches;
	*queries = p->batched;
	*failed = p->batch_failed;
}
