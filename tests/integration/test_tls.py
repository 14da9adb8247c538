"""TLS: versions, no plaintext, robustness against broken handshakes (docs/protocol.md); a
certificate that is expired or not valid yet is refused at start and by check, and one
expiring within 14 days is warned of."""

import os
import socket
import ssl
import threading
import time

import pytest

from fl import certs
from fl.client import Client, call, client_context, raw_tls


def old_tls_context(env, version):
    """A client that can really speak TLS 1.0/1.1: OpenSSL 3 only allows them at security
    level 0, so without it the failure would be ours, not the server's."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(env.ca)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = version
    ctx.maximum_version = version
    return ctx


class OldTlsServer:
    """A local TLS server that accepts TLS 1.0/1.1, with the daemon's certificate: the control
    proving that old_tls_context() can complete an old handshake at all."""

    def __init__(self, env):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(env.tls + "/server.crt", env.tls + "/server.key")
        self.ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.sock.settimeout(10)
        try:
            c, _ = self.sock.accept()
        except OSError:
            return
        try:
            with self.ctx.wrap_socket(c, server_side=True) as t:
                t.recv(1)
        except (ssl.SSLError, OSError):
            pass

    def close(self):
        self.sock.close()


def handshake(port, ctx, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    t = ctx.wrap_socket(s, server_hostname="127.0.0.1")
    v = t.version()
    t.close()
    return v


@pytest.mark.parametrize("version,name", [(ssl.TLSVersion.TLSv1_1, "TLSv1.1"),
                                          (ssl.TLSVersion.TLSv1, "TLSv1")])
def test_old_tls_refused(env, daemon, version, name):
    ctx = old_tls_context(env, version)
    control = OldTlsServer(env)
    try:
        assert handshake(control.port, ctx) == name, "control handshake did not use " + name
    finally:
        control.close()
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        v = handshake(daemon.port, ctx)
        pytest.fail("fundd accepted a %s handshake (negotiated %s)" % (name, v))


def test_tls12_accepted(env, daemon, admin):
    ctx = client_context(env, minv=ssl.TLSVersion.TLSv1_2, maxv=ssl.TLSVersion.TLSv1_2)
    with Client(daemon, admin, ctx=ctx) as s:
        assert s.call("system.whoami")["name"] == "admin"
        assert s.sock.version() == "TLSv1.2"


def test_tls13_preferred(env, daemon, admin):
    with Client(daemon, admin) as s:
        assert s.call("system.whoami")["name"] == "admin"
        assert s.sock.version() == "TLSv1.3"


def test_server_certificate_verifies(env, daemon):
    # check_hostname is on: the certificate must match 127.0.0.1 and chain to the dev CA.
    with raw_tls(daemon) as t:
        cert = t.getpeercert()
    assert cert and any(v == "127.0.0.1" for _, v in cert.get("subjectAltName", ()))


def test_no_plaintext_http(daemon):
    s = socket.create_connection(("127.0.0.1", daemon.port), timeout=5)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        try:
            while len(data) < 64:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    finally:
        s.close()
    assert not data.startswith(b"HTTP/"), "fundd answered plaintext HTTP: %r" % data[:100]


def test_broken_handshakes_do_not_hurt(env, daemon, admin):
    # Half a ClientHello then close; garbage; a TLS record header then close.
    for raw in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", b"\x00" * 300,
                b"\x16\x03\x03\x00\x05hello", b""):
        s = socket.create_connection(("127.0.0.1", daemon.port), timeout=5)
        try:
            if raw:
                s.sendall(raw)
        finally:
            s.close()
    # A request half sent, then the socket closed without close_notify (SSLSocket.close()
    # does not send one).
    t = raw_tls(daemon)
    t.sendall(b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"jsonrpc\"")
    t.close()
    time.sleep(0.2)
    assert call(daemon, admin, "system.whoami")["name"] == "admin"


@pytest.mark.parametrize("case", ["expired", "not_yet_valid"])
def test_certificate_out_of_its_validity_is_refused_by_check_and_serve(env, case):
    now = int(time.time())
    nb, na, what = {"expired": (now - 60 * 86400, now - 3600, "has expired"),
                    "not_yet_valid": (now + 3600, now + 60 * 86400, "is not valid yet")}[case]
    d = os.path.join(env.dir, "tls-" + case)
    crt, key = certs.server_cert(env, d, "server", nb, na)
    conf = env.write_conf(os.path.join(env.dir, "fundd-%s.conf" % case),
                          {"server": {"tls_cert": crt, "tls_key": key}})
    for args in (("check",), ()):
        p = env.fundd(*args, conf=conf)
        out = p.stdout + p.stderr
        assert p.returncode == 2, (args, p.returncode, out)
        assert what in out and crt in out, out
        assert certs.rfc3339(nb) in out and certs.rfc3339(na) in out, out
        assert "listening" not in out


def test_certificate_expiring_soon_is_accepted_by_check_with_a_warning(env):
    now = int(time.time())
    crt, key = certs.server_cert(env, os.path.join(env.dir, "tls-soon-check"), "server",
                                 now - 3600, now + 10 * 86400)
    conf = env.write_conf(os.path.join(env.dir, "fundd-soon-check.conf"),
                          {"server": {"tls_cert": crt, "tls_key": key}})
    p = env.fundd("check", conf=conf)
    assert p.returncode == 0, p.stderr
    assert "warning" in p.stderr and crt in p.stderr, p.stderr
    assert "expires at %s, in " % certs.rfc3339(now + 10 * 86400) in p.stderr, p.stderr
    # the suite's own certificate has years to go: no warning
    p = env.fundd("check")
    assert p.returncode == 0 and "warning" not in p.stderr, p.stderr
