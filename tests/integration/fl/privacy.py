"""Returnees' personal data (docs/privacy.md): distinctive names and ids to look for, the forms
they could take in a database dump or a log (as sent, normalised as fundd reads them, the hex
of their UTF-8 as a bytea shows it, JSON-escaped), pg_dump of a whole database, key files
(`fundd privacy new-key`), access events (returnee.access_log, and the audit chain with an
access event's tenth canonical line, its purpose: docs/audit.md), erasure by two admins,
and a database of its own whose daemon takes [privacy] settings."""

import hashlib
import json
import os
import secrets
import subprocess
import unicodedata

from fl.db import database_overrides
from fl.env import DEVENV, ROOT, uniq
from fl.ledger import pages

PURPOSES = ("case_management", "payment", "audit", "data_subject_request")
PERSONAL = ("full_name", "national_id", "birth_year", "gender", "contact", "notes")

# Letters that are not hex digits: a tag of them cannot turn up by chance among the hashes
# and hex-encoded bytes of a dump.
TAG_LETTERS = "ghjkmnpqrstvwxyz"


def tag(n=10):
    """A random run of n lower-case letters, none of them a hex digit."""
    return "".join(secrets.choice(TAG_LETTERS) for _ in range(n))


# --------------------------------------------------------------------------------------------
# What fundd reads a name and a national id as (docs/privacy.md, "Finding a person")


def normal_name(s):
    """NFKD without combining marks, lower case, runs of white space as one space."""
    d = unicodedata.normalize("NFKD", s)
    d = "".join(c for c in d if not unicodedata.combining(c))
    return " ".join(d.lower().split())


def normal_id(s):
    """Without format characters (Cf), NFKC, lower case, trimmed."""
    d = "".join(c for c in s if unicodedata.category(c) != "Cf")
    return unicodedata.normalize("NFKC", d).lower().strip()


def forms(s):
    """The byte strings under which plaintext s could show up in a dump or a log: as it is,
    normalised both ways, JSON-escaped, and the hex of each UTF-8 form (a bytea)."""
    texts = {s, normal_name(s), normal_id(s), s.lower()}
    out = set()
    for t in texts:
        if not t:
            continue
        b = t.encode("utf-8")
        out.add(b)
        out.add(json.dumps(t)[1:-1].encode("ascii"))
        out.add(b.hex().encode("ascii"))
        out.add(b.hex().upper().encode("ascii"))
    return out


def found_in(blob, secrets_):
    """[(secret, form)] of every secret one of whose forms occurs in the bytes blob."""
    hits = []
    for s in secrets_:
        for f in sorted(forms(s)):
            if f in blob:
                hits.append((s, f[:80]))
    return hits


# --------------------------------------------------------------------------------------------
# The database and key files


def pg_dump(env, db="fund", timeout=300):
    """`devenv.sh pg-dump DIR DB`: the whole database as pg_dump writes it (plain SQL), as the
    schema owner; bytes."""
    p = subprocess.run([DEVENV, "pg-dump", env.dir, db], cwd=ROOT, capture_output=True,
                       timeout=timeout)
    assert p.returncode == 0, "pg_dump %s failed (rc %d): %s" % (
        db, p.returncode, p.stderr.decode("utf-8", "replace")[-2000:])
    assert b"PostgreSQL database dump" in p.stdout[:2000], p.stdout[:500]
    return p.stdout


def keys_dir(env):
    d = os.path.join(env.dir, "privacy-keys")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o700)
    return d


def new_key(env, name=None):
    """A new key-encryption key written by `fundd privacy new-key` under DIR/privacy-keys;
    its path."""
    path = os.path.join(keys_dir(env), (name or uniq("kek")) + ".key")
    p = env.fundd("privacy", "new-key", path, conf=False)
    assert p.returncode == 0, "fundd privacy new-key: rc %d: %s %s" % (
        p.returncode, p.stdout, p.stderr)
    return path


