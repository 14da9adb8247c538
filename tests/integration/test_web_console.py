"""The web console (docs/web.md) in a real browser: Debian's headless Chromium against the
real daemon and database. Each role signs in in a browser session of its own; every page is
opened in each language, with no untranslated key, no console error and no
Content-Security-Policy violation; screenshots of each go under <test dir>/screenshots."""

import json
import os
import re
import time

import pytest
from selenium.webdriver.support.ui import Select, WebDriverWait

from fl.client import RpcError, call, create_principal
from fl.env import ROOT, uniq
from fl.grants import apply, new_returnee
from fl.ledger import new_fund, new_partner

WEB = os.path.join(ROOT, "clients", "web")
LANGS = ("en", "hy", "ru")
# the console's pages, per role: (route, what shows it is loaded)
PAGES = {
    "admin": [("#/dashboard", '[data-test="fund-row"]')],
    "approver": [("#/queue", '[data-test="queue-count"]')],
    "partner": [("#/contributions", '[data-test="contribution-row"]')],
}


@pytest.fixture(scope="module")
def world(daemon, admin, api):
    """A fund with money and a waiting application; a partner that gave to it; an approver
    and a partner principal."""
    f = new_fund(api, dual="100000")
    p = new_partner(api, country="FR")
    api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                    "amount": "1234.56", "currency": "EUR"})
    g = apply(api, f, "500.00", returnee=new_returnee(api, region="AM-SH"))
    appr = create_principal(daemon, admin, ["approver"], name=uniq("Approver"))
    part = create_principal(daemon, admin, ["partner"], name=uniq("PartnerUser"),
                            partner_id=p["partner_id"])
    return {"fund": f, "partner": p, "grant": g, "approver": appr, "partner_user": part}


def queue_of_fund(b, fund):
    """The approver's queue filtered to one fund (the suite's database holds many)."""
    b.js("location.hash = '#/queue';")
    b.wait("#filter-fund")
    Select(b.find("#filter-fund")).select_by_value(fund["code"])
    b.find('[data-test="apply-filters"]').click()


def test_translations_have_the_same_keys_and_cover_the_code():
    def keys(d, prefix=""):
        out = set()
        for k, v in d.items():
            if isinstance(v, dict):
                out |= keys(v, prefix + k + ".")
            else:
                assert isinstance(v, str) and v.strip(), (prefix + k, v)
                out.add(prefix + k)
        return out

    parts = sorted(n[:-5] for n in os.listdir(os.path.join(WEB, "i18n", "en"))
                   if n.endswith(".json"))
    with open(os.path.join(WEB, "js", "i18n.js"), encoding="utf-8") as f:
        listed = re.search(r"PARTS = \[([^\]]*)\]", f.read()).group(1)
    # the loader fetches every part there is, and nothing else
    assert sorted(re.findall(r"'([a-z]+)'", listed)) == parts
    sets, texts = {}, {}
    for lang in LANGS:
        assert sorted(n[:-5] for n in os.listdir(os.path.join(WEB, "i18n", lang))
                      if n.endswith(".json")) == parts, lang
        sets[lang], texts[lang], owner = set(), "", {}
        for part in parts:
            with open(os.path.join(WEB, "i18n", lang, part + ".json"), encoding="utf-8") as f:
                text = f.read()
            obj = json.loads(text)
            texts[lang] += text
            for top in obj:
                assert top not in owner, (lang, top, owner.get(top), part)
                owner[top] = part
            sets[lang] |= keys(obj)
    assert sets["hy"] == sets["en"], sorted(sets["en"] ^ sets["hy"])[:20]
    assert sets["ru"] == sets["en"], sorted(sets["en"] ^ sets["ru"])[:20]
    # real translations: Armenian script in Armenian, Cyrillic in Russian
    assert len(re.findall("[\u0531-\u058f]", texts["hy"])) > 500
    assert len(re.findall("[\u0400-\u04ff]", texts["ru"])) > 500
    # every literal key the code looks up
    used = set()
    for d, _, files in os.walk(os.path.join(WEB, "js")):
        for name in files:
            with open(os.path.join(d, name), encoding="utf-8") as f:
                code = re.sub(r"^\s*//.*$", "", f.read(), flags=re.M)
            used |= set(re.findall(
                r"\bt\(\s*'([a-zA-Z0-9_]+(?:\.[a-zA-Z0-9_]+)+)'\s*[,)]", code))
    assert used and used <= sets["en"], sorted(used - sets["en"])


