"""Mutations waiting for a database connection at the same time run in one transaction and
share its commit ([database] batch_max, docs/batching.md), and each still gets exactly the
answer it would get alone: its own result or error, its own audit event, its idempotency
key honoured, and nothing half-written when the batch fails and is run again call by call.

Each test has a daemon of its own with one worker and two database connections, both of
which may run mutations (writers = 2). A lock held from psql keeps both connections busy
with two blocker calls, so that the calls sent next wait in the daemon's queue and go out
together when the lock is released. The last test shows the default, writers = 1: one
connection runs mutations, the other stays free for reads."""

import json
import time

import pytest

from fl.env import uniq
from fl.client import (api_of, assert_error, batch_counts, create_principal, metric_value, raw_tls,
                       scrape, start_calls)
from fl.db import TableLock, raising_trigger, run_queued, sql_lit
from fl.ledger import new_fund, new_partner
from fl.grants import apply, new_returnee


@pytest.mark.parametrize("batch_max", [32, 1])
def test_queued_mutations_share_a_commit_and_keep_their_own_answers(env, daemon_factory,
                                                                    admin, batch_max):
    d = daemon_factory(uniq("batch"), {"server": {"workers": 1},
                                       "database": {"pool_size": 2, "writers": 2,
                                                    "batch_max": batch_max}})
    api = api_of(d, {"token": admin, "principal_id": None})
    code = new_fund(api, prefix="BT")["code"]
    pa = new_partner(api)["partner_id"]
    outsider = create_principal(d, admin, ["approver"], name=uniq("outsider"))
    before = batch_counts(d, admin)

    def receive(amount, key, **kw):
        p = {"partner_id": pa, "fund": code, "amount": amount, "currency": "EUR",
             "idempotency_key": key}
        p.update(kw)
        return (admin, "contribution.receive", p)

    blockers = [receive("1.00", uniq("b")), receive("1.00", uniq("b"))]
    good = [receive("1.%02d" % (i + 1), uniq("g"), bank_ref="good-%d" % i)
            for i in range(8)]
    same_key = uniq("same")
    twins = [receive("2.00", same_key, bank_ref="twin"), receive("2.00", same_key,
                                                                 bank_ref="twin")]
    no_fund = [receive("3.00", uniq("nf"), fund="NO-SUCH-FUND-" + str(i))
               for i in range(2)]
    no_partner = [receive("4.00", uniq("np"), partner_id="pa_" + "0" * 26)]
    refused = [(outsider["token"], "contribution.receive", dict(receive("5.00", "r")[2]))]
    docs = run_queued(env, d, "fl.fund", blockers,
                      good + twins + no_fund + no_partner + refused)

    got = {}
    for doc in docs[:10]:
        assert "result" in doc, doc
        got[doc["result"]["contribution_id"]] = doc["result"]
    for i, doc in enumerate(docs[2:10]):
        assert doc["result"]["amount"] == "1.%02d" % (i + 1)
        assert doc["result"]["bank_ref"] == "good-%d" % i
    t1, t2 = docs[10], docs[11]
    assert "result" in t1 and "result" in t2, (t1, t2)
    assert t1["result"]["contribution_id"] == t2["result"]["contribution_id"]
    got[t1["result"]["contribution_id"]] = t1["result"]
    for doc in docs[12:14]:
        assert_error(doc, -32004, reason="fund_not_found")
    assert_error(docs[14], -32004, reason="partner_not_found")
    assert_error(docs[15], -32003)
    assert len(got) == 11

    # the books: exactly these contributions, one receipt entry and one audit event each
    ids = ",".join(sql_lit(i) for i in sorted(got))
    rows = env.sql("SELECT contribution_id, amount FROM fl.contribution WHERE fund_code = %s "
                   "ORDER BY 1" % sql_lit(code)).split()
    assert rows == ["%s|%d" % (i, round(float(got[i]["amount"]) * 100)) for i in sorted(got)]
    assert env.sql("SELECT count(*) FROM fl.journal_entry WHERE fund_code = %s AND kind = "
                   "'receipt'" % sql_lit(code)).strip() == "11"
    assert env.sql("SELECT count(*), count(DISTINCT object_id) FROM fl.audit_event WHERE "
                   "method = 'contribution.receive' AND outcome = 'ok' AND object_id IN (%s)"
                   % ids).strip() == "11|11"
    assert env.sql("SELECT count(*) FROM fl.audit_event WHERE principal_id = %s AND "
                   "outcome = 'refused' AND error_code = -32003" %
                   sql_lit(outsider["principal_id"])).strip() == "1"
    total = sum(round(float(r["amount"]) * 100) for r in got.values())
    bal = api.ok("fund.balance", {"code": code})
    assert bal["received"] == "%d.%02d" % divmod(total, 100)

    after = batch_counts(d, admin)
    if batch_max == 1:
        assert after[:2] == before[:2], (before, after)
    else:
        # the 14 queued calls went out in at most a few transactions
        assert after[0] > before[0] and after[1] - before[1] >= 7, (before, after)
    assert after[2] == before[2], "no batch should have failed: %r" % (after,)


