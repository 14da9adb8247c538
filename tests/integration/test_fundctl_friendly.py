"""A friendlier fundctl (docs/protocol.md, rpc.discover; README, fundctl): methods and help
from rpc.discover, -o table|csv|json, batches on stdin, and generated idempotency keys."""

import csv
import io
import json
import re
import subprocess

from fl.env import FUNDCTL, ROOT, fundctl, uniq
from fl.ledger import new_fund, new_partner


def ctl(daemon, token, *args, stdin=None):
    cmd = [FUNDCTL, "--url", daemon.url, "--cacert", daemon.env.ca, "--token", token]
    return subprocess.run(cmd + list(args), cwd=ROOT, capture_output=True, text=True,
                          timeout=30, input=stdin)


KEY_RE = re.compile(r"idempotency-key: (fc-[0-9a-f]{24})")


def test_methods_and_help_from_discover(daemon, admin):
    p = ctl(daemon, admin, "methods")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["method", "roles", "mutation"], lines[0]
    row = [l for l in lines if l.startswith("grant.apply ")]
    assert row and row[0].split()[-1] == "yes" and "admin" in row[0], row
    h = ctl(daemon, admin, "help", "grant.apply")
    assert h.returncode == 0, h.stderr
    assert "roles: admin" in h.stdout and "a mutation" in h.stdout
    assert "category  enum: small_business|agriculture" in h.stdout, h.stdout
    assert "-32004 returnee_not_found" in h.stdout
    bad = ctl(daemon, admin, "help", "no.such")
    assert bad.returncode == 1 and "no method 'no.such'" in bad.stderr


def test_output_table_and_csv(daemon, admin, api):
    f = new_fund(api)
    p = new_partner(api, name="Ани Саргсян " + uniq("t"))
    api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                    "amount": "1234.50", "currency": "EUR"})
    t = ctl(daemon, admin, "-o", "table", "call", "contribution.list", "fund=" + f["code"])
    assert t.returncode == 0, t.stderr
    head, row = t.stdout.splitlines()[:2]
    cols = head.split()
    # the list's own id first, the currency beside the first money column
    assert cols[0] == "contribution_id", cols
    assert cols[cols.index("currency") - 1] in ("fee", "amount"), cols
    assert row[head.index("currency"):].startswith("EUR"), (head, row)
    # money right-aligned: it ends where its header ends
    end = head.index("received_fund_amount") + len("received_fund_amount")
    assert row[:end].endswith("1234.50"), (head, row)
    c = ctl(daemon, admin, "-o", "csv", "call", "contribution.list", "fund=" + f["code"])
    rows = list(csv.DictReader(io.StringIO(c.stdout)))
    assert [r["amount"] for r in rows] == ["1234.50"] and rows[0]["currency"] == "EUR"
    one = ctl(daemon, admin, "-o", "table", "call", "fund.balance", "code=" + f["code"])
    assert re.search(r"^received: +1234\.50$", one.stdout, re.M), one.stdout
    assert ctl(daemon, admin, "-o", "yaml", "call", "system.version").returncode == 2


def test_a_generated_key_makes_a_retry_safe(daemon, admin, api):
    f = new_fund(api)
    p = new_partner(api)
    args = ["call", "contribution.receive", "partner_id=" + p["partner_id"],
            "fund=" + f["code"], "amount=10.00", "currency=EUR"]
    first = ctl(daemon, admin, *args)
    assert first.returncode == 0, first.stderr
    m = KEY_RE.search(first.stderr)
    assert m, first.stderr
    again = ctl(daemon, admin, "--idempotency-key", m.group(1), *args)
    assert again.returncode == 0 and "idempotency-key" not in again.stderr, again.stderr
    assert json.loads(again.stdout)["contribution_id"] == \
        json.loads(first.stdout)["contribution_id"]
    got = api.ok("contribution.list", {"fund": f["code"]})["contributions"]
    assert len(got) == 1, got
    # a read gets no key
    r = ctl(daemon, admin, "call", "fund.list")
    assert r.returncode == 0 and "idempotency-key" not in r.stderr, r.stderr


