"""The console's money pages (docs/web.md): partners, contributions, a contribution's own
page with what it paid for, transfers between funds and earnings, in a real browser against
the real daemon and database. Every action is done through the page and its effect checked
through the API; each page is opened in each language."""

import re
from urllib.parse import parse_qs

import pytest
from selenium.webdriver.support.ui import Select

from fl.client import call, create_principal
from fl.env import uniq
from fl.grants import new_returnee
from fl.ledger import new_fund, new_partner

LANGS = ("en", "hy", "ru")


def plain(text):
    """The text as shown, no-break spaces read as spaces."""
    return re.sub("[\u00a0\u202f]", " ", text)


@pytest.fixture(scope="module")
def world(daemon, admin, api, approver):
    """An EUR fund that received 1,000.00 from a partner and paid a 400.00 grant in Shirak
    from it; an AMD fund; a second partner with a contribution of its own; a second admin
    (the checker) and a partner principal."""
    f = new_fund(api, dual="100000")
    f2 = new_fund(api, currency="AMD", dual="100000000")
    p = new_partner(api, country="FR")
    other = new_partner(api, country="US")
    c = api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                        "amount": "1000.00", "currency": "EUR",
                                        "received_at": "2026-01-02"})
    oc = api.ok("contribution.receive", {"partner_id": other["partner_id"], "fund": f["code"],
                                         "amount": "70.00", "currency": "EUR"})
    checker = create_principal(daemon, admin, ["admin"], name=uniq("Checker"))
    r = new_returnee(api, region="AM-SH", full_name="Secret Returnee " + uniq("n"))
    g = api.ok("grant.apply", {"returnee_id": r["returnee_id"], "fund": f["code"],
                               "amount": "400.00", "category": "agriculture",
                               "purpose": "an orchard"})
    call(daemon, approver["token"], "grant.approve", {"grant_id": g["grant_id"]})
    d = api.ok("disbursement.create", {"grant_id": g["grant_id"], "amount": "400.00"})
    call(daemon, checker["token"], "disbursement.confirm",
         {"disbursement_id": d["disbursement_id"], "bank_ref": uniq("PAY")})
    part = create_principal(daemon, admin, ["partner"], name=uniq("PartnerUser"),
                            partner_id=p["partner_id"])
    return {"fund": f, "fund2": f2, "partner": p, "other": other, "paid": c, "other_c": oc,
            "returnee": r, "grant": g, "checker": checker, "partner_user": part}


@pytest.fixture(scope="module")
def ab(browsers, admin):
    b = browsers("money-admin")
    return signed_in(b, admin)


def signed_in(b, token):
    """Signs in; what the sign-in screen logged is not the money pages' (forgotten)."""
    b.sign_in(token)
    b.console()
    b.logs = []
    return b


def open_form(b, route, ready):
    """Opens a page in English and waits for `ready`."""
    return b.go(route, ready, lang="en")


def hash_id(b):
    return parse_qs(b.js("return location.hash;").split("?", 1)[1])["id"][0]


def test_pages_in_each_language(ab, world):
    pid = world["partner"]["partner_id"]
    cid = world["paid"]["contribution_id"]
    pages = [
        ("#/partners", '[data-test="partners-table"]'),
        ("#/partner?id=" + pid, '[data-test="partner-details"]'),
        ("#/contributions?partner=" + pid, '[data-test="contribution-row"]'),
        ("#/contribution?id=" + cid, '[data-test="allocations-table"]'),
        ("#/transfers?fund=" + world["fund"]["code"], '[data-test="transfers-filters"]'),
    ]
    try:
        for lang in LANGS:
            for route, ready in pages:
                ab.go(route, ready, lang=lang)
                name = route.strip("#/").split("?")[0]
                ab.shot("%s-%s" % (name, lang))
                assert ab.visible_keys() == [], (route, lang, ab.visible_keys())
                assert ab.problems() == [], (route, lang, ab.problems())
        # the admin's forms too, in Armenian
        ab.go("#/contributions", '[data-test="contribution-receive-open"]', lang="hy")
        ab.find('[data-test="contribution-receive-open"]').click()
        ab.wait('form[data-test="contribution-receive"]')
        ab.go("#/transfers", '[data-test="earnings-record-open"]')
        ab.find('[data-test="transfer-create-open"]').click()
        ab.wait('form[data-test="transfer-create"]')
        ab.shot("transfers-form-hy")
        assert ab.visible_keys() == [], ab.visible_keys()
        assert ab.problems() == [], ab.problems()
    finally:
        Select(ab.find("#lang")).select_by_value("en")
        ab.wait('html[lang="en"]')


