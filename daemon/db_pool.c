/*
 * db_pool.c: the pool (db_pool.h): its connections (db_conn.c) in one array, the queries
 * waiting for one in a FIFO, and the placing of each on a connection: a single query, or
 * a batch of DB_Q_BATCH queries (db_batch.c) that commit together (docs/batching.md).
 */
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "db_batch.h"
#include "db_conn.h"
#include "db_pool.h"
#include "db_query.h"
#include "log.h"
#include "util.h"

#define DB_BACKOFF_MIN_MS	100
#define DB_BACKOFF_MAX_MS	5000
/* Queries in flight on one connection (pipeline mode, a Sync after each, so each is still
 * its own transaction). Idle connections are used first; past depth 1 a busy connection
 * takes more only when none is idle, which saves a wakeup per query under load, and only
 * reads: a write waits for an idle connection, as its transaction holds locks until it
 * commits and must not wait behind others. */
#define DB_PIPELINE_MAX		4

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
	struct db_conn		*conns;
	struct db_queryq	 waitq;
	struct db_queryq	 failed;	/* answered before running, delivered by ev_failed */
	struct event		*ev_failed;
	int			 nwait;
	int			 down;		/* last attempt failed and none is up */
	int			 backoff_ms;
	_Atomic int		 in_use;
	_Atomic int		 waiting;
	_Atomic int		 healthy;
	_Atomic unsigned long	 batches;	/* of two or more queries */
	_Atomic unsigned long	 batched;	/* queries in them */
	_Atomic unsigned long	 batch_failed;	/* rolled back, run again one by one */
	_Atomic int		 read_only;	/* db_pool_read_only() */
	_Atomic unsigned long	 timeouts_stmt;	/* SQLSTATE 57014 */
	_Atomic unsigned long	 timeouts_lock;	/* SQLSTATE 55P03 */
	int			 statement_timeout_ms;
	int			 lock_timeout_ms;
	int			 report_min_cell;
	int			 standby;	/* reads on a standby: read-only is its normal */
	void			(*idle_cb)(void *);	/* nothing outstanding any more */
	void			*idle_arg;
};

static void	pool_dispatch(struct db_pool *);

/* After a query is answered or dropped: tell the owner when nothing is left. */
static void
pool_maybe_idle(struct db_pool *p)
{
	if (p->idle_cb != NULL && db_pool_outstanding(p) == 0)
		p->idle_cb(p->idle_arg);
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
		db_query_free(q);
	}
	pool_maybe_idle(p);
}

/* Answer a query that ran (a cancelled one is dropped). */
static void
query_deliver(struct db_query *q)
{
	q->conn = NULL;
	if (q->cb != NULL)
		q->cb(q->arg, DB_OK, q->res);
	db_query_free(q);
}

static void
update_gauges(struct db_pool *p)
{
	int	i, busy = 0, up = 0, writable = 0, ro;

	for (i = 0; i < p->size; i++) {
		if (p->conns[i].state == DBC_BUSY)
			busy++;
		if (p->conns[i].state == DBC_BUSY || p->conns[i].state == DBC_IDLE) {
			up++;
			if (!p->conns[i].read_only)
				writable++;
		}
	}
	p->in_use = busy;
	p->healthy = up;
	p->waiting = p->nwait;
	ro = up > 0 && writable == 0;
	/* (a standby takes no writes: no news, and none is sent to it) */
	if (ro && !p->read_only && !p->standby)
		log_warnx("db %s: the database takes no writes (read-only server); "
		    "mutations get -32050 read_only until it does", p->name);
	else if (!ro && p->read_only && !p->standby)
		log_info("db %s: the database takes writes again", p->name);
	p->read_only = ro;
}

