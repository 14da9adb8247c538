#!/usr/bin/python3
"""Create N submitted grants on one fund (JSON-RPC batches of 100) and write one
grant.approve request body per line, for loadgen --bodies."""

import argparse
import http.client
import json
import ssl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cacert", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--fund", required=True)
    ap.add_argument("--returnee", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    ctx = ssl.create_default_context(cafile=a.cacert)
    conn = http.client.HTTPSConnection("127.0.0.1", a.port, context=ctx, timeout=120)
    hdr = {"Authorization": "Bearer " + a.token, "Content-Type": "application/json"}
    ids = []
    while len(ids) < a.count:
        n = min(100, a.count - len(ids))
        batch = [{"jsonrpc": "2.0", "id": i, "method": "grant.apply",
                  "params": {"returnee_id": a.returnee, "fund": a.fund, "amount": "1.00",
                             "category": "small_business", "purpose": "bench"}}
                 for i in range(n)]
        conn.request("POST", "/rpc", body=json.dumps(batch), headers=hdr)
        docs = json.loads(conn.getresponse().read())
        for d in docs:
            if "result" not in d:
                raise SystemExit("grant.apply failed: %r" % d)
            ids.append(d["result"]["grant_id"])
    with open(a.out, "w") as f:
        for g in ids:
            f.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "grant.approve",
                                "params": {"grant_id": g}}) + "\n")


if __name__ == "__main__":
    main()
