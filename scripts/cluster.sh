#!/usr/bin/env bash
# Several sendbench servers behind HAProxy on PostgreSQL streaming
# replication, all as processes on this machine (issue 20; docs/scale-out.md):
#
#   scripts/cluster.sh [up]        (make cluster) in the foreground: a primary
#                                  and a synchronous hot standby (initdb,
#                                  pg_basebackup; TCP on 127.0.0.1), the schema
#                                  migrated once and the shipped history loaded,
#                                  N servers, HAProxy on 127.0.0.1:8080 checking
#                                  /readyz.  Ctrl-C (or SIGTERM) stops it all.
#   scripts/cluster.sh failover    stops the primary (if it runs) and promotes
#                                  the standby; prints how long promotion took
#   scripts/cluster.sh stop-server I | start-server I | kill-server I
#                                  SIGTERM (drain) / start / SIGKILL server I
#   scripts/cluster.sh status      roles of the nodes, /readyz of each server
#   scripts/cluster.sh haproxy-config [compose]
#                                  prints HAProxy's configuration (with
#                                  "compose": docker-compose.yml's)
#
# Settings (environment): CLUSTER_SERVERS (3), CLUSTER_PORT (HAProxy, 8080),
# CLUSTER_SERVER_PORT (first server, 8081), CLUSTER_PG_PORT (primary, 55432;
# the standby one above), CLUSTER_DIR (var/cluster), CLUSTER_HISTORY (1: load
# data/dfe; 0: schema only), CLUSTER_RATE_LIMIT (HAProxy's per-client and
# per-token limit a minute, 600), CLUSTER_DB_READ (1: servers read anonymous
# table misses on the standby, --db-read; 0: all on the primary), SENDBENCH_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${SENDBENCH_BIN:-$ROOT/bin/sendbench}
N=${CLUSTER_SERVERS:-3}
HTTP_PORT=${CLUSTER_PORT:-8080}
SRV_PORT=${CLUSTER_SERVER_PORT:-8081}
PG_PORT=${CLUSTER_PG_PORT:-55432}
SB_PORT=$((PG_PORT + 1))
HISTORY=${CLUSTER_HISTORY:-1}
RATE=${CLUSTER_RATE_LIMIT:-600}
. scripts/pg.sh
PGBIN=$(pg_bindir)

# As root PostgreSQL runs as user postgres, which may not reach the
# checkout: then the cluster lives under /var/tmp (as scripts/run.sh does).
cluster_dir() {
    local d=${CLUSTER_DIR:-$ROOT/var/cluster} blocked
    mkdir -p "$d"
    chmod 755 "$d"      # the folder itself only: never its parent (/tmp must stay 1777)
    if blocked=$(pg_blocked_parent "$d"); then
        d="/var/tmp/sendbench-cluster-$(printf '%s' "$d" | sha256sum | cut -c1-12)"
        mkdir -p "$d"
        chmod 755 "$d"
    fi
    echo "$d"
}
DIR=$(cluster_dir)
DB_URL="postgresql://postgres@127.0.0.1:$PG_PORT,127.0.0.1:$SB_PORT/sendbench?target_session_attrs=read-write&connect_timeout=2"
PRIMARY_URL="postgresql://postgres@127.0.0.1:$PG_PORT/sendbench"
STANDBY_URL="postgresql://postgres@127.0.0.1:$SB_PORT/sendbench"
# Anonymous table misses read the standby once it has replayed each change
# notice's commit (--db-read, server/db_read.c); CLUSTER_DB_READ=0: none.
DB_READ=
[ "${CLUSTER_DB_READ:-1}" = 1 ] && DB_READ="$STANDBY_URL?connect_timeout=2"

say() { echo "cluster: $*"; }

node_psql() {  # node_psql PORT SQL
    psql -X -qAt -h 127.0.0.1 -p "$1" -U postgres -d "${3:-sendbench}" -c "$2"
}

node_running() { [ -f "$DIR/$1/data/postmaster.pid" ]; }

node_stop() {  # node_stop NAME [MODE]
    node_running "$1" || return 0
    pg_as "$PGBIN/pg_ctl" -D "$DIR/$1/data" -m "${2:-fast}" -w -t 60 stop >/dev/null 2>&1 || true
}

node_start() {
    pg_as "$PGBIN/pg_ctl" -D "$DIR/$1/data" -l "$DIR/$1/log/server.log" -w -t 60 start \
        >/dev/null || { tail -20 "$DIR/$1/log/server.log" >&2; return 1; }
}

server_pidfile() { echo "$DIR/server$1.pid"; }

