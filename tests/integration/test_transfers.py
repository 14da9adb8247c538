"""fund.transfer, .transfer_confirm, .transfer_cancel, .transfer_get, .transfer_list
(docs/protocol.md; docs/ledger.md, Transfers between funds): maker and checker, the source's
available balance at confirmation (also under concurrency, with grant approvals), an
endowment's capital never leaving, both sides journaled each in its fund's currency, fund
figures equal to the journal's, two confirmations moving money once, the database's own
guards, the donor's view of an endowment contribution across a transfer down to grants, and
fundctl."""

import json

import pytest

from fl.client import assert_error, create_principal, new_client, race, rpc
from fl.db import psql, sql_lit
from fl.env import fundctl, uniq
from fl.ledger import (FUND_ACCOUNTS, balance, check_entry, expected_balance, fund_entries, journal_figures,
                       new_fund, new_partner)
from fl.grants import apply, funded_fund, new_returnee


@pytest.fixture(scope="module")
def checker(daemon, admin):
    """A second admin: confirms what the module's admin (api) makes."""
    with new_client(daemon, admin, ["admin"], "checker") as a:
        yield a


def make(api, src, dst, amount, **kw):
    p = {"from": src["code"], "to": dst["code"], "amount": amount, "memo": "earnings to SGF"}
    p.update(kw)
    t = api.ok("fund.transfer", p)
    assert t["status"] == "pending" and t["transfer_id"].startswith("tr_"), t
    return t


def figures_match_journal(api, code):
    """fund.balance equals what the fund's journal entries sum to, and the database's own
    recomputation from the postings."""
    b = api.ok("fund.balance", {"code": code})
    cur = b["currency"]
    got = balance(api, code, cur)
    jf = journal_figures(fund_entries(api, code, FUND_ACCOUNTS), code)
    for k in ("received", "earnings", "pledged", "committed", "disbursed", "transferred_in",
              "transferred_out"):
        assert got[k] == jf[k], (code, k, got, jf)
    return got


def test_same_currency_transfer_moves_money_once(api, checker):
    src = funded_fund(api, received="1000.00")
    dst = new_fund(api, currency="EUR")
    t = make(api, src, dst, "250.00")
    assert (t["from"], t["to"], t["amount"], t["currency"], t["to_amount"], t["to_currency"],
            t["fx_rate"], t["out_entry_id"]) == (src["code"], dst["code"], "250.00", "EUR",
                                                  "250.00", "EUR", None, None), t
    # pending: nothing moved
    assert balance(api, src["code"], "EUR")["available"] == 100000
    c = checker.ok("fund.transfer_confirm", {"transfer_id": t["transfer_id"]})
    assert (c["status"], c["decided_by"]) == ("confirmed", checker.pid), c
    assert c["out_entry_id"] and c["in_entry_id"], c
    assert balance(api, src["code"], "EUR") == expected_balance(
        "pass_through", received=100000, transferred_out=25000)
    assert balance(api, dst["code"], "EUR") == expected_balance(
        "pass_through", transferred_in=25000)
    # a second confirmation is refused and moves nothing
    checker.err("fund.transfer_confirm", {"transfer_id": t["transfer_id"]}, -32009,
                reason="wrong_state")
    assert balance(api, dst["code"], "EUR")["transferred_in"] == 25000
    for code in (src["code"], dst["code"]):
        figures_match_journal(api, code)
    # the two entries: each balanced, in its fund's currency, through the transfer accounts
    out = [e for e in fund_entries(api, src["code"], FUND_ACCOUNTS) if e["kind"] == "transfer_out"]
    inn = [e for e in fund_entries(api, dst["code"], FUND_ACCOUNTS) if e["kind"] == "transfer_in"]
    assert len(out) == 1 and len(inn) == 1, (out, inn)
    for e in out + inn:
        check_entry(e)
    assert {(p["account"], p["amount"]) for p in out[0]["postings"]} == {
        (src["code"] + ":transfers_out", "250.00"), (src["code"] + ":cash", "-250.00")}
    assert {(p["account"], p["amount"]) for p in inn[0]["postings"]} == {
        (dst["code"] + ":cash", "250.00"), (dst["code"] + ":transfers_in", "-250.00")}
    assert out[0]["entry_id"] == c["out_entry_id"] and inn[0]["entry_id"] == c["in_entry_id"]


