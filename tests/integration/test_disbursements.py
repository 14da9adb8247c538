"""disbursement.create, .confirm, .fail, .list and grant.cancel (docs/protocol.md;
docs/ledger.md, "Returnees and grants"): paying approved grants in tranches under the
four-eyes rule (maker and checker), what each payment and each cancellation does to the
grant, the fund's figures and the journal, roles, the database's own guards, and the same
books holding under many concurrent approvals, payments and cancellations of one fund.

Every test builds its own fund, partner, returnees and grants (unique codes and ids).
"""

import datetime
import json
import random
import threading
import time

import pytest

from fl.env import uniq
from fl.client import Background, Client, api_of, create_principal, new_client, outcome, race
from fl.db import psql, refused, sql_lit
from fl.ledger import (balance, entries_of_kind, fund_journal, journal_figures, missing_like,
                       new_partner, pages, parse_time, rfc3339, short_postings, tb_rows,
                       trial_balance, utcnow)
from fl.grants import (CUR, apply, approve, approved_grant, check_disbursement, confirm, create,
                       funded_fund, grant_disbursements, grant_params, m)


# --------------------------------------------------------------------------------------------
# Principals


@pytest.fixture
def checker(daemon, admin):
    """A second admin, fresh in every test: confirms the payments the first one made."""
    with new_client(daemon, admin, ["admin"], "checker") as a:
        yield a


@pytest.fixture
def appr2(daemon, admin):
    with new_client(daemon, admin, ["approver"], "approver2") as a:
        yield a


@pytest.fixture
def fund(api):
    """A fresh pass_through EUR fund holding 1000.00 (no dual approval below 100000)."""
    return funded_fund(api, "1000.00")


@pytest.fixture
def grant(api, appr, fund):
    """A fresh approved grant of 100.00 on a fresh fund."""
    return approved_grant(api, appr, fund, "100.00")


def _grant(api, g):
    return api.ok("grant.get", {"grant_id": g["grant_id"]})


def _gm(g):
    """(status, committed, disbursed) of a grant, money in minor units."""
    return g["status"], m(g["committed"]), m(g["disbursed"])


# --------------------------------------------------------------------------------------------
# disbursement.create


def test_create_returns_a_pending_disbursement(api, grant):
    ref = "Tranche 1 " + uniq("ref")
    d = api.ok("disbursement.create", {"grant_id": grant["grant_id"], "amount": "40",
                                       "reference": ref})
    check_disbursement(d)
    assert set(d) >= {"disbursement_id", "grant_id", "amount", "currency", "status",
                      "reference", "bank_ref", "paid_at", "fail_reason", "created_at",
                      "created_by", "decided_by"}
    assert d["grant_id"] == grant["grant_id"]
    assert d["amount"] == "40.00" and d["currency"] == "EUR"
    assert d["status"] == "pending" and d["reference"] == ref
    assert (d["bank_ref"], d["paid_at"], d["fail_reason"], d["decided_by"]) == (
        None, None, None, None)
    assert d["created_by"] == api.pid
    assert abs((parse_time(d["created_at"]) - utcnow()).total_seconds()) < 300, d
    # no money moves while it is pending
    g = _grant(api, grant)
    assert _gm(g) == ("approved", 10000, 0), g


def test_create_without_reference(api, grant):
    d = create(api, grant, "12.5")
    assert d["reference"] is None and d["amount"] == "12.50", d


def test_create_leaves_the_books_alone(api, fund, grant):
    before = balance(api, fund["code"], CUR)
    n = len(fund_journal(api, fund["code"]))
    create(api, grant, "60.00")
    assert balance(api, fund["code"], CUR) == before
    assert len(fund_journal(api, fund["code"])) == n


@pytest.mark.parametrize("state", ["submitted", "rejected", "withdrawn"])
def test_create_on_a_grant_that_is_not_approved(api, appr, fund, state):
    g = apply(api, fund, "100.00")
    if state == "rejected":
        appr.ok("grant.reject", {"grant_id": g["grant_id"], "reason": "no"})
    elif state == "withdrawn":
        api.ok("grant.withdraw", {"grant_id": g["grant_id"], "reason": "moved away"})
    err = api.err("disbursement.create", {"grant_id": g["grant_id"], "amount": "10.00"},
                  -32009, reason="wrong_state")
    assert err["data"].get("status") == state, err
    assert api.ok("disbursement.list", {"grant_id": g["grant_id"]})["disbursements"] == []


def test_create_on_a_cancelled_grant(api, grant):
    api.ok("grant.cancel", {"grant_id": grant["grant_id"], "reason": "returnee left"})
    err = api.err("disbursement.create", {"grant_id": grant["grant_id"], "amount": "1.00"},
                  -32009, reason="wrong_state")
    assert err["data"].get("status") == "cancelled", err


def test_create_on_a_completed_grant(api, checker, grant):
    confirm(checker, create(api, grant, "100.00"))
    assert _grant(api, grant)["status"] == "completed"
    err = api.err("disbursement.create", {"grant_id": grant["grant_id"], "amount": "0.01"},
                  -32009, reason="wrong_state")
    assert err["data"].get("status") == "completed", err


def test_create_unknown_grant(api, grant):
    api.err("disbursement.create", {"grant_id": missing_like(grant["grant_id"]),
                                    "amount": "1.00"}, -32004)


def test_create_more_than_the_grant(api, grant):
    api.err("disbursement.create", {"grant_id": grant["grant_id"], "amount": "100.01"},
            -32009, field="amount", reason="exceeds_grant")
    assert grant_disbursements(api, grant["grant_id"]) == []


def test_pending_and_paid_never_exceed_the_grant(api, checker, grant):
    g = grant["grant_id"]
    d1 = create(api, grant, "60.00")                        # pending 60
    api.err("disbursement.create", {"grant_id": g, "amount": "40.01"}, -32009,
            field="amount", reason="exceeds_grant")
    confirm(checker, d1)                                    # paid 60
    api.err("disbursement.create", {"grant_id": g, "amount": "40.01"}, -32009,
            field="amount", reason="exceeds_grant")
    d2 = create(api, grant, "30.00")                        # paid 60 + pending 30
    api.err("disbursement.create", {"grant_id": g, "amount": "10.01"}, -32009,
            field="amount", reason="exceeds_grant")
    d3 = create(api, grant, "10.00")                        # exactly the grant
    api.err("disbursement.create", {"grant_id": g, "amount": "0.01"}, -32009,
            field="amount", reason="exceeds_grant")
    ds = grant_disbursements(api, g)
    assert [d["disbursement_id"] for d in ds] == [d1["disbursement_id"], d2["disbursement_id"],
                                                  d3["disbursement_id"]]
    assert [d["status"] for d in ds] == ["paid", "pending", "pending"]


