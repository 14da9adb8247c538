-- Returnees and grants: the guards of grants and of their decisions, returnee.*, grant.*
-- with four-eyes approval and commitments, and fl.approve_bulk(), the set form of
-- grant.approve. Disbursements are in functions/60_disbursements.sql.

-- Guards -----------------------------------------------------------------------------------

-- The contract's transitions and nothing else, for every role; a grant's terms change
-- only by a correction while it is submitted.
CREATE OR REPLACE FUNCTION fl.grant_guard() RETURNS trigger
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
	IF (NEW.grant_id, NEW.returnee_id, NEW.fund_code, NEW.region, NEW.created_at,
	    NEW.created_by, NEW.seq)
	   IS DISTINCT FROM (OLD.grant_id, OLD.returnee_id, OLD.fund_code, OLD.region,
	    OLD.created_at, OLD.created_by, OLD.seq) THEN
		RAISE EXCEPTION 'grant %: who and what it is for never change', OLD.grant_id;
	END IF;
	-- the date of its first payment is set by a payment, never later than it was
	IF NEW.first_paid_at IS DISTINCT FROM OLD.first_paid_at AND
	   (NEW.disbursed <= OLD.disbursed OR NEW.first_paid_at IS NULL OR
	    NEW.first_paid_at > OLD.first_paid_at) THEN
		RAISE EXCEPTION 'grant %: its first payment''s date changes only with a payment, '
		    'to an earlier one', OLD.grant_id;
	END IF;
	-- its terms change only while it is submitted (grant.update), with no approval
	-- standing, and needing the approvals its fund's rule sets for the new amount
	IF (NEW.amount, NEW.category, NEW.purpose, NEW.approvals_needed)
	   IS DISTINCT FROM (OLD.amount, OLD.category, OLD.purpose, OLD.approvals_needed) AND
	   (OLD.status <> 'submitted' OR NEW.status <> 'submitted' OR
	    EXISTS (SELECT 1 FROM fl.grant_decision WHERE grant_id = OLD.grant_id) OR
	    NEW.approvals_needed IS DISTINCT FROM (SELECT CASE WHEN NEW.amount >
		f.dual_approval_above THEN 2 ELSE 1 END FROM fl.fund f
	      WHERE f.code = NEW.fund_code)) THEN
		RAISE EXCEPTION 'grant %: its terms change only while submitted, with no '
		    'approval standing and the approvals its fund''s rule needs', OLD.grant_id;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER grant_guard BEFORE UPDATE OR DELETE ON fl.grant_application
	FOR EACH ROW EXECUTE FUNCTION fl.grant_guard();