def test_endowment_earnings_to_another_currency_never_capital(api, checker):
    # the diaspora endowment keeps EUR capital; its earnings finance AMD grants
    endow = funded_fund(api, received="10000.00", kind="endowment", earnings="300.00")
    sgf = new_fund(api, currency="AMD")
    big = make(api, endow, sgf, "300.01", fx_rate="420.5")
    doc = checker.reply("fund.transfer_confirm", {"transfer_id": big["transfer_id"]})
    assert_error(doc, -32010, field="transfer_id", reason="insufficient_funds")
    assert doc["error"]["data"]["available"] == "300.00", doc
    assert checker.ok("fund.transfer_get", {"transfer_id": big["transfer_id"]})["status"] == "pending"
    # 123.45 EUR x 420.5 = 51910.7225 AMD -> 51910.72 (half to even)
    t = make(api, endow, sgf, "123.45", fx_rate="420.5")
    assert (t["to_amount"], t["to_currency"], t["fx_rate"]) == ("51910.72", "AMD", "420.5")
    checker.ok("fund.transfer_confirm", {"transfer_id": t["transfer_id"]})
    assert balance(api, endow["code"], "EUR") == expected_balance(
        "endowment", received=1000000, earnings=30000, transferred_out=12345)
    assert balance(api, sgf["code"], "AMD") == expected_balance(
        "pass_through", transferred_in=5191072)
    # what is left of the earnings, and not a cent of capital
    doc = checker.reply("fund.transfer_confirm", {"transfer_id": big["transfer_id"]})
    assert doc["error"]["data"]["available"] == "176.55", doc
    for code in (endow["code"], sgf["code"]):
        figures_match_journal(api, code)


def test_maker_checker_roles_and_cancel(daemon, admin, api, checker, appr, aud):
    src = funded_fund(api, received="100.00")
    dst = new_fund(api)
    t = make(api, src, dst, "10.00")
    api.err("fund.transfer_confirm", {"transfer_id": t["transfer_id"]}, -32011,
            field="transfer_id", reason="same_maker_and_checker")
    aud.err("fund.transfer_confirm", {"transfer_id": t["transfer_id"]}, -32003)
    appr.err("fund.transfer", {"from": src["code"], "to": dst["code"], "amount": "1",
                               "memo": "m"}, -32003)
    appr.err("fund.transfer_cancel", {"transfer_id": t["transfer_id"], "reason": "x"}, -32003)
    # an approver may confirm
    assert appr.ok("fund.transfer_confirm", {"transfer_id": t["transfer_id"]})["status"] == \
        "confirmed"
    api.err("fund.transfer_cancel", {"transfer_id": t["transfer_id"], "reason": "late"},
            -32009, reason="wrong_state")
    t2 = make(api, src, dst, "20.00")
    c = api.ok("fund.transfer_cancel", {"transfer_id": t2["transfer_id"], "reason": "typo"})
    assert (c["status"], c["cancel_reason"], c["decided_by"]) == ("cancelled", "typo", api.pid)
    checker.err("fund.transfer_confirm", {"transfer_id": t2["transfer_id"]}, -32009,
                reason="wrong_state")
    assert balance(api, src["code"], "EUR")["transferred_out"] == 1000
    # reads
    got = aud.ok("fund.transfer_list", {"fund": dst["code"]})["transfers"]
    assert [(x["transfer_id"], x["status"]) for x in got] == [
        (t["transfer_id"], "confirmed"), (t2["transfer_id"], "cancelled")], got
    got = aud.ok("fund.transfer_list", {"fund": src["code"], "status": "cancelled"})
    assert [x["transfer_id"] for x in got["transfers"]] == [t2["transfer_id"]]
    api.err("fund.transfer_get", {"transfer_id": "tr_" + "0" * 20}, -32004,
            field="transfer_id", reason="transfer_not_found")
    partner = create_principal(daemon, admin, ["partner"],
                               partner_id=new_partner(api)["partner_id"])
    doc = rpc(daemon, partner["token"], "fund.transfer_list", {})[1]
    assert_error(doc, -32003)


