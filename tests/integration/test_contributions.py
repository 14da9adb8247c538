"""contribution.pledge, .receive, .cancel, .get and .list (docs/protocol.md;
docs/ledger.md: events and their entries, foreign exchange, methods, idempotency)."""

import datetime
import random
import threading
from decimal import Decimal

import pytest

from fl.env import uniq
from fl.client import Background, Client, assert_error, create_principal, race
from fl.ledger import (CONTRIBUTION_KEYS, TIME_RE, account_sums, balance, check_entry, entries_for,
                       expected_balance, fund_entries, fx_minor, missing_like, money, new_fund,
                       new_partner, pages, parse_time, postings_of, rfc3339, utcnow)


@pytest.fixture
def fp(api):
    """A fresh EUR pass-through fund and a fresh partner."""
    return new_fund(api, currency="EUR"), new_partner(api)


def now():
    return utcnow()


def cparams(fund, partner, amount="100.00", currency="EUR", **kw):
    p = {"partner_id": partner["partner_id"], "fund": fund["code"], "amount": amount,
         "currency": currency}
    p.update(kw)
    return {k: v for k, v in p.items() if v is not None}


def check_shape(c):
    assert set(c) >= CONTRIBUTION_KEYS, sorted(CONTRIBUTION_KEYS - set(c))
    assert c["status"] in ("pledged", "received", "cancelled"), c
    assert TIME_RE.match(c["created_at"]), c
    for k in ("pledged_at", "received_at", "cancelled_at"):
        assert c[k] is None or TIME_RE.match(c[k]), (k, c)
    assert (c["status"] == "received") == (c["received_at"] is not None), c
    assert (c["status"] == "cancelled") == (c["cancelled_at"] is not None), c


# --------------------------------------------------------------------------------------------
# Life cycle


def test_pledge_then_receive(api, fp):
    f, p = fp
    code = f["code"]
    t0 = now() - datetime.timedelta(seconds=5)
    c = api.ok("contribution.pledge", cparams(f, p, amount="1000"))
    check_shape(c)
    assert c["status"] == "pledged"
    assert (c["partner_id"], c["fund"], c["amount"], c["currency"]) == \
        (p["partner_id"], code, "1000.00", "EUR")
    assert (c["fx_rate"], c["fund_amount"], c["fund_currency"]) == (None, "1000.00", "EUR")
    assert c["earmark_region"] is None and c["earmark_region_code"] is None
    assert c["received_at"] is None and c["bank_ref"] is None
    assert c["cancelled_at"] is None and c["cancel_reason"] is None
    assert c["pledged_at"] is not None and parse_time(c["pledged_at"]) >= t0
    assert api.ok("contribution.get", {"contribution_id": c["contribution_id"]}) == c
    assert balance(api, code, "EUR") == expected_balance("pass_through", pledged=100000)

    pe = entries_for(api, code + ":pledges_receivable")
    assert len(pe) == 1
    check_entry(pe[0])
    assert pe[0]["kind"] == "pledge"
    assert postings_of(pe[0]) == {code + ":pledges_receivable": 100000,
                                  code + ":pledged_contributions": -100000}
    assert entries_for(api, code + ":cash") == []

    r = api.ok("contribution.receive", {"contribution_id": c["contribution_id"],
                                        "bank_ref": "SWIFT-" + uniq("r")})
    check_shape(r)
    assert r["contribution_id"] == c["contribution_id"]
    assert r["status"] == "received"
    assert r["pledged_at"] == c["pledged_at"] and r["created_at"] == c["created_at"]
    assert r["bank_ref"].startswith("SWIFT-")
    assert parse_time(r["received_at"]) >= parse_time(c["pledged_at"])
    for k in ("partner_id", "fund", "amount", "currency", "fx_rate", "fund_amount",
              "fund_currency"):
        assert r[k] == c[k], k
    assert api.ok("contribution.get", {"contribution_id": c["contribution_id"]}) == r
    assert balance(api, code, "EUR") == expected_balance("pass_through", received=100000)

    cash = entries_for(api, code + ":cash")
    assert len(cash) == 1
    check_entry(cash[0])
    assert cash[0]["kind"] == "receipt"
    assert postings_of(cash[0]) == {code + ":pledged_contributions": 100000,
                                    code + ":pledges_receivable": -100000,
                                    code + ":cash": 100000, code + ":contributions": -100000}
    assert [e["entry_id"] for e in entries_for(api, code + ":pledges_receivable")] == \
        [pe[0]["entry_id"], cash[0]["entry_id"]]


