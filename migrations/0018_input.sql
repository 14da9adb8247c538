-- 0018_input: what the daemon accepts, the schema holds (issue 16; docs/protocol.md).
--
-- 1. A returnee's national id is compared as a person reads it, not byte for byte:
--    national_key is the national id with its format characters (Unicode Cf: U+200B, U+00AD,
--    U+202E, ...) removed, in Unicode NFKC (fullwidth "ＡＭ" is "AM"), in lower case (the
--    ICU root collation: every script) and trimmed. The register function computes it
--    with fl.national_key() (functions/50_grants.sql); existing rows get it here, the same
--    way. The unique index is on it; the id as typed stays for display.
--    Existing returnees whose keys collide are not merged: the migration stops, naming
--    them, and an administrator decides (docs/migrations.md).
-- 2. A journal entry's memo holds what fund.record_earnings writes: "earnings " and a period
--    of up to 64 characters, ": " and a note of up to 500: 575 characters.

ALTER TABLE fl.returnee ADD COLUMN national_key text;
UPDATE fl.returnee
   SET national_key = btrim(lower(normalize(regexp_replace(national_id,
	E'[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e'
	'\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U0001bca0-\U0001bca3'
	'\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]', '', 'g'), NFKC)
	COLLATE "und-x-icu"), E' \t\u00a0\u1680\u2028\u2029\u3000')
 WHERE national_id IS NOT NULL;

DO $$
DECLARE
	v_dups	text;
BEGIN
	SELECT string_agg(ids, '; ') INTO v_dups
	  FROM (SELECT string_agg(returnee_id, ', ' ORDER BY seq) AS ids
		  FROM fl.returnee WHERE national_key IS NOT NULL
		 GROUP BY national_key HAVING count(*) > 1) d;
	IF v_dups IS NOT NULL THEN
		RAISE EXCEPTION 'returnees registered twice under one national id, written '
		    'differently: %', v_dups
		    USING HINT = 'each group may be one person: see docs/migrations.md, '
		    '"Returnees with the same national id", then migrate again';
	END IF;
END
$$;

ALTER TABLE fl.returnee ADD CONSTRAINT returnee_national_key_check
	CHECK ((national_id IS NULL) = (national_key IS NULL));
DROP INDEX IF EXISTS fl.returnee_national_id;
CREATE UNIQUE INDEX returnee_national_key ON fl.returnee (national_key)
	WHERE national_key IS NOT NULL;

ALTER DOMAIN fl.memo DROP CONSTRAINT memo_check;
ALTER DOMAIN fl.memo ADD CONSTRAINT memo_check CHECK (length(VALUE) <= 575);
