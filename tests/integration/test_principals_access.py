"""Who has access (docs/protocol.md: principal.list, principal.rotate_token, token
expiry): tokens rotated or expiring stop working at once, on every connection, and the
list shows each principal's state and last use, never a token."""

import time

from fl.client import api_of, create_principal, new_client, rpc
from fl.env import uniq
from fl.ledger import new_partner, rfc3339, utcnow
import datetime


def call(daemon, token, method, params=None):
    """The whole response object of one call with token."""
    return rpc(daemon, token, method, params)[1]


def _in(seconds):
    return rfc3339(utcnow() + datetime.timedelta(seconds=seconds))


def test_rotate_own_token_old_stops_at_once(daemon, admin, api):
    with new_client(daemon, admin, ["auditor"], "rot") as aud:
        old = aud.token
        assert aud.ok("system.whoami")["principal_id"] == aud.pid
        key = uniq("rk")
        res = call(daemon, old, "principal.rotate_token", {"idempotency_key": key})
        assert "result" in res, res
        new = res["result"]["token"]
        assert new and new != old and res["result"]["principal_id"] == aud.pid
        # the old token fails at once, whoami included (the credentials cache is flushed)
        r = call(daemon, old, "system.whoami")
        assert r["error"]["code"] == -32001, r
        assert call(daemon, new, "system.whoami")["result"]["principal_id"] == aud.pid
        # a replay answers the first result without the token
        rep = call(daemon, new, "principal.rotate_token", {"idempotency_key": key})
        assert "error" in rep or rep["result"].get("token") is None, rep


def test_admin_rotates_a_partners_token_not_an_admins(daemon, admin, api):
    donor = new_partner(api)
    pa = create_principal(daemon, admin, ["partner"], partner_id=donor["partner_id"])
    res = api.ok("principal.rotate_token", {"principal_id": pa["principal_id"]})
    assert res["token"] and res["token"] != pa["token"]
    assert call(daemon, pa["token"], "system.whoami")["error"]["code"] == -32001
    with new_client(daemon, admin, ["admin"], "rot-adm") as other:
        api.err("principal.rotate_token", {"principal_id": other.pid}, -32011,
                reason="own_token_only")
    with api_of(daemon, res) as p2:
        p2.err("principal.rotate_token", {"principal_id": other.pid}, -32003,
               reason="role_required")
    api.err("principal.rotate_token", {"principal_id": "pr_nobody"}, -32004,
            reason="principal_not_found")
    api.err("principal.rotate_token", {"expires_at": "2020-01-01"}, -32602,
            field="expires_at", reason="in_the_past")


def test_an_expired_token_is_refused(daemon, admin, api):
    p = create_principal(daemon, admin, ["auditor"], name=uniq("exp"), expires_at=_in(3))
    assert p["token_expires_at"], p
    who = call(daemon, p["token"], "system.whoami")["result"]
    assert who["principal_id"] == p["principal_id"] and who["token_expires_at"]
    time.sleep(3.5)
    r = call(daemon, p["token"], "system.whoami")
    assert r["error"]["code"] == -32001 and r["error"]["data"]["reason"] == "token_expired", r
    r = call(daemon, p["token"], "fund.list")
    assert r["error"]["data"]["reason"] == "token_expired", r
    listed = {x["principal_id"]: x for x in all_principals(api)}
    assert listed[p["principal_id"]]["state"] == "expired"
    # a rotation gives it a token that works again
    new = api.ok("principal.rotate_token", {"principal_id": p["principal_id"]})["token"]
    # a token that does not expire: whoami has the v1 shape, without an expiry
    assert "token_expires_at" not in call(daemon, new, "system.whoami")["result"]


def all_principals(api):
    out, cursor = [], None
    while True:
        params = {"limit": 1000}
        if cursor:
            params["cursor"] = cursor
        page = api.ok("principal.list", params)
        out += page["principals"]
        cursor = page["next_cursor"]
        if not cursor:
            return out


def test_principal_list_states_roles_last_use(daemon, admin, api, aud):
    with new_client(daemon, admin, ["auditor"], "seen") as seen:
        seen.ok("fund.list")
        pending = api.ok("principal.create", {"name": uniq("pend"), "roles": ["approver"]})
        gone = create_principal(daemon, admin, ["auditor"], name=uniq("gone"))
        api.ok("principal.revoke", {"principal_id": gone["principal_id"]})
        got = {x["principal_id"]: x for x in all_principals(api)}
        me = got[seen.pid]
        assert me["state"] == "active" and me["roles"] == ["auditor"], me
        assert me["login"] == "token" and me["last_used_at"], me
        assert got[pending["principal_id"]]["state"] == "pending"
        assert got[pending["principal_id"]]["last_used_at"] is None
        assert got[gone["principal_id"]]["state"] == "revoked"
        assert all("token" not in x and "token_hash" not in x for x in got.values())
        only = api.ok("principal.list", {"state": "revoked", "limit": 1000})["principals"]
        assert gone["principal_id"] in [x["principal_id"] for x in only]
        assert all(x["state"] == "revoked" for x in only)
        appr = api.ok("principal.list", {"role": "approver", "limit": 1000})["principals"]
        assert all("approver" in x["roles"] for x in appr) and appr
        aud.err("principal.list", {}, -32003, reason="role_required")