/* While no connection up takes writes, waiting writes are answered at once. */
static void
pool_fail_writes(struct db_pool *p)
{
	struct db_query	*q, *next;

	for (q = TAILQ_FIRST(&p->waitq); q != NULL; q = next) {
		next = TAILQ_NEXT(q, entry);
		if (!(q->flags & DB_Q_WRITE))
			continue;
		TAILQ_REMOVE(&p->waitq, q, entry);
		p->nwait--;
		query_fail_later(q, DB_READ_ONLY);
	}
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

/* The connections' side (struct db_conn_ops) ---------------------------------------- */

static void
conn_up(struct db_conn *c)
{
	struct db_pool	*p = c->owner;

	if (p->down)
		log_info("db %s: connected again", p->name);
	p->down = 0;
	p->backoff_ms = DB_BACKOFF_MIN_MS;
	update_gauges(p);
	pool_dispatch(p);
}

/* A unit is over. A batch whose queries all returned rows and whose commit went through
 * answers each; any error in it means nothing of it was committed, and its queries run
 * again one by one. */
/* What a unit's error says about its connection: the server no longer takes writes
 * (the connection is retired: it reconnects, seeking one that does), or a statement ran
 * into a timeout (counted). */
static void
note_error(struct db_pool *p, struct db_conn *c, const PGresult *r)
{
	const char	*state;

	if (r == NULL || PQresultStatus(r) != PGRES_FATAL_ERROR ||
	    (state = PQresultErrorField(r, PG_DIAG_SQLSTATE)) == NULL)
		return;
	if (strcmp(state, "25006") == 0) {
		int i;

		if (c->read_only)
			return;		/* known: a read that writes, on a read-only server */
		if (!c->retiring)
			log_warnx("db %s conn %d: the server refused a write as read-only "
			    "(SQLSTATE 25006); connecting again, seeking one that takes writes",
			    p->name, c->idx);
		for (i = 0; i < p->size; i++)
			if (!p->conns[i].read_only)
				db_conn_retire(&p->conns[i]);
	} else if (strcmp(state, "57014") == 0)
		p->timeouts_stmt++;
	else if (strcmp(state, "55P03") == 0)
		p->timeouts_lock++;
}

static void
conn_unit_done(struct db_conn *c, struct db_queryq *done, PGresult *sres)
{
	struct db_pool	*p = c->owner;
	struct db_query	*q = TAILQ_FIRST(done);
	PGresult	*bad = sres;
	int		 n = q->nbatch;

	note_error(p, c, sres);
	TAILQ_FOREACH(q, done, entry)
		note_error(p, c, q->res);
	q = TAILQ_FIRST(done);

	if (bad == NULL && q->many)
		bad = db_batch_split(q, p->name);
	for (; bad == NULL && q != NULL; q = TAILQ_NEXT(q, entry))
		if (PQresultStatus(q->res) != PGRES_TUPLES_OK)
			bad = q->res;
	if (n == 1) {
		/* the implicit commit's failure is the query's outcome */
		q = TAILQ_FIRST(done);
		if (sres != NULL) {
			db_result_keep(&q->res, sres);
			sres = NULL;
		}
		query_deliver(q);
	} else if (bad == NULL) {
		while ((q = TAILQ_FIRST(done)) != NULL) {
			TAILQ_REMOVE(done, q, entry);
			query_deliver(q);
		}
	} else {
		const char *state = PQresultErrorField(bad, PG_DIAG_SQLSTATE);

		p->batch_failed++;
		log_info("db %s conn %d: a batch of %d rolled back (SQLSTATE %s); running its "
		    "calls one by one", p->name, c->idx, n, state != NULL ? state : "none");
		p->nwait += db_batch_requeue(done, &p->waitq);
	}
	if (sres != NULL)
		PQclear(sres);
	pool_maybe_idle(p);
}

static void
conn_input(struct db_conn *c)
{
	struct db_pool	*p = c->owner;

	update_gauges(p);
	pool_dispatch(p);
}

/* Whatever c had in flight: the outcome is unknown to us. */
static int
conn_down(struct db_conn *c, int was_up, struct db_queryq *lost)
{
	struct db_pool	*p = c->owner;
	struct db_query	*q;
	int		 ms;

	while ((q = TAILQ_FIRST(lost)) != NULL) {
		TAILQ_REMOVE(lost, q, entry);
		q->conn = NULL;
		q->nbatch = 0;
		q->many = 0;
		if (q->res != NULL) {
			PQclear(q->res);
			q->res = NULL;
		}
		query_fail_later(q, DB_LOST);
	}
	update_gauges(p);
	if (!was_up || p->healthy == 0)
		p->down = 1;
	if (p->down && p->healthy == 0)
		pool_fail_waiting(p);
	if (was_up)
		return 0;	/* first retry at once */
	ms = p->backoff_ms;
	p->backoff_ms *= 2;
	if (p->backoff_ms > DB_BACKOFF_MAX_MS)
		p->backoff_ms = DB_BACKOFF_MAX_MS;
	return ms;
}

static const struct db_conn_ops pool_conn_ops = {
	.up = conn_up,
	.unit_done = conn_unit_done,
	.input = conn_input,
	.down = conn_down,
};

/* Placing queries -------------------------------------------------------------------- */

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

/* Waiting queries go to idle connections first, in order; reads may also go onto the
 * shallowest pipeline of a busy connection, overtaking writes that wait for an idle one.
 * So that a steady flow of reads cannot keep every connection busy for ever, the busy
 * connection closest to idle is reserved for the first write that waits: reads behind
 * that write pass it by, it drains, and the write has it next. A batchable write waits
 * while `writers` batches run, to go out with the others of its statement. */
static void
pool_dispatch(struct db_pool *p)
{
	struct db_query	*q, *next, *batch[DB_BATCH_CAP];
	struct db_conn	*best, *reserved = NULL;
	long long	 now = now_usec(), stall_at;
	int		 i, n, many, writing = pool_writing(p, now, &stall_at), held = 0;

	update_gauges(p);
	if (p->read_only)
		pool_fail_writes(p);
	for (q = TAILQ_FIRST(&p->waitq); q != NULL; q = next) {
		next = TAILQ_NEXT(q, entry);
		if ((q->flags & DB_Q_BATCH) && writing >= p->writers) {
			held = 1;	/* it waits to join the next batch */
			continue;
		}
		best = NULL;
		for (i = 0; i < p->size; i++) {
			struct db_conn *c = &p->conns[i];

			if ((c->state != DBC_IDLE && c->state != DBC_BUSY) || c->retiring ||
			    (c->read_only && (q->flags & DB_Q_WRITE)))
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
				struct db_conn *c = &p->conns[i];

				if (c->state == DBC_BUSY && !c->retiring && !c->read_only &&
				    (best == NULL ||
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
			n = db_batch_gather(&p->waitq, next, batch, p->batch_max);
			p->nwait -= n - 1;
			if (n > 1)
				next = TAILQ_FIRST(&p->waitq);
		}
		if (q->flags & DB_Q_BATCH) {
			writing++;
			if (stall_at == 0 || now + p->stall_us < stall_at)
				stall_at = now + p->stall_us;
		}
		many = n > 1 && p->one_statement && p->stmts[q->stmt].many != 0;
		if (db_conn_send(best, batch, n, many) == 0 && n > 1) {
			p->batches++;
			p->batched += (unsigned long)n;
		}
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

/* The API ------------------------------------------------------------------------------ */

struct db_pool *
db_pool_new(const struct db_pool_opts *o)
{
	struct db_pool	*p = xcalloc(1, sizeof(*p));
	int		 i;

	p->base = o->base;
	p->dsn = xstrdup(o->dsn);
	p->name = xstrdup(o->name);
	p->stmts = o->stmts;
	p->nstmts = o->nstmts;
	p->size = o->size;
	p->wait_max = o->wait_max;
	p->batch_max = o->batch_max < 1 ? 1 : o->batch_max > DB_BATCH_CAP ? DB_BATCH_CAP :
	    o->batch_max;
	p->backoff_ms = DB_BACKOFF_MIN_MS;
	p->writers = o->writers < 1 ? 1 : o->writers;
	p->one_statement = o->one_statement;
	p->statement_timeout_ms = o->statement_timeout_ms;
	p->lock_timeout_ms = o->lock_timeout_ms;
	p->report_min_cell = o->report_min_cell;
	p->standby = o->standby;
	p->stall_us = (long long)(o->stall_ms < 1 ? 1 : o->stall_ms) * 1000;
	TAILQ_INIT(&p->waitq);
	TAILQ_INIT(&p->failed);
	p->ev_failed = event_new(p->base, -1, 0, deliver_failed, p);
	p->ev_stall = evtimer_new(p->base, pool_stall_cb, p);
	p->conns = xcalloc((size_t)p->size, sizeof(*p->conns));
	for (i = 0; i < p->size; i++) {
		struct db_conn *c = &p->conns[i];

		c->ops = &pool_conn_ops;
		c->owner = p;
		c->base = p->base;
		c->dsn = p->dsn;
		c->name = p->name;
		c->idx = i;
		c->stmts = p->stmts;
		c->nstmts = p->nstmts;
		c->statement_timeout_ms = p->statement_timeout_ms;
		c->lock_timeout_ms = p->lock_timeout_ms;
		c->report_min_cell = p->report_min_cell;
		c->standby = p->standby;
		db_conn_start(c);
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
	for (i = 0; i < p->size; i++)
		db_conn_close(&p->conns[i]);
	while ((q = TAILQ_FIRST(&p->waitq)) != NULL) {
		TAILQ_REMOVE(&p->waitq, q, entry);
		db_query_free(q);
	}
	while ((q = TAILQ_FIRST(&p->failed)) != NULL) {
		TAILQ_REMOVE(&p->failed, q, entry);
		db_query_free(q);
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
	if (p->read_only && (flags & DB_Q_WRITE)) {
		query_fail_later(q, DB_READ_ONLY);
		return q;
	}
	if (flags & DB_Q_FIRST)
		TAILQ_INSERT_HEAD(&p->waitq, q, entry);
	else
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
		db_query_free(q);
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
db_pool_retire(struct db_pool *p)
{
	int	i;

	for (i = 0; i < p->size; i++)
		db_conn_retire(&p->conns[i]);
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
		n += p->conns[i].depth;	/* cancelled ones too: they finish before we exit */
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

int
db_pool_read_only(struct db_pool *p)
{
	return p->read_only;
}

void
db_pool_timeouts(struct db_pool *p, unsigned long *statement, unsigned long *lock)
{
	*statement = p->timeouts_stmt;
	*lock = p->timeouts_lock;
}