def test_failed_disbursements_do_not_count(api, checker, grant):
    d1 = create(api, grant, "100.00")
    api.err("disbursement.create", {"grant_id": grant["grant_id"], "amount": "0.01"},
            -32009, field="amount", reason="exceeds_grant")
    checker.ok("disbursement.fail", {"disbursement_id": d1["disbursement_id"],
                                     "reason": "IBAN rejected"})
    d2 = create(api, grant, "100.00")
    confirm(checker, d2)
    g = _grant(api, grant)
    assert _gm(g) == ("completed", 0, 10000), g


@pytest.mark.parametrize("amount,reason", [
    ("10.001", "too_many_decimals"),
    (10, None),                    # a JSON number
    (10.5, None),
    ("0", None),
    ("0.00", None),
    ("-5.00", None),
    ("ten", None),
    ("", None),
    (None, None),
])
def test_create_bad_amount(api, grant, amount, reason):
    api.err("disbursement.create", {"grant_id": grant["grant_id"], "amount": amount},
            -32602, field="amount", reason=reason)
    assert grant_disbursements(api, grant["grant_id"]) == []


def test_create_without_amount(api, grant):
    api.err("disbursement.create", {"grant_id": grant["grant_id"]}, -32602, field="amount")


# --------------------------------------------------------------------------------------------
# disbursement.confirm


def test_confirm_pays_and_moves_commitment_to_disbursed(api, checker, fund, grant):
    code = fund["code"]
    before = balance(api, code, CUR)
    assert (before["committed"], before["disbursed"], before["available"]) == (
        10000, 0, 90000), before
    n_before = len(fund_journal(api, code))
    d = create(api, grant, "35.50", reference="first tranche")
    bank = uniq("SEPA")
    p = checker.ok("disbursement.confirm", {"disbursement_id": d["disbursement_id"],
                                            "bank_ref": bank})
    check_disbursement(p)
    assert p["disbursement_id"] == d["disbursement_id"] and p["grant_id"] == grant["grant_id"]
    assert (p["status"], p["amount"], p["bank_ref"], p["reference"]) == (
        "paid", "35.50", bank, "first tranche")
    assert p["created_by"] == api.pid and p["decided_by"] == checker.pid, p
    assert p["created_at"] == d["created_at"] and p["fail_reason"] is None, p
    assert abs((parse_time(p["paid_at"]) - utcnow()).total_seconds()) < 300, p

    after = balance(api, code, CUR)
    assert after["committed"] == before["committed"] - 3550, (before, after)
    assert after["disbursed"] == before["disbursed"] + 3550, (before, after)
    assert after["available"] == before["available"], (before, after)
    assert after["received"] == before["received"] == 100000

    g = _grant(api, grant)
    assert _gm(g) == ("approved", 10000 - 3550, 3550), g

    entries = fund_journal(api, code)
    assert len(entries) == n_before + 1
    disb = entries_of_kind(entries, "disbursement")
    assert len(disb) == 1, disb
    assert short_postings(disb[0], code) == {
        "commitments": 3550, "cash": -3550, "grants_disbursed": 3550,
        "grants_committed": -3550}, disb[0]
    jf = journal_figures(entries, code)
    assert (jf["committed"], jf["disbursed"], jf["received"]) == (
        after["committed"], after["disbursed"], after["received"]), jf

    listed = api.ok("disbursement.list", {"grant_id": grant["grant_id"]})["disbursements"]
    assert listed == [p]


def test_confirm_with_paid_at(api, checker, grant):
    at = utcnow().replace(microsecond=0) - datetime.timedelta(days=2)
    p = confirm(checker, create(api, grant, "10.00"), paid_at=rfc3339(at))
    assert parse_time(p["paid_at"]) == at, p


def test_tranches_complete_the_grant(api, checker, fund, grant):
    code = fund["code"]
    for amount, status, committed, disbursed in (("30.00", "approved", 7000, 3000),
                                                 ("45.25", "approved", 2475, 7525),
                                                 ("24.75", "completed", 0, 10000)):
        confirm(checker, create(api, grant, amount))
        g = _grant(api, grant)
        assert _gm(g) == (status, committed, disbursed), (amount, g)
        b = balance(api, code, CUR)
        assert (b["committed"], b["disbursed"], b["available"]) == (
            committed, disbursed, 90000), (amount, b)
    entries = fund_journal(api, code)
    assert [m(p["amount"]) for e in entries_of_kind(entries, "disbursement")
            for p in e["postings"] if p["account"] == code + ":grants_disbursed"] == [
        3000, 4525, 2475]
    jf = journal_figures(entries, code)
    assert (jf["committed"], jf["disbursed"], jf["cash"], jf["grants_committed"]) == (
        0, 10000, 90000, 0), jf
    err = api.err("grant.cancel", {"grant_id": grant["grant_id"], "reason": "too late"},
                  -32009, reason="wrong_state")
    assert err["data"].get("status") == "completed", err


def test_confirm_by_its_maker_is_refused(api, checker, fund, grant):
    code = fund["code"]
    d = create(api, grant, "50.00")
    before = balance(api, code, CUR)
    n = len(fund_journal(api, code))
    api.err("disbursement.confirm", {"disbursement_id": d["disbursement_id"],
                                     "bank_ref": "B-1"}, -32011,
            reason="same_maker_and_checker")
    # the checker's own payment: same rule the other way round
    d2 = create(checker, grant, "10.00")
    checker.err("disbursement.confirm", {"disbursement_id": d2["disbursement_id"],
                                         "bank_ref": "B-2"}, -32011,
                reason="same_maker_and_checker")
    assert balance(api, code, CUR) == before
    assert len(fund_journal(api, code)) == n
    assert [x["status"] for x in grant_disbursements(api, grant["grant_id"])] == [
        "pending", "pending"]
    assert _gm(_grant(api, grant)) == ("approved", 10000, 0)
    # ... and each one is confirmed by the other
    confirm(checker, d)
    confirm(api, d2)
    assert _gm(_grant(api, grant)) == ("approved", 4000, 6000)


def test_confirm_only_pending(api, checker, grant):
    paid = confirm(checker, create(api, grant, "10.00"))
    err = checker.err("disbursement.confirm", {"disbursement_id": paid["disbursement_id"],
                                               "bank_ref": "again"}, -32009,
                      reason="wrong_state")
    assert err["data"].get("status") == "paid", err
    failed = create(api, grant, "10.00")
    checker.ok("disbursement.fail", {"disbursement_id": failed["disbursement_id"],
                                     "reason": "bounced"})
    err = checker.err("disbursement.confirm", {"disbursement_id": failed["disbursement_id"],
                                               "bank_ref": "late"}, -32009,
                      reason="wrong_state")
    assert err["data"].get("status") == "failed", err
    assert _gm(_grant(api, grant)) == ("approved", 9000, 1000)


