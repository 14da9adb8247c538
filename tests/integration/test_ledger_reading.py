"""Reading the books by value date (docs/ledger.md, "Value dates"; docs/protocol.md,
ledger.entries, ledger.trial_balance, fund.balance): `from`/`to`/`as_of` select by value date,
`basis=recorded` by recording time; the trial balance of every currency, of one fund, over a
range (opening balance, debits, credits, closing balance per account); fund.balance as of a
date, from the journal."""

import datetime

import pytest

from fl.client import new_client
from fl.env import fundctl
from fl.ledger import (BALANCE_KEYS, balance, minor, new_fund, new_partner, pages, parse_time, rfc3339,
                       utcnow)
from fl.grants import approved_grant, confirm, create, funded_fund

def soon():
    """A minute from now: after every entry so far, by value date and by recording time."""
    return rfc3339(utcnow() + datetime.timedelta(minutes=1))


TB_TOTAL_KEYS = {"opening_debit", "opening_credit", "debit", "credit", "closing_debit",
                 "closing_credit"}


@pytest.fixture
def checker(daemon, admin):
    with new_client(daemon, admin, ["admin"], "checker") as a:
        yield a


def _receive(api, fund, amount, received_at=None, currency=None):
    p = new_partner(api)
    params = {"partner_id": p["partner_id"], "fund": fund["code"], "amount": amount,
              "currency": currency or fund["currency"]}
    if received_at is not None:
        params["received_at"] = received_at
    return api.ok("contribution.receive", params)


def _earn(api, fund, amount, period, value_date=None):
    params = {"code": fund["code"], "amount": amount, "period": period}
    if value_date is not None:
        params["value_date"] = value_date
    return api.ok("fund.record_earnings", params)


def tb(api, **params):
    return api.ok("ledger.trial_balance", params)


def rows_of(t, cur):
    """{account: (opening, debit, credit, closing)} in minor units, each row checked:
    opening + debit - credit == closing."""
    out = {}
    for r in t["accounts"]:
        assert set(r) >= {"account", "fund", "currency", "opening", "debit", "credit",
                          "closing"}, r
        assert r["account"].startswith(r["fund"] + ":"), r
        c = r["currency"] if cur is None else cur
        assert r["currency"] == c, r
        o, d, cr, cl = (minor(r[k], c) for k in ("opening", "debit", "credit", "closing"))
        assert d >= 0 and cr >= 0, r
        assert o + d - cr == cl, ("opening + debit - credit != closing", r)
        out[r["account"]] = (o, d, cr, cl)
    return out


def check_totals(t, cur):
    """The totals of `cur` are the sums of its rows, and each pair balances."""
    rows = rows_of(t, cur)
    tot = t["totals"]
    assert set(tot) == TB_TOTAL_KEYS, tot
    got = {k: minor(v, cur) for k, v in tot.items()}
    want = {"opening_debit": sum(max(o, 0) for o, _, _, _ in rows.values()),
            "opening_credit": sum(max(-o, 0) for o, _, _, _ in rows.values()),
            "debit": sum(d for _, d, _, _ in rows.values()),
            "credit": sum(c for _, _, c, _ in rows.values()),
            "closing_debit": sum(max(cl, 0) for _, _, _, cl in rows.values()),
            "closing_credit": sum(max(-cl, 0) for _, _, _, cl in rows.values())}
    assert got == want, (got, want)
    for side in ("opening_", "", "closing_"):
        assert got[side + "debit"] == got[side + "credit"], (side, got)
    return rows


# --------------------------------------------------------------------------------------------
# A receipt dated before it was recorded


