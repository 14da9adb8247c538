-- Closed periods (docs/ledger.md, Closed periods; docs/audit.md, Closed periods). A close
-- covers every value date up to and including its `until` (a UTC day). period.close asks
-- for one, period.close_confirm (another principal, an auditor) closes it, and from then on
-- the guard below refuses any journal entry whose value date falls on or before `until`.
-- The confirmation records the close: the closing balance of every account and fund, and
-- the SHA-256 of the ledger export of the closed range, as canonical bytes whose digest is
-- the params_sha256 of an audit event `period.close_record`, so that the next signed
-- checkpoint covers it.

-- The advisory lock that orders journal writes and confirmations: every statement that
-- inserts journal entries holds it shared until its transaction ends (fl.period_guard),
-- a confirmation takes it exclusive. So a write in flight when a close is confirmed either
-- commits before the confirmation reads the books, or waits and then sees the close.
CREATE OR REPLACE FUNCTION fl.period_lock_key() RETURNS int
LANGUAGE sql IMMUTABLE AS $$
	SELECT 2
$$;

-- The first instant after the closed periods (midnight UTC after the latest confirmed
-- `until`), or null when nothing is closed.
CREATE OR REPLACE FUNCTION fl.period_open_from() RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT (max(until) + 1)::timestamp AT TIME ZONE 'UTC' FROM fl.period_close
		 WHERE status = 'confirmed');
END
$$;

-- The guard: once per INSERT statement on the journal, whatever wrote it. -32009
-- period_closed, naming the param that carries the value date of the entry's kind.
CREATE OR REPLACE FUNCTION fl.period_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
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
CREATE OR REPLACE TRIGGER journal_entry_period AFTER INSERT ON fl.journal_entry
	REFERENCING NEW TABLE AS new_entries
	FOR EACH STATEMENT EXECUTE FUNCTION fl.period_guard();

-- A close is never deleted; only a pending one changes (to confirmed or dropped).
CREATE OR REPLACE FUNCTION fl.period_close_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
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
CREATE OR REPLACE TRIGGER period_close_guard BEFORE UPDATE OR DELETE ON fl.period_close
	FOR EACH ROW EXECUTE FUNCTION fl.period_close_guard();
CREATE OR REPLACE TRIGGER period_close_no_truncate BEFORE TRUNCATE ON fl.period_close
	FOR EACH STATEMENT EXECUTE FUNCTION fl.append_only();

-- The export of value dates in [p_from, p_to) (p_from null: from the start) as
-- GET /export/ledger?format=csv serves it: the header line and fl.ledger_export's lines in
-- the export's order, each ended by CRLF. Returns the number of rows (without the header),
-- the SHA-256 of those bytes, and the SHA-256 of the concatenated SHA-256 of each line
-- (header first) with its CRLF, and the number of entries. export.c selects the same lines
-- in the same order.
CREATE OR REPLACE FUNCTION fl.ledger_export_digest(p_from timestamptz, p_to timestamptz,
    OUT rows bigint, OUT sha bytea, OUT rows_sha bytea, OUT entries bigint)
LANGUAGE sql STABLE AS $$
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

-- The closing balances at p_to (value dates before it): a line per account, by name,
--   account <name> <currency> <balance>
-- then a line per fund, by code, its figures summed from its accounts as
-- fl.fund_balance_from_journal() sums them,
--   fund <code> <currency> received=<> earnings=<> pledged=<> committed=<> disbursed=<>
--   transferred_in=<> transferred_out=<> charges=<> capital_impaired=<>   (one line)
-- amounts as decimal strings (debit positive), each line ended by LF.
CREATE OR REPLACE FUNCTION fl.period_balances(p_to timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
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

-- A close as the period.* methods answer it.
CREATE OR REPLACE FUNCTION fl.period_json(c fl.period_close) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
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

CREATE OR REPLACE FUNCTION fl.period_get(p_id text) RETURNS fl.period_close
LANGUAGE plpgsql STABLE AS $$
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

-- period.close: a pending close of every value date up to and including `until`, a UTC
-- day that has ended, later than the last close. Asking again for the same day answers
-- the pending close; another day while one is pending is -32009 close_pending.
CREATE OR REPLACE FUNCTION api.period_close(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
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

-- period.close_confirm: closes a pending close; by another principal than the one who
-- asked for it (-32011 own_close). Confirming a confirmed close answers it unchanged.
CREATE OR REPLACE FUNCTION api.period_close_confirm(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
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

-- period.close_drop: drops a pending close; dropping a dropped one answers it unchanged.
CREATE OR REPLACE FUNCTION api.period_close_drop(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
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

-- period.closes: every close, newest request first.
CREATE OR REPLACE FUNCTION api.period_closes(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('closes', coalesce((SELECT jsonb_agg(fl.period_json(c)
	    ORDER BY c.requested_at DESC, c.period_id) FROM fl.period_close c), '[]'));
END
$$;

-- period.close_get: one close; a confirmed one with its proof once a signed checkpoint
-- covers its record's event (else proof null): the chain hash before that event, every
-- event from it to the first checkpoint at or after it, that checkpoint, and the lines of
-- the signing keys from key 1 to the one of the checkpoint's seq, as the audit export has
-- them (none while no key is registered yet).
CREATE OR REPLACE FUNCTION api.period_close_get(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
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
