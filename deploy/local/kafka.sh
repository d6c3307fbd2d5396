#!/usr/bin/env bash
# deploy/local/kafka.sh — run a single-node Apache Kafka (KRaft) broker for
# tests and CI, without Docker and without a Kafka tarball.
#
#   deploy/local/kafka.sh start   [PORT]   start (or find running) broker; prints 127.0.0.1:PORT
#   deploy/local/kafka.sh stop    [PORT]   SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT
#   deploy/local/kafka.sh status  [PORT]   prints running/stopped; exit 0 only when running
#   deploy/local/kafka.sh restart [PORT]   stop + start, keeping the data
#
# PORT defaults to $KAFKA_PORT, else 9092. The controller listens on
# $KAFKA_CONTROLLER_PORT, else PORT+1000. Other settings (env): KAFKA_VERSION,
# PERFLEDGER_CACHE, PERFLEDGER_STATE, KAFKA_START_TIMEOUT, KAFKA_STOP_TIMEOUT,
# KAFKA_HEAP_OPTS, KAFKA_JVM_OPTS, KAFKA_EXTRA_CONFIG (lines appended to
# server.properties) — see deploy/local/README.md.
#
# What start does:
#   1. Fetches org.apache.kafka:kafka_2.13:$KAFKA_VERSION and all its runtime
#      dependencies (plus slf4j 2 + log4j2) with Maven, using
#      deploy/local/kafka/pom.xml, into $PERFLEDGER_CACHE/kafka-<version>/libs.
#      Skipped when that folder is already complete.
#   2. Installs Debian's kcat (used to check that the broker answers) if missing.
#   3. Writes a KRaft broker+controller server.properties into
#      $PERFLEDGER_STATE/kafka-<PORT>/ and formats the storage once.
#   4. Starts `java kafka.Kafka server.properties` in the background (pid file,
#      log file in the same folder) and waits until a metadata request lists
#      the broker.
# Only the bootstrap address goes to stdout; progress goes to stderr, so
#   export PERFLEDGER_KAFKA_BOOTSTRAP=$(deploy/local/kafka.sh start)
# works. Data survives stop/start; delete the state folder to start afresh.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$SCRIPT_DIR/kafka/pom.xml"
LOG4J_CONFIG="$SCRIPT_DIR/kafka/log4j2.properties"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
CACHE_ROOT="${PERFLEDGER_CACHE:-${HOME:-/root}/.cache/perfledger}"
STATE_ROOT="${PERFLEDGER_STATE:-/tmp/perfledger-local}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
JVM_OPTS="${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -Djava.awt.headless=true}"

log() { echo "kafka.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    echo "usage: $0 start|stop|status|restart [PORT]" >&2
    exit 2
}

# ---------------------------------------------------------------- settings --

init_paths() {
    PORT="$1"
    [[ "$PORT" =~ ^[0-9]+$ ]] && (( PORT > 0 && PORT < 65536 )) || die "bad port: $PORT"
    CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1000))}"
    [[ "$CONTROLLER_PORT" =~ ^[0-9]+$ ]] && (( CONTROLLER_PORT < 65536 )) \
        || die "bad controller port: $CONTROLLER_PORT (set KAFKA_CONTROLLER_PORT)"
    BOOTSTRAP="127.0.0.1:$PORT"
    LIBS_DIR="$CACHE_ROOT/kafka-$KAFKA_VERSION/libs"
    STATE_DIR="$STATE_ROOT/kafka-$PORT"
    DATA_DIR="$STATE_DIR/data"
    PROPS="$STATE_DIR/server.properties"
    PID_FILE="$STATE_DIR/kafka.pid"
    LOG_FILE="$STATE_DIR/kafka.log"
}

# Serialise start/stop on the same port (fd 9 is closed for the broker itself).
take_lock() {
    mkdir -p "$STATE_DIR"
    exec 9>"$STATE_DIR/.lock"
    flock -w "$((START_TIMEOUT + STOP_TIMEOUT))" 9 || die "another kafka.sh holds $STATE_DIR/.lock"
}

# ------------------------------------------------------------ dependencies --

