"""grant.apply, .get, .list, .withdraw, .approve and .reject (docs/protocol.md; the
conventions of docs/ledger.md for errors and pagination; the author's design where the
contract is silent): applications, the four-eyes rule, one or two approvals by amount, the
commitment written by the final approval, -32010 when the fund cannot cover it (also under
concurrency), state transitions, roles and partner isolation."""

import json

import pytest

from fl.env import uniq
from fl.client import Client, assert_error, create_principal, leaks, new_client, race
from fl.db import sql_lit
from fl.ledger import (account_sums, all_items, balance, check_entry, expected_balance,
                       missing_like, new_fund, new_partner, pages, parse_time, postings_of, utcnow)
from fl.grants import (CATEGORIES, GRANT_KEYS, apply, check_grant, commitment_entries, funded_fund,
                       gid, grant_params, new_returnee)


@pytest.fixture(scope="module")
def admin_id(api):
    return api.ok("system.whoami")["principal_id"]


@pytest.fixture(scope="module")
def pa(appr):
    """The session's approver (conftest.py's appr)."""
    return appr


@pytest.fixture(scope="module")
def pb(daemon, admin):
    with new_client(daemon, admin, ["approver"], "approver-b") as a:
        yield a


@pytest.fixture(scope="module")
def pc(daemon, admin):
    with new_client(daemon, admin, ["approver"], "approver-c") as a:
        yield a


@pytest.fixture(scope="module")
def maker(daemon, admin):
    """One principal with admin and approver: may apply, may approve others' grants."""
    with new_client(daemon, admin, ["admin", "approver"], "maker") as a:
        yield a


@pytest.fixture(scope="module")
def plain_admin(daemon, admin):
    with new_client(daemon, admin, ["admin"], "adm") as a:
        yield a


@pytest.fixture
def ret(api):
    return new_returnee(api, region="AM-SH")


def get(api, g):
    return api.ok("grant.get", gid(g))


def bal(api, f):
    return balance(api, f["code"], f["currency"])


def gids(gs):
    return [g["grant_id"] for g in gs]


def assert_commitment(api, f, amounts):
    """The fund's commitment entries: one per approved grant, in order, each
    Dr grants_committed / Cr commitments of the grant's amount (minor units)."""
    code = f["code"]
    es = commitment_entries(api, code)
    assert [e["kind"] for e in es] == ["commitment"] * len(amounts), es
    for e, amt in zip(es, amounts):
        check_entry(e)
        assert postings_of(e) == {code + ":grants_committed": amt, code + ":commitments": -amt}, e
    return es


# --------------------------------------------------------------------------------------------
# apply


def test_apply_shape(api, admin_id, ret):
    f = funded_fund(api, received="1000.00", dual="500.00")
    before = bal(api, f)
    t0 = utcnow()
    params = grant_params(ret, f, amount="250", category="agriculture",
                          purpose="Two cows and a milking machine")
    g = api.ok("grant.apply", params)
    check_grant(g)
    assert {k: g[k] for k in GRANT_KEYS - {"grant_id", "created_at"}} == {
        "status": "submitted", "amount": "250.00", "currency": "EUR", "fund": f["code"],
        "region": "Shirak", "region_code": "AM-SH", "category": "agriculture",
        "purpose": "Two cows and a milking machine", "returnee_id": ret["returnee_id"],
        "approvals": [], "approvals_needed": 1, "committed": "0.00", "disbursed": "0.00",
        "created_by": admin_id}
    assert parse_time(g["created_at"]).timestamp() >= t0.timestamp() - 5
    assert get(api, g) == g
    # Applying commits nothing.
    assert bal(api, f) == before
    assert commitment_entries(api, f["code"]) == []


@pytest.mark.parametrize("dual,amount,needed", [
    ("500.00", "500.00", 1), ("500.00", "500.01", 2), ("500", "499.99", 1),
    ("0", "0.01", 2), ("0.00", "1000", 2), ("100000", "99999.99", 1),
])
def test_approvals_needed(api, ret, dual, amount, needed):
    f = new_fund(api, currency="EUR", dual=dual)
    assert apply(api, f, amount=amount, returnee=ret)["approvals_needed"] == needed


def test_region_is_the_returnees(api):
    f = new_fund(api)
    for region, name, code in (("Vayots Dzor", "Vayots Dzor", "AM-VD"),
                               ("AM-ER", "Yerevan", "AM-ER")):
        r = new_returnee(api, region=region)
        g = apply(api, f, returnee=r)
        assert (g["region"], g["region_code"]) == (name, code), g


@pytest.mark.parametrize("category", CATEGORIES)
def test_categories(api, ret, category):
    f = new_fund(api)
    assert apply(api, f, category=category, returnee=ret)["category"] == category


