"""contribution.status: FIFO with earmarks for pass-through funds (the worked example of
docs/ledger.md), pro-rata rounded down for endowments, partner scoping and privacy."""

import json

from fl.env import uniq
from fl.client import Client, assert_error, call, create_principal, rpc


def _j(daemon, token, method, params):
    return call(daemon, token, method, params)


def _world(daemon, admin, kind, dual="10000"):
    code = uniq("CS").upper().replace("_", "-")[:32]
    _j(daemon, admin, "fund.create", {"code": code, "name": "status", "currency": "EUR",
       "kind": kind, "dual_approval_above": dual})
    pa = _j(daemon, admin, "partner.create", {"name": uniq("partner"),
            "country": "AM", "kind": "organisation"})["partner_id"]
    ap = create_principal(daemon, admin, ["approver"])["token"]
    checker = create_principal(daemon, admin, ["admin"])["token"]
    return code, pa, ap, checker


def _receive(daemon, admin, code, pa, amount, when, earmark=None):
    p = {"partner_id": pa, "fund": code, "amount": amount, "currency": "EUR",
         "received_at": when}
    if earmark:
        p["earmark_region"] = earmark
    return _j(daemon, admin, "contribution.receive", p)["contribution_id"]


def _pay_grant(daemon, admin, ap, checker, code, region, amount):
    re = _j(daemon, admin, "returnee.register", {"full_name": "Secret Person " + region,
            "region": region, "returned_from": "RU", "returned_on": "2026-05-01",
            "national_id": uniq("NID")})["returnee_id"]
    g = _j(daemon, admin, "grant.apply", {"returnee_id": re, "fund": code, "amount": amount,
           "category": "small_business", "purpose": "a bakery"})["grant_id"]
    _j(daemon, ap, "grant.approve", {"grant_id": g})
    d = _j(daemon, admin, "disbursement.create", {"grant_id": g, "amount": amount})
    _j(daemon, checker, "disbursement.confirm", {"disbursement_id": d["disbursement_id"],
       "bank_ref": "PAY-" + g})
    return g


def test_fifo_with_earmark_worked_example(daemon, admin):
    code, pa, ap, checker = _world(daemon, admin, "pass_through")
    c1 = _receive(daemon, admin, code, pa, "300.00", "2026-01-01")
    c2 = _receive(daemon, admin, code, pa, "200.00", "2026-01-02", earmark="Shirak")
    c3 = _receive(daemon, admin, code, pa, "500.00", "2026-01-03")
    g1 = _pay_grant(daemon, admin, ap, checker, code, "Lori", "400.00")
    g2 = _pay_grant(daemon, admin, ap, checker, code, "AM-SH", "250.00")
    got = {}
    for c in (c1, c2, c3):
        s = _j(daemon, admin, "contribution.status", {"contribution_id": c})
        got[c] = (s["used"], s["unused"],
                  [(a["grant_id"], a["region"], a["category"], a["amount"])
                   for a in s["allocations"]])
    assert got[c1] == ("300.00", "0.00", [(g1, "Lori", "small_business", "300.00")])
    assert got[c2] == ("200.00", "0.00", [(g2, "Shirak", "small_business", "200.00")])
    assert got[c3] == ("150.00", "350.00", [(g1, "Lori", "small_business", "100.00"),
                                            (g2, "Shirak", "small_business", "50.00")])
    # deterministic: asking again gives the same bytes
    a = rpc(daemon, admin, "contribution.status", {"contribution_id": c3})[1]
    b = rpc(daemon, admin, "contribution.status", {"contribution_id": c3})[1]
    assert json.dumps(a["result"], sort_keys=True) == json.dumps(b["result"], sort_keys=True)


def test_endowment_share_rounded_down(daemon, admin):
    code, pa, ap, checker = _world(daemon, admin, "endowment")
    ca = _receive(daemon, admin, code, pa, "600.00", "2026-01-01")
    cb = _receive(daemon, admin, code, pa, "400.00", "2026-01-02")
    _j(daemon, admin, "fund.record_earnings", {"code": code, "amount": "1.00",
       "period": "2026-Q1"})
    g = _pay_grant(daemon, admin, ap, checker, code, "Kotayk", "0.07")
    sa = _j(daemon, admin, "contribution.status", {"contribution_id": ca})
    sb = _j(daemon, admin, "contribution.status", {"contribution_id": cb})
    # 600/1000 of 0.07 = 0.042 -> 0.04; 400/1000 of 0.07 = 0.028 -> 0.02 (rounded down),
    # used out of the contribution's share of the earnings: the capital is kept whole
    assert (sa["capital_kept"], sa["earnings_share"], sa["used"], sa["unused"]) == \
        ("600.00", "0.60", "0.04", "0.56")
    assert (sb["capital_kept"], sb["earnings_share"], sb["used"], sb["unused"]) == \
        ("400.00", "0.40", "0.02", "0.38")
    assert sa["transfers"] == [], sa
    assert sa["allocations"] == [{"grant_id": g, "region": "Kotayk", "region_code": "AM-KT",
                                  "category": "small_business", "amount": "0.04"}]


def test_pledge_has_nothing_used(daemon, admin):
    code, pa, _, _ = _world(daemon, admin, "pass_through")
    c = _j(daemon, admin, "contribution.pledge", {"partner_id": pa, "fund": code,
           "amount": "10.00", "currency": "EUR"})["contribution_id"]
    s = _j(daemon, admin, "contribution.status", {"contribution_id": c})
    assert (s["status"], s["used"], s["unused"], s["allocations"]) == \
        ("pledged", "0.00", "0.00", [])


def test_partner_sees_own_status_only_and_no_personal_data(daemon, admin):
    code, pa, ap, checker = _world(daemon, admin, "pass_through")
    other = _j(daemon, admin, "partner.create", {"name": "Other", "country": "FR",
               "kind": "individual"})["partner_id"]
    mine = _receive(daemon, admin, code, pa, "100.00", "2026-01-01")
    theirs = _receive(daemon, admin, code, other, "100.00", "2026-01-02")
    _pay_grant(daemon, admin, ap, checker, code, "Tavush", "150.00")
    tok = create_principal(daemon, admin, ["partner"], partner_id=pa)["token"]
    with Client(daemon, token=tok) as s:
        r = s.post_rpc({"jsonrpc": "2.0", "id": 1, "method": "contribution.status",
                        "params": {"contribution_id": mine}})
        body = r.body
        doc = json.loads(body)
        assert doc["result"]["used"] == "100.00"
        assert b"Secret Person" not in body and b"NID" not in body
        assert b"a bakery" not in body
        r2, doc2 = s.rpc("contribution.status", {"contribution_id": theirs})
        assert_error(doc2, -32004, field="contribution_id",
                     reason="contribution_not_found")
        assert other.encode() not in r2.body
