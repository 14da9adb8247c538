"""Slow and idle clients are cut after io_timeout_s (docs/protocol.md; STYLE: evhttp's
timeout is per inactivity, so a trickling client needs a whole-request deadline)."""

import socket
import ssl
import time

import pytest

from fl.client import Client, call, raw_tls, read_http_response, wait_closed

IO_TIMEOUT = 2
LOW, HIGH = IO_TIMEOUT - 0.6, IO_TIMEOUT + 2.5


@pytest.fixture(scope="module")
def slowd(module_daemon_factory):
    return module_daemon_factory("timeouts", {"server": {"io_timeout_s": IO_TIMEOUT}})


def trickle(sock, data, interval=0.5, limit=10):
    """Sends data one byte every `interval` s until the peer disconnects. Returns the seconds
    from the start until the disconnect, or None if it never came within `limit`."""
    t0 = time.monotonic()
    for b in data:
        try:
            sock.sendall(bytes([b]))
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            return time.monotonic() - t0
        if wait_closed(sock, interval) is not None:
            return time.monotonic() - t0
        if time.monotonic() - t0 > limit:
            return None
    return None


def test_slow_request_head_is_cut(slowd, admin):
    t = raw_tls(slowd)
    try:
        head = (b"POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                admin.encode() + b"\r\nX-Slow: " + b"s" * 100)
        # Send the first part at once so the trickle is clearly inside a request.
        t.sendall(head[:20])
        elapsed = trickle(t, head[20:])
    finally:
        t.close()
    assert elapsed is not None, "a client trickling one byte per 0.5 s was never disconnected"
    assert LOW <= elapsed <= HIGH, "disconnected after %.1f s, io_timeout_s is %d" % (
        elapsed, IO_TIMEOUT)


def test_slow_request_body_is_cut(slowd, admin):
    body = b'{"jsonrpc":"2.0","method":"system.whoami","id":1}' + b" " * 150
    t = raw_tls(slowd)
    try:
        t.sendall(b"POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                  admin.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body))
        elapsed = trickle(t, body)
    finally:
        t.close()
    assert elapsed is not None, "a client trickling its body was never disconnected"
    assert LOW <= elapsed <= HIGH, "disconnected after %.1f s" % elapsed


def test_idle_keep_alive_connection_is_cut(slowd, admin):
    t = raw_tls(slowd)
    try:
        t.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        resp = read_http_response(t)
        assert resp is not None and resp[0] == 200
        assert resp[1].get("connection", "").lower() != "close"
        waited = wait_closed(t, HIGH + 3)
    finally:
        t.close()
    assert waited is not None, "an idle keep-alive connection was never closed"
    assert LOW <= waited <= HIGH, "idle connection closed after %.1f s" % waited


def test_silent_tls_client_is_cut(slowd):
    t = raw_tls(slowd)
    try:
        waited = wait_closed(t, HIGH + 3)
    finally:
        t.close()
    assert waited is not None, "a TLS client that never sends a request was never closed"
    assert waited <= HIGH, "closed after %.1f s" % waited


def test_client_that_never_handshakes_is_cut(slowd):
    s = socket.create_connection(("127.0.0.1", slowd.port), timeout=10)
    try:
        waited = wait_closed(s, HIGH + 3)
    finally:
        s.close()
    assert waited is not None, "a TCP client that never starts TLS was never closed"
    assert waited <= HIGH, "closed after %.1f s" % waited


def test_active_keep_alive_connection_survives(slowd, admin):
    # Requests spaced below io_timeout_s keep one connection alive well past io_timeout_s.
    with Client(slowd, admin) as s:
        s.connect()
        first = s.sock
        t0 = time.monotonic()
        n = 0
        while time.monotonic() - t0 < IO_TIMEOUT * 2:
            assert s.sock is first, "connection dropped after %.1f s" % (time.monotonic() - t0)
            assert s.call("system.whoami")["name"] == "admin"
            n += 1
            time.sleep(IO_TIMEOUT / 3)
        assert n >= 4


def test_timeouts_daemon_still_serves(slowd, admin):
    assert call(slowd, admin, "system.whoami")["name"] == "admin"
