"""Pledges received in parts and written off, bank fees on receipts, and fees and losses of
a fund (docs/ledger.md: Fees and losses; Pledges received in parts)."""

import json

from fl.env import uniq
from fl.client import create_principal, api_of
from fl.ledger import (balance, check_entry, expected_balance, fund_journal, journal_figures,
                       new_fund, new_partner, short_postings)


def pledge(api, fund, partner, amount, currency="EUR", **kw):
    p = {"partner_id": partner, "fund": fund, "amount": amount, "currency": currency}
    p.update(kw)
    return api.ok("contribution.pledge", p)


def receive(api, cid, **kw):
    return api.ok("contribution.receive", dict({"contribution_id": cid}, **kw))


def sql_err(env, query):
    """Runs SQL as the schema owner, expected to fail; returns what psql said."""
    p = env.devenv("psql", env.dir, "-At", "-c", query, check=False)
    assert p.returncode != 0, p.stdout
    return p.stdout + p.stderr


def from_journal(env, code):
    return json.loads(env.sql("SELECT fl.fund_balance_from_journal('%s')" % code).strip())


def same_as_journal(env, api, code, cur="EUR"):
    b = api.ok("fund.balance", {"code": code})
    assert from_journal(env, code) == b, (from_journal(env, code), b)
    figures = journal_figures(fund_journal(api, code, cur), code)
    for k in ("received", "earnings", "pledged", "committed", "disbursed", "charges",
              "capital_impaired"):
        assert balance(api, code, cur)[k] == figures[k], (k, figures)
    return b


def test_pledge_received_in_parts_with_rates_and_fee_then_written_off(env, api):
    f = new_fund(api, currency="EUR")
    code = f["code"]
    pa = new_partner(api)["partner_id"]
    c = pledge(api, code, pa, "1000.00", "USD", fx_rate="0.90",
               pledged_at="2026-09-20T10:00:00Z")
    assert c["pledged_at"] == "2026-09-20T10:00:00.000000Z"
    assert (c["received"], c["outstanding"], c["receipts"]) == ("0.00", "1000.00", [])
    assert balance(api, code, "EUR") == expected_balance("pass_through", pledged=90000)

    r1 = receive(api, c["contribution_id"], amount="400.00", fx_rate="0.92", fee="5.00",
                 received_at="2026-10-05", bank_ref="SWIFT-1")
    assert r1["status"] == "pledged" and r1["received_at"] is None
    assert (r1["received"], r1["outstanding"], r1["received_fund_amount"], r1["fee"]) == \
        ("400.00", "600.00", "368.00", "5.00")
    [p1] = r1["receipts"]
    assert (p1["amount"], p1["fx_rate"], p1["fund_amount"], p1["fee"], p1["received_at"],
            p1["bank_ref"]) == ("400.00", "0.92", "368.00", "5.00",
                                "2026-10-05T00:00:00.000000Z", "SWIFT-1")
    assert p1["receipt_id"].startswith("rc_")
    assert balance(api, code, "EUR") == expected_balance(
        "pass_through", received=36800, pledged=54000, charges=500)

    r2 = receive(api, c["contribution_id"], amount="500.00", fx_rate="0.88",
                 received_at="2026-10-20")
    assert (r2["status"], r2["received"], r2["outstanding"]) == ("pledged", "900.00", "100.00")
    assert [x["fund_amount"] for x in r2["receipts"]] == ["368.00", "440.00"]

    # the receipts' entries: the receivable cleared at the pledge's rate, gross and fee
    entries = [e for e in fund_journal(api, code) if e["kind"] == "receipt"]
    assert [short_postings(e, code) for e in entries] == [
        {"pledged_contributions": 36000, "pledges_receivable": -36000, "cash": 36300,
         "contributions": -36800, "bank_charges": 500},
        {"pledged_contributions": 45000, "pledges_receivable": -45000, "cash": 44000,
         "contributions": -44000}]
    for e in entries:
        check_entry(e)

    # a pledge with receipts is written off, not cancelled
    api.err("contribution.cancel", {"contribution_id": c["contribution_id"], "reason": "no"},
            -32009, field="contribution_id", reason="partly_received")
    w = api.ok("contribution.write_off", {"contribution_id": c["contribution_id"],
                                          "reason": "the donor's budget was cut"})
    assert (w["status"], w["outstanding"], w["received"], w["write_off_reason"]) == \
        ("written_off", "0.00", "900.00", "the donor's budget was cut")
    assert w["written_off_at"] is not None
    [wo] = [e for e in fund_journal(api, code) if e["kind"] == "pledge_write_off"]
    assert short_postings(wo, code) == {"pledged_contributions": 9000,
                                        "pledges_receivable": -9000}
    b = same_as_journal(env, api, code)
    assert (b["received"], b["pledged"], b["charges"], b["available"]) == \
        ("808.00", "0.00", "5.00", "803.00")
    api.err("contribution.receive", {"contribution_id": c["contribution_id"]}, -32009,
            reason="wrong_state")
    api.err("contribution.write_off", {"contribution_id": c["contribution_id"],
                                       "reason": "again"}, -32009, reason="wrong_state")
    assert api.ok("contribution.get", {"contribution_id": c["contribution_id"]}) == w
    listed = api.ok("contribution.list", {"fund": code, "status": "written_off"})
    assert [x["contribution_id"] for x in listed["contributions"]] == [c["contribution_id"]]


