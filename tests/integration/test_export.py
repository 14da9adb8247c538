"""GET /export/ledger: streamed CSV and JSONL of the journal, one row per posting, for
auditors and admins; filters; refusals; a client that leaves mid-stream."""

import csv
import io
import json
import os
import socket
import time

import pytest

from fl.env import FUNDCTL, uniq
from fl.client import Background, Client, call, client_context, http_get, post_rpc
from fl.db import TableLock

HEADER = ["entry_id", "at", "kind", "fund", "account", "currency", "amount", "memo",
          "value_date"]


@pytest.fixture(scope="module")
def book(daemon, admin):
    """A fund with a few entries, one of whose memos needs RFC 4180 quoting (the API refuses
    control characters in free text, so quotes and commas are what can occur)."""
    code = uniq("EXP").upper().replace("_", "-")[:32]
    call(daemon, admin, "fund.create", {"code": code, "name": "export test",
         "currency": "EUR", "kind": "pass_through", "dual_approval_above": "0"})
    pa = call(daemon, admin, "partner.create", {"name": "Exporter", "country": "AM",
              "kind": "organisation"})["partner_id"]
    call(daemon, admin, "contribution.receive", {"partner_id": pa, "fund": code,
         "amount": "100.50", "currency": "EUR"})
    call(daemon, admin, "fund.record_earnings", {"code": code, "amount": "7.25",
         "period": "2026-Q4", "note": 'a "quoted", comma'})
    return code


def _get(daemon, token, query):
    return http_get(daemon, "/export/ledger" + query, token=token, timeout=60)


def _rows_csv(body, code):
    text = body.decode("utf-8")
    assert text.startswith(",".join(HEADER) + "\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == HEADER
    return [r for r in rows[1:] if r[3] == code]


def test_csv_one_row_per_posting_with_rfc4180_quoting(daemon, admin, book):
    status, headers, body = _get(daemon, admin, "?format=csv")
    assert status == 200
    h = {k.lower(): v for k, v in headers}
    assert h["content-type"].startswith("text/csv")
    assert h.get("transfer-encoding") == "chunked"
    rows = _rows_csv(body, book)
    assert [(r[4].split(":")[1], r[6]) for r in rows] == [
        ("cash", "100.50"), ("contributions", "-100.50"),
        ("cash", "7.25"), ("earnings", "-7.25")]
    assert rows[2][7] == 'earnings 2026-Q4: a "quoted", comma'
    assert b',"earnings 2026-Q4: a ""quoted"", comma",' in body
    # the postings of each entry sum to zero
    sums = {}
    for r in rows:
        sums[r[0]] = sums.get(r[0], 0) + int(r[6].replace(".", ""))
    assert set(sums.values()) == {0}


def test_rows_in_journal_order(daemon, admin, book):
    """Entries in the order they were written (je_9 before je_10), postings in order."""
    status, _, body = _get(daemon, admin, "?format=csv")
    assert status == 200
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))[1:]
    ids = [int(r[0][3:]) for r in rows]
    assert len(ids) >= 4 and ids == sorted(ids)


def test_jsonl(daemon, admin, book):
    status, headers, body = _get(daemon, admin, "?format=jsonl")
    assert status == 200
    lines = body.decode("utf-8").splitlines()
    docs = [json.loads(line) for line in lines]
    mine = [d for d in docs if d["fund"] == book]
    assert [d["amount"] for d in mine] == ["100.50", "-100.50", "7.25", "-7.25"]
    assert mine[2]["memo"] == 'earnings 2026-Q4: a "quoted", comma'
    assert set(mine[0]) == set(HEADER)


def test_auditor_may_export(daemon, auditor, book):
    status, _, body = _get(daemon, auditor["token"], "?format=csv")
    assert status == 200 and len(_rows_csv(body, book)) == 4


def test_from_to_filters(daemon, admin, book):
    status, _, body = _get(daemon, admin, "?format=csv&from=2000-01-01&to=2000-01-02")
    assert status == 200
    assert body.decode() == ",".join(HEADER) + "\r\n"
    status, _, body = _get(daemon, admin,
                           "?format=csv&from=2000-01-01T00:00:00Z&to=2999-01-01")
    assert status == 200 and len(_rows_csv(body, book)) == 4
    # percent-encoded colons, as a browser sends them
    status, _, body = _get(daemon, admin, "?format=jsonl&from=2000-01-01T00%3A00%3A00Z")
    assert status == 200 and book.encode() in body


