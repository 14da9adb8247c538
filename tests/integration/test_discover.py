"""An API people can discover (docs/protocol.md: rpc.discover, Errors): the OpenRPC
document of the method table, and refusals that say what is allowed and name every bad
param at once."""

from fl.client import api_of, create_principal
from fl.grants import new_returnee
from fl.ledger import new_fund, new_partner


def test_discover_describes_each_method(api):
    doc = api.ok("rpc.discover")
    m = {x["name"]: x for x in doc["methods"]}
    apply = m["grant.apply"]
    assert apply["x-roles"] == ["admin"] and apply["x-mutation"] is True
    p = {x["name"]: x for x in apply["params"]}
    assert p["category"]["required"] is True
    assert p["category"]["schema"]["enum"] == ["small_business", "agriculture",
                                               "requalification", "employment", "housing",
                                               "other"], p["category"]
    assert p["amount"]["schema"]["x-kind"] == "money" and "decimal" in \
        p["amount"]["schema"]["description"]
    assert p["purpose"]["schema"]["maxLength"] == 1000
    assert "idempotency_key" in p and p["idempotency_key"]["required"] is False
    errs = [(e["code"], e["data"]["reason"]) for e in apply["errors"]]
    assert (-32004, "returnee_not_found") in errs and (-32003, "role_required") in errs
    assert (-32051, "outcome_unknown") in errs
    rep = {x["name"]: x for x in m["report.grants"]["params"]}
    assert rep["by"]["schema"]["type"] == "array" and "region" in \
        rep["by"]["schema"]["items"]["enum"]
    # a read takes consistent, a mutation idempotency_key, whatever their own params
    assert m["system.version"]["x-roles"] == [] and \
        [p["name"] for p in m["system.version"]["params"]] == ["consistent"]
    assert m["system.version"]["params"][0]["schema"] == {"type": "boolean"}
    assert "consistent" not in p
    assert m["fund.balance"]["x-mutation"] is False
    assert {"name": "result", "description": "the grant", "schema": {"type": "object"}} \
        == m["grant.get"]["result"]


def test_anyone_with_credentials_may_discover(env, daemon, admin, api):
    donor = new_partner(api)
    with api_of(daemon, create_principal(daemon, admin, ["partner"],
                                         partner_id=donor["partner_id"])) as pa:
        assert len(pa.ok("rpc.discover")["methods"]) >= 60
    r = api.request("POST", "/rpc", body='{"jsonrpc": "2.0", "id": 1, "method": '
                    '"rpc.discover"}', token="nobody-holds-this")
    assert r.status == 401 and r.json()["error"]["code"] == -32001, r
    api.err("rpc.discover", {"x": 1}, -32602, field="x", reason="unknown_param")


def test_every_bad_param_at_once_with_what_is_allowed(api):
    f = new_fund(api)
    r = new_returnee(api)
    e = api.err("grant.apply", {"returnee_id": r["returnee_id"], "fund": f["code"],
                                "category": "lottery", "purpose": ""}, -32602,
                field="category", reason="not_one_of_allowed_values")
    data = e["data"]
    assert "small_business" in data["allowed"], data
    got = {(x["field"], x["reason"]) for x in data["fields"]}
    assert got == {("category", "not_one_of_allowed_values"), ("purpose", "empty"),
                   ("amount", "missing")}, data["fields"]
    amount = [x for x in data["fields"] if x["field"] == "amount"][0]
    assert "decimal" in amount["expected"], amount
    # formats: dates and money say what they take
    e = api.err("contribution.receive", {"partner_id": "pa_x", "fund": f["code"],
                                         "amount": "12.345", "currency": "EUR",
                                         "received_at": "yesterday"}, -32602)
    fields = {x["field"]: x for x in e["data"]["fields"]}
    assert "YYYY-MM-DD" in fields["received_at"]["expected"], fields
    assert "at most 2 decimals" in fields["amount"]["expected"], fields
    # roles name what is allowed
    e = api.err("principal.create", {"name": "n", "roles": ["boss"]}, -32602, field="roles")
    assert e["data"]["allowed"] == ["admin", "approver", "auditor", "partner"], e