@pytest.mark.parametrize("cur,amount,want", [
    ("JPY", "1000", "1000"), ("KWD", "1.125", "1.125"), ("KWD", "7", "7.000"),
    ("EUR", "7.5", "7.50"), ("USD", "0.01", "0.01"),
])
def test_amount_in_fund_currency(api, ret, cur, amount, want):
    f = new_fund(api, currency=cur)
    g = apply(api, f, amount=amount, returnee=ret)
    assert (g["amount"], g["currency"]) == (want, cur), g
    zero = {0: "0", 2: "0.00", 3: "0.000"}[len(want.partition(".")[2])]
    assert (g["committed"], g["disbursed"]) == (zero, zero), g


@pytest.mark.parametrize("cur,amount", [("EUR", "1.234"), ("JPY", "1000.5"),
                                        ("KWD", "1.1255"), ("USD", "0.001")])
def test_amount_too_many_decimals(api, ret, cur, amount):
    f = new_fund(api, currency=cur)
    api.err("grant.apply", grant_params(ret, f, amount=amount), -32602, field="amount",
            reason="too_many_decimals")


def test_apply_needs_no_money(api, ret):
    """Available is checked at the final approval, not at application."""
    f = new_fund(api)
    g = apply(api, f, amount="1000000.00", returnee=ret)
    assert g["status"] == "submitted"
    assert bal(api, f) == expected_balance("pass_through")


@pytest.mark.parametrize("field,value", [
    ("amount", 100), ("amount", 100.5), ("amount", "0"), ("amount", "0.00"), ("amount", "-5"),
    ("amount", "abc"), ("amount", ""), ("amount", "1e3"), ("amount", " 5"), ("amount", None),
    ("category", "food"), ("category", ""), ("category", 3), ("category", "Small_Business"),
    ("category", "small business"), ("category", None),
    ("purpose", ""), ("purpose", "x" * 1001), ("purpose", 5), ("purpose", None),
    ("amount", "+5"), ("amount", "5."), ("amount", ".5"), ("amount", "1,5"),
    ("returnee_id", 5), ("returnee_id", None), ("fund", 5), ("fund", None),
])
def test_apply_bad_params(api, ret, field, value):
    f = new_fund(api)
    p = grant_params(ret, f)
    p[field] = value
    api.err("grant.apply", p, -32602, field=field)


@pytest.mark.parametrize("missing", ["returnee_id", "fund", "amount", "category", "purpose"])
def test_apply_missing_param(api, ret, missing):
    f = new_fund(api)
    p = grant_params(ret, f)
    del p[missing]
    api.err("grant.apply", p, -32602, field=missing)


def test_apply_unknown_param(api, ret):
    f = new_fund(api)
    api.err("grant.apply", grant_params(ret, f, colour="red"), -32602, field="colour")


def test_purpose_limit(api, ret):
    f = new_fund(api)
    purpose = ("Purpose " + uniq("p") + " ").ljust(1000, "z")
    assert apply(api, f, purpose=purpose, returnee=ret)["purpose"] == purpose


def test_apply_unknown_returnee_or_fund(api, ret):
    f = new_fund(api)
    api.err("grant.apply", dict(grant_params(ret, f),
                                returnee_id=missing_like(ret["returnee_id"])), -32004)
    api.err("grant.apply", dict(grant_params(ret, f), fund="NO-SUCH-" + uniq("f").upper()),
            -32004, field="fund", reason="fund_not_found")
    assert api.ok("grant.list", {"fund": f["code"]})["grants"] == []


def test_get_unknown(api, ret):
    g = apply(api, new_fund(api), returnee=ret)
    api.err("grant.get", {"grant_id": missing_like(g["grant_id"])}, -32004)
    api.err("grant.get", {"grant_id": "no-such-grant"}, -32004)
    api.err("grant.get", {}, -32602, field="grant_id")
    api.err("grant.get", {"grant_id": 5}, -32602, field="grant_id")


# --------------------------------------------------------------------------------------------
# approve


def test_single_approval_commits(api, pa, ret):
    f = funded_fund(api, received="1000.00", dual="500.00")
    g = apply(api, f, amount="300.00", returnee=ret)
    t0 = utcnow()
    a = pa.ok("grant.approve", {"grant_id": g["grant_id"], "comment": "solid plan"})
    check_grant(a)
    assert a["status"] == "approved" and a["committed"] == "300.00", a
    assert a["disbursed"] == "0.00"
    assert len(a["approvals"]) == 1, a
    ap = a["approvals"][0]
    assert (ap["principal_id"], ap["comment"]) == (pa.pid, "solid plan"), ap
    assert parse_time(ap["at"]).timestamp() >= t0.timestamp() - 5
    for k in ("grant_id", "amount", "fund", "returnee_id", "created_at", "created_by"):
        assert a[k] == g[k], k
    assert get(api, g) == a
    assert bal(api, f) == expected_balance("pass_through", received=100000, committed=30000)
    assert_commitment(api, f, [30000])


