#!/usr/bin/env bash
# run.sh: the benchmarks behind docs/benchmarks.md (make bench).
#
# Everything runs on this machine, loopback only, bounded in time. Each figure is measured
# beside a baseline in the same run (nginx, pgbench, psql COPY, sha256sum, or fundd with a
# setting changed); docs/benchmarks.md lists them and their targets.
# Results: var/bench/results.jsonl (this run only), the same lines tagged with the run, its
# commit and its date appended to var/bench/history.jsonl, and a Markdown summary on stdout.
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
HISTORY=$DIR/history.jsonl
FUNDD_PID=
# what the history's lines are tagged with: the code measured, and when
if RUN_COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); then
	git -C "$ROOT" diff --quiet HEAD -- || RUN_COMMIT=$RUN_COMMIT-dirty
else
	RUN_COMMIT=unknown
fi
RUN_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)

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
# A fresh cluster creates each WAL segment as it fills the last, and its commits wait while
# it does; one that has run for a while reuses old ones (docs/benchmarks.md, "The WAL pool").
"$ROOT/config/devenv.sh" wal-prealloc "$DIR"
# Bench settings: quieter logs, idle connections kept for the memory figure.
sed -i -e 's/^level = .*/level = warn/' "$DIR/fundd.conf"
grep -q '^io_timeout_s' "$DIR/fundd.conf" ||
    sed -i -e 's/^\[server\]$/[server]\nio_timeout_s = 120\nmax_connections = 2048/' \
    "$DIR/fundd.conf"
# the credentials cache on (one daemon: exact; docs/auth-cache.md); the nocache rows below
# turn it off again
grep -q '^auth_cache_ms' "$DIR/fundd.conf" ||
    sed -i -e 's/^\[server\]$/[server]\nauth_cache_ms = 5000/' "$DIR/fundd.conf"
TOKEN=$(cat "$DIR/admin.token")
: >"$RESULTS"

start_fundd "$DIR/fundd.conf"
sleep 1
idle_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$FUNDD_PID/status")
echo "{\"label\":\"fundd-idle\",\"rss_kb\":$idle_kb}" >>"$RESULTS"

"$ROOT/tests/bench/nginx.sh" "$DIR" "$NPORT" >/dev/null

WHOAMI='{"jsonrpc":"2.0","id":1,"method":"system.whoami"}'
# whoami LABEL CONNECTIONS [nginx]: one loadgen run of system.whoami into $RESULTS, against
# fundd with the admin token, or against nginx's static copy of the answer
whoami() {
	if [ "${3:-}" = nginx ]; then
		"$LOADGEN" --url "https://127.0.0.1:$NPORT/rpc" --connections "$2" \
		    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
		    --body-string "$WHOAMI" --label "$1" >>"$RESULTS"
	else
		"$LOADGEN" --url "https://127.0.0.1:$FPORT/rpc" --connections "$2" \
		    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
		    --header "Authorization: Bearer $TOKEN" --body-string "$WHOAMI" \
		    --label "$1" >>"$RESULTS"
	fi
}
for round in $(seq "$ROUNDS"); do
	for c in 1 8 32; do
		whoami fundd-whoami "$c"
		whoami nginx-static "$c" nginx
		echo "round $round, $c connections done" >&2
	done
done

# Cores: the same load on one worker thread, for the figure that says whether a second
# event loop pays on this machine (README: workers = 0 means one per core).
stop_fundd
sed -e 's/^\[server\]$/[server]\nworkers = 1/' "$DIR/fundd.conf" >"$DIR/fundd-1worker.conf"
start_fundd "$DIR/fundd-1worker.conf"
for round in $(seq "$ROUNDS"); do
	whoami fundd-whoami-1worker 32
done
stop_fundd
# The same without the credentials cache (docs/auth-cache.md): every whoami a database
# round trip, as every other call is; beside nginx again, on this minute of the machine.
sed -e 's/^auth_cache_ms = .*/auth_cache_ms = 0/' "$DIR/fundd.conf" >"$DIR/fundd-nocache.conf"
start_fundd "$DIR/fundd-nocache.conf"
for round in $(seq "$ROUNDS"); do
	whoami fundd-whoami-nocache 32
	whoami nginx-static-nocache-round 32 nginx
done
stop_fundd
start_fundd "$DIR/fundd.conf"
sleep 1

/usr/bin/python3 "$ROOT/tests/bench/idle_conns.py" --port "$FPORT" --cacert "$DIR/tls/ca.crt" \
    --pid "$FUNDD_PID" --connections 1000 >>"$RESULTS"

# --- the ledger: contribution.receive against pgbench INSERT + UPDATE ----------------------
export FUNDCTL_URL=https://127.0.0.1:$FPORT FUNDCTL_CACERT=$DIR/tls/ca.crt FUNDCTL_TOKEN=$TOKEN
RUN_ID=$(date +%s)
BFUND=BENCH-$RUN_ID
"$ROOT/bin/fundctl" call fund.create code="$BFUND" name="bench fund" currency=EUR \
    kind=pass_through dual_approval_above=0 >/dev/null
BPARTNER=$("$ROOT/bin/fundctl" call partner.create name="bench partner" country=AM \
    kind=organisation | sed -n 's/.*"partner_id":[[:space:]]*"\([^"]*\)".*/\1/p')
