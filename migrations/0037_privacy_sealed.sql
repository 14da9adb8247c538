-- 0037_privacy_sealed: the plaintext of returnees' personal data goes (docs/privacy.md).
-- fundd-step: seal_returnees
-- fundd-vacuum-full: fl.returnee fl.correction fl.idempotency
--
-- Before this file, in the same run, fundd seals what 0036_privacy.sql left in plaintext
-- (daemon/person_seal.c): every returnee's personal data and keyed index, the personal
-- data of returnees' corrections, and that of the answers kept for idempotency keys. After
-- the run commits, it rewrites the three tables (VACUUM FULL), so that no dead row version
-- keeps the plaintext.

-- the statistics of grants applied for until now, from the plaintext
UPDATE fl.grant_application g
   SET beneficiary_gender = coalesce(r.gender, 'unknown'),
       beneficiary_age_band = CASE WHEN r.birth_year IS NULL
	   OR extract(year FROM g.created_at AT TIME ZONE 'UTC')::int - r.birth_year < 0
	   THEN 'unknown' ELSE (SELECT CASE WHEN a < 18 THEN '0-17' WHEN a < 25 THEN '18-24'
	       WHEN a < 35 THEN '25-34' WHEN a < 45 THEN '35-44' WHEN a < 55 THEN '45-54'
	       WHEN a < 65 THEN '55-64' ELSE '65+' END
	     FROM (SELECT extract(year FROM g.created_at AT TIME ZONE 'UTC')::int
		    - r.birth_year AS a) x) END
  FROM fl.returnee r
 WHERE r.returnee_id = g.returnee_id;

-- the daemon takes the age band when a grant is applied for, and normalises national ids
-- (daemon/person.c); returnee.register's checks of what stays in the database return
-- nothing now
DROP FUNCTION IF EXISTS fl.age_band(int);
DROP FUNCTION IF EXISTS fl.national_key(text);
DROP FUNCTION IF EXISTS fl.returnee_check(jsonb);

DROP TRIGGER IF EXISTS returnee_name_key ON fl.returnee;
ALTER TABLE fl.returnee
	DROP COLUMN full_name,
	DROP COLUMN national_id,
	DROP COLUMN national_key,
	DROP COLUMN name_key,
	DROP COLUMN birth_year,
	DROP COLUMN gender,
	ADD CONSTRAINT returnee_sealed CHECK (erased_at IS NOT NULL OR
	    (full_name_sealed IS NOT NULL AND name_index IS NOT NULL)),
	ADD CONSTRAINT returnee_national_sealed CHECK
	    ((national_id_sealed IS NULL) = (national_index IS NULL));
