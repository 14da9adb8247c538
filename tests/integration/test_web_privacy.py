"""The privacy pages of the web console (clients/web/js/views/privacy*.js) in a real browser:
who is due for erasure (#/privacy, privacy.due) and one person's page (#/privacy-person?id=):
their consent, who read their data (returnee.access_log), everything held about them
(returnee.export, saved as a JSON file) and their erasure by two administrators
(returnee.erase, returnee.erase_confirm, returnee.erase_cancel; docs/privacy.md). A consent is
recorded with a registration (#/returnees, returnee.register with the consent_* params) and
anew on the person's page (returnee.update with them). Each action
is done through the page and its effect checked through the API; every page is opened in each
language with no untranslated key, no console error, no Content-Security-Policy violation and
no serious axe-core violation.

Two administrators: A, the suite's bootstrap admin, and B, made with create_principal (created
by A, confirmed by the environment's second admin). The beneficiaries are registered through
the API by this module. Worker 0 of the suite's daemon erases whoever is due once an hour
(its first round ran a second after it started), so a person made due here stays listed while
the module runs; nothing here depends on their not being erased later. The suite's database is
shared: every check is narrowed to the records this module made."""

import datetime
import json
import os

import pytest
from selenium.webdriver.support.ui import Select

from fl.browser import fill, no_code_alone, set_value, text, until
from fl.client import api_of, create_principal
from fl.env import uniq
from fl.grants import apply, funded_fund, new_returnee
from fl.privacy import PERSONAL, access_log

LANGS = ("en", "hy", "ru")


@pytest.fixture(scope="module")
def world(daemon, admin, api):
    """A second admin B, and beneficiaries: `gone`, whose only application was withdrawn (so
    they can be erased); `kept`, with an application waiting for a decision (open: no
    erasure); `due`, whose consent ended on 2025-06-01 (due for erasure); `dropped`, whose
    erasure A asks for and B cancels."""
    admin_b = create_principal(daemon, admin, ["admin"], name=uniq("Privacy second admin"))
    f = funded_fund(api, received="1000.00")
    gone = new_returnee(api, full_name="Anahit Privacy " + uniq("g"))
    withdrawn = apply(api, f, "100.00", returnee=gone)
    api.ok("grant.withdraw", {"grant_id": withdrawn["grant_id"], "reason": "moved away"})
    kept = new_returnee(api, full_name="Gor Privacy " + uniq("k"))
    open_grant = apply(api, f, "150.00", returnee=kept)
    due = new_returnee(api, full_name="Lilit Privacy " + uniq("d"),
                       consent_for=["case_management"], consent_given_on="2025-01-01",
                       consent_until="2025-06-01")
    dropped = new_returnee(api, full_name="Aram Privacy " + uniq("c"))
    me = api.ok("system.whoami")
    return {"admin_b": admin_b, "gone": gone, "withdrawn": withdrawn, "kept": kept,
            "open_grant": open_grant, "due": due, "dropped": dropped,
            "a_id": me["principal_id"], "a_name": me["name"]}


@pytest.fixture(scope="module")
def a(browsers, admin):
    b = browsers("privacy-admin-a")
    b.sign_in(admin)
    return b


@pytest.fixture(scope="module")
def b2(browsers, world):
    b = browsers("privacy-admin-b")
    b.sign_in(world["admin_b"]["token"])
    return b


@pytest.fixture(scope="module")
def aud_b(browsers, auditor):
    b = browsers("privacy-auditor")
    b.sign_in(auditor["token"])
    return b


def person(b, rid, ready):
    """Opens a person's privacy page afresh (a query of its own: the browser may be on that
    page already) and waits for `ready`."""
    return b.go("#/privacy-person?id=%s&v=%s" % (rid, uniq("v")), ready)


def erasures(api, rid):
    """The person's erasures, as the export lists them (itself a reading, by A)."""
    return api.ok("returnee.export", {"returnee_id": rid, "purpose": "audit"})["erasures"]


def shot_of(b, css, label):
    """A screenshot with the element css scrolled to the top of the window."""
    b.js("arguments[0].scrollIntoView(true);", b.find(css))
    return b.shot(label)


