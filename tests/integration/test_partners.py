"""partner.create, partner.get and partner.list (docs/protocol.md; docs/ledger.md:
objects, lists)."""

import pytest

from fl.env import uniq
from fl.client import Client, api_of
from fl.ledger import PARTNER_KEYS, TIME_RE, missing_like, new_partner, pages


def params(**kw):
    p = {"name": "Partner " + uniq("p"), "country": "AM", "kind": "individual"}
    p.update(kw)
    return {k: v for k, v in p.items() if v is not None}


# --------------------------------------------------------------------------------------------
# partner.create / partner.get


def test_create_individual_with_email(api):
    pr = params(name="Anahit Sargsyan " + uniq("x"), country="FR", kind="individual",
                email="anahit@example.org")
    p = api.ok("partner.create", pr)
    assert set(p) >= PARTNER_KEYS, p
    assert (p["name"], p["country"], p["kind"], p["email"]) == \
        (pr["name"], "FR", "individual", "anahit@example.org")
    assert isinstance(p["partner_id"], str) and p["partner_id"]
    assert TIME_RE.match(p["created_at"]), p
    assert api.ok("partner.get", {"partner_id": p["partner_id"]}) == p


def test_create_organisation_without_email(api):
    pr = params(name="Armenian General Benevolent Union " + uniq("x"), country="US",
                kind="organisation")
    p = api.ok("partner.create", pr)
    assert p["kind"] == "organisation"
    assert p["email"] is None, "an unset email is null: %r" % p
    assert "email" in p
    assert api.ok("partner.get", {"partner_id": p["partner_id"]}) == p


def test_create_unicode_name(api):
    name = "Հայկական Բարեգործական Ընդհանուր Միություն " + uniq("u")
    p = new_partner(api, name=name, country="AM", kind="organisation")
    assert p["name"] == name
    assert api.ok("partner.get", {"partner_id": p["partner_id"]})["name"] == name


def test_same_name_twice_gives_two_partners(api):
    name = "Same " + uniq("n")
    a = new_partner(api, name=name)
    b = new_partner(api, name=name)
    assert a["partner_id"] != b["partner_id"]


def test_get_by_auditor(daemon, api, auditor):
    p = new_partner(api, email="x@example.com")
    assert api_of(daemon, auditor).ok("partner.get", {"partner_id": p["partner_id"]}) == p


def test_get_approver_forbidden(daemon, api, approver):
    p = new_partner(api)
    api_of(daemon, approver).err("partner.get", {"partner_id": p["partner_id"]}, -32003)


@pytest.mark.parametrize("country", ["XX", "am", "Am", "ARM", "A", "", "QZ", "ZZ", "EU", "UK",
                                     "A1", 51])
def test_bad_country(api, country):
    api.err("partner.create", params(country=country), -32602, field="country")


@pytest.mark.parametrize("kind", ["company", "", "Individual", "organization", "person", 1])
def test_bad_kind(api, kind):
    api.err("partner.create", params(kind=kind), -32602, field="kind")


@pytest.mark.parametrize("missing", ["name", "country", "kind"])
def test_missing_param(api, missing):
    p = params()
    del p[missing]
    api.err("partner.create", p, -32602, field=missing)


@pytest.mark.parametrize("bad,field", [
    ({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"name": 7}, "name"),
    ({"email": 5}, "email"), ({"email": "not an email"}, "email"), ({"email": ""}, "email"),
    ({"partner_id": "pa_x"}, "partner_id"), ({"colour": "red"}, "colour"),
])
def test_bad_params(api, bad, field):
    api.err("partner.create", dict(params(), **bad), -32602, field=field)


def test_create_needs_admin(daemon, auditor, approver):
    for who in (auditor, approver):
        Client.api(daemon, who["token"]).err("partner.create", params(), -32003)


def test_get_unknown(api):
    p = new_partner(api)
    for pid in (missing_like(p["partner_id"]), "no-such-partner", "pa_" + "f" * 20):
        api.err("partner.get", {"partner_id": pid}, -32004, reason="partner_not_found")


@pytest.mark.parametrize("bad,field", [({}, "partner_id"), ({"partner_id": 3}, "partner_id"),
                                       ({"partner_id": ""}, "partner_id"),
                                       ({"partner_id": "a b"}, "partner_id")])
def test_get_bad_params(api, bad, field):
    api.err("partner.get", bad, -32602, field=field)


