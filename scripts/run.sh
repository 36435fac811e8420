#!/usr/bin/env bash
# `make run`: serve on 127.0.0.1:${PORT:-8080}.  Without DATABASE_URL an
# embedded PostgreSQL cluster lives under var/ (made on first run, reused
# after); the shipped DfE history is loaded the first time.  Ctrl-C or
# SIGTERM stops the server and then the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SENDBENCH_BIN:-bin/sendbench}
. scripts/pg.sh

PGDIR="$PWD/var/pg"
own_cluster=0
if [ -z "${DATABASE_URL:-}" ]; then
    own_cluster=1
    if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
        echo "run: creating the embedded PostgreSQL cluster in $PGDIR"
        rm -rf "$PGDIR"
        mkdir -p "$PGDIR"
        chmod 755 var
        pg_init "$PGDIR"
    fi
    # A cluster left running by a killed run is stopped first.
    pg_stop "$PGDIR"
    pg_start "$PGDIR"
    if ! psql -X -qAt -h "$PGDIR/sock" -U postgres -d postgres \
        -c "SELECT 1 FROM pg_database WHERE datname = 'sendbench'" | grep -q 1; then
        psql -X -q -h "$PGDIR/sock" -U postgres -d postgres -c "CREATE DATABASE sendbench"
    fi
    export DATABASE_URL
    DATABASE_URL=$(pg_url "$PGDIR" sendbench)
fi

stop_all() {
    [ -n "${server_pid:-}" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    [ $own_cluster = 1 ] && pg_stop "$PGDIR"
    true
}
trap stop_all EXIT
trap 'exit 0' INT TERM

"$BIN" migrate
SENDBENCH_BIN=$BIN scripts/load_history.sh --if-empty

"$BIN" serve --port "${PORT:-8080}" &
server_pid=$!
wait "$server_pid"