def test_batch_from_stdin(daemon, admin, api):
    f = new_fund(api)
    p = new_partner(api)
    calls = [{"method": "system.version"},
             {"method": "contribution.receive", "params": {
                 "partner_id": p["partner_id"], "fund": f["code"], "amount": "5.00",
                 "currency": "EUR"}},
             {"method": "fund.balance", "params": {"code": "NO-SUCH"}}]
    b = ctl(daemon, admin, "batch", stdin="\n".join(json.dumps(c) for c in calls) + "\n")
    assert b.returncode == 1, b.stderr          # one call failed
    out = json.loads(b.stdout)
    assert [(x["id"], x["method"], x["outcome"]) for x in out] == [
        (1, "system.version", "ok"), (2, "contribution.receive", "ok"),
        (3, "fund.balance", "error")], out
    assert out[2]["error"]["data"]["reason"] == "fund_not_found"
    assert re.search(r"call 2 \(contribution.receive\): idempotency-key fc-", b.stderr)
    arr = ctl(daemon, admin, "-o", "table", "batch", stdin=json.dumps(calls[:1]))
    assert arr.returncode == 0 and "system.version" in arr.stdout and "ok" in arr.stdout
    big = ctl(daemon, admin, "batch", stdin=json.dumps([{"method": "system.version"}] * 101))
    assert big.returncode == 2 and "1 to 100" in big.stderr
    assert ctl(daemon, admin, "batch", stdin="not json").returncode == 2


def test_document_put_and_get(daemon, admin, api, aud, tmp_path):
    pdf = b"%PDF-1.4\n% evidence\n%%EOF\n"
    src = tmp_path / "registration.pdf"
    src.write_bytes(pdf)
    put = ctl(daemon, admin, "document", "put", str(src))
    assert put.returncode == 0, put.stderr
    doc = json.loads(put.stdout)
    assert doc["filename"] == "registration.pdf" and doc["content_type"] == "application/pdf"
    key = KEY_RE.search(put.stderr).group(1)
    again = ctl(daemon, admin, "--idempotency-key", key, "document", "put", str(src))
    assert json.loads(again.stdout)["document_id"] == doc["document_id"], again.stderr
    out = tmp_path / "copy.pdf"
    get = ctl(daemon, aud.token, "document", "get", doc["document_id"], str(out))
    assert get.returncode == 0 and out.read_bytes() == pdf, get.stderr
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    bad = ctl(daemon, admin, "document", "put", str(txt))
    assert bad.returncode == 2 and "not a PDF, PNG or JPEG" in bad.stderr
    no = ctl(daemon, aud.token, "document", "put", str(src))
    assert no.returncode == 1 and "role_required" in no.stderr, no.stderr


def test_a_key_in_the_params_is_kept(daemon, admin, api):
    """idempotency_key=K among the params (as docs/protocol.md shows) is the call's key: no
    generated one beside it, no "given both" refusal, and a repeat records nothing more."""
    f = new_fund(api)
    p = new_partner(api)
    key = uniq("k")
    args = ["call", "contribution.receive", "partner_id=" + p["partner_id"],
            "fund=" + f["code"], "amount=4.00", "currency=EUR", "idempotency_key=" + key]
    a = ctl(daemon, admin, *args)
    b = ctl(daemon, admin, *args)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert "idempotency-key" not in a.stderr + b.stderr, (a.stderr, b.stderr)
    assert json.loads(a.stdout)["contribution_id"] == json.loads(b.stdout)["contribution_id"]
    # the same key in params on stdin
    params = {"partner_id": p["partner_id"], "fund": f["code"], "amount": "4.00",
              "currency": "EUR", "idempotency_key": key}
    c = ctl(daemon, admin, "call", "contribution.receive", "-", stdin=json.dumps(params))
    assert c.returncode == 0 and "idempotency-key" not in c.stderr, c.stderr
    assert json.loads(c.stdout)["contribution_id"] == json.loads(a.stdout)["contribution_id"]
    assert len(api.ok("contribution.list", {"fund": f["code"]})["contributions"]) == 1


