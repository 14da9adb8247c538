-- The journal: what guards journal entries and postings, the fund balance deltas that
-- postings append, fl.post() and fl.post_many() that write entries, ledger.* and the ledger
-- export. The design, the chart of accounts and a worked example are in docs/ledger.md.

-- Guards -----------------------------------------------------------------------------------

-- Journal entries, postings and accounts are never updated, deleted or truncated.
CREATE OR REPLACE TRIGGER journal_entry_append_only BEFORE UPDATE OR DELETE ON fl.journal_entry
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER journal_entry_no_truncate BEFORE TRUNCATE ON fl.journal_entry
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER posting_append_only BEFORE UPDATE OR DELETE ON fl.posting
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER posting_no_truncate BEFORE TRUNCATE ON fl.posting
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER account_append_only BEFORE UPDATE OR DELETE ON fl.account
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER account_no_truncate BEFORE TRUNCATE ON fl.account
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

-- A posting joins an entry of its own transaction only, in its account's currency: what
-- foreign keys on fl.posting would check, once per statement over all the postings it
-- inserted. And none joins an entry whose check (fl.entry_commit) already ran, say after
-- SET CONSTRAINTS ALL IMMEDIATE: that check records the highest entry it passed in the
-- transaction's setting fl.entry_checked, and entry ids grow.
CREATE OR REPLACE FUNCTION fl.posting_guard_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v	record;
	v_checked bigint := coalesce(nullif(current_setting('fl.entry_checked', true), ''),
	    '0')::bigint;
BEGIN
	IF v_checked > 0 THEN
		SELECT n.entry_id INTO v FROM new_postings n WHERE n.entry_id <= v_checked LIMIT 1;
		IF FOUND THEN
			RAISE EXCEPTION 'posting added to journal entry % after its balance check',
			    v.entry_id;
		END IF;
	END IF;
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
CREATE OR REPLACE TRIGGER posting_guard AFTER INSERT ON fl.posting
	REFERENCING NEW TABLE AS new_postings
	FOR EACH STATEMENT EXECUTE FUNCTION fl.posting_guard_rows();

-- A fund's figures as fl.fund_total_check() weighs them: received plus earnings plus
-- transferred in (all the money that came in), pledged, committed, disbursed, in numeric:
-- its row plus every balance delta this transaction sees (committed, and its own).
CREATE OR REPLACE FUNCTION fl.fund_totals(p_fund text) RETURNS numeric[]
LANGUAGE plpgsql AS $$
DECLARE
	v	numeric[];
BEGIN
	SELECT ARRAY[f.received::numeric + f.earnings + f.transferred_in	-- (+ transfers)
	        + coalesce(sum(d.received::numeric + d.earnings + d.transferred_in), 0),
	        f.pledged + coalesce(sum(d.pledged::numeric), 0),
	        f.committed + coalesce(sum(d.committed::numeric), 0),
	        f.disbursed + coalesce(sum(d.disbursed::numeric), 0)]
	  INTO v
	  FROM fl.fund f LEFT JOIN fl.fund_delta d ON d.fund_code = f.code
	 WHERE f.code = p_fund
	 GROUP BY f.code;
	RETURN v;
END
$$;

-- Totals (docs/ledger.md, Totals): no call may take a fund's figure (received plus earnings,
-- pledged, committed, disbursed) past what bigint holds, however many calls share its
-- transaction and however many transactions write to the fund at once. p_*: what the
-- statement being written adds to each; -32602 total_limit (field amount) when a figure would
-- pass the limit. Figures far from the limit take the fast way: a shared lock of the fund's
-- totals, held to the end of the transaction, and a check that the committed figure plus
-- what this transaction adds stays within half the limit, and what it adds within that half
-- shared out among every transaction there can be (max_connections plus prepared ones): the
-- transactions in flight then add at most the other half. Near the limit the lock is taken
-- exclusively, which waits for every writer in flight, and the check is exact. Each query
-- here takes a snapshot of its own (READ COMMITTED), so it sees what committed before. What
-- the transaction adds to each fund is kept in the transaction's setting fl.own_totals,
-- which a call rolled back in its block takes back with it.
CREATE OR REPLACE FUNCTION fl.fund_total_check(p_fund text, p_re numeric, p_pled numeric,
    p_comm numeric, p_disb numeric) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	c_max	constant numeric := 9223372036854775807;
	v_share	numeric := floor(c_max / 2 / (current_setting('max_connections')::numeric
	    + current_setting('max_prepared_transactions')::numeric));
	v_add	numeric[] := ARRAY[p_re, p_pled, p_comm, p_disb];
	v_owns	jsonb := coalesce(nullif(current_setting('fl.own_totals', true), ''), '{}');
	v_own	numeric[];
	v_all	numeric[];
	v_fast	boolean := true;
	i	int;
