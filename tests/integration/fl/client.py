"""The one HTTPS/JSON-RPC client of the suite (Client: keep-alive sessions, raw HTTP
requests, single calls, batches, results or error objects), checks of JSON-RPC error objects
and 401 answers, principals, calls raced from many connections or run in the background, raw
TLS sockets and HTTP responses read off them, and the Prometheus text of /metrics."""

import http.client
import json
import re
import select
import socket
import ssl
import threading
import time

from fl.env import remember_token, uniq

REASON_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")

# One system.whoami request object, for the tests that post it as it is.
WHOAMI = {"jsonrpc": "2.0", "method": "system.whoami", "id": 1}


def client_context(env, cert=None, key=None, minv=None, maxv=None):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=env.ca)
    if minv is not None:
        ctx.minimum_version = minv
    if maxv is not None:
        ctx.maximum_version = maxv
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


# --------------------------------------------------------------------------------------------
# The client


class RpcError(Exception):
    def __init__(self, status, error):
        self.status = status
        self.error = error
        self.code = error.get("code")
        self.data = error.get("data") or {}
        super().__init__("HTTP %s JSON-RPC error %r" % (status, error))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def content_type(self):
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError as e:
            raise AssertionError("body is not JSON (HTTP %d, %r): %s" % (
                self.status, self.body[:300], e))

    def __repr__(self):
        return "<HTTP %d %r>" % (self.status, self.body[:300])


TRANSPORT_ERRORS = (http.client.HTTPException, ConnectionError, ssl.SSLError, OSError)


