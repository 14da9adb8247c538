"""returnee.register, returnee.get and returnee.list (docs/protocol.md; the
conventions of docs/ledger.md for errors and pagination; the author's design where the
contract is silent: field limits, birth_year as a JSON integer, returned_on not in the future,
duplicate national ids refused even when two registrations race)."""

import datetime
import random

import pytest

from fl.env import uniq
from fl.client import Client, assert_error, create_principal, leaks, race
from fl.ledger import all_items, missing_like, new_partner, pages, parse_time, utcnow
from fl.grants import (REGIONS, RETURNEE_KEYS, check_returnee, days_ago, national_id, new_returnee,
                       returnee_params, today)


def ids(rs):
    return [r["returnee_id"] for r in rs]


def region_list(api, region):
    return all_items(api, "returnee.list", {"region": region}, "returnees")


# --------------------------------------------------------------------------------------------
# register / get


def test_register_all_fields(api):
    t0 = utcnow() - datetime.timedelta(seconds=5)
    params = returnee_params(full_name="Anahit Sargsyan " + uniq("x"), region="Shirak",
                             returned_from="RU", returned_on="2025-03-14", gender="female",
                             birth_year=1987, national_id=national_id())
    r = api.ok("returnee.register", params)
    check_returnee(r)
    assert {k: r[k] for k in ("full_name", "region", "region_code", "returned_from",
                              "returned_on", "gender", "birth_year", "national_id")} == {
        "full_name": params["full_name"], "region": "Shirak", "region_code": "AM-SH",
        "returned_from": "RU", "returned_on": "2025-03-14", "gender": "female",
        "birth_year": 1987, "national_id": params["national_id"]}
    assert parse_time(r["created_at"]) >= t0
    assert api.ok("returnee.get", {"returnee_id": r["returnee_id"]}) == r


def test_register_required_only(api):
    params = {"full_name": "Minimal " + uniq("m"), "region": "AM-TV", "returned_from": "FR",
              "returned_on": days_ago(3)}
    r = api.ok("returnee.register", params)
    check_returnee(r)
    assert (r["region"], r["region_code"], r["returned_from"], r["returned_on"]) == \
        ("Tavush", "AM-TV", "FR", params["returned_on"])
    assert (r["gender"], r["birth_year"], r["national_id"]) == (None, None, None), r
    assert api.ok("returnee.get", {"returnee_id": r["returnee_id"]}) == r


def test_two_without_national_id_are_two(api):
    p = {"full_name": "No Id " + uniq("n"), "region": "AM-LO", "returned_from": "DE",
         "returned_on": days_ago(10)}
    a = api.ok("returnee.register", dict(p))
    b = api.ok("returnee.register", dict(p))
    assert a["returnee_id"] != b["returnee_id"]


def test_unicode_name_round_trips(api):
    name = "Անահիտ Սարգսյան " + uniq("u")
    r = new_returnee(api, full_name=name)
    assert r["full_name"] == name
    assert api.ok("returnee.get", {"returnee_id": r["returnee_id"]})["full_name"] == name


@pytest.mark.parametrize("name,code", REGIONS)
def test_region_by_name_or_code(api, name, code):
    a = new_returnee(api, region=name)
    b = new_returnee(api, region=code)
    assert (a["region"], a["region_code"]) == (name, code)
    assert (b["region"], b["region_code"]) == (name, code)


@pytest.mark.parametrize("region", ["Atlantis", "AM-XX", "GE-TB", "Shirak Province"])
def test_unknown_region(api, region):
    api.err("returnee.register", returnee_params(region=region), -32602, field="region",
            reason="unknown_region")


@pytest.mark.parametrize("region", ["", 7, None])
def test_bad_region(api, region):
    p = returnee_params()
    p["region"] = region
    api.err("returnee.register", p, -32602, field="region")


@pytest.mark.parametrize("gender", ["female", "male", "other", "undisclosed"])
def test_gender(api, gender):
    assert new_returnee(api, gender=gender)["gender"] == gender


@pytest.mark.parametrize("gender", ["Female", "f", "", "unknown", 1, True])
def test_bad_gender(api, gender):
    api.err("returnee.register", returnee_params(gender=gender), -32602, field="gender")


def test_birth_year_bounds(api):
    year = today().year
    for y in (1900, 1985, year):
        r = new_returnee(api, birth_year=y)
        assert r["birth_year"] == y and type(r["birth_year"]) is int, r


@pytest.mark.parametrize("by", ["1985", 1899, "future", 1985.5, True, "", [1985], -1, 0])
def test_bad_birth_year(api, by):
    api.err("returnee.register", returnee_params(birth_year=by), -32602, field="birth_year")


def test_birth_year_next_year(api):
    api.err("returnee.register", returnee_params(birth_year=today().year + 1), -32602,
            field="birth_year")


