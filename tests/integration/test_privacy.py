"""Returnees' personal data (docs/privacy.md; docs/protocol.md, "Returnees", "Purposes and
access events", returnee.access_log, returnee.export, returnee.erase*, privacy.due;
docs/audit.md, the tenth canonical line of an access event): a dump of the database and the
daemon's log reveal no one; the key file is checked; a daemon with another key reads nobody
and one with the old key among its old_key_files reads and finds everyone; a sealed value
altered or moved in the database is refused, never read as someone else's; retries with an
idempotency key; access events with their purposes, in the chain and in the export; consent;
erasure by two admins and what stays after it, also in the middle of a random history;
erasure when retention ends or consent does (on a database of its own); the data subject's
export."""

import csv
import datetime
import hashlib
import io
import json
import os
import random
import re
import stat
import subprocess
import time

import pytest

from fl.audit import (all_events, assert_fails_at, export_to, line_of, parse_export,
                      verify_file, wait_chained)
from fl.client import Client, http_get, new_client
from fl.db import psql, psql_ok, sql_lit
from fl.env import FUNDD, ROOT, free_port, uniq
from fl.grants import (CUR, approve, check_disbursement, confirm, create, days_ago,
                       funded_fund, grant_params, m, new_returnee, returnee_params)
from fl.ledger import (all_items, balance, expected_balance, fund_journal, journal_figures,
                       minor, money, pages, parse_time, trial_balance, utcnow)
from fl.privacy import (PERSONAL, PrivateBooks, access_log, base_key, check_erased,
                        check_links, erase, found_in, keys_dir, max_seq, new_key, normal_id,
                        normal_name, pg_dump, tag)


@pytest.fixture(scope="module")
def api2(daemon, admin):
    """A second admin: the one who confirms erasures and payments."""
    with new_client(daemon, admin, ["admin"], "privacy-admin2") as a:
        yield a


@pytest.fixture(scope="module")
def fund(api):
    return funded_fund(api, received="100000.00", dual="100000")


@pytest.fixture
def pubkey(env):
    return os.path.join(env.tls, "audit-ed25519.pub")


def rid(r):
    return {"returnee_id": r["returnee_id"]}


def person(base, nid_prefix="AM"):
    """Distinctive personal data: a name (base and a tag of its own), a national id with
    upper-case letters (so its normal form differs), a contact and a note."""
    return {"full_name": "%s %s" % (base, tag()),
            "national_id": "%s-%s-%s" % (nid_prefix, tag(6).upper(), tag(6).upper()),
            "contact": "+374 91 %s@post.am" % tag(),
            "notes": "Case note %s: lives with her sister, needs a wheelchair" % tag()}


def secrets_of(p):
    return [p[k] for k in ("full_name", "national_id", "contact", "notes") if p.get(k)]


def access_events(api, mark, returnee_id=None):
    """The access events (with a purpose) after seq mark, of one returnee or all."""
    return [e for e in all_events(api, from_seq=mark + 1)
            if e.get("purpose") is not None and
            (returnee_id is None or e["object_id"] == returnee_id)]


def ledger_rows(daemon, admin, code):
    """The rows of GET /export/ledger (CSV, recorded since yesterday) of fund `code`."""
    st, _, body = http_get(daemon, "/export/ledger?format=csv&basis=recorded&from=%s"
                           % days_ago(1), token=admin, timeout=60)
    assert st == 200, (st, body[:300])
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    return [r for r in rows if r["fund"] == code]


def grants_report(api, code):
    return api.ok("report.grants", {"from": days_ago(1), "to": days_ago(-1), "fund": code,
                                    "by": ["status"]})


def tb_ok(api, cur=CUR):
    """ledger.trial_balance of cur: its rows add up to its totals, debits equal credits."""
    tb = trial_balance(api, cur)
    deb = sum(minor(r["debit"], cur) for r in tb["accounts"])
    cred = sum(minor(r["credit"], cur) for r in tb["accounts"])
    assert deb == cred == minor(tb["totals"]["debit"], cur) == \
        minor(tb["totals"]["credit"], cur), (cur, tb["totals"])
    return tb


def fundctl_ok(daemon, admin, pub, path):
    export_to(daemon, admin, path)
    p = verify_file(path, pub)
    assert p.returncode == 0 and p.stdout.startswith("ok"), (p.returncode, p.stdout, p.stderr)
    return p


# --------------------------------------------------------------------------------------------
# 1. A dump of the database reveals no one


def test_a_dump_of_the_database_reveals_no_one(env, daemon, api, fund):
    """Names (Latin with a diacritic, Armenian, Cyrillic), national ids, contacts and notes
    registered, corrected (so that the old values are kept in the history) and answered to
    retried calls (idempotency keys: returnee.register, returnee.update, grant.apply) occur
    nowhere in a pg_dump of the whole database, as sent, in the normal form fundd reads them
    in (lower case, without diacritics or format characters), JSON-escaped, or as the hex of
    their UTF-8 (a bytea); nor in the daemon's log. The API reads each back."""
    bases = ["Zabél Yesayan", "Անահիտ Սարգսյան", "Семён Бабаян", "Ջոն Ճ. Smith-Петров"]
    secrets_, people = [], []
    for i, base in enumerate(bases):
        p = person(base)
        if i == 1:
            # a format character in the id: fundd's normal form drops it
            p["national_id"] = p["national_id"][:3] + "\u200b" + p["national_id"][3:]
        params = returnee_params(region="AM-GR", idempotency_key=uniq("idem-reg"), **p)
        r = api.ok("returnee.register", params)
        assert api.ok("returnee.register", params) == r            # a retry: the kept answer
        assert {k: r[k] for k in p} == p, r
        secrets_ += secrets_of(p)
        people.append((r, p))
    # corrections: the old values stay in the history, the new ones in the record
    for r, p in people[:2]:
        q = person(p["full_name"].split()[0] + " Corrected")
        upd = dict(rid(r), idempotency_key=uniq("idem-upd"), **q)
        r2 = api.ok("returnee.update", upd)
        assert api.ok("returnee.update", upd) == r2
        assert r2["full_name"] == q["full_name"] and r2["contact"] == q["contact"], r2
        h = api.ok("returnee.history", rid(r))["history"]
        assert h[-1]["old"]["full_name"] == p["full_name"], h
        secrets_ += secrets_of(q)
    # grants: their answers (with beneficiary_name) kept for their idempotency keys
    control = []                # not personal data: stored as it is, so found in the dump
    for r, _ in people:
        control.append("Sewing machines for a workshop " + tag())
        gp = grant_params(r, fund, amount="50.00", purpose=control[-1],
                          idempotency_key=uniq("idem-grant"))
        g = api.ok("grant.apply", gp)
        assert api.ok("grant.apply", gp) == g
        assert g["beneficiary_name"] == api.ok("returnee.get", rid(r))["full_name"], g
    # reads that carry names and ids in their params
    r0, p0 = people[3]                              # not corrected
    assert [x["returnee_id"] for x in api.ok(
        "returnee.find", {"national_id": normal_id(p0["national_id"])})["returnees"]] == \
        [r0["returnee_id"]]
    assert [x["returnee_id"] for x in api.ok(
        "returnee.find", {"name": normal_name(people[2][1]["full_name"])})["returnees"]] == \
        [people[2][0]["returnee_id"]]
    api.err("returnee.register", returnee_params(full_name=p0["full_name"],
                                                 national_id=p0["national_id"]),
            -32009, reason="duplicate_returnee")
    for r, _ in people:
        api.ok("returnee.export", rid(r))

    dump = pg_dump(env, "fund")
    # it is the dump of these books: the records are there, their personal data sealed
    for r, _ in people:
        assert r["returnee_id"].encode() in dump
    assert b"full_name_sealed" in dump and b"COPY fl.person_key" in dump
    # the search finds what is there in plain text (the grants' purposes)
    assert len(found_in(dump, control)) >= len(control), "the search is blind"
    hits = found_in(dump, secrets_)
    assert not hits, "personal data in the dump: %r" % hits[:10]
    # the tags alone (in case a value was cut or re-cased somewhere)
    tags = [w for s in secrets_ for w in re.findall(r"\b[g-z]{10}\b", s.lower())]
    assert len(tags) >= 3 * len(people), tags
    hits = found_in(dump, tags)
    assert not hits, "parts of personal data in the dump: %r" % hits[:10]

    with open(daemon.log_path, "rb") as f:
        log = f.read()
    hits = found_in(log, secrets_ + tags)
    assert not hits, "personal data in the daemon's log: %r" % hits[:10]


# --------------------------------------------------------------------------------------------
# 2. The key file


