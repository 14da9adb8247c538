"""Segregation of duties for principals (docs/protocol.md, principal.confirm): an admin or
approver created by an admin is pending, with no token, until a different admin confirms
it; the confirmation returns the token once. Partners and auditors stay one-step, and the
bootstrap (`fundd principal add`) is unchanged. The database holds the rule whoever writes
the row."""

import pytest

from fl.env import remember_token, uniq
from fl.client import api_of, assert_401, assert_error, call, race, rpc
from fl.db import psql, refused
from fl.audit import last_seq, new_events


def create(daemon, token, roles, **kw):
    params = {"name": uniq("sod"), "roles": roles}
    params.update(kw)
    return call(daemon, token, "principal.create", params)


@pytest.fixture(scope="module")
def admin2(env, daemon):
    """A second bootstrap admin, as an operator makes one with `fundd principal add`."""
    return env.principal_add(uniq("second-admin"), ["admin"], conf=daemon.conf)


@pytest.mark.parametrize("roles", [["admin"], ["approver"], ["admin", "approver"],
                                   ["approver", "auditor"]])
def test_admin_or_approver_is_pending_until_a_second_admin_confirms(daemon, admin, admin2,
                                                                    roles):
    p = create(daemon, admin, roles)
    assert p["pending"] is True and p["token"] is None, p
    assert p["roles"] == sorted(roles)
    # the creator alone cannot make it usable
    r, doc = rpc(daemon, admin, "principal.confirm", {"principal_id": p["principal_id"]})
    assert_error(doc, -32011, field="principal_id", reason="own_principal")
    c = call(daemon, admin2, "principal.confirm", {"principal_id": p["principal_id"]})
    assert c["pending"] is False
    assert c["principal_id"] == p["principal_id"] and c["roles"] == sorted(roles)
    me = call(daemon, admin2, "system.whoami")
    assert c["confirmed_by"] == me["principal_id"] and c["confirmed_at"]
    token = remember_token(c["token"])
    assert isinstance(token, str) and len(token) >= 32
    who = call(daemon, token, "system.whoami")
    assert who["principal_id"] == p["principal_id"] and who["roles"] == sorted(roles)
    # the token is returned once: confirming again is a conflict, and nobody else gets it
    r, doc = rpc(daemon, admin2, "principal.confirm", {"principal_id": p["principal_id"]})
    assert_error(doc, -32009, field="principal_id", reason="already_confirmed")
    assert "token" not in doc["error"].get("data", {})


@pytest.mark.parametrize("roles", [["auditor"], ["partner"]])
def test_partner_and_auditor_principals_stay_one_step(daemon, admin, roles):
    extra = {}
    if roles == ["partner"]:
        extra["partner_id"] = call(daemon, admin, "partner.create", {
            "name": uniq("sod partner"), "country": "FR", "kind": "individual"})["partner_id"]
    p = create(daemon, admin, roles, **extra)
    assert p["pending"] is False
    token = remember_token(p["token"])
    assert call(daemon, token, "system.whoami")["principal_id"] == p["principal_id"]
    r, doc = rpc(daemon, admin, "principal.confirm", {"principal_id": p["principal_id"]})
    assert_error(doc, -32009, field="principal_id", reason="already_confirmed")


def test_one_admin_alone_cannot_defeat_four_eyes(env, daemon, admin):
    """The attack of the issue: one admin creates an approver and a second admin to approve
    and confirm its own grant and payment. Neither can act until confirmed, and the admin
    cannot confirm them itself."""
    appr = create(daemon, admin, ["approver"])
    adm = create(daemon, admin, ["admin"])
    for p in (appr, adm):
        assert p["token"] is None
        r, doc = rpc(daemon, admin, "principal.confirm", {"principal_id": p["principal_id"]})
        assert_error(doc, -32011, reason="own_principal")
    # and neither can be used: no token exists for them until a second admin confirms
    for p in (appr, adm):
        st = psql(env, "SELECT token_hash IS NULL AND cert_sha256 IS NULL AND "
                       "confirmed_at IS NULL FROM fl.principal WHERE principal_id = '%s';"
                  % p["principal_id"])
        assert st.returncode == 0 and st.stdout.strip() == "t", st


def test_a_replayed_confirmation_answers_without_the_token(daemon, admin, admin2):
    p = create(daemon, admin, ["approver"])
    params = {"principal_id": p["principal_id"], "idempotency_key": uniq("confirm")}
    first = call(daemon, admin2, "principal.confirm", dict(params))
    remember_token(first["token"])
    again = call(daemon, admin2, "principal.confirm", dict(params))
    assert again["token"] is None
    assert {k: v for k, v in again.items() if k != "token"} == \
        {k: v for k, v in first.items() if k != "token"}


