-- Transfers between funds (docs/ledger.md, Transfers between funds): fund.transfer makes a
-- pending transfer, fund.transfer_confirm (another principal) posts both sides,
-- fund.transfer_cancel drops a pending one; fund.transfer_get and fund.transfer_list read
-- them. Lock order: the transfer's row, then its source fund's row (fl.fund_fold).

-- A transfer's id defaults to fl.new_id('tr') (set here, not in 10_common.sql with the other
-- tables' ids: this file goes with the table).
ALTER TABLE fl.transfer ALTER COLUMN transfer_id SET DEFAULT fl.new_id('tr');

-- Guards -----------------------------------------------------------------------------------

-- Only pending -> confirmed | cancelled; the terms never change; never deleted.
CREATE OR REPLACE FUNCTION fl.transfer_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'transfers are never deleted';
	END IF;
	IF OLD.status <> 'pending' OR NEW.status NOT IN ('confirmed', 'cancelled') THEN
		RAISE EXCEPTION 'transfer % cannot go from % to %', OLD.transfer_id, OLD.status,
		    NEW.status;
	END IF;
	IF (NEW.seq, NEW.transfer_id, NEW.from_fund, NEW.to_fund, NEW.amount, NEW.fx_rate,
	    NEW.to_amount, NEW.memo, NEW.created_at, NEW.created_by) IS DISTINCT FROM
	   (OLD.seq, OLD.transfer_id, OLD.from_fund, OLD.to_fund, OLD.amount, OLD.fx_rate,
	    OLD.to_amount, OLD.memo, OLD.created_at, OLD.created_by) THEN
		RAISE EXCEPTION 'transfer %: its terms never change', OLD.transfer_id;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER transfer_guard BEFORE UPDATE OR DELETE ON fl.transfer
	FOR EACH ROW EXECUTE FUNCTION fl.transfer_guard();

-- A new transfer goes to a pass-through fund (an endowment's capital comes from
-- contributions only), and to_amount is amount at fx_rate (or amount itself between funds
-- of one currency), whoever writes the row.
CREATE OR REPLACE FUNCTION fl.transfer_insert_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	s	fl.fund;
	d	fl.fund;
BEGIN
	SELECT * INTO s FROM fl.fund WHERE code = NEW.from_fund;
	SELECT * INTO d FROM fl.fund WHERE code = NEW.to_fund;
	IF d.kind <> 'pass_through' THEN
		RAISE EXCEPTION 'transfer to fund %: an endowment takes no transfers', d.code;
	END IF;
	IF s.currency = d.currency AND (NEW.fx_rate IS NOT NULL OR
	    NEW.to_amount <> NEW.amount) THEN
		RAISE EXCEPTION 'transfer between funds in %: no rate, the same amount', s.currency;
	END IF;
	IF s.currency <> d.currency AND (NEW.fx_rate IS NULL OR NEW.to_amount <>
	    fl.fx_convert(NEW.amount, fl.minor(s.currency), NEW.fx_rate,
	        fl.minor(d.currency))) THEN
		RAISE EXCEPTION 'transfer from % to %: to_amount is amount at fx_rate', s.currency,
		    d.currency;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER transfer_insert_guard BEFORE INSERT ON fl.transfer
	FOR EACH ROW EXECUTE FUNCTION fl.transfer_insert_guard();

-- Reading ----------------------------------------------------------------------------------

-- A transfer as the protocol shows it.
CREATE OR REPLACE FUNCTION fl.transfer_json(t fl.transfer) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_scur	text;
	v_dcur	text;
