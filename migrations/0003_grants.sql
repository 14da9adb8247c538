-- 0003_grants: returnees, grant applications and four-eyes approval with commitments
-- (part 1 of the grants work; disbursements, cancellation and contribution use follow).
--
-- Personal data of returnees (full name, gender, birth year, national id) lives in
-- fl.returnee only: journal entries and memos name a returnee by id, and no method a
-- partner may call returns a returnee (returnee.* and grant.* do not grant the partner
-- role).

CREATE TABLE fl.returnee (
	seq		bigserial UNIQUE,
	returnee_id	text PRIMARY KEY DEFAULT fl.new_id('re'),
	full_name	text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
	region		text NOT NULL REFERENCES fl.region,
	returned_from	text NOT NULL CHECK (returned_from ~ '^[A-Z]{2}$'),
	returned_on	date NOT NULL,
	gender		text CHECK (gender IN ('female', 'male', 'other', 'undisclosed')),
	birth_year	int CHECK (birth_year BETWEEN 1900 AND 2100),
	national_id	text CHECK (length(national_id) BETWEEN 1 AND 64),
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text REFERENCES fl.principal
);
CREATE UNIQUE INDEX returnee_national_id ON fl.returnee (national_id)
	WHERE national_id IS NOT NULL;
CREATE INDEX returnee_region ON fl.returnee (region, seq);

CREATE TABLE fl.grant_application (
	seq		bigserial UNIQUE,
	grant_id	text PRIMARY KEY DEFAULT fl.new_id('gr'),
	returnee_id	text NOT NULL REFERENCES fl.returnee,
	fund_code	text NOT NULL REFERENCES fl.fund,
	region		text NOT NULL REFERENCES fl.region,
	amount		bigint NOT NULL CHECK (amount > 0),
	category	text NOT NULL CHECK (category IN ('small_business', 'agriculture',
			    'requalification', 'employment', 'housing', 'other')),
	purpose		text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 1000),
	status		text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted',
			    'approved', 'rejected', 'withdrawn', 'completed', 'cancelled')),
	approvals_needed int NOT NULL CHECK (approvals_needed IN (1, 2)),
	committed	bigint NOT NULL DEFAULT 0 CHECK (committed >= 0),
	disbursed	bigint NOT NULL DEFAULT 0 CHECK (disbursed >= 0),
	decided_at	timestamptz,
	reason		text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text NOT NULL REFERENCES fl.principal,
	CHECK (committed + disbursed <= amount)
);
CREATE INDEX grant_fund ON fl.grant_application (fund_code, seq);
CREATE INDEX grant_status ON fl.grant_application (status, seq);

-- The contract's transitions and nothing else, for every role.
CREATE FUNCTION fl.grant_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'grants are never deleted';
	END IF;
	IF NEW.status <> OLD.status AND NOT (
	    (OLD.status = 'submitted' AND NEW.status IN ('approved', 'rejected', 'withdrawn')) OR
	    (OLD.status = 'approved' AND NEW.status IN ('completed', 'cancelled'))) THEN
		RAISE EXCEPTION 'grant % cannot go from % to %', OLD.grant_id, OLD.status,
		    NEW.status;
	END IF;
	IF (NEW.grant_id, NEW.returnee_id, NEW.fund_code, NEW.region, NEW.amount,
	    NEW.category, NEW.purpose, NEW.approvals_needed, NEW.created_at, NEW.created_by)
	   IS DISTINCT FROM (OLD.grant_id, OLD.returnee_id, OLD.fund_code, OLD.region,
	    OLD.amount, OLD.category, OLD.purpose, OLD.approvals_needed, OLD.created_at,
	    OLD.created_by) THEN
		RAISE EXCEPTION 'grant %: its terms never change', OLD.grant_id;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER grant_guard BEFORE UPDATE OR DELETE ON fl.grant_application
	FOR EACH ROW EXECUTE FUNCTION fl.grant_guard();

