"""A seeded random walk of ~2,000 ledger operations, valid and invalid, sent in JSON-RPC
batches, against a model kept in Python integers: pledges received whole or in parts (each
at its own rate, some with a bank fee) and written off, direct receipts with and without
fees, income of every kind, and fees and losses (an endowment's beyond its earnings charged to
its capital); transfers between funds are made in the walk's batches and confirmed,
cancelled or refused (not covered, maker confirming, confirmed twice) by a second admin
after each batch (docs/ledger.md "Balances": "The
integration tests check the maintained figures against the journal after thousands of random
operations").

At the end, for every fund of the walk: fund.balance == the model == the sums of the
fund's postings in ledger.entries == the figures kept on the fund row; every entry balances;
every trial balance balances; every contribution is in the state and amount the model says.

Receipts and earnings carry random value dates up to a year back, and a second walk adds
grants, payments dated in the past, failed payments and cancelled grants. For the funds of
both, at many as_of points (every value date, a microsecond before it, recording times):
fund.balance as_of, the fund's trial balance as_of and over ranges between those points,
and ledger.entries from/to all agree with the sums of the journal's postings by value date
(and, with basis=recorded, by recording time); opening + debit - credit = closing for every
account, and one range's closing balance is the next one's opening balance.

A third walk, in a database of its own, dates receipts and earnings around its first open
day and closes periods between batches: entries dated in a closed period are refused, and
every close's record (the digest of its export, its balances) still holds at the end.

LEDGER_SEED=n picks another sequence; LEDGER_OPS=n another length.
"""

import csv
import datetime
import hashlib
import io
import json
import os
import random
import time
from decimal import Decimal

import pytest

from fl.env import uniq
from fl.client import Client, create_principal, new_client
from fl.db import sql_lit
from fl.ledger import (DECIMALS, FUND_ACCOUNTS, account_sums, check_entry, fund_code,
                       fund_entries, fund_journal, fx_minor, minor, money, pages, parse_time,
                       postings_of, rfc3339, short_postings, tb_rows, trial_balance, utcnow)
from fl.grants import REGIONS, returnee_params

SEED = int(os.environ.get("LEDGER_SEED", "20261123"))
N_OPS = int(os.environ.get("LEDGER_OPS", "2000"))
FUND_CURRENCIES = ["EUR", "JPY", "KWD"]
CONTRIB_CURRENCIES = ["EUR", "JPY", "KWD", "USD"]
BATCH = 100
ROUGH_RATES = {"EUR": Decimal(1), "USD": Decimal("0.92"), "JPY": Decimal("0.0062"),
               "KWD": Decimal("3.0")}


def back_date(rng):
    """A value date for a receipt, an earning or a payment: None (now) or a day (midnight
    UTC) or a time in the last year, so that many entries share a day."""
    r = rng.random()
    if r < 0.3:
        return None
    t = utcnow() - datetime.timedelta(days=rng.randint(0, 360),
                                      seconds=rng.randint(0, 86399))
    if r < 0.75:
        return t.date().isoformat()
    return rfc3339(t, micro=rng.random() < 0.5)


class Fund:
    def __init__(self, code, cur, kind):
        self.code, self.cur, self.kind = code, cur, kind
        self.received = self.earnings = self.pledged = self.charges = self.impaired = 0
        self.transferred_in = self.transferred_out = 0
        self.planned_charges = 0    # fees and losses generated in the batch being built
        self.kinds = {"pledge": 0, "receipt": 0, "pledge_cancel": 0, "earnings": 0,
                      "pledge_write_off": 0, "fee": 0, "loss": 0, "transfer_out": 0,
                      "transfer_in": 0, "receipt_reversal": 0}

    def available(self):
        return (((self.received - self.impaired) if self.kind == "pass_through" else 0)
                + self.earnings + self.transferred_in - self.transferred_out - self.charges)

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
                "transferred_in": self.transferred_in,
                "transferred_out": self.transferred_out, "charges": self.charges,
                "capital_impaired": self.impaired, "available": self.available()}


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
        self.direct = status == "received"      # a direct receipt, which may be reversed
        self.split = (0, 0)                     # its fee: (charged to income, to capital)


class Transfer:
    def __init__(self, tid, src, dst, amount, to_amount):
        self.tid, self.src, self.dst = tid, src, dst
        self.amount, self.to_amount = amount, to_amount
        self.status = "pending"


