#!/usr/bin/python3
"""make ha: a failover of PostgreSQL under load, with Patroni, loses no acknowledged call.

From scratch, in FUND_HA_DIR (default var/ha, recreated): a single-node etcd on loopback,
two Patroni nodes (PostgreSQL 127.0.0.1:P1 and :P2, run as the system user fundpg when we
are root) in synchronous mode, the roles and the database fundd needs, `fundd migrate`, an
admin principal, and fundd on the multi-host dsn `host=127.0.0.1,127.0.0.1 port=P1,P2 ...
target_session_attrs=read-write`, with the TLS material and keys of `devenv.sh tls`.

Then HA_THREADS connections (8) receive contributions, each call with its own idempotency
key, and send a call whose answer did not come (-32050, -32051, -32029, a broken
connection) again with the same key until it is acknowledged. After HA_WARMUP_S seconds
(4) the primary's PostgreSQL is killed with SIGKILL (the postmaster and every backend at
once). Patroni promotes the synchronous standby; the load goes on until fundd
acknowledges calls again, and HA_AFTER_S seconds (3) more.

It checks that every acknowledged receipt is in the new primary exactly once and nothing
else is, that each fund's balance is the sum of its acknowledged receipts and equals its
journal, that audit.verify is ok with the chain caught up (unchained 0) and a checkpoint
past the failover, that `fundctl export audit` verifies offline with the public key, that
fundd is the same process as before (never restarted), and that the old primary comes
back as the synchronous standby (Patroni rewinds it). It prints how long the failover
took; exits 1 on any failure. Whatever happens, it stops everything it started; the data of
the nodes and of etcd is removed after a run that passed (FUND_HA_KEEP=1 keeps it), their
logs stay (FUND_HA_DIR/pg1/patroni.log, ...).

HA_STRICT=1 runs it with synchronous_mode_strict (docs/operations.md says what it trades).
HA_ASYNC=1 runs it with asynchronous replication (synchronous_mode off), to show what that
risks: an acknowledged receipt that had not reached the standby is lost, and reported as
such, on the failovers where one was in flight.
"""

import atexit
import decimal
import glob
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import string
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import psycopg2  # noqa: E402

from fl.env import DEVENV, FUNDD, Daemon, Env, free_port, fundctl, uniq  # noqa: E402
from fl.client import TRANSPORT_ERRORS, Client, http_get  # noqa: E402
from fl.ledger import new_fund, new_partner  # noqa: E402

HA_DIR = os.path.realpath(os.environ.get("FUND_HA_DIR") or os.path.join(ROOT, "var", "ha"))
THREADS = int(os.environ.get("HA_THREADS", "8"))
WARMUP_S = float(os.environ.get("HA_WARMUP_S", "4"))
AFTER_S = float(os.environ.get("HA_AFTER_S", "3"))
STRICT = os.environ.get("HA_STRICT") == "1"
ASYNC = os.environ.get("HA_ASYNC") == "1"
STANDBY = ("asynchronous standby" if ASYNC else "synchronous standby (strict %s)" % (
    "on" if STRICT else "off"))
# a call not acknowledged by then fails the test
CALL_DEADLINE_S = 120
RETRYABLE = (-32050, -32051, -32029)
PG_OS_USER = "fundpg"
TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "patroni.yml.in")


def log(msg):
    print("ha: " + msg, flush=True)


def is_root():
    return os.geteuid() == 0


def as_pg():
    """subprocess arguments that run a command as the PostgreSQL OS user (initdb and
    postgres refuse root), itself and not under runuser: a signal to it reaches it."""
    if not is_root():
        return {}
    pg = pwd.getpwnam(PG_OS_USER)
    return {"user": pg.pw_uid, "group": pg.pw_gid, "extra_groups": [],
            "env": dict(Cluster.clean_env(), HOME=HA_DIR, USER=PG_OS_USER)}


def pg_bin():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[4]))
    if not dirs:
        raise SystemExit("ha: PostgreSQL server binaries not found: run 'make deps'")
    return dirs[-1]