@pytest.mark.parametrize("params,code,field,reason", [
    ({"amount": "1.00"}, -32602, "fx_rate", "required_for_another_currency"),
    ({"amount": "0.001", "fx_rate": "0.4"}, -32602, "amount", None),
    ({"amount": "0.01", "fx_rate": "0.4"}, -32602, "amount", "rounds_to_zero"),
    ({"amount": "0", "fx_rate": "1"}, -32602, "amount", None),
    ({"amount": "1.00", "fx_rate": "0"}, -32602, "fx_rate", None),
])
def test_bad_cross_currency_params(api, params, code, field, reason):
    src = funded_fund(api, received="100.00")
    dst = new_fund(api, currency="JPY")
    p = dict({"from": src["code"], "to": dst["code"], "memo": "m"}, **params)
    api.err("fund.transfer", p, code, field=field, reason=reason)


def test_bad_transfers(api):
    src = funded_fund(api, received="100.00")
    same = new_fund(api)
    endow = new_fund(api, kind="endowment")
    base = {"from": src["code"], "to": same["code"], "amount": "1.00", "memo": "m"}
    api.err("fund.transfer", dict(base, fx_rate="1.1"), -32602, field="fx_rate",
            reason="not_for_the_fund_currency")
    api.err("fund.transfer", dict(base, to=src["code"]), -32602, field="to", reason="same_fund")
    api.err("fund.transfer", dict(base, to=endow["code"]), -32602, field="to",
            reason="to_endowment")
    api.err("fund.transfer", dict(base, to="NOPE-" + uniq("X").upper()[:20]), -32004,
            field="to", reason="fund_not_found")
    api.err("fund.transfer", dict(base, **{"from": "NOPE-X"}), -32004, field="from",
            reason="fund_not_found")
    api.err("fund.transfer", {k: v for k, v in base.items() if k != "memo"}, -32602,
            field="memo")
    api.err("fund.transfer", dict(base, amount=1), -32602, field="amount")


def test_idempotent_and_audited(api, checker, aud):
    src = funded_fund(api, received="100.00")
    dst = new_fund(api)
    key = uniq("tr")
    p = {"from": src["code"], "to": dst["code"], "amount": "5.00", "memo": "m",
         "idempotency_key": key}
    a = api.ok("fund.transfer", p)
    b = api.ok("fund.transfer", p)
    assert a == b
    assert len(api.ok("fund.transfer_list", {"fund": src["code"]})["transfers"]) == 1
    api.err("fund.transfer_confirm", {"transfer_id": a["transfer_id"]}, -32011)
    ck = {"transfer_id": a["transfer_id"], "idempotency_key": uniq("tc")}
    c1 = checker.ok("fund.transfer_confirm", ck)
    c2 = checker.ok("fund.transfer_confirm", ck)
    assert c1 == c2
    assert balance(api, dst["code"], "EUR")["transferred_in"] == 500
    mine, seq = [], 1
    while True:         # every page: the events of this transfer, in order
        page = aud.ok("audit.events", {"from_seq": seq, "limit": 1000})["events"]
        mine += [(e["method"], e["outcome"], e["error_code"]) for e in page
                 if e["object_id"] == a["transfer_id"]]
        if len(page) < 1000:
            break
        seq = page[-1]["seq"] + 1
    assert mine == [("fund.transfer", "ok", None),
                    ("fund.transfer_confirm", "refused", -32011),
                    ("fund.transfer_confirm", "ok", None)], mine


