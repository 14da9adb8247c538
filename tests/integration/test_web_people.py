"""The people pages of the web console (clients/web/js/views/people*.js) in a real browser:
the beneficiaries (#/returnees, #/returnee?id=), the principals (#/principals) and the payments
waiting for a checker (#/payments). Each action is done through the page and its effect
checked through the API; every page is opened in each language with no untranslated key, no
console error and no Content-Security-Policy violation.

A beneficiary is found by the whole full name or national id only (returnee.find matches a
keyed hash of each, docs/privacy.md): the tests search by parts of a name, which find nobody
and the page says why, and by the whole name in capitals without its accents. A beneficiary
erased through the API (returnee.erase, returnee.erase_confirm) shows "Personal data erased".

Two administrators: A, the suite's bootstrap admin, and B, made with create_principal (created
by A, confirmed by the environment's second admin). The suite's database is shared: every
check is narrowed to the records this module made."""

import re
import time

import pytest
from selenium.webdriver.support.ui import Select

from fl.browser import fill, no_code_alone, rpc_sent, set_value, text, until
from fl.client import RpcError, api_of, call, create_principal
from fl.env import remember_token, uniq
from fl.grants import apply, approve, create, funded_fund, new_returnee
from fl.ledger import all_items

LANGS = ("en", "hy", "ru")


@pytest.fixture(scope="module")
def world(daemon, admin, api):
    """A funded fund, an approved grant of 300.00 for a fresh beneficiary, and a payment
    of 120.00 of it prepared by admin A; a second admin B."""
    admin_b = create_principal(daemon, admin, ["admin"], name=uniq("Second admin"))
    approver = create_principal(daemon, admin, ["approver"], name=uniq("Approver"))
    f = funded_fund(api, received="1000.00")
    r = new_returnee(api, region="AM-SH")
    with api_of(daemon, approver) as appr:
        g = approve(appr, apply(api, f, "300.00", returnee=r))
    d = create(api, g, "120.00", reference=uniq("REF"))
    me = api.ok("system.whoami")
    return {"fund": f, "returnee": r, "grant": g, "payment": d, "admin_b": admin_b,
            "a_name": me["name"], "a_id": me["principal_id"]}


@pytest.fixture(scope="module")
def a(browsers, admin):
    b = browsers("people-admin-a")
    b.sign_in(admin)
    return b


@pytest.fixture(scope="module")
def b2(browsers, world):
    b = browsers("people-admin-b")
    b.sign_in(world["admin_b"]["token"])
    return b


def only_fund_rows(b, fund):
    """The payments shown are those of `fund` only (the filter has been applied)."""
    cells = b.js("return [...document.querySelectorAll("
                 "'[data-test=\"payment-row\"] [data-col=\"fund\"]')].map(c => c.textContent);")
    return bool(cells) and all(c == fund for c in cells)


def status(b):
    return b.find("#status").text


def find_by(b, name="", nid=""):
    """Sends the beneficiary search (#/returnees) with these terms, and waits for its answer,
    which the page says in #status."""
    fill(b, "#find-name", name)
    fill(b, "#find-national-id", nid)
    b.js("document.getElementById('status').textContent = '';")
    b.find('[data-test="find-submit"]').click()
    until(b, lambda: status(b).strip() != "")


def wait_refused(daemon, token):
    """The daemon refuses a revoked token (its credentials cache forgets it within
    milliseconds): returns the error."""
    deadline = time.monotonic() + 10
    while True:
        try:
            call(daemon, token, "system.whoami")
        except RpcError as e:
            return e
        assert time.monotonic() < deadline, "the revoked token still works"
        time.sleep(0.05)


# ------------------------------------------------------------------------------ every page


