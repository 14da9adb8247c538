-- 0008_hot_path: less database CPU per mutation (docs/benchmarks.md, "Stop 10").
--
-- At 32 connections PostgreSQL takes nearly all of both cores, so the receipts' latency
-- follows the CPU each call costs. Profiles (perf, and each step timed in a loop) showed
-- four costs that say nothing about the books:
--
-- 1. Sequential scans of the small lookup tables. With the default random_page_cost (4) the
--    planner scans fl.currency (165 rows), fl.fund, fl.partner and fl.account whole rather
--    than use their primary keys, since each fits in a few pages. That is cheap once, but a
--    receipt looked up currencies, its fund and its accounts about ten times. With 1.1 (the
--    usual figure when the data is in memory or on SSD) each is an index lookup.
-- 2. Regular expressions with bounded repetition. PostgreSQL's regex engine expands
--    '{1,128}' into 128 states: '^[A-Za-z0-9_.:-]{1,128}$' took 17 us for a 23-character
--    id, '^[A-Za-z0-9_.:-]+$' with length() <= 128 takes under 1 us, and says the same.
--    The audit event's CHECKs ran three of those per call.
-- 3. Statements. Every statement a function runs pays the executor's set-up. A journal
--    entry and its postings are now one statement, with one check of the postings per
--    statement instead of one trigger call (and one query) per posting.
-- 4. Lookups made twice: the currency's minor units three times per receipt, the partner
--    and the currency in two queries.
-- 5. CHECK constraints, a fifth of the CPU of a receipt. For every INSERT statement
--    PostgreSQL reads each CHECK of the table from its stored text (stringToNode) and
--    plans it again; a receipt writes five tables with 19 CHECKs. A domain's checks are
--    read and planned once per session (the type cache), then only evaluated. So the
--    one-column CHECKs of the tables every mutation writes become domains with the same
--    conditions; the CHECKs across columns stay CHECKs.
--
-- Nothing here changes what any method answers or what the database refuses.

-- 1 ----------------------------------------------------------------------------------------

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

-- 2 ----------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION fl.audit_record(p_principal text, p_method text, p_object text,
    p_code int, p_reason text, p_params_sha256 bytea) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_current_xact_id();
	INSERT INTO fl.audit_event (principal_id, method, object_id, outcome, error_code,
	    reason, params_sha256)
	VALUES (p_principal, p_method,
	    CASE WHEN p_object ~ '^[A-Za-z0-9_.:-]+$' AND length(p_object) <= 128
	        THEN p_object END,
	    CASE WHEN p_code IS NULL THEN 'ok' ELSE 'refused' END, p_code,
	    CASE WHEN p_reason ~ '^[a-z0-9_]+$' AND length(p_reason) <= 64 THEN p_reason END,
	    p_params_sha256);
END
$$;

CREATE OR REPLACE FUNCTION fl.money_in(p_text text, p_minor int, p_field text,
    p_allow_zero boolean DEFAULT false) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_int	text;
	v_frac	text;
	v	bigint;
BEGIN
	IF p_text IS NULL OR p_text !~ '^[0-9]+(\.[0-9]+)?$' THEN
		PERFORM fl.rpc_error(-32602, 'bad_format', p_field);
	END IF;
	v_int := split_part(p_text, '.', 1);
	v_frac := split_part(p_text, '.', 2);
	IF length(v_int) > 18 THEN
		PERFORM fl.rpc_error(-32602, 'bad_format', p_field);
	END IF;
	IF length(v_frac) > p_minor THEN
		PERFORM fl.rpc_error(-32602, 'too_many_decimals', p_field);
	END IF;
	v := v_int::numeric * fl.pow10(p_minor);
	IF p_minor > 0 THEN
		v := v + rpad(v_frac, p_minor, '0')::numeric;
	END IF;
	IF v > 100000000000000000 THEN
		PERFORM fl.rpc_error(-32602, 'too_large', p_field);
	END IF;
	IF v = 0 AND NOT p_allow_zero THEN
		PERFORM fl.rpc_error(-32602, 'not_positive', p_field);
	END IF;
	RETURN v;