def clean(b):
    """Forgets what a browser downloaded so far."""
    for n in os.listdir(b.downloads):
        os.remove(os.path.join(b.downloads, n))


def due_row(b, rid, pages=50):
    """The row of #/privacy of the person rid, paging on until it shows."""
    sel = '[data-test="due-row"][data-returnee-id="%s"]' % rid
    for _ in range(pages):
        b.wait('[data-test="due-table"]')
        rows = b.find_all(sel)
        if rows:
            return rows[0]
        nxt = b.find('[data-test="next-page"]')
        assert nxt.is_enabled(), "%s is not among the people due" % rid
        nxt.click()
        # the pager is drawn busy (aria-disabled) until the next page has loaded
        until(b, lambda: b.find('[data-test="prev-page"]').get_attribute("aria-disabled") is None)
    raise AssertionError("%s not found in %d pages" % (rid, pages))


# ------------------------------------------------------------------------------ who is due


def test_due_list_shows_a_person_whose_consent_ended(a, world, api):
    rid = world["due"]["returnee_id"]
    res = api.ok("privacy.due", {"limit": 1000})
    years = res["retention_years"]
    a.go("#/privacy", '[data-test="due-table"]')
    retention = a.find('[data-test="retention"]')
    assert retention.get_attribute("data-years") == str(years)
    assert "%d years" % years in text(retention), retention.text
    row = due_row(a, rid)
    assert row.get_attribute("data-basis") == "consent_ended"
    cell = lambda col: text(row.find_element("css selector", '[data-col="%s"]' % col))
    assert cell("basis") == "The consent has ended"
    assert cell("kind") == "Returning migrant"
    assert cell("region") == world["due"]["region"]
    assert cell("due_since") == "Jun 2, 2025"
    assert cell("erasure_pending") == "Not asked for"
    link = row.find_element("css selector", 'a[data-test="due-link"]')
    assert link.get_attribute("href").endswith("#/privacy-person?id=" + rid)
    a.shot("privacy-due")
    link.click()
    a.wait('[data-test="consent-details"]')
    consent = a.find('[data-test="consent-details"]')
    assert text(consent.find_element("css selector", '[data-col="for"]')) == "case management"
    assert text(consent.find_element("css selector", '[data-col="until"]')) == "Jun 1, 2025"
    assert "ended on Jun 1, 2025" in text(a.find('[data-test="consent-ended"]'))
    status = a.find('[data-test="due-status"]')
    assert (status.get_attribute("data-due"), status.get_attribute("data-basis")) == \
        ("yes", "consent_ended")
    assert "Jun 2, 2025" in text(status) and "The consent has ended" in text(status)
    assert world["due"]["full_name"] in a.find("#page-title").text
    assert a.find("#nav-privacy").get_attribute("aria-current") == "page"
    shot_of(a, '[data-test="consent"]', "privacy-person-due")
    # a person without a consent says so
    person(a, world["gone"]["returnee_id"], '[data-test="no-consent"]')
    assert a.find('[data-test="no-consent"]').text == "No consent recorded."
    assert a.problems() == []


# ------------------------------------------------------------------------------ export and log


def test_export_downloads_everything_held_as_json(a, world):
    g = world["gone"]
    rid = g["returnee_id"]
    clean(a)
    person(a, rid, '[data-test="export-download"]')
    assert Select(a.find("#export-purpose")).first_selected_option.get_attribute("value") == \
        "data_subject_request"
    a.find('[data-test="export-download"]').click()
    name = "returnee-%s-export.json" % rid
    files = a.downloaded()
    assert list(files) == [name], files
    with open(files[name], encoding="utf-8") as f:
        got = json.load(f)
    assert got["returnee"]["returnee_id"] == rid
    assert got["returnee"]["full_name"] == g["full_name"]
    assert got["returnee"]["national_id"] == g["national_id"]
    assert [(x["grant_id"], x["status"]) for x in got["grants"]] == \
        [(world["withdrawn"]["grant_id"], "withdrawn")]
    assert got["erasures"] == [] and got["consents"] == []
    assert {"exported_at", "history", "accesses"} <= set(got)
    a.wait_text("#status", name)
    shot_of(a, '[data-test="export"]', "privacy-export")


