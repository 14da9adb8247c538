"""A friendlier fundctl (issue 18, section 8): -o table|csv|json, generated idempotency keys."""

import csv
import io
import json
import re

from fl.env import fundctl, uniq
from fl.ledger import new_fund, new_partner

KEY_LINE = re.compile(r"^idempotency-key: (fc-[0-9a-f]{24}) \(repeat with "
                      r"--idempotency-key \1 to retry safely\)$", re.M)


def base(daemon, token):
    return ["--url", daemon.url, "--cacert", daemon.env.ca, "--token", token]


def ok(daemon, token, *args):
    p = fundctl(*base(daemon, token), *args)
    assert p.returncode == 0, (p.stdout, p.stderr)
    return p


def receive(daemon, token, partner, fund, amount, *extra):
    return fundctl(*base(daemon, token), "call", "contribution.receive",
                   "partner_id=" + partner, "fund=" + fund, "amount=" + amount,
                   "currency=EUR", *extra)


def contributions(api, fund):
    return api.ok("contribution.list", {"fund": fund})["contributions"]


def test_same_key_twice_records_once(daemon, admin, api):
    f = new_fund(api)
    p = new_partner(api)
    key = uniq("k")
    a = receive(daemon, admin, p["partner_id"], f["code"], "10.00", "--idempotency-key", key)
    b = receive(daemon, admin, p["partner_id"], f["code"], "10.00", "--idempotency-key", key)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert json.loads(a.stdout)["contribution_id"] == json.loads(b.stdout)["contribution_id"]
    assert len(contributions(api, f["code"])) == 1
    # a key of the user's is not replaced, and not announced
    assert "idempotency-key:" not in a.stderr + b.stderr


def test_generated_key_is_printed_and_reused(daemon, admin, api):
    f = new_fund(api)
    p = new_partner(api)
    a = receive(daemon, admin, p["partner_id"], f["code"], "12.50")
    assert a.returncode == 0, a.stderr
    m = KEY_LINE.search(a.stderr)
    assert m, a.stderr
    first = json.loads(a.stdout)
    # the retry the line suggests answers the first result and records nothing more
    b = receive(daemon, admin, p["partner_id"], f["code"], "12.50",
                "--idempotency-key", m.group(1))
    assert b.returncode == 0, b.stderr
    assert json.loads(b.stdout)["contribution_id"] == first["contribution_id"]
    assert len(contributions(api, f["code"])) == 1
    # without the key, the same command is a second contribution, with another key
    c = receive(daemon, admin, p["partner_id"], f["code"], "12.50")
    assert c.returncode == 0, c.stderr
    m2 = KEY_LINE.search(c.stderr)
    assert m2 and m2.group(1) != m.group(1), c.stderr
    assert len(contributions(api, f["code"])) == 2