def test_every_people_page_in_each_language(a, b2, world):
    rid = world["returnee"]["returnee_id"]
    pages = [
        (a, "#/returnees", '[data-test="returnees-table"]', "returnees"),
        (a, "#/returnee?id=" + rid, '[data-test="returnee-details"]', "returnee"),
        (a, "#/principals", '[data-test="principals-table"]', "principals"),
        (b2, "#/payments", '[data-test="payment-row"]', "payments"),
    ]
    for b, route, ready, name in pages:
        for lang in LANGS:
            b.go(route, ready, lang=lang)
            b.wait(ready)
            assert b.find("html").get_attribute("lang") == lang
            b.shot("%s-%s" % (name, lang))
            assert b.visible_keys() == [], (route, lang, b.visible_keys())
            assert b.problems() == [], (route, lang, b.problems())
            assert b.axe() == [], (route, lang)
        # the navigation names the list page (and marks it for a record's page)
        nav = b.find("#nav-" + ("returnees" if name == "returnee" else name))
        if name in ("returnee", "returnees"):
            assert nav.get_attribute("aria-current") == "page"
    b2.go("#/payments", '[data-test="payment-row"]', lang="en")
    a.go("#/returnees", '[data-test="returnees-table"]', lang="en")
    # the returnee's record: its grant, and nothing personal in the URL but the id
    a.go("#/returnee?id=" + rid, '[data-test="returnee-details"]')
    row = a.wait('[data-test="grant-row"][data-grant-id="%s"]' % world["grant"]["grant_id"])
    assert text(row.find_element("css selector", '[data-col="amount"]')) == "€300.00"
    assert row.find_element("css selector", '[data-col="status"]').text == "Approved"
    assert world["returnee"]["full_name"] in a.find("#page-title").text
    assert world["returnee"]["national_id"] in a.find('[data-test="returnee-details"]').text
    assert a.driver.current_url.endswith("#/returnee?id=" + rid)


# ------------------------------------------------------------------------------ beneficiaries


