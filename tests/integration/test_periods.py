"""Closed periods (docs/ledger.md, "Closed periods"): period.close asks, an auditor other than
the asker confirms, and from then on no journal entry, whoever writes it, may carry a value
date in the closed range; the close's record (closing balances, the digest of the export of
the closed range) is in the audit trail, signed by the next checkpoint, and the closed range's
balances and export never change. A database of its own: closing periods in the suite's
would refuse the old value dates other tests use."""

import hashlib
import os
import threading
import time

import pytest

from fl.client import RpcError, call, create_principal, http_get
from fl.db import own_books, psql, psql_ok
from fl.env import uniq


@pytest.fixture(scope="module")
def books(env, module_daemon_factory):
    b = own_books(env, module_daemon_factory, "periods")
    b.auditor = create_principal(b.daemon, b.admin, ["auditor"])["token"]
    b.auditor2 = create_principal(b.daemon, b.admin, ["auditor"])["token"]
    return b


def ok(b, token, method, params=None):
    return call(b.daemon, token, method, params or {})


def err(b, token, method, params, code, reason, field="__any__"):
    with pytest.raises(RpcError) as e:
        call(b.daemon, token, method, params)
    assert e.value.code == code and e.value.data.get("reason") == reason, e.value.error
    if field != "__any__":
        assert e.value.data.get("field") == field, e.value.error
    return e.value.data


def sql(b, query):
    return psql_ok(b.env, query, db=b.db).strip()


def new_fund(b, currency="EUR"):
    code = uniq("PC").upper().replace("_", "-")[:32]
    ok(b, b.admin, "fund.create", {"code": code, "name": "closing", "currency": currency,
                                   "kind": "pass_through", "dual_approval_above": "0"})
    pa = ok(b, b.admin, "partner.create", {"name": "Donor", "country": "AM",
                                           "kind": "organisation"})["partner_id"]
    return code, pa


def receive(b, code, pa, when, amount="10.00", currency="EUR"):
    return ok(b, b.admin, "contribution.receive", {"partner_id": pa, "fund": code,
              "amount": amount, "currency": currency, "received_at": when})


def export(b, frm, to, basis=None):
    q = "/export/ledger?format=csv&to=%s" % to
    if frm:
        q += "&from=%s" % frm
    if basis:
        q += "&basis=" + basis
    status, _, body = http_get(b.daemon, q, token=b.admin, timeout=60)
    assert status == 200, body
    return body


def record_fields(record):
    lines = record.split("\n")
    assert lines[0] == "fl-period-close" and lines[-1] == ""
    f = {}
    for l in lines[1:-1]:
        k, v = l.split(" ", 1)
        if k in ("account", "fund"):
            f.setdefault(k, []).append(v)
        else:
            f[k] = v
    return f


def balances_part(record):
    return "".join(l + "\n" for l in record.split("\n")
                   if l.startswith("account ") or l.startswith("fund "))


def close(b, until, confirmer=None):
    pc = ok(b, b.admin, "period.close", {"until": until})
    return ok(b, confirmer or b.auditor, "period.close_confirm",
              {"period_id": pc["period_id"]})