def test_from_to_select_by_value_date_unless_basis_recorded(daemon, admin):
    """A receipt dated 2026-10-05, recorded today: from/to select it by its value date
    (basis=value, the default), or by the time it was recorded (basis=recorded); both
    formats carry value_date last."""
    code = uniq("EXV").upper().replace("_", "-")[:32]
    call(daemon, admin, "fund.create", {"code": code, "name": "value dates",
         "currency": "EUR", "kind": "pass_through", "dual_approval_above": "0"})
    pa = call(daemon, admin, "partner.create", {"name": "Dated", "country": "AM",
              "kind": "organisation"})["partner_id"]
    call(daemon, admin, "contribution.receive", {"partner_id": pa, "fund": code,
         "amount": "10.00", "currency": "EUR", "received_at": "2026-10-05T09:30:00Z"})
    october = "&from=2026-10-01&to=2026-10-06"
    for q in ("?format=csv" + october, "?format=csv&basis=value" + october):
        status, _, body = _get(daemon, admin, q)
        assert status == 200, body
        rows = _rows_csv(body, code)
        assert [r[6] for r in rows] == ["10.00", "-10.00"]
        assert {r[8] for r in rows} == {"2026-10-05T09:30:00.000000Z"}
        assert rows[0][1] != rows[0][8]     # recorded now, dated October
    status, _, body = _get(daemon, admin, "?format=csv&basis=recorded" + october)
    assert status == 200 and _rows_csv(body, code) == []
    status, _, body = _get(daemon, admin, "?format=jsonl" + october)
    mine = [json.loads(l) for l in body.decode().splitlines() if code in l]
    assert [d["value_date"] for d in mine] == ["2026-10-05T09:30:00.000000Z"] * 2
    status, _, body = _get(daemon, admin, "?format=jsonl&basis=recorded" + october)
    assert status == 200 and code.encode() not in body


def test_csv_of_a_memo_with_control_characters(env, daemon, admin):
    """The API refuses control characters in free text, but the database takes what its
    owner writes: such a memo is one quoted CSV field, exact (COPY's text escapes undone)."""
    from fl.db import psql_ok
    code = uniq("EXC").upper().replace("_", "-")[:32]
    call(daemon, admin, "fund.create", {"code": code, "name": "odd memo",
         "currency": "EUR", "kind": "pass_through", "dual_approval_above": "0"})
    memo = 'line one\nline two\r\ttab \\ back\\slash "q"'
    psql_ok(env, "SELECT fl.post(f, 'earnings', '%s', 'x', NULL, ARRAY['cash', "
            "'earnings'], ARRAY[1, -1]::bigint[]) FROM fl.fund f WHERE code = '%s';"
            % (memo.replace("'", "''"), code))
    status, _, body = _get(daemon, admin, "?format=csv")
    assert status == 200
    rows = _rows_csv(body, code)
    assert [r[7] for r in rows] == [memo] * 2


@pytest.mark.parametrize("query", ["?format=xml", "?basis=booked", "?from=yesterday", "?to=2026-13-01",
                                   "?colour=red", "?format", "?from=2026-01-01T10:00:00+02:00"])
def test_bad_parameters_400(daemon, admin, query):
    status, _, body = _get(daemon, admin, query)
    assert status == 400, body


def test_credentials_and_roles(daemon, approver):
    status, _, body = _get(daemon, None, "?format=csv")
    assert status == 401
    assert json.loads(body)["error"]["code"] == -32001
    status, _, body = _get(daemon, approver["token"], "?format=csv")
    assert status == 403
    assert json.loads(body)["error"]["code"] == -32003


def test_post_is_405(daemon, admin):
    with Client(daemon, token=admin) as s:
        r = s.request("POST", "/export/ledger", body="{}")
        assert r.status == 405


