"""fundd under a service manager (docs/operations.md, "Install and run as a service"),
without one: the test binds the datagram socket that NOTIFY_SOCKET names, as systemd would,
and reads what fundd tells it.

- READY=1 comes once fundd serves: a connection made the moment it arrives is answered;
- SIGHUP: RELOADING=1 (with MONOTONIC_USEC), then READY=1, also when the new file is bad;
- SIGTERM: STOPPING=1, then exit 0;
- WATCHDOG_USEC: WATCHDOG=1 every half interval while every worker's loop turns, none
  while one worker is held still, and again once it runs;
- a daemon that refuses the database exits 3 (the schema is not its own: pending
  migrations), says why in STATUS= and never READY=1; one that cannot reach the database
  exits 1, the status the unit restarts on.
"""

import os
import re
import shutil
import signal
import time

import pytest

from fl.client import http_get
from fl.db import database_overrides
from fl.env import ROOT, free_port, uniq
from fl.service import NotifySocket, ServiceDaemon, fields, hold_thread

MIGRATIONS = os.path.join(ROOT, "migrations")


@pytest.fixture
def notify():
    s = NotifySocket()
    yield s
    s.close()


@pytest.fixture
def service(env):
    """service(name, notify, overrides=None, environ=None) -> a ServiceDaemon on the
    suite's database, launched (not waited for); each is stopped at the end."""
    started = []

    def make(name, notify, overrides=None, environ=None):
        port = free_port()
        ov = {"server": {"listen": "127.0.0.1:%d" % port}}
        for section, kv in (overrides or {}).items():
            ov.setdefault(section, {}).update(kv)
        conf = env.write_conf(os.path.join(env.dir, "fundd-%s.conf" % name), ov)
        d = ServiceDaemon(env, name, conf, port, notify=notify, environ=environ)
        started.append(d)
        return d.launch()

    yield make
    for d in started:
        d.stop()


def _is(name):
    return lambda msg: name in fields(msg)


def _serving_status(d, workers):
    return "serving on https://127.0.0.1:%d (%d workers)" % (d.port, workers)


def test_ready_once_serving_reloading_and_stopping(env, notify, service):
    d = service(uniq("notify"), notify, {"server": {"workers": 2}})
    msg, before = notify.wait_for(_is("READY"), 30)
    # the listener accepts and a worker answers the moment READY=1 arrives (the pool may
    # still be connecting: /healthz says 503 until it has)
    st, _, _ = http_get(d, "/healthz", timeout=5)
    assert st in (200, 503), st
    f = fields(msg)
    assert f["READY"] == "1" and f["STATUS"] == _serving_status(d, 2), msg
    assert not [m for m in before if "READY" in fields(m)], before
    d.wait_ready(30)

    # SIGHUP: reloading (when, on CLOCK_MONOTONIC as Python's time.monotonic), then serving
    before_us = int(time.monotonic() * 1e6)
    d.signal(signal.SIGHUP)
    msg, before = notify.wait_for(_is("RELOADING"), 10)
    after_us = int(time.monotonic() * 1e6)
    f = fields(msg)
    assert before_us <= int(f["MONOTONIC_USEC"]) <= after_us, (before_us, f, after_us)
    assert f["STATUS"] == "reloading the configuration", msg
    msg, before = notify.wait_for(_is("READY"), 10)
    assert fields(msg)["STATUS"] == _serving_status(d, 2), msg
    assert not before, before

    # a file that no longer loads: reloading, kept what runs, serving again
    with open(d.conf) as f:
        good = f.read()
    with open(d.conf, "a") as f:
        f.write("\n[server]\nno_such_key = 1\n")
    try:
        d.signal(signal.SIGHUP)
        notify.wait_for(_is("RELOADING"), 10)
        notify.wait_for(_is("READY"), 10)
    finally:
        with open(d.conf, "w") as f:
            f.write(good)
    assert d.alive()
    assert "SIGHUP: keeping the running configuration" in d.log_tail(20000)
    assert http_get(d, "/healthz")[0] == 200

    # SIGTERM: stopping, then drained and exit 0
    d.signal(signal.SIGTERM)
    msg, _ = notify.wait_for(_is("STOPPING"), 10)
    assert fields(msg)["STATUS"] == "draining in-flight requests", msg
    assert d.proc.wait(30) == 0, d.log_tail()
    # nothing after STOPPING=1 says it serves again
    assert not [m for m in notify.during(0.2) if "READY" in fields(m)]


