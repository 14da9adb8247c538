-- 0001_foundation: schemas, the daemon's role, principals, regions, idempotency, and the
-- one-round-trip RPC dispatcher api.call().
--
-- Schema fl holds the tables; schema api the functions the daemon calls. The daemon logs in
-- as a member of the group role fundd_app and gets only the privileges granted here: it can
-- never update or delete history (later migrations add the journal and audit tables with
-- INSERT and SELECT only, plus triggers that refuse UPDATE and DELETE for everybody).

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fundd_app') THEN
		CREATE ROLE fundd_app NOLOGIN;
	END IF;
END
$$;

CREATE SCHEMA fl;
CREATE SCHEMA api;
REVOKE ALL ON SCHEMA fl, api FROM PUBLIC;
GRANT USAGE ON SCHEMA fl, api TO fundd_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA api REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA api GRANT EXECUTE ON FUNCTIONS TO fundd_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA fl REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA fl GRANT EXECUTE ON FUNCTIONS TO fundd_app;

-- An opaque id: a prefix and 20 hex digits of randomness.
CREATE FUNCTION fl.new_id(p_prefix text) RETURNS text
LANGUAGE sql VOLATILE AS $$
	SELECT p_prefix || '_' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 20)
$$;

-- RFC 3339 UTC, as the protocol writes times: 2026-11-23T10:00:00.123456Z
-- Functions on the request path are PL/pgSQL: SQL-language functions called from PL/pgSQL
-- are parsed again on every call (docs/benchmarks.md).
CREATE FUNCTION fl.ts(p_t timestamptz) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN to_char(p_t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
END
$$;

-- Raise a JSON-RPC error. The daemon maps SQLSTATE FLERR to the error object in the message;
-- any other SQLSTATE becomes -32603 without details.
CREATE FUNCTION fl.rpc_error(p_code int, p_reason text, p_field text DEFAULT NULL,
    p_message text DEFAULT NULL, p_extra jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'FLERR', MESSAGE = jsonb_build_object(
	    'code', p_code,
	    'message', coalesce(p_message, replace(p_reason, '_', ' ')),
	    'data', jsonb_strip_nulls(jsonb_build_object('reason', p_reason, 'field', p_field))
	        || p_extra)::text;
END
$$;

CREATE TABLE fl.region (
	region_code	text PRIMARY KEY CHECK (region_code ~ '^[A-Z]{2}-[A-Z0-9]{1,3}$'),
	region		text NOT NULL UNIQUE CHECK (length(region) BETWEEN 1 AND 100),
	country		text NOT NULL CHECK (country ~ '^[A-Z]{2}$')
		CHECK (substr(region_code, 1, 2) = country)
);
INSERT INTO fl.region (region_code, region, country) VALUES
	('AM-AG', 'Aragatsotn', 'AM'),
	('AM-AR', 'Ararat', 'AM'),
	('AM-AV', 'Armavir', 'AM'),
	('AM-GR', 'Gegharkunik', 'AM'),
	('AM-KT', 'Kotayk', 'AM'),
	('AM-LO', 'Lori', 'AM'),
	('AM-SH', 'Shirak', 'AM'),
	('AM-SU', 'Syunik', 'AM'),
	('AM-TV', 'Tavush', 'AM'),
	('AM-VD', 'Vayots Dzor', 'AM'),
	('AM-ER', 'Yerevan', 'AM');

CREATE TABLE fl.principal (
	principal_id	text PRIMARY KEY DEFAULT fl.new_id('pr'),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	roles		text[] NOT NULL CHECK (cardinality(roles) >= 1
			    AND roles <@ ARRAY['admin', 'approver', 'auditor', 'partner']),
	partner_id	text,
	-- SHA-256 of the bearer token; the token itself is never stored
	token_hash	bytea UNIQUE CHECK (length(token_hash) = 32),
	-- SHA-256 of the DER client certificate, for mutual-TLS login
	cert_sha256	bytea UNIQUE CHECK (length(cert_sha256) = 32),
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text REFERENCES fl.principal,
	revoked_at	timestamptz,
	CHECK (('partner' = ANY (roles)) = (partner_id IS NOT NULL)),
	CHECK (token_hash IS NOT NULL OR cert_sha256 IS NOT NULL)
);

-- A principal may only ever be revoked; nothing else about it changes.
CREATE FUNCTION fl.principal_guard() RETURNS trigger
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
CREATE TRIGGER principal_guard BEFORE UPDATE OR DELETE ON fl.principal
	FOR EACH ROW EXECUTE FUNCTION fl.principal_guard();

-- Idempotency keys, scoped per principal. The stored result never holds a secret: fields
-- named "token" are removed before storing (a replay shows token: null).
CREATE TABLE fl.idempotency (
	principal_id	text NOT NULL REFERENCES fl.principal,
	key		text NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
	method		text NOT NULL,
	params_sha256	bytea NOT NULL,
	result		jsonb,
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (principal_id, key)
);
CREATE INDEX idempotency_created_at ON fl.idempotency (created_at);

GRANT SELECT, INSERT ON fl.principal TO fundd_app;
GRANT UPDATE (revoked_at) ON fl.principal TO fundd_app;
GRANT SELECT ON fl.region TO fundd_app;
GRANT SELECT, INSERT ON fl.idempotency TO fundd_app;
GRANT UPDATE (result) ON fl.idempotency TO fundd_app;

-- The principal behind a token hash or, without a token, a certificate fingerprint.
CREATE FUNCTION fl.authenticate(p_token bytea, p_cert bytea) RETURNS fl.principal
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

CREATE FUNCTION fl.principal_json(p fl.principal) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN jsonb_build_object('principal_id', p.principal_id, 'name', p.name,
	    'roles', to_jsonb(p.roles), 'partner_id', p.partner_id);
END
$$;

-- For HTTP endpoints that are not RPC (/metrics, exports): the principal as JSON, or null.
CREATE FUNCTION api.authenticate(p_token bytea, p_cert bytea) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v	fl.principal := fl.authenticate(p_token, p_cert);
BEGIN
	IF v.principal_id IS NULL THEN
		RETURN NULL;
	END IF;
	RETURN fl.principal_json(v);
END
$$;

-- system.* ---------------------------------------------------------------------------------

CREATE FUNCTION api.system_version(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('version', ctx->>'version', 'protocol', 1);
END
$$;

-- the hottest call: fl.principal_json's body inline, one PL/pgSQL call level less
CREATE FUNCTION api.system_whoami(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN jsonb_build_object('principal_id', p.principal_id, 'name', p.name,
	    'roles', to_jsonb(p.roles), 'partner_id', p.partner_id);
END
$$;

CREATE FUNCTION api.region_list(p fl.principal, params jsonb, ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT jsonb_build_object('regions', coalesce(jsonb_agg(jsonb_build_object(
	    'region', region, 'region_code', region_code, 'country', country)
	    ORDER BY country, region), '[]'))
	  FROM fl.region);
END
$$;

-- principal.* ------------------------------------------------------------------------------

-- ctx.token_sha256: hex SHA-256 of the new token, generated by the daemon. The daemon adds
-- the token itself to the result it sends; it never reaches the database.
CREATE FUNCTION api.principal_create(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
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
	INSERT INTO fl.principal (name, roles, partner_id, token_hash, created_by)
	VALUES (params->>'name', v_roles, params->>'partner_id',
	    decode(ctx->>'token_sha256', 'hex'), p.principal_id)
	RETURNING * INTO v;
	RETURN fl.principal_json(v) || jsonb_build_object('created_at', fl.ts(v.created_at));
END
$$;

CREATE FUNCTION api.principal_revoke(p fl.principal, params jsonb, ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
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

-- The RPC entry point ------------------------------------------------------------------------
--
-- fl.rebuild_dispatch() generates api.call() from every function
-- api.<ns>_<name>(fl.principal, jsonb, jsonb) RETURNS jsonb, whose method name is
-- <ns>.<name> (the first underscore becomes the dot): authentication inline and a CASE of
-- static calls, whose plans PL/pgSQL caches per session (EXECUTE would plan every call).
-- The migration runner calls it after each migration, so a migration that adds a method
-- only creates its function.

CREATE FUNCTION fl.rebuild_dispatch() RETURNS int
LANGUAGE plpgsql AS $rebuild$
DECLARE
	v_cases	text := '';
	v_n	int := 0;
	r	record;
BEGIN
	FOR r IN
		SELECT p.proname
		  FROM pg_proc p
		  JOIN pg_namespace n ON n.oid = p.pronamespace
		 WHERE n.nspname = 'api'
		   AND p.proname ~ '^[a-z]+_[a-z_]+$'
		   AND p.prorettype = 'jsonb'::regtype
		   AND array_to_string(p.proargtypes::regtype[], ',') = 'fl.principal,jsonb,jsonb'
		 ORDER BY p.proname
	LOOP
		v_cases := v_cases || format(E'\tWHEN %L THEN v_res := api.%I(v_p, p_params, p_ctx);\n',
		    regexp_replace(r.proname, '_', '.'), r.proname);
		v_n := v_n + 1;
	END LOOP;
	EXECUTE format($f$
-- The RPC entry point (generated by fl.rebuild_dispatch(): do not edit): authenticates the
-- token hash (or certificate hash), checks roles, claims the idempotency key and runs the
-- method, in one statement: one round trip and one transaction per call. Returns
-- {"result": ..., "replayed": bool} or {"error": {code, message, data}} for refusals that
-- write nothing; errors raised by methods (SQLSTATE FLERR) roll the whole call back.
CREATE OR REPLACE FUNCTION api.call(p_token bytea, p_cert bytea, p_method text,
    p_roles text[], p_params jsonb, p_idem text, p_ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $c$
DECLARE
	v_p	fl.principal;
	v_hash	bytea;
	v_row	fl.idempotency;
	v_res	jsonb;
	v_scoped boolean;
BEGIN
	IF p_token IS NOT NULL THEN
		SELECT * INTO v_p FROM fl.principal
		 WHERE token_hash = p_token AND revoked_at IS NULL;
	ELSIF p_cert IS NOT NULL THEN
		SELECT * INTO v_p FROM fl.principal
		 WHERE cert_sha256 = p_cert AND revoked_at IS NULL;
	END IF;
	IF v_p.principal_id IS NULL THEN
		RETURN jsonb_build_object('error', jsonb_build_object('code', -32001,
		    'message', 'unauthenticated', 'data', jsonb_build_object('reason',
		    CASE WHEN p_token IS NULL AND p_cert IS NULL THEN 'no_credentials'
		    ELSE 'bad_credentials' END)));
	END IF;
	IF cardinality(p_roles) > 0 AND NOT (v_p.roles && p_roles) THEN
		RETURN jsonb_build_object('error', jsonb_build_object('code', -32003,
		    'message', 'forbidden', 'data', jsonb_build_object('reason',
		    'role_required', 'roles', to_jsonb(p_roles))));
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
	IF p_idem IS NOT NULL THEN
		v_hash := sha256(convert_to(p_method || ' ' || p_params::text, 'UTF8'));
		INSERT INTO fl.idempotency (principal_id, key, method, params_sha256)
		VALUES (v_p.principal_id, p_idem, p_method, v_hash)
		ON CONFLICT DO NOTHING;
		IF NOT FOUND THEN
			-- a committed earlier call holds the key (a concurrent one made us wait)
			SELECT * INTO v_row FROM fl.idempotency
			 WHERE principal_id = v_p.principal_id AND key = p_idem;
			IF v_row.method <> p_method OR v_row.params_sha256 <> v_hash THEN
				RETURN jsonb_build_object('error', jsonb_build_object(
				    'code', -32009,
				    'message', 'idempotency key reused with other params',
				    'data', jsonb_build_object('reason', 'idempotency_mismatch',
				    'field', 'idempotency_key')));
			END IF;
			RETURN jsonb_build_object('result', v_row.result, 'replayed', true);
		END IF;
	END IF;
	CASE p_method
%s	ELSE
		PERFORM fl.rpc_error(-32601, 'method_not_found', 'method');
	END CASE;
	IF v_scoped AND jsonb_typeof(v_res) = 'object' AND v_res ? 'partner_id' AND
	    v_res->>'partner_id' IS DISTINCT FROM v_p.partner_id THEN
		-- the same answer as a missing object of this method (rolls the call back)
		PERFORM fl.rpc_error(-32004, split_part(p_method, '.', 1) || '_not_found',
		    split_part(p_method, '.', 1) || '_id');
	END IF;
	IF p_idem IS NOT NULL THEN
		UPDATE fl.idempotency SET result = v_res - 'token'
		 WHERE principal_id = v_p.principal_id AND key = p_idem;
	END IF;
	RETURN jsonb_build_object('result', v_res, 'replayed', false);
END
$c$
$f$, v_cases);
	RETURN v_n;
END
$rebuild$;
REVOKE EXECUTE ON FUNCTION fl.rebuild_dispatch() FROM fundd_app;

SELECT fl.rebuild_dispatch();
