-- Principals and authentication: the guard and the change notification of fl.principal,
-- the lookup of credentials, api.authorize() for what is not a call, system.whoami and
-- principal.*. api.call() (functions/90_dispatch.sql) authenticates inline.

-- A principal may only ever be revoked; nothing else about it changes.
CREATE OR REPLACE FUNCTION fl.principal_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'principals are never deleted';
	END IF;
	IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
		RAISE EXCEPTION 'a revoked principal stays revoked';
	END IF;
	IF (NEW.principal_id, NEW.name, NEW.roles, NEW.partner_id, NEW.token_hash,
	    NEW.cert_sha256, NEW.created_at, NEW.created_by) IS DISTINCT FROM
	   (OLD.principal_id, OLD.name, OLD.roles, OLD.partner_id, OLD.token_hash,
	    OLD.cert_sha256, OLD.created_at, OLD.created_by) THEN
		RAISE EXCEPTION 'only revoked_at of a principal may change';
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER principal_guard BEFORE UPDATE OR DELETE ON fl.principal
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
		 WHERE token_hash = p_token AND revoked_at IS NULL;
	ELSIF p_cert IS NOT NULL THEN
		SELECT * INTO v FROM fl.principal
		 WHERE cert_sha256 = p_cert AND revoked_at IS NULL;
	END IF;
	RETURN v;
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
		    coalesce(p_reason, CASE WHEN p_token IS NULL AND p_cert IS NULL
		    THEN 'no_credentials' ELSE 'bad_credentials' END));
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
	    'roles', to_jsonb(p.roles), 'partner_id', p.partner_id);
END
$$;

-- system.whoami, the most frequent call: fl.principal_json's body inline, one PL/pgSQL
-- call level less.
CREATE OR REPLACE FUNCTION api.system_whoami(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('principal_id', p.principal_id, 'name', p.name,
	    'roles', to_jsonb(p.roles), 'partner_id', p.partner_id);
END
$$;

-- principal.create: a partner principal names an existing partner. ctx.token_sha256 is the
-- hex SHA-256 of the new token, which the daemon generates and adds to the answer it sends:
-- the token never reaches the database.
CREATE OR REPLACE FUNCTION api.principal_create(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	v	fl.principal;
	v_roles	text[];
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
	INSERT INTO fl.principal (name, roles, partner_id, token_hash, created_by)
	VALUES (params->>'name', v_roles, params->>'partner_id',
	    decode(ctx->>'token_sha256', 'hex'), p.principal_id)
	RETURNING * INTO v;
	RETURN fl.principal_json(v) || jsonb_build_object('created_at', fl.ts(v.created_at));
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
