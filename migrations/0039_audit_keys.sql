-- 0039_audit_keys: the chain of keys that sign the audit checkpoints (docs/audit.md,
-- "Signing keys"). Key 1 is the key of the checkpoints already stored, or of the first
-- daemon that signs; every later key is introduced by a signature of the key before it,
-- and signs the checkpoints from its from_seq on. Append-only, like the rest of the trail;
-- the guards that keep the chain in order are in functions/70_audit.sql.

CREATE TABLE fl.audit_key (
	key_no		int PRIMARY KEY CHECK (key_no >= 1),
	public_key	bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
	key_id		text NOT NULL UNIQUE
			    GENERATED ALWAYS AS (left(encode(sha256(public_key), 'hex'), 16)) STORED,
	from_seq	bigint NOT NULL CHECK (from_seq >= 1),
	signed_by	int REFERENCES fl.audit_key (key_no),
	signature	bytea CHECK (length(signature) = 64),
	introduced_at	timestamptz NOT NULL,
	stored_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (signed_by = key_no - 1),
	CHECK ((key_no = 1) = (signed_by IS NULL)),
	CHECK ((key_no = 1) = (signature IS NULL)),
	CHECK (key_no > 1 OR from_seq = 1)
);
CREATE INDEX audit_key_from_seq ON fl.audit_key (from_seq);

-- The daemon passes its public key to learn whether it may sign.
DROP FUNCTION IF EXISTS fl.audit_checkpoint_due();