RECEIVE='{"jsonrpc":"2.0","id":1,"method":"contribution.receive","params":{"partner_id":"'$BPARTNER'","fund":"'$BFUND'","amount":"10.00","currency":"EUR","idempotency_key":"bench-'$RUN_ID'-{{seq}}"}}'
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
SOCK=$(sed -n 's/^dsn = host=\([^ ]*\) .*/\1/p' "$DIR/fundd.conf")
"$ROOT/config/devenv.sh" psql "$DIR" -q <<'SQL'
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE IF NOT EXISTS bench.event (id bigserial PRIMARY KEY, amount bigint NOT NULL,
    at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS bench.balance (id int PRIMARY KEY, total bigint NOT NULL);
INSERT INTO bench.balance VALUES (1, 0) ON CONFLICT DO NOTHING;
SQL
cat >"$DIR/pgbench-insert-update.sql" <<'SQL'
BEGIN;
INSERT INTO bench.event (amount) VALUES (1000);
UPDATE bench.balance SET total = total + 1000 WHERE id = 1;
END;
SQL
pgbench_as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u fundpg -- "$@"; else "$@"; fi
}
seq_start=1
for c in 1 8 32; do
	"$LOADGEN" --url "https://127.0.0.1:$FPORT/rpc" --connections "$c" \
	    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
	    --header "Authorization: Bearer $TOKEN" --body-template "$RECEIVE" \
	    --seq-start "$seq_start" --label fundd-receive >>"$RESULTS"
	seq_start=$((seq_start + 10000000))
	pgbench_as_pg "$PGBIN/pgbench" -n -h "$SOCK" -p 5433 -U fund_owner -M prepared \
	    -f "$DIR/pgbench-insert-update.sql" -c "$c" -j "$((c < 2 ? 1 : 2))" \
	    -T "$DURATION" fund 2>/dev/null |
	    awk -v c="$c" '/^tps/ {tps=$3} /latency average/ {lat=$4}
	        END {printf "{\"label\":\"pgbench-insert-update\",\"connections\":%d,\"requests\":0,\"errors\":0,\"non2xx\":0,\"rps\":%.1f,\"p50_ms\":%s,\"p99_ms\":null}\n", c, tps, lat}' \
	    >>"$RESULTS"
	echo "receive vs pgbench, $c connections done" >&2
done
# what the journal says after the load: every entry balanced, the fund's figures agree
"$ROOT/config/devenv.sh" psql "$DIR" -tA -c "SELECT fl.fund_balance_json(fl.fund_current(f)) =
    fl.fund_balance_from_journal(f.code) FROM fl.fund f WHERE code = '$BFUND'" |
    grep -qx t || { echo "run.sh: $BFUND: balances disagree with the journal" >&2; exit 1; }

# --- grant.approve on distinct grants of one fund (its row is the hot spot) --------------
GFUND=GRANTS-$RUN_ID
"$ROOT/bin/fundctl" call fund.create code="$GFUND" name="grants bench" currency=EUR \
    kind=pass_through dual_approval_above=1000000 >/dev/null
"$ROOT/bin/fundctl" call contribution.receive partner_id="$BPARTNER" fund="$GFUND" \
    amount=100000000.00 currency=EUR >/dev/null
GRETURNEE=$("$ROOT/bin/fundctl" call returnee.register full_name="Bench Returnee" \
    region=Gegharkunik returned_from=RU returned_on=2026-01-15 |
    sed -n 's/.*"returnee_id":[[:space:]]*"\([^"]*\)".*/\1/p')
# an approver is pending until a second admin confirms it (principal.confirm)
PENDING=$("$ROOT/bin/fundctl" call principal.create name="bench approver $RUN_ID" \
    roles:='["approver"]' | sed -n 's/.*"principal_id":[[:space:]]*"\([^"]*\)".*/\1/p')
ADMIN2=$("$ROOT/bin/fundd" -c "$DIR/fundd.conf" principal add \
    --name "bench second admin $RUN_ID" --roles admin | tail -n 1)
APPROVER=$(FUNDCTL_TOKEN=$ADMIN2 "$ROOT/bin/fundctl" call principal.confirm \
    principal_id="$PENDING" | sed -n 's/.*"token":[[:space:]]*"\([^"]*\)".*/\1/p')
[ -n "$APPROVER" ] || { echo "bench: no approver token" >&2; exit 1; }
for c in 8 32; do
	/usr/bin/python3 "$ROOT/tests/bench/make_grants.py" --port "$FPORT" \
	    --cacert "$DIR/tls/ca.crt" --token "$TOKEN" --fund "$GFUND" \
	    --returnee "$GRETURNEE" --count "${BENCH_GRANTS:-15000}" \
	    --out "$DIR/approve-$c.jsonl"
	"$LOADGEN" --url "https://127.0.0.1:$FPORT/rpc" --connections "$c" \
	    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
	    --header "Authorization: Bearer $APPROVER" --bodies "$DIR/approve-$c.jsonl" \
	    --label fundd-approve >>"$RESULTS"
	echo "grant.approve, $c connections done" >&2
