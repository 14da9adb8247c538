-- The daemon's role and what it may do (docs/database-role.md): the method table that
-- api.call() and api.authorize() take the required roles from, and every privilege of
-- schemas fl and api, set in one place. The runner calls both at the end of every run, in
-- its transaction, as the schema's owner.

-- Sets fl.method to p_methods, {"<method or endpoint>": "<text[] literal of roles>"}: the
-- compiled table of the fundd that migrates (daemon/methods.c). Returns how many rows it
-- added, changed or removed.
CREATE OR REPLACE FUNCTION fl.method_set(p_methods jsonb) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
	v_gone	int;
	v_set	int;
BEGIN
	DELETE FROM fl.method m WHERE NOT p_methods ? m.name;
	GET DIAGNOSTICS v_gone = ROW_COUNT;
	INSERT INTO fl.method (name, roles)
	SELECT j.key, j.value::text[] FROM jsonb_each_text(p_methods) j
	ON CONFLICT (name) DO UPDATE SET roles = EXCLUDED.roles
	 WHERE fl.method.roles IS DISTINCT FROM EXCLUDED.roles;
	GET DIAGNOSTICS v_set = ROW_COUNT;
	RETURN v_gone + v_set;
END
$$;

-- How fl.method differs from p_methods (as fl.method_set() takes it), a row per method or
-- endpoint, by name: 'missing' (p_methods' only), 'extra' (fl.method's only) or 'roles'
-- (other roles). fundd calls it at start and refuses to serve when anything differs, or,
-- on a newer schema that serves it (docs/migrations.md, "Rolling upgrades"), when one of
-- its own methods is missing or needs other roles: a binary and a database never disagree
-- on who may call what.
CREATE OR REPLACE FUNCTION fl.method_diff(p_methods jsonb) RETURNS TABLE (name text, diff text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT coalesce(m.name, j.key),
	       CASE WHEN m.name IS NULL THEN 'missing' WHEN j.key IS NULL THEN 'extra'
		    ELSE 'roles' END
	  FROM fl.method m
	  FULL JOIN jsonb_each_text(p_methods) j ON j.key = m.name
	 WHERE m.name IS NULL OR j.key IS NULL OR m.roles IS DISTINCT FROM j.value::text[]
	 ORDER BY coalesce(m.name, j.key) COLLATE "C"
$$;

-- Every privilege on schemas fl and api. PUBLIC gets nothing; fundd_app, the daemon's
-- group role, gets EXECUTE on the entry points only, each SECURITY DEFINER with a fixed
-- search_path, and SELECT on the export views (no personal data, no token hashes) with
-- the two time functions they and the export's range condition call. No table, sequence or
-- other function: whatever else the daemon does goes through the entry points. A new
-- object gets no privilege until it is listed here.
CREATE OR REPLACE FUNCTION fl.apply_privileges() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	REVOKE ALL ON SCHEMA fl, api FROM PUBLIC, fundd_app;
	REVOKE ALL ON ALL TABLES IN SCHEMA fl, api FROM PUBLIC, fundd_app;
	REVOKE ALL ON ALL SEQUENCES IN SCHEMA fl, api FROM PUBLIC, fundd_app;
	REVOKE ALL ON ALL FUNCTIONS IN SCHEMA fl, api FROM PUBLIC, fundd_app;
	-- (functions created later, by the owner: not executable by PUBLIC)
	ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
	GRANT USAGE ON SCHEMA fl, api TO fundd_app;
	GRANT EXECUTE ON FUNCTION
	    api.call(bytea, bytea, text, jsonb, text, jsonb),
	    api.call_many(bytea[], bytea[], text[], jsonb[], text[], jsonb[]),
	    api.authorize(bytea, bytea, text, text, jsonb),
	    api.access_record(bytea[], bytea[], text[], jsonb[]),
	    api.document_upload(bytea, bytea, text, bytea, text, text, text),
	    api.document_download(bytea, bytea, text),
	    fl.purge_idempotency(int),
	    fl.erase_due(int, int),
	    fl.fold_all(),
	    fl.alloc_catch_up_all(),
	    fl.audit_chain(int),
	    fl.audit_checkpoint_due(text),
	    fl.ops_state(),
	    fl.audit_checkpoint_add(bigint, text, text, text, text),
	    fl.method_diff(jsonb),
	    fl.ts(timestamptz),
	    fl.time_in(text)
	    TO fundd_app;
	GRANT SELECT ON fl.ledger_export, fl.ledger_export_header, fl.audit_export TO fundd_app;
END
$$;
