-- The schema a database gets from migrations/, written by 'make schema' for review;
-- generated, not read by anything: the definitions live in migrations/.
--
-- PostgreSQL database dump
--



SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: api; Type: SCHEMA; Schema: -; Owner: fund_owner
--

CREATE SCHEMA api;


ALTER SCHEMA api OWNER TO fund_owner;

--
-- Name: fl; Type: SCHEMA; Schema: -; Owner: fund_owner
--

CREATE SCHEMA fl;


ALTER SCHEMA fl OWNER TO fund_owner;

--
-- Name: fund_meta; Type: SCHEMA; Schema: -; Owner: fund_owner
--

CREATE SCHEMA fund_meta;


ALTER SCHEMA fund_meta OWNER TO fund_owner;

--
-- Name: access_purpose; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.access_purpose AS text
	CONSTRAINT access_purpose_check CHECK ((VALUE = ANY (ARRAY['case_management'::text, 'payment'::text, 'audit'::text, 'data_subject_request'::text])));


ALTER DOMAIN fl.access_purpose OWNER TO fund_owner;

--
-- Name: audit_outcome; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.audit_outcome AS text
	CONSTRAINT audit_outcome_check CHECK ((VALUE = ANY (ARRAY['ok'::text, 'refused'::text])));


ALTER DOMAIN fl.audit_outcome OWNER TO fund_owner;

--
-- Name: bank_ref; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.bank_ref AS text
	CONSTRAINT bank_ref_check CHECK (((length(VALUE) >= 1) AND (length(VALUE) <= 200)));


ALTER DOMAIN fl.bank_ref OWNER TO fund_owner;

--
-- Name: contribution_status; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.contribution_status AS text
	CONSTRAINT contribution_status_check1 CHECK ((VALUE = ANY (ARRAY['pledged'::text, 'received'::text, 'cancelled'::text, 'written_off'::text, 'reversed'::text])));


ALTER DOMAIN fl.contribution_status OWNER TO fund_owner;

--
-- Name: entry_kind; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.entry_kind AS text
	CONSTRAINT entry_kind_check CHECK (((VALUE ~ '^[a-z_]+$'::text) AND (length(VALUE) <= 32)));


ALTER DOMAIN fl.entry_kind OWNER TO fund_owner;

--
-- Name: idempotency_key; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.idempotency_key AS text
	CONSTRAINT idempotency_key_check1 CHECK (((length(VALUE) >= 1) AND (length(VALUE) <= 128)));


ALTER DOMAIN fl.idempotency_key OWNER TO fund_owner;

--
-- Name: ident; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.ident AS text
	CONSTRAINT ident_check CHECK (((VALUE ~ '^[A-Za-z0-9_.:-]+$'::text) AND (length(VALUE) <= 128)));


ALTER DOMAIN fl.ident OWNER TO fund_owner;

--
-- Name: memo; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.memo AS text
	CONSTRAINT memo_check CHECK ((length(VALUE) <= 575));


ALTER DOMAIN fl.memo OWNER TO fund_owner;

--
-- Name: method_name; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.method_name AS text
	CONSTRAINT method_name_check CHECK (((VALUE ~ '^[a-z]+\.[a-z_]+$'::text) AND (length(split_part(VALUE, '.'::text, 2)) <= 62)));


ALTER DOMAIN fl.method_name OWNER TO fund_owner;

--
-- Name: positive_amount; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.positive_amount AS bigint
	CONSTRAINT positive_amount_check CHECK ((VALUE > 0));


ALTER DOMAIN fl.positive_amount OWNER TO fund_owner;

--
-- Name: positive_rate; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.positive_rate AS numeric
	CONSTRAINT positive_rate_check CHECK ((VALUE > (0)::numeric));


ALTER DOMAIN fl.positive_rate OWNER TO fund_owner;

--
-- Name: posting_amount; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.posting_amount AS bigint
	CONSTRAINT posting_amount_check1 CHECK ((VALUE <> 0));


ALTER DOMAIN fl.posting_amount OWNER TO fund_owner;

--
-- Name: reason_code; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.reason_code AS text
	CONSTRAINT reason_code_check CHECK (((VALUE ~ '^[a-z0-9_]+$'::text) AND (length(VALUE) <= 64)));


ALTER DOMAIN fl.reason_code OWNER TO fund_owner;

--
-- Name: sha256; Type: DOMAIN; Schema: fl; Owner: fund_owner
--

CREATE DOMAIN fl.sha256 AS bytea
	CONSTRAINT sha256_check CHECK ((length(VALUE) = 32));


ALTER DOMAIN fl.sha256 OWNER TO fund_owner;

--
-- Name: access_record(bytea[], bytea[], text[], jsonb[]); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.access_record(p_token bytea[], p_cert bytea[], p_method text[], p_access jsonb[]) RETURNS SETOF boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
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


ALTER FUNCTION api.access_record(p_token bytea[], p_cert bytea[], p_method text[], p_access jsonb[]) OWNER TO fund_owner;

--
-- Name: new_id(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.new_id(p_prefix text) RETURNS text
    LANGUAGE sql
    AS $$
	SELECT p_prefix || '_' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 20)
$$;


ALTER FUNCTION fl.new_id(p_prefix text) OWNER TO fund_owner;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: principal; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.principal (
    principal_id text DEFAULT fl.new_id('pr'::text) NOT NULL,
    name text NOT NULL,
    roles text[] NOT NULL,
    partner_id text,
    token_hash bytea,
    cert_sha256 bytea,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text,
    revoked_at timestamp with time zone,
    confirmed_at timestamp with time zone DEFAULT now(),
    confirmed_by text,
    token_expires_at timestamp with time zone,
    seq bigint NOT NULL,
    CONSTRAINT principal_cert_sha256_check CHECK ((length(cert_sha256) = 32)),
    CONSTRAINT principal_check CHECK ((('partner'::text = ANY (roles)) = (partner_id IS NOT NULL))),
    CONSTRAINT principal_confirmer CHECK (((confirmed_by IS NULL) OR (confirmed_at IS NOT NULL))),
    CONSTRAINT principal_credential CHECK (((confirmed_at IS NULL) = ((token_hash IS NULL) AND (cert_sha256 IS NULL)))),
    CONSTRAINT principal_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT principal_roles_check CHECK (((cardinality(roles) >= 1) AND (roles <@ ARRAY['admin'::text, 'approver'::text, 'auditor'::text, 'partner'::text]))),
    CONSTRAINT principal_token_hash_check CHECK ((length(token_hash) = 32))
);


ALTER TABLE fl.principal OWNER TO fund_owner;