def test_receive_direct(api, fp):
    f, p = fp
    code = f["code"]
    c = api.ok("contribution.receive", cparams(f, p, amount="250.5", bank_ref="B-1"))
    check_shape(c)
    assert c["status"] == "received"
    assert c["amount"] == "250.50" and c["fund_amount"] == "250.50"
    assert c["pledged_at"] is None
    assert c["received_at"] is not None and c["bank_ref"] == "B-1"
    assert balance(api, code, "EUR") == expected_balance("pass_through", received=25050)
    cash = entries_for(api, code + ":cash")
    assert len(cash) == 1 and cash[0]["kind"] == "receipt"
    check_entry(cash[0])
    assert postings_of(cash[0]) == {code + ":cash": 25050, code + ":contributions": -25050}
    assert entries_for(api, code + ":pledges_receivable") == []


def test_receive_direct_into_endowment(api):
    f = new_fund(api, currency="EUR", kind="endowment")
    p = new_partner(api)
    api.ok("contribution.receive", cparams(f, p, amount="10000"))
    assert balance(api, f["code"], "EUR") == expected_balance("endowment", received=1000000)


def test_received_at_in_the_past(api, fp):
    f, p = fp
    c = api.ok("contribution.receive", cparams(f, p, received_at="2026-01-15T09:30:00Z"))
    assert parse_time(c["received_at"]) == datetime.datetime(2026, 1, 15, 9, 30,
                                                             tzinfo=datetime.timezone.utc)
    pl = api.ok("contribution.pledge", cparams(f, p))
    r = api.ok("contribution.receive", {"contribution_id": pl["contribution_id"],
                                        "received_at": rfc3339(now())})
    assert abs((parse_time(r["received_at"]) - now()).total_seconds()) < 60


@pytest.mark.parametrize("ahead", [datetime.timedelta(hours=1), datetime.timedelta(minutes=10),
                                   datetime.timedelta(days=400)])
def test_received_at_in_the_future(api, fp, ahead):
    f, p = fp
    when = rfc3339(now() + ahead)
    api.err("contribution.receive", cparams(f, p, received_at=when), -32602,
            field="received_at", reason="in_the_future")
    pl = api.ok("contribution.pledge", cparams(f, p))
    api.err("contribution.receive", {"contribution_id": pl["contribution_id"],
                                     "received_at": when}, -32602, field="received_at",
            reason="in_the_future")
    assert api.ok("contribution.get", {"contribution_id": pl["contribution_id"]})["status"] == \
        "pledged"
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through", pledged=10000)


def test_received_at_slightly_ahead_is_allowed(api, fp):
    f, p = fp
    c = api.ok("contribution.receive", cparams(f, p, received_at=rfc3339(
        now() + datetime.timedelta(minutes=2))))
    assert c["status"] == "received"


@pytest.mark.parametrize("when", ["2026-01-15T09:30:00+02:00", "yesterday",
                                  "2026-13-01T00:00:00Z", 1700000000])
def test_received_at_bad(api, fp, when):
    f, p = fp
    api.err("contribution.receive", cparams(f, p, received_at=when), -32602,
            field="received_at")


def test_cancel_pledge(api, fp):
    f, p = fp
    code = f["code"]
    c = api.ok("contribution.pledge", cparams(f, p, amount="75"))
    x = api.ok("contribution.cancel", {"contribution_id": c["contribution_id"],
                                       "reason": "partner withdrew the pledge"})
    check_shape(x)
    assert x["status"] == "cancelled"
    assert x["cancel_reason"] == "partner withdrew the pledge"
    assert parse_time(x["cancelled_at"]) >= parse_time(c["pledged_at"])
    assert x["received_at"] is None and x["pledged_at"] == c["pledged_at"]
    assert api.ok("contribution.get", {"contribution_id": c["contribution_id"]}) == x
    assert balance(api, code, "EUR") == expected_balance("pass_through")
    es = entries_for(api, code + ":pledges_receivable")
    assert [e["kind"] for e in es] == ["pledge", "pledge_cancel"]
    check_entry(es[1])
    assert postings_of(es[1]) == {code + ":pledged_contributions": 7500,
                                  code + ":pledges_receivable": -7500}
    assert entries_for(api, code + ":cash") == []


def test_cancel_needs_reason(api, fp):
    f, p = fp
    c = api.ok("contribution.pledge", cparams(f, p))
    api.err("contribution.cancel", {"contribution_id": c["contribution_id"]}, -32602,
            field="reason")
    api.err("contribution.cancel", {"contribution_id": c["contribution_id"], "reason": ""},
            -32602, field="reason")
    assert api.ok("contribution.get", {"contribution_id": c["contribution_id"]})["status"] == \
        "pledged"


