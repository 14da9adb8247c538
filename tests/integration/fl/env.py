"""The environment of the suite: paths, every bearer token the suite has used, unique names
and free ports, the PostgreSQL cluster, TLS material and configs that config/devenv.sh
manages (Env), fundd processes (Daemon), and fundctl."""

import configparser
import glob
import http.client
import os
import secrets
import signal
import socket
import ssl
import subprocess
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FUNDD = os.path.join(ROOT, "bin", "fundd")
FUNDCTL = os.path.join(ROOT, "bin", "fundctl")
DEVENV = os.path.join(ROOT, "config", "devenv.sh")

# Every bearer token the suite sends or receives, real or fake: none may ever show up in a
# daemon log (docs/protocol.md, STYLE habit 5).
USED_TOKENS = set()


def remember_token(tok):
    if tok:
        USED_TOKENS.add(tok)
    return tok


def fake_token():
    """A well-formed but unknown token; long and random so a log hit is never an accident."""
    return remember_token("fake" + secrets.token_urlsafe(32))


def find_tokens(data):
    """The used tokens (shortened) found in bytes, such as a daemon log."""
    return sorted(t[:8] + "..." for t in USED_TOKENS if t and t.encode() in data)


def scan_logs(directory):
    """[(log file, [tokens found])] of every daemon log in directory holding a used token."""
    hits = []
    for path in sorted(glob.glob(os.path.join(directory, "fundd-*.log"))):
        with open(path, "rb") as f:
            found = find_tokens(f.read())
        if found:
            hits.append((os.path.basename(path), found))
    return hits


def edit(path, old, new):
    """Replaces the first old in the file at path by new; old must be there."""
    with open(path) as f:
        text = f.read()
    assert old in text, "%s has no %r" % (path, old)
    with open(path, "w") as f:
        f.write(text.replace(old, new, 1))


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def uniq(prefix="t"):
    return "%s-%s" % (prefix, secrets.token_hex(4))


# --------------------------------------------------------------------------------------------
# Environment: devenv.sh wrapper


