"""Value dates (docs/ledger.md, "Value dates"): every journal entry carries the date the
money moved (value_date) beside the time it was recorded (at), taken from what the entry
records: a receipt's received_at (one by one, of a pledge, and in the set form of a batch),
a pledge's and a cancellation's time, a payment's paid_at, and the earnings' value_date or
the last day of their period."""

import datetime
import json
import time

import pytest

from fl.client import new_client
from fl.env import uniq
from fl.grants import approved_grant, confirm, create, funded_fund
from fl.ledger import TIME_RE, entries_of_kind, fund_journal, new_fund, new_partner, parse_time


@pytest.fixture
def checker(daemon, admin):
    with new_client(daemon, admin, ["admin"], "checker") as a:
        yield a


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _near_now(s):
    return abs((parse_time(s) - _now()).total_seconds()) < 120


def _entries(api, code, kind):
    out = entries_of_kind(fund_journal(api, code), kind)
    for e in out:
        assert TIME_RE.match(e["value_date"]), e
        assert _near_now(e["at"]), e
    return out


def _receive(api, fund, partner, **kw):
    params = {"partner_id": partner["partner_id"], "fund": fund["code"], "amount": "10.00",
              "currency": "EUR"}
    params.update(kw)
    return api.ok("contribution.receive", params)


def test_receipt_value_date_is_received_at(api):
    f = new_fund(api)
    p = new_partner(api)
    c1 = _receive(api, f, p, received_at="2026-10-05")
    c2 = _receive(api, f, p, received_at="2026-10-07T09:30:00.25Z")
    c3 = _receive(api, f, p)
    by_ref = {e["memo"].split()[-1]: e for e in _entries(api, f["code"], "receipt")}
    assert by_ref[c1["contribution_id"]]["value_date"] == "2026-10-05T00:00:00.000000Z"
    assert by_ref[c2["contribution_id"]]["value_date"] == "2026-10-07T09:30:00.250000Z"
    assert by_ref[c3["contribution_id"]]["value_date"] == c3["received_at"]


def test_batched_receipts_each_keep_their_value_date(api):
    f = new_fund(api)
    p = new_partner(api)
    days = ["2026-09-%02d" % d for d in range(1, 11)]
    docs = api.batch([("contribution.receive", {
        "partner_id": p["partner_id"], "fund": f["code"], "amount": "1.00", "currency": "EUR",
        "received_at": d, "idempotency_key": uniq("k")}) for d in days])
    ids = [d["result"]["contribution_id"] for d in docs]
    by_ref = {e["memo"].split()[-1]: e for e in _entries(api, f["code"], "receipt")}
    assert [by_ref[i]["value_date"] for i in ids] == [d + "T00:00:00.000000Z" for d in days]


def test_pledge_receipt_and_cancel_value_dates(api):
    f = new_fund(api)
    p = new_partner(api)
    base = {"partner_id": p["partner_id"], "fund": f["code"], "amount": "50.00",
            "currency": "EUR"}
    kept = api.ok("contribution.pledge", base)
    dropped = api.ok("contribution.pledge", base)
    api.ok("contribution.receive", {"contribution_id": kept["contribution_id"],
                                    "received_at": "2026-08-14"})
    gone = api.ok("contribution.cancel", {"contribution_id": dropped["contribution_id"],
                                          "reason": "donor withdrew"})
    pledges = _entries(api, f["code"], "pledge")
    assert sorted(e["value_date"] for e in pledges) == sorted(
        [kept["pledged_at"], dropped["pledged_at"]])
    [rec] = _entries(api, f["code"], "receipt")
    assert rec["value_date"] == "2026-08-14T00:00:00.000000Z"
    [cancel] = _entries(api, f["code"], "pledge_cancel")
    assert cancel["value_date"] == gone["cancelled_at"]


def test_payment_value_date_is_paid_at(api, appr, checker):
    f = funded_fund(api, "1000.00")
    g = approved_grant(api, appr, f, "100.00")
    d = confirm(checker, create(api, g, "40.00"), paid_at="2026-11-03")
    [e] = _entries(api, f["code"], "disbursement")
    assert e["value_date"] == "2026-11-03T00:00:00.000000Z" == d["paid_at"]
    [c] = _entries(api, f["code"], "commitment")
    assert _near_now(c["value_date"]), c


