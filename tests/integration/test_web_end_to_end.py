"""The programme's whole path through the web console, each person as their role in a browser
session of their own (docs/web.md), every effect checked through the API:

an administrator records a receipt in dollars into a euro fund, registers a beneficiary and
applies for a grant above the fund's dual-approval threshold; the creator (an approver too)
cannot approve it; two approvers approve it from their queues, the first seeing it leave its
queue; the administrator creates a tranche and a second administrator confirms it; the partner
sees what its contribution paid for; the auditor downloads the ledger CSV and the audit trail,
and the downloaded audit file verifies offline with `fundctl audit verify`."""

import csv
import io
import os
import subprocess

import pytest
from selenium.webdriver.support.ui import Select, WebDriverWait

from fl.browser import fill
from fl.client import create_principal
from fl.env import ROOT, uniq
from fl.ledger import new_fund, new_partner

FUNDCTL = os.path.join(ROOT, "bin", "fundctl")


@pytest.fixture(scope="module")
def people(daemon, admin, api):
    """The fund (two approvals above 1,000.00), the partner, and one principal per person."""
    fund = new_fund(api, currency="EUR", dual="1000")
    partner = new_partner(api, name=uniq("Diaspora Union"), country="FR")

    def who(roles, name, **kw):
        return create_principal(daemon, admin, roles, name=uniq(name), **kw)

    return {
        "fund": fund, "partner": partner,
        "maker": who(["admin", "approver"], "Ani Maker"),
        "checker": who(["admin"], "Vardan Checker"),
        "approver1": who(["approver"], "Approver One"),
        "approver2": who(["approver"], "Approver Two"),
        "auditor": who(["auditor"], "Auditor"),
        "donor": who(["partner"], "Donor", partner_id=partner["partner_id"]),
    }


def hash_id(b):
    return b.js("return new URLSearchParams(location.hash.split('?')[1]).get('id');")


def until(b, check, timeout=20):
    WebDriverWait(b.driver, timeout).until(lambda d: check())


def clean(b):
    assert b.visible_keys() == [], b.visible_keys()
    assert b.problems() == [], b.problems()


def approve_from_queue(b, fund, grant_id, comment):
    """From the approver's queue (filtered to the fund), open the application and approve it."""
    b.go("#/queue", "#filter-fund", lang="en")
    Select(b.find("#filter-fund")).select_by_value(fund["code"])
    b.find('[data-test="apply-filters"]').click()
    link = '[data-test="queue-row"][data-grant-id="%s"] a[data-test="grant-link"]' % grant_id
    b.wait(link).click()
    b.wait_text("#page-title", grant_id)
    b.wait('[data-test="approve-form"]')
    fill(b, "#approve-comment", comment)
    b.find('[data-test="approve-form-submit"]').click()
    # the decision is taken: the form is gone
    b.wait_gone('[data-test="approve-form"]')


