"""A backup restored into another cluster (docs/operations.md, "Back up, restore and
verify"; docs/audit.md, "How chaining works", step 5): a pg_dump taken while writers run,
restored with pg_restore into a new PostgreSQL cluster, serves; audit.verify and fundctl
audit verify pass on it, an export taken before the backup is a prefix of one taken after,
and the chain keeps advancing on the copy while its write transactions overlap (the pending
limit the dump carries holds a transaction id of the old cluster, which no transaction of
the new one can pass)."""

import os
import subprocess
import threading
import time

from fl.audit import export_to, parse_export, verify_file
from fl.client import Client
from fl.db import database_overrides, dsn_of, psql_bin
from fl.env import Env, free_port, uniq
from fl.ledger import new_fund, new_partner

PG_BIN = os.path.dirname(psql_bin())


class Load:
    """Writers on their own connections, each receiving contributions in a loop until
    stopped: transactions that overlap all the time."""

    def __init__(self, daemon, token, fund, partner, n=6):
        self.stop_ev = threading.Event()
        self.ok = 0
        self.errors = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(daemon, token, fund, partner))
                        for _ in range(n)]

    def run(self, daemon, token, fund, partner):
        c = Client.api(daemon, token)
        try:
            while not self.stop_ev.is_set():
                doc = c.reply("contribution.receive", {
                    "partner_id": partner, "fund": fund, "amount": "1.00", "currency": "EUR"})
                with self.lock:
                    if "result" in doc:
                        self.ok += 1
                    else:
                        self.errors.append(doc.get("error"))
        finally:
            c.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        for t in self.threads:
            t.join(60)
        assert not self.errors, self.errors[:3]


def state(sql, db):
    """fl.audit_state of database db, and whether its pending transaction id is one the
    cluster has not handed out yet."""
    out = sql("SELECT covered_seq, pend_seq, pend_xid IS NOT NULL AND pend_xid >= "
              "pg_snapshot_xmax(pg_current_snapshot()) FROM fl.audit_state", db).strip()
    covered, pend, foreign = out.split("|")
    return int(covered), (int(pend) if pend else None), foreign == "t"


def verify(api):
    v = api.ok("audit.verify")
    assert v["ok"] is True, v
    return v


