"""Session set-up for the fundd integration suite.

FUND_TEST_DIR (default ROOT/var/test) holds the PostgreSQL cluster, TLS material, configs and
daemon logs. `config/devenv.sh up` is idempotent, so the suite can be re-run on the same
directory; `make test` starts from an empty one. The suite's database is set up from an
earlier release and then upgraded (FUND_UPGRADE_FROM, test_migrations.py), so every test also
checks that an upgraded database works. FUND_TEST_KEEP_PG=1 leaves PostgreSQL running
at the end (for poking at the database after a failure).

At the end of the session, once every daemon has stopped, no daemon log may hold any bearer
token the session sent or received (docs/protocol.md, STYLE habit 5): a token found fails
the run, as an error in the teardown of its last test.
"""

import os

import pytest

from fl.env import FUNDD, ROOT, USED_TOKENS, Daemon, Env, free_port, scan_logs, uniq
from fl.client import Client, api_of, create_principal


def _whole_suite(session):
    """Whether the session ran every test file of this directory."""
    here = os.path.dirname(os.path.abspath(__file__))
    files = {n for n in os.listdir(here) if n.startswith("test_") and n.endswith(".py")}
    return files <= {os.path.basename(str(item.fspath)) for item in session.items}


def _test_dir():
    return os.environ.get("FUND_TEST_DIR") or os.path.join(ROOT, "var", "test")


def _logs_problems(e, whole_suite):
    """What is wrong with the daemon logs of the session (a list of messages)."""
    problems = []
    if e.admin_token not in USED_TOKENS:
        problems.append("the admin token is not among the used tokens")
    # the whole suite uses many tokens (every principal it creates, and the fake ones): ten
    # or fewer would mean it no longer records them, and the scan would prove nothing
    if whole_suite and len(USED_TOKENS) <= 10:
        problems.append("only %d tokens recorded by the whole suite" % len(USED_TOKENS))
    if getattr(e, "main_log", None) and not os.path.exists(e.main_log):
        problems.append("the main daemon's log %s is missing" % e.main_log)
    hits = scan_logs(e.dir)
    if hits:
        problems.append("bearer tokens found in daemon logs: %r" % hits)
    return problems


@pytest.fixture(scope="session")
def env(request):
    assert os.access(FUNDD, os.X_OK), "%s is not built: run make" % FUNDD
    e = Env(_test_dir())
    os.environ.setdefault("FUND_UPGRADE_FROM", os.path.join(
        ROOT, "tests", "integration", "fixtures", "migrations-0014.tar.gz"))
    e.port = free_port()
    e.main_log = None
    e.up(e.port)
    yield e
    # Every daemon has stopped by now (their fixtures depend on this one), so each log holds
    # all its daemon wrote, the main daemon's the whole suite's traffic.
    problems = _logs_problems(e, _whole_suite(request.session))
    if os.environ.get("FUND_TEST_KEEP_PG") != "1":
        e.down()
    assert not problems, "; ".join(problems)


@pytest.fixture(scope="session")
def admin(env):
    return env.admin_token


class DaemonFactory:
    """Starts extra daemons with modified copies of the base config; stops them at teardown
    and checks they exit 0 on SIGTERM."""

    def __init__(self, env):
        self.env = env
        self.daemons = []

    def __call__(self, name, overrides=None, start=True):
        port = free_port()
        ov = {"server": {"listen": "127.0.0.1:%d" % port}}
        for section, kv in (overrides or {}).items():
            ov.setdefault(section, {}).update(kv)
        conf = self.env.write_conf(os.path.join(self.env.dir, "fundd-%s.conf" % name), ov)
        d = Daemon(self.env, name, conf, port)
        self.daemons.append(d)
        if start:
            d.start()
        return d

    def finish(self):
        bad = []
        for d in self.daemons:
            if d.proc is None:
                continue
            was_checked = d.returncode is not None
            rc = d.stop()
            if not was_checked and rc != 0:
                bad.append((d.name, rc, d.log_tail(1500)))
        assert not bad, "daemons did not exit 0 on SIGTERM: %r" % bad


@pytest.fixture
def daemon_factory(env):
    f = DaemonFactory(env)
    yield f
    f.finish()


@pytest.fixture(scope="module")
def module_daemon_factory(env):
    f = DaemonFactory(env)
    yield f
    f.finish()


@pytest.fixture(scope="session")
def daemon(env):
    """The main daemon, on the config devenv.sh wrote, except that it does not slow down
    addresses that keep failing to authenticate: the whole suite calls from 127.0.0.1, and
    many tests fail on purpose (test_throttle.py has a daemon of its own for that)."""
    conf = env.write_conf(os.path.join(env.dir, "fundd-main.conf"),
                          {"server": {"auth_fail_limit": 0}})
    d = Daemon(env, "main", conf, env.port)
    env.main_log = d.log_path
    d.start()
    yield d
    rc = d.stop()
    assert rc == 0, "fundd main exited with %r on SIGTERM\n%s" % (rc, d.log_tail())


@pytest.fixture(scope="session")
def auditor(daemon, admin):
    return create_principal(daemon, admin, ["auditor"], name=uniq("auditor"))


@pytest.fixture(scope="session")
def approver(daemon, admin):
    return create_principal(daemon, admin, ["approver"], name=uniq("approver"))


@pytest.fixture(scope="module")
def api(daemon, admin):
    """The bootstrap admin on a keep-alive connection of the test module's own
    (Client.api); .pid is its principal_id."""
    with Client.api(daemon, admin) as a:
        a.pid = a.ok("system.whoami")["principal_id"]
        yield a


@pytest.fixture(scope="module")
def aud(daemon, auditor):
    """The session's auditor, likewise."""
    with api_of(daemon, auditor) as a:
        yield a


@pytest.fixture(scope="module")
def appr(daemon, approver):
    """The session's approver, likewise."""
    with api_of(daemon, approver) as a:
        yield a


@pytest.fixture
def principal(daemon, admin):
    """Factory: principal(roles...) -> {principal_id, token} of a fresh principal."""

    def make(*roles, name=None):
        return create_principal(daemon, admin, roles or ["auditor"], name=name)

    return make


@pytest.fixture(scope="session")
def cert_principal(env, daemon):
    """DIR/tls/client.crt registered with `principal add --cert` (role auditor). Re-runs on the
    same directory find it already registered (the marker file keeps its name)."""
    marker = os.path.join(env.dir, "client-cert-principal.name")
    if os.path.exists(marker):
        with open(marker) as f:
            name = f.read().strip()
    else:
        name = uniq("cert-client")
        env.principal_add(name, ["auditor"], cert=env.client_crt)
        with open(marker, "w") as f:
            f.write(name)
    return {"name": name, "cert": env.client_crt, "key": env.client_key}


@pytest.fixture(scope="module")
def browsers(env, daemon):
    """browsers(name) opens a headless Chromium session of its own (fl/browser.py) on the
    main daemon; every one opened in the module is closed at its end. Screenshots go under
    <test dir>/screenshots."""
    from fl.browser import Browser  # selenium only where a test drives a browser
    opened = []

    def make(name, **kw):
        b = Browser(daemon, os.path.join(env.dir, "screenshots"), name, **kw)
        opened.append(b)
        return b

    yield make
    for b in opened:
        b.close()
