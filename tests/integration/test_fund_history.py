"""fund.history (docs/protocol.md): a fund's figures at the end of each day, week or month
of a range, each the figures fund.balance as_of gives at that instant."""

import json

import pytest

from fl.client import new_client
from fl.env import uniq
from fl.grants import approved_grant, confirm, create
from fl.ledger import new_fund, new_partner

FIGURES = ("received", "earnings", "pledged", "committed", "disbursed", "transferred_in",
           "transferred_out", "charges", "capital_impaired", "available")


@pytest.fixture
def checker(daemon, admin):
    with new_client(daemon, admin, ["admin"], "hchk") as a:
        yield a


def _history_fund(api, appr, checker):
    f = new_fund(api, dual="100000")
    p = new_partner(api)
    api.batch([("contribution.receive", {
        "partner_id": p["partner_id"], "fund": f["code"], "amount": amt, "currency": "EUR",
        "received_at": at, "idempotency_key": uniq("h")}) for amt, at in [
            ("100.00", "2026-01-30"), ("20.00", "2026-02-02T10:00:00Z"),
            ("40.00", "2026-02-28T23:59:59.999999Z"), ("80.00", "2026-03-09T00:00:00Z")]])
    api.ok("contribution.pledge", {"partner_id": p["partner_id"], "fund": f["code"],
                                   "amount": "50.00", "currency": "EUR",
                                   "pledged_at": "2026-02-15T08:00:00Z"})
    api.ok("fund.record_earnings", {"code": f["code"], "amount": "3.00", "period": "2026-02",
                                    "kind": "fee", "value_date": "2026-02-20T10:00:00Z"})
    g = approved_grant(api, appr, f, "60.00")
    confirm(checker, create(api, g, "25.00"), paid_at="2026-03-01T12:00:00Z")
    return f


def _matches_as_of(api, f, h):
    for pt in h["points"]:
        want = api.ok("fund.balance", {"code": f["code"], "as_of": pt["as_of"]})
        assert {k: pt[k] for k in FIGURES} == {k: want[k] for k in FIGURES}, (pt, want)


def test_history_per_day_week_and_month_is_balance_as_of(api, appr, checker):
    f = _history_fund(api, appr, checker)
    day = api.ok("fund.history", {"code": f["code"], "from": "2026-02-01",
                                  "to": "2026-03-10"})
    assert day["grain"] == "day" and day["currency"] == "EUR" and day["code"] == f["code"]
    assert len(day["points"]) == 38
    first, last = day["points"][0], day["points"][-1]
    assert (first["period"], first["until"], first["as_of"]) == (
        "2026-02-01", "2026-02-01", "2026-02-01T23:59:59.999999Z"), first
    # the days before the range are in its first point
    assert first["received"] == "100.00", first
    assert last["received"] == "240.00" and last["disbursed"] == "25.00", last
    _matches_as_of(api, f, day)
    week = api.ok("fund.history", {"code": f["code"], "from": "2026-02-01",
                                   "to": "2026-03-10", "grain": "week"})
    assert [p["period"] for p in week["points"]] == [
        "2026-W05", "2026-W06", "2026-W07", "2026-W08", "2026-W09", "2026-W10", "2026-W11"]
    assert week["points"][-1]["until"] == "2026-03-10", week["points"][-1]
    _matches_as_of(api, f, week)
    month = api.ok("fund.history", {"code": f["code"], "from": "2026-01-15",
                                    "to": "2026-03-31", "grain": "month"})
    assert [(p["period"], p["until"]) for p in month["points"]] == [
        ("2026-01", "2026-01-31"), ("2026-02", "2026-02-28"), ("2026-03", "2026-03-31")]
    assert [p["received"] for p in month["points"]] == ["100.00", "160.00", "240.00"]
    assert month["points"][1]["pledged"] == "50.00" and \
        month["points"][1]["charges"] == "3.00"
    _matches_as_of(api, f, month)
    # a range before anything happened: zeros
    empty = api.ok("fund.history", {"code": f["code"], "from": "2025-01-01",
                                    "to": "2025-01-03"})
    assert [p["received"] for p in empty["points"]] == ["0.00"] * 3


