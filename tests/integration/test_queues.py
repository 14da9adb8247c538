"""Queues and conflicts of interest (docs/protocol.md: grant.queue, disbursement.queue,
grant.recuse, principal.declare_conflict, principal.conflicts): what waits for an approver
or a checker, and approvers who step aside from an application or a beneficiary, enforced
by the database whoever writes the decision."""

import pytest

from fl.client import api_of, create_principal, new_client
from fl.db import psql
from fl.env import uniq
from fl.grants import apply, approve, create, funded_fund, new_returnee
from fl.ledger import new_partner


@pytest.fixture
def approvers(daemon, admin):
    with new_client(daemon, admin, ["approver"], "qa") as a, \
            new_client(daemon, admin, ["approver"], "qb") as b:
        a.name = a.ok("system.whoami")["name"]
        b.name = b.ok("system.whoami")["name"]
        yield a, b


def queue(api, fund, **kw):
    params = {"fund": fund["code"]}
    params.update(kw)
    return api.ok("grant.queue", params)


def ids(page):
    return [g["grant_id"] for g in page["grants"]]


def test_queue_what_waits_oldest_first_with_approvals(api, approvers):
    a, b = approvers
    f = funded_fund(api, "1000.00", dual="50")
    g1 = apply(api, f, "100.00")                       # needs two approvals
    g2 = apply(api, f, "10.00")                        # needs one
    q = queue(a, f)
    assert ids(q) == [g1["grant_id"], g2["grant_id"]] and q["count"] == 2, q
    assert [g["approvals_missing"] for g in q["grants"]] == [2, 1], q
    assert q["next_cursor"] is None
    # b's approval shows in a's queue, by name, and one approval is still missing
    b.ok("grant.approve", {"grant_id": g1["grant_id"], "comment": "ok"})
    [first, _] = queue(a, f)["grants"]
    assert first["approvals_missing"] == 1
    assert [(x["principal_id"], x["name"]) for x in first["approvals"]] == [(b.pid, b.name)]
    # what b decided is no longer b's to decide
    assert ids(queue(b, f)) == [g2["grant_id"]]
    # a page at a time, the count is the whole queue's
    p1 = queue(a, f, limit=1)
    assert ids(p1) == [g1["grant_id"]] and p1["count"] == 2 and p1["next_cursor"], p1
    p2 = queue(a, f, limit=1, cursor=p1["next_cursor"])
    assert ids(p2) == [g2["grant_id"]] and p2["next_cursor"] is None and p2["count"] == 2
    # decided grants leave every queue
    approve(a, g2)
    assert ids(queue(a, f)) == [g1["grant_id"]]
    assert ids(queue(b, f)) == []
    assert queue(b, f)["count"] == 0


def test_queue_filters_and_leaves_out_own_applications(api, daemon, admin, approvers):
    a, _ = approvers
    f = funded_fund(api, "1000.00")
    g_sh = apply(api, f, "10.00", returnee=new_returnee(api, region="AM-SH"))
    g_lo = apply(api, f, "10.00", returnee=new_returnee(api, region="AM-LO"),
                 category="agriculture")
    assert ids(queue(a, f, region="Shirak")) == [g_sh["grant_id"]]
    assert ids(queue(a, f, category="agriculture")) == [g_lo["grant_id"]]
    a.err("grant.queue", {"category": "lottery"}, -32602, field="category")
    a.err("grant.queue", {"fund": "NO-SUCH-FUND"}, -32004, field="fund")
    # an admin who is also an approver never sees its own applications
    with new_client(daemon, admin, ["admin", "approver"], "qab") as both:
        mine = apply(both, f, "10.00")
        assert mine["grant_id"] not in ids(queue(both, f))
        assert set(ids(queue(both, f))) == {g_sh["grant_id"], g_lo["grant_id"]}


def test_queue_roles(api, daemon, admin, aud):
    aud.err("grant.queue", {}, -32003, reason="role_required")
    api.err("grant.queue", {}, -32003, reason="role_required")
    p = new_partner(api)
    with _partner(daemon, admin, p) as partner:
        partner.err("grant.queue", {}, -32003, reason="role_required")
        partner.err("principal.conflicts", {}, -32003, reason="role_required")
        partner.err("disbursement.queue", {}, -32003, reason="role_required")


