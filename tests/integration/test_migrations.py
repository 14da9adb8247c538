"""The schema runner and the layout of migrations/ (docs/migrations.md).

Each function, trigger and view is defined once, in a repeatable file; versioned files
define none; docs/schema.sql is the schema the tree makes. `fundd migrate` applies a run in
one transaction, a changed repeatable file is applied again, and fundd refuses to serve
until it is.

Databases migrated by an earlier tree reach the schema of a fresh one. The release in
fixtures/migrations-0014.tar.gz is 0001..0014 as they were when every function lived in a
versioned file. The suite's own database came through it: conftest has devenv.sh migrate it
with that release, keep books in it (fixtures/upgrade_data.sql), and only then migrate it
to this tree; every other test of the suite runs on it. Here: its schema is a fresh
database's, its books survived, and every earlier state of the release upgrades too."""

import difflib
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile

import pytest

from fl.client import Client
from fl.db import database_overrides
from fl.env import FUNDD, ROOT, Daemon, edit, free_port, uniq

FIXTURES = os.path.join(ROOT, "tests", "integration", "fixtures")
RELEASE = os.path.join(FIXTURES, "migrations-0014.tar.gz")
MIGRATIONS = os.path.join(ROOT, "migrations")
REPEATABLE = os.path.join(MIGRATIONS, "functions")
REWORK_LIST = os.path.join(MIGRATIONS, "reworked.sha256")
SCHEMA_FILE = os.path.join(ROOT, "docs", "schema.sql")


def schema(env, db):
    return env.devenv("schema", env.dir, db).stdout


def sql_in(env, db, query):
    return env.devenv("psql", env.dir, "-At", "-d", db, "-c", query).stdout.strip()


def reworked_forms():
    return [l.split() for l in open(REWORK_LIST) if l.strip() and not l.startswith("#")]


def assert_same(expected, got, what):
    if expected != got:
        diff = difflib.unified_diff(expected.splitlines(), got.splitlines(), "fresh", what,
                                    lineterm="", n=2)
        raise AssertionError("%s differs from a fresh database:\n%s" % (
            what, "\n".join(list(diff)[:80])))


class Scratch:
    """Databases of the suite's cluster, each with a config for `fundd migrate`, dropped at
    the end."""

    def __init__(self, env):
        self.env = env
        self.dbs = []

    def db(self, stem, migrations=None):
        name = "%s_%s" % (stem, uniq("d").replace("-", "_").lower())
        self.env.sql("CREATE DATABASE %s OWNER fund_owner" % name)
        self.dbs.append(name)
        return name, self.conf(name, migrations)

    def conf(self, name, migrations=None):
        ov = database_overrides(self.env, name)
        if migrations:
            ov["database"]["migrations"] = migrations
        return self.env.write_conf(os.path.join(self.env.dir, "fundd-%s.conf" % name), ov)

    def migrate(self, conf):
        p = self.env.fundd("migrate", conf=conf, timeout=120)
        assert p.returncode == 0, "migrate failed: %s %s" % (p.stdout, p.stderr)
        return p.stdout

    def drop(self):
        for name in self.dbs:
            self.env.sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


@pytest.fixture(scope="module")
def scratch(env):
    s = Scratch(env)
    yield s
    s.drop()


@pytest.fixture(scope="module")
def fresh_db(env, scratch):
    """A database migrated from nothing by this tree, that no other test writes to."""
    name, conf = scratch.db("fresh")
    scratch.migrate(conf)
    return name


@pytest.fixture(scope="module")
def fresh(env, fresh_db):
    """The schema of fresh_db."""
    return schema(env, fresh_db)


@pytest.fixture(scope="module")
def release(env, tmp_path_factory):
    """The release's files: [(name, path)] in order."""
    d = tmp_path_factory.mktemp("release")
    with tarfile.open(RELEASE) as t:
        t.extractall(d)
    root = os.path.join(d, "migrations-0014")
    os.chmod(d, 0o755)
    return [(n, os.path.join(root, n)) for n in sorted(os.listdir(root))]


def test_the_suites_database_came_through_the_release(env):
    """conftest set the suite's database up from the release, and the upgrade recorded
    every versioned file in its current form."""
    for f in ("upgrade-data-before.sql", "upgrade-data-after.sql"):
        assert os.path.exists(os.path.join(env.dir, f)), \
            "%s missing: devenv.sh did not upgrade the suite's database" % f
    files = sorted(n for n in os.listdir(os.path.join(ROOT, "migrations"))
                   if n.endswith(".sql"))
    rows = env.sql("SELECT name FROM fund_meta.migration ORDER BY version").split()
    assert rows == files
    recorded = dict(l.split("|") for l in env.sql(
        "SELECT name || '|' || sha256 FROM fund_meta.migration").split())
    for name in files:
        with open(os.path.join(ROOT, "migrations", name), "rb") as f:
            assert recorded[name] == hashlib.sha256(f.read()).hexdigest(), \
                "%s is not recorded in its current form" % name
    assert env.sql("SELECT count(*) FROM fl.principal WHERE name LIKE 'upgrade %'").strip() \
        == "5", "the release's books are not in the suite's database"