def test_a_receipt_in_another_currency_with_rate_and_fee(ab, world, api):
    p, f = world["partner"], world["fund"]
    open_form(ab, "#/contributions?partner=%s&form=receive" % p["partner_id"],
              'form[data-test="contribution-receive"]')
    assert ab.find("#receive-partner").get_attribute("value") == p["partner_id"]
    Select(ab.find("#receive-fund")).select_by_value(f["code"])
    # choosing the fund fills in its currency; the money came in dollars
    assert ab.find("#receive-currency").get_attribute("value") == "EUR"
    ab.find("#receive-currency").clear()
    ab.find("#receive-currency").send_keys("USD")
    ab.find("#receive-amount").send_keys("500.00")
    ab.find("#receive-fx").send_keys("0.9265")
    ab.find("#receive-fee").send_keys("1.50")
    Select(ab.find("#receive-earmark")).select_by_value("AM-SH")
    ref = uniq("SWIFT")
    ab.find("#receive-bankref").send_keys(ref)
    ab.find('[data-test="contribution-receive-submit"]').click()
    ab.wait('[data-test="contribution-details"]')
    cid = hash_id(ab)
    c = api.ok("contribution.get", {"contribution_id": cid})
    assert (c["status"], c["partner_id"], c["fund"]) == ("received", p["partner_id"], f["code"])
    assert (c["amount"], c["currency"], c["fx_rate"]) == ("500.00", "USD", "0.9265")
    assert (c["fund_amount"], c["fund_currency"], c["fee"]) == ("463.25", "EUR", "1.50")
    assert (c["earmark_region_code"], c["bank_ref"]) == ("AM-SH", ref)
    details = '[data-test="contribution-details"] '
    assert plain(ab.find(details + '[data-col="amount"]').text) == "$500.00"
    assert plain(ab.find(details + '[data-col="fund_amount"]').text) == "€463.25"
    assert plain(ab.find(details + '[data-col="fee"]').text) == "€1.50"
    assert "1 USD = 0.9265 EUR" in ab.find(details + '[data-col="fx_rate"]').text
    assert cid in ab.find("#status").text
    assert ab.problems() == [], ab.problems()


def test_an_invalid_amount_is_marked_and_records_nothing(ab, world, api):
    p, f = world["partner"], world["fund"]
    before = api.ok("contribution.list", {"partner_id": p["partner_id"], "limit": 1000})
    open_form(ab, "#/contributions?partner=%s&form=receive" % p["partner_id"],
              'form[data-test="contribution-receive"]')
    Select(ab.find("#receive-fund")).select_by_value(f["code"])
    ab.find("#receive-amount").send_keys("12,50")
    ab.find('[data-test="contribution-receive-submit"]').click()
    ab.wait('#receive-amount[aria-invalid="true"]')
    msg = ab.wait("#receive-amount-error").text
    assert msg.strip() and "-32602" not in msg and "bad_format" not in msg, msg
    assert ab.find("#receive-amount").get_attribute("aria-describedby").endswith("receive-amount-error")
    after = api.ok("contribution.list", {"partner_id": p["partner_id"], "limit": 1000})
    assert len(after["contributions"]) == len(before["contributions"])
    ab.shot("receive-invalid-amount-en")


