"""fund.create, fund.list, fund.balance and fund.record_earnings (docs/protocol.md;
docs/ledger.md: money, chart of accounts, balances)."""

import pytest

from fl.env import uniq
from fl.client import Client, api_of
from fl.ledger import (BALANCE_KEYS, FUND_KEYS, TIME_RE, balance, check_entry, entries_for,
                       expected_balance, fund_code, money, new_fund, new_partner, postings_of)


def create_params(**kw):
    p = {"code": fund_code(), "name": "Fund " + uniq("n"), "currency": "EUR",
         "kind": "pass_through", "dual_approval_above": "1000"}
    p.update(kw)
    return {k: v for k, v in p.items() if v is not None}


# --------------------------------------------------------------------------------------------
# fund.create


@pytest.mark.parametrize("kind", ["pass_through", "endowment"])
def test_create_both_kinds(api, kind):
    params = create_params(kind=kind, name="Diaspora fund " + uniq("n"))
    f = api.ok("fund.create", params)
    assert set(f) >= FUND_KEYS, f
    assert f["code"] == params["code"]
    assert f["name"] == params["name"]
    assert f["currency"] == "EUR"
    assert f["kind"] == kind
    assert f["dual_approval_above"] == "1000.00"
    assert TIME_RE.match(f["created_at"]), f


@pytest.mark.parametrize("cur,dual,shown", [
    ("EUR", "0", "0.00"), ("EUR", "2500.5", "2500.50"), ("JPY", "150000", "150000"),
    ("KWD", "12.5", "12.500"), ("KWD", "0.001", "0.001"), ("CLF", "1.2345", "1.2345"),
])
def test_create_dual_approval_above_in_fund_currency(api, cur, dual, shown):
    f = api.ok("fund.create", create_params(currency=cur, dual_approval_above=dual))
    assert f["currency"] == cur
    assert f["dual_approval_above"] == shown, f


def test_create_code_limits(api):
    code = ("Z9_-" + uniq("x").upper().replace("-", ""))[:32].ljust(32, "Q")
    assert len(code) == 32
    f = api.ok("fund.create", create_params(code=code))
    assert f["code"] == code


def test_duplicate_code(api):
    params = create_params()
    api.ok("fund.create", params)
    api.err("fund.create", params, -32009, reason="duplicate_fund")
    # Another name, currency and kind: still the same code.
    other = dict(params, name="Other " + uniq("n"), currency="USD", kind="endowment")
    api.err("fund.create", other, -32009, reason="duplicate_fund")
    # The first fund is unchanged.
    funds = {f["code"]: f for f in api.ok("fund.list")["funds"]}
    assert funds[params["code"]]["currency"] == "EUR"
    assert funds[params["code"]]["name"] == params["name"]


@pytest.mark.parametrize("code", ["", "lower", "Mixed-Case", "HAS SPACE", "A/B", "A.B", "ÄÖ",
                                  "X" * 33, "TAB\t"])
def test_bad_code(api, code):
    api.err("fund.create", create_params(code=code), -32602, field="code")


def test_code_not_a_string(api):
    api.err("fund.create", create_params(code=12345), -32602, field="code")


@pytest.mark.parametrize("cur", ["XXX", "eur", "EURO", "EU", "ABC", "", "XAU", "HRK", "BGN"])
def test_bad_currency(api, cur):
    api.err("fund.create", create_params(currency=cur), -32602, field="currency")


@pytest.mark.parametrize("kind", ["savings", "", "PASS_THROUGH", "pass-through", "endowments"])
def test_bad_kind(api, kind):
    api.err("fund.create", create_params(kind=kind), -32602, field="kind")


@pytest.mark.parametrize("cur,dual", [
    ("EUR", 1000),            # a JSON number
    ("EUR", 1000.5),
    ("EUR", "1.234"),         # too many decimals for EUR
    ("JPY", "1.5"),           # JPY has none
    ("JPY", "1.0"),
    ("KWD", "0.0001"),
    ("EUR", "-1"),            # negative
    ("EUR", "-0.01"),
    ("EUR", "abc"),
    ("EUR", "1e3"),
    ("EUR", ""),
    ("EUR", " 10"),
    ("EUR", "1,000.00"),
    ("EUR", "99999999999999999999"),   # beyond any bigint of cents
    ("EUR", None),            # missing
])
def test_bad_dual_approval_above(api, cur, dual):
    params = create_params(currency=cur)
    if dual is None:
        del params["dual_approval_above"]
    else:
        params["dual_approval_above"] = dual
    api.err("fund.create", params, -32602, field="dual_approval_above")


@pytest.mark.parametrize("missing", ["code", "name", "currency", "kind"])
def test_missing_param(api, missing):
    params = create_params()
    del params[missing]
    api.err("fund.create", params, -32602, field=missing)


