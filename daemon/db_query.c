/* db_query.c: a pool's query record (db_query.h). */
#include <stdlib.h>

#include "db_query.h"

void
db_query_free(struct db_query *q)
{
	int	i;

	if (q->res != NULL)
		PQclear(q->res);
	for (i = 0; i < q->nparams; i++)
		free(q->values[i]);
	free(q->values);
	free(q);
}

void
db_result_keep(PGresult **slot, PGresult *r)
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
