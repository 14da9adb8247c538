#!/usr/bin/python3
"""The benchmark report: one Markdown table of every figure the issues ask for, each beside
its baseline from the same run, the ratio, the target and whether it was met.

    summary.py results.jsonl

Reads every line make bench wrote (loadgen runs, pgbench lines, memory, exports, the audit
verifier). A figure measured more than once is the median of its runs. Exit 0 (targets that
are missed are reported, not an error), 2 when a figure is missing from the file.
"""
import json
import statistics
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def median(rows, label, key="rps", connections=None):
    vals = [float(r[key]) for r in rows if r.get("label") == label and
            (connections is None or int(r.get("connections", -1)) == connections) and
            r.get(key) is not None]
    if not vals:
        print("summary.py: no '%s' (%s) at %s connections" % (label, key, connections),
              file=sys.stderr)
        sys.exit(2)
    return statistics.median(vals)


def main():
    rows = load(sys.argv[1])
    out = ["| figure | fundd | baseline (same run) | ratio | target | met |",
           "| --- | ---: | ---: | ---: | --- | --- |"]

    def ratio_row(name, a, b, base_name, target=None, unit=""):
        r = a / b
        met = "" if target is None else ("yes" if r >= target else "**no**")
        out.append("| %s | %s%s | %s %s%s | %.3f | %s | %s |" % (
            name, f"{a:,.0f}", unit, base_name, f"{b:,.0f}", unit, r,
            "" if target is None else "≥ %s" % target, met))

    for c in (1, 8, 32):
        ratio_row("`system.whoami`, %d conns, req/s" % c, median(rows, "fundd-whoami",
                  connections=c), median(rows, "nginx-static", connections=c), "nginx",
                  0.3 if c == 32 else None)
    ratio_row("`system.whoami`, 32 conns, without the credentials cache", median(
        rows, "fundd-whoami-nocache", connections=32), median(
        rows, "nginx-static-nocache-round", connections=32), "nginx")
    ratio_row("`system.whoami`, 32 conns, 2 workers against 1", median(
        rows, "fundd-whoami", connections=32), median(rows, "fundd-whoami-1worker",
        connections=32), "1 worker")
    for c in (1, 8, 32):
        ratio_row("`contribution.receive`, %d conns, req/s" % c, median(
            rows, "fundd-receive", connections=c), median(
            rows, "pgbench-insert-update", connections=c), "pgbench",
            0.5 if c == 32 else None)
    p99 = median(rows, "fundd-receive", "p99_ms", 32)
    out.append("| `contribution.receive`, 32 conns, p99 | %.1f ms | | | < 25 ms | %s |" % (
        p99, "yes" if p99 < 25 else "**no**"))
    for c in (8, 32):
        ratio_row("`grant.approve`, %d conns, req/s" % c, median(
            rows, "fundd-approve", connections=c), median(
            rows, "fundd-receive", connections=c), "receive", 0.3)
    sp50 = median(rows, "fundd-fifo-status", "p50_ms", 8)
    bp50 = median(rows, "fundd-fifo-balance", "p50_ms", 8)
    out.append("| `contribution.status`, a fund of 100,000 receipts and 100,000 payments, "
               "8 conns, p50 | %.2f ms | `fund.balance` %.2f ms | %.3f | ≤ 3 | %s |" % (
                   sp50, bp50, sp50 / bp50, "yes" if sp50 / bp50 <= 3 else "**no**"))
    ap50 = median(rows, "fundd-asof", "p50_ms", 8)
    bp50 = median(rows, "fundd-asof-balance", "p50_ms", 8)
    out.append("| `fund.balance as_of`, a fund of 1,000,000 postings over three years, "
               "8 conns, p50 | %.2f ms | `fund.balance` %.2f ms | %.3f | ≤ 3 | %s |" % (
                   ap50, bp50, ap50 / bp50, "yes" if ap50 / bp50 <= 3 else "**no**"))
    for rep in ("grants", "contributions", "pipeline"):
        fp50 = median(rows, "fundd-report-" + rep, "p50_ms", 1)
        sp50 = median(rows, "sql-report-" + rep, "p50_ms", 1)
        ok = fp50 < 200 and fp50 / sp50 <= 1.5
        out.append("| `report.%s`, 100,000 %s, 1 conn, p50 | %.1f ms | SQL %.1f ms | "
                   "%.3f | < 200 ms, ≤ 1.5 | %s |" % (rep, "receipts" if rep == "contributions"
                                                      else "grants", fp50, sp50, fp50 / sp50,
                                                      "yes" if ok else "**no**"))
    qp50 = median(rows, "fundd-grant-queue", "p50_ms", 1)
    out.append("| `grant.queue`, 10,000 waiting, a page of 50, 1 conn, p50 | %.2f ms | | | "
               "< 20 ms | %s |" % (qp50, "yes" if qp50 < 20 else "**no**"))
    first = median(rows, "console-dashboard", "first_figures_ms")
    calls = median(rows, "console-dashboard", "direct_ms")
    out.append("| the console's dashboard, first figures from navigation, empty cache, p50 | "
               "%.0f ms | its %d calls sent directly %.0f ms | %.3f | < 1000 ms | %s |" % (
                   first, median(rows, "console-dashboard", "rpc_calls"), calls,
                   first / calls, "yes" if first < 1000 else "**no**"))
    kb = median(rows, "console-dashboard", "js_css_bytes") / 1000
    out.append("| the console's JavaScript and CSS transferred (%d files) | %.0f KB | | | "
               "< 200 KB | %s |" % (median(rows, "console-dashboard", "js_css_files"), kb,
                                    "yes" if kb < 200 else "**no**"))
    ratio_row("export of 1,000,000 postings, rows/s", median(
        rows, "export-1M", "fundd_rows_per_s"), median(
        rows, "export-1M", "psql_rows_per_s"), "psql COPY", 0.5)
    ratio_row("`contribution.receive`, 32 conns, audit chain running", median(
        rows, "fundd-receive-audit-chain", connections=32), median(
        rows, "fundd-receive-audit-paused", connections=32), "chain paused", 0.8)
    ratio_row("`contribution.receive`, 32 conns, batched commits (default)", median(
        rows, "fundd-receive-audit-chain", connections=32), median(
        rows, "fundd-receive-unbatched", connections=32), "batch_max = 1")
    ratio_row("`contribution.receive`, 32 conns, one batch at a time (default)", median(
        rows, "fundd-receive-audit-chain", connections=32), median(
        rows, "fundd-receive-allwriters", connections=32), "writers = 512")
    ratio_row("`contribution.receive`, 32 conns, a batch as one statement (default)", median(
        rows, "fundd-receive-audit-chain", connections=32), median(
        rows, "fundd-receive-each", connections=32), "batch_one_statement = 0")
    for label, name in (("fundd-receive-audit-chain", "batched"),
                        ("fundd-receive-unbatched", "unbatched"),
                        ("fundd-receive-allwriters", "writers = 512"),
                        ("fundd-receive-each", "one statement per call")):
        out.append("| `contribution.receive`, 32 conns, p50 / p99, %s | %.1f / %.1f ms "
                   "| | | | |" % (name, median(rows, label, "p50_ms", 32),
                                  median(rows, label, "p99_ms", 32)))
    for m in ("register", "get"):
        ratio_row("`returnee.%s`, 8 conns, personal data encrypted, req/s" % m, median(
            rows, "privacy-" + m, connections=8), median(
            rows, "privacy-%s-base" % m, connections=8), "before encryption", 0.7)
    a, b = (median(rows, "audit-verify-1M", k) for k in ("verify_mb_s", "sha256sum_mb_s"))
    out.append("| `fundctl audit verify`, 1M events, MB/s | %.0f | sha256sum %.0f | %.3f | "
               "≥ 0.1 | %s |" % (a, b, a / b, "yes" if a / b >= 0.1 else "**no**"))
    idle = median(rows, "fundd-idle", "rss_kb") / 1024
    out.append("| fundd RSS idle | %.1f MB | | | < 20 MB | %s |" % (
        idle, "yes" if idle < 20 else "**no**"))
    before = median(rows, "idle-tls", "rss_before_kb")
    after = median(rows, "idle-tls", "rss_after_kb")
    extra = (after - before) / 1024
    out.append("| fundd RSS, 1,000 idle TLS connections | +%.1f MB | | | < 50 MB | %s |" % (
        extra, "yes" if extra < 50 else "**no**"))
    peak = median(rows, "export-1M", "fundd_peak_rss_kb") / 1024
    out.append("| fundd peak RSS during the exports | %.1f MB | | | < 64 MB (flat) | %s |" % (
        peak, "yes" if peak < 64 else "**no**"))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