def _partner(daemon, admin, p):
    return api_of(daemon, create_principal(daemon, admin, ["partner"], name=uniq("qp"),
                                           partner_id=p["partner_id"]))


def test_recuse(env, api, aud, approvers):
    a, b = approvers
    f = funded_fund(api, "1000.00")
    g = apply(api, f, "10.00")
    other = apply(api, f, "10.00")
    a.err("grant.recuse", {"grant_id": g["grant_id"]}, -32602, field="reason")
    r = a.ok("grant.recuse", {"grant_id": g["grant_id"], "reason": "my cousin's business"})
    assert [(x["principal_id"], x["name"], x["reason"]) for x in r["recusals"]] == \
        [(a.pid, a.name, "my cousin's business")], r
    # out of its queue, not of the others'
    assert ids(queue(a, f)) == [other["grant_id"]]
    assert ids(queue(b, f)) == [g["grant_id"], other["grant_id"]]
    a.err("grant.approve", {"grant_id": g["grant_id"]}, -32011, reason="recused")
    a.err("grant.reject", {"grant_id": g["grant_id"], "reason": "no"}, -32011,
          reason="recused")
    # recusing again answers the same, and keeps one recusal
    again = a.ok("grant.recuse", {"grant_id": g["grant_id"], "reason": "again"})
    assert again["recusals"] == r["recusals"]
    assert env.sql("SELECT count(*) FROM fl.grant_recusal WHERE grant_id = '%s'"
                   % g["grant_id"]).strip() == "1"
    # anyone who reads the grant sees it
    assert aud.ok("grant.get", {"grant_id": g["grant_id"]})["recusals"] == r["recusals"]
    # b decides it; a cannot recuse from what it decided, nor from a decided grant
    approve(b, g)
    b.err("grant.recuse", {"grant_id": g["grant_id"], "reason": "late"}, -32011,
          reason="already_approved")
    approve(b, other)
    a.err("grant.recuse", {"grant_id": other["grant_id"], "reason": "late"}, -32009,
          reason="wrong_state")
    a.err("grant.recuse", {"grant_id": "gr_nosuchgrant0000000", "reason": "x"}, -32004)
    api.err("grant.recuse", {"grant_id": g["grant_id"], "reason": "x"}, -32003,
            reason="role_required")


def test_declared_conflict(env, api, aud, approvers):
    a, b = approvers
    f = funded_fund(api, "1000.00")
    r = new_returnee(api)
    before = apply(api, f, "10.00", returnee=r)
    unrelated = apply(api, f, "10.00")
    c = a.ok("principal.declare_conflict", {"returnee_id": r["returnee_id"],
                                            "reason": "a neighbour"})
    assert (c["principal_id"], c["name"], c["returnee_id"], c["declared_by"]) == \
        (a.pid, a.name, r["returnee_id"], a.pid), c
    after = apply(api, f, "10.00", returnee=r)
    # none of the beneficiary's applications reaches a's queue, before or after
    assert ids(queue(a, f)) == [unrelated["grant_id"]]
    assert ids(queue(b, f)) == [before["grant_id"], unrelated["grant_id"], after["grant_id"]]
    for g in (before, after):
        a.err("grant.approve", {"grant_id": g["grant_id"]}, -32011,
              reason="conflict_of_interest")
        a.err("grant.reject", {"grant_id": g["grant_id"], "reason": "no"}, -32011,
              reason="conflict_of_interest")
    # declared again: the same declaration
    assert a.ok("principal.declare_conflict", {"returnee_id": r["returnee_id"],
                                               "reason": "again"}) == c
    # an approver declares for itself only; an admin records one for an approver
    a.err("principal.declare_conflict", {"returnee_id": r["returnee_id"], "reason": "x",
                                         "principal_id": b.pid}, -32003,
          reason="role_required")
    cb = api.ok("principal.declare_conflict", {"returnee_id": r["returnee_id"],
                                               "reason": "b's brother", "principal_id": b.pid})
    assert (cb["principal_id"], cb["declared_by"]) == (b.pid, api.pid)
    assert ids(queue(b, f)) == [unrelated["grant_id"]]
    api.err("principal.declare_conflict", {"returnee_id": r["returnee_id"], "reason": "x",
                                           "principal_id": aud.pid}, -32602,
            field="principal_id", reason="not_an_approver")
    api.err("principal.declare_conflict", {"returnee_id": "re_nosuchreturnee000",
                                           "reason": "x", "principal_id": b.pid}, -32004,
            field="returnee_id")
    # who sees which
    mine = a.ok("principal.conflicts", {})["conflicts"]
    assert [x["returnee_id"] for x in mine] == [r["returnee_id"]]
    a.err("principal.conflicts", {"principal_id": b.pid}, -32003, reason="role_required")
    both = aud.ok("principal.conflicts", {"returnee_id": r["returnee_id"]})["conflicts"]
    assert [x["principal_id"] for x in both] == [a.pid, b.pid]
    # for good: the role of the daemon cannot remove one, nor can the owner
    p = psql(env, "DELETE FROM fl.principal_conflict WHERE principal_id = '%s';\n" % a.pid)
    assert p.returncode != 0 and "append-only" in p.stderr, p.stderr
    assert env.sql("SELECT count(*) FROM fl.principal_conflict WHERE principal_id = '%s'"
                   % a.pid).strip() == "1"