def test_upgraded_schema_is_a_fresh_databases(env, fresh):
    """The suite's database as the upgrade left it (devenv.sh dumped it then: tests add
    roles and grants of their own later)."""
    with open(os.path.join(env.dir, "upgrade-schema.sql")) as f:
        assert_same(fresh, f.read(), "the upgraded suite database")


def test_books_kept_before_the_upgrade_are_unchanged(env):
    """Every row the release's functions wrote (upgrade_data.sql: all the mutating methods,
    folds and the audit chain) is the same after the upgrade."""
    with open(os.path.join(env.dir, "upgrade-data-before.sql")) as f:
        before = f.read()
    with open(os.path.join(env.dir, "upgrade-data-after.sql")) as f:
        after = f.read()
    assert "UP-GEG-SME" in before and "Returnee One" in before, \
        "upgrade_data.sql wrote none of its books"
    # columns and tables added since the release hold new facts; every row, column and
    # sequence value the release wrote must read back the same, but for returnees'
    # personal data, which 0037 sealed (test_upgraded_personal_data_is_sealed)
    assert_same(books(before, before), books(without_new_accounts(after), before),
                "the data after the upgrade")


# What 0037 sealed: returnees' personal columns (read back through the API instead), and
# personal values of the answers kept for idempotency keys (compared as "<personal>").
SEALED_COLUMNS = {"fl.returnee": {"full_name", "national_id", "birth_year", "gender"}}
PERSONAL_ANSWER_KEYS = {"full_name", "national_id", "birth_year", "gender",
                        "beneficiary_name"}


def personal_marked(field):
    """A COPY field of fl.idempotency.result with each personal value, plaintext or
    sealed, as "<personal>"."""
    try:
        v = json.loads(field.replace("\\\\", "\\"))
    except ValueError:
        return field
    if not isinstance(v, dict):
        return field
    for k in PERSONAL_ANSWER_KEYS & set(v):
        if v[k] is not None:
            v[k] = "<personal>"
    return json.dumps(v, sort_keys=True)


COPY_RE = re.compile(r"^COPY (\S+) \((.*)\) FROM stdin;$")

# Accounts a versioned file opened for every fund that existed (0023: fees and losses).
NEW_ACCOUNTS = {"bank_charges", "investment_losses", "capital_impaired"}


def without_new_accounts(dump):
    """The dump without the rows of fl.account that an upgrade opened for existing funds,
    and with the account sequence where the release left it (its highest account_id)."""
    out, cols, top = [], None, 0
    for line in dump.splitlines():
        m = COPY_RE.match(line)
        if m:
            cols = m.group(2).split(", ") if m.group(1) == "fl.account" else None
        elif cols is not None and line == "\\.":
            cols = None
        elif cols is not None:
            row = dict(zip(cols, line.split("\t")))
            if row["short"] in NEW_ACCOUNTS:
                continue
            top = max(top, int(row["account_id"]))
        elif line.startswith("SELECT pg_catalog.setval('fl.account_account_id_seq'"):
            line = "SELECT pg_catalog.setval('fl.account_account_id_seq', %d, true);" % top
        out.append(line)
    return "\n".join(out)


def copy_blocks(dump):
    """{table: (columns, [rows as lists])} of a pg_dump --data-only text, and the sequence
    values it sets."""
    blocks, setvals, cur = {}, set(), None
    for line in dump.splitlines():
        m = COPY_RE.match(line)
        if m:
            cur = blocks[m.group(1)] = (m.group(2).split(", "), [])
        elif cur is not None and line == "\\.":
            cur = None
        elif cur is not None:
            cur[1].append(line.split("\t"))
        elif line.startswith("SELECT pg_catalog.setval("):
            setvals.add(line)
    return blocks, setvals


def books(dump, release):
    """The tables, columns and sequences of the `release` dump, read off `dump`, as sorted
    text: what the release wrote, whatever was added since (rows sorted, since an upgrade
    may rewrite a table)."""
    have, have_seq = copy_blocks(dump)
    want, want_seq = copy_blocks(release)
    out = []
    for table, (cols, _) in sorted(want.items()):
        assert table in have, "table %s is gone after the upgrade" % table
        hcols, rows = have[table]
        cols = [c for c in cols if c not in SEALED_COLUMNS.get(table, ())]
        missing = [c for c in cols if c not in hcols]
        assert not missing, "%s lost columns %s in the upgrade" % (table, missing)
        idx = [hcols.index(c) for c in cols]
        out.append("%s (%s)" % (table, ", ".join(cols)))
        out.extend(sorted("\t".join(personal_marked(r[i]) if table == "fl.idempotency"
                                    and c == "result" else r[i]
                                    for c, i in zip(cols, idx)) for r in rows))
    out.extend(sorted(l if l in have_seq else "missing: " + l for l in want_seq))
    return "\n".join(out)