def test_a_pledge_received_in_parts_then_written_off(ab, world, api):
    p, f = world["partner"], world["fund"]
    open_form(ab, "#/contributions?partner=%s&form=pledge" % p["partner_id"],
              'form[data-test="contribution-pledge"]')
    Select(ab.find("#pledge-fund")).select_by_value(f["code"])
    ab.find("#pledge-amount").send_keys("1000.00")
    ab.find('[data-test="contribution-pledge-submit"]').click()
    ab.wait('[data-test="contribution-details"] [data-status="pledged"]')
    cid = hash_id(ab)
    c = api.ok("contribution.get", {"contribution_id": cid})
    assert (c["status"], c["amount"], c["currency"], c["outstanding"]) == \
        ("pledged", "1000.00", "EUR", "1000.00")
    # a part of it arrives
    ab.find('[data-test="contribution-receive-part-open"]').click()
    ab.wait("#part-amount").send_keys("400.00")
    ab.find("#part-fee").send_keys("2.00")
    ab.find('[data-test="contribution-receive-part-submit"]').click()
    ab.wait('[data-test="receipt-row"]')
    ab.wait_text('[data-test="contribution-details"] [data-col="outstanding"]', "600.00")
    c = api.ok("contribution.get", {"contribution_id": cid})
    assert (c["status"], c["received"], c["outstanding"], c["fee"]) == \
        ("pledged", "400.00", "600.00", "2.00")
    assert [(r["amount"], r["fee"]) for r in c["receipts"]] == [("400.00", "2.00")]
    assert "600.00" in ab.find("#status").text
    # the rest is written off: without a reason first
    ab.find('[data-test="contribution-write-off-open"]').click()
    ab.wait('form[data-test="contribution-write-off"]')
    warning = ab.find('form[data-test="contribution-write-off"]').text
    assert "€600.00" in plain(warning) and "€400.00" in plain(warning), warning
    ab.find('[data-test="contribution-write-off-submit"]').click()
    ab.wait('#write-off-reason[aria-invalid="true"]')
    assert api.ok("contribution.get", {"contribution_id": cid})["status"] == "pledged"
    ab.find("#write-off-reason").send_keys("The partner cannot pay the rest")
    ab.find('[data-test="contribution-write-off-submit"]').click()
    ab.wait('[data-test="contribution-details"] [data-status="written_off"]')
    c = api.ok("contribution.get", {"contribution_id": cid})
    assert (c["status"], c["write_off_reason"], c["received"]) == \
        ("written_off", "The partner cannot pay the rest", "400.00")
    # nothing more can be done with it
    assert ab.find_all('[data-test="contribution-actions"]') == []


def test_a_receipt_reversed_with_its_reason(ab, world, api):
    c = api.ok("contribution.receive", {"partner_id": world["partner"]["partner_id"],
                                        "fund": world["fund"]["code"], "amount": "50.00",
                                        "currency": "EUR"})
    cid = c["contribution_id"]
    open_form(ab, "#/contribution?id=" + cid, '[data-test="contribution-reverse-open"]')
    # a direct receipt is reversed, never cancelled or written off
    assert ab.find_all('[data-test="contribution-cancel-open"]') == []
    ab.find('[data-test="contribution-reverse-open"]').click()
    form = ab.wait('form[data-test="contribution-reverse"]')
    assert "cannot be undone" in form.text and "€50.00" in plain(form.text), form.text
    ab.find("#reverse-reason").send_keys("Recorded twice")
    ab.find('[data-test="contribution-reverse-submit"]').click()
    ab.wait('[data-test="contribution-details"] [data-status="reversed"]')
    got = api.ok("contribution.get", {"contribution_id": cid})
    assert (got["status"], got["reverse_reason"]) == ("reversed", "Recorded twice")
    assert got["reversal_entry_id"]
    assert ab.find('[data-test="contribution-details"] [data-col="reverse_reason"]').text == \
        "Recorded twice"