END
$$;

CREATE OR REPLACE FUNCTION fl.cursor_in(p_cursor text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF p_cursor IS NULL THEN
		RETURN 0;
	END IF;
	IF p_cursor !~ '^c[0-9]+$' OR length(p_cursor) > 19 THEN
		PERFORM fl.rpc_error(-32602, 'bad_cursor', 'cursor');
	END IF;
	RETURN substr(p_cursor, 2)::bigint;
END
$$;

-- 3 ----------------------------------------------------------------------------------------

-- A posting joins an entry of its own transaction only, in its account's currency: checked
-- once per statement, over all the postings it inserted.
CREATE FUNCTION fl.posting_guard_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v	record;
BEGIN
	SELECT n.entry_id, n.currency INTO v
	  FROM new_postings n
	 WHERE NOT EXISTS (SELECT 1 FROM fl.journal_entry e, fl.account a
		WHERE e.entry_id = n.entry_id AND e.txid = txid_current()
		  AND a.account_id = n.account_id AND a.currency = n.currency)
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'posting to entry % of another transaction, or in a currency '
		    'not its account''s (%)', v.entry_id, v.currency;
	END IF;
	RETURN NULL;
END
$$;
DROP TRIGGER posting_guard ON fl.posting;
DROP FUNCTION fl.posting_guard();
CREATE TRIGGER posting_guard AFTER INSERT ON fl.posting
	REFERENCING NEW TABLE AS new_postings
	FOR EACH STATEMENT EXECUTE FUNCTION fl.posting_guard_rows();

-- At commit (or at the end of the call, in a batch), for each entry: at least two postings,
-- a zero sum in each currency, and the fund's balance movement appended to fl.fund_delta.
-- One pass over the postings; a second, grouped one only for an entry in several
-- currencies (none of the methods writes one).
CREATE OR REPLACE FUNCTION fl.entry_commit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	-- scalars, not a record: an expression reading a record's fields is planned again
	-- on every call
	v_n	bigint;
	v_lo	text;
	v_hi	text;
	v_total	numeric;
	v_rec	numeric;
	v_earn	numeric;
	v_pled	numeric;
	v_comm	numeric;
	v_disb	numeric;
BEGIN
	SELECT count(*), min(p.currency), max(p.currency), sum(p.amount),
	    coalesce(-sum(p.amount) FILTER (WHERE a.short = 'contributions'), 0),
	    coalesce(-sum(p.amount) FILTER (WHERE a.short = 'earnings'), 0),
	    coalesce(sum(p.amount) FILTER (WHERE a.short = 'pledges_receivable'), 0),
	    coalesce(-sum(p.amount) FILTER (WHERE a.short = 'commitments'), 0),
	    coalesce(sum(p.amount) FILTER (WHERE a.short = 'grants_disbursed'), 0)
	  INTO v_n, v_lo, v_hi, v_total, v_rec, v_earn, v_pled, v_comm, v_disb
	  FROM fl.posting p
	  JOIN fl.account a USING (account_id)
	 WHERE p.entry_id = NEW.entry_id;
	IF v_n < 2 THEN
		RAISE EXCEPTION 'journal entry % has % postings', NEW.entry_id, v_n;
	END IF;
	IF (v_lo = v_hi AND v_total <> 0) OR (v_lo <> v_hi AND EXISTS (
	    SELECT 1 FROM fl.posting WHERE entry_id = NEW.entry_id
	     GROUP BY currency HAVING sum(amount) <> 0)) THEN
		RAISE EXCEPTION 'journal entry % does not balance in every currency', NEW.entry_id;
	END IF;
	IF NEW.fund_code IS NOT NULL AND (v_rec <> 0 OR v_earn <> 0 OR v_pled <> 0 OR
	    v_comm <> 0 OR v_disb <> 0) THEN
		INSERT INTO fl.fund_delta (fund_code, received, earnings, pledged, committed,
		    disbursed)
		VALUES (NEW.fund_code, v_rec, v_earn, v_pled, v_comm, v_disb);
	END IF;
	RETURN NULL;
END
$$;

-- One journal entry for a fund, with its postings, in one statement.
CREATE OR REPLACE FUNCTION fl.post(p_fund fl.fund, p_kind text, p_memo text, p_ref text,
    p_principal text, p_accounts text[], p_amounts bigint[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_entry	bigint;
	v_n	bigint;
BEGIN
	WITH e AS (
		INSERT INTO fl.journal_entry (kind, memo, fund_code, ref_id, principal_id)
		VALUES (p_kind, p_memo, p_fund.code, p_ref, p_principal)
		RETURNING entry_id),
	p AS (
		INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency)
		SELECT e.entry_id, x.i, a.account_id, x.amount, a.currency
		  FROM e, unnest(p_accounts, p_amounts) WITH ORDINALITY AS x(short, amount, i)
		  JOIN fl.account a ON a.fund_code = p_fund.code AND a.short = x.short
		RETURNING 1)
	SELECT e.entry_id, (SELECT count(*) FROM p) INTO v_entry, v_n FROM e;
	IF v_n <> cardinality(p_accounts) THEN
		RAISE EXCEPTION 'fund % lacks an account of %', p_fund.code, p_accounts;
	END IF;
	RETURN v_entry;
END
$$;

-- 4 ----------------------------------------------------------------------------------------

-- A new contribution row (not yet inserted) from params, in state p_status: the partner and
-- the currency in one lookup.
CREATE OR REPLACE FUNCTION fl.contribution_new(p fl.principal, params jsonb, f fl.fund,
    p_status text) RETURNS fl.contribution
LANGUAGE plpgsql AS $$
DECLARE
	c	fl.contribution;
	v_cmin	int;
	v_known	boolean;
	v_rate	numeric;
	v_amt	bigint;
BEGIN
	SELECT EXISTS (SELECT 1 FROM fl.partner WHERE partner_id = params->>'partner_id'),
	    (SELECT minor_unit FROM fl.currency WHERE code = params->>'currency')
	  INTO v_known, v_cmin;
	IF NOT v_known THEN
		PERFORM fl.rpc_error(-32004, 'partner_not_found', 'partner_id');
	END IF;
	IF v_cmin IS NULL THEN
		PERFORM fl.rpc_error(-32602, 'unknown_currency', 'currency');
	END IF;
	c.partner_id := params->>'partner_id';
	c.fund_code := f.code;
	c.status := p_status;
	c.currency := params->>'currency';
	c.amount := fl.money_in(params->>'amount', v_cmin, 'amount');
	IF c.currency = f.currency THEN
		IF params ? 'fx_rate' THEN
			PERFORM fl.rpc_error(-32602, 'not_for_the_fund_currency', 'fx_rate');
		END IF;
		c.fund_amount := c.amount;
	ELSE
		IF NOT params ? 'fx_rate' THEN
			PERFORM fl.rpc_error(-32602, 'required_for_another_currency', 'fx_rate');
		END IF;
		v_rate := (params->>'fx_rate')::numeric;
		-- checked before it goes into the row, whose type refuses zero
		v_amt := fl.fx_convert(c.amount, v_cmin, v_rate, fl.minor(f.currency));
		IF v_amt <= 0 THEN
			PERFORM fl.rpc_error(-32602, 'rounds_to_zero', 'amount');
		END IF;
		c.fx_rate := v_rate;
		c.fund_amount := v_amt;
	END IF;
	IF params ? 'earmark_region' THEN
		c.earmark_region := (fl.region_resolve(params->>'earmark_region',
		    'earmark_region')).region_code;
	END IF;
	c.created_by := p.principal_id;
	RETURN c;
END
$$;

-- f: the contribution's fund when the caller has it (saves reading it again). The minor
-- units are looked up once when the contribution is in the fund's currency.
CREATE OR REPLACE FUNCTION fl.contribution_json(c fl.contribution, f fl.fund DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_fund	fl.fund := f;
	v_reg	fl.region;
	v_cmin	int := fl.minor(c.currency);
BEGIN
	IF v_fund.code IS NULL THEN
		SELECT * INTO v_fund FROM fl.fund WHERE code = c.fund_code;
	END IF;
	IF c.earmark_region IS NOT NULL THEN
		SELECT * INTO v_reg FROM fl.region WHERE region_code = c.earmark_region;
	END IF;
	RETURN jsonb_build_object('contribution_id', c.contribution_id,
	    'partner_id', c.partner_id, 'fund', c.fund_code, 'status', c.status,
	    'amount', fl.money_out(c.amount, v_cmin), 'currency', c.currency,
	    'fx_rate', c.fx_rate::text,
	    'fund_amount', fl.money_out(c.fund_amount, CASE WHEN v_fund.currency = c.currency
	        THEN v_cmin ELSE fl.minor(v_fund.currency) END),
	    'fund_currency', v_fund.currency,
	    'earmark_region', v_reg.region, 'earmark_region_code', v_reg.region_code,
	    'pledged_at', fl.ts(c.pledged_at), 'received_at', fl.ts(c.received_at),
	    'bank_ref', c.bank_ref, 'cancelled_at', fl.ts(c.cancelled_at),
	    'cancel_reason', c.cancel_reason, 'created_at', fl.ts(c.created_at));
END
$$;

-- 5 ----------------------------------------------------------------------------------------

-- The conditions of the CHECKs they replace, but for the regular expressions (item 2).
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

-- The export views read these columns: dropped here, and created again as they were.
DROP VIEW fl.ledger_export;
DROP VIEW fl.audit_export;

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

-- as in 0002_ledger.sql
CREATE VIEW fl.ledger_export AS
SELECT e.entry_id, p.seq, e.at AS at_ts,
       'je_' || e.entry_id AS entry,
       to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
       e.kind, e.fund_code AS fund, a.name AS account, p.currency,
       round(p.amount::numeric / (10::numeric ^ c.minor_unit), c.minor_unit)::text AS amount,
       e.memo
  FROM fl.journal_entry e
  JOIN fl.posting p USING (entry_id)
  JOIN fl.account a USING (account_id)
  JOIN fl.currency c ON c.code = p.currency;
GRANT SELECT ON fl.ledger_export TO fundd_app;

-- as in 0006_audit.sql
CREATE VIEW fl.audit_export AS
SELECT e.seq, x.kind, x.line
  FROM fl.audit_event e
  LEFT JOIN fl.audit_chain c ON c.seq = e.seq
 CROSS JOIN LATERAL (
	SELECT 0, json_build_object('type', 'event', 'seq', e.seq, 'at', fl.ts(e.at),
	    'principal_id', e.principal_id, 'method', e.method, 'object_id', e.object_id,
	    'outcome', e.outcome, 'error_code', e.error_code, 'reason', e.reason,
	    'params_sha256', encode(e.params_sha256, 'hex'),
	    'prev_hash', encode(c.prev_hash, 'hex'), 'hash', encode(c.hash, 'hex'))::text
	UNION ALL
	SELECT 1, json_build_object('type', 'checkpoint', 'seq', k.seq,
	    'head_hash', encode(k.head_hash, 'hex'), 'signed_at', fl.ts(k.signed_at),
	    'signature', encode(k.signature, 'hex'), 'public_key', k.public_key)::text
	  FROM fl.audit_checkpoint k WHERE k.seq = e.seq) AS x(kind, line);
GRANT SELECT ON fl.audit_export TO fundd_app;