def test_upgraded_personal_data_is_sealed(env, api):
    """0037 sealed what the release kept in plaintext: the dump after the upgrade holds
    no name or national id of it (nor do the answers kept for its idempotency keys, which
    hold sealed values instead), the API reads each back as the release stored it, and its
    grants carry the statistics the reports count."""
    with open(os.path.join(env.dir, "upgrade-data-before.sql")) as f:
        before = f.read()
    with open(os.path.join(env.dir, "upgrade-data-after.sql")) as f:
        after = f.read()
    blocks, _ = copy_blocks(before)
    cols, rows = blocks["fl.returnee"]
    people = [dict(zip(cols, r)) for r in rows]
    assert len(people) == 2, people
    for v in people:
        assert v["full_name"] in before
        assert v["full_name"] not in after, v["full_name"]
        if v["national_id"] != "\\N":
            assert v["national_id"] not in after, v["national_id"]
        r = api.ok("returnee.get", {"returnee_id": v["returnee_id"]})
        assert r["full_name"] == v["full_name"]
        assert r["national_id"] == (None if v["national_id"] == "\\N" else v["national_id"])
        assert r["gender"] == (None if v["gender"] == "\\N" else v["gender"])
        assert r["birth_year"] == (None if v["birth_year"] == "\\N" else int(v["birth_year"]))
    kept = env.sql("SELECT result->'full_name'->>'$sealed', result->>'returnee_id' "
                   "FROM fl.idempotency WHERE key = 'up-returnee-1'").strip().split("|")
    assert kept[0] == "full_name", kept
    one = [v for v in people if v["returnee_id"] == kept[1]][0]
    rows = env.sql("SELECT beneficiary_gender, beneficiary_age_band, "
                   "extract(year FROM created_at AT TIME ZONE 'UTC')::int "
                   "FROM fl.grant_application WHERE returnee_id = '%s'" % kept[1]).split()
    assert rows, "the release applied for grants of %s" % kept[1]
    for row in rows:
        gender, band, year = row.split("|")
        age = int(year) - int(one["birth_year"])
        assert gender == one["gender"] and band == ("25-34" if age < 35 else "35-44" if
                                                    age < 45 else "45-54"), (row, age)


def test_the_upgraded_books_still_add_up(env):
    """What the release wrote reads back through this tree's functions: the fund figures
    equal the journal's sums, and the audit chain of those events verifies."""
    bad = env.sql("SELECT code FROM fl.fund f WHERE code LIKE 'UP-%' AND "
                  "fl.fund_balance_json(fl.fund_current(f)) <> "
                  "fl.fund_balance_from_journal(f.code)")
    assert bad.strip() == "", "fund figures differ from the journal: %r" % bad
    assert env.sql("SELECT count(*) FROM fl.journal_entry e JOIN fl.fund f "
                   "ON f.code = e.fund_code WHERE f.code LIKE 'UP-%'").strip() == "13"


def test_the_upgraded_entries_carry_the_value_dates_of_what_they_record(env):
    """0021 dated the release's entries: a receipt by its received_at, a payment by its
    paid_at, a pledge by its pledged_at; earnings and commitments by when they were
    recorded."""
    rows = env.sql("""
        SELECT e.kind, e.value_at = coalesce(CASE e.kind
            WHEN 'receipt' THEN (SELECT received_at FROM fl.contribution
                                  WHERE contribution_id = e.ref_id)
            WHEN 'pledge' THEN (SELECT pledged_at FROM fl.contribution
                                 WHERE contribution_id = e.ref_id)
            WHEN 'pledge_cancel' THEN (SELECT cancelled_at FROM fl.contribution
                                        WHERE contribution_id = e.ref_id)
            WHEN 'disbursement' THEN (SELECT paid_at FROM fl.disbursement
                                       WHERE disbursement_id = e.ref_id) END, e.at)
          FROM fl.journal_entry e WHERE e.fund_code LIKE 'UP-%' ORDER BY e.entry_id""").split()
    assert len(rows) == 13 and all(r.endswith("|t") for r in rows), rows
    assert {r.split("|")[0] for r in rows} >= {"receipt", "pledge", "disbursement",
                                                "earnings", "commitment"}, rows
    # the release recorded them now; two of its receipts and payments were dated before
    assert env.sql("""SELECT count(*) FROM fl.journal_entry WHERE fund_code LIKE 'UP-%'
                       AND value_at <> at AND value_at::date IN ('2026-11-20',
                       '2026-11-25')""").strip() == "2"


def test_every_state_of_the_release_upgrades(env, scratch, fresh, release):
    """A database left at any step of the release (0001 only, 0001..0002, ...) upgrades to
    the same schema as a fresh one."""
    for k in range(1, len(release)):
        rel_dir = os.path.join(env.dir, "release-upto-%02d" % k)
        shutil.rmtree(rel_dir, ignore_errors=True)
        os.makedirs(rel_dir)
        for name, path in release[:k]:
            shutil.copy(path, rel_dir)
        name, conf = scratch.db("upto%02d" % k, migrations=rel_dir)
        out = scratch.migrate(conf)
        assert "applied %s" % release[k - 1][0] in out, out
        out = scratch.migrate(scratch.conf(name))
        assert "recorded %s in its current form" % release[0][0] in out, out
        assert "applied %s" % release[k][0] in out, out
        assert_same(fresh, schema(env, name), "a database at %s, upgraded" % release[k - 1][0])


