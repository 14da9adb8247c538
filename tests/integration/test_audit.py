"""The tamper-evident audit trail (docs/audit.md; migrations/functions/70_audit.sql):
one event per successful mutation and per refused attempt (-32001, -32003, -32011), none
for reads, replays and other errors; no personal data in events; the hash chain under
concurrent writers and under two daemons; audit.events paging; signed checkpoints; the JSONL
export and `fundctl audit verify` on honest and tampered files; tampering in the database
pinpointed by audit.verify and by the offline verifier; append-only storage; the signing
key's checks; a paused chainer; a slow writer that holds the chain back.

test_export_order_does_not_depend_on_the_plan fails against the current daemon: the export
leaves the order of an event line and its checkpoint line to PostgreSQL's plan (see its
docstring).

The trail of the shared database is only ever appended to here. Every test that tampers
with history, or needs a trail nobody else chains, works on a side database of its own (a
fresh database of the same cluster, migrated, with its own admin and daemons), dropped at
the end of the module.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time

import pytest

from fl.env import FUNDCTL, FUNDD, ROOT, fake_token, fundctl, remember_token, uniq
from fl.client import (Background, Client, api_of, assert_error, create_principal, http_get,
                       new_client, rpc)
from fl.db import dsn_of, psql, psql_bin
from fl.ledger import missing_like, new_fund, new_partner
from fl.grants import apply, funded_fund, new_returnee
from fl.audit import (AT_RE, CHECKPOINT_KEYS, SideDb, ZERO, all_events, assert_fails_at,
                      check_chain, check_event_shape, checkpoint_message, drop_side_databases,
                      access_events, export_to, gen_ed25519, last_seq, line_of, link, new_events,
                      openssl_sign,
                      openssl_verify, parse_export, pg_digests, verify_file, wait_chained,
                      wait_checkpoint)

CUR = "EUR"


# --------------------------------------------------------------------------------------------
# Principals and fixtures


@pytest.fixture(scope="module")
def appr2(daemon, admin):
    with new_client(daemon, admin, ["approver"], "approver2") as a:
        yield a


@pytest.fixture(scope="module")
def checker(daemon, admin):
    """A second admin: confirms the payments the first one made."""
    with new_client(daemon, admin, ["admin"], "checker") as a:
        yield a


@pytest.fixture(scope="module")
def partner_p(daemon, admin, api):
    pa = new_partner(api)
    p = create_principal(daemon, admin, ["partner"], partner_id=pa["partner_id"])
    with api_of(daemon, p) as a:
        yield a


@pytest.fixture(scope="module")
def cp_daemon(module_daemon_factory):
    """A second daemon on the shared database that signs a checkpoint every second."""
    return module_daemon_factory("audit-cp", {"audit": {"checkpoint_interval_s": 1}})


@pytest.fixture(scope="module")
def side_dbs(env):
    """Names of the side databases made by this module; all dropped at the end (and any
    left over by an earlier, interrupted run at the start)."""
    drop_side_databases(env)
    names = []
    yield names
    drop_side_databases(env, names)


@pytest.fixture(scope="module")
def pubkey(env):
    return os.path.join(env.tls, "audit-ed25519.pub")


@pytest.fixture(scope="module")
def other_key(tmp_path_factory):
    """An Ed25519 key pair that is not the daemon's."""
    return gen_ed25519(str(tmp_path_factory.mktemp("otherkey")), "other")


@pytest.fixture(scope="module")
def world(api, appr):
    """A few objects of every kind, for reads."""
    f = funded_fund(api)
    p = new_partner(api)
    c = api.ok("contribution.pledge", {"partner_id": p["partner_id"], "fund": f["code"],
                                       "amount": "50.00", "currency": CUR})
    g = apply(api, f)
    g = appr.ok("grant.approve", {"grant_id": g["grant_id"]})
    assert g["status"] == "approved", g
    return {"fund": f, "partner": p, "contribution": c, "grant": g}


def _summary(e):
    return (e["method"], e["principal_id"], e["object_id"], e["outcome"], e["error_code"],
            e["reason"])


# methods whose personal data fundd seals before the database sees it (docs/privacy.md)
SEALS = {"returnee.register", "returnee.update", "returnee.find"}


def _check_digests(env, events, calls):
    """Each event's params_sha256 is what PostgreSQL computes for (method, params); for a
    method whose personal data fundd seals, that of the sealed params, never of the
    plaintext: the chain covers no personal data."""
    want = pg_digests(env, calls)
    got = [e["params_sha256"] for e in events]
    assert len(got) == len(want), (got, want)
    for (m, _), g, w in zip(calls, got, want):
        assert (g != w) if m in SEALS else (g == w), (m, g, w)


# --------------------------------------------------------------------------------------------
# 1. An ok event for every mutation, none for reads, replays and other errors


MUTATING = {"principal.create", "principal.confirm", "principal.revoke", "fund.create", "fund.record_earnings",
            "partner.create", "contribution.pledge", "contribution.receive",
            "contribution.cancel", "contribution.write_off", "returnee.register",
            "disbursement.refund", "grant.apply", "grant.approve",
            "grant.reject", "grant.withdraw", "grant.cancel", "disbursement.create",
            "disbursement.confirm", "disbursement.fail"}


def test_ok_event_for_every_mutating_method(env, api, appr, checker):
    mark = last_seq(api)
    done = []   # (method, params without the key, caller, object id)

    def do(who, method, params, obj=None, key=None):
        sent = dict(params)
        if key is not None:
            sent["idempotency_key"] = key
        res = who.ok(method, sent)
        done.append((method, params, who.pid, obj(res) if callable(obj) else obj))
        return res

    pr = do(api, "principal.create", {"name": uniq("ev"), "roles": ["auditor"]},
            lambda r: r["principal_id"], key=uniq("k"))
    remember_token(pr["token"])
    do(api, "principal.revoke", {"principal_id": pr["principal_id"]}, pr["principal_id"])
    pend = do(api, "principal.create", {"name": uniq("ev"), "roles": ["approver"]},
              lambda r: r["principal_id"])
    cf = do(checker, "principal.confirm", {"principal_id": pend["principal_id"]},
            pend["principal_id"], key=uniq("k"))
    remember_token(cf["token"])
    code = uniq("AE").upper()
    do(api, "fund.create", {"code": code, "name": "Audit events", "currency": CUR,
                            "kind": "pass_through", "dual_approval_above": "100000"}, code)
    api.ok("fund.list")                                     # reads in between: no events
    do(api, "fund.record_earnings", {"code": code, "amount": "12.34", "period": "2026-Q3",
                                     "note": "interest \"Q3\""}, code)
    pa = do(api, "partner.create", {"name": "Partner " + uniq("p"), "country": "AM",
                                    "kind": "organisation", "email": "a@example.org"},
            lambda r: r["partner_id"])
    base = {"partner_id": pa["partner_id"], "fund": code, "currency": CUR}
    pl = do(api, "contribution.pledge", dict(base, amount="300.00"),
            lambda r: r["contribution_id"])
    do(api, "contribution.receive", {"contribution_id": pl["contribution_id"],
                                     "bank_ref": uniq("BANK")}, pl["contribution_id"])
    do(api, "contribution.receive", dict(base, amount="2000.00", earmark_region="Shirak"),
       lambda r: r["contribution_id"], key=uniq("k"))
    pl2 = do(api, "contribution.pledge", dict(base, amount="5.00"),
             lambda r: r["contribution_id"])
    do(api, "contribution.cancel", {"contribution_id": pl2["contribution_id"],
                                    "reason": "changed their mind"}, pl2["contribution_id"])
    pl3 = do(api, "contribution.pledge", dict(base, amount="7.00"),
             lambda r: r["contribution_id"])
    do(api, "contribution.write_off", {"contribution_id": pl3["contribution_id"],
                                       "reason": "will not come"}, pl3["contribution_id"],
       key=uniq("k"))
    ret = do(api, "returnee.register", {
        "full_name": "Returnee " + uniq("r"), "region": "AM-SH", "returned_from": "RU",
        "returned_on": "2026-04-01", "gender": "male", "birth_year": 1990,
        "national_id": "NID-" + uniq("e").upper()}, lambda r: r["returnee_id"])
    grants = []
    for _ in range(4):
        grants.append(do(api, "grant.apply", {
            "returnee_id": ret["returnee_id"], "fund": code, "amount": "100.00",
            "category": "agriculture", "purpose": "Greenhouse " + uniq("g")},
            lambda r: r["grant_id"]))
    g1, g2, g3, g4 = [g["grant_id"] for g in grants]
    api.ok("grant.get", {"grant_id": g1})
    do(appr, "grant.approve", {"grant_id": g1, "comment": "fine"}, g1, key=uniq("k"))
    do(appr, "grant.reject", {"grant_id": g2, "reason": "duplicate"}, g2)
    do(api, "grant.withdraw", {"grant_id": g3, "reason": "moved away"}, g3)
    do(appr, "grant.approve", {"grant_id": g4}, g4)
    do(api, "grant.cancel", {"grant_id": g4, "reason": "returnee left"}, g4)
    d1 = do(api, "disbursement.create", {"grant_id": g1, "amount": "40.00",
                                         "reference": "tranche 1"},
            lambda r: r["disbursement_id"])
    d2 = do(api, "disbursement.create", {"grant_id": g1, "amount": "10.00"},
            lambda r: r["disbursement_id"])
    do(checker, "disbursement.confirm", {"disbursement_id": d1["disbursement_id"],
                                         "bank_ref": uniq("PAY")}, d1["disbursement_id"],
       key=uniq("k"))
    do(checker, "disbursement.fail", {"disbursement_id": d2["disbursement_id"],
                                      "reason": "bank refused"}, d2["disbursement_id"])
    do(api, "disbursement.refund", {"disbursement_id": d1["disbursement_id"],
                                    "amount": "5.00", "reason": "returned by the bank"},
       d1["disbursement_id"], key=uniq("k"))
    api.ok("disbursement.list", {"grant_id": g1})

    assert {m for m, _, _, _ in done} == MUTATING
    evs = new_events(api, mark)
    for e in evs:
        check_event_shape(e)
    assert [_summary(e) for e in evs] == [(m, who, obj, "ok", None, None)
                                          for m, _, who, obj in done]
    _check_digests(env, evs, [(m, p) for m, p, _, _ in done])
    assert all(b["seq"] > a["seq"] for a, b in zip(evs, evs[1:]))


