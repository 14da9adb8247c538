/*
 * db_pool.h: a bounded pool of non-blocking libpq connections on one event loop, with a
 * capped wait queue and reconnection with backoff. One pool per worker thread; every
 * function here must be called from that worker's thread.
 */
#ifndef FUND_DB_POOL_H
#define FUND_DB_POOL_H

#include <event2/event.h>
#include <libpq-fe.h>

enum db_status {
	DB_OK,			/* res is a PGresult (success or SQL error: check it) */
	DB_UNAVAILABLE,		/* no database connection: nothing was executed */
	DB_LOST,		/* the connection broke while the query ran: outcome unknown */
	DB_OVERLOADED,		/* the wait queue is full */
};

/* res is owned by the pool and valid only during the callback. */
typedef void	(*db_cb)(void *arg, enum db_status, const PGresult *res);

struct db_pool;
struct db_query;

/* The statements a pool runs, prepared on every connection before it serves. */
struct db_stmt {
	const char	*name;
	const char	*sql;
	int		 nparams;
	/* 0, or the index of a statement that runs a batch of this one's queries as one:
	 * its parameter k is the array (a text[] literal) of their parameters k, and it
	 * answers one row of one column per query, in their order */
	int		 many;
};

/* stmts must outlive the pool. batch_max: at most this many DB_Q_BATCH queries share one
 * transaction (1: never). writers: at most this many units of DB_Q_BATCH queries run at
 * once; the others wait, and go out together when one is done; a unit running for longer
 * than stall_ms no longer counts. one_statement: a batch of a statement that has a "many"
 * form goes out as one query of that form (else as its queries, one after the other). */
struct db_pool	*db_pool_new(struct event_base *, const char *dsn, int size, int wait_max,
		    int batch_max, int writers, int stall_ms, int one_statement,
		    const char *name, const struct db_stmt *stmts, int nstmts);
/* Stops connecting; callbacks of outstanding queries are not called. */
void		 db_pool_free(struct db_pool *);

/* How a query may be placed on a connection. */
#define DB_Q_WRITE	0x01	/* writes: only on an idle connection, never behind another
				 * query in a pipeline (its transaction takes locks and commits;
				 * waiting behind others there would stretch its latency) */
#define DB_Q_BATCH	0x02	/* a write that may share one transaction with other
				 * DB_Q_BATCH queries of the same statement waiting at the
				 * same time: one commit for all. The statement must answer
				 * its expected errors as values, not raise them: anything
				 * raised in a batch, or failing its commit, rolls the whole
				 * batch back, and the pool then runs each of its queries on
				 * its own, so the callback gets the query's own outcome. */

/* Queue prepared statement number stmt with its text parameters (copied; NULL = SQL
 * NULL). The callback always runs later from the event loop, exactly once, unless
 * db_cancel() comes first. */
struct db_query	*db_query(struct db_pool *, int stmt, const char *const *values, int flags,
		    db_cb, void *arg);
/* The caller is going away: its callback will not run. A running query finishes on the
 * server and its result is drained and dropped before the connection is reused. */
void		 db_cancel(struct db_query *);

/* values[0..n-1] (NULL = SQL NULL) as the text of a PostgreSQL array literal, for a
 * text[] parameter: every element double-quoted, with its backslashes and double quotes
 * escaped. Free it with free(). */
char		*db_array_literal(const char *const *values, int n);

struct event_base *db_pool_base(struct db_pool *);
int		 db_pool_in_use(struct db_pool *);
int		 db_pool_waiting(struct db_pool *);
int		 db_pool_healthy(struct db_pool *);	/* connections up */
int		 db_pool_outstanding(struct db_pool *);	/* queued + running + orphaned */
/* batches of two or more queries sent, the queries in them, and batches rolled back and
 * run again one query at a time (counters since the pool started; any thread) */
void		 db_pool_batch_stats(struct db_pool *, unsigned long *batches,
		    unsigned long *queries, unsigned long *failed);
/* cb(arg) whenever the last outstanding query was answered or dropped (a draining
 * worker waits for that, orphans of closed connections included) */
void		 db_pool_on_idle(struct db_pool *, void (*cb)(void *), void *arg);

#endif
