"""The grants pages of the web console (clients/web/js/views/grants*.js, queue.js) in a real
browser against the real daemon: the applications list with its "Apply for a grant" form,
an application's own page with what an approver needs to decide, the approver's decisions
(approve, reject, recuse refused to the application's creator), milestones with their
evidence and the tranches. Every effect is checked through the API too."""

import os
import tempfile

import pytest
from selenium.webdriver.support.ui import Select

from fl.browser import fill, rpc_sent
from fl.client import call, create_principal
from fl.env import uniq
from fl.grants import apply, funded_fund, new_returnee

LANGS = ("en", "hy", "ru")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(scope="module")
def world(daemon, admin, api):
    """A funded fund (one approval), a funded fund that needs two approvals above 100.00, a
    beneficiary with a name of its own, two approvers and an admin who is an approver too."""
    f = funded_fund(api, "5000.00")
    dual = funded_fund(api, "5000.00", dual="100")
    name = "Anahit " + uniq("Web").replace("-", "")
    r = new_returnee(api, region="AM-SH", full_name=name)
    a1 = create_principal(daemon, admin, ["approver"], name=uniq("Approver One"))
    a2 = create_principal(daemon, admin, ["approver"], name=uniq("Approver Two"))
    aa = create_principal(daemon, admin, ["admin", "approver"], name=uniq("Admin Approver"))
    return {"fund": f, "dual": dual, "returnee": r, "a1": a1, "a2": a2, "aa": aa}


@pytest.fixture(scope="module")
def as_admin(browsers, admin):
    b = browsers("grants-admin")
    b.sign_in(admin)
    return b


@pytest.fixture(scope="module")
def as_approver(browsers, world):
    b = browsers("grants-approver")
    b.sign_in(world["a1"]["token"])
    return b


def grant_page(b, grant_id, lang="en"):
    b.go("#/grant?id=" + grant_id, '[data-test="grant-details"]', lang=lang)
    b.wait_text("#page-title", grant_id)


def submit(b, form):
    b.find('[data-test="%s-submit"]' % form).click()


def status_says(b, text):
    b.wait_text("#status", text)


def clean(b):
    assert b.visible_keys() == [], b.visible_keys()
    assert b.problems() == [], b.problems()


# ------------------------------------------------------------------------------ applying


def test_admin_applies_through_the_form(as_admin, world, api):
    b, f, r = as_admin, world["fund"], world["returnee"]
    b.go("#/grants", '[data-test="grants-filters"]', lang="en")
    b.find('[data-test="show-apply"]').click()
    # the lookup asks for whole values: a word of the name finds nobody, and it says why
    assert "exactly as registered" in b.find('label[for="lookup-query"]').text
    assert "whole" in b.find("#lookup-query-help").text
    fill(b, "#lookup-query", r["full_name"].split()[0])
    b.find('[data-test="returnee-find"]').click()
    none = b.wait('[data-test="returnee-results-empty"]')
    assert "whole full name" in none.text, none.text
    assert not b.find_all('[data-test="returnee-row"]')
    # the whole name, in lower case, finds the beneficiary; choose it
    fill(b, "#lookup-query", r["full_name"].lower())
    b.find('[data-test="returnee-find"]').click()
    row = '[data-test="returnee-row"][data-returnee-id="%s"]' % r["returnee_id"]
    b.wait(row)
    assert len(b.find_all('[data-test="returnee-row"]')) == 1
    assert r["full_name"] in b.find(row).text
    b.find(row + ' [data-test="returnee-pick"]').click()
    b.wait_text('[data-test="picked-returnee"]', r["full_name"])
    assert b.find("#apply-returnee").get_attribute("value") == r["returnee_id"]
    Select(b.find("#apply-fund")).select_by_value(f["code"])
    Select(b.find("#apply-category")).select_by_value("agriculture")
    purpose = "Greenhouse for tomatoes " + uniq("p")
    fill(b, "#apply-purpose", purpose)
    # a wrong amount first: the field is marked, in words
    fill(b, "#apply-amount", "12,50")
    submit(b, "apply-form")
    b.wait('#apply-amount[aria-invalid="true"]')
    msg = b.wait("#apply-amount-error").text
    assert msg.strip() and "-32602" not in msg, msg
    fill(b, "#apply-amount", "750.50")
    submit(b, "apply-form")
    b.wait('[data-test="grant-details"]')
    grant_id = b.js("return new URLSearchParams(location.hash.split('?')[1]).get('id');")
    assert grant_id and grant_id.startswith("gr_"), grant_id
    status_says(b, grant_id)
    g = api.ok("grant.get", {"grant_id": grant_id})
    assert (g["status"], g["amount"], g["currency"], g["fund"], g["category"], g["purpose"],
            g["returnee_id"]) == ("submitted", "750.50", "EUR", f["code"], "agriculture",
                                  purpose, r["returnee_id"])
    # the page shows what was applied for
    assert b.find('[data-test="grant-details"] [data-col="amount"]').text == "€750.50"
    assert b.find('[data-test="grant-details"] [data-col="status"] [data-status]') \
        .get_attribute("data-status") == "submitted"
    assert r["full_name"] in b.find('[data-test="grant-details"] [data-col="beneficiary"]').text
    # in the list, filtered to the fund, with a link to it
    b.go("#/grants", '[data-test="grants-filters"]')
    Select(b.find("#filter-fund")).select_by_value(f["code"])
    b.find('[data-test="apply-filters"]').click()
    link = '[data-test="grant-row"][data-grant-id="%s"] a[data-test="grant-link"]' % grant_id
    b.wait(link)
    assert b.find('[data-test="grant-row"][data-grant-id="%s"] [data-col="amount"]'
                  % grant_id).text == "€750.50"
    b.find(link).click()
    b.wait_text("#page-title", grant_id)
    clean(b)


