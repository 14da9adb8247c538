"""A seeded random walk of ~2,000 ledger operations, valid and invalid, sent in JSON-RPC
batches, against a model kept in Python integers: pledges received whole or in parts (each
at its own rate, some with a bank fee) and written off, direct receipts with and without
fees, income of every kind, and fees and losses (an endowment's beyond its earnings charged to
its capital) (docs/ledger.md "Balances": "The
integration tests check the maintained figures against the journal after thousands of random
operations").

At the end, for every fund of the walk: fund.balance == the model == the sums of the
fund's postings in ledger.entries == the figures kept on the fund row; every entry balances;
every trial balance balances; every contribution is in the state and amount the model says.

LEDGER_SEED=n picks another sequence; LEDGER_OPS=n another length.
"""

import json
import os
import random
import time
from decimal import Decimal

import pytest

from fl.env import uniq
from fl.client import Client
from fl.db import sql_lit
from fl.ledger import (DECIMALS, account_sums, check_entry, fund_code, fund_entries, fx_minor,
                       minor, money, pages, postings_of, tb_rows, trial_balance)
from fl.grants import REGIONS

SEED = int(os.environ.get("LEDGER_SEED", "20261123"))
N_OPS = int(os.environ.get("LEDGER_OPS", "2000"))
FUND_CURRENCIES = ["EUR", "JPY", "KWD"]
CONTRIB_CURRENCIES = ["EUR", "JPY", "KWD", "USD"]
BATCH = 100
ROUGH_RATES = {"EUR": Decimal(1), "USD": Decimal("0.92"), "JPY": Decimal("0.0062"),
               "KWD": Decimal("3.0")}


class Fund:
    def __init__(self, code, cur, kind):
        self.code, self.cur, self.kind = code, cur, kind
        self.received = self.earnings = self.pledged = self.charges = self.impaired = 0
        self.planned_charges = 0    # fees and losses generated in the batch being built
        self.kinds = {"pledge": 0, "receipt": 0, "pledge_cancel": 0, "earnings": 0,
                      "pledge_write_off": 0, "fee": 0, "loss": 0}

    def available(self):
        return ((self.received - self.impaired) if self.kind == "pass_through" else 0) + \
            self.earnings - self.charges

    def charge(self, amount):
        """A fee or loss as the database shares it (fl.charge_split): (income, capital)."""
        if self.kind == "pass_through":
            inc = amount
        else:
            inc = min(amount, max(self.available(), 0))
        self.charges += inc
        self.impaired += amount - inc
        return inc, amount - inc

    def room(self):
        """What a fee or loss may surely take, whatever else the batch does before it."""
        r = self.available() - self.planned_charges
        if self.kind == "endowment":
            r += self.received - self.impaired
        return r

    def balance(self):
        return {"received": self.received, "earnings": self.earnings,
                "pledged": self.pledged, "committed": 0, "disbursed": 0,
                "charges": self.charges, "capital_impaired": self.impaired,
                "available": self.available()}


class Contribution:
    def __init__(self, cid, fund, partner, status, amount, cur, rate, fund_amount, region):
        self.cid, self.fund, self.partner, self.status = cid, fund, partner, status
        self.amount, self.cur, self.rate = amount, cur, rate
        self.fund_amount, self.region = fund_amount, region
        # what came of it: units in its currency, in the fund's, and receivable cleared
        self.got = amount if status == "received" else 0
        self.rfa = fund_amount if status == "received" else 0
        self.cleared = 0
        self.parts = 0


