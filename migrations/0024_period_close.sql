-- 0024_period_close: closed periods (docs/ledger.md, Closed periods). period.close (an
-- admin) asks to close every value date up to and including `until`; period.close_confirm
-- (an auditor, not the same principal) closes it; period.close_drop drops a pending one.
-- Once confirmed, no journal entry may carry a value date on or before `until` (the guard
-- fl.period_guard, functions/35_periods.sql). The confirmation writes the close record:
-- the closing balance of every account and fund and the SHA-256 of the ledger export of
-- the closed range, whose digest goes into the audit trail (docs/audit.md, Closed periods).

CREATE TABLE fl.period_close (
	period_id	text PRIMARY KEY CHECK (period_id ~ '^pc_[0-9a-f]{20}$'),
	until		date NOT NULL,
	status		text NOT NULL CHECK (status IN ('pending', 'confirmed', 'dropped')),
	requested_by	text NOT NULL REFERENCES fl.principal,
	requested_at	timestamptz NOT NULL DEFAULT now(),
	decided_by	text REFERENCES fl.principal,
	decided_at	timestamptz,
	-- at confirmation: the canonical bytes of the close record, their digest (the
	-- params_sha256 of its audit event) and that event's seq
	record		text,
	record_sha256	bytea,
	record_seq	bigint,
	CHECK ((status = 'pending') = (decided_at IS NULL)),
	CHECK ((status = 'confirmed') = (record IS NOT NULL AND record_sha256 IS NOT NULL AND
	    record_seq IS NOT NULL))
);
-- at most one pending close; confirmed closes move forward
CREATE UNIQUE INDEX period_close_one_pending ON fl.period_close ((true))
	WHERE status = 'pending';
CREATE UNIQUE INDEX period_close_confirmed ON fl.period_close (until)
	WHERE status = 'confirmed';
