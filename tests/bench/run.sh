#!/usr/bin/env bash
# run.sh: the benchmarks behind docs/benchmarks.md (make bench).
#
# Everything runs on this machine, loopback only, bounded in time. In one run:
#   1. system.whoami through fundd (full path: TLS, HTTP, JSON-RPC, one PostgreSQL round trip
#      that authenticates the token) at 1, 8 and 32 keep-alive connections;
#   2. the baseline: nginx (Debian) serving a static JSON file over HTTPS, same load tool,
#      same connection counts, alternated with the fundd runs;
#   3. memory: fundd's idle RSS, and its RSS with 1,000 idle TLS connections.
# Results: var/bench/results.jsonl and a Markdown summary on stdout.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=$ROOT/var/bench
FPORT=${BENCH_FUNDD_PORT:-18543}
NPORT=${BENCH_NGINX_PORT:-18544}
DURATION=${BENCH_DURATION:-5}
WARMUP=${BENCH_WARMUP:-1}
ROUNDS=${BENCH_ROUNDS:-2}
LOADGEN=$ROOT/bin/loadgen
RESULTS=$DIR/results.jsonl
FUNDD_PID=

# start_fundd CONF: serve CONF in the background until /healthz answers
start_fundd() {
	"$ROOT/bin/fundd" -c "$1" 2>>"$DIR/fundd.log" &
	FUNDD_PID=$!
	for _ in $(seq 100); do
		curl -sf --cacert "$DIR/tls/ca.crt" "https://127.0.0.1:$FPORT/healthz" >/dev/null &&
		    return 0
		sleep 0.1
	done
	echo "run.sh: fundd did not come up (log: $DIR/fundd.log)" >&2
	exit 1
}

stop_fundd() {
	kill -TERM "$FUNDD_PID"
	wait "$FUNDD_PID" || true
	FUNDD_PID=
}

cleanup() {
	[ -n "$FUNDD_PID" ] && kill -TERM "$FUNDD_PID" 2>/dev/null && wait "$FUNDD_PID" || true
	"$ROOT/tests/bench/nginx.sh" stop "$DIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT

mkdir -p "$DIR"
"$ROOT/config/devenv.sh" up "$DIR" "$FPORT" >/dev/null
# Bench settings: quieter logs, idle connections kept for the memory figure.
sed -i -e 's/^level = .*/level = warn/' "$DIR/fundd.conf"
grep -q '^io_timeout_s' "$DIR/fundd.conf" ||
    sed -i -e 's/^\[server\]$/[server]\nio_timeout_s = 120\nmax_connections = 2048/' \
    "$DIR/fundd.conf"
TOKEN=$(cat "$DIR/admin.token")
: >"$RESULTS"

start_fundd "$DIR/fundd.conf"
sleep 1
idle_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$FUNDD_PID/status")
echo "{\"label\":\"fundd-idle\",\"rss_kb\":$idle_kb}" >>"$RESULTS"

"$ROOT/tests/bench/nginx.sh" "$DIR" "$NPORT" >/dev/null

WHOAMI='{"jsonrpc":"2.0","id":1,"method":"system.whoami"}'
for round in $(seq "$ROUNDS"); do
	for c in 1 8 32; do
		"$LOADGEN" --url "https://127.0.0.1:$FPORT/rpc" --connections "$c" \
		    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
		    --header "Authorization: Bearer $TOKEN" --body-string "$WHOAMI" \
		    --label fundd-whoami >>"$RESULTS"
		"$LOADGEN" --url "https://127.0.0.1:$NPORT/rpc" --connections "$c" \
		    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
		    --body-string "$WHOAMI" --label nginx-static >>"$RESULTS"
		echo "round $round, $c connections done" >&2
	done
done

# Cores: the same load on one worker thread, for the figure that says whether a second
# event loop pays on this machine (README: workers = 0 means one per core).
stop_fundd
sed -e 's/^\[server\]$/[server]\nworkers = 1/' "$DIR/fundd.conf" >"$DIR/fundd-1worker.conf"
start_fundd "$DIR/fundd-1worker.conf"
for round in $(seq "$ROUNDS"); do
	"$LOADGEN" --url "https://127.0.0.1:$FPORT/rpc" --connections 32 \
	    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
	    --header "Authorization: Bearer $TOKEN" --body-string "$WHOAMI" \
	    --label fundd-whoami-1worker >>"$RESULTS"
done
stop_fundd
start_fundd "$DIR/fundd.conf"
sleep 1

/usr/bin/python3 "$ROOT/tests/bench/idle_conns.py" --port "$FPORT" --cacert "$DIR/tls/ca.crt" \
    --pid "$FUNDD_PID" --connections 1000 >>"$RESULTS"

echo
echo "## system.whoami through fundd vs nginx static HTTPS (median of $ROUNDS rounds)"
echo
grep '"rps"' "$RESULTS" | /usr/bin/python3 "$ROOT/tests/bench/report.py" \
    --ratio fundd-whoami nginx-static 1 --ratio fundd-whoami nginx-static 8 \
    --ratio fundd-whoami nginx-static 32 --ratio fundd-whoami fundd-whoami-1worker 32
echo
echo "## memory"
echo
grep -v '"rps"' "$RESULTS"
