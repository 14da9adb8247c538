-- 0002_ledger: currencies, funds and their accounts, the fund balance deltas, the
-- double-entry journal, partners and contributions. The design, the chart of accounts and a
-- worked example are in docs/ledger.md. The functions are in functions/30_ledger.sql (the
-- journal) and functions/40_funds.sql (funds, partners, contributions).

-- Currencies -------------------------------------------------------------------------------

-- Active ISO 4217 codes and their minor units: the same list as daemon/validate.c.
CREATE TABLE fl.currency (
	code		text PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
	minor_unit	int NOT NULL CHECK (minor_unit BETWEEN 0 AND 4)
);
INSERT INTO fl.currency (code, minor_unit) VALUES
	('AED', 2), ('AFN', 2), ('ALL', 2), ('AMD', 2), ('AOA', 2), ('ARS', 2), ('AUD', 2),
	('AWG', 2), ('AZN', 2), ('BAM', 2), ('BBD', 2), ('BDT', 2), ('BHD', 3), ('BIF', 0),
	('BMD', 2), ('BND', 2), ('BOB', 2), ('BOV', 2), ('BRL', 2), ('BSD', 2), ('BTN', 2),
	('BWP', 2), ('BYN', 2), ('BZD', 2), ('CAD', 2), ('CDF', 2), ('CHE', 2), ('CHF', 2),
	('CHW', 2), ('CLF', 4), ('CLP', 0), ('CNY', 2), ('COP', 2), ('COU', 2), ('CRC', 2),
	('CUC', 2), ('CUP', 2), ('CVE', 2), ('CZK', 2), ('DJF', 0), ('DKK', 2), ('DOP', 2),
	('DZD', 2), ('EGP', 2), ('ERN', 2), ('ETB', 2), ('EUR', 2), ('FJD', 2), ('FKP', 2),
	('GBP', 2), ('GEL', 2), ('GHS', 2), ('GIP', 2), ('GMD', 2), ('GNF', 0), ('GTQ', 2),
	('GYD', 2), ('HKD', 2), ('HNL', 2), ('HTG', 2), ('HUF', 2), ('IDR', 2), ('ILS', 2),
	('INR', 2), ('IQD', 3), ('IRR', 2), ('ISK', 0), ('JMD', 2), ('JOD', 3), ('JPY', 0),
	('KES', 2), ('KGS', 2), ('KHR', 2), ('KMF', 0), ('KPW', 2), ('KRW', 0), ('KWD', 3),
	('KYD', 2), ('KZT', 2), ('LAK', 2), ('LBP', 2), ('LKR', 2), ('LRD', 2), ('LSL', 2),
	('LYD', 3), ('MAD', 2), ('MDL', 2), ('MGA', 2), ('MKD', 2), ('MMK', 2), ('MNT', 2),
	('MOP', 2), ('MRU', 2), ('MUR', 2), ('MVR', 2), ('MWK', 2), ('MXN', 2), ('MXV', 2),
	('MYR', 2), ('MZN', 2), ('NAD', 2), ('NGN', 2), ('NIO', 2), ('NOK', 2), ('NPR', 2),
	('NZD', 2), ('OMR', 3), ('PAB', 2), ('PEN', 2), ('PGK', 2), ('PHP', 2), ('PKR', 2),
	('PLN', 2), ('PYG', 0), ('QAR', 2), ('RON', 2), ('RSD', 2), ('RUB', 2), ('RWF', 0),
	('SAR', 2), ('SBD', 2), ('SCR', 2), ('SDG', 2), ('SEK', 2), ('SGD', 2), ('SHP', 2),
	('SLE', 2), ('SOS', 2), ('SRD', 2), ('SSP', 2), ('STN', 2), ('SVC', 2), ('SYP', 2),
	('SZL', 2), ('THB', 2), ('TJS', 2), ('TMT', 2), ('TND', 3), ('TOP', 2), ('TRY', 2),
	('TTD', 2), ('TWD', 2), ('TZS', 2), ('UAH', 2), ('UGX', 0), ('USD', 2), ('USN', 2),
	('UYI', 0), ('UYU', 2), ('UYW', 4), ('UZS', 2), ('VED', 2), ('VES', 2), ('VND', 0),
	('VUV', 0), ('WST', 2), ('XAF', 0), ('XCD', 2), ('XCG', 2), ('XOF', 0), ('XPF', 0),
	('YER', 2), ('ZAR', 2), ('ZMW', 2), ('ZWG', 2);
GRANT SELECT ON fl.currency TO fundd_app;

-- Funds and accounts ---------------------------------------------------------------------

-- The balance figures are the row's plus the deltas not yet folded into it (fl.fund_delta),
-- and the tests check them against the journal; the CHECKs make it impossible for any
-- interleaving of writers to drive available or committed below zero.
CREATE TABLE fl.fund (
	code			text PRIMARY KEY CHECK (code ~ '^[A-Z0-9_-]{1,32}$'),
	name			text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	currency		text NOT NULL REFERENCES fl.currency,
	kind			text NOT NULL CHECK (kind IN ('pass_through', 'endowment')),
	dual_approval_above	bigint NOT NULL CHECK (dual_approval_above >= 0),
	received		bigint NOT NULL DEFAULT 0 CHECK (received >= 0),
	earnings		bigint NOT NULL DEFAULT 0 CHECK (earnings >= 0),
	pledged			bigint NOT NULL DEFAULT 0 CHECK (pledged >= 0),
	committed		bigint NOT NULL DEFAULT 0 CHECK (committed >= 0),
	disbursed		bigint NOT NULL DEFAULT 0 CHECK (disbursed >= 0),
	created_at		timestamptz NOT NULL DEFAULT now(),
	created_by		text REFERENCES fl.principal,
	CONSTRAINT available_not_negative CHECK (
	    CASE kind WHEN 'pass_through' THEN received + earnings ELSE earnings END
	    - committed - disbursed >= 0)
);

