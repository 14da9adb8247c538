"""system.*, region.list and principal.* methods (docs/protocol.md), including
parameter validation and idempotency keys."""

import pytest

from fl.env import remember_token, uniq
from fl.client import assert_error, call, create_principal, race, rpc
from fl.grants import REGIONS


def test_system_version(daemon, admin):
    v = call(daemon, admin, "system.version")
    assert set(v) >= {"version", "protocol"}
    assert v["protocol"] == 1
    assert isinstance(v["version"], str) and v["version"].strip()


def test_system_whoami_admin(daemon, admin):
    me = call(daemon, admin, "system.whoami")
    assert set(me) == {"principal_id", "name", "roles", "partner_id"}
    assert me["name"] == "admin"
    assert me["roles"] == ["admin"]
    assert me["partner_id"] is None
    assert isinstance(me["principal_id"], str) and me["principal_id"]


def test_region_list(daemon, auditor):
    res = call(daemon, auditor["token"], "region.list")
    regions = res["regions"]
    assert len(regions) == 11
    assert {(r["region"], r["region_code"]) for r in regions} == set(REGIONS)
    assert all(r["country"] == "AM" for r in regions)
    for r in regions:
        assert set(r) >= {"region", "region_code", "country"}


def test_region_list_order_is_stable(daemon, admin):
    a = call(daemon, admin, "region.list")
    b = call(daemon, admin, "region.list")
    assert a == b


def test_principal_create_and_use(daemon, admin):
    name = uniq("approver")
    p = call(daemon, admin, "principal.create", {"name": name, "roles": ["auditor"]})
    remember_token(p["token"])
    assert set(p) >= {"principal_id", "token", "pending"} and p["pending"] is False
    assert isinstance(p["principal_id"], str) and p["principal_id"]
    me = call(daemon, p["token"], "system.whoami")
    assert me == {"principal_id": p["principal_id"], "name": name, "roles": ["auditor"],
                  "partner_id": None}


def test_principal_create_all_plain_roles(daemon, admin):
    p = create_principal(daemon, admin, ["admin", "approver", "auditor"])
    assert sorted(call(daemon, p["token"], "system.whoami")["roles"]) == \
        ["admin", "approver", "auditor"]


def test_principal_create_partner_requires_partner_id(daemon, admin):
    r, doc = rpc(daemon, admin, "principal.create", {"name": uniq("partner"),
                                                     "roles": ["partner"]})
    assert r.status == 200
    assert_error(doc, -32602, field="partner_id")


@pytest.mark.parametrize("params,field", [
    ({"roles": ["auditor"]}, "name"),
    ({"name": "", "roles": ["auditor"]}, "name"),
    ({"name": 42, "roles": ["auditor"]}, "name"),
    ({"name": "a\nb", "roles": ["auditor"]}, "name"),
    ({"name": "x"}, "roles"),
    ({"name": "x", "roles": "auditor"}, "roles"),
    ({"name": "x", "roles": [7]}, "roles"),
    ({"name": "x", "roles": ["superuser"]}, "roles"),
    ({"name": "x", "roles": ["auditor"], "colour": "red"}, "colour"),
    ({"name": "x", "roles": ["auditor"], "idempotency_key": ""}, "idempotency_key"),
    ({"name": "x", "roles": ["auditor"], "idempotency_key": "k" * 129}, "idempotency_key"),
    ({"name": "x", "roles": ["auditor"], "idempotency_key": 5}, "idempotency_key"),
])
def test_principal_create_invalid_params(daemon, admin, params, field):
    r, doc = rpc(daemon, admin, "principal.create", params)
    assert r.status == 200
    err = assert_error(doc, -32602)
    got = err["data"].get("field")
    # An element of roles may be named roles or roles[0].
    assert got == field or (field == "roles" and str(got).startswith("roles")), err


def test_principal_revoke(daemon, admin):
    p = create_principal(daemon, admin, ["auditor"])
    res = call(daemon, admin, "principal.revoke", {"principal_id": p["principal_id"]})
    assert res == {"principal_id": p["principal_id"], "revoked": True}