done
# every approval counted must have committed exactly once: as many commitments in the
# journal as approved grants, and no bodies reused (else a run outgrew BENCH_GRANTS)
approved=$("$ROOT/config/devenv.sh" psql "$DIR" -tA -c "SELECT count(*) FROM
    fl.grant_application WHERE fund_code = '$GFUND' AND status = 'approved'")
commitments=$("$ROOT/config/devenv.sh" psql "$DIR" -tA -c "SELECT count(*) FROM
    fl.journal_entry WHERE fund_code = '$GFUND' AND kind = 'commitment'")
[ "$approved" = "$commitments" ] ||
    { echo "run.sh: $approved approved grants but $commitments commitments" >&2; exit 1; }
[ "$approved" -lt $((2 * ${BENCH_GRANTS:-15000})) ] ||
    { echo "run.sh: every grant got approved: raise BENCH_GRANTS" >&2; exit 1; }
"$ROOT/config/devenv.sh" psql "$DIR" -tA -c "SELECT fl.fund_balance_json(fl.fund_current(f))
    = fl.fund_balance_from_journal(f.code) FROM fl.fund f WHERE code = '$GFUND'" |
    grep -qx t || { echo "run.sh: $GFUND: balances disagree with the journal" >&2; exit 1; }

# --- contribution.status on one fund of 100,000 receipts and 100,000 payments -------------
# against fund.balance of the same fund, alternating: what a contribution paid for is kept as
# the journal grows (docs/ledger.md), so a status costs about what a balance does. The fund
# is loaded once, in SQL as the owner through the journal's own functions and triggers (the
# API path is measured above), and its allocation built by its first catch-up, timed.
FFUND=FIFO-100K
loaded=$("$ROOT/config/devenv.sh" psql "$DIR" -tA -c "SELECT (SELECT count(*) FROM fl.fund
    WHERE code = '$FFUND') || ' ' || (SELECT count(*) FROM fl.contribution
    WHERE fund_code = '$FFUND')")
[ "$loaded" != "1 0" ] || { echo "run.sh: $FFUND exists without its receipts (a load" \
    "that failed): remove $DIR and run again" >&2; exit 1; }
if [ "$loaded" = "0 0" ]; then
	"$ROOT/bin/fundctl" call fund.create code="$FFUND" name="allocation bench" currency=EUR \
	    kind=pass_through dual_approval_above=1000000 >/dev/null
	ADMIN_PID=$("$ROOT/bin/fundctl" call system.whoami |
	    sed -n 's/.*"principal_id":[[:space:]]*"\([^"]*\)".*/\1/p')
	APPROVER_PID=$("$ROOT/config/devenv.sh" psql "$DIR" -tA -c "SELECT principal_id FROM
	    fl.principal WHERE name = 'bench approver $RUN_ID'")
	"$ROOT/config/devenv.sh" psql "$DIR" -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
BEGIN;
-- 100000 receipts of 10.00, a second apart, and their entries
WITH c AS (
	INSERT INTO fl.contribution (partner_id, fund_code, status, amount, currency,
	    fund_amount, received_at, created_by)
	SELECT '$BPARTNER', '$FFUND', 'received', 1000, 'EUR', 1000,
	    '2026-01-01'::timestamptz + g * interval '1 second', '$ADMIN_PID'
	  FROM generate_series(1, 100000) g
	RETURNING seq, contribution_id)
SELECT fl.post_many('receipt', 'receipt ', array_agg('$FFUND'::text ORDER BY seq),
    array_agg(contribution_id ORDER BY seq), array_agg('$ADMIN_PID'::text ORDER BY seq), 'cash',
    'contributions', array_agg(1000::bigint ORDER BY seq))
  FROM c;
-- 100 grants of 1000 payments of 9.00 each, paid in full, and their commitments: each
-- grant submitted, approved (its decision and its commitment) and completed, as the
-- database's rules for grants require of any writer
CREATE TEMP TABLE g ON COMMIT DROP AS
SELECT i, fl.new_id('gr') AS grant_id FROM generate_series(1, 100) i;
INSERT INTO fl.grant_application (grant_id, returnee_id, fund_code, region, amount, category,
    purpose, approvals_needed, created_by)
SELECT grant_id, '$GRETURNEE', '$FFUND', 'AM-GR', 900000, 'small_business', 'bench', 1,
    '$ADMIN_PID'
  FROM g ORDER BY i;
INSERT INTO fl.grant_decision (grant_id, principal_id, decision)
SELECT grant_id, '$APPROVER_PID', 'approve' FROM g ORDER BY i;
SELECT fl.post_many('commitment', 'commitment for grant ', array_agg('$FFUND'::text ORDER BY i),
    array_agg(grant_id ORDER BY i), array_agg('$APPROVER_PID'::text ORDER BY i),
    'grants_committed', 'commitments', array_agg(900000::bigint ORDER BY i))
  FROM g;
UPDATE fl.grant_application a SET status = 'approved', committed = 900000, decided_at = now()
  FROM g WHERE a.grant_id = g.grant_id;
CREATE TEMP TABLE d ON COMMIT DROP AS
SELECT k, fl.new_id('di') AS disbursement_id, g.grant_id
  FROM generate_series(1, 100000) k JOIN g ON g.i = (k - 1) / 1000 + 1;
INSERT INTO fl.disbursement (disbursement_id, grant_id, amount, status, reference, bank_ref,
    paid_at, created_by, decided_by)
SELECT disbursement_id, grant_id, 900, 'paid', 'bench', 'PAY-' || k, now(), '$ADMIN_PID',
    '$APPROVER_PID'
  FROM d ORDER BY k;
WITH acc AS (
	SELECT max(account_id) FILTER (WHERE short = 'commitments') AS comm,
	    max(account_id) FILTER (WHERE short = 'cash') AS cash,
	    max(account_id) FILTER (WHERE short = 'grants_disbursed') AS disb,
	    max(account_id) FILTER (WHERE short = 'grants_committed') AS gcomm
	  FROM fl.account WHERE fund_code = '$FFUND'),
ent AS (
	INSERT INTO fl.journal_entry (kind, memo, fund_code, ref_id, principal_id)
	SELECT 'disbursement', 'disbursement ' || disbursement_id || ' for grant ' || grant_id,
	    '$FFUND', disbursement_id, '$APPROVER_PID'
	  FROM d ORDER BY k
	RETURNING entry_id)
INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency)
SELECT e.entry_id, s.seq, CASE s.seq WHEN 1 THEN acc.comm WHEN 2 THEN acc.cash
    WHEN 3 THEN acc.disb ELSE acc.gcomm END, s.sign * 900, 'EUR'
  FROM ent e CROSS JOIN acc
 CROSS JOIN (VALUES (1::smallint, 1), (2::smallint, -1), (3::smallint, 1), (4::smallint, -1))
       AS s(seq, sign);
UPDATE fl.grant_application a SET status = 'completed', committed = 0, disbursed = 900000
  FROM g WHERE a.grant_id = g.grant_id;
COMMIT;
SQL
	t0=$(date +%s.%N)
	"$ROOT/config/devenv.sh" psql "$DIR" -tA -c "SELECT fl.alloc_catch_up('$FFUND')" >/dev/null
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {
	    printf "{\"label\":\"fifo-build-100k\",\"seconds\":%.1f}\n", b - a }' >>"$RESULTS"
	# what autovacuum does to a fund's tables as they grow, done at once for one loaded in
	# a single transaction: rows marked visible and statistics gathered, so the status
	# calls below are measured on a fund in service, not on rows read for the first time
	"$ROOT/config/devenv.sh" psql "$DIR" -q -c "VACUUM (ANALYZE) fl.contribution,
	    fl.journal_entry, fl.posting, fl.grant_application, fl.grant_decision,
	    fl.disbursement, fl.alloc_contribution, fl.allocation, fl.alloc_queue" >/dev/null
fi
"$ROOT/config/devenv.sh" psql "$DIR" -tA -c "SELECT json_build_object('jsonrpc', '2.0', 'id', 1,
    'method', 'contribution.status', 'params', json_build_object('contribution_id',
    contribution_id)) FROM fl.contribution WHERE fund_code = '$FFUND' ORDER BY random()
    LIMIT 20000" >"$DIR/fifo-status.jsonl"
FBALANCE='{"jsonrpc":"2.0","id":1,"method":"fund.balance","params":{"code":"'$FFUND'"}}'
for round in $(seq "$ROUNDS"); do
	"$LOADGEN" --url "https://127.0.0.1:$FPORT/rpc" --connections 8 \
	    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
	    --header "Authorization: Bearer $TOKEN" --body-string "$FBALANCE" \
	    --label fundd-fifo-balance >>"$RESULTS"
	"$LOADGEN" --url "https://127.0.0.1:$FPORT/rpc" --connections 8 \
	    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
	    --header "Authorization: Bearer $TOKEN" --bodies "$DIR/fifo-status.jsonl" \
	    --label fundd-fifo-status >>"$RESULTS"
	echo "contribution.status vs fund.balance, round $round done" >&2
done
# the kept allocation is first in, first out: 100,000 payments of 9.00 spend the first
# 90,000 receipts of 10.00 exactly, none of the last 10,000, and nothing is unattributed
"$ROOT/config/devenv.sh" psql "$DIR" -tA -c "SELECT (SELECT sum(amount) FROM fl.allocation
    WHERE fund_code = '$FFUND' AND contribution_id IS NOT NULL) = 90000000 AND NOT EXISTS
    (SELECT 1 FROM fl.allocation WHERE fund_code = '$FFUND' AND contribution_id IS NULL) AND
    (SELECT array_agg(left_over ORDER BY received_at, contribution_id) FROM
    fl.alloc_contribution WHERE fund_code = '$FFUND') = array_fill(0::bigint, ARRAY[90000])
    || array_fill(1000::bigint, ARRAY[10000])" | grep -qx t ||
    { echo "run.sh: $FFUND: the kept allocation is not first in, first out" >&2; exit 1; }

