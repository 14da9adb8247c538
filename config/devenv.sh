#!/usr/bin/env bash
# devenv.sh: the local development and test environment of fundd.
#
#   devenv.sh deps               install missing Debian packages (root), or print the command
#   devenv.sh up DIR [PORT]      PostgreSQL cluster, TLS material, config, migrations and an
#                                admin token under DIR; reuses whatever already exists there
#   devenv.sh pg-start DIR       start the cluster under DIR (after pg-stop)
#   devenv.sh pg-stop DIR        stop it (fast shutdown)
#   devenv.sh pg-crash DIR       stop it as a crash would (immediate: recovery at next start)
#   devenv.sh down DIR           stop the cluster; DIR stays
#   devenv.sh destroy DIR        stop the cluster and remove DIR (and the cluster, wherever)
#   devenv.sh psql DIR [ARGS]    psql into the fund database as the schema owner
#   devenv.sh pg-dump DIR [ARGS] pg_dump as the schema owner (name a database in ARGS)
#   devenv.sh tls DIR            the TLS material and keys of `up` alone, in DIR/tls (no
#                                cluster: tests/ha/failover.py brings its own)
#   devenv.sh schema DIR [DB]    the schema of database DB (default fund), as pg_dump writes
#                                it, less the lines that change from one dump or server
#                                version to the next (make schema writes docs/schema.sql)
#   devenv.sh wal-prealloc DIR   fill the cluster's WAL pool now (make bench)
#   devenv.sh replica-up DIR     a streaming physical standby of DIR's cluster in DIR/pg-replica
#                                (pg_basebackup -R), started; prints its socket directory
#   devenv.sh replica-start DIR  start the standby (after replica-stop)
#   devenv.sh replica-stop DIR   stop it (fast shutdown)
#   devenv.sh replica-down DIR   stop the standby and remove it
#   devenv.sh replica-psql DIR [ARGS]  psql into the standby's fund database (schema owner)
#
# With FUND_UPGRADE_FROM=RELEASE.tar.gz, `up` first migrates a database that has no schema
# yet with that release's migrations, keeps books in it through the release's functions
# (RELEASE's folder/upgrade_data.sql), and only then migrates it to this tree: the
# integration suite runs on a database upgraded from a release. It leaves the data before
# and after the upgrade in DIR/upgrade-data-{before,after}.sql, and the schema after it in
# DIR/upgrade-schema.sql.
#
# initdb and postgres refuse root: as root they run as the system user "fundpg" (created on
# first use); otherwise as the calling user. The cluster listens on a Unix socket only
# (no TCP), so it never collides with another PostgreSQL on this machine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGPORT_LOCAL=5433
PG_OS_USER=fundpg
PACKAGES="build-essential pkg-config openssl curl libevent-dev libpq-dev libssl-dev libcjson-dev
libcmocka-dev libxlsxwriter-dev libicu-dev postgresql postgresql-contrib python3 python3-pytest python3-yaml nginx-light
clang libclang-rt-14-dev testssl.sh chromium chromium-driver python3-selenium fonts-dejavu-core
libnss3-tools libsystemd-dev systemd debhelper groff-base
patroni etcd-server etcd-client python3-psycopg2"

die() { echo "devenv: $*" >&2; exit 2; }
say() { echo "devenv: $*" >&2; }

is_root() { [ "$(id -u)" -eq 0 ]; }

pgbin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] || die "PostgreSQL server binaries not found: run 'make deps'"
	echo "$d"
}

# Run a command as the PostgreSQL OS user.
as_pg() {
	if is_root; then
		runuser -u "$PG_OS_USER" -- "$@"
	else
		"$@"
	fi
}

# The browser tests' npm packages (tests/browser/package-lock.json: axe-core), installed
# when node_modules does not hold the locked versions. They are injected into the
# console's pages by the tests, never served by fundd.
npm_deps() {
	local dir=$ROOT/tests/browser
	if cmp -s "$dir/package-lock.json" "$dir/node_modules/.fundd-lock" 2>/dev/null; then
		return 0
	fi
	say "installing the browser tests' npm packages (tests/browser)"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	cp "$dir/package-lock.json" "$dir/node_modules/.fundd-lock"
}

cmd_deps() {
	local missing="" p
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		    missing="$missing $p"
	done
	# Node.js and npm from Debian, unless the machine has them already
	command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
	if [ -z "$missing" ]; then
		npm_deps
		return 0
	fi
	if is_root; then
		say "installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing >/dev/null
		npm_deps
	else
		echo "Missing Debian packages. Run:" >&2
		echo "  sudo apt-get install -y$missing" >&2
		exit 2
	fi
}

