-- 0006_audit: the tamper-evident audit trail (docs/audit.md).
--
-- Every successful mutation and every refused attempt (-32001, -32003, -32011) inserts one
-- row into fl.audit_event, in the transaction of the call. A background step,
-- fl.audit_chain(), hash-chains committed events in seq order, up to a limit that it proves
-- final, so writers never queue on the chain head. The daemon signs the chain head into
-- fl.audit_checkpoint. The daemon's role may insert events. Everything else goes through
-- SECURITY DEFINER functions, and nobody may update or delete the history.

CREATE SEQUENCE fl.audit_seq AS bigint NO CYCLE CACHE 1;

CREATE TABLE fl.audit_event (
	seq		bigint PRIMARY KEY DEFAULT nextval('fl.audit_seq'),
	at		timestamptz NOT NULL DEFAULT now(),
	principal_id	text CHECK (principal_id ~ '^[A-Za-z0-9_.:-]{1,128}$'),
	method		text NOT NULL CHECK (method ~ '^[a-z]+\.[a-z_]{1,62}$'),
	object_id	text CHECK (object_id ~ '^[A-Za-z0-9_.:-]{1,128}$'),
	outcome		text NOT NULL CHECK (outcome IN ('ok', 'refused')),
	error_code	int,
	reason		text CHECK (reason ~ '^[a-z0-9_]{1,64}$'),
	params_sha256	bytea NOT NULL CHECK (length(params_sha256) = 32),
	CHECK ((outcome = 'ok') = (error_code IS NULL)),
	CHECK (outcome = 'refused' OR reason IS NULL)
);

-- The chain: one row per chained event, written only by fl.audit_chain().
CREATE TABLE fl.audit_chain (
	seq		bigint PRIMARY KEY,
	prev_hash	bytea NOT NULL CHECK (length(prev_hash) = 32),
	hash		bytea NOT NULL CHECK (length(hash) = 32),
	chained_at	timestamptz NOT NULL DEFAULT now()
);

-- The chain head (the last chained event), covered_seq (every event with a seq up to it is
-- chained), and the pending limit (docs/audit.md, "why no event is skipped"): every event
-- with seq <= pend_seq is final once no transaction older than pend_xid runs.
CREATE TABLE fl.audit_state (
	one		boolean PRIMARY KEY DEFAULT true CHECK (one),
	head_seq	bigint NOT NULL,
	head_hash	bytea NOT NULL CHECK (length(head_hash) = 32),
	covered_seq	bigint NOT NULL CHECK (covered_seq >= head_seq),
	pend_seq	bigint CHECK (pend_seq > covered_seq),
	pend_xid	xid8,
	CHECK ((pend_seq IS NULL) = (pend_xid IS NULL))
);
INSERT INTO fl.audit_state (head_seq, head_hash, covered_seq)
VALUES (0, decode(repeat('00', 32), 'hex'), 0);

