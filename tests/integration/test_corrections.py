"""Corrections, never silent (docs/protocol.md: partner.update, returnee.update,
grant.update, *.history): the fields given change, the record's history keeps who changed
what from what, whoever changes it; a submitted grant's correction withdraws the approvals
given to what it said before. Beneficiaries have a kind."""

import pytest

from fl.client import api_of, create_principal, new_client
from fl.db import psql
from fl.env import uniq
from fl.grants import apply, funded_fund, national_id, new_returnee
from fl.ledger import new_partner


def history(api, method, **params):
    return api.ok(method, params)["history"]


def test_partner_update_and_history(env, daemon, admin, api, aud):
    p = new_partner(api, name="Armenian Relief Society of Lyonn", country="FR")
    assert history(api, "partner.history", partner_id=p["partner_id"]) == []
    q = api.ok("partner.update", {"partner_id": p["partner_id"],
                                  "name": "Armenian Relief Society of Lyon",
                                  "email": "contact@example.org"})
    assert (q["name"], q["email"], q["country"]) == \
        ("Armenian Relief Society of Lyon", "contact@example.org", "FR"), q
    assert api.ok("partner.get", {"partner_id": p["partner_id"]}) == q
    [h] = history(aud, "partner.history", partner_id=p["partner_id"])
    assert h["fields"] == ["name", "email"], h
    assert h["old"] == {"name": "Armenian Relief Society of Lyonn", "email": None}, h
    assert h["new"] == {"name": "Armenian Relief Society of Lyon",
                        "email": "contact@example.org"}, h
    assert (h["principal_id"], h["name"]) == (api.pid, "admin"), h
    # the same values again: accepted, nothing to keep
    api.ok("partner.update", {"partner_id": p["partner_id"], "country": "FR"})
    assert len(history(api, "partner.history", partner_id=p["partner_id"])) == 1
    # bad input changes nothing
    api.err("partner.update", {"partner_id": p["partner_id"], "country": "France"}, -32602,
            field="country")
    api.err("partner.update", {"partner_id": "pa_nosuchpartner0000", "name": "x"}, -32004,
            field="partner_id")
    assert len(history(api, "partner.history", partner_id=p["partner_id"])) == 1
    # a partner reads its own record's history, and no one else's
    other = new_partner(api)
    api.ok("partner.update", {"partner_id": other["partner_id"], "name": uniq("Other")})
    with api_of(daemon, create_principal(daemon, admin, ["partner"], name=uniq("pp"),
                                         partner_id=p["partner_id"])) as me:
        assert me.ok("partner.history", {"partner_id": p["partner_id"]})["history"] == \
            history(api, "partner.history", partner_id=p["partner_id"])
        me.err("partner.history", {"partner_id": other["partner_id"]}, -32004,
               field="partner_id")
        me.err("partner.update", {"partner_id": p["partner_id"], "name": "x"}, -32003)
        me.err("returnee.history", {"returnee_id": new_returnee(api)["returnee_id"]}, -32003)


def test_returnee_update_and_history(api, aud, appr):
    r = new_returnee(api, full_name="Anna Hakobian", region="AM-SH")
    assert r["kind"] == "returnee"
    u = api.ok("returnee.update", {"returnee_id": r["returnee_id"],
                                   "full_name": "Anna Hakobyan", "region": "Lori",
                                   "kind": "displaced"})
    assert (u["full_name"], u["region_code"], u["kind"]) == \
        ("Anna Hakobyan", "AM-LO", "displaced"), u
    [h] = history(appr, "returnee.history", returnee_id=r["returnee_id"])
    assert h["fields"] == ["full_name", "region", "kind"]
    assert h["old"] == {"full_name": "Anna Hakobian", "region": "AM-SH", "kind": "returnee"}
    assert h["new"] == {"full_name": "Anna Hakobyan", "region": "AM-LO", "kind": "displaced"}
    # a national id another returnee has: refused, nothing changed
    other = new_returnee(api, national_id=national_id())
    api.err("returnee.update", {"returnee_id": r["returnee_id"],
                                "national_id": other["national_id"]}, -32009,
            field="national_id", reason="duplicate_returnee")
    api.err("returnee.update", {"returnee_id": r["returnee_id"],
                                "returned_on": "2999-01-01"}, -32602, field="returned_on")
    api.err("returnee.update", {"returnee_id": r["returnee_id"], "kind": "tourist"}, -32602,
            field="kind")
    assert aud.ok("returnee.get", {"returnee_id": r["returnee_id"]}) == u
    assert len(history(aud, "returnee.history", returnee_id=r["returnee_id"])) == 1
    api.err("returnee.history", {"returnee_id": "re_nosuchreturnee000"}, -32004)