BEGIN
	SELECT coalesce(array_agg(x::numeric), ARRAY[0, 0, 0, 0]) INTO v_own
	  FROM jsonb_array_elements_text(v_owns->p_fund) x;
	IF p_re > 0 OR p_pled > 0 OR p_comm > 0 OR p_disb > 0 THEN
		PERFORM pg_advisory_xact_lock_shared(hashtext('fl.fund_total'), hashtext(p_fund));
		v_all := fl.fund_totals(p_fund);
	ELSE
		v_all := ARRAY[0, 0, 0, 0];	-- adds nothing: only noted below
	END IF;
	FOR i IN 1..4 LOOP
		-- committed, plus what this transaction adds in all
		IF v_add[i] > 0 AND (v_all[i] - v_own[i] + greatest(v_own[i] + v_add[i], 0)
		    > c_max / 2 OR v_own[i] + v_add[i] > v_share) THEN
			v_fast := false;
		END IF;
	END LOOP;
	IF NOT v_fast THEN
		PERFORM pg_advisory_xact_lock(hashtext('fl.fund_total'), hashtext(p_fund));
		v_all := fl.fund_totals(p_fund);
		FOR i IN 1..4 LOOP
			IF v_add[i] > 0 AND v_all[i] + v_add[i] > c_max THEN
				PERFORM fl.rpc_error(-32602, 'total_limit', 'amount',
				    'a total of the fund would pass what the books can hold');
			END IF;
		END LOOP;
	END IF;
	PERFORM set_config('fl.own_totals', jsonb_set(v_owns, ARRAY[p_fund], to_jsonb(ARRAY[
	    v_own[1] + v_add[1], v_own[2] + v_add[2], v_own[3] + v_add[3],
	    v_own[4] + v_add[4]]))::text, true);
END
$$;

