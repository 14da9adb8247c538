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


def test_returnee_find_by_name_in_three_scripts_and_by_national_id(api, appr, aud):
    """A returnee is found by its whole name or national id as register compares them
    (the keyed index, docs/privacy.md): case, diacritics and spaces do not matter, a part
    of the name finds nothing."""
    tag = uniq("x").replace("-", "")
    hy = new_returnee(api, full_name="Աննա  Հակոբյան %s" % tag)
    ru = new_returnee(api, full_name="Анна Акопян Семён %s" % tag)
    en = new_returnee(api, full_name="Ánna Hakobyán %s" % tag, national_id="AM " + tag)
    f = new_fund(api, dual="100000")
    g = apply(api, f, "10.00", returnee=en)

    def found(**kw):
        return [r["returnee_id"] for r in aud.ok("returnee.find", kw)["returnees"]]

    # case and diacritics folded, spaces collapsed, in every script
    assert found(name="anna hakobyan " + tag) == [en["returnee_id"]]
    assert found(name="  ANNA\u3000HAKOBYÁN   " + tag.upper()) == [en["returnee_id"]]
    assert found(name="աննա հակոբյան " + tag) == [hy["returnee_id"]]
    assert found(name="Աննա Հակոբյան " + tag.upper()) == [hy["returnee_id"]]
    assert found(name="анна акопян семен " + tag) == [ru["returnee_id"]]
    # the whole name only: a word, a start or a part of it finds nobody
    assert found(name="hakobyan") == [] and found(name="Анна Акопян") == []
    assert found(name=tag) == [] and found(name="anna hakobyan " + tag[:-1]) == []
    assert found(name="%") == [] and found(name="_") == []
    # by national id, as register compares them, with the beneficiary's grants
    one = aud.ok("returnee.find", {"national_id": "am\u200b " + tag})["returnees"]
    assert [r["returnee_id"] for r in one] == [en["returnee_id"]]
    assert one[0]["full_name"] == "Ánna Hakobyán %s" % tag
    assert [(x["grant_id"], x["amount"], x["fund"]) for x in one[0]["grants"]] == [
        (g["grant_id"], "10.00", f["code"])]
    # a corrected name is found under its new spelling only
    api.ok("returnee.update", {"returnee_id": hy["returnee_id"],
                               "full_name": "Anahit Petrosyan " + tag})
    assert found(name="anahit petrosyan " + tag) == [hy["returnee_id"]]
    assert found(name="աննա հակոբյան " + tag) == []
    api.err("returnee.find", {}, -32602, reason="national_id_or_name")
    # both: a beneficiary matches both
    assert [r["returnee_id"] for r in aud.ok("returnee.find", {
        "national_id": "AM " + tag, "name": "anna hakobyan " + tag})["returnees"]] == \
        [en["returnee_id"]]
    assert aud.ok("returnee.find", {"national_id": "AM " + tag,
                                    "name": "anahit petrosyan " + tag})["returnees"] == []
    api.err("returnee.find", {"name": "\u0301"}, -32602, field="name", reason="blank")
    api.err("returnee.find", {"national_id": "\u200b "}, -32602, field="national_id",
            reason="blank")


def test_partner_find(api, aud, daemon, admin):
    from fl.client import api_of, create_principal
    tag = uniq("p").replace("-", "")
    a = new_partner(api, name="Société Générale Arménie %s" % tag)
    b = new_partner(api, name="Армянская община Лиона %s" % tag)
    found = lambda n: [x["partner_id"] for x in aud.ok("partner.find",  # noqa
                                                       {"name": n})["partners"]]
    assert found("societe generale armenie " + tag) == [a["partner_id"]]
    assert found("армянская община лиона " + tag) == [b["partner_id"]]
    assert a["partner_id"] in found("generale armenie " + tag)
    api.ok("partner.update", {"partner_id": a["partner_id"], "name": "SG Armenia " + tag})
    assert found("sg armenia " + tag) == [a["partner_id"]]
    with api_of(daemon, create_principal(daemon, admin, ["partner"],
                                         partner_id=a["partner_id"])) as pa:
        pa.err("partner.find", {"name": "sg"}, -32003, reason="role_required")
        pa.err("returnee.find", {"name": "anna"}, -32003, reason="role_required")


def test_regions_are_named_in_armenian_russian_and_english(api, aud):
    regions = {r["region_code"]: r for r in aud.ok("region.list")["regions"]}
    assert regions["AM-GR"]["names"] == {"en": "Gegharkunik", "hy": "Գեղարքունիք",
                                         "ru": "Гегаркуник"}
    assert all(set(r["names"]) == {"en", "hy", "ru"} for c, r in regions.items()
               if c.startswith("AM-")), regions
    for name, code in (("Գեղարքունիք", "AM-GR"), ("гегаркуник", "AM-GR"),
                       ("Երեւան", "AM-ER"), ("ЕРЕВАН", "AM-ER"), ("Vayots Dzor", "AM-VD"),
                       ("вайоц дзор", "AM-VD"), ("am-sh", "AM-SH"), ("Լոռի", "AM-LO")):
        r = new_returnee(api, region=name)
        assert (r["region_code"], r["region"]) == (code, regions[code]["region"]), (name, r)
    f = new_fund(api)
    g = apply(api, f, "10.00", returnee=new_returnee(api, region="Շիրակ"))
    got = api.ok("grant.list", {"fund": f["code"], "region": "Ширак"})
    assert ids(got) == [g["grant_id"]]
    api.err("returnee.register", {"full_name": "X", "region": "Атлантида",
                                  "returned_from": "RU", "returned_on": "2026-01-01"},
            -32602, field="region", reason="unknown_region")
