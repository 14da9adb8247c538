"""Daemon lifecycle against the real database: draining on SIGTERM, clients vanishing
mid-query, refusing an out-of-date schema. The database outage is in test_dbdown.py."""

import http.client
import os
import signal
import socket
import ssl
import subprocess
import time

from fl.client import Background, Client, call, raw_tls
from fl.db import TableLock
from fl.env import FUNDD, ROOT, Daemon, free_port, remember_token, uniq

WHOAMI = {"jsonrpc": "2.0", "method": "system.whoami", "id": 1}


def test_sigterm_drains_in_flight_request(env, daemon_factory, daemon, admin):
    d = daemon_factory("drain")
    name = uniq("drain")

    def create():
        with Client(d, admin, timeout=30) as s:
            return s.rpc("principal.create", {"name": name, "roles": ["auditor"]})

    with TableLock(env) as lock:
        job = Background(create)
        job.start()
        assert lock.wait_for_waiters(1, timeout=10), "the request never reached the database"
        d.signal(signal.SIGTERM)
        time.sleep(0.7)
        assert d.alive(), "fundd exited with a request in flight:\n" + d.log_tail()
        # New connections are refused while draining (closed or 503, never served).
        try:
            with Client(d, admin, timeout=3) as s:
                r = s.post_rpc(WHOAMI)
            refused = r.status == 503
            detail = repr(r)
        except (ssl.SSLError, ConnectionError, http.client.HTTPException, OSError) as e:
            refused, detail = True, repr(e)
        assert refused, "a new request was served while draining: " + detail
        time.sleep(0.5)
    r, doc = job.get(30)
    assert r.status == 200, r
    assert "result" in doc, doc
    remember_token(doc["result"]["token"])
    try:
        rc = d.proc.wait(15)
    except subprocess.TimeoutExpired:
        rc = "still running 15 s after the in-flight request finished"
    d.returncode = rc
    assert rc == 0, "fundd exit code after SIGTERM: %r\n%s" % (rc, d.log_tail())
    # The drained request really committed.
    me = call(daemon, doc["result"]["token"], "system.whoami")
    assert me["principal_id"] == doc["result"]["principal_id"] and me["name"] == name


def test_sigint_stops_idle_daemon(daemon_factory):
    d = daemon_factory("sigint")
    d.signal(signal.SIGINT)
    rc = d.proc.wait(15)
    d.returncode = rc
    assert rc == 0


def test_client_disconnect_mid_query(env, daemon, admin):
    with TableLock(env) as lock:
        t = raw_tls(daemon)
        body = ('{"jsonrpc":"2.0","method":"principal.create","id":1,'
                '"params":{"name":"%s","roles":["auditor"]}}' % uniq("gone")).encode()
        t.sendall(b"POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                  admin.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        assert lock.wait_for_waiters(1, timeout=10)
        t.close()
        time.sleep(0.3)
    time.sleep(0.3)
    assert daemon.alive(), "fundd died after a client vanished mid-query:\n" + daemon.log_tail()
    # The pool connection it used is usable again: several calls in a row.
    with Client(daemon, admin) as s:
        for _ in range(10):
            assert s.call("system.whoami")["name"] == "admin"


def test_sigterm_waits_for_orphaned_query_only(env, daemon_factory, admin):
    """A query whose client vanished still runs on when SIGTERM comes: the daemon exits as
    soon as it is done, not at the drain deadline (io_timeout_s + 5 s)."""
    d = daemon_factory("orphan-drain", {"server": {"io_timeout_s": 20}})
    with TableLock(env) as lock:
        t = raw_tls(d)
        body = ('{"jsonrpc":"2.0","method":"principal.create","id":1,'
                '"params":{"name":"%s","roles":["auditor"]}}' % uniq("orphan")).encode()
        t.sendall(b"POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                  admin.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        assert lock.wait_for_waiters(1, timeout=10)
        t.close()
        time.sleep(0.3)
        d.signal(signal.SIGTERM)
        time.sleep(0.5)
        assert d.alive(), "fundd exited with a query still running"
    t0 = time.monotonic()
    rc = d.proc.wait(15)
    d.returncode = rc
    assert rc == 0
    assert time.monotonic() - t0 < 5, "fundd waited for the drain deadline"
    assert "drain deadline" not in d.log_tail(), d.log_tail()


def test_refuses_schema_behind_migrations(env):
    db = "fund_empty_%s" % uniq("x").replace("-", "_")
    env.sql("CREATE DATABASE %s OWNER fund_owner" % db)
    try:
        port = free_port()
        conf = env.write_conf(os.path.join(env.dir, "fundd-behind.conf"), {
            "server": {"listen": "127.0.0.1:%d" % port},
            "database": {"dsn": env_dsn(env, db), "migrate_dsn": env_dsn(env, db, "fund_owner")},
        })
        try:
            p = subprocess.run([FUNDD, "-c", conf], cwd=ROOT, capture_output=True, text=True,
                               timeout=15)
        except subprocess.TimeoutExpired:
            raise AssertionError("fundd kept running on a database without the schema")
        out = p.stdout + p.stderr
        assert p.returncode != 0, "fundd started on an empty database"
        assert "migrat" in out.lower(), "the refusal does not mention migrations: %r" % out
        # Not listening.
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            listening = True
        except OSError:
            listening = False
        assert not listening
        # `migrate` brings it up to date, twice is a no-op, then the daemon starts.
        for _ in range(2):
            m = subprocess.run([FUNDD, "-c", conf, "migrate"], cwd=ROOT, capture_output=True,
                               text=True, timeout=120)
            assert m.returncode == 0, m.stdout + m.stderr
        d = Daemon(env, "behind", conf, port)
        d.start()
        assert d.stop() == 0
    finally:
        env.sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % db)


def env_dsn(env, db, user="fund"):
    import configparser
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(env.conf)
    dsn = cp.get("database", "dsn")
    parts = [kv for kv in dsn.split() if not kv.startswith(("dbname=", "user="))]
    return " ".join(parts + ["dbname=" + db, "user=" + user])