@pytest.mark.parametrize("country", ["RU", "FR", "US", "DE", "PL", "GE"])
def test_returned_from(api, country):
    assert new_returnee(api, returned_from=country)["returned_from"] == country


@pytest.mark.parametrize("country", ["XX", "ru", "RUS", "R", "", "UK", "EU", "ZZ", 7])
def test_bad_returned_from(api, country):
    api.err("returnee.register", returnee_params(returned_from=country), -32602,
            field="returned_from")


@pytest.mark.parametrize("when", ["2000-02-29", "1999-12-31", "2025-01-01"])
def test_returned_on_past(api, when):
    assert new_returnee(api, returned_on=when)["returned_on"] == when


def test_returned_on_today(api):
    d = today().isoformat()
    assert new_returnee(api, returned_on=d)["returned_on"] == d


@pytest.mark.parametrize("when", ["2025-13-01", "2025-02-30", "2023-02-29", "01/02/2025",
                                  "2025-1-5", "", 20250101, "2025-01-01T00:00:00Z",
                                  "yesterday"])
def test_bad_returned_on(api, when):
    api.err("returnee.register", returnee_params(returned_on=when), -32602,
            field="returned_on")


@pytest.mark.parametrize("ahead", [2, 40, 800])
def test_returned_on_in_the_future(api, ahead):
    when = (today() + datetime.timedelta(days=ahead)).isoformat()
    api.err("returnee.register", returnee_params(returned_on=when), -32602,
            field="returned_on", reason="in_the_future")


@pytest.mark.parametrize("field,value", [
    ("full_name", ""), ("full_name", "x" * 201), ("full_name", 5), ("full_name", None),
    ("national_id", "x" * 65), ("national_id", ""), ("national_id", 12345678),
])
def test_bad_text(api, field, value):
    p = returnee_params()
    p[field] = value
    api.err("returnee.register", p, -32602, field=field)


def test_text_at_limits(api):
    name = ("Name " + uniq("x") + " ").ljust(200, "y")
    nid = (national_id() + "-").ljust(64, "0")
    assert len(name) == 200 and len(nid) == 64
    r = new_returnee(api, full_name=name, national_id=nid)
    assert (r["full_name"], r["national_id"]) == (name, nid)


@pytest.mark.parametrize("missing", ["full_name", "region", "returned_from", "returned_on"])
def test_missing_param(api, missing):
    p = returnee_params()
    del p[missing]
    api.err("returnee.register", p, -32602, field=missing)


def test_unknown_param(api):
    api.err("returnee.register", returnee_params(colour="red"), -32602, field="colour")


def test_refused_register_writes_nothing(api):
    region = random.choice(REGIONS)[1]
    p = returnee_params(region=region, birth_year=1800)
    api.err("returnee.register", p, -32602, field="birth_year")
    assert p["national_id"] not in [r["national_id"] for r in region_list(api, region)]


def test_get_unknown(api):
    r = new_returnee(api)
    api.err("returnee.get", {"returnee_id": missing_like(r["returnee_id"])}, -32004)
    api.err("returnee.get", {"returnee_id": "no-such-returnee"}, -32004)


@pytest.mark.parametrize("params,field", [
    ({}, "returnee_id"), ({"returnee_id": 5}, "returnee_id"), ({"returnee_id": None},
                                                                "returnee_id"),
])
def test_get_bad_params(api, params, field):
    api.err("returnee.get", params, -32602, field=field)


def test_get_extra_param(api):
    r = new_returnee(api)
    api.err("returnee.get", {"returnee_id": r["returnee_id"], "colour": "red"}, -32602,
            field="colour")


# --------------------------------------------------------------------------------------------
# duplicates


def test_duplicate_national_id(api):
    first = new_returnee(api, region="AM-GR")
    nid = first["national_id"]
    # Same id, everything else different: still the same person.
    p = returnee_params(region="AM-SU", full_name="Other " + uniq("o"), national_id=nid,
                        returned_from="FR", birth_year=1970)
    doc = api.reply("returnee.register", p)
    err = assert_error(doc, -32009, reason="duplicate_returnee")
    assert err["data"].get("returnee_id") == first["returnee_id"], err
    assert p["full_name"] not in [r["full_name"] for r in region_list(api, "AM-SU")]
    # The first one is untouched.
    assert api.ok("returnee.get", {"returnee_id": first["returnee_id"]}) == first


