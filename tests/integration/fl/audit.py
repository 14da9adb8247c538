"""The audit trail (docs/audit.md; docs/protocol.md): the canonical bytes and the hash
chain recomputed in Python, audit.events paging and polling until the background chainer has
caught up, params digests computed by PostgreSQL, Ed25519 with the openssl command line,
fundctl for exports and offline verification, and side databases (a fresh, migrated database
of the same cluster with its own admin and its own daemons) for the tests that must not touch
the shared trail."""

import hashlib
import json
import os
import re
import secrets
import subprocess
import time

from fl.client import Client
from fl.db import database_overrides, psql_ok, sql_lit
from fl.env import fundctl, remember_token, uniq

ZERO = "0" * 64
AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
EVENT_KEYS = {"seq", "at", "principal_id", "method", "object_id", "outcome", "error_code",
              "reason", "params_sha256", "purpose", "prev_hash", "hash"}
CHECKPOINT_KEYS = {"seq", "head_hash", "signed_at", "signature", "public_key"}


# --------------------------------------------------------------------------------------------
# The chain, recomputed


def canonical(e):
    """The nine canonical lines of an event, and an access event's tenth, its purpose
    (docs/audit.md, "Canonical bytes")."""
    def f(v):
        return "" if v is None else str(v)
    return ("%d\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s" % (
        e["seq"], e["at"], f(e["principal_id"]), e["method"], f(e["object_id"]),
        e["outcome"], f(e["error_code"]), f(e["reason"]), e["params_sha256"],
        "" if e.get("purpose") is None else e["purpose"] + "\n")).encode("ascii")


def link(prev_hex, e):
    """hash = SHA-256(raw previous hash || canonical bytes), hex."""
    return hashlib.sha256(bytes.fromhex(prev_hex) + canonical(e)).hexdigest()


def check_event_shape(e):
    assert set(e) == EVENT_KEYS, "event keys %r" % sorted(e)
    assert type(e["seq"]) is int and e["seq"] > 0, e
    assert AT_RE.match(e["at"]), e
    assert e["outcome"] in ("ok", "refused"), e
    if e["outcome"] == "ok":
        assert e["error_code"] is None and e["reason"] is None, e
    else:
        assert e["error_code"] in (-32001, -32003, -32011), e
        assert isinstance(e["reason"], str) and e["reason"], e
    assert HEX64_RE.match(e["params_sha256"]), e
    assert e["purpose"] in (None, "case_management", "payment", "audit",
                            "data_subject_request"), e
    assert e["purpose"] is None or e["outcome"] == "ok", e
    assert (e["hash"] is None) == (e["prev_hash"] is None), e


def check_chain(events, first_prev=ZERO):
    """Every event chained, seqs strictly increasing, each prev_hash the previous event's
    hash (the first one's `first_prev`), and each hash recomputed from the event's content."""
    prev = first_prev
    last = 0
    for e in events:
        check_event_shape(e)
        assert e["seq"] > last, "seq %d after %d" % (e["seq"], last)
        assert e["hash"] is not None, "event seq %d is not chained" % e["seq"]
        assert e["prev_hash"] == prev, "event seq %d: prev_hash %s, expected %s" % (
            e["seq"], e["prev_hash"], prev)
        want = link(prev, e)
        assert e["hash"] == want, "event seq %d: hash %s, recomputed %s" % (
            e["seq"], e["hash"], want)
        prev = e["hash"]
        last = e["seq"]
    return prev


# --------------------------------------------------------------------------------------------
# audit.events


def all_events(api, from_seq=None, limit=1000):
    """Every event with seq >= from_seq, following next_cursor."""
    out = []
    cur = from_seq
    for _ in range(100000):
        params = {"limit": limit}
        if cur is not None:
            params["from_seq"] = cur
        res = api.ok("audit.events", params)
        assert set(res) == {"events", "next_cursor"}, res.keys()
        out.extend(res["events"])
        cur = res["next_cursor"]
        if cur is None:
            return out
        assert type(cur) is int, res["next_cursor"]
    raise AssertionError("audit.events did not end")


def last_seq(api):
    evs = all_events(api)
    return evs[-1]["seq"] if evs else 0


