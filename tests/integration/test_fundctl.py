"""bin/fundctl, the thin client: output, exit codes, environment variables, parameters."""

import json

import pytest

from fl.env import fake_token, free_port, fundctl, remember_token, uniq
from fl.client import call


def base(daemon, token=None):
    a = ["--url", daemon.url, "--cacert", daemon.env.ca]
    if token:
        a += ["--token", token]
    return a


def test_call_whoami(daemon, admin):
    p = fundctl(*base(daemon, admin), "call", "system.whoami")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["name"] == "admin"
    assert res["roles"] == ["admin"]
    assert "jsonrpc" not in res, "fundctl should print the result, not the envelope"


def test_environment_variables(daemon, admin):
    p = fundctl("call", "system.version", env_vars={
        "FUNDCTL_URL": daemon.url, "FUNDCTL_TOKEN": admin, "FUNDCTL_CACERT": daemon.env.ca})
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["protocol"] == 1


def test_flags_override_environment(daemon, admin):
    p = fundctl(*base(daemon, admin), "call", "system.whoami", env_vars={
        "FUNDCTL_URL": "https://127.0.0.1:%d" % free_port(), "FUNDCTL_TOKEN": fake_token(),
        "FUNDCTL_CACERT": daemon.env.ca})
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["name"] == "admin"


def test_string_and_json_params(daemon, admin):
    name = uniq("ctl")
    p = fundctl(*base(daemon, admin), "call", "principal.create", "name=" + name,
                'roles:=["approver","auditor"]')
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["pending"] is True and res["token"] is None, res
    # a second admin confirms it, and only then is there a token
    p = fundctl(*base(daemon, daemon.env.confirmer(daemon.conf)), "call",
                "principal.confirm", "principal_id=" + res["principal_id"])
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    remember_token(res["token"])
    me = call(daemon, res["token"], "system.whoami")
    assert me["name"] == name
    assert sorted(me["roles"]) == ["approver", "auditor"]


def test_string_param_is_a_string(daemon, admin):
    # name=123 must be sent as the string "123" (a JSON number would be refused).
    p = fundctl(*base(daemon, admin), "call", "principal.create", "name=123",
                'roles:=["auditor"]')
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    remember_token(res["token"])
    assert call(daemon, res["token"], "system.whoami")["name"] == "123"


def test_json_param_type_error(daemon, admin):
    p = fundctl(*base(daemon, admin), "call", "principal.create", "name:=42",
                'roles:=["auditor"]')
    assert p.returncode == 1
    assert "-32602" in p.stderr


def test_rpc_error_exit_1(daemon, admin):
    p = fundctl(*base(daemon, admin), "call", "principal.revoke", "principal_id=no-such")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "-32004" in p.stderr


def test_unknown_method_exit_1(daemon, admin):
    p = fundctl(*base(daemon, admin), "call", "system.nothing")
    assert p.returncode == 1
    assert "-32601" in p.stderr


def test_forbidden_exit_1(daemon, auditor):
    p = fundctl(*base(daemon, auditor["token"]), "call", "principal.create", "name=x",
                'roles:=["auditor"]')
    assert p.returncode == 1
    assert "-32003" in p.stderr


def test_bad_token_exit_1(daemon):
    p = fundctl(*base(daemon, fake_token()), "call", "system.whoami")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "-32001" in p.stderr


@pytest.mark.parametrize("args", [[], ["call"], ["frobnicate"], ["call", "system.whoami", "novalue"],
                                  ["call", "system.whoami", "x:={bad json"]],
                         ids=["nothing", "call-no-method", "unknown-command", "bad-param",
                              "bad-json-param"])
def test_usage_errors_exit_2(daemon, admin, args):
    p = fundctl(*base(daemon, admin), *args)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.strip()


def test_connection_refused_exit_2(daemon, admin):
    p = fundctl("--url", "https://127.0.0.1:%d" % free_port(), "--cacert", daemon.env.ca,
                "--token", admin, "call", "system.whoami")
    assert p.returncode == 2
    assert p.stderr.strip()


def test_untrusted_server_certificate_exit_2(env, daemon, admin):
    # The client certificate is no CA: the daemon's certificate does not verify against it.
    p = fundctl("--url", daemon.url, "--cacert", env.client_crt, "--token", admin, "call",
                "system.whoami")
    assert p.returncode == 2
    assert p.stdout.strip() == ""


def test_missing_url_exit_2(admin, env):
    p = fundctl("--cacert", env.ca, "--token", admin, "call", "system.whoami")
    assert p.returncode == 2
