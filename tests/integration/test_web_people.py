"""The people pages of the web console (clients/web/js/views/people*.js) in a real browser:
the beneficiaries (#/returnees, #/returnee?id=), the principals (#/principals) and the payments
waiting for a checker (#/payments). Each action is done through the page and its effect
checked through the API; every page is opened in each language with no untranslated key, no
console error and no Content-Security-Policy violation.

Two administrators: A, the suite's bootstrap admin, and B, made with create_principal (created
by A, confirmed by the environment's second admin). The suite's database is shared: every
check is narrowed to the records this module made."""

import re
import time

import pytest
from selenium.webdriver.support.ui import Select, WebDriverWait

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


def text(el):
    """An element's text as shown, no-break spaces read as spaces."""
    return re.sub("[\u00a0\u202f]", " ", el.text)


def set_value(b, css, value):
    """Sets a control's value (a date input takes typing in the browser's locale only)."""
    el = b.find(css)
    b.js("arguments[0].value = arguments[1];", el, value)
    return el


def fill(b, css, value):
    el = b.find(css)
    el.clear()
    el.send_keys(value)
    return el


def until(b, check, timeout=15):
    """Waits until check() is true (a condition, not a sleep)."""
    WebDriverWait(b.driver, timeout).until(lambda d: check())


def only_fund_rows(b, fund):
    """The payments shown are those of `fund` only (the filter has been applied)."""
    cells = b.js("return [...document.querySelectorAll("
                 "'[data-test=\"payment-row\"] [data-col=\"fund\"]')].map(c => c.textContent);")
    return bool(cells) and all(c == fund for c in cells)


def status(b):
    return b.find("#status").text


def no_code_alone(msg):
    assert msg.strip() and not re.search(r"-32\d\d\d", msg), msg


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
    name = "Anahit " + uniq("Test").replace("-", " ")
    nid = "AM" + uniq("N").upper().replace("-", "")
    b.go("#/returnees", '[data-test="register-form"]', lang="en")
    fill(b, "#p-full_name", name)
    Select(b.find("#p-region")).select_by_value("AM-SH")
    fill(b, "#p-returned_from", "ru")
    set_value(b, "#p-returned_on", "2025-11-03")
    Select(b.find("#p-kind")).select_by_value("displaced")
    Select(b.find("#p-gender")).select_by_value("female")
    fill(b, "#p-birth_year", "1990")
    fill(b, "#p-national_id", nid)
    b.find('[data-test="register-form-submit"]').click()
    link = b.wait('[data-test="registered-link"]')
    rid = link.get_attribute("data-returnee-id")
    assert name in status(b)
    r = api.ok("returnee.get", {"returnee_id": rid})
    assert (r["full_name"], r["region_code"], r["returned_from"], r["returned_on"], r["kind"],
            r["gender"], r["birth_year"], r["national_id"]) == (
        name, "AM-SH", "RU", "2025-11-03", "displaced", "female", 1990, nid), r
    # the form is empty again, for the next person
    assert b.find("#p-full_name").get_attribute("value") == ""

    # find by a word of the name
    fill(b, "#find-name", name.split()[1])
    b.find('[data-test="find-submit"]').click()
    found = b.wait('[data-test="found-row"][data-returnee-id="%s"]' % rid)
    assert found.find_element("css selector", '[data-col="full_name"]').text == name
    assert found.find_element("css selector", '[data-col="kind"]').text == "Displaced person"
    # by the national id (in another case: the daemon compares ids as read)
    b.find('[data-test="find-clear"]').click()
    fill(b, "#find-national-id", nid.lower())
    b.find('[data-test="find-submit"]').click()
    b.wait('[data-test="found-row"][data-returnee-id="%s"]' % rid)
    assert len(b.find_all('[data-test="found-row"]')) == 1
    # the search terms are in no URL and no storage
    assert nid.lower() not in b.driver.current_url and "Anahit" not in b.driver.current_url
    stored = b.js("return JSON.stringify(sessionStorage) + JSON.stringify(localStorage);")
    assert nid.lower() not in stored and nid not in stored and name not in stored

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

    # the record: correct the name and the year of birth
    dup.click()
    b.wait('[data-test="correct-form"]')
    b.wait_text("#page-title", name)
    new_name = name + " Petrosyan"
    fill(b, "#p-full_name", new_name)
    fill(b, "#p-birth_year", "1991")
    b.find('[data-test="correct-form-submit"]').click()
    b.wait('[data-test="history-row"][data-field="full_name"]')
    b.wait_text("#page-title", new_name)
    assert "Full name" in status(b) and "Year of birth" in status(b)
    hist = api.ok("returnee.history", {"returnee_id": rid})["history"]
    assert len(hist) == 1, hist
    assert sorted(hist[0]["fields"]) == ["birth_year", "full_name"]
    assert hist[0]["old"]["full_name"] == name and hist[0]["new"]["full_name"] == new_name
    assert hist[0]["new"]["birth_year"] == 1991
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
