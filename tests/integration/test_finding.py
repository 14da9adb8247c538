"""Finding things (docs/protocol.md: grant.list filters, returnee.find, partner.find): a
beneficiary's name on its grants for staff, filters that combine, and refusals."""

from fl.env import uniq
from fl.grants import apply, approve, new_returnee, today
from fl.ledger import new_fund, new_partner


def ids(page):
    return [g["grant_id"] for g in page["grants"]]


def test_grant_list_filters_and_names(api, appr, aud):
    f = new_fund(api, dual="100000")
    p = new_partner(api)
    api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                    "amount": "1000.00", "currency": "EUR"})
    anna = new_returnee(api, full_name="Anna Hakobyan " + uniq("n"), kind="displaced")
    g1 = apply(api, f, "10.00", returnee=anna, category="agriculture")
    g2 = apply(api, f, "20.00", returnee=anna)
    g3 = apply(api, f, "30.00", category="agriculture")
    approve(appr, g1)
    day = today().isoformat()
    every = aud.ok("grant.list", {"fund": f["code"]})
    assert ids(every) == [g1["grant_id"], g2["grant_id"], g3["grant_id"]]
    assert every["count"] == 3
    named = {g["grant_id"]: g for g in every["grants"]}
    assert named[g1["grant_id"]]["beneficiary_name"] == anna["full_name"]
    assert named[g1["grant_id"]]["beneficiary_kind"] == "displaced"
    by = lambda **kw: ids(api.ok("grant.list", dict({"fund": f["code"]}, **kw)))  # noqa
    assert by(category="agriculture") == [g1["grant_id"], g3["grant_id"]]
    assert by(returnee_id=anna["returnee_id"]) == [g1["grant_id"], g2["grant_id"]]
    assert by(returnee_id=anna["returnee_id"], category="agriculture") == [g1["grant_id"]]
    assert by(created_from=day, created_to=day) == ids(every)
    assert by(created_to="2020-01-01") == []
    assert by(decided_from=day, decided_to=day) == [g1["grant_id"]]
    assert by(status="submitted", category="agriculture") == [g3["grant_id"]]
    # paging keeps the whole count
    p1 = api.ok("grant.list", {"fund": f["code"], "limit": 2})
    assert len(p1["grants"]) == 2 and p1["count"] == 3 and p1["next_cursor"]
    api.err("grant.list", {"created_from": "2026-02-01", "created_to": "2026-01-01"},
            -32602, field="created_to", reason="end_before_start")
    api.err("grant.list", {"decided_from": "2026-02-01", "decided_to": "2026-01-01"},
            -32602, field="decided_to", reason="end_before_start")
    api.err("grant.list", {"returnee_id": "re_nobody"}, -32004, field="returnee_id",
            reason="returnee_not_found")
    api.err("grant.list", {"category": "lottery"}, -32602, field="category")
