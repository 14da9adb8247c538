"""The partner part of the web console in a real browser (docs/web.md): the dashboard (every
fund's figures loaded concurrently, recent activity, charts of one fund), a partner's
"What my contributions paid for" (#/use) and the programme's results (#/results), with a
partner's small cells suppressed. Figures shown are checked against the API's answers; each
page is opened in English, Armenian and Russian with no untranslated key and no console
error."""

import csv
import datetime
import io
import re
import time

import pytest
from selenium.webdriver.support.ui import Select

from fl.client import call, create_principal
from fl.env import uniq
from fl.grants import new_returnee
from fl.ledger import new_fund, new_partner

LANGS = ("en", "hy", "ru")
# the suite's database holds thousands of funds; a run on a fresh one makes them
MIN_FUNDS = 2000


def eur(amount):
    """A EUR decimal string as the console shows it in English: €1,234.50."""
    neg = amount.startswith("-")
    whole, _, frac = amount.lstrip("-").partition(".")
    grouped = "{:,}".format(int(whole))
    return ("-" if neg else "") + "€" + grouped + ("." + frac if frac else "")


def plain(text):
    return re.sub("[\u00a0\u202f]", " ", text).strip()


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def months_ago(n):
    d = today()
    y, m = d.year, d.month - n
    while m < 1:
        m += 12
        y -= 1
    return datetime.date(y, m, 1).isoformat()


def chart_table(b, test, within=""):
    """The rows of a chart's table (for screen readers: not displayed) as (label, text)."""
    return b.js(
        "return [...document.querySelectorAll(arguments[0])].map(tr => "
        "[tr.cells[0].textContent, tr.cells[1].textContent]);",
        (within + ' [data-test="%s"] table tbody tr' % test).strip())


def ensure_many_funds(api):
    """At least MIN_FUNDS funds, as in the whole suite's database."""
    have = len(api.ok("fund.list")["funds"])
    missing = MIN_FUNDS - have
    while missing > 0:
        n = min(100, missing)
        calls = [("fund.create", {"code": uniq("BULK").upper(), "name": "Bulk fund",
                                  "currency": "EUR", "kind": "pass_through",
                                  "dual_approval_above": "1000"}) for _ in range(n)]
        for doc in api.batch(calls):
            assert "result" in doc, doc
        missing -= n


@pytest.fixture(scope="module")
def world(daemon, admin, api):
    """A fund with money from a partner (FR) that has a partner principal; 13 applications in
    three regions (6 in Shirak, 6 in Kotayk, 1 in Lori: a group small enough to be hidden from
    a partner), the one in Lori approved and paid from the partner's first contribution."""
    ensure_many_funds(api)
    f = new_fund(api, dual="100000", prefix="PW")
    p = new_partner(api, country="FR")
    c1 = api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                         "amount": "300.00", "currency": "EUR"})
    c2 = api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                         "amount": "1200.50", "currency": "EUR"})
    part = create_principal(daemon, admin, ["partner"], name=uniq("PartnerUser"),
                            partner_id=p["partner_id"])
    appr = create_principal(daemon, admin, ["approver"], name=uniq("Approver"))
    checker = create_principal(daemon, admin, ["admin"], name=uniq("Checker"))
    auditor = create_principal(daemon, admin, ["auditor"], name=uniq("Auditor"))
    # an endowment in another currency: only its earnings are spent, never its capital
    e = new_fund(api, currency="USD", kind="endowment", dual="100000", prefix="PWE")
    c3 = api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": e["code"],
                                         "amount": "1000.00", "currency": "USD"})
    api.ok("fund.record_earnings", {"code": e["code"], "amount": "100.00",
                                    "period": uniq("P")})
    ge = api.ok("grant.apply", {"returnee_id": new_returnee(api, region="AM-SU")["returnee_id"],
                                "fund": e["code"], "amount": "40.00", "category": "employment",
                                "purpose": "Purpose " + uniq("g")})
    call(daemon, appr["token"], "grant.approve", {"grant_id": ge["grant_id"]})
    de = api.ok("disbursement.create", {"grant_id": ge["grant_id"], "amount": "40.00"})
    call(daemon, checker["token"], "disbursement.confirm",
         {"disbursement_id": de["disbursement_id"], "bank_ref": uniq("PAY")})
    secret = "Secret Person " + uniq("s")
    nid = "NID-" + uniq("n").upper()
    for region, n, category in (("AM-SH", 6, "agriculture"), ("AM-KT", 6, "housing")):
        for i in range(n):
            r = new_returnee(api, region=region)
            api.ok("grant.apply", {"returnee_id": r["returnee_id"], "fund": f["code"],
                                   "amount": "100.00", "category": category,
                                   "purpose": "Purpose " + uniq("g")})
    r = new_returnee(api, region="AM-LO", full_name=secret, national_id=nid)
    g = api.ok("grant.apply", {"returnee_id": r["returnee_id"], "fund": f["code"],
                               "amount": "250.00", "category": "small_business",
                               "purpose": "a bakery in Vanadzor"})
    call(daemon, appr["token"], "grant.approve", {"grant_id": g["grant_id"]})
    d = api.ok("disbursement.create", {"grant_id": g["grant_id"], "amount": "250.00"})
    d = call(daemon, checker["token"], "disbursement.confirm",
             {"disbursement_id": d["disbursement_id"], "bank_ref": uniq("PAY")})
    assert d["status"] == "paid", d
    return {"fund": f, "partner": p, "c1": c1, "c2": c2, "c3": c3, "endowment": e,
            "grant": g, "disbursement": d,
            "partner_user": part, "approver": appr, "auditor": auditor,
            "secret": secret, "nid": nid}


