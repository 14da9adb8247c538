-- 0002_ledger: currencies, funds, the double-entry journal, partners and contributions.
-- The design, the chart of accounts and a worked example are in docs/ledger.md.

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

-- 10^n for the minor units we have, as bigint (no floating point anywhere).
CREATE FUNCTION fl.pow10(p_n int) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN (ARRAY[1, 10, 100, 1000, 10000]::bigint[])[p_n + 1];
END
$$;

-- A decimal money string into minor units, or a -32602 naming p_field.
CREATE FUNCTION fl.money_in(p_text text, p_minor int, p_field text,
    p_allow_zero boolean DEFAULT false) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_int	text;
	v_frac	text;
	v	bigint;
BEGIN
	IF p_text IS NULL OR p_text !~ '^[0-9]{1,18}(\.[0-9]+)?$' THEN
		PERFORM fl.rpc_error(-32602, 'bad_format', p_field);
	END IF;
	v_int := split_part(p_text, '.', 1);
	v_frac := split_part(p_text, '.', 2);
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

-- Minor units as a decimal string with exactly p_minor decimals.
CREATE FUNCTION fl.money_out(p_amount bigint, p_minor int) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_abs	numeric := abs(p_amount::numeric);
	v_p	bigint := fl.pow10(p_minor);
BEGIN
	IF p_minor = 0 THEN
		RETURN p_amount::text;
	END IF;
	RETURN CASE WHEN p_amount < 0 THEN '-' ELSE '' END || div(v_abs, v_p)::text || '.' ||
	    lpad(mod(v_abs, v_p)::text, p_minor, '0');
END
$$;

-- amount (minor units at p_src_minor) * rate, in minor units at p_dst_minor, rounded half
-- to even. numeric is exact decimal arithmetic.
CREATE FUNCTION fl.fx_convert(p_amount bigint, p_src_minor int, p_rate numeric,
    p_dst_minor int) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v	numeric := p_amount::numeric * p_rate * fl.pow10(p_dst_minor) /
		    fl.pow10(p_src_minor);
	f	numeric := floor(v);
	d	numeric := v - f;
BEGIN
	IF d > 0.5 OR (d = 0.5 AND mod(f, 2) = 1) THEN
		f := f + 1;
	END IF;
	IF f > 100000000000000000 THEN
		PERFORM fl.rpc_error(-32602, 'too_large', 'amount',
		    'the amount in the fund''s currency is too large');
	END IF;
	RETURN f::bigint;
END
$$;

-- Funds and accounts ---------------------------------------------------------------------

-- The balance figures are maintained in the same transaction as every journal entry
-- (fl.post) and checked against the journal by the tests; the CHECKs make it impossible
-- for any interleaving of writers to drive available or committed below zero.
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

-- Balance movements not yet folded into their fund's row. Every journal entry appends one
-- at commit (fl.entry_commit): appending never waits on another writer, where updating the
-- fund row would serialise every money movement of a fund on that row's lock. The
-- current figures are the row plus its deltas (fl.fund_current); fl.fund_fold moves deltas
-- into the row, where the CHECK constraints hold them to account.
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

-- Signed amounts: debit positive, credit negative. No foreign keys: fl.posting_guard checks,
-- for every posting, that its entry exists (and is of the same transaction) and that its
-- account exists with the posting's currency (the account's currency is a foreign key);
-- entries and accounts are never updated or deleted (triggers). That is everything the
-- foreign keys would check, with one lookup per posting instead of three.
CREATE TABLE fl.posting (
	entry_id	bigint NOT NULL,
	seq		smallint NOT NULL,
	account_id	bigint NOT NULL,
	amount		bigint NOT NULL CHECK (amount <> 0),
	currency	text NOT NULL,
	PRIMARY KEY (entry_id, seq)
);
CREATE INDEX posting_account ON fl.posting (account_id, entry_id);

-- History is append-only, for every role.
CREATE FUNCTION fl.append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$;
CREATE TRIGGER journal_entry_append_only BEFORE UPDATE OR DELETE ON fl.journal_entry
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE TRIGGER journal_entry_no_truncate BEFORE TRUNCATE ON fl.journal_entry
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();
CREATE TRIGGER posting_append_only BEFORE UPDATE OR DELETE ON fl.posting
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE TRIGGER posting_no_truncate BEFORE TRUNCATE ON fl.posting
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();
CREATE TRIGGER account_append_only BEFORE UPDATE OR DELETE ON fl.account
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE TRIGGER account_no_truncate BEFORE TRUNCATE ON fl.account
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

-- A posting joins an entry of its own transaction only, in its account's currency.
CREATE FUNCTION fl.posting_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM fl.journal_entry e, fl.account a
	    WHERE e.entry_id = NEW.entry_id AND e.txid = txid_current()
	      AND a.account_id = NEW.account_id AND a.currency = NEW.currency) THEN
		RAISE EXCEPTION 'posting to entry % of another transaction, or in a currency '
		    'not its account''s (%)', NEW.entry_id, NEW.currency;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER posting_guard BEFORE INSERT ON fl.posting
	FOR EACH ROW EXECUTE FUNCTION fl.posting_guard();

