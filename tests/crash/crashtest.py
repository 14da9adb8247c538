#!/usr/bin/python3
"""make crashtest: crash safety under load.

A mixed workload (contributions received, grants approved, disbursements created and
confirmed by another admin) runs from many connections, every call with an idempotency
key, while fundd is killed with SIGKILL at random moments, KILLS times, and restarted. A
call whose answer did not arrive is retried with the same key until it is answered.

At the end every call has been acknowledged, and the database must show each exactly once:
one contribution per receipt key, one decision per grant, one disbursement per grant, paid
once. Nothing is half-applied: the trial balance balances, every fund equals its journal,
and audit.verify is ok over the whole trail, with one audit event per object created.

With --db-faults it is the database that fails instead, under the same load and the same
end checks: PostgreSQL is stopped with -m immediate (a crash: recovery at the next start)
DB_CRASHES times for a second and started again, and between those the daemon's
connections are killed server-side (pg_terminate_backend) in the middle of their
transactions. fundd must stay up throughout (never restarted), answer -32050 while the
database is away (or -32051 for a call cut off after it was sent, whose outcome it cannot
know: retried with the same key, as the protocol says), and recover by itself.

With --soak SECONDS (make soak: 600) nothing fails: the same load, from 32 connections and
with reads mixed in, runs for that long while fundd's RSS, open descriptors and database
connections are sampled every 10 s. They must stay flat after the first minute, and the
same end checks hold.

Runs against a real PostgreSQL and the real daemon over TLS, in FUND_CRASH_DIR (default
var/crash, recreated). Prints the counts; exits 1 on any failure.
"""

import atexit
import itertools
import os
import queue
import random
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from fl.env import Daemon, Env, free_port, uniq  # noqa: E402
from fl.client import Client, create_principal, http_get  # noqa: E402
from fl.ledger import new_partner  # noqa: E402
from fl.grants import apply, funded_fund, new_returnee  # noqa: E402

KILLS = int(os.environ.get("CRASH_KILLS", "20"))
DB_CRASHES = int(os.environ.get("CRASH_DB_CRASHES", "4"))
TERMINATIONS = int(os.environ.get("CRASH_TERMINATIONS", "12"))
THREADS = int(os.environ.get("CRASH_THREADS", "16"))
RECEIPTS = int(os.environ.get("CRASH_RECEIPTS", "1500"))
GRANTS = int(os.environ.get("CRASH_GRANTS", "120"))
# -32051 (outcome unknown) too: the call is sent again with the same idempotency key
RETRYABLE = (-32050, -32051, -32029)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls = 0
        self.acked = 0
        self.retried = 0
        self.kills = 0
        self.unavailable = 0
        self.unknown = 0
        self.terminated = 0
        self.errors = []

    def add(self, **kw):
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)


class Killer(threading.Thread):
    """Kills fundd with SIGKILL at random moments and starts it again."""

    def __init__(self, daemon, stats, done):
        super().__init__(daemon=True)
        self.d = daemon
        self.stats = stats
        self.done = done
        self.up = threading.Event()
        self.up.set()

    def run(self):
        rnd = random.Random(int(os.environ.get("CRASH_SEED", "0")) or None)
        for _ in range(KILLS):
            time.sleep(rnd.uniform(0.3, 1.5))
            self.up.clear()
            self.d.proc.kill()
            self.d.proc.wait()
            self.stats.add(kills=1)
            time.sleep(rnd.uniform(0.0, 0.3))
            self.d.start(timeout=60)
            self.up.set()
        self.done.set()