# ------------------------------------------------------------------------------ deciding


def queue_of_fund(b, fund):
    b.go("#/queue", "#filter-fund", lang="en")
    Select(b.find("#filter-fund")).select_by_value(fund["code"])
    b.find('[data-test="apply-filters"]').click()
    b.wait('[data-test="queue-table"], [data-test="queue-table-empty"]')


def test_the_lookup_by_national_id_with_nothing_typed_and_cleared(as_admin, world, api):
    b, r = as_admin, world["returnee"]
    b.go("#/grants?apply=1", '[data-test="returnee-lookup"]', lang="en")
    sent = rpc_sent(b)
    finds = lambda: [q for q in sent() if q[0][0] == "returnee.find"]
    # nothing typed: said at the form, nothing sent
    b.find('[data-test="returnee-find"]').click()
    msg = b.wait('[data-test="lookup-error"]').text
    assert msg == "Type a full name or a national ID number to search.", msg
    assert finds() == []
    # the whole national id, in lower case: one request searching it as a name and as a
    # national id, the person found once
    q = r["national_id"].lower()
    fill(b, "#lookup-query", q)
    b.find('[data-test="returnee-find"]').click()
    row = '[data-test="returnee-row"][data-returnee-id="%s"]' % r["returnee_id"]
    b.wait(row)
    assert len(b.find_all('[data-test="returnee-row"]')) == 1
    assert not b.find_all('[data-test="lookup-error"]')
    assert finds() == [[("returnee.find", {"name": q}), ("returnee.find", {"national_id": q})]]
    assert [x["returnee_id"] for x in api.ok("returnee.find", {"national_id": q})["returnees"]] \
        == [r["returnee_id"]]
    assert api.ok("returnee.find", {"name": q})["returnees"] == []
    status_says(b, "Found: 1.")
    assert q in b.find('[data-test="returnee-results"] caption').text
    b.shot("lookup-national-id-en")
    # cleared: no results, the field empty, nothing chosen
    b.find('[data-test="lookup-clear"]').click()
    b.wait_gone('[data-test="returnee-results"]')
    assert b.find("#lookup-query").get_attribute("value") == ""
    assert not b.find_all('[data-test="picked-returnee"]')
    clean(b)


