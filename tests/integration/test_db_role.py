"""The database role of the daemon (docs/database-role.md): fundd_app may run the entry points
and read the two export views, nothing else; the roles a method needs come from fl.method,
never from the caller; and the books' invariants hold in the database even for the schema's
owner. Each attack of the issue runs in psql as the daemon's login, `fund`, and must be
refused, with the books intact afterwards."""

import pytest

from fl.client import api_of, create_principal
from fl.db import psql, psql_ok, refused, sql_lit
from fl.env import uniq
from fl.grants import apply, funded_fund, new_returnee
from fl.ledger import new_partner

# What fundd_app may use in schemas fl and api, and nothing more (PUBLIC: nothing at all).
ALLOWED_FUNCTIONS = {
    "api.access_record(bytea[],bytea[],text[],jsonb[])",
    "api.authorize(bytea,bytea,text,text,jsonb)",
    "api.document_download(bytea,bytea,text)",
    "api.document_upload(bytea,bytea,text,bytea,text,text,text)",
    "api.call(bytea,bytea,text,jsonb,text,jsonb)",
    "api.call_many(bytea[],bytea[],text[],jsonb[],text[],jsonb[])",
    "fl.audit_chain(integer)",
    "fl.audit_checkpoint_add(bigint,text,text,text,text)",
    "fl.audit_checkpoint_due(text)",
    "fl.ops_state()",
    "fl.erase_due(integer,integer)",
    "fl.fold_all()",
    "fl.alloc_catch_up_all()",
    "fl.method_diff(jsonb)",
    "fl.purge_idempotency(integer)",
    "fl.time_in(text)",
    "fl.ts(timestamp with time zone)",
}
# the export views' helpers: pure formatting, no table read
PURE_HELPERS = {"fl.time_in(text)", "fl.ts(timestamp with time zone)"}
ALLOWED_RELATIONS = {"fl.audit_export SELECT", "fl.ledger_export SELECT",
                     "fl.ledger_export_header SELECT"}


def as_daemon(env, script):
    """psql as the daemon's login; the CompletedProcess."""
    return psql(env, script, user="fund")


def assert_denied(p, what="permission denied"):
    assert p.returncode != 0 and what in p.stderr, (p.returncode, p.stdout, p.stderr)


def usable_by(env, role):
    """Every function, table, view and sequence of schemas fl and api that role may use."""
    out = psql_ok(env, """
SELECT 'function ' || replace(p.oid::regprocedure::text, ', ', ',')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('fl', 'api') AND has_function_privilege(%(r)s, p.oid, 'EXECUTE')
UNION ALL
SELECT 'relation ' || c.oid::regclass || ' ' || x.priv
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',
	'TRIGGER']) AS x(priv)
 WHERE n.nspname IN ('fl', 'api') AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
   AND CASE WHEN c.relkind IN ('r', 'v', 'm', 'p', 'f')
	    THEN has_table_privilege(%(r)s, c.oid, x.priv) OR (x.priv IN ('SELECT', 'INSERT',
	    'UPDATE', 'REFERENCES') AND has_any_column_privilege(%(r)s, c.oid, x.priv)) END
UNION ALL
SELECT 'sequence ' || c.oid::regclass
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('fl', 'api') AND c.relkind = 'S'
   AND CASE WHEN c.relkind = 'S'
	    THEN has_sequence_privilege(%(r)s, c.oid, 'USAGE,SELECT,UPDATE') END;
""" % {"r": sql_lit(role)})
    return sorted(l for l in out.splitlines() if l.strip())


def test_the_daemon_role_may_use_the_entry_points_only(env, daemon):
    expected = sorted(["function " + f for f in ALLOWED_FUNCTIONS] +
                      ["relation " + r for r in ALLOWED_RELATIONS])
    assert usable_by(env, "fundd_app") == expected
    assert usable_by(env, "fund") == expected   # the login, a member of fundd_app
    assert usable_by(env, "public") == []


def test_the_entry_points_run_as_the_owner_with_a_fixed_search_path(env, daemon):
    out = psql_ok(env, """
SELECT replace(p.oid::regprocedure::text, ', ', ','), p.prosecdef,
       coalesce(array_to_string(p.proconfig, ' '), ''), pg_get_userbyid(p.proowner) =
       (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'fl')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('fl', 'api') AND has_function_privilege('fundd_app', p.oid, 'EXECUTE');
""")
    rows = {l.split("|")[0]: l.split("|")[1:] for l in out.splitlines() if l.strip()}
    assert set(rows) == ALLOWED_FUNCTIONS
    for fn, (secdef, config, owned) in rows.items():
        assert owned == "t", fn
        if fn in PURE_HELPERS:
            continue
        assert secdef == "t", "%s is not SECURITY DEFINER" % fn
        assert config.startswith("search_path=pg_catalog"), (fn, config)


