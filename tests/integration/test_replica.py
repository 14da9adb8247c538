"""Reads on a streaming standby ([database] replica_dsn; docs/operations.md, "Read replicas").

The module makes a physical standby of the suite's cluster (config/devenv.sh replica-up:
pg_basebackup -R, its own socket directory) and daemons whose replica_dsn is that standby.
What tells the two servers apart is replay, paused on the standby with
pg_wal_replay_pause(): a write made on the primary meanwhile is there and not on the
standby, so a read that does not see it was answered by the standby, and one that does by
the primary. The standby is removed at the end.

- Reads are answered by the standby (fundd_replica_reads_total), and see what it has
  replayed; a read with consistent: true, a read by credentials that have just made a
  mutation (on the same connection or another), and a read after a principal changed go to
  the primary and see the latest commits.
- A standby further behind than replica_max_lag_ms is not read: the reads go to the primary
  and /metrics says why, until replay catches up.
- The personal data read on the standby leaves its access events on the primary, committed
  before the answer (the standby, paused, does not have them).
- The ledger export reads the standby, and the primary with consistent=true.
- With the standby stopped, reads are answered by the primary, fundd_replica_up is 0; when
  it is back, reads go to it again.
"""

import json
import os
import re
import time

import pytest
import yaml

from fl.client import Client, create_principal, metric_value, scrape
from fl.env import ROOT, fake_token, uniq
from fl.grants import new_returnee
from fl.ledger import new_fund, new_partner

MAX_LAG_MS = 400


@pytest.fixture(scope="module")
def standby(env):
    out = env.devenv("replica-up", env.dir, timeout=300).stdout.strip().splitlines()
    assert out, "devenv.sh replica-up printed no socket directory"
    yield out[-1]
    resume(env)
    env.devenv("replica-down", env.dir, timeout=120)


def rsql(env, query):
    """SQL on the standby as the schema owner (a superuser: it may pause replay)."""
    return env.devenv("replica-psql", env.dir, "-At", "-c", query).stdout.strip()


def pause(env):
    rsql(env, "SELECT pg_wal_replay_pause()")
    deadline = time.monotonic() + 20
    while rsql(env, "SELECT pg_get_wal_replay_pause_state()") != "paused":
        assert time.monotonic() < deadline, "replay did not pause"
        time.sleep(0.05)


def resume(env):
    if env.devenv("replica-psql", env.dir, "-At", "-c", "SELECT pg_wal_replay_resume()",
                  check=False).returncode != 0:
        pass  # stopped or gone: nothing to resume


def _daemon(module_daemon_factory, standby, name, max_lag_ms):
    dsn = "host=%s port=5433 dbname=fund user=fund" % standby
    return module_daemon_factory(name, {"database": {"replica_dsn": dsn,
                                                     "replica_max_lag_ms": max_lag_ms},
                                        "server": {"auth_fail_limit": 0}})


@pytest.fixture(scope="module")
def rd(module_daemon_factory, standby):
    """A daemon that may read the standby for a minute of lag: what it answers from there
    while replay is paused is stale on purpose."""
    return _daemon(module_daemon_factory, standby, "replica", 60000)


@pytest.fixture(scope="module")
def rd_short(module_daemon_factory, standby):
    """A daemon that reads the standby only while it is at most MAX_LAG_MS behind."""
    return _daemon(module_daemon_factory, standby, "replica-lag", MAX_LAG_MS)


@pytest.fixture(scope="module")
def reader(env):
    """A second admin, made with fundd principal add: the one whose reads go to the
    standby (the bootstrap admin writes)."""
    return env.principal_add(uniq("reader"), ["admin"])


def figures(d, admin):
    m = scrape(d, admin)[1]
    return {
        "up": metric_value(m, "fundd_replica_up"),
        "lag": metric_value(m, "fundd_replica_lag_seconds"),
        "reads": metric_value(m, "fundd_replica_reads_total"),
        "lag_fallbacks": metric_value(m, "fundd_replica_fallbacks_total", reason="lag"),
        "down_fallbacks": metric_value(m, "fundd_replica_fallbacks_total", reason="down"),
        "consistent": metric_value(m, "fundd_replica_primary_reads_total",
                                   reason="consistent"),
        "own_write": metric_value(m, "fundd_replica_primary_reads_total",
                                  reason="own_write"),
        "principal_change": metric_value(m, "fundd_replica_primary_reads_total",
                                         reason="principal_change"),
    }