def test_sign_in_keeps_the_token_in_session_storage_only(browsers, admin, daemon):
    b = browsers("admin-signin")
    b.open("/")
    b.wait("#token")
    b.shot("signin-en")
    b.sign_in(admin)
    me = call(daemon, admin, "system.whoami")
    b.wait_text("#whoami-name", me["name"])
    stored = b.js("return Object.keys(sessionStorage).map(k => sessionStorage.getItem(k));")
    assert admin in stored
    assert b.js("return localStorage.length;") == 0
    assert b.js("return document.cookie;") == ""
    assert admin not in b.driver.current_url
    b.find("#sign-out").click()
    b.wait("#token")
    stored = b.js("return Object.keys(sessionStorage).map(k => sessionStorage.getItem(k));")
    assert admin not in stored
    assert b.problems() == []


def test_a_revoked_token_brings_back_the_sign_in(browsers, daemon, admin):
    who = create_principal(daemon, admin, ["auditor"], name=uniq("Auditor"))
    b = browsers("revoked")
    b.sign_in(who["token"])
    call(daemon, admin, "principal.revoke", {"principal_id": who["principal_id"]})
    # the console's part starts once the daemon refuses the token (docs/auth-cache.md: a
    # daemon's credentials cache drops a revoked principal within milliseconds)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            call(daemon, who["token"], "system.whoami")
        except RpcError as e:
            assert e.code == -32001, e
            break
        time.sleep(0.05)
    b.driver.refresh()
    b.wait("#token")
    msg = b.wait('[data-test="signin-message"]').text
    assert msg.strip() and "-32001" not in msg, msg
    # said once: by the notice (an alert), not again in the status region
    assert msg not in b.find("#status").text
    assert b.find('[data-test="signin-message"]').get_attribute("role") == "alert"
    assert b.visible_keys() == [], b.visible_keys()
    stored = b.js("return Object.keys(sessionStorage).map(k => sessionStorage.getItem(k));")
    assert who["token"] not in stored
    b.shot("revoked-en")
    # a reload of the page still says why
    b.driver.refresh()
    assert b.wait('[data-test="signin-message"]').text == msg
    # signing in again forgets it
    b.find("#token").send_keys(admin)
    b.find("#sign-in").click()
    b.wait("#whoami-name")
    assert b.js("return sessionStorage.getItem('fundd.signinNotice');") is None


@pytest.mark.parametrize("role", sorted(PAGES))
def test_every_page_in_each_language(browsers, world, admin, role):
    token = {"admin": admin, "approver": world["approver"]["token"],
             "partner": world["partner_user"]["token"]}[role]
    b = browsers("pages-" + role)
    b.sign_in(token)
    for route, ready in PAGES[role]:
        for lang in LANGS:
            b.js("location.hash = arguments[0];", route)
            Select(b.find("#lang")).select_by_value(lang)
            b.wait('html[lang="%s"]' % lang)
            b.wait(ready)
            path = b.shot("%s-%s" % (route.strip("#/").replace("/", "-"), lang))
            assert os.path.getsize(path) > 1000
            assert b.visible_keys() == [], (route, lang, b.visible_keys())
            assert b.problems() == [], (route, lang, b.problems())


def test_money_and_dates_in_the_languages_way(browsers, world):
    """The same amount and date in each language: English, Russian, and Armenian written
    as Armenian writes them (Chromium has no Armenian locale data: Russian separators,
    numeric dates)."""
    b = browsers("formats")
    b.sign_in(world["approver"]["token"])
    queue_of_fund(b, world["fund"])
    want = {"en": ("€500.00", r"^[A-Z][a-z]{2} \d{1,2}, \d{4}$"),
            "ru": ("500,00 €", r"^\d{1,2} [а-я]+\.? \d{4}"),
            "hy": ("500,00 €", r"^\d{2}\.\d{2}\.\d{4}$")}
    for lang, (amount, day) in want.items():
        Select(b.find("#lang")).select_by_value(lang)
        b.wait('html[lang="%s"]' % lang)
        row = '[data-test="queue-row"][data-grant-id="%s"]' % world["grant"]["grant_id"]
        b.wait(row)
        # (the text as shown: no-break spaces read as spaces)
        got = re.sub("[\u00a0\u202f]", " ", b.find(row + ' [data-col="amount"]').text)
        assert got == amount, (lang, got)
        when = b.find(row + ' [data-col="created_at"]').text
        assert re.match(day, when), (lang, when)


def test_the_approver_sees_its_queue_with_a_count(browsers, world, daemon):
    token = world["approver"]["token"]
    f = world["fund"]
    want = call(daemon, token, "grant.queue", {"fund": f["code"], "limit": 1})["count"]
    assert want == 1
    b = browsers("queue")
    b.sign_in(token)
    queue_of_fund(b, f)
    row = '[data-test="queue-row"][data-grant-id="%s"]' % world["grant"]["grant_id"]
    b.wait(row)
    # the filtered page has replaced the first, unfiltered one (which may hold the row too)
    b.wait_text('[data-test="page-number"]', "1")
    WebDriverWait(b.driver, 15).until(
        lambda d: len(b.find_all('[data-test="queue-row"]')) == want)
    shown = re.sub(r"\D", "", b.find('[data-test="queue-count"]').text)
    assert int(shown) == want, (shown, want)
    b.shot("queue-of-fund-en")


