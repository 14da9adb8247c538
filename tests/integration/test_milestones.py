"""Milestones and evidence, and how a tranche is paid (docs/protocol.md: grant.add_milestone,
milestone.*, POST /documents, GET /documents/{id}, disbursement.create's payee_account,
retry_of and milestone_id)."""

import hashlib

import pytest

from fl.client import api_of, create_principal, new_client
from fl.env import uniq
from fl.grants import approve, apply, confirm, create, funded_fund
from fl.ledger import new_partner

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17 + b"IEND\xaeB`\x82"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20 + b"\xff\xd9"


@pytest.fixture(scope="module")
def checker(daemon, admin):
    with new_client(daemon, admin, ["admin"], "ms-chk") as c:
        yield c


def upload(api, body, ctype, query="", key=None, token=None):
    headers = {"Content-Type": ctype}
    if key:
        headers["Idempotency-Key"] = key
    return api.request("POST", "/documents" + query, body=body, headers=headers,
                       token=token)


def put_doc(api, body=PDF, ctype="application/pdf", **kw):
    r = upload(api, body, ctype, **kw)
    assert r.status == 201, (r, r.body[:300])
    return r.json()["result"]


def grant_with_milestones(api, appr, amount="300.00"):
    f = funded_fund(api, "1000.00")
    g = approve(appr, apply(api, f, amount))
    return f, g


def test_a_tranche_waits_for_its_evidence(api, appr, checker):
    f, g = grant_with_milestones(api, appr)
    m1 = api.ok("grant.add_milestone", {"grant_id": g["grant_id"], "due_on": "2026-01-31",
                                         "evidence_required": "business registration",
                                         "amount": "100.00"})
    assert m1["status"] == "open" and m1["amount"] == "100.00" and m1["overdue"] is True
    m2 = api.ok("grant.add_milestone", {"grant_id": g["grant_id"], "due_on": "2099-01-31",
                                         "evidence_required": "receipts", "amount": "200.00"})
    e = api.err("grant.add_milestone", {"grant_id": g["grant_id"], "due_on": "2099-01-31",
                                         "evidence_required": "more", "amount": "0.01"},
                -32009, reason="milestones_exceed_grant")
    assert e["data"]["remaining"] == "0.00", e
    # not before its evidence is accepted
    e = api.err("disbursement.create", {"grant_id": g["grant_id"], "amount": "100.00",
                                        "milestone_id": m1["milestone_id"]}, -32009,
                reason="milestone_not_accepted")
    doc = put_doc(api)
    sub = api.ok("milestone.submit", {"milestone_id": m1["milestone_id"],
                                      "document_ids": [doc["document_id"]],
                                      "note": "attached"})
    assert sub["status"] == "submitted" and sub["document_ids"] == [doc["document_id"]]
    # whoever submitted it does not judge it
    api.err("milestone.accept", {"milestone_id": m1["milestone_id"]}, -32011,
            reason="same_maker_and_checker")
    rej = appr.ok("milestone.reject", {"milestone_id": m1["milestone_id"],
                                       "reason": "illegible"})
    assert rej["status"] == "open" and rej["reason"] == "illegible"
    api.ok("milestone.submit", {"milestone_id": m1["milestone_id"],
                                "document_ids": [doc["document_id"]]})
    acc = appr.ok("milestone.accept", {"milestone_id": m1["milestone_id"]})
    assert acc["status"] == "accepted" and acc["overdue"] is False
    assert [e["kind"] for e in acc["events"]] == ["submit", "reject", "submit", "accept"]
    # the tranche, at most the milestone's, once
    api.err("disbursement.create", {"grant_id": g["grant_id"], "amount": "100.01",
                                    "milestone_id": m1["milestone_id"]}, -32009,
            reason="exceeds_milestone")
    d = api.ok("disbursement.create", {"grant_id": g["grant_id"], "amount": "100.00",
                                       "milestone_id": m1["milestone_id"]})
    assert d["milestone_id"] == m1["milestone_id"]
    api.err("disbursement.create", {"grant_id": g["grant_id"], "amount": "10.00",
                                    "milestone_id": m1["milestone_id"]}, -32009,
            reason="milestone_released")
    # another grant's milestone is not this grant's
    _, g2 = grant_with_milestones(api, appr)
    api.err("disbursement.create", {"grant_id": g2["grant_id"], "amount": "10.00",
                                    "milestone_id": m1["milestone_id"]}, -32004,
            reason="milestone_not_found")
    # overdue: due before today, not accepted
    over = api.ok("milestone.list", {"grant_id": g["grant_id"], "overdue": True})
    assert [m["milestone_id"] for m in over["milestones"]] == []
    every = api.ok("milestone.list", {"grant_id": g["grant_id"]})
    assert [m["milestone_id"] for m in every["milestones"]] == [m1["milestone_id"],
                                                                m2["milestone_id"]]
    m3 = api.ok("grant.add_milestone", {"grant_id": g2["grant_id"], "due_on": "2026-01-01",
                                         "evidence_required": "x", "amount": "1.00"})
    over = api.ok("milestone.list", {"overdue": True, "limit": 1000})
    ids = [m["milestone_id"] for m in over["milestones"]]
    assert m3["milestone_id"] in ids and m1["milestone_id"] not in ids
    api.err("milestone.submit", {"milestone_id": m3["milestone_id"],
                                 "document_ids": ["doc_nothere"]}, -32004,
            reason="document_not_found")
    api.err("milestone.list", {"overdue": "yes"}, -32602, field="overdue")