def test_reads_leave_no_event(daemon, api, aud, world):
    """Reads leave no event, but an access event for each person whose personal data they
    answer, with the caller's role's purpose (docs/privacy.md)."""
    f, p, c, g = world["fund"], world["partner"], world["contribution"], world["grant"]
    mark = last_seq(api)
    reads = [
        ("system.version", None), ("system.whoami", None), ("region.list", None),
        ("fund.list", None), ("fund.balance", {"code": f["code"]}),
        ("partner.get", {"partner_id": p["partner_id"]}), ("partner.list", {"limit": 5}),
        ("contribution.get", {"contribution_id": c["contribution_id"]}),
        ("contribution.list", {"limit": 5}),
        ("contribution.status", {"contribution_id": c["contribution_id"]}),
        ("returnee.get", {"returnee_id": g["returnee_id"]}), ("returnee.list", {"limit": 5}),
        ("grant.get", {"grant_id": g["grant_id"]}), ("grant.list", {"limit": 5}),
        ("disbursement.list", {"grant_id": g["grant_id"]}),
        ("ledger.entries", {"limit": 5}), ("ledger.trial_balance", {"currency": CUR}),
        ("audit.events", {"limit": 5}), ("audit.verify", None),
    ]
    for who in (api, aud):
        for m, params in reads:
            doc = who.reply(m, params)
            assert "result" in doc, (m, doc)
    api.reply("audit.checkpoint")       # a result, or -32004 before the first checkpoint
    for path in ("/healthz", "/metrics", "/export/ledger?format=csv",
                 "/export/audit?format=jsonl"):
        st, _, _ = http_get(daemon, path, token=aud.token, timeout=60)
        assert st == 200, path
    assert new_events(api, mark) == []
    personal = {"returnee.get", "returnee.list", "grant.get", "grant.list"}
    acc = access_events(api, mark)
    assert {e["method"] for e in acc} == personal, acc
    for who, purpose in ((api, "case_management"), (aud, "audit")):
        mine = [e for e in acc if e["principal_id"] == who.pid]
        assert mine and all(e["purpose"] == purpose for e in mine), mine
        for m in ("returnee.get", "grant.get"):
            assert [e["object_id"] for e in mine if e["method"] == m] == \
                [g["returnee_id"]], (m, mine)


def test_idempotent_replay_leaves_no_second_event(env, api, world):
    f, p = world["fund"], world["partner"]
    params = {"partner_id": p["partner_id"], "fund": f["code"], "amount": "7.00",
              "currency": CUR}
    key = uniq("idem")
    mark = last_seq(api)
    r1 = api.ok("contribution.receive", dict(params, idempotency_key=key))
    r2 = api.ok("contribution.receive", dict(params, idempotency_key=key))
    assert r2 == r1
    # the same key with other params: -32009, no event either
    api.err("contribution.receive", dict(params, amount="8.00", idempotency_key=key), -32009,
            reason="idempotency_mismatch")
    evs = new_events(api, mark)
    assert [_summary(e) for e in evs] == [
        ("contribution.receive", api.pid, r1["contribution_id"], "ok", None, None)]
    _check_digests(env, evs, [("contribution.receive", params)])


def test_concurrent_replays_leave_one_event(daemon, admin, api, world):
    """Twelve connections send the same call with the same key at once: one of them runs
    it, the others wait for it and replay its result; one event."""
    f, p = world["fund"], world["partner"]
    params = {"partner_id": p["partner_id"], "fund": f["code"], "amount": "9.00",
              "currency": CUR, "idempotency_key": uniq("race")}
    n = 12
    barrier = threading.Barrier(n)

    def go():
        with Client(daemon, admin, timeout=60) as s:
            s.connect()
            barrier.wait(30)
            return s.call("contribution.receive", params)

    mark = last_seq(api)
    jobs = [Background(go) for _ in range(n)]
    for j in jobs:
        j.start()
    results = [j.get(60) for j in jobs]
    assert all(r == results[0] for r in results), results
    evs = new_events(api, mark)
    assert [_summary(e) for e in evs] == [
        ("contribution.receive", api.pid, results[0]["contribution_id"], "ok", None, None)]