def test_dual_approval(api, pa, pb, pc, ret):
    f = funded_fund(api, received="1000.00", dual="100.00")
    g = apply(api, f, amount="250.00", returnee=ret)
    assert g["approvals_needed"] == 2
    first = pa.ok("grant.approve", gid(g))
    check_grant(first)
    assert first["status"] == "submitted" and first["committed"] == "0.00", first
    assert [(x["principal_id"], x["comment"]) for x in first["approvals"]] == [(pa.pid, None)]
    assert get(api, g) == first
    assert bal(api, f) == expected_balance("pass_through", received=100000)
    assert commitment_entries(api, f["code"]) == []
    # The same approver again: four-eyes, nothing changes.
    pa.err("grant.approve", gid(g), -32011, reason="already_approved")
    pa.err("grant.approve", dict(gid(g), comment="really"), -32011, reason="already_approved")
    assert get(api, g) == first
    second = pb.ok("grant.approve", dict(gid(g), comment="agreed"))
    check_grant(second)
    assert second["status"] == "approved" and second["committed"] == "250.00", second
    assert [(x["principal_id"], x["comment"]) for x in second["approvals"]] == \
        [(pa.pid, None), (pb.pid, "agreed")]
    assert second["approvals"][0] == first["approvals"][0]
    assert get(api, g) == second
    assert bal(api, f) == expected_balance("pass_through", received=100000, committed=25000)
    assert_commitment(api, f, [25000])
    # A third approver on the approved grant: wrong state (pa again is ambiguous: it is both
    # "not submitted" and "already approved").
    e = pc.err("grant.approve", gid(g), -32009, reason="wrong_state")
    assert e["data"].get("status") == "approved", e


def test_amount_equal_to_threshold_needs_one(api, pa, ret):
    f = funded_fund(api, received="1000.00", dual="100.00")
    g = apply(api, f, amount="100.00", returnee=ret)
    assert pa.ok("grant.approve", gid(g))["status"] == "approved"
    assert_commitment(api, f, [10000])


def test_self_approval(api, maker, pa, pb, ret):
    f = funded_fund(api, received="1000.00", dual="100000")
    g = maker.ok("grant.apply", grant_params(ret, f, amount="10.00"))
    assert g["created_by"] == maker.pid
    maker.err("grant.approve", gid(g), -32011, reason="self_approval")
    maker.err("grant.approve", dict(gid(g), comment="mine"), -32011, reason="self_approval")
    assert get(api, g) == g
    assert commitment_entries(api, f["code"]) == []
    a = pa.ok("grant.approve", gid(g))
    assert a["status"] == "approved" and [x["principal_id"] for x in a["approvals"]] == [pa.pid]
    # Dual: the maker may be neither the first nor the second approver.
    f2 = funded_fund(api, received="1000.00", dual="0")
    g2 = maker.ok("grant.apply", grant_params(ret, f2, amount="10.00"))
    maker.err("grant.approve", gid(g2), -32011, reason="self_approval")
    pa.ok("grant.approve", gid(g2))
    maker.err("grant.approve", gid(g2), -32011, reason="self_approval")
    g2now = get(api, g2)
    assert g2now["status"] == "submitted" and len(g2now["approvals"]) == 1
    assert pb.ok("grant.approve", gid(g2))["status"] == "approved"


def test_maker_may_approve_others_grants(api, maker, ret):
    f = funded_fund(api, received="100.00")
    g = apply(api, f, amount="10.00", returnee=ret)     # applied by the admin
    a = maker.ok("grant.approve", gid(g))
    assert a["status"] == "approved" and a["approvals"][0]["principal_id"] == maker.pid


def decisions(env, g):
    return env.sql("SELECT principal_id, decision, coalesce(comment, '') FROM "
                   "fl.grant_decision WHERE grant_id = %s ORDER BY at, principal_id"
                   % sql_lit(g["grant_id"])).strip().splitlines()


def test_insufficient_funds(env, api, pa, ret):
    f = funded_fund(api, received="100.00")
    g = apply(api, f, amount="150.00", returnee=ret)
    err = pa.err("grant.approve", dict(gid(g), comment="c"), -32010,
                 reason="insufficient_funds")
    assert err["data"].get("available") == "100.00", err     # docs/ledger.md
    assert get(api, g) == g                                 # submitted, approvals []
    assert decisions(env, g) == []                          # nothing recorded
    assert bal(api, f) == expected_balance("pass_through", received=10000)
    assert commitment_entries(api, f["code"]) == []
    # More money arrives: the same approver may now approve.
    p = new_partner(api)
    api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                    "amount": "50.00", "currency": "EUR"})
    a = pa.ok("grant.approve", gid(g))
    assert a["status"] == "approved" and len(a["approvals"]) == 1, a
    assert bal(api, f) == expected_balance("pass_through", received=15000, committed=15000)
    assert_commitment(api, f, [15000])
    assert err["code"] == -32010