def test_wrong_state_transitions(api, fp):
    f, p = fp
    code = f["code"]
    received = api.ok("contribution.pledge", cparams(f, p, amount="10"))
    api.ok("contribution.receive", {"contribution_id": received["contribution_id"]})
    cancelled = api.ok("contribution.pledge", cparams(f, p, amount="20"))
    api.ok("contribution.cancel", {"contribution_id": cancelled["contribution_id"],
                                   "reason": "r"})
    direct = api.ok("contribution.receive", cparams(f, p, amount="40"))
    want = expected_balance("pass_through", received=5000)
    assert balance(api, code, "EUR") == want
    n_entries = len(entries_for(api, code + ":pledges_receivable")) + \
        len(entries_for(api, code + ":cash"))

    for c, status in ((received, "received"), (cancelled, "cancelled"), (direct, "received")):
        cid = c["contribution_id"]
        e = api.err("contribution.receive", {"contribution_id": cid}, -32009,
                    reason="wrong_state")
        assert e["data"].get("status") == status, e
        e = api.err("contribution.cancel", {"contribution_id": cid, "reason": "again"},
                    -32009, reason="wrong_state")
        assert e["data"].get("status") == status, e
        assert api.ok("contribution.get", {"contribution_id": cid})["status"] == status

    assert balance(api, code, "EUR") == want
    assert len(entries_for(api, code + ":pledges_receivable")) + \
        len(entries_for(api, code + ":cash")) == n_entries


@pytest.mark.parametrize("extra,field", [
    ({"fund": "X"}, "fund"), ({"currency": "EUR"}, "currency"),
    ({"partner_id": "pa_x"}, "partner_id"), ({"fx_rate": "1"}, "fx_rate"),
    ({"earmark_region": "Shirak"}, "earmark_region"),
])
def test_receive_pledge_takes_no_other_params(api, fp, extra, field):
    f, p = fp
    c = api.ok("contribution.pledge", cparams(f, p))
    api.err("contribution.receive", dict({"contribution_id": c["contribution_id"]}, **extra),
            -32602, field=field)
    assert api.ok("contribution.get", {"contribution_id": c["contribution_id"]})["status"] == \
        "pledged"


def test_unknown_contribution(api, fp):
    f, p = fp
    c = api.ok("contribution.pledge", cparams(f, p))
    ghost = missing_like(c["contribution_id"])
    for method, extra in (("contribution.get", {}), ("contribution.receive", {}),
                          ("contribution.cancel", {"reason": "r"})):
        api.err(method, dict({"contribution_id": ghost}, **extra), -32004)
        api.err(method, dict({"contribution_id": "no-such-thing"}, **extra), -32004)


# --------------------------------------------------------------------------------------------
# Foreign exchange


@pytest.mark.parametrize("method", ["contribution.pledge", "contribution.receive"])
def test_other_currency_requires_fx_rate(api, fp, method):
    f, p = fp
    api.err(method, cparams(f, p, currency="USD"), -32602, field="fx_rate")
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through")


@pytest.mark.parametrize("method", ["contribution.pledge", "contribution.receive"])
@pytest.mark.parametrize("rate", ["1", "0.9265", "1.0"])
def test_same_currency_refuses_fx_rate(api, fp, method, rate):
    f, p = fp
    api.err(method, cparams(f, p, fx_rate=rate), -32602, field="fx_rate")
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through")


@pytest.mark.parametrize("rate", ["0", "0.000", "-1", "-0.5", "abc", "", "1e2", 0.9265, 1])
def test_bad_fx_rate(api, fp, rate):
    f, p = fp
    api.err("contribution.receive", cparams(f, p, currency="USD", fx_rate=rate), -32602,
            field="fx_rate")


def test_worked_example_usd(api, fp):
    f, p = fp
    c = api.ok("contribution.receive", cparams(f, p, amount="500.00", currency="USD",
                                               fx_rate="0.9265"))
    assert (c["amount"], c["currency"], c["fund_amount"], c["fund_currency"]) == \
        ("500.00", "USD", "463.25", "EUR")
    assert Decimal(c["fx_rate"]) == Decimal("0.9265")
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through", received=46325)
    e = entries_for(api, f["code"] + ":cash")
    assert len(e) == 1
    assert postings_of(e[0]) == {f["code"] + ":cash": 46325,
                                 f["code"] + ":contributions": -46325}
    assert {x["currency"] for x in e[0]["postings"]} == {"EUR"}


# (fund currency, contribution amount, its currency, fx_rate, expected fund_amount)
ROUNDING = [
    ("EUR", "1001", "JPY", "0.0061735", "6.18"),     # docs: 6.1796735 -> 6.18
    ("EUR", "0.125", "KWD", "1", "0.12"),            # half to even: down
    ("EUR", "0.135", "KWD", "1", "0.14"),            # half to even: up
    ("EUR", "0.145", "KWD", "1", "0.14"),
    ("EUR", "0.155", "KWD", "1", "0.16"),
    ("EUR", "0.126", "KWD", "1", "0.13"),
    ("EUR", "0.1251", "CLF", "1", "0.13"),           # just above the half
    ("EUR", "0.1249", "CLF", "1", "0.12"),           # just below
    ("EUR", "10.01", "USD", "0.5", "5.00"),          # 5.005 -> 5.00
    ("EUR", "10.03", "USD", "0.5", "5.02"),          # 5.015 -> 5.02
    ("EUR", "500.00", "USD", "0.9265", "463.25"),
    ("JPY", "1.50", "USD", "1", "2"),                # 1.5 -> 2
    ("JPY", "2.50", "USD", "1", "2"),                # 2.5 -> 2
    ("JPY", "3.50", "USD", "1", "4"),
    ("JPY", "100", "EUR", "162.125", "16212"),        # 16212.5 -> 16212
    ("KWD", "0.01", "USD", "0.3065", "0.003"),       # 0.003065
    ("KWD", "1234.56", "EUR", "0.33125", "408.948"),  # 408.948 exactly: 1234.56*0.33125
    ("KWD", "7", "JPY", "0.0005", "0.004"),           # 0.0035 -> 0.004
    ("KWD", "9", "JPY", "0.0005", "0.004"),           # 0.0045 -> 0.004
    ("EUR", "999999999", "JPY", "0.006173456789", "6173456.78"),
]