def new_events(api, mark):
    """The events after seq `mark`, but for access events (reads of personal data, with a
    purpose: access_events)."""
    return [e for e in all_events(api, from_seq=mark + 1) if e["purpose"] is None]


def access_events(api, mark):
    """The access events after seq `mark` (docs/privacy.md)."""
    return [e for e in all_events(api, from_seq=mark + 1) if e["purpose"] is not None]


def wait_chained(api, from_seq=None, timeout=10.0):
    """Polls until every event (with seq >= from_seq) has a hash; returns them."""
    deadline = time.monotonic() + timeout
    while True:
        evs = all_events(api, from_seq=from_seq)
        todo = [e["seq"] for e in evs if e["hash"] is None]
        if not todo:
            return evs
        if time.monotonic() > deadline:
            raise AssertionError("events still unchained after %ss: seqs %r (of %d)" % (
                timeout, todo[:20], len(evs)))
        time.sleep(0.05)


def wait_checkpoint(api, min_seq, timeout=10.0):
    """Polls audit.checkpoint until it covers seq >= min_seq; returns it."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        doc = api.reply("audit.checkpoint")
        if "result" in doc:
            last = doc["result"]
            if last["seq"] >= min_seq:
                return last
        else:
            assert doc["error"]["code"] == -32004, doc
            last = doc["error"]
        if time.monotonic() > deadline:
            raise AssertionError("no checkpoint at seq >= %d within %ss (last: %r)" % (
                min_seq, timeout, last))
        time.sleep(0.1)


# --------------------------------------------------------------------------------------------
# PostgreSQL


def pg_digests(env, calls):
    """[(method, params)] -> hex SHA-256 of METHOD || ' ' || params::jsonb::text, as
    PostgreSQL computes it (one psql round trip)."""
    if not calls:
        return []
    rows = ",\n".join("(%d, %s, %s)" % (i, sql_lit(m), sql_lit(json.dumps(p)))
                      for i, (m, p) in enumerate(calls))
    out = env.sql_script(
        "SELECT encode(sha256(convert_to(m || ' ' || p::jsonb::text, 'UTF8')), 'hex')\n"
        "  FROM (VALUES %s) v(i, m, p) ORDER BY i;\n" % rows)
    got = [l for l in out.splitlines() if l.strip()]
    assert len(got) == len(calls), out
    return got


# --------------------------------------------------------------------------------------------
# Ed25519 with openssl


def checkpoint_message(cp):
    return ("fl-audit-checkpoint\n%d\n%s\n%s\n" % (cp["seq"], cp["head_hash"],
                                                    cp["signed_at"])).encode("ascii")


def openssl_verify(tmp, pub, message, sig):
    msg, sigf = os.path.join(tmp, "msg-" + secrets.token_hex(4)), \
        os.path.join(tmp, "sig-" + secrets.token_hex(4))
    with open(msg, "wb") as f:
        f.write(message)
    with open(sigf, "wb") as f:
        f.write(sig)
    p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin",
                        "-in", msg, "-sigfile", sigf], capture_output=True, text=True)
    return p.returncode == 0


def openssl_sign(tmp, key, message):
    msg, sigf = os.path.join(tmp, "msg-" + secrets.token_hex(4)), \
        os.path.join(tmp, "sig-" + secrets.token_hex(4))
    with open(msg, "wb") as f:
        f.write(message)
    subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", msg,
                    "-out", sigf], check=True, capture_output=True)
    with open(sigf, "rb") as f:
        sig = f.read()
    assert len(sig) == 64, len(sig)
    return sig


def gen_ed25519(directory, name):
    """A fresh Ed25519 key pair (mode 600 private key); returns (private, public) paths."""
    priv = os.path.join(directory, name + ".pem")
    pub = os.path.join(directory, name + ".pub")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", priv],
                   check=True, capture_output=True)
    os.chmod(priv, 0o600)
    subprocess.run(["openssl", "pkey", "-in", priv, "-pubout", "-out", pub], check=True,
                   capture_output=True)
    return priv, pub


# --------------------------------------------------------------------------------------------
# fundctl


def fundctl_env(daemon, token):
    return {"FUNDCTL_URL": daemon.url, "FUNDCTL_TOKEN": token,
            "FUNDCTL_CACERT": daemon.env.ca}


def export_to(daemon, token, path):
    """`fundctl export audit > path`; returns the lines."""
    p = fundctl("export", "audit", env_vars=fundctl_env(daemon, token), timeout=60)
    assert p.returncode == 0, "fundctl export audit: rc %d: %s" % (p.returncode, p.stderr)
    with open(path, "w") as f:
        f.write(p.stdout)
    return p.stdout.splitlines()


def verify_file(path, pub):
    return fundctl("audit", "verify", path, "--pubkey", pub, timeout=60)


def parse_export(lines):
    return [json.loads(l) for l in lines]


def line_of(docs, typ, seq):
    """1-based line number of the (first) line of type typ at seq."""
    for i, d in enumerate(docs):
        if d.get("type") == typ and d.get("seq") == seq:
            return i + 1
    raise AssertionError("no %s line at seq %d" % (typ, seq))


def assert_fails_at(p, line, seq, what=""):
    """fundctl audit verify exited 1 and named `line` and the event/checkpoint at `seq`."""
    assert p.returncode == 1, "%s: expected exit 1, got %d\nstdout %s\nstderr %s" % (
        what, p.returncode, p.stdout, p.stderr)
    msg = p.stderr.strip()
    assert msg.startswith("FAIL: line %d: " % line), \
        "%s: expected a failure at line %d, got %r" % (what, line, msg)
    if seq is not None:
        assert re.search(r"\bseq %d\b" % seq, msg), \
            "%s: the message should name seq %d: %r" % (what, seq, msg)
    assert not p.stdout.startswith("ok"), p.stdout
    return msg


# --------------------------------------------------------------------------------------------
# Side databases


SIDE_PREFIX = "fund_audit_"


def drop_side_databases(env, names=None):
    """Drops the given side databases (default: every one left in the cluster)."""
    if names is None:
        out = psql_ok(env, "SELECT datname FROM pg_database WHERE datname LIKE '%s%%';\n"
                      % SIDE_PREFIX, db="postgres")
        names = [l.strip() for l in out.splitlines() if l.strip()]
    for n in names:
        assert n.startswith(SIDE_PREFIX), n
        psql_ok(env, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE);\n' % n, db="postgres")


def create_database(env, name, template=None):
    assert name.startswith(SIDE_PREFIX), name
    sql = 'CREATE DATABASE "%s" OWNER fund_owner' % name
    if template:
        sql += ' TEMPLATE "%s"' % template
    psql_ok(env, sql + ";\n", db="postgres")


class SideDb:
    """A fresh database of the test cluster, migrated, with its own admin principal."""

    def __init__(self, env, factory, dbname, admin_token=None, admin_id=None):
        self.env = env
        self.factory = factory
        self.dbname = dbname
        self.admin_token = admin_token
        self.admin_id = admin_id
        self.n = 0

    @classmethod
    def create(cls, env, factory, registry):
        name = SIDE_PREFIX + secrets.token_hex(4)
        create_database(env, name)
        registry.append(name)
        db = cls(env, factory, name)
        d = db.daemon(start=False)
        p = env.fundd("migrate", conf=d.conf, timeout=120)
        assert p.returncode == 0, "migrate %s: %s %s" % (name, p.stdout, p.stderr)
        db.admin_token = env.principal_add(uniq("side-admin"), ["admin"], conf=d.conf)
        return db

    def copy(self, registry, factory=None):
        """A new database made from this one (which nobody may be connected to), whose
        daemons come from `factory` (default: this one's)."""
        name = SIDE_PREFIX + secrets.token_hex(4)
        create_database(self.env, name, template=self.dbname)
        registry.append(name)
        return SideDb(self.env, factory or self.factory, name, self.admin_token,
                      self.admin_id)

    def daemon(self, start=True, **audit):
        self.n += 1
        a = {"checkpoint_interval_s": 1}
        a.update(audit)
        return self.factory("%s-%d" % (self.dbname, self.n),
                            dict(database_overrides(self.env, self.dbname), audit=a),
                            start=start)

    def api(self, daemon):
        a = Client.api(daemon, remember_token(self.admin_token))
        if self.admin_id is None:
            self.admin_id = a.ok("system.whoami")["principal_id"]
        return a

    def sql(self, script):
        return psql_ok(self.env, script, db=self.dbname)