class Client:
    """One HTTPS keep-alive connection to a daemon, as one principal (a bearer token, a
    client certificate, or neither; a call may name another token).

    Plain (the default), it is one connection, opened at the first request, that the tests
    can watch (.sock) and that fails when the daemon closed it. Client.api() makes the
    long-lived client of the ledger tests: 60 s timeouts, the connection reopened after
    IDLE quiet seconds (the daemon closes idle ones after io_timeout_s) and after a
    transport error, and with record=True every /rpc response body kept in .bodies.

    One call: rpc() -> (Response, body) unchecked; exchange() -> (Response, response object)
    checked to be one object with the request's id; reply() -> that object; call() -> the
    result or RpcError; ok() -> the result, a JSON-RPC error failing the test; err() -> the
    error member of an expected error. batch() posts up to 100 calls at once."""

    IDLE = 4.0

    def __init__(self, daemon, token=None, cert=None, key=None, timeout=15, ctx=None,
                 reconnect=False, record=False):
        self.daemon = daemon
        self.token = token
        if token:
            remember_token(token)
        self.ctx = ctx or client_context(daemon.env, cert, key)
        self.conn = http.client.HTTPSConnection("127.0.0.1", daemon.port, context=self.ctx,
                                                timeout=timeout)
        self.reconnect = reconnect
        self.record = record
        self.bodies = []
        self.last = 0.0
        self.next_id = 1
        self.pid = None

    @classmethod
    def api(cls, daemon, token, timeout=60, record=False):
        return cls(daemon, token, timeout=timeout, reconnect=True, record=record)

    def connect(self):
        self.conn.connect()
        return self.conn.sock

    @property
    def sock(self):
        return self.conn.sock

    def close(self):
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def request(self, method, path, body=None, headers=None, token=None):
        h = {}
        tok = token if token is not None else self.token
        if tok:
            remember_token(tok)
            h["Authorization"] = "Bearer " + tok
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8")
        if self.reconnect and time.monotonic() - self.last > self.IDLE:
            self.conn.close()
        try:
            self.conn.request(method, path, body=body, headers=h)
            r = self.conn.getresponse()
            data = r.read()
        except TRANSPORT_ERRORS:
            if self.reconnect:
                self.conn.close()
            raise
        self.last = time.monotonic()
        return Response(r.status, r.getheaders(), data)

    def post_rpc(self, payload, token=None, headers=None):
        """Posts a request, a batch, or bytes/str as they are; returns the Response."""
        body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        r = self.request("POST", "/rpc", body=body, token=token, headers=headers)
        if self.record:
            self.bodies.append(r.body)
        return r

    def _request_object(self, method, params, rid=None):
        if rid is None:
            rid = self.next_id
            self.next_id += 1
        req = {"jsonrpc": "2.0", "method": method, "id": rid}
        if params is not None:
            req["params"] = params
        return req

    def rpc(self, method, params=None, token=None, rid=None):
        """Sends one call; returns (Response, decoded body or None), checking nothing."""
        r = self.post_rpc(self._request_object(method, params, rid), token=token)
        return r, (r.json() if r.body else None)

    def exchange(self, method, params=None, token=None):
        """(Response, response object) of one call; the object must carry the request's
        id."""
        req = self._request_object(method, params)
        r = self.post_rpc(req, token=token)
        doc = r.json()
        assert isinstance(doc, dict), doc
        assert doc.get("id") == req["id"], "response id %r for request id %r" % (
            doc.get("id"), req["id"])
        return r, doc

    def reply(self, method, params=None):
        """The response object of one call."""
        return self.exchange(method, params)[1]

    def call(self, method, params=None, token=None):
        """Returns the result; raises RpcError on a JSON-RPC error."""
        r, doc = self.exchange(method, params, token=token)
        if "error" in doc:
            raise RpcError(r.status, doc["error"])
        assert r.status == 200, "HTTP %d with a result for %s" % (r.status, method)
        assert r.content_type == "application/json", r.headers
        assert doc.get("jsonrpc") == "2.0", doc
        assert "result" in doc, doc
        return doc["result"]

    def ok(self, method, params=None):
        """The result; a JSON-RPC error fails the test with the call that caused it."""
        doc = self.reply(method, params)
        assert "result" in doc, "%s %s failed: %r" % (method, json.dumps(params), doc)
        return doc["result"]

    def err(self, method, params, code, field=None, reason=None):
        doc = self.reply(method, params)
        assert "error" in doc, "%s %s: expected error %d, got result %r" % (
            method, json.dumps(params), code, doc.get("result"))
        try:
            return assert_error(doc, code, field=field, reason=reason)
        except AssertionError as e:
            raise AssertionError("%s %s: %s" % (method, json.dumps(params), e)) from None

    def batch(self, calls):
        """calls: [(method, params)], at most 100. Returns the response objects in the order of
        calls (matched by id)."""
        assert 1 <= len(calls) <= 100
        reqs = [self._request_object(method, params) for method, params in calls]
        r = self.post_rpc(reqs)
        assert r.status == 200, r
        docs = r.json()
        assert isinstance(docs, list) and len(docs) == len(reqs), \
            "batch of %d got %r" % (len(reqs), docs if not isinstance(docs, list) else len(docs))
        by_id = {d.get("id"): d for d in docs}
        assert len(by_id) == len(reqs), "duplicate ids in a batch response"
        return [by_id[q["id"]] for q in reqs]


def api_of(daemon, p):
    """Client.api() of a principal as create_principal returns it; .pid is its
    principal_id."""
    a = Client.api(daemon, p["token"])
    a.pid = p["principal_id"]
    return a


def new_client(daemon, admin_token, roles, name):
    """Client.api() of a fresh principal with roles, named uniq(name); .pid is its id."""
    return api_of(daemon, create_principal(daemon, admin_token, roles, name=uniq(name)))


def call(daemon, token, method, params=None, **kw):
    with Client(daemon, token=token, **kw) as s:
        return s.call(method, params)


def rpc(daemon, token, method, params=None, **kw):
    with Client(daemon, token=token, **kw) as s:
        return s.rpc(method, params)


def post_rpc(daemon, token, payload, **kw):
    with Client(daemon, token=token, **kw) as s:
        return s.post_rpc(payload)


def http_get(daemon, path, token=None, timeout=15, **kw):
    with Client(daemon, token=token, timeout=timeout, **kw) as s:
        r = s.request("GET", path)
        return r.status, r.headers, r.body


def create_principal(daemon, admin_token, roles, name=None, **extra):
    """A usable principal: an admin or approver is created pending (no token) and then
    confirmed by a second admin of the daemon's database (Env.confirmer), as the four-eyes
    rule of principal.confirm asks. Returns the answer that carries the token."""
    params = {"name": name or uniq("p"), "roles": list(roles)}
    params.update(extra)
    res = call(daemon, admin_token, "principal.create", params)
    if res.get("pending"):
        assert res.get("token") is None, res
        res = call(daemon, daemon.env.confirmer(daemon.conf, not_token=admin_token),
                   "principal.confirm", {"principal_id": res["principal_id"]})
    remember_token(res.get("token"))
    return res


