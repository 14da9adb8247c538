"""A batch of mutations goes to PostgreSQL as one statement, api.call_many(), and a run of
direct receipts or of grant approvals in it is written as sets, one statement per table
(migrations/functions/80_batch.sql, [database] batch_one_statement, docs/batching.md). Each
call must still get exactly the answer api.call() gives it, leave the same rows, and whatever
the set path cannot take must go through api.call() one by one.

The batches are formed as in test_batching.py: two blocker calls hold both database
connections of a daemon of its own on a table lock from psql, the calls sent next queue in
the daemon, and they go out together when the lock goes.

Which path a batch took shows in the rows' xmin: api.call() runs each call in a
sub-transaction of its own, so the calls of a batch leave as many transaction ids as there
are calls; the set path writes the whole run in one sub-transaction."""

import hashlib
import json

import pytest

from fl.env import uniq
from fl.client import api_of, assert_error, batch_counts, call, create_principal, rpc
from fl.db import psql, raising_trigger, run_queued, sql_lit
from fl.ledger import new_fund, new_partner
from fl.grants import apply, funded_fund, new_returnee


def _daemon(daemon_factory, one_statement=1):
    return daemon_factory(uniq("bulk"), {"server": {"workers": 1},
                                         "database": {"pool_size": 2, "writers": 2,
                                                      "batch_max": 32,
                                                      "batch_one_statement": one_statement}})


def _xmins(env, ids):
    """Distinct transaction ids of the contributions ids."""
    return int(env.sql("SELECT count(DISTINCT xmin::text) FROM fl.contribution WHERE "
                       "contribution_id IN (%s)" % ",".join(sql_lit(i) for i in ids)).strip())


def _blockers(admin, pa, code):
    return [(admin, "contribution.receive", {"partner_id": pa, "fund": code,
                                             "amount": "0.01", "currency": "EUR",
                                             "idempotency_key": uniq("blk")})
            for _ in range(2)]


def _receipts(pa, code, tag):
    """Receipts of every shape a direct receipt can have."""
    def r(amount, key=True, **kw):
        p = {"partner_id": pa, "fund": code, "amount": amount, "currency": "EUR"}
        if key:
            p["idempotency_key"] = "%s-%s" % (tag, uniq("k"))
        p.update(kw)
        return p
    return [
        r("1.00"),
        r("2.50", bank_ref='ref "quoted" \\ back, {braces} NULL'),
        r("10.00", currency="USD", fx_rate="0.9137"),      # 9.137 -> 9.14
        r("0.25", currency="USD", fx_rate="0.5"),           # 0.125 -> 0.12, half-even
        r("3", earmark_region="Shirak"),
        r("4.00", received_at="2026-11-20T10:00:00Z", bank_ref="dated"),
        r("5.00", key=False),
        r("6.00", key=False, bank_ref="no key"),
        r("7.07"),
        r("8.00", earmark_region="AM-LO", bank_ref="Lori"),
    ]


def _comparable(result):
    """A receipt's answer without what differs from call to call."""
    out = dict(result)
    for k in ("contribution_id", "created_at"):
        out.pop(k)
    if out.get("bank_ref") != "dated":
        out.pop("received_at")      # now(), when not sent
    return out


