"""ledger.entries and ledger.trial_balance, and the journal's guarantees in PostgreSQL
(docs/protocol.md; docs/ledger.md: chart of accounts, events and their entries,
worked example, methods)."""

import datetime
import time

import pytest

from fl.env import uniq
from fl.client import Client
from fl.db import psql, refused, sql_lit
from fl.ledger import (account_sums, balance, check_entry, entries_for, expected_balance,
                       fund_entries, minor, money, new_fund, new_partner, pages, parse_time,
                       postings_of, rfc3339, tb_rows, trial_balance, utcnow)


def earn(api, code, amount, period="P"):
    return api.ok("fund.record_earnings", {"code": code, "amount": amount, "period": period})


def totals_ok(tb, cur):
    """The trial balance's shape; its rows of `cur` sum to totals, and debit == credit."""
    assert set(tb) >= {"accounts", "totals"}, tb.keys()
    deb = cred = 0
    for row in tb["accounts"]:
        assert set(row) >= {"account", "currency", "debit", "credit"}, row
        assert row["currency"] == cur, row
        d, c = minor(row["debit"], cur), minor(row["credit"], cur)
        assert d >= 0 and c >= 0, row
        deb += d
        cred += c
    t = tb["totals"]
    assert minor(t["debit"], cur) == deb, (t, deb)
    assert minor(t["credit"], cur) == cred, (t, cred)
    assert t["debit"] == t["credit"], "trial balance does not balance: %r" % t
    return deb


# --------------------------------------------------------------------------------------------
# The worked example of docs/ledger.md (in DKK, so the trial balance stays small)


def test_worked_example(api):
    cur = "DKK"
    f = new_fund(api, currency=cur, kind="pass_through", prefix="GEG-SME")
    code = f["code"]
    p1, p2 = new_partner(api), new_partner(api)
    pl = api.ok("contribution.pledge", {"partner_id": p1["partner_id"], "fund": code,
                                        "amount": "1000.00", "currency": cur})
    api.ok("contribution.receive", {"contribution_id": pl["contribution_id"]})
    usd = api.ok("contribution.receive", {"partner_id": p2["partner_id"], "fund": code,
                                          "amount": "500.00", "currency": "USD",
                                          "fx_rate": "0.9265"})
    assert usd["fund_amount"] == "463.25"
    earn(api, code, "12.34", "2026-Q3")

    b = api.ok("fund.balance", {"code": code})
    assert b == {"code": code, "currency": cur, "received": "1463.25", "earnings": "12.34",
                 "pledged": "0.00", "committed": "0.00", "disbursed": "0.00",
                 "transferred_in": "0.00", "transferred_out": "0.00", "charges": "0.00",
                 "capital_impaired": "0.00", "available": "1475.59"}

    es = fund_entries(api, code)
    es.sort(key=lambda e: parse_time(e["at"]))
    assert [e["kind"] for e in es] == ["pledge", "receipt", "receipt", "earnings"]
    for e in es:
        check_entry(e)
        assert {p["currency"] for p in e["postings"]} == {cur}
    a = lambda s: "%s:%s" % (code, s)  # noqa: E731
    assert postings_of(es[0]) == {a("pledges_receivable"): 100000,
                                  a("pledged_contributions"): -100000}
    assert postings_of(es[1]) == {a("pledged_contributions"): 100000,
                                  a("pledges_receivable"): -100000,
                                  a("cash"): 100000, a("contributions"): -100000}
    assert postings_of(es[2]) == {a("cash"): 46325, a("contributions"): -46325}
    assert postings_of(es[3]) == {a("cash"): 1234, a("earnings"): -1234}

    tb = trial_balance(api, cur)
    totals_ok(tb, cur)
    rows = {k: v for k, v in tb_rows(tb, code + ":", cur).items() if v != (0, 0)}
    assert rows == {a("cash"): (147559, 0), a("contributions"): (0, 146325),
                    a("earnings"): (0, 1234), a("pledged_contributions"): (100000, 100000),
                    a("pledges_receivable"): (100000, 100000)}, rows
    assert sum(d for d, _ in rows.values()) == sum(c for _, c in rows.values()) == 347559
    # Each account's turnover equals its postings.
    sums = account_sums(es, cur)
    for acc, (d, c) in rows.items():
        assert d - c == sums[acc], acc


# --------------------------------------------------------------------------------------------
# ledger.entries