def test_backdated_receipt_reads_by_value_date(api):
    f = new_fund(api, currency="EUR")
    code = f["code"]
    c = _receive(api, f, "10.00", received_at="2026-10-05")
    assert c["received_at"] == "2026-10-05T00:00:00.000000Z"
    cash = code + ":cash"

    # trial balance as of 2026-11-01: the receipt is there by value date ...
    t = tb(api, fund=code, as_of="2026-11-01")
    assert t["currency"] == "EUR"
    assert rows_of(t, "EUR") == {cash: (0, 1000, 0, 1000),
                                 code + ":contributions": (0, 0, 1000, -1000)}
    check_totals(t, "EUR")
    # ... and not by recording time (it was recorded today)
    t = tb(api, fund=code, as_of="2026-11-01", basis="recorded")
    assert t["accounts"] == [], t
    assert rows_of(tb(api, fund=code, basis="recorded"), "EUR")[cash] == (0, 1000, 0, 1000)
    # as_of is inclusive: at the value date itself, the receipt counts; a microsecond
    # before, it does not
    assert cash in rows_of(tb(api, fund=code, as_of="2026-10-05T00:00:00Z"), "EUR")
    assert tb(api, fund=code, as_of="2026-10-04T23:59:59.999999Z")["accounts"] == []

    # fund.balance as of the same date, both ways
    b = api.ok("fund.balance", {"code": code, "as_of": "2026-11-01"})
    assert (b["received"], b["available"]) == ("10.00", "10.00"), b
    b = api.ok("fund.balance", {"code": code, "as_of": "2026-11-01", "basis": "recorded"})
    assert (b["received"], b["available"]) == ("0.00", "0.00"), b
    assert api.ok("fund.balance", {"code": code, "as_of": soon()})["received"] \
        == "10.00"

    # ledger.entries in October, by value date and by recording time
    def ids(**kw):
        return [e["entry_id"] for e in pages(api, "ledger.entries", dict(kw, account=cash),
                                             "entries", 100)[0]]
    [e] = pages(api, "ledger.entries", {"account": cash}, "entries", 100)[0]
    assert ids(**{"from": "2026-10-01", "to": "2026-11-01"}) == [e["entry_id"]]
    assert ids(**{"from": "2026-10-05", "to": "2026-10-06"}) == [e["entry_id"]]
    assert ids(**{"from": "2026-10-06"}) == [], "from: by value date"
    assert ids(to="2026-10-05") == [], "to is exclusive"
    assert ids(**{"from": "2026-10-01", "to": "2026-11-01", "basis": "recorded"}) == []
    today = parse_time(e["at"]).date().isoformat()
    assert ids(**{"from": today, "basis": "recorded"}) == [e["entry_id"]]
    assert ids(**{"from": today, "basis": "value"}) == []


# --------------------------------------------------------------------------------------------
# Over a range: opening, debits, credits, closing


def test_trial_balance_over_a_range(api, appr, checker):
    f = funded_fund(api, received=None, currency="EUR")
    code = f["code"]
    a = lambda s: "%s:%s" % (code, s)  # noqa: E731
    _receive(api, f, "100.00", received_at="2026-09-10")
    _earn(api, f, "7.00", "2026-Q3")                      # value date 2026-09-30
    _receive(api, f, "50.00", received_at="2026-10-05T08:00:00Z")
    g = approved_grant(api, appr, f, "30.00")            # commitment: today
    confirm(checker, create(api, g, "20.00"), paid_at="2026-10-20")

    t = tb(api, fund=code, **{"from": "2026-10-01", "to": "2026-11-01"})
    rows = check_totals(t, "EUR")
    # the commitment is dated today, after the range: its accounts are not there, and the
    # payment's commitments and grants_committed postings count in October
    assert rows == {
        a("cash"): (10700, 5000, 2000, 13700),
        a("contributions"): (-10000, 0, 5000, -15000),
        a("earnings"): (-700, 0, 0, -700),
        a("commitments"): (0, 2000, 0, 2000),
        a("grants_committed"): (0, 0, 2000, -2000),
        a("grants_disbursed"): (0, 2000, 0, 2000),
    }, rows
    tot = {k: minor(v, "EUR") for k, v in t["totals"].items()}
    assert (tot["opening_debit"], tot["debit"], tot["closing_debit"]) == (10700, 9000, 17700)

    # from alone: up to now; to alone: opening zero
    rows = check_totals(tb(api, fund=code, **{"from": "2026-10-01"}), "EUR")
    assert rows[a("commitments")] == (0, 2000, 3000, -1000)
    assert rows[a("cash")] == (10700, 5000, 2000, 13700)
    rows = check_totals(tb(api, fund=code, to="2026-10-01"), "EUR")
    assert rows == {a("cash"): (0, 10700, 0, 10700), a("contributions"): (0, 0, 10000, -10000),
                    a("earnings"): (0, 0, 700, -700)}, rows
    # an empty range: closing == opening
    rows = check_totals(tb(api, fund=code, **{"from": "2026-10-05T08:00:00Z",
                                              "to": "2026-10-05T08:00:00Z"}), "EUR")
    assert all(d == c == 0 and o == cl for o, d, c, cl in rows.values()), rows
    assert rows[a("cash")][0] == 10700
    # [from, to): the receipt at 08:00 is in a range from 08:00, not in one up to 08:00
    assert check_totals(tb(api, fund=code, **{"from": "2026-10-05T08:00:00Z",
                                              "to": "2026-10-06"}), "EUR")[a("cash")] == \
        (10700, 5000, 0, 15700)
    assert check_totals(tb(api, fund=code, **{"from": "2026-10-05",
                                              "to": "2026-10-05T08:00:00Z"}), "EUR")[
        a("cash")] == (10700, 0, 0, 10700)

    # the closing balance of one range is the opening of the next
    r1 = rows_of(tb(api, fund=code, **{"from": "2026-09-01", "to": "2026-10-10"}), "EUR")
    r2 = rows_of(tb(api, fund=code, **{"from": "2026-10-10", "to": "2026-12-31"}), "EUR")
    for acc, (_, _, _, cl) in r1.items():
        assert r2[acc][0] == cl, (acc, r1[acc], r2[acc])

    # fund.balance as of each end agrees with the closing balances
    b = balance_as_of(api, code, "2026-11-01")
    assert b == {"received": 15000, "earnings": 700, "pledged": 0, "committed": -2000,
                 "disbursed": 2000, "transferred_in": 0, "transferred_out": 0, "charges": 0,
                 "capital_impaired": 0, "available": 15700}, b
    assert balance_as_of(api, code, soon()) == balance(api, code, "EUR")


