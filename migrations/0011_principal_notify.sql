-- 0011_principal_notify: every write to fl.principal tells the daemons at once.
--
-- fundd answers system.whoami from a cache of the credentials the database accepted
-- (daemon/auth_cache.c, docs/auth-cache.md). Each daemon LISTENs on channel fl_principal
-- and drops its whole cache for every notification, so that a principal revoked by
-- another daemon, or by an operator in psql, is refused on its next request. A statement-level trigger: one notification per statement, sent by
-- PostgreSQL when (and only if) the transaction commits. Inserts notify too, although a
-- new principal cannot change what a cached credential means (tokens and certificate
-- fingerprints are unique): one rule for every write is the one nobody has to reason about.

CREATE FUNCTION fl.principal_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('fl_principal', TG_OP);
	RETURN NULL;
END
$$;

CREATE TRIGGER principal_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fl.principal
	FOR EACH STATEMENT EXECUTE FUNCTION fl.principal_notify();