# --- fund.balance as_of on a fund of 1,000,000 postings over three years ------------------
# against fund.balance of the same fund, alternating: as_of adds a row per day before its
# own and sums that day's entries (docs/ledger.md, Balances), so it costs about what the
# current figures do. 500,000 earnings entries of two postings, value dated evenly over
# 2023-2025 (about 456 a day), written as the owner through the journal's own functions and
# triggers (so the days are kept as the daemon's writes keep them), then folded.
AFUND=ASOF-1M
if [ "$("$ROOT/config/devenv.sh" psql "$DIR" -tA -c \
    "SELECT count(*) FROM fl.journal_entry WHERE fund_code = '$AFUND'")" != 500000 ]; then
	[ "$("$ROOT/config/devenv.sh" psql "$DIR" -tA -c \
	    "SELECT count(*) FROM fl.fund WHERE code = '$AFUND'")" = 0 ] ||
	    { echo "run.sh: $AFUND exists without its 500,000 entries (a load that failed):" \
	        "remove $DIR and run again" >&2; exit 1; }
	"$ROOT/bin/fundctl" call fund.create code="$AFUND" name="as_of bench" currency=EUR \
	    kind=pass_through dual_approval_above=0 >/dev/null
	"$ROOT/config/devenv.sh" psql "$DIR" -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
BEGIN;
SELECT fl.post_many('earnings', 'bench earnings ', array_agg('$AFUND'::text ORDER BY g),
    array_agg('asof-' || g ORDER BY g), array_agg(NULL::text ORDER BY g), 'cash', 'earnings',
    array_agg(1234::bigint ORDER BY g),
    array_agg('2023-01-01'::timestamptz + (g - 1) * (interval '1095 days' / 500000)
        ORDER BY g))
  FROM generate_series(1, 500000) g;