class Walk:
    def __init__(self, api, rng, checker=None):
        self.api = api
        self.checker = checker      # a second admin: confirms the walk's transfers
        self.transfers = []
        self.n_confirm_refusals = 0
        self.n_reversal_refusals = 0
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
            self._entries[fund.code] = fund_entries(self.api, fund.code, FUND_ACCOUNTS)
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
            when = back_date(rng)
            if when is not None:
                p["received_at"] = when
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
            when = back_date(rng)
            if when is not None:
                p["received_at"] = when
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
            y = rng.random()
            if y < 0.3:
                p["value_date"] = back_date(rng) or rfc3339(utcnow())
            elif y < 0.6:
                # a quarter or a month: its last day, or now while that is to come
                p["period"] = rng.choice(["2026-Q%d" % rng.randint(1, 4),
                                          "2026-%02d" % rng.randint(1, 12), "2025-H2"])
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
        if x < 0.81:
            return self.gen_transfer(fund)
        direct = [c for c in settled if planned[c] == "received" and self.contribs[c].direct]
        if x < 0.84 and direct:
            cid = rng.choice(direct)
            planned[cid] = "busy"
            p = {"contribution_id": cid, "reason": "walk " + uniq("v")}
            if rng.random() < 0.2:
                p["idempotency_key"] = uniq("vk")
            return "contribution.reverse", p, ("ok", "reverse", {"cid": cid})
        return self.gen_invalid(fund, pledged, settled)

    def gen_transfer(self, src):
        """fund.transfer from src: to a pass-through fund, at a rate when the currencies
        differ, of up to about 1.3 times what src has available now (so that some are not
        covered when confirmed); sometimes to an endowment or to itself (refused)."""
        rng = self.rng
        dsts = [f for f in self.funds if f.kind == "pass_through" and f is not src]
        y = rng.random()
        if y < 0.05 or not dsts:
            dst = rng.choice([f for f in self.funds if f.kind == "endowment"] or [src])
        elif y < 0.08:
            dst = src
        else:
            dst = rng.choice(dsts)
        top = max(1, src.available() * 13 // 10)
        units = rng.choice([rng.randint(1, top), rng.randint(1, 1000)])
        text = self.amount_text(units, src.cur)
        p = {"from": src.code, "to": dst.code, "amount": text, "memo": "walk " + uniq("t")}
        rate = None
        if dst.cur != src.cur:
            rate = self.rate_for(src.cur, dst.cur)
            p["fx_rate"] = rate
        if rng.random() < 0.1:
            p["idempotency_key"] = uniq("tk")
        if dst is src:
            return "fund.transfer", p, ("error", -32602, "to")
        if dst.kind == "endowment":
            return "fund.transfer", p, ("error", -32602, "to")
        to_amount = units if rate is None else fx_minor(text, rate, dst.cur)
        if to_amount < 1:
            return "fund.transfer", p, ("error", -32602, "amount")
        return "fund.transfer", p, ("ok", "transfer", {"src": src, "dst": dst, "units": units,
                                                        "to": to_amount})

    def run_checks(self):
        """After a batch of the walk: the maker tries to confirm one of its pending
        transfers (-32011); the checker confirms most pending ones (each either covered by
        its source's available balance, which the model knows, or -32010 with that
        balance), cancels some, and confirms a confirmed one again (-32009)."""
        rng = self.rng
        pending = [t for t in self.transfers if t.status == "pending"]
        if pending and rng.random() < 0.3:
            t = rng.choice(pending)
            d = self.api.batch([("fund.transfer_confirm", {"transfer_id": t.tid})])[0]
            self.n_calls += 1
            if (d.get("error") or {}).get("code") != -32011:
                self.problem("fund.transfer_confirm by its maker", t.tid, -32011, d)
        ops = []
        for t in pending:
            y = rng.random()
            if y < 0.7:
                ops.append(("fund.transfer_confirm", {"transfer_id": t.tid}, t))
            elif y < 0.85:
                ops.append(("fund.transfer_cancel", {"transfer_id": t.tid,
                                                     "reason": "walk"}, t))
        done = [t for t in self.transfers if t.status == "confirmed"]
        if done and rng.random() < 0.5:
            t = rng.choice(done)
            ops.insert(rng.randint(0, len(ops)), ("fund.transfer_confirm",
                                                  {"transfer_id": t.tid}, t))
        if not ops:
            return
        docs = self.checker.batch([(m, p) for m, p, _ in ops])
        self.n_calls += len(ops)
        for (m, p, t), d in zip(ops, docs):
            err = d.get("error") or {}
            if t.status != "pending":
                if err.get("code") != -32009:
                    self.problem(m, p, -32009, d)
                continue
            if m == "fund.transfer_cancel":
                if (d.get("result") or {}).get("status") != "cancelled":
                    self.problem(m, p, "cancelled", d)
                t.status = "cancelled"
                continue
            avail = t.src.available()
            if t.amount > avail:
                self.n_confirm_refusals += 1
                if err.get("code") != -32010 or (err.get("data") or {}).get("available") != \
                        money(avail, t.src.cur):
                    self.problem(m, p, ("error", -32010, money(avail, t.src.cur)), d)
                continue
            r = d.get("result") or {}
            if r.get("status") != "confirmed" or r.get("to_amount") != money(t.to_amount,
                                                                             t.dst.cur):
                self.problem(m, p, "confirmed", d)
                continue
            t.status = "confirmed"
            t.src.transferred_out += t.amount
            t.dst.transferred_in += t.to_amount
            t.src.kinds["transfer_out"] += 1
            t.dst.kinds["transfer_in"] += 1

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
        what, info = expect[1], expect[2]
        if what == "reverse" and self.refused_reversal(info["cid"], doc):
            return
        if "result" not in doc:
            self.problem(method, params, expect, doc)
            return
        res = doc["result"]
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
                    c.split = fund.charge(info["fee"])
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
        elif what == "reverse":
            c = self.contribs[info["cid"]]
            if res.get("status") != "reversed" or res.get("contribution_id") != c.cid or \
                    not res.get("reversal_entry_id"):
                self.problem(method, params, "reversed", doc)
            c.status = "reversed"
            c.fund.received -= c.fund_amount
            c.fund.charges -= c.split[0]
            c.fund.impaired -= c.split[1]
            c.fund.kinds["receipt_reversal"] += 1
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
        elif what == "transfer":
            src, dst = info["src"], info["dst"]
            want = {"from": src.code, "to": dst.code, "status": "pending",
                    "amount": money(info["units"], src.cur), "currency": src.cur,
                    "to_amount": money(info["to"], dst.cur), "to_currency": dst.cur}
            if {k: res.get(k) for k in want} != want:
                self.problem(method, params, want, doc)
            else:
                self.transfers.append(Transfer(res["transfer_id"], src, dst, info["units"],
                                               info["to"]))
        if "idempotency_key" in params:
            self.keyed.append((method, params, res))

    def refused_reversal(self, cid, doc):
        """A reversal the database refused: true when the model agrees it had to (the
        fund's balance cannot bear it, or a transfer out of the fund may have used the
        receipt); a refusal it disagrees with is a problem."""
        err = doc.get("error")
        if err is None:
            return False
        c = self.contribs[cid]
        f = c.fund
        reason = (err.get("data") or {}).get("reason")
        self.n_refusals += 1
        if err.get("code") == -32010 and reason == "insufficient_funds":
            avail = f.available() + c.split[0] + \
                ((c.split[1] - c.fund_amount) if f.kind == "pass_through" else 0)
            if avail < 0 or f.impaired - c.split[1] > f.received - c.fund_amount:
                self.n_reversal_refusals += 1
                return True
        if err.get("code") == -32010 and reason == "already_used" and f.transferred_out:
            self.n_reversal_refusals += 1
            return True
        self.problem("contribution.reverse", {"contribution_id": cid}, "reversed", doc)
        return True

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
            planned = self.plan()
            ops = [self.gen(planned) for _ in range(min(BATCH, n_ops - done))]
            self.run_batch(ops)
            self.run_checks()
            done += len(ops)

    def plan(self):
        """Before a batch is generated: each contribution's state as gen() takes it (a
        pledge with receipts is "partial"), and no fee or loss planned yet."""
        for f in self.funds:
            f.planned_charges = 0
        return {cid: "partial" if c.status == "pledged" and c.parts else c.status
                for cid, c in self.contribs.items()}


@pytest.fixture(scope="module")
def walk(daemon, admin):
    api = Client.api(daemon, admin, timeout=120)
    checker = Client.api(daemon, create_principal(daemon, admin, ["admin"])["token"],
                         timeout=120)
    w = Walk(api, random.Random(SEED), checker)
    t0 = time.monotonic()
    w.run(N_OPS)
    w.seconds = time.monotonic() - t0
    yield w
    checker.close()
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
    states = [t.status for t in walk.transfers]
    print("transfers: %d confirmed, %d cancelled, %d pending, %d not covered when confirmed"
          % (states.count("confirmed"), states.count("cancelled"), states.count("pending"),
             walk.n_confirm_refusals))
    assert states.count("confirmed") >= 20 and states.count("cancelled") >= 5, states
    assert walk.n_confirm_refusals >= 5, walk.n_confirm_refusals
    assert len({(t.src.cur, t.dst.cur) for t in walk.transfers
                if t.status == "confirmed" and t.src.cur != t.dst.cur}) >= 3
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
                   "pledged": a("pledges_receivable"), "transferred_in": -a("transfers_in"),
                   "transferred_out": a("transfers_out")}
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
        if a("cash") != f.received + f.earnings + f.transferred_in - f.transferred_out - \
                f.charges - f.impaired:
            bad.append((f.code, "cash", a("cash"), f.received + f.earnings,
                        f.transferred_in, f.transferred_out, f.charges, f.impaired))
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
                            "(c).pledged, (c).committed, (c).disbursed, (c).transferred_in, "
                            "(c).transferred_out, (c).charges, (c).impaired FROM (SELECT "
                            "fl.fund_current(f) AS c FROM fl.fund f WHERE code IN (%s)) x")
    env.sql("SELECT fl.fund_fold(code) FROM fl.fund WHERE code IN (%s)" % codes)
    rows = _fund_figures(env, codes, "SELECT code, received, earnings, pledged, committed, "
                         "disbursed, transferred_in, transferred_out, charges, impaired "
                         "FROM fl.fund WHERE code IN (%s)")
    for f in walk.funds:
        b = f.balance()
        want = [b["received"], b["earnings"], b["pledged"], 0, 0, b["transferred_in"],
                b["transferred_out"], f.charges, f.impaired]
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
        received = sum(c.rfa for c in mine.values() if c.status != "reversed")
        assert (pledged, received) == (f.pledged, f.received), f.code


