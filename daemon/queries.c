/* queries.c: the statements fundd runs; everything else lives in SQL functions. */
#include "queries.h"

const struct db_stmt queries[Q_COUNT] = {
	[Q_RPC] = { "fundd_rpc", "SELECT api.call($1::bytea, $2::bytea, $3, $4::text[], "
	    "$5::jsonb, $6, $7::jsonb)", 7 },
	[Q_AUTHENTICATE] = { "fundd_auth", "SELECT api.authenticate($1::bytea, $2::bytea)", 2 },
	[Q_PING] = { "fundd_ping", "SELECT 1", 0 },
	[Q_PURGE] = { "fundd_purge", "SELECT fl.purge_idempotency()", 0 },
	[Q_FOLD] = { "fundd_fold", "SELECT fl.fold_all()", 0 },
};
