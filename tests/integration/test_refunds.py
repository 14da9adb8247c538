"""disbursement.refund: money paid for a grant and given back, against its disbursement and
value dated; the grant's and the fund's figures go back by it and the partners' view of what
their contributions paid for follows (docs/ledger.md, Refunds)."""

from fl.env import uniq
from fl.client import create_principal, api_of
from fl.ledger import new_fund, new_partner, short_postings, fund_journal

from test_pledges_fees import same_as_journal, sql_err


class World:
    def __init__(self, daemon, admin, api, kind="pass_through"):
        self.api = api
        self.ap = api_of(daemon, create_principal(daemon, admin, ["approver"]))
        self.checker = api_of(daemon, create_principal(daemon, admin, ["admin"]))
        self.code = new_fund(api, currency="EUR", kind=kind, dual="100000")["code"]
        self.pa = new_partner(api)["partner_id"]

    def receive(self, amount, when):
        return self.api.ok("contribution.receive", {
            "partner_id": self.pa, "fund": self.code, "amount": amount, "currency": "EUR",
            "received_at": when})["contribution_id"]

    def grant(self, amount):
        re = self.api.ok("returnee.register", {"full_name": "Person " + uniq("n"),
                                               "region": "AM-SH", "returned_from": "RU",
                                               "returned_on": "2026-05-01"})
        g = self.api.ok("grant.apply", {"returnee_id": re["returnee_id"], "fund": self.code,
                                        "amount": amount, "category": "other",
                                        "purpose": "p"})["grant_id"]
        self.ap.ok("grant.approve", {"grant_id": g})
        return g

    def pay(self, g, amount):
        d = self.api.ok("disbursement.create", {"grant_id": g, "amount": amount})
        return self.checker.ok("disbursement.confirm", {
            "disbursement_id": d["disbursement_id"], "bank_ref": "PAY-" + uniq("b")})

    def used(self, cid):
        s = self.api.ok("contribution.status", {"contribution_id": cid})
        return s["used"], s["unused"], [(a["grant_id"], a["amount"]) for a in s["allocations"]]


def test_refund_of_a_completed_grant_goes_back_to_the_fund(env, daemon, admin, api):
    w = World(daemon, admin, api)
    c1 = w.receive("100.00", "2026-01-01")
    c2 = w.receive("100.00", "2026-01-02")
    g = w.grant("150.00")
    d1 = w.pay(g, "100.00")
    w.pay(g, "50.00")
    assert w.used(c1) == ("100.00", "0.00", [(g, "100.00")])
    assert w.used(c2) == ("50.00", "50.00", [(g, "50.00")])
    d = api.ok("disbursement.refund", {"disbursement_id": d1["disbursement_id"],
                                       "amount": "40.00", "refunded_at": "2026-03-01",
                                       "bank_ref": "RET-1", "reason": "grant recovered"})
    assert (d["status"], d["amount"], d["refunded"]) == ("paid", "100.00", "40.00")
    [r] = d["refunds"]
    assert (r["amount"], r["refunded_at"], r["bank_ref"], r["reason"]) == \
        ("40.00", "2026-03-01T00:00:00.000000Z", "RET-1", "grant recovered")
    [e] = [e for e in fund_journal(api, w.code) if e["kind"] == "refund"]
    assert short_postings(e, w.code) == {"cash": 4000, "grants_disbursed": -4000}
    gr = api.ok("grant.get", {"grant_id": g})
    assert (gr["status"], gr["disbursed"], gr["committed"]) == ("completed", "110.00", "0.00")
    b = same_as_journal(env, api, w.code)
    assert (b["disbursed"], b["committed"], b["available"]) == ("110.00", "0.00", "90.00")
    # the first payment now paid 60.00, all of it from c1; the second takes c1's 40.00 first
    assert w.used(c1) == ("100.00", "0.00", [(g, "100.00")])
    assert w.used(c2) == ("10.00", "90.00", [(g, "10.00")])
    kept = env.sql("SELECT contribution_id, grant_id, sum(amount) FROM fl.allocation "
                   "WHERE fund_code = '%s' GROUP BY 1, 2 ORDER BY 1, 2" % w.code)
    full = env.sql("SELECT contribution_id, grant_id, sum(amount) FROM "
                   "fl.fifo_allocations('%s') GROUP BY 1, 2 ORDER BY 1, 2" % w.code)
    assert kept == full, (kept, full)
    # the rest of it, then nothing more
    d = api.ok("disbursement.refund", {"disbursement_id": d1["disbursement_id"],
                                       "reason": "the rest"})
    assert d["refunded"] == "100.00"
    assert w.used(c1) == ("50.00", "50.00", [(g, "50.00")])
    api.err("disbursement.refund", {"disbursement_id": d1["disbursement_id"], "reason": "x"},
            -32009, field="amount", reason="exceeds_paid")
    same_as_journal(env, api, w.code)


