"""fundd as a service manager sees it: the datagram socket a manager binds for sd_notify(3)
messages (NotifySocket), fundd started with NOTIFY_SOCKET and WATCHDOG_USEC, from any
binary and folder (ServiceDaemon), and one thread of a process held still with ptrace
(hold_thread), as a stuck worker would be."""

import contextlib
import ctypes
import os
import shutil
import socket
import subprocess
import tempfile
import time

from fl.env import FUNDD, ROOT, Daemon


class NotifySocket:
    """A bound AF_UNIX datagram socket, in a short folder of its own (sun_path holds 108
    bytes). .path is what NOTIFY_SOCKET names; every message received is kept in .log."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="fundd-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.log = []

    def get(self, timeout):
        """The next message as text, or None when none comes within timeout seconds."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        msg = data.decode("utf-8")
        self.log.append((time.monotonic(), msg))
        return msg

    def wait_for(self, pred, timeout):
        """Reads until a message satisfies pred; returns (message, [messages before it]).
        Fails the test when none does within timeout seconds."""
        deadline = time.monotonic() + timeout
        before = []
        while True:
            left = deadline - time.monotonic()
            msg = self.get(left) if left > 0 else None
            if msg is None:
                raise AssertionError("no such sd_notify message within %ss; got %r" % (
                    timeout, before))
            if pred(msg):
                return msg, before
            before.append(msg)

    def during(self, seconds):
        """Every message that arrives in the next `seconds`."""
        got = []
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got
            msg = self.get(left)
            if msg is not None:
                got.append(msg)

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def fields(msg):
    """An sd_notify message as a dict of its NAME=value lines."""
    return dict(line.split("=", 1) for line in msg.split("\n") if "=" in line)


class ServiceDaemon(Daemon):
    """A fundd that a service manager would start: binary (the tree's by default), run from
    cwd, with NOTIFY_SOCKET naming notify's socket and the extra environment given.
    launch() starts it without waiting; Daemon's wait_ready(), stop() and log_tail() apply."""

    def __init__(self, env, name, conf, port, notify=None, binary=FUNDD, cwd=ROOT,
                 environ=None):
        super().__init__(env, name, conf, port)
        self.binary = binary
        self.cwd = cwd
        self.environ = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            self.environ.pop(k, None)
        if notify is not None:
            self.environ["NOTIFY_SOCKET"] = notify.path
        self.environ.update(environ or {})

    def launch(self):
        logf = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen([self.binary, "-c", self.conf], cwd=self.cwd,
                                         stdout=logf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.environ)
        finally:
            logf.close()
        return self

    def start(self, timeout=30):
        self.launch()
        self.wait_ready(timeout)
        return self

    def threads(self):
        """The ids of its threads other than the main one: its workers."""
        return sorted(int(t) for t in os.listdir("/proc/%d/task" % self.proc.pid)
                      if int(t) != self.proc.pid)


_PTRACE_SEIZE = 0x4206
_PTRACE_INTERRUPT = 0x4207
_PTRACE_DETACH = 17
_WALL = 0x40000000


@contextlib.contextmanager
def hold_thread(tid):
    """Stops thread tid alone (PTRACE_SEIZE, PTRACE_INTERRUPT), the other threads of its
    process running on, until the block ends. Needs CAP_SYS_PTRACE (the suite runs as
    root)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    libc.ptrace.restype = ctypes.c_long
    if libc.ptrace(_PTRACE_SEIZE, tid, None, None) != 0:
        raise AssertionError("ptrace(PTRACE_SEIZE, %d): %s" % (
            tid, os.strerror(ctypes.get_errno())))
    try:
        if libc.ptrace(_PTRACE_INTERRUPT, tid, None, None) != 0:
            raise AssertionError("ptrace(PTRACE_INTERRUPT, %d): %s" % (
                tid, os.strerror(ctypes.get_errno())))
        status = ctypes.c_int()
        if libc.waitpid(tid, ctypes.byref(status), _WALL) != tid:
            raise AssertionError("waitpid(%d): %s" % (tid, os.strerror(ctypes.get_errno())))
        yield
    finally:
        libc.ptrace(_PTRACE_DETACH, tid, None, None)