# --------------------------------------------------------------------------------------------
# Reading by value date: fund.balance as_of, the trial balance and ledger.entries against the
# journal at many points


FIGURES = ("received", "earnings", "pledged", "committed", "disbursed", "transferred_in",
           "transferred_out", "charges", "capital_impaired", "available")


def _figures(entries, code, kind):
    """The fund's figures (fund.balance's) as the sums of the given entries' postings."""
    s = {a: 0 for a in FUND_ACCOUNTS}
    for e in entries:
        for a, v in short_postings(e, code).items():
            s[a] += v
    f = {"received": -s["contributions"], "earnings": -s["earnings"],
         "pledged": s["pledges_receivable"], "committed": -s["commitments"],
         "disbursed": s["grants_disbursed"], "transferred_in": -s["transfers_in"],
         "transferred_out": s["transfers_out"],
         "charges": s["bank_charges"] + s["investment_losses"],
         "capital_impaired": s["capital_impaired"]}
    f["available"] = ((f["received"] - f["capital_impaired"]) if kind == "pass_through"
                      else 0) + f["earnings"] + f["transferred_in"] - f["transferred_out"] - \
        f["charges"] - f["committed"] - f["disbursed"]
    return f


def _turnover(entries, cur):
    """{account: [net, debit, credit]} of the given entries."""
    out = {}
    for e in entries:
        for p in e["postings"]:
            v = minor(p["amount"], cur)
            t = out.setdefault(p["account"], [0, 0, 0])
            t[0] += v
            t[1 if v > 0 else 2] += abs(v)
    return out