def test_exactly_available(api, pa, ret):
    f = funded_fund(api, received="123.45")
    g1 = apply(api, f, amount="100.00", returnee=ret)
    g2 = apply(api, f, amount="23.45", returnee=ret)
    g3 = apply(api, f, amount="0.01", returnee=ret)
    pa.ok("grant.approve", gid(g1))
    pa.ok("grant.approve", gid(g2))
    pa.err("grant.approve", gid(g3), -32010, reason="insufficient_funds")
    assert bal(api, f) == expected_balance("pass_through", received=12345, committed=12345)
    assert get(api, g3)["status"] == "submitted"


def test_insufficient_at_final_of_two(env, api, pa, pb, ret):
    f = funded_fund(api, received="1000.00", dual="100.00")
    ga = apply(api, f, amount="600.00", returnee=ret)
    gb = apply(api, f, amount="600.00", returnee=ret)
    pa.ok("grant.approve", gid(ga))
    first_b = pa.ok("grant.approve", gid(gb))               # 1000 available: not final anyway
    assert first_b["status"] == "submitted" and len(first_b["approvals"]) == 1
    assert pb.ok("grant.approve", gid(ga))["status"] == "approved"
    pb.err("grant.approve", gid(gb), -32010, reason="insufficient_funds")
    assert get(api, gb) == first_b                          # approvals unchanged: one entry
    assert decisions(env, gb) == ["%s|approve|" % pa.pid]
    assert bal(api, f) == expected_balance("pass_through", received=100000, committed=60000)
    assert_commitment(api, f, [60000])


def test_endowment_grants_from_earnings_only(api, pa, ret):
    f = funded_fund(api, received="1000.00", kind="endowment", earnings="50.00")
    big = apply(api, f, amount="60.00", returnee=ret)
    pa.err("grant.approve", gid(big), -32010, reason="insufficient_funds")
    ok = apply(api, f, amount="50.00", returnee=ret)
    assert pa.ok("grant.approve", gid(ok))["status"] == "approved"
    assert bal(api, f) == expected_balance("endowment", received=100000, earnings=5000,
                                           committed=5000)
    assert get(api, big)["status"] == "submitted"


def test_approve_bad_params(api, pa, ret):
    g = apply(api, new_fund(api), returnee=ret)
    pa.err("grant.approve", {}, -32602, field="grant_id")
    pa.err("grant.approve", {"grant_id": 5}, -32602, field="grant_id")
    pa.err("grant.approve", dict(gid(g), comment=5), -32602, field="comment")
    pa.err("grant.approve", dict(gid(g), colour="red"), -32602, field="colour")
    pa.err("grant.approve", {"grant_id": missing_like(g["grant_id"])}, -32004)
    assert get(api, g) == g


# --------------------------------------------------------------------------------------------
# reject / withdraw / states


def test_reject(env, api, pa, pb, ret):
    f = funded_fund(api, received="1000.00")
    g = apply(api, f, amount="40.00", returnee=ret)
    reason = "Not eligible: " + uniq("why")
    r = pb.ok("grant.reject", dict(gid(g), reason=reason))
    check_grant(r)
    assert r["status"] == "rejected" and r["committed"] == "0.00", r
    # The decision is recorded: the reason on the grant, who/what/why in fl.grant_decision.
    assert reason in json.dumps(r), "rejection reason not on the grant: %r" % r
    rows = env.sql("SELECT principal_id, decision, comment FROM fl.grant_decision "
                   "WHERE grant_id = %s" % sql_lit(g["grant_id"])).strip().splitlines()
    assert rows == ["%s|reject|%s" % (pb.pid, reason)], rows
    assert get(api, g) == r
    e = pa.err("grant.approve", gid(g), -32009, reason="wrong_state")
    assert e["data"].get("status") == "rejected", e
    e = pa.err("grant.reject", dict(gid(g), reason="again"), -32009, reason="wrong_state")
    assert e["data"].get("status") == "rejected", e
    e = api.err("grant.withdraw", dict(gid(g), reason="late"), -32009, reason="wrong_state")
    assert e["data"].get("status") == "rejected", e
    assert get(api, g) == r
    assert commitment_entries(api, f["code"]) == []
    assert bal(api, f) == expected_balance("pass_through", received=100000)


def test_reject_after_first_of_two(api, pa, pb, ret):
    f = funded_fund(api, received="1000.00", dual="0")
    g = apply(api, f, amount="40.00", returnee=ret)
    pa.ok("grant.approve", gid(g))
    r = pb.ok("grant.reject", dict(gid(g), reason="no"))
    assert r["status"] == "rejected" and r["committed"] == "0.00"
    assert commitment_entries(api, f["code"]) == []


@pytest.mark.parametrize("params,field", [
    ({"reason": "x"}, "grant_id"), ({}, "reason"), ({"reason": ""}, "reason"),
    ({"reason": 5}, "reason"), ({"reason": "x", "colour": "red"}, "colour"),
])
def test_reject_and_withdraw_bad_params(api, pa, ret, params, field):
    g = apply(api, new_fund(api), returnee=ret)
    p = dict(params)
    if field != "grant_id":
        p["grant_id"] = g["grant_id"]
    pa.err("grant.reject", p, -32602, field=field)
    api.err("grant.withdraw", p, -32602, field=field)
    assert get(api, g) == g