def test_access_log_lists_the_reads_with_their_purposes(a, world, api):
    rid = world["gone"]["returnee_id"]
    person(a, rid, '[data-test="access-table"]')
    downloads = '[data-test="access-row"][data-purpose="data_subject_request"]'
    before = len(a.find_all(downloads))
    a.find('[data-test="export-download"]').click()
    # the download is a reading too: the log, read again, shows it
    until(a, lambda: len(a.find_all(downloads)) == before + 1)
    entries, _ = access_log(api, rid)
    by_seq = {str(e["seq"]): e for e in entries}
    mine = [e for e in entries if e["principal_id"] == world["a_id"]]
    # registered, page visits (the export for case management), downloads (the person's request)
    assert {("returnee.register", "case_management"), ("returnee.export", "case_management"),
            ("returnee.export", "data_subject_request")} <= {(e["method"], e["purpose"])
                                                            for e in mine}, mine
    rows = a.find_all('[data-test="access-row"]')
    assert rows
    words = {
        "returnee.register": "Registered the person",
        "returnee.export": "Read everything held about the person",
        "grant.apply": "Applied for a grant for the person",
        "grant.withdraw": "Withdrew an application",
        "grant.get": "Opened an application",
        "grant.list": "Listed applications",
        "returnee.get": "Opened the person's record",
    }
    purposes = {"case_management": "Case management", "audit": "Audit",
                "data_subject_request": "The person's own request for their data",
                "payment": "Payment"}
    for row in rows:
        e = by_seq[row.get_attribute("data-seq")]
        cell = lambda col: text(row.find_element("css selector", '[data-col="%s"]' % col))
        assert (row.get_attribute("data-method"), row.get_attribute("data-purpose")) == \
            (e["method"], e["purpose"])
        assert cell("name") == e["name"]
        assert cell("purpose") == purposes[e["purpose"]]
        if e["method"] in words:
            assert cell("method") == words[e["method"]]
    shown = [r.get_attribute("data-seq") for r in rows]
    assert shown == sorted(shown, key=int), "the log is oldest first"
    assert any(by_seq[s]["principal_id"] == world["a_id"] and
               by_seq[s]["purpose"] == "data_subject_request" for s in shown)
    shot_of(a, '[data-test="access-log"]', "privacy-access-log")


# ------------------------------------------------------------------------------ erasure


def test_erasure_refused_while_an_application_is_open(a, world, api):
    rid = world["kept"]["returnee_id"]
    gid = world["open_grant"]["grant_id"]
    person(a, rid, 'form[data-test="erasure-ask"]')
    # said before asking, with the way to the application
    notice = a.find('[data-test="open-grants"]')
    assert notice.find_element("css selector", "a").get_attribute("href").endswith(
        "#/grant?id=" + gid)
    fill(a, "#erasure-reason", "the person asked")
    a.find('[data-test="erasure-ask-submit"]').click()
    msg = a.wait('form[data-test="erasure-ask"] [data-test="form-error"]').text
    no_code_alone(msg)
    assert "application" in msg and "submitted or approved" in msg, msg
    link = a.wait('[data-test="grant-open-link"]')
    assert link.get_attribute("href").endswith("#/grant?id=" + gid)
    assert link.text == "Open application " + gid
    assert msg in a.find("#status").text
    shot_of(a, '[data-test="erasure"]', "privacy-grant-open")
    assert erasures(api, rid) == []
    assert api.ok("returnee.get", {"returnee_id": rid})["erased_at"] is None