def test_a_generated_key_with_params_on_stdin(daemon, admin, api):
    f = new_fund(api)
    p = new_partner(api)
    params = {"partner_id": p["partner_id"], "fund": f["code"], "amount": "6.00",
              "currency": "EUR"}
    a = ctl(daemon, admin, "call", "contribution.receive", "-", stdin=json.dumps(params))
    assert a.returncode == 0, a.stderr
    key = KEY_RE.search(a.stderr).group(1)
    b = ctl(daemon, admin, "--idempotency-key", key, "call", "contribution.receive", "-",
            stdin=json.dumps(params))
    assert b.returncode == 0, b.stderr
    assert json.loads(b.stdout)["contribution_id"] == json.loads(a.stdout)["contribution_id"]
    assert len(api.ok("contribution.list", {"fund": f["code"]})["contributions"]) == 1
    # a read with params on stdin is sent again without the key, as typed
    r = ctl(daemon, admin, "call", "contribution.list", "-",
            stdin=json.dumps({"fund": f["code"], "limit": 1}))
    assert r.returncode == 0 and "idempotency" not in r.stderr, r.stderr
    assert len(json.loads(r.stdout)["contributions"]) == 1


def test_a_batch_retried_with_its_key_records_once(daemon, admin, api):
    f = new_fund(api)
    p = new_partner(api)
    calls = [{"method": "contribution.receive", "params": {
                 "partner_id": p["partner_id"], "fund": f["code"], "amount": a,
                 "currency": "EUR"}} for a in ("1.00", "2.00")]
    calls.insert(1, {"method": "fund.balance", "params": {"code": f["code"]}})
    first = ctl(daemon, admin, "batch", stdin=json.dumps(calls))
    assert first.returncode == 0, first.stderr
    m = re.search(r"^idempotency-key: (fc-[0-9a-f]{24}) \(repeat the batch with "
                  r"--idempotency-key \1 to retry it safely\)$", first.stderr, re.M)
    assert m, first.stderr
    key = m.group(1)
    # each mutation's key is the batch's and its place; the read gets none
    assert "call 1 (contribution.receive): idempotency-key %s-1" % key in first.stderr
    assert "call 3 (contribution.receive): idempotency-key %s-3" % key in first.stderr
    assert "call 2 " not in first.stderr
    again = ctl(daemon, admin, "--idempotency-key", key, "batch", stdin=json.dumps(calls))
    assert again.returncode == 0, again.stderr
    assert "idempotency-key: fc-" not in again.stderr   # the user's key is not announced
    ids = [[x["result"].get("contribution_id") for x in json.loads(o.stdout)]
           for o in (first, again)]
    assert ids[0] == ids[1] and ids[0][0] and ids[0][2], ids
    assert len(api.ok("contribution.list", {"fund": f["code"]})["contributions"]) == 2
    # a read-only batch says nothing about keys
    r = ctl(daemon, admin, "batch", stdin=json.dumps(calls[1:2]))
    assert r.returncode == 0 and "idempotency" not in r.stderr, r.stderr
    long = ctl(daemon, admin, "--idempotency-key", "k" * 121, "batch",
               stdin=json.dumps(calls))
    assert long.returncode == 2 and "1 to 120" in long.stderr, long.stderr


def test_csv_of_a_page_tells_the_next_cursor_on_stderr(daemon, admin, api):
    f = new_fund(api)
    p = new_partner(api)
    for amount in ("1.00", "2.00"):
        api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                        "amount": amount, "currency": "EUR"})
    r = ctl(daemon, admin, "-o", "csv", "call", "contribution.list", "fund=" + f["code"],
            "limit:=1")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 1 and rows[0]["amount"] == "1.00", r.stdout
    assert "next_cursor" not in r.stdout
    m = re.search(r"^next_cursor: (\S+)$", r.stderr, re.M)
    assert m, r.stderr
    nxt = ctl(daemon, admin, "-o", "csv", "call", "contribution.list", "fund=" + f["code"],
              "limit:=1", "cursor=" + m.group(1))
    assert [x["amount"] for x in csv.DictReader(io.StringIO(nxt.stdout))] == ["2.00"]
    assert "next_cursor" not in nxt.stderr      # the last page


def test_no_key_for_a_method_that_does_not_exist(daemon, admin):
    r = ctl(daemon, admin, "call", "no.such_method", "a=1")
    assert r.returncode == 1 and "method_not_found" in r.stderr, r.stderr
    assert "idempotency" not in r.stderr, r.stderr
