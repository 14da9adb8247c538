"""The books (docs/ledger.md): money in integer minor units, fresh funds and partners,
balances, paging, the journal of one fund and the figures it adds up to, the trial balance.

Money is never a float here: decimal strings on the wire, Python ints of minor units in every
model, decimal.Decimal only for the half-even FX reference.
"""

import datetime
import re
from decimal import ROUND_HALF_EVEN, Decimal

from fl.env import uniq

# ISO 4217 minor units of every currency the ledger tests use.
DECIMALS = {
    "EUR": 2, "USD": 2, "GBP": 2, "AMD": 2, "CHF": 2, "NOK": 2, "SEK": 2, "DKK": 2,
    "PLN": 2, "CZK": 2, "HUF": 2, "MNT": 2, "GEL": 2, "CAD": 2, "AUD": 2, "RON": 2,
    "JPY": 0, "ISK": 0, "KRW": 0, "CLP": 0, "PYG": 0, "VND": 0,
    "KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3, "IQD": 3, "LYD": 3,
    "CLF": 4,
}

BALANCE_KEYS = ("received", "earnings", "pledged", "committed", "disbursed", "transferred_in",
                "transferred_out", "charges", "capital_impaired", "available")
FUND_KEYS = {"code", "name", "currency", "kind", "dual_approval_above", "created_at"}
PARTNER_KEYS = {"partner_id", "name", "country", "kind", "email", "created_at"}
CONTRIBUTION_KEYS = {
    "contribution_id", "partner_id", "fund", "status", "amount", "currency", "fx_rate",
    "fund_amount", "fund_currency", "earmark_region", "earmark_region_code", "pledged_at",
    "received_at", "bank_ref", "cancelled_at", "cancel_reason", "created_at",
}
ACCOUNTS = ("cash", "pledges_receivable", "pledged_contributions", "contributions", "earnings")
# All of a fund's accounts: grants, transfers, fees and losses included.
FUND_ACCOUNTS = ACCOUNTS + ("commitments", "grants_committed", "grants_disbursed",
                            "transfers_in", "transfers_out", "bank_charges",
                            "investment_losses", "capital_impaired")

TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


# --------------------------------------------------------------------------------------------
# Time


def parse_time(s):
    """An RFC 3339 UTC result time ("...T10:00:00.123456Z") as an aware datetime."""
    assert isinstance(s, str) and TIME_RE.match(s), s
    base, _, frac = s[:-1].partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S")
    return t.replace(microsecond=int((frac + "000000")[:6]) if frac else 0,
                     tzinfo=datetime.timezone.utc)