def test_erasure_asked_by_one_admin_and_confirmed_by_another(a, b2, world, api):
    g = world["gone"]
    rid = g["returnee_id"]
    person(a, rid, 'form[data-test="erasure-ask"]')
    warning = text(a.find('form[data-test="erasure-ask"] [data-test="erasure-warning"]'))
    assert "gone for good" in warning and "Erasure cannot be undone." in warning, warning
    assert "audit trail stay" in warning
    # a reason is needed: the field says so, nothing is asked
    a.find('[data-test="erasure-ask-submit"]').click()
    field_msg = a.wait("#erasure-reason-error").text
    no_code_alone(field_msg)
    assert a.find("#erasure-reason").get_attribute("aria-invalid") == "true"
    assert erasures(api, rid) == []
    fill(a, "#erasure-reason", "the person asked on the phone")
    a.find('[data-test="erasure-ask-submit"]').click()
    own = a.wait('[data-test="own-erasure"]')
    assert "you cannot confirm it" in own.text and "another administrator" in own.text, own.text
    # the one who asked has no Confirm, only Cancel
    assert a.find_all('form[data-test="erasure-confirm"]') == []
    assert a.find_all('form[data-test="erasure-cancel"]')
    shot_of(a, '[data-test="pending-erasure"]', "privacy-asked")
    (e,) = [x for x in erasures(api, rid) if x["status"] == "pending"]
    assert (e["requested_by"], e["basis"], e["reason"]) == \
        (world["a_id"], "request", "the person asked on the phone")
    pend = a.find('[data-test="pending-erasure-details"]')
    assert text(pend.find_element("css selector", '[data-col="requested_by"]')) == "You"

    # B sees what erasure does, and confirms
    person(b2, rid, 'form[data-test="erasure-confirm"]')
    warning = text(b2.find('form[data-test="erasure-confirm"] [data-test="erasure-warning"]'))
    assert "Erasure cannot be undone." in warning
    assert text(b2.find('[data-test="pending-erasure-details"] [data-col="requested_by"]')) == \
        world["a_id"]
    shot_of(b2, '[data-test="pending-erasure"]', "privacy-confirm")
    b2.find('[data-test="erasure-confirm-submit"]').click()
    b2.wait('[data-test="erasure-done"]')
    r = api.ok("returnee.get", {"returnee_id": rid})
    assert r["erased_at"] is not None and r["full_name"] is None, r
    for k in PERSONAL:
        assert r[k] is None, (k, r)
    (done,) = [x for x in erasures(api, rid) if x["erasure_id"] == e["erasure_id"]]
    assert (done["status"], done["decided_by"]) == ("done", world["admin_b"]["principal_id"])
    b2.wait('[data-test="erasure-row"][data-status="done"]')
    assert b2.find_all('[data-test="erased-notice"]')
    assert b2.find('[data-test="erased-name"]').text == "Personal data erased"
    assert b2.find("#page-title").text == "Personal data of record " + rid
    assert b2.find('[data-test="due-status"]').get_attribute("data-due") == "erased"
    shot_of(b2, '[data-test="privacy-record"]', "privacy-erased")

    # A's page, opened again, says so; there is nothing more to ask
    person(a, rid, '[data-test="erasure-done"]')
    assert a.find_all('form[data-test="erasure-ask"]') == []
    assert a.find('[data-test="erased-at"]').text.startswith("Erased on ")
    assert a.problems() == [] and b2.problems() == []


def test_erasure_request_cancelled_by_another_admin(a, b2, world, api):
    rid = world["dropped"]["returnee_id"]
    person(a, rid, 'form[data-test="erasure-ask"]')
    fill(a, "#erasure-reason", "asked by mistake")
    a.find('[data-test="erasure-ask-submit"]').click()
    a.wait('[data-test="own-erasure"]')
    person(b2, rid, 'form[data-test="erasure-cancel"]')
    intro = text(b2.find('form[data-test="erasure-cancel"]'))
    assert "the personal data stays" in intro, intro
    b2.find('[data-test="erasure-cancel-submit"]').click()
    b2.wait('form[data-test="erasure-ask"]')
    row = b2.wait('[data-test="erasure-row"][data-status="cancelled"]')
    assert text(row.find_element("css selector", '[data-col="status"]')) == "Cancelled"
    assert text(row.find_element("css selector", '[data-col="reason"]')) == "asked by mistake"
    (e,) = erasures(api, rid)
    assert (e["status"], e["decided_by"]) == ("cancelled", world["admin_b"]["principal_id"])
    r = api.ok("returnee.get", {"returnee_id": rid})
    assert r["erased_at"] is None and r["full_name"] == world["dropped"]["full_name"]
    shot_of(b2, '[data-test="erasure"]', "privacy-cancelled")
    # A's page, opened again, may ask again
    person(a, rid, 'form[data-test="erasure-ask"]')
    assert a.find_all('[data-test="own-erasure"]') == []