def _check(env, name, privacy):
    conf = env.write_conf(os.path.join(env.dir, "fundd-%s.conf" % name), {
        "server": {"listen": "127.0.0.1:%d" % free_port()}, "privacy": privacy})
    return conf, env.fundd("check", conf=conf)


def _write_key(path, content, mode=0o600):
    if os.path.exists(path):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    os.chmod(path, mode)
    return path


def test_key_file_is_checked(env):
    """`fundd check` (and serving) refuses a key file that group or others may read (saying
    its mode and chmod), a config without [privacy] key_file ("key_file is required"), and a
    key file that is not 64 hex digits (nor does it print what it read); a missing file, and
    an old key file that is not private. `fundd privacy new-key` refuses a path that exists
    (leaving it as it was) and writes 64 hex digits and a newline, mode 0600 whatever the
    umask; two new keys differ. A good key passes the check."""
    d = keys_dir(env)
    good = new_key(env)
    conf, p = _check(env, "privacy-check-good", {"key_file": good})
    assert p.returncode == 0, (p.stdout, p.stderr)

    loose = new_key(env)
    os.chmod(loose, 0o644)
    conf, p = _check(env, "privacy-check-0644", {"key_file": loose})
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert "mode" in p.stderr and "chmod" in p.stderr and loose in p.stderr, p.stderr
    # nor does the daemon serve with it
    q = subprocess.run([FUNDD, "-c", conf], cwd=ROOT, capture_output=True, text=True,
                       timeout=30)
    assert q.returncode != 0 and "chmod" in q.stdout + q.stderr, (q.returncode, q.stderr)
    for mode in (0o640, 0o604, 0o660):
        os.chmod(loose, mode)
        assert _check(env, "privacy-check-mode", {"key_file": loose})[1].returncode != 0, \
            oct(mode)

    conf, p = _check(env, "privacy-check-unset", {"key_file": None})
    assert p.returncode != 0 and "key_file is required" in p.stderr, p.stderr
    conf, p = _check(env, "privacy-check-empty", {"key_file": ""})
    assert p.returncode != 0 and "key_file" in p.stderr, p.stderr
    conf, p = _check(env, "privacy-check-missing",
                     {"key_file": os.path.join(d, uniq("none") + ".key")})
    assert p.returncode != 0 and "key_file" in p.stderr, p.stderr

    hexes = "0123456789abcdef" * 4
    bad = {"short": hexes[:63] + "\n", "long": hexes + "0\n", "not_hex": "g" + hexes[1:],
           "garbage_after": hexes + "\nsecret\n", "empty": "", "spaces": hexes[:32] + " " +
           hexes[32:], "two_lines": hexes + "\n" + hexes + "\n"}
    for name, content in bad.items():
        path = _write_key(os.path.join(d, uniq("bad-" + name) + ".key"), content.encode())
        conf, p = _check(env, "privacy-check-bad", {"key_file": path})
        assert p.returncode != 0 and "64 hex digits" in p.stderr, (name, p.stderr)
        assert hexes[:16] not in p.stdout + p.stderr, (name, "the content was printed")
    # upper-case hex digits and CRLF are still one key (hex is hex)
    path = _write_key(os.path.join(d, uniq("upper") + ".key"), hexes.upper().encode() + b"\n")
    assert _check(env, "privacy-check-upper", {"key_file": path})[1].returncode == 0

    # old_key_files: each one private and well formed too
    os.chmod(loose, 0o644)
    conf, p = _check(env, "privacy-check-old", {"key_file": good, "old_key_files": loose})
    assert p.returncode != 0 and "chmod" in p.stderr, p.stderr
    conf, p = _check(env, "privacy-check-old2", {"key_file": good,
                                                 "old_key_files": base_key(env) + " " + good})
    assert p.returncode == 0, p.stderr

    # new-key: never over an existing file
    with open(good, "rb") as f:
        before = f.read()
    p = env.fundd("privacy", "new-key", good, conf=False)
    assert p.returncode != 0 and "already exists" in p.stderr, (p.returncode, p.stderr)
    with open(good, "rb") as f:
        assert f.read() == before
    assert before.decode() not in p.stdout + p.stderr
    # mode 0600 whatever the umask, 64 hex digits and a newline, nothing printed of it
    old = os.umask(0)
    try:
        path = os.path.join(d, uniq("umask0") + ".key")
        p = env.fundd("privacy", "new-key", path, conf=False)
    finally:
        os.umask(old)
    assert p.returncode == 0, p.stderr
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600 and stat.S_ISREG(st.st_mode), oct(st.st_mode)
    with open(path) as f:
        key = f.read()
    assert re.fullmatch(r"[0-9a-f]{64}\n", key), repr(key)
    assert key.strip() not in p.stdout + p.stderr
    assert key != before.decode()
    # a symbolic link to a key is refused, and so is a directory
    link = os.path.join(d, uniq("link") + ".key")
    os.symlink(good, link)
    assert _check(env, "privacy-check-link", {"key_file": link})[1].returncode != 0
    assert _check(env, "privacy-check-dir", {"key_file": d})[1].returncode != 0


# --------------------------------------------------------------------------------------------
# 3. Another key reads nobody; an old key still does


def test_another_key_cannot_read_and_an_old_key_still_can(env, daemon, daemon_factory, admin,
                                                          api, api2):
    """A daemon whose key_file is a new key answers returnee.get of a person sealed under the
    suite's key with -32603 personal_data_unreadable (its log names no personal data), and
    reads a person it registered itself, whom the main daemon cannot read. A daemon with the
    new key and the suite's key in old_key_files reads both, finds each by the whole name
    and the whole national id (in their normal forms too) whichever key indexed them, and
    refuses a national id registered under either key."""
    pa = person("Արշակ Ավետիսյան")
    a = api.ok("returnee.register", returnee_params(region="AM-AR", **pa))
    new = new_key(env)
    pb = person("Вардан Мкртчян")
    b = None
    try:
        d2 = daemon_factory(uniq("privacy-newkey"), {"privacy": {"key_file": new}})
        with Client.api(d2, admin) as c2:
            err = c2.err("returnee.get", rid(a), -32603, reason="personal_data_unreadable")
            assert not found_in(json.dumps(err, ensure_ascii=False).encode(), secrets_of(pa))
            b = c2.ok("returnee.register", returnee_params(region="AM-AR", **pb))
            assert {k: b[k] for k in pb} == pb, b
            assert c2.ok("returnee.get", rid(b)) == b
            # the main daemon holds no key that opens b
            api.err("returnee.get", rid(b), -32603, reason="personal_data_unreadable")
            # nor does d2 find a: its index was computed under the other key
            assert c2.ok("returnee.find", {"national_id": pa["national_id"]})["returnees"] == []
        d2.stop()
        with open(d2.log_path, "rb") as f:
            log2 = f.read()
        assert b"returnee.get" in log2
        assert not found_in(log2, secrets_of(pa) + secrets_of(pb))

        d3 = daemon_factory(uniq("privacy-bothkeys"), {"privacy": {
            "key_file": new, "old_key_files": base_key(env)}})
        with Client.api(d3, admin) as c3:
            ga = c3.ok("returnee.get", rid(a))
            assert {k: ga[k] for k in pa} == pa, ga
            gb = c3.ok("returnee.get", rid(b))
            assert {k: gb[k] for k in pb} == pb, gb
            for r, p in ((a, pa), (b, pb)):
                for q in ({"name": p["full_name"]}, {"name": normal_name(p["full_name"])},
                          {"national_id": p["national_id"]},
                          {"national_id": normal_id(p["national_id"])},
                          {"national_id": p["national_id"], "name": p["full_name"]}):
                    got = c3.ok("returnee.find", q)["returnees"]
                    assert [x["returnee_id"] for x in got] == [r["returnee_id"]], (q, got)
                    assert got[0]["full_name"] == p["full_name"], got
                # part of a name finds nobody
                assert c3.ok("returnee.find", {"name": p["full_name"].split()[0]})[
                    "returnees"] == []
                # a national id registered under either key is registered
                e = c3.err("returnee.register", returnee_params(
                    national_id=p["national_id"].lower()), -32009, reason="duplicate_returnee")
                assert e["data"].get("returnee_id") == r["returnee_id"], e
        d3.stop()
        with open(d3.log_path, "rb") as f:
            assert not found_in(f.read(), secrets_of(pa) + secrets_of(pb))
    finally:
        # b is sealed under a key the suite's daemon does not hold: erased, it lists as nulls
        # instead of making other tests' returnee.list unreadable
        if b is not None:
            erase(api, api2, b["returnee_id"], "test clean-up: sealed under a throwaway key")


# --------------------------------------------------------------------------------------------
# 4. Tampering