class Env:
    def __init__(self, directory):
        self.dir = os.path.realpath(directory)
        self.tls = os.path.join(self.dir, "tls")
        self.conf = os.path.join(self.dir, "fundd.conf")
        self.ca = os.path.join(self.tls, "ca.crt")
        self.ca_key = os.path.join(self.tls, "ca.key")
        self.client_crt = os.path.join(self.tls, "client.crt")
        self.client_key = os.path.join(self.tls, "client.key")
        self.admin_token = None

    def devenv(self, *args, check=True, timeout=300, input=None):
        p = subprocess.run([DEVENV] + list(args), cwd=ROOT, capture_output=True, text=True,
                           timeout=timeout, input=input)
        if check and p.returncode != 0:
            raise AssertionError("devenv.sh %s failed (rc %d):\n%s\n%s" % (
                " ".join(args), p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
        return p

    def up(self, port):
        self.devenv("up", self.dir, str(port), timeout=600)
        with open(os.path.join(self.dir, "admin.token")) as f:
            self.admin_token = remember_token(f.read().strip())
        assert self.admin_token, "devenv.sh up wrote an empty admin.token"

    def pg_stop(self):
        self.devenv("pg-stop", self.dir, timeout=120)

    def pg_start(self):
        self.devenv("pg-start", self.dir, timeout=120)

    def down(self):
        self.devenv("down", self.dir, check=False, timeout=120)

    def sql(self, query, timeout=60):
        """Runs SQL as the schema owner; returns unaligned tuples-only output."""
        p = self.devenv("psql", self.dir, "-At", "-c", query, timeout=timeout)
        return p.stdout

    def sql_script(self, script, timeout=60):
        """Runs a psql script (may contain backslash commands such as \\gexec) from stdin."""
        p = self.devenv("psql", self.dir, "-At", input=script, timeout=timeout)
        return p.stdout

    def fundd(self, *args, conf=None, timeout=60, input=None):
        cmd = [FUNDD]
        if conf is not False:
            cmd += ["-c", conf or self.conf]
        cmd += list(args)
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              input=input)

    def principal_add(self, name, roles, cert=None, conf=None):
        args = ["principal", "add", "--name", name, "--roles", ",".join(roles)]
        if cert:
            args += ["--cert", cert]
        p = self.fundd(*args, conf=conf)
        assert p.returncode == 0, "principal add failed (rc %d): %s %s" % (
            p.returncode, p.stdout, p.stderr)
        lines = [l for l in p.stdout.splitlines() if l.strip()]
        assert lines, "principal add printed nothing on stdout"
        return remember_token(lines[-1].strip())

    def confirmer(self, conf=None, not_token=None):
        """The token of a bootstrap admin of conf's database (`principal add`, made once per
        database and kept) other than not_token: the second admin that confirms the admins
        and approvers tests create (principal.confirm)."""
        conf = conf or self.conf
        cache = self.__dict__.setdefault("_confirmers", {})
        tokens = cache.setdefault(conf, [])
        for t in tokens:
            if t != not_token:
                return t
        tokens.append(self.principal_add(uniq("confirmer"), ["admin"], conf=conf))
        return tokens[-1]

    def write_conf(self, path, overrides=None, base=None):
        """Copies the base config with overrides {section: {key: value}} (value None deletes)."""
        cp = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"),
                                       inline_comment_prefixes=None)
        cp.optionxform = str
        cp.read(base or self.conf)
        for section, kv in (overrides or {}).items():
            if not cp.has_section(section):
                cp.add_section(section)
            for k, v in kv.items():
                if v is None:
                    cp.remove_option(section, k)
                else:
                    cp.set(section, k, str(v))
        with open(path, "w") as f:
            cp.write(f)
        return path

    def gen_client_cert(self, name, ca_crt=None, ca_key=None):
        """A fresh EC client certificate signed by the dev CA (or self-signed with ca_crt=False).
        Returns (crt, key)."""
        d = os.path.join(self.dir, "tls-test")
        os.makedirs(d, exist_ok=True)
        crt = os.path.join(d, name + ".crt")
        key = os.path.join(d, name + ".key")
        ext = os.path.join(d, name + ".ext")
        with open(ext, "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        if ca_crt is False:
            run = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days",
                   "30", "-subj", "/CN=" + name, "-addext", "extendedKeyUsage=clientAuth"]
            subprocess.run(run, check=True, capture_output=True)
            return crt, key
        csr = os.path.join(d, name + ".csr")
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + name],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt or self.ca,
                        "-CAkey", ca_key or self.ca_key, "-CAcreateserial",
                        "-CAserial", os.path.join(d, "ca.srl"), "-out", crt, "-days", "30",
                        "-extfile", ext], check=True, capture_output=True)
        return crt, key


# --------------------------------------------------------------------------------------------
# Daemon process


class Daemon:
    def __init__(self, env, name, conf, port):
        self.env = env
        self.name = name
        self.conf = conf
        self.port = port
        self.host = "127.0.0.1"
        self.log_path = os.path.join(env.dir, "fundd-%s.log" % name)
        self.proc = None
        self.returncode = None

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def start(self, timeout=30):
        logf = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen([FUNDD, "-c", self.conf], cwd=ROOT, stdout=logf,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        finally:
            logf.close()
        self.wait_ready(timeout)
        return self

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_ready(self, timeout=30):
        from fl.client import http_get  # fl.client imports this module
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise AssertionError("fundd %s exited with %d during start-up:\n%s" % (
                    self.name, rc, self.log_tail()))
            try:
                st, _, _ = http_get(self, "/healthz", timeout=2)
                if st == 200:
                    return
                last = "status %d" % st
            except (OSError, http.client.HTTPException, ssl.SSLError) as e:
                last = repr(e)
            time.sleep(0.1)
        raise AssertionError("fundd %s did not answer GET /healthz 200 within %ss (last: %s)\n%s"
                             % (self.name, timeout, last, self.log_tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        """SIGTERM, wait, return the exit code (killing it only if it hangs)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = "hung after SIGTERM (killed)"
                return self.returncode
        self.returncode = self.proc.returncode
        return self.returncode


# --------------------------------------------------------------------------------------------
# fundctl


def fundctl(*args, env_vars=None, timeout=30):
    e = dict(os.environ)
    for k in ("FUNDCTL_URL", "FUNDCTL_TOKEN", "FUNDCTL_CACERT"):
        e.pop(k, None)
    e.update(env_vars or {})
    return subprocess.run([FUNDCTL] + list(args), cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=e)