def test_a_page_behind_the_daemon_says_what_changed(a, world, daemon, api):
    """A's page shows no erasure asked for; B asks meanwhile (through the API). A's request
    is refused in words (erasure_pending), the page offers the current state, which has B's
    request for A to confirm."""
    r = new_returnee(api, full_name="Narek Privacy " + uniq("s"))
    rid = r["returnee_id"]
    person(a, rid, 'form[data-test="erasure-ask"]')
    with api_of(daemon, world["admin_b"]) as b_api:
        e = b_api.ok("returnee.erase", {"returnee_id": rid, "reason": "asked by letter"})
    fill(a, "#erasure-reason", "the person asked")
    a.find('[data-test="erasure-ask-submit"]').click()
    msg = a.wait('form[data-test="erasure-ask"] [data-test="form-error"]').text
    no_code_alone(msg)
    assert "already waiting for confirmation" in msg, msg
    a.find('[data-test="erasure-reload"]').click()
    a.wait('form[data-test="erasure-confirm"]')
    assert text(a.find('[data-test="pending-erasure-details"] [data-col="reason"]')) == \
        "asked by letter"
    assert a.find_all('[data-test="own-erasure"]') == []
    a.find('[data-test="erasure-confirm-submit"]').click()
    a.wait('[data-test="erasure-done"]')
    (done,) = erasures(api, rid)
    assert (done["erasure_id"], done["status"], done["decided_by"]) == \
        (e["erasure_id"], "done", world["a_id"])
    assert api.ok("returnee.get", {"returnee_id": rid})["full_name"] is None


def test_find_a_persons_page(a, world):
    d = world["due"]
    a.go("#/privacy?f=1", 'form[data-test="privacy-find"]')
    # nothing given: said in words, nothing sent
    a.find('[data-test="privacy-find-submit"]').click()
    no_code_alone(a.wait('[data-test="privacy-find-error"]').text)
    # the whole name, in capitals
    fill(a, "#privacy-find-name", d["full_name"].upper())
    a.find('[data-test="privacy-find-submit"]').click()
    row = a.wait('[data-test="privacy-found-row"][data-returnee-id="%s"]' % d["returnee_id"])
    link = row.find_element("css selector", "a")
    assert link.text == d["full_name"]
    assert link.get_attribute("href").endswith("#/privacy-person?id=" + d["returnee_id"])
    # a part of a name finds nobody, and the page says why
    fill(a, "#privacy-find-name", d["full_name"].split()[0])
    a.find('[data-test="privacy-find-submit"]').click()
    empty = a.wait('[data-test="privacy-found-table-empty"]').text
    assert "whole full name" in empty, empty
    # the record number opens the page
    fill(a, "#privacy-find-name", "")
    fill(a, "#privacy-find-returnee_id", world["kept"]["returnee_id"])
    a.find('[data-test="privacy-find-submit"]').click()
    a.wait('[data-test="privacy-person-details"]')
    assert world["kept"]["full_name"] in a.find("#page-title").text
    assert a.problems() == []