def _points(entries, rng):
    """as_of points: every value date (entries on it count), a microsecond before some of
    them, some recording times, a time before everything and one after."""
    one = datetime.timedelta(microseconds=1)
    vds = sorted({parse_time(e["value_date"]) for e in entries})
    ats = sorted({parse_time(e["at"]) for e in entries})
    pts = set(rng.sample(vds, min(len(vds), 14)))
    pts |= {t - one for t in rng.sample(vds, min(len(vds), 6))}
    pts |= set(rng.sample(ats, min(len(ats), 5)))
    pts |= {datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
            utcnow() + datetime.timedelta(minutes=10)}
    return sorted(pts)


def check_by_value_date(api, code, cur, kind, seed):
    """Problems (a list) of fund `code` read at many as_of points and over ranges."""
    rng = random.Random(seed)
    es = fund_journal(api, code, cur)
    pts = _points(es, rng)
    assert len(pts) >= 3, (code, pts)
    vd = {e["entry_id"]: parse_time(e["value_date"]) for e in es}
    at = {e["entry_id"]: parse_time(e["at"]) for e in es}
    t_of = {"value": vd, "recorded": at}
    problems = []
    calls, wants = [], []
    for t in pts:
        ts = rfc3339(t, micro=True)
        for basis in ("value", "recorded"):
            upto = [e for e in es if t_of[basis][e["entry_id"]] <= t]
            calls.append(("fund.balance", {"code": code, "as_of": ts, "basis": basis}))
            wants.append(("balance", ts, basis, _figures(upto, code, kind)))
            calls.append(("ledger.trial_balance", {"fund": code, "as_of": ts,
                                                   "basis": basis}))
            wants.append(("tb", ts, basis, (_turnover([], cur), _turnover(upto, cur))))
    for lo, hi in zip(pts, pts[1:]):
        for basis in ("value", "recorded"):
            tt = t_of[basis]
            before = [e for e in es if tt[e["entry_id"]] < lo]
            inside = [e for e in es if lo <= tt[e["entry_id"]] < hi]
            params = {"fund": code, "from": rfc3339(lo, micro=True),
                      "to": rfc3339(hi, micro=True), "basis": basis}
            calls.append(("ledger.trial_balance", params))
            wants.append(("tb", params["from"] + ".." + params["to"], basis,
                          (_turnover(before, cur), _turnover(inside, cur))))
    for i in range(0, len(calls), 100):
        docs = api.batch(calls[i:i + 100])
        for (what, where, basis, want), d in zip(wants[i:i + 100], docs):
            if "result" not in d:
                problems.append((code, what, where, basis, d))
                continue
            r = d["result"]
            if what == "balance":
                got = {k: minor(r[k], cur) for k in FIGURES}
                if got != want:
                    problems.append((code, "fund.balance", where, basis, got, "journal", want))
                continue
            opening, turnover = want
            got = {}
            for row in r["accounts"]:
                o, dr, cr, cl = (minor(row[k], cur) for k in ("opening", "debit", "credit",
                                                                  "closing"))
                if o + dr - cr != cl:
                    problems.append((code, where, basis, "opening+debit-credit", row))
                got[row["account"]] = (o, dr, cr)
            accts = set(opening) | set(turnover)
            exp = {a: (opening.get(a, [0])[0], turnover.get(a, [0, 0, 0])[1],
                       turnover.get(a, [0, 0, 0])[2]) for a in accts}
            if got != exp:
                problems.append((code, "trial balance", where, basis, got, "journal", exp))
            if r["currency"] != cur:
                problems.append((code, where, "currency", r["currency"]))
            tot = r["totals"]
            for side in ("opening_", "", "closing_"):
                if tot[side + "debit"] != tot[side + "credit"]:
                    problems.append((code, where, basis, "totals", tot))
    # ledger.entries by value date over the same ranges, on the fund's cash account
    cash = code + ":cash"
    for lo, hi in zip(pts, pts[1:]):
        want = [e["entry_id"] for e in es if lo <= vd[e["entry_id"]] < hi and
                any(p["account"] == cash for p in e["postings"])]
        got = [e["entry_id"] for e in pages(api, "ledger.entries", {
            "account": cash, "from": rfc3339(lo, micro=True), "to": rfc3339(hi, micro=True)},
            "entries", 1000)[0]]
        if sorted(got) != sorted(want):
            problems.append((code, "ledger.entries", lo, hi, got, "journal", want))
    return problems