SEALED = ("full_name_sealed", "national_id_sealed", "contact_sealed", "notes_sealed")


def _sealed(env, returnee_id, col):
    out = env.sql("SELECT encode(%s, 'hex') FROM fl.returnee WHERE returnee_id = '%s'"
                  % (col, returnee_id)).strip()
    assert re.fullmatch(r"[0-9a-f]{90,}", out), (col, out)
    return out


def _set_sealed(env, returnee_id, col, hexval):
    p = psql(env, "UPDATE fl.returnee SET %s = decode('%s', 'hex') WHERE returnee_id = '%s';\n"
             % (col, hexval, returnee_id))
    assert p.returncode == 0, p.stderr


def test_altered_or_moved_sealed_values_are_refused(env, daemon, api, api2):
    """As the schema owner: one byte of a returnee's full_name_sealed flipped (in its
    version, key id, nonce, ciphertext or tag), another returnee's full_name_sealed copied
    into it, or its own national_id_sealed copied into its notes_sealed: returnee.get
    answers -32603 personal_data_unreadable, never another name or a null one. Put back,
    the value reads again. The log names neither person's data."""
    pa, pb = person("Tampered Anush"), person("Other Gevorg")
    a = api.ok("returnee.register", returnee_params(**pa))
    b = api.ok("returnee.register", returnee_params(**pb))
    orig = _sealed(env, a["returnee_id"], "full_name_sealed")
    nbytes = len(orig) // 2
    problems = []

    def expect_refused(what):
        doc = api.reply("returnee.get", rid(a))
        if "result" in doc:
            res = doc["result"]
            problems.append("%s: read, full_name %r, notes %r, erased_at %r" % (
                what, res["full_name"], res["notes"], res["erased_at"]))
        elif (doc["error"]["code"], doc["error"].get("data", {}).get("reason")) != \
                (-32603, "personal_data_unreadable"):
            problems.append((what, doc["error"]))

    try:
        for pos, what in ((0, "version"), (3, "key id"), (20, "nonce"),
                          (nbytes // 2 + 10, "ciphertext"), (nbytes - 1, "tag")):
            raw = bytearray.fromhex(orig)
            raw[pos] ^= 0x01
            _set_sealed(env, a["returnee_id"], "full_name_sealed", raw.hex())
            expect_refused("byte %d (%s) flipped" % (pos, what))
        _set_sealed(env, a["returnee_id"], "full_name_sealed",
                    _sealed(env, b["returnee_id"], "full_name_sealed"))
        expect_refused("another returnee's full_name_sealed")
        _set_sealed(env, a["returnee_id"], "full_name_sealed", orig)
        assert api.ok("returnee.get", rid(a))["full_name"] == pa["full_name"]
        notes = _sealed(env, a["returnee_id"], "notes_sealed")
        _set_sealed(env, a["returnee_id"], "notes_sealed",
                    _sealed(env, a["returnee_id"], "national_id_sealed"))
        expect_refused("its national_id_sealed as its notes_sealed")
        _set_sealed(env, a["returnee_id"], "notes_sealed", notes)
        got = api.ok("returnee.get", rid(a))
        assert {k: got[k] for k in pa} == pa, got
    finally:
        # the owner's changes left corrections holding altered values: erased, the record
        # and its history read null for good
        erase(api, api2, a["returnee_id"], "test clean-up: tampered with")
    assert not problems, "\n".join(problems)
    with open(daemon.log_path, "rb") as f:
        hits = found_in(f.read(), secrets_of(pa) + secrets_of(pb))
    assert not hits, "personal data in the daemon's log: %r" % hits


# --------------------------------------------------------------------------------------------
# 5. Retries


def test_idempotent_retries_answer_the_first_result(api):
    """returnee.register and returnee.update retried with their idempotency key answer the
    first result, identical, even after the record changed since; the same key with other
    params is -32009 idempotency_mismatch and changes nothing."""
    key = uniq("idem")
    params = returnee_params(full_name="Retried Lilit " + tag(), contact="tel " + tag(),
                             idempotency_key=key)
    first = api.ok("returnee.register", params)
    again = api.ok("returnee.register", dict(params))
    assert again == first
    other = dict(params, full_name="Another Lilit " + tag())
    api.err("returnee.register", other, -32009, reason="idempotency_mismatch")
    assert api.ok("returnee.find", {"name": other["full_name"]})["returnees"] == []
    assert api.ok("returnee.get", rid(first)) == first

    ukey = uniq("idem-upd")
    upd = {"returnee_id": first["returnee_id"], "full_name": "Corrected Lilit " + tag(),
           "notes": "note " + tag(), "idempotency_key": ukey}
    u1 = api.ok("returnee.update", upd)
    assert u1["full_name"] == upd["full_name"] and u1["notes"] == upd["notes"], u1
    assert api.ok("returnee.update", dict(upd)) == u1
    api.err("returnee.update", dict(upd, full_name="Wrong Lilit " + tag()), -32009,
            reason="idempotency_mismatch")
    api.err("returnee.update", dict(upd, returnee_id=new_returnee(api)["returnee_id"]),
            -32009, reason="idempotency_mismatch")
    h = api.ok("returnee.history", rid(first))["history"]
    assert len(h) == 1 and h[0]["new"]["full_name"] == upd["full_name"], h

    # after a later correction, the retries still answer what was first answered
    api.ok("returnee.update", {"returnee_id": first["returnee_id"],
                               "full_name": "Later Lilit " + tag()})
    assert api.ok("returnee.register", dict(params)) == first
    assert api.ok("returnee.update", dict(upd)) == u1


# --------------------------------------------------------------------------------------------
# 6. Access events


def test_reads_leave_access_events_with_their_purpose(env, daemon, admin, api, appr, aud,
                                                      fund, pubkey, tmp_path):
    """returnee.get, returnee.list, returnee.find, grant.get, grant.list and grant.queue by an
    admin, an approver and an auditor each leave one access event for the person read: who,
    which method, object_id the returnee, purpose the role's default (case_management for
    an admin or an approver, audit for an auditor) or the one given. returnee.access_log
    lists them page by page (admin, auditor; an approver is refused), as audit.events shows
    them; fund.list, fund.balance, region.list and ledger.trial_balance leave none. The
    events are chained with the purpose in their canonical bytes; audit.verify passes,
    fundctl verifies an export, and fails at the line of an access event whose purpose was
    changed or removed."""
    mark0 = max_seq(env)
    p = person("Accessed Narine")
    r = api.ok("returnee.register", returnee_params(region="AM-VD", kind="asylum_seeker", **p))
    g = api.ok("grant.apply", grant_params(r, fund, amount="20.00"))
    mark = max_seq(env)
    R, G = rid(r), {"grant_id": g["grant_id"]}
    lst = {"region": "AM-VD", "kind": "asylum_seeker"}
    calls = [
        (api, "returnee.get", R, "case_management"),
        (appr, "returnee.get", R, "case_management"),
        (aud, "returnee.get", R, "audit"),
        (aud, "returnee.get", dict(R, purpose="data_subject_request"), "data_subject_request"),
        (api, "returnee.list", lst, "case_management"),
        (appr, "returnee.list", lst, "case_management"),
        (aud, "returnee.list", lst, "audit"),
        (appr, "returnee.find", {"national_id": p["national_id"]}, "case_management"),
        (aud, "returnee.find", {"name": p["full_name"]}, "audit"),
        (api, "returnee.find", {"national_id": p["national_id"], "purpose": "payment"},
         "payment"),
        (api, "grant.get", dict(G, purpose="payment"), "payment"),
        (appr, "grant.get", G, "case_management"),
        (aud, "grant.get", G, "audit"),
        (api, "grant.list", {"fund": fund["code"]}, "case_management"),
        (aud, "grant.list", {"fund": fund["code"], "purpose": "audit"}, "audit"),
        (appr, "grant.queue", {"fund": fund["code"]}, "case_management"),
        (appr, "grant.queue", {"fund": fund["code"], "purpose": "payment"}, "payment"),
    ]
    for who, method, params, _ in calls:
        if method in ("returnee.list", "grant.list", "grant.queue"):
            key = "returnees" if method == "returnee.list" else "grants"
            got = all_items(who, method, params, key)
            ids = [x.get("returnee_id") for x in got]
            assert r["returnee_id"] in ids, (method, "the returnee is not listed")
        else:
            who.ok(method, params)
    want = [(who.pid, method, purpose) for who, method, _, purpose in calls]
    evs = access_events(aud, mark, r["returnee_id"])
    got = [(e["principal_id"], e["method"], e["purpose"]) for e in evs]
    assert got == want, "access events %r\nexpected %r" % (got, want)
    for e in evs:
        assert (e["outcome"], e["error_code"], e["reason"]) == ("ok", None, None), e
    # other events have no purpose; a purpose not in the list is refused, and read nothing
    reg = [e for e in all_events(aud, from_seq=mark0 + 1) if e["method"] ==
           "returnee.register" and e["object_id"] == r["returnee_id"]]
    assert [e["purpose"] for e in reg] == [None, "case_management"], reg
    mark1 = max_seq(env)
    for who, method, params in ((aud, "returnee.get", R), (api, "grant.get", G),
                                (appr, "grant.queue", {"fund": fund["code"]})):
        who.err(method, dict(params, purpose="curiosity"), -32602, field="purpose")
    assert access_events(aud, mark1) == []

    # reads without personal data leave none
    mark2 = max_seq(env)
    api.ok("fund.list")
    api.ok("fund.balance", {"code": fund["code"]})
    aud.ok("region.list")
    aud.ok("ledger.trial_balance", {"currency": CUR})
    assert access_events(aud, mark2) == []
    quiet = [e for e in all_events(aud, from_seq=mark2 + 1)
             if e["method"] in ("fund.list", "fund.balance", "region.list",
                                "ledger.trial_balance")]
    assert quiet == [], quiet

    # returnee.access_log: every access event of the person since registration, in pages
    every = access_events(aud, mark0, r["returnee_id"])
    assert every[0]["method"] == "returnee.register", every[0]
    for who in (api, aud):
        log, sizes = access_log(who, r["returnee_id"], limit=4)
        assert len(sizes) >= 5, sizes
        assert [(x["seq"], x["at"], x["principal_id"], x["method"], x["purpose"]) for x in log] \
            == [(e["seq"], e["at"], e["principal_id"], e["method"], e["purpose"])
                for e in every[:len(log)]]
        assert len(log) == len(every), (len(log), len(every))
        names = {x["principal_id"]: x["name"] for x in log}
        assert names[api.pid] and names[aud.pid] and names[appr.pid], names
    appr.err("returnee.access_log", R, -32003)
    api.err("returnee.access_log", {"returnee_id": "re_000000000000000000000"}, -32004,
            reason="returnee_not_found")

    # in the chain, purpose included
    chained = wait_chained(aud, from_seq=mark0 + 1)
    check_links(chained)
    v = aud.ok("audit.verify")
    assert v["ok"] is True, v

    path = str(tmp_path / "audit.jsonl")
    fundctl_ok(daemon, admin, pubkey, path)
    with open(path) as f:
        lines = f.read().splitlines()
    docs = parse_export(lines)
    mine = [d for d in docs if d.get("type") == "event" and d.get("object_id") ==
            r["returnee_id"] and d.get("purpose") is not None]
    assert [(d["seq"], d["purpose"]) for d in mine] == \
        [(e["seq"], e["purpose"]) for e in every[:len(mine)]], "the export's purposes"
    target = next(d for d in mine if d["purpose"] == "audit")
    n = line_of(docs, "event", target["seq"])
    for case, value in (("changed", "case_management"), ("removed", None)):
        bad = list(lines)
        bad[n - 1] = json.dumps(dict(target, purpose=value), separators=(",", ":"))
        tp = str(tmp_path / ("tampered-%s.jsonl" % case))
        with open(tp, "w") as f:
            f.write("".join(l + "\n" for l in bad))
        assert_fails_at(verify_file(tp, pubkey), n, target["seq"], "purpose " + case)


ACCESS_RECORD = "api.access_record(bytea[], bytea[], text[], jsonb[])"


def test_a_read_answers_its_data_only_once_its_access_is_recorded(env, api, aud):
    """A read writes nothing itself: fundd records its access events with api.access_record()
    and sends the data only once they have committed (docs/privacy.md, "When an access event
    is written"). While the record cannot be written, the read answers an error without the
    data and leaves no access event; once it can, the same read answers and leaves one.
    api.access_record(), as the daemon's login, writes the events of the credentials that
    hold, in the name of their principal, and nothing for a token nobody holds (false: the
    daemon then answers -32001)."""
    p = person("Recorded Anahit")
    r = api.ok("returnee.register", returnee_params(**p))
    mark = max_seq(env)
    psql_ok(env, "REVOKE EXECUTE ON FUNCTION %s FROM fundd_app;" % ACCESS_RECORD)
    try:
        doc = aud.reply("returnee.get", rid(r))
    finally:
        psql_ok(env, "GRANT EXECUTE ON FUNCTION %s TO fundd_app;" % ACCESS_RECORD)
    assert "result" not in doc and doc["error"]["code"] == -32603, doc
    assert p["full_name"] not in json.dumps(doc, ensure_ascii=False), doc
    assert access_events(aud, mark, r["returnee_id"]) == []
    got = aud.ok("returnee.get", rid(r))
    assert got["full_name"] == p["full_name"], got
    evs = access_events(aud, mark, r["returnee_id"])
    assert [(e["principal_id"], e["method"], e["purpose"]) for e in evs] == \
        [(aud.pid, "returnee.get", "audit")], evs

    # the entry point itself, as the daemon's login: one true credential, one nobody holds
    mark = max_seq(env)
    good = hashlib.sha256(aud.token.encode()).hexdigest()
    acc = json.dumps({"ids": [r["returnee_id"]], "purpose": "payment",
                      "params_sha256": "00" * 32})
    out = psql_ok(env, "SELECT api.access_record(ARRAY['\\x%s', '\\x%s']::bytea[], "
                  "ARRAY[NULL, NULL]::bytea[], ARRAY['returnee.get', 'returnee.get'], "
                  "ARRAY[%s, %s]::jsonb[]);\n" % ("11" * 32, good, sql_lit(acc), sql_lit(acc)),
                  user="fund")
    assert out.split() == ["f", "t"], out
    evs = access_events(aud, mark, r["returnee_id"])
    assert [(e["principal_id"], e["method"], e["purpose"]) for e in evs] == \
        [(aud.pid, "returnee.get", "payment")], evs


def test_writes_that_answer_personal_data_leave_one_access_event_each(env, api, api2, appr,
                                                                       fund):
    """returnee.register, returnee.update, grant.apply, grant.approve, grant.withdraw and
    grant.cancel answer the person's data (the returnee, or the grant's beneficiary_name):
    each leaves exactly one access event for the person, under its own method, purpose
    case_management (the admin's and the approver's default). grant.apply takes the grant's
    own free-text purpose as before; the access event's purpose is still the role's
    default."""
    got, want = [], []

    def step(method, who, params):
        mark = max_seq(env)
        res = who.ok(method, params)
        got.append((method, [(e["method"], e["principal_id"], e["purpose"])
                             for e in access_events(api, mark, res["returnee_id"])]))
        want.append((method, [(method, who.pid, "case_management")]))
        return res

    r = step("returnee.register", api, returnee_params())
    step("returnee.update", api, dict(rid(r), notes="note " + tag()))
    text = "Tools for a bakery in Gyumri " + tag()
    g = step("grant.apply", api, grant_params(r, fund, amount="30.00", purpose=text))
    assert g["purpose"] == text, g
    assert api.ok("grant.get", {"grant_id": g["grant_id"]})["purpose"] == text
    step("grant.approve", appr, {"grant_id": g["grant_id"], "comment": "fine"})
    step("grant.cancel", api, {"grant_id": g["grant_id"], "reason": "moved"})
    g2 = api.ok("grant.apply", grant_params(r, fund, amount="30.00"))
    step("grant.withdraw", api, {"grant_id": g2["grant_id"], "reason": "moved"})
    assert got == want, "access events per call:\n%r\nexpected\n%r" % (got, want)


# --------------------------------------------------------------------------------------------
# 7. Consent


def _consent_refusals(api, method, base):
    """Every refusal of the consent params; none records anything."""
    cases = [
        ({"consent_for": ["payment"]}, "consent_incomplete", "consent_given_on"),
        ({"consent_given_on": days_ago(1)}, "consent_incomplete", "consent_for"),
        ({"consent_given_by": "guardian"}, "consent_incomplete", None),
        ({"consent_until": days_ago(-30)}, "consent_incomplete", None),
        ({"consent_for": ["payment"], "consent_given_on": days_ago(-1)}, "in_the_future",
         "consent_given_on"),
        ({"consent_for": ["payment"], "consent_given_on": days_ago(5),
          "consent_until": days_ago(6)}, "end_before_start", "consent_until"),
        ({"consent_for": ["marketing"], "consent_given_on": days_ago(5)}, None, "consent_for"),
        ({"consent_for": "payment", "consent_given_on": days_ago(5)}, None, "consent_for"),
        ({"consent_for": [], "consent_given_on": days_ago(5)}, None, "consent_for"),
        ({"consent_for": ["payment"], "consent_given_on": "yesterday"}, None,
         "consent_given_on"),
        ({"consent_for": ["payment"], "consent_given_on": days_ago(5),
          "consent_given_by": "neighbour"}, None, "consent_given_by"),
    ]
    bad = []
    for extra, reason, field in cases:
        doc = api.reply(method, dict(base, **extra))
        err = doc.get("error") or {}
        data = err.get("data") or {}
        if err.get("code") != -32602 or (reason and data.get("reason") != reason) or \
                (field and data.get("field") != field):
            bad.append((method, extra, doc.get("error", doc.get("result"))))
    return bad


def test_consent_is_recorded_replaced_and_checked(api):
    """A consent given at returnee.register is shown in the returnee (for, given_on,
    given_by, until, recorded_by, recorded_at); returnee.update replaces it (given_by self
    by default); none given is null. Refused with -32602: a consent param without
    consent_for or consent_given_on (consent_incomplete), given_on to come (in_the_future),
    until before given_on (end_before_start), unknown or empty purposes, bad dates and
    givers; a refused call records nothing. returnee.export lists every consent, oldest
    first."""
    assert new_returnee(api)["consent"] is None
    c1 = {"consent_for": ["payment", "case_management"], "consent_given_on": days_ago(10),
          "consent_given_by": "guardian", "consent_until": days_ago(-365)}
    r = api.ok("returnee.register", returnee_params(**c1))
    c = r["consent"]
    assert (sorted(c["for"]), c["given_on"], c["given_by"], c["until"], c["recorded_by"]) == \
        (["case_management", "payment"], days_ago(10), "guardian", days_ago(-365), api.pid), c
    assert re.match(r"^\d{4}-\d{2}-\d{2}T", c["recorded_at"]), c
    assert api.ok("returnee.get", rid(r))["consent"] == c

    bad = _consent_refusals(api, "returnee.register", returnee_params())
    bad += _consent_refusals(api, "returnee.update", rid(r))
    assert not bad, bad
    assert api.ok("returnee.get", rid(r))["consent"] == c
    nid = "NID-CONSENT-" + tag()
    _consent_refusals(api, "returnee.register", returnee_params(national_id=nid))
    assert api.ok("returnee.find", {"national_id": nid})["returnees"] == []

    u = api.ok("returnee.update", dict(rid(r), consent_for=["payment"],
                                       consent_given_on=days_ago(1)))
    c2 = u["consent"]
    assert (c2["for"], c2["given_on"], c2["given_by"], c2["until"]) == \
        (["payment"], days_ago(1), "self", None), c2
    assert api.ok("returnee.get", rid(r))["consent"] == c2
    # an update without consent params leaves it
    assert api.ok("returnee.update", dict(rid(r), notes="n " + tag()))["consent"] == c2
    # given today, until today: accepted
    c3 = api.ok("returnee.update", dict(rid(r), consent_for=["case_management"],
                                        consent_given_on=days_ago(0),
                                        consent_until=days_ago(0)))["consent"]
    assert (c3["given_on"], c3["until"]) == (days_ago(0), days_ago(0)), c3

    x = api.ok("returnee.export", rid(r))
    assert x["consents"] == [c, c2, c3], x["consents"]
    assert x["returnee"]["consent"] == c3


# --------------------------------------------------------------------------------------------
# 8. Erasure


def test_erasure_by_two_admins_and_what_stays(env, daemon, admin, api, api2, appr, aud,
                                              pubkey, tmp_path):
    """returnee.erase asks (basis request, pending), another admin confirms. Refused:
    -32004 returnee_not_found / erasure_not_found, -32009 grant_open (data.grant_id) at the
    ask and at the confirmation, erasure_pending, own_erasure (-32011, the admin who asked),
    wrong_state (confirming or cancelling what was cancelled or done), erased. After it:
    returnee.get reads null personal data and erased_at; its grants stay (beneficiary_name
    null) and are listed; returnee.find finds nobody by the old name or id; the id can be
    registered again (a new record); returnee.update and grant.apply are -32009 erased;
    returnee.history reads null values; the person's keys are gone. The books are as they
    were: fund balance, trial balance, the fund's ledger CSV rows and report.grants; the
    audit chain verifies online and offline on a new export."""
    f = funded_fund(api, received="5000.00", dual="100000")
    p = person("Erased Hripsime")
    r = api.ok("returnee.register", returnee_params(region="AM-SU", **p))
    R = rid(r)
    api.ok("returnee.update", dict(R, contact="+374 10 " + tag()))
    g1 = approve(appr, api.ok("grant.apply", grant_params(r, f, amount="300.00")))
    confirm(api2, create(api, g1, "100.00"))
    g2 = api.ok("grant.apply", grant_params(r, f, amount="40.00"))

    api.err("returnee.erase", {"returnee_id": "re_000000000000000000000", "reason": "x"},
            -32004, reason="returnee_not_found")
    e = api.err("returnee.erase", dict(R, reason="asked"), -32009, reason="grant_open")
    assert e["data"].get("grant_id") in (g1["grant_id"], g2["grant_id"]), e
    api.ok("grant.withdraw", {"grant_id": g2["grant_id"], "reason": "changed her mind"})
    e = api.err("returnee.erase", dict(R, reason="asked"), -32009, reason="grant_open")
    assert e["data"].get("grant_id") == g1["grant_id"], e
    confirm(api2, create(api, g1, "200.00"))                      # paid in full: completed
    assert api.ok("grant.get", {"grant_id": g1["grant_id"]})["status"] == "completed"
    api.err("returnee.erase", dict(R), -32602, field="reason")
    aud.err("returnee.erase", dict(R, reason="x"), -32003)

    # asked, refused to the same admin, cancelled by another
    e1 = api.ok("returnee.erase", dict(R, reason="she asked, letter of 3 May"))
    assert (e1["basis"], e1["status"], e1["requested_by"], e1["reason"], e1["decided_by"]) == \
        ("request", "pending", api.pid, "she asked, letter of 3 May", None), e1
    api.err("returnee.erase", dict(R, reason="again"), -32009, reason="erasure_pending")
    api.err("returnee.erase_confirm", {"erasure_id": e1["erasure_id"]}, -32011,
            reason="own_erasure")
    c = api2.ok("returnee.erase_cancel", {"erasure_id": e1["erasure_id"]})
    assert (c["status"], c["decided_by"]) == ("cancelled", api2.pid), c
    api2.err("returnee.erase_confirm", {"erasure_id": e1["erasure_id"]}, -32009,
             reason="wrong_state")
    api.err("returnee.erase_cancel", {"erasure_id": e1["erasure_id"]}, -32009,
            reason="wrong_state")
    for method in ("returnee.erase_confirm", "returnee.erase_cancel"):
        api.err(method, {"erasure_id": "er_000000000000000000000"}, -32004,
                reason="erasure_not_found")
    # the admin who asked drops its own request
    e0 = api.ok("returnee.erase", dict(R, reason="asked by mistake"))
    c = api.ok("returnee.erase_cancel", {"erasure_id": e0["erasure_id"]})
    assert (c["status"], c["decided_by"]) == ("cancelled", api.pid), c
    assert api.ok("returnee.get", R)["full_name"] == p["full_name"]

    # asked again; a grant applied for meanwhile stops the confirmation
    e2 = api.ok("returnee.erase", dict(R, reason="she asked again"))
    g3 = api.ok("grant.apply", grant_params(r, f, amount="30.00"))
    e = api2.err("returnee.erase_confirm", {"erasure_id": e2["erasure_id"]}, -32009,
                 reason="grant_open")
    assert e["data"].get("grant_id") == g3["grant_id"], e
    api.ok("grant.withdraw", {"grant_id": g3["grant_id"], "reason": "erasure asked"})

    # the books before
    code = f["code"]
    bal0 = balance(api, code, CUR)
    rows0 = ledger_rows(daemon, admin, code)
    rep0 = grants_report(api, code)
    tb_ok(aud)
    hist0 = api.ok("returnee.history", R)["history"]
    assert hist0 and hist0[0]["new"]["contact"] is not None, hist0

    done = api2.ok("returnee.erase_confirm", {"erasure_id": e2["erasure_id"]})
    assert (done["status"], done["decided_by"], done["requested_by"], done["basis"]) == \
        ("done", api2.pid, api.pid, "request"), done
    api2.err("returnee.erase_confirm", {"erasure_id": e2["erasure_id"]}, -32009,
             reason="wrong_state")
    api.err("returnee.erase", dict(R, reason="once more"), -32009, reason="erased")

    got = api.ok("returnee.get", R)
    check_erased(got)
    assert (got["region_code"], got["returnee_id"], got["created_at"]) == \
        ("AM-SU", r["returnee_id"], r["created_at"]), got
    for who in (appr, aud):
        check_erased(who.ok("returnee.get", R))
    assert env.sql("SELECT count(*) FROM fl.person_key WHERE returnee_id = '%s'"
                   % r["returnee_id"]).strip() == "0"
    for g in (g1, g2, g3):
        gg = api.ok("grant.get", {"grant_id": g["grant_id"]})
        assert gg["beneficiary_name"] is None and gg["returnee_id"] == r["returnee_id"], gg
        assert gg["amount"] == g["amount"], gg
    listed = {x["grant_id"]: x for x in all_items(api, "grant.list", {"fund": code}, "grants")}
    assert {g1["grant_id"], g2["grant_id"], g3["grant_id"]} <= set(listed)
    assert listed[g1["grant_id"]]["status"] == "completed"
    for d in all_items(api, "disbursement.list", {"grant_id": g1["grant_id"]},
                       "disbursements"):
        check_disbursement(d)
        assert d["status"] == "paid", d
    for q in ({"name": p["full_name"]}, {"national_id": p["national_id"]},
              {"national_id": normal_id(p["national_id"])}):
        assert api.ok("returnee.find", q)["returnees"] == [], q
    api.err("returnee.update", dict(R, notes="after"), -32009, reason="erased")
    api.err("returnee.update", dict(R, region="AM-LO"), -32009, reason="erased")
    api.err("grant.apply", grant_params(r, f, amount="10.00"), -32009, reason="erased")
    hist = api.ok("returnee.history", R)["history"]
    assert len(hist) == len(hist0), hist
    for h in hist:
        for side in ("old", "new"):
            for k, v in h[side].items():
                if k in PERSONAL:
                    assert v is None, (k, h)
    again = api.ok("returnee.register", returnee_params(region="AM-SU", **p))
    assert again["returnee_id"] != r["returnee_id"] and again["full_name"] == p["full_name"]
    assert [x["returnee_id"] for x in api.ok(
        "returnee.find", {"national_id": p["national_id"]})["returnees"]] == \
        [again["returnee_id"]]
    assert api.ok("returnee.access_log", R)["accesses"], "the accesses stay"

    # the books after
    assert balance(api, code, CUR) == bal0
    assert ledger_rows(daemon, admin, code) == rows0
    rep1 = grants_report(api, code)
    assert (rep1["rows"], rep1["totals"]) == (rep0["rows"], rep0["totals"]), (rep0, rep1)
    assert m(rep1["totals"][0]["disbursed"]) == bal0["disbursed"] == 30000, rep1["totals"]
    for cur in sorted({x["currency"] for x in api.ok("fund.list")["funds"]}):
        tb_ok(aud, cur)

    wait_chained(aud, from_seq=max_seq(env) - 50)
    v = aud.ok("audit.verify")
    assert v["ok"] is True, v
    path = str(tmp_path / "audit-after-erasure.jsonl")
    fundctl_ok(daemon, admin, pubkey, path)
    with open(path, "rb") as fh:
        assert not found_in(fh.read(), secrets_of(p))
    docs = parse_export(open(path).read().splitlines())
    mine = [(d["method"], d["outcome"]) for d in docs if d.get("type") == "event" and
            d.get("method", "").startswith("returnee.erase")]
    assert ("returnee.erase_confirm", "ok") in mine and \
        ("returnee.erase_confirm", "refused") in mine, mine


# --------------------------------------------------------------------------------------------
# 9. Erasure in the middle of a random history


class History:
    """A random history over a few returnees and two funds, with a model of every grant and
    of what each fund committed and paid."""

    def __init__(self, api, api2, appr, rng):
        self.api, self.api2, self.appr, self.rng = api, api2, appr, rng
        self.funds = [funded_fund(api, received="5000.00", dual="100000") for _ in range(2)]
        self.received = {f["code"]: 500000 for f in self.funds}
        self.people = {}        # returnee_id -> {"p": params, "erased": bool}
        self.grants = {}        # grant_id -> {fund, rid, amount, paid, status, payments}
        self.erased = []
        self.log = []

    def open_grants(self, returnee_id):
        return [g for gid, g in self.grants.items() if g["rid"] == returnee_id and
                g["status"] in ("submitted", "approved")]

    def live(self):
        return [i for i, x in self.people.items() if not x["erased"]]

    def register(self):
        p = person(self.rng.choice(["Random Armen", "Случайная Ася", "Պատահական Արա"]))
        r = self.api.ok("returnee.register", returnee_params(**p))
        self.people[r["returnee_id"]] = {"p": p, "erased": False}
        return "register"

    def update(self):
        i = self.rng.choice(list(self.people))
        q = {"contact": "tel " + tag(), "notes": "note " + tag()}
        if self.people[i]["erased"]:
            self.api.err("returnee.update", dict(q, returnee_id=i), -32009, reason="erased")
            return "update erased"
        r = self.api.ok("returnee.update", dict(q, returnee_id=i))
        assert (r["contact"], r["notes"]) == (q["contact"], q["notes"]), r
        self.people[i]["p"].update(q)
        return "update"

    def apply(self):
        i = self.rng.choice(list(self.people))
        f = self.rng.choice(self.funds)
        amount = self.rng.randint(10, 60) * 100 + self.rng.choice([0, 25, 50])
        params = {"returnee_id": i, "fund": f["code"], "amount": money(amount, CUR),
                  "category": "small_business", "purpose": "Random " + uniq("g")}
        if self.people[i]["erased"]:
            self.api.err("grant.apply", params, -32009, reason="erased")
            return "apply erased"
        g = self.api.ok("grant.apply", params)
        assert g["beneficiary_name"] == self.people[i]["p"]["full_name"], g
        self.grants[g["grant_id"]] = {"fund": f["code"], "rid": i, "amount": amount, "paid": 0,
                                      "status": "submitted", "payments": []}
        return "apply"

    def pick(self, status):
        ids = sorted(k for k, g in self.grants.items() if g["status"] == status)
        return self.rng.choice(ids) if ids else None

    def approve(self):
        k = self.pick("submitted")
        if k is None:
            return self.apply()
        approve(self.appr, {"grant_id": k})
        self.grants[k]["status"] = "approved"
        return "approve"

    def pay(self, k=None, amount=None):
        k = k or self.pick("approved")
        if k is None:
            return self.approve()
        g = self.grants[k]
        left = g["amount"] - g["paid"]
        amount = amount or (left if self.rng.random() < 0.4 else
                            max(1, left * self.rng.randint(1, 3) // 4))
        d = confirm(self.api2, create(self.api, {"grant_id": k}, money(amount, CUR)))
        g["paid"] += amount
        g["payments"].append((d["disbursement_id"], amount))
        if g["paid"] == g["amount"]:
            g["status"] = "completed"
        return "pay"

    def withdraw(self, k=None):
        k = k or self.pick("submitted")
        if k is None:
            return self.apply()
        self.api.ok("grant.withdraw", {"grant_id": k, "reason": "random"})
        self.grants[k]["status"] = "withdrawn"
        return "withdraw"

    def cancel(self, k=None):
        k = k or self.pick("approved")
        if k is None:
            return self.approve()
        self.api.ok("grant.cancel", {"grant_id": k, "reason": "random"})
        self.grants[k]["status"] = "cancelled"
        return "cancel"

    def read(self):
        i = self.rng.choice(list(self.people))
        r = self.rng.choice([self.api, self.appr]).ok("returnee.get", {"returnee_id": i})
        if self.people[i]["erased"]:
            check_erased(r)
        else:
            p = self.people[i]["p"]
            assert {k: r[k] for k in p} == p, (r, p)
        if self.grants:
            k = self.rng.choice(sorted(self.grants))
            g = self.api.ok("grant.get", {"grant_id": k})
            assert g["status"] == self.grants[k]["status"], (g, self.grants[k])
        return "read"

    def erase_one(self):
        """Closes the open grants of a live returnee (withdraws, completes or cancels them)
        and erases it."""
        i = self.rng.choice(self.live())
        for g in self.open_grants(i):
            k = next(kk for kk, gg in self.grants.items() if gg is g)
            if g["status"] == "submitted":
                self.withdraw(k)
            elif self.rng.random() < 0.5:
                self.pay(k, g["amount"] - g["paid"])
            else:
                self.cancel(k)
        erase(self.api, self.api2, i, "random history")
        self.people[i]["erased"] = True
        self.erased.append(i)
        return "erase"

    def step(self, n, erase_at):
        if n in erase_at:
            what = self.erase_one()
        elif len(self.people) < 3:
            what = self.register()
        else:
            what = self.rng.choices(
                [self.register, self.update, self.apply, self.approve, self.pay,
                 self.withdraw, self.cancel, self.read],
                weights=[1, 2, 4, 3, 3, 1, 1, 3])[0]()
        self.log.append(what)

    def model(self, code):
        committed = sum(g["amount"] - g["paid"] for g in self.grants.values()
                        if g["fund"] == code and g["status"] == "approved")
        disbursed = sum(g["paid"] for g in self.grants.values() if g["fund"] == code)
        return expected_balance("pass_through", received=self.received[code],
                                committed=committed, disbursed=disbursed)


def test_erasure_in_the_middle_of_a_random_history(env, daemon, admin, api, api2, appr, aud,
                                                   pubkey, tmp_path):
    """About 60 random operations (register, update, apply, approve, pay in tranches,
    withdraw, cancel, read) over a few returnees and two funds, with two returnees erased at
    random points (their grants closed first); operations on an erased one are refused
    (-32009 erased). Afterwards every grant and payment reads as the model says (erased
    beneficiaries null), each fund's balance equals the model and its journal, the trial
    balance balances, report.grants totals are the funds' committed and disbursed,
    report.pipeline answers, and the audit chain verifies online and offline."""
    seed = int(os.environ.get("FUND_PRIVACY_SEED") or random.randrange(1 << 30))
    print("test_erasure_in_the_middle_of_a_random_history: seed %d" % seed)
    rng = random.Random(seed)
    mark = max_seq(env)
    h = History(api, api2, appr, rng)
    erase_at = set(rng.sample(range(12, 50), 2))
    for n in range(60):
        try:
            h.step(n, erase_at)
        except AssertionError as e:
            raise AssertionError("seed %d, step %d (%s): %s" % (seed, n, h.log[-3:], e))
    counts = {w: h.log.count(w) for w in sorted(set(h.log))}
    print("seed %d: %r" % (seed, counts))
    assert len(h.erased) == 2, (seed, h.log)
    assert counts.get("apply", 0) >= 5 and counts.get("pay", 0) >= 2, (seed, counts)

    for k, g in h.grants.items():
        gg = api.ok("grant.get", {"grant_id": k})
        assert (gg["status"], m(gg["disbursed"]), gg["fund"], gg["returnee_id"]) == \
            (g["status"], g["paid"], g["fund"], g["rid"]), (seed, gg, g)
        if h.people[g["rid"]]["erased"]:
            assert gg["beneficiary_name"] is None, (seed, gg)
        else:
            assert gg["beneficiary_name"] == h.people[g["rid"]]["p"]["full_name"], (seed, gg)
        ds = all_items(api, "disbursement.list", {"grant_id": k}, "disbursements")
        assert sorted((d["disbursement_id"], m(d["amount"]), d["status"]) for d in ds) == \
            sorted((i, a, "paid") for i, a in g["payments"]), (seed, ds, g)
    for i, x in h.people.items():
        r = aud.ok("returnee.get", {"returnee_id": i})
        if x["erased"]:
            check_erased(r)
            assert api.ok("returnee.find", {"name": x["p"]["full_name"]})["returnees"] == []
        else:
            assert {k: r[k] for k in x["p"]} == x["p"], (seed, r)

    for f in h.funds:
        code = f["code"]
        want = h.model(code)
        assert balance(api, code, CUR) == want, (seed, code, balance(api, code, CUR), want)
        fig = journal_figures(fund_journal(aud, code), code)
        assert (fig["received"], fig["committed"], fig["disbursed"]) == \
            (want["received"], want["committed"], want["disbursed"]), (seed, code, fig)
        rep = grants_report(api, code)
        [t] = rep["totals"]
        assert (m(t["committed"]), m(t["disbursed"]), t["grants"]) == \
            (want["committed"], want["disbursed"],
             sum(1 for g in h.grants.values() if g["fund"] == code)), (seed, code, rep)
        pipe = api.ok("report.pipeline", {"from": days_ago(1), "to": days_ago(-1),
                                          "fund": code})
        assert pipe.get("rows") is not None, pipe
        if any(g["fund"] == code for g in h.grants.values()):
            assert sum(row.get("applications", 0) for row in pipe["rows"]) == \
                sum(1 for g in h.grants.values() if g["fund"] == code), (seed, pipe)
    tb_ok(aud)

    wait_chained(aud, from_seq=mark + 1)
    v = aud.ok("audit.verify")
    assert v["ok"] is True, (seed, v)
    fundctl_ok(daemon, admin, pubkey, str(tmp_path / "audit-random.jsonl"))


# --------------------------------------------------------------------------------------------
# 10. Retention


def _sql(b, script):
    """psql as the schema owner on the database of b (its outcome, unchecked)."""
    return psql(b.env, script, db=b.db)


def test_retention_and_ended_consent_erase_who_is_due(env, daemon_factory):
    """On a database of its own, with [privacy] retention_years 1: a returnee whose only
    grant was withdrawn two years ago, one registered two years ago without grants, and one
    whose consent ended ten days ago are due (privacy.due: basis retention, retention,
    consent_ended; due_since, last_grant_closed_at, erasure_pending); one with an open
    grant, one whose grant was last paid today, and one registered today are not. With
    erase_due = manual nobody is erased; with the default (auto) and erase_interval_s 1,
    worker 0 erases the due ones within seconds, each with an erasure (basis, done, no
    principal; a pending request of theirs cancelled) and a privacy.erase audit event, and
    the others stay. The grant and returnee rows are backdated as the schema owner with
    their guards disabled (a plain UPDATE of created_at is refused)."""
    b = PrivateBooks(env, daemon_factory, "privacy_ret")
    dm = b.daemon(uniq("privacy-ret-manual"), {"retention_years": 1, "erase_interval_s": 1,
                                               "erase_due": "manual"})
    with Client.api(dm, b.admin) as a, \
            new_client(dm, b.admin, ["approver"], "ret-approver") as ap, \
            new_client(dm, b.admin, ["admin"], "ret-admin2") as a2, \
            new_client(dm, b.admin, ["auditor"], "ret-auditor") as au:
        a.pid = a.ok("system.whoami")["principal_id"]
        f = funded_fund(a, received="1000.00")
        old = new_returnee(a, region="AM-LO")
        g_old = a.ok("grant.apply", grant_params(old, f, amount="10.00"))
        a.ok("grant.withdraw", {"grant_id": g_old["grant_id"], "reason": "moved abroad"})
        nogrant = new_returnee(a, region="AM-TV", kind="refugee")
        consent = new_returnee(a, region="AM-KT", consent_for=["case_management"],
                               consent_given_on=days_ago(400), consent_until=days_ago(10))
        opened = new_returnee(a)
        g_open = a.ok("grant.apply", grant_params(opened, f, amount="10.00"))
        paid = new_returnee(a)
        g_paid = approve(ap, a.ok("grant.apply", grant_params(paid, f, amount="10.00")))
        confirm(a2, create(a, g_paid, "10.00"))
        recent = new_returnee(a)

        old_grants = [g_old["grant_id"], g_open["grant_id"], g_paid["grant_id"]]
        old_people = [old["returnee_id"], nogrant["returnee_id"], opened["returnee_id"],
                      paid["returnee_id"]]
        lit = lambda ids: ", ".join("'%s'" % x for x in ids)  # noqa: E731
        p = _sql(b, "UPDATE fl.grant_application SET created_at = now() - interval '2 years' "
                    "WHERE grant_id = '%s';\n" % g_old["grant_id"])
        assert p.returncode != 0 and "never change" in p.stderr, p.stderr
        p = _sql(b, "UPDATE fl.returnee SET created_at = now() - interval '2 years' "
                    "WHERE returnee_id = '%s';\n" % old["returnee_id"])
        assert p.returncode != 0, p.stderr
        p = _sql(b, """BEGIN;
            ALTER TABLE fl.grant_application DISABLE TRIGGER grant_guard;
            UPDATE fl.grant_application SET created_at = now() - interval '2 years',
                decided_at = CASE WHEN decided_at IS NOT NULL
                    THEN now() - interval '2 years' END
             WHERE grant_id IN (%s);
            ALTER TABLE fl.grant_application ENABLE TRIGGER grant_guard;
            ALTER TABLE fl.returnee DISABLE TRIGGER returnee_identity;
            UPDATE fl.returnee SET created_at = now() - interval '2 years'
             WHERE returnee_id IN (%s);
            ALTER TABLE fl.returnee ENABLE TRIGGER returnee_identity;
            COMMIT;
            """ % (lit(old_grants), lit(old_people)))
        assert p.returncode == 0, p.stderr

        due_ids = {old["returnee_id"]: "retention", nogrant["returnee_id"]: "retention",
                   consent["returnee_id"]: "consent_ended"}
        pending = a.ok("returnee.erase", dict(rid(old), reason="asked before retention"))

        for who in (a, au):
            res = who.ok("privacy.due", {})
            assert res["retention_years"] == 1 and res["next_cursor"] is None, res
            got = {x["returnee_id"]: x for x in res["due"]}
            assert {k: x["basis"] for k, x in got.items()} == due_ids, (got, due_ids)
        paged, sizes = pages(a, "privacy.due", {}, "due", 1)
        assert [x["returnee_id"] for x in paged] == [x["returnee_id"] for x in res["due"]]
        assert len(sizes) >= 3, sizes
        x = got[old["returnee_id"]]
        assert (x["region_code"], x["kind"], x["erasure_pending"]) == \
            ("AM-LO", "returnee", pending["erasure_id"]), x
        closed = parse_time(x["last_grant_closed_at"])
        assert utcnow() - datetime.timedelta(days=740) < closed < \
            utcnow() - datetime.timedelta(days=720), x
        assert x["due_since"] <= days_ago(300), x
        x = got[nogrant["returnee_id"]]
        assert (x["region_code"], x["kind"], x["last_grant_closed_at"],
                x["erasure_pending"]) == ("AM-TV", "refugee", None, None), x
        x = got[consent["returnee_id"]]
        assert (x["region_code"], x["due_since"]) == ("AM-KT", days_ago(9)), x
        for k in ("returnee_id", "region", "region_code", "kind", "basis", "due_since",
                  "last_grant_closed_at", "erasure_pending"):
            assert k in x, (k, x)
        assert not set(x) & set(PERSONAL), x
        ap.err("privacy.due", {}, -32003)

        time.sleep(3)                             # manual: worker 0 erases nobody
        for i in list(due_ids) + [opened["returnee_id"]]:
            assert a.ok("returnee.get", {"returnee_id": i})["erased_at"] is None, i
    rc = dm.stop()
    assert rc == 0, dm.log_tail()

    da = b.daemon(uniq("privacy-ret-auto"), {"retention_years": 1, "erase_interval_s": 1})
    with Client.api(da, b.admin) as a:
        deadline = time.monotonic() + 20
        while True:
            states = {i: a.ok("returnee.get", {"returnee_id": i}) for i in due_ids}
            if all(r["erased_at"] for r in states.values()):
                break
            assert time.monotonic() < deadline, "not erased within 20 s: %r" % {
                i: r["erased_at"] for i, r in states.items()}
            time.sleep(0.3)
        for r in states.values():
            check_erased(r)
        time.sleep(1.5)                           # another round or two
        for r in (opened, paid, recent):
            got = a.ok("returnee.get", rid(r))
            assert got["erased_at"] is None and got["full_name"] == r["full_name"], got
        assert a.ok("privacy.due", {})["due"] == []
        for i, basis in due_ids.items():
            es = a.ok("returnee.export", {"returnee_id": i})["erasures"]
            done = [e for e in es if e["status"] == "done"]
            assert len(done) == 1, es
            assert (done[0]["basis"], done[0]["requested_by"], done[0]["decided_by"]) == \
                (basis, None, None), done
            if i == old["returnee_id"]:
                assert [(e["erasure_id"], e["status"]) for e in es if e["basis"] ==
                        "request"] == [(pending["erasure_id"], "cancelled")], es
        rows = _sql(b, "SELECT returnee_id, basis, status, coalesce(requested_by, '-') "
                       "FROM fl.erasure WHERE status = 'done' ORDER BY seq;\n")
        assert rows.returncode == 0, rows.stderr
        assert sorted(l.split("|") for l in rows.stdout.split()) == \
            sorted([i, bs, "done", "-"] for i, bs in due_ids.items()), rows.stdout
        evs = [e for e in all_events(a) if e["method"] == "privacy.erase"]
        assert sorted(e["object_id"] for e in evs) == sorted(due_ids), evs
        for e in evs:
            assert (e["principal_id"], e["outcome"], e.get("purpose")) == (None, "ok", None), e
        wait_chained(a)
        assert a.ok("audit.verify")["ok"] is True
    with open(da.log_path, "rb") as fh:
        log = fh.read()
    for r in (old, nogrant, consent):
        assert not found_in(log, [r["full_name"], r["national_id"]])


# --------------------------------------------------------------------------------------------
# 11. Export


def test_export_holds_everything_about_one_person(api, api2, appr, aud):
    """returnee.export (admin only) holds the record as returnee.get reads it, every consent,
    the history with plaintext old and new values, the grants each with its disbursements,
    the erasures (a cancelled one), and every access before this one as
    returnee.access_log lists them; it leaves an access event of its own, purpose
    data_subject_request unless another is given."""
    f = funded_fund(api, received="1000.00", dual="100000")
    p = person("Exported Siranush")
    r = api.ok("returnee.register", returnee_params(
        consent_for=["case_management"], consent_given_on=days_ago(20), **p))
    R = rid(r)
    q = {"full_name": "Exported Siranush-Corrected " + tag(), "contact": "+374 77 " + tag()}
    api.ok("returnee.update", dict(R, consent_for=["case_management", "payment"],
                                   consent_given_on=days_ago(2), **q))
    g1 = approve(appr, api.ok("grant.apply", grant_params(r, f, amount="100.00")))
    d1 = confirm(api2, create(api, g1, "40.00"))
    d2 = confirm(api2, create(api, g1, "60.00"))                    # paid in full: completed
    g2 = api.ok("grant.apply", grant_params(r, f, amount="25.00"))
    api.ok("grant.withdraw", {"grant_id": g2["grant_id"], "reason": "duplicate"})
    er = api.ok("returnee.erase", dict(R, reason="asked, then changed her mind"))
    api2.ok("returnee.erase_cancel", {"erasure_id": er["erasure_id"]})
    now = api.ok("returnee.get", R)
    hist = api.ok("returnee.history", R)["history"]
    aud.ok("returnee.get", R)

    before = access_log(aud, r["returnee_id"])[0]
    x = api.ok("returnee.export", R)
    assert set(x) >= {"exported_at", "returnee", "consents", "history", "grants", "erasures",
                      "accesses"}, sorted(x)
    assert x["returnee"] == now, (x["returnee"], now)
    assert now["full_name"] == q["full_name"] and now["national_id"] == p["national_id"]
    assert [(c["for"], c["given_on"]) for c in x["consents"]] == \
        [(["case_management"], days_ago(20)), (["case_management", "payment"], days_ago(2))]
    [h] = x["history"]
    assert h["old"]["full_name"] == p["full_name"] and h["new"]["full_name"] == q["full_name"]
    assert (h["old"]["contact"], h["new"]["contact"]) == (p["contact"], q["contact"]), h
    assert [h] == hist
    gs = {g["grant_id"]: g for g in x["grants"]}
    assert set(gs) == {g1["grant_id"], g2["grant_id"]}, gs
    assert [(d["disbursement_id"], d["amount"], d["status"]) for d in
            gs[g1["grant_id"]]["disbursements"]] == [(d1["disbursement_id"], "40.00", "paid"),
                                                     (d2["disbursement_id"], "60.00", "paid")]
    assert gs[g1["grant_id"]]["status"] == "completed"
    assert gs[g1["grant_id"]]["disbursements"][1]["paid_at"] == d2["paid_at"]
    assert gs[g2["grant_id"]]["disbursements"] == [] and gs[g2["grant_id"]]["status"] == \
        "withdrawn"
    assert gs[g1["grant_id"]]["beneficiary_name"] == q["full_name"]
    assert [(e["erasure_id"], e["status"], e["basis"]) for e in x["erasures"]] == \
        [(er["erasure_id"], "cancelled", "request")]
    assert x["accesses"] == before, (x["accesses"], before)
    assert before[-1]["method"] == "returnee.get" and before[-1]["purpose"] == "audit"

    after = access_log(aud, r["returnee_id"])[0]
    assert after[:len(before)] == before
    [own] = after[len(before):]
    assert (own["method"], own["purpose"], own["principal_id"]) == \
        ("returnee.export", "data_subject_request", api.pid), own
    api.ok("returnee.export", dict(R, purpose="audit"))
    last = access_log(aud, r["returnee_id"])[0][-1]
    assert (last["method"], last["purpose"]) == ("returnee.export", "audit"), last
    for who in (appr, aud):
        who.err("returnee.export", R, -32003)
    api.err("returnee.export", {"returnee_id": "re_000000000000000000000"}, -32004,
            reason="returnee_not_found")
    api.err("returnee.export", dict(R, purpose="curiosity"), -32602, field="purpose")