def test_history_refusals(api, aud, appr):
    f = new_fund(api)
    aud.ok("fund.history", {"code": f["code"], "from": "2026-01-01", "to": "2026-01-02"})
    api.err("fund.history", {"code": f["code"], "from": "2026-02-01", "to": "2026-01-31"},
            -32602, field="to", reason="end_before_start")
    e = api.err("fund.history", {"code": f["code"], "from": "2016-01-01", "to": "2026-01-31"},
                -32602, field="to", reason="range_too_long")
    assert e["data"]["max_days"] == 3660, e
    # ten years by month is fine
    h = api.ok("fund.history", {"code": f["code"], "from": "2016-01-01", "to": "2026-01-31",
                                "grain": "month"})
    assert len(h["points"]) == 121
    e = api.err("fund.history", {"code": f["code"], "from": "2026-01-01", "to": "2026-01-02",
                                 "grain": "hour"}, -32602, field="grain")
    assert e["data"]["allowed"] == ["day", "week", "month"], e
    api.err("fund.history", {"code": "NO-SUCH", "from": "2026-01-01", "to": "2026-01-02"},
            -32004, field="code", reason="fund_not_found")


def test_balance_as_of_within_an_hour_folded_or_not(env, api):
    """fund.balance as_of an instant adds the kept days, the kept hours of its day before its
    hour and that hour's entries up to it (or the whole hour less its entries after it,
    in the hour's second half): equal to the journal's sums at every instant around the
    entries, before and after the fold, and the kept hours equal the journal's per hour."""
    f = new_fund(api, dual="100000")
    p = new_partner(api)
    ats = ["2026-04-10T04:59:59.999999Z", "2026-04-10T05:00:00Z", "2026-04-10T05:10:00Z",
           "2026-04-10T05:40:00Z", "2026-04-10T05:59:59.999999Z", "2026-04-10T06:20:00Z",
           "2026-04-11T00:00:00Z"]
    api.batch([("contribution.receive", {
        "partner_id": p["partner_id"], "fund": f["code"], "amount": "%d.00" % (2 ** i),
        "currency": "EUR", "received_at": at, "idempotency_key": uniq("hr")})
        for i, at in enumerate(ats)])
    points = ats + ["2026-04-10T00:00:00Z", "2026-04-10T05:09:59.999999Z",
                    "2026-04-10T05:29:59Z", "2026-04-10T05:30:00Z", "2026-04-10T05:45:00Z",
                    "2026-04-10T06:00:00Z", "2026-04-10T06:59:59.999999Z",
                    "2026-04-10T23:59:59.999999Z", "2026-04-12T00:00:00Z"]

    def check():
        for t in points:
            got = api.ok("fund.balance", {"code": f["code"], "as_of": t})
            want = json.loads(env.sql("SELECT fl.fund_balance_from_journal('%s', '%s')"
                                      % (f["code"], t)))
            assert {k: got[k] for k in FIGURES} == {k: want[k] for k in FIGURES}, (t, got)

    check()     # (the deltas may not be folded yet)
    env.sql("SELECT fl.fund_fold('%s')" % f["code"])
    check()
    hours = env.sql(
        "SELECT day || ' ' || hour || ' ' || received FROM fl.fund_hour "
        "WHERE fund_code = '%s' ORDER BY day, hour" % f["code"]).split()
    assert " ".join(hours) == ("2026-04-10 4 100 2026-04-10 5 3000 2026-04-10 6 3200 "
                               "2026-04-11 0 6400"), hours
    # the earliest receipt: 1.00 at 04:59:59.999999; 2 + 4 + 8 + 16 at 05:xx; 32 at 06:20
    assert api.ok("fund.balance", {"code": f["code"],
                                   "as_of": "2026-04-10T05:45:00Z"})["received"] == "15.00"