def test_new_functions_are_not_public(env):
    """The owner's default privileges: a function it creates is executable by nobody else
    until fl.apply_privileges() grants it (0001's IN SCHEMA revoke did nothing)."""
    out = psql_ok(env, """
BEGIN;
CREATE FUNCTION fl.test_probe() RETURNS int LANGUAGE sql AS 'SELECT 1';
SELECT has_function_privilege('public', 'fl.test_probe()', 'EXECUTE'),
       has_function_privilege('fundd_app', 'fl.test_probe()', 'EXECUTE');
ROLLBACK;
""")
    assert out.split() == ["f|f"], out


@pytest.fixture(scope="module")
def books(env, daemon, admin):
    """An admin, two approvers, a partner principal, a funded fund with dual approval above
    50.00, a returnee and a grant of 80.00 on it, approved once (one of two)."""
    a = api_of(daemon, create_principal(daemon, admin, ["admin"], name=uniq("role-admin")))
    ap1 = api_of(daemon, create_principal(daemon, admin, ["approver"], name=uniq("role-ap")))
    ap2 = create_principal(daemon, admin, ["approver"], name=uniq("role-ap"))
    pa = new_partner(a)
    partner = create_principal(daemon, admin, ["partner"], name=uniq("role-partner"),
                               partner_id=pa["partner_id"])
    f = funded_fund(a, received="1000.00", dual="50.00")
    r = new_returnee(a)
    g = apply(a, f, amount="80.00", returnee=r)
    assert g["approvals_needed"] == 2, g
    g = ap1.ok("grant.approve", {"grant_id": g["grant_id"]})
    assert g["status"] == "submitted" and len(g["approvals"]) == 1, g
    return {"api": a, "fund": f, "returnee": r, "grant": g, "partner": partner,
            "approver2": ap2["principal_id"]}


def invariants(env, books):
    """The books as the database holds them: every entry balances, the fund's figures (row
    plus deltas) are the journal's, and the test's grant is still one approval short."""
    code = sql_lit(books["fund"]["code"])
    out = psql_ok(env, """
SELECT count(*) FROM (SELECT 1 FROM fl.posting GROUP BY entry_id, currency
		       HAVING sum(amount) <> 0) x;
SELECT fl.fund_balance_json(fl.fund_current(f)) = fl.fund_balance_from_journal(f.code)
  FROM fl.fund f WHERE f.code = %s;
SELECT received, committed FROM fl.fund_current((SELECT f FROM fl.fund f WHERE code = %s));
SELECT status, committed FROM fl.grant_application WHERE grant_id = %s;
""" % (code, code, sql_lit(books["grant"]["grant_id"])))
    assert out.split() == ["0", "t", "100000|0", "submitted|0"], out
    tb = books["api"].ok("ledger.trial_balance", {"currency": "EUR"})
    assert tb["totals"]["debit"] == tb["totals"]["credit"], tb["totals"]


def test_unbalanced_entry_by_the_constraints_trick_refused(env, books):
    code = books["fund"]["code"]
    p = as_daemon(env, """
BEGIN;
INSERT INTO fl.journal_entry (kind, memo, fund_code) VALUES ('test', 'trick', %(c)s);
INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency)
SELECT currval('fl.journal_entry_entry_id_seq'), s.i, a.account_id, s.amt, a.currency
  FROM (VALUES (1, 'cash', 100), (2, 'contributions', -100)) s(i, short, amt)
  JOIN fl.account a ON a.fund_code = %(c)s AND a.short = s.short;
SET CONSTRAINTS ALL IMMEDIATE;
INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency)
SELECT currval('fl.journal_entry_entry_id_seq'), 3, account_id, -500000, currency
  FROM fl.account WHERE fund_code = %(c)s AND short = 'contributions';
COMMIT;
""" % {"c": sql_lit(code)})
    assert_denied(p)
    invariants(env, books)


def test_balance_deltas_without_the_journal_refused(env, books):
    code = sql_lit(books["fund"]["code"])
    assert_denied(as_daemon(env, "INSERT INTO fl.fund_delta (fund_code, received, earnings, "
                            "pledged, committed, disbursed) VALUES (%s, 500000, 0, 0, 0, 0);"
                            % code))
    assert_denied(as_daemon(env, "INSERT INTO fl.fund (code, name, currency, kind, "
                            "dual_approval_above, received) VALUES (%s, 'rich', 'EUR', "
                            "'pass_through', 0, 500000);"
                            % sql_lit(uniq("RICH").upper().replace("_", "-")[:32])))
    assert_denied(as_daemon(env, "UPDATE fl.fund SET received = received + 500000 "
                            "WHERE code = %s;" % code))
    invariants(env, books)