def test_entries_shape_and_account_filter_shows_whole_entry(api):
    f = new_fund(api, currency="EUR")
    p = new_partner(api)
    pl = api.ok("contribution.pledge", {"partner_id": p["partner_id"], "fund": f["code"],
                                        "amount": "8", "currency": "EUR"})
    api.ok("contribution.receive", {"contribution_id": pl["contribution_id"]})
    cash = entries_for(api, f["code"] + ":cash")
    assert len(cash) == 1
    e = cash[0]
    check_entry(e)
    assert set(e) >= {"entry_id", "at", "kind", "memo", "postings"}, e.keys()
    assert isinstance(e["memo"], str)
    # Filtered by cash, the receipt of a pledge still shows all four postings.
    assert len(e["postings"]) == 4
    assert {p["account"] for p in e["postings"]} == {
        f["code"] + s for s in (":cash", ":contributions", ":pledges_receivable",
                                ":pledged_contributions")}
    for p in e["postings"]:
        assert set(p) == {"account", "amount", "currency"}, p


def test_entries_unfiltered_every_entry_balances(api):
    # The last ten minutes of the whole journal (the database outlives test runs).
    since = rfc3339(utcnow() - datetime.timedelta(minutes=10))
    f = new_fund(api, currency="EUR")
    mine = earn(api, f["code"], "1.00")["entry_id"]
    items, _ = pages(api, "ledger.entries", {"from": since}, "entries", 1000)
    seen = set()
    for e in items:
        check_entry(e)
        assert e["entry_id"] not in seen, "entry %s twice in ledger.entries" % e["entry_id"]
        seen.add(e["entry_id"])
    assert mine in seen
    assert items[-1]["entry_id"] == mine, "oldest first: the newest entry is last"


def test_entries_from_to(api):
    f = new_fund(api, currency="EUR")
    code = f["code"]
    ids = []
    for i in range(3):
        if i:
            time.sleep(1.1)
        ids.append(earn(api, code, "%d.00" % (i + 1))["entry_id"])
    es = entries_for(api, code + ":cash")
    assert [e["entry_id"] for e in es] == ids
    t = [e["at"] for e in es]
    assert parse_time(t[0]) < parse_time(t[1]) < parse_time(t[2])

    def q(**kw):
        params = dict(kw, account=code + ":cash")
        return [e["entry_id"] for e in pages(api, "ledger.entries", params, "entries", 1000)[0]]

    assert q(**{"from": t[1]}) == ids[1:], "from is inclusive"
    assert q(to=t[1]) == ids[:1], "to is exclusive"
    assert q(**{"from": t[1], "to": t[2]}) == ids[1:2]
    assert q(**{"from": t[2], "to": t[2]}) == []
    assert q(**{"from": t[0], "to": t[0]}) == []
    after = rfc3339(parse_time(t[2]) + datetime.timedelta(seconds=1), micro=True)
    assert q(**{"from": after}) == []
    # Dates mean midnight UTC.
    day = parse_time(t[0]).date()
    nxt = day + datetime.timedelta(days=1)
    if parse_time(t[2]).date() == day:
        assert q(**{"from": day.isoformat(), "to": nxt.isoformat()}) == ids
        assert q(to=day.isoformat()) == []
        assert q(**{"from": nxt.isoformat()}) == []
    # Without an account filter, the window still holds exactly mine among the fund's.
    got = [e["entry_id"] for e in pages(api, "ledger.entries", {"from": t[1], "to": t[2]},
                                        "entries", 1000)[0]]
    assert ids[1] in got and ids[0] not in got and ids[2] not in got


def test_entries_pagination(api):
    f = new_fund(api, currency="EUR")
    code = f["code"]
    ids = [earn(api, code, "%d" % (i + 1))["entry_id"] for i in range(5)]
    items, sizes = pages(api, "ledger.entries", {"account": code + ":cash"}, "entries", 2)
    assert sizes == [2, 2, 1], sizes
    assert [e["entry_id"] for e in items] == ids
    items, sizes = pages(api, "ledger.entries", {"account": code + ":earnings"}, "entries", 5)
    assert sizes == [5] and [e["entry_id"] for e in items] == ids
    ids.append(earn(api, code, "6")["entry_id"])
    items, sizes = pages(api, "ledger.entries", {"account": code + ":cash"}, "entries", 3)
    assert sizes == [3, 3], "next_cursor is null on the page with the last entry: %r" % sizes
    again, _ = pages(api, "ledger.entries", {"account": code + ":cash"}, "entries", 3)
    assert again == items
    # A cursor keeps working after more entries arrive.
    first = api.ok("ledger.entries", {"account": code + ":cash", "limit": 4})
    ids.append(earn(api, code, "7")["entry_id"])
    rest = api.ok("ledger.entries", {"account": code + ":cash", "limit": 10,
                                     "cursor": first["next_cursor"]})
    assert [e["entry_id"] for e in first["entries"] + rest["entries"]] == ids
    assert rest["next_cursor"] is None