def test_bad_name_and_unknown_param(api):
    api.err("fund.create", create_params(name=""), -32602, field="name")
    api.err("fund.create", create_params(name="x" * 201), -32602, field="name")
    api.err("fund.create", dict(create_params(), colour="red"), -32602, field="colour")


def test_refused_create_writes_nothing(api):
    params = create_params(dual_approval_above="-5")
    api.err("fund.create", params, -32602, field="dual_approval_above")
    codes = {f["code"] for f in api.ok("fund.list")["funds"]}
    assert params["code"] not in codes


def test_create_needs_admin(daemon, api, auditor, approver):
    for who in (auditor, approver):
        params = create_params()
        Client.api(daemon, who["token"]).err("fund.create", params, -32003)
        assert params["code"] not in {f["code"] for f in api.ok("fund.list")["funds"]}


# --------------------------------------------------------------------------------------------
# fund.list


def test_list_contains_new_fund(daemon, api, auditor):
    f = new_fund(api, currency="NOK", kind="endowment", dual="75.5")
    for reader in (api, Client.api(daemon, auditor["token"])):
        funds = reader.ok("fund.list")["funds"]
        mine = [x for x in funds if x["code"] == f["code"]]
        assert mine == [f], mine
        for x in funds:
            assert set(x) >= FUND_KEYS, x


def test_list_is_ordered_by_code(api):
    new_fund(api, prefix="ZZ")
    new_fund(api, prefix="AA")
    codes = [f["code"] for f in api.ok("fund.list")["funds"]]
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes))


# --------------------------------------------------------------------------------------------
# fund.balance


@pytest.mark.parametrize("cur,zero", [("EUR", "0.00"), ("JPY", "0"), ("KWD", "0.000"),
                                      ("CLF", "0.0000")])
@pytest.mark.parametrize("kind", ["pass_through", "endowment"])
def test_balance_of_new_fund_is_zero(daemon, api, auditor, approver, cur, zero, kind):
    f = new_fund(api, currency=cur, kind=kind)
    want = {"code": f["code"], "currency": cur}
    want.update({k: zero for k in BALANCE_KEYS})
    for reader in (api, api_of(daemon, auditor), api_of(daemon, approver)):
        assert reader.ok("fund.balance", {"code": f["code"]}) == want


def test_balance_unknown_fund(api):
    api.err("fund.balance", {"code": "NO-SUCH-" + uniq("f").upper()}, -32004,
            field="code", reason="fund_not_found")


@pytest.mark.parametrize("params,field", [({}, "code"), ({"code": 5}, "code"),
                                          ({"code": "lower"}, "code"),
                                          ({"code": "X", "extra": 1}, "extra")])
def test_balance_bad_params(api, params, field):
    api.err("fund.balance", params, -32602, field=field)


# --------------------------------------------------------------------------------------------
# fund.record_earnings


@pytest.mark.parametrize("kind", ["pass_through", "endowment"])
def test_record_earnings(api, kind):
    f = new_fund(api, currency="EUR", kind=kind)
    code = f["code"]
    res = api.ok("fund.record_earnings", {"code": code, "amount": "12.34", "period": "2026-Q3",
                                          "note": "interest on deposits"})
    assert set(res) == {"entry_id"}, res
    assert isinstance(res["entry_id"], str) and res["entry_id"]
    assert balance(api, code, "EUR") == expected_balance(kind, earnings=1234)

    entries = entries_for(api, code + ":earnings")
    assert [e["entry_id"] for e in entries] == [res["entry_id"]]
    e = entries[0]
    check_entry(e)
    assert e["kind"] == "earnings"
    assert postings_of(e) == {code + ":cash": 1234, code + ":earnings": -1234}
    assert all(p["currency"] == "EUR" for p in e["postings"])
    assert [x["entry_id"] for x in entries_for(api, code + ":cash")] == [res["entry_id"]]

    res2 = api.ok("fund.record_earnings", {"code": code, "amount": "0.66", "period": "2026-Q4"})
    assert res2["entry_id"] != res["entry_id"]
    assert balance(api, code, "EUR") == expected_balance(kind, earnings=1300)


@pytest.mark.parametrize("cur,amount,units", [("JPY", "1500", 1500), ("KWD", "1.005", 1005),
                                              ("KWD", "7", 7000), ("EUR", "7.5", 750)])
def test_record_earnings_amount_scales(api, cur, amount, units):
    f = new_fund(api, currency=cur, kind="endowment")
    api.ok("fund.record_earnings", {"code": f["code"], "amount": amount, "period": "P1"})
    b = api.ok("fund.balance", {"code": f["code"]})
    assert b["earnings"] == money(units, cur) == b["available"], b
    assert b["received"] == money(0, cur)


