"""The credentials cache behind system.whoami (daemon/auth_cache.c, docs/auth-cache.md).

A whoami for credentials the database accepted a moment ago is answered from memory. What
must never happen is that a revoked token still works on its next request: the cache is
dropped before principal.revoke answers, when the database notifies a change made
anywhere else, and it is off whenever its listener is not listening. The daemons here keep
entries for a minute, so anything refused sooner was refused because of a flush."""

import threading
import time

from fl.env import uniq
from fl.client import (WHOAMI, Client, assert_401, assert_error, call, create_principal,
                       metric_value, post_rpc, rpc, scrape, wait_pool_up)


def conf(ms=60000, **server):
    """Entries kept a minute unless said otherwise; no slowing down of the 401s to come."""
    return {"server": dict({"auth_cache_ms": ms, "auth_fail_limit": 0}, **server)}


def cache_metrics(d, token):
    m = scrape(d, token)[1]
    return {k: int(metric_value(m, "fundd_auth_cache_" + k))
            for k in ("hits_total", "misses_total", "flushes_total", "live")}


def wait_live(d, token, want=1, timeout=15):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        m = cache_metrics(d, token)
        if m["live"] == want:
            return m
        time.sleep(0.05)
    raise AssertionError("fundd_auth_cache_live never became %d:\n%s" % (want, d.log_tail()))


def cached_principal(d, admin, roles=("auditor",)):
    """A new principal whose whoami the daemon now answers from memory."""
    p = create_principal(d, admin, list(roles))
    # creating it notified a change; let that flush pass before filling the cache
    time.sleep(0.2)
    me = call(d, p["token"], "system.whoami")
    before = cache_metrics(d, admin)
    assert call(d, p["token"], "system.whoami") == me
    assert cache_metrics(d, admin)["hits_total"] == before["hits_total"] + 1, \
        "the second whoami was not answered from the cache"
    return p, me


def test_whoami_answered_from_the_cache(daemon_factory, admin):
    d = daemon_factory(uniq("ac"), conf())
    wait_live(d, admin)
    p, me = cached_principal(d, admin, ["auditor", "approver"])
    assert me == {"principal_id": p["principal_id"], "name": p["name"],
                  "roles": ["approver", "auditor"], "partner_id": None}
    before = cache_metrics(d, admin)
    with Client(d, p["token"]) as s:
        for _ in range(20):
            assert s.call("system.whoami") == me
    after = cache_metrics(d, admin)
    assert after["hits_total"] - before["hits_total"] == 20
    assert after["misses_total"] == before["misses_total"]
    # another method of the same principal still goes to the database, with its roles
    r, doc = rpc(d, p["token"], "principal.create", {"name": "x", "roles": ["admin"]})
    assert_error(doc, -32003)


def test_revoked_here_is_refused_at_once_on_every_worker(daemon_factory, admin):
    d = daemon_factory(uniq("ac"), dict(conf(workers=2), log={"level": "debug"}))
    wait_live(d, admin)
    p, me = cached_principal(d, admin)
    sessions = [Client(d, p["token"]) for _ in range(8)]
    try:
        for s in sessions:  # eight keep-alive connections over both workers
            assert s.call("system.whoami") == me
        stop = threading.Event()
        seen = []  # (sent after the revocation had answered?, status)
        revoked_at = [None]

        def hammer(s):
            while not stop.is_set():
                sent = time.monotonic()
                r = s.post_rpc(WHOAMI)
                after = revoked_at[0] is not None and sent > revoked_at[0]
                seen.append((after, r.status))
                if after and r.status == 401:
                    return

        threads = [threading.Thread(target=hammer, args=(s,)) for s in sessions]
        for t in threads:
            t.start()
        time.sleep(0.3)
        res = call(d, admin, "principal.revoke", {"principal_id": p["principal_id"]})
        revoked_at[0] = time.monotonic()
        assert res["revoked"] is True
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(30)
        before = [st for after, st in seen if not after]
        after = [st for after, st in seen if after]
        assert before.count(200) > 50, "too few whoami calls before the revocation"
        assert after and set(after) == {401}, \
            "a whoami sent after principal.revoke answered was not refused: %r" % after
        for s in sessions:  # on every kept-alive connection
            assert_401(s.post_rpc(WHOAMI))
        # dropped by this daemon before the answer, not only by the database's notification
        # (which comes a moment after the commit, and may come after the next request)
        assert "auth cache flushed: principal.revoke" in d.log_tail(200000)
    finally:
        for s in sessions:
            s.close()


def _revoke_by_sql(env, other, admin, pid):
    env.sql("UPDATE fl.principal SET revoked_at = now() WHERE principal_id = '%s'" % pid)


def _revoke_by_other_daemon(env, other, admin, pid):
    assert call(other, admin, "principal.revoke", {"principal_id": pid})["revoked"] is True


def _refused_within(d, token, limit):
    t0 = time.monotonic()
    while True:
        r = post_rpc(d, token, WHOAMI)
        took = time.monotonic() - t0
        if r.status == 401:
            return took
        assert r.status == 200, r
        assert took < limit, "still answered %.1f s after the revocation" % took
        time.sleep(0.01)