def test_approver_approves_from_its_queue_and_it_leaves_the_queue(as_approver, world, api):
    b, f = as_approver, world["fund"]
    g = apply(api, f, "300.00", returnee=world["returnee"])
    queue_of_fund(b, f)
    link = '[data-test="queue-row"][data-grant-id="%s"] a[data-test="grant-link"]' % g["grant_id"]
    b.wait(link).click()
    b.wait('[data-test="approve-form"]')
    b.wait_text("#page-title", g["grant_id"])
    # what it takes to decide: the fund's money now, the approvals needed
    assert b.find('[data-test="fund-details"] [data-col="available"]').text.startswith("€")
    b.wait('[data-test="fund-covers"]')
    assert b.find('[data-test="approvals-count"]').text == \
        "Approvals: 0 of 1 needed. Still needed: 1."
    comment = "Solid plan " + uniq("c")
    fill(b, "#approve-comment", comment)
    submit(b, "approve-form")
    status_says(b, "The application is now approved, and €300.00 is set aside")
    got = api.ok("grant.get", {"grant_id": g["grant_id"]})
    assert got["status"] == "approved" and got["committed"] == "300.00", got
    assert [(a["principal_id"], a["comment"]) for a in got["approvals"]] == \
        [(world["a1"]["principal_id"], comment)]
    b.wait_text('[data-test="grant-details"] [data-col="status"]', "Approved")
    row = '[data-test="decision-row"][data-principal-id="%s"]' % world["a1"]["principal_id"]
    assert comment in b.find(row).text
    # back on the queue it is no longer listed
    queue_of_fund(b, f)
    assert b.find_all('[data-test="queue-row"][data-grant-id="%s"]' % g["grant_id"]) == []
    clean(b)


def test_two_approvals_above_the_funds_limit(as_approver, world, api):
    b = as_approver
    g = apply(api, world["dual"], "150.00")
    assert g["approvals_needed"] == 2
    grant_page(b, g["grant_id"])
    assert b.find('[data-test="approvals-count"]').text == \
        "Approvals: 0 of 2 needed. Still needed: 2."
    submit(b, "approve-form")
    status_says(b, "Your approval is recorded. Approvals still needed: 1.")
    b.wait_text('[data-test="approvals-count"]', "Approvals: 1 of 2 needed. Still needed: 1.")
    got = api.ok("grant.get", {"grant_id": g["grant_id"]})
    assert got["status"] == "submitted" and len(got["approvals"]) == 1, got
    assert got["approvals"][0]["principal_id"] == world["a1"]["principal_id"]
    # its decision is made: no form any more
    b.wait('[data-test="already-decided"]')
    assert b.find_all('[data-test="approve-form"]') == []
    clean(b)


def test_approver_rejects_with_a_reason(as_approver, world, api):
    b = as_approver
    g = apply(api, world["fund"], "200.00")
    grant_page(b, g["grant_id"])
    # no reason: the field is marked, in words
    submit(b, "reject-form")
    b.wait('#reject-reason[aria-invalid="true"]')
    assert b.find("#reject-reason-error").text.strip()
    assert api.ok("grant.get", {"grant_id": g["grant_id"]})["status"] == "submitted"
    reason = "Outside the programme's regions " + uniq("r")
    fill(b, "#reject-reason", reason)
    submit(b, "reject-form")
    status_says(b, "Rejected. The application is closed")
    got = api.ok("grant.get", {"grant_id": g["grant_id"]})
    assert got["status"] == "rejected" and got["approvals"] == [], got
    assert [(d["principal_id"], d["decision"]) for d in got["decisions"]] == \
        [(world["a1"]["principal_id"], "reject")]
    assert got["reason"] == reason, got
    b.wait_text('[data-test="grant-details"] [data-col="status"]', "Rejected")
    assert reason in b.find('[data-test="decisions-table"]').text
    clean(b)