@pytest.mark.parametrize("fund_cur,amount,cur,rate,want", ROUNDING)
@pytest.mark.parametrize("method", ["contribution.pledge", "contribution.receive"])
def test_fx_half_even(api, method, fund_cur, amount, cur, rate, want):
    assert want == money(fx_minor(amount, rate, fund_cur), fund_cur), "bad test vector"
    f = new_fund(api, currency=fund_cur)
    p = new_partner(api)
    c = api.ok(method, cparams(f, p, amount=amount, currency=cur, fx_rate=rate))
    assert c["fund_amount"] == want, (amount, cur, rate, c)
    assert c["fund_currency"] == fund_cur and c["currency"] == cur
    assert Decimal(c["fx_rate"]) == Decimal(rate), c
    assert Decimal(c["amount"]) == Decimal(amount), c
    units = fx_minor(amount, rate, fund_cur)
    b = balance(api, f["code"], fund_cur)
    if method == "contribution.pledge":
        assert b == expected_balance("pass_through", pledged=units)
        r = api.ok("contribution.receive", {"contribution_id": c["contribution_id"]})
        assert r["fund_amount"] == want
        b = balance(api, f["code"], fund_cur)
    assert b == expected_balance("pass_through", received=units)


def test_fx_rate_kept_as_given(api, fp):
    f, p = fp
    c = api.ok("contribution.pledge", cparams(f, p, amount="1001", currency="JPY",
                                              fx_rate="0.0061735"))
    assert c["fx_rate"] == "0.0061735", c
    assert c["amount"] == "1001"
    assert api.ok("contribution.get", {"contribution_id": c["contribution_id"]}) == c


# --------------------------------------------------------------------------------------------
# Earmarks


@pytest.mark.parametrize("given,region,code", [
    ("Shirak", "Shirak", "AM-SH"), ("AM-SH", "Shirak", "AM-SH"),
    ("Syunik", "Syunik", "AM-SU"), ("AM-SU", "Syunik", "AM-SU"),
    ("Vayots Dzor", "Vayots Dzor", "AM-VD"), ("AM-ER", "Yerevan", "AM-ER"),
])
@pytest.mark.parametrize("method", ["contribution.pledge", "contribution.receive"])
def test_earmark(api, fp, method, given, region, code):
    f, p = fp
    c = api.ok(method, cparams(f, p, earmark_region=given))
    assert (c["earmark_region"], c["earmark_region_code"]) == (region, code), c
    got = api.ok("contribution.get", {"contribution_id": c["contribution_id"]})
    assert (got["earmark_region"], got["earmark_region_code"]) == (region, code)
    if method == "contribution.pledge":
        r = api.ok("contribution.receive", {"contribution_id": c["contribution_id"]})
        assert (r["earmark_region"], r["earmark_region_code"]) == (region, code)


@pytest.mark.parametrize("given", ["Atlantis", "AM-XX", "GE-TB", "Shirak Province"])
@pytest.mark.parametrize("method", ["contribution.pledge", "contribution.receive"])
def test_earmark_unknown_region(api, fp, method, given):
    f, p = fp
    api.err(method, cparams(f, p, earmark_region=given), -32602, field="earmark_region",
            reason="unknown_region")
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through")


@pytest.mark.parametrize("given", ["", 7, ["Shirak"]])
def test_earmark_bad_type(api, fp, given):
    f, p = fp
    api.err("contribution.pledge", cparams(f, p, earmark_region=given), -32602,
            field="earmark_region")


# --------------------------------------------------------------------------------------------
# Amounts, unknown fund and partner, missing params


BAD_AMOUNTS = [
    (100, "EUR", None), (100.5, "EUR", None), ("0", "EUR", None), ("0.00", "EUR", None),
    ("-5", "EUR", None), ("-0.01", "EUR", None), ("1.001", "EUR", "too_many_decimals"),
    ("1.5", "JPY", "too_many_decimals"), ("1.0001", "KWD", "too_many_decimals"),
    ("0.00001", "CLF", "too_many_decimals"), ("abc", "EUR", None), ("", "EUR", None),
    ("1e3", "EUR", None), ("+5", "EUR", None), (" 5", "EUR", None), ("5.", "EUR", None),
    (".5", "EUR", None), ("1,5", "EUR", None), (None, "EUR", None),
]


