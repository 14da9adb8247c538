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

from fl.client import Client
from fl.db import database_overrides
from fl.env import FUNDD, ROOT, Daemon, free_port, uniq
from fl.ledger import new_partner

MIGRATIONS = os.path.join(ROOT, "migrations")
REFUSED_TIMEOUT = 20


def last_migration(d):
    """(number, name) of the last versioned file of migrations directory d."""
    name = sorted(n for n in os.listdir(d) if re.match(r"\d{4}_\w+\.sql$", n))[-1]
    return int(name[:4]), name


def edit(path, old, new):
    with open(path) as f:
        text = f.read()
    assert old in text, "%s has no %r" % (path, old)
    with open(path, "w") as f:
        f.write(text.replace(old, new, 1))


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
    """The output of fundd refusing to serve conf, which must exit 1 at start-up."""
    try:
        p = subprocess.run([FUNDD, "-c", conf], cwd=ROOT, capture_output=True, text=True,
                           timeout=REFUSED_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError("fundd served with %s" % conf)
    assert p.returncode == 1, (p.returncode, p.stdout + p.stderr)
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
    start, exit 1, and name it and what to do; the release that has it serves."""
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