def test_a_database_of_the_release_is_served_once_upgraded(env, scratch, release):
    """fundd refuses a database that ran the release's forms, naming the first, until
    migrate records them and applies the repeatable files."""
    rel_dir = os.path.join(env.dir, "release-whole")
    shutil.rmtree(rel_dir, ignore_errors=True)
    os.makedirs(rel_dir)
    for _, path in release:
        shutil.copy(path, rel_dir)
    name, conf = scratch.db("whole", migrations=rel_dir)
    scratch.migrate(conf)
    conf = scratch.conf(name)
    env.write_conf(conf, {"server": {"listen": "127.0.0.1:%d" % free_port()}}, base=conf)
    out = serve_refused(conf)
    assert "ran an earlier form of migration %s" % release[0][0] in out, out
    scratch.migrate(conf)
    serves(env, conf)


def test_an_unknown_earlier_form_is_refused(env, scratch, release):
    """Only the forms the rework list names are taken for the current file: a database
    that ran anything else is refused, changing nothing."""
    rel_dir = os.path.join(env.dir, "release-altered")
    shutil.rmtree(rel_dir, ignore_errors=True)
    os.makedirs(rel_dir)
    for name, path in release[:2]:
        shutil.copy(path, rel_dir)
    with open(os.path.join(rel_dir, release[1][0]), "a") as f:
        f.write("\n-- edited after release\n")
    name, conf = scratch.db("altered", migrations=rel_dir)
    scratch.migrate(conf)
    p = env.fundd("migrate", conf=scratch.conf(name), timeout=120)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "migration %s changed after it was applied" % release[1][0] in p.stderr, p.stderr
    n = sql_in(env, name, "SELECT count(*) FROM fund_meta.migration WHERE sha256 IN (%s)" %
               ", ".join("'%s'" % sha for sha, _ in reworked_forms()))
    assert n == "1", "the refused run changed the records (%s earlier forms left)" % n


# --------------------------------------------------------------------------------------------
# One place for each thing


def strip_comments(sql):
    """sql without -- and /* */ comments, strings and dollar-quoted bodies kept."""
    return "".join(text for kind, text in tokens(sql) if kind != "comment")


def tokens(sql):
    """(kind, text) pieces of sql: comment, quoted (a string, identifier or dollar-quoted
    body), or code."""
    i, n, code = 0, len(sql), ""
    while i < n:
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            yield "code", code
            code = ""
            yield "comment", sql[i:j]
            i = j
        elif sql.startswith("/*", i):
            j = sql.index("*/", i) + 2
            yield "code", code
            code = ""
            yield "comment", sql[i:j]
            i = j
        elif sql[i] in "'\"":
            q = sql[i]
            j = i + 1
            while True:
                j = sql.index(q, j)
                if sql.startswith(q * 2, j):
                    j += 2
                    continue
                break
            yield "code", code
            code = ""
            yield "quoted", sql[i:j + 1]
            i = j + 1
        elif sql[i] == "$" and re.match(r"\$(?:[A-Za-z_]\w*)?\$", sql[i:]):
            tag = re.match(r"\$(?:[A-Za-z_]\w*)?\$", sql[i:]).group(0)
            j = sql.index(tag, i + len(tag)) + len(tag)
            yield "code", code
            code = ""
            yield "quoted", sql[i:j]
            i = j
        else:
            code += sql[i]
            i += 1
    yield "code", code


def statements(sql):
    """The top-level statements of sql, comments removed."""
    stmt, out = "", []
    for kind, text in tokens(sql):
        if kind == "comment":
            continue
        if kind == "quoted":
            stmt += text
            continue
        parts = text.split(";")
        for p in parts[:-1]:
            out.append((stmt + p).strip())
            stmt = ""
        stmt += parts[-1]
    if stmt.strip():
        out.append(stmt.strip())
    return [s for s in out if s]


CODE_OBJECT = re.compile(
    r"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?P<kind>FUNCTION|PROCEDURE|AGGREGATE|VIEW|"
    r"MATERIALIZED\s+VIEW|RULE)\s+(?P<name>[\w.]+)|(?:CONSTRAINT\s+)?TRIGGER\s+(?P<trig>\w+)"
    r"\s.*?\bON\s+(?P<table>[\w.]+))", re.I | re.S)


def versioned_files():
    return sorted(n for n in os.listdir(MIGRATIONS) if re.match(r"\d{4}_\w+\.sql$", n))


def repeatable_files():
    return sorted(n for n in os.listdir(REPEATABLE) if n.endswith(".sql"))


def repeatable_objects():
    """{(kind, name): [file, ...]} of everything the repeatable files create."""
    found = {}
    for name in repeatable_files():
        with open(os.path.join(REPEATABLE, name)) as f:
            for st in statements(f.read()):
                m = CODE_OBJECT.match(st)
                if not m:
                    continue
                if m.group("trig"):
                    key = ("trigger", "%s ON %s" % (m.group("trig"), m.group("table")))
                else:
                    key = (re.sub(r"\s+", " ", m.group("kind").lower()), m.group("name"))
                found.setdefault(key, []).append(name)
    return found