-- Every decision: who, when, what, why. One approval per principal per grant (four eyes).
CREATE TABLE fl.grant_decision (
	grant_id	text NOT NULL REFERENCES fl.grant_application,
	principal_id	text NOT NULL REFERENCES fl.principal,
	decision	text NOT NULL CHECK (decision IN ('approve', 'reject')),
	at		timestamptz NOT NULL DEFAULT now(),
	comment		text CHECK (length(comment) <= 1000),
	PRIMARY KEY (grant_id, principal_id)
);
CREATE TRIGGER grant_decision_append_only BEFORE UPDATE OR DELETE ON fl.grant_decision
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
-- The creator of a grant never decides on it.
CREATE FUNCTION fl.grant_decision_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM fl.grant_application WHERE grant_id = NEW.grant_id
	    AND created_by = NEW.principal_id) THEN
		RAISE EXCEPTION 'the creator of grant % may not decide on it', NEW.grant_id;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER grant_decision_guard BEFORE INSERT ON fl.grant_decision
	FOR EACH ROW EXECUTE FUNCTION fl.grant_decision_guard();

GRANT SELECT, INSERT ON fl.returnee, fl.grant_application, fl.grant_decision TO fundd_app;
GRANT UPDATE (status, committed, disbursed, decided_at, reason) ON fl.grant_application
    TO fundd_app;
GRANT USAGE ON SEQUENCE fl.returnee_seq_seq, fl.grant_application_seq_seq TO fundd_app;

-- returnee.* -------------------------------------------------------------------------------

CREATE FUNCTION fl.returnee_json(r fl.returnee) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	g	fl.region;
BEGIN
	SELECT * INTO g FROM fl.region WHERE region_code = r.region;
	RETURN jsonb_build_object('returnee_id', r.returnee_id, 'full_name', r.full_name,
	    'region', g.region, 'region_code', g.region_code,
	    'returned_from', r.returned_from, 'returned_on', r.returned_on::text,
	    'gender', r.gender, 'birth_year', r.birth_year, 'national_id', r.national_id,
	    'created_at', fl.ts(r.created_at));
END
$$;

CREATE FUNCTION api.returnee_register(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r	fl.returnee;
	v_first	text;
BEGIN
	IF (params->>'returned_on')::date > current_date THEN
		PERFORM fl.rpc_error(-32602, 'in_the_future', 'returned_on');
	END IF;
	IF (params->>'birth_year')::int > extract(year FROM current_date) THEN
		PERFORM fl.rpc_error(-32602, 'in_the_future', 'birth_year');
	END IF;
	INSERT INTO fl.returnee (full_name, region, returned_from, returned_on, gender,
	    birth_year, national_id, created_by)
	VALUES (params->>'full_name',
	    (fl.region_resolve(params->>'region', 'region')).region_code,
	    params->>'returned_from', (params->>'returned_on')::date, params->>'gender',
	    (params->>'birth_year')::int, params->>'national_id', p.principal_id)
	ON CONFLICT (national_id) WHERE national_id IS NOT NULL DO NOTHING
	RETURNING * INTO r;
	IF r.returnee_id IS NULL THEN
		SELECT returnee_id INTO v_first FROM fl.returnee
		 WHERE national_id = params->>'national_id';
		PERFORM fl.rpc_error(-32009, 'duplicate_returnee', 'national_id',
		    'a returnee with this national id is registered already',
		    jsonb_build_object('returnee_id', v_first));
	END IF;
	RETURN fl.returnee_json(r);
END
$$;

CREATE FUNCTION api.returnee_get(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	r	fl.returnee;
BEGIN
	SELECT * INTO r FROM fl.returnee WHERE returnee_id = params->>'returnee_id';
	IF r.returnee_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'returnee_not_found', 'returnee_id');
	END IF;
	RETURN fl.returnee_json(r);
END
$$;

CREATE FUNCTION api.returnee_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
	v_reg	text;
BEGIN
	IF params ? 'region' THEN
		v_reg := (fl.region_resolve(params->>'region', 'region')).region_code;
	END IF;
	RETURN fl.page('returnees', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
	    'j', fl.returnee_json(t)) ORDER BY t.seq)
	  FROM (SELECT * FROM fl.returnee
	         WHERE seq > fl.cursor_in(params->>'cursor')
	           AND (v_reg IS NULL OR region = v_reg)
	         ORDER BY seq LIMIT v_lim + 1) t), v_lim);