def balance_as_of(api, code, as_of, basis=None):
    params = {"code": code, "as_of": as_of}
    if basis is not None:
        params["basis"] = basis
    b = api.ok("fund.balance", params)
    cur = b["currency"]
    return {k: minor(b[k], cur) for k in BALANCE_KEYS}


# --------------------------------------------------------------------------------------------
# Every currency; one fund


def test_trial_balance_of_every_currency(api):
    # Several currencies and none named: every account of every currency, totals per
    # currency (v1 refused this with currency_required).
    fe, fj = new_fund(api, currency="EUR"), new_fund(api, currency="JPY")
    _earn(api, fe, "1.50", "X")
    _earn(api, fj, "15", "X")
    t = tb(api)
    assert t["currency"] is None and t["totals"] is None, (t["currency"], t["totals"])
    rows = rows_of(t, None)
    assert rows[fe["code"] + ":cash"] == (0, 150, 0, 150)
    assert rows[fj["code"] + ":cash"] == (0, 15, 0, 15)
    assert [r["account"] for r in t["accounts"]] == sorted(r["account"] for r in t["accounts"])
    curs = {r["currency"] for r in t["accounts"]}
    tbc = {x["currency"]: x for x in t["totals_by_currency"]}
    assert set(tbc) == curs >= {"EUR", "JPY"}
    for cur, x in tbc.items():
        assert set(x) == TB_TOTAL_KEYS | {"currency"}, x
        mine = [r for r in t["accounts"] if r["currency"] == cur]
        assert minor(x["debit"], cur) == sum(minor(r["debit"], cur) for r in mine)
        assert minor(x["closing_debit"], cur) == sum(max(minor(r["closing"], cur), 0)
                                                     for r in mine)
        for side in ("opening_", "", "closing_"):
            assert x[side + "debit"] == x[side + "credit"], (cur, x)
    # a currency named: its accounts only, totals of it, totals_by_currency still every one
    te = tb(api, currency="EUR")
    assert te["currency"] == "EUR"
    check_totals(te, "EUR")
    assert {x["currency"] for x in te["totals_by_currency"]} == set(tbc)


def test_trial_balance_of_one_fund(api):
    f, other = new_fund(api, currency="CHF"), new_fund(api, currency="CHF")
    _earn(api, f, "2.00", "X")
    _earn(api, other, "3.00", "X")
    _receive(api, f, "5.00", received_at="2026-01-02")
    t = tb(api, fund=f["code"])
    assert t["currency"] == "CHF"
    rows = check_totals(t, "CHF")
    assert rows == {f["code"] + ":cash": (0, 700, 0, 700),
                    f["code"] + ":contributions": (0, 0, 500, -500),
                    f["code"] + ":earnings": (0, 0, 200, -200)}, rows
    assert {r["fund"] for r in t["accounts"]} == {f["code"]}
    assert [x["currency"] for x in t["totals_by_currency"]] == ["CHF"]
    # a fund without entries: no accounts, zero totals in its currency
    empty = new_fund(api, currency="JPY")
    t = tb(api, fund=empty["code"])
    assert t["currency"] == "JPY" and t["accounts"] == [], t
    assert t["totals"] == {k: "0" for k in TB_TOTAL_KEYS}, t
    # another currency than the fund's: nothing of it
    t = tb(api, fund=f["code"], currency="EUR")
    assert t["currency"] == "EUR" and t["accounts"] == [], t
    api.err("ledger.trial_balance", {"fund": "NO-SUCH-FUND-X1"}, -32004, field="fund",
            reason="fund_not_found")