def test_register_find_correct_and_the_duplicate_refusal(a, api):
    b = a
    # a name with accents, as people write it; found by the whole name only
    name = "Anahít Hakobyán " + uniq("Test").replace("-", " ")
    nid = "AM" + uniq("N").upper().replace("-", "")
    contact = "+374 91 123456, Gyumri, Shirak street 5"
    b.go("#/returnees", '[data-test="register-form"]', lang="en")
    fill(b, "#p-full_name", name)
    Select(b.find("#p-region")).select_by_value("AM-SH")
    fill(b, "#p-returned_from", "ru")
    set_value(b, "#p-returned_on", "2025-11-03")
    Select(b.find("#p-kind")).select_by_value("displaced")
    Select(b.find("#p-gender")).select_by_value("female")
    fill(b, "#p-birth_year", "1990")
    fill(b, "#p-national_id", nid)
    fill(b, "#p-contact", contact)
    # the notes are a textarea; the daemon takes text on one line, so a line break becomes a space
    assert b.find("#p-notes").tag_name == "textarea"
    fill(b, "#p-notes", "Came back with two children.\nNeeds a greenhouse.")
    b.find('[data-test="register-form-submit"]').click()
    link = b.wait('[data-test="registered-link"]')
    rid = link.get_attribute("data-returnee-id")
    assert name in status(b)
    r = api.ok("returnee.get", {"returnee_id": rid})
    assert (r["full_name"], r["region_code"], r["returned_from"], r["returned_on"], r["kind"],
            r["gender"], r["birth_year"], r["national_id"], r["contact"], r["notes"],
            r["erased_at"]) == (
        name, "AM-SH", "RU", "2025-11-03", "displaced", "female", 1990, nid, contact,
        "Came back with two children. Needs a greenhouse.", None), r
    # the form is empty again, for the next person
    assert b.find("#p-full_name").get_attribute("value") == ""
    assert b.find("#p-notes").get_attribute("value") == ""

    # the search says it needs whole values, and offers no type-ahead
    assert "whole" in b.find('[data-test="find-help"]').text
    assert b.find("#find-name").get_attribute("aria-describedby") == "find-help"
    assert b.find("#find-name").get_attribute("autocomplete") == "off"
    assert not b.find_all("datalist")
    # a part of the name (its first word, its first two words, the start of a word) finds
    # nobody, and the page says why
    for part in (name.split()[0], " ".join(name.split()[:2]), name[:4]):
        find_by(b, name=part)
        empty = b.wait('[data-test="found-table-empty"]')
        assert "whole full name" in empty.text, empty.text
        assert "whole full name" in status(b)
        assert not b.find_all('[data-test="found-row"]')
        assert api.ok("returnee.find", {"name": part})["returnees"] == []
    b.shot("find-part-of-a-name-en")
    # the whole name, in capitals, without its accents and with extra spaces, finds the person
    find_by(b, name="  " + "   ".join(name.upper().replace("Í", "I").replace("Á", "A").split()))
    found = b.wait('[data-test="found-row"][data-returnee-id="%s"]' % rid)
    assert len(b.find_all('[data-test="found-row"]')) == 1
    assert found.find_element("css selector", '[data-col="full_name"]').text == name
    assert found.find_element("css selector", '[data-col="kind"]').text == "Displaced person"
    assert status(b) == "Found: 1."
    # by the national id (in another case: the daemon compares ids as read)
    find_by(b, nid=nid.lower())
    b.wait('[data-test="found-row"][data-returnee-id="%s"]' % rid)
    assert len(b.find_all('[data-test="found-row"]')) == 1
    # cleared, the search shows nothing
    b.find('[data-test="find-clear"]').click()
    b.wait_gone('[data-test="found-table"]')
    assert b.find("#find-national-id").get_attribute("value") == ""
    # the search terms are in no URL and no storage
    url = b.driver.current_url
    assert nid.lower() not in url and "ANAHIT" not in url and "Anah" not in url
    stored = b.js("return JSON.stringify(sessionStorage) + JSON.stringify(localStorage);")
    assert nid.lower() not in stored and nid not in stored and name not in stored
    assert "ANAHIT" not in stored and contact not in stored

    # the same national id again: refused in words, pointing at the record
    fill(b, "#p-full_name", "Someone Else")
    Select(b.find("#p-region")).select_by_value("AM-ER")
    fill(b, "#p-returned_from", "FR")
    set_value(b, "#p-returned_on", "2025-10-01")
    fill(b, "#p-national_id", nid)
    b.find('[data-test="register-form-submit"]').click()
    dup = b.wait('[data-test="duplicate-link"]')
    assert dup.get_attribute("data-returnee-id") == rid
    b.wait_text('[data-test="duplicate-link"]', name)
    assert b.find("#p-national_id").get_attribute("aria-invalid") == "true"
    msg = b.find("#p-national_id-error").text
    assert msg == "A returnee with this national ID is registered already.", msg
    no_code_alone(status(b))
    assert b.problems() == []
    b.shot("register-duplicate-en")
    # nobody was registered twice
    assert [x["returnee_id"] for x in api.ok("returnee.find", {"national_id": nid})["returnees"]] == [rid]

    # the record: its contact details and notes, then correct the name, the year of birth
    # and the contact details
    dup.click()
    b.wait('[data-test="correct-form"]')
    b.wait_text("#page-title", name)
    det = lambda c: b.find('[data-test="returnee-details"] [data-col="%s"]' % c).text
    assert det("contact") == contact
    assert det("notes") == "Came back with two children. Needs a greenhouse."
    assert not b.find_all('[data-test="erased-notice"]')
    assert not b.find_all('[data-test="returnee-details"] [data-col="erased_at"]')
    # the correction form holds them as they are
    assert b.find("#p-contact").get_attribute("value") == contact
    assert b.find("#p-notes").get_attribute("value") == "Came back with two children. Needs a greenhouse."
    new_name = name + " Petrosyan"
    new_contact = "anahit@example.org"
    fill(b, "#p-full_name", new_name)
    fill(b, "#p-birth_year", "1991")
    fill(b, "#p-contact", new_contact)
    b.find('[data-test="correct-form-submit"]').click()
    b.wait('[data-test="history-row"][data-field="full_name"]')
    b.wait_text("#page-title", new_name)
    assert "Full name" in status(b) and "Year of birth" in status(b)
    assert "Contact details" in status(b) and "notes" not in status(b)
    hist = api.ok("returnee.history", {"returnee_id": rid})["history"]
    assert len(hist) == 1, hist
    assert sorted(hist[0]["fields"]) == ["birth_year", "contact", "full_name"]
    assert hist[0]["old"]["full_name"] == name and hist[0]["new"]["full_name"] == new_name
    assert hist[0]["new"]["birth_year"] == 1991
    assert (hist[0]["old"]["contact"], hist[0]["new"]["contact"]) == (contact, new_contact)
    assert api.ok("returnee.get", {"returnee_id": rid})["contact"] == new_contact
    b.wait_text('[data-test="returnee-details"] [data-col="contact"]', new_contact)
    row = b.find('[data-test="history-row"][data-field="contact"]')
    assert row.find_element("css selector", '[data-col="field"]').text == "Contact details"
    assert row.find_element("css selector", '[data-col="new"]').text == new_contact
    row = b.find('[data-test="history-row"][data-field="full_name"]')
    assert row.find_element("css selector", '[data-col="old"]').text == name
    assert row.find_element("css selector", '[data-col="new"]').text == new_name
    row = b.find('[data-test="history-row"][data-field="birth_year"]')
    assert row.find_element("css selector", '[data-col="old"]').text == "1990"
    assert api.ok("returnee.get", {"returnee_id": rid})["birth_year"] == 1991
    # a date in the future is refused, and the field marked
    set_value(b, "#p-returned_on", "2999-01-01")
    b.find('[data-test="correct-form-submit"]').click()
    b.wait('#p-returned_on[aria-invalid="true"]')
    assert b.find("#p-returned_on-error").text == "This date cannot be in the future."
    assert len(api.ok("returnee.history", {"returnee_id": rid})["history"]) == 1
    b.shot("returnee-corrected-en")
    assert b.problems() == []


