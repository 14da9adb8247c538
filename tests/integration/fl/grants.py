"""Returnees, grants and disbursements (docs/protocol.md: returnee.*, grant.*,
disbursement.*; docs/ledger.md, "Returnees and grants"; the author's design where the contract
is silent): fresh returnees with unique national ids, funded funds, grant applications and
approvals, payments made by one admin and confirmed by another, and the shapes of their
objects.

Money is never a float (decimal strings on the wire, ints of minor units in every model).
"""

import datetime
import re

from fl.env import uniq
from fl.ledger import TIME_RE, all_items, entries_for, minor, new_fund, new_partner

CUR = "EUR"

REGIONS = [  # (name, ISO 3166-2 code): docs/protocol.md
    ("Aragatsotn", "AM-AG"), ("Ararat", "AM-AR"), ("Armavir", "AM-AV"),
    ("Gegharkunik", "AM-GR"), ("Kotayk", "AM-KT"), ("Lori", "AM-LO"), ("Shirak", "AM-SH"),
    ("Syunik", "AM-SU"), ("Tavush", "AM-TV"), ("Vayots Dzor", "AM-VD"), ("Yerevan", "AM-ER"),
]
REGION_NAME = dict((c, n) for n, c in REGIONS)

RETURNEE_KEYS = {"returnee_id", "full_name", "region", "region_code", "returned_from",
                 "returned_on", "gender", "birth_year", "national_id", "created_at"}
GRANT_KEYS = {"grant_id", "status", "amount", "currency", "fund", "region", "region_code",
              "category", "purpose", "returnee_id", "approvals", "approvals_needed",
              "committed", "disbursed", "created_at", "created_by"}
CATEGORIES = ("small_business", "agriculture", "requalification", "employment", "housing",
              "other")
STATES = ("submitted", "approved", "rejected", "withdrawn", "completed", "cancelled")


DISBURSEMENT_KEYS = {"disbursement_id", "grant_id", "amount", "currency", "status",
                     "reference", "bank_ref", "paid_at", "fail_reason", "created_at",
                     "created_by", "decided_by"}

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def m(s):
    """An EUR result string in minor units."""
    return minor(s, CUR)


# --------------------------------------------------------------------------------------------
# Returnees


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def days_ago(n):
    return (today() - datetime.timedelta(days=n)).isoformat()


def national_id():
    return "NID-" + uniq("n").upper()


def returnee_params(region="AM-SH", **kw):
    p = {"full_name": "Returnee " + uniq("r"), "region": region, "returned_from": "RU",
         "returned_on": days_ago(30), "gender": "female", "birth_year": 1985,
         "national_id": national_id()}
    p.update(kw)
    return {k: v for k, v in p.items() if v is not None}


def new_returnee(api, region="AM-SH", **kw):
    """A fresh returnee (returned a month ago from RU, a unique national id)."""
    params = returnee_params(region=region, **kw)
    r = api.ok("returnee.register", params)
    assert isinstance(r.get("returnee_id"), str) and r["returnee_id"], r
    return r


def check_returnee(r):
    assert set(r) >= RETURNEE_KEYS, sorted(RETURNEE_KEYS - set(r))
    assert isinstance(r["returnee_id"], str) and r["returnee_id"], r
    assert REGION_NAME.get(r["region_code"]) == r["region"], r
    assert TIME_RE.match(r["created_at"]), r
    assert r["birth_year"] is None or type(r["birth_year"]) is int, r


# --------------------------------------------------------------------------------------------
# Funds and grants


def funded_fund(api, received="1000.00", currency=CUR, kind="pass_through", dual="100000",
                earnings=None):
    """A fresh fund (dual approval only above `dual`) that has received `received` directly
    from a fresh partner (nothing with received=None), and optional earnings."""
    f = new_fund(api, currency=currency, kind=kind, dual=dual)
    if received is not None:
        p = new_partner(api)
        c = api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                            "amount": received, "currency": currency})
        assert c["status"] == "received", c
    if earnings is not None:
        api.ok("fund.record_earnings", {"code": f["code"], "amount": earnings,
                                        "period": uniq("P")})
    return f


def grant_params(returnee, fund, amount="100.00", category="small_business", purpose=None,
                 **kw):
    p = {"returnee_id": returnee["returnee_id"], "fund": fund["code"], "amount": amount,
         "category": category, "purpose": purpose or "Purpose " + uniq("g")}
    p.update(kw)
    return {k: v for k, v in p.items() if v is not None}


def apply(api, fund, amount="100.00", returnee=None, **kw):
    """A submitted grant of `amount` on `fund` for a fresh (or the given) returnee; kw are
    more grant.apply params (None leaves one out)."""
    r = returnee or new_returnee(api)
    g = api.ok("grant.apply", grant_params(r, fund, amount=amount, **kw))
    assert isinstance(g.get("grant_id"), str) and g["grant_id"], g
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


def check_grant(g):
    assert set(g) >= GRANT_KEYS, sorted(GRANT_KEYS - set(g))
    assert g["status"] in STATES, g
    assert g["category"] in CATEGORIES, g
    assert REGION_NAME.get(g["region_code"]) == g["region"], g
    assert g["approvals_needed"] in (1, 2) and type(g["approvals_needed"]) is int, g
    assert isinstance(g["approvals"], list), g
    for a in g["approvals"]:
        assert set(a) >= {"principal_id", "at", "comment"}, a
        assert TIME_RE.match(a["at"]), a
    assert TIME_RE.match(g["created_at"]), g
    for k in ("amount", "committed", "disbursed"):
        minor(g[k], g["currency"])


def gid(g):
    return {"grant_id": g["grant_id"]}


def commitment_entries(api, code):
    """Every journal entry with a posting on CODE:commitments, oldest first."""
    return entries_for(api, code + ":commitments")


# --------------------------------------------------------------------------------------------
# Disbursements


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
    """Shape of a disbursement object (docs/protocol.md; the keys the brief lists)."""
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


def grant_disbursements(api, grant_id):
    return all_items(api, "disbursement.list", {"grant_id": grant_id}, "disbursements")