@pytest.fixture(scope="module")
def admin_b(browsers, admin):
    b = browsers("partner-admin")
    b.sign_in(admin)
    return b


@pytest.fixture(scope="module")
def partner_b(browsers, world):
    b = browsers("partner-partner")
    b.sign_in(world["partner_user"]["token"])
    return b


def set_lang(b, lang):
    Select(b.find("#lang")).select_by_value(lang)
    b.wait('html[lang="%s"]' % lang)


def full_shot(b, label):
    """A screenshot of the whole page (the window made as tall as the page)."""
    height = b.js("return document.documentElement.scrollHeight;")
    b.driver.set_window_size(1280, min(max(900, height), 6000))
    try:
        return b.shot(label)
    finally:
        b.driver.set_window_size(1280, 900)


def check_languages(b, page, ready):
    for lang in LANGS:
        set_lang(b, lang)
        b.wait(ready)
        full_shot(b, "%s-%s" % (page, lang))
        if lang == "en":
            assert b.axe() == [], (page, b.axe())
        assert b.visible_keys() == [], (page, lang, b.visible_keys())
        assert b.problems() == [], (page, lang, b.logs)
    set_lang(b, "en")


# ------------------------------------------------------------------------------ dashboard


def test_dashboard_shows_a_funds_figures_quickly_among_thousands(admin_b, world, api):
    b = admin_b
    code = world["fund"]["code"]
    want = api.ok("fund.balance", {"code": code})
    assert len(api.ok("fund.list")["funds"]) >= MIN_FUNDS
    set_lang(b, "en")
    row = '[data-test="fund-row"][data-code="%s"]' % code
    start = time.monotonic()
    b.go("#/dashboard?find=%s&fund=%s" % (code, code), row + '[data-loaded="true"]')
    took = time.monotonic() - start
    assert took < 5, took
    for key in ("received", "committed", "disbursed", "available"):
        got = plain(b.find(row + ' [data-col="%s"]' % key).text)
        assert got == eur(want[key]), (key, got, want[key])
    assert want["available"] == "1250.50" and want["disbursed"] == "250.00", want
    # every fund's figures arrive, several batches at once, within a few seconds
    b.wait('[data-test="balances-progress"][data-done="true"]', timeout=20)
    took_all = time.monotonic() - start
    assert took_all < 20, took_all
    print("one fund's figures in %.2f s, all %d funds' in %.2f s" % (
        took, len(api.ok("fund.list")["funds"]), took_all))
    # Refresh loads them all again, and says so
    b.find('[data-test="refresh"]').click()
    b.wait_text("#status", "Funds loaded: ")
    b.wait(row + '[data-loaded="true"]')
    b.wait('[data-test="balances-progress"][data-done="true"]')
    assert plain(b.find(row + ' [data-col="available"]').text) == "€1,250.50"
    # the whole list, a page at a time: the first page shows figures too
    b.js("location.hash = '#/dashboard';")
    b.wait('[data-test="fund-row"][data-loaded="true"]')
    assert len(b.find_all('[data-test="fund-row"]')) == 50
    b.wait('[data-test="next-page"]')