COMMIT;
SELECT fl.fund_fold('$AFUND');
VACUUM (ANALYZE) fl.journal_entry, fl.posting, fl.fund_day;
SQL
fi
# as of random instants of those three years, each checked against the whole journal's sums
"$ROOT/config/devenv.sh" psql "$DIR" -tA -c "SELECT json_build_object('jsonrpc', '2.0',
    'id', 1, 'method', 'fund.balance', 'params', json_build_object('code', '$AFUND',
    'as_of', to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')))
    FROM (SELECT '2023-01-01'::timestamptz + random() * interval '1095 days' AS t
            FROM generate_series(1, 5000)) x" >"$DIR/asof.jsonl"
head -n 20 "$DIR/asof.jsonl" | while read -r body; do
	t=$(printf '%s' "$body" | sed 's/.*"as_of" *: *"\([^"]*\)".*/\1/')
	got=$("$ROOT/bin/fundctl" call fund.balance code="$AFUND" as_of="$t" |
	    /usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')
	want=$("$ROOT/config/devenv.sh" psql "$DIR" -tA -c \
	    "SELECT fl.fund_balance_from_journal('$AFUND', '$t')" |
	    /usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')
	[ "$got" = "$want" ] || { echo "run.sh: fund.balance as_of $t differs from the" \
	    "journal: $got against $want" >&2; exit 1; }
done
ABALANCE='{"jsonrpc":"2.0","id":1,"method":"fund.balance","params":{"code":"'$AFUND'"}}'
for round in $(seq "$ROUNDS"); do
	"$LOADGEN" --url "https://127.0.0.1:$FPORT/rpc" --connections 8 \
	    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
	    --header "Authorization: Bearer $TOKEN" --body-string "$ABALANCE" \
	    --label fundd-asof-balance >>"$RESULTS"
	"$LOADGEN" --url "https://127.0.0.1:$FPORT/rpc" --connections 8 \
	    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
	    --header "Authorization: Bearer $TOKEN" --bodies "$DIR/asof.jsonl" \
	    --label fundd-asof >>"$RESULTS"
	echo "fund.balance as_of vs fund.balance, round $round done" >&2
done

# --- reports on 100,000 grants, and grant.queue with 10,000 waiting ----------------------
# 100,000 applications of 25,000 beneficiaries over the eleven regions, six categories and
# three years, a third of them rejected, loaded as the owner (the database's rules for new
# grants hold); each report (docs/reports.md) against the same aggregation written in SQL,
# run by pgbench on the same database, one client each. The database also holds the
# 1,000,000 postings of the funds above.
RFUND=REPORTS-100K
QFUND=QUEUE-10K
ADMIN_PID=$("$ROOT/bin/fundctl" call system.whoami |
    sed -n 's/.*"principal_id":[[:space:]]*"\([^"]*\)".*/\1/p')
if [ "$("$ROOT/config/devenv.sh" psql "$DIR" -tA -c \
    "SELECT count(*) FROM fl.grant_application WHERE fund_code = '$RFUND'")" != 100000 ]; then
	[ "$("$ROOT/config/devenv.sh" psql "$DIR" -tA -c \
	    "SELECT count(*) FROM fl.fund WHERE code IN ('$RFUND', '$QFUND')")" = 0 ] ||
	    { echo "run.sh: $RFUND exists without its 100,000 grants (a load that failed):" \
	        "remove $DIR and run again" >&2; exit 1; }
	for f in "$RFUND" "$QFUND"; do
		"$ROOT/bin/fundctl" call fund.create code="$f" name="report bench" currency=EUR \
		    kind=pass_through dual_approval_above=1000000 >/dev/null
	done
	"$ROOT/config/devenv.sh" psql "$DIR" -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
BEGIN;
CREATE TEMP TABLE r ON COMMIT DROP AS
SELECT i, fl.new_id('re') AS returnee_id,
    (SELECT array_agg(region_code ORDER BY region_code) FROM fl.region)[1 + i % 11] AS region,
    (ARRAY['female', 'male'])[1 + i % 2] AS gender, 1950 + i % 50 AS birth_year
  FROM generate_series(1, 25000) i;
-- the reports read no personal data: the returnees are written as erased ones, the
-- statistics of their grants (gender, age band) as grant.apply takes them
INSERT INTO fl.returnee (returnee_id, region, returned_from, returned_on, kind, created_by,
    erased_at)
SELECT returnee_id, region, 'RU', '2022-06-01',
    (ARRAY['returnee', 'displaced', 'refugee', 'asylum_seeker'])[1 + i % 4], '$ADMIN_PID',
    now()
  FROM r ORDER BY i;
INSERT INTO fl.grant_application (grant_id, returnee_id, fund_code, region, amount, category,
    purpose, approvals_needed, created_at, created_by, beneficiary_gender,
    beneficiary_age_band)
SELECT fl.new_id('gr'), x.returnee_id, '$RFUND', x.region, x.amount, x.category, 'bench', 1,
    x.created_at, '$ADMIN_PID', x.gender,
    CASE WHEN x.age < 18 THEN '0-17' WHEN x.age < 25 THEN '18-24' WHEN x.age < 35 THEN '25-34'
	WHEN x.age < 45 THEN '35-44' WHEN x.age < 55 THEN '45-54' WHEN x.age < 65 THEN '55-64'
	ELSE '65+' END
  FROM (SELECT g, r.returnee_id, r.region, r.gender, 10000 + g % 5000 * 100 AS amount,
	    (ARRAY['small_business', 'agriculture', 'requalification', 'employment',
	     'housing', 'other'])[1 + g % 6] AS category,
	    '2023-01-01'::timestamptz + (g - 1) * (interval '1095 days' / 100000) AS created_at,
	    extract(year FROM '2023-01-01'::timestamptz + (g - 1) *
		(interval '1095 days' / 100000))::int - r.birth_year AS age
	  FROM generate_series(1, 100000) g JOIN r ON r.i = 1 + (g - 1) % 25000) x
 ORDER BY x.g;
UPDATE fl.grant_application SET status = 'rejected', reason = 'bench',
    decided_at = created_at + interval '9 days'
 WHERE fund_code = '$RFUND' AND seq % 3 = 0;
INSERT INTO fl.grant_application (grant_id, returnee_id, fund_code, region, amount, category,
    purpose, approvals_needed, created_at, created_by)
SELECT fl.new_id('gr'), r.returnee_id, '$QFUND', r.region, 10000, 'other', 'bench queue', 1,
    '2025-01-01'::timestamptz + g * interval '1 minute', '$ADMIN_PID'
  FROM generate_series(1, 10000) g JOIN r ON r.i = g ORDER BY g;
COMMIT;
VACUUM (ANALYZE) fl.returnee, fl.grant_application;
SQL
fi
TODAY=$(date -u +%Y-%m-%d)
TOMORROW=$(date -u -d tomorrow +%Y-%m-%dT00:00:00Z)
# grants and the pipeline of the 100,000 applications of $RFUND, the contributions of the
# 100,000 receipts of $FFUND
REPORT_GRANTS='{"jsonrpc":"2.0","id":1,"method":"report.grants","params":{"from":"2000-01-01","to":"'$TODAY'","by":["region","category"],"fund":"'$RFUND'"}}'
REPORT_CONTRIB='{"jsonrpc":"2.0","id":1,"method":"report.contributions","params":{"from":"2000-01-01","to":"'$TODAY'","by":["partner_country","year"],"fund":"'$FFUND'"}}'
REPORT_PIPE='{"jsonrpc":"2.0","id":1,"method":"report.pipeline","params":{"from":"2000-01-01","to":"'$TODAY'","by":["region","category"],"fund":"'$RFUND'"}}'
# the same aggregations in SQL, without the daemon: each report's own statement, the text
# api.report_* runs (fl.report_*_query), with the request's values written in for its
# parameters and the report function's settings (jit, work_mem)
report_sql() {	# report_sql NAME QUERY FUND: $DIR/sql-report-NAME.sql
	{
		echo "SET jit = off;"
		echo "SET work_mem = '64MB';"
		"$ROOT/config/devenv.sh" psql "$DIR" -tA -c "SELECT $2" |
		    sed -e "s/\\\$1/'2000-01-01Z'::timestamptz/g" \
		        -e "s/\\\$2/'$TOMORROW'::timestamptz/g" -e "s/\\\$3/'$3'/g" \
		        -e "s/\\\$4/10001/g"
		echo ";"
	} >"$DIR/sql-report-$1.sql"
	grep -q '\$[0-9]' "$DIR/sql-report-$1.sql" &&
	    { echo "run.sh: a parameter left in sql-report-$1.sql" >&2; exit 1; }
	return 0
}
report_sql grants "fl.report_grants_query(ARRAY['region', 'category'], NULL)" "$RFUND"
report_sql contributions "fl.report_contributions_query(ARRAY['partner_country', 'year'])" \
    "$FFUND"
report_sql pipeline "fl.report_pipeline_query(ARRAY['region', 'category'])" "$RFUND"
# the approver's queue: 10,000 applications of QUEUE-10K wait for it, a page of 50, one
# client (what one approver's screen waits for)
QUEUE='{"jsonrpc":"2.0","id":1,"method":"grant.queue","params":{"fund":"'$QFUND'","limit":50}}'
for round in $(seq "$ROUNDS"); do
	for rep in grants contributions pipeline; do
		case $rep in
		grants)		body=$REPORT_GRANTS ;;
		contributions)	body=$REPORT_CONTRIB ;;
		pipeline)	body=$REPORT_PIPE ;;
		esac
		"$LOADGEN" --url "https://127.0.0.1:$FPORT/rpc" --connections 1 \
		    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
		    --header "Authorization: Bearer $TOKEN" --body-string "$body" \
		    --label "fundd-report-$rep" >>"$RESULTS"
		pgbench_as_pg "$PGBIN/pgbench" -n -h "$SOCK" -p 5433 -U fund_owner \
		    -f "$DIR/sql-report-$rep.sql" -c 1 -T "$DURATION" fund 2>/dev/null |
		    awk -v r="$rep" '/^tps/ {tps=$3} /latency average/ {lat=$4}
		        END {printf "{\"label\":\"sql-report-%s\",\"connections\":1,\"requests\":0,\"errors\":0,\"non2xx\":0,\"rps\":%.1f,\"p50_ms\":%s,\"p99_ms\":null}\n", r, tps, lat}' \
		    >>"$RESULTS"
	done
	"$LOADGEN" --url "https://127.0.0.1:$FPORT/rpc" --connections 1 \
	    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
	    --header "Authorization: Bearer $APPROVER" --body-string "$QUEUE" \
	    --label fundd-grant-queue >>"$RESULTS"
	echo "reports and grant.queue, round $round done" >&2
