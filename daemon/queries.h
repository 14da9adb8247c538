/* queries.h: the statements fundd runs, prepared on every pool connection. */
#ifndef FUND_QUERIES_H
#define FUND_QUERIES_H

#include "db.h"

enum query_id {
	Q_RPC,		/* api.call(token_hash, cert_hash, method, params, idem, ctx) */
	Q_AUTHORIZE,	/* api.authorize(token_hash, cert_hash, what, reason, params) */
	Q_PING,		/* /healthz */
	Q_PURGE,	/* hourly: idempotency keys older than 30 days */
	Q_FOLD,		/* every few seconds: fund balance deltas into the fund rows */
	Q_ALLOC,	/* every few seconds: kept allocations brought up to date */
	Q_AUDIT_CHAIN,	/* fl.audit_chain(max): extend the audit hash chain */
	Q_AUDIT_DUE,	/* the signing key's state, and the chain head to sign if it moved
			 * since the last checkpoint and the key may sign it */
	Q_AUDIT_CHECKPOINT, /* store a signed checkpoint */
	Q_RPC_MANY,	/* api.call_many(): a batch of Q_RPC as one statement */
	Q_DOCUMENT_UPLOAD, /* api.document_upload(): POST /documents */
	Q_DOCUMENT_DOWNLOAD, /* api.document_download(): GET /documents/{id} */
	Q_ERASE_DUE,	/* fl.erase_due(years, max): worker 0 erases who is due */
	Q_OPS,		/* fl.ops_state(): worker 0's sample for /metrics */
	Q_ACCESS,	/* api.access_record(): a read's access events, before its answer */
	Q_ACCESS_MANY,	/* the same for a batch of reads, as one statement */
	Q_WAL_FLUSH,	/* the primary's WAL flushed so far (replica.c) */
	Q_WAL_REPLAY,	/* whether the server is a standby, and how far it has replayed */
	Q_COUNT
};

extern const struct db_stmt queries[Q_COUNT];

#endif
