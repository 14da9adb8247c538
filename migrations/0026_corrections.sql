-- 0026_corrections: corrections that keep what they replaced (docs/protocol.md,
-- partner.update, returnee.update, grant.update and the *.history methods). Every change
-- of a partner's, a returnee's or a submitted grant's recorded values writes a row of
-- fl.correction, by trigger, whoever makes it (functions/40_funds.sql, 50_grants.sql);
-- approvals given to a grant whose terms change are moved to fl.grant_decision_withdrawn.
-- Beneficiaries are of a kind: returnees, people displaced from Nagorno-Karabakh,
-- refugees and asylum seekers.

CREATE TABLE fl.correction (
	seq		bigserial PRIMARY KEY,
	object_kind	text NOT NULL CHECK (object_kind IN ('partner', 'returnee', 'grant')),
	object_id	text NOT NULL,
	-- NULL: a change made outside the API, by the schema's owner
	principal_id	text REFERENCES fl.principal,
	at		timestamptz NOT NULL DEFAULT now(),
	fields		text[] NOT NULL CHECK (cardinality(fields) >= 1),
	old		jsonb NOT NULL,
	new		jsonb NOT NULL
);
CREATE INDEX correction_object ON fl.correction (object_kind, object_id, seq);

CREATE TABLE fl.grant_decision_withdrawn (
	grant_id	text NOT NULL REFERENCES fl.grant_application,
	principal_id	text NOT NULL REFERENCES fl.principal,
	decision	text NOT NULL,
	decided_at	timestamptz NOT NULL,
	comment		text,
	withdrawn_at	timestamptz NOT NULL DEFAULT now(),
	-- the correction that withdrew it (set once, in its transaction)
	correction_seq	bigint REFERENCES fl.correction,
	PRIMARY KEY (grant_id, principal_id, decided_at)
);

ALTER TABLE fl.returnee ADD COLUMN kind text NOT NULL DEFAULT 'returnee'
	CONSTRAINT returnee_kind CHECK (kind IN ('returnee', 'displaced', 'refugee',
	    'asylum_seeker'));

-- decisions leave only when a correction withdraws them (fl.grant_decision_withdraw_guard)
DROP TRIGGER IF EXISTS grant_decision_append_only ON fl.grant_decision;
