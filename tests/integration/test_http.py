"""HTTP layer: /healthz, /metrics, status codes for bad requests, size limits
(docs/protocol.md and the issue's HTTP behaviour)."""

import configparser
import json
import os
import re
import time

import pytest

from fl.env import fake_token, uniq
from fl.client import (Background, Client, HttpReader, assert_error, call, http_get,
                       metric_value, raw_exchange, raw_tls, read_http_response, scrape,
                       wait_closed)
from fl.db import TableLock

WHOAMI = json.dumps({"jsonrpc": "2.0", "method": "system.whoami", "id": 1})


def req(method, path, headers=(), body=b"", length=True):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1"]
    lines += list(headers)
    if length and (body or method == "POST"):
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# ---------------------------------------------------------------------------------- /healthz

def test_healthz(daemon):
    st, headers, body = http_get(daemon, "/healthz")
    assert st == 200
    assert body.strip() == b"ok"


def test_healthz_ignores_bad_credentials(daemon):
    st, _, body = http_get(daemon, "/healthz", token=fake_token())
    assert st == 200 and body.strip() == b"ok"


# ---------------------------------------------------------------------------------- /metrics

def test_metrics_needs_credentials(daemon):
    with Client(daemon) as s:
        r = s.request("GET", "/metrics")
    assert r.status == 401
    assert_error(r.json(), -32001)
    with Client(daemon, fake_token()) as s:
        r = s.request("GET", "/metrics")
    assert r.status == 401


def test_metrics_forbidden_for_other_roles(daemon, approver):
    st, _, body = http_get(daemon, "/metrics", token=approver["token"])
    assert st == 403, (st, body[:200])


def test_metrics_allowed_for_auditor(daemon, auditor):
    text, samples = scrape(daemon, auditor["token"])
    assert samples


def _gauge(daemon, token, name):
    v = metric_value(scrape(daemon, token)[1], name)
    assert v is not None, "metric %s missing" % name
    return v


def _wait_gauge(daemon, token, name, ok, timeout=10):
    """Scrapes until ok(value) holds; returns the value (the last one if it never does)."""
    deadline = time.monotonic() + timeout
    while True:
        v = _gauge(daemon, token, name)
        if ok(v) or time.monotonic() > deadline:
            return v
        time.sleep(0.05)


def _configured_pool(conf):
    """fundd_db_pool_size as the config says it: pool_size split evenly over the workers
    (as many as processors by default, never more than pool_size), what does not divide
    left out (config/fundd.conf.example)."""
    cp = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"))
    cp.read(conf)
    size = cp.getint("database", "pool_size", fallback=8)
    workers = cp.getint("server", "workers", fallback=0) or os.sysconf("SC_NPROCESSORS_ONLN")
    workers = min(workers, size)
    return size // workers * workers


def test_metrics_content(env, daemon, admin):
    call(daemon, admin, "system.whoami")
    text, samples = scrape(daemon, admin)
    names = {n for n, _, _ in samples}
    ok = metric_value(samples, "fundd_rpc_requests_total",
                      method="system.whoami", outcome="ok")
    assert ok is not None and ok >= 1, \
        'no fundd_rpc_requests_total{method="system.whoami",outcome="ok"}'
    for g in ("fundd_db_pool_in_use", "fundd_db_pool_waiting", "fundd_connections_open"):
        assert g in names, "metric %s missing" % g
    assert metric_value(samples, "fundd_connections_open") >= 1
    assert re.search(r"^# TYPE fundd_rpc_duration_seconds histogram$", text, re.M), \
        "fundd_rpc_duration_seconds is not declared a histogram"
    assert re.search(r"^# TYPE fundd_rpc_requests_total counter$", text, re.M)

    # Open connections: three more held open count, and stop counting once closed.
    held = [Client(daemon, admin) for _ in range(3)]
    try:
        for s in held:
            s.call("system.whoami")
        open_held = _gauge(daemon, admin, "fundd_connections_open")
        assert open_held >= 4, "3 connections held and the scrape's own, %r open" % open_held
    finally:
        for s in held:
            s.close()
    left = _wait_gauge(daemon, admin, "fundd_connections_open", lambda v: v <= open_held - 3)
    assert left <= open_held - 3, "3 of %r connections closed, still %r open" % (open_held, left)

    # The pool: every configured connection up; a call held in the database by a lock
    # keeps one more connection in use than when idle (the scrape's own token check runs on
    # another, so none waits), and it is free again once the call is answered.
    size = _gauge(daemon, admin, "fundd_db_pool_size")
    assert size == _configured_pool(daemon.conf), size
    up = _wait_gauge(daemon, admin, "fundd_db_pool_up", lambda v: v == size, timeout=20)
    assert up == size, "%r of %r database connections up" % (up, size)
    assert _gauge(daemon, admin, "fundd_db_pool_waiting") == 0
    idle = min(_gauge(daemon, admin, "fundd_db_pool_in_use") for _ in range(3))
    assert idle <= 1, "fundd_db_pool_in_use %r with nothing running but the scrape" % idle
    with TableLock(env, "fl.fund"):
        job = Background(lambda: call(daemon, admin, "fund.list", timeout=60))
        job.start()
        busy = _wait_gauge(daemon, admin, "fundd_db_pool_in_use", lambda v: v > idle)
        assert idle < busy <= size, "fundd_db_pool_in_use %r while a call is held" % busy
        assert _gauge(daemon, admin, "fundd_db_pool_waiting") == 0
    assert "funds" in job.get(60)
    after = _wait_gauge(daemon, admin, "fundd_db_pool_in_use", lambda v: v <= idle)
    assert after <= idle, "fundd_db_pool_in_use still %r after the held call answered" % after


