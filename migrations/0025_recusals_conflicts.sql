-- 0025_recusals_conflicts: conflicts of interest (docs/protocol.md, grant.recuse and
-- principal.declare_conflict). An approver who recuses from an application, or who has
-- declared a conflict with its beneficiary, never decides on it: the decision guard
-- (fl.grant_decision_guard, functions/50_grants.sql) refuses it whoever writes it, and the
-- approver's queue (grant.queue) leaves it out. Both are kept for good: append-only.

CREATE TABLE fl.grant_recusal (
	grant_id	text NOT NULL REFERENCES fl.grant_application,
	principal_id	text NOT NULL REFERENCES fl.principal,
	reason		text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
	at		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (grant_id, principal_id)
);
CREATE INDEX grant_recusal_principal ON fl.grant_recusal (principal_id, grant_id);

CREATE TABLE fl.principal_conflict (
	seq		bigserial UNIQUE,
	principal_id	text NOT NULL REFERENCES fl.principal,
	returnee_id	text NOT NULL REFERENCES fl.returnee,
	reason		text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
	declared_by	text NOT NULL REFERENCES fl.principal,
	at		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (principal_id, returnee_id)
);
CREATE INDEX principal_conflict_returnee ON fl.principal_conflict (returnee_id);

-- the queue: submitted applications, oldest first
CREATE INDEX grant_submitted ON fl.grant_application (seq) WHERE status = 'submitted';
CREATE INDEX grant_decision_principal ON fl.grant_decision (principal_id, grant_id);

-- the disbursements' queue: pending ones, oldest first
CREATE INDEX disbursement_pending ON fl.disbursement (seq) WHERE status = 'pending';