def test_find_a_person_by_national_id_then_clear(a, world, api):
    d = world["due"]
    a.go("#/privacy?f=2", 'form[data-test="privacy-find"]', lang="en")
    # the whole national id, in another case (ids are compared as returnee.register does)
    fill(a, "#privacy-find-national_id", d["national_id"].lower())
    a.find('[data-test="privacy-find-submit"]').click()
    row = a.wait('[data-test="privacy-found-row"][data-returnee-id="%s"]' % d["returnee_id"])
    assert len(a.find_all('[data-test="privacy-found-row"]')) == 1
    assert row.find_element("css selector", '[data-col="full_name"] a').text == d["full_name"]
    a.wait_text("#status", "Found: 1.")
    assert [x["returnee_id"] for x in api.ok(
        "returnee.find", {"national_id": d["national_id"].lower()})["returnees"]] == [d["returnee_id"]]
    a.js("arguments[0].scrollIntoView({block: 'center'});", a.find('form[data-test="privacy-find"]'))
    a.shot("privacy-find-national-id-en")
    # cleared, the search shows nothing and its fields are empty
    a.find('[data-test="privacy-find-clear"]').click()
    a.wait_gone('[data-test="privacy-found-table"]')
    assert a.find("#privacy-find-national_id").get_attribute("value") == ""
    assert a.problems() == []


# ------------------------------------------------------------------------------ consent


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def register_form(b, name, nid):
    """Opens #/returnees afresh and fills the register form's person fields (not its
    consent)."""
    b.go("#/returnees?v=" + uniq("v"), 'form[data-test="register-form"]', lang="en")
    fill(b, "#p-full_name", name)
    Select(b.find("#p-region")).select_by_value("AM-SH")
    fill(b, "#p-returned_from", "RU")
    set_value(b, "#p-returned_on", "2025-09-15")
    fill(b, "#p-national_id", nid)


def registered(b):
    """The record number of the person the register form just registered."""
    return b.wait('[data-test="registered-link"]').get_attribute("data-returnee-id")


def new_nid():
    return "AM" + uniq("C").upper().replace("-", "")


def test_register_with_a_consent_given_by_a_guardian(a, world, api):
    name = "Hasmik Consent " + uniq("r")
    nid = new_nid()
    given = (utc_today() - datetime.timedelta(days=1)).isoformat()
    until_ = "%d-06-30" % (utc_today().year + 1)
    register_form(a, name, nid)
    group = a.find('form[data-test="register-form"] [data-test="consent-fields"]')
    assert group.tag_name == "fieldset"
    assert group.find_element("css selector", "legend").text == "Consent"
    # what it is for, when, by whom: the date given is today unless changed, the giver the person
    assert a.find("#p-consent_given_on").get_attribute("value") == utc_today().isoformat()
    assert Select(a.find("#p-consent_given_by")).first_selected_option.get_attribute(
        "value") == "self"
    assert a.find("#p-consent_until").get_attribute("value") == ""
    assert a.find('label[for="p-consent_for-case_management"]').text == "Case management"
    assert a.find('label[for="p-consent_for-payment"]').text == "Payment"
    assert "allows the fund to use their personal data" in text(group)
    # nothing ticked yet: the form says no consent will be recorded; a tick takes that back
    assert a.find('[data-test="no-consent-notice"]').is_displayed()
    a.find("#p-consent_for-case_management").click()
    a.find("#p-consent_for-payment").click()
    assert a.find_all('[data-test="no-consent-notice"]') == []
    set_value(a, "#p-consent_given_on", given)
    Select(a.find("#p-consent_given_by")).select_by_value("guardian")
    set_value(a, "#p-consent_until", until_)
    shot_of(a, '[data-test="consent-fields"]', "register-consent")
    a.find('[data-test="register-form-submit"]').click()
    rid = registered(a)
    assert a.find("#status").text == name + " is registered."
    r = api.ok("returnee.get", {"returnee_id": rid})
    assert (r["full_name"], r["national_id"]) == (name, nid)
    c = r["consent"]
    assert set(c) == {"for", "given_on", "given_by", "until", "recorded_by", "recorded_at"}, c
    assert (sorted(c["for"]), c["given_on"], c["given_by"], c["until"], c["recorded_by"]) == \
        (["case_management", "payment"], given, "guardian", until_, world["a_id"]), c
    assert c["recorded_at"]
    # the form is empty again for the next person: nothing ticked, given today
    assert not a.find("#p-consent_for-payment").is_selected()
    assert a.find("#p-consent_given_on").get_attribute("value") == utc_today().isoformat()
    assert a.find('[data-test="no-consent-notice"]').is_displayed()
    # the person's page shows it
    person(a, rid, '[data-test="consent-details"]')
    consent = a.find('[data-test="consent-details"]')
    assert text(consent.find_element("css selector", '[data-col="for"]')) == \
        "case management and payments"
    assert text(consent.find_element("css selector", '[data-col="given_by"]')) == "A guardian"
    assert a.problems() == []


