-- The tamper-evident audit trail (docs/audit.md). Every successful mutation and every
-- refused attempt (-32001, -32003, -32011) inserts one row into fl.audit_event, in the
-- transaction of the call. A background step, fl.audit_chain(), hash-chains committed
-- events in seq order, up to a limit that it proves final, so writers never queue on the
-- chain head. The daemon signs the chain head into fl.audit_checkpoint. The daemon's role
-- writes events only through the entry points (docs/database-role.md), and nobody may
-- update or delete the history.

-- Events, the chain and checkpoints are never updated, deleted or truncated.
CREATE OR REPLACE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON fl.audit_event
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON fl.audit_event
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE ON fl.audit_chain
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON fl.audit_chain
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER audit_checkpoint_append_only
	BEFORE UPDATE OR DELETE ON fl.audit_checkpoint
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON fl.audit_checkpoint
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

-- Events -----------------------------------------------------------------------------------

-- Record one event in the calling transaction. The transaction id is taken before the
-- seq: the chainer's proof that no event is skipped rests on it. An object id or a reason
-- that its column's domain would refuse is recorded as null.
CREATE OR REPLACE FUNCTION fl.audit_record(p_principal text, p_method text, p_object text,
    p_code int, p_reason text, p_params_sha256 bytea) RETURNS void
LANGUAGE plpgsql AS $$
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
$$;

-- The id of the object a call created, changed or named: <namespace>_id in the result or
-- the params, or a fund's transfer's id, or a fund's code.
CREATE OR REPLACE FUNCTION fl.audit_object(p_method text, p_params jsonb, p_res jsonb)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	v_ns	text := split_part(p_method, '.', 1);
BEGIN
	RETURN coalesce(p_res->>(v_ns || '_id'), p_params->>(v_ns || '_id'),
	    CASE WHEN v_ns = 'fund' THEN coalesce(p_res->>'transfer_id',
	        p_params->>'transfer_id', p_res->>'code', p_params->>'code') END);
END
$$;

-- A call's params_sha256: SHA-256 of its method, a space and its params.
CREATE OR REPLACE FUNCTION fl.params_sha256(p_method text, p_params jsonb) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN sha256(convert_to(p_method || ' ' || p_params::text, 'UTF8'));
END
$$;