END
$$;

-- grant.* ----------------------------------------------------------------------------------

CREATE FUNCTION fl.grant_json(g fl.grant_application) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	f	fl.fund;
	r	fl.region;
	m	int;
BEGIN
	SELECT * INTO f FROM fl.fund WHERE code = g.fund_code;
	SELECT * INTO r FROM fl.region WHERE region_code = g.region;
	m := fl.minor(f.currency);
	RETURN jsonb_build_object('grant_id', g.grant_id, 'status', g.status,
	    'amount', fl.money_out(g.amount, m), 'currency', f.currency, 'fund', g.fund_code,
	    'region', r.region, 'region_code', r.region_code, 'category', g.category,
	    'purpose', g.purpose, 'returnee_id', g.returnee_id,
	    'approvals_needed', g.approvals_needed,
	    'approvals', coalesce((SELECT jsonb_agg(jsonb_build_object('principal_id',
	        d.principal_id, 'at', fl.ts(d.at), 'comment', d.comment) ORDER BY d.at)
	        FROM fl.grant_decision d WHERE d.grant_id = g.grant_id
	         AND d.decision = 'approve'), '[]'),
	    -- every decision, approvals and a rejection alike: who, what, when, why
	    'decisions', coalesce((SELECT jsonb_agg(jsonb_build_object('principal_id',
	        d.principal_id, 'decision', d.decision, 'at', fl.ts(d.at),
	        'comment', d.comment) ORDER BY d.at)
	        FROM fl.grant_decision d WHERE d.grant_id = g.grant_id), '[]'),
	    'committed', fl.money_out(g.committed, m), 'disbursed', fl.money_out(g.disbursed, m),
	    'decided_at', fl.ts(g.decided_at), 'reason', g.reason,
	    'created_at', fl.ts(g.created_at), 'created_by', g.created_by);
END
$$;

CREATE FUNCTION fl.grant_get(p_id text, p_lock boolean) RETURNS fl.grant_application
LANGUAGE plpgsql AS $$
DECLARE
	g	fl.grant_application;
BEGIN
	IF p_lock THEN
		SELECT * INTO g FROM fl.grant_application WHERE grant_id = p_id FOR UPDATE;
	ELSE
		SELECT * INTO g FROM fl.grant_application WHERE grant_id = p_id;
	END IF;
	IF g.grant_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'grant_not_found', 'grant_id');
	END IF;
	RETURN g;
END
$$;

CREATE FUNCTION api.grant_apply(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r	fl.returnee;
	f	fl.fund;
	g	fl.grant_application;
	v_amt	bigint;
BEGIN
	SELECT * INTO r FROM fl.returnee WHERE returnee_id = params->>'returnee_id';
	IF r.returnee_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'returnee_not_found', 'returnee_id');
	END IF;
	f := fl.fund_get(params->>'fund', 'fund');
	v_amt := fl.money_in(params->>'amount', fl.minor(f.currency), 'amount');
	INSERT INTO fl.grant_application (returnee_id, fund_code, region, amount, category,
	    purpose, approvals_needed, created_by)
	VALUES (r.returnee_id, f.code, r.region, v_amt, params->>'category',
	    params->>'purpose', CASE WHEN v_amt > f.dual_approval_above THEN 2 ELSE 1 END,
	    p.principal_id)
	RETURNING * INTO g;
	RETURN fl.grant_json(g);
END
$$;

CREATE FUNCTION api.grant_get(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN fl.grant_json(fl.grant_get(params->>'grant_id', false));
END
$$;

CREATE FUNCTION api.grant_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
	v_reg	text;
BEGIN
	IF params ? 'region' THEN
		v_reg := (fl.region_resolve(params->>'region', 'region')).region_code;
	END IF;
	IF params ? 'fund' THEN
		PERFORM fl.fund_get(params->>'fund', 'fund');
	END IF;
	RETURN fl.page('grants', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
	    'j', fl.grant_json(t)) ORDER BY t.seq)
	  FROM (SELECT * FROM fl.grant_application
	         WHERE seq > fl.cursor_in(params->>'cursor')
	           AND (v_reg IS NULL OR region = v_reg)
	           AND (NOT params ? 'fund' OR fund_code = params->>'fund')
	           AND (NOT params ? 'status' OR status = params->>'status')
	         ORDER BY seq LIMIT v_lim + 1) t), v_lim);