def test_generated_key_with_params_on_stdin(daemon, admin, api):
    f = new_fund(api)
    p = new_partner(api)
    params = json.dumps({"partner_id": p["partner_id"], "fund": f["code"],
                         "amount": "3.00", "currency": "EUR"})
    import subprocess
    from fl.env import FUNDCTL
    r = subprocess.run([FUNDCTL, *base(daemon, admin), "call", "contribution.receive", "-"],
                       input=params, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    m = KEY_LINE.search(r.stderr)
    assert m, r.stderr
    again = fundctl(*base(daemon, admin), "call", "contribution.receive",
                    "partner_id=" + p["partner_id"], "fund=" + f["code"], "amount=3.00",
                    "currency=EUR", "idempotency_key=" + m.group(1))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["contribution_id"] == json.loads(r.stdout)["contribution_id"]
    assert len(contributions(api, f["code"])) == 1


def test_read_gets_no_key(daemon, admin):
    p = ok(daemon, admin, "call", "system.whoami")
    assert "idempotency" not in p.stderr, p.stderr
    assert p.stderr == ""
    assert json.loads(p.stdout)["name"] == "admin"
    # a key the user gives a read is still refused
    p = fundctl(*base(daemon, admin), "call", "system.whoami", "--idempotency-key", "k1")
    assert p.returncode == 1 and "not_a_mutating_method" in p.stderr, p.stderr


def test_failed_mutation_prints_its_key(daemon, admin, api):
    f = new_fund(api)
    p = receive(daemon, admin, "pa_" + "0" * 24, f["code"], "1.00")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert KEY_LINE.search(p.stderr), p.stderr
    assert "error -32" in p.stderr


def test_table_of_a_list(daemon, admin, api):
    f = new_fund(api)
    p = new_partner(api)
    for amount in ("5.00", "1234.50"):
        assert receive(daemon, admin, p["partner_id"], f["code"], amount).returncode == 0
    out = ok(daemon, admin, "call", "contribution.list", "fund=" + f["code"],
             "-o", "table").stdout
    lines = out.splitlines()
    head = lines[0].split()
    assert head[0] == "contribution_id", head
    ids = [h for h in head if h.endswith("_id")]
    assert head[:len(ids)] == ids, head
    assert head[head.index("amount") + 1] == "currency", head
    rows = [ln for ln in lines[1:] if "EUR" in ln]
    assert len(rows) == 2, out
    # money right-aligned: the amounts end, and the currency starts, in one column
    ends = {ln.index(" EUR") for ln in rows}
    assert len(ends) == 1, out
    assert any(re.search(r"   5\.00  EUR", ln) for ln in rows), out
    assert any(re.search(r"1234\.50  EUR", ln) for ln in rows), out
    assert "next_cursor" not in out     # null: no line
    # a page that has a next one says where it goes on
    out = ok(daemon, admin, "call", "contribution.list", "fund=" + f["code"], "limit:=1",
             "--output=table").stdout
    m = re.search(r"^next_cursor: (\S+)$", out, re.M)
    assert m, out
    nxt = ok(daemon, admin, "call", "contribution.list", "fund=" + f["code"], "limit:=1",
             "cursor=" + m.group(1)).stdout
    assert len(json.loads(nxt)["contributions"]) == 1


def test_csv_of_a_list(daemon, admin, api):
    f = new_fund(api)
    p = new_partner(api)
    for amount in ("7.00", "8.25"):
        assert receive(daemon, admin, p["partner_id"], f["code"], amount).returncode == 0
    want = contributions(api, f["code"])
    r = ok(daemon, admin, "call", "contribution.list", "fund=" + f["code"], "-o", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout, newline="")))
    assert list(rows[0].keys())[0] == "contribution_id"
    assert [x["contribution_id"] for x in rows] == [c["contribution_id"] for c in want]
    assert [x["amount"] for x in rows] == [c["amount"] for c in want]
    assert all(x["partner_id"] == p["partner_id"] for x in rows)


def test_single_object_as_table_and_csv(daemon, admin, api):
    name = "Արամ Петров " + uniq("n")
    p = new_partner(api, name=name)
    out = ok(daemon, admin, "call", "partner.get", "partner_id=" + p["partner_id"],
             "-o", "table").stdout
    assert "partner_id: " + p["partner_id"] + "\n" in out, out
    assert "name: " + name + "\n" in out, out
    r = ok(daemon, admin, "call", "partner.get", "partner_id=" + p["partner_id"], "-o", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout, newline="")))
    assert len(rows) == 1 and rows[0]["name"] == name and rows[0]["partner_id"] == p["partner_id"]


def test_json_stays_the_default(daemon, admin):
    a = ok(daemon, admin, "call", "system.version").stdout
    b = ok(daemon, admin, "call", "system.version", "-o", "json").stdout
    assert a == b and json.loads(a)["protocol"] == 1


def test_bad_output_is_a_usage_error(daemon, admin):
    p = fundctl(*base(daemon, admin), "call", "system.version", "-o", "xml")
    assert p.returncode == 2 and "-o (--output) must be table, csv or json" in p.stderr
    p = fundctl(*base(daemon, admin), "export", "audit", "-o", "table")
    assert p.returncode == 2, p.stderr
