# Sourced by scripts/run.sh, tests/run.sh and bench/run.sh: one place that
# knows how to make, start and stop a private PostgreSQL cluster listening
# only on a Unix socket inside its own directory (no TCP, so no clash with a
# system PostgreSQL).  PostgreSQL refuses to run as root, so as root every
# server-side command runs as the "postgres" user.

pg_bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return 0; }
    echo "pg: initdb not found (apt-get install postgresql)" >&2
    return 1
}

# pg_as CMD...: run a PostgreSQL server program as the right user.
pg_as() {
    if [ "$(id -u)" -eq 0 ]; then
        # From / : postgres may not be able to enter the checkout (a
        # mktemp -d folder is mode 700), and its programs would say
        # 'could not change directory to ...: Permission denied'.
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# pg_blocked_parent DIR: as root, prints the nearest directory on DIR's
# path that user postgres cannot search (and returns 0); returns 1 when
# postgres can reach DIR, or when we are not root (then we run the server).
pg_blocked_parent() {
    local d
    [ "$(id -u)" -eq 0 ] || return 1
    d=$(realpath -m "$1")
    local path="" part
    local IFS=/
    for part in $d; do
        [ -n "$part" ] || continue
        path="$path/$part"
        [ -d "$path" ] || break
        if ! runuser -u postgres -- test -x "$path"; then
            echo "$path"
            return 0
        fi
    done
    return 1
}

# pg_init DIR: DIR/data is the cluster, DIR/sock the socket directory.
pg_init() {
    local dir=$1 bin
    bin=$(pg_bindir) || return 1
    mkdir -p "$dir/data" "$dir/sock" "$dir/log"
    chmod 755 "$dir"
    chmod 700 "$dir/data"
    chmod 777 "$dir/sock"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir/data" "$dir/sock" "$dir/log"
        if ! runuser -u postgres -- test -w "$dir/data"; then
            local blocked
            blocked=$(pg_blocked_parent "$dir") || blocked="a parent directory of $dir"
            echo "pg: user postgres cannot reach $dir: $blocked is not searchable by postgres" \
                 "($(stat -c '%A %U' "$blocked" 2>/dev/null || echo 'mode unknown')); fix:" \
                 "chmod o+x $blocked, or put the cluster elsewhere" >&2
            return 1
        fi
    fi
    pg_as "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 --lc-collate=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir/sock'
max_connections = 200
shared_buffers = 128MB
fsync = ${PG_FSYNC:-on}
log_min_messages = warning
CONF
}

pg_start() {
    local dir=$1 bin
    bin=$(pg_bindir) || return 1
    pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/log/server.log" -w -t 60 start >/dev/null \
        || { tail -20 "$dir/log/server.log" >&2; return 1; }
}

pg_stop() {
    local dir=$1 bin
    bin=$(pg_bindir) || return 1
    [ -f "$dir/data/postmaster.pid" ] || return 0
    pg_as "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# The libpq URL of database NAME in the cluster at DIR.
pg_url() {
    echo "postgresql:///$2?host=$1/sock&user=postgres"
}
