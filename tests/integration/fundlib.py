"""Helpers for the fundd integration suite: the environment, daemons, HTTPS/JSON-RPC clients,
raw TLS sockets and database access through config/devenv.sh.

Standard library only. Everything talks to the real daemon over real TLS and to the real
PostgreSQL cluster that config/devenv.sh manages; nothing is mocked.
"""

import configparser
import http.client
import json
import os
import re
import secrets
import select
import signal
import socket
import ssl
import subprocess
import threading
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
FUNDD = os.path.join(ROOT, "bin", "fundd")
FUNDCTL = os.path.join(ROOT, "bin", "fundctl")
DEVENV = os.path.join(ROOT, "config", "devenv.sh")

# Every bearer token the suite sends or receives, real or fake: none may ever show up in a
# daemon log (PROTOCOL section 4, STYLE habit 5).
USED_TOKENS = set()

REASON_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def remember_token(tok):
    if tok:
        USED_TOKENS.add(tok)
    return tok


def fake_token():
    """A well-formed but unknown token; long and random so a log hit is never an accident."""
    return remember_token("fake" + secrets.token_urlsafe(32))


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def uniq(prefix="t"):
    return "%s-%s" % (prefix, secrets.token_hex(4))


# --------------------------------------------------------------------------------------------
# Environment: devenv.sh wrapper


class Env:
    def __init__(self, directory):
        self.dir = os.path.realpath(directory)
        self.tls = os.path.join(self.dir, "tls")
        self.conf = os.path.join(self.dir, "fundd.conf")
        self.ca = os.path.join(self.tls, "ca.crt")
        self.ca_key = os.path.join(self.tls, "ca.key")
        self.client_crt = os.path.join(self.tls, "client.crt")
        self.client_key = os.path.join(self.tls, "client.key")
        self.admin_token = None

    def devenv(self, *args, check=True, timeout=300, input=None):
        p = subprocess.run([DEVENV] + list(args), cwd=ROOT, capture_output=True, text=True,
                           timeout=timeout, input=input)
        if check and p.returncode != 0:
            raise AssertionError("devenv.sh %s failed (rc %d):\n%s\n%s" % (
                " ".join(args), p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
        return p

    def up(self, port):
        self.devenv("up", self.dir, str(port), timeout=600)
        with open(os.path.join(self.dir, "admin.token")) as f:
            self.admin_token = remember_token(f.read().strip())
        assert self.admin_token, "devenv.sh up wrote an empty admin.token"

    def pg_stop(self):
        self.devenv("pg-stop", self.dir, timeout=120)

    def pg_start(self):
        self.devenv("pg-start", self.dir, timeout=120)

    def down(self):
        self.devenv("down", self.dir, check=False, timeout=120)

    def sql(self, query, timeout=60):
        """Runs SQL as the schema owner; returns unaligned tuples-only output."""
        p = self.devenv("psql", self.dir, "-At", "-c", query, timeout=timeout)
        return p.stdout

    def sql_script(self, script, timeout=60):
        """Runs a psql script (may contain backslash commands such as \\gexec) from stdin."""
        p = self.devenv("psql", self.dir, "-At", input=script, timeout=timeout)
        return p.stdout

    def fundd(self, *args, conf=None, timeout=60, input=None):
        cmd = [FUNDD]
        if conf is not False:
            cmd += ["-c", conf or self.conf]
        cmd += list(args)
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              input=input)

    def principal_add(self, name, roles, cert=None, conf=None):
        args = ["principal", "add", "--name", name, "--roles", ",".join(roles)]
        if cert:
            args += ["--cert", cert]
        p = self.fundd(*args, conf=conf)
        assert p.returncode == 0, "principal add failed (rc %d): %s %s" % (
            p.returncode, p.stdout, p.stderr)
        lines = [l for l in p.stdout.splitlines() if l.strip()]
        assert lines, "principal add printed nothing on stdout"
        return remember_token(lines[-1].strip())

    def write_conf(self, path, overrides=None, base=None):
        """Copies the base config with overrides {section: {key: value}} (value None deletes)."""
        cp = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"),
                                       inline_comment_prefixes=None)
        cp.optionxform = str
        cp.read(base or self.conf)
        for section, kv in (overrides or {}).items():
            if not cp.has_section(section):
                cp.add_section(section)
            for k, v in kv.items():
                if v is None:
                    cp.remove_option(section, k)
                else:
                    cp.set(section, k, str(v))
        with open(path, "w") as f:
            cp.write(f)
        return path

    def gen_client_cert(self, name, ca_crt=None, ca_key=None):
        """A fresh EC client certificate signed by the dev CA (or self-signed with ca_crt=False).
        Returns (crt, key)."""
        d = os.path.join(self.dir, "tls-test")
        os.makedirs(d, exist_ok=True)
        crt = os.path.join(d, name + ".crt")
        key = os.path.join(d, name + ".key")
        ext = os.path.join(d, name + ".ext")
        with open(ext, "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        if ca_crt is False:
            run = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days",
                   "30", "-subj", "/CN=" + name, "-addext", "extendedKeyUsage=clientAuth"]
            subprocess.run(run, check=True, capture_output=True)
            return crt, key
        csr = os.path.join(d, name + ".csr")
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + name],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt or self.ca,
                        "-CAkey", ca_key or self.ca_key, "-CAcreateserial",
                        "-CAserial", os.path.join(d, "ca.srl"), "-out", crt, "-days", "30",
                        "-extfile", ext], check=True, capture_output=True)
        return crt, key


