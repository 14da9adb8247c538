-- Returnees' personal data (docs/privacy.md): sealed values as the daemon opens them, and
-- the data keys it needs for the values of an answer. The tables are fl.person_key and
-- the *_sealed, *_index columns of fl.returnee (migrations/0036_privacy.sql).

-- A sealed value in an answer: {"$sealed": field, "v": hex of the value}, or null. The
-- daemon (daemon/person.c) replaces it with what it opens to under the keys api.call()
-- hands it (fl.person_answer); a value without its key there fails the call. An erased
-- person's values are null, never sealed.
CREATE OR REPLACE FUNCTION fl.sealed_out(p_field text, p_v bytea) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p_v IS NOT NULL THEN
	    jsonb_build_object('$sealed', p_field, 'v', encode(p_v, 'hex')) END
$$;

-- Whose personal data the answer being built holds: fl.returnee_json, fl.grant_json and
-- returnee.history name each person they answer for, here, for fl.person_answer (a
-- transaction-local setting: a list of returnee ids).
CREATE OR REPLACE FUNCTION fl.person_seen(p_id text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('fl.persons', coalesce(current_setting('fl.persons', true), '') ||
	    p_id || ' ', true);
END
$$;

-- A recorded correction's old or new values (fl.correction_record keeps the columns
-- <field>_sealed of a returnee as bytea text), with each sealed column as its field's
-- sealed value, or null once the returnee is erased (p_erased).
CREATE OR REPLACE FUNCTION fl.sealed_fields_out(p jsonb, p_erased boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_object_agg(regexp_replace(e.k, '_sealed$', ''),
	    CASE WHEN e.k NOT LIKE '%\_sealed' THEN e.v
		WHEN p_erased THEN 'null'
		ELSE coalesce(fl.sealed_out(regexp_replace(e.k, '_sealed$', ''),
		    decode(substr(e.v #>> '{}', 3), 'hex')), 'null') END), '{}')
	  FROM jsonb_each(p) AS e(k, v)
$$;

-- Purposes and access events ---------------------------------------------------------------

-- What a call reads personal data for: its "purpose" param, or its caller's role's default
-- (an admin's and an approver's case management, an auditor's audit); returnee.export's
-- default is a data subject's request. (The "purpose" of grant.apply and grant.update is
-- the grant's: they read for the role's default.)
CREATE OR REPLACE FUNCTION fl.purpose_of(p fl.principal, p_method text, params jsonb)
RETURNS text LANGUAGE sql STABLE AS $$
	SELECT coalesce(CASE WHEN p_method NOT IN ('grant.apply', 'grant.update')
		THEN params->>'purpose' END,
	    CASE WHEN p_method = 'returnee.export' THEN 'data_subject_request'
		WHEN p.roles && ARRAY['admin', 'approver'] THEN 'case_management'
		ELSE 'audit' END)
$$;

-- The data keys of the people p_ids ({"<key id hex>": "<kek id>:<wrapped hex>"}, or {}) and
-- those of them who have one (null when none). (plan_cache_mode: as
-- fl.returnee_by_national.)
CREATE OR REPLACE FUNCTION fl.person_keys(p_ids text[], OUT keys jsonb, OUT ids text[])
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
	SELECT coalesce(jsonb_object_agg(encode(k.key_id, 'hex'),
		k.kek_id || ':' || encode(k.wrapped, 'hex')), '{}'),
	    array_agg(DISTINCT k.returnee_id)
	  INTO keys, ids
	  FROM fl.person_key k
	 WHERE k.returnee_id = ANY (p_ids);
END
$$;

-- api.call()'s answer p_answer for a call of p's (a read when p_read) that the daemon marked
-- as one whose answer may hold personal data (ctx "personal"): with the data keys of the
-- people it holds data of (fl.person_keys; the daemon opens the sealed values with them)
-- and an access event for each (who, when, whose, what for: fl.purpose_of). A mutation
-- writes its access events here, in its own transaction. A read writes nothing: its answer
-- carries them as "access" ({ids, purpose, params_sha256}), and the daemon records them
-- with api.access_record() before the answer leaves (docs/privacy.md). The people are those
-- fl.person_seen named while the answer was built (with p_seen), and the result's own
-- returnee_id. An erased person has no key left: their values stay sealed (null), and
-- reading them is no access. The answer about one person (a returnee's get, register or
-- update), the most frequent, takes their keys by their id alone: with an array of ids
-- PostgreSQL plans each call anew unless told otherwise (fl.person_keys), and a SET clause
-- here would cost every call.
CREATE OR REPLACE FUNCTION fl.person_answer(p_answer jsonb, p_ctx jsonb, p fl.principal,
    p_method text, p_params jsonb, p_read boolean, p_seen boolean) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_keys	jsonb;
	v_ids	text[];
	v_id	text;
	v_seen	text := CASE WHEN p_seen THEN current_setting('fl.persons', true) END;
BEGIN
	PERFORM set_config('fl.persons', '', true);
	IF p_ctx->>'personal' IS DISTINCT FROM 'true' OR NOT p_answer ? 'result' THEN
		RETURN p_answer;
	END IF;
	v_id := p_answer->'result'->>'returnee_id';
	-- an answer kept from before its person's erasure: their values, no longer opened
	IF NOT p_seen THEN
		IF EXISTS (SELECT 1 FROM fl.returnee WHERE returnee_id = v_id AND
		    erased_at IS NOT NULL) THEN
			RETURN jsonb_set(p_answer, '{result}', regexp_replace(
			    (p_answer->'result')::text,
			    '\{"v": "[0-9a-f]*", "\$sealed": "[a-z_]+"\}', 'null', 'g')::jsonb);
		END IF;
	END IF;
	-- the people named while the answer was built, or, for an answer built before (a
	-- replay) or in a set (a run of approvals), the one it is about (a returnee's or a
	-- grant's returnee_id)
	IF coalesce(v_seen, '') IN ('', v_id || ' ') THEN
		SELECT coalesce(jsonb_object_agg(encode(k.key_id, 'hex'),
			k.kek_id || ':' || encode(k.wrapped, 'hex')), '{}'),
		    CASE WHEN count(*) > 0 THEN ARRAY[v_id] END
		  INTO v_keys, v_ids
		  FROM fl.person_key k
		 WHERE k.returnee_id = v_id;
	ELSE
		SELECT * INTO v_keys, v_ids FROM fl.person_keys(string_to_array(v_seen ||
		    coalesce(v_id, ''), ' '));
	END IF;
	-- (the daemon's own read of a returnee for grant.apply's statistics is that call's:
	-- ctx "access" false, the access event is grant.apply's)
	IF v_ids IS NULL OR p_ctx->>'access' IS NOT DISTINCT FROM 'false' THEN
		RETURN p_answer || jsonb_build_object('keys', v_keys);
	END IF;
	IF p_read THEN
		RETURN p_answer || jsonb_build_object('keys', v_keys, 'access',
		    jsonb_build_object('ids', to_jsonb(v_ids),
			'purpose', fl.purpose_of(p, p_method, p_params),
			'params_sha256', encode(fl.params_sha256(p_method, p_params), 'hex')));
	END IF;
	-- as fl.audit_record(): the transaction id before the seqs
	PERFORM pg_current_xact_id();
	INSERT INTO fl.audit_event (principal_id, method, object_id, outcome, params_sha256,
	    purpose)
	SELECT p.principal_id, p_method, x.id, 'ok', fl.params_sha256(p_method, p_params),
	    fl.purpose_of(p, p_method, p_params)
	  FROM unnest(v_ids) AS x(id) ORDER BY x.id;
	RETURN p_answer || jsonb_build_object('keys', v_keys);
END
$$;

-- The access events of reads (fl.person_answer), the k-th of p_method[k] by the caller of
-- p_token[k] (or else p_cert[k]) with answer's "access" p_access[k]: one event per id, in
-- one statement for the lot, which the daemon sends as a batch of the records waiting
-- (docs/batching.md). One row per read, in order: true, or false when nobody holds its
-- credentials any more (a token replaced since the read), and nothing is written for it.
-- The principal is the one the credentials name, revoked since or not: the read was
-- theirs, and without a principal's token hash nothing can be written in their name. An
-- entry point of the daemon's role. (plan_cache_mode: as fl.returnee_by_national.)
CREATE OR REPLACE FUNCTION api.access_record(p_token bytea[], p_cert bytea[],
    p_method text[], p_access jsonb[]) RETURNS SETOF boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	v_ps	text[];
BEGIN
	IF cardinality(p_cert) <> cardinality(p_token) OR
	    cardinality(p_method) <> cardinality(p_token) OR
	    cardinality(p_access) <> cardinality(p_token) THEN
		RAISE EXCEPTION 'api.access_record: arrays of different lengths';
	END IF;
	SELECT array_agg(CASE WHEN t.token IS NOT NULL THEN
		(SELECT pr.principal_id FROM fl.principal pr WHERE pr.token_hash = t.token)
	    ELSE (SELECT pr.principal_id FROM fl.principal pr WHERE pr.cert_sha256 = t.cert)
	    END ORDER BY t.k)
	  INTO v_ps
	  FROM unnest(p_token, p_cert) WITH ORDINALITY AS t(token, cert, k);
	-- as fl.audit_record(): the transaction id before the seqs
	PERFORM pg_current_xact_id();
	INSERT INTO fl.audit_event (principal_id, method, object_id, outcome, params_sha256,
	    purpose)
	SELECT v_ps[a.k], p_method[a.k], x.id, 'ok', decode(a.a->>'params_sha256', 'hex'),
	    a.a->>'purpose'
	  FROM unnest(p_access) WITH ORDINALITY AS a(a, k),
	       jsonb_array_elements_text(a.a->'ids') WITH ORDINALITY AS x(id, o)
	 WHERE v_ps[a.k] IS NOT NULL
	 ORDER BY a.k, x.o;
	RETURN QUERY SELECT v_ps[k] IS NOT NULL FROM generate_series(1, cardinality(p_token)) k
	    ORDER BY k;
END
$$;

-- returnee.access_log: who read a returnee's personal data, when, with which method and
-- what for, oldest first, a page at a time.
CREATE OR REPLACE FUNCTION api.returnee_access_log(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM fl.returnee WHERE returnee_id = params->>'returnee_id') THEN
		PERFORM fl.rpc_error(-32004, 'returnee_not_found', 'returnee_id');
	END IF;
	RETURN fl.page('accesses', (SELECT jsonb_agg(jsonb_build_object('s', e.seq,
	    'j', fl.access_json(e)) ORDER BY e.seq)
	  FROM (SELECT * FROM fl.audit_event
		 WHERE object_id = params->>'returnee_id' AND purpose IS NOT NULL
		   AND seq > fl.cursor_in(params->>'cursor')
		 ORDER BY seq LIMIT fl.limit_in(params) + 1) e), fl.limit_in(params))
	    || jsonb_build_object('returnee_id', params->>'returnee_id');
END
$$;

CREATE OR REPLACE FUNCTION fl.access_json(e fl.audit_event) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('seq', e.seq, 'at', fl.ts(e.at), 'principal_id', e.principal_id,
	    'name', (SELECT name FROM fl.principal WHERE principal_id = e.principal_id),
	    'method', e.method, 'purpose', e.purpose)
$$;

-- Consent ----------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION fl.consent_json(c fl.returnee_consent) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN c.seq IS NOT NULL THEN jsonb_build_object('for', to_jsonb(c.purposes),
	    'given_on', c.given_on::text, 'given_by', c.given_by, 'until', c.until::text,
	    'recorded_by', c.recorded_by, 'recorded_at', fl.ts(c.recorded_at)) END
$$;

-- The consent that stands for returnee p_id (the last one recorded), or null.
CREATE OR REPLACE FUNCTION fl.consent_of(p_id text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	c	fl.returnee_consent;
BEGIN
	SELECT * INTO c FROM fl.returnee_consent WHERE returnee_id = p_id
	 ORDER BY seq DESC LIMIT 1;
	RETURN fl.consent_json(c);
END
$$;

-- The consent params of returnee.register and returnee.update, recorded for p_id when
-- given: consent_for and consent_given_on (not to come) together, consent_given_by
-- (self by default), consent_until (not before it was given).
CREATE OR REPLACE FUNCTION fl.consent_in(p_id text, p fl.principal, params jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF NOT params ?| ARRAY['consent_for', 'consent_given_on', 'consent_given_by',
	    'consent_until'] THEN
		RETURN;
	END IF;
	IF NOT params ? 'consent_for' OR jsonb_array_length(params->'consent_for') = 0 THEN
		PERFORM fl.rpc_error(-32602, 'consent_incomplete', 'consent_for',
		    'a consent needs what it was given for and when');
	END IF;
	IF NOT params ? 'consent_given_on' THEN
		PERFORM fl.rpc_error(-32602, 'consent_incomplete', 'consent_given_on',
		    'a consent needs what it was given for and when');
	END IF;
	IF (params->>'consent_given_on')::date > current_date THEN
		PERFORM fl.rpc_error(-32602, 'in_the_future', 'consent_given_on');
	END IF;
	IF (params->>'consent_until')::date < (params->>'consent_given_on')::date THEN
		PERFORM fl.rpc_error(-32602, 'end_before_start', 'consent_until');
	END IF;
	INSERT INTO fl.returnee_consent (returnee_id, purposes, given_on, given_by, until,
	    recorded_by)
	VALUES (p_id, ARRAY(SELECT DISTINCT x FROM jsonb_array_elements_text(
		params->'consent_for') x ORDER BY x),
	    (params->>'consent_given_on')::date, coalesce(params->>'consent_given_by', 'self'),
	    (params->>'consent_until')::date, p.principal_id);
END
$$;

-- Erasure ----------------------------------------------------------------------------------

-- A person's keys go only with their erasure; a key is only ever wrapped anew (key
-- rotation).
CREATE OR REPLACE FUNCTION fl.person_key_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		IF NOT EXISTS (SELECT 1 FROM fl.returnee WHERE returnee_id = OLD.returnee_id
		    AND erased_at IS NOT NULL) THEN
			RAISE EXCEPTION 'person_key: a key goes only with its person''s erasure';
		END IF;
		RETURN OLD;
	END IF;
	IF (NEW.key_id, NEW.returnee_id, NEW.created_at) IS DISTINCT FROM
	    (OLD.key_id, OLD.returnee_id, OLD.created_at) THEN
		RAISE EXCEPTION 'person_key: only kek_id and wrapped change (key rotation)';
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER person_key_guard BEFORE UPDATE OR DELETE ON fl.person_key
	FOR EACH ROW EXECUTE FUNCTION fl.person_key_guard();
CREATE OR REPLACE TRIGGER person_key_no_truncate BEFORE TRUNCATE ON fl.person_key
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

-- An erased returnee stays erased: no personal data, no index, no new key.
CREATE OR REPLACE FUNCTION fl.returnee_erased_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'person_key' THEN
		IF EXISTS (SELECT 1 FROM fl.returnee WHERE returnee_id = NEW.returnee_id
		    AND erased_at IS NOT NULL) THEN
			RAISE EXCEPTION 'person_key: % is erased', NEW.returnee_id;
		END IF;
	ELSIF OLD.erased_at IS NOT NULL AND (NEW.erased_at IS DISTINCT FROM OLD.erased_at OR
	    num_nonnulls(NEW.full_name_sealed, NEW.national_id_sealed, NEW.birth_year_sealed,
		NEW.gender_sealed, NEW.contact_sealed, NEW.notes_sealed, NEW.national_index,
		NEW.name_index) > 0) THEN
		RAISE EXCEPTION 'returnee %: erased, and stays so', OLD.returnee_id;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER returnee_erased_guard BEFORE UPDATE ON fl.returnee
	FOR EACH ROW EXECUTE FUNCTION fl.returnee_erased_guard();
CREATE OR REPLACE TRIGGER person_key_erased_guard BEFORE INSERT ON fl.person_key
	FOR EACH ROW EXECUTE FUNCTION fl.returnee_erased_guard();

-- An erasure is asked for, then done or cancelled, once.
CREATE OR REPLACE FUNCTION fl.erasure_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'UPDATE' OR OLD.status <> 'pending' OR
	    (NEW.erasure_id, NEW.seq, NEW.returnee_id, NEW.basis, NEW.reason, NEW.requested_by,
	     NEW.requested_at) IS DISTINCT FROM (OLD.erasure_id, OLD.seq, OLD.returnee_id,
	     OLD.basis, OLD.reason, OLD.requested_by, OLD.requested_at) THEN
		RAISE EXCEPTION 'erasure: % refused (a pending erasure is done or cancelled, '
		    'once)', TG_OP;
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER erasure_guard BEFORE UPDATE OR DELETE ON fl.erasure
	FOR EACH ROW EXECUTE FUNCTION fl.erasure_guard();
CREATE OR REPLACE TRIGGER erasure_no_truncate BEFORE TRUNCATE ON fl.erasure
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

CREATE OR REPLACE FUNCTION fl.erasure_json(e fl.erasure) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('erasure_id', e.erasure_id, 'returnee_id', e.returnee_id,
	    'basis', e.basis, 'reason', e.reason, 'status', e.status,
	    'requested_by', e.requested_by, 'requested_at', fl.ts(e.requested_at),
	    'decided_by', e.decided_by, 'decided_at', fl.ts(e.decided_at))
$$;

-- Erases returnee p_id (locked by the caller) now: its keys destroyed (crypto-shredding),
-- its sealed values and keyed index gone. Its grants, payments, the journal, reports and
-- the audit trail stay; corrections and kept answers keep sealed values no key opens.
CREATE OR REPLACE FUNCTION fl.erase_now(p_id text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE fl.returnee SET erased_at = now(), full_name_sealed = NULL,
	    national_id_sealed = NULL, birth_year_sealed = NULL, gender_sealed = NULL,
	    contact_sealed = NULL, notes_sealed = NULL, national_index = NULL,
	    name_index = NULL, index_kek = NULL
	 WHERE returnee_id = p_id;
	DELETE FROM fl.person_key WHERE returnee_id = p_id;
END
$$;

-- A returnee to erase, locked: -32004, -32009 erased, -32009 grant_open (a grant still
-- submitted or approved: its payments need the person).
CREATE OR REPLACE FUNCTION fl.erasable(p_id text) RETURNS fl.returnee
LANGUAGE plpgsql AS $$
DECLARE
	r	fl.returnee := fl.returnee_get(p_id, true);
	v_g	text;
BEGIN
	IF r.erased_at IS NOT NULL THEN
		PERFORM fl.rpc_error(-32009, 'erased', 'returnee_id',
		    'this returnee''s personal data was erased');
	END IF;
	SELECT grant_id INTO v_g FROM fl.grant_application
	 WHERE returnee_id = p_id AND status IN ('submitted', 'approved') ORDER BY seq LIMIT 1;
	IF v_g IS NOT NULL THEN
		PERFORM fl.rpc_error(-32009, 'grant_open', 'returnee_id',
		    'a grant of this returnee is still open: withdraw, cancel or complete it first',
		    jsonb_build_object('grant_id', v_g));
	END IF;
	RETURN r;
END
$$;

-- returnee.erase: an admin asks for a returnee's erasure; another confirms it
-- (returnee.erase_confirm).
CREATE OR REPLACE FUNCTION api.returnee_erase(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r	fl.returnee := fl.erasable(params->>'returnee_id');
	e	fl.erasure;
BEGIN
	IF EXISTS (SELECT 1 FROM fl.erasure WHERE returnee_id = r.returnee_id
	    AND status = 'pending') THEN
		PERFORM fl.rpc_error(-32009, 'erasure_pending', 'returnee_id',
		    'an erasure of this returnee waits for confirmation already');
	END IF;
	INSERT INTO fl.erasure (erasure_id, returnee_id, basis, reason, requested_by)
	VALUES (fl.new_id('er'), r.returnee_id, 'request', params->>'reason', p.principal_id)
	RETURNING * INTO e;
	RETURN fl.erasure_json(e);
END
$$;

CREATE OR REPLACE FUNCTION fl.erasure_pending(p_id text) RETURNS fl.erasure
LANGUAGE plpgsql AS $$
DECLARE
	e	fl.erasure;
BEGIN
	SELECT * INTO e FROM fl.erasure WHERE erasure_id = p_id FOR UPDATE;
	IF e.erasure_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'erasure_not_found', 'erasure_id');
	END IF;
	IF e.status <> 'pending' THEN
		PERFORM fl.wrong_state(e.status);
	END IF;
	RETURN e;
END
$$;

-- returnee.erase_confirm: another admin than the one who asked erases the returnee.
CREATE OR REPLACE FUNCTION api.returnee_erase_confirm(p fl.principal, params jsonb,
    ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	e	fl.erasure := fl.erasure_pending(params->>'erasure_id');
BEGIN
	IF e.requested_by = p.principal_id THEN
		PERFORM fl.rpc_error(-32011, 'own_erasure', 'erasure_id',
		    'the admin who asked for an erasure may not confirm it');
	END IF;
	PERFORM fl.erasable(e.returnee_id);
	PERFORM fl.erase_now(e.returnee_id);
	UPDATE fl.erasure SET status = 'done', decided_by = p.principal_id, decided_at = now()
	 WHERE erasure_id = e.erasure_id RETURNING * INTO e;
	RETURN fl.erasure_json(e);
END
$$;

-- returnee.erase_cancel: any admin drops a pending erasure.
CREATE OR REPLACE FUNCTION api.returnee_erase_cancel(p fl.principal, params jsonb,
    ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	e	fl.erasure := fl.erasure_pending(params->>'erasure_id');
BEGIN
	UPDATE fl.erasure SET status = 'cancelled', decided_by = p.principal_id,
	    decided_at = now()
	 WHERE erasure_id = e.erasure_id RETURNING * INTO e;
	RETURN fl.erasure_json(e);
END
$$;

-- Retention --------------------------------------------------------------------------------

-- The returnees whose personal data is due for erasure today, with retention of p_years:
-- none of their grants open, and p_years passed since the last of them closed (decided, or
-- last paid) or, without grants, since they were registered (basis retention); or the
-- consent that stands for them ended (consent_ended). Oldest first.
CREATE OR REPLACE FUNCTION fl.due_rows(p_years int) RETURNS TABLE (seq bigint,
    returnee_id text, basis text, due_since date, last_closed_at timestamptz)
LANGUAGE sql STABLE AS $$
	SELECT r.seq, r.returnee_id,
	    CASE WHEN c.until < current_date THEN 'consent_ended' ELSE 'retention' END,
	    least(CASE WHEN c.until < current_date THEN c.until + 1 END,
		CASE WHEN (coalesce(g.closed, r.created_at) + make_interval(years => p_years))
		    <= now() THEN (coalesce(g.closed, r.created_at) +
		    make_interval(years => p_years))::date END),
	    g.closed
	  FROM fl.returnee r
	  LEFT JOIN LATERAL (SELECT max(greatest(x.decided_at, x.created_at,
		    (SELECT max(d.paid_at) FROM fl.disbursement d
		      WHERE d.grant_id = x.grant_id))) AS closed,
		    bool_or(x.status IN ('submitted', 'approved')) AS open
		  FROM fl.grant_application x WHERE x.returnee_id = r.returnee_id) g ON true
	  LEFT JOIN LATERAL (SELECT * FROM fl.returnee_consent k
		 WHERE k.returnee_id = r.returnee_id ORDER BY k.seq DESC LIMIT 1) c ON true
	 WHERE r.erased_at IS NULL AND NOT coalesce(g.open, false)
	   AND (c.until < current_date OR coalesce(g.closed, r.created_at) +
		make_interval(years => p_years) <= now())
$$;

-- privacy.due: who is due for erasure (fl.due_rows, with the daemon's [privacy]
-- retention_years in ctx), with any erasure of theirs waiting for confirmation, a page at
-- a time. No personal data.
CREATE OR REPLACE FUNCTION api.privacy_due(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
BEGIN
	RETURN fl.page('due', (SELECT jsonb_agg(jsonb_build_object('s', d.seq,
	    'j', jsonb_build_object('returnee_id', d.returnee_id, 'region', g.region,
		'region_code', r.region, 'kind', r.kind, 'basis', d.basis,
		'due_since', d.due_since::text, 'last_grant_closed_at', fl.ts(d.last_closed_at),
		'erasure_pending', (SELECT erasure_id FROM fl.erasure e
		    WHERE e.returnee_id = d.returnee_id AND e.status = 'pending')))
	    ORDER BY d.seq)
	  FROM (SELECT * FROM fl.due_rows((ctx->>'retention_years')::int)
		 WHERE seq > fl.cursor_in(params->>'cursor')
		 ORDER BY seq LIMIT v_lim + 1) d
	  JOIN fl.returnee r ON r.returnee_id = d.returnee_id
	  JOIN fl.region g ON g.region_code = r.region), v_lim)
	    || jsonb_build_object('retention_years', (ctx->>'retention_years')::int);
END
$$;

-- Worker 0's erasure of who is due (docs/privacy.md): at most p_limit returnees, each with
-- its erasure recorded (no principal) and an event in the audit trail. Returns how many.
-- An entry point of the daemon's role (functions/95_privileges.sql).
CREATE OR REPLACE FUNCTION fl.erase_due(p_years int, p_limit int) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	d	record;
	n	int := 0;
BEGIN
	FOR d IN SELECT x.* FROM fl.due_rows(p_years) x
		  JOIN fl.returnee r ON r.returnee_id = x.returnee_id
		 ORDER BY x.seq LIMIT p_limit FOR UPDATE OF r SKIP LOCKED LOOP
		PERFORM fl.erase_now(d.returnee_id);
		UPDATE fl.erasure SET status = 'cancelled', decided_at = now()
		 WHERE returnee_id = d.returnee_id AND status = 'pending';
		INSERT INTO fl.erasure (erasure_id, returnee_id, basis, reason, status,
		    decided_at)
		VALUES (fl.new_id('er'), d.returnee_id, d.basis,
		    CASE d.basis WHEN 'retention' THEN format('retention of %s years ended',
			p_years) ELSE 'the consent ended' END, 'done', now());
		PERFORM fl.audit_record(NULL, 'privacy.erase', d.returnee_id, NULL, NULL,
		    fl.params_sha256('privacy.erase', jsonb_build_object('returnee_id',
			d.returnee_id, 'basis', d.basis)));
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;

-- returnee.export --------------------------------------------------------------------------

-- returnee.export: everything held about one returnee, as the answer to their request
-- (data subject access): the record, every consent, every correction, their grants with
-- their payments, erasures, and who read their data.
CREATE OR REPLACE FUNCTION api.returnee_export(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	r	fl.returnee := fl.returnee_get(params->>'returnee_id', false);
	v_all	jsonb := '{"limit": 1000000}';
BEGIN
	RETURN jsonb_build_object('exported_at', fl.ts(now()),
	    'returnee', fl.returnee_json(r),
	    'consents', coalesce((SELECT jsonb_agg(fl.consent_json(c) ORDER BY c.seq)
		FROM fl.returnee_consent c WHERE c.returnee_id = r.returnee_id), '[]'),
	    'history', fl.history('returnee', r.returnee_id, v_all)->'history',
	    'grants', coalesce((SELECT jsonb_agg(fl.grant_json(g) || jsonb_build_object(
		'disbursements', coalesce((SELECT jsonb_agg(jsonb_build_object(
		    'disbursement_id', d.disbursement_id, 'amount',
		    fl.money_out(d.amount, fl.minor(f.currency)), 'status', d.status,
		    'paid_at', fl.ts(d.paid_at), 'created_at', fl.ts(d.created_at))
		    ORDER BY d.seq) FROM fl.disbursement d
		    WHERE d.grant_id = g.grant_id), '[]')) ORDER BY g.seq)
		FROM fl.grant_application g JOIN fl.fund f ON f.code = g.fund_code
	       WHERE g.returnee_id = r.returnee_id), '[]'),
	    'erasures', coalesce((SELECT jsonb_agg(fl.erasure_json(e) ORDER BY e.seq)
		FROM fl.erasure e WHERE e.returnee_id = r.returnee_id), '[]'),
	    'accesses', coalesce((SELECT jsonb_agg(fl.access_json(e) ORDER BY e.seq)
		FROM fl.audit_event e WHERE e.object_id = r.returnee_id
		 AND e.purpose IS NOT NULL), '[]'));
END
$$;
