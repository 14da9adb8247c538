"""Helpers for the disbursement and grant-cancellation tests (PROTOCOL sections 7-8:
disbursement.*, grant.cancel; docs/ledger.md, "Returnees and grants"): a payable grant set up
from scratch, the whole journal of one fund (all eight of its accounts) and the fund's figures
recomputed from it.

Kept apart from grantlib.py on purpose (that module belongs to the grant tests); standard
library only; money is never a float (decimal strings on the wire, ints of minor units in
every model).
"""

import re
import threading

from fundlib import Background, Session, uniq
from ledgerlib import (TIME_RE, all_items, check_entry, minor, new_fund, new_partner,
                       postings_of)

CUR = "EUR"

DISBURSEMENT_KEYS = {"disbursement_id", "grant_id", "amount", "currency", "status",
                     "reference", "bank_ref", "paid_at", "fail_reason", "created_at",
                     "created_by", "decided_by"}

FUND_ACCOUNTS = ("cash", "pledges_receivable", "pledged_contributions", "contributions",
                 "earnings", "commitments", "grants_committed", "grants_disbursed")

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def m(s):
    """An EUR result string in minor units."""
    return minor(s, CUR)


# --------------------------------------------------------------------------------------------
# Set-up


def funded_fund(api, received="1000.00", dual="100000"):
    """A fresh pass_through EUR fund (dual approval only above `dual`) that has received
    `received` directly from a fresh partner."""
    f = new_fund(api, currency=CUR, kind="pass_through", dual=dual, prefix="DF")
    p = new_partner(api)
    c = api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                        "amount": received, "currency": CUR})
    assert c["status"] == "received", c
    return f


def new_returnee(api, region="Shirak"):
    r = api.ok("returnee.register", {
        "full_name": "Returnee " + uniq("r"), "region": region, "returned_from": "RU",
        "returned_on": "2026-05-01", "national_id": "NID-" + uniq("d").upper()})
    assert isinstance(r.get("returnee_id"), str) and r["returnee_id"], r
    return r


def grant_apply_params(returnee, fund, amount):
    return {"returnee_id": returnee["returnee_id"], "fund": fund["code"], "amount": amount,
            "category": "small_business", "purpose": "Workshop " + uniq("g")}


def apply(api, fund, amount="100.00", returnee=None):
    """A submitted grant of `amount` on `fund` for a fresh (or the given) returnee."""
    r = returnee or new_returnee(api)
    g = api.ok("grant.apply", grant_apply_params(r, fund, amount))
    assert g["status"] == "submitted", g
    return g


def approve(approver_api, g):
    g2 = approver_api.ok("grant.approve", {"grant_id": g["grant_id"],
                                            "comment": "fine"})
    assert g2["status"] == "approved", g2
    assert m(g2["committed"]) == m(g2["amount"]) and m(g2["disbursed"]) == 0, g2
    return g2


def approved_grant(api, approver_api, fund, amount="100.00"):
    return approve(approver_api, apply(api, fund, amount))


def create(api, g, amount, reference=None):
    params = {"grant_id": g["grant_id"], "amount": amount}
    if reference is not None:
        params["reference"] = reference
    d = api.ok("disbursement.create", params)
    check_disbursement(d)
    assert d["status"] == "pending", d
    return d


def confirm(api, d, bank_ref=None, paid_at=None):
    params = {"disbursement_id": d["disbursement_id"], "bank_ref": bank_ref or uniq("BANK")}
    if paid_at is not None:
        params["paid_at"] = paid_at
    d2 = api.ok("disbursement.confirm", params)
    check_disbursement(d2)
    assert d2["status"] == "paid", d2
    return d2


def did(d):
    return {"disbursement_id": d["disbursement_id"]}


