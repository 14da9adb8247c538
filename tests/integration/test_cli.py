"""bin/fundd command line: --version, --help, check, migrate, principal add, bad configs and
arguments (docs/protocol.md)."""

import os
import shutil
import subprocess

import pytest

from fl.env import FUNDD, ROOT, free_port, uniq
from fl.client import call


def run(*args, timeout=30):
    return subprocess.run([FUNDD] + list(args), cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def message_lines(p):
    return [l for l in (p.stdout + p.stderr).splitlines() if l.strip()]


def test_version(daemon, admin):
    p = run("--version")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip()
    v = call(daemon, admin, "system.version")["version"]
    assert v in p.stdout, "--version says %r, system.version says %r" % (p.stdout, v)


def test_help():
    p = run("--help")
    assert p.returncode == 0, p.stderr
    text = p.stdout + p.stderr
    assert "-c" in text
    for word in ("migrate", "check", "principal"):
        assert word in text, "--help does not mention %s" % word


def test_check_valid_config(env):
    p = env.fundd("check")
    assert p.returncode == 0, p.stdout + p.stderr


def test_check_accepts_documented_extra_keys(env):
    conf = env.write_conf(os.path.join(env.dir, "check-extra.conf"), {
        "server": {"max_header_bytes": 8192, "max_connections": 64, "max_body_bytes": 4096,
                   "io_timeout_s": 5, "workers": 2},
        "database": {"wait_queue": 16, "pool_size": 2, "replica_dsn": ""},
        "audit": {"checkpoint_interval_s": 5},
        "log": {"level": "debug", "format": "json"},
    })
    p = env.fundd("check", conf=conf)
    assert p.returncode == 0, p.stdout + p.stderr


def test_check_accepts_protocol_example_style(env):
    """Inline `;` comments after a value."""
    with open(env.conf) as f:
        text = f.read()
    text = text.replace("[server]\n", "[server]\nmax_connections = 1024       ; comment\n", 1)
    path = os.path.join(env.dir, "check-comments.conf")
    with open(path, "w") as f:
        f.write(text)
    p = env.fundd("check", conf=path)
    assert p.returncode == 0, p.stdout + p.stderr


BAD = [
    ("unknown-key", {"server": {"bogus_key": "1"}}, "bogus_key"),
    ("unknown-db-key", {"database": {"dns": "x"}}, "dns"),
    ("bad-int", {"server": {"max_connections": "lots"}}, "max_connections"),
    ("negative", {"server": {"io_timeout_s": "-1"}}, "io_timeout_s"),
    ("zero-pool", {"database": {"pool_size": "0"}}, "pool_size"),
    ("bad-level", {"log": {"level": "loud"}}, "level"),
    ("bad-format", {"log": {"format": "xml"}}, "format"),
    ("bad-listen", {"server": {"listen": "nowhere"}}, "listen"),
    ("bad-body", {"server": {"max_body_bytes": "1MB"}}, "max_body_bytes"),
    ("bad-header", {"server": {"max_header_bytes": "x"}}, "max_header_bytes"),
    ("bad-queue", {"database": {"wait_queue": "-3"}}, "wait_queue"),
    ("no-cert", {"server": {"tls_cert": None}}, "tls_cert"),
    ("no-key", {"server": {"tls_key": None}}, "tls_key"),
    ("no-dsn", {"database": {"dsn": None}}, "dsn"),
    ("unknown-section", {"bogus_section": {"x": "1"}}, "bogus_section"),
]


@pytest.mark.parametrize("name,overrides,key", BAD, ids=[b[0] for b in BAD])
def test_check_bad_config(env, name, overrides, key):
    conf = env.write_conf(os.path.join(env.dir, "bad-%s.conf" % name), overrides)
    p = env.fundd("check", conf=conf)
    assert p.returncode == 2, "rc %d: %s %s" % (p.returncode, p.stdout, p.stderr)
    lines = message_lines(p)
    assert len(lines) == 1, "expected one line, got %r" % lines
    assert key in lines[0], "message %r does not name %s" % (lines[0], key)


def test_serve_with_bad_config_exits_2(env):
    port = free_port()
    conf = env.write_conf(os.path.join(env.dir, "bad-serve.conf"),
                          {"server": {"listen": "127.0.0.1:%d" % port, "frobnicate": "yes"}})
    p = env.fundd(conf=conf, timeout=15)
    assert p.returncode == 2
    assert "frobnicate" in p.stdout + p.stderr


def test_unreadable_tls_cert(env):
    conf = env.write_conf(os.path.join(env.dir, "bad-certpath.conf"),
                          {"server": {"listen": "127.0.0.1:%d" % free_port(),
                                      "tls_cert": "/nonexistent/server.crt"}})
    p = env.fundd(conf=conf, timeout=15)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "tls_cert" in p.stdout + p.stderr or "/nonexistent/server.crt" in p.stdout + p.stderr


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_loose_tls_key_refused(env, tmp_path, mode):
    """A server key that group or others may read or write is refused by check and serve,
    in one line naming tls_key and the mode."""
    key = tmp_path / "server.key"
    shutil.copy(os.path.join(env.tls, "server.key"), key)
    os.chmod(key, mode)
    conf = env.write_conf(os.path.join(env.dir, "loose-key.conf"),
                          {"server": {"listen": "127.0.0.1:%d" % free_port(),
                                      "tls_key": str(key)}})
    for args in (("check",), ()):
        p = env.fundd(*args, conf=conf, timeout=15)
        assert p.returncode == 2, p.stdout + p.stderr
        text = p.stdout + p.stderr
        assert "tls_key" in text and "%04o" % mode in text and "chmod 600" in text, text
    os.chmod(key, 0o600)
    p = env.fundd("check", conf=conf)
    assert p.returncode == 0, p.stdout + p.stderr


def test_missing_config_file():
    p = run("-c", "/nonexistent/fundd.conf", "check")
    assert p.returncode == 2
    assert message_lines(p)


@pytest.mark.parametrize("args", [["--bogus"], ["-c"], ["CONF", "frobnicate"],
                                  ["CONF", "principal", "add", "--roles", "auditor"],
                                  ["CONF", "principal", "add", "--name", "x"],
                                  ["CONF", "principal", "add", "--name", "x", "--roles", "wizard"],
                                  ["CONF", "principal", "frob"],
                                  ["CONF", "principal", "add", "--name", "x", "--roles", "auditor",
                                   "--cert", "/nonexistent/client.crt"]],
                         ids=["unknown-option", "c-without-file", "unknown-command",
                              "add-no-name", "add-no-roles", "add-bad-role", "principal-frob",
                              "add-missing-cert"])
def test_bad_arguments(env, args):
    args = [a if a != "CONF" else None for a in args]
    full = []
    for a in args:
        full += ["-c", env.conf] if a is None else [a]
    p = run(*full)
    assert p.returncode == 2, "rc %d for %r: %s %s" % (p.returncode, full, p.stdout, p.stderr)
    assert message_lines(p)


def test_migrate_is_idempotent(env):
    for _ in range(2):
        p = env.fundd("migrate", timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr


def test_principal_add_prints_working_token(env, daemon):
    name = uniq("cli")
    tok = env.principal_add(name, ["approver", "auditor"])
    assert len(tok) >= 22 and " " not in tok
    me = call(daemon, tok, "system.whoami")
    assert me["name"] == name
    assert sorted(me["roles"]) == ["approver", "auditor"]
