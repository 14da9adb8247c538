"""A write waiting for an idle database connection is not starved by a flood of reads that
keeps the connections' pipelines busy (db_pool.c: reads may share a busy connection's
pipeline, writes wait for an idle one)."""

import json
import os
import subprocess
import time

from fl.env import ROOT, uniq
from fl.client import call

LOADGEN = os.path.join(ROOT, "bin", "loadgen")


def test_write_is_not_starved_by_a_read_flood(env, daemon_factory, admin):
    # whoami without the credentials cache, so that every call is a database read
    d = daemon_factory(uniq("fair"), {"database": {"pool_size": 2},
                                      "server": {"auth_cache_ms": 0}})
    flood = subprocess.Popen(
        [LOADGEN, "--url", d.url + "/rpc", "--connections", "64", "--duration", "5",
         "--warmup", "0", "--cacert", env.ca, "--header", "Authorization: Bearer " + admin,
         "--body-string", '{"jsonrpc":"2.0","id":1,"method":"system.whoami"}',
         "--label", "flood"], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        worst = 0.0
        for i in range(5):
            t0 = time.time()
            p = call(d, admin, "partner.create", {"name": uniq("fair"),
                     "country": "AM", "kind": "organisation"}, timeout=30)
            worst = max(worst, time.time() - t0)
            assert p["partner_id"].startswith("pa_")
    finally:
        out, _ = flood.communicate(timeout=60)
    res = json.loads(out)
    assert res["requests"] > 10000 and res["errors"] == 0 and res["non2xx"] == 0, res
    assert worst < 2.0, "a write waited %.1f s behind the reads" % worst
