#!/usr/bin/env bash
# privacy.sh: returnee.register and returnee.get with returnees' personal data encrypted
# (docs/privacy.md), against the same calls of the tree before encryption, built from git in
# var/bench/base-src and serving a database of its own in the same cluster, alternating, at
# 8 connections (docs/benchmarks.md). Run by run.sh, after its own fundd stopped; appends to
# var/bench/results.jsonl (labels privacy-register, privacy-get and their -base).
#
# The tree before encryption: BENCH_PRIVACY_BASE (a commit), or else the parent of the commit
# that added migrations/0036_privacy.sql, or else HEAD (that file not committed yet).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=$ROOT/var/bench
RESULTS=$DIR/results.jsonl
LOADGEN=$ROOT/bin/loadgen
NPORT=${BENCH_PRIVACY_PORT:-18546}
BPORT=$((NPORT + 1))
DURATION=${BENCH_DURATION:-5}
WARMUP=${BENCH_WARMUP:-1}
ROUNDS=${BENCH_ROUNDS:-2}
CONNS=8
BASE_SRC=$DIR/base-src
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" || true; done
}
trap cleanup EXIT

base=${BENCH_PRIVACY_BASE:-}
if [ -z "$base" ]; then
	added=$(git -C "$ROOT" log --diff-filter=A --format=%H -- migrations/0036_privacy.sql |
	    tail -n 1)
	base=${added:+$added^}
	base=${base:-HEAD}
fi
base=$(git -C "$ROOT" rev-parse --verify "$base^{commit}")
if [ "$(cat "$BASE_SRC/.commit" 2>/dev/null)" != "$base" ]; then
	rm -rf "$BASE_SRC"
	mkdir -p "$BASE_SRC"
	git -C "$ROOT" archive "$base" | tar -x -C "$BASE_SRC"
	echo "$base" >"$BASE_SRC/.commit"
fi
make -C "$BASE_SRC" -s bin/fundd >/dev/null
echo "privacy bench: the tree before encryption is $(git -C "$ROOT" rev-parse --short "$base")" >&2

"$ROOT/config/devenv.sh" up "$DIR" >/dev/null
# a database of the base tree's own: its schema, its migrations
psql_owner() { "$ROOT/config/devenv.sh" psql "$DIR" "$@"; }
psql_owner -d postgres -q -c "DROP DATABASE IF EXISTS fund_base" \
    -c "CREATE DATABASE fund_base OWNER fund_owner"
# the configs: the current one, and the base one without what the base tree does not know
sed -e "s/^listen = .*/listen = 127.0.0.1:$NPORT/" -e 's/^level = .*/level = warn/' \
    "$DIR/fundd.conf" >"$DIR/fundd-privacy.conf"
sed -e "s/^listen = .*/listen = 127.0.0.1:$BPORT/" -e 's/^level = .*/level = warn/' \
    -e 's/dbname=fund /dbname=fund_base /g' -e '/^key_file = /d' -e '/^old_key_files = /d' \
    -e "/^\[database\]\$/a migrations = $BASE_SRC/migrations" -e "/^\[server\]\$/a web_root =" \
    "$DIR/fundd.conf" >"$DIR/fundd-privacy-base.conf"
"$BASE_SRC/bin/fundd" -c "$DIR/fundd-privacy-base.conf" migrate >/dev/null
BTOKEN=$("$BASE_SRC/bin/fundd" -c "$DIR/fundd-privacy-base.conf" principal add \
    --name bench-base --roles admin | tail -n 1)
TOKEN=$(cat "$DIR/admin.token")

start() {	# start BIN CONF PORT
	"$1" -c "$2" 2>>"$DIR/fundd-privacy.log" &
	PIDS+=($!)
	for _ in $(seq 100); do
		curl -sf --cacert "$DIR/tls/ca.crt" "https://127.0.0.1:$3/healthz" >/dev/null &&
		    return 0
		sleep 0.1
	done
	echo "privacy.sh: fundd on port $3 did not come up ($DIR/fundd-privacy.log)" >&2
	exit 1
}
start "$ROOT/bin/fundd" "$DIR/fundd-privacy.conf" "$NPORT"
start "$BASE_SRC/bin/fundd" "$DIR/fundd-privacy-base.conf" "$BPORT"

RUN_ID=$(date +%s)
REGISTER='{"jsonrpc":"2.0","id":1,"method":"returnee.register","params":{"full_name":"Bench Person {{seq}}","region":"AM-GR","returned_from":"RU","returned_on":"2025-06-01","gender":"female","birth_year":1984,"national_id":"PB-'$RUN_ID'-{{seq}}","idempotency_key":"pb-'$RUN_ID'-{{seq}}"}}'

load() {	# load LABEL PORT TOKEN SEQ (--body-template|--bodies) BODY
	"$LOADGEN" --url "https://127.0.0.1:$2/rpc" --connections "$CONNS" \
	    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
	    --header "Authorization: Bearer $3" --seq-start "$4" "$5" "$6" --label "$1" \
	    >>"$RESULTS"
}

seq=1
for r in $(seq "$ROUNDS"); do
	load privacy-register-base "$BPORT" "$BTOKEN" "$seq" --body-template "$REGISTER"
	seq=$((seq + 10000000))
	load privacy-register "$NPORT" "$TOKEN" "$seq" --body-template "$REGISTER"
	seq=$((seq + 10000000))
	echo "privacy bench: register, round $r done" >&2
done
# the same returnees' ids for get, 2,000 of each database's
bodies() {	# bodies DB FILE
	psql_owner -d "$1" -tA -c "SELECT returnee_id FROM fl.returnee ORDER BY seq DESC
	    LIMIT 2000" |
	    awk '{printf "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"returnee.get\",\"params\":{\"returnee_id\":\"%s\"}}\n", $1}' >"$2"
	[ "$(wc -l <"$2")" -ge 1000 ] || { echo "privacy.sh: too few returnees in $1" >&2; exit 1; }
}
bodies fund_base "$DIR/privacy-get-base.jsonl"
bodies fund "$DIR/privacy-get.jsonl"
for r in $(seq "$ROUNDS"); do
	load privacy-get-base "$BPORT" "$BTOKEN" 1 --bodies "$DIR/privacy-get-base.jsonl"
	load privacy-get "$NPORT" "$TOKEN" 1 --bodies "$DIR/privacy-get.jsonl"
	echo "privacy bench: get, round $r done" >&2
done
# what the encrypted database holds: no plaintext name of the run
if psql_owner -d fund -tA -c "SELECT count(*) FROM fl.returnee" >/dev/null &&
    "$ROOT/config/devenv.sh" pg-dump "$DIR" fund | grep -q "Bench Person 1"; then
	echo "privacy.sh: a name in plaintext in the encrypted database" >&2
	exit 1
fi