def test_other_errors_leave_no_event(api, appr, world):
    f, p, g = world["fund"], world["partner"], world["grant"]
    poor = new_fund(api, currency=CUR, kind="pass_through", dual="100000", prefix="AP")
    gp = apply(api, poor, "100.00")
    r = new_returnee(api)
    mark = last_seq(api)
    # -32602 (refused by the daemon, and by the database)
    api.err("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                     "amount": "abc", "currency": CUR}, -32602)
    api.err("fund.create", {"name": "no code"}, -32602)
    api.err("contribution.receive", {"contribution_id": world["contribution"]
                                     ["contribution_id"], "currency": CUR}, -32602)
    appr.err("grant.approve", {"grant_id": 42}, -32602)
    # -32004
    appr.err("grant.approve", {"grant_id": missing_like(g["grant_id"])}, -32004)
    api.err("principal.revoke", {"principal_id": missing_like(api.pid)}, -32004)
    # -32009
    api.err("grant.withdraw", {"grant_id": g["grant_id"], "reason": "x"}, -32009,
            reason="wrong_state")
    api.err("fund.create", {"code": f["code"], "name": "again", "currency": CUR,
                            "kind": "pass_through", "dual_approval_above": "1"}, -32009)
    api.err("returnee.register", {"full_name": "Someone", "region": "Shirak",
                                  "returned_from": "RU", "returned_on": "2026-05-01",
                                  "national_id": r["national_id"]}, -32009,
            reason="duplicate_returnee")
    api.err("principal.revoke", {"principal_id": api.pid}, -32009)
    # -32010
    appr.err("grant.approve", {"grant_id": gp["grant_id"]}, -32010,
             reason="insufficient_funds")
    assert new_events(api, mark) == []
    assert api.ok("grant.get", {"grant_id": gp["grant_id"]})["status"] == "submitted"


# --------------------------------------------------------------------------------------------
# 2. Refusals


def test_refused_bad_token(env, daemon, api, admin):
    gone = create_principal(daemon, admin, ["admin"], name=uniq("gone"))
    api.ok("principal.revoke", {"principal_id": gone["principal_id"]})
    code = uniq("RF").upper()
    fparams = {"code": code, "name": "never", "currency": CUR, "kind": "pass_through",
               "dual_approval_above": "1"}
    mark = last_seq(api)
    bad = fake_token()
    with Client(daemon, token=bad) as s:
        r, doc = s.rpc("fund.create", dict(fparams, idempotency_key=uniq("k")))
        assert r.status == 401, r
        assert_error(doc, -32001, reason="bad_credentials")
        # a batch: one 401 answer for the request, one event per refused call, each
        # naming the id it names
        r = s.post_rpc([{"jsonrpc": "2.0", "id": 1, "method": "fund.list"},
                        {"jsonrpc": "2.0", "id": 2, "method": "partner.get",
                         "params": {"partner_id": "pa_refused_one"}}])
        assert r.status == 401, r
        assert_error(r.json(), -32001, reason="bad_credentials")
    # a revoked principal's token is refused too, and a read is audited like a mutation
    _, doc = rpc(daemon, gone["token"], "system.whoami")
    assert_error(doc, -32001, reason="bad_credentials")
    assert code not in [x["code"] for x in api.ok("fund.list")["funds"]]
    evs = new_events(api, mark)
    for e in evs:
        check_event_shape(e)
    assert [_summary(e) for e in evs] == [
        ("fund.create", None, code, "refused", -32001, "bad_credentials"),
        ("fund.list", None, None, "refused", -32001, "bad_credentials"),
        ("partner.get", None, "pa_refused_one", "refused", -32001, "bad_credentials"),
        ("system.whoami", None, None, "refused", -32001, "bad_credentials")]
    _check_digests(env, evs, [("fund.create", fparams), ("fund.list", {}),
                              ("partner.get", {"partner_id": "pa_refused_one"}),
                              ("system.whoami", {})])


@pytest.mark.parametrize("header,reason", [
    (None, "no_credentials"),
    ("Basic Zm9vOmJhcg==", "bad_authorization_header"),
    ("Bearer", "bad_authorization_header"),
])
def test_refused_without_usable_credentials(env, daemon, api, header, reason):
    mark = last_seq(api)
    with Client(daemon) as s:
        r = s.post_rpc({"jsonrpc": "2.0", "id": 1, "method": "fund.create",
                        "params": {"code": "NOPE"}},
                       headers={"Authorization": header} if header else None)
    assert r.status == 401, r
    assert_error(r.json(), -32001, reason=reason)
    evs = new_events(api, mark)
    assert [_summary(e) for e in evs] == [("http.rpc", None, None, "refused", -32001,
                                           reason)]
    check_event_shape(evs[0])
    assert evs[0]["params_sha256"] == hashlib.sha256(b"http.rpc {}").hexdigest()


def test_refusal_comes_before_bad_params(env, daemon, api, aud):
    """A call that may not be made is refused (and audited) even when its params are bad:
    nobody learns how the params of a call they may not make are checked."""
    mark = last_seq(api)
    bad_params = {"code": "lower-case", "amount": "-1"}
    _, doc = rpc(daemon, fake_token(), "fund.record_earnings", bad_params)
    assert_error(doc, -32001, reason="bad_credentials")
    aud.err("fund.record_earnings", bad_params, -32003, reason="role_required")
    # allowed to call it: the params error, and no event
    api.err("fund.record_earnings", bad_params, -32602)
    evs = new_events(api, mark)
    assert [_summary(e) for e in evs] == [
        ("fund.record_earnings", None, "lower-case", "refused", -32001,
         "bad_credentials"),
        ("fund.record_earnings", aud.pid, "lower-case", "refused", -32003,
         "role_required")]


def test_refused_role_required(env, api, aud, appr, partner_p):
    code = uniq("RR").upper()
    fparams = {"code": code, "name": "forbidden", "currency": CUR, "kind": "pass_through",
               "dual_approval_above": "1"}
    mark = last_seq(api)
    aud.err("fund.create", fparams, -32003, reason="role_required")
    partner_p.err("fund.create", fparams, -32003, reason="role_required")
    calls = [("fund.create", fparams), ("fund.create", fparams)]
    want = [("fund.create", aud.pid, code, "refused", -32003, "role_required"),
            ("fund.create", partner_p.pid, code, "refused", -32003, "role_required")]
    for who in (partner_p, appr):
        for m, params in (("audit.events", {"limit": 3}), ("audit.checkpoint", None),
                          ("audit.verify", {"from_seq": 1})):
            who.err(m, params, -32003, reason="role_required")
            calls.append((m, params or {}))
            want.append((m, who.pid, None, "refused", -32003, "role_required"))
    assert all(x["code"] != code for x in api.ok("fund.list")["funds"])
    evs = new_events(api, mark)
    for e in evs:
        check_event_shape(e)
    assert [_summary(e) for e in evs] == want
    _check_digests(env, evs, calls)


def test_refused_four_eyes_already_approved(env, api, appr, appr2):
    f = funded_fund(api, dual="50")
    g = apply(api, f, "100.00")                       # above 50: two approvals
    gid = {"grant_id": g["grant_id"]}
    mark = last_seq(api)
    first = appr.ok("grant.approve", gid)
    assert first["status"] == "submitted" and len(first["approvals"]) == 1, first
    key = uniq("k")
    appr.err("grant.approve", dict(gid, comment="again", idempotency_key=key), -32011,
             reason="already_approved")
    now = api.ok("grant.get", gid)
    assert now["status"] == "submitted" and now["approvals"] == first["approvals"], now
    assert now["committed"] == "0.00", now
    # the refusal did not consume the key: the same call is refused again, not replayed
    appr.err("grant.approve", dict(gid, comment="again", idempotency_key=key), -32011,
             reason="already_approved")
    done = appr2.ok("grant.approve", gid)
    assert done["status"] == "approved", done
    evs = new_events(api, mark)
    assert [_summary(e) for e in evs] == [
        ("grant.approve", appr.pid, g["grant_id"], "ok", None, None),
        ("grant.approve", appr.pid, g["grant_id"], "refused", -32011, "already_approved"),
        ("grant.approve", appr.pid, g["grant_id"], "refused", -32011, "already_approved"),
        ("grant.approve", appr2.pid, g["grant_id"], "ok", None, None)]
    _check_digests(env, evs, [("grant.approve", gid),
                              ("grant.approve", dict(gid, comment="again")),
                              ("grant.approve", dict(gid, comment="again")),
                              ("grant.approve", gid)])


def test_refused_self_approval_keeps_the_key(env, daemon, admin, api):
    x = api_of(daemon, create_principal(daemon, admin, ["admin", "approver"],
                                                 name=uniq("maker")))
    try:
        f = funded_fund(api)
        own = apply(x, f, "10.00")
        other = apply(api, f, "20.00")
        key = uniq("k")
        mark = last_seq(api)
        x.err("grant.approve", {"grant_id": own["grant_id"], "idempotency_key": key},
              -32011, reason="self_approval")
        now = api.ok("grant.get", {"grant_id": own["grant_id"]})
        assert now["status"] == "submitted" and now["approvals"] == [], now
        # the same key on a call that may succeed is a first call, not a mismatch
        ok = x.ok("grant.approve", {"grant_id": other["grant_id"], "idempotency_key": key})
        assert ok["status"] == "approved", ok
        again = x.ok("grant.approve", {"grant_id": other["grant_id"],
                                       "idempotency_key": key})
        assert again == ok                                       # a replay: no event
        evs = new_events(api, mark)
        assert [_summary(e) for e in evs] == [
            ("grant.approve", x.pid, own["grant_id"], "refused", -32011, "self_approval"),
            ("grant.approve", x.pid, other["grant_id"], "ok", None, None)]
        _check_digests(env, evs, [("grant.approve", {"grant_id": own["grant_id"]}),
                                  ("grant.approve", {"grant_id": other["grant_id"]})])
    finally:
        x.close()


def test_refused_same_maker_and_checker(env, api, appr, checker):
    f = funded_fund(api)
    g = appr.ok("grant.approve", {"grant_id": apply(api, f, "100.00")["grant_id"]})
    d1 = api.ok("disbursement.create", {"grant_id": g["grant_id"], "amount": "30.00"})
    bal = api.ok("fund.balance", {"code": f["code"]})
    key = uniq("k")
    c1 = {"disbursement_id": d1["disbursement_id"], "bank_ref": "B1"}
    mark = last_seq(api)
    api.err("disbursement.confirm", dict(c1, idempotency_key=key), -32011,
            reason="same_maker_and_checker")
    ds = api.ok("disbursement.list", {"grant_id": g["grant_id"]})["disbursements"]
    assert [(d["disbursement_id"], d["status"]) for d in ds] == [
        (d1["disbursement_id"], "pending")]
    assert api.ok("fund.balance", {"code": f["code"]}) == bal
    gnow = api.ok("grant.get", {"grant_id": g["grant_id"]})
    assert (gnow["status"], gnow["disbursed"]) == ("approved", "0.00"), gnow
    # the key is still free: the maker confirms somebody else's payment with it
    d2 = checker.ok("disbursement.create", {"grant_id": g["grant_id"], "amount": "20.00"})
    c2 = {"disbursement_id": d2["disbursement_id"], "bank_ref": "B2"}
    paid = api.ok("disbursement.confirm", dict(c2, idempotency_key=key))
    assert paid["status"] == "paid", paid
    assert checker.ok("disbursement.confirm", c1)["status"] == "paid"
    evs = new_events(api, mark)
    assert [_summary(e) for e in evs] == [
        ("disbursement.confirm", api.pid, d1["disbursement_id"], "refused", -32011,
         "same_maker_and_checker"),
        ("disbursement.create", checker.pid, d2["disbursement_id"], "ok", None, None),
        ("disbursement.confirm", api.pid, d2["disbursement_id"], "ok", None, None),
        ("disbursement.confirm", checker.pid, d1["disbursement_id"], "ok", None, None)]
    _check_digests(env, evs, [
        ("disbursement.confirm", c1),
        ("disbursement.create", {"grant_id": g["grant_id"], "amount": "20.00"}),
        ("disbursement.confirm", c2), ("disbursement.confirm", c1)])


@pytest.mark.parametrize("path,method", [
    ("/metrics", "http.metrics"),
    ("/export/ledger?format=csv", "http.export_ledger"),
    ("/export/audit?format=jsonl", "http.export_audit"),
])
def test_refused_http_endpoints(env, daemon, api, appr, partner_p, path, method):
    mark = last_seq(api)
    cases = [(None, 401, -32001, None, "no_credentials"),
             (fake_token(), 401, -32001, None, "bad_credentials"),
             (appr.token, 403, -32003, appr.pid, "role_required"),
             (partner_p.token, 403, -32003, partner_p.pid, "role_required")]
    for tok, status, code, _, reason in cases:
        st, _, body = http_get(daemon, path, token=tok)
        assert st == status, (path, tok is None, st, body[:200])
        err = json.loads(body)["error"]
        assert (err["code"], err["data"]["reason"]) == (code, reason), err
    evs = new_events(api, mark)
    assert [_summary(e) for e in evs] == [(method, pid, None, "refused", code, reason)
                                          for _, _, code, pid, reason in cases]
    for e in evs:
        check_event_shape(e)
        assert e["params_sha256"] == hashlib.sha256((method + " {}").encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# 3. No personal data


def test_no_personal_data_in_events(env, daemon, api, aud):
    tag = uniq("pd").replace("-", "")
    full_name = "Զաբել Secretsurname%s" % tag
    nid = "NID-PERSONAL-%s" % tag.upper()
    params = {"full_name": full_name, "region": "Syunik", "returned_from": "DE",
              "returned_on": "2026-03-03", "gender": "female", "birth_year": 1979,
              "national_id": nid}
    mark = last_seq(api)
    r = api.ok("returnee.register", params)
    evs = new_events(api, mark)
    assert [_summary(e) for e in evs] == [("returnee.register", api.pid, r["returnee_id"],
                                           "ok", None, None)]
    _check_digests(env, evs, [("returnee.register", params)])
    personal = [full_name, "Secretsurname" + tag, "Զաբել", nid, nid.lower()]
    everything = all_events(aud)
    for text in (json.dumps(everything), json.dumps(everything, ensure_ascii=False)):
        for s in personal:
            assert s not in text, "%r in audit.events" % s
    st, _, body = http_get(daemon, "/export/audit?format=jsonl", token=aud.token,
                           timeout=60)
    assert st == 200
    text = body.decode("utf-8")
    for s in personal:
        for form in (s, json.dumps(s)[1:-1]):
            assert form not in text, "%r in the audit export" % form


# --------------------------------------------------------------------------------------------
# 4. The chain under concurrent writers; audit.events paging


def test_chain_under_concurrent_writers(daemon, admin, api, aud, pubkey, tmp_path):
    f = new_fund(api, currency=CUR, kind="pass_through", dual="100000", prefix="AC")
    p = new_partner(api)
    threads, per = 30, 10
    barrier = threading.Barrier(threads + 1)
    mark = last_seq(api)
    stop = threading.Event()

    def watcher():
        """While the writers run: audit.verify stays ok (an unchained tail is no error),
        and every export, one snapshot with its unchained events last, verifies offline."""
        seen = []
        with Client(daemon, aud.token, timeout=60) as s:
            s.connect()
            barrier.wait(30)
            n = 0
            while not stop.is_set() or n < 2:
                v = s.call("audit.verify")
                path = str(tmp_path / ("during-%d.jsonl" % n))
                export_to(daemon, aud.token, path)
                q = verify_file(path, pubkey)
                seen.append((v, q.returncode, q.stdout[:200] + q.stderr[:300]))
                n += 1
        return seen

    def writer(i):
        def run():
            ids = []
            with Client(daemon, admin, timeout=60) as s:
                s.connect()
                barrier.wait(30)
                for j in range(per):
                    c = s.call("contribution.receive", {
                        "partner_id": p["partner_id"], "fund": f["code"],
                        "amount": "%d.%02d" % (i + 1, j), "currency": CUR})
                    ids.append(c["contribution_id"])
            return ids
        return run

    jobs = [Background(writer(i)) for i in range(threads)]
    watch = Background(watcher)
    for j in jobs + [watch]:
        j.start()
    try:
        ids = [c for j in jobs for c in j.get(120)]
    finally:
        stop.set()
    for v, rc, out in watch.get(120):
        assert v["ok"] is True and v["first_bad_seq"] is None, v
        assert rc == 0, out
    assert len(ids) == len(set(ids)) == threads * per
    evs = wait_chained(aud)
    check_chain(evs)                                   # the whole trail, recomputed
    mine = [e for e in evs if e["seq"] > mark]
    assert len(mine) == threads * per, "expected only the writers' events: %d" % len(mine)
    assert sorted(e["object_id"] for e in mine) == sorted(ids)
    assert {(e["method"], e["principal_id"], e["outcome"]) for e in mine} == {
        ("contribution.receive", api.pid, "ok")}
    v = aud.ok("audit.verify")
    assert v["ok"] is True and v["first_bad_seq"] is None, v
    assert v["verified"] == len(evs), (v, len(evs))
    assert v.get("reason") is None, v


def test_audit_events_paging(api, aud):
    for _ in range(3):
        new_partner(api)
    full = wait_chained(aud)
    assert len(full) >= 20
    # pages of 7 from the 20th-last event
    start = full[-20]["seq"]
    want = [e for e in full if e["seq"] >= start]
    got, cur, sizes = [], start, []
    while cur is not None:
        res = aud.ok("audit.events", {"from_seq": cur, "limit": 7})
        page, nxt = res["events"], res["next_cursor"]
        assert len(page) <= 7 and page, res
        if nxt is not None:
            assert type(nxt) is int and nxt > page[-1]["seq"], res
        got.extend(page)
        sizes.append(len(page))
        cur = nxt
        assert len(sizes) < 10
    assert got == want
    assert sizes == [7, 7, 6]
    # from_seq names the first seq to return, whether or not an event has it
    assert aud.ok("audit.events", {"from_seq": full[-1]["seq"]})["events"] == [full[-1]]
    end = aud.ok("audit.events", {"from_seq": full[-1]["seq"] + 1})
    assert end == {"events": [], "next_cursor": None}
    # the default page is 100 long; limit 1 pages one by one
    first = aud.ok("audit.events")
    assert first["events"] == full[:100]
    assert first["next_cursor"] == (full[100]["seq"] if len(full) > 100 else None)
    one = aud.ok("audit.events", {"limit": 1})
    assert one == {"events": full[:1], "next_cursor": full[1]["seq"]}
    # audit.verify over a range
    lo, hi = full[-20]["seq"], full[-5]["seq"]
    v = aud.ok("audit.verify", {"from_seq": lo, "to_seq": hi})
    assert v["ok"] is True and v["first_bad_seq"] is None, v
    assert v["verified"] == len([e for e in full if lo <= e["seq"] <= hi]), v


@pytest.mark.parametrize("method,params,field", [
    ("audit.events", {"from_seq": -1}, "from_seq"),
    ("audit.events", {"from_seq": "1"}, "from_seq"),
    ("audit.events", {"from_seq": 1.5}, "from_seq"),
    ("audit.events", {"limit": 0}, "limit"),
    ("audit.events", {"limit": 1001}, "limit"),
    ("audit.events", {"cursor": "x"}, "cursor"),
    ("audit.verify", {"to_seq": -2}, "to_seq"),
    ("audit.verify", {"from_seq": 10, "to_seq": 9}, "to_seq"),
    ("audit.checkpoint", {"seq": 1}, "seq"),
])
def test_audit_bad_params(api, aud, method, params, field):
    mark = last_seq(api)
    aud.err(method, params, -32602, field=field)
    assert new_events(api, mark) == []


# --------------------------------------------------------------------------------------------
# 5. Checkpoints


def test_checkpoint_signs_the_chain_head(env, api, aud, cp_daemon, pubkey, tmp_path):
    new_partner(api)
    evs = wait_chained(aud)
    head = evs[-1]
    cp = wait_checkpoint(aud, head["seq"])
    assert set(cp) == CHECKPOINT_KEYS, cp
    assert cp["seq"] == head["seq"], (cp, head)
    assert cp["head_hash"] == head["hash"]
    assert AT_RE.match(cp["signed_at"]) and cp["signed_at"] >= head["at"], cp
    with open(pubkey) as f:
        assert cp["public_key"] == f.read()
    sig = bytes.fromhex(cp["signature"])
    assert len(sig) == 64 and cp["signature"] == sig.hex()
    tmp = str(tmp_path)
    msg = checkpoint_message(cp)
    assert msg == ("fl-audit-checkpoint\n%d\n%s\n%s\n" % (
        cp["seq"], cp["head_hash"], cp["signed_at"])).encode()
    assert openssl_verify(tmp, pubkey, msg, sig)
    for i in (0, 31, 63):
        bad = sig[:i] + bytes([sig[i] ^ 0x01]) + sig[i + 1:]
        assert not openssl_verify(tmp, pubkey, msg, bad), i
    # the signature covers seq, head hash and time
    assert not openssl_verify(tmp, pubkey, checkpoint_message(dict(cp, seq=cp["seq"] + 1)),
                              sig)
    assert not openssl_verify(tmp, pubkey, checkpoint_message(dict(cp, head_hash=ZERO)), sig)
    # the same for the main daemon's reply and audit.verify agrees
    assert api.ok("audit.checkpoint")["seq"] >= cp["seq"]
    v = aud.ok("audit.verify")
    assert v["ok"] is True, v


# --------------------------------------------------------------------------------------------
# 6. The export and fundctl audit verify


@pytest.fixture(scope="module")
def exported(env, daemon, api, aud, cp_daemon, tmp_path_factory):
    """An export of the shared trail, fully chained, whose last line is a checkpoint."""
    for _ in range(4):
        new_partner(api)
    head = wait_chained(aud)[-1]
    wait_checkpoint(aud, head["seq"])
    d = str(tmp_path_factory.mktemp("export"))
    path = os.path.join(d, "audit.jsonl")
    lines = export_to(daemon, aud.token, path)
    docs = parse_export(lines)
    return {"dir": d, "path": path, "lines": lines, "docs": docs}


def test_export_jsonl(env, daemon, api, aud, exported, pubkey, tmp_path):
    st, headers, body = http_get(daemon, "/export/audit?format=jsonl",
                                 token=aud.token, timeout=60)
    assert st == 200
    text = body.decode("utf-8")
    assert text.endswith("\n")
    docs = [json.loads(l) for l in text.splitlines()]
    events = [d for d in docs if d["type"] == "event"]
    cps = [d for d in docs if d["type"] == "checkpoint"]
    assert events and cps
    # events in seq order; each checkpoint right after the event at its seq; the signing
    # key (key 1: the daemon's, never rotated here) right before the event of the first
    # checkpoint (test_audit_keys.py has rotations)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs))
    keys = [i for i, d in enumerate(docs) if d["type"] == "key"]
    assert len(keys) == 1 and docs[keys[0]]["key_no"] == 1, keys
    assert docs[keys[0] + 2] == cps[0] and docs[keys[0] + 1]["seq"] == cps[0]["seq"]
    with open(pubkey) as f:
        assert docs[keys[0]]["public_key"] == f.read()
    for i, d in enumerate(docs):
        assert d["type"] in ("event", "checkpoint", "key"), d
        if d["type"] == "checkpoint":
            assert set(d) == CHECKPOINT_KEYS | {"type"}, d
            assert i > 0 and docs[i - 1]["type"] == "event" and \
                docs[i - 1]["seq"] == d["seq"], (docs[i - 1], d)
            assert d["head_hash"] == docs[i - 1]["hash"], d
    assert len({c["seq"] for c in cps}) == len(cps)
    # the same events as audit.events
    api_events = all_events(aud)
    assert [{k: v for k, v in e.items() if k != "type"} for e in events] == api_events
    check_chain(api_events)
    # the newest checkpoint verifies with openssl, as audit.checkpoint's does
    last = cps[-1]
    assert openssl_verify(str(tmp_path), pubkey, checkpoint_message(last),
                          bytes.fromhex(last["signature"]))
    # a client may also read the export as admin
    st, _, _ = http_get(daemon, "/export/audit?format=jsonl", token=api.token,
                        timeout=60)
    assert st == 200


@pytest.mark.parametrize("query", ["?format=csv", "?format=jsonl&colour=red", "?from=2026-01-01",
                                   "?format=xml", "?format"])
def test_export_bad_params_400(daemon, api, aud, query):
    mark = last_seq(api)
    st, _, body = http_get(daemon, "/export/audit" + query, token=aud.token)
    assert st == 400, (query, body[:200])
    assert last_seq(api) == mark


def test_fundctl_verifies_the_export(exported, pubkey):
    p = verify_file(exported["path"], pubkey)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert p.stdout.startswith("ok:"), p.stdout
    n = sum(1 for d in exported["docs"] if d["type"] == "event")
    assert re.search(r"\b%d events?\b" % n, p.stdout), p.stdout
    # stdin too
    with open(exported["path"]) as f:
        q = subprocess.run([FUNDCTL, "audit", "verify", "-", "--pubkey", pubkey],
                           stdin=f, capture_output=True, text=True, timeout=60)
    assert q.returncode == 0 and q.stdout.startswith("ok:"), (q.stdout, q.stderr)


def _spot(docs):
    """Index of an event line followed by two more event lines (no checkpoint between),
    in the second half of the export."""
    for i in range(len(docs) // 2, len(docs) - 2):
        if all(docs[j]["type"] == "event" for j in (i - 1, i, i + 1, i + 2)):
            return i
    raise AssertionError("no three consecutive event lines in the export")


def _cp_spot(docs):
    """Index of a checkpoint line in the middle of the export (not the last line)."""
    idx = [i for i, d in enumerate(docs) if d["type"] == "checkpoint"]
    assert idx
    mid = [i for i in idx if i < len(docs) - 1]
    return (mid or idx)[len(mid or idx) // 2]


def _dump(d):
    return json.dumps(d, separators=(",", ":"))


def _write(path, lines):
    with open(path, "w") as f:
        f.write("".join(l + "\n" for l in lines))


TAMPER_FILE_CASES = ["object_id", "principal_id", "method", "at", "params_sha256",
                     "outcome", "deleted", "swapped", "forged_rechained", "forged_copy",
                     "cp_flipped_signature", "cp_other_key", "cp_head_hash", "cp_seq",
                     "wrong_pubkey", "duplicated_line", "duplicate_key", "seq_as_string",
                     "unchained_then_chained", "half_chained", "upper_case_hash",
                     "first_removed", "nul_in_field", "error_code_on_ok", "non_ascii"]


@pytest.mark.parametrize("case", TAMPER_FILE_CASES)
def test_fundctl_pinpoints_a_tampered_file(exported, pubkey, other_key, case, tmp_path):
    lines, docs = list(exported["lines"]), [dict(d) for d in exported["docs"]]
    i = _spot(docs)
    ev, nxt = docs[i], docs[i + 1]
    path = str(tmp_path / ("tampered-%s.jsonl" % case))
    key = pubkey
    if case in ("object_id", "principal_id", "method", "at", "params_sha256", "outcome"):
        changed = dict(ev)
        if case == "at":
            changed["at"] = ev["at"][:-2] + ("1" if ev["at"][-2] != "1" else "2") + "Z"
        elif case == "params_sha256":
            changed["params_sha256"] = hashlib.sha256(b"other").hexdigest()
        elif case == "method":
            changed["method"] = "fund.create" if ev["method"] != "fund.create" else \
                "partner.create"
        elif case == "outcome":
            if ev["outcome"] == "ok":
                changed.update(outcome="refused", error_code=-32003, reason="role_required")
            else:
                changed.update(outcome="ok", error_code=None, reason=None)
        else:
            changed[case] = "pr_tampered000000000" if case == "principal_id" else "tampered"
        lines[i] = _dump(changed)
        want = (i + 1, ev["seq"])
    elif case == "deleted":
        del lines[i]
        want = (i + 1, nxt["seq"])               # the next event no longer links
    elif case == "swapped":
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
        want = (i + 1, nxt["seq"])
    elif case == "forged_rechained":
        # a well-formed event, correctly chained after ev, taking nxt's seq: only the
        # order of what follows can give it away
        forged = dict(ev, seq=nxt["seq"], object_id="FORGED", prev_hash=ev["hash"])
        forged["hash"] = link(ev["hash"], forged)
        lines.insert(i + 1, _dump(forged))
        want = (i + 3, nxt["seq"])
    elif case == "forged_copy":
        forged = dict(ev, seq=nxt["seq"], object_id="FORGED")
        lines.insert(i + 1, _dump(forged))
        want = (i + 2, nxt["seq"])
    elif case.startswith("cp_"):
        j = _cp_spot(docs)
        cp = dict(docs[j])
        if case == "cp_flipped_signature":
            sig = bytearray.fromhex(cp["signature"])
            sig[5] ^= 0x80
            cp["signature"] = sig.hex()
        elif case == "cp_other_key":
            priv, pub = other_key
            cp["signature"] = openssl_sign(str(tmp_path), priv, checkpoint_message(cp)).hex()
            with open(pub) as f:
                cp["public_key"] = f.read()
        elif case == "cp_head_hash":
            cp["head_hash"] = docs[j - 2]["hash"] if docs[j - 2]["type"] == "event" \
                else hashlib.sha256(b"x").hexdigest()
        else:
            # moved past the next event and made to match the chain there: only the
            # signature (over seq, head_hash and signed_at) gives it away
            nx = docs[j + 1]
            assert nx["type"] == "event", nx
            cp.update(seq=nx["seq"], head_hash=nx["hash"])
            lines[j], lines[j + 1] = lines[j + 1], _dump(cp)
            _write(path, lines)
            assert_fails_at(verify_file(path, key), j + 2, cp["seq"], case)
            return
        lines[j] = _dump(cp)
        want = (j + 1, cp["seq"])
    elif case == "duplicated_line":
        lines.insert(i + 1, lines[i])
        want = (i + 2, ev["seq"])
    elif case == "duplicate_key":
        # two values for one key: parsers that keep the first and the last disagree
        assert lines[i].endswith("}")
        lines[i] = lines[i][:-1] + ', "object_id" : "FORGED"}'
        want = (i + 1, None)
    elif case == "seq_as_string":
        lines[i] = _dump(dict(ev, seq=str(ev["seq"])))
        want = (i + 1, None)
    elif case == "unchained_then_chained":
        lines[i] = _dump(dict(ev, prev_hash=None, hash=None))
        want = (i + 2, nxt["seq"])
    elif case == "half_chained":
        lines[i] = _dump(dict(ev, prev_hash=None))
        want = (i + 1, ev["seq"])
    elif case == "upper_case_hash":
        lines[i] = _dump(dict(ev, hash=ev["hash"].upper()))
        want = (i + 1, ev["seq"])
    elif case == "first_removed":
        del lines[0]
        want = (1, docs[1]["seq"])               # the chain no longer starts at zero
    elif case in ("nul_in_field", "non_ascii"):
        # a value that a C string or an ASCII check would cut or change back
        tail = "\\u0000FORGED" if case == "nul_in_field" else "\\u00e9"   # JSON escapes
        k = next(k for k in range(i, len(docs) - 1) if docs[k]["type"] == "event" and
                 docs[k]["object_id"] is not None)
        rest = {kk: vv for kk, vv in docs[k].items() if kk != "object_id"}
        lines[k] = _dump(rest)[:-1] + ',"object_id":"%s%s"}' % (docs[k]["object_id"], tail)
        want = (k + 1, docs[k]["seq"])
    elif case == "error_code_on_ok":
        k = next(k for k in range(i, len(docs) - 1) if docs[k]["type"] == "event" and
                 docs[k]["outcome"] == "ok")
        lines[k] = _dump(dict(docs[k], error_code=-32003))
        want = (k + 1, docs[k]["seq"])
    elif case == "wrong_pubkey":
        # the first key line (key 1, from seq 1) is not the given key
        key = other_key[1]
        j = [k for k, d in enumerate(docs) if d["type"] == "key"][0]
        want = (j + 1, 1)
    _write(path, lines)
    p = verify_file(path, key)
    assert_fails_at(p, want[0], want[1], case)


def test_fundctl_extended_tail_is_not_covered(exported, pubkey, tmp_path):
    """A forged event appended after the last checkpoint chains correctly: the verifier
    accepts the file but says the event is not covered by a signature (docs/audit.md)."""
    docs = exported["docs"]
    assert docs[-1]["type"] == "checkpoint"
    last = [d for d in docs if d["type"] == "event"][-1]
    forged = dict(last, seq=last["seq"] + 1, object_id="APPENDED", prev_hash=last["hash"])
    forged["hash"] = link(last["hash"], forged)
    path = str(tmp_path / "extended.jsonl")
    _write(path, exported["lines"] + [_dump(forged)])
    p = verify_file(path, pubkey)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert p.stdout.startswith("ok:") and "not yet covered by a signature" in p.stdout, \
        p.stdout
    q = verify_file(exported["path"], pubkey)
    assert q.returncode == 0 and "not yet covered" not in q.stdout, q.stdout


def test_fundctl_verify_exit_2(exported, pubkey, tmp_path):
    junk = str(tmp_path / "junk.pem")
    with open(junk, "w") as f:
        f.write("not a key\n")
    for args in ([str(tmp_path / "missing.jsonl"), "--pubkey", pubkey],
                 [exported["path"], "--pubkey", str(tmp_path / "missing.pub")],
                 [exported["path"], "--pubkey", junk],
                 [exported["path"]]):
        p = fundctl("audit", "verify", *args)
        assert p.returncode == 2, (args, p.returncode, p.stdout, p.stderr)
        assert not p.stdout.startswith("ok"), p.stdout


def test_export_order_does_not_depend_on_the_plan(env, daemon_factory, side_dbs, tmp_path):
    """docs/audit.md: "A checkpoint line comes right after the event at its seq". The
    export reads fl.audit_export ORDER BY seq, and the event line and the checkpoint line
    of a seq tie on it: their order is left to the plan. Here the trail is honest (events
    stored out of seq order, as concurrent writers store them; chained by fl.audit_chain;
    checkpoints signed with the daemon's key), and the database's planner settings, which
    a DBA may legitimately change, make PostgreSQL sort the lines: checkpoint lines then
    come before their events and `fundctl audit verify` rejects an untouched export."""
    db = SideDb.create(env, daemon_factory, side_dbs)
    n = 150
    db.sql("INSERT INTO fl.audit_event (seq, principal_id, method, object_id, outcome, "
           "params_sha256) SELECT g, 'pr_heaporder', 'partner.create', 'pa_' || g, 'ok', "
           "sha256(g::text::bytea) FROM generate_series(1, %d) g ORDER BY (g * 7919) %% %d;\n"
           "SELECT setval('fl.audit_seq', %d);\n" % (n, n + 1, n))
    assert db.sql("SELECT fl.audit_chain(100000);\n").strip() == str(n)
    hashes = dict(l.split("|") for l in db.sql(
        "SELECT seq, encode(hash, 'hex') FROM fl.audit_chain WHERE seq % 5 = 0;\n").split())
    priv = os.path.join(env.tls, "audit-ed25519.pem")
    pub = os.path.join(env.tls, "audit-ed25519.pub")
    with open(pub) as f:
        pem = f.read()
    adds = []
    for seq, h in sorted(hashes.items(), key=lambda x: int(x[0])):
        cp = {"seq": int(seq), "head_hash": h, "signed_at": "2026-11-23T10:00:00.000000Z"}
        sig = openssl_sign(str(tmp_path), priv, checkpoint_message(cp)).hex()
        adds.append("SELECT fl.audit_checkpoint_add(%s, '%s', '%s', '%s', $k$%s$k$);" % (
            seq, h, cp["signed_at"], sig, pem))
    db.sql("\n".join(adds) + "\n")
    psql(env, "ALTER DATABASE \"%s\" SET enable_mergejoin = off;\n"
         "ALTER DATABASE \"%s\" SET enable_hashjoin = off;\n"
         "ALTER DATABASE \"%s\" SET enable_indexscan = off;\n"
         "ALTER DATABASE \"%s\" SET enable_bitmapscan = off;\n" % ((db.dbname,) * 4),
         db="postgres")
    d = db.daemon()
    path = str(tmp_path / "plan.jsonl")
    docs = parse_export(export_to(d, db.admin_token, path))
    assert [x["seq"] for x in docs if x["type"] == "event"] == list(range(1, n + 1))
    assert len([x for x in docs if x["type"] == "checkpoint"]) == len(hashes)
    before = [x["seq"] for i, x in enumerate(docs) if x["type"] == "checkpoint" and
              not (i > 0 and docs[i - 1]["type"] == "event" and docs[i - 1]["seq"] == x["seq"])]
    assert before == [], "checkpoint lines not right after their events: seqs %r" % before
    q = verify_file(path, pub)
    assert q.returncode == 0, q.stderr


# --------------------------------------------------------------------------------------------
# 7. Tampering in the database (side databases)


@pytest.fixture(scope="module")
def tamper_base(env, module_daemon_factory, side_dbs):
    """A side database with a short trail: events, a skipped seq (a number taken by a
    transaction that rolled back), two checkpoints, all chained; no daemon left on it."""
    db = SideDb.create(env, module_daemon_factory, side_dbs)
    d = db.daemon()
    a = db.api(d)
    try:
        f = new_fund(a, currency=CUR, kind="pass_through", dual="100000", prefix="TB")
        p = new_partner(a)
        for k in range(3):
            a.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                          "amount": "1%d.00" % k, "currency": CUR})
        head = wait_chained(a)[-1]
        wait_checkpoint(a, head["seq"])
        gap = int(db.sql("SELECT nextval('fl.audit_seq');\n").strip())
        for k in range(3):
            new_partner(a)
        rpc(d, fake_token(), "fund.create", {                       # a refusal
            "code": f["code"], "name": "x", "currency": CUR, "kind": "pass_through",
            "dual_approval_above": "1"})
        for k in range(2):
            a.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                          "amount": "2%d.00" % k, "currency": CUR})
        evs = wait_chained(a)
        cp = wait_checkpoint(a, evs[-1]["seq"])
        check_chain(evs)
        assert gap not in [e["seq"] for e in evs]
        assert a.ok("audit.verify")["ok"] is True
    finally:
        a.close()
        rc = d.stop()
    assert rc == 0, d.log_tail()
    cps = [int(x) for x in db.sql("SELECT seq FROM fl.audit_checkpoint ORDER BY seq;\n")
           .split()]
    assert len(cps) >= 2 and cps[-1] == cp["seq"], cps
    return {"db": db, "events": evs, "gap": gap, "checkpoints": cps}


