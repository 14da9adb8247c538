-- 0023_pledges_fees_losses: pledges received in parts and written off, bank fees on
-- receipts, and fees and losses of a fund (docs/ledger.md, Fees and losses; Pledges received
-- in parts). The functions are in functions/40_funds.sql.

-- Three accounts more per fund: bank_charges and investment_losses (expenses met from the
-- fund's income), capital_impaired (a loss an endowment's earnings could not meet, charged
-- to its capital: a debit against contributions).
ALTER TABLE fl.account DROP CONSTRAINT account_short_check;
ALTER TABLE fl.account ADD CONSTRAINT account_short_check CHECK (short IN ('cash',
    'pledges_receivable', 'pledged_contributions', 'contributions', 'earnings',
    'commitments', 'grants_committed', 'grants_disbursed', 'transfers_in', 'transfers_out',
    'bank_charges', 'investment_losses', 'capital_impaired'));
INSERT INTO fl.account (fund_code, short, name, type, currency)
SELECT f.code, a.short, f.code || ':' || a.short, a.type, f.currency
  FROM fl.fund f CROSS JOIN (VALUES ('bank_charges', 'expense'),
       ('investment_losses', 'expense'), ('capital_impaired', 'equity')) a(short, type)
 ORDER BY f.code, a.short;

-- Two fund figures more: charges, the debit balance of bank_charges and investment_losses
-- (met from income); impaired, that of capital_impaired (met from capital). available
-- subtracts charges (and, for a pass-through fund, impaired, always 0 there); an
-- endowment's capital is received minus impaired.
ALTER TABLE fl.fund ADD COLUMN charges bigint NOT NULL DEFAULT 0 CHECK (charges >= 0),
    ADD COLUMN impaired bigint NOT NULL DEFAULT 0 CHECK (impaired >= 0),
    ADD CONSTRAINT fund_impaired_within_capital CHECK (impaired <= received);
ALTER TABLE fl.fund DROP CONSTRAINT available_not_negative;
ALTER TABLE fl.fund ADD CONSTRAINT available_not_negative CHECK (
    CASE kind WHEN 'pass_through' THEN received - impaired + earnings ELSE earnings END
    + transferred_in - transferred_out - charges - committed - disbursed >= 0);
ALTER TABLE fl.fund_delta ADD COLUMN charges bigint NOT NULL DEFAULT 0,
    ADD COLUMN impaired bigint NOT NULL DEFAULT 0;

-- A pledge may end written off: what was received stays, what will not come is closed.
ALTER DOMAIN fl.contribution_status DROP CONSTRAINT contribution_status_check1;
ALTER DOMAIN fl.contribution_status ADD CONSTRAINT contribution_status_check1
    CHECK (VALUE IN ('pledged', 'received', 'cancelled', 'written_off'));
-- (a table written per call: no one-column CHECKs, tests/integration/test_hot_path.py)
ALTER TABLE fl.contribution ADD COLUMN fee bigint NOT NULL DEFAULT 0,
    ADD COLUMN written_off_at timestamptz,
    ADD COLUMN write_off_reason text,
    ADD CONSTRAINT contribution_written_off CHECK ((status = 'written_off') =
	(written_off_at IS NOT NULL AND
	 coalesce(length(write_off_reason) BETWEEN 1 AND 500, false))),
    ADD CONSTRAINT contribution_fee_below_amount CHECK (fee >= 0 AND fee < fund_amount);

-- Each receipt of a pledge: its amount in the pledge's currency at its own rate, its value
-- date, its bank fee (in the fund's currency), and cleared: how much of the pledge's
-- receivable (in the fund's currency, at the pledge's rate) it settled.
CREATE TABLE fl.pledge_receipt (
	seq		bigserial UNIQUE,
	receipt_id	text PRIMARY KEY,
	contribution_id	text NOT NULL REFERENCES fl.contribution,
	fund_code	text NOT NULL REFERENCES fl.fund,
	amount		fl.positive_amount NOT NULL,
	fx_rate		fl.positive_rate,
	fund_amount	fl.positive_amount NOT NULL,
	fee		bigint NOT NULL DEFAULT 0 CHECK (fee >= 0 AND fee < fund_amount),
	cleared		bigint NOT NULL CHECK (cleared >= 0),
	received_at	timestamptz NOT NULL,
	bank_ref	fl.bank_ref,
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text REFERENCES fl.principal
);
CREATE INDEX pledge_receipt_contribution ON fl.pledge_receipt (contribution_id, seq);
CREATE INDEX pledge_receipt_fund ON fl.pledge_receipt (fund_code, received_at, receipt_id);

-- The pledges received before: each one receipt of the whole, with the contribution's id
-- (its receipt entry's ref_id, and the key of what the allocation kept of it).
INSERT INTO fl.pledge_receipt (receipt_id, contribution_id, fund_code, amount, fx_rate,
    fund_amount, cleared, received_at, bank_ref, created_at, created_by)
SELECT contribution_id, contribution_id, fund_code, amount, fx_rate, fund_amount,
    fund_amount, received_at, bank_ref, created_at, created_by
  FROM fl.contribution WHERE status = 'received' AND pledged_at IS NOT NULL ORDER BY seq;

-- The allocation's sources are direct receipts and pledge receipts: its key is either id.
ALTER TABLE fl.alloc_contribution
    DROP CONSTRAINT alloc_contribution_contribution_id_fkey;

-- Money paid for a grant and given back (disbursement.refund): each refund of a paid
-- disbursement, its value date and why. The refunds of a disbursement never exceed it.
CREATE TABLE fl.refund (
	seq		bigserial UNIQUE,
	refund_id	text PRIMARY KEY,
	disbursement_id	text NOT NULL REFERENCES fl.disbursement,
	grant_id	text NOT NULL REFERENCES fl.grant_application,
	amount		fl.positive_amount NOT NULL,
	refunded_at	timestamptz NOT NULL,
	bank_ref	fl.bank_ref,
	reason		text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text REFERENCES fl.principal
);
CREATE INDEX refund_disbursement ON fl.refund (disbursement_id, seq);
CREATE INDEX refund_grant ON fl.refund (grant_id, seq);