def test_entries_of_unused_account_is_empty(api):
    f = new_fund(api, currency="EUR")
    assert api.ok("ledger.entries", {"account": f["code"] + ":cash"}) == {
        "entries": [], "next_cursor": None}


@pytest.mark.parametrize("params,field", [
    ({"from": "yesterday"}, "from"), ({"from": "2026-02-30"}, "from"),
    ({"to": "2026-01-01T00:00:00+01:00"}, "to"), ({"to": 5}, "to"),
    ({"account": 5}, "account"), ({"account": ""}, "account"),
    ({"cursor": "bogus"}, "cursor"), ({"cursor": "c1x"}, "cursor"), ({"limit": 0}, "limit"),
    ({"limit": 1001}, "limit"), ({"limit": "1"}, "limit"), ({"fund": "X"}, "fund"),
])
def test_entries_bad_params(api, params, field):
    api.err("ledger.entries", params, -32602, field=field)


def test_roles(daemon, api, auditor, approver):
    f = new_fund(api, currency="HUF")
    earn(api, f["code"], "10")
    aud = Client.api(daemon, auditor["token"])
    assert len(aud.ok("ledger.entries", {"account": f["code"] + ":cash"})["entries"]) == 1
    totals_ok(aud.ok("ledger.trial_balance", {"currency": "HUF"}), "HUF")
    appr = Client.api(daemon, approver["token"])
    appr.err("ledger.entries", {"account": f["code"] + ":cash"}, -32003)
    appr.err("ledger.trial_balance", {"currency": "HUF"}, -32003)


# --------------------------------------------------------------------------------------------
# ledger.trial_balance


@pytest.mark.parametrize("cur", ["CHF", "JPY", "KWD"])
def test_trial_balance_balances(api, cur):
    f = new_fund(api, currency=cur, kind="endowment")
    p = new_partner(api)
    before = totals_ok(trial_balance(api, cur), cur)
    amount = {"CHF": "100.10", "JPY": "10010", "KWD": "100.100"}[cur]
    pl = api.ok("contribution.pledge", {"partner_id": p["partner_id"], "fund": f["code"],
                                        "amount": amount, "currency": cur})
    api.ok("contribution.receive", {"contribution_id": pl["contribution_id"]})
    pl2 = api.ok("contribution.pledge", {"partner_id": p["partner_id"], "fund": f["code"],
                                         "amount": amount, "currency": cur})
    api.ok("contribution.cancel", {"contribution_id": pl2["contribution_id"], "reason": "x"})
    earn(api, f["code"], amount)
    tb = trial_balance(api, cur)
    after = totals_ok(tb, cur)
    units = balance(api, f["code"], cur)["earnings"]
    # pledge, receipt (2 pairs), pledge, cancel, earnings: 6 debits of the amount.
    assert after - before == 6 * units, (before, after, units)
    rows = tb_rows(tb, f["code"] + ":", cur)
    sums = account_sums(fund_entries(api, f["code"]), cur)
    for acc, s in sums.items():
        d, c = rows[acc]
        assert d - c == s, (acc, rows[acc], s)
    assert rows[f["code"] + ":cash"] == (2 * units, 0)
    assert rows[f["code"] + ":pledges_receivable"] == (2 * units, 2 * units)


def test_trial_balance_by_currency(api):
    # The ledger holds several currencies: without a currency, every one is shown (with
    # totals per currency only); every currency's totals balance.
    for cur, amt in (("EUR", "1"), ("JPY", "1")):
        earn(api, new_fund(api, currency=cur)["code"], amt)
    every = api.ok("ledger.trial_balance", {})
    assert every["currency"] is None and every["totals"] is None, every
    assert {r["currency"] for r in every["accounts"]} >= {"EUR", "JPY"}
    tb = trial_balance(api, "EUR")
    totals_ok(tb, "EUR")
    assert "totals_by_currency" in tb, tb.keys()
    tbc = tb["totals_by_currency"]
    if isinstance(tbc, dict):
        tbc = [dict(v, currency=k) for k, v in tbc.items()]
    curs = {t["currency"] for t in tbc}
    assert {"EUR", "JPY"} <= curs, tbc
    for t in tbc:
        assert t["debit"] == t["credit"], t
    eur = [t for t in tbc if t["currency"] == "EUR"][0]
    assert (eur["debit"], eur["credit"]) == (tb["totals"]["debit"], tb["totals"]["credit"])


