-- 0013_bulk_receipts: a batch of mutations is one statement, and its receipts are written
-- as sets (docs/batching.md, "One statement per batch").
--
-- A batch used to be N executions of api.call() in one transaction. At 32 connections
-- PostgreSQL has both cores, and most of a receipt's CPU went to what every statement
-- pays, not to the rows: PL/pgSQL, the executor's set-up and end of some 25 statements per
-- call (pg_stat_statements: the contribution's INSERT 147 us, the journal entry with its
-- postings 158 us, the key's row and the audit event 45 us each, under load).
--
-- api.call_many() takes the batch's calls as arrays and answers one row per call, in
-- order, each exactly what api.call() answers for it. A run of two or more consecutive
-- direct receipts (contribution.receive without contribution_id) goes to
-- fl.receive_bulk(), which writes them with one INSERT per table. It validates each
-- receipt with the very functions the method uses (fl.fund_get, fl.contribution_new,
-- fl.received_at_in) and builds each answer with fl.contribution_json. Whenever anything
-- about the run is not a plain new receipt, fl.receive_bulk() changes nothing and returns
-- NULL, and api.call_many() runs the run's calls one by one through api.call(), as
-- before. That covers:
--   a caller refused (unknown or revoked credentials, missing role, a partner);
--   an idempotency key already used, or used twice in the run;
--   any error a receipt answers (-32602, -32004...), raised while the run is written:
--   the run's sub-transaction rolls back, with the keys' locks.
-- Everything else, a bug or a deadlock, aborts the transaction as in api.call(), and the
-- daemon runs the batch's calls again one by one (docs/batching.md).

-- Writes the receipts p_params[1..n] (none with contribution_id), each by the principal
-- of p_token[k] (or else p_cert[k]), method roles p_roles[k], idempotency key p_idem[k].
-- Returns api.call()'s answer for each, in order, or NULL having written nothing.
CREATE FUNCTION fl.receive_bulk(p_token bytea[], p_cert bytea[], p_roles text[],
    p_params jsonb[], p_idem text[]) RETURNS jsonb[]
LANGUAGE plpgsql AS $$
DECLARE
	v_n	int := cardinality(p_params);
	v_p	fl.principal;
	v_f	fl.fund;
	v_roles	text[];
	c	fl.contribution;
	v_ps	fl.principal[];
	v_pids	text[];
	v_ids	text[];
	v_hash	bytea[];
	v_fs	fl.fund[];
	v_cs	fl.contribution[];
	v_res	jsonb[];
	v_n2	bigint;
	k	int;
BEGIN
	-- the callers, as api.call() finds them; a refusal is api.call()'s to record
	FOR k IN 1..v_n LOOP
		v_p := NULL;
		IF p_token[k] IS NOT NULL THEN
			SELECT * INTO v_p FROM fl.principal
			 WHERE token_hash = p_token[k] AND revoked_at IS NULL;
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
		v_ps[k] := v_p;
		v_pids[k] := v_p.principal_id;
		v_hash[k] := sha256(convert_to('contribution.receive ' || p_params[k]::text,
		    'UTF8'));
	END LOOP;
	-- a key twice in the run: the second call replays the first, or is refused
	IF (SELECT count(*) <> count(DISTINCT (u.pid, u.key))
	      FROM unnest(v_pids, p_idem) AS u(pid, key) WHERE u.key IS NOT NULL) THEN
		RETURN NULL;
	END IF;
	BEGIN
		-- the keys' locks, as api.call() takes them, in one order whatever the batch's
		PERFORM pg_advisory_xact_lock(s.h)
		   FROM (SELECT DISTINCT hashtextextended(u.pid || ' ' || u.key, 0) AS h
			   FROM unnest(v_pids, p_idem) AS u(pid, key)
			  WHERE u.key IS NOT NULL ORDER BY 1) AS s;
		IF EXISTS (SELECT 1 FROM unnest(v_pids, p_idem) AS u(pid, key)
			     JOIN fl.idempotency i ON i.principal_id = u.pid AND i.key = u.key) THEN
			RAISE EXCEPTION USING ERRCODE = 'FLERR', MESSAGE = 'a key was used before';
		END IF;
		-- each receipt as api.contribution_receive() makes it (any error: FLERR)
		FOR k IN 1..v_n LOOP
			IF NOT p_params[k] ?& ARRAY['partner_id', 'fund', 'amount', 'currency'] THEN
				RAISE EXCEPTION USING ERRCODE = 'FLERR', MESSAGE = 'a param is missing';
			END IF;
			IF v_f.code IS DISTINCT FROM p_params[k]->>'fund' THEN
				v_f := fl.fund_get(p_params[k]->>'fund', 'fund');
			END IF;
			c := fl.contribution_new(v_ps[k], p_params[k], v_f, 'received');
			c.received_at := fl.received_at_in(p_params[k]);
			c.bank_ref := p_params[k]->>'bank_ref';
			c.contribution_id := fl.new_id('co');	-- the column's default
			v_ids[k] := c.contribution_id;
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
		-- each one's journal entry, as fl.post() writes it
		WITH e AS (
			INSERT INTO fl.journal_entry (kind, memo, fund_code, ref_id, principal_id)
			SELECT 'receipt', 'receipt ' || x.contribution_id, x.fund_code,
			    x.contribution_id, x.created_by
			  FROM unnest(v_cs) WITH ORDINALITY AS x
			 ORDER BY x.ordinality
			RETURNING entry_id, fund_code, ref_id),
		p AS (
			INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency)
			SELECT e.entry_id, s.i, a.account_id, s.sign * x.fund_amount, a.currency
			  FROM e
			  JOIN unnest(v_cs) AS x ON x.contribution_id = e.ref_id
			 CROSS JOIN (VALUES (1::smallint, 'cash', 1), (2::smallint, 'contributions', -1))
			       AS s(i, short, sign)
			  JOIN fl.account a ON a.fund_code = e.fund_code AND a.short = s.short
			RETURNING 1)
		SELECT count(*) INTO v_n2 FROM p;
		IF v_n2 <> 2 * v_n THEN
			RAISE EXCEPTION 'a fund of % lacks an account of {cash,contributions}', v_ids;
		END IF;
		FOR k IN 1..v_n LOOP
			v_res[k] := fl.contribution_json(v_cs[k], v_fs[k]);
		END LOOP;
		INSERT INTO fl.idempotency (principal_id, key, method, params_sha256, result)
		SELECT u.pid, u.key, 'contribution.receive', u.h, u.r - 'token'
		  FROM unnest(v_pids, p_idem, v_hash, v_res) WITH ORDINALITY AS u(pid, key, h, r, o)
		 WHERE u.key IS NOT NULL
		 ORDER BY u.o;
		-- the events, in the calls' order, as api.call() writes them
		PERFORM pg_current_xact_id();
		INSERT INTO fl.audit_event (principal_id, method, object_id, outcome, params_sha256)
		SELECT u.pid, 'contribution.receive', u.r->>'contribution_id', 'ok', u.h
		  FROM unnest(v_pids, v_hash, v_res) WITH ORDINALITY AS u(pid, h, r, o)
		 ORDER BY u.o;
		-- the entries' checks deferred to commit, now (see api.call())
		SET CONSTRAINTS ALL IMMEDIATE;
		SET CONSTRAINTS ALL DEFERRED;
	EXCEPTION WHEN SQLSTATE 'FLERR' THEN
		RETURN NULL;
	END;
	RETURN ARRAY(SELECT jsonb_build_object('result', r, 'replayed', false)
		       FROM unnest(v_res) WITH ORDINALITY AS u(r, o) ORDER BY u.o);
