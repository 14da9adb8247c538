-- 0022_transfers: transfers between funds (docs/ledger.md, Transfers between funds). Each
-- fund gets two accounts more, transfers_in and transfers_out, and two figures more,
-- transferred_in and transferred_out, which enter its available balance; a transfer is
-- made pending (fund.transfer), then confirmed by another principal (both sides journaled,
-- each in its fund's currency) or cancelled. The functions are in functions/45_transfers.sql.

-- The fund's figures (kept as the others are: the row plus its deltas) ------------------------

-- transfer-specific: the two figures and the available balance that counts them
ALTER TABLE fl.fund
	ADD COLUMN transferred_in bigint NOT NULL DEFAULT 0 CHECK (transferred_in >= 0),
	ADD COLUMN transferred_out bigint NOT NULL DEFAULT 0 CHECK (transferred_out >= 0),
	DROP CONSTRAINT available_not_negative,
	ADD CONSTRAINT available_not_negative CHECK (
	    CASE kind WHEN 'pass_through' THEN received + earnings ELSE earnings END
	    + transferred_in - transferred_out - committed - disbursed >= 0),
	-- an endowment's capital comes from contributions only: nothing is transferred in
	ADD CONSTRAINT endowment_no_transfer_in CHECK (kind = 'pass_through' OR
	    transferred_in = 0);

ALTER TABLE fl.fund_delta
	ADD COLUMN transferred_in bigint NOT NULL DEFAULT 0,
	ADD COLUMN transferred_out bigint NOT NULL DEFAULT 0;

-- The accounts --------------------------------------------------------------------------------

ALTER TABLE fl.account DROP CONSTRAINT account_short_check;
ALTER TABLE fl.account ADD CONSTRAINT account_short_check CHECK (short IN ('cash',
    'pledges_receivable', 'pledged_contributions', 'contributions', 'earnings', 'commitments',
    'grants_committed', 'grants_disbursed', 'transfers_in', 'transfers_out'));

-- (a fund created before this file gets its two transfer accounts with its first
-- confirmed transfer: fl.transfer_accounts(), functions/45_transfers.sql)

-- Transfers ------------------------------------------------------------------------------------

-- A transfer of amount (minor units of the source fund's currency) from from_fund to
-- to_fund; to_amount in the destination's currency (amount x fx_rate rounded half to even,
-- or amount when both share a currency). Pending until confirmed (both entries posted) or
-- cancelled; the maker never confirms it.
CREATE TABLE fl.transfer (
	seq		bigserial UNIQUE,
	transfer_id	text PRIMARY KEY,
	from_fund	text NOT NULL REFERENCES fl.fund,
	to_fund		text NOT NULL REFERENCES fl.fund,
	amount		bigint NOT NULL CHECK (amount > 0),
	fx_rate		numeric CHECK (fx_rate > 0),
	to_amount	bigint NOT NULL CHECK (to_amount > 0),
	memo		text NOT NULL CHECK (length(memo) BETWEEN 1 AND 500),
	status		text NOT NULL DEFAULT 'pending'
			    CHECK (status IN ('pending', 'confirmed', 'cancelled')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text NOT NULL REFERENCES fl.principal,
	decided_at	timestamptz,
	decided_by	text REFERENCES fl.principal,
	cancel_reason	text CHECK (length(cancel_reason) BETWEEN 1 AND 500),
	out_entry_id	bigint,
	in_entry_id	bigint,
	CHECK (from_fund <> to_fund),
	CHECK ((status = 'pending') = (decided_at IS NULL AND decided_by IS NULL)),
	CHECK ((status = 'confirmed') = (out_entry_id IS NOT NULL AND in_entry_id IS NOT NULL)),
	CHECK ((status = 'confirmed') <= (decided_by IS DISTINCT FROM created_by)),
	CHECK ((status = 'cancelled') = (cancel_reason IS NOT NULL))
);
CREATE INDEX transfer_from ON fl.transfer (from_fund, seq);
CREATE INDEX transfer_to ON fl.transfer (to_fund, seq);