def test_create_idempotent(api):
    pr = params(idempotency_key=uniq("pc"), email="idem@example.org")
    a = api.ok("partner.create", pr)
    b = api.ok("partner.create", dict(pr))
    assert a == b
    api.err("partner.create", dict(pr, name=pr["name"] + " 2"), -32009,
            reason="idempotency_mismatch")
    # Only one partner came out of it.
    all_p = pages(api, "partner.list", {}, "partners", 1000)[0]
    assert [x["partner_id"] for x in all_p if x["name"] == pr["name"]] == [a["partner_id"]]
    assert not [x for x in all_p if x["name"] == pr["name"] + " 2"]


# --------------------------------------------------------------------------------------------
# partner.list


def walk(api, limit, cursor=None):
    """Pages of partner.list from cursor to the end: [(items, cursor used, next_cursor)]."""
    out = []
    for _ in range(100000):
        p = {"limit": limit}
        if cursor is not None:
            p["cursor"] = cursor
        res = api.ok("partner.list", p)
        assert set(res) >= {"partners", "next_cursor"}
        assert len(res["partners"]) <= limit
        out.append((res["partners"], cursor, res["next_cursor"]))
        cursor = res["next_cursor"]
        if cursor is None:
            return out
        assert res["partners"], "empty page with a non-null next_cursor"
    raise AssertionError("partner.list never ended")


def test_list_pagination(api):
    # Reach the end quickly with big pages, remembering the cursor of the last page.
    big = walk(api, 1000)
    before = [p for page, _, _ in big for p in page]
    ids = [p["partner_id"] for p in before]
    assert len(ids) == len(set(ids)), "duplicates in partner.list"
    last_cursor = big[-1][1]

    mine = [new_partner(api, name="Page %d %s" % (i, uniq("x"))) for i in range(7)]

    # The tail from the last big page's cursor, two at a time, to the end.
    small = walk(api, 2, last_cursor)
    tail = [p for page, _, _ in small for p in page]
    tail_ids = [p["partner_id"] for p in tail]
    assert len(tail_ids) == len(set(tail_ids)), "duplicates across pages: %r" % tail_ids
    assert [len(page) for page, _, _ in small[:-1]] == [2] * (len(small) - 1)
    assert 1 <= len(small[-1][0]) <= 2, "the last page holds the last partners"
    assert small[-1][2] is None
    # Oldest first: the old tail, then the seven new partners in creation order.
    old_tail = [p["partner_id"] for p in big[-1][0]]
    assert tail_ids == old_tail + [m["partner_id"] for m in mine], tail_ids
    assert tail[-7:] == mine, "list items must equal the created objects"

    # The whole list again, with big pages, in the same order (stable).
    again = [p["partner_id"] for page, _, _ in walk(api, 1000) for p in page]
    assert again == ids + [m["partner_id"] for m in mine]


def test_list_exact_multiple_ends_with_null_cursor(api):
    big = walk(api, 1000)
    last_cursor = big[-1][1]
    n_tail = len(big[-1][0])
    # Make the tail from last_cursor an exact multiple of 3.
    for _ in range((3 - n_tail % 3) % 3 + 3):
        new_partner(api)
    small = walk(api, 3, last_cursor)
    total = sum(len(page) for page, _, _ in small)
    assert total % 3 == 0 and total >= 3
    assert [len(page) for page, _, _ in small] == [3] * (total // 3), \
        "next_cursor must be null on the page holding the last item (no empty last page)"


def test_list_limit_one_and_default(api):
    res = api.ok("partner.list", {"limit": 1})
    assert len(res["partners"]) == 1
    assert res["next_cursor"] is not None or len(walk(api, 1000)[0][0]) == 1
    res = api.ok("partner.list", {})
    assert len(res["partners"]) <= 100
    first = api.ok("partner.list", {"limit": 1000})["partners"]
    assert res["partners"] == first[:len(res["partners"])]
    if len(first) > 100:
        assert len(res["partners"]) == 100 and res["next_cursor"] is not None


@pytest.mark.parametrize("cursor", ["garbage", "zzzz", "c", "cx12", "c-1", "123", "=",
                                    "c99999999999999999999999", "", 5, "a b"])
def test_list_bad_cursor(api, cursor):
    api.err("partner.list", {"cursor": cursor}, -32602, field="cursor")


@pytest.mark.parametrize("limit", [0, -1, 1001, "10", 2.5, True])
def test_list_bad_limit(api, limit):
    api.err("partner.list", {"limit": limit}, -32602, field="limit")


def test_list_roles(daemon, auditor, approver):
    assert "partners" in Client.api(daemon, auditor["token"]).ok("partner.list", {"limit": 1})
    Client.api(daemon, approver["token"]).err("partner.list", {"limit": 1}, -32003)