@pytest.mark.parametrize("period,value_date", [
    ("2026-Q3", "2026-09-30"), ("2026-Q1", "2026-03-31"), ("2025-Q4", "2025-12-31"),
    ("2025", "2025-12-31"), ("2026-H1", "2026-06-30"), ("2025-H2", "2025-12-31"),
    ("2026-02", "2026-02-28"), ("2024-02", "2024-02-29"), ("2026-09-15", "2026-09-15"),
])
def test_earnings_default_to_the_end_of_their_period(api, period, value_date):
    f = new_fund(api, kind="endowment")
    res = api.ok("fund.record_earnings", {"code": f["code"], "amount": "1.00",
                                          "period": period})
    [e] = _entries(api, f["code"], "earnings")
    assert e["entry_id"] == res["entry_id"]
    assert e["value_date"] == value_date + "T00:00:00.000000Z", (period, e)


@pytest.mark.parametrize("period", ["2099-Q1", "2099", "P1", "Q3 2026", "2026-Q5", "2026-H3",
                                    "2026-13", "2026-02-30", "2026-Q3 interest"])
def test_earnings_of_a_period_to_come_or_unreadable_are_dated_now(api, period):
    f = new_fund(api, kind="endowment")
    api.ok("fund.record_earnings", {"code": f["code"], "amount": "1.00", "period": period})
    [e] = _entries(api, f["code"], "earnings")
    assert _near_now(e["value_date"]), (period, e)


def test_earnings_value_date_given(api):
    f = new_fund(api, kind="endowment")
    api.ok("fund.record_earnings", {"code": f["code"], "amount": "1.00", "period": "2026-Q3",
                                    "value_date": "2026-10-02T12:00:00Z"})
    [e] = _entries(api, f["code"], "earnings")
    assert e["value_date"] == "2026-10-02T12:00:00.000000Z"


@pytest.mark.parametrize("value_date,reason", [
    ("2099-01-01", "in_the_future"), ("2026-02-30", None), ("yesterday", None),
    ("2026-10-02T12:00:00+04:00", "not_utc"),
])
def test_earnings_bad_value_date(api, value_date, reason):
    f = new_fund(api, kind="endowment")
    api.err("fund.record_earnings", {"code": f["code"], "amount": "1.00", "period": "2026-Q3",
                                     "value_date": value_date}, -32602, field="value_date",
            reason=reason)
    assert _entries(api, f["code"], "earnings") == []


# --------------------------------------------------------------------------------------------
# fund.balance as_of from the figures per day (fl.fund_day, docs/ledger.md, Balances)

# a fund's figures per day of value date, from the journal
JOURNAL_DAYS = """
SELECT (e.value_at AT TIME ZONE 'UTC')::date AS day,
       coalesce(-sum(p.amount) FILTER (WHERE a.short = 'contributions'), 0),
       coalesce(-sum(p.amount) FILTER (WHERE a.short = 'earnings'), 0),
       coalesce(sum(p.amount) FILTER (WHERE a.short = 'pledges_receivable'), 0),
       coalesce(-sum(p.amount) FILTER (WHERE a.short = 'commitments'), 0),
       coalesce(sum(p.amount) FILTER (WHERE a.short = 'grants_disbursed'), 0),
       coalesce(sum(p.amount) FILTER (WHERE a.short IN ('bank_charges',
           'investment_losses')), 0)
  FROM fl.posting p JOIN fl.account a USING (account_id) JOIN fl.journal_entry e USING (entry_id)
 WHERE e.fund_code = '{code}' GROUP BY 1
HAVING bool_or(a.short IN ('contributions', 'earnings', 'pledges_receivable', 'commitments',
       'grants_disbursed', 'bank_charges', 'investment_losses'))
 ORDER BY 1"""

# the same from the fold's rows and the deltas not yet folded
KEPT_DAYS = """
SELECT day, sum(received), sum(earnings), sum(pledged), sum(committed), sum(disbursed),
       sum(charges)
  FROM (SELECT * FROM fl.fund_day WHERE fund_code = '{code}'
        UNION ALL SELECT fund_code, day, received, earnings, pledged, committed, disbursed,
               transferred_in, transferred_out, charges, impaired
          FROM fl.fund_delta WHERE fund_code = '{code}') x
 GROUP BY day ORDER BY day"""


def _instants(days):
    out = ["2020-01-01", "2030-01-01"]
    for d in days:
        # (from 12:00 the day is its whole less its entries after the instant)
        out += [d + "T00:00:00Z", d + "T00:00:00.000001Z", d + "T09:59:59.999999Z",
                d + "T10:00:00Z", d + "T11:59:59.999999Z", d + "T12:00:00Z",
                d + "T23:59:59.999998Z", d + "T23:59:59.999999Z"]
    return out