-- At commit, for each entry: it has at least two postings, sums to zero in each currency,
-- and its fund's balance movement is appended to fl.fund_delta.
CREATE FUNCTION fl.entry_commit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	r	record;
BEGIN
	SELECT count(*) AS n,
	    count(DISTINCT p.currency) AS ncur,
	    coalesce(bool_and(s.total = 0), false) AS balanced,
	    coalesce(-sum(p.amount) FILTER (WHERE a.short = 'contributions'), 0) AS d_rec,
	    coalesce(-sum(p.amount) FILTER (WHERE a.short = 'earnings'), 0) AS d_earn,
	    coalesce(sum(p.amount) FILTER (WHERE a.short = 'pledges_receivable'), 0) AS d_pled,
	    coalesce(-sum(p.amount) FILTER (WHERE a.short = 'commitments'), 0) AS d_comm,
	    coalesce(sum(p.amount) FILTER (WHERE a.short = 'grants_disbursed'), 0) AS d_disb
	  INTO r
	  FROM fl.posting p
	  JOIN fl.account a USING (account_id)
	  JOIN (SELECT currency, sum(amount) AS total FROM fl.posting
	         WHERE entry_id = NEW.entry_id GROUP BY currency) s ON s.currency = p.currency
	 WHERE p.entry_id = NEW.entry_id;
	IF r.n < 2 THEN
		RAISE EXCEPTION 'journal entry % has % postings', NEW.entry_id, r.n;
	END IF;
	IF NOT r.balanced THEN
		RAISE EXCEPTION 'journal entry % does not balance in every currency', NEW.entry_id;
	END IF;
	IF NEW.fund_code IS NOT NULL AND (r.d_rec, r.d_earn, r.d_pled, r.d_comm, r.d_disb)
	    IS DISTINCT FROM (0::numeric, 0::numeric, 0::numeric, 0::numeric, 0::numeric) THEN
		INSERT INTO fl.fund_delta (fund_code, received, earnings, pledged, committed,
		    disbursed)
		VALUES (NEW.fund_code, r.d_rec, r.d_earn, r.d_pled, r.d_comm, r.d_disb);
	END IF;
	RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER journal_entry_commit AFTER INSERT ON fl.journal_entry
	DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION fl.entry_commit();

-- One journal entry for a fund: postings as (account short name, signed amount) pairs, in
-- the fund's currency. The fund's figures move at commit (fl.entry_commit). Returns the
-- entry's id.
CREATE FUNCTION fl.post(p_fund fl.fund, p_kind text, p_memo text, p_ref text,
    p_principal text, p_accounts text[], p_amounts bigint[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_entry	bigint;
	v_n	bigint;
BEGIN
	INSERT INTO fl.journal_entry (kind, memo, fund_code, ref_id, principal_id)
	VALUES (p_kind, p_memo, p_fund.code, p_ref, p_principal)
	RETURNING entry_id INTO v_entry;
	INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency)
	SELECT v_entry, x.i, a.account_id, x.amount, a.currency
	  FROM unnest(p_accounts, p_amounts) WITH ORDINALITY AS x(short, amount, i)
	  JOIN fl.account a ON a.fund_code = p_fund.code AND a.short = x.short;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	IF v_n <> cardinality(p_accounts) THEN
		RAISE EXCEPTION 'fund % lacks an account of %', p_fund.code, p_accounts;
	END IF;
	RETURN v_entry;
END
$$;

CREATE FUNCTION fl.entry_ref(p_entry bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN 'je_' || p_entry;
END
$$;

CREATE FUNCTION fl.fund_get(p_code text, p_field text, p_lock boolean DEFAULT false)
RETURNS fl.fund
LANGUAGE plpgsql AS $$
DECLARE
	v	fl.fund;
BEGIN
	IF p_lock THEN
		SELECT * INTO v FROM fl.fund WHERE code = p_code FOR UPDATE;
	ELSE
		SELECT * INTO v FROM fl.fund WHERE code = p_code;
	END IF;
	IF v.code IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'fund_not_found', p_field);
	END IF;
	RETURN v;
END
$$;

-- The fund's current figures: its row plus the deltas not yet folded in.
CREATE FUNCTION fl.fund_current(f fl.fund) RETURNS fl.fund
LANGUAGE plpgsql STABLE AS $$
DECLARE
	d	record;
BEGIN
	SELECT coalesce(sum(received), 0) AS rec, coalesce(sum(earnings), 0) AS earn,
	    coalesce(sum(pledged), 0) AS pled, coalesce(sum(committed), 0) AS comm,
	    coalesce(sum(disbursed), 0) AS disb
	  INTO d FROM fl.fund_delta WHERE fund_code = f.code;
	f.received := f.received + d.rec;
	f.earnings := f.earnings + d.earn;
	f.pledged := f.pledged + d.pled;
	f.committed := f.committed + d.comm;
	f.disbursed := f.disbursed + d.disb;
	RETURN f;
END
$$;

-- Fold a fund's deltas into its row (under the row's lock and CHECK constraints); returns
-- the folded row, still locked. Whoever takes money out of a fund calls this first and
-- decides on what it returns. SECURITY DEFINER: the daemon's role may not delete deltas or
-- set the figures itself.
CREATE FUNCTION fl.fund_fold(p_code text) RETURNS fl.fund
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	f	fl.fund;
	d	record;