server_start() {  # server_start I: in the background, detached from this shell's job control
    local i=$1 port=$((SRV_PORT + $1 - 1))
    # The balancer is the trusted proxy; the drain delay is longer than
    # HAProxy's check interval x fall count (1 s x 2).
    SENDBENCH_LOG_LEVEL=${SENDBENCH_LOG_LEVEL:-info} setsid "$BIN" serve --port "$port" \
        --db "$DB_URL" ${DB_READ:+--db-read "$DB_READ"} \
        --trusted-proxy 127.0.0.1 --drain-delay 3 --drain-timeout 20 \
        --rate-limit "${CLUSTER_SERVER_RATE_LIMIT:-0}" \
        >>"$DIR/server$i.log" 2>&1 </dev/null &
    echo $! >"$(server_pidfile "$i")"
    local deadline=$((SECONDS + 30))
    until curl -fsS -o /dev/null "http://127.0.0.1:$port/livez" 2>/dev/null; do
        kill -0 "$(cat "$(server_pidfile "$i")")" 2>/dev/null ||
            { tail -20 "$DIR/server$i.log" >&2; return 1; }
        [ $SECONDS -lt $deadline ] || { say "server $i did not start"; return 1; }
        sleep 0.1
    done
}

server_signal() {  # server_signal I SIGNAL: and wait for it to exit
    local f pid
    f=$(server_pidfile "$1")
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    kill -"$2" "$pid" 2>/dev/null || { rm -f "$f"; return 0; }
    local deadline=$((SECONDS + 40))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    rm -f "$f"
}

# haproxy_config [compose]: the HAProxy configuration of make cluster; with
# "compose", docker-compose.yml's (scripts/cluster-compose-haproxy.cfg, the
# same limits, checks and retries): bound on every interface of its
# container, the servers server1..N:8080 found by Docker's DNS.
haproxy_config() {
    local i mode=${1:-} bind="127.0.0.1:$HTTP_PORT"
    if [ "$mode" = compose ]; then
        bind="*:8080"
        cat <<CFG
# docker-compose.yml's HAProxy in front of its $N sendbench servers: written by
# \`CLUSTER_SERVERS=$N scripts/cluster.sh haproxy-config compose\` (test_compose
# checks it is what that prints), the same limits, checks and retries as
# make cluster.
global
    maxconn 4096

resolvers docker
    nameserver dns 127.0.0.11:53

CFG
    else
        cat <<CFG
# Written by scripts/cluster.sh: HAProxy (Debian haproxy 2.6) in front of
# $N sendbench servers.
global
    maxconn 4096

CFG
    fi
    cat <<CFG
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 10s
    # A connection refused or dropped before an answer (a server killed, or
    # closing a kept-alive connection as it drains) is retried on another
    # server.  Submissions carry Idempotency-Key, so a retried POST is
    # stored once.
    retries 3
    retry-on conn-failure empty-response
    option redispatch 1

frontend web
    bind $bind
    option forwardfor
    # One request id from the balancer to the server's log (--trusted-proxy
    # adopts it).
    unique-id-format %[uuid()]
    unique-id-header X-Request-Id
    # Rate limits across every server: one stick table per client address
    # and one per bearer token (its SHA-1), $RATE requests a minute each.
    stick-table type ipv6 size 100k expire 2m store http_req_rate(1m)
    http-request track-sc0 src
    http-request track-sc1 req.hdr(Authorization),sha1 table token_rates if { req.hdr(Authorization) -m found }
    http-request return status 429 content-type application/json hdr Retry-After 60 string '{"error":{"code":"rate_limited","message":"too many requests from this client or token; slow down and retry after the number of seconds in Retry-After","details":[]}}' if { sc_http_req_rate(0) gt $RATE } || { sc_http_req_rate(1,token_rates) gt $RATE }
    default_backend servers

backend token_rates
    stick-table type binary len 20 size 100k expire 2m store http_req_rate(1m)

backend servers
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 1s fastinter 500ms fall 2 rise 2
CFG
    for i in $(seq 1 "$N"); do
        if [ "$mode" = compose ]; then
            echo "    server s$i server$i:8080 check resolvers docker init-addr last,libc,none"
        else
            echo "    server s$i 127.0.0.1:$((SRV_PORT + i - 1)) check"
        fi
    done
}