def _check_rows(env, calls, docs):
    """Each contribution: its journal entry as fl.post() writes it, one audit event, and
    for a call with a key, the key's row with its answer."""
    for (token, method, params), doc in zip(calls, docs):
        c = doc["result"]
        cid = c["contribution_id"]
        pid = env.sql("SELECT principal_id FROM fl.principal WHERE token_hash = "
                      "sha256(%s::bytea)" % sql_lit(token)).strip()
        amount = env.sql("SELECT fund_amount FROM fl.contribution WHERE contribution_id = %s"
                         % sql_lit(cid)).strip()
        entry = env.sql(
            "SELECT e.kind, e.memo, e.fund_code, e.principal_id, string_agg(p.seq || ':' || "
            "a.short || ':' || p.amount, ' ' ORDER BY p.seq) FROM fl.journal_entry e JOIN "
            "fl.posting p USING (entry_id) JOIN fl.account a USING (account_id) WHERE "
            "e.ref_id = %s GROUP BY 1, 2, 3, 4" % sql_lit(cid)).strip()
        assert entry == "receipt|receipt %s|%s|%s|1:cash:%s 2:contributions:-%s" % (
            cid, params["fund"], pid, amount, amount), entry
        # (the key is not part of the params api.call() gets)
        body = json.dumps({k: v for k, v in params.items() if k != "idempotency_key"})
        events = env.sql(
            "SELECT principal_id, outcome, encode(params_sha256, 'hex') = encode(sha256("
            "convert_to('contribution.receive ' || %s::jsonb::text, 'UTF8')), 'hex') FROM "
            "fl.audit_event WHERE method = 'contribution.receive' AND object_id = %s"
            % (sql_lit(body), sql_lit(cid))).split()
        assert events == ["%s|ok|t" % pid], events
        key = params.get("idempotency_key")
        if key is not None:
            row = env.sql("SELECT method, result FROM fl.idempotency WHERE principal_id = %s "
                          "AND key = %s" % (sql_lit(pid), sql_lit(key))).strip()
            method_, _, result = row.partition("|")
            assert method_ == "contribution.receive" and json.loads(result) == c, row


def test_a_batch_of_receipts_is_written_as_sets_and_answered_as_one_by_one(
        env, daemon_factory, admin):
    bulk = _daemon(daemon_factory, 1)
    each = _daemon(daemon_factory, 0)
    api = api_of(bulk, {"token": admin, "principal_id": None})
    code = new_fund(api, prefix="BU")["code"]
    pa = new_partner(api)["partner_id"]
    cashier = create_principal(bulk, admin, ["admin"], name=uniq("second"))
    answers, calls_of = {}, {}
    for name, d in (("bulk", bulk), ("each", each)):
        before = batch_counts(d, admin)
        receipts = _receipts(pa, code, name)
        # two of them by another principal: one run may hold several callers
        calls = [(cashier["token"] if i in (3, 8) else admin, "contribution.receive", p)
                 for i, p in enumerate(receipts)]
        docs = run_queued(env, d, "fl.fund", _blockers(admin, pa, code), calls)[2:]
        for doc in docs:
            assert "result" in doc and doc.get("replayed") in (None, False), doc
        after = batch_counts(d, admin)
        assert after[0] > before[0] and after[1] - before[1] >= 8, (before, after)
        assert after[2] == before[2], (before, after)
        ids = [doc["result"]["contribution_id"] for doc in docs]
        assert len(set(ids)) == 10
        # one sub-transaction for the batch's run, against one per call
        assert _xmins(env, ids) == (1 if name == "bulk" else 10), name
        _check_rows(env, calls, docs)
        answers[name] = [_comparable(doc["result"]) for doc in docs]
        calls_of[name] = (calls, docs)

    assert answers["bulk"] == answers["each"]
    got = {a["bank_ref"]: a for a in answers["bulk"] if a["bank_ref"]}
    assert got['ref "quoted" \\ back, {braces} NULL']["amount"] == "2.50"
    assert got["dated"]["received_at"] == "2026-11-20T10:00:00.000000Z"
    assert got["Lori"]["earmark_region_code"] == "AM-LO"
    fx = [a for a in answers["bulk"] if a["currency"] == "USD"]
    assert [(a["fx_rate"], a["fund_amount"]) for a in fx] == [("0.9137", "9.14"),
                                                              ("0.5", "0.12")]

    # retries of the set path's calls replay their first answers, and write nothing
    calls, docs = calls_of["bulk"]
    n = env.sql("SELECT count(*) FROM fl.contribution WHERE fund_code = %s" % sql_lit(code))
    for (token, method, params), doc in zip(calls, docs):
        if "idempotency_key" not in params:
            continue
        again = rpc(bulk, token, method, params)[1]
        assert again["result"] == doc["result"], (again, doc)
    assert env.sql("SELECT count(*) FROM fl.contribution WHERE fund_code = %s"
                   % sql_lit(code)) == n
    # the fund's balance is what the journal says
    total = sum(round(float(a["fund_amount"]) * 100) for a in answers["bulk"] +
                answers["each"]) + 4
    bal = api.ok("fund.balance", {"code": code})
    assert bal["received"] == "%d.%02d" % divmod(total, 100), bal