@pytest.mark.parametrize("amount,cur,reason", BAD_AMOUNTS)
@pytest.mark.parametrize("method", ["contribution.pledge", "contribution.receive"])
def test_bad_amount(api, fp, method, amount, cur, reason):
    f, p = fp
    params = cparams(f, p, amount=amount, currency=cur,
                     fx_rate=None if cur == "EUR" else "1.5")
    api.err(method, params, -32602, field="amount", reason=reason)
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through")


@pytest.mark.parametrize("cur", ["XXX", "eur", "EURO", "", 978])
def test_bad_currency(api, fp, cur):
    f, p = fp
    api.err("contribution.pledge", cparams(f, p, currency=cur, fx_rate="1"), -32602,
            field="currency")


@pytest.mark.parametrize("method", ["contribution.pledge", "contribution.receive"])
def test_unknown_fund_and_partner(api, fp, method):
    f, p = fp
    api.err(method, dict(cparams(f, p), fund="NO-SUCH-" + uniq("f").upper()), -32004,
            field="fund", reason="fund_not_found")
    api.err(method, dict(cparams(f, p), partner_id=missing_like(p["partner_id"])), -32004,
            field="partner_id", reason="partner_not_found")
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through")


@pytest.mark.parametrize("missing", ["partner_id", "fund", "amount", "currency"])
@pytest.mark.parametrize("method", ["contribution.pledge", "contribution.receive"])
def test_missing_params(api, fp, method, missing):
    f, p = fp
    params = cparams(f, p)
    del params[missing]
    api.err(method, params, -32602, field=missing)


@pytest.mark.parametrize("bank_ref", ["", "x" * 201, 12])
def test_bad_bank_ref(api, fp, bank_ref):
    f, p = fp
    api.err("contribution.receive", cparams(f, p, bank_ref=bank_ref), -32602, field="bank_ref")


def test_pledge_takes_no_received_at(api, fp):
    f, p = fp
    api.err("contribution.pledge", cparams(f, p, received_at="2026-01-01T00:00:00Z"), -32602,
            field="received_at")


def test_roles(daemon, api, fp, auditor, approver):
    f, p = fp
    c = api.ok("contribution.pledge", cparams(f, p))
    aud = Client.api(daemon, auditor["token"])
    assert aud.ok("contribution.get", {"contribution_id": c["contribution_id"]}) == c
    assert aud.ok("contribution.list", {"fund": f["code"]})["contributions"] == [c]
    for m, prm in (("contribution.pledge", cparams(f, p)),
                   ("contribution.receive", cparams(f, p)),
                   ("contribution.receive", {"contribution_id": c["contribution_id"]}),
                   ("contribution.cancel", {"contribution_id": c["contribution_id"],
                                            "reason": "r"})):
        aud.err(m, prm, -32003)
        Client.api(daemon, approver["token"]).err(m, prm, -32003)
    Client.api(daemon, approver["token"]).err("contribution.get",
                                              {"contribution_id": c["contribution_id"]}, -32003)
    Client.api(daemon, approver["token"]).err("contribution.list", {"fund": f["code"]}, -32003)
    assert api.ok("contribution.get", {"contribution_id": c["contribution_id"]}) == c
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through", pledged=10000)


# --------------------------------------------------------------------------------------------
# get / list


@pytest.fixture
def book(api):
    """Two funds, two partners, six contributions in a known order and state."""
    f1, f2 = new_fund(api, currency="EUR"), new_fund(api, currency="EUR")
    p1, p2 = new_partner(api), new_partner(api)
    out = []

    def add(method, f, p, amount, then=None):
        c = api.ok(method, cparams(f, p, amount=amount))
        if then == "receive":
            c = api.ok("contribution.receive", {"contribution_id": c["contribution_id"]})
        elif then == "cancel":
            c = api.ok("contribution.cancel", {"contribution_id": c["contribution_id"],
                                               "reason": "changed mind"})
        out.append(c)

    add("contribution.pledge", f1, p1, "1")                 # 0 pledged
    add("contribution.pledge", f1, p1, "2", "receive")      # 1 received
    add("contribution.pledge", f2, p1, "3", "cancel")       # 2 cancelled
    add("contribution.receive", f1, p2, "4")                # 3 received
    add("contribution.pledge", f2, p2, "5")                 # 4 pledged
    add("contribution.receive", f1, p1, "6")                # 5 received
    return {"f1": f1, "f2": f2, "p1": p1, "p2": p2, "c": out}


def ids(cs):
    return [c["contribution_id"] for c in cs]