def test_two_confirmations_move_money_once(daemon, admin, api):
    c1 = create_principal(daemon, admin, ["admin"])
    c2 = create_principal(daemon, admin, ["approver"])
    for _ in range(3):
        src = funded_fund(api, received="100.00")
        dst = new_fund(api, currency="USD")
        t = make(api, src, dst, "60.00", fx_rate="1.1")
        docs = race(daemon, [(c1["token"], "fund.transfer_confirm",
                              {"transfer_id": t["transfer_id"]}),
                             (c2["token"], "fund.transfer_confirm",
                              {"transfer_id": t["transfer_id"]})])
        ok = [d for d in docs if "result" in d]
        assert len(ok) == 1, docs
        bad = [d for d in docs if "error" in d][0]
        assert_error(bad, -32009, reason="wrong_state")
        assert balance(api, src["code"], "EUR")["transferred_out"] == 6000
        assert balance(api, dst["code"], "USD")["transferred_in"] == 6600
        figures_match_journal(api, src["code"])
        figures_match_journal(api, dst["code"])


def test_concurrent_transfers_and_approvals_never_overdraw(daemon, admin, api):
    src = funded_fund(api, received="100.00")
    dst = new_fund(api)
    checkers = [create_principal(daemon, admin, ["admin", "approver"]) for _ in range(2)]
    ts = [make(api, src, dst, "30.00") for _ in range(4)]
    gs = [apply(api, src, amount="30.00") for _ in range(4)]
    calls = []
    for i, t in enumerate(ts):
        calls.append((checkers[i % 2]["token"], "fund.transfer_confirm",
                      {"transfer_id": t["transfer_id"]}))
    for i, g in enumerate(gs):
        calls.append((checkers[i % 2]["token"], "grant.approve", {"grant_id": g["grant_id"]}))
    docs = race(daemon, calls)
    ok = [d for d in docs if "result" in d]
    assert len(ok) == 3, docs            # 3 x 30.00 of 100.00
    for d in docs:
        if "error" in d:
            assert_error(d, -32010, reason="insufficient_funds")
            assert d["error"]["data"]["available"] == "10.00", d
    b = figures_match_journal(api, src["code"])
    assert b["available"] == 1000 and b["transferred_out"] + b["committed"] == 9000, b


def test_database_guards(env, api, checker):
    src = funded_fund(api, received="100.00")
    dst = new_fund(api)
    endow = new_fund(api, kind="endowment")
    t = make(api, src, dst, "10.00")
    checker.ok("fund.transfer_confirm", {"transfer_id": t["transfer_id"]})
    tid = sql_lit(t["transfer_id"])
    for script in (
            "UPDATE fl.transfer SET amount = 1 WHERE transfer_id = %s" % tid,
            "UPDATE fl.transfer SET status = 'cancelled' WHERE transfer_id = %s" % tid,
            "DELETE FROM fl.transfer WHERE transfer_id = %s" % tid,
            # to an endowment, or with a to_amount that is not amount at the rate
            "INSERT INTO fl.transfer (from_fund, to_fund, amount, to_amount, memo, created_by)"
            " VALUES (%s, %s, 1, 1, 'm', %s)" % (sql_lit(src["code"]), sql_lit(endow["code"]),
                                                  sql_lit(api.pid)),
            "INSERT INTO fl.transfer (from_fund, to_fund, amount, to_amount, memo, created_by)"
            " VALUES (%s, %s, 1, 2, 'm', %s)" % (sql_lit(src["code"]), sql_lit(dst["code"]),
                                                  sql_lit(api.pid))):
        p = psql(env, script)
        assert p.returncode != 0, script
    # maker and checker differ in the row itself
    t2 = make(api, src, dst, "1.00")
    p = psql(env, "UPDATE fl.transfer SET status = 'confirmed', decided_at = now(), "
             "decided_by = created_by, out_entry_id = 1, in_entry_id = 1 "
             "WHERE transfer_id = %s" % sql_lit(t2["transfer_id"]))
    assert p.returncode != 0 and "check" in p.stderr.lower(), p.stderr
    # the fund row refuses taking an endowment's capital out, whoever writes
    p = psql(env, "UPDATE fl.fund SET transferred_out = 1 WHERE code = %s"
             % sql_lit(endow["code"]))
    assert p.returncode != 0 and "available_not_negative" in p.stderr, p.stderr
    out = env.sql("SELECT fl.fund_balance_json(fl.fund_current(f)) = "
                  "fl.fund_balance_from_journal(f.code) FROM fl.fund f WHERE code IN (%s, %s)"
                  % (sql_lit(src["code"]), sql_lit(dst["code"])))
    assert out.split() == ["t", "t"], out


