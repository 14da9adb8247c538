#!/usr/bin/python3
"""Summarise loadgen results as a Markdown table.

    report.py [--ratio LABEL_A LABEL_B CONNECTIONS]... < results.jsonl

Reads the JSON lines that tests/bench/loadgen prints (one per run; other lines are an error)
and prints one table row per run, in input order. Each --ratio prints rps(A) / rps(B) at that
connection count; when a label was run more than once at that count, the median rps is used.
Exit status: 0, 1 when a --ratio names a run that is missing or has zero rps, 2 on bad input.
"""
import argparse
import json
import statistics
import sys

REQUIRED = ("label", "connections", "requests", "errors", "non2xx", "rps", "p50_ms", "p99_ms")


def fail(msg, code=2):
    print(f"report.py: {msg}", file=sys.stderr)
    sys.exit(code)


def read_runs(stream):
    runs = []
    for lineno, line in enumerate(stream, 1):
        line = line.strip()
        if not line:
            continue
        try:
            run = json.loads(line)
        except json.JSONDecodeError as e:
            fail(f"line {lineno}: not JSON ({e.msg}): {line[:80]}")
        if not isinstance(run, dict):
            fail(f"line {lineno}: expected a JSON object")
        missing = [k for k in REQUIRED if k not in run]
        if missing:
            fail(f"line {lineno}: missing {', '.join(missing)}")
        runs.append(run)
    return runs


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def ms(v):
    """A latency cell; '-' where the tool did not measure it (pgbench gives an average)."""
    return "-" if v is None else f"{float(v):.3f}"


def table(runs):
    lines = [
        "| label | connections | rps | p50 ms | p99 ms | errors | non-2xx |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        lines.append(
            f"| {cell(r['label'])} | {r['connections']} | {r['rps']:.0f} | {ms(r['p50_ms'])} "
            f"| {ms(r['p99_ms'])} | {r['errors']} | {r['non2xx']} |")
    return "\n".join(lines)


def rps_of(runs, label, connections):
    values = [float(r["rps"]) for r in runs
              if r["label"] == label and int(r["connections"]) == connections]
    return statistics.median(values) if values else None


def main():
    ap = argparse.ArgumentParser(description="Markdown table of loadgen JSON lines on stdin.")
    ap.add_argument("--ratio", nargs=3, action="append", default=[],
                    metavar=("LABEL_A", "LABEL_B", "CONNECTIONS"),
                    help="print rps(LABEL_A) / rps(LABEL_B) at CONNECTIONS (repeatable)")
    args = ap.parse_args()

    runs = read_runs(sys.stdin)
    if not runs:
        fail("no loadgen results on stdin")
    print(table(runs))

    status = 0
    for a, b, conns in args.ratio:
        try:
            n = int(conns)
        except ValueError:
            fail(f"--ratio: CONNECTIONS must be an integer, got '{conns}'")
        ra, rb = rps_of(runs, a, n), rps_of(runs, b, n)
        if ra is None or rb is None:
            which = a if ra is None else b
            print(f"report.py: --ratio: no run labelled '{which}' at {n} connections",
                  file=sys.stderr)
            status = 1
            continue
        if rb == 0:
            print(f"report.py: --ratio: '{b}' has 0 rps at {n} connections", file=sys.stderr)
            status = 1
            continue
        print(f"\nrps({a}) / rps({b}) at {n} connections: {ra / rb:.3f} "
              f"({ra:.0f} / {rb:.0f})")
    return status


if __name__ == "__main__":
    sys.exit(main())