def test_close_refuses_every_later_entry_dated_in_the_closed_range(books):
    b = books
    code, pa = new_fund(b)
    receive(b, code, pa, "2025-01-10T10:00:00Z", "100.00")
    ok(b, b.admin, "fund.record_earnings", {"code": code, "amount": "5.00",
       "period": "2025-01", "value_date": "2025-01-31T23:00:00Z"})
    pc = ok(b, b.admin, "period.close", {"until": "2025-01-31"})
    assert pc["status"] == "pending" and pc["until"] == "2025-01-31"
    assert pc["record"] is None and pc["export_to"] == "2025-02-01"
    # asking again answers the same close; another day waits for this one
    assert ok(b, b.admin, "period.close", {"until": "2025-01-31"})["period_id"] == \
        pc["period_id"]
    data = err(b, b.admin, "period.close", {"until": "2025-02-28"}, -32009, "close_pending",
               "until")
    assert data["period_id"] == pc["period_id"]
    # nothing is closed while it is pending
    receive(b, code, pa, "2025-01-20T00:00:00Z", "1.00")
    # only an auditor confirms, and not the one who asked
    err(b, b.admin, "period.close_confirm", {"period_id": pc["period_id"]}, -32003,
        "role_required")
    done = ok(b, b.auditor, "period.close_confirm", {"period_id": pc["period_id"]})
    assert done["status"] == "confirmed" and done["decided_at"]
    assert ok(b, b.auditor2, "period.close_confirm",
              {"period_id": pc["period_id"]}) == done       # idempotent
    # every writer is refused a value date in the closed range, naming its param
    err(b, b.admin, "contribution.receive", {"partner_id": pa, "fund": code,
        "amount": "1.00", "currency": "EUR", "received_at": "2025-01-31T23:59:59Z"},
        -32009, "period_closed", "received_at")
    data = err(b, b.admin, "fund.record_earnings", {"code": code, "amount": "1.00",
               "period": "2025-01", "value_date": "2024-12-01"}, -32009, "period_closed",
               "value_date")
    assert data["closed_until"] == "2025-01-31"
    err(b, b.admin, "fund.record_earnings", {"code": code, "amount": "1.00",
        "period": "2025-01"}, -32009, "period_closed", "value_date")  # its period's end
    # ... even the schema's owner, writing the journal directly
    p = psql(b.env, "SELECT fl.post(f, 'earnings', 'x', 'x', NULL, ARRAY['cash', "
             "'earnings'], ARRAY[1, -1]::bigint[], '2025-01-05') FROM fl.fund f "
             "WHERE code = '%s';" % code, db=b.db)
    assert p.returncode != 0 and "period_closed" in p.stderr, p.stderr
    # the open period takes them
    receive(b, code, pa, "2025-02-01T00:00:00Z", "2.00")
    # a closed day cannot be closed again
    err(b, b.admin, "period.close", {"until": "2025-01-15"}, -32009, "already_closed",
        "until")
    assert [c["period_id"] for c in ok(b, b.auditor, "period.closes")["closes"]][:1] == \
        [pc["period_id"]]


def test_a_batch_keeps_the_receipts_of_the_open_period(books):
    """The set form of a batch of receipts refuses as a whole; each call is then run on
    its own, and only the one dated in a closed period is refused."""
    from fl.client import post_rpc
    b = books
    if not any(c["status"] == "confirmed"
               for c in ok(b, b.auditor, "period.closes")["closes"]):
        close(b, "2025-01-31")      # when run on its own
    code, pa = new_fund(b)
    reqs = [{"jsonrpc": "2.0", "id": i, "method": "contribution.receive", "params": {
        "partner_id": pa, "fund": code, "amount": "1.00", "currency": "EUR",
        "received_at": when}} for i, when in enumerate(["2026-01-02", "2024-12-31",
                                                         "2026-01-03"])]
    r = post_rpc(b.daemon, b.admin, reqs)
    docs = sorted(r.json(), key=lambda d: d["id"])
    assert "result" in docs[0] and "result" in docs[2], docs
    assert docs[1]["error"]["code"] == -32009 and \
        docs[1]["error"]["data"]["reason"] == "period_closed", docs[1]