@pytest.mark.parametrize("pid", ["no-such-principal", "00000000-0000-0000-0000-000000000000",
                                 "999999999"])
def test_principal_revoke_unknown(daemon, admin, pid):
    r, doc = rpc(daemon, admin, "principal.revoke", {"principal_id": pid})
    assert r.status == 200
    assert_error(doc, -32004)


@pytest.mark.parametrize("params,field", [
    ({}, "principal_id"),
    ({"principal_id": 5}, "principal_id"),
    ({"principal_id": "x", "force": True}, "force"),
])
def test_principal_revoke_invalid_params(daemon, admin, params, field):
    r, doc = rpc(daemon, admin, "principal.revoke", params)
    assert_error(doc, -32602, field=field)


def test_idempotent_principal_create(daemon, admin):
    key = uniq("idem")
    params = {"name": uniq("idem-p"), "roles": ["auditor"], "idempotency_key": key}
    first = call(daemon, admin, "principal.create", params)
    remember_token(first["token"])
    assert isinstance(first["token"], str) and first["token"]
    again = call(daemon, admin, "principal.create", dict(params))
    assert again["principal_id"] == first["principal_id"]
    assert again.get("token", "missing") is None, "a replay must not show a token: %r" % again
    # The first token still works and still names the same principal.
    assert call(daemon, first["token"], "system.whoami")["principal_id"] == first["principal_id"]


def test_idempotency_key_with_other_params(daemon, admin):
    key = uniq("idem")
    first = call(daemon, admin, "principal.create",
                 {"name": uniq("idem-a"), "roles": ["auditor"], "idempotency_key": key})
    remember_token(first["token"])
    r, doc = rpc(daemon, admin, "principal.create",
                 {"name": uniq("idem-b"), "roles": ["auditor"], "idempotency_key": key})
    assert r.status == 200
    assert_error(doc, -32009, reason="idempotency_mismatch")
    r, doc = rpc(daemon, admin, "principal.create",
                 {"name": uniq("idem-c"), "roles": ["approver"],
                  "idempotency_key": key})
    assert_error(doc, -32009, reason="idempotency_mismatch")


def test_different_idempotency_keys_create_distinct_principals(daemon, admin):
    name = uniq("same-name")
    a = call(daemon, admin, "principal.create",
             {"name": name, "roles": ["auditor"], "idempotency_key": uniq("k")})
    b = call(daemon, admin, "principal.create",
             {"name": name + "-2", "roles": ["auditor"], "idempotency_key": uniq("k")})
    remember_token(a["token"])
    remember_token(b["token"])
    assert a["principal_id"] != b["principal_id"]
    assert a["token"] and b["token"]


def test_idempotent_revoke(daemon, admin):
    p = create_principal(daemon, admin, ["auditor"])
    key = uniq("idem-rv")
    params = {"principal_id": p["principal_id"], "idempotency_key": key}
    first = call(daemon, admin, "principal.revoke", params)
    again = call(daemon, admin, "principal.revoke", dict(params))
    assert first == again == {"principal_id": p["principal_id"], "revoked": True}


def test_concurrent_idempotent_creates(daemon, admin):
    params = {"name": uniq("idem-race"), "roles": ["auditor"], "idempotency_key": uniq("race")}
    docs = race(daemon, [(admin, "principal.create", dict(params)) for _ in range(6)])
    for d in docs:
        assert "result" in d, "a concurrent replay of the same key failed: %r" % (d,)
    assert len({d["result"]["principal_id"] for d in docs}) == 1, docs
    tokens = [d["result"]["token"] for d in docs if d["result"].get("token")]
    assert len(tokens) == 1, "expected one token among concurrent replays, got %d" % len(tokens)
    remember_token(tokens[0])
    assert call(daemon, tokens[0], "system.whoami")["name"] == params["name"]


def test_unicode_name_round_trip(daemon, admin):
    name = "Արմեն Պետրոսյան " + uniq("u")
    p = create_principal(daemon, admin, ["auditor"], name=name)
    assert call(daemon, p["token"], "system.whoami")["name"] == name
