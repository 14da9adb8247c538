-- 0019_principal_confirm: a principal with the admin or approver role that an admin creates
-- through the API is pending, with no credential, until a different admin confirms it
-- (principal.confirm, functions/20_auth.sql). Principals that exist already were usable,
-- so they count as confirmed when they were created; the bootstrap (`fundd principal add`,
-- run with the schema owner's credentials) confirms at once through the column's default.

ALTER TABLE fl.principal
	ADD COLUMN confirmed_at timestamptz,
	ADD COLUMN confirmed_by text REFERENCES fl.principal;
UPDATE fl.principal SET confirmed_at = created_at;
ALTER TABLE fl.principal ALTER COLUMN confirmed_at SET DEFAULT now();

-- A pending principal holds no credential, so nothing can authenticate as it; a confirmed
-- one holds at least one. A confirmer is recorded only with a confirmation.
ALTER TABLE fl.principal DROP CONSTRAINT IF EXISTS principal_check1;
ALTER TABLE fl.principal
	ADD CONSTRAINT principal_credential CHECK ((confirmed_at IS NULL) =
	    (token_hash IS NULL AND cert_sha256 IS NULL)),
	ADD CONSTRAINT principal_confirmer CHECK (confirmed_by IS NULL OR confirmed_at IS NOT NULL);
