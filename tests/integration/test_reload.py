"""SIGHUP: the certificate and key are reloaded; a bad new pair is refused, logged, and the
old one keeps serving. The log level is reloaded too."""

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time

from fl.env import uniq
from fl.client import call, client_context


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