def _pay(api, checker, appr, fund, region, amount):
    r = new_returnee(api, region=region)
    g = apply(api, fund, amount=amount, returnee=r)
    appr.ok("grant.approve", {"grant_id": g["grant_id"]})
    d = api.ok("disbursement.create", {"grant_id": g["grant_id"], "amount": amount})
    checker.ok("disbursement.confirm", {"disbursement_id": d["disbursement_id"],
                                        "bank_ref": "PAY-" + g["grant_id"]})
    return g["grant_id"]


def test_donor_follows_endowment_earnings_through_a_transfer(daemon, admin, api, checker,
                                                              appr):
    endow = new_fund(api, kind="endowment", dual="100000")
    pa, pb = new_partner(api), new_partner(api)
    ca = api.ok("contribution.receive", {"partner_id": pa["partner_id"], "fund": endow["code"],
                                         "amount": "6000.00", "currency": "EUR"})
    api.ok("contribution.receive", {"partner_id": pb["partner_id"], "fund": endow["code"],
                                    "amount": "4000.00", "currency": "EUR"})
    api.ok("fund.record_earnings", {"code": endow["code"], "amount": "500.00",
                                    "period": "2026-Q3"})
    g0 = _pay(api, checker, appr, endow, "AM-LO", "100.00")
    sgf = new_fund(api, currency="AMD", dual="100000000")
    t = make(api, endow, sgf, "200.00", fx_rate="400")
    checker.ok("fund.transfer_confirm", {"transfer_id": t["transfer_id"]})
    # the facility spends 50000 of its 80000 AMD on two grants
    g1 = _pay(api, checker, appr, sgf, "AM-SH", "30000.00")
    g2 = _pay(api, checker, appr, sgf, "AM-TV", "20000.00")
    s = api.ok("contribution.status", {"contribution_id": ca["contribution_id"]})
    # capital kept whole; 60% of the earnings; 60% of (100 paid + 200 transferred) used
    assert (s["capital"], s["capital_kept"], s["earnings_share"], s["used"], s["unused"]) == \
        ("6000.00", "6000.00", "300.00", "180.00", "120.00"), s
    assert s["allocations"] == [{"grant_id": g0, "region": "Lori", "region_code": "AM-LO",
                                 "category": "small_business", "amount": "60.00"}], s
    assert len(s["transfers"]) == 1, s
    tr = s["transfers"][0]
    assert (tr["transfer_id"], tr["to"], tr["amount"], tr["currency"], tr["to_amount"],
            tr["to_currency"]) == (t["transfer_id"], sgf["code"], "120.00", "EUR", "48000.00",
                                   "AMD"), tr
    # the transfer is all the facility received: 60% of each grant
    assert [(a["grant_id"], a["region_code"], a["category"], a["amount"])
            for a in tr["allocations"]] == [(g1, "AM-SH", "small_business", "18000.00"),
                                             (g2, "AM-TV", "small_business", "12000.00")], tr
    # the donor sees no person, and the partner sees it too
    tok = create_principal(daemon, admin, ["partner"], partner_id=pa["partner_id"])["token"]
    r, doc = rpc(daemon, tok, "contribution.status",
                 {"contribution_id": ca["contribution_id"]})
    assert doc["result"]["transfers"] == s["transfers"], doc
    body = json.dumps(doc)
    for word in ("full_name", "national_id", "returnee", "purpose"):
        assert word not in body, word


