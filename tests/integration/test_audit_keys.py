"""The chain of audit signing keys (docs/audit.md, "Signing keys"; docs/operations.md,
"Rotate the audit signing key"): a rotation under load, whose exports verify offline from
the first key alone and not from the new key alone; the proof of a period closed after it,
which `fundctl ledger verify` follows from the first key, or takes from the key that
signed it, and refuses with a broken chain or a foreign key; a daemon whose key is retired, or
foreign, signs nothing while the trail stays verifiable; tampered key lines pinpointed by
`fundctl audit verify`; the first key taken on trust from the checkpoints already stored;
the database refusing keys out of order, checkpoints under the wrong key and any rewrite,
for every role.

Every test works on databases of its own (fl.db.own_books, or a bare migrated one), since
a rotation changes which key may sign there for good.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time

import pytest

from fl.audit import (assert_fails_at, checkpoint_message, export_to, gen_ed25519,
                      openssl_sign, openssl_verify, parse_export, verify_file, wait_chained,
                      wait_checkpoint)
from fl.client import Client, call, create_principal, metric_value, scrape
from fl.db import database_overrides, own_books, psql, sql_lit
from fl.env import fundctl, uniq
from fl.ledger import new_partner


def pub_pem(path):
    with open(path) as f:
        return f.read()


def raw_hex(pub):
    """The 32 raw bytes of an Ed25519 public key file, in hex."""
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", pub, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    assert len(der) == 44, len(der)
    return der[-32:].hex()


def key_id(pub):
    return hashlib.sha256(bytes.fromhex(raw_hex(pub))).hexdigest()[:16]


def key_message(k):
    """The bytes key n - 1 signs to introduce key n (docs/audit.md, "Signing keys")."""
    return ("fl-audit-key\n%d\n%d\n%s\n%s\n" % (
        k["key_no"], k["from_seq"], k["raw"], k["introduced_at"])).encode("ascii")


def db_sql(env, db, script, user="fund_owner"):
    p = psql(env, script, user=user, db=db)
    assert p.returncode == 0, "psql failed: %s\n%s" % (p.stderr, script)
    return p.stdout


def checkpoints_of(env, db):
    """[(seq, key_id of its public key)] of every stored checkpoint."""
    out = db_sql(env, db, "SELECT seq, fl.audit_key_id(fl.ed25519_raw(public_key)) "
                          "FROM fl.audit_checkpoint ORDER BY seq;\n")
    return [(int(s), k) for s, k in (l.split("|") for l in out.split())]


def keys_of(env, db):
    """[(key_no, key_id, from_seq)] of the chain."""
    out = db_sql(env, db, "SELECT key_no, key_id, from_seq FROM fl.audit_key "
                          "ORDER BY key_no;\n")
    return [(int(n), k, int(f)) for n, k, f in (l.split("|") for l in out.split())]


def daemon_on(factory, env, db, name, key, **audit):
    """A daemon on database db signing with key (a private key file)."""
    a = {"checkpoint_interval_s": 1, "signing_key": key}
    a.update(audit)
    return factory(name, dict(database_overrides(env, db), audit=a))


def conf_on(env, db, key, name):
    """A config file for fundd's commands on database db with [audit] signing_key key."""
    ov = database_overrides(env, db)
    ov["audit"] = {"signing_key": key}
    return env.write_conf(os.path.join(env.dir, "fundd-%s.conf" % name), ov)


def wait_log(daemon, pattern, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, daemon.log_tail(200000)):
            return
        time.sleep(0.1)
    raise AssertionError("no %r in the log of %s:\n%s" % (pattern, daemon.name,
                                                        daemon.log_tail(3000)))


def signing_gauge(daemon, token):
    return metric_value(scrape(daemon, token)[1], "fundd_audit_signing")