def test_a_failing_call_rolls_its_batch_back_and_every_call_runs_again_alone(
        env, daemon_factory, admin):
    d = daemon_factory(uniq("batchfail"), {"server": {"workers": 1},
                                           "database": {"pool_size": 2, "writers": 2,
                                                        "batch_max": 32}})
    tag = uniq("bf")
    boom = tag + "-boom"
    with raising_trigger(env, "fl.partner", "name", boom):
        before = batch_counts(d, admin)

        def create(name):
            return (admin, "partner.create", {"name": name, "country": "AM",
                                              "kind": "individual"})

        blockers = [create(tag + "-blocker-0"), create(tag + "-blocker-1")]
        queued = [create("%s-%d" % (tag, i)) for i in range(5)] + [create(boom)] + \
            [create("%s-%d" % (tag, i)) for i in range(5, 9)]
        docs = run_queued(env, d, "fl.partner", blockers, queued)

    assert_error(docs[7], -32603, reason="internal_error")
    made = {}
    for doc in docs[:7] + docs[8:]:
        assert "result" in doc, doc
        made[doc["result"]["name"]] = doc["result"]["partner_id"]
    assert len(made) == 11
    # each partner exactly once: the rolled-back batch left nothing, the re-runs wrote once
    rows = env.sql("SELECT name, partner_id FROM fl.partner WHERE name LIKE %s ORDER BY 1"
                   % sql_lit(tag + "-%")).split()
    assert rows == ["%s|%s" % (n, made[n]) for n in sorted(made)]
    ids = ",".join(sql_lit(i) for i in made.values())
    assert env.sql("SELECT count(*) FROM fl.audit_event WHERE method = 'partner.create' AND "
                   "outcome = 'ok' AND object_id IN (%s)" % ids).strip() == "11"
    after = batch_counts(d, admin)
    assert after[0] > before[0] and after[2] == before[2] + 1, (before, after)
    assert "rolled back (SQLSTATE P0001)" in d.log_tail(20000)
    # the daemon carries on batching afterwards
    docs = run_queued(env, d, "fl.partner", [create(tag + "-x0"), create(tag + "-x1")],
                      [create("%s-y%d" % (tag, i)) for i in range(6)])
    assert all("result" in doc for doc in docs), docs
    final = batch_counts(d, admin)
    assert final[0] > after[0] and final[2] == after[2], (after, final)