# --------------------------------------------------------------------------------------------
# Answers


def assert_error(doc, code, field=None, reason=None, rid="__any__"):
    """Checks a JSON-RPC error response object; returns its error member."""
    assert isinstance(doc, dict), "expected one JSON-RPC response object, got %r" % (doc,)
    assert doc.get("jsonrpc") == "2.0", doc
    assert "error" in doc and "result" not in doc, doc
    err = doc["error"]
    assert err.get("code") == code, "expected error %d, got %r" % (code, err)
    assert isinstance(err.get("message"), str) and err["message"], err
    data = err.get("data")
    assert isinstance(data, dict), "error.data must be an object: %r" % (err,)
    assert isinstance(data.get("reason"), str) and REASON_RE.match(data["reason"]), \
        "error.data.reason must be snake_case: %r" % (err,)
    if field is not None:
        assert data.get("field") == field, "expected data.field %r: %r" % (field, err)
    if reason is not None:
        assert data.get("reason") == reason, "expected data.reason %r: %r" % (reason, err)
    if rid != "__any__":
        assert "id" in doc and doc["id"] == rid, "expected id %r: %r" % (rid, doc)
    return err


def assert_401(r):
    """A 401 with a JSON-RPC -32001 error object as its JSON body; returns the object."""
    assert r.status == 401, r
    assert r.content_type == "application/json", r.headers
    doc = r.json()
    assert isinstance(doc, dict)
    assert_error(doc, -32001)
    return doc


def outcome(doc):
    """'ok', or (code, reason) of an error response."""
    if "result" in doc:
        return "ok"
    err = doc.get("error") or {}
    return err.get("code"), (err.get("data") or {}).get("reason")


def leaks(body, secrets):
    """The secrets found in a response body, raw or JSON-escaped (non-ASCII as \\uXXXX)."""
    text = body.decode("utf-8", "replace")
    out = []
    for s in secrets:
        forms = {s, json.dumps(s)[1:-1], json.dumps(s, ensure_ascii=False)[1:-1]}
        if any(f in text for f in forms):
            out.append(s)
    return out


# --------------------------------------------------------------------------------------------
# Calls in threads