def bare_db(env, name):
    """A fresh migrated database with no daemon (so nothing is chained or signed yet)."""
    db = "%s_%s" % (name, uniq("d").replace("-", "_").lower())
    env.sql("CREATE DATABASE %s OWNER fund_owner" % db)
    conf = conf_on(env, db, os.path.join(env.tls, "audit-ed25519.pem"), db)
    p = env.fundd("migrate", conf=conf, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return db, conf


class Load:
    """partner.create calls in a thread, through whichever daemons are in .daemons, until
    stop(); the calls all succeed."""

    def __init__(self, daemons, token):
        self.daemons = list(daemons)
        self.token = token
        self.n = 0
        self.stopping = threading.Event()
        self.errors = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        clients = {}
        try:
            while not self.stopping.is_set():
                d = self.daemons[self.n % len(self.daemons)]
                c = clients.get(d.name) or clients.setdefault(d.name, Client.api(d, self.token))
                new_partner(c, name="Load %d" % self.n)
                self.n += 1
        except BaseException as e:  # noqa: B902 - reported by stop()
            self.errors.append(e)
        finally:
            for c in clients.values():
                c.close()

    def stop(self):
        self.stopping.set()
        self.thread.join(60)
        assert not self.thread.is_alive()
        assert not self.errors, self.errors
        assert self.n > 0


# --------------------------------------------------------------------------------------------
# A rotation under load


@pytest.fixture(scope="module")
def rotated(env, module_daemon_factory, tmp_path_factory):
    """A database whose key was rotated from the development key (key 1) to a new one
    (key 2) while calls kept coming, through a daemon with the old key and then one with
    the new key; exports before and after."""
    tmp = str(tmp_path_factory.mktemp("rotated"))
    old_priv = os.path.join(env.tls, "audit-ed25519.pem")
    old_pub = os.path.join(env.tls, "audit-ed25519.pub")
    new_priv, new_pub = gen_ed25519(tmp, "new")
    b = own_books(env, module_daemon_factory, "akrot")
    d1 = b.daemon
    a = Client.api(d1, b.admin)
    try:
        for _ in range(3):
            new_partner(a)
        head = wait_chained(a)[-1]
        wait_checkpoint(a, head["seq"])
        before = os.path.join(tmp, "before.jsonl")
        before_lines = export_to(d1, b.admin, before)
        assert signing_gauge(d1, b.admin) == 1

        load = Load([d1], b.admin)
        time.sleep(1.5)
        p = env.fundd("audit", "rotate-key", new_priv, conf=b.conf, timeout=60)
        assert p.returncode == 0, (p.stdout, p.stderr)
        m = re.search(r"signs the checkpoints from seq (\d+) on", p.stdout)
        assert m, p.stdout
        from_seq = int(m.group(1))
        # the old daemon keeps serving the load, but signs nothing more
        wait_log(d1, r"audit checkpoints: signing none: key %s \(audit signing key 1\) "
                     r"is retired: key 2 \(%s\) signs from seq %d" % (
                         key_id(old_pub), key_id(new_pub), from_seq))
        assert signing_gauge(d1, b.admin) == 0
        n_at_rotation = load.n
        time.sleep(2.5)
        assert load.n > n_at_rotation, "the old-key daemon stopped serving"
        assert [c for c in checkpoints_of(env, b.db) if c[0] >= from_seq] == []
        # a daemon with the new key takes over, under the same load
        d2 = daemon_on(module_daemon_factory, env, b.db, "akrot-new", new_priv)
        load.daemons.append(d2)
        wait_log(d2, r"audit checkpoints: key %s is audit signing key 2, from seq %d" % (
            key_id(new_pub), from_seq))
        time.sleep(2.5)
        load.stop()
        head = wait_chained(a)[-1]
        cp = wait_checkpoint(a, head["seq"])
        assert signing_gauge(d2, b.admin) == 1
        # a restarted daemon still configured with the old key refuses at once
        a.close()
        assert d1.stop() == 0
        a = Client.api(d2, b.admin)
        d3 = daemon_on(module_daemon_factory, env, b.db, "akrot-old-again", old_priv)
        wait_log(d3, r"signing none: key %s \(audit signing key 1\) is retired" %
                 key_id(old_pub), timeout=5)
        after = os.path.join(tmp, "after.jsonl")
        after_lines = export_to(d2, b.admin, after)
        verified = a.ok("audit.verify")
    finally:
        a.close()
    return {"b": b, "tmp": tmp, "old_pub": old_pub, "old_priv": old_priv,
            "new_pub": new_pub, "new_priv": new_priv, "from_seq": from_seq,
            "before": before, "before_lines": before_lines, "after": after,
            "after_lines": after_lines, "after_docs": parse_export(after_lines),
            "last_checkpoint": cp, "verified": verified, "load": load.n,
            "rotate_out": p.stdout, "d2": d2}


def test_rotation_exports_verify_from_the_first_key(rotated):
    r = rotated
    for path in (r["before"], r["after"]):
        p = verify_file(path, r["old_pub"])
        assert p.returncode == 0, (path, p.stdout, p.stderr)
        assert p.stdout.startswith("ok:"), p.stdout
    p = verify_file(r["before"], r["old_pub"])
    assert "1 signing key followed from the given key" in p.stdout, p.stdout
    q = verify_file(r["after"], r["old_pub"])
    assert "2 signing keys followed from the given key" in q.stdout, q.stdout
    assert "every event is covered by a signature" in q.stdout, q.stdout
    events = [d for d in r["after_docs"] if d["type"] == "event"]
    assert re.search(r"\b%d events\b" % len(events), q.stdout), q.stdout
    assert len(events) > r["load"]
    v = r["verified"]
    assert (v["ok"], v["first_bad_seq"], v["reason"]) == (True, None, None), v


def test_rotation_export_fails_from_the_new_key_alone(rotated):
    r = rotated
    docs = r["after_docs"]
    p = verify_file(r["after"], r["new_pub"])
    msg = assert_fails_at(p, _key_line(docs, 1), 1, "new key alone")
    assert "it is %s, not the given public key" % key_id(r["old_pub"]) in msg, msg
    # the export from before the rotation does not verify under the new key either
    before = parse_export(r["before_lines"])
    q = verify_file(r["before"], r["new_pub"])
    assert_fails_at(q, _key_line(before, 1), 1, "before, new key")


def _key_line(docs, no):
    for i, d in enumerate(docs):
        if d.get("type") == "key" and d.get("key_no") == no:
            return i + 1
    raise AssertionError("no line of key %d" % no)


def test_rotation_export_lines(env, rotated, tmp_path):
    """The key lines as docs/audit.md describes them, checked with openssl alone: key 1
    right before the event of the first checkpoint, key 2 right after the last checkpoint
    of key 1,
    introduced by key 1's signature over the documented message; each checkpoint signed
    by the key of its seq."""
    r = rotated
    docs = r["after_docs"]
    keys = [d for d in docs if d["type"] == "key"]
    assert [k["key_no"] for k in keys] == [1, 2], keys
    k1, k2 = keys
    want = ["type", "key_no", "key_id", "from_seq", "public_key", "introduced_at",
            "signature"]
    assert list(k1) == want and list(k2) == want, (list(k1), list(k2))
    assert (k1["from_seq"], k1["signature"]) == (1, None), k1
    assert k1["public_key"] == pub_pem(r["old_pub"]) and k1["key_id"] == key_id(r["old_pub"])
    assert k2["public_key"] == pub_pem(r["new_pub"]) and k2["key_id"] == key_id(r["new_pub"])
    assert k2["from_seq"] == r["from_seq"], (k2, r["from_seq"])
    i1, i2 = _key_line(docs, 1) - 1, _key_line(docs, 2) - 1
    cps = [i for i, d in enumerate(docs) if d["type"] == "checkpoint"]
    assert i1 + 2 == cps[0] and docs[i1 + 1]["type"] == "event" and \
        docs[i1 + 1]["seq"] == docs[cps[0]]["seq"], \
        "key 1 is not right before the event of the first checkpoint"
    assert docs[i2 - 1]["type"] == "checkpoint" and \
        docs[i2 - 1]["seq"] == k2["from_seq"] - 1, docs[i2 - 1]
    k2["raw"] = raw_hex(r["new_pub"])
    sig = bytes.fromhex(k2["signature"])
    tmp = str(tmp_path)
    assert openssl_verify(tmp, r["old_pub"], key_message(k2), sig)
    assert not openssl_verify(tmp, r["new_pub"], key_message(k2), sig)
    assert not openssl_verify(tmp, r["old_pub"], key_message(dict(k2, from_seq=k2[
        "from_seq"] + 1)), sig)
    signed = {"old": 0, "new": 0}
    for d in docs:
        if d["type"] != "checkpoint":
            continue
        who = "old" if d["seq"] < k2["from_seq"] else "new"
        pub = r[who + "_pub"]
        assert d["public_key"] == pub_pem(pub), d
        assert openssl_verify(tmp, pub, checkpoint_message(d), bytes.fromhex(d["signature"]))
        signed[who] += 1
    assert signed["old"] >= 1 and signed["new"] >= 1, signed
    # what the database holds, and what `fundd audit keys` shows
    assert keys_of(env, r["b"].db) == [(1, key_id(r["old_pub"]), 1),
                                       (2, key_id(r["new_pub"]), r["from_seq"])]
    p = env.fundd("audit", "keys", conf=conf_on(env, r["b"].db, r["new_priv"], "akrot-keys"))
    assert p.returncode == 0, p.stderr
    rows = [l.split() for l in p.stdout.splitlines()[1:]]
    assert [x[:3] for x in rows] == [["1", key_id(r["old_pub"]), "1"],
                                     ["2", key_id(r["new_pub"]), str(r["from_seq"])]], p.stdout
    assert "(the configured [audit] signing_key)" in p.stdout.splitlines()[2], p.stdout


TAMPER_KEY_CASES = ["signature", "from_seq", "introduced_at", "foreign_key", "removed",
                    "moved_later", "key1_foreign", "key1_removed"]


@pytest.mark.parametrize("case", TAMPER_KEY_CASES)
def test_tampered_key_line_fails_at_that_line(rotated, case, tmp_path):
    r = rotated
    docs = [dict(d) for d in r["after_docs"]]
    lines = list(r["after_lines"])
    i2 = _key_line(docs, 2) - 1
    k2 = docs[i2]
    path = str(tmp_path / ("tampered-%s.jsonl" % case))
    if case in ("signature", "from_seq", "introduced_at", "foreign_key"):
        if case == "signature":
            sig = bytearray.fromhex(k2["signature"])
            sig[7] ^= 0x04
            k2["signature"] = sig.hex()
        elif case == "from_seq":
            k2["from_seq"] += 1
        elif case == "introduced_at":
            k2["introduced_at"] = k2["introduced_at"][:-3] + (
                "00Z" if not k2["introduced_at"].endswith("00Z") else "01Z")
        else:
            # a key of the attacker's, with its own id, in the place of key 2
            priv, pub = gen_ed25519(str(tmp_path), "forged")
            k2.update(public_key=pub_pem(pub), key_id=key_id(pub))
        lines[i2] = json.dumps(k2)
        want = (i2 + 1, k2["from_seq"])
    elif case == "removed":
        del lines[i2]
        first_new = next(i for i, d in enumerate(docs) if d["type"] == "checkpoint" and
                         d["seq"] >= k2["from_seq"])
        want = (first_new, docs[first_new]["seq"])       # one line earlier now
    elif case == "moved_later":
        first_new = next(i for i, d in enumerate(docs) if d["type"] == "checkpoint" and
                         d["seq"] >= k2["from_seq"])
        lines.insert(first_new + 1, lines[i2])
        del lines[i2]
        want = (first_new, docs[first_new]["seq"])
    elif case == "key1_foreign":
        i1 = _key_line(docs, 1) - 1
        priv, pub = gen_ed25519(str(tmp_path), "forged1")
        lines[i1] = json.dumps(dict(docs[i1], public_key=pub_pem(pub), key_id=key_id(pub)))
        want = (i1 + 1, 1)
    else:
        i1 = _key_line(docs, 1) - 1
        del lines[i1]
        want = (i2, k2["from_seq"])                       # "there is no key 1 before it"
    with open(path, "w") as f:
        f.write("".join(l + "\n" for l in lines))
    p = verify_file(path, r["old_pub"])
    msg = assert_fails_at(p, want[0], want[1], case)
    if case in ("removed", "moved_later"):
        assert "under key 1" in msg and "names another public key" in msg, msg
    if case == "key1_removed":
        assert "there is no key 1 before it" in msg, msg


def test_rotate_key_refusals(env, rotated, tmp_path):
    """Once rotated: the retired key cannot rotate again; the current key cannot bring back
    a retired one; a key is not rotated to itself; bad usage. Nothing changes."""
    r = rotated
    db = r["b"].db
    keys = keys_of(env, db)
    old_conf = conf_on(env, db, r["old_priv"], "akrot-oldconf")
    new_conf = conf_on(env, db, r["new_priv"], "akrot-newconf")
    third, _ = gen_ed25519(str(tmp_path), "third")
    p = env.fundd("audit", "rotate-key", third, conf=old_conf)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "cannot introduce a key" in p.stderr and "is retired" in p.stderr, p.stderr
    p = env.fundd("audit", "rotate-key", r["old_priv"], conf=new_conf)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "is audit signing key 1 already" in p.stderr, p.stderr
    p = env.fundd("audit", "rotate-key", r["new_priv"], conf=new_conf)
    assert p.returncode == 2 and "is the configured [audit] signing_key already" in \
        p.stderr, p.stderr
    for args in (["audit"], ["audit", "rotate-key"], ["audit", "keys", "x"],
                 ["audit", "rotate-key", os.path.join(str(tmp_path), "missing.pem")]):
        p = env.fundd(*args, conf=new_conf)
        assert p.returncode == 2, (args, p.returncode, p.stdout, p.stderr)
    assert keys_of(env, db) == keys


# --------------------------------------------------------------------------------------------
# A closed period's proof after the rotation (docs/ledger.md, "Verifying a closed period
# offline")


@pytest.fixture(scope="module")
def closed(env, rotated, tmp_path_factory):
    """A period closed on the rotated database after the rotation, saved by `fundctl ledger
    export-close` without --pubkey: (the CSV's path, the proof as saved, export-close's
    output)."""
    r = rotated
    b, d2 = r["b"], r["d2"]
    auditor = create_principal(d2, b.admin, ["auditor"])["token"]
    pc = call(d2, b.admin, "period.close", {"until": "2025-01-31"})
    done = call(d2, auditor, "period.close_confirm", {"period_id": pc["period_id"]})
    path = str(tmp_path_factory.mktemp("akclose") / "books.csv")
    deadline = time.monotonic() + 20
    while True:
        p = fundctl("--url", d2.url, "--cacert", env.ca, "--token", b.admin, "ledger",
                    "export-close", done["period_id"], path, timeout=60)
        if p.returncode == 0 or "retry after the next checkpoint" not in p.stderr or \
                time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert p.returncode == 0, p.stdout + p.stderr
    with open(path + ".close.json") as f:
        proof = json.load(f)
    return path, proof, p.stdout


def _ledger_verify(path, pub):
    return fundctl("ledger", "verify", path, "--pubkey", pub)


def _proof_copy(closed, tmp_path, name, edit):
    """A copy of the saved close, its proof passed through edit."""
    path, proof, _ = closed
    out = str(tmp_path / (name + ".csv"))
    shutil.copyfile(path, out)
    doc = json.loads(json.dumps(proof))
    edit(doc)
    with open(out + ".close.json", "w") as f:
        json.dump(doc, f)
    return out


def test_closed_period_proof_carries_the_key_lines_of_the_export(rotated, closed):
    r = rotated
    _, proof, out = closed
    cp = proof["checkpoint"]
    assert cp["seq"] >= r["from_seq"] and cp["public_key"] == pub_pem(r["new_pub"]), cp
    keys = [d for d in parse_export(r["after_lines"]) if d["type"] == "key"]
    assert proof["keys"] == keys, (proof["keys"], keys)
    assert proof["format"] == "fl-period-close-proof-1", proof["format"]
    # export-close without --pubkey: under the key the checkpoint names, key 2
    assert "signed by the checkpoint at seq %d under key 2 = the key the checkpoint names " \
        "(check against your own copy" % cp["seq"] in out, out


def test_closed_period_proof_verifies_from_key_1_or_its_signer(rotated, closed):
    r = rotated
    path, proof, _ = closed
    p = _ledger_verify(path, r["old_pub"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("ok: %s is the closed books of %s" % (path, proof["period_id"]))
    assert p.stdout.endswith("signed by the checkpoint at seq %d under key 2, introduced by "
                             "key 1 = the given key\n" % proof["checkpoint"]["seq"]), p.stdout
    p = _ledger_verify(path, r["old_priv"])     # the private key's public half
    assert p.returncode == 0 and "introduced by key 1 = the given key" in p.stdout, p.stderr
    p = _ledger_verify(path, r["new_pub"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.endswith("signed by the checkpoint at seq %d under key 2 = the given "
                             "key\n" % proof["checkpoint"]["seq"]), p.stdout


def test_closed_period_proof_refuses_a_foreign_key(rotated, closed, tmp_path):
    r = rotated
    _, pub = gen_ed25519(str(tmp_path), "foreign")
    p = _ledger_verify(closed[0], pub)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "the given public key (%s) is neither key 1 of the proof's key lines (%s) nor " \
        "key 2 (%s), which signed its checkpoint" % (
            key_id(pub), key_id(r["old_pub"]), key_id(r["new_pub"])) in p.stderr, p.stderr


def test_closed_period_proof_with_a_broken_key_chain_fails(rotated, closed, tmp_path):
    r = rotated

    def signature(doc):
        sig = bytearray.fromhex(doc["keys"][1]["signature"])
        sig[7] ^= 0x04
        doc["keys"][1]["signature"] = sig.hex()

    path = _proof_copy(closed, tmp_path, "signature", signature)
    for pub in (r["old_pub"], r["new_pub"]):
        p = _ledger_verify(path, pub)
        assert p.returncode == 1, p.stdout + p.stderr
        assert "proof: key lines: key 2, from seq %d: signature does not verify under key " \
            "1, the key before it" % r["from_seq"] in p.stderr, p.stderr

    def key2_missing(doc):
        del doc["keys"][1]

    path = _proof_copy(closed, tmp_path, "missing", key2_missing)
    p = _ledger_verify(path, r["old_pub"])
    assert p.returncode == 1, p.stdout + p.stderr
    assert "the checkpoint's signature does not verify under key 1 (%s), the last of its " \
        "key lines (is the line of the key that signed it missing?)" % key_id(r["old_pub"]) \
        in p.stderr, p.stderr


def test_closed_period_proof_without_key_lines_needs_its_signer(rotated, closed, tmp_path):
    """A proof as an older fundctl saved it: the key that signed its checkpoint verifies
    it, key 1 cannot."""
    r = rotated
    path = _proof_copy(closed, tmp_path, "nokeys", lambda doc: doc.pop("keys"))
    p = _ledger_verify(path, r["new_pub"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.endswith("under the given key\n"), p.stdout
    p = _ledger_verify(path, r["old_pub"])
    assert p.returncode == 1, p.stdout + p.stderr
    assert "the checkpoint's signature does not verify under the given public key (the " \
        "proof has no key lines to follow from key 1: give the key that signed the " \
        "checkpoint)" in p.stderr, p.stderr


def test_rotate_without_any_checkpoint_is_refused(env, tmp_path):
    db, conf = bare_db(env, "akbare")
    new, _ = gen_ed25519(str(tmp_path), "new")
    p = env.fundd("audit", "rotate-key", new, conf=conf)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "no checkpoint is signed yet" in p.stderr, p.stderr
    assert keys_of(env, db) == []
    p = env.fundd("audit", "keys", conf=conf)
    assert p.returncode == 0 and "no audit signing key yet" in p.stdout, p.stdout
    env.sql("DROP DATABASE %s WITH (FORCE)" % db)


# --------------------------------------------------------------------------------------------
# A daemon with a foreign key


def test_foreign_key_daemon_signs_nothing(env, daemon_factory, tmp_path):
    b = own_books(env, daemon_factory, "akforeign")
    dev_priv = os.path.join(env.tls, "audit-ed25519.pem")
    dev_pub = os.path.join(env.tls, "audit-ed25519.pub")
    fpriv, fpub = gen_ed25519(str(tmp_path), "foreign")
    a = Client.api(b.daemon, b.admin)
    try:
        new_partner(a)
        head = wait_chained(a)[-1]
        cp = wait_checkpoint(a, head["seq"])
        before = str(tmp_path / "before.jsonl")
        export_to(b.daemon, b.admin, before)
        assert verify_file(before, dev_pub).returncode == 0
        n_cps = len(checkpoints_of(env, b.db))
        assert b.daemon.stop() == 0
    finally:
        a.close()
    # the foreign daemon serves, chains, and signs nothing
    f = daemon_on(daemon_factory, env, b.db, "akforeign-f", fpriv)
    wait_log(f, r"audit checkpoints: signing none: key %s is not one of the audit "
                r"signing keys: key 1 \(%s\) signs from seq 1" % (key_id(fpub),
                                                                   key_id(dev_pub)))
    fa = Client.api(f, b.admin)
    try:
        made = [new_partner(fa)["partner_id"] for _ in range(4)]
        evs = wait_chained(fa)
        assert [e["object_id"] for e in evs[-4:]] == made
        time.sleep(3.5)                     # three checkpoint intervals and more
        assert fa.ok("audit.checkpoint") == cp
        assert len(checkpoints_of(env, b.db)) == n_cps
        assert signing_gauge(f, b.admin) == 0
        assert len(re.findall(r"signing none", f.log_tail(200000))) == 1, \
            "the refusal is logged once, not at every interval"
        v = fa.ok("audit.verify")
        assert v["ok"] is True, v
        during = str(tmp_path / "during.jsonl")
        export_to(f, b.admin, during)
        p = verify_file(during, dev_pub)
        assert p.returncode == 0, (p.stdout, p.stderr)
        assert "4 events after the last checkpoint are not yet covered" in p.stdout, p.stdout
        assert verify_file(before, dev_pub).returncode == 0
        # the database refuses its checkpoint even when asked directly, as the daemon's role
        last = evs[-1]
        sig = openssl_sign(str(tmp_path), fpriv, checkpoint_message(
            {"seq": last["seq"], "head_hash": last["hash"],
             "signed_at": "2026-11-23T10:00:00.000000Z"})).hex()
        q = psql(env, "SELECT fl.audit_checkpoint_add(%d, '%s', "
                      "'2026-11-23T10:00:00.000000Z', '%s', %s);\n" % (
                          last["seq"], last["hash"], sig, sql_lit(pub_pem(fpub))),
                 user="fund", db=b.db)
        assert q.returncode != 0 and "not signed with key 1" in q.stderr, q.stderr
        assert len(checkpoints_of(env, b.db)) == n_cps
    finally:
        fa.close()
    # the right key again: the next checkpoint covers what the foreign daemon served
    g = daemon_on(daemon_factory, env, b.db, "akforeign-dev", dev_priv)
    ga = Client.api(g, b.admin)
    try:
        wait_checkpoint(ga, evs[-1]["seq"])
    finally:
        ga.close()
    after = str(tmp_path / "after.jsonl")
    export_to(g, b.admin, after)
    p = verify_file(after, dev_pub)
    assert p.returncode == 0 and "every event is covered by a signature" in p.stdout, \
        (p.stdout, p.stderr)


# --------------------------------------------------------------------------------------------
# The first key, on a database that has checkpoints already


def _legacy_trail(env, db, tmp, signers):
    """Events chained and, at seqs 3, 6, ..., checkpoints signed by signers in turn, stored
    as a fundd before the key chain stored them (no key registered; the key guard off for
    the insert)."""
    db_sql(env, db, "INSERT INTO fl.audit_event (principal_id, method, object_id, outcome, "
                    "params_sha256) SELECT 'pr_legacy', 'partner.create', 'pa_' || g, 'ok', "
                    "sha256(g::text::bytea) FROM generate_series(1, %d) g;\n"
                    "SELECT fl.audit_chain(1000);\n" % (3 * len(signers)))
    hashes = dict(l.split("|") for l in db_sql(
        env, db, "SELECT seq, encode(hash, 'hex') FROM fl.audit_chain;\n").split())
    rows = []
    for i, (priv, pub) in enumerate(signers):
        cp = {"seq": 3 * (i + 1), "head_hash": hashes[str(3 * (i + 1))],
              "signed_at": "2026-11-23T10:00:0%d.000000Z" % i}
        sig = openssl_sign(tmp, priv, checkpoint_message(cp)).hex()
        rows.append("(%d, decode('%s', 'hex'), '%s', decode('%s', 'hex'), %s)" % (
            cp["seq"], cp["head_hash"], cp["signed_at"], sig, sql_lit(pub_pem(pub))))
    db_sql(env, db, "SET session_replication_role = replica;\n"
                    "INSERT INTO fl.audit_checkpoint (seq, head_hash, signed_at, signature, "
                    "public_key) VALUES %s;\n" % ",\n".join(rows))


def test_first_key_is_the_key_of_the_stored_checkpoints(env, daemon_factory, tmp_path):
    dev = (os.path.join(env.tls, "audit-ed25519.pem"), os.path.join(env.tls, "audit-ed25519.pub"))
    db, conf = bare_db(env, "aklegacy")
    admin = env.principal_add(uniq("aklegacy-admin"), ["admin"], conf=conf)
    _legacy_trail(env, db, str(tmp_path), [dev, dev])
    assert keys_of(env, db) == []
    d = daemon_on(daemon_factory, env, db, "aklegacy", dev[0])
    a = Client.api(d, admin)
    try:
        new_partner(a)
        head = wait_chained(a)[-1]
        wait_checkpoint(a, head["seq"])
    finally:
        a.close()
    assert keys_of(env, db) == [(1, key_id(dev[1]), 1)]
    path = str(tmp_path / "legacy.jsonl")
    docs = parse_export(export_to(d, admin, path))
    i = _key_line(docs, 1)                  # the line after key 1's: the event, then its
    assert [(d["type"], d["seq"]) for d in docs[i:i + 2]] == [("event", 3),
                                                              ("checkpoint", 3)], docs[i:i + 2]
    p = verify_file(path, dev[1])
    assert p.returncode == 0 and "3 checkpoints verified, 1 signing key" in p.stdout, \
        (p.stdout, p.stderr)
    d.stop()
    env.sql("DROP DATABASE %s WITH (FORCE)" % db)


def test_checkpoints_of_two_keys_leave_no_first_key(env, daemon_factory, tmp_path):
    """Checkpoints stored before the key chain under two keys (what a daemon with another
    key could do): no daemon can become key 1, each says why, and audit.verify names the
    first checkpoint under another key."""
    dev = (os.path.join(env.tls, "audit-ed25519.pem"), os.path.join(env.tls, "audit-ed25519.pub"))
    other = gen_ed25519(str(tmp_path), "other")
    db, conf = bare_db(env, "akmixed")
    admin = env.principal_add(uniq("akmixed-admin"), ["admin"], conf=conf)
    _legacy_trail(env, db, str(tmp_path), [dev, other])
    d = daemon_on(daemon_factory, env, db, "akmixed-dev", dev[0])
    a = Client.api(d, admin)
    try:
        wait_log(d, r"signing none: key %s is not the key of the stored checkpoints \(the one "
                    r"at seq 6 is signed with key %s\)" % (key_id(dev[1]), key_id(other[1])))
        new_partner(a)
        wait_chained(a)
        time.sleep(2.5)
        assert keys_of(env, db) == []
        assert [s for s, _ in checkpoints_of(env, db)] == [3, 6]
        v = a.ok("audit.verify")
        assert (v["ok"], v["first_bad_seq"], v["reason"]) == (False, 6, "key_mismatch"), v
    finally:
        a.close()
    # the other key's daemon: key 1 would have to be the key of seq 3's checkpoint too
    d.stop()
    o = daemon_on(daemon_factory, env, db, "akmixed-other", other[0])
    wait_log(o, r"audit checkpoint not stored: key %s cannot be the first audit signing "
                r"key: the checkpoint at seq 3 is signed with another key" % key_id(other[1]))
    assert keys_of(env, db) == []
    o.stop()
    env.sql("DROP DATABASE %s WITH (FORCE)" % db)


# --------------------------------------------------------------------------------------------
# The database's rules, for every role


def _refused(env, db, body, role=None, must=None):
    script = "BEGIN;\n%s%s;\nSELECT 'ACCEPTED';\nROLLBACK;\n" % (
        "SET ROLE %s;\n" % role if role else "", body)
    p = psql(env, script, db=db)
    assert "ACCEPTED" not in p.stdout and p.returncode != 0, "accepted: %s" % body
    assert "syntax error" not in p.stderr and "does not exist" not in p.stderr, p.stderr
    if must:
        assert must in p.stderr, (body, p.stderr)
    return p.stderr


def test_the_database_keeps_the_key_chain(env, rotated):
    r = rotated
    db = r["b"].db
    keys = keys_of(env, db)
    cps = checkpoints_of(env, db)
    last = r["last_checkpoint"]
    old_pem, new_pem = sql_lit(pub_pem(r["old_pub"])), sql_lit(pub_pem(r["new_pub"]))
    # append-only, for the owner too
    for stmt in ("UPDATE fl.audit_key SET from_seq = 1",
                 "DELETE FROM fl.audit_key WHERE key_no = 2",
                 "TRUNCATE fl.audit_key CASCADE"):
        _refused(env, db, stmt, must="append-only")
    # keys only in order, from the seq after the last checkpoint
    fresh = "decode(repeat('ab', 32), 'hex')"
    _refused(env, db, "INSERT INTO fl.audit_key (key_no, public_key, from_seq, signed_by, "
                      "signature, introduced_at) VALUES (4, %s, %d, 3, sha512('x'), now())" % (
                          fresh, last["seq"] + 1), must="the next key is key 3")
    _refused(env, db, "INSERT INTO fl.audit_key (key_no, public_key, from_seq, signed_by, "
                      "signature, introduced_at) VALUES (3, %s, %d, 2, sha512('x'), now())" % (
                          fresh, r["from_seq"]),
             must="it signs from seq %d, the seq after the last checkpoint" % (
                 cps[-1][0] + 1))
    _refused(env, db, "SELECT fl.audit_key_add(3, %d, %s, '2026-11-23T10:00:00.000000Z', "
                      "repeat('00', 64))" % (cps[-1][0] + 1, old_pem),
             must="is audit signing key 1 already")
    # a checkpoint under the retired key, even by the owner with a checkpoint due
    _refused(env, db, "SELECT fl.audit_checkpoint_add(%d, '%s', '2026-11-23T10:00:00.000000Z',"
                      " repeat('00', 64), %s)" % (last["seq"], last["head_hash"], old_pem),
             must="not signed with key 2 (%s)" % key_id(r["new_pub"]))
    _refused(env, db, "INSERT INTO fl.audit_checkpoint (seq, head_hash, signed_at, signature, "
                      "public_key) SELECT seq, hash, now(), sha512('x'), %s FROM fl.audit_chain "
                      "ORDER BY seq DESC LIMIT 1" % old_pem, must="not signed with key 2")
    # the daemon's role: none of it
    for stmt in ("SELECT * FROM fl.audit_key",
                 "INSERT INTO fl.audit_key (key_no, public_key, from_seq, introduced_at) "
                 "VALUES (3, %s, 1, now())" % fresh,
                 "SELECT fl.audit_key_add(3, 1, %s, '2026-11-23T10:00:00.000000Z', "
                 "repeat('00', 64))" % new_pem,
                 "SELECT * FROM fl.audit_key_next(%s)" % new_pem,
                 "SELECT fl.audit_key_first(%s)" % new_pem):
        _refused(env, db, stmt, role="fundd_app", must="permission denied")
    assert keys_of(env, db) == keys and checkpoints_of(env, db) == cps


def _stop_daemons_on(factory, db):
    for d in factory.daemons:
        if d.alive() and ("dbname=%s " % db) in open(d.conf).read():
            d.stop()


def test_audit_verify_names_a_broken_key_chain(env, rotated, module_daemon_factory):
    """A superuser who rewrites the key chain with the triggers off: audit.verify names
    the first checkpoint under another key, or the broken chain. (Last in the module: it
    stops the daemons on the rotated database, to copy it.)"""
    r = rotated
    src = r["b"].db
    _stop_daemons_on(module_daemon_factory, src)
    for case in ("from_seq", "deleted"):
        copy = "%s_%s" % (src, case)
        env.sql("CREATE DATABASE %s OWNER fund_owner TEMPLATE %s" % (copy, src))
        try:
            if case == "from_seq":
                # key 2 signs from later: its first checkpoints fall to key 1
                db_sql(env, copy, "SET session_replication_role = replica;\n"
                                  "UPDATE fl.audit_key SET from_seq = from_seq + 1000000 "
                                  "WHERE key_no = 2;\n")
                want = ("key_mismatch", min(s for s, _ in checkpoints_of(env, copy)
                                            if s >= r["from_seq"]))
            else:
                # key 1 gone: the chain starts at key 2
                db_sql(env, copy, "SET session_replication_role = replica;\n"
                                  "DELETE FROM fl.audit_key WHERE key_no = 1;\n")
                want = ("key_chain_broken", r["from_seq"])
            d = daemon_on(module_daemon_factory, env, copy, "akbroken-" + case, r["new_priv"])
            a = Client.api(d, r["b"].admin)
            try:
                v = a.ok("audit.verify")
            finally:
                a.close()
            assert (v["ok"], v["reason"], v["first_bad_seq"]) == (False,) + want, (case, v)
            assert d.stop() == 0
        finally:
            env.sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % copy)