def test_sign_in_with_the_browsers_client_certificate(browsers, cert_principal):
    """A browser that presents a client certificate registered to a principal signs in with
    it, with no token anywhere; a reload keeps the session, "Sign out" ends it."""
    if os.geteuid() != 0:
        pytest.skip("Chromium presents a certificate unasked only by a policy under "
                    "/etc/chromium, which needs root")
    b = browsers("certificate", client_cert=(cert_principal["cert"], cert_principal["key"]))
    b.open("/")
    b.wait("#sign-in-cert").click()
    b.wait_text("#whoami-name", cert_principal["name"])
    assert b.js("return sessionStorage.getItem('fundd.token');") is None
    b.wait("#nav")
    b.shot("certificate-signed-in-en")
    b.driver.refresh()
    b.wait_text("#whoami-name", cert_principal["name"])
    b.wait("#nav")
    b.find("#sign-out").click()
    notice = b.wait('[data-test="signin-message"]').text
    assert "certificate" in notice, notice
    b.driver.refresh()
    b.wait("#sign-in-cert")
    assert not b.find("#whoami-name").is_displayed()
    assert b.problems() == [], b.problems()


def test_certificate_sign_in_without_one_says_so(browsers):
    b = browsers("no-certificate")
    b.open("/")
    b.wait("#sign-in-cert").click()
    msg = b.wait('[data-test="cert-error"]').text
    assert "no client certificate" in msg, msg
    assert b.find("#token").is_displayed()
    assert b.visible_keys() == []


def test_the_keyboard_alone_signs_in_and_approves_with_the_focus_visible(browsers, world,
                                                                           daemon, admin, api):
    """No mouse: the token typed and Enter, the queue reached by Tab through the
    navigation, filtered, an application opened from it and approved with Enter; each
    control Tab reaches is drawn with its focus ring. (Selenium's Select picks the
    focused select's option: what typing its first letters does.)"""
    from selenium.webdriver.common.keys import Keys
    g = apply(api, world["fund"], "40.00", returnee=new_returnee(api, region="AM-LO"))
    b = browsers("keyboard")
    b.open("/")
    b.wait("#token").send_keys(world["approver"]["token"] + Keys.ENTER)
    b.wait("#whoami-name")

    def press(key, times=1):
        for _ in range(times):
            b.driver.switch_to.active_element.send_keys(key)

    def focused():
        return b.driver.switch_to.active_element

    def ring_shown():
        el = focused()
        width = b.js("return getComputedStyle(arguments[0]).outlineWidth;", el)
        style = b.js("return getComputedStyle(arguments[0]).outlineStyle;", el)
        return style != "none" and float(width.rstrip("px")) >= 2

    def tab_to(found, limit=80):
        for _ in range(limit):
            press(Keys.TAB)
            if found(focused()):
                assert ring_shown(), focused().get_attribute("outerHTML")[:120]
                return focused()
        raise AssertionError("Tab never reached it")

    # from the top of the page to the queue's link in the navigation
    b.js("document.activeElement.blur(); window.scrollTo(0, 0);")
    tab_to(lambda el: el.get_attribute("id") == "nav-queue")
    press(Keys.ENTER)
    b.wait("#filter-fund")
    # the fund filter: its option chosen by typing, the filters applied with Enter
    tab_to(lambda el: el.get_attribute("id") == "filter-fund")
    Select(focused()).select_by_value(world["fund"]["code"])
    tab_to(lambda el: el.get_attribute("data-test") == "apply-filters")
    press(Keys.ENTER)
    link = '[data-test="queue-row"][data-grant-id="%s"] a[data-test="grant-link"]' % g["grant_id"]
    b.wait(link)
    tab_to(lambda el: g["grant_id"] in (el.get_attribute("href") or ""))
    press(Keys.ENTER)
    b.wait('[data-test="approve-form"]')
    tab_to(lambda el: el.get_attribute("id") == "approve-comment")
    focused().send_keys("Approved from the keyboard")
    tab_to(lambda el: el.get_attribute("data-test") == "approve-form-submit", limit=1)
    press(Keys.ENTER)
    b.wait_gone('[data-test="approve-form"]')
    got = call(daemon, admin, "grant.get", {"grant_id": g["grant_id"]})
    assert got["status"] == "approved", got
    assert got["approvals"][0]["comment"] == "Approved from the keyboard"
    b.shot("keyboard-approved-en")
    assert b.problems() == [], b.problems()