def test_dashboard_charts_match_the_reports(admin_b, world, api):
    b = admin_b
    code = world["fund"]["code"]
    frm, to = months_ago(11), today().isoformat()
    set_lang(b, "en")
    b.go("#/dashboard?find=%s&fund=%s" % (code, code),
         '[data-test="chart-history"][data-fund="%s"]' % code)
    hist = api.ok("fund.history", {"code": code, "from": frm, "to": to, "grain": "month"})
    rows = chart_table(b, "chart-history")
    assert [r[0] for r in rows] == [p["period"] for p in hist["points"]]
    assert [plain(r[1]) for r in rows] == [eur(p["available"]) for p in hist["points"]]
    assert rows[-1][1] == "€1,250.50"
    by_region = api.ok("report.grants", {"from": frm, "to": to, "fund": code, "by": ["region"]})
    got = dict((r[0], plain(r[1])) for r in chart_table(b, "chart-grants-region"))
    assert got == dict((r["region"], eur(r["requested"])) for r in by_region["rows"]), got
    assert got == {"Kotayk": "€600.00", "Lori": "€250.00", "Shirak": "€600.00"}
    by_cat = api.ok("report.grants", {"from": frm, "to": to, "fund": code, "by": ["category"]})
    got = dict((r[0], plain(r[1])) for r in chart_table(b, "chart-grants-category"))
    assert got == {"Agriculture": "€600.00", "Housing": "€600.00", "Small business": "€250.00"}
    assert len(by_cat["rows"]) == 3
    by_country = api.ok("report.contributions", {"from": frm, "to": to, "fund": code,
                                                 "by": ["partner_country"]})
    got = [(r[0], plain(r[1])) for r in chart_table(b, "chart-contributions-country")]
    assert got == [("France (FR)", eur(r["received"])) for r in by_country["rows"]]
    assert got == [("France (FR)", "€1,500.50")]
    # another measure: the grants paid out, by region
    Select(b.find("#chart-measure")).select_by_value("disbursed")
    b.find('[data-test="chart-apply"]').click()
    b.wait_text('[data-test="chart-grants-region"] figcaption', "Paid out")
    got = dict((r[0], plain(r[1])) for r in chart_table(b, "chart-grants-region"))
    assert got == {"Kotayk": "€0.00", "Lori": "€250.00", "Shirak": "€0.00"}
    # by week, the money received: every week in the table, some named under the columns
    Select(b.find("#chart-grain")).select_by_value("week")
    Select(b.find("#chart-figure")).select_by_value("received")
    b.find('[data-test="chart-apply"]').click()
    b.wait('[data-test="chart-history"][data-figure="received"]')
    b.wait_text("#status", "The charts of %s are shown." % code)
    weekly = api.ok("fund.history", {"code": code, "from": frm, "to": to, "grain": "week"})
    rows = chart_table(b, "chart-history")
    assert rows == [[p["period"], eur(p["received"])] for p in weekly["points"]]
    assert rows[-1][1] == "€1,500.50"
    named = b.js("return document.querySelectorAll("
                 "'[data-test=chart-history] svg .chart-label').length;")
    assert 0 < named <= 12 < len(rows), (named, len(rows))


def test_dashboard_chart_form_says_what_is_wrong(admin_b, world):
    b = admin_b
    code = world["fund"]["code"]
    set_lang(b, "en")
    b.go("#/dashboard?find=%s&fund=%s" % (code, code), '[data-test="chart-history"]')
    b.js("document.getElementById('chart-from').value = '2026-06-30';"
         "document.getElementById('chart-to').value = '2026-06-01';")
    b.find('[data-test="chart-apply"]').click()
    b.wait('[data-test="charts-error"]')
    msg = b.find('[data-test="charts-error"]').text
    assert msg.strip() and "-32602" not in msg, msg
    b.wait('#chart-to[aria-invalid="true"]')
    assert b.find("#chart-to-error").text.strip()


