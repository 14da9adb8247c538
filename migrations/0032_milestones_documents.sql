-- 0032_milestones_documents: milestones a grant's tranches wait for, the documents that
-- evidence them, and where and how a tranche is paid (docs/protocol.md: grant.add_milestone,
-- milestone.*, POST /documents, disbursement.create). functions/65_milestones.sql.

-- A disbursement's payee account (an IBAN, or an Armenian bank account of 11 to 16
-- digits), compact and upper case; the failed disbursement it retries, once; the milestone
-- whose tranche it pays.
ALTER TABLE fl.disbursement
    ADD COLUMN payee_account text
	CHECK (payee_account ~ '^([A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}|[0-9]{11,16})$'),
    ADD COLUMN retry_of text REFERENCES fl.disbursement,
    ADD COLUMN milestone_id text;
CREATE UNIQUE INDEX disbursement_retry_of ON fl.disbursement (retry_of)
    WHERE retry_of IS NOT NULL;

-- A document: the bytes of a PDF, PNG or JPEG as sent, with their SHA-256; never changed,
-- only superseded (once) by a later one.
CREATE TABLE fl.document (
	seq		bigserial UNIQUE,
	document_id	text PRIMARY KEY,
	content_type	text NOT NULL CHECK (content_type IN ('application/pdf', 'image/png',
			    'image/jpeg')),
	data		bytea NOT NULL,
	size		bigint NOT NULL CHECK (size > 0 AND size = length(data)),
	sha256		bytea NOT NULL CHECK (length(sha256) = 32),
	filename	text CHECK (length(filename) BETWEEN 1 AND 255),
	supersedes	text UNIQUE REFERENCES fl.document,
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text NOT NULL REFERENCES fl.principal
);
ALTER TABLE fl.document ALTER COLUMN data SET STORAGE EXTERNAL;

-- A milestone of a grant: what must be shown by when, and the tranche it releases.
-- open -> submitted (its evidence) -> accepted, or back to open when rejected.
CREATE TABLE fl.milestone (
	seq		bigserial UNIQUE,
	milestone_id	text PRIMARY KEY,
	grant_id	text NOT NULL REFERENCES fl.grant_application,
	due_on		date NOT NULL,
	evidence_required text NOT NULL CHECK (length(evidence_required) BETWEEN 1 AND 1000),
	amount		bigint NOT NULL CHECK (amount > 0),
	status		text NOT NULL DEFAULT 'open'
			    CHECK (status IN ('open', 'submitted', 'accepted')),
	submitted_at	timestamptz,
	submitted_by	text REFERENCES fl.principal,
	document_ids	text[],
	note		text CHECK (length(note) <= 1000),
	decided_at	timestamptz,
	decided_by	text REFERENCES fl.principal,
	reason		text CHECK (length(reason) <= 1000),
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text NOT NULL REFERENCES fl.principal,
	CHECK ((status = 'open') = (submitted_at IS NULL)),
	CHECK ((status = 'accepted') = (decided_at IS NOT NULL AND decided_by IS NOT NULL
	    AND decided_by IS DISTINCT FROM submitted_by))
);
CREATE INDEX milestone_grant ON fl.milestone (grant_id, seq);
CREATE INDEX milestone_due ON fl.milestone (due_on, seq) WHERE status <> 'accepted';

-- Every submission, acceptance and rejection of a milestone, kept.
CREATE TABLE fl.milestone_event (
	seq		bigserial PRIMARY KEY,
	milestone_id	text NOT NULL REFERENCES fl.milestone,
	kind		text NOT NULL CHECK (kind IN ('submit', 'accept', 'reject')),
	principal_id	text NOT NULL REFERENCES fl.principal,
	at		timestamptz NOT NULL DEFAULT now(),
	document_ids	text[],
	note		text CHECK (length(note) <= 1000)
);
CREATE INDEX milestone_event_milestone ON fl.milestone_event (milestone_id, seq);

ALTER TABLE fl.disbursement ADD CONSTRAINT disbursement_milestone_fk
    FOREIGN KEY (milestone_id) REFERENCES fl.milestone;
-- a milestone's tranche is paid by one live disbursement at a time
CREATE UNIQUE INDEX disbursement_milestone_live ON fl.disbursement (milestone_id)
    WHERE milestone_id IS NOT NULL AND status IN ('pending', 'paid');