def test_a_partner_created_found_and_corrected(ab, api):
    name = "Hakobyan Diaspora " + uniq("x")
    open_form(ab, "#/partners", '[data-test="partner-create-open"]')
    ab.find('[data-test="partner-create-open"]').click()
    ab.wait("#new-partner-name").send_keys(name)
    ab.find("#new-partner-country").send_keys("FR")
    Select(ab.find("#new-partner-kind")).select_by_value("organisation")
    ab.find("#new-partner-email").send_keys("office@example.org")
    ab.find('[data-test="partner-create-submit"]').click()
    ab.wait('[data-test="partner-details"]')
    pid = hash_id(ab)
    p = api.ok("partner.get", {"partner_id": pid})
    assert (p["name"], p["country"], p["kind"], p["email"]) == \
        (name, "FR", "organisation", "office@example.org")
    assert ab.find("#page-title").text == name
    assert ab.find('[data-test="partner-history-table-empty"]')
    # corrected: the name and the country
    ab.find('[data-test="partner-update-open"]').click()
    new_name = name + " Foundation"
    ab.wait("#edit-partner-name").clear()
    ab.find("#edit-partner-name").send_keys(new_name)
    ab.find("#edit-partner-country").clear()
    ab.find("#edit-partner-country").send_keys("BE")
    ab.find('[data-test="partner-update-submit"]').click()
    ab.wait('[data-test="history-row"][data-field="name"]')
    hist = api.ok("partner.history", {"partner_id": pid})["history"]
    assert len(hist) == 1, hist
    assert sorted(hist[0]["fields"]) == ["country", "name"]
    assert hist[0]["old"] == {"name": name, "country": "FR"}
    assert hist[0]["new"] == {"name": new_name, "country": "BE"}
    row = '[data-test="history-row"][data-field="name"] '
    assert ab.find(row + '[data-col="old"]').text == name
    assert ab.find(row + '[data-col="new"]').text == new_name
    assert ab.find("#page-title").text == new_name
    # found by a word of its name
    word = new_name.split()[-2]
    ab.go("#/partners", "#partner-search-name")
    ab.find("#partner-search-name").send_keys(word)
    ab.find('[data-test="partner-search-submit"]').click()
    ab.wait('[data-test="partner-row"][data-partner-id="%s"]' % pid)
    assert len(ab.find_all('[data-test="partner-row"]')) == 1
    assert ab.problems() == [], ab.problems()


def test_a_transfer_made_by_one_admin_is_confirmed_by_another(ab, browsers, world, api):
    f, f2 = world["fund"], world["fund2"]
    open_form(ab, "#/transfers", '[data-test="transfer-create-open"]')
    ab.find('[data-test="transfer-create-open"]').click()
    Select(ab.wait("#transfer-from")).select_by_value(f["code"])
    Select(ab.find("#transfer-to")).select_by_value(f2["code"])
    ab.find("#transfer-amount").send_keys("10.00")
    ab.find("#transfer-fx").send_keys("420.5")
    memo = uniq("Q3 surplus")
    ab.find("#transfer-memo").send_keys(memo)
    ab.find('[data-test="transfer-create-submit"]').click()
    ab.wait('[data-test="transfer-row"] [data-status="pending"]')
    made = api.ok("fund.transfer_list", {"fund": f["code"], "status": "pending"})["transfers"]
    made = [t for t in made if t["memo"] == memo]
    assert len(made) == 1, made
    tid = made[0]["transfer_id"]
    assert (made[0]["amount"], made[0]["to_amount"], made[0]["to_currency"]) == \
        ("10.00", "4205.00", "AMD")
    row = '[data-test="transfer-row"][data-transfer-id="%s"]' % tid
    ab.wait(row)
    # its maker cannot confirm it (four eyes): no button, a sentence instead
    assert ab.find_all(row + ' [data-test="transfer-confirm-open"]') == []
    assert ab.find(row + ' [data-col="actions"]').text.strip()
    b2 = signed_in(browsers("money-checker"), world["checker"]["token"])
    b2.go("#/transfers?fund=%s&status=pending" % f["code"], row + ' [data-test="transfer-confirm-open"]')
    b2.find(row + ' [data-test="transfer-confirm-open"]').click()
    form = b2.wait('form[data-test="transfer-confirm"]')
    assert "4,205.00" in plain(form.text), form.text
    b2.find('[data-test="transfer-confirm-submit"]').click()
    b2.wait(row + ' [data-status="confirmed"]')
    got = api.ok("fund.transfer_get", {"transfer_id": tid})
    assert got["status"] == "confirmed"
    assert got["decided_by"] == world["checker"]["principal_id"]
    assert got["out_entry_id"] and got["in_entry_id"]
    b2.shot("transfer-confirmed-en")
    assert b2.problems() == [], b2.problems()