@pytest.mark.parametrize("params,field,reason", [
    ({"as_of": "2026-10-01", "from": "2026-09-01"}, "from", "not_with_as_of"),
    ({"as_of": "2026-10-01", "to": "2026-11-01"}, "to", "not_with_as_of"),
    ({"from": "2026-10-02", "to": "2026-10-01"}, "to", "to_before_from"),
    ({"from": "2026-10-01T00:00:00.000001Z", "to": "2026-10-01"}, "to", "to_before_from"),
    ({"basis": "booked"}, "basis", "not_one_of_allowed_values"),
    ({"basis": 1}, "basis", None),
    ({"fund": "bad code"}, "fund", "bad_format"),
    ({"from": "2026-13-01"}, "from", None),
    ({"to": "2026-10-01T00:00:00+02:00"}, "to", "not_utc"),
])
def test_trial_balance_bad_params(api, params, field, reason):
    api.err("ledger.trial_balance", params, -32602, field=field, reason=reason)


@pytest.mark.parametrize("params,field,reason", [
    ({"as_of": "soon"}, "as_of", "bad_format"),
    ({"as_of": "2026-10-01T00:00:00+02:00"}, "as_of", "not_utc"),
    ({"as_of": "2026-10-01", "basis": "booked"}, "basis", "not_one_of_allowed_values"),
    ({"from": "2026-10-01"}, "from", "unknown_param"),
])
def test_fund_balance_bad_params(api, params, field, reason):
    f = new_fund(api)
    api.err("fund.balance", dict(params, code=f["code"]), -32602, field=field, reason=reason)


def test_fund_balance_as_of_unknown_fund(api):
    api.err("fund.balance", {"code": "NO-SUCH-FUND-X2", "as_of": "2026-10-01"}, -32004,
            field="code", reason="fund_not_found")


def test_entries_bad_basis(api):
    api.err("ledger.entries", {"basis": "booked"}, -32602, field="basis",
            reason="not_one_of_allowed_values")


def test_fund_balance_as_of_before_and_now(api, appr, checker):
    """Before the fund's first value date: zeros; as of now: today's figures, equal to
    fund.balance without as_of; a pledge received later counts from its receipt's date."""
    f = funded_fund(api, received=None, kind="endowment")
    code = f["code"]
    p = new_partner(api)
    pl = api.ok("contribution.pledge", {"partner_id": p["partner_id"], "fund": code,
                                        "amount": "40.00", "currency": "EUR"})
    api.ok("contribution.receive", {"contribution_id": pl["contribution_id"],
                                    "received_at": "2026-06-01"})
    _earn(api, f, "9.00", "2026-06")
    g = approved_grant(api, appr, f, "5.00")
    confirm(checker, create(api, g, "5.00"), paid_at="2026-07-01")
    assert balance_as_of(api, code, "2026-05-31") == dict.fromkeys(BALANCE_KEYS, 0)
    # the receipt of the pledge is dated before the pledge was made (today): as of June,
    # the pledge is received and not yet pledged
    assert balance_as_of(api, code, "2026-06-30") == {
        "received": 4000, "earnings": 900, "pledged": -4000, "committed": 0, "disbursed": 0,
        "transferred_in": 0, "transferred_out": 0, "charges": 0, "capital_impaired": 0,
        "available": 900}
    assert balance_as_of(api, code, "2026-07-01") == {
        "received": 4000, "earnings": 900, "pledged": -4000, "committed": -500,
        "disbursed": 500, "transferred_in": 0, "transferred_out": 0, "charges": 0,
        "capital_impaired": 0, "available": 900}
    now = balance(api, code, "EUR")
    assert balance_as_of(api, code, soon()) == now
    assert balance_as_of(api, code, soon(), "recorded") == now
    assert now["available"] == 400


