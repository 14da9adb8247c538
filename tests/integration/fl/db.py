"""SQL on the test cluster: psql as any role on any database (returning the outcome, so a
test can assert that the database refused something), string literals, a table lock held in
a psql session to keep requests in flight, calls queued behind such a lock, and a trigger
that makes one insert fail."""

import configparser
import contextlib
import glob
import os
import re
import shutil
import subprocess
import time

from fl.client import start_calls
from fl.env import DEVENV, ROOT, uniq


def sql_lit(s):
    return "'" + s.replace("'", "''") + "'"


def dsn_of(conf, key="dsn"):
    cp = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"))
    cp.read(conf)
    return dict(kv.split("=", 1) for kv in cp.get("database", key).split())


def database_overrides(env, dbname):
    """Config overrides pointing a daemon (and its migrate) at database `dbname` of the
    suite's cluster."""
    d = dsn_of(env.conf)
    m = dsn_of(env.conf, "migrate_dsn")
    return {"database": {
        "dsn": "host=%s port=%s dbname=%s user=%s" % (d["host"], d["port"], dbname, d["user"]),
        "migrate_dsn": "host=%s port=%s dbname=%s user=%s" % (m["host"], m["port"], dbname,
                                                             m["user"])}}


class Books:
    """The books of a database of their own (own_books)."""


def own_books(env, daemon_factory, name):
    """A fresh database of the suite's cluster, migrated, with an admin (.admin, a token) and
    a daemon of the module on it (.daemon) that signs an audit checkpoint every second: for
    tests that close periods, which would refuse the other tests' value dates. .db, .conf,
    .env as well."""
    b = Books()
    b.db = "%s_%s" % (name, uniq("d").replace("-", "_").lower())
    env.sql("CREATE DATABASE %s OWNER fund_owner" % b.db)
    ov = database_overrides(env, b.db)
    ov["audit"] = {"checkpoint_interval_s": 1}
    b.conf = env.write_conf(os.path.join(env.dir, "fundd-%s.conf" % b.db), ov)
    p = env.fundd("migrate", conf=b.conf, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    b.admin = env.principal_add(uniq(name + "-admin"), ["admin"], conf=b.conf)
    b.daemon = daemon_factory(name, ov)
    b.env = env
    return b


def psql_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"),
                   key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
    return found[-1] if found else shutil.which("psql")


def psql(env, script, user="fund_owner", db="fund", timeout=60):
    """Runs a psql script (ON_ERROR_STOP, tuples only, unaligned) as `user` (by default the
    schema owner) on database `db` of the test cluster, through the socket of the base
    config; returns the CompletedProcess without raising, so a test can assert that the
    database refused it."""
    d = dsn_of(env.conf)
    cmd = [psql_bin(), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", d["host"],
           "-p", d["port"], "-U", user, "-d", db]
    return subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT)


def psql_ok(env, script, **kw):
    """psql() that must succeed; returns its output."""
    p = psql(env, script, **kw)
    assert p.returncode == 0, "psql failed (rc %d): %s\n%s" % (p.returncode, p.stderr, script)
    return p.stdout


def refused(env, body, role=None):
    """Runs body (as the schema owner, or SET ROLE role) in a transaction that is rolled back
    if the database accepts it; returns psql's stderr, failing the test if it was accepted or
    if the test's own SQL is wrong."""
    script = "BEGIN;\n%s%s\nSELECT 'ACCEPTED';\nROLLBACK;\n" % (
        "SET ROLE %s;\n" % role if role else "", body)
    p = psql(env, script)
    assert "ACCEPTED" not in p.stdout and p.returncode != 0, \
        "the database accepted %r (as %s)" % (body, role or "the schema owner")
    assert "ERROR" in p.stderr, p.stderr
    for bad in ("syntax error", "does not exist"):
        assert bad not in p.stderr, "the test's SQL is wrong: %s" % p.stderr
    return p.stderr


# --------------------------------------------------------------------------------------------
# Holding a PostgreSQL lock to keep a request in flight


class TableLock:
    """Holds LOCK TABLE ... IN ACCESS EXCLUSIVE MODE in a psql session (as the schema owner)
    until release(). Requests that touch the table block in the database meanwhile."""

    def __init__(self, env, table="fl.principal"):
        self.env = env
        self.table = table
        schema, _, name = table.partition(".")
        self.schema, self.name = schema, name
        if table == "fl.fund":
            # Worker 0 folds pending balance deltas into fund rows every second, and brings
            # kept allocations up to date every few seconds (at once when it starts). A fold
            # or a catch-up that found work would wait on this lock too (the allocation's
            # rows refer to their fund), holding one of the daemon's connections that the
            # test expects to be free: do both first.
            env.sql("SELECT fl.fold_all(), fl.alloc_catch_up_all()")
        self.proc = subprocess.Popen([DEVENV, "psql", env.dir, "-At"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.proc.stdin.write("BEGIN;\nLOCK TABLE %s IN ACCESS EXCLUSIVE MODE;\n" % table)
        self.proc.stdin.flush()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("psql holding the lock exited: %s" % self.proc.stderr.read())
            if self.granted():
                return
            time.sleep(0.1)
        self.release()
        raise AssertionError("could not take the lock on %s" % table)

    def granted(self):
        out = self.env.sql(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '%s' "
            "AND c.relname = '%s' AND l.mode = 'AccessExclusiveLock' AND l.granted"
            % (self.schema, self.name))
        return out.strip() not in ("", "0")

    def waiters(self, user="fund", calls_only=False):
        """Backends of the daemon's login waiting on a lock; with calls_only, only those
        running a call (not, say, worker 0's fold of balance deltas)."""
        out = self.env.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = '%s' "
                           "AND wait_event_type = 'Lock'%s" % (
                               user, " AND query LIKE 'SELECT api.call(%'" if calls_only
                               else ""))
        return int(out.strip() or "0")

    def wait_for_waiters(self, n=1, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.waiters() >= n:
                return True
            time.sleep(0.1)
        return False

    def release(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("COMMIT;\n")
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.release()


def run_queued(env, daemon, table, blockers, queued):
    """Two blocker calls hold both connections on a lock of table; the queued calls wait
    behind them in the daemon; then the lock goes. Returns the answers, blockers first.
    (Calls as start_calls() takes them.)"""
    with TableLock(env, table) as lock:
        first = start_calls(daemon, blockers)
        assert lock.wait_for_waiters(2), "the blocker calls never reached the lock"
        rest = start_calls(daemon, queued)
        # /metrics cannot tell how many wait (its token check queues behind them too):
        # give the threads time to connect and send, and count the batches afterwards
        time.sleep(1.5)
    return [t.get(60) for t in first + rest]


@contextlib.contextmanager
def raising_trigger(env, table, column, value):
    """While open: a BEFORE INSERT trigger on table that raises for the row whose column
    is value, with SQLSTATE P0001, which no method answers."""
    name = "test_raise_" + uniq("t").replace("-", "_")
    r = psql(env, """
        CREATE FUNCTION fl.%(n)s() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.%(c)s = %(v)s THEN
                RAISE EXCEPTION 'boom';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER %(n)s BEFORE INSERT ON %(t)s FOR EACH ROW
            EXECUTE FUNCTION fl.%(n)s();""" % {"n": name, "c": column, "v": sql_lit(value),
                                                 "t": table})
    assert r.returncode == 0, r.stderr
    try:
        yield
    finally:
        psql(env, "DROP TRIGGER %s ON %s; DROP FUNCTION fl.%s();" % (name, table, name))