def test_client_leaving_mid_stream_is_harmless(env, daemon, admin, book):
    """Read the head of a response and vanish; the daemon carries on serving."""
    ctx = client_context(env)
    for _ in range(3):
        raw = socket.create_connection(("127.0.0.1", daemon.port), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(("GET /export/ledger?format=jsonl HTTP/1.1\r\nHost: x\r\n"
                   "Authorization: Bearer %s\r\n\r\n" % admin).encode())
        assert s.recv(64).startswith(b"HTTP/1.1 200")
        s.close()
    time.sleep(0.2)
    assert call(daemon, admin, "system.whoami")["roles"] == ["admin"]
    status, _, body = _get(daemon, admin, "?format=csv")
    assert status == 200 and len(_rows_csv(body, book)) == 4


@pytest.fixture(scope="module")
def big_book(daemon, admin):
    """Enough entries (~1,200 rows, ~150 KB) that the export goes through back-pressure
    (the stream pauses above 256 KB of output and resumes below 64 KB)."""
    code = uniq("BIG").upper().replace("_", "-")[:32]
    call(daemon, admin, "fund.create", {"code": code, "name": "big export",
         "currency": "EUR", "kind": "pass_through", "dual_approval_above": "0"})
    for b in range(6):
        batch = [{"jsonrpc": "2.0", "id": i, "method": "fund.record_earnings",
                  "params": {"code": code, "amount": "1.00", "period": "p%d-%d" % (b, i)}}
                 for i in range(100)]
        r = post_rpc(daemon, admin, batch)
        assert r.status == 200 and all("result" in d for d in r.json())
    return code


def test_connection_close_export_is_never_truncated(daemon, admin, big_book):
    """Regression: a write callback raised while streaming, run after the stream ended,
    closed the connection with the last chunks still queued (about half the time)."""
    for _ in range(15):
        with Client(daemon, token=admin, timeout=60) as s:
            r = s.request("GET", "/export/ledger?format=csv",
                          headers={"Connection": "close"})
            assert r.status == 200
            rows = [x for x in csv.reader(io.StringIO(r.body.decode(), newline=""))
                    if len(x) > 3 and x[3] == big_book]
            assert len(rows) == 1200


def test_fundctl_export(env, daemon, admin, book):
    import subprocess
    p = subprocess.run([FUNDCTL, "--url", daemon.url, "--cacert", env.ca, "--token",
                        admin, "export", "ledger", "--format", "csv", "--from", "2000-01-01"],
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert len(_rows_csv(p.stdout, book)) == 4


def test_fundctl_export_by_value_date_or_recording_time(env, daemon, admin):
    import subprocess
    code = uniq("EXF").upper().replace("_", "-")[:32]
    call(daemon, admin, "fund.create", {"code": code, "name": "fundctl basis",
         "currency": "EUR", "kind": "pass_through", "dual_approval_above": "0"})
    pa = call(daemon, admin, "partner.create", {"name": "Dated", "country": "AM",
              "kind": "organisation"})["partner_id"]
    call(daemon, admin, "contribution.receive", {"partner_id": pa, "fund": code,
         "amount": "3.00", "currency": "EUR", "received_at": "2026-09-30T10:00:00Z"})
    base = [FUNDCTL, "--url", daemon.url, "--cacert", env.ca, "--token", admin, "export",
            "ledger", "--format", "csv", "--from", "2026-09-30", "--to", "2026-10-01"]
    p = subprocess.run(base, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert len(_rows_csv(p.stdout, code)) == 2
    p = subprocess.run(base + ["--basis", "recorded"], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert _rows_csv(p.stdout, code) == []


def test_export_connection_refused_is_a_clean_503(env, daemon_factory, admin):
    """The export fails before anything was sent: the client gets a 503, not a dropped
    connection, and the daemon keeps serving. (The daemon here logs in as a role that may
    authenticate callers but not read the export view, so its COPY is refused.)"""
    env.sql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
            "'fund_noexport') THEN CREATE ROLE fund_noexport LOGIN; END IF; END $$;"
            "GRANT USAGE ON SCHEMA fl, api TO fund_noexport;"
            "GRANT SELECT ON fl.principal TO fund_noexport;"
            "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA api, fl TO fund_noexport;")
    with open(env.conf) as f:
        dsn = [l.split("=", 1)[1].strip() for l in f if l.startswith("dsn")][0]
    d = daemon_factory(uniq("noexp"),
                       {"database": {"dsn": dsn.replace("user=fund", "user=fund_noexport")}})
    status, _, body = http_get(d, "/export/ledger?format=csv", token=admin)
    assert status == 503, (status, body)
    assert b"export failed" in body
    assert http_get(d, "/healthz")[0] == 200


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_export_waiting_for_the_database_does_not_spin(env, daemon_factory, admin):
    """An export whose query waits in PostgreSQL (here on a lock) waits idle: the daemon
    used to poll its connection for writability all that time, at 100% of a core."""
    d = daemon_factory("export-wait")
    with TableLock(env, "fl.journal_entry") as lock:
        job = Background(lambda: http_get(
            d, "/export/ledger?format=csv", token=admin, timeout=60))
        job.start()
        assert lock.wait_for_waiters(1, timeout=10), "the export never reached the database"
        before = _cpu_seconds(d.proc.pid)
        time.sleep(1.5)
        used = _cpu_seconds(d.proc.pid) - before
    status, _, body = job.get(60)
    assert status == 200 and body.startswith(b"entry_id,"), (status, body[:200])
    assert used < 0.3, "fundd used %.2f s of CPU in 1.5 s while the export waited" % used
