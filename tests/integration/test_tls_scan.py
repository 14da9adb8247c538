"""testssl.sh (Debian) against the running fundd: no protocol below TLS 1.2, no weak cipher
category, and every vulnerability check of the scan answers "not vulnerable"."""

import json
import os
import shutil
import subprocess

SEVERE = {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
VULNERABILITIES = {"heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_client_renego",
                   "CRIME_TLS", "BREACH", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK",
                   "DROWN", "LOGJAM", "BEAST", "LUCKY13", "RC4"}


def test_testssl_scan(env, daemon, tmp_path):
    testssl = shutil.which("testssl") or shutil.which("testssl.sh")
    assert testssl, "testssl.sh is not installed: run make deps"
    out = tmp_path / "scan.json"
    p = subprocess.run([testssl, "--quiet", "--color", "0", "--warnings", "off",
                        "--protocols", "--std", "--vulnerable", "--ip", "one",
                        "--jsonfile", str(out), "127.0.0.1:%d" % daemon.port],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, TERM="dumb"))
    assert out.exists(), p.stdout[-3000:] + p.stderr[-3000:]
    found = {e["id"]: e for e in json.loads(out.read_text())}

    for proto in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert found[proto]["finding"] == "not offered", found[proto]
    assert found["TLS1_2"]["finding"].startswith("offered"), found["TLS1_2"]
    assert found["TLS1_3"]["finding"].startswith("offered"), found["TLS1_3"]
    for cat in ("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"):
        assert found["cipherlist_" + cat]["finding"] == "not offered", found["cipherlist_" + cat]
    assert found["cipherlist_STRONG"]["finding"] == "offered"

    missing = VULNERABILITIES - set(found)
    assert not missing, "the scan did not report %s" % sorted(missing)
    for vid in VULNERABILITIES:
        e = found[vid]
        assert e["severity"] in ("OK", "INFO"), e
        assert "not vulnerable" in e["finding"] or vid in ("fallback_SCSV", "RC4") and \
            e["severity"] == "OK", e
    severe = [e for e in found.values() if e["severity"] in SEVERE]
    assert not severe, severe