def test_metrics_histogram_is_cumulative(daemon, admin):
    call(daemon, admin, "system.whoami")
    _, samples = scrape(daemon, admin)
    buckets = [(l, v) for n, l, v in samples if n == "fundd_rpc_duration_seconds_bucket"]
    assert buckets, "no fundd_rpc_duration_seconds_bucket samples"
    assert all("le" in l for l, _ in buckets)
    # Group by the labels other than le; each group is cumulative and ends at +Inf.
    groups = {}
    for l, v in buckets:
        key = tuple(sorted((k, x) for k, x in l.items() if k != "le"))
        groups.setdefault(key, []).append((float(l["le"]), v))
    for key, series in groups.items():
        series.sort()
        assert series[-1][0] == float("inf"), "no le=\"+Inf\" bucket for %r" % (key,)
        counts = [v for _, v in series]
        assert counts == sorted(counts), "buckets not cumulative for %r: %r" % (key, series)
        count = metric_value(samples, "fundd_rpc_duration_seconds_count", **dict(key))
        if count is not None:
            assert count == counts[-1]
    assert sum(s[-1][1] for s in groups.values()) >= 1


def test_metrics_counter_increases(daemon, admin):
    _, before = scrape(daemon, admin)
    b = metric_value(before, "fundd_rpc_requests_total",
                     method="system.whoami", outcome="ok") or 0
    with Client(daemon, admin) as s:
        for _ in range(3):
            s.call("system.whoami")
    _, after = scrape(daemon, admin)
    a = metric_value(after, "fundd_rpc_requests_total",
                     method="system.whoami", outcome="ok")
    assert a is not None and a - b >= 3, (b, a)


# ---------------------------------------------------------------------------------- status codes

@pytest.mark.parametrize("method,path", [("GET", "/nope"), ("POST", "/nope"),
                                         ("GET", "/rpcx"), ("POST", "/")])
def test_unknown_path_404(daemon, admin, method, path):
    with Client(daemon, admin) as s:
        r = s.request(method, path, body=b"{}" if method == "POST" else None)
    assert r.status == 404, r


@pytest.mark.parametrize("method,path", [("GET", "/rpc"), ("PUT", "/rpc"), ("DELETE", "/rpc"),
                                         ("POST", "/healthz"), ("POST", "/metrics")])
def test_wrong_method_405(daemon, admin, method, path):
    with Client(daemon, admin) as s:
        r = s.request(method, path, body=b"{}" if method in ("POST", "PUT") else None)
    assert r.status == 405, r


def test_post_without_content_length_411(daemon, admin):
    resp = raw_exchange(daemon, req("POST", "/rpc", ["Authorization: Bearer " + admin,
                                                      "Content-Type: application/json"],
                                    length=False))
    assert resp is not None, "connection closed without a response"
    assert resp[0] == 411, resp