def test_confirm_unknown(api, checker, grant):
    d = create(api, grant, "10.00")
    checker.err("disbursement.confirm", {"disbursement_id": missing_like(d["disbursement_id"]),
                                         "bank_ref": "B"}, -32004)


def test_confirm_needs_bank_ref(api, checker, grant):
    d = create(api, grant, "10.00")
    checker.err("disbursement.confirm", {"disbursement_id": d["disbursement_id"]}, -32602,
                field="bank_ref")
    assert grant_disbursements(api, grant["grant_id"])[0]["status"] == "pending"


def test_confirm_paid_at_in_the_future(api, checker, grant):
    d = create(api, grant, "10.00")
    at = utcnow() + datetime.timedelta(hours=2)
    checker.err("disbursement.confirm", {"disbursement_id": d["disbursement_id"],
                                         "bank_ref": "B", "paid_at": rfc3339(at)}, -32602,
                field="paid_at")
    checker.err("disbursement.confirm", {"disbursement_id": d["disbursement_id"],
                                         "bank_ref": "B", "paid_at": "yesterday"}, -32602,
                field="paid_at")
    assert grant_disbursements(api, grant["grant_id"])[0]["status"] == "pending"


def test_create_reference_too_long(api, grant):
    api.err("disbursement.create", {"grant_id": grant["grant_id"], "amount": "1.00",
                                    "reference": "x" * 201}, -32602, field="reference")
    d = create(api, grant, "1.00", reference="x" * 200)
    assert d["reference"] == "x" * 200


# --------------------------------------------------------------------------------------------
# disbursement.fail


def test_fail_frees_the_amount_and_posts_nothing(api, checker, fund, grant):
    code = fund["code"]
    before = balance(api, code, CUR)
    n = len(fund_journal(api, code))
    d = create(api, grant, "80.00")
    f = checker.ok("disbursement.fail", {"disbursement_id": d["disbursement_id"],
                                         "reason": "account closed"})
    check_disbursement(f)
    assert (f["status"], f["fail_reason"], f["amount"]) == ("failed", "account closed",
                                                            "80.00"), f
    assert f["bank_ref"] is None and f["paid_at"] is None, f
    assert balance(api, code, CUR) == before
    assert len(fund_journal(api, code)) == n
    assert _gm(_grant(api, grant)) == ("approved", 10000, 0)
    # the amount is free again
    confirm(checker, create(api, grant, "100.00"))
    assert _gm(_grant(api, grant)) == ("completed", 0, 10000)


def test_fail_by_its_maker_is_allowed(api, grant):
    # four eyes guard payments, not their failure (docs/protocol.md names confirm only)
    d = create(api, grant, "10.00")
    f = api.ok("disbursement.fail", {"disbursement_id": d["disbursement_id"],
                                     "reason": "typo"})
    assert f["status"] == "failed", f


def test_fail_only_pending(api, checker, grant):
    paid = confirm(checker, create(api, grant, "10.00"))
    err = api.err("disbursement.fail", {"disbursement_id": paid["disbursement_id"],
                                        "reason": "x"}, -32009, reason="wrong_state")
    assert err["data"].get("status") == "paid", err
    d = create(api, grant, "10.00")
    api.ok("disbursement.fail", {"disbursement_id": d["disbursement_id"], "reason": "x"})
    err = api.err("disbursement.fail", {"disbursement_id": d["disbursement_id"],
                                        "reason": "y"}, -32009, reason="wrong_state")
    assert err["data"].get("status") == "failed", err
    assert _gm(_grant(api, grant)) == ("approved", 9000, 1000)


def test_fail_unknown_and_without_reason(api, grant):
    d = create(api, grant, "10.00")
    api.err("disbursement.fail", {"disbursement_id": missing_like(d["disbursement_id"]),
                                  "reason": "x"}, -32004)
    api.err("disbursement.fail", {"disbursement_id": d["disbursement_id"]}, -32602,
            field="reason")


# --------------------------------------------------------------------------------------------
# disbursement.list


def test_list_filters_and_pages(api, checker, appr, aud, fund):
    g1 = approved_grant(api, appr, fund, "100.00")
    g2 = approved_grant(api, appr, fund, "100.00")
    mine = []
    for g, amount, fate in ((g1, "10.00", "paid"), (g2, "11.00", "pending"),
                            (g1, "12.00", "failed"), (g2, "13.00", "paid"),
                            (g1, "14.00", "pending"), (g2, "15.00", "failed"),
                            (g1, "16.00", "paid")):
        d = create(api, g, amount)
        if fate == "paid":
            d = confirm(checker, d)
        elif fate == "failed":
            d = checker.ok("disbursement.fail", {"disbursement_id": d["disbursement_id"],
                                                 "reason": "bounced"})
        mine.append(d)
    by_grant = {g1["grant_id"]: [d for d in mine if d["grant_id"] == g1["grant_id"]],
                g2["grant_id"]: [d for d in mine if d["grant_id"] == g2["grant_id"]]}
    for who in (api, appr, aud):
        for gid_, want in by_grant.items():
            for limit in (1, 2, 3, 1000):
                items, sizes = pages(who, "disbursement.list", {"grant_id": gid_},
                                     "disbursements", limit)
                assert items == want, (limit, items)
                assert all(s == limit for s in sizes[:-1]), sizes
            for status in ("pending", "paid", "failed"):
                items, _ = pages(who, "disbursement.list",
                                 {"grant_id": gid_, "status": status}, "disbursements", 1)
                assert items == [d for d in want if d["status"] == status], (status, items)
    # the last page says so
    res = api.ok("disbursement.list", {"grant_id": g1["grant_id"], "limit": 4})
    assert len(res["disbursements"]) == 4 and res["next_cursor"] is None, res
    res = api.ok("disbursement.list", {"grant_id": g1["grant_id"], "limit": 3})
    assert len(res["disbursements"]) == 3 and isinstance(res["next_cursor"], str), res
    res = api.ok("disbursement.list", {"grant_id": g1["grant_id"], "limit": 3,
                                       "cursor": res["next_cursor"]})
    assert [d["amount"] for d in res["disbursements"]] == ["16.00"], res
    assert res["next_cursor"] is None, res


def test_list_without_grant_contains_ours_in_order(api, checker, grant):
    ds = [create(api, grant, "1.00") for _ in range(3)]
    confirm(checker, ds[1])
    ids = [d["disbursement_id"] for d in ds]
    seen = [d["disbursement_id"] for d in
            pages(api, "disbursement.list", {}, "disbursements", 1000)[0]
            if d["disbursement_id"] in ids]
    assert seen == ids
    paid = [d["disbursement_id"] for d in
            pages(api, "disbursement.list", {"status": "paid"}, "disbursements", 1000)[0]]
    assert ids[1] in paid and ids[0] not in paid and ids[2] not in paid


