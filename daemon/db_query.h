/*
 * db_query.h: a query as the pool (db_pool.c), its connections (db_conn.c) and batching
 * (db_batch.c) see it. Private to those files.
 */
#ifndef FUND_DB_QUERY_H
#define FUND_DB_QUERY_H

#include <sys/queue.h>

#include "db.h"

struct db_conn;
struct db_pool;

struct db_query {
	TAILQ_ENTRY(db_query)	 entry;
	struct db_pool		*pool;
	struct db_conn		*conn;		/* running on, or NULL */
	int			 stmt;
	int			 flags;		/* DB_Q_* */
	int			 nparams;
	char			**values;
	db_cb			 cb;		/* NULL once cancelled */
	void			*arg;
	enum db_status		 status;	/* for queries failed before running */
	int			 queued;	/* on the pool's wait queue or failed list */
	int			 nbatch;	/* running: queries in the unit it heads, or 0 */
	int			 many;		/* that unit went out as one statement */
	PGresult		*res;		/* running: its result (the first error wins) */
};
TAILQ_HEAD(db_queryq, db_query);

/* Free q, its parameters and its result. */
void	db_query_free(struct db_query *q);
/* Keep in *slot the first result of a query, or the first error that follows it; r is
 * taken (kept or freed). */
void	db_result_keep(PGresult **slot, PGresult *r);

#endif
