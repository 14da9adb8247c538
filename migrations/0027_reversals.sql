-- 0027_reversals: a wrong receipt is reversed, never edited (docs/protocol.md,
-- contribution.reverse): an entry that posts the opposite of the receipt's, linked from the
-- contribution, which ends reversed. functions/40_funds.sql.

ALTER DOMAIN fl.contribution_status DROP CONSTRAINT contribution_status_check1;
ALTER DOMAIN fl.contribution_status ADD CONSTRAINT contribution_status_check1
    CHECK (VALUE IN ('pledged', 'received', 'cancelled', 'written_off', 'reversed'));
-- (a table written per call: no one-column CHECKs, tests/integration/test_hot_path.py)
ALTER TABLE fl.contribution ADD COLUMN reversed_at timestamptz,
    ADD COLUMN reversed_by text REFERENCES fl.principal,
    ADD COLUMN reverse_reason text,
    ADD COLUMN reversal_entry bigint REFERENCES fl.journal_entry;

-- a reversed receipt keeps when it was received; a received or reversed one has that date
ALTER TABLE fl.contribution DROP CONSTRAINT contribution_check,
    ADD CONSTRAINT contribution_received_at CHECK
	((status IN ('received', 'reversed')) = (received_at IS NOT NULL)),
    ADD CONSTRAINT contribution_reversed CHECK
	((status = 'reversed') = (reversed_at IS NOT NULL AND reversal_entry IS NOT NULL));
