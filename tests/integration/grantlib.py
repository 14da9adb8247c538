"""Shared helpers for the returnee and grant integration tests (PROTOCOL sections 5, 7, 8:
returnee.*, grant.*; the author's design where the contract is silent): fresh returnees with
unique national ids, funded funds, grant applications, approvals raced from many connections,
and the commitment entries of one fund.

Standard library only; money is never a float (decimal strings on the wire, ints of minor
units in every model).
"""

import datetime
import json
import threading

from fundlib import Background, Session, uniq
from ledgerlib import TIME_RE, entries_for, minor, new_fund, new_partner

REGIONS = [  # (name, ISO 3166-2 code): PROTOCOL section 5
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


def funded_fund(api, received="1000.00", currency="EUR", kind="pass_through", dual="100000",
                earnings=None):
    """A fresh fund with one direct contribution of `received` (and optional earnings)."""
    f = new_fund(api, currency=currency, kind=kind, dual=dual)
    if received is not None:
        p = new_partner(api)
        api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                        "amount": received, "currency": currency})
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


def apply(api, returnee, fund, amount="100.00", **kw):
    g = api.ok("grant.apply", grant_params(returnee, fund, amount=amount, **kw))
    assert isinstance(g.get("grant_id"), str) and g["grant_id"], g
    return g


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


def race(daemon, calls, timeout=90):
    """calls: [(token, method, params)]. Each runs in its own thread on its own HTTPS
    connection (connected before the barrier), all released together. Returns the decoded
    response objects in the order of calls."""
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


def leaks(body, secrets):
    """The secrets found in a response body, raw or JSON-escaped (non-ASCII as \\uXXXX)."""
    text = body.decode("utf-8", "replace")
    out = []
    for s in secrets:
        forms = {s, json.dumps(s)[1:-1], json.dumps(s, ensure_ascii=False)[1:-1]}
        if any(f in text for f in forms):
            out.append(s)
    return out