def test_versioned_files_define_no_code():
    """Functions, procedures, triggers, views and rules live in the repeatable files only,
    also when hidden in a DO block of a versioned file."""
    bad = []
    for name in versioned_files():
        with open(os.path.join(MIGRATIONS, name)) as f:
            text = strip_comments(f.read())
        for m in re.finditer(r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?"
                             r"(FUNCTION|PROCEDURE|AGGREGATE|TRIGGER|VIEW|MATERIALIZED\s+"
                             r"VIEW|RULE)\s+([\w.]+)", text, re.I):
            bad.append("%s: CREATE %s %s" % (name, m.group(1).upper(), m.group(2)))
    assert not bad, "versioned files that define code (it belongs in functions/):\n" + \
        "\n".join(bad)


def test_each_object_is_defined_once():
    twice = {"%s %s" % k: v for k, v in repeatable_objects().items() if len(v) > 1}
    assert not twice, "defined more than once in migrations/functions/: %r" % twice


def test_the_parser_sees_what_the_files_hold():
    """The checks above rest on this parse: it finds every kind of object, skips bodies
    (api.call's text inside fl.rebuild_dispatch is not a definition) and comments."""
    objs = repeatable_objects()
    assert ("function", "fl.entry_commit") in objs
    assert ("function", "fl.rebuild_dispatch") in objs
    assert ("function", "api.call") not in objs
    assert ("view", "fl.ledger_export") in objs
    assert ("trigger", "journal_entry_commit ON fl.journal_entry") in objs
    sample = ("-- CREATE FUNCTION fl.in_comment()\nCREATE FUNCTION fl.a() RETURNS int "
              "LANGUAGE sql AS $b$ SELECT 1; CREATE FUNCTION fl.in_body() $b$;\n"
              "CREATE OR REPLACE TRIGGER t AFTER INSERT ON fl.x FOR EACH ROW EXECUTE "
              "FUNCTION fl.a(); SELECT ';CREATE VIEW fl.in_string';")
    found = [CODE_OBJECT.match(st).group("name", "trig") for st in statements(sample)
             if CODE_OBJECT.match(st)]
    assert found == [("fl.a", None), (None, "t")], found


def test_the_database_holds_what_the_repeatable_files_define(env, fresh_db):
    """Every function, trigger and view of the database is defined in a repeatable file
    (api.call is generated from the method functions by fl.rebuild_dispatch), and every
    one defined there exists."""
    defined = {(k, n) for k, n in repeatable_objects()}
    rows = sql_in(env, fresh_db, """
        SELECT 'function ' || n.nspname || '.' || p.proname
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\\_%'
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid
                            AND d.deptype = 'e')
        UNION ALL
        SELECT 'view ' || schemaname || '.' || viewname FROM pg_views
         WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
        UNION ALL
        SELECT 'trigger ' || tgname || ' ON ' || tgrelid::regclass FROM pg_trigger
         WHERE NOT tgisinternal""").splitlines()
    in_db = {tuple(r.split(" ", 1)) for r in rows if r.strip()}
    assert ("function", "api.call") in in_db
    in_db.discard(("function", "api.call"))
    assert len(in_db) > 100
    assert sorted(in_db - defined) == [], "in the database, not in migrations/functions/"
    assert sorted(defined - in_db) == [], "in migrations/functions/, not in the database"


def test_schema_file_is_current(fresh):
    """docs/schema.sql is the schema the tree makes, so that a reviewer sees every change
    to it as a diff. `make schema` writes it."""
    with open(SCHEMA_FILE) as f:
        committed = f.read()
    assert "CREATE FUNCTION fl.entry_commit()" in committed
    if committed != fresh:
        raise AssertionError("docs/schema.sql is stale: run `make schema` and commit it\n" +
                             "\n".join(list(difflib.unified_diff(
                                 committed.splitlines(), fresh.splitlines(),
                                 "docs/schema.sql", "a fresh database", lineterm="",
                                 n=1))[:60]))


# --------------------------------------------------------------------------------------------
# The runner


@pytest.fixture
def tree(env):
    """A copy of migrations/ to change, and a fresh database migrated from it, with a
    config that serves it. Yields (directory, database, config)."""
    d = os.path.join(env.dir, "tree-" + uniq("t"))
    shutil.copytree(MIGRATIONS, d)
    s = Scratch(env)
    name, conf = s.db("runner", migrations=d)
    env.write_conf(conf, {"server": {"listen": "127.0.0.1:%d" % free_port()}}, base=conf)
    s.migrate(conf)
    yield d, name, conf
    s.drop()
    shutil.rmtree(d, ignore_errors=True)


def serve_refused(conf):
    """fundd's refusal to serve conf (its output), or an AssertionError when it serves."""
    try:
        p = subprocess.run([FUNDD, "-c", conf], cwd=ROOT, capture_output=True, text=True,
                           timeout=15)
    except subprocess.TimeoutExpired:
        raise AssertionError("fundd served a database that is not at the tree's state")
    # 3: refused for its schema, which the unit does not restart on (docs/operations.md)
    assert p.returncode == 3, p.stdout + p.stderr
    return p.stdout + p.stderr


