/* db_batch.c: batches of writes that share one transaction (db_batch.h). */
#include <stdlib.h>
#include <string.h>

#include "db_batch.h"
#include "log.h"
#include "util.h"

#define DB_MANY_MAX_PARAMS	16

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

int
db_batch_gather(struct db_queryq *waitq, struct db_query *from, struct db_query **batch,
    int max)
{
	struct db_query	*q = batch[0], *r, *next;
	int		 n = 1;

	for (r = from; r != NULL && n < max; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (!(r->flags & DB_Q_BATCH) || r->stmt != q->stmt)
			continue;
		TAILQ_REMOVE(waitq, r, entry);
		r->queued = 0;
		batch[n++] = r;
	}
	return n;
}

int
db_batch_send_many(PGconn *pg, const char *many, struct db_query **qs, int n)
{
	const char	*col[DB_BATCH_CAP];
	char		*arrays[DB_MANY_MAX_PARAMS] = { NULL };
	int		 i, k, np = qs[0]->nparams, ok;

	if (np > DB_MANY_MAX_PARAMS || n > DB_BATCH_CAP)
		fatalx("db: a batch of %d of a statement with %d parameters", n, np);
	for (k = 0; k < np; k++) {
		for (i = 0; i < n; i++)
			col[i] = qs[i]->values[k];
		arrays[k] = db_array_literal(col, n);
	}
	ok = PQsendQueryPrepared(pg, many, np, (const char *const *)arrays, NULL, NULL, 0);
	for (k = 0; k < np; k++)
		free(arrays[k]);
	return ok;
}

PGresult *
db_batch_split(struct db_query *head, const char *pool)
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
		    "and its calls get an internal error", pool, n, PQntuples(all),
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

int
db_batch_requeue(struct db_queryq *done, struct db_queryq *waitq)
{
	struct db_query	*q;
	int		 n = 0;

	while ((q = TAILQ_LAST(done, db_queryq)) != NULL) {
		TAILQ_REMOVE(done, q, entry);
		q->conn = NULL;
		q->nbatch = 0;
		q->many = 0;
		q->flags &= ~DB_Q_BATCH;
		if (q->res != NULL) {
			PQclear(q->res);
			q->res = NULL;
		}
		if (q->cb == NULL) {
			db_query_free(q);
			continue;
		}
		TAILQ_INSERT_HEAD(waitq, q, entry);
		q->queued = 1;
		n++;
	}
	return n;
}
