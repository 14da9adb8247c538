"""Logs never contain a bearer token (STYLE habit 5). Runs last (file name) so the main
daemon's log holds the whole suite's traffic; conftest checks every log again at the end."""

import glob
import json
import os

import pytest

from fl.env import USED_TOKENS, fake_token, find_tokens, remember_token, uniq
from fl.client import Client, call, http_get, raw_exchange, rpc


def test_suite_logs_have_no_tokens(env, daemon, admin):
    assert admin in USED_TOKENS and len(USED_TOKENS) > 10
    logs = sorted(glob.glob(os.path.join(env.dir, "fundd-*.log")))
    assert os.path.join(env.dir, "fundd-main.log") in logs
    for path in logs:
        with open(path, "rb") as f:
            data = f.read()
        assert not find_tokens(data), "%s contains tokens %r" % (path, find_tokens(data))


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