@pytest.mark.parametrize("params,field", [
    ({"currency": "XXX"}, "currency"), ({"currency": "eur"}, "currency"),
    ({"currency": "EUR", "as_of": "soon"}, "as_of"),
    ({"currency": "EUR", "as_of": "2026-01-01T00:00:00+03:00"}, "as_of"),
    ({"currency": "EUR", "as_of": 20260101}, "as_of"), ({"currency": "EUR", "x": 1}, "x"),
])
def test_trial_balance_bad_params(api, params, field):
    api.err("ledger.trial_balance", params, -32602, field=field)


def test_trial_balance_as_of(api):
    cur = "PLN"
    f = new_fund(api, currency=cur)
    code = f["code"]
    created = parse_time(f["created_at"])
    e1 = earn(api, code, "1.00")["entry_id"]
    time.sleep(1.1)
    e2 = earn(api, code, "2.00")["entry_id"]
    es = {e["entry_id"]: e for e in entries_for(api, code + ":cash")}
    t1, t2 = parse_time(es[e1]["at"]), parse_time(es[e2]["at"])
    assert t1 < t2

    def rows(as_of):
        tb = trial_balance(api, cur, as_of)
        totals_ok(tb, cur)
        return {k: v for k, v in tb_rows(tb, code + ":", cur).items()}

    # Before the fund existed: none of its accounts.
    assert rows("2020-01-01") == {}
    assert rows(rfc3339(created - datetime.timedelta(seconds=2), micro=True)) == {}
    assert rows(created.date().isoformat()) == {}, "midnight of the creation day"
    # Between the two entries: the first only.
    mid = rfc3339(t1 + (t2 - t1) / 2, micro=True)
    r = {k: v for k, v in rows(mid).items() if v != (0, 0)}
    assert r == {code + ":cash": (100, 0), code + ":earnings": (0, 100)}, r
    # Now: both.
    r = {k: v for k, v in rows(None).items() if v != (0, 0)}
    assert r == {code + ":cash": (300, 0), code + ":earnings": (0, 300)}, r


# --------------------------------------------------------------------------------------------
# The journal in PostgreSQL: append-only, balanced at commit


@pytest.fixture(scope="module")
def booked(api):
    """A fund (MNT: no other test uses it) with a few entries."""
    f = new_fund(api, currency="MNT")
    p = new_partner(api)
    api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                    "amount": "10", "currency": "MNT"})
    earn(api, f["code"], "1")
    return f


def test_sql_control(env, booked):
    # The tables the next tests use exist (the owner reads them) and the daemon's role
    # exists, with no privilege on them (docs/database-role.md).
    q = "SELECT count(*) FROM fl.posting;\nSELECT count(*) FROM fl.journal_entry;\n"
    p = psql(env, q)
    assert p.returncode == 0, p.stderr
    counts = [int(x) for x in p.stdout.split()]
    assert len(counts) == 2 and counts[0] >= 4 and counts[1] >= 2, p.stdout
    p = psql(env, "SET ROLE fundd_app;\n" + q)
    assert p.returncode != 0 and "permission denied for table posting" in p.stderr, p.stderr


@pytest.mark.parametrize("stmt", [
    "UPDATE fl.posting SET amount = 0",
    "UPDATE fl.posting SET amount = amount",
    "DELETE FROM fl.posting",
    "TRUNCATE fl.posting",
    "UPDATE fl.journal_entry SET memo = 'changed'",
    "DELETE FROM fl.journal_entry",
    "TRUNCATE fl.journal_entry CASCADE",
])
def test_daemon_role_cannot_change_the_journal(env, booked, stmt):
    err = refused(env, stmt + ";", role="fundd_app")
    assert "permission denied" in err, err


@pytest.mark.parametrize("stmt", [
    "UPDATE fl.posting SET amount = amount",
    "UPDATE fl.posting SET amount = 0",
    "DELETE FROM fl.posting",
    "TRUNCATE fl.posting",
    "UPDATE fl.journal_entry SET memo = memo",
    "DELETE FROM fl.journal_entry",
    "TRUNCATE fl.journal_entry CASCADE",
])
def test_owner_cannot_change_the_journal(env, booked, stmt):
    refused(env, stmt + ";")


def entry_script(code, memo, postings, end):
    """Owner SQL inserting an entry of fund `code` with postings [(short, amount)]."""
    return entry_script_funds(memo, [(code, short, amt) for short, amt in postings], end,
                              fund=code)


