"""A call whose transaction fails at COMMIT (a deferred constraint) must answer an error and
leave nothing behind, even though its statement had already returned a result. (With
pipelined queries the commit error arrives after the result; reporting the result would
tell the client that something was written which was not.)"""

import threading

from fl.env import uniq
from fl.client import call, rpc


def test_commit_time_failure_is_an_error_and_writes_nothing(env, daemon_factory, admin):
    # one database connection: concurrent calls queue up in its pipeline
    daemon = daemon_factory(uniq("cf"), {"server": {"workers": 1},
                                                  "database": {"pool_size": 1}})
    code = uniq("CF").upper().replace("_", "-")[:32]
    call(daemon, admin, "fund.create", {"code": code, "name": "commit failure",
         "currency": "EUR", "kind": "pass_through", "dual_approval_above": "0"})
    pa = call(daemon, admin, "partner.create", {"name": "CF", "country": "AM",
              "kind": "individual"})["partner_id"]
    env.sql("""
        CREATE FUNCTION fl.test_fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.bank_ref = 'FAIL-AT-COMMIT' THEN
                RAISE EXCEPTION 'refused at commit';
            END IF;
            RETURN NULL;
        END $$;
        CREATE CONSTRAINT TRIGGER test_fail_at_commit AFTER INSERT ON fl.contribution
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
            EXECUTE FUNCTION fl.test_fail_at_commit();""")
    try:
        params = {"partner_id": pa, "fund": code, "amount": "5.00", "currency": "EUR",
                  "bank_ref": "FAIL-AT-COMMIT", "idempotency_key": uniq("cf")}
        # several at once, so some are pipelined behind others on the one connection
        docs = [None] * 6

        def one(i):
            docs[i] = rpc(daemon, admin, "contribution.receive",
                          dict(params, idempotency_key=params["idempotency_key"] +
                               str(i)))[1]

        threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for d in docs:
            assert d is not None and "error" in d, d
            assert d["error"]["code"] == -32603
        ok = call(daemon, admin, "contribution.receive",
                  dict(params, bank_ref="OK", idempotency_key=uniq("ok")))
        assert ok["status"] == "received"
    finally:
        env.sql("DROP TRIGGER test_fail_at_commit ON fl.contribution;"
                "DROP FUNCTION fl.test_fail_at_commit();")
    lst = call(daemon, admin, "contribution.list", {"fund": code})
    assert [c["bank_ref"] for c in lst["contributions"]] == ["OK"]
    bal = call(daemon, admin, "fund.balance", {"code": code})
    assert bal["received"] == "5.00"
    # and the retry with the failed call's key is not a replay: nothing was kept
    again = call(daemon, admin, "contribution.receive",
                 dict(params, bank_ref="RETRY",
                      idempotency_key=params["idempotency_key"] + "0"))
    assert again["bank_ref"] == "RETRY"
