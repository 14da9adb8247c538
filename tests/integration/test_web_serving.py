"""The web console's files ([server] web_root, docs/web.md): served at / over the same TLS
listener, with their type, an ETag and revalidation, and the security headers that every
response of fundd carries; a path that is no file of the console is 404, the API's own paths
keep their answers, and a web_root that cannot be read stops the daemon at start."""

import gzip
import json
import os
import re

import pytest

from fl.client import Client
from fl.env import ROOT, free_port

WHOAMI = json.dumps({"jsonrpc": "2.0", "method": "system.whoami", "id": 1})
FILES = {
    "index.html": b"<!doctype html><title>fund</title><script type=module src=/js/app.js>"
                  b"</script>",
    "js/app.js": b"export const x = 1;\n",
    "css/app.css": b"body { margin: 0 }\n",
    "i18n/hy.json": "{\"title\": \"\u0540\u056b\u0574\u0576\u0561\u0564\u0580\u0561\u0574\"}"
                    .encode("utf-8"),
    # text that compresses: its gzip copy is served to a client that accepts gzip
    "js/big.js": b"export const rows = [\n" + b"  'Gegharkunik', 'Shirak', 'Lori',\n" * 400 +
                 b"];\n",
    "big.html": b"<!doctype html>" + b"<p>Gegharkunik Shirak Lori</p>\n" * 200,
    "README.md": b"not served\n",
    ".secret.js": b"not served\n",
}


def assert_security_headers(r):
    csp = r.header("Content-Security-Policy") or ""
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    assert directives.get("default-src") == "'self'", csp
    assert directives.get("script-src") == "'self'", csp
    assert directives.get("style-src") == "'self'", csp
    assert directives.get("connect-src") == "'self'", csp
    assert directives.get("frame-ancestors") == "'none'", csp
    assert "unsafe" not in csp and "http:" not in csp and "*" not in csp, csp
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert r.header("Referrer-Policy") == "no-referrer"
    assert re.fullmatch(r"max-age=\d{7,}", r.header("Strict-Transport-Security") or ""), \
        r.header("Strict-Transport-Security")


@pytest.fixture(scope="module")
def web_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    for rel, body in FILES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(body)
    return root


@pytest.fixture(scope="module")
def web(module_daemon_factory, web_root):
    return module_daemon_factory("web", {"server": {"web_root": str(web_root)}})


def test_files_with_their_type_etag_and_headers(web):
    types = {"index.html": "text/html", "js/app.js": "text/javascript",
             "css/app.css": "text/css", "i18n/hy.json": "application/json"}
    with Client(web) as c:
        for rel, ctype in types.items():
            r = c.request("GET", "/" + rel)
            assert r.status == 200, (rel, r)
            assert r.content_type == ctype, (rel, r.header("Content-Type"))
            assert r.body == FILES[rel], rel
            assert re.fullmatch(r'"[0-9a-f]{16}"', r.header("ETag") or ""), r.header("ETag")
            assert r.header("Cache-Control") == "no-cache", rel
            assert_security_headers(r)
        root = c.request("GET", "/")
        assert root.status == 200 and root.body == FILES["index.html"]
        assert root.header("ETag") == c.request("GET", "/index.html").header("ETag")


def test_revalidation_answers_304(web):
    with Client(web) as c:
        etag = c.request("GET", "/js/app.js").header("ETag")
        for inm in (etag, "W/" + etag, '"0000000000000000", ' + etag, "*"):
            r = c.request("GET", "/js/app.js", headers={"If-None-Match": inm})
            assert r.status == 304, (inm, r)
            assert r.body == b"" and r.header("ETag") == etag
            assert r.header("Content-Length") is None
            assert_security_headers(r)
        r = c.request("GET", "/js/app.js", headers={"If-None-Match": '"0000000000000000"'})
        assert r.status == 200 and r.body == FILES["js/app.js"]
        # the connection goes on after a 304
        assert c.request("GET", "/css/app.css").status == 200


