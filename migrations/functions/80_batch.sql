-- A batch of mutations as one statement (docs/batching.md, One statement per batch):
-- api.call_many() and the helpers its set forms, fl.receive_bulk() and fl.approve_bulk(),
-- share. Why: most of a mutation's CPU goes to what every statement pays (PL/pgSQL, the
-- executor's set-up and end), not to its rows.
--
-- api.call_many() takes the batch's calls as arrays and answers one row per call, in
-- order, each exactly what api.call() answers for it. A run of two or more consecutive
-- calls of one method that has a set form goes to it: fl.receive_bulk() for direct
-- receipts (contribution.receive without contribution_id), fl.approve_bulk() for
-- grant.approve. A set form validates each call with the very functions its method uses
-- (fl.fund_get, fl.contribution_new, fl.received_at_in...) or the same conditions, builds
-- each answer with the method's own JSON function, and writes each table with one
-- statement. Whenever anything about the run is not the plain case, it changes nothing
-- and returns NULL, and api.call_many() runs the run's calls one by one through
-- api.call(). That covers:
--   a caller refused (unknown or revoked credentials, missing role, a partner);
--   an idempotency key already used, or used twice in the run;
--   any error the method answers (-32602, -32004, -32010, -32011...), raised while the
--   run is written: the run's sub-transaction rolls back, with the keys' locks;
--   for approvals, anything the one-by-one path decides call after call: a grant twice
--   in the run, an approval the fund cannot cover.
-- Everything else, a bug or a deadlock, aborts the transaction as in api.call(), and the
-- daemon runs the batch's calls again one by one.

-- The method of a call when a set form may take it, else NULL.
CREATE OR REPLACE FUNCTION fl.bulk_method(p_method text, p_params jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
	    WHEN p_method = 'contribution.receive' AND NOT p_params ? 'contribution_id'
	    THEN p_method
	    WHEN p_method = 'grant.approve' THEN p_method END
$$;

-- The callers of a run, as api.call() finds them: the principal of p_token[k], or else of
-- p_cert[k], who must hold one of the roles p_roles[k] (a text[] literal: fl.method's, from
-- api.call_many()) and not be a partner confined to its own records. NULL when any is
-- refused: a refusal, with its audit event, is api.call()'s to make.
CREATE OR REPLACE FUNCTION fl.bulk_callers(p_token bytea[], p_cert bytea[], p_roles text[])
RETURNS fl.principal[]
LANGUAGE plpgsql STABLE AS $$
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

-- The idempotency keys of a run: each key's lock, as api.call() takes it, in one order
-- whatever the batch's; false when a key was used before, or twice in the run (the second
-- call would replay the first, or be refused). Call it in the run's sub-transaction, so
-- that giving up releases the locks.
CREATE OR REPLACE FUNCTION fl.bulk_claim_keys(p_pids text[], p_idem text[]) RETURNS boolean
LANGUAGE plpgsql AS $$
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

-- What api.call() writes after each successful call of the run, in the calls' order: the
-- key's row with its answer, and the audit event. p_hash[k] is the call's params_sha256,
-- p_res[k] its method's result. Returns api.call()'s answers.
CREATE OR REPLACE FUNCTION fl.bulk_record(p_method text, p_pids text[], p_idem text[],
    p_hash bytea[], p_res jsonb[]) RETURNS jsonb[]
LANGUAGE plpgsql AS $$
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

-- A batch of api.call()s: the k-th row is api.call(p_token[k], p_cert[k], p_method[k],
-- p_params[k], p_idem[k], p_ctx[k]). Runs of calls with a set form are written as sets when
-- it can take them; the set forms check the callers' roles against those fl.method requires
-- for the run's method, as api.call() does. An entry point of the daemon's role
-- (functions/95_privileges.sql).
CREATE OR REPLACE FUNCTION api.call_many(p_token bytea[], p_cert bytea[], p_method text[],
    p_params jsonb[], p_idem text[], p_ctx jsonb[]) RETURNS SETOF jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