def test_get_equals_latest_state(api, book):
    for c in book["c"]:
        assert api.ok("contribution.get", {"contribution_id": c["contribution_id"]}) == c


def test_list_filters(api, book):
    c, f1, f2 = book["c"], book["f1"]["code"], book["f2"]["code"]
    p1, p2 = book["p1"]["partner_id"], book["p2"]["partner_id"]
    cases = [
        ({"partner_id": p1}, [0, 1, 2, 5]),
        ({"partner_id": p2}, [3, 4]),
        ({"fund": f1}, [0, 1, 3, 5]),
        ({"fund": f2}, [2, 4]),
        ({"fund": f1, "status": "received"}, [1, 3, 5]),
        ({"fund": f1, "status": "pledged"}, [0]),
        ({"fund": f1, "status": "cancelled"}, []),
        ({"partner_id": p1, "status": "cancelled"}, [2]),
        ({"partner_id": p2, "fund": f2}, [4]),
        ({"partner_id": p1, "fund": f1, "status": "received"}, [1, 5]),
    ]
    for params, want in cases:
        res = api.ok("contribution.list", params)
        assert set(res) >= {"contributions", "next_cursor"}
        assert res["next_cursor"] is None, params
        assert res["contributions"] == [c[i] for i in want], (params, ids(res["contributions"]),
                                                            ids(c[i] for i in want))


def test_list_pagination(api, book):
    c, f1 = book["c"], book["f1"]["code"]
    # fund f1 holds four: two full pages, next_cursor null on the second.
    items, sizes = pages(api, "contribution.list", {"fund": f1}, "contributions", 2)
    assert sizes == [2, 2], sizes
    assert items == [c[0], c[1], c[3], c[5]]
    items, sizes = pages(api, "contribution.list", {"fund": f1}, "contributions", 3)
    assert sizes == [3, 1] and ids(items) == ids([c[0], c[1], c[3], c[5]])
    items, sizes = pages(api, "contribution.list", {"partner_id": book["p1"]["partner_id"]},
                         "contributions", 1)
    assert sizes == [1, 1, 1, 1] and ids(items) == ids([c[0], c[1], c[2], c[5]])
    # The same walk twice gives the same pages (stable order).
    again, _ = pages(api, "contribution.list", {"partner_id": book["p1"]["partner_id"]},
                     "contributions", 1)
    assert again == items


def test_list_unfiltered_includes_mine(api, book):
    # The unfiltered list holds every contribution: mine in creation order, no duplicates.
    items, _ = pages(api, "contribution.list", {}, "contributions", 1000)
    all_ids = ids(items)
    assert len(all_ids) == len(set(all_ids)), "duplicates in contribution.list"
    mine = set(ids(book["c"]))
    assert [i for i in all_ids if i in mine] == ids(book["c"])
    # (created_at is the creating transaction's start: concurrent writers may commit out of
    # that order, so the list's order is checked on ids created one after another)