def test_beneficiary_kinds(api):
    kinds = ["returnee", "displaced", "refugee", "asylum_seeker"]
    made = {k: new_returnee(api, kind=k, region="AM-GR") for k in kinds}
    for k, r in made.items():
        assert r["kind"] == k
        got = api.ok("returnee.list", {"kind": k, "region": "AM-GR", "limit": 1000})
        assert r["returnee_id"] in [x["returnee_id"] for x in got["returnees"]]
        assert {x["kind"] for x in got["returnees"]} == {k}
    api.err("returnee.register", {"full_name": "X", "region": "AM-GR", "returned_from": "RU",
                                  "returned_on": "2026-01-01", "kind": "visitor"}, -32602,
            field="kind")


@pytest.fixture
def two_approvers(daemon, admin):
    with new_client(daemon, admin, ["approver"], "ca") as a, \
            new_client(daemon, admin, ["approver"], "cb") as b:
        yield a, b


def test_grant_update_withdraws_approvals(api, aud, two_approvers):
    a, b = two_approvers
    f = funded_fund(api, "5000.00", dual="500")
    g = apply(api, f, "800.00", category="small_business", purpose="A bakery in Gavar")
    assert g["approvals_needed"] == 2
    a.ok("grant.approve", {"grant_id": g["grant_id"], "comment": "fine"})
    assert g["grant_id"] not in [x["grant_id"] for x in
                                 a.ok("grant.queue", {"fund": f["code"]})["grants"]]
    u = api.ok("grant.update", {"grant_id": g["grant_id"], "amount": "400.00",
                                "purpose": "A bakery in Gavar, ovens only"})
    assert (u["amount"], u["purpose"], u["approvals_needed"], u["approvals"]) == \
        ("400.00", "A bakery in Gavar, ovens only", 1, []), u
    # the approver decides again on what it now says
    assert g["grant_id"] in [x["grant_id"] for x in
                             a.ok("grant.queue", {"fund": f["code"]})["grants"]]
    [h] = history(aud, "grant.history", grant_id=g["grant_id"])
    assert h["fields"] == ["amount", "purpose", "approvals_needed"], h
    assert h["old"] == {"amount": "800.00", "purpose": "A bakery in Gavar",
                        "approvals_needed": 2}, h
    assert h["new"] == {"amount": "400.00", "purpose": "A bakery in Gavar, ovens only",
                        "approvals_needed": 1}, h
    assert [(w["principal_id"], w["comment"]) for w in h["withdrawn_approvals"]] == \
        [(a.pid, "fine")], h
    # nothing changed: the grant as it is, nothing kept
    assert api.ok("grant.update", {"grant_id": g["grant_id"], "category": "small_business"}) \
        == u
    assert len(history(api, "grant.history", grant_id=g["grant_id"])) == 1
    # once decided, its terms are what was decided
    done = b.ok("grant.approve", {"grant_id": g["grant_id"]})
    assert done["status"] == "approved" and done["committed"] == "400.00"
    api.err("grant.update", {"grant_id": g["grant_id"], "amount": "1.00"}, -32009,
            reason="wrong_state")
    api.err("grant.update", {"grant_id": "gr_nosuchgrant0000000", "amount": "1.00"}, -32004)
    api.err("grant.update", {"grant_id": g["grant_id"], "amount": "-1"}, -32602,
            field="amount")
    a.err("grant.update", {"grant_id": g["grant_id"], "amount": "1.00"}, -32003)