def ensure_pg_user():
    if not is_root():
        return
    try:
        pwd.getpwnam(PG_OS_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", PG_OS_USER], check=True)


def socket_dir(node_dir):
    """The node's Unix socket directory: its run/, or, where that path would not fit in
    sun_path (108 bytes with the socket's name), /tmp/fundha-HASH, as devenv.sh does."""
    run = os.path.join(node_dir, "run")
    if len(run) <= 80:
        return run
    return "/tmp/fundha-" + hashlib.sha256(node_dir.encode()).hexdigest()[:12]


def fallback_base():
    return "/var/tmp/fundha-" + hashlib.sha256(HA_DIR.encode()).hexdigest()[:12]


def node_base():
    """Where the nodes' data lives: under HA_DIR (made already), or, when the PostgreSQL
    user cannot reach it (a checkout under a mode-700 home, as root), in
    /var/tmp/fundha-HASH, as devenv.sh does."""
    if not is_root() or subprocess.run(["test", "-x", HA_DIR], **as_pg()).returncode == 0:
        return HA_DIR
    base = fallback_base()
    os.makedirs(base)
    os.chmod(base, 0o755)
    return base


def http_json(port, path, timeout=2):
    """(status, decoded JSON or None) of GET http://127.0.0.1:port/path; (None, None) when
    nothing answers."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body or b"null")
        except ValueError:
            return e.code, None
    except (OSError, ValueError):
        return None, None


def wait_for(what, pred, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("%s: not within %.0f s" % (what, timeout))
        time.sleep(step)


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def children(pid):
    """The processes whose parent is pid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def kill_pid(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def kill_leftovers(dirs):
    """A run that was itself killed may have left its etcd, Patroni or PostgreSQL running:
    each process whose command line names one of our directories (only this test's own
    start them so) is killed, by its pid."""
    marks = [d + "/" for d in dirs]
    me = os.getpid()
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != me:
            cmd = proc_cmdline(int(d))
            if any(m in cmd for m in marks):
                kill_pid(int(d))


# --------------------------------------------------------------------------------------------
# The cluster: etcd and two Patroni nodes


class Node:
    def __init__(self, name, base, pg_port, rest_port):
        self.name = name
        self.dir = os.path.join(base, name)
        self.data = os.path.join(self.dir, "data")
        self.conf = os.path.join(self.dir, "patroni.yml")
        self.log = os.path.join(self.dir, "patroni.log")
        self.run = socket_dir(self.dir)
        self.pg_port = pg_port
        self.rest_port = rest_port
        self.proc = None

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                pid = int(f.readline())
        except (OSError, ValueError):
            return None
        return pid if self.data in proc_cmdline(pid) else None


class Cluster:
    def __init__(self, base, tls_dir):
        self.base = base
        self.scope = uniq("fund-ha")
        self.owner_password = secrets.token_hex(16)
        self.replication_password = secrets.token_hex(16)
        self.fund_password = secrets.token_hex(16)
        self.etcd_port, self.etcd_peer = free_port(), free_port()
        self.nodes = [Node("pg1", base, free_port(), free_port()),
                      Node("pg2", base, free_port(), free_port())]
        ports = [self.etcd_port, self.etcd_peer] + [p for n in self.nodes
                                                     for p in (n.pg_port, n.rest_port)]
        assert len(set(ports)) == len(ports), "free_port gave one port twice: %r" % ports
        self.etcd = None
        self.tls_dir = tls_dir

    def node(self, name):
        return next(n for n in self.nodes if n.name == name)

    def start_etcd(self):
        data = os.path.join(HA_DIR, "etcd")
        os.makedirs(data, mode=0o700)
        client = "http://127.0.0.1:%d" % self.etcd_port
        peer = "http://127.0.0.1:%d" % self.etcd_peer
        with open(os.path.join(HA_DIR, "etcd.log"), "wb") as logf:
            self.etcd = subprocess.Popen(
                ["etcd", "--name", "fund-ha", "--data-dir", data,
                 "--listen-client-urls", client, "--advertise-client-urls", client,
                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                 "--initial-cluster", "fund-ha=" + peer, "--initial-cluster-state", "new",
                 "--initial-cluster-token", self.scope],
                stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env=self.clean_env())
        wait_for("etcd answers /health", lambda: self.etcd_healthy(), 30)

    def etcd_healthy(self):
        if self.etcd.poll() is not None:
            raise AssertionError("etcd exited with %d (log: %s/etcd.log)" % (
                self.etcd.returncode, HA_DIR))
        st, doc = http_json(self.etcd_port, "/health")
        return st == 200 and doc and doc.get("health") == "true"

    @staticmethod
    def clean_env():
        """Our environment less the ETCD_* and PATRONI_* variables, which would override
        the configuration."""
        return {k: v for k, v in os.environ.items()
                if not k.startswith(("ETCD_", "PATRONI_", "PG"))}

    def start_node(self, node):
        os.makedirs(node.dir)
        os.makedirs(node.run, mode=0o700)
        with open(TEMPLATE) as f:
            text = string.Template(f.read()).substitute(
                scope=self.scope, name=node.name, rest_port=node.rest_port,
                etcd_port=self.etcd_port, pg_port=node.pg_port, node_dir=node.dir,
                run_dir=node.run,
                bin_dir=pg_bin(), owner_password=self.owner_password,
                replication_password=self.replication_password,
                sync="false" if ASYNC else "true", strict="true" if STRICT else "false")
        fd = os.open(node.conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        if is_root():
            pg = pwd.getpwnam(PG_OS_USER)
            for p in (node.dir, node.run, node.conf):
                os.chown(p, pg.pw_uid, pg.pw_gid)
            os.chmod(node.dir, 0o700)
        with open(node.log, "wb") as logf:
            node.proc = subprocess.Popen(["patroni", node.conf], stdout=logf,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, cwd=node.dir,
                                         **dict({"env": self.clean_env()}, **as_pg()))

    def members(self):
        """{name: member} of GET /cluster from the first node that answers."""
        for n in self.nodes:
            if n.proc and n.proc.poll() is None:
                st, doc = http_json(n.rest_port, "/cluster")
                if st == 200 and doc:
                    return {m["name"]: m for m in doc.get("members", [])}
        return {}

    def leader(self):
        for name, m in self.members().items():
            if m.get("role") == "leader" and m.get("state") == "running":
                return self.node(name)
        return None

    def sync_standby(self):
        """The synchronous standby (with HA_ASYNC, the standby), once it streams from the
        leader."""
        role = "replica" if ASYNC else "sync_standby"
        for name, m in self.members().items():
            if m.get("role") == role and m.get("state") in ("running", "streaming"):
                return self.node(name)
        return None

    def check_alive(self):
        for n in self.nodes:
            if n.proc and n.proc.poll() is not None:
                raise AssertionError("patroni %s exited with %d (log: %s)" % (
                    n.name, n.proc.returncode, n.log))

    def owner_dsn(self, node):
        return ("host=127.0.0.1 port=%d dbname=fund user=fund_owner password=%s "
                "connect_timeout=5" % (node.pg_port, self.owner_password))

    def sql(self, node, query, args=None, db="fund"):
        """Rows of a query run as the schema owner on node."""
        dsn = self.owner_dsn(node).replace("dbname=fund", "dbname=" + db)
        conn = psycopg2.connect(dsn)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(query, args)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def has_fund_db(self, node):
        try:
            self.sql(node, "SELECT 1")
            return True
        except psycopg2.OperationalError:
            return False

    def stop(self):
        """Patroni stops its PostgreSQL on SIGTERM; whatever is still running after 30 s is
        killed, PostgreSQL with pg_ctl -m immediate. etcd last: Patroni needs it to hand
        the leader key back."""
        live = [n for n in self.nodes if n.proc and n.proc.poll() is None]
        for n in live:
            n.proc.send_signal(signal.SIGTERM)
        for n in live:
            try:
                n.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(n.proc.pid, signal.SIGKILL)
                n.proc.wait()
        for n in self.nodes:
            if n.postmaster_pid():
                subprocess.run([os.path.join(pg_bin(), "pg_ctl"), "-D", n.data, "-m",
                                "immediate", "-w", "-t", "30", "stop"], capture_output=True,
                               cwd="/", **as_pg())
            pid = n.postmaster_pid()
            if pid:
                kill_pid(pid)
        if self.etcd and self.etcd.poll() is None:
            self.etcd.terminate()
            try:
                self.etcd.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.etcd.pid, signal.SIGKILL)
                self.etcd.wait()


# --------------------------------------------------------------------------------------------
# fundd on the cluster


def write_fundd_conf(cluster, port):
    tls = cluster.tls_dir
    hosts = ",".join("127.0.0.1" for _ in cluster.nodes)
    ports = ",".join(str(n.pg_port) for n in cluster.nodes)
    multi = "host=%s port=%s dbname=fund target_session_attrs=read-write connect_timeout=3" % (
        hosts, ports)
    conf = os.path.join(HA_DIR, "fundd.conf")
    text = """; written by tests/ha/failover.py: fundd on a Patroni cluster
[server]
listen = 127.0.0.1:%(port)d
tls_cert = %(tls)s/server.crt
tls_key = %(tls)s/server.key
client_ca = %(tls)s/ca.crt
auth_fail_limit = 0

[database]
dsn = %(multi)s user=fund password=%(fund_pw)s
migrate_dsn = %(multi)s user=fund_owner password=%(owner_pw)s
pool_size = 8

[audit]
signing_key = %(tls)s/audit-ed25519.pem
checkpoint_interval_s = 1

[privacy]
key_file = %(tls)s/privacy.key

[log]
level = info
format = text
""" % {"port": port, "tls": tls, "multi": multi, "fund_pw": cluster.fund_password,
       "owner_pw": cluster.owner_password}
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return conf


def run_fundd(conf, *args):
    p = subprocess.run([FUNDD, "-c", conf] + list(args), cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("fundd %s failed (rc %d): %s %s" % (
            " ".join(args), p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    return p.stdout


# --------------------------------------------------------------------------------------------
# The load


class Load:
    """THREADS connections receiving contributions into two funds until stopped; every
    call is sent again with its key until acknowledged."""

    def __init__(self, daemon, token, run, funds, partner):
        self.d = daemon
        self.token = token
        self.run = run
        self.funds = funds
        self.partner = partner
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.abort = threading.Event()
        self.acked = {}         # key -> (fund, amount, contribution_id)
        self.ack_times = []     # (time the acknowledged attempt was sent, time acked)
        self.errors = []
        self.counts = {"calls": 0, "retried": 0, "-32050": 0, "-32051": 0, "-32029": 0,
                       "transport": 0}
        self.threads = [threading.Thread(target=self.worker, args=(i,), daemon=True)
                        for i in range(THREADS)]

    def count(self, k):
        with self.lock:
            self.counts[k] += 1

    def start(self):
        for t in self.threads:
            t.start()

    def join(self):
        self.stop.set()
        for t in self.threads:
            t.join(CALL_DEADLINE_S + 30)
        return not any(t.is_alive() for t in self.threads)

    def worker(self, n):
        api = Client.api(self.d, self.token, timeout=20)
        i = 0
        while not self.stop.is_set():
            key = "%s-t%d-%d" % (self.run, n, i)
            fund = self.funds[(n + i) % len(self.funds)]
            amount = "%d.%02d" % (10 + (n * 7 + i) % 90, (n + i * 13) % 100)
            self.perform(api, key, {"partner_id": self.partner, "fund": fund,
                                    "amount": amount, "currency": "EUR", "bank_ref": key,
                                    "idempotency_key": key}, fund, amount)
            i += 1
        api.close()

    def perform(self, api, key, params, fund, amount):
        self.count("calls")
        deadline = time.monotonic() + CALL_DEADLINE_S
        attempt = 0
        while True:
            if attempt:
                self.count("retried")
                if self.abort.is_set():
                    return
                if time.monotonic() > deadline:
                    with self.lock:
                        self.errors.append((key, "not acknowledged within %d s" %
                                            CALL_DEADLINE_S))
                    return
                time.sleep(0.1)
            attempt += 1
            sent = time.monotonic()
            try:
                doc = api.reply("contribution.receive", params)
            except TRANSPORT_ERRORS:
                api.close()
                self.count("transport")
                continue
            if "error" in doc:
                code = doc["error"].get("code")
                if code in RETRYABLE:
                    self.count(str(code))
                    continue
                with self.lock:
                    self.errors.append((key, doc["error"]))
                return
            with self.lock:
                self.acked[key] = (fund, amount, doc["result"]["contribution_id"])
                self.ack_times.append((sent, time.monotonic()))
            return

    def first_ack_sent_after(self, t):
        """When the first acknowledged attempt sent after t was acknowledged (None: none
        yet)."""
        with self.lock:
            acks = [a for s, a in self.ack_times if s >= t]
        return min(acks) if acks else None

    def n_acked(self):
        with self.lock:
            return len(self.acked)


def kill_postgres(node):
    """SIGKILL to the node's postmaster and every one of its processes at once: the
    server dies as in a crash, with nothing shut down in order."""
    pid = node.postmaster_pid()
    assert pid, "no postmaster running for %s" % node.name
    pids = [pid] + children(pid)
    for p in pids:
        kill_pid(p)
    return pid


# --------------------------------------------------------------------------------------------


def main():
    t_start = time.monotonic()
    failures = []
    ensure_pg_user()
    kill_leftovers([HA_DIR, fallback_base()])
    for d in [HA_DIR, fallback_base()] + [socket_dir(os.path.join(b, n))
                                           for b in (HA_DIR, fallback_base())
                                           for n in ("pg1", "pg2")]:
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(HA_DIR)
    base = node_base()
    subprocess.run([DEVENV, "tls", HA_DIR], check=True, cwd=ROOT, capture_output=True)
    cluster = Cluster(base, os.path.join(HA_DIR, "tls"))
    daemon = None

    def cleanup():
        if daemon is not None and daemon.proc is not None and daemon.proc.poll() is None:
            daemon.stop()
        cluster.stop()
    atexit.register(cleanup)
    # SIGTERM (make's or a CI's timeout) cleans up as Ctrl-C does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    cluster.start_etcd()
    for n in cluster.nodes:
        cluster.start_node(n)

    def settled():
        cluster.check_alive()
        leader, sync = cluster.leader(), cluster.sync_standby()
        return leader and sync and (leader, sync)
    leader, sync = wait_for("a leader and a synchronous standby", settled, 120)
    t_cluster = time.monotonic()
    log("cluster up in %.1f s: %s leads, %s is the %s" % (
        t_cluster - t_start, leader.name, sync.name, STANDBY))

    # The roles and the database, as devenv.sh makes them: fund_owner (the bootstrap
    # superuser) owns the schema and runs migrations; fund logs in as a member of fundd_app.
    cluster.sql(leader, "CREATE ROLE fundd_app NOLOGIN", db="postgres")
    cluster.sql(leader, "CREATE ROLE fund LOGIN PASSWORD %s IN ROLE fundd_app",
                (cluster.fund_password,), db="postgres")
    cluster.sql(leader, "CREATE DATABASE fund OWNER fund_owner", db="postgres")
    # A standby has the database once it has replayed its creation (COMMIT waited for the
    # WAL to be flushed there, not replayed); libpq tries no further host after a server
    # that says it has no such database.
    wait_for("the database on every node", lambda: all(cluster.has_fund_db(n)
                                                      for n in cluster.nodes), 30)

    port = free_port()
    conf = write_fundd_conf(cluster, port)
    run_fundd(conf, "migrate")
    token = run_fundd(conf, "principal", "add", "--name", "admin",
                      "--roles", "admin").strip().splitlines()[-1]
    env = Env(HA_DIR)
    env.admin_token = token
    daemon = Daemon(env, "ha", conf, port)
    daemon.start(timeout=60)
    pid = daemon.proc.pid

    setup = Client.api(daemon, token)
    funds = [new_fund(setup, dual="100000")["code"] for _ in range(2)]
    partner = new_partner(setup)["partner_id"]
    setup.close()
    log("fundd %d serving on 127.0.0.1:%d, %.1f s after the start" % (
        pid, port, time.monotonic() - t_start))

    run = uniq("ha")
    load = Load(daemon, token, run, funds, partner)
    t_load0 = time.monotonic()
    load.start()
    time.sleep(WARMUP_S)
    if load.n_acked() == 0:
        failures.append("no call acknowledged before the failover")

    # The failover: the primary's PostgreSQL dies while the standby is synchronous.
    old, standby = cluster.leader(), cluster.sync_standby()
    assert old and standby and old is not standby, cluster.members()
    before = load.n_acked()
    killed = kill_postgres(old)
    t_kill = time.monotonic()
    log("killed the primary's PostgreSQL on %s (postmaster %d) with %d receipts "
        "acknowledged" % (old.name, killed, before))

    def promoted():
        cluster.check_alive()
        n = cluster.leader()
        return n if n is not None and n is not old else None
    try:
        new = wait_for("Patroni promotes the standby", promoted, 90)
        t_promoted = time.monotonic()
        t_recovered = wait_for("fundd acknowledges calls again",
                               lambda: load.first_ack_sent_after(t_kill), 90)
        t_health = wait_for("/healthz answers 200",
                            lambda: http_get(daemon, "/healthz", timeout=5)[0] == 200
                            and time.monotonic(), 60)
    except AssertionError as e:
        load.abort.set()
        raise AssertionError("%s; members %r" % (e, cluster.members()))
    if new is not standby:
        failures.append("Patroni promoted %s, not the synchronous standby %s" % (
            new.name, standby.name))
    log("%s promoted %.1f s after the kill; fundd acknowledged a call again after %.1f s, "
        "/healthz 200 after %.1f s" % (new.name, t_promoted - t_kill, t_recovered - t_kill,
                                        t_health - t_kill))
    time.sleep(AFTER_S)
    if not load.join():
        failures.append("the load's threads did not finish")
    t_load = time.monotonic()

    # The old primary comes back, rewound, as the synchronous standby.
    def rejoined():
        cluster.check_alive()
        n = cluster.sync_standby()
        return n is old
    try:
        wait_for("the old primary rejoins as the " + STANDBY, rejoined, 90)
        t_rejoined = time.monotonic()
    except AssertionError as e:
        failures.append("%s: members %r" % (e, cluster.members()))
        t_rejoined = None

    # Nothing answered with an error; the same fundd process throughout.
    c = load.counts
    if load.errors:
        failures.append("calls answered with an error or never acknowledged: %r" %
                        load.errors[:5])
    if c["retried"] == 0:
        failures.append("no call was retried: the failover went unnoticed")
    if daemon.proc.pid != pid or daemon.proc.poll() is not None:
        failures.append("fundd did not stay up through the failover")

    # Exactly once, in the new primary.
    acked = dict(load.acked)
    rows = cluster.sql(new, "SELECT bank_ref, contribution_id, fund_code FROM fl.contribution "
                       "WHERE bank_ref LIKE %s", (run + "-%",))
    seen = {}
    for ref, cid, fund in rows:
        seen.setdefault(ref, []).append((cid, fund))
    lost = sorted(k for k in acked if k not in seen)
    duplicated = sorted(k for k, v in seen.items() if len(v) > 1)
    unacked = sorted(k for k in seen if k not in acked)
    wrong = sorted(k for k, v in seen.items() if k in acked and len(v) == 1 and
                   v[0] != (acked[k][2], acked[k][0]))
    for what, keys in (("lost", lost), ("duplicated", duplicated),
                       ("in the database but never acknowledged", unacked),
                       ("recorded with another id or fund than acknowledged", wrong)):
        if keys:
            failures.append("%d receipts %s: %r" % (len(keys), what, keys[:5]))

    # The books: each fund holds the sum of its acknowledged receipts, and its journal.
    api = Client.api(daemon, token)
    for code in funds:
        want = sum((decimal.Decimal(a) for f, a, _ in acked.values() if f == code),
                   decimal.Decimal("0.00"))
        got = api.ok("fund.balance", {"code": code})
        if decimal.Decimal(got["received"]) != want:
            failures.append("fund %s received %s, the acknowledged receipts sum to %s" % (
                code, got["received"], want))
    ok = cluster.sql(new, "SELECT bool_and(fl.fund_balance_json(fl.fund_current(f)) = "
                     "fl.fund_balance_from_journal(f.code)) FROM fl.fund f")[0][0]
    if ok is not True:
        failures.append("a fund disagrees with its journal")
    events = cluster.sql(new, "SELECT count(*), count(DISTINCT object_id) FROM fl.audit_event "
                         "WHERE method = 'contribution.receive' AND outcome = 'ok' AND "
                         "object_id = ANY(%s)", ([v[2] for v in acked.values()],))[0]
    if events != (len(acked), len(acked)):
        failures.append("%d audit events for %d acknowledged receipts (%d distinct)" % (
            events[0], len(acked), events[1]))

    # The audit chain goes on in the new primary: verified, caught up, and signed past the
    # failover.
    verify = {}

    def chained():
        verify.update(api.ok("audit.verify"))
        return verify["ok"] and verify["unchained"] == 0
    try:
        wait_for("audit.verify ok with unchained 0", chained, 60, step=0.5)
    except AssertionError as e:
        failures.append("%s: %r" % (e, verify))
    head = verify.get("head_seq") or 0
    try:
        wait_for("a checkpoint at the chain's head", lambda: api.ok("audit.checkpoint")["seq"]
                 >= head, 30, step=0.5)
    except AssertionError as e:
        failures.append(str(e))
    api.close()
    export = os.path.join(HA_DIR, "audit.jsonl")
    ctl = {"FUNDCTL_URL": daemon.url, "FUNDCTL_TOKEN": token,
           "FUNDCTL_CACERT": env.ca}
    p = fundctl("export", "audit", env_vars=ctl, timeout=120)
    if p.returncode != 0:
        failures.append("fundctl export audit: rc %d %s" % (p.returncode, p.stderr))
    with open(export, "w") as f:
        f.write(p.stdout)
    p = fundctl("audit", "verify", export, "--pubkey",
                os.path.join(HA_DIR, "tls", "audit-ed25519.pub"), timeout=120)
    offline = p.returncode == 0
    if not offline:
        failures.append("fundctl audit verify: rc %d %s %s" % (p.returncode, p.stdout,
                                                               p.stderr))

    rc = daemon.stop()
    if rc != 0:
        failures.append("fundd exited %r on SIGTERM" % rc)
    log("%d receipts acknowledged in %.0f s of load (%d calls sent again: %d answered "
        "-32050, %d -32051, %d -32029, %d lost connections); lost %d, duplicated %d" % (
            len(acked), t_load - t_load0, c["retried"], c["-32050"], c["-32051"],
            c["-32029"], c["transport"], len(lost), len(duplicated)))
    log("audit.verify ok %s (%s events, unchained %s); offline verify %s; fundd pid %d "
        "throughout: %s" % (verify.get("ok"), verify.get("verified"), verify.get("unchained"),
                            "ok" if offline else "FAILED", pid,
                            "yes" if daemon.proc.pid == pid else "no"))
    log("failover: promoted after %.1f s, calls acknowledged again after %.1f s; the old "
        "primary rejoined as the %s %s; whole run %.0f s" % (
            t_promoted - t_kill, t_recovered - t_kill, STANDBY,
            "after %.1f s" % (t_rejoined - t_kill) if t_rejoined else "NOT",
            time.monotonic() - t_start))
    for f in failures:
        log("FAIL: " + f)
    if not failures and os.environ.get("FUND_HA_KEEP") != "1":
        # the logs stay; the clusters' data (a few hundred MB) goes once they are stopped
        cleanup()
        for n in cluster.nodes:
            shutil.rmtree(n.data, ignore_errors=True)
            if not n.run.startswith(n.dir + "/"):
                shutil.rmtree(n.run, ignore_errors=True)
        shutil.rmtree(os.path.join(HA_DIR, "etcd"), ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
