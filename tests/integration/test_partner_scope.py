"""Partner scoping (docs/protocol.md; docs/ledger.md "Partner scoping"): a principal with
the partner role sees its own partner record and contributions only; another partner's
objects answer -32004 exactly as if they did not exist; fund-wide methods answer -32003; no
byte of another partner's data reaches it."""

import pytest

from fl.env import uniq
from fl.client import Client, assert_error, create_principal, leaks, rpc
from fl.ledger import balance, entries_for, missing_like, new_fund, new_partner, pages


@pytest.fixture(scope="module")
def world(daemon, admin):
    api = Client.api(daemon, admin)
    f1 = new_fund(api, currency="EUR")
    f2 = new_fund(api, currency="EUR", kind="endowment")
    a = new_partner(api, name="Alpha Diaspora " + uniq("a"), email="alpha@example.org",
                    kind="organisation", country="FR")
    b = new_partner(api, name="Bravo Secretive " + uniq("b"), email=uniq("bravo") + "@example.net",
                    country="US")
    b_bank = "BRAVO-REF-" + uniq("r")

    def c(method, f, p, amount, **kw):
        params = dict({"partner_id": p["partner_id"], "fund": f["code"], "amount": amount,
                       "currency": "EUR"}, **kw)
        return api.ok(method, params)

    a_cs = [
        c("contribution.pledge", f1, a, "100.00"),
        c("contribution.receive", f1, a, "200.00", bank_ref="A-REF-1"),
        c("contribution.receive", f2, a, "300.00", earmark_region="Shirak"),
        c("contribution.pledge", f2, a, "400.00"),
    ]
    b_cs = [
        c("contribution.pledge", f1, b, "98765.43"),
        c("contribution.receive", f1, b, "87654.32", bank_ref=b_bank),
        c("contribution.receive", f2, b, "76543.21", earmark_region="AM-TV"),
    ]
    pa = create_principal(daemon, admin, ["partner"], partner_id=a["partner_id"])
    pb = create_principal(daemon, admin, ["partner"], partner_id=b["partner_id"])
    w = {
        "api": api, "f1": f1, "f2": f2, "a": a, "b": b, "a_cs": a_cs, "b_cs": b_cs,
        "pa": Client.api(daemon, pa["token"], record=True),
        "pb": Client.api(daemon, pb["token"], record=True),
        "pa_id": pa["principal_id"],
        # Everything of B that must never reach A, as it would appear in a JSON body.
        "b_secrets": [b["partner_id"], b["name"], b["email"], b_bank, "98765.43", "87654.32",
                      "76543.21"] + [x["contribution_id"] for x in b_cs],
    }
    yield w
    for k in ("api", "pa", "pb"):
        w[k].close()


def assert_clean(world, r):
    found = leaks(r.body, world["b_secrets"])
    assert not found, "a partner-visible response holds B's data %r: %r" % (found, r.body[:500])


def ids(cs):
    return [c["contribution_id"] for c in cs]


def test_whoami(world):
    me = world["pa"].ok("system.whoami")
    assert me["partner_id"] == world["a"]["partner_id"]
    assert me["roles"] == ["partner"]


def test_own_partner_record(world):
    r, doc = world["pa"].exchange("partner.get", {"partner_id": world["a"]["partner_id"]})
    assert doc.get("result") == world["a"], doc
    assert_clean(world, r)


def test_other_partner_is_not_found(world):
    r, doc = world["pa"].exchange("partner.get", {"partner_id": world["b"]["partner_id"]})
    assert_error(doc, -32004)
    assert_clean(world, r)


def test_other_partner_indistinguishable_from_missing(world):
    """-32004 "exactly as if it did not exist": the same error object as for an id that
    names nothing."""
    _, hidden = world["pa"].exchange("partner.get", {"partner_id": world["b"]["partner_id"]})
    _, missing = world["pa"].exchange("partner.get",
                                      {"partner_id": missing_like(world["b"]["partner_id"])})
    assert hidden["error"] == missing["error"], (hidden["error"], missing["error"])
    _, hidden = world["pa"].exchange("contribution.get",
                                     {"contribution_id": world["b_cs"][0]["contribution_id"]})
    _, missing = world["pa"].exchange("contribution.get", {
        "contribution_id": missing_like(world["b_cs"][0]["contribution_id"])})
    assert hidden["error"] == missing["error"], (hidden["error"], missing["error"])