BEGIN
	SELECT currency INTO v_scur FROM fl.fund WHERE code = t.from_fund;
	SELECT currency INTO v_dcur FROM fl.fund WHERE code = t.to_fund;
	RETURN jsonb_build_object('transfer_id', t.transfer_id, 'from', t.from_fund,
	    'to', t.to_fund, 'amount', fl.money_out(t.amount, fl.minor(v_scur)),
	    'currency', v_scur, 'fx_rate', t.fx_rate::text,
	    'to_amount', fl.money_out(t.to_amount, fl.minor(v_dcur)), 'to_currency', v_dcur,
	    'memo', t.memo, 'status', t.status, 'created_at', fl.ts(t.created_at),
	    'created_by', t.created_by, 'decided_at', fl.ts(t.decided_at),
	    'decided_by', t.decided_by, 'cancel_reason', t.cancel_reason,
	    'out_entry_id', CASE WHEN t.out_entry_id IS NOT NULL
	        THEN fl.entry_ref(t.out_entry_id) END,
	    'in_entry_id', CASE WHEN t.in_entry_id IS NOT NULL
	        THEN fl.entry_ref(t.in_entry_id) END);
END
$$;

-- A transfer by id (FOR UPDATE with p_lock), or -32004.
CREATE OR REPLACE FUNCTION fl.transfer_get(p_id text, p_lock boolean) RETURNS fl.transfer
LANGUAGE plpgsql AS $$
DECLARE
	t	fl.transfer;
BEGIN
	IF p_lock THEN
		SELECT * INTO t FROM fl.transfer WHERE transfer_id = p_id FOR UPDATE;
	ELSE
		SELECT * INTO t FROM fl.transfer WHERE transfer_id = p_id;
	END IF;
	IF t.transfer_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'transfer_not_found', 'transfer_id');
	END IF;
	RETURN t;
END
$$;

-- fund.transfer_get
CREATE OR REPLACE FUNCTION api.fund_transfer_get(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN fl.transfer_json(fl.transfer_get(params->>'transfer_id', false));
END
$$;

-- fund.transfer_list: transfers from or to a fund, by status, in the order they were made,
-- a page at a time.
CREATE OR REPLACE FUNCTION api.fund_transfer_list(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
BEGIN
	IF params ? 'fund' THEN
		PERFORM fl.fund_get(params->>'fund', 'fund');
	END IF;
	RETURN fl.page('transfers', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
	    'j', fl.transfer_json(t)) ORDER BY t.seq)
	  FROM (SELECT * FROM fl.transfer
	         WHERE seq > fl.cursor_in(params->>'cursor')
	           AND (NOT params ? 'fund' OR from_fund = params->>'fund'
	                OR to_fund = params->>'fund')
	           AND (NOT params ? 'status' OR status = params->>'status')
	         ORDER BY seq LIMIT v_lim + 1) t), v_lim);
END
$$;

-- Writing ----------------------------------------------------------------------------------

-- The fund's transfers_in and transfers_out accounts, for a fund created before transfers
-- existed (fund.create makes them with every new fund); concurrent callers create them
-- once.
CREATE OR REPLACE FUNCTION fl.transfer_accounts(f fl.fund) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF (SELECT count(*) FROM fl.account WHERE fund_code = f.code
	    AND short IN ('transfers_in', 'transfers_out')) < 2 THEN
		INSERT INTO fl.account (fund_code, short, name, type, currency)
		SELECT f.code, t.short, f.code || ':' || t.short, 'equity', f.currency
		  FROM (VALUES ('transfers_in'), ('transfers_out')) t(short)
		ON CONFLICT DO NOTHING;
	END IF;
END
$$;

