-- 0030_finding: indexes for finding grants (grant.list by beneficiary and by dates of
-- application and decision, docs/protocol.md) and returnees and partners by name
-- (returnee.find, partner.find).

CREATE INDEX grant_returnee ON fl.grant_application (returnee_id, seq);
CREATE INDEX grant_created ON fl.grant_application (created_at);
CREATE INDEX grant_decided ON fl.grant_application (decided_at) WHERE decided_at IS NOT NULL;