def test_own_contributions(world):
    for c in world["a_cs"]:
        r, doc = world["pa"].exchange("contribution.get",
                                      {"contribution_id": c["contribution_id"]})
        assert doc.get("result") == c, doc
        assert_clean(world, r)


def test_other_contributions_not_found(world):
    for c in world["b_cs"]:
        r, doc = world["pa"].exchange("contribution.get",
                                      {"contribution_id": c["contribution_id"]})
        assert_error(doc, -32004)
        assert_clean(world, r)


def test_list_only_own(world):
    pa, a = world["pa"], world["a"]["partner_id"]
    r, doc = pa.exchange("contribution.list", {})
    assert_clean(world, r)
    got = doc["result"]["contributions"]
    assert ids(got) == ids(world["a_cs"]), ids(got)
    assert all(c["partner_id"] == a for c in got)
    assert doc["result"]["next_cursor"] is None

    r, doc = pa.exchange("contribution.list", {"partner_id": a})
    assert ids(doc["result"]["contributions"]) == ids(world["a_cs"])
    assert_clean(world, r)

    for fund, want in ((world["f1"]["code"], [0, 1]), (world["f2"]["code"], [2, 3])):
        r, doc = pa.exchange("contribution.list", {"fund": fund})
        assert_clean(world, r)
        assert ids(doc["result"]["contributions"]) == [world["a_cs"][i]["contribution_id"]
                                                      for i in want]
    r, doc = pa.exchange("contribution.list", {"status": "received"})
    assert_clean(world, r)
    assert ids(doc["result"]["contributions"]) == ids(world["a_cs"][1:3])

    items, sizes = pages(pa, "contribution.list", {}, "contributions", 1)
    # (whether an empty page follows the fourth is test_contributions' concern)
    assert ids(items) == ids(world["a_cs"]) and sizes[:4] == [1, 1, 1, 1]
    for body in pa.bodies[-len(sizes):]:
        assert not leaks(body, world["b_secrets"])


def test_list_naming_another_partner(world):
    pa = world["pa"]
    for pid in (world["b"]["partner_id"], missing_like(world["b"]["partner_id"])):
        for extra in ({}, {"fund": world["f1"]["code"]}, {"status": "pledged"}):
            r, doc = pa.exchange("contribution.list", dict({"partner_id": pid}, **extra))
            assert_error(doc, -32004)
            assert_clean(world, r)


def test_cursor_does_not_reach_other_partners(world):
    # A cursor taken from an admin's unfiltered walk still only ever yields A's rows.
    api, pa = world["api"], world["pa"]
    res = api.ok("contribution.list", {"fund": world["f1"]["code"], "limit": 1})
    r, doc = pa.exchange("contribution.list", {"cursor": res["next_cursor"], "limit": 1000})
    assert_clean(world, r)
    if "result" in doc:
        assert all(c["partner_id"] == world["a"]["partner_id"]
                   for c in doc["result"]["contributions"])
    else:
        assert_error(doc, -32602, field="cursor")