@pytest.mark.parametrize("raw", [
    b"GARBAGE\r\n\r\n",
    b"\x00\x01\x02\x03 / HTTP/1.1\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nNoColonHere\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n: empty-name\r\n\r\n",
    b"POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n",
    b"POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n",
    b"POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}",
], ids=["request-line", "binary", "no-colon", "empty-name", "cl-text", "cl-negative",
        "cl-twice"])
def test_malformed_http_400(daemon, raw):
    resp = raw_exchange(daemon, raw)
    assert resp is not None, "connection closed without a 400 response"
    assert resp[0] == 400, resp


@pytest.mark.parametrize("raw", [
    b"GET /healthz HTTP/1.1\nHost: 127.0.0.1\n\n",
    b"POST /rpc HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 2\n\n{}",
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\n\r\n",
    b"GET /healthz HTTP/1.1\nHost: 127.0.0.1\r\n\r\n",
], ids=["lf-only", "lf-post", "lf-then-crlf", "lf-in-head"])
def test_bare_lf_head_answered_400_at_once(daemon, raw):
    """A head with bare LF line ends is refused at once, not left to the read timeout."""
    t0 = time.monotonic()
    resp = raw_exchange(daemon, raw, timeout=4)
    assert resp is not None, "connection closed without a 400 response"
    assert resp[0] == 400, resp
    assert time.monotonic() - t0 < 2


@pytest.mark.parametrize("target", ["https://127.0.0.1/rpc", "HTTPS://fund.example:8443/rpc",
                                    "http://127.0.0.1/rpc"])
def test_absolute_form_target_accepted(daemon, admin, target):
    """RFC 9112 3.2.2: a server must accept the absolute form; the path follows the
    authority."""
    resp = raw_exchange(daemon, req("POST", target, ["Authorization: Bearer " + admin],
                                    WHOAMI.encode()))
    assert resp is not None and resp[0] == 200, resp
    assert json.loads(resp[2])["result"]["name"] == "admin"
    resp = raw_exchange(daemon, req("GET", "https://127.0.0.1/healthz"))
    assert resp is not None and resp[0] == 200 and resp[2].strip() == b"ok", resp


def test_daemon_healthy_after_malformed_requests(daemon, admin):
    for raw in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nA\r\n\r\n"):
        try:
            raw_exchange(daemon, raw, timeout=3)
        except (OSError, AssertionError):
            pass
    assert call(daemon, admin, "system.whoami")["name"] == "admin"


def test_header_over_default_limit_431(daemon):
    big = "X-Filler: " + "a" * 20000
    resp = raw_exchange(daemon, req("GET", "/healthz", [big]))
    assert resp is not None, "connection closed without a 431 response"
    assert resp[0] == 431, resp


def test_many_headers_over_default_limit_431(daemon):
    hdrs = ["X-H%d: %s" % (i, "b" * 50) for i in range(400)]
    resp = raw_exchange(daemon, req("GET", "/healthz", hdrs))
    assert resp is not None, "connection closed without a 431 response"
    assert resp[0] == 431, resp


def test_header_under_default_limit_ok(daemon, admin):
    with Client(daemon, admin) as s:
        r = s.request("POST", "/rpc", body=WHOAMI, headers={"X-Filler": "c" * 8000})
    assert r.status == 200
    assert r.json()["result"]["name"] == "admin"


# ---------------------------------------------------------------------------------- connections

def test_pipelined_requests_answered_in_order(daemon, admin):
    auth = "Authorization: Bearer " + admin
    data = b"".join(
        req("POST", "/rpc", [auth], json.dumps({"jsonrpc": "2.0", "method": m, "id": i}).encode())
        for i, m in enumerate(["system.whoami", "system.version", "region.list",
                               "system.whoami"]))
    data += req("GET", "/healthz")
    with raw_tls(daemon) as t:
        t.sendall(data)
        rd = HttpReader(t)
        got = [rd.read_response() for _ in range(5)]
    assert all(g is not None for g in got), got
    assert [g[0] for g in got] == [200] * 5
    docs = [json.loads(g[2]) for g in got[:4]]
    assert [d["id"] for d in docs] == [0, 1, 2, 3]
    assert docs[0]["result"]["name"] == "admin"
    assert docs[1]["result"]["protocol"] == 1
    assert len(docs[2]["result"]["regions"]) == 11
    assert got[4][2].strip() == b"ok"