def test_a_run_with_a_caller_by_client_certificate(env, daemon_factory, admin):
    """fl.bulk_callers() finds a caller without a token by its certificate's hash, as
    api.call() does: the run is still one set, and each row is its own caller's."""
    bulk = _daemon(daemon_factory, 1)
    api = api_of(bulk, {"token": admin, "principal_id": None})
    code = new_fund(api, prefix="BC")["code"]
    pa = new_partner(api)["partner_id"]
    crt, key = env.gen_client_cert(uniq("bulk-cert"))
    name = uniq("bulk-cert")
    env.principal_add(name, ["admin"], cert=crt)
    cert_pid = call(bulk, None, "system.whoami", cert=crt, key=key)["principal_id"]
    admin_pid = call(bulk, admin, "system.whoami")["principal_id"]
    receipts = _receipts(pa, code, "cert")
    calls = [((crt, key) if i % 2 else admin, "contribution.receive", p)
             for i, p in enumerate(receipts)]
    before = batch_counts(bulk, admin)
    docs = run_queued(env, bulk, "fl.fund", _blockers(admin, pa, code), calls)[2:]
    for doc in docs:
        assert "result" in doc and doc.get("replayed") in (None, False), doc
    after = batch_counts(bulk, admin)
    assert after[1] - before[1] >= 8 and after[2] == before[2], (before, after)
    ids = [doc["result"]["contribution_id"] for doc in docs]
    assert _xmins(env, ids) == 1
    for i, cid in enumerate(ids):
        want = cert_pid if i % 2 else admin_pid
        row = env.sql("SELECT c.created_by, e.principal_id, a.principal_id FROM "
                      "fl.contribution c JOIN fl.journal_entry e ON e.ref_id = "
                      "c.contribution_id JOIN fl.audit_event a ON a.object_id = "
                      "c.contribution_id AND a.method = 'contribution.receive' WHERE "
                      "c.contribution_id = %s" % sql_lit(cid)).strip()
        assert row == "|".join([want] * 3), (i, row)
        k = receipts[i].get("idempotency_key")
        if k is not None:
            assert env.sql("SELECT principal_id FROM fl.idempotency WHERE key = %s"
                           % sql_lit(k)).strip() == want
            # a retry by the same certificate replays; its key is the caller's own
            if i % 2:
                again = rpc(bulk, None, "contribution.receive", receipts[i],
                            cert=crt, key=key)[1]
                assert again["result"] == docs[i]["result"], again


# (each odd call here passes the daemon's checks of params, and only SQL finds it wrong)
@pytest.mark.parametrize("odd", ["fx_missing", "future", "partner", "fund", "key_used",
                                 "key_twice", "refused"])
