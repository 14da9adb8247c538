"""Server certificates signed by the suite's CA, with a chosen validity period: `openssl ca`
takes any start and end date (openssl x509 -days only counts from now)."""

import calendar
import os
import secrets
import subprocess
import time

CA_CONF = """[ca]
default_ca = ca_default
[ca_default]
database = {d}/index.txt
new_certs_dir = {d}
serial = {d}/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = supplied
"""

EXTENSIONS = "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"


def asn1(t):
    """Unix time t as openssl ca's YYYYMMDDHHMMSSZ."""
    return time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t))


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def server_cert(env, d, name, not_before, not_after):
    """A new EC key and a certificate for localhost/127.0.0.1 valid from not_before to
    not_after (Unix times, whole seconds), signed by the suite's CA; returns (crt, key)."""
    os.makedirs(d, exist_ok=True)
    key = os.path.join(d, name + ".key")
    csr = os.path.join(d, name + ".csr")
    crt = os.path.join(d, name + ".crt")
    ext = os.path.join(d, name + ".ext")
    conf = os.path.join(d, "ca.cnf")
    with open(conf, "w") as f:
        f.write(CA_CONF.format(d=d))
    open(os.path.join(d, "index.txt"), "a").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write(secrets.token_hex(8) + "\n")
    with open(ext, "w") as f:
        f.write(EXTENSIONS)
    subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "ca", "-batch", "-notext", "-config", conf, "-cert", env.ca,
                    "-keyfile", env.ca_key, "-in", csr, "-out", crt, "-extfile", ext,
                    "-startdate", asn1(not_before), "-enddate", asn1(not_after)],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return crt, key


def not_after(crt):
    """The certificate's notAfter, Unix time."""
    out = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-enddate"], check=True,
                         capture_output=True, text=True).stdout.strip()
    return calendar.timegm(time.strptime(out.split("=", 1)[1], "%b %d %H:%M:%S %Y GMT"))