# apt_install PKG... — install Debian packages non-interactively (root only).
apt_install() {
    [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null || return 1
    log "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "$@" >&2 \
        || { apt-get update -qq >&2 && apt-get install -y -qq "$@" >&2; }
}

ensure_java_and_maven() {
    command -v java >/dev/null || apt_install openjdk-17-jre-headless || die "java (17+) not found"
    command -v mvn >/dev/null || [[ -f "$LIBS_DIR/.complete" ]] || apt_install maven \
        || die "mvn not found"
}

# kcat gives a real readiness check (a metadata request); optional.
ensure_kcat() {
    command -v kcat >/dev/null && return 0
    apt_install kcat || log "warning: kcat unavailable; readiness falls back to the broker log"
}

# Resolve the broker jars once per version into $LIBS_DIR.
fetch_libs() {
    [[ -f "$LIBS_DIR/.complete" ]] && return 0
    local tmp="$LIBS_DIR.tmp.$$"
    log "fetching Kafka $KAFKA_VERSION jars with Maven into $LIBS_DIR"
    rm -rf "$tmp"
    mkdir -p "$(dirname "$LIBS_DIR")"
    local out
    if ! out="$(cd "$SCRIPT_DIR/kafka" && mvn -B -q -f "$POM" \
            dependency:copy-dependencies -DincludeScope=runtime \
            -DoutputDirectory="$tmp" -Dkafka.version="$KAFKA_VERSION" 2>&1)"; then
        printf '%s\n' "$out" >&2
        rm -rf "$tmp"
        rmdir "$(dirname "$LIBS_DIR")" 2>/dev/null || true
        die "Maven could not fetch Kafka $KAFKA_VERSION"
    fi
    [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka_2.13-$KAFKA_VERSION.jar missing after Maven"
    touch "$tmp/.complete"
    rm -rf "$LIBS_DIR"
    mv "$tmp" "$LIBS_DIR"
}

# ------------------------------------------------------------- broker files --

write_config() {
    mkdir -p "$DATA_DIR"
    cat >"$PROPS" <<EOF
# Written by deploy/local/kafka.sh — regenerated on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
${KAFKA_EXTRA_CONFIG:-}
EOF
}

# kafka_java [-Dprop=value...] MAIN_CLASS ARGS... — run a class from the broker jars.
kafka_java() {
    local props=()
    while [[ "${1:-}" == -D* ]]; do props+=("$1"); shift; done
    java $HEAP_OPTS $JVM_OPTS -Dlog4j2.configurationFile="$LOG4J_CONFIG" "${props[@]}" \
        -cp "$LIBS_DIR/*" "$@"
}

# Format the log dir once, with a fresh random cluster id.
format_storage() {
    [[ -f "$DATA_DIR/meta.properties" ]] && return 0
    local cluster_id
    cluster_id="$(kafka_java -Dperfledger.kafka.log.level=WARN kafka.tools.StorageTool random-uuid | tail -n 1)"
    [[ -n "$cluster_id" ]] || die "could not generate a cluster id"
    log "formatting $DATA_DIR (cluster id $cluster_id)"
    kafka_java -Dperfledger.kafka.log.level=WARN kafka.tools.StorageTool format \
        -t "$cluster_id" -c "$PROPS" >&2 \
        || die "storage format failed"
}

# ----------------------------------------------------------------- process --

read_pid() { [[ -f "$PID_FILE" ]] && cat "$PID_FILE" 2>/dev/null || true; }

# True when the pid file names a live kafka.Kafka using our server.properties.
is_running() {
    local pid
    pid="$(read_pid)"
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $PROPS"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Ready = the broker answers a metadata request and lists itself.
broker_ready() {
    port_open "$PORT" || return 1
    if command -v kcat >/dev/null; then
        kcat -b "$BOOTSTRAP" -L -m 5 2>/dev/null | grep -q "broker 1 at"
    else
        grep -q "Kafka Server started" "$LOG_FILE" 2>/dev/null
    fi
}

wait_ready() {
    local deadline=$((SECONDS + START_TIMEOUT))
    while (( SECONDS < deadline )); do
        kill -0 "$(read_pid)" 2>/dev/null || { log "broker exited during startup"; return 1; }
        broker_ready && return 0
        sleep 0.5
    done
    log "broker not ready after ${START_TIMEOUT}s"
    return 1
}

launch() {
    [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
    log "starting Kafka $KAFKA_VERSION on $BOOTSTRAP (controller 127.0.0.1:$CONTROLLER_PORT), log $LOG_FILE"
    # setsid/nohup: detach from the caller's terminal and job control; all fds
    # redirected so $(kafka.sh start) does not wait for the broker.
    (cd "$STATE_DIR" && exec nohup setsid java $HEAP_OPTS $JVM_OPTS \
        -Dlog4j2.configurationFile="$LOG4J_CONFIG" \
        -cp "$LIBS_DIR/*" kafka.Kafka "$PROPS" \
        </dev/null >"$LOG_FILE" 2>&1 9>&-) &
    echo $! >"$PID_FILE"
}

terminate() {
    local pid
    pid="$(read_pid)"
    if ! is_running; then
        rm -f "$PID_FILE"
        return 0
    fi
    log "stopping broker (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
        log "broker did not stop within ${STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    rm -f "$PID_FILE"
}

fail_start() {
    log "last lines of $LOG_FILE:"
    tail -n 60 "$LOG_FILE" >&2 2>/dev/null || true
    terminate
    exit 1
}

# ---------------------------------------------------------------- commands --

cmd_start() {
    take_lock
    if is_running; then
        wait_ready || fail_start
        log "already running (pid $(read_pid))"
        echo "$BOOTSTRAP"
        return 0
    fi
    rm -f "$PID_FILE"
    port_open "$PORT" && die "port $PORT is already in use by another process"
    port_open "$CONTROLLER_PORT" && die "controller port $CONTROLLER_PORT is already in use"
    ensure_java_and_maven
    fetch_libs
    ensure_kcat
    write_config
    format_storage
    launch
    wait_ready || fail_start
    log "ready on $BOOTSTRAP after ${SECONDS}s"
    echo "$BOOTSTRAP"
}

cmd_stop() {
    take_lock
    if is_running; then terminate; log "stopped"; else rm -f "$PID_FILE"; log "not running"; fi
}

cmd_status() {
    if is_running && port_open "$PORT"; then
        echo "running (pid $(read_pid), $BOOTSTRAP)"
    elif is_running; then
        echo "starting or stopping (pid $(read_pid), $BOOTSTRAP not answering)"
        return 1
    else
        echo "stopped"
        return 1
    fi
}

main() {
    [[ $# -ge 1 && $# -le 2 ]] || usage
    init_paths "${2:-${KAFKA_PORT:-9092}}"
    case "$1" in
        start) cmd_start ;;
        stop) cmd_stop ;;
        status) cmd_status ;;
        restart) cmd_stop; exec 9>&-; cmd_start ;;
        *) usage ;;
    esac
}

main "$@"