def test_gzip_to_a_client_that_accepts_it(web):
    big = FILES["js/big.js"]
    with Client(web) as c:
        plain = c.request("GET", "/js/big.js")
        assert plain.status == 200 and plain.body == big
        assert plain.header("Content-Encoding") is None
        assert plain.header("Vary") == "Accept-Encoding"
        for ae in ("gzip", "br, gzip;q=0.5", "deflate, *"):
            r = c.request("GET", "/js/big.js", headers={"Accept-Encoding": ae})
            assert r.status == 200, (ae, r)
            assert r.header("Content-Encoding") == "gzip", ae
            assert r.header("Vary") == "Accept-Encoding"
            assert r.content_type == "text/javascript"
            assert int(r.header("Content-Length")) == len(r.body) < len(big) // 10
            assert gzip.decompress(r.body) == big
            # its own entity tag, which revalidates the gzip copy only
            assert r.header("ETag") == plain.header("ETag")[:-1] + '-gz"'
            assert_security_headers(r)
        for ae in ("gzip;q=0", "identity", "br", "gzip;q=0, *"):
            r = c.request("GET", "/js/big.js", headers={"Accept-Encoding": ae})
            assert r.header("Content-Encoding") is None and r.body == big, ae
        gz_etag = '"%s-gz"' % plain.header("ETag").strip('"')
        r = c.request("GET", "/js/big.js", headers={"Accept-Encoding": "gzip",
                                                    "If-None-Match": gz_etag})
        assert r.status == 304 and r.header("ETag") == gz_etag
        r = c.request("GET", "/js/big.js", headers={"If-None-Match": gz_etag})
        assert r.status == 200 and r.body == big
        # a file too small to gain is sent as it is
        r = c.request("GET", "/js/app.js", headers={"Accept-Encoding": "gzip"})
        assert r.header("Content-Encoding") is None and r.body == FILES["js/app.js"]
        assert r.header("Vary") is None
        # and HTML never is compressed (BREACH: docs/web.md)
        r = c.request("GET", "/big.html", headers={"Accept-Encoding": "gzip"})
        assert r.status == 200 and r.body == FILES["big.html"]
        assert r.header("Content-Encoding") is None and r.header("Vary") is None


def test_api_answers_are_never_compressed(web, admin):
    """An API answer may carry a secret (principal.create's token): never compressed, so a
    BREACH attack has nothing to measure."""
    with Client(web, admin) as c:
        r = c.request("POST", "/rpc", body=json.dumps(
            [json.loads(WHOAMI)] * 50), headers={"Accept-Encoding": "gzip"})
        assert r.status == 200 and len(r.json()) == 50
        assert r.header("Content-Encoding") is None


@pytest.mark.parametrize("path", ["/README.md", "/.secret.js", "/js", "/js/", "/nope.js",
                                  "/js/../index.html", "/index.html/", "/%2e%2e/etc/passwd",
                                  "/INDEX.HTML"])
def test_what_is_no_file_of_the_console_is_404(web, path):
    with Client(web) as c:
        r = c.request("GET", path)
    assert r.status == 404, (path, r)
    assert_security_headers(r)


def test_the_api_keeps_its_answers_and_carries_the_headers(web, admin):
    with Client(web, admin) as c:
        r = c.request("POST", "/rpc", body=WHOAMI)
        assert r.status == 200 and r.json()["result"]["principal_id"]
        assert r.header("Cache-Control") == "no-store"
        assert_security_headers(r)
        r = c.request("GET", "/rpc")
        assert r.status == 405 and r.header("Allow") == "POST"
        assert_security_headers(r)
        r = c.request("GET", "/healthz")
        assert r.status == 200
        assert_security_headers(r)
        r = c.request("POST", "/index.html", body="{}")
        assert r.status == 404
    with Client(web) as c:
        r = c.request("GET", "/export/ledger")
        assert r.status == 401
        assert_security_headers(r)


def test_the_source_trees_console_by_default(daemon):
    """The main daemon's config sets no web_root: it serves clients/web of this tree."""
    index = os.path.join(ROOT, "clients", "web", "index.html")
    with open(index, "rb") as f:
        want = f.read()
    with Client(daemon) as c:
        r = c.request("GET", "/")
    assert r.status == 200 and r.body == want
    assert_security_headers(r)


def test_an_empty_web_root_serves_no_console(daemon_factory):
    d = daemon_factory("noweb", {"server": {"web_root": ""}})
    with Client(d) as c:
        assert c.request("GET", "/").status == 404
        assert c.request("GET", "/index.html").status == 404


def test_an_unreadable_web_root_stops_the_daemon(env):
    conf = env.write_conf(os.path.join(env.dir, "bad-webroot.conf"),
                          {"server": {"listen": "127.0.0.1:%d" % free_port(),
                                      "web_root": "/nonexistent/fl-web"}})
    for args in ((), ("check",)):
        p = env.fundd(*args, conf=conf, timeout=15)
        assert p.returncode == 2, p.stdout + p.stderr
        out = p.stdout + p.stderr
        assert "/nonexistent/fl-web" in out and "web_root" in out, (args, out)