def test_the_search_with_nothing_typed_a_name_too_long_and_both_terms(a, api, world):
    """Nothing typed is said at the form and nothing is sent; a name longer than fundd takes
    is refused at the name field, as the API refuses it; the whole name with a national id
    finds the person only when the id is theirs too (one search with both)."""
    r = world["returnee"]
    rid, name, nid = r["returnee_id"], r["full_name"], r["national_id"]
    a.go("#/returnees?s=" + uniq("s"), '[data-test="find-form"]', lang="en")
    sent = rpc_sent(a)
    find_by(a)
    msg = a.wait('[data-test="find-error"]').text
    assert msg == "Type a full name or a national ID number to search.", msg
    assert status(a) == msg
    assert sent() == []
    assert not a.find_all('[data-test="found-table"]')
    a.shot("find-nothing-typed-en")

    too_long = "Anahit " + "A" * 200
    api.err("returnee.find", {"name": too_long}, -32602, field="name", reason="too_long")
    find_by(a, name=too_long)
    a.wait('#find-name[aria-invalid="true"]')
    assert a.find("#find-name-error").text == "This value is too long."
    assert status(a) == "This value is too long."
    assert not a.find_all('[data-test="find-error"]')

    find_by(a, name=name, nid=nid)
    a.wait('[data-test="found-row"][data-returnee-id="%s"]' % rid)
    assert len(a.find_all('[data-test="found-row"]')) == 1
    assert sent()[-1] == [("returnee.find", {"name": name, "national_id": nid})]
    # the name is theirs, the id nobody's: nobody, as through the API
    other = nid + "X"
    find_by(a, name=name, nid=other)
    empty = a.wait('[data-test="found-table-empty"]')
    assert "whole full name" in empty.text, empty.text
    assert not a.find_all('[data-test="found-row"]')
    assert api.ok("returnee.find", {"name": name, "national_id": other})["returnees"] == []
    assert a.problems() == []