def test_corrections_are_kept_whoever_makes_them(env, api, appr):
    """Written by the database: the owner changing a record directly leaves a history row
    (with no principal), and none of it, nor a standing decision, can be removed; an
    approved grant's terms cannot be changed even directly."""
    r = new_returnee(api, full_name="Aram Petrosyan", returned_from="RU")
    p = psql(env, "UPDATE fl.returnee SET returned_from = 'DE' WHERE returnee_id = "
                  "'%s';\n" % r["returnee_id"])
    assert p.returncode == 0, p.stderr
    [h] = history(api, "returnee.history", returnee_id=r["returnee_id"])
    assert (h["principal_id"], h["fields"], h["new"]) == \
        (None, ["returned_from"], {"returned_from": "DE"}), h
    p = psql(env, "DELETE FROM fl.correction WHERE object_id = '%s';\n" % r["returnee_id"])
    assert p.returncode != 0 and "append-only" in p.stderr, p.stderr
    p = psql(env, "UPDATE fl.returnee SET created_by = NULL WHERE returnee_id = '%s';\n"
             % r["returnee_id"])
    assert p.returncode != 0 and "never changes" in p.stderr, p.stderr
    f = funded_fund(api, "1000.00")
    g = apply(api, f, "100.00")
    appr.ok("grant.approve", {"grant_id": g["grant_id"]})
    p = psql(env, "UPDATE fl.grant_application SET amount = 1 WHERE grant_id = '%s';\n"
             % g["grant_id"])
    assert p.returncode != 0 and "terms change only while submitted" in p.stderr, p.stderr
    p = psql(env, "DELETE FROM fl.grant_decision WHERE grant_id = '%s';\n" % g["grant_id"])
    assert p.returncode != 0 and "refused" in p.stderr, p.stderr
    g2 = apply(api, f, "100.00", )
    assert g2["approvals_needed"] == 1
    # a submitted grant's terms change directly only with no approval standing and the
    # approvals the fund's rule needs
    p = psql(env, "UPDATE fl.grant_application SET approvals_needed = 2 WHERE grant_id = "
                  "'%s';\n" % g2["grant_id"])
    assert p.returncode != 0 and "terms change only" in p.stderr, p.stderr


# --------------------------------------------------------------------------------------------
# contribution.reverse

def _receive(api, f, partner, amount, **kw):
    p = {"partner_id": partner["partner_id"], "fund": f["code"], "amount": amount,
         "currency": "EUR"}
    p.update(kw)
    return api.ok("contribution.receive", p)


def _kept_is_fifo(env, code):
    """The kept allocation equals the from-scratch first-in first-out computation."""
    assert env.sql(
        "SELECT count(*) FROM ((SELECT contribution_id, grant_id, sum(amount) FROM "
        "fl.allocation WHERE fund_code = '{c}' GROUP BY 1, 2 EXCEPT SELECT contribution_id, "
        "grant_id, sum(amount) FROM fl.fifo_allocations('{c}') GROUP BY 1, 2) UNION ALL "
        "(SELECT contribution_id, grant_id, sum(amount) FROM fl.fifo_allocations('{c}') "
        "GROUP BY 1, 2 EXCEPT SELECT contribution_id, grant_id, sum(amount) FROM "
        "fl.allocation WHERE fund_code = '{c}' GROUP BY 1, 2)) x".format(c=code)).strip() == "0"


def _same_as_journal(env, api, code):
    import json
    assert api.ok("fund.balance", {"code": code}) == json.loads(
        env.sql("SELECT fl.fund_balance_from_journal('%s')" % code).strip())