done
# the queue holds what it should: 10,000 waiting, the oldest first
FUNDCTL_TOKEN=$APPROVER "$ROOT/bin/fundctl" call grant.queue fund="$QFUND" limit:=1 |
    /usr/bin/python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["count"] != 10000)' ||
    { echo "run.sh: grant.queue of $QFUND does not count 10,000 waiting" >&2; exit 1; }

# --- the console's dashboard in headless Chromium, on the database above ------------------
# (100,000 grants and more than 100,000 receipts): from navigation to the first fund figures
# on screen, and the JavaScript and CSS transferred, each round with an empty cache; beside
# the same JSON-RPC calls sent directly (tests/bench/dashboard.py)
/usr/bin/python3 "$ROOT/tests/bench/dashboard.py" --base "https://127.0.0.1:$FPORT" \
    --cert "$DIR/tls/server.crt" --ca "$DIR/tls/ca.crt" --token "$TOKEN" --rounds 5 \
    >>"$RESULTS"
echo "console dashboard done" >&2

# --- the export: 1,000,000 postings against psql COPY of the same rows ---------------------
EFUND=EXPORT-1M
if [ "$("$ROOT/config/devenv.sh" psql "$DIR" -tA -c \
    "SELECT count(*) FROM fl.account WHERE fund_code = '$EFUND'")" = 0 ]; then
	"$ROOT/bin/fundctl" call fund.create code="$EFUND" name="export bench" currency=EUR \
	    kind=pass_through dual_approval_above=0 >/dev/null
	# 500,000 balanced entries of two postings, loaded in bulk as the owner with triggers
	# off (the bench's own data; the API path is measured above)
	"$ROOT/config/devenv.sh" psql "$DIR" -q <<SQL
SET session_replication_role = replica;
BEGIN;
WITH acc AS (SELECT max(account_id) FILTER (WHERE short = 'cash') AS cash,
                    max(account_id) FILTER (WHERE short = 'earnings') AS earn
               FROM fl.account WHERE fund_code = '$EFUND'),
     ent AS (INSERT INTO fl.journal_entry (kind, memo, fund_code, at, value_at)
             SELECT 'earnings', 'bench earnings ' || g, '$EFUND',
                    '2026-01-01'::timestamptz + g * interval '1 second',
                    '2026-01-01'::timestamptz + g * interval '1 second'
               FROM generate_series(1, 500000) g RETURNING entry_id)
INSERT INTO fl.posting (entry_id, seq, account_id, amount, currency)
SELECT e.entry_id, s.seq, CASE s.seq WHEN 1 THEN acc.cash ELSE acc.earn END,
       CASE s.seq WHEN 1 THEN 1234 ELSE -1234 END, 'EUR'
  FROM ent e CROSS JOIN acc CROSS JOIN (VALUES (1), (2)) s(seq);
