"""PostgreSQL goes away under running daemons and comes back (docs/protocol.md, -32050;
STYLE habit 4: a running daemon never exits because of a lost database connection).

The outage is staged once per module (pg-stop, observe, pg-start, observe recovery); the tests
below each assert one aspect of what was observed."""

import http.client
import json
import ssl
import time

import pytest

from fl.env import uniq
from fl.client import (WHOAMI, assert_error, call, create_principal, http_get, post_rpc, rpc,
                       wait_pool_up)

RECOVERY_LIMIT = 12        # "within ~10 s"
PROMPT = 2.0


def timed(fn):
    t0 = time.monotonic()
    try:
        return time.monotonic() - t0, fn(), None
    except Exception as e:  # reported by the tests that look at it
        return time.monotonic() - t0, None, e


def recovery_time(d, token, timeout):
    """Seconds until /healthz is 200 and system.whoami answers, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            st, _, _ = http_get(d, "/healthz", timeout=3)
            if st == 200:
                r, doc = rpc(d, token, "system.whoami", timeout=3)
                if r.status == 200 and "result" in doc:
                    return time.monotonic() - t0
        except (OSError, http.client.HTTPException, ssl.SSLError):
            pass
        time.sleep(0.25)
    return None


@pytest.fixture(scope="module")
def outage(env, module_daemon_factory, daemon, admin):
    d = module_daemon_factory("dbdown", {"log": {"format": "json"}})
    assert call(d, admin, "system.whoami")["name"] == "admin"
    assert call(daemon, admin, "system.whoami")["name"] == "admin"
    obs = {}
    env.pg_stop()
    try:
        obs["whoami"] = timed(lambda: rpc(d, admin, "system.whoami", timeout=10))
        obs["create"] = timed(lambda: rpc(
            d, admin, "principal.create", {"name": uniq("dbdown"), "roles": ["auditor"]},
            timeout=10))
        obs["healthz"] = timed(lambda: http_get(d, "/healthz", timeout=10))
        obs["batch"] = timed(lambda: post_rpc(d, admin, [WHOAMI, dict(WHOAMI, id=2)],
                                              timeout=10))
        obs["main_whoami"] = timed(lambda: rpc(daemon, admin, "system.whoami",
                                               timeout=10))
        obs["alive"] = d.alive()
    finally:
        env.pg_start()
    obs["recovery"] = recovery_time(d, admin, 25)
    obs["main_recovery"] = recovery_time(daemon, admin, 25)
    wait_pool_up(d, admin)
    wait_pool_up(daemon, admin)
    return d, obs


def single_call(obs, key):
    took, res, exc = obs[key]
    assert exc is None, "%s raised %r with the database down" % (key, exc)
    r, doc = res
    return took, r, doc


@pytest.mark.parametrize("key", ["whoami", "create", "main_whoami"])
def test_call_gets_32050_promptly(outage, key):
    _, obs = outage
    took, r, doc = single_call(obs, key)
    assert took < PROMPT, "%s took %.1f s with the database down" % (key, took)
    assert_error(doc, -32050)
    assert r.status == 503, r


def test_healthz_503_promptly(outage):
    _, obs = outage
    took, res, exc = obs["healthz"]
    assert exc is None, repr(exc)
    assert res[0] == 503, res
    assert took < PROMPT


def test_batch_gets_32050(outage):
    _, obs = outage
    took, r, exc = obs["batch"]
    assert exc is None, repr(exc)
    assert took < PROMPT
    doc = r.json()
    entries = doc if isinstance(doc, list) else [doc]
    assert entries
    for e in entries:
        assert_error(e, -32050)


def test_daemon_survives_outage(outage):
    d, obs = outage
    assert obs["alive"], "fundd exited when the database went away:\n" + d.log_tail()


def test_recovers_without_restart(outage):
    d, obs = outage
    took = obs["recovery"]
    assert took is not None, "no recovery within 25 s of pg-start:\n" + d.log_tail()
    assert took <= RECOVERY_LIMIT, "recovery took %.1f s" % took


def test_main_daemon_recovers(outage):
    _, obs = outage
    took = obs["main_recovery"]
    assert took is not None and took <= RECOVERY_LIMIT, took


def test_writes_work_after_recovery(outage, admin):
    d, _ = outage
    p = create_principal(d, admin, ["auditor"])
    assert call(d, p["token"], "system.whoami")["principal_id"] == p["principal_id"]


def test_json_log_stays_json_through_outage(outage):
    d, _ = outage
    with open(d.log_path, "rb") as f:
        lines = [l for l in f.read().decode("utf-8", "replace").splitlines() if l.strip()]
    assert lines
    bad = []
    for l in lines:
        try:
            ok = isinstance(json.loads(l), dict)
        except ValueError:
            ok = False
        if not ok:
            bad.append(l)
    assert not bad, "log.format = json, but the outage produced non-JSON lines: %r" % bad[:5]