def test_the_creator_of_an_application_cannot_approve_it(browsers, daemon, world, api):
    aa = world["aa"]
    g = call(daemon, aa["token"], "grant.apply", {
        "returnee_id": world["returnee"]["returnee_id"], "fund": world["fund"]["code"],
        "amount": "120.00", "category": "housing", "purpose": "Roof repair " + uniq("p")})
    b = browsers("grants-admin-approver")
    b.sign_in(aa["token"])
    grant_page(b, g["grant_id"])
    b.wait('[data-test="own-application"]')
    submit(b, "approve-form")
    err = b.wait('[data-test="approve-form"] [data-test="form-error"]').text
    assert "You cannot decide on an application you made" in err, err
    assert "-32011" not in err and "self_approval" not in err
    status_says(b, "You cannot decide on an application you made")
    got = api.ok("grant.get", {"grant_id": g["grant_id"]})
    assert got["status"] == "submitted" and got["approvals"] == [], got
    assert b.problems() == [], b.problems()


# ------------------------------------------------------------------------------ milestones, tranches


def test_milestone_evidence_and_a_tranche_through_the_ui(as_admin, as_approver, world, api,
                                                        daemon):
    a, p = as_admin, as_approver
    g = apply(api, world["fund"], "400.00")
    call(daemon, world["a2"]["token"], "grant.approve", {"grant_id": g["grant_id"]})
    grant_page(a, g["grant_id"])
    # a milestone
    a.wait('[data-test="milestone-form"]')
    a.js("document.getElementById('milestone-due').value = arguments[0];", "2030-06-30")
    evidence = "Receipts for the seedlings " + uniq("e")
    fill(a, "#milestone-evidence", evidence)
    fill(a, "#milestone-amount", "150.00")
    submit(a, "milestone-form")
    status_says(a, "Milestone added")
    ms = api.ok("milestone.list", {"grant_id": g["grant_id"]})["milestones"]
    assert [(m["due_on"], m["evidence_required"], m["amount"], m["status"]) for m in ms] == \
        [("2030-06-30", evidence, "150.00", "open")]
    mid = ms[0]["milestone_id"]
    row = '[data-test="milestone-row"][data-milestone-id="%s"]' % mid
    a.wait(row)
    assert a.find(row + ' [data-col="amount"]').text == "€150.00"
    # its evidence, a PDF
    with tempfile.NamedTemporaryFile(suffix=".pdf", prefix="receipts-", delete=False) as tmp:
        tmp.write(PDF)
    try:
        a.wait('[data-test="evidence-form"]')
        Select(a.find("#evidence-milestone")).select_by_value(mid)
        a.find("#evidence-files").send_keys(tmp.name)
        a.wait_text('[data-test="evidence-chosen"]', os.path.basename(tmp.name))
        fill(a, "#evidence-note", "All receipts")
        submit(a, "evidence-form")
        status_says(a, "was sent")
    finally:
        os.unlink(tmp.name)
    m = api.ok("milestone.get", {"milestone_id": mid})
    assert m["status"] == "submitted" and len(m["document_ids"]) == 1 and m["note"] == "All receipts", m
    doc = api.ok("document.get", {"document_id": m["document_ids"][0]})
    assert doc["content_type"] == "application/pdf" and doc["size"] == len(PDF), doc
    # the admin who sent it may not accept it
    a.wait('[data-test="own-evidence"]')
    assert a.find_all('[data-test="accept-evidence-form"]') == []
    # an approver downloads the document and accepts the evidence
    grant_page(p, g["grant_id"])
    btn = '[data-test="document-download"][data-document-id="%s"]' % doc["document_id"]
    p.wait(btn).click()
    files = p.downloaded()
    assert doc["filename"] in files, files
    with open(files[doc["filename"]], "rb") as fh:
        assert fh.read() == PDF
    Select(p.find("#accept-milestone")).select_by_value(mid)
    submit(p, "accept-evidence-form")
    status_says(p, "its tranche of €150.00 may be paid")
    assert api.ok("milestone.get", {"milestone_id": mid})["status"] == "accepted"
    # a tranche for it, created by the admin (the page still open: refreshed)
    a.find('[data-test="refresh"]').click()
    a.wait('%s [data-status="accepted"]' % row)
    a.wait("#tranche-milestone")
    assert "€400.00" in a.find("#tranche-amount-help").text
    fill(a, "#tranche-amount", "150.00")
    Select(a.find("#tranche-milestone")).select_by_value(mid)
    fill(a, "#tranche-reference", "WEB-" + uniq("t"))
    submit(a, "tranche-form")
    status_says(a, "Tranche of €150.00 created")
    ds = api.ok("disbursement.list", {"grant_id": g["grant_id"]})["disbursements"]
    assert [(d["amount"], d["status"], d["milestone_id"]) for d in ds] == \
        [("150.00", "pending", mid)]
    trow = '[data-test="tranche-row"][data-disbursement-id="%s"]' % ds[0]["disbursement_id"]
    a.wait(trow)
    assert a.find(trow + ' [data-col="status"] [data-status]').get_attribute("data-status") == \
        "pending"
    assert a.find(trow + ' [data-col="amount"]').text == "€150.00"
    # more than is left of the grant: said in words
    fill(a, "#tranche-amount", "300.00")
    submit(a, "tranche-form")
    a.wait('[data-test="tranche-form"] [data-test="form-error"], '
           '#tranche-amount[aria-invalid="true"]')
    said = a.find("#status").text
    assert said.strip() and "-32009" not in said, said
    assert len(api.ok("disbursement.list", {"grant_id": g["grant_id"]})["disbursements"]) == 1
    clean(a)
    clean(p)


