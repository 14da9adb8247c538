/*
 * db_batch.h: batches of writes (DB_Q_BATCH, docs/batching.md): queries of one statement
 * waiting at the same time go out as one unit, one transaction with one commit. On the
 * connection a batch is its queries one after the other, or, when the statement has a
 * "many" form, one query of that form whose rows are split into a result per query. A
 * batch that fails is rolled back and its queries wait again, each to run on its own.
 */
#ifndef FUND_DB_BATCH_H
#define FUND_DB_BATCH_H

#include <libpq-fe.h>

#include "db_query.h"

/* The most queries one batch may hold, whatever batch_max says: each call of a batch is a
 * sub-transaction, and PostgreSQL caches 64 sub-transaction ids per backend. */
#define DB_BATCH_CAP		32

/* values[0..n-1] (NULL = SQL NULL) as the text of a PostgreSQL array literal, for a
 * text[] parameter: every element double-quoted, with its backslashes and double quotes
 * escaped. Free it with free(). */
char		*db_array_literal(const char *const *values, int n);

/* batch[0] was taken from waitq, and from was the query after it: the DB_Q_BATCH queries
 * of its statement from there on join it in batch[1..], up to max queries in all. They
 * leave waitq (the caller counts them out); returns the batch's size. */
int		 db_batch_gather(struct db_queryq *waitq, struct db_query *from,
		    struct db_query **batch, int max);

/* Send qs[0..n-1] (n >= 2, one statement) as one query of the prepared statement named
 * many: its parameter k is the array literal of their parameters k. PQsendQueryPrepared's
 * answer: 1 when it was queued. */
int		 db_batch_send_many(PGconn *, const char *many, struct db_query **qs,
		    int n);

/*
 * head's unit went out as one statement and committed: its result becomes one result per
 * query, row i for the i-th, as if each had run on its own. Returns that result when it
 * is an error (nothing was committed: the queries run again), else NULL. A result that is
 * not one row per query committed all the same: each query then gets a result without
 * rows, which its caller takes for an internal error; running them again would write
 * them twice. pool: the pool's name, for the log.
 */
PGresult	*db_batch_split(struct db_query *head, const char *pool);

/* A batch was rolled back: its queries (done, in order) go back to the head of waitq, in
 * their order, each to run on its own; a cancelled one is freed (nothing of it was
 * committed). Returns how many went back. */
int		 db_batch_requeue(struct db_queryq *done, struct db_queryq *waitq);

#endif
