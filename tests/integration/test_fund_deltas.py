"""Fund balance figures: every INSERT of postings appends a delta per fund; the daemon folds
deltas into the fund row in the background; the daemon's role can neither set the figures
nor drop deltas (docs/ledger.md, Balances)."""

import subprocess
import time

from fl.env import DEVENV, ROOT, uniq
from fl.client import call


def _fund(daemon, admin):
    code = uniq("FD").upper().replace("_", "-")[:32]
    call(daemon, admin, "fund.create", {"code": code, "name": "deltas",
         "currency": "EUR", "kind": "pass_through", "dual_approval_above": "0"})
    pa = call(daemon, admin, "partner.create", {"name": "D", "country": "AM",
              "kind": "individual"})["partner_id"]
    return code, pa


def test_daemon_folds_deltas_in_the_background(env, daemon, admin):
    code, pa = _fund(daemon, admin)
    for amount in ("10.00", "2.50"):
        call(daemon, admin, "contribution.receive", {"partner_id": pa, "fund": code,
             "amount": amount, "currency": "EUR"})
    call(daemon, admin, "fund.record_earnings", {"code": code, "amount": "1.25",
         "period": "Q"})
    # the answer is current whether or not the deltas were folded yet
    bal = call(daemon, admin, "fund.balance", {"code": code})
    assert (bal["received"], bal["earnings"], bal["available"]) == ("12.50", "1.25", "13.75")
    # worker 0 folds every second (server.c, SERVER_HOUSE_S): folded within a few, under
    # the sanitizers too
    deadline = time.time() + 6
    while env.sql("SELECT count(*) FROM fl.fund_delta WHERE fund_code = '%s'"
                  % code).strip() != "0":
        assert time.time() < deadline, "deltas were not folded"
        time.sleep(0.5)
    assert env.sql("SELECT received, earnings FROM fl.fund WHERE code = '%s'"
                   % code).strip() == "1250|125"
    assert call(daemon, admin, "fund.balance", {"code": code}) == bal