def test_walk_reads_by_value_date(walk):
    """The walk's back-dated receipts and dated earnings: fund figures equal the journal's
    sums by value date (and by recording time) at any as_of."""
    bad = []
    booked = [f for f in walk.funds if sum(f.kinds.values())]
    assert len(booked) >= 6, "only %d funds of the walk have entries" % len(booked)
    for i, f in enumerate(booked):
        bad += check_by_value_date(walk.api, f.code, f.cur, f.kind, SEED + i)
    assert not bad, "seed %d: %d problems, first ones:\n%s" % (
        SEED, len(bad), "\n".join(repr(b) for b in bad[:10]))


class DatedWalk:
    """Receipts (direct and of pledges), pledges and their cancellations, earnings, grants,
    payments, failed payments and cancelled grants, each with a random value date where it
    takes one, in rounds of batches: one of the admin's, the approver's decisions, the
    payments, their confirmations by a second admin, cancellations. The journal is the
    reference; the walk only counts what it did and collects unexpected answers."""

    def __init__(self, api, appr, checker, rng):
        self.api, self.appr, self.checker, self.rng = api, appr, checker, rng
        self.funds = []          # (code, cur, kind)
        self.partners, self.returnees = [], []
        self.pledges = []
        self.grants = {}         # grant_id: {"code", "amount", "paid", "pending", "status"}
        self.pending = []        # disbursement ids
        self.done = {}
        self.problems = []

    def _batch(self, api, calls, ok_codes=()):
        out = []
        for i in range(0, len(calls), 100):
            docs = api.batch(calls[i:i + 100])
            for (m, p), d in zip(calls[i:i + 100], docs):
                if "result" in d:
                    self.done[m] = self.done.get(m, 0) + 1
                    out.append(d["result"])
                    continue
                if d.get("error", {}).get("code") not in ok_codes:
                    self.problems.append((m, p, d))
                out.append(None)
        return out

    def setup(self):
        rng = self.rng
        calls = []
        for cur, kind in (("EUR", "pass_through"), ("EUR", "endowment"),
                          ("JPY", "pass_through"), ("KWD", "endowment")):
            code = fund_code("D")
            self.funds.append((code, cur, kind))
            calls.append(("fund.create", {"code": code, "name": "Dated " + uniq("f"),
                                          "currency": cur, "kind": kind,
                                          "dual_approval_above": money(10 ** 15, cur)}))
        for i in range(6):
            calls.append(("partner.create", {"name": "Dated partner " + uniq("p"),
                                             "country": "FR", "kind": "individual"}))
        for i in range(8):
            calls.append(("returnee.register", returnee_params(
                region=rng.choice(REGIONS)[1])))
        for r in self._batch(self.api, calls):
            if r and "partner_id" in r:
                self.partners.append(r["partner_id"])
            elif r and "returnee_id" in r:
                self.returnees.append(r["returnee_id"])

    def amount(self, cur, top):
        return money(self.rng.randint(1, top), cur)

    def round(self):
        rng = self.rng
        calls = []
        for _ in range(50):
            code, cur, kind = rng.choice(self.funds)
            x = rng.random()
            if x < 0.3:
                p = {"partner_id": rng.choice(self.partners), "fund": code,
                     "amount": self.amount(cur, 5_000_000), "currency": cur}
                when = back_date(rng)
                if when is not None:
                    p["received_at"] = when
                calls.append(("contribution.receive", p))
            elif x < 0.45:
                calls.append(("contribution.pledge", {
                    "partner_id": rng.choice(self.partners), "fund": code,
                    "amount": self.amount(cur, 1_000_000), "currency": cur}))
            elif x < 0.6 and self.pledges:
                cid = self.pledges.pop(rng.randrange(len(self.pledges)))
                if rng.random() < 0.75:
                    p = {"contribution_id": cid}
                    when = back_date(rng)
                    if when is not None:
                        p["received_at"] = when
                    calls.append(("contribution.receive", p))
                else:
                    calls.append(("contribution.cancel", {"contribution_id": cid,
                                                          "reason": "dated walk"}))
            elif x < 0.75:
                p = {"code": code, "amount": self.amount(cur, 300_000),
                     "period": rng.choice(["2026-Q%d" % rng.randint(1, 3),
                                           "2026-%02d" % rng.randint(1, 11), uniq("P")])}
                when = back_date(rng)
                if when is not None and rng.random() < 0.5:
                    p["value_date"] = when
                calls.append(("fund.record_earnings", p))
            else:
                calls.append(("grant.apply", {
                    "returnee_id": rng.choice(self.returnees), "fund": code,
                    "amount": self.amount(cur, 400_000),
                    "category": "small_business", "purpose": "dated walk " + uniq("g")}))
        submitted = []
        for (m, p), r in zip(calls, self._batch(self.api, calls)):
            if r is None:
                continue
            if m == "contribution.pledge":
                self.pledges.append(r["contribution_id"])
            elif m == "grant.apply":
                cur = [c for f, c, _ in self.funds if f == p["fund"]][0]
                self.grants[r["grant_id"]] = {"code": p["fund"], "cur": cur,
                                              "amount": minor(r["amount"], cur), "paid": 0,
                                              "pending": 0, "status": "submitted"}
                submitted.append(r["grant_id"])
        # the approver decides: a grant the fund cannot cover stays submitted (-32010)
        decided = self._batch(self.appr, [("grant.approve", {"grant_id": g, "comment": "ok"})
                                          for g in submitted], ok_codes=(-32010,))
        for g, r in zip(submitted, decided):
            if r is not None:
                self.grants[g]["status"] = "approved"
        # payments: part of what is left of approved grants
        pays = []
        for gid, g in self.grants.items():
            left = g["amount"] - g["paid"] - g["pending"]
            if g["status"] == "approved" and left > 0 and rng.random() < 0.6:
                amt = rng.randint(1, left) if rng.random() < 0.7 else left
                pays.append((gid, amt))
        made = self._batch(self.api, [("disbursement.create", {
            "grant_id": gid, "amount": money(amt, self.grants[gid]["cur"])})
            for gid, amt in pays])
        confirms = []
        for (gid, amt), d in zip(pays, made):
            if d is None:
                continue
            g = self.grants[gid]
            if rng.random() < 0.85:
                p = {"disbursement_id": d["disbursement_id"], "bank_ref": uniq("B")}
                when = back_date(rng)
                if when is not None:
                    p["paid_at"] = when
                confirms.append(("disbursement.confirm", p))
                g["paid"] += amt
            else:
                confirms.append(("disbursement.fail", {"disbursement_id": d["disbursement_id"],
                                                       "reason": "bounced"}))
        self._batch(self.checker, [c for c in confirms if c[0] == "disbursement.confirm"])
        self._batch(self.api, [c for c in confirms if c[0] == "disbursement.fail"])
        # cancel some approved grants that still have money committed
        cancels = [gid for gid, g in self.grants.items() if g["status"] == "approved" and
                   g["paid"] < g["amount"] and rng.random() < 0.15]
        for gid, r in zip(cancels, self._batch(self.api, [
                ("grant.cancel", {"grant_id": gid, "reason": "dated walk"})
                for gid in cancels])):
            if r is not None:
                self.grants[gid]["status"] = "cancelled"
        for g in self.grants.values():
            if g["status"] == "approved" and g["paid"] == g["amount"]:
                g["status"] = "completed"