-- Each INSERT of postings appends one fl.fund_delta row per fund and hour of value date
-- (UTC) it moves: the sums of its postings to the fund's contributions, earnings,
-- pledges_receivable, commitments, grants_disbursed, transfers_in and transfers_out,
-- bank_charges with investment_losses (charges) and capital_impaired accounts
-- (docs/ledger.md, Balances), once fl.fund_total_check() has found room for the fund's
-- sums. It appends a delta instead of updating the fund row, so writers never wait on the
-- row's lock; and one per statement, not per entry, so a set form's whole run appends one
-- row per fund and hour. Postings are never updated or deleted and join only entries of
-- their own transaction: a transaction's deltas sum to what its entries move. The sums are
-- numeric until checked: a statement's may pass what bigint holds.
CREATE OR REPLACE FUNCTION fl.posting_fund_delta() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	d	record;
BEGIN
	FOR d IN SELECT g.*,
		    row_number() OVER w AS k,
		    sum(g.rec + g.earn + g.tin) OVER w AS f_re, sum(g.pled) OVER w AS f_pled,
		    sum(g.comm) OVER w AS f_comm, sum(g.disb) OVER w AS f_disb
		  FROM (SELECT e.fund_code, (e.value_at AT TIME ZONE 'UTC')::date AS day,
		    extract(hour FROM e.value_at AT TIME ZONE 'UTC')::smallint AS hour,
		    coalesce(-sum(n.amount) FILTER (WHERE a.short = 'contributions'), 0) AS rec,
		    coalesce(-sum(n.amount) FILTER (WHERE a.short = 'earnings'), 0) AS earn,
		    coalesce(sum(n.amount) FILTER (WHERE a.short = 'pledges_receivable'), 0)
			AS pled,
		    coalesce(-sum(n.amount) FILTER (WHERE a.short = 'commitments'), 0) AS comm,
		    coalesce(sum(n.amount) FILTER (WHERE a.short = 'grants_disbursed'), 0)
			AS disb,
		    -- transfers between funds
		    coalesce(-sum(n.amount) FILTER (WHERE a.short = 'transfers_in'), 0) AS tin,
		    coalesce(sum(n.amount) FILTER (WHERE a.short = 'transfers_out'), 0) AS tout,
		    -- fees and losses: charges met from income, impaired from capital
		    coalesce(sum(n.amount) FILTER (WHERE a.short IN ('bank_charges',
			'investment_losses')), 0) AS chg,
		    coalesce(sum(n.amount) FILTER (WHERE a.short = 'capital_impaired'), 0)
			AS imp
		  FROM new_postings n
		  JOIN fl.account a ON a.account_id = n.account_id
		  JOIN fl.journal_entry e ON e.entry_id = n.entry_id
		 WHERE e.fund_code IS NOT NULL
		 GROUP BY 1, 2, 3) g
		WINDOW w AS (PARTITION BY g.fund_code ORDER BY g.day, g.hour
		    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
		ORDER BY g.fund_code, g.day, g.hour
	LOOP
		IF d.k = 1 AND (d.f_re <> 0 OR d.f_pled <> 0 OR d.f_comm <> 0 OR d.f_disb <> 0)
		THEN	-- once per fund, its sums over every day
			PERFORM fl.fund_total_check(d.fund_code, d.f_re, d.f_pled, d.f_comm,
			    d.f_disb);
		END IF;
		CONTINUE WHEN d.rec = 0 AND d.earn = 0 AND d.pled = 0 AND d.comm = 0 AND d.disb = 0
		    AND d.tin = 0 AND d.tout = 0 AND d.chg = 0 AND d.imp = 0;
		INSERT INTO fl.fund_delta (fund_code, day, hour, received, earnings, pledged,
		    committed, disbursed, transferred_in, transferred_out, charges, impaired)
		VALUES (d.fund_code, d.day, d.hour, d.rec, d.earn, d.pled, d.comm, d.disb, d.tin, d.tout,
		    d.chg, d.imp);
	END LOOP;
	RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER posting_fund_delta AFTER INSERT ON fl.posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION fl.posting_fund_delta();

-- Deferred: each journal entry, at the end of the call that wrote it or at commit, has at
-- least two postings and a zero sum in each currency. The one-currency case is a plain
-- comparison and the grouped subquery runs only for an entry in several currencies (no
-- method writes one): one IF holding both would be planned again for every entry.
-- SECURITY DEFINER: a check left to COMMIT runs as the session's role, and the daemon's
-- may not read fl.posting.
CREATE OR REPLACE FUNCTION fl.entry_commit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	-- scalars, not a record: an expression reading a record's fields is planned again
	-- on every call
	v_n	bigint;
	v_lo	text;
	v_hi	text;
	v_total	numeric;
BEGIN
	SELECT count(*), min(p.currency), max(p.currency), sum(p.amount)
	  INTO v_n, v_lo, v_hi, v_total
	  FROM fl.posting p
	 WHERE p.entry_id = NEW.entry_id;
	IF v_n < 2 THEN
		RAISE EXCEPTION 'journal entry % has % postings', NEW.entry_id, v_n;
	END IF;
	IF v_lo = v_hi THEN
		IF v_total <> 0 THEN
			RAISE EXCEPTION 'journal entry % does not balance in every currency',
			    NEW.entry_id;
		END IF;
	ELSIF EXISTS (SELECT 1 FROM fl.posting WHERE entry_id = NEW.entry_id
	     GROUP BY currency HAVING sum(amount) <> 0) THEN
		RAISE EXCEPTION 'journal entry % does not balance in every currency', NEW.entry_id;
	END IF;
	-- no posting may join the entry now (fl.posting_guard_rows)
	PERFORM set_config('fl.entry_checked', greatest(NEW.entry_id, coalesce(nullif(
	    current_setting('fl.entry_checked', true), ''), '0')::bigint)::text, true);
	RETURN NULL;
END
$$;

-- A constraint trigger has no OR REPLACE: dropped and created again.
DROP TRIGGER IF EXISTS journal_entry_commit ON fl.journal_entry;
CREATE CONSTRAINT TRIGGER journal_entry_commit AFTER INSERT ON fl.journal_entry
	DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION fl.entry_commit();

-- Writing entries --------------------------------------------------------------------------

-- One journal entry for a fund with its postings, in one statement: p_amounts[i] (signed:
-- debit positive) to the fund's account p_accounts[i] (a short name), in the fund's
-- currency, with value date p_value_at (NULL: now). Returns the entry's id.
CREATE OR REPLACE FUNCTION fl.post(p_fund fl.fund, p_kind text, p_memo text, p_ref text,
    p_principal text, p_accounts text[], p_amounts bigint[],
    p_value_at timestamptz DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_entry	bigint;
	v_n	bigint;
BEGIN
	WITH e AS (
		INSERT INTO fl.journal_entry (kind, memo, fund_code, ref_id, principal_id, value_at)
		VALUES (p_kind, p_memo, p_fund.code, p_ref, p_principal, coalesce(p_value_at, now()))
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

-- One journal entry per k, in the order of k, as fl.post() writes each: kind p_kind, memo
-- p_memo || p_refs[k], fund p_funds[k], ref_id p_refs[k], by p_pids[k], posting
-- p_amounts[k] to the fund's account p_debit and -p_amounts[k] to p_credit, value date
-- p_values[k] (p_values NULL, or an element NULL: now). For the set forms: one INSERT of
-- entries and one of postings for the whole run.
CREATE OR REPLACE FUNCTION fl.post_many(p_kind text, p_memo text, p_funds text[], p_refs text[],
    p_pids text[], p_debit text, p_credit text, p_amounts bigint[],
    p_values timestamptz[] DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_n	bigint;
BEGIN
	WITH x AS (
		SELECT * FROM unnest(p_funds, p_refs, p_pids, p_amounts)
		    WITH ORDINALITY AS u(fund, ref, pid, amount, o)),
	e AS (
		INSERT INTO fl.journal_entry (kind, memo, fund_code, ref_id, principal_id,
		    value_at)
		SELECT p_kind, p_memo || x.ref, x.fund, x.ref, x.pid,
		    coalesce(p_values[x.o], now()) FROM x ORDER BY x.o
		RETURNING entry_id, ref_id),
	p AS (
		INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency)
		SELECT e.entry_id, s.i, a.account_id, s.sign * x.amount, a.currency
		  FROM e
		  JOIN x ON x.ref = e.ref_id
		 CROSS JOIN (VALUES (1::smallint, p_debit, 1), (2::smallint, p_credit, -1))
		       AS s(i, short, sign)
		  JOIN fl.account a ON a.fund_code = x.fund AND a.short = s.short
		RETURNING 1)
	SELECT count(*) INTO v_n FROM p;
	IF v_n <> 2 * cardinality(p_refs) THEN
		RAISE EXCEPTION 'a fund of % lacks an account of {%,%}', p_refs, p_debit, p_credit;
	END IF;
END
$$;

-- ledger.* ---------------------------------------------------------------------------------

-- A journal entry's id as the protocol writes it.
CREATE OR REPLACE FUNCTION fl.entry_ref(p_entry bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN 'je_' || p_entry;
END
$$;

-- A journal entry with its postings, as ledger.entries answers it.
CREATE OR REPLACE FUNCTION fl.entry_json(e fl.journal_entry) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('entry_id', fl.entry_ref(e.entry_id), 'at', fl.ts(e.at),
	    'value_date', fl.ts(e.value_at), 'kind', e.kind, 'memo', e.memo, 'fund', e.fund_code,
	    'postings', (SELECT jsonb_agg(jsonb_build_object('account', a.name,
	        'amount', fl.money_out(p.amount, fl.minor(p.currency)),
	        'currency', p.currency) ORDER BY p.seq)
	      FROM fl.posting p JOIN fl.account a USING (account_id)
	     WHERE p.entry_id = e.entry_id));
END
$$;

-- Whether a reading selects by recording time (params.basis 'recorded') rather than by value
-- date ('value', the default): docs/ledger.md, Value dates.
CREATE OR REPLACE FUNCTION fl.basis_recorded(params jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN coalesce(params->>'basis' = 'recorded', false);
END
$$;

-- ledger.entries: the journal in entry order, optionally with value dates (or, by basis
-- 'recorded', recording times) within [from, to) and touching one account.
CREATE OR REPLACE FUNCTION api.ledger_entries(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
	v_from	timestamptz := fl.time_in(params->>'from');
	v_to	timestamptz := fl.time_in(params->>'to');
	v_rec	boolean := fl.basis_recorded(params);
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
	           AND (v_from IS NULL OR (v_rec AND e.at >= v_from)
	                OR (NOT v_rec AND e.value_at >= v_from))
	           AND (v_to IS NULL OR (v_rec AND e.at < v_to)
	                OR (NOT v_rec AND e.value_at < v_to))
	           AND (v_acct IS NULL OR EXISTS (SELECT 1 FROM fl.posting x
	                WHERE x.entry_id = e.entry_id AND x.account_id = v_acct))
	         ORDER BY e.entry_id LIMIT v_lim + 1) t), v_lim);
END
$$;

-- ledger.trial_balance: per account, the net balance before the period (opening), its
-- debit and credit turnover in the period and the net balance at its end (closing), by
-- value date (or, by basis 'recorded', recording time). The period is everything up to
-- as_of (inclusive), or [from, to), either bound optional. Optionally of one fund; the
-- accounts shown are those of one currency (the one named, the fund's, or the only one
-- there is) or, when there are several, all of them. Totals per currency, of the selection
-- but for the currency: six columns, opening, turnover and closing, each on the debit and
-- the credit side. Every sum is numeric: it may pass what bigint holds (docs/ledger.md,
-- Totals). Net balances are signed, debit positive.
CREATE OR REPLACE FUNCTION api.ledger_trial_balance(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_asof	timestamptz := fl.time_in(params->>'as_of');
	v_from	timestamptz := fl.time_in(params->>'from');
	v_to	timestamptz := fl.time_in(params->>'to');
	v_rec	boolean := fl.basis_recorded(params);
	v_cur	text := params->>'currency';
	v_fund	fl.fund;
	v_all	jsonb;
	v_tot	jsonb;
	v_n	int;
BEGIN
	IF v_asof IS NOT NULL AND v_from IS NOT NULL THEN
		PERFORM fl.rpc_error(-32602, 'not_with_as_of', 'from',
		    'as_of and a range (from, to) are alternatives');
	END IF;
	IF v_asof IS NOT NULL AND v_to IS NOT NULL THEN
		PERFORM fl.rpc_error(-32602, 'not_with_as_of', 'to',
		    'as_of and a range (from, to) are alternatives');
	END IF;
	IF v_to < v_from THEN
		PERFORM fl.rpc_error(-32602, 'to_before_from', 'to');
	END IF;
	IF params->>'fund' IS NOT NULL THEN
		v_fund := fl.fund_get(params->>'fund', 'fund');
	END IF;
	-- each account's opening balance and turnovers, in minor units
	SELECT coalesce(jsonb_agg(jsonb_build_object('account', name, 'fund', fund_code,
	    'currency', currency, 'o', o, 'd', d, 'c', c) ORDER BY name), '[]')
	  INTO v_all
	  FROM (SELECT a.name, a.fund_code, a.currency,
	            coalesce(sum(po.amount) FILTER (WHERE w < v_from), 0) AS o,
	            coalesce(sum(po.amount) FILTER (WHERE po.amount > 0
	                AND (v_from IS NULL OR w >= v_from)), 0) AS d,
	            coalesce(-sum(po.amount) FILTER (WHERE po.amount < 0
	                AND (v_from IS NULL OR w >= v_from)), 0) AS c
	          FROM fl.posting po JOIN fl.account a USING (account_id)
	          JOIN fl.journal_entry e USING (entry_id)
	          CROSS JOIN LATERAL (SELECT CASE WHEN v_rec THEN e.at ELSE e.value_at END
	              AS w) x
	         WHERE (v_asof IS NULL OR w <= v_asof) AND (v_to IS NULL OR w < v_to)
	           AND (v_fund.code IS NULL OR a.fund_code = v_fund.code)
	         GROUP BY a.name, a.fund_code, a.currency) t;
	SELECT coalesce(jsonb_agg(jsonb_build_object('currency', cur,
	    'opening_debit', fl.total_out(od, m), 'opening_credit', fl.total_out(oc, m),
	    'debit', fl.total_out(d, m), 'credit', fl.total_out(c, m),
	    'closing_debit', fl.total_out(cd, m), 'closing_credit', fl.total_out(cc, m))
	    ORDER BY cur), '[]')
	  INTO v_tot
	  FROM (SELECT cur, fl.minor(cur) AS m,
	            sum(greatest(o, 0)) AS od, sum(greatest(-o, 0)) AS oc, sum(d) AS d,
	            sum(c) AS c, sum(greatest(o + d - c, 0)) AS cd,
	            sum(greatest(c - d - o, 0)) AS cc
	          FROM (SELECT x->>'currency' AS cur, (x->>'o')::numeric AS o,
	                    (x->>'d')::numeric AS d, (x->>'c')::numeric AS c
	                  FROM jsonb_array_elements(v_all) x) y
	         GROUP BY cur) s;
	v_cur := coalesce(v_cur, v_fund.currency);
	IF v_cur IS NULL THEN
		SELECT count(*), min(x->>'currency') INTO v_n, v_cur
		  FROM jsonb_array_elements(v_tot) x;
		IF v_n > 1 THEN
			v_cur := NULL;
		END IF;
	END IF;
	RETURN jsonb_build_object('currency', v_cur,
	    'accounts', (SELECT coalesce(jsonb_agg(jsonb_build_object('account',
	        x->>'account', 'fund', x->>'fund', 'currency', x->>'currency',
	        'opening', fl.total_out(o, m), 'debit', fl.total_out(d, m),
	        'credit', fl.total_out(c, m), 'closing', fl.total_out(o + d - c, m))
	        ORDER BY x->>'account'), '[]')
	      FROM jsonb_array_elements(v_all) x
	      CROSS JOIN LATERAL (SELECT (x->>'o')::numeric AS o, (x->>'d')::numeric AS d,
	          (x->>'c')::numeric AS c, fl.minor(x->>'currency') AS m) y
	     WHERE v_cur IS NULL OR x->>'currency' = v_cur),
	    'totals', CASE WHEN v_cur IS NULL AND jsonb_array_length(v_tot) > 1 THEN 'null'
	        ELSE coalesce((SELECT x - 'currency' FROM jsonb_array_elements(v_tot) x
	        WHERE x->>'currency' = v_cur), (SELECT jsonb_object_agg(k,
	        fl.money_out(0, coalesce(fl.minor(v_cur), 2))) FROM unnest(ARRAY[
	        'opening_debit', 'opening_credit', 'debit', 'credit', 'closing_debit',
	        'closing_credit']) k)) END,
	    'totals_by_currency', v_tot);
END
$$;

-- The ledger export (GET /export/ledger): one row per posting, formatted inline (no
-- per-row function calls: this streams millions of rows). numeric is exact decimal. line is
-- the row as the CSV export serves it (RFC 4180: a field with a quote, a comma, a CR or a LF,
-- or an empty one, is quoted, quotes doubled; a null is an empty field), without its CRLF:
-- the export and the digest of a closed period (fl.ledger_export_digest) both read it, so
-- the bytes served and the bytes a close signs are one definition. Only memo is free text;
-- the other fields are ids, codes, names of the form CODE:short, decimals and times.
CREATE OR REPLACE VIEW fl.ledger_export AS
SELECT e.entry_id, p.seq, e.at AS at_ts,
       'je_' || e.entry_id AS entry,
       to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
       e.kind, e.fund_code AS fund, a.name AS account, p.currency,
       round(p.amount::numeric / (10::numeric ^ c.minor_unit), c.minor_unit)::text AS amount,
       e.memo,
       e.value_at AS value_ts,
       to_char(e.value_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS value_date,
       'je_' || e.entry_id || ',' ||
       to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || ',' ||
       e.kind || ',' || coalesce(e.fund_code, '') || ',' || a.name || ',' || p.currency ||
       ',' || round(p.amount::numeric / (10::numeric ^ c.minor_unit), c.minor_unit)::text ||
       ',' || CASE WHEN e.memo = '' OR e.memo ~ '[",\r\n]'
	    THEN '"' || replace(e.memo, '"', '""') || '"' ELSE e.memo END || ',' ||
       to_char(e.value_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS line
  FROM fl.journal_entry e
  JOIN fl.posting p USING (entry_id)
  JOIN fl.account a USING (account_id)
  JOIN fl.currency c ON c.code = p.currency;

-- The CSV export's header line, the names of the columns of a line of fl.ledger_export.
CREATE OR REPLACE VIEW fl.ledger_export_header AS
SELECT 'entry_id,at,kind,fund,account,currency,amount,memo,value_date'::text AS line;
