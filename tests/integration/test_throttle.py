"""Repeated failed authentication from one address is slowed down, and logged, without
slowing anybody else. A daemon of its own ([server] auth_fail_limit = 3); the other
address is 127.0.0.2, which loopback also answers."""

import json
import socket
import time

from fl.env import fake_token
from fl.client import client_context, read_http_response

WHOAMI = b'{"jsonrpc":"2.0","id":1,"method":"system.whoami"}'


def _call(d, token, source="127.0.0.1", path="/rpc"):
    """One request on a fresh connection from source; returns (status, seconds)."""
    s = socket.create_connection(("127.0.0.1", d.port), timeout=20,
                                 source_address=(source, 0))
    t = client_context(d.env).wrap_socket(s, server_hostname="127.0.0.1")
    try:
        if path == "/rpc":
            req = (b"POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                   token.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(WHOAMI) + WHOAMI)
        else:
            req = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        t0 = time.monotonic()
        t.sendall(req)
        status, _, body = read_http_response(t, timeout=20)
        elapsed = time.monotonic() - t0
        if path == "/rpc" and status == 200:
            assert json.loads(body)["result"]["name"] == "admin"
        return status, elapsed
    finally:
        t.close()


def test_failed_authentication_is_slowed_down(daemon_factory, admin):
    d = daemon_factory("throttle", {"server": {"auth_fail_limit": 3}})
    bad = fake_token()
    # within the limit, and the failure that crosses it: answered at once
    for _ in range(4):
        status, took = _call(d, bad)
        assert status == 401
        assert took < 0.5, took
    # then each request waits, 100 ms doubling with each failure. The wait runs from the
    # moment the previous failure was recorded, just before its answer, so it is measured
    # from answer to answer: a new connection's handshake is part of it.
    waits = []
    last = time.monotonic()
    for _ in range(4):
        status, took = _call(d, bad)
        assert status == 401
        now = time.monotonic()
        waits.append(now - last)
        last = now
    assert waits[0] >= 0.09 and waits[1] >= 0.19 and waits[2] >= 0.39 and waits[3] >= 0.79, \
        waits
    # that token now waits 1.6 s from this address; nobody else waits: not another address,
    # not /healthz, not another token from the same address (one user's typos behind a NAT)
    status, took = _call(d, admin, source="127.0.0.2")
    assert status == 200 and took < 0.5, took
    status, took = _call(d, admin, source="127.0.0.1", path="/healthz")
    assert status == 200 and took < 0.5, took
    for _ in range(3):
        status, took = _call(d, admin)
        assert status == 200 and took < 0.5, took
    status, took = _call(d, bad)
    assert status == 401 and took >= 1.0, took
    status, took = _call(d, admin)
    assert status == 200 and took < 0.5, took
    log = d.log_tail(20000)
    assert "127.0.0.1" in log and "failed authentications in a row" in log, log
    assert "127.0.0.2" not in log.split("failed authentications")[0][-200:]
    assert bad not in log


def test_guessing_tokens_slows_the_address(daemon_factory, admin):
    """Many different tokens failing from one address slow every credential from there that
    has not authenticated there since; one that does is served at once from then on, and
    the guessing stays slowed."""
    d = daemon_factory("throttle-guess", {"server": {"auth_fail_limit": 3}})
    for _ in range(4):
        status, took = _call(d, fake_token())
        assert status == 401 and took < 0.5, took
    waits = []
    last = time.monotonic()
    for _ in range(4):
        status, took = _call(d, fake_token())
        assert status == 401
        now = time.monotonic()
        waits.append(now - last)
        last = now
    assert waits[0] >= 0.09 and waits[1] >= 0.19 and waits[2] >= 0.39 and waits[3] >= 0.79, \
        waits
    # a token not yet seen here waits like a guess; once it authenticated, it does not
    status, took = _call(d, admin)
    assert status == 200 and took >= 1.5, took
    for _ in range(3):
        status, took = _call(d, admin)
        assert status == 200 and took < 0.5, took
    # the guesses go on doubling: a valid token does not make guessing cheaper
    _call(d, fake_token())
    status, took = _call(d, fake_token())
    assert status == 401 and took >= 3.0, took
    status, took = _call(d, admin)
    assert status == 200 and took < 0.5, took
    status, took = _call(d, admin, source="127.0.0.2")
    assert status == 200 and took < 0.5, took
    log = d.log_tail(20000)
    assert "different credentials failed to authenticate" in log, log


def test_throttle_off(daemon_factory):
    d = daemon_factory("nothrottle", {"server": {"auth_fail_limit": 0}})
    bad = fake_token()
    # 16 failures: with the default limit (10) the last would wait 3.2 s
    for _ in range(16):
        status, took = _call(d, bad)
        assert status == 401
        assert took < 0.5, took