def test_reverse_a_wrong_receipt(env, daemon, admin, api, appr):
    from fl.grants import approve, confirm, create
    from fl.ledger import entries_of_kind, fund_journal, new_fund
    f = new_fund(api, dual="100000")
    donor = new_partner(api)
    first = _receive(api, f, donor, "100.00", received_at="2026-01-05")
    wrong = _receive(api, f, donor, "250.00", fee="2.50", received_at="2026-01-06")
    before = api.ok("fund.balance", {"code": f["code"]})
    # 60.00 paid: first in, first out, from the first receipt only
    g = approve(appr, apply(api, f, "60.00"))
    with new_client(daemon, admin, ["admin"], "rc") as checker:
        confirm(checker, create(api, g, "60.00"))
    api.ok("contribution.status", {"contribution_id": first["contribution_id"]})
    key = uniq("rev")
    params = {"contribution_id": wrong["contribution_id"], "reason": "booked twice",
              "value_date": "2026-01-07", "idempotency_key": key}
    r = api.ok("contribution.reverse", params)
    assert (r["status"], r["reverse_reason"]) == ("reversed", "booked twice"), r
    # a retry with its key answers the same and writes nothing more
    assert api.ok("contribution.reverse", params) == r
    [orig] = [e for e in entries_of_kind(fund_journal(api, f["code"]), "receipt")
              if wrong["contribution_id"] in e["memo"]]
    [rev] = entries_of_kind(fund_journal(api, f["code"]), "receipt_reversal")
    assert r["reversal_entry_id"] == rev["entry_id"], (r, rev)
    assert rev["memo"].startswith("reversal of %s of contribution " % orig["entry_id"]), rev
    assert sorted((p["account"], p["amount"]) for p in rev["postings"]) == sorted(
        (p["account"], p["amount"][1:] if p["amount"].startswith("-") else "-" + p["amount"])
        for p in orig["postings"]), (orig, rev)
    assert rev["value_date"].startswith("2026-01-07")
    after = api.ok("fund.balance", {"code": f["code"]})
    assert (after["received"], after["charges"]) == ("100.00", "0.00"), after
    assert before["received"] == "350.00"
    _same_as_journal(env, api, f["code"])
    # reversing it again is refused; so is reversing what paid for something
    api.err("contribution.reverse", {"contribution_id": wrong["contribution_id"],
                                     "reason": "again"}, -32009, reason="wrong_state")
    e = api.err("contribution.reverse", {"contribution_id": first["contribution_id"],
                                         "reason": "x"}, -32010, reason="already_used")
    assert e["data"]["used"] == "60.00", e
    assert api.ok("contribution.get", {"contribution_id": first["contribution_id"]})[
        "status"] == "received"
    # the reversed receipt pays for nothing from now on
    g2 = approve(appr, apply(api, f, "30.00"))
    with new_client(daemon, admin, ["admin"], "rc2") as checker:
        confirm(checker, create(api, g2, "30.00"))
    st = api.ok("contribution.status", {"contribution_id": first["contribution_id"]})
    assert st["used"] == "90.00", st
    _kept_is_fifo(env, f["code"])
    _same_as_journal(env, api, f["code"])
    assert api.ok("contribution.list", {"fund": f["code"], "status": "reversed"})[
        "contributions"][0]["contribution_id"] == wrong["contribution_id"]


def test_reverse_refused_when_the_fund_cannot_bear_it(env, daemon, admin, api, appr):
    from fl.grants import approve
    from fl.ledger import new_fund
    f = new_fund(api, dual="100000")
    donor = new_partner(api)
    c = _receive(api, f, donor, "100.00")
    approve(appr, apply(api, f, "80.00"))              # committed, not yet paid
    e = api.err("contribution.reverse", {"contribution_id": c["contribution_id"],
                                         "reason": "x"}, -32010, reason="insufficient_funds")
    assert e["data"]["available"] == "20.00", e
    pledge = api.ok("contribution.pledge", {"partner_id": donor["partner_id"],
                                            "fund": f["code"], "amount": "5.00",
                                            "currency": "EUR"})
    api.err("contribution.reverse", {"contribution_id": pledge["contribution_id"],
                                     "reason": "x"}, -32009, reason="wrong_state")
    api.ok("contribution.receive", {"contribution_id": pledge["contribution_id"]})
    api.err("contribution.reverse", {"contribution_id": pledge["contribution_id"],
                                     "reason": "x"}, -32009, reason="pledge_reversal")
    api.err("contribution.reverse", {"contribution_id": c["contribution_id"]}, -32602,
            field="reason")
    api.err("contribution.reverse", {"contribution_id": c["contribution_id"],
                                     "reason": "x", "value_date": "2999-01-01"}, -32602,
            field="value_date")
    appr.err("contribution.reverse", {"contribution_id": c["contribution_id"],
                                      "reason": "x"}, -32003)
    _same_as_journal(env, api, f["code"])
    # the database: a contribution is reversed only with its reversal entry
    p = psql(env, "UPDATE fl.contribution SET status = 'reversed' WHERE contribution_id = "
                  "'%s';\n" % c["contribution_id"])
    assert p.returncode != 0, p.stderr