def test_a_run_the_set_path_cannot_take_goes_one_by_one(env, daemon_factory, admin, odd):
    d = _daemon(daemon_factory, 1)
    api = api_of(d, {"token": admin, "principal_id": None})
    code = new_fund(api, prefix="BO")["code"]
    pa = new_partner(api)["partner_id"]
    good = [(admin, "contribution.receive",
             {"partner_id": pa, "fund": code, "amount": "1.%02d" % i, "currency": "EUR",
              "idempotency_key": uniq("g")}) for i in range(6)]
    key = uniq("odd")
    odd_params = {"partner_id": pa, "fund": code, "amount": "9.00", "currency": "EUR",
                  "idempotency_key": key}
    token = admin
    first = None
    if odd == "fx_missing":
        odd_params["currency"] = "USD"
    elif odd == "future":
        odd_params["received_at"] = "2099-01-01T00:00:00Z"
    elif odd == "partner":
        odd_params["partner_id"] = "pa_" + "0" * 20
    elif odd == "fund":
        odd_params["fund"] = "NO-SUCH-FUND"
    elif odd == "key_used":
        first = rpc(d, admin, "contribution.receive", odd_params)[1]["result"]
    elif odd == "refused":
        token = create_principal(d, admin, ["auditor"], name=uniq("aud"))["token"]
    before = batch_counts(d, admin)
    calls = good[:3] + [(token, "contribution.receive", odd_params)] + good[3:]
    if odd == "key_twice":
        calls.append((admin, "contribution.receive", dict(odd_params)))
    docs = run_queued(env, d, "fl.fund", _blockers(admin, pa, code), calls)[2:]

    good_docs = docs[:3] + docs[4:7]
    for doc, (_, _, p) in zip(good_docs, good):
        assert "result" in doc and doc["result"]["amount"] == p["amount"], doc
    ids = [doc["result"]["contribution_id"] for doc in good_docs]
    # every call of the run went through api.call(): one sub-transaction each
    assert _xmins(env, ids) == len(ids)
    o = docs[3]
    if odd == "fx_missing":
        assert_error(o, -32602, field="fx_rate", reason="required_for_another_currency")
    elif odd == "future":
        assert_error(o, -32602, field="received_at", reason="in_the_future")
    elif odd == "partner":
        assert_error(o, -32004, reason="partner_not_found")
    elif odd == "fund":
        assert_error(o, -32004, reason="fund_not_found")
    elif odd == "refused":
        assert_error(o, -32003)
        assert env.sql("SELECT count(*) FROM fl.audit_event WHERE outcome = 'refused' AND "
                       "method = 'contribution.receive' AND principal_id = (SELECT "
                       "principal_id FROM fl.principal WHERE token_hash = sha256(%s::bytea))"
                       % sql_lit(token)).strip() == "1"
    elif odd == "key_used":
        assert o["result"] == first, (o, first)
    elif odd == "key_twice":
        assert "result" in o and docs[-1]["result"] == o["result"], (o, docs[-1])
    # the set path gave the run up by itself: the batch did not fail
    after = batch_counts(d, admin)
    assert after[2] == before[2] and after[0] > before[0], (before, after)
    # nothing else was written: the good ones, plus the odd one where it succeeds
    want = 2 + 6 + (1 if odd in ("key_used", "key_twice") else 0)   # blockers first
    assert env.sql("SELECT count(*) FROM fl.contribution WHERE fund_code = %s"
                   % sql_lit(code)).strip() == str(want)
    assert env.sql("SELECT count(*) FROM fl.journal_entry WHERE fund_code = %s"
                   % sql_lit(code)).strip() == str(want)