def test_a_payment_dated_in_a_closed_period_is_refused(books):
    from fl.client import new_client
    from fl.grants import approved_grant, confirm, create, funded_fund
    b = books
    if not any(c["status"] == "confirmed"
               for c in ok(b, b.auditor, "period.closes")["closes"]):
        close(b, "2025-01-31")      # when run on its own
    maker = new_client(b.daemon, b.admin, ["admin"], "maker")
    checker = new_client(b.daemon, b.admin, ["admin"], "checker")
    approver = new_client(b.daemon, b.admin, ["approver"], "approver")
    g = approved_grant(maker, approver, funded_fund(maker), "10.00")
    d = create(maker, g, "10.00")
    err(b, checker.token, "disbursement.confirm", {"disbursement_id": d["disbursement_id"],
        "bank_ref": "B1", "paid_at": "2025-01-15T10:00:00Z"}, -32009, "period_closed",
        "paid_at")
    assert confirm(checker, d, paid_at="2026-01-15T10:00:00Z")["status"] == "paid"


def test_a_reversal_dated_in_a_closed_period_is_refused(books):
    """contribution.reverse writes a receipt_reversal entry: one dated in a closed period is
    refused naming value_date, and the receipt stays received; dated in the open period it
    goes through."""
    b = books
    if not any(c["status"] == "confirmed"
               for c in ok(b, b.auditor, "period.closes")["closes"]):
        close(b, "2025-01-31")      # when run on its own
    code, pa = new_fund(b)
    c = receive(b, code, pa, "2026-01-10T10:00:00Z", "7.00")
    err(b, b.admin, "contribution.reverse", {"contribution_id": c["contribution_id"],
        "reason": "wrong", "value_date": "2025-01-20"}, -32009, "period_closed", "value_date")
    assert ok(b, b.admin, "contribution.get", {"contribution_id": c["contribution_id"]})[
        "status"] == "received"
    r = ok(b, b.admin, "contribution.reverse", {"contribution_id": c["contribution_id"],
           "reason": "wrong", "value_date": "2026-01-11"})
    assert r["status"] == "reversed"


def test_a_close_covers_a_day_that_has_ended(books):
    today = time.strftime("%Y-%m-%d", time.gmtime())
    err(books, books.admin, "period.close", {"until": today}, -32602, "day_not_ended",
        "until")
    err(books, books.admin, "period.close", {"until": "2025-02-30"}, -32602, "bad_date",
        "until")


def test_the_asker_does_not_confirm_even_as_an_auditor(books):
    b = books
    both = create_principal(b.daemon, b.admin, ["admin", "auditor"])["token"]
    pc = ok(b, both, "period.close", {"until": "2025-02-10"})
    err(b, both, "period.close_confirm", {"period_id": pc["period_id"]}, -32011, "own_close",
        "period_id")
    events = sql(b, "SELECT outcome || ' ' || reason FROM fl.audit_event WHERE method = "
                 "'period.close_confirm' AND object_id = '%s'" % pc["period_id"])
    assert events == "refused own_close"
    dropped = ok(b, b.auditor, "period.close_drop", {"period_id": pc["period_id"]})
    assert dropped["status"] == "dropped"
    assert ok(b, b.auditor, "period.close_drop", {"period_id": pc["period_id"]}) == dropped
    err(b, b.auditor2, "period.close_confirm", {"period_id": pc["period_id"]}, -32009,
        "wrong_state")
    err(b, b.auditor, "period.close_get", {"period_id": "pc_00000000000000000000"}, -32004,
        "period_not_found", "period_id")
    # a dropped close closes nothing
    code, pa = new_fund(b)
    receive(b, code, pa, "2025-02-05T00:00:00Z")