# --------------------------------------------------------------------------------------------
# TLS contexts


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
# Daemon process


class Daemon:
    def __init__(self, env, name, conf, port):
        self.env = env
        self.name = name
        self.conf = conf
        self.port = port
        self.host = "127.0.0.1"
        self.log_path = os.path.join(env.dir, "fundd-%s.log" % name)
        self.proc = None
        self.returncode = None

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def start(self, timeout=30):
        logf = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen([FUNDD, "-c", self.conf], cwd=ROOT, stdout=logf,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        finally:
            logf.close()
        self.wait_ready(timeout)
        return self

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError("fundd %s exited with %d during start-up:\n%s" % (
                    self.name, rc, self.log_tail()))
            try:
                st, _, _ = http_get(self, "/healthz", timeout=2)
                if st == 200:
                    return
                last = "status %d" % st
            except (OSError, http.client.HTTPException, ssl.SSLError) as e:
                last = repr(e)
            time.sleep(0.1)
        raise AssertionError("fundd %s did not answer GET /healthz 200 within %ss (last: %s)\n%s"
                             % (self.name, timeout, last, self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        """SIGTERM, wait, return the exit code (killing it only if it hangs)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = "hung after SIGTERM (killed)"
                return self.returncode
        self.returncode = self.proc.returncode
        return self.returncode


# --------------------------------------------------------------------------------------------
# HTTP / JSON-RPC over http.client


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


class Session:
    """One HTTPS keep-alive connection to a daemon."""

    def __init__(self, daemon, token=None, cert=None, key=None, timeout=15, ctx=None):
        self.daemon = daemon
        self.token = token
        if token:
            remember_token(token)
        self.ctx = ctx or client_context(daemon.env, cert, key)
        self.conn = http.client.HTTPSConnection("127.0.0.1", daemon.port, context=self.ctx,
                                                timeout=timeout)
        self.next_id = 1

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
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        return Response(r.status, r.getheaders(), data)

    def post_rpc(self, payload, token=None, headers=None):
        body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        return self.request("POST", "/rpc", body=body, token=token, headers=headers)

    def rpc(self, method, params=None, token=None, rid=None):
        """Sends one call; returns (Response, decoded body)."""
        if rid is None:
            rid = self.next_id
            self.next_id += 1
        req = {"jsonrpc": "2.0", "method": method, "id": rid}
        if params is not None:
            req["params"] = params
        r = self.post_rpc(req, token=token)
        return r, (r.json() if r.body else None)

    def call(self, method, params=None, token=None):
        """Returns the result; raises RpcError on a JSON-RPC error."""
        r, doc = self.rpc(method, params, token=token)
        assert doc is not None, "empty body for %s (HTTP %d)" % (method, r.status)
        if "error" in doc:
            raise RpcError(r.status, doc["error"])
        assert r.status == 200, "HTTP %d with a result for %s" % (r.status, method)
        assert r.content_type == "application/json", r.headers
        assert doc.get("jsonrpc") == "2.0", doc
        assert "result" in doc, doc
        return doc["result"]


def session(daemon, token=None, **kw):
    return Session(daemon, token=token, **kw)


def call(daemon, token, method, params=None, **kw):
    with Session(daemon, token=token, **kw) as s:
        return s.call(method, params)


def rpc(daemon, token, method, params=None, **kw):
    with Session(daemon, token=token, **kw) as s:
        return s.rpc(method, params)


def post_rpc(daemon, token, payload, **kw):
    with Session(daemon, token=token, **kw) as s:
        return s.post_rpc(payload)


def http_get(daemon, path, token=None, timeout=15, **kw):
    with Session(daemon, token=token, timeout=timeout, **kw) as s:
        r = s.request("GET", path)
        return r.status, r.headers, r.body


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


def create_principal(daemon, admin_token, roles, name=None, **extra):
    params = {"name": name or uniq("p"), "roles": list(roles)}
    params.update(extra)
    res = call(daemon, admin_token, "principal.create", params)
    remember_token(res.get("token"))
    return res


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
# Holding a PostgreSQL lock to keep a request in flight


class TableLock:
    """Holds LOCK TABLE ... IN ACCESS EXCLUSIVE MODE in a psql session (as the schema owner)
    until release(). Requests that touch the table block in the database meanwhile."""

    def __init__(self, env, table="fl.principal"):
        self.env = env
        self.table = table
        schema, _, name = table.partition(".")
        self.schema, self.name = schema, name
        self.proc = subprocess.Popen([DEVENV, "psql", env.dir, "-At"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.proc.stdin.write("BEGIN;\nLOCK TABLE %s IN ACCESS EXCLUSIVE MODE;\n" % table)
        self.proc.stdin.flush()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("psql holding the lock exited: %s" % self.proc.stderr.read())
            if self.granted():
                return
            time.sleep(0.1)
        self.release()
        raise AssertionError("could not take the lock on %s" % table)

    def granted(self):
        out = self.env.sql(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '%s' "
            "AND c.relname = '%s' AND l.mode = 'AccessExclusiveLock' AND l.granted"
            % (self.schema, self.name))
        return out.strip() not in ("", "0")

    def waiters(self, user="fund", calls_only=False):
        """Backends of the daemon's login waiting on a lock; with calls_only, only those
        running a call (not, say, worker 0's fold of balance deltas)."""
        out = self.env.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = '%s' "
                           "AND wait_event_type = 'Lock'%s" % (
                               user, " AND query LIKE 'SELECT api.call(%'" if calls_only
                               else ""))
        return int(out.strip() or "0")

    def wait_for_waiters(self, n=1, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.waiters() >= n:
                return True
            time.sleep(0.1)
        return False

    def release(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("COMMIT;\n")
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.release()


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


# --------------------------------------------------------------------------------------------
# fundctl


def fundctl(*args, env_vars=None, timeout=30):
    e = dict(os.environ)
    for k in ("FUNDCTL_URL", "FUNDCTL_TOKEN", "FUNDCTL_CACERT"):
        e.pop(k, None)
    e.update(env_vars or {})
    return subprocess.run([FUNDCTL] + list(args), cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=e)


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