-- A grant is born submitted, with nothing committed or paid, needing the approvals its
-- fund's rule sets; it becomes approved only with that many approvals and its whole amount
-- committed by a commitment entry of the same transaction (grant.approve's).
CREATE OR REPLACE FUNCTION fl.grant_rule_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		IF NEW.status <> 'submitted' OR NEW.committed <> 0 OR NEW.disbursed <> 0 OR
		    NEW.decided_at IS NOT NULL OR NEW.first_paid_at IS NOT NULL OR
		    NEW.approvals_needed IS DISTINCT FROM
		    (SELECT CASE WHEN NEW.amount > f.dual_approval_above THEN 2 ELSE 1 END
		       FROM fl.fund f WHERE f.code = NEW.fund_code) THEN
			RAISE EXCEPTION 'grant %: a new grant is submitted, with nothing committed, '
			    'needing the approvals of its fund''s rule', NEW.grant_id;
		END IF;
		RETURN NEW;
	END IF;
	IF (SELECT count(*) FROM fl.grant_decision d
	     WHERE d.grant_id = NEW.grant_id AND d.decision = 'approve') < NEW.approvals_needed
	   OR NEW.committed <> NEW.amount
	   OR NOT EXISTS (SELECT 1 FROM fl.journal_entry e
	     WHERE e.at = now() AND e.txid = txid_current() AND e.kind = 'commitment'
	       AND e.ref_id = NEW.grant_id) THEN
		RAISE EXCEPTION 'grant % is approved only with % approvals and its commitment',
		    NEW.grant_id, NEW.approvals_needed;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER grant_insert_guard BEFORE INSERT ON fl.grant_application
	FOR EACH ROW EXECUTE FUNCTION fl.grant_rule_guard();
CREATE OR REPLACE TRIGGER grant_approval_guard BEFORE UPDATE ON fl.grant_application
	FOR EACH ROW WHEN (NEW.status = 'approved' AND OLD.status <> 'approved')
	EXECUTE FUNCTION fl.grant_rule_guard();

-- The creator of a grant never decides on it, nor does an approver who recused from it or
-- declared a conflict of interest with its beneficiary.
CREATE OR REPLACE FUNCTION fl.grant_decision_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_why	text := fl.grant_conflicted(NEW.grant_id, NEW.principal_id);
BEGIN
	IF EXISTS (SELECT 1 FROM fl.grant_application WHERE grant_id = NEW.grant_id
	    AND created_by = NEW.principal_id) THEN
		RAISE EXCEPTION 'the creator of grant % may not decide on it', NEW.grant_id;
	END IF;
	IF v_why IS NOT NULL THEN
		RAISE EXCEPTION 'principal % may not decide on grant %: %', NEW.principal_id,
		    NEW.grant_id, v_why;
	END IF;
	RETURN NEW;
END
$$;

-- Why principal p_pid may not decide on grant p_grant: 'recused', 'conflict_of_interest'
-- (with the grant's beneficiary), or NULL.
CREATE OR REPLACE FUNCTION fl.grant_conflicted(p_grant text, p_pid text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM fl.grant_recusal WHERE grant_id = p_grant
	    AND principal_id = p_pid) THEN
		RETURN 'recused';
	END IF;
	IF EXISTS (SELECT 1 FROM fl.grant_application g JOIN fl.principal_conflict c
	    ON c.returnee_id = g.returnee_id AND c.principal_id = p_pid
	    WHERE g.grant_id = p_grant) THEN
		RETURN 'conflict_of_interest';
	END IF;
	RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER grant_decision_guard BEFORE INSERT ON fl.grant_decision
	FOR EACH ROW EXECUTE FUNCTION fl.grant_decision_guard();

-- Decisions are never updated; one leaves only when a correction of its submitted grant
-- withdraws it, moved (copied first) to fl.grant_decision_withdrawn.
CREATE OR REPLACE FUNCTION fl.grant_decision_withdraw_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'DELETE' OR NOT EXISTS (SELECT 1 FROM fl.grant_decision_withdrawn w
	    JOIN fl.grant_application g USING (grant_id)
	    WHERE w.grant_id = OLD.grant_id AND w.principal_id = OLD.principal_id
	      AND w.decided_at = OLD.at AND w.decision = OLD.decision
	      AND w.comment IS NOT DISTINCT FROM OLD.comment AND g.status = 'submitted') THEN
		RAISE EXCEPTION 'grant_decision: % refused (a decision leaves only when a '
		    'correction withdraws it)', TG_OP;
	END IF;
	RETURN OLD;
END
$$;
CREATE OR REPLACE TRIGGER grant_decision_withdraw_guard
	BEFORE UPDATE OR DELETE ON fl.grant_decision
	FOR EACH ROW EXECUTE FUNCTION fl.grant_decision_withdraw_guard();
CREATE OR REPLACE TRIGGER grant_decision_no_truncate BEFORE TRUNCATE ON fl.grant_decision
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

-- A withdrawn decision stays: it only gets, once, the correction that withdrew it.
CREATE OR REPLACE FUNCTION fl.withdrawn_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'UPDATE' OR OLD.correction_seq IS NOT NULL OR
	    (NEW.grant_id, NEW.principal_id, NEW.decision, NEW.decided_at, NEW.comment,
	     NEW.withdrawn_at) IS DISTINCT FROM (OLD.grant_id, OLD.principal_id, OLD.decision,
	     OLD.decided_at, OLD.comment, OLD.withdrawn_at) THEN
		RAISE EXCEPTION 'grant_decision_withdrawn is append-only: % refused', TG_OP;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER withdrawn_guard BEFORE UPDATE OR DELETE
	ON fl.grant_decision_withdrawn FOR EACH ROW EXECUTE FUNCTION fl.withdrawn_guard();
CREATE OR REPLACE TRIGGER withdrawn_no_truncate BEFORE TRUNCATE
	ON fl.grant_decision_withdrawn FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

-- Corrections of returnees and grants keep what they replaced (fl.correction_record); a
-- returnee's personal data only sealed (fl.history shows it as the daemon opens it). An
-- erasure is no correction (fl.erasure records it).
CREATE OR REPLACE TRIGGER returnee_correction AFTER UPDATE ON fl.returnee
	FOR EACH ROW WHEN (NEW.erased_at IS NULL)
	EXECUTE FUNCTION fl.correction_record('returnee', 'returnee_id',
	    'full_name_sealed', 'region', 'returned_from', 'returned_on', 'gender_sealed',
	    'birth_year_sealed', 'national_id_sealed', 'contact_sealed', 'notes_sealed',
	    'kind');
CREATE OR REPLACE TRIGGER returnee_identity BEFORE UPDATE ON fl.returnee
	FOR EACH ROW EXECUTE FUNCTION fl.identity_guard('returnee_id', 'seq', 'created_at',
	    'created_by');
CREATE OR REPLACE TRIGGER grant_correction AFTER UPDATE ON fl.grant_application
	FOR EACH ROW EXECUTE FUNCTION fl.correction_record('grant', 'grant_id', 'amount',
	    'category', 'purpose', 'approvals_needed');

-- Recusals and declared conflicts stand for good.
CREATE OR REPLACE TRIGGER grant_recusal_append_only
	BEFORE UPDATE OR DELETE ON fl.grant_recusal
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER grant_recusal_no_truncate BEFORE TRUNCATE ON fl.grant_recusal
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER principal_conflict_append_only
	BEFORE UPDATE OR DELETE ON fl.principal_conflict
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER principal_conflict_no_truncate BEFORE TRUNCATE
	ON fl.principal_conflict FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

-- returnee.* -------------------------------------------------------------------------------

-- A returnee as the protocol shows it: its personal data as sealed values, which the
-- daemon opens with the keys api.call() hands it (fl.person_answer); null once erased. No
-- method a partner may call returns one.
CREATE OR REPLACE FUNCTION fl.returnee_json(r fl.returnee) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	g	fl.region;
BEGIN
	SELECT * INTO g FROM fl.region WHERE region_code = r.region;
	PERFORM fl.person_seen(r.returnee_id);
	RETURN jsonb_build_object('returnee_id', r.returnee_id,
	    'full_name', fl.sealed_out('full_name', r.full_name_sealed),
	    'region', g.region, 'region_code', g.region_code,
	    'returned_from', r.returned_from, 'returned_on', r.returned_on::text,
	    'gender', fl.sealed_out('gender', r.gender_sealed),
	    'birth_year', fl.sealed_out('birth_year', r.birth_year_sealed),
	    'national_id', fl.sealed_out('national_id', r.national_id_sealed),
	    'contact', fl.sealed_out('contact', r.contact_sealed),
	    'notes', fl.sealed_out('notes', r.notes_sealed),
	    'kind', r.kind, 'consent', fl.consent_of(r.returnee_id),
	    'created_at', fl.ts(r.created_at), 'erased_at', fl.ts(r.erased_at));
END
$$;

-- The keyed index values the daemon sent under name in params->'$person' (or '$find'):
-- the first under the key-encryption key it writes with, the others under older ones.
CREATE OR REPLACE FUNCTION fl.index_in(p jsonb, p_name text) RETURNS bytea[]
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN (SELECT array_agg(decode(x, 'hex')) FROM jsonb_array_elements_text(p->p_name) x);
END
$$;

-- The returnee registered under one of a national id's index values, other than p_not.
-- (plan_cache_mode: with an array parameter PostgreSQL would otherwise plan every call
-- anew, which costs more than the lookup.)
CREATE OR REPLACE FUNCTION fl.returnee_by_national(p_idx bytea[], p_not text) RETURNS text
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	RETURN (SELECT returnee_id FROM fl.returnee
		 WHERE national_index = ANY (p_idx) AND returnee_id IS DISTINCT FROM p_not
		 ORDER BY seq LIMIT 1);
END
$$;

-- -32009 duplicate_returnee, naming it, when a returnee other than p_not is registered
-- under one of a national id's index values (p_idx, or none). Until the transaction ends,
-- other registrations of that id wait: its values under the several key-encryption keys
-- of a rotation differ, and the unique index sees one of them only.
CREATE OR REPLACE FUNCTION fl.national_unique(p_idx bytea[], p_not text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_first	text;
BEGIN
	IF p_idx IS NULL THEN
		RETURN;
	END IF;
	PERFORM pg_advisory_xact_lock(hashtextextended('returnee.national ' ||
	    encode(p_idx[1], 'hex'), 0));
	v_first := fl.returnee_by_national(p_idx, p_not);
	IF v_first IS NOT NULL THEN
		PERFORM fl.rpc_error(-32009, 'duplicate_returnee', 'national_id',
		    'a returnee with this national id is registered already',
		    jsonb_build_object('returnee_id', v_first));
	END IF;
END
$$;

-- A returnee by id (FOR UPDATE with p_lock), or -32004.
CREATE OR REPLACE FUNCTION fl.returnee_get(p_id text, p_lock boolean) RETURNS fl.returnee
LANGUAGE plpgsql AS $$
DECLARE
	r	fl.returnee;
BEGIN
	IF p_lock THEN
		SELECT * INTO r FROM fl.returnee WHERE returnee_id = p_id FOR UPDATE;
	ELSE
		SELECT * INTO r FROM fl.returnee WHERE returnee_id = p_id;
	END IF;
	IF r.returnee_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'returnee_not_found', 'returnee_id');
	END IF;
	RETURN r;
END
$$;

-- A data key the daemon made for returnee p_id (params->'$person'), stored wrapped.
CREATE OR REPLACE FUNCTION fl.person_key_add(p_id text, v jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO fl.person_key (key_id, returnee_id, kek_id, wrapped)
	VALUES (decode(v->>'key_id', 'hex'), p_id, v->>'kek', decode(v->>'wrapped', 'hex'));
END
$$;

-- What returnee.register and returnee.update check of a returnee's params beyond their
-- types and what the daemon checked of the personal data: no return to come (-32602).
CREATE OR REPLACE FUNCTION fl.returnee_check(params jsonb) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF (params->>'returned_on')::date > current_date THEN
		PERFORM fl.rpc_error(-32602, 'in_the_future', 'returned_on');
	END IF;
END
$$;

-- returnee.register: one returnee per national id, as the daemon normalises it (the keyed
-- index national_index); -32009 naming the one registered already.
CREATE OR REPLACE FUNCTION api.returnee_register(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r	fl.returnee;
	v	jsonb := params->'$person';
	s	jsonb := params->'$person'->'sealed';
	v_nat	bytea[] := fl.index_in(params->'$person', 'national_index');
BEGIN
	PERFORM fl.returnee_check(params);
	PERFORM fl.national_unique(v_nat, NULL);
	INSERT INTO fl.returnee (region, returned_from, returned_on, kind, created_by,
	    full_name_sealed, national_id_sealed, birth_year_sealed, gender_sealed,
	    contact_sealed, notes_sealed, national_index, name_index, index_kek)
	VALUES ((fl.region_resolve(params->>'region', 'region')).region_code,
	    params->>'returned_from', (params->>'returned_on')::date,
	    coalesce(params->>'kind', 'returnee'), p.principal_id,
	    decode(s->>'full_name', 'hex'), decode(s->>'national_id', 'hex'),
	    decode(s->>'birth_year', 'hex'), decode(s->>'gender', 'hex'),
	    decode(s->>'contact', 'hex'), decode(s->>'notes', 'hex'), v_nat[1],
	    (fl.index_in(v, 'name_index'))[1], v->>'index_kek')
	ON CONFLICT (national_index) WHERE national_index IS NOT NULL DO NOTHING
	RETURNING * INTO r;
	IF r.returnee_id IS NULL THEN
		PERFORM fl.rpc_error(-32009, 'duplicate_returnee', 'national_id',
		    'a returnee with this national id is registered already',
		    jsonb_build_object('returnee_id', fl.returnee_by_national(v_nat, NULL)));
	END IF;
	PERFORM fl.person_key_add(r.returnee_id, v);
	PERFORM fl.consent_in(r.returnee_id, p, params);
	RETURN fl.returnee_json(r);
END
$$;

-- returnee.get
CREATE OR REPLACE FUNCTION api.returnee_get(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN fl.returnee_json(fl.returnee_get(params->>'returnee_id', false));
END
$$;

-- returnee.find: by national id and/or by full name, each exactly as the daemon normalises
-- it (the keyed indexes it sent in params->'$find'), each returnee with its grants, in one
-- call. An erased returnee is found by neither.
CREATE OR REPLACE FUNCTION api.returnee_find(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
	v_nat	bytea[] := fl.index_in(params->'$find', 'national_index');
	v_name	bytea[] := fl.index_in(params->'$find', 'name_index');
	v_out	jsonb;
BEGIN
	IF v_nat IS NULL AND v_name IS NULL THEN
		PERFORM fl.rpc_error(-32602, 'national_id_or_name', 'name',
		    'give a national id or a name');
	END IF;
	SELECT coalesce(jsonb_agg(fl.returnee_json(r) || jsonb_build_object('grants',
		coalesce((SELECT jsonb_agg(jsonb_build_object('grant_id', g.grant_id,
		    'status', g.status, 'amount', fl.money_out(g.amount, fl.minor(f.currency)),
		    'currency', f.currency, 'fund', g.fund_code, 'category', g.category,
		    'created_at', fl.ts(g.created_at)) ORDER BY g.seq)
		  FROM fl.grant_application g JOIN fl.fund f ON f.code = g.fund_code
		 WHERE g.returnee_id = r.returnee_id), '[]')) ORDER BY r.seq), '[]')
	  INTO v_out
	  FROM (SELECT * FROM fl.returnee
		 WHERE (v_nat IS NULL OR national_index = ANY (v_nat))
		   AND (v_name IS NULL OR name_index = ANY (v_name))
		 ORDER BY seq LIMIT v_lim) r;
	RETURN jsonb_build_object('returnees', v_out);
END
$$;

-- returnee.list: by region and kind, a page at a time.
CREATE OR REPLACE FUNCTION api.returnee_list(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
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
	           AND (NOT params ? 'kind' OR kind = params->>'kind')
	         ORDER BY seq LIMIT v_lim + 1) t), v_lim);
END
$$;

-- returnee.update: a correction of a returnee's record; the fields given change, the
-- record's history keeps what they were (fl.correction_record). Personal data given comes
-- sealed under a new data key of the returnee's own. The region of grants applied for
-- already stays theirs. An erased returnee is not corrected (-32009, erased).
CREATE OR REPLACE FUNCTION api.returnee_update(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r	fl.returnee;
	v	jsonb := params->'$person';
	s	jsonb := coalesce(params->'$person'->'sealed', '{}');
	v_nat	bytea[] := fl.index_in(params->'$person', 'national_index');
BEGIN
	r := fl.returnee_get(params->>'returnee_id', true);
	IF r.erased_at IS NOT NULL THEN
		PERFORM fl.rpc_error(-32009, 'erased', 'returnee_id',
		    'this returnee''s personal data was erased');
	END IF;
	PERFORM fl.returnee_check(params);
	PERFORM fl.national_unique(v_nat, r.returnee_id);
	IF v IS NOT NULL THEN
		PERFORM fl.person_key_add(r.returnee_id, v);
	END IF;
	PERFORM set_config('fl.principal_id', p.principal_id, true);
	UPDATE fl.returnee SET
	    full_name_sealed = coalesce(decode(s->>'full_name', 'hex'), full_name_sealed),
	    region = CASE WHEN params ? 'region' THEN
		(fl.region_resolve(params->>'region', 'region')).region_code ELSE region END,
	    returned_from = coalesce(params->>'returned_from', returned_from),
	    returned_on = coalesce((params->>'returned_on')::date, returned_on),
	    gender_sealed = coalesce(decode(s->>'gender', 'hex'), gender_sealed),
	    birth_year_sealed = coalesce(decode(s->>'birth_year', 'hex'), birth_year_sealed),
	    national_id_sealed = coalesce(decode(s->>'national_id', 'hex'), national_id_sealed),
	    contact_sealed = coalesce(decode(s->>'contact', 'hex'), contact_sealed),
	    notes_sealed = coalesce(decode(s->>'notes', 'hex'), notes_sealed),
	    national_index = coalesce(v_nat[1], national_index),
	    name_index = coalesce((fl.index_in(v, 'name_index'))[1], name_index),
	    -- the key-encryption key of both index values; null when they are of two
	    -- (key rotation computes both again, docs/privacy.md)
	    index_kek = CASE WHEN v->>'index_kek' IS NULL OR v->>'index_kek' = index_kek
		THEN index_kek
		WHEN v ? 'name_index' AND (v ? 'national_index' OR national_index IS NULL)
		THEN v->>'index_kek' END,
	    kind = coalesce(params->>'kind', kind)
	 WHERE returnee_id = r.returnee_id RETURNING * INTO r;
	PERFORM set_config('fl.principal_id', '', true);
	PERFORM fl.consent_in(r.returnee_id, p, params);
	RETURN fl.returnee_json(r);
END
$$;

-- returnee.history: the corrections of a returnee's record, oldest first.
CREATE OR REPLACE FUNCTION api.returnee_history(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM fl.returnee WHERE returnee_id = params->>'returnee_id') THEN
		PERFORM fl.rpc_error(-32004, 'returnee_not_found', 'returnee_id');
	END IF;
	PERFORM fl.person_seen(params->>'returnee_id');
	RETURN fl.history('returnee', params->>'returnee_id', params)
	    || jsonb_build_object('returnee_id', params->>'returnee_id');
END
$$;

-- Grants -----------------------------------------------------------------------------------

-- A grant as the protocol shows it, with its approvals and every decision, and its
-- beneficiary's name and kind (grants are shown to staff roles only, never to partners).
CREATE OR REPLACE FUNCTION fl.grant_json(g fl.grant_application) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	f	fl.fund;
	r	fl.region;
	b	fl.returnee;
	m	int;
BEGIN
	SELECT * INTO f FROM fl.fund WHERE code = g.fund_code;
	SELECT * INTO r FROM fl.region WHERE region_code = g.region;
	SELECT * INTO b FROM fl.returnee WHERE returnee_id = g.returnee_id;
	PERFORM fl.person_seen(g.returnee_id);
	m := fl.minor(f.currency);
	RETURN jsonb_build_object('beneficiary_name', fl.sealed_out('full_name',
	    b.full_name_sealed), 'beneficiary_kind', b.kind)
	    || jsonb_build_object('grant_id', g.grant_id, 'status', g.status,
	    'amount', fl.money_out(g.amount, m), 'currency', f.currency, 'fund', g.fund_code,
	    'region', r.region, 'region_code', r.region_code, 'category', g.category,
	    'purpose', g.purpose, 'returnee_id', g.returnee_id,
	    'approvals_needed', g.approvals_needed,
	    'approvals', coalesce((SELECT jsonb_agg(jsonb_build_object('principal_id',
	        d.principal_id, 'name', pr.name, 'at', fl.ts(d.at), 'comment', d.comment)
	        ORDER BY d.at)
	        FROM fl.grant_decision d JOIN fl.principal pr USING (principal_id)
	       WHERE d.grant_id = g.grant_id AND d.decision = 'approve'), '[]'),
	    -- every decision, approvals and a rejection alike: who, what, when, why
	    'decisions', coalesce((SELECT jsonb_agg(jsonb_build_object('principal_id',
	        d.principal_id, 'name', pr.name, 'decision', d.decision, 'at', fl.ts(d.at),
	        'comment', d.comment) ORDER BY d.at)
	        FROM fl.grant_decision d JOIN fl.principal pr USING (principal_id)
	       WHERE d.grant_id = g.grant_id), '[]'),
	    -- approvers who stepped aside from this application: who, when, why
	    'recusals', coalesce((SELECT jsonb_agg(jsonb_build_object('principal_id',
	        x.principal_id, 'name', pr.name, 'at', fl.ts(x.at), 'reason', x.reason)
	        ORDER BY x.at)
	        FROM fl.grant_recusal x JOIN fl.principal pr USING (principal_id)
	       WHERE x.grant_id = g.grant_id), '[]'),
	    'committed', fl.money_out(g.committed, m), 'disbursed', fl.money_out(g.disbursed, m),
	    'decided_at', fl.ts(g.decided_at), 'reason', g.reason,
	    'created_at', fl.ts(g.created_at), 'created_by', g.created_by);
END
$$;

-- A grant by id (FOR UPDATE with p_lock), or -32004.
CREATE OR REPLACE FUNCTION fl.grant_get(p_id text, p_lock boolean) RETURNS fl.grant_application
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

-- A decision on a submitted grant, under the grant row's lock: the four-eyes rules first.
CREATE OR REPLACE FUNCTION fl.grant_decide(p fl.principal, g fl.grant_application,
    p_decision text, p_comment text) RETURNS void
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
	CASE fl.grant_conflicted(g.grant_id, p.principal_id)
	WHEN 'recused' THEN
		PERFORM fl.rpc_error(-32011, 'recused', 'grant_id',
		    'this principal recused from this grant');
	WHEN 'conflict_of_interest' THEN
		PERFORM fl.rpc_error(-32011, 'conflict_of_interest', 'grant_id',
		    'this principal declared a conflict of interest with the beneficiary');
	ELSE
	END CASE;
	IF g.status <> 'submitted' THEN
		PERFORM fl.wrong_state(g.status);
	END IF;
	INSERT INTO fl.grant_decision (grant_id, principal_id, decision, comment)
	VALUES (g.grant_id, p.principal_id, p_decision, p_comment);
END
$$;

-- grant.* ----------------------------------------------------------------------------------

-- grant.apply: a submitted grant in the returnee's region, which needs two approvals when
-- its amount is above the fund's dual_approval_above. The daemon read the returnee's
-- gender and age band for the reports' statistics (ctx "stats", daemon/person.c).
CREATE OR REPLACE FUNCTION api.grant_apply(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r	fl.returnee;
	f	fl.fund;
	g	fl.grant_application;
	v_amt	bigint;
BEGIN
	r := fl.returnee_get(params->>'returnee_id', false);
	IF r.erased_at IS NOT NULL THEN
		PERFORM fl.rpc_error(-32009, 'erased', 'returnee_id',
		    'this returnee''s personal data was erased');
	END IF;
	f := fl.fund_get(params->>'fund', 'fund');
	v_amt := fl.money_in(params->>'amount', fl.minor(f.currency), 'amount');
	INSERT INTO fl.grant_application (returnee_id, fund_code, region, amount, category,
	    purpose, approvals_needed, created_by, beneficiary_gender, beneficiary_age_band)
	VALUES (r.returnee_id, f.code, r.region, v_amt, params->>'category',
	    params->>'purpose', CASE WHEN v_amt > f.dual_approval_above THEN 2 ELSE 1 END,
	    p.principal_id, coalesce(ctx->'stats'->>'gender', 'unknown'),
	    coalesce(ctx->'stats'->>'age_band', 'unknown'))
	RETURNING * INTO g;
	RETURN fl.grant_json(g);
END
$$;

-- grant.get
CREATE OR REPLACE FUNCTION api.grant_get(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN fl.grant_json(fl.grant_get(params->>'grant_id', false));
END
$$;

-- grant.list: by region, fund and status, a page at a time.
CREATE OR REPLACE FUNCTION api.grant_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
	v_reg	text;
	v_c0	timestamptz := fl.time_in(params->>'created_from');
	v_c1	timestamptz := fl.time_in(params->>'created_to') + interval '1 day';
	v_d0	timestamptz := fl.time_in(params->>'decided_from');
	v_d1	timestamptz := fl.time_in(params->>'decided_to') + interval '1 day';
	v_page	jsonb;
	v_n	bigint;
BEGIN
	IF params ? 'region' THEN
		v_reg := (fl.region_resolve(params->>'region', 'region')).region_code;
	END IF;
	IF params ? 'fund' THEN
		PERFORM fl.fund_get(params->>'fund', 'fund');
	END IF;
	IF params ? 'returnee_id' AND NOT EXISTS (SELECT 1 FROM fl.returnee
	    WHERE returnee_id = params->>'returnee_id') THEN
		PERFORM fl.rpc_error(-32004, 'returnee_not_found', 'returnee_id');
	END IF;
	IF v_c1 <= v_c0 THEN
		PERFORM fl.rpc_error(-32602, 'end_before_start', 'created_to');
	END IF;
	IF v_d1 <= v_d0 THEN
		PERFORM fl.rpc_error(-32602, 'end_before_start', 'decided_to');
	END IF;
	WITH q AS (
		SELECT g.seq FROM fl.grant_application g
		 WHERE (v_reg IS NULL OR g.region = v_reg)
		   AND (NOT params ? 'fund' OR g.fund_code = params->>'fund')
		   AND (NOT params ? 'status' OR g.status = params->>'status')
		   AND (NOT params ? 'category' OR g.category = params->>'category')
		   AND (NOT params ? 'returnee_id' OR g.returnee_id = params->>'returnee_id')
		   AND (v_c0 IS NULL OR g.created_at >= v_c0)
		   AND (v_c1 IS NULL OR g.created_at < v_c1)
		   AND (v_d0 IS NULL OR g.decided_at >= v_d0)
		   AND (v_d1 IS NULL OR g.decided_at < v_d1))
	SELECT (SELECT count(*) FROM q),
	       fl.page('grants', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
		   'j', fl.grant_json(t)) ORDER BY t.seq)
		 FROM (SELECT a.* FROM fl.grant_application a
			WHERE a.seq IN (SELECT q.seq FROM q
					 WHERE q.seq > fl.cursor_in(params->>'cursor')
					 ORDER BY q.seq LIMIT v_lim + 1)) t), v_lim)
	  INTO v_n, v_page;
	RETURN v_page || jsonb_build_object('count', v_n);
END
$$;

-- grant.withdraw: a submitted grant withdrawn.
CREATE OR REPLACE FUNCTION api.grant_withdraw(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
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

-- grant.update: a correction of a submitted grant's amount, category or purpose. Any
-- approval given already is withdrawn (moved to fl.grant_decision_withdrawn, shown in the
-- grant's history), so the approvers decide again on what it now says; the approvals
-- needed follow the fund's rule for the new amount. Nothing changed: the grant as it is,
-- no history.
CREATE OR REPLACE FUNCTION api.grant_update(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	g	fl.grant_application := fl.grant_get(params->>'grant_id', true);
	f	fl.fund;
	v_amt	bigint;
	v_cat	text := coalesce(params->>'category', g.category);
	v_pur	text := coalesce(params->>'purpose', g.purpose);
BEGIN
	IF g.status <> 'submitted' THEN
		PERFORM fl.wrong_state(g.status);
	END IF;
	SELECT * INTO f FROM fl.fund WHERE code = g.fund_code;
	v_amt := CASE WHEN params ? 'amount' THEN
	    fl.money_in(params->>'amount', fl.minor(f.currency), 'amount') ELSE g.amount END;
	IF (v_amt, v_cat, v_pur) IS NOT DISTINCT FROM (g.amount, g.category, g.purpose) THEN
		RETURN fl.grant_json(g);
	END IF;
	INSERT INTO fl.grant_decision_withdrawn (grant_id, principal_id, decision, decided_at,
	    comment)
	SELECT grant_id, principal_id, decision, at, comment FROM fl.grant_decision
	 WHERE grant_id = g.grant_id;
	DELETE FROM fl.grant_decision WHERE grant_id = g.grant_id;
	PERFORM set_config('fl.principal_id', p.principal_id, true);
	UPDATE fl.grant_application SET amount = v_amt, category = v_cat, purpose = v_pur,
	    approvals_needed = CASE WHEN v_amt > f.dual_approval_above THEN 2 ELSE 1 END
	 WHERE grant_id = g.grant_id RETURNING * INTO g;
	PERFORM set_config('fl.principal_id', '', true);
	UPDATE fl.grant_decision_withdrawn SET correction_seq = currval('fl.correction_seq_seq')
	 WHERE grant_id = g.grant_id AND correction_seq IS NULL;
	RETURN fl.grant_json(g);
END
$$;

-- grant.history: the corrections of a grant, oldest first, each with the approvals it
-- withdrew.
CREATE OR REPLACE FUNCTION api.grant_history(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	PERFORM fl.grant_get(params->>'grant_id', false);
	RETURN fl.history('grant', params->>'grant_id', params)
	    || jsonb_build_object('grant_id', params->>'grant_id');
END
$$;

-- grant.approve: one approval; the last one the grant needs commits its amount. In a
-- batch, a run of approvals goes to fl.approve_bulk() instead.
CREATE OR REPLACE FUNCTION api.grant_approve(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
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
	v_avail := fl.fund_available(f);
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

-- grant.reject: one rejection decides the grant.
CREATE OR REPLACE FUNCTION api.grant_reject(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
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

-- grant.cancel: an approved grant ends; what is committed and unpaid goes back.
CREATE OR REPLACE FUNCTION api.grant_cancel(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	g	fl.grant_application := fl.grant_get(params->>'grant_id', true);
BEGIN
	IF g.status <> 'approved' THEN
		PERFORM fl.wrong_state(g.status);
	END IF;
	IF EXISTS (SELECT 1 FROM fl.disbursement WHERE grant_id = g.grant_id
	    AND status = 'pending') THEN
		PERFORM fl.rpc_error(-32009, 'disbursement_pending', 'grant_id',
		    'a disbursement of this grant is pending: confirm or fail it first');
	END IF;
	IF g.committed > 0 THEN
		PERFORM fl.post((SELECT f FROM fl.fund f WHERE code = g.fund_code),
		    'commitment_release', 'cancelled grant ' || g.grant_id, g.grant_id,
		    p.principal_id, ARRAY['commitments', 'grants_committed'],
		    ARRAY[g.committed, -g.committed]);
	END IF;
	UPDATE fl.grant_application SET status = 'cancelled', committed = 0,
	    reason = params->>'reason', decided_at = now()
	 WHERE grant_id = g.grant_id RETURNING * INTO g;
	RETURN fl.grant_json(g);
END
$$;

-- Queues and conflicts of interest --------------------------------------------------------

-- grant.queue: the submitted applications principal p may decide on now (not its own, not
-- decided, recused from or conflicted by it), oldest first, a page at a time, with how many
-- there are in all (the filters applied) and each one's approvals so far and still needed.
CREATE OR REPLACE FUNCTION api.grant_queue(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
	v_reg	text;
	v_page	jsonb;
	v_n	bigint;
BEGIN
	IF params ? 'region' THEN
		v_reg := (fl.region_resolve(params->>'region', 'region')).region_code;
	END IF;
	IF params ? 'fund' THEN
		PERFORM fl.fund_get(params->>'fund', 'fund');
	END IF;
	WITH q AS (
		SELECT g.seq FROM fl.grant_application g
		 WHERE g.status = 'submitted'
		   AND g.created_by <> p.principal_id
		   AND (v_reg IS NULL OR g.region = v_reg)
		   AND (NOT params ? 'fund' OR g.fund_code = params->>'fund')
		   AND (NOT params ? 'category' OR g.category = params->>'category')
		   AND NOT EXISTS (SELECT 1 FROM fl.grant_decision d
			WHERE d.grant_id = g.grant_id AND d.principal_id = p.principal_id)
		   AND NOT EXISTS (SELECT 1 FROM fl.grant_recusal x
			WHERE x.grant_id = g.grant_id AND x.principal_id = p.principal_id)
		   AND NOT EXISTS (SELECT 1 FROM fl.principal_conflict c
			WHERE c.returnee_id = g.returnee_id AND c.principal_id = p.principal_id))
	SELECT (SELECT count(*) FROM q),
	       fl.page('grants', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
		   'j', fl.grant_json(t) || jsonb_build_object('approvals_missing',
		       greatest(t.approvals_needed - (SELECT count(*) FROM fl.grant_decision d
			   WHERE d.grant_id = t.grant_id AND d.decision = 'approve'), 0)))
		   ORDER BY t.seq)
		 FROM (SELECT a.* FROM fl.grant_application a
			WHERE a.seq IN (SELECT q.seq FROM q
					 WHERE q.seq > fl.cursor_in(params->>'cursor')
					 ORDER BY q.seq LIMIT v_lim + 1)) t), v_lim)
	  INTO v_n, v_page;
	RETURN v_page || jsonb_build_object('count', v_n);
END
$$;

-- grant.recuse: the approver steps aside from a submitted application, for good. Recusing
-- again answers the recusal already made.
CREATE OR REPLACE FUNCTION api.grant_recuse(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	g	fl.grant_application := fl.grant_get(params->>'grant_id', true);
BEGIN
	IF NOT EXISTS (SELECT 1 FROM fl.grant_recusal WHERE grant_id = g.grant_id
	    AND principal_id = p.principal_id) THEN
		IF EXISTS (SELECT 1 FROM fl.grant_decision WHERE grant_id = g.grant_id
		    AND principal_id = p.principal_id) THEN
			PERFORM fl.rpc_error(-32011, 'already_approved', 'grant_id',
			    'this principal has decided on this grant already');
		END IF;
		IF g.status <> 'submitted' THEN
			PERFORM fl.wrong_state(g.status);
		END IF;
		INSERT INTO fl.grant_recusal (grant_id, principal_id, reason)
		VALUES (g.grant_id, p.principal_id, params->>'reason');
	END IF;
	RETURN fl.grant_json(g);
END
$$;

-- A declared conflict as the protocol shows it.
CREATE OR REPLACE FUNCTION fl.conflict_json(c fl.principal_conflict) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('principal_id', c.principal_id,
	    'name', (SELECT name FROM fl.principal WHERE principal_id = c.principal_id),
	    'returnee_id', c.returnee_id, 'reason', c.reason, 'declared_by', c.declared_by,
	    'at', fl.ts(c.at));
END
$$;

-- principal.declare_conflict: an approver's standing conflict of interest with a
-- beneficiary, declared by the approver itself or recorded by an admin (principal_id).
-- Declaring it again answers the declaration already made.
CREATE OR REPLACE FUNCTION api.principal_declare_conflict(p fl.principal, params jsonb,
    ctx jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	v_pid	text := coalesce(params->>'principal_id', p.principal_id);
	a	fl.principal;
	c	fl.principal_conflict;
BEGIN
	IF v_pid <> p.principal_id AND NOT 'admin' = ANY (p.roles) THEN
		PERFORM fl.rpc_error(-32003, 'role_required', 'principal_id',
		    'only an admin declares a conflict for another principal',
		    jsonb_build_object('roles', jsonb_build_array('admin')));
	END IF;
	SELECT * INTO a FROM fl.principal WHERE principal_id = v_pid;
	IF a.principal_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'principal_not_found', 'principal_id');
	END IF;
	IF NOT 'approver' = ANY (a.roles) THEN
		PERFORM fl.rpc_error(-32602, 'not_an_approver', 'principal_id',
		    'conflicts of interest are declared for approvers');
	END IF;
	IF NOT EXISTS (SELECT 1 FROM fl.returnee WHERE returnee_id = params->>'returnee_id') THEN
		PERFORM fl.rpc_error(-32004, 'returnee_not_found', 'returnee_id');
	END IF;
	INSERT INTO fl.principal_conflict (principal_id, returnee_id, reason, declared_by)
	VALUES (v_pid, params->>'returnee_id', params->>'reason', p.principal_id)
	ON CONFLICT (principal_id, returnee_id) DO NOTHING;
	SELECT * INTO c FROM fl.principal_conflict
	 WHERE principal_id = v_pid AND returnee_id = params->>'returnee_id';
	RETURN fl.conflict_json(c);
END
$$;

-- principal.conflicts: the declared conflicts, newest last, a page at a time: an approver's
-- own (unless it is also an admin or auditor), anyone's for admins and auditors.
CREATE OR REPLACE FUNCTION api.principal_conflicts(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
	v_pid	text := params->>'principal_id';
BEGIN
	IF NOT p.roles && ARRAY['admin', 'auditor'] THEN
		IF v_pid IS NOT NULL AND v_pid <> p.principal_id THEN
			PERFORM fl.rpc_error(-32003, 'role_required', 'principal_id',
			    'an approver reads its own conflicts',
			    jsonb_build_object('roles', jsonb_build_array('admin', 'auditor')));
		END IF;
		v_pid := p.principal_id;
	END IF;
	RETURN fl.page('conflicts', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
	    'j', fl.conflict_json(t)) ORDER BY t.seq)
	  FROM (SELECT * FROM fl.principal_conflict
	         WHERE seq > fl.cursor_in(params->>'cursor')
	           AND (v_pid IS NULL OR principal_id = v_pid)
	           AND (NOT params ? 'returnee_id' OR returnee_id = params->>'returnee_id')
	         ORDER BY seq LIMIT v_lim + 1) t), v_lim);
END
$$;

-- The set form of grant.approve ------------------------------------------------------------

-- Approves the grants p_params[1..n]->>'grant_id', each by the principal of p_token[k] (or
-- else p_cert[k]), method roles p_roles[k], idempotency key p_idem[k], as
-- api.grant_approve() does one after the other: the four-eyes rules, and for an approval
-- that is the last one a grant needs, its fund folded and locked, the available balance
-- checked, the commitment posted and the grant approved; with one statement per table
-- (docs/batching.md, One statement per batch). Returns api.call()'s answer for each, in
-- order, or NULL having written nothing; api.call_many() then runs the calls one by one.
CREATE OR REPLACE FUNCTION fl.approve_bulk(p_token bytea[], p_cert bytea[], p_roles text[],
    p_params jsonb[], p_idem text[]) RETURNS jsonb[]
LANGUAGE plpgsql AS $$
DECLARE
	v_n	int := cardinality(p_params);
	v_ps	fl.principal[];
	v_pids	text[];
	v_ids	text[];
	v_hash	bytea[];
	v_gs	fl.grant_application[];
	v_final	text[] := '{}';		-- the last approvals: their grants,
	v_funds	text[] := '{}';		-- funds,
	v_fpids	text[] := '{}';		-- approvers
	v_amts	bigint[] := '{}';	-- and amounts
	v_f	fl.fund;
	v_avail	bigint;
	v_res	jsonb[];
	g	fl.grant_application;
	k	int;
BEGIN
	v_ps := fl.bulk_callers(p_token, p_cert, p_roles);
	IF v_ps IS NULL THEN
		RETURN NULL;
	END IF;
	FOR k IN 1..v_n LOOP
		v_pids[k] := (v_ps[k]).principal_id;
		v_ids[k] := p_params[k]->>'grant_id';
		v_hash[k] := sha256(convert_to('grant.approve ' || p_params[k]::text, 'UTF8'));
	END LOOP;
	-- a grant twice in the run: the second call's answer depends on the first's
	IF array_position(v_ids, NULL) IS NOT NULL OR
	    (SELECT count(DISTINCT x) <> v_n FROM unnest(v_ids) AS x) THEN
		RETURN NULL;
	END IF;
	BEGIN
		IF NOT fl.bulk_claim_keys(v_pids, p_idem) THEN
			RAISE EXCEPTION USING ERRCODE = 'FLERR', MESSAGE = 'a key was used before';
		END IF;
		-- the grants' rows locked, as fl.grant_get(id, true) locks each; in grant_id
		-- order, so that two batches cannot deadlock on them
		SELECT array_agg(x ORDER BY array_position(v_ids, x.grant_id)) INTO v_gs
		  FROM (SELECT * FROM fl.grant_application WHERE grant_id = ANY (v_ids)
			 ORDER BY grant_id FOR UPDATE) AS x;
		IF coalesce(cardinality(v_gs), 0) <> v_n THEN
			RAISE EXCEPTION USING ERRCODE = 'FLERR', MESSAGE = 'a grant is unknown';
		END IF;
		-- fl.grant_decide()'s rules; and which approvals are the last their grant needs
		FOR k IN 1..v_n LOOP
			g := v_gs[k];
			IF g.created_by = v_pids[k] OR g.status <> 'submitted' OR
			    EXISTS (SELECT 1 FROM fl.grant_decision WHERE grant_id = g.grant_id
				     AND principal_id = v_pids[k]) OR
			    fl.grant_conflicted(g.grant_id, v_pids[k]) IS NOT NULL THEN
				RAISE EXCEPTION USING ERRCODE = 'FLERR', MESSAGE = 'a decision is refused';
			END IF;
			IF (SELECT count(*) FROM fl.grant_decision WHERE grant_id = g.grant_id
			     AND decision = 'approve') + 1 >= g.approvals_needed THEN
				v_final := v_final || g.grant_id;
				v_funds := v_funds || g.fund_code;
				v_fpids := v_fpids || v_pids[k];
				v_amts := v_amts || g.amount;
			END IF;
		END LOOP;
		-- each fund of a last approval folded and locked, as fl.fund_fold() does for
		-- each; what each approval commits counts against the available balance of the
		-- ones after it, in the calls' order
		FOR v_f IN SELECT ff.*
			     FROM (SELECT DISTINCT x.fund_code FROM unnest(v_gs) AS x
				    WHERE x.grant_id = ANY (v_final) ORDER BY 1) AS c
			    CROSS JOIN LATERAL fl.fund_fold(c.fund_code) AS ff LOOP
			v_avail := fl.fund_available(v_f);
			FOR k IN 1..v_n LOOP
				g := v_gs[k];
				CONTINUE WHEN g.fund_code <> v_f.code OR NOT g.grant_id = ANY (v_final);
				v_avail := v_avail - g.amount;
				IF v_avail < 0 THEN
					RAISE EXCEPTION USING ERRCODE = 'FLERR',
					    MESSAGE = 'the fund cannot cover an approval';
				END IF;
			END LOOP;
		END LOOP;
		INSERT INTO fl.grant_decision (grant_id, principal_id, decision, comment)
		SELECT u.id, u.pid, 'approve', u.p->>'comment'
		  FROM unnest(v_ids, v_pids, p_params) WITH ORDINALITY AS u(id, pid, p, o)
		 ORDER BY u.o;
		-- each commitment, as api.grant_approve() posts it
		PERFORM fl.post_many('commitment', 'commitment for grant ', v_funds, v_final,
		    v_fpids, 'grants_committed', 'commitments', v_amts);
		UPDATE fl.grant_application SET status = 'approved', committed = amount,
		    decided_at = now()
		 WHERE grant_id = ANY (v_final);
		SELECT array_agg(x ORDER BY array_position(v_ids, x.grant_id)) INTO v_gs
		  FROM fl.grant_application AS x WHERE x.grant_id = ANY (v_ids);
		FOR k IN 1..v_n LOOP
			v_res[k] := fl.grant_json(v_gs[k]);
		END LOOP;
		v_res := fl.bulk_record('grant.approve', v_pids, p_idem, v_hash, v_res);
		-- the commitments' checks deferred to commit, now (see api.call())
		SET CONSTRAINTS ALL IMMEDIATE;
		SET CONSTRAINTS ALL DEFERRED;
	EXCEPTION WHEN SQLSTATE 'FLERR' THEN
		RETURN NULL;
	END;
	RETURN v_res;
END
$$;