def _as_daemon_role(env, sql):
    p = subprocess.run([DEVENV, "psql", env.dir, "-At", "-c",
                        "SET ROLE fundd_app; " + sql],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stderr


def test_daemon_role_cannot_set_figures_or_drop_deltas(env, daemon, admin):
    code, pa = _fund(daemon, admin)
    call(daemon, admin, "contribution.receive", {"partner_id": pa, "fund": code,
         "amount": "5.00", "currency": "EUR"})
    for sql in ("UPDATE fl.fund SET received = 999999 WHERE code = '%s'" % code,
                "DELETE FROM fl.fund_delta WHERE fund_code = '%s'" % code,
                "UPDATE fl.fund_delta SET received = 0 WHERE fund_code = '%s'" % code):
        rc, err = _as_daemon_role(env, sql)
        assert rc != 0 and "permission denied" in err, (sql, rc, err)
    assert call(daemon, admin, "fund.balance", {"code": code})["received"] == "5.00"


def test_fold_keeps_the_check_constraints(env, daemon, admin):
    """A delta that would take available below zero is refused when folded."""
    code, pa = _fund(daemon, admin)
    # deltas come from postings only (fl.fund_delta_guard): the guard is off for this one
    env.sql_script("BEGIN;\nALTER TABLE fl.fund_delta DISABLE TRIGGER fund_delta_guard;\n"
                   "INSERT INTO fl.fund_delta (fund_code, received, earnings, pledged, "
                   "committed, disbursed) VALUES ('%s', 0, 0, 0, 100, 0);\n"
                   "ALTER TABLE fl.fund_delta ENABLE TRIGGER fund_delta_guard;\nCOMMIT;\n"
                   % code)
    p = subprocess.run([DEVENV, "psql", env.dir, "-At", "-c",
                        "SELECT fl.fund_fold('%s')" % code],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "available_not_negative" in p.stderr, p.stderr
    # the housekeeping fold skips that fund with a warning and folds the others
    other, pa2 = _fund(daemon, admin)
    call(daemon, admin, "contribution.receive", {"partner_id": pa2, "fund": other,
         "amount": "3.00", "currency": "EUR"})
    p = subprocess.run([DEVENV, "psql", env.dir, "-At", "-c", "SELECT fl.fold_all()"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "breaks" in p.stderr and code in p.stderr, p.stderr
    assert env.sql("SELECT received FROM fl.fund WHERE code = '%s'" % other).strip() == "300"
    env.sql("DELETE FROM fl.fund_delta WHERE fund_code = '%s'" % code)


def test_idempotency_keys_kept_30_days_then_purged(env, daemon, admin):
    """Keys younger than 30 days replay; older ones are purged by the housekeeping function
    the daemon runs hourly (docs/ledger.md, Idempotency)."""
    key_old, key_new = uniq("old"), uniq("new")
    first = {}
    for k in (key_old, key_new):
        first[k] = call(daemon, admin, "partner.create", {"name": "P " + k,
                        "country": "AM", "kind": "individual",
                        "idempotency_key": k})["partner_id"]
    env.sql("UPDATE fl.idempotency SET created_at = now() - interval '31 days' "
            "WHERE key = '%s'" % key_old)
    env.sql("UPDATE fl.idempotency SET created_at = now() - interval '29 days' "
            "WHERE key = '%s'" % key_new)
    while int(env.sql("SELECT fl.purge_idempotency(1000)").strip()) == 1000:
        pass
    left = env.sql("SELECT key FROM fl.idempotency WHERE key IN ('%s', '%s')"
                   % (key_old, key_new)).split()
    assert left == [key_new]
    again = call(daemon, admin, "partner.create", {"name": "P " + key_new,
                 "country": "AM", "kind": "individual", "idempotency_key": key_new})
    assert again["partner_id"] == first[key_new]     # a replay: nothing new was created


def test_idempotency_purge_drops_a_bounded_batch_oldest_first(env, daemon, admin):
    """However many keys have aged, one purge call drops at most its limit, the oldest
    first, so that it stays within the daemon's statement timeout; the daemon calls again
    while a call drops a full batch."""
    keys = [uniq("aged") for _ in range(3)]
    for k in keys:
        call(daemon, admin, "partner.create", {"name": "P " + k, "country": "AM",
             "kind": "individual", "idempotency_key": k})
    for days, k in zip((40, 35, 33), keys):
        env.sql("UPDATE fl.idempotency SET created_at = now() - interval '%d days' "
                "WHERE key = '%s'" % (days, k))
    left = lambda: env.sql("SELECT key FROM fl.idempotency WHERE key IN (%s) ORDER BY "
                           "created_at" % ", ".join("'%s'" % k for k in keys)).split()
    # other tests' aged keys (none are older than these three) go in earlier batches
    env.sql("UPDATE fl.idempotency SET created_at = now() - interval '31 days' "
            "WHERE created_at < now() - interval '30 days' AND key NOT IN (%s)"
            % ", ".join("'%s'" % k for k in keys))
    assert int(env.sql("SELECT fl.purge_idempotency(2)").strip()) == 2
    assert left() == [keys[2]]
    while int(env.sql("SELECT fl.purge_idempotency(2)").strip()) == 2:
        pass
    assert left() == []


def test_one_delta_per_fund_for_each_insert_of_postings(env, daemon, admin):
    """An INSERT of postings appends one delta per fund, whatever the number
    of its entries (a set form writes a run of receipts with one), and the deltas still sum
    to the journal's movements; the entries' checks still run at commit."""
    a, _ = _fund(daemon, admin)
    b, _ = _fund(daemon, admin)
    out = env.sql_script("""
BEGIN;
SELECT fl.post_many('receipt', 'receipt ', ARRAY['%(a)s', '%(a)s', '%(a)s', '%(b)s'],
    ARRAY['r1', 'r2', 'r3', 'r4'], ARRAY[p, p, p, p], 'cash', 'contributions',
    ARRAY[100, 200, 300, 400]::bigint[])
  FROM (SELECT principal_id AS p FROM fl.principal ORDER BY created_at LIMIT 1) x;
SELECT fl.post(f, 'earnings', 'earnings Q', 'Q', NULL, ARRAY['cash', 'earnings'],
    ARRAY[25, -25]::bigint[]) > 0 FROM fl.fund f WHERE code = '%(a)s';
SET CONSTRAINTS ALL IMMEDIATE;
SELECT 'delta', fund_code, received, earnings, pledged, committed, disbursed
  FROM fl.fund_delta WHERE fund_code IN ('%(a)s', '%(b)s') ORDER BY delta_id;
SELECT 'journal', count(*) FROM fl.journal_entry WHERE fund_code IN ('%(a)s', '%(b)s');
ROLLBACK;
""" % {"a": a, "b": b})
    # (the funds' codes are random: the order of the first two rows is theirs)
    rows = [l for l in out.splitlines() if l.startswith(("delta|", "journal|"))]
    assert sorted(rows) == sorted(["delta|%s|600|0|0|0|0" % a, "delta|%s|400|0|0|0|0" % b,
                                   "delta|%s|0|25|0|0|0" % a, "journal|5"]), out
    # an entry that does not balance is still refused, at its check
    p = subprocess.run([DEVENV, "psql", env.dir, "-At", "-c",
                        "SELECT fl.post(f, 'earnings', 'bad', 'Q', NULL, "
                        "ARRAY['cash', 'earnings'], ARRAY[25, -24]::bigint[]) "
                        "FROM fl.fund f WHERE code = '%s'" % a],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "does not balance" in p.stderr, p.stderr
    assert call(daemon, admin, "fund.balance", {"code": a})["received"] == "0.00"
