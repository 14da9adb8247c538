-- 0035_fund_hours: a fund's figures per hour of value date (UTC) as well as per day, so
-- that fund.balance as_of sums the hours of its own day before its hour from kept rows and
-- only that hour's entries from the journal (fl.fund_balance_at, functions/40_funds.sql).
-- Each balance delta now carries the hour of its entries' value dates too
-- (fl.posting_fund_delta, functions/30_ledger.sql); the fold moves it into fl.fund_hour as
-- well (fl.fund_fold, functions/40_funds.sql).

-- hour NULL: a delta appended before this file, already counted in fl.fund_hour below
ALTER TABLE fl.fund_delta ADD COLUMN hour smallint;

-- The figures an hour's entries (by value date) moved; signs as in fl.fund.
CREATE TABLE fl.fund_hour (
	fund_code	text NOT NULL REFERENCES fl.fund,
	day		date NOT NULL,
	hour		smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
	received	bigint NOT NULL,
	earnings	bigint NOT NULL,
	pledged		bigint NOT NULL,
	committed	bigint NOT NULL,
	disbursed	bigint NOT NULL,
	transferred_in	bigint NOT NULL,
	transferred_out	bigint NOT NULL,
	charges		bigint NOT NULL,
	impaired	bigint NOT NULL,
	PRIMARY KEY (fund_code, day, hour)
);

-- The journal so far, by fund and hour (it includes what the deltas above hold).
INSERT INTO fl.fund_hour
SELECT e.fund_code, (e.value_at AT TIME ZONE 'UTC')::date,
       extract(hour FROM e.value_at AT TIME ZONE 'UTC')::smallint,
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
 GROUP BY 1, 2, 3;
