-- 0013_bulk: a batch of mutations is one statement, and its receipts and grant approvals
-- are written as sets (docs/batching.md, "One statement per batch").
--
-- A batch used to be N executions of api.call() in one transaction. At 32 connections
-- PostgreSQL has both cores, and most of a receipt's CPU went to what every statement
-- pays, not to the rows: PL/pgSQL, the executor's set-up and end of some 25 statements per
-- call (pg_stat_statements: the contribution's INSERT 147 us, the journal entry with its
-- postings 158 us, the key's row and the audit event 45 us each, under load).
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
-- api.call(), as before. That covers:
--   a caller refused (unknown or revoked credentials, missing role, a partner);
--   an idempotency key already used, or used twice in the run;
--   any error the method answers (-32602, -32004, -32010, -32011...), raised while the
--   run is written: the run's sub-transaction rolls back, with the keys' locks;
--   for approvals, anything the one-by-one path decides call after call: a grant twice
--   in the run, an approval the fund cannot cover.
-- Everything else, a bug or a deadlock, aborts the transaction as in api.call(), and the
-- daemon runs the batch's calls again one by one (docs/batching.md).

-- The callers of a run, as api.call() finds them: the principal of p_token[k], or else of
-- p_cert[k], who must hold one of the roles p_roles[k] (a text[] literal) and not be a
-- partner confined to its own records. NULL when any is refused: a refusal, with its audit
-- event, is api.call()'s to make.
CREATE FUNCTION fl.bulk_callers(p_token bytea[], p_cert bytea[], p_roles text[])
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
	END LOOP;
	RETURN v_ps;
END
$$;

-- The idempotency keys of a run: each key's lock, as api.call() takes it, in one order
-- whatever the batch's; false when a key was used before, or twice in the run (the second
-- call would replay the first, or be refused). Call it in the run's sub-transaction, so
-- that giving up releases the locks.
CREATE FUNCTION fl.bulk_claim_keys(p_pids text[], p_idem text[]) RETURNS boolean
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
CREATE FUNCTION fl.bulk_record(p_method text, p_pids text[], p_idem text[], p_hash bytea[],
    p_res jsonb[]) RETURNS jsonb[]
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

-- One journal entry per k, in the order of k, as fl.post() writes each: kind p_kind, memo
-- p_memo || p_refs[k], fund p_funds[k], ref_id p_refs[k], by p_pids[k], posting
-- p_amounts[k] to the fund's account p_debit and -p_amounts[k] to p_credit.
CREATE FUNCTION fl.post_many(p_kind text, p_memo text, p_funds text[], p_refs text[],
    p_pids text[], p_debit text, p_credit text, p_amounts bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_n	bigint;
BEGIN
	WITH x AS (
		SELECT * FROM unnest(p_funds, p_refs, p_pids, p_amounts)
		    WITH ORDINALITY AS u(fund, ref, pid, amount, o)),
	e AS (
		INSERT INTO fl.journal_entry (kind, memo, fund_code, ref_id, principal_id)
		SELECT p_kind, p_memo || x.ref, x.fund, x.ref, x.pid FROM x ORDER BY x.o
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

-- Writes the receipts p_params[1..n] (none with contribution_id), each by the principal
-- of p_token[k] (or else p_cert[k]), method roles p_roles[k], idempotency key p_idem[k].
-- Returns api.call()'s answer for each, in order, or NULL having written nothing.
CREATE FUNCTION fl.receive_bulk(p_token bytea[], p_cert bytea[], p_roles text[],
    p_params jsonb[], p_idem text[]) RETURNS jsonb[]
LANGUAGE plpgsql AS $$
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
		    'contributions', v_amts);
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

-- Approves the grants p_params[1..n]->>'grant_id', each by the principal of p_token[k] (or
-- else p_cert[k]), method roles p_roles[k], idempotency key p_idem[k], as
-- api.grant_approve() does one after the other: the four-eyes rules, and for an approval
-- that is the last one a grant needs, its fund folded and locked, the available balance
-- checked, the commitment posted and the grant approved. Returns api.call()'s answer for
-- each, in order, or NULL having written nothing.
CREATE FUNCTION fl.approve_bulk(p_token bytea[], p_cert bytea[], p_roles text[],
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
		-- the grants' rows locked, as fl.grant_get(id, true) locks each
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
				     AND principal_id = v_pids[k]) THEN
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
			v_avail := CASE v_f.kind WHEN 'pass_through' THEN v_f.received + v_f.earnings
			    ELSE v_f.earnings END - v_f.committed - v_f.disbursed;
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

-- The method of a call when a set form may take it, else NULL.
CREATE FUNCTION fl.bulk_method(p_method text, p_params jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
	    WHEN p_method = 'contribution.receive' AND NOT p_params ? 'contribution_id'
	    THEN p_method
	    WHEN p_method = 'grant.approve' THEN p_method END
$$;

-- A batch of api.call()s (docs/batching.md): the k-th row is api.call(p_token[k],
-- p_cert[k], p_method[k], p_roles[k]::text[], p_params[k], p_idem[k], p_ctx[k]). Runs of
-- calls with a set form are written as sets when it can take them.
CREATE FUNCTION api.call_many(p_token bytea[], p_cert bytea[], p_method text[],
    p_roles text[], p_params jsonb[], p_idem text[], p_ctx jsonb[]) RETURNS SETOF jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_n	int := cardinality(p_method);
	v_res	jsonb[];
	v_m	text;
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
		-- [i, j): the longest run of calls of one method with a set form
		v_m := fl.bulk_method(p_method[i], p_params[i]);
		j := i + 1;
		WHILE v_m IS NOT NULL AND j <= v_n AND
		    fl.bulk_method(p_method[j], p_params[j]) IS NOT DISTINCT FROM v_m LOOP
			j := j + 1;
		END LOOP;
		v_res := NULL;
		IF j - i >= 2 AND v_m = 'contribution.receive' THEN
			v_res := fl.receive_bulk(p_token[i:j - 1], p_cert[i:j - 1], p_roles[i:j - 1],
			    p_params[i:j - 1], p_idem[i:j - 1]);
		ELSIF j - i >= 2 AND v_m = 'grant.approve' THEN
			v_res := fl.approve_bulk(p_token[i:j - 1], p_cert[i:j - 1], p_roles[i:j - 1],
			    p_params[i:j - 1], p_idem[i:j - 1]);
		END IF;
		IF v_res IS NOT NULL THEN
			RETURN QUERY SELECT u.r FROM unnest(v_res) WITH ORDINALITY AS u(r, o)
				      ORDER BY u.o;
			i := j;
			CONTINUE;
		END IF;
		-- one by one: the run's calls, or the one call without a set form
		FOR k IN i..j - 1 LOOP
			RETURN NEXT api.call(p_token[k], p_cert[k], p_method[k], p_roles[k]::text[],
			    p_params[k], p_idem[k], p_ctx[k]);
		END LOOP;
		i := j;
	END LOOP;
END
$$;
