-- Milestones and their evidence (docs/protocol.md: grant.add_milestone, milestone.*,
-- POST /documents, GET /documents/{id}), and the payee's account of a disbursement. The
-- tables are migrations/0032_milestones_documents.sql's.

-- Payee accounts -------------------------------------------------------------------------

-- The length of an IBAN of each country of the ISO 13616 register; NULL for a country
-- without IBANs (Armenia: its accounts are fl.account_in()'s local form).
CREATE OR REPLACE FUNCTION fl.iban_length(p_country text) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
	SELECT ('{"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16,
	    "BG": 22, "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
	    "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18,
	    "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21,
	    "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30,
	    "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
	    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
	    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
	    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
	    "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24,
	    "XK": 20}'::jsonb->>p_country)::int
$$;

-- A payee account from its text (spaces allowed), compact and upper case: an IBAN of its
-- country's length whose ISO 7064 mod-97 check holds, or a local Armenian bank account of
-- 11 to 16 digits. NULL for NULL; -32602 bad_account otherwise.
CREATE OR REPLACE FUNCTION fl.account_in(p_text text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v	text := upper(regexp_replace(p_text, '[ ]', '', 'g'));
	v_num	text := '';
	c	text;
BEGIN
	IF p_text IS NULL THEN
		RETURN NULL;
	END IF;
	IF v ~ '^[0-9]{11,16}$' THEN
		RETURN v;
	END IF;
	IF v ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]+$'
	   AND length(v) = fl.iban_length(substr(v, 1, 2)) THEN
		-- the first four characters moved to the end, letters as 10..35
		FOREACH c IN ARRAY regexp_split_to_array(substr(v, 5) || substr(v, 1, 4), '')
		LOOP
			v_num := v_num || CASE WHEN c ~ '[A-Z]' THEN (ascii(c) - 55)::text ELSE c END;
		END LOOP;
		IF v_num::numeric % 97 = 1 THEN
			RETURN v;
		END IF;
	END IF;
	PERFORM fl.rpc_error(-32602, 'bad_account', 'payee_account',
	    'not an IBAN of its country''s length with a valid check, nor a local account',
	    jsonb_build_object('expected', 'an IBAN (AA00 then the country''s digits and '
		'letters; spaces allowed), or an Armenian bank account of 11 to 16 digits'));
	RETURN NULL;
END
$$;

-- Documents ------------------------------------------------------------------------------

CREATE OR REPLACE TRIGGER document_append_only BEFORE UPDATE OR DELETE ON fl.document
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER document_no_truncate BEFORE TRUNCATE ON fl.document
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

-- A document as the protocol shows it, without its bytes.
CREATE OR REPLACE FUNCTION fl.document_json(d fl.document) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('document_id', d.document_id, 'content_type', d.content_type,
	    'size', d.size, 'sha256', encode(d.sha256, 'hex'), 'filename', d.filename,
	    'supersedes', d.supersedes,
	    'superseded_by', (SELECT x.document_id FROM fl.document x
		WHERE x.supersedes = d.document_id),
	    'created_at', fl.ts(d.created_at), 'created_by', d.created_by)
$$;

-- POST /documents: store p_data (its type sniffed by the daemon already) for an admin,
-- with its SHA-256, which its audit event carries as its params_sha256. p_idem makes a
-- retry answer the first document. Returns {"result": document} or {"error": ...}. An
-- entry point of the daemon's role (functions/95_privileges.sql).
CREATE OR REPLACE FUNCTION api.document_upload(p_token bytea, p_cert bytea, p_ctype text,
    p_data bytea, p_filename text, p_supersedes text, p_idem text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_p	fl.principal := fl.authenticate(p_token, p_cert);
	v_sha	bytea := sha256(p_data);
	v_key	bytea;
	v_row	fl.idempotency;
	d	fl.document;
	v_err	jsonb;
BEGIN
	IF v_p.principal_id IS NULL THEN
		RETURN fl.refusal(NULL, 'document.put', '{}', -32001,
		    fl.refusal_reason(p_token, p_cert));
	END IF;
	IF NOT 'admin' = ANY (v_p.roles) THEN
		RETURN fl.refusal(v_p.principal_id, 'document.put', '{}', -32003,
		    'role_required', jsonb_build_object('roles', jsonb_build_array('admin')));
	END IF;
	-- the same key with the same document (and name, and what it supersedes) answers the
	-- first; with another, -32009 idempotency_mismatch
	v_key := sha256(convert_to('document.put ' || encode(v_sha, 'hex') || ' ' ||
	    coalesce(p_filename, '') || ' ' || coalesce(p_supersedes, ''), 'UTF8'));
	IF p_idem IS NOT NULL THEN
		PERFORM pg_advisory_xact_lock(hashtextextended(v_p.principal_id || ' ' || p_idem,
		    0));
		SELECT * INTO v_row FROM fl.idempotency
		 WHERE principal_id = v_p.principal_id AND key = p_idem;
		IF v_row.key IS NOT NULL THEN
			IF v_row.method <> 'document.put' OR v_row.params_sha256 <> v_key THEN
				RETURN jsonb_build_object('error', jsonb_build_object('code', -32009,
				    'message', 'the idempotency key was used for another request',
				    'data', jsonb_build_object('reason', 'idempotency_mismatch',
					'field', 'Idempotency-Key')));
			END IF;
			RETURN jsonb_build_object('result', v_row.result, 'replayed', true);
		END IF;
	END IF;
	BEGIN
		IF p_supersedes IS NOT NULL THEN
			IF NOT EXISTS (SELECT 1 FROM fl.document
			    WHERE document_id = p_supersedes) THEN
				PERFORM fl.rpc_error(-32004, 'document_not_found', 'supersedes');
			END IF;
			IF EXISTS (SELECT 1 FROM fl.document WHERE supersedes = p_supersedes) THEN
				PERFORM fl.rpc_error(-32009, 'already_superseded', 'supersedes');
			END IF;
		END IF;
		INSERT INTO fl.document (document_id, content_type, data, size, sha256, filename,
		    supersedes, created_by)
		VALUES (fl.new_id('doc'), p_ctype, p_data, length(p_data), v_sha, p_filename,
		    p_supersedes, v_p.principal_id)
		RETURNING * INTO d;
	EXCEPTION WHEN SQLSTATE 'FLERR' THEN
		v_err := SQLERRM::jsonb;
		RETURN jsonb_build_object('error', v_err);
	END;
	PERFORM fl.audit_record(v_p.principal_id, 'document.put', d.document_id, NULL, NULL,
	    v_sha);
	IF p_idem IS NOT NULL THEN
		INSERT INTO fl.idempotency (principal_id, key, method, params_sha256, result)
		VALUES (v_p.principal_id, p_idem, 'document.put', v_key, fl.document_json(d));
	END IF;
	RETURN jsonb_build_object('result', fl.document_json(d), 'replayed', false);
END
$$;

-- GET /documents/{id}: a document's bytes and what they are, for the roles that may read
-- grants (admin, approver, auditor); never a partner. Returns the answer ({"result":
-- document} or {"error": ...}) and, with a result, the bytes. An entry point of the
-- daemon's role.
CREATE OR REPLACE FUNCTION api.document_download(p_token bytea, p_cert bytea, p_id text,
    OUT answer jsonb, OUT data bytea)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v_p	fl.principal := fl.authenticate(p_token, p_cert);
	d	fl.document;
BEGIN
	IF v_p.principal_id IS NULL THEN
		answer := jsonb_build_object('error', jsonb_build_object('code', -32001,
		    'message', 'unauthenticated', 'data', jsonb_build_object('reason',
		    fl.refusal_reason(p_token, p_cert))));
		RETURN;
	END IF;
	IF NOT v_p.roles && ARRAY['admin', 'approver', 'auditor'] THEN
		answer := jsonb_build_object('error', jsonb_build_object('code', -32003,
		    'message', 'forbidden', 'data', jsonb_build_object('reason', 'role_required',
		    'roles', jsonb_build_array('admin', 'approver', 'auditor'))));
		RETURN;
	END IF;
	SELECT * INTO d FROM fl.document WHERE document_id = p_id;
	IF d.document_id IS NULL THEN
		answer := jsonb_build_object('error', jsonb_build_object('code', -32004,
		    'message', 'not found', 'data', jsonb_build_object('reason',
		    'document_not_found', 'field', 'id')));
		RETURN;
	END IF;
	answer := jsonb_build_object('result', fl.document_json(d));
	data := d.data;
END
$$;

-- document.get: a document's description (not its bytes: GET /documents/{id}).
CREATE OR REPLACE FUNCTION api.document_get(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	d	fl.document;
BEGIN
	SELECT * INTO d FROM fl.document WHERE document_id = params->>'document_id';
	IF d.document_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'document_not_found', 'document_id');
	END IF;
	RETURN fl.document_json(d);
END
$$;

-- Milestones -----------------------------------------------------------------------------

-- A milestone as the protocol shows it, with every submission and decision.
CREATE OR REPLACE FUNCTION fl.milestone_json(m fl.milestone) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_cur	text;
BEGIN
	SELECT f.currency INTO v_cur FROM fl.grant_application g
	  JOIN fl.fund f ON f.code = g.fund_code WHERE g.grant_id = m.grant_id;
	RETURN jsonb_build_object('milestone_id', m.milestone_id, 'grant_id', m.grant_id,
	    'due_on', m.due_on, 'evidence_required', m.evidence_required,
	    'amount', fl.money_out(m.amount, fl.minor(v_cur)), 'currency', v_cur,
	    'status', m.status, 'overdue', m.status <> 'accepted' AND m.due_on < current_date,
	    'document_ids', to_jsonb(coalesce(m.document_ids, '{}')), 'note', m.note,
	    'submitted_at', fl.ts(m.submitted_at), 'submitted_by', m.submitted_by,
	    'decided_at', fl.ts(m.decided_at), 'decided_by', m.decided_by,
	    'reason', m.reason,
	    'events', coalesce((SELECT jsonb_agg(jsonb_build_object('kind', e.kind,
		'principal_id', e.principal_id, 'at', fl.ts(e.at),
		'document_ids', to_jsonb(coalesce(e.document_ids, '{}')), 'note', e.note)
		ORDER BY e.seq) FROM fl.milestone_event e
	       WHERE e.milestone_id = m.milestone_id), '[]'),
	    'released_by', (SELECT d.disbursement_id FROM fl.disbursement d
		WHERE d.milestone_id = m.milestone_id AND d.status IN ('pending', 'paid')),
	    'created_at', fl.ts(m.created_at), 'created_by', m.created_by);
END
$$;

-- A milestone by id, locked: -32004 if there is none.
CREATE OR REPLACE FUNCTION fl.milestone_get(p_id text) RETURNS fl.milestone
LANGUAGE plpgsql AS $$
DECLARE
	m	fl.milestone;
BEGIN
	SELECT * INTO m FROM fl.milestone WHERE milestone_id = p_id FOR UPDATE;
	IF m.milestone_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'milestone_not_found', 'milestone_id');
	END IF;
	RETURN m;
END
$$;

-- grant.add_milestone: what must be shown by when, and the tranche it releases, on a grant
-- submitted or approved; its milestones' tranches never exceed the grant.
CREATE OR REPLACE FUNCTION api.grant_add_milestone(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	g	fl.grant_application := fl.grant_get(params->>'grant_id', true);
	v_min	int := fl.minor((SELECT currency FROM fl.fund WHERE code = g.fund_code));
	v_amt	bigint := fl.money_in(params->>'amount', v_min, 'amount');
	v_set	bigint;
	m	fl.milestone;
BEGIN
	IF g.status NOT IN ('submitted', 'approved') THEN
		PERFORM fl.wrong_state(g.status);
	END IF;
	SELECT coalesce(sum(amount), 0) INTO v_set FROM fl.milestone
	 WHERE grant_id = g.grant_id;
	IF v_set + v_amt > g.amount THEN
		PERFORM fl.rpc_error(-32009, 'milestones_exceed_grant', 'amount',
		    'the milestones'' tranches would exceed the grant',
		    jsonb_build_object('remaining', fl.money_out(g.amount - v_set, v_min)));
	END IF;
	INSERT INTO fl.milestone (milestone_id, grant_id, due_on, evidence_required, amount,
	    created_by)
	VALUES (fl.new_id('ms'), g.grant_id, (params->>'due_on')::date,
	    params->>'evidence_required', v_amt, p.principal_id)
	RETURNING * INTO m;
	RETURN fl.milestone_json(m);
END
$$;

-- milestone.submit: the evidence of an open milestone, as documents stored already.
CREATE OR REPLACE FUNCTION api.milestone_submit(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	m	fl.milestone := fl.milestone_get(params->>'milestone_id');
	v_docs	text[];
BEGIN
	IF m.status <> 'open' THEN
		PERFORM fl.wrong_state(m.status);
	END IF;
	SELECT array_agg(DISTINCT x ORDER BY x) INTO v_docs
	  FROM jsonb_array_elements_text(params->'document_ids') x;
	IF v_docs IS NULL THEN
		PERFORM fl.rpc_error(-32602, 'no_documents', 'document_ids',
		    'evidence is one document or more');
	END IF;
	IF EXISTS (SELECT 1 FROM unnest(v_docs) x
	    WHERE NOT EXISTS (SELECT 1 FROM fl.document d WHERE d.document_id = x)) THEN
		PERFORM fl.rpc_error(-32004, 'document_not_found', 'document_ids');
	END IF;
	UPDATE fl.milestone SET status = 'submitted', submitted_at = now(),
	       submitted_by = p.principal_id, document_ids = v_docs, note = params->>'note',
	       decided_at = NULL, decided_by = NULL, reason = NULL
	 WHERE milestone_id = m.milestone_id RETURNING * INTO m;
	INSERT INTO fl.milestone_event (milestone_id, kind, principal_id, document_ids, note)
	VALUES (m.milestone_id, 'submit', p.principal_id, v_docs, params->>'note');
	RETURN fl.milestone_json(m);
END
$$;

-- milestone.accept and milestone.reject: a submitted milestone's evidence judged by a
-- principal other than the one who submitted it. A rejection, with its reason, opens it
-- again for another submission.
CREATE OR REPLACE FUNCTION fl.milestone_decide(p fl.principal, params jsonb, p_accept boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	m	fl.milestone := fl.milestone_get(params->>'milestone_id');
BEGIN
	IF m.status <> 'submitted' THEN
		PERFORM fl.wrong_state(m.status);
	END IF;
	IF m.submitted_by = p.principal_id THEN
		PERFORM fl.rpc_error(-32011, 'same_maker_and_checker', 'milestone_id',
		    'the evidence is judged by someone other than who submitted it');
	END IF;
	INSERT INTO fl.milestone_event (milestone_id, kind, principal_id, note)
	VALUES (m.milestone_id, CASE WHEN p_accept THEN 'accept' ELSE 'reject' END,
	    p.principal_id, params->>CASE WHEN p_accept THEN 'comment' ELSE 'reason' END);
	IF p_accept THEN
		UPDATE fl.milestone SET status = 'accepted', decided_at = now(),
		       decided_by = p.principal_id, reason = NULL
		 WHERE milestone_id = m.milestone_id RETURNING * INTO m;
	ELSE
		UPDATE fl.milestone SET status = 'open', submitted_at = NULL, submitted_by = NULL,
		       decided_at = NULL, decided_by = NULL, reason = params->>'reason'
		 WHERE milestone_id = m.milestone_id RETURNING * INTO m;
	END IF;
	RETURN fl.milestone_json(m);
END
$$;

CREATE OR REPLACE FUNCTION api.milestone_accept(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	RETURN fl.milestone_decide(p, params, true);
END
$$;

CREATE OR REPLACE FUNCTION api.milestone_reject(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	RETURN fl.milestone_decide(p, params, false);
END
$$;

-- milestone.get
CREATE OR REPLACE FUNCTION api.milestone_get(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	m	fl.milestone;
BEGIN
	SELECT * INTO m FROM fl.milestone WHERE milestone_id = params->>'milestone_id';
	IF m.milestone_id IS NULL THEN
		PERFORM fl.rpc_error(-32004, 'milestone_not_found', 'milestone_id');
	END IF;
	RETURN fl.milestone_json(m);
END
$$;

-- milestone.list: a grant's milestones, or every milestone, by status; overdue: those due
-- before today whose evidence is not accepted; in the order they were added.
CREATE OR REPLACE FUNCTION api.milestone_list(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
	v_over	boolean := coalesce((params->>'overdue')::boolean, false);
BEGIN
	IF params ? 'grant_id' THEN
		PERFORM fl.grant_get(params->>'grant_id', false);
	END IF;
	RETURN fl.page('milestones', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
	    'j', fl.milestone_json(t)) ORDER BY t.seq)
	  FROM (SELECT * FROM fl.milestone m
		 WHERE m.seq > fl.cursor_in(params->>'cursor')
		   AND (NOT params ? 'grant_id' OR m.grant_id = params->>'grant_id')
		   AND (NOT params ? 'status' OR m.status = params->>'status')
		   AND (NOT v_over OR (m.status <> 'accepted' AND m.due_on < current_date))
		 ORDER BY m.seq LIMIT v_lim + 1) t), v_lim);
END
$$;
