-- 0016_allocation: what each contribution of a pass-through fund paid for, kept as the
-- journal grows instead of recomputed on every contribution.status (docs/ledger.md, What a
-- contribution paid for). Receipts and disbursements queue their journal entries
-- (fl.alloc_queue, by the trigger journal_entry_alloc_queue); fl.alloc_catch_up() allocates
-- what is queued, per fund under a lock, when a contribution of the fund is asked about.
-- A fund without a row in fl.alloc_fund has its allocation built from the journal on first
-- use, which is how the books of an existing database get theirs. The functions and the
-- trigger are in functions/40_funds.sql.

-- Journal entries of receipts and disbursements of pass-through funds not yet allocated.
CREATE TABLE fl.alloc_queue (
	queue_id	bigserial PRIMARY KEY,
	fund_code	text NOT NULL,
	entry_id	bigint NOT NULL,
	kind		text NOT NULL,
	ref_id		text NOT NULL
);
CREATE INDEX alloc_queue_fund ON fl.alloc_queue (fund_code, queue_id);

-- A fund whose allocation is kept (built, then caught up).
CREATE TABLE fl.alloc_fund (
	fund_code	text PRIMARY KEY REFERENCES fl.fund
);

-- Each received contribution of such a fund, in allocation order (received_at,
-- contribution_id), and what of it no disbursement has taken yet.
CREATE TABLE fl.alloc_contribution (
	contribution_id	text PRIMARY KEY REFERENCES fl.contribution,
	fund_code	text NOT NULL REFERENCES fl.alloc_fund,
	received_at	timestamptz NOT NULL,
	earmark_region	text,
	amount		bigint NOT NULL CHECK (amount > 0),
	left_over	bigint NOT NULL,
	CHECK (left_over BETWEEN 0 AND amount)
);
CREATE INDEX alloc_contribution_order
	ON fl.alloc_contribution (fund_code, received_at, contribution_id);
CREATE INDEX alloc_contribution_open
	ON fl.alloc_contribution (fund_code, received_at, contribution_id) WHERE left_over > 0;

-- What each disbursement entry took from each contribution; contribution_id NULL: what no
-- contribution could cover.
CREATE TABLE fl.allocation (
	allocation_id	bigserial PRIMARY KEY,
	fund_code	text NOT NULL REFERENCES fl.alloc_fund,
	entry_id	bigint NOT NULL,
	grant_id	text NOT NULL,
	region		text NOT NULL,
	contribution_id	text REFERENCES fl.alloc_contribution,
	amount		bigint NOT NULL CHECK (amount > 0)
);
CREATE INDEX allocation_entry ON fl.allocation (fund_code, entry_id);
CREATE INDEX allocation_contribution ON fl.allocation (contribution_id, entry_id)
	WHERE contribution_id IS NOT NULL;
CREATE INDEX allocation_unattributed ON fl.allocation (fund_code, entry_id)
	WHERE contribution_id IS NULL;