def test_an_erased_beneficiary_shows_no_personal_data(a, api, daemon, world):
    """An erasure (asked for by A, confirmed by B, through the API: the console has no page
    for it) leaves the record and its grants: their pages say "Personal data erased" where
    the personal data was, and offer no correction."""
    f = world["fund"]
    r = new_returnee(api, region="AM-SH", contact="+374 10 " + uniq("c"), notes=uniq("Note"))
    g = apply(api, f, "100.00", returnee=r)
    # a submitted or approved grant keeps the person's data (grant_open): this one is withdrawn
    api.ok("grant.withdraw", {"grant_id": g["grant_id"], "reason": "The person moved away"})
    e = api.ok("returnee.erase", {"returnee_id": r["returnee_id"], "reason": "The person asked"})
    with api_of(daemon, world["admin_b"]) as b_api:
        b_api.ok("returnee.erase_confirm", {"erasure_id": e["erasure_id"]})
    rid, gid = r["returnee_id"], g["grant_id"]
    got = api.ok("returnee.get", {"returnee_id": rid})
    assert got["erased_at"] and got["full_name"] is None and got["notes"] is None, got
    secrets_ = (r["full_name"], r["national_id"], r["contact"], r["notes"])

    # the record's page: no name, no correction form, its grant still there
    a.go("#/returnee?id=" + rid, '[data-test="erased-notice"]', lang="en")
    a.wait_text("#page-title", "personal data erased")
    assert rid in a.find("#page-title").text
    det = lambda c: a.find('[data-test="returnee-details"] [data-col="%s"]' % c).text
    for c in ("full_name", "national_id", "gender", "birth_year", "contact", "notes"):
        assert det(c) == "Personal data erased", (c, det(c))
    assert det("erased_at").endswith("UTC"), det("erased_at")
    assert det("returned_from") and det("returned_on")
    a.wait('[data-test="grant-row"][data-grant-id="%s"]' % gid)
    assert not a.find_all('[data-test="correct-form"]')
    page = a.js("return document.body.innerText;")
    assert not [x for x in secrets_ if x in page]
    a.shot("returnee-erased-en")

    # the application's page and the list of applications
    a.go("#/grant?id=" + gid, '[data-test="grant-details"]')
    ben = a.find('[data-test="grant-details"] [data-col="beneficiary"]').text
    assert "Personal data erased" in ben and rid in ben, ben
    a.go("#/grants", '[data-test="grants-filters"]')
    Select(a.find("#filter-fund")).select_by_value(f["code"])
    Select(a.find("#filter-status")).select_by_value("withdrawn")
    a.find('[data-test="apply-filters"]').click()
    row = '[data-test="grant-row"][data-grant-id="%s"]' % gid
    a.wait(row)
    assert a.find(row + ' [data-col="beneficiary"]').text == "Personal data erased"

    # nobody finds the person any more, by name or by national id
    a.go("#/returnees", '[data-test="find-form"]')
    find_by(a, name=r["full_name"])
    a.wait('[data-test="found-table-empty"]')
    find_by(a, nid=r["national_id"])
    a.wait('[data-test="found-table-empty"]')

    # in each language
    for lang in LANGS:
        a.go("#/returnee?id=" + rid, '[data-test="erased-notice"]', lang=lang)
        a.wait('[data-test="grant-row"][data-grant-id="%s"]' % gid)
        assert a.visible_keys() == [], (lang, a.visible_keys())
        assert a.problems() == [], (lang, a.problems())
        assert a.axe() == [], lang
    a.go("#/returnees", '[data-test="find-form"]', lang="en")


# ------------------------------------------------------------------------------ principals