def test_pledge_received_with_more_than_pledged(env, api):
    f = new_fund(api, currency="EUR")
    code = f["code"]
    pa = new_partner(api)["partner_id"]
    c = pledge(api, code, pa, "100.00")
    r = receive(api, c["contribution_id"], amount="60.00", received_at="2026-10-01")
    assert r["status"] == "pledged"
    r = receive(api, c["contribution_id"], amount="50.00", received_at="2026-10-02",
                bank_ref="B-2")
    assert (r["status"], r["received"], r["outstanding"], r["received_fund_amount"]) == \
        ("received", "110.00", "0.00", "110.00")
    assert r["received_at"] == "2026-10-02T00:00:00.000000Z" and r["bank_ref"] == "B-2"
    b = same_as_journal(env, api, code)
    assert (b["received"], b["pledged"], b["available"]) == ("110.00", "0.00", "110.00")


def test_pledge_received_whole_keeps_its_shape(env, api):
    f = new_fund(api, currency="EUR")
    pa = new_partner(api)["partner_id"]
    c = pledge(api, f["code"], pa, "1000.00", "USD", fx_rate="0.9265")
    r = receive(api, c["contribution_id"], bank_ref="SWIFT-W")
    assert (r["status"], r["received"], r["outstanding"], r["received_fund_amount"]) == \
        ("received", "1000.00", "0.00", "926.50")
    # one receipt, at the pledge's rate, under the contribution's own id
    assert [(x["receipt_id"], x["fx_rate"], x["fund_amount"]) for x in r["receipts"]] == \
        [(c["contribution_id"], "0.9265", "926.50")]
    same_as_journal(env, api, f["code"])


def test_pledge_and_receipt_params_refused(api):
    f = new_fund(api, currency="EUR")
    pa = new_partner(api)["partner_id"]
    api.err("contribution.pledge", {"partner_id": pa, "fund": f["code"], "amount": "1",
                                    "currency": "EUR", "pledged_at": "2099-01-01"},
            -32602, field="pledged_at", reason="in_the_future")
    c = pledge(api, f["code"], pa, "100.00")
    api.err("contribution.receive", {"contribution_id": c["contribution_id"],
                                     "amount": "10.00", "fee": "10.00"},
            -32602, field="fee", reason="fee_not_below_amount")
    api.err("contribution.receive", {"contribution_id": c["contribution_id"],
                                     "fx_rate": "1.1"},
            -32602, field="fx_rate", reason="not_for_the_fund_currency")
    api.err("contribution.receive", {"contribution_id": c["contribution_id"], "fee": "-1"},
            -32602, field="fee")
    assert api.ok("contribution.get", {"contribution_id": c["contribution_id"]})["receipts"] \
        == []


def test_direct_receipt_with_fee(env, api):
    f = new_fund(api, currency="EUR")
    code = f["code"]
    pa = new_partner(api)["partner_id"]
    r = api.ok("contribution.receive", {"partner_id": pa, "fund": code, "amount": "250.00",
                                        "currency": "EUR", "fee": "2.50"})
    assert (r["status"], r["fee"], r["received"], r["receipts"]) == \
        ("received", "2.50", "250.00", [])
    [e] = [e for e in fund_journal(api, code) if e["kind"] == "receipt"]
    assert short_postings(e, code) == {"cash": 24750, "contributions": -25000,
                                       "bank_charges": 250}
    b = same_as_journal(env, api, code)
    assert (b["received"], b["charges"], b["available"]) == ("250.00", "2.50", "247.50")
    api.err("contribution.receive", {"partner_id": pa, "fund": code, "amount": "1.00",
                                     "currency": "EUR", "fee": "1.00"},
            -32602, field="fee", reason="fee_not_below_amount")


