-- 0021_value_dates: every journal entry carries its value date (value_at), the date the
-- money moved, beside the time it was recorded (at): a receipt's received_at, a payment's
-- paid_at, the earnings' value date, a pledge's pledged_at, a cancellation's cancelled_at;
-- for an entry without a business date of its own (a commitment), the time it was recorded.
-- fl.post() and fl.post_many() (functions/30_ledger.sql) take it; docs/ledger.md, Value dates.
--
-- Entries written before this migration get theirs from the rows they record, else their
-- recording time (earnings, commitments). The journal is append-only: its guard triggers
-- are disabled for this one UPDATE, inside the migration's transaction.

DROP FUNCTION IF EXISTS fl.post(fl.fund, text, text, text, text, text[], bigint[]);
DROP FUNCTION IF EXISTS fl.post_many(text, text, text[], text[], text[], text, text, bigint[]);

ALTER TABLE fl.journal_entry ADD COLUMN value_at timestamptz;
ALTER TABLE fl.journal_entry DISABLE TRIGGER USER;
UPDATE fl.journal_entry e
   SET value_at = coalesce(CASE e.kind
	WHEN 'receipt' THEN (SELECT c.received_at FROM fl.contribution c
			      WHERE c.contribution_id = e.ref_id)
	WHEN 'pledge' THEN (SELECT c.pledged_at FROM fl.contribution c
			     WHERE c.contribution_id = e.ref_id)
	WHEN 'pledge_cancel' THEN (SELECT c.cancelled_at FROM fl.contribution c
				    WHERE c.contribution_id = e.ref_id)
	WHEN 'disbursement' THEN (SELECT d.paid_at FROM fl.disbursement d
				   WHERE d.disbursement_id = e.ref_id)
	END, e.at);
ALTER TABLE fl.journal_entry ENABLE TRIGGER USER;
ALTER TABLE fl.journal_entry ALTER COLUMN value_at SET DEFAULT now(),
	ALTER COLUMN value_at SET NOT NULL;
CREATE INDEX journal_entry_value_at ON fl.journal_entry (value_at, entry_id);
