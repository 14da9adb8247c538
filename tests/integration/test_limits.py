"""Connection cap, a pool of one connection, and the pool's wait queue."""

import http.client
import socket
import ssl
import time

from fl.env import remember_token, uniq
from fl.client import WHOAMI, Background, Client, RpcError, assert_error, call, rpc
from fl.db import TableLock


def extra_connection_outcome(daemon, token):
    """What happens to a connection past the cap: '503', 'closed', 'served:<status>', 'hung'."""
    try:
        with Client(daemon, token, timeout=5) as s:
            r = s.post_rpc(WHOAMI)
    except socket.timeout:
        return "hung"
    except (ssl.SSLError, ConnectionError, http.client.HTTPException, OSError):
        return "closed"
    if r.status == 503:
        return "503"
    return "served:%d" % r.status


def test_max_connections(daemon_factory, admin):
    d = daemon_factory("maxconn", {"server": {"max_connections": 8}})
    held = []
    try:
        for i in range(8):
            # The readiness probe's connection may still be counted for a moment.
            deadline = time.monotonic() + 5
            while True:
                s = Client(d, admin, timeout=10)
                try:
                    r = s.post_rpc(WHOAMI)
                    if r.status == 200:
                        break
                    got = r.status
                except (ssl.SSLError, ConnectionError, http.client.HTTPException, OSError) as e:
                    got = repr(e)
                s.close()
                assert time.monotonic() < deadline, \
                    "connection %d of 8 was refused (%s) under max_connections = 8" % (i + 1, got)
                time.sleep(0.2)
            held.append((s, s.sock))

        outcomes = [extra_connection_outcome(d, admin) for _ in range(3)]
        for o in outcomes:
            assert o in ("503", "closed"), \
                "a connection past max_connections was %s (all: %r)" % (o, outcomes)

        # The eight existing keep-alive connections keep working.
        for i, (s, sock) in enumerate(held):
            assert s.sock is sock, "held connection %d was closed" % i
            assert s.call("system.whoami")["name"] == "admin"
            assert s.sock is sock
    finally:
        for s, _ in held:
            s.close()

    # Once they are gone, new connections are served again.
    deadline = time.monotonic() + 5
    while True:
        o = extra_connection_outcome(d, admin)
        if o == "served:200":
            break
        assert time.monotonic() < deadline, "no connection served after the others closed: " + o
        time.sleep(0.2)


def test_pool_of_one_serves_concurrent_requests(daemon_factory, admin):
    d = daemon_factory("pool1", {"database": {"pool_size": 1}})

    def work(i):
        with Client(d, admin, timeout=30) as s:
            names = []
            for j in range(3):
                names.append(s.call("system.whoami")["name"])
            p = s.call("principal.create", {"name": uniq("pool1-%d" % i), "roles": ["auditor"]})
            remember_token(p["token"])
            return names, p["principal_id"]

    jobs = [Background(lambda i=i: work(i)) for i in range(12)]
    for j in jobs:
        j.start()
    ids = set()
    for j in jobs:
        names, pid = j.get(60)
        assert names == ["admin"] * 3
        ids.add(pid)
    assert len(ids) == 12


def test_wait_queue_overflow_is_overloaded(env, daemon_factory, admin):
    d = daemon_factory("waitq", {"database": {"pool_size": 1, "wait_queue": 1},
                                 "server": {"workers": 1}})
    n = 6

    def create(i):
        with Client(d, admin, timeout=40) as s:
            try:
                p = s.call("principal.create", {"name": uniq("waitq-%d" % i),
                                                "roles": ["auditor"]})
                remember_token(p["token"])
                return ("ok", p["principal_id"])
            except RpcError as e:
                return ("error", e)

    with TableLock(env) as lock:
        first = Background(lambda: create(0))
        first.start()
        assert lock.wait_for_waiters(1, timeout=10), "the first request never reached the lock"
        rest = [Background(lambda i=i: create(i)) for i in range(1, n)]
        for j in rest:
            j.start()
        time.sleep(1.5)
        t_release = time.monotonic()
    jobs = [first] + rest
    results = [j.get(40) for j in jobs]

    ok = [r for r in results if r[0] == "ok"]
    over = [(j, r[1]) for j, r in zip(jobs, results) if r[0] == "error"]
    for j, e in over:
        assert e.code == -32029, "expected -32029 overloaded, got %r" % (e.error,)
        assert_error({"jsonrpc": "2.0", "id": 1, "error": e.error}, -32029)
        assert j.t_end < t_release, "the -32029 answer only came after the lock was released"
    assert len(over) >= 1, "no request was refused with -32029 past wait_queue = 1: %r" % (
        results,)
    assert len(ok) >= 1, "no request completed once the pool was free: %r" % (results,)
    assert call(d, admin, "system.whoami")["name"] == "admin"


def test_pool_size_caps_database_connections(env, daemon_factory, admin):
    # pool_size is the daemon's number of database connections, whatever the workers.
    d = daemon_factory("poolcap", {"database": {"pool_size": 1}, "server": {"workers": 2}})

    def create(i):
        return rpc(d, admin, "principal.create",
                   {"name": uniq("poolcap-%d" % i), "roles": ["auditor"]}, timeout=30)

    with TableLock(env) as lock:
        jobs = [Background(lambda i=i: create(i)) for i in range(4)]
        for j in jobs:
            j.start()
        assert lock.wait_for_waiters(1, timeout=10)
        time.sleep(1.0)
        busy = lock.waiters()
    for j in jobs:
        r, doc = j.get(40)
        assert "result" in doc, doc
        remember_token(doc["result"]["token"])
    assert busy == 1, "pool_size = 1, but %d database connections were in use at once" % busy


def test_concurrent_load(daemon, admin):
    def work(i):
        with Client(daemon, admin, timeout=30) as s:
            out = []
            for j in range(5):
                m = ("system.whoami", "region.list", "system.version")[(i + j) % 3]
                out.append((m, s.call(m)))
            return out

    jobs = [Background(lambda i=i: work(i)) for i in range(32)]
    for j in jobs:
        j.start()
    for j in jobs:
        for m, res in j.get(60):
            if m == "system.whoami":
                assert res["name"] == "admin"
            elif m == "region.list":
                assert len(res["regions"]) == 11
            else:
                assert res["protocol"] == 1