-- A refused attempt; p_err is the JSON-RPC error object.
CREATE OR REPLACE FUNCTION fl.audit_refused(p_principal text, p_method text, p_params jsonb,
    p_err jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM fl.audit_record(p_principal, p_method, fl.audit_object(p_method, p_params, NULL),
	    (p_err->>'code')::int, p_err->'data'->>'reason', fl.params_sha256(p_method, p_params));
END
$$;

-- A refusal that writes nothing else (-32001, -32003): the error, recorded; returns the
-- {"error": ...} answer of api.call() and api.authorize().
CREATE OR REPLACE FUNCTION fl.refusal(p_principal text, p_method text, p_params jsonb,
    p_code int, p_reason text, p_extra jsonb DEFAULT '{}') RETURNS jsonb
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

-- The chain --------------------------------------------------------------------------------

-- The canonical bytes of an event (docs/audit.md): nine lines, a null is an empty line,
-- and a tenth, its purpose, for an access event.
CREATE OR REPLACE FUNCTION fl.audit_canonical(e fl.audit_event) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN convert_to(e.seq::text || E'\n' || fl.ts(e.at) || E'\n' ||
	    coalesce(e.principal_id, '') || E'\n' || e.method || E'\n' ||
	    coalesce(e.object_id, '') || E'\n' || e.outcome || E'\n' ||
	    coalesce(e.error_code::text, '') || E'\n' || coalesce(e.reason, '') || E'\n' ||
	    encode(e.params_sha256, 'hex') || E'\n' ||
	    coalesce(e.purpose || E'\n', ''), 'UTF8');
END
$$;

-- The chaining step (docs/audit.md). Returns the number of events chained, or -1 when
-- another session holds the chain. At most p_max events per call.
CREATE OR REPLACE FUNCTION fl.audit_chain(p_max int) RETURNS int
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

-- Checkpoints: the head to sign, when it moved past the last checkpoint (else no row).
CREATE OR REPLACE FUNCTION fl.audit_checkpoint_due() RETURNS TABLE (seq bigint, head_hash text,
    signed_at text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN QUERY SELECT s.head_seq, encode(s.head_hash, 'hex'), fl.ts(clock_timestamp())
	  FROM fl.audit_state s
	 WHERE s.head_seq > coalesce((SELECT max(c.seq) FROM fl.audit_checkpoint c), 0);
END
$$;

-- Store a signed checkpoint; refused unless head_hash is the chain's hash at seq.
CREATE OR REPLACE FUNCTION fl.audit_checkpoint_add(p_seq bigint, p_head_hash text,
    p_signed_at text, p_signature text, p_public_key text) RETURNS boolean
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

-- audit.* ----------------------------------------------------------------------------------

-- An event as audit.events shows it, with its chain hashes (null until chained).
CREATE OR REPLACE FUNCTION fl.audit_event_json(e fl.audit_event, p_prev bytea, p_hash bytea)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN jsonb_build_object('seq', e.seq, 'at', fl.ts(e.at),
	    'principal_id', e.principal_id, 'method', e.method, 'object_id', e.object_id,
	    'outcome', e.outcome, 'error_code', e.error_code, 'reason', e.reason,
	    'params_sha256', encode(e.params_sha256, 'hex'), 'purpose', e.purpose,
	    'prev_hash', encode(p_prev, 'hex'), 'hash', encode(p_hash, 'hex'));
END
$$;

-- audit.events: the events from from_seq on. next_cursor is the from_seq of the next page
-- (a number), or null.
CREATE OR REPLACE FUNCTION api.audit_events(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
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

-- audit.checkpoint: the latest signed checkpoint.
CREATE OR REPLACE FUNCTION api.audit_checkpoint(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
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

-- audit.verify: recompute the chain over [from_seq, to_seq] from the event rows. The walk
-- starts from the stored hash of the last chained event before from_seq (32 zero bytes at
-- the start).
CREATE OR REPLACE FUNCTION api.audit_verify(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
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
	-- what the chain does not cover yet (events the chainer has still to hash)
	RETURN jsonb_build_object('ok', v_bad IS NULL, 'verified', v_n,
	    'first_bad_seq', v_bad, 'reason', v_why, 'head_seq', v_head,
	    'unchained', (SELECT count(*) FROM fl.audit_event WHERE seq > v_head),
	    'oldest_unchained_at', (SELECT fl.ts(min(at)) FROM fl.audit_event
		WHERE seq > v_head));
END
$$;

-- The export (GET /export/audit): one JSON line per event, each checkpoint line right after
-- its event (ORDER BY seq, kind), keys in the order of docs/audit.md. A merge join of the
-- two primary keys streams in seq order, so at most an incremental sort of each seq's one
-- or two lines remains: no sort of the whole trail.
CREATE OR REPLACE VIEW fl.audit_export AS
SELECT e.seq, x.kind, x.line
  FROM fl.audit_event e
  LEFT JOIN fl.audit_chain c ON c.seq = e.seq
 CROSS JOIN LATERAL (
	SELECT 0, json_build_object('type', 'event', 'seq', e.seq, 'at', fl.ts(e.at),
	    'principal_id', e.principal_id, 'method', e.method, 'object_id', e.object_id,
	    'outcome', e.outcome, 'error_code', e.error_code, 'reason', e.reason,
	    'params_sha256', encode(e.params_sha256, 'hex'), 'purpose', e.purpose,
	    'prev_hash', encode(c.prev_hash, 'hex'), 'hash', encode(c.hash, 'hex'))::text
	UNION ALL
	SELECT 1, json_build_object('type', 'checkpoint', 'seq', k.seq,
	    'head_hash', encode(k.head_hash, 'hex'), 'signed_at', fl.ts(k.signed_at),
	    'signature', encode(k.signature, 'hex'), 'public_key', k.public_key)::text
	  FROM fl.audit_checkpoint k WHERE k.seq = e.seq) AS x(kind, line);

-- What operators watch (/metrics, docs/operations.md), sampled by worker 0 every few
-- seconds: the chain's head, how many seqs were handed out past it (events not chained
-- yet, counting those of transactions that rolled back), and the last signed checkpoint,
-- with its time as Unix seconds. Cheap: no scan of the trail.
CREATE OR REPLACE FUNCTION fl.ops_state(OUT head_seq bigint, OUT chain_lag bigint,
    OUT checkpoint_seq bigint, OUT checkpoint_at double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	SELECT s.head_seq INTO head_seq FROM fl.audit_state s;
	SELECT greatest(CASE WHEN q.is_called THEN q.last_value ELSE 0 END - head_seq, 0)
	  INTO chain_lag FROM fl.audit_seq q;
	SELECT k.seq, extract(epoch FROM k.signed_at) INTO checkpoint_seq, checkpoint_at
	  FROM fl.audit_checkpoint k ORDER BY k.seq DESC LIMIT 1;
END
$$;