stop_all() {
    trap - EXIT INT TERM
    say "stopping"
    if [ -f "$DIR/haproxy.pid" ]; then
        kill "$(cat "$DIR/haproxy.pid")" 2>/dev/null || true
        rm -f "$DIR/haproxy.pid"
    fi
    local f
    for f in "$DIR"/server*.pid; do
        [ -f "$f" ] || continue
        local i=${f##*/server}; i=${i%.pid}
        server_signal "$i" TERM &
    done
    wait
    node_stop standby
    node_stop primary
    say "stopped"
}

cmd_up() {
    command -v haproxy >/dev/null || SENDBENCH_EXTRA_PKGS="haproxy" scripts/deps.sh
    [ -x "$BIN" ] || { say "$BIN missing: run make first"; exit 1; }
    # A cluster left by a killed run is stopped and made anew.
    [ -f "$DIR/haproxy.pid" ] && kill "$(cat "$DIR/haproxy.pid")" 2>/dev/null || true
    for f in "$DIR"/server*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true; done
    node_stop standby immediate
    node_stop primary immediate
    rm -rf "${DIR:?}"/primary "${DIR:?}"/standby "$DIR"/*.log "$DIR"/*.pid
    trap stop_all EXIT
    trap 'exit 0' INT TERM

    local t0=$SECONDS
    say "primary: initdb in $DIR/primary, port $PG_PORT"
    pg_init "$DIR/primary"
    cat >>"$DIR/primary/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
wal_level = replica
max_wal_senders = 5
wal_keep_size = '512MB'
hot_standby = on
# A commit returns once the standby has applied it, so a NOTIFY reaches
# listeners only after the standby shows the change (docs/scale-out.md).
synchronous_commit = remote_apply
CONF
    node_start primary
    node_psql "$PG_PORT" "CREATE DATABASE sendbench" postgres >/dev/null
    say "migrating (the one-shot deploy step; no server migrates)"
    "$BIN" migrate --db "$PRIMARY_URL"
    if [ "$HISTORY" = 1 ]; then
        say "loading the shipped history"
        DATABASE_URL=$PRIMARY_URL SENDBENCH_BIN=$BIN scripts/load_history.sh --if-empty >"$DIR/history.log"
    fi

    say "standby: pg_basebackup into $DIR/standby, port $SB_PORT"
    mkdir -p "$DIR/standby/data" "$DIR/standby/sock" "$DIR/standby/log"
    chmod 700 "$DIR/standby/data"
    chmod 777 "$DIR/standby/sock"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR/standby/data" "$DIR/standby/sock" "$DIR/standby/log"
    pg_as "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$DIR/standby/data" \
        -X stream -c fast
    pg_as touch "$DIR/standby/data/standby.signal"
    pg_as sh -c "cat >>'$DIR/standby/data/postgresql.conf'" <<CONF
port = $SB_PORT
unix_socket_directories = '$DIR/standby/sock'
primary_conninfo = 'host=127.0.0.1 port=$PG_PORT user=postgres application_name=standby1'
hot_standby = on
CONF
    node_start standby
    # Synchronous from now on (set on the primary only: a promoted standby
    # must not wait for a standby it does not have).
    node_psql "$PG_PORT" "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" >/dev/null
    node_psql "$PG_PORT" "SELECT pg_reload_conf()" >/dev/null
    local deadline=$((SECONDS + 30))
    until [ "$(node_psql "$PG_PORT" "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = sync ]; do
        [ $SECONDS -lt $deadline ] || { say "the standby did not become synchronous"; exit 1; }
        sleep 0.2
    done
    say "standby streaming, synchronous (remote_apply)"

    local i
    for i in $(seq 1 "$N"); do
        server_start "$i"
    done
    say "$N servers on 127.0.0.1:$SRV_PORT-$((SRV_PORT + N - 1)), --db $DB_URL${DB_READ:+ --db-read $DB_READ}"
    haproxy_config >"$DIR/haproxy.cfg"
    haproxy -c -q -f "$DIR/haproxy.cfg"
    haproxy -db -f "$DIR/haproxy.cfg" >"$DIR/haproxy.log" 2>&1 </dev/null &
    echo $! >"$DIR/haproxy.pid"
    deadline=$((SECONDS + 30))
    until curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/api/v1/metrics" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { say "HAProxy answers nothing on :$HTTP_PORT"; exit 1; }
        sleep 0.2
    done
    say "ready in $((SECONDS - t0)) s: http://127.0.0.1:$HTTP_PORT/ (HAProxy; Ctrl-C stops everything)"
    # Without --db a command finds make run's database (var/pg), not this one.
    say "commands reach this cluster with --db: bin/sendbench token create --db '$DB_URL' --authority E06000059"
    echo "cluster ready" >"$DIR/ready"
    # In the foreground until Ctrl-C, or until HAProxy goes away.
    while kill -0 "$(cat "$DIR/haproxy.pid")" 2>/dev/null; do sleep 1; done
    say "HAProxy exited"
}

cmd_failover() {
    local t0 t1
    if node_running primary; then
        say "stopping the primary"
        node_stop primary fast
    fi
    t0=$(date +%s.%N)
    pg_as "$PGBIN/pg_ctl" -D "$DIR/standby/data" -w -t 60 promote >/dev/null
    until [ "$(node_psql "$SB_PORT" "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ]; do sleep 0.05; done
    t1=$(date +%s.%N)
    say "standby promoted in $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s: the primary is now 127.0.0.1:$SB_PORT"
}

cmd_status() {
    local i port
    for port in "$PG_PORT" "$SB_PORT"; do
        echo "postgres :$port in_recovery=$(node_psql "$port" "SELECT pg_is_in_recovery()" 2>/dev/null || echo down)"
    done
    for i in $(seq 1 "$N"); do
        port=$((SRV_PORT + i - 1))
        echo "server $i :$port readyz=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)"
    done
}

case "${1:-up}" in
    up) cmd_up ;;
    failover) cmd_failover ;;
    stop-server) server_signal "$2" TERM ;;
    kill-server) server_signal "$2" KILL ;;
    start-server) server_start "$2" ;;
    status) cmd_status ;;
    haproxy-config) haproxy_config "${2:-}" ;;
    *) echo "usage: scripts/cluster.sh [up|failover|stop-server I|kill-server I|start-server I|status]" >&2; exit 2 ;;
esac