def base_key(env):
    """The key file of the suite's config (devenv.sh)."""
    return os.path.join(env.tls, "privacy.key")


# --------------------------------------------------------------------------------------------
# Access events and the chain


def canonical(e):
    """The canonical bytes of an event (docs/audit.md): nine lines, and for an access event a
    tenth, its purpose."""
    def f(v):
        return "" if v is None else str(v)
    s = "%d\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n" % (
        e["seq"], e["at"], f(e["principal_id"]), e["method"], f(e["object_id"]),
        e["outcome"], f(e["error_code"]), f(e["reason"]), e["params_sha256"])
    if e.get("purpose") is not None:
        s += "%s\n" % e["purpose"]
    return s.encode("ascii")


def link(prev_hex, e):
    return hashlib.sha256(bytes.fromhex(prev_hex) + canonical(e)).hexdigest()


def check_links(events):
    """Each chained event's hash recomputed from its prev_hash and its canonical bytes, and
    each prev_hash the hash of the event before it in the list."""
    prev = None
    for e in events:
        assert e["hash"] is not None, "event seq %d is not chained" % e["seq"]
        if prev is not None:
            assert e["prev_hash"] == prev["hash"], (prev["seq"], e["seq"])
        assert e["hash"] == link(e["prev_hash"], e), \
            "event seq %d: the hash is not that of its canonical bytes (purpose %r)" % (
                e["seq"], e.get("purpose"))
        prev = e


def max_seq(env, db="fund"):
    """The highest seq of the audit trail, read as the schema owner (cheaper than paging
    audit.events from the start)."""
    from fl.db import psql_ok
    out = psql_ok(env, "SELECT coalesce(max(seq), 0) FROM fl.audit_event;\n", db=db)
    return int(out.strip())


def access_log(api, returnee_id, limit=1000):
    """Every entry of returnee.access_log, page by page; (entries, page sizes)."""
    return pages(api, "returnee.access_log", {"returnee_id": returnee_id}, "accesses", limit)


# --------------------------------------------------------------------------------------------
# Erasure


def erase(api, other, returnee_id, reason="the person asked"):
    """An erasure asked for by `api` and confirmed by `other` (another admin); the erasure."""
    e = api.ok("returnee.erase", {"returnee_id": returnee_id, "reason": reason})
    assert (e["status"], e["basis"], e["returnee_id"]) == ("pending", "request", returnee_id), e
    done = other.ok("returnee.erase_confirm", {"erasure_id": e["erasure_id"]})
    assert done["status"] == "done" and done["decided_by"] == other.pid, done
    return done


def check_erased(r):
    """A returnee as the API shows it once erased: every personal field null."""
    assert r["erased_at"] is not None, r
    for k in PERSONAL:
        assert r[k] is None, (k, r)


# --------------------------------------------------------------------------------------------
# A database of its own


class PrivateBooks:
    """A fresh database of the suite's cluster, migrated, with an admin (.admin, a token);
    .daemon(name, privacy) starts a daemon on it with [privacy] overrides (fl.db.own_books
    has no place for them)."""

    def __init__(self, env, factory, name):
        self.env = env
        self.factory = factory
        self.db = "%s_%s" % (name, uniq("d").replace("-", "_").lower())
        env.sql("CREATE DATABASE %s OWNER fund_owner" % self.db)
        self.ov = database_overrides(env, self.db)
        self.ov["audit"] = {"checkpoint_interval_s": 1}
        self.conf = env.write_conf(os.path.join(env.dir, "fundd-%s.conf" % self.db), self.ov)
        p = env.fundd("migrate", conf=self.conf, timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
        self.admin = env.principal_add(uniq(name + "-admin"), ["admin"], conf=self.conf)

    def daemon(self, name, privacy=None, start=True):
        ov = {k: dict(v) for k, v in self.ov.items()}
        ov["privacy"] = dict(privacy or {})
        return self.factory(name, ov, start=start)