BEGIN
	SELECT * INTO f FROM fl.fund WHERE code = p_code FOR UPDATE;
	WITH gone AS (DELETE FROM fl.fund_delta WHERE fund_code = p_code RETURNING *)
	SELECT coalesce(sum(received), 0) AS rec, coalesce(sum(earnings), 0) AS earn,
	    coalesce(sum(pledged), 0) AS pled, coalesce(sum(committed), 0) AS comm,
	    coalesce(sum(disbursed), 0) AS disb
	  INTO d FROM gone;
	IF d IS DISTINCT FROM ROW(0::numeric, 0::numeric, 0::numeric, 0::numeric,
	    0::numeric) THEN
		UPDATE fl.fund SET received = received + d.rec, earnings = earnings + d.earn,
		    pledged = pledged + d.pled, committed = committed + d.comm,
		    disbursed = disbursed + d.disb
		 WHERE code = p_code
		RETURNING * INTO f;
	END IF;
	RETURN f;
END
$$;

-- Housekeeping (the daemon, every few seconds): fold every fund that has deltas, each in
-- a short lock of its own row. A fund whose fold breaks a CHECK (its books would say
-- something impossible) keeps its deltas and raises a warning, which the daemon logs;
-- the other funds are folded all the same. Returns how many funds were folded.
CREATE FUNCTION fl.fold_all() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_code	text;
	v_n	bigint := 0;
BEGIN
	-- in code order: two daemons folding at once lock the funds in the same order
	FOR v_code IN SELECT DISTINCT fund_code FROM fl.fund_delta ORDER BY fund_code LOOP
		BEGIN
			PERFORM fl.fund_fold(v_code);
			v_n := v_n + 1;
		EXCEPTION WHEN check_violation THEN
			RAISE WARNING 'fund %: folding its balance deltas breaks %', v_code,
			    SQLERRM;
		END;
	END LOOP;
	RETURN v_n;
END
$$;

CREATE FUNCTION fl.minor(p_currency text) RETURNS int
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT minor_unit FROM fl.currency WHERE code = p_currency);
END
$$;

CREATE FUNCTION fl.fund_json(f fl.fund) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('code', f.code, 'name', f.name, 'currency', f.currency,
	    'kind', f.kind, 'dual_approval_above',
	    fl.money_out(f.dual_approval_above, fl.minor(f.currency)),
	    'created_at', fl.ts(f.created_at));
END
$$;

-- Regions: a name (any case) or an ISO 3166-2 code, or -32602 naming p_field.
CREATE FUNCTION fl.region_resolve(p_text text, p_field text) RETURNS fl.region
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v	fl.region;
BEGIN
	SELECT * INTO v FROM fl.region
	 WHERE region_code = upper(p_text) OR lower(region) = lower(p_text);
	IF v.region_code IS NULL THEN
		PERFORM fl.rpc_error(-32602, 'unknown_region', p_field);
	END IF;
	RETURN v;
END
$$;

-- Partners --------------------------------------------------------------------------------