def test_revoked_elsewhere_is_refused_at_once(env, daemon_factory, admin):
    """By another daemon on the same database, or by an operator in psql: the database
    notifies the change, and this daemon drops its cache."""
    d = daemon_factory(uniq("ac"), conf())
    other = daemon_factory(uniq("ac-other"), conf())
    wait_live(d, admin)
    for revoke in (_revoke_by_other_daemon, _revoke_by_sql):
        p, _ = cached_principal(d, admin)
        flushes = cache_metrics(d, admin)["flushes_total"]
        revoke(env, other, admin, p["principal_id"])
        took = _refused_within(d, p["token"], 2.0)
        assert took < 0.5, "%s: refused only after %.2f s" % (revoke.__name__, took)
        assert cache_metrics(d, admin)["flushes_total"] > flushes


def test_cache_is_off_while_its_listener_is_down(env, daemon_factory, admin):
    """No listener, no cache: a change it cannot hear about must not be missed. The
    listener is cut and kept from reconnecting by a connection limit on the daemon's role
    (its pool keeps the connections it has)."""
    d = daemon_factory(uniq("ac"), dict(conf(), database={"pool_size": 2}))
    wait_live(d, admin)
    p, me = cached_principal(d, admin)
    env.sql("ALTER ROLE fund CONNECTION LIMIT 0")
    try:
        env.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'fundd-listen'")
        m = wait_live(d, admin, want=0)
        time.sleep(0.5)  # a reconnection or two is refused meanwhile
        assert cache_metrics(d, admin)["live"] == 0
        with Client(d, p["token"]) as s:
            for _ in range(5):
                assert s.call("system.whoami") == me
            after = cache_metrics(d, admin)
            assert after["hits_total"] == m["hits_total"], "answered from a deaf cache"
            assert after["misses_total"] >= m["misses_total"] + 5
            env.sql("UPDATE fl.principal SET revoked_at = now() WHERE principal_id = '%s'"
                    % p["principal_id"])
            assert_401(s.post_rpc(WHOAMI))
    finally:
        env.sql("ALTER ROLE fund CONNECTION LIMIT -1")
    # back by itself (the backoff is at most 5 s), and it starts empty
    wait_live(d, admin, timeout=15)
    assert "auth cache: listener lost" in d.log_tail(20000)
    q, _ = cached_principal(d, admin)
    assert call(d, q["token"], "system.whoami")["principal_id"] == q["principal_id"]


def test_cache_entries_expire(daemon_factory, admin):
    d = daemon_factory(uniq("ac"), conf(300))
    wait_live(d, admin)
    p, me = cached_principal(d, admin)
    before = cache_metrics(d, admin)
    time.sleep(0.6)
    assert call(d, p["token"], "system.whoami") == me
    after = cache_metrics(d, admin)
    assert after["hits_total"] == before["hits_total"]
    assert after["misses_total"] == before["misses_total"] + 1


def test_cache_off(daemon_factory, admin):
    d = daemon_factory(uniq("ac"), conf(0))
    for _ in range(5):
        assert call(d, admin, "system.whoami")["name"] == "admin"
    m = cache_metrics(d, admin)
    assert m["live"] == 0 and m["hits_total"] == 0


def test_cached_whoami_gets_32050_with_the_database_down(env, daemon_factory, daemon, admin):
    """The cache knows who the caller is, but with PostgreSQL gone whoami answers like every
    other call, at once: -32050 and 503."""
    d = daemon_factory(uniq("ac"), conf())
    wait_live(d, admin)
    p, me = cached_principal(d, admin)
    env.pg_stop()
    try:
        t0 = time.monotonic()
        r = post_rpc(d, p["token"], WHOAMI, timeout=10)
        took = time.monotonic() - t0
    finally:
        env.pg_start()
    assert r.status == 503, r
    assert_error(r.json(), -32050)
    assert took < 2.0
    wait_pool_up(d, admin)
    wait_pool_up(daemon, admin)
    assert call(d, p["token"], "system.whoami") == me
    wait_live(d, admin)


def test_by_default_a_token_revoked_through_one_daemon_fails_at_once_on_another(
        daemon_factory, admin):
    """The default configuration (the cache off), two daemons on one database, the second
    under a load of whoami calls: 30 times, a principal's whoami answers on the second, it
    is revoked through the first, and the second refuses it on its very next request."""
    server = {"server": {"auth_fail_limit": 0}}
    a = daemon_factory(uniq("rv-a"), server)
    b = daemon_factory(uniq("rv-b"), server)
    stop = threading.Event()

    def load():
        c = Client.api(b, admin)
        try:
            while not stop.is_set():
                c.ok("system.whoami")
        finally:
            c.close()

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(30):
            p = create_principal(a, admin, ["auditor"])
            assert call(b, p["token"], "system.whoami")["principal_id"] == p["principal_id"]
            assert call(a, admin, "principal.revoke",
                        {"principal_id": p["principal_id"]})["revoked"] is True
            r = post_rpc(b, p["token"], WHOAMI)
            assert r.status == 401, "try %d: a revoked token answered on the other daemon" % i
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert cache_metrics(b, admin)["hits_total"] == 0