def _tamper_target(base):
    """k: an ok event with ok neighbours, not checkpointed, and not next to the gap."""
    evs, cps = base["events"], set(base["checkpoints"])
    for i in range(1, len(evs) - 1):
        a, b, c = evs[i - 1], evs[i], evs[i + 1]
        if b["seq"] in cps or a["seq"] + 1 != b["seq"] or b["seq"] + 1 != c["seq"]:
            continue
        if a["outcome"] == b["outcome"] == c["outcome"] == "ok":
            return b, c
    raise AssertionError("no event to tamper with in %r" % [e["seq"] for e in evs])


REPLICA = "SET session_replication_role = replica;\n"

TAMPER_DB_CASES = ["changed_field", "deleted_event", "deleted_event_and_link", "swapped",
                   "inserted_below_head", "checkpoint_head_hash"]


@pytest.mark.parametrize("case", TAMPER_DB_CASES)
def test_tampering_in_the_database(env, tamper_base, daemon_factory, side_dbs, pubkey,
                                   case, tmp_path):
    ev, nxt = _tamper_target(tamper_base)
    k = ev["seq"]
    db = tamper_base["db"].copy(side_dbs, daemon_factory)
    if case == "changed_field":
        db.sql(REPLICA + "UPDATE fl.audit_event SET object_id = 'x' WHERE seq = %d;\n" % k)
        want_db, want_file = (k, "hash_mismatch"), k
    elif case == "deleted_event":
        db.sql(REPLICA + "DELETE FROM fl.audit_event WHERE seq = %d;\n" % k)
        want_db, want_file = (k, "missing_event"), nxt["seq"]
    elif case == "deleted_event_and_link":
        db.sql(REPLICA + "DELETE FROM fl.audit_event WHERE seq = %d;\n"
               "DELETE FROM fl.audit_chain WHERE seq = %d;\n" % (k, k))
        want_db, want_file = (nxt["seq"], "prev_hash_mismatch"), nxt["seq"]
    elif case == "swapped":
        db.sql(REPLICA + """
UPDATE fl.audit_event e SET at = o.at, principal_id = o.principal_id, method = o.method,
       object_id = o.object_id, outcome = o.outcome, error_code = o.error_code,
       reason = o.reason, params_sha256 = o.params_sha256
  FROM fl.audit_event o
 WHERE (e.seq, o.seq) IN ((%d, %d), (%d, %d));
""" % (k, nxt["seq"], nxt["seq"], k))
        want_db, want_file = (k, "hash_mismatch"), k
    elif case == "inserted_below_head":
        g = tamper_base["gap"]
        db.sql("INSERT INTO fl.audit_event (seq, at, principal_id, method, object_id, "
               "outcome, params_sha256) SELECT %d, at, principal_id, 'fund.create', "
               "'FORGED', 'ok', sha256('x') FROM fl.audit_event WHERE seq = %d;\n" % (g, k))
        want_db, want_file = (g, "unchained_below_head"), None
    else:
        c = tamper_base["checkpoints"][0]
        db.sql(REPLICA + "UPDATE fl.audit_checkpoint SET head_hash = sha256('x') "
               "WHERE seq = %d;\n" % c)
        want_db, want_file = (c, "checkpoint_mismatch"), c
    d = db.daemon()
    a = db.api(d)
    try:
        v = a.ok("audit.verify")
        assert (v["ok"], v["first_bad_seq"], v["reason"]) == (False,) + want_db, v
        # the range before the damage still verifies
        first = tamper_base["events"][0]["seq"]
        if want_db[0] > first and case != "checkpoint_head_hash":
            v2 = a.ok("audit.verify", {"to_seq": want_db[0] - 1})
            assert v2["ok"] is True, v2
        lines = export_to(d, db.admin_token, str(tmp_path / "export.jsonl"))
        docs = parse_export(lines)
        p = verify_file(str(tmp_path / "export.jsonl"), pubkey)
        if case == "inserted_below_head":
            # the forged unchained event, or the chained one right after it
            g = tamper_base["gap"]
            after = min(x["seq"] for x in docs if x["type"] == "event" and x["seq"] > g)
            msg = p.stderr.strip()
            ok_forms = [(line_of(docs, "event", g), g), (line_of(docs, "event", after), after)]
            assert p.returncode == 1 and any(
                msg.startswith("FAIL: line %d: " % ln) and re.search(r"\bseq %d\b" % s, msg)
                for ln, s in ok_forms), (p.returncode, msg, ok_forms)
        else:
            typ = "checkpoint" if case == "checkpoint_head_hash" else "event"
            assert_fails_at(p, line_of(docs, typ, want_file), want_file, case)
    finally:
        a.close()