def test_list_bad_params(api, grant):
    api.err("disbursement.list", {"status": "lost"}, -32602, field="status")
    api.err("disbursement.list", {"limit": 0}, -32602, field="limit")
    api.err("disbursement.list", {"limit": 1001}, -32602, field="limit")
    api.err("disbursement.list", {"cursor": "garbage"}, -32602, field="cursor",
            reason="bad_cursor")
    api.err("disbursement.list", {"cursor": "c-1"}, -32602, field="cursor",
            reason="bad_cursor")
    # malformed by the C validator or by the database: the same reason
    api.err("disbursement.list", {"cursor": "not-a-cursor!"}, -32602, field="cursor",
            reason="bad_cursor")
    api.err("disbursement.list", {"cursor": 5}, -32602, field="cursor")
    api.err("disbursement.list", {"grant_id": missing_like(grant["grant_id"])}, -32004)


# --------------------------------------------------------------------------------------------
# grant.cancel


def test_cancel_releases_the_whole_commitment(api, fund, grant):
    code = fund["code"]
    before = balance(api, code, CUR)
    assert (before["committed"], before["available"]) == (10000, 90000), before
    g = api.ok("grant.cancel", {"grant_id": grant["grant_id"], "reason": "emigrated again"})
    assert g["grant_id"] == grant["grant_id"]
    assert _gm(g) == ("cancelled", 0, 0), g
    assert g["committed"] == "0.00" and g["amount"] == "100.00", g
    after = balance(api, code, CUR)
    assert after["committed"] == before["committed"] - 10000
    assert after["available"] == before["available"] + 10000
    assert after["disbursed"] == before["disbursed"] == 0
    entries = fund_journal(api, code)
    rel = entries_of_kind(entries, "commitment_release")
    assert len(rel) == 1, rel
    assert short_postings(rel[0], code) == {"commitments": 10000,
                                            "grants_committed": -10000}, rel[0]
    jf = journal_figures(entries, code)
    assert (jf["committed"], jf["grants_committed"]) == (0, 0), jf
    assert _grant(api, grant)["status"] == "cancelled"


def test_cancel_after_a_partial_payment_releases_only_the_rest(api, checker, fund, grant):
    code = fund["code"]
    confirm(checker, create(api, grant, "37.45"))
    before = balance(api, code, CUR)
    assert (before["committed"], before["disbursed"], before["available"]) == (
        6255, 3745, 90000), before
    g = api.ok("grant.cancel", {"grant_id": grant["grant_id"], "reason": "business closed"})
    assert (g["status"], g["committed"], g["disbursed"]) == ("cancelled", "0.00", "37.45"), g
    after = balance(api, code, CUR)
    assert after["committed"] == 0, after
    assert after["disbursed"] == 3745, after
    assert after["available"] == 90000 + 6255, after
    assert after["received"] == 100000
    entries = fund_journal(api, code)
    rel = entries_of_kind(entries, "commitment_release")
    assert len(rel) == 1, rel
    assert short_postings(rel[0], code) == {"commitments": 6255,
                                            "grants_committed": -6255}, rel[0]
    jf = journal_figures(entries, code)
    assert (jf["committed"], jf["disbursed"], jf["cash"]) == (0, 3745, 100000 - 3745), jf
    # nothing more can be paid on it
    err = api.err("disbursement.create", {"grant_id": grant["grant_id"], "amount": "1.00"},
                  -32009, reason="wrong_state")
    assert err["data"].get("status") == "cancelled", err


def test_cancel_refused_while_a_disbursement_is_pending(api, checker, fund, grant):
    code = fund["code"]
    confirm(checker, create(api, grant, "20.00"))
    d = create(api, grant, "30.00")
    before = balance(api, code, CUR)
    n = len(fund_journal(api, code))
    api.err("grant.cancel", {"grant_id": grant["grant_id"], "reason": "r"}, -32009,
            reason="disbursement_pending")
    assert balance(api, code, CUR) == before
    assert len(fund_journal(api, code)) == n
    assert _gm(_grant(api, grant)) == ("approved", 8000, 2000)
    # once it has failed, cancelling releases the unpaid 80.00
    checker.ok("disbursement.fail", {"disbursement_id": d["disbursement_id"], "reason": "x"})
    g = api.ok("grant.cancel", {"grant_id": grant["grant_id"], "reason": "r"})
    assert _gm(g) == ("cancelled", 0, 2000), g
    after = balance(api, code, CUR)
    assert after["committed"] == before["committed"] - 8000
    assert after["available"] == before["available"] + 8000


def test_cancel_after_the_pending_one_is_paid(api, checker, fund, grant):
    d = create(api, grant, "30.00")
    api.err("grant.cancel", {"grant_id": grant["grant_id"], "reason": "r"}, -32009,
            reason="disbursement_pending")
    confirm(checker, d)
    g = api.ok("grant.cancel", {"grant_id": grant["grant_id"], "reason": "r"})
    assert _gm(g) == ("cancelled", 0, 3000), g
    b = balance(api, fund["code"], CUR)
    assert (b["committed"], b["disbursed"], b["available"]) == (0, 3000, 97000), b


@pytest.mark.parametrize("state", ["submitted", "rejected", "withdrawn", "cancelled"])
def test_cancel_only_approved(api, appr, fund, state):
    g = apply(api, fund, "100.00")
    if state == "rejected":
        appr.ok("grant.reject", {"grant_id": g["grant_id"], "reason": "no"})
    elif state == "withdrawn":
        api.ok("grant.withdraw", {"grant_id": g["grant_id"], "reason": "no"})
    elif state == "cancelled":
        approve(appr, g)
        api.ok("grant.cancel", {"grant_id": g["grant_id"], "reason": "first"})
    before = balance(api, fund["code"], CUR)
    n = len(fund_journal(api, fund["code"]))
    err = api.err("grant.cancel", {"grant_id": g["grant_id"], "reason": "again"}, -32009,
                  reason="wrong_state")
    assert err["data"].get("status") == state, err
    assert balance(api, fund["code"], CUR) == before
    assert len(fund_journal(api, fund["code"])) == n


def test_cancel_unknown_and_without_reason(api, grant):
    api.err("grant.cancel", {"grant_id": missing_like(grant["grant_id"]), "reason": "r"},
            -32004)
    api.err("grant.cancel", {"grant_id": grant["grant_id"]}, -32602, field="reason")
    assert _grant(api, grant)["status"] == "approved"


