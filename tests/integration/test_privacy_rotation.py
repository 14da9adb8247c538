"""Rotating the key-encryption key of returnees' personal data (docs/privacy.md, "Rotating
the key-encryption key"): `fundd -c FILE privacy rotate-key NEWKEY` wraps every data key
anew and computes every keyed index again, in batches, while a daemon serves; killed
(SIGKILL) in the middle, it is run again and completes, with every person still readable
and findable. On a database of its own: a rotation touches every returnee."""

import os
import signal
import subprocess
import time

import pytest

from fl.client import Client
from fl.db import database_overrides, own_books, psql
from fl.env import FUNDD, ROOT, uniq

PEOPLE = 1200       # 12 batches of registrations; 24 rotation batches of 50


def new_key(env, name):
    path = os.path.join(env.dir, "tls", "%s-%s.key" % (name, uniq("k")))
    p = env.fundd("privacy", "new-key", path, conf=False)
    assert p.returncode == 0, p.stderr
    assert os.stat(path).st_mode & 0o777 == 0o600
    return path


def kek_ids(env, db):
    out = psql(env, "SELECT kek_id, count(*) FROM fl.person_key GROUP BY 1 ORDER BY 1;\n",
               db=db)
    assert out.returncode == 0, out.stderr
    return dict(l.split("|") for l in out.stdout.split())


def index_keks(env, db):
    out = psql(env, "SELECT coalesce(index_kek, '-'), count(*) FROM fl.returnee "
                    "WHERE erased_at IS NULL GROUP BY 1 ORDER BY 1;\n", db=db)
    assert out.returncode == 0, out.stderr
    return dict(l.split("|") for l in out.stdout.split())


def register_many(api, n, tag):
    people = []
    for start in range(0, n, 100):
        calls = [("returnee.register", {
            "full_name": "Rotated Person %s %d" % (tag, i), "region": "AM-GR",
            "returned_from": "RU", "returned_on": "2026-01-15",
            "national_id": "ROT-%s-%d" % (tag, i), "birth_year": 1970 + i % 40})
            for i in range(start, min(n, start + 100))]
        for doc in api.batch(calls):
            assert "result" in doc, doc
            people.append(doc["result"])
    return people


def rotate(books, newkey, conf=None, batch=50, **kw):
    return subprocess.Popen([FUNDD, "-c", conf or books.conf, "privacy", "rotate-key", newkey,
                             "--batch", str(batch)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def check_readable(api, people):
    """Every person reads back whole, and is found by whole name and by national id."""
    for start in range(0, len(people), 100):
        chunk = people[start:start + 100]
        docs = api.batch([("returnee.get", {"returnee_id": p["returnee_id"]}) for p in chunk])
        for p, doc in zip(chunk, docs):
            assert "result" in doc, doc
            assert doc["result"]["full_name"] == p["full_name"], (p, doc)
            assert doc["result"]["national_id"] == p["national_id"], (p, doc)
    for p in people[::97]:
        found = api.ok("returnee.find", {"name": p["full_name"].upper()})["returnees"]
        assert [r["returnee_id"] for r in found] == [p["returnee_id"]], p
        found = api.ok("returnee.find", {"national_id": p["national_id"].lower()})["returnees"]
        assert [r["returnee_id"] for r in found] == [p["returnee_id"]], p


@pytest.fixture(scope="module")
def books(env, module_daemon_factory):
    return own_books(env, module_daemon_factory, "rotation")


def test_a_rotation_killed_midway_completes_when_run_again(env, books, daemon_factory):
    admin = Client.api(books.daemon, books.admin)
    people = register_many(admin, PEOPLE, uniq("a"))
    [old_id] = kek_ids(env, books.db)
    assert index_keks(env, books.db) == {old_id: str(PEOPLE)}

    newkey = new_key(env, "rotation")
    # a daemon with both keys serves throughout: the new one wraps, the old one unwraps
    with open(books.conf) as f:
        old_key = [l.split("=", 1)[1].strip() for l in f if l.startswith("key_file")][0]
    ov = database_overrides(env, books.db)
    ov["privacy"] = {"key_file": newkey, "old_key_files": old_key}
    both = daemon_factory("rotation-both", ov)
    api = Client.api(both, books.admin)

    # killed once it has done some batches, not all
    p = rotate(books, newkey)
    deadline = time.monotonic() + 60
    done = ""
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        done += line
        if "wrapped" in line and int(line.split()[1]) >= 200:
            break
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert "done" not in done, done
    partial = kek_ids(env, books.db)
    new_id = [k for k in partial if k != old_id][0]
    assert int(partial[new_id]) >= 200 and int(partial.get(old_id, 0)) > 0, partial
    # in the middle, the serving daemon reads everyone, and registers under the new key
    check_readable(api, people[::7])
    late = register_many(api, 30, uniq("b"))

    # run again: it resumes and completes while the daemon serves reads
    p = rotate(books, newkey)
    while p.poll() is None:
        check_readable(api, people[::101])
    out, err = p.communicate()
    assert p.returncode == 0, out + err
    assert "done" in out, out
    assert kek_ids(env, books.db) == {new_id: str(PEOPLE + 30)}
    assert index_keks(env, books.db) == {new_id: str(PEOPLE + 30)}

    # a daemon with the new key alone reads and finds every one of them
    ov["privacy"] = {"key_file": newkey, "old_key_files": ""}
    only = daemon_factory("rotation-new", ov)
    check_readable(Client.api(only, books.admin), people + late)
    # run once more: nothing to do
    p = rotate(books, newkey)
    out, err = p.communicate()
    assert p.returncode == 0 and "0 data keys wrapped anew, 0 returnees" in out, out + err


def test_rotation_refuses_keys_it_cannot_unwrap(env, books):
    """A data key under a key-encryption key neither the config nor NEWKEY holds stops the
    rotation with a message naming that key's id, and nothing is lost."""
    stranger = new_key(env, "stranger")
    other = new_key(env, "other")
    conf = env.write_conf(os.path.join(env.dir, "fundd-rotation-stranger.conf"),
                          {"privacy": {"key_file": stranger, "old_key_files": ""}},
                          base=books.conf)
    before = kek_ids(env, books.db)
    p = rotate(books, other, conf=conf)
    out, err = p.communicate()
    assert p.returncode == 1, out + err
    assert "neither [privacy] key_file nor old_key_files holds" in err, err
    assert "run it again to resume" in err, err
    assert kek_ids(env, books.db) == before