# --------------------------------------------------------------------------------------------
# 8. Append-only storage


DAEMON_ROLE_REFUSED = [
    "UPDATE fl.audit_event SET object_id = 'x' WHERE seq = (SELECT min(seq) FROM fl.audit_event)",
    "DELETE FROM fl.audit_event WHERE seq = (SELECT min(seq) FROM fl.audit_event)",
    "TRUNCATE fl.audit_event CASCADE",
    "UPDATE fl.audit_chain SET hash = prev_hash WHERE seq = (SELECT min(seq) FROM fl.audit_chain)",
    "DELETE FROM fl.audit_chain WHERE seq = (SELECT min(seq) FROM fl.audit_chain)",
    "TRUNCATE fl.audit_chain",
    "INSERT INTO fl.audit_chain (seq, prev_hash, hash) VALUES (999999999, sha256('a'), sha256('b'))",
    "UPDATE fl.audit_checkpoint SET signature = signature",
    "DELETE FROM fl.audit_checkpoint",
    "TRUNCATE fl.audit_checkpoint",
    "INSERT INTO fl.audit_checkpoint (seq, head_hash, signed_at, signature, public_key) "
    "SELECT seq, hash, now(), sha512('x'), '-----BEGIN PUBLIC KEY-----' FROM fl.audit_chain "
    "ORDER BY seq DESC LIMIT 1",
    "UPDATE fl.audit_state SET head_seq = 0",
    "DELETE FROM fl.audit_state",
    "UPDATE fl.journal_entry SET memo = 'x' WHERE entry_id = (SELECT min(entry_id) FROM fl.journal_entry)",
    "DELETE FROM fl.journal_entry WHERE entry_id = (SELECT min(entry_id) FROM fl.journal_entry)",
    "TRUNCATE fl.journal_entry CASCADE",
    "UPDATE fl.posting SET amount = amount",
    "DELETE FROM fl.posting",
    "TRUNCATE fl.posting",
]