def test_a_batch_mixing_receipts_and_other_calls(env, daemon_factory, admin):
    """Runs of direct receipts around a partner.create and a receipt of a pledge: every
    call answered, each written once."""
    d = _daemon(daemon_factory, 1)
    api = api_of(d, {"token": admin, "principal_id": None})
    code = new_fund(api, prefix="BM")["code"]
    pa = new_partner(api)["partner_id"]
    pledge = api.ok("contribution.pledge", {"partner_id": pa, "fund": code,
                                            "amount": "50.00", "currency": "EUR"})

    def receipt(i):
        return (admin, "contribution.receive", {"partner_id": pa, "fund": code,
                                                "amount": "2.%02d" % i, "currency": "EUR",
                                                "idempotency_key": uniq("m")})
    name = uniq("mixed")
    calls = [receipt(i) for i in range(3)] + \
        [(admin, "partner.create", {"name": name, "country": "AM", "kind": "individual"})] + \
        [receipt(i) for i in range(3, 6)] + \
        [(admin, "contribution.receive", {"contribution_id": pledge["contribution_id"]})] + \
        [receipt(i) for i in range(6, 9)]
    docs = run_queued(env, d, "fl.fund", _blockers(admin, pa, code), calls)[2:]
    for doc in docs:
        assert "result" in doc, doc
    assert docs[3]["result"]["name"] == name
    assert docs[7]["result"]["status"] == "received"
    assert docs[7]["result"]["contribution_id"] == pledge["contribution_id"]
    amounts = sorted(doc["result"]["amount"] for doc in docs[:3] + docs[4:7] + docs[8:])
    assert amounts == ["2.%02d" % i for i in range(9)]
    assert env.sql("SELECT count(*) FROM fl.partner WHERE name = %s" % sql_lit(name)).strip() \
        == "1"
    assert env.sql("SELECT count(*), count(DISTINCT ref_id) FROM fl.journal_entry WHERE "
                   "fund_code = %s" % sql_lit(code)).strip() == "13|12"
    bal = api.ok("fund.balance", {"code": code})
    assert bal["received"] == "%d.%02d" % divmod(2 + 5000 + sum(200 + i for i in range(9)),
                                                  100), bal


def test_an_error_no_method_answers_rolls_the_set_back_and_each_call_runs_alone(
        env, daemon_factory, admin):
    d = _daemon(daemon_factory, 1)
    api = api_of(d, {"token": admin, "principal_id": None})
    code = new_fund(api, prefix="BE")["code"]
    pa = new_partner(api)["partner_id"]
    tag = uniq("be")
    boom = tag + "-boom"
    with raising_trigger(env, "fl.contribution", "bank_ref", boom):
        before = batch_counts(d, admin)
        refs = ["%s-%d" % (tag, i) for i in range(4)] + [boom] + \
            ["%s-%d" % (tag, i) for i in range(4, 8)]
        calls = [(admin, "contribution.receive", {"partner_id": pa, "fund": code,
                                                  "amount": "3.00", "currency": "EUR",
                                                  "bank_ref": ref}) for ref in refs]
        docs = run_queued(env, d, "fl.fund", _blockers(admin, pa, code), calls)[2:]
    assert_error(docs[4], -32603, reason="internal_error")
    for doc, ref in zip(docs, refs):
        if ref != boom:
            assert doc["result"]["bank_ref"] == ref, doc
    rows = env.sql("SELECT bank_ref, count(*) FROM fl.contribution WHERE fund_code = %s AND "
                   "bank_ref LIKE %s GROUP BY 1 ORDER BY 1" % (sql_lit(code),
                                                               sql_lit(tag + "-%"))).split()
    assert rows == ["%s|1" % ref for ref in sorted(refs) if ref != boom], rows
    after = batch_counts(d, admin)
    assert after[2] == before[2] + 1, (before, after)
    assert "rolled back (SQLSTATE P0001)" in d.log_tail(20000)


def test_call_many_answers_each_call_as_api_call_does(env, daemon):
    """api.call_many() itself: one row per call, in order, each api.call()'s answer (here
    refusals, which write their audit events), and arrays of different lengths refused."""
    bad = hashlib.sha256(uniq("not-a-token").encode()).hexdigest()
    args = ("ARRAY['\\x%s'::bytea, NULL, '\\x%s'], ARRAY[NULL::bytea, NULL, NULL], "
            "ARRAY['contribution.receive', 'partner.create', 'fund.create'], "
            "ARRAY['{}'::jsonb, '{}', '{}'], "
            "ARRAY[NULL::text, NULL, NULL], ARRAY['{}'::jsonb, '{}', '{}']" % (bad, bad))
    out = env.sql("SELECT r FROM api.call_many(%s) AS r" % args).split("\n")
    rows = [json.loads(l) for l in out if l]
    one = []
    for token, method in ((bad, "contribution.receive"), (None, "partner.create"),
                          (bad, "fund.create")):
        one.append(json.loads(env.sql(
            "SELECT api.call(%s, NULL, %s, '{}', NULL, '{}')"
            % ("'\\x%s'::bytea" % token if token else "NULL", sql_lit(method))).strip()))
    assert rows == one, (rows, one)
    assert [(r["error"]["code"], r["error"]["data"]["reason"]) for r in rows] == [
        (-32001, "bad_credentials"), (-32001, "no_credentials"), (-32001, "bad_credentials")]
    p = psql(env, "SELECT api.call_many(ARRAY[NULL::bytea], ARRAY[NULL::bytea], "
                  "ARRAY['a.b', 'c.d'], ARRAY['{}'::jsonb], ARRAY[NULL::text], "
                  "ARRAY['{}'::jsonb]);")
    assert p.returncode != 0 and "arrays of different lengths" in p.stderr, p.stderr