def test_no_watchdog_pings_unless_asked(env, notify, service):
    d = service(uniq("notify-nowd"), notify)
    notify.wait_for(_is("READY"), 30)
    got = notify.during(1.5)
    assert not [m for m in got if "WATCHDOG" in fields(m)], got
    assert d.stop() == 0


def test_watchdog_pings_while_every_worker_turns(env, notify, service):
    """WATCHDOG_USEC=1 s: a ping every half second. One worker held still (as a worker stuck
    in a loop would be) stops them, so that systemd would kill and restart the daemon;
    they come back once it runs again."""
    d = service(uniq("notify-wd"), notify, {"server": {"workers": 2}},
                {"WATCHDOG_USEC": "1000000"})
    notify.wait_for(_is("READY"), 30)
    d.wait_ready(30)
    got = notify.during(2.0)
    pings = [m for m in got if m == "WATCHDOG=1"]
    assert 3 <= len(pings) <= 5, got

    workers = d.threads()
    assert len(workers) == 2, workers
    with hold_thread(workers[1]):
        # the round under way may still count the worker's last turn: one ping at most
        late = [m for m in notify.during(1.2) if m == "WATCHDOG=1"]
        assert len(late) <= 1, late
        held = notify.during(2.0)
        assert not [m for m in held if m == "WATCHDOG=1"], held
        assert d.alive()
        assert re.search(r"worker \d did not turn its event loop since the last watchdog "
                         r"round; no watchdog ping", d.log_tail(20000)), d.log_tail()
    back = [m for m in notify.during(2.0) if m == "WATCHDOG=1"]
    assert len(back) >= 2, back
    assert http_get(d, "/healthz")[0] == 200
    assert d.stop() == 0, d.log_tail()


def test_a_watchdog_meant_for_another_process_is_ignored(env, notify, service):
    """WATCHDOG_PID names the process the interval is for (a parent's, inherited)."""
    d = service(uniq("notify-wdpid"), notify, None,
                {"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())})
    notify.wait_for(_is("READY"), 30)
    got = notify.during(1.5)
    assert not [m for m in got if m == "WATCHDOG=1"], got
    assert d.stop() == 0


@pytest.fixture
def behind(env):
    """A database of the suite's cluster migrated with the tree, and a migrations folder
    with one versioned file more, as a newer release installs it before anyone has run
    migrate. Yields the config overrides that serve that database from that folder, and the
    new file's name."""
    db = "behind_%s" % uniq("d").replace("-", "_").lower()
    env.sql("CREATE DATABASE %s OWNER fund_owner" % db)
    ov = database_overrides(env, db)
    conf = env.write_conf(os.path.join(env.dir, "fundd-%s.conf" % db), ov)
    p = env.fundd("migrate", conf=conf, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    newer = os.path.join(env.dir, "migrations-" + db)
    shutil.copytree(MIGRATIONS, newer)
    with open(os.path.join(newer, "0999_probe.sql"), "w") as f:
        f.write("CREATE TABLE fl.probe (x int);\n")
    ov["database"]["migrations"] = newer
    yield ov, "0999_probe.sql"
    env.sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % db)
    shutil.rmtree(newer, ignore_errors=True)


def test_pending_migrations_exit_3_and_never_ready(env, notify, service, behind):
    ov, last = behind
    d = service(uniq("notify-behind"), notify, ov)
    d.proc.wait(60)
    out = d.log_tail()
    assert d.proc.returncode == 3, (d.proc.returncode, out)
    assert "refusing to serve: the database schema is behind: 1 migrations pending " \
        "(first %s)" % last in out, out
    got = notify.during(0.2)
    assert [fields(m) for m in got] == [{
        "STATUS": "refusing to serve: the database schema is behind: 1 migrations pending "
                  "(first %s); run 'fundd -c FILE migrate'" % last}], got


def test_an_unreachable_database_exits_1(env, notify, service, tmp_path):
    """The one start-up failure worth a restart (Restart=on-failure)."""
    d = service(uniq("notify-nodb"), notify, {"database": {
        "dsn": "host=%s port=5433 dbname=fund user=fund connect_timeout=2" % tmp_path}})
    d.proc.wait(60)
    assert d.proc.returncode == 1, (d.proc.returncode, d.log_tail())
    assert not [m for m in notify.during(0.2) if "READY" in fields(m)]