ensure_pg_user() {
	if is_root && ! id "$PG_OS_USER" >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin "$PG_OS_USER"
	fi
}

# Paths under DIR. Two fallbacks, both named after DIR so every command finds them again:
# when the PostgreSQL user cannot reach DIR (a checkout under a mode-700 home, as root),
# the cluster lives in /var/tmp/fundpg-HASH; and the socket directory must fit in sun_path
# (108 bytes), so a deep one moves to /tmp/fundpg-HASH.
setpaths() {
	local hash
	DIR=$(realpath -m "$1")
	hash=$(echo -n "$DIR" | sha256sum | cut -c1-12)
	mkdir -p "$DIR"
	PGDIR=$DIR/pg
	if is_root; then
		ensure_pg_user
		if ! runuser -u "$PG_OS_USER" -- test -x "$DIR"; then
			PGDIR=/var/tmp/fundpg-$hash
			mkdir -p "$PGDIR"
			ln -sfn "$PGDIR" "$DIR/pg"
		fi
	fi
	PGDATA=$PGDIR/data
	SOCK=$PGDIR/run
	if [ ${#SOCK} -gt 80 ]; then
		SOCK=/tmp/fundpg-$hash
	fi
	TLS=$DIR/tls
	CONF=$DIR/fundd.conf
	# the standby (replica-up): beside the cluster, with a socket directory of its own and
	# the same port number
	RPGDIR=$PGDIR-replica
	RPGDATA=$RPGDIR/data
	RSOCK=$RPGDIR/run
	if [ ${#RSOCK} -gt 80 ]; then
		RSOCK=/tmp/fundpg-$hash-replica
	fi
}

# cluster_running DATA, cluster_start DATA DIR SOCK WHAT, cluster_stop DATA [MODE]: a
# cluster (the primary, or the standby of replica-up) as the PostgreSQL OS user.
cluster_running() {
	[ -f "$1/postmaster.pid" ] && as_pg "$(pgbin)/pg_ctl" -D "$1" status >/dev/null 2>&1
}

cluster_start() {
	cluster_running "$1" && return 0
	mkdir -p "$3"
	is_root && chown "$PG_OS_USER" "$3"
	chmod 700 "$3"
	as_pg "$(pgbin)/pg_ctl" -D "$1" -l "$2/postgres.log" -w -t 60 -o "-k $3" start \
	    >/dev/null || {
		tail -n 20 "$2/postgres.log" >&2
		die "$4 did not start (log: $2/postgres.log)"
	}
}

cluster_stop() {
	cluster_running "$1" || return 0
	as_pg "$(pgbin)/pg_ctl" -D "$1" -m "${2:-fast}" -w -t 60 stop >/dev/null
}

pg_running() { cluster_running "$PGDATA"; }
pg_start() { cluster_start "$PGDATA" "$PGDIR" "$SOCK" PostgreSQL; }
pg_stop() { cluster_stop "$PGDATA" "${1:-fast}"; }

owner_psql() {
	as_pg "$(pgbin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PGPORT_LOCAL" \
	    -U fund_owner "$@"
}

owner_pg_dump() {
	as_pg "$(pgbin)/pg_dump" -h "$SOCK" -p "$PGPORT_LOCAL" -U fund_owner "$@"
}

# The schema of database $1, without the lines that differ between two dumps of the same
# schema (\restrict's random key) or between server versions of one major release.
schema_dump() {
	echo "-- The schema a database gets from migrations/, written by 'make schema' for review;"
	echo "-- generated, not read by anything: the definitions live in migrations/."
	owner_pg_dump --schema-only "$1" |
	    grep -v -e '^\\restrict ' -e '^\\unrestrict ' -e '^-- Dumped from database version' \
	    -e '^-- Dumped by pg_dump version'
}

# The data of database $1 (schema fund_meta aside: the runner's own records; and fl.method,
# which the runner writes from fundd's method table).
data_dump() {
	owner_pg_dump --data-only --exclude-schema=fund_meta --exclude-table-data=fl.method \
	    "$1" 2>/dev/null |
	    grep -v -e '^\\restrict ' -e '^\\unrestrict ' -e '^-- Dumped from database version' \
	    -e '^-- Dumped by pg_dump version'
}

has_schema() {
	[ "$(owner_psql -d fund -At -c "SELECT to_regclass('fund_meta.migration') IS NOT NULL")" = t ]
}

# FUND_UPGRADE_FROM: migrate the empty fund database with a release's migrations and keep
# books in it, before `up` migrates it to this tree.
upgrade_from() {
	local tarball=$1 rel name
	[ -f "$tarball" ] || die "FUND_UPGRADE_FROM: no file $tarball"
	rel=$DIR/release
	rm -rf "$rel"
	mkdir -p "$rel"
	tar -xzf "$tarball" -C "$rel"
	name=$(ls "$rel")
	sed -e "s|^\[database\]\$|[database]\nmigrations = $rel/$name|" "$CONF" >"$DIR/fundd-release.conf"
	say "migrating with the release in $(basename "$tarball"), then keeping books in it"
	"$ROOT/bin/fundd" -c "$DIR/fundd-release.conf" migrate >/dev/null
	owner_psql -d fund <"$(dirname "$tarball")/upgrade_data.sql" >/dev/null
	data_dump fund >"$DIR/upgrade-data-before.sql"
}

# The WAL pool, in every cluster, also one made before these lines (initdb writes its own
# min_wal_size and max_wal_size; the last line wins). min_wal_size keeps a gigabyte of used
# WAL segments for reuse at each checkpoint: without a recycled segment, the backend that
# fills the current one creates the next and writes 16 MB of zeros while every commit waits
# (docs/benchmarks.md). max_wal_size spaces the checkpoints, and with them the full-page
# images after each. Both take effect on a reload.
wal_settings() {
	grep -q '^# the WAL pool' "$PGDATA/postgresql.conf" && return 0
	cat >>"$PGDATA/postgresql.conf" <<EOF
# the WAL pool (devenv.sh, wal_settings)
min_wal_size = 1GB
max_wal_size = 2GB
EOF
	if pg_running; then
		as_pg "$(pgbin)/pg_ctl" -D "$PGDATA" reload >/dev/null
		for _ in $(seq 50); do
			[ "$(owner_psql -d postgres -tA -c 'SHOW min_wal_size')" = 1GB ] && break
			sleep 0.1
		done
	fi
}

# wal_pool prints how many WAL segments wait ahead of the current one, and how many
# min_wal_size holds. wal_prealloc fills the pool now, as a cluster that has run for a while
# has it: it switches through as many segments as min_wal_size holds, then checkpoints,
# which keeps them for reuse; nothing to do when three quarters of them are there already.
wal_pool() {
	owner_psql -d postgres -tA -F ' ' -c "SELECT
	    (SELECT count(*) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'
	      AND name > pg_walfile_name(pg_current_wal_lsn())),
	    (SELECT setting::bigint FROM pg_settings WHERE name = 'min_wal_size') * 1048576 /
	    (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size')"
}

wal_prealloc() {
	local ahead want
	read -r ahead want < <(wal_pool)
	[ "$ahead" -ge $((want * 3 / 4)) ] && return 0
	say "filling the WAL pool ($ahead of $want segments ahead)"
	owner_psql -d postgres -tA -c "DO \$\$ BEGIN FOR i IN 1..$want LOOP
	    PERFORM pg_logical_emit_message(false, 'devenv', i::text);
	    PERFORM pg_switch_wal(); END LOOP; END \$\$" -c "CHECKPOINT" >/dev/null
	read -r ahead want < <(wal_pool)
	[ "$ahead" -ge $((want * 3 / 4)) ] ||
	    die "the WAL pool did not fill: $ahead of $want segments ahead"
}

init_cluster() {
	mkdir -p "$PGDIR"
	is_root && chown "$PG_OS_USER" "$PGDIR"
	if [ ! -f "$PGDATA/PG_VERSION" ]; then
		say "initdb $PGDATA"
		as_pg "$(pgbin)/initdb" -D "$PGDATA" -U fund_owner --auth=trust -E UTF8 \
		    --locale=C >/dev/null
		cat >>"$PGDATA/postgresql.conf" <<EOF
# fundd development cluster (devenv.sh)
listen_addresses = ''
port = $PGPORT_LOCAL
unix_socket_permissions = 0700
max_connections = 200
shared_buffers = 256MB
logging_collector = off
log_min_messages = warning
EOF
	fi
	wal_settings
	pg_start
	# Roles: fund_owner owns the schema and runs migrations; fund is the daemon's login and
	# gets only what the migrations grant to the group role fundd_app.
	owner_psql -d postgres <<'EOF'
SELECT 'CREATE ROLE fundd_app NOLOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fundd_app') \gexec
SELECT 'CREATE ROLE fund LOGIN IN ROLE fundd_app'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fund') \gexec
SELECT 'CREATE DATABASE fund OWNER fund_owner'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'fund') \gexec
EOF
}

make_tls() {
	mkdir -p "$TLS"
	chmod 700 "$TLS"
	(
		cd "$TLS"
		umask 077
		if [ ! -f ca.crt ]; then
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			    -keyout ca.key -out ca.crt -days 3650 -subj "/CN=Fund Ledger dev CA" \
			    -addext basicConstraints=critical,CA:TRUE \
			    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
		fi
		if [ ! -f server.crt ]; then
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			    -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
			openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			    -out server.crt -days 825 -extfile <(printf '%s\n' \
			    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
			    "extendedKeyUsage=serverAuth") 2>/dev/null
			rm -f server.csr
		fi
		if [ ! -f client.crt ]; then
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			    -keyout client.key -out client.csr -subj "/CN=dev-client" 2>/dev/null
			openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			    -out client.crt -days 825 -extfile <(printf '%s\n' \
			    "extendedKeyUsage=clientAuth") 2>/dev/null
			rm -f client.csr
		fi
		if [ ! -f audit-ed25519.pem ]; then
			openssl genpkey -algorithm ed25519 -out audit-ed25519.pem
			openssl pkey -in audit-ed25519.pem -pubout -out audit-ed25519.pub
		fi
		chmod 644 ca.crt server.crt client.crt audit-ed25519.pub
		# the key-encryption key of returnees' personal data (docs/privacy.md)
		[ -f privacy.key ] || "$ROOT/bin/fundd" privacy new-key privacy.key >/dev/null
	)
}

write_conf() {
	local port=$1
	cat >"$CONF" <<EOF
; generated by config/devenv.sh: a development configuration, see config/fundd.conf.example
[server]
listen = 127.0.0.1:$port
tls_cert = $TLS/server.crt
tls_key = $TLS/server.key
client_ca = $TLS/ca.crt

[database]
dsn = host=$SOCK port=$PGPORT_LOCAL dbname=fund user=fund
migrate_dsn = host=$SOCK port=$PGPORT_LOCAL dbname=fund user=fund_owner
pool_size = 8
; tests hold table locks for seconds to keep calls in flight (test_failures.py checks
; the timeouts themselves)
statement_timeout_ms = 60000
lock_timeout_ms = 30000

[audit]
signing_key = $TLS/audit-ed25519.pem

[privacy]
key_file = $TLS/privacy.key

[log]
level = info
format = text
EOF
}

replica_running() { cluster_running "$RPGDATA"; }

replica_start() {
	[ -f "$RPGDATA/PG_VERSION" ] || die "no standby in $RPGDIR: run 'devenv.sh replica-up'"
	cluster_start "$RPGDATA" "$RPGDIR" "$RSOCK" "the standby"
}

replica_stop() { cluster_stop "$RPGDATA"; }

replica_psql() {
	as_pg "$(pgbin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$RSOCK" -p "$PGPORT_LOCAL" \
	    -U fund_owner "$@"
}

# A physical standby of the cluster, streaming from it over its Unix socket: initdb's
# pg_hba.conf trusts local replication connections, and the schema owner (the cluster's
# superuser) may replicate; wal_level and max_wal_senders are PostgreSQL's defaults, written
# down all the same. pg_basebackup -R writes primary_conninfo and standby.signal. The
# standby keeps the cluster's postgresql.conf (the port, no TCP) and listens on a socket
# directory of its own, which it prints.
cmd_replica_up() {
	setpaths "$1"
	[ -f "$PGDATA/PG_VERSION" ] || die "no cluster in $PGDIR: run 'devenv.sh up' first"
	if ! grep -q '^# streaming replication (devenv.sh' "$PGDATA/postgresql.conf"; then
		cat >>"$PGDATA/postgresql.conf" <<EOF
# streaming replication (devenv.sh replica-up)
wal_level = replica
max_wal_senders = 10
EOF
		if pg_running &&
		    [ "$(owner_psql -d postgres -tA -c 'SHOW wal_level')" != replica ]; then
			pg_stop fast
		fi
	fi
	pg_start
	if [ ! -f "$RPGDATA/PG_VERSION" ]; then
		mkdir -p "$RPGDIR"
		is_root && chown "$PG_OS_USER" "$RPGDIR"
		[ "$PGDIR" = "$DIR/pg" ] || ln -sfn "$RPGDIR" "$DIR/pg-replica"
		say "pg_basebackup into $RPGDATA"
		as_pg "$(pgbin)/pg_basebackup" -h "$SOCK" -p "$PGPORT_LOCAL" -U fund_owner \
		    -D "$RPGDATA" -R -X stream -c fast >/dev/null
	fi
	replica_start
	for _ in $(seq 100); do
		[ "$(replica_psql -d fund -tA -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = t ] &&
		    break
		sleep 0.1
	done
	[ "$(replica_psql -d fund -tA -c 'SELECT pg_is_in_recovery()')" = t ] ||
	    die "the standby does not answer as one (log: $RPGDIR/postgres.log)"
	echo "$RSOCK"
}

replica_down() {
	replica_stop
	rm -rf "$RPGDIR"
	if [ -L "$DIR/pg-replica" ]; then
		rm -f "$DIR/pg-replica"
	fi
	[ "$RSOCK" = "$RPGDIR/run" ] || rm -rf "$RSOCK"
}

cmd_up() {
	local port=${2:-8443}
	setpaths "$1"
	[ -x "$ROOT/bin/fundd" ] || die "bin/fundd is not built: run 'make'"
	mkdir -p "$DIR"
	init_cluster
	make_tls
	write_conf "$port"
	if [ -n "${FUND_UPGRADE_FROM:-}" ] && ! has_schema; then
		upgrade_from "$FUND_UPGRADE_FROM"
		"$ROOT/bin/fundd" -c "$CONF" migrate
		data_dump fund >"$DIR/upgrade-data-after.sql"
		schema_dump fund >"$DIR/upgrade-schema.sql"
	else
		"$ROOT/bin/fundd" -c "$CONF" migrate
	fi
	if [ ! -s "$DIR/admin.token" ]; then
		(umask 077; "$ROOT/bin/fundd" -c "$CONF" principal add --name admin \
		    --roles admin | tail -n 1 >"$DIR/admin.token.new")
		mv "$DIR/admin.token.new" "$DIR/admin.token"
		say "created the admin principal; its token is in $DIR/admin.token"
	fi
}

# TLS material and keys only, for an environment whose database is not devenv's own.
cmd_tls() {
	DIR=$(realpath -m "$1")
	TLS=$DIR/tls
	[ -x "$ROOT/bin/fundd" ] || die "bin/fundd is not built: run 'make'"
	mkdir -p "$DIR"
	make_tls
}

[ $# -ge 1 ] || die "usage: devenv.sh deps|up|tls|pg-start|pg-stop|pg-crash|down|destroy|psql|pg-dump|schema|wal-prealloc|replica-up|replica-start|replica-stop|replica-down|replica-psql DIR"
cmd=$1
shift
case "$cmd" in
deps)		cmd_deps ;;
up)		[ $# -ge 1 ] || die "usage: devenv.sh up DIR [PORT]"; cmd_up "$@" ;;
pg-start)	setpaths "$1"; pg_start ;;
pg-stop)	setpaths "$1"; pg_stop fast ;;
pg-crash)	setpaths "$1"; pg_stop immediate ;;
down)		setpaths "$1"; replica_stop; pg_stop ;;
destroy)	[ -e "$1" ] || exit 0
		setpaths "$1"
		replica_down
		pg_stop
		rm -rf "$DIR" "$PGDIR"
		[ "$SOCK" = "$PGDIR/run" ] || rm -rf "$SOCK" ;;
psql)		setpaths "$1"; shift; owner_psql -d fund "$@" ;;
pg-dump)	setpaths "$1"; shift; owner_pg_dump "$@" ;;
tls)		[ $# -ge 1 ] || die "usage: devenv.sh tls DIR"; cmd_tls "$1" ;;
schema)		setpaths "$1"; schema_dump "${2:-fund}" ;;
wal-prealloc)	setpaths "$1"; wal_settings; pg_start; wal_prealloc ;;
replica-up)	[ $# -ge 1 ] || die "usage: devenv.sh replica-up DIR"; cmd_replica_up "$1" ;;
replica-start)	setpaths "$1"; replica_start ;;
replica-stop)	setpaths "$1"; replica_stop ;;
replica-down)	setpaths "$1"; replica_down ;;
replica-psql)	setpaths "$1"; shift; replica_psql -d fund "$@" ;;
*)		die "unknown command '$cmd'" ;;
esac
