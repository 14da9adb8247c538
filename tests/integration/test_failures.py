"""Failures that must tell the truth (docs/protocol.md, Errors; docs/operations.md):

- a mutation whose connection is lost after PostgreSQL committed it is answered -32051
  outcome_unknown, never "nothing was written", and its idempotency key replays it;
- a statement that waits on a lock, or runs, past [database] lock_timeout_ms or
  statement_timeout_ms is cancelled and answered -32050 timeout, counted in /metrics,
  while other calls go on;
- a server that takes no writes makes /healthz 503, /metrics say so, mutations -32050
  read_only at once, reads still answered, and the daemon finds writes again by itself;
- out of file descriptors, the daemon neither spins nor floods its log, and serves again
  once descriptors are free.
"""

import http.client
import os
import re
import resource
import socket
import ssl
import time

import pytest

from fl.client import (Background, assert_error, call, http_get, metric_value, rpc,
                       scrape)
from fl.db import TableLock, psql_ok, sql_lit
from fl.env import uniq


def wait_for(fn, timeout, what, step=0.1):
    """fn()'s first true value within timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("%s: not within %ss" % (what, timeout))


def partner_params(**extra):
    p = {"name": uniq("Failure partner"), "country": "AM", "kind": "individual"}
    p.update(extra)
    return p


def partners_named(env, name):
    return int(env.sql("SELECT count(*) FROM fl.partner WHERE name = %s" % sql_lit(name))
               .strip())


# --------------------------------------------------------------------------------------------
# A commit done, its answer lost


def test_commit_then_connection_lost_is_outcome_unknown(env, daemon_factory, admin):
    d = daemon_factory(uniq("unknown"), {"server": {"workers": 1}})
    params = partner_params(idempotency_key=uniq("unknown"))
    before = metric_value(scrape(d, admin)[1], "fundd_rpc_requests_total",
                          method="partner.create", outcome="outcome_unknown") or 0
    # Every commit now waits for a synchronous standby that does not exist: after it is
    # durable here, before its answer goes out.
    psql_ok(env, "ALTER SYSTEM SET synchronous_standby_names = 'nobody';\n"
                 "SELECT pg_reload_conf();\n", db="postgres")
    try:
        bg = Background(lambda: rpc(d, admin, "partner.create", params, timeout=30))
        bg.start()
        pid = wait_for(lambda: env.sql(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'fundd' AND "
            "wait_event = 'SyncRep' AND query LIKE 'SELECT api.call(%'").strip(), 15,
            "the call waiting for its commit to replicate")
        assert "\n" not in pid, pid
        psql_ok(env, "SELECT pg_terminate_backend(%d);\n" % int(pid), db="postgres")
        r, doc = bg.get(20)
    finally:
        psql_ok(env, "ALTER SYSTEM RESET synchronous_standby_names;\n"
                     "SELECT pg_reload_conf();\n", db="postgres")
    err = assert_error(doc, -32051, reason="outcome_unknown")
    assert "idempotency_key" in err["data"]["retry"], err
    assert r.status == 200, r     # not 503: a blind retry without the key could book twice
    # it had committed
    assert partners_named(env, params["name"]) == 1
    # the same key answers the first result, and writes nothing more
    again = call(d, admin, "partner.create", params)
    pid_db = env.sql("SELECT partner_id FROM fl.partner WHERE name = %s"
                     % sql_lit(params["name"])).strip()
    assert again["partner_id"] == pid_db
    assert partners_named(env, params["name"]) == 1
    after = metric_value(scrape(d, admin)[1], "fundd_rpc_requests_total",
                         method="partner.create", outcome="outcome_unknown")
    assert after == before + 1


def test_batch_lost_after_commit_is_outcome_unknown_for_each_call(env, daemon_factory,
                                                                   admin):
    """Two mutations sharing one transaction (docs/batching.md) whose connection is lost
    while the commit waits: each is answered -32051, each committed, each replays."""
    d = daemon_factory(uniq("unknownb"), {"server": {"workers": 1},
                                          "database": {"write_stall_ms": 60000}})
    first = partner_params(idempotency_key=uniq("ub"))
    pair = [partner_params(idempotency_key=uniq("ub")) for _ in range(2)]
    psql_ok(env, "ALTER SYSTEM SET synchronous_standby_names = 'nobody';\n"
                 "SELECT pg_reload_conf();\n", db="postgres")
    try:
        # the first waits on a lock while running, so that the next two wait in the daemon
        # and go out together once it has its results
        with TableLock(env, "fl.partner") as lock:
            # (an ACCESS EXCLUSIVE lock is WAL-logged: its own commit must not wait)
            lock.proc.stdin.write("SET LOCAL synchronous_commit = local;\n")
            lock.proc.stdin.flush()
            a = Background(lambda: rpc(d, admin, "partner.create", first, timeout=40))
            a.start()
            assert lock.wait_for_waiters(1), "the first call never reached the lock"
            bs = [Background(lambda p=p: rpc(d, admin, "partner.create", p, timeout=40))
                  for p in pair]
            for b in bs:
                b.start()
            time.sleep(1)
        pid = wait_for(lambda: env.sql(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'fundd' AND "
            "wait_event = 'SyncRep' AND query LIKE 'SELECT api.call_many(%'").strip(), 15,
            "the batch waiting for its commit to replicate")
        psql_ok(env, "SELECT pg_terminate_backend(%d);\n" % int(pid), db="postgres")
        docs = [b.get(20) for b in bs]
    finally:
        psql_ok(env, "ALTER SYSTEM RESET synchronous_standby_names;\n"
                     "SELECT pg_reload_conf();\n", db="postgres")
    assert "result" in a.get(20)[1]
    for (r, doc), p in zip(docs, pair):
        assert_error(doc, -32051, reason="outcome_unknown")
        assert r.status == 200
        assert partners_named(env, p["name"]) == 1
        assert call(d, admin, "partner.create", p)["name"] == p["name"]
        assert partners_named(env, p["name"]) == 1


def test_read_lost_before_answer_wrote_nothing(env, daemon_factory, admin):
    """A read whose connection breaks is still -32050 connection_lost: nothing was
    written. (Kept in a long statement by a lock on the table it reads.)"""
    d = daemon_factory(uniq("lostread"), {"server": {"workers": 1}})
    with TableLock(env, "fl.partner") as lock:
        bg = Background(lambda: rpc(d, admin, "partner.list", {}, timeout=30))
        bg.start()
        assert lock.wait_for_waiters(1), "partner.list never reached the lock"
        pid = env.sql("SELECT pid FROM pg_stat_activity WHERE application_name = 'fundd' "
                      "AND wait_event_type = 'Lock' AND query LIKE 'SELECT api.call(%'")
        psql_ok(env, "SELECT pg_terminate_backend(%d);\n" % int(pid.split()[0]),
                db="postgres")
        r, doc = bg.get(20)
    assert_error(doc, -32050, reason="connection_lost")
    assert r.status == 503


# --------------------------------------------------------------------------------------------
# Statement and lock timeouts


@pytest.fixture
def timeoutd(daemon_factory):
    return daemon_factory(uniq("timeouts"), {
        "server": {"workers": 1},
        "database": {"lock_timeout_ms": 1000, "statement_timeout_ms": 1500}})


def test_lock_timeout_is_a_retryable_answer(env, timeoutd, admin):
    d = timeoutd
    code = uniq("LT").upper().replace("_", "-")[:32]
    fund = {"code": code, "name": "lock timeout", "currency": "EUR", "kind": "pass_through",
            "dual_approval_above": "0", "idempotency_key": uniq("lt")}
    m0 = scrape(d, admin)[1]
    with TableLock(env, "fl.fund"):
        bg = Background(lambda: rpc(d, admin, "fund.create", fund, timeout=30))
        bg.start()
        # meanwhile, calls that need no lock on fl.fund are answered at once
        for _ in range(3):
            t0 = time.monotonic()
            assert call(d, admin, "partner.list", {})["partners"] is not None
            assert time.monotonic() - t0 < 0.8
        r, doc = bg.get(20)
        took = bg.t_end - bg.t_start
    assert_error(doc, -32050, reason="timeout")
    assert r.status == 503 and r.header("Retry-After") == "1", r
    assert 0.9 <= took < 4, took
    m1 = scrape(d, admin)[1]
    assert metric_value(m1, "fundd_db_timeouts_total", kind="lock") >= \
        metric_value(m0, "fundd_db_timeouts_total", kind="lock") + 1
    # nothing was written: the same key runs it for real now
    assert call(d, admin, "fund.create", fund)["code"] == code


def test_statement_timeout_is_a_retryable_answer(env, timeoutd, admin):
    d = timeoutd
    params = partner_params(idempotency_key=uniq("st"))
    name = "test_slow_" + uniq("t").replace("-", "_")
    psql_ok(env, """
        CREATE FUNCTION fl.%(n)s() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.name = %(v)s THEN
                PERFORM pg_sleep(10);
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER %(n)s BEFORE INSERT ON fl.partner FOR EACH ROW
            EXECUTE FUNCTION fl.%(n)s();""" % {"n": name, "v": sql_lit(params["name"])})
    try:
        m0 = scrape(d, admin)[1]
        t0 = time.monotonic()
        r, doc = rpc(d, admin, "partner.create", params, timeout=30)
        took = time.monotonic() - t0
    finally:
        psql_ok(env, "DROP TRIGGER %s ON fl.partner; DROP FUNCTION fl.%s();" % (name, name))
    assert_error(doc, -32050, reason="timeout")
    assert r.status == 503
    assert 1.4 <= took < 5, took
    assert partners_named(env, params["name"]) == 0
    m1 = scrape(d, admin)[1]
    assert metric_value(m1, "fundd_db_timeouts_total", kind="statement") >= \
        metric_value(m0, "fundd_db_timeouts_total", kind="statement") + 1
    assert call(d, admin, "partner.create", params)["name"] == params["name"]


# --------------------------------------------------------------------------------------------
# A server that takes no writes


RO_ROLE = "fund_test_ro"


def health(d):
    """(status, body) of GET /healthz; (None, why) when it could not be had."""
    try:
        st, _, body = http_get(d, "/healthz", timeout=5)
    except (OSError, ssl.SSLError, http.client.HTTPException) as e:
        return None, repr(e)
    return st, body.decode()


def test_read_only_server(env, daemon_factory, admin):
    """The daemon's login is made read-only (default_transaction_read_only, as on a
    standby) and its sessions are cut: it must say so, and find writes again when the
    setting goes."""
    psql_ok(env, "SELECT 'CREATE ROLE %(r)s LOGIN IN ROLE fundd_app' WHERE NOT EXISTS "
                 "(SELECT 1 FROM pg_roles WHERE rolname = '%(r)s') \\gexec\n"
                 "ALTER ROLE %(r)s RESET default_transaction_read_only;\n" % {"r": RO_ROLE},
            db="postgres")
    conf_dsn = "host=%s port=%s dbname=fund user=%s"
    from fl.db import dsn_of
    base = dsn_of(env.conf)
    d = daemon_factory(uniq("readonly"), {
        "server": {"workers": 1, "auth_cache_ms": 5000},   # (with its listener)
        "database": {"dsn": conf_dsn % (base["host"], base["port"], RO_ROLE)}})
    assert call(d, admin, "partner.create", partner_params())["partner_id"]

    def cut():
        psql_ok(env, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE usename = '%s';\n" % RO_ROLE, db="postgres")

    try:
        psql_ok(env, "ALTER ROLE %s SET default_transaction_read_only = on;\n" % RO_ROLE,
                db="postgres")
        cut()
        # (a moment of "database unavailable" while it connects again)
        wait_for(lambda: health(d) == (503, "database read-only\n"), 10,
                 "/healthz 503 read-only on a read-only server")
        # a mutation is refused at once, retryably, and nothing is written
        params = partner_params(idempotency_key=uniq("ro"))
        t0 = time.monotonic()
        r, doc = rpc(d, admin, "partner.create", params)
        assert time.monotonic() - t0 < 2
        assert_error(doc, -32050, reason="read_only")
        assert r.status == 503 and r.header("Retry-After") == "1", r
        assert partners_named(env, params["name"]) == 0
        # reads are still answered, and /metrics says why
        assert call(d, admin, "partner.list", {})["partners"] is not None
        m = scrape(d, admin)[1]
        assert metric_value(m, "fundd_db_read_only") == 1
        # the credentials cache's listener says it cannot listen
        wait_for(lambda: re.search(r"auth cache: listener cannot start \([^)]*read-only",
                                   d.log_tail(20000)), 10, "the listener's failure in the log")
    finally:
        psql_ok(env, "ALTER ROLE %s RESET default_transaction_read_only;\n" % RO_ROLE,
                db="postgres")
    # writable again: found by the daemon itself
    wait_for(lambda: health(d)[0] == 200, 15, "/healthz 200 once the server takes writes")
    assert call(d, admin, "partner.create", params)["name"] == params["name"]
    assert metric_value(scrape(d, admin)[1], "fundd_db_read_only") == 0


def test_server_turning_read_only_under_live_connections(env, daemon_factory, admin):
    """Sessions already open when the server stops taking writes (as when a primary is
    demoted): the first mutation is refused by PostgreSQL (SQLSTATE 25006), answered
    -32050 read_only, never -32603, and the daemon drops such connections and finds the
    server read-only; then writable again."""
    d = daemon_factory(uniq("turnro"), {"server": {"workers": 1}})
    assert call(d, admin, "partner.create", partner_params())["partner_id"]
    params = partner_params(idempotency_key=uniq("turnro"))
    try:
        # every session of the cluster, the open ones too, at their next transaction
        psql_ok(env, "ALTER SYSTEM SET default_transaction_read_only = on;\n"
                     "SELECT pg_reload_conf();\n", db="postgres")
        time.sleep(0.5)
        r, doc = rpc(d, admin, "partner.create", params)
        assert_error(doc, -32050, reason="read_only")
        assert r.status == 503, r
        wait_for(lambda: health(d) == (503, "database read-only\n"), 10,
                 "/healthz 503 read-only")
        r, doc = rpc(d, admin, "partner.create", params)
        assert_error(doc, -32050, reason="read_only")
    finally:
        psql_ok(env, "SET default_transaction_read_only = off;\n"
                     "ALTER SYSTEM RESET default_transaction_read_only;\n"
                     "SELECT pg_reload_conf();\n", db="postgres")
    assert partners_named(env, params["name"]) == 0
    wait_for(lambda: health(d)[0] == 200, 15, "/healthz 200 once the server takes writes")
    assert call(d, admin, "partner.create", params)["name"] == params["name"]
    assert "-32603" not in d.log_tail(50000) and "internal_error" not in d.log_tail(50000)


# --------------------------------------------------------------------------------------------
# No file descriptor left


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_file_descriptors(env, daemon_factory, admin):
    d = daemon_factory(uniq("nofile"), {"server": {"workers": 1, "io_timeout_s": 60}})
    pid = d.proc.pid
    n = len(os.listdir("/proc/%d/fd" % pid))
    limit = n + 6
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, limit))
    held = []
    try:
        for _ in range(40):
            s = socket.create_connection((d.host, d.port), timeout=5)
            held.append(s)
        time.sleep(0.5)     # accepted until none is left
        size0, cpu0 = os.path.getsize(d.log_path), cpu_seconds(pid)
        time.sleep(3)
        grown, cpu = os.path.getsize(d.log_path) - size0, cpu_seconds(pid) - cpu0
        assert grown < 16384, "the log grew by %d bytes in 3 s: %s" % (
            grown, d.log_tail(600))
        assert cpu < 0.6, "%.2f s of CPU in 3 s with no descriptor left" % cpu
        assert "Too many open files" in d.log_tail(20000)
        # the newcomers beyond the limit were refused, not left hanging
        refused = 0
        for s in held:
            s.settimeout(0.01)
            try:
                if s.recv(1) == b"":
                    refused += 1
            except ConnectionResetError:
                refused += 1
            except (socket.timeout, BlockingIOError):
                pass
        assert refused >= 20, refused
    finally:
        for s in held:
            s.close()
    # descriptors free again: served
    wait_for(lambda: health(d)[0] == 200, 10, "/healthz once descriptors are free")
    m = scrape(d, admin)[1]
    assert metric_value(m, "fundd_accept_paused_total") >= 1
