-- 0003_grants: returnees, grant applications and their decisions (four-eyes approval).
-- The functions are in functions/50_grants.sql.
--
-- Personal data of returnees (full name, gender, birth year, national id) lives in
-- fl.returnee only: journal entries and memos name a returnee by id, and no method a
-- partner may call returns a returnee (returnee.* and grant.* do not grant the partner
-- role).

CREATE TABLE fl.returnee (
	seq		bigserial UNIQUE,
	returnee_id	text PRIMARY KEY,
	full_name	text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
	region		text NOT NULL REFERENCES fl.region,
	returned_from	text NOT NULL CHECK (returned_from ~ '^[A-Z]{2}$'),
	returned_on	date NOT NULL,
	gender		text CHECK (gender IN ('female', 'male', 'other', 'undisclosed')),
	birth_year	int CHECK (birth_year BETWEEN 1900 AND 2100),
	national_id	text CHECK (length(national_id) BETWEEN 1 AND 64),
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text REFERENCES fl.principal
);
CREATE UNIQUE INDEX returnee_national_id ON fl.returnee (national_id)
	WHERE national_id IS NOT NULL;
CREATE INDEX returnee_region ON fl.returnee (region, seq);

CREATE TABLE fl.grant_application (
	seq		bigserial UNIQUE,
	grant_id	text PRIMARY KEY,
	returnee_id	text NOT NULL REFERENCES fl.returnee,
	fund_code	text NOT NULL REFERENCES fl.fund,
	region		text NOT NULL REFERENCES fl.region,
	amount		bigint NOT NULL CHECK (amount > 0),
	category	text NOT NULL CHECK (category IN ('small_business', 'agriculture',
			    'requalification', 'employment', 'housing', 'other')),
	purpose		text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 1000),
	status		text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted',
			    'approved', 'rejected', 'withdrawn', 'completed', 'cancelled')),
	approvals_needed int NOT NULL CHECK (approvals_needed IN (1, 2)),
	committed	bigint NOT NULL DEFAULT 0 CHECK (committed >= 0),
	disbursed	bigint NOT NULL DEFAULT 0 CHECK (disbursed >= 0),
	decided_at	timestamptz,
	reason		text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text NOT NULL REFERENCES fl.principal,
	CHECK (committed + disbursed <= amount)
);
CREATE INDEX grant_fund ON fl.grant_application (fund_code, seq);
CREATE INDEX grant_status ON fl.grant_application (status, seq);

-- Every decision: who, when, what, why. One approval per principal per grant (four eyes).
CREATE TABLE fl.grant_decision (
	grant_id	text NOT NULL REFERENCES fl.grant_application,
	principal_id	text NOT NULL REFERENCES fl.principal,
	decision	text NOT NULL CHECK (decision IN ('approve', 'reject')),
	at		timestamptz NOT NULL DEFAULT now(),
	comment		text CHECK (length(comment) <= 1000),
	PRIMARY KEY (grant_id, principal_id)
);

GRANT SELECT, INSERT ON fl.returnee, fl.grant_application, fl.grant_decision TO fundd_app;
GRANT UPDATE (status, committed, disbursed, decided_at, reason) ON fl.grant_application
    TO fundd_app;
GRANT USAGE ON SEQUENCE fl.returnee_seq_seq, fl.grant_application_seq_seq TO fundd_app;