def test_create_confirm_and_revoke_principals(a, b2, daemon, api, world):
    # A makes an approver: it waits for a second administrator
    name = uniq("Committee")
    a.go("#/principals", '[data-test="create-principal"]', lang="en")
    fill(a, "#pc-name", name)
    a.find("#pc-role-approver").click()
    a.find('[data-test="create-principal-submit"]').click()
    a.wait_text("#status", name)
    assert "second administrator" in status(a)
    assert not a.find_all('[data-test="new-token"]')
    pending = [p for p in all_items(api, "principal.list", {"state": "pending", "role": "approver"},
                                    "principals") if p["name"] == name]
    assert len(pending) == 1, pending
    pid = pending[0]["principal_id"]
    row = a.wait('[data-test="pending-row"][data-principal-id="%s"]' % pid)
    # A created it: no Confirm for A, said in words
    assert not row.find_elements("css selector", '[data-test="confirm-principal"]')
    assert "another administrator" in row.find_element("css selector", '[data-test="own-pending"]').text

    # B confirms it and reads the token, once
    b2.go("#/principals", '[data-test="pending-row"][data-principal-id="%s"]' % pid, lang="en")
    b2.find('[data-test="pending-row"][data-principal-id="%s"] [data-test="confirm-principal"]' % pid).click()
    b2.wait('[data-test="confirm-principal-form"]')
    b2.find('[data-test="confirm-principal-form-submit"]').click()
    token = remember_token(b2.wait('[data-test="new-token"]').text.strip())
    assert token.startswith("fl_"), token
    assert "will not be shown again" in b2.find('[data-test="token-panel"]').text
    who = call(daemon, token, "system.whoami")
    assert who["principal_id"] == pid and who["roles"] == ["approver"]
    b2.find('[data-test="copy-token"]').click()
    b2.wait_text("#status", "token")
    b2.shot("principal-token-en")
    b2.find('[data-test="hide-token"]').click()
    b2.wait_gone('[data-test="token-panel"]')
    assert token not in b2.js("return document.body.innerText;")
    stored = b2.js("return JSON.stringify(sessionStorage) + JSON.stringify(localStorage);")
    assert token not in stored
    assert not b2.find_all('[data-test="pending-row"][data-principal-id="%s"]' % pid)

    # B revokes it, found by name in the list
    fill(b2, "#filter-name", name)
    b2.find('[data-test="principals-filters"] [data-test="apply-filters"]').click()
    row = '[data-test="principal-row"][data-principal-id="%s"]' % pid
    b2.wait(row + '[data-state="active"]')
    assert len(b2.find_all('[data-test="principal-row"]')) == 1
    b2.find(row + ' [data-test="revoke-principal"]').click()
    form = b2.wait('[data-test="revoke-principal-form"]')
    assert "cannot be undone" in form.text
    b2.find('[data-test="revoke-principal-form-submit"]').click()
    b2.js("arguments[0].scrollIntoView();", b2.wait(row + '[data-state="revoked"]'))
    b2.shot("principal-revoked-en")
    assert "revoked" in status(b2)
    assert wait_refused(daemon, token).code == -32001

    # an auditor is one step: its token shows at once, and works
    aud_name = uniq("Audit office")
    fill(a, "#pc-name", aud_name)
    a.find("#pc-role-auditor").click()
    a.find('[data-test="create-principal-submit"]').click()
    tok = remember_token(a.wait('[data-test="new-token"]').text.strip())
    assert call(daemon, tok, "system.whoami")["roles"] == ["auditor"]
    # leaving the page forgets it
    a.go("#/returnees", '[data-test="find-form"]')
    a.go("#/principals", '[data-test="create-principal"]')
    assert not a.find_all('[data-test="new-token"]')
    assert tok not in a.js("return document.body.innerText;")

    # a partner role without a partner: the field is marked, in words
    fill(a, "#pc-name", uniq("Partner user"))
    a.find("#pc-role-partner").click()
    a.find('[data-test="create-principal-submit"]').click()
    a.wait('#pc-partner[aria-invalid="true"]')
    assert a.find("#pc-partner-error").text == "A partner's principal needs a partner."
    no_code_alone(status(a))
    assert a.problems() == [] and b2.problems() == []


def test_rotating_ones_own_token_keeps_the_console_signed_in(browsers, daemon, admin):
    who = create_principal(daemon, admin, ["admin"], name=uniq("Rotating admin"))
    b = browsers("people-rotate")
    b.sign_in(who["token"])
    b.go("#/principals", '[data-test="rotate-own"]', lang="en")
    b.find('[data-test="rotate-own-submit"]').click()
    new = remember_token(b.wait('[data-test="new-token"]').text.strip())
    assert new != who["token"]
    assert wait_refused(daemon, who["token"]).code == -32001
    assert call(daemon, new, "system.whoami")["principal_id"] == who["principal_id"]
    # the console goes on with the new token
    assert b.js("return sessionStorage.getItem('fundd.token');") == new
    b.find('[data-test="hide-token"]').click()
    b.go("#/returnees", '[data-test="find-form"]')
    assert b.find("#whoami-name").text == who["name"]
    assert b.problems() == []


# ------------------------------------------------------------------------------ payments