def test_a_receipt_a_grant_two_approvals_a_tranche_its_use_and_the_audit(
        browsers, people, api, env):
    fund, partner = people["fund"], people["partner"]

    # --- the administrator: a receipt in dollars, with the rate and the bank's fee
    maker = browsers("e2e-maker")
    maker.sign_in(people["maker"]["token"])
    maker.go("#/contributions?partner=%s&form=receive" % partner["partner_id"],
             'form[data-test="contribution-receive"]', lang="en")
    Select(maker.find("#receive-fund")).select_by_value(fund["code"])
    fill(maker, "#receive-currency", "USD")
    fill(maker, "#receive-amount", "5000.00")
    fill(maker, "#receive-fx", "0.9265")
    fill(maker, "#receive-fee", "12.00")
    maker.find('[data-test="contribution-receive-submit"]').click()
    maker.wait('[data-test="contribution-details"]')
    cid = hash_id(maker)
    c = api.ok("contribution.get", {"contribution_id": cid})
    assert (c["status"], c["amount"], c["currency"], c["fund_amount"], c["fund_currency"],
            c["fee"]) == ("received", "5000.00", "USD", "4632.50", "EUR", "12.00"), c
    maker.shot("1-receipt-en")

    # --- registers a beneficiary
    name = "Gayane " + uniq("Hakobyan").replace("-", "")
    maker.go("#/returnees", '[data-test="register-form"]')
    fill(maker, "#p-full_name", name)
    Select(maker.find("#p-region")).select_by_value("AM-GR")
    fill(maker, "#p-returned_from", "RU")
    maker.js("arguments[0].value = '2025-09-01';", maker.find("#p-returned_on"))
    Select(maker.find("#p-kind")).select_by_value("returnee")
    Select(maker.find("#p-gender")).select_by_value("female")
    fill(maker, "#p-birth_year", "1987")
    nid = "AM" + uniq("E2E").upper().replace("-", "")
    fill(maker, "#p-national_id", nid)
    maker.find('[data-test="register-form-submit"]').click()
    rid = maker.wait('[data-test="registered-link"]').get_attribute("data-returnee-id")
    assert api.ok("returnee.get", {"returnee_id": rid})["full_name"] == name

    # --- applies for a grant above the dual-approval threshold
    maker.go("#/grants", '[data-test="grants-filters"]')
    maker.find('[data-test="show-apply"]').click()
    # found by the national id (a search matches whole names and national ids only)
    fill(maker, "#lookup-query", nid)
    maker.find('[data-test="returnee-find"]').click()
    row = '[data-test="returnee-row"][data-returnee-id="%s"]' % rid
    maker.wait(row + ' [data-test="returnee-pick"]').click()
    maker.wait_text('[data-test="picked-returnee"]', name)
    Select(maker.find("#apply-fund")).select_by_value(fund["code"])
    Select(maker.find("#apply-category")).select_by_value("small_business")
    fill(maker, "#apply-amount", "1500.00")
    fill(maker, "#apply-purpose", "A bakery in Gavar " + uniq("p"))
    maker.find('[data-test="apply-form-submit"]').click()
    maker.wait('[data-test="grant-details"]')
    gid = hash_id(maker)
    g = api.ok("grant.get", {"grant_id": gid})
    assert (g["status"], g["amount"], g["approvals_needed"], g["returnee_id"]) == \
        ("submitted", "1500.00", 2, rid), g

    # --- its creator is an approver too, and cannot approve it
    maker.wait('[data-test="own-application"]')
    maker.find('[data-test="approve-form-submit"]').click()
    err = maker.wait('[data-test="approve-form"] [data-test="form-error"]').text
    assert "You cannot decide on an application you made" in err, err
    assert api.ok("grant.get", {"grant_id": gid})["approvals"] == []
    maker.shot("2-own-application-en")
    clean(maker)

    # --- two approvers approve it from their queues; the first sees it leave its queue
    first = browsers("e2e-approver1")
    first.sign_in(people["approver1"]["token"])
    approve_from_queue(first, fund, gid, "Viable plan, local market checked")
    g = api.ok("grant.get", {"grant_id": gid})
    assert g["status"] == "submitted" and len(g["approvals"]) == 1, g
    first.go("#/queue", "#filter-fund")
    Select(first.find("#filter-fund")).select_by_value(fund["code"])
    first.find('[data-test="apply-filters"]').click()
    first.wait('[data-test="queue-table-empty"], [data-test="queue-table"]')
    until(first, lambda: not first.find_all(
        '[data-test="queue-row"][data-grant-id="%s"]' % gid))
    first.shot("3-queue-after-approval-en")
    clean(first)

    second = browsers("e2e-approver2")
    second.sign_in(people["approver2"]["token"])
    approve_from_queue(second, fund, gid, "Agreed")
    second.wait_text('[data-test="grant-details"] [data-col="status"]', "Approved")
    g = api.ok("grant.get", {"grant_id": gid})
    assert g["status"] == "approved" and g["committed"] == "1500.00", g
    assert {a["principal_id"] for a in g["approvals"]} == {
        people["approver1"]["principal_id"], people["approver2"]["principal_id"]}
    clean(second)

    # --- the administrator creates a tranche; a second administrator confirms it
    # (the maker's page is still the application's: Refresh shows it approved)
    maker.find('[data-test="refresh"]').click()
    maker.wait('[data-test="tranche-form"]')
    fill(maker, "#tranche-amount", "600.00")
    maker.find('[data-test="tranche-form-submit"]').click()
    maker.wait_text("#status", "Tranche of €600.00 created")
    ds = api.ok("disbursement.list", {"grant_id": gid})["disbursements"]
    assert [(d["amount"], d["status"]) for d in ds] == [("600.00", "pending")], ds
    did = ds[0]["disbursement_id"]

    checker = browsers("e2e-checker")
    checker.sign_in(people["checker"]["token"])
    checker.go("#/payments", '[data-test="payments-filters"]', lang="en")
    Select(checker.find("#filter-fund")).select_by_value(fund["code"])
    checker.find('[data-test="payments-filters"] [data-test="apply-filters"]').click()
    sel = '[data-test="payment-row"][data-disbursement-id="%s"]' % did
    checker.wait(sel + ' [data-test="confirm-payment"]').click()
    checker.wait('[data-test="confirm-payment-form"]')
    bank_ref = uniq("ARMSWIFT")
    fill(checker, "#pay-bank-ref", bank_ref)
    checker.find('[data-test="confirm-payment-form-submit"]').click()
    checker.wait_text("#status", "confirmed as paid")
    d = api.ok("disbursement.list", {"grant_id": gid})["disbursements"][0]
    assert (d["status"], d["bank_ref"], d["decided_by"]) == \
        ("paid", bank_ref, people["checker"]["principal_id"]), d
    checker.shot("4-payment-confirmed-en")
    clean(checker)

    # --- the partner sees what its contribution paid for: region, category, amount
    donor = browsers("e2e-partner")
    donor.sign_in(people["donor"]["token"])
    mine = '[data-test="use-contribution"][data-contribution-id="%s"]' % cid
    donor.go("#/use", mine, lang="en")
    alloc = mine + ' [data-test="allocation-row"][data-grant-id="%s"]' % gid
    donor.wait(alloc)
    row_text = donor.find(alloc).text
    assert "Gegharkunik" in row_text and "€600.00" in row_text, row_text
    status = api.ok("contribution.status", {"contribution_id": cid})
    assert status["used"] == "600.00", status
    source = donor.driver.page_source
    assert name not in source and rid not in source
    donor.shot("5-partner-use-en")
    clean(donor)

    # --- the auditor downloads the ledger CSV and the audit trail; the trail verifies offline
    auditor = browsers("e2e-auditor")
    auditor.sign_in(people["auditor"]["token"])
    auditor.go("#/audit", '[data-test="download-ledger"]', lang="en")
    auditor.find('[data-test="download-ledger-submit"]').click()
    until(auditor, lambda: any(n.endswith(".csv") for n in auditor.downloaded()), 60)
    auditor.find('[data-test="download-audit-submit"]').click()
    until(auditor, lambda: any(n.endswith(".jsonl") for n in auditor.downloaded()), 120)
    files = auditor.downloaded()
    ledger = next(p for n, p in files.items() if n.endswith(".csv"))
    trail = next(p for n, p in files.items() if n.endswith(".jsonl"))
    with open(ledger, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    ours = [r for r in rows if r["fund"] == fund["code"]]
    kinds = {r["kind"] for r in ours}
    assert {"receipt", "disbursement"} <= kinds, kinds
    assert sum(int(r["amount"].replace(".", "").replace("-", "")) *
               (-1 if r["amount"].startswith("-") else 1) for r in ours) == 0
    command = auditor.find('[data-test="verify-command"]').text
    assert command.startswith("fundctl audit verify "), command
    out = subprocess.run([FUNDCTL, "audit", "verify", trail, "--pubkey",
                          os.path.join(env.tls, "audit-ed25519.pub")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.startswith("ok"), (out.stdout, out.stderr)
    auditor.shot("6-audit-downloads-en")
    clean(auditor)