CREATE TABLE fl.audit_checkpoint (
	seq		bigint PRIMARY KEY,
	head_hash	bytea NOT NULL CHECK (length(head_hash) = 32),
	signed_at	timestamptz NOT NULL,
	signature	bytea NOT NULL CHECK (length(signature) = 64),
	public_key	text NOT NULL CHECK (public_key LIKE '-----BEGIN PUBLIC KEY-----%'),
	stored_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON fl.audit_event
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON fl.audit_event
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();
CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE ON fl.audit_chain
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON fl.audit_chain
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON fl.audit_checkpoint
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON fl.audit_checkpoint
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

-- The daemon's role names neither seq nor at: both come from their defaults.
GRANT SELECT ON fl.audit_event TO fundd_app;
GRANT INSERT (principal_id, method, object_id, outcome, error_code, reason, params_sha256)
    ON fl.audit_event TO fundd_app;
GRANT USAGE ON SEQUENCE fl.audit_seq TO fundd_app;
GRANT SELECT ON fl.audit_chain, fl.audit_state, fl.audit_checkpoint TO fundd_app;

-- The canonical bytes of an event (docs/audit.md): nine lines, a null is an empty line.
CREATE FUNCTION fl.audit_canonical(e fl.audit_event) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN convert_to(e.seq::text || E'\n' || fl.ts(e.at) || E'\n' ||
	    coalesce(e.principal_id, '') || E'\n' || e.method || E'\n' ||
	    coalesce(e.object_id, '') || E'\n' || e.outcome || E'\n' ||
	    coalesce(e.error_code::text, '') || E'\n' || coalesce(e.reason, '') || E'\n' ||
	    encode(e.params_sha256, 'hex') || E'\n', 'UTF8');
END
$$;

-- Record one event in the calling transaction. The transaction id is taken before the
-- seq: the chainer's proof that no event is skipped rests on it.
CREATE FUNCTION fl.audit_record(p_principal text, p_method text, p_object text,
    p_code int, p_reason text, p_params_sha256 bytea) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_current_xact_id();
	INSERT INTO fl.audit_event (principal_id, method, object_id, outcome, error_code,
	    reason, params_sha256)
	VALUES (p_principal, p_method,
	    CASE WHEN p_object ~ '^[A-Za-z0-9_.:-]{1,128}$' THEN p_object END,
	    CASE WHEN p_code IS NULL THEN 'ok' ELSE 'refused' END, p_code,
	    CASE WHEN p_reason ~ '^[a-z0-9_]{1,64}$' THEN p_reason END, p_params_sha256);
END
$$;

-- The id of the object a call created, changed or named: <namespace>_id in the result or
-- the params, or a fund's code.
CREATE FUNCTION fl.audit_object(p_method text, p_params jsonb, p_res jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_ns	text := split_part(p_method, '.', 1);
BEGIN
	RETURN coalesce(p_res->>(v_ns || '_id'), p_params->>(v_ns || '_id'),
	    CASE WHEN v_ns = 'fund' THEN coalesce(p_res->>'code', p_params->>'code') END);
END
$$;

CREATE FUNCTION fl.params_sha256(p_method text, p_params jsonb) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN sha256(convert_to(p_method || ' ' || p_params::text, 'UTF8'));
END
$$;

-- A refused attempt; p_err is the JSON-RPC error object.
CREATE FUNCTION fl.audit_refused(p_principal text, p_method text, p_params jsonb,
    p_err jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM fl.audit_record(p_principal, p_method, fl.audit_object(p_method, p_params, NULL),
	    (p_err->>'code')::int, p_err->'data'->>'reason', fl.params_sha256(p_method, p_params));
END
$$;

-- A refusal that writes nothing else (-32001, -32003): the error, recorded; returns the
-- {"error": ...} answer of api.call and api.authorize.
CREATE FUNCTION fl.refusal(p_principal text, p_method text, p_params jsonb, p_code int,
    p_reason text, p_extra jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_err	jsonb := jsonb_build_object('code', p_code,
		    'message', CASE p_code WHEN -32001 THEN 'unauthenticated' ELSE 'forbidden' END,
		    'data', jsonb_build_object('reason', p_reason) || p_extra);
BEGIN
	PERFORM fl.audit_refused(p_principal, p_method, p_params, v_err);
	RETURN jsonb_build_object('error', v_err);
END
$$;

-- The chaining step (docs/audit.md). Returns the number of events chained, or -1 when
-- another session holds the chain. At most p_max events per call.
CREATE FUNCTION fl.audit_chain(p_max int) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
	-- 2. the pending limit of an earlier round is final once its writers are all gone
	IF s.pend_seq IS NOT NULL AND
	    pg_snapshot_xmin(pg_current_snapshot()) >= s.pend_xid THEN
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
REVOKE EXECUTE ON FUNCTION fl.audit_chain(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fl.audit_chain(int) TO fundd_app;

-- Checkpoints: the head to sign, when it moved past the last checkpoint (else no row).
CREATE FUNCTION fl.audit_checkpoint_due() RETURNS TABLE (seq bigint, head_hash text,
    signed_at text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN QUERY SELECT s.head_seq, encode(s.head_hash, 'hex'), fl.ts(clock_timestamp())
	  FROM fl.audit_state s
	 WHERE s.head_seq > coalesce((SELECT max(c.seq) FROM fl.audit_checkpoint c), 0);
END
$$;

-- Store a signed checkpoint; refused unless head_hash is the chain's hash at seq.
CREATE FUNCTION fl.audit_checkpoint_add(p_seq bigint, p_head_hash text, p_signed_at text,
    p_signature text, p_public_key text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM fl.audit_chain c
	    WHERE c.seq = p_seq AND c.hash = decode(p_head_hash, 'hex')) THEN
		RAISE EXCEPTION 'checkpoint % does not match the chain', p_seq;
	END IF;
	INSERT INTO fl.audit_checkpoint (seq, head_hash, signed_at, signature, public_key)
	VALUES (p_seq, decode(p_head_hash, 'hex'), p_signed_at::timestamptz,
	    decode(p_signature, 'hex'), p_public_key)
	ON CONFLICT DO NOTHING;
	RETURN FOUND;
END
$$;
REVOKE EXECUTE ON FUNCTION fl.audit_checkpoint_add(bigint, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fl.audit_checkpoint_add(bigint, text, text, text, text) TO fundd_app;

-- Authorisation of the HTTP endpoints that are not calls (/metrics, exports), of a call
-- without usable credentials, and of a call whose params are bad (before it is told so):
-- records refusals like api.call does. Returns {"principal": ...} or {"error": ...}.
CREATE FUNCTION api.authorize(p_token bytea, p_cert bytea, p_what text, p_roles text[],
    p_reason text, p_params jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v	fl.principal;
BEGIN
	IF p_reason IS NULL THEN
		v := fl.authenticate(p_token, p_cert);
	END IF;
	IF v.principal_id IS NULL THEN
		RETURN fl.refusal(NULL, p_what, coalesce(p_params, '{}'), -32001,
		    coalesce(p_reason, CASE WHEN p_token IS NULL AND p_cert IS NULL
		    THEN 'no_credentials' ELSE 'bad_credentials' END));
	END IF;
	IF cardinality(p_roles) > 0 AND NOT (v.roles && p_roles) THEN
		RETURN fl.refusal(v.principal_id, p_what, coalesce(p_params, '{}'), -32003,
		    'role_required', jsonb_build_object('roles', to_jsonb(p_roles)));
	END IF;
	RETURN jsonb_build_object('principal', fl.principal_json(v));
END
$$;
DROP FUNCTION api.authenticate(bytea, bytea);

-- audit.* ------------------------------------------------------------------------------------

CREATE FUNCTION fl.audit_event_json(e fl.audit_event, p_prev bytea, p_hash bytea)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN jsonb_build_object('seq', e.seq, 'at', fl.ts(e.at),
	    'principal_id', e.principal_id, 'method', e.method, 'object_id', e.object_id,
	    'outcome', e.outcome, 'error_code', e.error_code, 'reason', e.reason,
	    'params_sha256', encode(e.params_sha256, 'hex'),
	    'prev_hash', encode(p_prev, 'hex'), 'hash', encode(p_hash, 'hex'));
END
$$;

-- next_cursor is the from_seq of the next page (a number), or null.
CREATE FUNCTION api.audit_events(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
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

CREATE FUNCTION api.audit_checkpoint(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
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

-- Recompute the chain over [from_seq, to_seq] from the event rows. The walk starts from
-- the stored hash of the last chained event before from_seq (32 zero bytes at the start).
CREATE FUNCTION api.audit_verify(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_from	bigint := coalesce((params->>'from_seq')::bigint, 0);
	v_to	bigint := coalesce((params->>'to_seq')::bigint, 9223372036854775807);
	v_head	bigint := (SELECT head_seq FROM fl.audit_state);
	v_prev	bytea;
	v_n	bigint := 0;
	r	record;
	v_bad	bigint;
	v_why	text;
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
	RETURN jsonb_build_object('ok', v_bad IS NULL, 'verified', v_n,
	    'first_bad_seq', v_bad, 'reason', v_why);
END
$$;

-- The export: one JSON line per event, each checkpoint line right after its event
-- (ORDER BY seq, kind), keys in the order of docs/audit.md. A merge join of the two
-- primary keys streams in seq order, so at most an incremental sort of each seq's one or
-- two lines remains: no sort of the whole trail.
CREATE VIEW fl.audit_export AS
SELECT e.seq, x.kind, x.line
  FROM fl.audit_event e
  LEFT JOIN fl.audit_chain c ON c.seq = e.seq
 CROSS JOIN LATERAL (
	SELECT 0, json_build_object('type', 'event', 'seq', e.seq, 'at', fl.ts(e.at),
	    'principal_id', e.principal_id, 'method', e.method, 'object_id', e.object_id,
	    'outcome', e.outcome, 'error_code', e.error_code, 'reason', e.reason,
	    'params_sha256', encode(e.params_sha256, 'hex'),
	    'prev_hash', encode(c.prev_hash, 'hex'), 'hash', encode(c.hash, 'hex'))::text
	UNION ALL
	SELECT 1, json_build_object('type', 'checkpoint', 'seq', k.seq,
	    'head_hash', encode(k.head_hash, 'hex'), 'signed_at', fl.ts(k.signed_at),
	    'signature', encode(k.signature, 'hex'), 'public_key', k.public_key)::text
	  FROM fl.audit_checkpoint k WHERE k.seq = e.seq) AS x(kind, line);
GRANT SELECT ON fl.audit_export TO fundd_app;

-- The RPC entry point, now with audit events: fl.rebuild_dispatch() as in 0001, except that
-- refusals (-32001, -32003 here; -32003 and -32011 raised by a method) record an event and
-- commit it, and that a mutation (a VOLATILE method function) records its event in its own
-- transaction. A mutation runs in a block whose exception handler takes the refusals: the
-- method's writes and its idempotency claim roll back, the event stays. And the methods
-- are found by a binary tree of name comparisons instead of one long CASE.

-- The dispatch of p_method among p_names[p_lo..p_hi] (sorted, C collation): a binary
-- tree of IFs down to a CASE of at most four. A flat CASE of 40 methods compared the name
-- up to 40 times per call: system.whoami went from 49k to 55-60k calls/s (pgbench, 8
-- clients) when it came first, and the tree gives every method that.
CREATE FUNCTION fl.dispatch_tree(p_names text[], p_lo int, p_hi int, p_indent text,
    p_else text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
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
REVOKE EXECUTE ON FUNCTION fl.dispatch_tree(text[], int, int, text, text) FROM fundd_app;

CREATE OR REPLACE FUNCTION fl.rebuild_dispatch() RETURNS int
LANGUAGE plpgsql AS $rebuild$
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
-- token hash (or certificate hash), checks roles, claims the idempotency key, runs the
-- method and records its audit event, in one statement: one round trip and one
-- transaction per call. Returns {"result": ..., "replayed": bool} or {"error": {code,
-- message, data}} for refusals, which write their audit event only; other errors raised
-- by methods (SQLSTATE FLERR) roll the whole call back.
CREATE OR REPLACE FUNCTION api.call(p_token bytea, p_cert bytea, p_method text,
    p_roles text[], p_params jsonb, p_idem text, p_ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $c$
DECLARE
	v_p	fl.principal;
	v_hash	bytea;
	v_row	fl.idempotency;
	v_res	jsonb;
	v_err	jsonb;
	v_scoped boolean;
	v_mut	boolean := p_method = ANY (%L::text[]);
BEGIN
	IF p_token IS NOT NULL THEN
		SELECT * INTO v_p FROM fl.principal
		 WHERE token_hash = p_token AND revoked_at IS NULL;
	ELSIF p_cert IS NOT NULL THEN
		SELECT * INTO v_p FROM fl.principal
		 WHERE cert_sha256 = p_cert AND revoked_at IS NULL;
	END IF;
	IF v_p.principal_id IS NULL THEN
		RETURN fl.refusal(NULL, p_method, p_params, -32001,
		    CASE WHEN p_token IS NULL AND p_cert IS NULL THEN 'no_credentials'
		    ELSE 'bad_credentials' END);
	END IF;
	IF cardinality(p_roles) > 0 AND NOT (v_p.roles && p_roles) THEN
		RETURN fl.refusal(v_p.principal_id, p_method, p_params, -32003, 'role_required',
		    jsonb_build_object('roles', to_jsonb(p_roles)));
	END IF;
	-- Partner scoping, in this one place (docs/ledger.md): when only the partner role
	-- grants the method, a partner sees its own partner record and contributions only,
	-- and anything else answers exactly as if it did not exist.
	v_scoped := 'partner' = ANY (v_p.roles) AND cardinality(p_roles) > 0
	    AND NOT (v_p.roles && array_remove(p_roles, 'partner'));
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
		RETURN jsonb_build_object('result', v_res, 'replayed', false);
	END IF;
	v_hash := sha256(convert_to(p_method || ' ' || p_params::text, 'UTF8'));
	BEGIN
		IF p_idem IS NOT NULL THEN
			INSERT INTO fl.idempotency (principal_id, key, method, params_sha256)
			VALUES (v_p.principal_id, p_idem, p_method, v_hash)
			ON CONFLICT DO NOTHING;
			IF NOT FOUND THEN
				-- a committed earlier call holds the key (a concurrent one made us
				-- wait)
				SELECT * INTO v_row FROM fl.idempotency
				 WHERE principal_id = v_p.principal_id AND key = p_idem;
				IF v_row.method <> p_method OR v_row.params_sha256 <> v_hash THEN
					RETURN jsonb_build_object('error', jsonb_build_object(
					    'code', -32009,
					    'message', 'idempotency key reused with other params',
					    'data', jsonb_build_object('reason',
					    'idempotency_mismatch', 'field', 'idempotency_key')));
				END IF;
				RETURN jsonb_build_object('result', v_row.result, 'replayed', true);
			END IF;
		END IF;
%s	EXCEPTION WHEN SQLSTATE 'FLERR' THEN
		v_err := SQLERRM::jsonb;
		IF coalesce((v_err->>'code')::int, 0) NOT IN (-32003, -32011) THEN
			RAISE;
		END IF;
		PERFORM fl.audit_record(v_p.principal_id, p_method,
		    fl.audit_object(p_method, p_params, NULL), (v_err->>'code')::int,
		    v_err->'data'->>'reason', v_hash);
		RETURN jsonb_build_object('error', v_err);
	END;
	IF p_idem IS NOT NULL THEN
		UPDATE fl.idempotency SET result = v_res - 'token'
		 WHERE principal_id = v_p.principal_id AND key = p_idem;
	END IF;
	-- the event, as fl.audit_record() writes it, inline on the hot path: the transaction
	-- id before the seq; ids of results are generated, those of params checked in C
	PERFORM pg_current_xact_id();
	INSERT INTO fl.audit_event (principal_id, method, object_id, outcome, params_sha256)
	VALUES (v_p.principal_id, p_method,
	    coalesce(v_res->>(split_part(p_method, '.', 1) || '_id'),
	        p_params->>(split_part(p_method, '.', 1) || '_id'),
	        CASE WHEN p_method LIKE 'fund.%%' THEN
	            coalesce(v_res->>'code', p_params->>'code') END),
	    'ok', v_hash);
	RETURN jsonb_build_object('result', v_res, 'replayed', false);
END
$c$
$f$, v_muts, fl.dispatch_tree(v_reads, 1, cardinality(v_reads), E'\t\t', v_else),
	    fl.dispatch_tree(v_muts, 1, cardinality(v_muts), E'\t\t', v_else));
	RETURN cardinality(v_reads) + cardinality(v_muts);
END
$rebuild$;
REVOKE EXECUTE ON FUNCTION fl.rebuild_dispatch() FROM fundd_app;
