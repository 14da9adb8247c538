"""What the daemon's log never holds, even at debug level: a returnee's personal data, even
when a call about the returnee fails (issue 4: personal fields never appear in logs), and
bearer tokens, whatever the token traffic (STYLE habit 5; conftest.py also scans every
daemon log for every token the suite used once the session is over). A debug log in JSON is
one JSON object a line."""

import json

import pytest

from fl.env import fake_token, find_tokens, remember_token, uniq
from fl.client import Client, call, http_get, raw_exchange, rpc


def test_returnee_personal_data_never_logged(env, daemon_factory, admin):
    d = daemon_factory(uniq("privacy"), {"log": {"level": "debug", "format": "json"}})
    name = "Zabel " + uniq("Yesayan")
    nid = uniq("AN")
    re = call(d, admin, "returnee.register", {"full_name": name, "region": "Lori",
              "returned_from": "DE", "returned_on": "2026-03-01", "gender": "female",
              "birth_year": 1987, "national_id": nid})
    call(d, admin, "returnee.get", {"returnee_id": re["returnee_id"]})
    call(d, admin, "returnee.list", {"region": "Lori", "limit": 5})
    # refusals too: a duplicate and a bad param carrying the same values
    r, doc = rpc(d, admin, "returnee.register", {"full_name": name, "region": "Lori",
                 "returned_from": "DE", "returned_on": "2026-03-01",
                 "national_id": nid})
    assert doc["error"]["data"]["reason"] == "duplicate_returnee"
    r, doc = rpc(d, admin, "returnee.register", {"full_name": name, "region": "Lori",
                 "returned_from": "DE", "returned_on": "2999-01-01",
                 "national_id": nid + "x"})
    assert doc["error"]["code"] == -32602
    d.stop()
    log = open(d.log_path, "rb").read()
    assert b"returnee.register" in log          # the calls were logged at debug level...
    for secret in (name, nid):      # (unique strings: a year could match a port number)
        assert secret.encode() not in log, secret   # ...their personal params never


@pytest.fixture(scope="module")
def debug_log(env, module_daemon_factory, admin):
    """A daemon logging at debug level in JSON, fed every kind of token traffic, then stopped."""
    d = module_daemon_factory("debuglog", {"log": {"level": "debug", "format": "json"}})
    with Client(d, admin) as s:
        s.call("system.whoami")
        p = s.call("principal.create", {"name": uniq("logged"), "roles": ["auditor"],
                                        "idempotency_key": uniq("log-idem")})
        remember_token(p["token"])
        rpc(d, admin, "principal.create", {"name": "bad", "roles": ["wizard"]})
    call(d, p["token"], "system.whoami")
    for tok in (fake_token(), fake_token()):
        rpc(d, tok, "system.whoami")
        http_get(d, "/metrics", token=tok)
    http_get(d, "/metrics", token=admin)
    call(d, admin, "principal.revoke", {"principal_id": p["principal_id"]})
    rpc(d, p["token"], "system.whoami")
    # A token that is only a header, never a valid request.
    raw_exchange(d, b"GET /nope HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                 fake_token().encode() + b"\r\n\r\n")
    rc = d.stop()
    assert rc == 0, d.log_tail()
    with open(d.log_path, "rb") as f:
        return f.read()


def test_debug_log_has_no_tokens(debug_log):
    assert debug_log.strip(), "the debug log is empty"
    hits = find_tokens(debug_log)
    assert not hits, "tokens in the debug log: %r" % hits


def test_json_log_format(debug_log):
    lines = [l for l in debug_log.decode("utf-8", "replace").splitlines() if l.strip()]
    assert lines
    bad = []
    for l in lines:
        try:
            if not isinstance(json.loads(l), dict):
                bad.append(l)
        except ValueError:
            bad.append(l)
    assert not bad, "log.format = json, but these lines are not JSON objects: %r" % bad[:5]
