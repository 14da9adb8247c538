"""Totals: each amount is at most 10^17 minor units, and no call may take a stored total past
what bigint holds; a fund whose fold fails does not stop the fold of the others
(docs/ledger.md, Totals)."""

import hashlib
import json

from fl.client import api_of, assert_error, http_get, race
from fl.db import psql, psql_ok, sql_lit
from fl.grants import apply, new_returnee
from fl.ledger import minor, new_fund, new_partner

MAX = 9223372036854775807           # what bigint holds
TOP = "1000000000000000.00"         # 10^17 minor units of EUR, the largest amount


def _call_many(env, admin, calls):
    """calls: [(method, params)] as one api.call_many() statement, one transaction, as the
    daemon sends a batch; returns each call's answer."""
    h = "'\\x%s'::bytea" % hashlib.sha256(admin.encode()).hexdigest()
    n = len(calls)
    args = ", ".join([
        "ARRAY[%s]" % ", ".join([h] * n),
        "ARRAY[%s]::bytea[]" % ", ".join(["NULL"] * n),
        "ARRAY[%s]" % ", ".join(sql_lit(m) for m, _ in calls),
        "ARRAY[%s]::jsonb[]" % ", ".join(sql_lit(json.dumps(p)) for _, p in calls),
        "ARRAY[%s]::text[]" % ", ".join(["NULL"] * n),
        "ARRAY[%s]::jsonb[]" % ", ".join(["'{}'"] * n)])
    out = psql_ok(env, "SELECT r FROM api.call_many(%s) AS r;" % args)
    return [json.loads(line) for line in out.split("\n") if line]


def _receipts(pa, code, n, amount=TOP):
    return [("contribution.receive", {"partner_id": pa, "fund": code, "amount": amount,
                                      "currency": "EUR"}) for _ in range(n)]


def _fold(env):
    """fl.fold_all() as the daemon runs it: (its result, psql's stderr)."""
    p = psql(env, "SELECT fl.fold_all();")
    assert p.returncode == 0, p.stderr
    return int(p.stdout.strip()), p.stderr


def test_a_batch_of_93_receipts_of_the_largest_amount(env, daemon, api, approver):
    """92 fit in received (92 * 10^17 <= 2^63 - 1); the 93rd is refused and writes nothing,
    the others keep their answers. Afterwards the fund's balance, a grant approval on it,
    the trial balance of every currency, the export and the fold all work."""
    f = new_fund(api)
    pa = new_partner(api)["partner_id"]
    docs = _call_many(env, api.token, _receipts(pa, f["code"], 93))
    assert all("result" in d for d in docs[:92]), [d for d in docs[:92] if "result" not in d]
    err = docs[92]["error"]
    assert (err["code"], err["data"]) == (-32602, {"reason": "total_limit",
                                                   "field": "amount"}), docs[92]
    n = env.sql("SELECT count(*) FROM fl.contribution WHERE fund_code = %s"
                % sql_lit(f["code"])).strip()
    assert n == "92", n
    # one at a time, as the daemon runs calls alone, the same
    assert_error(api.reply("contribution.receive", _receipts(pa, f["code"], 1)[0][1]),
                 -32602, field="amount", reason="total_limit")
    # the largest amount that still fits is taken
    room = MAX - 92 * 10 ** 17
    api.ok("contribution.receive", {"partner_id": pa, "fund": f["code"],
                                    "amount": "%d.%02d" % divmod(room, 100),
                                    "currency": "EUR"})
    assert_error(api.reply("contribution.receive", {"partner_id": pa, "fund": f["code"],
                                                    "amount": "0.01", "currency": "EUR"}),
                 -32602, field="amount", reason="total_limit")
    # earnings count with received
    assert_error(api.reply("fund.record_earnings", {"code": f["code"], "amount": "0.01",
                                                    "period": "Q"}),
                 -32602, field="amount", reason="total_limit")

    bal = api.ok("fund.balance", {"code": f["code"]})
    assert minor(bal["received"], "EUR") == MAX, bal
    assert json.loads(env.sql("SELECT fl.fund_balance_from_journal(%s)"
                              % sql_lit(f["code"]))) == bal

    g = apply(api, f, "100.00", returnee=new_returnee(api))
    with api_of(daemon, approver) as ap:
        g2 = ap.ok("grant.approve", {"grant_id": g["grant_id"], "comment": "fine"})
    assert g2["status"] == "approved", g2
    bal = api.ok("fund.balance", {"code": f["code"]})
    assert minor(bal["committed"], "EUR") == 10000, bal

    # a second fund takes the currency's turnover past bigint: still exact
    f2 = new_fund(api)
    assert all("result" in d for d in _call_many(env, api.token,
                                                 _receipts(pa, f2["code"], 10)))
    tb = api.ok("ledger.trial_balance", {"currency": "EUR"})
    currencies = [t["currency"] for t in tb["totals_by_currency"]]
    for cur in currencies:
        t = api.ok("ledger.trial_balance", {"currency": cur})
        debit = sum(minor(a["debit"], cur) for a in t["accounts"])
        credit = sum(minor(a["credit"], cur) for a in t["accounts"])
        assert (minor(t["totals"]["debit"], cur), minor(t["totals"]["credit"], cur)) == \
            (debit, credit), cur
        assert debit == credit, cur
        if cur == "EUR":
            assert debit > MAX, t["totals"]
    rows = {a["account"]: a for a in tb["accounts"]}
    assert minor(rows[f["code"] + ":cash"]["debit"], "EUR") == MAX
    assert minor(rows[f2["code"] + ":cash"]["debit"], "EUR") == 10 ** 18

    status, _, body = http_get(daemon, "/export/ledger?format=jsonl", token=api.token,
                               timeout=120)
    assert status == 200
    cash = [json.loads(line) for line in body.decode().splitlines()
            if ('"%s:cash"' % f["code"]) in line]
    assert sum(minor(r["amount"], "EUR") for r in cash) == MAX

    _fold(env)
    assert env.sql("SELECT count(*) FROM fl.fund_delta WHERE fund_code IN (%s, %s)"
                   % (sql_lit(f["code"]), sql_lit(f2["code"]))).strip() == "0"
    assert env.sql("SELECT received FROM fl.fund WHERE code = %s"
                   % sql_lit(f["code"])).strip() == str(MAX)


