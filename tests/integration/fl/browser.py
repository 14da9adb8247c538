"""A real browser for the web console's tests: Debian's headless Chromium driven by its
ChromeDriver through Selenium. It trusts the test daemon's certificate by its public key
only (--ignore-certificate-errors-spki-list), keeps the browser's console log (errors and
Content-Security-Policy violations show there), and writes screenshots under
<test dir>/screenshots for a person to look at."""

import base64
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = "/usr/bin/chromium"
# a translation key shown instead of its text ("signin.title")
KEY_RE = re.compile(r"^[a-z]+(\.[a-zA-Z0-9]+)+$")
CHROMEDRIVER = "/usr/bin/chromedriver"
POLICIES = "/etc/chromium/policies/managed"
# axe-core from npm (tests/browser/package-lock.json, installed by make deps): injected into
# the page by the tests, never served by fundd
AXE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "browser",
                   "node_modules", "axe-core", "axe.min.js")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then((r) => done(r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' '))}))))
  .catch((e) => done([{id: 'axe-failed', impact: 'critical', help: String(e), nodes: []}]));
"""


def spki_sha256(cert_path):
    """base64 of the SHA-256 of a certificate's SubjectPublicKeyInfo (DER)."""
    pub = subprocess.run(["openssl", "x509", "-in", cert_path, "-noout", "-pubkey"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         check=True, capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


# Helpers of the browser tests: a control filled or set, a condition waited for, text as
# shown, an error said in words (never a bare JSON-RPC code).

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


def no_code_alone(msg):
    assert msg.strip() and not re.search(r"-32\d\d\d", msg), msg


def rpc_sent(b):
    """Records what the console sends to /rpc from now on, until the page is loaded anew (its
    window.fetch wrapped): returns a function that gives the requests so far, each the list
    of its calls as (method, params)."""
    b.js("if (!window.rpcSent) { const f = window.fetch; window.rpcSent = [];"
         " window.fetch = (url, opts) => { if (String(url).endsWith('/rpc'))"
         " window.rpcSent.push(JSON.parse(opts.body)); return f.call(window, url, opts); }; }"
         " window.rpcSent.length = 0;")

    def sent():
        reqs = b.js("return window.rpcSent;")
        return [[(c["method"], c.get("params", {})) for c in (r if isinstance(r, list) else [r])]
                for r in reqs]
    return sent


class Browser:
    """One browser session (its own profile, so its own sessionStorage)."""

    def __init__(self, daemon, shots_dir, name, client_cert=None):
        """client_cert: (certificate, key) PEM files the browser presents when the daemon asks
        for a client certificate (client_cert_home)."""
        self.daemon = daemon
        self.base = "https://127.0.0.1:%d" % daemon.port
        self.shots_dir = shots_dir
        self.name = name
        self.profile = tempfile.mkdtemp(prefix="fl-chromium-")
        # what the console saves (exports) lands here
        self.downloads = os.path.join(self.profile, "downloads")
        os.makedirs(self.downloads)
        opts = webdriver.ChromeOptions()
        opts.add_experimental_option("prefs", {
            "download.default_directory": self.downloads,
            "download.prompt_for_download": False,
        })
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                  "--disable-gpu", "--no-first-run", "--window-size=1280,900",
                  "--user-data-dir=" + self.profile, "--lang=en-US",
                  "--ignore-certificate-errors-spki-list=" +
                  spki_sha256(os.path.join(daemon.env.tls, "server.crt"))):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        env = dict(os.environ)
        self.policy = None
        if client_cert:
            env["HOME"] = self.client_cert_home(*client_cert)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER, env=env), options=opts)
        self.driver.set_page_load_timeout(30)
        self.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {
            "behavior": "allow", "downloadPath": self.downloads})
        self.logs = []

    def client_cert_home(self, crt, key):
        """A HOME whose NSS database (where Chromium on Linux looks for client certificates)
        holds crt and key, and a managed policy that lets Chromium present it to the daemon
        without asking (AutoSelectCertificateForUrls; policies are read from /etc/chromium,
        so this needs root, which `make test` has in CI)."""
        home = os.path.join(self.profile, "home")
        nss = os.path.join(home, ".pki", "nssdb")
        os.makedirs(nss)
        subprocess.run(["certutil", "-N", "-d", "sql:" + nss, "--empty-password"], check=True)
        p12 = os.path.join(self.profile, "client.p12")
        subprocess.run(["openssl", "pkcs12", "-export", "-in", crt, "-inkey", key, "-out", p12,
                        "-passout", "pass:"], check=True)
        subprocess.run(["pk12util", "-i", p12, "-d", "sql:" + nss, "-W", ""], check=True,
                       capture_output=True)
        os.makedirs(POLICIES, exist_ok=True)
        self.policy = os.path.join(POLICIES, "fundd-test-%d.json" % self.daemon.port)
        with open(self.policy, "w") as f:
            json.dump({"AutoSelectCertificateForUrls": [json.dumps(
                {"pattern": self.base, "filter": {}})]}, f)
        return home

    def close(self):
        try:
            self.driver.quit()
        finally:
            if self.policy:
                os.unlink(self.policy)
            subprocess.run(["rm", "-rf", self.profile], check=False)

    def open(self, path="/"):
        self.driver.get(self.base + path)

    def wait(self, css, timeout=15):
        try:
            return WebDriverWait(self.driver, timeout).until(
                EC.visibility_of_element_located((By.CSS_SELECTOR, css)))
        except TimeoutException:
            # what the page showed instead, for the person reading the failure
            self.shot("timeout-" + re.sub(r"[^a-z0-9]+", "-", css.lower()).strip("-"))
            raise

    def wait_gone(self, css, timeout=15):
        WebDriverWait(self.driver, timeout).until(
            EC.invisibility_of_element_located((By.CSS_SELECTOR, css)))

    def wait_text(self, css, text, timeout=15):
        WebDriverWait(self.driver, timeout).until(
            EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def console(self):
        """The browser's console lines since the last call, kept in self.logs."""
        new = self.driver.get_log("browser")
        self.logs += new
        return new

    def problems(self):
        """Console errors and CSP violations so far (severe lines, and any line that says a
        resource was refused)."""
        self.console()
        return [l["message"] for l in self.logs
                if l.get("level") == "SEVERE" or
                re.search(r"Content Security Policy|Refused to", l.get("message", ""))]

    def shot(self, label):
        os.makedirs(self.shots_dir, exist_ok=True)
        path = os.path.join(self.shots_dir, "%s-%s.png" % (self.name, label))
        self.driver.save_screenshot(path)
        return path

    def downloaded(self, timeout=30):
        """The files saved so far (completed downloads only), by name -> path; waits until
        at least one is there and none is still being written."""
        deadline = time.monotonic() + timeout
        while True:
            names = os.listdir(self.downloads)
            done = [n for n in names if not n.endswith(".crdownload")]
            if done and len(done) == len(names):
                return {n: os.path.join(self.downloads, n) for n in done}
            if time.monotonic() > deadline:
                raise AssertionError("no finished download in %s: %r" % (self.downloads, names))
            time.sleep(0.1)

    def sign_in(self, token):
        """Signs in with a bearer token through the sign-in screen."""
        self.open("/")
        self.wait("#token").send_keys(token)
        self.find("#sign-in").click()
        self.wait("#whoami-name")

    def go(self, route, ready, lang=None):
        """Opens a page of the console (#/route?..) and waits for `ready` (a CSS selector);
        with lang, switches the language first."""
        if lang:
            Select(self.find("#lang")).select_by_value(lang)
            self.wait('html[lang="%s"]' % lang)
        self.js("location.hash = arguments[0];", route)
        return self.wait(ready)

    def visible_keys(self):
        """Texts of the page that are translation keys, not translations, or a missing value
        ("null", "undefined")."""
        texts = self.js(
            "const out = []; const w = document.createTreeWalker(document.body, "
            "NodeFilter.SHOW_TEXT); while (w.nextNode()) { const s = "
            "w.currentNode.nodeValue.trim(); if (s) out.push(s); } "
            "for (const e of document.querySelectorAll('[aria-label],[placeholder],"
            "[title]')) for (const a of ['aria-label', 'placeholder', 'title']) "
            "if (e.getAttribute(a)) out.push(e.getAttribute(a)); return out;")
        return [t for t in texts if KEY_RE.match(t) or t in ("null", "undefined", "NaN") or
                "[object " in t]

    def axe(self, impacts=("serious", "critical")):
        """The violations of the WCAG 2.1 A and AA rules that axe-core finds on the page, of
        those impacts (None: all): [{id, impact, help, nodes}]."""
        assert os.path.exists(AXE), "axe-core is not installed: run make deps"
        if not self.js("return !!window.axe;"):
            with open(AXE, encoding="utf-8") as f:
                self.js(f.read())
        self.driver.set_script_timeout(60)
        found = self.driver.execute_async_script(AXE_RUN, AXE_TAGS)
        return [v for v in found if impacts is None or v["impact"] in impacts]