def check_disbursement(d):
    """Shape of a disbursement object (PROTOCOL section 8; the keys the brief lists)."""
    assert set(d) >= DISBURSEMENT_KEYS, sorted(DISBURSEMENT_KEYS - set(d))
    assert isinstance(d["disbursement_id"], str) and d["disbursement_id"], d
    assert d["status"] in ("pending", "paid", "failed"), d
    assert d["currency"] == CUR, d
    assert m(d["amount"]) > 0, d
    assert TIME_RE.match(d["created_at"]), d
    assert isinstance(d["created_by"], str) and d["created_by"], d
    if d["status"] == "pending":
        assert d["bank_ref"] is None and d["paid_at"] is None and d["fail_reason"] is None, d
        assert d["decided_by"] is None, d
    elif d["status"] == "paid":
        assert isinstance(d["bank_ref"], str) and d["bank_ref"], d
        assert TIME_RE.match(d["paid_at"] or ""), d
        assert d["decided_by"] and d["decided_by"] != d["created_by"], d
        assert d["fail_reason"] is None, d
    else:
        assert isinstance(d["fail_reason"], str) and d["fail_reason"], d
        assert d["paid_at"] is None, d


# --------------------------------------------------------------------------------------------
# The books of one fund


def fund_journal(api, code):
    """Every journal entry with a posting on any of the fund's eight accounts, deduplicated
    and ordered by entry id where ids are numeric (first-seen order otherwise). Each entry's
    shape and balance are checked, and all its postings must be on this fund's accounts."""
    seen, out = set(), []
    for a in FUND_ACCOUNTS:
        for e in all_items(api, "ledger.entries", {"account": "%s:%s" % (code, a)},
                           "entries"):
            if e["entry_id"] not in seen:
                seen.add(e["entry_id"])
                out.append(e)
    for e in out:
        check_entry(e)
        for p in e["postings"]:
            assert p["account"].startswith(code + ":"), \
                "entry %r of fund %s posts to another fund" % (e, code)
            assert p["currency"] == CUR, p
    if all(re.match(r"^\D*\d+$", e["entry_id"]) for e in out):
        out.sort(key=lambda e: int(re.sub(r"\D", "", e["entry_id"])))
    return out


def entries_of_kind(entries, kind):
    return [e for e in entries if e["kind"] == kind]


def short_postings(entry, code):
    """{short account name: signed minor amount} of one entry of fund `code`."""
    return {k[len(code) + 1:]: v for k, v in postings_of(entry).items()}


def journal_figures(entries, code):
    """The fund's figures as the journal says them (docs/ledger.md, Balances), plus cash and
    grants_committed, in minor units."""
    sums = {a: 0 for a in FUND_ACCOUNTS}
    for e in entries:
        for a, v in short_postings(e, code).items():
            assert a in sums, (a, e)
            sums[a] += v
    return {
        "received": -sums["contributions"],
        "earnings": -sums["earnings"],
        "pledged": sums["pledges_receivable"],
        "committed": -sums["commitments"],
        "disbursed": sums["grants_disbursed"],
        "cash": sums["cash"],
        "grants_committed": sums["grants_committed"],
    }


def fund_balance(api, code):
    b = api.ok("fund.balance", {"code": code})
    assert b["code"] == code and b["currency"] == CUR, b
    return {k: m(b[k]) for k in ("received", "earnings", "pledged", "committed",
                                 "disbursed", "available")}


def grant_disbursements(api, grant_id):
    return all_items(api, "disbursement.list", {"grant_id": grant_id}, "disbursements")


# --------------------------------------------------------------------------------------------
# Races


def race(daemon, calls, timeout=90):
    """calls: [(token, method, params)]. Each runs in its own thread on its own HTTPS
    connection (connected before the barrier); all are released together. Returns the
    decoded response objects in the order of calls."""
    barrier = threading.Barrier(len(calls))

    def go(token, method, params):
        def run():
            with Session(daemon, token, timeout=60) as s:
                s.connect()
                barrier.wait(30)
                return s.rpc(method, params)[1]
        return run

    jobs = [Background(go(*c)) for c in calls]
    for j in jobs:
        j.start()
    return [j.get(timeout) for j in jobs]


def outcome(doc):
    """'ok', or (code, reason) of an error response."""
    if "result" in doc:
        return "ok"
    err = doc.get("error") or {}
    return err.get("code"), (err.get("data") or {}).get("reason")
