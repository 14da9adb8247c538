-- 0034_report_paths: what the reports (functions/85_reports.sql, docs/reports.md) read,
-- kept where they read it without visiting the rest.

-- When a grant's first payment was made: the earliest paid_at of its paid disbursements
-- (disbursement.confirm keeps it; fl.grant_guard() lets it change only with a payment).
ALTER TABLE fl.grant_application ADD COLUMN first_paid_at timestamptz;
UPDATE fl.grant_application g SET first_paid_at = d.first_paid
  FROM (SELECT grant_id, min(paid_at) AS first_paid FROM fl.disbursement
	 WHERE status = 'paid' GROUP BY grant_id) d
 WHERE d.grant_id = g.grant_id;

-- report.grants and report.pipeline of a fund: its applications of a range, read from
-- the index alone.
CREATE INDEX grant_report ON fl.grant_application (fund_code, created_at)
    INCLUDE (region, category, status, returnee_id, amount, committed, disbursed,
	decided_at, first_paid_at);

-- report.contributions: a donor's gifts by date (new and retained donors), the reversals
-- of a fund, and a partner's pledges.
CREATE INDEX contribution_gift ON fl.contribution (partner_id, received_at)
    WHERE pledged_at IS NULL AND status = 'received';
CREATE INDEX contribution_reversed ON fl.contribution (fund_code)
    WHERE reversal_entry IS NOT NULL;
CREATE INDEX contribution_pledge_partner ON fl.contribution (partner_id)
    WHERE pledged_at IS NOT NULL;

-- fl.report_answer() takes a report's rows and totals as one array now.
DROP FUNCTION IF EXISTS fl.report_answer(text, text[], jsonb, jsonb, jsonb, jsonb);