@pytest.mark.parametrize("params,field", [
    ({"status": "paid"}, "status"), ({"status": ""}, "status"), ({"status": 1}, "status"),
    ({"cursor": "garbage"}, "cursor"), ({"cursor": "c-1"}, "cursor"), ({"cursor": ""}, "cursor"),
    ({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": "5"}, "limit"),
    ({"fund": "lower case"}, "fund"), ({"partner_id": 5}, "partner_id"),
    ({"colour": "red"}, "colour"),
])
def test_list_bad_params(api, params, field):
    api.err("contribution.list", params, -32602, field=field)


def test_list_unknown_fund_or_partner(api, book):
    api.err("contribution.list", {"fund": "NO-SUCH-" + uniq("f").upper()}, -32004,
            reason="fund_not_found")
    api.err("contribution.list", {"partner_id": missing_like(book["p1"]["partner_id"])},
            -32004, reason="partner_not_found")


# --------------------------------------------------------------------------------------------
# Idempotency


def entry_ids(api, account):
    return [e["entry_id"] for e in entries_for(api, account)]


def test_idempotent_pledge(api, fp):
    f, p = fp
    params = cparams(f, p, amount="33.30", idempotency_key=uniq("pl"))
    a = api.ok("contribution.pledge", params)
    b = api.ok("contribution.pledge", dict(params))
    assert a == b
    assert len(entry_ids(api, f["code"] + ":pledges_receivable")) == 1
    assert ids(api.ok("contribution.list", {"fund": f["code"]})["contributions"]) == ids([a])
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through", pledged=3330)
    api.err("contribution.pledge", dict(params, amount="33.31"), -32009,
            reason="idempotency_mismatch")
    # The same key on another method is a mismatch too.
    api.err("contribution.receive", dict(params), -32009, reason="idempotency_mismatch")
    assert ids(api.ok("contribution.list", {"fund": f["code"]})["contributions"]) == ids([a])
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through", pledged=3330)


def test_idempotent_receive_direct(api, fp):
    f, p = fp
    params = cparams(f, p, amount="12.00", bank_ref="R1", idempotency_key=uniq("rc"))
    a = api.ok("contribution.receive", params)
    b = api.ok("contribution.receive", dict(params))
    assert a == b
    assert len(entry_ids(api, f["code"] + ":cash")) == 1
    assert ids(api.ok("contribution.list", {"fund": f["code"]})["contributions"]) == ids([a])
    api.err("contribution.receive", dict(params, bank_ref="R2"), -32009,
            reason="idempotency_mismatch")
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through", received=1200)
    # Without a key, the same params are a second contribution.
    api.ok("contribution.receive", {k: v for k, v in params.items() if k != "idempotency_key"})
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through", received=2400)


def test_idempotent_receive_of_pledge(api, fp):
    f, p = fp
    c = api.ok("contribution.pledge", cparams(f, p, amount="50"))
    params = {"contribution_id": c["contribution_id"], "bank_ref": "X",
              "idempotency_key": uniq("rp")}
    a = api.ok("contribution.receive", params)
    b = api.ok("contribution.receive", dict(params))   # replay, not wrong_state
    assert a == b and a["status"] == "received"
    assert len(entry_ids(api, f["code"] + ":cash")) == 1
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through", received=5000)
    api.err("contribution.receive", dict(params, bank_ref="Y"), -32009,
            reason="idempotency_mismatch")


def test_idempotent_cancel(api, fp):
    f, p = fp
    c = api.ok("contribution.pledge", cparams(f, p, amount="50"))
    params = {"contribution_id": c["contribution_id"], "reason": "r1",
              "idempotency_key": uniq("cx")}
    a = api.ok("contribution.cancel", params)
    b = api.ok("contribution.cancel", dict(params))
    assert a == b and a["status"] == "cancelled"
    assert [e["kind"] for e in entries_for(api, f["code"] + ":pledges_receivable")] == \
        ["pledge", "pledge_cancel"]
    api.err("contribution.cancel", dict(params, reason="r2"), -32009,
            reason="idempotency_mismatch")
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through")


def test_idempotency_key_is_per_principal(daemon, admin, api, fp):
    f, p = fp
    other_admin = create_principal(daemon, admin, ["admin"])
    key = uniq("shared")
    a = api.ok("contribution.receive", cparams(f, p, amount="1", idempotency_key=key))
    b = Client.api(daemon, other_admin["token"]).ok("contribution.receive",
                                                    cparams(f, p, amount="1", idempotency_key=key))
    assert a["contribution_id"] != b["contribution_id"]
    assert balance(api, f["code"], "EUR")["received"] == 200


def test_concurrent_identical_receive(daemon, admin, api, fp):
    f, p = fp
    params = cparams(f, p, amount="777.77", bank_ref="RACE", idempotency_key=uniq("race"))
    docs = race(daemon, [(admin, "contribution.receive", dict(params)) for _ in range(10)])
    for d in docs:
        assert "result" in d, "a concurrent identical retry failed: %r" % (d,)
    assert len({d["result"]["contribution_id"] for d in docs}) == 1, \
        [d["result"]["contribution_id"] for d in docs]
    assert all(d["result"] == docs[0]["result"] for d in docs)
    listed = api.ok("contribution.list", {"fund": f["code"]})["contributions"]
    assert ids(listed) == [docs[0]["result"]["contribution_id"]]
    assert len(entry_ids(api, f["code"] + ":cash")) == 1
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through", received=77777)


def test_concurrent_receive_of_one_pledge(daemon, admin, api, fp):
    f, p = fp
    c = api.ok("contribution.pledge", cparams(f, p, amount="60"))
    n = 10
    plist = [{"contribution_id": c["contribution_id"], "bank_ref": "T%d" % i,
              "idempotency_key": uniq("k")} for i in range(n)]
    docs = race(daemon, [(admin, "contribution.receive", q) for q in plist])
    ok = [d for d in docs if "result" in d]
    assert len(ok) == 1, "exactly one receipt of a pledge may win: %r" % docs
    for d in docs:
        if "error" in d:
            e = assert_error(d, -32009, reason="wrong_state")
            assert e["data"].get("status") == "received"
    assert len(entry_ids(api, f["code"] + ":cash")) == 1
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through", received=6000)


def test_concurrent_receive_and_cancel(daemon, admin, api, fp):
    f, p = fp
    c = api.ok("contribution.pledge", cparams(f, p, amount="60"))
    da, db = race(daemon, [
        (admin, "contribution.receive", {"contribution_id": c["contribution_id"]}),
        (admin, "contribution.cancel", {"contribution_id": c["contribution_id"],
                                        "reason": "race"})])
    assert ("result" in da) != ("result" in db), (da, db)
    final = api.ok("contribution.get", {"contribution_id": c["contribution_id"]})
    if "result" in da:
        assert final["status"] == "received"
        assert balance(api, f["code"], "EUR") == expected_balance("pass_through",
                                                                  received=6000)
    else:
        assert final["status"] == "cancelled"
        assert balance(api, f["code"], "EUR") == expected_balance("pass_through")
    loser = db if "result" in da else da
    e = assert_error(loser, -32009, reason="wrong_state")
    assert e["data"].get("status") == final["status"]


def test_concurrent_mixed_writers_keep_books_consistent(env, daemon, admin, api):
    """8 connections writing to one fund at once: the maintained balance, the journal and
    the fund row agree with the sum of what each writer did."""
    f = new_fund(api, currency="EUR")
    code = f["code"]
    partners = [new_partner(api) for _ in range(3)]
    n, per = 8, 25
    barrier = threading.Barrier(n)

    def writer(seed):
        def run():
            rng = random.Random(seed)
            tot = {"received": 0, "earnings": 0, "pledged": 0}
            mine = []
            with Client(daemon, admin, timeout=60) as s:
                s.connect()
                barrier.wait(20)
                for _ in range(per):
                    x = rng.random()
                    units = rng.randint(1, 100000)
                    base = {"partner_id": rng.choice(partners)["partner_id"], "fund": code,
                            "amount": money(units, "EUR"), "currency": "EUR"}
                    if x < 0.3:
                        c = s.call("contribution.pledge", base)
                        mine.append((c["contribution_id"], units))
                        tot["pledged"] += units
                    elif x < 0.5 and mine:
                        cid, u = mine.pop(rng.randrange(len(mine)))
                        s.call("contribution.receive", {"contribution_id": cid})
                        tot["pledged"] -= u
                        tot["received"] += u
                    elif x < 0.6 and mine:
                        cid, u = mine.pop(rng.randrange(len(mine)))
                        s.call("contribution.cancel", {"contribution_id": cid, "reason": "x"})
                        tot["pledged"] -= u
                    elif x < 0.85:
                        s.call("contribution.receive", base)
                        tot["received"] += units
                    else:
                        s.call("fund.record_earnings", {"code": code,
                                                        "amount": money(units, "EUR"),
                                                        "period": "c"})
                        tot["earnings"] += units
            return tot
        return run

    jobs = [Background(writer(1000 + i)) for i in range(n)]
    for j in jobs:
        j.start()
    totals = [j.get(120) for j in jobs]
    want = {k: sum(t[k] for t in totals) for k in ("received", "earnings", "pledged")}
    assert balance(api, code, "EUR") == expected_balance("pass_through", **want)
    es = fund_entries(api, code)
    for e in es:
        check_entry(e)
    s = account_sums(es, "EUR")
    assert (-s.get(code + ":contributions", 0), -s.get(code + ":earnings", 0),
            s.get(code + ":pledges_receivable", 0)) == \
        (want["received"], want["earnings"], want["pledged"])
    # the fund's current figures (row + deltas not yet folded), then the row after a fold
    cur = env.sql("SELECT (c).received, (c).earnings, (c).pledged FROM "
                  "(SELECT fl.fund_current(f) AS c FROM fl.fund f WHERE code = '%s') x"
                  % code).strip()
    assert cur == "%d|%d|%d" % (want["received"], want["earnings"], want["pledged"]), cur
    env.sql("SELECT fl.fund_fold('%s')" % code)
    row = env.sql("SELECT received, earnings, pledged FROM fl.fund WHERE code = '%s'"
                  % code).strip()
    assert row == "%d|%d|%d" % (want["received"], want["earnings"], want["pledged"]), row
    assert env.sql("SELECT count(*) FROM fl.fund_delta WHERE fund_code = '%s'"
                   % code).strip() == "0"


@pytest.mark.parametrize("amount,cur,rate", [
    ("99999999999999999999", "EUR", None),               # beyond any bigint of cents
    ("999999999999999999", "JPY", "1000000"),             # the fund amount overflows
    ("100000000000", "USD", "999999999999"),
])
@pytest.mark.parametrize("method", ["contribution.pledge", "contribution.receive"])
def test_huge_amounts_are_invalid_params(api, fp, method, amount, cur, rate):
    f, p = fp
    doc = api.reply(method, cparams(f, p, amount=amount, currency=cur, fx_rate=rate))
    err = assert_error(doc, -32602)
    assert err["data"].get("field") in ("amount", "fx_rate"), err
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through")


def test_idempotent_replay_with_params_in_another_order(api, fp):
    """JSON objects are unordered: the same params in another member order are the same
    params."""
    f, p = fp
    params = cparams(f, p, amount="5.55", bank_ref="ORD", idempotency_key=uniq("ord"))
    a = api.ok("contribution.receive", params)
    reordered = dict(reversed(list(params.items())))
    assert list(reordered) != list(params)
    b = api.ok("contribution.receive", reordered)
    assert a == b
    assert len(entry_ids(api, f["code"] + ":cash")) == 1
