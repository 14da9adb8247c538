/*
 * db.h: what the database modules share with their users: a query's outcome and callback,
 * the statements a pool prepares, and how a query may be placed on a connection.
 */
#ifndef FUND_DB_H
#define FUND_DB_H

#include <libpq-fe.h>

enum db_status {
	DB_OK,			/* res is a PGresult (success or SQL error: check it) */
	DB_UNAVAILABLE,		/* no database connection: nothing was executed */
	DB_LOST,		/* the connection broke while the query ran: outcome unknown */
	DB_OVERLOADED,		/* the wait queue is full */
	DB_READ_ONLY,		/* a write, and no server up takes writes: not executed */
};

/* res is owned by the pool and valid only during the callback. */
typedef void	(*db_cb)(void *arg, enum db_status, const PGresult *res);

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
#define DB_Q_FIRST	0x04	/* waits at the head of the queue, not its tail: a short
				 * query of the daemon's own whose answer is needed soon */

#endif