@pytest.fixture(scope="module")
def trail_exists(api, aud, cp_daemon):
    """At least one event, chain row and checkpoint, so that row triggers would fire."""
    new_partner(api)
    head = wait_chained(aud)[-1]
    wait_checkpoint(aud, head["seq"])
    return head


@pytest.mark.parametrize("stmt", DAEMON_ROLE_REFUSED)
def test_daemon_role_cannot_rewrite_history(env, trail_exists, stmt):
    p = psql(env, "BEGIN;\n%s;\nROLLBACK;\n" % stmt, user="fund")
    assert p.returncode != 0, "the daemon's role could run: %s" % stmt
    assert "permission denied" in p.stderr, p.stderr


def test_daemon_role_may_run_the_chainer(env, trail_exists):
    # SECURITY DEFINER: the daemon's role may extend the chain, but not write it itself
    out = psql(env, "SELECT fl.audit_chain(10);\n", user="fund")
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) >= -1


@pytest.mark.parametrize("stmt", [
    "UPDATE fl.audit_event SET object_id = 'x' WHERE seq = (SELECT min(seq) FROM fl.audit_event)",
    "DELETE FROM fl.audit_event WHERE seq = (SELECT max(seq) FROM fl.audit_event)",
    "TRUNCATE fl.audit_event CASCADE",
    "UPDATE fl.audit_chain SET hash = prev_hash WHERE seq = (SELECT max(seq) FROM fl.audit_chain)",
    "DELETE FROM fl.audit_chain WHERE seq = (SELECT max(seq) FROM fl.audit_chain)",
    "UPDATE fl.audit_checkpoint SET signature = signature",
    "DELETE FROM fl.audit_checkpoint",
])
def test_owner_cannot_rewrite_history_either(env, api, aud, trail_exists, stmt):
    p = psql(env, "BEGIN;\n%s;\nROLLBACK;\n" % stmt)
    assert p.returncode != 0, "the schema owner could run: %s" % stmt
    assert "append-only" in p.stderr, p.stderr
    v = aud.ok("audit.verify")
    assert v["ok"] is True, v