-- fund.transfer: a pending transfer; no money moves until it is confirmed.
CREATE OR REPLACE FUNCTION api.fund_transfer(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	s	fl.fund := fl.fund_get(params->>'from', 'from');
	d	fl.fund := fl.fund_get(params->>'to', 'to');
	t	fl.transfer;
	v_smin	int := fl.minor(s.currency);
BEGIN
	IF s.code = d.code THEN
		PERFORM fl.rpc_error(-32602, 'same_fund', 'to',
		    'a transfer goes from one fund to another');
	END IF;
	IF d.kind <> 'pass_through' THEN
		PERFORM fl.rpc_error(-32602, 'to_endowment', 'to',
		    'an endowment''s capital comes from contributions only: it takes no transfers');
	END IF;
	t.amount := fl.money_in(params->>'amount', v_smin, 'amount');
	IF s.currency = d.currency THEN
		IF params ? 'fx_rate' THEN
			PERFORM fl.rpc_error(-32602, 'not_for_the_fund_currency', 'fx_rate');
		END IF;
		t.to_amount := t.amount;
	ELSE
		IF NOT params ? 'fx_rate' THEN
			PERFORM fl.rpc_error(-32602, 'required_for_another_currency', 'fx_rate');
		END IF;
		t.fx_rate := (params->>'fx_rate')::numeric;
		t.to_amount := fl.fx_convert(t.amount, v_smin, t.fx_rate, fl.minor(d.currency));
		IF t.to_amount <= 0 THEN
			PERFORM fl.rpc_error(-32602, 'rounds_to_zero', 'amount');
		END IF;
	END IF;
	INSERT INTO fl.transfer (from_fund, to_fund, amount, fx_rate, to_amount, memo,
	    created_by)
	VALUES (s.code, d.code, t.amount, t.fx_rate, t.to_amount, params->>'memo',
	    p.principal_id)
	RETURNING * INTO t;
	RETURN fl.transfer_json(t);
END
$$;

-- fund.transfer_confirm: by a principal other than the maker. The transfer's row locked
-- (a second confirmation waits, then finds it confirmed), then the source fund's row folded
-- and locked (concurrent transfers and grant approvals of the fund run one after another on
-- it), available checked, and both sides posted: the source's entry in its currency, the
-- destination's in its own.
CREATE OR REPLACE FUNCTION api.fund_transfer_confirm(p fl.principal, params jsonb,
    ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	t	fl.transfer := fl.transfer_get(params->>'transfer_id', true);
	s	fl.fund;
	d	fl.fund;
	v_avail	bigint;
	v_out	bigint;
	v_in	bigint;
BEGIN
	IF t.status <> 'pending' THEN
		PERFORM fl.wrong_state(t.status);
	END IF;
	IF t.created_by = p.principal_id THEN
		PERFORM fl.rpc_error(-32011, 'same_maker_and_checker', 'transfer_id',
		    'the principal who made a transfer may not confirm it');
	END IF;
	s := fl.fund_fold(t.from_fund);
	v_avail := fl.fund_available(s);
	IF t.amount > v_avail THEN
		PERFORM fl.rpc_error(-32010, 'insufficient_funds', 'transfer_id',
		    'the source fund''s available balance cannot cover this transfer',
		    jsonb_build_object('available', fl.money_out(v_avail, fl.minor(s.currency))));
	END IF;
	SELECT * INTO d FROM fl.fund WHERE code = t.to_fund;
	PERFORM fl.transfer_accounts(s);
	PERFORM fl.transfer_accounts(d);
	v_out := fl.post(s, 'transfer_out', 'transfer ' || t.transfer_id || ' to ' || d.code,
	    t.transfer_id, p.principal_id, ARRAY['transfers_out', 'cash'],
	    ARRAY[t.amount, -t.amount]);
	v_in := fl.post(d, 'transfer_in', 'transfer ' || t.transfer_id || ' from ' || s.code,
	    t.transfer_id, p.principal_id, ARRAY['cash', 'transfers_in'],
	    ARRAY[t.to_amount, -t.to_amount]);
	UPDATE fl.transfer SET status = 'confirmed', decided_at = now(),
	    decided_by = p.principal_id, out_entry_id = v_out, in_entry_id = v_in
	 WHERE transfer_id = t.transfer_id RETURNING * INTO t;
	RETURN fl.transfer_json(t);
END
$$;

-- fund.transfer_cancel: a pending transfer dropped; nothing was posted.
CREATE OR REPLACE FUNCTION api.fund_transfer_cancel(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	t	fl.transfer := fl.transfer_get(params->>'transfer_id', true);
BEGIN
	IF t.status <> 'pending' THEN
		PERFORM fl.wrong_state(t.status);
	END IF;
	UPDATE fl.transfer SET status = 'cancelled', decided_at = now(),
	    decided_by = p.principal_id, cancel_reason = params->>'reason'
	 WHERE transfer_id = t.transfer_id RETURNING * INTO t;
	RETURN fl.transfer_json(t);
END
$$;

-- What an endowment contribution's share of earnings paid for --------------------------------

-- The donor's view of endowment contribution c of fund f, of which p_got was received in
-- the fund's currency (docs/ledger.md, What a contribution paid for): its capital, kept
-- but for its share of what losses took of the fund's capital; its share of the fund's
-- earnings less the fees and losses they met (share = p_got over the fund's capital, all
-- that was received); what of that share left the fund, to the fund's own grants and
-- through confirmed transfers down to the destination's grants (region, category, amount
-- only). Every figure is rounded down to the minor unit.
CREATE OR REPLACE FUNCTION fl.endowment_status(c fl.contribution, f fl.fund, p_got bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	cur	fl.fund := fl.fund_current(f);
	m	int := fl.minor(f.currency);
	v_cap	numeric;
	v_x	numeric := p_got;
	v_share	bigint;
	v_used	bigint;
	v_alloc	jsonb;
	v_tr	jsonb;
BEGIN
	SELECT sum(fund_amount) INTO v_cap FROM fl.funding_source WHERE fund_code = f.code;
	v_share := floor(v_x * (cur.earnings - cur.charges) / v_cap);
	v_used := floor(v_x * (cur.disbursed + cur.transferred_out) / v_cap);
	SELECT coalesce(jsonb_agg(jsonb_build_object('grant_id', g.grant_id,
	    'region', r.region, 'region_code', r.region_code, 'category', g.category,
	    'amount', fl.money_out(floor(v_x * g.disbursed / v_cap)::bigint, m))
	    ORDER BY g.seq), '[]')
	  INTO v_alloc
	  FROM fl.grant_application g JOIN fl.region r ON r.region_code = g.region
	 WHERE g.fund_code = f.code AND g.disbursed > 0;
	-- each confirmed transfer out: the contribution's share of it, and of each grant the
	-- destination paid, the part the transfer financed (the transfer over all the money
	-- that came into the destination)
	SELECT coalesce(jsonb_agg(jsonb_build_object('transfer_id', t.transfer_id,
	    'to', t.to_fund, 'currency', f.currency,
	    'amount', fl.money_out(floor(v_x * t.amount / v_cap)::bigint, m),
	    'to_currency', dd.currency,
	    'to_amount', fl.money_out(floor(v_x * t.to_amount / v_cap)::bigint,
	        fl.minor(dd.currency)),
	    'allocations', coalesce((SELECT jsonb_agg(jsonb_build_object('grant_id', g.grant_id,
	        'region', r.region, 'region_code', r.region_code, 'category', g.category,
	        'amount', fl.money_out(floor(v_x * t.to_amount * g.disbursed /
	            (v_cap * (dd.received + dd.earnings + dd.transferred_in)))::bigint,
	            fl.minor(dd.currency))) ORDER BY g.seq)
	      FROM fl.grant_application g JOIN fl.region r ON r.region_code = g.region
	     WHERE g.fund_code = t.to_fund AND g.disbursed > 0), '[]'))
	    ORDER BY t.seq), '[]')
	  INTO v_tr
	  FROM fl.transfer t
	  CROSS JOIN LATERAL fl.fund_current((SELECT x FROM fl.fund x
	       WHERE x.code = t.to_fund)) dd
	 WHERE t.from_fund = f.code AND t.status = 'confirmed';
	RETURN jsonb_build_object('capital', fl.money_out(p_got, m),
	    'capital_kept', fl.money_out(p_got - floor(v_x * cur.impaired / v_cap)::bigint, m),
	    'earnings_share', fl.money_out(v_share, m),
	    'used', fl.money_out(v_used, m), 'unused', fl.money_out(v_share - v_used, m),
	    'allocations', v_alloc, 'transfers', v_tr);
END
$$;