def test_fundctl_makes_confirms_cancels_and_lists(daemon, admin, api):
    src = funded_fund(api, received="100.00")
    dst = new_fund(api)
    second = create_principal(daemon, admin, ["admin"])

    def ctl(token, *args):
        p = fundctl("--url", daemon.url, "--token", token, "--cacert", daemon.env.ca,
                    "call", *args)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return json.loads(p.stdout)

    t = ctl(admin, "fund.transfer", "from=" + src["code"], "to=" + dst["code"],
            "amount=12.50", "memo=Q3 earnings")
    c = ctl(second["token"], "fund.transfer_confirm", "transfer_id=" + t["transfer_id"])
    assert c["status"] == "confirmed", c
    t2 = ctl(admin, "fund.transfer", "from=" + src["code"], "to=" + dst["code"],
             "amount=1", "memo=wrong")
    x = ctl(admin, "fund.transfer_cancel", "transfer_id=" + t2["transfer_id"], "reason=typo")
    assert x["status"] == "cancelled", x
    lst = ctl(admin, "fund.transfer_list", "fund=" + src["code"])
    assert [(y["transfer_id"], y["status"]) for y in lst["transfers"]] == [
        (t["transfer_id"], "confirmed"), (t2["transfer_id"], "cancelled")], lst
    assert balance(api, dst["code"], "EUR")["transferred_in"] == 1250


def test_fund_from_before_transfers_gets_its_accounts(env, api, checker):
    """A fund made before 0022 has eight accounts (and the three 0023 gave every fund); its
    first confirmed transfer adds transfers_in and transfers_out, once."""
    code = "OLD-" + uniq("F").upper().replace("_", "-")[:20]
    psql_ok = psql(env, """
        INSERT INTO fl.fund (code, name, currency, kind, dual_approval_above)
        VALUES (%(c)s, 'old', 'EUR', 'pass_through', 0);
        INSERT INTO fl.account (fund_code, short, name, type, currency)
        SELECT %(c)s, s, %(c)s || ':' || s, t, 'EUR' FROM (VALUES ('cash', 'asset'),
            ('pledges_receivable', 'asset'), ('pledged_contributions', 'equity'),
            ('contributions', 'equity'), ('earnings', 'income'), ('commitments', 'liability'),
            ('grants_committed', 'expense'), ('grants_disbursed', 'expense'),
            ('bank_charges', 'expense'), ('investment_losses', 'expense'),
            ('capital_impaired', 'equity')) x(s, t);
        """ % {"c": sql_lit(code)})
    assert psql_ok.returncode == 0, psql_ok.stderr
    src = funded_fund(api, received="50.00")
    old = {"code": code}
    for _ in range(2):
        t = make(api, src, old, "5.00")
        checker.ok("fund.transfer_confirm", {"transfer_id": t["transfer_id"]})
    back = make(api, old, src, "3.00")
    checker.ok("fund.transfer_confirm", {"transfer_id": back["transfer_id"]})
    assert env.sql("SELECT string_agg(short, ',' ORDER BY short) FROM fl.account WHERE "
                   "fund_code = %s AND short LIKE 'transfers%%'" % sql_lit(code)).strip() == \
        "transfers_in,transfers_out"
    assert balance(api, code, "EUR") == expected_balance("pass_through", transferred_in=1000,
                                                         transferred_out=300)
    figures_match_journal(api, code)