def test_the_record_is_the_closed_export_and_balances_signed_into_the_trail(books):
    b = books
    code, pa = new_fund(b)
    receive(b, code, pa, "2025-03-03T08:00:00Z", "40.00")
    receive(b, code, pa, "2025-03-31T23:59:59.999999Z", "2.50")
    receive(b, code, pa, "2025-04-01T00:00:00Z", "7.00")       # after the close
    before = ok(b, b.auditor, "period.closes")["closes"]
    prev = max(c["until"] for c in before if c["status"] == "confirmed")
    done = close(b, "2025-03-31")
    f = record_fields(done["record"])
    assert f["period_id"] == done["period_id"] and f["until"] == "2025-03-31"
    assert f["export_from"] == done["export_from"] > prev and \
        f["export_to"] == done["export_to"] == "2025-04-01"
    # the digest is of the very bytes GET /export/ledger serves for the closed range
    body = export(b, done["export_from"], done["export_to"])
    assert hashlib.sha256(body).hexdigest() == f["export_sha256"]
    assert int(f["export_rows"]) == body.count(b"\r\n") - 1
    lines = body.split(b"\r\n")[:-1]
    assert hashlib.sha256(b"".join(hashlib.sha256(l + b"\r\n").digest() for l in lines)
                          ).hexdigest() == f["export_rows_sha256"]
    assert b"40.00" in body and b"2.50" in body and b"7.00" not in body
    # closing balances: cumulative by value date up to the end of until
    assert "%s:cash EUR 42.50" % code in f["account"]
    assert "%s:contributions EUR -42.50" % code in f["account"]
    assert ("%s EUR received=42.50 earnings=0.00 pledged=0.00 committed=0.00 "
            "disbursed=0.00 transferred_in=0.00 transferred_out=0.00 charges=0.00 "
            "capital_impaired=0.00" % code) in f["fund"]
    # its digest is the params_sha256 of an audit event of the confirmer's
    assert done["record_sha256"] == hashlib.sha256(done["record"].encode()).hexdigest()
    ev = sql(b, "SELECT method || ' ' || object_id || ' ' || outcome || ' ' || "
             "encode(params_sha256, 'hex') FROM fl.audit_event WHERE seq = %d"
             % done["record_seq"])
    assert ev == "period.close_record %s ok %s" % (done["period_id"], done["record_sha256"])
    # covered by the next signed checkpoint
    deadline = time.time() + 20
    while True:
        got = ok(b, b.auditor, "period.close_get", {"period_id": done["period_id"]})
        if got["proof"] is not None or time.time() > deadline:
            break
        time.sleep(0.3)
    proof = got["proof"]
    assert proof is not None, "no checkpoint covered the close within 20 s"
    assert proof["events"][0]["seq"] == done["record_seq"]
    assert proof["checkpoint"]["seq"] == proof["events"][-1]["seq"] >= done["record_seq"]
    assert proof["prev_hash"] == proof["events"][0]["prev_hash"]
    assert ok(b, b.auditor, "audit.verify", {})["ok"] is True
    # later writes, accepted or refused, change neither the closed export nor its balances
    receive(b, code, pa, "2025-04-02T00:00:00Z", "1.00")
    err(b, b.admin, "contribution.receive", {"partner_id": pa, "fund": code,
        "amount": "1.00", "currency": "EUR", "received_at": "2025-03-15T00:00:00Z"},
        -32009, "period_closed")
    assert export(b, done["export_from"], done["export_to"]) == body
    assert sql(b, "SELECT fl.period_balances('2025-04-01T00:00:00Z')") + "\n" == \
        balances_part(done["record"])