def test_concurrent_confirmations_return_one_token(env, daemon, admin, admin2):
    p = create(daemon, admin, ["admin"])
    admin3 = env.principal_add(uniq("third-admin"), ["admin"], conf=daemon.conf)
    docs = race(daemon, [(t, "principal.confirm", {"principal_id": p["principal_id"]})
                         for t in (admin2, admin3) * 3])
    ok = [d for d in docs if "result" in d]
    assert len(ok) == 1, docs
    remember_token(ok[0]["result"]["token"])
    for d in docs:
        if "error" in d:
            assert_error(d, -32009, reason="already_confirmed")


def test_confirm_errors(daemon, admin, admin2, approver):
    r, doc = rpc(daemon, admin2, "principal.confirm", {"principal_id": "pr_doesnotexist1"})
    assert_error(doc, -32004, field="principal_id", reason="principal_not_found")
    r, doc = rpc(daemon, admin2, "principal.confirm", {})
    assert_error(doc, -32602, field="principal_id")
    r, doc = rpc(daemon, approver["token"], "principal.confirm",
                 {"principal_id": "pr_doesnotexist1"})
    assert_error(doc, -32003, reason="role_required")
    # a pending principal can be revoked (the second admin says no), and is never confirmed
    p = create(daemon, admin, ["approver"])
    call(daemon, admin2, "principal.revoke", {"principal_id": p["principal_id"]})
    r, doc = rpc(daemon, admin2, "principal.confirm", {"principal_id": p["principal_id"]})
    assert_error(doc, -32009, field="principal_id", reason="principal_revoked")


def test_both_steps_and_the_refusal_are_audited(daemon, admin, admin2, auditor):
    with api_of(daemon, auditor) as aud:
        mark = last_seq(aud)
        p = create(daemon, admin, ["approver"])
        rpc(daemon, admin, "principal.confirm", {"principal_id": p["principal_id"]})
        c = call(daemon, admin2, "principal.confirm", {"principal_id": p["principal_id"]})
        remember_token(c["token"])
        evs = [e for e in new_events(aud, mark) if e["method"].startswith("principal.")]
    a1 = call(daemon, admin, "system.whoami")["principal_id"]
    a2 = call(daemon, admin2, "system.whoami")["principal_id"]
    got = [(e["method"], e["principal_id"], e["object_id"], e["outcome"], e.get("error_code"))
           for e in evs]
    assert got == [
        ("principal.create", a1, p["principal_id"], "ok", None),
        ("principal.confirm", a1, p["principal_id"], "refused", -32011),
        ("principal.confirm", a2, p["principal_id"], "ok", None),
    ], evs


def test_the_database_holds_the_rule(env, daemon, admin, admin2):
    """Whoever writes fl.principal (the schema owner here): an admin or approver created by
    an admin starts pending without a credential; only an active admin other than its
    creator confirms it, once."""
    a1 = call(daemon, admin, "system.whoami")["principal_id"]
    a2 = call(daemon, admin2, "system.whoami")["principal_id"]
    h = "'\\x%s'::bytea" % ("ab" * 32)
    refused(env, "INSERT INTO fl.principal (name, roles, token_hash, created_by) "
                 "VALUES ('x', '{approver}', %s, '%s');" % (h, a1))
    refused(env, "INSERT INTO fl.principal (name, roles, created_by) "
                 "VALUES ('x', '{approver}', '%s');" % a1)     # pending needs no default
    p = create(daemon, admin, ["admin"])
    pid = p["principal_id"]
    # a pending principal holds no credential
    refused(env, "UPDATE fl.principal SET token_hash = %s WHERE principal_id = '%s';"
            % (h, pid))
    # confirmed by its own creator, by nobody, or by a non-admin
    for by in ("'%s'" % a1, "NULL"):
        refused(env, "UPDATE fl.principal SET token_hash = %s, confirmed_at = now(), "
                     "confirmed_by = %s WHERE principal_id = '%s';" % (h, by, pid))
    aud = create(daemon, admin, ["auditor"])
    remember_token(aud["token"])
    refused(env, "UPDATE fl.principal SET token_hash = %s, confirmed_at = now(), "
                 "confirmed_by = '%s' WHERE principal_id = '%s';" % (h, aud["principal_id"],
                                                                    pid))
    # a confirmed principal is never confirmed again (its token never replaced)
    c = call(daemon, admin2, "principal.confirm", {"principal_id": pid})
    remember_token(c["token"])
    refused(env, "UPDATE fl.principal SET token_hash = %s, confirmed_at = now(), "
                 "confirmed_by = '%s' WHERE principal_id = '%s';" % (h, a2, pid))
    st = psql(env, "SELECT confirmed_by, token_hash IS NOT NULL FROM fl.principal "
                   "WHERE principal_id = '%s';" % pid)
    assert st.returncode == 0 and st.stdout.strip() == "%s|t" % a2, st


def test_a_pending_principal_cannot_log_in_with_any_token(daemon, admin):
    """No credential is stored for a pending principal: whatever token anyone presents,
    it authenticates as nobody (401), never as the pending principal."""
    p = create(daemon, admin, ["admin"])
    assert p["token"] is None
    r, doc = rpc(daemon, "fl_" + "0" * 43, "system.whoami")
    assert_401(r)