def entry_script_funds(memo, postings, end, fund=None):
    """Owner SQL inserting an entry (of fund `fund`, if given) with postings
    [(fund code, short, amount)], possibly across funds."""
    lines = ["BEGIN;",
             "INSERT INTO fl.journal_entry (kind, memo, fund_code) VALUES ('test', %s, %s);"
             % (sql_lit(memo), sql_lit(fund) if fund else "NULL")]
    for i, (code, short, amt) in enumerate(postings, 1):
        lines.append(
            "INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency) "
            "SELECT currval(pg_get_serial_sequence('fl.journal_entry', 'entry_id')), %d, "
            "account_id, %d, currency FROM fl.account WHERE name = %s;"
            % (i, amt, sql_lit("%s:%s" % (code, short))))
    lines.append("SELECT 'INSERTED';")
    lines.append(end)
    return "\n".join(lines) + "\n"


def entries_with_memo(env, memo):
    return int(env.sql("SELECT count(*) FROM fl.journal_entry WHERE memo = %s" %
                       sql_lit(memo)).strip())


def test_balanced_entry_control(env, booked):
    # The same SQL as below with a balanced entry passes the check (then is rolled back).
    memo = uniq("balanced")
    p = psql(env, entry_script(booked["code"], memo, [("cash", 100), ("earnings", -100)],
                               "SET CONSTRAINTS ALL IMMEDIATE;\nSELECT 'CHECKED';\nROLLBACK;"))
    assert p.returncode == 0 and "CHECKED" in p.stdout, p.stderr
    assert entries_with_memo(env, memo) == 0


@pytest.mark.parametrize("postings", [
    [("cash", 100), ("earnings", -99)],
    [("cash", 100)],
    [("cash", 100), ("earnings", -100), ("contributions", 1)],
    [],
])
def test_unbalanced_entry_refused_at_commit(env, api, booked, postings):
    memo = uniq("unbalanced")
    before = balance(api, booked["code"], "MNT")
    p = psql(env, entry_script(booked["code"], memo, postings, "COMMIT;"))
    assert "INSERTED" in p.stdout, "the inserts themselves should pass: %s" % p.stderr
    assert p.returncode != 0 and "ERROR" in p.stderr, \
        "an unbalanced entry %r was committed" % (postings,)
    assert entries_with_memo(env, memo) == 0
    assert balance(api, booked["code"], "MNT") == before


def test_entry_in_two_currencies_must_balance_in_each(env, api, booked):
    # The check's second branch (fl.entry_commit): an entry whose postings are in several
    # currencies balances in each of them, not merely in its total.
    other = new_fund(api, currency="EUR")
    a, b = booked["code"], other["code"]
    memo = uniq("two-currencies")
    p = psql(env, entry_script_funds(memo, [(a, "cash", 100), (a, "earnings", -100),
                                            (b, "cash", 7), (b, "earnings", -7)],
                                     "SET CONSTRAINTS ALL IMMEDIATE;\nSELECT 'CHECKED';\n"
                                     "ROLLBACK;"))
    assert p.returncode == 0 and "CHECKED" in p.stdout, p.stderr
    # sums to zero overall, but not in MNT nor in EUR
    memo = uniq("two-currencies-unbalanced")
    p = psql(env, entry_script_funds(memo, [(a, "cash", 100), (b, "earnings", -100)],
                                     "COMMIT;"))
    assert "INSERTED" in p.stdout, p.stderr
    assert p.returncode != 0 and "does not balance in every currency" in p.stderr, p.stderr
    assert entries_with_memo(env, memo) == 0


def test_posting_to_an_earlier_entry_refused(env, booked):
    code = booked["code"]
    eid = env.sql("SELECT max(entry_id) FROM fl.journal_entry WHERE fund_code = %s"
                  % sql_lit(code)).strip()
    assert eid
    body = "\n".join(
        "INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency) SELECT %s, %d, "
        "account_id, %d, currency FROM fl.account WHERE name = %s;"
        % (eid, seq, amt, sql_lit(code + ":" + short))
        for seq, short, amt in ((90, "cash", 5), (91, "earnings", -5)))
    refused(env, body)
    refused(env, body, role="fundd_app")


def test_journal_matches_balances_after_refusals(api, booked):
    code = booked["code"]
    sums = account_sums(fund_entries(api, code), "MNT")
    b = balance(api, code, "MNT")
    assert b == expected_balance("pass_through", received=-sums[code + ":contributions"],
                                 earnings=-sums[code + ":earnings"])
    assert money(b["received"], "MNT") == "10.00"
