#!/usr/bin/python3
"""Write a valid audit trail export (docs/audit.md) for benchmarks and seeds.

    make_audit_file.py OUT --events 1000000 --key KEY.pem [--pubout KEY.pub]
        [--checkpoint-every 5000] [--unchained 10] [--escapes] [--seed 1]

Events are chained with SHA-256 as the page describes; every
--checkpoint-every events a checkpoint is signed with the Ed25519 private
key KEY.pem by `openssl pkeyutl -sign -rawin` (one process per checkpoint).
The last --unchained events are left unchained (prev_hash and hash null).
When KEY.pem does not exist it is created (with `openssl genpkey`, or from
--key-seed HEX, 32 bytes, for a reproducible key). Python standard library
and the openssl command only.

    bin/fundctl audit verify OUT --pubkey KEY.pub
"""

import argparse
import base64
import hashlib
import os
import random
import subprocess
import sys
import tempfile

METHODS = ["contribution.receive", "grant.create", "grant.approve",
           "disbursement.create", "disbursement.pay", "returnee.register",
           "partner.create", "fund.create", "principal.create"]
REFUSALS = [(-32001, "bad_credentials"), (-32003, "role_required"),
            (-32011, "self_approval")]
ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")


def openssl(args, data=None):
    return subprocess.run(["openssl"] + args, input=data, check=True,
                           stdout=subprocess.PIPE).stdout


def sign(key, msg):
    # pkeyutl signs Ed25519 in one shot, which it does from a file only.
    with tempfile.NamedTemporaryFile() as f:
        f.write(msg)
        f.flush()
        return openssl(["pkeyutl", "-sign", "-rawin", "-inkey", key,
                        "-in", f.name])


def make_key(path, seed_hex):
    if seed_hex is None:
        openssl(["genpkey", "-algorithm", "ed25519", "-out", path])
        return
    seed = bytes.fromhex(seed_hex)
    if len(seed) != 32:
        sys.exit("--key-seed must be 32 bytes of hex")
    b64 = base64.encodebytes(ED25519_PKCS8_PREFIX + seed).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\n" + b64 +
                "-----END PRIVATE KEY-----\n")


def ident(rng, prefix):
    return prefix + "".join(rng.choice("0123456789abcdef") for _ in range(20))


def at(i):
    # One event every ~7 ms from 2026-11-23T10:00:00Z, on real dates.
    us = i * 7013
    s, us = divmod(us, 1000000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    d, h = divmod(h, 24)
    return "2026-%02d-%02dT%02d:%02d:%02d.%06dZ" % (
        11 + (23 + d - 1) // 30, (23 + d - 1) % 30 + 1, h, m, s, us)


def jstr(s, escape=False):
    if s is None:
        return "null"
    if escape:  # the same text, spelled with JSON escapes
        return '"' + "".join("\\u%04x" % ord(c) if c.isalpha() else
                             "\\/" if c == "/" else c for c in s) + '"'
    return '"' + s + '"'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--events", type=int, default=1000000)
    ap.add_argument("--key", required=True)
    ap.add_argument("--key-seed")
    ap.add_argument("--pubout")
    ap.add_argument("--checkpoint-every", type=int, default=5000)
    ap.add_argument("--unchained", type=int, default=10)
    ap.add_argument("--escapes", action="store_true",
                    help="spell some fields with JSON escapes")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    if not os.path.exists(a.key):
        make_key(a.key, a.key_seed)
    pub = openssl(["pkey", "-in", a.key, "-pubout"]).decode()
    if a.pubout:
        with open(a.pubout, "w") as f:
            f.write(pub)
    pub_json = pub.replace("\n", "\\n")

    rng = random.Random(a.seed)
    principals = [ident(rng, "pr_") for _ in range(50)]
    objects = [ident(rng, "gr_") for _ in range(1000)] + ["DIASPORA", "EU-AMIF"]
    nchained = max(0, a.events - a.unchained)
    prev = bytes(32)
    seq = 0
    out = open(a.out, "w", buffering=1 << 20)
    for i in range(a.events):
        seq += 1 if rng.random() < 0.97 else 2          # a few skipped numbers
        method = rng.choice(METHODS)
        params = '{"amount": "%d.00", "note": "n%d"}' % (rng.randrange(10**6), i)
        psha = hashlib.sha256((method + " " + params).encode()).hexdigest()
        if rng.random() < 0.05:
            code, reason = rng.choice(REFUSALS)
            principal = None if code == -32001 else rng.choice(principals)
            obj = rng.choice(objects) if rng.random() < 0.5 else None
            outcome, ecode = "refused", str(code)
        else:
            principal, obj = rng.choice(principals), rng.choice(objects)
            outcome, ecode, reason = "ok", None, None
        t = at(i)
        canon = "\n".join([str(seq), t, principal or "", method, obj or "",
                           outcome, ecode or "", reason or "", psha]) + "\n"
        esc = a.escapes and i % 3 == 1
        head = ('{"type":"event","seq":%d,"at":"%s","principal_id":%s,'
                '"method":%s,"object_id":%s,"outcome":"%s","error_code":%s,'
                '"reason":%s,"params_sha256":"%s",' % (
                    seq, t, jstr(principal), jstr(method, esc),
                    jstr(obj, esc), outcome, ecode or "null", jstr(reason),
                    psha))
        if i >= nchained:
            out.write(head + '"prev_hash":null,"hash":null}\n')
            continue
        h = hashlib.sha256(prev + canon.encode()).digest()
        out.write(head + '"prev_hash":"%s","hash":"%s"}\n' % (prev.hex(), h.hex()))
        prev = h
        if (i + 1) % a.checkpoint_every == 0 or i + 1 == nchained:
            signed_at = at(i + 1)
            msg = "fl-audit-checkpoint\n%d\n%s\n%s\n" % (seq, h.hex(), signed_at)
            sig = sign(a.key, msg.encode())
            out.write('{"type":"checkpoint","seq":%d,"head_hash":"%s",'
                      '"signed_at":"%s","signature":"%s","public_key":"%s"}\n'
                      % (seq, h.hex(), signed_at, sig.hex(), pub_json))
    out.close()


if __name__ == "__main__":
    main()
