-- Funds, partners and contributions: a fund's balance (its row plus deltas, and the fold),
-- fund.*, partner.*, contribution.* with contribution.status, and fl.receive_bulk(), the
-- set form of direct receipts. The design is in docs/ledger.md.

-- Funds ------------------------------------------------------------------------------------

-- A fund by code (FOR UPDATE with p_lock), or -32004 naming p_field.
CREATE OR REPLACE FUNCTION fl.fund_get(p_code text, p_field text, p_lock boolean DEFAULT false)
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

-- A fund starts with zero figures: they only ever move with the journal (docs/ledger.md,
-- Balances).
CREATE OR REPLACE FUNCTION fl.fund_insert_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF (NEW.received, NEW.earnings, NEW.pledged, NEW.committed, NEW.disbursed,
	    NEW.transferred_in, NEW.transferred_out, NEW.charges, NEW.impaired)
	    <> (0, 0, 0, 0, 0, 0, 0, 0, 0) THEN
		RAISE EXCEPTION 'fund %: a new fund''s figures are zero', NEW.code;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER fund_insert_guard BEFORE INSERT ON fl.fund
	FOR EACH ROW EXECUTE FUNCTION fl.fund_insert_guard();

-- Balance deltas come from the journal only: inserted by the trigger posting_fund_delta
-- (functions/30_ledger.sql), never by a statement of its own, and never updated (the fold
-- deletes them into the fund's row).
CREATE OR REPLACE FUNCTION fl.fund_delta_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' OR pg_trigger_depth() < 2 THEN
		RAISE EXCEPTION 'fund balance deltas come from journal postings only: % refused',
		    TG_OP;
	END IF;
	RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER fund_delta_guard BEFORE INSERT OR UPDATE OR TRUNCATE
	ON fl.fund_delta FOR EACH STATEMENT EXECUTE FUNCTION fl.fund_delta_guard();

-- The fund's current figures: its row plus the deltas not yet folded in.
CREATE OR REPLACE FUNCTION fl.fund_current(f fl.fund) RETURNS fl.fund
LANGUAGE plpgsql STABLE AS $$
DECLARE
	d	record;
BEGIN
	SELECT coalesce(sum(received), 0) AS rec, coalesce(sum(earnings), 0) AS earn,
	    coalesce(sum(pledged), 0) AS pled, coalesce(sum(committed), 0) AS comm,
	    coalesce(sum(disbursed), 0) AS disb,
	    coalesce(sum(transferred_in), 0) AS tin, coalesce(sum(transferred_out), 0) AS tout,
	    coalesce(sum(charges), 0) AS chg, coalesce(sum(impaired), 0) AS imp
	  INTO d FROM fl.fund_delta WHERE fund_code = f.code;
	f.received := f.received + d.rec;
	f.earnings := f.earnings + d.earn;
	f.pledged := f.pledged + d.pled;
	f.committed := f.committed + d.comm;
	f.disbursed := f.disbursed + d.disb;
	f.transferred_in := f.transferred_in + d.tin;		-- transfers between funds
	f.transferred_out := f.transferred_out + d.tout;
	f.charges := f.charges + d.chg;				-- fees and losses
	f.impaired := f.impaired + d.imp;
	RETURN f;
END
$$;

-- Fold a fund's deltas into its row, under the row's lock and its CHECK constraints, and
-- into its figures per day and hour (fl.fund_day, fl.fund_hour); returns the folded row, still locked. Whoever
-- takes money out of a fund calls this first and decides on what it returns. FOR NO KEY
-- UPDATE: the fold changes figures, never the key, and FOR UPDATE would also wait for (and
-- block) every transaction inserting a row that refers to the fund (the foreign key's KEY
-- SHARE lock), so a fold would stall the fund's receipts and could deadlock with a batch
-- receiving into two funds. SECURITY DEFINER: the daemon's role may neither delete deltas
-- nor set the figures itself.
CREATE OR REPLACE FUNCTION fl.fund_fold(p_code text) RETURNS fl.fund
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	f	fl.fund;
	d	record;
BEGIN
	SELECT * INTO f FROM fl.fund WHERE code = p_code FOR NO KEY UPDATE;
	WITH gone AS (DELETE FROM fl.fund_delta WHERE fund_code = p_code RETURNING *),
	days AS (
		-- under the fund row's lock: one fold of the fund at a time
		INSERT INTO fl.fund_day AS t (fund_code, day, received, earnings, pledged,
		    committed, disbursed, transferred_in, transferred_out, charges, impaired)
		SELECT p_code, day, sum(received), sum(earnings), sum(pledged), sum(committed),
		       sum(disbursed), sum(transferred_in), sum(transferred_out), sum(charges),
		       sum(impaired)
		  FROM gone WHERE day IS NOT NULL GROUP BY day
		ON CONFLICT (fund_code, day) DO UPDATE SET
		    received = t.received + excluded.received,
		    earnings = t.earnings + excluded.earnings,
		    pledged = t.pledged + excluded.pledged,
		    committed = t.committed + excluded.committed,
		    disbursed = t.disbursed + excluded.disbursed,
		    transferred_in = t.transferred_in + excluded.transferred_in,
		    transferred_out = t.transferred_out + excluded.transferred_out,
		    charges = t.charges + excluded.charges,
		    impaired = t.impaired + excluded.impaired),
	hours AS (
		INSERT INTO fl.fund_hour AS t (fund_code, day, hour, received, earnings, pledged,
		    committed, disbursed, transferred_in, transferred_out, charges, impaired)
		SELECT p_code, day, hour, sum(received), sum(earnings), sum(pledged),
		       sum(committed), sum(disbursed), sum(transferred_in), sum(transferred_out),
		       sum(charges), sum(impaired)
		  FROM gone WHERE hour IS NOT NULL GROUP BY day, hour
		ON CONFLICT (fund_code, day, hour) DO UPDATE SET
		    received = t.received + excluded.received,
		    earnings = t.earnings + excluded.earnings,
		    pledged = t.pledged + excluded.pledged,
		    committed = t.committed + excluded.committed,
		    disbursed = t.disbursed + excluded.disbursed,
		    transferred_in = t.transferred_in + excluded.transferred_in,
		    transferred_out = t.transferred_out + excluded.transferred_out,
		    charges = t.charges + excluded.charges,
		    impaired = t.impaired + excluded.impaired)
	SELECT coalesce(sum(received), 0) AS rec, coalesce(sum(earnings), 0) AS earn,
	    coalesce(sum(pledged), 0) AS pled, coalesce(sum(committed), 0) AS comm,
	    coalesce(sum(disbursed), 0) AS disb,
	    coalesce(sum(transferred_in), 0) AS tin, coalesce(sum(transferred_out), 0) AS tout,
	    coalesce(sum(charges), 0) AS chg, coalesce(sum(impaired), 0) AS imp
	  INTO d FROM gone;
	IF d IS DISTINCT FROM ROW(0::numeric, 0::numeric, 0::numeric, 0::numeric,
	    0::numeric, 0::numeric, 0::numeric, 0::numeric, 0::numeric) THEN
		UPDATE fl.fund SET received = received + d.rec, earnings = earnings + d.earn,
		    pledged = pledged + d.pled, committed = committed + d.comm,
		    disbursed = disbursed + d.disb,
		    transferred_in = transferred_in + d.tin,	-- transfers between funds
		    transferred_out = transferred_out + d.tout,
		    charges = charges + d.chg, impaired = impaired + d.imp	-- fees and losses
		 WHERE code = p_code
		RETURNING * INTO f;
	END IF;
	RETURN f;
END
$$;

-- Housekeeping (the daemon, every second): fold every fund that has deltas, each in a
-- short lock of its own row. A fund whose fold fails (a CHECK broken: its books would say
-- something impossible; or a figure past what bigint holds, which fl.fund_total_check()
-- refuses before it is written) keeps its deltas and raises a warning, which the daemon
-- logs; the other funds are folded all the same. Returns how many funds were folded.
CREATE OR REPLACE FUNCTION fl.fold_all() RETURNS bigint
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
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'fund %: folding its balance deltas breaks: % (%)', v_code,
			    SQLERRM, SQLSTATE;
		END;
	END LOOP;
	RETURN v_n;
END
$$;

-- A fund as the protocol shows it; its figures are fund.balance's.
CREATE OR REPLACE FUNCTION fl.fund_json(f fl.fund) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('code', f.code, 'name', f.name, 'currency', f.currency,
	    'kind', f.kind, 'dual_approval_above',
	    fl.money_out(f.dual_approval_above, fl.minor(f.currency)),
	    'created_at', fl.ts(f.created_at));
END
$$;

-- A fund's available balance: what it may still commit or transfer (docs/ledger.md,
-- Balances): a pass-through fund's money in (less what losses took of its capital), an
-- endowment's earnings, plus transfers in, less transfers out, fees and losses met from
-- income, commitments and payments. The fund row's CHECK available_not_negative is the
-- same formula.
CREATE OR REPLACE FUNCTION fl.fund_available(f fl.fund) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN CASE f.kind WHEN 'pass_through' THEN f.received - f.impaired + f.earnings
	    ELSE f.earnings END
	    + f.transferred_in - f.transferred_out - f.charges - f.committed - f.disbursed;
END
$$;

-- A fund's figures and available balance, as fund.balance answers them.
CREATE OR REPLACE FUNCTION fl.fund_balance_json(f fl.fund) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	m	int := fl.minor(f.currency);
BEGIN
	RETURN jsonb_build_object('code', f.code, 'currency', f.currency,
	    'received', fl.money_out(f.received, m), 'earnings', fl.money_out(f.earnings, m),
	    'pledged', fl.money_out(f.pledged, m), 'committed', fl.money_out(f.committed, m),
	    'disbursed', fl.money_out(f.disbursed, m),
	    -- transfers between funds
	    'transferred_in', fl.money_out(f.transferred_in, m),
	    'transferred_out', fl.money_out(f.transferred_out, m),
	    -- fees and losses
	    'charges', fl.money_out(f.charges, m),
	    'capital_impaired', fl.money_out(f.impaired, m),
	    'available', fl.money_out(fl.fund_available(f), m));
END
$$;

-- A fund's figures as fund.balance shows them, from the sums of its accounts (numeric: as
-- of a past date, a figure may be what no total ever was, such as a receipt of a pledge
-- dated before the pledge).
CREATE OR REPLACE FUNCTION fl.fund_figures_json(f fl.fund, rec numeric, earn numeric,
    pled numeric, comm numeric, disb numeric, tin numeric, tout numeric, chg numeric,
    imp numeric) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	m	int := fl.minor(f.currency);