def test_earnings_recorded(ab, world, api):
    f = world["fund"]
    before = api.ok("fund.balance", {"code": f["code"]})["earnings"]
    open_form(ab, "#/transfers", '[data-test="earnings-record-open"]')
    ab.find('[data-test="earnings-record-open"]').click()
    Select(ab.wait("#earnings-fund")).select_by_value(f["code"])
    ab.find("#earnings-amount").send_keys("12.34")
    ab.find("#earnings-period").send_keys("2026-Q4")
    ab.find('[data-test="earnings-record-submit"]').click()
    ab.wait_text("#status", "€12.34")
    after = api.ok("fund.balance", {"code": f["code"]})["earnings"]
    cents = lambda s: int(s.replace(".", ""))  # noqa: E731
    assert cents(after) - cents(before) == 1234, (before, after)
    assert ab.find_all('form[data-test="earnings-record"]') == []


def test_the_partner_sees_its_own_and_what_it_paid_for(browsers, world, daemon):
    b = signed_in(browsers("money-partner"), world["partner_user"]["token"])
    token = world["partner_user"]["token"]
    own = call(daemon, token, "contribution.list", {"limit": 1000})["contributions"]
    assert own and all(c["partner_id"] == world["partner"]["partner_id"] for c in own)
    b.go("#/contributions", '[data-test="contribution-row"]', lang="en")
    shown = {e.get_attribute("data-contribution-id")
             for e in b.find_all('[data-test="contribution-row"]')}
    assert shown == {c["contribution_id"] for c in own}
    assert world["other_c"]["contribution_id"] not in shown
    # no staff filters, no forms
    assert b.find_all("#filter-partner") == [] and b.find_all("#filter-fund") == []
    assert b.find_all('[data-test="contribution-receive-open"]') == []
    assert b.find("#nav-contributions").text == "My contributions"
    assert b.find_all("#nav-partners") == [] and b.find_all("#nav-transfers") == []
    for lang in LANGS:
        b.go("#/contribution?id=" + world["paid"]["contribution_id"],
             '[data-test="allocation-row"]', lang=lang)
        rows = b.find_all('[data-test="allocation-row"]')
        assert len(rows) == 1
        assert rows[0].get_attribute("data-grant-id") == world["grant"]["grant_id"]
        amount = plain(rows[0].find_element("css selector", '[data-col="amount"]').text)
        assert amount == {"en": "€400.00", "hy": "400,00 €", "ru": "400,00 €"}[lang]
        assert b.find('[data-test="allocations-chart"]')
        used = plain(b.find('[data-test="paid-for-figures"] [data-col="used"]').text)
        assert used.replace(" ", "").replace(",", ".").strip("€") == "400.00", used
        assert b.find_all('[data-test="contribution-actions"]') == []
        b.shot("contribution-partner-%s" % lang)
        assert b.visible_keys() == [], (lang, b.visible_keys())
        assert b.problems() == [], (lang, b.problems())
        # what it paid for names no person
        source = b.js("return document.documentElement.outerHTML;")
        assert world["returnee"]["full_name"] not in source
        assert world["returnee"]["returnee_id"] not in source
    b.go("#/contributions", '[data-test="contribution-row"]', lang="en")
    # another partner's contribution is not found
    b.go("#/contribution?id=" + world["other_c"]["contribution_id"], '[data-test="error"]')
    assert "contribution_not_found" in b.find('[data-test="error"]').text