UPDATE fl.fund SET earnings = earnings + 500000 * 1234 WHERE code = '$EFUND';
COMMIT;
SQL
fi
FROM_TO="from=2026-01-01&to=2026-01-07"
EXPORT_SQL="COPY (SELECT u.line FROM (SELECT 0 AS k, 0::bigint AS entry_id, 0::smallint AS seq, h.line FROM fl.ledger_export_header h UNION ALL SELECT 1, x.entry_id, x.seq, x.line FROM fl.ledger_export x WHERE x.value_ts >= '2026-01-01'::timestamptz AND x.value_ts < '2026-01-07'::timestamptz) u ORDER BY u.k, u.entry_id, u.seq) TO STDOUT"
stop_fundd
start_fundd "$DIR/fundd.conf"
for round in $(seq "$ROUNDS"); do
	t0=$(date +%s.%N)
	rows=$(pgbench_as_pg "$PGBIN/psql" -X -h "$SOCK" -p 5433 -U fund -d fund -c "$EXPORT_SQL" |
	    wc -l)
	t1=$(date +%s.%N)
	curl -sf --cacert "$DIR/tls/ca.crt" -H "Authorization: Bearer $TOKEN" \
	    "https://127.0.0.1:$FPORT/export/ledger?format=csv&$FROM_TO" -o "$DIR/export.csv"
	t2=$(date +%s.%N)
	frows=$(wc -l <"$DIR/export.csv")
	# a header and 1,000,000 postings, else the ratio measures nothing
	[ "$rows" = 1000001 ] && [ "$frows" = 1000001 ] ||
	    { echo "run.sh: the export range holds $((rows - 1)) postings by COPY and" \
	        "$((frows - 1)) by fundd, not 1,000,000: $EFUND in $DIR is not the bench's" \
	        "(config/devenv.sh destroy $DIR, then make bench)" >&2; exit 1; }
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$FUNDD_PID/status")
	awk -v r="$rows" -v f="$frows" -v a="$t0" -v b="$t1" -v c="$t2" -v h="$hwm" 'BEGIN {
	    printf "{\"label\":\"export-1M\",\"rows\":%d,\"psql_rows_per_s\":%.0f,\"fundd_rows\":%d,\"fundd_rows_per_s\":%.0f,\"ratio\":%.3f,\"fundd_peak_rss_kb\":%d}\n",
	    r - 1, (r - 1) / (b - a), f - 1, (f - 1) / (c - b), (b - a) / (c - b), h }' >>"$RESULTS"
	cmp -s "$DIR/export.csv" <(pgbench_as_pg "$PGBIN/psql" -X -h "$SOCK" -p 5433 -U fund \
	    -d fund -c "$EXPORT_SQL" | sed 's/$/\r/') ||
	    { echo "run.sh: the export differs from psql's COPY" >&2; exit 1; }
done

# The audit trail. 1. contribution.receive at 32 connections with the hash chain running
# against the same with chaining paused ([audit] chain_interval_ms = 0), alternating: the
# chain must not serialize writers.
sed -e 's/^\[audit\]$/[audit]\nchain_interval_ms = 0/' "$DIR/fundd.conf" >"$DIR/fundd-nochain.conf"
# And batched commits (docs/batching.md) against none: [database] batch_max = 1; one
# batch at a time per worker (writers = 1, the default) against every connection taking
# mutations (writers = 512); a batch as one statement, its receipts written as sets
# (batch_one_statement = 1, the default) against one statement per call.
sed -e 's/^\[database\]$/[database]\nbatch_max = 1/' "$DIR/fundd.conf" >"$DIR/fundd-nobatch.conf"
sed -e 's/^\[database\]$/[database]\nwriters = 512/' "$DIR/fundd.conf" >"$DIR/fundd-allwriters.conf"
sed -e 's/^\[database\]$/[database]\nbatch_one_statement = 0/' "$DIR/fundd.conf" \
    >"$DIR/fundd-each.conf"
for round in $(seq "$ROUNDS"); do
	for mode in audit-chain audit-paused unbatched allwriters each; do
		stop_fundd
		case $mode in
		audit-chain)	start_fundd "$DIR/fundd.conf" ;;
		audit-paused)	start_fundd "$DIR/fundd-nochain.conf" ;;
		unbatched)	start_fundd "$DIR/fundd-nobatch.conf" ;;
		allwriters)	start_fundd "$DIR/fundd-allwriters.conf" ;;
		each)		start_fundd "$DIR/fundd-each.conf" ;;
		esac
		"$LOADGEN" --url "https://127.0.0.1:$FPORT/rpc" --connections 32 \
		    --duration "$DURATION" --warmup "$WARMUP" --cacert "$DIR/tls/ca.crt" \
		    --header "Authorization: Bearer $TOKEN" --body-template "$RECEIVE" \
		    --seq-start "$seq_start" --label "fundd-receive-$mode" >>"$RESULTS"
		seq_start=$((seq_start + 10000000))
		echo "receive, $mode, round $round done" >&2
	done