BEGIN
	RETURN jsonb_build_object('code', f.code, 'currency', f.currency,
	    'received', fl.total_out(rec, m), 'earnings', fl.total_out(earn, m),
	    'pledged', fl.total_out(pled, m), 'committed', fl.total_out(comm, m),
	    'disbursed', fl.total_out(disb, m),
	    'transferred_in', fl.total_out(tin, m), 'transferred_out', fl.total_out(tout, m),
	    'charges', fl.total_out(chg, m), 'capital_impaired', fl.total_out(imp, m),
	    'available', fl.total_out(CASE f.kind WHEN 'pass_through' THEN rec - imp + earn
	        ELSE earn END + tin - tout - chg - comm - disb, m));
END
$$;

-- A fund's figures summed from the whole journal, of the entries with a value date (or,
-- with p_recorded, a recording time) at or before p_asof; of every entry when p_asof is
-- NULL. The reference the kept figures are checked against (tests, auditors, make bench),
-- and fund.balance as_of with basis 'recorded'.
CREATE OR REPLACE FUNCTION fl.fund_balance_from_journal(p_code text,
    p_asof timestamptz DEFAULT NULL, p_recorded boolean DEFAULT false) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	f	fl.fund := fl.fund_get(p_code, 'code');
	s	record;
BEGIN
	SELECT coalesce(-sum(p.amount) FILTER (WHERE a.short = 'contributions'), 0) AS rec,
	    coalesce(-sum(p.amount) FILTER (WHERE a.short = 'earnings'), 0) AS earn,
	    coalesce(sum(p.amount) FILTER (WHERE a.short = 'pledges_receivable'), 0) AS pled,
	    coalesce(-sum(p.amount) FILTER (WHERE a.short = 'commitments'), 0) AS comm,
	    coalesce(sum(p.amount) FILTER (WHERE a.short = 'grants_disbursed'), 0) AS disb,
	    coalesce(-sum(p.amount) FILTER (WHERE a.short = 'transfers_in'), 0) AS tin,
	    coalesce(sum(p.amount) FILTER (WHERE a.short = 'transfers_out'), 0) AS tout,
	    coalesce(sum(p.amount) FILTER (WHERE a.short IN ('bank_charges',
		'investment_losses')), 0) AS chg,
	    coalesce(sum(p.amount) FILTER (WHERE a.short = 'capital_impaired'), 0) AS imp
	  INTO s
	  FROM fl.account a JOIN fl.posting p USING (account_id)
	 WHERE a.fund_code = f.code
	   AND a.short IN ('contributions', 'earnings', 'pledges_receivable', 'commitments',
	       'grants_disbursed', 'transfers_in', 'transfers_out', 'bank_charges',
	       'investment_losses', 'capital_impaired')
	   AND (p_asof IS NULL OR EXISTS (SELECT 1 FROM fl.journal_entry e
	        WHERE e.entry_id = p.entry_id
	          AND CASE WHEN p_recorded THEN e.at ELSE e.value_at END <= p_asof));
	RETURN fl.fund_figures_json(f, s.rec, s.earn, s.pled, s.comm, s.disb, s.tin, s.tout,
	    s.chg, s.imp);
END
$$;

-- fund.balance as_of: the fund's figures from its entries with a value date at or before
-- p_asof (or, with p_recorded, a recording time: summed from the journal). By value date,
-- the days before p_asof's (UTC) are a row each of fl.fund_day, the hours of its day before
-- its hour a row each of fl.fund_hour, with the deltas not yet folded into them; p_asof's
-- own hour is summed from its entries up to p_asof, or, in the hour's second half, taken
-- whole from those rows less its entries after p_asof: the cost grows with the days of the
-- fund's life and half an hour's entries, not with its journal.
CREATE OR REPLACE FUNCTION fl.fund_balance_at(p_code text, p_asof timestamptz,
    p_recorded boolean) RETURNS jsonb
