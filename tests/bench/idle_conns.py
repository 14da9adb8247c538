#!/usr/bin/python3
"""Open N TLS connections to a server, finish each handshake and one request, hold them idle,
and print the server's RSS (from /proc/PID/status) before and after, as one JSON line."""

import argparse
import json
import resource
import socket
import ssl
import sys
import time


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cacert", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--hold", type=float, default=2.0)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ctx = ssl.create_default_context(cafile=a.cacert)
    before = rss_kb(a.pid)
    conns = []
    req = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
    for _ in range(a.connections):
        raw = socket.create_connection(("127.0.0.1", a.port), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname="localhost")
        s.sendall(req)
        data = b""
        while b"\r\n\r\n" not in data or not data.endswith(b"ok\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        if not data.startswith(b"HTTP/1.1 200"):
            print("unexpected answer: %r" % data[:80], file=sys.stderr)
            sys.exit(1)
        conns.append(s)
    time.sleep(a.hold)
    after = rss_kb(a.pid)
    print(json.dumps({"label": "idle-tls", "connections": len(conns), "rss_before_kb": before,
                      "rss_after_kb": after, "per_conn_kb": round((after - before) / len(conns), 1)}))
    for s in conns:
        s.close()


if __name__ == "__main__":
    main()