def test_register_with_a_consent_ending_before_it_was_given_is_refused_at_the_end_date(a, api):
    name = "Tigran Consent " + uniq("b")
    nid = new_nid()
    register_form(a, name, nid)
    a.find("#p-consent_for-payment").click()
    set_value(a, "#p-consent_given_on", (utc_today() - datetime.timedelta(days=3)).isoformat())
    set_value(a, "#p-consent_until", (utc_today() - datetime.timedelta(days=10)).isoformat())
    a.find('[data-test="register-form-submit"]').click()
    a.wait('#p-consent_until[aria-invalid="true"]')
    msg = a.wait("#p-consent_until-error").text
    assert msg == "The end date is before the start date.", msg
    assert "p-consent_until-error" in a.find("#p-consent_until").get_attribute(
        "aria-describedby").split()
    no_code_alone(a.find("#status").text)
    # that field alone is marked, and it has the focus
    assert [e.get_attribute("id") for e in a.find_all('[aria-invalid="true"]')] == \
        ["p-consent_until"]
    assert a.js("return document.activeElement.id;") == "p-consent_until"
    assert a.find_all('[data-test="registered-link"]') == []
    shot_of(a, '[data-test="consent-fields"]', "register-consent-end-before-start")
    # nobody was registered
    assert api.ok("returnee.find", {"national_id": nid})["returnees"] == []
    assert api.ok("returnee.find", {"name": name})["returnees"] == []
    assert a.problems() == []


def test_register_without_a_consent_says_none_will_be_recorded(a, api):
    name = "Armen Consent " + uniq("n")
    nid = new_nid()
    register_form(a, name, nid)
    notice = a.find('[data-test="no-consent-notice"]')
    assert notice.is_displayed()
    assert "no consent will be recorded" in notice.text, notice.text
    # a date or a giver alone is no consent: still said, and nothing of it is sent
    Select(a.find("#p-consent_given_by")).select_by_value("representative")
    set_value(a, "#p-consent_until", "%d-01-31" % (utc_today().year + 2))
    a.find("#p-consent_for-case_management").click()
    assert a.find_all('[data-test="no-consent-notice"]') == []
    a.find("#p-consent_for-case_management").click()
    a.wait('[data-test="no-consent-notice"]')
    shot_of(a, '[data-test="consent-fields"]', "register-no-consent")
    a.find('[data-test="register-form-submit"]').click()
    rid = registered(a)
    assert a.find("#status").text == name + " is registered, without a consent."
    r = api.ok("returnee.get", {"returnee_id": rid})
    assert (r["full_name"], r["national_id"], r["consent"]) == (name, nid, None), r
    assert api.ok("returnee.export", {"returnee_id": rid, "purpose": "audit"})["consents"] == []
    person(a, rid, '[data-test="no-consent"]')
    assert a.problems() == []