class DbFaults(threading.Thread):
    """Crashes PostgreSQL (-m immediate) and starts it again; in between, kills the
    daemon's database connections in the middle of their work."""

    def __init__(self, env, daemon, stats, done):
        super().__init__(daemon=True)
        self.env = env
        self.d = daemon
        self.stats = stats
        self.done = done
        self.up = threading.Event()
        self.up.set()
        self.failures = []

    def run(self):
        rnd = random.Random(int(os.environ.get("CRASH_SEED", "0")) or None)
        terminations = [TERMINATIONS // DB_CRASHES] * DB_CRASHES
        for i in range(DB_CRASHES):
            for _ in range(terminations[i]):
                time.sleep(rnd.uniform(0.2, 0.6))
                out = self.env.sql("SELECT count(pg_terminate_backend(pid)) FROM "
                                   "pg_stat_activity WHERE usename = 'fund' AND state "
                                   "IN ('active', 'idle in transaction')")
                self.stats.add(terminated=int(out.strip() or 0))
            time.sleep(rnd.uniform(0.3, 1.0))
            self.env.devenv("pg-crash", self.env.dir)
            self.stats.add(kills=1)
            time.sleep(1.0)
            st, _, _ = http_get(self.d, "/healthz", timeout=5)
            if st != 503:
                self.failures.append("/healthz said %d with the database down" % st)
            self.env.pg_start()
            if self.d.proc.poll() is not None:
                self.failures.append("fundd exited while the database was down")
                break
        self.done.set()


class Soak(threading.Thread):
    """Lets the load run for `seconds`, sampling fundd every 10 s."""

    def __init__(self, env, daemon, seconds, done):
        super().__init__(daemon=True)
        self.env = env
        self.d = daemon
        self.seconds = seconds
        self.done = done
        self.up = threading.Event()
        self.up.set()
        self.samples = []

    def sample(self, t):
        pid = self.d.proc.pid
        with open("/proc/%d/status" % pid) as f:
            rss = next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))
        fds = len(os.listdir("/proc/%d/fd" % pid))
        conns = int(self.env.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = "
                                 "'fund'").strip())
        self.samples.append((t, rss, fds, conns))
        print("soak: %4.0f s  rss %6d kB  fds %4d  database connections %d" % (
            t, rss, fds, conns), flush=True)

    def run(self):
        t0 = time.monotonic()
        while time.monotonic() - t0 < self.seconds:
            time.sleep(min(10, max(0.1, self.seconds - (time.monotonic() - t0))))
            self.sample(time.monotonic() - t0)
        self.done.set()

    def check(self):
        """Flat after the first minute: RSS within 25% + 4 MB of its first settled sample,
        descriptors within 8, database connections unchanged."""
        settled = [s for s in self.samples if s[0] >= min(60, self.seconds / 2)]
        if len(settled) < 2:
            return ["too few samples to judge: %r" % self.samples]
        base, fails = settled[0], []
        if max(s[1] for s in settled) > base[1] * 1.25 + 4096:
            fails.append("RSS grew: %r" % [s[1] for s in settled])
        if max(s[2] for s in settled) > base[2] + 8:
            fails.append("open descriptors grew: %r" % [s[2] for s in settled])
        if len({s[3] for s in settled}) != 1:
            fails.append("database connections changed: %r" % [s[3] for s in settled])
        return fails


def perform(api, method, params, key, stats, killer):
    """Calls until answered: transport errors and -32050/-32051/-32029 are retried with the
    same key. Returns the result; any other error is recorded."""
    params = dict(params, idempotency_key=key)
    stats.add(calls=1)
    attempt = 0
    while True:
        if attempt:
            stats.add(retried=1)
            killer.up.wait(90)
            time.sleep(0.05)
        attempt += 1
        try:
            doc = api.reply(method, params)
        except Exception:  # noqa: BLE001 - any transport failure: the daemon was killed
            api.close()
            continue
        if "error" in doc:
            if doc["error"]["code"] in RETRYABLE:
                if doc["error"]["code"] == -32050:
                    stats.add(unavailable=1)
                elif doc["error"]["code"] == -32051:
                    stats.add(unknown=1)
                continue
            with stats.lock:
                stats.errors.append((method, key, doc["error"]))
            return None
        stats.add(acked=1)
        return doc["result"]


