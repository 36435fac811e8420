#!/usr/bin/env bash
# make load: a 60-second mixed load (tables 40%, profiles 25%, forecasts 25%,
# submissions 10%) at 500 concurrent connections on loopback, with wrk.
# Makes its own PostgreSQL cluster, loads the shipped history, starts the
# server with --rate-limit 0, samples the server's resident memory every
# second from /proc/PID/status, and writes tests/load/results.md.
# Fails when any request errs (socket error or a non-2xx answer) or when
# the peak RSS passes RSS_BOUND_MB.
set -euo pipefail
cd "$(dirname "$0")/../.."
BINDIR=${BINDIR:-bin}
DURATION=${LOAD_SECONDS:-60}
CONNS=${LOAD_CONNECTIONS:-500}
THREADS=${LOAD_THREADS:-2}
RSS_BOUND_MB=${RSS_BOUND_MB:-256}
command -v wrk >/dev/null || { echo "load: wrk not found (apt-get install wrk)" >&2; exit 1; }
# 500 client sockets + 500 server sockets + the pool: raise the soft limit.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "fd limit: $(ulimit -n)"

. scripts/pg.sh
W=$(mktemp -d /tmp/sendbench-load.XXXXXX)
chmod 755 "$W"
SRV_PID=
cleanup() {
    [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
    pg_stop "$W/pg"; rm -rf "$W"
}
trap cleanup EXIT
PG_FSYNC=off pg_init "$W/pg" && pg_start "$W/pg"
as_pg() { psql -X -q -h "$W/pg/sock" -U postgres "$@"; }
as_pg -d postgres -c "CREATE DATABASE load" >/dev/null
export DATABASE_URL; DATABASE_URL=$(pg_url "$W/pg" load)
"$BINDIR/sendbench" migrate >/dev/null
t0=$(date +%s)
SENDBENCH_BIN="$BINDIR/sendbench" scripts/load_history.sh >/dev/null
echo "history loaded in $(( $(date +%s) - t0 ))s"
"$BINDIR/sendbench" token create --admin --label load 2>/dev/null > "$W/token"

SENDBENCH_LOG_LEVEL=warn "$BINDIR/sendbench" serve --port 0 --db "$DATABASE_URL" \
    --rate-limit 0 --pool-queue 20000 > "$W/stdout" 2> "$W/server.log" &
SRV_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$W/stdout" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$W/stdout" | head -1)
[ -n "$PORT" ] || { echo "load: server did not start"; cat "$W/server.log"; exit 1; }
BASE="http://127.0.0.1:$PORT"

# Authorities for which every request of the mix answers 200 (current
# upper-tier authorities with neighbours and a caseload history).
as_pg -d load -At -c "SELECT DISTINCT authority FROM statistical_neighbours ORDER BY 1" > "$W/candidates"
: > "$W/codes"
while read -r a; do
    ok=1
    for path in "/api/v1/authorities/$a/profile" "/api/v1/forecasts/ehcp_caseload?authority=$a" \
                "/api/v1/tables/pct_within_20_weeks?period=2021&group=neighbours&authority=$a"; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE$path")" = 200 ] || { ok=0; break; }
    done
    [ $ok = 1 ] && echo "$a" >> "$W/codes"
done < "$W/candidates"
echo "authorities in the mix: $(wc -l < "$W/codes") of $(wc -l < "$W/candidates")"
[ -s "$W/codes" ] || { echo "load: no authority answers every request"; exit 1; }

rss() { awk '/VmRSS/ {print $2}' "/proc/$SRV_PID/status"; }
RSS_START=$(rss)
( while kill -0 "$SRV_PID" 2>/dev/null; do echo "$(date +%s) $(rss)"; sleep 1; done ) > "$W/rss" &
SAMPLER=$!
subs_before=$(as_pg -d load -At -c "SELECT count(*) FROM submissions")
LOAD_DIR=$W wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 30s --latency \
    -s tests/load/mix.lua "$BASE" | tee "$W/wrk.txt"
RSS_END=$(rss)
kill "$SAMPLER" 2>/dev/null || true
subs_after=$(as_pg -d load -At -c "SELECT count(*) FROM submissions")
health=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")

reqs=$(awk '/requests in/ {print $1}' "$W/wrk.txt")
rps=$(awk '/Requests\/sec/ {print $2}' "$W/wrk.txt")
non2xx=$(awk '/Non-2xx or 3xx/ {print $5}' "$W/wrk.txt"); non2xx=${non2xx:-0}
sockerr=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$W/wrk.txt"); sockerr=${sockerr:-0}
p50=$(awk '/LATENCY_P50_US/ {printf "%.1f", $2 / 1000}' "$W/wrk.txt")
p99=$(awk '/LATENCY_P99_US/ {printf "%.1f", $2 / 1000}' "$W/wrk.txt")
pmax=$(awk '/LATENCY_MAX_US/ {printf "%.1f", $2 / 1000}' "$W/wrk.txt")
# Every answer that was not 2xx, by method, route and status (the server
# logs each one at warn level).
awk '$3 ~ /^req=/ && $6 ~ /^[0-9][0-9][0-9]$/ && $6 !~ /^2/ {
        split($5, p, "?"); sub(/\/(E[0-9]+|[0-9]+)(\/|$).*/, "/{id}", p[1]);
        n[$4 " " p[1] " " $6]++ } END { for (k in n) print n[k], k }' "$W/server.log" \
    | sort -rn > "$W/errors" || true
peak=$(awk '{ if ($2 > m) m = $2 } END { print m }' "$W/rss")
samples=$(wc -l < "$W/rss")
peak_mb=$(( peak / 1024 ))
verdict=pass
[ "$non2xx" = 0 ] && [ "$sockerr" = 0 ] && [ "$health" = 200 ] && [ "$peak_mb" -lt "$RSS_BOUND_MB" ] \
    || verdict=FAIL

cat > tests/load/results.md <<MD
# Load test results

\`make load\` (tests/load/run.sh, wrk script tests/load/mix.lua), $(date -u +%Y-%m-%d), on
$(nproc) shared cores ($(uname -m)), loopback, server built with \`OPT=-O2\`.

| | |
|---|---|
| duration | ${DURATION} s |
| connections / wrk threads | ${CONNS} / ${THREADS} |
| mix | submissions ${LOAD_WRITE_PCT:-10}%, the rest tables:profiles:forecasts 40:25:25 (tables england, region, neighbours) |
| authorities in the mix | $(wc -l < "$W/codes") |
| requests | ${reqs} (${rps}/s) |
| submissions stored | $((subs_after - subs_before)) |
| non-2xx answers | ${non2xx} |
| socket errors (connect, read, write, timeout) | ${sockerr} |
| latency p50 | ${p50} ms |
| latency p99 | ${p99} ms |
| latency max | ${pmax} ms |
| server RSS at start / peak / end (${samples} samples, 1 s apart) | $((RSS_START / 1024)) / ${peak_mb} / $((RSS_END / 1024)) MB |
| RSS bound | ${RSS_BOUND_MB} MB |
| /healthz after the load | ${health} |
| verdict | ${verdict} |

Non-2xx answers by route (from the server log): $( [ -s "$W/errors" ] && echo || echo none)

\`\`\`
$(head -20 "$W/errors")
\`\`\`

wrk's own output:

\`\`\`
$(grep -v '^LATENCY_' "$W/wrk.txt")
\`\`\`
MD
echo "results in tests/load/results.md: $verdict"
[ "$verdict" = pass ]