def test_approval_with_one_decision_refused(env, books):
    gid = sql_lit(books["grant"]["grant_id"])
    assert_denied(as_daemon(env, "UPDATE fl.grant_application SET status = 'approved', "
                            "committed = amount WHERE grant_id = %s;" % gid))
    assert_denied(as_daemon(env, "INSERT INTO fl.grant_decision (grant_id, principal_id, "
                            "decision) SELECT %s, principal_id, 'approve' FROM fl.principal "
                            "LIMIT 1;" % gid))
    invariants(env, books)


def test_no_token_hash_and_no_roles_of_the_callers_choosing(env, books):
    """A partner's token hash is not readable; and with it (read here as the owner) api.call
    checks the roles fl.method says returnee.list needs: the partner is refused, and no
    returnee's name comes back."""
    pid = sql_lit(books["partner"]["principal_id"])
    assert_denied(as_daemon(env, "SELECT token_hash FROM fl.principal;"))
    assert_denied(as_daemon(env, "SELECT principal_id FROM fl.principal;"))
    h = psql_ok(env, "SELECT encode(token_hash, 'hex') FROM fl.principal "
                     "WHERE principal_id = %s;" % pid).strip()
    assert len(h) == 64
    # the old entry point, that took the roles from its caller, is gone
    p = as_daemon(env, "SELECT api.call(decode('%s', 'hex'), NULL, 'returnee.list', '{}', "
                       "'{}', NULL, '{}');" % h)
    assert p.returncode != 0 and "does not exist" in p.stderr, p.stderr
    p = as_daemon(env, "SELECT api.call(decode('%s', 'hex'), NULL, 'returnee.list', '{}', "
                       "NULL, '{}');" % h)
    assert p.returncode == 0, p.stderr
    assert '"reason": "role_required"' in p.stdout, p.stdout
    assert books["returnee"]["full_name"] not in p.stdout
    assert '"roles": ["admin", "approver", "auditor"]' in p.stdout, p.stdout
    # the same through api.call_many and api.authorize
    p = as_daemon(env, "SELECT api.call_many(ARRAY[decode('%s', 'hex')], ARRAY[NULL::bytea], "
                       "ARRAY['returnee.list'], ARRAY['{}'::jsonb], ARRAY[NULL], "
                       "ARRAY['{}'::jsonb]);" % h)
    assert p.returncode == 0 and '"reason": "role_required"' in p.stdout, p.stdout + p.stderr
    p = as_daemon(env, "SELECT api.authorize(decode('%s', 'hex'), NULL, 'http.export_ledger', "
                       "NULL, NULL);" % h)
    assert p.returncode == 0 and '"reason": "role_required"' in p.stdout, p.stdout + p.stderr
    invariants(env, books)


@pytest.mark.parametrize("call", [
    "fl.fund_fold({code})",
    # a method function, with an admin principal of the caller's making
    "api.returnee_list(jsonb_populate_record(NULL::fl.principal, '{{\"principal_id\": "
    "\"pr_x\", \"name\": \"x\", \"roles\": [\"admin\"]}}'), '{{}}', '{{}}')",
    "api.grant_approve(jsonb_populate_record(NULL::fl.principal, '{{\"principal_id\": "
    "\"pr_x\", \"name\": \"x\", \"roles\": [\"approver\"]}}'), "
    "jsonb_build_object('grant_id', {grant}), '{{}}')",
    "fl.post(jsonb_populate_record(NULL::fl.fund, jsonb_build_object('code', {code})), "
    "'test', '', NULL, NULL, ARRAY['cash', 'contributions'], ARRAY[1, -2]::bigint[])",
    "fl.authenticate(NULL, NULL)",
    "fl.rebuild_dispatch()",
    "fl.method_set('{{}}')",
    "fl.apply_privileges()",
    "fl.audit_record('pr_x', 'fund.create', NULL, NULL, NULL, sha256(''))",
    "fl.new_id('x')",
])
def test_internal_functions_refused(env, books, call):
    sql = "SELECT " + call.format(code=sql_lit(books["fund"]["code"]),
                                  grant=sql_lit(books["grant"]["grant_id"])) + ";"
    p = as_daemon(env, sql)
    assert_denied(p, "permission denied for function")
    invariants(env, books)


# --------------------------------------------------------------------------------------------
# The invariants hold for the owner too (or a SECURITY DEFINER function with a bug)