def test_endowment_received_is_not_available(api):
    f = new_fund(api, currency="EUR", kind="endowment")
    p = new_partner(api)
    api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                    "amount": "5000", "currency": "EUR"})
    b = api.ok("fund.balance", {"code": f["code"]})
    assert b["received"] == "5000.00"
    assert b["available"] == "0.00", "an endowment's capital is not available: %r" % b
    api.ok("fund.record_earnings", {"code": f["code"], "amount": "125.10", "period": "2026-Q2"})
    b = api.ok("fund.balance", {"code": f["code"]})
    assert (b["received"], b["earnings"], b["available"]) == ("5000.00", "125.10", "125.10"), b


def test_pass_through_received_is_available(api):
    f = new_fund(api, currency="EUR", kind="pass_through")
    p = new_partner(api)
    api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                    "amount": "5000", "currency": "EUR"})
    api.ok("fund.record_earnings", {"code": f["code"], "amount": "125.10", "period": "2026-Q2"})
    b = api.ok("fund.balance", {"code": f["code"]})
    assert (b["received"], b["earnings"], b["available"]) == ("5000.00", "125.10", "5125.10"), b


@pytest.mark.parametrize("amount,field", [
    (12.34, "amount"), (12, "amount"), ("0", "amount"), ("0.00", "amount"), ("-1", "amount"),
    ("1.234", "amount"), ("abc", "amount"), ("", "amount"), (None, "amount"),
])
def test_record_earnings_bad_amount(api, amount, field):
    f = new_fund(api, currency="EUR")
    params = {"code": f["code"], "period": "2026-Q1"}
    if amount is not None:
        params["amount"] = amount
    api.err("fund.record_earnings", params, -32602, field=field)
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through")
    assert entries_for(api, f["code"] + ":cash") == []


@pytest.mark.parametrize("period", ["", "p" * 65, None, 2026])
def test_record_earnings_bad_period(api, period):
    f = new_fund(api, currency="EUR")
    params = {"code": f["code"], "amount": "1.00"}
    if period is not None:
        params["period"] = period
    api.err("fund.record_earnings", params, -32602, field="period")


def test_record_earnings_period_64_bytes(api):
    f = new_fund(api, currency="EUR")
    api.ok("fund.record_earnings", {"code": f["code"], "amount": "1.00", "period": "p" * 64})
    assert balance(api, f["code"], "EUR")["earnings"] == 100


def test_record_earnings_unknown_fund(api):
    api.err("fund.record_earnings", {"code": "NO-SUCH-" + uniq("f").upper(), "amount": "1",
                                     "period": "x"}, -32004, field="code",
            reason="fund_not_found")


def test_record_earnings_needs_admin(daemon, api, auditor, approver):
    f = new_fund(api)
    for who in (auditor, approver):
        Client.api(daemon, who["token"]).err("fund.record_earnings", {
            "code": f["code"], "amount": "1", "period": "x"}, -32003)
    assert balance(api, f["code"], "EUR") == expected_balance("pass_through")


def test_record_earnings_idempotent(api):
    f = new_fund(api)
    params = {"code": f["code"], "amount": "3.21", "period": "2026-09",
              "idempotency_key": uniq("earn")}
    a = api.ok("fund.record_earnings", params)
    b = api.ok("fund.record_earnings", dict(params))
    assert a == b
    assert [e["entry_id"] for e in entries_for(api, f["code"] + ":cash")] == [a["entry_id"]]
    assert balance(api, f["code"], "EUR")["earnings"] == 321
    api.err("fund.record_earnings", dict(params, amount="3.22"), -32009,
            reason="idempotency_mismatch")
    assert balance(api, f["code"], "EUR")["earnings"] == 321


def test_create_idempotent(api):
    params = create_params(idempotency_key=uniq("fc"))
    a = api.ok("fund.create", params)
    b = api.ok("fund.create", dict(params))
    assert a == b
    assert [x for x in api.ok("fund.list")["funds"] if x["code"] == params["code"]] == [a]
    api.err("fund.create", dict(params, name="Another name"), -32009,
            reason="idempotency_mismatch")
    # A new code under the same key is a mismatch too, and creates nothing.
    other = dict(params, code=fund_code())
    api.err("fund.create", other, -32009, reason="idempotency_mismatch")
    assert other["code"] not in {x["code"] for x in api.ok("fund.list")["funds"]}


def test_fund_accounts_exist_with_the_fund(env, api):
    f = new_fund(api, currency="SEK")
    out = env.sql("SELECT short || ' ' || currency FROM fl.account WHERE fund_code = '%s' "
                  "ORDER BY short" % f["code"])
    names = dict(l.split(" ") for l in out.splitlines() if l.strip())
    for a in ("cash", "pledges_receivable", "pledged_contributions", "contributions",
              "earnings"):
        assert names.get(a) == "SEK", (a, names)
