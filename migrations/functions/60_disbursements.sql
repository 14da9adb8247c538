-- Disbursements: paying grants in tranches. A disbursement is created pending (no money
-- moves), then confirmed as paid by another principal (four eyes: maker and checker) or
-- marked failed (which frees its amount). Pending plus paid never exceed the grant:
-- creations serialise on the grant row's lock. Lock order everywhere: disbursement row,
-- then grant row.

-- Only pending -> paid | failed, and a disbursement's terms never change.
CREATE OR REPLACE FUNCTION fl.disbursement_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'disbursements are never deleted';
	END IF;
	IF OLD.status <> 'pending' OR NEW.status NOT IN ('paid', 'failed') THEN
		RAISE EXCEPTION 'disbursement % cannot go from % to %', OLD.disbursement_id,
		    OLD.status, NEW.status;
	END IF;
	IF (NEW.disbursement_id, NEW.grant_id, NEW.amount, NEW.reference, NEW.created_at,
	    NEW.created_by, NEW.payee_account, NEW.retry_of, NEW.milestone_id)
	   IS DISTINCT FROM (OLD.disbursement_id, OLD.grant_id, OLD.amount, OLD.reference,
	    OLD.created_at, OLD.created_by, OLD.payee_account, OLD.retry_of,
	    OLD.milestone_id) THEN
		RAISE EXCEPTION 'disbursement %: its terms never change', OLD.disbursement_id;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER disbursement_guard BEFORE UPDATE OR DELETE ON fl.disbursement
	FOR EACH ROW EXECUTE FUNCTION fl.disbursement_guard();

-- A new disbursement retries only a failed one of its own grant, and pays only an accepted
-- milestone of its own grant, whoever writes it.
CREATE OR REPLACE FUNCTION fl.disbursement_insert_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.retry_of IS NOT NULL AND NOT EXISTS (SELECT 1 FROM fl.disbursement r
	    WHERE r.disbursement_id = NEW.retry_of AND r.grant_id = NEW.grant_id
	      AND r.status = 'failed') THEN
		RAISE EXCEPTION 'disbursement % retries % of another grant, or not failed',
		    NEW.disbursement_id, NEW.retry_of;
	END IF;
	IF NEW.milestone_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM fl.milestone m
	    WHERE m.milestone_id = NEW.milestone_id AND m.grant_id = NEW.grant_id
	      AND m.status = 'accepted' AND NEW.amount <= m.amount) THEN
		RAISE EXCEPTION 'disbursement % pays milestone % of another grant, not accepted, '
		    'or more than its tranche', NEW.disbursement_id, NEW.milestone_id;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER disbursement_insert_guard BEFORE INSERT ON fl.disbursement
	FOR EACH ROW EXECUTE FUNCTION fl.disbursement_insert_guard();

-- A disbursement as the protocol shows it, in the currency of its grant's fund.
CREATE OR REPLACE FUNCTION fl.disbursement_json(d fl.disbursement) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_cur	text;
BEGIN
	SELECT f.currency INTO v_cur FROM fl.grant_application g
	  JOIN fl.fund f ON f.code = g.fund_code WHERE g.grant_id = d.grant_id;
	RETURN jsonb_build_object('disbursement_id', d.disbursement_id,
	    'grant_id', d.grant_id, 'amount', fl.money_out(d.amount, fl.minor(v_cur)),
	    -- given back (disbursement.refund), each with its value date
	    'refunded', fl.money_out(fl.refunded(d.disbursement_id), fl.minor(v_cur)),
	    'refunds', coalesce((SELECT jsonb_agg(jsonb_build_object('refund_id', r.refund_id,
	        'amount', fl.money_out(r.amount, fl.minor(v_cur)),
	        'refunded_at', fl.ts(r.refunded_at), 'bank_ref', r.bank_ref,
	        'reason', r.reason, 'created_by', r.created_by) ORDER BY r.seq)
	      FROM fl.refund r WHERE r.disbursement_id = d.disbursement_id), '[]'),
	    'currency', v_cur, 'status', d.status, 'reference', d.reference,
	    'bank_ref', d.bank_ref, 'paid_at', fl.ts(d.paid_at), 'fail_reason', d.fail_reason,
	    'created_at', fl.ts(d.created_at), 'created_by', d.created_by,
	    'decided_by', d.decided_by)
	    -- where it is paid, the failed payment it retries and the one retrying it, and
	    -- the milestone whose tranche it pays
	    || jsonb_build_object('payee_account', d.payee_account, 'retry_of', d.retry_of,
	    'retried_by', (SELECT x.disbursement_id FROM fl.disbursement x
		WHERE x.retry_of = d.disbursement_id),
	    'milestone_id', d.milestone_id);
