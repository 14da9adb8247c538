-- 0038_privacy_access: who read whose personal data and why, consent, and erasure
-- (docs/privacy.md).

-- An access event: an event of the audit trail, ok, whose object is the returnee whose
-- personal data a call returned, with the purpose it was read for. Its purpose is part of
-- the chained bytes (docs/audit.md); other events have none.
CREATE DOMAIN fl.access_purpose AS text
	CHECK (VALUE IN ('case_management', 'payment', 'audit', 'data_subject_request'));
ALTER TABLE fl.audit_event ADD COLUMN purpose fl.access_purpose;
ALTER TABLE fl.audit_event ADD CONSTRAINT audit_event_access
	CHECK (purpose IS NULL OR outcome = 'ok');
CREATE INDEX audit_event_access ON fl.audit_event (object_id, seq) WHERE purpose IS NOT NULL;

-- The consent a returnee gave: for what, when, by whom, until when. The last one recorded
-- stands; none is a consent not recorded.
CREATE TABLE fl.returnee_consent (
	seq		bigserial PRIMARY KEY,
	returnee_id	text NOT NULL REFERENCES fl.returnee,
	purposes	text[] NOT NULL CHECK (cardinality(purposes) >= 1 AND
			    purposes <@ ARRAY['case_management', 'payment']),
	given_on	date NOT NULL,
	given_by	text NOT NULL CHECK (given_by IN ('self', 'guardian', 'representative')),
	until		date CHECK (until >= given_on),
	recorded_by	text NOT NULL REFERENCES fl.principal,
	recorded_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX returnee_consent_returnee ON fl.returnee_consent (returnee_id, seq);

-- Erasures: asked for by one admin and confirmed by another (returnee.erase,
-- returnee.erase_confirm), or made by the daemon when retention ends (no principal).
CREATE TABLE fl.erasure (
	seq		bigserial UNIQUE,
	erasure_id	text PRIMARY KEY,
	returnee_id	text NOT NULL REFERENCES fl.returnee,
	basis		text NOT NULL CHECK (basis IN ('request', 'retention',
			    'consent_ended')),
	reason		text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
	status		text NOT NULL DEFAULT 'pending'
			    CHECK (status IN ('pending', 'done', 'cancelled')),
	requested_by	text REFERENCES fl.principal,
	requested_at	timestamptz NOT NULL DEFAULT now(),
	decided_by	text REFERENCES fl.principal,
	decided_at	timestamptz,
	CHECK ((status = 'pending') = (decided_at IS NULL)),
	-- four eyes on an erasure done; a request is dropped by anyone, its asker too
	CHECK (status <> 'done' OR requested_by IS NULL OR decided_by IS NULL OR
	    requested_by <> decided_by),
	CHECK (basis = 'request' OR (requested_by IS NULL AND status = 'done'))
);
CREATE UNIQUE INDEX erasure_pending ON fl.erasure (returnee_id) WHERE status = 'pending';

-- An erasure deletes the person's keys: dead row versions holding them are vacuumed as
-- soon as autovacuum comes by, not once a fifth of the table is dead.
ALTER TABLE fl.person_key SET (autovacuum_vacuum_threshold = 0,
    autovacuum_vacuum_scale_factor = 0);