def test_record_a_new_consent_on_the_persons_page(a, aud_b, world, api):
    first_given = (utc_today() - datetime.timedelta(days=40)).isoformat()
    r = new_returnee(api, full_name="Mariam Consent " + uniq("u"),
                     consent_for=["case_management"], consent_given_on=first_given)
    rid = r["returnee_id"]
    form = 'form[data-test="consent-record"]'
    person(a, rid, form)
    assert a.find_all('[data-test="consents-table"]') == []
    assert a.find("#new-consent_given_on").get_attribute("value") == utc_today().isoformat()
    # no purpose ticked: the daemon says one is needed, at the purposes; nothing is recorded
    a.find('[data-test="consent-record-submit"]').click()
    msg = a.wait("#new-consent_for-error").text
    assert msg == "A consent needs what it is for and the date it was given.", msg
    for p in ("case_management", "payment"):
        assert a.find("#new-consent_for-" + p).get_attribute("aria-invalid") == "true"
    assert a.js("return document.activeElement.id;") == "new-consent_for-case_management"
    assert "new-consent_for-error" in a.find("#new-consent_for").get_attribute(
        "aria-describedby").split()
    assert len(api.ok("returnee.export", {"returnee_id": rid, "purpose": "audit"})[
        "consents"]) == 1
    shot_of(a, form, "consent-record-incomplete")
    # payments only, given today by a representative, with no end
    a.find("#new-consent_for-payment").click()
    Select(a.find("#new-consent_given_by")).select_by_value("representative")
    a.find('[data-test="consent-record-submit"]').click()
    a.wait('[data-test="consent-row"]')
    assert a.find("#status").text == "The new consent is recorded."
    got = api.ok("returnee.get", {"returnee_id": rid})["consent"]
    assert (got["for"], got["given_on"], got["given_by"], got["until"], got["recorded_by"]) == \
        (["payment"], utc_today().isoformat(), "representative", None, world["a_id"]), got
    consents = api.ok("returnee.export", {"returnee_id": rid, "purpose": "audit"})["consents"]
    assert [(c["for"], c["given_on"], c["given_by"], c["until"]) for c in consents] == [
        (["case_management"], first_given, "self", None),
        (["payment"], utc_today().isoformat(), "representative", None)], consents
    # the page shows the new one, and every one recorded
    consent = a.find('[data-test="consent-details"]')
    assert text(consent.find_element("css selector", '[data-col="for"]')) == "payments"
    assert text(consent.find_element("css selector", '[data-col="given_by"]')) == \
        "A representative"
    assert text(consent.find_element("css selector", '[data-col="until"]')) == "No end date"
    rows = a.find_all('[data-test="consent-row"]')
    assert [text(x.find_element("css selector", '[data-col="for"]')) for x in rows] == \
        ["case management", "payments"]
    # the form is ready for another, and kept the focus
    assert not a.find("#new-consent_for-payment").is_selected()
    assert a.find_all("#new-consent_for-error:not([hidden])") == []
    assert a.js("return document.activeElement.dataset.test;") == "consent-record-submit"
    shot_of(a, '[data-test="consent"]', "consent-recorded")
    # the returnee's correction history is not touched by a consent
    assert api.ok("returnee.history", {"returnee_id": rid})["history"] == []
    # an auditor sees the consents, and records none
    person(aud_b, rid, '[data-test="consent-details"]')
    assert aud_b.find_all(form) == []
    assert a.problems() == [] and aud_b.problems() == []


# ------------------------------------------------------------------------------ every page


def test_privacy_pages_in_each_language(a, aud_b, world):
    rid = world["due"]["returnee_id"]
    for who, b in (("admin", a), ("auditor", aud_b)):
        for route, ready, name in (
                ("#/privacy", '[data-test="due-table"]', "due"),
                ("#/privacy-person?id=" + rid, '[data-test="access-table"]', "person")):
            for lang in LANGS:
                b.go(route + "&l=" + lang if "?" in route else route + "?l=" + lang, ready,
                     lang=lang)
                assert b.find("html").get_attribute("lang") == lang
                b.shot("%s-%s-%s" % (who, name, lang))
                assert b.visible_keys() == [], (who, route, lang, b.visible_keys())
                assert b.problems() == [], (who, route, lang, b.problems())
                assert b.axe() == [], (who, route, lang)
            b.go(route, ready, lang="en")
    # an auditor reads, and neither erases nor downloads
    person(aud_b, rid, '[data-test="access-table"]')
    assert aud_b.find_all('form[data-test="erasure-ask"]') == []
    assert aud_b.find_all('[data-test="export-download"]') == []
    assert aud_b.find_all('form[data-test="consent-record"]') == []
    assert aud_b.find('[data-test="consent-details"]')
    row = aud_b.find_all('[data-test="access-row"][data-purpose="audit"]')
    assert row, "the auditor's own reading is in the log, for audit"