def test_connection_close_honoured(daemon):
    with raw_tls(daemon) as t:
        t.sendall(req("GET", "/healthz", ["Connection: close"]))
        resp = read_http_response(t)
        assert resp is not None and resp[0] == 200
        assert wait_closed(t, 3) is not None, "the server kept a Connection: close connection"


def test_http10_request(daemon):
    with raw_tls(daemon) as t:
        t.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        resp = read_http_response(t)
        assert resp is not None and resp[0] == 200, resp
        assert resp[2].strip() == b"ok"
        assert wait_closed(t, 3) is not None, "an HTTP/1.0 connection was kept open"


def test_rpc_content_type_and_length(daemon, admin):
    with raw_tls(daemon) as t:
        body = json.dumps({"jsonrpc": "2.0", "method": "system.version", "id": 1}).encode()
        t.sendall(req("POST", "/rpc", ["Authorization: Bearer " + admin], body))
        st, headers, rbody = read_http_response(t)
    assert st == 200
    assert headers.get("content-type", "").split(";")[0].strip() == "application/json"
    assert int(headers["content-length"]) == len(rbody)
    assert json.loads(rbody)["result"]["protocol"] == 1


# ---------------------------------------------------------------------------------- limits daemon

@pytest.fixture(scope="module")
def small(module_daemon_factory):
    return module_daemon_factory("limits", {"server": {"max_body_bytes": 1024,
                                                       "max_header_bytes": 2048}})


def padded_whoami(size):
    body = WHOAMI.encode()
    return body + b" " * (size - len(body))


def test_body_over_limit_413(small, admin):
    with Client(small, admin) as s:
        r = s.request("POST", "/rpc", body=padded_whoami(2000))
    assert r.status == 413, r


def test_body_one_over_limit_413(small, admin):
    with Client(small, admin) as s:
        r = s.request("POST", "/rpc", body=padded_whoami(1025))
    assert r.status == 413, r


def test_body_at_limit_ok(small, admin):
    with Client(small, admin) as s:
        r = s.request("POST", "/rpc", body=padded_whoami(1024))
    assert r.status == 200, r
    assert r.json()["result"]["name"] == "admin"


def test_huge_content_length_refused_without_reading(small, admin):
    t0 = time.monotonic()
    with raw_tls(small) as s:
        s.sendall(req("POST", "/rpc", ["Authorization: Bearer " + admin,
                                       "Content-Length: 100000000"], length=False))
        resp = read_http_response(s, timeout=5)
    assert resp is not None, "connection closed without a 413 response"
    assert resp[0] == 413, resp
    assert time.monotonic() - t0 < 3


def test_batch_over_body_limit_413(small, admin):
    batch = json.dumps([json.loads(WHOAMI)] * 40).encode()
    assert len(batch) > 1024
    with Client(small, admin) as s:
        r = s.request("POST", "/rpc", body=batch)
    assert r.status == 413


def test_header_over_configured_limit_431(small):
    resp = raw_exchange(small, req("GET", "/healthz", ["X-Filler: " + "d" * 3000]))
    assert resp is not None, "connection closed without a 431 response"
    assert resp[0] == 431, resp


def test_header_under_configured_limit_ok(small):
    resp = raw_exchange(small, req("GET", "/healthz", ["X-Filler: " + "e" * 1000]))
    assert resp is not None and resp[0] == 200, resp


def test_limits_daemon_still_serves(small, admin):
    assert call(small, admin, "system.whoami")["name"] == "admin"


def test_connections_spread_evenly_over_workers(daemon_factory, admin):
    """The kernel's SO_REUSEPORT spreads connections by a hash of their addresses; the daemon
    hands each new one to the worker with the fewest open, so each worker's database
    batches serve the same number of clients (server.c, accept_cb)."""
    d = daemon_factory(uniq("spread"), {"server": {"workers": 2},
                                        "database": {"pool_size": 2}})
    sessions = []
    try:
        for _ in range(100):
            s = Client(d, admin)
            sessions.append(s)
            assert s.call("system.whoami")["principal_id"]
        _, samples = scrape(d, admin)  # on a connection of its own: 101 open
        per = [metric_value(samples, "fundd_worker_connections", worker=str(i))
               for i in (0, 1)]
        assert sum(per) == 101 and max(per) - min(per) <= 1, per
    finally:
        for s in sessions:
            s.close()
