#!/usr/bin/python3
"""The administrator's dashboard in headless Chromium (make bench): the time from navigation
to the first fund figures on screen, and the JavaScript and CSS it transferred, beside the
same JSON-RPC calls sent directly by this script, in the same run.

    dashboard.py --base https://127.0.0.1:PORT --cert DIR/tls/server.crt --ca DIR/tls/ca.crt \
        --token ADMIN_TOKEN [--rounds N]

Each round is a fresh browser profile (an empty cache) that loads /#/dashboard with the
token already in sessionStorage, as after signing in. An observer installed before the page's
own scripts notes performance.now() (milliseconds since the navigation started) when a fund
row first shows its available amount. The calls the page sent to /rpc (taken from the
browser's network log) are then sent again over one keep-alive TLS connection, in the same
order, and timed: the daemon's share of the wait. One JSON line per round on stdout:

    {"label": "console-dashboard", "first_figures_ms": ..., "dom_content_loaded_ms": ...,
     "js_css_bytes": ..., "rpc_calls": ..., "direct_ms": ...}
"""
import argparse
import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from fl.browser import spki_sha256  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

READY = '[data-test="fund-row"] [data-col="available"]'

# Runs before any script of the page (CDP), so the CSP of the page does not apply to it.
OBSERVER = """
window.__firstFigures = null;
new MutationObserver((list, obs) => {
  for (const el of document.querySelectorAll('%s')) {
    if (el.textContent.trim()) {
      window.__firstFigures = performance.now();
      obs.disconnect();
      return;
    }
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
""" % READY


def browser(args, profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--no-first-run", "--window-size=1280,900", "--user-data-dir=" + profile,
              "--ignore-certificate-errors-spki-list=" + spki_sha256(args.cert)):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def rpc_bodies(driver):
    """The bodies of the POST /rpc requests the page sent, in order."""
    out = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") != "Network.requestWillBeSent":
            continue
        req = msg["params"]["request"]
        if req.get("method") == "POST" and req["url"].endswith("/rpc"):
            out.append(req.get("postData") or "")
    return out


def direct(args, bodies):
    """Sends the bodies again over one keep-alive connection; milliseconds in all."""
    host, port = args.base.split("//", 1)[1].rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=args.ca)
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=60)
    conn.connect()
    t0 = time.perf_counter()
    for body in bodies:
        conn.request("POST", "/rpc", body=body, headers={
            "Content-Type": "application/json", "Authorization": "Bearer " + args.token})
        res = conn.getresponse()
        data = res.read()
        if res.status != 200:
            raise SystemExit("dashboard.py: /rpc answered %d: %s" % (res.status, data[:200]))
    ms = (time.perf_counter() - t0) * 1000
    conn.close()
    return ms


def one_round(args):
    profile = tempfile.mkdtemp(prefix="fl-bench-chromium-")
    d = browser(args, profile)
    try:
        d.set_page_load_timeout(30)
        # a page of the same origin that loads no script, to put the token in sessionStorage
        d.get(args.base + "/favicon.svg")
        d.execute_script("sessionStorage.setItem('fundd.token', arguments[0]);"
                         "sessionStorage.setItem('fundd.lang', 'en');", args.token)
        d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OBSERVER})
        d.get_log("performance")
        d.get(args.base + "/#/dashboard")
        deadline = time.monotonic() + 30
        first = None
        while first is None:
            first = d.execute_script("return window.__firstFigures;")
            if first is None:
                if time.monotonic() > deadline:
                    raise SystemExit("dashboard.py: no fund figure within 30 s")
                time.sleep(0.02)
        timing = d.execute_script(
            "const n = performance.getEntriesByType('navigation')[0];"
            "const r = performance.getEntriesByType('resource');"
            "return {dcl: n.domContentLoadedEventEnd, "
            "js_css: r.filter(e => /\\.(js|css)$/.test(new URL(e.name).pathname))"
            ".reduce((s, e) => s + e.transferSize, 0), "
            "files: r.filter(e => /\\.(js|css)$/.test(new URL(e.name).pathname)).length};")
        bodies = rpc_bodies(d)
    finally:
        d.quit()
        subprocess.run(["rm", "-rf", profile], check=False)
    return {"label": "console-dashboard", "first_figures_ms": round(first, 1),
            "dom_content_loaded_ms": round(timing["dcl"], 1),
            "js_css_bytes": timing["js_css"], "js_css_files": timing["files"],
            "rpc_calls": len(bodies), "direct_ms": round(direct(args, bodies), 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    for _ in range(args.rounds):
        print(json.dumps(one_round(args)), flush=True)


if __name__ == "__main__":
    main()