def rfc3339(t, micro=False):
    t = t.astimezone(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


# --------------------------------------------------------------------------------------------
# Money


def money_re(cur):
    d = DECIMALS[cur]
    return re.compile(r"^-?\d+$" if d == 0 else r"^-?\d+\.\d{%d}$" % d)


def minor(s, cur):
    """A result's decimal string (exactly the currency's minor digits) in minor units."""
    assert isinstance(s, str), "money must be a decimal string, got %r" % (s,)
    assert money_re(cur).match(s), \
        "%r is not a %s amount with exactly %d decimals" % (s, cur, DECIMALS[cur])
    neg = s.startswith("-")
    digits = s.lstrip("-").replace(".", "")
    v = int(digits)
    return -v if neg else v


def param_minor(s, cur):
    """A param's decimal string (at most the currency's minor digits) in minor units."""
    d = DECIMALS[cur]
    whole, _, frac = s.partition(".")
    assert len(frac) <= d, (s, cur)
    return int(whole) * 10 ** d + int((frac + "0" * d)[:d] or "0")


def money(n, cur):
    """Minor units as the exact result string ("12.30", "5", "0.125")."""
    d = DECIMALS[cur]
    sign = "-" if n < 0 else ""
    n = abs(n)
    if d == 0:
        return "%s%d" % (sign, n)
    return "%s%d.%0*d" % (sign, n // 10 ** d, d, n % 10 ** d)


def fx_minor(amount, rate, fund_cur):
    """round_half_even(amount x rate) in the fund currency's minor units (docs/ledger.md)."""
    q = Decimal(1).scaleb(-DECIMALS[fund_cur])
    v = (Decimal(amount) * Decimal(rate)).quantize(q, rounding=ROUND_HALF_EVEN)
    return int(v.scaleb(DECIMALS[fund_cur]))


def zero(cur):
    return money(0, cur)


# --------------------------------------------------------------------------------------------
# Objects


def fund_code(prefix="F"):
    return uniq(prefix).upper()


def new_fund(api, currency="EUR", kind="pass_through", dual="1000", name=None, prefix="F"):
    params = {"code": fund_code(prefix), "name": name or "Fund " + uniq("n"),
              "currency": currency, "kind": kind, "dual_approval_above": dual}
    f = api.ok("fund.create", params)
    assert f["code"] == params["code"], f
    return f


def new_partner(api, name=None, country="AM", kind="individual", email=None):
    params = {"name": name or "Partner " + uniq("p"), "country": country, "kind": kind}
    if email is not None:
        params["email"] = email
    p = api.ok("partner.create", params)
    assert isinstance(p.get("partner_id"), str) and p["partner_id"], p
    return p


def balance(api, code, cur):
    """fund.balance as {key: minor units}, checking the string format of every figure."""
    b = api.ok("fund.balance", {"code": code})
    assert b["code"] == code and b["currency"] == cur, b
    return {k: minor(b[k], cur) for k in BALANCE_KEYS}


def expected_balance(kind, received=0, earnings=0, pledged=0, committed=0, disbursed=0,
                     transferred_in=0, transferred_out=0, charges=0, capital_impaired=0):
    avail = (((received - capital_impaired) if kind == "pass_through" else 0) + earnings
             + transferred_in - transferred_out - charges - committed - disbursed)
    return {"received": received, "earnings": earnings, "pledged": pledged,
            "committed": committed, "disbursed": disbursed, "transferred_in": transferred_in,
            "transferred_out": transferred_out, "charges": charges,
            "capital_impaired": capital_impaired, "available": avail}


def missing_like(real_id):
    """An id of the same shape as real_id that names nothing (same prefix, digits zeroed)."""
    head, sep, tail = real_id.rpartition("_")
    return head + sep + "0" * len(tail) if sep else "0" * len(real_id)


# --------------------------------------------------------------------------------------------
# Paging


def pages(api, method, params, key, limit, max_pages=100000):
    """Follows next_cursor from the first page to the end; returns (items, [page sizes]).
    Checks each page is at most `limit` long and that only the last has next_cursor null."""
    items, sizes = [], []
    cursor = None
    for _ in range(max_pages):
        p = dict(params)
        p["limit"] = limit
        if cursor is not None:
            p["cursor"] = cursor
        res = api.ok(method, p)
        assert set(res) >= {key, "next_cursor"}, res.keys()
        page = res[key]
        assert isinstance(page, list) and len(page) <= limit, (method, len(page), limit)
        items.extend(page)
        sizes.append(len(page))
        cursor = res["next_cursor"]
        if cursor is None:
            return items, sizes
        assert isinstance(cursor, str) and cursor, res["next_cursor"]
        assert page, "an empty page with a non-null next_cursor (%s %r)" % (method, p)
    raise AssertionError("%s: more than %d pages" % (method, max_pages))


def all_items(api, method, params, key):
    return pages(api, method, params, key, 1000)[0]


# --------------------------------------------------------------------------------------------
# Journal


def entries_for(api, account):
    """Every entry with a posting on `account`, oldest first."""
    return all_items(api, "ledger.entries", {"account": account}, "entries")


def fund_entries(api, code, accounts=ACCOUNTS):
    """Every entry touching one of the fund's accounts, deduplicated, in first-seen order."""
    seen, out = set(), []
    for a in accounts:
        for e in entries_for(api, "%s:%s" % (code, a)):
            if e["entry_id"] not in seen:
                seen.add(e["entry_id"])
                out.append(e)
    return out


def check_entry(e):
    """An entry's shape and that its postings sum to zero in each currency."""
    assert set(e) >= {"entry_id", "at", "value_date", "kind", "memo", "postings"}, e
    assert isinstance(e["entry_id"], str) and e["entry_id"], e
    assert TIME_RE.match(e["at"]), e["at"]
    assert TIME_RE.match(e["value_date"]), e["value_date"]
    assert len(e["postings"]) >= 2, e
    sums = {}
    for p in e["postings"]:
        assert set(p) >= {"account", "amount", "currency"}, p
        v = minor(p["amount"], p["currency"])
        assert v != 0, "zero posting in %r" % e
        sums[p["currency"]] = sums.get(p["currency"], 0) + v
    assert all(v == 0 for v in sums.values()), "entry does not balance: %r" % (e,)


def account_sums(entries, cur):
    """{account: signed sum of its postings (debit positive)} over the given entries."""
    out = {}
    for e in entries:
        for p in e["postings"]:
            assert p["currency"] == cur, (p, cur)
            out[p["account"]] = out.get(p["account"], 0) + minor(p["amount"], cur)
    return out


def postings_of(entry):
    """{account: signed minor amount} of one entry (an account twice is summed)."""
    out = {}
    for p in entry["postings"]:
        out[p["account"]] = out.get(p["account"], 0) + minor(p["amount"], p["currency"])
    return out


def trial_balance(api, currency, as_of=None):
    params = {"currency": currency}
    if as_of is not None:
        params["as_of"] = as_of
    return api.ok("ledger.trial_balance", params)


def tb_rows(tb, prefix, cur):
    """{account: (debit, credit)} of the trial balance rows whose name starts with prefix."""
    out = {}
    for row in tb["accounts"]:
        assert set(row) >= {"account", "debit", "credit"}, row
        if row["account"].startswith(prefix):
            assert row.get("currency", cur) == cur, row
            out[row["account"]] = (minor(row["debit"], cur), minor(row["credit"], cur))
    return out


# --------------------------------------------------------------------------------------------
# The books of one fund, grants included


def fund_journal(api, code, cur="EUR"):
    """Every journal entry with a posting on any of the fund's eleven accounts, deduplicated
    and ordered by entry id where ids are numeric (first-seen order otherwise). Each entry's
    shape and balance are checked, and all its postings must be on this fund's accounts."""
    out = fund_entries(api, code, FUND_ACCOUNTS)
    for e in out:
        check_entry(e)
        for p in e["postings"]:
            assert p["account"].startswith(code + ":"), \
                "entry %r of fund %s posts to another fund" % (e, code)
            assert p["currency"] == cur, p
    if all(re.match(r"^\D*\d+$", e["entry_id"]) for e in out):
        out.sort(key=lambda e: int(re.sub(r"\D", "", e["entry_id"])))
    return out


def entries_of_kind(entries, kind):
    return [e for e in entries if e["kind"] == kind]


def short_postings(entry, code):
    """{short account name: signed minor amount} of one entry of fund `code`."""
    return {k[len(code) + 1:]: v for k, v in postings_of(entry).items()}


def journal_figures(entries, code):
    """The fund's figures as the journal says them (docs/ledger.md, Balances), plus cash and
    grants_committed, in minor units."""
    sums = {a: 0 for a in FUND_ACCOUNTS}
    for e in entries:
        for a, v in short_postings(e, code).items():
            assert a in sums, (a, e)
            sums[a] += v
    return {
        "received": -sums["contributions"],
        "earnings": -sums["earnings"],
        "pledged": sums["pledges_receivable"],
        "committed": -sums["commitments"],
        "disbursed": sums["grants_disbursed"],
        "transferred_in": -sums["transfers_in"],
        "transferred_out": sums["transfers_out"],
        "charges": sums["bank_charges"] + sums["investment_losses"],
        "capital_impaired": sums["capital_impaired"],
        "cash": sums["cash"],
        "grants_committed": sums["grants_committed"],
    }