def test_cancelled_money_can_be_granted_again(api, appr, fund):
    big = approved_grant(api, appr, fund, "1000.00")         # takes everything
    g = apply(api, fund, "400.00")
    appr.err("grant.approve", {"grant_id": g["grant_id"]}, -32010)
    api.ok("grant.cancel", {"grant_id": big["grant_id"], "reason": "r"})
    approve(appr, g)
    b = balance(api, fund["code"], CUR)
    assert (b["committed"], b["available"]) == (40000, 60000), b


# --------------------------------------------------------------------------------------------
# Idempotency (docs/protocol.md: every mutating method)


def test_create_idempotent(api, grant):
    p = {"grant_id": grant["grant_id"], "amount": "40.00", "idempotency_key": uniq("dc")}
    d1 = api.ok("disbursement.create", p)
    d2 = api.ok("disbursement.create", p)
    assert d1 == d2
    assert [d["disbursement_id"] for d in grant_disbursements(api, grant["grant_id"])] == [
        d1["disbursement_id"]]
    api.err("disbursement.create", dict(p, amount="40.01"), -32009,
            reason="idempotency_mismatch")
    assert len(grant_disbursements(api, grant["grant_id"])) == 1


def test_confirm_and_cancel_idempotent(api, checker, fund, grant):
    code = fund["code"]
    d = create(api, grant, "25.00")
    p = {"disbursement_id": d["disbursement_id"], "bank_ref": "B-I",
         "idempotency_key": uniq("dk")}
    first = checker.ok("disbursement.confirm", p)
    again = checker.ok("disbursement.confirm", p)      # the first result, not wrong_state
    assert first == again and first["status"] == "paid"
    checker.err("disbursement.confirm", dict(p, bank_ref="B-J"), -32009,
                reason="idempotency_mismatch")
    entries = fund_journal(api, code)
    assert len(entries_of_kind(entries, "disbursement")) == 1
    c = {"grant_id": grant["grant_id"], "reason": "r", "idempotency_key": uniq("ck")}
    g1 = api.ok("grant.cancel", c)
    g2 = api.ok("grant.cancel", c)
    assert g1 == g2 and _gm(g1) == ("cancelled", 0, 2500)
    entries = fund_journal(api, code)
    assert len(entries_of_kind(entries, "commitment_release")) == 1
    b = balance(api, code, CUR)
    assert (b["committed"], b["disbursed"], b["available"]) == (0, 2500, 97500), b


# --------------------------------------------------------------------------------------------
# Roles


def test_roles_admin_only(daemon, admin, api, appr, aud, grant):
    d = create(api, grant, "10.00")
    both = api_of(daemon, create_principal(daemon, admin, ["approver", "auditor"],
                                                    name=uniq("ap-au")))
    try:
        for who in (appr, aud, both):
            who.err("disbursement.create", {"grant_id": grant["grant_id"], "amount": "1.00"},
                    -32003)
            who.err("disbursement.confirm", {"disbursement_id": d["disbursement_id"],
                                             "bank_ref": "B"}, -32003)
            who.err("disbursement.fail", {"disbursement_id": d["disbursement_id"],
                                          "reason": "x"}, -32003)
            who.err("grant.cancel", {"grant_id": grant["grant_id"], "reason": "x"}, -32003)
            # ... but they may read
            assert [x["disbursement_id"] for x in who.ok(
                "disbursement.list", {"grant_id": grant["grant_id"]})["disbursements"]] == [
                d["disbursement_id"]]
    finally:
        both.close()
    assert [x["status"] for x in grant_disbursements(api, grant["grant_id"])] == ["pending"]
    assert _gm(_grant(api, grant)) == ("approved", 10000, 0)


def test_partner_may_not_list_or_pay(daemon, admin, api, grant):
    create(api, grant, "10.00")
    p = new_partner(api)
    pp = create_principal(daemon, admin, ["partner"], name=uniq("partner"),
                          partner_id=p["partner_id"])
    pa = Client.api(daemon, pp["token"])
    try:
        pa.err("disbursement.list", {}, -32003)
        pa.err("disbursement.list", {"grant_id": grant["grant_id"]}, -32003)
        pa.err("disbursement.create", {"grant_id": grant["grant_id"], "amount": "1.00"},
               -32003)
        pa.err("grant.cancel", {"grant_id": grant["grant_id"], "reason": "x"}, -32003)
    finally:
        pa.close()


# --------------------------------------------------------------------------------------------
# The database's own guards


def _status_in_db(env, disb_id):
    return env.sql("SELECT status FROM fl.disbursement WHERE disbursement_id = %s"
                   % sql_lit(disb_id)).strip()


def test_db_sql_control(env, api, grant):
    # the table and the role exist: the owner reads the row, the daemon's role may not
    # (docs/database-role.md)
    d = create(api, grant, "10.00")
    q = "SELECT status FROM fl.disbursement WHERE disbursement_id = %s;\n" % sql_lit(
        d["disbursement_id"])
    p = psql(env, q)
    assert p.returncode == 0 and p.stdout.strip() == "pending", (p.stdout, p.stderr)
    p = psql(env, "SET ROLE fundd_app;\n" + q)
    assert p.returncode != 0 and "permission denied for table disbursement" in p.stderr, \
        (p.stdout, p.stderr)


def test_db_daemon_role_cannot_unpay(env, api, checker, grant):
    d = confirm(checker, create(api, grant, "10.00"))
    q = sql_lit(d["disbursement_id"])
    for body in ("UPDATE fl.disbursement SET status = 'pending' WHERE disbursement_id = %s;"
                 % q,
                 "UPDATE fl.disbursement SET status = 'pending', bank_ref = NULL, "
                 "paid_at = NULL, decided_by = NULL WHERE disbursement_id = %s;" % q,
                 "UPDATE fl.disbursement SET status = 'failed', bank_ref = NULL, "
                 "paid_at = NULL, fail_reason = 'x' WHERE disbursement_id = %s;" % q,
                 "UPDATE fl.disbursement SET amount = 1 WHERE disbursement_id = %s;" % q,
                 "DELETE FROM fl.disbursement WHERE disbursement_id = %s;" % q):
        refused(env, body, role="fundd_app")
    # also through the brief's one-liner (env.sql raises when psql fails)
    with pytest.raises(AssertionError):
        env.sql("SET ROLE fundd_app; UPDATE fl.disbursement SET status='pending' "
                "WHERE disbursement_id = %s" % q)
    assert _status_in_db(env, d["disbursement_id"]) == "paid"
    assert api.ok("disbursement.list", {"grant_id": grant["grant_id"]})[
        "disbursements"] == [d]


