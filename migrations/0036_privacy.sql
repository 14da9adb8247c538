-- 0036_privacy: returnees' personal data sealed (docs/privacy.md). A returnee's full name,
-- national id, birth year, gender, contact details and notes are stored only sealed
-- (AES-256-GCM) under data keys of that person's own, each held in fl.person_key wrapped
-- under the daemon's key-encryption key, which the database never sees. The national id
-- and the full name are found through a keyed index (HMAC-SHA256): equal values, as the
-- daemon normalises them, have equal index values, and nothing else can be read from
-- them. Erasing a person drops their keys (crypto-shredding).
--
-- The plaintext columns stay until 0037_privacy_sealed.sql: fundd seals the rows they hold
-- in the same run, before that file drops them.

CREATE TABLE fl.person_key (
	key_id		bytea PRIMARY KEY CHECK (length(key_id) = 16),
	returnee_id	text NOT NULL REFERENCES fl.returnee,
	kek_id		text NOT NULL CHECK (kek_id ~ '^[0-9a-f]{16}$'),
	wrapped		bytea NOT NULL CHECK (length(wrapped) = 61),
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_key_returnee ON fl.person_key (returnee_id);
CREATE INDEX person_key_kek ON fl.person_key (kek_id);

-- Sealed values: version 1, the key id, a nonce, the ciphertext and its tag.
ALTER TABLE fl.returnee
	ADD COLUMN full_name_sealed bytea CHECK (length(full_name_sealed) >= 45),
	ADD COLUMN national_id_sealed bytea CHECK (length(national_id_sealed) >= 45),
	ADD COLUMN birth_year_sealed bytea CHECK (length(birth_year_sealed) >= 45),
	ADD COLUMN gender_sealed bytea CHECK (length(gender_sealed) >= 45),
	ADD COLUMN contact_sealed bytea CHECK (length(contact_sealed) >= 45),
	ADD COLUMN notes_sealed bytea CHECK (length(notes_sealed) >= 45),
	ADD COLUMN national_index bytea CHECK (length(national_index) = 32),
	ADD COLUMN name_index bytea CHECK (length(name_index) = 32),
	-- the key-encryption key whose derived index key computed national_index and
	-- name_index; null while they are of two (docs/privacy.md, key rotation)
	ADD COLUMN index_kek text CHECK (index_kek ~ '^[0-9a-f]{16}$'),
	ADD COLUMN erased_at timestamptz;
CREATE UNIQUE INDEX returnee_national_index ON fl.returnee (national_index)
	WHERE national_index IS NOT NULL;
CREATE INDEX returnee_name_index ON fl.returnee (name_index, seq)
	WHERE name_index IS NOT NULL;

-- A grant's beneficiary as the reports count it, taken when the grant is applied for:
-- gender, and age band in the year of the application (fl.age_band). Statistics of the
-- grant, not the person's record: they stay when the person is erased.
ALTER TABLE fl.grant_application
	ADD COLUMN beneficiary_gender text NOT NULL DEFAULT 'unknown'
	    CHECK (beneficiary_gender IN ('female', 'male', 'other', 'undisclosed',
		'unknown')),
	ADD COLUMN beneficiary_age_band text NOT NULL DEFAULT 'unknown'
	    CHECK (beneficiary_age_band IN ('0-17', '18-24', '25-34', '35-44', '45-54',
		'55-64', '65+', 'unknown'));