def test_a_posting_after_the_balance_check_fails(env, books):
    code = sql_lit(books["fund"]["code"])
    memo = uniq("late-posting")
    err = refused(env, """
INSERT INTO fl.journal_entry (kind, memo, fund_code) VALUES ('test', %(m)s, %(c)s);
INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency)
SELECT currval('fl.journal_entry_entry_id_seq'), s.i, a.account_id, s.amt, a.currency
  FROM (VALUES (1, 'cash', 100), (2, 'contributions', -100)) s(i, short, amt)
  JOIN fl.account a ON a.fund_code = %(c)s AND a.short = s.short;
SET CONSTRAINTS ALL IMMEDIATE;
INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency)
SELECT currval('fl.journal_entry_entry_id_seq'), 3, account_id, -500000, currency
  FROM fl.account WHERE fund_code = %(c)s AND short = 'contributions';
COMMIT;
""" % {"c": code, "m": sql_lit(memo)})
    assert "after its balance check" in err, err
    # the control: without the late posting it commits (and is rolled back here)
    out = psql_ok(env, """
BEGIN;
INSERT INTO fl.journal_entry (kind, memo, fund_code) VALUES ('test', %(m)s, %(c)s);
INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency)
SELECT currval('fl.journal_entry_entry_id_seq'), s.i, a.account_id, s.amt, a.currency
  FROM (VALUES (1, 'cash', 100), (2, 'contributions', -100)) s(i, short, amt)
  JOIN fl.account a ON a.fund_code = %(c)s AND a.short = s.short;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT 'CHECKED';
ROLLBACK;
""" % {"c": code, "m": sql_lit(memo)})
    assert "CHECKED" in out
    assert psql_ok(env, "SELECT count(*) FROM fl.journal_entry WHERE memo = %s;"
                   % sql_lit(memo)).strip() == "0"
    invariants(env, books)


def test_a_new_fund_has_zero_figures(env, books):
    for col in ("received", "earnings", "pledged", "committed", "disbursed", "transferred_in",
                "transferred_out"):
        err = refused(env, "INSERT INTO fl.fund (code, name, currency, kind, "
                      "dual_approval_above, %s) VALUES (%s, 'x', 'EUR', 'pass_through', 0, "
                      "5);" % (col, sql_lit(uniq("Z").upper().replace("_", "-")[:32])))
        assert "figures are zero" in err, err
    out = psql_ok(env, "BEGIN;\nINSERT INTO fl.fund (code, name, currency, kind, "
                  "dual_approval_above) VALUES (%s, 'x', 'EUR', 'pass_through', 0);\n"
                  "SELECT 'INSERTED';\nROLLBACK;\n"
                  % sql_lit(uniq("Z").upper().replace("_", "-")[:32]))
    assert "INSERTED" in out


def test_balance_deltas_come_from_the_journal_only(env, books):
    code = sql_lit(books["fund"]["code"])
    err = refused(env, "INSERT INTO fl.fund_delta (fund_code, received, earnings, pledged, "
                  "committed, disbursed) VALUES (%s, 500000, 0, 0, 0, 0);" % code)
    assert "come from journal postings only" in err, err
    err = refused(env, "UPDATE fl.fund_delta SET received = received + 1;")
    assert "come from journal postings only" in err, err
    invariants(env, books)


def test_an_approval_needs_its_decisions_and_its_commitment(env, books):
    g = books["grant"]
    gid = sql_lit(g["grant_id"])
    # one decision of the two the grant needs
    err = refused(env, "UPDATE fl.grant_application SET status = 'approved', committed = "
                  "amount, decided_at = now() WHERE grant_id = %s;" % gid)
    assert "is approved only with 2 approvals and its commitment" in err, err
    # both decisions, but no commitment entry
    second = books["approver2"]
    err = refused(env, "INSERT INTO fl.grant_decision (grant_id, principal_id, decision) "
                  "VALUES (%s, %s, 'approve');\nUPDATE fl.grant_application SET status = "
                  "'approved', committed = amount WHERE grant_id = %s;"
                  % (gid, sql_lit(second), gid))
    assert "its commitment" in err, err
    # a grant cannot be born approved, nor with the rule of another amount
    for cols, vals in (("status", "'approved'"), ("approvals_needed", "1")):
        err = refused(env, "INSERT INTO fl.grant_application (returnee_id, fund_code, region, "
                      "amount, category, purpose, approvals_needed, created_by, %s) SELECT "
                      "returnee_id, fund_code, region, amount, category, purpose, 2, "
                      "created_by, %s FROM fl.grant_application WHERE grant_id = %s;"
                      % (cols, vals, gid) if cols == "status" else
                      "INSERT INTO fl.grant_application (returnee_id, fund_code, region, "
                      "amount, category, purpose, approvals_needed, created_by) SELECT "
                      "returnee_id, fund_code, region, amount, category, purpose, 1, "
                      "created_by FROM fl.grant_application WHERE grant_id = %s;" % gid)
        assert "a new grant is submitted" in err, err
    invariants(env, books)
