"""Rolling upgrades (docs/migrations.md, "Rolling upgrades").

A newer release migrates the schema first; the daemons are then restarted one at a time,
and the older ones keep serving meanwhile, also across a restart of their own, when every
migration they do not have declares that the schema still serves them
(`-- fundd-compatible-from: NNNN`). A contract migration declares nothing (or its own
number), and older daemons then refuse to start, naming it.

"Old" is this tree: bin/fundd with migrations/. "New" is the same binary pointed
([database] migrations) at a copy of migrations/ with one more versioned file that only
expands (a table, a column) and declares the old schema compatible, and a changed
repeatable function that old daemons call and that stays compatible (system.version gains
a member). Each test has a database of its own."""

import os
import re
import shutil
import subprocess
import threading
import time

from fl.client import TRANSPORT_ERRORS, Client
from fl.db import database_overrides
from fl.env import FUNDD, ROOT, Daemon, edit, free_port, uniq
from fl.ledger import new_fund, new_partner

MIGRATIONS = os.path.join(ROOT, "migrations")
REFUSED_TIMEOUT = 20


def last_migration(d):
    """(number, name) of the last versioned file of migrations directory d."""
    name = sorted(n for n in os.listdir(d) if re.match(r"\d{4}_\w+\.sql$", n))[-1]
    return int(name[:4]), name


class Upgrade:
    """A database of its own, migrated with this tree (the old release), and the trees of
    newer releases made from copies of it."""

    def __init__(self, env, tmp_path):
        self.env = env
        self.tmp = str(tmp_path)
        self.db = "rolling_%s" % uniq("d").replace("-", "_").lower()
        env.sql("CREATE DATABASE %s OWNER fund_owner" % self.db)
        self.old_last, self.old_name = last_migration(MIGRATIONS)
        self.conf = self.conf_for(MIGRATIONS, "old")
        self.migrate(self.conf)

    def conf_for(self, migrations, what, listen=None):
        ov = database_overrides(self.env, self.db)
        ov["database"]["migrations"] = migrations
        # a run holds its locks until it commits, about a second here, longer on a busy
        # machine: the calls wait for it rather than give up (docs/migrations.md)
        ov["database"]["lock_timeout_ms"] = 15000
        ov["database"]["statement_timeout_ms"] = 20000
        ov["server"] = {"listen": "127.0.0.1:%d" % (listen or free_port())}
        return self.env.write_conf(os.path.join(self.env.dir, "fundd-%s-%s.conf" % (
            self.db, what)), ov)

    def migrate(self, conf):
        p = self.env.fundd("migrate", conf=conf, timeout=120)
        assert p.returncode == 0, "migrate failed: %s %s" % (p.stdout, p.stderr)
        return p.stdout

    def sql(self, query):
        return self.env.devenv("psql", self.env.dir, "-At", "-d", self.db, "-c",
                               query).stdout.strip()

    def newer(self, name, base, sql, compat=None, change_version=False):
        """A copy of migrations directory base with one more versioned file (the next
        number, `sql`, declaring `compat` when given), and, with change_version, a
        system.version that answers one member more. Returns (directory, file name)."""
        d = os.path.join(self.tmp, name)
        shutil.copytree(base, d)
        number = last_migration(d)[0] + 1
        fname = "%04d_%s.sql" % (number, name)
        with open(os.path.join(d, fname), "w") as f:
            if compat is not None:
                f.write("-- fundd-compatible-from: %04d\n" % compat)
            f.write(sql)
        if change_version:
            edit(os.path.join(d, "functions", "10_common.sql"),
                 "'version', ctx->>'version', 'protocol', 1)",
                 "'version', ctx->>'version', 'protocol', 1, 'release', %s)" %
                 "'%s'" % name)
        return d, fname

    def expanded(self):
        """The newer release that only expands, declaring this tree's schema compatible."""
        return self.newer("expand", MIGRATIONS, "CREATE TABLE fl.rolling_probe (id int "
                          "PRIMARY KEY, note text);\nALTER TABLE fl.partner ADD COLUMN "
                          "rolling_note text;\n", compat=self.old_last, change_version=True)

    def drop(self):
        self.env.sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.db)