--
-- Name: audit_checkpoint(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.audit_checkpoint(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	c	fl.audit_checkpoint;
BEGIN
	SELECT * INTO c FROM fl.audit_checkpoint ORDER BY seq DESC LIMIT 1;
	IF NOT FOUND THEN
		PERFORM fl.rpc_error(-32004, 'no_checkpoint_yet', NULL,
		    'no checkpoint has been signed yet');
	END IF;
	RETURN jsonb_build_object('seq', c.seq, 'head_hash', encode(c.head_hash, 'hex'),
	    'signed_at', fl.ts(c.signed_at), 'signature', encode(c.signature, 'hex'),
	    'public_key', c.public_key);
END
$$;


ALTER FUNCTION api.audit_checkpoint(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: audit_events(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.audit_events(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
	v_from	bigint := coalesce((params->>'from_seq')::bigint, 0);
	v_rows	jsonb;
BEGIN
	SELECT jsonb_agg(fl.audit_event_json(t, c.prev_hash, c.hash) ORDER BY t.seq)
	  INTO v_rows
	  FROM (SELECT * FROM fl.audit_event WHERE seq >= v_from
	         ORDER BY seq LIMIT v_lim + 1) t
	  LEFT JOIN fl.audit_chain c USING (seq);
	RETURN jsonb_build_object('events', coalesce((SELECT jsonb_agg(x ORDER BY i)
	    FROM jsonb_array_elements(v_rows) WITH ORDINALITY AS r(x, i) WHERE i <= v_lim), '[]'),
	    'next_cursor', CASE WHEN jsonb_array_length(v_rows) > v_lim
	    THEN v_rows->v_lim->'seq' END);
END
$$;


ALTER FUNCTION api.audit_events(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: audit_verify(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.audit_verify(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	v_from	bigint := coalesce((params->>'from_seq')::bigint, 0);
	v_to	bigint := coalesce((params->>'to_seq')::bigint, 9223372036854775807);
	v_head	bigint := (SELECT head_seq FROM fl.audit_state);
	v_prev	bytea;
	v_n	bigint := 0;
	r	record;
	v_bad	bigint;
	v_why	text;
	v_first	bytea;
BEGIN
	IF v_to < v_from THEN
		PERFORM fl.rpc_error(-32602, 'to_seq_before_from_seq', 'to_seq');
	END IF;
	v_prev := coalesce((SELECT c.hash FROM fl.audit_chain c WHERE c.seq < v_from
	    ORDER BY c.seq DESC LIMIT 1), decode(repeat('00', 32), 'hex'));
	FOR r IN SELECT coalesce(e.seq, c.seq) AS seq, e AS ev, e.seq IS NULL AS missing,
	    c.prev_hash, c.hash
	      FROM fl.audit_event e FULL JOIN fl.audit_chain c ON c.seq = e.seq
	     WHERE coalesce(e.seq, c.seq) BETWEEN v_from AND v_to
	     ORDER BY 1 LOOP
		IF r.missing THEN
			v_why := 'missing_event';
		ELSIF r.hash IS NULL THEN
			IF r.seq > v_head THEN
				EXIT;	-- the tail, not chained yet
			END IF;
			v_why := 'unchained_below_head';
		ELSIF r.prev_hash <> v_prev THEN
			v_why := 'prev_hash_mismatch';
		ELSIF sha256(v_prev || fl.audit_canonical(r.ev)) <> r.hash THEN
			v_why := 'hash_mismatch';
		END IF;
		IF v_why IS NOT NULL THEN
			v_bad := r.seq;
			EXIT;
		END IF;
		v_prev := r.hash;
		v_n := v_n + 1;
	END LOOP;
	IF v_bad IS NULL THEN
		SELECT k.seq INTO v_bad FROM fl.audit_checkpoint k
		  LEFT JOIN fl.audit_chain c ON c.seq = k.seq
		 WHERE k.seq BETWEEN v_from AND v_to AND c.hash IS DISTINCT FROM k.head_hash
		 ORDER BY k.seq LIMIT 1;
		IF v_bad IS NOT NULL THEN
			v_why := 'checkpoint_mismatch';
		END IF;
	END IF;
	-- the signing keys follow each other: numbered from 1, each signing from a seq at or
	-- after the one before it
	IF v_bad IS NULL THEN
		SELECT a.from_seq INTO v_bad
		  FROM (SELECT k.key_no, k.from_seq,
		        row_number() OVER (ORDER BY k.key_no) AS n,
		        lag(k.from_seq) OVER (ORDER BY k.key_no) AS prev_from
		          FROM fl.audit_key k) a
		 WHERE a.key_no <> a.n OR a.from_seq < a.prev_from
		 ORDER BY a.key_no LIMIT 1;
		IF v_bad IS NOT NULL THEN
			v_why := 'key_chain_broken';
		END IF;
	END IF;
	-- every checkpoint names the key that signs at its seq (before key 1 is registered,
	-- the key of the first checkpoint)
	IF v_bad IS NULL THEN
		v_first := CASE WHEN NOT EXISTS (SELECT 1 FROM fl.audit_key)
		    THEN (SELECT fl.ed25519_raw(c.public_key) FROM fl.audit_checkpoint c
		           ORDER BY c.seq LIMIT 1) END;
		SELECT c.seq INTO v_bad
		  FROM fl.audit_checkpoint c
		  LEFT JOIN LATERAL (SELECT a.public_key FROM fl.audit_key a
		        WHERE a.from_seq <= c.seq ORDER BY a.key_no DESC LIMIT 1) a ON true
		 WHERE c.seq BETWEEN v_from AND v_to
		   AND c.public_key IS DISTINCT FROM fl.ed25519_pem(coalesce(a.public_key, v_first))
		   AND fl.ed25519_raw(c.public_key) IS DISTINCT FROM coalesce(a.public_key, v_first)
		 ORDER BY c.seq LIMIT 1;
		IF v_bad IS NOT NULL THEN
			v_why := 'key_mismatch';
		END IF;
	END IF;
	-- what the chain does not cover yet (events the chainer has still to hash)
	RETURN jsonb_build_object('ok', v_bad IS NULL, 'verified', v_n,
	    'first_bad_seq', v_bad, 'reason', v_why, 'head_seq', v_head,
	    'unchained', (SELECT count(*) FROM fl.audit_event WHERE seq > v_head),
	    'oldest_unchained_at', (SELECT fl.ts(min(at)) FROM fl.audit_event
		WHERE seq > v_head));
END
$$;


ALTER FUNCTION api.audit_verify(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: authorize(bytea, bytea, text, text, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.authorize(p_token bytea, p_cert bytea, p_what text, p_reason text, p_params jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
	v	fl.principal;
	v_roles	text[];
BEGIN
	IF p_reason IS NULL THEN
		v := fl.authenticate(p_token, p_cert);
	END IF;
	IF v.principal_id IS NULL THEN
		RETURN fl.refusal(NULL, p_what, coalesce(p_params, '{}'), -32001,
		    coalesce(p_reason, fl.refusal_reason(p_token, p_cert)));
	END IF;
	SELECT m.roles INTO v_roles FROM fl.method m WHERE m.name = p_what;
	IF v_roles IS NULL THEN
		RAISE EXCEPTION 'api.authorize: % is no method or endpoint of fl.method', p_what;
	END IF;
	IF cardinality(v_roles) > 0 AND NOT (v.roles && v_roles) THEN
		RETURN fl.refusal(v.principal_id, p_what, coalesce(p_params, '{}'), -32003,
		    'role_required', jsonb_build_object('roles', to_jsonb(v_roles)));
	END IF;
	RETURN jsonb_build_object('principal', fl.principal_json(v));
END
$$;


ALTER FUNCTION api.authorize(p_token bytea, p_cert bytea, p_what text, p_reason text, p_params jsonb) OWNER TO fund_owner;

--
-- Name: call(bytea, bytea, text, jsonb, text, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.call(p_token bytea, p_cert bytea, p_method text, p_params jsonb, p_idem text, p_ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
	v_p	fl.principal;
	v_roles	text[];
	v_hash	bytea;
	v_row	fl.idempotency;
	v_res	jsonb;
	v_err	jsonb;
	v_scoped boolean;
	v_mut	boolean := p_method = ANY ('{contribution.cancel,contribution.pledge,contribution.receive,contribution.reverse,contribution.write_off,disbursement.confirm,disbursement.create,disbursement.fail,disbursement.refund,fund.create,fund.record_earnings,fund.transfer,fund.transfer_cancel,fund.transfer_confirm,grant.add_milestone,grant.apply,grant.approve,grant.cancel,grant.recuse,grant.reject,grant.update,grant.withdraw,milestone.accept,milestone.reject,milestone.submit,partner.create,partner.update,period.close,period.close_confirm,period.close_drop,principal.confirm,principal.create,principal.declare_conflict,principal.revoke,principal.rotate_token,returnee.erase,returnee.erase_cancel,returnee.erase_confirm,returnee.register,returnee.update}'::text[]);
BEGIN
	IF p_token IS NOT NULL THEN
		SELECT * INTO v_p FROM fl.principal
		 WHERE token_hash = p_token AND revoked_at IS NULL
		   AND (token_expires_at IS NULL OR token_expires_at > now());
	ELSIF p_cert IS NOT NULL THEN
		SELECT * INTO v_p FROM fl.principal
		 WHERE cert_sha256 = p_cert AND revoked_at IS NULL;
	END IF;
	IF v_p.principal_id IS NULL THEN
		RETURN fl.refusal(NULL, p_method, p_params, -32001,
		    fl.refusal_reason(p_token, p_cert));
	END IF;
	PERFORM fl.principal_seen(v_p.principal_id);
	-- the roles the method requires: fundd's method table, which the runner writes
	SELECT m.roles INTO v_roles FROM fl.method m WHERE m.name = p_method;
	IF v_roles IS NULL THEN
		PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
	END IF;
	IF cardinality(v_roles) > 0 AND NOT (v_p.roles && v_roles) THEN
		RETURN fl.refusal(v_p.principal_id, p_method, p_params, -32003, 'role_required',
		    jsonb_build_object('roles', to_jsonb(v_roles)));
	END IF;
	-- Partner scoping, in this one place (docs/ledger.md): when only the partner role
	-- grants the method, a partner sees its own partner record and contributions only,
	-- and anything else answers exactly as if it did not exist.
	v_scoped := 'partner' = ANY (v_p.roles) AND cardinality(v_roles) > 0
	    AND NOT (v_p.roles && array_remove(v_roles, 'partner'));
	IF v_scoped THEN
		IF p_params ? 'partner_id' AND
		    p_params->>'partner_id' IS DISTINCT FROM v_p.partner_id THEN
			PERFORM fl.rpc_error(-32004, 'partner_not_found', 'partner_id');
		END IF;
		IF p_method LIKE '%.list' THEN
			p_params := p_params || jsonb_build_object('partner_id', v_p.partner_id);
		END IF;
	END IF;
	IF NOT v_mut THEN
		IF p_method < 'milestone.list' COLLATE "C" THEN
			IF p_method < 'fund.history' COLLATE "C" THEN
				IF p_method < 'contribution.status' COLLATE "C" THEN
					IF p_method < 'audit.verify' COLLATE "C" THEN
						CASE p_method
						WHEN 'audit.checkpoint' THEN v_res := api.audit_checkpoint(v_p, p_params, p_ctx);
						WHEN 'audit.events' THEN v_res := api.audit_events(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'audit.verify' THEN v_res := api.audit_verify(v_p, p_params, p_ctx);
						WHEN 'contribution.get' THEN v_res := api.contribution_get(v_p, p_params, p_ctx);
						WHEN 'contribution.list' THEN v_res := api.contribution_list(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				ELSE
					IF p_method < 'disbursement.queue' COLLATE "C" THEN
						CASE p_method
						WHEN 'contribution.status' THEN v_res := api.contribution_status(v_p, p_params, p_ctx);
						WHEN 'disbursement.list' THEN v_res := api.disbursement_list(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'disbursement.queue' THEN v_res := api.disbursement_queue(v_p, p_params, p_ctx);
						WHEN 'document.get' THEN v_res := api.document_get(v_p, p_params, p_ctx);
						WHEN 'fund.balance' THEN v_res := api.fund_balance(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				END IF;
			ELSE
				IF p_method < 'grant.history' COLLATE "C" THEN
					IF p_method < 'fund.transfer_get' COLLATE "C" THEN
						CASE p_method
						WHEN 'fund.history' THEN v_res := api.fund_history(v_p, p_params, p_ctx);
						WHEN 'fund.list' THEN v_res := api.fund_list(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'fund.transfer_get' THEN v_res := api.fund_transfer_get(v_p, p_params, p_ctx);
						WHEN 'fund.transfer_list' THEN v_res := api.fund_transfer_list(v_p, p_params, p_ctx);
						WHEN 'grant.get' THEN v_res := api.grant_get(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				ELSE
					IF p_method < 'ledger.entries' COLLATE "C" THEN
						CASE p_method
						WHEN 'grant.history' THEN v_res := api.grant_history(v_p, p_params, p_ctx);
						WHEN 'grant.list' THEN v_res := api.grant_list(v_p, p_params, p_ctx);
						WHEN 'grant.queue' THEN v_res := api.grant_queue(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'ledger.entries' THEN v_res := api.ledger_entries(v_p, p_params, p_ctx);
						WHEN 'ledger.trial_balance' THEN v_res := api.ledger_trial_balance(v_p, p_params, p_ctx);
						WHEN 'milestone.get' THEN v_res := api.milestone_get(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				END IF;
			END IF;
		ELSE
			IF p_method < 'report.contributions' COLLATE "C" THEN
				IF p_method < 'period.close_get' COLLATE "C" THEN
					IF p_method < 'partner.get' COLLATE "C" THEN
						CASE p_method
						WHEN 'milestone.list' THEN v_res := api.milestone_list(v_p, p_params, p_ctx);
						WHEN 'partner.find' THEN v_res := api.partner_find(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'partner.get' THEN v_res := api.partner_get(v_p, p_params, p_ctx);
						WHEN 'partner.history' THEN v_res := api.partner_history(v_p, p_params, p_ctx);
						WHEN 'partner.list' THEN v_res := api.partner_list(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				ELSE
					IF p_method < 'principal.list' COLLATE "C" THEN
						CASE p_method
						WHEN 'period.close_get' THEN v_res := api.period_close_get(v_p, p_params, p_ctx);
						WHEN 'period.closes' THEN v_res := api.period_closes(v_p, p_params, p_ctx);
						WHEN 'principal.conflicts' THEN v_res := api.principal_conflicts(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'principal.list' THEN v_res := api.principal_list(v_p, p_params, p_ctx);
						WHEN 'privacy.due' THEN v_res := api.privacy_due(v_p, p_params, p_ctx);
						WHEN 'region.list' THEN v_res := api.region_list(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				END IF;
			ELSE
				IF p_method < 'returnee.find' COLLATE "C" THEN
					IF p_method < 'report.pipeline' COLLATE "C" THEN
						CASE p_method
						WHEN 'report.contributions' THEN v_res := api.report_contributions(v_p, p_params, p_ctx);
						WHEN 'report.grants' THEN v_res := api.report_grants(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'report.pipeline' THEN v_res := api.report_pipeline(v_p, p_params, p_ctx);
						WHEN 'returnee.access_log' THEN v_res := api.returnee_access_log(v_p, p_params, p_ctx);
						WHEN 'returnee.export' THEN v_res := api.returnee_export(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				ELSE
					IF p_method < 'returnee.list' COLLATE "C" THEN
						CASE p_method
						WHEN 'returnee.find' THEN v_res := api.returnee_find(v_p, p_params, p_ctx);
						WHEN 'returnee.get' THEN v_res := api.returnee_get(v_p, p_params, p_ctx);
						WHEN 'returnee.history' THEN v_res := api.returnee_history(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'returnee.list' THEN v_res := api.returnee_list(v_p, p_params, p_ctx);
						WHEN 'system.version' THEN v_res := api.system_version(v_p, p_params, p_ctx);
						WHEN 'system.whoami' THEN v_res := api.system_whoami(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				END IF;
			END IF;
		END IF;

		IF v_scoped AND jsonb_typeof(v_res) = 'object' AND v_res ? 'partner_id' AND
		    v_res->>'partner_id' IS DISTINCT FROM v_p.partner_id THEN
			-- the same answer as a missing object of this method
			PERFORM fl.rpc_error(-32004, split_part(p_method, '.', 1) || '_not_found',
			    split_part(p_method, '.', 1) || '_id');
		END IF;
		RETURN fl.person_answer(jsonb_build_object('result', v_res, 'replayed', false),
		    p_ctx, v_p, p_method, p_params, true, true);
	END IF;
	v_hash := sha256(convert_to(p_method || ' ' || p_params::text, 'UTF8'));
	BEGIN
		IF p_idem IS NOT NULL THEN
			-- the key's lock: a concurrent call with the same key waits here until
			-- this transaction ends, then finds the key's row
			PERFORM pg_advisory_xact_lock(hashtextextended(v_p.principal_id || ' ' ||
			    p_idem, 0));
			SELECT * INTO v_row FROM fl.idempotency
			 WHERE principal_id = v_p.principal_id AND key = p_idem;
			IF FOUND THEN
				-- an earlier call has the key: committed (a concurrent one made us
				-- wait), or earlier in this batch
				IF v_row.method <> p_method OR v_row.params_sha256 <> v_hash THEN
					RETURN jsonb_build_object('error', jsonb_build_object(
					    'code', -32009,
					    'message', 'idempotency key reused with other params',
					    'data', jsonb_build_object('reason',
					    'idempotency_mismatch', 'field', 'idempotency_key')));
				END IF;
				RETURN fl.person_answer(jsonb_build_object('result',
				    v_row.result, 'replayed', true), p_ctx, v_p, p_method,
				    p_params, false, false);
			END IF;
		END IF;
		IF p_method < 'grant.update' COLLATE "C" THEN
			IF p_method < 'fund.record_earnings' COLLATE "C" THEN
				IF p_method < 'disbursement.confirm' COLLATE "C" THEN
					IF p_method < 'contribution.receive' COLLATE "C" THEN
						CASE p_method
						WHEN 'contribution.cancel' THEN v_res := api.contribution_cancel(v_p, p_params, p_ctx);
						WHEN 'contribution.pledge' THEN v_res := api.contribution_pledge(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'contribution.receive' THEN v_res := api.contribution_receive(v_p, p_params, p_ctx);
						WHEN 'contribution.reverse' THEN v_res := api.contribution_reverse(v_p, p_params, p_ctx);
						WHEN 'contribution.write_off' THEN v_res := api.contribution_write_off(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				ELSE
					IF p_method < 'disbursement.fail' COLLATE "C" THEN
						CASE p_method
						WHEN 'disbursement.confirm' THEN v_res := api.disbursement_confirm(v_p, p_params, p_ctx);
						WHEN 'disbursement.create' THEN v_res := api.disbursement_create(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'disbursement.fail' THEN v_res := api.disbursement_fail(v_p, p_params, p_ctx);
						WHEN 'disbursement.refund' THEN v_res := api.disbursement_refund(v_p, p_params, p_ctx);
						WHEN 'fund.create' THEN v_res := api.fund_create(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				END IF;
			ELSE
				IF p_method < 'grant.apply' COLLATE "C" THEN
					IF p_method < 'fund.transfer_cancel' COLLATE "C" THEN
						CASE p_method
						WHEN 'fund.record_earnings' THEN v_res := api.fund_record_earnings(v_p, p_params, p_ctx);
						WHEN 'fund.transfer' THEN v_res := api.fund_transfer(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'fund.transfer_cancel' THEN v_res := api.fund_transfer_cancel(v_p, p_params, p_ctx);
						WHEN 'fund.transfer_confirm' THEN v_res := api.fund_transfer_confirm(v_p, p_params, p_ctx);
						WHEN 'grant.add_milestone' THEN v_res := api.grant_add_milestone(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				ELSE
					IF p_method < 'grant.cancel' COLLATE "C" THEN
						CASE p_method
						WHEN 'grant.apply' THEN v_res := api.grant_apply(v_p, p_params, p_ctx);
						WHEN 'grant.approve' THEN v_res := api.grant_approve(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'grant.cancel' THEN v_res := api.grant_cancel(v_p, p_params, p_ctx);
						WHEN 'grant.recuse' THEN v_res := api.grant_recuse(v_p, p_params, p_ctx);
						WHEN 'grant.reject' THEN v_res := api.grant_reject(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				END IF;
			END IF;
		ELSE
			IF p_method < 'principal.confirm' COLLATE "C" THEN
				IF p_method < 'partner.create' COLLATE "C" THEN
					IF p_method < 'milestone.accept' COLLATE "C" THEN
						CASE p_method
						WHEN 'grant.update' THEN v_res := api.grant_update(v_p, p_params, p_ctx);
						WHEN 'grant.withdraw' THEN v_res := api.grant_withdraw(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'milestone.accept' THEN v_res := api.milestone_accept(v_p, p_params, p_ctx);
						WHEN 'milestone.reject' THEN v_res := api.milestone_reject(v_p, p_params, p_ctx);
						WHEN 'milestone.submit' THEN v_res := api.milestone_submit(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				ELSE
					IF p_method < 'period.close' COLLATE "C" THEN
						CASE p_method
						WHEN 'partner.create' THEN v_res := api.partner_create(v_p, p_params, p_ctx);
						WHEN 'partner.update' THEN v_res := api.partner_update(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'period.close' THEN v_res := api.period_close(v_p, p_params, p_ctx);
						WHEN 'period.close_confirm' THEN v_res := api.period_close_confirm(v_p, p_params, p_ctx);
						WHEN 'period.close_drop' THEN v_res := api.period_close_drop(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				END IF;
			ELSE
				IF p_method < 'returnee.erase' COLLATE "C" THEN
					IF p_method < 'principal.declare_conflict' COLLATE "C" THEN
						CASE p_method
						WHEN 'principal.confirm' THEN v_res := api.principal_confirm(v_p, p_params, p_ctx);
						WHEN 'principal.create' THEN v_res := api.principal_create(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'principal.declare_conflict' THEN v_res := api.principal_declare_conflict(v_p, p_params, p_ctx);
						WHEN 'principal.revoke' THEN v_res := api.principal_revoke(v_p, p_params, p_ctx);
						WHEN 'principal.rotate_token' THEN v_res := api.principal_rotate_token(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				ELSE
					IF p_method < 'returnee.erase_confirm' COLLATE "C" THEN
						CASE p_method
						WHEN 'returnee.erase' THEN v_res := api.returnee_erase(v_p, p_params, p_ctx);
						WHEN 'returnee.erase_cancel' THEN v_res := api.returnee_erase_cancel(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					ELSE
						CASE p_method
						WHEN 'returnee.erase_confirm' THEN v_res := api.returnee_erase_confirm(v_p, p_params, p_ctx);
						WHEN 'returnee.register' THEN v_res := api.returnee_register(v_p, p_params, p_ctx);
						WHEN 'returnee.update' THEN v_res := api.returnee_update(v_p, p_params, p_ctx);
						ELSE PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
						END CASE;
					END IF;
				END IF;
			END IF;
		END IF;
		-- this call's checks deferred to commit (each journal entry balances) run
		-- now, so that each call of a batch is checked where it ends, as at its own
		-- commit. ALL DEFERRED restores the initial mode, since every
		-- deferrable constraint here is INITIALLY DEFERRED (test_batching.py).
		SET CONSTRAINTS ALL IMMEDIATE;
		SET CONSTRAINTS ALL DEFERRED;
	EXCEPTION WHEN SQLSTATE 'FLERR' THEN
		-- the method's writes are rolled back with the block, and its key's lock
		-- released; the error is the answer, so that other calls of a batch keep theirs
		v_err := SQLERRM::jsonb;
		IF coalesce((v_err->>'code')::int, 0) NOT IN (-32003, -32011) THEN
			RETURN jsonb_build_object('error', v_err);
		END IF;
		PERFORM fl.audit_record(v_p.principal_id, p_method,
		    fl.audit_object(p_method, p_params, NULL), (v_err->>'code')::int,
		    v_err->'data'->>'reason', v_hash);
		RETURN jsonb_build_object('error', v_err);
	END;
	IF p_idem IS NOT NULL THEN
		INSERT INTO fl.idempotency (principal_id, key, method, params_sha256, result)
		VALUES (v_p.principal_id, p_idem, p_method, v_hash, v_res - 'token');
	END IF;
	-- the event, as fl.audit_record() writes it, inline on the hot path: the transaction
	-- id before the seq; ids of results are generated, those of params checked in C
	PERFORM pg_current_xact_id();
	INSERT INTO fl.audit_event (principal_id, method, object_id, outcome, params_sha256)
	VALUES (v_p.principal_id, p_method,
	    coalesce(v_res->>(split_part(p_method, '.', 1) || '_id'),
	        p_params->>(split_part(p_method, '.', 1) || '_id'),
	        CASE WHEN p_method LIKE 'fund.%' THEN
	            coalesce(v_res->>'transfer_id', p_params->>'transfer_id',
	                v_res->>'code', p_params->>'code') END),
	    'ok', v_hash);
	RETURN fl.person_answer(jsonb_build_object('result', v_res, 'replayed', false), p_ctx,
	    v_p, p_method, p_params, false, true);
END
$$;


ALTER FUNCTION api.call(p_token bytea, p_cert bytea, p_method text, p_params jsonb, p_idem text, p_ctx jsonb) OWNER TO fund_owner;

--
-- Name: call_many(bytea[], bytea[], text[], jsonb[], text[], jsonb[]); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.call_many(p_token bytea[], p_cert bytea[], p_method text[], p_params jsonb[], p_idem text[], p_ctx jsonb[]) RETURNS SETOF jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
	v_n	int := cardinality(p_method);
	v_res	jsonb[];
	v_m	text;
	v_roles	text[];	-- the run's method's roles, a text[] literal per call
	v_ps	fl.principal[];
	i	int := 1;
	j	int;
	k	int;
BEGIN
	IF cardinality(p_token) <> v_n OR cardinality(p_cert) <> v_n OR
	    cardinality(p_params) <> v_n OR
	    cardinality(p_idem) <> v_n OR cardinality(p_ctx) <> v_n THEN
		RAISE EXCEPTION 'api.call_many: arrays of different lengths';
	END IF;
	WHILE i <= v_n LOOP
		-- [i, j): the longest run of calls of one method with a set form
		v_m := fl.bulk_method(p_method[i], p_params[i]);
		j := i + 1;
		WHILE v_m IS NOT NULL AND j <= v_n AND
		    fl.bulk_method(p_method[j], p_params[j]) IS NOT DISTINCT FROM v_m LOOP
			j := j + 1;
		END LOOP;
		v_res := NULL;
		v_roles := NULL;
		IF j - i >= 2 THEN
			v_roles := array_fill((SELECT m.roles::text FROM fl.method m
			    WHERE m.name = v_m), ARRAY[j - i]);
		END IF;
		IF v_roles[1] IS NULL THEN
			NULL;	-- (one by one: api.call() refuses a method fl.method lacks)
		ELSIF v_m = 'contribution.receive' THEN
			v_res := fl.receive_bulk(p_token[i:j - 1], p_cert[i:j - 1], v_roles,
			    p_params[i:j - 1], p_idem[i:j - 1]);
		ELSIF v_m = 'grant.approve' THEN
			v_res := fl.approve_bulk(p_token[i:j - 1], p_cert[i:j - 1], v_roles,
			    p_params[i:j - 1], p_idem[i:j - 1]);
		END IF;
		IF v_res IS NOT NULL THEN
			-- answers that hold personal data: their keys, and access events
			v_ps := fl.bulk_callers(p_token[i:j - 1], p_cert[i:j - 1], v_roles);
			RETURN QUERY SELECT fl.person_answer(u.r, p_ctx[i + u.o::int - 1],
					v_ps[u.o], v_m, p_params[i + u.o::int - 1], false, false)
				       FROM unnest(v_res) WITH ORDINALITY AS u(r, o)
				      ORDER BY u.o;
			i := j;
			CONTINUE;
		END IF;
		-- one by one: the run's calls, or the one call without a set form
		FOR k IN i..j - 1 LOOP
			RETURN NEXT api.call(p_token[k], p_cert[k], p_method[k], p_params[k],
			    p_idem[k], p_ctx[k]);
		END LOOP;
		i := j;
	END LOOP;
END
$$;


ALTER FUNCTION api.call_many(p_token bytea[], p_cert bytea[], p_method text[], p_params jsonb[], p_idem text[], p_ctx jsonb[]) OWNER TO fund_owner;

--
-- Name: contribution_cancel(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.contribution_cancel(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.contribution_cancel(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: contribution_get(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.contribution_get(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN fl.contribution_json(fl.contribution_get(params->>'contribution_id', false));
END
$$;


ALTER FUNCTION api.contribution_get(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: contribution_list(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.contribution_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.contribution_list(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: contribution_pledge(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.contribution_pledge(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.contribution_pledge(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: contribution_receive(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.contribution_receive(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.contribution_receive(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: contribution_reverse(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.contribution_reverse(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.contribution_reverse(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: contribution_status(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.contribution_status(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.contribution_status(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: contribution_write_off(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.contribution_write_off(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.contribution_write_off(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: disbursement_confirm(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.disbursement_confirm(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.disbursement_confirm(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: disbursement_create(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.disbursement_create(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.disbursement_create(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: disbursement_fail(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.disbursement_fail(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
	d	fl.disbursement := fl.disbursement_get(params->>'disbursement_id');
BEGIN
	UPDATE fl.disbursement SET status = 'failed', fail_reason = params->>'reason',
	    decided_by = p.principal_id
	 WHERE disbursement_id = d.disbursement_id RETURNING * INTO d;
	RETURN fl.disbursement_json(d);
END
$$;


ALTER FUNCTION api.disbursement_fail(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: disbursement_list(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.disbursement_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.disbursement_list(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: disbursement_queue(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.disbursement_queue(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.disbursement_queue(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: disbursement_refund(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.disbursement_refund(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.disbursement_refund(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: document_download(bytea, bytea, text); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.document_download(p_token bytea, p_cert bytea, p_id text, OUT answer jsonb, OUT data bytea) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION api.document_download(p_token bytea, p_cert bytea, p_id text, OUT answer jsonb, OUT data bytea) OWNER TO fund_owner;

--
-- Name: document_get(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.document_get(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.document_get(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: document_upload(bytea, bytea, text, bytea, text, text, text); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.document_upload(p_token bytea, p_cert bytea, p_ctype text, p_data bytea, p_filename text, p_supersedes text, p_idem text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION api.document_upload(p_token bytea, p_cert bytea, p_ctype text, p_data bytea, p_filename text, p_supersedes text, p_idem text) OWNER TO fund_owner;

--
-- Name: fund_balance(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.fund_balance(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	IF params->>'as_of' IS NOT NULL THEN
		RETURN fl.fund_balance_at(params->>'code', fl.time_in(params->>'as_of'),
		    fl.basis_recorded(params));
	END IF;
	RETURN fl.fund_balance_json(fl.fund_current(fl.fund_get(params->>'code', 'code')));
END
$$;


ALTER FUNCTION api.fund_balance(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: fund_create(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.fund_create(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.fund_create(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: fund_history(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.fund_history(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.fund_history(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: fund_list(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.fund_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN jsonb_build_object('funds', coalesce((SELECT jsonb_agg(fl.fund_json(f)
	    ORDER BY f.code) FROM fl.fund f), '[]'));
END
$$;


ALTER FUNCTION api.fund_list(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: fund_record_earnings(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.fund_record_earnings(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.fund_record_earnings(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: fund_transfer(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.fund_transfer(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.fund_transfer(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: fund_transfer_cancel(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.fund_transfer_cancel(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.fund_transfer_cancel(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: fund_transfer_confirm(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.fund_transfer_confirm(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.fund_transfer_confirm(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: fund_transfer_get(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.fund_transfer_get(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN fl.transfer_json(fl.transfer_get(params->>'transfer_id', false));
END
$$;


ALTER FUNCTION api.fund_transfer_get(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: fund_transfer_list(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.fund_transfer_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.fund_transfer_list(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: grant_add_milestone(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.grant_add_milestone(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.grant_add_milestone(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: grant_apply(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.grant_apply(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.grant_apply(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: grant_approve(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.grant_approve(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.grant_approve(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: grant_cancel(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.grant_cancel(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.grant_cancel(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: grant_get(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.grant_get(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN fl.grant_json(fl.grant_get(params->>'grant_id', false));
END
$$;


ALTER FUNCTION api.grant_get(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: grant_history(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.grant_history(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	PERFORM fl.grant_get(params->>'grant_id', false);
	RETURN fl.history('grant', params->>'grant_id', params)
	    || jsonb_build_object('grant_id', params->>'grant_id');
END
$$;


ALTER FUNCTION api.grant_history(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: grant_list(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.grant_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.grant_list(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: grant_queue(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.grant_queue(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.grant_queue(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: grant_recuse(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.grant_recuse(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.grant_recuse(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: grant_reject(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.grant_reject(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.grant_reject(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: grant_update(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.grant_update(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.grant_update(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: grant_withdraw(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.grant_withdraw(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.grant_withdraw(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: ledger_entries(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.ledger_entries(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.ledger_entries(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: ledger_trial_balance(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.ledger_trial_balance(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.ledger_trial_balance(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: milestone_accept(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.milestone_accept(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
BEGIN
	RETURN fl.milestone_decide(p, params, true);
END
$$;


ALTER FUNCTION api.milestone_accept(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: milestone_get(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.milestone_get(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.milestone_get(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: milestone_list(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.milestone_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.milestone_list(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: milestone_reject(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.milestone_reject(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
BEGIN
	RETURN fl.milestone_decide(p, params, false);
END
$$;


ALTER FUNCTION api.milestone_reject(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: milestone_submit(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.milestone_submit(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.milestone_submit(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: partner_create(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.partner_create(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.partner_create(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: partner_find(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.partner_find(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.partner_find(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: partner_get(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.partner_get(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.partner_get(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: partner_history(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.partner_history(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	PERFORM fl.partner_check(params->>'partner_id');
	RETURN fl.history('partner', params->>'partner_id', params)
	    || jsonb_build_object('partner_id', params->>'partner_id');
END
$$;


ALTER FUNCTION api.partner_history(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: partner_list(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.partner_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
BEGIN
	RETURN fl.page('partners', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
	    'j', fl.partner_json(t)) ORDER BY t.seq)
	  FROM (SELECT * FROM fl.partner WHERE seq > fl.cursor_in(params->>'cursor')
	         ORDER BY seq LIMIT v_lim + 1) t), v_lim);
END
$$;


ALTER FUNCTION api.partner_list(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: partner_update(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.partner_update(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.partner_update(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: period_close(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.period_close(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
	v_until	date := (params->>'until')::date;
	c	fl.period_close;
BEGIN
	IF v_until >= (now() AT TIME ZONE 'UTC')::date THEN
		PERFORM fl.rpc_error(-32602, 'day_not_ended', 'until',
		    'until must be a UTC day that has ended');
	END IF;
	IF v_until < (SELECT max(until) FROM fl.period_close WHERE status = 'confirmed') + 1
	THEN
		PERFORM fl.rpc_error(-32009, 'already_closed', 'until',
		    'that day is closed already', jsonb_build_object('closed_until',
		    (SELECT to_char(max(until), 'YYYY-MM-DD') FROM fl.period_close
		      WHERE status = 'confirmed')));
	END IF;
	INSERT INTO fl.period_close (period_id, until, status, requested_by)
	VALUES (fl.new_id('pc'), v_until, 'pending', p.principal_id)
	ON CONFLICT ((true)) WHERE status = 'pending' DO NOTHING
	RETURNING * INTO c;
	IF NOT FOUND THEN
		SELECT * INTO c FROM fl.period_close WHERE status = 'pending';
		IF c.until <> v_until THEN
			PERFORM fl.rpc_error(-32009, 'close_pending', 'until',
			    'another close is pending: confirm or drop it first',
			    jsonb_build_object('period_id', c.period_id));
		END IF;
	END IF;
	RETURN fl.period_json(c);
END
$$;


ALTER FUNCTION api.period_close(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: period_close_confirm(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.period_close_confirm(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
	c	fl.period_close;
	v_prev	date;
	v_from	timestamptz;
	v_to	timestamptz;
	v_bal	text;
	d	record;
	v_rec	text;
	v_sha	bytea;
	v_seq	bigint;
BEGIN
	SELECT * INTO c FROM fl.period_close WHERE period_id = params->>'period_id'
	   FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM fl.rpc_error(-32004, 'period_not_found', 'period_id');
	END IF;
	IF c.status = 'confirmed' THEN
		RETURN fl.period_json(c);
	END IF;
	IF c.status <> 'pending' THEN
		PERFORM fl.wrong_state(c.status);
	END IF;
	IF c.requested_by = p.principal_id THEN
		PERFORM fl.rpc_error(-32011, 'own_close', 'period_id',
		    'a close is confirmed by another principal than the one who asked for it');
	END IF;
	SELECT max(until) INTO v_prev FROM fl.period_close WHERE status = 'confirmed';
	IF v_prev >= c.until THEN
		PERFORM fl.rpc_error(-32009, 'already_closed', 'period_id');
	END IF;
	v_from := (v_prev + 1)::timestamp AT TIME ZONE 'UTC';
	v_to := (c.until + 1)::timestamp AT TIME ZONE 'UTC';
	-- the books as committed now, read before the lock so that writers wait only for
	-- the check below; earlier periods are closed, so only the range can still grow
	d := fl.ledger_export_digest(v_from, v_to);
	v_bal := fl.period_balances(v_to);
	-- every journal write in flight commits first; later ones wait for this one
	PERFORM pg_advisory_xact_lock(7346519, fl.period_lock_key());
	-- entries are append-only and an entry's postings are written in its transaction:
	-- the same number of entries in the range is the same books; else read them again
	IF (SELECT count(*) FROM fl.journal_entry e WHERE e.value_at >= coalesce(v_from,
	    '-infinity') AND e.value_at < v_to) <> d.entries THEN
		d := fl.ledger_export_digest(v_from, v_to);
		v_bal := fl.period_balances(v_to);
	END IF;
	c.status := 'confirmed';
	c.decided_by := p.principal_id;
	c.decided_at := now();
	v_rec := E'fl-period-close\n' ||
	    'period_id ' || c.period_id || E'\n' ||
	    'until ' || to_char(c.until, 'YYYY-MM-DD') || E'\n' ||
	    'requested_by ' || c.requested_by || E'\n' ||
	    'confirmed_by ' || c.decided_by || E'\n' ||
	    'confirmed_at ' || fl.ts(c.decided_at) || E'\n' ||
	    'export_from ' || coalesce(to_char(v_prev + 1, 'YYYY-MM-DD'), 'none') || E'\n' ||
	    'export_to ' || to_char(c.until + 1, 'YYYY-MM-DD') || E'\n' ||
	    'export_rows ' || d.rows || E'\n' ||
	    'export_sha256 ' || encode(d.sha, 'hex') || E'\n' ||
	    'export_rows_sha256 ' || encode(d.rows_sha, 'hex') || E'\n' || v_bal;
	v_sha := sha256(convert_to(v_rec, 'UTF8'));
	-- the record's event, as fl.audit_record() writes one: the transaction id first
	PERFORM pg_current_xact_id();
	INSERT INTO fl.audit_event (principal_id, method, object_id, outcome, params_sha256)
	VALUES (p.principal_id, 'period.close_record', c.period_id, 'ok', v_sha)
	RETURNING seq INTO v_seq;
	UPDATE fl.period_close SET status = 'confirmed', decided_by = c.decided_by,
	       decided_at = c.decided_at, record = v_rec, record_sha256 = v_sha,
	       record_seq = v_seq
	 WHERE period_id = c.period_id
	RETURNING * INTO c;
	RETURN fl.period_json(c);
END
$$;


ALTER FUNCTION api.period_close_confirm(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: period_close_drop(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.period_close_drop(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
	c	fl.period_close;
BEGIN
	SELECT * INTO c FROM fl.period_close WHERE period_id = params->>'period_id'
	   FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM fl.rpc_error(-32004, 'period_not_found', 'period_id');
	END IF;
	IF c.status = 'confirmed' THEN
		PERFORM fl.wrong_state(c.status);
	END IF;
	IF c.status = 'pending' THEN
		UPDATE fl.period_close SET status = 'dropped', decided_by = p.principal_id,
		       decided_at = now()
		 WHERE period_id = c.period_id
		RETURNING * INTO c;
	END IF;
	RETURN fl.period_json(c);
END
$$;


ALTER FUNCTION api.period_close_drop(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: period_close_get(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.period_close_get(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	c	fl.period_close := fl.period_get(params->>'period_id');
	k	fl.audit_checkpoint;
	v_proof	jsonb;
	v_keys	jsonb;
BEGIN
	IF c.status = 'confirmed' THEN
		SELECT * INTO k FROM fl.audit_checkpoint WHERE seq >= c.record_seq
		 ORDER BY seq LIMIT 1;
		IF FOUND THEN
			SELECT jsonb_build_object(
			    'prev_hash', encode((SELECT ch.prev_hash FROM fl.audit_chain ch
				WHERE ch.seq = c.record_seq), 'hex'),
			    'events', jsonb_agg(fl.audit_event_json(e, ch.prev_hash, ch.hash)
				ORDER BY e.seq),
			    'checkpoint', jsonb_build_object('seq', k.seq,
				'head_hash', encode(k.head_hash, 'hex'),
				'signed_at', fl.ts(k.signed_at),
				'signature', encode(k.signature, 'hex'),
				'public_key', k.public_key))
			  INTO v_proof
			  FROM fl.audit_event e JOIN fl.audit_chain ch USING (seq)
			 WHERE e.seq BETWEEN c.record_seq AND k.seq;
			SELECT jsonb_agg(l.line::jsonb ORDER BY l.key_no) INTO v_keys
			  FROM fl.audit_key_line l WHERE l.from_seq <= k.seq;
			IF v_keys IS NOT NULL THEN
				v_proof := v_proof || jsonb_build_object('keys', v_keys);
			END IF;
		END IF;
	END IF;
	RETURN fl.period_json(c) || jsonb_build_object('proof', v_proof);
END
$$;


ALTER FUNCTION api.period_close_get(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: period_closes(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.period_closes(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN jsonb_build_object('closes', coalesce((SELECT jsonb_agg(fl.period_json(c)
	    ORDER BY c.requested_at DESC, c.period_id) FROM fl.period_close c), '[]'));
END
$$;


ALTER FUNCTION api.period_closes(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: principal_confirm(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.principal_confirm(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
	v	fl.principal;
BEGIN
	SELECT * INTO v FROM fl.principal WHERE principal_id = params->>'principal_id'
	   FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM fl.rpc_error(-32004, 'principal_not_found', 'principal_id');
	END IF;
	IF v.revoked_at IS NOT NULL THEN
		PERFORM fl.rpc_error(-32009, 'principal_revoked', 'principal_id');
	END IF;
	IF v.confirmed_at IS NOT NULL THEN
		PERFORM fl.rpc_error(-32009, 'already_confirmed', 'principal_id');
	END IF;
	IF v.created_by = p.principal_id THEN
		PERFORM fl.rpc_error(-32011, 'own_principal', 'principal_id');
	END IF;
	UPDATE fl.principal SET token_hash = decode(ctx->>'token_sha256', 'hex'),
	       confirmed_at = now(), confirmed_by = p.principal_id
	 WHERE principal_id = v.principal_id
	RETURNING * INTO v;
	RETURN fl.principal_json(v) || jsonb_build_object('created_at', fl.ts(v.created_at),
	    'confirmed_at', fl.ts(v.confirmed_at), 'confirmed_by', v.confirmed_by,
	    'pending', false, 'token', true);
END
$$;


ALTER FUNCTION api.principal_confirm(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: principal_conflicts(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.principal_conflicts(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.principal_conflicts(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: principal_create(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.principal_create(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
	v		fl.principal;
	v_roles		text[];
	v_pending	boolean;
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
	v_pending := v_roles && ARRAY['admin', 'approver'];
	INSERT INTO fl.principal (name, roles, partner_id, token_hash, token_expires_at,
	    created_by, confirmed_at)
	VALUES (params->>'name', v_roles, params->>'partner_id',
	    CASE WHEN NOT v_pending THEN decode(ctx->>'token_sha256', 'hex') END,
	    fl.token_expiry_in(params), p.principal_id, CASE WHEN NOT v_pending THEN now() END)
	RETURNING * INTO v;
	RETURN fl.principal_json(v) || jsonb_build_object('created_at', fl.ts(v.created_at),
	    'pending', v_pending, 'token', NOT v_pending);
END
$$;


ALTER FUNCTION api.principal_create(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: principal_declare_conflict(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.principal_declare_conflict(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.principal_declare_conflict(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: principal_list(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.principal_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	v_lim	int := fl.limit_in(params);
BEGIN
	RETURN fl.page('principals', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
	    'j', fl.principal_json(t) || jsonb_build_object(
		'token_expires_at', fl.ts(t.token_expires_at), 'state', fl.principal_state(t),
		'login', CASE WHEN t.token_hash IS NOT NULL AND t.cert_sha256 IS NOT NULL
		    THEN 'token_and_certificate' WHEN t.cert_sha256 IS NOT NULL
		    THEN 'certificate' WHEN t.token_hash IS NOT NULL THEN 'token' END,
		'created_at', fl.ts(t.created_at), 'created_by', t.created_by,
		'confirmed_at', fl.ts(t.confirmed_at), 'confirmed_by', t.confirmed_by,
		'revoked_at', fl.ts(t.revoked_at),
		'last_used_at', fl.ts((SELECT s.last_used_at FROM fl.principal_seen s
		    WHERE s.principal_id = t.principal_id)))) ORDER BY t.seq)
	  FROM (SELECT * FROM fl.principal x
		 WHERE x.seq > fl.cursor_in(params->>'cursor')
		   AND (NOT params ? 'state' OR fl.principal_state(x) = params->>'state')
		   AND (NOT params ? 'role' OR params->>'role' = ANY (x.roles))
		 ORDER BY x.seq LIMIT v_lim + 1) t), v_lim);
END
$$;


ALTER FUNCTION api.principal_list(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: principal_revoke(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.principal_revoke(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
	v_id	text := params->>'principal_id';
BEGIN
	IF v_id = p.principal_id THEN
		PERFORM fl.rpc_error(-32009, 'cannot_revoke_self', 'principal_id');
	END IF;
	UPDATE fl.principal SET revoked_at = now()
	 WHERE principal_id = v_id AND revoked_at IS NULL;
	IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM fl.principal WHERE principal_id = v_id) THEN
		PERFORM fl.rpc_error(-32004, 'principal_not_found', 'principal_id');
	END IF;
	RETURN jsonb_build_object('principal_id', v_id, 'revoked', true);
END
$$;


ALTER FUNCTION api.principal_revoke(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: principal_rotate_token(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.principal_rotate_token(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
	v	fl.principal;
	v_exp	timestamptz := fl.token_expiry_in(params);
BEGIN
	SELECT * INTO v FROM fl.principal
	 WHERE principal_id = coalesce(params->>'principal_id', p.principal_id) FOR UPDATE;
	IF NOT FOUND THEN
		PERFORM fl.rpc_error(-32004, 'principal_not_found', 'principal_id');
	END IF;
	IF v.principal_id <> p.principal_id THEN
		IF NOT 'admin' = ANY (p.roles) THEN
			PERFORM fl.rpc_error(-32003, 'role_required', 'principal_id',
			    'only an admin rotates another principal''s token',
			    jsonb_build_object('roles', jsonb_build_array('admin')));
		END IF;
		IF v.roles && ARRAY['admin', 'approver'] THEN
			PERFORM fl.rpc_error(-32011, 'own_token_only', 'principal_id',
			    'an admin''s or approver''s token is rotated by its holder only: '
			    'revoke the principal and create another');
		END IF;
	END IF;
	IF v.revoked_at IS NOT NULL THEN
		PERFORM fl.rpc_error(-32009, 'principal_revoked', 'principal_id');
	END IF;
	IF v.confirmed_at IS NULL THEN
		PERFORM fl.rpc_error(-32009, 'principal_pending', 'principal_id',
		    'the principal waits for principal.confirm, which gives its token');
	END IF;
	UPDATE fl.principal SET token_hash = decode(ctx->>'token_sha256', 'hex'),
	       token_expires_at = v_exp
	 WHERE principal_id = v.principal_id
	RETURNING * INTO v;
	RETURN fl.principal_json(v) || jsonb_build_object('token', true);
END
$$;


ALTER FUNCTION api.principal_rotate_token(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: privacy_due(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.privacy_due(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.privacy_due(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: region_list(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.region_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN (SELECT jsonb_build_object('regions', coalesce(jsonb_agg(jsonb_build_object(
	    'region', region, 'region_code', region_code, 'country', country,
	    'names', jsonb_strip_nulls(jsonb_build_object('en', region, 'hy', region_hy,
		'ru', region_ru)))
	    ORDER BY country, region), '[]'))
	  FROM fl.region);
END
$$;


ALTER FUNCTION api.region_list(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: report_contributions(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.report_contributions(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET jit TO 'off'
    SET work_mem TO '64MB'
    AS $$
DECLARE
	q	record := fl.report_request('contributions', params);
	v_orig	boolean := 'currency' = ANY (q.dims);
	v_out	jsonb := '[]';
	c	record;
	v_row	jsonb;
BEGIN
	FOR c IN EXECUTE fl.report_contributions_query(q.dims)
	    USING q.t0, q.t1, params->>'fund', fl.report_max_rows() + 1
	LOOP
		v_row := c.dims || jsonb_build_object('fund_currency', c.currency,
		    'pledges', c.pledges, 'pledged', fl.total_out(c.pledged, c.minor),
		    'outstanding', fl.total_out(c.outstanding, c.minor),
		    'receipts', c.receipts, 'received', fl.total_out(c.received, c.minor),
		    'donors', c.donors, 'new_donors', c.new_donors,
		    'retained_donors', c.retained_donors,
		    'average_gift', fl.total_out(c.average_gift, c.minor),
		    'median_gift', fl.total_out(c.median_gift, c.minor));
		IF v_orig AND NOT c.total THEN
			v_row := v_row || jsonb_build_object('received_original',
			    fl.total_out(c.received_original, c.cminor));
		END IF;
		v_out := v_out || (v_row || jsonb_build_object('_total', c.total));
	END LOOP;
	RETURN fl.report_answer('contributions', q.dims, '[{"name": "fund_currency",
	    "type": "text"}, {"name": "pledges", "type": "integer"}, {"name": "pledged",
	    "type": "money"}, {"name": "outstanding", "type": "money"}, {"name": "receipts",
	    "type": "integer"}, {"name": "received", "type": "money"}, {"name": "donors",
	    "type": "integer"}, {"name": "new_donors", "type": "integer"},
	    {"name": "retained_donors", "type": "integer"}, {"name": "average_gift",
	    "type": "money"}, {"name": "median_gift", "type": "money"}]'::jsonb
	    || CASE WHEN v_orig THEN '[{"name": "received_original", "type": "money"}]'::jsonb
		ELSE '[]' END, v_out);
END
$$;


ALTER FUNCTION api.report_contributions(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: report_grants(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.report_grants(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET jit TO 'off'
    SET work_mem TO '64MB'
    AS $$
DECLARE
	q	record := fl.report_request('grants', params);
	v_partner boolean := NOT (p.roles && ARRAY['admin', 'approver', 'auditor']);
	v_min	int := fl.report_min_cell();
	v_out	jsonb := '[]';
	v_cells	record;
	v_all	jsonb[] := '{}';
	v_hide	text[] := '{}';
	v_cur	text;
	v_left	bigint;
	v_total	boolean;
	v_minor	int;
	v_row	jsonb;
	v_extra	jsonb := '{}';
	o	jsonb;
BEGIN
	IF v_partner AND q.dims @> ARRAY['gender', 'age_band'] THEN
		PERFORM fl.rpc_error(-32602, 'identifying_dimensions', 'by',
		    'gender and age band together could single a person out');
	END IF;
	FOR v_cells IN EXECUTE fl.report_grants_query(q.dims, params->>'dated')
	    USING q.t0, q.t1, params->>'fund', fl.report_max_rows() + 1
	LOOP
		v_all := v_all || to_jsonb(v_cells);
	END LOOP;
	-- the cells a partner may not see: under the smallest group, and then, while the
	-- hidden cells of a currency together describe fewer grants than that, the next
	-- smallest, so that no subtraction from the totals tells a small group
	IF v_partner THEN
		FOR o IN SELECT e FROM unnest(v_all) e WHERE NOT (e->>'total')::boolean
		    ORDER BY e->>'currency', (e->>'beneficiaries')::bigint, (e->>'grants')::bigint
		LOOP
			IF o->>'currency' IS DISTINCT FROM v_cur THEN
				v_cur := o->>'currency';
				v_left := 0;
			ELSIF v_left < 0 THEN
				CONTINUE;	-- this currency's hidden cells are enough
			END IF;
			IF (o->>'beneficiaries')::int >= v_min AND (v_left = 0 OR v_left >= v_min)
			THEN
				v_left := -1;
				CONTINUE;
			END IF;
			v_hide := v_hide || (v_cur || ' ' || (o->'dims')::text);
			v_left := v_left + (o->>'grants')::bigint;
		END LOOP;
	END IF;
	FOREACH o IN ARRAY v_all LOOP
		v_total := (o->>'total')::boolean;
		v_minor := (o->>'minor')::int;
		v_row := (o->'dims') || jsonb_build_object('currency', o->'currency');
		IF v_partner AND (o->>'currency' || ' ' || (o->'dims')::text = ANY (v_hide) OR
		    (v_total AND (o->>'beneficiaries')::int < v_min)) THEN
			v_row := v_row || jsonb_build_object('grants', NULL, 'beneficiaries', NULL,
			    'requested', NULL, 'committed', NULL, 'disbursed', NULL,
			    'suppressed', true);
		ELSE
			v_row := v_row || jsonb_build_object('grants', o->'grants',
			    'beneficiaries', o->'beneficiaries',
			    'requested', fl.total_out((o->>'requested')::numeric, v_minor),
			    'committed', fl.total_out((o->>'committed')::numeric, v_minor),
			    'disbursed', fl.total_out((o->>'disbursed')::numeric, v_minor));
			IF v_partner THEN
				v_row := v_row || jsonb_build_object('suppressed', false);
			END IF;
		END IF;
		v_out := v_out || (v_row || jsonb_build_object('_total', v_total));
	END LOOP;
	IF v_partner THEN
		v_extra := jsonb_build_object('min_cell', v_min,
		    'suppressed', (SELECT count(*) FROM jsonb_array_elements(v_out) e
			WHERE (e->>'suppressed')::boolean AND NOT (e->>'_total')::boolean));
	END IF;
	RETURN fl.report_answer('grants', q.dims, '[{"name": "currency", "type": "text"},
	    {"name": "grants", "type": "integer"}, {"name": "beneficiaries", "type": "integer"},
	    {"name": "requested", "type": "money"}, {"name": "committed", "type": "money"},
	    {"name": "disbursed", "type": "money"}]'::jsonb
	    || CASE WHEN v_partner THEN '[{"name": "suppressed", "type": "boolean"}]'::jsonb
		ELSE '[]' END, v_out, v_extra);
END
$$;


ALTER FUNCTION api.report_grants(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: report_pipeline(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.report_pipeline(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET jit TO 'off'
    SET work_mem TO '64MB'
    AS $$
DECLARE
	q	record := fl.report_request('pipeline', params);
	v_out	jsonb := '[]';
	c	record;
	v_row	jsonb;
BEGIN
	FOR c IN EXECUTE fl.report_pipeline_query(q.dims)
	    USING q.t0, q.t1, params->>'fund', fl.report_max_rows() + 1
	LOOP
		v_row := c.dims || jsonb_build_object('applications', c.applications,
		    'submitted', c.submitted, 'approved', c.approved, 'rejected', c.rejected,
		    'withdrawn', c.withdrawn, 'cancelled', c.cancelled,
		    'approval_rate', round(c.approved::numeric /
			nullif(c.approved + c.rejected, 0), 4),
		    'median_days_to_decision', round(c.days_to_decision::numeric, 1),
		    'median_days_to_first_payment', round(c.days_to_first_payment::numeric, 1),
		    'waiting_0_7_days', c.waiting_0_7, 'waiting_8_30_days', c.waiting_8_30,
		    'waiting_31_90_days', c.waiting_31_90,
		    'waiting_over_90_days', c.waiting_over_90);
		v_out := v_out || (v_row || jsonb_build_object('_total', c.total));
	END LOOP;
	RETURN fl.report_answer('pipeline', q.dims, '[{"name": "applications",
	    "type": "integer"}, {"name": "submitted", "type": "integer"}, {"name": "approved",
	    "type": "integer"}, {"name": "rejected", "type": "integer"}, {"name": "withdrawn",
	    "type": "integer"}, {"name": "cancelled", "type": "integer"},
	    {"name": "approval_rate", "type": "number"}, {"name": "median_days_to_decision",
	    "type": "number"}, {"name": "median_days_to_first_payment", "type": "number"},
	    {"name": "waiting_0_7_days", "type": "integer"}, {"name": "waiting_8_30_days",
	    "type": "integer"}, {"name": "waiting_31_90_days", "type": "integer"},
	    {"name": "waiting_over_90_days", "type": "integer"}]'::jsonb, v_out);
END
$$;


ALTER FUNCTION api.report_pipeline(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: returnee_access_log(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.returnee_access_log(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.returnee_access_log(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: returnee_erase(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.returnee_erase(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.returnee_erase(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: returnee_erase_cancel(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.returnee_erase_cancel(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
	e	fl.erasure := fl.erasure_pending(params->>'erasure_id');
BEGIN
	UPDATE fl.erasure SET status = 'cancelled', decided_by = p.principal_id,
	    decided_at = now()
	 WHERE erasure_id = e.erasure_id RETURNING * INTO e;
	RETURN fl.erasure_json(e);
END
$$;


ALTER FUNCTION api.returnee_erase_cancel(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: returnee_erase_confirm(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.returnee_erase_confirm(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION api.returnee_erase_confirm(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: returnee_export(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.returnee_export(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.returnee_export(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: returnee_find(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.returnee_find(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $_$
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
$_$;


ALTER FUNCTION api.returnee_find(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: returnee_get(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.returnee_get(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN fl.returnee_json(fl.returnee_get(params->>'returnee_id', false));
END
$$;


ALTER FUNCTION api.returnee_get(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: returnee_history(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.returnee_history(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM fl.returnee WHERE returnee_id = params->>'returnee_id') THEN
		PERFORM fl.rpc_error(-32004, 'returnee_not_found', 'returnee_id');
	END IF;
	PERFORM fl.person_seen(params->>'returnee_id');
	RETURN fl.history('returnee', params->>'returnee_id', params)
	    || jsonb_build_object('returnee_id', params->>'returnee_id');
END
$$;


ALTER FUNCTION api.returnee_history(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: returnee_list(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.returnee_list(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION api.returnee_list(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: returnee_register(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.returnee_register(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
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
$_$;


ALTER FUNCTION api.returnee_register(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: returnee_update(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.returnee_update(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
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
$_$;


ALTER FUNCTION api.returnee_update(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: system_version(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.system_version(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN jsonb_build_object('version', ctx->>'version', 'protocol', 1);
END
$$;


ALTER FUNCTION api.system_version(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: system_whoami(fl.principal, jsonb, jsonb); Type: FUNCTION; Schema: api; Owner: fund_owner
--

CREATE FUNCTION api.system_whoami(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN jsonb_build_object('principal_id', p.principal_id, 'name', p.name,
	    'roles', to_jsonb(p.roles), 'partner_id', p.partner_id)
	    -- (only a token that expires adds its expiry: the v1 shape stays as it was)
	    || CASE WHEN p.token_expires_at IS NOT NULL THEN jsonb_build_object(
		'token_expires_at', fl.ts(p.token_expires_at)) ELSE '{}' END;
END
$$;


ALTER FUNCTION api.system_whoami(p fl.principal, params jsonb, ctx jsonb) OWNER TO fund_owner;

--
-- Name: audit_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.audit_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.audit_seq OWNER TO fund_owner;

--
-- Name: audit_event; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.audit_event (
    seq bigint DEFAULT nextval('fl.audit_seq'::regclass) NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    principal_id fl.ident,
    method fl.method_name NOT NULL,
    object_id fl.ident,
    outcome fl.audit_outcome NOT NULL,
    error_code integer,
    reason fl.reason_code,
    params_sha256 fl.sha256 NOT NULL,
    purpose fl.access_purpose,
    CONSTRAINT audit_event_access CHECK (((purpose IS NULL) OR ((outcome)::text = 'ok'::text))),
    CONSTRAINT audit_event_check CHECK ((((outcome)::text = 'ok'::text) = (error_code IS NULL))),
    CONSTRAINT audit_event_check1 CHECK ((((outcome)::text = 'refused'::text) OR (reason IS NULL)))
);


ALTER TABLE fl.audit_event OWNER TO fund_owner;

--
-- Name: access_json(fl.audit_event); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.access_json(e fl.audit_event) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
	SELECT jsonb_build_object('seq', e.seq, 'at', fl.ts(e.at), 'principal_id', e.principal_id,
	    'name', (SELECT name FROM fl.principal WHERE principal_id = e.principal_id),
	    'method', e.method, 'purpose', e.purpose)
$$;


ALTER FUNCTION fl.access_json(e fl.audit_event) OWNER TO fund_owner;

--
-- Name: account_in(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.account_in(p_text text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
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
$_$;


ALTER FUNCTION fl.account_in(p_text text) OWNER TO fund_owner;

--
-- Name: alloc_catch_up(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.alloc_catch_up(p_fund text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog'
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
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


ALTER FUNCTION fl.alloc_catch_up(p_fund text) OWNER TO fund_owner;

--
-- Name: alloc_catch_up_all(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.alloc_catch_up_all() RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog'
    AS $$
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


ALTER FUNCTION fl.alloc_catch_up_all() OWNER TO fund_owner;

--
-- Name: alloc_enqueue(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.alloc_enqueue() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
	INSERT INTO fl.alloc_queue (fund_code, entry_id, kind, ref_id)
	SELECT n.fund_code, n.entry_id, n.kind, n.ref_id
	  FROM new_entries n JOIN fl.fund f ON f.code = n.fund_code
	 WHERE n.kind IN ('receipt', 'disbursement', 'refund') AND f.kind = 'pass_through'
	 ORDER BY n.entry_id;
	RETURN NULL;
END
$$;


ALTER FUNCTION fl.alloc_enqueue() OWNER TO fund_owner;

--
-- Name: alloc_run(text, bigint[], text[], text[], bigint[], timestamp with time zone, text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.alloc_run(p_fund text, p_re bigint[], p_rg text[], p_rr text[], p_rn bigint[], p_at timestamp with time zone DEFAULT NULL::timestamp with time zone, p_id text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.alloc_run(p_fund text, p_re bigint[], p_rg text[], p_rr text[], p_rn bigint[], p_at timestamp with time zone, p_id text) OWNER TO fund_owner;

--
-- Name: append_only(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$;


ALTER FUNCTION fl.append_only() OWNER TO fund_owner;

--
-- Name: apply_privileges(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.apply_privileges() RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
	REVOKE ALL ON SCHEMA fl, api FROM PUBLIC, fundd_app;
	REVOKE ALL ON ALL TABLES IN SCHEMA fl, api FROM PUBLIC, fundd_app;
	REVOKE ALL ON ALL SEQUENCES IN SCHEMA fl, api FROM PUBLIC, fundd_app;
	REVOKE ALL ON ALL FUNCTIONS IN SCHEMA fl, api FROM PUBLIC, fundd_app;
	-- (functions created later, by the owner: not executable by PUBLIC)
	ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
	GRANT USAGE ON SCHEMA fl, api TO fundd_app;
	GRANT EXECUTE ON FUNCTION
	    api.call(bytea, bytea, text, jsonb, text, jsonb),
	    api.call_many(bytea[], bytea[], text[], jsonb[], text[], jsonb[]),
	    api.authorize(bytea, bytea, text, text, jsonb),
	    api.access_record(bytea[], bytea[], text[], jsonb[]),
	    api.document_upload(bytea, bytea, text, bytea, text, text, text),
	    api.document_download(bytea, bytea, text),
	    fl.purge_idempotency(int),
	    fl.erase_due(int, int),
	    fl.fold_all(),
	    fl.alloc_catch_up_all(),
	    fl.audit_chain(int),
	    fl.audit_checkpoint_due(text),
	    fl.ops_state(),
	    fl.audit_checkpoint_add(bigint, text, text, text, text),
	    fl.method_diff(jsonb),
	    fl.ts(timestamptz),
	    fl.time_in(text)
	    TO fundd_app;
	GRANT SELECT ON fl.ledger_export, fl.ledger_export_header, fl.audit_export TO fundd_app;
END
$$;


ALTER FUNCTION fl.apply_privileges() OWNER TO fund_owner;

--
-- Name: approve_bulk(bytea[], bytea[], text[], jsonb[], text[]); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.approve_bulk(p_token bytea[], p_cert bytea[], p_roles text[], p_params jsonb[], p_idem text[]) RETURNS jsonb[]
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.approve_bulk(p_token bytea[], p_cert bytea[], p_roles text[], p_params jsonb[], p_idem text[]) OWNER TO fund_owner;

--
-- Name: audit_canonical(fl.audit_event); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_canonical(e fl.audit_event) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	RETURN convert_to(e.seq::text || E'\n' || fl.ts(e.at) || E'\n' ||
	    coalesce(e.principal_id, '') || E'\n' || e.method || E'\n' ||
	    coalesce(e.object_id, '') || E'\n' || e.outcome || E'\n' ||
	    coalesce(e.error_code::text, '') || E'\n' || coalesce(e.reason, '') || E'\n' ||
	    encode(e.params_sha256, 'hex') || E'\n' ||
	    coalesce(e.purpose || E'\n', ''), 'UTF8');
END
$$;


ALTER FUNCTION fl.audit_canonical(e fl.audit_event) OWNER TO fund_owner;

--
-- Name: audit_chain(integer); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_chain(p_max integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
	s	fl.audit_state;
	n	fl.audit_state;
	e	fl.audit_event;
	v_l	bigint;
	v_x	xid8;
	v_limit	bigint;
	v_hash	bytea;
	v_seqs	bigint[] := '{}';
	v_prevs	bytea[] := '{}';
	v_hashes bytea[] := '{}';
	v_n	int := 0;
BEGIN
	IF current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'fl.audit_chain needs READ COMMITTED: it reads fresh snapshots';
	END IF;
	IF NOT pg_try_advisory_xact_lock(7346519, 1) THEN
		RETURN -1;
	END IF;
	SELECT * INTO s FROM fl.audit_state;
	-- 1. the newest seq handed out so far
	SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO v_l FROM fl.audit_seq;
	IF v_l <= s.covered_seq AND s.pend_seq IS NULL THEN
		RETURN 0;	-- nothing new: no transaction id, no write
	END IF;
	v_limit := s.covered_seq;
	-- 2. the pending limit of an earlier round is final once its writers are all gone, or
	-- at once when its transaction id is one this cluster has not handed out yet: a copy
	-- restored from a dump into another cluster, where no writer of the old one runs
	IF s.pend_seq IS NOT NULL AND
	    (pg_snapshot_xmin(pg_current_snapshot()) >= s.pend_xid OR
	     s.pend_xid >= pg_snapshot_xmax(pg_current_snapshot())) THEN
		v_limit := s.pend_seq;
	END IF;
	-- 3. our own transaction id, taken after v_l was read, is above the id of every
	-- transaction that holds a seq <= v_l: once none older than ours runs, all of them
	-- are final (so right now, when nobody else was writing)
	v_x := pg_current_xact_id();
	IF pg_snapshot_xmin(pg_current_snapshot()) >= v_x THEN
		v_limit := v_l;
	END IF;
	-- hashes are recomputed identically after a crash; a checkpoint commits durably
	PERFORM set_config('synchronous_commit', 'off', true);
	n := s;
	n.covered_seq := v_limit;
	IF v_limit > s.covered_seq THEN
		FOR e IN SELECT * FROM fl.audit_event
		    WHERE seq > s.covered_seq AND seq <= v_limit ORDER BY seq LIMIT p_max LOOP
			v_hash := sha256(n.head_hash || fl.audit_canonical(e));
			v_seqs := v_seqs || e.seq;
			v_prevs := v_prevs || n.head_hash;
			v_hashes := v_hashes || v_hash;
			n.head_hash := v_hash;
			n.head_seq := e.seq;
			v_n := v_n + 1;
		END LOOP;
		IF v_n = p_max THEN
			n.covered_seq := n.head_seq;	-- more next time
		END IF;
		INSERT INTO fl.audit_chain (seq, prev_hash, hash)
		SELECT * FROM unnest(v_seqs, v_prevs, v_hashes);
	END IF;
	-- a pending limit is replaced only once the chain has passed it, so a long writer
	-- delays the chain but cannot starve it
	IF s.pend_seq IS NULL OR s.pend_seq <= n.covered_seq THEN
		n.pend_seq := CASE WHEN v_l > n.covered_seq THEN v_l END;
		n.pend_xid := CASE WHEN v_l > n.covered_seq THEN v_x END;
	END IF;
	IF n IS DISTINCT FROM s THEN
		UPDATE fl.audit_state SET head_seq = n.head_seq, head_hash = n.head_hash,
		    covered_seq = n.covered_seq, pend_seq = n.pend_seq, pend_xid = n.pend_xid;
	END IF;
	RETURN v_n;
END
$$;


ALTER FUNCTION fl.audit_chain(p_max integer) OWNER TO fund_owner;

--
-- Name: audit_checkpoint_add(bigint, text, text, text, text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_checkpoint_add(p_seq bigint, p_head_hash text, p_signed_at text, p_signature text, p_public_key text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM fl.audit_chain c
	    WHERE c.seq = p_seq AND c.hash = decode(p_head_hash, 'hex')) THEN
		RAISE EXCEPTION 'checkpoint % does not match the chain', p_seq;
	END IF;
	PERFORM fl.audit_key_first(p_public_key);
	INSERT INTO fl.audit_checkpoint (seq, head_hash, signed_at, signature, public_key)
	VALUES (p_seq, decode(p_head_hash, 'hex'), p_signed_at::timestamptz,
	    decode(p_signature, 'hex'), p_public_key)
	ON CONFLICT DO NOTHING;
	RETURN FOUND;
END
$$;


ALTER FUNCTION fl.audit_checkpoint_add(p_seq bigint, p_head_hash text, p_signed_at text, p_signature text, p_public_key text) OWNER TO fund_owner;

--
-- Name: audit_checkpoint_due(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_checkpoint_due(p_public_key text) RETURNS TABLE(seq bigint, head_hash text, signed_at text, key_state text, key_note text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
	k	record;
BEGIN
	SELECT * INTO k FROM fl.audit_key_state(p_public_key);
	RETURN QUERY SELECT s.head_seq, encode(s.head_hash, 'hex'), fl.ts(clock_timestamp()),
	    k.state, k.note
	  FROM fl.audit_state s
	 WHERE s.head_seq > coalesce((SELECT max(c.seq) FROM fl.audit_checkpoint c), 0)
	   AND k.state IN ('current', 'first');
	IF NOT FOUND THEN
		RETURN QUERY SELECT NULL::bigint, NULL::text, NULL::text, k.state, k.note;
	END IF;
END
$$;


ALTER FUNCTION fl.audit_checkpoint_due(p_public_key text) OWNER TO fund_owner;

--
-- Name: audit_checkpoint_key_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_checkpoint_key_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
	k	fl.audit_key;
BEGIN
	PERFORM pg_advisory_xact_lock(7346519, 2);
	k := fl.audit_key_at(NEW.seq);
	IF k.key_no IS NULL THEN
		RAISE EXCEPTION 'checkpoint at seq %: no audit signing key is registered', NEW.seq;
	END IF;
	IF fl.ed25519_raw(NEW.public_key) IS DISTINCT FROM k.public_key THEN
		RAISE EXCEPTION 'checkpoint at seq %: not signed with key % (%), the audit signing '
		    'key of that seq', NEW.seq, k.key_no, k.key_id;
	END IF;
	RETURN NEW;
END
$$;


ALTER FUNCTION fl.audit_checkpoint_key_guard() OWNER TO fund_owner;

--
-- Name: audit_event_json(fl.audit_event, bytea, bytea); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_event_json(e fl.audit_event, p_prev bytea, p_hash bytea) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	RETURN jsonb_build_object('seq', e.seq, 'at', fl.ts(e.at),
	    'principal_id', e.principal_id, 'method', e.method, 'object_id', e.object_id,
	    'outcome', e.outcome, 'error_code', e.error_code, 'reason', e.reason,
	    'params_sha256', encode(e.params_sha256, 'hex'), 'purpose', e.purpose,
	    'prev_hash', encode(p_prev, 'hex'), 'hash', encode(p_hash, 'hex'));
END
$$;


ALTER FUNCTION fl.audit_event_json(e fl.audit_event, p_prev bytea, p_hash bytea) OWNER TO fund_owner;

--
-- Name: audit_key_add(integer, bigint, text, text, text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_key_add(p_key_no integer, p_from_seq bigint, p_public_key text, p_introduced_at text, p_signature text) RETURNS text
    LANGUAGE plpgsql
    AS $$
DECLARE
	v_raw	bytea := fl.ed25519_raw(p_public_key);
	v_old	int;
BEGIN
	IF v_raw IS NULL THEN
		RAISE EXCEPTION 'the new key is not a PEM Ed25519 public key';
	END IF;
	SELECT k.key_no INTO v_old FROM fl.audit_key k WHERE k.public_key = v_raw;
	IF FOUND THEN
		RAISE EXCEPTION 'key % is audit signing key % already: a key is introduced once, '
		    'and a retired key never signs again', fl.audit_key_id(v_raw), v_old;
	END IF;
	INSERT INTO fl.audit_key (key_no, public_key, from_seq, signed_by, signature,
	    introduced_at)
	VALUES (p_key_no, v_raw, p_from_seq, p_key_no - 1, decode(p_signature, 'hex'),
	    p_introduced_at::timestamptz);
	RETURN fl.audit_key_id(v_raw);
END
$$;


ALTER FUNCTION fl.audit_key_add(p_key_no integer, p_from_seq bigint, p_public_key text, p_introduced_at text, p_signature text) OWNER TO fund_owner;

--
-- Name: audit_key; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.audit_key (
    key_no integer NOT NULL,
    public_key bytea NOT NULL,
    key_id text GENERATED ALWAYS AS ("left"(encode(sha256(public_key), 'hex'::text), 16)) STORED NOT NULL,
    from_seq bigint NOT NULL,
    signed_by integer,
    signature bytea,
    introduced_at timestamp with time zone NOT NULL,
    stored_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT audit_key_check CHECK ((signed_by = (key_no - 1))),
    CONSTRAINT audit_key_check1 CHECK (((key_no = 1) = (signed_by IS NULL))),
    CONSTRAINT audit_key_check2 CHECK (((key_no = 1) = (signature IS NULL))),
    CONSTRAINT audit_key_check3 CHECK (((key_no > 1) OR (from_seq = 1))),
    CONSTRAINT audit_key_from_seq_check CHECK ((from_seq >= 1)),
    CONSTRAINT audit_key_key_no_check CHECK ((key_no >= 1)),
    CONSTRAINT audit_key_public_key_check CHECK ((length(public_key) = 32)),
    CONSTRAINT audit_key_signature_check CHECK ((length(signature) = 64))
);


ALTER TABLE fl.audit_key OWNER TO fund_owner;

--
-- Name: audit_key_at(bigint); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_key_at(p_seq bigint) RETURNS fl.audit_key
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	k	fl.audit_key;
BEGIN
	SELECT * INTO k FROM fl.audit_key a WHERE a.from_seq <= p_seq
	 ORDER BY a.key_no DESC LIMIT 1;
	RETURN k;
END
$$;


ALTER FUNCTION fl.audit_key_at(p_seq bigint) OWNER TO fund_owner;

--
-- Name: audit_key_first(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_key_first(p_public_key text) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
	v_raw	bytea := fl.ed25519_raw(p_public_key);
BEGIN
	IF EXISTS (SELECT 1 FROM fl.audit_key) THEN
		RETURN;
	END IF;
	PERFORM pg_advisory_xact_lock(7346519, 2);
	IF v_raw IS NULL THEN
		RAISE EXCEPTION 'the audit signing key is not a PEM Ed25519 public key';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM fl.audit_key) THEN	-- a new snapshot, under the lock
		INSERT INTO fl.audit_key (key_no, public_key, from_seq, introduced_at)
		VALUES (1, v_raw, 1, clock_timestamp());
	END IF;
END
$$;


ALTER FUNCTION fl.audit_key_first(p_public_key text) OWNER TO fund_owner;

--
-- Name: audit_key_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_key_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
	v_last	int;
	v_cp	bigint;
	v_bad	bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(7346519, 2);
	v_last := coalesce((SELECT max(k.key_no) FROM fl.audit_key k), 0);
	IF NEW.key_no <> v_last + 1 THEN
		RAISE EXCEPTION 'audit key %: the next key is key %', NEW.key_no, v_last + 1;
	END IF;
	v_cp := (SELECT max(c.seq) FROM fl.audit_checkpoint c);
	IF NEW.key_no = 1 THEN
		SELECT c.seq INTO v_bad FROM fl.audit_checkpoint c
		 WHERE c.public_key <> fl.ed25519_pem(NEW.public_key)
		   AND fl.ed25519_raw(c.public_key) IS DISTINCT FROM NEW.public_key
		 ORDER BY c.seq LIMIT 1;
		IF v_bad IS NOT NULL THEN
			RAISE EXCEPTION 'key % cannot be the first audit signing key: the checkpoint '
			    'at seq % is signed with another key', fl.audit_key_id(NEW.public_key),
			    v_bad;
		END IF;
	ELSIF v_cp IS NULL THEN
		RAISE EXCEPTION 'audit key %: no checkpoint is signed yet, so there is no key to '
		    'rotate from', NEW.key_no;
	ELSIF NEW.from_seq <> v_cp + 1 THEN
		RAISE EXCEPTION 'audit key %: it signs from seq %, the seq after the last '
		    'checkpoint', NEW.key_no, v_cp + 1;
	END IF;
	RETURN NEW;
END
$$;


ALTER FUNCTION fl.audit_key_guard() OWNER TO fund_owner;

--
-- Name: audit_key_id(bytea); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_key_id(p_raw bytea) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	RETURN left(encode(sha256(p_raw), 'hex'), 16);
END
$$;


ALTER FUNCTION fl.audit_key_id(p_raw bytea) OWNER TO fund_owner;

--
-- Name: audit_key_next(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_key_next(p_signer text, OUT key_no integer, OUT from_seq bigint, OUT introduced_at text) RETURNS record
    LANGUAGE plpgsql
    AS $$
DECLARE
	k	record;
	v_cp	bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(7346519, 2);
	v_cp := (SELECT max(c.seq) FROM fl.audit_checkpoint c);
	IF v_cp IS NULL THEN
		RAISE EXCEPTION 'no checkpoint is signed yet, so there is no key to rotate from: '
		    'point [audit] signing_key at the new key instead';
	END IF;
	PERFORM fl.audit_key_first(p_signer);
	SELECT * INTO k FROM fl.audit_key_state(p_signer);
	IF k.state <> 'current' THEN
		RAISE EXCEPTION 'the configured [audit] signing_key cannot introduce a key: %',
		    k.note;
	END IF;
	key_no := (SELECT max(a.key_no) FROM fl.audit_key a) + 1;
	from_seq := v_cp + 1;
	introduced_at := fl.ts(clock_timestamp());
END
$$;


ALTER FUNCTION fl.audit_key_next(p_signer text, OUT key_no integer, OUT from_seq bigint, OUT introduced_at text) OWNER TO fund_owner;

--
-- Name: audit_key_state(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_key_state(p_public_key text, OUT state text, OUT note text) RETURNS record
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	v_raw	bytea := fl.ed25519_raw(p_public_key);
	v_id	text := fl.audit_key_id(v_raw);
	v_last	fl.audit_key;
	v_mine	fl.audit_key;
	v_cp	fl.audit_checkpoint;
BEGIN
	SELECT * INTO v_last FROM fl.audit_key k ORDER BY k.key_no DESC LIMIT 1;
	SELECT * INTO v_mine FROM fl.audit_key k WHERE k.public_key = v_raw;
	IF v_raw IS NULL THEN
		state := 'unknown';
		note := 'the audit signing key is not a PEM Ed25519 public key';
	ELSIF v_last.key_no IS NULL THEN
		SELECT * INTO v_cp FROM fl.audit_checkpoint c ORDER BY c.seq DESC LIMIT 1;
		IF v_cp.seq IS NULL OR fl.ed25519_raw(v_cp.public_key) = v_raw THEN
			state := 'first';
			note := format('key %s becomes the first audit signing key when it signs '
			    '(trust on first use)', v_id);
		ELSE
			state := 'unknown';
			note := format('key %s is not the key of the stored checkpoints (the one at '
			    'seq %s is signed with key %s)', v_id, v_cp.seq,
			    coalesce(fl.audit_key_id(fl.ed25519_raw(v_cp.public_key)), '?'));
		END IF;
	ELSIF v_mine.key_no = v_last.key_no THEN
		state := 'current';
		note := format('key %s is audit signing key %s, from seq %s', v_id, v_mine.key_no,
		    v_mine.from_seq);
	ELSIF v_mine.key_no IS NOT NULL THEN
		state := 'retired';
		note := format('key %s (audit signing key %s) is retired: key %s (%s) signs from '
		    'seq %s', v_id, v_mine.key_no, v_last.key_no, v_last.key_id, v_last.from_seq);
	ELSE
		state := 'unknown';
		note := format('key %s is not one of the audit signing keys: key %s (%s) signs from '
		    'seq %s', v_id, v_last.key_no, v_last.key_id, v_last.from_seq);
	END IF;
END
$$;


ALTER FUNCTION fl.audit_key_state(p_public_key text, OUT state text, OUT note text) OWNER TO fund_owner;

--
-- Name: audit_object(text, jsonb, jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_object(p_method text, p_params jsonb, p_res jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
	v_ns	text := split_part(p_method, '.', 1);
BEGIN
	RETURN coalesce(p_res->>(v_ns || '_id'), p_params->>(v_ns || '_id'),
	    CASE WHEN v_ns = 'fund' THEN coalesce(p_res->>'transfer_id',
	        p_params->>'transfer_id', p_res->>'code', p_params->>'code') END);
END
$$;


ALTER FUNCTION fl.audit_object(p_method text, p_params jsonb, p_res jsonb) OWNER TO fund_owner;

--
-- Name: audit_record(text, text, text, integer, text, bytea); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_record(p_principal text, p_method text, p_object text, p_code integer, p_reason text, p_params_sha256 bytea) RETURNS void
    LANGUAGE plpgsql
    AS $_$
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
$_$;


ALTER FUNCTION fl.audit_record(p_principal text, p_method text, p_object text, p_code integer, p_reason text, p_params_sha256 bytea) OWNER TO fund_owner;

--
-- Name: audit_refused(text, text, jsonb, jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.audit_refused(p_principal text, p_method text, p_params jsonb, p_err jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
	PERFORM fl.audit_record(p_principal, p_method, fl.audit_object(p_method, p_params, NULL),
	    (p_err->>'code')::int, p_err->'data'->>'reason', fl.params_sha256(p_method, p_params));
END
$$;


ALTER FUNCTION fl.audit_refused(p_principal text, p_method text, p_params jsonb, p_err jsonb) OWNER TO fund_owner;

--
-- Name: authenticate(bytea, bytea); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.authenticate(p_token bytea, p_cert bytea) RETURNS fl.principal
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	v	fl.principal;
BEGIN
	IF p_token IS NOT NULL THEN
		SELECT * INTO v FROM fl.principal
		 WHERE token_hash = p_token AND revoked_at IS NULL
		   AND (token_expires_at IS NULL OR token_expires_at > now());
	ELSIF p_cert IS NOT NULL THEN
		SELECT * INTO v FROM fl.principal
		 WHERE cert_sha256 = p_cert AND revoked_at IS NULL;
	END IF;
	RETURN v;
END
$$;


ALTER FUNCTION fl.authenticate(p_token bytea, p_cert bytea) OWNER TO fund_owner;

--
-- Name: basis_recorded(jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.basis_recorded(params jsonb) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	RETURN coalesce(params->>'basis' = 'recorded', false);
END
$$;


ALTER FUNCTION fl.basis_recorded(params jsonb) OWNER TO fund_owner;

--
-- Name: bulk_callers(bytea[], bytea[], text[]); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.bulk_callers(p_token bytea[], p_cert bytea[], p_roles text[]) RETURNS fl.principal[]
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	v_p	fl.principal;
	v_roles	text[];
	v_ps	fl.principal[];
	k	int;
BEGIN
	FOR k IN 1..cardinality(p_roles) LOOP
		IF k > 1 AND p_token[k] IS NOT DISTINCT FROM p_token[k - 1] AND
		    p_cert[k] IS NOT DISTINCT FROM p_cert[k - 1] AND
		    p_roles[k] = p_roles[k - 1] THEN
			v_ps[k] := v_ps[k - 1];	-- (the same caller as the call before)
			CONTINUE;
		END IF;
		v_p := NULL;
		IF p_token[k] IS NOT NULL THEN
			SELECT * INTO v_p FROM fl.principal
			 WHERE token_hash = p_token[k] AND revoked_at IS NULL
			   AND (token_expires_at IS NULL OR token_expires_at > now());
		ELSIF p_cert[k] IS NOT NULL THEN
			SELECT * INTO v_p FROM fl.principal
			 WHERE cert_sha256 = p_cert[k] AND revoked_at IS NULL;
		END IF;
		v_roles := p_roles[k]::text[];
		IF v_p.principal_id IS NULL OR
		    (cardinality(v_roles) > 0 AND NOT (v_p.roles && v_roles)) OR
		    ('partner' = ANY (v_p.roles) AND cardinality(v_roles) > 0 AND
		     NOT (v_p.roles && array_remove(v_roles, 'partner'))) THEN
			RETURN NULL;
		END IF;
		PERFORM fl.principal_seen(v_p.principal_id);
		v_ps[k] := v_p;
	END LOOP;
	RETURN v_ps;
END
$$;


ALTER FUNCTION fl.bulk_callers(p_token bytea[], p_cert bytea[], p_roles text[]) OWNER TO fund_owner;

--
-- Name: bulk_claim_keys(text[], text[]); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.bulk_claim_keys(p_pids text[], p_idem text[]) RETURNS boolean
    LANGUAGE plpgsql
    AS $$
BEGIN
	IF (SELECT count(*) <> count(DISTINCT (u.pid, u.key))
	      FROM unnest(p_pids, p_idem) AS u(pid, key) WHERE u.key IS NOT NULL) THEN
		RETURN false;
	END IF;
	PERFORM pg_advisory_xact_lock(s.h)
	   FROM (SELECT DISTINCT hashtextextended(u.pid || ' ' || u.key, 0) AS h
		   FROM unnest(p_pids, p_idem) AS u(pid, key)
		  WHERE u.key IS NOT NULL ORDER BY 1) AS s;
	RETURN NOT EXISTS (SELECT 1 FROM unnest(p_pids, p_idem) AS u(pid, key)
			     JOIN fl.idempotency i ON i.principal_id = u.pid AND i.key = u.key);
END
$$;


ALTER FUNCTION fl.bulk_claim_keys(p_pids text[], p_idem text[]) OWNER TO fund_owner;

--
-- Name: bulk_method(text, jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.bulk_method(p_method text, p_params jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
	SELECT CASE
	    WHEN p_method = 'contribution.receive' AND NOT p_params ? 'contribution_id'
	    THEN p_method
	    WHEN p_method = 'grant.approve' THEN p_method END
$$;


ALTER FUNCTION fl.bulk_method(p_method text, p_params jsonb) OWNER TO fund_owner;

--
-- Name: bulk_record(text, text[], text[], bytea[], jsonb[]); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.bulk_record(p_method text, p_pids text[], p_idem text[], p_hash bytea[], p_res jsonb[]) RETURNS jsonb[]
    LANGUAGE plpgsql
    AS $$
DECLARE
	v_ns	text := split_part(p_method, '.', 1) || '_id';
BEGIN
	INSERT INTO fl.idempotency (principal_id, key, method, params_sha256, result)
	SELECT u.pid, u.key, p_method, u.h, u.r - 'token'
	  FROM unnest(p_pids, p_idem, p_hash, p_res) WITH ORDINALITY AS u(pid, key, h, r, o)
	 WHERE u.key IS NOT NULL
	 ORDER BY u.o;
	-- the transaction id before the seqs, as fl.audit_record() takes it
	PERFORM pg_current_xact_id();
	INSERT INTO fl.audit_event (principal_id, method, object_id, outcome, params_sha256)
	SELECT u.pid, p_method, u.r->>v_ns, 'ok', u.h
	  FROM unnest(p_pids, p_hash, p_res) WITH ORDINALITY AS u(pid, h, r, o)
	 ORDER BY u.o;
	RETURN ARRAY(SELECT jsonb_build_object('result', u.r, 'replayed', false)
		       FROM unnest(p_res) WITH ORDINALITY AS u(r, o) ORDER BY u.o);
END
$$;


ALTER FUNCTION fl.bulk_record(p_method text, p_pids text[], p_idem text[], p_hash bytea[], p_res jsonb[]) OWNER TO fund_owner;

--
-- Name: fund; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.fund (
    code text NOT NULL,
    name text NOT NULL,
    currency text NOT NULL,
    kind text NOT NULL,
    dual_approval_above bigint NOT NULL,
    received bigint DEFAULT 0 NOT NULL,
    earnings bigint DEFAULT 0 NOT NULL,
    pledged bigint DEFAULT 0 NOT NULL,
    committed bigint DEFAULT 0 NOT NULL,
    disbursed bigint DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text,
    transferred_in bigint DEFAULT 0 NOT NULL,
    transferred_out bigint DEFAULT 0 NOT NULL,
    charges bigint DEFAULT 0 NOT NULL,
    impaired bigint DEFAULT 0 NOT NULL,
    CONSTRAINT available_not_negative CHECK (((((((
CASE kind
    WHEN 'pass_through'::text THEN ((received - impaired) + earnings)
    ELSE earnings
END + transferred_in) - transferred_out) - charges) - committed) - disbursed) >= 0)),
    CONSTRAINT endowment_no_transfer_in CHECK (((kind = 'pass_through'::text) OR (transferred_in = 0))),
    CONSTRAINT fund_charges_check CHECK ((charges >= 0)),
    CONSTRAINT fund_code_check CHECK ((code ~ '^[A-Z0-9_-]{1,32}$'::text)),
    CONSTRAINT fund_committed_check CHECK ((committed >= 0)),
    CONSTRAINT fund_disbursed_check CHECK ((disbursed >= 0)),
    CONSTRAINT fund_dual_approval_above_check CHECK ((dual_approval_above >= 0)),
    CONSTRAINT fund_earnings_check CHECK ((earnings >= 0)),
    CONSTRAINT fund_impaired_check CHECK ((impaired >= 0)),
    CONSTRAINT fund_impaired_within_capital CHECK ((impaired <= received)),
    CONSTRAINT fund_kind_check CHECK ((kind = ANY (ARRAY['pass_through'::text, 'endowment'::text]))),
    CONSTRAINT fund_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT fund_pledged_check CHECK ((pledged >= 0)),
    CONSTRAINT fund_received_check CHECK ((received >= 0)),
    CONSTRAINT fund_transferred_in_check CHECK ((transferred_in >= 0)),
    CONSTRAINT fund_transferred_out_check CHECK ((transferred_out >= 0))
)
WITH (fillfactor='20');


ALTER TABLE fl.fund OWNER TO fund_owner;

--
-- Name: charge_split(fl.fund, bigint, bigint, text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.charge_split(f fl.fund, p_amt bigint, p_capital bigint, p_field text, OUT v_income bigint, OUT v_capital bigint) RETURNS record
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.charge_split(f fl.fund, p_amt bigint, p_capital bigint, p_field text, OUT v_income bigint, OUT v_capital bigint) OWNER TO fund_owner;

--
-- Name: principal_conflict; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.principal_conflict (
    seq bigint NOT NULL,
    principal_id text NOT NULL,
    returnee_id text NOT NULL,
    reason text NOT NULL,
    declared_by text NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT principal_conflict_reason_check CHECK (((length(reason) >= 1) AND (length(reason) <= 1000)))
);


ALTER TABLE fl.principal_conflict OWNER TO fund_owner;

--
-- Name: conflict_json(fl.principal_conflict); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.conflict_json(c fl.principal_conflict) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN jsonb_build_object('principal_id', c.principal_id,
	    'name', (SELECT name FROM fl.principal WHERE principal_id = c.principal_id),
	    'returnee_id', c.returnee_id, 'reason', c.reason, 'declared_by', c.declared_by,
	    'at', fl.ts(c.at));
END
$$;


ALTER FUNCTION fl.conflict_json(c fl.principal_conflict) OWNER TO fund_owner;

--
-- Name: consent_in(text, fl.principal, jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.consent_in(p_id text, p fl.principal, params jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.consent_in(p_id text, p fl.principal, params jsonb) OWNER TO fund_owner;

--
-- Name: returnee_consent; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.returnee_consent (
    seq bigint NOT NULL,
    returnee_id text NOT NULL,
    purposes text[] NOT NULL,
    given_on date NOT NULL,
    given_by text NOT NULL,
    until date,
    recorded_by text NOT NULL,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT returnee_consent_check CHECK ((until >= given_on)),
    CONSTRAINT returnee_consent_given_by_check CHECK ((given_by = ANY (ARRAY['self'::text, 'guardian'::text, 'representative'::text]))),
    CONSTRAINT returnee_consent_purposes_check CHECK (((cardinality(purposes) >= 1) AND (purposes <@ ARRAY['case_management'::text, 'payment'::text])))
);


ALTER TABLE fl.returnee_consent OWNER TO fund_owner;

--
-- Name: consent_json(fl.returnee_consent); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.consent_json(c fl.returnee_consent) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
	SELECT CASE WHEN c.seq IS NOT NULL THEN jsonb_build_object('for', to_jsonb(c.purposes),
	    'given_on', c.given_on::text, 'given_by', c.given_by, 'until', c.until::text,
	    'recorded_by', c.recorded_by, 'recorded_at', fl.ts(c.recorded_at)) END
$$;


ALTER FUNCTION fl.consent_json(c fl.returnee_consent) OWNER TO fund_owner;

--
-- Name: consent_of(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.consent_of(p_id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	c	fl.returnee_consent;
BEGIN
	SELECT * INTO c FROM fl.returnee_consent WHERE returnee_id = p_id
	 ORDER BY seq DESC LIMIT 1;
	RETURN fl.consent_json(c);
END
$$;


ALTER FUNCTION fl.consent_of(p_id text) OWNER TO fund_owner;

--
-- Name: contribution_allocations(text, text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.contribution_allocations(p_id text, p_fund text) RETURNS TABLE(grant_id text, amount bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog'
    AS $$
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


ALTER FUNCTION fl.contribution_allocations(p_id text, p_fund text) OWNER TO fund_owner;

--
-- Name: contribution; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.contribution (
    seq bigint NOT NULL,
    contribution_id text DEFAULT fl.new_id('co'::text) NOT NULL,
    partner_id text NOT NULL,
    fund_code text NOT NULL,
    status fl.contribution_status NOT NULL,
    amount fl.positive_amount NOT NULL,
    currency text NOT NULL,
    fx_rate fl.positive_rate,
    fund_amount fl.positive_amount NOT NULL,
    earmark_region text,
    pledged_at timestamp with time zone,
    received_at timestamp with time zone,
    bank_ref fl.bank_ref,
    cancelled_at timestamp with time zone,
    cancel_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text,
    fee bigint DEFAULT 0 NOT NULL,
    written_off_at timestamp with time zone,
    write_off_reason text,
    reversed_at timestamp with time zone,
    reversed_by text,
    reverse_reason text,
    reversal_entry bigint,
    CONSTRAINT contribution_check1 CHECK ((((status)::text = 'cancelled'::text) = ((cancelled_at IS NOT NULL) AND (cancel_reason IS NOT NULL)))),
    CONSTRAINT contribution_fee_below_amount CHECK (((fee >= 0) AND (fee < (fund_amount)::bigint))),
    CONSTRAINT contribution_received_at CHECK ((((status)::text = ANY (ARRAY['received'::text, 'reversed'::text])) = (received_at IS NOT NULL))),
    CONSTRAINT contribution_reversed CHECK ((((status)::text = 'reversed'::text) = ((reversed_at IS NOT NULL) AND (reversal_entry IS NOT NULL)))),
    CONSTRAINT contribution_written_off CHECK ((((status)::text = 'written_off'::text) = ((written_off_at IS NOT NULL) AND COALESCE(((length(write_off_reason) >= 1) AND (length(write_off_reason) <= 500)), false))))
);


ALTER TABLE fl.contribution OWNER TO fund_owner;

--
-- Name: contribution_get(text, boolean); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.contribution_get(p_id text, p_lock boolean) RETURNS fl.contribution
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.contribution_get(p_id text, p_lock boolean) OWNER TO fund_owner;

--
-- Name: contribution_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.contribution_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.contribution_guard() OWNER TO fund_owner;

--
-- Name: contribution_insert(fl.contribution); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.contribution_insert(c fl.contribution) RETURNS fl.contribution
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.contribution_insert(c fl.contribution) OWNER TO fund_owner;

--
-- Name: contribution_json(fl.contribution, fl.fund); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.contribution_json(c fl.contribution, f fl.fund DEFAULT NULL::fl.fund) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.contribution_json(c fl.contribution, f fl.fund) OWNER TO fund_owner;

--
-- Name: contribution_new(fl.principal, jsonb, fl.fund, text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.contribution_new(p fl.principal, params jsonb, f fl.fund, p_status text) RETURNS fl.contribution
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.contribution_new(p fl.principal, params jsonb, f fl.fund, p_status text) OWNER TO fund_owner;

--
-- Name: correction_record(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.correction_record() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
	o	jsonb := to_jsonb(OLD);
	n	jsonb := to_jsonb(NEW);
	v_f	text[];
BEGIN
	SELECT array_agg(c ORDER BY k) INTO v_f
	  FROM unnest(TG_ARGV[2:]) WITH ORDINALITY AS x(c, k)
	 WHERE o->c IS DISTINCT FROM n->c;
	IF v_f IS NOT NULL THEN
		INSERT INTO fl.correction (object_kind, object_id, principal_id, fields, old, new)
		VALUES (TG_ARGV[0], n->>TG_ARGV[1],
		    nullif(current_setting('fl.principal_id', true), ''), v_f,
		    (SELECT jsonb_object_agg(c, o->c) FROM unnest(v_f) c),
		    (SELECT jsonb_object_agg(c, n->c) FROM unnest(v_f) c));
	END IF;
	RETURN NULL;
END
$$;


ALTER FUNCTION fl.correction_record() OWNER TO fund_owner;

--
-- Name: cursor_in(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.cursor_in(p_cursor text) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
BEGIN
	IF p_cursor IS NULL THEN
		RETURN 0;
	END IF;
	IF p_cursor !~ '^c[0-9]+$' OR length(p_cursor) > 19 THEN
		PERFORM fl.rpc_error(-32602, 'bad_cursor', 'cursor');
	END IF;
	RETURN substr(p_cursor, 2)::bigint;
END
$_$;


ALTER FUNCTION fl.cursor_in(p_cursor text) OWNER TO fund_owner;

--
-- Name: disbursement; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.disbursement (
    seq bigint NOT NULL,
    disbursement_id text DEFAULT fl.new_id('di'::text) NOT NULL,
    grant_id text NOT NULL,
    amount bigint NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    reference text,
    bank_ref text,
    paid_at timestamp with time zone,
    fail_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text NOT NULL,
    decided_by text,
    payee_account text,
    retry_of text,
    milestone_id text,
    CONSTRAINT disbursement_amount_check CHECK ((amount > 0)),
    CONSTRAINT disbursement_bank_ref_check CHECK (((length(bank_ref) >= 1) AND (length(bank_ref) <= 200))),
    CONSTRAINT disbursement_check CHECK (((status = 'paid'::text) = ((paid_at IS NOT NULL) AND (bank_ref IS NOT NULL)))),
    CONSTRAINT disbursement_check1 CHECK (((status = 'paid'::text) <= (decided_by IS DISTINCT FROM created_by))),
    CONSTRAINT disbursement_payee_account_check CHECK ((payee_account ~ '^([A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}|[0-9]{11,16})$'::text)),
    CONSTRAINT disbursement_reference_check CHECK (((length(reference) >= 1) AND (length(reference) <= 200))),
    CONSTRAINT disbursement_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'paid'::text, 'failed'::text])))
);


ALTER TABLE fl.disbursement OWNER TO fund_owner;

--
-- Name: disbursement_get(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.disbursement_get(p_id text) RETURNS fl.disbursement
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.disbursement_get(p_id text) OWNER TO fund_owner;

--
-- Name: disbursement_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.disbursement_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.disbursement_guard() OWNER TO fund_owner;

--
-- Name: disbursement_insert_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.disbursement_insert_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.disbursement_insert_guard() OWNER TO fund_owner;

--
-- Name: disbursement_json(fl.disbursement); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.disbursement_json(d fl.disbursement) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.disbursement_json(d fl.disbursement) OWNER TO fund_owner;

--
-- Name: dispatch_tree(text[], integer, integer, text, text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.dispatch_tree(p_names text[], p_lo integer, p_hi integer, p_indent text, p_else text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
	v	text;
	v_mid	int;
BEGIN
	IF p_hi < p_lo THEN
		RETURN p_indent || p_else || E'\n';
	END IF;
	IF p_hi - p_lo < 4 THEN
		v := p_indent || E'CASE p_method\n';
		FOR i IN p_lo .. p_hi LOOP
			v := v || p_indent || format(
			    E'WHEN %L THEN v_res := api.%I(v_p, p_params, p_ctx);\n',
			    p_names[i], replace(p_names[i], '.', '_'));
		END LOOP;
		RETURN v || p_indent || 'ELSE ' || p_else || E'\n' || p_indent || E'END CASE;\n';
	END IF;
	v_mid := (p_lo + p_hi + 1) / 2;
	RETURN p_indent || format(E'IF p_method < %L COLLATE "C" THEN\n', p_names[v_mid])
	    || fl.dispatch_tree(p_names, p_lo, v_mid - 1, p_indent || E'\t', p_else)
	    || p_indent || E'ELSE\n'
	    || fl.dispatch_tree(p_names, v_mid, p_hi, p_indent || E'\t', p_else)
	    || p_indent || E'END IF;\n';
END
$$;


ALTER FUNCTION fl.dispatch_tree(p_names text[], p_lo integer, p_hi integer, p_indent text, p_else text) OWNER TO fund_owner;

--
-- Name: document; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.document (
    seq bigint NOT NULL,
    document_id text NOT NULL,
    content_type text NOT NULL,
    data bytea NOT NULL,
    size bigint NOT NULL,
    sha256 bytea NOT NULL,
    filename text,
    supersedes text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text NOT NULL,
    CONSTRAINT document_check CHECK (((size > 0) AND (size = length(data)))),
    CONSTRAINT document_content_type_check CHECK ((content_type = ANY (ARRAY['application/pdf'::text, 'image/png'::text, 'image/jpeg'::text]))),
    CONSTRAINT document_filename_check CHECK (((length(filename) >= 1) AND (length(filename) <= 255))),
    CONSTRAINT document_sha256_check CHECK ((length(sha256) = 32))
);
ALTER TABLE ONLY fl.document ALTER COLUMN data SET STORAGE EXTERNAL;


ALTER TABLE fl.document OWNER TO fund_owner;

--
-- Name: document_json(fl.document); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.document_json(d fl.document) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
	SELECT jsonb_build_object('document_id', d.document_id, 'content_type', d.content_type,
	    'size', d.size, 'sha256', encode(d.sha256, 'hex'), 'filename', d.filename,
	    'supersedes', d.supersedes,
	    'superseded_by', (SELECT x.document_id FROM fl.document x
		WHERE x.supersedes = d.document_id),
	    'created_at', fl.ts(d.created_at), 'created_by', d.created_by)
$$;


ALTER FUNCTION fl.document_json(d fl.document) OWNER TO fund_owner;

--
-- Name: due_rows(integer); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.due_rows(p_years integer) RETURNS TABLE(seq bigint, returnee_id text, basis text, due_since date, last_closed_at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
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


ALTER FUNCTION fl.due_rows(p_years integer) OWNER TO fund_owner;

--
-- Name: ed25519_pem(bytea); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.ed25519_pem(p_raw bytea) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	RETURN E'-----BEGIN PUBLIC KEY-----\n' ||
	    encode('\x302a300506032b6570032100'::bytea || p_raw, 'base64') ||
	    E'\n-----END PUBLIC KEY-----\n';
END
$$;


ALTER FUNCTION fl.ed25519_pem(p_raw bytea) OWNER TO fund_owner;

--
-- Name: ed25519_raw(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.ed25519_raw(p_pem text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
DECLARE
	v_b64	text := substring(p_pem FROM
		    '^-----BEGIN PUBLIC KEY-----\s*([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----\s*$');
	v_der	bytea;
BEGIN
	IF v_b64 IS NULL THEN
		RETURN NULL;
	END IF;
	BEGIN
		v_der := decode(v_b64, 'base64');
	EXCEPTION WHEN invalid_parameter_value THEN
		RETURN NULL;
	END;
	IF length(v_der) <> 44 OR
	    substring(v_der FROM 1 FOR 12) <> '\x302a300506032b6570032100'::bytea THEN
		RETURN NULL;
	END IF;
	RETURN substring(v_der FROM 13);
END
$_$;


ALTER FUNCTION fl.ed25519_raw(p_pem text) OWNER TO fund_owner;

--
-- Name: endowment_status(fl.contribution, fl.fund, bigint); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.endowment_status(c fl.contribution, f fl.fund, p_got bigint) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.endowment_status(c fl.contribution, f fl.fund, p_got bigint) OWNER TO fund_owner;

--
-- Name: entry_commit(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.entry_commit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION fl.entry_commit() OWNER TO fund_owner;

--
-- Name: journal_entry; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.journal_entry (
    entry_id bigint NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    kind fl.entry_kind NOT NULL,
    memo fl.memo DEFAULT ''::text NOT NULL,
    fund_code text,
    ref_id text,
    principal_id text,
    txid bigint DEFAULT txid_current() NOT NULL,
    value_at timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE fl.journal_entry OWNER TO fund_owner;

--
-- Name: entry_json(fl.journal_entry); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.entry_json(e fl.journal_entry) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.entry_json(e fl.journal_entry) OWNER TO fund_owner;

--
-- Name: entry_ref(bigint); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.entry_ref(p_entry bigint) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	RETURN 'je_' || p_entry;
END
$$;


ALTER FUNCTION fl.entry_ref(p_entry bigint) OWNER TO fund_owner;

--
-- Name: returnee; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.returnee (
    seq bigint NOT NULL,
    returnee_id text DEFAULT fl.new_id('re'::text) NOT NULL,
    region text NOT NULL,
    returned_from text NOT NULL,
    returned_on date NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text,
    kind text DEFAULT 'returnee'::text NOT NULL,
    full_name_sealed bytea,
    national_id_sealed bytea,
    birth_year_sealed bytea,
    gender_sealed bytea,
    contact_sealed bytea,
    notes_sealed bytea,
    national_index bytea,
    name_index bytea,
    index_kek text,
    erased_at timestamp with time zone,
    CONSTRAINT returnee_birth_year_sealed_check CHECK ((length(birth_year_sealed) >= 45)),
    CONSTRAINT returnee_contact_sealed_check CHECK ((length(contact_sealed) >= 45)),
    CONSTRAINT returnee_full_name_sealed_check CHECK ((length(full_name_sealed) >= 45)),
    CONSTRAINT returnee_gender_sealed_check CHECK ((length(gender_sealed) >= 45)),
    CONSTRAINT returnee_index_kek_check CHECK ((index_kek ~ '^[0-9a-f]{16}$'::text)),
    CONSTRAINT returnee_kind CHECK ((kind = ANY (ARRAY['returnee'::text, 'displaced'::text, 'refugee'::text, 'asylum_seeker'::text]))),
    CONSTRAINT returnee_name_index_check CHECK ((length(name_index) = 32)),
    CONSTRAINT returnee_national_id_sealed_check CHECK ((length(national_id_sealed) >= 45)),
    CONSTRAINT returnee_national_index_check CHECK ((length(national_index) = 32)),
    CONSTRAINT returnee_national_sealed CHECK (((national_id_sealed IS NULL) = (national_index IS NULL))),
    CONSTRAINT returnee_notes_sealed_check CHECK ((length(notes_sealed) >= 45)),
    CONSTRAINT returnee_returned_from_check CHECK ((returned_from ~ '^[A-Z]{2}$'::text)),
    CONSTRAINT returnee_sealed CHECK (((erased_at IS NOT NULL) OR ((full_name_sealed IS NOT NULL) AND (name_index IS NOT NULL))))
);


ALTER TABLE fl.returnee OWNER TO fund_owner;

--
-- Name: erasable(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.erasable(p_id text) RETURNS fl.returnee
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.erasable(p_id text) OWNER TO fund_owner;

--
-- Name: erase_due(integer, integer); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.erase_due(p_years integer, p_limit integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION fl.erase_due(p_years integer, p_limit integer) OWNER TO fund_owner;

--
-- Name: erase_now(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.erase_now(p_id text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
	UPDATE fl.returnee SET erased_at = now(), full_name_sealed = NULL,
	    national_id_sealed = NULL, birth_year_sealed = NULL, gender_sealed = NULL,
	    contact_sealed = NULL, notes_sealed = NULL, national_index = NULL,
	    name_index = NULL, index_kek = NULL
	 WHERE returnee_id = p_id;
	DELETE FROM fl.person_key WHERE returnee_id = p_id;
END
$$;


ALTER FUNCTION fl.erase_now(p_id text) OWNER TO fund_owner;

--
-- Name: erasure_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.erasure_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.erasure_guard() OWNER TO fund_owner;

--
-- Name: erasure; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.erasure (
    seq bigint NOT NULL,
    erasure_id text NOT NULL,
    returnee_id text NOT NULL,
    basis text NOT NULL,
    reason text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    requested_by text,
    requested_at timestamp with time zone DEFAULT now() NOT NULL,
    decided_by text,
    decided_at timestamp with time zone,
    CONSTRAINT erasure_basis_check CHECK ((basis = ANY (ARRAY['request'::text, 'retention'::text, 'consent_ended'::text]))),
    CONSTRAINT erasure_check CHECK (((status = 'pending'::text) = (decided_at IS NULL))),
    CONSTRAINT erasure_check1 CHECK (((status <> 'done'::text) OR (requested_by IS NULL) OR (decided_by IS NULL) OR (requested_by <> decided_by))),
    CONSTRAINT erasure_check2 CHECK (((basis = 'request'::text) OR ((requested_by IS NULL) AND (status = 'done'::text)))),
    CONSTRAINT erasure_reason_check CHECK (((length(reason) >= 1) AND (length(reason) <= 500))),
    CONSTRAINT erasure_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'done'::text, 'cancelled'::text])))
);


ALTER TABLE fl.erasure OWNER TO fund_owner;

--
-- Name: erasure_json(fl.erasure); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.erasure_json(e fl.erasure) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
	SELECT jsonb_build_object('erasure_id', e.erasure_id, 'returnee_id', e.returnee_id,
	    'basis', e.basis, 'reason', e.reason, 'status', e.status,
	    'requested_by', e.requested_by, 'requested_at', fl.ts(e.requested_at),
	    'decided_by', e.decided_by, 'decided_at', fl.ts(e.decided_at))
$$;


ALTER FUNCTION fl.erasure_json(e fl.erasure) OWNER TO fund_owner;

--
-- Name: erasure_pending(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.erasure_pending(p_id text) RETURNS fl.erasure
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.erasure_pending(p_id text) OWNER TO fund_owner;

--
-- Name: fee_in(jsonb, fl.fund, bigint); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fee_in(params jsonb, f fl.fund, p_fund_amount bigint) RETURNS bigint
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.fee_in(params jsonb, f fl.fund, p_fund_amount bigint) OWNER TO fund_owner;

--
-- Name: fifo_allocations(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fifo_allocations(p_fund text) RETURNS TABLE(contribution_id text, grant_id text, amount bigint)
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.fifo_allocations(p_fund text) OWNER TO fund_owner;

--
-- Name: fold_all(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fold_all() RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog'
    AS $$
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


ALTER FUNCTION fl.fold_all() OWNER TO fund_owner;

--
-- Name: fund_available(fl.fund); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fund_available(f fl.fund) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	RETURN CASE f.kind WHEN 'pass_through' THEN f.received - f.impaired + f.earnings
	    ELSE f.earnings END
	    + f.transferred_in - f.transferred_out - f.charges - f.committed - f.disbursed;
END
$$;


ALTER FUNCTION fl.fund_available(f fl.fund) OWNER TO fund_owner;

--
-- Name: fund_balance_at(text, timestamp with time zone, boolean); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fund_balance_at(p_code text, p_asof timestamp with time zone, p_recorded boolean) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
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


ALTER FUNCTION fl.fund_balance_at(p_code text, p_asof timestamp with time zone, p_recorded boolean) OWNER TO fund_owner;

--
-- Name: fund_balance_from_journal(text, timestamp with time zone, boolean); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fund_balance_from_journal(p_code text, p_asof timestamp with time zone DEFAULT NULL::timestamp with time zone, p_recorded boolean DEFAULT false) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.fund_balance_from_journal(p_code text, p_asof timestamp with time zone, p_recorded boolean) OWNER TO fund_owner;

--
-- Name: fund_balance_json(fl.fund); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fund_balance_json(f fl.fund) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.fund_balance_json(f fl.fund) OWNER TO fund_owner;

--
-- Name: fund_current(fl.fund); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fund_current(f fl.fund) RETURNS fl.fund
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.fund_current(f fl.fund) OWNER TO fund_owner;

--
-- Name: fund_delta_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fund_delta_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
	IF TG_OP <> 'INSERT' OR pg_trigger_depth() < 2 THEN
		RAISE EXCEPTION 'fund balance deltas come from journal postings only: % refused',
		    TG_OP;
	END IF;
	RETURN NULL;
END
$$;


ALTER FUNCTION fl.fund_delta_guard() OWNER TO fund_owner;

--
-- Name: fund_figures_json(fl.fund, numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric, numeric); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fund_figures_json(f fl.fund, rec numeric, earn numeric, pled numeric, comm numeric, disb numeric, tin numeric, tout numeric, chg numeric, imp numeric) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.fund_figures_json(f fl.fund, rec numeric, earn numeric, pled numeric, comm numeric, disb numeric, tin numeric, tout numeric, chg numeric, imp numeric) OWNER TO fund_owner;

--
-- Name: fund_fold(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fund_fold(p_code text) RETURNS fl.fund
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog'
    AS $$
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


ALTER FUNCTION fl.fund_fold(p_code text) OWNER TO fund_owner;

--
-- Name: fund_get(text, text, boolean); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fund_get(p_code text, p_field text, p_lock boolean DEFAULT false) RETURNS fl.fund
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.fund_get(p_code text, p_field text, p_lock boolean) OWNER TO fund_owner;

--
-- Name: fund_insert_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fund_insert_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
	IF (NEW.received, NEW.earnings, NEW.pledged, NEW.committed, NEW.disbursed,
	    NEW.transferred_in, NEW.transferred_out, NEW.charges, NEW.impaired)
	    <> (0, 0, 0, 0, 0, 0, 0, 0, 0) THEN
		RAISE EXCEPTION 'fund %: a new fund''s figures are zero', NEW.code;
	END IF;
	RETURN NEW;
END
$$;


ALTER FUNCTION fl.fund_insert_guard() OWNER TO fund_owner;

--
-- Name: fund_json(fl.fund); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fund_json(f fl.fund) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN jsonb_build_object('code', f.code, 'name', f.name, 'currency', f.currency,
	    'kind', f.kind, 'dual_approval_above',
	    fl.money_out(f.dual_approval_above, fl.minor(f.currency)),
	    'created_at', fl.ts(f.created_at));
END
$$;


ALTER FUNCTION fl.fund_json(f fl.fund) OWNER TO fund_owner;

--
-- Name: fund_total_check(text, numeric, numeric, numeric, numeric); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fund_total_check(p_fund text, p_re numeric, p_pled numeric, p_comm numeric, p_disb numeric) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.fund_total_check(p_fund text, p_re numeric, p_pled numeric, p_comm numeric, p_disb numeric) OWNER TO fund_owner;

--
-- Name: fund_totals(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fund_totals(p_fund text) RETURNS numeric[]
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.fund_totals(p_fund text) OWNER TO fund_owner;

--
-- Name: fx_convert(bigint, integer, numeric, integer); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.fx_convert(p_amount bigint, p_src_minor integer, p_rate numeric, p_dst_minor integer) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE
    AS $$
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


ALTER FUNCTION fl.fx_convert(p_amount bigint, p_src_minor integer, p_rate numeric, p_dst_minor integer) OWNER TO fund_owner;

--
-- Name: gave(text, timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.gave(p_partner text, p_from timestamp with time zone, p_to timestamp with time zone) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
	SELECT EXISTS (SELECT FROM fl.contribution c
		WHERE c.partner_id = p_partner AND c.pledged_at IS NULL
		  AND c.status = 'received' AND c.received_at >= p_from AND c.received_at < p_to)
	    OR EXISTS (SELECT FROM fl.contribution c
		JOIN fl.pledge_receipt r USING (contribution_id)
		WHERE c.partner_id = p_partner AND c.pledged_at IS NOT NULL
		  AND r.received_at >= p_from AND r.received_at < p_to)
$$;


ALTER FUNCTION fl.gave(p_partner text, p_from timestamp with time zone, p_to timestamp with time zone) OWNER TO fund_owner;

--
-- Name: grant_conflicted(text, text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.grant_conflicted(p_grant text, p_pid text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.grant_conflicted(p_grant text, p_pid text) OWNER TO fund_owner;

--
-- Name: grant_application; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.grant_application (
    seq bigint NOT NULL,
    grant_id text DEFAULT fl.new_id('gr'::text) NOT NULL,
    returnee_id text NOT NULL,
    fund_code text NOT NULL,
    region text NOT NULL,
    amount bigint NOT NULL,
    category text NOT NULL,
    purpose text NOT NULL,
    status text DEFAULT 'submitted'::text NOT NULL,
    approvals_needed integer NOT NULL,
    committed bigint DEFAULT 0 NOT NULL,
    disbursed bigint DEFAULT 0 NOT NULL,
    decided_at timestamp with time zone,
    reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text NOT NULL,
    first_paid_at timestamp with time zone,
    beneficiary_gender text DEFAULT 'unknown'::text NOT NULL,
    beneficiary_age_band text DEFAULT 'unknown'::text NOT NULL,
    CONSTRAINT grant_application_amount_check CHECK ((amount > 0)),
    CONSTRAINT grant_application_approvals_needed_check CHECK ((approvals_needed = ANY (ARRAY[1, 2]))),
    CONSTRAINT grant_application_beneficiary_age_band_check CHECK ((beneficiary_age_band = ANY (ARRAY['0-17'::text, '18-24'::text, '25-34'::text, '35-44'::text, '45-54'::text, '55-64'::text, '65+'::text, 'unknown'::text]))),
    CONSTRAINT grant_application_beneficiary_gender_check CHECK ((beneficiary_gender = ANY (ARRAY['female'::text, 'male'::text, 'other'::text, 'undisclosed'::text, 'unknown'::text]))),
    CONSTRAINT grant_application_category_check CHECK ((category = ANY (ARRAY['small_business'::text, 'agriculture'::text, 'requalification'::text, 'employment'::text, 'housing'::text, 'other'::text]))),
    CONSTRAINT grant_application_check CHECK (((committed + disbursed) <= amount)),
    CONSTRAINT grant_application_committed_check CHECK ((committed >= 0)),
    CONSTRAINT grant_application_disbursed_check CHECK ((disbursed >= 0)),
    CONSTRAINT grant_application_purpose_check CHECK (((length(purpose) >= 1) AND (length(purpose) <= 1000))),
    CONSTRAINT grant_application_status_check CHECK ((status = ANY (ARRAY['submitted'::text, 'approved'::text, 'rejected'::text, 'withdrawn'::text, 'completed'::text, 'cancelled'::text])))
);


ALTER TABLE fl.grant_application OWNER TO fund_owner;

--
-- Name: grant_decide(fl.principal, fl.grant_application, text, text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.grant_decide(p fl.principal, g fl.grant_application, p_decision text, p_comment text) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.grant_decide(p fl.principal, g fl.grant_application, p_decision text, p_comment text) OWNER TO fund_owner;

--
-- Name: grant_decision_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.grant_decision_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.grant_decision_guard() OWNER TO fund_owner;

--
-- Name: grant_decision_withdraw_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.grant_decision_withdraw_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.grant_decision_withdraw_guard() OWNER TO fund_owner;

--
-- Name: grant_get(text, boolean); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.grant_get(p_id text, p_lock boolean) RETURNS fl.grant_application
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.grant_get(p_id text, p_lock boolean) OWNER TO fund_owner;

--
-- Name: grant_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.grant_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.grant_guard() OWNER TO fund_owner;

--
-- Name: grant_json(fl.grant_application); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.grant_json(g fl.grant_application) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.grant_json(g fl.grant_application) OWNER TO fund_owner;

--
-- Name: grant_rule_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.grant_rule_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.grant_rule_guard() OWNER TO fund_owner;

--
-- Name: history(text, text, jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.history(p_kind text, p_id text, params jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
	v_lim	int := fl.limit_in(params);
	-- a grant's amount, in minor units in the row, is money on the wire
	m	int := (SELECT fl.minor(f.currency) FROM fl.grant_application g
		    JOIN fl.fund f ON f.code = g.fund_code
		   WHERE p_kind = 'grant' AND g.grant_id = p_id);
	-- a returnee's sealed values, which no key opens once erased
	v_erased boolean := coalesce((SELECT erased_at IS NOT NULL FROM fl.returnee
		   WHERE p_kind = 'returnee' AND returnee_id = p_id), false);
BEGIN
	RETURN fl.page('history', (SELECT jsonb_agg(jsonb_build_object('s', t.seq,
	    'j', jsonb_build_object('at', fl.ts(t.at), 'principal_id', t.principal_id,
		'name', (SELECT name FROM fl.principal WHERE principal_id = t.principal_id),
		'fields', to_jsonb(ARRAY(SELECT regexp_replace(f, '_sealed$', '')
		    FROM unnest(t.fields) f)),
		'old', CASE WHEN m IS NOT NULL AND t.old ? 'amount' THEN t.old ||
		    jsonb_build_object('amount', fl.money_out((t.old->>'amount')::bigint, m))
		    ELSE fl.sealed_fields_out(t.old, v_erased) END,
		'new', CASE WHEN m IS NOT NULL AND t.new ? 'amount' THEN t.new ||
		    jsonb_build_object('amount', fl.money_out((t.new->>'amount')::bigint, m))
		    ELSE fl.sealed_fields_out(t.new, v_erased) END)
		|| CASE p_kind WHEN 'grant' THEN jsonb_build_object('withdrawn_approvals',
		    coalesce((SELECT jsonb_agg(jsonb_build_object('principal_id', w.principal_id,
			'name', (SELECT name FROM fl.principal
				  WHERE principal_id = w.principal_id),
			'at', fl.ts(w.decided_at), 'comment', w.comment) ORDER BY w.decided_at)
		      FROM fl.grant_decision_withdrawn w
		     WHERE w.correction_seq = t.seq), '[]'))
		ELSE '{}' END) ORDER BY t.seq)
	  FROM (SELECT * FROM fl.correction
	         WHERE object_kind = p_kind AND object_id = p_id
	           AND seq > fl.cursor_in(params->>'cursor')
	         ORDER BY seq LIMIT v_lim + 1) t), v_lim);
END
$_$;


ALTER FUNCTION fl.history(p_kind text, p_id text, params jsonb) OWNER TO fund_owner;

--
-- Name: iban_length(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.iban_length(p_country text) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$
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


ALTER FUNCTION fl.iban_length(p_country text) OWNER TO fund_owner;

--
-- Name: identity_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.identity_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
	c	text;
BEGIN
	FOREACH c IN ARRAY TG_ARGV LOOP
		IF to_jsonb(OLD)->c IS DISTINCT FROM to_jsonb(NEW)->c THEN
			RAISE EXCEPTION '%: % never changes', TG_TABLE_NAME, c;
		END IF;
	END LOOP;
	RETURN NEW;
END
$$;


ALTER FUNCTION fl.identity_guard() OWNER TO fund_owner;

--
-- Name: index_in(jsonb, text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.index_in(p jsonb, p_name text) RETURNS bytea[]
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	RETURN (SELECT array_agg(decode(x, 'hex')) FROM jsonb_array_elements_text(p->p_name) x);
END
$$;


ALTER FUNCTION fl.index_in(p jsonb, p_name text) OWNER TO fund_owner;

--
-- Name: ledger_export_digest(timestamp with time zone, timestamp with time zone); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.ledger_export_digest(p_from timestamp with time zone, p_to timestamp with time zone, OUT rows bigint, OUT sha bytea, OUT rows_sha bytea, OUT entries bigint) RETURNS record
    LANGUAGE sql STABLE
    AS $$
	SELECT count(*) - 1,
	       sha256(convert_to(string_agg(u.line || E'\r\n', '' ORDER BY u.k, u.entry_id,
		   u.seq), 'UTF8')),
	       sha256(string_agg(sha256(convert_to(u.line || E'\r\n', 'UTF8')), ''::bytea
		   ORDER BY u.k, u.entry_id, u.seq)),
	       count(DISTINCT u.entry_id) FILTER (WHERE u.k = 1)
	  FROM (SELECT 0 AS k, 0::bigint AS entry_id, 0::smallint AS seq, h.line
		  FROM fl.ledger_export_header h
		UNION ALL
		SELECT 1, x.entry_id, x.seq, x.line FROM fl.ledger_export x
		 WHERE x.value_ts >= coalesce(p_from, '-infinity') AND x.value_ts < p_to) u
$$;


ALTER FUNCTION fl.ledger_export_digest(p_from timestamp with time zone, p_to timestamp with time zone, OUT rows bigint, OUT sha bytea, OUT rows_sha bytea, OUT entries bigint) OWNER TO fund_owner;

--
-- Name: like_prefix(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.like_prefix(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
	SELECT replace(replace(replace(p_text, '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;


ALTER FUNCTION fl.like_prefix(p_text text) OWNER TO fund_owner;

--
-- Name: limit_in(jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.limit_in(p_params jsonb) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	RETURN coalesce((p_params->>'limit')::int, 100);
END
$$;


ALTER FUNCTION fl.limit_in(p_params jsonb) OWNER TO fund_owner;

--
-- Name: method_diff(jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.method_diff(p_methods jsonb) RETURNS TABLE(name text, diff text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
	SELECT coalesce(m.name, j.key),
	       CASE WHEN m.name IS NULL THEN 'missing' WHEN j.key IS NULL THEN 'extra'
		    ELSE 'roles' END
	  FROM fl.method m
	  FULL JOIN jsonb_each_text(p_methods) j ON j.key = m.name
	 WHERE m.name IS NULL OR j.key IS NULL OR m.roles IS DISTINCT FROM j.value::text[]
	 ORDER BY coalesce(m.name, j.key) COLLATE "C"
$$;


ALTER FUNCTION fl.method_diff(p_methods jsonb) OWNER TO fund_owner;

--
-- Name: method_set(jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.method_set(p_methods jsonb) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
	v_gone	int;
	v_set	int;
BEGIN
	DELETE FROM fl.method m WHERE NOT p_methods ? m.name;
	GET DIAGNOSTICS v_gone = ROW_COUNT;
	INSERT INTO fl.method (name, roles)
	SELECT j.key, j.value::text[] FROM jsonb_each_text(p_methods) j
	ON CONFLICT (name) DO UPDATE SET roles = EXCLUDED.roles
	 WHERE fl.method.roles IS DISTINCT FROM EXCLUDED.roles;
	GET DIAGNOSTICS v_set = ROW_COUNT;
	RETURN v_gone + v_set;
END
$$;


ALTER FUNCTION fl.method_set(p_methods jsonb) OWNER TO fund_owner;

--
-- Name: milestone_decide(fl.principal, jsonb, boolean); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.milestone_decide(p fl.principal, params jsonb, p_accept boolean) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.milestone_decide(p fl.principal, params jsonb, p_accept boolean) OWNER TO fund_owner;

--
-- Name: milestone; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.milestone (
    seq bigint NOT NULL,
    milestone_id text NOT NULL,
    grant_id text NOT NULL,
    due_on date NOT NULL,
    evidence_required text NOT NULL,
    amount bigint NOT NULL,
    status text DEFAULT 'open'::text NOT NULL,
    submitted_at timestamp with time zone,
    submitted_by text,
    document_ids text[],
    note text,
    decided_at timestamp with time zone,
    decided_by text,
    reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text NOT NULL,
    CONSTRAINT milestone_amount_check CHECK ((amount > 0)),
    CONSTRAINT milestone_check CHECK (((status = 'open'::text) = (submitted_at IS NULL))),
    CONSTRAINT milestone_check1 CHECK (((status = 'accepted'::text) = ((decided_at IS NOT NULL) AND (decided_by IS NOT NULL) AND (decided_by IS DISTINCT FROM submitted_by)))),
    CONSTRAINT milestone_evidence_required_check CHECK (((length(evidence_required) >= 1) AND (length(evidence_required) <= 1000))),
    CONSTRAINT milestone_note_check CHECK ((length(note) <= 1000)),
    CONSTRAINT milestone_reason_check CHECK ((length(reason) <= 1000)),
    CONSTRAINT milestone_status_check CHECK ((status = ANY (ARRAY['open'::text, 'submitted'::text, 'accepted'::text])))
);


ALTER TABLE fl.milestone OWNER TO fund_owner;

--
-- Name: milestone_get(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.milestone_get(p_id text) RETURNS fl.milestone
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.milestone_get(p_id text) OWNER TO fund_owner;

--
-- Name: milestone_json(fl.milestone); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.milestone_json(m fl.milestone) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.milestone_json(m fl.milestone) OWNER TO fund_owner;

--
-- Name: minor(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.minor(p_currency text) RETURNS integer
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN (SELECT minor_unit FROM fl.currency WHERE code = p_currency);
END
$$;


ALTER FUNCTION fl.minor(p_currency text) OWNER TO fund_owner;

--
-- Name: money_in(text, integer, text, boolean); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.money_in(p_text text, p_minor integer, p_field text, p_allow_zero boolean DEFAULT false) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
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
$_$;


ALTER FUNCTION fl.money_in(p_text text, p_minor integer, p_field text, p_allow_zero boolean) OWNER TO fund_owner;

--
-- Name: money_out(bigint, integer); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.money_out(p_amount bigint, p_minor integer) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
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


ALTER FUNCTION fl.money_out(p_amount bigint, p_minor integer) OWNER TO fund_owner;

--
-- Name: name_key(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.name_key(p_name text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
	SELECT btrim(regexp_replace(regexp_replace(
	    lower(normalize(p_name, NFKD) COLLATE "und-x-icu"), E'[\u0300-\u036f]', '', 'g'),
	    E'\\s+', ' ', 'g'))
$$;


ALTER FUNCTION fl.name_key(p_name text) OWNER TO fund_owner;

--
-- Name: name_key_set(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.name_key_set() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
	NEW.name_key := fl.name_key(to_jsonb(NEW)->>TG_ARGV[0]);
	RETURN NEW;
END
$$;


ALTER FUNCTION fl.name_key_set() OWNER TO fund_owner;

--
-- Name: national_unique(bytea[], text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.national_unique(p_idx bytea[], p_not text) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.national_unique(p_idx bytea[], p_not text) OWNER TO fund_owner;

--
-- Name: ops_state(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.ops_state(OUT head_seq bigint, OUT chain_lag bigint, OUT checkpoint_seq bigint, OUT checkpoint_at double precision) RETURNS record
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
	SELECT s.head_seq INTO head_seq FROM fl.audit_state s;
	SELECT greatest(CASE WHEN q.is_called THEN q.last_value ELSE 0 END - head_seq, 0)
	  INTO chain_lag FROM fl.audit_seq q;
	SELECT k.seq, extract(epoch FROM k.signed_at) INTO checkpoint_seq, checkpoint_at
	  FROM fl.audit_checkpoint k ORDER BY k.seq DESC LIMIT 1;
END
$$;


ALTER FUNCTION fl.ops_state(OUT head_seq bigint, OUT chain_lag bigint, OUT checkpoint_seq bigint, OUT checkpoint_at double precision) OWNER TO fund_owner;

--
-- Name: page(text, jsonb, integer); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.page(p_key text, p_rows jsonb, p_lim integer) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
	v_n	int := coalesce(jsonb_array_length(p_rows), 0);
BEGIN
	RETURN jsonb_build_object(p_key, coalesce((SELECT jsonb_agg(e.x->'j' ORDER BY e.i)
	    FROM jsonb_array_elements(p_rows) WITH ORDINALITY AS e(x, i) WHERE e.i <= p_lim),
	    '[]'),
	    'next_cursor', CASE WHEN v_n > p_lim THEN 'c' || (p_rows->(p_lim - 1)->>'s') END);
END
$$;


ALTER FUNCTION fl.page(p_key text, p_rows jsonb, p_lim integer) OWNER TO fund_owner;

--
-- Name: params_sha256(text, jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.params_sha256(p_method text, p_params jsonb) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	RETURN sha256(convert_to(p_method || ' ' || p_params::text, 'UTF8'));
END
$$;


ALTER FUNCTION fl.params_sha256(p_method text, p_params jsonb) OWNER TO fund_owner;

--
-- Name: partner_check(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.partner_check(p_partner text) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM fl.partner WHERE partner_id = p_partner) THEN
		PERFORM fl.rpc_error(-32004, 'partner_not_found', 'partner_id');
	END IF;
END
$$;


ALTER FUNCTION fl.partner_check(p_partner text) OWNER TO fund_owner;

--
-- Name: partner; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.partner (
    seq bigint NOT NULL,
    partner_id text DEFAULT fl.new_id('pa'::text) NOT NULL,
    name text NOT NULL,
    country text NOT NULL,
    kind text NOT NULL,
    email text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text,
    name_key text,
    CONSTRAINT partner_country_check CHECK ((country ~ '^[A-Z]{2}$'::text)),
    CONSTRAINT partner_email_check CHECK (((email ~ '^[^@[:space:]]+@[^@[:space:]]+$'::text) AND (length(email) <= 254))),
    CONSTRAINT partner_kind_check CHECK ((kind = ANY (ARRAY['individual'::text, 'organisation'::text]))),
    CONSTRAINT partner_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200)))
);


ALTER TABLE fl.partner OWNER TO fund_owner;

--
-- Name: partner_json(fl.partner); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.partner_json(p fl.partner) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN jsonb_build_object('partner_id', p.partner_id, 'name', p.name,
	    'country', p.country, 'kind', p.kind, 'email', p.email,
	    'created_at', fl.ts(p.created_at));
END
$$;


ALTER FUNCTION fl.partner_json(p fl.partner) OWNER TO fund_owner;

--
-- Name: period_balances(timestamp with time zone); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.period_balances(p_to timestamp with time zone) RETURNS text
    LANGUAGE sql STABLE
    AS $$
	WITH s AS (
		SELECT a.account_id, a.name, a.fund_code, a.short, a.currency, c.minor_unit,
		       coalesce((SELECT sum(p.amount) FROM fl.posting p
			   JOIN fl.journal_entry e USING (entry_id)
			  WHERE p.account_id = a.account_id AND e.value_at < p_to), 0) AS bal
		  FROM fl.account a JOIN fl.currency c ON c.code = a.currency)
	SELECT coalesce((SELECT string_agg('account ' || s.name || ' ' || s.currency || ' ' ||
		   fl.total_out(s.bal, s.minor_unit) || E'\n', '' ORDER BY s.name) FROM s), '') ||
	       coalesce((SELECT string_agg('fund ' || f.code || ' ' || f.currency ||
		   ' received=' || fl.total_out(-t.rec, m.minor_unit) ||
		   ' earnings=' || fl.total_out(-t.earn, m.minor_unit) ||
		   ' pledged=' || fl.total_out(t.pled, m.minor_unit) ||
		   ' committed=' || fl.total_out(-t.com, m.minor_unit) ||
		   ' disbursed=' || fl.total_out(t.dis, m.minor_unit) ||
		   ' transferred_in=' || fl.total_out(-t.tin, m.minor_unit) ||
		   ' transferred_out=' || fl.total_out(t.tout, m.minor_unit) ||
		   ' charges=' || fl.total_out(t.chg, m.minor_unit) ||
		   ' capital_impaired=' || fl.total_out(t.imp, m.minor_unit) || E'\n', ''
		   ORDER BY f.code)
		  FROM fl.fund f JOIN fl.currency m ON m.code = f.currency
		 CROSS JOIN LATERAL (SELECT
			coalesce(sum(s.bal) FILTER (WHERE s.short = 'contributions'), 0) AS rec,
			coalesce(sum(s.bal) FILTER (WHERE s.short = 'earnings'), 0) AS earn,
			coalesce(sum(s.bal) FILTER (WHERE s.short = 'pledges_receivable'), 0)
			    AS pled,
			coalesce(sum(s.bal) FILTER (WHERE s.short = 'commitments'), 0) AS com,
			coalesce(sum(s.bal) FILTER (WHERE s.short = 'grants_disbursed'), 0)
			    AS dis,
			coalesce(sum(s.bal) FILTER (WHERE s.short = 'transfers_in'), 0) AS tin,
			coalesce(sum(s.bal) FILTER (WHERE s.short = 'transfers_out'), 0) AS tout,
			coalesce(sum(s.bal) FILTER (WHERE s.short IN ('bank_charges',
			    'investment_losses')), 0) AS chg,
			coalesce(sum(s.bal) FILTER (WHERE s.short = 'capital_impaired'), 0) AS imp
		      FROM s WHERE s.fund_code = f.code) t), '')
$$;


ALTER FUNCTION fl.period_balances(p_to timestamp with time zone) OWNER TO fund_owner;

--
-- Name: period_close_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.period_close_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
	IF TG_OP <> 'UPDATE' OR OLD.status <> 'pending' OR NEW.status = 'pending' OR
	    NEW.period_id <> OLD.period_id OR NEW.until <> OLD.until OR
	    NEW.requested_by <> OLD.requested_by OR NEW.requested_at <> OLD.requested_at THEN
		RAISE EXCEPTION 'period close %: % refused (status %)', OLD.period_id, TG_OP,
		    OLD.status;
	END IF;
	RETURN NEW;
END
$$;


ALTER FUNCTION fl.period_close_guard() OWNER TO fund_owner;

--
-- Name: period_end(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.period_end(p_period text) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    AS $_$
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
$_$;


ALTER FUNCTION fl.period_end(p_period text) OWNER TO fund_owner;

--
-- Name: period_close; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.period_close (
    period_id text NOT NULL,
    until date NOT NULL,
    status text NOT NULL,
    requested_by text NOT NULL,
    requested_at timestamp with time zone DEFAULT now() NOT NULL,
    decided_by text,
    decided_at timestamp with time zone,
    record text,
    record_sha256 bytea,
    record_seq bigint,
    CONSTRAINT period_close_check CHECK (((status = 'pending'::text) = (decided_at IS NULL))),
    CONSTRAINT period_close_check1 CHECK (((status = 'confirmed'::text) = ((record IS NOT NULL) AND (record_sha256 IS NOT NULL) AND (record_seq IS NOT NULL)))),
    CONSTRAINT period_close_period_id_check CHECK ((period_id ~ '^pc_[0-9a-f]{20}$'::text)),
    CONSTRAINT period_close_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'confirmed'::text, 'dropped'::text])))
);


ALTER TABLE fl.period_close OWNER TO fund_owner;

--
-- Name: period_get(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.period_get(p_id text) RETURNS fl.period_close
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	c	fl.period_close;
BEGIN
	SELECT * INTO c FROM fl.period_close WHERE period_id = p_id;
	IF NOT FOUND THEN
		PERFORM fl.rpc_error(-32004, 'period_not_found', 'period_id');
	END IF;
	RETURN c;
END
$$;


ALTER FUNCTION fl.period_get(p_id text) OWNER TO fund_owner;

--
-- Name: period_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.period_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
	v_open	timestamptz;
	v_kind	text;
BEGIN
	PERFORM pg_advisory_xact_lock_shared(7346519, fl.period_lock_key());
	v_open := fl.period_open_from();
	IF v_open IS NULL THEN
		RETURN NULL;
	END IF;
	SELECT n.kind INTO v_kind FROM new_entries n WHERE n.value_at < v_open LIMIT 1;
	IF FOUND THEN
		PERFORM fl.rpc_error(-32009, 'period_closed', CASE v_kind
		    WHEN 'receipt' THEN 'received_at' WHEN 'disbursement' THEN 'paid_at'
		    WHEN 'earnings' THEN 'value_date' WHEN 'fee' THEN 'value_date'
		    WHEN 'loss' THEN 'value_date' WHEN 'pledge' THEN 'pledged_at'
		    WHEN 'refund' THEN 'refunded_at' WHEN 'receipt_reversal' THEN 'value_date' END,
		    'the value date falls in a closed period: corrections go into the open one',
		    jsonb_build_object('closed_until', to_char(v_open - interval '1 day',
		    'YYYY-MM-DD')));
	END IF;
	RETURN NULL;
END
$$;


ALTER FUNCTION fl.period_guard() OWNER TO fund_owner;

--
-- Name: period_json(fl.period_close); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.period_json(c fl.period_close) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	v_prev	date;
BEGIN
	SELECT max(until) INTO v_prev FROM fl.period_close
	 WHERE status = 'confirmed' AND until < c.until;
	RETURN jsonb_build_object('period_id', c.period_id, 'until', to_char(c.until,
	    'YYYY-MM-DD'), 'status', c.status, 'requested_by', c.requested_by,
	    'requested_at', fl.ts(c.requested_at), 'decided_by', c.decided_by,
	    'decided_at', fl.ts(c.decided_at),
	    'export_from', to_char(v_prev + 1, 'YYYY-MM-DD'),
	    'export_to', to_char(c.until + 1, 'YYYY-MM-DD'),
	    'record', c.record, 'record_sha256', encode(c.record_sha256, 'hex'),
	    'record_seq', c.record_seq);
END
$$;


ALTER FUNCTION fl.period_json(c fl.period_close) OWNER TO fund_owner;

--
-- Name: period_lock_key(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.period_lock_key() RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$
	SELECT 2
$$;


ALTER FUNCTION fl.period_lock_key() OWNER TO fund_owner;

--
-- Name: period_open_from(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.period_open_from() RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN (SELECT (max(until) + 1)::timestamp AT TIME ZONE 'UTC' FROM fl.period_close
		 WHERE status = 'confirmed');
END
$$;


ALTER FUNCTION fl.period_open_from() OWNER TO fund_owner;

--
-- Name: person_answer(jsonb, jsonb, fl.principal, text, jsonb, boolean, boolean); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.person_answer(p_answer jsonb, p_ctx jsonb, p fl.principal, p_method text, p_params jsonb, p_read boolean, p_seen boolean) RETURNS jsonb
    LANGUAGE plpgsql
    AS $_$
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
$_$;


ALTER FUNCTION fl.person_answer(p_answer jsonb, p_ctx jsonb, p fl.principal, p_method text, p_params jsonb, p_read boolean, p_seen boolean) OWNER TO fund_owner;

--
-- Name: person_key_add(text, jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.person_key_add(p_id text, v jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
	INSERT INTO fl.person_key (key_id, returnee_id, kek_id, wrapped)
	VALUES (decode(v->>'key_id', 'hex'), p_id, v->>'kek', decode(v->>'wrapped', 'hex'));
END
$$;


ALTER FUNCTION fl.person_key_add(p_id text, v jsonb) OWNER TO fund_owner;

--
-- Name: person_key_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.person_key_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.person_key_guard() OWNER TO fund_owner;

--
-- Name: person_keys(text[]); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.person_keys(p_ids text[], OUT keys jsonb, OUT ids text[]) RETURNS record
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
BEGIN
	SELECT coalesce(jsonb_object_agg(encode(k.key_id, 'hex'),
		k.kek_id || ':' || encode(k.wrapped, 'hex')), '{}'),
	    array_agg(DISTINCT k.returnee_id)
	  INTO keys, ids
	  FROM fl.person_key k
	 WHERE k.returnee_id = ANY (p_ids);
END
$$;


ALTER FUNCTION fl.person_keys(p_ids text[], OUT keys jsonb, OUT ids text[]) OWNER TO fund_owner;

--
-- Name: person_seen(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.person_seen(p_id text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
	PERFORM set_config('fl.persons', coalesce(current_setting('fl.persons', true), '') ||
	    p_id || ' ', true);
END
$$;


ALTER FUNCTION fl.person_seen(p_id text) OWNER TO fund_owner;

--
-- Name: pledge_receipt_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.pledge_receipt_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.pledge_receipt_guard() OWNER TO fund_owner;

--
-- Name: pledge_receipts(fl.contribution, integer, integer); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.pledge_receipts(c fl.contribution, p_cmin integer, p_fmin integer, OUT receipts jsonb, OUT received bigint, OUT fund_amount bigint, OUT fee bigint) RETURNS record
    LANGUAGE sql STABLE
    AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('receipt_id', r.receipt_id,
	    'amount', fl.money_out(r.amount, p_cmin), 'fx_rate', r.fx_rate::text,
	    'fund_amount', fl.money_out(r.fund_amount, p_fmin),
	    'fee', fl.money_out(r.fee, p_fmin), 'received_at', fl.ts(r.received_at),
	    'bank_ref', r.bank_ref) ORDER BY r.seq), '[]'),
	    coalesce(sum(r.amount), 0)::bigint, coalesce(sum(r.fund_amount), 0)::bigint,
	    coalesce(sum(r.fee), 0)::bigint
	  FROM fl.pledge_receipt r WHERE r.contribution_id = c.contribution_id
$$;


ALTER FUNCTION fl.pledge_receipts(c fl.contribution, p_cmin integer, p_fmin integer, OUT receipts jsonb, OUT received bigint, OUT fund_amount bigint, OUT fee bigint) OWNER TO fund_owner;

--
-- Name: pledge_receive(fl.principal, jsonb, fl.contribution); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.pledge_receive(p fl.principal, params jsonb, c fl.contribution) RETURNS fl.contribution
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.pledge_receive(p fl.principal, params jsonb, c fl.contribution) OWNER TO fund_owner;

--
-- Name: post(fl.fund, text, text, text, text, text[], bigint[], timestamp with time zone); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.post(p_fund fl.fund, p_kind text, p_memo text, p_ref text, p_principal text, p_accounts text[], p_amounts bigint[], p_value_at timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.post(p_fund fl.fund, p_kind text, p_memo text, p_ref text, p_principal text, p_accounts text[], p_amounts bigint[], p_value_at timestamp with time zone) OWNER TO fund_owner;

--
-- Name: post_many(text, text, text[], text[], text[], text, text, bigint[], timestamp with time zone[]); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.post_many(p_kind text, p_memo text, p_funds text[], p_refs text[], p_pids text[], p_debit text, p_credit text, p_amounts bigint[], p_values timestamp with time zone[] DEFAULT NULL::timestamp with time zone[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.post_many(p_kind text, p_memo text, p_funds text[], p_refs text[], p_pids text[], p_debit text, p_credit text, p_amounts bigint[], p_values timestamp with time zone[]) OWNER TO fund_owner;

--
-- Name: post_receipt(fl.fund, text, text, text, bigint, bigint, bigint, timestamp with time zone); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.post_receipt(f fl.fund, p_memo text, p_ref text, p_pid text, p_gross bigint, p_fee bigint, p_cleared bigint, p_value_at timestamp with time zone) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.post_receipt(f fl.fund, p_memo text, p_ref text, p_pid text, p_gross bigint, p_fee bigint, p_cleared bigint, p_value_at timestamp with time zone) OWNER TO fund_owner;

--
-- Name: posting_fund_delta(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.posting_fund_delta() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.posting_fund_delta() OWNER TO fund_owner;

--
-- Name: posting_guard_rows(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.posting_guard_rows() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.posting_guard_rows() OWNER TO fund_owner;

--
-- Name: pow10(integer); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.pow10(p_n integer) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	RETURN (ARRAY[1, 10, 100, 1000, 10000]::bigint[])[p_n + 1];
END
$$;


ALTER FUNCTION fl.pow10(p_n integer) OWNER TO fund_owner;

--
-- Name: principal_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.principal_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'principals are never deleted';
	END IF;
	IF TG_OP = 'INSERT' THEN
		IF NEW.created_by IS NOT NULL AND NEW.roles && ARRAY['admin', 'approver']
		    AND (NEW.confirmed_at IS NOT NULL OR NEW.confirmed_by IS NOT NULL) THEN
			RAISE EXCEPTION 'an admin or approver created by an admin starts pending';
		END IF;
		RETURN NEW;
	END IF;
	IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
		RAISE EXCEPTION 'a revoked principal stays revoked';
	END IF;
	IF (NEW.principal_id, NEW.name, NEW.roles, NEW.partner_id, NEW.created_at,
	    NEW.created_by, NEW.seq) IS DISTINCT FROM
	   (OLD.principal_id, OLD.name, OLD.roles, OLD.partner_id, OLD.created_at,
	    OLD.created_by, OLD.seq) THEN
		RAISE EXCEPTION 'only revoked_at of a principal may change, its confirmation and '
		    'its token';
	END IF;
	-- a confirmed principal's token is rotated to another (principal.rotate_token), with
	-- its expiry, until it is revoked
	IF OLD.confirmed_at IS NOT NULL AND
	   (NEW.cert_sha256, NEW.confirmed_at, NEW.confirmed_by) IS NOT DISTINCT FROM
	   (OLD.cert_sha256, OLD.confirmed_at, OLD.confirmed_by) AND
	   (NEW.token_hash, NEW.token_expires_at) IS DISTINCT FROM
	   (OLD.token_hash, OLD.token_expires_at) THEN
		IF NEW.token_hash IS NULL OR NEW.token_hash = OLD.token_hash OR
		    OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NOT NULL THEN
			RAISE EXCEPTION 'a token is rotated to a new one, while not revoked';
		END IF;
		RETURN NEW;
	END IF;
	IF (NEW.token_hash, NEW.cert_sha256, NEW.confirmed_at, NEW.confirmed_by) IS DISTINCT FROM
	   (OLD.token_hash, OLD.cert_sha256, OLD.confirmed_at, OLD.confirmed_by) THEN
		IF OLD.confirmed_at IS NOT NULL OR OLD.revoked_at IS NOT NULL
		    OR NEW.revoked_at IS NOT NULL OR NEW.confirmed_at IS NULL THEN
			RAISE EXCEPTION 'a principal is confirmed once, while pending';
		END IF;
		IF NEW.confirmed_by IS NULL OR NEW.confirmed_by = NEW.created_by
		    OR NOT EXISTS (SELECT 1 FROM fl.principal c
			WHERE c.principal_id = NEW.confirmed_by AND 'admin' = ANY (c.roles)
			  AND c.confirmed_at IS NOT NULL AND c.revoked_at IS NULL) THEN
			RAISE EXCEPTION 'only an active admin other than its creator confirms a principal';
		END IF;
	END IF;
	RETURN NEW;
END
$$;


ALTER FUNCTION fl.principal_guard() OWNER TO fund_owner;

--
-- Name: principal_json(fl.principal); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.principal_json(p fl.principal) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	RETURN jsonb_build_object('principal_id', p.principal_id, 'name', p.name,
	    'roles', to_jsonb(p.roles), 'partner_id', p.partner_id)
	    -- (only a token that expires adds its expiry: the v1 shape stays as it was)
	    || CASE WHEN p.token_expires_at IS NOT NULL THEN jsonb_build_object(
		'token_expires_at', fl.ts(p.token_expires_at)) ELSE '{}' END;
END
$$;


ALTER FUNCTION fl.principal_json(p fl.principal) OWNER TO fund_owner;

--
-- Name: principal_notify(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.principal_notify() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
	PERFORM pg_notify('fl_principal', TG_OP);
	RETURN NULL;
END
$$;


ALTER FUNCTION fl.principal_notify() OWNER TO fund_owner;

--
-- Name: principal_seen(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.principal_seen(p_id text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM fl.principal_seen
	    WHERE principal_id = p_id AND last_used_at > now() - interval '1 minute')
	   OR current_setting('transaction_read_only') = 'on' THEN
		RETURN;
	END IF;
	UPDATE fl.principal_seen SET last_used_at = now()
	 WHERE principal_id = (SELECT s.principal_id FROM fl.principal_seen s
		WHERE s.principal_id = p_id AND s.last_used_at < now()
		FOR UPDATE SKIP LOCKED);
	IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM fl.principal_seen WHERE principal_id = p_id)
	THEN
		INSERT INTO fl.principal_seen (principal_id, last_used_at) VALUES (p_id, now())
		ON CONFLICT (principal_id) DO NOTHING;
	END IF;
END
$$;


ALTER FUNCTION fl.principal_seen(p_id text) OWNER TO fund_owner;

--
-- Name: principal_state(fl.principal); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.principal_state(v fl.principal) RETURNS text
    LANGUAGE sql STABLE
    AS $$
	SELECT CASE WHEN v.revoked_at IS NOT NULL THEN 'revoked'
	    WHEN v.confirmed_at IS NULL THEN 'pending'
	    WHEN v.token_expires_at <= now() AND v.cert_sha256 IS NULL THEN 'expired'
	    ELSE 'active' END
$$;


ALTER FUNCTION fl.principal_state(v fl.principal) OWNER TO fund_owner;

--
-- Name: purge_idempotency(integer); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.purge_idempotency(p_limit integer) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog'
    AS $$
DECLARE
	v_n	bigint;
BEGIN
	DELETE FROM fl.idempotency i
	 USING (SELECT principal_id, key FROM fl.idempotency
		 WHERE created_at < now() - interval '30 days'
		 ORDER BY created_at LIMIT p_limit) o
	 WHERE i.principal_id = o.principal_id AND i.key = o.key;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	RETURN v_n;
END
$$;


ALTER FUNCTION fl.purge_idempotency(p_limit integer) OWNER TO fund_owner;

--
-- Name: purpose_of(fl.principal, text, jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.purpose_of(p fl.principal, p_method text, params jsonb) RETURNS text
    LANGUAGE sql STABLE
    AS $$
	SELECT coalesce(CASE WHEN p_method NOT IN ('grant.apply', 'grant.update')
		THEN params->>'purpose' END,
	    CASE WHEN p_method = 'returnee.export' THEN 'data_subject_request'
		WHEN p.roles && ARRAY['admin', 'approver'] THEN 'case_management'
		ELSE 'audit' END)
$$;


ALTER FUNCTION fl.purpose_of(p fl.principal, p_method text, params jsonb) OWNER TO fund_owner;

--
-- Name: rebuild_dispatch(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.rebuild_dispatch() RETURNS integer
    LANGUAGE plpgsql
    AS $_$
DECLARE
	v_reads	text[];
	v_muts	text[];
	v_else	text := $e$PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');$e$;
BEGIN
	SELECT coalesce(array_agg(m ORDER BY m COLLATE "C") FILTER (WHERE NOT mutates), '{}'),
	       coalesce(array_agg(m ORDER BY m COLLATE "C") FILTER (WHERE mutates), '{}')
	  INTO v_reads, v_muts
	  FROM (SELECT regexp_replace(p.proname, '_', '.') AS m, p.provolatile = 'v' AS mutates
		  FROM pg_proc p
		  JOIN pg_namespace n ON n.oid = p.pronamespace
		 WHERE n.nspname = 'api'
		   AND p.proname ~ '^[a-z]+_[a-z_]+$'
		   AND p.prorettype = 'jsonb'::regtype
		   AND array_to_string(p.proargtypes::regtype[], ',') = 'fl.principal,jsonb,jsonb')
	       AS f;
	EXECUTE format($f$
-- The RPC entry point (generated by fl.rebuild_dispatch(): do not edit): authenticates the
-- token hash (or certificate hash), checks the caller's roles against those fl.method
-- requires for the method, locks the idempotency key, runs the
-- method and records its audit event, in one statement: one round trip per call, and one
-- transaction per call or per batch of mutations (docs/batching.md). Returns {"result":
-- ..., "replayed": bool} or {"error": {code, message, data}}. A refusal writes its audit
-- event only; another error of a mutation (SQLSTATE FLERR) rolls the call's own writes
-- back and is answered, not raised, so that it does not abort a batch. Reads raise their
-- errors. Anything else raised (a bug, a deadlock) aborts the transaction. An entry point
-- of the daemon's role, which has no privilege on the tables (functions/95_privileges.sql).
CREATE OR REPLACE FUNCTION api.call(p_token bytea, p_cert bytea, p_method text,
    p_params jsonb, p_idem text, p_ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $c$
DECLARE
	v_p	fl.principal;
	v_roles	text[];
	v_hash	bytea;
	v_row	fl.idempotency;
	v_res	jsonb;
	v_err	jsonb;
	v_scoped boolean;
	v_mut	boolean := p_method = ANY (%L::text[]);
BEGIN
	IF p_token IS NOT NULL THEN
		SELECT * INTO v_p FROM fl.principal
		 WHERE token_hash = p_token AND revoked_at IS NULL
		   AND (token_expires_at IS NULL OR token_expires_at > now());
	ELSIF p_cert IS NOT NULL THEN
		SELECT * INTO v_p FROM fl.principal
		 WHERE cert_sha256 = p_cert AND revoked_at IS NULL;
	END IF;
	IF v_p.principal_id IS NULL THEN
		RETURN fl.refusal(NULL, p_method, p_params, -32001,
		    fl.refusal_reason(p_token, p_cert));
	END IF;
	PERFORM fl.principal_seen(v_p.principal_id);
	-- the roles the method requires: fundd's method table, which the runner writes
	SELECT m.roles INTO v_roles FROM fl.method m WHERE m.name = p_method;
	IF v_roles IS NULL THEN
		PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
	END IF;
	IF cardinality(v_roles) > 0 AND NOT (v_p.roles && v_roles) THEN
		RETURN fl.refusal(v_p.principal_id, p_method, p_params, -32003, 'role_required',
		    jsonb_build_object('roles', to_jsonb(v_roles)));
	END IF;
	-- Partner scoping, in this one place (docs/ledger.md): when only the partner role
	-- grants the method, a partner sees its own partner record and contributions only,
	-- and anything else answers exactly as if it did not exist.
	v_scoped := 'partner' = ANY (v_p.roles) AND cardinality(v_roles) > 0
	    AND NOT (v_p.roles && array_remove(v_roles, 'partner'));
	IF v_scoped THEN
		IF p_params ? 'partner_id' AND
		    p_params->>'partner_id' IS DISTINCT FROM v_p.partner_id THEN
			PERFORM fl.rpc_error(-32004, 'partner_not_found', 'partner_id');
		END IF;
		IF p_method LIKE '%%.list' THEN
			p_params := p_params || jsonb_build_object('partner_id', v_p.partner_id);
		END IF;
	END IF;
	IF NOT v_mut THEN
%s
		IF v_scoped AND jsonb_typeof(v_res) = 'object' AND v_res ? 'partner_id' AND
		    v_res->>'partner_id' IS DISTINCT FROM v_p.partner_id THEN
			-- the same answer as a missing object of this method
			PERFORM fl.rpc_error(-32004, split_part(p_method, '.', 1) || '_not_found',
			    split_part(p_method, '.', 1) || '_id');
		END IF;
		RETURN fl.person_answer(jsonb_build_object('result', v_res, 'replayed', false),
		    p_ctx, v_p, p_method, p_params, true, true);
	END IF;
	v_hash := sha256(convert_to(p_method || ' ' || p_params::text, 'UTF8'));
	BEGIN
		IF p_idem IS NOT NULL THEN
			-- the key's lock: a concurrent call with the same key waits here until
			-- this transaction ends, then finds the key's row
			PERFORM pg_advisory_xact_lock(hashtextextended(v_p.principal_id || ' ' ||
			    p_idem, 0));
			SELECT * INTO v_row FROM fl.idempotency
			 WHERE principal_id = v_p.principal_id AND key = p_idem;
			IF FOUND THEN
				-- an earlier call has the key: committed (a concurrent one made us
				-- wait), or earlier in this batch
				IF v_row.method <> p_method OR v_row.params_sha256 <> v_hash THEN
					RETURN jsonb_build_object('error', jsonb_build_object(
					    'code', -32009,
					    'message', 'idempotency key reused with other params',
					    'data', jsonb_build_object('reason',
					    'idempotency_mismatch', 'field', 'idempotency_key')));
				END IF;
				RETURN fl.person_answer(jsonb_build_object('result',
				    v_row.result, 'replayed', true), p_ctx, v_p, p_method,
				    p_params, false, false);
			END IF;
		END IF;
%s		-- this call's checks deferred to commit (each journal entry balances) run
		-- now, so that each call of a batch is checked where it ends, as at its own
		-- commit. ALL DEFERRED restores the initial mode, since every
		-- deferrable constraint here is INITIALLY DEFERRED (test_batching.py).
		SET CONSTRAINTS ALL IMMEDIATE;
		SET CONSTRAINTS ALL DEFERRED;
	EXCEPTION WHEN SQLSTATE 'FLERR' THEN
		-- the method's writes are rolled back with the block, and its key's lock
		-- released; the error is the answer, so that other calls of a batch keep theirs
		v_err := SQLERRM::jsonb;
		IF coalesce((v_err->>'code')::int, 0) NOT IN (-32003, -32011) THEN
			RETURN jsonb_build_object('error', v_err);
		END IF;
		PERFORM fl.audit_record(v_p.principal_id, p_method,
		    fl.audit_object(p_method, p_params, NULL), (v_err->>'code')::int,
		    v_err->'data'->>'reason', v_hash);
		RETURN jsonb_build_object('error', v_err);
	END;
	IF p_idem IS NOT NULL THEN
		INSERT INTO fl.idempotency (principal_id, key, method, params_sha256, result)
		VALUES (v_p.principal_id, p_idem, p_method, v_hash, v_res - 'token');
	END IF;
	-- the event, as fl.audit_record() writes it, inline on the hot path: the transaction
	-- id before the seq; ids of results are generated, those of params checked in C
	PERFORM pg_current_xact_id();
	INSERT INTO fl.audit_event (principal_id, method, object_id, outcome, params_sha256)
	VALUES (v_p.principal_id, p_method,
	    coalesce(v_res->>(split_part(p_method, '.', 1) || '_id'),
	        p_params->>(split_part(p_method, '.', 1) || '_id'),
	        CASE WHEN p_method LIKE 'fund.%%' THEN
	            coalesce(v_res->>'transfer_id', p_params->>'transfer_id',
	                v_res->>'code', p_params->>'code') END),
	    'ok', v_hash);
	RETURN fl.person_answer(jsonb_build_object('result', v_res, 'replayed', false), p_ctx,
	    v_p, p_method, p_params, false, true);
END
$c$
$f$, v_muts, fl.dispatch_tree(v_reads, 1, cardinality(v_reads), E'\t\t', v_else),
	    fl.dispatch_tree(v_muts, 1, cardinality(v_muts), E'\t\t', v_else));
	RETURN cardinality(v_reads) + cardinality(v_muts);
END
$_$;


ALTER FUNCTION fl.rebuild_dispatch() OWNER TO fund_owner;

--
-- Name: receive_bulk(bytea[], bytea[], text[], jsonb[], text[]); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.receive_bulk(p_token bytea[], p_cert bytea[], p_roles text[], p_params jsonb[], p_idem text[]) RETURNS jsonb[]
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.receive_bulk(p_token bytea[], p_cert bytea[], p_roles text[], p_params jsonb[], p_idem text[]) OWNER TO fund_owner;

--
-- Name: received_at_in(jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.received_at_in(params jsonb) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	v	timestamptz := coalesce(fl.time_in(params->>'received_at'), now());
BEGIN
	IF v > now() + interval '5 minutes' THEN
		PERFORM fl.rpc_error(-32602, 'in_the_future', 'received_at');
	END IF;
	RETURN v;
END
$$;


ALTER FUNCTION fl.received_at_in(params jsonb) OWNER TO fund_owner;

--
-- Name: refund_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.refund_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.refund_guard() OWNER TO fund_owner;

--
-- Name: refunded(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.refunded(p_id text) RETURNS bigint
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	RETURN (SELECT coalesce(sum(r.amount), 0) FROM fl.refund r WHERE r.disbursement_id = p_id);
END
$$;


ALTER FUNCTION fl.refunded(p_id text) OWNER TO fund_owner;

--
-- Name: refusal(text, text, jsonb, integer, text, jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.refusal(p_principal text, p_method text, p_params jsonb, p_code integer, p_reason text, p_extra jsonb DEFAULT '{}'::jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
	v_err	jsonb := jsonb_build_object('code', p_code,
		    'message', CASE p_code WHEN -32001 THEN 'unauthenticated' ELSE 'forbidden' END,
		    'data', jsonb_build_object('reason', p_reason) || p_extra);
BEGIN
	PERFORM fl.audit_refused(p_principal, p_method, p_params, v_err);
	RETURN jsonb_build_object('error', v_err);
END
$$;


ALTER FUNCTION fl.refusal(p_principal text, p_method text, p_params jsonb, p_code integer, p_reason text, p_extra jsonb) OWNER TO fund_owner;

--
-- Name: refusal_reason(bytea, bytea); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.refusal_reason(p_token bytea, p_cert bytea) RETURNS text
    LANGUAGE sql STABLE
    AS $$
	SELECT CASE WHEN p_token IS NULL AND p_cert IS NULL THEN 'no_credentials'
	    WHEN p_token IS NOT NULL AND EXISTS (SELECT 1 FROM fl.principal
		WHERE token_hash = p_token AND revoked_at IS NULL
		  AND token_expires_at <= now()) THEN 'token_expired'
	    ELSE 'bad_credentials' END
$$;


ALTER FUNCTION fl.refusal_reason(p_token bytea, p_cert bytea) OWNER TO fund_owner;

--
-- Name: region; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.region (
    region_code text NOT NULL,
    region text NOT NULL,
    country text NOT NULL,
    region_hy text,
    region_ru text,
    CONSTRAINT region_check CHECK ((substr(region_code, 1, 2) = country)),
    CONSTRAINT region_country_check CHECK ((country ~ '^[A-Z]{2}$'::text)),
    CONSTRAINT region_region_check CHECK (((length(region) >= 1) AND (length(region) <= 100))),
    CONSTRAINT region_region_code_check CHECK ((region_code ~ '^[A-Z]{2}-[A-Z0-9]{1,3}$'::text)),
    CONSTRAINT region_region_hy_check CHECK (((length(region_hy) >= 1) AND (length(region_hy) <= 100))),
    CONSTRAINT region_region_ru_check CHECK (((length(region_ru) >= 1) AND (length(region_ru) <= 100)))
);


ALTER TABLE fl.region OWNER TO fund_owner;

--
-- Name: region_resolve(text, text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.region_resolve(p_text text, p_field text) RETURNS fl.region
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	v	fl.region;
BEGIN
	-- by its code (the primary key), or else its name in English, Armenian or Russian as
	-- fl.name_key() reads names (case and diacritics aside)
	SELECT * INTO v FROM fl.region WHERE region_code = upper(p_text);
	IF v.region_code IS NULL THEN
		SELECT * INTO v FROM fl.region
		 WHERE fl.name_key(p_text) IN (fl.name_key(region), fl.name_key(region_hy),
			fl.name_key(region_ru))
		 ORDER BY region_code LIMIT 1;
	END IF;
	IF v.region_code IS NULL THEN
		PERFORM fl.rpc_error(-32602, 'unknown_region', p_field);
	END IF;
	RETURN v;
END
$$;


ALTER FUNCTION fl.region_resolve(p_text text, p_field text) OWNER TO fund_owner;

--
-- Name: report_answer(text, text[], jsonb, jsonb, jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.report_answer(p_report text, p_by text[], p_measures jsonb, p_out jsonb, p_extra jsonb DEFAULT '{}'::jsonb) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
	v_cols	jsonb := '[]';
	v_dim	text;
	v_rows	jsonb := coalesce((SELECT jsonb_agg(e - '_total' ORDER BY i)
		    FROM jsonb_array_elements(p_out) WITH ORDINALITY x(e, i)
		   WHERE NOT (e->>'_total')::boolean), '[]');
	v_tot	jsonb := coalesce((SELECT jsonb_agg(e - '_total' - p_by ORDER BY i)
		    FROM jsonb_array_elements(p_out) WITH ORDINALITY x(e, i)
		   WHERE (e->>'_total')::boolean OR cardinality(p_by) = 0), '[]');
BEGIN
	FOREACH v_dim IN ARRAY p_by LOOP
		v_cols := v_cols || jsonb_build_object('name', v_dim, 'type',
		    CASE v_dim WHEN 'month' THEN 'month' ELSE 'text' END);
	END LOOP;
	IF cardinality(p_by) > 0 AND jsonb_array_length(v_rows) > fl.report_max_rows() THEN
		PERFORM fl.rpc_error(-32602, 'too_many_rows', 'by',
		    format('more than %s rows: group by fewer dimensions or a shorter range',
			fl.report_max_rows()));
	END IF;
	RETURN jsonb_build_object('report', p_report, 'by', to_jsonb(p_by),
	    'columns', v_cols || p_measures, 'rows', v_rows, 'totals', v_tot) || p_extra;
END
$$;


ALTER FUNCTION fl.report_answer(p_report text, p_by text[], p_measures jsonb, p_out jsonb, p_extra jsonb) OWNER TO fund_owner;

--
-- Name: report_contributions_query(text[]); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.report_contributions_query(p_dims text[]) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
	s	record := fl.report_sql('contributions', p_dims, '(x.t AT TIME ZONE ''UTC'')',
		    'f.currency');
	v_orig	boolean := 'currency' = ANY (p_dims);
	v_dim	text;
	v_bsel	text := '';		-- a movement's own dimensions, and its grouping
	v_bgrp	text := '';
	v_csel	text := '';		-- the partner's dimensions
	v_cols	text := '';		-- every dimension's column, with a leading comma
	v_on	text := '';		-- a cell's median row: the same dimensions
	v_grp	text;
	v_total	text;
BEGIN
	FOREACH v_dim IN ARRAY p_dims LOOP
		IF v_dim IN ('partner_country', 'partner_kind') THEN
			v_csel := v_csel || format(', %s AS d_%s',
			    fl.report_dim_sql('contributions', v_dim, NULL), v_dim);
		ELSE
			v_bsel := v_bsel || format(', %s AS d_%s', fl.report_dim_sql('contributions',
			    v_dim, '(x.t AT TIME ZONE ''UTC'')'), v_dim);
			v_bgrp := v_bgrp || ', ' || fl.report_dim_sql('contributions', v_dim,
			    '(x.t AT TIME ZONE ''UTC'')');
		END IF;
		v_cols := v_cols || ', c.d_' || v_dim;
		v_on := v_on || format(' AND m.d_%s IS NOT DISTINCT FROM x.d_%s', v_dim, v_dim);
	END LOOP;
	IF v_cols = '' THEN
		v_grp := 'c.currency';
		v_total := '0';
	ELSE
		v_grp := format('GROUPING SETS ((%s, c.currency), (c.currency))', substr(v_cols, 3));
		v_total := format('GROUPING(c.d_%s)', p_dims[1]);
	END IF;
	RETURN format($q$
	    WITH mv AS (
		-- direct receipts, reversed ones too: their reversal is a movement of its own
		SELECT c.partner_id, c.fund_code, c.currency, c.received_at AS t, 1 AS n,
		    c.fund_amount AS amt, c.amount AS orig, 0 AS pl, 0::bigint AS pl_amt,
		    0::bigint AS outst, c.status <> 'reversed' AS gift
		  FROM fl.contribution c
		 WHERE c.pledged_at IS NULL AND c.received_at >= $1 AND c.received_at < $2
		   AND ($3::text IS NULL OR c.fund_code = $3)
		UNION ALL
		SELECT c.partner_id, c.fund_code, c.currency, e.value_at, -1, -c.fund_amount,
		    -c.amount, 0, 0, 0, false
		  FROM fl.contribution c JOIN fl.journal_entry e ON e.entry_id = c.reversal_entry
		 WHERE c.reversal_entry IS NOT NULL AND e.value_at >= $1 AND e.value_at < $2
		   AND ($3::text IS NULL OR c.fund_code = $3)
		UNION ALL
		SELECT c.partner_id, r.fund_code, c.currency, r.received_at, 1, r.fund_amount,
		    r.amount, 0, 0, 0, true
		  FROM fl.pledge_receipt r JOIN fl.contribution c USING (contribution_id)
		 WHERE r.received_at >= $1 AND r.received_at < $2
		   AND ($3::text IS NULL OR r.fund_code = $3)
		UNION ALL
		SELECT c.partner_id, c.fund_code, c.currency, c.pledged_at, 0, 0, 0, 1,
		    c.fund_amount, CASE WHEN c.status = 'pledged' THEN c.fund_amount -
			coalesce((SELECT sum(r.cleared) FROM fl.pledge_receipt r
			    WHERE r.contribution_id = c.contribution_id), 0) ELSE 0 END, false
		  FROM fl.contribution c
		 WHERE c.pledged_at >= $1 AND c.pledged_at < $2
		   AND ($3::text IS NULL OR c.fund_code = $3)),
	    -- the movements by fund, donor, gift amount (none: not a gift) and their own
	    -- dimensions
	    b AS MATERIALIZED (
		SELECT x.fund_code, x.partner_id, CASE WHEN x.gift THEN x.amt END AS gamt,
		    sum(x.pl) AS pl, sum(x.pl_amt) AS pl_amt, sum(x.outst) AS outst,
		    sum(x.n) AS n, sum(x.amt) AS amt, sum(x.orig) AS orig,
		    min(x.currency) AS ccy, count(*) FILTER (WHERE x.gift) AS gifts %s
		  FROM mv x GROUP BY x.fund_code, x.partner_id, 3 %s),
	    -- each donor of the range: new when no gift of it that stands (a direct receipt
	    -- not reversed, a receipt of a pledge) is dated before the range, retained when
	    -- one is dated in the period of the same length before it
	    donor AS (
		SELECT d.partner_id,
		    NOT fl.gave(d.partner_id, '-infinity', $1) AS new,
		    fl.gave(d.partner_id, $1 - ($2 - $1), $1) AS retained
		  FROM (SELECT DISTINCT partner_id FROM b WHERE gifts > 0) d),
	    c AS MATERIALIZED (
		SELECT b.*, f.currency, dn.new, dn.retained %s
		  FROM b JOIN fl.fund f ON f.code = b.fund_code
		  LEFT JOIN donor dn ON dn.partner_id = b.partner_id %s),
	    cell AS (
		SELECT %s AS total, c.currency, CASE WHEN %L THEN min(c.ccy) END AS ccy,
		    sum(c.pl) AS pledges, sum(c.pl_amt) AS pledged, sum(c.outst) AS outstanding,
		    sum(c.n) AS receipts, sum(c.amt) AS received, sum(c.orig) AS received_original,
		    count(DISTINCT c.partner_id) FILTER (WHERE c.gifts > 0) AS donors,
		    count(DISTINCT c.partner_id) FILTER (WHERE c.gifts > 0 AND c.new) AS new_donors,
		    count(DISTINCT c.partner_id) FILTER (WHERE c.gifts > 0 AND c.retained)
			AS retained_donors,
		    round(sum(c.gamt::numeric * c.gifts) / nullif(sum(c.gifts), 0))
			AS average_gift %s
		  FROM c GROUP BY %s),
	    -- the median gift (percentile_disc): the least amount whose gifts, with the
	    -- smaller ones, are at least half the cell's
	    med AS (
		SELECT w.total, w.currency, min(w.gamt) FILTER (WHERE 2 * w.run >= w.n)
		    AS median_gift %s
		  FROM (SELECT %s AS total, c.currency, c.gamt,
			    sum(sum(c.gifts)) OVER (PARTITION BY %s, c.currency %s
				ORDER BY c.gamt) AS run,
			    sum(sum(c.gifts)) OVER (PARTITION BY %s, c.currency %s) AS n %s
			  FROM c WHERE c.gifts > 0
			 GROUP BY %s, c.gamt) w
		 GROUP BY w.total, w.currency %s)
	    SELECT x.total = 1 AS total, %s AS dims, x.currency, fl.minor(x.currency) AS minor,
		x.ccy, fl.minor(x.ccy) AS cminor, x.pledges, x.pledged, x.outstanding,
		x.receipts, x.received, x.received_original, x.donors, x.new_donors,
		x.retained_donors, x.average_gift, m.median_gift
	      FROM cell x
	      LEFT JOIN med m ON m.total = x.total AND m.currency = x.currency %s
	     ORDER BY %s, x.currency LIMIT $4$q$,
	    v_bsel, v_bgrp, v_csel,
	    CASE WHEN p_dims && ARRAY['partner_country', 'partner_kind']
		THEN 'JOIN fl.partner p ON p.partner_id = b.partner_id' ELSE '' END,
	    v_total, v_orig, v_cols, v_grp,
	    replace(v_cols, 'c.', 'w.'), v_total, v_total, v_cols, v_total, v_cols, v_cols,
	    v_grp,
	    replace(v_cols, 'c.', 'w.'), s.obj, v_on, s.ord);
END
$_$;


ALTER FUNCTION fl.report_contributions_query(p_dims text[]) OWNER TO fund_owner;

--
-- Name: report_dim_sql(text, text, text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.report_dim_sql(p_report text, p_dim text, p_t text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	IF p_dim = 'month' THEN
		RETURN format('to_char(%s, ''YYYY-MM'')', p_t);
	ELSIF p_dim = 'quarter' THEN
		RETURN format('to_char(%s, ''YYYY-"Q"Q'')', p_t);
	ELSIF p_dim = 'year' THEN
		RETURN format('to_char(%s, ''YYYY'')', p_t);
	END IF;
	RETURN CASE p_report || '.' || p_dim
	    WHEN 'grants.region' THEN 'g.region'
	    WHEN 'grants.category' THEN 'g.category'
	    WHEN 'grants.fund' THEN 'g.fund_code'
	    WHEN 'grants.status' THEN 'g.status'
	    WHEN 'grants.kind' THEN 'r.kind'
	    WHEN 'grants.gender' THEN 'g.beneficiary_gender'
	    WHEN 'grants.age_band' THEN 'g.beneficiary_age_band'
	    WHEN 'contributions.partner_country' THEN 'p.country'
	    WHEN 'contributions.partner_kind' THEN 'p.kind'
	    WHEN 'contributions.fund' THEN 'x.fund_code'
	    WHEN 'contributions.currency' THEN 'x.currency'
	    WHEN 'pipeline.region' THEN 'g.region'
	    WHEN 'pipeline.category' THEN 'g.category'
	    WHEN 'pipeline.fund' THEN 'g.fund_code'
	    WHEN 'pipeline.kind' THEN 'r.kind'
	    END;
END
$$;


ALTER FUNCTION fl.report_dim_sql(p_report text, p_dim text, p_t text) OWNER TO fund_owner;

--
-- Name: report_dims(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.report_dims(p_report text) RETURNS text[]
    LANGUAGE sql IMMUTABLE
    AS $$
	SELECT CASE p_report
	    WHEN 'grants' THEN ARRAY['fund', 'region', 'category', 'status', 'kind', 'gender',
		'age_band', 'year', 'quarter', 'month']
	    WHEN 'contributions' THEN ARRAY['fund', 'partner_country', 'partner_kind',
		'currency', 'year', 'quarter', 'month']
	    WHEN 'pipeline' THEN ARRAY['fund', 'region', 'category', 'kind', 'year', 'quarter',
		'month']
	    END
$$;


ALTER FUNCTION fl.report_dims(p_report text) OWNER TO fund_owner;

--
-- Name: report_grants_query(text[], text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.report_grants_query(p_dims text[], p_dated text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
	v_t	text := CASE p_dated WHEN 'decided' THEN 'g.decided_at' ELSE 'g.created_at' END;
	s	record := fl.report_sql('grants', p_dims, format('(%s AT TIME ZONE ''UTC'')', v_t),
		    'f.currency');
BEGIN
	RETURN format($q$
	    SELECT x.total = 1 AS total, %s AS dims, x.currency, fl.minor(x.currency) AS minor,
		x.grants, x.beneficiaries, x.requested, x.committed, x.disbursed
	      FROM (SELECT %s AS total, f.currency, count(*) AS grants,
			count(DISTINCT g.returnee_id) AS beneficiaries,
			sum(g.amount) AS requested, sum(g.committed) AS committed,
			sum(g.disbursed) AS disbursed %s
		      FROM fl.grant_application g
		      JOIN fl.fund f ON f.code = g.fund_code %s
		     WHERE %s >= $1 AND %s < $2 AND ($3::text IS NULL OR g.fund_code = $3)
		     GROUP BY %s) x
	     ORDER BY %s, x.currency LIMIT $4$q$,
	    s.obj, s.total, s.sel,
	    CASE WHEN 'kind' = ANY (p_dims)
		THEN 'JOIN fl.returnee r ON r.returnee_id = g.returnee_id' ELSE '' END,
	    v_t, v_t, s.grp, s.ord);
END
$_$;


ALTER FUNCTION fl.report_grants_query(p_dims text[], p_dated text) OWNER TO fund_owner;

--
-- Name: report_max_rows(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.report_max_rows() RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT 10000 $$;


ALTER FUNCTION fl.report_max_rows() OWNER TO fund_owner;

--
-- Name: report_min_cell(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.report_min_cell() RETURNS integer
    LANGUAGE sql STABLE
    AS $$
	SELECT coalesce(nullif(current_setting('fundd.report_min_cell', true), '')::int, 5)
$$;


ALTER FUNCTION fl.report_min_cell() OWNER TO fund_owner;

--
-- Name: report_pipeline_query(text[]); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.report_pipeline_query(p_dims text[]) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $_$
DECLARE
	s	record := fl.report_sql('pipeline', p_dims, '(g.created_at AT TIME ZONE ''UTC'')',
		    '');
BEGIN
	RETURN format($q$
	    SELECT x.total = 1 AS total, %s AS dims, x.*
	      FROM (SELECT %s AS total, count(*) AS applications,
			count(*) FILTER (WHERE g.status = 'submitted') AS submitted,
			count(*) FILTER (WHERE g.status IN ('approved', 'completed'))
			    AS approved,
			count(*) FILTER (WHERE g.status = 'rejected') AS rejected,
			count(*) FILTER (WHERE g.status = 'withdrawn') AS withdrawn,
			count(*) FILTER (WHERE g.status = 'cancelled') AS cancelled,
			count(*) FILTER (WHERE g.status = 'submitted' AND
			    g.created_at > now() - interval '7 days') AS waiting_0_7,
			count(*) FILTER (WHERE g.status = 'submitted' AND
			    g.created_at <= now() - interval '7 days' AND
			    g.created_at > now() - interval '30 days') AS waiting_8_30,
			count(*) FILTER (WHERE g.status = 'submitted' AND
			    g.created_at <= now() - interval '30 days' AND
			    g.created_at > now() - interval '90 days') AS waiting_31_90,
			count(*) FILTER (WHERE g.status = 'submitted' AND
			    g.created_at <= now() - interval '90 days') AS waiting_over_90,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
			    g.decided_at - g.created_at) / 86400) FILTER (WHERE g.status IN
			    ('approved', 'completed', 'rejected')) AS days_to_decision,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
			    g.first_paid_at - g.decided_at) / 86400) FILTER (WHERE g.status IN
			    ('approved', 'completed') AND g.first_paid_at IS NOT NULL)
			    AS days_to_first_payment %s
		      FROM fl.grant_application g %s
		     WHERE g.created_at >= $1 AND g.created_at < $2
		       AND ($3::text IS NULL OR g.fund_code = $3)
		     GROUP BY %s) x
	     ORDER BY %s LIMIT $4$q$,
	    s.obj, s.total, s.sel,
	    CASE WHEN 'kind' = ANY (p_dims)
		THEN 'JOIN fl.returnee r ON r.returnee_id = g.returnee_id' ELSE '' END,
	    s.grp, s.ord);
END
$_$;


ALTER FUNCTION fl.report_pipeline_query(p_dims text[]) OWNER TO fund_owner;

--
-- Name: report_request(text, jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.report_request(p_report text, params jsonb, OUT dims text[], OUT t0 timestamp with time zone, OUT t1 timestamp with time zone) RETURNS record
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	v_dim	text;
BEGIN
	dims := '{}';
	FOR v_dim IN SELECT jsonb_array_elements_text(coalesce(params->'by', '[]')) LOOP
		IF NOT v_dim = ANY (fl.report_dims(p_report)) THEN
			PERFORM fl.rpc_error(-32602, 'unknown_dimension', 'by',
			    format('report.%s has no dimension %s', p_report, v_dim),
			    jsonb_build_object('allowed', to_jsonb(fl.report_dims(p_report))));
		END IF;
		IF v_dim = ANY (dims) THEN
			PERFORM fl.rpc_error(-32602, 'repeated_dimension', 'by');
		END IF;
		dims := dims || v_dim;
	END LOOP;
	IF params ? 'fund' THEN
		PERFORM fl.fund_get(params->>'fund', 'fund');
	END IF;
	t0 := fl.time_in(params->>'from');
	t1 := fl.time_in(params->>'to') + interval '1 day';
	IF t1 <= t0 THEN
		PERFORM fl.rpc_error(-32602, 'end_before_start', 'to',
		    'the range ends before it starts');
	END IF;
END
$$;


ALTER FUNCTION fl.report_request(p_report text, params jsonb, OUT dims text[], OUT t0 timestamp with time zone, OUT t1 timestamp with time zone) OWNER TO fund_owner;

--
-- Name: report_sql(text, text[], text, text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.report_sql(p_report text, p_by text[], p_t text, p_implicit text, OUT sel text, OUT grp text, OUT total text, OUT obj text, OUT ord text) RETURNS record
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
	v_dim	text;
	v_exprs	text[] := '{}';
BEGIN
	sel := '';
	obj := '';
	ord := 'x.total';
	FOREACH v_dim IN ARRAY p_by LOOP
		v_exprs := v_exprs || fl.report_dim_sql(p_report, v_dim, p_t);
		sel := sel || format(', %s AS d_%s', fl.report_dim_sql(p_report, v_dim, p_t), v_dim);
		obj := obj || format('%s%L, %s', CASE WHEN obj = '' THEN '' ELSE ', ' END, v_dim,
		    CASE v_dim WHEN 'region' THEN '(SELECT rg.region FROM fl.region rg WHERE '
			'rg.region_code = x.d_region)'
		    ELSE 'x.d_' || v_dim END);
		ord := ord || ', x.d_' || v_dim;
	END LOOP;
	IF cardinality(v_exprs) = 0 THEN
		grp := CASE WHEN p_implicit = '' THEN '()' ELSE p_implicit END;
		total := '0';
	ELSE
		grp := format('GROUPING SETS ((%s%s), (%s))', array_to_string(v_exprs, ', '),
		    CASE WHEN p_implicit = '' THEN '' ELSE ', ' || p_implicit END, p_implicit);
		total := format('GROUPING(%s)', v_exprs[1]);
	END IF;
	obj := 'jsonb_build_object(' || obj || ')';
END
$$;


ALTER FUNCTION fl.report_sql(p_report text, p_by text[], p_t text, p_implicit text, OUT sel text, OUT grp text, OUT total text, OUT obj text, OUT ord text) OWNER TO fund_owner;

--
-- Name: returnee_by_national(bytea[], text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.returnee_by_national(p_idx bytea[], p_not text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
BEGIN
	RETURN (SELECT returnee_id FROM fl.returnee
		 WHERE national_index = ANY (p_idx) AND returnee_id IS DISTINCT FROM p_not
		 ORDER BY seq LIMIT 1);
END
$$;


ALTER FUNCTION fl.returnee_by_national(p_idx bytea[], p_not text) OWNER TO fund_owner;

--
-- Name: returnee_check(jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.returnee_check(params jsonb) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
	IF (params->>'returned_on')::date > current_date THEN
		PERFORM fl.rpc_error(-32602, 'in_the_future', 'returned_on');
	END IF;
END
$$;


ALTER FUNCTION fl.returnee_check(params jsonb) OWNER TO fund_owner;

--
-- Name: returnee_erased_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.returnee_erased_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.returnee_erased_guard() OWNER TO fund_owner;

--
-- Name: returnee_get(text, boolean); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.returnee_get(p_id text, p_lock boolean) RETURNS fl.returnee
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.returnee_get(p_id text, p_lock boolean) OWNER TO fund_owner;

--
-- Name: returnee_json(fl.returnee); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.returnee_json(r fl.returnee) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.returnee_json(r fl.returnee) OWNER TO fund_owner;

--
-- Name: rpc_error(integer, text, text, text, jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.rpc_error(p_code integer, p_reason text, p_field text DEFAULT NULL::text, p_message text DEFAULT NULL::text, p_extra jsonb DEFAULT '{}'::jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'FLERR', MESSAGE = jsonb_build_object(
	    'code', p_code,
	    'message', coalesce(p_message, replace(p_reason, '_', ' ')),
	    'data', jsonb_strip_nulls(jsonb_build_object('reason', p_reason, 'field', p_field))
	        || p_extra)::text;
END
$$;


ALTER FUNCTION fl.rpc_error(p_code integer, p_reason text, p_field text, p_message text, p_extra jsonb) OWNER TO fund_owner;

--
-- Name: sealed_fields_out(jsonb, boolean); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.sealed_fields_out(p jsonb, p_erased boolean) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $_$
	SELECT coalesce(jsonb_object_agg(regexp_replace(e.k, '_sealed$', ''),
	    CASE WHEN e.k NOT LIKE '%\_sealed' THEN e.v
		WHEN p_erased THEN 'null'
		ELSE coalesce(fl.sealed_out(regexp_replace(e.k, '_sealed$', ''),
		    decode(substr(e.v #>> '{}', 3), 'hex')), 'null') END), '{}')
	  FROM jsonb_each(p) AS e(k, v)
$_$;


ALTER FUNCTION fl.sealed_fields_out(p jsonb, p_erased boolean) OWNER TO fund_owner;

--
-- Name: sealed_out(text, bytea); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.sealed_out(p_field text, p_v bytea) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $_$
	SELECT CASE WHEN p_v IS NOT NULL THEN
	    jsonb_build_object('$sealed', p_field, 'v', encode(p_v, 'hex')) END
$_$;


ALTER FUNCTION fl.sealed_out(p_field text, p_v bytea) OWNER TO fund_owner;

--
-- Name: time_in(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.time_in(p_text text) RETURNS timestamp with time zone
    LANGUAGE plpgsql IMMUTABLE
    AS $$
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


ALTER FUNCTION fl.time_in(p_text text) OWNER TO fund_owner;

--
-- Name: token_expiry_in(jsonb); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.token_expiry_in(params jsonb) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
	v	timestamptz := fl.time_in(params->>'expires_at');
BEGIN
	IF v <= now() THEN
		PERFORM fl.rpc_error(-32602, 'in_the_past', 'expires_at',
		    'a token''s expiry is a time to come');
	END IF;
	RETURN v;
END
$$;


ALTER FUNCTION fl.token_expiry_in(params jsonb) OWNER TO fund_owner;

--
-- Name: total_out(numeric, integer); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.total_out(p_total numeric, p_minor integer) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
DECLARE
	v_abs	numeric := abs(p_total);
	v_p	numeric := fl.pow10(p_minor);
BEGIN
	IF p_minor = 0 THEN
		RETURN p_total::text;
	END IF;
	RETURN CASE WHEN p_total < 0 THEN '-' ELSE '' END || div(v_abs, v_p)::text || '.' ||
	    lpad(mod(v_abs, v_p)::text, p_minor, '0');
END
$$;


ALTER FUNCTION fl.total_out(p_total numeric, p_minor integer) OWNER TO fund_owner;

--
-- Name: transfer_accounts(fl.fund); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.transfer_accounts(f fl.fund) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.transfer_accounts(f fl.fund) OWNER TO fund_owner;

--
-- Name: transfer; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.transfer (
    seq bigint NOT NULL,
    transfer_id text DEFAULT fl.new_id('tr'::text) NOT NULL,
    from_fund text NOT NULL,
    to_fund text NOT NULL,
    amount bigint NOT NULL,
    fx_rate numeric,
    to_amount bigint NOT NULL,
    memo text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text NOT NULL,
    decided_at timestamp with time zone,
    decided_by text,
    cancel_reason text,
    out_entry_id bigint,
    in_entry_id bigint,
    CONSTRAINT transfer_amount_check CHECK ((amount > 0)),
    CONSTRAINT transfer_cancel_reason_check CHECK (((length(cancel_reason) >= 1) AND (length(cancel_reason) <= 500))),
    CONSTRAINT transfer_check CHECK ((from_fund <> to_fund)),
    CONSTRAINT transfer_check1 CHECK (((status = 'pending'::text) = ((decided_at IS NULL) AND (decided_by IS NULL)))),
    CONSTRAINT transfer_check2 CHECK (((status = 'confirmed'::text) = ((out_entry_id IS NOT NULL) AND (in_entry_id IS NOT NULL)))),
    CONSTRAINT transfer_check3 CHECK (((status = 'confirmed'::text) <= (decided_by IS DISTINCT FROM created_by))),
    CONSTRAINT transfer_check4 CHECK (((status = 'cancelled'::text) = (cancel_reason IS NOT NULL))),
    CONSTRAINT transfer_fx_rate_check CHECK ((fx_rate > (0)::numeric)),
    CONSTRAINT transfer_memo_check CHECK (((length(memo) >= 1) AND (length(memo) <= 500))),
    CONSTRAINT transfer_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'confirmed'::text, 'cancelled'::text]))),
    CONSTRAINT transfer_to_amount_check CHECK ((to_amount > 0))
);


ALTER TABLE fl.transfer OWNER TO fund_owner;

--
-- Name: transfer_get(text, boolean); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.transfer_get(p_id text, p_lock boolean) RETURNS fl.transfer
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.transfer_get(p_id text, p_lock boolean) OWNER TO fund_owner;

--
-- Name: transfer_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.transfer_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.transfer_guard() OWNER TO fund_owner;

--
-- Name: transfer_insert_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.transfer_insert_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.transfer_insert_guard() OWNER TO fund_owner;

--
-- Name: transfer_json(fl.transfer); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.transfer_json(t fl.transfer) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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


ALTER FUNCTION fl.transfer_json(t fl.transfer) OWNER TO fund_owner;

--
-- Name: ts(timestamp with time zone); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.ts(p_t timestamp with time zone) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
	RETURN to_char(p_t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
END
$$;


ALTER FUNCTION fl.ts(p_t timestamp with time zone) OWNER TO fund_owner;

--
-- Name: withdrawn_guard(); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.withdrawn_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


ALTER FUNCTION fl.withdrawn_guard() OWNER TO fund_owner;

--
-- Name: wrong_state(text); Type: FUNCTION; Schema: fl; Owner: fund_owner
--

CREATE FUNCTION fl.wrong_state(p_status text) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
	PERFORM fl.rpc_error(-32009, 'wrong_state', NULL,
	    'not allowed in state ' || p_status, jsonb_build_object('status', p_status));
END
$$;


ALTER FUNCTION fl.wrong_state(p_status text) OWNER TO fund_owner;

--
-- Name: account; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.account (
    account_id bigint NOT NULL,
    fund_code text NOT NULL,
    short text NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    currency text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT account_check CHECK ((name = ((fund_code || ':'::text) || short))),
    CONSTRAINT account_short_check CHECK ((short = ANY (ARRAY['cash'::text, 'pledges_receivable'::text, 'pledged_contributions'::text, 'contributions'::text, 'earnings'::text, 'commitments'::text, 'grants_committed'::text, 'grants_disbursed'::text, 'transfers_in'::text, 'transfers_out'::text, 'bank_charges'::text, 'investment_losses'::text, 'capital_impaired'::text]))),
    CONSTRAINT account_type_check CHECK ((type = ANY (ARRAY['asset'::text, 'liability'::text, 'equity'::text, 'income'::text, 'expense'::text])))
);


ALTER TABLE fl.account OWNER TO fund_owner;

--
-- Name: account_account_id_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.account_account_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.account_account_id_seq OWNER TO fund_owner;

--
-- Name: account_account_id_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.account_account_id_seq OWNED BY fl.account.account_id;


--
-- Name: alloc_contribution; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.alloc_contribution (
    contribution_id text NOT NULL,
    fund_code text NOT NULL,
    received_at timestamp with time zone NOT NULL,
    earmark_region text,
    amount bigint NOT NULL,
    left_over bigint NOT NULL,
    CONSTRAINT alloc_contribution_amount_check CHECK ((amount > 0)),
    CONSTRAINT alloc_contribution_check CHECK (((left_over >= 0) AND (left_over <= amount)))
);


ALTER TABLE fl.alloc_contribution OWNER TO fund_owner;

--
-- Name: alloc_fund; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.alloc_fund (
    fund_code text NOT NULL
);


ALTER TABLE fl.alloc_fund OWNER TO fund_owner;

--
-- Name: alloc_queue; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.alloc_queue (
    queue_id bigint NOT NULL,
    fund_code text NOT NULL,
    entry_id bigint NOT NULL,
    kind text NOT NULL,
    ref_id text NOT NULL
);


ALTER TABLE fl.alloc_queue OWNER TO fund_owner;

--
-- Name: alloc_queue_queue_id_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.alloc_queue_queue_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.alloc_queue_queue_id_seq OWNER TO fund_owner;

--
-- Name: alloc_queue_queue_id_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.alloc_queue_queue_id_seq OWNED BY fl.alloc_queue.queue_id;


--
-- Name: allocation; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.allocation (
    allocation_id bigint NOT NULL,
    fund_code text NOT NULL,
    entry_id bigint NOT NULL,
    grant_id text NOT NULL,
    region text NOT NULL,
    contribution_id text,
    amount bigint NOT NULL,
    CONSTRAINT allocation_amount_check CHECK ((amount > 0))
);


ALTER TABLE fl.allocation OWNER TO fund_owner;

--
-- Name: allocation_allocation_id_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.allocation_allocation_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.allocation_allocation_id_seq OWNER TO fund_owner;

--
-- Name: allocation_allocation_id_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.allocation_allocation_id_seq OWNED BY fl.allocation.allocation_id;


--
-- Name: audit_chain; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.audit_chain (
    seq bigint NOT NULL,
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL,
    chained_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT audit_chain_hash_check CHECK ((length(hash) = 32)),
    CONSTRAINT audit_chain_prev_hash_check CHECK ((length(prev_hash) = 32))
);


ALTER TABLE fl.audit_chain OWNER TO fund_owner;

--
-- Name: audit_checkpoint; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.audit_checkpoint (
    seq bigint NOT NULL,
    head_hash bytea NOT NULL,
    signed_at timestamp with time zone NOT NULL,
    signature bytea NOT NULL,
    public_key text NOT NULL,
    stored_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT audit_checkpoint_head_hash_check CHECK ((length(head_hash) = 32)),
    CONSTRAINT audit_checkpoint_public_key_check CHECK ((public_key ~~ '-----BEGIN PUBLIC KEY-----%'::text)),
    CONSTRAINT audit_checkpoint_signature_check CHECK ((length(signature) = 64))
);


ALTER TABLE fl.audit_checkpoint OWNER TO fund_owner;

--
-- Name: audit_key_line; Type: VIEW; Schema: fl; Owner: fund_owner
--

CREATE VIEW fl.audit_key_line AS
 SELECT a.key_no,
    a.from_seq,
    (json_build_object('type', 'key', 'key_no', a.key_no, 'key_id', a.key_id, 'from_seq', a.from_seq, 'public_key', (('-----BEGIN PUBLIC KEY-----
'::text || encode(('\x302a300506032b6570032100'::bytea || a.public_key), 'base64'::text)) || '
-----END PUBLIC KEY-----
'::text), 'introduced_at', fl.ts(a.introduced_at), 'signature', encode(a.signature, 'hex'::text)))::text AS line
   FROM fl.audit_key a;


ALTER TABLE fl.audit_key_line OWNER TO fund_owner;

--
-- Name: audit_export; Type: VIEW; Schema: fl; Owner: fund_owner
--

CREATE VIEW fl.audit_export AS
 SELECT e.seq,
    x.kind,
    x.line
   FROM ((fl.audit_event e
     LEFT JOIN fl.audit_chain c ON ((c.seq = e.seq)))
     CROSS JOIN LATERAL ( SELECT 0 AS "?column?",
            (json_build_object('type', 'event', 'seq', e.seq, 'at', fl.ts(e.at), 'principal_id', e.principal_id, 'method', e.method, 'object_id', e.object_id, 'outcome', e.outcome, 'error_code', e.error_code, 'reason', e.reason, 'params_sha256', encode((e.params_sha256)::bytea, 'hex'::text), 'purpose', e.purpose, 'prev_hash', encode(c.prev_hash, 'hex'::text), 'hash', encode(c.hash, 'hex'::text)))::text AS json_build_object
        UNION ALL
         SELECT y.kind,
            y.line
           FROM (fl.audit_checkpoint k
             CROSS JOIN LATERAL ( SELECT 1 AS "?column?",
                    (json_build_object('type', 'checkpoint', 'seq', k.seq, 'head_hash', encode(k.head_hash, 'hex'::text), 'signed_at', fl.ts(k.signed_at), 'signature', encode(k.signature, 'hex'::text), 'public_key', k.public_key))::text AS json_build_object
                UNION ALL
                 SELECT
                        CASE
                            WHEN (a.key_no = 1) THEN '-1'::integer
                            ELSE (1 + a.key_no)
                        END AS "case",
                    a.line
                   FROM fl.audit_key_line a
                  WHERE (((a.key_no = 1) AND (k.seq = ( SELECT min(f.seq) AS min
                           FROM fl.audit_checkpoint f))) OR ((a.key_no > 1) AND (a.from_seq = (k.seq + 1))))) y(kind, line))
          WHERE (k.seq = e.seq)) x(kind, line));


ALTER TABLE fl.audit_export OWNER TO fund_owner;

--
-- Name: audit_state; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.audit_state (
    one boolean DEFAULT true NOT NULL,
    head_seq bigint NOT NULL,
    head_hash bytea NOT NULL,
    covered_seq bigint NOT NULL,
    pend_seq bigint,
    pend_xid xid8,
    CONSTRAINT audit_state_check CHECK ((covered_seq >= head_seq)),
    CONSTRAINT audit_state_check1 CHECK ((pend_seq > covered_seq)),
    CONSTRAINT audit_state_check2 CHECK (((pend_seq IS NULL) = (pend_xid IS NULL))),
    CONSTRAINT audit_state_head_hash_check CHECK ((length(head_hash) = 32)),
    CONSTRAINT audit_state_one_check CHECK (one)
);


ALTER TABLE fl.audit_state OWNER TO fund_owner;

--
-- Name: contribution_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.contribution_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.contribution_seq_seq OWNER TO fund_owner;

--
-- Name: contribution_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.contribution_seq_seq OWNED BY fl.contribution.seq;


--
-- Name: correction; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.correction (
    seq bigint NOT NULL,
    object_kind text NOT NULL,
    object_id text NOT NULL,
    principal_id text,
    at timestamp with time zone DEFAULT now() NOT NULL,
    fields text[] NOT NULL,
    old jsonb NOT NULL,
    new jsonb NOT NULL,
    CONSTRAINT correction_fields_check CHECK ((cardinality(fields) >= 1)),
    CONSTRAINT correction_object_kind_check CHECK ((object_kind = ANY (ARRAY['partner'::text, 'returnee'::text, 'grant'::text])))
);


ALTER TABLE fl.correction OWNER TO fund_owner;

--
-- Name: correction_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.correction_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.correction_seq_seq OWNER TO fund_owner;

--
-- Name: correction_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.correction_seq_seq OWNED BY fl.correction.seq;


--
-- Name: currency; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.currency (
    code text NOT NULL,
    minor_unit integer NOT NULL,
    CONSTRAINT currency_code_check CHECK ((code ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT currency_minor_unit_check CHECK (((minor_unit >= 0) AND (minor_unit <= 4)))
);


ALTER TABLE fl.currency OWNER TO fund_owner;

--
-- Name: disbursement_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.disbursement_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.disbursement_seq_seq OWNER TO fund_owner;

--
-- Name: disbursement_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.disbursement_seq_seq OWNED BY fl.disbursement.seq;


--
-- Name: document_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.document_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.document_seq_seq OWNER TO fund_owner;

--
-- Name: document_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.document_seq_seq OWNED BY fl.document.seq;


--
-- Name: erasure_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.erasure_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.erasure_seq_seq OWNER TO fund_owner;

--
-- Name: erasure_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.erasure_seq_seq OWNED BY fl.erasure.seq;


--
-- Name: fund_day; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.fund_day (
    fund_code text NOT NULL,
    day date NOT NULL,
    received bigint NOT NULL,
    earnings bigint NOT NULL,
    pledged bigint NOT NULL,
    committed bigint NOT NULL,
    disbursed bigint NOT NULL,
    transferred_in bigint NOT NULL,
    transferred_out bigint NOT NULL,
    charges bigint NOT NULL,
    impaired bigint NOT NULL
);


ALTER TABLE fl.fund_day OWNER TO fund_owner;

--
-- Name: fund_delta; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.fund_delta (
    delta_id bigint NOT NULL,
    fund_code text NOT NULL,
    received bigint NOT NULL,
    earnings bigint NOT NULL,
    pledged bigint NOT NULL,
    committed bigint NOT NULL,
    disbursed bigint NOT NULL,
    transferred_in bigint DEFAULT 0 NOT NULL,
    transferred_out bigint DEFAULT 0 NOT NULL,
    charges bigint DEFAULT 0 NOT NULL,
    impaired bigint DEFAULT 0 NOT NULL,
    day date,
    hour smallint
);


ALTER TABLE fl.fund_delta OWNER TO fund_owner;

--
-- Name: fund_delta_delta_id_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.fund_delta_delta_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.fund_delta_delta_id_seq OWNER TO fund_owner;

--
-- Name: fund_delta_delta_id_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.fund_delta_delta_id_seq OWNED BY fl.fund_delta.delta_id;


--
-- Name: fund_hour; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.fund_hour (
    fund_code text NOT NULL,
    day date NOT NULL,
    hour smallint NOT NULL,
    received bigint NOT NULL,
    earnings bigint NOT NULL,
    pledged bigint NOT NULL,
    committed bigint NOT NULL,
    disbursed bigint NOT NULL,
    transferred_in bigint NOT NULL,
    transferred_out bigint NOT NULL,
    charges bigint NOT NULL,
    impaired bigint NOT NULL,
    CONSTRAINT fund_hour_hour_check CHECK (((hour >= 0) AND (hour <= 23)))
);


ALTER TABLE fl.fund_hour OWNER TO fund_owner;

--
-- Name: pledge_receipt; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.pledge_receipt (
    seq bigint NOT NULL,
    receipt_id text NOT NULL,
    contribution_id text NOT NULL,
    fund_code text NOT NULL,
    amount fl.positive_amount NOT NULL,
    fx_rate fl.positive_rate,
    fund_amount fl.positive_amount NOT NULL,
    fee bigint DEFAULT 0 NOT NULL,
    cleared bigint NOT NULL,
    received_at timestamp with time zone NOT NULL,
    bank_ref fl.bank_ref,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text,
    CONSTRAINT pledge_receipt_check CHECK (((fee >= 0) AND (fee < (fund_amount)::bigint))),
    CONSTRAINT pledge_receipt_cleared_check CHECK ((cleared >= 0))
);


ALTER TABLE fl.pledge_receipt OWNER TO fund_owner;

--
-- Name: funding_source; Type: VIEW; Schema: fl; Owner: fund_owner
--

CREATE VIEW fl.funding_source AS
 SELECT c.contribution_id AS source_id,
    c.contribution_id,
    c.fund_code,
    c.received_at,
    c.earmark_region,
    c.fund_amount
   FROM fl.contribution c
  WHERE (((c.status)::text = 'received'::text) AND (c.pledged_at IS NULL))
UNION ALL
 SELECT r.receipt_id AS source_id,
    r.contribution_id,
    r.fund_code,
    r.received_at,
    c.earmark_region,
    r.fund_amount
   FROM (fl.pledge_receipt r
     JOIN fl.contribution c ON ((c.contribution_id = r.contribution_id)));


ALTER TABLE fl.funding_source OWNER TO fund_owner;

--
-- Name: grant_application_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.grant_application_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.grant_application_seq_seq OWNER TO fund_owner;

--
-- Name: grant_application_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.grant_application_seq_seq OWNED BY fl.grant_application.seq;


--
-- Name: grant_decision; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.grant_decision (
    grant_id text NOT NULL,
    principal_id text NOT NULL,
    decision text NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    comment text,
    CONSTRAINT grant_decision_comment_check CHECK ((length(comment) <= 1000)),
    CONSTRAINT grant_decision_decision_check CHECK ((decision = ANY (ARRAY['approve'::text, 'reject'::text])))
);


ALTER TABLE fl.grant_decision OWNER TO fund_owner;

--
-- Name: grant_decision_withdrawn; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.grant_decision_withdrawn (
    grant_id text NOT NULL,
    principal_id text NOT NULL,
    decision text NOT NULL,
    decided_at timestamp with time zone NOT NULL,
    comment text,
    withdrawn_at timestamp with time zone DEFAULT now() NOT NULL,
    correction_seq bigint
);


ALTER TABLE fl.grant_decision_withdrawn OWNER TO fund_owner;

--
-- Name: grant_recusal; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.grant_recusal (
    grant_id text NOT NULL,
    principal_id text NOT NULL,
    reason text NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT grant_recusal_reason_check CHECK (((length(reason) >= 1) AND (length(reason) <= 1000)))
);


ALTER TABLE fl.grant_recusal OWNER TO fund_owner;

--
-- Name: idempotency; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.idempotency (
    principal_id text NOT NULL,
    key fl.idempotency_key NOT NULL,
    method text NOT NULL,
    params_sha256 bytea NOT NULL,
    result jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE fl.idempotency OWNER TO fund_owner;

--
-- Name: journal_entry_entry_id_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.journal_entry_entry_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.journal_entry_entry_id_seq OWNER TO fund_owner;

--
-- Name: journal_entry_entry_id_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.journal_entry_entry_id_seq OWNED BY fl.journal_entry.entry_id;


--
-- Name: posting; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.posting (
    entry_id bigint NOT NULL,
    seq smallint NOT NULL,
    account_id bigint NOT NULL,
    amount fl.posting_amount NOT NULL,
    currency text NOT NULL
);


ALTER TABLE fl.posting OWNER TO fund_owner;

--
-- Name: ledger_export; Type: VIEW; Schema: fl; Owner: fund_owner
--

CREATE VIEW fl.ledger_export AS
 SELECT e.entry_id,
    p.seq,
    e.at AS at_ts,
    ('je_'::text || e.entry_id) AS entry,
    to_char((e.at AT TIME ZONE 'UTC'::text), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'::text) AS at,
    e.kind,
    e.fund_code AS fund,
    a.name AS account,
    p.currency,
    (round(((p.amount)::numeric / ((10)::numeric ^ (c.minor_unit)::numeric)), c.minor_unit))::text AS amount,
    e.memo,
    e.value_at AS value_ts,
    to_char((e.value_at AT TIME ZONE 'UTC'::text), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'::text) AS value_date,
    ((((((((((((((((('je_'::text || e.entry_id) || ','::text) || to_char((e.at AT TIME ZONE 'UTC'::text), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'::text)) || ','::text) || (e.kind)::text) || ','::text) || COALESCE(e.fund_code, ''::text)) || ','::text) || a.name) || ','::text) || p.currency) || ','::text) || (round(((p.amount)::numeric / ((10)::numeric ^ (c.minor_unit)::numeric)), c.minor_unit))::text) || ','::text) ||
        CASE
            WHEN (((e.memo)::text = ''::text) OR ((e.memo)::text ~ '[",\r\n]'::text)) THEN (('"'::text || replace((e.memo)::text, '"'::text, '""'::text)) || '"'::text)
            ELSE (e.memo)::text
        END) || ','::text) || to_char((e.value_at AT TIME ZONE 'UTC'::text), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'::text)) AS line
   FROM (((fl.journal_entry e
     JOIN fl.posting p USING (entry_id))
     JOIN fl.account a USING (account_id))
     JOIN fl.currency c ON ((c.code = p.currency)));


ALTER TABLE fl.ledger_export OWNER TO fund_owner;

--
-- Name: ledger_export_header; Type: VIEW; Schema: fl; Owner: fund_owner
--

CREATE VIEW fl.ledger_export_header AS
 SELECT 'entry_id,at,kind,fund,account,currency,amount,memo,value_date'::text AS line;


ALTER TABLE fl.ledger_export_header OWNER TO fund_owner;

--
-- Name: method; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.method (
    name fl.method_name NOT NULL,
    roles text[] NOT NULL,
    CONSTRAINT method_roles_check CHECK ((roles <@ ARRAY['admin'::text, 'approver'::text, 'auditor'::text, 'partner'::text]))
);


ALTER TABLE fl.method OWNER TO fund_owner;

--
-- Name: milestone_event; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.milestone_event (
    seq bigint NOT NULL,
    milestone_id text NOT NULL,
    kind text NOT NULL,
    principal_id text NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    document_ids text[],
    note text,
    CONSTRAINT milestone_event_kind_check CHECK ((kind = ANY (ARRAY['submit'::text, 'accept'::text, 'reject'::text]))),
    CONSTRAINT milestone_event_note_check CHECK ((length(note) <= 1000))
);


ALTER TABLE fl.milestone_event OWNER TO fund_owner;

--
-- Name: milestone_event_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.milestone_event_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.milestone_event_seq_seq OWNER TO fund_owner;

--
-- Name: milestone_event_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.milestone_event_seq_seq OWNED BY fl.milestone_event.seq;


--
-- Name: milestone_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.milestone_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.milestone_seq_seq OWNER TO fund_owner;

--
-- Name: milestone_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.milestone_seq_seq OWNED BY fl.milestone.seq;


--
-- Name: partner_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.partner_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.partner_seq_seq OWNER TO fund_owner;

--
-- Name: partner_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.partner_seq_seq OWNED BY fl.partner.seq;


--
-- Name: person_key; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.person_key (
    key_id bytea NOT NULL,
    returnee_id text NOT NULL,
    kek_id text NOT NULL,
    wrapped bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT person_key_kek_id_check CHECK ((kek_id ~ '^[0-9a-f]{16}$'::text)),
    CONSTRAINT person_key_key_id_check CHECK ((length(key_id) = 16)),
    CONSTRAINT person_key_wrapped_check CHECK ((length(wrapped) = 61))
)
WITH (autovacuum_vacuum_threshold='0', autovacuum_vacuum_scale_factor='0');


ALTER TABLE fl.person_key OWNER TO fund_owner;

--
-- Name: pledge_receipt_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.pledge_receipt_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.pledge_receipt_seq_seq OWNER TO fund_owner;

--
-- Name: pledge_receipt_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.pledge_receipt_seq_seq OWNED BY fl.pledge_receipt.seq;


--
-- Name: principal_conflict_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.principal_conflict_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.principal_conflict_seq_seq OWNER TO fund_owner;

--
-- Name: principal_conflict_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.principal_conflict_seq_seq OWNED BY fl.principal_conflict.seq;


--
-- Name: principal_seen; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.principal_seen (
    principal_id text NOT NULL,
    last_used_at timestamp with time zone NOT NULL
);


ALTER TABLE fl.principal_seen OWNER TO fund_owner;

--
-- Name: principal_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.principal_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.principal_seq_seq OWNER TO fund_owner;

--
-- Name: principal_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.principal_seq_seq OWNED BY fl.principal.seq;


--
-- Name: refund; Type: TABLE; Schema: fl; Owner: fund_owner
--

CREATE TABLE fl.refund (
    seq bigint NOT NULL,
    refund_id text NOT NULL,
    disbursement_id text NOT NULL,
    grant_id text NOT NULL,
    amount fl.positive_amount NOT NULL,
    refunded_at timestamp with time zone NOT NULL,
    bank_ref fl.bank_ref,
    reason text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text,
    CONSTRAINT refund_reason_check CHECK (((length(reason) >= 1) AND (length(reason) <= 500)))
);


ALTER TABLE fl.refund OWNER TO fund_owner;

--
-- Name: refund_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.refund_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.refund_seq_seq OWNER TO fund_owner;

--
-- Name: refund_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.refund_seq_seq OWNED BY fl.refund.seq;


--
-- Name: returnee_consent_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.returnee_consent_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.returnee_consent_seq_seq OWNER TO fund_owner;

--
-- Name: returnee_consent_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.returnee_consent_seq_seq OWNED BY fl.returnee_consent.seq;


--
-- Name: returnee_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.returnee_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.returnee_seq_seq OWNER TO fund_owner;

--
-- Name: returnee_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.returnee_seq_seq OWNED BY fl.returnee.seq;


--
-- Name: transfer_seq_seq; Type: SEQUENCE; Schema: fl; Owner: fund_owner
--

CREATE SEQUENCE fl.transfer_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE fl.transfer_seq_seq OWNER TO fund_owner;

--
-- Name: transfer_seq_seq; Type: SEQUENCE OWNED BY; Schema: fl; Owner: fund_owner
--

ALTER SEQUENCE fl.transfer_seq_seq OWNED BY fl.transfer.seq;


--
-- Name: migration; Type: TABLE; Schema: fund_meta; Owner: fund_owner
--

CREATE TABLE fund_meta.migration (
    version integer NOT NULL,
    name text NOT NULL,
    sha256 text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    compatible_from integer
);


ALTER TABLE fund_meta.migration OWNER TO fund_owner;

--
-- Name: repeatable; Type: TABLE; Schema: fund_meta; Owner: fund_owner
--

CREATE TABLE fund_meta.repeatable (
    name text NOT NULL,
    sha256 text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE fund_meta.repeatable OWNER TO fund_owner;

--
-- Name: account account_id; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.account ALTER COLUMN account_id SET DEFAULT nextval('fl.account_account_id_seq'::regclass);


--
-- Name: alloc_queue queue_id; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.alloc_queue ALTER COLUMN queue_id SET DEFAULT nextval('fl.alloc_queue_queue_id_seq'::regclass);


--
-- Name: allocation allocation_id; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.allocation ALTER COLUMN allocation_id SET DEFAULT nextval('fl.allocation_allocation_id_seq'::regclass);


--
-- Name: contribution seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.contribution ALTER COLUMN seq SET DEFAULT nextval('fl.contribution_seq_seq'::regclass);


--
-- Name: correction seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.correction ALTER COLUMN seq SET DEFAULT nextval('fl.correction_seq_seq'::regclass);


--
-- Name: disbursement seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.disbursement ALTER COLUMN seq SET DEFAULT nextval('fl.disbursement_seq_seq'::regclass);


--
-- Name: document seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.document ALTER COLUMN seq SET DEFAULT nextval('fl.document_seq_seq'::regclass);


--
-- Name: erasure seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.erasure ALTER COLUMN seq SET DEFAULT nextval('fl.erasure_seq_seq'::regclass);


--
-- Name: fund_delta delta_id; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.fund_delta ALTER COLUMN delta_id SET DEFAULT nextval('fl.fund_delta_delta_id_seq'::regclass);


--
-- Name: grant_application seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_application ALTER COLUMN seq SET DEFAULT nextval('fl.grant_application_seq_seq'::regclass);


--
-- Name: journal_entry entry_id; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.journal_entry ALTER COLUMN entry_id SET DEFAULT nextval('fl.journal_entry_entry_id_seq'::regclass);


--
-- Name: milestone seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.milestone ALTER COLUMN seq SET DEFAULT nextval('fl.milestone_seq_seq'::regclass);


--
-- Name: milestone_event seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.milestone_event ALTER COLUMN seq SET DEFAULT nextval('fl.milestone_event_seq_seq'::regclass);


--
-- Name: partner seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.partner ALTER COLUMN seq SET DEFAULT nextval('fl.partner_seq_seq'::regclass);


--
-- Name: pledge_receipt seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.pledge_receipt ALTER COLUMN seq SET DEFAULT nextval('fl.pledge_receipt_seq_seq'::regclass);


--
-- Name: principal seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal ALTER COLUMN seq SET DEFAULT nextval('fl.principal_seq_seq'::regclass);


--
-- Name: principal_conflict seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal_conflict ALTER COLUMN seq SET DEFAULT nextval('fl.principal_conflict_seq_seq'::regclass);


--
-- Name: refund seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.refund ALTER COLUMN seq SET DEFAULT nextval('fl.refund_seq_seq'::regclass);


--
-- Name: returnee seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.returnee ALTER COLUMN seq SET DEFAULT nextval('fl.returnee_seq_seq'::regclass);


--
-- Name: returnee_consent seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.returnee_consent ALTER COLUMN seq SET DEFAULT nextval('fl.returnee_consent_seq_seq'::regclass);


--
-- Name: transfer seq; Type: DEFAULT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.transfer ALTER COLUMN seq SET DEFAULT nextval('fl.transfer_seq_seq'::regclass);


--
-- Name: account account_fund_code_short_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.account
    ADD CONSTRAINT account_fund_code_short_key UNIQUE (fund_code, short);


--
-- Name: account account_name_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.account
    ADD CONSTRAINT account_name_key UNIQUE (name);


--
-- Name: account account_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.account
    ADD CONSTRAINT account_pkey PRIMARY KEY (account_id);


--
-- Name: alloc_contribution alloc_contribution_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.alloc_contribution
    ADD CONSTRAINT alloc_contribution_pkey PRIMARY KEY (contribution_id);


--
-- Name: alloc_fund alloc_fund_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.alloc_fund
    ADD CONSTRAINT alloc_fund_pkey PRIMARY KEY (fund_code);


--
-- Name: alloc_queue alloc_queue_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.alloc_queue
    ADD CONSTRAINT alloc_queue_pkey PRIMARY KEY (queue_id);


--
-- Name: allocation allocation_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.allocation
    ADD CONSTRAINT allocation_pkey PRIMARY KEY (allocation_id);


--
-- Name: audit_chain audit_chain_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.audit_chain
    ADD CONSTRAINT audit_chain_pkey PRIMARY KEY (seq);


--
-- Name: audit_checkpoint audit_checkpoint_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.audit_checkpoint
    ADD CONSTRAINT audit_checkpoint_pkey PRIMARY KEY (seq);


--
-- Name: audit_event audit_event_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.audit_event
    ADD CONSTRAINT audit_event_pkey PRIMARY KEY (seq);


--
-- Name: audit_key audit_key_key_id_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.audit_key
    ADD CONSTRAINT audit_key_key_id_key UNIQUE (key_id);


--
-- Name: audit_key audit_key_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.audit_key
    ADD CONSTRAINT audit_key_pkey PRIMARY KEY (key_no);


--
-- Name: audit_key audit_key_public_key_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.audit_key
    ADD CONSTRAINT audit_key_public_key_key UNIQUE (public_key);


--
-- Name: audit_state audit_state_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.audit_state
    ADD CONSTRAINT audit_state_pkey PRIMARY KEY (one);


--
-- Name: contribution contribution_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.contribution
    ADD CONSTRAINT contribution_pkey PRIMARY KEY (contribution_id);


--
-- Name: contribution contribution_seq_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.contribution
    ADD CONSTRAINT contribution_seq_key UNIQUE (seq);


--
-- Name: correction correction_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.correction
    ADD CONSTRAINT correction_pkey PRIMARY KEY (seq);


--
-- Name: currency currency_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.currency
    ADD CONSTRAINT currency_pkey PRIMARY KEY (code);


--
-- Name: disbursement disbursement_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.disbursement
    ADD CONSTRAINT disbursement_pkey PRIMARY KEY (disbursement_id);


--
-- Name: disbursement disbursement_seq_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.disbursement
    ADD CONSTRAINT disbursement_seq_key UNIQUE (seq);


--
-- Name: document document_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.document
    ADD CONSTRAINT document_pkey PRIMARY KEY (document_id);


--
-- Name: document document_seq_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.document
    ADD CONSTRAINT document_seq_key UNIQUE (seq);


--
-- Name: document document_supersedes_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.document
    ADD CONSTRAINT document_supersedes_key UNIQUE (supersedes);


--
-- Name: erasure erasure_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.erasure
    ADD CONSTRAINT erasure_pkey PRIMARY KEY (erasure_id);


--
-- Name: erasure erasure_seq_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.erasure
    ADD CONSTRAINT erasure_seq_key UNIQUE (seq);


--
-- Name: fund_day fund_day_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.fund_day
    ADD CONSTRAINT fund_day_pkey PRIMARY KEY (fund_code, day);


--
-- Name: fund_delta fund_delta_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.fund_delta
    ADD CONSTRAINT fund_delta_pkey PRIMARY KEY (delta_id);


--
-- Name: fund_hour fund_hour_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.fund_hour
    ADD CONSTRAINT fund_hour_pkey PRIMARY KEY (fund_code, day, hour);


--
-- Name: fund fund_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.fund
    ADD CONSTRAINT fund_pkey PRIMARY KEY (code);


--
-- Name: grant_application grant_application_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_application
    ADD CONSTRAINT grant_application_pkey PRIMARY KEY (grant_id);


--
-- Name: grant_application grant_application_seq_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_application
    ADD CONSTRAINT grant_application_seq_key UNIQUE (seq);


--
-- Name: grant_decision grant_decision_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_decision
    ADD CONSTRAINT grant_decision_pkey PRIMARY KEY (grant_id, principal_id);


--
-- Name: grant_decision_withdrawn grant_decision_withdrawn_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_decision_withdrawn
    ADD CONSTRAINT grant_decision_withdrawn_pkey PRIMARY KEY (grant_id, principal_id, decided_at);


--
-- Name: grant_recusal grant_recusal_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_recusal
    ADD CONSTRAINT grant_recusal_pkey PRIMARY KEY (grant_id, principal_id);


--
-- Name: idempotency idempotency_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.idempotency
    ADD CONSTRAINT idempotency_pkey PRIMARY KEY (principal_id, key);


--
-- Name: journal_entry journal_entry_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.journal_entry
    ADD CONSTRAINT journal_entry_pkey PRIMARY KEY (entry_id);


--
-- Name: method method_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.method
    ADD CONSTRAINT method_pkey PRIMARY KEY (name);


--
-- Name: milestone_event milestone_event_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.milestone_event
    ADD CONSTRAINT milestone_event_pkey PRIMARY KEY (seq);


--
-- Name: milestone milestone_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.milestone
    ADD CONSTRAINT milestone_pkey PRIMARY KEY (milestone_id);


--
-- Name: milestone milestone_seq_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.milestone
    ADD CONSTRAINT milestone_seq_key UNIQUE (seq);


--
-- Name: partner partner_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.partner
    ADD CONSTRAINT partner_pkey PRIMARY KEY (partner_id);


--
-- Name: partner partner_seq_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.partner
    ADD CONSTRAINT partner_seq_key UNIQUE (seq);


--
-- Name: period_close period_close_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.period_close
    ADD CONSTRAINT period_close_pkey PRIMARY KEY (period_id);


--
-- Name: person_key person_key_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.person_key
    ADD CONSTRAINT person_key_pkey PRIMARY KEY (key_id);


--
-- Name: pledge_receipt pledge_receipt_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.pledge_receipt
    ADD CONSTRAINT pledge_receipt_pkey PRIMARY KEY (receipt_id);


--
-- Name: pledge_receipt pledge_receipt_seq_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.pledge_receipt
    ADD CONSTRAINT pledge_receipt_seq_key UNIQUE (seq);


--
-- Name: posting posting_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.posting
    ADD CONSTRAINT posting_pkey PRIMARY KEY (entry_id, seq);


--
-- Name: principal principal_cert_sha256_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal
    ADD CONSTRAINT principal_cert_sha256_key UNIQUE (cert_sha256);


--
-- Name: principal_conflict principal_conflict_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal_conflict
    ADD CONSTRAINT principal_conflict_pkey PRIMARY KEY (principal_id, returnee_id);


--
-- Name: principal_conflict principal_conflict_seq_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal_conflict
    ADD CONSTRAINT principal_conflict_seq_key UNIQUE (seq);


--
-- Name: principal principal_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal
    ADD CONSTRAINT principal_pkey PRIMARY KEY (principal_id);


--
-- Name: principal_seen principal_seen_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal_seen
    ADD CONSTRAINT principal_seen_pkey PRIMARY KEY (principal_id);


--
-- Name: principal principal_seq_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal
    ADD CONSTRAINT principal_seq_key UNIQUE (seq);


--
-- Name: principal principal_token_hash_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal
    ADD CONSTRAINT principal_token_hash_key UNIQUE (token_hash);


--
-- Name: refund refund_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.refund
    ADD CONSTRAINT refund_pkey PRIMARY KEY (refund_id);


--
-- Name: refund refund_seq_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.refund
    ADD CONSTRAINT refund_seq_key UNIQUE (seq);


--
-- Name: region region_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.region
    ADD CONSTRAINT region_pkey PRIMARY KEY (region_code);


--
-- Name: region region_region_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.region
    ADD CONSTRAINT region_region_key UNIQUE (region);


--
-- Name: returnee_consent returnee_consent_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.returnee_consent
    ADD CONSTRAINT returnee_consent_pkey PRIMARY KEY (seq);


--
-- Name: returnee returnee_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.returnee
    ADD CONSTRAINT returnee_pkey PRIMARY KEY (returnee_id);


--
-- Name: returnee returnee_seq_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.returnee
    ADD CONSTRAINT returnee_seq_key UNIQUE (seq);


--
-- Name: transfer transfer_pkey; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.transfer
    ADD CONSTRAINT transfer_pkey PRIMARY KEY (transfer_id);


--
-- Name: transfer transfer_seq_key; Type: CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.transfer
    ADD CONSTRAINT transfer_seq_key UNIQUE (seq);


--
-- Name: migration migration_pkey; Type: CONSTRAINT; Schema: fund_meta; Owner: fund_owner
--

ALTER TABLE ONLY fund_meta.migration
    ADD CONSTRAINT migration_pkey PRIMARY KEY (version);


--
-- Name: repeatable repeatable_pkey; Type: CONSTRAINT; Schema: fund_meta; Owner: fund_owner
--

ALTER TABLE ONLY fund_meta.repeatable
    ADD CONSTRAINT repeatable_pkey PRIMARY KEY (name);


--
-- Name: alloc_contribution_open; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX alloc_contribution_open ON fl.alloc_contribution USING btree (fund_code, received_at, contribution_id) WHERE (left_over > 0);


--
-- Name: alloc_contribution_order; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX alloc_contribution_order ON fl.alloc_contribution USING btree (fund_code, received_at, contribution_id);


--
-- Name: alloc_queue_fund; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX alloc_queue_fund ON fl.alloc_queue USING btree (fund_code, queue_id);


--
-- Name: allocation_contribution; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX allocation_contribution ON fl.allocation USING btree (contribution_id, entry_id) WHERE (contribution_id IS NOT NULL);


--
-- Name: allocation_entry; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX allocation_entry ON fl.allocation USING btree (fund_code, entry_id);


--
-- Name: allocation_unattributed; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX allocation_unattributed ON fl.allocation USING btree (fund_code, entry_id) WHERE (contribution_id IS NULL);


--
-- Name: audit_event_access; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX audit_event_access ON fl.audit_event USING btree (object_id, seq) WHERE (purpose IS NOT NULL);


--
-- Name: audit_key_from_seq; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX audit_key_from_seq ON fl.audit_key USING btree (from_seq);


--
-- Name: contribution_fund; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX contribution_fund ON fl.contribution USING btree (fund_code, seq);


--
-- Name: contribution_gift; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX contribution_gift ON fl.contribution USING btree (partner_id, received_at) WHERE ((pledged_at IS NULL) AND ((status)::text = 'received'::text));


--
-- Name: contribution_partner; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX contribution_partner ON fl.contribution USING btree (partner_id, seq);


--
-- Name: contribution_pledge_partner; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX contribution_pledge_partner ON fl.contribution USING btree (partner_id) WHERE (pledged_at IS NOT NULL);


--
-- Name: contribution_reversed; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX contribution_reversed ON fl.contribution USING btree (fund_code) WHERE (reversal_entry IS NOT NULL);


--
-- Name: correction_object; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX correction_object ON fl.correction USING btree (object_kind, object_id, seq);


--
-- Name: disbursement_grant; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX disbursement_grant ON fl.disbursement USING btree (grant_id, seq);


--
-- Name: disbursement_milestone_live; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE UNIQUE INDEX disbursement_milestone_live ON fl.disbursement USING btree (milestone_id) WHERE ((milestone_id IS NOT NULL) AND (status = ANY (ARRAY['pending'::text, 'paid'::text])));


--
-- Name: disbursement_pending; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX disbursement_pending ON fl.disbursement USING btree (seq) WHERE (status = 'pending'::text);


--
-- Name: disbursement_retry_of; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE UNIQUE INDEX disbursement_retry_of ON fl.disbursement USING btree (retry_of) WHERE (retry_of IS NOT NULL);


--
-- Name: erasure_pending; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE UNIQUE INDEX erasure_pending ON fl.erasure USING btree (returnee_id) WHERE (status = 'pending'::text);


--
-- Name: fund_delta_fund; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX fund_delta_fund ON fl.fund_delta USING btree (fund_code, delta_id);


--
-- Name: grant_created; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX grant_created ON fl.grant_application USING btree (created_at);


--
-- Name: grant_decided; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX grant_decided ON fl.grant_application USING btree (decided_at) WHERE (decided_at IS NOT NULL);


--
-- Name: grant_decision_principal; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX grant_decision_principal ON fl.grant_decision USING btree (principal_id, grant_id);


--
-- Name: grant_fund; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX grant_fund ON fl.grant_application USING btree (fund_code, seq);


--
-- Name: grant_recusal_principal; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX grant_recusal_principal ON fl.grant_recusal USING btree (principal_id, grant_id);


--
-- Name: grant_report; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX grant_report ON fl.grant_application USING btree (fund_code, created_at) INCLUDE (region, category, status, returnee_id, amount, committed, disbursed, decided_at, first_paid_at);


--
-- Name: grant_returnee; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX grant_returnee ON fl.grant_application USING btree (returnee_id, seq);


--
-- Name: grant_status; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX grant_status ON fl.grant_application USING btree (status, seq);


--
-- Name: grant_submitted; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX grant_submitted ON fl.grant_application USING btree (seq) WHERE (status = 'submitted'::text);


--
-- Name: idempotency_created_at; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX idempotency_created_at ON fl.idempotency USING btree (created_at);


--
-- Name: journal_entry_at; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX journal_entry_at ON fl.journal_entry USING btree (at, entry_id);


--
-- Name: journal_entry_value_at; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX journal_entry_value_at ON fl.journal_entry USING btree (value_at, entry_id);


--
-- Name: milestone_due; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX milestone_due ON fl.milestone USING btree (due_on, seq) WHERE (status <> 'accepted'::text);


--
-- Name: milestone_event_milestone; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX milestone_event_milestone ON fl.milestone_event USING btree (milestone_id, seq);


--
-- Name: milestone_grant; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX milestone_grant ON fl.milestone USING btree (grant_id, seq);


--
-- Name: partner_name_key; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX partner_name_key ON fl.partner USING btree (name_key text_pattern_ops, seq);


--
-- Name: period_close_confirmed; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE UNIQUE INDEX period_close_confirmed ON fl.period_close USING btree (until) WHERE (status = 'confirmed'::text);


--
-- Name: period_close_one_pending; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE UNIQUE INDEX period_close_one_pending ON fl.period_close USING btree ((true)) WHERE (status = 'pending'::text);


--
-- Name: person_key_kek; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX person_key_kek ON fl.person_key USING btree (kek_id);


--
-- Name: person_key_returnee; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX person_key_returnee ON fl.person_key USING btree (returnee_id);


--
-- Name: pledge_receipt_contribution; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX pledge_receipt_contribution ON fl.pledge_receipt USING btree (contribution_id, seq);


--
-- Name: pledge_receipt_fund; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX pledge_receipt_fund ON fl.pledge_receipt USING btree (fund_code, received_at, receipt_id);


--
-- Name: posting_account; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX posting_account ON fl.posting USING btree (account_id, entry_id);


--
-- Name: principal_conflict_returnee; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX principal_conflict_returnee ON fl.principal_conflict USING btree (returnee_id);


--
-- Name: refund_disbursement; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX refund_disbursement ON fl.refund USING btree (disbursement_id, seq);


--
-- Name: refund_grant; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX refund_grant ON fl.refund USING btree (grant_id, seq);


--
-- Name: returnee_consent_returnee; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX returnee_consent_returnee ON fl.returnee_consent USING btree (returnee_id, seq);


--
-- Name: returnee_name_index; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX returnee_name_index ON fl.returnee USING btree (name_index, seq) WHERE (name_index IS NOT NULL);


--
-- Name: returnee_national_index; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE UNIQUE INDEX returnee_national_index ON fl.returnee USING btree (national_index) WHERE (national_index IS NOT NULL);


--
-- Name: returnee_region; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX returnee_region ON fl.returnee USING btree (region, seq);


--
-- Name: transfer_from; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX transfer_from ON fl.transfer USING btree (from_fund, seq);


--
-- Name: transfer_to; Type: INDEX; Schema: fl; Owner: fund_owner
--

CREATE INDEX transfer_to ON fl.transfer USING btree (to_fund, seq);


--
-- Name: account account_append_only; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER account_append_only BEFORE DELETE OR UPDATE ON fl.account FOR EACH ROW EXECUTE FUNCTION fl.append_only();


--
-- Name: account account_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER account_no_truncate BEFORE TRUNCATE ON fl.account FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: audit_chain audit_chain_append_only; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER audit_chain_append_only BEFORE DELETE OR UPDATE ON fl.audit_chain FOR EACH ROW EXECUTE FUNCTION fl.append_only();


--
-- Name: audit_chain audit_chain_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON fl.audit_chain FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: audit_checkpoint audit_checkpoint_append_only; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER audit_checkpoint_append_only BEFORE DELETE OR UPDATE ON fl.audit_checkpoint FOR EACH ROW EXECUTE FUNCTION fl.append_only();


--
-- Name: audit_checkpoint audit_checkpoint_key_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER audit_checkpoint_key_guard BEFORE INSERT ON fl.audit_checkpoint FOR EACH ROW EXECUTE FUNCTION fl.audit_checkpoint_key_guard();


--
-- Name: audit_checkpoint audit_checkpoint_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON fl.audit_checkpoint FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: audit_event audit_event_append_only; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER audit_event_append_only BEFORE DELETE OR UPDATE ON fl.audit_event FOR EACH ROW EXECUTE FUNCTION fl.append_only();


--
-- Name: audit_event audit_event_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON fl.audit_event FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: audit_key audit_key_append_only; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER audit_key_append_only BEFORE DELETE OR UPDATE ON fl.audit_key FOR EACH ROW EXECUTE FUNCTION fl.append_only();


--
-- Name: audit_key audit_key_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER audit_key_guard BEFORE INSERT ON fl.audit_key FOR EACH ROW EXECUTE FUNCTION fl.audit_key_guard();


--
-- Name: audit_key audit_key_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER audit_key_no_truncate BEFORE TRUNCATE ON fl.audit_key FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: contribution contribution_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER contribution_guard BEFORE DELETE OR UPDATE ON fl.contribution FOR EACH ROW EXECUTE FUNCTION fl.contribution_guard();


--
-- Name: correction correction_append_only; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER correction_append_only BEFORE DELETE OR UPDATE ON fl.correction FOR EACH ROW EXECUTE FUNCTION fl.append_only();


--
-- Name: correction correction_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER correction_no_truncate BEFORE TRUNCATE ON fl.correction FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: disbursement disbursement_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER disbursement_guard BEFORE DELETE OR UPDATE ON fl.disbursement FOR EACH ROW EXECUTE FUNCTION fl.disbursement_guard();


--
-- Name: disbursement disbursement_insert_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER disbursement_insert_guard BEFORE INSERT ON fl.disbursement FOR EACH ROW EXECUTE FUNCTION fl.disbursement_insert_guard();


--
-- Name: document document_append_only; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER document_append_only BEFORE DELETE OR UPDATE ON fl.document FOR EACH ROW EXECUTE FUNCTION fl.append_only();


--
-- Name: document document_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER document_no_truncate BEFORE TRUNCATE ON fl.document FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: erasure erasure_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER erasure_guard BEFORE DELETE OR UPDATE ON fl.erasure FOR EACH ROW EXECUTE FUNCTION fl.erasure_guard();


--
-- Name: erasure erasure_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER erasure_no_truncate BEFORE TRUNCATE ON fl.erasure FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: fund_delta fund_delta_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER fund_delta_guard BEFORE INSERT OR UPDATE OR TRUNCATE ON fl.fund_delta FOR EACH STATEMENT EXECUTE FUNCTION fl.fund_delta_guard();


--
-- Name: fund fund_insert_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER fund_insert_guard BEFORE INSERT ON fl.fund FOR EACH ROW EXECUTE FUNCTION fl.fund_insert_guard();


--
-- Name: grant_application grant_approval_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER grant_approval_guard BEFORE UPDATE ON fl.grant_application FOR EACH ROW WHEN (((new.status = 'approved'::text) AND (old.status <> 'approved'::text))) EXECUTE FUNCTION fl.grant_rule_guard();


--
-- Name: grant_application grant_correction; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER grant_correction AFTER UPDATE ON fl.grant_application FOR EACH ROW EXECUTE FUNCTION fl.correction_record('grant', 'grant_id', 'amount', 'category', 'purpose', 'approvals_needed');


--
-- Name: grant_decision grant_decision_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER grant_decision_guard BEFORE INSERT ON fl.grant_decision FOR EACH ROW EXECUTE FUNCTION fl.grant_decision_guard();


--
-- Name: grant_decision grant_decision_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER grant_decision_no_truncate BEFORE TRUNCATE ON fl.grant_decision FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: grant_decision grant_decision_withdraw_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER grant_decision_withdraw_guard BEFORE DELETE OR UPDATE ON fl.grant_decision FOR EACH ROW EXECUTE FUNCTION fl.grant_decision_withdraw_guard();


--
-- Name: grant_application grant_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER grant_guard BEFORE DELETE OR UPDATE ON fl.grant_application FOR EACH ROW EXECUTE FUNCTION fl.grant_guard();


--
-- Name: grant_application grant_insert_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER grant_insert_guard BEFORE INSERT ON fl.grant_application FOR EACH ROW EXECUTE FUNCTION fl.grant_rule_guard();


--
-- Name: grant_recusal grant_recusal_append_only; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER grant_recusal_append_only BEFORE DELETE OR UPDATE ON fl.grant_recusal FOR EACH ROW EXECUTE FUNCTION fl.append_only();


--
-- Name: grant_recusal grant_recusal_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER grant_recusal_no_truncate BEFORE TRUNCATE ON fl.grant_recusal FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: journal_entry journal_entry_alloc_queue; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER journal_entry_alloc_queue AFTER INSERT ON fl.journal_entry REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION fl.alloc_enqueue();


--
-- Name: journal_entry journal_entry_append_only; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER journal_entry_append_only BEFORE DELETE OR UPDATE ON fl.journal_entry FOR EACH ROW EXECUTE FUNCTION fl.append_only();


--
-- Name: journal_entry journal_entry_commit; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE CONSTRAINT TRIGGER journal_entry_commit AFTER INSERT ON fl.journal_entry DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fl.entry_commit();


--
-- Name: journal_entry journal_entry_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER journal_entry_no_truncate BEFORE TRUNCATE ON fl.journal_entry FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: journal_entry journal_entry_period; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER journal_entry_period AFTER INSERT ON fl.journal_entry REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION fl.period_guard();


--
-- Name: partner partner_correction; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER partner_correction AFTER UPDATE ON fl.partner FOR EACH ROW EXECUTE FUNCTION fl.correction_record('partner', 'partner_id', 'name', 'country', 'kind', 'email');


--
-- Name: partner partner_identity; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER partner_identity BEFORE UPDATE ON fl.partner FOR EACH ROW EXECUTE FUNCTION fl.identity_guard('partner_id', 'seq', 'created_at', 'created_by');


--
-- Name: partner partner_name_key; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER partner_name_key BEFORE INSERT OR UPDATE OF name ON fl.partner FOR EACH ROW EXECUTE FUNCTION fl.name_key_set('name');


--
-- Name: period_close period_close_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER period_close_guard BEFORE DELETE OR UPDATE ON fl.period_close FOR EACH ROW EXECUTE FUNCTION fl.period_close_guard();


--
-- Name: period_close period_close_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER period_close_no_truncate BEFORE TRUNCATE ON fl.period_close FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: person_key person_key_erased_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER person_key_erased_guard BEFORE INSERT ON fl.person_key FOR EACH ROW EXECUTE FUNCTION fl.returnee_erased_guard();


--
-- Name: person_key person_key_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER person_key_guard BEFORE DELETE OR UPDATE ON fl.person_key FOR EACH ROW EXECUTE FUNCTION fl.person_key_guard();


--
-- Name: person_key person_key_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER person_key_no_truncate BEFORE TRUNCATE ON fl.person_key FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: pledge_receipt pledge_receipt_append_only; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER pledge_receipt_append_only BEFORE DELETE OR UPDATE ON fl.pledge_receipt FOR EACH ROW EXECUTE FUNCTION fl.append_only();


--
-- Name: pledge_receipt pledge_receipt_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER pledge_receipt_guard BEFORE INSERT ON fl.pledge_receipt FOR EACH ROW EXECUTE FUNCTION fl.pledge_receipt_guard();


--
-- Name: pledge_receipt pledge_receipt_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER pledge_receipt_no_truncate BEFORE TRUNCATE ON fl.pledge_receipt FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: posting posting_append_only; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER posting_append_only BEFORE DELETE OR UPDATE ON fl.posting FOR EACH ROW EXECUTE FUNCTION fl.append_only();


--
-- Name: posting posting_fund_delta; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER posting_fund_delta AFTER INSERT ON fl.posting REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION fl.posting_fund_delta();


--
-- Name: posting posting_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER posting_guard AFTER INSERT ON fl.posting REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION fl.posting_guard_rows();


--
-- Name: posting posting_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER posting_no_truncate BEFORE TRUNCATE ON fl.posting FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: principal_conflict principal_conflict_append_only; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER principal_conflict_append_only BEFORE DELETE OR UPDATE ON fl.principal_conflict FOR EACH ROW EXECUTE FUNCTION fl.append_only();


--
-- Name: principal_conflict principal_conflict_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER principal_conflict_no_truncate BEFORE TRUNCATE ON fl.principal_conflict FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: principal principal_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER principal_guard BEFORE INSERT OR DELETE OR UPDATE ON fl.principal FOR EACH ROW EXECUTE FUNCTION fl.principal_guard();


--
-- Name: principal principal_notify; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER principal_notify AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON fl.principal FOR EACH STATEMENT EXECUTE FUNCTION fl.principal_notify();


--
-- Name: refund refund_append_only; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER refund_append_only BEFORE DELETE OR UPDATE ON fl.refund FOR EACH ROW EXECUTE FUNCTION fl.append_only();


--
-- Name: refund refund_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER refund_guard BEFORE INSERT ON fl.refund FOR EACH ROW EXECUTE FUNCTION fl.refund_guard();


--
-- Name: refund refund_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER refund_no_truncate BEFORE TRUNCATE ON fl.refund FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: returnee returnee_correction; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER returnee_correction AFTER UPDATE ON fl.returnee FOR EACH ROW WHEN ((new.erased_at IS NULL)) EXECUTE FUNCTION fl.correction_record('returnee', 'returnee_id', 'full_name_sealed', 'region', 'returned_from', 'returned_on', 'gender_sealed', 'birth_year_sealed', 'national_id_sealed', 'contact_sealed', 'notes_sealed', 'kind');


--
-- Name: returnee returnee_erased_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER returnee_erased_guard BEFORE UPDATE ON fl.returnee FOR EACH ROW EXECUTE FUNCTION fl.returnee_erased_guard();


--
-- Name: returnee returnee_identity; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER returnee_identity BEFORE UPDATE ON fl.returnee FOR EACH ROW EXECUTE FUNCTION fl.identity_guard('returnee_id', 'seq', 'created_at', 'created_by');


--
-- Name: transfer transfer_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER transfer_guard BEFORE DELETE OR UPDATE ON fl.transfer FOR EACH ROW EXECUTE FUNCTION fl.transfer_guard();


--
-- Name: transfer transfer_insert_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER transfer_insert_guard BEFORE INSERT ON fl.transfer FOR EACH ROW EXECUTE FUNCTION fl.transfer_insert_guard();


--
-- Name: grant_decision_withdrawn withdrawn_guard; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER withdrawn_guard BEFORE DELETE OR UPDATE ON fl.grant_decision_withdrawn FOR EACH ROW EXECUTE FUNCTION fl.withdrawn_guard();


--
-- Name: grant_decision_withdrawn withdrawn_no_truncate; Type: TRIGGER; Schema: fl; Owner: fund_owner
--

CREATE TRIGGER withdrawn_no_truncate BEFORE TRUNCATE ON fl.grant_decision_withdrawn FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();


--
-- Name: account account_currency_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.account
    ADD CONSTRAINT account_currency_fkey FOREIGN KEY (currency) REFERENCES fl.currency(code);


--
-- Name: account account_fund_code_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.account
    ADD CONSTRAINT account_fund_code_fkey FOREIGN KEY (fund_code) REFERENCES fl.fund(code);


--
-- Name: alloc_contribution alloc_contribution_fund_code_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.alloc_contribution
    ADD CONSTRAINT alloc_contribution_fund_code_fkey FOREIGN KEY (fund_code) REFERENCES fl.alloc_fund(fund_code);


--
-- Name: alloc_fund alloc_fund_fund_code_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.alloc_fund
    ADD CONSTRAINT alloc_fund_fund_code_fkey FOREIGN KEY (fund_code) REFERENCES fl.fund(code);


--
-- Name: allocation allocation_contribution_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.allocation
    ADD CONSTRAINT allocation_contribution_id_fkey FOREIGN KEY (contribution_id) REFERENCES fl.alloc_contribution(contribution_id);


--
-- Name: allocation allocation_fund_code_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.allocation
    ADD CONSTRAINT allocation_fund_code_fkey FOREIGN KEY (fund_code) REFERENCES fl.alloc_fund(fund_code);


--
-- Name: audit_key audit_key_signed_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.audit_key
    ADD CONSTRAINT audit_key_signed_by_fkey FOREIGN KEY (signed_by) REFERENCES fl.audit_key(key_no);


--
-- Name: contribution contribution_created_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.contribution
    ADD CONSTRAINT contribution_created_by_fkey FOREIGN KEY (created_by) REFERENCES fl.principal(principal_id);


--
-- Name: contribution contribution_currency_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.contribution
    ADD CONSTRAINT contribution_currency_fkey FOREIGN KEY (currency) REFERENCES fl.currency(code);


--
-- Name: contribution contribution_earmark_region_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.contribution
    ADD CONSTRAINT contribution_earmark_region_fkey FOREIGN KEY (earmark_region) REFERENCES fl.region(region_code);


--
-- Name: contribution contribution_fund_code_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.contribution
    ADD CONSTRAINT contribution_fund_code_fkey FOREIGN KEY (fund_code) REFERENCES fl.fund(code);


--
-- Name: contribution contribution_partner_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.contribution
    ADD CONSTRAINT contribution_partner_id_fkey FOREIGN KEY (partner_id) REFERENCES fl.partner(partner_id);


--
-- Name: contribution contribution_reversal_entry_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.contribution
    ADD CONSTRAINT contribution_reversal_entry_fkey FOREIGN KEY (reversal_entry) REFERENCES fl.journal_entry(entry_id);


--
-- Name: contribution contribution_reversed_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.contribution
    ADD CONSTRAINT contribution_reversed_by_fkey FOREIGN KEY (reversed_by) REFERENCES fl.principal(principal_id);


--
-- Name: correction correction_principal_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.correction
    ADD CONSTRAINT correction_principal_id_fkey FOREIGN KEY (principal_id) REFERENCES fl.principal(principal_id);


--
-- Name: disbursement disbursement_created_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.disbursement
    ADD CONSTRAINT disbursement_created_by_fkey FOREIGN KEY (created_by) REFERENCES fl.principal(principal_id);


--
-- Name: disbursement disbursement_decided_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.disbursement
    ADD CONSTRAINT disbursement_decided_by_fkey FOREIGN KEY (decided_by) REFERENCES fl.principal(principal_id);


--
-- Name: disbursement disbursement_grant_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.disbursement
    ADD CONSTRAINT disbursement_grant_id_fkey FOREIGN KEY (grant_id) REFERENCES fl.grant_application(grant_id);


--
-- Name: disbursement disbursement_milestone_fk; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.disbursement
    ADD CONSTRAINT disbursement_milestone_fk FOREIGN KEY (milestone_id) REFERENCES fl.milestone(milestone_id);


--
-- Name: disbursement disbursement_retry_of_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.disbursement
    ADD CONSTRAINT disbursement_retry_of_fkey FOREIGN KEY (retry_of) REFERENCES fl.disbursement(disbursement_id);


--
-- Name: document document_created_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.document
    ADD CONSTRAINT document_created_by_fkey FOREIGN KEY (created_by) REFERENCES fl.principal(principal_id);


--
-- Name: document document_supersedes_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.document
    ADD CONSTRAINT document_supersedes_fkey FOREIGN KEY (supersedes) REFERENCES fl.document(document_id);


--
-- Name: erasure erasure_decided_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.erasure
    ADD CONSTRAINT erasure_decided_by_fkey FOREIGN KEY (decided_by) REFERENCES fl.principal(principal_id);


--
-- Name: erasure erasure_requested_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.erasure
    ADD CONSTRAINT erasure_requested_by_fkey FOREIGN KEY (requested_by) REFERENCES fl.principal(principal_id);


--
-- Name: erasure erasure_returnee_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.erasure
    ADD CONSTRAINT erasure_returnee_id_fkey FOREIGN KEY (returnee_id) REFERENCES fl.returnee(returnee_id);


--
-- Name: fund fund_created_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.fund
    ADD CONSTRAINT fund_created_by_fkey FOREIGN KEY (created_by) REFERENCES fl.principal(principal_id);


--
-- Name: fund fund_currency_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.fund
    ADD CONSTRAINT fund_currency_fkey FOREIGN KEY (currency) REFERENCES fl.currency(code);


--
-- Name: fund_day fund_day_fund_code_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.fund_day
    ADD CONSTRAINT fund_day_fund_code_fkey FOREIGN KEY (fund_code) REFERENCES fl.fund(code);


--
-- Name: fund_hour fund_hour_fund_code_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.fund_hour
    ADD CONSTRAINT fund_hour_fund_code_fkey FOREIGN KEY (fund_code) REFERENCES fl.fund(code);


--
-- Name: grant_application grant_application_created_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_application
    ADD CONSTRAINT grant_application_created_by_fkey FOREIGN KEY (created_by) REFERENCES fl.principal(principal_id);


--
-- Name: grant_application grant_application_fund_code_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_application
    ADD CONSTRAINT grant_application_fund_code_fkey FOREIGN KEY (fund_code) REFERENCES fl.fund(code);


--
-- Name: grant_application grant_application_region_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_application
    ADD CONSTRAINT grant_application_region_fkey FOREIGN KEY (region) REFERENCES fl.region(region_code);


--
-- Name: grant_application grant_application_returnee_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_application
    ADD CONSTRAINT grant_application_returnee_id_fkey FOREIGN KEY (returnee_id) REFERENCES fl.returnee(returnee_id);


--
-- Name: grant_decision grant_decision_grant_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_decision
    ADD CONSTRAINT grant_decision_grant_id_fkey FOREIGN KEY (grant_id) REFERENCES fl.grant_application(grant_id);


--
-- Name: grant_decision grant_decision_principal_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_decision
    ADD CONSTRAINT grant_decision_principal_id_fkey FOREIGN KEY (principal_id) REFERENCES fl.principal(principal_id);


--
-- Name: grant_decision_withdrawn grant_decision_withdrawn_correction_seq_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_decision_withdrawn
    ADD CONSTRAINT grant_decision_withdrawn_correction_seq_fkey FOREIGN KEY (correction_seq) REFERENCES fl.correction(seq);


--
-- Name: grant_decision_withdrawn grant_decision_withdrawn_grant_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_decision_withdrawn
    ADD CONSTRAINT grant_decision_withdrawn_grant_id_fkey FOREIGN KEY (grant_id) REFERENCES fl.grant_application(grant_id);


--
-- Name: grant_decision_withdrawn grant_decision_withdrawn_principal_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_decision_withdrawn
    ADD CONSTRAINT grant_decision_withdrawn_principal_id_fkey FOREIGN KEY (principal_id) REFERENCES fl.principal(principal_id);


--
-- Name: grant_recusal grant_recusal_grant_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_recusal
    ADD CONSTRAINT grant_recusal_grant_id_fkey FOREIGN KEY (grant_id) REFERENCES fl.grant_application(grant_id);


--
-- Name: grant_recusal grant_recusal_principal_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.grant_recusal
    ADD CONSTRAINT grant_recusal_principal_id_fkey FOREIGN KEY (principal_id) REFERENCES fl.principal(principal_id);


--
-- Name: idempotency idempotency_principal_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.idempotency
    ADD CONSTRAINT idempotency_principal_id_fkey FOREIGN KEY (principal_id) REFERENCES fl.principal(principal_id);


--
-- Name: journal_entry journal_entry_fund_code_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.journal_entry
    ADD CONSTRAINT journal_entry_fund_code_fkey FOREIGN KEY (fund_code) REFERENCES fl.fund(code);


--
-- Name: journal_entry journal_entry_principal_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.journal_entry
    ADD CONSTRAINT journal_entry_principal_id_fkey FOREIGN KEY (principal_id) REFERENCES fl.principal(principal_id);


--
-- Name: milestone milestone_created_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.milestone
    ADD CONSTRAINT milestone_created_by_fkey FOREIGN KEY (created_by) REFERENCES fl.principal(principal_id);


--
-- Name: milestone milestone_decided_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.milestone
    ADD CONSTRAINT milestone_decided_by_fkey FOREIGN KEY (decided_by) REFERENCES fl.principal(principal_id);


--
-- Name: milestone_event milestone_event_milestone_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.milestone_event
    ADD CONSTRAINT milestone_event_milestone_id_fkey FOREIGN KEY (milestone_id) REFERENCES fl.milestone(milestone_id);


--
-- Name: milestone_event milestone_event_principal_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.milestone_event
    ADD CONSTRAINT milestone_event_principal_id_fkey FOREIGN KEY (principal_id) REFERENCES fl.principal(principal_id);


--
-- Name: milestone milestone_grant_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.milestone
    ADD CONSTRAINT milestone_grant_id_fkey FOREIGN KEY (grant_id) REFERENCES fl.grant_application(grant_id);


--
-- Name: milestone milestone_submitted_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.milestone
    ADD CONSTRAINT milestone_submitted_by_fkey FOREIGN KEY (submitted_by) REFERENCES fl.principal(principal_id);


--
-- Name: partner partner_created_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.partner
    ADD CONSTRAINT partner_created_by_fkey FOREIGN KEY (created_by) REFERENCES fl.principal(principal_id);


--
-- Name: period_close period_close_decided_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.period_close
    ADD CONSTRAINT period_close_decided_by_fkey FOREIGN KEY (decided_by) REFERENCES fl.principal(principal_id);


--
-- Name: period_close period_close_requested_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.period_close
    ADD CONSTRAINT period_close_requested_by_fkey FOREIGN KEY (requested_by) REFERENCES fl.principal(principal_id);


--
-- Name: person_key person_key_returnee_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.person_key
    ADD CONSTRAINT person_key_returnee_id_fkey FOREIGN KEY (returnee_id) REFERENCES fl.returnee(returnee_id);


--
-- Name: pledge_receipt pledge_receipt_contribution_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.pledge_receipt
    ADD CONSTRAINT pledge_receipt_contribution_id_fkey FOREIGN KEY (contribution_id) REFERENCES fl.contribution(contribution_id);


--
-- Name: pledge_receipt pledge_receipt_created_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.pledge_receipt
    ADD CONSTRAINT pledge_receipt_created_by_fkey FOREIGN KEY (created_by) REFERENCES fl.principal(principal_id);


--
-- Name: pledge_receipt pledge_receipt_fund_code_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.pledge_receipt
    ADD CONSTRAINT pledge_receipt_fund_code_fkey FOREIGN KEY (fund_code) REFERENCES fl.fund(code);


--
-- Name: principal principal_confirmed_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal
    ADD CONSTRAINT principal_confirmed_by_fkey FOREIGN KEY (confirmed_by) REFERENCES fl.principal(principal_id);


--
-- Name: principal_conflict principal_conflict_declared_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal_conflict
    ADD CONSTRAINT principal_conflict_declared_by_fkey FOREIGN KEY (declared_by) REFERENCES fl.principal(principal_id);


--
-- Name: principal_conflict principal_conflict_principal_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal_conflict
    ADD CONSTRAINT principal_conflict_principal_id_fkey FOREIGN KEY (principal_id) REFERENCES fl.principal(principal_id);


--
-- Name: principal_conflict principal_conflict_returnee_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal_conflict
    ADD CONSTRAINT principal_conflict_returnee_id_fkey FOREIGN KEY (returnee_id) REFERENCES fl.returnee(returnee_id);


--
-- Name: principal principal_created_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal
    ADD CONSTRAINT principal_created_by_fkey FOREIGN KEY (created_by) REFERENCES fl.principal(principal_id);


--
-- Name: principal principal_partner_fk; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal
    ADD CONSTRAINT principal_partner_fk FOREIGN KEY (partner_id) REFERENCES fl.partner(partner_id);


--
-- Name: principal_seen principal_seen_principal_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.principal_seen
    ADD CONSTRAINT principal_seen_principal_id_fkey FOREIGN KEY (principal_id) REFERENCES fl.principal(principal_id);


--
-- Name: refund refund_created_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.refund
    ADD CONSTRAINT refund_created_by_fkey FOREIGN KEY (created_by) REFERENCES fl.principal(principal_id);


--
-- Name: refund refund_disbursement_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.refund
    ADD CONSTRAINT refund_disbursement_id_fkey FOREIGN KEY (disbursement_id) REFERENCES fl.disbursement(disbursement_id);


--
-- Name: refund refund_grant_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.refund
    ADD CONSTRAINT refund_grant_id_fkey FOREIGN KEY (grant_id) REFERENCES fl.grant_application(grant_id);


--
-- Name: returnee_consent returnee_consent_recorded_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.returnee_consent
    ADD CONSTRAINT returnee_consent_recorded_by_fkey FOREIGN KEY (recorded_by) REFERENCES fl.principal(principal_id);


--
-- Name: returnee_consent returnee_consent_returnee_id_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.returnee_consent
    ADD CONSTRAINT returnee_consent_returnee_id_fkey FOREIGN KEY (returnee_id) REFERENCES fl.returnee(returnee_id);


--
-- Name: returnee returnee_created_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.returnee
    ADD CONSTRAINT returnee_created_by_fkey FOREIGN KEY (created_by) REFERENCES fl.principal(principal_id);


--
-- Name: returnee returnee_region_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.returnee
    ADD CONSTRAINT returnee_region_fkey FOREIGN KEY (region) REFERENCES fl.region(region_code);


--
-- Name: transfer transfer_created_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.transfer
    ADD CONSTRAINT transfer_created_by_fkey FOREIGN KEY (created_by) REFERENCES fl.principal(principal_id);


--
-- Name: transfer transfer_decided_by_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.transfer
    ADD CONSTRAINT transfer_decided_by_fkey FOREIGN KEY (decided_by) REFERENCES fl.principal(principal_id);


--
-- Name: transfer transfer_from_fund_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.transfer
    ADD CONSTRAINT transfer_from_fund_fkey FOREIGN KEY (from_fund) REFERENCES fl.fund(code);


--
-- Name: transfer transfer_to_fund_fkey; Type: FK CONSTRAINT; Schema: fl; Owner: fund_owner
--

ALTER TABLE ONLY fl.transfer
    ADD CONSTRAINT transfer_to_fund_fkey FOREIGN KEY (to_fund) REFERENCES fl.fund(code);


--
-- Name: SCHEMA api; Type: ACL; Schema: -; Owner: fund_owner
--

GRANT USAGE ON SCHEMA api TO fundd_app;


--
-- Name: SCHEMA fl; Type: ACL; Schema: -; Owner: fund_owner
--

GRANT USAGE ON SCHEMA fl TO fundd_app;


--
-- Name: SCHEMA fund_meta; Type: ACL; Schema: -; Owner: fund_owner
--

GRANT USAGE ON SCHEMA fund_meta TO PUBLIC;


--
-- Name: FUNCTION access_record(p_token bytea[], p_cert bytea[], p_method text[], p_access jsonb[]); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.access_record(p_token bytea[], p_cert bytea[], p_method text[], p_access jsonb[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.access_record(p_token bytea[], p_cert bytea[], p_method text[], p_access jsonb[]) TO fundd_app;


--
-- Name: FUNCTION new_id(p_prefix text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.new_id(p_prefix text) FROM PUBLIC;


--
-- Name: FUNCTION audit_checkpoint(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.audit_checkpoint(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION audit_events(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.audit_events(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION audit_verify(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.audit_verify(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION authorize(p_token bytea, p_cert bytea, p_what text, p_reason text, p_params jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.authorize(p_token bytea, p_cert bytea, p_what text, p_reason text, p_params jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.authorize(p_token bytea, p_cert bytea, p_what text, p_reason text, p_params jsonb) TO fundd_app;


--
-- Name: FUNCTION call(p_token bytea, p_cert bytea, p_method text, p_params jsonb, p_idem text, p_ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.call(p_token bytea, p_cert bytea, p_method text, p_params jsonb, p_idem text, p_ctx jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.call(p_token bytea, p_cert bytea, p_method text, p_params jsonb, p_idem text, p_ctx jsonb) TO fundd_app;


--
-- Name: FUNCTION call_many(p_token bytea[], p_cert bytea[], p_method text[], p_params jsonb[], p_idem text[], p_ctx jsonb[]); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.call_many(p_token bytea[], p_cert bytea[], p_method text[], p_params jsonb[], p_idem text[], p_ctx jsonb[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.call_many(p_token bytea[], p_cert bytea[], p_method text[], p_params jsonb[], p_idem text[], p_ctx jsonb[]) TO fundd_app;


--
-- Name: FUNCTION contribution_cancel(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.contribution_cancel(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION contribution_get(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.contribution_get(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION contribution_list(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.contribution_list(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION contribution_pledge(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.contribution_pledge(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION contribution_receive(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.contribution_receive(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION contribution_reverse(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.contribution_reverse(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION contribution_status(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.contribution_status(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION contribution_write_off(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.contribution_write_off(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION disbursement_confirm(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.disbursement_confirm(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION disbursement_create(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.disbursement_create(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION disbursement_fail(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.disbursement_fail(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION disbursement_list(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.disbursement_list(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION disbursement_queue(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.disbursement_queue(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION disbursement_refund(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.disbursement_refund(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION document_download(p_token bytea, p_cert bytea, p_id text, OUT answer jsonb, OUT data bytea); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.document_download(p_token bytea, p_cert bytea, p_id text, OUT answer jsonb, OUT data bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION api.document_download(p_token bytea, p_cert bytea, p_id text, OUT answer jsonb, OUT data bytea) TO fundd_app;


--
-- Name: FUNCTION document_get(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.document_get(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION document_upload(p_token bytea, p_cert bytea, p_ctype text, p_data bytea, p_filename text, p_supersedes text, p_idem text); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.document_upload(p_token bytea, p_cert bytea, p_ctype text, p_data bytea, p_filename text, p_supersedes text, p_idem text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.document_upload(p_token bytea, p_cert bytea, p_ctype text, p_data bytea, p_filename text, p_supersedes text, p_idem text) TO fundd_app;


--
-- Name: FUNCTION fund_balance(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.fund_balance(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION fund_create(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.fund_create(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION fund_history(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.fund_history(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION fund_list(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.fund_list(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION fund_record_earnings(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.fund_record_earnings(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION fund_transfer(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.fund_transfer(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION fund_transfer_cancel(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.fund_transfer_cancel(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION fund_transfer_confirm(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.fund_transfer_confirm(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION fund_transfer_get(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.fund_transfer_get(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION fund_transfer_list(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.fund_transfer_list(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION grant_add_milestone(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.grant_add_milestone(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION grant_apply(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.grant_apply(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION grant_approve(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.grant_approve(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION grant_cancel(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.grant_cancel(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION grant_get(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.grant_get(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION grant_history(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.grant_history(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION grant_list(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.grant_list(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION grant_queue(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.grant_queue(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION grant_recuse(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.grant_recuse(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION grant_reject(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.grant_reject(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION grant_update(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.grant_update(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION grant_withdraw(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.grant_withdraw(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION ledger_entries(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.ledger_entries(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION ledger_trial_balance(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.ledger_trial_balance(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION milestone_accept(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.milestone_accept(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION milestone_get(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.milestone_get(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION milestone_list(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.milestone_list(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION milestone_reject(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.milestone_reject(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION milestone_submit(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.milestone_submit(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION partner_create(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.partner_create(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION partner_find(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.partner_find(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION partner_get(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.partner_get(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION partner_history(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.partner_history(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION partner_list(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.partner_list(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION partner_update(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.partner_update(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION period_close(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.period_close(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION period_close_confirm(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.period_close_confirm(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION period_close_drop(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.period_close_drop(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION period_close_get(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.period_close_get(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION period_closes(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.period_closes(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION principal_confirm(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.principal_confirm(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION principal_conflicts(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.principal_conflicts(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION principal_create(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.principal_create(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION principal_declare_conflict(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.principal_declare_conflict(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION principal_list(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.principal_list(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION principal_revoke(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.principal_revoke(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION principal_rotate_token(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.principal_rotate_token(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION privacy_due(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.privacy_due(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION region_list(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.region_list(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION report_contributions(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.report_contributions(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION report_grants(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.report_grants(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION report_pipeline(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.report_pipeline(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION returnee_access_log(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.returnee_access_log(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION returnee_erase(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.returnee_erase(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION returnee_erase_cancel(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.returnee_erase_cancel(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION returnee_erase_confirm(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.returnee_erase_confirm(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION returnee_export(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.returnee_export(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION returnee_find(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.returnee_find(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION returnee_get(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.returnee_get(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION returnee_history(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.returnee_history(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION returnee_list(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.returnee_list(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION returnee_register(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.returnee_register(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION returnee_update(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.returnee_update(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION system_version(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.system_version(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION system_whoami(p fl.principal, params jsonb, ctx jsonb); Type: ACL; Schema: api; Owner: fund_owner
--

REVOKE ALL ON FUNCTION api.system_whoami(p fl.principal, params jsonb, ctx jsonb) FROM PUBLIC;


--
-- Name: FUNCTION access_json(e fl.audit_event); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.access_json(e fl.audit_event) FROM PUBLIC;


--
-- Name: FUNCTION account_in(p_text text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.account_in(p_text text) FROM PUBLIC;


--
-- Name: FUNCTION alloc_catch_up(p_fund text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.alloc_catch_up(p_fund text) FROM PUBLIC;


--
-- Name: FUNCTION alloc_catch_up_all(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.alloc_catch_up_all() FROM PUBLIC;
GRANT ALL ON FUNCTION fl.alloc_catch_up_all() TO fundd_app;


--
-- Name: FUNCTION alloc_enqueue(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.alloc_enqueue() FROM PUBLIC;


--
-- Name: FUNCTION alloc_run(p_fund text, p_re bigint[], p_rg text[], p_rr text[], p_rn bigint[], p_at timestamp with time zone, p_id text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.alloc_run(p_fund text, p_re bigint[], p_rg text[], p_rr text[], p_rn bigint[], p_at timestamp with time zone, p_id text) FROM PUBLIC;


--
-- Name: FUNCTION append_only(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.append_only() FROM PUBLIC;


--
-- Name: FUNCTION apply_privileges(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.apply_privileges() FROM PUBLIC;


--
-- Name: FUNCTION approve_bulk(p_token bytea[], p_cert bytea[], p_roles text[], p_params jsonb[], p_idem text[]); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.approve_bulk(p_token bytea[], p_cert bytea[], p_roles text[], p_params jsonb[], p_idem text[]) FROM PUBLIC;


--
-- Name: FUNCTION audit_canonical(e fl.audit_event); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_canonical(e fl.audit_event) FROM PUBLIC;


--
-- Name: FUNCTION audit_chain(p_max integer); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_chain(p_max integer) FROM PUBLIC;
GRANT ALL ON FUNCTION fl.audit_chain(p_max integer) TO fundd_app;


--
-- Name: FUNCTION audit_checkpoint_add(p_seq bigint, p_head_hash text, p_signed_at text, p_signature text, p_public_key text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_checkpoint_add(p_seq bigint, p_head_hash text, p_signed_at text, p_signature text, p_public_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION fl.audit_checkpoint_add(p_seq bigint, p_head_hash text, p_signed_at text, p_signature text, p_public_key text) TO fundd_app;


--
-- Name: FUNCTION audit_checkpoint_due(p_public_key text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_checkpoint_due(p_public_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION fl.audit_checkpoint_due(p_public_key text) TO fundd_app;


--
-- Name: FUNCTION audit_checkpoint_key_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_checkpoint_key_guard() FROM PUBLIC;


--
-- Name: FUNCTION audit_event_json(e fl.audit_event, p_prev bytea, p_hash bytea); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_event_json(e fl.audit_event, p_prev bytea, p_hash bytea) FROM PUBLIC;


--
-- Name: FUNCTION audit_key_add(p_key_no integer, p_from_seq bigint, p_public_key text, p_introduced_at text, p_signature text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_key_add(p_key_no integer, p_from_seq bigint, p_public_key text, p_introduced_at text, p_signature text) FROM PUBLIC;


--
-- Name: FUNCTION audit_key_at(p_seq bigint); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_key_at(p_seq bigint) FROM PUBLIC;


--
-- Name: FUNCTION audit_key_first(p_public_key text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_key_first(p_public_key text) FROM PUBLIC;


--
-- Name: FUNCTION audit_key_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_key_guard() FROM PUBLIC;


--
-- Name: FUNCTION audit_key_id(p_raw bytea); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_key_id(p_raw bytea) FROM PUBLIC;


--
-- Name: FUNCTION audit_key_next(p_signer text, OUT key_no integer, OUT from_seq bigint, OUT introduced_at text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_key_next(p_signer text, OUT key_no integer, OUT from_seq bigint, OUT introduced_at text) FROM PUBLIC;


--
-- Name: FUNCTION audit_key_state(p_public_key text, OUT state text, OUT note text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_key_state(p_public_key text, OUT state text, OUT note text) FROM PUBLIC;


--
-- Name: FUNCTION audit_object(p_method text, p_params jsonb, p_res jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_object(p_method text, p_params jsonb, p_res jsonb) FROM PUBLIC;


--
-- Name: FUNCTION audit_record(p_principal text, p_method text, p_object text, p_code integer, p_reason text, p_params_sha256 bytea); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_record(p_principal text, p_method text, p_object text, p_code integer, p_reason text, p_params_sha256 bytea) FROM PUBLIC;


--
-- Name: FUNCTION audit_refused(p_principal text, p_method text, p_params jsonb, p_err jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.audit_refused(p_principal text, p_method text, p_params jsonb, p_err jsonb) FROM PUBLIC;


--
-- Name: FUNCTION authenticate(p_token bytea, p_cert bytea); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.authenticate(p_token bytea, p_cert bytea) FROM PUBLIC;


--
-- Name: FUNCTION basis_recorded(params jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.basis_recorded(params jsonb) FROM PUBLIC;


--
-- Name: FUNCTION bulk_callers(p_token bytea[], p_cert bytea[], p_roles text[]); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.bulk_callers(p_token bytea[], p_cert bytea[], p_roles text[]) FROM PUBLIC;


--
-- Name: FUNCTION bulk_claim_keys(p_pids text[], p_idem text[]); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.bulk_claim_keys(p_pids text[], p_idem text[]) FROM PUBLIC;


--
-- Name: FUNCTION bulk_method(p_method text, p_params jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.bulk_method(p_method text, p_params jsonb) FROM PUBLIC;


--
-- Name: FUNCTION bulk_record(p_method text, p_pids text[], p_idem text[], p_hash bytea[], p_res jsonb[]); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.bulk_record(p_method text, p_pids text[], p_idem text[], p_hash bytea[], p_res jsonb[]) FROM PUBLIC;


--
-- Name: FUNCTION charge_split(f fl.fund, p_amt bigint, p_capital bigint, p_field text, OUT v_income bigint, OUT v_capital bigint); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.charge_split(f fl.fund, p_amt bigint, p_capital bigint, p_field text, OUT v_income bigint, OUT v_capital bigint) FROM PUBLIC;


--
-- Name: FUNCTION conflict_json(c fl.principal_conflict); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.conflict_json(c fl.principal_conflict) FROM PUBLIC;


--
-- Name: FUNCTION consent_in(p_id text, p fl.principal, params jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.consent_in(p_id text, p fl.principal, params jsonb) FROM PUBLIC;


--
-- Name: FUNCTION consent_json(c fl.returnee_consent); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.consent_json(c fl.returnee_consent) FROM PUBLIC;


--
-- Name: FUNCTION consent_of(p_id text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.consent_of(p_id text) FROM PUBLIC;


--
-- Name: FUNCTION contribution_allocations(p_id text, p_fund text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.contribution_allocations(p_id text, p_fund text) FROM PUBLIC;


--
-- Name: FUNCTION contribution_get(p_id text, p_lock boolean); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.contribution_get(p_id text, p_lock boolean) FROM PUBLIC;


--
-- Name: FUNCTION contribution_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.contribution_guard() FROM PUBLIC;


--
-- Name: FUNCTION contribution_insert(c fl.contribution); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.contribution_insert(c fl.contribution) FROM PUBLIC;


--
-- Name: FUNCTION contribution_json(c fl.contribution, f fl.fund); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.contribution_json(c fl.contribution, f fl.fund) FROM PUBLIC;


--
-- Name: FUNCTION contribution_new(p fl.principal, params jsonb, f fl.fund, p_status text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.contribution_new(p fl.principal, params jsonb, f fl.fund, p_status text) FROM PUBLIC;


--
-- Name: FUNCTION correction_record(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.correction_record() FROM PUBLIC;


--
-- Name: FUNCTION cursor_in(p_cursor text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.cursor_in(p_cursor text) FROM PUBLIC;


--
-- Name: FUNCTION disbursement_get(p_id text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.disbursement_get(p_id text) FROM PUBLIC;


--
-- Name: FUNCTION disbursement_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.disbursement_guard() FROM PUBLIC;


--
-- Name: FUNCTION disbursement_insert_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.disbursement_insert_guard() FROM PUBLIC;


--
-- Name: FUNCTION disbursement_json(d fl.disbursement); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.disbursement_json(d fl.disbursement) FROM PUBLIC;


--
-- Name: FUNCTION dispatch_tree(p_names text[], p_lo integer, p_hi integer, p_indent text, p_else text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.dispatch_tree(p_names text[], p_lo integer, p_hi integer, p_indent text, p_else text) FROM PUBLIC;


--
-- Name: FUNCTION document_json(d fl.document); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.document_json(d fl.document) FROM PUBLIC;


--
-- Name: FUNCTION due_rows(p_years integer); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.due_rows(p_years integer) FROM PUBLIC;


--
-- Name: FUNCTION ed25519_pem(p_raw bytea); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.ed25519_pem(p_raw bytea) FROM PUBLIC;


--
-- Name: FUNCTION ed25519_raw(p_pem text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.ed25519_raw(p_pem text) FROM PUBLIC;


--
-- Name: FUNCTION endowment_status(c fl.contribution, f fl.fund, p_got bigint); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.endowment_status(c fl.contribution, f fl.fund, p_got bigint) FROM PUBLIC;


--
-- Name: FUNCTION entry_commit(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.entry_commit() FROM PUBLIC;


--
-- Name: FUNCTION entry_json(e fl.journal_entry); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.entry_json(e fl.journal_entry) FROM PUBLIC;


--
-- Name: FUNCTION entry_ref(p_entry bigint); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.entry_ref(p_entry bigint) FROM PUBLIC;


--
-- Name: FUNCTION erasable(p_id text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.erasable(p_id text) FROM PUBLIC;


--
-- Name: FUNCTION erase_due(p_years integer, p_limit integer); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.erase_due(p_years integer, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION fl.erase_due(p_years integer, p_limit integer) TO fundd_app;


--
-- Name: FUNCTION erase_now(p_id text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.erase_now(p_id text) FROM PUBLIC;


--
-- Name: FUNCTION erasure_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.erasure_guard() FROM PUBLIC;


--
-- Name: FUNCTION erasure_json(e fl.erasure); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.erasure_json(e fl.erasure) FROM PUBLIC;


--
-- Name: FUNCTION erasure_pending(p_id text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.erasure_pending(p_id text) FROM PUBLIC;


--
-- Name: FUNCTION fee_in(params jsonb, f fl.fund, p_fund_amount bigint); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fee_in(params jsonb, f fl.fund, p_fund_amount bigint) FROM PUBLIC;


--
-- Name: FUNCTION fifo_allocations(p_fund text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fifo_allocations(p_fund text) FROM PUBLIC;


--
-- Name: FUNCTION fold_all(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fold_all() FROM PUBLIC;
GRANT ALL ON FUNCTION fl.fold_all() TO fundd_app;


--
-- Name: FUNCTION fund_available(f fl.fund); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fund_available(f fl.fund) FROM PUBLIC;


--
-- Name: FUNCTION fund_balance_at(p_code text, p_asof timestamp with time zone, p_recorded boolean); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fund_balance_at(p_code text, p_asof timestamp with time zone, p_recorded boolean) FROM PUBLIC;


--
-- Name: FUNCTION fund_balance_from_journal(p_code text, p_asof timestamp with time zone, p_recorded boolean); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fund_balance_from_journal(p_code text, p_asof timestamp with time zone, p_recorded boolean) FROM PUBLIC;


--
-- Name: FUNCTION fund_balance_json(f fl.fund); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fund_balance_json(f fl.fund) FROM PUBLIC;


--
-- Name: FUNCTION fund_current(f fl.fund); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fund_current(f fl.fund) FROM PUBLIC;


--
-- Name: FUNCTION fund_delta_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fund_delta_guard() FROM PUBLIC;


--
-- Name: FUNCTION fund_figures_json(f fl.fund, rec numeric, earn numeric, pled numeric, comm numeric, disb numeric, tin numeric, tout numeric, chg numeric, imp numeric); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fund_figures_json(f fl.fund, rec numeric, earn numeric, pled numeric, comm numeric, disb numeric, tin numeric, tout numeric, chg numeric, imp numeric) FROM PUBLIC;


--
-- Name: FUNCTION fund_fold(p_code text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fund_fold(p_code text) FROM PUBLIC;


--
-- Name: FUNCTION fund_get(p_code text, p_field text, p_lock boolean); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fund_get(p_code text, p_field text, p_lock boolean) FROM PUBLIC;


--
-- Name: FUNCTION fund_insert_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fund_insert_guard() FROM PUBLIC;


--
-- Name: FUNCTION fund_json(f fl.fund); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fund_json(f fl.fund) FROM PUBLIC;


--
-- Name: FUNCTION fund_total_check(p_fund text, p_re numeric, p_pled numeric, p_comm numeric, p_disb numeric); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fund_total_check(p_fund text, p_re numeric, p_pled numeric, p_comm numeric, p_disb numeric) FROM PUBLIC;


--
-- Name: FUNCTION fund_totals(p_fund text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fund_totals(p_fund text) FROM PUBLIC;


--
-- Name: FUNCTION fx_convert(p_amount bigint, p_src_minor integer, p_rate numeric, p_dst_minor integer); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.fx_convert(p_amount bigint, p_src_minor integer, p_rate numeric, p_dst_minor integer) FROM PUBLIC;


--
-- Name: FUNCTION gave(p_partner text, p_from timestamp with time zone, p_to timestamp with time zone); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.gave(p_partner text, p_from timestamp with time zone, p_to timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION grant_conflicted(p_grant text, p_pid text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.grant_conflicted(p_grant text, p_pid text) FROM PUBLIC;


--
-- Name: FUNCTION grant_decide(p fl.principal, g fl.grant_application, p_decision text, p_comment text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.grant_decide(p fl.principal, g fl.grant_application, p_decision text, p_comment text) FROM PUBLIC;


--
-- Name: FUNCTION grant_decision_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.grant_decision_guard() FROM PUBLIC;


--
-- Name: FUNCTION grant_decision_withdraw_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.grant_decision_withdraw_guard() FROM PUBLIC;


--
-- Name: FUNCTION grant_get(p_id text, p_lock boolean); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.grant_get(p_id text, p_lock boolean) FROM PUBLIC;


--
-- Name: FUNCTION grant_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.grant_guard() FROM PUBLIC;


--
-- Name: FUNCTION grant_json(g fl.grant_application); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.grant_json(g fl.grant_application) FROM PUBLIC;


--
-- Name: FUNCTION grant_rule_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.grant_rule_guard() FROM PUBLIC;


--
-- Name: FUNCTION history(p_kind text, p_id text, params jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.history(p_kind text, p_id text, params jsonb) FROM PUBLIC;


--
-- Name: FUNCTION iban_length(p_country text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.iban_length(p_country text) FROM PUBLIC;


--
-- Name: FUNCTION identity_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.identity_guard() FROM PUBLIC;


--
-- Name: FUNCTION index_in(p jsonb, p_name text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.index_in(p jsonb, p_name text) FROM PUBLIC;


--
-- Name: FUNCTION ledger_export_digest(p_from timestamp with time zone, p_to timestamp with time zone, OUT rows bigint, OUT sha bytea, OUT rows_sha bytea, OUT entries bigint); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.ledger_export_digest(p_from timestamp with time zone, p_to timestamp with time zone, OUT rows bigint, OUT sha bytea, OUT rows_sha bytea, OUT entries bigint) FROM PUBLIC;


--
-- Name: FUNCTION like_prefix(p_text text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.like_prefix(p_text text) FROM PUBLIC;


--
-- Name: FUNCTION limit_in(p_params jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.limit_in(p_params jsonb) FROM PUBLIC;


--
-- Name: FUNCTION method_diff(p_methods jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.method_diff(p_methods jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION fl.method_diff(p_methods jsonb) TO fundd_app;


--
-- Name: FUNCTION method_set(p_methods jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.method_set(p_methods jsonb) FROM PUBLIC;


--
-- Name: FUNCTION milestone_decide(p fl.principal, params jsonb, p_accept boolean); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.milestone_decide(p fl.principal, params jsonb, p_accept boolean) FROM PUBLIC;


--
-- Name: FUNCTION milestone_get(p_id text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.milestone_get(p_id text) FROM PUBLIC;


--
-- Name: FUNCTION milestone_json(m fl.milestone); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.milestone_json(m fl.milestone) FROM PUBLIC;


--
-- Name: FUNCTION minor(p_currency text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.minor(p_currency text) FROM PUBLIC;


--
-- Name: FUNCTION money_in(p_text text, p_minor integer, p_field text, p_allow_zero boolean); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.money_in(p_text text, p_minor integer, p_field text, p_allow_zero boolean) FROM PUBLIC;


--
-- Name: FUNCTION money_out(p_amount bigint, p_minor integer); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.money_out(p_amount bigint, p_minor integer) FROM PUBLIC;


--
-- Name: FUNCTION name_key(p_name text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.name_key(p_name text) FROM PUBLIC;


--
-- Name: FUNCTION name_key_set(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.name_key_set() FROM PUBLIC;


--
-- Name: FUNCTION national_unique(p_idx bytea[], p_not text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.national_unique(p_idx bytea[], p_not text) FROM PUBLIC;


--
-- Name: FUNCTION ops_state(OUT head_seq bigint, OUT chain_lag bigint, OUT checkpoint_seq bigint, OUT checkpoint_at double precision); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.ops_state(OUT head_seq bigint, OUT chain_lag bigint, OUT checkpoint_seq bigint, OUT checkpoint_at double precision) FROM PUBLIC;
GRANT ALL ON FUNCTION fl.ops_state(OUT head_seq bigint, OUT chain_lag bigint, OUT checkpoint_seq bigint, OUT checkpoint_at double precision) TO fundd_app;


--
-- Name: FUNCTION page(p_key text, p_rows jsonb, p_lim integer); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.page(p_key text, p_rows jsonb, p_lim integer) FROM PUBLIC;


--
-- Name: FUNCTION params_sha256(p_method text, p_params jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.params_sha256(p_method text, p_params jsonb) FROM PUBLIC;


--
-- Name: FUNCTION partner_check(p_partner text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.partner_check(p_partner text) FROM PUBLIC;


--
-- Name: FUNCTION partner_json(p fl.partner); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.partner_json(p fl.partner) FROM PUBLIC;


--
-- Name: FUNCTION period_balances(p_to timestamp with time zone); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.period_balances(p_to timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION period_close_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.period_close_guard() FROM PUBLIC;


--
-- Name: FUNCTION period_end(p_period text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.period_end(p_period text) FROM PUBLIC;


--
-- Name: FUNCTION period_get(p_id text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.period_get(p_id text) FROM PUBLIC;


--
-- Name: FUNCTION period_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.period_guard() FROM PUBLIC;


--
-- Name: FUNCTION period_json(c fl.period_close); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.period_json(c fl.period_close) FROM PUBLIC;


--
-- Name: FUNCTION period_lock_key(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.period_lock_key() FROM PUBLIC;


--
-- Name: FUNCTION period_open_from(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.period_open_from() FROM PUBLIC;


--
-- Name: FUNCTION person_answer(p_answer jsonb, p_ctx jsonb, p fl.principal, p_method text, p_params jsonb, p_read boolean, p_seen boolean); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.person_answer(p_answer jsonb, p_ctx jsonb, p fl.principal, p_method text, p_params jsonb, p_read boolean, p_seen boolean) FROM PUBLIC;


--
-- Name: FUNCTION person_key_add(p_id text, v jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.person_key_add(p_id text, v jsonb) FROM PUBLIC;


--
-- Name: FUNCTION person_key_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.person_key_guard() FROM PUBLIC;


--
-- Name: FUNCTION person_keys(p_ids text[], OUT keys jsonb, OUT ids text[]); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.person_keys(p_ids text[], OUT keys jsonb, OUT ids text[]) FROM PUBLIC;


--
-- Name: FUNCTION person_seen(p_id text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.person_seen(p_id text) FROM PUBLIC;


--
-- Name: FUNCTION pledge_receipt_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.pledge_receipt_guard() FROM PUBLIC;


--
-- Name: FUNCTION pledge_receipts(c fl.contribution, p_cmin integer, p_fmin integer, OUT receipts jsonb, OUT received bigint, OUT fund_amount bigint, OUT fee bigint); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.pledge_receipts(c fl.contribution, p_cmin integer, p_fmin integer, OUT receipts jsonb, OUT received bigint, OUT fund_amount bigint, OUT fee bigint) FROM PUBLIC;


--
-- Name: FUNCTION pledge_receive(p fl.principal, params jsonb, c fl.contribution); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.pledge_receive(p fl.principal, params jsonb, c fl.contribution) FROM PUBLIC;


--
-- Name: FUNCTION post(p_fund fl.fund, p_kind text, p_memo text, p_ref text, p_principal text, p_accounts text[], p_amounts bigint[], p_value_at timestamp with time zone); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.post(p_fund fl.fund, p_kind text, p_memo text, p_ref text, p_principal text, p_accounts text[], p_amounts bigint[], p_value_at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION post_many(p_kind text, p_memo text, p_funds text[], p_refs text[], p_pids text[], p_debit text, p_credit text, p_amounts bigint[], p_values timestamp with time zone[]); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.post_many(p_kind text, p_memo text, p_funds text[], p_refs text[], p_pids text[], p_debit text, p_credit text, p_amounts bigint[], p_values timestamp with time zone[]) FROM PUBLIC;


--
-- Name: FUNCTION post_receipt(f fl.fund, p_memo text, p_ref text, p_pid text, p_gross bigint, p_fee bigint, p_cleared bigint, p_value_at timestamp with time zone); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.post_receipt(f fl.fund, p_memo text, p_ref text, p_pid text, p_gross bigint, p_fee bigint, p_cleared bigint, p_value_at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION posting_fund_delta(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.posting_fund_delta() FROM PUBLIC;


--
-- Name: FUNCTION posting_guard_rows(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.posting_guard_rows() FROM PUBLIC;


--
-- Name: FUNCTION pow10(p_n integer); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.pow10(p_n integer) FROM PUBLIC;


--
-- Name: FUNCTION principal_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.principal_guard() FROM PUBLIC;


--
-- Name: FUNCTION principal_json(p fl.principal); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.principal_json(p fl.principal) FROM PUBLIC;


--
-- Name: FUNCTION principal_notify(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.principal_notify() FROM PUBLIC;


--
-- Name: FUNCTION principal_seen(p_id text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.principal_seen(p_id text) FROM PUBLIC;


--
-- Name: FUNCTION principal_state(v fl.principal); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.principal_state(v fl.principal) FROM PUBLIC;


--
-- Name: FUNCTION purge_idempotency(p_limit integer); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.purge_idempotency(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION fl.purge_idempotency(p_limit integer) TO fundd_app;


--
-- Name: FUNCTION purpose_of(p fl.principal, p_method text, params jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.purpose_of(p fl.principal, p_method text, params jsonb) FROM PUBLIC;


--
-- Name: FUNCTION rebuild_dispatch(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.rebuild_dispatch() FROM PUBLIC;


--
-- Name: FUNCTION receive_bulk(p_token bytea[], p_cert bytea[], p_roles text[], p_params jsonb[], p_idem text[]); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.receive_bulk(p_token bytea[], p_cert bytea[], p_roles text[], p_params jsonb[], p_idem text[]) FROM PUBLIC;


--
-- Name: FUNCTION received_at_in(params jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.received_at_in(params jsonb) FROM PUBLIC;


--
-- Name: FUNCTION refund_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.refund_guard() FROM PUBLIC;


--
-- Name: FUNCTION refunded(p_id text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.refunded(p_id text) FROM PUBLIC;


--
-- Name: FUNCTION refusal(p_principal text, p_method text, p_params jsonb, p_code integer, p_reason text, p_extra jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.refusal(p_principal text, p_method text, p_params jsonb, p_code integer, p_reason text, p_extra jsonb) FROM PUBLIC;


--
-- Name: FUNCTION refusal_reason(p_token bytea, p_cert bytea); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.refusal_reason(p_token bytea, p_cert bytea) FROM PUBLIC;


--
-- Name: FUNCTION region_resolve(p_text text, p_field text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.region_resolve(p_text text, p_field text) FROM PUBLIC;


--
-- Name: FUNCTION report_answer(p_report text, p_by text[], p_measures jsonb, p_out jsonb, p_extra jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.report_answer(p_report text, p_by text[], p_measures jsonb, p_out jsonb, p_extra jsonb) FROM PUBLIC;


--
-- Name: FUNCTION report_contributions_query(p_dims text[]); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.report_contributions_query(p_dims text[]) FROM PUBLIC;


--
-- Name: FUNCTION report_dim_sql(p_report text, p_dim text, p_t text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.report_dim_sql(p_report text, p_dim text, p_t text) FROM PUBLIC;


--
-- Name: FUNCTION report_dims(p_report text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.report_dims(p_report text) FROM PUBLIC;


--
-- Name: FUNCTION report_grants_query(p_dims text[], p_dated text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.report_grants_query(p_dims text[], p_dated text) FROM PUBLIC;


--
-- Name: FUNCTION report_max_rows(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.report_max_rows() FROM PUBLIC;


--
-- Name: FUNCTION report_min_cell(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.report_min_cell() FROM PUBLIC;


--
-- Name: FUNCTION report_pipeline_query(p_dims text[]); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.report_pipeline_query(p_dims text[]) FROM PUBLIC;


--
-- Name: FUNCTION report_request(p_report text, params jsonb, OUT dims text[], OUT t0 timestamp with time zone, OUT t1 timestamp with time zone); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.report_request(p_report text, params jsonb, OUT dims text[], OUT t0 timestamp with time zone, OUT t1 timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION report_sql(p_report text, p_by text[], p_t text, p_implicit text, OUT sel text, OUT grp text, OUT total text, OUT obj text, OUT ord text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.report_sql(p_report text, p_by text[], p_t text, p_implicit text, OUT sel text, OUT grp text, OUT total text, OUT obj text, OUT ord text) FROM PUBLIC;


--
-- Name: FUNCTION returnee_by_national(p_idx bytea[], p_not text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.returnee_by_national(p_idx bytea[], p_not text) FROM PUBLIC;


--
-- Name: FUNCTION returnee_check(params jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.returnee_check(params jsonb) FROM PUBLIC;


--
-- Name: FUNCTION returnee_erased_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.returnee_erased_guard() FROM PUBLIC;


--
-- Name: FUNCTION returnee_get(p_id text, p_lock boolean); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.returnee_get(p_id text, p_lock boolean) FROM PUBLIC;


--
-- Name: FUNCTION returnee_json(r fl.returnee); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.returnee_json(r fl.returnee) FROM PUBLIC;


--
-- Name: FUNCTION rpc_error(p_code integer, p_reason text, p_field text, p_message text, p_extra jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.rpc_error(p_code integer, p_reason text, p_field text, p_message text, p_extra jsonb) FROM PUBLIC;


--
-- Name: FUNCTION sealed_fields_out(p jsonb, p_erased boolean); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.sealed_fields_out(p jsonb, p_erased boolean) FROM PUBLIC;


--
-- Name: FUNCTION sealed_out(p_field text, p_v bytea); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.sealed_out(p_field text, p_v bytea) FROM PUBLIC;


--
-- Name: FUNCTION time_in(p_text text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.time_in(p_text text) FROM PUBLIC;
GRANT ALL ON FUNCTION fl.time_in(p_text text) TO fundd_app;


--
-- Name: FUNCTION token_expiry_in(params jsonb); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.token_expiry_in(params jsonb) FROM PUBLIC;


--
-- Name: FUNCTION total_out(p_total numeric, p_minor integer); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.total_out(p_total numeric, p_minor integer) FROM PUBLIC;


--
-- Name: FUNCTION transfer_accounts(f fl.fund); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.transfer_accounts(f fl.fund) FROM PUBLIC;


--
-- Name: FUNCTION transfer_get(p_id text, p_lock boolean); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.transfer_get(p_id text, p_lock boolean) FROM PUBLIC;


--
-- Name: FUNCTION transfer_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.transfer_guard() FROM PUBLIC;


--
-- Name: FUNCTION transfer_insert_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.transfer_insert_guard() FROM PUBLIC;


--
-- Name: FUNCTION transfer_json(t fl.transfer); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.transfer_json(t fl.transfer) FROM PUBLIC;


--
-- Name: FUNCTION ts(p_t timestamp with time zone); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.ts(p_t timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION fl.ts(p_t timestamp with time zone) TO fundd_app;


--
-- Name: FUNCTION withdrawn_guard(); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.withdrawn_guard() FROM PUBLIC;


--
-- Name: FUNCTION wrong_state(p_status text); Type: ACL; Schema: fl; Owner: fund_owner
--

REVOKE ALL ON FUNCTION fl.wrong_state(p_status text) FROM PUBLIC;


--
-- Name: TABLE audit_export; Type: ACL; Schema: fl; Owner: fund_owner
--

GRANT SELECT ON TABLE fl.audit_export TO fundd_app;


--
-- Name: TABLE ledger_export; Type: ACL; Schema: fl; Owner: fund_owner
--

GRANT SELECT ON TABLE fl.ledger_export TO fundd_app;


--
-- Name: TABLE ledger_export_header; Type: ACL; Schema: fl; Owner: fund_owner
--

GRANT SELECT ON TABLE fl.ledger_export_header TO fundd_app;


--
-- Name: TABLE migration; Type: ACL; Schema: fund_meta; Owner: fund_owner
--

GRANT SELECT ON TABLE fund_meta.migration TO PUBLIC;


--
-- Name: TABLE repeatable; Type: ACL; Schema: fund_meta; Owner: fund_owner
--

GRANT SELECT ON TABLE fund_meta.repeatable TO PUBLIC;


--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: -; Owner: fund_owner
--

ALTER DEFAULT PRIVILEGES FOR ROLE fund_owner REVOKE ALL ON FUNCTIONS  FROM PUBLIC;


--
-- PostgreSQL database dump complete
--