# --- grant.approve ------------------------------------------------------------------------

def _decision_xmins(env, grant_ids, pid):
    return int(env.sql("SELECT count(DISTINCT xmin::text) FROM fl.grant_decision WHERE "
                       "principal_id = %s AND grant_id IN (%s)" % (
                           sql_lit(pid), ",".join(sql_lit(g) for g in grant_ids))).strip())


def _grant_comparable(g):
    out = {k: v for k, v in g.items()
           if k not in ("grant_id", "returnee_id", "fund", "created_at", "decided_at")}
    for k in ("approvals", "decisions"):
        out[k] = [{a: b for a, b in d.items() if a != "at"} for d in g[k]]
    return out


def test_a_batch_of_approvals_is_written_as_sets_and_answered_as_one_by_one(
        env, daemon_factory, admin):
    bulk = _daemon(daemon_factory, 1)
    each = _daemon(daemon_factory, 0)
    api = api_of(bulk, {"token": admin, "principal_id": None})
    first = create_principal(bulk, admin, ["approver"], name=uniq("appr1"))
    second = create_principal(bulk, admin, ["approver"], name=uniq("appr2"))
    ret = new_returnee(api)
    answers = {}
    for name, d in (("bulk", bulk), ("each", each)):
        fund = funded_fund(api, received="1000.00", dual="50.00")
        code = fund["code"]
        pa = new_partner(api)["partner_id"]
        # one approval each; two approvals, of which the other one is given; two, of which
        # this is the first
        amounts = ["10.00", "11.00", "12.00", "13.00", "14.00", "60.00", "70.00", "80.00"]
        grants = [apply(api, fund, amount=a, purpose="Purpose %d" % i, returnee=ret)
                  for i, a in enumerate(amounts)]
        for g in grants[5:7]:
            api_of(bulk, second).ok("grant.approve", {"grant_id": g["grant_id"]})
        calls = []
        for i, g in enumerate(grants):
            p = {"grant_id": g["grant_id"]}
            if i % 2 == 0:
                p["idempotency_key"] = uniq("ak")
            if i in (1, 5):
                p["comment"] = 'looks "fine", \\ {ok}'
            calls.append((first["token"], "grant.approve", p))
        before = batch_counts(d, admin)
        docs = run_queued(env, d, "fl.fund", _blockers(admin, pa, code), calls)[2:]
        after = batch_counts(d, admin)
        assert after[2] == before[2] and after[1] - before[1] >= 6, (before, after)
        for doc in docs:
            assert "result" in doc, doc
        ids = [g["grant_id"] for g in grants]
        assert [doc["result"]["grant_id"] for doc in docs] == ids
        assert [doc["result"]["status"] for doc in docs] == ["approved"] * 7 + ["submitted"]
        assert _decision_xmins(env, ids, first["principal_id"]) == (1 if name == "bulk"
                                                                    else 8), name
        bal = api.ok("fund.balance", {"code": code})
        assert bal["committed"] == "190.00" and bal["available"] == "810.02", bal
        for (token, method, params), doc, g in zip(calls, docs, grants):
            gid = g["grant_id"]
            entries = env.sql(
                "SELECT e.kind, e.memo, e.principal_id, string_agg(p.seq || ':' || a.short || "
                "':' || p.amount, ' ' ORDER BY p.seq) FROM fl.journal_entry e JOIN fl.posting p "
                "USING (entry_id) JOIN fl.account a USING (account_id) WHERE e.ref_id = %s "
                "GROUP BY 1, 2, 3" % sql_lit(gid)).split()
            if doc["result"]["status"] == "approved":
                cents = int(doc["result"]["amount"].replace(".", ""))
                assert entries == ["commitment|commitment", "for", "grant", "%s|%s|1:"
                                   "grants_committed:%d" % (gid, first["principal_id"], cents),
                                   "2:commitments:-%d" % cents], entries
            else:
                assert entries == [], entries
            body = json.dumps({k: v for k, v in params.items() if k != "idempotency_key"})
            events = env.sql(
                "SELECT principal_id, encode(params_sha256, 'hex') = encode(sha256(convert_to("
                "'grant.approve ' || %s::jsonb::text, 'UTF8')), 'hex') FROM fl.audit_event "
                "WHERE method = 'grant.approve' AND object_id = %s AND principal_id = %s"
                % (sql_lit(body), sql_lit(gid), sql_lit(first["principal_id"]))).split()
            assert events == ["%s|t" % first["principal_id"]], events
            if "idempotency_key" in params:
                again = rpc(d, token, method, params)[1]
                assert again["result"] == doc["result"], (again, doc)
        answers[name] = [_grant_comparable(doc["result"]) for doc in docs]
    assert answers["bulk"] == answers["each"]
    assert answers["bulk"][1]["approvals"][0]["comment"] == 'looks "fine", \\ {ok}'


