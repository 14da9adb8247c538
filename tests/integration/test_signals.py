"""Signals and log destinations (docs/operations.md, "Signals and logs"): SIGUSR1 and SIGUSR2
never stop fundd and say what they did; with [log] file, lines go to that file, SIGUSR1
reopens it after a rename (logrotate), a reopen that fails keeps the old file, and a file
that cannot be opened stops fundd at start and fails check; a second SIGTERM during the
drain closes what is still open at once."""

import os
import shutil
import signal
import time

from fl.env import uniq
from fl.client import call, raw_tls


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def _wait_in(path, needle, count=1, timeout=10):
    deadline = time.time() + timeout
    while _read(path).count(needle) < count:
        assert time.time() < deadline, "no %r in %s:\n%s" % (needle, path, _read(path)[-3000:])
        time.sleep(0.1)
    return _read(path)


def test_sigusr1_and_sigusr2_are_logged_and_harmless(env, daemon_factory, admin):
    dm = daemon_factory(uniq("usr"))
    for i in (1, 2):
        dm.signal(signal.SIGUSR1)
        _wait_in(dm.log_path, "SIGUSR1: logging to stderr, no log file to reopen", i)
        dm.signal(signal.SIGUSR2)
        _wait_in(dm.log_path, "SIGUSR2: ignored", i)
        assert dm.alive()
        assert call(dm, admin, "system.whoami")["roles"] == ["admin"]


def test_log_file_is_reopened_on_sigusr1_after_logrotate_renamed_it(env, daemon_factory,
                                                                     admin):
    name = uniq("logfile")
    # named fundd-*.log, so that the session's scan for tokens in logs reads them too
    path = os.path.join(env.dir, "fundd-%s-file.log" % name)
    rotated = os.path.join(env.dir, "fundd-%s-rotated.log" % name)
    dm = daemon_factory(name, {"log": {"file": path, "level": "debug"}})
    call(dm, admin, "system.whoami")
    first = _wait_in(path, "call system.whoami")
    assert "listening on https://127.0.0.1:%d" % dm.port in first
    # stderr gets nothing but errors
    assert "listening" not in dm.log_tail(100000)

    os.rename(path, rotated)
    call(dm, admin, "system.whoami")     # written to the renamed file, by its descriptor
    _wait_in(rotated, "call system.whoami", 2)
    dm.signal(signal.SIGUSR1)
    new = _wait_in(path, "SIGUSR1: log file %s reopened" % path)
    old = _read(rotated)
    assert "reopened" not in old
    for _ in range(3):
        assert call(dm, admin, "system.whoami")["roles"] == ["admin"]
    new = _wait_in(path, "call system.whoami", 3)
    assert "listening on" not in new
    time.sleep(0.5)
    assert _read(rotated) == old, "lines went to the old file after the reopen"
    assert "listening" not in dm.log_tail(100000)


def test_log_file_reopen_that_fails_keeps_the_old_file(env, daemon_factory, admin):
    name = uniq("logfail")
    path = os.path.join(env.dir, "fundd-%s-file.log" % name)
    rotated = os.path.join(env.dir, "fundd-%s-rotated.log" % name)
    dm = daemon_factory(name, {"log": {"file": path}})
    os.rename(path, rotated)
    os.mkdir(path)      # the name cannot be opened as a file, not even by root
    try:
        dm.signal(signal.SIGUSR1)
        line = "SIGUSR1: [log] file: cannot open %s" % path
        _wait_in(rotated, line)
        _wait_in(dm.log_path, line)     # errors also on stderr
        assert "still logging to the file opened before" in _read(rotated)
        assert dm.alive()
        assert call(dm, admin, "system.whoami")["roles"] == ["admin"]
    finally:
        os.rmdir(path)
    dm.signal(signal.SIGUSR1)
    _wait_in(path, "SIGUSR1: log file %s reopened" % path)
    assert "reopened" not in _read(rotated)


def test_log_file_that_cannot_be_opened_stops_start_and_fails_check(env):
    path = os.path.join(env.dir, "no-such-dir", "fundd.log")
    conf = env.write_conf(os.path.join(env.dir, "fundd-badlog.conf"), {"log": {"file": path}})
    for args in (("check",), ()):
        p = env.fundd(*args, conf=conf)
        assert p.returncode == 2, (args, p.returncode, p.stdout, p.stderr)
        assert "[log] file" in p.stderr and path in p.stderr, p.stderr
    assert not os.path.exists(os.path.dirname(path))
    d = os.path.join(env.dir, "log-is-a-dir")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    conf = env.write_conf(os.path.join(env.dir, "fundd-badlog.conf"), {"log": {"file": d}})
    p = env.fundd("check", conf=conf)
    assert p.returncode == 2 and "is a directory" in p.stderr, p.stderr


def test_second_sigterm_during_the_drain_stops_at_once(env, daemon_factory, admin):
    dm = daemon_factory(uniq("term2"), {"server": {"io_timeout_s": 120}})
    t = raw_tls(dm, timeout=30)
    try:
        # a request whose body never comes: the drain would wait for it
        t.sendall(b"POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                  b"\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"")
        time.sleep(0.3)
        dm.signal(signal.SIGTERM)
        _wait_in(dm.log_path, "SIGTERM: draining in-flight requests")
        time.sleep(1)
        assert dm.alive(), "the drain did not wait for the open request"
        dm.signal(signal.SIGHUP)    # still handled while draining
        _wait_in(dm.log_path, "SIGHUP: certificate and key reloaded")
        t0 = time.monotonic()
        dm.signal(signal.SIGTERM)
        assert dm.proc.wait(10) == 0
        assert time.monotonic() - t0 < 5
    finally:
        t.close()
    log = _read(dm.log_path)
    assert "SIGTERM again: closing the 1 open connection without waiting" in log, log[-2000:]
    assert "drained; exiting" in log
