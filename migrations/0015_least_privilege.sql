-- 0015_least_privilege: the daemon's role gets the least it needs (docs/database-role.md).
--
-- 1. fl.method: the roles each method and each HTTP endpoint needs, written by the runner
--    from fundd's method table (daemon/methods.c) in every run; api.call(),
--    api.call_many() and api.authorize() read it, and no longer take the roles from their
--    caller.
-- 2. The old signatures of those entry points, which took the roles, are dropped; the
--    repeatable files create the new ones.
-- 3. Default privileges: functions the schema's owner creates are no longer executable by
--    PUBLIC, nor by fundd_app. (A default set IN SCHEMA can only add privileges: the
--    revoke from PUBLIC that 0001 made that way did nothing.) Every privilege itself is
--    set by fl.apply_privileges() (functions/95_privileges.sql), which the runner calls at
--    the end of every run.

CREATE TABLE fl.method (
	name	fl.method_name PRIMARY KEY,
	roles	text[] NOT NULL CHECK (roles <@ ARRAY['admin', 'approver', 'auditor', 'partner'])
);

DROP FUNCTION IF EXISTS api.call(bytea, bytea, text, text[], jsonb, text, jsonb);
DROP FUNCTION IF EXISTS api.call_many(bytea[], bytea[], text[], text[], jsonb[], text[],
    jsonb[]);
DROP FUNCTION IF EXISTS api.authorize(bytea, bytea, text, text[], text, jsonb);

ALTER DEFAULT PRIVILEGES IN SCHEMA api REVOKE EXECUTE ON FUNCTIONS FROM fundd_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA fl REVOKE EXECUTE ON FUNCTIONS FROM fundd_app;
-- without IN SCHEMA: for every function the current role (the schema's owner) creates
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
