-- The tamper-evident audit trail (docs/audit.md). Every successful mutation and every
-- refused attempt (-32001, -32003, -32011) inserts one row into fl.audit_event, in the
-- transaction of the call. A background step, fl.audit_chain(), hash-chains committed
-- events in seq order, up to a limit that it proves final, so writers never queue on the
-- chain head. The daemon signs the chain head into fl.audit_checkpoint, with a key of the
-- chain of signing keys in fl.audit_key. The daemon's role writes events only through the
-- entry points (docs/database-role.md), and nobody may update or delete the history.

-- Events, the chain, checkpoints and signing keys are never updated, deleted or truncated.
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
CREATE OR REPLACE TRIGGER audit_key_append_only BEFORE UPDATE OR DELETE ON fl.audit_key
	FOR EACH ROW EXECUTE FUNCTION fl.append_only();
CREATE OR REPLACE TRIGGER audit_key_no_truncate BEFORE TRUNCATE ON fl.audit_key
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

-- Signing keys -----------------------------------------------------------------------------

-- The raw 32 bytes of an Ed25519 public key in PEM (SubjectPublicKeyInfo, as OpenSSL writes
-- it); null for anything else.
CREATE OR REPLACE FUNCTION fl.ed25519_raw(p_pem text) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
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
$$;

-- The PEM of a raw Ed25519 public key, byte for byte as OpenSSL writes it.
CREATE OR REPLACE FUNCTION fl.ed25519_pem(p_raw bytea) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN E'-----BEGIN PUBLIC KEY-----\n' ||
	    encode('\x302a300506032b6570032100'::bytea || p_raw, 'base64') ||
	    E'\n-----END PUBLIC KEY-----\n';
END
$$;

-- A key's id: the first 16 hex digits of the SHA-256 of its raw public key.
CREATE OR REPLACE FUNCTION fl.audit_key_id(p_raw bytea) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN left(encode(sha256(p_raw), 'hex'), 16);
END
$$;

-- Keys come in order, under the lock that storing a checkpoint takes too. Key 1 signs from
-- seq 1, and every checkpoint stored before it must name it. Key n > 1 signs from the seq
-- after the last checkpoint: no checkpoint already stored falls in its range, and the key
-- before it signs none from then on. (That key n was signed by key n - 1 is for the
-- verifiers to check: PostgreSQL has no Ed25519.)
CREATE OR REPLACE FUNCTION fl.audit_key_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
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
CREATE OR REPLACE TRIGGER audit_key_guard BEFORE INSERT ON fl.audit_key
	FOR EACH ROW EXECUTE FUNCTION fl.audit_key_guard();

-- The key that signs the checkpoint at p_seq: the last one whose from_seq is at or before it.
CREATE OR REPLACE FUNCTION fl.audit_key_at(p_seq bigint) RETURNS fl.audit_key
LANGUAGE plpgsql STABLE AS $$
DECLARE
	k	fl.audit_key;
BEGIN
	SELECT * INTO k FROM fl.audit_key a WHERE a.from_seq <= p_seq
	 ORDER BY a.key_no DESC LIMIT 1;
	RETURN k;
END
$$;

-- A checkpoint names the key that signs at its seq (under the lock that adding a key takes).
CREATE OR REPLACE FUNCTION fl.audit_checkpoint_key_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
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
CREATE OR REPLACE TRIGGER audit_checkpoint_key_guard BEFORE INSERT ON fl.audit_checkpoint
	FOR EACH ROW EXECUTE FUNCTION fl.audit_checkpoint_key_guard();

-- Trust on first use: with no key registered, p_public_key becomes key 1 (the guard checks
-- that every stored checkpoint names it). Does nothing once a key is registered.
CREATE OR REPLACE FUNCTION fl.audit_key_first(p_public_key text) RETURNS void
LANGUAGE plpgsql AS $$
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

-- Whether p_public_key may sign a checkpoint now, for the daemon's logs and metrics:
-- current (the last key of the chain), first (no key registered yet: it becomes key 1
-- when it signs), retired (a key before the last), unknown (not a key of the chain, or not
-- the key of the checkpoints stored before key 1); and a sentence that says why.
CREATE OR REPLACE FUNCTION fl.audit_key_state(p_public_key text, OUT state text,
    OUT note text)
