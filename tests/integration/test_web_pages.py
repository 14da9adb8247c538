"""Every page of the web console, for each role, in each language (docs/web.md): the pages
are found as a person finds them, through the navigation and the links of each list to its
records, so a page added later is checked without being listed here. On each: no
untranslated key, no console error or Content-Security-Policy violation, no serious or
critical axe-core violation (WCAG 2.1 A and AA rules; npm axe-core, tests/browser), and a
screenshot under <test dir>/screenshots/pages-<role>-<page>-<lang>.png."""

import os
import re

import pytest

from fl.client import api_of, create_principal
from fl.env import uniq
from fl.grants import apply, confirm, create, funded_fund, new_returnee
from fl.ledger import new_partner

LANGS = ("en", "hy", "ru")

# The page is drawn and nothing more is loading: a heading, no "Loading…", and the page's
# markup unchanged for 300 ms (a page may draw twice: its list, then the figures).
SETTLED = """
const done = arguments[arguments.length - 1];
let last = null, same = 0;
const tick = () => {
  const main = document.getElementById('main');
  const busy = !document.getElementById('page-title') ||
    document.querySelector('[data-test="loading"]');
  const now = main ? main.innerHTML : '';
  same = (!busy && now === last) ? same + 1 : 0;
  last = now;
  if (same >= 3) done(true); else setTimeout(tick, 100);
};
tick();
"""


@pytest.fixture(scope="module")
def people(daemon, admin, api):
    """One principal per role, and records for each role's pages to show: a funded fund
    with a waiting application, a paid tranche, and a partner that gave to it."""
    f = funded_fund(api, received="5000.00")
    p = new_partner(api, country="FR")
    api.ok("contribution.receive", {"partner_id": p["partner_id"], "fund": f["code"],
                                    "amount": "1234.56", "currency": "EUR"})
    approver = create_principal(daemon, admin, ["approver"], name=uniq("Approver"))
    appr_api = api_of(daemon, approver)
    apply(api, f, "300.00", returnee=new_returnee(api, region="AM-SH"))
    g = apply(api, f, "200.00", returnee=new_returnee(api, region="AM-LO"))
    appr_api.ok("grant.approve", {"grant_id": g["grant_id"], "comment": "ok"})
    admin2 = create_principal(daemon, admin, ["admin"], name=uniq("Admin2"))
    d = create(api, g, "100.00")
    confirm(api_of(daemon, admin2), d)
    return {
        "admin": admin,
        "approver": approver["token"],
        "auditor": create_principal(daemon, admin, ["auditor"], name=uniq("Auditor"))["token"],
        "partner": create_principal(daemon, admin, ["partner"], name=uniq("PartnerUser"),
                                    partner_id=p["partner_id"])["token"],
    }


def settle(b):
    b.driver.set_script_timeout(20)
    b.driver.execute_async_script(SETTLED)


def page_name(route):
    return re.sub(r"[^a-z0-9]+", "-", route.split("?")[0].lower()).strip("-") or "home"


def crawl(b):
    """The routes a person reaches: each navigation link, and from each list the first link
    to each kind of record page (#/<path>?...) that is not itself in the navigation."""
    nav = [a.get_attribute("href").split("#", 1)[1] for a in b.find_all("#nav a")]
    routes, seen = list(nav), set(r.split("?")[0] for r in nav)
    for route in nav:
        b.js("location.hash = arguments[0];", route)
        settle(b)
        for href in b.js("return [...document.querySelectorAll('#main a[href^=\"#/\"]')]"
                         ".map(a => a.getAttribute('href'));"):
            path = href[1:].split("?")[0]
            if path not in seen:
                seen.add(path)
                routes.append(href[1:])
    return routes


@pytest.mark.parametrize("role", ["admin", "approver", "auditor", "partner"])
def test_every_page_in_each_language_is_translated_clean_and_accessible(
        browsers, people, role):
    b = browsers("pages-" + role)
    b.sign_in(people[role])
    routes = crawl(b)
    assert routes, "no page in the navigation of " + role
    failures = []
    for lang in LANGS:
        for route in routes:
            b.go("#" + route, "#page-title", lang=lang)
            settle(b)
            where = "%s %s (%s)" % (role, route, lang)
            shot = b.shot("%s-%s" % (page_name(route), lang))
            assert os.path.getsize(shot) > 1000
            if b.find_all('[data-test="error"]'):
                failures.append((where, "error panel",
                                 b.find('[data-test="error"]').text))
            keys = b.visible_keys()
            if keys:
                failures.append((where, "untranslated", keys[:5]))
            problems = b.problems()
            if problems:
                failures.append((where, "console", problems[:3]))
                b.logs.clear()
            bad = b.axe()
            if bad:
                failures.append((where, "axe", bad))
    assert failures == [], failures