@pytest.mark.parametrize("odd", ["short", "self", "twice", "unknown", "decided"])
def test_a_run_of_approvals_the_set_path_cannot_take_goes_one_by_one(env, daemon_factory,
                                                                      admin, odd):
    d = _daemon(daemon_factory, 1)
    api = api_of(d, {"token": admin, "principal_id": None})
    appr = create_principal(d, admin, ["approver"], name=uniq("appr"))
    other = create_principal(d, admin, ["approver", "admin"], name=uniq("other"))
    ret = new_returnee(api)
    fund = funded_fund(api, received="100.00", dual="1000.00")
    pa = new_partner(api)["partner_id"]
    amounts = ["30.00"] * 5 if odd == "short" else ["1.00"] * 5
    grants = [apply(api, fund, amount=a, returnee=ret) for a in amounts]
    calls = [(appr["token"], "grant.approve", {"grant_id": g["grant_id"]}) for g in grants]
    if odd == "self":
        # a grant applied for by the approver itself
        own = apply(api_of(d, other), fund, amount="1.00", returnee=ret)
        calls.insert(2, (other["token"], "grant.approve", {"grant_id": own["grant_id"]}))
    elif odd == "twice":
        calls.insert(3, calls[1])
    elif odd == "unknown":
        calls.insert(2, (appr["token"], "grant.approve", {"grant_id": "gr_" + "0" * 20}))
    elif odd == "decided":
        done = apply(api, fund, amount="1.00", returnee=ret)
        api_of(d, other).ok("grant.approve", {"grant_id": done["grant_id"]})
        calls.insert(2, (appr["token"], "grant.approve", {"grant_id": done["grant_id"]}))
    before = batch_counts(d, admin)
    docs = run_queued(env, d, "fl.fund", _blockers(admin, pa, fund["code"]),
                      calls)[2:]
    after = batch_counts(d, admin)
    assert after[2] == before[2] and after[0] > before[0], (before, after)
    if odd == "short":
        # 100.02 available: three of 30.00 fit (which three: the order the calls reached
        # the daemon in)
        ok = [doc["result"]["grant_id"] for doc in docs if "result" in doc]
        assert len(ok) == 3, docs
        for doc in docs:
            if "result" in doc:
                assert doc["result"]["status"] == "approved", doc
            else:
                assert_error(doc, -32010, reason="insufficient_funds")
    else:
        odd_doc = docs[2]
        if odd == "twice":
            # the same call twice: whichever reached the daemon second is refused
            odd_doc = docs[1] if "error" in docs[1] else docs[3]
        if odd == "self":
            assert_error(odd_doc, -32011, reason="self_approval")
        elif odd == "twice":
            assert_error(odd_doc, -32011, reason="already_approved")
        elif odd == "unknown":
            assert_error(odd_doc, -32004, reason="grant_not_found")
        elif odd == "decided":
            assert_error(odd_doc, -32009, reason="wrong_state")
        rest = [doc for doc in docs if doc is not odd_doc]
        for doc in rest:
            assert doc["result"]["status"] == "approved", doc
        ok = [g["grant_id"] for g in grants]
    # every call of the run went through api.call(): one sub-transaction each
    assert _decision_xmins(env, ok, appr["principal_id"]) == len(ok)
    bal = api.ok("fund.balance", {"code": fund["code"]})
    want = {"short": 9000, "decided": 600}.get(odd, 500)
    assert bal["committed"] == "%d.%02d" % divmod(want, 100), bal