@pytest.fixture(scope="module")
def dated(daemon, admin, approver):
    api = Client.api(daemon, admin, timeout=120)
    appr = Client.api(daemon, approver["token"], timeout=120)
    with new_client(daemon, admin, ["admin"], "dated-checker") as checker:
        w = DatedWalk(api, appr, checker, random.Random(SEED + 1))
        w.setup()
        for _ in range(int(os.environ.get("LEDGER_DATED_ROUNDS", "8"))):
            w.round()
        yield w
    api.close()
    appr.close()


def test_dated_walk_reads_by_value_date(dated):
    """With grants and payments dated in the past: fund.balance as_of, the trial balance
    as_of and over ranges, and ledger.entries agree with the journal by value date and by
    recording time, and as of now with fund.balance's maintained figures."""
    assert not dated.problems, "seed %d: unexpected answers:\n%s" % (
        SEED + 1, "\n".join(repr(p) for p in dated.problems[:10]))
    kinds = {}
    bad = []
    for i, (code, cur, kind) in enumerate(dated.funds):
        for e in fund_journal(dated.api, code, cur):
            kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
        bad += check_by_value_date(dated.api, code, cur, kind, SEED + 100 + i)
        now = dated.api.ok("fund.balance", {"code": code})
        later = dated.api.ok("fund.balance", {"code": code, "as_of": rfc3339(
            utcnow() + datetime.timedelta(minutes=10))})
        if now != later:
            bad.append((code, "fund.balance", now, "as of later", later))
    print("dated walk seed %d: %r, entries %r" % (SEED + 1, dated.done, kinds))
    for k in ("receipt", "pledge", "pledge_cancel", "earnings", "commitment",
              "disbursement", "commitment_release"):
        assert kinds.get(k, 0) >= 3, (k, kinds)
    assert not bad, "seed %d: %d problems, first ones:\n%s" % (
        SEED + 1, len(bad), "\n".join(repr(b) for b in bad[:10]))