# --------------------------------------------------------------------------------------------
# 9. The signing key


def _key_cases(env, d):
    """name -> (path or None for unset, text the error must contain)."""
    src = os.path.join(env.tls, "audit-ed25519.pem")
    out = {}
    for mode in (0o644, 0o640, 0o604, 0o660):
        p = os.path.join(d, "key-%o.pem" % mode)
        shutil.copyfile(src, p)
        os.chmod(p, mode)
        out["mode-%04o" % mode] = (p, "%04o" % mode)
    ec = os.path.join(d, "ec.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", ec], check=True, capture_output=True)
    os.chmod(ec, 0o600)
    out["ec-p256"] = (ec, "Ed25519")
    pub = os.path.join(d, "pub-only.pem")
    shutil.copyfile(os.path.join(env.tls, "audit-ed25519.pub"), pub)
    os.chmod(pub, 0o600)
    out["public-key-only"] = (pub, "Ed25519")
    out["missing"] = (os.path.join(d, "no-such-key.pem"), "no-such-key.pem")
    out["unset"] = (None, "signing_key")
    return out


KEY_CASES = ["mode-0644", "mode-0640", "mode-0604", "mode-0660", "ec-p256", "public-key-only",
             "missing", "unset"]


@pytest.mark.parametrize("case", KEY_CASES)
def test_bad_signing_key_refused(env, daemon_factory, tmp_path, case):
    path, must = _key_cases(env, str(tmp_path))[case]
    d = daemon_factory("badkey-" + case, {"audit": {"signing_key": path}}, start=False)
    p = subprocess.run([FUNDD, "-c", d.conf], capture_output=True, text=True, timeout=30,
                       cwd=ROOT, stdin=subprocess.DEVNULL)
    out = p.stdout + p.stderr
    assert p.returncode == 2, (case, p.returncode, out[-2000:])
    assert "signing_key" in out and must in out, out
    st = env.fundd("check", conf=d.conf)
    assert st.returncode == 2, (case, st.returncode, st.stdout, st.stderr)
    assert "signing_key" in st.stderr and must in st.stderr, st.stderr
    assert "configuration ok" not in st.stdout
    if path and os.path.exists(path):
        with open(path) as f:
            body = "".join(l.strip() for l in f if not l.startswith("-----"))
        assert body and body not in out.replace("\n", "") and body not in st.stderr