END
$$;

CREATE FUNCTION api.grant_withdraw(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	g	fl.grant_application := fl.grant_get(params->>'grant_id', true);
BEGIN
	IF g.status <> 'submitted' THEN
		PERFORM fl.wrong_state(g.status);
	END IF;
	UPDATE fl.grant_application SET status = 'withdrawn', decided_at = now(),
	    reason = params->>'reason'
	 WHERE grant_id = g.grant_id RETURNING * INTO g;
	RETURN fl.grant_json(g);
END
$$;

-- A decision on a submitted grant, under the grant row's lock: the four-eyes rules first.
CREATE FUNCTION fl.grant_decide(p fl.principal, g fl.grant_application, p_decision text,
    p_comment text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF g.created_by = p.principal_id THEN
		PERFORM fl.rpc_error(-32011, 'self_approval', 'grant_id',
		    'the creator of a grant may not decide on it');
	END IF;
	IF EXISTS (SELECT 1 FROM fl.grant_decision WHERE grant_id = g.grant_id
	    AND principal_id = p.principal_id) THEN
		PERFORM fl.rpc_error(-32011, 'already_approved', 'grant_id',
		    'this principal has decided on this grant already');
	END IF;
	IF g.status <> 'submitted' THEN
		PERFORM fl.wrong_state(g.status);
	END IF;
	INSERT INTO fl.grant_decision (grant_id, principal_id, decision, comment)
	VALUES (g.grant_id, p.principal_id, p_decision, p_comment);
END
$$;

CREATE FUNCTION api.grant_approve(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	g	fl.grant_application := fl.grant_get(params->>'grant_id', true);
	f	fl.fund;
	v_n	int;
	v_avail	bigint;
BEGIN
	PERFORM fl.grant_decide(p, g, 'approve', params->>'comment');
	SELECT count(*) INTO v_n FROM fl.grant_decision
	 WHERE grant_id = g.grant_id AND decision = 'approve';
	IF v_n < g.approvals_needed THEN
		RETURN fl.grant_json(g);
	END IF;
	-- The final approval commits the money: the fund's row locked and current (folded),
	-- available checked, the commitment posted; all in this transaction.
	f := fl.fund_fold(g.fund_code);
	v_avail := CASE f.kind WHEN 'pass_through' THEN f.received + f.earnings
	    ELSE f.earnings END - f.committed - f.disbursed;
	IF g.amount > v_avail THEN
		PERFORM fl.rpc_error(-32010, 'insufficient_funds', 'grant_id',
		    'the fund''s available balance cannot cover this grant',
		    jsonb_build_object('available', fl.money_out(v_avail, fl.minor(f.currency))));
	END IF;
	PERFORM fl.post(f, 'commitment', 'commitment for grant ' || g.grant_id, g.grant_id,
	    p.principal_id, ARRAY['grants_committed', 'commitments'],
	    ARRAY[g.amount, -g.amount]);
	UPDATE fl.grant_application SET status = 'approved', committed = amount,
	    decided_at = now()
	 WHERE grant_id = g.grant_id RETURNING * INTO g;
	RETURN fl.grant_json(g);
END
$$;

CREATE FUNCTION api.grant_reject(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	g	fl.grant_application := fl.grant_get(params->>'grant_id', true);
BEGIN
	PERFORM fl.grant_decide(p, g, 'reject', params->>'reason');
	UPDATE fl.grant_application SET status = 'rejected', decided_at = now(),
	    reason = params->>'reason'
	 WHERE grant_id = g.grant_id RETURNING * INTO g;
	RETURN fl.grant_json(g);
END
$$;