def test_reject_withdraw_unknown(api, pa, ret):
    g = apply(api, new_fund(api), returnee=ret)
    missing = {"grant_id": missing_like(g["grant_id"]), "reason": "r"}
    pa.err("grant.reject", missing, -32004)
    api.err("grant.withdraw", missing, -32004)


def test_withdraw(api, pa, ret):
    f = funded_fund(api, received="1000.00")
    g = apply(api, f, amount="40.00", returnee=ret)
    w = api.ok("grant.withdraw", dict(gid(g), reason="Returnee emigrated again"))
    check_grant(w)
    assert w["status"] == "withdrawn" and w["committed"] == "0.00", w
    assert get(api, g) == w
    for who, m, p in ((api, "grant.withdraw", dict(gid(g), reason="again")),
                      (pa, "grant.approve", gid(g)),
                      (pa, "grant.reject", dict(gid(g), reason="r"))):
        e = who.err(m, p, -32009, reason="wrong_state")
        assert e["data"].get("status") == "withdrawn", (m, e)
    assert get(api, g) == w
    assert commitment_entries(api, f["code"]) == []


def test_withdraw_after_first_of_two(api, pa, ret):
    f = funded_fund(api, received="1000.00", dual="0")
    g = apply(api, f, amount="40.00", returnee=ret)
    pa.ok("grant.approve", gid(g))
    assert api.ok("grant.withdraw", dict(gid(g), reason="r"))["status"] == "withdrawn"


def test_approved_is_final_for_part_one(api, pa, pb, ret):
    f = funded_fund(api, received="1000.00")
    g = apply(api, f, amount="40.00", returnee=ret)
    a = pa.ok("grant.approve", gid(g))
    for who, m, p in ((api, "grant.withdraw", dict(gid(g), reason="r")),
                      (pb, "grant.approve", gid(g)),
                      (pb, "grant.reject", dict(gid(g), reason="r"))):
        e = who.err(m, p, -32009, reason="wrong_state")
        assert e["data"].get("status") == "approved", (m, e)
    assert get(api, g) == a
    assert_commitment(api, f, [4000])
    assert bal(api, f) == expected_balance("pass_through", received=100000, committed=4000)


# --------------------------------------------------------------------------------------------
# get / list


@pytest.fixture
def book(api, pa):
    """Two funds, returnees in two regions, grants in every part-1 state, in a known order."""
    f1, f2 = funded_fund(api, received="1000.00"), funded_fund(api, received="1000.00")
    sh, lo = new_returnee(api, region="Shirak"), new_returnee(api, region="AM-LO")
    out = []

    def add(f, r, amount, then=None):
        g = apply(api, f, amount=amount, returnee=r)
        if then == "approve":
            g = pa.ok("grant.approve", gid(g))
        elif then == "reject":
            g = pa.ok("grant.reject", dict(gid(g), reason="r"))
        elif then == "withdraw":
            g = api.ok("grant.withdraw", dict(gid(g), reason="w"))
        out.append(g)

    add(f1, sh, "1")                    # 0 submitted
    add(f1, lo, "2", "approve")         # 1 approved
    add(f1, sh, "3", "reject")          # 2 rejected
    add(f2, sh, "4")                    # 3 submitted
    add(f1, lo, "5", "withdraw")        # 4 withdrawn
    add(f1, sh, "6", "approve")         # 5 approved
    add(f2, lo, "7")                    # 6 submitted
    add(f1, lo, "8")                    # 7 submitted
    return {"f1": f1, "f2": f2, "sh": sh, "lo": lo, "g": out}


def test_get_equals_latest_state(api, aud, pa, book):
    for g in book["g"]:
        assert api.ok("grant.get", gid(g)) == g
        assert aud.ok("grant.get", gid(g)) == g
        assert pa.ok("grant.get", gid(g)) == g


def test_list_filters(api, aud, book):
    g, c1, c2 = book["g"], book["f1"]["code"], book["f2"]["code"]

    def lst(**kw):
        return gids(all_items(api, "grant.list", kw, "grants"))

    assert lst(fund=c1) == gids([g[i] for i in (0, 1, 2, 4, 5, 7)])
    assert lst(fund=c2) == gids([g[3], g[6]])
    assert lst(fund=c1, status="submitted") == gids([g[0], g[7]])
    assert lst(fund=c1, status="approved") == gids([g[1], g[5]])
    assert lst(fund=c1, status="rejected") == gids([g[2]])
    assert lst(fund=c1, status="withdrawn") == gids([g[4]])
    assert lst(fund=c2, status="approved") == []
    # States of the next part are valid filters, with nothing in them yet.
    assert lst(fund=c1, status="completed") == []
    assert lst(fund=c1, status="cancelled") == []
    assert lst(fund=c1, region="Shirak") == gids([g[0], g[2], g[5]])
    assert lst(fund=c1, region="AM-SH") == gids([g[0], g[2], g[5]])
    assert lst(fund=c1, region="Lori", status="submitted") == gids([g[7]])
    assert all_items(api, "grant.list", {"fund": c1}, "grants") == \
        [g[i] for i in (0, 1, 2, 4, 5, 7)]
    assert all_items(aud, "grant.list", {"fund": c2}, "grants") == [g[3], g[6]]