def _as_of_matches_journal(env, api, code, instants):
    for t in instants:
        got = api.ok("fund.balance", {"code": code, "as_of": t})
        want = json.loads(env.sql("SELECT fl.fund_balance_from_journal('%s', '%s')"
                                  % (code, t)).strip())
        assert got == want, (t, got, want)


def _folded(env, code, timeout=15):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if env.sql("SELECT count(*) FROM fl.fund_delta WHERE fund_code = '%s'"
                   % code).strip() == "0":
            return
        time.sleep(0.1)
    raise AssertionError("the deltas of %s were never folded" % code)


def test_balance_as_of_sums_days_and_the_day_itself(env, api, appr, checker):
    """fund.balance as_of adds the days before as_of's (UTC) from their kept sums and sums
    as_of's own day from its entries: equal to the whole journal's sums at every instant
    around each day's edges and within it, before the deltas are folded and after, with a
    batch whose one statement moves several days."""
    f = funded_fund(api, "500.00")
    p = new_partner(api)
    days = ["2026-07-01", "2026-07-02", "2026-07-04"]
    api.batch([("contribution.receive", {
        "partner_id": p["partner_id"], "fund": f["code"], "amount": amt, "currency": "EUR",
        "received_at": at, "idempotency_key": uniq("k")}) for amt, at in [
            ("10.00", "2026-07-01"), ("20.00", "2026-07-01T10:00:00Z"),
            ("40.00", "2026-07-01T23:59:59.999999Z"), ("80.00", "2026-07-02T00:00:00Z"),
            ("160.00", "2026-07-04T09:59:59.999999Z")]])
    api.ok("fund.record_earnings", {"code": f["code"], "amount": "7.00", "period": "2026-07",
                                    "value_date": "2026-07-02T10:00:00Z"})
    api.ok("fund.record_earnings", {"code": f["code"], "amount": "3.00", "period": "2026-07",
                                    "kind": "fee", "value_date": "2026-07-04T10:00:00Z"})
    g = approved_grant(api, appr, f, "100.00")
    confirm(checker, create(api, g, "60.00"), paid_at="2026-07-02T10:00:00Z")
    instants = _instants(days)
    _as_of_matches_journal(env, api, f["code"], instants)
    _folded(env, f["code"])
    _as_of_matches_journal(env, api, f["code"], instants)
    # the kept days are the journal's days
    assert env.sql(KEPT_DAYS.format(code=f["code"])) == \
        env.sql(JOURNAL_DAYS.format(code=f["code"]))
    assert env.sql("SELECT count(*) FROM fl.fund_day WHERE fund_code = '%s' AND day IN "
                   "('2026-07-01', '2026-07-02', '2026-07-04')" % f["code"]).strip() == "3"
    # as of the last instant, the current figures
    now = api.ok("fund.balance", {"code": f["code"]})
    assert api.ok("fund.balance", {"code": f["code"], "as_of": "2030-01-01"}) == now


def test_fund_day_is_the_journal_for_every_fund(env, api):
    """After every test before it in this file, each fund's kept days (fold and unfolded
    deltas) sum per day to what its journal entries of that day move."""
    api.ok("fund.balance", {"code": funded_fund(api, "1.00")["code"]})
    bad = env.sql("""
WITH j AS (SELECT e.fund_code, (e.value_at AT TIME ZONE 'UTC')::date AS day,
                  coalesce(-sum(p.amount) FILTER (WHERE a.short = 'contributions'), 0) AS rec,
                  coalesce(sum(p.amount) FILTER (WHERE a.short = 'grants_disbursed'), 0) AS dis,
                  coalesce(-sum(p.amount) FILTER (WHERE a.short = 'commitments'), 0) AS com
             FROM fl.posting p JOIN fl.account a USING (account_id)
             JOIN fl.journal_entry e USING (entry_id)
            WHERE e.fund_code IS NOT NULL GROUP BY 1, 2),
     k AS (SELECT fund_code, day, sum(received) AS rec, sum(disbursed) AS dis,
                  sum(committed) AS com
             FROM (SELECT fund_code, day, received, disbursed, committed FROM fl.fund_day
                   UNION ALL SELECT fund_code, day, received, disbursed, committed
                     FROM fl.fund_delta WHERE day IS NOT NULL) x GROUP BY 1, 2)
SELECT count(*) FROM j FULL JOIN k USING (fund_code, day)
 WHERE (coalesce(j.rec, 0), coalesce(j.dis, 0), coalesce(j.com, 0))
       IS DISTINCT FROM (coalesce(k.rec, 0), coalesce(k.dis, 0), coalesce(k.com, 0))""")
    assert bad.strip() == "0"