LANGUAGE plpgsql STABLE AS $$
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

-- Checkpoints ------------------------------------------------------------------------------

-- The state of the daemon's key (fl.audit_key_state), and the head to sign when it moved
-- past the last checkpoint and that key may sign it (else seq, head_hash and signed_at are
-- null). Always one row.
CREATE OR REPLACE FUNCTION fl.audit_checkpoint_due(p_public_key text)
RETURNS TABLE (seq bigint, head_hash text, signed_at text, key_state text, key_note text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

-- Store a signed checkpoint; refused unless head_hash is the chain's hash at seq and the
-- public key is the key that signs at seq (registered first, when no key is).
CREATE OR REPLACE FUNCTION fl.audit_checkpoint_add(p_seq bigint, p_head_hash text,
    p_signed_at text, p_signature text, p_public_key text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

-- Key rotation (fundd audit rotate-key, run as the schema's owner) ------------------------

-- The next key's number, the seq it will sign from and the time of its introduction, to be
-- signed by p_signer, which must be the last key (or become key 1). Takes the keys' lock
-- for the rest of the transaction.
CREATE OR REPLACE FUNCTION fl.audit_key_next(p_signer text, OUT key_no int,
    OUT from_seq bigint, OUT introduced_at text)
LANGUAGE plpgsql AS $$
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

-- Store key p_key_no, introduced by the last key's signature p_signature (hex) over
-- "fl-audit-key\n<key_no>\n<from_seq>\n<public key, hex>\n<introduced_at>\n".
CREATE OR REPLACE FUNCTION fl.audit_key_add(p_key_no int, p_from_seq bigint,
    p_public_key text, p_introduced_at text, p_signature text) RETURNS text
LANGUAGE plpgsql AS $$
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

-- A signing key's line of the audit export, fields in the order of docs/audit.md; the proof
-- of a closed period (api.period_close_get) carries the same lines. A view, and the key's
-- PEM fl.ed25519_pem's written out: the daemon's role, which reads the export, runs no
-- other function.
CREATE OR REPLACE VIEW fl.audit_key_line AS
SELECT a.key_no, a.from_seq,
       json_build_object('type', 'key', 'key_no', a.key_no, 'key_id', a.key_id,
           'from_seq', a.from_seq, 'public_key', E'-----BEGIN PUBLIC KEY-----\n' ||
           encode('\x302a300506032b6570032100'::bytea || a.public_key, 'base64') ||
           E'\n-----END PUBLIC KEY-----\n', 'introduced_at', fl.ts(a.introduced_at),
           'signature', encode(a.signature, 'hex'))::text AS line
  FROM fl.audit_key a;

-- The export (GET /export/audit): one JSON line per event, each checkpoint line right after
-- its event, key 1 right before the event of the first checkpoint and key n > 1 right after
-- the checkpoint at its from_seq - 1 (ORDER BY seq, kind), fields in the order of docs/audit.md.
-- A merge join of the two primary keys streams in seq order, so at most an incremental sort
-- of each seq's few lines remains: no sort of the whole trail. Keys are looked up at
-- checkpoints only.
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
	SELECT y.kind, y.line
	  FROM fl.audit_checkpoint k
	 CROSS JOIN LATERAL (
		SELECT 1, json_build_object('type', 'checkpoint', 'seq', k.seq,
		    'head_hash', encode(k.head_hash, 'hex'), 'signed_at', fl.ts(k.signed_at),
		    'signature', encode(k.signature, 'hex'), 'public_key', k.public_key)::text
		UNION ALL
		SELECT CASE WHEN a.key_no = 1 THEN -1 ELSE 1 + a.key_no END, a.line
		  FROM fl.audit_key_line a
		 WHERE (a.key_no = 1 AND k.seq = (SELECT min(f.seq) FROM fl.audit_checkpoint f))
		    OR (a.key_no > 1 AND a.from_seq = k.seq + 1)) AS y(kind, line)
	 WHERE k.seq = e.seq) AS x(kind, line);

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