def test_list_region_and_status_without_fund(api, book):
    g = book["g"]
    lori = all_items(api, "grant.list", {"region": "AM-LO"}, "grants")
    assert all(x["region_code"] == "AM-LO" and x["region"] == "Lori" for x in lori)
    lids = gids(lori)
    want = gids([g[1], g[4], g[6], g[7]])
    assert [i for i in lids if i in want] == want          # all there, in creation order
    withdrawn = all_items(api, "grant.list", {"status": "withdrawn", "region": "Lori"},
                          "grants")
    assert all(x["status"] == "withdrawn" for x in withdrawn)
    assert g[4]["grant_id"] in gids(withdrawn)


def test_list_pagination(api, book):
    c1 = book["f1"]["code"]
    want = gids([book["g"][i] for i in (0, 1, 2, 4, 5, 7)])
    items, sizes = pages(api, "grant.list", {"fund": c1}, "grants", 4)
    assert gids(items) == want
    assert sizes == [4, 2], sizes
    items, sizes = pages(api, "grant.list", {"fund": c1}, "grants", 1)
    assert sizes == [1] * 6 and gids(items) == want
    items, sizes = pages(api, "grant.list", {"fund": c1}, "grants", 3)
    assert sizes == [3, 3] and gids(items) == want
    items, sizes = pages(api, "grant.list", {"fund": c1}, "grants", 6)
    assert sizes == [6] and gids(items) == want
    res = api.ok("grant.list", {"fund": c1, "limit": 1000})
    assert res["next_cursor"] is None and len(res["grants"]) == 6
    # Unfiltered: a page of 2 then the next page, no overlap, stable.
    p1 = api.ok("grant.list", {"limit": 2})
    assert len(p1["grants"]) == 2 and isinstance(p1["next_cursor"], str)
    p2 = api.ok("grant.list", {"limit": 2, "cursor": p1["next_cursor"]})
    assert p2["grants"] and not set(gids(p1["grants"])) & set(gids(p2["grants"]))
    assert gids(api.ok("grant.list", {"limit": 2})["grants"]) == gids(p1["grants"])