# --------------------------------------------------------------------------------------------
# fundctl ledger trial-balance


def _ctl(daemon, token, *args):
    return fundctl("--url", daemon.url, "--cacert", daemon.env.ca, "--token", token, *args)


def test_fundctl_trial_balance_table(daemon, admin, api):
    f = new_fund(api, currency="EUR")
    code = f["code"]
    _receive(api, f, "100.00", received_at="2026-09-10")
    _earn(api, f, "7.00", "2026-Q3")
    _receive(api, f, "50.00", received_at="2026-10-05")
    p = _ctl(daemon, admin, "ledger", "trial-balance", "--fund", code,
             "--from", "2026-10-01", "--to", "2026-11-01")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == ("Trial balance of fund %s, by value date, from 2026-10-01, "
                        "to 2026-11-01 (excluded)" % code), lines
    assert lines[1] == ""
    table = [ln.split() for ln in lines[2:]]
    assert table == [
        ["account", "currency", "opening", "debit", "credit", "closing"],
        [code + ":cash", "EUR", "107.00", "Dr", "50.00", "0.00", "157.00", "Dr"],
        [code + ":contributions", "EUR", "100.00", "Cr", "0.00", "50.00", "150.00", "Cr"],
        [code + ":earnings", "EUR", "7.00", "Cr", "0.00", "0.00", "7.00", "Cr"],
        ["total", "EUR", "107.00", "Dr", "50.00", "50.00", "157.00", "Dr"],
        ["107.00", "Cr", "157.00", "Cr"],
    ], p.stdout
    # the amounts are aligned on the right, Dr and Cr in one column
    ends = {len(ln) for ln in lines[2:]}
    assert len(ends) == 1, p.stdout
    assert len({ln.index("debit") + len("debit") for ln in lines[2:3]} |
               {ln.index(" 50.00") + len(" 50.00") for ln in lines[3:4]}) == 1, p.stdout

    # as of a date, by recording time: the back-dated entries are not there yet
    p = _ctl(daemon, admin, "ledger", "trial-balance", "--fund", code, "--as-of",
             "2026-11-01", "--basis", "recorded")
    assert p.returncode == 0, p.stderr
    assert "by recording time, as of 2026-11-01" in p.stdout.splitlines()[0]
    assert "(no entries)" in p.stdout and code + ":cash" not in p.stdout, p.stdout
    assert p.stdout.splitlines()[3] == "(no entries)", p.stdout
    assert [ln.split() for ln in p.stdout.splitlines()[4:6]] == [
        ["total", "EUR", "0.00", "Dr", "0.00", "0.00", "0.00", "Dr"],
        ["0.00", "Cr", "0.00", "Cr"]], p.stdout


def test_fundctl_trial_balance_every_currency(daemon, admin, api):
    fj = new_fund(api, currency="JPY")
    _earn(api, fj, "15", "X")
    p = _ctl(daemon, admin, "ledger", "trial-balance")
    assert p.returncode == 0, p.stderr
    rows = [ln.split() for ln in p.stdout.splitlines()[2:]]
    assert [fj["code"] + ":cash", "JPY", "0", "15", "0", "15", "Dr"] in rows, p.stdout
    totals = [r for r in rows if r[0] == "total"]
    assert {r[1] for r in totals} >= {"JPY", "EUR"}, p.stdout


@pytest.mark.parametrize("args,msg", [
    (["ledger"], "needs a subcommand"),
    (["ledger", "balance"], "unknown ledger subcommand"),
    (["ledger", "trial-balance", "--as-of", "2026-10-01", "--from", "2026-09-01"],
     "alternatives"),
    (["ledger", "trial-balance", "--basis", "booked"], "--basis must be"),
    (["ledger", "trial-balance", "extra"], "unexpected argument"),
    (["call", "system.version", "--fund", "X"], "options of ledger"),
    (["export", "ledger", "--format", "csv", "--as-of", "2026-10-01"], "options of ledger"),
])
def test_fundctl_trial_balance_usage(daemon, admin, args, msg):
    p = _ctl(daemon, admin, *args)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert msg in p.stderr, p.stderr
    assert p.stdout == ""


def test_fundctl_trial_balance_refused(daemon, admin):
    p = _ctl(daemon, admin, "ledger", "trial-balance", "--fund", "NO-SUCH-FUND-X3")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "fund_not_found" in p.stderr and "field=fund" in p.stderr, p.stderr
    assert p.stdout == ""