def test_earnings_kinds_and_pass_through_fee(env, api):
    f = new_fund(api, currency="EUR")
    code = f["code"]
    pa = new_partner(api)["partner_id"]
    api.ok("contribution.receive", {"partner_id": pa, "fund": code, "amount": "100.00",
                                    "currency": "EUR"})
    for kind in ("dividend", "realised_gain"):
        assert set(api.ok("fund.record_earnings", {"code": code, "amount": "10.00",
                                                   "period": "2026-Q3", "kind": kind})) \
            == {"entry_id"}
    r = api.ok("fund.record_earnings", {"code": code, "amount": "3.00", "period": "2026-Q3",
                                        "kind": "fee", "note": "custody"})
    assert (r["kind"], r["charged_to_income"], r["capital_impaired"]) == \
        ("fee", "3.00", "0.00")
    [e] = [e for e in fund_journal(api, code) if e["kind"] == "fee"]
    assert short_postings(e, code) == {"cash": -300, "bank_charges": 300}
    assert e["memo"] == "fee 2026-Q3: custody"
    b = same_as_journal(env, api, code)
    assert (b["earnings"], b["charges"], b["available"]) == ("20.00", "3.00", "117.00")
    # more than is available: refused, nothing written
    api.err("fund.record_earnings", {"code": code, "amount": "117.01", "period": "Q",
                                     "kind": "loss"}, -32010, field="amount",
            reason="insufficient_funds")
    api.err("fund.record_earnings", {"code": code, "amount": "1", "period": "Q",
                                     "kind": "gift"}, -32602, field="kind")
    assert api.ok("fund.balance", {"code": code}) == b
    r = api.ok("fund.record_earnings", {"code": code, "amount": "117.00", "period": "Q",
                                        "kind": "loss"})
    assert r["charged_to_income"] == "117.00"
    b = same_as_journal(env, api, code)
    assert (b["charges"], b["capital_impaired"], b["available"]) == \
        ("120.00", "0.00", "0.00")


def test_endowment_loss_beyond_earnings_impairs_capital(env, api):
    f = new_fund(api, currency="EUR", kind="endowment")
    code = f["code"]
    pa = new_partner(api)["partner_id"]
    api.ok("contribution.receive", {"partner_id": pa, "fund": code, "amount": "10000.00",
                                    "currency": "EUR"})
    api.ok("fund.record_earnings", {"code": code, "amount": "800.00", "period": "2026-Q3"})
    r = api.ok("fund.record_earnings", {"code": code, "amount": "1200.00",
                                        "period": "2026-Q3", "kind": "loss"})
    assert (r["charged_to_income"], r["capital_impaired"]) == ("800.00", "400.00")
    [e] = [e for e in fund_journal(api, code) if e["kind"] == "loss"]
    assert short_postings(e, code) == {"cash": -120000, "investment_losses": 80000,
                                       "capital_impaired": 40000}
    b = same_as_journal(env, api, code)
    assert (b["received"], b["earnings"], b["charges"], b["capital_impaired"],
            b["available"]) == ("10000.00", "800.00", "800.00", "400.00", "0.00")
    # a fee now comes from capital alone; a receipt's fee too
    r = api.ok("fund.record_earnings", {"code": code, "amount": "1.00", "period": "Q",
                                        "kind": "fee"})
    assert (r["charged_to_income"], r["capital_impaired"]) == ("0.00", "1.00")
    api.ok("contribution.receive", {"partner_id": pa, "fund": code, "amount": "100.00",
                                    "currency": "EUR", "fee": "0.50"})
    b = same_as_journal(env, api, code)
    assert (b["received"], b["capital_impaired"], b["available"]) == \
        ("10100.00", "401.50", "0.00")
    # more than earnings and capital together: refused
    api.err("fund.record_earnings", {"code": code, "amount": "9698.51", "period": "Q",
                                     "kind": "loss"}, -32010, reason="insufficient_funds")
    r = api.ok("fund.record_earnings", {"code": code, "amount": "9698.50", "period": "Q",
                                        "kind": "loss"})
    b = same_as_journal(env, api, code)
    assert (b["capital_impaired"], b["available"]) == ("10100.00", "0.00")
    # the folded row: no capital left, nothing available
    assert env.sql("SELECT f.received - f.impaired, fl.fund_available(f) "
                   "FROM fl.fund_fold('%s') f" % code).strip() == "0|0"