def test_dashboard_recent_activity_in_plain_words(admin_b, world):
    b = admin_b
    code = world["fund"]["code"]
    set_lang(b, "en")
    d = world["disbursement"]
    row = '[data-test="activity-row"]'
    b.go("#/dashboard?find=%s" % code, row)
    texts = b.js("return [...document.querySelectorAll(arguments[0])].map(tr => "
                 "[tr.querySelector('[data-col=what]').textContent, "
                 "tr.querySelector('[data-col=object_id]').textContent, "
                 "tr.querySelector('[data-col=outcome]').textContent]);", row)
    assert ["Confirmed a payment", d["disbursement_id"], "Done"] in texts, texts
    seqs = [int(x) for x in b.js("return [...document.querySelectorAll(arguments[0])]"
                                 ".map(tr => tr.dataset.seq);", row)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 12, seqs
    # ids only: no returnee's name or national id anywhere
    src = b.driver.page_source
    assert world["secret"] not in src and world["nid"] not in src


def test_dashboard_in_each_language(admin_b, world):
    b = admin_b
    code = world["fund"]["code"]
    b.go("#/dashboard?find=%s&fund=%s" % (code, code), '[data-test="chart-history"]')
    b.wait('[data-test="activity-row"]')
    check_languages(b, "dashboard", '[data-test="fund-row"][data-loaded="true"]')


def test_dashboard_for_an_approver_and_an_auditor(browsers, world, daemon):
    code = world["fund"]["code"]
    b = browsers("partner-staff")
    b.sign_in(world["approver"]["token"])
    b.go("#/dashboard?find=%s&fund=%s" % (code, code), '[data-test="my-queue-count"]')
    want = call(daemon, world["approver"]["token"], "grant.queue", {"limit": 1})["count"]
    assert int(re.sub(r"\D", "", b.find('[data-test="my-queue-count"]').text)) == want
    b.wait('[data-test="chart-history"][data-fund="%s"]' % code)
    # an approver: no audit trail, no contributions report
    assert b.find_all('[data-test="activity"]') == []
    assert b.find_all('[data-test="chart-contributions-country"]') == []
    b.wait('[data-test="fund-row"][data-code="%s"][data-loaded="true"]' % code)
    full_shot(b, "dashboard-approver-en")
    # the results, every cell shown to staff
    b.go("#/results?by=category&fund=%s" % code, '[data-test="results-row"][data-key="housing"]')
    assert b.find_all('[data-test="suppressed-cell"]') == []
    assert b.find_all("#nav-use") == [] and b.find("#nav-results")
    assert b.problems() == [], b.problems()
    # the same browser, signed out, then in as an auditor
    b.find("#sign-out").click()
    b.wait("#token")
    a = b
    a.sign_in(world["auditor"]["token"])
    a.go("#/dashboard?find=%s&fund=%s" % (code, code), '[data-test="activity-row"]')
    a.wait('[data-test="chart-contributions-country"]')
    assert a.find_all('[data-test="pending-disbursements-count"]') == []
    assert a.problems() == [], a.problems()


# ------------------------------------------------------------------------------ #/use


def test_partner_sees_what_its_contributions_paid_for(partner_b, world, daemon):
    b = partner_b
    tok = world["partner_user"]["token"]
    c1 = world["c1"]["contribution_id"]
    c2 = world["c2"]["contribution_id"]
    set_lang(b, "en")
    art = '[data-test="use-contribution"][data-contribution-id="%s"]' % c1
    b.go("#/use", art + ' [data-test="allocation-row"]')
    s1 = call(daemon, tok, "contribution.status", {"contribution_id": c1})
    s2 = call(daemon, tok, "contribution.status", {"contribution_id": c2})
    assert (s1["used"], s1["unused"]) == ("250.00", "50.00"), s1
    assert (s2["used"], s2["unused"]) == ("0.00", "1200.50"), s2
    rows = b.find_all(art + ' [data-test="allocation-row"]')
    assert len(rows) == 1
    assert [plain(rows[0].find_element("css selector", '[data-col="%s"]' % k).text)
            for k in ("region", "category", "amount")] == ["Lori", "Small business", "€250.00"]
    assert plain(b.find(art + ' dd[data-col="used"]').text) == "€250.00"
    assert plain(b.find(art + ' dd[data-col="unused"]').text) == "€50.00"
    other = '[data-test="use-contribution"][data-contribution-id="%s"]' % c2
    b.find(other + ' [data-test="allocations-table-empty"]')
    # summed over its contributions, per currency, by region and by category
    summary = '[data-test="use-summary"][data-currency="EUR"]'
    assert plain(b.find(summary + ' dd[data-col="used"]').text) == "€250.00"
    assert plain(b.find(summary + ' dd[data-col="unused"]').text) == "€1,250.50"
    assert chart_table(b, "use-by-region", summary) == [["Lori", "€250.00"]]
    assert chart_table(b, "use-by-category", summary) == [["Small business", "€250.00"]]
    # the endowment's contribution: its capital kept whole, its share of the earnings used
    c3 = world["c3"]["contribution_id"]
    s3 = call(daemon, tok, "contribution.status", {"contribution_id": c3})
    assert (s3["capital_kept"], s3["earnings_share"], s3["used"], s3["unused"]) == \
        ("1000.00", "100.00", "40.00", "60.00"), s3
    art3 = '[data-test="use-contribution"][data-contribution-id="%s"]' % c3
    for key, text in (("capital_kept", "$1,000.00"), ("earnings_share", "$100.00"),
                      ("used", "$40.00"), ("unused", "$60.00")):
        assert plain(b.find(art3 + ' dd[data-col="%s"]' % key).text) == text, key
    # each currency on its own: never added to the euros
    usd = '[data-test="use-summary"][data-currency="USD"]'
    assert plain(b.find(usd + ' dd[data-col="used"]').text) == "$40.00"
    assert plain(b.find(usd + ' dd[data-col="unused"]').text) == "$60.00"
    assert chart_table(b, "use-by-region", usd) == [["Syunik", "$40.00"]]
    assert chart_table(b, "use-by-category", usd) == [["Employment", "$40.00"]]
    # never a person: no name, national id or purpose of the grant's beneficiary
    src = b.driver.page_source
    for secret in (world["secret"], world["nid"], "a bakery in Vanadzor"):
        assert secret not in src, secret
    assert b.find("#nav-use").get_attribute("aria-current") == "page"
    assert b.find("#nav-results")
    check_languages(b, "use", art)


# ------------------------------------------------------------------------------ #/results


def test_results_for_a_partner_hide_small_groups(partner_b, world, daemon):
    b = partner_b
    code = world["fund"]["code"]
    tok = world["partner_user"]["token"]
    frm, to = months_ago(11), today().isoformat()
    want = call(daemon, tok, "report.grants", {"from": frm, "to": to, "fund": code,
                                                "by": ["region"]})
    assert want["min_cell"] >= 2 and want["suppressed"] == 2, want
    set_lang(b, "en")
    b.go("#/results?from=%s&to=%s&by=region&fund=%s" % (frm, to, code),
         '[data-test="results-row"]')
    rows = {r.get_attribute("data-key"): r for r in b.find_all('[data-test="results-row"]')}
    assert set(rows) == {"Kotayk", "Lori", "Shirak"}
    for r in want["rows"]:
        tr = rows[r["region"]]
        if r["suppressed"]:
            assert tr.get_attribute("data-suppressed") == "true"
            cell = plain(tr.find_element("css selector", '[data-col="grants"]').text)
            assert cell == "Hidden (privacy)", cell
        else:
            assert tr.get_attribute("data-suppressed") == "false"
            assert plain(tr.find_element("css selector", '[data-col="grants"]').text) == str(r["grants"])
            assert plain(tr.find_element("css selector", '[data-col="requested"]').text) == eur(r["requested"])
    # Lori's single beneficiary is hidden, and one more region with it
    assert rows["Lori"].get_attribute("data-suppressed") == "true"
    assert [rows[k].get_attribute("data-suppressed") for k in ("Kotayk", "Shirak")].count("true") == 1
    chart = dict((r[0], plain(r[1])) for r in chart_table(b, "results-chart"))
    hidden = "Not shown: protects groups under %d people" % want["min_cell"]
    assert chart["Lori"] == hidden, chart
    assert sorted(chart.values()).count(hidden) == 2, chart
    note = b.find('[data-test="privacy-note"]').text
    assert str(want["min_cell"]) in note, note
    assert plain(b.find('[data-test="suppressed-count"]').text).endswith(": 2")
    src = b.driver.page_source
    assert world["secret"] not in src and world["nid"] not in src
    # the same report as a file, suppressed the same way
    b.find('[data-test="download-csv"]').click()
    files = b.downloaded()
    name = "grants-%s-%s.csv" % (frm, to)
    assert list(files) == [name], files
    with open(files[name], encoding="utf-8") as fh:
        got = list(csv.DictReader(io.StringIO(fh.read())))
    by_region = dict((r["region"], r) for r in got)
    for r in want["rows"]:
        assert by_region[r["region"]]["grants"] == ("" if r["suppressed"] else str(r["grants"]))
    assert by_region["Lori"]["grants"] == ""
    assert "Secret" not in open(files[name], encoding="utf-8").read()
    b.wait_text("#status", name)
    check_languages(b, "results-partner", '[data-test="results-row"]')


def test_results_for_staff_with_a_chart(admin_b, world, api):
    b = admin_b
    code = world["fund"]["code"]
    frm, to = months_ago(11), today().isoformat()
    set_lang(b, "en")
    b.go("#/results?from=%s&to=%s&by=region,category&fund=%s" % (frm, to, code),
         '[data-test="results-row"]')
    want = api.ok("report.grants", {"from": frm, "to": to, "fund": code,
                                    "by": ["region", "category"]})
    assert "min_cell" not in want
    assert b.find("#results-fund").get_attribute("value") == code
    got = b.js("return [...document.querySelectorAll('[data-test=results-row]')].map(tr => "
               "[tr.dataset.key, tr.querySelector('[data-col=beneficiaries]').textContent, "
               "tr.querySelector('[data-col=disbursed]').textContent]);")
    assert [(k, n, plain(m)) for k, n, m in got] == [
        (r["region"] + "|" + r["category"], str(r["beneficiaries"]), eur(r["disbursed"]))
        for r in want["rows"]]
    assert b.find_all('[data-test="privacy-note"]') == []
    total = b.find('[data-test="totals-row"][data-currency="EUR"]')
    assert plain(total.find_element("css selector", '[data-col="committed"]').text) == \
        eur(want["totals"][0]["committed"])
    chart = dict((r[0], plain(r[1])) for r in chart_table(b, "results-chart"))
    assert chart == {"Kotayk · Housing": "€0.00", "Lori · Small business": "€250.00",
                     "Shirak · Agriculture": "€0.00"}
    check_languages(b, "results-admin", '[data-test="results-row"]')
    # by quarter: a series over time, as columns
    d = today()
    quarter = "%d-Q%d" % (d.year, (d.month - 1) // 3 + 1)
    b.go("#/results?from=%s&to=%s&by=quarter&measure=grants&fund=%s" % (frm, to, code),
         '[data-test="results-row"][data-key="%s"]' % quarter)
    assert chart_table(b, "results-chart") == [[quarter, "13"]]
    assert b.find_all('[data-test="results-chart"] svg g rect')


def test_results_period_the_wrong_way_round_marks_the_field(admin_b, world):
    b = admin_b
    set_lang(b, "en")
    b.go("#/results?from=2026-06-30&to=2026-06-01&by=region", '#results-to[aria-invalid="true"]')
    msg = b.find("#results-to-error").text
    assert msg.strip() and "-32602" not in msg and "end_before_start" not in msg, msg
    # corrected through the form, the report comes
    b.js("document.getElementById('results-to').value = '2026-07-31';")
    b.find('[data-test="apply-filters"]').click()
    b.wait_gone('#results-to[aria-invalid="true"]')
    b.wait('[data-test="results-totals"], [data-test="results-totals-empty"]')
    assert b.problems() == [], b.problems()