# ------------------------------------------------------------------------------------------
# The walk with closed periods (docs/ledger.md, "Closed periods"), in a database of its own:
# its closes would refuse the old value dates of the rest of the suite.

CLOSE_OPS = int(os.environ.get("LEDGER_CLOSE_OPS", "800"))
DAY0 = datetime.date(2024, 1, 1)


def _day(d):
    return (DAY0 + datetime.timedelta(days=d)).isoformat()


class ClosingWalk(Walk):
    """The walk, with receipts and earnings value dated around the first open day, and a
    close confirmed by an auditor between batches: an entry dated in a closed day must be
    refused (-32009 period_closed naming its date's param), everything else as before."""

    def __init__(self, api, auditor_api, rng):
        super().__init__(api, rng)
        self.auditor_api = auditor_api
        self.open_day = 10          # days before it are closed
        self.closes = []
        self.n_closed_refusals = 0

    def gen(self, planned):
        method, p, expect = super().gen(planned)
        field = None
        if method == "contribution.receive" and "partner_id" in p:
            field = "received_at"
        elif method == "fund.record_earnings":
            field = "value_date"
        if field is None or "idempotency_key" in p:
            return method, p, expect
        day = self.open_day + self.rng.randint(-6, 12)
        p[field] = _day(day) + "T%02d:00:00Z" % self.rng.randint(0, 23)
        if self.closes and day < self.open_day and expect[0] == "ok":
            self.n_closed_refusals += 1
            return method, p, ("error", -32009, field)
        return method, p, expect

    def close(self):
        until = self.open_day + self.rng.randint(0, 6)
        pc = self.api.call("period.close", {"until": _day(until)})
        done = self.auditor_api.call("period.close_confirm", {"period_id": pc["period_id"]})
        assert done["status"] == "confirmed", done
        self.closes.append(done)
        self.open_day = until + 1

    def run(self, n_ops):
        super().run(0)
        done = 0
        while done < n_ops:
            planned = self.plan()
            ops = [self.gen(planned) for _ in range(min(BATCH, n_ops - done))]
            self.run_batch(ops)
            done += len(ops)
            self.close()