def test_write_off_is_audited_and_idempotent(env, daemon, admin, api):
    f = new_fund(api, currency="EUR")
    pa = new_partner(api)["partner_id"]
    c = pledge(api, f["code"], pa, "100.00")
    key = uniq("wo")
    params = {"contribution_id": c["contribution_id"], "reason": "never came"}
    w1 = api.ok("contribution.write_off", dict(params, idempotency_key=key))
    w2 = api.ok("contribution.write_off", dict(params, idempotency_key=key))
    assert w1 == w2 and w1["status"] == "written_off"
    n = env.sql("SELECT count(*) FROM fl.audit_event WHERE method = 'contribution.write_off' "
                "AND object_id = '%s' AND outcome = 'ok'" % c["contribution_id"]).strip()
    assert n == "1", n
    entries = [e for e in fund_journal(api, f["code"]) if e["kind"] == "pledge_write_off"]
    assert len(entries) == 1
    auditor = api_of(daemon, create_principal(daemon, admin, ["auditor"]))
    auditor.err("contribution.write_off", params, -32003)


def test_database_holds_the_pledge_rules(env, api):
    f = new_fund(api, currency="EUR")
    pa = new_partner(api)["partner_id"]
    c = pledge(api, f["code"], pa, "100.00")
    cid = c["contribution_id"]
    receive(api, cid, amount="40.00")
    # received without its receipts making it up
    out = sql_err(env, "UPDATE fl.contribution SET status = 'received', received_at = now() "
                  "WHERE contribution_id = '%s'" % cid)
    assert "received only once its receipts make it up" in out, out
    # cancelled with a receipt
    out = sql_err(env, "UPDATE fl.contribution SET status = 'cancelled', cancelled_at = now(), "
                  "cancel_reason = 'x' WHERE contribution_id = '%s'" % cid)
    assert "written off, not cancelled" in out, out
    # a receipt clearing more than was pledged, and one changed
    out = sql_err(env, "INSERT INTO fl.pledge_receipt (receipt_id, contribution_id, fund_code, "
                  "amount, fund_amount, cleared, received_at) VALUES ('rc_x', '%s', '%s', "
                  "1, 1, 9000, now())" % (cid, f["code"]))
    assert "no more of it cleared than was pledged" in out, out
    out = sql_err(env, "UPDATE fl.pledge_receipt SET amount = 1 WHERE contribution_id = '%s'"
                  % cid)
    assert "append-only" in out, out


def _pay(daemon, admin, api, code, region, amount):
    ap = api_of(daemon, create_principal(daemon, admin, ["approver"]))
    checker = api_of(daemon, create_principal(daemon, admin, ["admin"]))
    re = api.ok("returnee.register", {"full_name": "Person " + uniq("n"), "region": region,
                                      "returned_from": "RU", "returned_on": "2026-05-01"})
    g = api.ok("grant.apply", {"returnee_id": re["returnee_id"], "fund": code,
                               "amount": amount, "category": "other", "purpose": "p"})
    ap.ok("grant.approve", {"grant_id": g["grant_id"]})
    d = api.ok("disbursement.create", {"grant_id": g["grant_id"], "amount": amount})
    checker.ok("disbursement.confirm", {"disbursement_id": d["disbursement_id"],
                                        "bank_ref": "PAY-" + uniq("b")})
    return g["grant_id"]


def _used(api, cid):
    s = api.ok("contribution.status", {"contribution_id": cid})
    return s["used"], s["unused"], [(a["grant_id"], a["amount"]) for a in s["allocations"]]


def test_fifo_pays_in_the_order_of_the_parts_dates(env, daemon, admin, api):
    f = new_fund(api, currency="EUR")
    code = f["code"]
    pa = new_partner(api)["partner_id"]
    p = pledge(api, code, pa, "100.00", pledged_at="2026-01-01")
    api.ok("contribution.status", {"contribution_id": p["contribution_id"]})  # kept from now
    receive(api, p["contribution_id"], amount="40.00", received_at="2026-02-01")
    d = api.ok("contribution.receive", {"partner_id": pa, "fund": code, "amount": "100.00",
                                        "currency": "EUR", "received_at": "2026-02-02"})
    g1 = _pay(daemon, admin, api, code, "AM-SH", "120.00")
    receive(api, p["contribution_id"], amount="50.00", received_at="2026-02-03")
    g2 = _pay(daemon, admin, api, code, "AM-LO", "50.00")
    # the pledge's first part, then the direct receipt, then the pledge's second part
    assert _used(api, p["contribution_id"]) == \
        ("70.00", "20.00", [(g1, "40.00"), (g2, "30.00")])
    assert _used(api, d["contribution_id"]) == ("100.00", "0.00", [(g1, "80.00"),
                                                                   (g2, "20.00")])
    # the kept allocation equals the whole recomputation
    kept = env.sql("SELECT contribution_id, grant_id, sum(amount) FROM fl.allocation "
                   "WHERE fund_code = '%s' GROUP BY 1, 2 ORDER BY 1, 2" % code)
    full = env.sql("SELECT contribution_id, grant_id, sum(amount) FROM "
                   "fl.fifo_allocations('%s') GROUP BY 1, 2 ORDER BY 1, 2" % code)
    assert kept == full and kept.strip(), (kept, full)
    # a partly received pledge pays with what came; written off, it still does
    api.ok("contribution.write_off", {"contribution_id": p["contribution_id"], "reason": "r"})
    assert _used(api, p["contribution_id"])[0] == "70.00"


