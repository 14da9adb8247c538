/* queries.c: the statements fundd runs; everything else lives in SQL functions. */
#include "queries.h"

const struct db_stmt queries[Q_COUNT] = {
	[Q_RPC] = { "fundd_rpc", "SELECT api.call($1::bytea, $2::bytea, $3, $4::jsonb, $5, "
	    "$6::jsonb)", 6, Q_RPC_MANY },
	[Q_AUTHORIZE] = { "fundd_authorize", "SELECT api.authorize($1::bytea, $2::bytea, $3, "
	    "$4, $5::jsonb)", 5 },
	[Q_PING] = { "fundd_ping", "SELECT 1", 0 },
	[Q_PURGE] = { "fundd_purge", "SELECT fl.purge_idempotency($1::int)", 1 },
	[Q_FOLD] = { "fundd_fold", "SELECT fl.fold_all()", 0 },
	[Q_ALLOC] = { "fundd_alloc", "SELECT fl.alloc_catch_up_all()", 0 },
	[Q_AUDIT_CHAIN] = { "fundd_audit_chain", "SELECT fl.audit_chain($1::int)", 1 },
	[Q_AUDIT_DUE] = { "fundd_audit_due", "SELECT seq, head_hash, signed_at, key_state, "
	    "key_note FROM fl.audit_checkpoint_due($1)", 1 },
	[Q_AUDIT_CHECKPOINT] = { "fundd_audit_checkpoint", "SELECT fl.audit_checkpoint_add("
	    "$1::bigint, $2, $3, $4, $5)", 5 },
	/* Q_RPC's parameters as arrays */
	[Q_RPC_MANY] = { "fundd_rpc_many", "SELECT api.call_many($1::bytea[], $2::bytea[], "
	    "$3::text[], $4::jsonb[], $5::text[], $6::jsonb[])", 6 },
	[Q_DOCUMENT_UPLOAD] = { "fundd_document_upload", "SELECT api.document_upload($1::bytea, "
	    "$2::bytea, $3, $4::bytea, $5, $6, $7)", 7 },
	[Q_DOCUMENT_DOWNLOAD] = { "fundd_document_download", "SELECT answer, data FROM "
	    "api.document_download($1::bytea, $2::bytea, $3)", 3 },
	[Q_ERASE_DUE] = { "fundd_erase_due", "SELECT fl.erase_due($1::int, $2::int)", 2 },
	[Q_OPS] = { "fundd_ops", "SELECT head_seq, chain_lag, checkpoint_seq, checkpoint_at "
	    "FROM fl.ops_state()", 0 },
	[Q_ACCESS] = { "fundd_access", "SELECT api.access_record(ARRAY[$1::bytea], "
	    "ARRAY[$2::bytea], ARRAY[$3], ARRAY[$4::jsonb])", 4, Q_ACCESS_MANY },
	[Q_ACCESS_MANY] = { "fundd_access_many", "SELECT api.access_record($1::bytea[], "
	    "$2::bytea[], $3::text[], $4::jsonb[])", 4 },
	[Q_WAL_FLUSH] = { "fundd_wal_flush", "SELECT pg_current_wal_flush_lsn()::text", 0 },
	[Q_WAL_REPLAY] = { "fundd_wal_replay", "SELECT pg_is_in_recovery(), "
	    "pg_last_wal_replay_lsn()::text", 0 },
};