done
stop_fundd
start_fundd "$DIR/fundd.conf"
sleep 1
unchained=$("$ROOT/config/devenv.sh" psql "$DIR" -tA -c "SELECT count(*) FROM fl.audit_event e
    WHERE NOT EXISTS (SELECT 1 FROM fl.audit_chain c WHERE c.seq = e.seq)")
[ "$unchained" -eq 0 ] || { echo "run.sh: $unchained audit events left unchained" >&2; exit 1; }

# 2. fundctl audit verify on an export of 1,000,000 events, against sha256sum of the same
# file. The events are made in SQL in a database of their own (through the daemon it would
# take minutes), chained by fl.audit_chain, signed by a daemon, exported through it.
ADB=fund_audit_bench
AEVENTS=${BENCH_AUDIT_EVENTS:-1000000}
"$ROOT/config/devenv.sh" psql "$DIR" -q -c "DROP DATABASE IF EXISTS $ADB" \
    -c "CREATE DATABASE $ADB OWNER fund_owner"
sed -e "s/dbname=fund /dbname=$ADB /" \
    -e 's/^\[audit\]$/[audit]\ncheckpoint_interval_s = 1/' "$DIR/fundd.conf" \
    >"$DIR/fundd-audit.conf"
"$ROOT/bin/fundd" -c "$DIR/fundd-audit.conf" migrate >/dev/null
ATOKEN=$("$ROOT/bin/fundd" -c "$DIR/fundd-audit.conf" principal add --name "bench auditor" \
    --roles auditor | tail -n 1)
"$ROOT/config/devenv.sh" psql "$DIR" -q -d "$ADB" <<SQL
INSERT INTO fl.audit_event (seq, at, principal_id, method, object_id, outcome, params_sha256)
SELECT nextval('fl.audit_seq'), '2026-01-01'::timestamptz + g * interval '1 ms',
       'pr_' || lpad(to_hex(g % 97), 20, '0'), 'contribution.receive',
       'co_' || lpad(to_hex(g), 20, '0'), 'ok', sha256(int8send(g))
  FROM generate_series(1, $AEVENTS) g;
SQL
t0=$(date +%s.%N)
while [ "$("$ROOT/config/devenv.sh" psql "$DIR" -d "$ADB" -tA -c \
    "SELECT fl.audit_chain(200000)")" != 0 ]; do :; done
t1=$(date +%s.%N)
stop_fundd
start_fundd "$DIR/fundd-audit.conf"
for _ in $(seq 100); do
	FUNDCTL_TOKEN=$ATOKEN "$ROOT/bin/fundctl" call audit.checkpoint >/dev/null 2>&1 && break
	sleep 0.1
done
FUNDCTL_TOKEN=$ATOKEN "$ROOT/bin/fundctl" export audit >"$DIR/audit-1M.jsonl"
stop_fundd
for round in $(seq "$ROUNDS"); do
	t2=$(date +%s.%N)
	sha256sum "$DIR/audit-1M.jsonl" >/dev/null
	t3=$(date +%s.%N)
	"$ROOT/bin/fundctl" audit verify "$DIR/audit-1M.jsonl" \
	    --pubkey "$DIR/tls/audit-ed25519.pub" >"$DIR/audit-verify.out"
	t4=$(date +%s.%N)
	bytes=$(stat -c %s "$DIR/audit-1M.jsonl")
	lines=$(wc -l <"$DIR/audit-1M.jsonl")
	awk -v n="$lines" -v by="$bytes" -v a="$t2" -v b="$t3" -v c="$t4" -v c0="$t0" -v c1="$t1" \
	    -v ev="$AEVENTS" 'BEGIN {
	    printf "{\"label\":\"audit-verify-1M\",\"events\":%d,\"lines\":%d,\"mb\":%.1f,\"sha256sum_mb_s\":%.1f,\"verify_mb_s\":%.1f,\"ratio\":%.3f,\"chain_events_per_s\":%.0f}\n",
	    ev, n, by / 1e6, by / 1e6 / (b - a), by / 1e6 / (c - b), (b - a) / (c - b),
	    ev / (c1 - c0) }' >>"$RESULTS"
done
grep -q '^ok' "$DIR/audit-verify.out" ||
    { echo "run.sh: the audit export did not verify" >&2; exit 1; }
"$ROOT/config/devenv.sh" psql "$DIR" -q -c "DROP DATABASE $ADB"
rm -f "$DIR/audit-1M.jsonl"

# --- returnees' personal data encrypted, against the tree before encryption --------------
"$ROOT/tests/bench/privacy.sh"

echo
echo "## system.whoami through fundd vs nginx static HTTPS (median of $ROUNDS rounds)"
echo
grep '"rps"' "$RESULTS" | /usr/bin/python3 "$ROOT/tests/bench/report.py" \
    --ratio fundd-whoami nginx-static 1 --ratio fundd-whoami nginx-static 8 \
    --ratio fundd-whoami nginx-static 32 --ratio fundd-whoami fundd-whoami-1worker 32 \
    --ratio fundd-whoami-nocache nginx-static-nocache-round 32 \
    --ratio fundd-receive pgbench-insert-update 1 \
    --ratio fundd-receive pgbench-insert-update 8 \
    --ratio fundd-receive pgbench-insert-update 32 \
    --ratio fundd-approve fundd-receive 8 --ratio fundd-approve fundd-receive 32 \
    --ratio fundd-fifo-status fundd-fifo-balance 8 \
    --ratio fundd-receive-audit-chain fundd-receive-audit-paused 32 \
    --ratio fundd-receive-audit-chain fundd-receive-unbatched 32 \
    --ratio fundd-receive-audit-chain fundd-receive-allwriters 32 \
    --ratio fundd-receive-audit-chain fundd-receive-each 32 \
    --ratio privacy-register privacy-register-base 8 \
    --ratio privacy-get privacy-get-base 8
echo
echo "## memory"
echo
grep -v '"rps"' "$RESULTS"
echo
echo "## Summary: every figure beside its baseline from this run ($(nproc) cores, $(uname -sr))"
echo
/usr/bin/python3 "$ROOT/tests/bench/summary.py" "$RESULTS"

# The run is complete: its lines join the history, each tagged with the run.
/usr/bin/python3 - "$RESULTS" "$HISTORY" "$RUN_ID" "$RUN_COMMIT" "$RUN_DATE" \
    "$(nproc) cores, $(uname -sr)" <<'PY'
import json, sys
results, history, run, commit, date, machine = sys.argv[1:]
with open(results) as src, open(history, "a") as dst:
    for line in src:
        if line.strip():
            tag = {"run": run, "commit": commit, "date": date, "machine": machine}
            dst.write(json.dumps({**tag, **json.loads(line)}) + "\n")
PY
echo
echo "(this run's lines are appended to $HISTORY as run $RUN_ID)"
