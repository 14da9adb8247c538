-- 0001_foundation: schemas, the daemon's role, principals, regions and idempotency keys.
--
-- Schema fl holds the tables; schema api the functions the daemon calls. The daemon logs in
-- as a member of the group role fundd_app and gets only the privileges granted in the
-- migrations: it can never update or delete history (the journal and audit tables grant it
-- INSERT and SELECT only, and triggers refuse UPDATE and DELETE for everybody). The ids get
-- their defaults in functions/10_common.sql; the functions of principals are in
-- functions/20_auth.sql, and api.call(), the one-round-trip RPC entry point, is generated
-- by fl.rebuild_dispatch() in functions/90_dispatch.sql.

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
	principal_id	text PRIMARY KEY,
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
