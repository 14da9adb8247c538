/*
 * db_pool.h: a bounded pool of non-blocking libpq connections on one event loop, with a
 * capped wait queue and reconnection with backoff. One pool per worker thread; every
 * function here must be called from that worker's thread, but the counters (in_use,
 * waiting, healthy, batch stats), which any thread may read.
 */
#ifndef FUND_DB_POOL_H
#define FUND_DB_POOL_H

#include "db.h"

struct event_base;
struct db_pool;
struct db_query;

struct db_pool_opts {
	struct event_base	*base;
	const char		*dsn;
	const char		*name;		/* in its log lines ("db w0 conn 3: ...") */
	int			 size;		/* connections */
	int			 wait_max;	/* waiting queries; past it DB_OVERLOADED */
	int			 batch_max;	/* DB_Q_BATCH queries sharing one transaction
						 * at most (1: never) */
	int			 writers;	/* units of DB_Q_BATCH queries running at
						 * once; the others wait, and go out together
						 * when one is done */
	int			 stall_ms;	/* a unit running longer no longer counts
						 * against writers */
	int			 one_statement;	/* a batch of a statement that has a "many"
						 * form goes out as one query of that form
						 * (else as its queries, one after the other) */
	int			 statement_timeout_ms;	/* per connection; 0 = none */
	int			 lock_timeout_ms;	/* per connection; 0 = none */
	int			 report_min_cell;	/* the session's fundd.report_min_cell */
	int			 standby;	/* a pool of reads on a standby (replica.h):
						 * its connections seek a server in recovery */
	const struct db_stmt	*stmts;		/* must outlive the pool */
	int			 nstmts;
};

/* A pool that starts connecting at once (the options are copied). */
struct db_pool	*db_pool_new(const struct db_pool_opts *);
/* Stops connecting; callbacks of outstanding queries are not called. */
void		 db_pool_free(struct db_pool *);

/* Queue prepared statement number stmt with its text parameters (copied; NULL = SQL
 * NULL). The callback always runs later from the event loop, exactly once, unless
 * db_cancel() comes first. The query stays the pool's. */
struct db_query	*db_query(struct db_pool *, int stmt, const char *const *values, int flags,
		    db_cb, void *arg);
/* The caller is going away: its callback will not run. A running query finishes on the
 * server and its result is drained and dropped before the connection is reused. */
void		 db_cancel(struct db_query *);

struct event_base *db_pool_base(struct db_pool *);
int		 db_pool_in_use(struct db_pool *);
int		 db_pool_waiting(struct db_pool *);
int		 db_pool_healthy(struct db_pool *);	/* connections up */
int		 db_pool_outstanding(struct db_pool *);	/* queued + running, cancelled
							 * ones included */
/* batches of two or more queries sent, the queries in them, and batches rolled back and
 * run again one query at a time (counters since the pool started) */
void		 db_pool_batch_stats(struct db_pool *, unsigned long *batches,
		    unsigned long *queries, unsigned long *failed);
/* 1 while the connections up are all on a server that takes no writes (DB_READ_ONLY) */
int		 db_pool_read_only(struct db_pool *);
/* statements cancelled by statement_timeout (SQLSTATE 57014) and by lock_timeout
 * (55P03), since the pool started */
void		 db_pool_timeouts(struct db_pool *, unsigned long *statement,
		    unsigned long *lock);
/* Every connection up closes once its queries are answered, and connects again: a pool
 * on a standby whose server was promoted seeks a standby again. */
void		 db_pool_retire(struct db_pool *);
/* cb(arg) whenever the last outstanding query was answered or dropped (a draining
 * worker waits for that, cancelled running queries included) */
void		 db_pool_on_idle(struct db_pool *, void (*cb)(void *), void *arg);

#endif