def test_correcting_withdrawing_an_application(as_admin, world, api):
    b = as_admin
    g = apply(api, world["fund"], "250.00")
    grant_page(b, g["grant_id"])
    fill(b, "#update-amount", "275.00")
    submit(b, "update-form")
    status_says(b, "The application was corrected")
    assert api.ok("grant.get", {"grant_id": g["grant_id"]})["amount"] == "275.00"
    b.wait('[data-test="history-row"]')
    assert "€250.00 → €275.00" in b.find('[data-test="history-table"]').text
    reason = "The beneficiary found a job " + uniq("w")
    fill(b, "#withdraw-reason", reason)
    submit(b, "withdraw-form")
    status_says(b, "The application was withdrawn.")
    got = api.ok("grant.get", {"grant_id": g["grant_id"]})
    assert got["status"] == "withdrawn" and got["reason"] == reason, got
    b.wait_text('[data-test="grant-details"] [data-col="status"]', "Withdrawn")
    clean(b)


# ------------------------------------------------------------------------------ languages


def test_each_page_in_each_language(as_admin, as_approver, world, api, daemon):
    f = world["fund"]
    g = apply(api, f, "180.00", returnee=world["returnee"])
    api.ok("grant.add_milestone", {"grant_id": g["grant_id"], "due_on": "2020-01-31",
                                   "evidence_required": "Photos", "amount": "80.00"})
    a, p = as_admin, as_approver
    listed = "#/grants?apply=1&fund=" + f["code"]
    for lang in LANGS:
        a.go(listed, '[data-test="grant-row"][data-grant-id="%s"]' % g["grant_id"], lang=lang)
        a.wait('[data-test="apply-form"]')
        a.shot("grants-" + lang)
        clean(a)
        assert a.axe(impacts=None) == []
        grant_page(a, g["grant_id"], lang=lang)
        a.wait('[data-test="milestone-row"] [data-test="overdue"]')
        a.wait('[data-test="update-form"]')
        a.shot("grant-admin-" + lang)
        clean(a)
        assert a.axe(impacts=None) == []
        grant_page(p, g["grant_id"], lang=lang)
        p.wait('[data-test="approve-form"]')
        p.shot("grant-approver-" + lang)
        clean(p)
        assert p.axe(impacts=None) == []
        p.go("#/queue", '[data-test="queue-filters"]', lang=lang)
        p.wait('[data-test="grant-link"], [data-test="queue-table-empty"]')
        clean(p)
    # the labels follow the language: Armenian and Russian are not English
    assert a.find('[data-test="update-form-submit"]').text != "Save the correction"
    a.go("#/grants", '[data-test="grants-filters"]', lang="en")
    p.go("#/queue", '[data-test="queue-filters"]', lang="en")