def test_documents_stored_by_content_never_changed(env, daemon, admin, api, aud):
    doc = put_doc(api, PDF, query="?filename=registration.pdf", key=uniq("dk"))
    assert doc["content_type"] == "application/pdf" and doc["size"] == len(PDF)
    assert doc["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert doc["filename"] == "registration.pdf"
    r = aud.request("GET", "/documents/" + doc["document_id"])
    assert r.status == 200 and r.body == PDF and r.content_type == "application/pdf"
    assert "attachment" in r.header("Content-Disposition")
    png = put_doc(api, PNG, "image/png")
    jpg = put_doc(api, JPEG, "image/jpeg")
    assert (png["content_type"], jpg["content_type"]) == ("image/png", "image/jpeg")
    # the audit event carries the document's SHA-256
    got = env.sql("SELECT encode(params_sha256, 'hex') FROM fl.audit_event WHERE "
                  "method = 'document.put' AND object_id = '%s'" % doc["document_id"])
    assert got.strip() == hashlib.sha256(PDF).hexdigest()
    # a retry with its key answers the first document; superseding makes a new one
    key = uniq("dk")
    a = put_doc(api, PNG, "image/png", key=key)
    b = put_doc(api, PNG, "image/png", key=key)
    assert a["document_id"] == b["document_id"]
    new = put_doc(api, PDF, query="?supersedes=" + doc["document_id"])
    assert new["supersedes"] == doc["document_id"]
    assert api.ok("document.get", {"document_id": doc["document_id"]})["superseded_by"] == \
        new["document_id"]
    r = upload(api, PDF, "application/pdf", query="?supersedes=" + doc["document_id"])
    assert r.status == 409 and r.json()["error"]["data"]["reason"] == "already_superseded"
    # never changed, even by the schema's owner
    with pytest.raises(Exception):
        env.sql("UPDATE fl.document SET filename = 'x' WHERE document_id = '%s'"
                % doc["document_id"])
    assert env.sql("SELECT filename FROM fl.document WHERE document_id = '%s'"
                   % doc["document_id"]).strip() == "registration.pdf"


def test_documents_refused(env, daemon, admin, api, aud):
    n = env.sql("SELECT count(*) FROM fl.document").strip()
    # not what its type says, or no type it takes: 415
    assert upload(api, b"GIF89a....", "image/png").status == 415
    assert upload(api, PNG, "application/pdf").status == 415
    assert upload(api, b"hello", "text/plain").status == 415
    # over max_document_bytes: 413 before it is read
    big = b"%PDF-" + b"0" * (10 * 1024 * 1024)
    assert upload(api, big, "application/pdf").status == 413
    assert env.sql("SELECT count(*) FROM fl.document").strip() == n
    # an auditor may read, not store; a partner neither
    r = upload(aud, PDF, "application/pdf")
    assert r.status == 403 and r.json()["error"]["data"]["reason"] == "role_required"
    doc = put_doc(api)
    donor = new_partner(api)
    pa = create_principal(daemon, admin, ["partner"], partner_id=donor["partner_id"])
    with api_of(daemon, pa) as p:
        r = p.request("GET", "/documents/" + doc["document_id"])
        assert r.status == 403 and r.body != PDF
    assert aud.request("GET", "/documents/doc_nothere").status == 404
    assert aud.request("GET", "/documents/not%20an%20id").status == 404
    # a query or key the endpoint does not take: 400, nothing stored
    assert upload(api, PDF, "application/pdf", query="?colour=red").status == 400
    assert upload(api, PDF, "application/pdf", query="?supersedes=a%20b").status == 400
    assert upload(api, PDF, "application/pdf", key="k" * 200).status == 400
    assert env.sql("SELECT count(*) FROM fl.document").strip() == str(int(n) + 1)
    assert api.request("GET", "/documents/" + doc["document_id"],
                       token="nobody").status == 401


def test_payee_account_and_retries(api, appr, checker):
    f, g = grant_with_milestones(api, appr, "100.00")
    d = api.ok("disbursement.create", {"grant_id": g["grant_id"], "amount": "40.00",
                                       "payee_account": "fr76 3000 6000 0112 3456 7890 189"})
    assert d["payee_account"] == "FR7630006000011234567890189", d
    api.ok("disbursement.fail", {"disbursement_id": d["disbursement_id"],
                                 "reason": "account closed"})
    r = api.ok("disbursement.create", {"grant_id": g["grant_id"], "amount": "40.00",
                                       "payee_account": "2470012345678",
                                       "retry_of": d["disbursement_id"]})
    assert r["retry_of"] == d["disbursement_id"] and r["payee_account"] == "2470012345678"
    assert api.ok("disbursement.list", {"grant_id": g["grant_id"]})["disbursements"][0][
        "retried_by"] == r["disbursement_id"]
    api.err("disbursement.create", {"grant_id": g["grant_id"], "amount": "1.00",
                                    "retry_of": d["disbursement_id"]}, -32009,
            reason="already_retried")
    api.err("disbursement.create", {"grant_id": g["grant_id"], "amount": "1.00",
                                    "retry_of": r["disbursement_id"]}, -32009,
            reason="not_failed")
    for bad in ("FR7630006000011234567890188", "DE89370400440532013001", "12345",
                "AM00 1234 5678 9012", "XX12ABCDEFGHIJKLMNO"):
        e = api.err("disbursement.create", {"grant_id": g["grant_id"], "amount": "1.00",
                                            "payee_account": bad}, -32602,
                    field="payee_account", reason="bad_account")
        assert "IBAN" in e["data"]["expected"], e
    e = api.err("disbursement.create", {"grant_id": g["grant_id"], "amount": "70.00"},
                -32009, reason="exceeds_grant")
    assert e["data"]["remaining"] == "60.00", e