def test_good_signing_key_copy_accepted(env, daemon_factory, tmp_path):
    p = str(tmp_path / "key.pem")
    shutil.copyfile(os.path.join(env.tls, "audit-ed25519.pem"), p)
    os.chmod(p, 0o600)
    d = daemon_factory("goodkey", {"audit": {"signing_key": p}}, start=False)
    st = env.fundd("check", conf=d.conf)
    assert st.returncode == 0 and "configuration ok" in st.stdout, (st.stdout, st.stderr)


# --------------------------------------------------------------------------------------------
# 10. A paused chainer


def test_paused_chain_then_resumed(env, daemon_factory, side_dbs, pubkey, tmp_path):
    db = SideDb.create(env, daemon_factory, side_dbs)
    paused = db.daemon(chain_interval_ms=0)
    a = db.api(paused)
    try:
        f = new_fund(a, currency=CUR, kind="pass_through", dual="100000", prefix="PZ")
        p = new_partner(a)
        for k in range(5):
            a.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                          "amount": "3%d.00" % k, "currency": CUR})
        rpc(paused, None, "fund.list")                      # a refusal too
        n = 8
        # several chain rounds and checkpoint periods of a running chainer: nothing moves
        deadline = time.monotonic() + 1.2
        while time.monotonic() < deadline:
            evs = all_events(a)
            assert len(evs) == n and all(e["hash"] is None and e["prev_hash"] is None
                                         for e in evs), evs
            time.sleep(0.2)
        for e in evs:
            check_event_shape(e)
        v = a.ok("audit.verify")
        assert (v["ok"], v["verified"], v["first_bad_seq"]) == (True, 0, None), v
        a.err("audit.checkpoint", None, -32004, reason="no_checkpoint_yet")
        path = str(tmp_path / "paused.jsonl")
        lines = export_to(paused, db.admin_token, path)
        assert [json.loads(l)["type"] for l in lines] == ["event"] * n
        q = verify_file(path, pubkey)
        assert q.returncode == 0 and q.stdout.startswith("ok:"), (q.stdout, q.stderr)
        # a normal daemon on the same database chains everything
        normal = db.daemon()
        evs = wait_chained(a)
        assert len(evs) == n
        check_chain(evs)
        v = a.ok("audit.verify")
        assert (v["ok"], v["verified"]) == (True, n), v
        cp = wait_checkpoint(a, evs[-1]["seq"])
        assert cp["head_hash"] == evs[-1]["hash"]
        # while the head stays put, neither daemon signs it again
        t = time.monotonic()
        while time.monotonic() - t < 1.3:
            assert db.sql("SELECT count(*) FROM fl.audit_checkpoint;\n").strip() == "1"
            time.sleep(0.2)
        assert a.ok("audit.checkpoint") == cp
        export_to(normal, db.admin_token, path)
        q = verify_file(path, pubkey)
        assert q.returncode == 0 and q.stdout.startswith("ok:"), (q.stdout, q.stderr)
        assert "not yet covered" not in q.stdout, q.stdout
    finally:
        a.close()


# --------------------------------------------------------------------------------------------
# 11. Two daemons, one database


def test_two_daemons_share_the_chain(env, daemon, admin, api, aud, daemon_factory):
    twin = daemon_factory("audit-twin")
    f = new_fund(api, currency=CUR, kind="pass_through", dual="100000", prefix="TW")
    p = new_partner(api)
    threads, per = 20, 10
    barrier = threading.Barrier(threads)
    mark = last_seq(api)

    def writer(i):
        def run():
            out = []
            with Client(daemon if i % 2 else twin, admin, timeout=60) as s:
                s.connect()
                barrier.wait(30)
                for j in range(per):
                    if (i + j) % 2:
                        r = s.call("contribution.receive", {
                            "partner_id": p["partner_id"], "fund": f["code"],
                            "amount": "%d.%02d" % (i + 1, j), "currency": CUR})
                        out.append(("contribution.receive", r["contribution_id"]))
                    else:
                        r = s.call("partner.create", {"name": "Twin %d-%d" % (i, j),
                                                      "country": "AM", "kind": "individual"})
                        out.append(("partner.create", r["partner_id"]))
            return out
        return run

    jobs = [Background(writer(i)) for i in range(threads)]
    for j in jobs:
        j.start()
    done = [x for j in jobs for x in j.get(120)]
    assert len(done) == threads * per
    evs = wait_chained(aud)
    check_chain(evs)
    mine = [e for e in evs if e["seq"] > mark]
    assert sorted((e["method"], e["object_id"]) for e in mine) == sorted(done)
    v = aud.ok("audit.verify")
    assert (v["ok"], v["verified"], v["first_bad_seq"]) == (True, len(evs), None), v
    # both daemons answer the same trail
    tw = Client.api(twin, admin)
    try:
        assert all_events(tw, from_seq=mark + 1) == mine
    finally:
        tw.close()


class HeldWriter:
    """A transaction (psql as the owner, on a side database) that records an event the way
    a mutation does, with fl.audit_record, and stays open until commit() or rollback()."""

    def __init__(self, env, db, principal_id, object_id):
        self.db = db
        self.before = self.last_value()
        d = dsn_of(env.conf)
        self.proc = subprocess.Popen(
            [psql_bin(), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", d["host"],
             "-p", d["port"], "-U", "fund_owner", "-d", db.dbname],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.proc.stdin.write(
            "BEGIN;\nSELECT fl.audit_record('%s', 'partner.create', '%s', NULL, NULL, "
            "sha256('held'));\n" % (principal_id, object_id))
        self.proc.stdin.flush()
        deadline = time.monotonic() + 10
        while self.last_value() == self.before:
            assert self.proc.poll() is None, self.proc.stderr.read()
            assert time.monotonic() < deadline, "the held writer took no seq"
            time.sleep(0.05)
        self.seq = self.last_value()
        assert self.seq == self.before + 1

    def last_value(self):
        return int(self.db.sql("SELECT last_value FROM fl.audit_seq;\n").strip())

    def end(self, how):
        out, err = self.proc.communicate("%s;\n" % how, timeout=30)
        assert self.proc.returncode == 0, err


def test_chain_waits_for_a_slow_writer(env, daemon_factory, side_dbs):
    """A writer that took its seq and has not committed holds the chain back: events after
    it commit, but none is chained past it until it ends; then the chain goes on in seq
    order, with the slow event in its place (commit) or skipped (rollback)."""
    db = SideDb.create(env, daemon_factory, side_dbs)
    d = db.daemon()
    a = db.api(d)
    held = []
    try:
        for _ in range(2):
            new_partner(a)
        wait_chained(a)
        for how in ("COMMIT", "ROLLBACK"):
            w = HeldWriter(env, db, a.ok("system.whoami")["principal_id"],
                           "pa_held_" + how.lower())
            held.append(w)
            after = [new_partner(a)["partner_id"] for _ in range(3)]
            # several chain rounds: everything before the slow writer is chained, nothing
            # after it
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                evs = all_events(a)
                assert all(e["hash"] is not None for e in evs if e["seq"] < w.seq), evs
                late = [e for e in evs if e["seq"] > w.seq]
                assert [e["object_id"] for e in late] == after, late
                assert all(e["hash"] is None for e in late), \
                    "chained past seq %d, which is still uncommitted: %r" % (w.seq, late)
                time.sleep(0.1)
            w.end(how)
            evs = wait_chained(a)
            check_chain(evs)
            seqs = [e["seq"] for e in evs]
            assert (w.seq in seqs) == (how == "COMMIT"), (how, w.seq, seqs)
            v = a.ok("audit.verify")
            assert (v["ok"], v["verified"]) == (True, len(evs)), v
    finally:
        for w in held:
            if w.proc.poll() is None:
                w.proc.kill()
                w.proc.wait()
        a.close()


# --------------------------------------------------------------------------------------------
# The private key never reaches a log (last: every daemon of this module has run)


def test_zz_private_key_never_logged(env, daemon):
    with open(os.path.join(env.tls, "audit-ed25519.pem")) as f:
        pem = f.read()
    body = "".join(l.strip() for l in pem.splitlines() if not l.startswith("-----"))
    der = base64.b64decode(body)
    seed = der[-32:]
    needles = [body.encode(), seed, seed.hex().encode(), seed.hex().upper().encode(),
               base64.b64encode(seed).rstrip(b"=")]
    needles += [l.strip().encode() for l in pem.splitlines()
                if l.strip() and not l.startswith("-----")]
    logs = [os.path.join(env.dir, n) for n in os.listdir(env.dir)
            if n.startswith("fundd-") and n.endswith(".log")]
    pglog = os.path.join(env.dir, "pg", "postgres.log")
    if os.path.exists(pglog):
        logs.append(pglog)
    assert any(os.path.basename(l) == "fundd-main.log" for l in logs), logs
    for path in logs:
        with open(path, "rb") as f:
            data = f.read()
        for n in needles:
            assert n not in data, "private key material in %s" % path