def test_concurrent_duplicate_national_id(daemon, admin, api):
    """Two registrations with one national_id, raced from two connections, several rounds:
    exactly one returnee per id; the loser names the winner."""
    region = random.choice(REGIONS)[1]
    nids = []
    for _ in range(5):
        nid = national_id()
        nids.append(nid)
        calls = [(admin, "returnee.register",
                  returnee_params(region=region, national_id=nid,
                                  full_name="Racer %d %s" % (i, uniq("r"))))
                 for i in range(2)]
        docs = race(daemon, calls)
        ok = [d for d in docs if "result" in d]
        bad = [d for d in docs if "error" in d]
        assert len(ok) == 1 and len(bad) == 1, "national_id %s: %r" % (nid, docs)
        err = assert_error(bad[0], -32009, reason="duplicate_returnee")
        assert err["data"].get("returnee_id") == ok[0]["result"]["returnee_id"], (err, ok)
    listed = region_list(api, region)
    for nid in nids:
        assert sum(1 for r in listed if r["national_id"] == nid) == 1, nid


def test_idempotent_register(api):
    p = returnee_params(idempotency_key=uniq("rk"))
    a = api.ok("returnee.register", p)
    b = api.ok("returnee.register", dict(p))          # a replay, not duplicate_returnee
    assert a == b
    api.err("returnee.register", dict(p, full_name="Changed " + uniq("c")), -32009,
            reason="idempotency_mismatch")
    listed = region_list(api, p["region"])
    assert sum(1 for r in listed if r["national_id"] == p["national_id"]) == 1


def test_concurrent_idempotent_register(daemon, admin, api):
    p = returnee_params(idempotency_key=uniq("rk"), region="AM-AV")
    docs = race(daemon, [(admin, "returnee.register", dict(p)) for _ in range(4)])
    for d in docs:
        assert "result" in d, "a concurrent identical retry failed: %r" % (d,)
    assert all(d["result"] == docs[0]["result"] for d in docs), docs
    listed = region_list(api, "AM-AV")
    assert sum(1 for r in listed if r["national_id"] == p["national_id"]) == 1


# --------------------------------------------------------------------------------------------
# list


