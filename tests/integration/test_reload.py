"""SIGHUP: the certificate and key are reloaded; a bad new pair (also an expired or not yet
valid certificate) is refused, logged, and the old one keeps serving. A certificate that
expires within 14 days is warned of, and /metrics shows when the one in use expires. The
log level is reloaded too; every other changed setting is named in the log as waiting for a
restart."""

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from fl import certs
from fl.env import free_port, uniq
from fl.client import call, client_context, metric_value, scrape


def _served_cert_sha256(daemon, env):
    ctx = client_context(env)
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def _file_cert_sha256(path):
    der = subprocess.run(["openssl", "x509", "-in", path, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return hashlib.sha256(der).hexdigest()


def _new_server_cert(env, d, name):
    key = os.path.join(d, name + ".key")
    csr = os.path.join(d, name + ".csr")
    crt = os.path.join(d, name + ".crt")
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", env.ca, "-CAkey", env.ca_key,
                    "-CAcreateserial", "-CAserial", os.path.join(d, "ca.srl"), "-out", crt,
                    "-days", "30", "-extfile", ext], check=True, capture_output=True)
    return crt, key


def _wait_for_log(daemon, needle, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if needle in daemon.log_tail(20000):
            return True
        time.sleep(0.1)
    return False


def test_sighup_reloads_certificate_and_keeps_old_on_bad(env, daemon_factory, admin):
    d = os.path.join(env.dir, "tls-reload")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cert = os.path.join(d, "server.crt")
    key = os.path.join(d, "server.key")
    shutil.copy(os.path.join(env.tls, "server.crt"), cert)
    shutil.copy(os.path.join(env.tls, "server.key"), key)
    dm = daemon_factory(uniq("reload"), {"server": {"tls_cert": cert, "tls_key": key}})
    first = _served_cert_sha256(dm, env)
    assert first == _file_cert_sha256(cert)

    # a new valid pair: served after SIGHUP
    new_crt, new_key = _new_server_cert(env, d, "next")
    shutil.copy(new_crt, cert)
    shutil.copy(new_key, key)
    second = _file_cert_sha256(cert)
    assert second != first
    dm.signal(signal.SIGHUP)
    assert _wait_for_log(dm, "certificate and key reloaded")
    assert _served_cert_sha256(dm, env) == second
    assert call(dm, admin, "system.whoami")["roles"] == ["admin"]

    # a bad pair (key of another certificate): refused, logged, old one still served
    other_crt, other_key = _new_server_cert(env, d, "other")
    shutil.copy(other_key, key)
    dm.signal(signal.SIGHUP)
    assert _wait_for_log(dm, "keeping the old certificate and key")
    assert dm.alive()
    assert _served_cert_sha256(dm, env) == second
    assert call(dm, admin, "system.whoami")["roles"] == ["admin"]

    # the matching key again, but readable by others: refused the same way
    shutil.copy(new_key, key)
    os.chmod(key, 0o644)
    before = dm.log_tail(20000).count("keeping the old certificate and key")
    dm.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while dm.log_tail(20000).count("keeping the old certificate and key") == before:
        assert time.time() < deadline, "no log line for the loose key"
        time.sleep(0.1)
    assert "chmod 600" in dm.log_tail(20000)
    assert _served_cert_sha256(dm, env) == second
    os.chmod(key, 0o600)

    # garbage in the certificate file: same
    with open(cert, "w") as f:
        f.write("not a certificate\n")
    before = dm.log_tail(20000).count("keeping the old certificate and key")
    dm.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while dm.log_tail(20000).count("keeping the old certificate and key") == before:
        assert time.time() < deadline, "no log line for the bad certificate"
        time.sleep(0.1)
    assert _served_cert_sha256(dm, env) == second


def test_sighup_reloads_log_level(env, daemon_factory, admin):
    dm = daemon_factory(uniq("loglevel"), {"log": {"level": "info"}})
    call(dm, admin, "system.whoami")
    assert "call system.whoami" not in dm.log_tail(20000)
    env.write_conf(dm.conf, {"log": {"level": "debug"}}, base=dm.conf)
    dm.signal(signal.SIGHUP)
    assert _wait_for_log(dm, "certificate and key reloaded")
    call(dm, admin, "system.whoami")
    assert _wait_for_log(dm, "call system.whoami")


def _install(src_crt, src_key, crt, key):
    shutil.copy(src_crt, crt)
    shutil.copy(src_key, key)
    os.chmod(key, 0o600)


def _reload_daemon(env, daemon_factory, name, crt_key=None):
    """A daemon serving its own copy of a certificate and key (the suite's, or crt_key)."""
    d = os.path.join(env.dir, "tls-" + name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cert = os.path.join(d, "server.crt")
    key = os.path.join(d, "server.key")
    src = crt_key or (os.path.join(env.tls, "server.crt"), os.path.join(env.tls, "server.key"))
    _install(src[0], src[1], cert, key)
    dm = daemon_factory(uniq(name), {"server": {"tls_cert": cert, "tls_key": key}})
    return dm, d, cert, key


def _sighup_and_wait(dm, needle):
    before = dm.log_tail(100000).count(needle)
    dm.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while dm.log_tail(100000).count(needle) == before:
        assert time.time() < deadline, "no %r in the log after SIGHUP:\n%s" % (
            needle, dm.log_tail())
        time.sleep(0.1)
    return dm.log_tail(100000)


def test_sighup_refuses_expired_and_not_yet_valid_certificates(env, daemon_factory, admin):
    dm, d, cert, key = _reload_daemon(env, daemon_factory, "validity")
    served = _served_cert_sha256(dm, env)
    now = int(time.time())
    cases = [("expired", now - 60 * 86400, now - 86400, "has expired"),
             ("future", now + 86400, now + 60 * 86400, "is not valid yet")]
    for name, nb, na, what in cases:
        crt, k = certs.server_cert(env, d, name, nb, na)
        _install(crt, k, cert, key)
        log = _sighup_and_wait(dm, what)
        line = [l for l in log.splitlines() if what in l][-1]
        assert "keeping the old certificate and key" in line, line
        assert cert in line and certs.rfc3339(nb) in line and certs.rfc3339(na) in line, line
        assert dm.alive()
        assert _served_cert_sha256(dm, env) == served
        assert call(dm, admin, "system.whoami")["roles"] == ["admin"]


def test_certificate_expiring_soon_is_warned_of_and_its_expiry_is_a_metric(
        env, daemon_factory, admin):
    now = int(time.time())
    d = os.path.join(env.dir, "tls-soon-src")
    soon = certs.server_cert(env, d, "soon", now - 3600, now + 5 * 86400)
    dm, d, cert, key = _reload_daemon(env, daemon_factory, "soon", soon)
    warning = "expires at %s" % certs.rfc3339(now + 5 * 86400)
    assert warning in dm.log_tail(100000), dm.log_tail()
    _, samples = scrape(dm, admin)
    assert metric_value(samples, "fundd_tls_cert_not_after_seconds") == now + 5 * 86400

    # a certificate with months to go: no warning, and the metric follows it
    later = certs.server_cert(env, d, "later", now - 3600, now + 90 * 86400)
    _install(later[0], later[1], cert, key)
    log = _sighup_and_wait(dm, "certificate and key reloaded")
    assert log.count("expires at") == 1
    _, samples = scrape(dm, admin)
    assert metric_value(samples, "fundd_tls_cert_not_after_seconds") == certs.not_after(cert)
    assert certs.not_after(cert) == now + 90 * 86400

    # one with three days left: reloaded, with a warning
    short = certs.server_cert(env, d, "short", now - 3600, now + 3 * 86400)
    _install(short[0], short[1], cert, key)
    log = _sighup_and_wait(dm, "certificate and key reloaded")
    line = [l for l in log.splitlines() if "expires at" in l][-1]
    assert "SIGHUP" in line and cert in line and certs.rfc3339(now + 3 * 86400) in line, line
    assert _served_cert_sha256(dm, env) == _file_cert_sha256(cert)
    _, samples = scrape(dm, admin)
    assert metric_value(samples, "fundd_tls_cert_not_after_seconds") == now + 3 * 86400


def test_sighup_names_each_setting_that_needs_a_restart(env, daemon_factory, admin):
    dm = daemon_factory(uniq("restart-keys"), {
        "server": {"workers": 2, "io_timeout_s": 10},
        "database": {"pool_size": 4},
        "log": {"level": "info", "format": "text"}})
    other = free_port()
    with open(dm.conf) as f:
        dsn = [l.split("=", 1)[1].strip() for l in f if l.startswith("dsn")][0]
    env.write_conf(dm.conf, {
        "server": {"listen": "127.0.0.1:%d" % other, "workers": 1, "io_timeout_s": 30},
        "database": {"pool_size": 3, "dsn": dsn + " application_name=fundd-secret-marker"},
        "log": {"level": "debug", "format": "json"}}, base=dm.conf)
    log = _sighup_and_wait(dm, "certificate and key reloaded")
    deadline = time.time() + 10
    changed = ["[server] listen", "[server] io_timeout_s", "[server] workers",
               "[database] dsn", "[database] pool_size", "[log] format"]
    while log.count("takes effect at the next restart") < len(changed):
        assert time.time() < deadline, log[-3000:]
        time.sleep(0.1)
        log = dm.log_tail(100000)
    lines = [l for l in log.splitlines() if "takes effect at the next restart" in l]
    assert len(lines) == len(changed), lines
    for key in changed:
        assert sum(("SIGHUP: %s changed" % key) in l for l in lines) == 1, (key, lines)
    # values are never logged: a dsn may hold a password
    assert "fundd-secret-marker" not in log
    # what SIGHUP applies was applied: the level; the rest runs as before
    assert "SIGHUP: [log] level is now debug" in log
    call(dm, admin, "system.whoami")
    assert _wait_for_log(dm, "call system.whoami")
    assert not dm.log_tail(300).strip().splitlines()[-1].startswith("{")
    assert call(dm, admin, "system.whoami")["roles"] == ["admin"]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", other), timeout=2).close()