def test_every_deferrable_constraint_is_initially_deferred(env, daemon):
    """api.call runs each mutation's deferred checks at its end and then says SET
    CONSTRAINTS ALL DEFERRED, which is right only while no deferrable constraint starts
    out IMMEDIATE (fl.rebuild_dispatch, migrations/functions/90_dispatch.sql)."""
    rows = env.sql("SELECT conrelid::regclass || ' ' || conname || ' ' || condeferred "
                   "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                   "WHERE n.nspname IN ('fl', 'api') AND c.condeferrable ORDER BY 1")
    lines = rows.split("\n")
    assert "fl.journal_entry journal_entry_commit true" in lines, rows
    assert all(l.endswith(" true") for l in lines if l), rows


def test_a_batch_sees_the_fund_as_its_earlier_calls_left_it(env, daemon_factory, admin):
    """Grant approvals of one fund in one batch: each must see the commitments of the ones
    before it (they fold the fund's balance deltas, appended by the previous call's journal
    entry check), so the fund is never over-committed and the rest get -32010."""
    d = daemon_factory(uniq("batchfund"), {"server": {"workers": 1},
                                           "database": {"pool_size": 2, "writers": 2,
                                                        "batch_max": 32}})
    api = api_of(d, {"token": admin, "principal_id": None})
    fund = new_fund(api, prefix="BF", dual="1000000")
    code = fund["code"]
    pa = new_partner(api)["partner_id"]
    api.ok("contribution.receive", {"partner_id": pa, "fund": code, "amount": "1000.00",
                                    "currency": "EUR"})
    ret = new_returnee(api)
    grants = [apply(api, fund, amount="100.00", returnee=ret)["grant_id"] for _ in range(12)]
    appr = create_principal(d, admin, ["approver"], name=uniq("appr"))
    before = batch_counts(d, admin)

    def approve(g):
        return (appr["token"], "grant.approve", {"grant_id": g})

    # the blockers wait on the grant table; the other ten queue up and go out together
    docs = run_queued(env, d, "fl.grant_application",
                      [approve(grants[0]), approve(grants[1])],
                      [approve(g) for g in grants[2:]])
    ok = [doc for doc in docs if "result" in doc]
    short = [doc for doc in docs if "error" in doc]
    assert len(ok) == 10, docs
    for doc in short:
        assert_error(doc, -32010, reason="insufficient_funds")
    bal = api.ok("fund.balance", {"code": code})
    assert bal["committed"] == "1000.00" and bal["available"] == "0.00", bal
    after = batch_counts(d, admin)
    assert after[0] > before[0] and after[2] == before[2], (before, after)


def test_one_writer_queues_mutations_for_the_next_batch_while_reads_pass(env, daemon_factory,
                                                                         admin):
    """writers = 1 (the default): while one mutation runs, the others wait in the daemon,
    although a connection is free, and go out as one batch when its results are in; reads
    take the free connection meanwhile."""
    d = daemon_factory(uniq("writer"), {"server": {"workers": 1},
                                        "database": {"pool_size": 2, "writers": 1,
                                                     "batch_max": 32,
                                                     "write_stall_ms": 600000}})
    api = api_of(d, {"token": admin, "principal_id": None})
    code = new_fund(api, prefix="BW")["code"]
    pa = new_partner(api)["partner_id"]
    before = batch_counts(d, admin)

    def receive(amount):
        return (admin, "contribution.receive", {
            "partner_id": pa, "fund": code, "amount": amount, "currency": "EUR",
            "idempotency_key": uniq("w")})

    queued = [receive("1.%02d" % i) for i in range(1, 11)]
    with TableLock(env, "fl.fund") as lock:
        first = start_calls(d, [receive("9.00")])
        assert lock.wait_for_waiters(1), "the first receipt never reached the lock"
        rest = start_calls(d, queued)
        deadline = time.monotonic() + 20
        waiting = None
        while time.monotonic() < deadline:
            # a read: it runs on the free connection while the mutations wait
            waiting = int(metric_value(scrape(d, admin)[1], "fundd_db_pool_waiting"))
            if waiting == len(queued):
                break
            time.sleep(0.1)
        assert waiting == len(queued), "mutations waiting in the daemon: %r" % waiting
        assert lock.waiters(calls_only=True) == 1, "only the first receipt may be in the database"
        partner = api.ok("partner.get", {"partner_id": pa})
        assert partner["partner_id"] == pa
    docs = [t.get(60) for t in first + rest]
    for doc, (_, _, params) in zip(docs, [receive("9.00")] + queued):
        assert "result" in doc, doc
        assert doc["result"]["amount"] == params["amount"]
    assert len({doc["result"]["contribution_id"] for doc in docs}) == 11
    after = batch_counts(d, admin)
    # the ten went out together, in one transaction
    assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (1, 10, 0), \
        (before, after)
    bal = api.ok("fund.balance", {"code": code})
    assert bal["received"] == "%d.%02d" % divmod(900 + sum(100 + i for i in range(1, 11)), 100)


def test_a_stalled_mutation_does_not_hold_back_the_others(env, daemon_factory, admin):
    """writers = 1 with write_stall_ms = 100: a receipt stuck on a lock for seconds does not
    stop an unrelated mutation, which commits while the lock is still held."""
    d = daemon_factory(uniq("stall"), {"server": {"workers": 1},
                                       "database": {"pool_size": 2, "writers": 1,
                                                    "write_stall_ms": 100}})
    api = api_of(d, {"token": admin, "principal_id": None})
    code = new_fund(api, prefix="BS")["code"]
    pa = new_partner(api)["partner_id"]
    name = uniq("unrelated")
    with TableLock(env, "fl.fund") as lock:
        stuck = start_calls(d, [(admin, "contribution.receive", {
            "partner_id": pa, "fund": code, "amount": "3.00", "currency": "EUR"})])
        assert lock.wait_for_waiters(1), "the receipt never reached the lock"
        other = start_calls(d, [(admin, "partner.create", {"name": name, "country": "AM",
                                                           "kind": "individual"})])
        doc = other[0].get(20)
        assert "result" in doc and doc["result"]["name"] == name, doc
        # (worker 0's fold of balance deltas may be waiting on the lock too)
        assert lock.granted() and lock.waiters(calls_only=True) == 1, \
            "the lock should still hold the receipt"
        assert stuck[0].is_alive(), "the receipt should still be waiting"
    doc = stuck[0].get(60)
    assert "result" in doc and doc["result"]["amount"] == "3.00", doc


def test_same_key_in_two_transactions_waits_for_the_first(env, daemon_factory, admin):
    """Two calls with one idempotency key in two transactions (no batching, two writers):
    the second waits on the key's lock while the first is held up in the database, then
    answers the first's result; one contribution, one entry (api.call's lock on the key)."""
    d = daemon_factory(uniq("samekey"), {"server": {"workers": 1},
                                         "database": {"pool_size": 2, "writers": 2,
                                                      "batch_max": 1}})
    api = api_of(d, {"token": admin, "principal_id": None})
    code = new_fund(api, prefix="BK")["code"]
    pa = new_partner(api)["partner_id"]
    key = uniq("key")
    call = (admin, "contribution.receive", {"partner_id": pa, "fund": code,
                                            "amount": "7.00", "currency": "EUR",
                                            "idempotency_key": key})
    with TableLock(env, "fl.fund") as lock:
        first = start_calls(d, [call])
        assert lock.wait_for_waiters(1), "the first call never reached the lock"
        second = start_calls(d, [call])
        assert lock.wait_for_waiters(2), "the second call never reached the key's lock"
        waiting = env.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                          "AND NOT granted").strip()
        assert waiting == "1", "the second call should wait on the key: %s" % waiting
    a, b = first[0].get(60), second[0].get(60)
    assert "result" in a and "result" in b, (a, b)
    assert a["result"] == b["result"]
    assert env.sql("SELECT count(*) FROM fl.contribution WHERE fund_code = %s"
                   % sql_lit(code)).strip() == "1"
    assert env.sql("SELECT count(*) FROM fl.journal_entry WHERE fund_code = %s AND kind = "
                   "'receipt'" % sql_lit(code)).strip() == "1"
    assert env.sql("SELECT count(*) FROM fl.idempotency WHERE key = %s"
                   % sql_lit(key)).strip() == "1"