def refused(conf):
    """The output of fundd refusing to serve conf, which must exit 3 (the schema is not one
    it serves: the systemd unit does not restart it) at start-up."""
    try:
        p = subprocess.run([FUNDD, "-c", conf], cwd=ROOT, capture_output=True, text=True,
                           timeout=REFUSED_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError("fundd served with %s" % conf)
    assert p.returncode == 3, (p.returncode, p.stdout + p.stderr)
    return p.stdout + p.stderr


def start(factory, env, name, conf):
    """A daemon of conf (whose listen address it takes), stopped by the factory at the
    end."""
    port = int(re.search(r"^listen = 127\.0\.0\.1:(\d+)$", open(conf).read(), re.M).group(1))
    d = Daemon(env, name, conf, port)
    factory.daemons.append(d)
    return d.start()


def stop(d):
    """SIGTERM: the daemon drains and exits 0."""
    rc = d.stop()
    assert rc == 0, "fundd %s exited %r on SIGTERM\n%s" % (d.name, rc, d.log_tail())


def release_of(client):
    return client.ok("system.version").get("release")


def test_an_older_daemon_serves_a_newer_compatible_schema(env, tmp_path, daemon_factory):
    """After a newer release's migrate, this fundd starts on the expanded schema, says so in
    its log, and answers through the newer functions; its own migrate refuses to run, and
    changes nothing."""
    up = Upgrade(env, tmp_path)
    try:
        new_dir, fname = up.expanded()
        out = up.migrate(up.conf_for(new_dir, "new"))
        assert "applied %s" % fname in out, out
        d = start(daemon_factory, env, "rolling-old", up.conf)
        assert "the database's schema is newer than this fundd's migrations (1 more, up to " \
            "%s) and serves fundd from %04d on: serving it" % (fname, up.old_last) \
            in d.log_tail(), d.log_tail()
        admin = env.principal_add(uniq("rolling-admin"), ["admin"], conf=up.conf)
        with Client.api(d, admin) as api:
            assert release_of(api) == "expand"
            p = new_partner(api)
            assert api.ok("partner.get", {"partner_id": p["partner_id"]})["name"] == p["name"]
        before = up.sql("SELECT string_agg(name || sha256, ',' ORDER BY name) "
                        "FROM fund_meta.repeatable")
        p = env.fundd("migrate", conf=up.conf, timeout=120)
        assert p.returncode == 1, p.stdout + p.stderr
        assert "applied migration %s is newer than this fundd's migrations: a newer fundd " \
            "migrated the database, and only a fundd that has its migrations may migrate " \
            "it" % fname in p.stderr, p.stderr
        assert up.sql("SELECT string_agg(name || sha256, ',' ORDER BY name) "
                      "FROM fund_meta.repeatable") == before
        stop(d)
    finally:
        up.drop()


def refusal(fname, number, last):
    return ("refusing to serve: applied migration %s, which a newer fundd applied, serves "
            "fundd from %04d on, and this fundd's migrations end at %s: start a fundd of "
            "the release that migrated the database" % (fname, number, last))


def test_a_contract_migration_is_refused_by_older_daemons(env, tmp_path, daemon_factory):
    """A migration without the marker, or that names its own number, serves only a fundd
    that has it: older ones (this tree, and the release that only expanded) refuse to
    start, exit 3, and name it and what to do; the release that has it serves."""
    up = Upgrade(env, tmp_path)
    try:
        new_dir, _ = up.expanded()
        up.migrate(up.conf_for(new_dir, "new"))
        contract_dir, contract = up.newer("contract", new_dir,
                                          "DROP TABLE fl.rolling_probe;\n")
        number = int(contract[:4])
        up.migrate(up.conf_for(contract_dir, "contract"))
        for conf, last in ((up.conf, up.old_name),
                           (up.conf_for(new_dir, "new"), last_migration(new_dir)[1])):
            out = refused(conf)
            assert refusal(contract, number, last) in out, out
        stop(start(daemon_factory, env, "rolling-contract", up.conf_for(contract_dir,
                                                                         "contract")))

        marked_dir, marked = up.newer("marked", contract_dir,
                                      "ALTER TABLE fl.partner DROP COLUMN rolling_note;\n",
                                      compat=number + 1)
        up.migrate(up.conf_for(marked_dir, "marked"))
        out = refused(up.conf_for(contract_dir, "contract"))
        assert refusal(marked, number + 1, contract) in out, out
        out = refused(up.conf)
        assert refusal(contract, number, up.old_name) in out, out
        stop(start(daemon_factory, env, "rolling-marked", up.conf_for(marked_dir, "marked")))
    finally:
        up.drop()


def test_an_older_daemon_needs_its_methods_in_a_newer_schema(env, tmp_path, daemon_factory):
    """On a newer schema, fl.method may hold methods this fundd does not know (a newer
    release's), but must hold each of its own, with the same roles; on its own schema,
    exactly its table."""
    up = Upgrade(env, tmp_path)
    try:
        up.sql("INSERT INTO fl.method (name, roles) VALUES ('system.rolling', '{}')")
        out = refused(up.conf)
        assert "the database's method table (fl.method) is not this fundd's (system.rolling " \
            "is not this fundd's): run 'fundd -c FILE migrate' with this fundd" in out, out
        new_dir, _ = up.expanded()
        up.migrate(up.conf_for(new_dir, "new"))
        up.sql("INSERT INTO fl.method (name, roles) VALUES ('system.rolling', '{}')")
        stop(start(daemon_factory, env, "rolling-methods", up.conf))
        for change, what in (
                ("UPDATE fl.method SET roles = '{admin}' WHERE name = 'fund.balance'",
                 "fund.balance needs other roles there"),
                ("DELETE FROM fl.method WHERE name = 'fund.balance'",
                 "fund.balance is not there")):
            up.sql(change)
            out = refused(up.conf)
            assert "the database's schema is newer than this fundd and its method table " \
                "(fl.method) does not serve this fundd (%s), although its migrations say " \
                "they do: start a fundd of the release that migrated the database" % what \
                in out, out
            up.migrate(up.conf_for(new_dir, "new"))
    finally:
        up.drop()


def test_a_bad_compatible_from_marker_is_refused(env, tmp_path):
    """The marker names a migration at or before its own file, in four digits."""
    up = Upgrade(env, tmp_path)
    try:
        for i, bad in enumerate(("12", "00x1", "%04d" % (up.old_last + 2))):
            d = os.path.join(str(tmp_path), "bad%d" % i)
            shutil.copytree(MIGRATIONS, d)
            fname = "%04d_bad.sql" % (up.old_last + 1)
            with open(os.path.join(d, fname), "w") as f:
                f.write("-- fundd-compatible-from: %s\nSELECT 1;\n" % bad)
            p = env.fundd("migrate", conf=up.conf_for(d, "bad"), timeout=120)
            assert p.returncode == 1, p.stdout + p.stderr
            assert "migration %s: fundd-compatible-from is not the number (NNNN) of a " \
                "migration at or before this one" % fname in p.stderr, p.stderr
        assert up.sql("SELECT max(version) FROM fund_meta.migration") == str(up.old_last)
    finally:
        up.drop()


def test_the_release_statement_is_the_trees():
    """docs/migrations.md states, for this release (its last versioned file), the oldest
    schema it serves (its own) and the oldest fundd its schema serves (the highest
    fundd-compatible-from of its versioned files, a file without one counting its own
    number)."""
    with open(os.path.join(ROOT, "docs", "migrations.md")) as f:
        doc = f.read()
    section = doc.split("### Each release's statement", 1)[1].split("\n#", 1)[0]
    rows = [l for l in section.splitlines() if l.startswith("| `")]
    assert rows, "no statement in docs/migrations.md"
    cells = [c.strip() for c in rows[-1].strip("|").split("|")]
    number, name = last_migration(MIGRATIONS)
    oldest = 0
    for n in os.listdir(MIGRATIONS):
        if re.match(r"\d{4}_\w+\.sql$", n):
            with open(os.path.join(MIGRATIONS, n)) as f:
                m = re.search(r"^-- fundd-compatible-from: (\d{4})$", f.read(), re.M)
            oldest = max(oldest, int(m.group(1)) if m else int(n[:4]))
    assert cells[0] == "`%s`" % name, (cells, name)
    assert cells[1] == "`%04d`" % number, cells
    assert cells[2].startswith("`%04d`" % oldest), (cells, oldest)


# --------------------------------------------------------------------------------------------
# Two daemons under load


class Load:
    """Worker threads calling two daemons, each worker preferring one of them: receipts
    (with idempotency keys), new partners, and reads. A call whose connection fails (a
    daemon draining or restarting) goes to the other daemon, mutations with the same
    idempotency key, as a load balancer would send it; every JSON-RPC error is a failure."""

    def __init__(self, daemons, token, fund, partner, workers=4):
        self.daemons = daemons
        self.token = token
        self.fund = fund
        self.partner = partner
        self.run = uniq("roll")
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.failures = []
        self.answered = []      # (monotonic time, daemon index, method)
        self.receipts = {}      # bank_ref -> contribution_id
        self.retried = 0
        self.threads = [threading.Thread(target=self.worker, args=(i,), daemon=True)
                        for i in range(workers)]

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(120)
        assert not any(t.is_alive() for t in self.threads), "load workers still running"

    def count(self, side=None, since=0.0):
        with self.lock:
            return sum(1 for t, s, _ in self.answered if t >= since and side in (None, s))

    def wait_for(self, n, side=None, since=0.0, timeout=60):
        """Until n more calls were answered (by daemon `side`) since `since`."""
        deadline = time.monotonic() + timeout
        while self.count(side, since) < n:
            assert time.monotonic() < deadline, "the load stalled: %d calls answered" % \
                self.count(side, since)
            with self.lock:
                assert not self.failures, self.failures[:3]
            time.sleep(0.05)

    def perform(self, clients, side, method, params):
        """The call's result, sent until it is answered; None after a failure."""
        for _ in range(400):
            try:
                doc = clients[side].reply(method, params)
            except TRANSPORT_ERRORS:
                clients[side].close()
                with self.lock:
                    self.retried += 1
                side = 1 - side
                time.sleep(0.02)
                continue
            if "error" in doc and doc["error"].get("code") == -32051:
                # outcome unknown: sent again with its key (docs/protocol.md)
                with self.lock:
                    self.retried += 1
                continue
            with self.lock:
                if "error" in doc:
                    self.failures.append((method, params, doc["error"]))
                    return None
                self.answered.append((time.monotonic(), side, method))
            return doc["result"]
        with self.lock:
            self.failures.append((method, params, "never answered"))
        return None

    def worker(self, i):
        clients = [Client.api(d, self.token, timeout=20) for d in self.daemons]
        side = i % 2
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                key = "%s-%d-%d" % (self.run, i, n)
                r = self.perform(clients, side, "contribution.receive", {
                    "partner_id": self.partner, "fund": self.fund, "amount": "10.00",
                    "currency": "EUR", "bank_ref": key, "idempotency_key": key})
                if r is not None:
                    with self.lock:
                        self.receipts[key] = r["contribution_id"]
                    got = self.perform(clients, side, "contribution.get",
                                       {"contribution_id": r["contribution_id"]})
                    if got is not None and got.get("bank_ref") != key:
                        with self.lock:
                            self.failures.append(("contribution.get", key, got))
                self.perform(clients, side, "fund.balance", {"code": self.fund})
                if n % 5 == 0:
                    self.perform(clients, side, "partner.create", {
                        "name": "Partner " + key, "country": "AM", "kind": "individual",
                        "idempotency_key": key + "-p"})
                self.perform(clients, side, "system.version", None)
        finally:
            for c in clients:
                c.close()


def test_two_daemons_upgrade_under_load_with_no_failed_call(env, tmp_path, daemon_factory):
    """Two daemons of this tree serve one database under a mixed load. The newer release
    migrates it (expand), one old daemon restarts as it is and serves on, then each is
    restarted as the newer release, one after the other (SIGTERM drains): no call fails,
    every acknowledged receipt is in the books once, and both serve the new schema."""
    up = Upgrade(env, tmp_path)
    load = None
    try:
        a_conf = up.conf_for(MIGRATIONS, "a")
        b_conf = up.conf_for(MIGRATIONS, "b")
        a = start(daemon_factory, env, "rolling-a", a_conf)
        b = start(daemon_factory, env, "rolling-b", b_conf)
        admin = env.principal_add(uniq("rolling-admin"), ["admin"], conf=up.conf)
        with Client.api(a, admin) as api:
            fund = new_fund(api, dual="1000000")["code"]
            partner = new_partner(api)["partner_id"]
        new_dir, fname = up.expanded()

        load = Load([a, b], admin, fund, partner)
        load.start()
        load.wait_for(40)

        # 1. the newer release migrates (expand) while both old daemons serve
        t = time.monotonic()
        out = up.migrate(up.conf_for(new_dir, "new"))
        assert "applied %s" % fname in out, out
        load.wait_for(20, side=0, since=t)
        load.wait_for(20, side=1, since=t)
        for d in (a, b):
            with Client.api(d, admin) as api:
                assert release_of(api) == "expand", d.name

        # 2. an old daemon restarts as it is: it serves the newer schema
        port_a = a.port
        stop(a)
        a = start(daemon_factory, env, "rolling-a-again", a_conf)
        assert "serves fundd from %04d on: serving it" % up.old_last in a.log_tail()
        load.wait_for(20, side=0, since=time.monotonic())

        # 3. one daemon at a time becomes the newer release
        for side, d in ((0, a), (1, b)):
            conf = up.conf_for(new_dir, "new-%d" % side, listen=d.port)
            stop(d)
            d = start(daemon_factory, env, "rolling-%s-new" % "ab"[side], conf)
            assert "newer than this fundd" not in d.log_tail(), d.log_tail()
            with Client.api(d, admin) as api:
                assert release_of(api) == "expand"
            load.wait_for(20, side=side, since=time.monotonic())
            if side == 0:
                a = d
            else:
                b = d
        assert a.port == port_a
        load.wait_for(40, since=time.monotonic())
        load.finish()

        assert load.failures == [], "failed calls: %r" % load.failures[:5]
        n = len(load.receipts)
        assert n >= 30, "only %d receipts in the whole upgrade" % n
        assert up.sql("SELECT count(*), count(DISTINCT bank_ref) FROM fl.contribution "
                      "WHERE bank_ref LIKE '%s-%%'" % load.run) == "%d|%d" % (n, n)
        got = dict(l.split("|") for l in up.sql(
            "SELECT bank_ref, contribution_id FROM fl.contribution WHERE bank_ref LIKE "
            "'%s-%%'" % load.run).splitlines())
        assert got == load.receipts
        assert up.sql("SELECT to_regclass('fl.rolling_probe') IS NOT NULL") == "t"
        print("rolling upgrade: %d calls answered, %d receipts, %d sent again" % (
            load.count(), n, load.retried))
        stop(a)
        stop(b)
    finally:
        if load is not None:
            load.stop.set()
            for th in load.threads:
                th.join(60)
        for d in daemon_factory.daemons:
            d.stop()    # (after a failure: the database goes next)
        up.drop()