def test_endowment_share_counts_what_was_received(env, daemon, admin, api):
    f = new_fund(api, currency="EUR", kind="endowment")
    code = f["code"]
    pa = new_partner(api)["partner_id"]
    p = pledge(api, code, pa, "1000.00")
    receive(api, p["contribution_id"], amount="250.00")
    d = api.ok("contribution.receive", {"partner_id": pa, "fund": code, "amount": "750.00",
                                        "currency": "EUR"})
    api.ok("fund.record_earnings", {"code": code, "amount": "100.00", "period": "Q"})
    _pay(daemon, admin, api, code, "AM-SH", "100.00")
    # an endowment's capital is kept: used and unused are of the earnings share
    assert _used(api, p["contribution_id"])[:2] == ("25.00", "0.00")
    assert _used(api, d["contribution_id"])[:2] == ("75.00", "0.00")
    s = api.ok("contribution.status", {"contribution_id": p["contribution_id"]})
    assert (s["capital"], s["capital_kept"], s["earnings_share"]) == \
        ("250.00", "250.00", "25.00"), s


def test_concurrent_losses_and_approvals_never_take_available_below_zero(env, daemon, admin,
                                                                          api):
    from fl.client import race
    f = new_fund(api, currency="EUR", dual="100000")
    code = f["code"]
    pa = new_partner(api)["partner_id"]
    api.ok("contribution.receive", {"partner_id": pa, "fund": code, "amount": "100.00",
                                    "currency": "EUR"})
    ap = create_principal(daemon, admin, ["approver"])["token"]
    grants = []
    for _ in range(5):
        re = api.ok("returnee.register", {"full_name": "Person " + uniq("n"),
                                          "region": "AM-SH", "returned_from": "RU",
                                          "returned_on": "2026-05-01"})
        grants.append(api.ok("grant.apply", {"returnee_id": re["returnee_id"], "fund": code,
                                              "amount": "30.00", "category": "other",
                                              "purpose": "p"})["grant_id"])
    calls = [(ap, "grant.approve", {"grant_id": g}) for g in grants] + \
        [(admin, "fund.record_earnings", {"code": code, "amount": "30.00", "period": "Q",
                                          "kind": "loss"}) for _ in range(5)]
    docs = race(daemon, calls)
    ok = [d for d in docs if "result" in d]
    refused = [d for d in docs if "error" in d]
    assert len(ok) == 3, docs
    assert all(d["error"]["code"] == -32010 and
               d["error"]["data"]["reason"] == "insufficient_funds" for d in refused), refused
    b = same_as_journal(env, api, code)
    assert b["available"] == "10.00", b
    assert env.sql("SELECT fl.fund_available(f) FROM fl.fund_fold('%s') f" % code).strip() \
        == "1000"


def test_a_batch_of_receipts_with_a_fee(env, api):
    """The set form of direct receipts leaves a receipt with a fee to the one-by-one path:
    every receipt of the batch is written, the fee charged once."""
    f = new_fund(api, currency="EUR")
    code = f["code"]
    pa = new_partner(api)["partner_id"]
    base = {"partner_id": pa, "fund": code, "currency": "EUR"}
    docs = api.batch([("contribution.receive", dict(base, amount="10.00")),
                      ("contribution.receive", dict(base, amount="20.00", fee="1.50")),
                      ("contribution.receive", dict(base, amount="30.00"))])
    assert [d["result"]["fee"] for d in docs] == ["0.00", "1.50", "0.00"], docs
    b = same_as_journal(env, api, code)
    assert (b["received"], b["charges"], b["available"]) == ("60.00", "1.50", "58.50")