def test_db_owner_cannot_unpay_either(env, api, checker, grant):
    d = confirm(checker, create(api, grant, "10.00"))
    refused(env, "UPDATE fl.disbursement SET status = 'pending', bank_ref = NULL, "
                  "paid_at = NULL, decided_by = NULL WHERE disbursement_id = %s;"
             % sql_lit(d["disbursement_id"]))
    assert _status_in_db(env, d["disbursement_id"]) == "paid"


def test_db_check_refuses_paid_by_its_maker(env, api, grant):
    d = create(api, grant, "10.00")
    q = sql_lit(d["disbursement_id"])
    # the owner marks a pending one paid with decided_by = created_by
    err = refused(env, "UPDATE fl.disbursement SET status = 'paid', bank_ref = 'B', "
                        "paid_at = now(), decided_by = created_by "
                        "WHERE disbursement_id = %s;" % q)
    assert "check constraint" in err, err
    # ... or inserts such a row outright
    err = refused(env, "INSERT INTO fl.disbursement (grant_id, amount, status, bank_ref, "
                        "paid_at, created_by, decided_by) VALUES (%s, 100, 'paid', 'B', "
                        "now(), %s, %s);" % (sql_lit(grant["grant_id"]), sql_lit(api.pid),
                                             sql_lit(api.pid)))
    assert "check constraint" in err, err
    # control: the same UPDATE with another principal as checker is accepted (rolled back)
    other = create_principal(api.daemon, api.token, ["admin"], name=uniq("ctl"))
    p = psql(env, "BEGIN;\nUPDATE fl.disbursement SET status = 'paid', bank_ref = 'B', "
                  "paid_at = now(), decided_by = %s WHERE disbursement_id = %s;\n"
                  "ROLLBACK;\n" % (sql_lit(other["principal_id"]), q))
    assert p.returncode == 0, p.stderr
    assert _status_in_db(env, d["disbursement_id"]) == "pending"


# --------------------------------------------------------------------------------------------
# Small races on one grant


def test_race_creations_never_exceed_the_grant(daemon, api, checker, grant):
    tokens = (api.token, checker.token)
    docs = race(daemon, [(tokens[i % 2], "disbursement.create",
                          {"grant_id": grant["grant_id"], "amount": "30.00"})
                         for i in range(10)])
    outs = [outcome(d) for d in docs]
    assert outs.count("ok") == 3, outs
    assert outs.count((-32009, "exceeds_grant")) == 7, outs
    ds = grant_disbursements(api, grant["grant_id"])
    assert [d["status"] for d in ds] == ["pending"] * 3, ds


def test_race_confirm_against_fail(daemon, api, checker, fund, grant):
    for _ in range(5):
        d = create(api, grant, "10.00")
        c, f = race(daemon, [(checker.token, "disbursement.confirm",
                              {"disbursement_id": d["disbursement_id"], "bank_ref": "B"}),
                             (api.token, "disbursement.fail",
                              {"disbursement_id": d["disbursement_id"], "reason": "x"})])
        outs = sorted([outcome(c), outcome(f)], key=str)
        assert outs.count("ok") == 1 and outs.count((-32009, "wrong_state")) == 1, outs
    ds = grant_disbursements(api, grant["grant_id"])
    paid = sum(m(d["amount"]) for d in ds if d["status"] == "paid")
    assert all(d["status"] in ("paid", "failed") for d in ds), ds
    g = _grant(api, grant)
    assert _gm(g) == ("approved", 10000 - paid, paid), g
    entries = fund_journal(api, fund["code"])
    assert len(entries_of_kind(entries, "disbursement")) == sum(
        1 for d in ds if d["status"] == "paid")
    assert journal_figures(entries, fund["code"])["disbursed"] == paid


def test_race_double_confirm_pays_once(daemon, api, checker, fund, grant):
    third = api_of(daemon, create_principal(daemon, api.token, ["admin"],
                                                     name=uniq("third")))
    try:
        d = create(api, grant, "60.00")
        docs = race(daemon, [((checker, third)[i % 2].token, "disbursement.confirm",
                              {"disbursement_id": d["disbursement_id"], "bank_ref": "B%d" % i})
                             for i in range(6)])
        outs = [outcome(x) for x in docs]
        assert outs.count("ok") == 1 and outs.count((-32009, "wrong_state")) == 5, outs
    finally:
        third.close()
    entries = fund_journal(api, fund["code"])
    assert len(entries_of_kind(entries, "disbursement")) == 1
    assert _gm(_grant(api, grant)) == ("approved", 4000, 6000)
    b = balance(api, fund["code"], CUR)
    assert (b["committed"], b["disbursed"], b["available"]) == (4000, 6000, 90000), b


def test_race_cancel_against_create(daemon, api, checker, appr, fund):
    for _ in range(6):
        g = approved_grant(api, appr, fund, "50.00")
        cr, ca = race(daemon, [(api.token, "disbursement.create",
                                {"grant_id": g["grant_id"], "amount": "20.00"}),
                               (checker.token, "grant.cancel",
                                {"grant_id": g["grant_id"], "reason": "r"})])
        oc, oa = outcome(cr), outcome(ca)
        if oc == "ok":
            # the payment came first: the cancellation must have been refused
            assert oa == (-32009, "disbursement_pending"), (oc, oa)
            assert _gm(_grant(api, g)) == ("approved", 5000, 0)
        else:
            assert oa == "ok" and oc == (-32009, "wrong_state"), (oc, oa)
            assert cr["error"]["data"].get("status") == "cancelled", cr
            assert grant_disbursements(api, g["grant_id"]) == []
    b = balance(api, fund["code"], CUR)
    assert b["committed"] + b["disbursed"] + b["available"] == b["received"] == 100000, b
    jf = journal_figures(fund_journal(api, fund["code"]), fund["code"])
    assert (jf["committed"], jf["disbursed"]) == (b["committed"], b["disbursed"]), (jf, b)


def test_race_cancel_against_confirm(daemon, api, checker, appr, fund):
    for _ in range(6):
        g = approved_grant(api, appr, fund, "50.00")
        d = create(api, g, "20.00")
        co, ca = race(daemon, [(checker.token, "disbursement.confirm",
                                {"disbursement_id": d["disbursement_id"], "bank_ref": "B"}),
                               (api.token, "grant.cancel",
                                {"grant_id": g["grant_id"], "reason": "r"})])
        # the payment is never lost: either the cancellation found it pending (refused), or
        # it came after the payment was committed and released only the unpaid 30.00
        assert outcome(co) == "ok", co
        if outcome(ca) == "ok":
            assert _gm(ca["result"]) == ("cancelled", 0, 2000), ca
        else:
            assert outcome(ca) == (-32009, "disbursement_pending"), ca
            assert _gm(_grant(api, g)) == ("approved", 3000, 2000)
            g2 = api.ok("grant.cancel", {"grant_id": g["grant_id"], "reason": "r"})
            assert _gm(g2) == ("cancelled", 0, 2000), g2
    b = balance(api, fund["code"], CUR)
    assert (b["committed"], b["disbursed"], b["available"]) == (0, 12000, 88000), b
    entries = fund_journal(api, fund["code"])
    assert [short_postings(e, fund["code"])["commitments"]
            for e in entries_of_kind(entries, "commitment_release")] == [3000] * 6