@pytest.mark.parametrize("params,field", [
    ({"status": "paid"}, "status"), ({"status": ""}, "status"), ({"status": 1}, "status"),
    ({"cursor": "garbage"}, "cursor"), ({"cursor": ""}, "cursor"),
    ({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": "5"}, "limit"),
    ({"fund": "lower case"}, "fund"), ({"fund": 5}, "fund"),
    ({"region": "Atlantis"}, "region"), ({"region": 5}, "region"),
    ({"colour": "red"}, "colour"),
])
def test_list_bad_params(api, params, field):
    api.err("grant.list", params, -32602, field=field)


def test_list_unknown_fund(api):
    api.err("grant.list", {"fund": "NO-SUCH-" + uniq("f").upper()}, -32004, field="fund",
            reason="fund_not_found")


# --------------------------------------------------------------------------------------------
# idempotency


def test_idempotent_apply(api, ret):
    f = new_fund(api)
    p = grant_params(ret, f, amount="12.00", idempotency_key=uniq("ga"))
    a = api.ok("grant.apply", p)
    assert api.ok("grant.apply", dict(p)) == a
    api.err("grant.apply", dict(p, amount="12.01"), -32009, reason="idempotency_mismatch")
    assert gids(api.ok("grant.list", {"fund": f["code"]})["grants"]) == [a["grant_id"]]


def test_idempotent_approve_and_withdraw(api, pa, ret):
    f = funded_fund(api, received="1000.00", dual="0")
    g = apply(api, f, amount="12.00", returnee=ret)
    p = dict(gid(g), comment="ok", idempotency_key=uniq("ap"))
    a = pa.ok("grant.approve", p)
    assert pa.ok("grant.approve", dict(p)) == a             # a replay, not already_approved
    pa.err("grant.approve", dict(p, comment="other"), -32009, reason="idempotency_mismatch")
    assert len(get(api, g)["approvals"]) == 1
    w = dict(gid(g), reason="r", idempotency_key=uniq("wd"))
    first = api.ok("grant.withdraw", w)
    assert api.ok("grant.withdraw", dict(w)) == first       # a replay, not wrong_state
    assert first["status"] == "withdrawn"


def test_idempotent_final_approval_commits_once(api, pa, ret):
    f = funded_fund(api, received="1000.00")
    g = apply(api, f, amount="70.00", returnee=ret)
    p = dict(gid(g), idempotency_key=uniq("ap"))
    a = pa.ok("grant.approve", p)
    assert pa.ok("grant.approve", dict(p)) == a
    assert_commitment(api, f, [7000])
    assert bal(api, f)["committed"] == 7000


# --------------------------------------------------------------------------------------------
# roles


def test_roles(daemon, api, pa, aud, plain_admin, ret):
    f = funded_fund(api, received="1000.00")
    g = apply(api, f, amount="10.00", returnee=ret)
    # apply / withdraw need admin
    for who in (pa, aud):
        who.err("grant.apply", grant_params(ret, f), -32003)
        who.err("grant.withdraw", dict(gid(g), reason="r"), -32003)
    # approve / reject need approver
    for who in (plain_admin, aud, api):
        who.err("grant.approve", gid(g), -32003)
        who.err("grant.reject", dict(gid(g), reason="r"), -32003)
    assert get(api, g) == g
    assert gids(api.ok("grant.list", {"fund": f["code"]})["grants"]) == [g["grant_id"]]
    # get / list: admin, approver, auditor
    for who in (api, pa, aud, plain_admin):
        assert who.ok("grant.get", gid(g)) == g
        assert who.ok("grant.list", {"fund": f["code"]})["grants"] == [g]


def test_partner_isolation(daemon, admin, api, pa):
    """A partner principal gets -32003 for every grant.* and returnee.* method, and no byte it
    receives holds a returnee's full_name or national_id (nor a grant's purpose), even for
    its own contribution to the fund that finances the returnee's grant."""
    f = new_fund(api)
    partner = new_partner(api)
    c = api.ok("contribution.receive", {"partner_id": partner["partner_id"], "fund": f["code"],
                                        "amount": "500.00", "currency": "EUR",
                                        "earmark_region": "Syunik"})
    r = new_returnee(api, region="Syunik", full_name="Hidden Hovhannisyan " + uniq("h"))
    secret_purpose = "Purpose naming nobody " + uniq("pp")
    g = apply(api, f, amount="100.00", purpose=secret_purpose, returnee=r)
    g2 = apply(api, f, amount="50.00", returnee=r)
    pa.ok("grant.approve", gid(g))
    pr = create_principal(daemon, admin, ["partner"], partner_id=partner["partner_id"])
    papi = Client.api(daemon, pr["token"], record=True)
    forbidden = [
        ("grant.apply", grant_params(r, f)),
        ("grant.get", gid(g)),
        ("grant.get", gid(g2)),
        ("grant.list", {}),
        ("grant.list", {"fund": f["code"]}),
        ("grant.list", {"region": "Syunik"}),
        ("grant.withdraw", dict(gid(g2), reason="r")),
        ("grant.approve", gid(g2)),
        ("grant.reject", dict(gid(g2), reason="r")),
        ("returnee.register", {"full_name": "X " + uniq("x"), "region": "AM-SU",
                               "returned_from": "RU", "returned_on": "2025-01-01"}),
        ("returnee.get", {"returnee_id": r["returnee_id"]}),
        ("returnee.list", {}),
        ("returnee.list", {"region": "Syunik"}),
    ]
    for m, p in forbidden:
        papi.err(m, p, -32003)
    # What a partner may see.
    assert papi.ok("contribution.get", {"contribution_id": c["contribution_id"]}) == c
    papi.ok("contribution.list", {})
    papi.ok("contribution.list", {"fund": f["code"]})
    papi.ok("partner.get", {"partner_id": partner["partner_id"]})
    papi.ok("system.whoami")
    papi.ok("fund.list")
    papi.ok("region.list")
    secrets = [r["full_name"], r["national_id"], secret_purpose]
    for body in papi.bodies:
        found = leaks(body, secrets)
        assert not found, "a partner-visible answer holds %r: %r" % (found, body[:500])
    papi.close()
    # Journal entries name grants by id only (docs/ledger.md).
    for e in commitment_entries(api, f["code"]):
        assert not leaks(json.dumps(e).encode(), secrets[:2]), e
    # Nothing the partner attempted changed anything.
    assert get(api, g2) == g2
    assert api.ok("grant.get", gid(g))["status"] == "approved"


# --------------------------------------------------------------------------------------------
# concurrency


def test_concurrent_approvals_never_overcommit(env, daemon, api, pa, pb, pc):
    """14 grants of 100.00 on a fund with exactly 1000.00 available, all approved at once from
    14 connections by three approvers who created none of them: exactly 10 commit."""
    f = funded_fund(api, received="1000.00", dual="100000")
    r = new_returnee(api, region="AM-GR")
    gs = [apply(api, f, amount="100.00", returnee=r) for _ in range(14)]
    approvers = (pa, pb, pc)
    calls = [(approvers[i % 3].token, "grant.approve", dict(gid(g), comment="race %d" % i))
             for i, g in enumerate(gs)]
    docs = race(daemon, calls)
    ok = [d for d in docs if "result" in d]
    errs = [d for d in docs if "error" in d]
    assert len(ok) == 10 and len(errs) == 4, \
        "want 10 approved and 4 refused: %r" % [d.get("error") or d["result"]["status"]
                                                for d in docs]
    for d in ok:
        assert d["result"]["status"] == "approved" and d["result"]["committed"] == "100.00"
    for d in errs:
        assert_error(d, -32010, reason="insufficient_funds")
    assert bal(api, f) == expected_balance("pass_through", received=100000, committed=100000)
    b = api.ok("fund.balance", {"code": f["code"]})
    assert (b["committed"], b["available"]) == ("1000.00", "0.00"), b
    es = assert_commitment(api, f, [10000] * 10)
    sums = account_sums(es, "EUR")
    assert sums == {f["code"] + ":grants_committed": 100000,
                    f["code"] + ":commitments": -100000}, sums
    states = [get(api, g) for g in gs]
    assert sorted(s["status"] for s in states) == ["approved"] * 10 + ["submitted"] * 4
    ok_ids = {d["result"]["grant_id"] for d in ok}
    for s in states:
        if s["grant_id"] in ok_ids:
            assert s["status"] == "approved" and len(s["approvals"]) == 1
        else:
            assert s["status"] == "submitted" and s["approvals"] == [] and \
                s["committed"] == "0.00", s
            assert decisions(env, s) == [], s
    tb = api.ok("ledger.trial_balance", {"currency": "EUR"})
    assert tb["totals"]["debit"] == tb["totals"]["credit"], tb["totals"]


def test_concurrent_approvals_balance_agrees_with_journal(env, api, daemon, pa, pb):
    f = funded_fund(api, received="500.00", dual="100000")
    r = new_returnee(api)
    gs = [apply(api, f, amount="70.00", returnee=r) for _ in range(9)]   # 7 fit (490.00)
    docs = race(daemon, [((pa, pb)[i % 2].token, "grant.approve", gid(g))
                         for i, g in enumerate(gs)])
    assert sum(1 for d in docs if "result" in d) == 7, docs
    out = env.sql("SELECT fl.fund_balance_from_journal('%s')" % f["code"]).strip()
    from_journal = json.loads(out)
    shown = api.ok("fund.balance", {"code": f["code"]})
    for k in ("received", "committed", "available", "disbursed"):
        assert from_journal[k] == shown[k], (k, from_journal, shown)
    assert shown["available"] == "10.00"


def test_concurrent_two_approvers_on_one_dual_grant(daemon, api, pa, pb):
    for _ in range(3):
        f = funded_fund(api, received="1000.00", dual="0")
        g = apply(api, f, amount="300.00", returnee=new_returnee(api))
        docs = race(daemon, [(pa.token, "grant.approve", gid(g)),
                             (pb.token, "grant.approve", gid(g))])
        assert all("result" in d for d in docs), docs
        assert sorted(d["result"]["status"] for d in docs) == ["approved", "submitted"], docs
        final = get(api, g)
        assert final["status"] == "approved" and final["committed"] == "300.00"
        assert sorted(a["principal_id"] for a in final["approvals"]) == sorted([pa.pid, pb.pid])
        assert_commitment(api, f, [30000])
        assert bal(api, f)["committed"] == 30000


def test_concurrent_same_approver_twice(daemon, api, pa):
    f = funded_fund(api, received="1000.00", dual="0")
    g = apply(api, f, amount="30.00", returnee=new_returnee(api))
    docs = race(daemon, [(pa.token, "grant.approve", gid(g)),
                         (pa.token, "grant.approve", gid(g))])
    ok = [d for d in docs if "result" in d]
    assert len(ok) == 1, docs
    assert_error([d for d in docs if "error" in d][0], -32011, reason="already_approved")
    now = get(api, g)
    assert now["status"] == "submitted" and len(now["approvals"]) == 1
    assert commitment_entries(api, f["code"]) == []


def test_concurrent_approve_and_withdraw(daemon, admin, api, pa):
    for _ in range(3):
        f = funded_fund(api, received="1000.00")
        g = apply(api, f, amount="30.00", returnee=new_returnee(api))
        ap, wd = race(daemon, [(pa.token, "grant.approve", gid(g)),
                               (admin, "grant.withdraw", dict(gid(g), reason="race"))])
        assert ("result" in ap) != ("result" in wd), (ap, wd)
        final = get(api, g)
        if "result" in ap:
            assert final["status"] == "approved"
            assert_error(wd, -32009, reason="wrong_state")
            assert wd["error"]["data"].get("status") == "approved"
            assert_commitment(api, f, [3000])
        else:
            assert final["status"] == "withdrawn"
            assert_error(ap, -32009, reason="wrong_state")
            assert ap["error"]["data"].get("status") == "withdrawn"
            assert commitment_entries(api, f["code"]) == []