class Background(threading.Thread):
    """Runs fn() in a thread and keeps its result or exception, with timings."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn = fn
        self.result = None
        self.exc = None
        self.t_start = None
        self.t_end = None

    def run(self):
        self.t_start = time.monotonic()
        try:
            self.result = self.fn()
        except BaseException as e:  # noqa: B902 - reported by the test
            self.exc = e
        self.t_end = time.monotonic()

    def get(self, timeout=30):
        self.join(timeout)
        assert not self.is_alive(), "background call did not finish within %ss" % timeout
        if self.exc is not None:
            raise self.exc
        return self.result


def race(daemon, calls, timeout=90):
    """calls: [(token, method, params)]. Each runs in its own thread on its own HTTPS
    connection (connected before the barrier); all are released together. Returns the
    decoded response objects in the order of calls."""
    barrier = threading.Barrier(len(calls))

    def go(token, method, params):
        def run():
            with Client(daemon, token, timeout=60) as s:
                s.connect()
                barrier.wait(30)
                return s.rpc(method, params)[1]
        return run

    jobs = [Background(go(*c)) for c in calls]
    for j in jobs:
        j.start()
    return [j.get(timeout) for j in jobs]


def start_calls(daemon, calls):
    """calls: [(token, method, params)] -> started Background threads, each making its call
    on its own connection and returning the response object. A token that is a
    (certificate, key) pair calls with that client certificate instead."""
    out = []
    for token, method, params in calls:
        kw = {"cert": token[0], "key": token[1]} if isinstance(token, tuple) else {}
        t = Background(
            lambda t=token, m=method, p=params, kw=kw: rpc(
                daemon, None if kw else t, m, p, timeout=60, **kw)[1])
        t.start()
        out.append(t)
    return out


# --------------------------------------------------------------------------------------------
# Raw TLS sockets


def raw_tls(daemon, ctx=None, timeout=10):
    ctx = ctx or client_context(daemon.env)
    s = socket.create_connection(("127.0.0.1", daemon.port), timeout=timeout)
    try:
        return ctx.wrap_socket(s, server_hostname="127.0.0.1")
    except BaseException:
        s.close()
        raise


class HttpReader:
    """Reads successive HTTP responses from a raw socket, keeping bytes that belong to the
    next one (pipelining)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            chunk = b""
        self.buf += chunk
        return bool(chunk)

    def read_response(self, timeout=10):
        """Returns (status, headers dict, body), or None if the peer closed before sending
        anything."""
        self.sock.settimeout(timeout)
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                if not self.buf:
                    return None
                raise AssertionError("peer closed inside the response head: %r" %
                                     self.buf[:500])
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("iso-8859-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
        assert m, "bad status line %r" % lines[0]
        headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            if not self._fill():
                break
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(m.group(1)), headers, body


def read_http_response(sock, timeout=10):
    """Reads one HTTP response from a raw socket. Returns (status, headers dict, body) or None
    if the peer closed before sending anything."""
    return HttpReader(sock).read_response(timeout)


def raw_exchange(daemon, data, timeout=10):
    """Sends raw bytes on a fresh TLS connection and reads one response (None if closed)."""
    with raw_tls(daemon, timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        return read_http_response(s, timeout)


def wait_closed(sock, timeout):
    """Waits until the peer closes (EOF, reset or TLS error). Returns seconds waited, or None
    on timeout. Any bytes received (e.g. a 408 response) are ignored."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    sock.setblocking(False)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if isinstance(sock, ssl.SSLSocket) and sock.pending():
                r = [sock]
            else:
                r, _, _ = select.select([sock], [], [], min(left, 0.2))
            if not r:
                continue
            try:
                chunk = sock.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except (ConnectionResetError, ssl.SSLError, OSError):
                return time.monotonic() - t0
            if not chunk:
                return time.monotonic() - t0
    finally:
        try:
            sock.setblocking(True)
        except OSError:
            pass


# --------------------------------------------------------------------------------------------
# Prometheus text


METRIC_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """[(name, {labels}, float value)] for every sample line."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = METRIC_RE.match(line)
        assert m, "not a Prometheus sample line: %r" % line
        labels = dict(LABEL_RE.findall(m.group(3) or ""))
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def metric_value(samples, name, **labels):
    vals = [v for n, l, v in samples
            if n == name and all(l.get(k) == want for k, want in labels.items())]
    return sum(vals) if vals else None


def scrape(daemon, token):
    """GET /metrics: (text, samples), checking the status and the content type."""
    st, headers, body = http_get(daemon, "/metrics", token=token)
    assert st == 200, (st, body[:300])
    ctype = dict((k.lower(), v) for k, v in headers).get("content-type", "")
    assert ctype.startswith("text/plain"), ctype
    text = body.decode("utf-8")
    return text, parse_metrics(text)


def wait_pool_up(daemon, token, timeout=30):
    """After the database came back: wait until every connection of every worker's pool is
    up again. Each worker reconnects on its own backoff (up to 5 s), and until it has, the
    requests it is handed answer -32050, /metrics among them."""
    t0 = time.monotonic()
    last = None
    while time.monotonic() - t0 < timeout:
        try:
            st, _, body = http_get(daemon, "/metrics", token=token, timeout=3)
            if st == 200:
                m = parse_metrics(body.decode("utf-8"))
                last = (metric_value(m, "fundd_db_pool_up"), metric_value(m, "fundd_db_pool_size"))
                if last[0] == last[1]:
                    return
        except (OSError, http.client.HTTPException, ssl.SSLError):
            pass
        time.sleep(0.1)
    raise AssertionError("the pool is not all up %d s after the database came back "
                         "(up, size) = %r" % (timeout, last))


def batch_counts(daemon, token):
    """(batches, batched calls, batch failures) of the daemon's shared commits."""
    m = scrape(daemon, token)[1]
    return tuple(int(metric_value(m, n)) for n in (
        "fundd_db_batches_total", "fundd_db_batched_calls_total",
        "fundd_db_batch_failures_total"))