def test_a_payment_is_confirmed_by_a_second_admin_only(a, b2, api, daemon, admin, world):
    d = world["payment"]
    fund = world["fund"]["code"]
    # A prepared it: not in A's queue, listed as waiting for another administrator
    a.go("#/payments", '[data-test="payments-filters"]', lang="en")
    Select(a.find("#filter-fund")).select_by_value(fund)
    a.find('[data-test="payments-filters"] [data-test="apply-filters"]').click()
    a.wait('[data-test="payments-table-empty"]')
    own = a.wait('[data-test="own-payment-row"][data-disbursement-id="%s"]' % d["disbursement_id"])
    assert "Another administrator must confirm it." in own.text
    assert text(own.find_element("css selector", '[data-col="amount"]')) == "€120.00"
    assert not a.find_all('[data-test="confirm-payment"][data-disbursement-id="%s"]' % d["disbursement_id"])
    # and the daemon says so too
    with pytest.raises(RpcError) as e:
        call(daemon, admin, "disbursement.confirm", {"disbursement_id": d["disbursement_id"],
                                                     "bank_ref": "X"})
    assert e.value.data["reason"] == "same_maker_and_checker"

    # B sees it, with its grant, fund, amount and maker
    b = b2
    b.go("#/payments", '[data-test="payments-filters"]', lang="en")
    Select(b.find("#filter-fund")).select_by_value(fund)
    b.find('[data-test="payments-filters"] [data-test="apply-filters"]').click()
    sel = '[data-test="payment-row"][data-disbursement-id="%s"]' % d["disbursement_id"]
    b.wait(sel)
    until(b, lambda: only_fund_rows(b, fund))
    row = b.find(sel)
    assert len(b.find_all('[data-test="payment-row"]')) == 1
    col = lambda c: text(b.find(sel + ' [data-col="%s"]' % c))
    assert col("amount") == "€120.00"
    assert col("fund") == fund
    assert col("beneficiary").split("\n") == [world["returnee"]["full_name"],
                                            world["grant"]["grant_id"]]
    assert b.find(sel + ' [data-test="grant-link"]').get_attribute("href").endswith(
        "#/grant?id=" + world["grant"]["grant_id"])
    assert col("created_by") == world["a_name"]
    assert re.sub(r"\D", "", b.find('[data-test="payments-count"]').text) == "1"

    # confirming without the bank's reference: the field is marked
    row.find_element("css selector", '[data-test="confirm-payment"]').click()
    b.wait('[data-test="confirm-payment-form"]')
    b.find('[data-test="confirm-payment-form-submit"]').click()
    b.wait('#pay-bank-ref[aria-invalid="true"]')
    no_code_alone(b.find("#pay-bank-ref-error").text)
    assert api.ok("disbursement.list", {"grant_id": world["grant"]["grant_id"]})[
        "disbursements"][0]["status"] == "pending"
    bank_ref = uniq("BANK")
    fill(b, "#pay-bank-ref", bank_ref)
    b.find('[data-test="confirm-payment-form-submit"]').click()
    b.wait('[data-test="payments-table-empty"]')
    assert "confirmed as paid" in status(b) and "€120.00" in text(b.find("#status"))
    got = api.ok("disbursement.list", {"grant_id": world["grant"]["grant_id"]})["disbursements"]
    assert [(x["disbursement_id"], x["status"], x["bank_ref"], x["decided_by"]) for x in got] == [
        (d["disbursement_id"], "paid", bank_ref, world["admin_b"]["principal_id"])]

    # a second payment, which the bank could not make: B marks it failed, with the reason
    d2 = create(api, world["grant"], "50.00")
    b.find('[data-test="payments-filters"] [data-test="apply-filters"]').click()
    sel2 = '[data-test="payment-row"][data-disbursement-id="%s"]' % d2["disbursement_id"]
    b.wait(sel2)
    b.find(sel2 + ' [data-test="fail-payment"]').click()
    form = b.wait('[data-test="fail-payment-form"]')
    assert "cannot be undone" in form.text
    fill(b, "#pay-reason", "Account closed by the bank")
    b.find('[data-test="fail-payment-form-submit"]').click()
    b.wait('[data-test="payments-table-empty"]')
    assert "failed" in status(b)
    got = api.ok("disbursement.list", {"grant_id": world["grant"]["grant_id"], "status": "failed"})
    assert [(x["disbursement_id"], x["fail_reason"]) for x in got["disbursements"]] == [
        (d2["disbursement_id"], "Account closed by the bank")]
    b.shot("payments-done-en")
    assert a.problems() == [] and b.problems() == []