def test_concurrent_receipts_never_pass_the_limit(env, daemon, api):
    """Near the limit, receipts racing each other: exactly as many as fit succeed."""
    f = new_fund(api)
    pa = new_partner(api)["partner_id"]
    assert all("result" in d for d in _call_many(env, api.token,
                                                 _receipts(pa, f["code"], 90)))
    calls = [(api.token, "contribution.receive", p) for _, p in _receipts(pa, f["code"], 6)]
    docs = race(daemon, calls)
    ok = [d for d in docs if "result" in d]
    assert len(ok) == 2, docs
    for d in docs:
        if "result" not in d:
            assert_error(d, -32602, field="amount", reason="total_limit")
    bal = api.ok("fund.balance", {"code": f["code"]})
    assert minor(bal["received"], "EUR") == 92 * 10 ** 17, bal


def test_one_funds_broken_fold_does_not_stop_the_others(env, daemon, api):
    """Deltas past what bigint holds (a state only a database written before the check can
    be in, made here as the schema owner) keep that fund from folding; the other funds are
    folded all the same."""
    bad = new_fund(api)
    good = new_fund(api)
    pa = new_partner(api)["partner_id"]
    api.ok("contribution.receive", {"partner_id": pa, "fund": good["code"],
                                    "amount": "3.00", "currency": "EUR"})
    # deltas come from postings only (fl.fund_delta_guard): the guard is off for this one
    psql_ok(env, "BEGIN;\nALTER TABLE fl.fund_delta DISABLE TRIGGER fund_delta_guard;\n"
                 "INSERT INTO fl.fund_delta (fund_code, received, earnings, pledged, "
                 "committed, disbursed) VALUES (%s, %d, 0, 0, 0, 0), (%s, %d, 0, 0, 0, 0);\n"
                 "ALTER TABLE fl.fund_delta ENABLE TRIGGER fund_delta_guard;\nCOMMIT;\n"
            % (sql_lit(bad["code"]), MAX, sql_lit(bad["code"]), MAX))
    try:
        _, err = _fold(env)
        assert bad["code"] in err and "breaks" in err, err
        assert env.sql("SELECT received FROM fl.fund WHERE code = %s"
                       % sql_lit(good["code"])).strip() == "300"
        assert env.sql("SELECT count(*) FROM fl.fund_delta WHERE fund_code = %s"
                       % sql_lit(good["code"])).strip() == "0"
        # nothing more goes into the broken fund's totals
        assert_error(api.reply("contribution.receive", {"partner_id": pa,
                                                        "fund": bad["code"],
                                                        "amount": "0.01", "currency": "EUR"}),
                     -32602, field="amount", reason="total_limit")
    finally:
        psql_ok(env, "DELETE FROM fl.fund_delta WHERE fund_code = %s;" % sql_lit(bad["code"]))