def test_a_many_statement_with_too_few_rows_is_not_run_again(env, daemon_factory, admin):
    """A bug of api.call_many() that answers fewer rows than calls: the batch committed, so
    the daemon must not run its calls again (they would be written twice). Each call gets
    an internal error, and each receipt is in the books once."""
    d = _daemon(daemon_factory, 1)
    api = api_of(d, {"token": admin, "principal_id": None})
    code = new_fund(api, prefix="BR")["code"]
    pa = new_partner(api)["partner_id"]
    real = env.sql("SELECT pg_get_functiondef('api.call_many(bytea[], bytea[], text[], "
                   "jsonb[], text[], jsonb[])'::regprocedure)")
    assert "CREATE OR REPLACE FUNCTION api.call_many(" in real, real
    r = psql(env, real.replace("FUNCTION api.call_many(", "FUNCTION fl.test_call_many_real(", 1)
             + ";\n" + """
        CREATE OR REPLACE FUNCTION api.call_many(p_token bytea[], p_cert bytea[],
            p_method text[], p_params jsonb[], p_idem text[], p_ctx jsonb[])
            RETURNS SETOF jsonb LANGUAGE sql
            SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            SELECT r FROM fl.test_call_many_real(p_token, p_cert, p_method,
                p_params, p_idem, p_ctx) AS r
             LIMIT CASE WHEN cardinality(p_method) > 1 THEN cardinality(p_method) - 1 END
        $$;""")
    assert r.returncode == 0, r.stderr
    tag = uniq("br")
    try:
        before = batch_counts(d, admin)
        calls = [(admin, "contribution.receive", {"partner_id": pa, "fund": code,
                                                  "amount": "4.00", "currency": "EUR",
                                                  "bank_ref": "%s-%d" % (tag, i)})
                 for i in range(6)]
        docs = run_queued(env, d, "fl.fund", _blockers(admin, pa, code), calls)[2:]
    finally:
        r = psql(env, real + ";\nDROP FUNCTION fl.test_call_many_real(bytea[], bytea[], "
                 "text[], jsonb[], text[], jsonb[]);")
        assert r.returncode == 0, r.stderr
    for doc in docs:
        assert_error(doc, -32603, reason="internal_error")
    rows = env.sql("SELECT count(*), count(DISTINCT bank_ref) FROM fl.contribution WHERE "
                   "fund_code = %s AND bank_ref LIKE %s" % (sql_lit(code),
                                                            sql_lit(tag + "-%"))).strip()
    assert rows == "6|6", rows
    after = batch_counts(d, admin)
    assert after[0] > before[0] and after[2] == before[2], (before, after)
    assert "answered 5 rows of 1 columns; it committed" in d.log_tail(20000)