def test_list_region_filter_and_pagination(api):
    name, code = random.choice(REGIONS)
    mine = [new_returnee(api, region=code if i % 2 else name) for i in range(5)]
    other = new_returnee(api, region="AM-ER" if code != "AM-ER" else "AM-AG")
    by_code = region_list(api, code)
    by_name = region_list(api, name)
    assert ids(by_code) == ids(by_name)
    assert all(r["region_code"] == code and r["region"] == name for r in by_code)
    assert other["returnee_id"] not in ids(by_code)
    # Oldest first: mine are the newest of the region, in creation order.
    assert ids(by_code)[-5:] == ids(mine), (ids(by_code)[-7:], ids(mine))
    assert by_code[-5:] == mine
    # Small pages give the same sequence, and only the last page has next_cursor null.
    total = len(by_code)
    limit = max(2, -(-total // 6))
    items, sizes = pages(api, "returnee.list", {"region": code}, "returnees", limit)
    assert ids(items) == ids(by_code)
    assert all(s == limit for s in sizes[:-1]), sizes
    one, _ = pages(api, "returnee.list", {"region": code}, "returnees", max(2, total - 1))
    assert ids(one) == ids(by_code)


def test_list_last_page_cursor_null(api):
    r = new_returnee(api, region="AM-VD")
    res = api.ok("returnee.list", {"region": "AM-VD", "limit": 1000})
    if res["next_cursor"] is None:
        assert res["returnees"][-1]["returnee_id"] == r["returnee_id"]


def test_list_unfiltered(api):
    new_returnee(api)
    new_returnee(api)
    p1 = api.ok("returnee.list", {"limit": 2})
    assert set(p1) >= {"returnees", "next_cursor"}
    assert len(p1["returnees"]) == 2
    for r in p1["returnees"]:
        check_returnee(r)
    assert isinstance(p1["next_cursor"], str) and p1["next_cursor"]
    p2 = api.ok("returnee.list", {"limit": 2, "cursor": p1["next_cursor"]})
    assert p2["returnees"] and not set(ids(p1["returnees"])) & set(ids(p2["returnees"]))
    # Stable order: the same first page again.
    assert api.ok("returnee.list", {"limit": 2}) == p1


def test_list_items_equal_get(api):
    r = new_returnee(api, region="AM-KT")
    listed = region_list(api, "AM-KT")
    assert [x for x in listed if x["returnee_id"] == r["returnee_id"]] == [r]
    assert set(listed[-1]) >= RETURNEE_KEYS


@pytest.mark.parametrize("params,field", [
    ({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": "5"}, "limit"),
    ({"cursor": "garbage"}, "cursor"), ({"cursor": ""}, "cursor"), ({"cursor": 3}, "cursor"),
    ({"region": "Atlantis"}, "region"), ({"region": ""}, "region"), ({"region": 4}, "region"),
    ({"colour": "red"}, "colour"),
])
def test_list_bad_params(api, params, field):
    api.err("returnee.list", params, -32602, field=field)


def test_list_bad_cursor_reason(api):
    api.err("returnee.list", {"cursor": "garbage"}, -32602, field="cursor", reason="bad_cursor")


# --------------------------------------------------------------------------------------------
# roles


def test_register_needs_admin(daemon, api, aud, appr, principal):
    p = returnee_params()
    aud.err("returnee.register", dict(p), -32003)
    appr.err("returnee.register", dict(p), -32003)
    both = principal("approver", "auditor")
    Client.api(daemon, both["token"]).err("returnee.register", dict(p), -32003)
    # Nothing was written: the admin can still register it without a duplicate.
    r = api.ok("returnee.register", p)
    assert r["national_id"] == p["national_id"]


def test_get_and_list_for_admin_approver_auditor(daemon, api, aud, appr, principal):
    r = new_returnee(api, region="AM-AR")
    plain_admin = Client.api(daemon, principal("admin")["token"])
    for who in (api, aud, appr, plain_admin):
        assert who.ok("returnee.get", {"returnee_id": r["returnee_id"]}) == r
        page = who.ok("returnee.list", {"region": "AM-AR", "limit": 1})
        assert len(page["returnees"]) == 1
    plain_admin.close()


def test_partner_forbidden_everywhere(daemon, admin, api):
    """A partner principal gets -32003 for every returnee.* method, and no error body holds a
    returnee's personal data."""
    partner = new_partner(api)
    pr = create_principal(daemon, admin, ["partner"], partner_id=partner["partner_id"])
    papi = Client.api(daemon, pr["token"], record=True)
    r = new_returnee(api, full_name="Secret Person " + uniq("s"))
    calls = [
        ("returnee.register", returnee_params()),
        ("returnee.get", {"returnee_id": r["returnee_id"]}),
        ("returnee.get", {"returnee_id": missing_like(r["returnee_id"])}),
        ("returnee.list", {}),
        ("returnee.list", {"region": r["region_code"]}),
        ("returnee.list", {"limit": 5}),
    ]
    for m, p in calls:
        papi.err(m, p, -32003)
    for body in papi.bodies:
        assert not leaks(body, [r["full_name"], r["national_id"]]), body[:500]
    papi.close()
    # The refused register wrote nothing.
    assert calls[0][1]["national_id"] not in \
        [x["national_id"] for x in region_list(api, calls[0][1]["region"])]


def test_national_id_compared_as_read(api):
    """One person, however the national id is typed: trailing space, lower case, fullwidth
    letters, a zero-width space, a soft hyphen, a right-to-left override; the id as typed is
    kept for display."""
    base = "AM" + uniq("n").upper().replace("-", "").replace("_", "")[-7:]
    first = new_returnee(api, national_id=base)
    assert first["national_id"] == base
    fullwidth = "".join(chr(ord(c) + 0xfee0) if "!" <= c <= "~" else c for c in base)
    for variant in (base + " ", " " + base, base.lower(), fullwidth, base[:2] + "\u200b" +
                    base[2:], base[:3] + "\u00ad" + base[3:], "\u2060" + base + "\ufeff",
                    "\u202e" + base, "\u3000" + base.lower() + "\u00a0"):
        doc = api.reply("returnee.register", returnee_params(national_id=variant))
        err = assert_error(doc, -32009, reason="duplicate_returnee", field="national_id")
        assert err["data"].get("returnee_id") == first["returnee_id"], (variant, err)
    # a different id is a different person
    other = new_returnee(api, national_id=base + "1")
    assert other["returnee_id"] != first["returnee_id"]
    assert other["national_id"] == base + "1"


@pytest.mark.parametrize("nid", [" ", "\u200b", "\u00a0\u200b\u3000", "\ufeff\u00ad"])
def test_blank_national_id_refused(api, nid):
    doc = api.reply("returnee.register", returnee_params(national_id=nid))
    assert_error(doc, -32602, field="national_id", reason="blank")


@pytest.mark.parametrize("field,name,reason", [
    ("full_name", "   ", "blank"),
    ("full_name", "\u200b\u00a0", "blank"),
    ("full_name", "Anna\u202eavoN", "bidi_control"),
    ("full_name", "\u2067Anna\u2069", "bidi_control"),
])
def test_names_blank_or_with_bidi_controls_refused(api, field, name, reason):
    doc = api.reply("returnee.register", returnee_params(**{field: name}))
    assert_error(doc, -32602, field=field, reason=reason)
    for method, params in (("partner.create", {"name": name, "country": "AM",
                                               "kind": "individual"}),
                           ("fund.create", {"code": uniq("BN").upper(), "name": name,
                                            "currency": "EUR", "kind": "pass_through",
                                            "dual_approval_above": "1"}),
                           ("principal.create", {"name": name, "roles": ["auditor"]})):
        assert_error(api.reply(method, params), -32602, field="name", reason=reason)