END
$$;
REVOKE EXECUTE ON FUNCTION fl.receive_bulk(bytea[], bytea[], text[], jsonb[], text[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fl.receive_bulk(bytea[], bytea[], text[], jsonb[], text[])
    TO fundd_app;

-- A batch of api.call()s (docs/batching.md): the k-th row is api.call(p_token[k],
-- p_cert[k], p_method[k], p_roles[k]::text[], p_params[k], p_idem[k], p_ctx[k]). Runs of
-- direct receipts are written as sets when fl.receive_bulk() can.
CREATE FUNCTION api.call_many(p_token bytea[], p_cert bytea[], p_method text[],
    p_roles text[], p_params jsonb[], p_idem text[], p_ctx jsonb[]) RETURNS SETOF jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_n	int := cardinality(p_method);
	v_res	jsonb[];
	i	int := 1;
	j	int;
	k	int;
BEGIN
	IF cardinality(p_token) <> v_n OR cardinality(p_cert) <> v_n OR
	    cardinality(p_roles) <> v_n OR cardinality(p_params) <> v_n OR
	    cardinality(p_idem) <> v_n OR cardinality(p_ctx) <> v_n THEN
		RAISE EXCEPTION 'api.call_many: arrays of different lengths';
	END IF;
	WHILE i <= v_n LOOP
		j := i;
		WHILE j <= v_n AND p_method[j] = 'contribution.receive' AND
		    NOT p_params[j] ? 'contribution_id' LOOP
			j := j + 1;
		END LOOP;
		v_res := NULL;
		IF j - i >= 2 THEN
			v_res := fl.receive_bulk(p_token[i:j - 1], p_cert[i:j - 1], p_roles[i:j - 1],
			    p_params[i:j - 1], p_idem[i:j - 1]);
		END IF;
		IF v_res IS NOT NULL THEN
			RETURN QUERY SELECT u.r FROM unnest(v_res) WITH ORDINALITY AS u(r, o)
				      ORDER BY u.o;
			i := j;
			CONTINUE;
		END IF;
		-- one by one: the run's calls, or the one call that is not a direct receipt
		FOR k IN i..greatest(i, j - 1) LOOP
			RETURN NEXT api.call(p_token[k], p_cert[k], p_method[k], p_roles[k]::text[],
			    p_params[k], p_idem[k], p_ctx[k]);
		END LOOP;
		i := greatest(i, j - 1) + 1;
	END LOOP;
END
$$;