def test_a_failing_batch_drops_the_call_whose_client_went_away(env, daemon_factory, admin):
    """A call whose client disconnects while its batch runs, and the batch then fails: the
    batch rolls back, the others run again alone, and the abandoned call is not run again
    (nothing of it was committed, and nobody waits for its answer)."""
    d = daemon_factory(uniq("batchgone"), {
        "server": {"workers": 1},
        "database": {"pool_size": 3, "writers": 1, "batch_max": 32,
                     "write_stall_ms": 600000}})
    tag = uniq("bg")
    boom, gone = tag + "-boom", tag + "-gone"

    def create(name):
        return (admin, "partner.create", {"name": name, "country": "AM",
                                          "kind": "individual"})

    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "partner.create",
                       "params": create(gone)[2]}).encode()
    raw = None
    with raising_trigger(env, "fl.partner", "name", boom):
        try:
            before = batch_counts(d, admin)
            with TableLock(env, "fl.partner") as partners:
                with TableLock(env, "fl.fund") as funds:
                    # the one writer: a fund.create held on the fund table's lock
                    holder = start_calls(d, [(admin, "fund.create", {
                        "code": "BG" + tag[-8:].upper().replace("-", ""), "name": "bg",
                        "currency": "EUR", "kind": "pass_through",
                        "dual_approval_above": "0"})])
                    assert funds.wait_for_waiters(1), "the fund.create never reached the lock"
                    # meanwhile these nine, and one more on a raw connection, wait in the
                    # daemon for the next batch
                    queued = start_calls(d, [create("%s-%d" % (tag, i)) for i in range(4)] +
                                         [create(boom)] +
                                         [create("%s-%d" % (tag, i)) for i in range(4, 8)])
                    raw = raw_tls(d)
                    raw.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                admin.encode() + b"\r\nContent-Type: application/json\r\n"
                                b"Content-Length: %d\r\n\r\n" % len(body) + body)
                    time.sleep(1.5)
                # the fund's lock is gone: the ten go out as one batch, and wait on the
                # partners' lock
                assert holder[0].get(30)["result"]["code"].startswith("BG")
                deadline = time.monotonic() + 10
                while batch_counts(d, admin)[1] - before[1] < 10 and \
                        time.monotonic() < deadline:
                    time.sleep(0.1)
                mid = batch_counts(d, admin)
                assert mid[1] - before[1] == 10 and mid[0] == before[0] + 1, (before, mid)
                assert partners.wait_for_waiters(1)
                raw.close()     # the client of one call of that batch goes away
                raw = None
                time.sleep(0.5)
            docs = [t.get(60) for t in queued]
        finally:
            if raw is not None:
                raw.close()

    assert_error(docs[4], -32603, reason="internal_error")
    names = [doc["result"]["name"] for doc in docs[:4] + docs[5:]]
    assert len(names) == 8
    rows = env.sql("SELECT name FROM fl.partner WHERE name LIKE %s ORDER BY 1"
                   % sql_lit(tag + "-%")).split()
    assert rows == sorted(names), "the abandoned call ran again, or a call ran twice"
    after = batch_counts(d, admin)
    assert after[2] == before[2] + 1, (before, after)
    # the pool is whole: the next mutations are answered, batched or not
    docs = [t.get(60) for t in start_calls(d, [create("%s-y%d" % (tag, i)) for i in range(4)])]
    assert all("result" in doc for doc in docs), docs