# --------------------------------------------------------------------------------------------
# Concurrency: the acceptance test


N_GRANTS = 40
GRANT_AMOUNT = "50.00"
RECEIVED = "1000.00"
CHAOS_THREADS = 10
CHAOS_ROUNDS = 20


def _actor(daemon, token, pid):
    """One principal's own HTTPS keep-alive connection, for use by one thread."""
    a = Client(daemon, token, timeout=60)
    a.pid = pid
    return a


def _reason(doc):
    err = doc.get("error") or {}
    return err.get("code"), (err.get("data") or {}).get("reason"), \
        (err.get("data") or {}).get("status")


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_concurrent_approvals_payments_and_cancellations(env, daemon, admin, api, checker,
                                                         appr, appr2, aud, round_):
    t0 = time.monotonic()
    f = funded_fund(api, RECEIVED)
    code = f["code"]
    rets = api.batch([("returnee.register", {
        "full_name": "Returnee " + uniq("r"), "region": "Shirak", "returned_from": "RU",
        "returned_on": "2026-05-01", "national_id": "NID-" + uniq("c").upper()})
        for _ in range(N_GRANTS)])
    rets = [d["result"] for d in rets]
    grants = api.batch([("grant.apply", grant_params(r, f, GRANT_AMOUNT))
                        for r in rets])
    grants = [d["result"] for d in grants]
    assert all(g["status"] == "submitted" for g in grants), grants
    gids = [g["grant_id"] for g in grants]

    admins = [(admin, api.pid), (checker.token, checker.pid)]
    approvers = [(appr.token, appr.pid), (appr2.token, appr2.pid)]

    lock = threading.Lock()
    log = []            # (grant index or None, method, params, response doc)
    unexpected = []     # (what, doc)
    approve_outcome = {}

    def record(i, method, params, doc, allowed):
        """allowed: set of (code, reason) tuples accepted as errors besides a result."""
        with lock:
            log.append((i, method, params, doc))
            if "result" in doc:
                return True
            c, r, st = _reason(doc)
            if (c, r) not in allowed:
                unexpected.append(("%s %r" % (method, params), doc))
            return False

    APPROVE_LATE_ERR = {(-32010, "insufficient_funds"), (-32009, "wrong_state"),
                        (-32011, "already_approved")}

    CREATE_ERR = {(-32009, "exceeds_grant"), (-32009, "wrong_state")}
    CANCEL_ERR = {(-32009, "wrong_state"), (-32009, "disbursement_pending")}

    def pay(i, maker, chk, amount, fail_first=False):
        """Create (maker) then confirm (checker), or fail; returns 'paid', 'failed' or None
        if the creation was refused."""
        p = {"grant_id": gids[i], "amount": amount, "reference": "t%d" % i}
        doc = maker.rpc("disbursement.create", p)[1]
        if not record(i, "disbursement.create", p, doc, CREATE_ERR):
            return None
        d = doc["result"]
        if fail_first:
            p = {"disbursement_id": d["disbursement_id"], "reason": "bounced"}
            doc = chk.rpc("disbursement.fail", p)[1]
            record(i, "disbursement.fail", p, doc, set())
            return "failed"
        p = {"disbursement_id": d["disbursement_id"], "bank_ref": "BR-%d-%s" % (i, amount)}
        doc = chk.rpc("disbursement.confirm", p)[1]
        record(i, "disbursement.confirm", p, doc, set())
        return "paid"

    def cancel(i, who):
        p = {"grant_id": gids[i], "reason": "plan %d" % i}
        for _ in range(50):
            doc = who.rpc("grant.cancel", p)[1]
            record(i, "grant.cancel", p, doc, CANCEL_ERR)
            if _reason(doc)[1] != "disbursement_pending":
                return
            time.sleep(0.02)

    n_threads = N_GRANTS + CHAOS_THREADS
    barrier = threading.Barrier(n_threads)

    def grant_worker(i):
        ap = _actor(daemon, *approvers[i % 2])
        mk = _actor(daemon, *admins[i % 2])
        ck = _actor(daemon, *admins[(i + 1) % 2])
        try:
            for a in (ap, mk, ck):
                a.connect()
            barrier.wait(60)
            p = {"grant_id": gids[i], "comment": "go"}
            doc = ap.rpc("grant.approve", p)[1]
            # a chaos thread may have approved it first (with this approver or the other)
            ok = record(i, "grant.approve", p, doc, APPROVE_LATE_ERR)
            with lock:
                approve_outcome[i] = "approved" if ok else _reason(doc)[:2]
            if _reason(doc)[0] == -32010:
                return
            plan = i % 5
            if plan == 0:                       # paid in full at once
                pay(i, mk, ck, "50.00")
            elif plan == 1:                     # two tranches
                pay(i, mk, ck, "20.00")
                pay(i, mk, ck, "30.00")
            elif plan == 2:                     # cancelled untouched
                cancel(i, mk)
            elif plan == 3:                     # partly paid, then cancelled
                pay(i, mk, ck, "20.00")
                cancel(i, ck)
            else:                               # a failed payment, then the whole grant
                pay(i, mk, ck, "25.00", fail_first=True)
                pay(i, mk, ck, "50.00")
        finally:
            for a in (ap, mk, ck):
                a.close()

    cancellable = [i for i in range(N_GRANTS) if i % 5 in (2, 3)]

    def chaos_worker(k):
        """Random late approvals (of grants refused for want of money, which cancellations
        may have freed since), cancellations of the grants whose plan cancels them anyway,
        and 10.00 payments (some failed) on any grant."""
        rnd = random.Random(1000 * round_ + k)
        ap = _actor(daemon, *approvers[k % 2])
        mk = _actor(daemon, *admins[k % 2])
        ck = _actor(daemon, *admins[(k + 1) % 2])
        try:
            for a in (ap, mk, ck):
                a.connect()
            barrier.wait(60)
            for _ in range(CHAOS_ROUNDS):
                action = rnd.random()
                if action < 0.2:
                    i = rnd.randrange(N_GRANTS)
                    p = {"grant_id": gids[i]}
                    record(i, "grant.approve", p, ap.rpc("grant.approve", p)[1],
                           APPROVE_LATE_ERR)
                elif action < 0.4:
                    cancel(rnd.choice(cancellable), mk)
                else:
                    i = rnd.randrange(N_GRANTS)
                    pay(i, mk, ck, "10.00", fail_first=action > 0.85)
        finally:
            for a in (ap, mk, ck):
                a.close()

    jobs = [Background(lambda i=i: grant_worker(i)) for i in range(N_GRANTS)]
    jobs += [Background(lambda k=k: chaos_worker(k)) for k in range(CHAOS_THREADS)]
    for j in jobs:
        j.start()
    for j in jobs:
        j.get(120)
    t_race = time.monotonic() - t0

    assert not unexpected, "unexpected outcomes (%d): %r" % (len(unexpected), unexpected[:10])
    assert len(approve_outcome) == N_GRANTS
    refused = [i for i, o in approve_outcome.items() if o == (-32010, "insufficient_funds")]
    assert refused, "no approval was refused: the fund was not contended (%r)" % (
        approve_outcome,)

    # ---- every grant agrees with its own disbursements
    total_committed = total_disbursed = 0
    n_paid = 0
    released = 0
    paid_amounts = []
    statuses = {}
    for i, gid_ in enumerate(gids):
        g = api.ok("grant.get", {"grant_id": gid_})
        ds = grant_disbursements(api, gid_)
        for d in ds:
            check_disbursement(d)
            assert d["grant_id"] == gid_
        amount, comm, disb = m(g["amount"]), m(g["committed"]), m(g["disbursed"])
        paid = sum(m(d["amount"]) for d in ds if d["status"] == "paid")
        pending = [d for d in ds if d["status"] == "pending"]
        assert not pending, (i, pending)
        assert disb == paid, (i, g, ds)
        assert comm >= 0 and disb >= 0 and comm + disb <= amount, (i, g)
        if g["status"] == "submitted":
            assert i in refused and (comm, disb, ds) == (0, 0, []), (i, g, ds)
            assert not any(lg[0] == i and lg[1] == "grant.approve" and "result" in lg[3]
                           for lg in log), (i, g)
        else:
            assert any(lg[0] == i and lg[1] == "grant.approve" and "result" in lg[3]
                       for lg in log), (i, g)
        if g["status"] == "approved":
            assert comm == amount - disb and disb < amount, (i, g)
        elif g["status"] == "completed":
            assert (comm, disb) == (0, amount), (i, g)
        elif g["status"] == "cancelled":
            assert comm == 0 and disb < amount, (i, g)
            assert i in cancellable, (i, g)
            released += amount - disb
        else:
            assert g["status"] == "submitted", (i, g)
        total_committed += comm
        total_disbursed += disb
        n_paid += sum(1 for d in ds if d["status"] == "paid")
        paid_amounts += sorted(m(d["amount"]) for d in ds if d["status"] == "paid")
        statuses[g["status"]] = statuses.get(g["status"], 0) + 1
    n_approved = N_GRANTS - statuses.get("submitted", 0)
    # 40 x 50.00 = 2000.00 asked of 1000.00; at most 16 grants are ever cancelled, which
    # frees at most 800.00: at least 4 grants must still be waiting for money
    assert statuses.get("submitted", 0) >= 4, statuses

    # ---- the fund's figures
    b = balance(api, code, CUR)
    assert b["available"] >= 0 and b["committed"] >= 0, b
    assert b["received"] == 100000 and b["earnings"] == 0 and b["pledged"] == 0, b
    assert b["committed"] + b["disbursed"] + b["available"] == b["received"], b
    assert b["committed"] == total_committed, (b, total_committed)
    assert b["disbursed"] == total_disbursed, (b, total_disbursed)
    assert n_approved * 5000 - released == b["committed"] + b["disbursed"], \
        (n_approved, released, b)

    # ---- the journal says the same
    entries = fund_journal(api, code)
    jf = journal_figures(entries, code)
    for k in ("received", "earnings", "pledged", "committed", "disbursed"):
        assert jf[k] == b[k], (k, jf, b)
    assert jf["cash"] == b["received"] - b["disbursed"], jf
    assert jf["grants_committed"] == b["committed"], jf
    kinds = {}
    for e in entries:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    assert kinds.get("receipt") == 1, kinds
    assert kinds.get("commitment", 0) == n_approved, (kinds, n_approved)
    assert kinds.get("disbursement", 0) == n_paid, (kinds, n_paid)
    n_cancelled = sum(1 for i in range(N_GRANTS) if any(
        lg[0] == i and lg[1] == "grant.cancel" and "result" in lg[3] for lg in log))
    assert kinds.get("commitment_release", 0) == n_cancelled, (kinds, n_cancelled)
    assert set(kinds) <= {"receipt", "commitment", "disbursement", "commitment_release"}, kinds
    disb_amounts = []
    for e in entries_of_kind(entries, "disbursement"):
        sp = short_postings(e, code)
        a = sp.get("commitments")
        assert a and a > 0 and sp == {"commitments": a, "cash": -a, "grants_disbursed": a,
                                      "grants_committed": -a}, e
        disb_amounts.append(a)
    assert sorted(disb_amounts) == sorted(paid_amounts)
    rel = 0
    for e in entries_of_kind(entries, "commitment_release"):
        sp = short_postings(e, code)
        a = sp.get("commitments")
        assert a and a > 0 and sp == {"commitments": a, "grants_committed": -a}, e
        rel += a
    assert rel == released, (rel, released)

    # ---- the trial balance's rows of this fund balance and agree with the journal
    tb = trial_balance(aud, CUR)
    rows = tb_rows(tb, code + ":", CUR)
    assert rows, "no trial balance rows for %s" % code
    assert sum(dr for dr, cr in rows.values()) == sum(cr for dr, cr in rows.values()), rows
    net = {}
    for e in entries:
        for a, v in short_postings(e, code).items():
            net[a] = net.get(a, 0) + v
    for acct, (dr, cr) in rows.items():
        assert dr - cr == net.get(acct[len(code) + 1:], 0), (acct, dr, cr, net)
    assert tb["totals"]["debit"] == tb["totals"]["credit"], tb["totals"]

    # ---- and so does the database's own recomputation
    from_journal = json.loads(env.sql("SELECT fl.fund_balance_from_journal(%s)"
                                       % sql_lit(code)).strip())
    for k in ("received", "earnings", "pledged", "committed", "disbursed", "available"):
        assert m(from_journal[k]) == b[k], (k, from_journal, b)

    outcomes = {}
    for _, method, _, doc in log:
        k = (method,) + (("ok",) if "result" in doc else _reason(doc)[:2])
        outcomes[k] = outcomes.get(k, 0) + 1
    print("race: %.1fs, %d calls, outcomes %r, grants %r, balance %r" % (
        t_race, len(log), outcomes, statuses, b))
    assert time.monotonic() - t0 < 90, "the race took %.1fs" % t_race