-- one plan for every instant: planning the sums again for each call costs more than they do
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	f	fl.fund;
	v_day	date := (p_asof AT TIME ZONE 'UTC')::date;
	v_hour	int := extract(hour FROM p_asof AT TIME ZONE 'UTC');
	v_start	timestamptz := v_day::timestamp AT TIME ZONE 'UTC' + v_hour * interval '1 hour';
	v_late	boolean := p_asof >= v_start + interval '30 minutes';
	-- the whole hours of the day summed from the kept rows, and the entries summed from
	-- the journal (added from the hour's start, or taken off up to its end)
	v_upto	int := CASE WHEN v_late THEN v_hour + 1 ELSE v_hour END;
	v_from	timestamptz := CASE WHEN v_late THEN p_asof ELSE v_start END;
	v_to	timestamptz := CASE WHEN v_late THEN v_start + interval '1 hour' ELSE p_asof END;
	v_sign	int := CASE WHEN v_late THEN -1 ELSE 1 END;
	s	record;
BEGIN
	IF p_recorded OR p_asof IS NULL THEN
		RETURN fl.fund_balance_from_journal(p_code, p_asof, p_recorded);
	END IF;
	f := fl.fund_get(p_code, 'code');
	SELECT coalesce(sum(x.rec), 0) AS rec, coalesce(sum(x.earn), 0) AS earn,
	    coalesce(sum(x.pled), 0) AS pled, coalesce(sum(x.comm), 0) AS comm,
	    coalesce(sum(x.disb), 0) AS disb, coalesce(sum(x.tin), 0) AS tin,
	    coalesce(sum(x.tout), 0) AS tout, coalesce(sum(x.chg), 0) AS chg,
	    coalesce(sum(x.imp), 0) AS imp
	  INTO s
	  FROM (SELECT sum(received) AS rec, sum(earnings) AS earn, sum(pledged) AS pled,
		       sum(committed) AS comm, sum(disbursed) AS disb,
		       sum(transferred_in) AS tin, sum(transferred_out) AS tout,
		       sum(charges) AS chg, sum(impaired) AS imp
		  FROM fl.fund_day WHERE fund_code = f.code AND day < v_day
		UNION ALL
		SELECT sum(received), sum(earnings), sum(pledged), sum(committed),
		       sum(disbursed), sum(transferred_in), sum(transferred_out), sum(charges),
		       sum(impaired)
		  FROM fl.fund_hour
		 WHERE fund_code = f.code AND day = v_day AND hour < v_upto
		UNION ALL
		-- (a delta without an hour is counted in fl.fund_hour already)
		SELECT sum(received), sum(earnings), sum(pledged), sum(committed),
		       sum(disbursed), sum(transferred_in), sum(transferred_out), sum(charges),
		       sum(impaired)
		  FROM fl.fund_delta
		 WHERE fund_code = f.code AND (day < v_day OR (day = v_day AND hour < v_upto))
		UNION ALL
		-- (the bounds: [v_from, v_to] from the hour's start, (v_from, v_to) to its end)
		SELECT v_sign * -sum(p.amount) FILTER (WHERE a.short = 'contributions'),
		    v_sign * -sum(p.amount) FILTER (WHERE a.short = 'earnings'),
		    v_sign * sum(p.amount) FILTER (WHERE a.short = 'pledges_receivable'),
		    v_sign * -sum(p.amount) FILTER (WHERE a.short = 'commitments'),
		    v_sign * sum(p.amount) FILTER (WHERE a.short = 'grants_disbursed'),
		    v_sign * -sum(p.amount) FILTER (WHERE a.short = 'transfers_in'),
		    v_sign * sum(p.amount) FILTER (WHERE a.short = 'transfers_out'),
		    v_sign * sum(p.amount) FILTER (WHERE a.short IN ('bank_charges',
			'investment_losses')),
		    v_sign * sum(p.amount) FILTER (WHERE a.short = 'capital_impaired')
		  FROM fl.journal_entry e
		  JOIN fl.posting p ON p.entry_id = e.entry_id
		  JOIN fl.account a ON a.account_id = p.account_id
		 WHERE e.value_at >= v_from AND e.value_at <= v_to
		   AND (NOT v_late OR (e.value_at > v_from AND e.value_at < v_to))
		   AND e.fund_code = f.code) x;
	RETURN fl.fund_figures_json(f, s.rec, s.earn, s.pled, s.comm, s.disb, s.tin, s.tout,
	    s.chg, s.imp);
END
$$;

-- fund.* -----------------------------------------------------------------------------------

-- fund.create: the fund and its thirteen accounts (docs/ledger.md, Chart of accounts).
CREATE OR REPLACE FUNCTION api.fund_create(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
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
	    ('grants_committed', 'expense'), ('grants_disbursed', 'expense'),
	    ('transfers_in', 'equity'), ('transfers_out', 'equity'),
	    ('bank_charges', 'expense'), ('investment_losses', 'expense'),
	    ('capital_impaired', 'equity')) t(short, type)
	LOOP
		INSERT INTO fl.account (fund_code, short, name, type, currency)
		VALUES (v.code, a.short, v.code || ':' || a.short, a.type, v.currency);
	END LOOP;
	RETURN fl.fund_json(v);
END
$$;

-- fund.list: every fund, by code.
CREATE OR REPLACE FUNCTION api.fund_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('funds', coalesce((SELECT jsonb_agg(fl.fund_json(f)
	    ORDER BY f.code) FROM fl.fund f), '[]'));
END
$$;

-- fund.balance: the fund's current figures; with as_of, its figures from the journal as of
-- then, by value date or (basis 'recorded') recording time.
CREATE OR REPLACE FUNCTION api.fund_balance(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF params->>'as_of' IS NOT NULL THEN
		RETURN fl.fund_balance_at(params->>'code', fl.time_in(params->>'as_of'),
		    fl.basis_recorded(params));
	END IF;
	RETURN fl.fund_balance_json(fl.fund_current(fl.fund_get(params->>'code', 'code')));
END
$$;

-- fund.history: a fund's figures at the end of each day, ISO week or month that meets
-- [from, to] (the last clipped to "to"), as fund.balance as_of the period's last instant
-- gives them, in one statement: the days before "from" summed once, each period's days
-- summed, and the periods added up in order. The kept days (fl.fund_day and the deltas
-- not yet folded into it) hold every entry by value day, so the journal is not read.
CREATE OR REPLACE FUNCTION api.fund_history(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	f	fl.fund := fl.fund_get(params->>'code', 'code');
	v_from	date := (params->>'from')::date;
	v_to	date := (params->>'to')::date;
	v_grain	text := coalesce(params->>'grain', 'day');
	v_pts	jsonb;
BEGIN
	IF v_to < v_from THEN
		PERFORM fl.rpc_error(-32602, 'end_before_start', 'to',
		    'the range ends before it starts');
	END IF;
	IF v_to - v_from >= 3660 AND v_grain = 'day' THEN
		PERFORM fl.rpc_error(-32602, 'range_too_long', 'to',
		    'at most 3660 days at daily grain: take weeks or months',
		    jsonb_build_object('max_days', 3660));
	END IF;
	WITH kept AS (
		SELECT day, received, earnings, pledged, committed, disbursed, transferred_in,
		    transferred_out, charges, impaired
		  FROM fl.fund_day WHERE fund_code = f.code AND day <= v_to
		UNION ALL
		SELECT day, received, earnings, pledged, committed, disbursed, transferred_in,
		    transferred_out, charges, impaired
		  FROM fl.fund_delta WHERE fund_code = f.code AND day <= v_to),
	periods AS (
		SELECT k::date AS start, least(CASE v_grain WHEN 'day' THEN k::date
		    ELSE (k + CASE v_grain WHEN 'week' THEN interval '1 week'
			ELSE interval '1 month' END)::date - 1 END, v_to) AS last
		  FROM generate_series(date_trunc(CASE v_grain WHEN 'day' THEN 'day' ELSE v_grain
		      END, v_from::timestamp), v_to::timestamp, CASE v_grain WHEN 'day'
		      THEN interval '1 day' WHEN 'week' THEN interval '1 week'
		      ELSE interval '1 month' END) g(k)),
	moves AS (
		-- what each period added (the days before "from" go to the first)
		SELECT greatest(date_trunc(CASE v_grain WHEN 'day' THEN 'day' ELSE v_grain END,
			k.day::timestamp)::date, (SELECT min(start) FROM periods)) AS start,
		    sum(k.received) AS rec, sum(k.earnings) AS earn,
		    sum(k.pledged) AS pled, sum(k.committed) AS comm, sum(k.disbursed) AS disb,
		    sum(k.transferred_in) AS tin, sum(k.transferred_out) AS tout,
		    sum(k.charges) AS chg, sum(k.impaired) AS imp
		  FROM kept k
		 GROUP BY 1),
	running AS (
		SELECT pe.start, pe.last,
		    sum(coalesce(m.rec, 0)) OVER w AS rec, sum(coalesce(m.earn, 0)) OVER w AS earn,
		    sum(coalesce(m.pled, 0)) OVER w AS pled,
		    sum(coalesce(m.comm, 0)) OVER w AS comm,
		    sum(coalesce(m.disb, 0)) OVER w AS disb, sum(coalesce(m.tin, 0)) OVER w AS tin,
		    sum(coalesce(m.tout, 0)) OVER w AS tout, sum(coalesce(m.chg, 0)) OVER w AS chg,
		    sum(coalesce(m.imp, 0)) OVER w AS imp
		  FROM periods pe LEFT JOIN moves m USING (start)
		WINDOW w AS (ORDER BY pe.start))
	SELECT coalesce(jsonb_agg(jsonb_build_object('period', CASE v_grain
		    WHEN 'day' THEN to_char(r.start, 'YYYY-MM-DD')
		    WHEN 'week' THEN to_char(r.start, 'IYYY-"W"IW')
		    ELSE to_char(r.start, 'YYYY-MM') END,
		'until', to_char(r.last, 'YYYY-MM-DD'),
		'as_of', fl.ts((r.last + 1)::timestamp AT TIME ZONE 'UTC' - interval '1 microsecond'))
		|| (fl.fund_figures_json(f, r.rec, r.earn, r.pled, r.comm, r.disb, r.tin, r.tout,
		    r.chg, r.imp) - 'code' - 'currency')
		ORDER BY r.start), '[]')
	  INTO v_pts
	  FROM running r;
	RETURN jsonb_build_object('code', f.code, 'currency', f.currency, 'grain', v_grain,
	    'from', v_from, 'to', v_to, 'points', v_pts);
END
$$;

-- The value date of earnings for period p_period when none is given: the period's last
-- day (a year 2026, a half 2026-H2, a quarter 2026-Q3, a month 2026-09 or a day
-- 2026-09-30), or now while that day is to come or the period is in no such form.
CREATE OR REPLACE FUNCTION fl.period_end(p_period text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
	m	text[] := regexp_match(p_period,
	    '^([0-9]{4})(?:-(?:([HQ])([1-4])|([0-9]{2})(?:-([0-9]{2}))?))?$');
	v_start	timestamptz;
	v_next	timestamptz;
BEGIN
	IF m IS NULL OR (m[2] = 'H' AND m[3] > '2') THEN
		RETURN now();
	END IF;
	BEGIN
		v_start := (m[1] || '-' || coalesce(m[4], '01') || '-' || coalesce(m[5], '01')
		    || 'T00:00:00Z')::timestamptz;
	EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
		RETURN now();	-- 2026-13, 2026-02-30: not a period
	END;
	v_next := CASE
	    WHEN m[2] = 'H' THEN v_start + (m[3]::int * 6) * interval '1 month'
	    WHEN m[2] = 'Q' THEN v_start + (m[3]::int * 3) * interval '1 month'
	    WHEN m[5] IS NOT NULL THEN v_start + interval '1 day'
	    WHEN m[4] IS NOT NULL THEN v_start + interval '1 month'
	    ELSE v_start + interval '1 year' END;
	RETURN least(v_next - interval '1 day', now());
END
$$;

-- A fee or loss of p_amt on fund f, folded and locked (fl.fund_fold), whose figures the
-- entry being written also raises by p_capital of capital (a receipt's own amount): what
-- income meets (v_income) and what capital meets (v_capital). A pass-through fund meets it
-- from what is available; an endowment from its available earnings, and the rest from its
-- capital, reported as capital impaired. -32010 insufficient_funds (field p_field) when
-- neither can: available never goes below zero.
CREATE OR REPLACE FUNCTION fl.charge_split(f fl.fund, p_amt bigint, p_capital bigint,
    p_field text, OUT v_income bigint, OUT v_capital bigint)
LANGUAGE plpgsql AS $$
DECLARE
	v_avail	bigint := fl.fund_available(f);
BEGIN
	IF f.kind = 'pass_through' THEN
		v_avail := v_avail + p_capital;
		v_income := p_amt;
		v_capital := 0;
	ELSE
		v_income := least(p_amt, greatest(v_avail, 0));
		v_capital := p_amt - v_income;
		v_avail := v_income + f.received + p_capital - f.impaired;
	END IF;
	IF p_amt > v_avail THEN
		PERFORM fl.rpc_error(-32010, 'insufficient_funds', p_field,
		    'the fund cannot meet this fee or loss', jsonb_build_object('available',
		    fl.money_out(greatest(v_avail, 0), fl.minor(f.currency))));
	END IF;
END
$$;

-- fund.record_earnings: income (kind interest, dividend or realised_gain: cash in,
-- credited to the fund's earnings) or a charge (fee: to bank_charges; loss: to
-- investment_losses; cash out), as fl.charge_split() shares a charge between income and
-- capital. Without kind: interest. Value dated value_date, or else the end of its period.
CREATE OR REPLACE FUNCTION api.fund_record_earnings(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	f	fl.fund := fl.fund_get(params->>'code', 'code');
	v_kind	text := coalesce(params->>'kind', 'interest');
	v_amt	bigint := fl.money_in(params->>'amount', fl.minor(f.currency), 'amount');
	-- the memo as before for interest; the kind named for the others (cut to what a memo
	-- holds: a note of 500 characters and a period of 64 fill it)
	v_memo	text := left(CASE v_kind WHEN 'interest' THEN 'earnings' ELSE v_kind END || ' ' ||
	    (params->>'period') || coalesce(': ' || (params->>'note'), ''), 575);
	v_acct	text[];
	v_amts	bigint[];
	v_split	record;
	v_at	timestamptz := coalesce(fl.time_in(params->>'value_date'),
	    fl.period_end(params->>'period'));
	v_entry	bigint;
BEGIN
	IF v_at > now() + interval '5 minutes' THEN
		PERFORM fl.rpc_error(-32602, 'in_the_future', 'value_date');
	END IF;
	IF v_kind IN ('interest', 'dividend', 'realised_gain') THEN
		v_entry := fl.post(f, 'earnings', v_memo, params->>'period', p.principal_id,
		    ARRAY['cash', 'earnings'], ARRAY[v_amt, -v_amt], v_at);
		RETURN jsonb_build_object('entry_id', fl.entry_ref(v_entry));
	END IF;
	IF v_kind NOT IN ('fee', 'loss') THEN
		PERFORM fl.rpc_error(-32602, 'not_one_of_allowed_values', 'kind');
	END IF;
	f := fl.fund_fold(f.code);
	v_split := fl.charge_split(f, v_amt, 0, 'amount');
	v_acct := ARRAY['cash'];
	v_amts := ARRAY[-v_amt];
	IF v_split.v_income > 0 THEN
		v_acct := v_acct || CASE v_kind WHEN 'fee' THEN 'bank_charges'
		    ELSE 'investment_losses' END;
		v_amts := v_amts || v_split.v_income;
	END IF;
	IF v_split.v_capital > 0 THEN
		v_acct := v_acct || 'capital_impaired'::text;
		v_amts := v_amts || v_split.v_capital;
	END IF;
	v_entry := fl.post(f, v_kind, v_memo, params->>'period', p.principal_id, v_acct,
	    v_amts, v_at);
	RETURN jsonb_build_object('entry_id', fl.entry_ref(v_entry), 'kind', v_kind,
	    'charged_to_income', fl.money_out(v_split.v_income, fl.minor(f.currency)),
	    'capital_impaired', fl.money_out(v_split.v_capital, fl.minor(f.currency)));
END
$$;

-- partner.* --------------------------------------------------------------------------------

-- A partner as the protocol shows it.
CREATE OR REPLACE FUNCTION fl.partner_json(p fl.partner) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('partner_id', p.partner_id, 'name', p.name,
	    'country', p.country, 'kind', p.kind, 'email', p.email,
	    'created_at', fl.ts(p.created_at));
END
$$;

-- -32004 unless the partner exists.
CREATE OR REPLACE FUNCTION fl.partner_check(p_partner text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM fl.partner WHERE partner_id = p_partner) THEN
		PERFORM fl.rpc_error(-32004, 'partner_not_found', 'partner_id');
	END IF;
END
$$;

-- partner.create
CREATE OR REPLACE FUNCTION api.partner_create(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
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

-- partner.get
CREATE OR REPLACE FUNCTION api.partner_get(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
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

-- Corrections of partners keep what they replaced (fl.correction_record).
CREATE OR REPLACE TRIGGER partner_correction AFTER UPDATE ON fl.partner
	FOR EACH ROW EXECUTE FUNCTION fl.correction_record('partner', 'partner_id', 'name',
	    'country', 'kind', 'email');
CREATE OR REPLACE TRIGGER partner_identity BEFORE UPDATE ON fl.partner
	FOR EACH ROW EXECUTE FUNCTION fl.identity_guard('partner_id', 'seq', 'created_at',
	    'created_by');

-- partner.update: a correction of a partner's record; the fields given change, the
-- record's history keeps what they were.
CREATE OR REPLACE FUNCTION api.partner_update(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	v	fl.partner;
BEGIN
	SELECT * INTO v FROM fl.partner WHERE partner_id = params->>'partner_id' FOR UPDATE;
	IF v.partner_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'partner_not_found', 'partner_id');
	END IF;
	PERFORM set_config('fl.principal_id', p.principal_id, true);
	UPDATE fl.partner SET name = coalesce(params->>'name', name),
	    country = coalesce(params->>'country', country),
	    kind = coalesce(params->>'kind', kind),
	    email = coalesce(params->>'email', email)
	 WHERE partner_id = v.partner_id RETURNING * INTO v;
	PERFORM set_config('fl.principal_id', '', true);
	RETURN fl.partner_json(v);
END
$$;

-- partner.history: the corrections of a partner's record, oldest first (a partner: its
-- own, api.call() scoping partner_id).
CREATE OR REPLACE FUNCTION api.partner_history(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	PERFORM fl.partner_check(params->>'partner_id');
	RETURN fl.history('partner', params->>'partner_id', params)
	    || jsonb_build_object('partner_id', params->>'partner_id');
END
$$;

-- partner.list: partners in the order they were created, a page at a time.
-- partner.find: the partners whose name starts with the one given, or whose words do from
-- a word on, as fl.name_key() reads names.
CREATE OR REPLACE FUNCTION api.partner_find(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
	v_key	text := fl.name_key(params->>'name');
BEGIN
	IF v_key = '' THEN
		PERFORM fl.rpc_error(-32602, 'blank', 'name');
	END IF;
	RETURN jsonb_build_object('partners', coalesce((SELECT jsonb_agg(fl.partner_json(x)
	    ORDER BY x.name_key, x.seq)
	  FROM (SELECT * FROM fl.partner
		 WHERE name_key LIKE fl.like_prefix(v_key)
		    OR name_key LIKE '% ' || fl.like_prefix(v_key)
		 ORDER BY name_key, seq LIMIT v_lim) x), '[]'));
END
$$;

CREATE OR REPLACE FUNCTION api.partner_list(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
BEGIN
	RETURN fl.page('partners', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
	    'j', fl.partner_json(t)) ORDER BY t.seq)
	  FROM (SELECT * FROM fl.partner WHERE seq > fl.cursor_in(params->>'cursor')
	         ORDER BY seq LIMIT v_lim + 1) t), v_lim);
END
$$;

-- Contributions ----------------------------------------------------------------------------

-- Only pledged -> received | cancelled | written_off, and a direct receipt received ->
-- reversed, and only the fields of that step change. A pledge is received once its receipts (fl.pledge_receipt) make up its amount and
-- have cleared its whole receivable; one with receipts is written off, never cancelled.
CREATE OR REPLACE FUNCTION fl.contribution_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v	record;
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'contributions are never deleted';
	END IF;
	-- a direct receipt reversed, with its reversal entry of this transaction
	IF OLD.status = 'received' AND NEW.status = 'reversed' AND OLD.pledged_at IS NULL AND
	    EXISTS (SELECT 1 FROM fl.journal_entry e WHERE e.entry_id = NEW.reversal_entry
		AND e.kind = 'receipt_reversal' AND e.ref_id = OLD.contribution_id
		AND e.txid = txid_current()) AND
	    (to_jsonb(NEW) - ARRAY['status', 'reversed_at', 'reversed_by', 'reverse_reason',
		'reversal_entry']) = (to_jsonb(OLD) - ARRAY['status', 'reversed_at',
		'reversed_by', 'reverse_reason', 'reversal_entry']) THEN
		RETURN NEW;
	END IF;
	IF (NEW.reversed_at, NEW.reversed_by, NEW.reverse_reason, NEW.reversal_entry)
	    IS DISTINCT FROM (OLD.reversed_at, OLD.reversed_by, OLD.reverse_reason,
	    OLD.reversal_entry) THEN
		RAISE EXCEPTION 'contribution %: only a direct receipt is reversed, with its '
		    'reversal entry', OLD.contribution_id;
	END IF;
	IF OLD.status <> 'pledged' OR
	    NEW.status NOT IN ('received', 'cancelled', 'written_off') THEN
		RAISE EXCEPTION 'contribution % cannot go from % to %', OLD.contribution_id,
		    OLD.status, NEW.status;
	END IF;
	IF (NEW.seq, NEW.contribution_id, NEW.partner_id, NEW.fund_code, NEW.amount,
	    NEW.currency, NEW.fx_rate, NEW.fund_amount, NEW.earmark_region, NEW.pledged_at,
	    NEW.created_at, NEW.created_by, NEW.fee) IS DISTINCT FROM
	   (OLD.seq, OLD.contribution_id, OLD.partner_id, OLD.fund_code, OLD.amount,
	    OLD.currency, OLD.fx_rate, OLD.fund_amount, OLD.earmark_region, OLD.pledged_at,
	    OLD.created_at, OLD.created_by, OLD.fee) THEN
		RAISE EXCEPTION 'contribution % : only its state may change', OLD.contribution_id;
	END IF;
	SELECT count(*) AS n, coalesce(sum(amount), 0) AS amount,
	    coalesce(sum(cleared), 0) AS cleared
	  INTO v FROM fl.pledge_receipt WHERE contribution_id = OLD.contribution_id;
	IF NEW.status = 'cancelled' AND v.n > 0 THEN
		RAISE EXCEPTION 'contribution % has receipts: written off, not cancelled',
		    OLD.contribution_id;
	END IF;
	IF NEW.status = 'received' AND (v.amount < OLD.amount OR v.cleared <> OLD.fund_amount)
	THEN
		RAISE EXCEPTION 'contribution % is received only once its receipts make it up',
		    OLD.contribution_id;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER contribution_guard BEFORE UPDATE OR DELETE ON fl.contribution
	FOR EACH ROW EXECUTE FUNCTION fl.contribution_guard();

-- A receipt of a pledge joins an open pledge of its fund, clearing no more of its
-- receivable than is left; receipts are never updated or deleted.
CREATE OR REPLACE FUNCTION fl.pledge_receipt_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	c	fl.contribution;
BEGIN
	SELECT * INTO c FROM fl.contribution WHERE contribution_id = NEW.contribution_id;
	IF c.status IS DISTINCT FROM 'pledged' OR c.fund_code <> NEW.fund_code OR
	    NEW.cleared + (SELECT coalesce(sum(cleared), 0) FROM fl.pledge_receipt
	      WHERE contribution_id = NEW.contribution_id) > c.fund_amount THEN
		RAISE EXCEPTION 'receipt %: only an open pledge of its fund is received, and '
		    'no more of it cleared than was pledged', NEW.receipt_id;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER pledge_receipt_guard BEFORE INSERT ON fl.pledge_receipt
	FOR EACH ROW EXECUTE FUNCTION fl.pledge_receipt_guard();
CREATE OR REPLACE TRIGGER pledge_receipt_append_only BEFORE UPDATE OR DELETE
	ON fl.pledge_receipt FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER pledge_receipt_no_truncate BEFORE TRUNCATE ON fl.pledge_receipt
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

-- A pledge's receipts as the protocol shows them, and their sums (minor units): received
-- in the pledge's currency, fund_amount and fee in the fund's.
CREATE OR REPLACE FUNCTION fl.pledge_receipts(c fl.contribution, p_cmin int, p_fmin int,
    OUT receipts jsonb, OUT received bigint, OUT fund_amount bigint, OUT fee bigint)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('receipt_id', r.receipt_id,
	    'amount', fl.money_out(r.amount, p_cmin), 'fx_rate', r.fx_rate::text,
	    'fund_amount', fl.money_out(r.fund_amount, p_fmin),
	    'fee', fl.money_out(r.fee, p_fmin), 'received_at', fl.ts(r.received_at),
	    'bank_ref', r.bank_ref) ORDER BY r.seq), '[]'),
	    coalesce(sum(r.amount), 0)::bigint, coalesce(sum(r.fund_amount), 0)::bigint,
	    coalesce(sum(r.fee), 0)::bigint
	  FROM fl.pledge_receipt r WHERE r.contribution_id = c.contribution_id
$$;

-- A contribution as the protocol shows it. f: its fund when the caller has it (saves
-- reading it again). The minor units are looked up once when the contribution is in the
-- fund's currency.
CREATE OR REPLACE FUNCTION fl.contribution_json(c fl.contribution, f fl.fund DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_fund	fl.fund := f;
	v_reg	fl.region;
	v_cmin	int := fl.minor(c.currency);
	v_fmin	int;
	-- a pledge's receipts and their sums (scalars: a record's type is planned once)
	v_rs	jsonb := '[]';
	v_got	bigint := c.amount;
	v_gotf	bigint := c.fund_amount;
	v_fee	bigint := c.fee;
BEGIN
	IF v_fund.code IS NULL THEN
		SELECT * INTO v_fund FROM fl.fund WHERE code = c.fund_code;
	END IF;
	v_fmin := CASE WHEN v_fund.currency = c.currency THEN v_cmin
	    ELSE fl.minor(v_fund.currency) END;
	IF c.earmark_region IS NOT NULL THEN
		SELECT * INTO v_reg FROM fl.region WHERE region_code = c.earmark_region;
	END IF;
	-- a direct receipt is received whole, with no receipts of its own (and no query)
	IF c.pledged_at IS NOT NULL THEN
		SELECT x.receipts, x.received, x.fund_amount, x.fee INTO v_rs, v_got, v_gotf, v_fee
		  FROM fl.pledge_receipts(c, v_cmin, v_fmin) x;
	END IF;
	RETURN jsonb_build_object('contribution_id', c.contribution_id,
	    'partner_id', c.partner_id, 'fund', c.fund_code, 'status', c.status,
	    'amount', fl.money_out(c.amount, v_cmin), 'currency', c.currency,
	    'fx_rate', c.fx_rate::text,
	    'fund_amount', fl.money_out(c.fund_amount, v_fmin),
	    'fund_currency', v_fund.currency,
	    'earmark_region', v_reg.region, 'earmark_region_code', v_reg.region_code,
	    'pledged_at', fl.ts(c.pledged_at), 'received_at', fl.ts(c.received_at),
	    'bank_ref', c.bank_ref, 'cancelled_at', fl.ts(c.cancelled_at),
	    'cancel_reason', c.cancel_reason, 'created_at', fl.ts(c.created_at))
	    || jsonb_build_object('received', fl.money_out(v_got, v_cmin),
	    'outstanding', fl.money_out(CASE WHEN c.status = 'pledged'
	        THEN greatest(c.amount - v_got, 0) ELSE 0 END, v_cmin),
	    'received_fund_amount', fl.money_out(v_gotf, v_fmin),
	    'fee', fl.money_out(v_fee, v_fmin), 'receipts', v_rs,
	    'written_off_at', fl.ts(c.written_off_at), 'write_off_reason', c.write_off_reason,
	    -- a reversed receipt: when, why, and its reversal's journal entry
	    'reversed_at', fl.ts(c.reversed_at), 'reverse_reason', c.reverse_reason,
	    'reversal_entry_id', fl.entry_ref(c.reversal_entry));
END
$$;

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

-- received_at from params, now by default; -32602 when more than five minutes ahead.
CREATE OR REPLACE FUNCTION fl.received_at_in(params jsonb) RETURNS timestamptz
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

-- Inserts a row made by fl.contribution_new(); returns it with its id and defaults.
CREATE OR REPLACE FUNCTION fl.contribution_insert(c fl.contribution) RETURNS fl.contribution
LANGUAGE plpgsql AS $$
DECLARE
	v	fl.contribution;
BEGIN
	INSERT INTO fl.contribution (partner_id, fund_code, status, amount, currency, fx_rate,
	    fund_amount, earmark_region, pledged_at, received_at, bank_ref, created_by, fee)
	VALUES (c.partner_id, c.fund_code, c.status, c.amount, c.currency, c.fx_rate,
	    c.fund_amount, c.earmark_region, c.pledged_at, c.received_at, c.bank_ref,
	    c.created_by, coalesce(c.fee, 0))
	RETURNING * INTO v;
	RETURN v;
END
$$;

-- A contribution by id (FOR UPDATE with p_lock), or -32004.
CREATE OR REPLACE FUNCTION fl.contribution_get(p_id text, p_lock boolean)
RETURNS fl.contribution LANGUAGE plpgsql AS $$
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

-- contribution.* ---------------------------------------------------------------------------

-- contribution.reverse: a direct receipt recorded in error, reversed by an entry that posts
-- the opposite of its receipt entry (value dated value_date, by default now), linked from
-- the contribution, which ends reversed. Money it paid for cannot vanish: a receipt that
-- the fund's allocation (first in, first out) shows used by a payment is refused, as is one
-- whose reversal the fund's balance cannot bear.
CREATE OR REPLACE FUNCTION api.contribution_reverse(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c	fl.contribution := fl.contribution_get(params->>'contribution_id', true);
	f	fl.fund;
	n	fl.fund;
	v_at	timestamptz := coalesce(fl.time_in(params->>'value_date'), now());
	v_e	bigint;
	v_used	bigint;
	s	record;
BEGIN
	IF c.status <> 'received' THEN
		PERFORM fl.wrong_state(c.status);
	END IF;
	IF c.pledged_at IS NOT NULL THEN
		PERFORM fl.rpc_error(-32009, 'pledge_reversal', 'contribution_id',
		    'a pledge''s receipts are not reversed: only a direct receipt is');
	END IF;
	IF v_at > now() + interval '5 minutes' THEN
		PERFORM fl.rpc_error(-32602, 'in_the_future', 'value_date');
	END IF;
	SELECT * INTO f FROM fl.fund WHERE code = c.fund_code;
	IF f.kind = 'pass_through' THEN
		-- the allocation up to date, under its lock to the end of this transaction
		PERFORM fl.alloc_catch_up(c.fund_code);
		SELECT amount - left_over INTO v_used FROM fl.alloc_contribution
		 WHERE contribution_id = c.contribution_id;
		IF v_used > 0 THEN
			PERFORM fl.rpc_error(-32010, 'already_used', 'contribution_id',
			    'payments used this receipt: it cannot be reversed',
			    jsonb_build_object('used', fl.money_out(v_used, fl.minor(f.currency))));
		END IF;
		DELETE FROM fl.alloc_contribution WHERE contribution_id = c.contribution_id;
	END IF;
	-- the receipt's entry, and what reversing it takes from the fund's figures
	SELECT e.entry_id, array_agg(a.short ORDER BY x.seq) AS shorts,
	    array_agg(-x.amount ORDER BY x.seq) AS amounts,
	    coalesce(-sum(x.amount) FILTER (WHERE a.short = 'contributions'), 0) AS gross,
	    coalesce(sum(x.amount) FILTER (WHERE a.short = 'bank_charges'), 0) AS chg,
	    coalesce(sum(x.amount) FILTER (WHERE a.short = 'capital_impaired'), 0) AS imp
	  INTO s
	  FROM fl.journal_entry e JOIN fl.posting x ON x.entry_id = e.entry_id
	  JOIN fl.account a ON a.account_id = x.account_id
	 WHERE e.kind = 'receipt' AND e.ref_id = c.contribution_id
	 GROUP BY e.entry_id;
	f := fl.fund_fold(c.fund_code);
	n := f;
	n.received := n.received - s.gross;
	n.charges := n.charges - s.chg;
	n.impaired := n.impaired - s.imp;
	IF fl.fund_available(n) < 0 OR n.impaired > n.received THEN
		PERFORM fl.rpc_error(-32010, 'insufficient_funds', 'contribution_id',
		    'the fund''s balance cannot bear this reversal',
		    jsonb_build_object('available', fl.money_out(fl.fund_available(f),
			fl.minor(f.currency))));
	END IF;
	v_e := fl.post(f, 'receipt_reversal', 'reversal of ' || fl.entry_ref(s.entry_id) ||
	    ' of contribution ' || c.contribution_id, c.contribution_id, p.principal_id,
	    s.shorts, s.amounts, v_at);
	UPDATE fl.contribution SET status = 'reversed', reversed_at = now(),
	    reversed_by = p.principal_id, reverse_reason = params->>'reason',
	    reversal_entry = v_e
	 WHERE contribution_id = c.contribution_id RETURNING * INTO c;
	RETURN fl.contribution_json(c, f);
END
$$;

-- A receipt's entry on fund f: cash p_gross - p_fee in, p_gross credited to contributions,
-- the fee charged (fl.charge_split(), an endowment's fund folded first) to bank_charges and
-- capital_impaired, and p_cleared of a pledge's receivable settled, value dated
-- p_value_at. Returns the entry.
CREATE OR REPLACE FUNCTION fl.post_receipt(f fl.fund, p_memo text, p_ref text, p_pid text,
    p_gross bigint, p_fee bigint, p_cleared bigint, p_value_at timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_acct	text[] := '{}';
	v_amts	bigint[] := '{}';
	v_split	record;
BEGIN
	IF p_cleared > 0 THEN
		v_acct := ARRAY['pledged_contributions', 'pledges_receivable'];
		v_amts := ARRAY[p_cleared, -p_cleared];
	END IF;
	v_acct := v_acct || ARRAY['cash', 'contributions'];
	v_amts := v_amts || ARRAY[p_gross - p_fee, -p_gross];
	IF p_fee > 0 THEN
		IF f.kind = 'pass_through' THEN
			-- the receipt itself brings more than the fee: nothing to lock
			SELECT p_fee AS v_income, 0::bigint AS v_capital INTO v_split;
		ELSE
			v_split := fl.charge_split(fl.fund_fold(f.code), p_fee, p_gross, 'fee');
		END IF;
		IF v_split.v_income > 0 THEN
			v_acct := v_acct || 'bank_charges'::text;
			v_amts := v_amts || v_split.v_income;
		END IF;
		IF v_split.v_capital > 0 THEN
			v_acct := v_acct || 'capital_impaired'::text;
			v_amts := v_amts || v_split.v_capital;
		END IF;
	END IF;
	RETURN fl.post(f, 'receipt', p_memo, p_ref, p_pid, v_acct, v_amts, p_value_at);
END
$$;

-- A fee from params (field fee, in the fund's currency; 0 without one): -32602
-- fee_not_below_amount unless below p_fund_amount.
CREATE OR REPLACE FUNCTION fl.fee_in(params jsonb, f fl.fund, p_fund_amount bigint)
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
	v	bigint := 0;
BEGIN
	IF params ? 'fee' THEN
		v := fl.money_in(params->>'fee', fl.minor(f.currency), 'fee', true);
	END IF;
	IF v >= p_fund_amount THEN
		PERFORM fl.rpc_error(-32602, 'fee_not_below_amount', 'fee',
		    'a bank fee is less than the amount it is taken from');
	END IF;
	RETURN v;
END
$$;

-- contribution.pledge: a pledged contribution, dated pledged_at (now by default), and its
-- entry.
CREATE OR REPLACE FUNCTION api.contribution_pledge(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	f	fl.fund := fl.fund_get(params->>'fund', 'fund');
	c	fl.contribution := fl.contribution_new(p, params, f, 'pledged');
BEGIN
	c.pledged_at := coalesce(fl.time_in(params->>'pledged_at'), now());
	IF c.pledged_at > now() + interval '5 minutes' THEN
		PERFORM fl.rpc_error(-32602, 'in_the_future', 'pledged_at');
	END IF;
	c := fl.contribution_insert(c);
	PERFORM fl.post(f, 'pledge', 'pledge ' || c.contribution_id, c.contribution_id,
	    p.principal_id, ARRAY['pledges_receivable', 'pledged_contributions'],
	    ARRAY[c.fund_amount, -c.fund_amount], c.pledged_at);
	RETURN fl.contribution_json(c, f);
END
$$;

-- A receipt of pledge c (locked, pledged) from params: amount in the pledge's currency
-- (what is outstanding by default), fx_rate (the pledge's by default), fee, received_at,
-- bank_ref. It clears its share of the pledge's receivable (amount over the pledge's amount,
-- rounded down), or all that is left when it makes the pledge up, which is then received.
-- The receipt's id is the contribution's when it is the pledge's only one.
CREATE OR REPLACE FUNCTION fl.pledge_receive(p fl.principal, params jsonb, c fl.contribution)
RETURNS fl.contribution LANGUAGE plpgsql AS $$
DECLARE
	f	fl.fund := fl.fund_get(c.fund_code, 'fund');
	v_cmin	int := fl.minor(c.currency);
	v_fmin	int := fl.minor(f.currency);
	v	record;
	r	fl.pledge_receipt;
	v_done	boolean;
BEGIN
	SELECT count(*) AS n, coalesce(sum(amount), 0) AS amount,
	    coalesce(sum(cleared), 0) AS cleared
	  INTO v FROM fl.pledge_receipt WHERE contribution_id = c.contribution_id;
	r.contribution_id := c.contribution_id;
	r.fund_code := f.code;
	r.amount := CASE WHEN params ? 'amount'
	    THEN fl.money_in(params->>'amount', v_cmin, 'amount') ELSE c.amount - v.amount END;
	IF c.currency = f.currency THEN
		IF params ? 'fx_rate' THEN
			PERFORM fl.rpc_error(-32602, 'not_for_the_fund_currency', 'fx_rate');
		END IF;
		r.fund_amount := r.amount;
	ELSE
		r.fx_rate := coalesce((params->>'fx_rate')::numeric, c.fx_rate);
		r.fund_amount := fl.fx_convert(r.amount, v_cmin, r.fx_rate, v_fmin);
		IF r.fund_amount <= 0 THEN
			PERFORM fl.rpc_error(-32602, 'rounds_to_zero', 'amount');
		END IF;
	END IF;
	r.fee := fl.fee_in(params, f, r.fund_amount);
	v_done := v.amount + r.amount >= c.amount;
	r.cleared := CASE WHEN v_done THEN c.fund_amount - v.cleared
	    ELSE least(c.fund_amount - v.cleared,
	        floor(c.fund_amount::numeric * r.amount / c.amount)::bigint) END;
	r.received_at := fl.received_at_in(params);
	r.bank_ref := params->>'bank_ref';
	r.receipt_id := CASE WHEN v_done AND v.n = 0 THEN c.contribution_id
	    ELSE fl.new_id('rc') END;
	INSERT INTO fl.pledge_receipt (receipt_id, contribution_id, fund_code, amount, fx_rate,
	    fund_amount, fee, cleared, received_at, bank_ref, created_by)
	VALUES (r.receipt_id, r.contribution_id, r.fund_code, r.amount, r.fx_rate,
	    r.fund_amount, r.fee, r.cleared, r.received_at, r.bank_ref, p.principal_id);
	PERFORM fl.post_receipt(f, 'receipt of pledge ' || c.contribution_id ||
	    CASE WHEN r.receipt_id = c.contribution_id THEN '' ELSE ' (' || r.receipt_id || ')'
	    END, r.receipt_id, p.principal_id, r.fund_amount, r.fee, r.cleared, r.received_at);
	IF v_done THEN
		UPDATE fl.contribution SET status = 'received', received_at = r.received_at,
		    bank_ref = r.bank_ref
		 WHERE contribution_id = c.contribution_id
		RETURNING * INTO c;
	END IF;
	RETURN c;
END
$$;

-- contribution.receive: with contribution_id, a receipt of a pledge (fl.pledge_receive());
-- without, a direct receipt. In a batch, a run of direct receipts without a fee goes to
-- fl.receive_bulk() instead.
CREATE OR REPLACE FUNCTION api.contribution_receive(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	f	fl.fund;
	c	fl.contribution;
	k	text;
BEGIN
	IF params ? 'contribution_id' THEN
		FOR k IN SELECT jsonb_object_keys(params) LOOP
			IF k NOT IN ('contribution_id', 'received_at', 'bank_ref', 'amount',
			    'fx_rate', 'fee') THEN
				PERFORM fl.rpc_error(-32602, 'not_with_contribution_id', k);
			END IF;
		END LOOP;
		c := fl.contribution_get(params->>'contribution_id', true);
		IF c.status <> 'pledged' THEN
			PERFORM fl.wrong_state(c.status);
		END IF;
		-- two statements: contribution_json() (STABLE) sees what the first one wrote
		c := fl.pledge_receive(p, params, c);
		RETURN fl.contribution_json(c);
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
	c.fee := fl.fee_in(params, f, c.fund_amount);
	c := fl.contribution_insert(c);
	PERFORM fl.post_receipt(f, 'receipt ' || c.contribution_id, c.contribution_id,
	    p.principal_id, c.fund_amount, c.fee, 0, c.received_at);
	RETURN fl.contribution_json(c, f);
END
$$;

-- contribution.cancel: a pledge nothing was received of cancelled, its entry reversed.
CREATE OR REPLACE FUNCTION api.contribution_cancel(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c	fl.contribution := fl.contribution_get(params->>'contribution_id', true);
	f	fl.fund;
BEGIN
	IF c.status <> 'pledged' THEN
		PERFORM fl.wrong_state(c.status);
	END IF;
	IF EXISTS (SELECT 1 FROM fl.pledge_receipt WHERE contribution_id = c.contribution_id)
	THEN
		PERFORM fl.rpc_error(-32009, 'partly_received', 'contribution_id',
		    'part of this pledge was received: write the rest off instead');
	END IF;
	f := fl.fund_get(c.fund_code, 'fund');
	UPDATE fl.contribution SET status = 'cancelled', cancelled_at = now(),
	    cancel_reason = params->>'reason'
	 WHERE contribution_id = c.contribution_id
	RETURNING * INTO c;
	PERFORM fl.post(f, 'pledge_cancel', 'cancelled pledge ' || c.contribution_id,
	    c.contribution_id, p.principal_id,
	    ARRAY['pledged_contributions', 'pledges_receivable'],
	    ARRAY[c.fund_amount, -c.fund_amount], c.cancelled_at);
	RETURN fl.contribution_json(c, f);
END
$$;

-- contribution.write_off: what of a pledge will not come closed, with a reason: the part
-- of its receivable its receipts did not clear reversed. What was received stays.
CREATE OR REPLACE FUNCTION api.contribution_write_off(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	c	fl.contribution := fl.contribution_get(params->>'contribution_id', true);
	f	fl.fund;
	v_left	bigint;
BEGIN
	IF c.status <> 'pledged' THEN
		PERFORM fl.wrong_state(c.status);
	END IF;
	f := fl.fund_get(c.fund_code, 'fund');
	SELECT c.fund_amount - coalesce(sum(cleared), 0) INTO v_left FROM fl.pledge_receipt
	 WHERE contribution_id = c.contribution_id;
	UPDATE fl.contribution SET status = 'written_off', written_off_at = now(),
	    write_off_reason = params->>'reason'
	 WHERE contribution_id = c.contribution_id
	RETURNING * INTO c;
	IF v_left > 0 THEN
		PERFORM fl.post(f, 'pledge_write_off', 'written off pledge ' || c.contribution_id,
		    c.contribution_id, p.principal_id,
		    ARRAY['pledged_contributions', 'pledges_receivable'], ARRAY[v_left, -v_left],
		    c.written_off_at);
	END IF;
	RETURN fl.contribution_json(c, f);
END
$$;

-- contribution.get
CREATE OR REPLACE FUNCTION api.contribution_get(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN fl.contribution_json(fl.contribution_get(params->>'contribution_id', false));
END
$$;

-- contribution.list: by partner, fund and status, a page at a time. A partner's own list
-- only: api.call() sets its partner_id.
CREATE OR REPLACE FUNCTION api.contribution_list(p fl.principal, params jsonb, ctx jsonb)
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

-- contribution.status ----------------------------------------------------------------------

-- What each contribution paid for (contribution.status; the rule and a worked example are in
-- docs/ledger.md). Pass-through funds: the fund's disbursements, in the order of their
-- journal entries, are allocated to its received contributions first in, first out by
-- (received_at, contribution_id); a contribution earmarked for a region goes only to grants
-- in that region. What no contribution can cover (earnings paid out, or contributions used
-- up) stays unattributed. Endowments: a contribution's share is its amount over the fund's
-- capital (all received contributions), and its use is that share of what was disbursed,
-- rounded down. Partners see grants by id, region, category and amount only.

-- The money a pass-through fund's contributions paid in, in pieces that are allocated
-- each on its own: a direct receipt, and each receipt of a pledge (its value date and
-- amount; the pledge's earmark). source_id is the receipt's id (a contribution's id for a
-- direct receipt, and for a pledge received whole in one receipt).
CREATE OR REPLACE VIEW fl.funding_source AS
SELECT c.contribution_id AS source_id, c.contribution_id, c.fund_code, c.received_at,
       c.earmark_region, c.fund_amount
  FROM fl.contribution c WHERE c.status = 'received' AND c.pledged_at IS NULL
UNION ALL
SELECT r.receipt_id, r.contribution_id, r.fund_code, r.received_at, c.earmark_region,
       r.fund_amount
  FROM fl.pledge_receipt r JOIN fl.contribution c ON c.contribution_id = r.contribution_id;

-- What was refunded of disbursement p_id (disbursement.refund): a disbursement pays, and
-- is allocated, only what it paid less that.
CREATE OR REPLACE FUNCTION fl.refunded(p_id text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT coalesce(sum(r.amount), 0) FROM fl.refund r WHERE r.disbursement_id = p_id);
END
$$;

-- Every (source, grant, amount) allocation of a pass-through fund, from the journal's
-- disbursement entries (each less what was refunded of it) and the funding sources' received_at (fl.funding_source; the column
-- contribution_id holds a source's id): the whole computation, which the kept allocation
-- below must always equal (contribution.status reads that one).
CREATE OR REPLACE FUNCTION fl.fifo_allocations(p_fund text)
RETURNS TABLE (contribution_id text, grant_id text, amount bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	c_ids	text[];
	c_left	bigint[];
	c_mark	text[];
	d	record;
	i	int;
	v_need	bigint;
	v_take	bigint;
BEGIN
	SELECT array_agg(c.source_id ORDER BY c.received_at, c.source_id),
	    array_agg(c.fund_amount ORDER BY c.received_at, c.source_id),
	    array_agg(c.earmark_region ORDER BY c.received_at, c.source_id)
	  INTO c_ids, c_left, c_mark
	  FROM fl.funding_source c WHERE c.fund_code = p_fund;
	FOR d IN
		SELECT x.grant_id, g.region, p.amount - fl.refunded(x.disbursement_id) AS amount
		  FROM fl.journal_entry e
		  JOIN fl.disbursement x ON x.disbursement_id = e.ref_id
		  JOIN fl.grant_application g ON g.grant_id = x.grant_id
		  JOIN fl.posting p ON p.entry_id = e.entry_id
		  JOIN fl.account a ON a.account_id = p.account_id AND a.short = 'grants_disbursed'
		 WHERE e.fund_code = p_fund AND e.kind = 'disbursement'
		   AND p.amount > fl.refunded(x.disbursement_id)
		 ORDER BY e.entry_id
	LOOP
		v_need := d.amount;
		FOR i IN 1 .. coalesce(cardinality(c_ids), 0) LOOP
			EXIT WHEN v_need = 0;
			CONTINUE WHEN c_left[i] = 0 OR
			    (c_mark[i] IS NOT NULL AND c_mark[i] <> d.region);
			v_take := least(v_need, c_left[i]);
			c_left[i] := c_left[i] - v_take;
			v_need := v_need - v_take;
			contribution_id := c_ids[i];
			grant_id := d.grant_id;
			amount := v_take;
			RETURN NEXT;
		END LOOP;
	END LOOP;
END
$$;

-- The allocation kept (tables in migrations/0016_allocation.sql): fl.alloc_catch_up() brings
-- a fund's up to date with what fl.fifo_allocations() computes from scratch, at a cost that
-- follows what changes. Receipts and disbursements of pass-through funds queue their
-- entries (below); catching up takes what is queued and committed, under the fund's lock:
--
-- - New contributions: FIFO is unchanged for every contribution before the first new one
--   in (received_at, contribution_id) order, so only what the disbursements took from the
--   contributions from there on, or left unattributed, is undone and allocated again, in
--   entry order, among those contributions. A receipt dated after every contribution that
--   paid for something only takes over what was left unattributed.
-- - New disbursement entries: allocated in entry order after the ones allocated; one whose
--   entry comes before an allocated one (its transaction committed later) has the
--   allocations of the entries from it on undone and made again in entry order.
-- - New refunds: the refunded disbursement's entry and those after it are undone and made
--   again in entry order, each for what it paid less what was refunded of it, so what was
--   given back returns to the contributions it came from (and FIFO goes on from there).
--
-- The entries' transactions may commit in any order: what is queued and not yet committed
-- is taken by a later catch-up.

-- Queues the receipts, disbursements and refunds of pass-through funds among new journal
-- entries.
CREATE OR REPLACE FUNCTION fl.alloc_enqueue() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO fl.alloc_queue (fund_code, entry_id, kind, ref_id)
	SELECT n.fund_code, n.entry_id, n.kind, n.ref_id
	  FROM new_entries n JOIN fl.fund f ON f.code = n.fund_code
	 WHERE n.kind IN ('receipt', 'disbursement', 'refund') AND f.kind = 'pass_through'
	 ORDER BY n.entry_id;
	RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER journal_entry_alloc_queue AFTER INSERT ON fl.journal_entry
	REFERENCING NEW TABLE AS new_entries
	FOR EACH STATEMENT EXECUTE FUNCTION fl.alloc_enqueue();

-- Allocates the disbursement entries p_re[k] (grant p_rg[k], region p_rr[k], amount p_rn[k]),
-- in that order, to the fund's contributions with something left, first in first out, from
-- (p_at, p_id) on when p_id is given; what none covers is written unattributed. In memory:
-- the contributions are read in key order a chunk at a time, only as far as the entries
-- need, and each region's first contribution that may still pay only moves forward.
CREATE OR REPLACE FUNCTION fl.alloc_run(p_fund text, p_re bigint[], p_rg text[], p_rr text[],
    p_rn bigint[], p_at timestamptz DEFAULT NULL, p_id text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	c_chunk	constant int := 1000;
	-- the contributions read so far, in allocation order; c_was: left_over as read
	c_ids	text[] := '{}';
	c_mark	text[] := '{}';
	c_left	bigint[] := '{}';
	c_was	bigint[] := '{}';
	c_at	timestamptz[] := '{}';
	v_n	int := 0;
	v_more	boolean := true;
	v_got	int;
	-- per region, its first contribution that may still pay
	v_regs	text[] := '{}';
	v_ptrs	int[] := '{}';
	-- the allocations made
	o_e	bigint[] := '{}';
	o_g	text[] := '{}';
	o_r	text[] := '{}';
	o_c	text[] := '{}';
	o_a	bigint[] := '{}';
	x	record;
	k	int := 1;
	i	int;
	j	int;
	v_first	boolean;
	v_need	bigint;
	v_take	bigint;
BEGIN
	WHILE k <= coalesce(cardinality(p_re), 0) LOOP
		v_need := p_rn[k];
		j := array_position(v_regs, p_rr[k]);
		IF j IS NULL THEN
			v_regs := v_regs || p_rr[k];
			v_ptrs := v_ptrs || 1;
			j := cardinality(v_regs);
		END IF;
		i := v_ptrs[j];
		v_first := true;
		LOOP
			IF i > v_n AND v_more THEN
				-- the next chunk: from (p_at, p_id) at first, then after the last read
				WITH t AS (
					SELECT * FROM fl.alloc_contribution a
					 WHERE v_n = 0 AND a.fund_code = p_fund AND a.left_over > 0
					   AND (a.received_at, a.contribution_id) >=
					       (coalesce(p_at, '-infinity'), coalesce(p_id, ''))
					UNION ALL
					SELECT * FROM fl.alloc_contribution a
					 WHERE v_n > 0 AND a.fund_code = p_fund AND a.left_over > 0
					   AND (a.received_at, a.contribution_id) >
					       (c_at[v_n], c_ids[v_n])
					 ORDER BY received_at, contribution_id LIMIT c_chunk)
				SELECT array_agg(t.contribution_id ORDER BY t.received_at,
				    t.contribution_id) AS ids, array_agg(t.earmark_region ORDER BY
				    t.received_at, t.contribution_id) AS marks, array_agg(t.left_over
				    ORDER BY t.received_at, t.contribution_id) AS lefts,
				    array_agg(t.received_at ORDER BY t.received_at, t.contribution_id)
				    AS ats, count(*) AS n
				  INTO x FROM t;
				IF x.n > 0 THEN
					c_ids := c_ids || x.ids;
					c_mark := c_mark || x.marks;
					c_left := c_left || x.lefts;
					c_was := c_was || x.lefts;
					c_at := c_at || x.ats;
					v_n := v_n + x.n;
				END IF;
				v_more := x.n = c_chunk;
			END IF;
			EXIT WHEN i > v_n;
			IF c_left[i] > 0 AND (c_mark[i] IS NULL OR c_mark[i] = p_rr[k]) THEN
				IF v_first THEN
					-- all before it are spent or earmarked elsewhere, for good
					v_ptrs[j] := i;
					v_first := false;
				END IF;
				v_take := least(v_need, c_left[i]);
				c_left[i] := c_left[i] - v_take;
				v_need := v_need - v_take;
				o_e := o_e || p_re[k];
				o_g := o_g || p_rg[k];
				o_r := o_r || p_rr[k];
				o_c := o_c || c_ids[i];
				o_a := o_a || v_take;
				EXIT WHEN v_need = 0;
			END IF;
			i := i + 1;
		END LOOP;
		IF v_first THEN
			v_ptrs[j] := i;
		END IF;
		IF v_need > 0 THEN
			o_e := o_e || p_re[k];
			o_g := o_g || p_rg[k];
			o_r := o_r || p_rr[k];
			o_c := o_c || NULL::text;
			o_a := o_a || v_need;
		END IF;
		k := k + 1;
	END LOOP;
	INSERT INTO fl.allocation (fund_code, entry_id, grant_id, region, contribution_id,
	    amount)
	SELECT p_fund, u.e, u.g, u.r, u.c, u.a
	  FROM unnest(o_e, o_g, o_r, o_c, o_a) WITH ORDINALITY AS u(e, g, r, c, a, o)
	 ORDER BY u.o;
	UPDATE fl.alloc_contribution a SET left_over = u.l
	  FROM unnest(c_ids, c_left, c_was) AS u(id, l, w)
	 WHERE u.l <> u.w AND a.contribution_id = u.id;
END
$$;

-- Brings the allocation of pass-through fund p_fund up to date (see above), building it
-- from the journal on first use. SECURITY DEFINER: the daemon's role only queues. Custom
-- plans: the funds' queues and allocations differ in size by orders of magnitude.
CREATE OR REPLACE FUNCTION fl.alloc_catch_up(p_fund text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
	v_cids	text[];
	v_eids	bigint[];
	v_from	record;
	v_emin	bigint;
	v_rids	text[];
	-- entries to allocate (again), in entry order: entry, grant, region, amount
	v_re	bigint[];
	v_rg	text[];
	v_rr	text[];
	v_rn	bigint[];
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('fl.allocation'), hashtext(p_fund));
	IF NOT EXISTS (SELECT 1 FROM fl.alloc_fund WHERE fund_code = p_fund) THEN
		-- first use: everything in the journal is new (an entry queued meanwhile is
		-- found allocated when its turn comes)
		INSERT INTO fl.alloc_fund (fund_code) VALUES (p_fund);
		DELETE FROM fl.alloc_queue WHERE fund_code = p_fund;
		SELECT array_agg(source_id) INTO v_cids FROM fl.funding_source
		 WHERE fund_code = p_fund;
		SELECT array_agg(entry_id) INTO v_eids FROM fl.journal_entry
		 WHERE fund_code = p_fund AND kind = 'disbursement';
	ELSE
		WITH q AS (DELETE FROM fl.alloc_queue WHERE fund_code = p_fund
			   RETURNING kind, entry_id, ref_id)
		SELECT array_agg(ref_id) FILTER (WHERE kind = 'receipt'),
		    array_agg(entry_id) FILTER (WHERE kind = 'disbursement'),
		    array_agg(ref_id) FILTER (WHERE kind = 'refund')
		  INTO v_cids, v_eids, v_rids FROM q;
	END IF;

	-- new contributions, and the first of them in allocation order
	WITH ins AS (
		INSERT INTO fl.alloc_contribution (contribution_id, fund_code, received_at,
		    earmark_region, amount, left_over)
		SELECT c.source_id, c.fund_code, c.received_at, c.earmark_region,
		    c.fund_amount, c.fund_amount
		  FROM fl.funding_source c
		 WHERE c.source_id = ANY (v_cids) AND c.fund_code = p_fund
		ON CONFLICT (contribution_id) DO NOTHING
		RETURNING received_at, contribution_id)
	SELECT received_at AS at, contribution_id AS id INTO v_from FROM ins
	 ORDER BY received_at, contribution_id LIMIT 1;
	IF v_from.id IS NOT NULL THEN
		-- what went to the contributions from the first new one on, or to none, undone
		-- and allocated again among those contributions
		WITH gone AS (
			DELETE FROM fl.allocation l
			 WHERE l.fund_code = p_fund AND (l.contribution_id IS NULL OR
			       l.contribution_id IN (SELECT a.contribution_id
				 FROM fl.alloc_contribution a WHERE a.fund_code = p_fund
				  AND (a.received_at, a.contribution_id) >= (v_from.at, v_from.id)
				  AND a.left_over < a.amount))
			RETURNING l.entry_id, l.grant_id, l.region, l.amount)
		SELECT array_agg(entry_id ORDER BY entry_id), array_agg(grant_id ORDER BY entry_id),
		    array_agg(region ORDER BY entry_id), array_agg(need ORDER BY entry_id)
		  INTO v_re, v_rg, v_rr, v_rn
		  FROM (SELECT entry_id, grant_id, region, sum(amount)::bigint AS need FROM gone
			 GROUP BY entry_id, grant_id, region) t;
		UPDATE fl.alloc_contribution SET left_over = amount
		 WHERE fund_code = p_fund
		   AND (received_at, contribution_id) >= (v_from.at, v_from.id)
		   AND left_over < amount;
		PERFORM fl.alloc_run(p_fund, v_re, v_rg, v_rr, v_rn, v_from.at, v_from.id);
	END IF;

	-- new disbursement entries, not allocated yet, and the entries of disbursements with new
	-- refunds
	SELECT min(e.entry_id) INTO v_emin FROM fl.journal_entry e
	 WHERE e.entry_id = ANY (v_eids) AND e.fund_code = p_fund AND e.kind = 'disbursement'
	   AND NOT EXISTS (SELECT 1 FROM fl.allocation l WHERE l.fund_code = p_fund
			    AND l.entry_id = e.entry_id);
	SELECT least(v_emin, min(e.entry_id)) INTO v_emin
	  FROM fl.refund r JOIN fl.journal_entry e ON e.kind = 'disbursement'
	   AND e.ref_id = r.disbursement_id AND e.fund_code = p_fund
	 WHERE r.refund_id = ANY (v_rids);
	IF v_emin IS NULL THEN
		RETURN;
	END IF;
	-- the entries from the first of those on: those allocated before undone (what they
	-- took given back), then all allocated again in entry order, each for what it paid
	-- less what was refunded of it
	WITH gone AS (
		DELETE FROM fl.allocation l WHERE l.fund_code = p_fund AND l.entry_id >= v_emin
		RETURNING l.entry_id, l.contribution_id, l.amount),
	back AS (
		UPDATE fl.alloc_contribution a SET left_over = a.left_over + g.amount
		  FROM (SELECT contribution_id, sum(amount) AS amount FROM gone
			 WHERE contribution_id IS NOT NULL GROUP BY contribution_id) g
		 WHERE a.contribution_id = g.contribution_id)
	SELECT array_agg(entry_id ORDER BY entry_id), array_agg(grant_id ORDER BY entry_id),
	    array_agg(region ORDER BY entry_id), array_agg(need ORDER BY entry_id)
	  INTO v_re, v_rg, v_rr, v_rn
	  FROM (SELECT e.entry_id, x.grant_id, g.region,
		    p.amount - fl.refunded(x.disbursement_id) AS need
		  FROM fl.journal_entry e
		  JOIN fl.disbursement x ON x.disbursement_id = e.ref_id
		  JOIN fl.grant_application g ON g.grant_id = x.grant_id
		  JOIN fl.posting p ON p.entry_id = e.entry_id
		  JOIN fl.account a ON a.account_id = p.account_id
		   AND a.short = 'grants_disbursed'
		 WHERE e.fund_code = p_fund AND e.kind = 'disbursement'
		   AND (e.entry_id IN (SELECT entry_id FROM gone) OR
			(e.entry_id = ANY (v_eids) AND NOT EXISTS (SELECT 1 FROM fl.allocation l
			  WHERE l.fund_code = p_fund AND l.entry_id = e.entry_id)))) t
	 WHERE need > 0;
	PERFORM fl.alloc_run(p_fund, v_re, v_rg, v_rr, v_rn);
END
$$;

-- Housekeeping (the daemon, every few seconds): brings up to date the allocation of every
-- fund that has one and has entries queued, each fund on its own and in code order (two
-- daemons lock funds in the same order), so that a fund's queue holds a few seconds of
-- entries, not everything since its last contribution.status. A fund whose allocation was
-- never built waits for its first contribution.status, which builds it from the journal and
-- drops its queue. A fund whose catch-up fails is reported and the others caught up all
-- the same. Returns how many funds it caught up.
CREATE OR REPLACE FUNCTION fl.alloc_catch_up_all() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_code	text;
	v_n	bigint := 0;
BEGIN
	-- (a probe of the queue per fund allocated: the queue may be long with the entries
	-- of funds whose allocation was never built)
	FOR v_code IN SELECT f.fund_code FROM fl.alloc_fund f
	    WHERE EXISTS (SELECT 1 FROM fl.alloc_queue q WHERE q.fund_code = f.fund_code)
	    ORDER BY 1 LOOP
		BEGIN
			PERFORM fl.alloc_catch_up(v_code);
			v_n := v_n + 1;
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'fund %: bringing its allocation up to date breaks: % (%)',
			    v_code, SQLERRM, SQLSTATE;
		END;
	END LOOP;
	RETURN v_n;
END
$$;

-- What contribution p_id of pass-through fund p_fund paid for, per grant, in the order of
-- the grants' first disbursements; the fund's allocation brought up to date first, when
-- anything is queued (else a plain read, which takes no lock: a catch-up in progress has its
-- queue rows still there until it commits).
CREATE OR REPLACE FUNCTION fl.contribution_allocations(p_id text, p_fund text)
RETURNS TABLE (grant_id text, amount bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	-- (the queue's first row in its index's order: an index scan in any plan)
	IF (SELECT q.queue_id FROM fl.alloc_queue q WHERE q.fund_code = p_fund
	    ORDER BY q.fund_code, q.queue_id LIMIT 1) IS NOT NULL OR
	    NOT EXISTS (SELECT 1 FROM fl.alloc_fund f WHERE f.fund_code = p_fund) THEN
		PERFORM fl.alloc_catch_up(p_fund);
	END IF;
	-- the contribution's sources: itself, or its pledge receipts (an array, so that the
	-- allocation is read by its index)
	RETURN QUERY SELECT l.grant_id, sum(l.amount)::bigint FROM fl.allocation l
	  WHERE l.contribution_id = ANY (p_id || ARRAY(SELECT r.receipt_id
	    FROM fl.pledge_receipt r WHERE r.contribution_id = p_id))
	  GROUP BY l.grant_id ORDER BY min(l.entry_id);
END
$$;

-- contribution.status: the contribution, what it used and what is left, and the grants it
-- paid for. Another partner's contribution is refused before anything is computed, with the
-- answer api.call() gives (docs/ledger.md, Partner scoping).
CREATE OR REPLACE FUNCTION api.contribution_status(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	c	fl.contribution := fl.contribution_get(params->>'contribution_id', false);
	f	fl.fund;
	m	int;
	v_alloc	jsonb := '[]';
	v_used	bigint := 0;
	-- what of it was received, in the fund's currency (a pledge's receipts)
	v_got	bigint := c.fund_amount;
BEGIN
	IF 'partner' = ANY (p.roles) AND NOT (p.roles && ARRAY['admin', 'auditor']) AND
	    c.partner_id IS DISTINCT FROM p.partner_id THEN
		PERFORM fl.rpc_error(-32004, 'contribution_not_found', 'contribution_id');
	END IF;
	f := fl.fund_get(c.fund_code, 'fund');
	m := fl.minor(f.currency);
	IF c.pledged_at IS NOT NULL THEN
		SELECT coalesce(sum(fund_amount), 0) INTO v_got FROM fl.pledge_receipt
		 WHERE contribution_id = c.contribution_id;
	END IF;
	IF v_got > 0 AND f.kind = 'pass_through' THEN
		SELECT coalesce(jsonb_agg(jsonb_build_object('grant_id', a.grant_id,
		    'region', r.region, 'region_code', r.region_code, 'category', g.category,
		    'amount', fl.money_out(a.amount, m)) ORDER BY a.ord), '[]'),
		    coalesce(sum(a.amount), 0)
		  INTO v_alloc, v_used
		  FROM fl.contribution_allocations(c.contribution_id, f.code)
		       WITH ORDINALITY AS a(grant_id, amount, ord)
		  JOIN fl.grant_application g ON g.grant_id = a.grant_id
		  JOIN fl.region r ON r.region_code = g.region;
	ELSIF v_got > 0 THEN
		-- an endowment's capital is kept: the donor's view is of its earnings share
		RETURN fl.contribution_json(c, f) || fl.endowment_status(c, f, v_got);
	END IF;
	RETURN fl.contribution_json(c, f) || jsonb_build_object(
	    'used', fl.money_out(v_used, m),
	    'unused', fl.money_out(CASE WHEN v_got > 0 THEN v_got - v_used ELSE 0 END, m),
	    'allocations', v_alloc);
END
$$;

-- The set form of direct receipts ----------------------------------------------------------

-- Writes the receipts p_params[1..n] (none with contribution_id) as api.call() would one
-- by one, each by the principal of p_token[k] (or else p_cert[k]), method roles
-- p_roles[k], idempotency key p_idem[k], with one statement per table (docs/batching.md,
-- One statement per batch). Returns api.call()'s answer for each, in order, or NULL having
-- written nothing; api.call_many() then runs the calls one by one.
CREATE OR REPLACE FUNCTION fl.receive_bulk(p_token bytea[], p_cert bytea[], p_roles text[],
    p_params jsonb[], p_idem text[]) RETURNS jsonb[]
LANGUAGE plpgsql AS $$
DECLARE
	v_n	int := cardinality(p_params);
	v_f	fl.fund;
	c	fl.contribution;
	v_ps	fl.principal[];
	v_pids	text[];
	v_ids	text[];
	v_hash	bytea[];
	v_fs	fl.fund[];
	v_cs	fl.contribution[];
	v_res	jsonb[];
	v_funds	text[];
	v_amts	bigint[];
	v_ats	timestamptz[];
	k	int;
BEGIN
	v_ps := fl.bulk_callers(p_token, p_cert, p_roles);
	IF v_ps IS NULL THEN
		RETURN NULL;
	END IF;
	FOR k IN 1..v_n LOOP
		v_pids[k] := (v_ps[k]).principal_id;
		v_hash[k] := sha256(convert_to('contribution.receive ' || p_params[k]::text,
		    'UTF8'));
	END LOOP;
	BEGIN
		IF NOT fl.bulk_claim_keys(v_pids, p_idem) THEN
			RAISE EXCEPTION USING ERRCODE = 'FLERR', MESSAGE = 'a key was used before';
		END IF;
		-- each receipt as api.contribution_receive() makes it (any error: FLERR)
		FOR k IN 1..v_n LOOP
			IF NOT p_params[k] ?& ARRAY['partner_id', 'fund', 'amount', 'currency'] THEN
				RAISE EXCEPTION USING ERRCODE = 'FLERR', MESSAGE = 'a param is missing';
			END IF;
			IF p_params[k] ? 'fee' THEN	-- the fee's entry is api.contribution_receive()'s
				RAISE EXCEPTION USING ERRCODE = 'FLERR', MESSAGE = 'a receipt has a fee';
			END IF;
			IF v_f.code IS DISTINCT FROM p_params[k]->>'fund' THEN
				v_f := fl.fund_get(p_params[k]->>'fund', 'fund');
			END IF;
			c := fl.contribution_new(v_ps[k], p_params[k], v_f, 'received');
			c.received_at := fl.received_at_in(p_params[k]);
			c.bank_ref := p_params[k]->>'bank_ref';
			c.contribution_id := fl.new_id('co');	-- the column's default
			v_ids[k] := c.contribution_id;
			v_funds[k] := c.fund_code;
			v_amts[k] := c.fund_amount;
			v_ats[k] := c.received_at;
			v_cs[k] := c;
			v_fs[k] := v_f;
		END LOOP;
		WITH ins AS (
			INSERT INTO fl.contribution (contribution_id, partner_id, fund_code, status,
			    amount, currency, fx_rate, fund_amount, earmark_region, pledged_at,
			    received_at, bank_ref, created_by)
			SELECT x.contribution_id, x.partner_id, x.fund_code, x.status, x.amount,
			    x.currency, x.fx_rate, x.fund_amount, x.earmark_region, x.pledged_at,
			    x.received_at, x.bank_ref, x.created_by
			  FROM unnest(v_cs) WITH ORDINALITY AS x
			 ORDER BY x.ordinality
			RETURNING *)
		SELECT array_agg(ins ORDER BY array_position(v_ids, ins.contribution_id))
		  INTO v_cs FROM ins;
		-- each one's journal entry, as api.contribution_receive() posts it
		PERFORM fl.post_many('receipt', 'receipt ', v_funds, v_ids, v_pids, 'cash',
		    'contributions', v_amts, v_ats);
		FOR k IN 1..v_n LOOP
			v_res[k] := fl.contribution_json(v_cs[k], v_fs[k]);
		END LOOP;
		v_res := fl.bulk_record('contribution.receive', v_pids, p_idem, v_hash, v_res);
		-- the entries' checks deferred to commit, now (see api.call())
		SET CONSTRAINTS ALL IMMEDIATE;
		SET CONSTRAINTS ALL DEFERRED;
	EXCEPTION WHEN SQLSTATE 'FLERR' THEN
		RETURN NULL;
	END;
	RETURN v_res;
END
$$;
