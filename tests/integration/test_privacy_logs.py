"""A returnee's personal data never reaches the daemon's log, even at debug level and even
when a call about the returnee fails (issue 4: personal fields never appear in logs)."""

from fl.env import uniq
from fl.client import call, rpc


def test_returnee_personal_data_never_logged(env, daemon_factory, admin):
    d = daemon_factory(uniq("privacy"), {"log": {"level": "debug", "format": "json"}})
    name = "Zabel " + uniq("Yesayan")
    nid = uniq("AN")
    re = call(d, admin, "returnee.register", {"full_name": name, "region": "Lori",
              "returned_from": "DE", "returned_on": "2026-03-01", "gender": "female",
              "birth_year": 1987, "national_id": nid})
    call(d, admin, "returnee.get", {"returnee_id": re["returnee_id"]})
    call(d, admin, "returnee.list", {"region": "Lori", "limit": 5})
    # refusals too: a duplicate and a bad param carrying the same values
    r, doc = rpc(d, admin, "returnee.register", {"full_name": name, "region": "Lori",
                 "returned_from": "DE", "returned_on": "2026-03-01",
                 "national_id": nid})
    assert doc["error"]["data"]["reason"] == "duplicate_returnee"
    r, doc = rpc(d, admin, "returnee.register", {"full_name": name, "region": "Lori",
                 "returned_from": "DE", "returned_on": "2999-01-01",
                 "national_id": nid + "x"})
    assert doc["error"]["code"] == -32602
    d.stop()
    log = open(d.log_path, "rb").read()
    assert b"returnee.register" in log          # the calls were logged at debug level...
    for secret in (name, nid):      # (unique strings: a year could match a port number)
        assert secret.encode() not in log, secret   # ...their personal params never
