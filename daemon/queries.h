/* queries.h: the statements fundd runs, prepared on every pool connection. */
#ifndef FUND_QUERIES_H
#define FUND_QUERIES_H

#include "db_pool.h"

enum query_id {
	Q_RPC,		/* api.call(token_hash, cert_hash, method, roles, params, idem, ctx) */
	Q_AUTHENTICATE,	/* api.authenticate(token_hash, cert_hash): principal or NULL */
	Q_PING,		/* /healthz */
	Q_PURGE,	/* hourly: idempotency keys older than 30 days */
	Q_FOLD,		/* every few seconds: fund balance deltas into the fund rows */
	Q_COUNT
};

extern const struct db_stmt queries[Q_COUNT];

#endif
