"""contribution.status keeps each pass-through fund's allocation as the journal grows
(fl.alloc_catch_up, docs/ledger.md "What a contribution paid for"); after any interleaving of
receipts (dated in the past too), pledges received whole or in parts (each part dated),
cancelled or written off, payments confirmed or failed, refunds of payments, and entries whose
transactions commit late, it must equal the full first-in first-out
recomputation (fl.fifo_allocations). A seeded random walk per seed; ALLOC_SEEDS="a,b" and
ALLOC_OPS=n pick others."""

import datetime
import os
import random
import subprocess
import time

import pytest

from fl.env import DEVENV, ROOT, uniq
from fl.client import Client, api_of, assert_error, create_principal
from fl.db import psql_ok, sql_lit
from fl.grants import new_returnee
from fl.ledger import minor, new_fund, new_partner

SEEDS = [int(s) for s in os.environ.get("ALLOC_SEEDS", "16,1016,2016").split(",")]
N_OPS = int(os.environ.get("ALLOC_OPS", "160"))
REGIONS = ["AM-SH", "AM-LO", "AM-TV"]


def _expected(env, code):
    """{contribution_id: [(grant_id, minor units)]} in the order contribution.status lists
    them, from the full recomputation (whose sources are receipts: a pledge's parts are
    summed into it)."""
    out = {}
    rows = env.sql(
        "SELECT s.contribution_id, x.grant_id, sum(x.amount) FROM (SELECT fa.*, "
        "row_number() OVER () AS ord FROM fl.fifo_allocations(%s) fa) x "
        "JOIN fl.funding_source s ON s.source_id = x.contribution_id "
        "GROUP BY 1, 2 ORDER BY 1, min(x.ord)" % sql_lit(code))
    for line in rows.split("\n"):
        if line:
            cid, gid, amount = line.split("|")
            out.setdefault(cid, []).append((gid, int(amount)))
    return out