class Walk:
    def __init__(self, api, rng):
        self.api = api
        self.rng = rng
        self.funds = []
        self.partners = []
        self.contribs = {}
        self.keyed = []             # (method, params, first result)
        self.problems = []
        self.n_calls = 0
        self.n_refusals = 0
        self._entries = {}

    def entries(self, fund):
        """The fund's journal entries (fetched once, after the walk)."""
        if fund.code not in self._entries:
            self._entries[fund.code] = fund_entries(self.api, fund.code)
        return self._entries[fund.code]

    # ---------------------------------------------------------------------- value generators

    def rate_for(self, cur, fund_cur):
        """A random but plausible rate with 1..9 decimals, as a string."""
        base = ROUGH_RATES[cur] / ROUGH_RATES[fund_cur]
        r = base * Decimal(self.rng.randint(500, 1500)) / 1000
        places = self.rng.randint(1, 9)
        q = Decimal(1).scaleb(-places)
        r = r.quantize(q)
        if r <= 0:
            r = q
        return format(r, "f")

    def amount_units(self, cur):
        # up to about 50,000 of a unit-valued currency
        top = {"EUR": 5_000_000, "USD": 5_000_000, "JPY": 8_000_000, "KWD": 15_000_000}[cur]
        return self.rng.choice([self.rng.randint(1, 1000), self.rng.randint(1, top)])

    def amount_text(self, units, cur):
        s = money(units, cur)
        if DECIMALS[cur] and self.rng.random() < 0.3:
            s = s.rstrip("0").rstrip(".")      # fewer decimals are accepted ("7.5", "7")
        return s

    def contrib_params(self, fund):
        cur = fund.cur if self.rng.random() < 0.65 else self.rng.choice(
            [c for c in CONTRIB_CURRENCIES if c != fund.cur])
        while True:
            units = self.amount_units(cur)
            rate = None if cur == fund.cur else self.rate_for(cur, fund.cur)
            text = self.amount_text(units, cur)
            fa = units if rate is None else fx_minor(text, rate, fund.cur)
            if fa >= 1:
                break
        p = {"partner_id": self.rng.choice(self.partners), "fund": fund.code, "amount": text,
             "currency": cur}
        if rate is not None:
            p["fx_rate"] = rate
        region = None
        if self.rng.random() < 0.2:
            region = self.rng.choice(REGIONS)
            p["earmark_region"] = region[self.rng.randint(0, 1)]
        if self.rng.random() < 0.1:
            p["idempotency_key"] = uniq("pk")
        expect = {"units": units, "cur": cur, "rate": rate, "fa": fa, "region": region}
        return p, expect

    # ---------------------------------------------------------------------- op generation

    def gen(self, planned):
        """One op: (method, params, expectation). expectation is ("ok", kind, info) or
        ("error", code, field-or-None)."""
        rng = self.rng
        x = rng.random()
        fund = rng.choice(self.funds)
        pledged = [c for c, s in planned.items() if s == "pledged"]
        partial = [c for c, s in planned.items() if s == "partial"]
        settled = [c for c, s in planned.items() if s not in ("pledged", "partial", "busy")]
        if x < 0.22:
            p, e = self.contrib_params(fund)
            return "contribution.pledge", p, ("ok", "pledge", dict(e, fund=fund))
        if x < 0.40:
            p, e = self.contrib_params(fund)
            if rng.random() < 0.3:
                p["bank_ref"] = uniq("bank")
            e["fee"] = 0
            if rng.random() < 0.15 and e["fa"] > 1:
                e["fee"] = rng.randint(1, min(e["fa"] - 1, 5000))
                p["fee"] = money(e["fee"], fund.cur)
                p.pop("idempotency_key", None)
            return "contribution.receive", p, ("ok", "receive", dict(e, fund=fund))
        if x < 0.54 and (pledged or partial):
            cid = rng.choice(pledged + partial)
            planned[cid] = "busy"       # one call per pledge and batch: the model knows it
            c = self.contribs[cid]
            part = self.gen_part(c)
            if part is None:
                return self.gen_invalid(fund, pledged, settled)
            p, info = part
            if rng.random() < 0.5:
                p["bank_ref"] = uniq("b")
            if rng.random() < 0.1:
                p["idempotency_key"] = uniq("rk")
            return "contribution.receive", p, ("ok", "receive_pledge", info)
        if x < 0.61 and (pledged or partial):
            cid = rng.choice(pledged + partial)
            write_off = cid in partial or rng.random() < 0.4
            planned[cid] = "busy"
            p = {"contribution_id": cid, "reason": "walk " + uniq("r")}
            if rng.random() < 0.1:
                p["idempotency_key"] = uniq("ck")
            if write_off:
                return "contribution.write_off", p, ("ok", "write_off", {"cid": cid})
            return "contribution.cancel", p, ("ok", "cancel", {"cid": cid})
        if x < 0.70:
            room = fund.room()
            if rng.random() < 0.45 and room >= 3:
                kind = rng.choice(["fee", "loss"])
                units = rng.randint(1, room // 3)
                fund.planned_charges += units
            else:
                kind = rng.choice(["interest", "interest", "dividend", "realised_gain", None])
                units = self.amount_units(fund.cur)
            p = {"code": fund.code, "amount": self.amount_text(units, fund.cur),
                 "period": "P%d" % rng.randint(1, 40)}
            if kind is not None:
                p["kind"] = kind
            if rng.random() < 0.5:
                p["note"] = "interest"
            if rng.random() < 0.1:
                p["idempotency_key"] = uniq("ek")
            what = "charge" if kind in ("fee", "loss") else "earnings"
            return "fund.record_earnings", p, ("ok", what, {"fund": fund, "units": units,
                                                             "kind": kind})
        if x < 0.72 and self.keyed:
            method, params, first = rng.choice(self.keyed)
            return method, dict(params), ("ok", "replay", {"first": first})
        if x < 0.73 and self.keyed:
            method, params, first = rng.choice(self.keyed)
            q = dict(params)
            if "amount" in q:
                q["amount"] = "98" if q["amount"] == "99" else "99"
            elif method == "contribution.receive":
                q["bank_ref"] = uniq("other")
            else:
                q["reason"] = uniq("other")
            return method, q, ("error", -32009, None)
        if x < 0.735:
            return self.gen_new_fund()
        if x < 0.745:
            return ("partner.create", {"name": "Walk partner " + uniq("p"), "country": "AM",
                                       "kind": rng.choice(["individual", "organisation"])},
                    ("ok", "partner", {}))
        return self.gen_invalid(fund, pledged, settled)

    def gen_part(self, c):
        """A receipt of pledge c: the rest at the pledge's rate, or a part at a rate of its
        own (more than is outstanding, sometimes), sometimes with a fee; None when what it
        would bring rounds to zero."""
        rng, f = self.rng, c.fund
        out = c.amount - c.got
        p = {"contribution_id": c.cid}
        rate = c.rate
        if rng.random() < 0.4:
            units = out
        else:
            units = rng.randint(1, max(1, out * 6 // 5))
            p["amount"] = self.amount_text(units, c.cur)
            if c.cur != f.cur and rng.random() < 0.7:
                rate = self.rate_for(c.cur, f.cur)
                p["fx_rate"] = rate
        fa = units if rate is None else fx_minor(money(units, c.cur), rate, f.cur)
        if fa < 1:
            return None
        fee = 0
        if rng.random() < 0.2 and fa > 1:
            fee = rng.randint(1, min(fa - 1, 5000))
            p["fee"] = money(fee, f.cur)
        return p, {"cid": c.cid, "units": units, "fa": fa, "fee": fee}

    def gen_new_fund(self):
        cur = self.rng.choice(FUND_CURRENCIES)
        kind = self.rng.choice(["pass_through", "endowment"])
        p = {"code": fund_code("W"), "name": "Walk " + uniq("f"), "currency": cur,
             "kind": kind, "dual_approval_above": "1000"}
        return "fund.create", p, ("ok", "fund", {"cur": cur, "kind": kind})

    def gen_invalid(self, fund, pledged, settled):
        rng = self.rng
        method = rng.choice(["contribution.pledge", "contribution.receive"])
        p, _ = self.contrib_params(fund)
        p.pop("idempotency_key", None)
        kind = rng.randint(0, 16)
        if kind == 0 and settled:
            cid = rng.choice(settled)
            if rng.random() < 0.5:
                return "contribution.receive", {"contribution_id": cid}, ("error", -32009, None)
            return ("contribution.cancel", {"contribution_id": cid, "reason": "x"},
                    ("error", -32009, None))
        if kind == 1:
            p["amount"] = rng.choice(["0", "0.00", "0.000"][:DECIMALS[p["currency"]] + 1])
            return method, p, ("error", -32602, "amount")
        if kind == 2:
            d = DECIMALS[p["currency"]]
            p["amount"] = "1." + "5" * (d + 1)
            return method, p, ("error", -32602, "amount")
        if kind == 3:
            p["amount"] = rng.choice([100, 12.5, -3])
            return method, p, ("error", -32602, "amount")
        if kind == 4:
            p["amount"] = "-" + p["amount"]
            return method, p, ("error", -32602, "amount")
        if kind == 5:
            p["fund"] = "NO-SUCH-" + uniq("f").upper()
            return method, p, ("error", -32004, "fund")
        if kind == 6:
            p["partner_id"] = "pa_" + "0" * 20
            return method, p, ("error", -32004, "partner_id")
        if kind == 7:
            other = [c for c in CONTRIB_CURRENCIES if c != fund.cur]
            p["currency"] = rng.choice(other)
            p["amount"] = "1"
            p.pop("fx_rate", None)
            return method, p, ("error", -32602, "fx_rate")
        if kind == 8:
            p["currency"] = fund.cur
            p["amount"] = "1"
            p["fx_rate"] = "1"
            return method, p, ("error", -32602, "fx_rate")
        if kind == 9:
            p["earmark_region"] = rng.choice(["Atlantis", "AM-ZZ", "Tbilisi"])
            return method, p, ("error", -32602, "earmark_region")
        if kind == 10:
            return ("fund.record_earnings",
                    {"code": fund.code, "amount": "-" + money(1, fund.cur), "period": "x"},
                    ("error", -32602, "amount"))
        if kind == 11:
            return ("fund.record_earnings",
                    {"code": "NO-SUCH-" + uniq("f").upper(), "amount": "1", "period": "x"},
                    ("error", -32004, "code"))
        if kind == 12:
            return ("fund.create", {"code": fund.code, "name": "dup", "currency": fund.cur,
                                    "kind": fund.kind, "dual_approval_above": "0"},
                    ("error", -32009, None))
        if kind == 13:
            return ("partner.create", {"name": "bad", "country": rng.choice(["XX", "am", "ARM"]),
                                       "kind": "individual"}, ("error", -32602, "country"))
        if kind == 14:
            ghost = "co_" + "0" * 20
            return ("contribution.cancel", {"contribution_id": ghost, "reason": "x"},
                    ("error", -32004, None))
        if kind == 15 and pledged:
            return ("contribution.receive",
                    {"contribution_id": rng.choice(pledged), "currency": fund.cur},
                    ("error", -32602, "currency"))
        if kind == 16:
            if rng.random() < 0.5:
                return ("fund.record_earnings", {"code": fund.code, "period": "x",
                                                 "amount": "99999999999",
                                                 "kind": rng.choice(["fee", "loss"])},
                        ("error", -32010, "amount"))
            p.pop("fx_rate", None)
            p.update({"currency": fund.cur, "amount": "1", "fee": "1"})
            return "contribution.receive", p, ("error", -32602, "fee")
        p["currency"] = rng.choice(["XXX", "eur", "EURO"])
        return method, p, ("error", -32602, "currency")

    # ---------------------------------------------------------------------- checking results

    def problem(self, method, params, want, doc):
        self.problems.append("%s %r: expected %r, got %r" % (method, params, want,
                                                             doc.get("error", doc.get("result"))))

    def check_contribution(self, method, params, info, res):
        fund = info["fund"]
        want = {"fund": fund.code, "fund_currency": fund.cur, "currency": info["cur"],
                "amount": money(info["units"], info["cur"]),
                "fund_amount": money(info["fa"], fund.cur),
                "partner_id": params["partner_id"],
                "earmark_region": info["region"][0] if info["region"] else None,
                "earmark_region_code": info["region"][1] if info["region"] else None}
        got = {k: res.get(k) for k in want}
        bad = got != want
        if info["rate"] is None:
            bad = bad or res.get("fx_rate") is not None
        else:
            bad = bad or res.get("fx_rate") is None or \
                Decimal(res["fx_rate"]) != Decimal(info["rate"])
        if bad:
            self.problems.append("%s %r: result %r differs from %r" % (method, params, res,
                                                                       want))

    def apply(self, method, params, expect, doc):
        if expect[0] == "error":
            self.n_refusals += 1
            code, field = expect[1], expect[2]
            err = doc.get("error")
            if err is None or err.get("code") != code or (
                    field is not None and (err.get("data") or {}).get("field") != field):
                self.problem(method, params, expect, doc)
            return
        if "result" not in doc:
            self.problem(method, params, expect, doc)
            return
        res = doc["result"]
        what, info = expect[1], expect[2]
        if what == "replay":
            if res != info["first"]:
                self.problems.append("replay of %s %r: %r != first %r" % (
                    method, params, res, info["first"]))
            return
        if what in ("pledge", "receive"):
            self.check_contribution(method, params, info, res)
            if what == "receive" and res.get("fee") != money(info["fee"], info["fund"].cur):
                self.problem(method, params, "fee", doc)
            fund = info["fund"]
            status = "pledged" if what == "pledge" else "received"
            if res.get("status") != status:
                self.problem(method, params, status, doc)
            c = Contribution(res["contribution_id"], fund, params["partner_id"], status,
                             info["units"], info["cur"], info["rate"], info["fa"],
                             info["region"])
            self.contribs[c.cid] = c
            if what == "pledge":
                fund.pledged += c.fund_amount
                fund.kinds["pledge"] += 1
            else:
                fund.received += c.fund_amount
                fund.kinds["receipt"] += 1
                if info["fee"]:
                    fund.charge(info["fee"])
        elif what == "receive_pledge":
            c, f = self.contribs[info["cid"]], self.contribs[info["cid"]].fund
            done = c.got + info["units"] >= c.amount
            cleared = c.fund_amount - c.cleared if done else \
                min(c.fund_amount - c.cleared, c.fund_amount * info["units"] // c.amount)
            c.got += info["units"]
            c.rfa += info["fa"]
            c.cleared += cleared
            c.parts += 1
            c.status = "received" if done else "pledged"
            f.received += info["fa"]
            f.pledged -= cleared
            if info["fee"]:
                f.charge(info["fee"])
            f.kinds["receipt"] += 1
            want = {"status": c.status, "contribution_id": c.cid,
                    "fund_amount": money(c.fund_amount, f.cur),
                    "received": money(c.got, c.cur),
                    "outstanding": money(0 if done else c.amount - c.got, c.cur),
                    "received_fund_amount": money(c.rfa, f.cur)}
            if {k: res.get(k) for k in want} != want or len(res.get("receipts", [])) != c.parts:
                self.problem(method, params, want, doc)
        elif what in ("cancel", "write_off"):
            c = self.contribs[info["cid"]]
            status = "cancelled" if what == "cancel" else "written_off"
            if res.get("status") != status or res.get("contribution_id") != c.cid or \
                    res.get("fund_amount") != money(c.fund_amount, c.fund.cur):
                self.problem(method, params, status, doc)
            c.status = status
            c.fund.pledged -= c.fund_amount - c.cleared
            c.fund.kinds["pledge_cancel" if what == "cancel" else "pledge_write_off"] += 1
        elif what == "earnings":
            info["fund"].earnings += info["units"]
            info["fund"].kinds["earnings"] += 1
            if not isinstance(res.get("entry_id"), str):
                self.problem(method, params, "entry_id", doc)
        elif what == "charge":
            f = info["fund"]
            inc, cap = f.charge(info["units"])
            f.kinds[info["kind"]] += 1
            want = {"kind": info["kind"], "charged_to_income": money(inc, f.cur),
                    "capital_impaired": money(cap, f.cur)}
            if {k: res.get(k) for k in want} != want:
                self.problem(method, params, want, doc)
        elif what == "fund":
            self.funds.append(Fund(params["code"], info["cur"], info["kind"]))
        elif what == "partner":
            self.partners.append(res["partner_id"])
        if "idempotency_key" in params:
            self.keyed.append((method, params, res))

    def run_batch(self, ops):
        docs = self.api.batch([(m, p) for m, p, _ in ops])
        self.n_calls += len(ops)
        for (m, p, e), d in zip(ops, docs):
            self.apply(m, p, e, d)

    def run(self, n_ops):
        # Set-up: 6 funds (each currency, both kinds) and 12 partners in one batch.
        setup = []
        for i in range(6):
            cur, kind = FUND_CURRENCIES[i % 3], ["pass_through", "endowment"][i // 3]
            p = {"code": fund_code("W"), "name": "Walk " + uniq("f"), "currency": cur,
                 "kind": kind, "dual_approval_above": "0"}
            setup.append(("fund.create", p, ("ok", "fund", {"cur": cur, "kind": kind})))
        for i in range(12):
            setup.append(("partner.create", {"name": "Walk partner %d %s" % (i, uniq("p")),
                                             "country": self.rng.choice(["AM", "FR", "US",
                                                                         "RU", "AR"]),
                                             "kind": "individual"}, ("ok", "partner", {})))
        self.run_batch(setup)
        assert not self.problems, self.problems[:10]
        done = 0
        while done < n_ops:
            planned = {cid: "partial" if c.status == "pledged" and c.parts else c.status
                       for cid, c in self.contribs.items()}
            for f in self.funds:
                f.planned_charges = 0
            ops = [self.gen(planned) for _ in range(min(BATCH, n_ops - done))]
            self.run_batch(ops)
            done += len(ops)


@pytest.fixture(scope="module")
def walk(daemon, admin):
    api = Client.api(daemon, admin, timeout=120)
    w = Walk(api, random.Random(SEED))
    t0 = time.monotonic()
    w.run(N_OPS)
    w.seconds = time.monotonic() - t0
    yield w
    api.close()


def test_walk_outcomes(walk):
    """Every call answered as the model expected (results and error codes)."""
    assert walk.n_calls >= N_OPS
    assert not walk.problems, "seed %d: %d unexpected outcomes, first ones:\n%s" % (
        SEED, len(walk.problems), "\n".join(walk.problems[:15]))


def test_walk_covers_the_ground(walk):
    kinds = {}
    for f in walk.funds:
        for k, v in f.kinds.items():
            kinds[k] = kinds.get(k, 0) + v
    print("ledger walk seed %d: %d calls in %.1fs, %d funds, %d partners, %d contributions, "
          "entries %r, %d keyed, %d expected refusals" % (
              SEED, walk.n_calls, walk.seconds, len(walk.funds), len(walk.partners),
              len(walk.contribs), kinds, len(walk.keyed), walk.n_refusals))
    assert all(v >= 20 for v in kinds.values()), kinds
    # pledges received in several parts, receipts with a fee, capital impaired
    assert sum(1 for c in walk.contribs.values() if c.parts > 1) >= 20
    assert sum(1 for f in walk.funds if f.impaired > 0) >= 1
    assert sum(1 for f in walk.funds if f.charges > 0) >= 3
    assert walk.n_refusals >= 200, walk.n_refusals
    assert len({c.cur for c in walk.contribs.values()}) == len(CONTRIB_CURRENCIES)
    assert len(walk.keyed) >= 10
    assert walk.seconds < 60, "the walk took %.1fs" % walk.seconds


def test_balances_equal_model(walk):
    api = walk.api
    docs = api.batch([("fund.balance", {"code": f.code}) for f in walk.funds])
    bad = []
    for f, d in zip(walk.funds, docs):
        if "result" not in d:
            bad.append((f.code, d))
            continue
        b = d["result"]
        got = {k: minor(b[k], f.cur) for k in f.balance()}
        if got != f.balance() or b["currency"] != f.cur or b["code"] != f.code:
            bad.append((f.code, f.kind, f.cur, "daemon", got, "model", f.balance()))
    assert not bad, "seed %d: %r" % (SEED, bad)


def test_balances_equal_journal(walk):
    bad = []
    for f in walk.funds:
        es = walk.entries(f)
        for e in es:
            check_entry(e)
        kinds = {}
        for e in es:
            kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
        want_kinds = {k: v for k, v in f.kinds.items() if v}
        if kinds != want_kinds:
            bad.append((f.code, "entry kinds", kinds, want_kinds))
        s = account_sums(es, f.cur)
        a = lambda x: s.get("%s:%s" % (f.code, x), 0)  # noqa: E731
        journal = {"received": -a("contributions"), "earnings": -a("earnings"),
                   "pledged": a("pledges_receivable")}
        charges = sum(sum(v for k, v in postings_of(e).items()
                          if k in (f.code + ":bank_charges", f.code + ":investment_losses"))
                      for e in es)
        impaired = sum(postings_of(e).get(f.code + ":capital_impaired", 0) for e in es)
        if (charges, impaired) != (f.charges, f.impaired):
            bad.append((f.code, "charges, impaired", charges, impaired, f.charges, f.impaired))
        model = {k: f.balance()[k] for k in journal}
        if journal != model:
            bad.append((f.code, "journal", journal, "model", model))
        if a("pledged_contributions") != -a("pledges_receivable"):
            bad.append((f.code, "pledged_contributions", a("pledged_contributions")))
        if a("cash") != f.received + f.earnings - f.charges - f.impaired:
            bad.append((f.code, "cash", a("cash"), f.received + f.earnings))
    assert not bad, "seed %d: %r" % (SEED, bad)


def api_balance(api, code):
    return api.ok("fund.balance", {"code": code})


def _fund_figures(env, codes, query):
    rows = {}
    for line in env.sql(query % codes).split():
        code, *nums = line.split("|")
        rows[code] = [int(n) for n in nums]
    return rows


def test_fund_rows_equal_model(env, walk):
    """The fund's current figures (row + unfolded deltas) equal the model; after a fold the
    row alone does, and no delta is left behind."""
    codes = ",".join(sql_lit(f.code) for f in walk.funds)
    current = _fund_figures(env, codes, "SELECT (c).code, (c).received, (c).earnings, "
                            "(c).pledged, (c).committed, (c).disbursed, (c).charges, "
                            "(c).impaired FROM (SELECT fl.fund_current(f) AS c FROM fl.fund f "
                            "WHERE code IN (%s)) x")
    env.sql("SELECT fl.fund_fold(code) FROM fl.fund WHERE code IN (%s)" % codes)
    rows = _fund_figures(env, codes, "SELECT code, received, earnings, pledged, committed, "
                         "disbursed, charges, impaired FROM fl.fund WHERE code IN (%s)")
    for f in walk.funds:
        b = f.balance()
        want = [b["received"], b["earnings"], b["pledged"], 0, 0, f.charges, f.impaired]
        assert json.loads(env.sql("SELECT fl.fund_balance_from_journal(%s)"
                                  % sql_lit(f.code))) == \
            api_balance(walk.api, f.code), f.code
        assert current.get(f.code) == want, (f.code, current.get(f.code), b)
        assert rows.get(f.code) == want, (f.code, rows.get(f.code), b)
    assert env.sql("SELECT count(*) FROM fl.fund_delta WHERE fund_code IN (%s)"
                   % codes).strip() == "0"


def test_trial_balances(walk):
    api = walk.api
    by_cur = {}
    for f in walk.funds:
        by_cur.setdefault(f.cur, []).append(f)
    for cur, funds in by_cur.items():
        tb = trial_balance(api, cur)
        assert tb["totals"]["debit"] == tb["totals"]["credit"], (cur, tb["totals"])
        deb = sum(minor(r["debit"], cur) for r in tb["accounts"])
        cred = sum(minor(r["credit"], cur) for r in tb["accounts"])
        assert deb == cred == minor(tb["totals"]["debit"], cur), (cur, deb, cred)
        for f in funds:
            rows = tb_rows(tb, f.code + ":", cur)
            sums = account_sums(walk.entries(f), cur)
            for acc, s in sums.items():
                assert acc in rows, (acc, "missing from the trial balance")
                d, c = rows[acc]
                assert d - c == s, (acc, rows[acc], s)


def test_contributions_equal_model(walk):
    api = walk.api
    for f in walk.funds:
        items, _ = pages(api, "contribution.list", {"fund": f.code}, "contributions", 1000)
        mine = {c.cid: c for c in walk.contribs.values() if c.fund is f}
        assert [x["contribution_id"] for x in items if x["contribution_id"] in mine] == \
            [x["contribution_id"] for x in items]
        assert {x["contribution_id"] for x in items} == set(mine), f.code
        for x in items:
            c = mine[x["contribution_id"]]
            assert (x["status"], x["fund_amount"], x["amount"], x["currency"],
                    x["partner_id"], x["received"], x["received_fund_amount"],
                    len(x["receipts"])) == (c.status, money(c.fund_amount, f.cur),
                                            money(c.amount, c.cur), c.cur, c.partner,
                                            money(c.got, c.cur), money(c.rfa, f.cur),
                                            c.parts), x
        pledged = sum(c.fund_amount - c.cleared for c in mine.values()
                      if c.status == "pledged")
        received = sum(c.rfa for c in mine.values())
        assert (pledged, received) == (f.pledged, f.received), f.code
