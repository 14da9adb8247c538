"""What migration 0008_hot_path.sql changed for speed, held in place: the one-column checks
of the tables every mutation writes are domains (read once per session, where a CHECK is
read and planned again by every INSERT), no check there uses a regular expression with a
large bounded repetition (PostgreSQL expands '{1,128}' into 128 states), and the database
plans with random_page_cost 1.1, so lookups in its small tables use their keys. And the
database still refuses exactly what the CHECKs refused, at both sides of every bound.
Also 0010_fund_fillfactor.sql: fund pages keep room for the versions of their rows."""

import os
import re

import pytest

from fl.client import api_of
from fl.env import ROOT
from fl.db import psql, sql_lit
from fl.ledger import new_fund, new_partner

HOT_TABLES = ("audit_event", "journal_entry", "posting", "contribution", "idempotency",
              "fund_delta")


def test_hot_tables_check_single_columns_with_domains(env, daemon):
    rows = env.sql(
        "SELECT c.relname || ' ' || k.conname FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'fl' AND k.contype = 'c' AND cardinality(k.conkey) = 1 "
        "AND c.relname IN (%s)" % ",".join(sql_lit(t) for t in HOT_TABLES)).split("\n")
    assert [r for r in rows if r] == [], "one-column CHECKs on tables written per call"
    domains = env.sql(
        "SELECT c.relname || '.' || a.attname || ' ' || t.typname FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_type t ON t.oid = a.atttypid WHERE n.nspname = 'fl' AND t.typtype = 'd' "
        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1").split("\n")
    for col in ("audit_event.principal_id ident", "audit_event.method method_name",
                "audit_event.object_id ident", "audit_event.reason reason_code",
                "audit_event.outcome audit_outcome", "audit_event.params_sha256 sha256",
                "journal_entry.kind entry_kind", "journal_entry.memo memo",
                "posting.amount posting_amount", "contribution.amount positive_amount",
                "contribution.fund_amount positive_amount",
                "contribution.fx_rate positive_rate",
                "contribution.status contribution_status", "contribution.bank_ref bank_ref",
                "idempotency.key idempotency_key"):
        assert col in domains, (col, domains)


def test_no_large_bounded_repetition_in_hot_checks(env, daemon):
    defs = env.sql(
        "SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k "
        "JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = 'fl' "
        "AND k.contype = 'c' AND (k.contypid <> 0 OR k.conrelid IN (SELECT c.oid "
        "FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname IN (%s)))"
        % ",".join(sql_lit(t) for t in HOT_TABLES))
    assert "~" in defs, defs  # the query found the regular expressions
    big = [m.group(0) for m in re.finditer(r"\{(\d+),(\d+)\}", defs) if int(m.group(2)) > 8]
    assert not big, "bounded repetitions cost one regex state each: %r" % big


def test_the_database_plans_with_random_page_cost_1_1(env, daemon):
    # a new session of the daemon's role, as the daemon's own connections are
    out = env.sql("SET ROLE fundd_app; SHOW random_page_cost;")
    assert out.strip().splitlines()[-1] == "1.1", out
    # (as the owner: the daemon's role reads no table itself, its entry points run as the
    # owner, in the same database setting)
    plan = env.sql("EXPLAIN SELECT minor_unit FROM fl.currency WHERE code = 'EUR';")
    assert "Index Scan using currency_pkey" in plan, plan


def test_planner_setting_warns_and_goes_on_for_a_role_that_does_not_own_the_database(env,
                                                                                   daemon):
    """0008 sets random_page_cost on the database, which only its owner may do. Migrated by
    another role, that step warns with the command to run, and the migration goes on. Its
    DO block, taken from the file, run as the daemon's role (which owns nothing)."""
    path = os.path.join(ROOT, "migrations", "0008_hot_path.sql")
    with open(path) as f:
        text = f.read()
    m = re.search(r"^DO \$\$\n.*?\n\$\$;\n", text, re.S | re.M)
    assert m and "ALTER DATABASE" in m.group(0), "0008's DO block not found"
    r = psql(env, "SET ROLE fundd_app;\n" + m.group(0) + "SELECT 'went on';\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("went on"), r.stdout
    assert "WARNING:  random_page_cost stays as it is: as the owner of database fund, run " \
        '"ALTER DATABASE fund SET random_page_cost = 1.1"' in r.stderr, r.stderr
    # and the owner's setting is still there
    assert env.sql("SET ROLE fundd_app; SHOW random_page_cost;").strip().splitlines()[-1] \
        == "1.1"


def _event_sql(col, value):
    cols = {"principal_id": "'pr_x'", "method": "'a.b'", "object_id": "NULL",
            "outcome": "'ok'", "reason": "NULL", "params_sha256": "sha256('x')"}
    cols[col] = value
    if col == "reason":
        cols["outcome"], cols["error_code"] = "'refused'", "-32003"
    names = ", ".join(cols)
    return ("BEGIN;\nINSERT INTO fl.audit_event (%s) VALUES (%s);\nROLLBACK;\n"
            % (names, ", ".join(cols.values())))


@pytest.mark.parametrize("col,value,ok", [
    ("principal_id", sql_lit("p" * 128), True),
    ("principal_id", sql_lit("p" * 129), False),
    ("principal_id", "''", False),
    ("principal_id", sql_lit("pr x"), False),
    ("object_id", sql_lit("co_" + "a" * 125), True),
    ("object_id", sql_lit("co_" + "a" * 126), False),
    ("object_id", sql_lit("a.b:c-d_e"), True),
    ("object_id", sql_lit("a/b"), False),
    ("method", sql_lit("contribution." + "r" * 62), True),
    ("method", sql_lit("contribution." + "r" * 63), False),
    ("method", sql_lit("contribution."), False),
    ("method", sql_lit("contribution.receive.x"), False),
    ("method", sql_lit("Contribution.receive"), False),
    ("reason", sql_lit("r" * 64), True),
    ("reason", sql_lit("r" * 65), False),
    ("reason", sql_lit("Bad"), False),
    ("outcome", sql_lit("maybe"), False),
    ("params_sha256", "'\\x00'::bytea", False),
])
def test_audit_event_refuses_what_its_checks_refused(env, daemon, col, value, ok):
    p = psql(env, _event_sql(col, value))
    if ok:
        assert p.returncode == 0, p.stderr
    else:
        assert p.returncode != 0 and "violates check constraint" in p.stderr, p.stderr


@pytest.fixture(scope="module")
def entry(env, daemon, admin):
    api = api_of(daemon, {"token": admin, "principal_id": None})
    f = new_fund(api, prefix="HP")
    pa = new_partner(api)
    c = api.ok("contribution.receive", {"partner_id": pa["partner_id"], "fund": f["code"],
                                        "amount": "5.00", "currency": "EUR"})
    return f["code"], c["contribution_id"]


@pytest.mark.parametrize("stmt", [
    "INSERT INTO fl.journal_entry (kind) VALUES (%s)" % sql_lit("k" * 33),
    "INSERT INTO fl.journal_entry (kind) VALUES ('Receipt')",
    "INSERT INTO fl.journal_entry (kind, memo) VALUES ('x', %s)" % sql_lit("m" * 576),
    "UPDATE fl.contribution SET bank_ref = '' WHERE contribution_id = {c}",
    "UPDATE fl.contribution SET bank_ref = %s WHERE contribution_id = {c}" % sql_lit("b" * 201),
    "INSERT INTO fl.idempotency (principal_id, key, method, params_sha256) SELECT "
    "principal_id, %s, 'a.b', sha256('x') FROM fl.principal LIMIT 1" % sql_lit("k" * 129),
    "INSERT INTO fl.idempotency (principal_id, key, method, params_sha256) SELECT "
    "principal_id, '', 'a.b', sha256('x') FROM fl.principal LIMIT 1",
    "INSERT INTO fl.contribution (partner_id, fund_code, status, amount, currency, "
    "fund_amount, received_at) SELECT partner_id, fund_code, 'received', 0, currency, 1, "
    "now() FROM fl.contribution WHERE contribution_id = {c}",
    "INSERT INTO fl.contribution (partner_id, fund_code, status, amount, currency, "
    "fund_amount, received_at) SELECT partner_id, fund_code, 'paid', 1, currency, 1, "
    "now() FROM fl.contribution WHERE contribution_id = {c}",
    "INSERT INTO fl.contribution (partner_id, fund_code, status, amount, currency, fx_rate, "
    "fund_amount, received_at) SELECT partner_id, fund_code, 'received', 1, currency, 0, 1, "
    "now() FROM fl.contribution WHERE contribution_id = {c}",
])
def test_other_hot_tables_refuse_what_their_checks_refused(env, entry, stmt):
    code, cid = entry
    # as the schema owner, in a transaction rolled back: only the domain can refuse it
    p = psql(env, "BEGIN;\nSET session_replication_role = replica;\n%s;\nROLLBACK;\n"
             % stmt.replace("{c}", sql_lit(cid)))
    assert p.returncode != 0 and "violates check constraint" in p.stderr, p.stderr


def test_posting_amount_zero_refused(env, entry):
    code, _ = entry
    p = psql(env, "BEGIN;\nINSERT INTO fl.journal_entry (kind, fund_code) VALUES ('test', %s);\n"
             "INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency) "
             "SELECT currval(pg_get_serial_sequence('fl.journal_entry', 'entry_id')), 1, "
             "account_id, 0, currency FROM fl.account WHERE name = %s;\nROLLBACK;\n"
             % (sql_lit(code), sql_lit(code + ":cash")))
    assert p.returncode != 0 and "violates check constraint" in p.stderr, p.stderr


def test_fund_pages_keep_room_for_row_versions(env, daemon):
    # 0010_fund_fillfactor.sql: approvals update one fund's row hundreds of times a second
    opts = env.sql("SELECT reloptions FROM pg_class WHERE oid = 'fl.fund'::regclass").strip()
    assert "fillfactor=20" in opts, opts
