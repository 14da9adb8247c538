-- 0031_fund_days: a fund's figures per day of value date (UTC), so that fund.balance as_of
-- adds up a row per day instead of the fund's whole journal (docs/ledger.md, Balances).
-- Each balance delta now carries the day of its entries' value dates (fl.posting_fund_delta,
-- functions/30_ledger.sql); the fold moves it into fl.fund_day as well as into the fund's
-- row (fl.fund_fold, functions/40_funds.sql).

DROP FUNCTION IF EXISTS fl.fund_balance_from_journal(text);

-- day NULL: a delta appended before this file, already counted in fl.fund_day below
ALTER TABLE fl.fund_delta ADD COLUMN day date;

-- The figures a day's entries (by value date) moved; signs as in fl.fund.
CREATE TABLE fl.fund_day (
	fund_code	text NOT NULL REFERENCES fl.fund,
	day		date NOT NULL,
	received	bigint NOT NULL,
	earnings	bigint NOT NULL,
	pledged		bigint NOT NULL,
	committed	bigint NOT NULL,
	disbursed	bigint NOT NULL,
	transferred_in	bigint NOT NULL,
	transferred_out	bigint NOT NULL,
	charges		bigint NOT NULL,
	impaired	bigint NOT NULL,
	PRIMARY KEY (fund_code, day)
);

-- The journal so far, by fund and day (it includes what the deltas above hold).
INSERT INTO fl.fund_day
SELECT e.fund_code, (e.value_at AT TIME ZONE 'UTC')::date,
       coalesce(-sum(p.amount) FILTER (WHERE a.short = 'contributions'), 0),
       coalesce(-sum(p.amount) FILTER (WHERE a.short = 'earnings'), 0),
       coalesce(sum(p.amount) FILTER (WHERE a.short = 'pledges_receivable'), 0),
       coalesce(-sum(p.amount) FILTER (WHERE a.short = 'commitments'), 0),
       coalesce(sum(p.amount) FILTER (WHERE a.short = 'grants_disbursed'), 0),
       coalesce(-sum(p.amount) FILTER (WHERE a.short = 'transfers_in'), 0),
       coalesce(sum(p.amount) FILTER (WHERE a.short = 'transfers_out'), 0),
       coalesce(sum(p.amount) FILTER (WHERE a.short IN ('bank_charges',
           'investment_losses')), 0),
       coalesce(sum(p.amount) FILTER (WHERE a.short = 'capital_impaired'), 0)
  FROM fl.posting p
  JOIN fl.account a ON a.account_id = p.account_id
  JOIN fl.journal_entry e ON e.entry_id = p.entry_id
 WHERE e.fund_code IS NOT NULL
 GROUP BY 1, 2;