@pytest.fixture(scope="module")
def closing_walk(env, module_daemon_factory):
    from fl.client import create_principal
    from fl.db import database_overrides
    db = "walkclose_%s" % uniq("d").replace("-", "_").lower()
    env.sql("CREATE DATABASE %s OWNER fund_owner" % db)
    ov = database_overrides(env, db)
    conf = env.write_conf(os.path.join(env.dir, "fundd-%s.conf" % db), ov)
    p = env.fundd("migrate", conf=conf, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    admin = env.principal_add(uniq("wadmin"), ["admin"], conf=conf)
    d = module_daemon_factory("walkclose", ov)
    auditor = create_principal(d, admin, ["auditor"])["token"]
    api = Client.api(d, admin, timeout=120)
    aud = Client.api(d, auditor, timeout=120)
    w = ClosingWalk(api, aud, random.Random(SEED + 17))
    w.run(CLOSE_OPS)
    w.env, w.db, w.daemon, w.admin = env, db, d, admin
    yield w
    api.close()
    aud.close()


def test_closing_walk_outcomes(closing_walk):
    w = closing_walk
    assert not w.problems, "seed %d: %d unexpected outcomes, first ones:\n%s" % (
        SEED, len(w.problems), "\n".join(w.problems[:15]))
    assert len(w.closes) >= 5 and w.n_closed_refusals >= 20, (len(w.closes),
                                                              w.n_closed_refusals)
    docs = w.api.batch([("fund.balance", {"code": f.code}) for f in w.funds])
    for f, d in zip(w.funds, docs):
        assert {k: minor(d["result"][k], f.cur) for k in f.balance()} == f.balance(), f.code


def test_closed_periods_never_change(closing_walk):
    """After the whole walk, each close's record still holds: the export of its range has
    the digest it recorded, the balances it recorded are those of the journal today, and
    they are the sums of the closed exports up to it."""
    from fl.client import http_get
    from fl.db import psql_ok
    w = closing_walk
    sums = {}
    for c in w.closes:
        rec = c["record"].split("\n")
        fields = dict(l.split(" ", 1) for l in rec[1:-1] if not l.startswith(("account ",
                                                                             "fund ")))
        q = "/export/ledger?format=csv&to=%s" % c["export_to"]
        if c["export_from"]:
            q += "&from=" + c["export_from"]
        status, _, body = http_get(w.daemon, q, token=w.admin, timeout=60)
        assert status == 200
        assert hashlib.sha256(body).hexdigest() == fields["export_sha256"], c["until"]
        assert body.count(b"\r\n") - 1 == int(fields["export_rows"])
        for row in csv.reader(io.StringIO(body.decode(), newline="")):
            if row[0] != "entry_id":
                sums[row[4]] = sums.get(row[4], Decimal(0)) + Decimal(row[6])
        recorded = {}
        for l in rec:
            if l.startswith("account "):
                _, acct, cur, amount = l.split(" ")
                recorded[acct] = Decimal(amount)
        assert {a: v for a, v in recorded.items() if v} == \
            {a: v for a, v in sums.items() if v}, c["until"]
        now = psql_ok(w.env, "SELECT fl.period_balances('%sT00:00:00Z')" % c["export_to"],
                      db=w.db)
        # the same figures; only accounts and funds created since the close are added,
        # at zero
        then = {" ".join(l.split(" ")[:2]): l for l in rec if l.startswith(("account ",
                                                                          "fund "))}
        today = {" ".join(l.split(" ")[:2]): l for l in now.split("\n") if l}
        assert {k: today[k] for k in then} == then, c["until"]
        for k in set(today) - set(then):
            assert all(Decimal(x.split("=")[-1]) == 0 for x in today[k].split(" ")[3:]), \
                today[k]