def test_a_backup_taken_under_load_restores_verifies_and_keeps_chaining(env, daemon_factory,
                                                                         tmp_path):
    # the source: a database of its own, whose chainer runs every 2 s, so that a pending
    # limit is held most of the time while writers run
    db = "restore_src_" + uniq("d").replace("-", "_").lower()
    env.sql("CREATE DATABASE %s OWNER fund_owner" % db)
    ov = database_overrides(env, db)
    ov["audit"] = {"chain_interval_ms": 2000, "checkpoint_interval_s": 1}
    conf = env.write_conf(os.path.join(env.dir, "fundd-%s.conf" % db), ov)
    p = env.fundd("migrate", conf=conf, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    admin = env.principal_add(uniq("restore-admin"), ["admin"], conf=conf)
    src = daemon_factory("restore-src", ov)
    api = Client.api(src, admin)
    fund = new_fund(api)["code"]
    partner = new_partner(api)["partner_id"]
    pub = os.path.join(env.tls, "audit-ed25519.pub")

    def src_sql(q, d=db):
        return env.sql_script("\\c %s\n%s;\n" % (d, q))

    before = str(tmp_path / "before.jsonl")
    with Load(src, admin, fund, partner) as load:
        deadline = time.monotonic() + 30
        while state(src_sql, db)[0] < 50:     # the chain covers a part of the load
            assert time.monotonic() < deadline, "the source's chain did not advance"
            time.sleep(0.1)
        # an export taken before the backup, and the backup itself, while writers run and
        # the source holds a pending limit
        export_to(src, admin, before)
        deadline = time.monotonic() + 20
        while state(src_sql, db)[1] is None:
            assert time.monotonic() < deadline, "the source never held a pending limit"
            time.sleep(0.05)
        dump = str(tmp_path / "fund.dump")
        src_dsn = dsn_of(env.conf)
        d = subprocess.run([os.path.join(PG_BIN, "pg_dump"), "-h", src_dsn["host"], "-p",
                            src_dsn["port"], "-U", "fund_owner", "-Fc", "-f", dump, db],
                           capture_output=True, text=True, timeout=300)
        assert d.returncode == 0, d.stderr
    assert load.ok > 0
    p = verify_file(before, pub)
    assert p.returncode == 0 and p.stdout.startswith("ok"), (p.stdout, p.stderr)

    # a new cluster, and the backup restored into a database of it
    other = Env(os.path.join(env.dir, "restore-cluster"))
    upgrade_from = os.environ.pop("FUND_UPGRADE_FROM", None)   # a plain new cluster
    try:
        other.up(free_port())
    finally:
        if upgrade_from is not None:
            os.environ["FUND_UPGRADE_FROM"] = upgrade_from
    try:
        other.sql("CREATE DATABASE restored OWNER fund_owner")
        host = dsn_of(other.conf)["host"]
        port = dsn_of(other.conf)["port"]
        r = subprocess.run([os.path.join(PG_BIN, "pg_restore"), "-h", host, "-p", port,
                            "-U", "fund_owner", "-d", "restored", "--exit-on-error", dump],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr

        def copy_sql(q, d="restored"):
            return other.sql_script("\\c %s\n%s;\n" % (d, q))

        covered, pend, foreign = state(copy_sql, "restored")
        assert pend is not None and foreign, \
            "the dump should carry a pending limit of the old cluster: %r" % ((covered, pend,
                                                                             foreign),)
        restored_max = int(copy_sql("SELECT max(seq) FROM fl.audit_event", "restored"))

        # the copy served by a daemon with the source's keys, chaining every 100 ms
        cov = {"database": {
            "dsn": "host=%s port=%s dbname=restored user=fund" % (host, port),
            "migrate_dsn": "host=%s port=%s dbname=restored user=fund_owner" % (host, port)},
            "audit": {"chain_interval_ms": 100, "checkpoint_interval_s": 1}}
        copy = daemon_factory("restore-copy", cov)
        capi = Client.api(copy, admin)
        verify(capi)

        # a write transaction of the copy that stays open, as overlapping writers keep one
        # open at every instant: the pending limit restored with the dump is final all the
        # same, and the chain reaches it
        held = subprocess.Popen(
            [psql_bin(), "-X", "-q", "-h", host, "-p", port, "-U", "fund_owner", "-d",
             "restored", "-c", "BEGIN", "-c", "SELECT pg_current_xact_id()", "-c",
             "SELECT pg_sleep(60)"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while "pg_sleep" not in copy_sql("SELECT string_agg(query, ' ') FROM "
                                             "pg_stat_activity WHERE backend_xid IS NOT NULL",
                                             "restored"):
                assert time.monotonic() < deadline, "the held transaction did not start"
                time.sleep(0.05)
            deadline = time.monotonic() + 20
            while True:
                v = verify(capi)
                if v["head_seq"] >= pend:
                    break
                assert time.monotonic() < deadline, \
                    "the chain stopped at %d on the restored copy (its restored pending " \
                    "limit is %d): %r" % (v["head_seq"], pend, v)
                time.sleep(0.1)
        finally:
            held.kill()
            held.wait()
            # (its backend would sleep on: end it)
            copy_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query "
                     "LIKE 'SELECT pg_sleep%'", "restored")

        # writers that overlap all the time, then everything chained
        with Load(copy, admin, fund, partner):
            time.sleep(2)
        deadline = time.monotonic() + 30
        while True:
            v = verify(capi)
            if v["unchained"] == 0:
                break
            assert time.monotonic() < deadline, v
            time.sleep(0.1)
        assert v["oldest_unchained_at"] is None, v

        # offline: the export after the restore verifies, and the one taken before the
        # backup is its prefix, hash for hash
        after = str(tmp_path / "after.jsonl")
        export_to(copy, admin, after)
        p = verify_file(after, pub)
        assert p.returncode == 0 and p.stdout.startswith("ok"), (p.stdout, p.stderr)
        with open(before) as f:
            b = {d["seq"]: d for d in parse_export(f.read().splitlines())
                 if d.get("type") == "event" and d.get("hash")}
        with open(after) as f:
            a = {d["seq"]: d for d in parse_export(f.read().splitlines())
                 if d.get("type") == "event"}
        assert b and all(a.get(s, {}).get("hash") == e["hash"] for s, e in b.items())
        assert max(a) > restored_max
    finally:
        other.devenv("destroy", other.dir, check=False, timeout=120)