class Walk:
    def __init__(self, env, api, ap, checker, rng):
        self.env, self.api, self.ap, self.checker, self.rng = env, api, ap, checker, rng
        self.fund = new_fund(api, dual="100000000")
        self.code = self.fund["code"]
        self.partners = [new_partner(api)["partner_id"] for _ in range(3)]
        self.received = []          # contribution ids
        self.pledged = []
        self.available = 0          # minor units, as the walk approves grants
        self.held = []              # queue rows taken aside: (entry_id, kind, ref_id)
        self.paid = self.failed = self.asked = self.late = 0
        self.paid_ds = []           # paid disbursements: [id, minor units not refunded]
        self.parts = self.refunds = self.written_off = 0

    def when(self):
        """now, or a time in the last 60 days (receipts arrive dated in the past)."""
        if self.rng.random() < 0.4:
            return None
        t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(
            minutes=self.rng.randrange(1, 60 * 24 * 60))
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")

    def amount(self, lo=1, hi=50000):
        n = self.rng.randrange(lo, hi)
        return n, "%d.%02d" % divmod(n, 100)

    def receive(self):
        n, s = self.amount()
        p = {"partner_id": self.rng.choice(self.partners), "fund": self.code, "amount": s,
             "currency": "EUR"}
        if self.rng.random() < 0.3:
            p["earmark_region"] = self.rng.choice(REGIONS)
        w = self.when()
        if w:
            p["received_at"] = w
        self.received.append(self.api.ok("contribution.receive", p)["contribution_id"])
        self.available += n

    def pledge(self):
        _, s = self.amount()
        p = {"partner_id": self.rng.choice(self.partners), "fund": self.code, "amount": s,
             "currency": "EUR"}
        if self.rng.random() < 0.3:
            p["earmark_region"] = self.rng.choice(REGIONS)
        self.pledged.append(self.api.ok("contribution.pledge", p)["contribution_id"])

    def settle_pledge(self):
        if not self.pledged:
            return self.pledge()
        cid = self.pledged.pop(self.rng.randrange(len(self.pledged)))
        partly = cid in self.received
        if self.rng.random() < 0.3:
            if partly:
                self.api.ok("contribution.write_off", {"contribution_id": cid, "reason": "no"})
                self.written_off += 1
            else:
                self.api.ok("contribution.cancel", {"contribution_id": cid, "reason": "no"})
            return
        p = {"contribution_id": cid}
        w = self.when()
        if w:
            p["received_at"] = w
        if self.rng.random() < 0.5:
            _, p["amount"] = self.amount(1, 30000)     # a part (or more than is left)
        c = self.api.ok("contribution.receive", p)
        if not partly:
            self.received.append(cid)
        if c["status"] == "pledged":
            self.pledged.append(cid)
            self.parts += 1
        self.available += minor(c["receipts"][-1]["fund_amount"], "EUR")

    def earnings(self):
        n, s = self.amount(1, 20000)
        self.api.ok("fund.record_earnings", {"code": self.code, "amount": s, "period": "Q"})
        self.available += n

    def pay(self):
        if self.available < 2:
            return self.receive()
        n = self.rng.randrange(1, min(self.available, 80000))
        s = "%d.%02d" % divmod(n, 100)
        r = new_returnee(self.api, region=self.rng.choice(REGIONS))
        g = self.api.ok("grant.apply", {"returnee_id": r["returnee_id"], "fund": self.code,
                                        "amount": s, "category": "other",
                                        "purpose": "walk"})
        self.ap.ok("grant.approve", {"grant_id": g["grant_id"]})
        self.available -= n
        # one or two tranches
        parts = [n] if n < 2 or self.rng.random() < 0.6 else [n // 2, n - n // 2]
        for part in parts:
            d = self.api.ok("disbursement.create", {"grant_id": g["grant_id"],
                                                    "amount": "%d.%02d" % divmod(part, 100)})
            if self.rng.random() < 0.15:
                self.checker.ok("disbursement.fail", {"disbursement_id": d["disbursement_id"],
                                                      "reason": "bounced"})
                self.failed += 1
            else:
                self.checker.ok("disbursement.confirm", {
                    "disbursement_id": d["disbursement_id"], "bank_ref": uniq("PAY")})
                self.paid += 1
                self.paid_ds.append([d["disbursement_id"], part])

    def refund(self):
        """Part or all of a payment given back; the fund's available read back (a refund of
        an approved grant's payment is committed again)."""
        open_ds = [d for d in self.paid_ds if d[1] > 0]
        if not open_ds:
            return self.pay()
        d = self.rng.choice(open_ds)
        n = self.rng.randint(1, d[1])
        p = {"disbursement_id": d[0], "amount": "%d.%02d" % divmod(n, 100),
             "reason": "given back"}
        w = self.when()
        if w:
            p["refunded_at"] = w
        self.api.ok("disbursement.refund", p)
        d[1] -= n
        self.refunds += 1
        self.available = minor(self.api.ok("fund.balance", {"code": self.code})["available"],
                               "EUR")

    def ask(self):
        if self.received:
            self.api.ok("contribution.status",
                        {"contribution_id": self.rng.choice(self.received)})
            self.asked += 1

    def hold(self):
        """An entry whose transaction commits late: its queue row taken aside, to come
        back after others have been allocated."""
        out = psql_ok(self.env, "DELETE FROM fl.alloc_queue WHERE queue_id = (SELECT "
                      "max(queue_id) FROM fl.alloc_queue WHERE fund_code = %s) "
                      "RETURNING entry_id, kind, ref_id;" % sql_lit(self.code))
        if out.strip():
            self.held.append(out.strip().split("|"))

    def release(self):
        for entry_id, kind, ref_id in self.held:
            psql_ok(self.env, "INSERT INTO fl.alloc_queue (fund_code, entry_id, kind, "
                    "ref_id) VALUES (%s, %s, %s, %s);" % (sql_lit(self.code), entry_id,
                                                          sql_lit(kind), sql_lit(ref_id)))
            self.late += 1
        self.held = []

    def step(self):
        ops = [(self.receive, 25), (self.pledge, 8), (self.settle_pledge, 12),
               (self.earnings, 4), (self.pay, 25), (self.refund, 8), (self.ask, 20),
               (self.hold, 12), (self.release, 4)]
        f = self.rng.choices([o for o, _ in ops], [w for _, w in ops])[0]
        f()


@pytest.fixture(scope="module")
def people(daemon, admin):
    ap = create_principal(daemon, admin, ["approver"], name=uniq("alloc-ap"))
    checker = create_principal(daemon, admin, ["admin"], name=uniq("alloc-chk"))
    return ap, checker


@pytest.mark.parametrize("seed", SEEDS)
def test_kept_allocation_equals_the_full_recomputation(env, daemon, api, people, seed):
    rng = random.Random(seed)
    with api_of(daemon, people[0]) as ap, api_of(daemon, people[1]) as checker:
        w = Walk(env, api, ap, checker, rng)
        for _ in range(N_OPS):
            w.step()
        w.release()
    assert w.paid >= 10 and w.asked >= 10 and w.late >= 2 and len(w.received) >= 20, \
        (w.paid, w.asked, w.late, len(w.received))
    assert w.parts >= 2 and w.refunds >= 5, (w.parts, w.refunds)
    want = _expected(env, w.code)
    assert want, "the walk paid for nothing"
    for cid in set(w.received + w.pledged):
        s = api.ok("contribution.status", {"contribution_id": cid})
        got = [(a["grant_id"], minor(a["amount"], "EUR")) for a in s["allocations"]]
        assert got == want.get(cid, []), (seed, cid, got, want.get(cid))
        used = sum(a for _, a in got)
        assert minor(s["used"], "EUR") == used, s
        if s["receipts"] or s["pledged_at"] is None:
            assert minor(s["unused"], "EUR") == \
                minor(s["received_fund_amount"], "EUR") - used, s
        else:
            assert (s["status"], used, s["unused"]) == ("pledged", 0, "0.00"), s
    # the kept rows themselves: what is left of each contribution, and nothing queued
    bad = env.sql("SELECT a.contribution_id FROM fl.alloc_contribution a WHERE a.fund_code = "
                  "%s AND a.left_over <> a.amount - coalesce((SELECT sum(amount) FROM "
                  "fl.allocation l WHERE l.contribution_id = a.contribution_id), 0)"
                  % sql_lit(w.code))
    assert bad.strip() == "", bad


def test_an_existing_funds_allocation_is_built_on_first_use(env, daemon, api, people):
    """A fund whose allocation was never kept (a database from before, made so here by
    dropping its kept rows as the schema owner) gets it from the journal when first asked."""
    rng = random.Random(7)
    with api_of(daemon, people[0]) as ap, api_of(daemon, people[1]) as checker:
        w = Walk(env, api, ap, checker, rng)
        for _ in range(12):
            w.receive()
        for _ in range(6):
            w.pay()
    c = sql_lit(w.code)
    psql_ok(env, "DELETE FROM fl.alloc_queue WHERE fund_code = %s; DELETE FROM fl.allocation "
                 "WHERE fund_code = %s; DELETE FROM fl.alloc_contribution WHERE fund_code = "
                 "%s; DELETE FROM fl.alloc_fund WHERE fund_code = %s;" % (c, c, c, c))
    want = _expected(env, w.code)
    for cid in w.received:
        s = api.ok("contribution.status", {"contribution_id": cid})
        got = [(a["grant_id"], minor(a["amount"], "EUR")) for a in s["allocations"]]
        assert got == want.get(cid, []), (cid, got, want.get(cid))
    assert env.sql("SELECT count(*) FROM fl.alloc_contribution WHERE fund_code = %s"
                   % c).strip() == str(len(w.received))


class CatchUpHeld:
    """Holds fund code's allocation lock (the one fl.alloc_catch_up() takes) in a psql
    session until release(): the daemon's catch-up of that fund waits meanwhile."""

    def __init__(self, env, code):
        self.proc = subprocess.Popen([DEVENV, "psql", env.dir, "-At"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.proc.stdin.write("BEGIN;\nSELECT pg_advisory_xact_lock(hashtext('fl.allocation'), "
                              "hashtext(%s));\nSELECT 'held';\n" % sql_lit(code))
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            assert line, "psql holding the lock exited: %s" % self.proc.stderr.read()
            if line.strip() == "held":
                return

    def release(self):
        self.proc.stdin.write("COMMIT;\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def test_the_housekeeping_keeps_each_queue_short(env, daemon, api, people):
    """Once a fund's allocation is kept, the daemon catches it up every few seconds
    (fl.alloc_catch_up_all()): its queue does not wait for the next contribution.status,
    and what it keeps equals the full recomputation. The catch-up is held back while the
    walk writes, so that the queue is seen to fill whatever the machine's speed."""
    rng = random.Random(11)
    with api_of(daemon, people[0]) as ap, api_of(daemon, people[1]) as checker:
        w = Walk(env, api, ap, checker, rng)
        for _ in range(4):
            w.receive()
        api.ok("contribution.status", {"contribution_id": w.received[0]})   # kept from now
        held = CatchUpHeld(env, w.code)
        try:
            for _ in range(6):
                w.receive()
            for _ in range(4):
                w.pay()
            c = sql_lit(w.code)
            queued = lambda: int(env.sql("SELECT count(*) FROM fl.alloc_queue WHERE "
                                         "fund_code = %s" % c).strip())
            assert queued() > 0, "nothing was queued: the test proves nothing"
        finally:
            held.release()
    deadline = time.monotonic() + 30
    while queued() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert queued() == 0, "the daemon left the fund's queue alone"
    kept = {}
    for line in env.sql("SELECT contribution_id, grant_id, sum(amount) FROM fl.allocation "
                        "WHERE fund_code = %s AND contribution_id IS NOT NULL GROUP BY 1, 2"
                        % c).split("\n"):
        if line:
            cid, gid, amount = line.split("|")
            kept.setdefault(cid, set()).add((gid, int(amount)))
    want = {cid: set(v) for cid, v in _expected(env, w.code).items()}
    assert want and kept == want, (kept, want)


def test_another_partners_contribution_is_refused_before_any_work(env, daemon, api):
    """A partner asking about another partner's contribution is answered not found without
    the fund's allocation being brought up to date (nothing leaves the queue)."""
    f = new_fund(api)
    mine, theirs = new_partner(api)["partner_id"], new_partner(api)["partner_id"]
    c = api.ok("contribution.receive", {"partner_id": theirs, "fund": f["code"],
                                        "amount": "5.00", "currency": "EUR"})
    tok = create_principal(daemon, api.token, ["partner"], partner_id=mine)["token"]
    with Client(daemon, token=tok) as s:
        _, doc = s.rpc("contribution.status", {"contribution_id": c["contribution_id"]})
    assert_error(doc, -32004, field="contribution_id", reason="contribution_not_found")
    code = sql_lit(f["code"])
    assert env.sql("SELECT count(*) FROM fl.alloc_queue WHERE fund_code = %s"
                   % code).strip() == "1"
    assert env.sql("SELECT count(*) FROM fl.alloc_fund WHERE fund_code = %s"
                   % code).strip() == "0"