def test_the_database_refuses_a_conflicted_decision(env, api, approvers):
    """Whoever writes the decision: the owner inserting it directly is refused too."""
    a, b = approvers
    f = funded_fund(api, "1000.00")
    g = apply(api, f, "10.00")
    a.ok("grant.recuse", {"grant_id": g["grant_id"], "reason": "related"})
    p = psql(env, "INSERT INTO fl.grant_decision (grant_id, principal_id, decision) "
             "VALUES ('%s', '%s', 'approve');\n" % (g["grant_id"], a.pid))
    assert p.returncode != 0 and "recused" in p.stderr, p.stderr
    assert env.sql("SELECT count(*) FROM fl.grant_decision WHERE grant_id = '%s'"
                   % g["grant_id"]).strip() == "0"
    r = new_returnee(api)
    g2 = apply(api, f, "10.00", returnee=r)
    api.ok("principal.declare_conflict", {"returnee_id": r["returnee_id"], "reason": "x",
                                          "principal_id": b.pid})
    p = psql(env, "INSERT INTO fl.grant_decision (grant_id, principal_id, decision) "
             "VALUES ('%s', '%s', 'approve');\n" % (g2["grant_id"], b.pid))
    assert p.returncode != 0 and "conflict_of_interest" in p.stderr, p.stderr
    assert env.sql("SELECT count(*) FROM fl.grant_decision WHERE grant_id = '%s'"
                   % g2["grant_id"]).strip() == "0"


def test_batched_approvals_refuse_the_conflicted_one(api, approvers):
    """A batch of approvals runs as one statement when it can; a recused approval among
    them is refused like a single one, and the others go through."""
    a, _ = approvers
    f = funded_fund(api, "1000.00")
    gs = [apply(api, f, "10.00") for _ in range(4)]
    a.ok("grant.recuse", {"grant_id": gs[2]["grant_id"], "reason": "related"})
    docs = a.batch([("grant.approve", {"grant_id": g["grant_id"],
                                       "idempotency_key": uniq("k")}) for g in gs])
    assert [d.get("result", {}).get("status") for d in docs] == \
        ["approved", "approved", None, "approved"], docs
    assert docs[2]["error"]["data"]["reason"] == "recused", docs[2]


def test_disbursement_queue(api, daemon, admin, appr):
    f = funded_fund(api, "1000.00")
    g = approve(appr, apply(api, f, "100.00"))
    d1 = create(api, g, "10.00")
    d2 = create(api, g, "20.00")
    with new_client(daemon, admin, ["admin"], "checker") as checker:
        q = checker.ok("disbursement.queue", {"fund": f["code"]})
        assert [d["disbursement_id"] for d in q["disbursements"]] == \
            [d1["disbursement_id"], d2["disbursement_id"]] and q["count"] == 2, q
        # the maker's queue holds none of its own
        assert api.ok("disbursement.queue", {"fund": f["code"]})["count"] == 0
        checker.ok("disbursement.confirm", {"disbursement_id": d1["disbursement_id"],
                                            "bank_ref": uniq("B")})
        q = checker.ok("disbursement.queue", {"fund": f["code"], "limit": 1})
        assert [d["disbursement_id"] for d in q["disbursements"]] == \
            [d2["disbursement_id"]] and q["count"] == 1 and q["next_cursor"] is None, q
    appr.err("disbursement.queue", {}, -32003, reason="role_required")
