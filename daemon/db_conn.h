/*
 * db_conn.h: one connection of a pool, as a state machine (enum db_conn_state). It
 * connects (pq_connect.h), prepares the pool's statements, enters pipeline mode, and then
 * runs units: a unit is its queries and one Sync, so one implicit transaction. Every
 * result is read before the connection is idle again. It knows nothing of the pool: it
 * tells its owner, through struct db_conn_ops, when it is up, when a unit is over, when
 * it has read input, and when it broke.
 *
 * A server that takes writes is sought first: it connects with target_session_attrs
 * read-write (unless the dsn sets it), so libpq tries each host of the dsn for one. When
 * none does, it connects to any, for reads, and is read_only (also when the server says
 * transaction_read_only once connected); every DBC_RO_RETRY_S it closes, once its queries
 * are answered, and seeks a writable one again. A connection whose query was refused as
 * read-only (SQLSTATE 25006: a server turned standby, default_transaction_read_only set)
 * makes its owner retire every connection up the same way (db_conn_retire), since what
 * one learnt holds for the others.
 *
 * A connection of a pool on a standby (standby set) seeks a server in recovery instead
 * (target_session_attrs standby, unless the dsn sets it), is read_only there, and stays
 * until its owner retires it (the server was promoted).
 */
#ifndef FUND_DB_CONN_H
#define FUND_DB_CONN_H

#include "db_query.h"

struct event;
struct event_base;
struct pq_connect;

enum db_conn_state {
	DBC_DOWN,		/* waiting for the reconnect timer */
	DBC_CONNECTING,
	DBC_PREPARING,		/* connected: the session's settings, then preparing
				 * the statements */
	DBC_IDLE,
	DBC_BUSY,		/* one or more queries in flight */
};

struct db_conn;

/* The owner's side; every callback runs from the loop. */
struct db_conn_ops {
	/* Connected, statements prepared: idle. */
	void	(*up)(struct db_conn *);
	/* The head unit is over: done holds its queries, in their order, each with its
	 * result; commit_err, when not NULL, is the error its commit failed with (the
	 * callee's to free). The connection has moved on to its next unit already. */
	void	(*unit_done)(struct db_conn *, struct db_queryq *done, PGresult *commit_err);
	/* Input was read and handled: more may be sent. */
	void	(*input)(struct db_conn *);
	/* The connection broke and is down: lost holds the queries it had in flight, whose
	 * outcome is unknown (the callee's now). was_up: it had been up (else connecting
	 * failed). Returns the milliseconds to wait before connecting again. */
	int	(*down)(struct db_conn *, int was_up, struct db_queryq *lost);
};

struct db_conn {
	/* the owner's, set before db_conn_start() */
	const struct db_conn_ops *ops;
	void			*owner;
	struct event_base	*base;
	const char		*dsn;
	const char		*name;		/* the pool's, for the log */
	int			 idx;
	const struct db_stmt	*stmts;
	int			 nstmts;
	int			 statement_timeout_ms;	/* the session's; 0 = none */
	int			 lock_timeout_ms;
	int			 report_min_cell;	/* fundd.report_min_cell */
	int			 standby;	/* on a standby, for reads (replica.h) */
	/* the state machine's; the owner reads state, depth, writing, write_start, retiring
	 * and read_only */
	enum db_conn_state	 state;
	PGconn			*pg;
	struct pq_connect	*connecting;	/* CONNECTING */
	struct event		*ev;		/* socket readable (persistent) */
	struct event		*ev_w;		/* socket writable, armed while PQflush owes */
	struct event		*timer;		/* reconnect backoff */
	struct db_queryq	 inflight;	/* BUSY: sent, oldest first, in units */
	int			 depth;		/* queries in flight */
	struct db_query		*cur;		/* BUSY: the query whose results come next */
	int			 left;		/* queries of the head unit still to read */
	int			 await_sync;	/* head unit's results are in; its Sync next */
	int			 sync_err;	/* an error came while awaiting the Sync */
	PGresult		*sync_res;	/* that error: the unit's commit failed */
	PGresult		*res;		/* PREPARING: first result */
	int			 flushing;
	int			 prep;		/* PREPARING: statement being prepared */
	int			 writing;	/* its DB_Q_BATCH unit is running: results
						 * not in yet */
	long long		 write_start;	/* now_usec() when that unit was sent */
	int			 retiring;	/* nothing more is sent; it closes once idle
						 * (read-only server; the owner may set it) */
	int			 read_only;	/* up, on a server that takes no writes */
	int			 any_server;	/* connecting: no server took writes */
	int			 was_read_only;	/* its last connection was read_only */
};

/* Start connecting c (its owner's fields set). */
void	db_conn_start(struct db_conn *);
/* Nothing more goes to c; it closes once its queries in flight are answered, and
 * connects again, seeking a server that takes writes (or, standby, one in recovery). */
void	db_conn_retire(struct db_conn *);
/* Close c and free what it holds, its queries in flight included, without a callback
 * (the pool is going away). */
void	db_conn_close(struct db_conn *);
/* Send a unit on c (IDLE or BUSY): qs[0..n-1], or, with many, one query of their
 * statement's "many" form for all of them (db_batch.h), then one Sync. The queries are
 * c's until the unit is over. 0 when it went out; -1 when it could not be sent: c broke,
 * and down() has run. */
int	db_conn_send(struct db_conn *, struct db_query **qs, int n, int many);

#endif
