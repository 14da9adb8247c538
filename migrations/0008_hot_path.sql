-- 0008_hot_path: less database CPU per mutation; nothing here changes what a method
-- answers or what the database refuses.
--
-- 1. random_page_cost 1.1 for the database, the usual figure when the data is in memory or
--    on SSD: with the default, 4, the planner scans the small lookup tables (fl.currency,
--    fl.fund, fl.partner, fl.account) whole rather than use their primary keys.
-- 2. Fewer statements and lookups, since each statement pays the executor's set-up: a
--    journal entry and its postings in one statement (fl.post), their check once per INSERT
--    instead of once per posting (the trigger posting_guard), a contribution's partner and
--    currency in one query and its minor units once (fl.contribution_new,
--    fl.contribution_json).
--    These functions are in functions/30_ledger.sql and functions/40_funds.sql.
-- 3. The one-column CHECKs of the tables every mutation writes become domains with the same
--    conditions: a domain's checks are planned once per session, a table's CHECKs on every
--    INSERT. The CHECKs across columns stay CHECKs.

-- 1. random_page_cost ----------------------------------------------------------------------

-- A database setting, so it needs the database's owner (or a superuser); without that the
-- migration still applies, and says what to run.
DO $$
BEGIN
	EXECUTE format('ALTER DATABASE %I SET random_page_cost = 1.1', current_database());
EXCEPTION WHEN insufficient_privilege THEN
	RAISE WARNING 'random_page_cost stays as it is: as the owner of database %, run '
	    '"ALTER DATABASE % SET random_page_cost = 1.1" (docs/benchmarks.md)',
	    current_database(), current_database();
END
$$;

-- 2. The posting guard ---------------------------------------------------------------------

-- The guard called once per posting gives way to the statement trigger posting_guard.
DROP TRIGGER IF EXISTS posting_guard ON fl.posting;
DROP FUNCTION IF EXISTS fl.posting_guard();

-- 3. Domains -------------------------------------------------------------------------------

-- The conditions of the CHECKs they replace, except that the patterns say "+" and test the
-- length apart: the regex engine expands a bounded repetition such as {1,128} into as many
-- states.
CREATE DOMAIN fl.ident AS text
	CHECK (VALUE ~ '^[A-Za-z0-9_.:-]+$' AND length(VALUE) <= 128);
CREATE DOMAIN fl.method_name AS text
	CHECK (VALUE ~ '^[a-z]+\.[a-z_]+$' AND length(split_part(VALUE, '.', 2)) <= 62);
CREATE DOMAIN fl.reason_code AS text
	CHECK (VALUE ~ '^[a-z0-9_]+$' AND length(VALUE) <= 64);
CREATE DOMAIN fl.audit_outcome AS text CHECK (VALUE IN ('ok', 'refused'));
CREATE DOMAIN fl.sha256 AS bytea CHECK (length(VALUE) = 32);
CREATE DOMAIN fl.entry_kind AS text CHECK (VALUE ~ '^[a-z_]+$' AND length(VALUE) <= 32);
CREATE DOMAIN fl.memo AS text CHECK (length(VALUE) <= 500);
CREATE DOMAIN fl.posting_amount AS bigint CHECK (VALUE <> 0);
CREATE DOMAIN fl.positive_amount AS bigint CHECK (VALUE > 0);
CREATE DOMAIN fl.positive_rate AS numeric CHECK (VALUE > 0);
CREATE DOMAIN fl.contribution_status AS text
	CHECK (VALUE IN ('pledged', 'received', 'cancelled'));
CREATE DOMAIN fl.bank_ref AS text CHECK (length(VALUE) BETWEEN 1 AND 200);
CREATE DOMAIN fl.idempotency_key AS text CHECK (length(VALUE) BETWEEN 1 AND 128);

-- The export views read these columns: dropped here, created again by
-- functions/30_ledger.sql and functions/70_audit.sql.
DROP VIEW IF EXISTS fl.ledger_export;
DROP VIEW IF EXISTS fl.audit_export;

ALTER TABLE fl.audit_event
	DROP CONSTRAINT audit_event_principal_id_check,
	DROP CONSTRAINT audit_event_method_check,
	DROP CONSTRAINT audit_event_object_id_check,
	DROP CONSTRAINT audit_event_outcome_check,
	DROP CONSTRAINT audit_event_reason_check,
	DROP CONSTRAINT audit_event_params_sha256_check,
	ALTER COLUMN principal_id TYPE fl.ident,
	ALTER COLUMN method TYPE fl.method_name,
	ALTER COLUMN object_id TYPE fl.ident,
	ALTER COLUMN outcome TYPE fl.audit_outcome,
	ALTER COLUMN reason TYPE fl.reason_code,
	ALTER COLUMN params_sha256 TYPE fl.sha256;

ALTER TABLE fl.journal_entry
	DROP CONSTRAINT journal_entry_kind_check,
	DROP CONSTRAINT journal_entry_memo_check,
	ALTER COLUMN kind TYPE fl.entry_kind,
	ALTER COLUMN memo TYPE fl.memo;

ALTER TABLE fl.posting
	DROP CONSTRAINT posting_amount_check,
	ALTER COLUMN amount TYPE fl.posting_amount;

ALTER TABLE fl.contribution
	DROP CONSTRAINT contribution_status_check,
	DROP CONSTRAINT contribution_amount_check,
	DROP CONSTRAINT contribution_fx_rate_check,
	DROP CONSTRAINT contribution_fund_amount_check,
	DROP CONSTRAINT contribution_bank_ref_check,
	ALTER COLUMN status TYPE fl.contribution_status,
	ALTER COLUMN amount TYPE fl.positive_amount,
	ALTER COLUMN fx_rate TYPE fl.positive_rate,
	ALTER COLUMN fund_amount TYPE fl.positive_amount,
	ALTER COLUMN bank_ref TYPE fl.bank_ref;

ALTER TABLE fl.idempotency
	DROP CONSTRAINT idempotency_key_check,
	ALTER COLUMN key TYPE fl.idempotency_key;