def serves(env, conf):
    port = int(re.search(r"^listen = 127\.0\.0\.1:(\d+)$", open(conf).read(), re.M).group(1))
    d = Daemon(env, uniq("runner"), conf, port)
    try:
        d.start()
    except BaseException:
        d.stop()
        raise
    assert d.stop() == 0


def test_a_changed_repeatable_file_is_applied_again(env, tree):
    """Only the changed file is applied; until then fundd refuses to serve, naming it."""
    d, db, conf = tree
    edit(os.path.join(d, "functions", "10_common.sql"),
         "'version', ctx->>'version', 'protocol', 1)",
         "'version', ctx->>'version', 'protocol', 1, 'patched', true)")
    out = serve_refused(conf)
    assert "functions/10_common.sql changed since it was applied" in out, out
    p = env.fundd("migrate", conf=conf, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["applied functions/10_common.sql"], p.stdout
    assert sql_in(env, db, "SELECT api.system_version(NULL, '{}', '{}')->>'patched'") == "true"
    serves(env, conf)
    p = env.fundd("migrate", conf=conf, timeout=120)
    assert p.stdout.startswith("schema is up to date"), p.stdout


def test_a_new_method_joins_the_dispatcher(env, tree):
    """A method function added to a repeatable file is callable through api.call after the
    run: the runner generates the dispatcher once, at the end."""
    d, db, conf = tree
    with open(os.path.join(d, "functions", "10_common.sql"), "a") as f:
        f.write("\nCREATE OR REPLACE FUNCTION api.system_probe(p fl.principal, params jsonb, "
                "ctx jsonb) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$\nBEGIN\n\tRETURN "
                "jsonb_build_object('probe', params->'x');\nEND\n$$;\n")
    p = env.fundd("migrate", conf=conf, timeout=120)
    assert p.returncode == 0, p.stderr
    token = "runner-probe-" + uniq("t")
    # (the roles a method needs come from fundd's method table, which has no probe)
    env.devenv("psql", env.dir, "-d", db, "-c",
               "INSERT INTO fl.principal (name, roles, token_hash) VALUES "
               "('probe', '{auditor}', sha256('%s')); INSERT INTO fl.method (name, roles) "
               "VALUES ('system.probe', '{auditor}')" % token)
    got = sql_in(env, db, "SELECT api.call(sha256('%s'), NULL, 'system.probe', "
                 "'{\"x\": 7}', NULL, '{}')" % token)
    assert got == '{"result": {"probe": 7}, "replayed": false}', got


def test_a_method_table_that_differs_is_refused_until_migrated(env, tree):
    """fl.method holds the roles of fundd's method table (daemon/methods.c), which api.call
    checks: fundd refuses to serve a database whose table differs, and migrate writes it
    again, with every privilege (docs/database-role.md)."""
    d, db, conf = tree
    env.devenv("psql", env.dir, "-d", db, "-c",
               "UPDATE fl.method SET roles = '{}' WHERE name = 'returnee.list'; "
               "DELETE FROM fl.method WHERE name = 'http.metrics'; "
               "GRANT SELECT ON fl.principal TO fundd_app")
    out = serve_refused(conf)
    assert "the database's method table (fl.method) is not this fundd's (http.metrics is " \
        "not there, and more)" in out, out
    p = env.fundd("migrate", conf=conf, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "recorded this fundd's method table in fl.method (2 changes)"], p.stdout
    assert sql_in(env, db, "SELECT roles FROM fl.method WHERE name IN ('returnee.list', "
                  "'http.metrics') ORDER BY name") == "{admin,auditor}\n{admin,approver,auditor}"
    assert sql_in(env, db, "SELECT has_table_privilege('fundd_app', 'fl.principal', "
                  "'SELECT')") == "f"
    serves(env, conf)
    p = env.fundd("migrate", conf=conf, timeout=120)
    assert p.stdout.startswith("schema is up to date"), p.stdout


def test_a_run_is_one_transaction(env, tree):
    """A failure anywhere in a run leaves the database as it was: here a new versioned file
    applies and then a repeatable file fails."""
    d, db, conf = tree
    with open(os.path.join(d, "0999_probe.sql"), "w") as f:
        f.write("CREATE TABLE fl.probe (x int);\n")
    with open(os.path.join(d, "functions", "90_dispatch.sql"), "a") as f:
        f.write("\nCREATE OR REPLACE FUNCTION fl.broken( RETURNS int;\n")
    p = env.fundd("migrate", conf=conf, timeout=120)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "functions/90_dispatch.sql failed: " in p.stderr, p.stderr
    assert sql_in(env, db, "SELECT to_regclass('fl.probe') IS NULL") == "t"
    assert sql_in(env, db, "SELECT count(*) FROM fund_meta.migration WHERE version = 999") == "0"
    assert "0999_probe.sql" in serve_refused(conf)


def test_a_versioned_file_brings_every_repeatable_file_back(env, tree):
    """A versioned file may drop a view or a function to change what it depends on: every
    repeatable file is applied after it, so they come back."""
    d, db, conf = tree
    with open(os.path.join(d, "0999_probe.sql"), "w") as f:
        f.write("DROP VIEW fl.ledger_export;\nDROP FUNCTION fl.entry_json(fl.journal_entry);\n")
    p = env.fundd("migrate", conf=conf, timeout=120)
    assert p.returncode == 0, p.stderr
    applied = p.stdout.splitlines()
    assert applied[0] == "applied 0999_probe.sql"
    assert applied[1:] == ["applied functions/" + n for n in repeatable_files()], applied
    assert sql_in(env, db, "SELECT to_regclass('fl.ledger_export') IS NOT NULL AND "
                  "to_regprocedure('fl.entry_json(fl.journal_entry)') IS NOT NULL") == "t"
    serves(env, conf)


def test_a_removed_repeatable_file_is_forgotten(env, tree):
    d, db, conf = tree
    with open(os.path.join(d, "functions", "95_probe.sql"), "w") as f:
        f.write("CREATE OR REPLACE FUNCTION fl.probe() RETURNS int LANGUAGE sql AS "
                "$$ SELECT 1 $$;\n")
    assert env.fundd("migrate", conf=conf, timeout=120).returncode == 0
    os.unlink(os.path.join(d, "functions", "95_probe.sql"))
    out = serve_refused(conf)
    assert "applied functions/95_probe.sql has no file" in out, out
    p = env.fundd("migrate", conf=conf, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("forgot functions/95_probe.sql"), p.stdout
    serves(env, conf)


@pytest.mark.parametrize("line, error", [
    ("0123  0001_foundation.sql", "not \"SHA256  NNNN_name.sql\""),
    ("%s  foundation.sql" % ("ab" * 32), "not \"SHA256  NNNN_name.sql\""),
    ("%s  0001_foundation.sql" % ("AB" * 32), "not 64 lowercase hex digits"),
])
def test_a_bad_rework_list_is_refused(env, tree, line, error):
    d, db, conf = tree
    with open(os.path.join(d, "reworked.sha256"), "a") as f:
        f.write(line + "\n")
    p = env.fundd("migrate", conf=conf, timeout=120)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "reworked.sha256:" in p.stderr and error in p.stderr, p.stderr


# --------------------------------------------------------------------------------------------
# Returnees whose national ids are one once normalised (0018_input.sql)

def test_colliding_national_ids_stop_the_migration(env, scratch, tmp_path):
    """Returnees registered byte-distinct but the same id as read are not merged: the
    migration stops, naming their returnee_ids only, and goes through once an administrator
    has set them apart."""
    before = str(tmp_path / "before-0018")
    shutil.copytree(MIGRATIONS, before)
    for n in os.listdir(before):
        if n.endswith(".sql") and n >= "0018":
            os.remove(os.path.join(before, n))
    # this tree's repeatable files need what the versioned files after 0018 add (value
    # dates, transfers, closes, ...): a stand-in, run before 0018, holds all of them, and
    # 0018 alone follows it
    # (but 0037, which seals returnees' personal data, a step of fundd's, and drops the
    # plaintext columns these rows are written in; and without the files' markers, which
    # name later migrations)
    with open(os.path.join(before, "0017_later_objects.sql"), "w") as f:
        for n in sorted(os.listdir(MIGRATIONS)):
            if n.endswith(".sql") and n >= "0019" and not n.startswith("0037"):
                f.writelines(l for l in open(os.path.join(MIGRATIONS, n))
                             if not l.startswith("-- fundd-"))
                f.write("\n")
    with_0018 = str(tmp_path / "with-0018")
    shutil.copytree(before, with_0018)
    for n in os.listdir(MIGRATIONS):
        if n.startswith("0018"):
            shutil.copy(os.path.join(MIGRATIONS, n), with_0018)
    name, conf = scratch.db("nid", migrations=before)
    scratch.migrate(conf)
    ins = ("INSERT INTO fl.returnee (returnee_id, full_name, region, returned_from, "
           "returned_on, national_id) VALUES ('%s', 'X', 'AM-SH', 'RU', '2026-01-01', '%s')")
    for rid, nid in (("re_nid_a", "AM7766554"), ("re_nid_b", "\uff41m7766554 "),
                     ("re_nid_c", "AM\u200b7766554"), ("re_nid_d", "AM1112223")):
        sql_in(env, name, ins % (rid, nid))
    p = env.fundd("migrate", conf=scratch.conf(name, with_0018), timeout=120)
    assert p.returncode != 0, p.stdout + p.stderr
    assert "re_nid_a, re_nid_b, re_nid_c" in p.stderr, p.stderr
    assert "AM7766554" not in p.stderr and "re_nid_d" not in p.stderr, p.stderr
    assert sql_in(env, name, "SELECT count(*) FROM fund_meta.migration WHERE name LIKE "
                  "'0018%'") == "0"
    sql_in(env, name, "UPDATE fl.returnee SET national_id = 'AM7766555' "
           "WHERE returnee_id = 're_nid_b'")
    sql_in(env, name, "DELETE FROM fl.returnee WHERE returnee_id = 're_nid_c'")
    scratch.migrate(scratch.conf(name, with_0018))
    assert sql_in(env, name, "SELECT string_agg(national_key, ',' ORDER BY returnee_id) "
                  "FROM fl.returnee") == "am7766554,am7766555,am1112223"


RELEASE_0035 = os.path.join(FIXTURES, "migrations-0035.tar.gz")


def relation_bytes(env, db, table):
    """The bytes of a table's file (its main fork, every segment), as PostgreSQL wrote them."""
    sql_in(env, db, "CHECKPOINT")
    path = sql_in(env, db, "SELECT pg_relation_filepath('%s')" % table)
    data = b""
    for seg in sorted(glob.glob(os.path.join(env.dir, "pg", "data", path + "*"))):
        if re.fullmatch(r".*/\d+(\.\d+)?", seg):
            with open(seg, "rb") as f:
                data += f.read()
    assert data, "no file for %s" % table
    return data


def test_plaintext_of_the_schema_before_encryption_is_sealed_and_rewritten(
        env, scratch, tmp_path, daemon_factory, admin):
    """A database of the schema before encryption (fixtures/migrations-0035.tar.gz, the
    migrations as they were), with returnees and a correction in plaintext, upgrades:
    fundd's step seals them before 0037 drops the plaintext columns, VACUUM FULL rewrites
    the tables, no byte of a name or national id is left in their files, and a daemon
    reads them back, history included (docs/privacy.md)."""
    with tarfile.open(RELEASE_0035) as t:
        t.extractall(tmp_path)
    name, conf = scratch.db("pre", migrations=str(tmp_path / "migrations-0035"))
    scratch.migrate(conf)
    names = ["Սիրանուշ Պետրոսյան", "Анна Лазарева", "Aram Kh-%s" % uniq("n")]
    nids = ["PRE-%s-%d" % (uniq("i").upper(), i) for i in range(3)]
    for i, (n, nid) in enumerate(zip(names, nids)):
        sql_in(env, name, "INSERT INTO fl.returnee (returnee_id, full_name, region, "
               "returned_from, returned_on, gender, birth_year, national_id, national_key) "
               "VALUES ('re_pre_%d', '%s', 'AM-SH', 'RU', '2026-01-01', 'female', 1980, "
               "'%s', lower('%s'))" % (i, n, nid, nid))
    sql_in(env, name, "UPDATE fl.returnee SET full_name = 'Aram Kh-corrected' "
           "WHERE returnee_id = 're_pre_2'")
    assert sql_in(env, name, "SELECT count(*) FROM fl.correction") == "1"
    assert names[0].encode() in relation_bytes(env, name, "fl.returnee")

    out = scratch.migrate(scratch.conf(name))
    assert "sealed the personal data of 3 returnees, 1 corrections" in out, out
    for t in ("fl.returnee", "fl.correction", "fl.idempotency"):
        assert "rewrote %s (VACUUM FULL)" % t in out, out
    for t in ("fl.returnee", "fl.correction"):
        data = relation_bytes(env, name, t)
        for v in names + nids + ["Aram Kh-corrected"]:
            assert v.encode() not in data and v.lower().encode() not in data, (t, v)

    d = daemon_factory("pre-upgraded", database_overrides(env, name))
    token = env.principal_add(uniq("pre-admin"), ["admin"], conf=d.conf)
    api = Client.api(d, token)
    for i, nid in enumerate(nids):
        r = api.ok("returnee.get", {"returnee_id": "re_pre_%d" % i})
        assert (r["full_name"], r["national_id"], r["gender"], r["birth_year"]) == (
            names[i] if i < 2 else "Aram Kh-corrected", nid, "female", 1980), r
        found = api.ok("returnee.find", {"national_id": nid.lower()})["returnees"]
        assert [x["returnee_id"] for x in found] == ["re_pre_%d" % i]
    h = api.ok("returnee.history", {"returnee_id": "re_pre_2"})["history"]
    assert [(x["fields"], x["old"], x["new"]) for x in h] == [
        (["full_name"], {"full_name": names[2]}, {"full_name": "Aram Kh-corrected"})], h


def test_sealing_plaintext_needs_the_key_file(env, scratch, tmp_path):
    """The upgrade that seals plaintext refuses to run without [privacy] key_file, naming
    it, and applies nothing: the plaintext stays as it was until a run with the key."""
    with tarfile.open(RELEASE_0035) as t:
        t.extractall(tmp_path)
    name, conf = scratch.db("nokey", migrations=str(tmp_path / "migrations-0035"))
    scratch.migrate(conf)
    sql_in(env, name, "INSERT INTO fl.returnee (returnee_id, full_name, region, "
           "returned_from, returned_on) VALUES ('re_nokey', 'No Key', 'AM-SH', 'RU', "
           "'2026-01-01')")
    nokey = env.write_conf(os.path.join(env.dir, "fundd-%s-nokey.conf" % name),
                           {"privacy": {"key_file": None}}, base=scratch.conf(name))
    p = env.fundd("migrate", conf=nokey, timeout=120)
    assert p.returncode != 0, p.stdout + p.stderr
    assert "key_file is required to seal" in p.stderr, p.stderr
    assert sql_in(env, name, "SELECT count(*) FROM fund_meta.migration WHERE name LIKE "
                  "'0036%'") == "0"
    assert sql_in(env, name, "SELECT full_name FROM fl.returnee") == "No Key"
    out = scratch.migrate(scratch.conf(name))
    assert "sealed the personal data of 1 returnees" in out, out