def main():
    db_faults = "--db-faults" in sys.argv[1:]
    soak = int(sys.argv[sys.argv.index("--soak") + 1]) if "--soak" in sys.argv else 0
    threads_n = 32 if soak else THREADS
    run = uniq("crash")
    env = Env(os.environ.get("FUND_CRASH_DIR") or os.path.join(ROOT, "var", "crash"))
    env.devenv("destroy", env.dir, check=False)
    env.port = free_port()
    env.up(env.port)
    conf = env.write_conf(os.path.join(env.dir, "fundd-crash.conf"),
                          {"server": {"auth_fail_limit": 0},
                           "audit": {"checkpoint_interval_s": 1}})
    d = Daemon(env, "crash", conf, env.port)
    d.start()
    # whatever happens below, no fundd is left running (a failed check raises)
    atexit.register(lambda: d.proc.poll() is None and d.proc.kill())
    admin = env.admin_token
    setup = Client.api(d, admin)
    checker = create_principal(d, admin, ["admin"], name=uniq("checker"))["token"]
    approver = create_principal(d, admin, ["approver"], name=uniq("approver"))["token"]
    fund = funded_fund(setup, received="100000.00", dual="100000")
    code = fund["code"]
    partner = new_partner(setup)["partner_id"]
    returnee = new_returnee(setup)
    grants = [apply(setup, fund, amount="25.00", returnee=returnee)["grant_id"]
              for _ in range(GRANTS)]
    setup.close()

    stats = Stats()
    done = threading.Event()
    pid = d.proc.pid
    if soak:
        killer = Soak(env, d, soak, done)
    elif db_faults:
        killer = DbFaults(env, d, stats, done)
    else:
        killer = Killer(d, stats, done)
    jobs = queue.Queue()
    for i in range(RECEIPTS):
        jobs.put(("receive", i))
    for g in grants:
        jobs.put(("approve", g))
    receipts = {}
    disbursed = {}
    more = itertools.count(RECEIPTS)

    def worker():
        mine = {"admin": Client.api(d, admin, timeout=30),
                "checker": Client.api(d, checker, timeout=30),
                "approver": Client.api(d, approver, timeout=30)}
        while True:
            try:
                kind, arg = jobs.get(timeout=0.2)
            except queue.Empty:
                if done.is_set() and jobs.empty():
                    break
                # keep the load going until the faults are over: more receipts
                kind, arg = "receive", next(more)
            if kind == "receive":
                key = "%s-r%d" % (run, arg)
                r = perform(mine["admin"], "contribution.receive",
                            {"partner_id": partner, "fund": code, "amount": "10.00",
                             "currency": "EUR", "bank_ref": key}, key, stats, killer)
                if r is not None:
                    receipts[key] = r["contribution_id"]
                    if soak:
                        got = mine["admin"].reply("contribution.get",
                                                {"contribution_id": r["contribution_id"]})
                        if got.get("result", {}).get("bank_ref") != key:
                            with stats.lock:
                                stats.errors.append(("contribution.get", key, got))
                        mine["approver"].reply("fund.balance", {"code": code})
            elif kind == "approve":
                r = perform(mine["approver"], "grant.approve", {"grant_id": arg},
                            "%s-a-%s" % (run, arg), stats, killer)
                if r is not None:
                    jobs.put(("create", arg))
            elif kind == "create":
                r = perform(mine["admin"], "disbursement.create",
                            {"grant_id": arg, "amount": "25.00", "reference": run},
                            "%s-c-%s" % (run, arg), stats, killer)
                if r is not None:
                    jobs.put(("confirm", r["disbursement_id"]))
            else:
                r = perform(mine["checker"], "disbursement.confirm",
                            {"disbursement_id": arg, "bank_ref": "%s-p-%s" % (run, arg)},
                            "%s-p-%s" % (run, arg), stats, killer)
                if r is not None:
                    disbursed[r["grant_id"]] = arg
        for a in mine.values():
            a.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(threads_n)]
    t0 = time.monotonic()
    killer.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    elapsed = time.monotonic() - t0

    failures = []
    if stats.errors:
        failures.append("calls answered with an error: %r" % stats.errors[:5])
    if any(t.is_alive() for t in threads):
        failures.append("workers still running after 600 s")
    if soak:
        failures += killer.check()
    if db_faults:
        failures += killer.failures
        if d.proc.pid != pid or d.proc.poll() is not None:
            failures.append("fundd did not stay up while the database failed")
        if stats.unavailable == 0:
            failures.append("no call was answered -32050 while the database was down")

    # the daemon has its database back (after the last fault it may still be reconnecting)
    deadline = time.monotonic() + 60
    while http_get(d, "/healthz", timeout=5)[0] != 200:
        if time.monotonic() > deadline:
            failures.append("fundd did not recover its database within 60 s")
            break
        time.sleep(0.2)

    # Exactly once, in the database.
    rows = env.sql("SELECT bank_ref, count(*) FROM fl.contribution WHERE bank_ref LIKE '%s-r%%' "
                   "GROUP BY 1" % run)
    counts = {}
    for line in rows.splitlines():
        if line.strip():
            ref, n = line.split("|")
            counts[ref] = int(n)
    lost = [k for k in receipts if counts.get(k, 0) == 0]
    duplicated = [k for k, n in counts.items() if n > 1]
    unacked = [k for k in counts if k not in receipts]
    decisions = env.sql("SELECT count(*), count(DISTINCT grant_id) FROM fl.grant_decision "
                        "WHERE grant_id IN (%s)" % ",".join("'%s'" % g for g in grants))
    n_dec, n_dec_grants = (int(x) for x in decisions.strip().split("|"))
    disb = env.sql("SELECT count(*), count(DISTINCT grant_id), count(*) FILTER (WHERE status = "
                   "'paid') FROM fl.disbursement WHERE reference = '%s'" % run)
    n_disb, n_disb_grants, n_paid = (int(x) for x in disb.strip().split("|"))
    lost += [g for g in grants if g not in disbursed]
    if n_dec != len(grants) or n_dec_grants != len(grants):
        duplicated.append("decisions: %d for %d grants" % (n_dec, len(grants)))
    if n_disb != len(grants) or n_disb_grants != len(grants) or n_paid != len(grants):
        duplicated.append("disbursements: %d (%d paid) for %d grants" % (n_disb, n_paid,
                                                                      len(grants)))
    if unacked:
        failures.append("contributions nobody acknowledged: %r" % unacked[:5])

    # Nothing half-applied.
    ok = env.sql("SELECT bool_and(fl.fund_balance_json(fl.fund_current(f)) = "
                 "fl.fund_balance_from_journal(f.code)) FROM fl.fund f").strip()
    if ok != "t":
        failures.append("a fund disagrees with its journal")
    api = Client.api(d, admin)
    tb = api.ok("ledger.trial_balance")
    for t in tb["totals_by_currency"]:
        if t["debit"] != t["credit"] or t["closing_debit"] != t["closing_credit"]:
            failures.append("trial balance does not balance: %r" % t)
    dup_events = env.sql("SELECT count(*) FROM (SELECT object_id FROM fl.audit_event WHERE "
                         "method = 'contribution.receive' AND outcome = 'ok' GROUP BY 1 "
                         "HAVING count(*) > 1) x").strip()
    if dup_events != "0":
        failures.append("%s contributions with more than one audit event" % dup_events)
    verify = api.ok("audit.verify")
    if not verify["ok"]:
        failures.append("audit.verify: %r" % verify)
    api.close()
    rc = d.stop()
    if rc != 0:
        failures.append("fundd exited %r on SIGTERM" % rc)

    if soak:
        print("soak: %d calls in %.0f s, %d acknowledged, %d errors; lost = %d, "
              "duplicated = %d; audit.verify ok = %s (%d events)" % (
                  stats.calls, elapsed, stats.acked, len(stats.errors), len(lost),
                  len(duplicated), verify["ok"], verify["verified"]))
    elif db_faults:
        print("crashtest --db-faults: %d calls, %d acknowledged, %d retried (%d answered "
              "-32050, %d -32051), %d PostgreSQL crashes, %d backends terminated, in %.0f s; "
              "fundd stayed up; lost = %d, duplicated = %d; audit.verify ok = %s (%d events)" % (
                  stats.calls, stats.acked, stats.retried, stats.unavailable, stats.unknown,
                  stats.kills,
                  stats.terminated, elapsed, len(lost), len(duplicated), verify["ok"],
                  verify["verified"]))
    else:
        print("crashtest: %d calls, %d acknowledged, %d retried, %d kills in %.0f s; "
              "lost = %d, duplicated = %d; audit.verify ok = %s (%d events)" % (
                  stats.calls, stats.acked, stats.retried, stats.kills, elapsed, len(lost),
                  len(duplicated), verify["ok"], verify["verified"]))
    if lost:
        failures.append("lost: %r" % lost[:5])
    if duplicated:
        failures.append("duplicated: %r" % duplicated[:5])
    if stats.kills != (0 if soak else DB_CRASHES if db_faults else KILLS):
        failures.append("only %d kills" % stats.kills)
    if os.environ.get("FUND_CRASH_KEEP") != "1":
        env.down()
    for f in failures:
        print("crashtest: FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