def moved(before, after):
    return {k: after[k] - before[k] for k in before if k not in ("up", "lag")}


def read_on_standby(d, admin, c, method, params, timeout=20):
    """Calls method until the standby answers it (the standby catches up with the
    principals and writes of the test before it); returns its answer (a response object)."""
    deadline = time.monotonic() + timeout
    while True:
        f0 = figures(d, admin)
        doc = c.reply(method, params)
        f1 = figures(d, admin)
        if f1["reads"] == f0["reads"] + 1:
            return doc
        assert time.monotonic() < deadline, "the standby answers no read: %r\n%s" % (
            f1, d.log_tail())
        time.sleep(0.1)


def wait_figure(d, admin, pred, what, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        f = figures(d, admin)
        if pred(f):
            return f
        assert time.monotonic() < deadline, "%s: never %r\n%s" % (what, f, d.log_tail())
        time.sleep(0.1)


def wait_log(d, text, times=1, timeout=10):
    """Worker 0 logs a change of the standby's state at the end of its next round."""
    deadline = time.monotonic() + timeout
    while d.log_tail(100000).count(text) < times:
        assert time.monotonic() < deadline, "not in the log: %r\n%s" % (text, d.log_tail())
        time.sleep(0.05)


def test_reads_go_to_the_standby_unless_they_must_see_the_latest(env, rd, admin, reader):
    with Client(rd, admin) as w, Client(rd, reader) as r:
        doc = read_on_standby(rd, admin, r, "fund.list", None)
        assert "result" in doc, doc
        pause(env)
        try:
            p = w.call("partner.create", {"name": uniq("p"), "country": "FR",
                                          "kind": "individual"})
            pid = {"partner_id": p["partner_id"]}
            # the standby does not have it: the reader's read is answered there
            f0 = figures(rd, admin)
            r.err("partner.get", pid, -32004, reason="partner_not_found")
            f1 = figures(rd, admin)
            assert moved(f0, f1)["reads"] == 1, (f0, f1)
            # consistent: true reads the primary
            assert r.call("partner.get", dict(pid, consistent=True))["partner_id"] == \
                pid["partner_id"]
            # the writer's own reads, on its connection and on a new one, see its write
            assert w.call("partner.get", pid)["partner_id"] == pid["partner_id"]
            with Client(rd, admin) as w2:
                assert w2.call("partner.get", pid)["partner_id"] == pid["partner_id"]
            f2 = figures(rd, admin)
            assert moved(f1, f2) == dict(moved(f1, f1), consistent=1, own_write=2), (f1, f2)
            # so do the reader's once it has written something itself
            r.call("partner.create", {"name": uniq("q"), "country": "AM",
                                      "kind": "organisation"})
            assert r.call("partner.get", pid)["partner_id"] == pid["partner_id"]
            # credentials that fail are refused as on the primary, their refusal audited
            # there (the standby cannot write it)
            bad = fake_token()
            n0 = int(env.sql("SELECT count(*) FROM fl.audit_event WHERE method = "
                             "'fund.list' AND reason = 'bad_credentials'"))
            with Client(rd, bad) as b:
                resp, body = b.rpc("fund.list")
            assert resp.status == 401 and body["error"]["code"] == -32001, body
            assert int(env.sql("SELECT count(*) FROM fl.audit_event WHERE method = "
                               "'fund.list' AND reason = 'bad_credentials'")) == n0 + 1
            f3 = figures(rd, admin)
            assert f3["own_write"] == f2["own_write"] + 1 and f3["up"] == 1, (f2, f3)
        finally:
            resume(env)
        # replayed: the reader's read on the standby finds it
        with Client(rd, reader) as r2:
            deadline = time.monotonic() + 20
            while "error" in read_on_standby(rd, admin, r2, "partner.get", pid):
                assert time.monotonic() < deadline, "the standby never replayed the write"
                time.sleep(0.1)


def test_the_figures_the_alert_rules_name(rd, admin):
    """config/prometheus/fundd-alerts.yml's replica rules name figures a daemon with a
    replica has (test_ops_metrics.py checks the others on a daemon without one)."""
    with open(os.path.join(ROOT, "config", "prometheus", "fundd-alerts.yml")) as f:
        rules = [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
    names = {n for r in rules for n in re.findall(r"\b(fundd_replica_[a-z_]+)", r["expr"])}
    assert names, "no alert rule about the replica"
    text = scrape(rd, admin)[0]
    assert names <= set(re.findall(r"^# TYPE (fundd_[a-z_]+) ", text, re.M)), names


def test_consistent_is_a_param_of_every_read(rd, admin):
    with Client(rd, admin) as c:
        c.err("fund.list", {"consistent": "yes"}, -32602, field="consistent",
              reason="not_a_boolean")
        c.err("partner.create", {"name": "n", "country": "FR", "kind": "individual",
                                 "consistent": True}, -32602, field="consistent",
              reason="not_a_read_method")
        assert c.call("system.version", {"consistent": False})
        assert c.call("system.whoami", {"consistent": True})["name"] == "admin"
        doc = c.call("rpc.discover")
        m = {x["name"]: x for x in doc["methods"]}
        assert "consistent" in [p["name"] for p in m["fund.balance"]["params"]]
        assert "consistent" not in [p["name"] for p in m["fund.create"]["params"]]


def test_a_revoked_token_is_refused_also_while_the_standby_lags(env, rd, rd_short, admin):
    """A revocation through the daemon is seen by its next read, and one through another
    daemon once PostgreSQL's notification of it arrives: the standby, paused, would still
    take the tokens."""
    here = create_principal(rd, admin, ["auditor"], name=uniq("revoked-here"))
    there = create_principal(rd, admin, ["auditor"], name=uniq("revoked-there"))
    with Client(rd, here["token"]) as h, Client(rd, there["token"]) as t:
        read_on_standby(rd, admin, h, "fund.list", None)
        read_on_standby(rd, admin, t, "fund.list", None)
        pause(env)
        try:
            with Client(rd, admin) as w:
                w.call("principal.revoke", {"principal_id": here["principal_id"]})
            f0 = figures(rd, admin)
            resp, body = h.rpc("fund.list")
            assert resp.status == 401 and body["error"]["code"] == -32001, body
            assert moved(f0, figures(rd, admin))["principal_change"] == 1
            with Client(rd_short, admin) as w:
                w.call("principal.revoke", {"principal_id": there["principal_id"]})
            deadline = time.monotonic() + 5
            while t.rpc("fund.list")[0].status != 401:
                assert time.monotonic() < deadline, "a token revoked through another " \
                    "daemon is still taken"
                time.sleep(0.02)
        finally:
            resume(env)


def test_a_standby_further_behind_than_replica_max_lag_ms_is_not_read(env, rd, rd_short,
                                                                      admin, reader):
    with Client(rd, admin) as w, Client(rd_short, reader) as r:
        read_on_standby(rd_short, admin, r, "fund.list", None)
        pause(env)
        try:
            p = w.call("partner.create", {"name": uniq("p"), "country": "FR",
                                          "kind": "individual"})
            pid = {"partner_id": p["partner_id"]}
            f0 = wait_figure(rd_short, admin, lambda f: f["lag"] > MAX_LAG_MS / 1000,
                             "fundd_replica_lag_seconds above replica_max_lag_ms")
            # the reader has written nothing through this daemon: the primary answers it
            # because the standby lags
            assert r.call("partner.get", pid)["partner_id"] == pid["partner_id"]
            f1 = figures(rd_short, admin)
            assert moved(f0, f1)["lag_fallbacks"] == 1 and moved(f0, f1)["reads"] == 0, \
                (f0, f1)
            assert f1["up"] == 1
            wait_log(rd_short, "more than replica_max_lag_ms")
        finally:
            resume(env)
        wait_figure(rd_short, admin, lambda f: f["lag"] < MAX_LAG_MS / 1000,
                    "the lag back under replica_max_lag_ms")
        assert read_on_standby(rd_short, admin, r, "partner.get", pid)["result"][
            "partner_id"] == pid["partner_id"]
        # (once at start, once now)
        wait_log(rd_short, "reads go to the standby (", times=2)


def test_personal_data_read_on_the_standby_leaves_its_access_events_on_the_primary(
        env, rd, admin, reader):
    with Client.api(rd, admin) as w, Client(rd, reader) as r:
        x = new_returnee(w)
        rid = x["returnee_id"]
        deadline = time.monotonic() + 20
        while rsql(env, "SELECT count(*) FROM fl.returnee WHERE returnee_id = '%s'"
                   % rid) != "1":
            assert time.monotonic() < deadline, "the standby never had the returnee"
            time.sleep(0.1)
        read_on_standby(rd, admin, r, "fund.list", None)
        reader_pid = r.call("system.whoami")["principal_id"]
        pause(env)
        try:
            q = ("SELECT count(*) FROM fl.audit_event WHERE method = 'returnee.get' AND "
                 "object_id = '%s' AND principal_id = '%s' AND purpose = 'payment'"
                 % (rid, reader_pid))
            f0 = figures(rd, admin)
            got = r.call("returnee.get", {"returnee_id": rid, "purpose": "payment"})
            f1 = figures(rd, admin)
            assert moved(f0, f1)["reads"] == 1, (f0, f1)
            assert got["full_name"] == x["full_name"], got
            # committed on the primary before the answer left; the standby, paused, has
            # not got it
            assert env.sql(q).strip() == "1"
            assert rsql(env, q) == "0"
        finally:
            resume(env)
        log = r.call("returnee.access_log", {"returnee_id": rid, "consistent": True})
        assert [(a["principal_id"], a["purpose"]) for a in log["accesses"]
                if a["method"] == "returnee.get"] == [(reader_pid, "payment")], log


def test_the_ledger_export_reads_the_standby(env, rd, admin, reader):
    with Client.api(rd, admin) as w, Client(rd, reader) as r:
        read_on_standby(rd, admin, r, "fund.list", None)
        pause(env)
        try:
            f = new_fund(w)
            donor = new_partner(w)
            w.ok("contribution.receive", {"partner_id": donor["partner_id"],
                                          "fund": f["code"], "amount": "10.00",
                                          "currency": "EUR"})

            def export(query):
                resp = r.request("GET", "/export/ledger?format=jsonl" + query)
                assert resp.status == 200, resp
                return [json.loads(x) for x in resp.body.decode().splitlines()]

            f0 = figures(rd, admin)
            assert not [x for x in export("") if x["fund"] == f["code"]]
            f1 = figures(rd, admin)
            assert moved(f0, f1)["reads"] == 1, (f0, f1)
            assert [x for x in export("&consistent=true") if x["fund"] == f["code"]]
            resp = r.request("GET", "/export/ledger?consistent=maybe")
            assert resp.status == 400, resp
        finally:
            resume(env)


def test_with_the_standby_stopped_reads_go_to_the_primary(env, rd, admin, reader):
    with Client(rd, reader) as r:
        read_on_standby(rd, admin, r, "fund.list", None)
        env.devenv("replica-stop", env.dir, timeout=120)
        try:
            f0 = wait_figure(rd, admin, lambda f: f["up"] == 0, "fundd_replica_up 0")
            assert "funds" in r.call("fund.list")
            resp = r.request("GET", "/export/ledger")
            assert resp.status == 200 and resp.body.startswith(b"entry_id,"), resp
            f1 = figures(rd, admin)
            assert moved(f0, f1)["down_fallbacks"] == 2 and moved(f0, f1)["reads"] == 0, \
                (f0, f1)
            wait_log(rd, "the standby does not answer")
        finally:
            env.devenv("replica-start", env.dir, timeout=120)
        wait_figure(rd, admin, lambda f: f["up"] == 1, "fundd_replica_up 1 again", timeout=30)
        read_on_standby(rd, admin, r, "fund.list", None)


def test_a_promoted_standby_is_not_read(env, rd, rd_short, admin, reader):
    """Last, as it cannot be undone: the standby is promoted (pg_promote(), as in a
    failover) and takes writes of its own, which the primary has not. fundd reads it no
    more, and its pools close their connections to it (seeking a standby, they find none)."""
    with Client(rd, reader) as r:
        read_on_standby(rd, admin, r, "fund.list", None)
        assert rsql(env, "SELECT pg_promote()") == "t"
        pid = rsql(env, "INSERT INTO fl.partner (name, country, kind) VALUES ('%s', 'FR', "
                        "'individual') RETURNING partner_id" % uniq("diverged"))
        wait_figure(rd, admin, lambda f: f["up"] == 0, "fundd_replica_up 0")
        wait_log(rd, "is not a standby (promoted?)")
        f0 = figures(rd, admin)
        for _ in range(5):
            r.err("partner.get", {"partner_id": pid}, -32004, reason="partner_not_found")
        f1 = figures(rd, admin)
        assert moved(f0, f1)["reads"] == 0 and moved(f0, f1)["down_fallbacks"] == 5, (f0, f1)
        deadline = time.monotonic() + 20
        while rsql(env, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'fund' AND "
                        "application_name = 'fundd'") != "0":
            assert time.monotonic() < deadline, "fundd's connections stay on the promoted " \
                "server"
            time.sleep(0.1)
        assert figures(rd_short, admin)["up"] == 0

