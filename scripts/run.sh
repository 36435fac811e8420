#!/usr/bin/env bash
# `make run`: serve on 127.0.0.1:${PORT:-8080}.  Without DATABASE_URL an
# embedded PostgreSQL cluster lives under var/ (made on first run, reused
# after); the shipped DfE history is loaded the first time.  Ctrl-C or
# SIGTERM stops the server and then the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SENDBENCH_BIN:-bin/sendbench}
. scripts/pg.sh

# The cluster is var/pg.  As root the server runs as user postgres, which
# may not be able to reach the checkout (a `mktemp -d` folder is mode 700):
# then the cluster lives under /var/tmp, in a folder named after the
# checkout, and var/pg is a link to it, so that every command still finds
# it under var/ (cli_db_default in server/main.c).
PGDIR="$PWD/var/pg"
own_cluster=0
if [ -z "${DATABASE_URL:-}" ]; then
    own_cluster=1
    mkdir -p var
    chmod 755 var
    if [ ! -L "$PGDIR" ] && [ ! -f "$PGDIR/data/PG_VERSION" ] &&
        blocked=$(pg_blocked_parent "$PWD/var"); then
        away="/var/tmp/sendbench-$(printf '%s' "$PWD" | sha256sum | cut -c1-12)/pg"
        echo "run: user postgres cannot search $blocked ($(stat -c '%A %U' "$blocked"))," \
             "so the cluster goes to $away and var/pg links to it" \
             "(chmod o+x $blocked to keep it in the checkout)"
        mkdir -p "$away"
        chmod 755 "$(dirname "$away")"
        rm -rf "$PGDIR"
        ln -s "$away" "$PGDIR"
    fi
    [ -L "$PGDIR" ] && PGDIR=$(realpath "$PGDIR")
    if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
        echo "run: creating the embedded PostgreSQL cluster in $PGDIR"
        rm -rf "$PGDIR"
        mkdir -p "$PGDIR"
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
