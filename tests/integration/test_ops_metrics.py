"""What operators watch (docs/operations.md, "What to watch"): /metrics answers the token of
[server] metrics_token_sha256 without the database, also while PostgreSQL is down; it has
the audit chain's head and lag, the last checkpoint's age, chain and checkpoint failures,
the credentials listener, throttled addresses; config/prometheus/fundd-alerts.yml names
only figures fundd has."""

import os
import re
import subprocess
import time

import yaml

from fl.client import (WHOAMI, Client, http_get, metric_value, parse_metrics, post_rpc,
                       wait_pool_up)
from fl.env import FUNDD, ROOT, fake_token, remember_token, uniq


def metrics_token():
    """`fundd metrics-token`: (token, hash)."""
    p = subprocess.run([FUNDD, "metrics-token"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    tok = remember_token(lines[0].strip())
    m = re.search(r"^metrics_token_sha256 = ([0-9a-f]{64})$", p.stdout, re.M)
    assert tok.startswith("fl_") and m, p.stdout
    return tok, m.group(1)


def get_metrics(d, token, status=200):
    st, _, body = http_get(d, "/metrics", token=token, timeout=10)
    assert st == status, (st, body[:300])
    return body.decode("utf-8")


def sampled(d, token, timeout=20, want="fundd_audit_checkpoint_seq"):
    """The scrape once worker 0 has sampled the database (fundd_ops_sample_age_seconds) and
    found a signed checkpoint."""
    deadline = time.monotonic() + timeout
    while True:
        text = get_metrics(d, token)
        if "fundd_ops_sample_age_seconds" in text and want in text:
            return text, parse_metrics(text)
        assert time.monotonic() < deadline, "no database sample in /metrics:\n" + text[-2000:]
        time.sleep(0.2)


def test_metrics_answer_while_the_database_is_down(env, daemon_factory, daemon, admin):
    tok, h = metrics_token()
    d = daemon_factory(uniq("ops"), {"server": {"metrics_token_sha256": h,
                                                "auth_fail_limit": 2}})
    api = Client.api(d, admin)
    api.ok("system.whoami")
    text, m = sampled(d, tok)
    # the figures, against the database's own
    v = api.ok("audit.verify")
    assert 0 < metric_value(m, "fundd_audit_chain_head_seq") <= v["head_seq"], (m, v)
    assert metric_value(m, "fundd_audit_chain_lag_events") >= 0
    assert metric_value(m, "fundd_audit_checkpoint_seq") > 0
    assert 0 <= metric_value(m, "fundd_audit_checkpoint_age_seconds") < 120
    assert metric_value(m, "fundd_audit_chain_failures_total") == 0
    assert metric_value(m, "fundd_audit_checkpoint_failures_total") == 0
    assert metric_value(m, "fundd_auth_cache_live") in (0, 1)
    assert 0 <= metric_value(m, "fundd_ops_sample_age_seconds") < 10
    # an admin's token still reads it through the database; a wrong token does not
    assert "fundd_throttled" in get_metrics(d, admin)
    get_metrics(d, fake_token(), status=401)

    # failed logins from this address: throttled pairs show
    bad = fake_token()
    for _ in range(4):
        post_rpc(d, bad, WHOAMI)
    _, m = sampled(d, tok)
    assert metric_value(m, "fundd_throttled") >= 1, m

    # the database down: the monitoring token still reads /metrics, the figures age, a
    # checkpoint's age grows, the pool shows down; a principal's token cannot be checked
    age0 = metric_value(m, "fundd_audit_checkpoint_age_seconds")
    env.pg_stop()
    try:
        deadline = time.monotonic() + 20
        while True:
            m = parse_metrics(get_metrics(d, tok))
            if metric_value(m, "fundd_db_pool_up") == 0:
                break
            assert time.monotonic() < deadline, "the pool never showed down"
            time.sleep(0.2)
        time.sleep(6)
        m = parse_metrics(get_metrics(d, tok))
        assert metric_value(m, "fundd_ops_sample_age_seconds") > 5, m
        assert metric_value(m, "fundd_audit_checkpoint_age_seconds") > age0 + 5, m
        st, _, _ = http_get(d, "/metrics", token=admin, timeout=10)
        assert st in (401, 503), st
    finally:
        env.pg_start()
        wait_pool_up(daemon, admin)     # (the suite's own daemon, for the tests after)
    deadline = time.monotonic() + 30
    while True:
        m = parse_metrics(get_metrics(d, tok))
        if metric_value(m, "fundd_db_pool_up") > 0 and \
                metric_value(m, "fundd_ops_sample_age_seconds") < 6:
            break
        assert time.monotonic() < deadline, "the figures never came back: up %r, age %r" % (
            metric_value(m, "fundd_db_pool_up"),
            metric_value(m, "fundd_ops_sample_age_seconds"))
        time.sleep(0.3)


def test_a_malformed_metrics_token_hash_is_refused(env):
    conf = env.write_conf(os.path.join(env.dir, "fundd-%s.conf" % uniq("badmt")),
                          {"server": {"metrics_token_sha256": "abc"}})
    p = env.fundd("check", conf=conf)
    assert p.returncode != 0 and "metrics_token_sha256" in p.stderr, (p.returncode, p.stderr)


def test_the_alert_rules_name_only_figures_fundd_has(daemon, admin):
    with open(os.path.join(ROOT, "config", "prometheus", "fundd-alerts.yml")) as f:
        doc = yaml.safe_load(f)
    rules = [r for g in doc["groups"] for r in g["rules"]]
    assert len(rules) >= 8
    text = get_metrics(daemon, admin)
    have = set(re.findall(r"^# TYPE (fundd_[a-z_]+) ", text, re.M))
    # figures that need a sample of the database or a first value to appear, and those of
    # a read replica, which this daemon has not (test_replica.py reads them)
    have |= {"fundd_replica_up", "fundd_replica_fallbacks_total"}
    for r in rules:
        assert {"alert", "expr", "labels", "annotations"} <= set(r), r
        for name in re.findall(r"\b(fundd_[a-z_]+)", r["expr"]):
            assert name in have or name in ("fundd_audit_chain_lag_events",
                                            "fundd_ops_sample_age_seconds",
                                            "fundd_audit_checkpoint_age_seconds"), \
                (r["alert"], name)
    for name in ("fundd_audit_chain_lag_events", "fundd_ops_sample_age_seconds",
                 "fundd_audit_checkpoint_age_seconds"):
        deadline = time.monotonic() + 15
        while name not in get_metrics(daemon, admin):
            assert time.monotonic() < deadline, name
            time.sleep(0.3)
