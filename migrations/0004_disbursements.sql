-- 0004_disbursements: the tranches in which grants are paid. A disbursement is created
-- pending, then paid (confirmed by a principal other than its creator) or failed. The
-- functions, with the rules they keep, are in functions/60_disbursements.sql; grant.cancel
-- is in functions/50_grants.sql.

CREATE TABLE fl.disbursement (
	seq		bigserial UNIQUE,
	disbursement_id	text PRIMARY KEY,
	grant_id	text NOT NULL REFERENCES fl.grant_application,
	amount		bigint NOT NULL CHECK (amount > 0),
	status		text NOT NULL DEFAULT 'pending'
			    CHECK (status IN ('pending', 'paid', 'failed')),
	reference	text CHECK (length(reference) BETWEEN 1 AND 200),
	bank_ref	text CHECK (length(bank_ref) BETWEEN 1 AND 200),
	paid_at		timestamptz,
	fail_reason	text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text NOT NULL REFERENCES fl.principal,
	decided_by	text REFERENCES fl.principal,
	CHECK ((status = 'paid') = (paid_at IS NOT NULL AND bank_ref IS NOT NULL)),
	CHECK ((status = 'paid') <= (decided_by IS DISTINCT FROM created_by))
);
CREATE INDEX disbursement_grant ON fl.disbursement (grant_id, seq);

GRANT SELECT, INSERT ON fl.disbursement TO fundd_app;
GRANT UPDATE (status, bank_ref, paid_at, fail_reason, decided_by) ON fl.disbursement
    TO fundd_app;
GRANT USAGE ON SEQUENCE fl.disbursement_seq_seq TO fundd_app;