def test_refund_of_an_approved_grant_is_committed_again(env, daemon, admin, api):
    w = World(daemon, admin, api)
    w.receive("500.00", "2026-01-01")
    g = w.grant("100.00")
    d = w.pay(g, "30.00")
    before = api.ok("fund.balance", {"code": w.code})
    api.err("disbursement.create", {"grant_id": g, "amount": "70.01"}, -32009,
            reason="exceeds_grant")
    api.ok("disbursement.refund", {"disbursement_id": d["disbursement_id"],
                                   "reason": "the bank returned it"})
    [e] = [e for e in fund_journal(api, w.code) if e["kind"] == "refund"]
    assert short_postings(e, w.code) == {"cash": 3000, "grants_disbursed": -3000,
                                         "grants_committed": 3000, "commitments": -3000}
    gr = api.ok("grant.get", {"grant_id": g})
    assert (gr["status"], gr["disbursed"], gr["committed"]) == ("approved", "0.00", "100.00")
    b = same_as_journal(env, api, w.code)
    assert b["available"] == before["available"] == "400.00"
    assert (b["committed"], b["disbursed"]) == ("100.00", "0.00")
    # the grant can be paid whole again
    w.pay(g, "100.00")
    gr = api.ok("grant.get", {"grant_id": g})
    assert (gr["status"], gr["disbursed"], gr["committed"]) == ("completed", "100.00", "0.00")
    same_as_journal(env, api, w.code)


def test_refund_refused(env, daemon, admin, api):
    w = World(daemon, admin, api)
    w.receive("500.00", "2026-01-01")
    g = w.grant("100.00")
    pending = api.ok("disbursement.create", {"grant_id": g, "amount": "10.00"})
    api.err("disbursement.refund", {"disbursement_id": pending["disbursement_id"],
                                    "reason": "x"}, -32009, reason="wrong_state")
    d = w.checker.ok("disbursement.confirm", {"disbursement_id": pending["disbursement_id"],
                                              "bank_ref": "B"})
    api.err("disbursement.refund", {"disbursement_id": d["disbursement_id"], "reason": "x",
                                    "amount": "10.01"}, -32009, field="amount",
            reason="exceeds_paid")
    api.err("disbursement.refund", {"disbursement_id": d["disbursement_id"], "reason": "x",
                                    "refunded_at": "2099-01-01"}, -32602,
            field="refunded_at", reason="in_the_future")
    api.err("disbursement.refund", {"disbursement_id": "di_" + "0" * 20, "reason": "x"},
            -32004, reason="disbursement_not_found")
    api.err("disbursement.refund", {"disbursement_id": d["disbursement_id"]}, -32602,
            field="reason")
    w.ap.err("disbursement.refund", {"disbursement_id": d["disbursement_id"],
                                     "reason": "x"}, -32003)
    # the database refuses a refund past what was paid, and any change to one
    out = sql_err(env, "INSERT INTO fl.refund (refund_id, disbursement_id, grant_id, amount, "
                  "refunded_at, reason) VALUES ('rf_x', '%s', '%s', 1001, now(), 'x')"
                  % (d["disbursement_id"], g))
    assert "never more than was paid" in out, out
    key = uniq("rf")
    p = {"disbursement_id": d["disbursement_id"], "reason": "r", "amount": "1.00",
         "idempotency_key": key}
    assert api.ok("disbursement.refund", p) == api.ok("disbursement.refund", p)
    assert api.ok("disbursement.list", {"grant_id": g})["disbursements"][0]["refunded"] == \
        "1.00"
    out = sql_err(env, "UPDATE fl.refund SET amount = 2 WHERE disbursement_id = '%s'"
                  % d["disbursement_id"])
    assert "append-only" in out, out
    same_as_journal(env, api, w.code)


def test_endowment_use_follows_a_refund(env, daemon, admin, api):
    w = World(daemon, admin, api, kind="endowment")
    c = w.receive("1000.00", "2026-01-01")
    api.ok("fund.record_earnings", {"code": w.code, "amount": "100.00", "period": "Q"})
    g = w.grant("100.00")
    d = w.pay(g, "100.00")
    assert w.used(c)[0] == "100.00"
    api.ok("disbursement.refund", {"disbursement_id": d["disbursement_id"],
                                   "amount": "25.00", "reason": "recovered"})
    # of its earnings share (100.00): 75.00 used, 25.00 not
    assert w.used(c) == ("75.00", "25.00", [(g, "75.00")])
    b = same_as_journal(env, api, w.code)
    assert b["available"] == "25.00"