END
$$;

-- A pending disbursement by id, locked: -32004 if there is none, -32009 unless pending.
CREATE OR REPLACE FUNCTION fl.disbursement_get(p_id text) RETURNS fl.disbursement
LANGUAGE plpgsql AS $$
DECLARE
	d	fl.disbursement;
BEGIN
	SELECT * INTO d FROM fl.disbursement WHERE disbursement_id = p_id FOR UPDATE;
	IF d.disbursement_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'disbursement_not_found', 'disbursement_id');
	END IF;
	IF d.status <> 'pending' THEN
		PERFORM fl.wrong_state(d.status);
	END IF;
	RETURN d;
END
$$;

-- disbursement.* ---------------------------------------------------------------------------

-- disbursement.create: a pending tranche of an approved grant; optionally the payee's
-- account (fl.account_in()), the failed disbursement of the grant it retries, and the
-- accepted milestone whose tranche it pays (the database holds both to that:
-- fl.disbursement_insert_guard).
CREATE OR REPLACE FUNCTION api.disbursement_create(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	g	fl.grant_application := fl.grant_get(params->>'grant_id', true);
	v_min	int;
	v_amt	bigint;
	v_open	bigint;
	v_acct	text := fl.account_in(params->>'payee_account');
	m	fl.milestone;
	r	fl.disbursement;
	d	fl.disbursement;
BEGIN
	IF g.status <> 'approved' THEN
		PERFORM fl.wrong_state(g.status);
	END IF;
	v_min := fl.minor((SELECT currency FROM fl.fund WHERE code = g.fund_code));
	v_amt := fl.money_in(params->>'amount', v_min, 'amount');
	IF params ? 'retry_of' THEN
		SELECT * INTO r FROM fl.disbursement
		 WHERE disbursement_id = params->>'retry_of' AND grant_id = g.grant_id;
		IF r.disbursement_id IS NULL THEN
			PERFORM fl.rpc_error(-32004, 'disbursement_not_found', 'retry_of');
		END IF;
		IF r.status <> 'failed' THEN
			PERFORM fl.rpc_error(-32009, 'not_failed', 'retry_of',
			    'only a failed payment is retried');
		END IF;
		IF EXISTS (SELECT 1 FROM fl.disbursement WHERE retry_of = r.disbursement_id) THEN
			PERFORM fl.rpc_error(-32009, 'already_retried', 'retry_of');
		END IF;
	END IF;
	IF params ? 'milestone_id' THEN
		SELECT * INTO m FROM fl.milestone
		 WHERE milestone_id = params->>'milestone_id' AND grant_id = g.grant_id;
		IF m.milestone_id IS NULL THEN
			PERFORM fl.rpc_error(-32004, 'milestone_not_found', 'milestone_id');
		END IF;
		IF m.status <> 'accepted' THEN
			PERFORM fl.rpc_error(-32009, 'milestone_not_accepted', 'milestone_id',
			    'the milestone''s evidence is not accepted yet',
			    jsonb_build_object('status', m.status));
		END IF;
		IF EXISTS (SELECT 1 FROM fl.disbursement WHERE milestone_id = m.milestone_id
		    AND status IN ('pending', 'paid')) THEN
			PERFORM fl.rpc_error(-32009, 'milestone_released', 'milestone_id',
			    'another payment releases this milestone''s tranche');
		END IF;
		IF v_amt > m.amount THEN
			PERFORM fl.rpc_error(-32009, 'exceeds_milestone', 'amount',
			    'more than the milestone''s tranche',
			    jsonb_build_object('tranche', fl.money_out(m.amount, v_min)));
		END IF;
	END IF;
	-- what was refunded of paid ones is open again
	SELECT coalesce(sum(amount), 0) - (SELECT coalesce(sum(amount), 0) FROM fl.refund
	    WHERE grant_id = g.grant_id)
	  INTO v_open FROM fl.disbursement
	 WHERE grant_id = g.grant_id AND status IN ('pending', 'paid');
	IF v_open + v_amt > g.amount THEN
		PERFORM fl.rpc_error(-32009, 'exceeds_grant', 'amount',
		    'pending and paid disbursements would exceed the grant',
		    jsonb_build_object('remaining', fl.money_out(g.amount - v_open, v_min)));
	END IF;
	INSERT INTO fl.disbursement (grant_id, amount, reference, payee_account, retry_of,
	    milestone_id, created_by)
	VALUES (g.grant_id, v_amt, params->>'reference', v_acct, r.disbursement_id,
	    m.milestone_id, p.principal_id)
	RETURNING * INTO d;
	RETURN fl.disbursement_json(d);
END
$$;

-- disbursement.confirm: paid, confirmed by a principal other than its creator; the money
-- leaves the fund, and a grant paid in full is completed.
CREATE OR REPLACE FUNCTION api.disbursement_confirm(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	d	fl.disbursement := fl.disbursement_get(params->>'disbursement_id');
	g	fl.grant_application;
	v_at	timestamptz := coalesce(fl.time_in(params->>'paid_at'), now());
BEGIN
	IF d.created_by = p.principal_id THEN
		PERFORM fl.rpc_error(-32011, 'same_maker_and_checker', 'disbursement_id',
		    'the principal who created a payment may not confirm it');
	END IF;
	IF v_at > now() + interval '5 minutes' THEN
		PERFORM fl.rpc_error(-32602, 'in_the_future', 'paid_at');
	END IF;
	g := fl.grant_get(d.grant_id, true);
	UPDATE fl.disbursement SET status = 'paid', bank_ref = params->>'bank_ref',
	    paid_at = v_at, decided_by = p.principal_id
	 WHERE disbursement_id = d.disbursement_id RETURNING * INTO d;
	-- the money leaves: commitment -> cash, and the expense moves from committed to paid
	PERFORM fl.post((SELECT f FROM fl.fund f WHERE code = g.fund_code), 'disbursement',
	    'disbursement ' || d.disbursement_id || ' for grant ' || g.grant_id,
	    d.disbursement_id, p.principal_id,
	    ARRAY['commitments', 'cash', 'grants_disbursed', 'grants_committed'],
	    ARRAY[d.amount, -d.amount, d.amount, -d.amount], d.paid_at);
	UPDATE fl.grant_application SET committed = committed - d.amount,
	    disbursed = disbursed + d.amount,
	    first_paid_at = least(first_paid_at, d.paid_at),
	    status = CASE WHEN disbursed + d.amount = amount THEN 'completed' ELSE status END
	 WHERE grant_id = g.grant_id;
	RETURN fl.disbursement_json(d);
END
$$;

-- A refund joins a paid disbursement of its grant, and a disbursement's refunds never exceed
-- it; refunds are never updated or deleted.
CREATE OR REPLACE FUNCTION fl.refund_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	d	fl.disbursement;
BEGIN
	SELECT * INTO d FROM fl.disbursement WHERE disbursement_id = NEW.disbursement_id;
	IF d.status IS DISTINCT FROM 'paid' OR d.grant_id <> NEW.grant_id OR
	    NEW.amount + (SELECT coalesce(sum(amount), 0) FROM fl.refund
	      WHERE disbursement_id = NEW.disbursement_id) > d.amount THEN
		RAISE EXCEPTION 'refund %: only of a paid disbursement of its grant, and never '
		    'more than was paid', NEW.refund_id;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER refund_guard BEFORE INSERT ON fl.refund
	FOR EACH ROW EXECUTE FUNCTION fl.refund_guard();
CREATE OR REPLACE TRIGGER refund_append_only BEFORE UPDATE OR DELETE ON fl.refund
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER refund_no_truncate BEFORE TRUNCATE ON fl.refund
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

-- disbursement.refund: money paid and given back (a grant recovered, a payment the bank
-- returned), dated refunded_at: cash back and the grant's and the fund's disbursed lowered
-- by it. An approved grant still owes the returnee what was given back: it is committed
-- again (its fund's available is unchanged) and may be paid by a new disbursement, or
-- released by grant.cancel. A completed (or cancelled) grant's refund goes back to what the
-- fund has available. Lock order: disbursement row, then grant row.
CREATE OR REPLACE FUNCTION api.disbursement_refund(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	d	fl.disbursement;
	g	fl.grant_application;
	f	fl.fund;
	r	fl.refund;
	v_left	bigint;
	v_amt	bigint;
	v_acct	text[] := ARRAY['cash', 'grants_disbursed'];
	v_amts	bigint[];
BEGIN
	SELECT * INTO d FROM fl.disbursement WHERE disbursement_id = params->>'disbursement_id'
	   FOR UPDATE;
	IF d.disbursement_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'disbursement_not_found', 'disbursement_id');
	END IF;
	IF d.status <> 'paid' THEN
		PERFORM fl.wrong_state(d.status);
	END IF;
	g := fl.grant_get(d.grant_id, true);
	f := fl.fund_get(g.fund_code, 'fund');
	SELECT d.amount - coalesce(sum(amount), 0) INTO v_left FROM fl.refund
	 WHERE disbursement_id = d.disbursement_id;
	-- (a local first: the row's type refuses zero)
	v_amt := CASE WHEN params ? 'amount' THEN fl.money_in(params->>'amount',
	    fl.minor(f.currency), 'amount') ELSE v_left END;
	IF v_amt > v_left OR v_left = 0 THEN
		PERFORM fl.rpc_error(-32009, 'exceeds_paid', 'amount',
		    'refunds would exceed what the disbursement paid',
		    jsonb_build_object('refundable', fl.money_out(v_left, fl.minor(f.currency))));
	END IF;
	r.refunded_at := coalesce(fl.time_in(params->>'refunded_at'), now());
	IF r.refunded_at > now() + interval '5 minutes' THEN
		PERFORM fl.rpc_error(-32602, 'in_the_future', 'refunded_at');
	END IF;
	INSERT INTO fl.refund (refund_id, disbursement_id, grant_id, amount, refunded_at,
	    bank_ref, reason, created_by)
	VALUES (fl.new_id('rf'), d.disbursement_id, g.grant_id, v_amt, r.refunded_at,
	    params->>'bank_ref', params->>'reason', p.principal_id)
	RETURNING * INTO r;
	v_amts := ARRAY[r.amount, -r.amount];
	IF g.status = 'approved' THEN
		v_acct := v_acct || ARRAY['grants_committed', 'commitments'];
		v_amts := v_amts || ARRAY[r.amount, -r.amount];
	END IF;
	PERFORM fl.post(f, 'refund', 'refund ' || r.refund_id || ' of disbursement ' ||
	    d.disbursement_id || ' for grant ' || g.grant_id, r.refund_id, p.principal_id,
	    v_acct, v_amts, r.refunded_at);
	UPDATE fl.grant_application SET disbursed = disbursed - r.amount,
	    committed = committed + CASE WHEN status = 'approved' THEN r.amount ELSE 0 END
	 WHERE grant_id = g.grant_id;
	RETURN fl.disbursement_json(d);
END
$$;

-- disbursement.fail
CREATE OR REPLACE FUNCTION api.disbursement_fail(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	d	fl.disbursement := fl.disbursement_get(params->>'disbursement_id');
BEGIN
	UPDATE fl.disbursement SET status = 'failed', fail_reason = params->>'reason',
	    decided_by = p.principal_id
	 WHERE disbursement_id = d.disbursement_id RETURNING * INTO d;
	RETURN fl.disbursement_json(d);
END
$$;

-- disbursement.list: by grant and status, a page at a time.
CREATE OR REPLACE FUNCTION api.disbursement_list(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
BEGIN
	IF params ? 'grant_id' THEN
		PERFORM fl.grant_get(params->>'grant_id', false);
	END IF;
	RETURN fl.page('disbursements', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
	    'j', fl.disbursement_json(t)) ORDER BY t.seq)
	  FROM (SELECT * FROM fl.disbursement
	         WHERE seq > fl.cursor_in(params->>'cursor')
	           AND (NOT params ? 'grant_id' OR grant_id = params->>'grant_id')
	           AND (NOT params ? 'status' OR status = params->>'status')
	         ORDER BY seq LIMIT v_lim + 1) t), v_lim);
END
$$;

-- disbursement.queue: the pending disbursements principal p may confirm or fail now (any it
-- did not create), oldest first, a page at a time, with how many there are in all.
CREATE OR REPLACE FUNCTION api.disbursement_queue(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
	v_page	jsonb;
	v_n	bigint;
BEGIN
	IF params ? 'fund' THEN
		PERFORM fl.fund_get(params->>'fund', 'fund');
	END IF;
	WITH q AS (
		SELECT d.seq FROM fl.disbursement d
		 WHERE d.status = 'pending' AND d.created_by <> p.principal_id
		   AND (NOT params ? 'fund' OR EXISTS (SELECT 1 FROM fl.grant_application g
			WHERE g.grant_id = d.grant_id AND g.fund_code = params->>'fund')))
	SELECT (SELECT count(*) FROM q),
	       fl.page('disbursements', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
		   'j', fl.disbursement_json(t)) ORDER BY t.seq)
		 FROM (SELECT a.* FROM fl.disbursement a
			WHERE a.seq IN (SELECT q.seq FROM q
					 WHERE q.seq > fl.cursor_in(params->>'cursor')
					 ORDER BY q.seq LIMIT v_lim + 1)) t), v_lim)
	  INTO v_n, v_page;
	RETURN v_page || jsonb_build_object('count', v_n);
END
$$;
