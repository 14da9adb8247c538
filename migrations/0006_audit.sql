-- 0006_audit: the tamper-evident audit trail (docs/audit.md): the events, their hash chain
-- and its signed checkpoints. The daemon's role may insert events; everything else goes
-- through SECURITY DEFINER functions, and nobody may update or delete the history. The
-- functions, with how events are chained, are in functions/70_audit.sql.

CREATE SEQUENCE fl.audit_seq AS bigint NO CYCLE CACHE 1;

CREATE TABLE fl.audit_event (
	seq		bigint PRIMARY KEY DEFAULT nextval('fl.audit_seq'),
	at		timestamptz NOT NULL DEFAULT now(),
	principal_id	text CHECK (principal_id ~ '^[A-Za-z0-9_.:-]{1,128}$'),
	method		text NOT NULL CHECK (method ~ '^[a-z]+\.[a-z_]{1,62}$'),
	object_id	text CHECK (object_id ~ '^[A-Za-z0-9_.:-]{1,128}$'),
	outcome		text NOT NULL CHECK (outcome IN ('ok', 'refused')),
	error_code	int,
	reason		text CHECK (reason ~ '^[a-z0-9_]{1,64}$'),
	params_sha256	bytea NOT NULL CHECK (length(params_sha256) = 32),
	CHECK ((outcome = 'ok') = (error_code IS NULL)),
	CHECK (outcome = 'refused' OR reason IS NULL)
);

-- The chain: one row per chained event, written only by fl.audit_chain().
CREATE TABLE fl.audit_chain (
	seq		bigint PRIMARY KEY,
	prev_hash	bytea NOT NULL CHECK (length(prev_hash) = 32),
	hash		bytea NOT NULL CHECK (length(hash) = 32),
	chained_at	timestamptz NOT NULL DEFAULT now()
);

-- The chain head (the last chained event), covered_seq (every event with a seq up to it is
-- chained), and the pending limit (docs/audit.md, "why no event is skipped"): every event
-- with seq <= pend_seq is final once no transaction older than pend_xid runs.
CREATE TABLE fl.audit_state (
	one		boolean PRIMARY KEY DEFAULT true CHECK (one),
	head_seq	bigint NOT NULL,
	head_hash	bytea NOT NULL CHECK (length(head_hash) = 32),
	covered_seq	bigint NOT NULL CHECK (covered_seq >= head_seq),
	pend_seq	bigint CHECK (pend_seq > covered_seq),
	pend_xid	xid8,
	CHECK ((pend_seq IS NULL) = (pend_xid IS NULL))
);
INSERT INTO fl.audit_state (head_seq, head_hash, covered_seq)
VALUES (0, decode(repeat('00', 32), 'hex'), 0);

CREATE TABLE fl.audit_checkpoint (
	seq		bigint PRIMARY KEY,
	head_hash	bytea NOT NULL CHECK (length(head_hash) = 32),
	signed_at	timestamptz NOT NULL,
	signature	bytea NOT NULL CHECK (length(signature) = 64),
	public_key	text NOT NULL CHECK (public_key LIKE '-----BEGIN PUBLIC KEY-----%'),
	stored_at	timestamptz NOT NULL DEFAULT now()
);

-- The daemon's role names neither seq nor at: both come from their defaults.
GRANT SELECT ON fl.audit_event TO fundd_app;
GRANT INSERT (principal_id, method, object_id, outcome, error_code, reason, params_sha256)
    ON fl.audit_event TO fundd_app;
GRANT USAGE ON SEQUENCE fl.audit_seq TO fundd_app;
GRANT SELECT ON fl.audit_chain, fl.audit_state, fl.audit_checkpoint TO fundd_app;

-- No api.authenticate(): the HTTP endpoints that are not calls use api.authorize()
-- (functions/20_auth.sql), which also records refusals.
DROP FUNCTION IF EXISTS api.authenticate(bytea, bytea);
