#!/usr/bin/env bash
# deploy/local/postgres.sh — run Debian's PostgreSQL for tests and CI.
#
#   deploy/local/postgres.sh start    install/create/start; prints the SQLAlchemy URL
#   deploy/local/postgres.sh stop     stop the cluster (fast shutdown)
#   deploy/local/postgres.sh status   prints running/stopped; exit 0 only when running
#
# What start does (as root; every step is skipped when already done):
#   1. apt-get installs the `postgresql` package if no server is installed.
#   2. Picks the newest installed major version (or $PG_VERSION) and makes
#      sure the cluster "<version> main" exists, listening on $PGPORT (5432).
#   3. Starts it with pg_ctlcluster and waits for pg_isready.
#   4. Creates role perfledger (password perfledger, LOGIN CREATEDB) and
#      database perfledger owned by it, then checks a password login over TCP.
# Only the URL goes to stdout; progress goes to stderr, so
#   export PERFLEDGER_DATABASE_URL=$(deploy/local/postgres.sh start)
# works. The cluster's data lives in Debian's usual place
# (/var/lib/postgresql/<version>/main) and survives stop/start.
set -euo pipefail

PG_PORT="${PGPORT:-5432}"
PG_CLUSTER="main"
START_TIMEOUT="${PG_START_TIMEOUT:-60}"
DB_USER="perfledger"
DB_PASSWORD="perfledger"
DB_NAME="perfledger"

log() { echo "postgres.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    echo "usage: $0 start|stop|status" >&2
    exit 2
}

# ------------------------------------------------------------ installation --

installed_versions() {
    local bin
    for bin in /usr/lib/postgresql/*/bin/postgres; do
        [[ -x "$bin" ]] && basename "$(dirname "$(dirname "$bin")")"
    done | sort -V
}

ensure_installed() {
    if [[ -n "$(installed_versions)" ]] && command -v pg_ctlcluster >/dev/null; then
        return 0
    fi
    [[ $EUID -eq 0 ]] || die "PostgreSQL is not installed and we are not root"
    log "installing PostgreSQL with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    [[ -n "$(installed_versions)" ]] || die "apt-get installed no PostgreSQL server"
}

# Sets PG_VERSION: $PG_VERSION if given, else the newest installed major.
pick_version() {
    PG_VERSION="${PG_VERSION:-$(installed_versions | tail -n 1)}"
    [[ -x "/usr/lib/postgresql/$PG_VERSION/bin/postgres" ]] \
        || die "PostgreSQL $PG_VERSION is not installed"
}

# ---------------------------------------------------------------- cluster --

# cluster_field N — column N of `pg_lsclusters` for our cluster (3=port, 4=status).
cluster_field() {
    pg_lsclusters -h 2>/dev/null \
        | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" -v n="$1" '$1 == v && $2 == c { print $n }'
}

cluster_online() { [[ "$(cluster_field 4)" == online* ]]; }

ensure_cluster() {
    if [[ -z "$(cluster_field 2)" ]]; then
        log "creating cluster $PG_VERSION/$PG_CLUSTER on port $PG_PORT"
        pg_createcluster --port "$PG_PORT" "$PG_VERSION" "$PG_CLUSTER" >&2
        return 0
    fi
    local port
    port="$(cluster_field 3)"
    [[ "$port" == "$PG_PORT" ]] && return 0
    cluster_online && die "cluster $PG_VERSION/$PG_CLUSTER runs on port $port, not $PG_PORT; stop it first"
    log "moving cluster $PG_VERSION/$PG_CLUSTER from port $port to $PG_PORT"
    pg_conftool "$PG_VERSION" "$PG_CLUSTER" set port "$PG_PORT"
}

wait_ready() {
    local deadline=$((SECONDS + START_TIMEOUT))
    until pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2; do
        (( SECONDS < deadline )) || return 1
        sleep 0.5
    done
}

fail_start() {
    local logfile="/var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log"
    log "PostgreSQL not ready on 127.0.0.1:$PG_PORT after ${START_TIMEOUT}s; last lines of $logfile:"
    tail -n 40 "$logfile" >&2 2>/dev/null || true
    exit 1
}

# ------------------------------------------------------------ role and db --

# as_postgres CMD... — run a client as the postgres superuser (peer auth).
as_postgres() {
    if [[ $EUID -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && sudo -n -u postgres -- "$@")
    fi
}

psql_admin() {
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres "$@"
}

ensure_role_and_db() {
    psql_admin >&2 <<SQL
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
        CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
    ELSE
        ALTER ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
    END IF;
END
\$\$;
SQL
    if [[ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]]; then
        log "creating database $DB_NAME"
        psql_admin -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" >&2
    fi
}

# A password login over TCP, exactly as the application connects.
check_login() {
    PGPASSWORD="$DB_PASSWORD" PGCONNECT_TIMEOUT=5 psql -X -q -h 127.0.0.1 -p "$PG_PORT" \
        -U "$DB_USER" -d "$DB_NAME" -tAc 'SELECT 1' >/dev/null \
        || die "password login as $DB_USER on 127.0.0.1:$PG_PORT failed (check pg_hba.conf)"
}

# ---------------------------------------------------------------- commands --

cmd_start() {
    ensure_installed
    pick_version
    ensure_cluster
    if cluster_online; then
        log "cluster $PG_VERSION/$PG_CLUSTER already running on port $PG_PORT"
    else
        log "starting cluster $PG_VERSION/$PG_CLUSTER on port $PG_PORT"
        pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start >&2 || fail_start
    fi
    wait_ready || fail_start
    ensure_role_and_db
    check_login
    echo "postgresql+psycopg://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME"
}

cmd_stop() {
    if [[ -z "$(installed_versions)" ]]; then log "not installed"; return 0; fi
    pick_version
    if cluster_online; then
        pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" stop -m fast >&2
        log "stopped cluster $PG_VERSION/$PG_CLUSTER"
    else
        log "not running"
    fi
}

cmd_status() {
    if [[ -n "$(installed_versions)" ]] && pick_version && cluster_online; then
        echo "running ($PG_VERSION/$PG_CLUSTER, port $(cluster_field 3))"
    else
        echo "stopped"
        return 1
    fi
}

main() {
    [[ $# -eq 1 ]] || usage
    case "$1" in
        start) cmd_start ;;
        stop) cmd_stop ;;
        status) cmd_status ;;
        *) usage ;;
    esac
}

main "$@"