FORBIDDEN = [
    ("fund.balance", lambda w: {"code": w["f1"]["code"]}),
    ("ledger.entries", lambda w: {}),
    ("ledger.entries", lambda w: {"account": w["f1"]["code"] + ":cash"}),
    ("ledger.trial_balance", lambda w: {"currency": "EUR"}),
    ("partner.list", lambda w: {}),
    ("partner.create", lambda w: {"name": "x", "country": "AM", "kind": "individual"}),
    ("contribution.pledge", lambda w: {"partner_id": w["a"]["partner_id"],
                                       "fund": w["f1"]["code"], "amount": "1",
                                       "currency": "EUR"}),
    ("contribution.receive", lambda w: {"partner_id": w["a"]["partner_id"],
                                        "fund": w["f1"]["code"], "amount": "1",
                                        "currency": "EUR"}),
    ("contribution.receive", lambda w: {"contribution_id": w["a_cs"][0]["contribution_id"]}),
    ("contribution.cancel", lambda w: {"contribution_id": w["a_cs"][0]["contribution_id"],
                                       "reason": "mine"}),
    ("contribution.cancel", lambda w: {"contribution_id": w["b_cs"][0]["contribution_id"],
                                       "reason": "theirs"}),
    ("fund.create", lambda w: {"code": uniq("P").upper(), "name": "x", "currency": "EUR",
                               "kind": "pass_through", "dual_approval_above": "1"}),
    ("fund.record_earnings", lambda w: {"code": w["f1"]["code"], "amount": "1",
                                        "period": "x"}),
    ("principal.create", lambda w: {"name": "x", "roles": ["admin"]}),
]


@pytest.mark.parametrize("method,params", FORBIDDEN, ids=[m for m, _ in FORBIDDEN])
def test_forbidden(world, method, params):
    r, doc = world["pa"].exchange(method, params(world))
    assert_error(doc, -32003)
    assert_clean(world, r)


def test_forbidden_calls_changed_nothing(world):
    api = world["api"]
    for c in world["a_cs"] + world["b_cs"]:
        assert api.ok("contribution.get", {"contribution_id": c["contribution_id"]}) == c
    b1 = balance(api, world["f1"]["code"], "EUR")
    assert b1["pledged"] == 10000 + 9876543
    assert b1["received"] == 20000 + 8765432
    assert b1["earnings"] == 0
    assert len(entries_for(api, world["f1"]["code"] + ":cash")) == 2


def test_fund_list_is_allowed_and_clean(world):
    r, doc = world["pa"].exchange("fund.list", {})
    assert "result" in doc, doc
    assert world["f1"]["code"] in {f["code"] for f in doc["result"]["funds"]}
    assert_clean(world, r)


def test_batch_mixing_own_and_other(world):
    pa = world["pa"]
    calls = [("contribution.get", {"contribution_id": world["a_cs"][0]["contribution_id"]}),
             ("contribution.get", {"contribution_id": world["b_cs"][1]["contribution_id"]}),
             ("partner.get", {"partner_id": world["b"]["partner_id"]}),
             ("partner.get", {"partner_id": world["a"]["partner_id"]}),
             ("contribution.list", {"partner_id": world["b"]["partner_id"]}),
             ("fund.balance", {"code": world["f1"]["code"]})]
    docs = pa.batch(calls)
    assert docs[0].get("result") == world["a_cs"][0]
    assert_error(docs[1], -32004)
    assert_error(docs[2], -32004)
    assert docs[3].get("result") == world["a"]
    assert_error(docs[4], -32004)
    assert_error(docs[5], -32003)
    assert not leaks(pa.bodies[-1], world["b_secrets"]), pa.bodies[-1][:800]


def test_symmetric_for_b(world):
    pb = world["pb"]
    got = pb.ok("contribution.list", {})["contributions"]
    assert ids(got) == ids(world["b_cs"])
    for c in world["a_cs"]:
        pb.err("contribution.get", {"contribution_id": c["contribution_id"]}, -32004)
    pb.err("partner.get", {"partner_id": world["a"]["partner_id"]}, -32004)
    assert pb.ok("partner.get", {"partner_id": world["b"]["partner_id"]}) == world["b"]


def test_partner_principal_must_name_existing_partner(daemon, admin):
    r, doc = rpc(daemon, admin, "principal.create",
                 {"name": uniq("pp"), "roles": ["partner"],
                  "partner_id": "pa_" + "0" * 20})
    assert "error" in doc, "a partner principal bound to no partner: %r" % doc
    assert doc["error"]["code"] in (-32004, -32602), doc


def test_no_response_to_a_ever_held_b(world):
    """Every body the partner-A principal received in this module, in one sweep."""
    assert len(world["pa"].bodies) > 20
    for body in world["pa"].bodies:
        found = leaks(body, world["b_secrets"])
        assert not found, "leak of %r in %r" % (found, body[:500])