-- Balance movements not yet folded into their fund's row: each INSERT of postings appends
-- one per fund it moves (fl.posting_fund_delta). Appending never waits on another writer,
-- where updating the fund row would serialise every money movement of a fund on that row's
-- lock. The current figures are the row plus its deltas (fl.fund_current); fl.fund_fold
-- moves deltas into the row, where the CHECK constraints hold them to account.
CREATE TABLE fl.fund_delta (
	delta_id	bigserial PRIMARY KEY,
	fund_code	text NOT NULL,
	received	bigint NOT NULL,
	earnings	bigint NOT NULL,
	pledged		bigint NOT NULL,
	committed	bigint NOT NULL,
	disbursed	bigint NOT NULL
);
CREATE INDEX fund_delta_fund ON fl.fund_delta (fund_code, delta_id);

CREATE TABLE fl.account (
	account_id	bigserial PRIMARY KEY,
	fund_code	text NOT NULL REFERENCES fl.fund,
	short		text NOT NULL CHECK (short IN ('cash', 'pledges_receivable',
			    'pledged_contributions', 'contributions', 'earnings', 'commitments',
			    'grants_committed', 'grants_disbursed')),
	name		text NOT NULL UNIQUE,
	type		text NOT NULL CHECK (type IN ('asset', 'liability', 'equity', 'income',
			    'expense')),
	currency	text NOT NULL REFERENCES fl.currency,
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (fund_code, short),
	CHECK (name = fund_code || ':' || short)
);

-- Journal ---------------------------------------------------------------------------------

CREATE TABLE fl.journal_entry (
	entry_id	bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	kind		text NOT NULL CHECK (kind ~ '^[a-z_]{1,32}$'),
	memo		text NOT NULL DEFAULT '' CHECK (length(memo) <= 500),
	fund_code	text REFERENCES fl.fund,
	ref_id		text,
	principal_id	text REFERENCES fl.principal,
	txid		bigint NOT NULL DEFAULT txid_current()
);
CREATE INDEX journal_entry_at ON fl.journal_entry (at, entry_id);

-- Signed amounts: debit positive, credit negative. No foreign keys: the trigger
-- posting_guard checks, once per INSERT, that each posting's entry exists (and is of the
-- same transaction) and that its account exists with the posting's currency (the account's
-- currency is a foreign key); entries and accounts are never updated or deleted (triggers).
-- That is everything the foreign keys would check, with one query per statement instead of
-- three lookups per posting.
CREATE TABLE fl.posting (
	entry_id	bigint NOT NULL,
	seq		smallint NOT NULL,
	account_id	bigint NOT NULL,
	amount		bigint NOT NULL CHECK (amount <> 0),
	currency	text NOT NULL,
	PRIMARY KEY (entry_id, seq)
);
CREATE INDEX posting_account ON fl.posting (account_id, entry_id);

-- Partners --------------------------------------------------------------------------------

CREATE TABLE fl.partner (
	seq		bigserial UNIQUE,
	partner_id	text PRIMARY KEY,
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	country		text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
	kind		text NOT NULL CHECK (kind IN ('individual', 'organisation')),
	email		text CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'
			    AND length(email) <= 254),
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text REFERENCES fl.principal
);

ALTER TABLE fl.principal ADD CONSTRAINT principal_partner_fk
	FOREIGN KEY (partner_id) REFERENCES fl.partner;

-- Contributions ---------------------------------------------------------------------------

CREATE TABLE fl.contribution (
	seq		bigserial UNIQUE,
	contribution_id	text PRIMARY KEY,
	partner_id	text NOT NULL REFERENCES fl.partner,
	fund_code	text NOT NULL REFERENCES fl.fund,
	status		text NOT NULL CHECK (status IN ('pledged', 'received', 'cancelled')),
	amount		bigint NOT NULL CHECK (amount > 0),
	currency	text NOT NULL REFERENCES fl.currency,
	fx_rate		numeric CHECK (fx_rate > 0),
	fund_amount	bigint NOT NULL CHECK (fund_amount > 0),
	earmark_region	text REFERENCES fl.region,
	pledged_at	timestamptz,
	received_at	timestamptz,
	bank_ref	text CHECK (length(bank_ref) BETWEEN 1 AND 200),
	cancelled_at	timestamptz,
	cancel_reason	text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text REFERENCES fl.principal,
	CHECK ((status = 'received') = (received_at IS NOT NULL)),
	CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL AND cancel_reason IS NOT NULL))
);
CREATE INDEX contribution_partner ON fl.contribution (partner_id, seq);
CREATE INDEX contribution_fund ON fl.contribution (fund_code, seq);

GRANT SELECT, INSERT ON fl.fund, fl.account, fl.journal_entry, fl.posting, fl.partner,
    fl.contribution TO fundd_app;
GRANT SELECT, INSERT ON fl.fund_delta TO fundd_app;
GRANT USAGE ON SEQUENCE fl.fund_delta_delta_id_seq TO fundd_app;
GRANT UPDATE (status, received_at, bank_ref, cancelled_at, cancel_reason)
    ON fl.contribution TO fundd_app;
GRANT USAGE ON SEQUENCE fl.account_account_id_seq, fl.journal_entry_entry_id_seq,
    fl.partner_seq_seq, fl.contribution_seq_seq TO fundd_app;