def test_a_write_in_flight_in_the_range_is_waited_for_and_in_the_record(books):
    """A transaction that wrote an entry dated in the range and has not committed when the
    close is confirmed: the confirmation waits for it and its record holds the entry."""
    import subprocess
    from fl.db import dsn_of, psql_bin
    b = books
    code, pa = new_fund(b)
    receive(b, code, pa, "2025-04-10T00:00:00Z", "5.00")
    pc = ok(b, b.admin, "period.close", {"until": "2025-04-30"})
    d = dsn_of(b.env.conf)
    slow = subprocess.Popen(
        [psql_bin(), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", d["host"], "-p",
         d["port"], "-U", "fund_owner", "-d", b.db],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    slow.stdin.write("BEGIN;\nSELECT fl.post(f, 'earnings', 'in flight', 'x', NULL, "
                     "ARRAY['cash', 'earnings'], ARRAY[700, -700]::bigint[], "
                     "'2025-04-20') FROM fl.fund f WHERE code = '%s';\n"
                     "SELECT pg_sleep(1.2);\nCOMMIT;\n" % code)
    slow.stdin.close()
    time.sleep(0.4)
    t0 = time.time()
    done = ok(b, b.auditor, "period.close_confirm", {"period_id": pc["period_id"]})
    waited = time.time() - t0
    assert slow.wait(30) == 0, slow.stderr.read()
    assert waited > 0.5, waited
    assert "%s:cash EUR 12.00" % code in record_fields(done["record"])["account"]
    body = export(b, done["export_from"], done["export_to"])
    assert b",in flight," in body
    assert hashlib.sha256(body).hexdigest() == record_fields(done["record"])["export_sha256"]


@pytest.mark.parametrize("day", ["2025-05-10", "2025-05-20", "2025-05-31"])
def test_writes_in_flight_commit_before_the_close_reads_the_books_or_are_refused(books, day):
    """Writers keep receiving money dated on the last day of the range while an auditor
    confirms its close: each write either is in the close's export (committed first) or is
    refused with period_closed; none lands in the closed range afterwards."""
    b = books
    code, pa = new_fund(b)
    stop = threading.Event()
    accepted, refused, other = [], [], []

    def writer():
        # until refused (the close is confirmed by then), or the test gives up
        while not stop.is_set():
            try:
                accepted.append(receive(b, code, pa, day + "T12:00:00Z",
                                        "1.00")["contribution_id"])
            except RpcError as e:
                (refused if e.data.get("reason") == "period_closed" else other).append(e)
                return

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    done = close(b, day)
    for t in threads:
        t.join(60)
    stop.set()
    assert not other, other
    assert len(refused) == 4 and len(accepted) > 4
    body = export(b, done["export_from"], done["export_to"])
    assert hashlib.sha256(body).hexdigest() == record_fields(done["record"])["export_sha256"]
    mine = [l for l in body.split(b"\r\n") if (",%s:cash," % code).encode() in l]
    assert len(mine) == len(accepted)
    assert "%s:cash EUR %d.00" % (code, len(accepted)) in \
        record_fields(done["record"])["account"]


@pytest.fixture(scope="module")
def saved(books, tmp_path_factory):
    """A confirmed close exported with fundctl: (path, its proof's path, the close)."""
    b = books
    code, pa = new_fund(b)
    receive(b, code, pa, "2025-06-02T00:00:00Z", "11.00")
    receive(b, code, pa, "2025-06-03T00:00:00Z", "12.00")
    ok(b, b.admin, "fund.record_earnings", {"code": code, "amount": "0.50",
       "period": "2025-06", "note": 'a "quoted", note'})
    done = close(b, "2025-06-30")
    path = str(tmp_path_factory.mktemp("close") / "books.csv")
    deadline = time.time() + 20
    while True:
        p = fundctl_of(b, "ledger", "export-close", done["period_id"], path)
        if p.returncode == 0 or "retry after the next checkpoint" not in p.stderr or \
                time.time() > deadline:
            break
        time.sleep(0.5)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("ok: %s is the closed books of %s" % (path, done["period_id"]))
    return path, path + ".close.json", done


def fundctl_of(b, *args):
    from fl.env import fundctl
    return fundctl("--url", b.daemon.url, "--cacert", b.env.ca, "--token", b.admin, *args,
                   timeout=60)


def pubkey(b):
    return os.path.join(b.env.tls, "audit-ed25519.pub")


def verify(b, path):
    from fl.env import fundctl
    return fundctl("ledger", "verify", path, "--pubkey", pubkey(b))


def tampered(saved, tmp_path, edit, proof_edit=None):
    """A copy of the saved export, its lines (with CRLF) passed through edit."""
    import json
    path, proof, _ = saved
    lines = open(path, "rb").read().split(b"\r\n")[:-1]
    out = str(tmp_path / "t.csv")
    with open(out, "wb") as f:
        f.write(b"".join(l + b"\r\n" for l in edit(lines)))
    doc = json.load(open(proof))
    if proof_edit:
        proof_edit(doc)
    with open(out + ".close.json", "w") as f:
        json.dump(doc, f)
    return out


def test_fundctl_verifies_the_export_of_a_closed_period_offline(books, saved):
    path, proof, done = saved
    body = open(path, "rb").read()
    assert body == export(books, done["export_from"], done["export_to"])
    p = verify(books, path)
    assert p.returncode == 0, p.stderr
    assert "ok: %s is the closed books of %s (value dates up to 2025-06-30)" % (
        path, done["period_id"]) in p.stdout
    assert p.stdout.endswith("under key 1 = the given key\n"), p.stdout


@pytest.mark.parametrize("edit,want", [
    (lambda ls: ls[:2] + [ls[2].replace(b"11.00", b"11.01")] + ls[3:],
     "line 3 (je_%s): not as in the closed books: altered"),
    (lambda ls: ls[:3] + [ls[2]] + ls[3:],
     "line 4 (je_%s): not in the closed books here: added (a copy of their line 3)"),
    (lambda ls: ls[:3] + [ls[2].replace(b"11.00", b"99.00")] + ls[3:],
     "line 4 (je_%s): not as in the closed books: added or altered"),
    (lambda ls: ls + [ls[-1]], "not in the closed books: added after their last row"),
    (lambda ls: ls[:2] + ls[3:], "line 3 (je_%s): a row of the closed books is missing "
     "before it (removed)"),
    (lambda ls: ls[:-1], "rows of the closed books are missing from it (removed)"),
    (lambda ls: ls[:1] + [ls[2], ls[1]] + ls[3:], "line 2 (je_%s): out of order: the "
     "closed books have it at line 3 (rows reordered)"),
])
def test_fundctl_names_the_altered_added_removed_or_reordered_row(books, saved, tmp_path,
                                                                   edit, want):
    lines = open(saved[0], "rb").read().split(b"\r\n")[:-1]
    out = tampered(saved, tmp_path, edit)
    p = verify(books, out)
    assert p.returncode == 1, p.stdout + p.stderr
    first = edit(lines)
    if "%s" in want:
        n = int(want.split(" ", 2)[1])
        want = want % first[n - 1].split(b",")[0].decode()[3:]
    assert want in p.stderr, p.stderr


def test_fundctl_refuses_a_forged_proof_or_another_key(books, saved, tmp_path):
    import subprocess

    def record(doc):
        doc["record"] = doc["record"].replace(" EUR 11.00", " EUR 11.01").replace(
            "export_rows ", "export_rows 1")

    p = verify(books, tampered(saved, tmp_path, lambda ls: ls, record))
    assert p.returncode == 1 and "the close record does not match its audit event" in \
        p.stderr, p.stderr

    def rows(doc):
        doc["rows_sha256"][2] = doc["rows_sha256"][1]

    p = verify(books, tampered(saved, tmp_path, lambda ls: ls[:2] + ls[3:], rows))
    assert p.returncode == 1 and "row digests are not the close's" in p.stderr, p.stderr

    def event(doc):
        doc["events"][-1]["at"] = doc["events"][-1]["at"].replace("2", "3", 1)

    p = verify(books, tampered(saved, tmp_path, lambda ls: ls, event))
    assert p.returncode == 1 and "was altered" in p.stderr, p.stderr
    other = str(tmp_path / "other.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", other],
                   check=True, capture_output=True)
    from fl.env import fundctl
    p = fundctl("ledger", "verify", saved[0], "--pubkey", other)
    assert p.returncode == 1 and "is not key 1 of the proof's key lines" in p.stderr, p.stderr
    p = fundctl("ledger", "verify", str(tmp_path / "none.csv"), "--pubkey", other)
    assert p.returncode == 2 and "cannot open" in p.stderr, p.stderr
