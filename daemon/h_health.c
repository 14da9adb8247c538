/* h_health.c: GET /healthz (h_health.h). */
#include <stdlib.h>

#include "db_pool.h"
#include "h_health.h"
#include "http.h"
#include "http_reply.h"
#include "queries.h"
#include "util.h"

/* The ping under way; the request holds it. */
struct h_health {
	struct http_req	*r;
	struct db_query	*q;
};

static void
h_health_free(void *arg)
{
	struct h_health	*s = arg;

	if (s->q != NULL)
		db_cancel(s->q);
	free(s);
}

static void
ping_result(void *arg, enum db_status st, const PGresult *res)
{
	struct h_health	*s = arg;

	s->q = NULL;
	if (db_pool_read_only(http_req_pool(s->r)))
		/* it may answer a read, but takes no writes */
		http_reply_text(s->r, 503, "database read-only\n", "Retry-After: 1\r\n");
	else if (st == DB_OK && PQresultStatus(res) == PGRES_TUPLES_OK)
		http_reply_text(s->r, 200, "ok\n", NULL);
	else
		http_reply_text(s->r, 503, "database unavailable\n", "Retry-After: 1\r\n");
}

void
h_health(struct http_req *r)
{
	struct h_health	*s = xcalloc(1, sizeof(*s));

	s->r = r;
	http_req_hold(r, s, h_health_free);
	s->q = db_query(http_req_pool(r), Q_PING, NULL, 0, ping_result, s);
}
