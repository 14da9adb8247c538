-- Principals and authentication: the guard and the change notification of fl.principal,
-- the lookup of credentials, api.authorize() for what is not a call, system.whoami and
-- principal.*. api.call() (functions/90_dispatch.sql) authenticates inline.

-- A principal may only ever be revoked, confirmed once, or given a new token (with its
-- expiry) while confirmed and not revoked; nothing else about it changes.
-- An admin or approver that an admin creates (created_by set) starts pending, with no
-- credential, and only an active admin other than its creator confirms it: the four-eyes
-- rule of principal.confirm, held here whoever writes the row. The bootstrap (`fundd
-- principal add`, created_by NULL) is confirmed as it is created.
CREATE OR REPLACE FUNCTION fl.principal_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
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
CREATE OR REPLACE TRIGGER principal_guard BEFORE INSERT OR UPDATE OR DELETE ON fl.principal
	FOR EACH ROW EXECUTE FUNCTION fl.principal_guard();

-- Every write to fl.principal notifies channel fl_principal. Each daemon LISTENs on it and
-- drops its whole credentials cache on every notification (docs/auth-cache.md), so that a
-- principal revoked by another daemon, or by an operator in psql, is refused on its next
-- request. A statement trigger: one notification per statement, sent by PostgreSQL when
-- (and only if) the transaction commits. Inserts notify too, although a new principal
-- changes no cached credential: one rule for every write needs no reasoning.
CREATE OR REPLACE FUNCTION fl.principal_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('fl_principal', TG_OP);
	RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER principal_notify
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fl.principal
	FOR EACH STATEMENT EXECUTE FUNCTION fl.principal_notify();

-- The principal behind a token hash or, without a token, a certificate fingerprint.
CREATE OR REPLACE FUNCTION fl.authenticate(p_token bytea, p_cert bytea) RETURNS fl.principal
LANGUAGE plpgsql STABLE AS $$
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

-- Why credentials nobody may use were refused: none, a token past its expiry (which its
-- holder may be told), or credentials nobody holds or that were revoked.
CREATE OR REPLACE FUNCTION fl.refusal_reason(p_token bytea, p_cert bytea) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p_token IS NULL AND p_cert IS NULL THEN 'no_credentials'
	    WHEN p_token IS NOT NULL AND EXISTS (SELECT 1 FROM fl.principal
		WHERE token_hash = p_token AND revoked_at IS NULL
		  AND token_expires_at <= now()) THEN 'token_expired'
	    ELSE 'bad_credentials' END
$$;

-- That principal p_id made a call now: its row of fl.principal_seen, written when it is a
-- minute old or more, never on a session that takes no writes, and never waiting for
-- another call's lock on the row (that call writes it): a read first, then the row only
-- if it is free (SKIP LOCKED), so that a principal's calls never queue on it.
CREATE OR REPLACE FUNCTION fl.principal_seen(p_id text) RETURNS void
LANGUAGE plpgsql AS $$
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

-- Authorisation of the HTTP endpoints that are not calls (/metrics, exports), of a call
-- without usable credentials, and of a call whose params are bad (before it is told so):
-- records refusals as api.call() does. The roles p_what needs are fl.method's (never the
-- caller's say). Returns {"principal": ...} or {"error": ...}. An entry point of the
-- daemon's role (functions/95_privileges.sql).
CREATE OR REPLACE FUNCTION api.authorize(p_token bytea, p_cert bytea, p_what text,
    p_reason text, p_params jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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

-- A principal as the protocol shows it.
CREATE OR REPLACE FUNCTION fl.principal_json(p fl.principal) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN jsonb_build_object('principal_id', p.principal_id, 'name', p.name,
	    'roles', to_jsonb(p.roles), 'partner_id', p.partner_id)
	    -- (only a token that expires adds its expiry: the v1 shape stays as it was)
	    || CASE WHEN p.token_expires_at IS NOT NULL THEN jsonb_build_object(
		'token_expires_at', fl.ts(p.token_expires_at)) ELSE '{}' END;
END
$$;

-- A bearer token's expiry from params (expires_at: a time to come), or NULL without one.
CREATE OR REPLACE FUNCTION fl.token_expiry_in(params jsonb) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
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

-- system.whoami, the most frequent call: fl.principal_json's body inline, one PL/pgSQL
-- call level less.
CREATE OR REPLACE FUNCTION api.system_whoami(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('principal_id', p.principal_id, 'name', p.name,
	    'roles', to_jsonb(p.roles), 'partner_id', p.partner_id)
	    -- (only a token that expires adds its expiry: the v1 shape stays as it was)
	    || CASE WHEN p.token_expires_at IS NOT NULL THEN jsonb_build_object(
		'token_expires_at', fl.ts(p.token_expires_at)) ELSE '{}' END;
END
$$;

-- principal.create: a partner principal names an existing partner. ctx.token_sha256 is the
-- hex SHA-256 of a new token, which the daemon generates and adds to the answer it sends
-- where the answer's "token" is true: the token never reaches the database. An admin or
-- approver is created pending, without the token ("token" null), until a different admin
-- confirms it (principal.confirm); a partner or auditor is usable at once.
CREATE OR REPLACE FUNCTION api.principal_create(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
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

-- principal.confirm: the second admin's step for a pending admin or approver. The daemon's
-- new token (ctx.token_sha256) is stored now and its token is in this answer only; a replay
-- of the call answers "token" null.
CREATE OR REPLACE FUNCTION api.principal_confirm(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
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

-- principal.revoke: any principal but the caller; revoking it again answers the same.
CREATE OR REPLACE FUNCTION api.principal_revoke(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
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

-- principal.rotate_token: a new bearer token for the caller, or for a partner or auditor
-- (by an admin, who may create those alone): the old one stops working at once; the new
-- one is in this answer only (ctx.token_sha256, as principal.create), with an optional
-- expiry. An admin's or approver's token is rotated by its holder only: another admin
-- holding it could act as both eyes of the four-eyes rule.
CREATE OR REPLACE FUNCTION api.principal_rotate_token(p fl.principal, params jsonb,
    ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
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

-- A principal's state: pending (waiting for principal.confirm), revoked, expired (its
-- token is past its expiry and it has no certificate), or active.
CREATE OR REPLACE FUNCTION fl.principal_state(v fl.principal) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN v.revoked_at IS NOT NULL THEN 'revoked'
	    WHEN v.confirmed_at IS NULL THEN 'pending'
	    WHEN v.token_expires_at <= now() AND v.cert_sha256 IS NULL THEN 'expired'
	    ELSE 'active' END
$$;

-- principal.list: who has access, with roles, state, how they log in and when they last
-- made a call (fl.principal_seen: to the minute). Never a token or its hash.
CREATE OR REPLACE FUNCTION api.principal_list(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
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