CREATE TABLE fl.partner (
	seq		bigserial UNIQUE,
	partner_id	text PRIMARY KEY DEFAULT fl.new_id('pa'),
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

CREATE FUNCTION fl.partner_json(p fl.partner) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('partner_id', p.partner_id, 'name', p.name,
	    'country', p.country, 'kind', p.kind, 'email', p.email,
	    'created_at', fl.ts(p.created_at));
END
$$;

-- Contributions ---------------------------------------------------------------------------

CREATE TABLE fl.contribution (
	seq		bigserial UNIQUE,
	contribution_id	text PRIMARY KEY DEFAULT fl.new_id('co'),
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

-- Only pledged -> received | cancelled, and only the fields of that step change.
CREATE FUNCTION fl.contribution_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'contributions are never deleted';
	END IF;
	IF OLD.status <> 'pledged' OR NEW.status NOT IN ('received', 'cancelled') THEN
		RAISE EXCEPTION 'contribution % cannot go from % to %', OLD.contribution_id,
		    OLD.status, NEW.status;
	END IF;
	IF (NEW.seq, NEW.contribution_id, NEW.partner_id, NEW.fund_code, NEW.amount,
	    NEW.currency, NEW.fx_rate, NEW.fund_amount, NEW.earmark_region, NEW.pledged_at,
	    NEW.created_at, NEW.created_by) IS DISTINCT FROM
	   (OLD.seq, OLD.contribution_id, OLD.partner_id, OLD.fund_code, OLD.amount,
	    OLD.currency, OLD.fx_rate, OLD.fund_amount, OLD.earmark_region, OLD.pledged_at,
	    OLD.created_at, OLD.created_by) THEN
		RAISE EXCEPTION 'contribution % : only its state may change', OLD.contribution_id;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER contribution_guard BEFORE UPDATE OR DELETE ON fl.contribution
	FOR EACH ROW EXECUTE FUNCTION fl.contribution_guard();

-- f: the contribution's fund when the caller has it (saves reading it again)
CREATE FUNCTION fl.contribution_json(c fl.contribution, f fl.fund DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_fund	fl.fund := f;
	v_reg	fl.region;
BEGIN
	IF v_fund.code IS NULL THEN
		SELECT * INTO v_fund FROM fl.fund WHERE code = c.fund_code;
	END IF;
	IF c.earmark_region IS NOT NULL THEN
		SELECT * INTO v_reg FROM fl.region WHERE region_code = c.earmark_region;
	END IF;
	RETURN jsonb_build_object('contribution_id', c.contribution_id,
	    'partner_id', c.partner_id, 'fund', c.fund_code, 'status', c.status,
	    'amount', fl.money_out(c.amount, fl.minor(c.currency)), 'currency', c.currency,
	    'fx_rate', c.fx_rate::text,
	    'fund_amount', fl.money_out(c.fund_amount, fl.minor(v_fund.currency)),
	    'fund_currency', v_fund.currency,
	    'earmark_region', v_reg.region, 'earmark_region_code', v_reg.region_code,
	    'pledged_at', fl.ts(c.pledged_at), 'received_at', fl.ts(c.received_at),
	    'bank_ref', c.bank_ref, 'cancelled_at', fl.ts(c.cancelled_at),
	    'cancel_reason', c.cancel_reason, 'created_at', fl.ts(c.created_at));
END
$$;

-- Paging: a cursor is "c" and the last row's seq; -32602 bad_cursor otherwise.
CREATE FUNCTION fl.cursor_in(p_cursor text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF p_cursor IS NULL THEN
		RETURN 0;
	END IF;
	IF p_cursor !~ '^c[0-9]{1,18}$' THEN
		PERFORM fl.rpc_error(-32602, 'bad_cursor', 'cursor');
	END IF;
	RETURN substr(p_cursor, 2)::bigint;
END
$$;

CREATE FUNCTION fl.limit_in(p_params jsonb) RETURNS int
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN coalesce((p_params->>'limit')::int, 100);
END
$$;

-- One page of a list. p_rows holds up to p_lim + 1 rows {"s": position, "j": object}, in
-- order (the one row more says whether a next page exists). Returns {p_key: the first
-- p_lim objects, "next_cursor": the cursor after the last of them, or null at the end}.
CREATE FUNCTION fl.page(p_key text, p_rows jsonb, p_lim int) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_n	int := coalesce(jsonb_array_length(p_rows), 0);
BEGIN
	RETURN jsonb_build_object(p_key, coalesce((SELECT jsonb_agg(e.x->'j' ORDER BY e.i)
	    FROM jsonb_array_elements(p_rows) WITH ORDINALITY AS e(x, i) WHERE e.i <= p_lim),
	    '[]'),
	    'next_cursor', CASE WHEN v_n > p_lim THEN 'c' || (p_rows->(p_lim - 1)->>'s') END);
END
$$;

-- RFC 3339 time or YYYY-MM-DD (midnight UTC), already validated in C.
CREATE FUNCTION fl.time_in(p_text text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	IF p_text IS NULL THEN
		RETURN NULL;
	END IF;
	IF length(p_text) = 10 THEN
		RETURN (p_text || 'T00:00:00Z')::timestamptz;
	END IF;
	RETURN p_text::timestamptz;
END
$$;

GRANT SELECT, INSERT ON fl.fund, fl.account, fl.journal_entry, fl.posting, fl.partner,
    fl.contribution TO fundd_app;
GRANT SELECT, INSERT ON fl.fund_delta TO fundd_app;
GRANT USAGE ON SEQUENCE fl.fund_delta_delta_id_seq TO fundd_app;
GRANT UPDATE (status, received_at, bank_ref, cancelled_at, cancel_reason)
    ON fl.contribution TO fundd_app;
GRANT USAGE ON SEQUENCE fl.account_account_id_seq, fl.journal_entry_entry_id_seq,
    fl.partner_seq_seq, fl.contribution_seq_seq TO fundd_app;

-- principal.create: a partner principal names an existing partner.
CREATE OR REPLACE FUNCTION api.principal_create(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	v	fl.principal;
	v_roles	text[];
BEGIN
	SELECT array_agg(DISTINCT r ORDER BY r) INTO v_roles
	  FROM jsonb_array_elements_text(params->'roles') r;
	IF ('partner' = ANY (v_roles)) AND params->>'partner_id' IS NULL THEN
		PERFORM fl.rpc_error(-32602, 'partner_id_required', 'partner_id');
	END IF;
	IF NOT ('partner' = ANY (v_roles)) AND params->>'partner_id' IS NOT NULL THEN
		PERFORM fl.rpc_error(-32602, 'partner_id_needs_partner_role', 'partner_id');
	END IF;
	IF params->>'partner_id' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM fl.partner
	    WHERE partner_id = params->>'partner_id') THEN
		PERFORM fl.rpc_error(-32004, 'partner_not_found', 'partner_id');
	END IF;
	INSERT INTO fl.principal (name, roles, partner_id, token_hash, created_by)
	VALUES (params->>'name', v_roles, params->>'partner_id',
	    decode(ctx->>'token_sha256', 'hex'), p.principal_id)
	RETURNING * INTO v;
	RETURN fl.principal_json(v) || jsonb_build_object('created_at', fl.ts(v.created_at));
END
$$;

-- fund.* -----------------------------------------------------------------------------------

CREATE FUNCTION api.fund_create(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v	fl.fund;
	v_minor	int := fl.minor(params->>'currency');
	a	record;
BEGIN
	IF v_minor IS NULL THEN
		PERFORM fl.rpc_error(-32602, 'unknown_currency', 'currency');
	END IF;
	INSERT INTO fl.fund (code, name, currency, kind, dual_approval_above, created_by)
	VALUES (params->>'code', params->>'name', params->>'currency', params->>'kind',
	    fl.money_in(params->>'dual_approval_above', v_minor, 'dual_approval_above', true),
	    p.principal_id)
	ON CONFLICT (code) DO NOTHING
	RETURNING * INTO v;
	IF v.code IS NULL THEN
		PERFORM fl.rpc_error(-32009, 'duplicate_fund', 'code');
	END IF;
	FOR a IN SELECT * FROM (VALUES ('cash', 'asset'), ('pledges_receivable', 'asset'),
	    ('pledged_contributions', 'equity'), ('contributions', 'equity'),
	    ('earnings', 'income'), ('commitments', 'liability'),
	    ('grants_committed', 'expense'), ('grants_disbursed', 'expense')) t(short, type)
	LOOP
		INSERT INTO fl.account (fund_code, short, name, type, currency)
		VALUES (v.code, a.short, v.code || ':' || a.short, a.type, v.currency);
	END LOOP;
	RETURN fl.fund_json(v);
END
$$;

CREATE FUNCTION api.fund_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('funds', coalesce((SELECT jsonb_agg(fl.fund_json(f)
	    ORDER BY f.code) FROM fl.fund f), '[]'));
END
$$;

CREATE FUNCTION fl.fund_balance_json(f fl.fund) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	m	int := fl.minor(f.currency);
BEGIN
	RETURN jsonb_build_object('code', f.code, 'currency', f.currency,
	    'received', fl.money_out(f.received, m), 'earnings', fl.money_out(f.earnings, m),
	    'pledged', fl.money_out(f.pledged, m), 'committed', fl.money_out(f.committed, m),
	    'disbursed', fl.money_out(f.disbursed, m),
	    'available', fl.money_out(CASE f.kind WHEN 'pass_through'
	        THEN f.received + f.earnings ELSE f.earnings END - f.committed - f.disbursed, m));
END
$$;

CREATE FUNCTION api.fund_balance(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN fl.fund_balance_json(fl.fund_current(fl.fund_get(params->>'code', 'code')));
END
$$;

-- The same figures summed from the journal, for checks (tests, auditors).
CREATE FUNCTION fl.fund_balance_from_journal(p_code text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	f	fl.fund := fl.fund_get(p_code, 'code');
	r	record;
BEGIN
	f.received := 0; f.earnings := 0; f.pledged := 0; f.committed := 0; f.disbursed := 0;
	FOR r IN SELECT a.short, sum(p.amount) AS s FROM fl.account a
	    JOIN fl.posting p USING (account_id) WHERE a.fund_code = p_code GROUP BY a.short
	LOOP
		CASE r.short
		WHEN 'contributions' THEN f.received := -r.s;
		WHEN 'earnings' THEN f.earnings := -r.s;
		WHEN 'pledges_receivable' THEN f.pledged := r.s;
		WHEN 'commitments' THEN f.committed := -r.s;
		WHEN 'grants_disbursed' THEN f.disbursed := r.s;
		ELSE NULL;
		END CASE;
	END LOOP;
	RETURN fl.fund_balance_json(f);
END
$$;

CREATE FUNCTION api.fund_record_earnings(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	f	fl.fund := fl.fund_get(params->>'code', 'code');
	v_amt	bigint := fl.money_in(params->>'amount', fl.minor(f.currency), 'amount');
	v_entry	bigint;
BEGIN
	v_entry := fl.post(f, 'earnings', 'earnings ' || (params->>'period') ||
	    coalesce(': ' || (params->>'note'), ''), params->>'period', p.principal_id,
	    ARRAY['cash', 'earnings'], ARRAY[v_amt, -v_amt]);
	RETURN jsonb_build_object('entry_id', fl.entry_ref(v_entry));
END
$$;

-- partner.* --------------------------------------------------------------------------------

CREATE FUNCTION api.partner_create(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v	fl.partner;
BEGIN
	INSERT INTO fl.partner (name, country, kind, email, created_by)
	VALUES (params->>'name', params->>'country', params->>'kind', params->>'email',
	    p.principal_id)
	RETURNING * INTO v;
	RETURN fl.partner_json(v);
END
$$;

CREATE FUNCTION api.partner_get(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v	fl.partner;
BEGIN
	SELECT * INTO v FROM fl.partner WHERE partner_id = params->>'partner_id';
	IF v.partner_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'partner_not_found', 'partner_id');
	END IF;
	RETURN fl.partner_json(v);
END
$$;

CREATE FUNCTION api.partner_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
BEGIN
	RETURN fl.page('partners', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
	    'j', fl.partner_json(t)) ORDER BY t.seq)
	  FROM (SELECT * FROM fl.partner WHERE seq > fl.cursor_in(params->>'cursor')
	         ORDER BY seq LIMIT v_lim + 1) t), v_lim);
END
$$;

-- contribution.* ---------------------------------------------------------------------------

CREATE FUNCTION fl.partner_check(p_partner text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM fl.partner WHERE partner_id = p_partner) THEN
		PERFORM fl.rpc_error(-32004, 'partner_not_found', 'partner_id');
	END IF;
END
$$;

-- A new contribution row (not yet inserted) from params, in state p_status.
CREATE FUNCTION fl.contribution_new(p fl.principal, params jsonb, f fl.fund, p_status text)
RETURNS fl.contribution
LANGUAGE plpgsql AS $$
DECLARE
	c	fl.contribution;
	v_cmin	int := fl.minor(params->>'currency');
	v_rate	numeric;
BEGIN
	PERFORM fl.partner_check(params->>'partner_id');
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
		c.fx_rate := v_rate;
		c.fund_amount := fl.fx_convert(c.amount, v_cmin, v_rate, fl.minor(f.currency));
		IF c.fund_amount <= 0 THEN
			PERFORM fl.rpc_error(-32602, 'rounds_to_zero', 'amount');
		END IF;
	END IF;
	IF params ? 'earmark_region' THEN
		c.earmark_region := (fl.region_resolve(params->>'earmark_region',
		    'earmark_region')).region_code;
	END IF;
	c.created_by := p.principal_id;
	RETURN c;
END
$$;

CREATE FUNCTION fl.received_at_in(params jsonb) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v	timestamptz := coalesce(fl.time_in(params->>'received_at'), now());
BEGIN
	IF v > now() + interval '5 minutes' THEN
		PERFORM fl.rpc_error(-32602, 'in_the_future', 'received_at');
	END IF;
	RETURN v;
END
$$;

CREATE FUNCTION fl.contribution_insert(c fl.contribution) RETURNS fl.contribution
LANGUAGE plpgsql AS $$
DECLARE
	v	fl.contribution;
BEGIN
	INSERT INTO fl.contribution (partner_id, fund_code, status, amount, currency, fx_rate,
	    fund_amount, earmark_region, pledged_at, received_at, bank_ref, created_by)
	VALUES (c.partner_id, c.fund_code, c.status, c.amount, c.currency, c.fx_rate,
	    c.fund_amount, c.earmark_region, c.pledged_at, c.received_at, c.bank_ref,
	    c.created_by)
	RETURNING * INTO v;
	RETURN v;
END
$$;

CREATE FUNCTION api.contribution_pledge(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	f	fl.fund := fl.fund_get(params->>'fund', 'fund');
	c	fl.contribution := fl.contribution_new(p, params, f, 'pledged');
BEGIN
	c.pledged_at := now();
	c := fl.contribution_insert(c);
	PERFORM fl.post(f, 'pledge', 'pledge ' || c.contribution_id, c.contribution_id,
	    p.principal_id, ARRAY['pledges_receivable', 'pledged_contributions'],
	    ARRAY[c.fund_amount, -c.fund_amount]);
	RETURN fl.contribution_json(c, f);
END
$$;

CREATE FUNCTION fl.contribution_get(p_id text, p_lock boolean) RETURNS fl.contribution
LANGUAGE plpgsql AS $$
DECLARE
	c	fl.contribution;
BEGIN
	IF p_lock THEN
		SELECT * INTO c FROM fl.contribution WHERE contribution_id = p_id FOR UPDATE;
	ELSE
		SELECT * INTO c FROM fl.contribution WHERE contribution_id = p_id;
	END IF;
	IF c.contribution_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'contribution_not_found', 'contribution_id');
	END IF;
	RETURN c;
END
$$;

CREATE FUNCTION fl.wrong_state(p_status text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM fl.rpc_error(-32009, 'wrong_state', NULL,
	    'not allowed in state ' || p_status, jsonb_build_object('status', p_status));
END
$$;

CREATE FUNCTION api.contribution_receive(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	f	fl.fund;
	c	fl.contribution;
	k	text;
BEGIN
	IF params ? 'contribution_id' THEN
		FOR k IN SELECT jsonb_object_keys(params) LOOP
			IF k NOT IN ('contribution_id', 'received_at', 'bank_ref') THEN
				PERFORM fl.rpc_error(-32602, 'not_with_contribution_id', k);
			END IF;
		END LOOP;
		c := fl.contribution_get(params->>'contribution_id', true);
		IF c.status <> 'pledged' THEN
			PERFORM fl.wrong_state(c.status);
		END IF;
		f := fl.fund_get(c.fund_code, 'fund');
		UPDATE fl.contribution SET status = 'received',
		    received_at = fl.received_at_in(params), bank_ref = params->>'bank_ref'
		 WHERE contribution_id = c.contribution_id
		RETURNING * INTO c;
		PERFORM fl.post(f, 'receipt', 'receipt of pledge ' || c.contribution_id,
		    c.contribution_id, p.principal_id,
		    ARRAY['pledged_contributions', 'pledges_receivable', 'cash', 'contributions'],
		    ARRAY[c.fund_amount, -c.fund_amount, c.fund_amount, -c.fund_amount]);
		RETURN fl.contribution_json(c, f);
	END IF;
	FOREACH k IN ARRAY ARRAY['partner_id', 'fund', 'amount', 'currency'] LOOP
		IF NOT params ? k THEN
			PERFORM fl.rpc_error(-32602, 'missing', k);
		END IF;
	END LOOP;
	f := fl.fund_get(params->>'fund', 'fund');
	c := fl.contribution_new(p, params, f, 'received');
	c.received_at := fl.received_at_in(params);
	c.bank_ref := params->>'bank_ref';
	c := fl.contribution_insert(c);
	PERFORM fl.post(f, 'receipt', 'receipt ' || c.contribution_id, c.contribution_id,
	    p.principal_id, ARRAY['cash', 'contributions'],
	    ARRAY[c.fund_amount, -c.fund_amount]);
	RETURN fl.contribution_json(c, f);
END
$$;

CREATE FUNCTION api.contribution_cancel(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c	fl.contribution := fl.contribution_get(params->>'contribution_id', true);
	f	fl.fund;
BEGIN
	IF c.status <> 'pledged' THEN
		PERFORM fl.wrong_state(c.status);
	END IF;
	f := fl.fund_get(c.fund_code, 'fund');
	UPDATE fl.contribution SET status = 'cancelled', cancelled_at = now(),
	    cancel_reason = params->>'reason'
	 WHERE contribution_id = c.contribution_id
	RETURNING * INTO c;
	PERFORM fl.post(f, 'pledge_cancel', 'cancelled pledge ' || c.contribution_id,
	    c.contribution_id, p.principal_id,
	    ARRAY['pledged_contributions', 'pledges_receivable'],
	    ARRAY[c.fund_amount, -c.fund_amount]);
	RETURN fl.contribution_json(c, f);
END
$$;

CREATE FUNCTION api.contribution_get(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN fl.contribution_json(fl.contribution_get(params->>'contribution_id', false));
END
$$;

CREATE FUNCTION api.contribution_list(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
BEGIN
	IF params ? 'partner_id' THEN
		PERFORM fl.partner_check(params->>'partner_id');
	END IF;
	IF params ? 'fund' THEN
		PERFORM fl.fund_get(params->>'fund', 'fund');
	END IF;
	RETURN fl.page('contributions', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
	    'j', fl.contribution_json(t)) ORDER BY t.seq)
	  FROM (SELECT * FROM fl.contribution
	         WHERE seq > fl.cursor_in(params->>'cursor')
	           AND (NOT params ? 'partner_id' OR partner_id = params->>'partner_id')
	           AND (NOT params ? 'fund' OR fund_code = params->>'fund')
	           AND (NOT params ? 'status' OR status = params->>'status')
	         ORDER BY seq LIMIT v_lim + 1) t), v_lim);
END
$$;

-- ledger.* ---------------------------------------------------------------------------------

CREATE FUNCTION fl.entry_json(e fl.journal_entry) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('entry_id', fl.entry_ref(e.entry_id), 'at', fl.ts(e.at),
	    'kind', e.kind, 'memo', e.memo, 'fund', e.fund_code,
	    'postings', (SELECT jsonb_agg(jsonb_build_object('account', a.name,
	        'amount', fl.money_out(p.amount, fl.minor(p.currency)),
	        'currency', p.currency) ORDER BY p.seq)
	      FROM fl.posting p JOIN fl.account a USING (account_id)
	     WHERE p.entry_id = e.entry_id));
END
$$;

CREATE FUNCTION api.ledger_entries(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
	v_from	timestamptz := fl.time_in(params->>'from');
	v_to	timestamptz := fl.time_in(params->>'to');
	v_acct	bigint;
BEGIN
	IF params ? 'account' THEN
		SELECT account_id INTO v_acct FROM fl.account WHERE name = params->>'account';
		IF v_acct IS NULL THEN
			PERFORM fl.rpc_error(-32004, 'account_not_found', 'account');
		END IF;
	END IF;
	RETURN fl.page('entries', (SELECT jsonb_agg(jsonb_build_object('s', t.entry_id,
	    'j', fl.entry_json(t)) ORDER BY t.entry_id)
	  FROM (SELECT * FROM fl.journal_entry e
	         WHERE e.entry_id > fl.cursor_in(params->>'cursor')
	           AND (v_from IS NULL OR e.at >= v_from)
	           AND (v_to IS NULL OR e.at < v_to)
	           AND (v_acct IS NULL OR EXISTS (SELECT 1 FROM fl.posting x
	                WHERE x.entry_id = e.entry_id AND x.account_id = v_acct))
	         ORDER BY e.entry_id LIMIT v_lim + 1) t), v_lim);
END
$$;

CREATE FUNCTION api.ledger_trial_balance(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_asof	timestamptz := fl.time_in(params->>'as_of');
	v_cur	text := params->>'currency';
	v_all	jsonb;
	v_tot	jsonb;
	v_n	int;
BEGIN
	-- each account's debit and credit turnover, in minor units
	SELECT coalesce(jsonb_agg(jsonb_build_object('account', name, 'currency', currency,
	    'd', d, 'c', c) ORDER BY name), '[]')
	  INTO v_all
	  FROM (SELECT a.name, a.currency,
	            coalesce(sum(po.amount) FILTER (WHERE po.amount > 0), 0) AS d,
	            coalesce(-sum(po.amount) FILTER (WHERE po.amount < 0), 0) AS c
	          FROM fl.posting po JOIN fl.account a USING (account_id)
	          JOIN fl.journal_entry e USING (entry_id)
	         WHERE v_asof IS NULL OR e.at <= v_asof
	         GROUP BY a.name, a.currency) t;
	SELECT coalesce(jsonb_agg(jsonb_build_object('currency', cur,
	    'debit', fl.money_out(d, fl.minor(cur)), 'credit', fl.money_out(c, fl.minor(cur)))
	    ORDER BY cur), '[]'), count(*)
	  INTO v_tot, v_n
	  FROM (SELECT x->>'currency' AS cur, sum((x->>'d')::bigint)::bigint AS d,
	            sum((x->>'c')::bigint)::bigint AS c
	          FROM jsonb_array_elements(v_all) x GROUP BY 1) s;
	IF v_cur IS NULL THEN
		IF v_n > 1 THEN
			PERFORM fl.rpc_error(-32602, 'currency_required', 'currency',
			    'the ledger holds several currencies: name one');
		END IF;
		v_cur := v_tot->0->>'currency';
	END IF;
	RETURN jsonb_build_object('currency', v_cur,
	    'accounts', (SELECT coalesce(jsonb_agg(jsonb_build_object('account',
	        x->>'account', 'currency', x->>'currency',
	        'debit', fl.money_out((x->>'d')::bigint, fl.minor(v_cur)),
	        'credit', fl.money_out((x->>'c')::bigint, fl.minor(v_cur)))), '[]')
	      FROM jsonb_array_elements(v_all) x WHERE x->>'currency' = v_cur),
	    'totals', coalesce((SELECT jsonb_build_object('debit', x->>'debit',
	        'credit', x->>'credit') FROM jsonb_array_elements(v_tot) x
	        WHERE x->>'currency' = v_cur), jsonb_build_object('debit',
	        fl.money_out(0, coalesce(fl.minor(v_cur), 2)), 'credit',
	        fl.money_out(0, coalesce(fl.minor(v_cur), 2)))),
	    'totals_by_currency', v_tot);
END
$$;

-- Idempotency keys older than 30 days (the daemon calls this hourly).
CREATE FUNCTION fl.purge_idempotency() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_n	bigint;
BEGIN
	DELETE FROM fl.idempotency WHERE created_at < now() - interval '30 days';
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;

-- The ledger export (GET /export/ledger): one row per posting, formatted inline (no
-- per-row function calls: this streams millions of rows). numeric is exact decimal.
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
